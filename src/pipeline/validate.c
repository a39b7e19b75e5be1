/* validate.c - event parsing (a JSON scanner that builds no tree), the rules
 * of an event type, image checks (libturbojpeg, libpng) and the dedupe window. */
#include "pipeline/validate.h"

#include <math.h>
#include <png.h>
#include <pthread.h>
#include <regex.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <turbojpeg.h>
#include <unistd.h>
#include <xxhash.h>

/* ================================================================ parsing */

void firn_event_limits_from_config(firn_event_limits *l, const firn_config *c) {
    l->max_event_bytes = (size_t)c->max_event_bytes;
    l->max_field_bytes = (size_t)c->max_field_bytes;
    l->max_depth = (int)c->max_depth;
    l->max_fields = (size_t)c->max_fields;
    l->blob_field = "image";
}

void firn_event_init(firn_event *e) {
    memset(e, 0, sizeof *e);
    firn_buf_init(&e->decoded);
}

void firn_event_release(firn_event *e) {
    if (!e) return;
    free(e->fields);
    firn_buf_release(&e->decoded);
    memset(e, 0, sizeof *e);
}

const char *firn_event_detail(const firn_event *e) { return e->reason ? e->detail : ""; }

typedef struct scan {
    const uint8_t *p, *start, *end;
    firn_event *e;
    const firn_event_limits *lim;
    const char *reason;
} scan;

static const char R_EMPTY[] = "parse:empty", R_LARGE[] = "parse:too-large",
                  R_UTF8[] = "parse:invalid-utf8", R_SYNTAX[] = "parse:syntax",
                  R_NOTOBJ[] = "parse:not-object", R_DEEP[] = "parse:too-deep",
                  R_FIELD[] = "parse:field-too-large", R_MANY[] = "parse:too-many-fields",
                  R_DUPKEY[] = "parse:duplicate-key";

static int bad(scan *s, const char *reason, const char *what) {
    s->reason = reason;
    snprintf(s->e->detail, sizeof s->e->detail, "%s at byte %zu", what,
             (size_t)(s->p - s->start));
    return -1;
}

static inline void skip_ws(scan *s) {
    while (s->p < s->end && (*s->p == ' ' || *s->p == '\n' || *s->p == '\r' || *s->p == '\t'))
        s->p++;
}

/* Length of the UTF-8 sequence at p (1..4), or 0 when invalid (overlong,
 * surrogate, beyond U+10FFFF, truncated). */
static inline size_t utf8_seq(const uint8_t *p, const uint8_t *end) {
    uint8_t c = p[0];
    if (c < 0x80) return 1;
    size_t avail = (size_t)(end - p);
    if (c >= 0xC2 && c <= 0xDF) return avail >= 2 && (p[1] & 0xC0) == 0x80 ? 2 : 0;
    if (c >= 0xE0 && c <= 0xEF) {
        if (avail < 3 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80) return 0;
        if (c == 0xE0 && p[1] < 0xA0) return 0; /* overlong */
        if (c == 0xED && p[1] >= 0xA0) return 0; /* surrogates */
        return 3;
    }
    if (c >= 0xF0 && c <= 0xF4) {
        if (avail < 4 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80 || (p[3] & 0xC0) != 0x80)
            return 0;
        if (c == 0xF0 && p[1] < 0x90) return 0;
        if (c == 0xF4 && p[1] >= 0x90) return 0;
        return 4;
    }
    return 0;
}

static int hex4(const uint8_t *p, uint32_t *out) {
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) {
        uint8_t c = p[i];
        v <<= 4;
        if (c >= '0' && c <= '9') v |= (uint32_t)(c - '0');
        else if (c >= 'a' && c <= 'f') v |= (uint32_t)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F') v |= (uint32_t)(c - 'A' + 10);
        else return -1;
    }
    *out = v;
    return 0;
}

/* Scan a string (s->p at the opening quote). Sets out and outlen to the decoded
 * text: a pointer into the input when it has no escapes, else into
 * e->decoded (reserved to the input length, so it never moves). */
static int scan_string(scan *s, const char **out, size_t *outlen, size_t limit) {
    const uint8_t *p = ++s->p, *end = s->end;
    /* fast path: printable ASCII without escapes, 8 bytes at a time */
    for (;;) {
        while (end - p >= 8) {
            uint64_t w;
            memcpy(&w, p, 8);
            /* any byte >= 0x80, < 0x20, '"' or '\\' stops the fast path */
            uint64_t hi = w & 0x8080808080808080ULL;
            uint64_t lo = (w - 0x2020202020202020ULL) & ~w & 0x8080808080808080ULL;
            uint64_t q = w ^ 0x2222222222222222ULL, b = w ^ 0x5C5C5C5C5C5C5C5CULL;
            uint64_t qz = (q - 0x0101010101010101ULL) & ~q & 0x8080808080808080ULL;
            uint64_t bz = (b - 0x0101010101010101ULL) & ~b & 0x8080808080808080ULL;
            if (hi | lo | qz | bz) break;
            p += 8;
        }
        if (p >= end) { s->p = p; return bad(s, R_SYNTAX, "unterminated string"); }
        uint8_t c = *p;
        if (c == '"') {
            if ((size_t)(p - s->p) > limit) return bad(s, R_FIELD, "string too long");
            *out = (const char *)s->p;
            *outlen = (size_t)(p - s->p);
            s->p = p + 1;
            return 0;
        }
        if (c == '\\') break;
        if (c < 0x20) { s->p = p; return bad(s, R_SYNTAX, "control character in string"); }
        if (c >= 0x80) {
            size_t n = utf8_seq(p, end);
            if (!n) { s->p = p; return bad(s, R_UTF8, "invalid UTF-8"); }
            p += n;
        } else {
            p++;
        }
    }
    /* slow path: escapes; copy what was scanned, then decode */
    firn_buf *d = &s->e->decoded;
    uint8_t *o0 = d->data + d->len, *o = o0;
    memcpy(o, s->p, (size_t)(p - s->p));
    o += p - s->p;
    while (p < end) {
        uint8_t c = *p;
        if (c == '"') {
            size_t n = (size_t)(o - o0);
            if (n > limit) { s->p = p; return bad(s, R_FIELD, "string too long"); }
            *out = (const char *)o0;
            *outlen = n;
            d->len += n;
            s->p = p + 1;
            return 0;
        }
        if (c == '\\') {
            if (end - p < 2) break;
            uint8_t x = p[1];
            p += 2;
            switch (x) {
            case '"': *o++ = '"'; break;
            case '\\': *o++ = '\\'; break;
            case '/': *o++ = '/'; break;
            case 'b': *o++ = '\b'; break;
            case 'f': *o++ = '\f'; break;
            case 'n': *o++ = '\n'; break;
            case 'r': *o++ = '\r'; break;
            case 't': *o++ = '\t'; break;
            case 'u': {
                uint32_t cp;
                if (end - p < 4 || hex4(p, &cp)) { s->p = p; return bad(s, R_SYNTAX, "bad \\u escape"); }
                p += 4;
                if (cp >= 0xD800 && cp <= 0xDBFF) {
                    uint32_t lo;
                    if (end - p < 6 || p[0] != '\\' || p[1] != 'u' || hex4(p + 2, &lo) ||
                        lo < 0xDC00 || lo > 0xDFFF) {
                        s->p = p; return bad(s, R_UTF8, "lone surrogate in \\u escape");
                    }
                    p += 6;
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
                    s->p = p; return bad(s, R_UTF8, "lone surrogate in \\u escape");
                }
                /* the encoding is never longer than the 6+ escape bytes it replaces */
                if (cp < 0x80) *o++ = (uint8_t)cp;
                else if (cp < 0x800) { *o++ = (uint8_t)(0xC0 | cp >> 6); *o++ = (uint8_t)(0x80 | (cp & 0x3F)); }
                else if (cp < 0x10000) {
                    *o++ = (uint8_t)(0xE0 | cp >> 12); *o++ = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
                    *o++ = (uint8_t)(0x80 | (cp & 0x3F));
                } else {
                    *o++ = (uint8_t)(0xF0 | cp >> 18); *o++ = (uint8_t)(0x80 | ((cp >> 12) & 0x3F));
                    *o++ = (uint8_t)(0x80 | ((cp >> 6) & 0x3F)); *o++ = (uint8_t)(0x80 | (cp & 0x3F));
                }
                break;
            }
            default: s->p = p - 2; return bad(s, R_SYNTAX, "bad escape");
            }
            continue;
        }
        if (c < 0x20) { s->p = p; return bad(s, R_SYNTAX, "control character in string"); }
        size_t n = c < 0x80 ? 1 : utf8_seq(p, end);
        if (!n) { s->p = p; return bad(s, R_UTF8, "invalid UTF-8"); }
        memcpy(o, p, n);
        o += n;
        p += n;
    }
    s->p = p;
    return bad(s, R_SYNTAX, "unterminated string");
}

