/* SPDX-License-Identifier: MIT */
/*
 * libprovcat internals shared by its files (never installed, never included
 * from outside client/): the client struct, the request loop every call
 * goes through, and small JSON helpers (a validating scanner that gives
 * raw spans, so documents travel byte for byte, and string escaping).
 */
#ifndef PCL_CLIENT_INT_H
#define PCL_CLIENT_INT_H

#include <jansson.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "client/provcat.h"
#include "common/buf.h"

#define PCL_DEFAULT_TIMEOUT_MS 10000
#define PCL_CONNECT_TIMEOUT_MS                                             \
    2000                         /* per attempt, so a dead host fails over \
                                  */
#define PCL_DOWN_MS         1000 /* an unreachable node is skipped so long */
#define PCL_MAX_REDIRECTS   5    /* per attempt round */
#define PCL_BACKOFF_BASE_MS 25
#define PCL_BACKOFF_CAP_MS  1000
#define PCL_PAGE_LIMIT      1000

/* One node this client may talk to: an endpoint, or a member learnt from
 * one. Only these origins ever see the token. */
struct pcl_node {
    char *origin;          /* "http://host:port", normalised */
    bool configured;       /* from the endpoint list */
    int64_t down_until_ms; /* skipped until then after a failed connect */
};

/* Request flags. */
enum {
    PCL_WRITE = 1u << 0,   /* changes state: goes to the leader */
    PCL_IDEM = 1u << 1,    /* carries an Idempotency-Key: safe to retry */
    PCL_READ = 1u << 2,    /* linearizable unless the client reads stale */
    PCL_LOCAL = 1u << 3,   /* node-local: any node, never redirected */
    PCL_NO_STALE = 1u << 4 /* a read that never takes consistency=stale */
};
/* A write with an Idempotency-Key: what most writes of the API are. */
#define PCL_WRITE_IDEM (PCL_WRITE | PCL_IDEM)

struct pcl_req {
    const char *method;
    const char *path; /* percent-encoded path and query */
    const char *body; /* NULL: none */
    size_t body_len;
    unsigned flags;
    int64_t if_version; /* PROVCAT_ANY_VERSION, PROVCAT_CREATE_ONLY, n */
    const char *origin; /* a fixed node: no failover, no redirect */
    provcat_write_cb sink;
    provcat_progress_cb progress;
    void *arg;
};

struct provcat {
    struct pcl_node *nodes; /* configured endpoints first */
    size_t n_nodes, n_configured;
    const char **origins_view;
    long leader;   /* index in `nodes` of the leader as last learnt, or -1 */
    size_t cur;    /* node tried first by requests any node may serve */
    long answered; /* index of the node that gave the last answer */
    char *token;
    long timeout_ms;
    bool stale;
    uint64_t min_revision; /* the highest revision this client wrote */
    uint64_t last_revision;
    char idem_next[65]; /* a caller's key for the next write, or "" */
    void *curl;

    /* The answer of the last attempt. */
    int status;
    struct pc_buf body;
    char *location;
    bool replayed;
    uint64_t backup_revision;
    char backup_root[PROVCAT_HASH_HEX_LEN + 1];
    const struct pcl_req *req; /* the request in flight (streams) */
    uint64_t delivered;        /* bytes handed to req->sink */
    bool sink_failed;

    /* The last failure. */
    struct provcat_error err;
    char errmsg[PROVCAT_ERRMSG_SIZE];
    char message[384];
    char server_code[64];
    char *err_json, *err_field, *err_key;

    /* Verification state. */
    char *state_path;
    bool has_trusted;
    struct provcat_root trusted;
};

/*
 * Send `r` with leader finding, redirects, failover and retries until
 * `c->timeout_ms`. PROVCAT_OK on a 2xx answer (body in c->body,
 * NUL-terminated, status in c->status); else the error, recorded in
 * c->err with `what` as the message's context.
 */
int pcl_call(struct provcat *c, const struct pcl_req *r, const char *what);

/* Add the members' client URLs listed in the /v1/status answer `status`
 * to the known nodes, if a configured endpoint gave it (c->answered). */
