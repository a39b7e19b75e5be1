/* io.c - FileIO dispatch by scheme, argument checks around the vtable, whole-file
 * helpers and location (URI) normalisation. */
#include "io/io.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* ------------------------------------------------------------ locations */

const char *firn_io_uri_scheme(const char *location, char *buf, size_t n) {
    if (n == 0) return buf;
    buf[0] = '\0';
    if (!location) return buf;
    /* RFC 3986: ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) ":" */
    size_t i = 0;
    if (isalpha((unsigned char)location[0])) {
        i = 1;
        while (isalnum((unsigned char)location[i]) || location[i] == '+' || location[i] == '-' ||
               location[i] == '.')
            i++;
    }
    if (i > 0 && location[i] == ':') {
        size_t len = i < n - 1 ? i : n - 1;
        for (size_t k = 0; k < len; k++) buf[k] = (char)tolower((unsigned char)location[k]);
        buf[len] = '\0';
    } else {
        snprintf(buf, n, "file");
    }
    return buf;
}

static char *give(firn_arena *a, firn_buf *b) {
    char *s = a ? firn_arena_strndup(a, (const char *)b->data, b->len)
                : firn_xstrdup(firn_buf_cstr(b));
    firn_buf_release(b);
    return s;
}

/* Lexically normalise an absolute path into out (appended): collapse "//",
 * drop ".", resolve ".." (never above the root), no trailing slash. */
static void append_clean_path(firn_buf *out, const char *path) {
    size_t base = out->len;
    const char *p = path;
    while (*p) {
        while (*p == '/') p++;
        if (!*p) break;
        const char *seg = p;
        while (*p && *p != '/') p++;
        size_t n = (size_t)(p - seg);
        if (n == 1 && seg[0] == '.') continue;
        if (n == 2 && seg[0] == '.' && seg[1] == '.') {
            while (out->len > base && out->data[out->len - 1] != '/') out->len--;
            if (out->len > base) out->len--; /* the slash itself */
            continue;
        }
        firn_buf_put_u8(out, '/');
        firn_buf_append(out, seg, n);
    }
    if (out->len == base) firn_buf_put_u8(out, '/');
}

/* The absolute local path a "file:" location or plain path names (not yet
 * cleaned) into b; error for other schemes. */
static int local_path_of(const char *location, firn_buf *b, firn_error *err) {
    char scheme[32];
    firn_io_uri_scheme(location, scheme, sizeof scheme);
    const char *path = location;
    if (strncasecmp(location, "file:", 5) == 0) {
        path = location + 5;
        if (path[0] == '/' && path[1] == '/') {
            const char *auth = path + 2;
            const char *slash = strchr(auth, '/');
            size_t alen = slash ? (size_t)(slash - auth) : strlen(auth);
            if (!(alen == 0 || (alen == 9 && strncmp(auth, "localhost", 9) == 0))) {
                int rc = FIRN_RAISE(err, FIRN_ERR_INVALID,
                                    "file location names a remote host '%.*s'; only local "
                                    "files (file:/path or file:///path) are supported",
                                    (int)alen, auth);
                firn_error_context(err, "%s", location);
                return rc;
            }
            path = slash ? slash : "/";
        }
        if (path[0] != '/') {
            int rc = FIRN_RAISE(err, FIRN_ERR_INVALID,
                                "file location must hold an absolute path (file:/abs/path)");
            firn_error_context(err, "%s", location);
            return rc;
        }
    } else if (strcmp(scheme, "file") != 0) {
        int rc = FIRN_RAISE(err, FIRN_ERR_INVALID, "not a local file location (scheme '%s')",
                            scheme);
        firn_error_context(err, "%s", location);
        return rc;
    }
    if (path[0] == '/') {
        firn_buf_append_str(b, path);
        return 0;
    }
    char cwd[4096];
    if (!getcwd(cwd, sizeof cwd)) {
        int rc = FIRN_RAISE(err, FIRN_ERR_IO, "cannot resolve relative path: getcwd: %s",
                            strerror(errno));
        firn_error_context(err, "%s", location);
        return rc;
    }
    firn_buf_append_str(b, cwd);
    firn_buf_put_u8(b, '/');
    firn_buf_append_str(b, path);
    return 0;
}

