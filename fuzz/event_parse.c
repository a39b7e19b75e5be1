/*
 * event_parse.c - libFuzzer target for event parsing and validation
 * (src/pipeline/validate.c: the JSON scanner, every rule, base64 and the
 * image decoders). Input: the first byte picks where the image comes from
 * (bit 0: the rest after a 0x00 separator is the record header `image`,
 * else the JSON may carry it in base64); the rest is the event. Properties
 * checked beyond "no crash":
 *   - a rejected event always has a reason, one of the documented parse:*;
 *   - an accepted event's fields lie inside the input or the event's buffer,
 *     and looking each one up by name finds it;
 *   - validation of a parsed event never fails as an error, each failed rule
 *     is a documented rule name, and a trusted row has every required column.
 *
 *   make fuzz && build/fuzz/event_parse fuzz/corpus/event_parse
 */
#include "pipeline/validate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fail(const char *what, const char *detail) {
    fprintf(stderr, "event_parse: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
    abort();
}

static firn_config *cfg;
static firn_validator *val[2];
static firn_dedupe *dd;
static firn_event ev;

static bool known_rule(const char *r) {
    static const char *const prefixes[] = {"required:", "type:", "range:", "pattern:", "duplicate:"};
    static const char *const fixed[] = {"timestamp:future", "timestamp:too-old", "image:decode",
                                        "image:format", "image:dimensions", "image:size"};
    for (size_t i = 0; i < 5; i++)
        if (strncmp(r, prefixes[i], strlen(prefixes[i])) == 0) return true;
    for (size_t i = 0; i < 6; i++)
        if (strcmp(r, fixed[i]) == 0) return true;
    return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!cfg) {
        cfg = firn_config_new_default();
        firn_error err;
        firn_error_init(&err);
        for (int i = 0; i < 2; i++)
            if (!(val[i] = firn_validator_new(&cfg->types[i], &err))) fail("validator", err.message);
        dd = firn_dedupe_new(1000, 0);
        firn_event_init(&ev);
    }
    if (size == 0) return 0;
    const uint8_t *json = data + 1, *img = NULL;
    size_t jlen = size - 1, ilen = 0;
    if (data[0] & 1) {
        const uint8_t *sep = memchr(json, 0, jlen);
        if (sep) {
            img = sep + 1;
            ilen = (size_t)(json + jlen - img);
            jlen = (size_t)(sep - json);
        }
    }
    firn_event_limits lim;
    firn_event_limits_from_config(&lim, cfg);
    lim.max_depth = 8 + (data[0] >> 4);
    lim.max_field_bytes = 64 + (size_t)(data[0] & 0x0e) * 64;
    const char *why = firn_event_parse(&ev, json, jlen, &lim);
    if (why) {
        if (strncmp(why, "parse:", 6) != 0) fail("unknown parse reason", why);
        if (!firn_event_detail(&ev)[0]) fail("a rejection without detail", why);
        return 0;
    }
    const uint8_t *dlo = ev.decoded.data, *dhi = ev.decoded.data + ev.decoded.cap;
    for (size_t i = 0; i < ev.nfields; i++) {
        const firn_event_field *f = &ev.fields[i];
        const uint8_t *p = (const uint8_t *)f->name;
        bool in_input = p >= json && p + f->name_len <= json + jlen;
        bool in_buf = p >= dlo && p + f->name_len <= dhi;
        if (!in_input && !in_buf) fail("a field name outside the input and buffer", NULL);
        if (firn_event_get(&ev, f->name, f->name_len) != f) fail("lookup by name lost a field", NULL);
        if (f->kind != FIRN_JSON_NULL && f->kind != FIRN_JSON_TRUE && f->kind != FIRN_JSON_FALSE &&
            f->value_len > lim.max_field_bytes &&
            !(f->name_len == 5 && memcmp(f->name, "image", 5) == 0))
            fail("a field over the size bound was accepted", NULL);
    }
    const firn_event_field *t = firn_event_get(&ev, "eventType", 9);
    int which = t && t->value_len == 12 && memcmp(t->value, "parking-exit", 12) == 0;
    firn_validation r;
    firn_error err;
    firn_error_init(&err);
    if (firn_validate(val[which], &ev, img, ilen, 1795694400000000LL, dd, &r, &err))
        fail("validate returned an error", err.message);
    for (size_t i = 0; i < r.nfailed; i++)
        if (!known_rule(r.failed[i])) fail("unknown rule name", r.failed[i]);
    if (r.nfailed == 0 && !r.redelivery) {
        size_t nc;
        const firn_column_desc *cols = firn_validator_columns(val[which], &nc);
        for (size_t i = 0; i < nc; i++)
            if (cols[i].required && r.row[i].is_null) fail("a required column is null", cols[i].name);
    }
    return 0;
}
