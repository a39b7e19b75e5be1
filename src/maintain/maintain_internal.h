/* maintain_internal.h - shared by the files of src/maintain: a set of canonical
 * file locations with sizes, the files snapshots reach, and result helpers. */
#ifndef FIRN_MAINTAIN_INTERNAL_H
#define FIRN_MAINTAIN_INTERNAL_H

#include "maintain/maintain.h"

struct firn_io;

/* A hash set of locations (canonical: firn_io_uri_normalize), each with a size
 * (-1 when unknown). Strings are owned by the set. */
typedef struct firn_mt_set {
    char **keys;
    int64_t *sizes;
    size_t n, cap; /* cap: a power of two, or 0 */
} firn_mt_set;

void firn_mt_set_release(firn_mt_set *s);
/* Insert (canonicalised); returns true when it was not there. */
bool firn_mt_set_add(firn_mt_set *s, const char *location, int64_t size);
bool firn_mt_set_has(const firn_mt_set *s, const char *location);
/* Canonical form into buf (falls back to the text itself). */
const char *firn_mt_canon(const char *location, char *buf, size_t n);

/* The files some snapshots reach. */
typedef struct firn_mt_reach {
    firn_mt_set lists;     /* manifest lists */
    firn_mt_set manifests; /* data and delete manifests */
    firn_mt_set files;     /* data and delete files */
} firn_mt_reach;

void firn_mt_reach_release(firn_mt_reach *r);
/*
 * Add what snapshots with these manifest lists reach: the lists, their
 * manifests, and the files of the manifests' entries - live ones only, or every
 * entry (DELETED too) when all_entries. A manifest already in r is not read
 * again (its entries are the same whichever snapshot lists it).
 */
int firn_mt_reach_lists(struct firn_io *io, const firn_ice_metadata *md,
                        const char *const *lists, size_t n, bool all_entries,
                        firn_mt_reach *r, firn_error *err);
/* The same for every snapshot of md. */
int firn_mt_reach_all(struct firn_io *io, const firn_ice_metadata *md, bool all_entries,
                      firn_mt_reach *r, firn_error *err);

/* Record a deleted path in r (when o->keep_paths). */
void firn_mt_note_path(firn_maintain_result *r, const firn_maintain_options *o, const char *path);
int64_t firn_mt_now_ms(const firn_maintain_options *o);

/* Summary properties of the branch head in md starting with "firn.source." (pointers
 * into md), at most max; returns how many. */
size_t firn_mt_source_props(const firn_ice_metadata *md, const char *branch, firn_ice_kv *out,
                            size_t max);

/* Tests only: when set, called at named steps ("compact.before-commit") so that a
 * test can commit concurrently right there. NULL in firn. */
extern void (*firn_mt_test_hook)(const char *step);

#endif
