/*
 * s3.c - FileIO on S3 and S3-compatible stores, through libcurl.
 *
 * Requests are signed by libcurl (CURLOPT_AWS_SIGV4). The libcurl of Debian 12
 * (7.88) signs the path and query exactly as given: it neither sorts nor
 * percent-encodes them (fixed in curl 8.3+, which keeps already-encoded
 * input). So every URL is built here in SigV4 canonical form: the key
 * percent-encoded byte by byte except unreserved characters and '/', query
 * parameters sorted by name, names and values encoded, "name=" for empty
 * values. The payload hash goes in x-amz-content-sha256, which curl then uses
 * (and S3 requires).
 *
 * Writes: the writer buffers; a file that stays under the multipart threshold
 * is one PUT with "If-None-Match: *" at close; a larger one becomes a
 * multipart upload: each part, as the buffer fills, is handed to a small pool
 * of threads (one easy handle each, connections kept alive in the shared
 * cache) that send up to upload_concurrency parts at once, each with its own
 * retries; the writer blocks while that many are in flight, so memory stays
 * under (upload_concurrency + 1) x part_size. Close waits for every part and
 * completes with the parts in order and "If-None-Match: *"; any failure or
 * abort stops the threads and aborts the upload.
 *
 * Shared state (options, a libcurl share of connections and DNS) is
 * reference-counted so readers and writers may outlive their io and run in
 * other threads (each has its own easy handle).
 */
#include "io/io.h"

#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define MIB (1024ull * 1024ull)
#define S3_MAX_UPLOAD_CONCURRENCY 64 /* parts in flight per writer, at most */

/* ------------------------------------------------------------ options */

typedef struct s3_conf {
    char *endpoint; /* scheme://host[:port], no trailing slash */
    char *region;
    char *access_key_id, *secret_access_key, *session_token;
    char *userpwd_user, *sigv4;
    bool path_style, conditional_writes, raw_reserved_chars;
    uint64_t multipart_threshold, part_size;
    int max_attempts, backoff_ms;
    int upload_concurrency;
    long timeout_ms;
    unsigned list_page_size, delete_batch_size;
} s3_conf;

static pthread_mutex_t g_defaults_lock = PTHREAD_MUTEX_INITIALIZER;
static firn_io_s3_options g_defaults;
static bool g_defaults_set;

void firn_io_s3_options_init(firn_io_s3_options *o) {
    memset(o, 0, sizeof *o);
    o->path_style = -1;
    o->conditional_writes = -1;
    o->raw_reserved_chars = -1;
}

static char *dup_or_null(const char *s) { return s ? firn_xstrdup(s) : NULL; }

static void options_release(firn_io_s3_options *o) {
    free((char *)o->endpoint);
    free((char *)o->region);
    free((char *)o->access_key_id);
    free((char *)o->secret_access_key);
    free((char *)o->session_token);
    firn_io_s3_options_init(o);
}

void firn_io_s3_set_defaults(const firn_io_s3_options *o) {
    pthread_mutex_lock(&g_defaults_lock);
    if (g_defaults_set) options_release(&g_defaults);
    g_defaults_set = o != NULL;
    if (o) {
        g_defaults = *o;
        g_defaults.endpoint = dup_or_null(o->endpoint);
        g_defaults.region = dup_or_null(o->region);
        g_defaults.access_key_id = dup_or_null(o->access_key_id);
        g_defaults.secret_access_key = dup_or_null(o->secret_access_key);
        g_defaults.session_token = dup_or_null(o->session_token);
    }
    pthread_mutex_unlock(&g_defaults_lock);
}

static const char *env(const char *name) {
    const char *v = getenv(name);
    return v && *v ? v : NULL;
}

static char *trim(char *s) {
    while (isspace((unsigned char)*s)) s++;
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1])) s[--n] = '\0';
    return s;
}

/* Read key from [section] of an AWS ini file (config files name profiles
 * "[profile NAME]", credentials files "[NAME]"). Malloc'ed, or NULL. Nested
 * (indented) sub-section keys are ignored. */
static char *ini_get(const char *path, const char *profile, bool config_file, const char *key) {
    if (!path) return NULL;
    FILE *f = fopen(path, "r");
    if (!f) return NULL;
    char want[256];
    if (config_file && strcmp(profile, "default") != 0)
        snprintf(want, sizeof want, "profile %s", profile);
    else
        snprintf(want, sizeof want, "%s", profile);
    char line[1024];
    bool in = false;
    char *found = NULL;
    while (!found && fgets(line, sizeof line, f)) {
        bool indented = line[0] == ' ' || line[0] == '\t';
        char *l = trim(line);
        if (*l == '#' || *l == ';' || !*l) continue;
        if (*l == '[') {
            char *end = strchr(l, ']');
            if (end) *end = '\0';
            in = strcmp(trim(l + 1), want) == 0;
            continue;
        }
        if (!in || indented) continue;
        char *eq = strchr(l, '=');
        if (!eq) continue;
        *eq = '\0';
        if (strcmp(trim(l), key) == 0) found = firn_xstrdup(trim(eq + 1));
    }
    fclose(f);
    return found;
}

static char *aws_file(const char *env_name, const char *name) {
    const char *p = env(env_name);
    if (p) return firn_xstrdup(p);
    const char *home = env("HOME");
    if (!home) return NULL;
    size_t n = strlen(home) + strlen(name) + 8;
    char *s = firn_xmalloc(n);
    snprintf(s, n, "%s/.aws/%s", home, name);
    return s;
}

static uint64_t env_u64(const char *name, uint64_t dflt) {
    const char *v = env(name);
    if (!v) return dflt;
    char *end;
    unsigned long long x = strtoull(v, &end, 10);
    if (end == v) return dflt;
    if (*end == 'k' || *end == 'K') x *= 1024;
    else if (*end == 'm' || *end == 'M') x *= MIB;
    return x;
}

static int env_bool(const char *name, int dflt) {
    const char *v = env(name);
    if (!v) return dflt;
    return strcmp(v, "1") == 0 || strcasecmp(v, "true") == 0 || strcasecmp(v, "yes") == 0;
}

static void conf_free(s3_conf *c) {
    if (!c) return;
    free(c->endpoint);
    free(c->region);
    free(c->access_key_id);
    free(c->secret_access_key);
    free(c->session_token);
    free(c->userpwd_user);
    free(c->sigv4);
    free(c);
}

/* First non-NULL of an option, an environment variable, two file lookups. */
static char *pick(const char *opt, const char *env1, const char *env2, char *f1, char *f2) {
    char *r = NULL;
    if (opt) r = firn_xstrdup(opt);
    else if (env1 && env(env1)) r = firn_xstrdup(env(env1));
    else if (env2 && env(env2)) r = firn_xstrdup(env(env2));
    else if (f1) r = f1, f1 = NULL;
    else if (f2) r = f2, f2 = NULL;
    free(f1);
    free(f2);
    return r;
}