static int scan_number(scan *s) {
    const uint8_t *p = s->p, *end = s->end;
    if (p < end && *p == '-') p++;
    if (p >= end) { s->p = p; return bad(s, R_SYNTAX, "bad number"); }
    if (*p == '0') p++;
    else if (*p >= '1' && *p <= '9') while (p < end && *p >= '0' && *p <= '9') p++;
    else { s->p = p; return bad(s, R_SYNTAX, "bad number"); }
    if (p < end && *p == '.') {
        p++;
        if (p >= end || *p < '0' || *p > '9') { s->p = p; return bad(s, R_SYNTAX, "bad number"); }
        while (p < end && *p >= '0' && *p <= '9') p++;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < end && (*p == '+' || *p == '-')) p++;
        if (p >= end || *p < '0' || *p > '9') { s->p = p; return bad(s, R_SYNTAX, "bad number"); }
        while (p < end && *p >= '0' && *p <= '9') p++;
    }
    s->p = p;
    return 0;
}

static int expect_word(scan *s, const char *w, size_t n) {
    if ((size_t)(s->end - s->p) < n || memcmp(s->p, w, n) != 0)
        return bad(s, R_SYNTAX, "unexpected character");
    s->p += n;
    return 0;
}

/* Scan any value; depth is the depth of the container holding it. */
static int scan_value(scan *s, int depth, firn_json_kind *kind, size_t limit) {
    if (s->p >= s->end) return bad(s, R_SYNTAX, "unexpected end");
    uint8_t c = *s->p;
    const char *str;
    size_t len;
    switch (c) {
    case '"': *kind = FIRN_JSON_STRING; return scan_string(s, &str, &len, limit);
    case 't': *kind = FIRN_JSON_TRUE; return expect_word(s, "true", 4);
    case 'f': *kind = FIRN_JSON_FALSE; return expect_word(s, "false", 5);
    case 'n': *kind = FIRN_JSON_NULL; return expect_word(s, "null", 4);
    case '{':
    case '[': {
        *kind = c == '{' ? FIRN_JSON_OBJECT : FIRN_JSON_ARRAY;
        if (depth + 1 > s->lim->max_depth) return bad(s, R_DEEP, "nesting too deep");
        /* iterative would avoid recursion; the depth bound keeps it small */
        uint8_t close = c == '{' ? '}' : ']';
        s->p++;
        skip_ws(s);
        if (s->p < s->end && *s->p == close) { s->p++; return 0; }
        for (;;) {
            skip_ws(s);
            firn_json_kind k;
            if (close == '}') {
                if (s->p >= s->end || *s->p != '"') return bad(s, R_SYNTAX, "expected a name");
                if (scan_string(s, &str, &len, limit)) return -1;
                skip_ws(s);
                if (s->p >= s->end || *s->p != ':') return bad(s, R_SYNTAX, "expected ':'");
                s->p++;
                skip_ws(s);
            }
            if (scan_value(s, depth + 1, &k, limit)) return -1;
            skip_ws(s);
            if (s->p >= s->end) return bad(s, R_SYNTAX, "unexpected end");
            if (*s->p == ',') { s->p++; continue; }
            if (*s->p == close) { s->p++; return 0; }
            return bad(s, R_SYNTAX, close == '}' ? "expected ',' or '}'" : "expected ',' or ']'");
        }
    }
    default:
        if (c == '-' || (c >= '0' && c <= '9')) { *kind = FIRN_JSON_NUMBER; return scan_number(s); }
        if (c >= 0x80 && !utf8_seq(s->p, s->end)) return bad(s, R_UTF8, "invalid UTF-8");
        return bad(s, R_SYNTAX, "unexpected character");
    }
}

/* Validate UTF-8 of a whole buffer outside the scanner (used when a syntax
 * error is found first: invalid UTF-8 anywhere wins, as the more precise reason). */
static bool utf8_valid(const uint8_t *p, const uint8_t *end) {
    while (p < end) {
        if (*p < 0x80) { p++; continue; }
        size_t n = utf8_seq(p, end);
        if (!n) return false;
        p += n;
    }
    return true;
}

