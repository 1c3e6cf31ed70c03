/* SPDX-License-Identifier: MIT */
/*
 * libprovcat: the C client of a provcat cluster (docs/client.md,
 * docs/openapi.yaml). A client holds an endpoint list and a token, finds the
 * leader, follows redirects only to known member origins, fails over to
 * other endpoints, and retries writes only with an Idempotency-Key it
 * generated, all within `timeout_ms` per call.
 *
 * Conventions of every call:
 * - Returns PROVCAT_OK (0) or a negative PROVCAT_E* code; the detail of the
 *   last failure is in provcat_errmsg() and provcat_last_error().
 * - Out-parameters are written only on success. What comes back through
 *   `**out` is the caller's: free a struct with its _free function and a
 *   string with provcat_free(). Every _free accepts NULL.
 * - A borrowed pointer (provcat_last_error(), provcat_errmsg(), an
 *   iterator's item) stays valid until the next call on the same client
 *   (or iterator).
 * - JSON strings given to a call are UTF-8 JSON text; JSON strings
 *   returned are compact JSON, NUL-terminated.
 * - Context: a client is NOT thread-safe: use one client per thread
 *   (provcat_dup() makes another with the same settings). Different
 *   clients may be used concurrently from different threads. Calls block
 *   (they do network I/O) and never call exit() or abort() on runtime
 *   errors.
 */
#ifndef PROVCAT_H
#define PROVCAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define PROVCAT_API __attribute__((visibility("default")))
#else
#define PROVCAT_API
#endif

#define PROVCAT_VERSION      "1.0.0"
#define PROVCAT_ERRMSG_SIZE  512
#define PROVCAT_HASH_LEN     32 /* bytes of a BLAKE2b-256 hash */
#define PROVCAT_HASH_HEX_LEN 64
#define PROVCAT_MAX_PATH     64 /* hashes in any Merkle proof */

/*
 * Error codes: X(name, value, API error code or NULL, message). The API's
 * string codes are the contract on the wire; each maps to one constant.
 * Append only: values are never renumbered or reused.
 */
#define PROVCAT_ERR_MAP(X)                                              \
    X(ENOMEM, -1, NULL, "out of memory")                                \
    X(EINVAL, -2, NULL, "invalid argument")                             \
    X(ECONNECT, -3, NULL, "no endpoint could be reached")               \
    X(ETIMEOUT, -4, NULL, "timed out")                                  \
    X(EPROTO, -5, NULL, "malformed answer from the server")             \
    X(EREDIRECT, -6, NULL, "redirect to an unknown origin refused")     \
    X(EVERIFY, -7, NULL, "verification failed")                         \
    X(EIO, -8, NULL, "local input/output error")                        \
    X(EBADREQUEST, -9, "bad_request", "bad request")                    \
    X(EUNAUTHORIZED, -10, "unauthorized", "unauthorized")               \
    X(EFORBIDDEN, -11, "forbidden", "forbidden")                        \
    X(ENOTFOUND, -12, "not_found", "not found")                         \
    X(EIMMUTABLE, -13, "immutable", "history cannot be deleted")        \
    X(ECONFLICT, -14, "conflict", "conflict")                           \
    X(ETOOLARGE, -15, "too_large", "too large")                         \
    X(EINVALID, -16, "invalid", "document violates the schema")         \
    X(EIDEMPOTENCY, -17, "idempotency_mismatch",                        \
      "idempotency key reused with another request")                    \
    X(ERATELIMITED, -18, "rate_limited", "rate limited")                \
    X(EUNAVAILABLE, -19, "unavailable", "unavailable")                  \
    X(EOUTCOMEUNKNOWN, -20, "outcome_unknown",                          \
      "the write may or may not have applied")                          \
    X(ECLOCKSKEW, -21, "clock_skew", "leader clock skew")               \
    X(ENOSPACE, -22, "insufficient_storage", "the node's disk is full") \
    X(ENOTLEADER, -23, "not_leader", "not the leader")                  \
    X(EMETHOD, -24, "method_not_allowed", "method not allowed")         \
    X(EINTERNAL, -25, "internal", "internal server error")              \
    X(ESERVER, -26, NULL, "unexpected answer from the server")          \
    X(EREMOVED, -27, "removed", "the node was removed from the cluster")

enum {
    PROVCAT_OK = 0,
#define PROVCAT_ERR_ENUM(name, value, code, msg) PROVCAT_##name = value,
    PROVCAT_ERR_MAP(PROVCAT_ERR_ENUM)
#undef PROVCAT_ERR_ENUM
};

/* A short lower-case sentence for `rc` ("unknown error" if not a code). */
PROVCAT_API const char *provcat_strerror(int rc);
/* "ECONFLICT" for PROVCAT_ECONFLICT, "OK" for 0, "EUNKNOWN" otherwise. */
PROVCAT_API const char *provcat_errname(int rc);
/* The constant for an API error code ("conflict"); PROVCAT_ESERVER if the
 * code is unknown or NULL. */
PROVCAT_API int provcat_code_from_string(const char *code);

/* Free a string the library returned; accepts NULL. */
PROVCAT_API void provcat_free(void *p);

/* ---- the client ------------------------------------------------------ */

struct provcat;

/*
 * Create a client for `endpoints` (comma-separated base URLs such as
 * "http://10.0.0.1:8001,http://10.0.0.2:8001"; "host:port" means http;
 * NULL reads PROVCAT_ENDPOINTS) acting with `token` (NULL reads
 * PROVCAT_TOKEN; NULL or "" there means the anonymous public).
 *
 * Returns PROVCAT_OK with `*out` (free with provcat_close), PROVCAT_EINVAL
 * (no endpoint, or one that is not an http(s) URL: the reason in `errmsg`,
 * PROVCAT_ERRMSG_SIZE bytes, may be NULL) or PROVCAT_ENOMEM. Makes no
 * network call: the leader is found by the first call that needs it.
 * Context: any thread; the first client of a process initialises libcurl
 * and libsodium (thread-safely).
 */
PROVCAT_API int provcat_new(const char *endpoints, const char *token,
                            struct provcat **out, char *errmsg);

