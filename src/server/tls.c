/* tls.c - HTTPS for the server: server.tls-cert and server.tls-key read into
 * memory for libmicrohttpd (MHD_OPTION_HTTPS_MEM_CERT / _KEY), with errors
 * that say which file and what to do. */
#include "server/server_internal.h"

#include <stdlib.h>
#include <string.h>

/* The PEM text of path as a NUL-terminated string (malloc'd) or NULL. */
static char *read_pem(const char *key, const char *path, const char *marker, const char *what,
                      firn_error *err) {
    uint8_t *data = NULL;
    size_t len = 0;
    if (firn_read_file(path, &data, &len, err)) {
        FIRN_WRAP(err, err->kind, "%s %s is unreadable", key, path);
        return NULL;
    }
    char *pem = firn_xmalloc(len + 1);
    memcpy(pem, data, len);
    pem[len] = 0;
    free(data);
    if (strlen(pem) != len || !strstr(pem, "-----BEGIN ") || !strstr(pem, marker)) {
        FIRN_RAISE(err, FIRN_ERR_INVALID, "%s %s is not a PEM file holding %s", key, path, what);
        free(pem);
        return NULL;
    }
    return pem;
}

int firn_server_tls_load(firn_server *s, firn_error *err) {
    const char *cert = s->cfg->server_tls_cert, *key = s->cfg->server_tls_key;
    bool has_cert = cert && *cert, has_key = key && *key;
    if (!has_cert && !has_key) return 0;
    if (!has_cert || !has_key)
        return FIRN_RAISE(err, FIRN_ERR_INVALID,
                          "TLS needs both server.tls-cert and server.tls-key (only %s is set)",
                          has_cert ? "server.tls-cert" : "server.tls-key");
    if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES)
        return FIRN_RAISE(err, FIRN_ERR_UNSUPPORTED,
                          "server.tls-cert is set but this libmicrohttpd was built without TLS "
                          "(GnuTLS); install one with HTTPS support or terminate TLS in a proxy");
    s->tls_cert = read_pem("server.tls-cert", cert, " CERTIFICATE-----", "a certificate", err);
    if (!s->tls_cert) return -1;
    s->tls_key = read_pem("server.tls-key", key, " PRIVATE KEY-----", "a private key", err);
    if (!s->tls_key) return -1;
    return 0;
}

bool firn_server_tls(const firn_server *s) { return s && s->tls_cert; }