const char *firn_event_parse(firn_event *e, const void *json, size_t len,
                             const firn_event_limits *lim) {
    e->nfields = 0;
    e->raw = json;
    e->raw_len = len;
    e->reason = NULL;
    e->detail[0] = 0;
    firn_buf_clear(&e->decoded);
    scan s = {json, json, (const uint8_t *)json + len, e, lim, NULL};
    if (len > lim->max_event_bytes) {
        bad(&s, R_LARGE, "event too large");
        snprintf(e->detail, sizeof e->detail, "%zu bytes, limit %zu", len, lim->max_event_bytes);
        return e->reason = R_LARGE;
    }
    firn_buf_reserve(&e->decoded, len + 1);
    skip_ws(&s);
    if (s.p == s.end) {
        bad(&s, R_EMPTY, "no JSON value");
        return e->reason = R_EMPTY;
    }
    if (*s.p != '{') {
        firn_json_kind k;
        if (scan_value(&s, 0, &k, (size_t)-1) == 0) {
            skip_ws(&s);
            if (s.p == s.end) { bad(&s, R_NOTOBJ, "not an object"); return e->reason = R_NOTOBJ; }
            bad(&s, R_SYNTAX, "trailing characters");
        }
        if (s.reason == R_SYNTAX && !utf8_valid(s.start, s.end)) s.reason = R_UTF8;
        return e->reason = s.reason;
    }
    if (lim->max_depth < 1) { bad(&s, R_DEEP, "nesting too deep"); return e->reason = R_DEEP; }
    s.p++;
    skip_ws(&s);
    if (s.p < s.end && *s.p == '}') {
        s.p++;
    } else {
        for (;;) {
            skip_ws(&s);
            if (s.p >= s.end || *s.p != '"') { bad(&s, R_SYNTAX, "expected a name"); goto fail; }
            const char *name;
            size_t nlen;
            if (scan_string(&s, &name, &nlen, lim->max_field_bytes)) goto fail;
            skip_ws(&s);
            if (s.p >= s.end || *s.p != ':') { bad(&s, R_SYNTAX, "expected ':'"); goto fail; }
            s.p++;
            skip_ws(&s);
            bool blob = lim->blob_field && strlen(lim->blob_field) == nlen &&
                        memcmp(lim->blob_field, name, nlen) == 0;
            size_t limit = blob ? (size_t)-1 : lim->max_field_bytes;
            const uint8_t *vstart = s.p;
            firn_event_field f = {name, nlen, FIRN_JSON_NULL, NULL, 0};
            if (s.p < s.end && *s.p == '"') {
                f.kind = FIRN_JSON_STRING;
                if (scan_string(&s, &f.value, &f.value_len, limit)) goto fail;
            } else {
                if (scan_value(&s, 1, &f.kind, limit)) goto fail;
                f.value = (const char *)vstart;
                f.value_len = (size_t)(s.p - vstart);
                if ((f.kind == FIRN_JSON_OBJECT || f.kind == FIRN_JSON_ARRAY ||
                     f.kind == FIRN_JSON_NUMBER) && f.value_len > limit) {
                    s.p = vstart;
                    bad(&s, R_FIELD, "value too long");
                    goto fail;
                }
            }
            for (size_t i = 0; i < e->nfields; i++) {
                if (e->fields[i].name_len == nlen && memcmp(e->fields[i].name, name, nlen) == 0) {
                    s.p = vstart;
                    bad(&s, R_DUPKEY, "duplicate name");
                    goto fail;
                }
            }
            if (e->nfields == lim->max_fields) { bad(&s, R_MANY, "too many fields"); goto fail; }
            if (e->nfields == e->cap) {
                e->cap = e->cap ? e->cap * 2 : 16;
                e->fields = firn_xrealloc(e->fields, e->cap * sizeof *e->fields);
            }
            e->fields[e->nfields++] = f;
            skip_ws(&s);
            if (s.p >= s.end) { bad(&s, R_SYNTAX, "unexpected end"); goto fail; }
            if (*s.p == ',') { s.p++; continue; }
            if (*s.p == '}') { s.p++; break; }
            bad(&s, R_SYNTAX, "expected ',' or '}'");
            goto fail;
        }
    }
    skip_ws(&s);
    if (s.p != s.end) { bad(&s, R_SYNTAX, "trailing characters"); goto fail; }
    return NULL;
fail:
    if (s.reason == R_SYNTAX && !utf8_valid(s.start, s.end)) s.reason = R_UTF8;
    e->nfields = 0;
    return e->reason = s.reason;
}

const firn_event_field *firn_event_get(const firn_event *e, const char *name, size_t len) {
    for (size_t i = 0; i < e->nfields; i++)
        if (e->fields[i].name_len == len && memcmp(e->fields[i].name, name, len) == 0)
            return &e->fields[i];
    return NULL;
}

/* ================================================================ values */

static int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static inline int digits(const char *s, int n, int *out) {
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

int firn_parse_timestamp(const char *s, size_t len, int64_t *us) {
    int y, mo, d, h, mi, se;
    if (len < 20 || digits(s, 4, &y) || s[4] != '-' || digits(s + 5, 2, &mo) || s[7] != '-' ||
        digits(s + 8, 2, &d) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
        digits(s + 11, 2, &h) || s[13] != ':' || digits(s + 14, 2, &mi) || s[16] != ':' ||
        digits(s + 17, 2, &se))
        return -1;
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 || mi > 59 || se > 59) return -1;
    if (mo == 2 && d == 29 && !(y % 4 == 0 && (y % 100 != 0 || y % 400 == 0))) return -1;
    size_t i = 19;
    int64_t frac = 0;
    if (i < len && s[i] == '.') {
        i++;
        int nd = 0;
        while (i < len && s[i] >= '0' && s[i] <= '9') {
            if (nd < 6) frac = frac * 10 + (s[i] - '0');
            nd++;
            i++;
        }
        if (nd == 0 || nd > 9) return -1;
        for (int k = nd; k < 6; k++) frac *= 10;
    }
    int64_t off = 0;
    if (i < len && (s[i] == 'Z' || s[i] == 'z')) {
        i++;
    } else if (i < len && (s[i] == '+' || s[i] == '-')) {
        int oh, om;
        int sign = s[i] == '-' ? -1 : 1;
        i++;
        if (len - i == 5 && s[i + 2] == ':' && !digits(s + i, 2, &oh) && !digits(s + i + 3, 2, &om))
            i += 5;
        else if (len - i == 4 && !digits(s + i, 2, &oh) && !digits(s + i + 2, 2, &om))
            i += 4;
        else
            return -1;
        if (oh > 23 || om > 59) return -1;
        off = sign * (oh * 3600 + om * 60);
    } else {
        return -1; /* a zone is required */
    }
    if (i != len) return -1;
    int64_t secs = days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 + mi * 60 + se - off;
    *us = secs * 1000000 + frac;
    return 0;
}

