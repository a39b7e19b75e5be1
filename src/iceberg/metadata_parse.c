/*
 * metadata_parse.c - the fast path of firn_ice_metadata_parse.
 *
 * A table with a long history has a metadata.json of megabytes that is almost
 * all snapshots (each with its summary), snapshot-log and metadata-log. jansson
 * builds a tree of a few hundred thousand malloc'd nodes for it, which firn then
 * copies into the metadata's arena and frees again. Here one pass over the text
 * reads those three arrays straight into the arena, and hands the small rest of
 * the document (schemas, specs, sort orders, properties, refs, statistics,
 * unknown keys: every other top-level member, verbatim and in order) to jansson
 * and firn_ice_metadata_parse_body, which then checks and validates the whole
 * as the jansson path does.
 *
 * The contract: never accept what the jansson path rejects, and build exactly
 * what it builds. So the parser is strict (RFC 8259 as jansson reads it:
 * UTF-8 checked, no \u0000, no lone surrogates, integers within int64, reals
 * that do not overflow, depth bounded) and declines (returns NULL, and
 * firn_ice_metadata_parse runs the jansson path) whenever anything is off or
 * unusual: a syntax error, a wrong type, a null, an escaped top-level key, a
 * repeated bulk key, an unknown key in a log entry. A snapshot that is unusual
 * (an unknown key such as v3's first-row-id, v1's embedded "manifests", a null,
 * a repeated key, a missing field) is parsed alone by jansson and
 * firn_ice_snapshot_from_json, so its structure is the reference one too.
 */
#include "iceberg/iceberg_internal.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Far below jansson's 2048, so a value that is parsed alone (a snapshot) cannot
 * pass here and fail there only because of its depth, or the reverse. */
#define MP_MAX_DEPTH 512

typedef struct mp {
    const char *p, *end;
    firn_arena *a;
    int depth;
} mp;

static inline void ws(mp *m) {
    while (m->p < m->end && (*m->p == ' ' || *m->p == '\n' || *m->p == '\r' || *m->p == '\t')) m->p++;
}

static inline int peek(const mp *m) { return m->p < m->end ? (unsigned char)*m->p : -1; }

static inline bool eat(mp *m, char c) {
    ws(m);
    if (m->p < m->end && *m->p == c) {
        m->p++;
        return true;
    }
    return false;
}

static inline bool is_digit(int c) { return c >= '0' && c <= '9'; }

/* ------------------------------------------------------------- strings */

/* The length of the valid UTF-8 sequence at s (lead byte >= 0x80), or 0. */
static size_t utf8_seq(const unsigned char *s, const unsigned char *end) {
    unsigned c = s[0];
    size_t n;
    uint32_t cp;
    if (c >= 0xC2 && c <= 0xDF) n = 2, cp = c & 0x1F;
    else if (c >= 0xE0 && c <= 0xEF) n = 3, cp = c & 0x0F;
    else if (c >= 0xF0 && c <= 0xF4) n = 4, cp = c & 0x07;
    else return 0;
    if ((size_t)(end - s) < n) return 0;
    for (size_t k = 1; k < n; k++) {
        if ((s[k] & 0xC0) != 0x80) return 0;
        cp = cp << 6 | (s[k] & 0x3F);
    }
    if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10FFFF ||
        (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return n;
}

static int hex4(const unsigned char *p) {
    int v = 0;
    for (int i = 0; i < 4; i++) {
        int c = p[i], d;
        if (c >= '0' && c <= '9') d = c - '0';
        else if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F') d = c - 'A' + 10;
        else return -1;
        v = v << 4 | d;
    }
    return v;
}

/* The first byte at or after p that is '"', '\\', a control character or >= 0x80
 * (or e): eight bytes at a time where the byte order allows. */
static inline const unsigned char *plain_run(const unsigned char *p, const unsigned char *e) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    const uint64_t ones = 0x0101010101010101u, high = 0x8080808080808080u;
    while (e - p >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        uint64_t q = w ^ (ones * '"'), b = w ^ (ones * '\\');
        /* a byte's high bit: it is '"' or '\\', below 0x20, or >= 0x80; borrows only
         * make false marks above a true one, so the lowest mark is exact */
        uint64_t t = (((q - ones) & ~q) | ((b - ones) & ~b) | ((w - ones * 0x20) & ~w) | w) & high;
        if (t) return p + (__builtin_ctzll(t) >> 3);
        p += 8;
    }
#endif
    while (p < e && *p >= 0x20 && *p < 0x80 && *p != '"' && *p != '\\') p++;
    return p;
}

