/* SPDX-License-Identifier: MIT */
/*
 * provcat, the command-line client (docs/cli.md): global options, the
 * command table with each command's help and example, table and JSON
 * output, and the commands that are one library call each. With -o json a
 * command prints the server's JSON as it came (lists as one array), so a
 * script sees the API's documents; tables are for people.
 */
#include "client/cli.h"

#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "client/client_int.h"

static const struct cli_cmd commands[];

/* ---- small helpers ---------------------------------------------------- */

long long
cli_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
cli_failf(const char *fmt, ...)
{
    va_list ap;

    fputs("provcat: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return CLI_FAIL;
}

void
cli_errtext(struct provcat *c, char *buf, size_t cap)
{
    const struct provcat_error *e = provcat_last_error(c);

    if (e->http_status > 0 && e->server_code != NULL) {
        snprintf(buf, cap, "%s (%d %s)", provcat_errmsg(c), e->http_status,
                 e->server_code);
    } else {
        snprintf(buf, cap, "%s", provcat_errmsg(c));
    }
}

int
cli_fail(struct cli *g)
{
    char msg[PROVCAT_ERRMSG_SIZE + 64];

    cli_errtext(g->c, msg, sizeof(msg));
    return cli_failf("%s", msg);
}

int
cli_usage(struct cli *g, const char *fmt, ...)
{
    va_list ap;

    fputs("provcat: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    if (g->cmd != NULL) {
        fprintf(stderr,
                "\nusage: provcat %s %s\n(provcat %s --help for more)\n",
                g->cmd->name, g->cmd->usage, g->cmd->name);
    } else {
        fputs("\n(provcat --help for the commands)\n", stderr);
    }
    return CLI_USAGE;
}

bool
cli_u64(const char *s, uint64_t min, uint64_t *out)
{
    char *end;
    unsigned long long v;

    if (s == NULL || *s < '0' || *s > '9') {
        return false;
    }
    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno != 0 || *end != '\0' || v < min) {
        return false;
    }
    *out = v;
    return true;
}

bool
cli_entry_key(char **pos, int n, const char **entry, const char **key)
{
    char *slash;

    if (n == 2) {
        *entry = pos[0];
        *key = pos[1];
        return pos[0][0] != '\0' && pos[1][0] != '\0';
    }
    /* Entry ids have no '/', keys may: the first one splits. */
    slash = n == 1 ? strchr(pos[0], '/') : NULL;
    if (slash == NULL || slash == pos[0] || slash[1] == '\0') {
        return false;
    }
    *slash = '\0';
    *entry = pos[0];
    *key = slash + 1;
    return true;
}

char *
cli_read_file(const char *path, size_t *len)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    char *buf = NULL, *nb;
    size_t cap = 0, n = 0, got;

    if (f == NULL) {
        return NULL;
    }
    do {
        if (cap - n < 65536) {
            cap = cap ? cap * 2 : 65536;
            nb = realloc(buf, cap + 1);
            if (nb == NULL) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
        }
        got = fread(buf + n, 1, cap - n, f);
        n += got;
    } while (got > 0);
    if (buf != NULL && ferror(f)) {
        free(buf);
        buf = NULL;
    }
    if (f != stdin) {
        fclose(f);
    }
    if (buf != NULL) {
        buf[n] = '\0';
        *len = n;
    }
    return buf;
}

char *
cli_read_doc(struct cli *g, const char *file, int *rc)
{
    size_t len;
    char *doc;

    if (file == NULL && isatty(0)) {
        *rc = cli_usage(g, "give the document with -f FILE (or on stdin)");
        return NULL;
    }
    doc = cli_read_file(file != NULL ? file : "-", &len);
    if (doc == NULL) {
        *rc = cli_failf("read '%s': %s", file != NULL ? file : "stdin",
                        strerror(errno));
        return NULL;
    }
    while (len > 0 && (doc[len - 1] == '\n' || doc[len - 1] == '\r' ||
                       doc[len - 1] == ' ')) {
        doc[--len] = '\0';
    }
    return doc;
}

int
cli_parse(struct cli *g, int argc, char **argv, struct cli_opt *opts,
          char **pos, int min_pos, int max_pos, int *rc)
{
    int n = 0;

    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        struct cli_opt *o = NULL;
        const char *eq = NULL;

        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            const struct cli_cmd *c = g->cmd;

            printf("usage: provcat %s %s\n\n%s\n", c->name, c->usage,
                   c->summary);
            if (c->help != NULL && c->help[0] != '\0') {
                printf("\n%s", c->help);
            }
            printf("\nexample:\n  %s\n", c->example);
            *rc = CLI_OK;
            return -1;
        }
        if (strcmp(a, "--") == 0) {
            for (i++; i < argc; i++) {
                if (n >= max_pos) {
                    *rc = cli_usage(g, "too many arguments");
                    return -1;
                }
                pos[n++] = argv[i];
            }
            break;
        }
        if (a[0] != '-' || a[1] == '\0') {
            if (n >= max_pos) {
                *rc = cli_usage(g, "unexpected argument '%s'", a);
                return -1;
            }
            pos[n++] = argv[i];
            continue;
        }
        if (a[1] == '-' && (eq = strchr(a, '=')) != NULL) {
            for (struct cli_opt *x = opts; x != NULL && x->name != NULL; x++) {
                if (strncmp(x->name, a, (size_t)(eq - a)) == 0 &&
                    x->name[eq - a] == '\0') {
                    o = x;
                }
            }
        } else {
            for (struct cli_opt *x = opts; x != NULL && x->name != NULL; x++) {
                if (strcmp(x->name, a) == 0 ||
                    (x->alt != NULL && strcmp(x->alt, a) == 0)) {
                    o = x;
                }
            }
        }
        if (o == NULL) {
            *rc = cli_usage(g, "unknown option '%s'", a);
            return -1;
        }
        if (o->arg) {
            if (eq != NULL) {
                o->val = eq + 1;
            } else if (i + 1 < argc) {
                o->val = argv[++i];
            } else {
                *rc = cli_usage(g, "%s needs a value", o->name);
                return -1;
            }
        } else if (eq != NULL) {
            *rc = cli_usage(g, "%s takes no value", o->name);
            return -1;
        }
        o->set = true;
    }
    if (n < min_pos) {
        *rc = cli_usage(g, "missing arguments");
        return -1;
    }
    return n;
}

struct provcat *
cli_start(struct cli *g, int argc, char **argv, char **arg, int *rc)
{
    int n = arg != NULL ? 1 : 0;

    if (cli_parse(g, argc, argv, NULL, arg, n, n, rc) < 0) {
        return NULL;
    }
    return cli_client(g, rc);
}

bool
cli_parse_record(struct cli *g, int argc, char **argv, struct cli_opt *opts,
                 const char **entry, const char **key, int *rc)
{
    char *pos[2];
    int n = cli_parse(g, argc, argv, opts, pos, 1, 2, rc);

    if (n < 0) {
        return false;
    }
    if (!cli_entry_key(pos, n, entry, key)) {
        *rc = cli_usage(g, "name the record as ENTRY/KEY");
        return false;
    }
    return true;
}

bool
cli_given(const struct cli_opt *o)
{
    return o->set && o->val[0] != '\0';
}

static char *
read_token_file(const char *path)
{
    size_t len;
    char *t = cli_read_file(path, &len);

    if (t == NULL) {
        return NULL;
    }
    len = strcspn(t, "\r\n");
    t[len] = '\0';
    return t;
}

struct provcat *
cli_client(struct cli *g, int *rc)
{
    char err[PROVCAT_ERRMSG_SIZE];
    const char *tf = g->token_file;
    char *token = NULL;
    int r;

    if (g->c != NULL) {
        return g->c;
    }
    if (tf == NULL) {
        tf = getenv("PROVCAT_TOKEN_FILE");
    }
    if (tf != NULL) {
        token = read_token_file(tf);
        if (token == NULL) {
            *rc = cli_failf("token file '%s': %s", tf, strerror(errno));
            return NULL;
        }
    }
    r = provcat_new(g->endpoints, token, &g->c, err);
    free(token);
    if (r != PROVCAT_OK) {
        *rc = r == PROVCAT_EINVAL ? cli_usage(g, "%s", err)
                                  : cli_failf("%s", provcat_strerror(r));
        return NULL;
    }
    if (g->timeout_set) {
        provcat_set_timeout_ms(g->c, g->timeout_ms);
    }
    provcat_set_stale_reads(g->c, g->stale);
    if (g->state_file != NULL &&
        provcat_set_state_file(g->c, g->state_file) != PROVCAT_OK) {
        *rc = cli_fail(g);
        provcat_close(g->c);
        g->c = NULL;
        return NULL;
    }
    return g->c;
}

/* ---- output ------------------------------------------------------------ */

/* Display width of UTF-8 text: one column per code point. */
static size_t
width(const char *s)
{
    size_t w = 0;

    for (; *s != '\0'; s++) {
        if (((unsigned char)*s & 0xc0) != 0x80) {
            w++;
        }
    }
    return w;
}

void
cli_table_init(struct cli_table *t, size_t n_cols, const char *const *hdr)
{
    memset(t, 0, sizeof(*t));
    t->n_cols = n_cols;
    cli_table_row(t, hdr);
}

