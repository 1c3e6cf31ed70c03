/* SPDX-License-Identifier: MIT */
#include "tests/lib/fsmfx.h"

#include "tests/lib/test.h"

#include <stdio.h>
#include <string.h>

#include "common/err.h"
#include "node/cmd.h"
#include "storage/led.h"

struct fsmfx *
fsmfx_new(const char *admin_token, int64_t step_ms)
{
    struct fsmfx *fx = test_calloc(1, sizeof(*fx));
    char extra[200], h[PC_HASH_HEX_LEN + 1];
    struct fsm_result r;

    assert_int_equal(fsm_new(&fx->f), PC_OK);
    fx->now = FSMFX_EPOCH_MS;
    fx->step_ms = step_ms;
    cmdfx_hash_hex(admin_token, h);
    snprintf(extra, sizeof(extra),
             "{\"cluster_id\":\"00112233445566778899aabbccddeeff\","
             "\"token_hash\":\"%s\"}",
             h);
    r = fsmfx_run(fx, CMD_GENESIS, NULL, NULL, NULL, extra, NULL);
    assert_int_equal(r.status, 201);
    assert_int_equal(r.n_facts, 3); /* cluster, authority org, admin */
    return fx;
}

void
fsmfx_free(struct fsmfx *fx)
{
    fsm_free(fx->f);
    test_free(fx);
}

void
fsmfx_encode(const struct fsmfx *fx, struct pc_buf *entry, uint32_t type,
             const char *principal, const char *target, const char *body,
             const char *extra, const char *idem)
{
    fsmfx_encode_len(fx, entry, type, principal, target, body ? body : "",
                     body ? strlen(body) : 0, extra, idem);
}

void
fsmfx_encode_len(const struct fsmfx *fx, struct pc_buf *entry, uint32_t type,
                 const char *principal, const char *target, const void *body,
                 size_t len, const char *extra, const char *idem)
{
    struct cmd c =
        cmdfx_cmd(type, principal, target, (struct pc_slice){ body, len },
                  PC_SLICE_STR(extra ? extra : ""));
    char rid[32];

    c.time_ms = fx->now;
    snprintf(rid, sizeof(rid), "r%llu", (unsigned long long)fx->index + 1);
    c.request_id = PC_SLICE_STR(rid);
    if (idem != NULL) {
        c.idem_key = PC_SLICE_STR(idem);
        cmd_fingerprint(c.fingerprint, "POST", target ? target : "", body, len);
    }
    assert_int_equal(cmdfx_entry(entry, &c), PC_OK);
    assert_int_equal(entry->len % 8, 0);
}

struct fsm_result
fsmfx_run(struct fsmfx *fx, uint32_t type, const char *principal,
          const char *target, const char *body, const char *extra,
          const char *idem)
{
    return fsmfx_run_len(fx, type, principal, target, body ? body : "",
                         body ? strlen(body) : 0, extra, idem);
}

struct fsm_result
fsmfx_run_len(struct fsmfx *fx, uint32_t type, const char *principal,
              const char *target, const void *body, size_t len,
              const char *extra, const char *idem)
{
    char errmsg[PC_ERRMSG_SIZE];
    struct fsm_result r;
    struct pc_buf entry;
    int rc;

    pc_buf_init(&entry);
    fsmfx_encode_len(fx, &entry, type, principal, target, body, len, extra,
                     idem);
    fx->index++;
    fx->now += fx->step_ms;
    rc = cmdfx_apply(fx->f, fx->index, &entry, &r, errmsg);
    if (rc != PC_OK) {
        fail_msg("apply %s: %s: %s", cmd_type_name(type), pc_errname(rc),
                 errmsg);
    }
    pc_buf_release(&entry);
    return r;
}

struct fsm_result
fsmfx_org_by(struct fsmfx *fx, const char *who, const char *id,
             const char *parent, const char *level, bool authority)
{
    char body[300];

    snprintf(body, sizeof(body),
             "{\"id\":\"%s\",\"name\":\"n\",\"level\":\"%s\",\"kind\":"
             "\"agency\"%s%s%s,\"authority\":%s}",
             id, level, parent ? ",\"parent\":\"" : "", parent ? parent : "",
             parent ? "\"" : "", authority ? "true" : "false");
    return fsmfx_run(fx, CMD_ORG_CREATE, who, NULL, body, NULL, NULL);
}

