/* SPDX-License-Identifier: MIT */
/*
 * The provcat CLI's workflow commands (docs/cli.md): share requests and
 * grants, the public lists, open requests and the calendar, objections and
 * redaction, and the ledger's facts. Each is one library call: -o json
 * prints the server's JSON (a list as one array of its items), the table
 * output a "member: value" block per object or aligned columns per list.
 */
#include "client/cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* "a,b,c" as a NULL-terminated array of copies (free with strv_free);
 * NULL for NULL. */
static char **
split_csv(const char *s)
{
    size_t n = 1, i = 0;
    char **v, *copy, *save = NULL;

    if (s == NULL) {
        return NULL;
    }
    for (const char *p = s; *p != '\0'; p++) {
        n += *p == ',';
    }
    v = calloc(n + 1, sizeof(*v));
    copy = strdup(s);
    if (v == NULL || copy == NULL) {
        free(v);
        free(copy);
        return NULL;
    }
    for (char *t = strtok_r(copy, ",", &save); t != NULL && i < n;
         t = strtok_r(NULL, ",", &save)) {
        v[i++] = strdup(t);
    }
    free(copy);
    return v;
}

static void
strv_free(char **v)
{
    for (size_t i = 0; v != NULL && v[i] != NULL; i++) {
        free(v[i]);
    }
    free(v);
}

/* An id and a decision among `a` and `b`, with --reason. */
static int
parse_decision(struct cli *g, int argc, char **argv, struct cli_opt *o,
               char **pos, const char *a, const char *b)
{
    int rc = CLI_OK;

    if (cli_parse(g, argc, argv, o, pos, 2, 2, &rc) < 0) {
        return rc;
    }
    if (strcmp(pos[1], a) != 0 && strcmp(pos[1], b) != 0) {
        return cli_usage(g, "the decision is %s or %s", a, b);
    }
    return -1;
}

/* ---- share requests -------------------------------------------------------
 */

int
cli_share_request(struct cli *g, int argc, char **argv)
{
    struct cli_opt o[] = { { "--purpose", NULL, true, false, NULL },
                           { "--days", NULL, true, false, NULL },
                           { "--fields", NULL, true, false, NULL },
                           { NULL, NULL, false, false, NULL } };
    struct provcat_share_request *r;
    struct provcat *c;
    char *pos[1], **fields;
    uint64_t days;
    int rc = CLI_OK;

    if (cli_parse(g, argc, argv, o, pos, 1, 1, &rc) < 0) {
        return rc;
    }
    if (!o[0].set || o[0].val[0] == '\0' || !o[1].set ||
        !cli_u64(o[1].val, 1, &days)) {
        return cli_usage(g, "--purpose P and --days N (N >= 1) are required");
    }
    if ((c = cli_client(g, &rc)) == NULL) {
        return rc;
    }
    fields = split_csv(o[2].val);
    rc = provcat_share_request_create(c, pos[0], o[0].val,
                                      (const char *const *)fields, days, &r);
    strv_free(fields);
    if (rc != PROVCAT_OK) {
        return cli_fail(g);
    }
    cli_print_object(g, r->json);
    provcat_share_request_free(r);
    return CLI_OK;
}

int
cli_share_decide(struct cli *g, int argc, char **argv)
{
    struct cli_opt o[] = { { "--reason", NULL, true, false, NULL },
                           { NULL, NULL, false, false, NULL } };
    struct provcat_share_request *r;
    struct provcat *c;
    char *pos[2];
    int rc;

    if ((rc = parse_decision(g, argc, argv, o, pos, "approve", "reject")) >=
        0) {
        return rc;
    }
    if ((c = cli_client(g, &rc)) == NULL) {
        return rc;
    }
    if (provcat_share_request_decide(c, pos[0], pos[1], o[0].val, &r) !=
        PROVCAT_OK) {
        return cli_fail(g);
    }
    cli_print_object(g, r->json);
    provcat_share_request_free(r);
    return CLI_OK;
}

