/*
 * reader.c - firn's Parquet reader (the firn_pq_reader_* half of parquet.h).
 *
 * Open: check both magics, bound the footer, decode FileMetaData
 * (thrift_read.c), walk the schema tree into leaf columns and map each leaf's
 * physical + logical (or legacy converted) type to the Iceberg type it is
 * returned as. Leaves inside groups (struct, list, map) and types with no
 * Iceberg counterpart are marked unsupported; the flat columns of the same
 * file stay readable.
 *
 * Read one column chunk: walk its pages (dictionary, data page v1 and v2,
 * index and unknown pages skipped), decompress each (compress.c), decode the
 * definition levels into the validity bytes and the non-null values densely
 * at the row they start, then spread them over the null rows in place (back
 * to front). Byte arrays are decoded in two steps: every row's length and
 * source pointer first (into a decompressed page or the dictionary), then the
 * exact amount of output is allocated once and the bytes gathered.
 * Conversions to the Iceberg representation (millis to micros, INT96 to
 * nanos, decimals to the width their precision asks for, unsigned widening,
 * FLOAT16 to float) run on the physical values at the end.
 *
 * Three ways in: a file in memory (open_mem), a path (mapped), or ranged reads
 * through a callback (open_ranged: the head magic, the tail and the footer at
 * open, then each column chunk's byte range when it is read - what a scan over
 * object storage, or one that reads few columns or row groups, wants). Each
 * column read's temporaries live in a scratch arena, recycled after the read;
 * a caller may lend one that outlives the reader (firn_pq_reader_use_scratch).
 *
 * Everything a file claims is checked before it is used: offsets and sizes
 * against the file and the column chunk, value counts against the row group,
 * dictionary indices against the dictionary, page sizes and the memory a
 * chunk needs against pq_read_limits. Errors are FIRN_ERR_CORRUPT (or
 * UNSUPPORTED / LIMIT) with the column, row group and page offset in the
 * message.
 *
 * Type mapping (physical + annotation -> firn_pq_type):
 *   BOOLEAN -> BOOLEAN; FLOAT -> FLOAT; DOUBLE -> DOUBLE
 *   INT32: none, INT(8|16|32, signed), INT(8|16, unsigned) -> INT;
 *          INT(32, unsigned) -> LONG (widened); DATE -> DATE;
 *          TIME(MILLIS) -> TIME (micros); DECIMAL -> DECIMAL
 *   INT64: none, INT(64, signed) -> LONG; INT(64, unsigned) -> DECIMAL(20, 0);
 *          TIME(MICROS) -> TIME; TIME(NANOS) -> unsupported;
 *          TIMESTAMP(MILLIS|MICROS, utc) -> TIMESTAMP[TZ] (micros);
 *          TIMESTAMP(NANOS, utc) -> TIMESTAMP[TZ]_NS; DECIMAL -> DECIMAL
 *   INT96 -> TIMESTAMP_NS (Julian day + nanos of day; out of range: error)
 *   BYTE_ARRAY: none, BSON -> BINARY; STRING, ENUM, JSON -> STRING;
 *          DECIMAL -> DECIMAL
 *   FIXED_LEN_BYTE_ARRAY(L): none, INTERVAL -> FIXED(L); UUID(16) -> UUID;
 *          FLOAT16(2) -> FLOAT; DECIMAL -> DECIMAL
 *   Legacy TIMESTAMP_MILLIS/MICROS and TIME_* converted types mean utc=true.
 *   Anything else (VARIANT, GEOMETRY, ...) is unsupported.
 *
 * A reader is not safe for concurrent reads from several threads (it keeps
 * scratch memory); open one reader per thread.
 */
#include "parquet/decode_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define PAD 64 /* zeroed bytes after every page buffer: fast copies may over-read */
#define PQ_CODEC_LZ4_HADOOP 5 /* deprecated LZ4 codec number */

typedef enum conv_kind {
    CONV_NONE,        /* the physical bytes are the output bytes */
    CONV_U32_TO_I64,  /* INT(32, unsigned) -> LONG */
    CONV_I32_MS_US,   /* INT32 TIME(MILLIS) -> int64 micros */
    CONV_I64_MS_US,   /* INT64 millis -> micros */
    CONV_INT96_NS,    /* INT96 -> int64 nanos since the epoch */
    CONV_F16_F32,     /* FLOAT16 -> float */
    CONV_U64_DEC20,   /* INT(64, unsigned) -> DECIMAL(20, 0), 9 bytes big-endian */
    CONV_DEC,         /* a decimal of another physical form -> its output form */
} conv_kind;

typedef struct pq_leaf {
    firn_pq_column_desc desc;
    const pq_schema_element *el;
    int max_def, max_rep;
    conv_kind conv;
    size_t phys_width;   /* bytes per decoded physical value; 0 for BYTE_ARRAY */
    size_t out_width;    /* bytes per output value; 0 for offsets + data */
    bool unsigned_int;   /* unsigned order: deprecated min/max unusable */
    firn_err_kind bad_kind;
    const char *bad_reason; /* why !desc.supported */
} pq_leaf;

struct firn_pq_reader {
    const uint8_t *data; /* the whole file, or NULL when read through read_fn */
    size_t len;          /* the file's size in bytes (either way) */
    firn_pq_read_fn read_fn; /* ranged reads: footer at open, column chunks on demand */
    void *read_ctx;
    uint8_t *owned;   /* read into memory */
    void *map;        /* or mapped */
    size_t map_len;
    char *path;
    size_t footer_start;
    firn_arena meta;  /* decoded footer, column descriptions */
    pq_file_metadata md;
    size_t nleaves;
    pq_leaf *leaves;
    firn_pq_kv *kvs;
    size_t nkvs;
    const char *created_by;
    firn_arena *scratch; /* one column read's temporaries: own_scratch or the caller's */
    firn_arena own_scratch;
    firn_buf page;      /* reusable page buffer for fixed-width columns */
    pq_read_limits limits;
};

static const char *where(const firn_pq_reader *r) { return r->path ? r->path : "<memory>"; }