struct fsm_result
fsmfx_principal_by(struct fsmfx *fx, const char *who, const char *id,
                   const char *org, const char *roles, const char *token)
{
    char body[300], extra[120], h[PC_HASH_HEX_LEN + 1];

    cmdfx_hash_hex(token, h);
    if (org != NULL) {
        snprintf(body, sizeof(body),
                 "{\"id\":\"%s\",\"org\":\"%s\",\"roles\":[%s]}", id, org,
                 roles);
    } else {
        snprintf(body, sizeof(body), "{\"id\":\"%s\"}", id);
    }
    snprintf(extra, sizeof(extra), "{\"token_hash\":\"%s\"}", h);
    return fsmfx_run(fx, CMD_PRINCIPAL_CREATE, who, NULL, body, extra, NULL);
}

void
fsmfx_org(struct fsmfx *fx, const char *id, const char *parent,
          const char *level, bool authority)
{
    assert_int_equal(
        fsmfx_org_by(fx, "admin", id, parent, level, authority).status, 201);
}

void
fsmfx_principal(struct fsmfx *fx, const char *id, const char *org,
                const char *roles)
{
    assert_int_equal(fsmfx_principal_by(fx, "admin", id, org, roles, id).status,
                     201);
}

void
fsmfx_revoke(struct fsmfx *fx, const char *id)
{
    assert_int_equal(
        fsmfx_run(fx, CMD_PRINCIPAL_REVOKE, "admin", id, NULL, NULL, NULL)
            .status,
        200);
}

/* Fail unless `r` has status `want`, naming `what` and the message. */
static void
expect(const struct fsm_result *r, int want, const char *what, const char *id)
{
    if (r->status != want) {
        fail_msg("%s %s: %d %s", what, id, r->status, r->message);
    }
}

void
fsmfx_create_entry(struct fsmfx *fx, const char *who, const char *body)
{
    struct fsm_result r =
        fsmfx_run(fx, CMD_ENTRY_CREATE, who, NULL, body, NULL, NULL);

    expect(&r, 201, "create", body);
}

void
fsmfx_approve(struct fsmfx *fx, const char *reviewer, const char *id)
{
    struct fsm_result r =
        fsmfx_run(fx, CMD_ENTRY_REVIEW, reviewer, id,
                  "{\"decision\":\"approve\",\"override_duplicate\":true,"
                  "\"reason\":\"same schema on purpose\"}",
                  NULL, NULL);

    expect(&r, 200, "approve", id);
}

void
fsmfx_publish(struct fsmfx *fx, const char *who, const char *reviewer,
              const char *id)
{
    struct fsm_result r =
        fsmfx_run(fx, CMD_ENTRY_SUBMIT, who, id, NULL, NULL, NULL);

    expect(&r, 200, "submit", id);
    fsmfx_approve(fx, reviewer, id);
}

void
fsmfx_dept_entry(struct fsmfx *fx, const char *id, bool publish)
{
    char b[1024];

    snprintf(b, sizeof(b),
             "{\"id\":\"%s\",\"title\":\"%s\",\"provider\":\"dept\","
             "\"fields\":[{\"name\":\"name\",\"type\":\"string\","
             "\"required\":true}],\"share\":{\"class\":\"unconditional\"},"
             "\"open\":{\"class\":\"unconditional\"},"
             "\"update_frequency\":\"daily\",\"security_level\":2,"
             "\"scope\":\"province\"}",
             id, id);
    fsmfx_create_entry(fx, "prov", b);
    if (publish) {
        fsmfx_publish(fx, "prov", "admin", id);
    }
}

struct fsm_result
fsmfx_objection_file(struct fsmfx *fx, const char *who, const char *entry,
                     const char *key, const char *kind, char *id)
{
    char b[512];
    struct fsm_result r;

    snprintf(b, sizeof(b),
             "{\"entry\":\"%s\",\"key\":\"%s\",\"kind\":\"%s\","
             "\"description\":\"it is wrong\"}",
             entry, key, kind);
    r = fsmfx_run(fx, CMD_OBJECTION_FILE, who, NULL, b, NULL, NULL);
    if (id != NULL && r.status == 201) {
        snprintf(id, 32, "ob-%llu", (unsigned long long)r.first_rev);
    }
    return r;
}

