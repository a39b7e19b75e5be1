/* schema.c - parse Avro schema JSON into a graph of nodes that keeps every attribute. */
#include "avro/avro_internal.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct firn_avro_schema {
    char *text; /* as given, NUL-terminated */
    size_t text_len;
    json_t *json;
    firn_arena arena; /* nodes, fields, names */
    const firn_avro_node *root;
    avro_node_priv **nodes; /* every node, for whole-schema passes */
    size_t nnodes, nodes_cap;
    avro_node_priv **named; /* records, enums, fixed by full name */
    size_t nnamed, named_cap;
    avro_node_priv *prim[FIRN_AVRO_STRING + 1]; /* bare primitive names, one node each */
};

static const char *const type_names[] = {
    [FIRN_AVRO_NULL] = "null",     [FIRN_AVRO_BOOLEAN] = "boolean", [FIRN_AVRO_INT] = "int",
    [FIRN_AVRO_LONG] = "long",     [FIRN_AVRO_FLOAT] = "float",     [FIRN_AVRO_DOUBLE] = "double",
    [FIRN_AVRO_BYTES] = "bytes",   [FIRN_AVRO_STRING] = "string",   [FIRN_AVRO_FIXED] = "fixed",
    [FIRN_AVRO_ENUM] = "enum",     [FIRN_AVRO_RECORD] = "record",   [FIRN_AVRO_ARRAY] = "array",
    [FIRN_AVRO_MAP] = "map",       [FIRN_AVRO_UNION] = "union",     [FIRN_AVRO_ABSENT] = "absent",
};

const char *firn_avro_type_name(firn_avro_type type) {
    if ((unsigned)type < sizeof type_names / sizeof type_names[0]) return type_names[type];
    return "invalid";
}

/* ------------------------------------------------------------------ parser */

typedef struct parser {
    firn_avro_schema *s;
    bool strict;
    firn_error *err;
    /* record and field names down to here: two per nesting level at most */
    const char *path[2 * FIRN_AVRO_MAX_DEPTH + 4];
    int npath;
} parser;

