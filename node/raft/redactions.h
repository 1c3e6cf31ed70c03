/* SPDX-License-Identifier: MIT */
/*
 * The live cluster's list of redactions applied to a ledger decoded from a
 * backup (provcat-node --restore FILE --redactions LIST).
 */
#ifndef PC_REDACTIONS_H
#define PC_REDACTIONS_H

#include <stddef.h>

#include "storage/led.h"

struct redactions_count {
    unsigned long dropped; /* documents dropped (or already redacted) */
    unsigned long absent;  /* listed versions the ledger does not hold */
};

/*
 * Drop from `l` the documents listed in `text` (`len` bytes: pages of GET
 * /v1/redactions, one JSON object {"items": [...], ...} per line; blank
 * lines skipped). A listed version `l` holds must have the listed content
 * hash; one it does not hold (written after the backup) is counted in
 * `n->absent`. Returns PC_OK; PC_EINVAL with the line and item in
 * `errmsg` (malformed, or a content hash that differs: the list is not
 * this ledger's), after which `l` may have lost the documents of earlier
 * items (the caller discards it); PC_ENOMEM.
 * Context: any thread holding `l` alone; led_redact never allocates.
 */
int redactions_apply(struct led *l, const char *text, size_t len,
                     struct redactions_count *n, char *errmsg);

#endif
