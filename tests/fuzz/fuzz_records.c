/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for record documents and batch bodies: the checks the
 * HTTP layer runs before proposing (fsm_record_key_valid, fsm_batch_parse,
 * canonical size) and the same bytes applied as RECORD commands to a state
 * machine holding a published entry: a batch body that parses is proposed
 * prepared (record.batch2) as a leader does, or, every other time, in the
 * JSON form older logs hold; raw bytes are also applied as a prepared
 * batch. The first input byte picks the path.
 * Any input must be refused cleanly or give results that hold the
 * invariants checked below; apply must never fail.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/jcs.h"
#include "node/cmd.h"
#include "node/fsm/fsm.h"
#include "storage/idx.h"
#include "storage/led.h"
#include "tests/fuzz/fuzzlib.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SALT     "00112233445566778899aabbccddeeff"
#define RENEW_AT 2000 /* fresh state machine after this many applies */
#define ENTRY_DOC                                                            \
    "{\"id\":\"e\",\"title\":\"e\",\"description\":\"\",\"provider\":"       \
    "\"dept\",\"theme\":\"t\",\"keywords\":[],\"fields\":["                  \
    "{\"name\":\"s\",\"type\":\"string\",\"required\":true},"                \
    "{\"name\":\"i\",\"type\":\"integer\",\"required\":false},"              \
    "{\"name\":\"d\",\"type\":\"date\",\"required\":false},"                 \
    "{\"name\":\"b\",\"type\":\"boolean\",\"required\":false},"              \
    "{\"name\":\"n\",\"type\":\"number\",\"required\":false},"               \
    "{\"name\":\"o\",\"type\":\"object\",\"required\":false},"               \
    "{\"name\":\"a\",\"type\":\"array\",\"required\":false}],"               \
    "\"share\":{\"class\":\"unconditional\"},\"open\":{\"class\":\"none\"}," \
    "\"update_frequency\":\"daily\",\"security_level\":1,\"scope\":"         \
    "\"province\"}"

static struct fuzz_fsm z = { .step_ms = 1 };

static void
setup(void)
{
    fuzz_start(&z, fuzz_hash_hex("t"));
    fuzz_org(&z, "dept", "d", "province", false);
    fuzz_principal(&z, "prov", "dept", "provider", fuzz_hash_hex("p"));
    fuzz_publish(&z, "prov", "e", ENTRY_DOC);
}

/* A document as the HTTP layer and apply see it. */
static void
one_document(const uint8_t *p, size_t n)
{
    const struct fsm_entry *e = fsm_entry(z.f, "e");
    char field[FSM_FIELD_LEN], msg[200];
    struct jcs_doc *d;
    struct pc_buf canon;
    uint64_t before = led_count(fsm_led(z.f));
    int status;
    bool valid = false, small = false;

    field[0] = msg[0] = '\0';
    pc_buf_init(&canon);
    if (jcs_parse((const char *)p, n, &d, NULL) == PC_OK) {
        check(jcs_emit(d, &canon) == PC_OK);
        small = canon.len <= FSM_RECORD_DOC_MAX;
        valid = fsm_record_doc_valid(e, jcs_root(d), field, msg);
        check(valid || strlen(msg) > 0);
        check(jcs_utf8_valid((const uint8_t *)field, strlen(field)));
        jcs_doc_free(d);
    }
    status = fuzz_apply(&z, CMD_RECORD_PUT, "prov", "e/k", p, n,
                        "{\"salt\":\"" SALT "\"}")
                 .status;
    /* one fact either way: the version or its rejection */
    check(led_count(fsm_led(z.f)) == before + 1);
    if (valid && small) {
        uint8_t h[PC_HASH_LEN], salt[PC_SALT_LEN];
        struct pc_buf stored;
        struct fact f;

        check(status == 200 || status == 201);
        check(led_get(fsm_led(z.f), before + 1, &f) == PC_OK);
        pc_buf_init(&stored);
        check(led_doc_get(fsm_led(z.f), before + 1, &stored, salt) == PC_OK);
        check(stored.len == canon.len &&
              memcmp(stored.data, canon.data, canon.len) == 0);
        pc_hash_content(h, salt, stored.data, stored.len);
        check(memcmp(h, f.content_hash, PC_HASH_LEN) == 0);
        pc_buf_release(&stored);
    } else {
        check(status == 400 || status == 413 || status == 422);
    }
    pc_buf_release(&canon);
}

