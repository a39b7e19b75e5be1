/*
 * spool_read.c - reading the spool: consumers (assign, subscribe, seek, poll,
 * commit) and random access by offset (firn_stream_get).
 *
 * A consumer keeps, per assigned partition, its own file descriptor on the
 * segment it reads and a byte position, and fills one buffer per partition and
 * poll with a single pread; records point into that buffer. It never takes a
 * partition's locks for the read itself: a frame is accepted only when complete
 * with a matching CRC, so an append in flight (in any process) is invisible.
 * In this process it also stops at bytes written but not yet fsynced (vis_base,
 * vis_pos), so a consumer never sees a record its append has not acknowledged.
 * Appends by this process wake waiting consumers at once; another process's
 * appends are noticed within POLL_TICK_MS.
 */
#include "stream/spool_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define POLL_TICK_MS 10
#define READ_CHUNK (2u << 20)

typedef struct cpos {
    char *topic;
    int32_t partition;
    spool_part *part;
    int64_t next;     /* next offset to return */
    int fd;           /* -1: position not resolved to a segment yet */
    int64_t seg_base;
    uint64_t pos;     /* byte position of a frame at or before next */
    uint8_t *buf;
    size_t cap;
} cpos;

typedef struct spool_consumer {
    firn_consumer base;
    cpos *tps;
    size_t n;
    size_t rr;
    bool subscribed;
    firn_buf recs; /* firn_record[] */
    firn_buf hdrs; /* firn_header[] */
    firn_buf hidx; /* size_t[]: first header of each record */
} spool_consumer;

static spool *stream_of(firn_consumer *c) { return (spool *)c->stream; }

static void cpos_release(cpos *cp) {
    if (cp->fd >= 0) close(cp->fd);
    free(cp->buf);
    free(cp->topic);
}

static void clear_assignment(spool_consumer *sc) {
    for (size_t i = 0; i < sc->n; i++) cpos_release(&sc->tps[i]);
    free(sc->tps);
    sc->tps = NULL;
    sc->n = 0;
}

int firn_spool_consumer_open(firn_stream *st, const firn_consumer_options *o,
                             firn_consumer **out, firn_error *err) {
    (void)err;
    spool_consumer *sc = firn_xcalloc(1, sizeof *sc);
    sc->base.stream = st;
    sc->base.opts = *o;
    if (!sc->base.opts.max_poll_records) sc->base.opts.max_poll_records = 10000;
    if (!sc->base.opts.max_poll_bytes) sc->base.opts.max_poll_bytes = 64u << 20;
    firn_buf_init(&sc->recs);
    firn_buf_init(&sc->hdrs);
    firn_buf_init(&sc->hidx);
    *out = &sc->base;
    return 0;
}

void firn_spool_consumer_close(firn_consumer *c) {
    spool_consumer *sc = (spool_consumer *)c;
    if (sc->subscribed && sc->base.opts.on_rebalance && sc->n) {
        firn_topic_partition *tps = firn_xmalloc(sc->n * sizeof *tps);
        for (size_t i = 0; i < sc->n; i++)
            tps[i] = (firn_topic_partition){sc->tps[i].topic, sc->tps[i].partition, sc->tps[i].next};
        sc->base.opts.on_rebalance(sc->base.opts.rebalance_ctx, false, tps, sc->n);
        free(tps);
    }
    clear_assignment(sc);
    firn_buf_release(&sc->recs);
    firn_buf_release(&sc->hdrs);
    firn_buf_release(&sc->hidx);
    free(sc);
}

int firn_spool_assign(firn_consumer *c, const firn_topic_partition *tps, size_t n,
                      firn_error *err) {
    spool_consumer *sc = (spool_consumer *)c;
    cpos *list = firn_xcalloc(n ? n : 1, sizeof *list);
    for (size_t i = 0; i < n; i++) {
        spool_part *p;
        if (tps[i].offset < 0 || firn_spool_part(stream_of(c), tps[i].topic, tps[i].partition,
                                                 &p, err) != 0) {
            if (tps[i].offset < 0)
                FIRN_RAISE(err, FIRN_ERR_INVALID, "spool: assign %s/%d at offset %lld",
                           tps[i].topic, tps[i].partition, (long long)tps[i].offset);
            for (size_t j = 0; j < i; j++) free(list[j].topic);
            free(list);
            return -(int)err->kind;
        }
        list[i] = (cpos){.topic = firn_xstrdup(tps[i].topic), .partition = tps[i].partition,
                         .part = p, .next = tps[i].offset, .fd = -1};
    }
    clear_assignment(sc);
    sc->tps = list;
    sc->n = n;
    sc->rr = 0;
    return 0;
}