/* JSON integer text -> int64 (no fraction or exponent). */
static int parse_json_int(const char *s, size_t n, int64_t *out) {
    size_t i = 0;
    bool neg = false;
    if (n && s[0] == '-') { neg = true; i = 1; }
    if (i == n || n - i > 19) return -1;
    uint64_t v = 0;
    for (; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return -1;
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    if (v > (uint64_t)INT64_MAX + neg) return -1;
    *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    return 0;
}

/* JSON number text -> double: exact fast path for short decimals, strtod otherwise. */
static int parse_json_double(const char *s, size_t n, double *out) {
    static const double p10[] = {1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10,
                                 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19,
                                 1e20, 1e21, 1e22};
    size_t i = 0;
    bool neg = false;
    if (n && s[0] == '-') { neg = true; i = 1; }
    uint64_t m = 0;
    int nd = 0, scale = 0;
    bool simple = true;
    for (; i < n; i++) {
        char c = s[i];
        if (c >= '0' && c <= '9') {
            m = m * 10 + (uint64_t)(c - '0');
            if (++nd > 15) { simple = false; break; }
            if (scale) scale++;
        } else if (c == '.' && !scale) {
            scale = 1;
        } else {
            simple = false;
            break;
        }
    }
    if (simple && nd > 0) {
        int frac = scale ? scale - 1 : 0;
        double v = (double)m / p10[frac];
        *out = neg ? -v : v;
        return 0;
    }
    char buf[128];
    if (n >= sizeof buf) return -1;
    memcpy(buf, s, n);
    buf[n] = 0;
    char *end;
    double v = strtod(buf, &end);
    if (end != buf + n || !isfinite(v)) return -1;
    *out = v;
    return 0;
}

/* ================================================================ patterns */

/* A fast matcher for anchored patterns made of literal characters and
 * bracket classes with counted repetition ("^[0-9]{2}[A-Z]{2}[0-9]{4}$"),
 * which is what plate and id patterns look like; anything else uses regexec. */
typedef struct pat_atom {
    uint8_t set[32]; /* byte bitmap */
    uint16_t min, max;
} pat_atom;

typedef struct fast_pattern {
    pat_atom *atoms;
    size_t n;
} fast_pattern;

static int parse_class(const char *p, pat_atom *a, const char **next) {
    memset(a->set, 0, sizeof a->set);
    bool negate = false;
    p++; /* '[' */
    if (*p == '^') { negate = true; p++; }
    bool first = true;
    while (*p && (*p != ']' || first)) {
        if (*p == '[' || *p == '\\') return -1; /* [:alpha:] and escapes: leave to regex */
        unsigned lo = (uint8_t)*p, hi = lo;
        if (p[1] == '-' && p[2] && p[2] != ']') {
            hi = (uint8_t)p[2];
            p += 3;
        } else {
            p++;
        }
        if (hi < lo) return -1;
        for (unsigned c = lo; c <= hi; c++) a->set[c >> 3] |= (uint8_t)(1u << (c & 7));
        first = false;
    }
    if (*p != ']') return -1;
    if (negate)
        for (int i = 0; i < 32; i++) a->set[i] = (uint8_t)~a->set[i];
    *next = p + 1;
    return 0;
}

static bool fast_pattern_compile(const char *re, fast_pattern *fp) {
    size_t len = strlen(re);
    fp->atoms = NULL;
    fp->n = 0;
    if (len < 2 || re[0] != '^' || re[len - 1] != '$' || (len >= 2 && re[len - 2] == '\\'))
        return false;
    fp->atoms = firn_xcalloc(len, sizeof *fp->atoms);
    const char *p = re + 1, *end = re + len - 1;
    while (p < end) {
        pat_atom *a = &fp->atoms[fp->n];
        if (*p == '[') {
            if (parse_class(p, a, &p)) goto no;
        } else if ((*p >= '0' && *p <= '9') || (*p >= 'A' && *p <= 'Z') ||
                   (*p >= 'a' && *p <= 'z') || *p == '-' || *p == '_' || *p == ':' || *p == '/') {
            memset(a->set, 0, sizeof a->set);
            a->set[(uint8_t)*p >> 3] |= (uint8_t)(1u << ((uint8_t)*p & 7));
            p++;
        } else {
            goto no;
        }
        a->min = a->max = 1;
        if (p < end && *p == '{') {
            char *e1;
            long m = strtol(p + 1, &e1, 10);
            long x = m;
            if (e1 == p + 1 || m < 0 || m > 1000) goto no;
            if (*e1 == ',') {
                char *e2;
                x = strtol(e1 + 1, &e2, 10);
                if (e2 == e1 + 1 || x < m || x > 1000) goto no;
                e1 = e2;
            }
            if (*e1 != '}') goto no;
            a->min = (uint16_t)m;
            a->max = (uint16_t)x;
            p = e1 + 1;
        } else if (p < end && (*p == '?' || *p == '*' || *p == '+' || *p == '|' || *p == '(')) {
            goto no;
        }
        fp->n++;
    }
    return true;
no:
    free(fp->atoms);
    fp->atoms = NULL;
    fp->n = 0;
    return false;
}

static bool atom_has(const pat_atom *a, uint8_t c) { return a->set[c >> 3] >> (c & 7) & 1; }

static bool fast_match(const pat_atom *a, size_t n, const uint8_t *s, size_t len) {
    if (n == 0) return len == 0;
    size_t k = 0;
    while (k < a->max && k < len && atom_has(a, s[k])) k++;
    if (k < a->min) return false;
    for (;; k--) { /* backtrack over the repetition count */
        if (fast_match(a + 1, n - 1, s + k, len - k)) return true;
        if (k == a->min) return false;
    }
}

/* ================================================================ base64 */

static int base64_decode(const char *in, size_t n, uint8_t *out, size_t *outlen) {
    static int8_t map[256];
    static bool ready;
    if (!ready) {
        memset(map, -1, sizeof map);
        const char *a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        for (int i = 0; i < 64; i++) map[(uint8_t)a[i]] = (int8_t)i;
        map['-'] = 62; /* URL-safe alphabet too */
        map['_'] = 63;
        ready = true;
    }
    while (n && in[n - 1] == '=') n--;
    if (n % 4 == 1) return -1;
    size_t o = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        int v = map[(uint8_t)in[i]];
        if (v < 0) return -1;
        acc = acc << 6 | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (uint8_t)(acc >> bits);
        }
    }
    *outlen = o;
    return 0;
}

/* ================================================================ images */

enum img_kind { IMG_UNKNOWN, IMG_JPEG, IMG_PNG, IMG_OTHER };

static enum img_kind sniff(const uint8_t *p, size_t n) {
    if (n >= 3 && p[0] == 0xFF && p[1] == 0xD8 && p[2] == 0xFF) return IMG_JPEG;
    if (n >= 8 && memcmp(p, "\x89PNG\r\n\x1a\n", 8) == 0) return IMG_PNG;
    if ((n >= 6 && (memcmp(p, "GIF87a", 6) == 0 || memcmp(p, "GIF89a", 6) == 0)) ||
        (n >= 12 && memcmp(p, "RIFF", 4) == 0 && memcmp(p + 8, "WEBP", 4) == 0) ||
        (n >= 2 && memcmp(p, "BM", 2) == 0) ||
        (n >= 4 && (memcmp(p, "II*\0", 4) == 0 || memcmp(p, "MM\0*", 4) == 0)))
        return IMG_OTHER;
    return IMG_UNKNOWN;
}

/* A decoder and its scratch: one per thread. */
typedef struct img_checker {
    tjhandle tj;
    firn_buf pixels;
} img_checker;

static void img_checker_release(img_checker *ck) {
    if (ck->tj) tjDestroy(ck->tj);
    ck->tj = NULL;
    firn_buf_release(&ck->pixels);
}

/* ================================================================ validator */

typedef struct vfield {
    const firn_config_field *cf;
    size_t name_len;
    size_t col;           /* first column */
    char *r_required, *r_type, *r_range, *r_pattern, *r_duplicate;
    bool has_regex;
    regex_t regex;
    fast_pattern fast;
} vfield;

struct firn_validator {
    const firn_config_type *type;
    vfield *fields;
    size_t nfields;
    firn_column_desc *cols;
    char **colnames;
    size_t ncols;
    firn_ice_value *row;
    int image_field;  /* index or -1 */
    int unique_field; /* index or -1 */
    int *slot;        /* per config field: index of the event field, -1 */
    img_checker ck;
    firn_buf image_buf; /* base64-decoded image */
    firn_buf strbuf;    /* regexec needs NUL-terminated text */
};

static char *rule_name(const char *kind, const char *field) {
    size_t n = strlen(kind) + strlen(field) + 2;
    char *s = firn_xmalloc(n);
    snprintf(s, n, "%s:%s", kind, field);
    return s;
}