void
cli_table_row(struct cli_table *t, const char *const *row)
{
    if (t->n_rows == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 16;
        char **c = realloc(t->cells, cap * t->n_cols * sizeof(*c));

        if (c == NULL) {
            return;
        }
        t->cells = c;
        t->cap = cap;
    }
    for (size_t i = 0; i < t->n_cols; i++) {
        const char *v = row[i] != NULL && row[i][0] != '\0' ? row[i] : "-";
        char *s = strdup(v);

        /* One line per row: control characters show as spaces. */
        for (char *p = s; p != NULL && *p != '\0'; p++) {
            if ((unsigned char)*p < 0x20) {
                *p = ' ';
            }
        }
        t->cells[t->n_rows * t->n_cols + i] = s;
    }
    t->n_rows++;
}

void
cli_table_print(struct cli_table *t)
{
    size_t *w = calloc(t->n_cols, sizeof(*w));

    if (w == NULL) {
        return;
    }
    for (size_t r = 0; r < t->n_rows; r++) {
        for (size_t i = 0; i < t->n_cols; i++) {
            const char *s = t->cells[r * t->n_cols + i];
            size_t x = s != NULL ? width(s) : 0;

            w[i] = x > w[i] ? x : w[i];
        }
    }
    for (size_t r = 0; r < t->n_rows; r++) {
        for (size_t i = 0; i < t->n_cols; i++) {
            const char *s = t->cells[r * t->n_cols + i];

            s = s != NULL ? s : "";
            if (i + 1 == t->n_cols) {
                printf("%s\n", s);
            } else {
                printf("%s%*s", s, (int)(w[i] - width(s) + 2), "");
            }
        }
    }
    free(w);
}

void
cli_table_release(struct cli_table *t)
{
    for (size_t i = 0; i < t->n_rows * t->n_cols; i++) {
        free(t->cells[i]);
    }
    free(t->cells);
    memset(t, 0, sizeof(*t));
}

char *
cli_show(json_t *v)
{
    if (json_is_string(v)) {
        return strdup(json_string_value(v));
    }
    if (v == NULL || json_is_null(v)) {
        return strdup("-");
    }
    if (json_is_array(v) && json_array_size(v) > 0) {
        /* A list of strings reads best as "a,b,c". */
        size_t len = 1, i;
        json_t *x;
        char *s;

        json_array_foreach(v, i, x)
        {
            if (!json_is_string(x)) {
                return json_dumps(v, JSON_COMPACT);
            }
            len += json_string_length(x) + 1;
        }
        s = calloc(1, len);
        json_array_foreach(v, i, x)
        {
            if (s != NULL) {
                strcat(s, i > 0 ? "," : "");
                strcat(s, json_string_value(x));
            }
        }
        return s;
    }
    return json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
}

json_t *
cli_member(json_t *o, const char *path)
{
    const char *dot;

    while (o != NULL && (dot = strchr(path, '.')) != NULL) {
        char name[64];

        snprintf(name, sizeof(name), "%.*s", (int)(dot - path), path);
        o = json_object_get(o, name);
        path = dot + 1;
    }
    return json_object_get(o, path);
}

void
cli_print_object(struct cli *g, const char *json)
{
    json_t *o, *v;
    const char *k;
    size_t w = 0;

    if (g->json) {
        printf("%s\n", json);
        return;
    }
    o = json_loads(json, 0, NULL);
    if (!json_is_object(o)) {
        printf("%s\n", json);
        json_decref(o);
        return;
    }
    json_object_foreach(o, k, v)
    {
        w = strlen(k) > w ? strlen(k) : w;
    }
    json_object_foreach(o, k, v)
    {
        char *s = cli_show(v);

        printf("%s:%*s%s\n", k, (int)(w - strlen(k) + 1), "", s ? s : "");
        free(s);
    }
    json_decref(o);
}

int
cli_print_list(struct cli *g, struct provcat_iter *it, const char *const *cols,
               const char *const *hdr, size_t n_cols)
{
    return cli_print_list_max(g, it, cols, hdr, n_cols, 0);
}

int
cli_print_list_max(struct cli *g, struct provcat_iter *it,
                   const char *const *cols, const char *const *hdr,
                   size_t n_cols, uint64_t max)
{
    struct cli_table t;
    const char *item;
    bool first = true;
    uint64_t n = 0;
    int rc;

    if (!g->json) {
        cli_table_init(&t, n_cols, hdr);
    } else {
        fputs("[", stdout);
    }
    for (;;) {
        if (max > 0 && n >= max) {
            rc = 0; /* enough */
            break;
        }
        if ((rc = provcat_iter_next(it, &item)) != 1) {
            break;
        }
        n++;
        if (g->json) {
            printf("%s%s", first ? "" : ",\n", item);
            first = false;
            continue;
        }
        json_t *o = json_loads(item, 0, NULL);
        char *row[16];

        for (size_t i = 0; i < n_cols && i < 16; i++) {
            row[i] = cli_show(cli_member(o, cols[i]));
        }
        cli_table_row(&t, (const char *const *)row);
        for (size_t i = 0; i < n_cols && i < 16; i++) {
            free(row[i]);
        }
        json_decref(o);
    }
    if (g->json) {
        fputs("]\n", stdout);
    } else {
        if (rc == 0) {
            cli_table_print(&t);
        }
        cli_table_release(&t);
    }
    provcat_iter_free(it);
    return rc == 0 ? CLI_OK : cli_fail(g);
}

int
cli_list(struct cli *g, int argc, char **argv, const struct cli_list *l)
{
    struct cli_opt o[CLI_MAX_FILTERS + 1] = { 0 };
    const char *f[2 * CLI_MAX_FILTERS + 1];
    struct provcat_iter *it;
    struct provcat *c;
    size_t n = 0;
    int rc = CLI_OK;

    for (size_t i = 0; l->filters != NULL && l->filters[i] != NULL; i++) {
        assert(i < CLI_MAX_FILTERS);
        o[i].name = l->filters[i];
        o[i].arg = true;
    }
    if (cli_parse(g, argc, argv, o, NULL, 0, 0, &rc) < 0) {
        return rc;
    }
    for (size_t i = 0; o[i].name != NULL; i++) {
        if (o[i].set && l->boolean != NULL &&
            strcmp(o[i].name, l->boolean) == 0 &&
            strcmp(o[i].val, "true") != 0 && strcmp(o[i].val, "false") != 0) {
            return cli_usage(g, "%s takes true or false", o[i].name);
        }
    }
    if ((c = cli_client(g, &rc)) == NULL) {
        return rc;
    }
    for (size_t i = 0; o[i].name != NULL; i++) {
        if (o[i].set) {
            f[n++] = o[i].name + 2;
            f[n++] = o[i].val;
        }
    }
    f[n] = NULL;
    rc =
        l->list != NULL ? l->list(c, f, &it) : provcat_list(c, l->kind, f, &it);
    if (rc != PROVCAT_OK) {
        return cli_fail(g);
    }
    return cli_print_list(g, it, l->cols, l->hdr, l->n_cols);
}

int
cli_answer(struct cli *g, int rc, char *json)
{
    if (rc != PROVCAT_OK) {
        return cli_fail(g);
    }
    if (json != NULL) {
        cli_print_object(g, json);
    }
    provcat_free(json);
    return CLI_OK;
}

/* ---- progress --------------------------------------------------------- */

void
cli_progress_start(struct cli_progress *p, const char *unit, bool on)
{
    p->on = on;
    p->start_ms = cli_now_ms();
    p->last_ms = 0;
    p->unit = unit;
}

static void
human(char *out, size_t cap, double v, const char *unit)
{
    if (strcmp(unit, "bytes") == 0) {
        const char *u[] = { "B", "KiB", "MiB", "GiB", "TiB" };
        int i = 0;

        while (v >= 1024 && i < 4) {
            v /= 1024;
            i++;
        }
        snprintf(out, cap, "%.1f %s", v, u[i]);
    } else {
        snprintf(out, cap, "%.0f", v);
    }
}

void
cli_progress_show(struct cli_progress *p, uint64_t done, uint64_t total,
                  bool final)
{
    long long now = cli_now_ms();
    double secs = (double)(now - p->start_ms) / 1000.0, rate;
    char bar[31], d[32], tt[32], r[32], eta[32] = "";
    int fill;

    if (!p->on || (!final && now - p->last_ms < 200)) {
        return;
    }
    p->last_ms = now;
    rate = secs > 0 ? (double)done / secs : 0;
    fill = total > 0 ? (int)(30.0 * (double)done / (double)total) : 0;
    fill = fill > 30 ? 30 : fill;
    memset(bar, '#', (size_t)fill);
    memset(bar + fill, '.', (size_t)(30 - fill));
    bar[30] = '\0';
    human(d, sizeof(d), (double)done, p->unit);
    human(tt, sizeof(tt), (double)total, p->unit);
    human(r, sizeof(r), rate, p->unit);
    if (total > done && rate > 0) {
        long s = (long)((double)(total - done) / rate);
        snprintf(eta, sizeof(eta), " ETA %ld:%02ld", s / 60, s % 60);
    }
    fprintf(stderr, "\r[%s] %3d%% %s/%s %s  %s/s%s   ", bar,
            total > 0 ? (int)(100.0 * (double)done / (double)total) : 0, d, tt,
            strcmp(p->unit, "bytes") == 0 ? "" : p->unit, r, eta);
    if (final) {
        fputc('\n', stderr);
    }
    fflush(stderr);
}

