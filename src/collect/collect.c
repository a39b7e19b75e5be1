/* collect.c - file-drop ingest (collect.h): frames of a Replicator-layout
 * directory onto the raw topic, exactly once across crashes. */
#include "collect/collect.h"
#include "io/io.h"
#include "stream/stream.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define PENDING_MAGIC "firn-collect-pending 1"

struct firn_collect {
    firn_stream *s;
    firn_collect_options o;
    char *dir, *done, *failed, *pending;
    int lockfd;
    firn_collect_stats st;
};

void firn_collect_options_init(firn_collect_options *o) {
    memset(o, 0, sizeof *o);
    o->topic = "events";
    o->partitions = 1;
    o->key_field = "carId";
    o->grace_us = 5 * 1000000LL;
    o->max_event_bytes = 16u << 20;
    o->batch_max = 64;
}

const firn_collect_stats *firn_collect_get_stats(const firn_collect *c) { return &c->st; }

static char *path_join(const char *a, const char *b) {
    size_t n = strlen(a) + strlen(b) + 2;
    char *p = firn_xmalloc(n);
    snprintf(p, n, "%s/%s", a, b);
    return p;
}

static int fsync_dir(const char *dir, firn_error *err) {
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return FIRN_RAISE(err, FIRN_ERR_IO, "open %s: %s", dir, strerror(errno));
    int rc = fsync(fd);
    int e = errno;
    close(fd);
    if (rc != 0) return FIRN_RAISE(err, FIRN_ERR_IO, "fsync %s: %s", dir, strerror(e));
    return 0;
}

/* Move DIR/name into to/ (a directory). A missing source is fine (moved before a crash). */
static int move_into(firn_collect *c, const char *to, const char *name, firn_error *err) {
    char *src = path_join(c->dir, name), *dst = path_join(to, name);
    int rc = 0;
    if (rename(src, dst) != 0 && errno != ENOENT)
        rc = FIRN_RAISE(err, FIRN_ERR_IO, "move %s to %s: %s", src, dst, strerror(errno));
    free(src);
    free(dst);
    return rc;
}

/* ------------------------------------------------------------ frames */

typedef struct frame {
    char *stem;
    char *sidecar;   /* file name or NULL */
    char **images;   /* file names */
    size_t nimages;
    int64_t newest_us; /* newest mtime of its files */
    /* filled when read */
    uint8_t *json, *image;
    size_t json_len, image_len;
    char *key;
    char id[512];
} frame;

static void frame_release(frame *f) {
    free(f->stem);
    free(f->sidecar);
    for (size_t i = 0; i < f->nimages; i++) free(f->images[i]);
    free(f->images);
    free(f->json);
    free(f->image);
    free(f->key);
}

/* Natural order: digit runs compare by value, so rgb_9999 < rgb_10000. */
static int natural_cmp(const char *a, const char *b) {
    while (*a && *b) {
        if (isdigit((unsigned char)*a) && isdigit((unsigned char)*b)) {
            while (*a == '0') a++;
            while (*b == '0') b++;
            size_t na = 0, nb = 0;
            while (isdigit((unsigned char)a[na])) na++;
            while (isdigit((unsigned char)b[nb])) nb++;
            if (na != nb) return na < nb ? -1 : 1;
            int c = strncmp(a, b, na);
            if (c) return c;
            a += na;
            b += nb;
        } else {
            if (*a != *b) return (unsigned char)*a < (unsigned char)*b ? -1 : 1;
            a++;
            b++;
        }
    }
    return *a ? 1 : *b ? -1 : 0;
}

static int frame_cmp(const void *x, const void *y) {
    return natural_cmp(((const frame *)x)->stem, ((const frame *)y)->stem);
}

typedef struct frame_list {
    frame *v;
    size_t n, cap;
} frame_list;