static void add_col(firn_validator *v, const char *name, const char *suffix, firn_ice_type_id t,
                    bool required) {
    size_t n = strlen(name) + strlen(suffix) + 1;
    char *s = firn_xmalloc(n);
    snprintf(s, n, "%s%s", name, suffix);
    v->cols = firn_xrealloc(v->cols, (v->ncols + 1) * sizeof *v->cols);
    v->colnames = firn_xrealloc(v->colnames, (v->ncols + 1) * sizeof *v->colnames);
    v->colnames[v->ncols] = s;
    v->cols[v->ncols] = (firn_column_desc){s, t, required};
    v->ncols++;
}

firn_validator *firn_validator_new(const firn_config_type *t, firn_error *err) {
    firn_validator *v = firn_xcalloc(1, sizeof *v);
    v->type = t;
    v->nfields = t->nfields;
    v->fields = firn_xcalloc(t->nfields ? t->nfields : 1, sizeof *v->fields);
    v->slot = firn_xcalloc(t->nfields ? t->nfields : 1, sizeof *v->slot);
    v->image_field = v->unique_field = -1;
    for (size_t i = 0; i < t->nfields; i++) {
        const firn_config_field *cf = &t->fields[i];
        vfield *f = &v->fields[i];
        f->cf = cf;
        f->name_len = strlen(cf->name);
        f->r_required = rule_name("required", cf->name);
        f->r_type = rule_name("type", cf->name);
        f->r_range = rule_name("range", cf->name);
        f->r_pattern = rule_name("pattern", cf->name);
        f->r_duplicate = rule_name("duplicate", cf->name);
        if (cf->pattern) {
            int rc = regcomp(&f->regex, cf->pattern, REG_EXTENDED | REG_NOSUB);
            if (rc) {
                char why[128];
                regerror(rc, &f->regex, why, sizeof why);
                FIRN_RAISE(err, FIRN_ERR_INVALID, "types.%s.fields.%s.pattern: %s", t->name,
                           cf->name, why);
                firn_validator_free(v);
                return NULL;
            }
            f->has_regex = true;
            fast_pattern_compile(cf->pattern, &f->fast);
        }
        if (cf->unique) v->unique_field = (int)i;
        f->col = v->ncols;
        switch (cf->type) {
        case FIRN_FIELD_STRING:
        case FIRN_FIELD_JSON: add_col(v, cf->name, "", FIRN_ICE_STRING, cf->required); break;
        case FIRN_FIELD_INT: add_col(v, cf->name, "", FIRN_ICE_INT, cf->required); break;
        case FIRN_FIELD_LONG: add_col(v, cf->name, "", FIRN_ICE_LONG, cf->required); break;
        case FIRN_FIELD_DOUBLE: add_col(v, cf->name, "", FIRN_ICE_DOUBLE, cf->required); break;
        case FIRN_FIELD_BOOLEAN: add_col(v, cf->name, "", FIRN_ICE_BOOLEAN, cf->required); break;
        case FIRN_FIELD_TIMESTAMP: add_col(v, cf->name, "", FIRN_ICE_TIMESTAMPTZ, cf->required); break;
        case FIRN_FIELD_IMAGE:
            v->image_field = (int)i;
            add_col(v, cf->name, "", FIRN_ICE_BINARY, cf->required);
            add_col(v, cf->name, "_format", FIRN_ICE_STRING, cf->required);
            add_col(v, cf->name, "_width", FIRN_ICE_INT, cf->required);
            add_col(v, cf->name, "_height", FIRN_ICE_INT, cf->required);
            add_col(v, cf->name, "_sha256", FIRN_ICE_STRING, cf->required);
            break;
        }
    }
    v->row = firn_xcalloc(v->ncols ? v->ncols : 1, sizeof *v->row);
    if (v->image_field >= 0) {
        v->ck.tj = tjInitDecompress();
        if (!v->ck.tj) {
            FIRN_RAISE(err, FIRN_ERR_NOMEM, "tjInitDecompress: %s", tjGetErrorStr2(NULL));
            firn_validator_free(v);
            return NULL;
        }
    }
    return v;
}

void firn_validator_free(firn_validator *v) {
    if (!v) return;
    for (size_t i = 0; i < v->nfields; i++) {
        vfield *f = &v->fields[i];
        free(f->r_required);
        free(f->r_type);
        free(f->r_range);
        free(f->r_pattern);
        free(f->r_duplicate);
        if (f->has_regex) regfree(&f->regex);
        free(f->fast.atoms);
    }
    for (size_t i = 0; i < v->ncols; i++) free(v->colnames[i]);
    free(v->colnames);
    free(v->cols);
    free(v->fields);
    free(v->slot);
    free(v->row);
    img_checker_release(&v->ck);
    firn_buf_release(&v->image_buf);
    firn_buf_release(&v->strbuf);
    free(v);
}

const firn_config_type *firn_validator_type(const firn_validator *v) { return v->type; }

const firn_column_desc *firn_validator_columns(const firn_validator *v, size_t *n) {
    *n = v->ncols;
    return v->cols;
}

static inline void fail_rule(firn_validation *r, const char *name) {
    if (r->nfailed < FIRN_MAX_FAILED) r->failed[r->nfailed++] = name;
}

static bool pattern_ok(firn_validator *v, vfield *f, const char *s, size_t n) {
    if (f->fast.atoms) return fast_match(f->fast.atoms, f->fast.n, (const uint8_t *)s, n);
    if (memchr(s, 0, n)) return false; /* regexec cannot see past a NUL */
    firn_buf_clear(&v->strbuf);
    firn_buf_append(&v->strbuf, s, n);
    return regexec(&f->regex, firn_buf_cstr(&v->strbuf), 0, NULL, 0) == 0;
}

/* libjpeg-turbo 2.1 leaves a handle unusable after some errors (every later
 * header read fails with the same message): start over with a new one. */
static void tj_reset(img_checker *ck) {
    if (ck->tj) tjDestroy(ck->tj);
    ck->tj = tjInitDecompress();
}

/* Check an image; fills the verdict's format and dimensions (as far as
 * known); returns the failed rule or NULL. */
