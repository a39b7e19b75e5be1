/*
 * metadata_parse.c - libFuzzer target for the fast table metadata parser
 * (src/iceberg/metadata_parse.c), differential against the jansson path.
 * Properties checked beyond "no crash" (ASan + UBSan):
 *   - the fast path never accepts what the jansson path rejects;
 *   - when both accept, they build the same metadata (written back compact and
 *     indented, byte for byte);
 *   - firn_ice_metadata_parse accepts exactly what the jansson path accepts, and
 *     rejects with the same kind and message.
 *
 *   make fuzz && build/fuzz/metadata_parse -dict=fuzz/metadata_json.dict fuzz/corpus/metadata_parse
 */
#include "iceberg/iceberg.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fail(const char *what, const char *detail) {
    fprintf(stderr, "metadata_parse: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *text = (const char *)data;
    firn_error e_ref, e_full;
    firn_error_init(&e_ref);
    firn_error_init(&e_full);
    firn_ice_metadata *ref = firn_ice_metadata_parse_jansson(text, size, &e_ref);
    firn_ice_metadata *fast = firn_ice_metadata_parse_fast(text, size);
    firn_ice_metadata *full = firn_ice_metadata_parse(text, size, &e_full);
    if (fast && !ref) fail("the fast path accepted what jansson rejects", e_ref.message);
    if (!ref != !full) fail("parse and the jansson path disagree on acceptance", ref ? e_full.message : NULL);
    if (!ref && (e_ref.kind != e_full.kind || strcmp(e_ref.message, e_full.message) != 0))
        fail("parse and the jansson path reject differently", e_full.message);
    firn_ice_metadata *mine[2] = {fast, full};
    for (int k = 0; k < 2 && ref; k++) {
        if (!mine[k]) continue;
        for (int flags = 0; flags <= FIRN_ICE_JSON_PRETTY; flags++) {
            char *a = firn_ice_metadata_to_string(ref, flags, NULL, &e_ref);
            char *b = firn_ice_metadata_to_string(mine[k], flags, NULL, &e_full);
            if (!a || !b || strcmp(a, b) != 0) fail(k ? "parse built other metadata" : "the fast path built other metadata", NULL);
            free(a);
            free(b);
        }
    }
    firn_ice_metadata_free(ref);
    firn_ice_metadata_free(fast);
    firn_ice_metadata_free(full);
    firn_error_release(&e_ref);
    firn_error_release(&e_full);
    return 0;
}
