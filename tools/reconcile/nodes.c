/* SPDX-License-Identifier: MIT */
/*
 * `nodes ENDPOINT...`: compare replicas. Each node is asked on its own
 * (node-local reads: GET /v1/ledger, and GET /v1/ledger/digests with
 * consistency=stale) at one revision R, by default the lowest revision any
 * of them has applied, which every node has (at_revision=R, min_revision=R).
 * The ledger roots at R say whether the nodes agree; when they do not, a
 * bisection over tree sizes finds the last revision they agree on. The
 * entries' digests at R say which entries differ, and for those the
 * per-record heads, merged in key order across the nodes, name the keys.
 * Each node's heads are also summed and checked against its own digest.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/provcat.h"
#include "common/alloc.h"
#include "common/digest.h"
#include "common/err.h"
#include "common/jcs.h"
#include "tools/reconcile/reconcile.h"

#define MAX_NODES 64

/* One entry's digest as a node reported it. */
struct edigest {
    char *entry;
    uint64_t records, versions;
    char digest[PC_HASH_HEX_LEN + 1];
};

struct node {
    const char *url;
    struct provcat *c;
    bool ok; /* reachable and answering; else `err` says why */
    char err[RCL_ERR_SIZE];
    uint64_t revision;                  /* applied, when asked first */
    uint64_t at;                        /* the revision compared */
    char root_at[PC_HASH_HEX_LEN + 1];  /* the root at `at` */
    char root_min[PC_HASH_HEX_LEN + 1]; /* the root at the common one */
    struct edigest *d;
    size_t n_d;
};

/* A key whose heads differ: one head per node (version 0: none). */
struct khead {
    uint64_t version, revision;
    char hash[PC_HASH_HEX_LEN + 1];
};

struct kdiff {
    char *key;
    struct khead *h; /* n_nodes */
};

/* An entry that differs somewhere. */
struct ediff {
    const char *entry;
    const struct edigest **per; /* n_nodes; NULL: not listed by that node */
    struct kdiff *keys;
    size_t n_keys, cap_keys;
    char **self_bad; /* per node: its heads do not add up, or NULL */
};

/* GET `path` from node `n` alone, parsed. */
static int
node_get(struct node *n, const char *path, struct jcs_doc **out)
{
    char *answer = NULL, em[PC_ERRMSG_SIZE];
    int rc = provcat_request(n->c, "GET", path, NULL, PROVCAT_REQ_ANY_NODE,
                             NULL, &answer);

    if (rc != PROVCAT_OK) {
        const struct provcat_error *e = provcat_last_error(n->c);

        if (e->http_status > 0) {
            snprintf(n->err, sizeof(n->err), "GET %s: %s (%d)", path,
                     provcat_errmsg(n->c), e->http_status);
        } else {
            snprintf(n->err, sizeof(n->err), "GET %s: %s", path,
                     provcat_errmsg(n->c));
        }
        return PC_EIO;
    }
    rc = jcs_parse(answer, strlen(answer), out, em);
    provcat_free(answer);
    if (rc != PC_OK) {
        snprintf(n->err, sizeof(n->err), "GET %s: %s", path, em);
        return PC_EPROTO;
    }
    return PC_OK;
}

static uint64_t
u64_of(const struct jcs_val *o, const char *k)
{
    const struct jcs_val *v = jcs_get(o, k, strlen(k));

    return v != NULL && jcs_type(v) == JCS_NUMBER ? (uint64_t)jcs_number(v) : 0;
}

static void
hex_of(const struct jcs_val *o, const char *k, char out[PC_HASH_HEX_LEN + 1])
{
    size_t len;
    const struct jcs_val *v = jcs_get(o, k, strlen(k));
    const char *s = v != NULL ? jcs_string(v, &len) : NULL;

    out[0] = '\0';
    if (s != NULL && len == PC_HASH_HEX_LEN) {
        memcpy(out, s, len + 1);
    }
}