/* A raw string token: the bytes between the quotes, checked. */
typedef struct mp_str {
    const char *s;
    size_t n;
    bool esc; /* has escapes: decode before use */
} mp_str;

/* At '"': check the string and step past its closing quote. */
static bool scan_string(mp *m, mp_str *out) {
    const unsigned char *p = (const unsigned char *)m->p + 1, *e = (const unsigned char *)m->end;
    bool esc = false;
    for (;;) {
        p = plain_run(p, e);
        if (p >= e) return false;
        unsigned c = *p;
        if (c == '"') break;
        if (c < 0x20) return false; /* control characters (and NUL) are not allowed raw */
        if (c == '\\') {
            esc = true;
            if (e - p < 2) return false;
            unsigned x = p[1];
            if (x == 'u') {
                if (e - p < 6) return false;
                int v = hex4(p + 2);
                if (v <= 0) return false; /* bad hex, or \u0000 (jansson refuses NUL) */
                p += 6;
                if (v >= 0xD800 && v <= 0xDBFF) {
                    if (e - p < 6 || p[0] != '\\' || p[1] != 'u') return false;
                    int w = hex4(p + 2);
                    if (w < 0xDC00 || w > 0xDFFF) return false;
                    p += 6;
                } else if (v >= 0xDC00 && v <= 0xDFFF) {
                    return false;
                }
            } else if (x == '"' || x == '\\' || x == '/' || x == 'b' || x == 'f' || x == 'n' ||
                       x == 'r' || x == 't') {
                p += 2;
            } else {
                return false;
            }
            continue;
        }
        size_t k = utf8_seq(p, e);
        if (!k) return false;
        p += k;
    }
    out->s = m->p + 1;
    out->n = (size_t)((const char *)p - out->s);
    out->esc = esc;
    m->p = (const char *)p + 1;
    return true;
}

static char *put_utf8(char *t, uint32_t cp) {
    if (cp < 0x80) {
        *t++ = (char)cp;
    } else if (cp < 0x800) {
        *t++ = (char)(0xC0 | cp >> 6);
        *t++ = (char)(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        *t++ = (char)(0xE0 | cp >> 12);
        *t++ = (char)(0x80 | (cp >> 6 & 0x3F));
        *t++ = (char)(0x80 | (cp & 0x3F));
    } else {
        *t++ = (char)(0xF0 | cp >> 18);
        *t++ = (char)(0x80 | (cp >> 12 & 0x3F));
        *t++ = (char)(0x80 | (cp >> 6 & 0x3F));
        *t++ = (char)(0x80 | (cp & 0x3F));
    }
    return t;
}

/* The value of a checked string, NUL-terminated, in the arena; *len its length. */
static char *decode(firn_arena *a, const mp_str *s, size_t *len) {
    if (!s->esc) {
        if (len) *len = s->n;
        return firn_arena_strndup(a, s->s, s->n);
    }
    char *out = firn_arena_alloc(a, s->n + 1), *t = out;
    const unsigned char *p = (const unsigned char *)s->s, *e = p + s->n;
    while (p < e) {
        if (*p != '\\') {
            *t++ = (char)*p++;
            continue;
        }
        unsigned x = p[1];
        p += 2;
        switch (x) {
        case 'b': *t++ = '\b'; break;
        case 'f': *t++ = '\f'; break;
        case 'n': *t++ = '\n'; break;
        case 'r': *t++ = '\r'; break;
        case 't': *t++ = '\t'; break;
        case 'u': {
            uint32_t v = (uint32_t)hex4(p);
            p += 4;
            if (v >= 0xD800 && v <= 0xDBFF) { /* checked: a low surrogate follows */
                uint32_t w = (uint32_t)hex4(p + 2);
                p += 6;
                v = ((v - 0xD800) << 10) + (w - 0xDC00) + 0x10000;
            }
            t = put_utf8(t, v);
            break;
        }
        default: *t++ = (char)x; break; /* " \ / */
        }
    }
    *t = '\0';
    if (len) *len = (size_t)(t - out);
    return out;
}

static inline bool key_is(const mp_str *k, const char *lit, size_t n) {
    return k->n == n && memcmp(k->s, lit, n) == 0;
}
#define KEY_IS(k, lit) key_is((k), lit, sizeof lit - 1)

/* ------------------------------------------------------------- numbers */

/* An integer token (no fraction or exponent) within int64; false for anything
 * else, m unchanged then. */
static bool parse_int(mp *m, int64_t *out) {
    const char *p = m->p, *e = m->end;
    bool neg = false;
    if (p < e && *p == '-') neg = true, p++;
    if (p >= e || !is_digit(*p)) return false;
    uint64_t u = 0;
    if (*p == '0') {
        p++;
    } else {
        while (p < e && is_digit(*p)) {
            unsigned d = (unsigned)(*p - '0');
            if (u > (UINT64_MAX - d) / 10) return false;
            u = u * 10 + d;
            p++;
        }
    }
    if (p < e && (*p == '.' || *p == 'e' || *p == 'E' || is_digit(*p))) return false;
    if (neg ? u > (uint64_t)INT64_MAX + 1 : u > (uint64_t)INT64_MAX) return false;
    if (!neg) *out = (int64_t)u;
    else *out = u == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)u;
    m->p = p;
    return true;
}