static const char *check_image(img_checker *ck, const firn_config_field *cf, const uint8_t *img,
                               size_t n, firn_image_verdict *r) {
    if ((int64_t)n > cf->max_bytes) return "image:size";
    enum img_kind k = sniff(img, n);
    if (k == IMG_UNKNOWN) return "image:decode";
    if (k == IMG_OTHER || (k == IMG_JPEG && !(cf->formats & FIRN_IMAGE_JPEG)) ||
        (k == IMG_PNG && !(cf->formats & FIRN_IMAGE_PNG)))
        return "image:format";
    int w = 0, h = 0;
    if (k == IMG_JPEG) {
        int sub, cs;
        if (!ck->tj && !(ck->tj = tjInitDecompress())) return "image:decode"; /* out of memory */
        if (n > 0xFFFFFFFFu ||
            tjDecompressHeader3(ck->tj, img, (unsigned long)n, &w, &h, &sub, &cs) != 0 || w <= 0 || h <= 0) {
            tj_reset(ck);
            return "image:decode";
        }
        r->format = "jpeg";
    } else {
        if (n < 24 || memcmp(img + 12, "IHDR", 4) != 0) return "image:decode";
        uint32_t bw = (uint32_t)img[16] << 24 | (uint32_t)img[17] << 16 | (uint32_t)img[18] << 8 | img[19];
        uint32_t bh = (uint32_t)img[20] << 24 | (uint32_t)img[21] << 16 | (uint32_t)img[22] << 8 | img[23];
        if (bw == 0 || bh == 0 || bw > 0x7fffffff || bh > 0x7fffffff) return "image:decode";
        w = (int)bw;
        h = (int)bh;
        r->format = "png";
    }
    r->width = w;
    r->height = h;
    if (w < cf->min_width || w > cf->max_width || h < cf->min_height || h > cf->max_height)
        return "image:dimensions";
    if (cf->decode == FIRN_IMAGE_DECODE_HEADER && k == IMG_JPEG) return NULL;
    if (k == IMG_JPEG) {
        int dw = w, dh = h;
        if (cf->decode == FIRN_IMAGE_DECODE_SCALED) {
            dw = (w + 7) / 8;
            dh = (h + 7) / 8;
        }
        firn_buf_clear(&ck->pixels);
        firn_buf_reserve(&ck->pixels, (size_t)dw * (size_t)dh * 3 + 64);
        int rc = tjDecompress2(ck->tj, img, (unsigned long)n, ck->pixels.data, dw, 0, dh, TJPF_RGB,
                               TJFLAG_STOPONWARNING | TJFLAG_LIMITSCANS | TJFLAG_FASTDCT);
        if (rc != 0) {
            tj_reset(ck);
            return "image:decode";
        }
        return NULL;
    }
    png_image pi;
    memset(&pi, 0, sizeof pi);
    pi.version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_memory(&pi, img, n)) {
        png_image_free(&pi);
        return "image:decode";
    }
    if ((int)pi.width != w || (int)pi.height != h) {
        png_image_free(&pi);
        return "image:decode";
    }
    if (cf->decode == FIRN_IMAGE_DECODE_HEADER) {
        png_image_free(&pi);
        return NULL;
    }
    pi.format = PNG_FORMAT_RGBA;
    firn_buf_clear(&ck->pixels);
    firn_buf_reserve(&ck->pixels, PNG_IMAGE_SIZE(pi));
    int ok = png_image_finish_read(&pi, NULL, ck->pixels.data, 0, NULL);
    png_image_free(&pi);
    return ok ? NULL : "image:decode";
}

/* The verdict of one image; the dedupe hash only when want_hash. */
static void image_verdict(img_checker *ck, const firn_config_field *cf, const void *img, size_t n,
                          bool want_hash, firn_image_verdict *out) {
    memset(out, 0, sizeof *out);
    out->image = img;
    out->len = n;
    out->failed = check_image(ck, cf, img, n, out);
    if (!out->failed) firn_sha256(img, n, out->sha256);
    if (want_hash) out->hash = XXH3_64bits_withSeed(img, n, 1);
}

/* ================================================================ image pool */

struct firn_image_pool {
    int nthreads;
    pthread_t *th;
    img_checker *ck; /* nthreads + 1: the caller's last */
    pthread_mutex_t mu;
    pthread_cond_t go, done;
    uint64_t gen;    /* bumped per group */
    int active;      /* workers still on the current group */
    bool stop;
    firn_image_job *jobs;
    size_t n;
    atomic_size_t next;
};

typedef struct pool_worker {
    firn_image_pool *p;
    int i;
} pool_worker;

static void pool_run(firn_image_pool *p, img_checker *ck, firn_image_job *jobs, size_t n) {
    for (;;) {
        size_t i = atomic_fetch_add(&p->next, 1);
        if (i >= n) break;
        image_verdict(ck, jobs[i].cf, jobs[i].image, jobs[i].len, true, &jobs[i].out);
    }
}

static void *pool_main(void *arg) {
    pool_worker *w = arg;
    firn_image_pool *p = w->p;
    img_checker *ck = &p->ck[w->i];
    free(w);
    uint64_t seen = 0;
    for (;;) {
        pthread_mutex_lock(&p->mu);
        while (!p->stop && p->gen == seen) pthread_cond_wait(&p->go, &p->mu);
        if (p->stop) {
            pthread_mutex_unlock(&p->mu);
            return NULL;
        }
        seen = p->gen;
        firn_image_job *jobs = p->jobs;
        size_t n = p->n;
        pthread_mutex_unlock(&p->mu);
        pool_run(p, ck, jobs, n);
        pthread_mutex_lock(&p->mu);
        if (--p->active == 0) pthread_cond_signal(&p->done);
        pthread_mutex_unlock(&p->mu);
    }
}

int firn_image_threads_default(void) {
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    if (n < 1) n = 1;
    if (n > 8) n = 8;
    return (int)n - 1;
}

firn_image_pool *firn_image_pool_new(int threads) {
    firn_image_pool *p = firn_xcalloc(1, sizeof *p);
    if (threads < 0) threads = 0;
    p->ck = firn_xcalloc((size_t)threads + 1, sizeof *p->ck);
    p->th = firn_xcalloc((size_t)threads + 1, sizeof *p->th);
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->go, NULL);
    pthread_cond_init(&p->done, NULL);
    atomic_init(&p->next, 0);
    for (int i = 0; i < threads; i++) {
        pool_worker *w = firn_xmalloc(sizeof *w);
        *w = (pool_worker){p, i};
        if (pthread_create(&p->th[i], NULL, pool_main, w) != 0) {
            free(w); /* fewer workers: the caller does the rest */
            break;
        }
        p->nthreads++;
    }
    return p;
}

void firn_image_pool_free(firn_image_pool *p) {
    if (!p) return;
    pthread_mutex_lock(&p->mu);
    p->stop = true;
    pthread_cond_broadcast(&p->go);
    pthread_mutex_unlock(&p->mu);
    for (int i = 0; i < p->nthreads; i++) pthread_join(p->th[i], NULL);
    for (int i = 0; i <= p->nthreads; i++) img_checker_release(&p->ck[i]);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->go);
    pthread_cond_destroy(&p->done);
    free(p->ck);
    free(p->th);
    free(p);
}

int firn_image_pool_threads(const firn_image_pool *p) { return p->nthreads; }

void firn_image_pool_check(firn_image_pool *p, firn_image_job *jobs, size_t n) {
    if (!n) return;
    img_checker *mine = &p->ck[p->nthreads];
    if (p->nthreads == 0 || n == 1) {
        for (size_t i = 0; i < n; i++)
            image_verdict(mine, jobs[i].cf, jobs[i].image, jobs[i].len, true, &jobs[i].out);
        return;
    }
    pthread_mutex_lock(&p->mu);
    p->jobs = jobs;
    p->n = n;
    atomic_store(&p->next, 0);
    p->active = p->nthreads;
    p->gen++;
    pthread_cond_broadcast(&p->go);
    pthread_mutex_unlock(&p->mu);
    pool_run(p, mine, jobs, n);
    pthread_mutex_lock(&p->mu);
    while (p->active) pthread_cond_wait(&p->done, &p->mu);
    p->jobs = NULL;
    p->n = 0;
    pthread_mutex_unlock(&p->mu);
}

int firn_validate(firn_validator *v, const firn_event *ev, const void *image, size_t image_len,
                  int64_t now_us, firn_dedupe *dd, firn_validation *out, firn_error *err) {
    return firn_validate_pre(v, ev, image, image_len, NULL, now_us, dd, out, err);
}