/* The root of node `n` at tree size `size` into `out`. */
static int
root_at(struct node *n, uint64_t size, char out[PC_HASH_HEX_LEN + 1])
{
    struct jcs_doc *d;
    char path[64];

    snprintf(path, sizeof(path), "/v1/ledger?tree_size=%llu",
             (unsigned long long)size);
    if (node_get(n, path, &d) != PC_OK) {
        return PC_EIO;
    }
    hex_of(jcs_root(d), "root", out);
    jcs_doc_free(d);
    return out[0] != '\0' ? PC_OK : PC_EPROTO;
}

/* Query string of a digest read at the node's revision. */
static void
at_query(const struct node *n, bool current, char *q, size_t cap)
{
    if (current) {
        snprintf(q, cap, "consistency=stale");
    } else {
        snprintf(q, cap, "consistency=stale&at_revision=%llu&min_revision=%llu",
                 (unsigned long long)n->at, (unsigned long long)n->at);
    }
}

/* Every entry's digest from node `n`. */
static int
read_digests(struct node *n, bool current)
{
    char q[128], *after = NULL;
    struct pc_buf path;
    int rc = PC_OK;

    at_query(n, current, q, sizeof(q));
    pc_buf_init(&path);
    do {
        const struct jcs_val *items, *next;
        struct jcs_doc *d;

        path.len = 0;
        if (pc_buf_printf(&path, "/v1/ledger/digests?limit=1000&%s%s%s", q,
                          after ? "&after=" : "",
                          after ? after : "") != PC_OK) {
            rc = PC_ENOMEM;
            break;
        }
        free(after);
        after = NULL;
        rc = node_get(n, (const char *)path.data, &d);
        if (rc != PC_OK) {
            break;
        }
        if (current) {
            n->at = u64_of(jcs_root(d), "revision");
        }
        items = jcs_get(jcs_root(d), "items", 5);
        for (size_t i = 0; i < jcs_len(items); i++) {
            const struct jcs_val *it = jcs_at(items, i);
            struct edigest *v = realloc(n->d, (n->n_d + 1) * sizeof(*v));
            const struct jcs_val *e = jcs_get(it, "entry", 5);
            const char *s = e != NULL ? jcs_string(e, NULL) : NULL;

            if (v != NULL) {
                n->d = v;
            }
            if (v == NULL || s == NULL) {
                rc = v == NULL ? PC_ENOMEM : PC_EPROTO;
                snprintf(n->err, sizeof(n->err), "digests: %s",
                         v == NULL ? "out of memory" : "an item without entry");
                break;
            }
            v = &n->d[n->n_d];
            v->entry = strdup(s);
            v->records = u64_of(it, "records");
            v->versions = u64_of(it, "versions");
            hex_of(it, "digest", v->digest);
            if (v->entry == NULL) {
                rc = PC_ENOMEM;
                break;
            }
            n->n_d++;
        }
        next = jcs_get(jcs_root(d), "next", 4);
        if (rc == PC_OK && next != NULL && jcs_type(next) == JCS_STRING) {
            after = strdup(jcs_string(next, NULL));
        }
        jcs_doc_free(d);
    } while (rc == PC_OK && after != NULL);
    free(after);
    pc_buf_release(&path);
    return rc;
}

/* ---- the keys of one entry, merged across nodes -------------------------- */

struct stream {
    struct node *n;
    const char *entry;
    bool current;
    struct jcs_doc *page;
    const struct jcs_val *items;
    size_t i;
    char *next;
    bool done;
    struct pc_digest sum;             /* the heads seen, summed here */
    char digest[PC_HASH_HEX_LEN + 1]; /* the node's own, from page 1 */
    uint64_t records, versions;
};