/* By stem (everything before the last dot), then by whole name. */
static int name_cmp(const void *x, const void *y) {
    const char *a = *(const char *const *)x, *b = *(const char *const *)y;
    const char *da = strrchr(a, '.'), *db = strrchr(b, '.');
    size_t la = da ? (size_t)(da - a) : strlen(a), lb = db ? (size_t)(db - b) : strlen(b);
    int c = memcmp(a, b, la < lb ? la : lb);
    if (c) return c;
    if (la != lb) return la < lb ? -1 : 1;
    return strcmp(a, b);
}

static frame *frame_new(frame_list *l, const char *stem, size_t stem_len) {
    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 64;
        l->v = firn_xrealloc(l->v, l->cap * sizeof *l->v);
    }
    frame *f = &l->v[l->n++];
    memset(f, 0, sizeof *f);
    f->stem = firn_xmalloc(stem_len + 1);
    memcpy(f->stem, stem, stem_len);
    f->stem[stem_len] = 0;
    return f;
}

static int list_frames(firn_collect *c, frame_list *l, firn_error *err) {
    DIR *d = opendir(c->dir);
    if (!d) return FIRN_RAISE(err, FIRN_ERR_IO, "open directory %s: %s", c->dir, strerror(errno));
    /* index by stem through a sort afterwards: collect names first */
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.') continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 256;
            names = firn_xrealloc(names, cap * sizeof *names);
        }
        names[n++] = firn_xstrdup(de->d_name);
    }
    closedir(d);
    qsort(names, n, sizeof *names, name_cmp); /* a stem's files are adjacent */
    for (size_t i = 0; i < n; i++) {
        char *path = path_join(c->dir, names[i]);
        struct stat sb;
        int src = lstat(path, &sb);
        free(path);
        if (src != 0 || S_ISDIR(sb.st_mode)) {
            free(names[i]);
            continue;
        }
        const char *dot = strrchr(names[i], '.');
        size_t stem_len = dot ? (size_t)(dot - names[i]) : strlen(names[i]);
        frame *f = NULL;
        if (l->n && strlen(l->v[l->n - 1].stem) == stem_len &&
            !memcmp(l->v[l->n - 1].stem, names[i], stem_len))
            f = &l->v[l->n - 1];
        else
            f = frame_new(l, names[i], stem_len);
        int64_t mt = (int64_t)sb.st_mtim.tv_sec * 1000000 + sb.st_mtim.tv_nsec / 1000;
        if (mt > f->newest_us) f->newest_us = mt;
        if (dot && !strcmp(dot, ".json") && !f->sidecar) {
            f->sidecar = names[i];
        } else {
            f->images = firn_xrealloc(f->images, (f->nimages + 1) * sizeof *f->images);
            f->images[f->nimages++] = names[i];
        }
    }
    free(names);
    qsort(l->v, l->n, sizeof *l->v, frame_cmp);
    return 0;
}

/* Move a frame's files to .failed/ and write .failed/<stem>.reason. */
static int fail_frame(firn_collect *c, frame *f, const char *reason, firn_error *err) {
    char name[PATH_MAX];
    snprintf(name, sizeof name, "%s/%s.reason", c->failed, f->stem);
    firn_buf b;
    firn_buf_init(&b);
    firn_buf_appendf(&b, "%s\n", reason);
    int rc = firn_write_file(name, b.data, b.len, err);
    firn_buf_release(&b);
    if (rc == 0 && f->sidecar) rc = move_into(c, c->failed, f->sidecar, err);
    for (size_t i = 0; rc == 0 && i < f->nimages; i++) rc = move_into(c, c->failed, f->images[i], err);
    if (rc == 0) c->st.failed++;
    return rc;
}

static uint64_t hash_or_zero(const uint8_t *p, size_t n) { return p ? firn_xxh64(p, n, 0) : 0; }

