/* SPDX-License-Identifier: MIT */
/*
 * `versions ENTRY KEY`: two versions of one record field by field; and
 * `revisions ENTRY --from R1 --to R2`: which records of an entry changed
 * between two revisions (created, updated, corrected, retired, created
 * again), each with its field-level difference. Both read a live cluster
 * or a backup file.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/err.h"
#include "common/jcs.h"
#include "tools/reconcile/reconcile.h"

/* A version copied out of the callback that delivered it. */
struct ver {
    bool found;
    uint64_t version, revision;
    char hash[PC_HASH_HEX_LEN + 1];
    char op[16];
    char at[32];
    char *author;
    bool retired, redacted, filtered;
    bool has_value;
    struct pc_buf canon; /* the document, canonical */
    int rc;
};

static void
ver_release(struct ver *v)
{
    free(v->author);
    pc_buf_release(&v->canon);
    memset(v, 0, sizeof(*v));
}

static bool
ver_cb(void *arg, const struct rcl_rec *r)
{
    struct ver *v = arg;

    v->found = true;
    v->version = r->version;
    v->revision = r->revision;
    memcpy(v->hash, r->hash, sizeof(v->hash));
    memcpy(v->op, r->op, sizeof(v->op));
    memcpy(v->at, r->at, sizeof(v->at));
    free(v->author);
    v->author = r->author != NULL ? strdup(r->author) : NULL;
    v->retired = r->retired;
    v->redacted = r->redacted;
    v->filtered = r->filtered;
    v->has_value = r->value != NULL;
    v->canon.len = 0;
    if (r->value != NULL) {
        v->rc = jcs_emit_value(r->doc, r->value, &v->canon);
    }
    return true;
}

/* Parse a version's document back (NULL for none). */
static int
ver_doc(const struct ver *v, struct jcs_doc **d)
{
    *d = NULL;
    if (!v->has_value) {
        return PC_OK;
    }
    return jcs_parse((const char *)v->canon.data, v->canon.len, d, NULL);
}

static void
ver_json(FILE *f, const char *name, const struct ver *v)
{
    fprintf(f, "\"%s\":{\"version\":%llu,\"revision\":%llu,\"op\":", name,
            (unsigned long long)v->version, (unsigned long long)v->revision);
    rcl_json_str(f, v->op, strlen(v->op));
    fprintf(f, ",\"hash\":\"%s\",\"at\":", v->hash);
    rcl_json_str(f, v->at, strlen(v->at));
    if (v->author != NULL) {
        fputs(",\"author\":", f);
        rcl_json_str(f, v->author, strlen(v->author));
    }
    fprintf(f, ",\"retired\":%s,\"redacted\":%s}",
            v->retired ? "true" : "false", v->redacted ? "true" : "false");
}

static const char *
ver_state(const struct ver *v)
{
    return v->redacted ? "redacted (document dropped by a lawful redaction)"
           : v->retired && !v->has_value ? "retired (no document)"
           : v->filtered                 ? "filtered by a grant"
                                         : "";
}

