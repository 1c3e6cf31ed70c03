/* SPDX-License-Identifier: MIT */
/*
 * Where records come from: a live cluster, read through libprovcat's
 * generic request (the records list with `values=true` and `at_revision`,
 * one consistent snapshot across pages; record reads; histories), or a
 * backup file, checked and decoded whole by storage/snap (the checks of
 * `provcat-node verify-backup`) and read through the ledger's index with
 * no cluster at all. Both give records in key byte order.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "client/provcat.h"
#include "common/alloc.h"
#include "common/err.h"
#include "common/jcs.h"
#include "common/timefmt.h"
#include "storage/fact.h"
#include "storage/idx.h"
#include "storage/led.h"
#include "storage/snap.h"
#include "tools/reconcile/reconcile.h"

/* Items per page asked of a node; halved while a page has more JSON
 * values than the parser takes in one document. */
#define PAGE_LIMIT 1000

struct rcl_src {
    bool live;
    char name[300];
    struct provcat *c; /* live */
    struct led *led;   /* backup */
};

/* ---- helpers ------------------------------------------------------------ */

/* Append `s` percent-encoded as one path segment or query value. */
static int
put_escaped(struct pc_buf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";

    for (; *s != '\0'; s++) {
        unsigned char ch = (unsigned char)*s;

        if ((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
            (ch >= '0' && ch <= '9') || ch == '-' || ch == '.' || ch == '_' ||
            ch == '~') {
            if (pc_buf_put_u8(b, ch) != PC_OK) {
                return PC_ENOMEM;
            }
        } else if (pc_buf_put_u8(b, '%') != PC_OK ||
                   pc_buf_put_u8(b, (uint8_t)hex[ch >> 4]) != PC_OK ||
                   pc_buf_put_u8(b, (uint8_t)hex[ch & 15]) != PC_OK) {
            return PC_ENOMEM;
        }
    }
    return PC_OK;
}

/* A path "/v1/catalog/E[/records[/K[suffix]]]" with escaped segments. */
static int
record_path(struct pc_buf *b, const char *entry, const char *key,
            const char *suffix)
{
    int rc = pc_buf_put(b, "/v1/catalog/", 12);

    rc |= put_escaped(b, entry);
    if (key != NULL) {
        rc |= pc_buf_put(b, "/records/", 9);
        rc |= put_escaped(b, key);
    }
    if (suffix != NULL) {
        rc |= pc_buf_put(b, suffix, strlen(suffix));
    }
    rc |= pc_buf_put_u8(b, '\0');
    b->len--;
    return rc == PC_OK ? PC_OK : PC_ENOMEM;
}

static uint64_t
get_u64(const struct jcs_val *o, const char *k)
{
    const struct jcs_val *v = jcs_get(o, k, strlen(k));

    return v != NULL && jcs_type(v) == JCS_NUMBER && jcs_number(v) >= 0
               ? (uint64_t)jcs_number(v)
               : 0;
}

static const char *
get_str(const struct jcs_val *o, const char *k, size_t *len)
{
    const struct jcs_val *v = jcs_get(o, k, strlen(k));

    return v != NULL ? jcs_string(v, len) : NULL;
}

static bool
get_true(const struct jcs_val *o, const char *k)
{
    const struct jcs_val *v = jcs_get(o, k, strlen(k));

    return v != NULL && jcs_type(v) == JCS_TRUE;
}

/* A record version object of the API as a struct rcl_rec (borrowing). */
static void
rec_from_json(const struct jcs_doc *d, const struct jcs_val *o,
              struct rcl_rec *r)
{
    const char *s;
    size_t len;

    memset(r, 0, sizeof(*r));
    r->key = get_str(o, "key", &r->key_len);
    r->version = get_u64(o, "version");
    r->revision = get_u64(o, "revision");
    s = get_str(o, "hash", &len);
    if (s != NULL && len == PC_HASH_HEX_LEN) {
        memcpy(r->hash, s, len + 1);
    }
    s = get_str(o, "op", &len);
    if (s != NULL && len < sizeof(r->op)) {
        memcpy(r->op, s, len + 1);
    }
    r->retired = get_true(o, "retired");
    r->redacted = get_true(o, "redacted");
    r->filtered = get_true(o, "filtered");
    r->doc = d;
    r->value = jcs_get(o, "value", 5);
    if (r->value != NULL && jcs_type(r->value) != JCS_OBJECT) {
        r->value = NULL;
    }
    r->author = get_str(o, "author", NULL);
    s = get_str(o, "at", &len);
    if (s != NULL && len < sizeof(r->at)) {
        memcpy(r->at, s, len + 1);
    }
}

/* ---- live ------------------------------------------------------------------
 */

/* GET `path` from the cluster and parse the answer. */
static int
live_get(struct rcl_src *s, const char *path, struct jcs_doc **out, char *err)
{
    char *answer = NULL, em[PC_ERRMSG_SIZE];
    int rc;

    rc = provcat_request(s->c, "GET", path, NULL, 0, NULL, &answer);
    if (rc != PROVCAT_OK) {
        const struct provcat_error *e = provcat_last_error(s->c);

        if (e->http_status > 0) {
            snprintf(err, RCL_ERR_SIZE, "GET %s: %s (%d %s)", path,
                     provcat_errmsg(s->c), e->http_status,
                     e->server_code != NULL ? e->server_code : "");
        } else {
            snprintf(err, RCL_ERR_SIZE, "GET %s: %s", path,
                     provcat_errmsg(s->c));
        }
        return rc == PROVCAT_ENOTFOUND ? PC_ENOTFOUND : PC_EIO;
    }
    rc = jcs_parse(answer, strlen(answer), out, em);
    provcat_free(answer);
    if (rc != PC_OK) {
        snprintf(err, RCL_ERR_SIZE, "GET %s: %s", path,
                 rc == PC_ENOMEM ? "out of memory" : em);
        return rc == PC_ENOMEM ? rc : PC_EPROTO;
    }
    return PC_OK;
}

/* Whether a parse failed only because the page held too many values. */
static bool
too_many_values(const char *err)
{
    return strstr(err, "values") != NULL;
}

int
rcl_src_live(const struct rcl_opts *o, struct rcl_src **out, char *err)
{
    char em[PROVCAT_ERRMSG_SIZE];
    struct rcl_src *s;
    bool failed = false;
    char *token = rcl_token(o, &failed, err);
    int rc;

    if (failed) {
        return PC_EINVAL;
    }
    s = pc_calloc(1, sizeof(*s));
    if (s == NULL) {
        free(token);
        return pc_errmsgf(err, PC_ENOMEM, "out of memory");
    }
    s->live = true;
    rc = provcat_new(o->endpoints, token, &s->c, em);
    free(token);
    if (rc != PROVCAT_OK) {
        pc_free(s);
        snprintf(err, RCL_ERR_SIZE, "%s",
                 rc == PROVCAT_EINVAL ? em : provcat_strerror(rc));
        return PC_EINVAL;
    }
    provcat_set_timeout_ms(s->c, o->timeout_ms);
    snprintf(s->name, sizeof(s->name), "the cluster at %s",
             o->endpoints != NULL                  ? o->endpoints
             : getenv("PROVCAT_ENDPOINTS") != NULL ? getenv("PROVCAT_ENDPOINTS")
                                                   : "?");
    *out = s;
    return PC_OK;
}

/* ---- backup ----------------------------------------------------------------
 */

int
rcl_src_backup(const char *path, struct rcl_src **out, char *err)
{
    char em[PC_ERRMSG_SIZE];
    struct snap_summary sum;
    struct rcl_src *s;
    struct stat st;
    void *map;
    int fd, rc;

    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &st) != 0) {
        rc = pc_errmsg_sys(err, errno, "backup '%s'", path);
        if (fd >= 0) {
            close(fd);
        }
        return rc;
    }
    if (st.st_size == 0) {
        close(fd);
        return pc_errmsgf(err, PC_ECORRUPT, "backup '%s': empty file", path);
    }
    map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (map == MAP_FAILED) {
        return pc_errmsg_sys(err, errno, "backup '%s': map", path);
    }
    s = pc_calloc(1, sizeof(*s));
    if (s == NULL) {
        munmap(map, (size_t)st.st_size);
        return pc_errmsgf(err, PC_ENOMEM, "out of memory");
    }
    rc = snap_verify(map, (size_t)st.st_size, &s->led, &sum, NULL, em);
    munmap(map, (size_t)st.st_size);
    if (rc != PC_OK) {
        pc_free(s);
        return pc_errmsgf(err, rc, "backup '%s': %s", path, em);
    }
    snprintf(s->name, sizeof(s->name), "backup %s (revision %llu)", path,
             (unsigned long long)sum.revision);
    *out = s;
    return PC_OK;
}