/* Read a frame's files. Returns 0 with *why set when the frame must fail. */
static void read_frame(firn_collect *c, frame *f, char *why, size_t why_len) {
    firn_error e;
    firn_error_init(&e);
    char *p = path_join(c->dir, f->sidecar);
    int rc = firn_read_file(p, &f->json, &f->json_len, &e);
    free(p);
    if (rc) {
        snprintf(why, why_len, "unreadable sidecar %s: %s", f->sidecar, e.message);
        firn_error_release(&e);
        return;
    }
    if (f->nimages == 1) {
        p = path_join(c->dir, f->images[0]);
        rc = firn_read_file(p, &f->image, &f->image_len, &e);
        free(p);
        if (rc) {
            snprintf(why, why_len, "unreadable image %s: %s", f->images[0], e.message);
            firn_error_release(&e);
            return;
        }
    }
    uint64_t total = f->json_len + f->image_len;
    if (total > c->o.max_event_bytes) {
        snprintf(why, why_len, "event of %llu bytes (sidecar and image) is over the %llu-byte "
                 "limit (limits.max-event-bytes)", (unsigned long long)total,
                 (unsigned long long)c->o.max_event_bytes);
        return;
    }
    json_t *root = json_loadb((const char *)f->json, f->json_len, JSON_REJECT_DUPLICATES, NULL);
    json_t *k = root && json_is_object(root) ? json_object_get(root, c->o.key_field) : NULL;
    if (k && json_is_string(k)) f->key = firn_xstrdup(json_string_value(k));
    json_decref(root);
    snprintf(f->id, sizeof f->id, "%s:%016llx:%016llx", f->stem,
             (unsigned long long)hash_or_zero(f->json, f->json_len),
             (unsigned long long)hash_or_zero(f->image, f->image_len));
}

/* ------------------------------------------------------------ pending batch */

static int write_pending(firn_collect *c, frame **batch, size_t n, firn_error *err) {
    int32_t parts = 0;
    int rc = firn_stream_partitions(c->s, c->o.topic, &parts, err);
    if (rc) return rc;
    firn_buf b;
    firn_buf_init(&b);
    firn_buf_appendf(&b, "%s\n", PENDING_MAGIC);
    for (int32_t p = 0; p < parts; p++) {
        firn_watermarks wm;
        if ((rc = firn_stream_watermarks(c->s, c->o.topic, p, &wm, err)) != 0) goto out;
        firn_buf_appendf(&b, "wm %d %lld\n", (int)p, (long long)wm.high);
    }
    for (size_t i = 0; i < n; i++) firn_buf_appendf(&b, "frame %s\n", batch[i]->id);
    firn_buf_append_str(&b, "end\n");
    if ((rc = firn_write_file(c->pending, b.data, b.len, err)) == 0) rc = fsync_dir(c->dir, err);
out:
    firn_buf_release(&b);
    return rc;
}

static int clear_pending(firn_collect *c, firn_error *err) {
    if (unlink(c->pending) != 0 && errno != ENOENT)
        return FIRN_RAISE(err, FIRN_ERR_IO, "remove %s: %s", c->pending, strerror(errno));
    return fsync_dir(c->dir, err);
}

static const firn_header *find_header(const firn_record *r, const char *key) {
    for (size_t i = 0; i < r->n_headers; i++)
        if (!strcmp(r->headers[i].key, key)) return &r->headers[i];
    return NULL;
}

/* A crashed run left a complete pending file: move the frames whose records
 * reached the log since the recorded watermarks; the rest stay to be collected. */