static int
stream_fetch(struct stream *s)
{
    char q[128], *ent;
    struct pc_buf path;
    const struct jcs_val *next;
    int rc;

    jcs_doc_free(s->page);
    s->page = NULL;
    s->items = NULL;
    s->i = 0;
    at_query(s->n, s->current, q, sizeof(q));
    pc_buf_init(&path);
    ent = malloc(3 * strlen(s->entry) + 1);
    if (ent == NULL) {
        return PC_ENOMEM;
    }
    /* Entry ids are [A-Za-z0-9._-]: nothing to escape. */
    strcpy(ent, s->entry);
    rc =
        pc_buf_printf(&path, "/v1/ledger/digests?entry=%s&limit=1000&%s%s%s",
                      ent, q, s->next ? "&after=" : "", s->next ? s->next : "");
    free(ent);
    free(s->next);
    s->next = NULL;
    if (rc == PC_OK) {
        rc = node_get(s->n, (const char *)path.data, &s->page);
    }
    pc_buf_release(&path);
    if (rc != PC_OK) {
        return rc;
    }
    if (s->digest[0] == '\0') {
        hex_of(jcs_root(s->page), "digest", s->digest);
        s->records = u64_of(jcs_root(s->page), "records");
        s->versions = u64_of(jcs_root(s->page), "versions");
    }
    s->items = jcs_get(jcs_root(s->page), "items", 5);
    next = jcs_get(jcs_root(s->page), "next", 4);
    if (next != NULL && jcs_type(next) == JCS_STRING) {
        s->next = strdup(jcs_string(next, NULL));
        if (s->next == NULL) {
            return PC_ENOMEM;
        }
    }
    return PC_OK;
}

/* The stream's current item, fetching pages as needed; NULL at the end. */
static int
stream_item(struct stream *s, const struct jcs_val **it)
{
    int rc;

    *it = NULL;
    while (!s->done) {
        if (s->items != NULL && s->i < jcs_len(s->items)) {
            *it = jcs_at(s->items, s->i);
            return PC_OK;
        }
        if (s->page != NULL && s->next == NULL) {
            s->done = true;
            break;
        }
        rc = stream_fetch(s);
        if (rc != PC_OK) {
            return rc;
        }
    }
    return PC_OK;
}

static int
bytes_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
    int c = memcmp(a, b, alen < blen ? alen : blen);

    return c != 0 ? c : (alen > blen) - (alen < blen);
}