/*
 * A new client with the settings of `c` (endpoints, token, timeout,
 * consistency, state file path) and what it learnt of the cluster (members,
 * leader), for another thread. Its stale reads start at a node picked at
 * random, so clients made this way spread their reads over the cluster.
 * PROVCAT_OK or PROVCAT_ENOMEM.
 * Context: the thread that uses `c`.
 */
PROVCAT_API int provcat_dup(const struct provcat *c, struct provcat **out);

/* Close the client's connections and free it; accepts NULL. */
PROVCAT_API void provcat_close(struct provcat *c);

/*
 * Bound on the total time of each call, retries and backoff included
 * (default 10000 ms; 0 means no bound, for backups of any size). A call
 * that runs out of time returns the last retryable error it met (e.g.
 * PROVCAT_EUNAVAILABLE) or PROVCAT_ETIMEOUT.
 */
PROVCAT_API void provcat_set_timeout_ms(struct provcat *c, long timeout_ms);

/*
 * Serve reads from any node's applied state (`consistency=stale`) instead
 * of linearizable reads through the leader. Such reads still see this
 * client's own writes: each carries `min_revision` = the highest revision a
 * write of this client returned. Reads that must be audited are always
 * served by the leader (the node redirects them).
 */
PROVCAT_API void provcat_set_stale_reads(struct provcat *c, bool stale);

/*
 * Raise the `min_revision` of stale reads to at least `revision` (e.g. the
 * revision of a list being exported), so every node that answers has
 * applied it (a node behind waits up to 1 s, then answers 503 and the
 * client tries another).
 */
PROVCAT_API void provcat_set_min_revision(struct provcat *c, uint64_t revision);

/*
 * Use `key` (1-64 of [A-Za-z0-9._:-]) as the Idempotency-Key of the next
 * write instead of a generated one, e.g. to retry a write across process
 * restarts. PROVCAT_OK or PROVCAT_EINVAL. Applies to one write only.
 */
PROVCAT_API int provcat_set_idempotency_key(struct provcat *c, const char *key);

/*
 * Details of the last failed call on `c` (borrowed, valid until the next
 * call on `c`). `code` is the PROVCAT_E* value; `http_status` is 0 when no
 * answer came; the server's members are copied when it sent them (NULL or
 * -1 otherwise); `json` is the whole error body as received.
 */
struct provcat_error {
    int code;
    int http_status;
    const char *server_code; /* "conflict", ... or NULL */
    const char *message;     /* never NULL: "" when there was no failure */
    const char *field;       /* the offending member (400, 422) */
    const char *key;         /* the failing record of a batch */
    int64_t index;           /* its index in the batch, or -1 */
    int64_t current_version; /* the version a 409 found, or -1 */
    const char *json;        /* the error body, or NULL */
};
PROVCAT_API const struct provcat_error *
provcat_last_error(const struct provcat *c);

/* The message of the last failure: the server's sentence, or what went
 * wrong locally, with context ("put records: ..."). Borrowed. */
PROVCAT_API const char *provcat_errmsg(const struct provcat *c);

/* X-Provcat-Revision of the last answer received (0 before any). */
PROVCAT_API uint64_t provcat_last_revision(const struct provcat *c);

/* The origin ("http://host:port") this client takes for the leader, or
 * NULL when it does not know one. Borrowed, valid until the next call. */
PROVCAT_API const char *provcat_leader(const struct provcat *c);

/*
 * Any request to the API, with the client's leader finding, redirects,
 * failover and retries: `method` "GET", "POST", "PUT" or "DELETE"; `path`
 * the percent-encoded path and query ("/v1/whoami"); `body` JSON or NULL.
 * Writes (POST, PUT) carry a generated Idempotency-Key unless `flags` has
 * PROVCAT_REQ_NO_IDEMPOTENCY; PROVCAT_REQ_ANY_NODE sends a read to any
 * node. On a 2xx answer returns PROVCAT_OK with the status in `*status`
 * (may be NULL) and the body in `*answer` (free with provcat_free; may be
 * NULL). A non-2xx answer is its error code. For routes this header has no
 * call for yet.
 */
#define PROVCAT_REQ_NO_IDEMPOTENCY 0x1u
#define PROVCAT_REQ_ANY_NODE       0x2u
PROVCAT_API int provcat_request(struct provcat *c, const char *method,
                                const char *path, const char *body,
                                unsigned flags, int *status, char **answer);

/* ---- cluster and operations ----------------------------------------- */

struct provcat_member {
    uint64_t id;
    char *address;    /* raft address "ip:port" */
    char *client_url; /* may be NULL while unknown */
    char *role;       /* "voter", "standby" or "spare" */
};

/* GET /v1/status of one node. */
struct provcat_status {
    uint64_t id;
    char *address;
    char *client_url;
    char *state; /* "leader", "follower", "candidate" or "spare" */
    uint64_t leader_id;
    char *leader_url; /* NULL when no leader is known */
    uint64_t term;
    uint64_t commit_index;
    uint64_t applied_index;
    uint64_t revision;
    char root[PROVCAT_HASH_HEX_LEN + 1];
    char *version;
    size_t n_members;
    struct provcat_member *members;
    char *json; /* the whole answer */
};

/*
 * The status of the node at `origin` (one of the client's endpoints or a
 * member learnt from one), or of the first endpoint that answers when
 * `origin` is NULL. Node-local: never redirected; no failover when
 * `origin` is given. PROVCAT_OK with `*out` (provcat_status_free),
 * PROVCAT_EREDIRECT for an origin the client does not know, or the error.
 */
PROVCAT_API int provcat_status(struct provcat *c, const char *origin,
                               struct provcat_status **out);
PROVCAT_API void provcat_status_free(struct provcat_status *s);

/*
 * The origins this client trusts: its endpoints, then the members' client
 * URLs learnt from them (refreshed from a status call). `*n` gets the count;
 * the array and strings are borrowed until the next call on `c`.
 */
PROVCAT_API const char *const *provcat_origins(struct provcat *c, size_t *n);