static int recover(firn_collect *c, firn_error *err) {
    uint8_t *text = NULL;
    size_t len = 0;
    firn_error e;
    firn_error_init(&e);
    if (firn_read_file(c->pending, &text, &len, &e) != 0) {
        bool missing = e.kind == FIRN_ERR_NOT_FOUND || access(c->pending, F_OK) != 0;
        firn_error_release(&e);
        return missing ? 0 : FIRN_RAISE(err, FIRN_ERR_IO, "read %s", c->pending);
    }
    text = firn_xrealloc(text, len + 1);
    text[len] = 0;
    char *s = (char *)text;
    /* incomplete (crash while writing it): the append never started */
    if (strncmp(s, PENDING_MAGIC "\n", strlen(PENDING_MAGIC) + 1) != 0 ||
        len < 4 || strcmp(s + len - 4, "end\n") != 0) {
        free(text);
        return clear_pending(c, err);
    }
    firn_topic_partition tps[1024];
    size_t ntp = 0;
    char **ids = NULL;
    bool *found = NULL;
    size_t nids = 0;
    for (char *line = strtok(s, "\n"); line; line = strtok(NULL, "\n")) {
        int p;
        long long off;
        if (sscanf(line, "wm %d %lld", &p, &off) == 2 && ntp < 1024) {
            tps[ntp].topic = c->o.topic;
            tps[ntp].partition = p;
            tps[ntp].offset = off;
            ntp++;
        } else if (!strncmp(line, "frame ", 6)) {
            ids = firn_xrealloc(ids, (nids + 1) * sizeof *ids);
            ids[nids++] = line + 6;
        }
    }
    found = firn_xcalloc(nids ? nids : 1, sizeof *found);
    int rc = 0;
    firn_consumer *cons = NULL;
    firn_consumer_options co;
    firn_consumer_options_init(&co);
    /* read each partition from its recorded watermark to its high watermark now */
    int64_t *high = firn_xcalloc(ntp ? ntp : 1, sizeof *high);
    size_t todo = 0;
    for (size_t i = 0; i < ntp; i++) {
        firn_watermarks wm;
        if ((rc = firn_stream_watermarks(c->s, c->o.topic, tps[i].partition, &wm, err)) != 0) goto out;
        high[i] = wm.high;
        if (high[i] > tps[i].offset) todo++;
    }
    if (todo) {
        if ((rc = firn_consumer_open(c->s, &co, &cons, err)) != 0) goto out;
        if ((rc = firn_consumer_assign(cons, tps, ntp, err)) != 0) goto out;
        int idle = 0;
        while (todo && idle < 100) {
            const firn_record *recs;
            size_t n = 0;
            if ((rc = firn_consumer_poll(cons, 100, &recs, &n, err)) != 0) goto out;
            idle = n ? 0 : idle + 1;
            for (size_t r = 0; r < n; r++) {
                const firn_header *h = find_header(&recs[r], FIRN_COLLECT_HEADER);
                for (size_t k = 0; h && k < nids; k++)
                    if (!found[k] && strlen(ids[k]) == h->value_len &&
                        !memcmp(ids[k], h->value, h->value_len))
                        found[k] = true;
                for (size_t i = 0; i < ntp; i++)
                    if (tps[i].partition == recs[r].partition && recs[r].offset + 1 == high[i])
                        todo--;
            }
        }
        if (todo) {
            rc = FIRN_RAISE(err, FIRN_ERR_IO, "recovery: could not read the raw topic %s up to its "
                            "high watermarks", c->o.topic);
            goto out;
        }
    }
    {
        /* frames still here whose identity (stem and content hashes) reached the log */
        frame_list l = {0};
        if ((rc = list_frames(c, &l, err)) != 0) goto out;
        for (size_t i = 0; i < l.n && rc == 0; i++) {
            frame *f = &l.v[i];
            size_t sl = strlen(f->stem);
            bool listed = false;
            for (size_t k = 0; k < nids && !listed; k++)
                listed = found[k] && !strncmp(ids[k], f->stem, sl) && ids[k][sl] == ':';
            if (!listed || !f->sidecar || f->nimages > 1) continue;
            char why[1024] = "";
            read_frame(c, f, why, sizeof why);
            bool same = false;
            for (size_t k = 0; k < nids && !why[0] && !same; k++) same = found[k] && !strcmp(ids[k], f->id);
            if (!same) continue;
            rc = move_into(c, c->done, f->sidecar, err);
            for (size_t j = 0; rc == 0 && j < f->nimages; j++) rc = move_into(c, c->done, f->images[j], err);
            if (rc == 0) c->st.recovered++;
        }
        for (size_t i = 0; i < l.n; i++) frame_release(&l.v[i]);
        free(l.v);
        if (rc) goto out;
    }
    if ((rc = fsync_dir(c->done, err)) == 0) rc = clear_pending(c, err);
out:
    firn_consumer_close(cons);
    free(high);
    free(found);
    free(ids);
    free(text);
    return rc;
}