/* ---- cluster commands ------------------------------------------------ */

static int
cmd_status(struct cli *g, int argc, char **argv)
{
    static const char *hdr[] = { "ID",       "URL",    "STATE",
                                 "TERM",     "COMMIT", "APPLIED",
                                 "REVISION", "ROOT",   "LEADER" };
    struct provcat_status *first = NULL, *s;
    struct provcat *c;
    struct cli_table t;
    const char *const *origins;
    size_t n;
    int rc = CLI_OK;

    if ((c = cli_start(g, argc, argv, NULL, &rc)) == NULL) {
        return rc;
    }
    /* Any node first: the client learns the members it lists. */
    if (provcat_status(c, NULL, &first) != PROVCAT_OK) {
        return cli_fail(g);
    }
    provcat_status_free(first);
    origins = provcat_origins(c, &n);
    if (g->json) {
        fputs("[", stdout);
    } else {
        cli_table_init(&t, 9, hdr);
    }
    for (size_t i = 0; i < n; i++) {
        char id[24], term[24], com[24], app[24], rev[24], root[16], lead[24];

        if (provcat_status(c, origins[i], &s) != PROVCAT_OK) {
            if (g->json) {
                printf("%s{\"url\":\"%s\",\"error\":\"%s\"}", i ? ",\n" : "",
                       origins[i],
                       provcat_strerror(provcat_last_error(c)->code));
            } else {
                const char *row[9] = { NULL, origins[i], "unreachable" };
                cli_table_row(&t, row);
            }
            origins = provcat_origins(c, &n);
            continue;
        }
        if (g->json) {
            printf("%s%s", i ? ",\n" : "", s->json);
        } else {
            snprintf(id, sizeof(id), "%llu", (unsigned long long)s->id);
            snprintf(term, sizeof(term), "%llu", (unsigned long long)s->term);
            snprintf(com, sizeof(com), "%llu",
                     (unsigned long long)s->commit_index);
            snprintf(app, sizeof(app), "%llu",
                     (unsigned long long)s->applied_index);
            snprintf(rev, sizeof(rev), "%llu", (unsigned long long)s->revision);
            snprintf(root, sizeof(root), "%.12s", s->root);
            snprintf(lead, sizeof(lead), "%llu",
                     (unsigned long long)s->leader_id);
            const char *row[9] = { id,  origins[i], s->state, term, com,
                                   app, rev,        root,     lead };
            cli_table_row(&t, row);
        }
        provcat_status_free(s);
        origins = provcat_origins(c, &n);
    }
    if (g->json) {
        fputs("]\n", stdout);
    } else {
        cli_table_print(&t);
        cli_table_release(&t);
    }
    return CLI_OK;
}

static int
cmd_members_list(struct cli *g, int argc, char **argv)
{
    static const char *hdr[] = { "ID", "ADDRESS", "CLIENT_URL", "ROLE" };
    struct provcat_status *s;
    struct provcat *c;
    struct cli_table t;
    int rc = CLI_OK;

    if ((c = cli_start(g, argc, argv, NULL, &rc)) == NULL) {
        return rc;
    }
    if (provcat_status(c, NULL, &s) != PROVCAT_OK) {
        return cli_fail(g);
    }
    if (g->json) {
        json_t *o = json_loads(s->json, 0, NULL);
        char *m = json_dumps(json_object_get(o, "members"), JSON_COMPACT);

        printf("%s\n", m != NULL ? m : "[]");
        free(m);
        json_decref(o);
    } else {
        cli_table_init(&t, 4, hdr);
        for (size_t i = 0; i < s->n_members; i++) {
            char id[24];
            const struct provcat_member *m = &s->members[i];

            snprintf(id, sizeof(id), "%llu", (unsigned long long)m->id);
            const char *row[4] = { id, m->address, m->client_url, m->role };
            cli_table_row(&t, row);
        }
        cli_table_print(&t);
        cli_table_release(&t);
    }
    provcat_status_free(s);
    return CLI_OK;
}

static int
cmd_members_add(struct cli *g, int argc, char **argv)
{
    struct provcat *c;
    char *pos[3], *json = NULL;
    uint64_t id;
    int rc = CLI_OK;

    if (cli_parse(g, argc, argv, NULL, pos, 3, 3, &rc) < 0) {
        return rc;
    }
    if (!cli_u64(pos[0], 1, &id)) {
        return cli_usage(g, "'%s' is not a node id", pos[0]);
    }
    if ((c = cli_client(g, &rc)) == NULL) {
        return rc;
    }
    rc = provcat_member_add(c, id, pos[1], pos[2], &json);
    return cli_answer(g, rc, json);
}

static int
cmd_members_remove(struct cli *g, int argc, char **argv)
{
    struct cli_opt o[] = { { "--force", NULL, false, false, NULL },
                           { NULL, NULL, false, false, NULL } };
    struct provcat *c;
    char *pos[1], *json = NULL;
    uint64_t id;
    int rc = CLI_OK;

    if (cli_parse(g, argc, argv, o, pos, 1, 1, &rc) < 0) {
        return rc;
    }
    if (!cli_u64(pos[0], 1, &id)) {
        return cli_usage(g, "'%s' is not a node id", pos[0]);
    }
    if ((c = cli_client(g, &rc)) == NULL) {
        return rc;
    }
    rc = provcat_member_remove(c, id, o[0].set, &json);
    return cli_answer(g, rc, json);
}

static int
cmd_leader_transfer(struct cli *g, int argc, char **argv)
{
    struct provcat *c;
    char *pos[1], *json = NULL;
    uint64_t id = 0;
    int rc = CLI_OK, n;

    if ((n = cli_parse(g, argc, argv, NULL, pos, 0, 1, &rc)) < 0) {
        return rc;
    }
    if (n == 1 && !cli_u64(pos[0], 1, &id)) {
        return cli_usage(g, "'%s' is not a node id", pos[0]);
    }
    if ((c = cli_client(g, &rc)) == NULL) {
        return rc;
    }
    rc = provcat_leader_transfer(c, id, &json);
    return cli_answer(g, rc, json);
}

/* ---- organisations and principals ------------------------------------- */

static int
cmd_org_create(struct cli *g, int argc, char **argv)
{
    struct cli_opt o[] = { { "--name", NULL, true, false, NULL },
                           { "--level", NULL, true, false, NULL },
                           { "--kind", NULL, true, false, NULL },
                           { "--parent", NULL, true, false, NULL },
                           { "--authority", NULL, false, false, NULL },
                           { "--file", "-f", true, false, NULL },
                           { NULL, NULL, false, false, NULL } };
    struct provcat *c;
    char *pos[1], *json = NULL, *body = NULL;
    json_t *b;
    int rc = CLI_OK, n;

    if ((n = cli_parse(g, argc, argv, o, pos, 0, 1, &rc)) < 0) {
        return rc;
    }
    if (o[5].set) {
        if ((body = cli_read_doc(g, o[5].val, &rc)) == NULL) {
            return rc;
        }
    } else {
        if (n != 1 || !o[0].set || !o[1].set || !o[2].set) {
            return cli_usage(g, "an id, --name, --level and --kind (or -f)");
        }
        b = json_pack("{s:s, s:s, s:s, s:s}", "id", pos[0], "name", o[0].val,
                      "level", o[1].val, "kind", o[2].val);
        if (o[3].set) {
            json_object_set_new(b, "parent", json_string(o[3].val));
        }
        if (o[4].set) {
            json_object_set_new(b, "authority", json_true());
        }
        body = json_dumps(b, JSON_COMPACT);
        json_decref(b);
    }
    if ((c = cli_client(g, &rc)) == NULL) {
        free(body);
        return rc;
    }
    rc = provcat_org_create(c, body, &json);
    rc = cli_answer(g, rc, json);
    free(body);
    return rc;
}

static int
cmd_org_list(struct cli *g, int argc, char **argv)
{
    static const char *cols[] = { "id",   "name",   "level",
                                  "kind", "parent", "authority" };
    static const char *hdr[] = { "ID",   "NAME",   "LEVEL",
                                 "KIND", "PARENT", "AUTHORITY" };
    struct provcat_iter *it;
    struct provcat *c;
    int rc = CLI_OK;

    if ((c = cli_start(g, argc, argv, NULL, &rc)) == NULL) {
        return rc;
    }
    if (provcat_orgs_list(c, &it) != PROVCAT_OK) {
        return cli_fail(g);
    }
    return cli_print_list(g, it, cols, hdr, 6);
}

/* A command of one id, answered by the JSON of `call`. */
static int
id_call(struct cli *g, int argc, char **argv,
        int (*call)(struct provcat *c, const char *id, char **json))
{
    struct provcat *c;
    char *id, *json = NULL;
    int rc = CLI_OK;

    if ((c = cli_start(g, argc, argv, &id, &rc)) == NULL) {
        return rc;
    }
    rc = call(c, id, &json);
    return cli_answer(g, rc, json);
}

static int
cmd_org_get(struct cli *g, int argc, char **argv)
{
    return id_call(g, argc, argv, provcat_org_get);
}