/* Merge the per-record heads of entry `e->entry` on every node. */
static int
diff_keys(struct node *nodes, size_t n_nodes, bool current, struct ediff *e)
{
    struct stream st[MAX_NODES];
    int rc = PC_OK;

    memset(st, 0, sizeof(st));
    for (size_t k = 0; k < n_nodes; k++) {
        st[k].n = &nodes[k];
        st[k].entry = e->entry;
        st[k].current = current;
        pc_digest_init(&st[k].sum);
        st[k].done = !nodes[k].ok || e->per[k] == NULL;
    }
    for (;;) {
        const struct jcs_val *it[MAX_NODES];
        const char *min = NULL;
        size_t min_len = 0;
        struct khead h[MAX_NODES];
        bool same = true;

        for (size_t k = 0; k < n_nodes; k++) {
            size_t len;
            const char *key;

            rc = stream_item(&st[k], &it[k]);
            if (rc != PC_OK) {
                goto out;
            }
            if (it[k] == NULL) {
                continue;
            }
            key = jcs_string(jcs_get(it[k], "key", 3), &len);
            if (key == NULL) {
                rc = PC_EPROTO;
                goto out;
            }
            if (min == NULL || bytes_cmp(key, len, min, min_len) < 0) {
                min = key;
                min_len = len;
            }
        }
        if (min == NULL) {
            break;
        }
        for (size_t k = 0; k < n_nodes; k++) {
            size_t len = 0;
            const char *key =
                it[k] ? jcs_string(jcs_get(it[k], "key", 3), &len) : NULL;

            memset(&h[k], 0, sizeof(h[k]));
            if (key != NULL && bytes_cmp(key, len, min, min_len) == 0) {
                uint8_t raw[PC_HASH_LEN];

                h[k].version = u64_of(it[k], "version");
                h[k].revision = u64_of(it[k], "revision");
                hex_of(it[k], "hash", h[k].hash);
                if (pc_unhex(raw, PC_HASH_LEN, h[k].hash, PC_HASH_HEX_LEN)) {
                    pc_digest_add(&st[k].sum, raw);
                }
                st[k].sum.records++;
                st[k].sum.versions += h[k].version;
            } else {
                /* Absent there: so is a node that does not list it. */
                h[k].version = 0;
            }
        }
        for (size_t k = 0, ref = n_nodes; k < n_nodes; k++) {
            if (!nodes[k].ok) {
                continue; /* not compared: its error is reported */
            }
            if (ref == n_nodes) {
                ref = k;
            } else if (h[k].version != h[ref].version ||
                       strcmp(h[k].hash, h[ref].hash) != 0) {
                same = false;
            }
        }
        if (!same) {
            struct kdiff *v;

            if (e->n_keys == e->cap_keys) {
                size_t cap = e->cap_keys ? 2 * e->cap_keys : 16;

                v = realloc(e->keys, cap * sizeof(*v));
                if (v == NULL) {
                    rc = PC_ENOMEM;
                    goto out;
                }
                e->keys = v;
                e->cap_keys = cap;
            }
            v = &e->keys[e->n_keys];
            v->key = malloc(min_len + 1);
            v->h = malloc(n_nodes * sizeof(*v->h));
            if (v->key == NULL || v->h == NULL) {
                free(v->key);
                free(v->h);
                rc = PC_ENOMEM;
                goto out;
            }
            memcpy(v->key, min, min_len);
            v->key[min_len] = '\0';
            memcpy(v->h, h, n_nodes * sizeof(*h));
            e->n_keys++;
        }
        /* `min` points into pages: advance only after it was copied. */
        for (size_t k = 0; k < n_nodes; k++) {
            if (h[k].version > 0) {
                st[k].i++;
            }
        }
    }
    /* Each node's heads must add up to its own digest. */
    for (size_t k = 0; k < n_nodes; k++) {
        uint8_t d[PC_HASH_LEN];
        char hex[PC_HASH_HEX_LEN + 1];

        if (!nodes[k].ok || e->per[k] == NULL) {
            continue;
        }
        pc_digest_final(&st[k].sum, d);
        pc_hex(hex, d, PC_HASH_LEN);
        if (strcmp(hex, st[k].digest) != 0) {
            char msg[300];

            snprintf(msg, sizeof(msg),
                     "its %llu heads add up to %s, not to its digest %s",
                     (unsigned long long)st[k].sum.records, hex, st[k].digest);
            e->self_bad[k] = strdup(msg);
        }
    }
out:
    for (size_t k = 0; k < n_nodes; k++) {
        jcs_doc_free(st[k].page);
        free(st[k].next);
    }
    return rc;
}

/* ---- the command ------------------------------------------------------ */

static void
json_node_head(FILE *f, const struct khead *h)
{
    if (h->version == 0) {
        fputs("null", f);
        return;
    }
    fprintf(f, "{\"version\":%llu,\"revision\":%llu,\"hash\":\"%s\"}",
            (unsigned long long)h->version, (unsigned long long)h->revision,
            h->hash);
}

struct result {
    struct node *nodes;
    size_t n;
    bool current;
    uint64_t common; /* the revision the roots are compared at */
    bool roots_agree;
    uint64_t agree_upto; /* when they do not: the last common revision */
    bool bisected;
    struct ediff *ed;
    size_t n_ed;
    size_t n_entries; /* entries compared */
    bool agree;
};

