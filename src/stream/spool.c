/*
 * spool.c - the embedded durable log: topics, partitions, segments, append with
 * group commit, torn-tail repair and retention. Consumers and random access are
 * in spool_read.c; the format is described in spool_internal.h.
 *
 * Concurrency: each partition has a mutex (threads of this process) and a .lock
 * file that an appender flock()s for the duration of its write (processes).
 * Under both, the appender first catches up with what other processes wrote
 * (and truncates a crashed writer's torn tail), then writes its frames with one
 * pwritev per segment, then releases the flock. Durability is waited for
 * outside the mutex: the first waiter runs fdatasync for everything written so
 * far while later writers keep writing; they share the next fsync (group
 * commit). Readers never take either lock.
 */
#include "stream/spool_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define LARGE_VALUE 16384 /* values at least this big are written from the caller's memory */
#define IOV_BATCH 1024

/* ------------------------------------------------------------ frames */

int firn_spool_frame_parse(const uint8_t *p, size_t avail, spool_frame *f) {
    f->len = 0;
    if (avail < SPOOL_FRAME_HDR) return 0;
    uint32_t body = firn_load_le32(p);
    if (body < SPOOL_BODY_FIXED || body > SPOOL_FRAME_MAX) return -1;
    f->len = SPOOL_FRAME_HDR + (size_t)body;
    if (avail < f->len) return 0;
    const uint8_t *b = p + SPOOL_FRAME_HDR, *end = b + body;
    if (firn_crc32c(0, b, body) != firn_load_le32(p + 4)) return -1;
    f->offset = (int64_t)firn_load_le64(b);
    f->timestamp_ms = (int64_t)firn_load_le64(b + 8);
    const uint8_t *q = b + 16;
    uint32_t kl = firn_load_le32(q);
    q += 4;
    if (kl == SPOOL_NULL_LEN) {
        f->key = NULL;
        f->key_len = 0;
    } else {
        if ((size_t)(end - q) < (size_t)kl + 8) return -1;
        f->key = q;
        f->key_len = kl;
        q += kl;
    }
    f->n_headers = firn_load_le32(q);
    q += 4;
    f->headers = q;
    for (uint32_t i = 0; i < f->n_headers; i++) {
        if (end - q < 4) return -1;
        uint32_t nl = firn_load_le32(q);
        if ((size_t)(end - q) < 4 + (size_t)nl + 1 + 4 || q[4 + nl] != 0) return -1;
        q += 4 + nl + 1;
        uint32_t vl = firn_load_le32(q);
        q += 4;
        if (vl != SPOOL_NULL_LEN) {
            if ((size_t)(end - q) < vl) return -1;
            q += vl;
        }
    }
    f->headers_len = (size_t)(q - f->headers);
    if (end - q < 4) return -1;
    f->value_len = firn_load_le32(q);
    q += 4;
    if ((size_t)(end - q) != f->value_len) return -1;
    f->value = q;
    return 1;
}

void firn_spool_frame_headers(const spool_frame *f, firn_header *out) {
    const uint8_t *q = f->headers;
    for (uint32_t i = 0; i < f->n_headers; i++) {
        uint32_t nl = firn_load_le32(q);
        out[i].key = (const char *)q + 4;
        q += 4 + nl + 1;
        uint32_t vl = firn_load_le32(q);
        q += 4;
        if (vl == SPOOL_NULL_LEN) {
            out[i].value = NULL;
            out[i].value_len = 0;
        } else {
            out[i].value = q;
            out[i].value_len = vl;
            q += vl;
        }
    }
}

/* Bytes of the body before the value. */
static size_t body_prefix_len(const firn_msg *m) {
    size_t n = SPOOL_BODY_FIXED + (m->key ? m->key_len : 0);
    for (size_t h = 0; h < m->n_headers; h++)
        n += 4 + strlen(m->headers[h].key) + 1 + 4 + m->headers[h].value_len;
    return n;
}

static void encode_prefix(uint8_t *q, const firn_msg *m, int64_t offset, int64_t ts) {
    firn_store_le64(q, (uint64_t)offset);
    firn_store_le64(q + 8, (uint64_t)ts);
    q += 16;
    if (m->key) {
        firn_store_le32(q, (uint32_t)m->key_len);
        if (m->key_len) memcpy(q + 4, m->key, m->key_len);
        q += 4 + m->key_len;
    } else {
        firn_store_le32(q, SPOOL_NULL_LEN);
        q += 4;
    }
    firn_store_le32(q, (uint32_t)m->n_headers);
    q += 4;
    for (size_t h = 0; h < m->n_headers; h++) {
        const firn_header *hd = &m->headers[h];
        size_t nl = strlen(hd->key);
        firn_store_le32(q, (uint32_t)nl);
        memcpy(q + 4, hd->key, nl + 1);
        q += 4 + nl + 1;
        if (!hd->value) {
            firn_store_le32(q, SPOOL_NULL_LEN);
            q += 4;
        } else {
            firn_store_le32(q, (uint32_t)hd->value_len);
            if (hd->value_len) memcpy(q + 4, hd->value, hd->value_len);
            q += 4 + hd->value_len;
        }
    }
    firn_store_le32(q, (uint32_t)m->value_len);
}

/* ------------------------------------------------------------ helpers */

static int io_fail(firn_error *err, const char *what, const char *path) {
    int rc = FIRN_RAISE(err, FIRN_ERR_IO, "spool: cannot %s: %s", what, strerror(errno));
    firn_error_context(err, "%s", path);
    return rc;
}

static int mkdir_p(const char *path) {
    char tmp[4096];
    size_t n = strlen(path);
    if (n >= sizeof tmp) {
        errno = ENAMETOOLONG;
        return -1;
    }
    memcpy(tmp, path, n + 1);
    for (char *q = tmp + 1; *q; q++) {
        if (*q != '/') continue;
        *q = 0;
        if (mkdir(tmp, 0755) != 0 && errno != EEXIST) return -1;
        *q = '/';
    }
    if (mkdir(tmp, 0755) != 0 && errno != EEXIST) return -1;
    return 0;
}

