/* avro_internal.h - what the files of src/avro/ share and nobody else sees. */
#ifndef FIRN_AVRO_INTERNAL_H
#define FIRN_AVRO_INTERNAL_H

#include "avro/avro.h"

/* Projection marks on a record field (avro_node_priv.field_proj). */
#define AVRO_PROJ_SELECTED 1u /* its field-id was asked for: read it whole */
#define AVRO_PROJ_LEADS 2u    /* a field below it was asked for: read it, projected */

/* A schema node with the state firn keeps beside the public part. */
typedef struct avro_node_priv {
    firn_avro_node pub; /* first: a firn_avro_node * is an avro_node_priv * */
    uint8_t mark;        /* traversal state */
    bool proj_below;     /* some field at or below this node is selected */
    uint8_t *field_proj; /* records: AVRO_PROJ_* per field */
} avro_node_priv;

static inline avro_node_priv *avro_priv(const firn_avro_node *n) {
    return (avro_node_priv *)(uintptr_t)n;
}

/* Parse with Avro's naming rules (strict, for writers) or leniently (for
 * reading other writers' files: names are not checked, unions may repeat). */
firn_avro_schema *firn_avro_schema_parse_mode(const char *json, size_t len, bool strict,
                                              firn_error *err);
/* Set the projection marks of every node: field ids ids[0..n). n = 0 clears. */
void firn_avro_schema_project(firn_avro_schema *schema, const int32_t *ids, size_t n);

/* The decoder: one value at a time from [p, end), bounds-checked. */
typedef struct avro_decoder {
    const uint8_t *p, *end;
    firn_arena *arena;
    size_t mem_used, mem_limit;
    int max_depth;
    bool project; /* honour projection marks */
    firn_error *err;
} avro_decoder;

int firn_avro_decode(avro_decoder *d, const firn_avro_node *node, firn_avro_value *out);
/* Lossless promotions the writer accepts: int to long or double, float to double. */
bool firn_avro_promotable(firn_avro_type from, firn_avro_type to);
/* The union branch a value goes to (see firn_avro_value.branch): the branch of
 * the value's type, else one it promotes to losslessly; -1 if none. */
int firn_avro_pick_branch(const firn_avro_node *u, const firn_avro_value *v);

/* Length of the valid UTF-8 character at s (n > 0 bytes available), 0 if invalid. */
size_t firn_avro_utf8_char(const uint8_t *s, size_t n);
bool firn_avro_utf8_valid(const uint8_t *s, size_t n);

/* Block codecs. */
typedef enum avro_codec {
    AVRO_CODEC_NULL,
    AVRO_CODEC_DEFLATE,
    AVRO_CODEC_ZSTD,
    AVRO_CODEC_SNAPPY,
} avro_codec;

/* Codec by its avro.codec name (len bytes); -1 if unknown. */
int firn_avro_codec_lookup(const char *name, size_t len);
const char *firn_avro_codec_name(avro_codec codec);

typedef struct avro_codec_state avro_codec_state; /* reusable (de)compression contexts */
avro_codec_state *firn_avro_codec_state_new(avro_codec codec, int level);
void firn_avro_codec_state_free(avro_codec_state *s);
/* Compress in[0..n) into out (cleared first). */
int firn_avro_compress(avro_codec_state *s, const uint8_t *in, size_t n, firn_buf *out,
                       firn_error *err);
/* Decompress into out (cleared first); more than max bytes is an error. */
int firn_avro_decompress(avro_codec_state *s, const uint8_t *in, size_t n, size_t max,
                         firn_buf *out, firn_error *err);

#endif