/* Prefix err's message with more context, keeping its kind. */
static int annotate(firn_error *err, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int annotate(firn_error *err, int rc, const char *fmt, ...) {
    if (!err) return rc;
    char prefix[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    size_t cap = sizeof err->message, pl = strlen(prefix), ml = strlen(err->message);
    if (pl > cap - 3) pl = cap - 3;
    if (ml > cap - 3 - pl) ml = cap - 3 - pl;
    memmove(err->message + pl + 2, err->message, ml);
    err->message[pl + 2 + ml] = '\0';
    memcpy(err->message, prefix, pl);
    err->message[pl] = ':';
    err->message[pl + 1] = ' ';
    return rc;
}

void pq_reader_set_limits(firn_pq_reader *r, const pq_read_limits *limits) { r->limits = *limits; }

/* ----------------------------------------------------------- schema */

/* A logical annotation, from LogicalType or else the legacy ConvertedType. */
typedef struct lview {
    int kind; /* PQ_LT_*, or LV_INTERVAL / LV_BAD */
    int unit;
    bool utc;
    int bits;
    bool is_signed;
    int32_t scale, precision;
} lview;
enum { LV_INTERVAL = 100, LV_BAD = 101 };

static lview logical_of(const pq_schema_element *el) {
    lview v = {0};
    const pq_logical_type *lt = &el->logical_type;
    if (lt->kind != PQ_LT_NONE) {
        v.kind = lt->kind;
        v.unit = lt->unit;
        v.utc = lt->is_adjusted_to_utc;
        v.bits = lt->bit_width;
        v.is_signed = lt->is_signed;
        v.scale = lt->scale;
        v.precision = lt->precision;
        return v;
    }
    if (!el->has_converted_type) return v;
    switch (el->converted_type) {
    case PQ_CT_UTF8: v.kind = PQ_LT_STRING; break;
    case PQ_CT_ENUM: v.kind = PQ_LT_ENUM; break;
    case PQ_CT_JSON: v.kind = PQ_LT_JSON; break;
    case PQ_CT_BSON: v.kind = PQ_LT_BSON; break;
    case PQ_CT_DATE: v.kind = PQ_LT_DATE; break;
    case PQ_CT_DECIMAL:
        v.kind = PQ_LT_DECIMAL;
        v.scale = el->has_scale ? el->scale : 0;
        v.precision = el->has_precision ? el->precision : 0;
        break;
    case PQ_CT_TIME_MILLIS: v = (lview){.kind = PQ_LT_TIME, .unit = PQ_UNIT_MILLIS, .utc = true}; break;
    case PQ_CT_TIME_MICROS: v = (lview){.kind = PQ_LT_TIME, .unit = PQ_UNIT_MICROS, .utc = true}; break;
    case PQ_CT_TIMESTAMP_MILLIS:
        v = (lview){.kind = PQ_LT_TIMESTAMP, .unit = PQ_UNIT_MILLIS, .utc = true};
        break;
    case PQ_CT_TIMESTAMP_MICROS:
        v = (lview){.kind = PQ_LT_TIMESTAMP, .unit = PQ_UNIT_MICROS, .utc = true};
        break;
    case PQ_CT_UINT_8: v = (lview){.kind = PQ_LT_INTEGER, .bits = 8}; break;
    case PQ_CT_UINT_16: v = (lview){.kind = PQ_LT_INTEGER, .bits = 16}; break;
    case PQ_CT_UINT_32: v = (lview){.kind = PQ_LT_INTEGER, .bits = 32}; break;
    case PQ_CT_UINT_64: v = (lview){.kind = PQ_LT_INTEGER, .bits = 64}; break;
    case PQ_CT_INT_8: v = (lview){.kind = PQ_LT_INTEGER, .bits = 8, .is_signed = true}; break;
    case PQ_CT_INT_16: v = (lview){.kind = PQ_LT_INTEGER, .bits = 16, .is_signed = true}; break;
    case PQ_CT_INT_32: v = (lview){.kind = PQ_LT_INTEGER, .bits = 32, .is_signed = true}; break;
    case PQ_CT_INT_64: v = (lview){.kind = PQ_LT_INTEGER, .bits = 64, .is_signed = true}; break;
    case PQ_CT_INTERVAL: v.kind = LV_INTERVAL; break;
    default: v.kind = LV_BAD; break; /* MAP, LIST, MAP_KEY_VALUE on a leaf */
    }
    return v;
}

static void unsupported(pq_leaf *lf, firn_err_kind kind, const char *why) {
    lf->desc.supported = false;
    lf->bad_kind = kind;
    lf->bad_reason = why;
}

static size_t decimal_out_width(int32_t p) {
    return p <= 9 ? 4 : p <= 18 ? 8 : (size_t)firn_pq_decimal_width(p);
}

static void set_decimal(pq_leaf *lf, const lview *v) {
    if (v->precision < 1 || v->precision > 38 || v->scale < 0 || v->scale > v->precision) {
        unsupported(lf, FIRN_ERR_UNSUPPORTED, "DECIMAL precision/scale outside 1..38 / 0..precision");
        return;
    }
    lf->desc.type = FIRN_PQ_DECIMAL;
    lf->desc.precision = v->precision;
    lf->desc.scale = v->scale;
    lf->out_width = decimal_out_width(v->precision);
    int pt = lf->desc.physical_type;
    bool same = (pt == PQ_INT32 && lf->out_width == 4) || (pt == PQ_INT64 && lf->out_width == 8) ||
                (pt == PQ_FIXED_LEN_BYTE_ARRAY && v->precision > 18 && lf->phys_width == lf->out_width);
    lf->conv = same ? CONV_NONE : CONV_DEC;
    if (lf->desc.type == FIRN_PQ_DECIMAL && lf->out_width > 8) lf->desc.length = (int32_t)lf->out_width;
}

static void map_type(pq_leaf *lf, bool nested) {
    const pq_schema_element *el = lf->el;
    firn_pq_column_desc *d = &lf->desc;
    d->supported = true;
    d->physical_type = el->type;
    lf->conv = CONV_NONE;
    if (nested) {
        unsupported(lf, FIRN_ERR_UNSUPPORTED, "nested column (inside a struct, list or map)");
        return;
    }
    if (el->repetition_type == PQ_REPEATED) {
        unsupported(lf, FIRN_ERR_UNSUPPORTED, "repeated column (legacy list)");
        return;
    }
    lview v = logical_of(el);
    switch (el->type) {
    case PQ_BOOLEAN:
        lf->phys_width = lf->out_width = 1;
        d->type = FIRN_PQ_BOOLEAN;
        if (v.kind != PQ_LT_NONE && v.kind != PQ_LT_UNKNOWN) goto bad_annotation;
        return;
    case PQ_INT32:
        lf->phys_width = lf->out_width = 4;
        d->type = FIRN_PQ_INT;
        switch (v.kind) {
        case PQ_LT_NONE:
        case PQ_LT_UNKNOWN: return;
        case PQ_LT_INTEGER:
            if (v.bits == 8 || v.bits == 16) return;
            if (v.bits == 32 && v.is_signed) return;
            if (v.bits == 32) {
                d->type = FIRN_PQ_LONG;
                lf->out_width = 8;
                lf->conv = CONV_U32_TO_I64;
                lf->unsigned_int = true;
                return;
            }
            goto bad_annotation;
        case PQ_LT_DATE: d->type = FIRN_PQ_DATE; return;
        case PQ_LT_DECIMAL: set_decimal(lf, &v); return;
        case PQ_LT_TIME:
            if (v.unit != PQ_UNIT_MILLIS) goto bad_annotation;
            d->type = FIRN_PQ_TIME;
            lf->out_width = 8;
            lf->conv = CONV_I32_MS_US;
            return;
        default: goto bad_annotation;
        }
    case PQ_INT64:
        lf->phys_width = lf->out_width = 8;
        d->type = FIRN_PQ_LONG;
        switch (v.kind) {
        case PQ_LT_NONE:
        case PQ_LT_UNKNOWN: return;
        case PQ_LT_INTEGER:
            if (v.is_signed || v.bits < 64) return;
            d->type = FIRN_PQ_DECIMAL;
            d->precision = 20;
            d->scale = 0;
            lf->out_width = (size_t)firn_pq_decimal_width(20);
            d->length = (int32_t)lf->out_width;
            lf->conv = CONV_U64_DEC20;
            lf->unsigned_int = true;
            return;
        case PQ_LT_DECIMAL: set_decimal(lf, &v); return;
        case PQ_LT_TIME:
            if (v.unit == PQ_UNIT_NANOS) {
                unsupported(lf, FIRN_ERR_UNSUPPORTED, "TIME(NANOS) has no Iceberg type");
                return;
            }
            d->type = FIRN_PQ_TIME;
            if (v.unit == PQ_UNIT_MILLIS) lf->conv = CONV_I64_MS_US;
            return;
        case PQ_LT_TIMESTAMP:
            if (v.unit == PQ_UNIT_NANOS) {
                d->type = v.utc ? FIRN_PQ_TIMESTAMPTZ_NS : FIRN_PQ_TIMESTAMP_NS;
                return;
            }
            d->type = v.utc ? FIRN_PQ_TIMESTAMPTZ : FIRN_PQ_TIMESTAMP;
            if (v.unit == PQ_UNIT_MILLIS) lf->conv = CONV_I64_MS_US;
            return;
        default: goto bad_annotation;
        }
    case PQ_INT96:
        lf->phys_width = 12;
        lf->out_width = 8;
        d->type = FIRN_PQ_TIMESTAMP_NS;
        lf->conv = CONV_INT96_NS;
        if (v.kind != PQ_LT_NONE) goto bad_annotation;
        return;
    case PQ_FLOAT:
        lf->phys_width = lf->out_width = 4;
        d->type = FIRN_PQ_FLOAT;
        if (v.kind != PQ_LT_NONE && v.kind != PQ_LT_UNKNOWN) goto bad_annotation;
        return;
    case PQ_DOUBLE:
        lf->phys_width = lf->out_width = 8;
        d->type = FIRN_PQ_DOUBLE;
        if (v.kind != PQ_LT_NONE && v.kind != PQ_LT_UNKNOWN) goto bad_annotation;
        return;
    case PQ_BYTE_ARRAY:
        lf->phys_width = lf->out_width = 0;
        d->type = FIRN_PQ_BINARY;
        switch (v.kind) {
        case PQ_LT_NONE:
        case PQ_LT_UNKNOWN:
        case PQ_LT_BSON: return;
        case PQ_LT_STRING:
        case PQ_LT_ENUM:
        case PQ_LT_JSON: d->type = FIRN_PQ_STRING; return;
        case PQ_LT_DECIMAL: set_decimal(lf, &v); return;
        default: goto bad_annotation;
        }
    case PQ_FIXED_LEN_BYTE_ARRAY:
        if (!el->has_type_length || el->type_length <= 0) {
            unsupported(lf, FIRN_ERR_CORRUPT, "FIXED_LEN_BYTE_ARRAY column without a positive type_length");
            return;
        }
        lf->phys_width = lf->out_width = (size_t)el->type_length;
        d->type = FIRN_PQ_FIXED;
        d->length = el->type_length;
        switch (v.kind) {
        case PQ_LT_NONE:
        case PQ_LT_UNKNOWN:
        case LV_INTERVAL: return;
        case PQ_LT_UUID:
            if (el->type_length != 16) goto bad_annotation;
            d->type = FIRN_PQ_UUID;
            return;
        case PQ_LT_FLOAT16:
            if (el->type_length != 2) goto bad_annotation;
            d->type = FIRN_PQ_FLOAT;
            d->length = 0;
            lf->out_width = 4;
            lf->conv = CONV_F16_F32;
            return;
        case PQ_LT_DECIMAL:
            d->length = 0;
            set_decimal(lf, &v);
            return;
        default: goto bad_annotation;
        }
    default:
        unsupported(lf, FIRN_ERR_CORRUPT, "unknown physical type");
        return;
    }
bad_annotation:
    unsupported(lf, FIRN_ERR_UNSUPPORTED,
                "logical type annotation that firn does not read for this physical type");
}

typedef struct walk_ctx {
    firn_pq_reader *r;
    uint32_t next;
    firn_error *err;
} walk_ctx;

static int walk(walk_ctx *w, uint32_t nchildren, int depth, int def, int rep, const char *prefix) {
    firn_pq_reader *r = w->r;
    if (depth > 64) return FIRN_RAISE(w->err, FIRN_ERR_CORRUPT, "schema nested more than 64 levels deep");
    for (uint32_t k = 0; k < nchildren; k++) {
        if (w->next >= r->md.nschema)
            return FIRN_RAISE(w->err, FIRN_ERR_CORRUPT,
                              "schema tree needs more elements than the %u listed", r->md.nschema);
        const pq_schema_element *el = &r->md.schema[w->next++];
        int rt = el->has_repetition ? el->repetition_type : PQ_REQUIRED;
        if (rt < PQ_REQUIRED || rt > PQ_REPEATED)
            return FIRN_RAISE(w->err, FIRN_ERR_CORRUPT, "schema element with repetition type %d", rt);
        int d = def + (rt != PQ_REQUIRED), rp = rep + (rt == PQ_REPEATED);
        char *name = firn_arena_strndup(&r->meta, (const char *)el->name.ptr, el->name.len);
        char *path = name;
        if (prefix) {
            size_t pl = strlen(prefix);
            path = firn_arena_alloc(&r->meta, pl + 1 + el->name.len + 1);
            memcpy(path, prefix, pl);
            path[pl] = '.';
            memcpy(path + pl + 1, name, el->name.len + 1);
        }
        if (el->has_num_children && el->num_children < 0)
            return FIRN_RAISE(w->err, FIRN_ERR_CORRUPT, "schema element '%s' has %d children", path,
                              el->num_children);
        if (el->has_num_children && el->num_children > 0) {
            int rc = walk(w, (uint32_t)el->num_children, depth + 1, d, rp, path);
            if (rc) return rc;
            continue;
        }
        if (!el->has_type) continue; /* an empty group */
        pq_leaf *lf = &r->leaves[r->nleaves++];
        memset(lf, 0, sizeof *lf);
        lf->el = el;
        lf->max_def = d;
        lf->max_rep = rp;
        lf->desc.name = name;
        lf->desc.path = path;
        lf->desc.field_id = el->has_field_id ? el->field_id : -1;
        lf->desc.optional = rt != PQ_REQUIRED;
        map_type(lf, depth > 0);
    }
    return 0;
}

static int build_schema(firn_pq_reader *r, firn_error *err) {
    if (r->md.nschema == 0) return FIRN_RAISE(err, FIRN_ERR_CORRUPT, "schema is empty");
    const pq_schema_element *root = &r->md.schema[0];
    if (root->has_num_children && root->num_children < 0)
        return FIRN_RAISE(err, FIRN_ERR_CORRUPT, "schema root has %d children", root->num_children);
    r->leaves = firn_arena_calloc(&r->meta, r->md.nschema * sizeof *r->leaves);
    walk_ctx w = {.r = r, .next = 1, .err = err};
    int rc = walk(&w, root->has_num_children ? (uint32_t)root->num_children : 0, 0, 0, 0, NULL);
    if (rc) return rc;
    if (w.next != r->md.nschema)
        return FIRN_RAISE(err, FIRN_ERR_CORRUPT,
                          "schema lists %u elements but its tree holds %u", r->md.nschema, w.next);
    return 0;
}

/* ------------------------------------------------------------- open */

/* Read [off, off + n) of the file into buf (ranged readers). */
static int read_range(firn_pq_reader *r, uint64_t off, void *buf, size_t n, firn_error *err) {
    int rc = r->read_fn(r->read_ctx, off, buf, n, err);
    if (rc) return annotate(err, rc, "reading %zu bytes at offset %llu", n, (unsigned long long)off);
    return 0;
}

/* Check the magics (head: the file's first 4 bytes, tail: its last 8) of an n-byte
 * file; *flen gets the footer length. */
static int check_frame(const uint8_t *head, const uint8_t *tail, size_t n, uint32_t *flen,
                       firn_error *err) {
    if (memcmp(head, "PAR1", 4) != 0)
        return FIRN_RAISE(err, FIRN_ERR_CORRUPT, "no PAR1 magic at the start: not a Parquet file");
    if (memcmp(tail + 4, "PARE", 4) == 0)
        return FIRN_RAISE(err, FIRN_ERR_UNSUPPORTED, "encrypted Parquet footer (PARE) is not supported");
    if (memcmp(tail + 4, "PAR1", 4) != 0)
        return FIRN_RAISE(err, FIRN_ERR_CORRUPT,
                          "no PAR1 magic at the end of the %zu-byte file: truncated or not Parquet", n);
    *flen = firn_load_le32(tail);
    if (*flen > n - 12)
        return FIRN_RAISE(err, FIRN_ERR_CORRUPT,
                          "footer length %u (at offset %zu) is beyond the %zu-byte file", *flen, n - 8, n);
    return 0;
}

static int reader_init(firn_pq_reader *r, firn_error *err) {
    size_t n = r->len;
    firn_arena_init(&r->meta, 0);
    firn_arena_init(&r->own_scratch, 0);
    if (!r->scratch) r->scratch = &r->own_scratch;
    r->limits.max_page_bytes = UINT64_C(1) << 30;
    r->limits.max_column_bytes = UINT64_C(4) << 30;
    if (n < 12)
        return FIRN_RAISE(err, FIRN_ERR_CORRUPT,
                          "file of %zu bytes is too small to be Parquet (at least 12)", n);
    uint32_t flen;
    const uint8_t *footer;
    int rc;
    if (r->data) {
        rc = check_frame(r->data, r->data + n - 8, n, &flen, err);
        if (rc) return rc;
        footer = r->data + n - 8 - flen;
    } else {
        /* three reads: the head magic, the tail (footer length + magic), the footer */
        uint8_t head[4], tail[8];
        if ((rc = read_range(r, 0, head, 4, err)) || (rc = read_range(r, n - 8, tail, 8, err)) ||
            (rc = check_frame(head, tail, n, &flen, err)))
            return rc;
        uint8_t *f = firn_arena_alloc(&r->meta, (size_t)flen + 1);
        if ((rc = read_range(r, n - 8 - flen, f, flen, err))) return rc;
        footer = f;
    }
    r->footer_start = n - 8 - flen;
    rc = pq_decode_file_metadata(footer, flen, &r->meta, &r->md, err);
    if (rc) return annotate(err, rc, "footer at offset %zu", r->footer_start);
    pq_file_metadata *md = &r->md;
    if (md->num_rows < 0)
        return FIRN_RAISE(err, FIRN_ERR_CORRUPT, "footer says the file has %lld rows",
                          (long long)md->num_rows);
    rc = build_schema(r, err);
    if (rc) return annotate(err, rc, "footer at offset %zu", r->footer_start);
    uint64_t total = 0;
    for (uint32_t g = 0; g < md->nrow_groups; g++) {
        const pq_row_group *rg = &md->row_groups[g];
        if (rg->num_rows < 0)
            return FIRN_RAISE(err, FIRN_ERR_CORRUPT, "row group %u has %lld rows", g,
                              (long long)rg->num_rows);
        if (rg->ncolumns != r->nleaves)
            return FIRN_RAISE(err, FIRN_ERR_CORRUPT,
                              "row group %u has %u column chunks but the schema has %zu leaf columns",
                              g, rg->ncolumns, r->nleaves);
        total += (uint64_t)rg->num_rows;
        if (total > (uint64_t)INT64_MAX)
            return FIRN_RAISE(err, FIRN_ERR_CORRUPT, "row groups hold more than 2^63 rows");
    }
    if (total != (uint64_t)md->num_rows)
        return FIRN_RAISE(err, FIRN_ERR_CORRUPT,
                          "footer says %lld rows but its row groups hold %llu",
                          (long long)md->num_rows, (unsigned long long)total);
    r->nkvs = md->nkey_value_metadata;
    r->kvs = firn_arena_calloc(&r->meta, (r->nkvs ? r->nkvs : 1) * sizeof *r->kvs);
    for (size_t i = 0; i < r->nkvs; i++) {
        const pq_key_value *kv = &md->key_value_metadata[i];
        r->kvs[i].key = firn_arena_strndup(&r->meta, (const char *)kv->key.ptr, kv->key.len);
        r->kvs[i].value = kv->has_value ? firn_arena_strndup(&r->meta, (const char *)kv->value.ptr,
                                                             kv->value.len)
                                        : NULL;
    }
    if (md->has_created_by)
        r->created_by = firn_arena_strndup(&r->meta, (const char *)md->created_by.ptr, md->created_by.len);
    return 0;
}

firn_pq_reader *firn_pq_reader_open_mem(const uint8_t *data, size_t len, firn_error *err) {
    firn_pq_reader *r = firn_xcalloc(1, sizeof *r);
    r->data = data;
    r->len = len;
    if (reader_init(r, err)) {
        firn_error_context(err, "%s", where(r));
        firn_pq_reader_free(r);
        return NULL;
    }
    return r;
}

firn_pq_reader *firn_pq_reader_open_ranged(uint64_t size, firn_pq_read_fn read, void *ctx,
                                           firn_error *err) {
    firn_pq_reader *r = firn_xcalloc(1, sizeof *r);
    r->len = (size_t)size;
    r->read_fn = read;
    r->read_ctx = ctx;
    if (reader_init(r, err)) {
        firn_error_context(err, "%s", where(r));
        firn_pq_reader_free(r);
        return NULL;
    }
    return r;
}

firn_pq_reader *firn_pq_reader_open(const char *path, firn_error *err) {
    firn_pq_reader *r = firn_xcalloc(1, sizeof *r);
    r->path = firn_xstrdup(path);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        FIRN_RAISE(err, errno == ENOENT ? FIRN_ERR_NOT_FOUND : FIRN_ERR_IO, "cannot open: %s",
                   strerror(errno));
        goto fail;
    }
    if (!S_ISREG(st.st_mode)) {
        FIRN_RAISE(err, FIRN_ERR_INVALID, "not a regular file");
        goto fail;
    }
    if (st.st_size > 0) {
        void *m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (m != MAP_FAILED) {
            r->map = m;
            r->map_len = (size_t)st.st_size;
            r->data = m;
            r->len = r->map_len;
        }
    }
    close(fd);
    fd = -1;
    if (!r->map) {
        if (firn_read_file(path, &r->owned, &r->len, err)) goto fail;
        r->data = r->owned;
    }
    if (reader_init(r, err)) goto fail;
    return r;
fail:
    if (fd >= 0) close(fd);
    firn_error_context(err, "%s", path);
    firn_pq_reader_free(r);
    return NULL;
}

void firn_pq_reader_free(firn_pq_reader *r) {
    if (!r) return;
    if (r->map) munmap(r->map, r->map_len);
    free(r->owned);
    free(r->path);
    firn_arena_release(&r->meta);
    firn_arena_release(&r->own_scratch);
    firn_buf_release(&r->page);
    free(r);
}

void firn_pq_reader_use_scratch(firn_pq_reader *r, firn_arena *scratch) {
    r->scratch = scratch ? scratch : &r->own_scratch;
}

uint64_t firn_pq_reader_num_rows(const firn_pq_reader *r) { return (uint64_t)r->md.num_rows; }
size_t firn_pq_reader_num_row_groups(const firn_pq_reader *r) { return r->md.nrow_groups; }
uint64_t firn_pq_reader_row_group_rows(const firn_pq_reader *r, size_t rg) {
    return rg < r->md.nrow_groups ? (uint64_t)r->md.row_groups[rg].num_rows : 0;
}
size_t firn_pq_reader_num_columns(const firn_pq_reader *r) { return r->nleaves; }
const firn_pq_column_desc *firn_pq_reader_column(const firn_pq_reader *r, size_t col) {
    return col < r->nleaves ? &r->leaves[col].desc : NULL;
}

int firn_pq_reader_find_field(const firn_pq_reader *r, int32_t field_id) {
    for (size_t i = 0; i < r->nleaves; i++)
        if (r->leaves[i].desc.field_id == field_id && field_id >= 0) return (int)i;
    return -1;
}

int firn_pq_reader_find_path(const firn_pq_reader *r, const char *path) {
    for (size_t i = 0; i < r->nleaves; i++)
        if (strcmp(r->leaves[i].desc.path, path) == 0) return (int)i;
    return -1;
}

const char *firn_pq_reader_kv(const firn_pq_reader *r, const char *key) {
    for (size_t i = 0; i < r->nkvs; i++)
        if (strcmp(r->kvs[i].key, key) == 0) return r->kvs[i].value;
    return NULL;
}

const firn_pq_kv *firn_pq_reader_kvs(const firn_pq_reader *r, size_t *n) {
    *n = r->nkvs;
    return r->kvs;
}

const char *firn_pq_reader_created_by(const firn_pq_reader *r) { return r->created_by; }

/* ------------------------------------------------------ column chunks */

typedef struct chunk_rd {
    firn_pq_reader *r;
    const pq_leaf *lf;
    const pq_column_meta_data *cm;
    firn_error *err;
    int64_t page_off;       /* file offset of the page being read */
    size_t nrows, row;      /* rows in the row group, rows decoded */
    size_t pw;              /* physical width of fixed-width values */
    bool is_ba;             /* BYTE_ARRAY values: lens + srcs */
    uint8_t *valid;         /* per row; NULL for required columns */
    size_t nulls;
    uint8_t *phys;          /* fixed-width values, physical form */
    int64_t *lens;          /* BYTE_ARRAY: bytes of each row's value */
    const uint8_t **srcs;   /* BYTE_ARRAY: where each row's bytes are */
    bool has_dict;
    uint32_t dict_n;
    const uint8_t *dict_fixed;
    const uint8_t **dict_ptr;
    int64_t *dict_len;
    uint64_t ba_bytes;      /* sum of the byte-array lengths so far */
} chunk_rd;

static int corrupt(chunk_rd *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int corrupt(chunk_rd *c, const char *fmt, ...) {
    char msg[320];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return FIRN_RAISE(c->err, FIRN_ERR_CORRUPT, "%s", msg);
}

/* Deprecated LZ4 (codec 5), as parquet-mr and arrow write it: Hadoop's
 * framing (big-endian uncompressed and compressed sizes before each raw LZ4
 * block); a page that does not parse so is tried as one raw LZ4 block. */
static int lz4_hadoop(const uint8_t *in, size_t n, uint8_t *out, size_t expected, firn_error *err) {
    size_t ip = 0, op = 0;
    while (ip + 8 <= n) {
        uint32_t ulen = (uint32_t)in[ip] << 24 | (uint32_t)in[ip + 1] << 16 | (uint32_t)in[ip + 2] << 8 | in[ip + 3];
        uint32_t clen = (uint32_t)in[ip + 4] << 24 | (uint32_t)in[ip + 5] << 16 | (uint32_t)in[ip + 6] << 8 | in[ip + 7];
        if (clen > n - ip - 8 || ulen > expected - op) break;
        if (pq_decompress(FIRN_PQ_LZ4_RAW, in + ip + 8, clen, out + op, ulen, NULL) != 0) break;
        ip += 8 + (size_t)clen;
        op += ulen;
        if (ip == n && op == expected) return 0;
    }
    return pq_decompress(FIRN_PQ_LZ4_RAW, in, n, out, expected, err);
}

/* The page's bytes, decompressed. `keep`: in the scratch arena, alive until
 * the chunk is done (byte arrays point into it); else in the reusable page
 * buffer, or the file itself when stored uncompressed. */
static int page_bytes(chunk_rd *c, const uint8_t *body, size_t blen, size_t ulen, bool compressed,
                      bool keep, const uint8_t **out) {
    firn_pq_reader *r = c->r;
    int codec = compressed ? c->cm->codec : FIRN_PQ_UNCOMPRESSED;
    if (codec == FIRN_PQ_UNCOMPRESSED) {
        if (blen != ulen)
            return corrupt(c, "page stored uncompressed has %zu bytes but its header says %zu", blen, ulen);
        if (!keep) {
            *out = body;
            return 0;
        }
    }
    uint8_t *buf;
    if (keep) {
        buf = firn_arena_alloc(r->scratch, ulen + PAD);
    } else {
        firn_buf_clear(&r->page);
        firn_buf_reserve(&r->page, ulen + PAD);
        buf = r->page.data;
    }
    memset(buf + ulen, 0, PAD);
    int rc = codec == PQ_CODEC_LZ4_HADOOP ? lz4_hadoop(body, blen, buf, ulen, c->err)
                                          : pq_decompress(codec, body, blen, buf, ulen, c->err);
    if (rc) return rc;
    *out = buf;
    return 0;
}

static int read_dictionary(chunk_rd *c, const pq_page_header *ph, const uint8_t *body, size_t blen) {
    const pq_dictionary_page_header *h = &ph->dictionary_page_header;
    if (h->encoding != PQ_ENC_PLAIN && h->encoding != PQ_ENC_PLAIN_DICTIONARY)
        return FIRN_RAISE(c->err, FIRN_ERR_UNSUPPORTED, "dictionary page encoding %d is not supported",
                          h->encoding);
    if (h->num_values < 0) return corrupt(c, "dictionary page has %d values", h->num_values);
    size_t ulen = (size_t)ph->uncompressed_page_size;
    size_t n = (size_t)h->num_values;
    const uint8_t *p;
    int rc = page_bytes(c, body, blen, ulen, true, true, &p);
    if (rc) return rc;
    firn_arena *s = c->r->scratch;
    if (c->is_ba) {
        if (n > ulen / 4) return corrupt(c, "dictionary page of %zu bytes cannot hold %zu values", ulen, n);
        c->dict_ptr = firn_arena_alloc(s, (n ? n : 1) * sizeof *c->dict_ptr);
        c->dict_len = firn_arena_alloc(s, (n ? n : 1) * sizeof *c->dict_len);
        size_t off = 0;
        for (size_t i = 0; i < n; i++) {
            if (ulen - off < 4) return corrupt(c, "dictionary value %zu is truncated", i);
            uint32_t l = firn_load_le32(p + off);
            off += 4;
            if (l > ulen - off) return corrupt(c, "dictionary value %zu of %u bytes runs past the page", i, l);
            c->dict_ptr[i] = p + off;
            c->dict_len[i] = l;
            off += l;
        }
    } else if (c->lf->el->type == PQ_BOOLEAN) {
        if (n > ulen * 8) return corrupt(c, "dictionary page of %zu bytes cannot hold %zu booleans", ulen, n);
        uint8_t *v = firn_arena_alloc(s, n ? n : 1);
        for (size_t i = 0; i < n; i++) v[i] = (p[i >> 3] >> (i & 7)) & 1;
        c->dict_fixed = v;
    } else {
        if (n > ulen / c->pw)
            return corrupt(c, "dictionary page of %zu bytes cannot hold %zu values of %zu bytes", ulen, n, c->pw);
        c->dict_fixed = p;
    }
    c->dict_n = (uint32_t)n;
    c->has_dict = true;
    return 0;
}

/* Spread nnn dense values at [row, row + nnn) over [row, row + n) following
 * the validity bytes; null slots become zero. */
#define EXPAND_FN(name, T)                                                             \
    static void name(T *v, const uint8_t *valid, size_t n, size_t nnn) {               \
        size_t j = nnn; /* dense values left = valid rows in [0, i] */                 \
        for (size_t i = n; i-- > 0;) {                                                 \
            if (j == i + 1) break; /* rows 0..i all valid: already in place */         \
            if (valid[i]) v[i] = v[--j];                                               \
            else v[i] = (T)0;                                                          \
        }                                                                              \
    }
EXPAND_FN(expand_u8, uint8_t)
EXPAND_FN(expand_u32, uint32_t)
EXPAND_FN(expand_u64, uint64_t)
EXPAND_FN(expand_i64, int64_t)
EXPAND_FN(expand_ptr, const uint8_t *)

static void expand_bytes(uint8_t *v, size_t w, const uint8_t *valid, size_t n, size_t nnn) {
    size_t j = nnn;
    for (size_t i = n; i-- > 0;) {
        if (j == i + 1) break;
        if (valid[i]) memcpy(v + i * w, v + --j * w, w); /* j < i here: no overlap */
        else memset(v + i * w, 0, w);
    }
}

static void expand(chunk_rd *c, size_t n, size_t nnn) {
    const uint8_t *valid = c->valid + c->row;
    if (c->is_ba) {
        expand_i64(c->lens + c->row, valid, n, nnn);
        expand_ptr(c->srcs + c->row, valid, n, nnn);
        return;
    }
    uint8_t *base = c->phys + c->row * c->pw;
    switch (c->pw) {
    case 1: expand_u8(base, valid, n, nnn); break;
    case 4: expand_u32((uint32_t *)(void *)base, valid, n, nnn); break;
    case 8: expand_u64((uint64_t *)(void *)base, valid, n, nnn); break;
    default: expand_bytes(base, c->pw, valid, n, nnn); break;
    }
}

static int plain_decode(chunk_rd *c, const uint8_t *p, size_t len, size_t nnn) {
    int pt = c->lf->el->type;
    if (c->is_ba) {
        size_t off = 0;
        int64_t *lens = c->lens + c->row;
        const uint8_t **srcs = c->srcs + c->row;
        for (size_t i = 0; i < nnn; i++) {
            if (len - off < 4) return corrupt(c, "PLAIN byte array %zu of %zu is truncated", i, nnn);
            uint32_t l = firn_load_le32(p + off);
            off += 4;
            if (l > len - off)
                return corrupt(c, "PLAIN byte array %zu of %u bytes runs past the page", i, l);
            lens[i] = l;
            srcs[i] = p + off;
            off += l;
        }
        return 0;
    }
    if (pt == PQ_BOOLEAN) {
        if (nnn > (uint64_t)len * 8) return corrupt(c, "PLAIN booleans: %zu values in %zu bytes", nnn, len);
        uint8_t *o = c->phys + c->row;
        size_t i = 0;
        for (; i + 8 <= nnn; i += 8) {
            uint8_t b = p[i >> 3];
            for (int k = 0; k < 8; k++) o[i + (size_t)k] = (b >> k) & 1;
        }
        for (; i < nnn; i++) o[i] = (p[i >> 3] >> (i & 7)) & 1;
        return 0;
    }
    if (nnn > len / c->pw)
        return corrupt(c, "PLAIN page of %zu bytes cannot hold %zu values of %zu bytes", len, nnn, c->pw);
    memcpy(c->phys + c->row * c->pw, p, nnn * c->pw);
    return 0;
}

static int dict_decode(chunk_rd *c, const uint8_t *p, size_t len, size_t nnn) {
    if (!c->has_dict) return corrupt(c, "dictionary-encoded page but the column chunk has no dictionary page");
    if (len < 1) return corrupt(c, "dictionary-encoded page has no bit width byte");
    int bw = p[0];
    if (bw > 32) return corrupt(c, "dictionary index bit width %d is above 32", bw);
    pq_rle d;
    pq_rle_init(&d, p + 1, len - 1, bw);
    uint32_t idx[1024];
    const uint32_t dn = c->dict_n;
    for (size_t done = 0; done < nnn;) {
        size_t k = nnn - done < 1024 ? nnn - done : 1024;
        int rc = pq_rle_get_u32(&d, idx, k, c->err);
        if (rc) return annotate(c->err, rc, "dictionary indices");
        uint32_t mx = 0;
        for (size_t i = 0; i < k; i++) mx = idx[i] > mx ? idx[i] : mx;
        if (mx >= dn)
            return corrupt(c, "dictionary index %u is out of range (the dictionary has %u entries)", mx, dn);
        size_t at = c->row + done;
        if (c->is_ba) {
            int64_t *lens = c->lens + at;
            const uint8_t **srcs = c->srcs + at;
            for (size_t i = 0; i < k; i++) {
                lens[i] = c->dict_len[idx[i]];
                srcs[i] = c->dict_ptr[idx[i]];
            }
        } else {
            switch (c->pw) {
            case 1: {
                uint8_t *o = c->phys + at;
                for (size_t i = 0; i < k; i++) o[i] = c->dict_fixed[idx[i]];
                break;
            }
            case 4: {
                uint32_t *o = (uint32_t *)(void *)(c->phys + at * 4);
                for (size_t i = 0; i < k; i++) memcpy(&o[i], c->dict_fixed + (size_t)idx[i] * 4, 4);
                break;
            }
            case 8: {
                uint64_t *o = (uint64_t *)(void *)(c->phys + at * 8);
                for (size_t i = 0; i < k; i++) memcpy(&o[i], c->dict_fixed + (size_t)idx[i] * 8, 8);
                break;
            }
            case 16: {
                uint8_t *o = c->phys + at * 16;
                for (size_t i = 0; i < k; i++) memcpy(o + i * 16, c->dict_fixed + (size_t)idx[i] * 16, 16);
                break;
            }
            default: {
                size_t w = c->pw;
                uint8_t *o = c->phys + at * w;
                for (size_t i = 0; i < k; i++) memcpy(o + i * w, c->dict_fixed + (size_t)idx[i] * w, w);
            }
            }
        }
        done += k;
    }
    return 0;
}

static int delta_length_decode(chunk_rd *c, const uint8_t *p, size_t len, size_t nnn) {
    int32_t *l32 = firn_arena_alloc(c->r->scratch, (nnn ? nnn : 1) * sizeof *l32);
    size_t used;
    int rc = pq_delta_decode_i32(p, len, l32, nnn, &used, c->err);
    if (rc) return annotate(c->err, rc, "DELTA_LENGTH_BYTE_ARRAY lengths");
    size_t off = used;
    int64_t *lens = c->lens + c->row;
    const uint8_t **srcs = c->srcs + c->row;
    for (size_t i = 0; i < nnn; i++) {
        if (l32[i] < 0) return corrupt(c, "DELTA_LENGTH_BYTE_ARRAY length %d is negative", l32[i]);
        if ((size_t)l32[i] > len - off)
            return corrupt(c, "DELTA_LENGTH_BYTE_ARRAY value %zu of %d bytes runs past the page", i, l32[i]);
        lens[i] = l32[i];
        srcs[i] = p + off;
        off += (size_t)l32[i];
    }
    return 0;
}

static int delta_byte_array_decode(chunk_rd *c, const uint8_t *p, size_t len, size_t nnn) {
    firn_arena *s = c->r->scratch;
    int32_t *pre = firn_arena_alloc(s, (nnn ? nnn : 1) * sizeof *pre);
    int32_t *suf = firn_arena_alloc(s, (nnn ? nnn : 1) * sizeof *suf);
    size_t u1, u2;
    int rc = pq_delta_decode_i32(p, len, pre, nnn, &u1, c->err);
    if (rc) return annotate(c->err, rc, "DELTA_BYTE_ARRAY prefix lengths");
    rc = pq_delta_decode_i32(p + u1, len - u1, suf, nnn, &u2, c->err);
    if (rc) return annotate(c->err, rc, "DELTA_BYTE_ARRAY suffix lengths");
    const uint8_t *data = p + u1 + u2;
    size_t left = len - u1 - u2;
    /* sizes first: prefixes may only reuse the previous value, and the
     * whole must stay within the limit (prefixes can multiply bytes) */
    uint64_t total = 0, sufs = 0;
    int64_t prev = 0;
    for (size_t i = 0; i < nnn; i++) {
        if (pre[i] < 0 || suf[i] < 0)
            return corrupt(c, "DELTA_BYTE_ARRAY value %zu has a negative length", i);
        if (pre[i] > prev)
            return corrupt(c, "DELTA_BYTE_ARRAY value %zu reuses %d bytes of a %lld-byte previous value",
                           i, pre[i], (long long)prev);
        prev = (int64_t)pre[i] + suf[i];
        total += (uint64_t)prev;
        sufs += (uint64_t)suf[i];
        if (sufs > left) return corrupt(c, "DELTA_BYTE_ARRAY suffixes run past the page");
        if (total + c->ba_bytes > c->r->limits.max_column_bytes)
            return FIRN_RAISE(c->err, FIRN_ERR_LIMIT,
                              "DELTA_BYTE_ARRAY values expand beyond the reader's limit of %llu bytes",
                              (unsigned long long)c->r->limits.max_column_bytes);
    }
    if (!c->is_ba) {
        /* FIXED_LEN_BYTE_ARRAY: every value has the column's length */
        size_t w = c->pw;
        uint8_t *o = c->phys + c->row * w;
        const uint8_t *prevp = NULL;
        for (size_t i = 0; i < nnn; i++) {
            if ((size_t)pre[i] + (size_t)suf[i] != w)
                return corrupt(c, "DELTA_BYTE_ARRAY value %zu has %d bytes, the column's length is %zu", i,
                               pre[i] + suf[i], w);
            uint8_t *dst = o + i * w;
            if (pre[i]) memmove(dst, prevp, (size_t)pre[i]);
            memcpy(dst + pre[i], data, (size_t)suf[i]);
            data += suf[i];
            prevp = dst;
        }
        return 0;
    }
    uint8_t *buf = firn_arena_alloc(s, (size_t)total + PAD);
    memset(buf + total, 0, PAD);
    int64_t *lens = c->lens + c->row;
    const uint8_t **srcs = c->srcs + c->row;
    uint8_t *dst = buf;
    const uint8_t *prevp = buf;
    for (size_t i = 0; i < nnn; i++) {
        if (pre[i]) memmove(dst, prevp, (size_t)pre[i]);
        if (suf[i]) memcpy(dst + pre[i], data, (size_t)suf[i]);
        data += suf[i];
        lens[i] = (int64_t)pre[i] + suf[i];
        srcs[i] = dst;
        prevp = dst;
        dst += lens[i];
    }
    return 0;
}

static const char *enc_name(int e) {
    switch (e) {
    case PQ_ENC_PLAIN: return "PLAIN";
    case PQ_ENC_PLAIN_DICTIONARY: return "PLAIN_DICTIONARY";
    case PQ_ENC_RLE: return "RLE";
    case PQ_ENC_BIT_PACKED: return "BIT_PACKED";
    case PQ_ENC_DELTA_BINARY_PACKED: return "DELTA_BINARY_PACKED";
    case PQ_ENC_DELTA_LENGTH_BYTE_ARRAY: return "DELTA_LENGTH_BYTE_ARRAY";
    case PQ_ENC_DELTA_BYTE_ARRAY: return "DELTA_BYTE_ARRAY";
    case PQ_ENC_RLE_DICTIONARY: return "RLE_DICTIONARY";
    case PQ_ENC_BYTE_STREAM_SPLIT: return "BYTE_STREAM_SPLIT";
    case 10: return "ALP";
    default: return "unknown";
    }
}

static int bad_encoding(chunk_rd *c, int enc) {
    return FIRN_RAISE(c->err, FIRN_ERR_UNSUPPORTED,
                      "encoding %s (%d) is not supported for this column's physical type",
                      enc_name(enc), enc);
}

/* Decode the page's nnn non-null values of n rows starting at c->row. */
static int decode_values(chunk_rd *c, int enc, const uint8_t *p, size_t len, size_t n, size_t nnn) {
    int pt = c->lf->el->type;
    int rc = 0;
    if (nnn > 0) {
        switch (enc) {
        case PQ_ENC_PLAIN: rc = plain_decode(c, p, len, nnn); break;
        case PQ_ENC_PLAIN_DICTIONARY:
        case PQ_ENC_RLE_DICTIONARY: rc = dict_decode(c, p, len, nnn); break;
        case PQ_ENC_RLE: {
            if (pt != PQ_BOOLEAN) return bad_encoding(c, enc);
            if (len < 4) return corrupt(c, "RLE booleans without their length prefix");
            uint32_t l = firn_load_le32(p);
            if (l > len - 4) return corrupt(c, "RLE booleans of %u bytes run past the page", l);
            pq_rle d;
            pq_rle_init(&d, p + 4, l, 1);
            rc = pq_rle_get_u8(&d, c->phys + c->row, nnn, 1, c->err);
            if (rc) return annotate(c->err, rc, "RLE booleans");
            break;
        }
        case PQ_ENC_DELTA_BINARY_PACKED: {
            size_t used;
            if (pt == PQ_INT32)
                rc = pq_delta_decode_i32(p, len, (int32_t *)(void *)(c->phys + c->row * 4), nnn, &used, c->err);
            else if (pt == PQ_INT64)
                rc = pq_delta_decode_i64(p, len, (int64_t *)(void *)(c->phys + c->row * 8), nnn, &used, c->err);
            else
                return bad_encoding(c, enc);
            break;
        }
        case PQ_ENC_DELTA_LENGTH_BYTE_ARRAY:
            if (pt != PQ_BYTE_ARRAY) return bad_encoding(c, enc);
            rc = delta_length_decode(c, p, len, nnn);
            break;
        case PQ_ENC_DELTA_BYTE_ARRAY:
            if (pt != PQ_BYTE_ARRAY && pt != PQ_FIXED_LEN_BYTE_ARRAY) return bad_encoding(c, enc);
            rc = delta_byte_array_decode(c, p, len, nnn);
            break;
        case PQ_ENC_BYTE_STREAM_SPLIT:
            if (pt == PQ_BOOLEAN || pt == PQ_BYTE_ARRAY || pt == PQ_INT96) return bad_encoding(c, enc);
            rc = pq_byte_stream_split_decode(p, len, c->pw, c->phys + c->row * c->pw, nnn, c->err);
            break;
        default: return bad_encoding(c, enc);
        }
        if (rc) return rc;
        if (c->is_ba) {
            const int64_t *lens = c->lens + c->row;
            uint64_t sum = 0;
            for (size_t i = 0; i < nnn; i++) sum += (uint64_t)lens[i];
            c->ba_bytes += sum;
            if (c->ba_bytes > c->r->limits.max_column_bytes)
                return FIRN_RAISE(c->err, FIRN_ERR_LIMIT,
                                  "column chunk values exceed the reader's limit of %llu bytes",
                                  (unsigned long long)c->r->limits.max_column_bytes);
        }
    }
    if (nnn < n) expand(c, n, nnn);
    return 0;
}

static size_t count_valid(const uint8_t *v, size_t n) {
    size_t s = 0;
    for (size_t i = 0; i < n; i++) s += v[i];
    return s;
}

static int check_page_rows(chunk_rd *c, int32_t n) {
    if (n < 0) return corrupt(c, "data page has %d values", n);
    if ((size_t)n > c->nrows - c->row)
        return corrupt(c, "data page holds %d values but only %zu of the row group's %zu rows remain", n,
                       c->nrows - c->row, c->nrows);
    return 0;
}

static int read_data_v1(chunk_rd *c, const pq_page_header *ph, const uint8_t *body, size_t blen) {
    const pq_data_page_header *h = &ph->data_page_header;
    int rc = check_page_rows(c, h->num_values);
    if (rc) return rc;
    size_t n = (size_t)h->num_values;
    size_t ulen = (size_t)ph->uncompressed_page_size;
    const uint8_t *p;
    rc = page_bytes(c, body, blen, ulen, true, c->is_ba, &p);
    if (rc) return rc;
    size_t left = ulen;
    size_t nnn = n;
    if (c->lf->max_def > 0) {
        uint8_t *v = c->valid + c->row;
        if (h->definition_level_encoding == PQ_ENC_RLE) {
            if (left < 4) return corrupt(c, "definition levels without their length prefix");
            uint32_t l = firn_load_le32(p);
            if (l > left - 4) return corrupt(c, "definition levels of %u bytes run past the page", l);
            pq_rle d;
            pq_rle_init(&d, p + 4, l, 1);
            rc = pq_rle_get_u8(&d, v, n, 1, c->err);
            if (rc) return annotate(c->err, rc, "definition levels");
            p += 4 + (size_t)l;
            left -= 4 + (size_t)l;
        } else if (h->definition_level_encoding == PQ_ENC_BIT_PACKED) {
            size_t used;
            rc = pq_bitpacked_levels_u8(p, left, 1, v, n, 1, &used, c->err);
            if (rc) return annotate(c->err, rc, "definition levels");
            p += used;
            left -= used;
        } else {
            return FIRN_RAISE(c->err, FIRN_ERR_UNSUPPORTED, "definition level encoding %s (%d)",
                              enc_name(h->definition_level_encoding), h->definition_level_encoding);
        }
        nnn = count_valid(v, n);
        c->nulls += n - nnn;
    }
    rc = decode_values(c, h->encoding, p, left, n, nnn);
    if (rc) return rc;
    c->row += n;
    return 0;
}

static int read_data_v2(chunk_rd *c, const pq_page_header *ph, const uint8_t *body, size_t blen) {
    const pq_data_page_header_v2 *h = &ph->data_page_header_v2;
    int rc = check_page_rows(c, h->num_values);
    if (rc) return rc;
    size_t n = (size_t)h->num_values;
    if (h->num_nulls < 0 || h->num_nulls > h->num_values)
        return corrupt(c, "data page v2 has %d nulls in %d values", h->num_nulls, h->num_values);
    if (h->num_rows != h->num_values)
        return corrupt(c, "data page v2 of a flat column has %d rows but %d values", h->num_rows,
                       h->num_values);
    int32_t dl = h->definition_levels_byte_length, rl = h->repetition_levels_byte_length;
    if (dl < 0 || rl < 0 || (uint64_t)dl + (uint64_t)rl > blen)
        return corrupt(c, "data page v2 levels (%d + %d bytes) do not fit its %zu bytes", rl, dl, blen);
    if ((uint64_t)dl + (uint64_t)rl > (uint64_t)ph->uncompressed_page_size)
        return corrupt(c, "data page v2 levels (%d + %d bytes) exceed its uncompressed size %d", rl, dl,
                       ph->uncompressed_page_size);
    size_t lev = (size_t)dl + (size_t)rl;
    size_t nnn = n;
    if (c->lf->max_def > 0) {
        uint8_t *v = c->valid + c->row;
        pq_rle d;
        pq_rle_init(&d, body + rl, (size_t)dl, 1);
        rc = pq_rle_get_u8(&d, v, n, 1, c->err);
        if (rc) return annotate(c->err, rc, "definition levels");
        nnn = count_valid(v, n);
        c->nulls += n - nnn;
    }
    if (n - nnn != (size_t)h->num_nulls)
        return corrupt(c, "data page v2 says %d nulls but its definition levels have %zu", h->num_nulls,
                       n - nnn);
    const uint8_t *p;
    size_t ulen = (size_t)ph->uncompressed_page_size - lev;
    rc = page_bytes(c, body + lev, blen - lev, ulen, h->is_compressed, c->is_ba, &p);
    if (rc) return rc;
    rc = decode_values(c, h->encoding, p, ulen, n, nnn);
    if (rc) return rc;
    c->row += n;
    return 0;
}

/* ----------------------------------------------------- conversions */

/* Big-endian two's complement of len bytes -> out: 4 / 8 bytes native
 * integer when `width` is 4 or 8 (and native), else `width` bytes BE. */
static bool dec_from_be(const uint8_t *b, size_t len, uint8_t *out, size_t width, bool native) {
    if (len == 0) return false;
    uint8_t sign = (b[0] & 0x80) ? 0xff : 0x00;
    if (len > width) {
        for (size_t i = 0; i < len - width; i++)
            if (b[i] != sign) return false;
        if (((b[len - width] & 0x80) ? 0xff : 0x00) != sign) return false;
        b += len - width;
        len = width;
    }
    if (!native) {
        memset(out, sign, width - len);
        memcpy(out + width - len, b, len);
        return true;
    }
    uint64_t v = sign ? UINT64_MAX : 0;
    for (size_t i = 0; i < len; i++) v = v << 8 | b[i];
    if (width == 4) {
        int64_t s = (int64_t)v;
        if (s < INT32_MIN || s > INT32_MAX) return false;
        int32_t x = (int32_t)s;
        memcpy(out, &x, 4);
    } else {
        memcpy(out, &v, 8);
    }
    return true;
}

static float half_to_float(uint16_t h) {
    int s = h >> 15, e = (h >> 10) & 0x1f, m = h & 0x3ff;
    float f;
    if (e == 0) f = ldexpf((float)m, -24);
    else if (e == 31) f = m ? NAN : INFINITY;
    else f = ldexpf((float)(m | 0x400), e - 25);
    return s ? -f : f;
}

static bool int96_to_ns(const uint8_t *b, int64_t *out) {
    int64_t nanos = (int64_t)firn_load_le64(b);
    int64_t days = (int64_t)(int32_t)firn_load_le32(b + 8) - 2440588;
    int64_t ns;
    if (__builtin_mul_overflow(days, INT64_C(86400000000000), &ns) ||
        __builtin_add_overflow(ns, nanos, &ns))
        return false;
    *out = ns;
    return true;
}

/* Convert row i from its physical form to out (out_width bytes). */
static bool convert_one(const pq_leaf *lf, const uint8_t *src, size_t srclen, uint8_t *out) {
    switch (lf->conv) {
    case CONV_U32_TO_I64: {
        int64_t v = (int64_t)firn_load_le32(src);
        memcpy(out, &v, 8);
        return true;
    }
    case CONV_I32_MS_US: {
        int64_t v = (int64_t)(int32_t)firn_load_le32(src) * 1000;
        memcpy(out, &v, 8);
        return true;
    }
    case CONV_I64_MS_US: {
        int64_t v;
        if (__builtin_mul_overflow((int64_t)firn_load_le64(src), 1000, &v)) return false;
        memcpy(out, &v, 8);
        return true;
    }
    case CONV_INT96_NS: {
        int64_t v;
        if (!int96_to_ns(src, &v)) return false;
        memcpy(out, &v, 8);
        return true;
    }
    case CONV_F16_F32: {
        float f = half_to_float((uint16_t)(src[0] | src[1] << 8));
        memcpy(out, &f, 4);
        return true;
    }
    case CONV_U64_DEC20: {
        uint64_t v = firn_load_le64(src);
        size_t w = lf->out_width;
        memset(out, 0, w);
        for (size_t k = 0; k < 8; k++) out[w - 1 - k] = (uint8_t)(v >> (8 * k));
        return true;
    }
    case CONV_DEC: {
        int pt = lf->el->type;
        uint8_t be[8];
        if (pt == PQ_INT32 || pt == PQ_INT64) {
            int64_t v = pt == PQ_INT32 ? (int64_t)(int32_t)firn_load_le32(src) : (int64_t)firn_load_le64(src);
            for (int k = 0; k < 8; k++) be[k] = (uint8_t)((uint64_t)v >> (56 - 8 * k));
            src = be;
            srclen = 8;
        }
        return dec_from_be(src, srclen, out, lf->out_width, lf->out_width <= 8);
    }
    case CONV_NONE: break;
    }
    memcpy(out, src, lf->out_width);
    return true;
}

static int convert_fixed(chunk_rd *c, uint8_t *out) {
    const pq_leaf *lf = c->lf;
    size_t w = lf->out_width, pw = c->pw;
    for (size_t i = 0; i < c->nrows; i++) {
        if (c->valid && !c->valid[i]) {
            memset(out + i * w, 0, w);
            continue;
        }
        if (!convert_one(lf, c->phys + i * pw, pw, out + i * w))
            return corrupt(c, "value in row %zu cannot be converted to %s", i,
                           lf->desc.type == FIRN_PQ_DECIMAL ? "a decimal of this precision"
                                                            : "its Iceberg type (out of range)");
    }
    return 0;
}

static int convert_ba_decimal(chunk_rd *c, uint8_t *out) {
    size_t w = c->lf->out_width;
    for (size_t i = 0; i < c->nrows; i++) {
        if (c->valid && !c->valid[i]) {
            memset(out + i * w, 0, w);
            continue;
        }
        if (!convert_one(c->lf, c->srcs[i], (size_t)c->lens[i], out + i * w))
            return corrupt(c, "decimal in row %zu does not fit its precision", i);
    }
    return 0;
}

/* Copy byte-array values to their place; sources are padded, so copies of 16
 * bytes may run past a value (into its successor's place or the slack). */
static void gather(uint8_t *dst, const int64_t *offsets, const uint8_t *const *srcs, size_t n) {
    for (size_t i = 0; i < n; i++) {
        int64_t len = offsets[i + 1] - offsets[i];
        if (!len) continue;
        const uint8_t *s = srcs[i];
        uint8_t *d = dst + offsets[i];
        for (int64_t k = 0; k < len; k += 16) memcpy(d + k, s + k, 16);
    }
}

/* Check every page header of the chunk before anything is allocated: sizes
 * inside the chunk and under the page limit, and data pages holding exactly
 * the row group's rows (a footer or header that lies about counts is caught
 * here, not after allocating for it). */
static int scan_pages(chunk_rd *c, const uint8_t *d, int64_t start, size_t end) {
    size_t pos = 0;
    uint64_t values = 0;
    while (values < c->nrows) {
        c->page_off = start + (int64_t)pos;
        if (pos >= end)
            return corrupt(c, "column chunk's pages hold %llu values but the row group has %zu rows",
                           (unsigned long long)values, c->nrows);
        pq_page_header ph;
        size_t hl;
        int rc = pq_decode_page_header(d + pos, end - pos, &ph, &hl, c->err);
        if (rc) return rc;
        if (ph.compressed_page_size < 0 || ph.uncompressed_page_size < 0)
            return corrupt(c, "page sizes %d / %d are negative", ph.compressed_page_size,
                           ph.uncompressed_page_size);
        size_t blen = (size_t)ph.compressed_page_size;
        if (blen > end - pos - hl)
            return corrupt(c, "page of %zu bytes runs past the end of the column chunk (%zu bytes left)",
                           blen, end - pos - hl);
        if ((uint64_t)ph.uncompressed_page_size > c->r->limits.max_page_bytes)
            return corrupt(c, "page claims %d bytes uncompressed, above the reader's limit of %llu",
                           ph.uncompressed_page_size, (unsigned long long)c->r->limits.max_page_bytes);
        int32_t nv = 0;
        bool is_data = true;
        if (ph.type == PQ_PAGE_DATA && ph.has_data_page_header) nv = ph.data_page_header.num_values;
        else if (ph.type == PQ_PAGE_DATA_V2 && ph.has_data_page_header_v2)
            nv = ph.data_page_header_v2.num_values;
        else if (ph.type == PQ_PAGE_DATA || ph.type == PQ_PAGE_DATA_V2)
            return corrupt(c, "data page without its header");
        else
            is_data = false;
        if (is_data) {
            if (nv < 0) return corrupt(c, "data page has %d values", nv);
            values += (uint64_t)nv;
            if (values > c->nrows)
                return corrupt(c, "data pages hold more values than the row group's %zu rows", c->nrows);
        }
        pos += hl + blen;
    }
    c->page_off = -1;
    return 0;
}

static int read_chunk(chunk_rd *c, firn_arena *arena, firn_pq_column_data *out) {
    firn_pq_reader *r = c->r;
    const pq_leaf *lf = c->lf;
    const pq_column_meta_data *cm = c->cm;
    if (cm->type != lf->el->type)
        return corrupt(c, "column chunk has physical type %d but the schema says %d", cm->type, lf->el->type);
    switch (cm->codec) {
    case FIRN_PQ_UNCOMPRESSED:
    case FIRN_PQ_SNAPPY:
    case FIRN_PQ_GZIP:
    case FIRN_PQ_ZSTD:
    case FIRN_PQ_LZ4_RAW:
    case PQ_CODEC_LZ4_HADOOP: break;
    default: {
        static const char *const names[] = {[3] = "LZO", [4] = "BROTLI"};
        const char *name = cm->codec >= 3 && cm->codec <= 4 ? names[cm->codec] : "unknown";
        return FIRN_RAISE(c->err, FIRN_ERR_UNSUPPORTED,
                          "compression codec %s (%d) is not supported (firn reads UNCOMPRESSED, SNAPPY, "
                          "GZIP, ZSTD, LZ4, LZ4_RAW)",
                          name, cm->codec);
    }
    }
    if (cm->num_values != (int64_t)c->nrows)
        return corrupt(c, "column chunk says %lld values but the row group has %zu rows",
                       (long long)cm->num_values, c->nrows);
    int64_t start = cm->data_page_offset;
    if (cm->has_dictionary_page_offset && cm->dictionary_page_offset > 0 &&
        cm->dictionary_page_offset < start)
        start = cm->dictionary_page_offset;
    int64_t size = cm->total_compressed_size;
    if (start < 4 || size < 0 || (uint64_t)start > r->footer_start ||
        (uint64_t)size > r->footer_start - (uint64_t)start)
        return corrupt(c, "column chunk at offset %lld of %lld bytes is outside the file's data (%zu bytes)",
                       (long long)start, (long long)size, r->footer_start);
    /* the chunk's bytes: in the file in memory, or read now (exactly its range) */
    const uint8_t *d;
    if (r->data) {
        d = r->data + start;
    } else {
        uint8_t *buf = firn_arena_alloc(r->scratch, (size_t)size + 1);
        int rc = read_range(r, (uint64_t)start, buf, (size_t)size, c->err);
        if (rc) return rc;
        d = buf;
    }
    int rc0 = scan_pages(c, d, start, (size_t)size);
    if (rc0) return rc0;
    /* memory this chunk will need, checked before anything is allocated */
    uint64_t nrows = c->nrows, lim = r->limits.max_column_bytes;
    if (nrows > lim)
        return FIRN_RAISE(c->err, FIRN_ERR_LIMIT, "row group of %llu rows is above the reader's limit",
                          (unsigned long long)nrows);
    uint64_t need = nrows * (lf->max_def ? 1 : 0);
    if (c->is_ba) need += (nrows + 1) * 8 + nrows * 8 + (lf->conv ? nrows * lf->out_width : 0);
    else need += nrows * lf->out_width + (lf->conv ? nrows * c->pw : 0);
    if (need > lim)
        return FIRN_RAISE(c->err, FIRN_ERR_LIMIT,
                          "column chunk of %llu rows needs %llu bytes, above the reader's limit of %llu",
                          (unsigned long long)nrows, (unsigned long long)need, (unsigned long long)lim);
    size_t n = c->nrows;
    if (lf->max_def > 0) c->valid = firn_arena_alloc(arena, n ? n : 1);
    int64_t *offsets = NULL;
    uint8_t *values = NULL;
    if (c->is_ba) {
        if (lf->conv == CONV_NONE) {
            offsets = firn_arena_alloc(arena, (n + 1) * sizeof *offsets);
            c->lens = offsets + 1;
        } else {
            c->lens = firn_arena_alloc(r->scratch, (n ? n : 1) * sizeof *c->lens);
        }
        c->srcs = firn_arena_alloc(r->scratch, (n ? n : 1) * sizeof *c->srcs);
    } else {
        values = firn_arena_alloc(arena, n * lf->out_width + 16);
        c->phys = lf->conv == CONV_NONE ? values : firn_arena_alloc(r->scratch, n * c->pw + 16);
    }

    size_t pos = 0, end = (size_t)size;
    bool seen_data = false;
    while (c->row < c->nrows) {
        c->page_off = start + (int64_t)pos;
        if (pos >= end)
            return corrupt(c, "column chunk ends after %zu of its %zu rows", c->row, c->nrows);
        pq_page_header ph;
        size_t hl;
        int rc = pq_decode_page_header(d + pos, end - pos, &ph, &hl, c->err);
        if (rc) return rc;
        if (ph.compressed_page_size < 0 || ph.uncompressed_page_size < 0)
            return corrupt(c, "page sizes %d / %d are negative", ph.compressed_page_size,
                           ph.uncompressed_page_size);
        size_t blen = (size_t)ph.compressed_page_size;
        if (blen > end - pos - hl)
            return corrupt(c, "page of %zu bytes runs past the end of the column chunk (%zu bytes left)", blen,
                           end - pos - hl);
        if ((uint64_t)ph.uncompressed_page_size > r->limits.max_page_bytes)
            return FIRN_RAISE(c->err, FIRN_ERR_CORRUPT,
                              "page claims %d bytes uncompressed, above the reader's limit of %llu",
                              ph.uncompressed_page_size, (unsigned long long)r->limits.max_page_bytes);
        const uint8_t *body = d + pos + hl;
        pos += hl + blen;
        switch (ph.type) {
        case PQ_PAGE_DICTIONARY:
            if (!ph.has_dictionary_page_header) return corrupt(c, "dictionary page without its header");
            if (c->has_dict || seen_data) return corrupt(c, "dictionary page after data pages or twice");
            rc = read_dictionary(c, &ph, body, blen);
            break;
        case PQ_PAGE_DATA:
            if (!ph.has_data_page_header) return corrupt(c, "data page without its header");
            seen_data = true;
            rc = read_data_v1(c, &ph, body, blen);
            break;
        case PQ_PAGE_DATA_V2:
            if (!ph.has_data_page_header_v2) return corrupt(c, "data page v2 without its header");
            seen_data = true;
            rc = read_data_v2(c, &ph, body, blen);
            break;
        default: /* index pages and page types from the future: skip */
            break;
        }
        if (rc) return rc;
    }

    memset(out, 0, sizeof *out);
    out->validity = c->nulls ? c->valid : NULL;
    if (c->is_ba && lf->conv == CONV_NONE) {
        offsets[0] = 0;
        int64_t acc = 0;
        for (size_t i = 0; i < n; i++) {
            acc += offsets[i + 1];
            offsets[i + 1] = acc;
        }
        uint8_t *data = firn_arena_alloc(arena, (size_t)acc + 16);
        gather(data, offsets, c->srcs, n);
        out->offsets = offsets;
        out->data = data;
        return 0;
    }
    if (c->is_ba) {
        values = firn_arena_alloc(arena, n * lf->out_width + 16);
        int rc = convert_ba_decimal(c, values);
        if (rc) return rc;
    } else if (lf->conv != CONV_NONE) {
        int rc = convert_fixed(c, values);
        if (rc) return rc;
    }
    out->values = values;
    return 0;
}

int firn_pq_reader_read_column(firn_pq_reader *r, size_t rg, size_t col, firn_arena *arena,
                               firn_pq_column_data *out, firn_error *err) {
    memset(out, 0, sizeof *out);
    if (rg >= r->md.nrow_groups || col >= r->nleaves) {
        int rc = FIRN_RAISE(err, FIRN_ERR_INVALID,
                            "row group %zu / column %zu out of range (%u row groups, %zu columns)", rg, col,
                            r->md.nrow_groups, r->nleaves);
        firn_error_context(err, "%s", where(r));
        return rc;
    }
    const pq_leaf *lf = &r->leaves[col];
    if (!lf->desc.supported) {
        int rc = FIRN_RAISE(err, lf->bad_kind, "column '%s' cannot be read: %s", lf->desc.path,
                            lf->bad_reason);
        firn_error_context(err, "%s", where(r));
        return rc;
    }
    const pq_column_chunk *cc = &r->md.row_groups[rg].columns[col];
    chunk_rd c = {.r = r, .lf = lf, .cm = &cc->meta_data, .err = err, .page_off = -1,
                  .nrows = (size_t)r->md.row_groups[rg].num_rows, .pw = lf->phys_width,
                  .is_ba = lf->el->type == PQ_BYTE_ARRAY};
    int rc;
    if (cc->has_file_path)
        rc = FIRN_RAISE(err, FIRN_ERR_UNSUPPORTED, "column chunk stored in another file is not supported");
    else if (!cc->has_meta_data)
        rc = FIRN_RAISE(err, FIRN_ERR_UNSUPPORTED, "column chunk has no metadata (encrypted column?)");
    else
        rc = read_chunk(&c, arena, out);
    firn_arena_recycle(r->scratch);
    if (rc) {
        memset(out, 0, sizeof *out);
        if (c.page_off >= 0)
            annotate(err, rc, "column '%s', row group %zu, page at offset %lld", lf->desc.path, rg,
                     (long long)c.page_off);
        else
            annotate(err, rc, "column '%s', row group %zu", lf->desc.path, rg);
        firn_error_context(err, "%s", where(r));
    }
    return rc;
}

/* ------------------------------------------------------ statistics */

typedef enum { SV_INT, SV_DBL, SV_BYTES, SV_DEC_BYTES } sv_kind;

typedef struct stat_val {
    sv_kind kind;
    int64_t i;
    double d;
    const uint8_t *b;
    size_t len;
    uint8_t wide[16]; /* SV_DEC_BYTES: sign-extended to 16 bytes */
} stat_val;

static sv_kind kind_of(const pq_leaf *lf) {
    switch (lf->desc.type) {
    case FIRN_PQ_FLOAT:
    case FIRN_PQ_DOUBLE: return SV_DBL;
    case FIRN_PQ_STRING:
    case FIRN_PQ_BINARY:
    case FIRN_PQ_UUID:
    case FIRN_PQ_FIXED: return SV_BYTES;
    case FIRN_PQ_DECIMAL: return lf->desc.precision > 18 ? SV_DEC_BYTES : SV_INT;
    default: return SV_INT;
    }
}

static bool widen16(const uint8_t *b, size_t len, uint8_t out[16]) {
    return dec_from_be(b, len, out, 16, false);
}

/* A statistics value (PLAIN, byte arrays without length) in the column's
 * output domain. False when it cannot be used. */
static bool stat_decode(const pq_leaf *lf, pq_bytes raw, stat_val *v) {
    memset(v, 0, sizeof *v);
    v->kind = kind_of(lf);
    int pt = lf->el->type;
    const uint8_t *b = raw.ptr;
    size_t n = raw.len;
    switch (lf->conv) {
    case CONV_INT96_NS:
    case CONV_U64_DEC20: return false;
    default: break;
    }
    if (v->kind == SV_BYTES) {
        v->b = b ? b : (const uint8_t *)"";
        v->len = n;
        return true;
    }
    if (v->kind == SV_DEC_BYTES) {
        if (pt == PQ_INT32 || pt == PQ_INT64) {
            if (n != (pt == PQ_INT32 ? 4u : 8u)) return false;
            int64_t x = pt == PQ_INT32 ? (int64_t)(int32_t)firn_load_le32(b) : (int64_t)firn_load_le64(b);
            uint8_t be[8];
            for (int k = 0; k < 8; k++) be[k] = (uint8_t)((uint64_t)x >> (56 - 8 * k));
            if (!widen16(be, 8, v->wide)) return false;
        } else if (!widen16(b, n, v->wide)) {
            return false;
        }
        v->b = v->wide;
        v->len = 16;
        return true;
    }
    if (v->kind == SV_DBL) {
        if (lf->conv == CONV_F16_F32) {
            if (n != 2) return false;
            v->d = half_to_float((uint16_t)(b[0] | b[1] << 8));
        } else if (pt == PQ_FLOAT) {
            if (n != 4) return false;
            float f;
            memcpy(&f, b, 4);
            v->d = f;
        } else {
            if (n != 8) return false;
            memcpy(&v->d, b, 8);
        }
        return !isnan(v->d);
    }
    /* SV_INT */
    switch (pt) {
    case PQ_BOOLEAN:
        if (n < 1) return false;
        v->i = b[0] & 1;
        return true;
    case PQ_INT32:
        if (n != 4) return false;
        v->i = lf->conv == CONV_U32_TO_I64 ? (int64_t)firn_load_le32(b) : (int64_t)(int32_t)firn_load_le32(b);
        if (lf->conv == CONV_I32_MS_US) v->i *= 1000;
        return true;
    case PQ_INT64:
        if (n != 8) return false;
        v->i = (int64_t)firn_load_le64(b);
        if (lf->conv == CONV_I64_MS_US && __builtin_mul_overflow(v->i, 1000, &v->i)) return false;
        return true;
    case PQ_BYTE_ARRAY:
    case PQ_FIXED_LEN_BYTE_ARRAY: { /* decimal with P <= 18 */
        uint8_t o[8];
        if (!dec_from_be(b, n, o, 8, true)) return false;
        memcpy(&v->i, o, 8);
        return true;
    }
    default: return false;
    }
}

/* Deprecated min/max are sorted signed: usable only where that is the
 * column's order too. */
static bool deprecated_ok(const pq_leaf *lf) {
    int pt = lf->el->type;
    if (lf->unsigned_int) return false;
    return pt == PQ_BOOLEAN || pt == PQ_INT32 || pt == PQ_INT64 || pt == PQ_FLOAT || pt == PQ_DOUBLE;
}

static bool stat_bounds(const pq_leaf *lf, const pq_statistics *st, stat_val *lo, stat_val *hi,
                        bool *has_lo, bool *has_hi) {
    *has_lo = *has_hi = false;
    if (st->has_min_value) *has_lo = stat_decode(lf, st->min_value, lo);
    else if (st->has_min && deprecated_ok(lf)) *has_lo = stat_decode(lf, st->min, lo);
    if (st->has_max_value) *has_hi = stat_decode(lf, st->max_value, hi);
    else if (st->has_max && deprecated_ok(lf)) *has_hi = stat_decode(lf, st->max, hi);
    return *has_lo || *has_hi;
}

static int cmp_bytes(const uint8_t *a, size_t an, const uint8_t *b, size_t bn) {
    size_t m = an < bn ? an : bn;
    int c = m ? memcmp(a, b, m) : 0;
    if (c) return c < 0 ? -1 : 1;
    return an < bn ? -1 : an > bn;
}

/* Compare statistic s with the constant v: -1, 0, 1. */
static int sv_cmp(const stat_val *s, const stat_val *v) {
    switch (s->kind) {
    case SV_INT: return s->i < v->i ? -1 : s->i > v->i;
    case SV_DBL: return s->d < v->d ? -1 : s->d > v->d;
    case SV_BYTES: return cmp_bytes(s->b, s->len, v->b, v->len);
    case SV_DEC_BYTES: {
        int sa = (int8_t)s->b[0], sb = (int8_t)v->b[0];
        if (sa != sb) return sa < sb ? -1 : 1;
        int c = memcmp(s->b + 1, v->b + 1, 15);
        return c < 0 ? -1 : c > 0;
    }
    }
    return 0;
}

/* The constant in the column's domain; false when its kind does not fit. */
static bool value_of(const pq_leaf *lf, const firn_pq_value *val, stat_val *v) {
    memset(v, 0, sizeof *v);
    v->kind = kind_of(lf);
    switch (v->kind) {
    case SV_INT:
        if (val->type == FIRN_PQ_FLOAT || val->type == FIRN_PQ_DOUBLE || val->bytes) return false;
        v->i = val->i;
        return true;
    case SV_DBL:
        if (val->type == FIRN_PQ_FLOAT || val->type == FIRN_PQ_DOUBLE) v->d = val->d;
        else if (!val->bytes) v->d = (double)val->i;
        else return false;
        return !isnan(v->d);
    case SV_BYTES:
        if (!val->bytes && val->len) return false;
        v->b = val->bytes ? val->bytes : (const uint8_t *)"";
        v->len = val->len;
        return true;
    case SV_DEC_BYTES:
        if (val->bytes) {
            if (!widen16(val->bytes, val->len, v->wide)) return false;
        } else {
            uint8_t be[8];
            for (int k = 0; k < 8; k++) be[k] = (uint8_t)((uint64_t)val->i >> (56 - 8 * k));
            widen16(be, 8, v->wide);
        }
        v->b = v->wide;
        v->len = 16;
        return true;
    }
    return false;
}

bool firn_pq_reader_row_group_may_match(const firn_pq_reader *r, size_t rg, size_t col,
                                        firn_pq_op op, const firn_pq_value *value) {
    if (rg >= r->md.nrow_groups || col >= r->nleaves) return true;
    const pq_leaf *lf = &r->leaves[col];
    const pq_column_chunk *cc = &r->md.row_groups[rg].columns[col];
    if (!lf->desc.supported || !cc->has_meta_data || !cc->meta_data.has_statistics) return true;
    const pq_statistics *st = &cc->meta_data.statistics;
    int64_t rows = r->md.row_groups[rg].num_rows;
    bool all_null = st->has_null_count && st->null_count >= rows;
    if (rows == 0) return false; /* no rows: nothing matches */
    switch (op) {
    case FIRN_PQ_IS_NULL: return !(st->has_null_count && st->null_count == 0);
    case FIRN_PQ_NOT_NULL: return !all_null;
    default: break;
    }
    if (all_null) return false; /* comparisons with null are never true */
    if (!value) return true;
    stat_val lo, hi, v;
    bool has_lo, has_hi;
    if (!value_of(lf, value, &v)) return true;
    if (!stat_bounds(lf, st, &lo, &hi, &has_lo, &has_hi)) return true;
    switch (op) {
    case FIRN_PQ_EQ:
        if (has_lo && sv_cmp(&lo, &v) > 0) return false;
        if (has_hi && sv_cmp(&hi, &v) < 0) return false;
        return true;
    case FIRN_PQ_NE:
        /* only when every value equals v; floats' -0/+0 make this unsafe */
        if (lo.kind == SV_DBL) return true;
        if (has_lo && has_hi && sv_cmp(&lo, &v) == 0 && sv_cmp(&hi, &v) == 0) return false;
        return true;
    case FIRN_PQ_LT: return !(has_lo && sv_cmp(&lo, &v) >= 0);
    case FIRN_PQ_LE: return !(has_lo && sv_cmp(&lo, &v) > 0);
    case FIRN_PQ_GT: return !(has_hi && sv_cmp(&hi, &v) <= 0);
    case FIRN_PQ_GE: return !(has_hi && sv_cmp(&hi, &v) < 0);
    default: return true;
    }
}

static void stat_to_value(const pq_leaf *lf, const stat_val *s, firn_pq_value *v, pq_bytes raw) {
    memset(v, 0, sizeof *v);
    v->type = lf->desc.type;
    switch (s->kind) {
    case SV_INT: v->i = s->i; break;
    case SV_DBL: v->d = s->d; break;
    case SV_BYTES: v->bytes = s->b; v->len = s->len; break;
    case SV_DEC_BYTES: /* the footer's own bytes: stable while the reader lives */
        if (lf->el->type == PQ_INT32 || lf->el->type == PQ_INT64) {
            v->i = lf->el->type == PQ_INT32 ? (int64_t)(int32_t)firn_load_le32(raw.ptr)
                                            : (int64_t)firn_load_le64(raw.ptr);
        } else {
            v->bytes = raw.ptr;
            v->len = raw.len;
        }
        break;
    }
}

int firn_pq_reader_chunk_info(const firn_pq_reader *r, size_t rg, size_t col,
                              firn_pq_chunk_info *info, firn_error *err) {
    memset(info, 0, sizeof *info);
    if (rg >= r->md.nrow_groups || col >= r->nleaves)
        return FIRN_RAISE(err, FIRN_ERR_INVALID, "row group %zu / column %zu out of range", rg, col);
    const pq_column_chunk *cc = &r->md.row_groups[rg].columns[col];
    if (!cc->has_meta_data)
        return FIRN_RAISE(err, FIRN_ERR_UNSUPPORTED, "column chunk has no metadata (encrypted column?)");
    const pq_column_meta_data *cm = &cc->meta_data;
    info->codec = cm->codec;
    info->encodings = cm->encodings;
    info->nencodings = cm->nencodings;
    info->num_values = cm->num_values;
    info->compressed_size = cm->total_compressed_size;
    info->uncompressed_size = cm->total_uncompressed_size;
    info->data_page_offset = cm->data_page_offset;
    info->dictionary_page_offset = cm->has_dictionary_page_offset ? cm->dictionary_page_offset : -1;
    if (!cm->has_statistics) return 0;
    const pq_statistics *st = &cm->statistics;
    info->has_null_count = st->has_null_count;
    info->null_count = st->null_count;
    const pq_leaf *lf = &r->leaves[col];
    if (!lf->desc.supported) return 0;
    stat_val lo, hi;
    bool has_lo, has_hi;
    stat_bounds(lf, st, &lo, &hi, &has_lo, &has_hi);
    pq_bytes rlo = st->has_min_value ? st->min_value : st->min;
    pq_bytes rhi = st->has_max_value ? st->max_value : st->max;
    if (has_lo) stat_to_value(lf, &lo, &info->min, rlo);
    if (has_hi) stat_to_value(lf, &hi, &info->max, rhi);
    info->has_min = has_lo;
    info->has_max = has_hi;
    return 0;
}