static void
report_json(FILE *f, const struct result *r)
{
    fprintf(f,
            "{\"command\":\"nodes\",\"mode\":\"%s\",\"revision\":%llu,"
            "\"nodes\":[",
            r->current ? "current" : "one revision",
            (unsigned long long)r->common);
    for (size_t k = 0; k < r->n; k++) {
        const struct node *n = &r->nodes[k];

        fputs(k > 0 ? ",{\"endpoint\":" : "{\"endpoint\":", f);
        rcl_json_str(f, n->url, strlen(n->url));
        if (!n->ok) {
            fputs(",\"error\":", f);
            rcl_json_str(f, n->err, strlen(n->err));
            fputs("}", f);
            continue;
        }
        fprintf(f,
                ",\"revision\":%llu,\"compared_at\":%llu,\"root_at\":\"%s\"}",
                (unsigned long long)n->revision, (unsigned long long)n->at,
                n->root_at);
    }
    fprintf(f, "],\"ledger\":{\"agree\":%s", r->roots_agree ? "true" : "false");
    if (r->bisected) {
        fprintf(f, ",\"agree_up_to\":%llu", (unsigned long long)r->agree_upto);
    }
    fprintf(f, "},\"entries_compared\":%zu,\"entries\":[", r->n_entries);
    for (size_t i = 0; i < r->n_ed; i++) {
        const struct ediff *e = &r->ed[i];

        fputs(i > 0 ? ",{\"entry\":" : "{\"entry\":", f);
        rcl_json_str(f, e->entry, strlen(e->entry));
        fputs(",\"digests\":{", f);
        for (size_t k = 0; k < r->n; k++) {
            const struct edigest *d = e->per[k];

            fputs(k > 0 ? "," : "", f);
            rcl_json_str(f, r->nodes[k].url, strlen(r->nodes[k].url));
            if (d == NULL) {
                fputs(":null", f);
            } else {
                fprintf(f,
                        ":{\"records\":%llu,\"versions\":%llu,\"digest\":"
                        "\"%s\"}",
                        (unsigned long long)d->records,
                        (unsigned long long)d->versions, d->digest);
            }
        }
        fputs("},\"keys\":[", f);
        for (size_t j = 0; j < e->n_keys; j++) {
            fputs(j > 0 ? ",{\"key\":" : "{\"key\":", f);
            rcl_json_str(f, e->keys[j].key, strlen(e->keys[j].key));
            fputs(",\"heads\":{", f);
            for (size_t k = 0; k < r->n; k++) {
                fputs(k > 0 ? "," : "", f);
                rcl_json_str(f, r->nodes[k].url, strlen(r->nodes[k].url));
                fputc(':', f);
                json_node_head(f, &e->keys[j].h[k]);
            }
            fputs("}}", f);
        }
        fputs("]", f);
        for (size_t k = 0; k < r->n; k++) {
            if (e->self_bad[k] != NULL) {
                fputs(",\"inconsistent\":{", f);
                rcl_json_str(f, r->nodes[k].url, strlen(r->nodes[k].url));
                fputc(':', f);
                rcl_json_str(f, e->self_bad[k], strlen(e->self_bad[k]));
                fputs("}", f);
                break;
            }
        }
        fputs("}", f);
    }
    fprintf(f, "],\"agree\":%s}\n", r->agree ? "true" : "false");
}