static int conf_build(const firn_io_s3_options *o, s3_conf **out, firn_error *err) {
    *out = NULL;
    const char *profile = env("AWS_PROFILE") ? env("AWS_PROFILE") : "default";
    char *cred = aws_file("AWS_SHARED_CREDENTIALS_FILE", "credentials");
    char *cfgf = aws_file("AWS_CONFIG_FILE", "config");
    s3_conf *c = firn_xcalloc(1, sizeof *c);
    bool from_env = !o->access_key_id && env("AWS_ACCESS_KEY_ID");
    c->access_key_id = pick(o->access_key_id, "AWS_ACCESS_KEY_ID", NULL,
                            ini_get(cred, profile, false, "aws_access_key_id"),
                            ini_get(cfgf, profile, true, "aws_access_key_id"));
    /* the secret and token come from where the key id came from */
    if (o->access_key_id) {
        c->secret_access_key = dup_or_null(o->secret_access_key);
        c->session_token = dup_or_null(o->session_token);
    } else if (from_env) {
        c->secret_access_key = dup_or_null(env("AWS_SECRET_ACCESS_KEY"));
        c->session_token = dup_or_null(env("AWS_SESSION_TOKEN"));
    } else {
        c->secret_access_key = pick(NULL, NULL, NULL,
                                    ini_get(cred, profile, false, "aws_secret_access_key"),
                                    ini_get(cfgf, profile, true, "aws_secret_access_key"));
        c->session_token = pick(NULL, NULL, NULL, ini_get(cred, profile, false, "aws_session_token"),
                                ini_get(cfgf, profile, true, "aws_session_token"));
    }
    c->region = pick(o->region, "AWS_REGION", "AWS_DEFAULT_REGION",
                     ini_get(cfgf, profile, true, "region"), NULL);
    if (!c->region) c->region = firn_xstrdup("us-east-1");
    const char *ep_env = env("FIRN_S3_ENDPOINT") ? "FIRN_S3_ENDPOINT"
                         : env("AWS_ENDPOINT_URL_S3") ? "AWS_ENDPOINT_URL_S3"
                                                      : "AWS_ENDPOINT_URL";
    c->endpoint = pick(o->endpoint, ep_env, NULL, ini_get(cfgf, profile, true, "endpoint_url"),
                       NULL);
    free(cred);
    free(cfgf);
    if (!c->access_key_id || !c->secret_access_key) {
        conf_free(c);
        return FIRN_RAISE(err, FIRN_ERR_INVALID,
                          "no S3 credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, "
                          "or a profile in ~/.aws/credentials (AWS_PROFILE)");
    }
    if (c->endpoint) {
        size_t n = strlen(c->endpoint);
        while (n && c->endpoint[n - 1] == '/') c->endpoint[--n] = '\0';
        if (strncmp(c->endpoint, "http://", 7) != 0 && strncmp(c->endpoint, "https://", 8) != 0) {
            int rc = FIRN_RAISE(err, FIRN_ERR_INVALID,
                                "S3 endpoint '%s' must start with http:// or https://",
                                c->endpoint);
            conf_free(c);
            return rc;
        }
    }
    int ps = o->path_style >= 0 ? o->path_style : env_bool("FIRN_S3_PATH_STYLE", -1);
    c->path_style = ps >= 0 ? ps != 0 : c->endpoint != NULL;
    int cw = o->conditional_writes >= 0 ? o->conditional_writes
                                        : env_bool("FIRN_S3_CONDITIONAL_WRITES", 1);
    c->conditional_writes = cw != 0;
    int rq = o->raw_reserved_chars >= 0 ? o->raw_reserved_chars : env_bool("FIRN_S3_RAW_RESERVED_CHARS", 0);
    c->raw_reserved_chars = rq != 0;
    c->part_size = o->part_size ? o->part_size : env_u64("FIRN_S3_PART_SIZE", 8 * MIB);
    if (c->part_size < 64 * 1024) c->part_size = 64 * 1024;
    c->multipart_threshold = o->multipart_threshold
                                 ? o->multipart_threshold
                                 : env_u64("FIRN_S3_MULTIPART_THRESHOLD", 8 * MIB);
    if (c->multipart_threshold < c->part_size) c->multipart_threshold = c->part_size;
    uint64_t conc = o->upload_concurrency > 0
                        ? (uint64_t)o->upload_concurrency
                        : env_u64("FIRN_S3_UPLOAD_CONCURRENCY", 4);
    c->upload_concurrency = conc < 1 ? 1 : conc > S3_MAX_UPLOAD_CONCURRENCY ? S3_MAX_UPLOAD_CONCURRENCY : (int)conc;
    c->max_attempts = o->max_attempts ? o->max_attempts
                                      : (int)env_u64("FIRN_S3_MAX_ATTEMPTS", 6);
    if (c->max_attempts < 1) c->max_attempts = 1;
    c->backoff_ms = o->backoff_ms ? o->backoff_ms : (int)env_u64("FIRN_S3_BACKOFF_MS", 100);
    c->timeout_ms = o->timeout_ms ? o->timeout_ms : 120000;
    c->list_page_size = o->list_page_size ? o->list_page_size
                                          : (unsigned)env_u64("FIRN_S3_LIST_PAGE_SIZE", 1000);
    if (c->list_page_size < 1 || c->list_page_size > 1000) c->list_page_size = 1000;
    c->delete_batch_size = o->delete_batch_size ? o->delete_batch_size : 1000;
    if (c->delete_batch_size > 1000) c->delete_batch_size = 1000;
    size_t n = strlen(c->region) + 16;
    c->sigv4 = firn_xmalloc(n);
    snprintf(c->sigv4, n, "aws:amz:%s:s3", c->region);
    *out = c;
    return 0;
}

/* ------------------------------------------------------------ shared state */

typedef struct s3_shared {
    int refs; /* atomic */
    s3_conf *conf;
    CURLSH *share;
    pthread_mutex_t locks[CURL_LOCK_DATA_LAST];
    uint64_t requests, retries; /* atomic */
    /* multipart parts sent, the most sent at once by one writer, and parts
     * that finished before a lower-numbered part of their upload (atomic) */
    uint64_t parts, max_inflight, out_of_order;
} s3_shared;

static void share_lock(CURL *h, curl_lock_data data, curl_lock_access access, void *ctx) {
    (void)h, (void)access;
    pthread_mutex_lock(&((s3_shared *)ctx)->locks[data]);
}

static void share_unlock(CURL *h, curl_lock_data data, void *ctx) {
    (void)h;
    pthread_mutex_unlock(&((s3_shared *)ctx)->locks[data]);
}

static pthread_once_t g_curl_once = PTHREAD_ONCE_INIT;
static void curl_init_once(void) { curl_global_init(CURL_GLOBAL_DEFAULT); }

