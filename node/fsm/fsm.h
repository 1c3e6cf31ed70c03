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

#include "common/digest.h"
#include "common/hash.h"
#include "node/fsm/calendar.h"
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
    /* The latest published or retired version (what principals outside
     * the provider org and its authority see while a change is pending):
     * its revision (0 if none yet) and its open class. */
    uint64_t public_rev;
    enum fsm_class public_open;
    enum fsm_class public_share;
    /* Records follow the latest published version, which stays in force
     * while a change to the entry awaits review: whether there is one (not
     * retired since) and its schema. */
    bool in_force;
    struct fsm_field *force_fields;
    size_t n_force_fields;
};

/* The answer to one command, built from facts so a replay gives the same. */
struct fsm_result {
    int status;         /* HTTP status */
    uint64_t first_rev; /* the command's first fact; 0 if none */
    uint32_t n_facts;
    uint64_t revision; /* the ledger's revision once the command applied */
    bool replayed;     /* an idempotent repeat: nothing appended */
    char code[32];     /* API error code when status >= 400 */
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

/*
 * How many Idempotency-Keys are remembered: those first used less than
 * FSM_IDEM_WINDOW_MS of ledger time before the last fact (older ones are
 * dropped as facts are appended, the same on every replica).
 */
size_t fsm_idem_count(const struct fsm *f);

/* Sorted ids of all orgs (for listing); `*n` entries, borrowed. */
int fsm_org_ids(const struct fsm *f, const char ***ids, size_t *n);

/*
 * Whether `p` may act as an authority over org `org_id` (its scope: the
 * provincial authority everything, a city authority its subtree).
 */
bool fsm_authority_over(const struct fsm *f, const struct fsm_principal *p,
                        const char *org_id);

/*
 * Whether `p` may read the ledger's facts one by one (GET
 * /v1/ledger/facts): operators and auditors, and the provincial authority.
 */
bool fsm_may_inspect_ledger(const struct fsm *f, const struct fsm_principal *p);

/* ---- reconciliation digests (digest.c; docs/format.md) ----------------- */

/* How far behind the applied revision a digest may be asked for: taking
 * that many facts back out of the current state costs some milliseconds. */
#define FSM_DIGEST_WINDOW 100000

/*
 * The digest states (counts and head sum) of the `n` entries `entries` at
 * revision `at` into `out[0..n)`: the maintained state for the applied
 * revision, with every record fact after `at` taken back out (one pass
 * over them, newest first). An entry without records has the empty state.
 * PC_OK; PC_ERANGE when `at` is beyond the applied revision or more than
 * FSM_DIGEST_WINDOW behind it; PC_ENOMEM; PC_ECORRUPT (a fact missing).
 * Loop thread; O(n + applied - at).
 */
int fsm_digests_at(const struct fsm *f, uint64_t at, const char *const *entries,
                   size_t n, struct pc_digest *out);

/*
 * Whether `p` may read the digests of entry `e` (GET /v1/ledger/digests):
 * operators and auditors every entry, an authority those in its scope
 * (fsm_entry_authority). With `e` NULL: whether it may ask at all (an
 * authority then sees the entries in its scope only).
 */
bool fsm_may_read_digests(const struct fsm *f, const struct fsm_principal *p,
                          const struct fsm_entry *e);

/* ---- syntax checks shared with the HTTP layer (400s before proposing) -- */

/* An id: [A-Za-z0-9][A-Za-z0-9._-]{0,127}. */
bool fsm_id_valid(const char *s, size_t len);

/* Whether `v` is non-blank text: a string of at most `max` bytes, not all
 * spaces, tabs, CRs and LFs (syntax.c). */
struct jcs_val;
bool fsm_text_ok(const struct jcs_val *v, size_t max);

/*
 * Check an org-creation body; on failure write a message naming the field
 * into `msg` (200 bytes) and return false.
 */
bool fsm_org_body_valid(const void *body, size_t len, char *msg);
/* Same for a principal-creation body. */
bool fsm_principal_body_valid(const void *body, size_t len, char *msg);

#define FSM_FIELD_LEN 64 /* bytes for the name of an offending body field */

/*
 * Check a catalog-entry body (POST /v1/catalog when `path_id` is NULL, else
 * PUT /v1/catalog/{path_id}): syntax, types, enums, unique field names, the
 * open class not above the share class. On failure write a message into
 * `msg` (200 bytes) and the offending field ("open.class", "fields[2].type")
 * into `field` (FSM_FIELD_LEN bytes) and return false. State-dependent rules
 * (provider org exists, scope org is a city authority) are apply's.
 */
bool fsm_entry_body_valid(const void *body, size_t len, const char *path_id,
                          char *msg, char *field);

/* ---- catalog-entry access, shared by apply and the read routes -------- */

/*
 * Whether `p` is an authority whose scope holds entry `e`: for scope
 * "province" the provincial authority, for "city:<A>" an authority over A.
 */
bool fsm_entry_authority(const struct fsm *f, const struct fsm_principal *p,
                         const struct fsm_entry *e);

/*
 * Whether `p` writes entry `e` for its provider side: a `provider` of the
 * provider org, or (scope "city:<A>") an `authority` of city authority A.
 */
bool fsm_entry_editor(const struct fsm *f, const struct fsm_principal *p,
                      const struct fsm_entry *e);

/*
 * The revision of the version of `e` that `p` (NULL: the public) may see, or
 * 0 when it may see none: the provider org and the authority in scope see
 * the current version; other principals the latest published or retired
 * one; the public that one only if its open class is not none.
 */
uint64_t fsm_entry_visible_rev(const struct fsm *f, const struct fsm_entry *e,
                               const struct fsm_principal *p);

/*
 * Whether `p` (NULL: the public) may see the version of `e` whose payload
 * says `status` and open class `open_class` (entry history): the provider
 * org, the entry's editors and the authority in scope every version; other
 * principals the published and retired ones; the public those of them
 * whose open class is not none.
 */
bool fsm_entry_version_visible(const struct fsm *f, const struct fsm_entry *e,
                               const struct fsm_principal *p,
                               const char *status, const char *open_class);
/* ---- records: syntax, schema and read access (rules_records.c) -------- */

struct jcs_doc;
struct jcs_val;

#define FSM_RECORD_KEY_MAX 512          /* bytes of UTF-8 */
#define FSM_RECORD_DOC_MAX (256u << 10) /* canonical bytes of a document */
#define FSM_BATCH_MAX      1000         /* records in one batch */

/* ---- version preconditions (precond.c) -------------------------------- */

/* The largest version a precondition may name: 2^53 - 1, the largest
 * integer every JSON reader holds exactly. */
#define FSM_VERSION_MAX 9007199254740991ULL

/*
 * The one rule for the version a precondition names (If-Match's "<n>", a
 * batch item's "if_version"): the `len` bytes of `s` are ASCII digits with
 * no leading zero ("0" itself is a number), and their value is from `min`
 * to FSM_VERSION_MAX. True with `*out` set, or false: the request is then
 * refused (400) before anything is proposed, never applied without it.
 */
bool fsm_version_parse(const char *s, size_t len, uint64_t min, uint64_t *out);
/*
 * fsm_version_parse of the literal JSON number `v` was written as in
 * `text` (the `len` bytes `v` was parsed from): so `1.0`, `1e0`, `-0` and
 * `9007199254740993` (read as 2^53 by a double) are refused, not rounded.
 */
bool fsm_version_literal(const char *text, size_t len, const struct jcs_val *v,
                         uint64_t min, uint64_t *out);

/*
 * A record key: 1-512 bytes of well-formed UTF-8 without C0 controls, DEL
 * or C1 controls (U+0080-U+009F), not "." or "..", and in Unicode NFC.
 * fsm_record_key_check sets `*ok` and returns PC_OK, or PC_ENOMEM when the
 * NFC check ran out of memory: apply must stop there rather than refuse a
 * key other replicas accept. fsm_record_key_valid (outside apply) counts
 * that as invalid.
 */
int fsm_record_key_check(const char *s, size_t len, bool *ok);
bool fsm_record_key_valid(const char *s, size_t len);

/*
 * Check document `doc` (the root of a parsed JSON value) against the
 * schema of entry `e`: an object whose required fields are present and not
 * null, and whose declared fields that are present and not null have their
 * declared type (date: a valid Gregorian YYYY-MM-DD; integer: integral and
 * |v| <= 2^53-1). Undeclared members are allowed. On a violation write the
 * field name into `field` (FSM_FIELD_LEN bytes, truncated) and a message
 * into `msg` (200 bytes) and return false.
 */
bool fsm_record_doc_valid(const struct fsm_entry *e, const struct jcs_val *doc,
                          char *field, char *msg);

/* One item of a batch; pointers borrow from the body it was read from. */
struct fsm_batch_item {
    const char *key;
    size_t key_len;
    const struct jcs_val *value; /* the parsed object; NULL when prepared */
    int64_t if_version;          /* -1 when absent; 0: must not exist */
    const uint8_t *doc;          /* the value's canonical bytes */
    size_t doc_len;
    const uint8_t *salt; /* PC_SALT_LEN bytes; prepared batches only */
};

struct fsm_batch {
    struct jcs_doc *doc; /* a parsed body's tree; NULL when prepared */
    struct fsm_batch_item *items;
    size_t n;
    struct pc_buf canon; /* a parsed body's canonical values, in order */
    /* "on_conflict": "skip_identical": an item whose live record already
     * holds the same canonical document is skipped (op "unchanged"). */
    bool skip_identical;
    /* Prepared batches: the revision of the entry version whose schema
     * every value was found valid against by the leader, or 0. */
    uint64_t schema_rev;
};

/*
 * Parse and check a batch body {"records": [{"key", "value",
 * "if_version"?}, ...], "on_conflict"?: "fail"|"skip_identical"}
 * (1..FSM_BATCH_MAX items, keys valid and distinct,
 * each value an object of at most FSM_RECORD_DOC_MAX canonical bytes, no
 * other members). Returns PC_OK with `out` filled (release with
 * fsm_batch_release); PC_EINVAL (400) or PC_ETOOLARGE (413, a value too large)
 * with `msg` (200 bytes), the offending member in `field` (FSM_FIELD_LEN)
 * and the failing item's index in `*index` (-1 for the envelope);
 * PC_ENOMEM. On error `out` is untouched.
 */
int fsm_batch_parse(const void *body, size_t len, struct fsm_batch *out,
                    char *msg, char *field, long *index);
void fsm_batch_release(struct fsm_batch *b);

/*
 * A prepared batch: what a leader proposes (CMD_RECORD_BATCH2) once
 * fsm_batch_parse accepted the request body, so replicas neither parse nor
 * canonicalise JSON. Binary: format byte 1, uvarint schema_rev, flags byte
 * (1: skip_identical), uvarint n, then per item: uvarint key length, key,
 * svarint if_version, PC_SALT_LEN salt bytes, uvarint document length,
 * canonical document. `schema_rev` is the entry's public_rev when every
 * value is valid against the schema in force (checked here, on `f`), else
 * 0: apply then checks each value itself, as it does whenever the entry
 * changed since. `salts` holds b->n salts. PC_OK or PC_ENOMEM.
 */
int fsm_batch_prepare(const struct fsm *f, const char *entry,
                      const struct fsm_batch *b, const uint8_t *salts,
                      struct pc_buf *out);
/*
 * Read a prepared batch (items borrow from `body`), with the checks that
 * cost nothing next to the appends: item count, key syntax and
 * distinctness, document size. PC_OK, PC_EINVAL with `msg` (200 bytes) and
 * `*index` (the item, or -1), or PC_ENOMEM.
 */
int fsm_batch_read(const void *body, size_t len, struct fsm_batch *out,
                   char *msg, long *index);

/* How a principal may read an entry's records. */
enum fsm_read_access {
    FSM_READ_DENIED = 0,
    FSM_READ_OWN,     /* the provider org: not audited */
    FSM_READ_OPEN,    /* anonymous, unconditionally open: counted only */
    FSM_READ_AUDITED, /* audited; answered at once */
    FSM_READ_GRANTED, /* through a grant: answered once its audit commits */
};

/* Through which grant a FSM_READ_GRANTED read goes (the audit event names
 * it; a share grant may limit the fields the reader gets). */
struct fsm_read_via {
    char id[32]; /* "gr-<rev>" (a share grant) or "or-<rev>" (an open
                  * request); "" when the read needs no grant */
    /* A share grant's field subset (borrowed from the grant, valid until
     * the next apply); NULL: every field. */
    char *const *fields;
    size_t n_fields;
};

/*
 * Whether `p` (NULL: the public) may read the records of entry `e`, which
 * it may see (fsm_entry_visible_rev): the provider org always; an
 * authority in the entry's scope and auditors always; another org's
 * consumer when the share class is unconditional, or when it is
 * conditional and the consumer's org holds an active share grant on `e`
 * (FSM_READ_GRANTED, the grant in `via`); anyone when the open class is
 * unconditional. `via` may be NULL; it is always written when given
 * ("" id and no fields unless FSM_READ_GRANTED). Loop thread.
 */
enum fsm_read_access fsm_may_read_records_via(const struct fsm *f,
                                              const struct fsm_principal *p,
                                              const struct fsm_entry *e,
                                              struct fsm_read_via *via);
/* fsm_may_read_records_via without the grant. */
enum fsm_read_access fsm_may_read_records(const struct fsm *f,
                                          const struct fsm_principal *p,
                                          const struct fsm_entry *e);

/* ---- sharing: requests, grants, counters (rules_share.c) -------------- */

/* A share request's state: the provider org's opinion comes first, then
 * the authority in the entry's scope decides. */
enum fsm_share_status {
    FSM_SHARE_PENDING_PROVIDER = 0,
    FSM_SHARE_PENDING_AUTHORITY,
    FSM_SHARE_APPROVED,
    FSM_SHARE_REJECTED,
    FSM_SHARE_N_STATUS,
};

/* "pending_provider" etc.; NULL when out of range. */
const char *fsm_share_status_name(unsigned s);
/* The status named `name`, or -1. */
int fsm_share_status_parse(const char *name);

/* A share request as derived from its facts; read-only for callers. */
struct fsm_share_request {
    uint64_t id;      /* its creating revision: the id is "sr-<id>" */
    char *entry;      /* the entry asked for */
    char *org;        /* the requesting org */
    char *requester;  /* the principal who asked */
    char *provider;   /* the entry's provider org */
    char *opinion_by; /* who gave the provider's opinion; NULL before */
    enum fsm_share_status status;
    int64_t submitted_ms; /* ledger time of each step; -1 before it */
    int64_t opinion_ms;
    int64_t decided_ms;
    uint64_t grant; /* once approved: the grant "gr-<grant>"; else 0 */
    uint64_t rev;   /* revision of the current version */
};

/* A grant's state at a given ledger time. */
enum fsm_grant_status {
    FSM_GRANT_ACTIVE = 0,
    FSM_GRANT_EXPIRED, /* its `days` have run out */
    FSM_GRANT_REVOKED, /* by the authority */
    FSM_GRANT_ENDED,   /* the entry's share class stopped being conditional
                        * or the entry was retired */
};

/* "active" etc.; NULL when out of range. */
const char *fsm_grant_status_name(unsigned s);
int fsm_grant_status_parse(const char *name);

/* A share grant as derived from its facts; read-only for callers. */
struct fsm_grant {
    uint64_t id;      /* its creating revision: "gr-<id>" */
    uint64_t request; /* the request it answers: "sr-<request>" */
    char *entry;
    char *org; /* the grantee org: its consumers may read the entry */
    char *provider;
    char **fields; /* the field subset granted; NULL: every field */
    size_t n_fields;
    int64_t granted_ms, ends_ms; /* ledger time; active while now < ends */
    bool revoked;
    int64_t revoked_ms;
    bool ended;             /* by a change of the entry (FSM_GRANT_ENDED) */
    int64_t ended_ms;       /* the time of the entry fact that ended it */
    uint64_t ended_rev;     /* that fact's revision */
    const char *end_reason; /* "share_class_changed" | "entry_retired" */
    uint64_t rev;           /* revision of the current version */
};

/* The grant's state at ledger time `now`. */
enum fsm_grant_status fsm_grant_status(const struct fsm_grant *g, int64_t now);

/* Request "sr-<id>" / grant "gr-<id>", or NULL. Borrowed: valid until the
 * next apply or restore. */
const struct fsm_share_request *fsm_share_request(const struct fsm *f,
                                                  uint64_t id);
const struct fsm_grant *fsm_grant(const struct fsm *f, uint64_t id);

/*
 * Every request / grant in the order they were made (by id), `*n` of them;
 * borrowed as fsm_share_request's. Lists page through them by id.
 */
size_t fsm_share_requests(const struct fsm *f,
                          struct fsm_share_request *const **out);
size_t fsm_grants(const struct fsm *f, struct fsm_grant *const **out);

/*
 * Whether `p` may see a request or grant on entry `entry` between
 * requesting org `org` and provider org `provider`: principals of either
 * org, the authority in the entry's scope and auditors. Others get 404.
 */
bool fsm_share_visible(const struct fsm *f, const struct fsm_principal *p,
                       const char *entry, const char *org,
                       const char *provider);

/*
 * Parse a server-assigned id "<prefix>-<rev>" (prefix "sr", "gr", ...;
 * rev 1..2^63-1 in decimal without leading zeros): true with `*rev`.
 */
bool fsm_server_id_parse(const char *s, const char *prefix, uint64_t *rev);

/*
 * Syntax of the sharing bodies, checked before proposing and again in
 * apply. On failure write a message into `msg` (200 bytes) and the
 * offending member into `field` (FSM_FIELD_LEN bytes) and return false.
 *   request: {"entry", "purpose", "fields"?: [...], "days": 1..3650}
 *   decide:  {"decision": "approve"|"reject", "reason"} (reason required,
 *            non-blank, for "reject")
 *   revoke:  {"reason"} (required, non-blank)
 */
bool fsm_share_request_body_valid(const void *body, size_t len, char *msg,
                                  char *field);
bool fsm_share_decide_body_valid(const void *body, size_t len, char *msg,
                                 char *field);
bool fsm_grant_revoke_body_valid(const void *body, size_t len, char *msg,
                                 char *field);

/*
 * Sharing counters, kept in apply (and rebuilt with the rest of the
 * derived state), so reports read them in O(log n): for the whole catalog,
 * one entry, one provider org (requests for its entries) or one
 * requesting org.
 */
enum fsm_share_scope {
    FSM_SHARE_ALL = 0,
    FSM_SHARE_ENTRY,     /* `id` is an entry id */
    FSM_SHARE_PROVIDER,  /* `id` is the provider org */
    FSM_SHARE_REQUESTER, /* `id` is the requesting org */
};

struct fsm_share_stats {
    uint64_t requests[FSM_SHARE_N_STATUS]; /* by current status */
    uint64_t requests_total;
    /* Response times in ms of ledger time: submission to the provider's
     * opinion, and submission to the authority's decision; the median of
     * each (the lower middle of an even count) and how many there were.
     * -1 when there were none. */
    uint64_t n_opinions, n_decisions;
    int64_t median_opinion_ms, median_decision_ms;
    /* Grants made, and their state at `now` (they add up). */
    uint64_t grants_total, grants_active, grants_expired, grants_revoked,
        grants_ended;
    size_t n_orgs; /* FSM_SHARE_ENTRY: distinct requesting orgs */
};

/*
 * Fill `out` with the counters of scope `scope` (`id` NULL for
 * FSM_SHARE_ALL) at ledger time `now` (grants active then). PC_OK, or
 * PC_ENOTFOUND when nothing was ever asked in that scope (`out` zeroed,
 * medians -1). Never allocates. Context: loop thread, as every fsm read.
 */
int fsm_share_stats(const struct fsm *f, enum fsm_share_scope scope,
                    const char *id, int64_t now, struct fsm_share_stats *out);

/*
 * The entries that were ever asked for (the demand list), in id byte
 * order, and the requesting orgs of one of them (sorted). Borrowed until
 * the next apply. PC_OK or PC_ENOMEM (the sorted cache could not be made).
 */
int fsm_share_demand_entries(const struct fsm *f, const char *const **ids,
                             size_t *n);
size_t fsm_share_entry_orgs(const struct fsm *f, const char *entry,
                            char *const **orgs);

/* ---- read-audit events (audit.c) -------------------------------------- */

#define FSM_AUDIT_MAX 10000 /* events in one audit fact */

/* One read-audit event as an audit fact holds it (docs/format.md). */
struct fsm_audit_event {
    const char *principal;
    const char *org;    /* NULL for a citizen */
    const char *action; /* "record.read", "record.history", "record.list" */
    const char *entry;
    const char *key; /* NULL for a listing */
    size_t key_len;
    uint64_t version; /* 0: none */
    int64_t count;    /* -1: none */
    int64_t at_ms;    /* the serving node's clock, >= the ledger time */
    const char *via;  /* "gr-<rev>" or "or-<rev>" for a read through a
                       * grant, else NULL */
};

/* Called for each event in order; return false to stop. */
typedef bool (*fsm_audit_event_cb)(void *arg, const struct fsm_audit_event *e);

/*
 * Decode the events of audit fact `rev` of ledger `l`, whichever encoding
 * it has (events in the payload, or the columns document of encoding 2),
 * calling `cb` for each; the strings are valid only during the call.
 * PC_OK; PC_ENOTFOUND (no such fact, or not an audit fact); PC_EFORBIDDEN
 * (its document was redacted); PC_ECORRUPT (a payload or document this
 * code did not write); PC_ENOMEM. Loop thread (reads the ledger).
 */
int fsm_audit_events(const struct led *l, uint64_t rev, fsm_audit_event_cb cb,
                     void *arg);

/*
 * A batch of audit events in encoding 2, built by the leader and proposed
 * as a CMD_AUDIT whose body is the document (docs/format.md):
 * fsm_audit_doc_init, one fsm_audit_doc_add per event, then
 * fsm_audit_doc_finish writes the canonical document into `out`.
 */
struct fsm_audit_doc;
int fsm_audit_doc_new(struct fsm_audit_doc **out);
void fsm_audit_doc_free(struct fsm_audit_doc *d);
/* Add `e` (strings copied). PC_OK or PC_ENOMEM (the batch unchanged). */
int fsm_audit_doc_add(struct fsm_audit_doc *d, const struct fsm_audit_event *e);
/* Events added so far, and the most bytes the document could take (an
 * upper bound: the leader keeps a batch under FACT_MAX_DOC with it). */
size_t fsm_audit_doc_count(const struct fsm_audit_doc *d);
size_t fsm_audit_doc_bytes(const struct fsm_audit_doc *d);
/* Write the document (appended to `out`) and empty the batch. PC_OK or
 * PC_ENOMEM (the batch kept). */
int fsm_audit_doc_finish(struct fsm_audit_doc *d, struct pc_buf *out);

/* ---- open data: requests, calendars, reports (rules_open.c) ----------- */

enum fsm_open_status {
    FSM_OPEN_PENDING = 0,
    FSM_OPEN_APPROVED,
    FSM_OPEN_REJECTED,
};

/* "pending", "approved", "rejected". */
const char *fsm_open_status_name(enum fsm_open_status s);

/*
 * An open request (article 23), derived from its OPEN_REQUEST facts. While
 * it is pending its due date follows the calendars in force (recomputed
 * when a year it consults changes); a decision freezes it.
 */
struct fsm_open_request {
    char *id;          /* "or-<rev>" */
    char *entry;       /* the catalog entry asked for */
    char *provider;    /* the entry's provider org: it decides */
    char *requester;   /* the principal that filed it; approval is its */
    uint64_t rev;      /* creating revision */
    uint64_t last_rev; /* revision of the latest version */
    enum fsm_open_status status;
    int64_t submitted_ms; /* ledger time of the request */
    int64_t decided_ms;   /* ledger time of the decision; 0 while pending */
    struct cal_due due;   /* the due day, its last ms, provisional */
    bool answered_late;   /* decided after due.at_ms */
};

/* The open request `id` ("or-<rev>"), or NULL. */
const struct fsm_open_request *fsm_open_request(const struct fsm *f,
                                                const char *id);

/*
 * Whether `p` may see open request `r`: the principal that filed it, any
 * principal of the entry's provider org, an authority in the entry's scope.
 */
bool fsm_open_request_visible(const struct fsm *f,
                              const struct fsm_principal *p,
                              const struct fsm_open_request *r);

/* Whether `r` is pending and ledger time `at_ms` is past its due_at. */
bool fsm_open_overdue(const struct fsm_open_request *r, int64_t at_ms);

/* What GET /v1/open-requests filters on. */
struct fsm_open_filter {
    int status;        /* enum fsm_open_status, or -1 for any */
    int overdue;       /* 1 overdue only, 0 not overdue only, -1 any */
    const char *entry; /* NULL for any */
    int64_t at_ms;     /* ledger time for `overdue` */
};

/*
 * The open requests `p` (NULL, the public: none) may see that pass `flt`,
 * in creating-revision
 * order, after revision `after` (0: from the start), at most `limit`:
 * `*out` (pc_free the array; the requests are borrowed until the next
 * apply) holds `*n`, and `*more` says whether more follow. PC_OK or
 * PC_ENOMEM. The principal's own requests and its org's come from their
 * own lists; an authority's listing walks every request.
 */
int fsm_open_list(const struct fsm *f, const struct fsm_principal *p,
                  const struct fsm_open_filter *flt, uint64_t after,
                  size_t limit, const struct fsm_open_request ***out, size_t *n,
                  bool *more);

/*
 * The id of the approved open request through which `p` may read the
 * records of `e` (the first approved, by revision), or NULL. It counts
 * only while the open class in force is conditional
 * (fsm_may_read_records).
 */
const char *fsm_open_grant(const struct fsm *f, const struct fsm_principal *p,
                           const struct fsm_entry *e);

/* Histogram buckets of response times in working days; the last one holds
 * FSM_OPEN_HIST_MAX and more. */
#define FSM_OPEN_HIST_MAX 64

/*
 * Open requests by status for the evaluation report (article 25), kept
 * per provider org, per entry and overall as requests are filed and
 * decided (counters, never a scan of requests).
 */
struct fsm_open_stats {
    uint64_t pending, approved, rejected;
    uint64_t answered_late; /* decided after their due_at */
    uint64_t overdue;       /* pending and past due at the asked time */
    /* Response time of decided requests: working days from the day of
     * receipt (not counted) to the day of decision, under the calendars
     * in force at the decision. The lower median, capped at
     * FSM_OPEN_HIST_MAX; -1 when nothing was decided. */
    int64_t median_days;
    int64_t mean_ms; /* mean ms from filing to decision; -1: none */
};

/*
 * The counters of provider org `org`'s requests, or of entry `entry`'s, or
 * of all (both NULL; `entry` wins when both are given), with `overdue`
 * counted at ledger time `at_ms` (pending requests whose due_at is before
 * it: O(overdue requests)). An org or entry without requests gets zeros
 * and -1s.
 */
void fsm_open_stats(const struct fsm *f, const char *org, const char *entry,
                    int64_t at_ms, struct fsm_open_stats *out);

/*
 * How many pending requests' due dates consulted `year`'s calendar: the
 * requests a change of that calendar recomputes (and no others).
 */
size_t fsm_open_pending_in_year(const struct fsm *f, int32_t year);

/* A year's calendar in force (the latest CALENDAR fact of that year). */
struct fsm_calendar {
    struct cal_year cal; /* its year, holidays and make-up working days */
    uint64_t rev;        /* the fact that set it */
};

/* The calendar of `year`, or NULL when none was set (Mon-Fri). */
const struct fsm_calendar *fsm_calendar(const struct fsm *f, int32_t year);

/* A calendar year in a path: 4 digits, CAL_YEAR_MIN..CAL_YEAR_MAX. */
bool fsm_calendar_year_parse(const char *s, int32_t *year);

/* An open request id: "or-" and a revision (digits, no leading zero). */
bool fsm_open_id_valid(const char *s, size_t len);

/*
 * Syntax of the open-data bodies (400 before proposing, checked again in
 * apply); on failure a message in `msg` (200 bytes) and the offending
 * member in `field` (FSM_FIELD_LEN bytes) and false:
 * - a request {"entry", "applicant", "data_type", "description",
 *   "purpose"}: all required, non-blank; entry an id; applicant and
 *   data_type at most 256 bytes, description and purpose 4096;
 * - a decision {"decision": "approve"|"reject", "reason"}: a reason of at
 *   most 4096 bytes, required (non-blank) for a rejection;
 * - a calendar of `year` {"holidays"?: [...], "workdays"?: [...]}: valid
 *   dates of that year, no repeats, no day in both lists, make-up working
 *   days on a Saturday or Sunday, and at least CAL_MIN_WORKDAYS working
 *   days left in the year.
 */
bool fsm_open_request_body_valid(const void *body, size_t len, char *msg,
                                 char *field);
bool fsm_open_decide_body_valid(const void *body, size_t len, char *msg,
                                char *field);
bool fsm_calendar_body_valid(int32_t year, const void *body, size_t len,
                             char *msg, char *field);

/*
 * Check a --holidays file: a JSON object whose keys are years and whose
 * values are calendars as PUT /v1/calendar/{year} takes them, e.g.
 * {"2027": {"holidays": ["2027-01-01"], "workdays": ["2027-02-07"]}}, at
 * most 100 years. PC_OK with its canonical form (lists sorted) appended
 * to `canon` (what genesis carries); PC_EINVAL with the first problem in
 * `errmsg` (PC_ERRMSG_SIZE), naming the place ("2027".workdays[0]: ...);
 * PC_ENOMEM.
 */
int fsm_holidays_check(const void *text, size_t len, struct pc_buf *canon,
                       char *errmsg);
/* ---- objections and redaction (rules_objections.c) -------------------- */

enum fsm_objection_kind {
    FSM_OBJECTION_ERROR = 0,
    FSM_OBJECTION_OMISSION,
    FSM_OBJECTION_PERSONAL_INFORMATION,
    FSM_OBJECTION_TRADE_SECRET,
};

/* open -> accepted -> resolved, or open -> rejected (docs/rules.md). */
enum fsm_objection_status {
    FSM_OBJECTION_OPEN = 0,
    FSM_OBJECTION_ACCEPTED,
    FSM_OBJECTION_REJECTED,
    FSM_OBJECTION_RESOLVED,
};

/* An objection's current state, derived from its OBJECTION facts (the whole
 * object is the payload of the fact at `rev`). */
struct fsm_objection {
    char *id;    /* "ob-<first_rev>" */
    char *entry; /* the entry it names */
    char *key;   /* the record key it names (maybe a missing one) */
    char *filer; /* the principal who filed it */
    enum fsm_objection_kind kind;
    enum fsm_objection_status status;
    uint64_t first_rev; /* revision of version 1 */
    uint64_t rev;       /* revision of the current version */
};

/* The objection `id`, or NULL. */
const struct fsm_objection *fsm_objection(const struct fsm *f, const char *id);

/*
 * Every objection in the order of creation (`*out` borrows fsm memory valid
 * until the next apply or restore): listings page over it.
 */
size_t fsm_objections(const struct fsm *f,
                      const struct fsm_objection *const **out);

/*
 * Whether `p` may see objection `o` (GET /v1/objections): its filer, any
 * principal of the entry's provider org, an authority whose scope holds the
 * entry, and auditors. `sees_existence` (may be NULL) is set for those
 * who may also see whether the named record existed when it was filed
 * (all of them but the filer from outside the provider org: no existence
 * oracle for record keys, docs/rules.md).
 */
bool fsm_objection_visible(const struct fsm *f, const struct fsm_principal *p,
                           const struct fsm_objection *o, bool *sees_existence);

/*
 * Objections of entry `entry` not yet settled (open or accepted), for the
 * quality report: a counter maintained in apply, O(1).
 */
uint64_t fsm_objections_open(const struct fsm *f, const char *entry);

/*
 * The accepted, unresolved objections on record (`entry`, `key`): the
 * record is disputed while there is one. Writes up to `max` of them into
 * `out` in the order of creation and returns how many there are.
 */
size_t fsm_record_disputes(const struct fsm *f, struct pc_slice entry,
                           struct pc_slice key,
                           const struct fsm_objection **out, size_t max);

/*
 * Revisions of the ledger's redaction facts, oldest first (`*revs`
 * borrows fsm memory valid until the next apply or restore).
 */
size_t fsm_redactions(const struct fsm *f, const uint64_t **revs);

/*
 * Check an objection-filing body {"entry", "key", "kind", "description"}:
 * false with a message (200 bytes) and the field (FSM_FIELD_LEN) on error.
 */
bool fsm_objection_body_valid(const void *body, size_t len, char *msg,
                              char *field);
/* A decision body {"decision": "accept"|"reject", "reason"}: the same. */
bool fsm_objection_decision_valid(const void *body, size_t len, char *msg,
                                  char *field);
/* A redaction body {"objection", "reason"}: the same. */
bool fsm_redaction_body_valid(const void *body, size_t len, char *msg,
                              char *field);
/* A server-assigned objection id: "ob-" and a revision (1-19 digits, no
 * leading zero). */
bool fsm_objection_id_valid(const char *s, size_t len);
/* The enum fsm_objection_kind, or status, named `name`; -1 for an unknown
 * name or NULL. */
int fsm_objection_kind_parse(const char *name);
int fsm_objection_status_parse(const char *name);

/* ---- reports: quality and evaluation counters (reports.c) ------------- */

/* Refused record writes are counted by error code; FSM_REJECT_N - 1 is
 * "other" (a code none of the others names). */
#define FSM_REJECT_N 8
/* "bad_request", "unauthorized", "forbidden", "not_found", "conflict",
 * "too_large", "invalid", "other"; NULL beyond. */
const char *fsm_reject_code_name(unsigned i);

/* An entry's timeliness against its update frequency. */
enum fsm_timeliness {
    FSM_TIMELY_NONE = 0, /* not judged: not in force, or no frequency */
    FSM_TIMELY_ON_TIME,
    FSM_TIMELY_LATE,  /* no write within the frequency's period */
    FSM_TIMELY_NEVER, /* no write at all since publication */
};

/* "on_time", "late", "never"; NULL for FSM_TIMELY_NONE. */
const char *fsm_timeliness_name(enum fsm_timeliness t);

/*
 * The period after which an entry of update frequency `freq` without a
 * record write is late, in ms of ledger time: realtime 1 h, daily 2 d,
 * weekly 8 d, monthly 32 d, quarterly 93 d, yearly 366 d; 0 for
 * irregular (never late); -1 for NULL or an unknown name.
 */
int64_t fsm_frequency_period_ms(const char *freq);

/*
 * Timeliness at ledger time `now` of an entry of frequency `freq` whose
 * last record write was at `last_ms` (-1: none): never without a write,
 * late when more than the period has passed since it, else on time
 * (exactly the period is on time). FSM_TIMELY_NONE for an unknown `freq`.
 */
enum fsm_timeliness fsm_timeliness(const char *freq, int64_t last_ms,
                                   int64_t now);

/* The quality counters of one entry (GET /v1/quality). */
struct fsm_quality {
    const char *entry;       /* borrowed until the next apply */
    uint64_t records;        /* live records: keys whose current version is not
                              * retired */
    uint64_t retired;        /* keys whose current version is retired */
    uint64_t versions;       /* record versions written, retirements included */
    int64_t last_write_ms;   /* ledger time of the last; -1: none */
    uint64_t last_write_rev; /* its revision; 0: none */
    const char *frequency;   /* of the version in force; NULL: none yet */
    enum fsm_timeliness timeliness; /* NONE unless the entry is in force */
    /* Completeness: of the live records whose completeness is known
     * (`known`), those whose current document holds every required field
     * of the schema in force (`complete`); `unchecked` live records were
     * written before the required fields last changed (at revision
     * `schema_rev`) and wait for the recount (fsm_reports_step). */
    uint64_t known, complete, unchecked;
    uint64_t schema_rev;
    uint64_t rejected[FSM_REJECT_N]; /* refused record writes by code */
    uint64_t rejected_total;
    uint64_t open_objections; /* fsm_objections_open */
};

/*
 * The quality counters of entry `entry` at ledger time `now` (for the
 * timeliness). PC_OK, or PC_ENOTFOUND when there is no such entry. O(1):
 * counters kept as facts are applied, never a scan of the records.
 */
int fsm_quality(const struct fsm *f, const char *entry, int64_t now,
                struct fsm_quality *out);

/*
 * Go on with the recount of completeness after a change of an entry's
 * required fields, checking at most `max_keys` keys' current documents
 * (some microseconds each). Returns the number of keys walked. Not
 * replicated state: a node calls it from its loop, outside apply, while
 * fsm_reports_pending() (the fsm's tests call it until that is false).
 * Loop thread.
 */
size_t fsm_reports_step(struct fsm *f, size_t max_keys);
bool fsm_reports_pending(const struct fsm *f);

/*
 * Who may ask for the reports (docs/rules.md, Reports):
 * - the quality report: auditors, authorities and any principal of an org
 *   (fsm_may_report_quality); of entry `e` (fsm_quality_visible), one it
 *   may see (fsm_entry_visible_rev) as an auditor, the authority in its
 *   scope or a principal of its provider org;
 * - the evaluation: auditors and authorities (every org; article 25 has
 *   the results published);
 * - the audit log: auditors and authorities, a city authority within its
 *   scope (fsm_audit_query).
 */
bool fsm_may_report_quality(const struct fsm *f, const struct fsm_principal *p);
bool fsm_quality_visible(const struct fsm *f, const struct fsm_principal *p,
                         const struct fsm_entry *e);
bool fsm_may_read_evaluation(const struct fsm *f,
                             const struct fsm_principal *p);
bool fsm_may_read_audit(const struct fsm *f, const struct fsm_principal *p);

/* Entries in force (published, not retired) by share and open class
 * (indexed by enum fsm_class). */
struct fsm_entry_classes {
    uint64_t total;
    uint64_t share[3];
    uint64_t open[3];
};

/* Those of provider org `org` (NULL: every org). O(1). */
void fsm_entry_classes(const struct fsm *f, const char *org,
                       struct fsm_entry_classes *out);

/*
 * Call `cb` for each pending open request past due at ledger time `at_ms`
 * (fsm_open_overdue), most overdue first, until it returns false: the
 * evaluation counts them per provider org in one pass. O(overdue).
 */
typedef bool (*fsm_open_request_cb)(void *arg,
                                    const struct fsm_open_request *r);
void fsm_open_overdue_each(const struct fsm *f, int64_t at_ms,
                           fsm_open_request_cb cb, void *arg);

/* ---- the audit log (audit_log.c) ---------------------------------------- */

/* Facts and audit batches one fsm_audit_query call looks at, at most. */
#define FSM_AUDIT_SCAN_FACTS   20000
#define FSM_AUDIT_SCAN_BATCHES 16

/*
 * One event of the audit log: a write fact (every fact but ticks and audit
 * batches: its kind's name is the action), or one read-audit event of an
 * audit batch. Strings and `fact` are valid during the callback only.
 */
struct fsm_audit_item {
    uint64_t rev;   /* the fact */
    uint32_t index; /* the event's place in its batch; 0 for a write */
    bool read;      /* a read-audit event */
    const char *action;
    struct pc_slice principal;
    struct pc_slice org;   /* empty: none (a citizen, the system) */
    struct pc_slice entry; /* empty: none */
    struct pc_slice key;   /* empty: none */
    uint64_t version;      /* 0: none */
    int64_t count;         /* a listing's count; -1: none */
    int64_t at_ms;   /* a write: its ledger time; a read: when it was served */
    const char *via; /* a read through a grant: its id; else NULL */
    const struct fact *fact; /* the fact holding the event */
};

/* What GET /v1/audit filters on (NULL: any); times inclusive. */
struct fsm_audit_filter {
    const char *principal, *org, *entry, *action;
    int64_t since_ms, until_ms; /* INT64_MIN, INT64_MAX: unbounded */
};

/* Where a listing stands: the next event to look at is event `index` of
 * fact `rev` (0, 0: the start). */
struct fsm_audit_pos {
    uint64_t rev;
    uint32_t index;
};

/* Called for each event a query gives; false: out of memory (the query
 * stops with PC_ENOMEM). */
typedef bool (*fsm_audit_item_cb)(void *arg, const struct fsm_audit_item *it);

/*
 * The audit log's events that pass `flt` and that `viewer` may see (an
 * auditor or the provincial authority every event; a city authority those
 * of orgs in its subtree or of entries in its scope), in ledger order from
 * `*pos`: `cb` gets up to `limit` (>= 1) of them. Looks at most at
 * FSM_AUDIT_SCAN_FACTS facts and FSM_AUDIT_SCAN_BATCHES audit batches,
 * walking the posting list of the filter that names the fewest facts.
 * On return `*more` says whether the listing goes on from `*pos` (a full
 * page, or the work bound; a page may then hold fewer than `limit`
 * events, even none). PC_OK, PC_ENOMEM, PC_ECORRUPT. Loop thread.
 */
int fsm_audit_query(const struct fsm *f, const struct fsm_principal *viewer,
                    const struct fsm_audit_filter *flt, size_t limit,
                    struct fsm_audit_pos *pos, bool *more, fsm_audit_item_cb cb,
                    void *arg);

/* Whether `action` is one the audit log has: a fact kind's name (but
 * "tick" and "audit") or a read action (fsm_audit_read_actions). */
bool fsm_audit_action_valid(const char *action);
/* "record.read", "record.history", "record.list", "audit.read", NULL. */
const char *const *fsm_audit_read_actions(void);

#endif
