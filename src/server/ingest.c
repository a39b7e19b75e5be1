/* ingest.c - POST /v1/events: one JSON event, NDJSON, or multipart (JSON +
 * image), appended to the raw topic in sim.h's envelope in one durable append;
 * and the dedupe window that makes retries idempotent across restarts
 * (<server.state-dir>/ingest-dedupe.log). */
#include "server/server_internal.h"

#include "pipeline/pipeline.h"
#include "pipeline/validate.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#define IMAGE_HEADER "image" /* sim.h's FIRN_SIM_IMAGE_HEADER */
#define ID_FIELD "eventId"
#define MAX_ID 256

/* ------------------------------------------------------------ dedupe window */

typedef struct dd_entry {
    uint64_t h[2]; /* the payload hash; h[0] also picks the hash slot */
    int32_t partition;
    int64_t offset;
    int64_t at_us;
    bool pending;            /* its request is appending: not yet acknowledged */
    uint16_t idlen;          /* strlen(id) (at most MAX_ID) */
    struct dd_entry *chain;  /* hash slot */
    struct dd_entry *newer;  /* FIFO by time */
    char id[];               /* the eventId */
} dd_entry;

struct firn_dedupe {
    pthread_mutex_t mu;
    char *path;
    int fd;
    dd_entry **slots;
    size_t nslots, n;
    dd_entry *oldest, *newest;
    int64_t window_us;
    int64_t last_sync_us;
    size_t file_lines;
};

/* An event is known by its id and its payload: a retry repeats both. The same
 * id with another payload is a different event (the pipeline's duplicate rule
 * judges it), and both stay known, so a retry of either is recognised. */
static dd_entry *dd_find(firn_dedupe *d, const char *id, size_t idlen, const uint64_t h[2]) {
    for (dd_entry *e = d->slots[h[0] & (d->nslots - 1)]; e; e = e->chain)
        if (e->h[0] == h[0] && e->h[1] == h[1] && !e->pending && e->idlen == idlen &&
            !memcmp(e->id, id, idlen))
            return e;
    return NULL;
}

static void dd_unlink(firn_dedupe *d, dd_entry *x) {
    dd_entry **p = &d->slots[x->h[0] & (d->nslots - 1)];
    while (*p && *p != x) p = &(*p)->chain;
    if (*p) *p = x->chain;
}

/* Forget what left the window (a pending entry, and what follows it, stays:
 * its request holds it). */
static void dd_expire(firn_dedupe *d, int64_t now) {
    while (d->oldest && !d->oldest->pending && d->oldest->at_us < now - d->window_us) {
        dd_entry *e = d->oldest;
        d->oldest = e->newer;
        if (!d->oldest) d->newest = NULL;
        dd_unlink(d, e);
        free(e);
        d->n--;
    }
}

/* Insert (an entry of the same id and payload keeps its first offsets). */
static dd_entry *dd_insert(firn_dedupe *d, const char *id, size_t idlen, const uint64_t h[2],
                           int32_t part, int64_t off, int64_t at, bool pending);

static dd_entry *dd_put(firn_dedupe *d, const char *id, const uint64_t h[2], int32_t part,
                        int64_t off, int64_t at, bool pending) {
    size_t idlen = strlen(id);
    if (idlen > MAX_ID) return NULL; /* not from this server's log */
    dd_entry *old = dd_find(d, id, idlen, h);
    if (old) return old;
    return dd_insert(d, id, idlen, h, part, off, at, pending);
}

/* Insert an entry known not to be there (no lookup); idlen <= MAX_ID. */
static dd_entry *dd_insert(firn_dedupe *d, const char *id, size_t idlen, const uint64_t h[2],
                           int32_t part, int64_t off, int64_t at, bool pending) {
    if (d->n >= d->nslots) { /* keep chains short: double the slots */
        free(d->slots);
        d->nslots *= 2;
        d->slots = firn_xcalloc(d->nslots, sizeof *d->slots);
        for (dd_entry *x = d->oldest; x; x = x->newer) {
            size_t k = x->h[0] & (d->nslots - 1);
            x->chain = d->slots[k];
            d->slots[k] = x;
        }
    }
    dd_entry *e = firn_xmalloc(sizeof *e + idlen + 1);
    e->pending = pending;
    e->idlen = (uint16_t)idlen;
    e->newer = NULL;
    memcpy(e->id, id, idlen);
    e->id[idlen] = 0;
    e->h[0] = h[0], e->h[1] = h[1];
    e->partition = part;
    e->offset = off;
    e->at_us = at;
    size_t k = h[0] & (d->nslots - 1);
    e->chain = d->slots[k];
    d->slots[k] = e;
    if (d->newest) d->newest->newer = e;
    else d->oldest = e;
    d->newest = e;
    d->n++;
    return e;
}

/* Drop a pending entry whose append failed. */
static void dd_drop(firn_dedupe *d, dd_entry *x) {
    dd_unlink(d, x);
    dd_entry **p = &d->oldest, *prev = NULL;
    while (*p && *p != x) prev = *p, p = &(*p)->newer;
    if (*p) *p = x->newer;
    if (d->newest == x) d->newest = prev;
    free(x);
    d->n--;
}

/* The log's lines: "AT HASH PARTITION OFFSET ID" for an acknowledged event,
 * "AT HASH P ID" for one whose append started (written before the append, so
 * a kill between the append and its acknowledgement line leaves the intent:
 * the next start looks for it in the raw topic). */