static void
report_text(FILE *f, const struct result *r)
{
    const char *hdr[] = { "NODE", "REVISION", "COMPARED AT", "ROOT THERE" };
    struct rcl_table t;

    rcl_table_init(&t, 4, hdr);
    t.max_width = 80; /* whole hashes */
    for (size_t k = 0; k < r->n; k++) {
        const struct node *n = &r->nodes[k];
        char rev[24], at[24];

        snprintf(rev, sizeof(rev), "%llu", (unsigned long long)n->revision);
        snprintf(at, sizeof(at), "%llu", (unsigned long long)n->at);
        {
            const char *row[] = { n->url, n->ok ? rev : "-", n->ok ? at : "-",
                                  n->ok ? n->root_at : n->err };

            rcl_table_row(&t, row);
        }
    }
    rcl_table_print(&t, f);
    rcl_table_release(&t);
    if (r->roots_agree) {
        fprintf(f, "ledgers: agree at revision %llu\n",
                (unsigned long long)r->common);
    } else if (r->bisected) {
        fprintf(f,
                "ledgers: differ at revision %llu; they agree up to "
                "revision %llu and differ from revision %llu on\n",
                (unsigned long long)r->common,
                (unsigned long long)r->agree_upto,
                (unsigned long long)r->agree_upto + 1);
    } else {
        fprintf(f, "ledgers: not compared (a node did not answer)\n");
    }
    fprintf(f, "entries: %zu compared, %zu differ\n", r->n_entries, r->n_ed);
    for (size_t i = 0; i < r->n_ed; i++) {
        const struct ediff *e = &r->ed[i];
        const char *kh[] = { "KEY", "NODE", "VERSION", "REVISION", "HASH" };
        struct rcl_table kt;

        fprintf(f, "\nentry %s:\n", e->entry);
        for (size_t k = 0; k < r->n; k++) {
            const struct edigest *d = e->per[k];

            if (d == NULL) {
                fprintf(f, "  %s: no such entry at revision %llu\n",
                        r->nodes[k].url, (unsigned long long)r->nodes[k].at);
            } else {
                fprintf(f, "  %s: %llu records, %llu versions, digest %s\n",
                        r->nodes[k].url, (unsigned long long)d->records,
                        (unsigned long long)d->versions, d->digest);
            }
            if (e->self_bad[k] != NULL) {
                fprintf(f, "  %s: INCONSISTENT: %s\n", r->nodes[k].url,
                        e->self_bad[k]);
            }
        }
        if (e->n_keys == 0) {
            continue;
        }
        fprintf(f, "  %zu key%s:\n", e->n_keys,
                e->n_keys == 1 ? " differs" : "s differ");
        rcl_table_init(&kt, 5, kh);
        kt.max_width = 80;
        for (size_t j = 0; j < e->n_keys; j++) {
            for (size_t k = 0; k < r->n; k++) {
                const struct khead *h = &e->keys[j].h[k];
                char v[24], rv[24];

                snprintf(v, sizeof(v), "%llu", (unsigned long long)h->version);
                snprintf(rv, sizeof(rv), "%llu",
                         (unsigned long long)h->revision);
                {
                    const char *row[] = { k == 0 ? e->keys[j].key : "",
                                          r->nodes[k].url,
                                          h->version ? v : "(none)",
                                          h->version ? rv : "-",
                                          h->version ? h->hash : "-" };

                    rcl_table_row(&kt, row);
                }
            }
        }
        rcl_table_print(&kt, f);
        rcl_table_release(&kt);
    }
    fprintf(f, "%s\n", r->agree ? "all nodes agree" : "the nodes do NOT agree");
}

static bool
parse_u64(const char *s, uint64_t *out)
{
    char *end;

    if (s == NULL || *s < '0' || *s > '9') {
        return false;
    }
    *out = strtoull(s, &end, 10);
    return *end == '\0';
}

static int
entry_cmp(const char *a, const char *b)
{
    return bytes_cmp(a, strlen(a), b, strlen(b));
}