int
fsmfx_objection_decide(struct fsmfx *fx, const char *who, const char *id,
                       const char *decision)
{
    char b[200];

    snprintf(b, sizeof(b), "{\"decision\":\"%s\",\"reason\":\"because\"}",
             decision);
    return fsmfx_run(fx, CMD_OBJECTION_DECIDE, who, id, b, NULL, NULL).status;
}

void
fsmfx_objection(struct fsmfx *fx, const char *who, const char *entry,
                const char *key, const char *kind, const char *decision,
                char *id)
{
    struct fsm_result r = fsmfx_objection_file(fx, who, entry, key, kind, id);

    expect(&r, 201, "file an objection on", key);
    if (decision != NULL) {
        assert_int_equal(fsmfx_objection_decide(fx, "admin", id, decision),
                         200);
    }
}

int
fsmfx_redact(struct fsmfx *fx, const char *who, const char *target,
             unsigned version, const char *objection_id)
{
    char b[200], x[64];

    snprintf(b, sizeof(b), "{\"objection\":\"%s\",\"reason\":\"art. 16\"}",
             objection_id);
    snprintf(x, sizeof(x), "{\"version\":%u}", version);
    return fsmfx_run(fx, CMD_RECORD_REDACT, who, target, b, x, NULL).status;
}

int
fsmfx_teardown(void **state)
{
    fsmfx_free(*state);
    return 0;
}

struct fsm_result
fsmfx_oom_apply(struct fsmfx *fx, const struct pc_buf *entry, int want)
{
    uint8_t before[PC_HASH_LEN], after[PC_HASH_LEN];
    char errmsg[PC_ERRMSG_SIZE];
    const struct fsm_result *res;
    struct test_oom o = { 0 };
    uint64_t n = led_count(fsm_led(fx->f));

    led_root(fsm_led(fx->f), before);
    for (long k = 0;; k++) {
        test_oom_arm(&o, k, 1);
        int rc = fsm_apply(fx->f, entry->data, entry->len, ++fx->index, errmsg);
        if (test_oom_disarm(&o, rc == PC_OK)) {
            break;
        }
        if (rc != PC_ENOMEM) {
            fail_msg("allocation %ld failing: %s: %s", k, pc_errname(rc),
                     errmsg);
        }
        assert_int_equal(led_count(fsm_led(fx->f)), n);
        led_root(fsm_led(fx->f), after);
        assert_memory_equal(before, after, PC_HASH_LEN);
        assert_true(k < 100000);
    }
    test_oom_end(&o);
    assert_int_equal(fsm_results(fx->f, &res), 1);
    if (res[0].status != want) {
        fail_msg("status %d, want %d: %s", res[0].status, want, res[0].message);
    }
    return res[0];
}

struct fsm_result
fsmfx_oom_run(struct fsmfx *fx, uint32_t type, const char *principal,
              const char *target, const char *body, const char *extra,
              const char *idem, int want)
{
    struct fsm_result r;
    struct pc_buf entry;

    pc_buf_init(&entry);
    fsmfx_encode(fx, &entry, type, principal, target, body, extra, idem);
    fx->now += fx->step_ms;
    r = fsmfx_oom_apply(fx, &entry, want);
    pc_buf_release(&entry);
    return r;
}

struct fsm *
fsmfx_rebuilt(const struct fsmfx *fx)
{
    char errmsg[PC_ERRMSG_SIZE];
    struct led *copy;
    struct fsm *f;
    int rc;

    rc = cmdfx_led_copy(fsm_led(fx->f), &copy, errmsg);
    if (rc != PC_OK) {
        fail_msg("copy the ledger: %s: %s", pc_errname(rc), errmsg);
    }
    assert_int_equal(fsm_new(&f), PC_OK);
    assert_int_equal(fsm_restore(f, copy, NULL), PC_OK);
    return f;
}