static int fsync_dir(const char *path) {
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

static bool valid_topic_name(const char *t) {
    size_t n = strlen(t);
    if (n == 0 || n > 249 || t[0] == '.') return false;
    for (size_t i = 0; i < n; i++) {
        char c = t[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return false;
    }
    return true;
}

static int64_t now_ms(void) { return firn_now_us() / 1000; }

void firn_spool_seg_path(const spool_part *p, int64_t base, const char *ext, char *buf,
                         size_t n) {
    snprintf(buf, n, "%s/%020" PRId64 ".%s", p->dir, base, ext);
}

static int seg_rfd(spool_part *p, spool_seg *seg, firn_error *err) {
    if (seg->rfd >= 0) return 0;
    char path[4200];
    firn_spool_seg_path(p, seg->base, "log", path, sizeof path);
    seg->rfd = open(path, O_RDONLY | O_CLOEXEC);
    if (seg->rfd < 0) return io_fail(err, "open segment", path);
    return 0;
}

static spool_seg *seg_new(int64_t base) {
    spool_seg *seg = firn_xcalloc(1, sizeof *seg);
    seg->base = seg->next = base;
    seg->max_ts = INT64_MIN;
    seg->rfd = -1;
    return seg;
}

static void seg_free(spool_seg *seg) {
    if (!seg) return;
    if (seg->rfd >= 0) close(seg->rfd);
    free(seg->idx);
    free(seg);
}

void firn_spool_seg_unref(spool_seg *seg) {
    if (--seg->readers == 0 && seg->dead) seg_free(seg);
}

/* Drop segs[0] (retention, or deleted by another process). */
static void part_drop_first(spool_part *p) {
    spool_seg *seg = p->segs[0];
    memmove(p->segs, p->segs + 1, (p->nsegs - 1) * sizeof *p->segs);
    p->nsegs--;
    seg->dead = true;
    if (seg->readers == 0) seg_free(seg);
}

static void part_push_seg(spool_part *p, spool_seg *seg) {
    if (p->nsegs == p->capsegs) {
        p->capsegs = p->capsegs ? 2 * p->capsegs : 8;
        p->segs = firn_xrealloc(p->segs, p->capsegs * sizeof *p->segs);
    }
    p->segs[p->nsegs++] = seg;
}

static void seg_add_index(spool_seg *seg, int64_t offset, uint64_t pos) {
    if (seg->nidx && pos - seg->last_idx_pos < SPOOL_INDEX_INTERVAL) return;
    if (seg->nidx == seg->capidx) {
        seg->capidx = seg->capidx ? 2 * seg->capidx : 64;
        seg->idx = firn_xrealloc(seg->idx, seg->capidx * sizeof *seg->idx);
    }
    seg->idx[seg->nidx].rel = (uint32_t)(offset - seg->base);
    seg->idx[seg->nidx].pos = (uint32_t)pos;
    seg->nidx++;
    seg->last_idx_pos = pos;
}

uint64_t firn_spool_seg_lookup(const spool_seg *seg, int64_t offset) {
    size_t lo = 0, hi = seg->nidx; /* last entry with rel <= offset - base */
    uint64_t rel = (uint64_t)(offset - seg->base);
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (seg->idx[mid].rel <= rel) lo = mid + 1;
        else hi = mid;
    }
    return lo ? seg->idx[lo - 1].pos : 0;
}

ssize_t firn_spool_find_seg(const spool_part *p, int64_t offset) {
    if (!p->nsegs || offset < p->segs[0]->base) return -1;
    size_t lo = 0, hi = p->nsegs;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (p->segs[mid]->base <= offset) lo = mid + 1;
        else hi = mid;
    }
    const spool_seg *seg = p->segs[lo - 1];
    if (offset < seg->next || (lo == p->nsegs && offset == seg->next)) return (ssize_t)lo - 1;
    return -1;
}

/* Scan seg's frames from seg->size up to byte end, extending it (next, size,
 * index, max_ts). Stops at the first incomplete or invalid frame. */
static int seg_scan(spool_part *p, spool_seg *seg, uint64_t end, firn_error *err) {
    if (seg_rfd(p, seg, err) != 0) return -1;
    if (!p->scan_buf) {
        p->scan_cap = 1u << 20;
        p->scan_buf = firn_xmalloc(p->scan_cap);
    }
    while (seg->size < end) {
        size_t want = (size_t)(end - seg->size < p->scan_cap ? end - seg->size : p->scan_cap);
        ssize_t r = pread(seg->rfd, p->scan_buf, want, (off_t)seg->size);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) return io_fail(err, "read segment", p->dir);
        if (r == 0) break;
        size_t at = 0, got = (size_t)r;
        spool_frame f;
        int pr = 0;
        while ((pr = firn_spool_frame_parse(p->scan_buf + at, got - at, &f)) == 1) {
            if (f.offset != seg->next) {
                pr = -1;
                break;
            }
            seg_add_index(seg, f.offset, seg->size);
            seg->next++;
            seg->size += f.len;
            if (f.timestamp_ms > seg->max_ts) seg->max_ts = f.timestamp_ms;
            at += f.len;
        }
        if (pr < 0) break;
        if (at == 0) { /* the first frame does not fit: grow, if the file holds it */
            if (f.len == 0 || seg->size + f.len > end) break;
            if (f.len > p->scan_cap) {
                p->scan_cap = f.len;
                free(p->scan_buf);
                p->scan_buf = firn_xmalloc(p->scan_cap);
                continue;
            }
            break;
        }
    }
    return 0;
}