static bool skip_number(mp *m) {
    const char *p = m->p, *e = m->end, *start = p;
    if (*p == '-') p++;
    if (p >= e || !is_digit(*p)) return false;
    if (*p == '0') {
        p++;
        if (p < e && is_digit(*p)) return false;
    } else {
        while (p < e && is_digit(*p)) p++;
    }
    bool real = false;
    if (p < e && *p == '.') {
        real = true;
        p++;
        if (p >= e || !is_digit(*p)) return false;
        while (p < e && is_digit(*p)) p++;
    }
    if (p < e && (*p == 'e' || *p == 'E')) {
        real = true;
        p++;
        if (p < e && (*p == '+' || *p == '-')) p++;
        if (p >= e || !is_digit(*p)) return false;
        while (p < e && is_digit(*p)) p++;
    }
    if (!real) {
        int64_t v;
        return parse_int(m, &v); /* jansson refuses integers beyond int64 */
    }
    char buf[64];
    size_t n = (size_t)(p - start);
    if (n >= sizeof buf) return false; /* long reals: let jansson judge */
    memcpy(buf, start, n);
    buf[n] = '\0';
    errno = 0;
    double d = strtod(buf, NULL);
    if ((d == HUGE_VAL || d == -HUGE_VAL) && errno == ERANGE) return false; /* "real number overflow" */
    m->p = p;
    return true;
}

/* ------------------------------------------------------------- values */

static bool literal(mp *m, const char *lit, size_t n) {
    if ((size_t)(m->end - m->p) < n || memcmp(m->p, lit, n) != 0) return false;
    m->p += n;
    return true;
}

/* Step over any value (checked). */
static bool skip_value(mp *m) {
    ws(m);
    int c = peek(m);
    mp_str s;
    switch (c) {
    case '"': return scan_string(m, &s);
    case 't': return literal(m, "true", 4);
    case 'f': return literal(m, "false", 5);
    case 'n': return literal(m, "null", 4);
    case '{':
        if (++m->depth > MP_MAX_DEPTH) return false;
        m->p++;
        if (eat(m, '}')) break;
        for (;;) {
            ws(m);
            if (peek(m) != '"' || !scan_string(m, &s) || !eat(m, ':') || !skip_value(m)) return false;
            if (eat(m, ',')) continue;
            if (eat(m, '}')) break;
            return false;
        }
        break;
    case '[':
        if (++m->depth > MP_MAX_DEPTH) return false;
        m->p++;
        if (eat(m, ']')) break;
        for (;;) {
            if (!skip_value(m)) return false;
            if (eat(m, ',')) continue;
            if (eat(m, ']')) break;
            return false;
        }
        break;
    default:
        if (c == '-' || is_digit(c)) return skip_number(m);
        return false;
    }
    if (c == '{' || c == '[') m->depth--;
    return true;
}

/* ------------------------------------------------------------- snapshots */

/* Summary pairs of one snapshot, reused across snapshots. */
typedef struct kvtmp {
    firn_ice_kv *v;
    size_t *klen;
    size_t n, cap;
} kvtmp;