void
rcl_src_free(struct rcl_src *s)
{
    if (s == NULL) {
        return;
    }
    provcat_close(s->c);
    led_free(s->led);
    pc_free(s);
}

const char *
rcl_src_name(const struct rcl_src *s)
{
    return s->name;
}

int
rcl_src_revision(struct rcl_src *s, uint64_t *rev, char *err)
{
    struct jcs_doc *d;
    int rc;

    if (!s->live) {
        *rev = led_count(s->led);
        return PC_OK;
    }
    rc = live_get(s, "/v1/ledger", &d, err);
    if (rc != PC_OK) {
        return rc;
    }
    *rev = get_u64(jcs_root(d), "revision");
    jcs_doc_free(d);
    return PC_OK;
}

/* The payload of fact `rev`, parsed. */
static int
payload_of(const struct led *l, uint64_t rev, struct fact *f,
           struct jcs_doc **out)
{
    if (led_get(l, rev, f) != PC_OK) {
        return PC_ECORRUPT;
    }
    return jcs_parse((const char *)f->payload.p, f->payload.len, out, NULL);
}

int
rcl_src_schema(struct rcl_src *s, const char *entry, uint64_t at,
               struct rcl_schema *out, char *err)
{
    struct jcs_doc *d;
    int rc;

    if (s->live) {
        struct pc_buf p;

        pc_buf_init(&p);
        rc = record_path(&p, entry, NULL, NULL);
        if (rc == PC_OK) {
            rc = live_get(s, (const char *)p.data, &d, err);
        }
        pc_buf_release(&p);
        if (rc == PC_ENOTFOUND) {
            snprintf(err, RCL_ERR_SIZE, "no catalog entry '%s' in %s", entry,
                     s->name);
        }
    } else {
        struct idx_key k = { FACT_ENTRY, { NULL, 0 }, PC_SLICE_STR(entry) };
        uint64_t v, rev;
        struct fact f;

        if (idx_version_at(led_idx(s->led), &k, at > 0 ? at : led_count(s->led),
                           &v, &rev) != PC_OK) {
            return pc_errmsgf(err, PC_ENOTFOUND, "no catalog entry '%s' in %s",
                              entry, s->name);
        }
        rc = payload_of(s->led, rev, &f, &d);
        if (rc != PC_OK) {
            return pc_errmsgf(err, rc, "entry '%s': unreadable payload", entry);
        }
    }
    if (rc != PC_OK) {
        return rc;
    }
    rc = rcl_schema_from_entry(jcs_root(d), out);
    jcs_doc_free(d);
    return rc == PC_OK ? PC_OK : pc_errmsgf(err, rc, "out of memory");
}