static int
cmd_principal_create(struct cli *g, int argc, char **argv)
{
    struct cli_opt o[] = { { "--org", NULL, true, false, NULL },
                           { "--roles", "--role", true, false, NULL },
                           { NULL, NULL, false, false, NULL } };
    struct provcat *c;
    char *pos[1], *json = NULL, *body, *save = NULL, *roles;
    json_t *b, *r;
    int rc = CLI_OK;

    if (cli_parse(g, argc, argv, o, pos, 1, 1, &rc) < 0) {
        return rc;
    }
    b = json_pack("{s:s}", "id", pos[0]);
    if (o[0].set) {
        json_object_set_new(b, "org", json_string(o[0].val));
    }
    if (o[1].set) {
        r = json_array();
        roles = strdup(o[1].val);
        for (char *t = strtok_r(roles, ",", &save); t != NULL;
             t = strtok_r(NULL, ",", &save)) {
            json_array_append_new(r, json_string(t));
        }
        free(roles);
        json_object_set_new(b, "roles", r);
    }
    body = json_dumps(b, JSON_COMPACT);
    json_decref(b);
    if ((c = cli_client(g, &rc)) == NULL) {
        free(body);
        return rc;
    }
    rc = provcat_principal_create(c, body, &json);
    free(body);
    if (rc == PROVCAT_OK && strstr(json, "\"token\":null") != NULL) {
        fprintf(stderr,
                "provcat: the principal existed from an earlier "
                "attempt; its token is not shown again: use "
                "'provcat principal token %s'\n",
                pos[0]);
    }
    return cli_answer(g, rc, json);
}

static int
cmd_principal_revoke(struct cli *g, int argc, char **argv)
{
    return id_call(g, argc, argv, provcat_principal_revoke);
}

static int
cmd_principal_token(struct cli *g, int argc, char **argv)
{
    struct provcat *c;
    char *id, *token = NULL;
    int rc = CLI_OK;

    if ((c = cli_start(g, argc, argv, &id, &rc)) == NULL) {
        return rc;
    }
    if (provcat_principal_token(c, id, &token) != PROVCAT_OK) {
        return cli_fail(g);
    }
    if (g->json) {
        printf("{\"token\":\"%s\"}\n", token);
    } else {
        printf("%s\n", token);
    }
    provcat_free(token);
    return CLI_OK;
}

static int
cmd_whoami(struct cli *g, int argc, char **argv)
{
    struct provcat *c;
    char *json = NULL;
    int rc = CLI_OK;

    if ((c = cli_start(g, argc, argv, NULL, &rc)) == NULL) {
        return rc;
    }
    rc = provcat_whoami(c, &json);
    return cli_answer(g, rc, json);
}

/* ---- catalog --------------------------------------------------------------
 */

static int
cmd_catalog_create(struct cli *g, int argc, char **argv)
{
    struct cli_opt o[] = { { "--file", "-f", true, false, NULL },
                           { NULL, NULL, false, false, NULL } };
    struct provcat *c;
    char *json = NULL, *body;
    int rc = CLI_OK;

    if (cli_parse(g, argc, argv, o, NULL, 0, 0, &rc) < 0) {
        return rc;
    }
    if ((body = cli_read_doc(g, o[0].val, &rc)) == NULL) {
        return rc;
    }
    if ((c = cli_client(g, &rc)) == NULL) {
        free(body);
        return rc;
    }
    rc = provcat_entry_create(c, body, &json);
    rc = cli_answer(g, rc, json);
    free(body);
    return rc;
}

static int
cmd_catalog_update(struct cli *g, int argc, char **argv)
{
    struct cli_opt o[] = { { "--file", "-f", true, false, NULL },
                           { "--if-version", NULL, true, false, NULL },
                           { NULL, NULL, false, false, NULL } };
    struct provcat *c;
    char *pos[1], *json = NULL, *body;
    uint64_t v;
    int rc = CLI_OK;

    if (cli_parse(g, argc, argv, o, pos, 1, 1, &rc) < 0) {
        return rc;
    }
    if (!o[1].set || !cli_u64(o[1].val, 1, &v)) {
        return cli_usage(g, "--if-version N (the version you edited) is "
                            "required");
    }
    if ((body = cli_read_doc(g, o[0].val, &rc)) == NULL) {
        return rc;
    }
    if ((c = cli_client(g, &rc)) == NULL) {
        free(body);
        return rc;
    }
    rc = provcat_entry_update(c, pos[0], body, (int64_t)v, &json);
    rc = cli_answer(g, rc, json);
    free(body);
    return rc;
}

static int
cmd_catalog_submit(struct cli *g, int argc, char **argv)
{
    return id_call(g, argc, argv, provcat_entry_submit);
}

static int
cmd_catalog_review(struct cli *g, int argc, char **argv)
{
    struct cli_opt o[] = { { "--reason", NULL, true, false, NULL },
                           { "--override-duplicate", NULL, false, false, NULL },
                           { NULL, NULL, false, false, NULL } };
    struct provcat *c;
    char *pos[2], *json = NULL;
    int rc = CLI_OK;

    if (cli_parse(g, argc, argv, o, pos, 2, 2, &rc) < 0) {
        return rc;
    }
    if (strcmp(pos[1], "approve") != 0 && strcmp(pos[1], "reject") != 0) {
        return cli_usage(g, "the decision is approve or reject");
    }
    if ((c = cli_client(g, &rc)) == NULL) {
        return rc;
    }
    rc = provcat_entry_review(c, pos[0], pos[1], o[0].val,
                              o[1].set ? PROVCAT_OVERRIDE_DUPLICATE : 0, &json);
    return cli_answer(g, rc, json);
}

static int
cmd_catalog_retire(struct cli *g, int argc, char **argv)
{
    struct cli_opt o[] = { { "--reason", NULL, true, false, NULL },
                           { NULL, NULL, false, false, NULL } };
    struct provcat *c;
    char *pos[1], *json = NULL;
    int rc = CLI_OK;

    if (cli_parse(g, argc, argv, o, pos, 1, 1, &rc) < 0) {
        return rc;
    }
    if (!cli_given(&o[0])) {
        return cli_usage(g, "--reason is required");
    }
    if ((c = cli_client(g, &rc)) == NULL) {
        return rc;
    }
    rc = provcat_entry_retire(c, pos[0], o[0].val, &json);
    return cli_answer(g, rc, json);
}

static int
cmd_catalog_get(struct cli *g, int argc, char **argv)
{
    return id_call(g, argc, argv, provcat_entry_get);
}

/* Entries show their classes, not the class objects. */
static const char *const entry_cols[] = {
    "id", "version", "status", "provider", "share.class", "open.class", "title"
};
static const char *const entry_hdr[] = { "ID",       "VERSION", "STATUS",
                                         "PROVIDER", "SHARE",   "OPEN",
                                         "TITLE" };

static int
cmd_catalog_list(struct cli *g, int argc, char **argv)
{
    static const char *const filters[] = { "--provider", "--status", "--share",
                                           "--open",     "--theme",  "--q",
                                           NULL };
    static const struct cli_list l = { .filters = filters,
                                       .list = provcat_entries_list,
                                       .cols = entry_cols,
                                       .hdr = entry_hdr,
                                       .n_cols = 7 };

    return cli_list(g, argc, argv, &l);
}

static int
cmd_catalog_history(struct cli *g, int argc, char **argv)
{
    struct provcat_iter *it;
    struct provcat *c;
    char *id;
    int rc = CLI_OK;

    if ((c = cli_start(g, argc, argv, &id, &rc)) == NULL) {
        return rc;
    }
    if (provcat_entry_history(c, id, &it) != PROVCAT_OK) {
        return cli_fail(g);
    }
    return cli_print_list(g, it, entry_cols, entry_hdr, 7);
}

/* ---- records --------------------------------------------------------------
 */

/* The answer of a record write that returned `rc`: printed, `w` freed. */
static int
write_answer(struct cli *g, struct provcat *c, int rc, struct provcat_write *w)
{
    if (rc != PROVCAT_OK) {
        return cli_fail(g);
    }
    if (g->json) {
        printf("%s\n", (const char *)c->body.data);
    } else {
        printf("%s/%s: version %llu (%s) at revision %llu%s\nhash: %s\n",
               w->entry, w->key, (unsigned long long)w->version, w->op,
               (unsigned long long)w->revision, w->replayed ? ", a replay" : "",
               w->hash);
    }
    provcat_write_free(w);
    return CLI_OK;
}

/* --if-version N or --create-only into `*v`; false after a usage error. */
static bool
precondition(struct cli *g, struct cli_opt *ifv, struct cli_opt *create,
             int64_t *v, int *rc)
{
    uint64_t n;

    *v = PROVCAT_ANY_VERSION;
    if (ifv != NULL && ifv->set) {
        if (!cli_u64(ifv->val, 1, &n) || (create != NULL && create->set)) {
            *rc = cli_usage(g, "--if-version N (N >= 1), or --create-only");
            return false;
        }
        *v = (int64_t)n;
    } else if (create != NULL && create->set) {
        *v = PROVCAT_CREATE_ONLY;
    }
    return true;
}