/* POST /v1/members: add node `id` (role operator). `*json` gets the answer
 * (`{"id", "status": "catching_up"}`; may be NULL). Not retried once sent:
 * membership changes take no Idempotency-Key. */
PROVCAT_API int provcat_member_add(struct provcat *c, uint64_t id,
                                   const char *address, const char *client_url,
                                   char **json);
/* DELETE /v1/members/{id}[?force=true]. */
PROVCAT_API int provcat_member_remove(struct provcat *c, uint64_t id,
                                      bool force, char **json);
/* POST /v1/leader/transfer to node `id` (0: the node picks). */
PROVCAT_API int provcat_leader_transfer(struct provcat *c, uint64_t id,
                                        char **json);

/*
 * The sink of a streamed answer (backups): consume `n` bytes at `p`
 * (borrowed for the call). Return 0 to go on, anything else to stop the
 * transfer (the call then returns PROVCAT_EIO).
 */
typedef int (*provcat_write_cb)(void *arg, const void *p, size_t n);
/* Progress of a stream: `done` bytes of `total` (0 when unknown). */
typedef void (*provcat_progress_cb)(void *arg, uint64_t done, uint64_t total);

struct provcat_backup_info {
    uint64_t revision;                   /* the backup's revision */
    char root[PROVCAT_HASH_HEX_LEN + 1]; /* its Merkle root */
    uint64_t bytes;                      /* bytes written to the sink */
};

/*
 * GET /v1/backup (role operator): stream a consistent backup to `write`.
 * Retried (another endpoint, the leader) only until its first byte reached
 * `write`; after that an error ends the call and what `write` received is
 * incomplete. `progress` (may be NULL) is called as bytes arrive.
 * PROVCAT_OK with `*info` filled.
 */
PROVCAT_API int provcat_backup(struct provcat *c, provcat_write_cb write,
                               provcat_progress_cb progress, void *arg,
                               struct provcat_backup_info *info);

/* ---- organisations and principals ----------------------------------- */

/* POST /v1/orgs with the org object `org_json`; `*json` gets the org. */
PROVCAT_API int provcat_org_create(struct provcat *c, const char *org_json,
                                   char **json);
/* GET /v1/orgs/{id}. */
PROVCAT_API int provcat_org_get(struct provcat *c, const char *id, char **json);
/*
 * POST /v1/principals with `principal_json` (`{"id", "org"?, "roles"}`).
 * `*json` gets `{"id", "org", "roles", "token"}`; the token is shown only
 * here. If a retry finds the write already applied, the answer is a replay
 * whose "token" is null: issue a new one with provcat_principal_token().
 */
PROVCAT_API int provcat_principal_create(struct provcat *c,
                                         const char *principal_json,
                                         char **json);
/* POST /v1/principals/{id}/revoke. */
PROVCAT_API int provcat_principal_revoke(struct provcat *c, const char *id,
                                         char **json);
/* POST /v1/principals/{id}/token: a new token in `*token` (provcat_free);
 * the old one stops working. A replay (see above) is PROVCAT_ECONFLICT. */
PROVCAT_API int provcat_principal_token(struct provcat *c, const char *id,
                                        char **token);
/* GET /v1/whoami. */
PROVCAT_API int provcat_whoami(struct provcat *c, char **json);

/* ---- lists ------------------------------------------------------------ */

/*
 * A paged list read lazily, one page of up to 1000 items at a time; every
 * page of a record list reflects the first page's revision. Items are
 * borrowed until the next call on the iterator. Using an iterator counts
 * as using its client: same thread, and the client must outlive it.
 */
struct provcat_iter;

/*
 * The next item as JSON in `*json`. Returns 1 with an item, 0 at the end,
 * or a negative error (the iterator may be called again to retry the page).
 */
PROVCAT_API int provcat_iter_next(struct provcat_iter *it, const char **json);
/* The revision the list reflects (its first page's), 0 before a page. */
PROVCAT_API uint64_t provcat_iter_revision(const struct provcat_iter *it);
PROVCAT_API void provcat_iter_free(struct provcat_iter *it);

/*
 * Filters are NULL-terminated name/value pairs, e.g.
 * `(const char *[]){ "status", "published", NULL }`; values are
 * percent-encoded by the library. NULL means none.
 */

/* GET /v1/orgs. */
PROVCAT_API int provcat_orgs_list(struct provcat *c, struct provcat_iter **out);

/* ---- catalog entries ------------------------------------------------- */

/* POST /v1/catalog: create the entry `entry_json`; `*json` the entry. */
PROVCAT_API int provcat_entry_create(struct provcat *c, const char *entry_json,
                                     char **json);
/* PUT /v1/catalog/{id} with If-Match `if_version` (required, >= 1). */
PROVCAT_API int provcat_entry_update(struct provcat *c, const char *id,
                                     const char *entry_json, int64_t if_version,
                                     char **json);
/* POST /v1/catalog/{id}/submit. */
PROVCAT_API int provcat_entry_submit(struct provcat *c, const char *id,
                                     char **json);
/*
 * POST /v1/catalog/{id}/review: `decision` "approve" or "reject", `reason`
 * (required to reject; may be NULL); PROVCAT_OVERRIDE_DUPLICATE approves
 * an entry flagged as a possible duplicate.
 */
#define PROVCAT_OVERRIDE_DUPLICATE 0x1u
PROVCAT_API int provcat_entry_review(struct provcat *c, const char *id,
                                     const char *decision, const char *reason,
                                     unsigned flags, char **json);
/* POST /v1/catalog/{id}/retire with `reason` (required). */
PROVCAT_API int provcat_entry_retire(struct provcat *c, const char *id,
                                     const char *reason, char **json);
/* GET /v1/catalog/{id}. */
PROVCAT_API int provcat_entry_get(struct provcat *c, const char *id,
                                  char **json);
/* GET /v1/catalog/{id}/history, oldest first. */
PROVCAT_API int provcat_entry_history(struct provcat *c, const char *id,
                                      struct provcat_iter **out);
/* GET /v1/catalog with filters provider, status, share, open, theme, q. */
PROVCAT_API int provcat_entries_list(struct provcat *c,
                                     const char *const *filters,
                                     struct provcat_iter **out);