/*
 * A record version of the backup as a struct rcl_rec; its document parsed
 * into `*doc` when `values` (free it after the callback).
 */
static int
backup_rec(const struct led *l, uint64_t rev, bool values, struct rcl_rec *r,
           struct jcs_doc **doc, struct jcs_doc **meta, struct pc_buf *json)
{
    uint8_t h[PC_HASH_LEN];
    const char *op;
    struct fact f;
    size_t len;
    int rc;

    memset(r, 0, sizeof(*r));
    *doc = NULL;
    *meta = NULL;
    rc = payload_of(l, rev, &f, meta);
    if (rc != PC_OK || f.kind != FACT_RECORD || led_hash(l, rev, h) != PC_OK) {
        return rc != PC_OK ? rc : PC_ECORRUPT;
    }
    r->key = (const char *)f.id.p;
    r->key_len = f.id.len;
    r->version = f.version;
    r->revision = rev;
    pc_hex(r->hash, h, PC_HASH_LEN);
    op = get_str(jcs_root(*meta), "op", &len);
    if (op != NULL && len < sizeof(r->op)) {
        memcpy(r->op, op, len + 1);
    }
    r->retired =
        strcmp(r->op, "retire") == 0 || get_true(jcs_root(*meta), "retired");
    r->author = NULL;
    pc_time_format(r->at, f.time_ms);
    if (!f.has_content) {
        return PC_OK;
    }
    if (led_doc_state(l, rev) == LED_DOC_REDACTED) {
        r->redacted = true;
        return PC_OK;
    }
    if (!values) {
        return PC_OK;
    }
    json->len = 0;
    rc = led_doc_get(l, rev, json, NULL);
    if (rc == PC_EFORBIDDEN) {
        r->redacted = true;
        return PC_OK;
    }
    if (rc != PC_OK) {
        return rc;
    }
    rc = jcs_parse((const char *)json->data, json->len, doc, NULL);
    if (rc != PC_OK) {
        return rc == PC_ENOMEM ? rc : PC_ECORRUPT;
    }
    r->doc = *doc;
    r->value = jcs_root(*doc);
    return PC_OK;
}