int
cli_share_get(struct cli *g, int argc, char **argv)
{
    struct provcat_share_request *r;
    struct provcat *c;
    char *id;
    int rc = CLI_OK;

    if ((c = cli_start(g, argc, argv, &id, &rc)) == NULL) {
        return rc;
    }
    if (provcat_share_request_get(c, id, &r) != PROVCAT_OK) {
        return cli_fail(g);
    }
    cli_print_object(g, r->json);
    provcat_share_request_free(r);
    return CLI_OK;
}

int
cli_share_list(struct cli *g, int argc, char **argv)
{
    static const char *const filters[] = { "--status", "--entry", "--org",
                                           NULL };
    static const char *const cols[] = {
        "id", "status", "entry", "org", "days", "fields", "requester", "grant"
    };
    static const char *const hdr[] = { "ID",   "STATUS", "ENTRY",     "ORG",
                                       "DAYS", "FIELDS", "REQUESTER", "GRANT" };
    static const struct cli_list l = { .filters = filters,
                                       .list = provcat_share_requests_list,
                                       .cols = cols,
                                       .hdr = hdr,
                                       .n_cols = 8 };

    return cli_list(g, argc, argv, &l);
}

/* ---- grants
 * ------------------------------------------------------------------ */

int
cli_grants_list(struct cli *g, int argc, char **argv)
{
    static const char *const filters[] = { "--status", "--entry", "--org",
                                           NULL };
    static const char *const cols[] = { "id",      "status", "entry",  "org",
                                        "ends_at", "fields", "request" };
    static const char *const hdr[] = { "ID",      "STATUS", "ENTRY",  "ORG",
                                       "ENDS_AT", "FIELDS", "REQUEST" };
    static const struct cli_list l = { .filters = filters,
                                       .list = provcat_grants_list,
                                       .cols = cols,
                                       .hdr = hdr,
                                       .n_cols = 7 };

    return cli_list(g, argc, argv, &l);
}

int
cli_grants_get(struct cli *g, int argc, char **argv)
{
    struct provcat_grant *gr;
    struct provcat *c;
    char *id;
    int rc = CLI_OK;

    if ((c = cli_start(g, argc, argv, &id, &rc)) == NULL) {
        return rc;
    }
    if (provcat_grant_get(c, id, &gr) != PROVCAT_OK) {
        return cli_fail(g);
    }
    cli_print_object(g, gr->json);
    provcat_grant_free(gr);
    return CLI_OK;
}

int
cli_grants_revoke(struct cli *g, int argc, char **argv)
{
    struct cli_opt o[] = { { "--reason", NULL, true, false, NULL },
                           { NULL, NULL, false, false, NULL } };
    struct provcat_grant *gr;
    struct provcat *c;
    char *pos[1];
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
    if (provcat_grant_revoke(c, pos[0], o[0].val, &gr) != PROVCAT_OK) {
        return cli_fail(g);
    }
    cli_print_object(g, gr->json);
    provcat_grant_free(gr);
    return CLI_OK;
}

/* ---- the public lists -------------------------------------------------------
 */

/* The filters of the public lists. */
static const char *const by_provider[] = { "--provider", NULL };
static const char *const by_provider_entry[] = { "--provider", "--entry",
                                                 NULL };

int
cli_lists_responsibility(struct cli *g, int argc, char **argv)
{
    static const char *const cols[] = {
        "id",          "provider",   "theme", "scope", "update_frequency",
        "share.class", "open.class", "title"
    };
    static const char *const hdr[] = { "ID",    "PROVIDER", "THEME", "SCOPE",
                                       "EVERY", "SHARE",    "OPEN",  "TITLE" };
    static const struct cli_list l = { .filters = by_provider,
                                       .kind = PROVCAT_LIST_RESPONSIBILITY,
                                       .cols = cols,
                                       .hdr = hdr,
                                       .n_cols = 8 };

    return cli_list(g, argc, argv, &l);
}

