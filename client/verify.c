/* SPDX-License-Identifier: MIT */
/*
 * Ledger reads and verification in libprovcat: roots, RFC 6962 proofs
 * checked with the storage layer's own verifiers (storage/mrk.c, which use
 * no tree state), the trusted (revision, root) a client keeps in a small
 * state file, and verified record reads. A server whose new root does not
 * extend the trusted one is refused, and the trusted state never moves
 * back or sideways.
 */
#include "client/client_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/err.h"
#include "common/hash.h"
#include "storage/mrk.h"

/* A query parameter of a ledger read; a value of 0 is left out. */
struct query {
    const char *name;
    uint64_t value;
};

/* A GET of the ledger route `base` with the parameters `q` (ended by a
 * NULL name); the answer's JSON object in `*out`. */
static int
ledger_get(struct provcat *c, const char *base, const struct query *q,
           json_t **out, const char *what)
{
    struct pc_buf path;
    int rc;

    pc_buf_init(&path);
    rc = pcl_path(&path, base);
    for (; q->name != NULL && rc == PC_OK; q++) {
        if (q->value > 0) {
            rc = pcl_query_u64(&path, q->name, q->value);
        }
    }
    rc = rc == PC_OK ? pcl_send(c, "GET", (const char *)path.data, NULL, 0,
                                PCL_READ, PROVCAT_ANY_VERSION, what)
                     : pcl_oom(c, what);
    pc_buf_release(&path);
    return rc == PROVCAT_OK ? pcl_body_json(c, out, what) : rc;
}

/* An answer that is not what was asked for: `o` released. */
static int
malformed(struct provcat *c, json_t *o, const char *what)
{
    json_decref(o);
    return pcl_fail(c, PROVCAT_EPROTO, "%s: a malformed answer", what);
}

static bool
jhash(json_t *o, const char *name, uint8_t out[PC_HASH_LEN])
{
    json_t *v = json_object_get(o, name);

    return json_is_string(v) && json_string_length(v) == PC_HASH_HEX_LEN &&
           pc_unhex(out, PC_HASH_LEN, json_string_value(v), PC_HASH_HEX_LEN);
}

static bool
jpath(json_t *o, uint8_t path[PROVCAT_MAX_PATH][PROVCAT_HASH_LEN], size_t *n)
{
    json_t *a = json_object_get(o, "path"), *v;
    size_t i;

    if (!json_is_array(a) || json_array_size(a) > PROVCAT_MAX_PATH) {
        return false;
    }
    json_array_foreach(a, i, v)
    {
        if (!json_is_string(v) || json_string_length(v) != PC_HASH_HEX_LEN ||
            !pc_unhex(path[i], PC_HASH_LEN, json_string_value(v),
                      PC_HASH_HEX_LEN)) {
            return false;
        }
    }
    *n = json_array_size(a);
    return true;
}

PROVCAT_API int
provcat_ledger_root(struct provcat *c, uint64_t tree_size,
                    struct provcat_root *out)
{
    static const char *what = "ledger root";
    const struct query q[] = { { "tree_size", tree_size }, { NULL, 0 } };
    struct provcat_root root;
    json_t *o;
    int rc;

    pcl_reset(c);
    rc = ledger_get(c, "/v1/ledger", q, &o, what);
    if (rc != PROVCAT_OK) {
        return rc;
    }
    root.revision = pcl_juint(o, "revision");
    if (!jhash(o, "root", root.root) ||
        !json_is_integer(json_object_get(o, "revision")) ||
        (tree_size > 0 && root.revision != tree_size)) {
        return malformed(c, o, what);
    }
    json_decref(o);
    *out = root;
    return PROVCAT_OK;
}

PROVCAT_API int
provcat_ledger_proof(struct provcat *c, uint64_t revision, uint64_t tree_size,
                     struct provcat_proof **out)
{
    static const char *what = "inclusion proof";
    const struct query q[] = { { "revision", revision },
                               { "tree_size", tree_size },
                               { NULL, 0 } };
    struct provcat_proof *p;
    json_t *o;
    int rc;

