/* memory.c - allocation helpers, arenas and growable buffers. */
#include "util/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void oom(size_t n) {
    fprintf(stderr, "firn: out of memory allocating %zu bytes\n", n);
    abort();
}

void *firn_xmalloc(size_t n) {
    void *p = malloc(n ? n : 1);
    if (!p) oom(n);
    return p;
}

void *firn_xcalloc(size_t count, size_t n) {
    void *p = calloc(count ? count : 1, n ? n : 1);
    if (!p) oom(count * n);
    return p;
}

void *firn_xrealloc(void *p, size_t n) {
    void *q = realloc(p, n ? n : 1);
    if (!q) oom(n);
    return q;
}

char *firn_xstrdup(const char *s) {
    size_t n = strlen(s) + 1;
    return memcpy(firn_xmalloc(n), s, n);
}

/* ------------------------------------------------------------------ arena */

struct firn_arena_chunk {
    firn_arena_chunk *next;
    size_t used, size;
    _Alignas(16) uint8_t data[];
};

void firn_arena_init(firn_arena *a, size_t chunk_size) {
    a->head = NULL;
    a->chunk_size = chunk_size ? chunk_size : 64 * 1024;
    a->total = 0;
    a->spare = NULL;
}

static void free_chunks(firn_arena_chunk *c) {
    while (c) {
        firn_arena_chunk *next = c->next;
        free(c);
        c = next;
    }
}

void firn_arena_reset(firn_arena *a) {
    if (!a) return;
    free_chunks(a->head);
    free_chunks(a->spare);
    a->head = NULL;
    a->spare = NULL;
    a->total = 0;
}

void firn_arena_recycle(firn_arena *a) {
    if (!a) return;
    /* spare chunks the last round did not need go: what is kept is bounded by
     * one round's use */
    free_chunks(a->spare);
    a->spare = NULL;
    if (!a->head) return;
    firn_arena_chunk *last = a->head;
    while (last->next) last = last->next;
    last->next = a->spare;
    a->spare = a->head;
    a->head = NULL;
    a->total = 0;
}

/* A chunk of at least size bytes: the smallest spare one that fits, else new. */
static firn_arena_chunk *new_chunk(firn_arena *a, size_t size) {
    firn_arena_chunk **best = NULL;
    for (firn_arena_chunk **p = &a->spare; *p; p = &(*p)->next)
        if ((*p)->size >= size && (!best || (*p)->size < (*best)->size)) best = p;
    firn_arena_chunk *c;
    if (best) {
        c = *best;
        *best = c->next;
    } else {
        /* rounded up (by at most 1/16) so that a slightly larger request in the
         * next round still fits a recycled chunk */
        size_t g = 16;
        while (g * 32 <= size) g *= 2;
        if (size + g - 1 > size) size = (size + g - 1) & ~(g - 1);
        c = firn_xmalloc(sizeof *c + size);
        c->size = size;
    }
    c->used = 0;
    c->next = NULL;
    return c;
}

void firn_arena_release(firn_arena *a) { firn_arena_reset(a); }

void *firn_arena_alloc(firn_arena *a, size_t n) {
    size_t need = (n + 15) & ~(size_t)15;
    if (need < n) oom(n);
    firn_arena_chunk *c = a->head;
    if (!c || c->size - c->used < need) {
        size_t size = need > a->chunk_size / 4 ? need : a->chunk_size;
        if (need > a->chunk_size / 4 && c) {
            /* big allocation: own chunk, linked behind the current one */
            firn_arena_chunk *big = new_chunk(a, size);
            big->used = need;
            big->next = c->next;
            c->next = big;
            a->total += n;
            return big->data;
        }
        c = new_chunk(a, size);
        c->next = a->head;
        a->head = c;
    }
    void *p = c->data + c->used;
    c->used += need;
    a->total += n;
    return p;
}

void *firn_arena_calloc(firn_arena *a, size_t n) { return memset(firn_arena_alloc(a, n), 0, n); }

void *firn_arena_memdup(firn_arena *a, const void *p, size_t n) {
    void *q = firn_arena_alloc(a, n);
    if (n) memcpy(q, p, n);
    return q;
}

char *firn_arena_strndup(firn_arena *a, const char *s, size_t n) {
    char *q = firn_arena_alloc(a, n + 1);
    memcpy(q, s, n);
    q[n] = '\0';
    return q;
}

char *firn_arena_strdup(firn_arena *a, const char *s) { return firn_arena_strndup(a, s, strlen(s)); }

/* ------------------------------------------------------------------ buffers */

void firn_buf_init(firn_buf *b) { memset(b, 0, sizeof *b); }

void firn_buf_release(firn_buf *b) {
    if (!b) return;
    free(b->data);
    memset(b, 0, sizeof *b);
}

void firn_buf_reserve(firn_buf *b, size_t extra) {
    if (b->cap - b->len >= extra) return;
    size_t need = b->len + extra;
    if (need < b->len) oom(extra);
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need) cap = cap * 2 > cap ? cap * 2 : need;
    b->data = firn_xrealloc(b->data, cap);
    b->cap = cap;
}

void firn_buf_append(firn_buf *b, const void *p, size_t n) {
    if (!n) return;
    firn_buf_reserve(b, n);
    memcpy(b->data + b->len, p, n);
    b->len += n;
}

void firn_buf_append_str(firn_buf *b, const char *s) { firn_buf_append(b, s, strlen(s)); }

void firn_buf_appendf(firn_buf *b, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    char tmp[256];
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0) {
        va_end(ap2);
        return;
    }
    if ((size_t)n < sizeof tmp) {
        firn_buf_append(b, tmp, (size_t)n);
    } else {
        firn_buf_reserve(b, (size_t)n + 1);
        vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap2);
        b->len += (size_t)n;
    }
    va_end(ap2);
}

uint8_t *firn_buf_extend(firn_buf *b, size_t n) {
    firn_buf_reserve(b, n);
    uint8_t *p = b->data + b->len;
    b->len += n;
    return p;
}

char *firn_buf_cstr(firn_buf *b) {
    firn_buf_reserve(b, 1);
    b->data[b->len] = '\0';
    return (char *)b->data;
}

void firn_buf_clear(firn_buf *b) { b->len = 0; }

uint8_t *firn_buf_steal(firn_buf *b, size_t *len) {
    uint8_t *p = b->data;
    if (len) *len = b->len;
    memset(b, 0, sizeof *b);
    return p;
}

void firn_buf_put_le32(firn_buf *b, uint32_t v) { firn_store_le32(firn_buf_extend(b, 4), v); }
void firn_buf_put_le64(firn_buf *b, uint64_t v) { firn_store_le64(firn_buf_extend(b, 8), v); }

/* ------------------------------------------------------------------ varint */

size_t firn_varint_encode(uint64_t v, uint8_t *out) {
    size_t i = 0;
    while (v >= 0x80) {
        out[i++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    out[i++] = (uint8_t)v;
    return i;
}

void firn_buf_put_varint(firn_buf *b, uint64_t v) {
    firn_buf_reserve(b, 10);
    b->len += firn_varint_encode(v, b->data + b->len);
}

size_t firn_varint_decode(const uint8_t *p, const uint8_t *end, uint64_t *v) {
    uint64_t r = 0;
    for (size_t i = 0; i < 10 && p + i < end; i++) {
        uint8_t c = p[i];
        r |= (uint64_t)(c & 0x7f) << (7 * i);
        if (!(c & 0x80)) {
            *v = r;
            return i + 1;
        }
    }
    return 0;
}
