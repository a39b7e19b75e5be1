/*
 * avro_reader.c - libFuzzer target: open the input as an Avro object container
 * file and read every record, as `firn avro cat` does (metadata lookups, plain
 * and Avro JSON rendering, a projection every other input), with the arena
 * reset per batch of records. Limits are small so that a decompression bomb
 * or a lying count fails fast instead of eating the fuzzer's memory.
 *
 *   make fuzz && build/fuzz/avro_reader fuzz/corpus/avro_reader
 */
#include "avro/avro.h"

#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    firn_error err;
    firn_error_init(&err);
    firn_avro_reader *r = firn_avro_reader_open_mem(data, size, &err);
    if (!r) {
        if (err.kind == FIRN_OK || !err.message[0]) abort(); /* failures must say why */
        firn_error_release(&err);
        return 0;
    }
    firn_avro_limits lim = {.max_block_size = 4 << 20, .max_record_memory = 8 << 20,
                            .max_block_records = 1 << 16, .max_depth = 64};
    firn_avro_reader_set_limits(r, &lim);
    (void)firn_avro_reader_meta(r, "schema", NULL);
    (void)firn_avro_reader_codec(r);
    if (size & 1) {
        static const int32_t ids[] = {0, 2, 100, 102, 126, 1, 5000};
        firn_avro_reader_project(r, ids, sizeof ids / sizeof ids[0], &err);
    }
    const firn_avro_node *root = firn_avro_schema_root(firn_avro_reader_schema(r));
    firn_arena arena;
    firn_arena_init(&arena, 0);
    firn_buf json;
    firn_buf_init(&json);
    firn_avro_value v;
    int rc;
    unsigned n = 0;
    while ((rc = firn_avro_reader_next(r, &arena, &v, &err)) == 1) {
        firn_buf_clear(&json);
        if (firn_avro_value_to_json(&json, root, &v, (n & 1) ? FIRN_AVRO_JSON_AVRO : FIRN_AVRO_JSON_PLAIN,
                                    &err) != 0)
            abort(); /* a value the reader produced must render */
        if (++n % 16 == 0) firn_arena_reset(&arena);
    }
    if (rc < 0 && (err.kind == FIRN_OK || !err.message[0])) abort();
    firn_buf_release(&json);
    firn_arena_release(&arena);
    firn_avro_reader_free(r);
    firn_error_release(&err);
    return 0;
}
