/* SPDX-License-Identifier: MIT */
/* Catalog entry rules: placeholder until issue #4 lands (refuses all). */
#include "common/alloc.h"
#include "common/err.h"
#include "node/fsm/fsm_int.h"

int
fsm_rules_catalog(struct fsm_ctx *c, const struct fsm_principal *actor)
{
    (void)actor;
    return fsm_reject(c, 400, "bad_request", (struct pc_slice){ NULL, 0 },
                      c->cmd->target, "catalog entries are not available yet");
}

int
fsm_derive_entry(struct fsm *f, const struct fact *fact, json_t *payload)
{
    (void)f, (void)fact, (void)payload;
    return PC_OK;
}

void
fsm_entry_free(struct fsm_entry *e)
{
    pc_free(e);
}