void pcl_learn_members(struct provcat *c, json_t *status);

/* Clear the last error (every public call starts with it). */
void pcl_reset(struct provcat *c);

/* Record a local failure with its message; returns `rc`. */
int pcl_fail(struct provcat *c, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Record "`what`: out of memory"; returns PROVCAT_ENOMEM. */
int pcl_oom(struct provcat *c, const char *what);

/* `s` is a string with something in it (ids, reasons, names). */
static inline bool
pcl_has_text(const char *s)
{
    return s != NULL && s[0] != '\0';
}

/* Parse c->body as JSON (an object); PROVCAT_EPROTO when it is not. */
int pcl_body_json(struct provcat *c, json_t **out, const char *what);

/* A malloc'ed copy of string member `name` of `o`, or NULL (absent, null
 * or not a string). `*rc` becomes PROVCAT_ENOMEM if a copy failed. */
char *pcl_jstrdup(json_t *o, const char *name, int *rc);
/* Integer member `name` of `o` (0 when absent or not an integer). */
uint64_t pcl_juint(json_t *o, const char *name);
/* Copy hex string member `name` (at most `cap` - 1 chars) into `out`. */
void pcl_jhex(json_t *o, const char *name, char *out, size_t cap);

/*
 * A request body: a JSON object built member by member. Open it, add
 * members (the first failure sticks), close it; the text is in `b`
 * (NUL-terminated), which the caller releases.
 */
struct pcl_body {
    struct pc_buf b;
    int rc;
    bool first;
};
void pcl_body_open(struct pcl_body *x);
/* "name": "v" (escaped), unless `v` is NULL. */
void pcl_body_str(struct pcl_body *x, const char *name, const char *v);
void pcl_body_u64(struct pcl_body *x, const char *name, uint64_t v);
/* "name": [...] of the NULL-terminated `v`, unless `v` is NULL. */
void pcl_body_strv(struct pcl_body *x, const char *name, const char *const *v);
/* "name": `json`, a JSON value put in as it is. */
void pcl_body_raw(struct pcl_body *x, const char *name, const char *json);
/* Close the object: PC_OK or PC_ENOMEM. */
int pcl_body_close(struct pcl_body *x);
/* Append `s` percent-encoded for a path segment or query value. */
int pcl_url_enc(struct pc_buf *b, const char *s);
/*
 * Build "/v1/..." in `b` from a format whose "%s" are segments (encoded)
 * and "%u" are uint64_t. NUL-terminated. PC_OK or PC_ENOMEM.
 */
int pcl_path(struct pc_buf *b, const char *fmt, ...);
int pcl_vpath(struct pc_buf *b, const char *fmt, va_list ap);
/* Append "?" or "&", then name=value (value encoded). */
int pcl_query(struct pc_buf *b, const char *name, const char *value);
int pcl_query_u64(struct pc_buf *b, const char *name, uint64_t value);

/*
 * Skip one JSON value at `p` (leading whitespace allowed), checking its
 * syntax: returns the first byte after it, or NULL if malformed or nested
 * deeper than 64.
 */
const char *pcl_json_skip(const char *p, const char *end);
/* `s..s+len` is one well-formed JSON value with only whitespace around. */
bool pcl_json_one_value(const char *s, size_t len);
/* Skip whitespace and commas: where the next item inside an array's
 * brackets starts, or `end`. */
const char *pcl_json_next(const char *p, const char *end);

/*
 * Call `fn` for each member of the object at `p..end` with its name (the
 * raw bytes between the quotes, escapes included) and its value's raw
 * span; `fn` returns 0 to go on. Returns 0, the first non-zero from `fn`,
 * or -1 if the text is not one well-formed object.
 */
typedef int (*pcl_member_fn)(void *arg, const char *name, size_t name_len,
                             const char *val, size_t val_len);
int pcl_json_members(const char *p, const char *end, pcl_member_fn fn,
                     void *arg);

/* Unescape the JSON string body `raw` (between the quotes) into a new
 * NUL-terminated string; NULL on a bad escape or no memory. */
char *pcl_json_unescape(const char *raw, size_t len);
/* The same into `out` (room for `len` + 1 bytes); the length written, or
 * -1 on a bad escape. */
long pcl_json_unescape_to(const char *raw, size_t len, char *out);

/* pcl_call of a request made of these parts: `path` NUL-terminated,
 * `body` of `body_len` bytes or NULL; any node as `flags` allow, no sink. */
int pcl_send(struct provcat *c, const char *method, const char *path,
             const char *body, size_t body_len, unsigned flags,
             int64_t if_version, const char *what);

/* A call whose answer is a JSON document: PROVCAT_OK with a copy of the
 * body in `*json` (may be NULL), or the error. */
int pcl_call_json(struct provcat *c, const char *method,
                  const struct pc_buf *path, const char *body, size_t body_len,
                  unsigned flags, int64_t if_version, char **json,
                  const char *what);
/* A linearizable GET of the document at `base` (no "%" in it) with the
 * name/value `filters` (NULL: none) as its query; as pcl_call_json. */
int pcl_get_json(struct provcat *c, const char *base,
                 const char *const *filters, char **json, const char *what);

/* What the items of a list iterator are. */
enum pcl_iter_kind {
    PCL_ITER_JSON,    /* JSON alone */
    PCL_ITER_RECORDS, /* record versions (provcat_iter_record) */
    PCL_ITER_KEYS,    /* keys of a record list (provcat_iter_key) */
    PCL_ITER_SHARE,   /* share requests */
    PCL_ITER_GRANT,
    PCL_ITER_OPEN, /* open requests */
    PCL_ITER_OBJECTION,
    PCL_ITER_REDACTION
};

/*
 * A new iterator of `kind` over the list at `base` (a path with its query
 * filters; taken over, also on error). `cursor` is the query parameter
 * that carries a page's `next` to the next request (NULL: "after"), and
 * `first` (or NULL) its value for the first page.
 */
int pcl_iter_new(struct provcat *c, enum pcl_iter_kind kind,
                 struct pc_buf *base, const char *cursor, const char *first,
                 const char *what, struct provcat_iter **out);
/* The next item's JSON of an iterator that must be of `kind`: 1, 0 at
 * the end, or an error (PROVCAT_EINVAL for another kind). */
int pcl_iter_item(struct provcat_iter *it, enum pcl_iter_kind kind,
                  const char **json);
/* Make `obj` the iterator's current typed item: `free_fn` frees it at
 * the next pcl_iter_hold or with the iterator. */
void pcl_iter_hold(struct provcat_iter *it, void *obj, void (*free_fn)(void *));
struct provcat *pcl_iter_client(struct provcat_iter *it);
const char *pcl_iter_what(const struct provcat_iter *it);
/* A new iterator of `kind` over the list at `base` (no "%" in it) with
 * the name/value `filters` (NULL: none) as its query. */
int pcl_list_at(struct provcat *c, enum pcl_iter_kind kind, const char *base,
                const char *const *filters, const char *what,
                struct provcat_iter **out);

/* The string array member `name` of `o` as a NULL-free array of `*n`
 * copies (NULL and 0 when absent, empty or not an array of strings).
 * `*rc` becomes PROVCAT_ENOMEM if a copy failed. */
char **pcl_jstrv(json_t *o, const char *name, size_t *n, int *rc);
/* Free what pcl_jstrv returned. */
void pcl_strv_free(char **v, size_t n);

/*
 * Parse a records:batch answer (`len` bytes at `body`, which is scanned in
 * place) into `*out`. PROVCAT_OK, PROVCAT_EPROTO or PROVCAT_ENOMEM.
 */
int pcl_batch_parse(const char *body, size_t len, const char *entry,
                    bool replayed, struct provcat_batch_result **out);

/* Fill `rec` from the record object `o` whose text is `text..end`. */
int pcl_record_parse(const char *text, const char *end,
                     struct provcat_record *rec);
/* Release what `rec` points to (not `rec` itself). */
void pcl_record_release(struct provcat_record *rec);

#endif