static int
cmd_put(struct cli *g, int argc, char **argv)
{
    struct cli_opt o[] = { { "--file", "-f", true, false, NULL },
                           { "--if-version", NULL, true, false, NULL },
                           { "--create-only", NULL, false, false, NULL },
                           { NULL, NULL, false, false, NULL } };
    const char *entry, *key;
    struct provcat_write *w;
    struct provcat *c;
    char *doc;
    int64_t v;
    int rc = CLI_OK;

    if (!cli_parse_record(g, argc, argv, o, &entry, &key, &rc) ||
        !precondition(g, &o[1], &o[2], &v, &rc) ||
        (doc = cli_read_doc(g, o[0].val, &rc)) == NULL) {
        return rc;
    }
    if ((c = cli_client(g, &rc)) == NULL) {
        free(doc);
        return rc;
    }
    rc = provcat_record_put(c, entry, key, doc, v, &w);
    free(doc);
    return write_answer(g, c, rc, w);
}

static void
print_record(struct cli *g, const struct provcat_record *r)
{
    if (g->json) {
        printf("%s\n", r->json);
        return;
    }
    printf(
        "entry:     %s\nkey:       %s\nversion:   %llu\nop:        %s\n"
        "revision:  %llu\nat:        %s\nauthor:    %s (%s)\nhash:      %s\n",
        r->entry, r->key, (unsigned long long)r->version, r->op,
        (unsigned long long)r->revision, r->at ? r->at : "-",
        r->author ? r->author : "-", r->org ? r->org : "-", r->hash);
    if (r->retired) {
        printf("retired:   yes\n");
    }
    if (r->redacted) {
        printf("redacted:  yes (the document was removed; its hashes stay)\n");
    }
    if (r->disputed) {
        printf("disputed:  yes, by");
        for (size_t i = 0; i < r->n_disputed_by; i++) {
            printf("%s%s", i > 0 ? "," : " ", r->disputed_by[i]);
        }
        printf(" (an accepted objection awaits its correction)\n");
    }
    if (r->filtered) {
        printf("filtered:  yes, to the grant's fields");
        for (size_t i = 0; i < r->n_fields; i++) {
            printf("%s%s", i > 0 ? "," : " ", r->fields[i]);
        }
        printf("\n");
    }
    if (r->reason != NULL) {
        printf("reason:    %s\n", r->reason);
    }
    if (r->objection != NULL) {
        printf("objection: %s\n", r->objection);
    }
    if (r->value != NULL) {
        printf("value:     %s\n", r->value);
    }
}

static int
cmd_get(struct cli *g, int argc, char **argv)
{
    struct cli_opt o[] = { { "--version", NULL, true, false, NULL },
                           { "--at-revision", NULL, true, false, NULL },
                           { "--verify", NULL, false, false, NULL },
                           { NULL, NULL, false, false, NULL } };
    const char *entry, *key;
    struct provcat_record *r;
    struct provcat *c;
    uint64_t ver = 0, at = 0;
    int rc = CLI_OK;

    if (!cli_parse_record(g, argc, argv, o, &entry, &key, &rc)) {
        return rc;
    }
    if ((o[0].set && !cli_u64(o[0].val, 1, &ver)) ||
        (o[1].set && !cli_u64(o[1].val, 1, &at)) || (o[0].set && o[1].set)) {
        return cli_usage(g, "--version N or --at-revision R (>= 1), not both");
    }
    if ((c = cli_client(g, &rc)) == NULL) {
        return rc;
    }
    if (provcat_record_get(c, entry, key, ver, at, &r) != PROVCAT_OK) {
        return cli_fail(g);
    }
    if (o[2].set && provcat_record_verify(c, r) != PROVCAT_OK) {
        provcat_record_free(r);
        return cli_fail(g);
    }
    print_record(g, r);
    if (o[2].set && !g->json) {
        struct provcat_root t;

        provcat_trusted_root(c, &t);
        printf("verified:  %sinclusion at revision %llu\n",
               r->value != NULL ? "content hash, and " : "",
               (unsigned long long)t.revision);
    }
    provcat_record_free(r);
    return CLI_OK;
}

static int
cmd_history(struct cli *g, int argc, char **argv)
{
    static const char *hdr[] = { "VERSION", "OP",     "REVISION",
                                 "AT",      "AUTHOR", "VALUE" };
    const struct provcat_record *r;
    const char *entry, *key;
    struct provcat_iter *it;
    struct provcat *c;
    struct cli_table t;
    bool first = true;
    int rc = CLI_OK;

    if (!cli_parse_record(g, argc, argv, NULL, &entry, &key, &rc) ||
        (c = cli_client(g, &rc)) == NULL) {
        return rc;
    }
    if (provcat_record_history(c, entry, key, &it) != PROVCAT_OK) {
        return cli_fail(g);
    }
    if (g->json) {
        fputs("[", stdout);
    } else {
        cli_table_init(&t, 6, hdr);
    }
    while ((rc = provcat_iter_record(it, &r)) == 1) {
        char v[24], rev[24];

        if (g->json) {
            printf("%s%s", first ? "" : ",\n", r->json);
            first = false;
            continue;
        }
        snprintf(v, sizeof(v), "%llu", (unsigned long long)r->version);
        snprintf(rev, sizeof(rev), "%llu", (unsigned long long)r->revision);
        const char *row[6] = { v, r->op, rev, r->at, r->author, r->value };
        cli_table_row(&t, row);
    }
    if (g->json) {
        fputs("]\n", stdout);
    } else {
        if (rc == 0) {
            cli_table_print(&t);
        }
        cli_table_release(&t);
    }
    provcat_iter_free(it);
    return rc == 0 ? CLI_OK : cli_fail(g);
}

static int
cmd_retire(struct cli *g, int argc, char **argv)
{
    struct cli_opt o[] = { { "--reason", NULL, true, false, NULL },
                           { "--if-version", NULL, true, false, NULL },
                           { NULL, NULL, false, false, NULL } };
    const char *entry, *key;
    struct provcat_write *w;
    struct provcat *c;
    int64_t v;
    int rc = CLI_OK;

    if (!cli_parse_record(g, argc, argv, o, &entry, &key, &rc)) {
        return rc;
    }
    if (!cli_given(&o[0])) {
        return cli_usage(g, "--reason is required");
    }
    if (!precondition(g, &o[1], NULL, &v, &rc) ||
        (c = cli_client(g, &rc)) == NULL) {
        return rc;
    }
    rc = provcat_record_retire(c, entry, key, o[0].val, v, &w);
    return write_answer(g, c, rc, w);
}

static int
cmd_correct(struct cli *g, int argc, char **argv)
{
    struct cli_opt o[] = { { "--file", "-f", true, false, NULL },
                           { "--reason", NULL, true, false, NULL },
                           { "--objection", NULL, true, false, NULL },
                           { "--if-version", NULL, true, false, NULL },
                           { NULL, NULL, false, false, NULL } };
    const char *entry, *key;
    struct provcat_write *w;
    struct provcat *c;
    char *doc;
    int64_t v;
    int rc = CLI_OK;

    if (!cli_parse_record(g, argc, argv, o, &entry, &key, &rc)) {
        return rc;
    }
    if (!cli_given(&o[1])) {
        return cli_usage(g, "--reason is required");
    }
    if (!precondition(g, &o[3], NULL, &v, &rc) ||
        (doc = cli_read_doc(g, o[0].val, &rc)) == NULL) {
        return rc;
    }
    if ((c = cli_client(g, &rc)) == NULL) {
        free(doc);
        return rc;
    }
    rc = provcat_record_correct(c, entry, key, doc, o[1].val, o[2].val, v, &w);
    free(doc);
    return write_answer(g, c, rc, w);
}

static int
cmd_list(struct cli *g, int argc, char **argv)
{
    struct cli_opt o[] = { { "--prefix", NULL, true, false, NULL },
                           { "--include-retired", NULL, false, false, NULL },
                           { NULL, NULL, false, false, NULL } };
    static const char *cols[] = { "key", "version", "op", "revision",
                                  "retired" };
    static const char *hdr[] = { "KEY", "VERSION", "OP", "REVISION",
                                 "RETIRED" };
    struct provcat_iter *it;
    struct provcat *c;
    char *pos[1];
    int rc = CLI_OK;

    if (cli_parse(g, argc, argv, o, pos, 1, 1, &rc) < 0) {
        return rc;
    }
    if ((c = cli_client(g, &rc)) == NULL) {
        return rc;
    }
    if (provcat_records_list(c, pos[0], o[0].val, o[1].set, &it) !=
        PROVCAT_OK) {
        return cli_fail(g);
    }
    return cli_print_list(g, it, cols, hdr, 5);
}

/* ---- ledger ----------------------------------------------------------------
 */

static int
cmd_ledger_root(struct cli *g, int argc, char **argv)
{
    struct cli_opt o[] = { { "--tree-size", NULL, true, false, NULL },
                           { NULL, NULL, false, false, NULL } };
    struct provcat_root r;
    struct provcat *c;
    char hex[PROVCAT_HASH_HEX_LEN + 1];
    uint64_t n = 0;
    int rc = CLI_OK;

    if (cli_parse(g, argc, argv, o, NULL, 0, 0, &rc) < 0) {
        return rc;
    }
    if (o[0].set && !cli_u64(o[0].val, 1, &n)) {
        return cli_usage(g, "--tree-size N (N >= 1)");
    }
    if ((c = cli_client(g, &rc)) == NULL) {
        return rc;
    }
    if (provcat_ledger_root(c, n, &r) != PROVCAT_OK) {
        return cli_fail(g);
    }
    provcat_hex(hex, r.root);
    if (g->json) {
        printf("{\"revision\":%llu,\"root\":\"%s\"}\n",
               (unsigned long long)r.revision, hex);
    } else {
        printf("revision: %llu\nroot:     %s\n", (unsigned long long)r.revision,
               hex);
    }
    return CLI_OK;
}