static s3_shared *shared_new(s3_conf *conf) {
    pthread_once(&g_curl_once, curl_init_once);
    s3_shared *s = firn_xcalloc(1, sizeof *s);
    s->refs = 1;
    s->conf = conf;
    for (int i = 0; i < CURL_LOCK_DATA_LAST; i++) pthread_mutex_init(&s->locks[i], NULL);
    s->share = curl_share_init();
    curl_share_setopt(s->share, CURLSHOPT_LOCKFUNC, share_lock);
    curl_share_setopt(s->share, CURLSHOPT_UNLOCKFUNC, share_unlock);
    curl_share_setopt(s->share, CURLSHOPT_USERDATA, s);
    curl_share_setopt(s->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
    curl_share_setopt(s->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);
    return s;
}

static s3_shared *shared_ref(s3_shared *s) {
    __atomic_add_fetch(&s->refs, 1, __ATOMIC_ACQ_REL);
    return s;
}

static void shared_unref(s3_shared *s) {
    if (!s || __atomic_sub_fetch(&s->refs, 1, __ATOMIC_ACQ_REL) != 0) return;
    curl_share_cleanup(s->share);
    for (int i = 0; i < CURL_LOCK_DATA_LAST; i++) pthread_mutex_destroy(&s->locks[i]);
    conf_free(s->conf);
    free(s);
}

/* ------------------------------------------------------------ locations */

typedef struct s3_loc {
    char scheme[8]; /* "s3", "s3a", "s3n" */
    char *bucket;   /* malloc'ed */
    char *key;      /* malloc'ed, may be "" */
} s3_loc;

static void loc_release(s3_loc *l) {
    free(l->bucket);
    free(l->key);
    l->bucket = l->key = NULL;
}

static int loc_parse(const char *location, bool want_key, s3_loc *l, firn_error *err) {
    memset(l, 0, sizeof *l);
    const char *p = strstr(location, "://");
    size_t sn = p ? (size_t)(p - location) : 0;
    if (!p || sn == 0 || sn >= sizeof l->scheme) goto bad;
    for (size_t i = 0; i < sn; i++) l->scheme[i] = (char)tolower((unsigned char)location[i]);
    if (strcmp(l->scheme, "s3") && strcmp(l->scheme, "s3a") && strcmp(l->scheme, "s3n")) goto bad;
    p += 3;
    const char *slash = strchr(p, '/');
    size_t bn = slash ? (size_t)(slash - p) : strlen(p);
    if (bn < 1 || bn > 255) goto bad;
    for (size_t i = 0; i < bn; i++)
        if (!(isalnum((unsigned char)p[i]) || p[i] == '-' || p[i] == '.' || p[i] == '_')) goto bad;
    l->bucket = firn_xmalloc(bn + 1);
    memcpy(l->bucket, p, bn);
    l->bucket[bn] = '\0';
    l->key = firn_xstrdup(slash ? slash + 1 : "");
    if (want_key && (!*l->key || l->key[strlen(l->key) - 1] == '/')) {
        loc_release(l);
        int rc = FIRN_RAISE(err, FIRN_ERR_INVALID, "S3 location names no object (key)");
        firn_error_context(err, "%s", location);
        return rc;
    }
    return 0;
bad:;
    int rc = FIRN_RAISE(err, FIRN_ERR_INVALID,
                        "not an S3 location: expected s3://bucket/key");
    firn_error_context(err, "%s", location);
    return rc;
}

static bool unreserved(unsigned char c) {
    return isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

/* SigV4 URI-encoding of n bytes of s into b: keep unreserved characters, '/'
 * when keep_slash, and the characters of keep_raw; %XX (upper case) else. */
static void uri_encode(firn_buf *b, const char *s, size_t n, bool keep_slash, const char *keep_raw) {
    static const char hex[] = "0123456789ABCDEF";
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (unreserved(c) || (keep_slash && c == '/') || (keep_raw && c && strchr(keep_raw, c))) {
            firn_buf_put_u8(b, c);
        } else {
            firn_buf_put_u8(b, '%');
            firn_buf_put_u8(b, (uint8_t)hex[c >> 4]);
            firn_buf_put_u8(b, (uint8_t)hex[c & 15]);
        }
    }
}

/* what moto's signature check wants raw (it re-encodes what werkzeug decoded) */
#define MOTO_RAW_QUERY "/:@!$'()*,;?"
#define MOTO_RAW_PATH "!$'()*+,:=@"

/* One query parameter; parameters are given sorted by name. */
typedef struct s3_param {
    const char *name;
    const char *value; /* NULL or "" for "name=" */
} s3_param;

/* The URL of key (NULL: the bucket itself) with params into b. */
static void build_url(const s3_conf *c, const char *bucket, const char *key,
                      const s3_param *params, size_t np, firn_buf *b) {
    bool path_style = c->path_style || strchr(bucket, '.') != NULL;
    if (c->endpoint) {
        const char *hostpart = strstr(c->endpoint, "://") + 3;
        firn_buf_append(b, c->endpoint, (size_t)(hostpart - c->endpoint));
        if (!path_style) firn_buf_appendf(b, "%s.", bucket);
        firn_buf_append_str(b, hostpart);
    } else if (path_style) {
        firn_buf_appendf(b, "https://s3.%s.amazonaws.com", c->region);
    } else {
        firn_buf_appendf(b, "https://%s.s3.%s.amazonaws.com", bucket, c->region);
    }
    firn_buf_put_u8(b, '/');
    if (path_style) {
        firn_buf_append_str(b, bucket);
        if (key) firn_buf_put_u8(b, '/');
    }
    if (key) uri_encode(b, key, strlen(key), true, c->raw_reserved_chars ? MOTO_RAW_PATH : NULL);
    for (size_t i = 0; i < np; i++) {
        firn_buf_put_u8(b, i ? '&' : '?');
        uri_encode(b, params[i].name, strlen(params[i].name), false, NULL);
        firn_buf_put_u8(b, '=');
        if (params[i].value)
            uri_encode(b, params[i].value, strlen(params[i].value), false,
                       c->raw_reserved_chars ? MOTO_RAW_QUERY : NULL);
    }
}

/* ------------------------------------------------------------ requests */

typedef struct s3_request {
    const char *method; /* GET HEAD PUT POST DELETE */
    const char *bucket;
    const char *key; /* NULL: bucket */
    const s3_param *params;
    size_t nparams;
    const void *body;
    size_t body_len;
    const char *const *headers; /* extra, NULL-terminated, may be NULL */
    /* GET: ranged read straight into dst[0..len) when dst is set */
    bool range;
    uint64_t range_off;
    uint8_t *dst;
    size_t dst_len;
} s3_request;

typedef struct s3_response {
    long status;
    firn_buf body; /* non-ranged body, or the error document */
    size_t dst_got;
    uint64_t content_length;
    int64_t mtime_ms;
    char etag[160];
} s3_response;

typedef struct s3_sink {
    CURL *h;
    const s3_request *req;
    s3_response *resp;
} s3_sink;

static size_t on_body(char *p, size_t size, size_t nmemb, void *ctx) {
    s3_sink *s = ctx;
    size_t n = size * nmemb;
    long status = 0;
    curl_easy_getinfo(s->h, CURLINFO_RESPONSE_CODE, &status);
    if (s->req->dst && status >= 200 && status < 300) {
        size_t room = s->req->dst_len - s->resp->dst_got;
        if (n > room) return 0; /* more than asked for: abort the transfer */
        memcpy(s->req->dst + s->resp->dst_got, p, n);
        s->resp->dst_got += n;
        return n;
    }
    if (s->resp->body.len + n > 64 * MIB && s->req->dst) return 0;
    firn_buf_append(&s->resp->body, p, n);
    return n;
}

static size_t on_header(char *p, size_t size, size_t nmemb, void *ctx) {
    s3_sink *s = ctx;
    size_t n = size * nmemb;
    if (n > 5 && strncasecmp(p, "etag:", 5) == 0) {
        const char *v = p + 5;
        size_t vn = n - 5;
        while (vn && (*v == ' ' || *v == '\t')) v++, vn--;
        while (vn && (v[vn - 1] == '\r' || v[vn - 1] == '\n' || v[vn - 1] == ' ')) vn--;
        if (vn >= sizeof s->resp->etag) vn = sizeof s->resp->etag - 1;
        memcpy(s->resp->etag, v, vn);
        s->resp->etag[vn] = '\0';
    }
    return n;
}

static void resp_reset(s3_response *r) {
    r->status = 0;
    r->body.len = 0;
    r->dst_got = 0;
    r->content_length = 0;
    r->mtime_ms = 0;
    r->etag[0] = '\0';
}

static void hex32(const uint8_t d[32], char out[65]) {
    static const char hex[] = "0123456789abcdef";
    for (int i = 0; i < 32; i++) {
        out[2 * i] = hex[d[i] >> 4];
        out[2 * i + 1] = hex[d[i] & 15];
    }
    out[64] = '\0';
}

static void base64(const uint8_t *d, size_t n, char *out) {
    static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)d[i] << 16;
        if (i + 1 < n) v |= (uint32_t)d[i + 1] << 8;
        if (i + 2 < n) v |= d[i + 2];
        out[o++] = t[v >> 18 & 63];
        out[o++] = t[v >> 12 & 63];
        out[o++] = i + 1 < n ? t[v >> 6 & 63] : '=';
        out[o++] = i + 2 < n ? t[v & 63] : '=';
    }
    out[o] = '\0';
}

/* The text of the first <tag>...</tag> in xml (XML entities decoded) into
 * out; false when absent. */
static bool xml_text(const char *xml, size_t len, const char *tag, firn_buf *out,
                     const char **after) {
    char open[64], close[64];
    snprintf(open, sizeof open, "<%s>", tag);
    snprintf(close, sizeof close, "</%s>", tag);
    const char *end = xml + len;
    const char *a = memmem(xml, len, open, strlen(open));
    if (!a) return false;
    a += strlen(open);
    const char *z = memmem(a, (size_t)(end - a), close, strlen(close));
    if (!z) return false;
    out->len = 0;
    for (const char *p = a; p < z; p++) {
        if (*p != '&') {
            firn_buf_put_u8(out, (uint8_t)*p);
            continue;
        }
        static const struct { const char *e; char c; } ents[] = {
            {"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&apos;", '\''}};
        bool done = false;
        for (size_t i = 0; i < 5 && !done; i++) {
            size_t en = strlen(ents[i].e);
            if ((size_t)(z - p) >= en && memcmp(p, ents[i].e, en) == 0) {
                firn_buf_put_u8(out, (uint8_t)ents[i].c);
                p += en - 1;
                done = true;
            }
        }
        if (!done && p[1] == '#') { /* &#NN; or &#xNN; (ASCII only) */
            char *e2;
            long v = p[2] == 'x' ? strtol(p + 3, &e2, 16) : strtol(p + 2, &e2, 10);
            if (*e2 == ';' && v > 0 && v < 128) {
                firn_buf_put_u8(out, (uint8_t)v);
                p = e2;
                done = true;
            }
        }
        if (!done) firn_buf_put_u8(out, '&');
    }
    firn_buf_cstr(out);
    if (after) *after = z + strlen(close);
    return true;
}

static void xml_escape(firn_buf *b, const char *s) {
    for (; *s; s++) {
        switch (*s) {
        case '&': firn_buf_append_str(b, "&amp;"); break;
        case '<': firn_buf_append_str(b, "&lt;"); break;
        case '>': firn_buf_append_str(b, "&gt;"); break;
        case '"': firn_buf_append_str(b, "&quot;"); break;
        case '\'': firn_buf_append_str(b, "&apos;"); break;
        default: firn_buf_put_u8(b, (uint8_t)*s);
        }
    }
}