int firn_validate_pre(firn_validator *v, const firn_event *ev, const void *image,
                      size_t image_len, const firn_image_verdict *pre, int64_t now_us,
                      firn_dedupe *dd, firn_validation *out, firn_error *err) {
    (void)err;
    firn_validation *r = out;
    r->nfailed = 0;
    r->redelivery = false;
    r->row = v->row;
    r->ncolumns = v->ncols;
    r->image = NULL;
    r->image_len = 0;
    r->image_format = NULL;
    r->image_width = r->image_height = 0;
    r->image_sha256_hex[0] = 0;

    /* match event fields to configured fields; events usually keep one order */
    size_t nf = v->nfields;
    for (size_t i = 0; i < nf; i++) v->slot[i] = -1;
    size_t guess = 0;
    for (size_t j = 0; j < ev->nfields; j++) {
        const firn_event_field *ef = &ev->fields[j];
        for (size_t t = 0; t < nf; t++) {
            size_t i = guess + t < nf ? guess + t : guess + t - nf;
            if (v->fields[i].name_len == ef->name_len &&
                memcmp(v->fields[i].cf->name, ef->name, ef->name_len) == 0) {
                v->slot[i] = (int)j;
                guess = i + 1 < nf ? i + 1 : 0;
                break;
            }
        }
    }

    const uint8_t *img = image;
    size_t img_len = image_len;
    firn_image_verdict local;
    const firn_image_verdict *vd = NULL; /* the image's, once checked */
    const char *unique_val = NULL;
    size_t unique_len = 0;
    char numbuf[24];
    for (size_t i = 0; i < nf; i++) {
        vfield *f = &v->fields[i];
        const firn_config_field *cf = f->cf;
        const firn_event_field *ef = v->slot[i] >= 0 ? &ev->fields[v->slot[i]] : NULL;
        firn_ice_value *val = &v->row[f->col];
        bool absent = !ef || ef->kind == FIRN_JSON_NULL;
        if (cf->type == FIRN_FIELD_IMAGE) {
            for (int c = 0; c < 5; c++) v->row[f->col + (size_t)c] = firn_ice_value_null(v->cols[f->col + (size_t)c].type);
            if (!img && !absent) {
                if (ef->kind != FIRN_JSON_STRING) { fail_rule(r, f->r_type); continue; }
                firn_buf_clear(&v->image_buf);
                firn_buf_reserve(&v->image_buf, ef->value_len / 4 * 3 + 4);
                size_t n = 0;
                if (base64_decode(ef->value, ef->value_len, v->image_buf.data, &n)) {
                    fail_rule(r, "image:decode");
                    continue;
                }
                img = v->image_buf.data;
                img_len = n;
            }
            if (!img || img_len == 0) {
                if (cf->required) fail_rule(r, f->r_required);
                continue;
            }
            r->image = img;
            r->image_len = img_len;
            bool header_image = img != v->image_buf.data;
            if (pre && header_image && pre->image == img && pre->len == img_len) {
                vd = pre;
            } else {
                image_verdict(&v->ck, cf, img, img_len, header_image, &local);
                vd = &local;
            }
            r->image_format = vd->format;
            r->image_width = vd->width;
            r->image_height = vd->height;
            if (vd->failed) { fail_rule(r, vd->failed); continue; }
            memcpy(r->image_sha256, vd->sha256, 32);
            firn_hex(r->image_sha256, 32, r->image_sha256_hex);
            val[0].is_null = false;
            val[0].u.bin.ptr = img;
            val[0].u.bin.len = img_len;
            val[1].is_null = false;
            val[1].u.bin.ptr = (const uint8_t *)r->image_format;
            val[1].u.bin.len = strlen(r->image_format);
            val[2] = firn_ice_value_int(r->image_width);
            val[3] = firn_ice_value_int(r->image_height);
            val[4].is_null = false;
            val[4].u.bin.ptr = (const uint8_t *)r->image_sha256_hex;
            val[4].u.bin.len = 64;
            continue;
        }
        *val = firn_ice_value_null(v->cols[f->col].type);
        if (absent) {
            if (cf->required) fail_rule(r, f->r_required);
            continue;
        }
        switch (cf->type) {
        case FIRN_FIELD_STRING:
            if (ef->kind != FIRN_JSON_STRING) { fail_rule(r, f->r_type); continue; }
            if (f->has_regex && !pattern_ok(v, f, ef->value, ef->value_len)) {
                fail_rule(r, f->r_pattern);
                continue;
            }
            val->is_null = false;
            val->u.bin.ptr = (const uint8_t *)ef->value;
            val->u.bin.len = ef->value_len;
            if ((int)i == v->unique_field) { unique_val = ef->value; unique_len = ef->value_len; }
            break;
        case FIRN_FIELD_INT:
        case FIRN_FIELD_LONG: {
            int64_t x;
            if (ef->kind != FIRN_JSON_NUMBER || parse_json_int(ef->value, ef->value_len, &x) ||
                (cf->type == FIRN_FIELD_INT && (x < INT32_MIN || x > INT32_MAX))) {
                fail_rule(r, f->r_type);
                continue;
            }
            if ((cf->has_min && (double)x < cf->min) || (cf->has_max && (double)x > cf->max)) {
                fail_rule(r, f->r_range);
                continue;
            }
            *val = cf->type == FIRN_FIELD_INT ? firn_ice_value_int((int32_t)x) : firn_ice_value_long(x);
            if ((int)i == v->unique_field) {
                unique_len = (size_t)snprintf(numbuf, sizeof numbuf, "%lld", (long long)x);
                unique_val = numbuf;
            }
            break;
        }
        case FIRN_FIELD_DOUBLE: {
            double x;
            if (ef->kind != FIRN_JSON_NUMBER || parse_json_double(ef->value, ef->value_len, &x)) {
                fail_rule(r, f->r_type);
                continue;
            }
            if ((cf->has_min && x < cf->min) || (cf->has_max && x > cf->max)) {
                fail_rule(r, f->r_range);
                continue;
            }
            *val = firn_ice_value_double(x);
            break;
        }
        case FIRN_FIELD_BOOLEAN:
            if (ef->kind != FIRN_JSON_TRUE && ef->kind != FIRN_JSON_FALSE) {
                fail_rule(r, f->r_type);
                continue;
            }
            val->is_null = false;
            val->u.b = ef->kind == FIRN_JSON_TRUE;
            break;
        case FIRN_FIELD_TIMESTAMP: {
            int64_t ts;
            if (ef->kind != FIRN_JSON_STRING || firn_parse_timestamp(ef->value, ef->value_len, &ts)) {
                fail_rule(r, f->r_type);
                continue;
            }
            if (cf->max_future_us >= 0 && ts > now_us + cf->max_future_us) {
                fail_rule(r, "timestamp:future");
                continue;
            }
            if (cf->max_age_us > 0 && ts < now_us - cf->max_age_us) {
                fail_rule(r, "timestamp:too-old");
                continue;
            }
            *val = firn_ice_value_i64(FIRN_ICE_TIMESTAMPTZ, ts);
            break;
        }
        case FIRN_FIELD_JSON:
            /* a string as its text, anything else as its JSON text */
            val->is_null = false;
            if (ef->kind == FIRN_JSON_TRUE || ef->kind == FIRN_JSON_FALSE) {
                val->u.bin.ptr = (const uint8_t *)(ef->kind == FIRN_JSON_TRUE ? "true" : "false");
                val->u.bin.len = ef->kind == FIRN_JSON_TRUE ? 4 : 5;
            } else {
                val->u.bin.ptr = (const uint8_t *)ef->value;
                val->u.bin.len = ef->value_len;
            }
            break;
        case FIRN_FIELD_IMAGE:
            break;
        }
    }

    r->payload_hash = XXH3_64bits(ev->raw, ev->raw_len);
    if (img && img != v->image_buf.data)
        r->payload_hash ^= vd ? vd->hash : XXH3_64bits_withSeed(img, img_len, 1);
    if (dd && v->unique_field >= 0 && unique_val) {
        firn_dedupe_result d = firn_dedupe_check(dd, unique_val, unique_len, r->payload_hash,
                                                 now_us, r->nfailed == 0);
        if (d == FIRN_DEDUPE_CONFLICT) fail_rule(r, v->fields[v->unique_field].r_duplicate);
        else if (d == FIRN_DEDUPE_REDELIVERY) r->redelivery = true;
    }
    return 0;
}