static char *put_dec(char *p, int64_t v) {
    char tmp[24];
    int n = 0;
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    do tmp[n++] = (char)('0' + u % 10), u /= 10;
    while (u);
    if (v < 0) *p++ = '-';
    while (n) *p++ = tmp[--n];
    return p;
}

/* The two hex digits of every byte value, "000102...feff". */
static char hex_pairs[513];
static pthread_once_t hex_once = PTHREAD_ONCE_INIT;
static void hex_init(void) {
    static const char hex[] = "0123456789abcdef";
    for (int i = 0; i < 256; i++) hex_pairs[2 * i] = hex[i >> 4], hex_pairs[2 * i + 1] = hex[i & 15];
}

static char *put_hex16(char *p, uint64_t v) {
    for (int i = 7; i >= 0; i--, v >>= 8) memcpy(p + 2 * i, hex_pairs + 2 * (v & 0xff), 2);
    return p + 16;
}

/* The longest line: at, hash, partition and offset as decimals, the id. */
#define DD_LINE_MAX (24 + 1 + 32 + 1 + 12 + 1 + 24 + 1 + MAX_ID + 1)

/* One line, formatted by hand (this runs for every event twice): pending
 * (an intent: "P") or acknowledged at partition/offset. at: the time already
 * formatted (the events of one request share it), or NULL for at_us. The
 * caller reserved DD_LINE_MAX bytes. */
static void dd_format(firn_buf *b, int64_t at_us, const char *at, size_t atlen, const uint64_t h[2],
                      bool pending, int32_t partition, int64_t offset, const char *id, size_t idlen) {
    char *p = (char *)b->data + b->len;
    if (at) memcpy(p, at, atlen), p += atlen;
    else p = put_dec(p, at_us);
    *p++ = ' ';
    p = put_hex16(p, h[0]);
    p = put_hex16(p, h[1]);
    *p++ = ' ';
    if (pending) {
        *p++ = 'P';
    } else {
        p = put_dec(p, partition);
        *p++ = ' ';
        p = put_dec(p, offset);
    }
    *p++ = ' ';
    memcpy(p, id, idlen);
    p += idlen;
    *p++ = '\n';
    b->len = (size_t)(p - (char *)b->data);
}

static void dd_line(firn_buf *b, const dd_entry *e) {
    firn_buf_reserve(b, DD_LINE_MAX);
    dd_format(b, e->at_us, NULL, 0, e->h, e->pending, e->partition, e->offset, e->id, e->idlen);
}

/* Write lines to the log (mu held). A failed write leaves the window in memory
 * only: said on stderr. */
static void dd_write(firn_dedupe *d, const firn_buf *line) {
    if (!line->len || d->fd < 0) return;
    size_t done = 0;
    while (done < line->len) {
        ssize_t w = write(d->fd, line->data + done, line->len - done);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) break;
        done += (size_t)w;
    }
    if (done < line->len) fprintf(stderr, "firn serve: dedupe log %s: %s\n", d->path, strerror(errno));
}

/* Rewrite the log with the live entries only (tmp + rename). mu held or single-threaded. */
static int dd_compact(firn_dedupe *d, firn_error *err) {
    firn_buf b;
    firn_buf_init(&b);
    for (dd_entry *e = d->oldest; e; e = e->newer) dd_line(&b, e);
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", d->path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        firn_buf_release(&b);
        return FIRN_RAISE(err, FIRN_ERR_IO, "%s: %s", tmp, strerror(errno));
    }
    size_t done = 0;
    while (done < b.len) {
        ssize_t w = write(fd, b.data + done, b.len - done);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) {
            close(fd);
            firn_buf_release(&b);
            return FIRN_RAISE(err, FIRN_ERR_IO, "%s: %s", tmp, strerror(errno));
        }
        done += (size_t)w;
    }
    firn_buf_release(&b);
    if (fdatasync(fd) != 0 || close(fd) != 0 || rename(tmp, d->path) != 0)
        return FIRN_RAISE(err, FIRN_ERR_IO, "%s: %s", d->path, strerror(errno));
    if (d->fd >= 0) close(d->fd);
    d->fd = open(d->path, O_WRONLY | O_APPEND | O_CLOEXEC);
    if (d->fd < 0) return FIRN_RAISE(err, FIRN_ERR_IO, "%s: %s", d->path, strerror(errno));
    d->file_lines = d->n;
    return 0;
}

static int mkdirs(const char *path, firn_error *err) {
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s", path);
    for (char *p = tmp + 1; *p; p++)
        if (*p == '/') {
            *p = 0;
            if (mkdir(tmp, 0755) != 0 && errno != EEXIST) break;
            *p = '/';
        }
    if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
        return FIRN_RAISE(err, FIRN_ERR_IO, "cannot create %s: %s", tmp, strerror(errno));
    return 0;
}

/* The id and payload hash of one event as appended: its eventId (NULL when it
 * has none usable) and xxh64 of value and image under two seeds. */
static void payload_hash(const char *value, size_t len, const uint8_t *image, size_t ilen,
                         uint64_t h[2]) {
    XXH128_hash_t x = XXH3_128bits(value, len);
    if (image) { /* the image's hash, seeded by the value's */
        XXH128_hash_t xi = XXH3_128bits_withSeed(image, ilen, x.low64);
        x.low64 = xi.low64;
        x.high64 ^= xi.high64;
    }
    h[0] = x.low64;
    h[1] = x.high64;
}