/* An error for a finished request that did not succeed. */
static int http_error(const s3_request *q, const s3_response *r, const char *what,
                      firn_error *err) {
    firn_buf code = {0}, msg = {0};
    bool has_code = r->body.len && xml_text((const char *)r->body.data, r->body.len, "Code",
                                            &code, NULL);
    if (r->body.len) xml_text((const char *)r->body.data, r->body.len, "Message", &msg, NULL);
    const char *c = has_code ? firn_buf_cstr(&code) : "";
    firn_err_kind kind = FIRN_ERR_IO;
    const char *hint = "";
    if (r->status == 404) kind = FIRN_ERR_NOT_FOUND;
    else if (r->status == 412) kind = FIRN_ERR_CONFLICT, hint = " (the key exists: firn never "
                                                                "overwrites a file)";
    else if (r->status == 403 || r->status == 401)
        kind = FIRN_ERR_INVALID, hint = " (check the credentials, region and bucket policy)";
    else if (r->status == 400 || r->status == 405 || r->status == 411)
        kind = FIRN_ERR_INVALID;
    int rc = FIRN_RAISE(err, kind, "%s: S3 answered %ld %s%s%s%s", what, r->status, c,
                        msg.len ? ": " : "", msg.len ? firn_buf_cstr(&msg) : "", hint);
    if (err) {
        err->retriable = kind == FIRN_ERR_IO;
        firn_error_context(err, "s3://%s/%s", q->bucket, q->key ? q->key : "");
    }
    firn_buf_release(&code);
    firn_buf_release(&msg);
    return rc;
}

static void sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

static bool retriable_status(long st, const s3_response *r) {
    if (st >= 500 || st == 429) return true;
    if (st == 409 && r->body.len && memmem(r->body.data, r->body.len, "ConditionalRequestConflict",
                                           26))
        return true;
    /* S3 may answer 200 to CompleteMultipartUpload and then fail in the body */
    return false;
}

/*
 * Send q on handle h with retries. 0 when the server answered (r->status
 * holds any status: callers judge it), negative when every attempt failed on
 * the connection or a retriable status (err says why).
 */
static int s3_perform(s3_shared *sh, CURL *h, const s3_request *q, s3_response *r,
                      firn_error *err) {
    const s3_conf *c = sh->conf;
    firn_buf url = {0};
    build_url(c, q->bucket, q->key, q->params, q->nparams, &url);
    struct curl_slist *hdrs = NULL;
    char line[512];
    char hash[65];
    if (q->body_len) {
        uint8_t d[32];
        firn_sha256(q->body, q->body_len, d);
        hex32(d, hash);
    } else {
        snprintf(hash, sizeof hash, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    }
    snprintf(line, sizeof line, "x-amz-content-sha256: %s", hash);
    hdrs = curl_slist_append(hdrs, line);
    if (c->session_token) {
        firn_buf t = {0};
        firn_buf_appendf(&t, "x-amz-security-token: %s", c->session_token);
        hdrs = curl_slist_append(hdrs, firn_buf_cstr(&t));
        firn_buf_release(&t);
    }
    if (q->range) {
        snprintf(line, sizeof line, "Range: bytes=%llu-%llu", (unsigned long long)q->range_off,
                 (unsigned long long)(q->range_off + q->dst_len - 1));
        hdrs = curl_slist_append(hdrs, line);
    }
    for (const char *const *x = q->headers; x && *x; x++) hdrs = curl_slist_append(hdrs, *x);
    bool has_body = strcmp(q->method, "PUT") == 0 || strcmp(q->method, "POST") == 0;
    if (has_body) hdrs = curl_slist_append(hdrs, "Content-Type: application/octet-stream");

    curl_easy_reset(h);
    s3_sink sink = {h, q, r};
    curl_easy_setopt(h, CURLOPT_URL, firn_buf_cstr(&url));
    curl_easy_setopt(h, CURLOPT_SHARE, sh->share);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_AWS_SIGV4, c->sigv4);
    curl_easy_setopt(h, CURLOPT_USERNAME, c->access_key_id);
    curl_easy_setopt(h, CURLOPT_PASSWORD, c->secret_access_key);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &sink);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &sink);
    curl_easy_setopt(h, CURLOPT_FILETIME, 1L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, (long)(c->timeout_ms / 1000 + 1));
    curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
    /* no "Expect:" header to switch 100-continue off: curl 7.88 would sign
     * the empty header; a zero wait sends the body at once instead */
    curl_easy_setopt(h, CURLOPT_EXPECT_100_TIMEOUT_MS, 0L);
    if (getenv("FIRN_S3_VERBOSE")) curl_easy_setopt(h, CURLOPT_VERBOSE, 1L);
    if (strcmp(q->method, "HEAD") == 0) {
        curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    } else if (has_body) {
        curl_easy_setopt(h, CURLOPT_POST, 1L);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, q->body_len ? q->body : "");
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)q->body_len);
        if (strcmp(q->method, "PUT") == 0) curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, "PUT");
    } else if (strcmp(q->method, "GET") != 0) {
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, q->method);
    }

    int rc = 0;
    char last[256] = "";
    for (int attempt = 1;; attempt++) {
        resp_reset(r);
        __atomic_add_fetch(&sh->requests, 1, __ATOMIC_RELAXED);
        CURLcode cc = CURLE_OK;
        bool injected = firn_io_fault_check("s3");
        if (injected) {
            r->status = 503;
            snprintf(last, sizeof last, "injected fault: 503 SlowDown");
        } else {
            cc = curl_easy_perform(h);
            if (cc == CURLE_OK) {
                curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r->status);
                curl_off_t cl = -1, ft = -1;
                curl_easy_getinfo(h, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &cl);
                curl_easy_getinfo(h, CURLINFO_FILETIME_T, &ft);
                r->content_length = cl >= 0 ? (uint64_t)cl : 0;
                r->mtime_ms = ft >= 0 ? (int64_t)ft * 1000 : 0;
                if (retriable_status(r->status, r))
                    snprintf(last, sizeof last, "S3 answered %ld", r->status);
            } else {
                snprintf(last, sizeof last, "%s", curl_easy_strerror(cc));
            }
        }
        bool retry = injected || cc != CURLE_OK || retriable_status(r->status, r);
        /* a ranged read that the callback cut short is not a network error */
        if (cc == CURLE_WRITE_ERROR) retry = false;
        if (!retry) {
            if (cc != CURLE_OK) {
                rc = FIRN_RAISE(err, FIRN_ERR_CORRUPT,
                                "S3 %s: the response was longer than asked for (%s)", q->method,
                                last);
                firn_error_context(err, "s3://%s/%s", q->bucket, q->key ? q->key : "");
            }
            break;
        }
        if (attempt >= c->max_attempts) {
            rc = FIRN_RAISE(err, FIRN_ERR_IO, "S3 %s failed after %d attempts: %s", q->method,
                            attempt, last);
            firn_error_context(err, "s3://%s/%s", q->bucket, q->key ? q->key : "");
            break;
        }
        __atomic_add_fetch(&sh->retries, 1, __ATOMIC_RELAXED);
        long delay = (long)c->backoff_ms << (attempt - 1 < 10 ? attempt - 1 : 10);
        if (delay > 5000) delay = 5000;
        uint64_t seed = firn_now_ns() ^ (uint64_t)attempt;
        delay = delay / 2 + (long)(firn_xxh64(&seed, sizeof seed, 0) % (uint64_t)(delay / 2 + 1));
        sleep_ms(delay);
    }
    curl_slist_free_all(hdrs);
    firn_buf_release(&url);
    return rc;
}

/* ------------------------------------------------------------ io */

typedef struct s3_io {
    firn_io base;
    s3_shared *sh;
    CURL *h;
} s3_io;

static CURL *new_handle(void) {
    pthread_once(&g_curl_once, curl_init_once);
    CURL *h = curl_easy_init();
    if (!h) {
        fprintf(stderr, "firn: curl_easy_init failed\n");
        abort();
    }
    return h;
}

