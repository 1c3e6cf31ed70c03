/* SPDX-License-Identifier: MIT */
/*
 * The one rule for the version a precondition names (If-Match: "<n>", a
 * batch item's "if_version"): decimal digits, no sign, space, fraction or
 * exponent, no leading zero, at most FSM_VERSION_MAX. The HTTP layer
 * refuses anything else with 400 before proposing, so every precondition
 * that reaches apply is honoured exactly: none is rounded, wrapped or
 * dropped on the way.
 */
#include "node/fsm/fsm.h"

#include "common/jcs.h"

/* A character JSON allows in a number literal. */
static bool
number_char(char c)
{
    return (c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' ||
           c == 'e' || c == 'E';
}

bool
fsm_version_parse(const char *s, size_t len, uint64_t min, uint64_t *out)
{
    uint64_t v = 0;

    /* 16 digits hold FSM_VERSION_MAX; more cannot be in range. */
    if (len == 0 || len > 16 || (s[0] == '0' && len > 1)) {
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return false;
        }
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    if (v < min || v > FSM_VERSION_MAX) {
        return false;
    }
    *out = v;
    return true;
}

bool
fsm_version_literal(const char *text, size_t len, const struct jcs_val *v,
                    uint64_t min, uint64_t *out)
{
    size_t off, end;

    if (v == NULL || jcs_type(v) != JCS_NUMBER) {
        return false;
    }
    off = jcs_offset(v);
    end = off;
    while (end < len && number_char(text[end])) {
        end++;
    }
    return off < len && fsm_version_parse(text + off, end - off, min, out);
}