/* ---- records ------------------------------------------------------------ */

/* `if_version` of a write: no precondition, or the key must not exist. */
#define PROVCAT_ANY_VERSION (-1)
#define PROVCAT_CREATE_ONLY 0

/* What a write appended (one per record). */
struct provcat_write {
    char *entry;
    char *key;
    uint64_t version;
    char *op; /* "create", "update", "retire", "correct" or "unchanged" */
    uint64_t revision;
    char hash[PROVCAT_HASH_HEX_LEN + 1];
    char prev_hash[PROVCAT_HASH_HEX_LEN + 1]; /* "" for version 1 */
    bool replayed; /* an idempotent replay of an earlier attempt */
};
PROVCAT_API void provcat_write_free(struct provcat_write *w);

/* One version of a record as read. */
struct provcat_record {
    char *entry;
    char *key;
    uint64_t version;
    char *op;
    char *value; /* the canonical document as sent; NULL for a retire or a
                    redacted version */
    char salt[2 * 16 + 1];                       /* "" when no document */
    char content_hash[PROVCAT_HASH_HEX_LEN + 1]; /* "" when no document */
    char *author;
    char *org;
    char *at; /* RFC 3339 UTC */
    uint64_t revision;
    char hash[PROVCAT_HASH_HEX_LEN + 1];
    char prev_hash[PROVCAT_HASH_HEX_LEN + 1]; /* "" for version 1 */
    bool retired;
    bool redacted;
    char *reason;    /* or NULL */
    char *objection; /* or NULL */
    char *json;      /* the whole answer */
    /*
     * Read through a share grant limited to some fields: `value` holds
     * only the members `fields` names (of those present), and `salt` and
     * `content_hash` are "" (a partial document cannot match them).
     */
    bool filtered;
    size_t n_fields;
    char **fields; /* the grant's fields, or NULL */
    /* An accepted objection on the record awaits its correction. */
    bool disputed;
    size_t n_disputed_by;
    char **disputed_by; /* the objections' ids ("ob-12"), or NULL */
};
PROVCAT_API void provcat_record_free(struct provcat_record *r);

/*
 * PUT /v1/catalog/{entry}/records/{key}: write `doc_json` (a JSON object).
 * `if_version`: PROVCAT_ANY_VERSION, PROVCAT_CREATE_ONLY (If-None-Match: *)
 * or n >= 1 (If-Match: n). PROVCAT_ECONFLICT when the precondition fails
 * (the version found in provcat_last_error()->current_version);
 * PROVCAT_EINVALID when the document breaks the schema (`field`).
 */
PROVCAT_API int provcat_record_put(struct provcat *c, const char *entry,
                                   const char *key, const char *doc_json,
                                   int64_t if_version,
                                   struct provcat_write **out);

/*
 * GET a record: the current version, or version `version` (>= 1), or the
 * version current at revision `at_revision` (>= 1); 0 for neither.
 */
PROVCAT_API int provcat_record_get(struct provcat *c, const char *entry,
                                   const char *key, uint64_t version,
                                   uint64_t at_revision,
                                   struct provcat_record **out);

/* POST .../retire with `reason` (required). */
PROVCAT_API int provcat_record_retire(struct provcat *c, const char *entry,
                                      const char *key, const char *reason,
                                      int64_t if_version,
                                      struct provcat_write **out);

/* POST .../correct: `doc_json`, `reason` (required), `objection` (or NULL). */
PROVCAT_API int provcat_record_correct(struct provcat *c, const char *entry,
                                       const char *key, const char *doc_json,
                                       const char *reason,
                                       const char *objection,
                                       int64_t if_version,
                                       struct provcat_write **out);

/*
 * A record's versions, oldest first; provcat_iter_record() gives each as a
 * struct. GET .../history.
 */
PROVCAT_API int provcat_record_history(struct provcat *c, const char *entry,
                                       const char *key,
                                       struct provcat_iter **out);
/* The iterator's next item as a record (borrowed); 1, 0 at the end, or an
 * error (PROVCAT_EINVAL on a list of another kind). */
PROVCAT_API int provcat_iter_record(struct provcat_iter *it,
                                    const struct provcat_record **rec);

/* One key of a record list. */
struct provcat_key {
    const char *key;
    uint64_t version;
    const char *op;
    uint64_t revision;
    const char *hash;
    bool retired;
};
/*
 * GET /v1/catalog/{entry}/records: keys in byte order with their current
 * version; `prefix` may be NULL. One consistent snapshot across pages.
 */
PROVCAT_API int provcat_records_list(struct provcat *c, const char *entry,
                                     const char *prefix, bool include_retired,
                                     struct provcat_iter **out);
/* The iterator's next key (borrowed); 1, 0 at the end, or an error. */
PROVCAT_API int provcat_iter_key(struct provcat_iter *it,
                                 const struct provcat_key **key);

/* One record of a batch: `value` is `value_len` bytes of JSON text. */
struct provcat_batch_item {
    const char *key;
    const char *value;
    size_t value_len;
    int64_t if_version; /* PROVCAT_ANY_VERSION, PROVCAT_CREATE_ONLY or n */
};

/* A batch's answer; its items and their strings belong to it (free the
 * whole with provcat_batch_result_free, never an item alone). */
struct provcat_batch_result {
    uint64_t revision;
    size_t n_items;
    struct provcat_write *items; /* in request order */
    size_t n_created, n_updated, n_unchanged;
    bool replayed;
};
PROVCAT_API void provcat_batch_result_free(struct provcat_batch_result *r);

/*
 * POST /v1/catalog/{entry}/records:batch: 1-1000 records in one raft entry,
 * all or none. PROVCAT_SKIP_IDENTICAL skips records whose live version
 * already holds the same document (op "unchanged"), so an import can be
 * re-run. On failure provcat_last_error() names the first failing record
 * (`key`, `index`, `field`, `current_version`). Each value is checked to be
 * one well-formed JSON value before anything is sent (PROVCAT_EINVAL).
 */