int firn_spool_subscribe(firn_consumer *c, const char *const *topics, size_t n,
                         firn_error *err) {
    spool_consumer *sc = (spool_consumer *)c;
    firn_topic_partition *tps = NULL;
    size_t cnt = 0;
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        int32_t np;
        if ((rc = firn_stream_partitions(c->stream, topics[i], &np, err)) != 0) break;
        tps = firn_xrealloc(tps, (cnt + (size_t)np) * sizeof *tps);
        for (int32_t pt = 0; pt < np && rc == 0; pt++) {
            firn_watermarks w;
            rc = firn_stream_watermarks(c->stream, topics[i], pt, &w, err);
            tps[cnt++] = (firn_topic_partition){topics[i], pt, w.low};
        }
    }
    if (rc == 0 && c->opts.on_rebalance) c->opts.on_rebalance(c->opts.rebalance_ctx, true, tps, cnt);
    if (rc == 0) rc = firn_spool_assign(c, tps, cnt, err);
    if (rc == 0) sc->subscribed = true;
    free(tps);
    return rc;
}

int firn_spool_seek(firn_consumer *c, const char *topic, int32_t partition, int64_t offset,
                    firn_error *err) {
    spool_consumer *sc = (spool_consumer *)c;
    if (offset < 0)
        return FIRN_RAISE(err, FIRN_ERR_INVALID, "spool: seek %s/%d to offset %lld", topic,
                          partition, (long long)offset);
    for (size_t i = 0; i < sc->n; i++) {
        cpos *cp = &sc->tps[i];
        if (cp->partition != partition || strcmp(cp->topic, topic) != 0) continue;
        if (cp->fd >= 0) close(cp->fd);
        cp->fd = -1;
        cp->next = offset;
        return 0;
    }
    return FIRN_RAISE(err, FIRN_ERR_INVALID, "spool: seek on %s/%d, which is not assigned",
                      topic, partition);
}

/* Find the segment and byte position of cp->next; leaves cp unresolved when
 * the offset is not written yet. */
static int resolve(cpos *cp, firn_error *err) {
    spool_part *p = cp->part;
    for (int attempt = 0; attempt < 5; attempt++) {
        pthread_mutex_lock(&p->mu);
        int rc = firn_spool_part_refresh(p, false, err);
        if (rc != 0) {
            pthread_mutex_unlock(&p->mu);
            return rc;
        }
        int64_t low = p->nsegs ? p->segs[0]->base : 0;
        int64_t high = p->nsegs ? p->segs[p->nsegs - 1]->next : 0;
        if (cp->next < low) {
            pthread_mutex_unlock(&p->mu);
            return FIRN_RAISE(err, FIRN_ERR_NOT_FOUND,
                              "spool: offset %lld of %s/%d was deleted by retention (the log "
                              "starts at %lld)",
                              (long long)cp->next, cp->topic, cp->partition, (long long)low);
        }
        if (!p->nsegs || cp->next > high) {
            pthread_mutex_unlock(&p->mu);
            return 0;
        }
        ssize_t si = firn_spool_find_seg(p, cp->next);
        const spool_seg *seg = p->segs[si];
        int64_t base = seg->base;
        uint64_t pos = firn_spool_seg_lookup(seg, cp->next);
        pthread_mutex_unlock(&p->mu);
        char path[4200];
        firn_spool_seg_path(p, base, "log", path, sizeof path);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0 && errno == ENOENT) continue; /* removed by retention meanwhile */
        if (fd < 0) {
            rc = FIRN_RAISE(err, FIRN_ERR_IO, "spool: cannot open segment: %s", strerror(errno));
            firn_error_context(err, "%s", path);
            return rc;
        }
        cp->fd = fd;
        cp->seg_base = base;
        cp->pos = pos;
        return 0;
    }
    return FIRN_RAISE(err, FIRN_ERR_IO, "spool: %s/%d: segments keep disappearing", cp->topic,
                      cp->partition);
}

static void emit(spool_consumer *sc, cpos *cp, const spool_frame *f) {
    firn_record *r = (firn_record *)firn_buf_extend(&sc->recs, sizeof *r);
    r->topic = cp->topic;
    r->partition = cp->partition;
    r->offset = f->offset;
    r->timestamp_ms = f->timestamp_ms;
    r->key = f->key;
    r->key_len = f->key_len;
    r->value = f->value;
    r->value_len = f->value_len;
    r->headers = NULL;
    r->n_headers = f->n_headers;
    size_t first = sc->hdrs.len / sizeof(firn_header);
    memcpy(firn_buf_extend(&sc->hidx, sizeof first), &first, sizeof first);
    if (f->n_headers) {
        firn_header *h = (firn_header *)firn_buf_extend(&sc->hdrs, f->n_headers * sizeof *h);
        firn_spool_frame_headers(f, h);
    }
}