/* Read a sealed segment's index file; false when missing or not matching. */
static bool seg_load_index(spool_part *p, spool_seg *seg, uint64_t file_size) {
    char path[4200];
    firn_spool_seg_path(p, seg->base, "idx", path, sizeof path);
    uint8_t *data;
    size_t len;
    firn_error e;
    firn_error_init(&e);
    if (firn_read_file(path, &data, &len, &e) != 0) {
        firn_error_release(&e);
        return false;
    }
    bool ok = len >= 48 && memcmp(data, "FIDX", 4) == 0 && firn_load_le32(data + 4) == 1 &&
              (int64_t)firn_load_le64(data + 8) == seg->base &&
              firn_load_le64(data + 24) == file_size;
    uint32_t n = ok ? firn_load_le32(data + 40) : 0;
    ok = ok && len == 48 + 8 * (size_t)n &&
         firn_crc32c(firn_crc32c(0, data, 44), data + 48, 8 * (size_t)n) ==
             firn_load_le32(data + 44);
    if (ok) {
        seg->next = (int64_t)firn_load_le64(data + 16);
        seg->size = file_size;
        seg->max_ts = (int64_t)firn_load_le64(data + 32);
        seg->nidx = seg->capidx = n;
        seg->idx = firn_xmalloc((n ? n : 1) * sizeof *seg->idx);
        for (uint32_t i = 0; i < n; i++) {
            seg->idx[i].rel = firn_load_le32(data + 48 + 8 * i);
            seg->idx[i].pos = firn_load_le32(data + 52 + 8 * i);
        }
        seg->last_idx_pos = n ? seg->idx[n - 1].pos : 0;
    }
    free(data);
    return ok;
}

static int seg_write_index(spool_part *p, const spool_seg *seg, bool sync, firn_error *err) {
    firn_buf b;
    firn_buf_init(&b);
    firn_buf_append(&b, "FIDX", 4);
    firn_buf_put_le32(&b, 1);
    firn_buf_put_le64(&b, (uint64_t)seg->base);
    firn_buf_put_le64(&b, (uint64_t)seg->next);
    firn_buf_put_le64(&b, seg->size);
    firn_buf_put_le64(&b, (uint64_t)seg->max_ts);
    firn_buf_put_le32(&b, (uint32_t)seg->nidx);
    firn_buf_put_le32(&b, 0);
    for (size_t i = 0; i < seg->nidx; i++) {
        firn_buf_put_le32(&b, seg->idx[i].rel);
        firn_buf_put_le32(&b, seg->idx[i].pos);
    }
    firn_store_le32(b.data + 44, firn_crc32c(firn_crc32c(0, b.data, 44), b.data + 48, b.len - 48));
    char path[4200];
    firn_spool_seg_path(p, seg->base, "idx", path, sizeof path);
    int rc = 0;
    if (sync) {
        rc = firn_write_file(path, b.data, b.len, err);
    } else {
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0 || write(fd, b.data, b.len) != (ssize_t)b.len) rc = io_fail(err, "write", path);
        if (fd >= 0) close(fd);
    }
    firn_buf_release(&b);
    return rc;
}

static int cmp_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* (Re)build the segment list from the directory. Caller holds p->mu. */
static int part_list(spool_part *p, firn_error *err) {
    DIR *d = opendir(p->dir);
    if (!d) return io_fail(err, "list partition", p->dir);
    int64_t *bases = NULL;
    size_t n = 0, cap = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        size_t l = strlen(de->d_name);
        if (l != 24 || strcmp(de->d_name + 20, ".log") != 0) continue;
        char *end;
        long long v = strtoll(de->d_name, &end, 10);
        if (end != de->d_name + 20 || v < 0) continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 16;
            bases = firn_xrealloc(bases, cap * sizeof *bases);
        }
        bases[n++] = v;
    }
    closedir(d);
    if (n) qsort(bases, n, sizeof *bases, cmp_i64);
    while (p->nsegs) part_drop_first(p);
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        spool_seg *seg = seg_new(bases[i]);
        part_push_seg(p, seg);
        if (i + 1 == n) break; /* the active one: scanned by refresh */
        if (seg_rfd(p, seg, err) != 0) {
            rc = -1;
            break;
        }
        struct stat st;
        if (fstat(seg->rfd, &st) != 0) {
            rc = io_fail(err, "stat", p->dir);
            break;
        }
        if (seg_load_index(p, seg, (uint64_t)st.st_size)) continue;
        if (seg_scan(p, seg, (uint64_t)st.st_size, err) != 0) {
            rc = -1;
            break;
        }
        if (seg->size != (uint64_t)st.st_size || seg->next != bases[i + 1]) {
            rc = FIRN_RAISE(err, FIRN_ERR_CORRUPT,
                            "spool: sealed segment %020lld is corrupt at byte %llu (offset "
                            "%lld; the next segment starts at %lld)",
                            (long long)seg->base, (unsigned long long)seg->size,
                            (long long)seg->next, (long long)bases[i + 1]);
            firn_error_context(err, "%s", p->dir);
        }
    }
    free(bases);
    return rc;
}

int firn_spool_part_refresh(spool_part *p, bool repair, firn_error *err) {
    char path[4200];
    struct stat st;
    /* segments removed by another process's retention */
    while (p->nsegs > 1) {
        firn_spool_seg_path(p, p->segs[0]->base, "log", path, sizeof path);
        if (stat(path, &st) == 0 || errno != ENOENT) break;
        part_drop_first(p);
    }
    if (p->nsegs == 1) {
        firn_spool_seg_path(p, p->segs[0]->base, "log", path, sizeof path);
        if (stat(path, &st) != 0 && errno == ENOENT) part_drop_first(p);
    }
    if (p->nsegs == 0 && part_list(p, err) != 0) return -1;
    while (p->nsegs) {
        spool_seg *seg = p->segs[p->nsegs - 1];
        if (seg_rfd(p, seg, err) != 0) return -1;
        if (fstat(seg->rfd, &st) != 0) return io_fail(err, "stat segment", p->dir);
        uint64_t fsize = (uint64_t)st.st_size;
        if (fsize < seg->size)
            return FIRN_RAISE(err, FIRN_ERR_CORRUPT,
                              "spool: segment %020lld shrank from %llu to %llu bytes", (long long)seg->base,
                              (unsigned long long)seg->size, (unsigned long long)fsize);
        if (fsize > seg->size && seg_scan(p, seg, fsize, err) != 0) return -1;
        if (repair && fsize > seg->size) {
            /* a crashed writer's torn or corrupt tail: no write is in flight */
            firn_spool_seg_path(p, seg->base, "log", path, sizeof path);
            int fd = open(path, O_WRONLY | O_CLOEXEC);
            if (fd < 0 || ftruncate(fd, (off_t)seg->size) != 0 || fdatasync(fd) != 0) {
                int rc = io_fail(err, "truncate the torn tail of", path);
                if (fd >= 0) close(fd);
                return rc;
            }
            close(fd);
            fprintf(stderr, "firn: spool: %s: truncated a torn tail of %llu bytes after offset %lld\n",
                    path, (unsigned long long)(fsize - seg->size), (long long)seg->next);
        }
        if (seg->next == seg->base) break; /* empty: nothing can follow */
        firn_spool_seg_path(p, seg->next, "log", path, sizeof path);
        if (stat(path, &st) != 0) break;
        part_push_seg(p, seg_new(seg->next)); /* rolled by another process */
    }
    return 0;
}