/* HEAD: size and mtime. */
static int head_object(s3_shared *sh, CURL *h, const s3_loc *l, firn_io_stat *st,
                       firn_error *err) {
    s3_request q = {.method = "HEAD", .bucket = l->bucket, .key = l->key};
    s3_response r = {0};
    int rc = s3_perform(sh, h, &q, &r, err);
    if (rc == 0 && r.status != 200) rc = http_error(&q, &r, "cannot stat file", err);
    if (rc == 0) {
        st->size = r.content_length;
        st->mtime_ms = r.mtime_ms;
    }
    firn_buf_release(&r.body);
    return rc;
}

static int s3_stat(firn_io *io, const char *location, firn_io_stat *st, firn_error *err) {
    s3_io *s = (s3_io *)io;
    s3_loc l;
    int rc = loc_parse(location, true, &l, err);
    if (rc) return rc;
    rc = head_object(s->sh, s->h, &l, st, err);
    loc_release(&l);
    return rc;
}

static int s3_remove(firn_io *io, const char *location, firn_error *err) {
    s3_io *s = (s3_io *)io;
    s3_loc l;
    int rc = loc_parse(location, true, &l, err);
    if (rc) return rc;
    s3_request q = {.method = "DELETE", .bucket = l.bucket, .key = l.key};
    s3_response r = {0};
    rc = s3_perform(s->sh, s->h, &q, &r, err);
    if (rc == 0 && r.status != 204 && r.status != 200 && r.status != 404)
        rc = http_error(&q, &r, "cannot delete file", err);
    firn_buf_release(&r.body);
    loc_release(&l);
    return rc;
}

/* One DeleteObjects request for keys[0..n) of bucket; counts failures. */
static int delete_objects(s3_io *s, const char *bucket, const char *const *keys, size_t n,
                          size_t *nfail, firn_error *err) {
    firn_buf body = {0};
    firn_buf_append_str(&body, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
                               "<Delete xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
                               "<Quiet>true</Quiet>");
    for (size_t i = 0; i < n; i++) {
        firn_buf_append_str(&body, "<Object><Key>");
        xml_escape(&body, keys[i]);
        firn_buf_append_str(&body, "</Key></Object>");
    }
    firn_buf_append_str(&body, "</Delete>");
    /* S3 requires a checksum of the body (Content-MD5 or x-amz-checksum-*) */
    uint8_t d[32];
    firn_sha256(body.data, body.len, d);
    char b64[48], sum[96];
    base64(d, 32, b64);
    snprintf(sum, sizeof sum, "x-amz-checksum-sha256: %s", b64);
    const char *hdrs[] = {"x-amz-sdk-checksum-algorithm: SHA256", sum, NULL};
    s3_param p = {"delete", NULL};
    s3_request q = {.method = "POST", .bucket = bucket, .params = &p, .nparams = 1,
                    .body = body.data, .body_len = body.len, .headers = hdrs};
    s3_response r = {0};
    int rc = s3_perform(s->sh, s->h, &q, &r, err);
    if (rc == 0 && r.status != 200) rc = http_error(&q, &r, "cannot delete files", err);
    if (rc) {
        *nfail += n;
    } else {
        /* Quiet mode lists only the failures, as <Error> elements */
        const char *p0 = (const char *)r.body.data, *end = p0 + r.body.len;
        firn_buf key = {0}, code = {0};
        while (p0 < end) {
            const char *e = memmem(p0, (size_t)(end - p0), "<Error>", 7);
            if (!e) break;
            const char *ez = memmem(e, (size_t)(end - e), "</Error>", 8);
            if (!ez) break;
            xml_text(e, (size_t)(ez - e), "Key", &key, NULL);
            bool has_code = xml_text(e, (size_t)(ez - e), "Code", &code, NULL);
            if (!(has_code && strcmp(firn_buf_cstr(&code), "NoSuchKey") == 0)) {
                if (*nfail == 0 || !rc) {
                    rc = FIRN_RAISE(err, FIRN_ERR_IO, "cannot delete file: S3 answered %s",
                                    has_code ? firn_buf_cstr(&code) : "an error");
                    firn_error_context(err, "s3://%s/%s", bucket, firn_buf_cstr(&key));
                }
                (*nfail)++;
            }
            p0 = ez + 8;
        }
        firn_buf_release(&key);
        firn_buf_release(&code);
    }
    firn_buf_release(&r.body);
    firn_buf_release(&body);
    return rc;
}

static int s3_remove_batch(firn_io *io, const char *const *locations, size_t n, size_t *failed,
                           firn_error *err) {
    s3_io *s = (s3_io *)io;
    size_t nfail = 0;
    int first = 0;
    unsigned batch = s->sh->conf->delete_batch_size;
    s3_loc *locs = firn_xcalloc(n ? n : 1, sizeof *locs);
    bool *done = firn_xcalloc(n ? n : 1, sizeof *done);
    const char **keys = firn_xcalloc(batch, sizeof *keys);
    firn_error e2;
    firn_error_init(&e2);
    for (size_t i = 0; i < n; i++) {
        if (loc_parse(locations[i], true, &locs[i], nfail ? &e2 : err)) {
            if (!nfail) first = err ? -(int)err->kind : -FIRN_ERR_INVALID;
            nfail++;
            done[i] = true;
            firn_error_release(&e2);
        }
    }
    /* group by bucket, in batches */
    for (size_t i = 0; i < n; i++) {
        if (done[i]) continue;
        const char *bucket = locs[i].bucket;
        size_t k = 0;
        for (size_t j = i; j < n; j++) {
            if (done[j] || strcmp(locs[j].bucket, bucket) != 0) continue;
            keys[k++] = locs[j].key;
            done[j] = true;
            if (k == batch) {
                size_t before = nfail;
                int rc = delete_objects(s, bucket, keys, k, &nfail, before ? &e2 : err);
                if (rc && !first) first = rc;
                firn_error_release(&e2);
                k = 0;
            }
        }
        if (k) {
            size_t before = nfail;
            int rc = delete_objects(s, bucket, keys, k, &nfail, before ? &e2 : err);
            if (rc && !first) first = rc;
            firn_error_release(&e2);
        }
    }
    for (size_t i = 0; i < n; i++) loc_release(&locs[i]);
    free(locs);
    free(done);
    free(keys);
    if (failed) *failed = nfail;
    if (nfail > 1 && err && first)
        first = FIRN_WRAP(err, err->kind, "could not delete %zu of %zu files", nfail, n);
    return first;
}

/* "2024-01-02T03:04:05.000Z" to milliseconds since the epoch. */
static int64_t parse_iso8601_ms(const char *s) {
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    const char *p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
    if (!p) return 0;
    int64_t ms = (int64_t)timegm(&tm) * 1000;
    if (*p == '.') ms += strtol(p + 1, NULL, 10) % 1000;
    return ms;
}

static int s3_list(firn_io *io, const char *prefix, firn_io_list_fn fn, void *ctx,
                   firn_error *err) {
    s3_io *s = (s3_io *)io;
    s3_loc l;
    int rc = loc_parse(prefix, false, &l, err);
    if (rc) return rc;
    firn_buf pfx = {0}, token = {0}, key = {0}, size = {0}, mod = {0}, flag = {0}, loc = {0};
    firn_buf_append_str(&pfx, l.key);
    if (pfx.len && pfx.data[pfx.len - 1] != '/') firn_buf_put_u8(&pfx, '/');
    firn_buf_cstr(&pfx);
    char maxkeys[16];
    snprintf(maxkeys, sizeof maxkeys, "%u", s->sh->conf->list_page_size);
    bool more = true;
    while (rc == 0 && more) {
        s3_param ps[4];
        size_t np = 0;
        if (token.len) ps[np++] = (s3_param){"continuation-token", firn_buf_cstr(&token)};
        ps[np++] = (s3_param){"list-type", "2"};
        ps[np++] = (s3_param){"max-keys", maxkeys};
        ps[np++] = (s3_param){"prefix", (const char *)pfx.data};
        s3_request q = {.method = "GET", .bucket = l.bucket, .params = ps, .nparams = np};
        s3_response r = {0};
        rc = s3_perform(s->sh, s->h, &q, &r, err);
        if (rc == 0 && r.status == 404) { /* NoSuchBucket: nothing under it */
            firn_buf_release(&r.body);
            break;
        }
        if (rc == 0 && r.status != 200) rc = http_error(&q, &r, "cannot list files", err);
        const char *xml = (const char *)r.body.data, *end = xml + r.body.len;
        const char *p = xml;
        while (rc == 0 && p < end) {
            const char *c0 = memmem(p, (size_t)(end - p), "<Contents>", 10);
            if (!c0) break;
            const char *cz = memmem(c0, (size_t)(end - c0), "</Contents>", 11);
            if (!cz) break;
            size_t cn = (size_t)(cz - c0);
            if (!xml_text(c0, cn, "Key", &key, NULL)) break;
            xml_text(c0, cn, "Size", &size, NULL);
            bool has_mod = xml_text(c0, cn, "LastModified", &mod, NULL);
            loc.len = 0;
            firn_buf_appendf(&loc, "%s://%s/%s", l.scheme, l.bucket, firn_buf_cstr(&key));
            firn_io_entry e = {
                .location = firn_buf_cstr(&loc),
                .size = size.len ? strtoull(firn_buf_cstr(&size), NULL, 10) : 0,
                .mtime_ms = has_mod ? parse_iso8601_ms(firn_buf_cstr(&mod)) : 0,
            };
            rc = fn(ctx, &e, err);
            p = cz + 11;
        }
        more = false;
        if (rc == 0 && xml_text(xml, r.body.len, "IsTruncated", &flag, NULL) &&
            strcmp(firn_buf_cstr(&flag), "true") == 0) {
            if (!xml_text(xml, r.body.len, "NextContinuationToken", &token, NULL) || !token.len) {
                rc = FIRN_RAISE(err, FIRN_ERR_CORRUPT,
                                "S3 list: truncated page without a continuation token");
                firn_error_context(err, "%s", prefix);
            } else {
                more = true;
            }
        }
        firn_buf_release(&r.body);
    }
    firn_buf_release(&pfx);
    firn_buf_release(&token);
    firn_buf_release(&key);
    firn_buf_release(&size);
    firn_buf_release(&mod);
    firn_buf_release(&flag);
    firn_buf_release(&loc);
    loc_release(&l);
    return rc;
}

