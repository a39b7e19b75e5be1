/* cmd_sample.c - `firn sample OUT.parquet [--rows N] [--seed S]`: write
 * deterministic parking-lot events (no images yet) as a Parquet file with
 * Iceberg field ids. A stand-in for `firn sim` until the pipeline exists;
 * `make demo` uses it and prints the file back. */
#include "cli/cli.h"
#include "parquet/parquet.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { S_EVENT_ID, S_TYPE, S_TS, S_CAR, S_SLOT, S_X, S_Y, S_CAMERA, S_NCOLS };

static const firn_pq_column_spec sample_columns[S_NCOLS] = {
    {.name = "eventId", .field_id = 1, .type = FIRN_PQ_UUID, .codec = FIRN_PQ_CODEC_DEFAULT},
    {.name = "eventType", .field_id = 2, .type = FIRN_PQ_STRING, .codec = FIRN_PQ_CODEC_DEFAULT},
    {.name = "timeStamp", .field_id = 3, .type = FIRN_PQ_TIMESTAMPTZ, .codec = FIRN_PQ_CODEC_DEFAULT},
    {.name = "carId", .field_id = 4, .type = FIRN_PQ_STRING, .codec = FIRN_PQ_CODEC_DEFAULT},
    {.name = "slotId", .field_id = 5, .type = FIRN_PQ_INT, .codec = FIRN_PQ_CODEC_DEFAULT},
    {.name = "x", .field_id = 6, .type = FIRN_PQ_DOUBLE, .codec = FIRN_PQ_CODEC_DEFAULT},
    {.name = "y", .field_id = 7, .type = FIRN_PQ_DOUBLE, .codec = FIRN_PQ_CODEC_DEFAULT},
    {.name = "cameraId", .field_id = 8, .type = FIRN_PQ_STRING, .optional = true,
     .codec = FIRN_PQ_CODEC_DEFAULT},
};

static uint64_t next_rand(uint64_t *s) { /* splitmix64 */
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

int firn_cmd_sample(int argc, char **argv) {
    const char *out = NULL;
    size_t rows = 20;
    uint64_t seed = 42;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--rows") == 0 && i + 1 < argc) rows = strtoull(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc) seed = strtoull(argv[++i], NULL, 10);
        else if (argv[i][0] != '-' && !out) out = argv[i];
        else {
            fprintf(stderr, "usage: firn sample OUT.parquet [--rows N] [--seed S]\n");
            return 2;
        }
    }
    if (!out || rows == 0) {
        fprintf(stderr, "usage: firn sample OUT.parquet [--rows N] [--seed S]\n");
        return 2;
    }
    uint8_t *uuids = firn_xmalloc(rows * 16);
    int64_t *ts = firn_xmalloc(rows * 8), *type_off = firn_xmalloc((rows + 1) * 8),
            *car_off = firn_xmalloc((rows + 1) * 8), *cam_off = firn_xmalloc((rows + 1) * 8);
    int32_t *slot = firn_xmalloc(rows * 4);
    double *x = firn_xmalloc(rows * 8), *y = firn_xmalloc(rows * 8);
    uint8_t *cam_valid = firn_xmalloc(rows);
    firn_buf types, cars, cams;
    firn_buf_init(&types);
    firn_buf_init(&cars);
    firn_buf_init(&cams);
    type_off[0] = car_off[0] = cam_off[0] = 0;
    uint64_t s = seed;
    int64_t t = 1764115200000000LL; /* 2025-11-26T00:00:00Z */
    static const char hangul[][4] = {"GA", "NA", "DA", "RA", "MA"};
    for (size_t i = 0; i < rows; i++) {
        for (int k = 0; k < 16; k += 8) {
            uint64_t r = next_rand(&s);
            memcpy(uuids + i * 16 + k, &r, 8);
        }
        uuids[i * 16 + 6] = (uint8_t)((uuids[i * 16 + 6] & 0x0f) | 0x40); /* version 4 */
        uuids[i * 16 + 8] = (uint8_t)((uuids[i * 16 + 8] & 0x3f) | 0x80);
        uint64_t r = next_rand(&s);
        bool entry = (r & 1) == 0;
        firn_buf_append_str(&types, entry ? "parking-entry" : "parking-exit");
        type_off[i + 1] = (int64_t)types.len;
        t += 1000000 + (int64_t)(r % 5000000);
        ts[i] = t;
        firn_buf_appendf(&cars, "%02d%s%04d", (int)((r >> 8) % 90) + 10, hangul[(r >> 16) % 5],
                         (int)((r >> 24) % 10000));
        car_off[i + 1] = (int64_t)cars.len;
        slot[i] = (int32_t)((r >> 40) % 120);
        x[i] = (double)(slot[i] % 12) * 2.5;
        y[i] = (double)(slot[i] / 12) * 5.0;
        cam_valid[i] = (r >> 60) != 0; /* a few events lack a camera */
        if (cam_valid[i]) firn_buf_appendf(&cams, "gate-%s", entry ? "in" : "out");
        cam_off[i + 1] = (int64_t)cams.len;
    }
    firn_pq_column_data cols[S_NCOLS] = {
        [S_EVENT_ID] = {.values = uuids},
        [S_TYPE] = {.offsets = type_off, .data = types.data},
        [S_TS] = {.values = ts},
        [S_CAR] = {.offsets = car_off, .data = cars.data},
        [S_SLOT] = {.values = slot},
        [S_X] = {.values = x},
        [S_Y] = {.values = y},
        [S_CAMERA] = {.validity = cam_valid, .offsets = cam_off, .data = cams.data},
    };
    firn_error err;
    firn_error_init(&err);
    firn_pq_file_info info;
    int rc = 1;
    firn_pq_writer *w = firn_pq_writer_open(out, sample_columns, S_NCOLS, NULL, &err);
    if (w && firn_pq_writer_write(w, cols, rows, &err) == 0 &&
        firn_pq_writer_close(w, &info, &err) == 0) {
        printf("wrote %s: %llu rows, %llu bytes\n", out, (unsigned long long)info.row_count,
               (unsigned long long)info.file_size);
        rc = 0;
    } else {
        char buf[1024];
        fprintf(stderr, "firn: sample: %s\n", firn_error_format(&err, buf, sizeof buf));
    }
    firn_pq_writer_free(w);
    firn_error_release(&err);
    free(uuids); free(ts); free(type_off); free(car_off); free(cam_off);
    free(slot); free(x); free(y); free(cam_valid);
    firn_buf_release(&types); firn_buf_release(&cars); firn_buf_release(&cams);
    return rc;
}