static const firn_event_limits ID_LIMITS = {
    .max_event_bytes = SIZE_MAX, .max_field_bytes = SIZE_MAX, .max_depth = 1 << 20,
    .max_fields = SIZE_MAX, .blob_field = NULL};

/* An eventId usable as a dedupe key: a string of at most MAX_ID bytes, no
 * newline or NUL (the log is text). NULL otherwise. */
static const firn_event_field *usable_id(const firn_event *ev) {
    const firn_event_field *f = firn_event_get(ev, ID_FIELD, sizeof ID_FIELD - 1);
    if (!f || f->kind != FIRN_JSON_STRING || f->value_len > MAX_ID || f->value_len == 0 ||
        memchr(f->value, '\n', f->value_len) || memchr(f->value, 0, f->value_len))
        return NULL;
    return f;
}

typedef struct pending_id {
    const char *id;
    uint64_t h[2];
    int64_t at_us;
    bool found;
} pending_id;

typedef struct pending_list {
    pending_id *v;
    size_t n;
} pending_list;

/* Intents without an acknowledgement line: the server died while appending
 * them, or after the append and before the line. Look for each in the raw
 * topic's records since the oldest intent (walking each partition back from
 * its end): one that is there was appended, and becomes a known event with its
 * offsets, so the client's retry is acknowledged without a second append; one
 * that is not there is forgotten, and its retry appended. */
static void dd_recover(firn_server *s, firn_dedupe *d, pending_list *pl) {
    size_t left = 0;
    int64_t oldest = INT64_MAX;
    for (size_t i = 0; i < pl->n; i++) {
        pending_id *p = &pl->v[i];
        if (dd_find(d, p->id, strlen(p->id), p->h)) p->found = true;
        for (size_t k = 0; k < i && !p->found; k++)
            if (pl->v[k].h[0] == p->h[0] && pl->v[k].h[1] == p->h[1] && !strcmp(pl->v[k].id, p->id))
                p->found = true; /* the same intent twice: one look is enough */
        if (p->found) continue;
        left++;
        if (p->at_us < oldest) oldest = p->at_us;
    }
    if (!left) return;
    const char *topic = s->cfg->stream_raw_topic;
    firn_error err;
    firn_error_init(&err);
    firn_event ev;
    firn_event_init(&ev);
    size_t recovered = 0, scanned = 0;
    for (int32_t part = 0; part < s->raw_partitions && left; part++) {
        firn_watermarks wm;
        if (firn_stream_watermarks(s->stream, topic, part, &wm, &err)) break;
        for (int64_t off = wm.high - 1; off >= wm.low && left; off--) {
            firn_record *r = NULL;
            if (firn_stream_get(s->stream, topic, part, off, &r, &err)) goto out;
            scanned++;
            /* records carry their append time in ms; an intent is written before its append */
            bool older = r->timestamp_ms * 1000 < oldest - 2000000;
            const firn_event_field *f = NULL;
            if (!older && !firn_event_parse(&ev, r->value, r->value_len, &ID_LIMITS))
                f = usable_id(&ev);
            if (f) {
                size_t ilen = 0;
                const uint8_t *img = firn_record_header(r, IMAGE_HEADER, &ilen);
                uint64_t h[2];
                payload_hash(r->value, r->value_len, img, ilen, h);
                for (size_t i = 0; i < pl->n; i++) {
                    pending_id *p = &pl->v[i];
                    if (p->found || p->h[0] != h[0] || p->h[1] != h[1] ||
                        strlen(p->id) != f->value_len || memcmp(p->id, f->value, f->value_len))
                        continue;
                    p->found = true;
                    left--;
                    recovered++;
                    dd_put(d, p->id, p->h, part, off, p->at_us, false);
                }
            }
            firn_stream_record_release(r);
            if (older) break;
        }
    }
out:
    if (err.kind) {
        char buf[512];
        fprintf(stderr, "firn serve: dedupe recovery (%zu ids of an interrupted run were not "
                        "looked up; their retries are appended again): %s\n",
                left, firn_error_format(&err, buf, sizeof buf));
    }
    if (recovered)
        fprintf(stderr, "firn serve: %zu events appended by the last run before it stopped are "
                        "known (%zu raw records read)\n", recovered, scanned);
    firn_event_release(&ev);
    firn_error_release(&err);
}