/* Read what one pread brings of cp's partition; *nrec and *nbytes count what
 * this poll returned so far. */
static int read_part(spool_consumer *sc, cpos *cp, size_t *nrec, size_t *nbytes,
                     firn_error *err) {
    spool_part *p = cp->part;
    const firn_consumer_options *o = &sc->base.opts;
    bool rechecked = false;
    int next_fd = -1;
    size_t emitted = 0;
    for (;;) {
        uint64_t limit = UINT64_MAX;
        pthread_mutex_lock(&p->mu);
        if (p->vis_base >= 0) {
            if (cp->seg_base == p->vis_base) limit = p->vis_pos;
            else if (cp->seg_base > p->vis_base) limit = cp->pos;
        }
        pthread_mutex_unlock(&p->mu);
        if (!cp->buf) {
            cp->cap = o->max_poll_bytes < READ_CHUNK ? o->max_poll_bytes : READ_CHUNK;
            if (cp->cap < 4096) cp->cap = 4096;
            cp->buf = firn_xmalloc(cp->cap);
        }
        size_t want = cp->cap;
        bool limited = false;
        if (limit <= cp->pos) {
            want = 0;
            limited = true;
        } else if (limit - cp->pos < want) {
            want = (size_t)(limit - cp->pos);
            limited = true;
        }
        ssize_t got = 0;
        while (want && (got = pread(cp->fd, cp->buf, want, (off_t)cp->pos)) < 0 && errno == EINTR) {
        }
        if (got < 0) {
            int rc = FIRN_RAISE(err, FIRN_ERR_IO, "spool: cannot read %s/%d: %s", cp->topic,
                                cp->partition, strerror(errno));
            if (next_fd >= 0) close(next_fd);
            return rc;
        }
        size_t at = 0, avail = (size_t)got;
        bool budget = false;
        spool_frame f = {0};
        int pr = 0;
        while ((pr = firn_spool_frame_parse(cp->buf + at, avail - at, &f)) == 1) {
            if (f.offset < cp->next) { /* before the seek target */
                at += f.len;
                cp->pos += f.len;
                continue;
            }
            if (f.offset != cp->next) {
                if (next_fd >= 0) close(next_fd);
                return FIRN_RAISE(err, FIRN_ERR_CORRUPT,
                                  "spool: %s/%d: expected offset %lld, found %lld", cp->topic,
                                  cp->partition, (long long)cp->next, (long long)f.offset);
            }
            if (*nrec >= o->max_poll_records || (*nrec && *nbytes + f.len > o->max_poll_bytes)) {
                budget = true;
                break;
            }
            emit(sc, cp, &f);
            emitted++;
            (*nrec)++;
            *nbytes += f.len;
            at += f.len;
            cp->pos += f.len;
            cp->next++;
        }
        if (budget || emitted) break;
        if (at > 0) continue; /* only skipped frames: read on from the new position */
        /* nothing usable at cp->pos */
        if (pr == 0 && f.len > cp->cap && (limit == UINT64_MAX || cp->pos + f.len <= limit)) {
            struct stat st;
            if (fstat(cp->fd, &st) == 0 && (uint64_t)st.st_size >= cp->pos + f.len) {
                free(cp->buf);
                cp->cap = f.len;
                cp->buf = firn_xmalloc(cp->cap);
                continue;
            }
        }
        if (limited || cp->next == cp->seg_base) break; /* no next segment before a record */
        if (next_fd < 0) {
            char path[4200];
            firn_spool_seg_path(p, cp->next, "log", path, sizeof path);
            next_fd = open(path, O_RDONLY | O_CLOEXEC);
            if (next_fd < 0) break; /* the end of the log, for now */
            if (!rechecked) { /* the segment is sealed now: read its end once more */
                rechecked = true;
                continue;
            }
        }
        close(cp->fd);
        cp->fd = next_fd;
        next_fd = -1;
        cp->seg_base = cp->next;
        cp->pos = 0;
        rechecked = false;
    }
    if (next_fd >= 0) close(next_fd);
    return 0;
}