/* Summary keys repeat in every snapshot: the last distinct ones are shared. */
#define KEY_CACHE 32
typedef struct key_cache {
    const char *raw[KEY_CACHE];
    size_t n[KEY_CACHE];
    const char *val[KEY_CACHE];
    size_t count, next;
} key_cache;

static const char *cached_key(mp *m, key_cache *kc, const mp_str *k, size_t *len) {
    if (k->esc) return decode(m->a, k, len);
    for (size_t i = 0; i < kc->count; i++)
        if (kc->n[i] == k->n && memcmp(kc->raw[i], k->s, k->n) == 0) {
            *len = k->n;
            return kc->val[i];
        }
    const char *v = decode(m->a, k, len);
    size_t slot = kc->count < KEY_CACHE ? kc->count++ : (kc->next++ % KEY_CACHE);
    kc->raw[slot] = k->s;
    kc->n[slot] = k->n;
    kc->val[slot] = v;
    return v;
}

enum { SNAP_OK, SNAP_FALLBACK };

/* The summary object at m (after "summary":), into s. */
static int fast_summary(mp *m, firn_ice_snapshot *s, kvtmp *t, key_cache *kc) {
    if (!eat(m, '{')) return SNAP_FALLBACK; /* null, or not an object */
    t->n = 0;
    if (!eat(m, '}')) {
        for (;;) {
            mp_str k, v;
            ws(m);
            if (peek(m) != '"' || !scan_string(m, &k) || !eat(m, ':')) return SNAP_FALLBACK;
            ws(m);
            if (peek(m) != '"' || !scan_string(m, &v)) return SNAP_FALLBACK;
            if (t->n == t->cap) {
                t->cap = t->cap ? t->cap * 2 : 16;
                t->v = firn_xrealloc(t->v, t->cap * sizeof *t->v);
                t->klen = firn_xrealloc(t->klen, t->cap * sizeof *t->klen);
            }
            size_t kl;
            t->v[t->n].key = cached_key(m, kc, &k, &kl);
            t->v[t->n].value = decode(m->a, &v, NULL);
            t->klen[t->n] = kl;
            for (size_t i = 0; i < t->n; i++) /* a repeated key: jansson keeps the last value */
                if (t->klen[i] == kl && memcmp(t->v[i].key, t->v[t->n].key, kl) == 0)
                    return SNAP_FALLBACK;
            t->n++;
            if (eat(m, ',')) continue;
            if (eat(m, '}')) break;
            return SNAP_FALLBACK;
        }
    }
    firn_ice_kv *kv = firn_arena_alloc(m->a, (t->n ? t->n : 1) * sizeof *kv);
    if (t->n) memcpy(kv, t->v, t->n * sizeof *kv);
    for (size_t i = 1; i < t->n; i++) /* operation first, as Java writes it */
        if (strcmp(kv[i].key, "operation") == 0) {
            firn_ice_kv op = kv[i];
            memmove(&kv[1], &kv[0], i * sizeof *kv);
            kv[0] = op;
            break;
        }
    s->summary = kv;
    s->nsummary = t->n;
    return SNAP_OK;
}

/* One snapshot object at m, the way firn_ice_snapshot_from_json reads it, or
 * SNAP_FALLBACK for anything that needs jansson (m is then anywhere). */