    pcl_reset(c);
    if (revision == 0 || (tree_size > 0 && revision > tree_size)) {
        return pcl_fail(c, PROVCAT_EINVAL,
                        "%s: need 1 <= revision <= tree_size", what);
    }
    rc = ledger_get(c, "/v1/ledger/proof", q, &o, what);
    if (rc != PROVCAT_OK) {
        return rc;
    }
    p = pc_calloc(1, sizeof(*p));
    if (p == NULL) {
        json_decref(o);
        return pcl_oom(c, what);
    }
    p->revision = pcl_juint(o, "revision");
    p->leaf_index = p->revision - 1;
    p->tree_size = pcl_juint(o, "tree_size");
    if (p->revision != revision || (tree_size && p->tree_size != tree_size) ||
        !jhash(o, "leaf_hash", p->leaf_hash) || !jhash(o, "root", p->root) ||
        !jpath(o, p->path, &p->n_path)) {
        pc_free(p);
        return malformed(c, o, what);
    }
    json_decref(o);
    *out = p;
    return PROVCAT_OK;
}

PROVCAT_API int
provcat_ledger_consistency(struct provcat *c, uint64_t from, uint64_t to,
                           struct provcat_consistency **out)
{
    static const char *what = "consistency proof";
    const struct query q[] = { { "from", from }, { "to", to }, { NULL, 0 } };
    struct provcat_consistency *p;
    json_t *o;
    int rc;

    pcl_reset(c);
    if (from == 0 || from > to) {
        return pcl_fail(c, PROVCAT_EINVAL, "%s: need 1 <= from <= to", what);
    }
    rc = ledger_get(c, "/v1/ledger/consistency", q, &o, what);
    if (rc != PROVCAT_OK) {
        return rc;
    }
    p = pc_calloc(1, sizeof(*p));
    if (p == NULL) {
        json_decref(o);
        return pcl_oom(c, what);
    }
    p->from = pcl_juint(o, "from");
    p->to = pcl_juint(o, "to");
    if (p->from != from || p->to != to ||
        !jhash(o, "from_root", p->from_root) ||
        !jhash(o, "to_root", p->to_root) || !jpath(o, p->path, &p->n_path)) {
        pc_free(p);
        return malformed(c, o, what);
    }
    json_decref(o);
    *out = p;
    return PROVCAT_OK;
}

PROVCAT_API int
provcat_verify_inclusion(const uint8_t leaf[PROVCAT_HASH_LEN],
                         uint64_t leaf_index, uint64_t tree_size,
                         const uint8_t (*path)[PROVCAT_HASH_LEN], size_t n_path,
                         const uint8_t root[PROVCAT_HASH_LEN])
{
    if (leaf == NULL || root == NULL || (path == NULL && n_path > 0)) {
        return PROVCAT_EINVAL;
    }
    return mrk_verify_inclusion(leaf, leaf_index, tree_size, path, n_path, root)
               ? PROVCAT_OK
               : PROVCAT_EVERIFY;
}

PROVCAT_API int
provcat_verify_consistency(uint64_t from, uint64_t to,
                           const uint8_t from_root[PROVCAT_HASH_LEN],
                           const uint8_t to_root[PROVCAT_HASH_LEN],
                           const uint8_t (*path)[PROVCAT_HASH_LEN],
                           size_t n_path)
{
    if (from_root == NULL || to_root == NULL || (path == NULL && n_path > 0)) {
        return PROVCAT_EINVAL;
    }
    return mrk_verify_consistency(from, to, from_root, to_root, path, n_path)
               ? PROVCAT_OK
               : PROVCAT_EVERIFY;
}

/* ---- the trusted root and its state file ------------------------------- */

