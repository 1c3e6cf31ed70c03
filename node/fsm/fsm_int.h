/* SPDX-License-Identifier: MIT */
/* Internals shared by the state machine's files; never included outside. */
#ifndef PC_FSM_INT_H
#define PC_FSM_INT_H

#include <stdarg.h>
#include <string.h>

#include "common/jcs.h"
#include "common/map.h"
#include "node/cmd.h"
#include "node/fsm/fsm.h"

/*
 * A principal's Idempotency-Key: the command that first used it. Owned by
 * the queue (struct fsm_idem_queue); the map borrows it while it is live.
 */
struct fsm_idem {
    uint64_t rev;    /* the command's first fact (or its rejection) */
    int64_t time_ms; /* ledger time of that fact */
    uint8_t fingerprint[CMD_FINGERPRINT_LEN];
    bool superseded; /* a later use of the key replaced it in the map */
    size_t key_len;
    uint8_t key[]; /* the map key: principal NUL key */
};

/*
 * Every struct fsm_idem in the order of its fact, so of ledger time: a
 * ring of `len` entries from `head`. Each appended fact first drops the
 * entries FSM_IDEM_WINDOW_MS or more older than it (fsm_idem_expire),
 * which apply no longer consults anyway: what stays is a function of the
 * ledger alone, the same on every replica and after a rebuild.
 */
struct fsm_idem_queue {
    struct fsm_idem **v;
    size_t head, len, cap;
};

struct fsm_share;
struct fsm_digest_slot;

struct fsm {
    struct led *led;
    char *cluster_id;
    struct pc_map orgs;       /* id -> struct fsm_org */
    struct pc_map principals; /* id -> struct fsm_principal */
    struct pc_map tokens;     /* token hash -> principal (borrowed) */
    struct pc_map members;    /* node id (decimal) -> client URL */
    struct pc_map idem;       /* principal NUL key -> struct fsm_idem */
    struct pc_map entries;    /* entry id -> struct fsm_entry */
    struct pc_map digests; /* entry id -> struct fsm_digest_slot (digest.c) */
    struct fsm_digest_slot *digest_last; /* the one used last, or NULL */
    struct fsm_share *share; /* requests, grants, counters (rules_share.c) */
    struct fsm_open *open;   /* open requests, calendars (rules_open.c) */
    struct fsm_objections
        *obj;                /* objections, redactions (rules_objections.c) */
    struct fsm_reports *rep; /* quality and evaluation (reports.c) */
    struct fsm_audit_log *alog; /* the audit log's index (audit_log.c) */
    /* While apply appends an audit batch: the document it just checked,
     * which the audit log indexes instead of reading it back. */
    const struct jcs_val *audit_hint;
    struct fsm_result *results;
    size_t n_results, cap_results;
    const char **org_ids; /* sorted cache for listings */
    size_t n_org_ids;
    bool org_ids_stale;
    bool derived_broken; /* a rebuild ran out of memory: redo first */
    /* Owns the entries of `idem`, oldest first. */
    struct fsm_idem_queue idem_q;
};

/* One command being applied. */
struct fsm_ctx {
    struct fsm *f;
    const struct cmd *cmd;
    uint64_t raft_index;
    int64_t now; /* ledger time for this command */
    char *errmsg;
    uint64_t first_rev;
    uint32_t n_facts;
    int status;
    char code[32];
    char message[200];
};

/*
 * Append one fact for the command with canonical JSON `payload` and a
 * document (NULL for none): the ledger hashes it. PC_OK, PC_ENOMEM,
 * PC_EINVAL.
 */
int fsm_emit_canonical(struct fsm_ctx *c, uint32_t kind, struct pc_slice parent,
                       struct pc_slice id, struct pc_slice payload,
                       const struct led_doc *doc);
/*
 * fsm_emit_canonical of what writer `w` wrote (finished here): PC_OK, the
 * writer's error (PC_ENOMEM; PC_EINVAL, a bug: a string not UTF-8) or the
 * append's. A payload is written so (members in canonical key order):
 *
 *     struct jcs_writer w;
 *     struct pc_buf p;
 *
 *     pc_buf_init(&p);
 *     jcs_w_init(&w, &p);
 *     jcs_w_obj(&w);
 *     jcs_w_kstr(&w, "id", id);
 *     jcs_w_kint(&w, "n", n);
 *     jcs_w_obj_end(&w);
 *     rc = fsm_emit_w(c, FACT_ORG, parent, id_slice, &w);
 *     pc_buf_release(&p);
 */
