/* SPDX-License-Identifier: MIT */
/*
 * The state machine: applies raft entries (packed commands, node/cmd.h) to
 * the ledger by the catalog rules, deterministically. Time comes from the
 * command (ledger time = max(command time, last fact time)), ids from
 * revisions, randomness only from values the leader put in the command.
 * Every rule that depends on replicated state is decided here; a refused
 * command appends one rejection fact. All other state (orgs, principals,
 * token hashes, idempotency keys, member URLs) is derived from the ledger
 * and rebuilt from it after a snapshot restore.
 * Loop thread only; no I/O, no clock, no randomness.
 */
#ifndef PC_FSM_H
#define PC_FSM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/hash.h"
#include "storage/led.h"

#define FSM_IDEM_WINDOW_MS (24 * 3600 * 1000LL)
#define FSM_SYSTEM         "system" /* author of facts no person wrote */

enum fsm_role {
    FSM_ROLE_AUTHORITY = 1 << 0,
    FSM_ROLE_PROVIDER = 1 << 1,
    FSM_ROLE_CONSUMER = 1 << 2,
    FSM_ROLE_OPERATOR = 1 << 3,
    FSM_ROLE_AUDITOR = 1 << 4,
};

/* Role bit for "provider" etc., 0 if unknown. */
unsigned fsm_role_parse(const char *name, size_t len);
const char *fsm_role_name(unsigned bit);

struct fsm_org {
    char *id;
    char *name;
    char *level;  /* province | city | county */
    char *kind;   /* agency | institution */
    char *parent; /* NULL at the top */
    bool authority;
    uint64_t rev; /* revision of the current version */
};

struct fsm_principal {
    char *id;
    char *org; /* NULL for citizens */
    unsigned roles;
    bool citizen;
    bool active; /* false once revoked */
    uint8_t token_hash[PC_HASH_LEN];
    uint64_t rev;
};

/* Share and open classes, most open last. */
enum fsm_class {
    FSM_CLASS_NONE = 0,
    FSM_CLASS_CONDITIONAL = 1,
    FSM_CLASS_UNCONDITIONAL = 2,
};

enum fsm_field_type {
    FSM_FIELD_STRING = 0,
    FSM_FIELD_INTEGER,
    FSM_FIELD_NUMBER,
    FSM_FIELD_BOOLEAN,
    FSM_FIELD_DATE,
    FSM_FIELD_OBJECT,
    FSM_FIELD_ARRAY,
};

struct fsm_field {
    char *name;
    enum fsm_field_type type;
    bool required;
};

enum fsm_entry_status {
    FSM_ENTRY_DRAFT = 0,
    FSM_ENTRY_SUBMITTED,
    FSM_ENTRY_PUBLISHED,
    FSM_ENTRY_REJECTED,
    FSM_ENTRY_RETIRED,
};

/* The current version of a catalog entry (derived from its ENTRY facts). */
struct fsm_entry {
    char *id;
    char *provider;   /* the provider org: the entry's single source */
    char *scope;      /* "province" or "city:<org>" */
    char *title_norm; /* normalised title, for one-data-one-source */
    enum fsm_entry_status status;
    enum fsm_class share;
    enum fsm_class open;
    int security_level; /* 1..4 */
    struct fsm_field *fields;
    size_t n_fields;
    uint64_t version; /* of the entry */
    uint64_t rev;     /* revision of the current version */
};

/* The answer to one command, built from facts so a replay gives the same. */
struct fsm_result {
    int status;         /* HTTP status */
    uint64_t first_rev; /* the command's first fact; 0 if none */
    uint32_t n_facts;
    bool replayed; /* an idempotent repeat: nothing appended */
    char code[32]; /* API error code when status >= 400 */
    char message[200];
};

struct fsm;

int fsm_new(struct fsm **out);
void fsm_free(struct fsm *f);

/*
 * Apply one raft entry at `raft_index`. Returns PC_OK with one result per
 * command (fsm_results), or an error that must stop the replica: PC_ENOMEM
 * (nothing changed; raft retries the entry), PC_EVERSION (a rules version
 * this build does not know: stop applying and say so), PC_EPROTO (an entry
 * that is not a command). Business refusals are results, never errors.
 */
int fsm_apply(struct fsm *f, const void *entry, size_t len, uint64_t raft_index,
              char *errmsg);

/* Results of the last fsm_apply, valid until the next one. */
size_t fsm_results(const struct fsm *f, const struct fsm_result **out);

/*
 * Replace the whole state with ledger `l` (verified by the snapshot codec),
 * taking ownership on PC_OK and rebuilding the derived state; on error the
 * old state stays and the caller keeps `l`.
 */
int fsm_restore(struct fsm *f, struct led *l, char *errmsg);

/* The ledger (borrowed; replaced by fsm_restore). */
struct led *fsm_led(const struct fsm *f);

/* Cluster id (hex) from genesis, NULL before genesis. */
const char *fsm_cluster_id(const struct fsm *f);

const struct fsm_org *fsm_org(const struct fsm *f, const char *id);
const struct fsm_principal *fsm_principal(const struct fsm *f, const char *id);
/* The active principal whose token hashes to `h`, or NULL. */
const struct fsm_principal *
fsm_principal_by_token(const struct fsm *f, const uint8_t h[PC_HASH_LEN]);

/* The catalog entry `id`, or NULL. */
const struct fsm_entry *fsm_entry(const struct fsm *f, const char *id);

/* The client URL the ledger records for node `id`, or NULL. */
const char *fsm_member_url(const struct fsm *f, uint64_t id);

/* Sorted ids of all orgs (for listing); `*n` entries, borrowed. */
int fsm_org_ids(const struct fsm *f, const char ***ids, size_t *n);

/*
 * Whether `p` may act as an authority over org `org_id` (its scope: the
 * provincial authority everything, a city authority its subtree).
 */
bool fsm_authority_over(const struct fsm *f, const struct fsm_principal *p,
                        const char *org_id);

/* ---- syntax checks shared with the HTTP layer (400s before proposing) -- */

/* An id: [A-Za-z0-9][A-Za-z0-9._-]{0,127}. */
bool fsm_id_valid(const char *s, size_t len);

/*
 * Check an org-creation body; on failure write a message naming the field
 * into `msg` (200 bytes) and return false.
 */
bool fsm_org_body_valid(const void *body, size_t len, char *msg);
/* Same for a principal-creation body. */
bool fsm_principal_body_valid(const void *body, size_t len, char *msg);
#endif
