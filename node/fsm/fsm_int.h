/* SPDX-License-Identifier: MIT */
/* Internals shared by the state machine's files; never included outside. */
#ifndef PC_FSM_INT_H
#define PC_FSM_INT_H

#include <jansson.h>
#include <stdarg.h>

#include "common/map.h"
#include "node/cmd.h"
#include "node/fsm/fsm.h"

struct fsm_idem {
    uint64_t rev;    /* the command's first fact (or its rejection) */
    int64_t time_ms; /* ledger time of that fact */
    uint8_t fingerprint[CMD_FINGERPRINT_LEN];
};

struct fsm {
    struct led *led;
    char *cluster_id;
    struct pc_map orgs;       /* id -> struct fsm_org */
    struct pc_map principals; /* id -> struct fsm_principal */
    struct pc_map tokens;     /* token hash -> principal (borrowed) */
    struct pc_map members;    /* node id (decimal) -> client URL */
    struct pc_map idem;       /* principal NUL key -> struct fsm_idem */
    struct pc_map entries;    /* entry id -> struct fsm_entry */
    struct fsm_result *results;
    size_t n_results, cap_results;
    const char **org_ids; /* sorted cache for listings */
    size_t n_org_ids;
    bool org_ids_stale;
    bool derived_broken; /* a rebuild ran out of memory: redo first */
};

/* One command being applied. */
struct fsm_ctx {
    struct fsm *f;
    const struct cmd *cmd;
    uint64_t raft_index;
    int64_t now; /* ledger time for this command */
    char *errmsg;
    uint64_t first_rev;
    uint32_t n_facts;
    int status;
    char code[32];
    char message[200];
};

/* Append one fact for the command; see fsm.c. PC_OK, PC_ENOMEM, PC_EINVAL. */
int fsm_emit(struct fsm_ctx *c, uint32_t kind, struct pc_slice parent,
             struct pc_slice id, json_t *payload);
/* fsm_emit with the payload already canonical JSON (hot paths) and a
 * document (NULL for none): the ledger hashes it. */
int fsm_emit_canonical(struct fsm_ctx *c, uint32_t kind, struct pc_slice parent,
                       struct pc_slice id, struct pc_slice payload,
                       const struct led_doc *doc);

/* Refuse the command: set the result and append a rejection fact. */
int fsm_reject(struct fsm_ctx *c, int status, const char *code,
               struct pc_slice parent, struct pc_slice id, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));
/* fsm_reject with extra members for the error body: `detail` (an object,
 * stolen, may be NULL) is kept as the rejection payload's "detail". */
int fsm_reject_detail(struct fsm_ctx *c, int status, const char *code,
                      struct pc_slice parent, struct pc_slice id,
                      json_t *detail, const char *fmt, ...)
    __attribute__((format(printf, 7, 8)));

/* Canonical JSON bytes of `o` (RFC 8785). */
int fsm_payload(json_t *o, struct pc_buf *out);

/* Update derived state for a fact (apply and rebuild share this). */
int fsm_derive(struct fsm *f, const struct fact *fact);

int fsm_idem_key(struct pc_buf *out, struct pc_slice principal,
                 struct pc_slice key);

/*
 * The status a successful command of `type` answers (201 for creations);
 * `first` (may be NULL) is the command's first fact, for commands whose
 * status depends on what they did (a record PUT: 201 created, 200 updated).
 */
int fsm_success_status(uint32_t type, const struct fact *first);

/* Dispatch to the rules for c->cmd->type. */
int fsm_rules_apply(struct fsm_ctx *c);

/* Catalog entries (rules_catalog.c). */
int fsm_rules_catalog(struct fsm_ctx *c, const struct fsm_principal *actor);
int fsm_derive_entry(struct fsm *f, const struct fact *fact, json_t *payload);
void fsm_entry_free(struct fsm_entry *e);

/* Records and read audit (rules_records.c). */
int fsm_rules_records(struct fsm_ctx *c, const struct fsm_principal *actor);
int fsm_rules_audit(struct fsm_ctx *c);
/* Status of a replayed record command from its first fact. */
int fsm_records_replay_status(uint32_t type, const struct fact *first);

/* The operator's cluster operations (rules_ops.c). */
int fsm_rules_ops(struct fsm_ctx *c, const struct fsm_principal *actor);

/* The acting principal if active, else NULL. */
const struct fsm_principal *fsm_actor(struct fsm_ctx *c);

/* jansson allocations that failed on this thread so far: a rule compares
 * it before and after building JSON to tell out-of-memory from a verdict,
 * and apply does after every command (fsm.c). */
unsigned long fsm_json_failures(void);

/* json_loadb, for every parse in apply (fsm.c says why). */
json_t *fsm_json_loadb(const void *p, size_t len, size_t flags,
                       json_error_t *err);

#endif