int firn_dedupe_open(firn_server *s, firn_error *err) {
    if (mkdirs(s->cfg->server_state_dir, err)) return -1;
    pthread_once(&hex_once, hex_init);
    firn_dedupe *d = firn_xcalloc(1, sizeof *d);
    pthread_mutex_init(&d->mu, NULL);
    d->fd = -1;
    d->window_us = s->cfg->server_dedupe_window_us;
    d->nslots = 1 << 16;
    d->slots = firn_xcalloc(d->nslots, sizeof *d->slots);
    size_t plen = strlen(s->cfg->server_state_dir) + 32;
    d->path = firn_xmalloc(plen);
    snprintf(d->path, plen, "%s/ingest-dedupe.log", s->cfg->server_state_dir);
    s->dedupe = d;
    uint8_t *data = NULL;
    size_t len = 0;
    firn_error e2;
    firn_error_init(&e2);
    pending_list pend = {0};
    if (firn_read_file(d->path, &data, &len, &e2) == 0) {
        int64_t now = firn_now_us();
        char *p = (char *)data, *end = p + len;
        while (p < end) {
            char *nl = memchr(p, '\n', (size_t)(end - p));
            if (!nl) break; /* a torn last line: dropped */
            *nl = 0;
            long long at, off;
            unsigned long long h0, h1;
            int part, pos = 0;
            if (sscanf(p, "%lld %16llx%16llx %d %lld %n", &at, &h0, &h1, &part, &off, &pos) == 5 &&
                pos > 0 && p[pos] && at >= now - d->window_us) {
                uint64_t h[2] = {h0, h1};
                dd_put(d, p + pos, h, part, off, at, false);
            } else if (pos = 0, sscanf(p, "%lld %16llx%16llx P %n", &at, &h0, &h1, &pos) == 3 &&
                       pos > 0 && p[pos] && at >= now - d->window_us) {
                pend.v = firn_xrealloc(pend.v, (pend.n + 1) * sizeof *pend.v);
                pend.v[pend.n++] = (pending_id){p + pos, {h0, h1}, at, false};
            }
            p = nl + 1;
        }
        dd_recover(s, d, &pend);
        free(pend.v);
        free(data);
    }
    firn_error_release(&e2);
    return dd_compact(d, err);
}

void firn_dedupe_close(firn_dedupe *d) {
    if (!d) return;
    if (d->fd >= 0) {
        fdatasync(d->fd);
        close(d->fd);
    }
    for (dd_entry *e = d->oldest; e;) {
        dd_entry *next = e->newer;
        free(e);
        e = next;
    }
    free(d->slots);
    free(d->path);
    pthread_mutex_destroy(&d->mu);
    free(d);
}

/* ------------------------------------------------------------ events */

typedef struct ingest_event {
    const char *value; /* the record value */
    size_t value_len;
    char *value_owned;
    const uint8_t *image;
    size_t image_len;
    uint8_t *image_owned;
    char *key;  /* the key field's value, or NULL (in the request's arena) */
    char *id;   /* eventId, or NULL: never deduplicated (in the request's arena) */
    size_t id_len;
    size_t key_len;
    uint64_t h[2];
    struct dd_entry *dd; /* its pending entry in the window, while appending */
    int dup_of;     /* -1, or an earlier event of this request with the same id and payload */
    bool known;     /* acknowledged before (in the window) */
    int32_t partition;
    int64_t offset;
} ingest_event;

static int b64val(unsigned char c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+' || c == '-') return 62;
    if (c == '/' || c == '_') return 63;
    return -1;
}

/* Standard (or URL-safe) base64, padding optional. */
static int b64decode(const char *s, size_t n, uint8_t **out, size_t *outlen) {
    uint8_t *o = firn_xmalloc(n / 4 * 3 + 4);
    size_t k = 0;
    uint32_t acc = 0;
    int bits = 0;
    size_t i = 0;
    for (; i < n && s[i] != '='; i++) {
        int v = b64val((unsigned char)s[i]);
        if (v < 0) {
            free(o);
            return -1;
        }
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            o[k++] = (uint8_t)(acc >> bits);
        }
    }
    for (; i < n; i++)
        if (s[i] != '=') {
            free(o);
            return -1;
        }
    *out = o;
    *outlen = k;
    return 0;
}

static void event_release(ingest_event *e) {
    free(e->value_owned);
    free(e->image_owned);
}

/* The key and id copies of one request's events: a few blocks freed together
 * (a request of 100 events would otherwise make 200 small allocations). */
typedef struct str_block {
    struct str_block *next;
    size_t used, cap;
    char data[];
} str_block;

static char *arena_copy(str_block **a, const char *p, size_t n) {
    if (!*a || (*a)->cap - (*a)->used < n + 1) {
        size_t cap = n + 1 > 8192 ? n + 1 : 8192;
        str_block *b = firn_xmalloc(sizeof *b + cap);
        b->next = *a, b->used = 0, b->cap = cap;
        *a = b;
    }
    char *out = (*a)->data + (*a)->used;
    memcpy(out, p, n);
    out[n] = 0;
    (*a)->used += n + 1;
    return out;
}

static void arena_free(str_block *a) {
    while (a) {
        str_block *next = a->next;
        free(a);
        a = next;
    }
}

static void trim(const char **text, size_t *len) {
    const char *t = *text;
    size_t n = *len;
    while (n && (t[n - 1] == ' ' || t[n - 1] == '\n' || t[n - 1] == '\r' || t[n - 1] == '\t')) n--;
    while (n && (*t == ' ' || *t == '\n' || *t == '\r' || *t == '\t')) t++, n--;
    *text = t;
    *len = n;
}

/* The slow path: jansson, for an event with its image inline as base64 (the
 * field is cut out and the rest re-serialised) and for what the scanner
 * refuses but JSON allows (a repeated key). */