/* Visit the backup's version of a record at revision `rev` (a fact). */
static int
backup_visit(const struct led *l, uint64_t rev, bool values, rcl_rec_cb cb,
             void *arg, bool *go_on, struct pc_buf *json, char *err)
{
    struct jcs_doc *doc, *meta;
    struct rcl_rec r;
    int rc = backup_rec(l, rev, values, &r, &doc, &meta, json);

    if (rc != PC_OK) {
        jcs_doc_free(doc);
        jcs_doc_free(meta);
        return pc_errmsgf(err, rc, "fact %llu: unreadable record",
                          (unsigned long long)rev);
    }
    /* The fact's principal is the version's author. */
    struct fact f;
    char author[FACT_MAX_ID + 1];

    if (led_get(l, rev, &f) == PC_OK && f.principal.len <= FACT_MAX_ID) {
        memcpy(author, f.principal.p, f.principal.len);
        author[f.principal.len] = '\0';
        r.author = author;
    }
    *go_on = cb(arg, &r);
    jcs_doc_free(doc);
    jcs_doc_free(meta);
    return PC_OK;
}

int
rcl_src_history(struct rcl_src *s, const char *entry, const char *key,
                rcl_rec_cb cb, void *arg, char *err)
{
    struct pc_buf path, json;
    char *after = NULL;
    bool go_on = true;
    int rc = PC_OK;

    pc_buf_init(&json);
    if (!s->live) {
        struct idx_key k = { FACT_RECORD, PC_SLICE_STR(entry),
                             PC_SLICE_STR(key) };
        uint64_t latest = idx_latest(led_idx(s->led), &k, NULL), rev;

        if (latest == 0) {
            return pc_errmsgf(err, PC_ENOTFOUND,
                              "no record '%s' in entry '%s' of %s", key, entry,
                              s->name);
        }
        for (uint64_t v = 1; rc == PC_OK && go_on && v <= latest; v++) {
            rc = idx_version_rev(led_idx(s->led), &k, v, &rev);
            if (rc == PC_OK) {
                rc = backup_visit(s->led, rev, true, cb, arg, &go_on, &json,
                                  err);
            }
        }
        pc_buf_release(&json);
        return rc;
    }
    pc_buf_init(&path);
    do {
        struct jcs_doc *d;
        const struct jcs_val *items, *next;

        path.len = 0;
        rc = record_path(&path, entry, key, "/history?limit=1000");
        if (rc == PC_OK && after != NULL) {
            rc = pc_buf_printf(&path, "&after=%s", after);
        }
        pc_free(after);
        after = NULL;
        if (rc != PC_OK) {
            break;
        }
        rc = live_get(s, (const char *)path.data, &d, err);
        if (rc == PC_ENOTFOUND) {
            snprintf(err, RCL_ERR_SIZE, "no record '%s' in entry '%s' of %s",
                     key, entry, s->name);
        }
        if (rc != PC_OK) {
            break;
        }
        items = jcs_get(jcs_root(d), "items", 5);
        for (size_t i = 0; go_on && i < jcs_len(items); i++) {
            struct rcl_rec r;

            rec_from_json(d, jcs_at(items, i), &r);
            go_on = cb(arg, &r);
        }
        next = jcs_get(jcs_root(d), "next", 4);
        if (go_on && next != NULL && jcs_type(next) == JCS_STRING) {
            after = pc_strdup(jcs_string(next, NULL));
            rc = after != NULL ? PC_OK : PC_ENOMEM;
        }
        jcs_doc_free(d);
    } while (rc == PC_OK && after != NULL);
    pc_free(after);
    pc_buf_release(&path);
    pc_buf_release(&json);
    return rc;
}