/* ------------------------------------------------------------ open, scan */

int firn_collect_open(firn_stream *s, const firn_collect_options *o, firn_collect **out,
                      firn_error *err) {
    *out = NULL;
    if (!o->dir || !*o->dir) return FIRN_RAISE(err, FIRN_ERR_INVALID, "collect: no directory");
    firn_collect *c = firn_xcalloc(1, sizeof *c);
    c->s = s;
    c->o = *o;
    c->lockfd = -1;
    c->dir = firn_xstrdup(o->dir);
    c->done = path_join(o->dir, ".done");
    c->failed = path_join(o->dir, ".failed");
    c->pending = path_join(o->dir, ".collect.pending");
    int rc = 0;
    struct stat sb;
    if (stat(c->dir, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
        rc = FIRN_RAISE(err, FIRN_ERR_NOT_FOUND, "%s is not a directory", c->dir);
        goto fail;
    }
    char *lock = path_join(o->dir, ".collect.lock");
    c->lockfd = open(lock, O_CREAT | O_RDWR | O_CLOEXEC, 0644);
    if (c->lockfd < 0 || flock(c->lockfd, LOCK_EX | LOCK_NB) != 0) {
        rc = FIRN_RAISE(err, FIRN_ERR_CONFLICT, "another firn collect watches %s (%s is locked)",
                        c->dir, lock);
        free(lock);
        goto fail;
    }
    free(lock);
    if ((mkdir(c->done, 0755) != 0 && errno != EEXIST) ||
        (mkdir(c->failed, 0755) != 0 && errno != EEXIST)) {
        rc = FIRN_RAISE(err, FIRN_ERR_IO, "mkdir in %s: %s", c->dir, strerror(errno));
        goto fail;
    }
    int32_t parts;
    rc = firn_stream_partitions(s, c->o.topic, &parts, err);
    if (rc == -FIRN_ERR_NOT_FOUND) {
        firn_error_release(err);
        firn_error_init(err);
        rc = firn_stream_create_topic(s, c->o.topic, o->partitions > 0 ? o->partitions : 1, err);
    }
    if (rc) goto fail;
    if ((rc = recover(c, err)) != 0) goto fail;
    *out = c;
    return 0;
fail:
    firn_collect_free(c);
    return rc;
}

void firn_collect_free(firn_collect *c) {
    if (!c) return;
    if (c->lockfd >= 0) close(c->lockfd);
    free(c->dir);
    free(c->done);
    free(c->failed);
    free(c->pending);
    free(c);
}

/* Append a batch of read frames exactly once, then move them to .done/. */
static int append_batch(firn_collect *c, frame **batch, size_t n, firn_error *err) {
    if (n == 0) return 0;
    int rc = write_pending(c, batch, n, err);
    if (rc) return rc;
    firn_io_crash_point("collect.after-pending");
    firn_msg *msgs = firn_xcalloc(n, sizeof *msgs);
    firn_header *hdrs = firn_xcalloc(2 * n, sizeof *hdrs);
    for (size_t i = 0; i < n; i++) {
        frame *f = batch[i];
        firn_msg *m = &msgs[i];
        m->partition = -1;
        if (f->key) m->key = f->key, m->key_len = strlen(f->key);
        m->value = f->json;
        m->value_len = f->json_len;
        m->headers = &hdrs[2 * i];
        hdrs[2 * i].key = FIRN_COLLECT_HEADER;
        hdrs[2 * i].value = f->id;
        hdrs[2 * i].value_len = strlen(f->id);
        m->n_headers = 1;
        if (f->image) {
            hdrs[2 * i + 1].key = "image"; /* sim.h's FIRN_SIM_IMAGE_HEADER */
            hdrs[2 * i + 1].value = f->image;
            hdrs[2 * i + 1].value_len = f->image_len;
            m->n_headers = 2;
        }
    }
    rc = firn_stream_append(c->s, c->o.topic, msgs, n, NULL, NULL, err);
    free(msgs);
    free(hdrs);
    if (rc) {
        /* nothing may be assumed written: recover() decides what reached the log */
        firn_error e;
        firn_error_init(&e);
        if (recover(c, &e) != 0) firn_error_release(&e);
        return FIRN_WRAP(err, err->kind, "append %zu frames to %s", n, c->o.topic);
    }
    firn_io_crash_point("collect.after-append");
    for (size_t i = 0; i < n && rc == 0; i++) {
        frame *f = batch[i];
        rc = move_into(c, c->done, f->sidecar, err);
        if (i == n / 2) firn_io_crash_point("collect.mid-move");
        for (size_t j = 0; rc == 0 && j < f->nimages; j++) rc = move_into(c, c->done, f->images[j], err);
        if (rc == 0) {
            c->st.appended++;
            if (!f->image) c->st.sidecar_only++;
        }
    }
    if (rc == 0 && (rc = fsync_dir(c->done, err)) == 0 && (rc = fsync_dir(c->dir, err)) == 0)
        rc = clear_pending(c, err);
    return rc;
}

int firn_collect_scan(firn_collect *c, int64_t *next_due_us, firn_error *err) {
    if (next_due_us) *next_due_us = 0;
    frame_list l = {0};
    int rc = list_frames(c, &l, err);
    if (rc) return rc;
    int64_t now = firn_now_us();
    int64_t due = 0;
    c->st.waiting = 0;
    frame **batch = firn_xcalloc(c->o.batch_max ? c->o.batch_max : 64, sizeof *batch);
    size_t bmax = c->o.batch_max ? c->o.batch_max : 64, nb = 0;
    bool failed_any = false;
    for (size_t i = 0; i < l.n && rc == 0; i++) {
        frame *f = &l.v[i];
        int64_t age = now - f->newest_us;
        bool lone = !f->sidecar || f->nimages == 0;
        if (lone && age < c->o.grace_us) {
            c->st.waiting++;
            int64_t left = c->o.grace_us - age;
            if (!due || left < due) due = left;
            continue;
        }
        char why[1024] = "";
        if (!f->sidecar) {
            snprintf(why, sizeof why, "image without sidecar: no %s.json arrived within the grace "
                     "period", f->stem);
        } else if (f->nimages > 1) {
            snprintf(why, sizeof why, "%zu images for sidecar %s: which one is the frame's is "
                     "ambiguous", f->nimages, f->sidecar);
        } else {
            read_frame(c, f, why, sizeof why);
        }
        if (why[0]) {
            rc = fail_frame(c, f, why, err);
            failed_any = true;
            continue;
        }
        batch[nb++] = f;
        if (nb == bmax) {
            rc = append_batch(c, batch, nb, err);
            nb = 0;
        }
    }
    if (rc == 0) rc = append_batch(c, batch, nb, err);
    if (rc == 0 && failed_any && (rc = fsync_dir(c->failed, err)) == 0) rc = fsync_dir(c->dir, err);
    free(batch);
    for (size_t i = 0; i < l.n; i++) frame_release(&l.v[i]);
    free(l.v);
    if (next_due_us) *next_due_us = due;
    return rc;
}
