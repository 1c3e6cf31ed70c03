/* SPDX-License-Identifier: MIT */
/* Record rules: placeholder until issue #4 lands (refuses all). */
#include "common/err.h"
#include "node/fsm/fsm_int.h"

int
fsm_rules_records(struct fsm_ctx *c, const struct fsm_principal *actor)
{
    (void)actor;
    return fsm_reject(c, 400, "bad_request", (struct pc_slice){ NULL, 0 },
                      c->cmd->target, "records are not available yet");
}

int
fsm_rules_audit(struct fsm_ctx *c)
{
    (void)c;
    return PC_OK;
}

int
fsm_records_replay_status(uint32_t type, const struct fact *first)
{
    (void)type, (void)first;
    return 200;
}