static int
cmd_ledger_proof(struct cli *g, int argc, char **argv)
{
    struct cli_opt o[] = { { "--tree-size", NULL, true, false, NULL },
                           { NULL, NULL, false, false, NULL } };
    struct provcat_proof *p;
    struct provcat_root r;
    struct provcat *c;
    char hex[PROVCAT_HASH_HEX_LEN + 1];
    char *pos[1], *pj;
    uint64_t rev, n = 0;
    int rc = CLI_OK;

    if (cli_parse(g, argc, argv, o, pos, 1, 1, &rc) < 0) {
        return rc;
    }
    if (!cli_u64(pos[0], 1, &rev) ||
        (o[0].set && (!cli_u64(o[0].val, 1, &n) || n < rev))) {
        return cli_usage(g, "REVISION >= 1 and --tree-size N >= REVISION");
    }
    if ((c = cli_client(g, &rc)) == NULL) {
        return rc;
    }
    if (n == 0) {
        if (provcat_ledger_root(c, 0, &r) != PROVCAT_OK) {
            return cli_fail(g);
        }
        n = r.revision;
    }
    if (provcat_ledger_proof(c, rev, n, &p) != PROVCAT_OK) {
        return cli_fail(g);
    }
    pj = strdup((const char *)c->body.data);
    /* The root of that size, asked for separately, is what it must meet. */
    if (pj == NULL || provcat_ledger_root(c, n, &r) != PROVCAT_OK) {
        free(pj);
        provcat_free(p);
        return pj == NULL ? cli_failf("out of memory") : cli_fail(g);
    }
    rc = provcat_verify_inclusion(p->leaf_hash, p->leaf_index, p->tree_size,
                                  (const uint8_t(*)[PROVCAT_HASH_LEN])p->path,
                                  p->n_path, r.root);
    if (g->json) {
        printf("%s\n", pj);
    } else {
        provcat_hex(hex, p->leaf_hash);
        printf("revision:  %llu\ntree size: %llu\nleaf:      %s\n",
               (unsigned long long)p->revision,
               (unsigned long long)p->tree_size, hex);
        for (size_t i = 0; i < p->n_path; i++) {
            provcat_hex(hex, p->path[i]);
            printf("%s %s\n", i == 0 ? "path:     " : "          ", hex);
        }
        provcat_hex(hex, r.root);
        printf("root:      %s\nverified:  %s\n", hex,
               rc == PROVCAT_OK ? "yes" : "NO");
    }
    provcat_free(p);
    free(pj);
    if (rc != PROVCAT_OK) {
        return cli_failf("ledger proof: the proof does not lead to the root");
    }
    return CLI_OK;
}

static int
cmd_ledger_consistency(struct cli *g, int argc, char **argv)
{
    struct provcat_consistency *p;
    struct provcat_root a, b;
    struct provcat *c;
    char *pos[2];
    uint64_t from, to;
    int rc = CLI_OK;

    if (cli_parse(g, argc, argv, NULL, pos, 2, 2, &rc) < 0) {
        return rc;
    }
    if (!cli_u64(pos[0], 1, &from) || !cli_u64(pos[1], from, &to)) {
        return cli_usage(g, "FROM >= 1 and TO >= FROM");
    }
    if ((c = cli_client(g, &rc)) == NULL) {
        return rc;
    }
    if (provcat_ledger_root(c, from, &a) != PROVCAT_OK ||
        provcat_ledger_root(c, to, &b) != PROVCAT_OK ||
        provcat_ledger_consistency(c, from, to, &p) != PROVCAT_OK) {
        return cli_fail(g);
    }
    rc = provcat_verify_consistency(from, to, a.root, b.root,
                                    (const uint8_t(*)[PROVCAT_HASH_LEN])p->path,
                                    p->n_path);
    if (g->json) {
        printf("%s\n", (const char *)c->body.data);
    } else {
        char ha[PROVCAT_HASH_HEX_LEN + 1], hb[PROVCAT_HASH_HEX_LEN + 1];

        provcat_hex(ha, a.root);
        provcat_hex(hb, b.root);
        printf("from:     %llu %s\nto:       %llu %s\nhashes:   %zu\n"
               "verified: %s\n",
               (unsigned long long)from, ha, (unsigned long long)to, hb,
               p->n_path, rc == PROVCAT_OK ? "yes" : "NO");
    }
    provcat_free(p);
    return rc == PROVCAT_OK
               ? CLI_OK
               : cli_failf("ledger consistency: the proof does not hold");
}

static int
cmd_ledger_verify(struct cli *g, int argc, char **argv)
{
    struct cli_opt o[] = { { "--version", NULL, true, false, NULL },
                           { NULL, NULL, false, false, NULL } };
    struct provcat_root before, after;
    struct provcat_record *r = NULL;
    const char *entry, *key;
    struct provcat *c;
    char hex[PROVCAT_HASH_HEX_LEN + 1];
    char *pos[2];
    uint64_t ver = 0;
    bool had;
    int rc = CLI_OK, n;

    if ((n = cli_parse(g, argc, argv, o, pos, 0, 2, &rc)) < 0) {
        return rc;
    }
    if (n > 0 && !cli_entry_key(pos, n, &entry, &key)) {
        return cli_usage(g, "name the record as ENTRY/KEY");
    }
    if (o[0].set && (n == 0 || !cli_u64(o[0].val, 1, &ver))) {
        return cli_usage(g, "--version N needs a record");
    }
    if ((c = cli_client(g, &rc)) == NULL) {
        return rc;
    }
    had = provcat_trusted_root(c, &before) == PROVCAT_OK;
    if (provcat_ledger_sync(c, &after) != PROVCAT_OK) {
        return cli_fail(g);
    }
    if (n > 0 && (provcat_record_get(c, entry, key, ver, 0, &r) != PROVCAT_OK ||
                  provcat_record_verify(c, r) != PROVCAT_OK)) {
        provcat_record_free(r);
        return cli_fail(g);
    }
    provcat_trusted_root(c, &after);
    provcat_hex(hex, after.root);
    if (g->json) {
        printf("{\"revision\":%llu,\"root\":\"%s\",\"consistent_from\":%llu",
               (unsigned long long)after.revision, hex,
               had ? (unsigned long long)before.revision : 0ULL);
        if (r != NULL) {
            printf(",\"record\":{\"entry\":\"%s\",\"version\":%llu,"
                   "\"revision\":%llu,\"verified\":true}",
                   entry, (unsigned long long)r->version,
                   (unsigned long long)r->revision);
        }
        printf("}\n");
    } else {
        if (had) {
            printf("ledger: revision %llu extends the trusted revision %llu\n",
                   (unsigned long long)after.revision,
                   (unsigned long long)before.revision);
        } else {
            printf("ledger: revision %llu trusted on first use%s\n",
                   (unsigned long long)after.revision,
                   g->state_file ? "" : " (give --state-file to keep it)");
        }
        printf("root:   %s\n", hex);
        if (r != NULL) {
            printf("record: %s/%s version %llu (revision %llu): content hash "
                   "and inclusion verified\n",
                   entry, key, (unsigned long long)r->version,
                   (unsigned long long)r->revision);
        }
    }
    provcat_record_free(r);
    return CLI_OK;
}

static int
cmd_request(struct cli *g, int argc, char **argv)
{
    struct cli_opt o[] = { { "--file", "-f", true, false, NULL },
                           { NULL, NULL, false, false, NULL } };
    struct provcat *c;
    char *pos[2], *body = NULL, *ans = NULL;
    int rc = CLI_OK, status = 0;

    if (cli_parse(g, argc, argv, o, pos, 2, 2, &rc) < 0) {
        return rc;
    }
    if (o[0].set && (body = cli_read_doc(g, o[0].val, &rc)) == NULL) {
        return rc;
    }
    if ((c = cli_client(g, &rc)) == NULL) {
        free(body);
        return rc;
    }
    rc = provcat_request(c, pos[0], pos[1], body, 0, &status, &ans);
    free(body);
    if (rc != PROVCAT_OK) {
        const char *j = provcat_last_error(c)->json;

        if (g->json && j != NULL) {
            printf("%s\n", j);
        }
        return cli_fail(g);
    }
    printf("%s\n", ans);
    provcat_free(ans);
    return CLI_OK;
}

/* ---- the table of commands ------------------------------------------ */

