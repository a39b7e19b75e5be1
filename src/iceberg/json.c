/* json.c - JSON getters with path-naming errors, unknown-key preservation. */
#include "iceberg/iceberg_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *firn_ice_path_key(char *buf, const char *base, const char *key) {
    if (!base || !*base) snprintf(buf, ICE_PATH_MAX, "%s", key);
    else snprintf(buf, ICE_PATH_MAX, "%s.%s", base, key);
    return buf;
}

const char *firn_ice_path_index(char *buf, const char *base, size_t i) {
    snprintf(buf, ICE_PATH_MAX, "%s[%zu]", base ? base : "", i);
    return buf;
}

const char *firn_ice_json_type_name(const json_t *j) {
    if (!j) return "nothing";
    switch (json_typeof(j)) {
    case JSON_OBJECT: return "object";
    case JSON_ARRAY: return "array";
    case JSON_STRING: return "string";
    case JSON_INTEGER: return "integer";
    case JSON_REAL: return "number";
    case JSON_TRUE:
    case JSON_FALSE: return "boolean";
    case JSON_NULL: return "null";
    }
    return "?";
}

static const json_t *get(const json_t *o, const char *key) {
    if (!o || !json_is_object(o)) return NULL;
    json_t *v = json_object_get(o, key);
    if (v && json_is_null(v)) return NULL;
    return v;
}

/* "path: " for messages, or "" at the document root */
#define PFX(path) ((path) && *(path) ? (path) : ""), ((path) && *(path) ? ": " : "")

static int missing(const char *key, const char *path, firn_error *err) {
    return FIRN_RAISE(err, FIRN_ERR_CORRUPT, "%s%smissing required field '%s'", PFX(path), key);
}

static int wrong_type(const json_t *v, const char *key, const char *path, const char *want,
                      firn_error *err) {
    char p[ICE_PATH_MAX];
    return FIRN_RAISE(err, FIRN_ERR_CORRUPT, "%s: expected %s, got %s",
                      firn_ice_path_key(p, path, key), want, firn_ice_json_type_name(v));
}

int firn_ice_json_opt_i64(const json_t *o, const char *key, const char *path, int64_t *out,
                          bool *present, firn_error *err) {
    const json_t *v = get(o, key);
    if (present) *present = v != NULL;
    if (!v) return 0;
    if (!json_is_integer(v)) return wrong_type(v, key, path, "an integer", err);
    *out = (int64_t)json_integer_value(v);
    return 0;
}

int firn_ice_json_req_i64(const json_t *o, const char *key, const char *path, int64_t *out,
                          firn_error *err) {
    bool present;
    int rc = firn_ice_json_opt_i64(o, key, path, out, &present, err);
    if (rc) return rc;
    return present ? 0 : missing(key, path, err);
}

int firn_ice_json_opt_i32(const json_t *o, const char *key, const char *path, int32_t *out,
                          bool *present, firn_error *err) {
    int64_t v = 0;
    bool have;
    int rc = firn_ice_json_opt_i64(o, key, path, &v, &have, err);
    if (rc) return rc;
    if (present) *present = have;
    if (!have) return 0;
    if (v < INT32_MIN || v > INT32_MAX) {
        char p[ICE_PATH_MAX];
        return FIRN_RAISE(err, FIRN_ERR_CORRUPT, "%s: %lld does not fit a 32-bit int",
                          firn_ice_path_key(p, path, key), (long long)v);
    }
    *out = (int32_t)v;
    return 0;
}

int firn_ice_json_req_i32(const json_t *o, const char *key, const char *path, int32_t *out,
                          firn_error *err) {
    bool present;
    int rc = firn_ice_json_opt_i32(o, key, path, out, &present, err);
    if (rc) return rc;
    return present ? 0 : missing(key, path, err);
}

int firn_ice_json_opt_str(firn_arena *a, const json_t *o, const char *key, const char *path,
                          const char **out, firn_error *err) {
    const json_t *v = get(o, key);
    *out = NULL;
    if (!v) return 0;
    if (!json_is_string(v)) return wrong_type(v, key, path, "a string", err);
    *out = firn_arena_strndup(a, json_string_value(v), json_string_length(v));
    return 0;
}

int firn_ice_json_req_str(firn_arena *a, const json_t *o, const char *key, const char *path,
                          const char **out, firn_error *err) {
    int rc = firn_ice_json_opt_str(a, o, key, path, out, err);
    if (rc) return rc;
    return *out ? 0 : missing(key, path, err);
}

int firn_ice_json_req_bool(const json_t *o, const char *key, const char *path, bool *out,
                           firn_error *err) {
    const json_t *v = get(o, key);
    if (!v) return missing(key, path, err);
    if (!json_is_boolean(v)) return wrong_type(v, key, path, "true or false", err);
    *out = json_is_true(v);
    return 0;
}

int firn_ice_json_opt_array(const json_t *o, const char *key, const char *path, json_t **out,
                            firn_error *err) {
    const json_t *v = get(o, key);
    *out = NULL;
    if (!v) return 0;
    if (!json_is_array(v)) return wrong_type(v, key, path, "an array", err);
    *out = (json_t *)v;
    return 0;
}