int
cli_lists_demand(struct cli *g, int argc, char **argv)
{
    static const char *const cols[] = { "entry",
                                        "provider",
                                        "total",
                                        "requests.pending_provider",
                                        "requests.pending_authority",
                                        "requests.approved",
                                        "requests.rejected",
                                        "grants_active",
                                        "orgs" };
    static const char *const hdr[] = { "ENTRY",     "PROVIDER",   "TOTAL",
                                       "PROVIDER?", "AUTHORITY?", "APPROVED",
                                       "REJECTED",  "GRANTS",     "ORGS" };
    static const struct cli_list l = { .filters = by_provider_entry,
                                       .kind = PROVCAT_LIST_DEMAND,
                                       .cols = cols,
                                       .hdr = hdr,
                                       .n_cols = 9 };

    return cli_list(g, argc, argv, &l);
}

int
cli_lists_negative(struct cli *g, int argc, char **argv)
{
    static const char *const cols[] = { "id", "provider", "basis", "conditions",
                                        "title" };
    static const char *const hdr[] = { "ID", "PROVIDER", "BASIS", "CONDITIONS",
                                       "TITLE" };
    static const struct cli_list l = { .filters = by_provider,
                                       .kind = PROVCAT_LIST_NEGATIVE,
                                       .cols = cols,
                                       .hdr = hdr,
                                       .n_cols = 5 };

    return cli_list(g, argc, argv, &l);
}

int
cli_lists_open(struct cli *g, int argc, char **argv)
{
    static const char *const cols[] = {
        "id",   "provider", "open.class", "open.conditions", "update_frequency",
        "title"
    };
    static const char *const hdr[] = { "ID",         "PROVIDER", "OPEN",
                                       "CONDITIONS", "EVERY",    "TITLE" };
    static const struct cli_list l = { .filters = by_provider,
                                       .kind = PROVCAT_LIST_OPEN,
                                       .cols = cols,
                                       .hdr = hdr,
                                       .n_cols = 6 };

    return cli_list(g, argc, argv, &l);
}

/* ---- open requests ----------------------------------------------------------
 */

int
cli_open_request(struct cli *g, int argc, char **argv)
{
    struct cli_opt o[] = { { "--applicant", NULL, true, false, NULL },
                           { "--data-type", NULL, true, false, NULL },
                           { "--description", NULL, true, false, NULL },
                           { "--purpose", NULL, true, false, NULL },
                           { NULL, NULL, false, false, NULL } };
    struct provcat_open_request *r;
    struct provcat *c;
    char *pos[1];
    int rc = CLI_OK;

    if (cli_parse(g, argc, argv, o, pos, 1, 1, &rc) < 0) {
        return rc;
    }
    for (int i = 0; i < 4; i++) {
        if (!cli_given(&o[i])) {
            return cli_usage(g, "%s is required", o[i].name);
        }
    }
    if ((c = cli_client(g, &rc)) == NULL) {
        return rc;
    }
    if (provcat_open_request_create(c, pos[0], o[0].val, o[1].val, o[2].val,
                                    o[3].val, &r) != PROVCAT_OK) {
        return cli_fail(g);
    }
    cli_print_object(g, r->json);
    provcat_open_request_free(r);
    return CLI_OK;
}

int
cli_open_decide(struct cli *g, int argc, char **argv)
{
    struct cli_opt o[] = { { "--reason", NULL, true, false, NULL },
                           { NULL, NULL, false, false, NULL } };
    struct provcat_open_request *r;
    struct provcat *c;
    char *pos[2];
    int rc;

    if ((rc = parse_decision(g, argc, argv, o, pos, "approve", "reject")) >=
        0) {
        return rc;
    }
    if ((c = cli_client(g, &rc)) == NULL) {
        return rc;
    }
    if (provcat_open_request_decide(c, pos[0], pos[1], o[0].val, &r) !=
        PROVCAT_OK) {
        return cli_fail(g);
    }
    cli_print_object(g, r->json);
    provcat_open_request_free(r);
    return CLI_OK;
}