int firn_io_uri_normalize(const char *location, firn_arena *a, char **out, firn_error *err) {
    if (!location || !*location)
        return FIRN_RAISE(err, FIRN_ERR_INVALID, "empty file location");
    char scheme[32];
    firn_io_uri_scheme(location, scheme, sizeof scheme);
    if (strcmp(scheme, "file") != 0) {
        *out = a ? firn_arena_strdup(a, location) : firn_xstrdup(location);
        return 0;
    }
    firn_buf raw = {0}, clean = {0};
    int rc = local_path_of(location, &raw, err);
    if (rc) {
        firn_buf_release(&raw);
        return rc;
    }
    firn_buf_append_str(&clean, "file:");
    append_clean_path(&clean, firn_buf_cstr(&raw));
    firn_buf_release(&raw);
    *out = give(a, &clean);
    return 0;
}

int firn_io_uri_to_path(const char *location, firn_arena *a, char **out, firn_error *err) {
    if (!location || !*location)
        return FIRN_RAISE(err, FIRN_ERR_INVALID, "empty file location");
    firn_buf raw = {0}, clean = {0};
    int rc = local_path_of(location, &raw, err);
    if (rc) {
        firn_buf_release(&raw);
        return rc;
    }
    append_clean_path(&clean, firn_buf_cstr(&raw));
    firn_buf_release(&raw);
    *out = give(a, &clean);
    return 0;
}

/* ------------------------------------------------------------ handles */

int firn_io_new_for_uri(const char *location, firn_io **out, firn_error *err) {
    *out = NULL;
    if (!location || !*location)
        return FIRN_RAISE(err, FIRN_ERR_INVALID, "empty file location");
    char scheme[32];
    firn_io_uri_scheme(location, scheme, sizeof scheme);
    if (strcmp(scheme, "file") == 0) {
        *out = firn_io_local_new();
        return 0;
    }
    if (strcmp(scheme, "s3") == 0 || strcmp(scheme, "s3a") == 0 || strcmp(scheme, "s3n") == 0)
        return firn_io_s3_new(NULL, out, err);
    int rc = FIRN_RAISE(err, FIRN_ERR_UNSUPPORTED,
                        "unsupported location scheme '%s': firn reads and writes local files "
                        "(file:/path) and S3 objects (s3://bucket/key)", scheme);
    firn_error_context(err, "%s", location);
    return rc;
}

void firn_io_free(firn_io *io) {
    if (io) io->ops->free(io);
}

const char *firn_io_kind(const firn_io *io) { return io->ops->kind; }

/* ------------------------------------------------------------ reading */

int firn_io_open(firn_io *io, const char *location, firn_io_reader **out, firn_error *err) {
    *out = NULL;
    if (!location || !*location) return FIRN_RAISE(err, FIRN_ERR_INVALID, "empty file location");
    return io->ops->open(io, location, out, err);
}

uint64_t firn_io_reader_size(const firn_io_reader *r) { return r->size; }
const char *firn_io_reader_location(const firn_io_reader *r) { return r->location; }

int firn_io_read_at(firn_io_reader *r, uint64_t off, void *buf, size_t n, firn_error *err) {
    if (n == 0) return 0;
    if (off > r->size || n > r->size - off) {
        int rc = FIRN_RAISE(err, FIRN_ERR_CORRUPT,
                            "file truncated: wanted %zu bytes at offset %llu, file has %llu", n,
                            (unsigned long long)off, (unsigned long long)r->size);
        firn_error_context(err, "%s", r->location);
        return rc;
    }
    return r->ops->read_at(r, off, buf, n, err);
}

void firn_io_reader_close(firn_io_reader *r) {
    if (r) r->ops->close(r);
}

