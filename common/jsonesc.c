/* SPDX-License-Identifier: MIT */
/*
 * JSON string escaping (jsonesc.h). Runs of bytes that need no escape are
 * copied whole, so plain text costs one append.
 */
#include "common/jsonesc.h"

#include <stdint.h>

#include "common/buf.h"
#include "common/err.h"

/* Length of the valid UTF-8 sequence at `s` (of `n` bytes), or 0. */
static size_t
utf8_seq(const unsigned char *s, size_t n)
{
    size_t len;
    uint32_t cp;

    if (s[0] < 0x80) {
        return 1;
    } else if (s[0] >= 0xc2 && s[0] <= 0xdf) {
        len = 2, cp = s[0] & 0x1f;
    } else if (s[0] >= 0xe0 && s[0] <= 0xef) {
        len = 3, cp = s[0] & 0x0f;
    } else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
        len = 4, cp = s[0] & 0x07;
    } else {
        return 0;
    }
    if (n < len) {
        return 0;
    }
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80) {
            return 0;
        }
        cp = cp << 6 | (s[i] & 0x3f);
    }
    /* Overlong forms, surrogates and beyond U+10FFFF are not UTF-8. */
    if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
        (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff) {
        return 0;
    }
    return len;
}

/* The bytes from `i` on that go out as they are. */
static size_t
plain_run(const unsigned char *s, size_t len, size_t i, unsigned flags)
{
    while (i < len) {
        unsigned char ch = s[i];
        size_t n = 1;

        if (ch < 0x20 || ch == '"' || ch == '\\' ||
            (ch == 0x7f && (flags & PC_JSON_ESC_DEL))) {
            break;
        }
        if (ch >= 0x80 && (flags & PC_JSON_VALID_UTF8) &&
            (n = utf8_seq(s + i, len - i)) == 0) {
            break;
        }
        i += n;
    }
    return i;
}

int
pc_json_put_str(struct pc_buf *b, const char *str, size_t len, unsigned flags)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *s = (const unsigned char *)str;
    int rc = pc_buf_put_u8(b, '"');

    for (size_t i = 0; i < len && rc == PC_OK;) {
        size_t run = plain_run(s, len, i, flags);
        unsigned char ch = s[i];
        char e[6] = { '\\', 'u', '0', '0', hex[ch >> 4], hex[ch & 15] };

        if (run > i) {
            rc = pc_buf_put(b, s + i, run - i);
            i = run;
            continue;
        }
        i++;
        switch (ch) {
        case '"':
            rc = pc_buf_put(b, "\\\"", 2);
            break;
        case '\\':
            rc = pc_buf_put(b, "\\\\", 2);
            break;
        case '\n':
            rc = pc_buf_put(b, "\\n", 2);
            break;
        case '\r':
            rc = pc_buf_put(b, "\\r", 2);
            break;
        case '\t':
            rc = pc_buf_put(b, "\\t", 2);
            break;
        default:
            /* A control character, DEL, or a byte outside valid UTF-8. */
            rc = ch >= 0x80 ? pc_buf_put(b, "\\ufffd", 6)
                            : pc_buf_put(b, e, sizeof(e));
        }
    }
    return rc == PC_OK ? pc_buf_put_u8(b, '"') : rc;
}