int fsm_emit_w(struct fsm_ctx *c, uint32_t kind, struct pc_slice parent,
               struct pc_slice id, struct jcs_writer *w);

/* Refuse the command: set the result and append a rejection fact. */
int fsm_reject(struct fsm_ctx *c, int status, const char *code,
               struct pc_slice parent, struct pc_slice id, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));
/* fsm_reject with extra members for the error body: `detail` (canonical
 * JSON of an object, see fsm_detail; NULL for none) is kept as the
 * rejection payload's "detail". */
int fsm_reject_detail(struct fsm_ctx *c, int status, const char *code,
                      struct pc_slice parent, struct pc_slice id,
                      const struct pc_buf *detail, const char *fmt, ...)
    __attribute__((format(printf, 7, 8)));

/*
 * Write a rejection's detail object to `out`: "current_version" when
 * `current` >= 0, "field" when `field` is not NULL, "index" when `index` >=
 * 0, "key" when `key` is not empty. PC_OK or PC_ENOMEM.
 */
int fsm_detail(struct pc_buf *out, int64_t current, const char *field,
               long index, struct pc_slice key);

/* Command syntax (syntax.c). */

/*
 * Parse JSON a command carries (its body or the leader's extra) for the
 * rules that keep its strings as C strings (orgs, principals, catalog
 * entries, cluster commands, audit batches): by jcs_parse's rules, and
 * refusing a string or key that holds U+0000. Record documents, where
 * U+0000 is data, go to jcs_parse itself. PC_OK with `*out` (jcs_doc_free
 * it); PC_EINVAL with the reason in `errmsg` (PC_ERRMSG_SIZE, may be
 * NULL); PC_ENOMEM, which is never a verdict.
 */
int fsm_parse(const void *p, size_t len, struct jcs_doc **out, char *errmsg);
/*
 * fsm_parse of a body that must be an object: PC_OK with `*out`; PC_EINVAL
 * with `msg` (200 bytes: "malformed JSON: ..." or "the body must be a
 * JSON object"); PC_ENOMEM (`msg` "out of memory").
 */
int fsm_parse_object(const void *p, size_t len, struct jcs_doc **out,
                     char *msg);

/* Member `key` of object `o`; NULL when `o` is NULL or not an object, or
 * has no such member. */
const struct jcs_val *fsm_get(const struct jcs_val *o, const char *key);
/* Its string value and length (`len` may be NULL), or NULL when absent or
 * not a string. */
const char *fsm_get_str(const struct jcs_val *o, const char *key, size_t *len);
/* Whether it is `true`. */
bool fsm_get_true(const struct jcs_val *o, const char *key);
/*
 * The key of the first member of object `o`, in the order of the text it
 * was parsed from, that is not one of `allowed` (NULL-terminated); NULL
 * when there is none. Messages name that one, as they always did.
 */
const char *fsm_unknown_member(const struct jcs_val *o,
                               const char *const *allowed);

/* A copy of string member `key` of `o` (pc_free it); NULL when absent or
 * out of memory. */
char *fsm_get_dup(const struct jcs_val *o, const char *key);
/* The index of `s` in the NULL-terminated list `names`; -1 when it is not
 * there or `s` is NULL. */
int fsm_name_index(const char *const *names, const char *s);

/* Whether the `len` bytes at `s` are all spaces, tabs, CRs and LFs (none
 * is blank too). */
bool fsm_blank(const char *s, size_t len);

/*
 * A body check: true, or false with why in `msg` (200 bytes) and the
 * member at fault in `field` (FSM_FIELD_LEN bytes; "" for none).
 */
typedef bool (*fsm_body_check_cb)(const struct jcs_val *o, char *msg,
                                  char *field);
/* A check's verdict against member `f`: `m` in `msg`, `f` in `field`;
 * returns false. */
bool fsm_check_fail(char *msg, char *field, const char *f, const char *m);
/* Whether `body` is a JSON object (fsm_parse_object) passing `check`: what
 * the API asks before proposing (the fsm_*_body_valid calls). */
bool fsm_body_valid(const void *body, size_t len, fsm_body_check_cb check,
                    char *msg, char *field);
/*
 * Refuse the command with `status` (400 bad_request or 409 conflict) and
 * message `msg`, its detail naming `field` (NULL: no detail).
 */
int fsm_reject_field(struct fsm_ctx *c, int status, struct pc_slice parent,
                     struct pc_slice id, const char *field, const char *msg);
