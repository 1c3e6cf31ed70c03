/* SPDX-License-Identifier: MIT */
/*
 * Open-data routes (articles 22-23): open requests and their decisions
 * (decided in apply: node/fsm/rules_open.c), their listing for the
 * requester, the provider org and the authority, and the working-day
 * calendars; also the --holidays file a founder reads at start-up for
 * genesis. Answers are a request's latest version with its due date as
 * now derived (a pending request's moves with the calendars) and whether
 * it is overdue at ledger time.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/err.h"
#include "common/timefmt.h"
#include "node/api/api_int.h"
#include "storage/led.h"

#define HOLIDAYS_MAX_BYTES (1u << 20)

/* ---- the --holidays file ---------------------------------------------- */

int
api_holidays_load(const char *path, char **out, char *errmsg)
{
    char em[PC_ERRMSG_SIZE];
    struct pc_buf text, canon;
    FILE *fp;
    size_t got;
    int rc;

    fp = fopen(path, "rb");
    if (fp == NULL) {
        return pc_errmsgf(errmsg, PC_EINVAL, "--holidays '%s': %s", path,
                          strerror(errno));
    }
    pc_buf_init(&text);
    pc_buf_init(&canon);
    rc = pc_buf_reserve(&text, HOLIDAYS_MAX_BYTES + 1);
    if (rc != PC_OK) {
        fclose(fp);
        return pc_errmsgf(errmsg, rc, "out of memory");
    }
    got = fread(text.data, 1, HOLIDAYS_MAX_BYTES + 1, fp);
    if (ferror(fp)) {
        rc = pc_errmsgf(errmsg, PC_EINVAL, "--holidays '%s': %s", path,
                        strerror(errno));
    } else if (got > HOLIDAYS_MAX_BYTES) {
        rc = pc_errmsgf(errmsg, PC_EINVAL,
                        "--holidays '%s': larger than %u bytes", path,
                        HOLIDAYS_MAX_BYTES);
    } else {
        rc = fsm_holidays_check(text.data, got, &canon, em);
        if (rc == PC_EINVAL) {
            pc_errmsgf(errmsg, rc, "--holidays '%s': %s", path, em);
        } else if (rc != PC_OK) {
            pc_errmsgf(errmsg, rc, "out of memory");
        } else if (pc_buf_put_u8(&canon, 0) != PC_OK) {
            rc = pc_errmsgf(errmsg, PC_ENOMEM, "out of memory");
        }
    }
    fclose(fp);
    pc_buf_release(&text);
    if (rc != PC_OK) {
        pc_buf_release(&canon);
        return rc;
    }
    *out = (char *)canon.data; /* pc_free it */
    return PC_OK;
}

/* ---- answers ---------------------------------------------------------- */

/*
 * The object of fact `rev` (a request's version) with its meta; when `r`
 * is given, the due date as now derived and "overdue" at ledger time.
 * NULL when the fact cannot be read.
 */
static json_t *
request_json(struct node *n, uint64_t rev, const struct fsm_open_request *r)
{
    json_t *o = api_fact_object(n, rev);
    char day[CAL_DATE_LEN + 1], t[PC_TIME_STR_LEN];

    if (o == NULL) {
        return NULL;
    }
    if (r != NULL) {
        cal_format_day(day, r->due.day);
        pc_time_format(t, r->due.at_ms);
        json_object_set_new(o, "due", json_string(day));
        json_object_set_new(o, "due_at", json_string(t));
        json_object_set_new(o, "calendar_provisional",
                            json_boolean(r->due.provisional));
        json_object_set_new(
            o, "overdue",
            json_boolean(fsm_open_overdue(r, led_time(fsm_led(n->fsm)))));
    } else {
        json_object_set_new(o, "overdue", json_false());
    }
    return o;
}

/* A command's answer: the version it appended (so a replay answers the
 * same). */