int firn_io_read_all(firn_io *io, const char *location, uint8_t **data, size_t *len,
                     firn_error *err) {
    *data = NULL;
    *len = 0;
    firn_io_reader *r;
    int rc = firn_io_open(io, location, &r, err);
    if (rc) return rc;
    uint64_t size = firn_io_reader_size(r);
    if (size > (uint64_t)SIZE_MAX - 1) {
        firn_io_reader_close(r);
        return FIRN_RAISE(err, FIRN_ERR_LIMIT, "file too large to read into memory");
    }
    uint8_t *buf = firn_xmalloc((size_t)size + 1);
    rc = firn_io_read_at(r, 0, buf, (size_t)size, err);
    firn_io_reader_close(r);
    if (rc) {
        free(buf);
        return rc;
    }
    buf[size] = 0;
    *data = buf;
    *len = (size_t)size;
    return 0;
}

/* ------------------------------------------------------------ writing */

int firn_io_create(firn_io *io, const char *location, firn_io_writer **out, firn_error *err) {
    *out = NULL;
    if (!location || !*location) return FIRN_RAISE(err, FIRN_ERR_INVALID, "empty file location");
    return io->ops->create(io, location, out, err);
}

int firn_io_writer_write(firn_io_writer *w, const void *data, size_t n, firn_error *err) {
    if (n == 0) return 0;
    return w->ops->write(w, data, n, err);
}

uint64_t firn_io_writer_offset(const firn_io_writer *w) { return w->offset; }
const char *firn_io_writer_location(const firn_io_writer *w) { return w->location; }

int firn_io_writer_close(firn_io_writer *w, firn_error *err) { return w->ops->close(w, err); }

void firn_io_writer_abort(firn_io_writer *w) {
    if (w) w->ops->abort(w);
}

int firn_io_write_all(firn_io *io, const char *location, const void *data, size_t len,
                      firn_error *err) {
    firn_io_writer *w;
    int rc = firn_io_create(io, location, &w, err);
    if (rc) return rc;
    rc = firn_io_writer_write(w, data, len, err);
    if (rc) {
        firn_io_writer_abort(w);
        return rc;
    }
    return firn_io_writer_close(w, err);
}

/* ------------------------------------------------------------ metadata */

int firn_io_stat_file(firn_io *io, const char *location, firn_io_stat *st, firn_error *err) {
    if (!location || !*location) return FIRN_RAISE(err, FIRN_ERR_INVALID, "empty file location");
    return io->ops->stat(io, location, st, err);
}

int firn_io_exists(firn_io *io, const char *location, bool *exists, firn_error *err) {
    firn_io_stat st;
    firn_error e2;
    firn_error_init(&e2);
    int rc = firn_io_stat_file(io, location, &st, &e2);
    if (rc == 0 || e2.kind == FIRN_ERR_NOT_FOUND) {
        *exists = rc == 0;
        firn_error_release(&e2);
        return 0;
    }
    *exists = false;
    if (err) {
        firn_error_release(err);
        *err = e2;
    } else {
        firn_error_release(&e2);
    }
    return rc;
}

int firn_io_delete(firn_io *io, const char *location, firn_error *err) {
    if (!location || !*location) return FIRN_RAISE(err, FIRN_ERR_INVALID, "empty file location");
    return io->ops->remove(io, location, err);
}

int firn_io_delete_batch(firn_io *io, const char *const *locations, size_t n, size_t *failed,
                         firn_error *err) {
    if (io->ops->remove_batch) return io->ops->remove_batch(io, locations, n, failed, err);
    size_t nfail = 0;
    int first = 0;
    firn_error e2;
    firn_error_init(&e2);
    for (size_t i = 0; i < n; i++) {
        int rc = firn_io_delete(io, locations[i], nfail ? &e2 : err);
        if (rc) {
            if (!nfail) first = rc;
            nfail++;
        }
        firn_error_release(&e2);
    }
    if (failed) *failed = nfail;
    if (nfail > 1 && err) {
        first = FIRN_WRAP(err, err->kind, "could not delete %zu of %zu files", nfail, n);
    }
    return first;
}

int firn_io_list(firn_io *io, const char *prefix, firn_io_list_fn fn, void *ctx,
                 firn_error *err) {
    if (!prefix || !*prefix) return FIRN_RAISE(err, FIRN_ERR_INVALID, "empty list prefix");
    return io->ops->list(io, prefix, fn, ctx, err);
}