struct scan_ctx {
    const struct led *l;
    const char *entry;
    uint64_t at;
    bool values, retired;
    rcl_rec_cb cb;
    void *arg;
    struct pc_buf json;
    int rc;
    char *err;
};

static bool
scan_cb(void *arg, struct pc_slice id, uint64_t latest, uint64_t latest_rev)
{
    struct scan_ctx *c = arg;
    struct idx_key k = { FACT_RECORD, PC_SLICE_STR(c->entry), id };
    struct jcs_doc *doc, *meta;
    uint64_t v, rev;
    struct rcl_rec r;
    bool go_on;

    (void)latest, (void)latest_rev;
    if (idx_version_at(led_idx(c->l), &k, c->at, &v, &rev) != PC_OK) {
        return true; /* created after the revision read */
    }
    c->rc = backup_rec(c->l, rev, c->values, &r, &doc, &meta, &c->json);
    if (c->rc != PC_OK) {
        jcs_doc_free(doc);
        jcs_doc_free(meta);
        pc_errmsgf(c->err, c->rc, "fact %llu: unreadable record",
                   (unsigned long long)rev);
        return false;
    }
    go_on = (!r.retired || c->retired) ? c->cb(c->arg, &r) : true;
    jcs_doc_free(doc);
    jcs_doc_free(meta);
    return go_on;
}

/*
 * A live scan: one thread fetches and parses the pages in order (each
 * page's cursor is in the one before it) while the caller's thread
 * compares the page before, so the node's time serving a page and the
 * tool's time comparing one overlap. One page is handed over at a time.
 */
struct pager {
    struct rcl_src *s;
    const char *entry;
    bool values, retired;
    uint64_t at; /* asked (0: now), then the listing's */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct jcs_doc *slot; /* a page ready for the caller, or NULL */
    bool done;            /* the fetcher ended (rc says how) */
    bool stop;            /* the caller wants no more pages */
    int rc;
    char err[RCL_ERR_SIZE];
};