static void wait_for_appends(spool *s, uint64_t gen, int ms) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_nsec += (long)ms * 1000000L;
    ts.tv_sec += ts.tv_nsec / 1000000000L;
    ts.tv_nsec %= 1000000000L;
    pthread_mutex_lock(&s->data_mu);
    while (s->append_gen == gen)
        if (pthread_cond_timedwait(&s->data_cv, &s->data_mu, &ts) != 0) break;
    pthread_mutex_unlock(&s->data_mu);
}

int firn_spool_poll(firn_consumer *c, int timeout_ms, const firn_record **records, size_t *n,
                    firn_error *err) {
    spool_consumer *sc = (spool_consumer *)c;
    spool *s = stream_of(c);
    firn_buf_clear(&sc->recs);
    firn_buf_clear(&sc->hdrs);
    firn_buf_clear(&sc->hidx);
    uint64_t deadline = firn_now_ns() + (uint64_t)(timeout_ms > 0 ? timeout_ms : 0) * 1000000ull;
    for (;;) {
        pthread_mutex_lock(&s->data_mu);
        uint64_t gen = s->append_gen;
        pthread_mutex_unlock(&s->data_mu);
        size_t nrec = 0, nbytes = 0;
        for (size_t k = 0; k < sc->n; k++) {
            cpos *cp = &sc->tps[(sc->rr + k) % sc->n];
            if (cp->fd < 0 && resolve(cp, err) != 0) return -(int)err->kind;
            if (cp->fd >= 0 && read_part(sc, cp, &nrec, &nbytes, err) != 0)
                return -(int)err->kind;
            if (nrec >= c->opts.max_poll_records || nbytes >= c->opts.max_poll_bytes) break;
        }
        if (sc->n) sc->rr = (sc->rr + 1) % sc->n;
        if (nrec) {
            firn_record *r = (firn_record *)sc->recs.data;
            const size_t *first = (const size_t *)sc->hidx.data;
            for (size_t i = 0; i < nrec; i++)
                if (r[i].n_headers) r[i].headers = (const firn_header *)sc->hdrs.data + first[i];
            *records = r;
            *n = nrec;
            return 0;
        }
        uint64_t now = firn_now_ns();
        if (timeout_ms >= 0 && now >= deadline) return 0;
        int ms = POLL_TICK_MS;
        if (timeout_ms >= 0 && (deadline - now) / 1000000ull < (uint64_t)ms)
            ms = (int)((deadline - now) / 1000000ull) + 1;
        wait_for_appends(s, gen, ms);
    }
}

int firn_spool_commit(firn_consumer *c, const firn_topic_partition *tps, size_t n,
                      firn_error *err) {
    const char *group = c->opts.group;
    if (!group || !*group || strchr(group, '/') || group[0] == '.')
        return FIRN_RAISE(err, FIRN_ERR_INVALID,
                          "spool: commit needs a consumer group name (no '/', not starting "
                          "with '.')");
    spool *s = stream_of(c);
    char dir[4200], path[4400], tmp[4400];
    snprintf(dir, sizeof dir, "%s/.groups", s->dir);
    if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
        int rc = FIRN_RAISE(err, FIRN_ERR_IO, "spool: cannot create: %s", strerror(errno));
        firn_error_context(err, "%s", dir);
        return rc;
    }
    snprintf(path, sizeof path, "%s/%s.offsets", dir, group);
    snprintf(tmp, sizeof tmp, "%s/.%s.offsets.%ld", dir, group, (long)getpid());
    /* merge with what is there: "topic partition offset" lines */
    firn_buf out;
    firn_buf_init(&out);
    uint8_t *old = NULL;
    size_t len = 0;
    firn_error e;
    firn_error_init(&e);
    if (firn_read_file(path, &old, &len, &e) == 0) {
        char *save = NULL;
        for (char *line = strtok_r((char *)old, "\n", &save); line;
             line = strtok_r(NULL, "\n", &save)) {
            char topic[256];
            int part;
            long long off;
            if (sscanf(line, "%255s %d %lld", topic, &part, &off) != 3) continue;
            bool replaced = false;
            for (size_t i = 0; i < n; i++)
                if (tps[i].partition == part && strcmp(tps[i].topic, topic) == 0) replaced = true;
            if (!replaced) firn_buf_appendf(&out, "%s %d %lld\n", topic, part, off);
        }
    }
    firn_error_release(&e);
    free(old);
    for (size_t i = 0; i < n; i++)
        firn_buf_appendf(&out, "%s %d %lld\n", tps[i].topic, tps[i].partition,
                         (long long)tps[i].offset);
    int rc = firn_write_file(tmp, out.data, out.len, err);
    if (rc == 0 && rename(tmp, path) != 0) {
        rc = FIRN_RAISE(err, FIRN_ERR_IO, "spool: cannot rename: %s", strerror(errno));
        firn_error_context(err, "%s", path);
    }
    firn_buf_release(&out);
    return rc;
}

