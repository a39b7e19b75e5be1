/*
 * util.h - firn's foundation: errors, arenas, growable buffers, varints,
 * checksums and hashes. Everything else in firn builds on this header.
 *
 * Ownership: functions ending in _new return memory the caller frees with the
 * matching _free; _init/_release manage embedded structs. All _free and
 * _release functions accept NULL.
 */
#ifndef FIRN_UTIL_H
#define FIRN_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ------------------------------------------------------------------ errors */

typedef enum firn_err_kind {
    FIRN_OK = 0,
    FIRN_ERR_INVALID = 1,     /* bad argument or configuration from the caller */
    FIRN_ERR_IO = 2,          /* the operating system refused a read/write */
    FIRN_ERR_CORRUPT = 3,     /* input data is malformed or truncated */
    FIRN_ERR_UNSUPPORTED = 4, /* valid input using a feature firn lacks */
    FIRN_ERR_NOMEM = 5,       /* allocation failed */
    FIRN_ERR_NOT_FOUND = 6,
    FIRN_ERR_CONFLICT = 7,    /* concurrent modification: reload and retry */
    FIRN_ERR_LIMIT = 8,       /* a configured limit was exceeded */
    FIRN_ERR_INTERNAL = 9,    /* a bug in firn */
} firn_err_kind;

/*
 * An error: kind, a message for people, the context it happened in (a file
 * name, a column), whether retrying may help, where it was raised and the
 * error that caused it. Embedded by callers (usually on the stack), filled by
 * the failing function, released with firn_error_release().
 */
typedef struct firn_error {
    firn_err_kind kind;
    bool retriable;
    char message[384];
    char context[256];
    const char *file; /* source location where first raised */
    int line;
    struct firn_error *cause; /* owned */
} firn_error;

