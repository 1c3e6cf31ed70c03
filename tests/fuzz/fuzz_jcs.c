/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for common/jcs. Any input is either refused with
 * PC_EINVAL and a message, or canonicalises to valid UTF-8 that is a fixed
 * point of canonicalisation and whose tree answers every lookup; written
 * again value by value through the writer, it gives the same bytes.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/jcs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(int ok)
{
    if (!ok) {
        abort();
    }
}

/* Every member found by key is the one at its index; types are sane. */
static void
walk(const struct jcs_val *v)
{
    size_t len;

    switch (jcs_type(v)) {
    case JCS_OBJECT:
        for (size_t i = 0; i < jcs_len(v); i++) {
            const char *k = jcs_key(v, i, &len);

            check(k != NULL && jcs_utf8_valid((const uint8_t *)k, len));
            check(jcs_get(v, k, len) == jcs_at(v, i));
            walk(jcs_at(v, i));
        }
        check(jcs_at(v, jcs_len(v)) == NULL);
        break;
    case JCS_ARRAY:
        for (size_t i = 0; i < jcs_len(v); i++) {
            walk(jcs_at(v, i));
        }
        check(jcs_at(v, jcs_len(v)) == NULL);
        break;
    case JCS_STRING: {
        const char *s = jcs_string(v, &len);

        check(s != NULL && jcs_utf8_valid((const uint8_t *)s, len));
        break;
    }
    case JCS_NUMBER: {
        char out[JCS_NUMBER_SIZE];

        check(jcs_format_double(jcs_number(v), out) > 0);
        break;
    }
    default:
        check(jcs_len(v) == 0);
        break;
    }
}

/* Whether containers nest more than `depth` deep in `v`. */
static bool
deeper_than(const struct jcs_val *v, int depth)
{
    if (jcs_type(v) != JCS_ARRAY && jcs_type(v) != JCS_OBJECT) {
        return false;
    }
    if (depth == 0) {
        return true;
    }
    for (size_t i = 0; i < jcs_len(v); i++) {
        if (deeper_than(jcs_at(v, i), depth - 1)) {
            return true;
        }
    }
    return false;
}

/* Write `v` again through the writer; integral numbers as integers. */
static void
rewrite(struct jcs_writer *w, const struct jcs_val *v)
{
    const char *s;
    size_t len;

    switch (jcs_type(v)) {
    case JCS_NULL:
        jcs_w_null(w);
        break;
    case JCS_TRUE:
    case JCS_FALSE:
        jcs_w_bool(w, jcs_type(v) == JCS_TRUE);
        break;
    case JCS_NUMBER:
        if (jcs_is_integer(v)) {
            jcs_w_int(w, (int64_t)jcs_number(v));
        } else {
            jcs_w_double(w, jcs_number(v));
        }
        break;
    case JCS_STRING:
        s = jcs_string(v, &len);
        jcs_w_strn(w, s, len);
        break;
    case JCS_ARRAY:
        jcs_w_arr(w);
        for (size_t i = 0; i < jcs_len(v); i++) {
            rewrite(w, jcs_at(v, i));
        }
        jcs_w_arr_end(w);
        break;
    case JCS_OBJECT:
        jcs_w_obj(w);
        for (size_t i = 0; i < jcs_len(v); i++) {
            s = jcs_key(v, i, &len);
            jcs_w_keyn(w, s, len);
            rewrite(w, jcs_at(v, i));
        }
        jcs_w_obj_end(w);
        break;
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct jcs_doc *d;
    struct pc_buf c1, c2;
    char msg[PC_ERRMSG_SIZE] = "";
    int rc;

    rc = jcs_parse((const char *)data, size, &d, msg);
    if (rc != PC_OK) {
        check(rc == PC_EINVAL && strstr(msg, " at byte ") != NULL);
        return 0;
    }
    walk(jcs_root(d));
    pc_buf_init(&c1);
    pc_buf_init(&c2);
    check(jcs_emit(d, &c1) == PC_OK);
    /* The writer nests at most JCS_W_MAX_DEPTH deep. */
    if (!deeper_than(jcs_root(d), JCS_W_MAX_DEPTH)) {
        struct jcs_writer w;

        jcs_w_init(&w, &c2);
        rewrite(&w, jcs_root(d));
        check(jcs_w_finish(&w) == PC_OK);
        check(c1.len == c2.len && memcmp(c1.data, c2.data, c1.len) == 0);
        c2.len = 0;
    }
    jcs_doc_free(d);
    check(jcs_utf8_valid(c1.data, c1.len));
    check(jcs_canonicalize((const char *)c1.data, c1.len, &c2, msg) == PC_OK);
    check(c1.len == c2.len && memcmp(c1.data, c2.data, c1.len) == 0);
    pc_buf_release(&c1);
    pc_buf_release(&c2);
    return 0;
}