/* ------------------------------------------------------------ reader */

typedef struct s3_reader {
    firn_io_reader base;
    s3_shared *sh;
    CURL *h;
    s3_loc l;
} s3_reader;

static int reader_read_at(firn_io_reader *r, uint64_t off, void *buf, size_t n,
                          firn_error *err) {
    s3_reader *sr = (s3_reader *)r;
    s3_request q = {.method = "GET", .bucket = sr->l.bucket, .key = sr->l.key, .range = true,
                    .range_off = off, .dst = buf, .dst_len = n};
    s3_response resp = {0};
    int rc = s3_perform(sr->sh, sr->h, &q, &resp, err);
    if (rc == 0 && resp.status == 416) {
        rc = FIRN_RAISE(err, FIRN_ERR_CORRUPT, "file truncated: it shrank below %llu bytes",
                        (unsigned long long)(off + n));
        firn_error_context(err, "%s", r->location);
    } else if (rc == 0 && resp.status != 206 && resp.status != 200) {
        rc = http_error(&q, &resp, "cannot read", err);
    } else if (rc == 0 && (resp.dst_got != n || (resp.status == 200 && off != 0))) {
        rc = FIRN_RAISE(err, FIRN_ERR_CORRUPT,
                        "file truncated: read %zu of %zu bytes at offset %llu", resp.dst_got, n,
                        (unsigned long long)off);
        firn_error_context(err, "%s", r->location);
    }
    firn_buf_release(&resp.body);
    return rc;
}

static void reader_close(firn_io_reader *r) {
    s3_reader *sr = (s3_reader *)r;
    curl_easy_cleanup(sr->h);
    loc_release(&sr->l);
    shared_unref(sr->sh);
    free(r->location);
    free(sr);
}

static const firn_io_reader_ops reader_ops = {reader_read_at, reader_close};

static int s3_open(firn_io *io, const char *location, firn_io_reader **out, firn_error *err) {
    s3_io *s = (s3_io *)io;
    s3_loc l;
    int rc = loc_parse(location, true, &l, err);
    if (rc) return rc;
    firn_io_stat st;
    rc = head_object(s->sh, s->h, &l, &st, err);
    if (rc) {
        if (err && err->kind == FIRN_ERR_NOT_FOUND) firn_error_context(err, "%s", location);
        loc_release(&l);
        return rc;
    }
    s3_reader *sr = firn_xcalloc(1, sizeof *sr);
    sr->base.ops = &reader_ops;
    sr->base.location = firn_xstrdup(location);
    sr->base.size = st.size;
    sr->sh = shared_ref(s->sh);
    sr->h = new_handle();
    sr->l = l;
    *out = &sr->base;
    return 0;
}

/* ------------------------------------------------------------ writer */

/* One part handed to the uploaders: data (malloc'ed, owned) becomes part number. */
typedef struct s3_job {
    struct s3_job *next;
    int number;
    uint8_t *data;
    size_t len;
} s3_job;

typedef struct s3_writer {
    firn_io_writer base;
    s3_shared *sh;
    CURL *h;
    s3_loc l;
    firn_buf buf;    /* bytes not yet handed out (the whole file while it is one PUT) */
    char *upload_id; /* multipart upload in progress */
    int nparts;      /* parts handed to the uploaders */
    bool failed;
    /* Parts in flight: a FIFO of jobs taken by up to upload_concurrency
     * threads (started as parts are handed out, each with its own easy handle
     * on the shared connection cache). mu guards everything below. */
    pthread_mutex_t mu;
    pthread_cond_t work; /* a job was queued, or stop */
    pthread_cond_t done; /* a job finished */
    s3_job *head, *tail;
    int queued;   /* jobs in the queue */
    int inflight; /* jobs queued or being sent */
    int sending;  /* jobs being sent */
    int idle;     /* threads waiting for work */
    int nthreads;
    bool stop;        /* threads exit once the queue is empty */
    bool cancel;      /* queued jobs are dropped, not sent */
    bool part_failed; /* a part failed (after its retries): part_err says why */
    firn_error part_err;
    char **etags; /* etags[n - 1]: ETag of part n, NULL until it is sent */
    int etags_cap;
    pthread_t threads[S3_MAX_UPLOAD_CONCURRENCY];
} s3_writer;

/* Stop the upload threads: with cancel, queued parts are dropped; without,
 * every queued part is sent first. Waits for the parts being sent. Idempotent. */
static void uploaders_finish(s3_writer *w, bool cancel) {
    pthread_mutex_lock(&w->mu);
    if (cancel) w->cancel = true;
    w->stop = true;
    pthread_cond_broadcast(&w->work);
    int n = w->nthreads;
    pthread_mutex_unlock(&w->mu);
    for (int i = 0; i < n; i++) pthread_join(w->threads[i], NULL);
    pthread_mutex_lock(&w->mu);
    w->nthreads = 0;
    while (w->head) { /* only when no thread ever started */
        s3_job *j = w->head;
        w->head = j->next;
        free(j->data);
        free(j);
    }
    w->tail = NULL;
    w->queued = w->inflight = 0;
    pthread_mutex_unlock(&w->mu);
}

static void writer_free(s3_writer *w) {
    uploaders_finish(w, true);
    curl_easy_cleanup(w->h);
    loc_release(&w->l);
    shared_unref(w->sh);
    firn_buf_release(&w->buf);
    for (int i = 0; i < w->etags_cap; i++) free(w->etags[i]);
    free(w->etags);
    firn_error_release(&w->part_err);
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->work);
    pthread_cond_destroy(&w->done);
    free(w->upload_id);
    free(w->base.location);
    free(w);
}

/* Abort the multipart upload (after the upload threads are stopped: S3 may
 * keep a part that was still being sent when the abort arrived). */
static void abort_multipart(s3_writer *w) {
    if (!w->upload_id) return;
    uploaders_finish(w, true);
    s3_param p = {"uploadId", w->upload_id};
    s3_request q = {.method = "DELETE", .bucket = w->l.bucket, .key = w->l.key, .params = &p,
                    .nparams = 1};
    s3_response r = {0};
    firn_error e;
    firn_error_init(&e);
    /* a failed abort leaves parts that a bucket lifecycle rule must remove */
    if (s3_perform(w->sh, w->h, &q, &r, &e) == 0 && r.status != 204 && r.status != 200 &&
        r.status != 404)
        http_error(&q, &r, "cannot abort multipart upload", &e);
    firn_error_release(&e);
    firn_buf_release(&r.body);
    free(w->upload_id);
    w->upload_id = NULL;
}