static const struct cli_cmd commands[] = {
    { "status", cmd_status, "",
      "Show every node: state, term, indexes, "
      "revision, root and leader.",
      "", "provcat --endpoints http://10.0.0.1:8001 status" },
    { "members list", cmd_members_list, "",
      "List the cluster's members and their roles.", "",
      "provcat members list" },
    { "members add", cmd_members_add, "ID ADDRESS CLIENT_URL",
      "Add node ID (raft ADDRESS ip:port, CLIENT_URL for clients); it joins "
      "as a spare and becomes a voter once caught up. Role operator.",
      "", "provcat members add 4 10.0.0.4:7001 http://10.0.0.4:8001" },
    { "members remove", cmd_members_remove, "ID [--force]",
      "Remove node ID from the cluster (its data stays on its disk).",
      "  --force   even if fewer than 3 voters would remain\n",
      "provcat members remove 4" },
    { "leader transfer", cmd_leader_transfer, "[ID]",
      "Hand leadership to node ID (or to the best one).", "",
      "provcat leader transfer 2" },
    { "org create", cmd_org_create,
      "ID --name N --level province|city|county --kind agency|institution "
      "[--parent P] [--authority] | -f ORG.json",
      "Create an organisation (role authority).", "",
      "provcat org create health --name 'Health Dept' --level province "
      "--kind agency --parent authority" },
    { "org list", cmd_org_list, "", "List organisations.", "",
      "provcat org list" },
    { "org get", cmd_org_get, "ID", "Show an organisation.", "",
      "provcat -o json org get health" },
    { "principal create", cmd_principal_create, "ID [--org ORG --roles R1,R2]",
      "Create a principal (role authority) and print its token, shown only "
      "this once. Without --org: a citizen.",
      "  --roles   authority, provider, consumer, operator, auditor\n",
      "provcat principal create alice --org health --roles provider" },
    { "principal revoke", cmd_principal_revoke, "ID",
      "Revoke a principal: its token stops working.", "",
      "provcat principal revoke alice" },
    { "principal token", cmd_principal_token, "ID",
      "Issue a new token for ID (the old one stops working).", "",
      "provcat principal token alice > alice.token" },
    { "whoami", cmd_whoami, "", "Show the principal the token belongs to.", "",
      "provcat --token-file alice.token whoami" },
    { "catalog create", cmd_catalog_create, "-f ENTRY.json",
      "Create a catalog entry (a draft, version 1).", "",
      "provcat catalog create -f licences.json" },
    { "catalog update", cmd_catalog_update, "ID -f ENTRY.json --if-version N",
      "Replace entry ID, which must still be at version N.", "",
      "provcat catalog update licences -f licences.json --if-version 3" },
    { "catalog submit", cmd_catalog_submit, "ID", "Submit an entry for review.",
      "", "provcat catalog submit licences" },
    { "catalog review", cmd_catalog_review,
      "ID approve|reject [--reason R] [--override-duplicate]",
      "Approve or reject a submitted entry (role authority).",
      "  --reason R             required to reject\n"
      "  --override-duplicate   approve an entry flagged as a possible "
      "duplicate\n",
      "provcat catalog review licences reject --reason 'fields undocumented'" },
    { "catalog retire", cmd_catalog_retire, "ID --reason R",
      "Retire an entry: its records stay readable, no new writes.", "",
      "provcat catalog retire licences --reason 'replaced by licences2'" },
    { "catalog get", cmd_catalog_get, "ID", "Show an entry.", "",
      "provcat catalog get licences" },
    { "catalog list", cmd_catalog_list,
      "[--provider P] [--status S] [--share C] [--open C] [--theme T] "
      "[--q TEXT]",
      "List the entries you may see, by id.", "",
      "provcat catalog list --status published --q licence" },
    { "catalog history", cmd_catalog_history, "ID",
      "Every version of an entry, oldest first.", "",
      "provcat catalog history licences" },
    { "put", cmd_put,
      "ENTRY/KEY [-f DOC.json] [--if-version N | --create-only]",
      "Write a record's document (from -f or stdin).",
      "  --if-version N   only if the current version is N (else 409)\n"
      "  --create-only    only if the key does not exist\n",
      "echo '{\"name\": \"Ada\"}' | provcat put licences/L-0001 "
      "--create-only" },
    { "get", cmd_get, "ENTRY/KEY [--version N | --at-revision R] [--verify]",
      "Read a record: the current version, a past one, or the one current "
      "at a ledger revision.",
      "  --verify   check the content hash and the version's inclusion in "
      "the ledger\n             (with --state-file, against the root kept "
      "there)\n",
      "provcat get licences/L-0001 --version 1" },
    { "history", cmd_history, "ENTRY/KEY",
      "Every version of a record, oldest first.", "",
      "provcat history licences/L-0001" },
    { "retire", cmd_retire, "ENTRY/KEY --reason R [--if-version N]",
      "Retire a record (a new version; history stays).", "",
      "provcat retire licences/L-0001 --reason 'licence withdrawn'" },
    { "correct", cmd_correct,
      "ENTRY/KEY [-f DOC.json] --reason R [--objection ID] [--if-version N]",
      "Write a correcting version of a record.", "",
      "provcat correct licences/L-0001 -f fixed.json --reason 'typo in name'" },
    { "list", cmd_list, "ENTRY [--prefix P] [--include-retired]",
      "List an entry's keys with their current version.", "",
      "provcat list licences --prefix L-00" },
    { "import", cli_import,
      "ENTRY FILE.jsonl [--batch N] [--parallel N] [--create-only] "
      "[--no-progress]",
      "Import records from JSON lines {\"key\": ..., \"value\": {...}} in "
      "batches. Re-running skips what is already in, so an interrupted "
      "import resumes.",
      "  --batch N         records per batch (1-1000, default 1000)\n"
      "  --batch-bytes B   bytes per batch at most (default 786432)\n"
      "  --parallel N      batches in flight (default 8)\n"
      "  --create-only     refuse to change existing records (409)\n"
      "  --no-progress     no progress bar on a terminal\n",
      "provcat import licences licences.jsonl" },
    { "export", cli_export, "ENTRY [--all] [-f OUT.jsonl] [--parallel N]",
      "Export an entry's records as JSON lines, one consistent snapshot: "
      "the current versions (which import reads back), or with --all every "
      "version.",
      "", "provcat export licences -f licences.jsonl" },
    { "share request", cli_share_request,
      "ENTRY --purpose P --days N [--fields F1,F2]",
      "Ask to read another org's conditionally shared entry (role "
      "consumer). The provider org gives its opinion, then the authority "
      "decides.",
      "  --purpose P      why (required)\n"
      "  --days N         how long a grant lasts, 1-3650 (required)\n"
      "  --fields F1,F2   only these fields (default: the whole document)\n",
      "provcat share request licences --purpose 'benefit checks' --days 90 "
      "--fields name,issued" },
    { "share decide", cli_share_decide, "ID approve|reject [--reason R]",
      "Give the provider org's opinion on a share request, or the "
      "authority's decision. An approval makes a grant.",
      "  --reason R   why (required to reject)\n",
      "provcat share decide sr-1207 reject --reason 'purpose too broad'" },
    { "share list", cli_share_list, "[--status S] [--entry E] [--org O]",
      "List the share requests you may see, oldest first.",
      "  --status S   pending_provider, pending_authority, approved or "
      "rejected\n"
      "  --org O      the requesting org\n",
      "provcat share list --status pending_authority" },
    { "share get", cli_share_get, "ID", "Show a share request.", "",
      "provcat share get sr-1207" },
    { "grants list", cli_grants_list, "[--status S] [--entry E] [--org O]",
      "List the grants you may see, with their status at ledger time.",
      "  --status S   active, expired, revoked or ended\n"
      "  --org O      the grantee org\n",
      "provcat grants list --status active --entry licences" },
    { "grants get", cli_grants_get, "ID", "Show a grant.", "",
      "provcat grants get gr-1213" },
    { "grants revoke", cli_grants_revoke, "ID --reason R",
      "End a grant early (the authority).", "",
      "provcat grants revoke gr-1213 --reason 'purpose met'" },
    { "lists responsibility", cli_lists_responsibility, "[--provider P]",
      "Every entry in force with its provider org. With theme, scope, "
      "update frequency and classes.",
      "", "provcat lists responsibility --provider health" },
    { "lists demand", cli_lists_demand, "[--provider P] [--entry E]",
      "Share requests per entry asked for. By status, with the orgs asking "
      "and the grants active now.",
      "", "provcat lists demand --entry licences" },
    { "lists negative", cli_lists_negative, "[--provider P]",
      "Entries never shared (share class none). With the basis stated for "
      "not sharing.",
      "", "provcat lists negative" },
    { "lists open", cli_lists_open, "[--provider P]",
      "The open data list (no token needed). Entries whose open class is "
      "not none, with its conditions.",
      "", "provcat lists open" },
    { "open request", cli_open_request,
      "ENTRY --applicant A --data-type T --description D --purpose P",
      "Apply to read a conditionally open entry. The provider org answers "
      "within 10 working days.",
      "",
      "provcat open request licences --applicant 'Ada Lovelace' --data-type "
      "'licence records' --description 'licences issued in 2026' --purpose "
      "research" },
    { "open decide", cli_open_decide, "ID approve|reject [--reason R]",
      "Decide an open request (a provider of the entry's org).",
      "  --reason R   why (required to reject)\n",
      "provcat open decide or-1301 approve --reason 'public interest'" },
    { "open list", cli_open_list,
      "[--status S] [--overdue true|false] [--entry E]",
      "List the open requests you may see, with their due dates.",
      "  --status S         pending, approved or rejected\n"
      "  --overdue true     pending and past their due date\n",
      "provcat open list --overdue true" },
    { "open get", cli_open_get, "ID",
      "Show an open request, its due date as now derived.", "",
      "provcat open get or-1301" },
    { "calendar get", cli_calendar_get, "YEAR",
      "A year's holidays and make-up working days (anyone).", "",
      "provcat calendar get 2027" },
    { "calendar set", cli_calendar_set,
      "YEAR [--holidays D1,D2] [--workdays D1,D2] | -f CALENDAR.json",
      "Replace a year's calendar (the provincial authority). Due dates of "
      "pending open requests follow.",
      "  --holidays D1,D2   days off (YYYY-MM-DD)\n"
      "  --workdays D1,D2   weekend days that are make-up working days\n"
      "  -f FILE            {\"holidays\": [...], \"workdays\": [...]}\n",
      "provcat calendar set 2027 --holidays 2027-01-01,2027-02-05 --workdays "
      "2027-02-13" },
    { "objection file", cli_objection_file,
      "ENTRY/KEY --kind K --description D",
      "Object to a record (any principal).",
      "  --kind K   error, omission, personal_information or trade_secret\n",
      "provcat objection file licences/L-0001 --kind error --description "
      "'the name is misspelt'" },
    { "objection decide", cli_objection_decide, "ID accept|reject --reason R",
      "Accept or reject an open objection (the authority in scope). An "
      "accepted one waits for a correction naming it.",
      "", "provcat objection decide ob-1402 accept --reason 'checked'" },
    { "objection list", cli_objection_list,
      "[--status S] [--kind K] [--entry E]",
      "List the objections you may see, oldest first.",
      "  --status S   open, accepted, rejected or resolved\n",
      "provcat objection list --status accepted" },
    { "objection get", cli_objection_get, "ID", "Show an objection.", "",
      "provcat objection get ob-1402" },
    { "redact", cli_redact, "ENTRY/KEY VERSION --objection ID --reason R",
      "Remove a version's document for good (the authority). It names an "
      "accepted personal_information or trade_secret objection on the "
      "record; the version's hashes stay.",
      "",
      "provcat redact licences/L-0001 1 --objection ob-1402 --reason "
      "'personal information'" },
    { "redactions", cli_redactions, "",
      "List every redaction, oldest first. For operators, auditors and the "
      "provincial authority: what a restore of an older backup takes.",
      "", "provcat -o json redactions" },
    { "backup", cli_backup, "FILE",
      "Write a consistent backup of the whole ledger to FILE (role "
      "operator), with progress on a terminal.",
      "", "provcat backup /backups/provcat-$(date +%F).snap" },
    { "verify-backup", cli_verify_backup, "FILE",
      "Check a backup offline: every checksum, fact, chain and the root, "
      "the check a restore makes first.",
      "", "provcat verify-backup /backups/provcat-2026-12-01.snap" },
    { "ledger root", cmd_ledger_root, "[--tree-size N]",
      "The ledger's revision and Merkle root (or the root at size N).", "",
      "provcat ledger root" },
    { "ledger proof", cmd_ledger_proof, "REVISION [--tree-size N]",
      "The inclusion proof of the fact at REVISION, checked against the "
      "root.",
      "", "provcat ledger proof 1207" },
    { "ledger consistency", cmd_ledger_consistency, "FROM TO",
      "The consistency proof between two tree sizes, checked.", "",
      "provcat ledger consistency 1000 1207" },
    { "ledger facts", cli_ledger_facts, "[--from R] [--limit N]",
      "The ledger's facts in revision order. For operators, auditors and "
      "the provincial authority.",
      "  --from R    the first revision (default 1)\n"
      "  --limit N   at most N facts (default all)\n",
      "provcat ledger facts --from 1200 --limit 20" },
    { "ledger verify", cmd_ledger_verify, "[ENTRY/KEY [--version N]]",
      "Check that the ledger extends the root trusted in --state-file (and "
      "keep the new one); with a record, also check its content hash and "
      "inclusion.",
      "",
      "provcat --state-file ~/.provcat-root ledger verify licences/L-0001" },
    { "request", cmd_request, "METHOD PATH [-f BODY.json]",
      "Any API call, with the client's leader finding and retries (for "
      "routes without a command yet).",
      "", "provcat request GET /v1/lists/open" },
    { NULL, NULL, NULL, NULL, NULL, NULL },
};