/* ------------------------------------------------------------ topics */

static void part_free(spool_part *p) {
    if (!p) return;
    for (size_t i = 0; i < p->nsegs; i++) seg_free(p->segs[i]);
    free(p->segs);
    if (p->lock_fd >= 0) close(p->lock_fd);
    if (p->wfd >= 0) close(p->wfd);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cv);
    firn_buf_release(&p->enc);
    free(p->scan_buf);
    free(p->dir);
    free(p);
}

static void topic_free(spool_topic *t) {
    if (!t) return;
    for (int32_t i = 0; i < t->nparts; i++) part_free(t->parts[i]);
    free(t->parts);
    free(t->name);
    free(t);
}

/* Read <topic>/topic.meta: partition count, or 0 when the topic does not exist. */
static int read_meta(spool *s, const char *topic, int32_t *out, firn_error *err) {
    char path[4200];
    snprintf(path, sizeof path, "%s/%s/topic.meta", s->dir, topic);
    *out = 0;
    uint8_t *data;
    size_t len;
    firn_error e;
    firn_error_init(&e);
    if (firn_read_file(path, &data, &len, &e) != 0) {
        bool missing = e.kind == FIRN_ERR_NOT_FOUND;
        int rc = 0;
        if (!missing) {
            rc = FIRN_RAISE(err, FIRN_ERR_IO, "spool: %s", e.message);
            firn_error_context(err, "%s", path);
        }
        firn_error_release(&e);
        return rc;
    }
    int n = 0;
    if (sscanf((const char *)data, "partitions %d", &n) != 1 || n <= 0) {
        free(data);
        int rc = FIRN_RAISE(err, FIRN_ERR_CORRUPT, "spool: bad topic metadata");
        firn_error_context(err, "%s", path);
        return rc;
    }
    free(data);
    *out = n;
    return 0;
}

/* The topic (loaded once). Caller holds s->mu. */
static int topic_get(spool *s, const char *name, spool_topic **out, firn_error *err) {
    for (size_t i = 0; i < s->ntopics; i++)
        if (strcmp(s->topics[i]->name, name) == 0) {
            *out = s->topics[i];
            return 0;
        }
    if (!valid_topic_name(name))
        return FIRN_RAISE(err, FIRN_ERR_INVALID,
                          "spool: invalid topic name '%s' (letters, digits, '.', '_', '-'; "
                          "not starting with '.')",
                          name);
    int32_t n;
    if (read_meta(s, name, &n, err) != 0) return -1;
    if (n == 0) return FIRN_RAISE(err, FIRN_ERR_NOT_FOUND, "spool: no topic '%s'", name);
    spool_topic *t = firn_xcalloc(1, sizeof *t);
    t->name = firn_xstrdup(name);
    t->nparts = n;
    t->parts = firn_xcalloc((size_t)n, sizeof *t->parts);
    if (s->ntopics == s->captopics) {
        s->captopics = s->captopics ? 2 * s->captopics : 8;
        s->topics = firn_xrealloc(s->topics, s->captopics * sizeof *s->topics);
    }
    s->topics[s->ntopics++] = t;
    *out = t;
    return 0;
}