#define PROVCAT_SKIP_IDENTICAL 0x1u
PROVCAT_API int provcat_records_batch(struct provcat *c, const char *entry,
                                      const struct provcat_batch_item *items,
                                      size_t n, unsigned flags,
                                      struct provcat_batch_result **out);

/* ---- sharing (docs/rules.md, Sharing) ---------------------------------- */

/*
 * Workflow objects (share requests, grants, open requests, calendars,
 * objections, redactions) come back as structs whose strings and arrays
 * belong to the struct (free the whole with its _free function, which
 * accepts NULL) and whose `json` is the whole object as the server sent
 * it, members this header does not name included. Their `**out` may be
 * NULL when only success matters. Absent
 * optional members are NULL (strings), 0 (numbers) or "" (hashes).
 * Their ids are assigned by the server: "sr-<rev>", "gr-<rev>",
 * "or-<rev>", "ob-<rev>", the revision of the object's first fact.
 */

/* A step of a workflow: who, when, what and why. `by` is NULL when the
 * step has not happened. */
struct provcat_step {
    char *by;       /* principal */
    char *at;       /* RFC 3339 UTC */
    char *decision; /* "approve", "reject", "accept"; NULL for a revocation */
    char *reason;   /* or NULL */
};

struct provcat_share_request {
    char *id;     /* "sr-<rev>" */
    char *status; /* "pending_provider", "pending_authority", "approved" or
                     "rejected" */
    char *entry;
    char *org;       /* the requesting org */
    char *requester; /* the principal that asked */
    char *provider;  /* the entry's provider org */
    char *purpose;
    size_t n_fields;
    char **fields; /* the fields asked for, or NULL: the whole document */
    uint64_t days;
    char *submitted_at;
    struct provcat_step provider_opinion; /* the provider org's opinion */
    struct provcat_step decision;         /* the authority's decision */
    char *grant;                          /* "gr-<rev>" once approved */
    uint64_t version;
    uint64_t revision; /* of this version's fact */
    char *updated_at;
    char hash[PROVCAT_HASH_HEX_LEN + 1];
    char *json;
};
PROVCAT_API void provcat_share_request_free(struct provcat_share_request *r);

/*
 * POST /v1/share-requests: a consumer asks to read `entry` (share class
 * conditional, another org's) for `purpose` during `days` (1-3650),
 * limited to the NULL-terminated `fields` (NULL: the whole document).
 * PROVCAT_OK with `*out` (may be NULL) in status "pending_provider";
 * PROVCAT_EBADREQUEST (`field` names the member), PROVCAT_ENOTFOUND (an
 * entry the caller may not see), PROVCAT_EFORBIDDEN (not a consumer of
 * another org), PROVCAT_ECONFLICT (the class is not conditional, or the
 * entry retired), PROVCAT_EINVALID (a field the schema lacks).
 */
PROVCAT_API int
provcat_share_request_create(struct provcat *c, const char *entry,
                             const char *purpose, const char *const *fields,
                             uint64_t days, struct provcat_share_request **out);

/*
 * POST /v1/share-requests/{id}/decide: `decision` "approve" or "reject"
 * (else PROVCAT_EINVAL, nothing sent), `reason` (may be NULL; the server
 * requires one to reject). First the provider org gives its opinion
 * (-> "pending_authority"), then the authority decides (-> "approved",
 * with `grant`, or "rejected"). PROVCAT_ECONFLICT out of turn,
 * PROVCAT_EFORBIDDEN for anyone else who may see it.
 */
PROVCAT_API int
provcat_share_request_decide(struct provcat *c, const char *id,
                             const char *decision, const char *reason,
                             struct provcat_share_request **out);

/* GET /v1/share-requests/{id} (PROVCAT_ENOTFOUND for those who may not
 * see it). */
PROVCAT_API int provcat_share_request_get(struct provcat *c, const char *id,
                                          struct provcat_share_request **out);

/*
 * GET /v1/share-requests: the requests the caller may see, oldest first;
 * filters `status`, `entry`, `org` (the requesting org). Items as JSON
 * (provcat_iter_next) or structs (provcat_iter_share_request).
 */
PROVCAT_API int provcat_share_requests_list(struct provcat *c,
                                            const char *const *filters,
                                            struct provcat_iter **out);
/* The iterator's next request (borrowed until the next call on it); 1, 0
 * at the end, or an error (PROVCAT_EINVAL on a list of another kind). */
PROVCAT_API int
provcat_iter_share_request(struct provcat_iter *it,
                           const struct provcat_share_request **out);

struct provcat_grant {
    char *id;      /* "gr-<rev>" */
    char *request; /* the share request it came from */
    char *entry;
    char *org;      /* the grantee org */
    char *provider; /* the entry's provider org */
    char *purpose;
    size_t n_fields;
    char **fields; /* the fields granted, or NULL: the whole document */
    uint64_t days;
    char *status; /* at ledger time: "active", "expired", "revoked" or
                     "ended" */
    char *granted_at;
    char *ends_at;
    struct provcat_step revoked; /* `by` NULL unless revoked */
    char *ended_reason; /* "share_class_changed", "entry_retired" or NULL */
    char *ended_at;
    uint64_t ended_revision;
    uint64_t version;
    uint64_t revision;
    char *updated_at;
    char hash[PROVCAT_HASH_HEX_LEN + 1];
    char *json;
};
PROVCAT_API void provcat_grant_free(struct provcat_grant *g);

/* GET /v1/grants/{id}. */
PROVCAT_API int provcat_grant_get(struct provcat *c, const char *id,
                                  struct provcat_grant **out);
/*
 * POST /v1/grants/{id}/revoke with `reason` (required: PROVCAT_EINVAL
 * without one, nothing sent): the authority ends an active grant.
 * PROVCAT_EFORBIDDEN for anyone else, PROVCAT_ECONFLICT unless active.
 */
PROVCAT_API int provcat_grant_revoke(struct provcat *c, const char *id,
                                     const char *reason,
                                     struct provcat_grant **out);
/* GET /v1/grants: filters `status`, `entry`, `org` (the grantee). */
PROVCAT_API int provcat_grants_list(struct provcat *c,
                                    const char *const *filters,
                                    struct provcat_iter **out);