/*
 * The command's body as a JSON object passing `check` (NULL: any object):
 * PC_OK with `*d` (jcs_doc_free it); otherwise `*d` NULL and PC_ENOMEM or
 * what refusing it returned (400 on `id`, naming the field the check
 * named, if any).
 */
int fsm_command_body(struct fsm_ctx *c, fsm_body_check_cb check,
                     struct pc_slice id, struct jcs_doc **d);

/* Reconciliation digests (digest.c): step the record fact `fact` (just
 * appended or loaded) into its entry's digest; PC_OK, PC_ENOMEM,
 * PC_ECORRUPT. Release them all for a rebuild. */
int fsm_digest_record(struct fsm *f, const struct fact *fact);
void fsm_digests_release(struct fsm *f);

/* A C string (NULL: none) as a slice. */
static inline struct pc_slice
fsm_str_slice(const char *s)
{
    return (struct pc_slice){ (const uint8_t *)s, s == NULL ? 0 : strlen(s) };
}

/* qsort's comparison of two `const char *`, by strcmp. */
int fsm_cmp_str(const void *a, const void *b);

/* Update derived state for a fact (apply and rebuild share this). */
int fsm_derive(struct fsm *f, const struct fact *fact);

int fsm_idem_key(struct pc_buf *out, struct pc_slice principal,
                 struct pc_slice key);
/* Drop the idempotency keys used FSM_IDEM_WINDOW_MS or more before
 * `now_ms` (a fact's ledger time). Never allocates. */
void fsm_idem_expire(struct fsm *f, int64_t now_ms);

/* The status a successful command of `type` answers (201 for creations;
 * a record PUT says itself: 201 created, 200 updated). */
int fsm_success_status(uint32_t type);

/* Dispatch to the rules for c->cmd->type. */
int fsm_rules_apply(struct fsm_ctx *c);

/* Catalog entries (rules_catalog.c). */
int fsm_rules_catalog(struct fsm_ctx *c, const struct fsm_principal *actor);
int fsm_derive_entry(struct fsm *f, const struct fact *fact,
                     const struct jcs_val *payload);
/* Free a struct fsm_entry (a pc_map_free_cb: the values of f->entries). */
void fsm_entry_free(void *entry);

/* Records and read audit (rules_records.c). */
int fsm_rules_records(struct fsm_ctx *c, const struct fsm_principal *actor);
int fsm_rules_audit(struct fsm_ctx *c);
/* For a replayed record PUT, set `*status` from its first fact (201
 * created, 200 updated); other commands leave it. PC_OK, PC_ENOMEM or
 * PC_ECORRUPT. */
int fsm_records_replay_status(uint32_t type, const struct fact *first,
                              int *status);

/* Sharing (rules_share.c): the derived state's life, the derivation of
 * SHARE_REQUEST and GRANT facts, grants ended by an ENTRY fact, the grant
 * a read goes through (`via` may be NULL), and the share commands. */
int fsm_share_new(struct fsm_share **out);
void fsm_share_reset(struct fsm_share *s);
void fsm_share_free(struct fsm_share *s);
int fsm_derive_share(struct fsm *f, const struct fact *fact,
                     const struct jcs_val *payload);
int fsm_share_entry_changed(struct fsm *f, const struct fact *fact);
bool fsm_share_grant_for(const struct fsm *f, const struct fsm_principal *p,
                         const struct fsm_entry *e, struct fsm_read_via *via);
int fsm_rules_share(struct fsm_ctx *c, const struct fsm_principal *actor);

/* Audit batches in encoding 2 (audit.c): a CMD_AUDIT with a body. */
int fsm_audit_apply_doc(struct fsm_ctx *c);

/* The operator's cluster operations (rules_ops.c). */
int fsm_rules_ops(struct fsm_ctx *c, const struct fsm_principal *actor);

/* Open data (rules_open.c): requests, decisions, calendars. The state
 * lives behind `f->open`; fsm_open_clear empties it for a rebuild. */
struct fsm_open *fsm_open_new(void);
void fsm_open_clear(struct fsm_open *o);
void fsm_open_free(struct fsm_open *o);
int fsm_rules_open(struct fsm_ctx *c, const struct fsm_principal *actor);
/* Derive an OPEN_REQUEST or CALENDAR fact. */
int fsm_derive_open(struct fsm *f, const struct fact *fact,
                    const struct jcs_val *payload);
/* Genesis's "calendar" member (a --holidays file): PC_OK when valid,
 * PC_EINVAL, PC_ENOMEM; then append its CALENDAR facts, years ascending. */
