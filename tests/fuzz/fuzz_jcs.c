/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for common/jcs. Any input is either refused with
 * PC_EINVAL and a message, or canonicalises to valid UTF-8 that is a fixed
 * point of canonicalisation and whose tree answers every lookup.
 */
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
    jcs_doc_free(d);
    check(jcs_utf8_valid(c1.data, c1.len));
    check(jcs_canonicalize((const char *)c1.data, c1.len, &c2, msg) == PC_OK);
    check(c1.len == c2.len && memcmp(c1.data, c2.data, c1.len) == 0);
    pc_buf_release(&c1);
    pc_buf_release(&c2);
    return 0;
}