void firn_validation_failed_string(const firn_validation *r, firn_buf *out) {
    for (size_t i = 0; i < r->nfailed; i++) {
        if (i) firn_buf_put_u8(out, ',');
        firn_buf_append_str(out, r->failed[i]);
    }
}

/* ================================================================ dedupe */

typedef struct dd_entry {
    uint64_t h1, h2;  /* 128-bit hash of the id */
    uint64_t payload;
    int64_t at;
} dd_entry;

struct firn_dedupe {
    dd_entry *ring; /* insertion order: [head, head + count) mod cap */
    size_t cap, head, count;
    /* open addressing: ring slot + 1 in the low 32 bits (0 = empty), the top
     * 32 bits of h1 in the high ones, so a probe rarely touches the ring */
    uint64_t *index;
    size_t mask;
    int64_t window_us;
};

#define DD_TAG(h1) ((h1) & 0xffffffff00000000ULL)
#define DD_SLOT(x) ((uint32_t)(x))

firn_dedupe *firn_dedupe_new(size_t max_entries, int64_t window_us) {
    firn_dedupe *d = firn_xcalloc(1, sizeof *d);
    if (max_entries < 1) max_entries = 1;
    if (max_entries > 0x7fffffff) max_entries = 0x7fffffff;
    d->cap = max_entries;
    d->ring = firn_xcalloc(max_entries, sizeof *d->ring);
    size_t isz = 16;
    while (isz < max_entries * 2) isz <<= 1;
    d->index = firn_xcalloc(isz, sizeof *d->index);
    d->mask = isz - 1;
    d->window_us = window_us;
    return d;
}

void firn_dedupe_free(firn_dedupe *d) {
    if (!d) return;
    free(d->ring);
    free(d->index);
    free(d);
}

size_t firn_dedupe_size(const firn_dedupe *d) { return d->count; }

void firn_dedupe_clear(firn_dedupe *d) {
    memset(d->index, 0, (d->mask + 1) * sizeof *d->index);
    d->head = d->count = 0;
}

static size_t dd_find(const firn_dedupe *d, uint64_t h1, uint64_t h2) {
    uint64_t tag = DD_TAG(h1);
    for (size_t i = (size_t)h1 & d->mask;; i = (i + 1) & d->mask) {
        uint64_t x = d->index[i];
        if (!DD_SLOT(x)) return (size_t)-1;
        if (DD_TAG(x) != tag) continue;
        const dd_entry *e = &d->ring[DD_SLOT(x) - 1];
        if (e->h1 == h1 && e->h2 == h2) return i;
    }
}

/* Remove index position i (backward-shift deletion keeps probe chains whole). */
static void dd_index_remove(firn_dedupe *d, size_t i) {
    size_t j = i;
    for (;;) {
        j = (j + 1) & d->mask;
        uint64_t x = d->index[j];
        if (!DD_SLOT(x)) break;
        size_t home = (size_t)d->ring[DD_SLOT(x) - 1].h1 & d->mask;
        /* can the entry at j move to i? (its home is not in (i, j]) */
        if (((j - home) & d->mask) >= ((j - i) & d->mask)) {
            d->index[i] = x;
            i = j;
        }
    }
    d->index[i] = 0;
}

static void dd_pop_oldest(firn_dedupe *d) {
    dd_entry *e = &d->ring[d->head];
    size_t i = dd_find(d, e->h1, e->h2);
    if (i != (size_t)-1 && DD_SLOT(d->index[i]) == d->head + 1) dd_index_remove(d, i);
    d->head = (d->head + 1) % d->cap;
    d->count--;
}

static firn_dedupe_result dd_lookup(const firn_dedupe *d, XXH128_hash_t h, uint64_t payload_hash,
                                    int64_t now_us) {
    size_t i = dd_find(d, h.low64, h.high64);
    if (i == (size_t)-1) return FIRN_DEDUPE_NEW;
    const dd_entry *e = &d->ring[DD_SLOT(d->index[i]) - 1];
    if (d->window_us > 0 && e->at < now_us - d->window_us) return FIRN_DEDUPE_NEW;
    return e->payload == payload_hash ? FIRN_DEDUPE_REDELIVERY : FIRN_DEDUPE_CONFLICT;
}

/* Entries leave by the entry bound only, never by time here: now_us is the
 * inserted event's own time, and events of different partitions are not in
 * time order (a partition an hour behind another is read alongside it), so
 * dropping the entries older than the newest event's window would forget ids
 * whose repeats are still to come in the lagging partition. Whether an entry
 * still counts is decided per lookup, against the looked-up event's time. */
static void dd_insert(firn_dedupe *d, XXH128_hash_t h, uint64_t payload_hash, int64_t now_us) {
    size_t i = dd_find(d, h.low64, h.high64);
    if (i != (size_t)-1) dd_index_remove(d, i); /* the old ring entry stays, unindexed */
    if (d->count == d->cap) dd_pop_oldest(d);
    size_t slot = (d->head + d->count) % d->cap;
    d->ring[slot] = (dd_entry){h.low64, h.high64, payload_hash, now_us};
    d->count++;
    for (i = (size_t)h.low64 & d->mask; DD_SLOT(d->index[i]); i = (i + 1) & d->mask) {}
    d->index[i] = DD_TAG(h.low64) | (uint32_t)(slot + 1);
}

firn_dedupe_result firn_dedupe_lookup(const firn_dedupe *d, const void *id, size_t len,
                                      uint64_t payload_hash, int64_t now_us) {
    return dd_lookup(d, XXH3_128bits(id, len), payload_hash, now_us);
}

void firn_dedupe_insert(firn_dedupe *d, const void *id, size_t len, uint64_t payload_hash,
                        int64_t now_us) {
    dd_insert(d, XXH3_128bits(id, len), payload_hash, now_us);
}

firn_dedupe_result firn_dedupe_check(firn_dedupe *d, const void *id, size_t len,
                                     uint64_t payload_hash, int64_t now_us, bool insert_if_new) {
    XXH128_hash_t h = XXH3_128bits(id, len);
    firn_dedupe_result r = dd_lookup(d, h, payload_hash, now_us);
    if (r == FIRN_DEDUPE_NEW && insert_if_new) dd_insert(d, h, payload_hash, now_us);
    return r;
}