int
cli_open_get(struct cli *g, int argc, char **argv)
{
    struct provcat_open_request *r;
    struct provcat *c;
    char *id;
    int rc = CLI_OK;

    if ((c = cli_start(g, argc, argv, &id, &rc)) == NULL) {
        return rc;
    }
    if (provcat_open_request_get(c, id, &r) != PROVCAT_OK) {
        return cli_fail(g);
    }
    cli_print_object(g, r->json);
    provcat_open_request_free(r);
    return CLI_OK;
}

int
cli_open_list(struct cli *g, int argc, char **argv)
{
    static const char *const filters[] = { "--status", "--overdue", "--entry",
                                           NULL };
    static const char *const cols[] = { "id",        "status", "entry",
                                        "requester", "due",    "overdue",
                                        "applicant" };
    static const char *const hdr[] = { "ID",        "STATUS", "ENTRY",
                                       "REQUESTER", "DUE",    "OVERDUE",
                                       "APPLICANT" };
    static const struct cli_list l = { .filters = filters,
                                       .boolean = "--overdue",
                                       .list = provcat_open_requests_list,
                                       .cols = cols,
                                       .hdr = hdr,
                                       .n_cols = 7 };

    return cli_list(g, argc, argv, &l);
}

/* ---- the calendar
 * ------------------------------------------------------------ */

/* A year of four digits. */
static bool
year_of(const char *s, unsigned *year)
{
    uint64_t y;

    if (strlen(s) != 4 || !cli_u64(s, 1000, &y)) {
        return false;
    }
    *year = (unsigned)y;
    return true;
}

int
cli_calendar_get(struct cli *g, int argc, char **argv)
{
    struct provcat_calendar *cal;
    struct provcat *c;
    char *pos[1];
    unsigned year;
    int rc = CLI_OK;

    if (cli_parse(g, argc, argv, NULL, pos, 1, 1, &rc) < 0) {
        return rc;
    }
    if (!year_of(pos[0], &year)) {
        return cli_usage(g, "'%s' is not a year", pos[0]);
    }
    if ((c = cli_client(g, &rc)) == NULL) {
        return rc;
    }
    if (provcat_calendar_get(c, year, &cal) != PROVCAT_OK) {
        return cli_fail(g);
    }
    cli_print_object(g, cal->json);
    provcat_calendar_free(cal);
    return CLI_OK;
}

/* The date lists of a calendar file {"holidays": [...], "workdays": [...]}
 * into `hol` and `work`; false after printing why. */
static bool
calendar_file(struct cli *g, const char *file, char ***hol, char ***work,
              int *rc)
{
    char *text = cli_read_doc(g, file, rc);
    json_error_t e;
    json_t *o;
    char **lists[2] = { NULL, NULL };
    static const char *names[] = { "holidays", "workdays" };

    if (text == NULL) {
        return false;
    }
    o = json_loads(text, 0, &e);
    free(text);
    if (!json_is_object(o)) {
        json_decref(o);
        *rc = cli_failf("calendar '%s': not a JSON object: %s", file, e.text);
        return false;
    }
    for (int k = 0; k < 2; k++) {
        json_t *a = json_object_get(o, names[k]), *x;
        size_t i;

        if (a == NULL) {
            continue;
        }
        if (!json_is_array(a)) {
            json_decref(o);
            strv_free(lists[0]);
            *rc = cli_failf("calendar '%s': \"%s\" is not a list of dates",
                            file, names[k]);
            return false;
        }
        lists[k] = calloc(json_array_size(a) + 1, sizeof(char *));
        if (lists[k] == NULL) {
            json_decref(o);
            strv_free(lists[0]);
            *rc = cli_failf("out of memory");
            return false;
        }
        json_array_foreach(a, i, x)
        {
            /* A non-string goes as "" and the server names it. */
            lists[k][i] = strdup(json_is_string(x) ? json_string_value(x) : "");
        }
    }
    json_decref(o);
    *hol = lists[0];
    *work = lists[1];
    return true;
}