int firn_spool_part(spool *s, const char *topic, int32_t partition, spool_part **out,
                    firn_error *err) {
    pthread_mutex_lock(&s->mu);
    spool_topic *t;
    int rc = topic_get(s, topic, &t, err);
    if (rc == 0 && (partition < 0 || partition >= t->nparts))
        rc = FIRN_RAISE(err, FIRN_ERR_NOT_FOUND, "spool: topic %s has no partition %d (it has %d)",
                        topic, partition, t->nparts);
    if (rc == 0 && !t->parts[partition]) {
        spool_part *p = firn_xcalloc(1, sizeof *p);
        p->s = s;
        p->topic = t->name;
        p->id = partition;
        size_t dl = strlen(s->dir) + strlen(topic) + 16;
        p->dir = firn_xmalloc(dl);
        snprintf(p->dir, dl, "%s/%s/%d", s->dir, topic, partition);
        pthread_mutex_init(&p->mu, NULL);
        pthread_cond_init(&p->cv, NULL);
        p->lock_fd = p->wfd = -1;
        p->wfd_base = p->vis_base = -1;
        firn_buf_init(&p->enc);
        if (mkdir_p(p->dir) != 0) rc = io_fail(err, "create partition directory", p->dir);
        if (rc == 0) rc = part_list(p, err);
        if (rc == 0) rc = firn_spool_part_refresh(p, false, err);
        if (rc == 0 && p->nsegs) {
            /* a bad tail seen on open: repair it under the lock (a live writer
             * finishes its write first, and then the tail is valid) */
            spool_seg *last = p->segs[p->nsegs - 1];
            struct stat st;
            if (fstat(last->rfd, &st) == 0 && (uint64_t)st.st_size > last->size) {
                char lp[4200];
                snprintf(lp, sizeof lp, "%s/.lock", p->dir);
                p->lock_fd = open(lp, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
                if (p->lock_fd < 0) rc = io_fail(err, "open", lp);
                while (rc == 0 && flock(p->lock_fd, LOCK_EX) != 0)
                    if (errno != EINTR) rc = io_fail(err, "lock", lp);
                if (rc == 0) {
                    rc = firn_spool_part_refresh(p, true, err);
                    flock(p->lock_fd, LOCK_UN);
                }
            }
        }
        if (rc == 0) t->parts[partition] = p;
        else part_free(p);
    }
    if (rc == 0) *out = t->parts[partition];
    pthread_mutex_unlock(&s->mu);
    return rc;
}

static int spool_create_topic(firn_stream *st, const char *topic, int32_t partitions,
                              firn_error *err) {
    spool *s = (spool *)st;
    if (!valid_topic_name(topic))
        return FIRN_RAISE(err, FIRN_ERR_INVALID,
                          "spool: invalid topic name '%s' (letters, digits, '.', '_', '-'; at "
                          "most 249, not starting with '.')",
                          topic);
    int32_t have;
    if (read_meta(s, topic, &have, err) != 0) return -1;
    if (have == 0) {
        char dir[4200], path[4300], tmp[4300];
        snprintf(dir, sizeof dir, "%s/%s", s->dir, topic);
        for (int32_t i = 0; i < partitions; i++) {
            snprintf(path, sizeof path, "%s/%d", dir, i);
            if (mkdir_p(path) != 0) return io_fail(err, "create", path);
        }
        snprintf(path, sizeof path, "%s/topic.meta", dir);
        snprintf(tmp, sizeof tmp, "%s/.topic.meta.%ld", dir, (long)getpid());
        char text[64];
        int tl = snprintf(text, sizeof text, "partitions %d\n", partitions);
        if (firn_write_file(tmp, text, (size_t)tl, err) != 0) return -1;
        int lr = link(tmp, path); /* atomic: fails if another creator won */
        int saved = errno;
        unlink(tmp);
        if (lr != 0 && saved != EEXIST) {
            errno = saved;
            return io_fail(err, "publish", path);
        }
        fsync_dir(dir);
        fsync_dir(s->dir);
        if (lr == 0) return 0;
        if (read_meta(s, topic, &have, err) != 0) return -1;
    }
    if (have != partitions)
        return FIRN_RAISE(err, FIRN_ERR_CONFLICT,
                          "spool: topic %s exists with %d partitions, not %d", topic, have,
                          partitions);
    return 0;
}

static int spool_partitions(firn_stream *st, const char *topic, int32_t *out, firn_error *err) {
    spool *s = (spool *)st;
    pthread_mutex_lock(&s->mu);
    spool_topic *t;
    int rc = topic_get(s, topic, &t, err);
    if (rc == 0) *out = t->nparts;
    pthread_mutex_unlock(&s->mu);
    return rc;
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int spool_topics(firn_stream *st, char ***out, size_t *n, firn_error *err) {
    spool *s = (spool *)st;
    *out = NULL;
    *n = 0;
    DIR *d = opendir(s->dir);
    if (!d) return io_fail(err, "list", s->dir);
    char **names = NULL;
    size_t cnt = 0, cap = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (!valid_topic_name(de->d_name)) continue;
        char path[4200];
        struct stat sb;
        snprintf(path, sizeof path, "%s/%s/topic.meta", s->dir, de->d_name);
        if (stat(path, &sb) != 0) continue;
        if (cnt == cap) {
            cap = cap ? 2 * cap : 16;
            names = firn_xrealloc(names, cap * sizeof *names);
        }
        names[cnt++] = firn_xstrdup(de->d_name);
    }
    closedir(d);
    if (cnt) qsort(names, cnt, sizeof *names, cmp_str);
    *out = names;
    *n = cnt;
    return 0;
}

static int spool_watermarks(firn_stream *st, const char *topic, int32_t partition,
                            firn_watermarks *out, firn_error *err) {
    spool_part *p;
    if (firn_spool_part((spool *)st, topic, partition, &p, err) != 0) return -1;
    pthread_mutex_lock(&p->mu);
    int rc = firn_spool_part_refresh(p, false, err);
    if (rc == 0) {
        out->low = p->nsegs ? p->segs[0]->base : 0;
        out->high = p->nsegs ? p->segs[p->nsegs - 1]->next : 0;
    }
    pthread_mutex_unlock(&p->mu);
    return rc;
}

/* ------------------------------------------------------------ append */

static void notify_readers(spool *s) {
    pthread_mutex_lock(&s->data_mu);
    s->append_gen++;
    pthread_cond_broadcast(&s->data_cv);
    pthread_mutex_unlock(&s->data_mu);
}

/* Delete whole old segments beyond the size or age bound (never the active one). */
static void part_retention(spool_part *p) {
    const firn_stream_options *o = &p->s->base.opts;
    if (!o->retention_bytes && o->retention_ms <= 0) return;
    p->last_retention_ns = firn_now_ns();
    uint64_t total = 0;
    for (size_t i = 0; i < p->nsegs; i++) total += p->segs[i]->size;
    int64_t cutoff = o->retention_ms > 0 ? now_ms() - o->retention_ms : INT64_MIN;
    while (p->nsegs > 1) {
        spool_seg *seg = p->segs[0];
        bool by_size = o->retention_bytes && total - seg->size >= o->retention_bytes;
        bool by_age = o->retention_ms > 0 && seg->max_ts < cutoff;
        if (!by_size && !by_age) break;
        char path[4200];
        firn_spool_seg_path(p, seg->base, "log", path, sizeof path);
        unlink(path);
        firn_spool_seg_path(p, seg->base, "idx", path, sizeof path);
        unlink(path);
        total -= seg->size;
        part_drop_first(p);
    }
}

/* Create the segment starting at base and make it the write target. */
static int part_new_segment(spool_part *p, int64_t base, firn_error *err) {
    char path[4200];
    firn_spool_seg_path(p, base, "log", path, sizeof path);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) return io_fail(err, "create segment", path);
    if (p->s->base.opts.fsync != FIRN_FSYNC_NEVER && fsync_dir(p->dir) != 0) {
        close(fd);
        return io_fail(err, "sync directory", p->dir);
    }
    if (p->wfd >= 0) close(p->wfd);
    p->wfd = fd;
    p->wfd_base = base;
    part_push_seg(p, seg_new(base));
    return 0;
}