static int start_multipart(s3_writer *w, firn_error *err) {
    s3_param p = {"uploads", NULL};
    s3_request q = {.method = "POST", .bucket = w->l.bucket, .key = w->l.key, .params = &p,
                    .nparams = 1};
    s3_response r = {0};
    firn_buf id = {0};
    int rc = s3_perform(w->sh, w->h, &q, &r, err);
    if (rc == 0 && r.status != 200) rc = http_error(&q, &r, "cannot start multipart upload", err);
    if (rc == 0 && !xml_text((const char *)r.body.data, r.body.len, "UploadId", &id, NULL)) {
        rc = FIRN_RAISE(err, FIRN_ERR_CORRUPT, "S3 started a multipart upload without an id");
        firn_error_context(err, "%s", w->base.location);
    }
    if (rc == 0) w->upload_id = firn_xstrdup(firn_buf_cstr(&id));
    firn_buf_release(&id);
    firn_buf_release(&r.body);
    return rc;
}

/* Send job as its part on handle h (with s3_perform's retries); its ETag into etag. */
static int send_part(s3_writer *w, CURL *h, const s3_job *j, char etag[160], firn_error *err) {
    char num[16];
    snprintf(num, sizeof num, "%d", j->number);
    s3_param ps[2] = {{"partNumber", num}, {"uploadId", w->upload_id}};
    s3_request q = {.method = "PUT", .bucket = w->l.bucket, .key = w->l.key, .params = ps,
                    .nparams = 2, .body = j->data, .body_len = j->len};
    s3_response r = {0};
    int rc = s3_perform(w->sh, h, &q, &r, err);
    if (rc == 0 && r.status != 200) rc = http_error(&q, &r, "cannot upload part", err);
    if (rc == 0 && !r.etag[0]) {
        rc = FIRN_RAISE(err, FIRN_ERR_CORRUPT, "S3 accepted part %s without an ETag", num);
        firn_error_context(err, "%s", w->base.location);
    }
    if (rc == 0) memcpy(etag, r.etag, sizeof r.etag);
    else firn_error_context(err, "part %s", num);
    firn_buf_release(&r.body);
    return rc;
}

static void *uploader_main(void *arg) {
    s3_writer *w = arg;
    CURL *h = new_handle();
    pthread_mutex_lock(&w->mu);
    for (;;) {
        while (!w->head && !w->stop) {
            w->idle++;
            pthread_cond_wait(&w->work, &w->mu);
            w->idle--;
        }
        s3_job *j = w->head;
        if (!j) break;
        w->head = j->next;
        if (!w->head) w->tail = NULL;
        w->queued--;
        bool skip = w->part_failed || w->cancel;
        if (!skip) {
            uint64_t now = (uint64_t)++w->sending;
            uint64_t was = __atomic_load_n(&w->sh->max_inflight, __ATOMIC_RELAXED);
            while (now > was && !__atomic_compare_exchange_n(&w->sh->max_inflight, &was, now,
                                                              false, __ATOMIC_RELAXED,
                                                              __ATOMIC_RELAXED)) {
            }
        }
        pthread_mutex_unlock(&w->mu);
        char etag[160] = "";
        firn_error e;
        firn_error_init(&e);
        int rc = skip ? 0 : send_part(w, h, j, etag, &e);
        free(j->data);
        pthread_mutex_lock(&w->mu);
        if (rc && !w->part_failed) {
            w->part_failed = true;
            w->part_err = e; /* moved */
        } else {
            firn_error_release(&e);
        }
        if (!skip && rc == 0) {
            w->etags[j->number - 1] = firn_xstrdup(etag);
            __atomic_add_fetch(&w->sh->parts, 1, __ATOMIC_RELAXED);
            for (int k = 0; k < j->number - 1; k++)
                if (!w->etags[k]) {
                    __atomic_add_fetch(&w->sh->out_of_order, 1, __ATOMIC_RELAXED);
                    break;
                }
        }
        if (!skip) w->sending--;
        free(j);
        w->inflight--;
        pthread_cond_broadcast(&w->done);
    }
    pthread_mutex_unlock(&w->mu);
    curl_easy_cleanup(h);
    return NULL;
}

/* The first part failure as an error of this writer. Call with mu held. */
static int part_error(s3_writer *w, firn_error *err) {
    int rc = FIRN_RAISE(err, w->part_err.kind, "%s", w->part_err.message);
    if (err) {
        err->retriable = w->part_err.retriable;
        firn_error_context(err, "%s", w->part_err.context);
    }
    return rc;
}

/* Hand data[0..len) (malloc'ed; ownership passes) to the uploaders as the
 * next part. Blocks while upload_concurrency parts are in flight, so at most
 * that many part buffers exist besides the writer's own. Fails (and frees
 * data) once any part has failed. */
static int submit_part(s3_writer *w, uint8_t *data, size_t len, firn_error *err) {
    int conc = w->sh->conf->upload_concurrency;
    pthread_mutex_lock(&w->mu);
    while (w->inflight >= conc && !w->part_failed) pthread_cond_wait(&w->done, &w->mu);
    if (w->part_failed) {
        int rc = part_error(w, err);
        pthread_mutex_unlock(&w->mu);
        free(data);
        return rc;
    }
    s3_job *j = firn_xcalloc(1, sizeof *j);
    j->number = ++w->nparts;
    j->data = data;
    j->len = len;
    if (w->nparts > w->etags_cap) {
        int cap = w->etags_cap ? w->etags_cap * 2 : 16;
        w->etags = firn_xrealloc(w->etags, (size_t)cap * sizeof *w->etags);
        memset(w->etags + w->etags_cap, 0, (size_t)(cap - w->etags_cap) * sizeof *w->etags);
        w->etags_cap = cap;
    }
    if (w->tail) w->tail->next = j;
    else w->head = j;
    w->tail = j;
    w->queued++;
    w->inflight++;
    int rc = 0;
    if (w->queued > w->idle && w->nthreads < conc) {
        if (pthread_create(&w->threads[w->nthreads], NULL, uploader_main, w) == 0) {
            w->nthreads++;
        } else if (w->nthreads == 0) {
            rc = FIRN_RAISE(err, FIRN_ERR_IO, "cannot start a thread to upload parts");
            firn_error_context(err, "%s", w->base.location);
        }
    }
    pthread_cond_signal(&w->work);
    pthread_mutex_unlock(&w->mu);
    return rc;
}

/* The writer's buffer (a whole part, or the last one) becomes the next part;
 * the buffer starts again with room for a part, so filling it never copies. */
static int hand_off_buf(s3_writer *w, firn_error *err) {
    size_t len;
    uint8_t *data = firn_buf_steal(&w->buf, &len);
    int rc = submit_part(w, data, len, err);
    firn_buf_reserve(&w->buf, (size_t)w->sh->conf->part_size);
    return rc;
}

/* The multipart upload starts when more than multipart_threshold bytes were
 * written: the buffered bytes become parts (handed over whole when the
 * threshold is one part, the default). */
static int begin_parts(s3_writer *w, firn_error *err) {
    int rc = start_multipart(w, err);
    size_t part = (size_t)w->sh->conf->part_size;
    if (rc == 0 && w->buf.len == part) return hand_off_buf(w, err);
    size_t off = 0;
    while (rc == 0 && w->buf.len - off >= part) {
        uint8_t *d = firn_xmalloc(part);
        memcpy(d, w->buf.data + off, part);
        rc = submit_part(w, d, part, err);
        off += part;
    }
    if (off) {
        memmove(w->buf.data, w->buf.data + off, w->buf.len - off);
        w->buf.len -= off;
    }
    return rc;
}

static int writer_write(firn_io_writer *fw, const void *data, size_t n, firn_error *err) {
    s3_writer *w = (s3_writer *)fw;
    if (w->failed) {
        int rc = FIRN_RAISE(err, FIRN_ERR_IO, "cannot write: an earlier write to this file failed");
        firn_error_context(err, "%s", fw->location);
        return rc;
    }
    fw->offset += n;
    const s3_conf *c = w->sh->conf;
    const uint8_t *p = data;
    int rc = 0;
    while (rc == 0 && n) {
        size_t room;
        if (!w->upload_id) {
            room = (size_t)c->multipart_threshold - w->buf.len;
            if (!room) { /* more than the threshold: a multipart upload */
                rc = begin_parts(w, err);
                continue;
            }
        } else {
            room = (size_t)c->part_size - w->buf.len;
        }
        size_t take = n < room ? n : room;
        firn_buf_append(&w->buf, p, take);
        p += take;
        n -= take;
        if (w->upload_id && w->buf.len == c->part_size) rc = hand_off_buf(w, err);
    }
    if (rc) w->failed = true;
    return rc;
}

