/*
 * offsets.c - the source-offset map firn keeps in snapshot summaries
 * (firn.source.<topic>.<partition> = next offset), and recovery from it.
 */
#include "pipeline/pipeline.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void firn_offset_map_release(firn_offset_map *m) {
    if (!m) return;
    free(m->e);
    memset(m, 0, sizeof *m);
}

static firn_offset *find(const firn_offset_map *m, const char *topic, int32_t partition) {
    for (size_t i = 0; i < m->n; i++)
        if (m->e[i].partition == partition && strcmp(m->e[i].topic, topic) == 0) return &m->e[i];
    return NULL;
}

int64_t firn_offset_map_get(const firn_offset_map *m, const char *topic, int32_t partition,
                            int64_t dflt) {
    const firn_offset *o = find(m, topic, partition);
    return o ? o->offset : dflt;
}

void firn_offset_map_set(firn_offset_map *m, const char *topic, int32_t partition, int64_t next) {
    firn_offset *o = find(m, topic, partition);
    if (!o) {
        if (m->n == m->cap) {
            m->cap = m->cap ? 2 * m->cap : 8;
            m->e = firn_xrealloc(m->e, m->cap * sizeof *m->e);
        }
        o = &m->e[m->n++];
        memset(o, 0, sizeof *o);
        snprintf(o->topic, sizeof o->topic, "%s", topic);
        o->partition = partition;
    }
    o->offset = next;
}

/* "firn.source.<topic>.<partition>": the topic may contain dots, the partition
 * is after the last one. */
static bool parse_key(const char *key, char *topic, size_t tn, int32_t *partition) {
    size_t pl = strlen(FIRN_SOURCE_PREFIX);
    if (strncmp(key, FIRN_SOURCE_PREFIX, pl) != 0) return false;
    const char *rest = key + pl;
    const char *dot = strrchr(rest, '.');
    if (!dot || dot == rest || !dot[1]) return false;
    char *end;
    long p = strtol(dot + 1, &end, 10);
    if (*end || p < 0 || p > INT32_MAX) return false;
    size_t len = (size_t)(dot - rest);
    if (len >= tn) return false;
    memcpy(topic, rest, len);
    topic[len] = 0;
    *partition = (int32_t)p;
    return true;
}

void firn_offset_map_from_snapshot(firn_offset_map *m, const firn_ice_snapshot *s) {
    m->n = 0;
    for (size_t i = 0; s && i < s->nsummary; i++) {
        char topic[128];
        int32_t p;
        if (!parse_key(s->summary[i].key, topic, sizeof topic, &p)) continue;
        char *end;
        long long v = strtoll(s->summary[i].value, &end, 10);
        if (*end || v < 0) continue;
        firn_offset_map_set(m, topic, p, v);
    }
}

static bool has_source(const firn_ice_snapshot *s) {
    for (size_t i = 0; i < s->nsummary; i++)
        if (strncmp(s->summary[i].key, FIRN_SOURCE_PREFIX, strlen(FIRN_SOURCE_PREFIX)) == 0)
            return true;
    return false;
}

void firn_offsets_recover(const firn_ice_metadata *md, const char *branch, firn_offset_map *m,
                          int64_t *snapshot_id) {
    m->n = 0;
    if (snapshot_id) *snapshot_id = -1;
    const firn_ice_ref *ref = firn_ice_metadata_ref(md, branch ? branch : FIRN_ICE_MAIN_BRANCH);
    int64_t id = ref ? ref->snapshot_id : -1;
    /* bounded by the snapshot count, so a corrupt parent cycle cannot loop */
    for (size_t steps = 0; id >= 0 && steps <= md->nsnapshots; steps++) {
        const firn_ice_snapshot *s = firn_ice_metadata_snapshot(md, id);
        if (!s) return; /* expired: the chain ends */
        if (has_source(s)) {
            firn_offset_map_from_snapshot(m, s);
            if (snapshot_id) *snapshot_id = id;
            return;
        }
        id = s->has_parent ? s->parent_snapshot_id : -1;
    }
}
