/* error.c - firn_error: kind, message, context, retriable flag and cause chain. */
#include "util/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const kind_names[] = {
    [FIRN_OK] = "ok",
    [FIRN_ERR_INVALID] = "invalid",
    [FIRN_ERR_IO] = "io",
    [FIRN_ERR_CORRUPT] = "corrupt",
    [FIRN_ERR_UNSUPPORTED] = "unsupported",
    [FIRN_ERR_NOMEM] = "out of memory",
    [FIRN_ERR_NOT_FOUND] = "not found",
    [FIRN_ERR_CONFLICT] = "conflict",
    [FIRN_ERR_LIMIT] = "limit exceeded",
    [FIRN_ERR_INTERNAL] = "internal",
};

const char *firn_err_kind_name(firn_err_kind kind) {
    if ((unsigned)kind < sizeof kind_names / sizeof kind_names[0] && kind_names[kind])
        return kind_names[kind];
    return "unknown";
}

void firn_error_init(firn_error *err) {
    if (err) memset(err, 0, sizeof *err);
}

void firn_error_release(firn_error *err) {
    if (!err) return;
    firn_error *c = err->cause;
    while (c) {
        firn_error *next = c->cause;
        free(c);
        c = next;
    }
    memset(err, 0, sizeof *err);
}

static void fill(firn_error *err, firn_err_kind kind, const char *file, int line, const char *fmt,
                 va_list ap) {
    err->kind = kind;
    err->retriable = kind == FIRN_ERR_IO || kind == FIRN_ERR_CONFLICT;
    err->file = file;
    err->line = line;
    err->context[0] = '\0';
    vsnprintf(err->message, sizeof err->message, fmt, ap);
}

int firn_error_raise(firn_error *err, firn_err_kind kind, const char *file, int line,
                     const char *fmt, ...) {
    if (err) {
        firn_error_release(err);
        va_list ap;
        va_start(ap, fmt);
        fill(err, kind, file, line, fmt, ap);
        va_end(ap);
    }
    return -(int)kind;
}

int firn_error_wrap(firn_error *err, firn_err_kind kind, const char *file, int line,
                    const char *fmt, ...) {
    if (err) {
        firn_error *cause = NULL;
        if (err->kind != FIRN_OK) {
            cause = firn_xmalloc(sizeof *cause);
            *cause = *err;
        }
        va_list ap;
        va_start(ap, fmt);
        fill(err, kind, file, line, fmt, ap);
        va_end(ap);
        err->cause = cause;
        if (cause) err->retriable = cause->retriable;
    }
    return -(int)kind;
}

void firn_error_context(firn_error *err, const char *fmt, ...) {
    if (!err) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->context, sizeof err->context, fmt, ap);
    va_end(ap);
}

const char *firn_error_format(const firn_error *err, char *buf, size_t n) {
    size_t off = 0;
    if (n == 0) return buf;
    buf[0] = '\0';
    for (const firn_error *e = err; e && off < n; e = e->cause) {
        int w = snprintf(buf + off, n - off, "%s%s%s%s%s", e == err ? "" : ": caused by: ",
                         e->message, e->context[0] ? " (" : "", e->context,
                         e->context[0] ? ")" : "");
        if (w < 0) break;
        off += (size_t)w;
    }
    return buf;
}