int
cli_calendar_set(struct cli *g, int argc, char **argv)
{
    struct cli_opt o[] = { { "--holidays", NULL, true, false, NULL },
                           { "--workdays", NULL, true, false, NULL },
                           { "--file", "-f", true, false, NULL },
                           { NULL, NULL, false, false, NULL } };
    struct provcat_calendar *cal;
    struct provcat *c;
    char *pos[1], **hol = NULL, **work = NULL;
    unsigned year;
    int rc = CLI_OK;

    if (cli_parse(g, argc, argv, o, pos, 1, 1, &rc) < 0) {
        return rc;
    }
    if (!year_of(pos[0], &year)) {
        return cli_usage(g, "'%s' is not a year", pos[0]);
    }
    if (o[2].set && (o[0].set || o[1].set)) {
        return cli_usage(g, "-f FILE, or --holidays and --workdays");
    }
    if (o[2].set) {
        if (!calendar_file(g, o[2].val, &hol, &work, &rc)) {
            return rc;
        }
    } else {
        hol = split_csv(o[0].val);
        work = split_csv(o[1].val);
    }
    if ((c = cli_client(g, &rc)) == NULL) {
        strv_free(hol);
        strv_free(work);
        return rc;
    }
    rc = provcat_calendar_put(c, year, (const char *const *)hol,
                              (const char *const *)work, &cal);
    strv_free(hol);
    strv_free(work);
    if (rc != PROVCAT_OK) {
        return cli_fail(g);
    }
    cli_print_object(g, cal->json);
    provcat_calendar_free(cal);
    return CLI_OK;
}

/* ---- objections -------------------------------------------------------------
 */

int
cli_objection_file(struct cli *g, int argc, char **argv)
{
    struct cli_opt o[] = { { "--kind", NULL, true, false, NULL },
                           { "--description", NULL, true, false, NULL },
                           { NULL, NULL, false, false, NULL } };
    struct provcat_objection *ob;
    const char *entry, *key;
    struct provcat *c;
    int rc = CLI_OK;

    if (!cli_parse_record(g, argc, argv, o, &entry, &key, &rc)) {
        return rc;
    }
    if (!o[0].set || !cli_given(&o[1])) {
        return cli_usage(g, "--kind K and --description D are required");
    }
    if ((c = cli_client(g, &rc)) == NULL) {
        return rc;
    }
    if (provcat_objection_file(c, entry, key, o[0].val, o[1].val, &ob) !=
        PROVCAT_OK) {
        return cli_fail(g);
    }
    cli_print_object(g, ob->json);
    provcat_objection_free(ob);
    return CLI_OK;
}

int
cli_objection_decide(struct cli *g, int argc, char **argv)
{
    struct cli_opt o[] = { { "--reason", NULL, true, false, NULL },
                           { NULL, NULL, false, false, NULL } };
    struct provcat_objection *ob;
    struct provcat *c;
    char *pos[2];
    int rc;

    if ((rc = parse_decision(g, argc, argv, o, pos, "accept", "reject")) >= 0) {
        return rc;
    }
    if (!cli_given(&o[0])) {
        return cli_usage(g, "--reason is required");
    }
    if ((c = cli_client(g, &rc)) == NULL) {
        return rc;
    }
    if (provcat_objection_decide(c, pos[0], pos[1], o[0].val, &ob) !=
        PROVCAT_OK) {
        return cli_fail(g);
    }
    cli_print_object(g, ob->json);
    provcat_objection_free(ob);
    return CLI_OK;
}

int
cli_objection_get(struct cli *g, int argc, char **argv)
{
    struct provcat_objection *ob;
    struct provcat *c;
    char *id;
    int rc = CLI_OK;

    if ((c = cli_start(g, argc, argv, &id, &rc)) == NULL) {
        return rc;
    }
    if (provcat_objection_get(c, id, &ob) != PROVCAT_OK) {
        return cli_fail(g);
    }
    cli_print_object(g, ob->json);
    provcat_objection_free(ob);
    return CLI_OK;
}