/* Hand page `d` over (NULL: the end); false when the caller stopped. */
static bool
pager_put(struct pager *pg, struct jcs_doc *d)
{
    bool taken;

    pthread_mutex_lock(&pg->mu);
    while (pg->slot != NULL && !pg->stop) {
        pthread_cond_wait(&pg->cv, &pg->mu);
    }
    taken = !pg->stop;
    if (taken && d != NULL) {
        pg->slot = d;
    }
    if (d == NULL) {
        pg->done = true;
    }
    pthread_cond_broadcast(&pg->cv);
    pthread_mutex_unlock(&pg->mu);
    if (!taken) {
        jcs_doc_free(d);
    }
    return taken;
}

static void *
pager_run(void *arg)
{
    struct pager *pg = arg;
    size_t limit = PAGE_LIMIT;
    struct pc_buf path;
    char *after = NULL;
    int rc = PC_OK;

    pc_buf_init(&path);
    for (;;) {
        const struct jcs_val *next;
        struct jcs_doc *d;

        path.len = 0;
        rc = record_path(&path, pg->entry, NULL, "/records");
        rc |= pc_buf_printf(&path, "?limit=%zu&include_retired=%s&values=%s",
                            limit, pg->retired ? "true" : "false",
                            pg->values ? "true" : "false");
        if (after != NULL) {
            rc |= pc_buf_printf(&path, "&after=%s", after);
        } else if (pg->at > 0) {
            rc |= pc_buf_printf(&path, "&at_revision=%llu",
                                (unsigned long long)pg->at);
        }
        if (rc != PC_OK) {
            rc = pc_errmsgf(pg->err, PC_ENOMEM, "out of memory");
            break;
        }
        rc = live_get(pg->s, (const char *)path.data, &d, pg->err);
        if (rc == PC_EPROTO && limit > 1 && too_many_values(pg->err)) {
            limit /= 2; /* the same page, in smaller pieces */
            continue;
        }
        if (rc == PC_ENOTFOUND) {
            snprintf(pg->err, RCL_ERR_SIZE, "no catalog entry '%s' in %s",
                     pg->entry, pg->s->name);
        }
        if (rc != PC_OK) {
            break;
        }
        if (after == NULL) {
            pg->at = get_u64(jcs_root(d), "revision");
        }
        next = jcs_get(jcs_root(d), "next", 4);
        pc_free(after);
        after = NULL;
        if (next != NULL && jcs_type(next) == JCS_STRING) {
            after = pc_strdup(jcs_string(next, NULL));
            if (after == NULL) {
                jcs_doc_free(d);
                rc = pc_errmsgf(pg->err, PC_ENOMEM, "out of memory");
                break;
            }
        }
        if (!pager_put(pg, d) || after == NULL) {
            break;
        }
    }
    pg->rc = rc;
    pc_free(after);
    pc_buf_release(&path);
    pager_put(pg, NULL);
    return NULL;
}