/* The iterator's next grant (borrowed); 1, 0 at the end, or an error. */
PROVCAT_API int provcat_iter_grant(struct provcat_iter *it,
                                   const struct provcat_grant **out);

/*
 * The public lists of articles 19 and 23 (GET /v1/lists/...), each in
 * entry id order, items as JSON (provcat_iter_next); filter `provider`
 * (and `entry` for the demand list):
 * - RESPONSIBILITY: every entry in force, its provider, theme, scope,
 *   update frequency and classes (any principal);
 * - DEMAND: per entry asked for, its share requests by status, the
 *   requesting orgs and the grants active now (any principal);
 * - NEGATIVE: entries never shared (class none) with the basis stated
 *   (any principal);
 * - OPEN: entries whose open class is not none, with its conditions
 *   (anyone: no token needed).
 */
enum provcat_list_kind {
    PROVCAT_LIST_RESPONSIBILITY = 1,
    PROVCAT_LIST_DEMAND = 2,
    PROVCAT_LIST_NEGATIVE = 3,
    PROVCAT_LIST_OPEN = 4
};
PROVCAT_API int provcat_list(struct provcat *c, enum provcat_list_kind kind,
                             const char *const *filters,
                             struct provcat_iter **out);

/* ---- open data (docs/rules.md, Open data) -------------------------------- */

struct provcat_open_request {
    char *id;     /* "or-<rev>" */
    char *status; /* "pending", "approved" or "rejected" */
    char *entry;
    char *provider;  /* the entry's provider org */
    char *requester; /* the principal that filed it (who may read) */
    char *org;       /* the requester's org, NULL for a citizen */
    char *applicant; /* who the requester acts for */
    char *data_type;
    char *description;
    char *purpose;
    char *submitted_at;
    char due[11]; /* "YYYY-MM-DD": the 10th working day after receipt */
    char *due_at; /* the last millisecond of `due` */
    bool calendar_provisional; /* a year consulted has no calendar */
    bool overdue;              /* pending, and ledger time past `due_at` */
    char *decided_at;          /* NULL while pending */
    char *decided_by;
    char *reason;
    bool answered_late; /* decided after `due_at` */
    uint64_t version;
    uint64_t revision;
    char *updated_at;
    char hash[PROVCAT_HASH_HEX_LEN + 1];
    char *json;
};
PROVCAT_API void provcat_open_request_free(struct provcat_open_request *r);

/*
 * POST /v1/open-requests: apply to read `entry` (open class conditional)
 * for `applicant`, with a `data_type`, `description` and `purpose` (all
 * required, else PROVCAT_EINVAL, nothing sent). Any principal; the public
 * gets PROVCAT_EUNAUTHORIZED. PROVCAT_ENOTFOUND for an entry the caller
 * may not see, PROVCAT_ECONFLICT when its open class is not conditional.
 * `*out` (may be NULL) is "pending" with its `due` date.
 */
PROVCAT_API int
provcat_open_request_create(struct provcat *c, const char *entry,
                            const char *applicant, const char *data_type,
                            const char *description, const char *purpose,
                            struct provcat_open_request **out);
/*
 * POST /v1/open-requests/{id}/decide: a provider of the entry's org
 * (not the one who filed it) approves or rejects (`reason` required by the
 * server to reject). PROVCAT_ECONFLICT once decided.
 */
PROVCAT_API int provcat_open_request_decide(struct provcat *c, const char *id,
                                            const char *decision,
                                            const char *reason,
                                            struct provcat_open_request **out);
/* GET /v1/open-requests/{id}: its due date as now derived, `overdue`. */
PROVCAT_API int provcat_open_request_get(struct provcat *c, const char *id,
                                         struct provcat_open_request **out);
/*
 * GET /v1/open-requests: the requests the caller may see (its own, its
 * org's as provider, the authority's scope), oldest first; filters
 * `status` (pending|approved|rejected), `overdue` (true|false), `entry`.
 */
PROVCAT_API int provcat_open_requests_list(struct provcat *c,
                                           const char *const *filters,
                                           struct provcat_iter **out);
/* The iterator's next open request (borrowed); 1, 0 at the end, or an
 * error. */
PROVCAT_API int
provcat_iter_open_request(struct provcat_iter *it,
                          const struct provcat_open_request **out);

/* A year's working-day calendar (Asia/Shanghai days). */
struct provcat_calendar {
    unsigned year;
    size_t n_holidays;
    char **holidays; /* "YYYY-MM-DD", sorted; NULL when none */
    size_t n_workdays;
    char **workdays;  /* weekend days that are make-up working days */
    bool provisional; /* never set: Monday to Friday assumed (version 0) */
    uint64_t version;
    uint64_t revision;
    char *updated_at;
    char hash[PROVCAT_HASH_HEX_LEN + 1];
    char *json;
};
PROVCAT_API void provcat_calendar_free(struct provcat_calendar *cal);

/*
 * PUT /v1/calendar/{year}: replace the year's calendar with the
 * NULL-terminated date lists `holidays` and `workdays` (NULL: none). The
 * provincial authority only (PROVCAT_EFORBIDDEN); PROVCAT_EBADREQUEST
 * naming the member ("workdays[0]") for a date of another year, twice, in
 * both lists, a make-up day not on a weekend, or too few working days
 * left. Pending open requests' due dates follow.
 */
PROVCAT_API int provcat_calendar_put(struct provcat *c, unsigned year,
                                     const char *const *holidays,
                                     const char *const *workdays,
                                     struct provcat_calendar **out);
/* GET /v1/calendar/{year} (anyone): `provisional` for a year never set. */
PROVCAT_API int provcat_calendar_get(struct provcat *c, unsigned year,
                                     struct provcat_calendar **out);

/* ---- objections and redaction (docs/rules.md) ---------------------------- */

/* What resolved an objection. `op` is NULL while unresolved. */
struct provcat_resolution {
    char *op; /* "correct" or "redact" */
    char *by;
    char *at;
    uint64_t revision; /* the correcting version's or the redaction's */
    uint64_t version;  /* the record version corrected or redacted */
};