static int fast_snapshot(mp *m, firn_ice_snapshot *s, kvtmp *t, key_cache *kc) {
    enum { SID = 1, PARENT = 2, SEQ = 4, TS = 8, SUMMARY = 16, LIST = 32, SCHEMA = 64 };
    unsigned seen = 0;
    if (!eat(m, '{') || eat(m, '}')) return SNAP_FALLBACK;
    for (;;) {
        mp_str k;
        ws(m);
        if (peek(m) != '"' || !scan_string(m, &k) || k.esc || !eat(m, ':')) return SNAP_FALLBACK;
        ws(m);
        unsigned bit;
        int64_t *iv = NULL;
        int64_t schema = 0;
        if (KEY_IS(&k, "snapshot-id")) bit = SID, iv = &s->snapshot_id;
        else if (KEY_IS(&k, "parent-snapshot-id")) bit = PARENT, iv = &s->parent_snapshot_id;
        else if (KEY_IS(&k, "sequence-number")) bit = SEQ, iv = &s->sequence_number;
        else if (KEY_IS(&k, "timestamp-ms")) bit = TS, iv = &s->timestamp_ms;
        else if (KEY_IS(&k, "schema-id")) bit = SCHEMA, iv = &schema;
        else if (KEY_IS(&k, "summary")) bit = SUMMARY;
        else if (KEY_IS(&k, "manifest-list")) bit = LIST;
        else return SNAP_FALLBACK; /* "manifests" (v1) or a key kept in extra_json */
        if (seen & bit) return SNAP_FALLBACK;
        seen |= bit;
        if (iv) {
            if (!parse_int(m, iv)) return SNAP_FALLBACK; /* null, a real, a string, ... */
            if (bit == SCHEMA) {
                if (schema < INT32_MIN || schema > INT32_MAX) return SNAP_FALLBACK;
                s->schema_id = (int32_t)schema;
            }
        } else if (bit == LIST) {
            mp_str v;
            if (peek(m) != '"' || !scan_string(m, &v)) return SNAP_FALLBACK;
            s->manifest_list = decode(m->a, &v, NULL);
        } else if (fast_summary(m, s, t, kc) != SNAP_OK) {
            return SNAP_FALLBACK;
        }
        if (eat(m, ',')) continue;
        if (eat(m, '}')) break;
        return SNAP_FALLBACK;
    }
    if ((seen & (SID | TS | LIST)) != (SID | TS | LIST) || s->sequence_number < 0) return SNAP_FALLBACK;
    s->has_parent = (seen & PARENT) != 0;
    s->has_schema_id = (seen & SCHEMA) != 0;
    return SNAP_OK;
}

/* A snapshot through jansson and firn_ice_snapshot_from_json (the value at start). */
static firn_ice_snapshot *slow_snapshot(mp *m, const char *start, size_t i) {
    mp t = *m;
    t.p = start;
    t.depth = 2;
    if (!skip_value(&t)) return NULL;
    json_t *j = json_loadb(start, (size_t)(t.p - start), 0, NULL);
    if (!j) return NULL;
    char path[ICE_PATH_MAX];
    firn_error err;
    firn_error_init(&err);
    firn_ice_snapshot *s = firn_ice_snapshot_from_json(m->a, j, firn_ice_path_index(path, "snapshots", i), &err);
    firn_error_release(&err);
    json_decref(j);
    if (s) m->p = t.p;
    return s;
}

static bool parse_snapshots(mp *m, firn_ice_metadata *md) {
    m->p++; /* '[' */
    if (eat(m, ']')) return true;
    kvtmp t = {0};
    key_cache kc = {.count = 0};
    bool ok = false;
    for (size_t i = 0;; i++) {
        ws(m);
        const char *start = m->p;
        if (peek(m) != '{') goto out;
        firn_ice_snapshot *s = firn_arena_calloc(m->a, sizeof *s);
        if (fast_snapshot(m, s, &t, &kc) != SNAP_OK && !(s = slow_snapshot(m, start, i))) goto out;
        ICE_PUSH(md, snapshots, nsnapshots, cap_snapshots, s);
        if (eat(m, ',')) continue;
        if (eat(m, ']')) break;
        goto out;
    }
    ok = true;
out:
    free(t.v);
    free(t.klen);
    return ok;
}

/* ------------------------------------------------------------- logs */

/* Entries of exactly two known keys; anything else declines. */
static bool parse_snapshot_log(mp *m, firn_ice_metadata *md) {
    m->p++;
    if (eat(m, ']')) return true;
    for (;;) {
        firn_ice_snapshot_log_entry le;
        unsigned seen = 0;
        if (!eat(m, '{') || eat(m, '}')) return false;
        for (;;) {
            mp_str k;
            ws(m);
            if (peek(m) != '"' || !scan_string(m, &k) || k.esc || !eat(m, ':')) return false;
            ws(m);
            unsigned bit;
            int64_t *v;
            if (KEY_IS(&k, "timestamp-ms")) bit = 1, v = &le.timestamp_ms;
            else if (KEY_IS(&k, "snapshot-id")) bit = 2, v = &le.snapshot_id;
            else return false;
            if ((seen & bit) || !parse_int(m, v)) return false;
            seen |= bit;
            if (eat(m, ',')) continue;
            if (eat(m, '}')) break;
            return false;
        }
        if (seen != 3) return false;
        ICE_PUSH(md, snapshot_log, nsnapshot_log, cap_snapshot_log, le);
        if (eat(m, ',')) continue;
        if (eat(m, ']')) return true;
        return false;
    }
}

