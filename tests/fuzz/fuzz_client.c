/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for libprovcat's readers of server answers and import
 * lines: the JSON scanner (skip, members, unescape), a record answer and
 * a records:batch answer (parsed in place into one buffer). Any input is
 * refused or parsed into strings that lie within what was allocated
 * (AddressSanitizer checks) and say what the input said.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "client/client_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(int ok)
{
    if (!ok) {
        abort();
    }
}

static int
member(void *arg, const char *name, size_t len, const char *v, size_t vlen)
{
    const char *end = arg;
    char *n = pcl_json_unescape(name, len);

    check(v + vlen <= end && name + len <= end);
    check(pcl_json_skip(v, v + vlen) == v + vlen);
    if (n != NULL) {
        check(strlen(n) <= len);
        free(n);
    }
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    const char *end, *p;
    struct provcat_record rec;
    struct provcat_batch_result *res;

    if (text == NULL) {
        return 0;
    }
    memcpy(text, data, size);
    text[size] = '\0';
    end = text + size;

    p = pcl_json_skip(text, end);
    check(p == NULL || (p > text && p <= end));
    pcl_json_members(text, end, member, (void *)end);

    if (pcl_record_parse(text, end, &rec) == PROVCAT_OK) {
        check(rec.key != NULL && rec.op != NULL && rec.version > 0);
        check(rec.value == NULL || strlen(rec.value) <= size);
        pcl_record_release(&rec);
    }
    if (pcl_batch_parse(text, size, "entry", false, &res) == PROVCAT_OK) {
        size_t n = res->n_created + res->n_updated + res->n_unchanged;

        check(n == res->n_items);
        for (size_t i = 0; i < res->n_items; i++) {
            check(strcmp(res->items[i].entry, "entry") == 0);
            check(strlen(res->items[i].key) <= size);
            check(res->items[i].version > 0);
        }
        provcat_batch_result_free(res);
    }
    free(text);
    return 0;
}