static int
state_load(struct provcat *c, const char *path)
{
    char line[160], hex[PC_HASH_HEX_LEN + 2];
    unsigned long long rev;
    struct provcat_root r;
    FILE *f = fopen(path, "r");
    int n;

    if (f == NULL) {
        if (errno == ENOENT) {
            return PROVCAT_OK; /* nothing trusted yet */
        }
        return pcl_fail(c, PROVCAT_EIO, "state file '%s': %s", path,
                        strerror(errno));
    }
    n = fgets(line, sizeof(line), f) != NULL
            ? sscanf(line, "%llu %65s", &rev, hex)
            : 0;
    fclose(f);
    if (n != 2 || rev == 0 || strlen(hex) != PC_HASH_HEX_LEN ||
        !pc_unhex(r.root, PC_HASH_LEN, hex, PC_HASH_HEX_LEN)) {
        return pcl_fail(c, PROVCAT_EVERIFY,
                        "state file '%s' is not \"<revision> <root hex>\"",
                        path);
    }
    r.revision = rev;
    c->trusted = r;
    c->has_trusted = true;
    return PROVCAT_OK;
}

/* Replace the state file atomically: a temporary file, fsync, rename. */
static int
state_save(struct provcat *c)
{
    char hex[PC_HASH_HEX_LEN + 1], line[128];
    size_t tlen;
    char *tmp;
    int fd, n, rc = PROVCAT_OK;

    if (c->state_path == NULL) {
        return PROVCAT_OK;
    }
    tlen = strlen(c->state_path) + 8;
    tmp = pc_malloc(tlen);
    if (tmp == NULL) {
        return pcl_oom(c, "state file");
    }
    snprintf(tmp, tlen, "%s.tmp", c->state_path);
    pc_hex(hex, c->trusted.root, PC_HASH_LEN);
    n = snprintf(line, sizeof(line), "%llu %s\n",
                 (unsigned long long)c->trusted.revision, hex);
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0 || write(fd, line, (size_t)n) != n || fsync(fd) != 0) {
        rc = pcl_fail(c, PROVCAT_EIO, "state file '%s': %s", tmp,
                      strerror(errno));
    }
    if (fd >= 0) {
        close(fd);
    }
    if (rc == PROVCAT_OK && rename(tmp, c->state_path) != 0) {
        rc = pcl_fail(c, PROVCAT_EIO, "state file '%s': %s", c->state_path,
                      strerror(errno));
    }
    if (rc != PROVCAT_OK) {
        unlink(tmp);
    }
    pc_free(tmp);
    return rc;
}

PROVCAT_API int
provcat_set_state_file(struct provcat *c, const char *path)
{
    char *p = NULL;
    int rc;

    pcl_reset(c);
    if (path != NULL) {
        p = pc_strdup(path);
        if (p == NULL) {
            return pcl_oom(c, "state file");
        }
        rc = state_load(c, path);
        if (rc != PROVCAT_OK) {
            pc_free(p);
            return rc;
        }
    }
    pc_free(c->state_path);
    c->state_path = p;
    return PROVCAT_OK;
}

PROVCAT_API int
provcat_trusted_root(const struct provcat *c, struct provcat_root *out)
{
    if (!c->has_trusted) {
        return PROVCAT_ENOTFOUND;
    }
    *out = c->trusted;
    return PROVCAT_OK;
}

PROVCAT_API int
provcat_ledger_sync(struct provcat *c, struct provcat_root *out)
{
    struct provcat_consistency *p = NULL;
    struct provcat_root now;
    char a[PC_HASH_HEX_LEN + 1];
    int rc;

    rc = provcat_ledger_root(c, 0, &now);
    if (rc != PROVCAT_OK) {
        return rc;
    }
    if (c->has_trusted) {
        if (now.revision < c->trusted.revision) {
            return pcl_fail(c, PROVCAT_EVERIFY,
                            "ledger sync: the server is at revision %llu, "
                            "behind the trusted %llu",
                            (unsigned long long)now.revision,
                            (unsigned long long)c->trusted.revision);
        }
        rc = provcat_ledger_consistency(c, c->trusted.revision, now.revision,
                                        &p);
        if (rc != PROVCAT_OK) {
            return rc;
        }
        rc = provcat_verify_consistency(
            c->trusted.revision, now.revision, c->trusted.root, now.root,
            (const uint8_t(*)[PROVCAT_HASH_LEN])p->path, p->n_path);
        pc_free(p);
        if (rc != PROVCAT_OK) {
            pc_hex(a, c->trusted.root, PC_HASH_LEN);
            return pcl_fail(c, PROVCAT_EVERIFY,
                            "ledger sync: the root at revision %llu does not "
                            "extend the trusted root %s at revision %llu",
                            (unsigned long long)now.revision, a,
                            (unsigned long long)c->trusted.revision);
        }
    }
    c->trusted = now;
    c->has_trusted = true;
    rc = state_save(c);
    if (rc == PROVCAT_OK && out != NULL) {
        *out = now;
    }
    return rc;
}