static void
request_done(struct node *n, struct http_request *req,
             const struct fsm_result *res, void *ctx)
{
    json_t *o = request_json(n, res->first_rev, NULL);

    (void)ctx;
    if (o == NULL) {
        api_error(n, req, 500, "internal", "fact unreadable");
        return;
    }
    api_json(n, req, res->status, o);
}

/* ---- open requests ---------------------------------------------------- */

bool
api_open_create_parse(struct node *n, struct http_request *req)
{
    return api_body_valid(n, req, fsm_open_request_body_valid);
}

void
api_open_create(struct node *n, struct http_request *req)
{
    api_propose(n, req, CMD_OPEN_REQUEST, NULL, true, NULL, request_done, NULL);
}

static bool
id_ok(struct node *n, struct http_request *req)
{
    if (!fsm_open_id_valid(req->caps[0], strlen(req->caps[0]))) {
        api_bad_field(n, req, "id", "an open request id is \"or-<number>\"");
        return false;
    }
    return true;
}

bool
api_open_decide_parse(struct node *n, struct http_request *req)
{
    return id_ok(n, req) && api_body_valid(n, req, fsm_open_decide_body_valid);
}

void
api_open_decide(struct node *n, struct http_request *req)
{
    api_propose(n, req, CMD_OPEN_DECIDE, req->caps[0], true, NULL, request_done,
                NULL);
}

bool
api_open_get_parse(struct node *n, struct http_request *req)
{
    return id_ok(n, req);
}

void
api_open_get(struct node *n, struct http_request *req)
{
    const struct fsm_open_request *r = fsm_open_request(n->fsm, req->caps[0]);
    json_t *o;

    if (!fsm_open_request_visible(n->fsm, api_principal(n, req), r)) {
        api_error(n, req, 404, "not_found", "no open request \"%s\"",
                  req->caps[0]);
        return;
    }
    o = request_json(n, r->last_rev, r);
    if (o == NULL) {
        api_error(n, req, 500, "internal", "fact unreadable");
        return;
    }
    api_json(n, req, 200, o);
}

/* The listing's filters; false once answered 400. */
static bool
list_params(struct node *n, struct http_request *req,
            struct fsm_open_filter *flt, uint64_t *after, size_t *limit)
{
    const char *st = http_req_param(req, "status");
    const char *od = http_req_param(req, "overdue");
    const char *entry = http_req_param(req, "entry");
    const char *a = http_req_param(req, "after");

    flt->status = -1;
    flt->overdue = -1;
    flt->entry = NULL;
    *after = 0;
    if (!api_param_limit(n, req, limit)) {
        return false;
    }
    if (st != NULL) {
        for (int s = FSM_OPEN_PENDING; s <= FSM_OPEN_REJECTED; s++) {
            if (strcmp(st, fsm_open_status_name(s)) == 0) {
                flt->status = s;
            }
        }
        if (flt->status < 0) {
            api_bad_field(n, req, "status",
                          "status must be pending, approved or rejected");
            return false;
        }
    }
    if (od != NULL) {
        if (strcmp(od, "true") != 0 && strcmp(od, "false") != 0) {
            api_bad_field(n, req, "overdue", "overdue must be true or false");
            return false;
        }
        flt->overdue = strcmp(od, "true") == 0;
    }
    if (entry != NULL) {
        if (!fsm_id_valid(entry, strlen(entry))) {
            api_bad_field(n, req, "entry", "entry must be a catalog entry id");
            return false;
        }
        flt->entry = entry;
    }
    if (a != NULL) {
        if (!fsm_open_id_valid(a, strlen(a))) {
            api_bad_field(n, req, "after",
                          "after must be the \"next\" of the previous page");
            return false;
        }
        *after = strtoull(a + 3, NULL, 10);
    }
    return true;
}

bool
api_open_list_parse(struct node *n, struct http_request *req)
{
    struct fsm_open_filter flt;
    uint64_t after;
    size_t limit;

    return list_params(n, req, &flt, &after, &limit);
}