int firn_ice_json_req_array(const json_t *o, const char *key, const char *path, json_t **out,
                            firn_error *err) {
    int rc = firn_ice_json_opt_array(o, key, path, out, err);
    if (rc) return rc;
    return *out ? 0 : missing(key, path, err);
}

int firn_ice_json_expect_object(const json_t *j, const char *path, const char *what,
                                firn_error *err) {
    if (j && json_is_object(j)) return 0;
    return FIRN_RAISE(err, FIRN_ERR_CORRUPT, "%s%sexpected %s (a JSON object), got %s", PFX(path),
                      what, firn_ice_json_type_name(j));
}

int firn_ice_json_string_map(firn_arena *a, const json_t *obj, const char *path, firn_ice_kv **out,
                             size_t *n, firn_error *err) {
    *out = NULL;
    *n = 0;
    if (!obj || json_is_null(obj)) return 0;
    if (!json_is_object(obj))
        return FIRN_RAISE(err, FIRN_ERR_CORRUPT, "%s: expected an object of strings, got %s",
                          firn_ice_path_show(path), firn_ice_json_type_name(obj));
    size_t cnt = json_object_size(obj);
    firn_ice_kv *kv = firn_arena_alloc(a, (cnt ? cnt : 1) * sizeof *kv);
    size_t i = 0;
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)obj, k, v) {
        if (!json_is_string(v)) {
            char p[ICE_PATH_MAX];
            return FIRN_RAISE(err, FIRN_ERR_CORRUPT, "%s: expected a string value, got %s",
                              firn_ice_path_key(p, path, k), firn_ice_json_type_name(v));
        }
        kv[i].key = firn_arena_strdup(a, k);
        kv[i].value = firn_arena_strndup(a, json_string_value(v), json_string_length(v));
        i++;
    }
    *out = kv;
    *n = i;
    return 0;
}

static bool is_known(const char *key, const char *const *known) {
    for (; *known; known++)
        if (strcmp(key, *known) == 0) return true;
    return false;
}

const char *firn_ice_json_text(firn_arena *a, const json_t *j) {
    char *s = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
    if (!s) return NULL;
    const char *r = firn_arena_strdup(a, s);
    free(s);
    return r;
}

const char *firn_ice_json_extra(firn_arena *a, const json_t *o, const char *const *known) {
    if (!o || !json_is_object(o)) return NULL;
    json_t *extra = NULL;
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)o, k, v) {
        if (is_known(k, known)) continue;
        if (!extra) extra = json_object();
        json_object_set(extra, k, v);
    }
    if (!extra) return NULL;
    const char *r = firn_ice_json_text(a, extra);
    json_decref(extra);
    return r;
}

void firn_ice_json_emit_extra(json_t *out, const char *extra_json) {
    if (!extra_json) return;
    json_t *extra = json_loads(extra_json, 0, NULL);
    if (!extra) return;
    const char *k;
    json_t *v;
    json_object_foreach(extra, k, v) {
        if (!json_object_get(out, k)) json_object_set(out, k, v);
    }
    json_decref(extra);
}

void firn_ice_json_set(json_t *o, const char *key, json_t *v) {
    if (v) json_object_set_new(o, key, v);
}

void firn_ice_grow(void **arr, size_t *cap, size_t need, size_t sz) {
    if (need <= *cap) return;
    size_t c = *cap ? *cap * 2 : 4;
    while (c < need) c *= 2;
    *arr = firn_xrealloc(*arr, c * sz);
    *cap = c;
}

bool firn_ice_valid_utf8(const uint8_t *s, size_t n) {
    size_t i = 0;
    while (i < n) {
        uint8_t c = s[i];
        size_t len;
        uint32_t cp;
        if (c < 0x80) {
            i++;
            continue;
        } else if ((c & 0xE0) == 0xC0) {
            len = 2;
            cp = c & 0x1F;
        } else if ((c & 0xF0) == 0xE0) {
            len = 3;
            cp = c & 0x0F;
        } else if ((c & 0xF8) == 0xF0) {
            len = 4;
            cp = c & 0x07;
        } else {
            return false;
        }
        if (i + len > n) return false;
        for (size_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xC0) != 0x80) return false;
            cp = cp << 6 | (s[i + k] & 0x3F);
        }
        if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
            cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        i += len;
    }
    return true;
}

bool firn_ice_uuid_valid(const char *s) {
    uint8_t u[16];
    return firn_ice_uuid_parse(s, u) == 0;
}

int firn_ice_error_prefix(firn_error *err, const char *fmt, ...) {
    if (!err) return -FIRN_ERR_INVALID;
    firn_err_kind kind = err->kind ? err->kind : FIRN_ERR_INTERNAL;
    char msg[sizeof err->message], prefix[sizeof err->message];
    snprintf(msg, sizeof msg, "%s", err->message);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    const char *file = err->file;
    int line = err->line;
    return firn_error_raise(err, kind, file, line, "%s: %s", prefix, msg);
}