static int perr(parser *p, firn_err_kind kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int perr(parser *p, firn_err_kind kind, const char *fmt, ...) {
    char msg[256], where[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    size_t w = 0;
    where[0] = '\0';
    for (int i = 0; i < p->npath && w < sizeof where - 1; i++) {
        int n = snprintf(where + w, sizeof where - w, "%s%s", i ? "." : "", p->path[i]);
        if (n < 0) break;
        w += (size_t)n;
    }
    if (w >= sizeof where) w = sizeof where - 1;
    if (p->npath)
        return FIRN_RAISE(p->err, kind, "avro schema: at %s: %s", where, msg);
    return FIRN_RAISE(p->err, kind, "avro schema: %s", msg);
}

static avro_node_priv *new_node(parser *p, firn_avro_type type, json_t *json) {
    firn_avro_schema *s = p->s;
    avro_node_priv *n = firn_arena_calloc(&s->arena, sizeof *n);
    n->pub.type = type;
    n->pub.json = json;
    n->pub.encoded_size = -1;
    if (s->nnodes == s->nodes_cap) {
        s->nodes_cap = s->nodes_cap ? 2 * s->nodes_cap : 32;
        s->nodes = firn_xrealloc(s->nodes, s->nodes_cap * sizeof *s->nodes);
    }
    s->nodes[s->nnodes++] = n;
    return n;
}

static int primitive_type(const char *name) {
    for (int t = FIRN_AVRO_NULL; t <= FIRN_AVRO_STRING; t++)
        if (strcmp(name, type_names[t]) == 0) return t;
    return -1;
}

static bool valid_name(const char *s, size_t n) {
    if (n == 0) return false;
    if (!(s[0] == '_' || (s[0] >= 'A' && s[0] <= 'Z') || (s[0] >= 'a' && s[0] <= 'z')))
        return false;
    for (size_t i = 1; i < n; i++) {
        char c = s[i];
        if (!(c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
              (c >= '0' && c <= '9')))
            return false;
    }
    return true;
}

/* A dotted name: every component a valid name (an empty string is the null namespace). */
static bool valid_dotted(const char *s, bool allow_empty) {
    if (!*s) return allow_empty;
    for (;;) {
        const char *dot = strchr(s, '.');
        size_t n = dot ? (size_t)(dot - s) : strlen(s);
        if (!valid_name(s, n)) return false;
        if (!dot) return true;
        s = dot + 1;
    }
}

static avro_node_priv *find_named(const firn_avro_schema *s, const char *fullname) {
    for (size_t i = 0; i < s->nnamed; i++)
        if (strcmp(s->named[i]->pub.name, fullname) == 0) return s->named[i];
    return NULL;
}

static char *join_name(firn_arena *a, const char *ns, const char *name) {
    if (!ns || !*ns) return firn_arena_strdup(a, name);
    size_t n1 = strlen(ns), n2 = strlen(name);
    char *r = firn_arena_alloc(a, n1 + n2 + 2);
    memcpy(r, ns, n1);
    r[n1] = '.';
    memcpy(r + n1 + 1, name, n2 + 1);
    return r;
}

/* A reference to a named type from inside namespace ns. */
static avro_node_priv *resolve_named(parser *p, const char *name, const char *ns) {
    if (strchr(name, '.')) return find_named(p->s, name);
    if (ns && *ns) {
        char buf[512];
        int n = snprintf(buf, sizeof buf, "%s.%s", ns, name);
        if (n > 0 && (size_t)n < sizeof buf) {
            avro_node_priv *hit = find_named(p->s, buf);
            if (hit) return hit;
        }
    }
    return find_named(p->s, name);
}

/* Name a record, enum or fixed from its JSON object and register it. *ns_out
 * gets the namespace its own fields resolve in. */
static int define_named(parser *p, avro_node_priv *n, json_t *j, const char *enclosing,
                        const char **ns_out) {
    firn_avro_schema *s = p->s;
    json_t *jname = json_object_get(j, "name");
    if (!json_is_string(jname))
        return perr(p, FIRN_ERR_INVALID, "%s without a \"name\"",
                    firn_avro_type_name(n->pub.type));
    const char *name = json_string_value(jname);
    const char *ns;
    char *full;
    const char *dot = strrchr(name, '.');
    if (dot) {
        full = firn_arena_strdup(&s->arena, name);
        ns = firn_arena_strndup(&s->arena, name, (size_t)(dot - name));
    } else {
        json_t *jns = json_object_get(j, "namespace");
        ns = json_is_string(jns) ? json_string_value(jns) : enclosing;
        full = join_name(&s->arena, ns, name);
    }
    if (p->strict) {
        if (!valid_dotted(full, false) || !valid_dotted(ns ? ns : "", true))
            return perr(p, FIRN_ERR_INVALID,
                        "invalid name '%s' (names are [A-Za-z_][A-Za-z0-9_]*, dot-separated)",
                        full);
        const char *last = strrchr(full, '.');
        if (primitive_type(last ? last + 1 : full) >= 0)
            return perr(p, FIRN_ERR_INVALID, "a named type may not be called '%s'", full);
    }
    if (find_named(s, full)) return perr(p, FIRN_ERR_INVALID, "type '%s' is defined twice", full);
    n->pub.name = full;
    if (s->nnamed == s->named_cap) {
        s->named_cap = s->named_cap ? 2 * s->named_cap : 16;
        s->named = firn_xrealloc(s->named, s->named_cap * sizeof *s->named);
    }
    s->named[s->nnamed++] = n;
    *ns_out = ns;
    return 0;
}

/* An optional integer id attribute (field-id, element-id, key-id, value-id). */
static int id_attr(parser *p, json_t *j, const char *key, int32_t *id, bool *has) {
    json_t *v = json_object_get(j, key);
    *has = false;
    if (!v) return 0;
    if (!json_is_integer(v) || json_integer_value(v) < INT32_MIN ||
        json_integer_value(v) > INT32_MAX) {
        if (!p->strict) return 0;
        return perr(p, FIRN_ERR_INVALID, "\"%s\" must be a 32-bit integer", key);
    }
    *id = (int32_t)json_integer_value(v);
    *has = true;
    return 0;
}

static int parse_type(parser *p, json_t *j, const char *ns, int depth,
                      const firn_avro_node **out);

static int parse_record(parser *p, avro_node_priv *n, json_t *j, const char *ns, int depth) {
    firn_avro_schema *s = p->s;
    json_t *jfields = json_object_get(j, "fields");
    if (!json_is_array(jfields)) return perr(p, FIRN_ERR_INVALID, "record without \"fields\"");
    size_t nf = json_array_size(jfields);
    firn_avro_field *fields = firn_arena_calloc(&s->arena, (nf ? nf : 1) * sizeof *fields);
    n->pub.fields = fields;
    n->pub.nfields = nf;
    n->field_proj = firn_arena_calloc(&s->arena, nf ? nf : 1);
    for (size_t i = 0; i < nf; i++) {
        json_t *jf = json_array_get(jfields, i);
        firn_avro_field *f = &fields[i];
        json_t *jname = json_object_get(jf, "name");
        if (!json_is_object(jf) || !json_is_string(jname))
            return perr(p, FIRN_ERR_INVALID, "field %zu has no \"name\"", i);
        f->name = json_string_value(jname);
        f->json = jf;
        if (p->strict && !valid_name(f->name, strlen(f->name)))
            return perr(p, FIRN_ERR_INVALID, "invalid field name '%s'", f->name);
        for (size_t k = 0; k < i; k++)
            if (strcmp(fields[k].name, f->name) == 0)
                return perr(p, FIRN_ERR_INVALID, "field '%s' appears twice", f->name);
        json_t *jtype = json_object_get(jf, "type");
        if (!jtype) return perr(p, FIRN_ERR_INVALID, "field '%s' has no \"type\"", f->name);
        f->default_value = json_object_get(jf, "default");
        int rc = id_attr(p, jf, "field-id", &f->field_id, &f->has_field_id);
        if (rc) return rc;
        p->path[p->npath++] = f->name;
        rc = parse_type(p, jtype, ns, depth + 1, &f->type);
        p->npath--;
        if (rc) return rc;
    }
    return 0;
}

static int parse_enum(parser *p, avro_node_priv *n, json_t *j) {
    json_t *jsyms = json_object_get(j, "symbols");
    if (!json_is_array(jsyms)) return perr(p, FIRN_ERR_INVALID, "enum without \"symbols\"");
    size_t ns = json_array_size(jsyms);
    const char **syms = firn_arena_calloc(&p->s->arena, (ns ? ns : 1) * sizeof *syms);
    for (size_t i = 0; i < ns; i++) {
        json_t *js = json_array_get(jsyms, i);
        if (!json_is_string(js)) return perr(p, FIRN_ERR_INVALID, "enum symbol %zu is not a string", i);
        syms[i] = json_string_value(js);
        if (p->strict) {
            if (!valid_name(syms[i], strlen(syms[i])))
                return perr(p, FIRN_ERR_INVALID, "invalid enum symbol '%s'", syms[i]);
            for (size_t k = 0; k < i; k++)
                if (strcmp(syms[k], syms[i]) == 0)
                    return perr(p, FIRN_ERR_INVALID, "enum symbol '%s' appears twice", syms[i]);
        }
    }
    n->pub.symbols = syms;
    n->pub.nsymbols = ns;
    return 0;
}

static int parse_union(parser *p, json_t *j, const char *ns, int depth,
                       const firn_avro_node **out) {
    avro_node_priv *n = new_node(p, FIRN_AVRO_UNION, NULL);
    size_t nb = json_array_size(j);
    const firn_avro_node **br = firn_arena_calloc(&p->s->arena, (nb ? nb : 1) * sizeof *br);
    for (size_t i = 0; i < nb; i++) {
        int rc = parse_type(p, json_array_get(j, i), ns, depth + 1, &br[i]);
        if (rc) return rc;
        if (!p->strict) continue;
        if (br[i]->type == FIRN_AVRO_UNION)
            return perr(p, FIRN_ERR_INVALID, "a union may not contain a union");
        for (size_t k = 0; k < i; k++) {
            bool named = br[i]->name != NULL;
            if (br[k]->type == br[i]->type &&
                (!named || (br[k]->name && strcmp(br[k]->name, br[i]->name) == 0)))
                return perr(p, FIRN_ERR_INVALID, "union has two branches of type %s",
                            named ? br[i]->name : firn_avro_type_name(br[i]->type));
        }
    }
    n->pub.branches = br;
    n->pub.nbranches = nb;
    *out = &n->pub;
    return 0;
}

static int parse_object(parser *p, json_t *j, const char *ns, int depth,
                        const firn_avro_node **out) {
    json_t *jtype = json_object_get(j, "type");
    if (!jtype) return perr(p, FIRN_ERR_INVALID, "type object without \"type\"");
    if (!json_is_string(jtype)) return parse_type(p, jtype, ns, depth + 1, out);
    const char *t = json_string_value(jtype);
    avro_node_priv *n;
    int prim = primitive_type(t);
    int rc = 0;
    if (prim >= 0) {
        n = new_node(p, (firn_avro_type)prim, j);
    } else if (strcmp(t, "record") == 0 || strcmp(t, "error") == 0) {
        n = new_node(p, FIRN_AVRO_RECORD, j);
        const char *inner_ns;
        if ((rc = define_named(p, n, j, ns, &inner_ns))) return rc;
        p->path[p->npath++] = n->pub.name;
        rc = parse_record(p, n, j, inner_ns, depth);
        p->npath--;
    } else if (strcmp(t, "enum") == 0) {
        n = new_node(p, FIRN_AVRO_ENUM, j);
        const char *inner_ns;
        if ((rc = define_named(p, n, j, ns, &inner_ns))) return rc;
        rc = parse_enum(p, n, j);
    } else if (strcmp(t, "fixed") == 0) {
        n = new_node(p, FIRN_AVRO_FIXED, j);
        const char *inner_ns;
        if ((rc = define_named(p, n, j, ns, &inner_ns))) return rc;
        json_t *jsize = json_object_get(j, "size");
        if (!json_is_integer(jsize) || json_integer_value(jsize) < 0 ||
            json_integer_value(jsize) > INT32_MAX)
            return perr(p, FIRN_ERR_INVALID, "fixed '%s' needs a \"size\" from 0 to 2^31-1",
                        n->pub.name);
        n->pub.size = (size_t)json_integer_value(jsize);
    } else if (strcmp(t, "array") == 0) {
        n = new_node(p, FIRN_AVRO_ARRAY, j);
        json_t *ji = json_object_get(j, "items");
        if (!ji) return perr(p, FIRN_ERR_INVALID, "array without \"items\"");
        if ((rc = id_attr(p, j, "element-id", &n->pub.element_id, &n->pub.has_element_id)))
            return rc;
        rc = parse_type(p, ji, ns, depth + 1, &n->pub.items);
    } else if (strcmp(t, "map") == 0) {
        n = new_node(p, FIRN_AVRO_MAP, j);
        json_t *jv = json_object_get(j, "values");
        if (!jv) return perr(p, FIRN_ERR_INVALID, "map without \"values\"");
        if ((rc = id_attr(p, j, "key-id", &n->pub.key_id, &n->pub.has_key_id))) return rc;
        if ((rc = id_attr(p, j, "value-id", &n->pub.value_id, &n->pub.has_value_id))) return rc;
        rc = parse_type(p, jv, ns, depth + 1, &n->pub.values);
    } else {
        /* {"type": "SomeRecord"}: a reference written as an object */
        avro_node_priv *ref = resolve_named(p, t, ns);
        if (!ref) return perr(p, FIRN_ERR_INVALID, "unknown type '%s'", t);
        *out = &ref->pub;
        return 0;
    }
    if (rc) return rc;
    json_t *lt = json_object_get(j, "logicalType");
    if (json_is_string(lt)) n->pub.logical_type = json_string_value(lt);
    *out = &n->pub;
    return 0;
}

static int parse_type(parser *p, json_t *j, const char *ns, int depth,
                      const firn_avro_node **out) {
    if (depth > FIRN_AVRO_MAX_DEPTH)
        return perr(p, FIRN_ERR_LIMIT, "schema nested deeper than %d levels", FIRN_AVRO_MAX_DEPTH);
    if (json_is_string(j)) {
        const char *name = json_string_value(j);
        int prim = primitive_type(name);
        if (prim >= 0) {
            if (!p->s->prim[prim]) p->s->prim[prim] = new_node(p, (firn_avro_type)prim, NULL);
            *out = &p->s->prim[prim]->pub;
            return 0;
        }
        avro_node_priv *ref = resolve_named(p, name, ns);
        if (!ref) return perr(p, FIRN_ERR_INVALID, "unknown type '%s'", name);
        *out = &ref->pub;
        return 0;
    }
    if (json_is_array(j)) return parse_union(p, j, ns, depth, out);
    if (json_is_object(j)) return parse_object(p, j, ns, depth, out);
    return perr(p, FIRN_ERR_INVALID, "a type must be a name, an object or an array");
}

/* Exact encoded sizes, bottom-up; a node on a cycle is variable (-1). */
static int64_t compute_size(avro_node_priv *n) {
    if (n->mark == 2) return n->pub.encoded_size;
    if (n->mark == 1) return -1;
    n->mark = 1;
    int64_t size = -1;
    switch (n->pub.type) {
    case FIRN_AVRO_NULL: size = 0; break;
    case FIRN_AVRO_BOOLEAN: size = 1; break;
    case FIRN_AVRO_FLOAT: size = 4; break;
    case FIRN_AVRO_DOUBLE: size = 8; break;
    case FIRN_AVRO_FIXED: size = (int64_t)n->pub.size; break;
    case FIRN_AVRO_RECORD:
        size = 0;
        for (size_t i = 0; i < n->pub.nfields; i++) {
            int64_t f = compute_size(avro_priv(n->pub.fields[i].type));
            if (f < 0 || size < 0 || f > INT64_MAX / 2 - size) size = -1;
            else size += f;
        }
        break;
    default:
        size = -1;
        break;
    }
    n->pub.encoded_size = size;
    n->mark = 2;
    return size;
}

firn_avro_schema *firn_avro_schema_parse_mode(const char *json, size_t len, bool strict,
                                              firn_error *err) {
    if (!json) {
        FIRN_RAISE(err, FIRN_ERR_INVALID, "avro schema: no schema given");
        return NULL;
    }
    json_error_t jerr;
    json_t *root = json_loadb(json, len, JSON_DECODE_ANY, &jerr);
    if (!root) {
        FIRN_RAISE(err, FIRN_ERR_INVALID, "avro schema: invalid JSON at line %d column %d: %s",
                   jerr.line, jerr.column, jerr.text);
        return NULL;
    }
    firn_avro_schema *s = firn_xcalloc(1, sizeof *s);
    s->json = root;
    s->text = firn_xmalloc(len + 1);
    memcpy(s->text, json, len);
    s->text[len] = '\0';
    s->text_len = len;
    firn_arena_init(&s->arena, 16 * 1024);
    parser p = {.s = s, .strict = strict, .err = err};
    if (parse_type(&p, root, "", 0, &s->root) != 0) {
        firn_avro_schema_free(s);
        return NULL;
    }
    for (size_t i = 0; i < s->nnodes; i++) compute_size(s->nodes[i]);
    return s;
}

firn_avro_schema *firn_avro_schema_parse(const char *json, size_t len, firn_error *err) {
    return firn_avro_schema_parse_mode(json, len, true, err);
}

void firn_avro_schema_free(firn_avro_schema *s) {
    if (!s) return;
    json_decref(s->json);
    free(s->text);
    free(s->nodes);
    free(s->named);
    firn_arena_release(&s->arena);
    free(s);
}

const firn_avro_node *firn_avro_schema_root(const firn_avro_schema *s) { return s->root; }

const char *firn_avro_schema_json(const firn_avro_schema *s, size_t *len) {
    if (len) *len = s->text_len;
    return s->text;
}

const firn_avro_node *firn_avro_schema_find(const firn_avro_schema *s, const char *fullname) {
    avro_node_priv *n = find_named(s, fullname);
    return n ? &n->pub : NULL;
}

/* ------------------------------------------------------------- projection */

static bool id_listed(const int32_t *ids, size_t n, int32_t id) {
    for (size_t i = 0; i < n; i++)
        if (ids[i] == id) return true;
    return false;
}

static bool below(const firn_avro_node *n) { return avro_priv(n)->proj_below; }

void firn_avro_schema_project(firn_avro_schema *s, const int32_t *ids, size_t n) {
    for (size_t i = 0; i < s->nnodes; i++) {
        avro_node_priv *node = s->nodes[i];
        node->proj_below = false;
        for (size_t f = 0; f < node->pub.nfields; f++) {
            const firn_avro_field *fl = &node->pub.fields[f];
            node->field_proj[f] =
                n && fl->has_field_id && id_listed(ids, n, fl->field_id) ? AVRO_PROJ_SELECTED : 0;
        }
    }
    if (!n) return;
    /* "something selected at or below": iterate to a fixpoint (the graph may have cycles) */
    for (bool changed = true; changed;) {
        changed = false;
        for (size_t i = 0; i < s->nnodes; i++) {
            avro_node_priv *node = s->nodes[i];
            if (node->proj_below) continue;
            const firn_avro_node *pub = &node->pub;
            bool b = false;
            switch (pub->type) {
            case FIRN_AVRO_RECORD:
                for (size_t f = 0; f < pub->nfields && !b; f++)
                    b = (node->field_proj[f] & AVRO_PROJ_SELECTED) || below(pub->fields[f].type);
                break;
            case FIRN_AVRO_ARRAY: b = below(pub->items); break;
            case FIRN_AVRO_MAP: b = below(pub->values); break;
            case FIRN_AVRO_UNION:
                for (size_t k = 0; k < pub->nbranches && !b; k++) b = below(pub->branches[k]);
                break;
            default: break;
            }
            if (b) {
                node->proj_below = true;
                changed = true;
            }
        }
    }
    for (size_t i = 0; i < s->nnodes; i++) {
        avro_node_priv *node = s->nodes[i];
        for (size_t f = 0; f < node->pub.nfields; f++)
            if (!(node->field_proj[f] & AVRO_PROJ_SELECTED) && below(node->pub.fields[f].type))
                node->field_proj[f] = AVRO_PROJ_LEADS;
    }
}

/* ------------------------------------------------------------- accessors */

json_t *firn_avro_node_attr(const firn_avro_node *node, const char *key) {
    return node && node->json ? json_object_get(node->json, key) : NULL;
}

json_t *firn_avro_field_attr(const firn_avro_field *field, const char *key) {
    return field && field->json ? json_object_get(field->json, key) : NULL;
}

const firn_avro_field *firn_avro_node_field(const firn_avro_node *record, const char *name,
                                            size_t *index) {
    if (!record || record->type != FIRN_AVRO_RECORD) return NULL;
    for (size_t i = 0; i < record->nfields; i++)
        if (strcmp(record->fields[i].name, name) == 0) {
            if (index) *index = i;
            return &record->fields[i];
        }
    return NULL;
}

const firn_avro_field *firn_avro_node_field_by_id(const firn_avro_node *record, int32_t field_id,
                                                  size_t *index) {
    if (!record || record->type != FIRN_AVRO_RECORD) return NULL;
    for (size_t i = 0; i < record->nfields; i++)
        if (record->fields[i].has_field_id && record->fields[i].field_id == field_id) {
            if (index) *index = i;
            return &record->fields[i];
        }
    return NULL;
}

const firn_avro_node *firn_avro_node_optional(const firn_avro_node *node) {
    if (!node || node->type != FIRN_AVRO_UNION || node->nbranches != 2) return NULL;
    if (node->branches[0]->type == FIRN_AVRO_NULL && node->branches[1]->type != FIRN_AVRO_NULL)
        return node->branches[1];
    if (node->branches[1]->type == FIRN_AVRO_NULL && node->branches[0]->type != FIRN_AVRO_NULL)
        return node->branches[0];
    return NULL;
}

/* ------------------------------------------------------------------ values */

firn_avro_value *firn_avro_values_new(firn_arena *arena, size_t n) {
    return firn_arena_calloc(arena, (n ? n : 1) * sizeof(firn_avro_value));
}

firn_avro_value firn_avro_record_new(firn_arena *arena, const firn_avro_node *record) {
    size_t n = record && record->type == FIRN_AVRO_RECORD ? record->nfields : 0;
    return firn_avro_record(firn_avro_values_new(arena, n), n);
}

const firn_avro_value *firn_avro_value_field(const firn_avro_value *record,
                                             const firn_avro_node *record_node,
                                             const char *name) {
    size_t i;
    if (!record || record->type != FIRN_AVRO_RECORD) return NULL;
    if (!firn_avro_node_field(record_node, name, &i) || i >= record->u.record.count) return NULL;
    return &record->u.record.fields[i];
}