/* Seal the active segment (synced, index written) and start the next one. */
static int part_roll(spool_part *p, firn_error *err) {
    while (p->syncing) pthread_cond_wait(&p->cv, &p->mu);
    bool sync = p->s->base.opts.fsync != FIRN_FSYNC_NEVER;
    spool_seg *seg = p->segs[p->nsegs - 1];
    if (sync && fdatasync(p->wfd) != 0) {
        p->broken = true;
        return io_fail(err, "sync segment", p->dir);
    }
    p->synced_seq = p->write_seq;
    p->vis_base = -1;
    pthread_cond_broadcast(&p->cv);
    if (seg_write_index(p, seg, sync, err) != 0) return -1;
    if (part_new_segment(p, seg->next, err) != 0) return -1;
    part_retention(p);
    return 0;
}

typedef struct pending_iov {
    bool user; /* base is the caller's memory; else an offset into p->enc */
    const void *ptr;
    size_t off;
    size_t len;
} pending_iov;

typedef struct write_batch {
    pending_iov *iov;
    size_t niov, capiov;
    uint64_t bytes;
    size_t first, count; /* records [first, first + count) of the call's list */
    uint64_t *pos;       /* byte position of each record in the segment */
    int64_t *ts;
} write_batch;

static void batch_iov(write_batch *b, bool user, const void *ptr, size_t off, size_t len) {
    if (b->niov && !user && !b->iov[b->niov - 1].user &&
        b->iov[b->niov - 1].off + b->iov[b->niov - 1].len == off) {
        b->iov[b->niov - 1].len += len;
        return;
    }
    if (b->niov == b->capiov) {
        b->capiov = b->capiov ? 2 * b->capiov : 64;
        b->iov = firn_xrealloc(b->iov, b->capiov * sizeof *b->iov);
    }
    b->iov[b->niov++] = (pending_iov){user, ptr, off, len};
}

/* pwritev the batch at the end of the active segment; on failure cut the file back. */
static int batch_flush(spool_part *p, write_batch *b, const firn_msg *msgs, const size_t *ids,
                       int64_t *offsets, firn_error *err) {
    if (!b->count) return 0;
    spool_seg *seg = p->segs[p->nsegs - 1];
    uint64_t start = seg->size, at = start;
    struct iovec iov[IOV_BATCH];
    size_t i = 0;
    size_t skip = 0; /* bytes of iov i already written */
    while (i < b->niov) {
        size_t k = 0;
        for (size_t j = i; j < b->niov && k < IOV_BATCH; j++, k++) {
            const pending_iov *pi = &b->iov[j];
            const uint8_t *base = pi->user ? pi->ptr : p->enc.data + pi->off;
            size_t sk = j == i ? skip : 0;
            iov[k].iov_base = (void *)(base + sk);
            iov[k].iov_len = pi->len - sk;
        }
        ssize_t w = pwritev(p->wfd, iov, (int)k, (off_t)at);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
            int saved = errno;
            if (ftruncate(p->wfd, (off_t)start) != 0) p->broken = true;
            errno = w < 0 ? saved : ENOSPC;
            return io_fail(err, "write segment", p->dir);
        }
        at += (uint64_t)w;
        size_t left = (size_t)w;
        while (left && i < b->niov) {
            size_t rest = b->iov[i].len - skip;
            if (left >= rest) {
                left -= rest;
                i++;
                skip = 0;
            } else {
                skip += left;
                left = 0;
            }
        }
    }
    if (p->vis_base < 0 && p->s->base.opts.fsync != FIRN_FSYNC_NEVER) {
        p->vis_base = seg->base;
        p->vis_pos = start;
    }
    for (size_t r = 0; r < b->count; r++) {
        int64_t off = seg->next;
        seg_add_index(seg, off, start + b->pos[r]);
        offsets[ids[b->first + r]] = off;
        seg->next++;
        if (b->ts[r] > seg->max_ts) seg->max_ts = b->ts[r];
    }
    seg->size = at;
    (void)msgs;
    b->niov = 0;
    b->bytes = 0;
    b->first += b->count;
    b->count = 0;
    firn_buf_clear(&p->enc);
    return 0;
}