int
cli_objection_list(struct cli *g, int argc, char **argv)
{
    static const char *const filters[] = { "--status", "--kind", "--entry",
                                           NULL };
    static const char *const cols[] = { "id",    "status", "kind",
                                        "entry", "key",    "filer" };
    static const char *const hdr[] = { "ID",    "STATUS", "KIND",
                                       "ENTRY", "KEY",    "FILER" };
    static const struct cli_list l = { .filters = filters,
                                       .list = provcat_objections_list,
                                       .cols = cols,
                                       .hdr = hdr,
                                       .n_cols = 6 };

    return cli_list(g, argc, argv, &l);
}

/* ---- redaction
 * ------------------------------------------------------------------ */

int
cli_redact(struct cli *g, int argc, char **argv)
{
    struct cli_opt o[] = { { "--objection", NULL, true, false, NULL },
                           { "--reason", NULL, true, false, NULL },
                           { NULL, NULL, false, false, NULL } };
    struct provcat_redaction *r;
    const char *entry, *key;
    struct provcat *c;
    char *pos[3];
    uint64_t version;
    int rc = CLI_OK, n;

    if ((n = cli_parse(g, argc, argv, o, pos, 2, 3, &rc)) < 0) {
        return rc;
    }
    if (!cli_entry_key(pos, n - 1, &entry, &key)) {
        return cli_usage(g, "name the record as ENTRY/KEY");
    }
    if (!cli_u64(pos[n - 1], 1, &version)) {
        return cli_usage(g, "'%s' is not a version (>= 1)", pos[n - 1]);
    }
    if (!o[0].set || !o[1].set || o[1].val[0] == '\0') {
        return cli_usage(g, "--objection ID and --reason R are required");
    }
    if ((c = cli_client(g, &rc)) == NULL) {
        return rc;
    }
    if (provcat_record_redact(c, entry, key, version, o[0].val, o[1].val, &r) !=
        PROVCAT_OK) {
        return cli_fail(g);
    }
    cli_print_object(g, r->json);
    provcat_redaction_free(r);
    return CLI_OK;
}

int
cli_redactions(struct cli *g, int argc, char **argv)
{
    static const char *cols[] = { "entry",     "key",      "version",
                                  "objection", "revision", "reason" };
    static const char *hdr[] = { "ENTRY",     "KEY",      "VERSION",
                                 "OBJECTION", "REVISION", "REASON" };
    struct provcat_iter *it;
    struct provcat *c;
    int rc = CLI_OK;

    if ((c = cli_start(g, argc, argv, NULL, &rc)) == NULL) {
        return rc;
    }
    if (provcat_redactions_list(c, &it) != PROVCAT_OK) {
        return cli_fail(g);
    }
    return cli_print_list(g, it, cols, hdr, 6);
}

/* ---- the ledger's facts ----------------------------------------------------
 */

int
cli_ledger_facts(struct cli *g, int argc, char **argv)
{
    struct cli_opt o[] = { { "--from", NULL, true, false, NULL },
                           { "--limit", NULL, true, false, NULL },
                           { NULL, NULL, false, false, NULL } };
    static const char *cols[] = { "revision", "kind", "at",     "principal",
                                  "parent",   "id",   "version" };
    static const char *hdr[] = { "REVISION", "KIND", "AT",     "PRINCIPAL",
                                 "PARENT",   "ID",   "VERSION" };
    struct provcat_iter *it;
    struct provcat *c;
    uint64_t from = 1, limit = 0;
    int rc = CLI_OK;

    if (cli_parse(g, argc, argv, o, NULL, 0, 0, &rc) < 0) {
        return rc;
    }
    if ((o[0].set && !cli_u64(o[0].val, 1, &from)) ||
        (o[1].set && !cli_u64(o[1].val, 1, &limit))) {
        return cli_usage(g, "--from R and --limit N are numbers >= 1");
    }
    if ((c = cli_client(g, &rc)) == NULL) {
        return rc;
    }
    if (provcat_ledger_facts(c, from, &it) != PROVCAT_OK) {
        return cli_fail(g);
    }
    return cli_print_list_max(g, it, cols, hdr, 7, limit);
}