struct provcat_objection {
    char *id;     /* "ob-<rev>" */
    char *status; /* "open", "accepted", "rejected" or "resolved" */
    char *entry;
    char *key;
    char *kind; /* "error", "omission", "personal_information" or
                   "trade_secret" */
    char *description;
    char *filer;
    char *filer_org; /* NULL for a citizen */
    char *filed_at;
    int record_exists;            /* 1 or 0; -1 when not shown (to a
                                     filer outside the provider org) */
    struct provcat_step decision; /* "accept" or "reject", by the
                                     authority */
    struct provcat_resolution resolution;
    uint64_t version;
    uint64_t revision;
    char *updated_at;
    char hash[PROVCAT_HASH_HEX_LEN + 1];
    char *json;
};
PROVCAT_API void provcat_objection_free(struct provcat_objection *o);

/*
 * POST /v1/objections: object to record `key` of `entry`, `kind` one of
 * the four above, with a `description`. Any principal (the public:
 * PROVCAT_EUNAUTHORIZED). Accepted for any well-formed key of an entry
 * the caller may see, whether the record exists or not;
 * PROVCAT_ENOTFOUND for an entry it may not see. `*out` is "open".
 */
PROVCAT_API int provcat_objection_file(struct provcat *c, const char *entry,
                                       const char *key, const char *kind,
                                       const char *description,
                                       struct provcat_objection **out);
/*
 * POST /v1/objections/{id}/decide: `decision` "accept" or "reject", with
 * a `reason` (both required, else PROVCAT_EINVAL, nothing sent); the
 * authority in the entry's scope. An accepted objection marks the record
 * `disputed` until a correction naming it (provcat_record_correct's
 * `objection`) or a redaction resolves it. PROVCAT_EFORBIDDEN for others
 * who see it, PROVCAT_ECONFLICT unless open.
 */
PROVCAT_API int provcat_objection_decide(struct provcat *c, const char *id,
                                         const char *decision,
                                         const char *reason,
                                         struct provcat_objection **out);
/* GET /v1/objections/{id}. */
PROVCAT_API int provcat_objection_get(struct provcat *c, const char *id,
                                      struct provcat_objection **out);
/* GET /v1/objections: filters `status`, `kind`, `entry`. */
PROVCAT_API int provcat_objections_list(struct provcat *c,
                                        const char *const *filters,
                                        struct provcat_iter **out);
/* The iterator's next objection (borrowed); 1, 0 at the end, or an
 * error. */
PROVCAT_API int provcat_iter_objection(struct provcat_iter *it,
                                       const struct provcat_objection **out);

/* A redaction fact: version `version` of `entry`/`key` lost its document. */
struct provcat_redaction {
    char *entry;
    char *key;
    uint64_t version;
    char content_hash[PROVCAT_HASH_HEX_LEN + 1]; /* kept: it still verifies */
    char *objection;
    char *reason;
    uint64_t record_revision; /* the redacted version's revision */
    uint64_t revision;        /* the redaction fact's */
    char hash[PROVCAT_HASH_HEX_LEN + 1];
    char *updated_at;
    char *json;
};
PROVCAT_API void provcat_redaction_free(struct provcat_redaction *r);

/*
 * POST /v1/catalog/{entry}/records/{key}/versions/{version}/redact: the
 * authority in scope drops version `version`'s document, naming an
 * accepted (or resolved) `personal_information` or `trade_secret`
 * `objection` on this record, with a `reason` (both required, else
 * PROVCAT_EINVAL). Reads of the version then answer `redacted` without
 * `value`; its hashes stay. PROVCAT_EFORBIDDEN for anyone else,
 * PROVCAT_ENOTFOUND without such a version, PROVCAT_ECONFLICT for an
 * objection that does not allow it, a retire version or one already
 * redacted.
 */
PROVCAT_API int provcat_record_redact(struct provcat *c, const char *entry,
                                      const char *key, uint64_t version,
                                      const char *objection, const char *reason,
                                      struct provcat_redaction **out);
/* GET /v1/redactions: every redaction, oldest first (operators, auditors,
 * the provincial authority). */
PROVCAT_API int provcat_redactions_list(struct provcat *c,
                                        struct provcat_iter **out);
/* The iterator's next redaction (borrowed); 1, 0 at the end, or an
 * error. */
PROVCAT_API int provcat_iter_redaction(struct provcat_iter *it,
                                       const struct provcat_redaction **out);

/* ---- reports (docs/openapi.yaml, tag reports) ---------------------------- */

/*
 * GET /v1/quality: per entry records, versions, retired, timeliness,
 * completeness, rejected writes and open objections, as `{"items":
 * [...]}` in `*json`; filters `entry`, `provider`. The authority, auditors,
 * or a provider org for its own entries.
 */
PROVCAT_API int provcat_quality(struct provcat *c, const char *const *filters,
                                char **json);
/* GET /v1/evaluation: per org and overall, `{"overall", "orgs"}` in
 * `*json` (the authority, auditors). */
PROVCAT_API int provcat_evaluation(struct provcat *c, char **json);
/* GET /v1/audit: audit events, oldest first; filters `principal`, `org`,
 * `entry`, `since`, `until` (RFC 3339), `action`. Items as JSON. */
PROVCAT_API int provcat_audit(struct provcat *c, const char *const *filters,
                              struct provcat_iter **out);
/* GET /v1/security-events: authentication failures, denials, rate
 * limiting. Items as JSON. */
PROVCAT_API int provcat_security_events(struct provcat *c,
                                        struct provcat_iter **out);

/* ---- ledger and verification ------------------------------------------ */

/* A ledger revision and its Merkle root. */
struct provcat_root {
    uint64_t revision;
    uint8_t root[PROVCAT_HASH_LEN];
};

/* GET /v1/ledger[?tree_size=n]: the root now (`tree_size` 0) or at n. */
PROVCAT_API int provcat_ledger_root(struct provcat *c, uint64_t tree_size,
                                    struct provcat_root *out);

