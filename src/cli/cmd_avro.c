/* cmd_avro.c - `firn avro cat|schema|meta FILE`: look inside Avro object container
 * files (Iceberg manifests and manifest lists).
 *
 *   firn avro cat [--avro-json] [--fields ID,ID...] [--limit N] FILE
 *       one JSON line per record; plain JSON by default (unions as their value,
 *       bytes and fixed as hex), --avro-json for the Avro specification's JSON
 *       encoding; --fields reads only those Iceberg field ids (and their parents)
 *   firn avro schema FILE    the writer's schema, exactly as stored
 *   firn avro meta FILE      the file metadata as one JSON object
 */
#include "avro/avro.h"
#include "cli/cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "usage: firn avro cat [--avro-json] [--fields ID,ID...] [--limit N] FILE\n"
    "       firn avro schema FILE\n"
    "       firn avro meta FILE\n";

static int report(const char *what, const char *path, firn_error *err) {
    char buf[1024];
    fprintf(stderr, "firn: avro %s %s: %s\n", what, path, firn_error_format(err, buf, sizeof buf));
    firn_error_release(err);
    return 1;
}

static int write_out(const void *p, size_t n) {
    if (n && fwrite(p, 1, n, stdout) != n) {
        fprintf(stderr, "firn: avro: cannot write to stdout: %s\n", strerror(errno));
        return -1;
    }
    return 0;
}

/* "1,2,100" into ids (caller frees); -1 on a malformed list. */
static int parse_ids(const char *s, int32_t **ids, size_t *n) {
    size_t cap = 8;
    *ids = firn_xmalloc(cap * sizeof **ids);
    *n = 0;
    while (*s) {
        char *end;
        errno = 0;
        long v = strtol(s, &end, 10);
        if (end == s || errno || v < INT32_MIN || v > INT32_MAX || (*end && *end != ',')) return -1;
        if (*n == cap) *ids = firn_xrealloc(*ids, (cap *= 2) * sizeof **ids);
        (*ids)[(*n)++] = (int32_t)v;
        s = *end ? end + 1 : end;
    }
    return *n ? 0 : -1;
}

static int cmd_cat(int argc, char **argv) {
    const char *path = NULL, *fields = NULL;
    firn_avro_json_mode mode = FIRN_AVRO_JSON_PLAIN;
    uint64_t limit = UINT64_MAX;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--avro-json") == 0) mode = FIRN_AVRO_JSON_AVRO;
        else if (strcmp(argv[i], "--fields") == 0 && i + 1 < argc) fields = argv[++i];
        else if (strcmp(argv[i], "--limit") == 0 && i + 1 < argc) limit = strtoull(argv[++i], NULL, 10);
        else if (argv[i][0] != '-' && !path) path = argv[i];
        else {
            fputs(usage, stderr);
            return 2;
        }
    }
    if (!path) {
        fputs(usage, stderr);
        return 2;
    }
    firn_error err;
    firn_error_init(&err);
    firn_avro_reader *r = firn_avro_reader_open(path, &err);
    if (!r) return report("cat", path, &err);
    int32_t *ids = NULL;
    size_t nids = 0;
    if (fields) {
        if (parse_ids(fields, &ids, &nids) != 0) {
            fprintf(stderr, "firn: avro cat: --fields wants field ids like 1,2,100, not '%s'\n",
                    fields);
            free(ids);
            firn_avro_reader_free(r);
            return 2;
        }
        firn_avro_reader_project(r, ids, nids, &err);
    }
    const firn_avro_node *root = firn_avro_schema_root(firn_avro_reader_schema(r));
    firn_arena arena;
    firn_arena_init(&arena, 0);
    firn_buf line;
    firn_buf_init(&line);
    int rc = 0, status = 0;
    uint64_t n = 0;
    firn_avro_value v;
    while (n < limit && (rc = firn_avro_reader_next(r, &arena, &v, &err)) == 1) {
        if (firn_avro_value_to_json(&line, root, &v, mode, &err) != 0) {
            rc = -1;
            break;
        }
        firn_buf_put_u8(&line, '\n');
        if (line.len >= 64 * 1024) {
            if (write_out(line.data, line.len)) {
                status = 1;
                break;
            }
            firn_buf_clear(&line);
        }
        if (++n % 1024 == 0) firn_arena_reset(&arena);
    }
    if (!status && write_out(line.data, line.len)) status = 1;
    if (fflush(stdout) != 0) status = 1;
    if (rc < 0 && !status) status = report("cat", path, &err);
    firn_buf_release(&line);
    firn_arena_release(&arena);
    firn_avro_reader_free(r);
    free(ids);
    firn_error_release(&err);
    return status;
}

/* A JSON string for a metadata value (bytes, usually UTF-8; others become U+FFFD). */
static void put_json_string(firn_buf *b, const char *s, size_t n) {
    static const firn_avro_node string_node = {.type = FIRN_AVRO_STRING, .encoded_size = -1};
    firn_avro_value v = firn_avro_string_n(s, n);
    firn_avro_value_to_json(b, &string_node, &v, FIRN_AVRO_JSON_PLAIN, NULL);
}

int firn_cmd_avro(int argc, char **argv) {
    if (argc < 2) {
        fputs(usage, stderr);
        return 2;
    }
    const char *sub = argv[1];
    if (strcmp(sub, "cat") == 0) return cmd_cat(argc - 1, argv + 1);
    if (strcmp(sub, "schema") != 0 && strcmp(sub, "meta") != 0) {
        fprintf(stderr, "firn: avro: unknown subcommand '%s'\n%s", sub, usage);
        return 2;
    }
    if (argc != 3 || argv[2][0] == '-') {
        fputs(usage, stderr);
        return 2;
    }
    const char *path = argv[2];
    firn_error err;
    firn_error_init(&err);
    firn_avro_reader *r = firn_avro_reader_open(path, &err);
    if (!r) return report(sub, path, &err);
    firn_buf out;
    firn_buf_init(&out);
    if (strcmp(sub, "schema") == 0) {
        size_t len;
        const char *text = firn_avro_schema_json(firn_avro_reader_schema(r), &len);
        firn_buf_append(&out, text, len);
        firn_buf_put_u8(&out, '\n');
    } else {
        firn_buf_append_str(&out, "{");
        size_t n = firn_avro_reader_meta_count(r);
        for (size_t i = 0; i < n; i++) {
            const char *value;
            size_t len;
            const char *key = firn_avro_reader_meta_at(r, i, &value, &len);
            firn_buf_append_str(&out, i ? ",\n " : "\n ");
            put_json_string(&out, key, strlen(key));
            firn_buf_append_str(&out, ": ");
            put_json_string(&out, value, len);
        }
        firn_buf_append_str(&out, "\n}\n");
    }
    int status = write_out(out.data, out.len) || fflush(stdout) != 0 ? 1 : 0;
    firn_buf_release(&out);
    firn_avro_reader_free(r);
    return status;
}