PROVCAT_API int
provcat_record_verify(struct provcat *c, const struct provcat_record *rec)
{
    static const char *what = "verify record";
    struct provcat_proof *p = NULL;
    uint8_t leaf[PC_HASH_LEN], h[PC_HASH_LEN], salt[16];
    int rc;

    pcl_reset(c);
    if (rec == NULL || rec->revision == 0 ||
        !pc_unhex(leaf, PC_HASH_LEN, rec->hash, strlen(rec->hash))) {
        return pcl_fail(c, PROVCAT_EINVAL, "%s: a record with its hash", what);
    }
    if (rec->value != NULL && !rec->filtered) {
        if (!pc_unhex(salt, sizeof(salt), rec->salt, strlen(rec->salt)) ||
            !pc_unhex(h, PC_HASH_LEN, rec->content_hash,
                      strlen(rec->content_hash))) {
            return pcl_fail(c, PROVCAT_EVERIFY,
                            "%s: a document without salt or content hash",
                            what);
        }
        uint8_t mine[PC_HASH_LEN];
        pc_hash_content(mine, salt, rec->value, strlen(rec->value));
        if (memcmp(mine, h, PC_HASH_LEN) != 0) {
            return pcl_fail(c, PROVCAT_EVERIFY,
                            "%s: '%s' version %llu: the document does not "
                            "hash to its content_hash",
                            what, rec->key, (unsigned long long)rec->version);
        }
    }
    if (!c->has_trusted || c->trusted.revision < rec->revision) {
        rc = provcat_ledger_sync(c, NULL);
        if (rc != PROVCAT_OK) {
            return rc;
        }
        if (c->trusted.revision < rec->revision) {
            return pcl_fail(c, PROVCAT_EVERIFY,
                            "%s: the record's revision %llu is past the "
                            "ledger's %llu",
                            what, (unsigned long long)rec->revision,
                            (unsigned long long)c->trusted.revision);
        }
    }
    rc = provcat_ledger_proof(c, rec->revision, c->trusted.revision, &p);
    if (rc != PROVCAT_OK) {
        return rc;
    }
    rc = memcmp(p->leaf_hash, leaf, PC_HASH_LEN) != 0
             ? PROVCAT_EVERIFY
             : provcat_verify_inclusion(
                   leaf, rec->revision - 1, c->trusted.revision,
                   (const uint8_t(*)[PROVCAT_HASH_LEN])p->path, p->n_path,
                   c->trusted.root);
    pc_free(p);
    if (rc != PROVCAT_OK) {
        return pcl_fail(c, PROVCAT_EVERIFY,
                        "%s: '%s' version %llu (revision %llu) is not in the "
                        "ledger at the trusted root (revision %llu)",
                        what, rec->key, (unsigned long long)rec->version,
                        (unsigned long long)rec->revision,
                        (unsigned long long)c->trusted.revision);
    }
    if (rec->filtered) {
        /* The hash is in, but nothing covers the partial document. */
        return pcl_fail(c, PROVCAT_EVERIFY,
                        "%s: '%s' version %llu is in the ledger, but its "
                        "document is filtered to the grant's fields and no "
                        "hash covers it",
                        what, rec->key, (unsigned long long)rec->version);
    }
    return PROVCAT_OK;
}
