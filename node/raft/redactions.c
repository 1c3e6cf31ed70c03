/* SPDX-License-Identifier: MIT */
/*
 * A backup older than a redaction still holds the document: a restore
 * takes the live cluster's list of redactions (GET /v1/redactions) and
 * drops those documents from the decoded ledger before it is written
 * (docs/node.md, Redaction and disks). Each listed version the ledger
 * holds must have the listed content hash, so a list of another ledger
 * cannot drop anything.
 */
#include "node/raft/redactions.h"

#include <stdio.h>
#include <string.h>

#include "common/err.h"
#include "common/hash.h"
#include "common/jcs.h"
#include "storage/idx.h"

/* String member `key` of `o` as a slice, or false. */
static bool
member_str(const struct jcs_val *o, const char *key, struct pc_slice *out)
{
    const struct jcs_val *v = jcs_get(o, key, strlen(key));
    size_t len;
    const char *s = v != NULL ? jcs_string(v, &len) : NULL;

    if (s == NULL) {
        return false;
    }
    *out = (struct pc_slice){ (const uint8_t *)s, len };
    return true;
}

/*
 * Drop from `l` the documents of one page of GET /v1/redactions (`d`):
 * each item's record version, when the backup has it, must have the
 * listed content hash (else the list is another ledger's: refused).
 * Counts what it dropped and what the ledger did not hold.
 */
static int
redact_page(struct led *l, const struct jcs_doc *d, size_t line,
            struct redactions_count *n, char *errmsg)
{
    const struct jcs_val *items = jcs_get(jcs_root(d), "items", 5);

    if (items == NULL || jcs_type(items) != JCS_ARRAY) {
        return pc_errmsgf(errmsg, PC_EINVAL,
                          "redactions line %zu: no \"items\" array", line);
    }
    for (size_t i = 0; i < jcs_len(items); i++) {
        const struct jcs_val *it = jcs_at(items, i), *v;
        struct pc_slice entry, key, hex;
        uint8_t want[PC_HASH_LEN];
        uint64_t version, rev;
        struct fact f;

        v = jcs_get(it, "version", 7);
        if (!member_str(it, "entry", &entry) || !member_str(it, "key", &key) ||
            !member_str(it, "content_hash", &hex) || v == NULL ||
            !jcs_is_integer(v) || jcs_number(v) < 1 ||
            !pc_unhex(want, PC_HASH_LEN, (const char *)hex.p, hex.len)) {
            return pc_errmsgf(errmsg, PC_EINVAL,
                              "redactions line %zu, item %zu: entry, key, "
                              "version and content_hash are required",
                              line, i);
        }
        version = (uint64_t)jcs_number(v);
        if (idx_version_rev(led_idx(l),
                            &(struct idx_key){ FACT_RECORD, entry, key },
                            version, &rev) != PC_OK) {
            n->absent++; /* written after the backup: not in it */
            continue;
        }
        if (led_get(l, rev, &f) != PC_OK || !f.has_content ||
            memcmp(f.content_hash, want, PC_HASH_LEN) != 0) {
            return pc_errmsgf(errmsg, PC_EINVAL,
                              "redactions line %zu, item %zu: version %llu "
                              "of \"%.*s\" \"%.*s\" in the backup has "
                              "another content hash: the list is not this "
                              "ledger's",
                              line, i, (unsigned long long)version,
                              (int)entry.len, (const char *)entry.p,
                              (int)key.len, (const char *)key.p);
        }
        led_redact(l, rev);
        n->dropped++;
    }
    return PC_OK;
}

int
redactions_apply(struct led *l, const char *text, size_t len,
                 struct redactions_count *n, char *errmsg)
{
    size_t line = 0;
    int rc = PC_OK;

    for (size_t at = 0; rc == PC_OK && at < len; line++) {
        const char *p = text + at;
        const char *nl = memchr(p, '\n', len - at);
        size_t ll = nl != NULL ? (size_t)(nl - p) : len - at;
        struct jcs_doc *d;
        char em[PC_ERRMSG_SIZE];
        bool blank = true;

        at += ll + (nl != NULL);
        for (size_t k = 0; k < ll; k++) {
            blank = blank && (p[k] == ' ' || p[k] == '\t' || p[k] == '\r');
        }
        if (blank) {
            continue;
        }
        rc = jcs_parse(p, ll, &d, em);
        if (rc == PC_ENOMEM) {
            return pc_errmsgf(errmsg, rc, "out of memory");
        }
        if (rc != PC_OK) {
            return pc_errmsgf(errmsg, PC_EINVAL, "redactions line %zu: %s",
                              line + 1, em);
        }
        rc = redact_page(l, d, line + 1, n, errmsg);
        jcs_doc_free(d);
    }
    return rc;
}
