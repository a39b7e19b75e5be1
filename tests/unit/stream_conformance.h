/*
 * stream_conformance.h - the checks every transport behind stream.h must pass
 * (append/poll round trip, dense offsets, key partitioning, watermarks, limits,
 * seek, subscribe, threads, random access). A transport's test file calls
 * firn_stream_conformance() from one FIRN_TEST per transport, e.g.
 *
 *   FIRN_TEST(spool_conformance) {
 *       firn_stream_conformance_config cfg = {.uri = "spool:/tmp/x", ...};
 *       firn_stream_conformance(&cfg);
 *   }
 *
 * Failures are reported through the unit harness (firn_test_fail); each check
 * runs even when an earlier one failed.
 */
#ifndef FIRN_STREAM_CONFORMANCE_H
#define FIRN_STREAM_CONFORMANCE_H

#include "stream/stream.h"

#include <stdbool.h>
#include <stddef.h>

typedef struct firn_stream_conformance_config {
    const char *uri;                  /* a stream the suite may create topics in */
    const firn_stream_options *opts;  /* NULL = defaults */
    const char *topic_prefix;         /* makes topic names unique per run ("c1-") */
    size_t big_value_bytes;           /* largest value to round-trip (16 MiB on the spool) */
    bool has_get;                     /* firn_stream_get is supported */
    size_t records;                   /* records per round-trip check (0 = 2000) */
} firn_stream_conformance_config;

/* Run every check against cfg->uri. */
void firn_stream_conformance(const firn_stream_conformance_config *cfg);

#endif
