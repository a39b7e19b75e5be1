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

/* o, or, when o is NULL, the defaults (firn_maintain_options_init) written to
 * *dflt. */
const firn_maintain_options *firn_mt_options(const firn_maintain_options *o,
                                             firn_maintain_options *dflt);
/* Record a deleted path in r (when o->keep_paths). */
void firn_mt_note_path(firn_maintain_result *r, const firn_maintain_options *o, const char *path);
int64_t firn_mt_now_ms(const firn_maintain_options *o);

/* Summary properties of the branch head in md starting with "firn.source." (pointers
 * into md), at most max; returns how many. */
size_t firn_mt_source_props(const firn_ice_metadata *md, const char *branch, firn_ice_kv *out,
                            size_t max);

/* ---- rows.c: rows buffered for sorted compaction ---- */
struct firn_pq_column_data;

typedef struct firn_mt_col {
    const firn_ice_type *type;
    int32_t field_id;
    size_t width;     /* bytes per value, 0 for string/binary (offsets + data) */
    firn_buf values;  /* fixed-width values */
    firn_buf data;    /* string/binary bytes */
    firn_buf offsets; /* int64, nrows + 1 */
    firn_buf valid;   /* one byte per row */
} firn_mt_col;

typedef struct firn_mt_rows {
    size_t ncols, nrows;
    firn_mt_col *cols;
} firn_mt_rows;

/* Columns of these fields (a scan's projected fields, in order). */
void firn_mt_rows_init(firn_mt_rows *r, const firn_ice_field *const *fields, size_t n);
void firn_mt_rows_release(firn_mt_rows *r);
/* Copy n rows of a batch (parquet.h's layout). */
void firn_mt_rows_append(firn_mt_rows *r, const struct firn_pq_column_data *cols, size_t n);
/* The row order of the sort order (transforms applied; direction and null order
 * honoured; ties keep arrival order): a malloc'd permutation of nrows indexes. */
uint32_t *firn_mt_rows_sort(const firn_mt_rows *r, const firn_ice_sort_order *order);
/* Write the rows in perm order (NULL: as buffered) through w, in slices. */
int firn_mt_rows_write(const firn_mt_rows *r, const uint32_t *perm, firn_ice_data_writer *w,
                       firn_error *err);

/* Tests only: when set, called at named steps ("compact.before-commit") so that a
 * test can commit concurrently right there. NULL in firn. */
extern void (*firn_mt_test_hook)(const char *step);

#endif