/* Fill err (may be NULL) and return -(int)kind. Replaces any previous error. */
int firn_error_raise(firn_error *err, firn_err_kind kind, const char *file, int line,
                     const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* Move the current error in err into the cause chain and raise a new one over it. */
int firn_error_wrap(firn_error *err, firn_err_kind kind, const char *file, int line,
                    const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* Set (replace) the context string, e.g. the path being read. */
void firn_error_context(firn_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void firn_error_init(firn_error *err);
void firn_error_release(firn_error *err);
/* "message (context) [file:line]: caused by: ..." into buf; returns buf. */
const char *firn_error_format(const firn_error *err, char *buf, size_t n);
const char *firn_err_kind_name(firn_err_kind kind);

#define FIRN_RAISE(err, kind, ...) firn_error_raise((err), (kind), __FILE__, __LINE__, __VA_ARGS__)
#define FIRN_WRAP(err, kind, ...) firn_error_wrap((err), (kind), __FILE__, __LINE__, __VA_ARGS__)

/* ------------------------------------------------------------------ memory */

/* malloc/realloc/calloc that abort with a message on exhaustion. */
void *firn_xmalloc(size_t n);
void *firn_xcalloc(size_t count, size_t n);
void *firn_xrealloc(void *p, size_t n);
char *firn_xstrdup(const char *s);

/*
 * Arena: bump allocation in chunks, freed all at once. For per-batch and
 * per-file allocations. Allocations are 16-byte aligned.
 */
typedef struct firn_arena_chunk firn_arena_chunk;
typedef struct firn_arena {
    firn_arena_chunk *head;
    size_t chunk_size;
    size_t total; /* bytes handed out */
    firn_arena_chunk *spare; /* chunks kept by firn_arena_recycle, reused before malloc */
} firn_arena;

void firn_arena_init(firn_arena *a, size_t chunk_size); /* 0 = 64 KiB */
void firn_arena_release(firn_arena *a);
void firn_arena_reset(firn_arena *a); /* free everything, keep the arena usable */
/* Forget every allocation but keep the chunks for the next ones (a loop that
 * fills an arena per batch touches the same memory each time: no malloc/free,
 * no page faults). The kept memory is freed by reset or release. */
void firn_arena_recycle(firn_arena *a);
void *firn_arena_alloc(firn_arena *a, size_t n);
void *firn_arena_calloc(firn_arena *a, size_t n);
void *firn_arena_memdup(firn_arena *a, const void *p, size_t n);
char *firn_arena_strdup(firn_arena *a, const char *s);
char *firn_arena_strndup(firn_arena *a, const char *s, size_t n);

/* Growable byte buffer. Zero-initialise or firn_buf_init(). */
typedef struct firn_buf {
    uint8_t *data;
    size_t len;
    size_t cap;
} firn_buf;

void firn_buf_init(firn_buf *b);
void firn_buf_release(firn_buf *b);
void firn_buf_reserve(firn_buf *b, size_t extra); /* ensure cap >= len + extra */
void firn_buf_append(firn_buf *b, const void *p, size_t n);
void firn_buf_append_str(firn_buf *b, const char *s);
void firn_buf_appendf(firn_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
uint8_t *firn_buf_extend(firn_buf *b, size_t n); /* grow len by n, return pointer to new bytes */
char *firn_buf_cstr(firn_buf *b); /* NUL-terminate (not counted in len) and return data */
void firn_buf_clear(firn_buf *b);  /* len = 0, keep memory */
uint8_t *firn_buf_steal(firn_buf *b, size_t *len); /* caller frees the returned bytes */

static inline void firn_buf_put_u8(firn_buf *b, uint8_t v) {
    if (b->len == b->cap) firn_buf_reserve(b, 1);
    b->data[b->len++] = v;
}
void firn_buf_put_le32(firn_buf *b, uint32_t v);
void firn_buf_put_le64(firn_buf *b, uint64_t v);

/* ------------------------------------------------------- varint / zigzag */

static inline uint64_t firn_zigzag64(int64_t v) { return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63); }
static inline int64_t firn_unzigzag64(uint64_t v) { return (int64_t)(v >> 1) ^ -(int64_t)(v & 1); }
static inline uint32_t firn_zigzag32(int32_t v) { return ((uint32_t)v << 1) ^ (uint32_t)(v >> 31); }
static inline int32_t firn_unzigzag32(uint32_t v) { return (int32_t)(v >> 1) ^ -(int32_t)(v & 1); }

/* Write an unsigned LEB128 varint into out (at least 10 bytes); returns bytes written. */
size_t firn_varint_encode(uint64_t v, uint8_t *out);
void firn_buf_put_varint(firn_buf *b, uint64_t v);
/* Decode from [p, end). Returns bytes consumed, or 0 if truncated or longer than 10 bytes. */
size_t firn_varint_decode(const uint8_t *p, const uint8_t *end, uint64_t *v);

/* Little-endian loads/stores without alignment requirements. */
static inline uint32_t firn_load_le32(const void *p) {
    const uint8_t *b = p;
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}
static inline uint64_t firn_load_le64(const void *p) {
    return (uint64_t)firn_load_le32(p) | (uint64_t)firn_load_le32((const uint8_t *)p + 4) << 32;
}
static inline void firn_store_le32(void *p, uint32_t v) {
    uint8_t *b = p;
    b[0] = (uint8_t)v; b[1] = (uint8_t)(v >> 8); b[2] = (uint8_t)(v >> 16); b[3] = (uint8_t)(v >> 24);
}
static inline void firn_store_le64(void *p, uint64_t v) {
    firn_store_le32(p, (uint32_t)v);
    firn_store_le32((uint8_t *)p + 4, (uint32_t)(v >> 32));
}

/* ------------------------------------------------------------------ hashes */

/* CRC32C (Castagnoli), as Kafka and many logs use. Hardware-accelerated when
 * the CPU has SSE4.2. Pass crc=0 to start; feed the result back to continue. */
uint32_t firn_crc32c(uint32_t crc, const void *data, size_t n);
/* MurmurHash3 x86_32, as Iceberg's bucket transform uses (seed 0). */
uint32_t firn_murmur3_32(const void *data, size_t n, uint32_t seed);
/* xxHash64 (libxxhash). */
uint64_t firn_xxh64(const void *data, size_t n, uint64_t seed);

/* SHA-256 (FIPS 180-4), streaming or one-shot. */
typedef struct firn_sha256_ctx {
    uint32_t state[8];
    uint64_t total;
    size_t fill;
    uint8_t block[64];
} firn_sha256_ctx;
void firn_sha256_init(firn_sha256_ctx *s);
void firn_sha256_update(firn_sha256_ctx *s, const void *data, size_t n);
void firn_sha256_final(firn_sha256_ctx *s, uint8_t out[32]);
void firn_sha256(const void *data, size_t n, uint8_t out[32]);
/* Lower-case hex of n bytes into out (2n + 1 bytes, NUL-terminated). */
void firn_hex(const uint8_t *bytes, size_t n, char *out);

/* ------------------------------------------------------------------ files */

/* Read a whole file into memory (caller frees *out). */
int firn_read_file(const char *path, uint8_t **out, size_t *len, firn_error *err);
/* Write a whole file (created or truncated) and fsync it. */
int firn_write_file(const char *path, const void *data, size_t len, firn_error *err);

/* Monotonic clock in nanoseconds, and wall clock in microseconds since the epoch. */
uint64_t firn_now_ns(void);
int64_t firn_now_us(void);

#endif