static bool parse_metadata_log(mp *m, firn_ice_metadata *md) {
    m->p++;
    if (eat(m, ']')) return true;
    for (;;) {
        firn_ice_metadata_log_entry le;
        unsigned seen = 0;
        if (!eat(m, '{') || eat(m, '}')) return false;
        for (;;) {
            mp_str k;
            ws(m);
            if (peek(m) != '"' || !scan_string(m, &k) || k.esc || !eat(m, ':')) return false;
            ws(m);
            if (KEY_IS(&k, "timestamp-ms")) {
                if ((seen & 1) || !parse_int(m, &le.timestamp_ms)) return false;
                seen |= 1;
            } else if (KEY_IS(&k, "metadata-file")) {
                mp_str v;
                if ((seen & 2) || peek(m) != '"' || !scan_string(m, &v)) return false;
                le.metadata_file = decode(m->a, &v, NULL);
                seen |= 2;
            } else {
                return false;
            }
            if (eat(m, ',')) continue;
            if (eat(m, '}')) break;
            return false;
        }
        if (seen != 3) return false;
        ICE_PUSH(md, metadata_log, nmetadata_log, cap_metadata_log, le);
        if (eat(m, ',')) continue;
        if (eat(m, ']')) return true;
        return false;
    }
}

/* ------------------------------------------------------------- document */

/* The top-level object: bulk arrays into md, every other member copied verbatim
 * (in order) into rest, which becomes a JSON object text. */
static bool parse_top(mp *m, firn_ice_metadata *md, firn_buf *rest, unsigned *pre) {
    unsigned bulk_seen = 0;
    bool first = true;
    if (!eat(m, '{') || eat(m, '}')) return false;
    m->depth = 1;
    firn_buf_put_u8(rest, '{');
    for (;;) {
        mp_str k;
        ws(m);
        const char *kstart = m->p;
        if (peek(m) != '"' || !scan_string(m, &k) || k.esc || !eat(m, ':')) return false;
        ws(m);
        unsigned bit = KEY_IS(&k, "snapshots")      ? FIRN_ICE_PRE_SNAPSHOTS
                       : KEY_IS(&k, "snapshot-log") ? FIRN_ICE_PRE_SNAPSHOT_LOG
                       : KEY_IS(&k, "metadata-log") ? FIRN_ICE_PRE_METADATA_LOG
                                                    : 0;
        if (bit) {
            if (bulk_seen & bit) return false; /* jansson keeps the last one: decline */
            bulk_seen |= bit;
        }
        if (bit && peek(m) == '[') {
            m->depth = 2;
            bool ok = bit == FIRN_ICE_PRE_SNAPSHOTS      ? parse_snapshots(m, md)
                      : bit == FIRN_ICE_PRE_SNAPSHOT_LOG ? parse_snapshot_log(m, md)
                                                         : parse_metadata_log(m, md);
            m->depth = 1;
            if (!ok) return false;
            *pre |= bit;
        } else {
            if (!skip_value(m)) return false;
            if (!first) firn_buf_put_u8(rest, ',');
            firn_buf_append(rest, kstart, (size_t)(m->p - kstart));
            first = false;
        }
        if (eat(m, ',')) continue;
        if (eat(m, '}')) break;
        return false;
    }
    firn_buf_put_u8(rest, '}');
    ws(m);
    return m->p == m->end;
}

firn_ice_metadata *firn_ice_metadata_parse_fast(const char *text, size_t len) {
    if (!text) return NULL;
    firn_ice_metadata *md = firn_ice_metadata_alloc();
    mp m = {text, text + len, &md->arena, 0};
    firn_buf rest = {0};
    unsigned pre = 0;
    json_t *j = NULL;
    bool ok = parse_top(&m, md, &rest, &pre);
    if (ok) ok = (j = json_loadb((const char *)rest.data, rest.len, 0, NULL)) != NULL;
    if (ok) {
        firn_error err;
        firn_error_init(&err);
        ok = firn_ice_metadata_parse_body(md, j, pre, &err) == 0;
        firn_error_release(&err);
    }
    json_decref(j);
    firn_buf_release(&rest);
    if (!ok) {
        firn_ice_metadata_free(md);
        return NULL;
    }
    return md;
}