static int lock_part(spool_part *p, firn_error *err) {
    if (p->lock_fd < 0) {
        char lp[4200];
        snprintf(lp, sizeof lp, "%s/.lock", p->dir);
        p->lock_fd = open(lp, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
        if (p->lock_fd < 0) return io_fail(err, "open", lp);
    }
    while (flock(p->lock_fd, LOCK_EX) != 0)
        if (errno != EINTR) return io_fail(err, "lock", p->dir);
    return 0;
}

/* Write records ids[0..n) of msgs to p; offsets[ids[i]] receives each offset and
 * *seq the write sequence number to wait for. */
static int part_write(spool_part *p, const firn_msg *msgs, const size_t *ids, size_t n,
                      int64_t *offsets, uint64_t *seq, firn_error *err) {
    spool *s = p->s;
    const firn_stream_options *o = &s->base.opts;
    pthread_mutex_lock(&p->mu);
    if (p->broken) {
        pthread_mutex_unlock(&p->mu);
        return FIRN_RAISE(err, FIRN_ERR_IO,
                          "spool: partition %s/%d failed to sync earlier; reopen the stream",
                          p->topic, p->id);
    }
    int rc = lock_part(p, err);
    if (rc != 0) {
        pthread_mutex_unlock(&p->mu);
        return rc;
    }
    write_batch b = {0};
    b.pos = firn_xmalloc(n * sizeof *b.pos);
    b.ts = firn_xmalloc(n * sizeof *b.ts);
    rc = firn_spool_part_refresh(p, true, err);
    if (rc == 0 && p->nsegs == 0) rc = part_new_segment(p, 0, err);
    if (rc == 0 && p->wfd_base != p->segs[p->nsegs - 1]->base) {
        char path[4200];
        firn_spool_seg_path(p, p->segs[p->nsegs - 1]->base, "log", path, sizeof path);
        if (p->wfd >= 0) close(p->wfd);
        p->wfd = open(path, O_WRONLY | O_CLOEXEC);
        if (p->wfd < 0) rc = io_fail(err, "open segment", path);
        else p->wfd_base = p->segs[p->nsegs - 1]->base;
    }
    int64_t now = now_ms();
    firn_buf_clear(&p->enc);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        const firn_msg *m = &msgs[ids[i]];
        spool_seg *seg = p->segs[p->nsegs - 1];
        size_t prefix = body_prefix_len(m); /* the body up to the value */
        uint64_t flen = SPOOL_FRAME_HDR + prefix + m->value_len;
        if (seg->size + b.bytes > 0 && seg->size + b.bytes + flen > o->segment_bytes) {
            rc = batch_flush(p, &b, msgs, ids, offsets, err);
            if (rc == 0 && p->segs[p->nsegs - 1]->size > 0) rc = part_roll(p, err);
            if (rc != 0) break;
            seg = p->segs[p->nsegs - 1];
        }
        int64_t ts = m->timestamp_ms ? m->timestamp_ms : now;
        bool large = m->value_len >= LARGE_VALUE;
        size_t inline_len = SPOOL_FRAME_HDR + prefix + (large ? 0 : m->value_len);
        size_t off = p->enc.len;
        uint8_t *q = firn_buf_extend(&p->enc, inline_len);
        uint8_t *body = q + SPOOL_FRAME_HDR;
        encode_prefix(body, m, seg->next + (int64_t)b.count, ts);
        uint32_t crc = firn_crc32c(0, body, prefix);
        if (m->value_len) crc = firn_crc32c(crc, m->value, m->value_len);
        if (!large && m->value_len) memcpy(body + prefix, m->value, m->value_len);
        firn_store_le32(q, (uint32_t)(prefix + m->value_len));
        firn_store_le32(q + 4, crc);
        batch_iov(&b, false, NULL, off, inline_len);
        if (large) batch_iov(&b, true, m->value, 0, m->value_len);
        b.pos[b.count] = b.bytes;
        b.ts[b.count] = ts;
        b.count++;
        b.bytes += flen;
    }
    if (rc == 0) rc = batch_flush(p, &b, msgs, ids, offsets, err);
    if (rc == 0 && (o->retention_ms > 0 || o->retention_bytes) &&
        firn_now_ns() - p->last_retention_ns > 1000000000ull)
        part_retention(p);
    flock(p->lock_fd, LOCK_UN);
    if (rc == 0) {
        *seq = ++p->write_seq;
        if (o->fsync == FIRN_FSYNC_NEVER) p->synced_seq = p->write_seq;
    }
    pthread_mutex_unlock(&p->mu);
    free(b.iov);
    free(b.pos);
    free(b.ts);
    if (rc == 0 && o->fsync == FIRN_FSYNC_NEVER) notify_readers(s);
    return rc;
}

/* Wait until write seq is durable, running the fsync if nobody is (group commit). */
static int part_wait_durable(spool_part *p, uint64_t seq, firn_error *err) {
    int rc = 0;
    bool synced_any = false;
    pthread_mutex_lock(&p->mu);
    while (p->synced_seq < seq) {
        if (p->broken) {
            rc = FIRN_RAISE(err, FIRN_ERR_IO, "spool: partition %s/%d failed to sync", p->topic,
                            p->id);
            break;
        }
        if (p->syncing) {
            pthread_cond_wait(&p->cv, &p->mu);
            continue;
        }
        p->syncing = true;
        uint64_t target = p->write_seq;
        int fd = p->wfd;
        int64_t end_base = p->segs[p->nsegs - 1]->base;
        uint64_t end_pos = p->segs[p->nsegs - 1]->size;
        pthread_mutex_unlock(&p->mu);
        int r = fdatasync(fd);
        int saved = errno;
        pthread_mutex_lock(&p->mu);
        p->syncing = false;
        if (r != 0) {
            p->broken = true;
            errno = saved;
            rc = io_fail(err, "sync segment", p->dir);
            pthread_cond_broadcast(&p->cv);
            break;
        }
        if (p->synced_seq < target) p->synced_seq = target;
        if (p->synced_seq == p->write_seq) {
            p->vis_base = -1;
        } else {
            p->vis_base = end_base;
            p->vis_pos = end_pos;
        }
        synced_any = true;
        pthread_cond_broadcast(&p->cv);
    }
    pthread_mutex_unlock(&p->mu);
    if (synced_any || rc == 0) notify_readers(p->s);
    return rc;
}

