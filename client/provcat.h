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
 * PROVCAT_OK or PROVCAT_EVERIFY (what failed in provcat_errmsg()).
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