/* ------------------------------------------------------------ random access */

int firn_spool_get(firn_stream *st, const char *topic, int32_t partition, int64_t offset,
                   firn_record **out, firn_error *err) {
    spool_part *p;
    if (firn_spool_part((spool *)st, topic, partition, &p, err) != 0) return -1;
    pthread_mutex_lock(&p->mu);
    int rc = 0;
    if (!p->nsegs || offset >= p->segs[p->nsegs - 1]->next || offset < p->segs[0]->base)
        rc = firn_spool_part_refresh(p, false, err);
    ssize_t si = rc == 0 ? firn_spool_find_seg(p, offset) : -1;
    if (rc == 0 && (si < 0 || offset >= p->segs[si]->next)) {
        int64_t low = p->nsegs ? p->segs[0]->base : 0;
        int64_t high = p->nsegs ? p->segs[p->nsegs - 1]->next : 0;
        pthread_mutex_unlock(&p->mu);
        return FIRN_RAISE(err, FIRN_ERR_NOT_FOUND,
                          "spool: no offset %lld in %s/%d (the log holds [%lld, %lld))",
                          (long long)offset, topic, partition, (long long)low, (long long)high);
    }
    spool_seg *seg = rc == 0 ? p->segs[si] : NULL;
    if (rc == 0 && seg->rfd < 0) {
        char path[4200];
        firn_spool_seg_path(p, seg->base, "log", path, sizeof path);
        seg->rfd = open(path, O_RDONLY | O_CLOEXEC);
        if (seg->rfd < 0) {
            rc = FIRN_RAISE(err, FIRN_ERR_IO, "spool: cannot open segment: %s", strerror(errno));
            firn_error_context(err, "%s", path);
        }
    }
    if (rc != 0) {
        pthread_mutex_unlock(&p->mu);
        return rc;
    }
    uint64_t pos = firn_spool_seg_lookup(seg, offset);
    seg->readers++;
    int fd = seg->rfd;
    pthread_mutex_unlock(&p->mu);

    size_t cap = 8192;
    uint8_t *buf = firn_xmalloc(cap);
    spool_frame f;
    size_t at = 0;
    for (;;) {
        ssize_t got = pread(fd, buf, cap, (off_t)pos);
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) {
            rc = FIRN_RAISE(err, FIRN_ERR_IO, "spool: cannot read %s/%d: %s", topic, partition,
                            strerror(errno));
            break;
        }
        at = 0;
        int pr;
        bool found = false;
        while ((pr = firn_spool_frame_parse(buf + at, (size_t)got - at, &f)) == 1) {
            if (f.offset == offset) {
                found = true;
                break;
            }
            at += f.len;
        }
        if (found) break;
        if (pr == 0 && at == 0 && f.len > cap && (size_t)got == cap) {
            cap = f.len;
            free(buf);
            buf = firn_xmalloc(cap);
            continue;
        }
        if (pr == 0 && at > 0) {
            pos += at;
            continue;
        }
        rc = FIRN_RAISE(err, FIRN_ERR_CORRUPT,
                        "spool: offset %lld of %s/%d is not where the index points", (long long)offset,
                        topic, partition);
        break;
    }
    pthread_mutex_lock(&p->mu);
    firn_spool_seg_unref(seg);
    pthread_mutex_unlock(&p->mu);
    if (rc != 0) {
        free(buf);
        return rc;
    }
    /* one block: record, headers, topic, then a copy of the frame it points into */
    size_t tl = strlen(topic) + 1;
    size_t hsz = f.n_headers * sizeof(firn_header);
    firn_record *r = firn_xmalloc(sizeof *r + hsz + tl + f.len);
    firn_header *h = (firn_header *)(r + 1);
    char *tcopy = (char *)h + hsz;
    uint8_t *frame = (uint8_t *)tcopy + tl;
    memcpy(tcopy, topic, tl);
    memcpy(frame, buf + at, f.len);
    free(buf);
    spool_frame g;
    firn_spool_frame_parse(frame, f.len, &g);
    firn_spool_frame_headers(&g, h);
    *r = (firn_record){.topic = tcopy, .partition = partition, .offset = g.offset,
                       .timestamp_ms = g.timestamp_ms, .key = g.key, .key_len = g.key_len,
                       .value = g.value, .value_len = g.value_len,
                       .headers = g.n_headers ? h : NULL, .n_headers = g.n_headers};
    *out = r;
    return 0;
}
