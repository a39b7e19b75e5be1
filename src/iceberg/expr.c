/*
 * expr.c - filter expressions: the --where parser, binding to a schema,
 * row evaluation on columnar batches, inclusive evaluation over value ranges
 * (file metrics, partition values, manifest summaries) and the inclusive
 * projection of row filters onto partition specs (Java's Projections).
 */
#include "iceberg/iceberg_internal.h"
#include "parquet/parquet.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ================================================================ builders */

static firn_ice_expr *node(firn_arena *a, firn_ice_expr_op op) {
    firn_ice_expr *e = firn_arena_calloc(a, sizeof *e);
    e->op = op;
    return e;
}

firn_ice_expr *firn_ice_expr_const(firn_arena *a, bool value) {
    return node(a, value ? FIRN_ICE_EXPR_TRUE : FIRN_ICE_EXPR_FALSE);
}

firn_ice_expr *firn_ice_expr_and(firn_arena *a, firn_ice_expr *l, firn_ice_expr *r) {
    firn_ice_expr *e = node(a, FIRN_ICE_EXPR_AND);
    e->left = l;
    e->right = r;
    return e;
}

firn_ice_expr *firn_ice_expr_or(firn_arena *a, firn_ice_expr *l, firn_ice_expr *r) {
    firn_ice_expr *e = node(a, FIRN_ICE_EXPR_OR);
    e->left = l;
    e->right = r;
    return e;
}

firn_ice_expr *firn_ice_expr_not(firn_arena *a, firn_ice_expr *x) {
    firn_ice_expr *e = node(a, FIRN_ICE_EXPR_NOT);
    e->left = x;
    return e;
}

firn_ice_expr *firn_ice_expr_predicate(firn_arena *a, firn_ice_expr_op op, const char *column,
                                       const firn_ice_literal *literals, size_t nliterals) {
    firn_ice_expr *e = node(a, op);
    e->column = firn_arena_strdup(a, column);
    e->nliterals = nliterals;
    if (nliterals) {
        firn_ice_literal *l = firn_arena_alloc(a, nliterals * sizeof *l);
        for (size_t i = 0; i < nliterals; i++) {
            l[i] = literals[i];
            l[i].text = firn_arena_strndup(a, literals[i].text, literals[i].len);
        }
        e->literals = l;
    }
    return e;
}

static bool is_leaf(firn_ice_expr_op op) { return op >= FIRN_ICE_EXPR_EQ; }

/* ================================================================= parser */

typedef enum tok_kind {
    T_END, T_IDENT, T_STRING, T_NUMBER, T_LPAREN, T_RPAREN, T_COMMA, T_OP,
} tok_kind;

typedef struct tok {
    tok_kind kind;
    const char *p; /* start in text (for strings: after the quote) */
    size_t len;
    size_t pos;    /* 1-based */
    firn_ice_expr_op op; /* T_OP */
    char *unescaped; /* strings with '' or quoted identifiers */
} tok;

typedef struct parser {
    firn_arena *a;
    const char *text;
    size_t len, i;
    tok cur;
    firn_error *err;
    int depth;
} parser;