int
rcl_src_scan(struct rcl_src *s, const char *entry, uint64_t *at, bool values,
             bool retired, rcl_rec_cb cb, void *arg, char *err)
{
    struct pager pg;
    pthread_t th;
    bool go_on = true;
    int rc;

    if (!s->live) {
        struct scan_ctx c = { s->led, entry, *at,   values, retired,
                              cb,     arg,   { 0 }, PC_OK,  err };

        if (c.at == 0 || c.at > led_count(s->led)) {
            c.at = led_count(s->led);
        }
        *at = c.at;
        pc_buf_init(&c.json);
        idx_scan(led_idx(s->led), FACT_RECORD, PC_SLICE_STR(entry),
                 (struct pc_slice){ 0 }, (struct pc_slice){ 0 }, scan_cb, &c);
        pc_buf_release(&c.json);
        return c.rc;
    }
    memset(&pg, 0, sizeof(pg));
    pg.s = s;
    pg.entry = entry;
    pg.values = values;
    pg.retired = retired;
    pg.at = *at;
    pthread_mutex_init(&pg.mu, NULL);
    pthread_cond_init(&pg.cv, NULL);
    if (pthread_create(&th, NULL, pager_run, &pg) != 0) {
        pthread_mutex_destroy(&pg.mu);
        pthread_cond_destroy(&pg.cv);
        return pc_errmsgf(err, PC_ENOMEM, "could not start a thread");
    }
    for (;;) {
        const struct jcs_val *items;
        struct jcs_doc *d;

        pthread_mutex_lock(&pg.mu);
        while (pg.slot == NULL && !pg.done) {
            pthread_cond_wait(&pg.cv, &pg.mu);
        }
        d = pg.slot;
        pg.slot = NULL;
        if (!go_on) {
            pg.stop = true;
        }
        pthread_cond_broadcast(&pg.cv);
        pthread_mutex_unlock(&pg.mu);
        if (d == NULL) {
            break;
        }
        if (go_on) {
            *at = pg.at;
            items = jcs_get(jcs_root(d), "items", 5);
            for (size_t i = 0; go_on && i < jcs_len(items); i++) {
                struct rcl_rec r;

                rec_from_json(d, jcs_at(items, i), &r);
                go_on = cb(arg, &r);
            }
        }
        jcs_doc_free(d);
        if (!go_on) {
            pthread_mutex_lock(&pg.mu);
            pg.stop = true;
            pthread_cond_broadcast(&pg.cv);
            pthread_mutex_unlock(&pg.mu);
        }
    }
    pthread_join(th, NULL);
    pthread_mutex_destroy(&pg.mu);
    pthread_cond_destroy(&pg.cv);
    rc = pg.rc;
    if (rc != PC_OK) {
        snprintf(err, RCL_ERR_SIZE, "%s", pg.err);
    } else if (*at == 0) {
        *at = pg.at;
    }
    return rc;
}

int
rcl_src_get(struct rcl_src *s, const char *entry, const char *key,
            uint64_t version, uint64_t at, rcl_rec_cb cb, void *arg, char *err)
{
    struct pc_buf path;
    struct jcs_doc *d;
    struct rcl_rec r;
    int rc;

    if (!s->live) {
        struct idx_key k = { FACT_RECORD, PC_SLICE_STR(entry),
                             PC_SLICE_STR(key) };
        uint64_t v, rev;
        bool go_on;

        pc_buf_init(&path);
        rc = version > 0
                 ? idx_version_rev(led_idx(s->led), &k, version, &rev)
                 : idx_version_at(led_idx(s->led), &k,
                                  at > 0 ? at : led_count(s->led), &v, &rev);
        if (rc != PC_OK) {
            return pc_errmsgf(
                err, PC_ENOTFOUND,
                "record '%s' of entry '%s' has no %s %llu in %s", key, entry,
                version > 0 ? "version" : "version at revision",
                (unsigned long long)(version > 0 ? version : at), s->name);
        }
        rc = backup_visit(s->led, rev, true, cb, arg, &go_on, &path, err);
        pc_buf_release(&path);
        return rc;
    }
    pc_buf_init(&path);
    rc = record_path(&path, entry, key, NULL);
    if (version > 0) {
        rc |=
            pc_buf_printf(&path, "?version=%llu", (unsigned long long)version);
    } else if (at > 0) {
        rc |= pc_buf_printf(&path, "?at_revision=%llu", (unsigned long long)at);
    }
    if (rc != PC_OK) {
        pc_buf_release(&path);
        return pc_errmsgf(err, PC_ENOMEM, "out of memory");
    }
    rc = live_get(s, (const char *)path.data, &d, err);
    pc_buf_release(&path);
    if (rc == PC_ENOTFOUND) {
        snprintf(err, RCL_ERR_SIZE,
                 "record '%s' of entry '%s' has no %s %llu in %s", key, entry,
                 version > 0 ? "version" : "version at revision",
                 (unsigned long long)(version > 0 ? version : at), s->name);
    }
    if (rc != PC_OK) {
        return rc;
    }
    rec_from_json(d, jcs_root(d), &r);
    cb(arg, &r);
    jcs_doc_free(d);
    return PC_OK;
}
