/* append_events.c - append a directory of NAME.json (+ NAME.image) events to a
 * stream's raw topic in firn's envelope (src/sim/sim.h), in the order a
 * MANIFEST lists them (tests/data/bad-events/MANIFEST: "NAME outcome" lines,
 * '#' comments, a "now TIME" line giving every record's timestamp).
 *
 *   append_events URI TOPIC DIR   one partition created if the topic is missing;
 *                                 prints "NAME PARTITION OFFSET" per record
 *
 * value = NAME.json's bytes, header "image" = NAME.image's bytes when that file
 * exists, no key (partition 0: the MANIFEST's order is the log's order),
 * timestamp = the MANIFEST's "now" in milliseconds. */
#include "sim/sim.h"
#include "stream/stream.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int fail(const char *what, firn_error *err) {
    char b[1024];
    fprintf(stderr, "append_events: %s: %s\n", what, firn_error_format(err, b, sizeof b));
    return 1;
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: append_events URI TOPIC DIR\n");
        return 2;
    }
    const char *uri = argv[1], *topic = argv[2], *dir = argv[3];
    firn_error err;
    firn_error_init(&err);
    char path[4096];
    snprintf(path, sizeof path, "%s/MANIFEST", dir);
    uint8_t *man;
    size_t mlen;
    if (firn_read_file(path, &man, &mlen, &err)) return fail("MANIFEST", &err);
    man = realloc(man, mlen + 1);
    man[mlen] = 0;
    firn_stream *s;
    if (firn_stream_open(uri, NULL, &s, &err)) return fail("open", &err);
    int32_t parts;
    if (firn_stream_partitions(s, topic, &parts, &err) != 0) {
        firn_error_release(&err);
        firn_error_init(&err);
        if (firn_stream_create_topic(s, topic, 1, &err)) return fail("create topic", &err);
    }
    int64_t now_ms = 0;
    int rc = 0;
    for (char *line = strtok((char *)man, "\n"); line && !rc; line = strtok(NULL, "\n")) {
        char name[256], what[256];
        if (line[0] == '#' || sscanf(line, "%255s %255s", name, what) != 2) continue;
        if (!strcmp(name, "now")) {
            int64_t us;
            if (firn_sim_parse_ts(what, &us, &err)) return fail("now", &err);
            now_ms = us / 1000;
            continue;
        }
        uint8_t *json = NULL, *img = NULL;
        size_t jlen = 0, ilen = 0;
        snprintf(path, sizeof path, "%s/%s.json", dir, name);
        if (firn_read_file(path, &json, &jlen, &err)) return fail(name, &err);
        snprintf(path, sizeof path, "%s/%s.image", dir, name);
        if (access(path, F_OK) == 0 && firn_read_file(path, &img, &ilen, &err)) return fail(name, &err);
        firn_header h = {FIRN_SIM_IMAGE_HEADER, img, ilen};
        firn_msg m = {.partition = 0, .value = json, .value_len = jlen,
                      .headers = img ? &h : NULL, .n_headers = img ? 1 : 0,
                      .timestamp_ms = now_ms};
        int64_t off;
        int32_t part;
        if (firn_stream_append(s, topic, &m, 1, &off, &part, &err)) rc = fail(name, &err);
        else printf("%s %d %lld\n", name, (int)part, (long long)off);
        free(json);
        free(img);
    }
    free(man);
    firn_stream_close(s);
    return rc;
}