static int spool_append(firn_stream *st, const char *topic, const firn_msg *msgs, size_t n,
                        int64_t *offsets_out, int32_t *partitions_out, firn_error *err) {
    spool *s = (spool *)st;
    if (n == 0) return 0;
    int32_t nparts;
    pthread_mutex_lock(&s->mu);
    spool_topic *t;
    int rc = topic_get(s, topic, &t, err);
    nparts = rc == 0 ? t->nparts : 0;
    pthread_mutex_unlock(&s->mu);
    if (rc != 0) return rc;
    int32_t *parts = firn_xmalloc(n * sizeof *parts);
    for (size_t i = 0; i < n; i++) {
        const firn_msg *m = &msgs[i];
        int32_t pt = m->partition >= 0 ? m->partition
                                       : firn_stream_partition_for_key(m->key, m->key_len, nparts);
        uint64_t rec = m->value_len + (m->key ? m->key_len : 0);
        for (size_t h = 0; h < m->n_headers; h++) {
            if (!m->headers[h].key) {
                rc = FIRN_RAISE(err, FIRN_ERR_INVALID, "spool: record %zu: header %zu has no name", i, h);
                break;
            }
            rec += strlen(m->headers[h].key) + m->headers[h].value_len;
        }
        if (rc != 0) break;
        if (pt >= nparts) {
            rc = FIRN_RAISE(err, FIRN_ERR_NOT_FOUND, "spool: topic %s has no partition %d (it has %d)",
                            topic, pt, nparts);
            break;
        }
        if (rec > st->opts.max_record_bytes || m->n_headers > 65536) {
            rc = FIRN_RAISE(err, FIRN_ERR_LIMIT,
                            "spool: topic %s: record of %llu bytes (key, value and headers) "
                            "exceeds the limit of %llu bytes (limits.max-event-bytes)",
                            topic, (unsigned long long)rec,
                            (unsigned long long)st->opts.max_record_bytes);
            break;
        }
        parts[i] = pt;
    }
    if (rc != 0) {
        free(parts);
        return rc;
    }
    /* group the records by partition, keeping their order */
    size_t *count = firn_xcalloc((size_t)nparts + 1, sizeof *count);
    for (size_t i = 0; i < n; i++) count[parts[i] + 1]++;
    for (int32_t i = 0; i < nparts; i++) count[i + 1] += count[i];
    size_t *ids = firn_xmalloc(n * sizeof *ids);
    size_t *fill = firn_xmalloc(((size_t)nparts + 1) * sizeof *fill);
    memcpy(fill, count, ((size_t)nparts + 1) * sizeof *fill);
    for (size_t i = 0; i < n; i++) ids[fill[parts[i]]++] = i;
    int64_t *offsets = offsets_out ? offsets_out : firn_xmalloc(n * sizeof *offsets);
    bool always = st->opts.fsync == FIRN_FSYNC_ALWAYS;
    spool_part **touched = firn_xcalloc((size_t)nparts, sizeof *touched);
    uint64_t *seqs = firn_xcalloc((size_t)nparts, sizeof *seqs);
    for (int32_t pt = 0; pt < nparts && rc == 0; pt++) {
        size_t lo = count[pt], hi = count[pt + 1];
        if (lo == hi) continue;
        spool_part *p;
        rc = firn_spool_part(s, topic, pt, &p, err);
        if (rc != 0) break;
        touched[pt] = p;
        if (always) { /* every record written and synced on its own */
            for (size_t i = lo; i < hi && rc == 0; i++) {
                rc = part_write(p, msgs, ids + i, 1, offsets, &seqs[pt], err);
                if (rc == 0) rc = part_wait_durable(p, seqs[pt], err);
            }
        } else {
            rc = part_write(p, msgs, ids + lo, hi - lo, offsets, &seqs[pt], err);
        }
    }
    for (int32_t pt = 0; pt < nparts && rc == 0; pt++)
        if (touched[pt] && !always && st->opts.fsync != FIRN_FSYNC_NEVER)
            rc = part_wait_durable(touched[pt], seqs[pt], err);
    if (rc == 0 && partitions_out) memcpy(partitions_out, parts, n * sizeof *parts);
    if (!offsets_out) free(offsets);
    free(touched);
    free(seqs);
    free(ids);
    free(fill);
    free(count);
    free(parts);
    return rc;
}

/* ------------------------------------------------------------ open / close */

static void spool_close(firn_stream *st) {
    spool *s = (spool *)st;
    for (size_t i = 0; i < s->ntopics; i++) topic_free(s->topics[i]);
    free(s->topics);
    pthread_mutex_destroy(&s->mu);
    pthread_mutex_destroy(&s->data_mu);
    pthread_cond_destroy(&s->data_cv);
    free(s->dir);
    free(s);
}

static const firn_stream_vtable spool_vtable = {
    .kind = "spool",
    .close = spool_close,
    .create_topic = spool_create_topic,
    .partitions = spool_partitions,
    .topics = spool_topics,
    .watermarks = spool_watermarks,
    .append = spool_append,
    .get = firn_spool_get,
    .consumer_open = firn_spool_consumer_open,
    .consumer_close = firn_spool_consumer_close,
    .assign = firn_spool_assign,
    .subscribe = firn_spool_subscribe,
    .seek = firn_spool_seek,
    .poll = firn_spool_poll,
    .commit = firn_spool_commit,
};

int firn_spool_open(const char *dir, const firn_stream_options *opts, firn_stream **out,
                    firn_error *err) {
    *out = NULL;
    if (!dir || !*dir) return FIRN_RAISE(err, FIRN_ERR_INVALID, "spool: empty directory");
    spool *s = firn_xcalloc(1, sizeof *s);
    s->base.vt = &spool_vtable;
    firn_stream_resolve_options(opts, &s->base.opts);
    if (s->base.opts.max_record_bytes > SPOOL_MAX_RECORD_LIMIT) {
        free(s);
        return FIRN_RAISE(err, FIRN_ERR_INVALID, "spool: max record size above 1 GiB");
    }
    if (s->base.opts.fsync > FIRN_FSYNC_NEVER) {
        int policy = (int)s->base.opts.fsync;
        free(s);
        return FIRN_RAISE(err, FIRN_ERR_INVALID, "spool: unknown fsync policy %d", policy);
    }
    s->dir = firn_xstrdup(dir);
    size_t l = strlen(s->dir);
    while (l > 1 && s->dir[l - 1] == '/') s->dir[--l] = 0;
    pthread_mutex_init(&s->mu, NULL);
    pthread_mutex_init(&s->data_mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&s->data_cv, &ca);
    pthread_condattr_destroy(&ca);
    if (mkdir_p(s->dir) != 0) {
        int rc = io_fail(err, "create spool directory", dir);
        spool_close(&s->base);
        return rc;
    }
    *out = &s->base;
    return 0;
}