static int parse_event_tree(firn_server *s, str_block **arena, const char *text, size_t len, const uint8_t *image,
                            size_t image_len, ingest_event *e, char *why, size_t whyn) {
    json_error_t jerr;
    json_t *obj = json_loadb(text, len, 0, &jerr);
    if (!obj) {
        snprintf(why, whyn, "not JSON: %s at byte %d", jerr.text, jerr.position);
        return -1;
    }
    if (!json_is_object(obj)) {
        json_decref(obj);
        snprintf(why, whyn, "an event is a JSON object");
        return -1;
    }
    json_t *img = json_object_get(obj, IMAGE_HEADER);
    if (img && image) {
        json_decref(obj);
        snprintf(why, whyn, "the image is both a field and a file part");
        return -1;
    }
    if (img && !json_is_string(img) && !json_is_null(img)) {
        json_decref(obj);
        snprintf(why, whyn, "field 'image': want base64 text");
        return -1;
    }
    const char *k = s->cfg->key_field;
    json_t *kv = k ? json_object_get(obj, k) : NULL;
    if (kv && json_is_string(kv)) {
        e->key_len = strlen(json_string_value(kv));
        e->key = arena_copy(arena, json_string_value(kv), e->key_len);
    }
    json_t *idv = json_object_get(obj, ID_FIELD);
    if (idv && json_is_string(idv) && json_string_length(idv) <= MAX_ID &&
        json_string_length(idv) > 0 && !memchr(json_string_value(idv), '\n', json_string_length(idv)) &&
        strlen(json_string_value(idv)) == json_string_length(idv)) {
        e->id_len = json_string_length(idv);
        e->id = arena_copy(arena, json_string_value(idv), e->id_len);
    }
    if (img) {
        if (json_is_string(img) &&
            b64decode(json_string_value(img), json_string_length(img), &e->image_owned,
                      &e->image_len) != 0) {
            json_decref(obj);
            event_release(e);
            snprintf(why, whyn, "field 'image' is not base64");
            return -1;
        }
        e->image = e->image_owned;
        json_object_del(obj, IMAGE_HEADER);
        e->value_owned = json_dumps(obj, JSON_COMPACT);
        e->value = e->value_owned;
        e->value_len = strlen(e->value_owned);
    } else {
        trim(&text, &len);
        e->value = text;
        e->value_len = len;
        e->image = image;
        e->image_len = image_len;
    }
    json_decref(obj);
    return 0;
}

/* Parse one event's JSON text (and an image from a multipart part, may be
 * NULL). Returns 0, or -1 with a message in why (then: 400). The fast path is
 * the pipeline's scanner (no tree, no allocation but the key and id copies);
 * ev is the caller's scratch, reused across events. */
static int parse_event(firn_server *s, str_block **arena, firn_event *ev, const char *text, size_t len,
                       const uint8_t *image, size_t image_len, ingest_event *e, char *why,
                       size_t whyn) {
    memset(e, 0, sizeof *e);
    e->dup_of = -1;
    trim(&text, &len);
    const char *reason = firn_event_parse(ev, text, len, &ID_LIMITS);
    if (!reason && !firn_event_get(ev, IMAGE_HEADER, sizeof IMAGE_HEADER - 1)) {
        const char *k = s->cfg->key_field;
        const firn_event_field *kv = k ? firn_event_get(ev, k, strlen(k)) : NULL;
        if (kv && kv->kind == FIRN_JSON_STRING && !memchr(kv->value, 0, kv->value_len)) {
            e->key = arena_copy(arena, kv->value, kv->value_len);
            e->key_len = kv->value_len;
        }
        const firn_event_field *idv = usable_id(ev);
        if (idv) {
            e->id = arena_copy(arena, idv->value, idv->value_len);
            e->id_len = idv->value_len;
        }
        e->value = text;
        e->value_len = len;
        e->image = image;
        e->image_len = image_len;
    } else if (reason && strcmp(reason, "parse:duplicate-key") != 0) {
        if (!strcmp(reason, "parse:not-object")) snprintf(why, whyn, "an event is a JSON object");
        else if (!strcmp(reason, "parse:empty")) snprintf(why, whyn, "not JSON: empty event");
        else snprintf(why, whyn, "not JSON: %s (%s)", firn_event_detail(ev), reason);
        return -1;
    } else if (parse_event_tree(s, arena, text, len, image, image_len, e, why, whyn)) {
        return -1;
    }
    payload_hash(e->value, e->value_len, e->image, e->image_len, e->h);
    return 0;
}

/* The boundary of a multipart content type, or NULL. */
static int multipart_boundary(const char *ct, char *out, size_t n) {
    const char *b = strcasestr(ct, "boundary=");
    if (!b) return -1;
    b += 9;
    size_t len;
    if (*b == '"') {
        b++;
        const char *e = strchr(b, '"');
        if (!e) return -1;
        len = (size_t)(e - b);
    } else {
        len = strcspn(b, "; \t");
    }
    if (len == 0 || len + 1 > n) return -1;
    memcpy(out, b, len);
    out[len] = 0;
    return 0;
}

typedef struct part {
    const uint8_t *data;
    size_t len;
    char name[64];
    bool is_file;
} part;