int
rcl_cmd_nodes(const struct rcl_opts *o, int argc, char **argv)
{
    static const struct option lo[] = {
        { "at-revision", required_argument, NULL, 'a' },
        { "current", no_argument, NULL, 'c' },
        { "report", required_argument, NULL, 'r' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    struct node nodes[MAX_NODES];
    const char *report = NULL;
    struct result r = { 0 };
    struct rcl_report rep;
    uint64_t at = 0;
    char err[RCL_ERR_SIZE], *token, *list = NULL;
    bool failed = false;
    size_t n = 0, *pos = NULL;
    int c, rc = RCL_DIFFER;

    optind = 1;
    while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
        switch (c) {
        case 'a':
            if (!parse_u64(optarg, &at) || at == 0) {
                return rcl_usage("nodes",
                                 "--at-revision takes a revision from 1");
            }
            break;
        case 'c':
            r.current = true;
            break;
        case 'r':
            report = optarg;
            break;
        case 'h':
            rcl_help("nodes", stdout);
            return RCL_AGREE;
        default:
            return rcl_usage("nodes", "unknown option");
        }
    }
    if (at > 0 && r.current) {
        return rcl_usage("nodes", "--at-revision and --current exclude each "
                                  "other");
    }
    /* The endpoints: the arguments (each may be a comma-separated list),
     * else --endpoints or $PROVCAT_ENDPOINTS. */
    memset(nodes, 0, sizeof(nodes));
    if (optind == argc) {
        const char *e =
            o->endpoints ? o->endpoints : getenv("PROVCAT_ENDPOINTS");

        if (e == NULL) {
            return rcl_usage("nodes", "give the nodes' endpoints");
        }
        list = strdup(e);
    } else {
        size_t len = 0;

        for (int i = optind; i < argc; i++) {
            len += strlen(argv[i]) + 1;
        }
        list = calloc(1, len + 1);
        for (int i = optind; list != NULL && i < argc; i++) {
            strcat(list, argv[i]);
            strcat(list, ",");
        }
    }
    if (list == NULL) {
        return rcl_fail("out of memory");
    }
    for (char *save = NULL, *t = strtok_r(list, ",", &save); t != NULL;
         t = strtok_r(NULL, ",", &save)) {
        if (n == MAX_NODES) {
            free(list);
            return rcl_usage("nodes", "at most %d nodes", MAX_NODES);
        }
        nodes[n++].url = t;
    }
    if (n < 2) {
        free(list);
        return rcl_usage("nodes", "give at least two endpoints");
    }
    token = rcl_token(o, &failed, err);
    if (failed) {
        free(list);
        return rcl_fail("%s", err);
    }
    r.nodes = nodes;
    r.n = n;
    /* 1. Each node's revision. */
    for (size_t k = 0; k < n; k++) {
        struct jcs_doc *d;

        if (provcat_new(nodes[k].url, token, &nodes[k].c, err) != PROVCAT_OK) {
            free(token);
            rc = rcl_usage("nodes", "endpoint '%s': %s", nodes[k].url, err);
            goto out;
        }
        provcat_set_timeout_ms(nodes[k].c, o->timeout_ms);
        if (node_get(&nodes[k], "/v1/ledger", &d) != PC_OK) {
            continue;
        }
        nodes[k].revision = u64_of(jcs_root(d), "revision");
        nodes[k].ok = true;
        jcs_doc_free(d);
    }
    free(token);
    r.common = UINT64_MAX;
    for (size_t k = 0; k < n; k++) {
        if (nodes[k].ok && nodes[k].revision < r.common) {
            r.common = nodes[k].revision;
        }
    }
    if (r.common == UINT64_MAX) {
        r.common = 0;
    }
    if (at > 0) {
        r.common = at;
    }
    /* 2. The roots at the common revision; a bisection when they differ. */
    r.roots_agree = true;
    for (size_t k = 0; k < n; k++) {
        struct node *x = &nodes[k];

        x->at = r.current ? x->revision : r.common;
        if (x->ok && root_at(x, r.common, x->root_min) != PC_OK) {
            x->ok = false;
        }
        if (x->ok && r.current && root_at(x, x->at, x->root_at) != PC_OK) {
            x->ok = false;
        }
        if (x->ok && !r.current) {
            memcpy(x->root_at, x->root_min, sizeof(x->root_at));
        }
        if (!x->ok || strcmp(x->root_min, nodes[0].root_min) != 0) {
            r.roots_agree = false;
        }
    }
    if (!r.roots_agree && nodes[0].ok) {
        bool all_ok = true;

        for (size_t k = 0; k < n; k++) {
            all_ok &= nodes[k].ok;
        }
        if (all_ok) {
            uint64_t low = 0, hi = r.common;

            while (hi - low > 1) {
                uint64_t mid = low + (hi - low) / 2;
                char r0[PC_HASH_HEX_LEN + 1], rk[PC_HASH_HEX_LEN + 1];
                bool same = root_at(&nodes[0], mid, r0) == PC_OK;

                for (size_t k = 1; same && k < n; k++) {
                    same = root_at(&nodes[k], mid, rk) == PC_OK &&
                           strcmp(r0, rk) == 0;
                }
                if (same) {
                    low = mid;
                } else {
                    hi = mid;
                }
            }
            r.bisected = true;
            r.agree_upto = low;
        }
    }
    /* 3. Every entry's digest on every node, merged by entry id. */
    for (size_t k = 0; k < n; k++) {
        if (nodes[k].ok && read_digests(&nodes[k], r.current) != PC_OK) {
            nodes[k].ok = false;
        }
    }
    pos = calloc(n, sizeof(*pos));
    if (pos == NULL) {
        rc = rcl_fail("out of memory");
        goto out;
    }
    for (;;) {
        const char *min = NULL;
        const struct edigest *per[MAX_NODES];
        bool same = true;

        for (size_t k = 0; k < n; k++) {
            if (nodes[k].ok && pos[k] < nodes[k].n_d &&
                (min == NULL || entry_cmp(nodes[k].d[pos[k]].entry, min) < 0)) {
                min = nodes[k].d[pos[k]].entry;
            }
        }
        if (min == NULL) {
            break;
        }
        for (size_t k = 0; k < n; k++) {
            per[k] = nodes[k].ok && pos[k] < nodes[k].n_d &&
                             strcmp(nodes[k].d[pos[k]].entry, min) == 0
                         ? &nodes[k].d[pos[k]++]
                         : NULL;
        }
        for (size_t k = 0, ref = n; k < n; k++) {
            if (!nodes[k].ok) {
                continue;
            }
            if (per[k] == NULL) {
                same = false; /* the entry is missing there */
            } else if (ref == n) {
                ref = k;
            } else if (strcmp(per[k]->digest, per[ref]->digest) != 0 ||
                       per[k]->records != per[ref]->records ||
                       per[k]->versions != per[ref]->versions) {
                same = false;
            }
        }
        r.n_entries++;
        if (!same) {
            struct ediff *v = realloc(r.ed, (r.n_ed + 1) * sizeof(*v));

            if (v == NULL) {
                rc = rcl_fail("out of memory");
                goto out;
            }
            r.ed = v;
            v = &r.ed[r.n_ed++];
            memset(v, 0, sizeof(*v));
            v->entry = min;
            v->per = calloc(n, sizeof(*v->per));
            v->self_bad = calloc(n, sizeof(*v->self_bad));
            if (v->per == NULL || v->self_bad == NULL) {
                rc = rcl_fail("out of memory");
                goto out;
            }
            memcpy(v->per, per, n * sizeof(*per));
        }
    }
    /* 4. The keys of each entry that differs. */
    for (size_t i = 0; i < r.n_ed; i++) {
        if (diff_keys(nodes, n, r.current, &r.ed[i]) != PC_OK) {
            for (size_t k = 0; k < n; k++) {
                if (nodes[k].err[0] != '\0') {
                    nodes[k].ok = false;
                }
            }
        }
    }
    r.agree = r.roots_agree && r.n_ed == 0;
    for (size_t k = 0; k < n; k++) {
        r.agree &= nodes[k].ok;
    }
    if (o->json) {
        report_json(stdout, &r);
    } else {
        report_text(stdout, &r);
    }
    if (rcl_report_open(&rep, report, err) != PC_OK) {
        rc = rcl_fail("%s", err);
        goto out;
    }
    if (rep.json != NULL) {
        report_json(rep.json, &r);
        report_text(rep.txt, &r);
    }
    if (rcl_report_close(&rep, err) != PC_OK) {
        rc = rcl_fail("%s", err);
        goto out;
    }
    for (size_t k = 0; k < n; k++) {
        if (!nodes[k].ok) {
            fprintf(stderr, "provcat-reconcile: %s: %s\n", nodes[k].url,
                    nodes[k].err);
        }
    }
    rc = r.agree ? RCL_AGREE : RCL_DIFFER;
out:
    for (size_t i = 0; i < r.n_ed; i++) {
        for (size_t j = 0; j < r.ed[i].n_keys; j++) {
            free(r.ed[i].keys[j].key);
            free(r.ed[i].keys[j].h);
        }
        free(r.ed[i].keys);
        for (size_t k = 0; r.ed[i].self_bad != NULL && k < n; k++) {
            free(r.ed[i].self_bad[k]);
        }
        free(r.ed[i].self_bad);
        free(r.ed[i].per);
    }
    free(r.ed);
    free(pos);
    for (size_t k = 0; k < n; k++) {
        for (size_t i = 0; i < nodes[k].n_d; i++) {
            free(nodes[k].d[i].entry);
        }
        free(nodes[k].d);
        provcat_close(nodes[k].c);
    }
    free(list);
    return rc;
}