static void writer_abort(firn_io_writer *fw) {
    s3_writer *w = (s3_writer *)fw;
    abort_multipart(w);
    writer_free(w);
}

/* Does the key exist? (for the racy HEAD check) */
static int key_exists(s3_writer *w, bool *exists, firn_error *err) {
    firn_io_stat st;
    firn_error e2;
    firn_error_init(&e2);
    int rc = head_object(w->sh, w->h, &w->l, &st, &e2);
    *exists = rc == 0;
    if (rc && e2.kind == FIRN_ERR_NOT_FOUND) rc = 0;
    if (rc && err) {
        firn_error_release(err);
        *err = e2;
    } else {
        firn_error_release(&e2);
    }
    return rc;
}

static int conflict(s3_writer *w, firn_error *err) {
    int rc = FIRN_RAISE(err, FIRN_ERR_CONFLICT,
                        "cannot create file: it already exists (firn never overwrites a file)");
    if (err) err->retriable = false;
    firn_error_context(err, "%s", w->base.location);
    return rc;
}

/* Every part sent (the upload threads stopped): complete with the parts in order. */
static int complete_multipart(s3_writer *w, firn_error *err) {
    firn_buf body = {0};
    firn_buf_append_str(&body, "<CompleteMultipartUpload "
                               "xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">");
    for (int i = 0; i < w->nparts; i++) {
        if (!w->etags[i]) { /* not reached: a part that was not sent failed the upload */
            firn_buf_release(&body);
            int rc = FIRN_RAISE(err, FIRN_ERR_IO, "part %d of the upload was not sent", i + 1);
            firn_error_context(err, "%s", w->base.location);
            return rc;
        }
        firn_buf_appendf(&body, "<Part><PartNumber>%d</PartNumber><ETag>", i + 1);
        xml_escape(&body, w->etags[i]);
        firn_buf_append_str(&body, "</ETag></Part>");
    }
    firn_buf_append_str(&body, "</CompleteMultipartUpload>");
    s3_param p = {"uploadId", w->upload_id};
    const char *cond[] = {"If-None-Match: *", NULL};
    s3_request q = {.method = "POST", .bucket = w->l.bucket, .key = w->l.key, .params = &p,
                    .nparams = 1, .body = body.data, .body_len = body.len,
                    .headers = w->sh->conf->conditional_writes ? cond : NULL};
    s3_response r = {0};
    int rc = s3_perform(w->sh, w->h, &q, &r, err);
    if (rc == 0 && r.status == 412) rc = conflict(w, err);
    else if (rc == 0 && r.status != 200) rc = http_error(&q, &r, "cannot complete upload", err);
    else if (rc == 0 && r.body.len && memmem(r.body.data, r.body.len, "<Error>", 7)) {
        long st = r.status;
        r.status = 500; /* 200 with an error document */
        rc = http_error(&q, &r, "cannot complete upload", err);
        r.status = st;
    }
    if (rc == 0) {
        free(w->upload_id); /* done: nothing to abort */
        w->upload_id = NULL;
    }
    firn_buf_release(&r.body);
    firn_buf_release(&body);
    return rc;
}

static int writer_close(firn_io_writer *fw, firn_error *err) {
    s3_writer *w = (s3_writer *)fw;
    const s3_conf *c = w->sh->conf;
    int rc = 0;
    if (w->failed) {
        rc = FIRN_RAISE(err, FIRN_ERR_IO, "cannot close file: an earlier write failed");
        firn_error_context(err, "%s", fw->location);
    }
    bool exists = false;
    if (rc == 0 && !c->conditional_writes) {
        /* RACY fallback for stores without If-None-Match: another writer may
         * create the key between this HEAD and the PUT, and one of the two
         * files is then silently replaced. */
        rc = key_exists(w, &exists, err);
        if (rc == 0 && exists) rc = conflict(w, err);
    }
    if (rc == 0 && w->upload_id) {
        if (w->buf.len) rc = hand_off_buf(w, err);
        uploaders_finish(w, rc != 0); /* every part sent, or the upload is abandoned */
        if (rc == 0 && w->part_failed) rc = part_error(w, err);
    }
    firn_io_crash_point("io.create.before-publish");
    if (rc == 0 && w->upload_id) {
        rc = complete_multipart(w, err);
    } else if (rc == 0) {
        const char *cond[] = {"If-None-Match: *", NULL};
        s3_request q = {.method = "PUT", .bucket = w->l.bucket, .key = w->l.key,
                        .body = w->buf.data, .body_len = w->buf.len,
                        .headers = c->conditional_writes ? cond : NULL};
        s3_response r = {0};
        rc = s3_perform(w->sh, w->h, &q, &r, err);
        if (rc == 0 && r.status == 412) rc = conflict(w, err);
        else if (rc == 0 && r.status != 200) rc = http_error(&q, &r, "cannot write file", err);
        firn_buf_release(&r.body);
    }
    if (rc == 0) firn_io_crash_point("io.create.after-publish");
    abort_multipart(w); /* only when something failed */
    writer_free(w);
    return rc;
}

static const firn_io_writer_ops writer_ops = {writer_write, writer_close, writer_abort};

static int s3_create(firn_io *io, const char *location, firn_io_writer **out, firn_error *err) {
    s3_io *s = (s3_io *)io;
    s3_writer *w = firn_xcalloc(1, sizeof *w);
    int rc = loc_parse(location, true, &w->l, err);
    if (rc) {
        free(w);
        return rc;
    }
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->work, NULL);
    pthread_cond_init(&w->done, NULL);
    firn_error_init(&w->part_err);
    w->base.ops = &writer_ops;
    w->base.location = firn_xstrdup(location);
    w->sh = shared_ref(s->sh);
    w->h = new_handle();
    /* fail early on a taken key (the PUT checks again, atomically) */
    bool exists = false;
    rc = key_exists(w, &exists, err);
    if (rc == 0 && exists) rc = conflict(w, err);
    if (rc) {
        writer_free(w);
        return rc;
    }
    *out = &w->base;
    return 0;
}

/* ------------------------------------------------------------ handle */

static void s3_free(firn_io *io) {
    s3_io *s = (s3_io *)io;
    curl_easy_cleanup(s->h);
    shared_unref(s->sh);
    free(s);
}

static const firn_io_ops s3_ops = {
    .kind = "s3",
    .free = s3_free,
    .open = s3_open,
    .create = s3_create,
    .stat = s3_stat,
    .remove = s3_remove,
    .remove_batch = s3_remove_batch,
    .list = s3_list,
};

int firn_io_s3_new(const firn_io_s3_options *o, firn_io **out, firn_error *err) {
    *out = NULL;
    s3_conf *conf;
    int rc;
    if (o) {
        rc = conf_build(o, &conf, err);
    } else {
        pthread_mutex_lock(&g_defaults_lock);
        firn_io_s3_options d;
        if (g_defaults_set) d = g_defaults;
        else firn_io_s3_options_init(&d);
        rc = conf_build(&d, &conf, err);
        pthread_mutex_unlock(&g_defaults_lock);
    }
    if (rc) return rc;
    s3_io *s = firn_xcalloc(1, sizeof *s);
    s->base.ops = &s3_ops;
    s->sh = shared_new(conf);
    s->h = new_handle();
    *out = &s->base;
    return 0;
}

void firn_io_s3_counters(const firn_io *io, uint64_t *requests, uint64_t *retries) {
    *requests = *retries = 0;
    if (!io || io->ops != &s3_ops) return;
    const s3_io *s = (const s3_io *)io;
    *requests = __atomic_load_n(&s->sh->requests, __ATOMIC_RELAXED);
    *retries = __atomic_load_n(&s->sh->retries, __ATOMIC_RELAXED);
}

void firn_io_s3_part_counters(const firn_io *io, uint64_t *parts, uint64_t *max_inflight,
                              uint64_t *out_of_order) {
    *parts = *max_inflight = *out_of_order = 0;
    if (!io || io->ops != &s3_ops) return;
    const s3_io *s = (const s3_io *)io;
    *parts = __atomic_load_n(&s->sh->parts, __ATOMIC_RELAXED);
    *max_inflight = __atomic_load_n(&s->sh->max_inflight, __ATOMIC_RELAXED);
    *out_of_order = __atomic_load_n(&s->sh->out_of_order, __ATOMIC_RELAXED);
}