/* An RFC 6962 inclusion proof of the fact at `revision`. */
struct provcat_proof {
    uint64_t revision;
    uint64_t leaf_index; /* revision - 1 */
    uint64_t tree_size;
    uint8_t leaf_hash[PROVCAT_HASH_LEN];
    uint8_t root[PROVCAT_HASH_LEN]; /* as the server claims it */
    size_t n_path;
    uint8_t path[PROVCAT_MAX_PATH][PROVCAT_HASH_LEN];
};
/* GET /v1/ledger/proof?revision=r&tree_size=n (`tree_size` 0: now). The
 * proof is not checked: see provcat_verify_inclusion(). Free with
 * provcat_free. */
PROVCAT_API int provcat_ledger_proof(struct provcat *c, uint64_t revision,
                                     uint64_t tree_size,
                                     struct provcat_proof **out);

/* An RFC 6962 consistency proof between two tree sizes. */
struct provcat_consistency {
    uint64_t from, to;
    uint8_t from_root[PROVCAT_HASH_LEN]; /* as the server claims them */
    uint8_t to_root[PROVCAT_HASH_LEN];
    size_t n_path;
    uint8_t path[PROVCAT_MAX_PATH][PROVCAT_HASH_LEN];
};
/* GET /v1/ledger/consistency?from=m&to=n. Free with provcat_free. */
PROVCAT_API int provcat_ledger_consistency(struct provcat *c, uint64_t from,
                                           uint64_t to,
                                           struct provcat_consistency **out);

/*
 * GET /v1/ledger/facts: every fact from revision `from` (>= 1) in
 * revision order, each as JSON (provcat_iter_next): kind, time, principal,
 * request id, entity, version, hashes and payload (a document appears only
 * as its content hash). Operators, auditors and the provincial authority;
 * others get PROVCAT_EFORBIDDEN. The iterator ends at the revision the
 * last page reached.
 */
PROVCAT_API int provcat_ledger_facts(struct provcat *c, uint64_t from,
                                     struct provcat_iter **out);

/*
 * GET /v1/ledger/digests[?entry=E]: per entry a digest over its records'
 * chain heads, or with `entry` (may be NULL) per record, as `{"items":
 * [...]}` in `*json` (docs/format.md; the authority, auditors, operators).
 * For comparing replicas (provcat-reconcile).
 */
PROVCAT_API int provcat_ledger_digests(struct provcat *c, const char *entry,
                                       char **json);

/*
 * Check that `leaf` is leaf `leaf_index` of the tree of `tree_size` leaves
 * whose root is `root` (a root the caller trusts), by the audit path
 * `path` of `n_path` hashes (RFC 6962 / RFC 9162 §2.1.3.2). PROVCAT_OK or
 * PROVCAT_EVERIFY. Pure computation: no client, any thread.
 */
PROVCAT_API int
provcat_verify_inclusion(const uint8_t leaf[PROVCAT_HASH_LEN],
                         uint64_t leaf_index, uint64_t tree_size,
                         const uint8_t (*path)[PROVCAT_HASH_LEN], size_t n_path,
                         const uint8_t root[PROVCAT_HASH_LEN]);

/*
 * Check that the tree of `to` leaves with root `to_root` extends the tree
 * of `from` leaves with root `from_root` (RFC 9162 §2.1.4.2). PROVCAT_OK or
 * PROVCAT_EVERIFY. Pure computation.
 */
PROVCAT_API int provcat_verify_consistency(
    uint64_t from, uint64_t to, const uint8_t from_root[PROVCAT_HASH_LEN],
    const uint8_t to_root[PROVCAT_HASH_LEN],
    const uint8_t (*path)[PROVCAT_HASH_LEN], size_t n_path);

/*
 * Keep the last trusted (revision, root) in the file at `path` (one line
 * "<revision> <root hex>", replaced atomically). Loads it now if it exists.
 * PROVCAT_OK, PROVCAT_EIO (unreadable) or PROVCAT_EVERIFY (malformed: it is
 * never overwritten then). NULL stops using a file (the state stays in
 * memory).
 */
PROVCAT_API int provcat_set_state_file(struct provcat *c, const char *path);

/*
 * The (revision, root) this client trusts, from its state file or its last
 * provcat_ledger_sync(); PROVCAT_ENOTFOUND when it has none.
 */
PROVCAT_API int provcat_trusted_root(const struct provcat *c,
                                     struct provcat_root *out);

/*
 * Fetch the ledger root and make it the trusted one, but only if it is
 * consistent with the root trusted so far (a consistency proof from it is
 * fetched and checked): a server whose history does not extend what this
 * client saw is refused with PROVCAT_EVERIFY and the trusted root stays.
 * With nothing trusted yet, the first root is taken as is (trust on first
 * use). Saves the state file if one is set. `*out` (may be NULL) gets the
 * new trusted root.
 */
PROVCAT_API int provcat_ledger_sync(struct provcat *c,
                                    struct provcat_root *out);

/*
 * Verify a record version read from the server: its `content_hash` is
 * H(0x02 ‖ salt ‖ value) (when it carries a document), and its `hash` is
 * leaf `revision - 1` of the ledger at the trusted root (an inclusion
 * proof is fetched and checked; the trusted root is brought up to date
 * with provcat_ledger_sync() first when the record is newer than it).
 * PROVCAT_OK or PROVCAT_EVERIFY (what failed in provcat_errmsg()). A
 * redacted version has no document: its inclusion alone is checked. A
 * `filtered` one has a partial document that no hash covers: after its
 * inclusion is checked the call returns PROVCAT_EVERIFY saying so, since
 * its `value` cannot be verified.
 */
PROVCAT_API int provcat_record_verify(struct provcat *c,
                                      const struct provcat_record *rec);

/* Hex of a hash into `out` (65 bytes); hash of hex (false if malformed). */
PROVCAT_API void provcat_hex(char out[PROVCAT_HASH_HEX_LEN + 1],
                             const uint8_t hash[PROVCAT_HASH_LEN]);
PROVCAT_API bool provcat_unhex(uint8_t hash[PROVCAT_HASH_LEN], const char *hex);

#ifdef __cplusplus
}
#endif

#endif
