/* kafka.c - the Kafka transport on librdkafka. Being written (issue 5). */
#include "stream/stream_internal.h"

int firn_kafka_open(const char *bootstrap, const firn_stream_options *opts, firn_stream **out,
                    firn_error *err) {
    (void)opts;
    *out = NULL;
    return FIRN_RAISE(err, FIRN_ERR_UNSUPPORTED, "kafka %s: not built yet", bootstrap);
}