/* Split a multipart body into at most max parts; -1 when malformed. */
static int multipart_split(const uint8_t *body, size_t len, const char *boundary, part *parts,
                           size_t max, size_t *n) {
    char delim[256];
    int dl = snprintf(delim, sizeof delim, "--%s", boundary);
    const uint8_t *p = memmem(body, len, delim, (size_t)dl);
    const uint8_t *end = body + len;
    *n = 0;
    if (!p) return -1;
    for (;;) {
        p += dl;
        if (end - p >= 2 && p[0] == '-' && p[1] == '-') return 0; /* closing delimiter */
        if (end - p < 2 || p[0] != '\r' || p[1] != '\n') return -1;
        p += 2;
        const uint8_t *hend = memmem(p, (size_t)(end - p), "\r\n\r\n", 4);
        if (!hend) return -1;
        char delim2[260];
        int d2 = snprintf(delim2, sizeof delim2, "\r\n--%s", boundary);
        const uint8_t *next = memmem(hend + 4, (size_t)(end - hend - 4), delim2, (size_t)d2);
        if (!next) return -1;
        if (*n == max) return -1;
        part *pt = &parts[(*n)++];
        memset(pt, 0, sizeof *pt);
        pt->data = hend + 4;
        pt->len = (size_t)(next - pt->data);
        /* Content-Disposition: form-data; name="event"; filename="x.jpg" */
        size_t hl = (size_t)(hend - p);
        char hdr[1024];
        if (hl >= sizeof hdr) hl = sizeof hdr - 1;
        memcpy(hdr, p, hl);
        hdr[hl] = 0;
        const char *nm = strcasestr(hdr, "name=\"");
        while (nm && nm > hdr && (nm[-1] == 'e' || nm[-1] == 'E')) /* skip filename= */
            nm = strcasestr(nm + 1, "name=\"");
        if (nm) {
            nm += 6;
            size_t l = strcspn(nm, "\"");
            if (l >= sizeof pt->name) l = sizeof pt->name - 1;
            memcpy(pt->name, nm, l);
            pt->name[l] = 0;
        }
        pt->is_file = strcasestr(hdr, "filename=") != NULL;
        p = next + 2; /* at the "--boundary" */
    }
}

/* ------------------------------------------------------------ the handler */

static void count_request(const char *result) {
    char l[64];
    snprintf(l, sizeof l, "result=\"%s\"", result);
    firn_metrics_counter_add("firn_ingest_requests_total", l, 1);
}

