/* spool.c - the embedded durable log. Being written (issue 5). */
#include "stream/stream_internal.h"

int firn_spool_open(const char *dir, const firn_stream_options *opts, firn_stream **out,
                    firn_error *err) {
    (void)opts;
    *out = NULL;
    return FIRN_RAISE(err, FIRN_ERR_UNSUPPORTED, "spool %s: not built yet", dir);
}