void
api_open_list(struct node *n, struct http_request *req)
{
    const struct fsm_open_request **items;
    struct fsm_open_filter flt;
    uint64_t after;
    size_t limit, count;
    json_t *arr;
    bool more;

    if (!list_params(n, req, &flt, &after, &limit)) {
        return;
    }
    flt.at_ms = led_time(fsm_led(n->fsm));
    if (fsm_open_list(n->fsm, api_principal(n, req), &flt, after, limit, &items,
                      &count, &more) != PC_OK) {
        api_error(n, req, 503, "unavailable", "out of memory");
        return;
    }
    arr = json_array();
    for (size_t i = 0; arr != NULL && i < count; i++) {
        json_t *item = request_json(n, items[i]->last_rev, items[i]);

        if (item == NULL || json_array_append_new(arr, item) != 0) {
            json_decref(arr);
            arr = NULL;
        }
    }
    api_list(n, req, arr, more ? items[count - 1]->id : NULL);
    pc_free(items);
}

/* ---- calendars -------------------------------------------------------- */

static bool
year_ok(struct node *n, struct http_request *req, int32_t *year)
{
    if (!fsm_calendar_year_parse(req->caps[0], year)) {
        char msg[80];

        snprintf(msg, sizeof(msg), "the year must be 4 digits, %d-%d",
                 CAL_YEAR_MIN, CAL_YEAR_MAX);
        api_bad_field(n, req, "year", msg);
        return false;
    }
    return true;
}

/* A calendar answer: the fact's payload (or empty lists when none is
 * set) with the year and whether it is provisional. */
static json_t *
calendar_json(struct node *n, int32_t year, uint64_t rev)
{
    json_t *o = rev ? api_fact_object(n, rev)
                    : json_pack("{s:[], s:[], s:i}", "holidays", "workdays",
                                "version", 0);

    if (o == NULL) {
        return NULL;
    }
    json_object_set_new(o, "year", json_integer(year));
    json_object_set_new(o, "calendar_provisional", json_boolean(rev == 0));
    return o;
}

static void
calendar_done(struct node *n, struct http_request *req,
              const struct fsm_result *res, void *ctx)
{
    int32_t year = 0;
    json_t *o;

    (void)ctx;
    fsm_calendar_year_parse(req->caps[0], &year);
    o = calendar_json(n, year, res->first_rev);
    if (o == NULL) {
        api_error(n, req, 500, "internal", "fact unreadable");
        return;
    }
    api_json(n, req, 200, o);
}

bool
api_calendar_put_parse(struct node *n, struct http_request *req)
{
    char msg[200], field[FSM_FIELD_LEN];
    int32_t year;

    if (!year_ok(n, req, &year)) {
        return false;
    }
    if (!fsm_calendar_body_valid(year, req->body, req->body_len, msg, field)) {
        api_bad_field(n, req, field, msg);
        return false;
    }
    return true;
}

void
api_calendar_put(struct node *n, struct http_request *req)
{
    api_propose(n, req, CMD_CALENDAR_SET, req->caps[0], true, NULL,
                calendar_done, NULL);
}

bool
api_calendar_get_parse(struct node *n, struct http_request *req)
{
    int32_t year;

    return year_ok(n, req, &year);
}

void
api_calendar_get(struct node *n, struct http_request *req)
{
    const struct fsm_calendar *c;
    int32_t year = 0;
    json_t *o;

    fsm_calendar_year_parse(req->caps[0], &year);
    c = fsm_calendar(n->fsm, year);
    o = calendar_json(n, year, c == NULL ? 0 : c->rev);
    if (o == NULL) {
        api_error(n, req, 503, "unavailable", "out of memory");
        return;
    }
    if (c != NULL) {
        struct fact f;

        if (led_get(fsm_led(n->fsm), c->rev, &f) == PC_OK) {
            api_set_etag(req, f.version);
        }
    }
    api_json(n, req, 200, o);
}