int fsm_open_genesis_check(const struct jcs_val *cal);
int fsm_open_genesis_calendars(struct fsm_ctx *c, const struct jcs_val *cal);
/*
 * Objections and redaction (rules_objections.c): the commands
 * objection.file, objection.decide and record.redact; the derived state
 * (struct fsm_objections: objections by id and in order of creation,
 * per-entry counts of unsettled ones, per-record lists, the redaction
 * facts), created by fsm_objections_new and emptied on a rebuild.
 */
struct fsm_objections;
int fsm_rules_objections(struct fsm_ctx *c, const struct fsm_principal *actor);
int fsm_objections_new(struct fsm_objections **out);
void fsm_objections_free(struct fsm_objections *o);
void fsm_objections_clear(struct fsm_objections *o);
int fsm_derive_objection(struct fsm *f, const struct fact *fact,
                         const struct jcs_val *payload);
int fsm_derive_redaction(struct fsm *f, const struct fact *fact,
                         const struct jcs_val *payload);
/* After a rebuild: drop the document of every version a redaction fact
 * names (a no-op for those a snapshot already holds redacted). */
void fsm_redactions_reapply(struct fsm *f);
/* The documents this entry's redactions drop, once it applied whole:
 * deferred so that a failed entry, undone and applied again, never loses
 * a document without its redaction fact. Called by fsm_apply. */
void fsm_redactions_commit(struct fsm *f);
void fsm_redactions_forget(struct fsm *f);
/*
 * Whether objection `id` (`len` bytes) is accepted and names record
 * (`e`, `key`); with `missing` (the record has no version) only an
 * omission may: it lets a correction create the record.
 */
bool fsm_objection_accepted(const struct fsm *f, const char *id, size_t len,
                            const struct fsm_entry *e, struct pc_slice key,
                            bool missing);
/* Append the next version of accepted objection `id`: resolved by `op`
 * ("correct") at record version `version`, fact `revision`. PC_OK,
 * PC_ENOMEM, PC_EINVAL. */
int fsm_objection_resolve(struct fsm_ctx *c, const char *id, size_t len,
                          const char *op, uint64_t revision, uint64_t version);

/* The acting principal if active, else NULL. */
const struct fsm_principal *fsm_actor(struct fsm_ctx *c);

/*
 * Reports (reports.c): the counters of the quality and evaluation reports,
 * emptied by fsm_reports_clear for a rebuild. fsm_reports_entry follows an
 * ENTRY fact (after fsm_derive_entry; `p` its payload); fsm_reports_fact
 * any other fact (`p` its parsed payload, or NULL for kinds fsm_derive
 * does not parse). PC_OK, PC_ENOMEM, PC_ECORRUPT.
 */
struct fsm_reports;
int fsm_reports_new(struct fsm_reports **out);
void fsm_reports_clear(struct fsm_reports *r);
void fsm_reports_free(struct fsm_reports *r);
int fsm_reports_entry(struct fsm *f, const struct fact *fact,
                      const struct jcs_val *p);
int fsm_reports_fact(struct fsm *f, const struct fact *fact,
                     const struct jcs_val *p);

/*
 * The audit log's index (audit_log.c): posting lists of the facts holding
 * events of each principal, org, entry and action, derived from every
 * fact (`p` as for fsm_reports_fact).
 */
struct fsm_audit_log;
int fsm_audit_log_new(struct fsm_audit_log **out);
void fsm_audit_log_clear(struct fsm_audit_log *a);
void fsm_audit_log_free(struct fsm_audit_log *a);
int fsm_audit_log_fact(struct fsm *f, const struct fact *fact,
                       const struct jcs_val *p);

/*
 * The strings audit fact `fact` names (audit.c): `which` 0 a reader, 1 its
 * org, 2 an entry, 3 an action; each string of its dictionaries (encoding
 * 2: from f->audit_hint while apply appends it, else from the ledger) or
 * of its events (the first encoding). Stops when `cb` returns false. On
 * PC_OK `span` holds its events' earliest and latest times. PC_OK,
 * PC_ENOMEM, PC_ECORRUPT, PC_EFORBIDDEN (redacted).
 */
typedef bool (*fsm_audit_string_cb)(void *arg, int which, const char *s,
                                    size_t len);
int fsm_audit_strings(const struct fsm *f, const struct fact *fact,
                      fsm_audit_string_cb cb, void *arg, int64_t span[2]);

#endif