static void
usage_all(FILE *f)
{
    fprintf(f, "usage: provcat [--endpoints URLS] [--token-file F] "
               "[-o table|json]\n"
               "               [--timeout MS] [--state-file F] [--stale] "
               "COMMAND ...\n\n"
               "  --endpoints URLS   comma-separated node URLs "
               "($PROVCAT_ENDPOINTS)\n"
               "  --token-file F     the token's file ($PROVCAT_TOKEN_FILE; "
               "else $PROVCAT_TOKEN)\n"
               "  -o table|json      output for people (default) or scripts\n"
               "  --timeout MS       bound on each call, retries included "
               "(default 10000)\n"
               "  --state-file F     keep the trusted ledger root in F\n"
               "  --stale            read from any node (consistency=stale)\n\n"
               "commands:\n");
    for (const struct cli_cmd *c = commands; c->name != NULL; c++) {
        /* The summary's first sentence. */
        const char *dot = strstr(c->summary, ". ");
        int len =
            dot != NULL ? (int)(dot - c->summary + 1) : (int)strlen(c->summary);

        fprintf(f, "  %-20s %.*s\n", c->name, len, c->summary);
    }
    fprintf(f, "\nprovcat COMMAND --help shows a command's options and an "
               "example.\nExit status: 0 done, 1 the operation failed, 2 "
               "usage.\n");
}

int
main(int argc, char **argv)
{
    struct cli g = { 0 };
    int i = 1, rc;

    g.endpoints = NULL;
    for (; i < argc && argv[i][0] == '-'; i++) {
        const char *a = argv[i];
        const char **dst = NULL;

        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage_all(stdout);
            return CLI_OK;
        }
        if (strcmp(a, "--version") == 0) {
            printf("provcat %s\n", PROVCAT_VERSION);
            return CLI_OK;
        }
        if (strcmp(a, "--stale") == 0) {
            g.stale = true;
            continue;
        }
        const char *v = NULL;
        const char *eq = strchr(a, '=');
        size_t nlen = eq != NULL ? (size_t)(eq - a) : strlen(a);

        if (eq != NULL) {
            v = eq + 1;
        } else if (i + 1 < argc) {
            v = argv[i + 1];
        }
#define OPT(s) (nlen == strlen(s) && strncmp(a, s, nlen) == 0)
        if (OPT("--endpoints")) {
            dst = &g.endpoints;
        } else if (OPT("--token-file")) {
            dst = &g.token_file;
        } else if (OPT("--state-file")) {
            dst = &g.state_file;
        } else if (OPT("-o") || OPT("--output")) {
            if (v == NULL ||
                (strcmp(v, "json") != 0 && strcmp(v, "table") != 0)) {
                return cli_usage(&g, "-o takes table or json");
            }
            g.json = strcmp(v, "json") == 0;
        } else if (OPT("--timeout")) {
            uint64_t ms;

            if (v == NULL || !cli_u64(v, 0, &ms)) {
                return cli_usage(&g, "--timeout takes milliseconds");
            }
            g.timeout_ms = (long)ms;
            g.timeout_set = true;
        } else {
            return cli_usage(&g, "unknown option '%s'", a);
        }
#undef OPT
        if (v == NULL) {
            return cli_usage(&g, "%s needs a value", a);
        }
        if (dst != NULL) {
            *dst = v;
        }
        if (eq == NULL) {
            i++;
        }
    }
    if (i >= argc) {
        usage_all(stderr);
        return CLI_USAGE;
    }
    if (g.state_file == NULL) {
        g.state_file = getenv("PROVCAT_STATE_FILE");
    }
    /* Two-word commands first ("catalog create"), then one word. */
    for (const struct cli_cmd *c = commands; c->name != NULL; c++) {
        size_t l1 = strlen(argv[i]);
        bool two = i + 1 < argc && strncmp(c->name, argv[i], l1) == 0 &&
                   c->name[l1] == ' ' &&
                   strcmp(c->name + l1 + 1, argv[i + 1]) == 0;

        if (two || strcmp(c->name, argv[i]) == 0) {
            int skip = two ? 2 : 1;

            g.cmd = c;
            rc = c->fn(&g, argc - i - skip, argv + i + skip);
            provcat_close(g.c);
            return rc;
        }
    }
    /* A known group with a missing or unknown second word. */
    for (const struct cli_cmd *c = commands; c->name != NULL; c++) {
        size_t l1 = strlen(argv[i]);

        if (strncmp(c->name, argv[i], l1) == 0 && c->name[l1] == ' ') {
            fprintf(stderr, "provcat: '%s' needs one of:", argv[i]);
            for (const struct cli_cmd *d = commands; d->name != NULL; d++) {
                if (strncmp(d->name, argv[i], l1) == 0 && d->name[l1] == ' ') {
                    fprintf(stderr, " %s", d->name + l1 + 1);
                }
            }
            fputc('\n', stderr);
            return CLI_USAGE;
        }
    }
    return cli_usage(&g, "unknown command '%s'", argv[i]);
}