/* A batch body through the parser, then through apply. */
static void
one_batch(const uint8_t *p, size_t n, bool legacy)
{
    char field[FSM_FIELD_LEN], msg[200], *extra;
    struct fsm_batch b;
    uint64_t before = led_count(fsm_led(z.f));
    size_t items = 0, len;
    bool skipping = false;
    long index;
    int rc, status;

    rc = fsm_batch_parse(p, n, &b, msg, field, &index);
    check(rc == PC_OK || rc == PC_EINVAL || rc == PC_ETOOLARGE);
    if (rc == PC_OK) {
        items = b.n;
        skipping = b.skip_identical;
        check(b.n >= 1 && b.n <= FSM_BATCH_MAX);
        for (size_t i = 0; i < b.n; i++) {
            check(fsm_record_key_valid(b.items[i].key, b.items[i].key_len));
            check(jcs_type(b.items[i].value) == JCS_OBJECT);
            check(b.items[i].if_version >= -1);
            for (size_t j = 0; j < i; j++) {
                check(b.items[i].key_len != b.items[j].key_len ||
                      memcmp(b.items[i].key, b.items[j].key,
                             b.items[i].key_len) != 0);
            }
        }
        fsm_batch_release(&b);
    } else {
        check(index >= -1 && strlen(msg) > 0);
    }
    if (rc == PC_OK && !legacy) {
        struct pc_buf prep;
        uint8_t *salts = calloc(items, PC_SALT_LEN);

        check(salts != NULL);
        pc_buf_init(&prep);
        check(fsm_batch_parse(p, n, &b, msg, field, &index) == PC_OK);
        check(fsm_batch_prepare(z.f, "e", &b, salts, &prep) == PC_OK);
        fsm_batch_release(&b);
        status = fuzz_apply(&z, CMD_RECORD_BATCH2, "prov", "e", prep.data,
                            prep.len, "")
                     .status;
        pc_buf_release(&prep);
        free(salts);
    } else {
        len = 16 + items * 32;
        extra = malloc(len);
        check(extra != NULL);
        size_t at = (size_t)snprintf(extra, len, "{\"salts\":\"");
        for (size_t i = 0; i < items; i++) {
            at += (size_t)snprintf(extra + at, len - at, "%s", SALT);
        }
        snprintf(extra + at, len - at, "\"}");
        status =
            fuzz_apply(&z, CMD_RECORD_BATCH, "prov", "e", p, n, extra).status;
        free(extra);
    }
    if (status == 200) {
        check(rc == PC_OK);
        /* one fact per item, but for skipped identical ones */
        check(led_count(fsm_led(z.f)) == before + items ||
              (skipping && led_count(fsm_led(z.f)) < before + items));
    } else {
        /* all or none: only the rejection */
        check(led_count(fsm_led(z.f)) == before + 1);
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (z.f == NULL || z.applies >= RENEW_AT) {
        setup();
    }
    if (size < 1) {
        return 0;
    }
    switch (data[0] % 5) {
    case 0:
        one_document(data + 1, size - 1);
        break;
    case 1:
    case 2:
        one_batch(data + 1, size - 1, data[0] % 5 == 2);
        break;
    case 3: {
        /* whatever a faulty leader could propose: refused or applied whole */
        uint64_t before = led_count(fsm_led(z.f));
        int status = fuzz_apply(&z, CMD_RECORD_BATCH2, "prov", "e", data + 1,
                                size - 1, "")
                         .status;

        check(status == 200 || led_count(fsm_led(z.f)) == before + 1);
        break;
    }
    default: {
        bool ok = fsm_record_key_valid((const char *)data + 1, size - 1);

        if (ok) {
            check(size - 1 >= 1 && size - 1 <= FSM_RECORD_KEY_MAX);
            check(jcs_utf8_valid(data + 1, size - 1));
            check(memchr(data + 1, 0, size - 1) == NULL);
        }
        break;
    }
    }
    return 0;
}