static int perr(parser *ps, size_t pos, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int perr(parser *ps, size_t pos, const char *fmt, ...) {
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    FIRN_RAISE(ps->err, FIRN_ERR_INVALID, "--where: position %zu: %s", pos, msg);
    firn_error_context(ps->err, "%s", ps->text);
    return -1;
}

static const char *tok_desc(const tok *t, char *buf, size_t n) {
    if (t->kind == T_END) return "the end of the filter";
    int l = t->len > 40 ? 40 : (int)t->len;
    if (t->kind == T_STRING) snprintf(buf, n, "'%.*s'", l, t->p);
    else snprintf(buf, n, "'%.*s'", l, t->p);
    return buf;
}

static int next_tok(parser *ps) {
    const char *s = ps->text;
    while (ps->i < ps->len && isspace((unsigned char)s[ps->i])) ps->i++;
    tok *t = &ps->cur;
    memset(t, 0, sizeof *t);
    t->pos = ps->i + 1;
    t->p = s + ps->i;
    if (ps->i >= ps->len) {
        t->kind = T_END;
        return 0;
    }
    char c = s[ps->i];
    if (c == '(' || c == ')' || c == ',') {
        t->kind = c == '(' ? T_LPAREN : c == ')' ? T_RPAREN : T_COMMA;
        t->len = 1;
        ps->i++;
        return 0;
    }
    if (c == '\'' || c == '"') {
        /* string literal or quoted identifier; a doubled quote stands for one */
        char q = c;
        size_t start = ps->i++;
        firn_buf b;
        firn_buf_init(&b);
        for (;;) {
            if (ps->i >= ps->len) {
                firn_buf_release(&b);
                return perr(ps, start + 1, "unterminated %s", q == '\'' ? "string" : "quoted name");
            }
            if (s[ps->i] == q) {
                if (ps->i + 1 < ps->len && s[ps->i + 1] == q) {
                    firn_buf_put_u8(&b, (uint8_t)q);
                    ps->i += 2;
                    continue;
                }
                ps->i++;
                break;
            }
            firn_buf_put_u8(&b, (uint8_t)s[ps->i++]);
        }
        t->kind = q == '\'' ? T_STRING : T_IDENT;
        t->len = b.len;
        t->p = firn_arena_memdup(ps->a, b.data ? (const void *)b.data : "", b.len + 1);
        ((char *)t->p)[b.len] = '\0';
        firn_buf_release(&b);
        return 0;
    }
    static const struct { const char *s; firn_ice_expr_op op; } ops[] = {
        {"<=", FIRN_ICE_EXPR_LE}, {">=", FIRN_ICE_EXPR_GE}, {"!=", FIRN_ICE_EXPR_NE},
        {"<>", FIRN_ICE_EXPR_NE}, {"==", FIRN_ICE_EXPR_EQ}, {"=", FIRN_ICE_EXPR_EQ},
        {"<", FIRN_ICE_EXPR_LT},  {">", FIRN_ICE_EXPR_GT},
    };
    for (size_t k = 0; k < sizeof ops / sizeof ops[0]; k++) {
        size_t n = strlen(ops[k].s);
        if (ps->i + n <= ps->len && memcmp(s + ps->i, ops[k].s, n) == 0) {
            t->kind = T_OP;
            t->op = ops[k].op;
            t->len = n;
            ps->i += n;
            return 0;
        }
    }
    if (isdigit((unsigned char)c) || ((c == '-' || c == '+' || c == '.') && ps->i + 1 < ps->len &&
                                      (isdigit((unsigned char)s[ps->i + 1]) || s[ps->i + 1] == '.'))) {
        size_t j = ps->i + 1;
        while (j < ps->len && (isalnum((unsigned char)s[j]) || s[j] == '.' ||
                               ((s[j] == '-' || s[j] == '+') && (s[j - 1] == 'e' || s[j - 1] == 'E'))))
            j++;
        t->kind = T_NUMBER;
        t->len = j - ps->i;
        ps->i = j;
        return 0;
    }
    if (isalpha((unsigned char)c) || c == '_') {
        size_t j = ps->i + 1;
        while (j < ps->len && (isalnum((unsigned char)s[j]) || s[j] == '_' || s[j] == '.' || s[j] == '$'))
            j++;
        t->kind = T_IDENT;
        t->len = j - ps->i;
        ps->i = j;
        return 0;
    }
    return perr(ps, ps->i + 1, "unexpected character '%c'", c);
}

/* Keywords are bare identifiers; a quoted identifier is never a keyword. The
 * quoted form's text lives in the arena, so t->p[-1] is not '"' there: mark it. */
static bool quoted_ident(const parser *ps, const tok *t) {
    return t->kind == T_IDENT && ps->text[t->pos - 1] == '"';
}

static bool kw(const parser *ps, const char *w) {
    return !quoted_ident(ps, &ps->cur) && ps->cur.kind == T_IDENT && strlen(w) == ps->cur.len &&
           strncasecmp(ps->cur.p, w, ps->cur.len) == 0;
}

static firn_ice_expr *parse_or(parser *ps);

static int parse_literal(parser *ps, firn_ice_literal *out, const char *after) {
    tok *t = &ps->cur;
    char db[64];
    memset(out, 0, sizeof *out);
    out->pos = t->pos;
    if (t->kind == T_STRING) out->kind = FIRN_ICE_LIT_STRING;
    else if (t->kind == T_NUMBER) out->kind = FIRN_ICE_LIT_NUMBER;
    else if (kw(ps, "true") || kw(ps, "false")) out->kind = FIRN_ICE_LIT_BOOL;
    else if (kw(ps, "null")) out->kind = FIRN_ICE_LIT_NULL;
    else
        return perr(ps, t->pos, "expected a value after %s, found %s", after,
                    tok_desc(t, db, sizeof db));
    out->text = firn_arena_strndup(ps->a, t->p, t->len);
    out->len = t->len;
    return next_tok(ps);
}

static firn_ice_expr *parse_predicate(parser *ps) {
    tok col = ps->cur;
    char db[64];
    if (col.kind != T_IDENT)
        return perr(ps, col.pos, "expected a column name, found %s", tok_desc(&col, db, sizeof db)),
               NULL;
    if (next_tok(ps)) return NULL;
    firn_ice_expr *e = node(ps->a, FIRN_ICE_EXPR_EQ);
    e->column = firn_arena_strndup(ps->a, col.p, col.len);
    e->pos = col.pos;
    tok *t = &ps->cur;
    if (t->kind == T_OP) {
        e->op = t->op;
        char opb[8];
        snprintf(opb, sizeof opb, "'%.*s'", (int)t->len, t->p);
        if (next_tok(ps)) return NULL;
        firn_ice_literal *l = firn_arena_alloc(ps->a, sizeof *l);
        if (parse_literal(ps, l, opb)) return NULL;
        e->literals = l;
        e->nliterals = 1;
        return e;
    }
    if (kw(ps, "is")) {
        if (next_tok(ps)) return NULL;
        bool neg = false;
        if (kw(ps, "not")) {
            neg = true;
            if (next_tok(ps)) return NULL;
        }
        if (!kw(ps, "null"))
            return perr(ps, t->pos, "expected 'null' after 'is%s', found %s", neg ? " not" : "",
                        tok_desc(t, db, sizeof db)),
                   NULL;
        e->op = neg ? FIRN_ICE_EXPR_NOT_NULL : FIRN_ICE_EXPR_IS_NULL;
        if (next_tok(ps)) return NULL;
        return e;
    }
    bool neg = false;
    if (kw(ps, "not")) {
        neg = true;
        if (next_tok(ps)) return NULL;
        if (!kw(ps, "in"))
            return perr(ps, t->pos, "expected 'in' after 'not', found %s", tok_desc(t, db, sizeof db)),
                   NULL;
    }
    if (kw(ps, "in")) {
        e->op = neg ? FIRN_ICE_EXPR_NOT_IN : FIRN_ICE_EXPR_IN;
        if (next_tok(ps)) return NULL;
        if (t->kind != T_LPAREN)
            return perr(ps, t->pos, "expected '(' after 'in', found %s", tok_desc(t, db, sizeof db)),
                   NULL;
        if (next_tok(ps)) return NULL;
        size_t cap = 4, n = 0;
        firn_ice_literal *ls = firn_arena_alloc(ps->a, cap * sizeof *ls);
        for (;;) {
            if (n == cap) {
                firn_ice_literal *nl = firn_arena_alloc(ps->a, 2 * cap * sizeof *nl);
                memcpy(nl, ls, n * sizeof *nl);
                ls = nl;
                cap *= 2;
            }
            if (parse_literal(ps, &ls[n], n ? "','" : "'('")) return NULL;
            n++;
            if (t->kind == T_COMMA) {
                if (next_tok(ps)) return NULL;
                continue;
            }
            if (t->kind == T_RPAREN) break;
            return perr(ps, t->pos, "expected ',' or ')' in the 'in' list, found %s",
                        tok_desc(t, db, sizeof db)),
                   NULL;
        }
        if (next_tok(ps)) return NULL;
        e->literals = ls;
        e->nliterals = n;
        return e;
    }
    return perr(ps, t->pos,
                "expected an operator (= != < <= > >= in, not in, is null, is not null) after "
                "column '%s', found %s",
                e->column, tok_desc(t, db, sizeof db)),
           NULL;
}

static firn_ice_expr *parse_unary(parser *ps) {
    tok *t = &ps->cur;
    char db[64];
    if (++ps->depth > 200) return perr(ps, t->pos, "filter nested too deeply"), NULL;
    firn_ice_expr *e = NULL;
    if (kw(ps, "not")) {
        if (next_tok(ps)) return NULL;
        firn_ice_expr *x = parse_unary(ps);
        e = x ? firn_ice_expr_not(ps->a, x) : NULL;
    } else if (t->kind == T_LPAREN) {
        size_t open = t->pos;
        if (next_tok(ps)) return NULL;
        e = parse_or(ps);
        if (!e) return NULL;
        if (t->kind != T_RPAREN)
            return perr(ps, t->pos, "expected ')' to close '(' at position %zu, found %s", open,
                        tok_desc(t, db, sizeof db)),
                   NULL;
        if (next_tok(ps)) return NULL;
    } else if (kw(ps, "true") || kw(ps, "false")) {
        e = firn_ice_expr_const(ps->a, kw(ps, "true"));
        if (next_tok(ps)) return NULL;
    } else {
        e = parse_predicate(ps);
    }
    ps->depth--;
    return e;
}

static firn_ice_expr *parse_and(parser *ps) {
    firn_ice_expr *l = parse_unary(ps);
    while (l && kw(ps, "and")) {
        if (next_tok(ps)) return NULL;
        firn_ice_expr *r = parse_unary(ps);
        if (!r) return NULL;
        l = firn_ice_expr_and(ps->a, l, r);
    }
    return l;
}

static firn_ice_expr *parse_or(parser *ps) {
    firn_ice_expr *l = parse_and(ps);
    while (l && kw(ps, "or")) {
        if (next_tok(ps)) return NULL;
        firn_ice_expr *r = parse_and(ps);
        if (!r) return NULL;
        l = firn_ice_expr_or(ps->a, l, r);
    }
    return l;
}

firn_ice_expr *firn_ice_expr_parse(firn_arena *a, const char *text, firn_error *err) {
    parser ps = {a, text, strlen(text), 0, {0}, err, 0};
    if (next_tok(&ps)) return NULL;
    if (ps.cur.kind == T_END) return perr(&ps, 1, "empty filter"), NULL;
    firn_ice_expr *e = parse_or(&ps);
    if (!e) return NULL;
    if (ps.cur.kind != T_END) {
        char db[64];
        return perr(&ps, ps.cur.pos, "expected 'and', 'or' or the end, found %s",
                    tok_desc(&ps.cur, db, sizeof db)),
               NULL;
    }
    return e;
}

/* ================================================================ binding */

static firn_ice_expr_op negate_op(firn_ice_expr_op op) {
    switch (op) {
    case FIRN_ICE_EXPR_TRUE: return FIRN_ICE_EXPR_FALSE;
    case FIRN_ICE_EXPR_FALSE: return FIRN_ICE_EXPR_TRUE;
    case FIRN_ICE_EXPR_AND: return FIRN_ICE_EXPR_OR;
    case FIRN_ICE_EXPR_OR: return FIRN_ICE_EXPR_AND;
    case FIRN_ICE_EXPR_EQ: return FIRN_ICE_EXPR_NE;
    case FIRN_ICE_EXPR_NE: return FIRN_ICE_EXPR_EQ;
    case FIRN_ICE_EXPR_LT: return FIRN_ICE_EXPR_GE;
    case FIRN_ICE_EXPR_LE: return FIRN_ICE_EXPR_GT;
    case FIRN_ICE_EXPR_GT: return FIRN_ICE_EXPR_LE;
    case FIRN_ICE_EXPR_GE: return FIRN_ICE_EXPR_LT;
    case FIRN_ICE_EXPR_IN: return FIRN_ICE_EXPR_NOT_IN;
    case FIRN_ICE_EXPR_NOT_IN: return FIRN_ICE_EXPR_IN;
    case FIRN_ICE_EXPR_IS_NULL: return FIRN_ICE_EXPR_NOT_NULL;
    case FIRN_ICE_EXPR_NOT_NULL: return FIRN_ICE_EXPR_IS_NULL;
    default: return op;
    }
}

static const char *op_text(firn_ice_expr_op op) {
    switch (op) {
    case FIRN_ICE_EXPR_EQ: return "=";
    case FIRN_ICE_EXPR_NE: return "!=";
    case FIRN_ICE_EXPR_LT: return "<";
    case FIRN_ICE_EXPR_LE: return "<=";
    case FIRN_ICE_EXPR_GT: return ">";
    case FIRN_ICE_EXPR_GE: return ">=";
    case FIRN_ICE_EXPR_IN: return "in";
    case FIRN_ICE_EXPR_NOT_IN: return "not in";
    case FIRN_ICE_EXPR_IS_NULL: return "is null";
    case FIRN_ICE_EXPR_NOT_NULL: return "is not null";
    case FIRN_ICE_EXPR_AND: return "and";
    case FIRN_ICE_EXPR_OR: return "or";
    case FIRN_ICE_EXPR_NOT: return "not";
    case FIRN_ICE_EXPR_TRUE: return "true";
    case FIRN_ICE_EXPR_FALSE: return "false";
    }
    return "?";
}

static firn_ice_expr *simplify_and(firn_arena *a, firn_ice_expr *l, firn_ice_expr *r) {
    if (l->op == FIRN_ICE_EXPR_FALSE || r->op == FIRN_ICE_EXPR_FALSE) return firn_ice_expr_const(a, false);
    if (l->op == FIRN_ICE_EXPR_TRUE) return r;
    if (r->op == FIRN_ICE_EXPR_TRUE) return l;
    return firn_ice_expr_and(a, l, r);
}

static firn_ice_expr *simplify_or(firn_arena *a, firn_ice_expr *l, firn_ice_expr *r) {
    if (l->op == FIRN_ICE_EXPR_TRUE || r->op == FIRN_ICE_EXPR_TRUE) return firn_ice_expr_const(a, true);
    if (l->op == FIRN_ICE_EXPR_FALSE) return r;
    if (r->op == FIRN_ICE_EXPR_FALSE) return l;
    return firn_ice_expr_or(a, l, r);
}

static int bind_literal(firn_arena *a, const firn_ice_expr *e, const firn_ice_literal *l,
                        const firn_ice_type *t, firn_ice_value *out, firn_error *err) {
    char tb[48];
    firn_ice_type_to_string(t, tb, sizeof tb);
    size_t pos = l->pos ? l->pos : e->pos;
    if (l->kind == FIRN_ICE_LIT_NULL)
        return FIRN_RAISE(err, FIRN_ERR_INVALID,
                          "--where: position %zu: '%s %s null' is never true; use '%s is null'",
                          pos, e->column, op_text(e->op), e->column);
    bool ok_kind = true;
    switch (t->id) {
    case FIRN_ICE_BOOLEAN: ok_kind = l->kind != FIRN_ICE_LIT_NUMBER; break;
    case FIRN_ICE_INT: case FIRN_ICE_LONG: case FIRN_ICE_FLOAT: case FIRN_ICE_DOUBLE:
    case FIRN_ICE_DECIMAL:
        ok_kind = l->kind != FIRN_ICE_LIT_BOOL; break;
    default: ok_kind = l->kind == FIRN_ICE_LIT_STRING; break;
    }
    firn_error sub;
    firn_error_init(&sub);
    int rc = -1;
    if (ok_kind) {
        if (t->id == FIRN_ICE_BINARY || t->id == FIRN_ICE_FIXED) {
            /* binary literals are hex text, as the JSON single-value form */
            rc = firn_ice_value_parse(a, t, l->text, l->len, out, &sub);
        } else if (t->id == FIRN_ICE_STRING) {
            *out = firn_ice_value_bytes(FIRN_ICE_STRING, firn_arena_strndup(a, l->text, l->len), l->len);
            rc = 0;
        } else {
            rc = firn_ice_value_parse(a, t, l->text, l->len, out, &sub);
        }
    }
    if (rc) {
        char why[400] = "";
        if (ok_kind) snprintf(why, sizeof why, ": %s", sub.message);
        firn_error_release(&sub);
        return FIRN_RAISE(err, FIRN_ERR_INVALID,
                          "--where: position %zu: %s%.*s%s is not a %s value for column '%s'%s", pos,
                          l->kind == FIRN_ICE_LIT_STRING ? "'" : "", (int)(l->len > 60 ? 60 : l->len),
                          l->text, l->kind == FIRN_ICE_LIT_STRING ? "'" : "", tb, e->column, why);
    }
    firn_error_release(&sub);
    return 0;
}

static firn_ice_expr *bind_rec(firn_arena *a, const firn_ice_expr *e, bool negate,
                               const firn_ice_schema *schema, bool cs, firn_error *err) {
    switch (e->op) {
    case FIRN_ICE_EXPR_TRUE:
    case FIRN_ICE_EXPR_FALSE:
        return firn_ice_expr_const(a, (e->op == FIRN_ICE_EXPR_TRUE) != negate);
    case FIRN_ICE_EXPR_NOT:
        return bind_rec(a, e->left, !negate, schema, cs, err);
    case FIRN_ICE_EXPR_AND:
    case FIRN_ICE_EXPR_OR: {
        firn_ice_expr *l = bind_rec(a, e->left, negate, schema, cs, err);
        if (!l) return NULL;
        firn_ice_expr *r = bind_rec(a, e->right, negate, schema, cs, err);
        if (!r) return NULL;
        bool is_and = (e->op == FIRN_ICE_EXPR_AND) != negate;
        return is_and ? simplify_and(a, l, r) : simplify_or(a, l, r);
    }
    default: break;
    }
    if (e->field_id > 0 && e->values) {
        /* already bound: copy (negated when needed) */
        firn_ice_expr *b = firn_arena_alloc(a, sizeof *b);
        *b = *e;
        if (negate) b->op = negate_op(e->op);
        return b;
    }
    const firn_ice_field *f = firn_ice_schema_find_by_name(schema, e->column, cs);
    if (!f) {
        FIRN_RAISE(err, FIRN_ERR_INVALID, "--where: position %zu: unknown column '%s'",
                   e->pos ? e->pos : 1, e->column);
        return NULL;
    }
    if (!firn_ice_type_is_primitive(f->type) || firn_ice_schema_in_list_or_map(schema, f->id)) {
        FIRN_RAISE(err, FIRN_ERR_INVALID,
                   "--where: position %zu: column '%s' is not a primitive column; filters compare "
                   "primitive values only",
                   e->pos ? e->pos : 1, e->column);
        return NULL;
    }
    firn_ice_expr *b = node(a, negate ? negate_op(e->op) : e->op);
    const char *full = firn_ice_schema_find_name(schema, f->id);
    b->column = firn_arena_strdup(a, full ? full : e->column);
    b->pos = e->pos;
    b->field_id = f->id;
    b->type = f->type;
    if (e->op == FIRN_ICE_EXPR_IS_NULL || e->op == FIRN_ICE_EXPR_NOT_NULL) return b;
    if (e->nliterals == 0) {
        FIRN_RAISE(err, FIRN_ERR_INVALID, "--where: predicate on '%s' has no value", e->column);
        return NULL;
    }
    firn_ice_value *vals = firn_arena_calloc(a, e->nliterals * sizeof *vals);
    for (size_t i = 0; i < e->nliterals; i++) {
        firn_ice_expr tmp = *e;
        if (bind_literal(a, &tmp, &e->literals[i], f->type, &vals[i], err)) return NULL;
    }
    b->values = vals;
    b->nliterals = e->nliterals;
    return b;
}

firn_ice_expr *firn_ice_expr_bind(firn_arena *a, const firn_ice_expr *e,
                                  const firn_ice_schema *schema, bool case_sensitive,
                                  firn_error *err) {
    ICE_ERR_GUARD(err);
    if (!e) return firn_ice_expr_const(a, true);
    return bind_rec(a, e, false, schema, case_sensitive, err);
}

bool firn_ice_expr_is_bound(const firn_ice_expr *e) {
    switch (e->op) {
    case FIRN_ICE_EXPR_TRUE:
    case FIRN_ICE_EXPR_FALSE: return true;
    case FIRN_ICE_EXPR_NOT: return false;
    case FIRN_ICE_EXPR_AND:
    case FIRN_ICE_EXPR_OR: return firn_ice_expr_is_bound(e->left) && firn_ice_expr_is_bound(e->right);
    default:
        return e->field_id > 0 && e->type &&
               (e->values || e->op == FIRN_ICE_EXPR_IS_NULL || e->op == FIRN_ICE_EXPR_NOT_NULL);
    }
}

static void append_literal(const firn_ice_expr *e, size_t i, firn_buf *out) {
    if (e->values) {
        const firn_ice_value *v = &e->values[i];
        bool quote = !(v->type >= FIRN_ICE_INT && v->type <= FIRN_ICE_DECIMAL) && v->type != FIRN_ICE_BOOLEAN;
        if (quote) firn_buf_put_u8(out, '\'');
        if (v->type == FIRN_ICE_BOOLEAN) firn_buf_append_str(out, v->u.b ? "true" : "false");
        else if (firn_ice_value_format(e->type, v, out, NULL)) firn_buf_append_str(out, "?");
        if (quote) firn_buf_put_u8(out, '\'');
    } else {
        const firn_ice_literal *l = &e->literals[i];
        if (l->kind == FIRN_ICE_LIT_STRING) firn_buf_put_u8(out, '\'');
        firn_buf_append(out, l->text, l->len);
        if (l->kind == FIRN_ICE_LIT_STRING) firn_buf_put_u8(out, '\'');
    }
}

void firn_ice_expr_to_string(const firn_ice_expr *e, firn_buf *out) {
    switch (e->op) {
    case FIRN_ICE_EXPR_TRUE:
    case FIRN_ICE_EXPR_FALSE: firn_buf_append_str(out, op_text(e->op)); return;
    case FIRN_ICE_EXPR_NOT:
        firn_buf_append_str(out, "not ");
        firn_ice_expr_to_string(e->left, out);
        return;
    case FIRN_ICE_EXPR_AND:
    case FIRN_ICE_EXPR_OR:
        firn_buf_put_u8(out, '(');
        firn_ice_expr_to_string(e->left, out);
        firn_buf_appendf(out, " %s ", op_text(e->op));
        firn_ice_expr_to_string(e->right, out);
        firn_buf_put_u8(out, ')');
        return;
    default: break;
    }
    firn_buf_appendf(out, "%s %s", e->column, op_text(e->op));
    if (e->op == FIRN_ICE_EXPR_IS_NULL || e->op == FIRN_ICE_EXPR_NOT_NULL) return;
    if (e->op == FIRN_ICE_EXPR_IN || e->op == FIRN_ICE_EXPR_NOT_IN) {
        firn_buf_append_str(out, " (");
        for (size_t i = 0; i < e->nliterals; i++) {
            if (i) firn_buf_append_str(out, ", ");
            append_literal(e, i, out);
        }
        firn_buf_put_u8(out, ')');
        return;
    }
    firn_buf_put_u8(out, ' ');
    append_literal(e, 0, out);
}

static size_t ids_rec(const firn_ice_expr *e, int32_t *ids, size_t max, size_t n) {
    if (e->op == FIRN_ICE_EXPR_AND || e->op == FIRN_ICE_EXPR_OR || e->op == FIRN_ICE_EXPR_NOT) {
        n = ids_rec(e->left, ids, max, n);
        return e->right ? ids_rec(e->right, ids, max, n) : n;
    }
    if (!is_leaf(e->op) || e->field_id <= 0) return n;
    for (size_t i = 0; i < n && i < max; i++)
        if (ids[i] == e->field_id) return n;
    if (n < max) ids[n] = e->field_id;
    return n + 1;
}

size_t firn_ice_expr_field_ids(const firn_ice_expr *e, int32_t *ids, size_t max) {
    return ids_rec(e, ids, max, 0);
}

/* ============================================================= evaluation */

/* Row i of a column as a value of type t. */
static void column_value(const firn_ice_type *t, const firn_pq_column_data *c, size_t i,
                         firn_ice_value *v) {
    memset(v, 0, sizeof *v);
    v->type = t->id;
    if (c->validity && !c->validity[i]) {
        v->is_null = true;
        return;
    }
    switch (t->id) {
    case FIRN_ICE_BOOLEAN: v->u.b = ((const uint8_t *)c->values)[i] != 0; break;
    case FIRN_ICE_INT:
    case FIRN_ICE_DATE: v->u.i32 = ((const int32_t *)c->values)[i]; break;
    case FIRN_ICE_LONG:
    case FIRN_ICE_TIME:
    case FIRN_ICE_TIMESTAMP:
    case FIRN_ICE_TIMESTAMPTZ:
    case FIRN_ICE_TIMESTAMP_NS:
    case FIRN_ICE_TIMESTAMPTZ_NS: v->u.i64 = ((const int64_t *)c->values)[i]; break;
    case FIRN_ICE_FLOAT: v->u.f32 = ((const float *)c->values)[i]; break;
    case FIRN_ICE_DOUBLE: v->u.f64 = ((const double *)c->values)[i]; break;
    case FIRN_ICE_DECIMAL:
        v->scale = t->scale;
        if (t->precision <= 9) v->u.dec = ((const int32_t *)c->values)[i];
        else if (t->precision <= 18) v->u.dec = ((const int64_t *)c->values)[i];
        else {
            int32_t w = firn_pq_decimal_width(t->precision);
            const uint8_t *b = (const uint8_t *)c->values + (size_t)w * i;
            firn_ice_int128 x = (b[0] & 0x80) ? -1 : 0;
            for (int32_t k = 0; k < w; k++) x = (firn_ice_int128)(((unsigned __int128)x << 8) | b[k]);
            v->u.dec = x;
        }
        break;
    case FIRN_ICE_UUID: memcpy(v->u.uuid, (const uint8_t *)c->values + 16 * i, 16); break;
    case FIRN_ICE_FIXED:
        v->u.bin.ptr = (const uint8_t *)c->values + (size_t)t->length * i;
        v->u.bin.len = (size_t)t->length;
        break;
    case FIRN_ICE_STRING:
    case FIRN_ICE_BINARY:
        v->u.bin.ptr = c->data + c->offsets[i];
        v->u.bin.len = (size_t)(c->offsets[i + 1] - c->offsets[i]);
        break;
    default: v->is_null = true; break;
    }
}

/* 1 true, 0 false, -1 unknown (null) */
static int leaf_row(const firn_ice_expr *e, const firn_ice_value *v) {
    if (e->op == FIRN_ICE_EXPR_IS_NULL) return v->is_null;
    if (e->op == FIRN_ICE_EXPR_NOT_NULL) return !v->is_null;
    if (v->is_null) return -1;
    if (e->op == FIRN_ICE_EXPR_IN || e->op == FIRN_ICE_EXPR_NOT_IN) {
        bool found = false;
        for (size_t k = 0; k < e->nliterals && !found; k++)
            found = firn_ice_value_compare(v, &e->values[k]) == 0;
        return (e->op == FIRN_ICE_EXPR_IN) == found;
    }
    int c = firn_ice_value_compare(v, &e->values[0]);
    switch (e->op) {
    case FIRN_ICE_EXPR_EQ: return c == 0;
    case FIRN_ICE_EXPR_NE: return c != 0;
    case FIRN_ICE_EXPR_LT: return c < 0;
    case FIRN_ICE_EXPR_LE: return c <= 0;
    case FIRN_ICE_EXPR_GT: return c > 0;
    case FIRN_ICE_EXPR_GE: return c >= 0;
    default: return -1;
    }
}

/* ---- vectorised leaves: one tight loop per operator over a whole column
 * instead of a firn_ice_value per row. Fixed-width ordered types compare
 * order-preserving uint64 keys (signed ints offset by 2^63, floats by the
 * spec's total order as firn_ice_value_compare does: -NaN < -Inf < ... < -0 <
 * +0 < ... < +Inf < NaN); strings and binaries compare bytes in place. A leaf
 * the fast paths do not cover (uuid, fixed, wide decimals, mixed literal
 * types) takes the per-row path below. */

static uint64_t key_i64(int64_t x) { return (uint64_t)x ^ UINT64_C(0x8000000000000000); }

static uint64_t key_double(double d) {
    uint64_t bits;
    if (isnan(d)) bits = signbit(d) ? UINT64_C(0xFFF8000000000000) : UINT64_C(0x7FF8000000000000);
    else memcpy(&bits, &d, 8);
    return (bits & UINT64_C(0x8000000000000000)) ? ~bits : bits | UINT64_C(0x8000000000000000);
}

typedef enum key_kind { KEY_NONE, KEY_BOOL, KEY_I32, KEY_I64, KEY_F32, KEY_F64 } key_kind;

/* How column type t's values map to keys, and whether literal v (a value bound
 * for that column) has a key that compares as firn_ice_value_compare would. */
static key_kind column_key_kind(const firn_ice_type *t) {
    switch (t->id) {
    case FIRN_ICE_BOOLEAN: return KEY_BOOL;
    case FIRN_ICE_INT: case FIRN_ICE_DATE: return KEY_I32;
    case FIRN_ICE_LONG: case FIRN_ICE_TIME: case FIRN_ICE_TIMESTAMP: case FIRN_ICE_TIMESTAMPTZ:
    case FIRN_ICE_TIMESTAMP_NS: case FIRN_ICE_TIMESTAMPTZ_NS: return KEY_I64;
    case FIRN_ICE_FLOAT: return KEY_F32;
    case FIRN_ICE_DOUBLE: return KEY_F64;
    case FIRN_ICE_DECIMAL: return t->precision <= 9 ? KEY_I32 : t->precision <= 18 ? KEY_I64 : KEY_NONE;
    default: return KEY_NONE;
    }
}

static bool literal_key(const firn_ice_type *t, const firn_ice_value *v, uint64_t *key) {
    if (v->is_null) return false;
    if (v->type == t->id) {
        switch (t->id) {
        case FIRN_ICE_BOOLEAN: *key = v->u.b; return true;
        case FIRN_ICE_INT: case FIRN_ICE_DATE: *key = key_i64(v->u.i32); return true;
        case FIRN_ICE_FLOAT: *key = key_double(v->u.f32); return true;
        case FIRN_ICE_DOUBLE: *key = key_double(v->u.f64); return true;
        case FIRN_ICE_DECIMAL:
            if (v->scale != t->scale || v->u.dec < INT64_MIN || v->u.dec > INT64_MAX) return false;
            *key = key_i64((int64_t)v->u.dec);
            return true;
        default: *key = key_i64(v->u.i64); return true;
        }
    }
    /* the promotions the per-row path handles: int column, long literal; float
     * column, double literal */
    if (t->id == FIRN_ICE_INT && v->type == FIRN_ICE_LONG) { *key = key_i64(v->u.i64); return true; }
    if (t->id == FIRN_ICE_FLOAT && v->type == FIRN_ICE_DOUBLE) { *key = key_double(v->u.f64); return true; }
    return false;
}

static void column_keys(key_kind k, const void *values, size_t n, uint64_t *out) {
    switch (k) {
    case KEY_BOOL: { const uint8_t *v = values; for (size_t i = 0; i < n; i++) out[i] = v[i] != 0; break; }
    case KEY_I32: { const int32_t *v = values; for (size_t i = 0; i < n; i++) out[i] = key_i64(v[i]); break; }
    case KEY_I64: { const int64_t *v = values; for (size_t i = 0; i < n; i++) out[i] = key_i64(v[i]); break; }
    case KEY_F32: { const float *v = values; for (size_t i = 0; i < n; i++) out[i] = key_double(v[i]); break; }
    case KEY_F64: { const double *v = values; for (size_t i = 0; i < n; i++) out[i] = key_double(v[i]); break; }
    default: break;
    }
}

/* 1 when the leaf was evaluated into out, 0 when the per-row path must. */
static int leaf_fast(const firn_ice_expr *e, const firn_ice_type *t, const firn_pq_column_data *c,
                     size_t n, int8_t *out) {
    const uint8_t *valid = c->validity;
    if (e->op == FIRN_ICE_EXPR_IS_NULL || e->op == FIRN_ICE_EXPR_NOT_NULL) {
        int8_t present = e->op == FIRN_ICE_EXPR_NOT_NULL;
        for (size_t i = 0; i < n; i++) out[i] = (int8_t)(!valid || valid[i] ? present : !present);
        return 1;
    }
    if (!e->values || e->nliterals == 0 || e->nliterals > 64) return 0;
    bool set = e->op == FIRN_ICE_EXPR_IN || e->op == FIRN_ICE_EXPR_NOT_IN;
    key_kind kk = column_key_kind(t);
    if (kk != KEY_NONE) {
        uint64_t lit[64];
        for (size_t k = 0; k < e->nliterals; k++)
            if (!literal_key(t, &e->values[k], &lit[k])) return 0;
        uint64_t *keys = firn_xmalloc((n ? n : 1) * sizeof *keys);
        column_keys(kk, c->values, n, keys);
        uint64_t x = lit[0];
        switch (e->op) {
        case FIRN_ICE_EXPR_EQ: for (size_t i = 0; i < n; i++) out[i] = keys[i] == x; break;
        case FIRN_ICE_EXPR_NE: for (size_t i = 0; i < n; i++) out[i] = keys[i] != x; break;
        case FIRN_ICE_EXPR_LT: for (size_t i = 0; i < n; i++) out[i] = keys[i] < x; break;
        case FIRN_ICE_EXPR_LE: for (size_t i = 0; i < n; i++) out[i] = keys[i] <= x; break;
        case FIRN_ICE_EXPR_GT: for (size_t i = 0; i < n; i++) out[i] = keys[i] > x; break;
        case FIRN_ICE_EXPR_GE: for (size_t i = 0; i < n; i++) out[i] = keys[i] >= x; break;
        case FIRN_ICE_EXPR_IN:
        case FIRN_ICE_EXPR_NOT_IN:
            memset(out, 0, n);
            for (size_t k = 0; k < e->nliterals; k++)
                for (size_t i = 0; i < n; i++) out[i] |= keys[i] == lit[k];
            if (e->op == FIRN_ICE_EXPR_NOT_IN)
                for (size_t i = 0; i < n; i++) out[i] = !out[i];
            break;
        default: free(keys); return 0;
        }
        free(keys);
    } else if (t->id == FIRN_ICE_STRING || t->id == FIRN_ICE_BINARY) {
        for (size_t k = 0; k < e->nliterals; k++)
            if (e->values[k].is_null || e->values[k].type != t->id) return 0;
        const int64_t *off = c->offsets;
        for (size_t i = 0; i < n; i++) {
            const uint8_t *p = c->data + off[i];
            size_t len = (size_t)(off[i + 1] - off[i]);
            if (set) {
                bool found = false;
                for (size_t k = 0; k < e->nliterals && !found; k++) {
                    const firn_ice_value *v = &e->values[k];
                    found = v->u.bin.len == len && (len == 0 || memcmp(p, v->u.bin.ptr, len) == 0);
                }
                out[i] = (int8_t)((e->op == FIRN_ICE_EXPR_IN) == found);
                continue;
            }
            const firn_ice_value *v = &e->values[0];
            size_t m = len < v->u.bin.len ? len : v->u.bin.len;
            int r = m ? memcmp(p, v->u.bin.ptr, m) : 0;
            if (r == 0) r = (len > v->u.bin.len) - (len < v->u.bin.len);
            switch (e->op) {
            case FIRN_ICE_EXPR_EQ: out[i] = r == 0; break;
            case FIRN_ICE_EXPR_NE: out[i] = r != 0; break;
            case FIRN_ICE_EXPR_LT: out[i] = r < 0; break;
            case FIRN_ICE_EXPR_LE: out[i] = r <= 0; break;
            case FIRN_ICE_EXPR_GT: out[i] = r > 0; break;
            case FIRN_ICE_EXPR_GE: out[i] = r >= 0; break;
            default: return 0;
            }
        }
    } else {
        return 0;
    }
    if (valid)
        for (size_t i = 0; i < n; i++)
            if (!valid[i]) out[i] = -1;
    return 1;
}

/* Three-valued results per row: 1, 0, -1 (unknown) in int8 arrays. */
static int eval_rec(const firn_ice_expr *e, const firn_ice_expr_columns *c, size_t nrows,
                    int8_t *out, firn_error *err) {
    switch (e->op) {
    case FIRN_ICE_EXPR_TRUE:
    case FIRN_ICE_EXPR_FALSE:
        memset(out, e->op == FIRN_ICE_EXPR_TRUE ? 1 : 0, nrows);
        return 0;
    case FIRN_ICE_EXPR_NOT: {
        int rc = eval_rec(e->left, c, nrows, out, err);
        if (rc) return rc;
        for (size_t i = 0; i < nrows; i++)
            if (out[i] >= 0) out[i] = (int8_t)!out[i];
        return 0;
    }
    case FIRN_ICE_EXPR_AND:
    case FIRN_ICE_EXPR_OR: {
        int rc = eval_rec(e->left, c, nrows, out, err);
        if (rc) return rc;
        int8_t *r = firn_xmalloc(nrows ? nrows : 1);
        rc = eval_rec(e->right, c, nrows, r, err);
        if (!rc) {
            bool is_and = e->op == FIRN_ICE_EXPR_AND;
            for (size_t i = 0; i < nrows; i++) {
                int8_t l = out[i], x = r[i];
                if (is_and) out[i] = (l == 0 || x == 0) ? 0 : (l == 1 && x == 1) ? 1 : -1;
                else out[i] = (l == 1 || x == 1) ? 1 : (l == 0 && x == 0) ? 0 : -1;
            }
        }
        free(r);
        return rc;
    }
    default: break;
    }
    size_t k = 0;
    while (k < c->ncolumns && c->field_ids[k] != e->field_id) k++;
    if (k == c->ncolumns)
        return FIRN_RAISE(err, FIRN_ERR_INVALID, "filter column '%s' (field id %d) is not in the batch",
                          e->column ? e->column : "?", e->field_id);
    const firn_ice_type *t = c->types[k];
    if (leaf_fast(e, t, &c->cols[k], nrows, out)) return 0;
    for (size_t i = 0; i < nrows; i++) {
        firn_ice_value v;
        column_value(t, &c->cols[k], i, &v);
        /* a column read with a wider table type compares with the literal's type */
        if (!v.is_null && e->values && v.type != e->values[0].type) {
            if (v.type == FIRN_ICE_INT && e->values[0].type == FIRN_ICE_LONG) {
                v.u.i64 = v.u.i32;
                v.type = FIRN_ICE_LONG;
            } else if (v.type == FIRN_ICE_FLOAT && e->values[0].type == FIRN_ICE_DOUBLE) {
                v.u.f64 = v.u.f32;
                v.type = FIRN_ICE_DOUBLE;
            }
        }
        out[i] = (int8_t)leaf_row(e, &v);
    }
    return 0;
}

int firn_ice_expr_eval(const firn_ice_expr *e, const firn_ice_expr_columns *c, size_t nrows,
                       uint8_t *sel, firn_error *err) {
    ICE_ERR_GUARD(err);
    int8_t *r = firn_xmalloc(nrows ? nrows : 1);
    int rc = eval_rec(e, c, nrows, r, err);
    if (!rc)
        for (size_t i = 0; i < nrows; i++) sel[i] = r[i] == 1;
    free(r);
    return rc;
}

/* ====================================================== inclusive ranges */

static bool is_float(firn_ice_type_id t) { return t == FIRN_ICE_FLOAT || t == FIRN_ICE_DOUBLE; }

static bool value_is_nan(const firn_ice_value *v) {
    return (v->type == FIRN_ICE_FLOAT && isnan(v->u.f32)) || (v->type == FIRN_ICE_DOUBLE && isnan(v->u.f64));
}

/* Compare with a bound that may be of a narrower type (int bound of a long
 * literal: from_bytes widens already, so types normally agree). */
static int cmp(const firn_ice_value *a, const firn_ice_value *b) { return firn_ice_value_compare(a, b); }

static bool leaf_may_match(const firn_ice_expr *e, const firn_ice_value_range *r) {
    switch (e->op) {
    case FIRN_ICE_EXPR_IS_NULL: return r->may_have_null;
    case FIRN_ICE_EXPR_NOT_NULL: return r->may_have_non_null;
    case FIRN_ICE_EXPR_NE:
    case FIRN_ICE_EXPR_NOT_IN: return r->may_have_non_null;
    default: break;
    }
    if (!r->may_have_non_null) return false; /* all null: no comparison is true */
    bool fl = e->values && is_float(e->values[0].type);
    /* NaN sorts above everything and is never a bound: a file that may hold NaN
     * may match > / >= / = NaN whatever its upper bound says. */
    bool upper_ok = r->has_upper && !(fl && r->may_have_nan);
    bool lower_ok = r->has_lower;
    const firn_ice_value *lo = &r->lower, *hi = &r->upper;
    if (e->op == FIRN_ICE_EXPR_IN || e->op == FIRN_ICE_EXPR_EQ) {
        for (size_t k = 0; k < e->nliterals; k++) {
            const firn_ice_value *v = &e->values[k];
            if (value_is_nan(v)) {
                if (r->may_have_nan) return true;
                continue;
            }
            if (lower_ok && cmp(lo, v) > 0) continue;
            if (upper_ok && cmp(hi, v) < 0) continue;
            return true;
        }
        return false;
    }
    const firn_ice_value *v = &e->values[0];
    if (value_is_nan(v)) return true;
    switch (e->op) {
    case FIRN_ICE_EXPR_LT: return !(lower_ok && cmp(lo, v) >= 0);
    case FIRN_ICE_EXPR_LE: return !(lower_ok && cmp(lo, v) > 0);
    case FIRN_ICE_EXPR_GT: return !(upper_ok && cmp(hi, v) <= 0);
    case FIRN_ICE_EXPR_GE: return !(upper_ok && cmp(hi, v) < 0);
    default: return true;
    }
}

bool firn_ice_expr_may_match(const firn_ice_expr *e, firn_ice_range_fn fn, void *ctx) {
    switch (e->op) {
    case FIRN_ICE_EXPR_TRUE: return true;
    case FIRN_ICE_EXPR_FALSE: return false;
    case FIRN_ICE_EXPR_NOT: return true; /* unbound trees: no pruning */
    case FIRN_ICE_EXPR_AND: return firn_ice_expr_may_match(e->left, fn, ctx) && firn_ice_expr_may_match(e->right, fn, ctx);
    case FIRN_ICE_EXPR_OR: return firn_ice_expr_may_match(e->left, fn, ctx) || firn_ice_expr_may_match(e->right, fn, ctx);
    default: break;
    }
    firn_ice_value_range r;
    memset(&r, 0, sizeof r);
    if (!fn(ctx, e->field_id, &r)) return true;
    return leaf_may_match(e, &r);
}

/* ============================================================= projection */

static firn_ice_expr *project_leaf(firn_arena *a, const firn_ice_expr *e,
                                   const firn_ice_partition_field *pf, const firn_ice_type *src,
                                   firn_error *err) {
    firn_ice_transform_kind k = pf->transform.kind;
    if (k == FIRN_ICE_TRANSFORM_VOID || k == FIRN_ICE_TRANSFORM_UNKNOWN) return NULL;
    firn_ice_type rt;
    firn_error sub;
    firn_error_init(&sub);
    if (firn_ice_transform_result_type(&pf->transform, src, &rt, &sub)) {
        firn_error_release(&sub);
        return NULL;
    }
    firn_ice_expr_op op = e->op;
    bool identity = k == FIRN_ICE_TRANSFORM_IDENTITY;
    if (op == FIRN_ICE_EXPR_NE || op == FIRN_ICE_EXPR_NOT_IN) {
        if (!identity) return NULL;
    } else if (k == FIRN_ICE_TRANSFORM_BUCKET) {
        if (op != FIRN_ICE_EXPR_EQ && op != FIRN_ICE_EXPR_IN && op != FIRN_ICE_EXPR_IS_NULL &&
            op != FIRN_ICE_EXPR_NOT_NULL)
            return NULL;
    } else if (!identity) {
        /* monotonic non-decreasing transforms: strict bounds become inclusive */
        if (op == FIRN_ICE_EXPR_LT) op = FIRN_ICE_EXPR_LE;
        else if (op == FIRN_ICE_EXPR_GT) op = FIRN_ICE_EXPR_GE;
    }
    firn_ice_expr *p = node(a, op);
    p->column = pf->name;
    p->field_id = pf->field_id;
    firn_ice_type *pt = firn_arena_alloc(a, sizeof *pt);
    *pt = rt;
    p->type = pt;
    if (op == FIRN_ICE_EXPR_IS_NULL || op == FIRN_ICE_EXPR_NOT_NULL) return p;
    firn_ice_value *vals = firn_arena_calloc(a, e->nliterals * sizeof *vals);
    for (size_t i = 0; i < e->nliterals; i++) {
        firn_ice_value in = e->values[i];
        if (value_is_nan(&e->values[i])) return NULL;
        if (firn_ice_transform_apply(&pf->transform, src, &in, &vals[i], &sub)) {
            firn_error_release(&sub);
            return NULL;
        }
        vals[i] = firn_ice_value_copy(a, &vals[i]);
    }
    (void)err;
    p->values = vals;
    p->nliterals = e->nliterals;
    return p;
}

static firn_ice_expr *project_rec(firn_arena *a, const firn_ice_expr *e,
                                  const firn_ice_partition_spec *spec, const firn_ice_schema *schema,
                                  firn_error *err) {
    switch (e->op) {
    case FIRN_ICE_EXPR_TRUE:
    case FIRN_ICE_EXPR_FALSE: return firn_ice_expr_const(a, e->op == FIRN_ICE_EXPR_TRUE);
    case FIRN_ICE_EXPR_NOT: return firn_ice_expr_const(a, true);
    case FIRN_ICE_EXPR_AND:
    case FIRN_ICE_EXPR_OR: {
        firn_ice_expr *l = project_rec(a, e->left, spec, schema, err);
        firn_ice_expr *r = project_rec(a, e->right, spec, schema, err);
        return e->op == FIRN_ICE_EXPR_AND ? simplify_and(a, l, r) : simplify_or(a, l, r);
    }
    default: break;
    }
    firn_ice_expr *acc = firn_ice_expr_const(a, true);
    const firn_ice_field *f = firn_ice_schema_find_field(schema, e->field_id);
    const firn_ice_type *src = f ? f->type : e->type;
    for (size_t i = 0; i < spec->nfields; i++) {
        if (spec->fields[i].source_id != e->field_id) continue;
        firn_ice_expr *p = project_leaf(a, e, &spec->fields[i], src, err);
        if (p) acc = simplify_and(a, acc, p);
    }
    return acc;
}

firn_ice_expr *firn_ice_expr_project(firn_arena *a, const firn_ice_expr *e,
                                     const firn_ice_partition_spec *spec,
                                     const firn_ice_schema *schema, firn_error *err) {
    ICE_ERR_GUARD(err);
    if (!firn_ice_expr_is_bound(e)) {
        FIRN_RAISE(err, FIRN_ERR_INVALID, "only bound filters project onto partition specs");
        return NULL;
    }
    return project_rec(a, e, spec, schema, err);
}