/* Open the source: a backup when `backup` is set, else the cluster. */
static struct rcl_src *
open_src(const struct rcl_opts *o, const char *backup, char *err)
{
    struct rcl_src *s = NULL;
    int rc = backup != NULL ? rcl_src_backup(backup, &s, err)
                            : rcl_src_live(o, &s, err);

    return rc == PC_OK ? s : NULL;
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

/* Print the field changes `ch` as a table, `a`/`b` column titles. */
static void
changes_table(FILE *f, const struct rcl_changes *ch, const char *a,
              const char *b)
{
    const char *hdr[] = { "FIELD", "CHANGE", a, b };
    struct rcl_table t;

    rcl_table_init(&t, 4, hdr);
    for (size_t i = 0; i < ch->n; i++) {
        const struct rcl_change *c = &ch->v[i];
        char *x = rcl_show(c->a, c->a_len), *y = rcl_show(c->b, c->b_len);
        const char *row[] = { c->field, rcl_change_name(c->kind), x, y };

        rcl_table_row(&t, row);
        free(x);
        free(y);
    }
    rcl_table_print(&t, f);
    rcl_table_release(&t);
}

static void
changes_json(FILE *f, const struct rcl_changes *ch, const char *a,
             const char *b)
{
    fputs("[", f);
    for (size_t i = 0; i < ch->n; i++) {
        const struct rcl_change *c = &ch->v[i];

        fputs(i > 0 ? ",{\"field\":" : "{\"field\":", f);
        rcl_json_str(f, c->field, c->field_len);
        fprintf(f, ",\"change\":\"%s\",\"%s\":", rcl_change_name(c->kind), a);
        rcl_json_raw(f, c->a, c->a_len);
        fprintf(f, ",\"%s\":", b);
        rcl_json_raw(f, c->b, c->b_len);
        fputs("}", f);
    }
    fputs("]", f);
}

/* ---- versions ----------------------------------------------------------- */

static void
versions_report(FILE *f, bool json, const char *entry, const char *key,
                const struct ver *a, const struct ver *b,
                const struct rcl_changes *ch, const char *src)
{
    char ta[40], tb[40];

    if (json) {
        fputs("{\"command\":\"versions\",\"entry\":", f);
        rcl_json_str(f, entry, strlen(entry));
        fputs(",\"key\":", f);
        rcl_json_str(f, key, strlen(key));
        fputs(",\"source\":", f);
        rcl_json_str(f, src, strlen(src));
        fputc(',', f);
        ver_json(f, "from", a);
        fputc(',', f);
        ver_json(f, "to", b);
        fputs(",\"changes\":", f);
        changes_json(f, ch, "from", "to");
        fprintf(f, ",\"differ\":%s}\n", ch->n > 0 ? "true" : "false");
        return;
    }
    fprintf(f, "record %s/%s in %s: version %llu -> %llu\n", entry, key, src,
            (unsigned long long)a->version, (unsigned long long)b->version);
    for (int i = 0; i < 2; i++) {
        const struct ver *v = i == 0 ? a : b;

        fprintf(f,
                "  version %llu: %s by %s at %s, revision %llu, hash %s%s%s\n",
                (unsigned long long)v->version, v->op,
                v->author != NULL ? v->author : "?", v->at,
                (unsigned long long)v->revision, v->hash,
                *ver_state(v) ? "; " : "", ver_state(v));
    }
    if (a->redacted || b->redacted) {
        fprintf(f, "a redacted document is not compared: not a difference\n");
        return;
    }
    if (ch->n == 0) {
        fprintf(f, "the documents are the same\n");
        return;
    }
    snprintf(ta, sizeof(ta), "VERSION %llu", (unsigned long long)a->version);
    snprintf(tb, sizeof(tb), "VERSION %llu", (unsigned long long)b->version);
    changes_table(f, ch, ta, tb);
}

int
rcl_cmd_versions(const struct rcl_opts *o, int argc, char **argv)
{
    static const struct option lo[] = {
        { "from", required_argument, NULL, 'f' },
        { "to", required_argument, NULL, 't' },
        { "backup", required_argument, NULL, 'b' },
        { "report", required_argument, NULL, 'r' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *backup = NULL, *report = NULL, *entry, *key;
    uint64_t from = 0, to = 0;
    struct ver a = { 0 }, b = { 0 };
    struct jcs_doc *da = NULL, *db = NULL;
    struct rcl_changes ch;
    struct rcl_report rep;
    char err[RCL_ERR_SIZE];
    struct rcl_src *s;
    int c, rc = RCL_DIFFER;

    optind = 1;
    while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
        switch (c) {
        case 'f':
            if (!parse_u64(optarg, &from) || from == 0) {
                return rcl_usage("versions", "--from takes a version from 1");
            }
            break;
        case 't':
            if (!parse_u64(optarg, &to) || to == 0) {
                return rcl_usage("versions", "--to takes a version from 1");
            }
            break;
        case 'b':
            backup = optarg;
            break;
        case 'r':
            report = optarg;
            break;
        case 'h':
            rcl_help("versions", stdout);
            return RCL_AGREE;
        default:
            return rcl_usage("versions", "unknown option");
        }
    }
    if (argc - optind != 2) {
        return rcl_usage("versions", "give ENTRY and KEY");
    }
    entry = argv[optind];
    key = argv[optind + 1];
    if (from > 0 && to > 0 && from == to) {
        return rcl_usage("versions", "--from and --to name the same version");
    }
    s = open_src(o, backup, err);
    if (s == NULL) {
        return rcl_fail("%s", err);
    }
    rcl_changes_init(&ch);
    if (to == 0) {
        /* The current version (or --from + 1 when that is given). */
        if (from > 0) {
            to = from + 1;
        } else if (rcl_src_get(s, entry, key, 0, 0, ver_cb, &b, err) != PC_OK) {
            rc = rcl_fail("%s", err);
            goto out;
        } else {
            to = b.version;
            ver_release(&b);
        }
    }
    if (from == 0) {
        if (to == 1) {
            rc = rcl_fail("record %s/%s has only version 1: nothing to "
                          "compare it with",
                          entry, key);
            goto out;
        }
        from = to - 1;
    }
    if (rcl_src_get(s, entry, key, from, 0, ver_cb, &a, err) != PC_OK ||
        rcl_src_get(s, entry, key, to, 0, ver_cb, &b, err) != PC_OK) {
        rc = rcl_fail("%s", err);
        goto out;
    }
    if (a.rc != PC_OK || b.rc != PC_OK || ver_doc(&a, &da) != PC_OK ||
        ver_doc(&b, &db) != PC_OK) {
        rc = rcl_fail("out of memory");
        goto out;
    }
    if (!a.redacted && !b.redacted &&
        rcl_diff_docs(da, da != NULL ? jcs_root(da) : NULL, db,
                      db != NULL ? jcs_root(db) : NULL, &ch) != PC_OK) {
        rc = rcl_fail("out of memory");
        goto out;
    }
    versions_report(stdout, o->json, entry, key, &a, &b, &ch, rcl_src_name(s));
    if (rcl_report_open(&rep, report, err) != PC_OK) {
        rc = rcl_fail("%s", err);
        goto out;
    }
    if (rep.json != NULL) {
        versions_report(rep.json, true, entry, key, &a, &b, &ch,
                        rcl_src_name(s));
        versions_report(rep.txt, false, entry, key, &a, &b, &ch,
                        rcl_src_name(s));
    }
    if (rcl_report_close(&rep, err) != PC_OK) {
        rc = rcl_fail("%s", err);
        goto out;
    }
    rc = ch.n > 0 ? RCL_DIFFER : RCL_AGREE;
out:
    jcs_doc_free(da);
    jcs_doc_free(db);
    ver_release(&a);
    ver_release(&b);
    rcl_changes_release(&ch);
    rcl_src_free(s);
    return rc;
}

/* ---- revisions ---------------------------------------------------------- */

/* A key's head at the first revision. */
struct head {
    char *key;
    size_t key_len;
    uint64_t version;
    bool retired;
};

struct heads {
    struct head *v;
    size_t n, cap;
    bool oom;
};

static bool
heads_cb(void *arg, const struct rcl_rec *r)
{
    struct heads *h = arg;

    if (h->n == h->cap) {
        size_t cap = h->cap ? 2 * h->cap : 1024;
        struct head *v = realloc(h->v, cap * sizeof(*v));

        if (v == NULL) {
            h->oom = true;
            return false;
        }
        h->v = v;
        h->cap = cap;
    }
    h->v[h->n].key = malloc(r->key_len + 1);
    if (h->v[h->n].key == NULL) {
        h->oom = true;
        return false;
    }
    memcpy(h->v[h->n].key, r->key, r->key_len);
    h->v[h->n].key[r->key_len] = '\0';
    h->v[h->n].key_len = r->key_len;
    h->v[h->n].version = r->version;
    h->v[h->n].retired = r->retired;
    h->n++;
    return true;
}

/* A changed record: its key and versions at both revisions (0: none). */
struct moved {
    char *key;
    uint64_t v1, v2;
    bool retired1, retired2;
    char op2[16];
};

struct merge {
    struct heads *h1;
    size_t i;
    struct moved *v;
    size_t n, cap;
    bool oom;
};

static bool
add_moved(struct merge *m, const char *key, size_t len, uint64_t v1, bool ret1,
          const struct rcl_rec *r)
{
    struct moved *x;

    if (m->n == m->cap) {
        size_t cap = m->cap ? 2 * m->cap : 256;
        struct moved *v = realloc(m->v, cap * sizeof(*v));

        if (v == NULL) {
            m->oom = true;
            return false;
        }
        m->v = v;
        m->cap = cap;
    }
    x = &m->v[m->n];
    memset(x, 0, sizeof(*x));
    x->key = malloc(len + 1);
    if (x->key == NULL) {
        m->oom = true;
        return false;
    }
    memcpy(x->key, key, len);
    x->key[len] = '\0';
    x->v1 = v1;
    x->retired1 = ret1;
    if (r != NULL) {
        x->v2 = r->version;
        x->retired2 = r->retired;
        memcpy(x->op2, r->op, sizeof(x->op2));
    }
    m->n++;
    return true;
}

static int
key_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
    int c = memcmp(a, b, alen < blen ? alen : blen);

    return c != 0 ? c : (alen > blen) - (alen < blen);
}

/* Keys of the second revision, merged with the first's in key order. A
 * key can only appear, never vanish (retired records stay listed). */
static bool
merge_cb(void *arg, const struct rcl_rec *r)
{
    struct merge *m = arg;

    while (m->i < m->h1->n) {
        const struct head *h = &m->h1->v[m->i];
        int c = key_cmp(h->key, h->key_len, r->key, r->key_len);

        if (c > 0) {
            break;
        }
        m->i++;
        if (c == 0) {
            if (h->version != r->version) {
                return add_moved(m, r->key, r->key_len, h->version, h->retired,
                                 r);
            }
            return true;
        }
        /* In the first revision only: impossible for one ledger. */
        if (!add_moved(m, h->key, h->key_len, h->version, h->retired, NULL)) {
            return false;
        }
    }
    return add_moved(m, r->key, r->key_len, 0, false, r);
}

static const char *
moved_status(const struct moved *x)
{
    if (x->v2 == 0) {
        return "gone"; /* only in the first: not one ledger's history */
    }
    if (x->v1 == 0) {
        return x->retired2 ? "created, retired" : "created";
    }
    if (x->retired1 && !x->retired2) {
        return "created again";
    }
    if (!x->retired1 && x->retired2) {
        return "retired";
    }
    if (strcmp(x->op2, "correct") == 0) {
        return "corrected";
    }
    return "updated";
}

int
rcl_cmd_revisions(const struct rcl_opts *o, int argc, char **argv)
{
    static const struct option lo[] = {
        { "from", required_argument, NULL, 'f' },
        { "to", required_argument, NULL, 't' },
        { "backup", required_argument, NULL, 'b' },
        { "report", required_argument, NULL, 'r' },
        { "keys-only", no_argument, NULL, 'k' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *backup = NULL, *report = NULL, *entry;
    uint64_t r1 = 0, r2 = 0, now;
    struct heads h1 = { 0 };
    struct merge m = { 0 };
    struct rcl_report rep = { 0 };
    struct rcl_table t;
    bool keys_only = false, table = false;
    char err[RCL_ERR_SIZE];
    struct rcl_changes ch;
    struct rcl_src *s;
    FILE *js[2] = { NULL, NULL };
    int c, rc = RCL_DIFFER;

    optind = 1;
    while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
        switch (c) {
        case 'f':
            if (!parse_u64(optarg, &r1) || r1 == 0) {
                return rcl_usage("revisions", "--from takes a revision from 1");
            }
            break;
        case 't':
            if (!parse_u64(optarg, &r2) || r2 == 0) {
                return rcl_usage("revisions", "--to takes a revision from 1");
            }
            break;
        case 'b':
            backup = optarg;
            break;
        case 'r':
            report = optarg;
            break;
        case 'k':
            keys_only = true;
            break;
        case 'h':
            rcl_help("revisions", stdout);
            return RCL_AGREE;
        default:
            return rcl_usage("revisions", "unknown option");
        }
    }
    if (argc - optind != 1) {
        return rcl_usage("revisions", "give ENTRY");
    }
    entry = argv[optind];
    if (r1 == 0) {
        return rcl_usage("revisions", "--from R1 is required");
    }
    if (r2 != 0 && r2 <= r1) {
        return rcl_usage("revisions", "--to must be after --from");
    }
    s = open_src(o, backup, err);
    if (s == NULL) {
        return rcl_fail("%s", err);
    }
    rcl_changes_init(&ch);
    if (rcl_src_revision(s, &now, err) != PC_OK) {
        rc = rcl_fail("%s", err);
        goto out;
    }
    if (r2 == 0) {
        r2 = now;
    }
    if (r2 > now || r1 >= r2) {
        rc = rcl_fail("%s is at revision %llu: give 1 <= --from < --to <= "
                      "%llu",
                      rcl_src_name(s), (unsigned long long)now,
                      (unsigned long long)now);
        goto out;
    }
    if (rcl_src_scan(s, entry, &r1, false, true, heads_cb, &h1, err) != PC_OK) {
        rc = rcl_fail("%s", err);
        goto out;
    }
    m.h1 = &h1;
    if (h1.oom ||
        rcl_src_scan(s, entry, &r2, false, true, merge_cb, &m, err) != PC_OK ||
        m.oom) {
        rc = rcl_fail("%s", h1.oom || m.oom ? "out of memory" : err);
        goto out;
    }
    for (; m.i < h1.n; m.i++) {
        add_moved(&m, h1.v[m.i].key, h1.v[m.i].key_len, h1.v[m.i].version,
                  h1.v[m.i].retired, NULL);
    }
    if (rcl_report_open(&rep, report, err) != PC_OK) {
        rc = rcl_fail("%s", err);
        goto out;
    }
    js[0] = o->json ? stdout : NULL;
    js[1] = rep.json;
    table = !o->json;
    for (int k = 0; k < 2; k++) {
        if (js[k] != NULL) {
            fputs("{\"command\":\"revisions\",\"entry\":", js[k]);
            rcl_json_str(js[k], entry, strlen(entry));
            fprintf(js[k], ",\"from\":%llu,\"to\":%llu,\"source\":",
                    (unsigned long long)r1, (unsigned long long)r2);
            rcl_json_str(js[k], rcl_src_name(s), strlen(rcl_src_name(s)));
            fputs(",\"records\":[", js[k]);
        }
    }
    {
        const char *hdr[] = { "KEY",    "STATUS",  "VERSIONS", "FIELD",
                              "CHANGE", "AT FROM", "AT TO" };

        rcl_table_init(&t, 7, hdr);
    }
    for (size_t i = 0; i < m.n; i++) {
        const struct moved *x = &m.v[i];
        struct ver a = { 0 }, b = { 0 };
        struct jcs_doc *da = NULL, *db = NULL;
        char vers[48];
        bool redacted = false;

        rcl_changes_reset(&ch);
        if (!keys_only && x->v2 > 0) {
            if ((x->v1 > 0 && rcl_src_get(s, entry, x->key, x->v1, 0, ver_cb,
                                          &a, err) != PC_OK) ||
                rcl_src_get(s, entry, x->key, x->v2, 0, ver_cb, &b, err) !=
                    PC_OK) {
                rc = rcl_fail("%s", err);
                ver_release(&a);
                ver_release(&b);
                goto out_report;
            }
            redacted = a.redacted || b.redacted;
            if (ver_doc(&a, &da) != PC_OK || ver_doc(&b, &db) != PC_OK ||
                (!redacted &&
                 rcl_diff_docs(da, da ? jcs_root(da) : NULL, db,
                               db ? jcs_root(db) : NULL, &ch) != PC_OK)) {
                jcs_doc_free(da);
                jcs_doc_free(db);
                ver_release(&a);
                ver_release(&b);
                rc = rcl_fail("out of memory");
                goto out_report;
            }
            jcs_doc_free(da);
            jcs_doc_free(db);
        }
        snprintf(vers, sizeof(vers), "%llu -> %llu", (unsigned long long)x->v1,
                 (unsigned long long)x->v2);
        for (int k = 0; k < 2; k++) {
            FILE *f = js[k];

            if (f == NULL) {
                continue;
            }
            fputs(i > 0 ? ",{\"key\":" : "{\"key\":", f);
            rcl_json_str(f, x->key, strlen(x->key));
            fprintf(f,
                    ",\"status\":\"%s\",\"from_version\":%llu,"
                    "\"to_version\":%llu",
                    moved_status(x), (unsigned long long)x->v1,
                    (unsigned long long)x->v2);
            if (redacted) {
                fputs(",\"redacted\":true", f);
            }
            if (!keys_only) {
                fputs(",\"changes\":", f);
                changes_json(f, &ch, "from", "to");
            }
            fputs("}", f);
        }
        {
            const char *row[] = { x->key, moved_status(x),
                                  vers,   redacted ? "(redacted)" : "",
                                  "",     "",
                                  "" };

            rcl_table_row(&t, row);
        }
        for (size_t k = 0; k < ch.n; k++) {
            const struct rcl_change *cg = &ch.v[k];
            char *va = rcl_show(cg->a, cg->a_len),
                 *vb = rcl_show(cg->b, cg->b_len);
            const char *row[] = {
                "", "", "", cg->field, rcl_change_name(cg->kind), va, vb
            };

            rcl_table_row(&t, row);
            free(va);
            free(vb);
        }
        ver_release(&a);
        ver_release(&b);
    }
    for (int k = 0; k < 2; k++) {
        if (js[k] != NULL) {
            fprintf(js[k], "],\"changed\":%zu}\n", m.n);
        }
    }
    for (int k = 0; k < 2; k++) {
        FILE *f = k == 0 ? (table ? stdout : NULL) : rep.txt;

        if (f == NULL) {
            continue;
        }
        fprintf(f,
                "entry %s in %s: %zu record%s changed between revisions "
                "%llu and %llu\n",
                entry, rcl_src_name(s), m.n, m.n == 1 ? "" : "s",
                (unsigned long long)r1, (unsigned long long)r2);
        if (m.n > 0) {
            rcl_table_print(&t, f);
        }
    }
    rc = m.n > 0 ? RCL_DIFFER : RCL_AGREE;
out_report:
    rcl_table_release(&t);
    if (rcl_report_close(&rep, err) != PC_OK) {
        rc = rcl_fail("%s", err);
    }
out:
    for (size_t i = 0; i < h1.n; i++) {
        free(h1.v[i].key);
    }
    free(h1.v);
    for (size_t i = 0; i < m.n; i++) {
        free(m.v[i].key);
    }
    free(m.v);
    rcl_changes_release(&ch);
    rcl_src_free(s);
    return rc;
}
