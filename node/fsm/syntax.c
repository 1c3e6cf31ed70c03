/* SPDX-License-Identifier: MIT */
/*
 * What the rules' syntax checks share: a command's JSON parsed by the
 * rules' own terms, its members looked up, non-blank text, and a refused
 * body answered with the field it names. Pure functions of their input,
 * as everything in node/fsm/.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/err.h"
#include "common/jcs.h"
#include "node/fsm/fsm_int.h"

#define NO_SLICE ((struct pc_slice){ NULL, 0 })

/* ---- JSON ------------------------------------------------------------- */

int
fsm_parse(const void *p, size_t len, struct jcs_doc **out, char *errmsg)
{
    struct jcs_doc *d;
    int rc = jcs_parse(p, len, &d, errmsg);

    if (rc != PC_OK) {
        return rc;
    }
    if (jcs_has_nul(d)) {
        jcs_doc_free(d);
        return pc_errmsgf(errmsg, PC_EINVAL, "a string holds \\u0000");
    }
    *out = d;
    return PC_OK;
}

int
fsm_parse_object(const void *p, size_t len, struct jcs_doc **out, char *msg)
{
    char em[PC_ERRMSG_SIZE];
    struct jcs_doc *d;
    int rc = fsm_parse(p, len, &d, em);

    if (rc == PC_ENOMEM) {
        snprintf(msg, 200, "out of memory");
        return rc;
    }
    if (rc != PC_OK) {
        snprintf(msg, 200, "malformed JSON: %.180s", em);
        return rc;
    }
    if (jcs_type(jcs_root(d)) != JCS_OBJECT) {
        jcs_doc_free(d);
        snprintf(msg, 200, "the body must be a JSON object");
        return PC_EINVAL;
    }
    *out = d;
    return PC_OK;
}

const struct jcs_val *
fsm_get(const struct jcs_val *o, const char *key)
{
    return o == NULL ? NULL : jcs_get(o, key, strlen(key));
}

const char *
fsm_get_str(const struct jcs_val *o, const char *key, size_t *len)
{
    const struct jcs_val *v = fsm_get(o, key);

    return v == NULL ? NULL : jcs_string(v, len);
}

bool
fsm_get_true(const struct jcs_val *o, const char *key)
{
    const struct jcs_val *v = fsm_get(o, key);

    return v != NULL && jcs_type(v) == JCS_TRUE;
}

const char *
fsm_unknown_member(const struct jcs_val *o, const char *const *allowed)
{
    const char *first = NULL;
    size_t first_off = SIZE_MAX;

    for (size_t i = 0; i < jcs_len(o); i++) {
        const char *k = jcs_key(o, i, NULL);
        const char *const *a = allowed;

        while (*a != NULL && strcmp(*a, k) != 0) {
            a++;
        }
        /* Members are kept in key order; their values' offsets give the
         * order they were written in. */
        if (*a == NULL && jcs_offset(jcs_at(o, i)) < first_off) {
            first = k;
            first_off = jcs_offset(jcs_at(o, i));
        }
    }
    return first;
}

char *
fsm_get_dup(const struct jcs_val *o, const char *key)
{
    size_t len;
    const char *s = fsm_get_str(o, key, &len);

    return s == NULL ? NULL : pc_strndup(s, len);
}

int
fsm_name_index(const char *const *names, const char *s)
{
    for (int i = 0; s != NULL && names[i] != NULL; i++) {
        if (strcmp(s, names[i]) == 0) {
            return i;
        }
    }
    return -1;
}

/* ---- text ------------------------------------------------------------- */

bool
fsm_blank(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\n' && s[i] != '\r') {
            return false;
        }
    }
    return true;
}

bool
fsm_text_ok(const struct jcs_val *v, size_t max)
{
    size_t len;
    const char *s = v == NULL ? NULL : jcs_string(v, &len);

    return s != NULL && len <= max && !fsm_blank(s, len);
}

/* ---- refused bodies --------------------------------------------------- */

bool
fsm_check_fail(char *msg, char *field, const char *f, const char *m)
{
    snprintf(field, FSM_FIELD_LEN, "%s", f);
    snprintf(msg, 200, "%s", m);
    return false;
}

bool
fsm_body_valid(const void *body, size_t len, fsm_body_check_cb check, char *msg,
               char *field)
{
    struct jcs_doc *d;
    bool ok;

    field[0] = '\0';
    if (fsm_parse_object(body, len, &d, msg) != PC_OK) {
        return false;
    }
    ok = check(jcs_root(d), msg, field);
    jcs_doc_free(d);
    return ok;
}

int
fsm_reject_field(struct fsm_ctx *c, int status, struct pc_slice parent,
                 struct pc_slice id, const char *field, const char *msg)
{
    const char *code = status == 409 ? "conflict" : "bad_request";
    struct pc_buf det;
    int rc;

    if (field == NULL) {
        return fsm_reject(c, status, code, parent, id, "%s", msg);
    }
    pc_buf_init(&det);
    rc = fsm_detail(&det, -1, field, -1, NO_SLICE);
    if (rc == PC_OK) {
        rc = fsm_reject_detail(c, status, code, parent, id, &det, "%s", msg);
    }
    pc_buf_release(&det);
    return rc;
}

int
fsm_command_body(struct fsm_ctx *c, fsm_body_check_cb check, struct pc_slice id,
                 struct jcs_doc **d)
{
    char msg[200], field[FSM_FIELD_LEN] = "";
    int rc;

    *d = NULL;
    rc = fsm_parse_object(c->cmd->body.p, c->cmd->body.len, d, msg);
    if (rc == PC_ENOMEM) {
        return rc;
    }
    if (rc == PC_OK && (check == NULL || check(jcs_root(*d), msg, field))) {
        return PC_OK;
    }
    if (rc == PC_OK) {
        jcs_doc_free(*d);
        *d = NULL;
    }
    return fsm_reject_field(c, 400, NO_SLICE, id,
                            field[0] != '\0' ? field : NULL, msg);
}