void firn_ingest_handle(firn_server *s, const firn_request *q, firn_reply *r) {
    const char *ct = firn_request_header(q, "Content-Type");
    if (!ct) ct = "application/json";
    ingest_event *ev = NULL;
    size_t nev = 0, cap = 0;
    firn_event fe;
    firn_event_init(&fe);
    str_block *arena = NULL;
    char why[512];
    int bad = 0; /* 400 or 413 */
    const char *text = (const char *)q->body;
    size_t len = q->body_len;
    if (len == 0) {
        bad = 400;
        snprintf(why, sizeof why, "empty body: send a JSON event, NDJSON or multipart");
    } else if (!strncasecmp(ct, "multipart/form-data", 19)) {
        char boundary[200];
        part parts[8];
        size_t np = 0;
        if (multipart_boundary(ct, boundary, sizeof boundary) ||
            multipart_split(q->body, len, boundary, parts, 8, &np) || np == 0) {
            bad = 400;
            snprintf(why, sizeof why, "malformed multipart body");
        } else {
            const part *js = NULL, *im = NULL;
            for (size_t i = 0; i < np; i++) {
                if (!strcmp(parts[i].name, IMAGE_HEADER) || (parts[i].is_file && !im)) im = &parts[i];
                else if (!js) js = &parts[i];
            }
            if (!js) {
                bad = 400;
                snprintf(why, sizeof why, "multipart: no JSON part (name it 'event')");
            } else {
                ev = firn_xcalloc(1, sizeof *ev);
                char w2[400];
                if (parse_event(s, &arena, &fe, (const char *)js->data, js->len, im ? im->data : NULL,
                                im ? im->len : 0, &ev[0], w2, sizeof w2)) {
                    bad = 400;
                    snprintf(why, sizeof why, "multipart event: %s", w2);
                } else {
                    nev = 1;
                }
            }
        }
    } else {
        bool ndjson = strcasestr(ct, "ndjson") || strcasestr(ct, "jsonl") ||
                      strcasestr(ct, "json-seq");
        size_t pos = 0, line = 0;
        while (pos < len && !bad) {
            const char *nl = ndjson ? memchr(text + pos, '\n', len - pos) : NULL;
            size_t l = nl ? (size_t)(nl - (text + pos)) : len - pos;
            line++;
            bool blank = true;
            for (size_t i = 0; i < l && blank; i++)
                blank = text[pos + i] == ' ' || text[pos + i] == '\t' || text[pos + i] == '\r';
            if (!blank) {
                if (nev == cap) {
                    /* an estimate from the body's size first (one allocation for a usual batch) */
                    cap = cap ? cap * 2 : len / 128 + 16 < 4096 ? len / 128 + 16 : 4096;
                    ev = firn_xrealloc(ev, cap * sizeof *ev);
                }
                char w2[400];
                if (parse_event(s, &arena, &fe, text + pos, l, NULL, 0, &ev[nev], w2, sizeof w2)) {
                    bad = 400;
                    if (ndjson) snprintf(why, sizeof why, "line %zu: %s", line, w2);
                    else snprintf(why, sizeof why, "%s", w2);
                } else {
                    nev++;
                }
            }
            pos += l + 1;
        }
        if (!bad && nev == 0) {
            bad = 400;
            snprintf(why, sizeof why, "no event in the body");
        }
    }
    for (size_t i = 0; i < nev && !bad; i++)
        if ((int64_t)(ev[i].value_len + ev[i].image_len) > s->cfg->max_event_bytes) {
            bad = 413;
            snprintf(why, sizeof why, "event %zu: %zu bytes is over limits.max-event-bytes (%lld)",
                     i + 1, ev[i].value_len + ev[i].image_len, (long long)s->cfg->max_event_bytes);
        }
    if (bad) {
        count_request(bad == 413 ? "too-large" : "unparseable");
        firn_reply_error(r, bad, "%s", why);
        goto done;
    }
    /* which events are retries of acknowledged ones; the others' intents go
     * to the log before the append (see dd_format). What does not need the
     * window is done before taking its lock: an event repeated within the
     * request (same id and payload) is found with a table of the request's
     * own, and the intent lines are formatted for every event with an id (a
     * line of an event the window knows is cut out below, which is rare). */
    firn_dedupe *d = s->dedupe;
    int64_t now = firn_now_us();
    char now_text[24]; /* every new entry of this request is stamped now */
    size_t now_len = (size_t)(put_dec(now_text, now) - now_text);
    firn_buf line;
    firn_buf_init(&line);
    size_t nid = 0;
    for (size_t i = 0; i < nev; i++) nid += ev[i].id != NULL;
    size_t *line_at = NULL; /* where event i's intent line starts in line */
    if (nid) {
        size_t tn = 16;
        while (tn < 2 * nid) tn *= 2;
        uint32_t *tab = firn_xcalloc(tn, sizeof *tab); /* event index + 1 */
        line_at = firn_xmalloc(nev * sizeof *line_at);
        firn_buf_reserve(&line, nid * DD_LINE_MAX); /* no growing in the loop */
        for (size_t i = 0; i < nev; i++) {
            if (!ev[i].id) continue;
            size_t k = ev[i].h[0] & (tn - 1);
            for (; tab[k]; k = (k + 1) & (tn - 1)) {
                const ingest_event *o = &ev[tab[k] - 1];
                if (o->h[0] == ev[i].h[0] && o->h[1] == ev[i].h[1] && o->id_len == ev[i].id_len &&
                    !memcmp(o->id, ev[i].id, ev[i].id_len)) {
                    ev[i].dup_of = (int)(tab[k] - 1);
                    break;
                }
            }
            if (ev[i].dup_of >= 0) continue;
            tab[k] = (uint32_t)i + 1;
            line_at[i] = line.len;
            dd_format(&line, now, now_text, now_len, ev[i].h, true, -1, -1, ev[i].id, ev[i].id_len);
        }
        free(tab);
    }
    size_t nknown = 0;
    pthread_mutex_lock(&d->mu);
    /* the window is large and its lookups miss the cache: fetch every event's
     * slot, then the entries they lead to, before looking (the misses overlap) */
    for (size_t i = 0; i < nev; i++)
        if (ev[i].id && ev[i].dup_of < 0) __builtin_prefetch(&d->slots[ev[i].h[0] & (d->nslots - 1)]);
    for (size_t i = 0; i < nev; i++)
        if (ev[i].id && ev[i].dup_of < 0) {
            const dd_entry *x = d->slots[ev[i].h[0] & (d->nslots - 1)];
            if (x) __builtin_prefetch(x);
        }
    for (size_t i = 0; i < nev; i++) {
        if (!ev[i].id) continue;
        if (ev[i].dup_of >= 0) { /* a repeat of an earlier event of this request */
            const ingest_event *o = &ev[ev[i].dup_of];
            if (o->known) {
                ev[i].known = true;
                ev[i].dup_of = -1;
                ev[i].partition = o->partition;
                ev[i].offset = o->offset;
            }
            continue;
        }
        dd_entry *e = dd_find(d, ev[i].id, ev[i].id_len, ev[i].h);
        if (e) {
            ev[i].known = true;
            ev[i].partition = e->partition;
            ev[i].offset = e->offset;
            nknown++;
            continue;
        }
        ev[i].dd = dd_insert(d, ev[i].id, ev[i].id_len, ev[i].h, -1, -1, now, true); /* dd_find said no */
    }
    if (nknown) { /* cut the lines of known events out */
        size_t w = 0;
        for (size_t i = 0; i < nev; i++) {
            if (!ev[i].dd) continue;
            const char *ln = (const char *)line.data + line_at[i];
            size_t l = (size_t)((const char *)memchr(ln, '\n', line.len - line_at[i]) - ln) + 1;
            memmove(line.data + w, ln, l);
            w += l;
        }
        line.len = w;
    }
    dd_write(d, &line);
    pthread_mutex_unlock(&d->mu);
    free(line_at);
    /* the append's arrays in one allocation (nev >= 1; int32 last for alignment) */
    uint8_t *scratch = firn_xcalloc(nev, sizeof(firn_msg) + sizeof(firn_header) + sizeof(size_t) +
                                             sizeof(int64_t) + sizeof(int32_t));
    firn_msg *msgs = (firn_msg *)(void *)scratch;
    firn_header *hdrs = (firn_header *)(void *)(msgs + nev);
    size_t *which = (size_t *)(void *)(hdrs + nev);
    int64_t *offs = (int64_t *)(void *)(which + nev);
    int32_t *parts = (int32_t *)(void *)(offs + nev);
    size_t nm = 0;
    uint64_t bytes = 0;
    for (size_t i = 0; i < nev; i++) {
        if (ev[i].known || ev[i].dup_of >= 0) continue;
        firn_msg *m = &msgs[nm];
        m->partition = -1;
        if (ev[i].key) m->key = ev[i].key, m->key_len = ev[i].key_len;
        m->value = ev[i].value;
        m->value_len = ev[i].value_len;
        if (ev[i].image) {
            hdrs[nm].key = IMAGE_HEADER;
            hdrs[nm].value = ev[i].image;
            hdrs[nm].value_len = ev[i].image_len;
            m->headers = &hdrs[nm];
            m->n_headers = 1;
        }
        bytes += ev[i].value_len + ev[i].image_len;
        which[nm++] = i;
    }
    firn_error err;
    firn_error_init(&err);
    uint64_t t0 = firn_now_ns();
    int rc = nm ? firn_stream_append(s->stream, s->cfg->stream_raw_topic, msgs, nm, offs, parts, &err) : 0;
    if (nm) firn_metrics_histogram_observe("firn_ingest_append_seconds", NULL, (double)(firn_now_ns() - t0) / 1e9);
    if (rc) {
        /* nothing was appended: the intents are void (a log line is not needed:
         * the next start finds them in no record) */
        pthread_mutex_lock(&d->mu);
        for (size_t k = 0; k < nm; k++)
            if (ev[which[k]].dd) dd_drop(d, ev[which[k]].dd);
        pthread_mutex_unlock(&d->mu);
        char buf[512];
        firn_error_format(&err, buf, sizeof buf);
        bool limit = err.kind == FIRN_ERR_LIMIT;
        count_request(limit ? "too-large" : "append-failed");
        firn_reply_error(r, limit ? 413 : 503, "append to %s failed: %s", s->cfg->stream_raw_topic, buf);
        if (!limit) r->retry_after = "1";
        firn_error_release(&err);
    } else {
        for (size_t k = 0; k < nm; k++) {
            ev[which[k]].partition = parts[k];
            ev[which[k]].offset = offs[k];
        }
        for (size_t i = 0; i < nev; i++)
            if (ev[i].dup_of >= 0) {
                ev[i].partition = ev[ev[i].dup_of].partition;
                ev[i].offset = ev[ev[i].dup_of].offset;
            }
        /* acknowledge them in the log before answering: a retry after this
         * reply is a duplicate (the lines formatted before taking the lock;
         * a pending entry stays until this request clears it) */
        firn_buf_clear(&line);
        firn_buf_reserve(&line, nm * DD_LINE_MAX);
        size_t nack = 0;
        for (size_t k = 0; k < nm; k++) {
            const ingest_event *x = &ev[which[k]];
            if (!x->dd) continue;
            dd_format(&line, now, now_text, now_len, x->h, false, parts[k], offs[k], x->id, x->id_len);
            nack++;
        }
        pthread_mutex_lock(&d->mu);
        for (size_t k = 0; k < nm; k++) {
            dd_entry *e = ev[which[k]].dd;
            if (!e) continue;
            e->pending = false;
            e->partition = parts[k];
            e->offset = offs[k];
        }
        d->file_lines += 2 * nack;
        dd_write(d, &line);
        if (line.len && d->fd >= 0 && now - d->last_sync_us > 1000000) {
            fdatasync(d->fd);
            d->last_sync_us = now;
        }
        dd_expire(d, now);
        if (d->file_lines > 2 * d->n + 100000) {
            firn_error e2;
            firn_error_init(&e2);
            if (dd_compact(d, &e2)) {
                char buf[512];
                fprintf(stderr, "firn serve: %s\n", firn_error_format(&e2, buf, sizeof buf));
            }
            firn_error_release(&e2);
        }
        pthread_mutex_unlock(&d->mu);
        size_t ndup = nev - nm;
        firn_metrics_counter_add("firn_ingest_events_total", "result=\"accepted\"", (double)nm);
        if (ndup) firn_metrics_counter_add("firn_ingest_events_total", "result=\"duplicate\"", (double)ndup);
        firn_metrics_counter_add("firn_ingest_bytes_total", NULL, (double)bytes);
        count_request("accepted");
        /* the reply: compact text, built by hand (this is the hot path) */
        firn_buf_clear(&r->body);
        firn_buf_appendf(&r->body, "{\"topic\":\"%s\",\"accepted\":%zu,\"duplicates\":%zu,\"events\":[",
                         s->cfg->stream_raw_topic, nm, ndup);
        for (size_t i = 0; i < nev; i++) {
            firn_buf_reserve(&r->body, 96);
            char *p = (char *)r->body.data + r->body.len;
            if (i) *p++ = ',';
            memcpy(p, "{\"partition\":", 13), p += 13;
            p = put_dec(p, ev[i].partition);
            memcpy(p, ",\"offset\":", 10), p += 10;
            p = put_dec(p, ev[i].offset);
            if (ev[i].known || ev[i].dup_of >= 0) memcpy(p, ",\"duplicate\":true", 17), p += 17;
            *p++ = '}';
            r->body.len = (size_t)(p - (char *)r->body.data);
        }
        firn_buf_append_str(&r->body, "]}\n");
        r->status = 202;
        r->content_type = "application/json";
    }
    free(scratch);
    firn_buf_release(&line);
done:
    firn_event_release(&fe);
    for (size_t i = 0; i < nev; i++) event_release(&ev[i]);
    free(ev);
    arena_free(arena);
}
