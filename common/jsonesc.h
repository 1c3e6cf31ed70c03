/* SPDX-License-Identifier: MIT */
/*
 * Text as a JSON string: quotes, backslashes and control characters
 * escaped, everything else as it is. One writer for every place that puts
 * a caller's text into JSON by hand (the client library's request bodies,
 * the node's JSON log lines); the output always parses as one string.
 */
#ifndef PC_JSONESC_H
#define PC_JSONESC_H

#include <stddef.h>

struct pc_buf;

/* Options of pc_json_put_str. */
enum {
    /* A byte that is not part of valid UTF-8 (overlong forms, surrogates
     * and code points past U+10FFFF included) becomes \ufffd; without it
     * bytes from 0x80 up go out as they are, for the reader to judge. */
    PC_JSON_VALID_UTF8 = 1u << 0,
    /* DEL (0x7f) becomes \u007f, as terminals and log viewers prefer. */
    PC_JSON_ESC_DEL = 1u << 1,
};

/*
 * Append `len` bytes of `s` to `b` as a JSON string, quotes included:
 * `"` and `\` as \" and \\, LF, CR and TAB as \n, \r and \t, other bytes
 * below 0x20 as \u00xx (lower-case hex), as `flags` (PC_JSON_*) say for
 * the rest. NUL bytes in `s` are data (\u0000).
 * Returns PC_OK or PC_ENOMEM; `b` may then hold part of the string.
 */
int pc_json_put_str(struct pc_buf *b, const char *s, size_t len,
                    unsigned flags);

#endif
