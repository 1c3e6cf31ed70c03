/* SPDX-License-Identifier: MIT */
/*
 * JSON and URL helpers of libprovcat. The scanner checks the syntax of a
 * value without building a tree and gives raw spans, so a document read
 * from a JSONL file goes into a batch, and a record's canonical bytes come
 * out of an answer, unchanged (content hashes cover those exact bytes).
 * It checks structure and string escapes, not UTF-8: the server does that.
 */
#include "client/client_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/alloc.h"
#include "common/err.h"
#include "common/hash.h"
#include "common/jsonesc.h"

#define MAX_DEPTH 64

static const char *
ws(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')) {
        p++;
    }
    return p;
}

/* `p` at the opening quote; returns the byte after the closing one. */
static const char *
skip_string(const char *p, const char *end)
{
    p++;
    while (p < end) {
        unsigned char ch = (unsigned char)*p;

        if (ch == '"') {
            return p + 1;
        }
        if (ch < 0x20) {
            return NULL;
        }
        if (ch == '\\') {
            if (++p >= end) {
                return NULL;
            }
            switch (*p) {
            case '"':
            case '\\':
            case '/':
            case 'b':
            case 'f':
            case 'n':
            case 'r':
            case 't':
                p++;
                break;
            case 'u': {
                uint8_t u[2];

                if (end - p < 5 || !pc_unhex(u, 2, p + 1, 4)) {
                    return NULL;
                }
                p += 5;
                break;
            }
            default:
                return NULL;
            }
            continue;
        }
        p++;
    }
    return NULL;
}

static const char *
skip_number(const char *p, const char *end)
{
    const char *s;

    if (p < end && *p == '-') {
        p++;
    }
    if (p >= end) {
        return NULL;
    }
    if (*p == '0') {
        p++;
    } else if (*p >= '1' && *p <= '9') {
        while (p < end && *p >= '0' && *p <= '9') {
            p++;
        }
    } else {
        return NULL;
    }
    if (p < end && *p == '.') {
        s = ++p;
        while (p < end && *p >= '0' && *p <= '9') {
            p++;
        }
        if (p == s) {
            return NULL;
        }
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < end && (*p == '+' || *p == '-')) {
            p++;
        }
        s = p;
        while (p < end && *p >= '0' && *p <= '9') {
            p++;
        }
        if (p == s) {
            return NULL;
        }
    }
    return p;
}

static const char *
skip_lit(const char *p, const char *end, const char *lit)
{
    size_t n = strlen(lit);

    if ((size_t)(end - p) < n || memcmp(p, lit, n) != 0) {
        return NULL;
    }
    return p + n;
}

static const char *
skip_value(const char *p, const char *end, int depth)
{
    p = ws(p, end);
    if (p >= end) {
        return NULL;
    }
    switch (*p) {
    case '"':
        return skip_string(p, end);
    case 't':
        return skip_lit(p, end, "true");
    case 'f':
        return skip_lit(p, end, "false");
    case 'n':
        return skip_lit(p, end, "null");
    case '{':
    case '[': {
        char close = *p == '{' ? '}' : ']';
        bool obj = *p == '{';

        if (depth >= MAX_DEPTH) {
            return NULL;
        }
        p = ws(p + 1, end);
        if (p < end && *p == close) {
            return p + 1;
        }
        for (;;) {
            if (obj) {
                p = ws(p, end);
                if (p >= end || *p != '"' ||
                    (p = skip_string(p, end)) == NULL) {
                    return NULL;
                }
                p = ws(p, end);
                if (p >= end || *p != ':') {
                    return NULL;
                }
                p++;
            }
            p = skip_value(p, end, depth + 1);
            if (p == NULL) {
                return NULL;
            }
            p = ws(p, end);
            if (p >= end) {
                return NULL;
            }
            if (*p == close) {
                return p + 1;
            }
            if (*p != ',') {
                return NULL;
            }
            p++;
        }
    }
    default:
        return skip_number(p, end);
    }
}

const char *
pcl_json_skip(const char *p, const char *end)
{
    return skip_value(p, end, 0);
}

int
pcl_json_members(const char *p, const char *end, pcl_member_fn fn, void *arg)
{
    p = ws(p, end);
    if (p >= end || *p != '{') {
        return -1;
    }
    p = ws(p + 1, end);
    if (p < end && *p == '}') {
        return ws(p + 1, end) == end ? 0 : -1;
    }
    for (;;) {
        const char *name, *val, *q;
        int rc;

        p = ws(p, end);
        if (p >= end || *p != '"' || (q = skip_string(p, end)) == NULL) {
            return -1;
        }
        name = p + 1;
        p = ws(q, end);
        if (p >= end || *p != ':') {
            return -1;
        }
        val = ws(p + 1, end);
        p = skip_value(val, end, 1);
        if (p == NULL) {
            return -1;
        }
        rc = fn(arg, name, (size_t)(q - 1 - name), val, (size_t)(p - val));
        if (rc != 0) {
            return rc;
        }
        p = ws(p, end);
        if (p >= end) {
            return -1;
        }
        if (*p == '}') {
            return ws(p + 1, end) == end ? 0 : -1;
        }
        if (*p != ',') {
            return -1;
        }
        p++;
    }
}

bool
pcl_json_one_value(const char *s, size_t len)
{
    const char *end = s + len, *p = pcl_json_skip(s, end);

    return p != NULL && ws(p, end) == end;
}

const char *
pcl_json_next(const char *p, const char *end)
{
    while (p < end &&
           (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r' || *p == ',')) {
        p++;
    }
    return p;
}

static size_t
put_utf8(char *out, unsigned long cp)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xc0 | cp >> 6);
        out[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xe0 | cp >> 12);
        out[1] = (char)(0x80 | (cp >> 6 & 0x3f));
        out[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    out[0] = (char)(0xf0 | cp >> 18);
    out[1] = (char)(0x80 | (cp >> 12 & 0x3f));
    out[2] = (char)(0x80 | (cp >> 6 & 0x3f));
    out[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

/* The four hex digits of a \u escape at `p`. */
static bool
read_u4(const char *p, const char *end, unsigned long *v)
{
    uint8_t u[2];

    if (end - p < 4 || !pc_unhex(u, 2, p, 4)) {
        return false;
    }
    *v = (unsigned long)u[0] << 8 | u[1];
    return true;
}

long
pcl_json_unescape_to(const char *raw, size_t len, char *out)
{
    const char *p = raw, *end = raw + len;
    char *o = out;

    while (p < end) {
        unsigned long cp, lo;

        if (*p != '\\') {
            *o++ = *p++;
            continue;
        }
        if (++p >= end) {
            return -1;
        }
        switch (*p++) {
        case '"':
            *o++ = '"';
            break;
        case '\\':
            *o++ = '\\';
            break;
        case '/':
            *o++ = '/';
            break;
        case 'b':
            *o++ = '\b';
            break;
        case 'f':
            *o++ = '\f';
            break;
        case 'n':
            *o++ = '\n';
            break;
        case 'r':
            *o++ = '\r';
            break;
        case 't':
            *o++ = '\t';
            break;
        case 'u':
            if (!read_u4(p, end, &cp)) {
                return -1;
            }
            p += 4;
            if (cp >= 0xd800 && cp < 0xdc00) {
                /* A high surrogate needs its low half; a lone one is not
                 * text the server would take either. */
                if (end - p < 6 || p[0] != '\\' || p[1] != 'u' ||
                    !read_u4(p + 2, end, &lo) || lo < 0xdc00 || lo > 0xdfff) {
                    return -1;
                }
                p += 6;
                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
            } else if (cp >= 0xdc00 && cp < 0xe000) {
                return -1;
            }
            if (cp == 0) {
                return -1; /* no NUL inside a C string */
            }
            /* A \u escape is at least 6 bytes and yields at most 4. */
            o += put_utf8(o, cp);
            break;
        default:
            return -1;
        }
    }
    *o = '\0';
    return (long)(o - out);
}

char *
pcl_json_unescape(const char *raw, size_t len)
{
    char *out = pc_malloc(len + 1);

    if (out != NULL && pcl_json_unescape_to(raw, len, out) < 0) {
        pc_free(out);
        return NULL;
    }
    return out;
}

/* ---- request bodies ---- */

void
pcl_body_open(struct pcl_body *x)
{
    pc_buf_init(&x->b);
    x->rc = pc_buf_put_u8(&x->b, '{');
    x->first = true;
}

/* The member's name and colon, after a comma unless it is the first. */
static void
body_name(struct pcl_body *x, const char *name)
{
    if (!x->first) {
        x->rc |= pc_buf_put_u8(&x->b, ',');
    }
    x->first = false;
    x->rc |= pc_json_put_str(&x->b, name, strlen(name), 0);
    x->rc |= pc_buf_put_u8(&x->b, ':');
}

void
pcl_body_str(struct pcl_body *x, const char *name, const char *v)
{
    if (v == NULL) {
        return;
    }
    body_name(x, name);
    x->rc |= pc_json_put_str(&x->b, v, strlen(v), 0);
}

void
pcl_body_u64(struct pcl_body *x, const char *name, uint64_t v)
{
    body_name(x, name);
    x->rc |= pc_buf_put_dec(&x->b, v);
}

void
pcl_body_strv(struct pcl_body *x, const char *name, const char *const *v)
{
    if (v == NULL) {
        return;
    }
    body_name(x, name);
    x->rc |= pc_buf_put_u8(&x->b, '[');
    for (size_t i = 0; v[i] != NULL; i++) {
        if (i > 0) {
            x->rc |= pc_buf_put_u8(&x->b, ',');
        }
        x->rc |= pc_json_put_str(&x->b, v[i], strlen(v[i]), 0);
    }
    x->rc |= pc_buf_put_u8(&x->b, ']');
}

void
pcl_body_raw(struct pcl_body *x, const char *name, const char *json)
{
    body_name(x, name);
    x->rc |= pc_buf_put(&x->b, json, strlen(json));
}

int
pcl_body_close(struct pcl_body *x)
{
    x->rc |= pc_buf_put(&x->b, "}", 2);
    if (x->rc == PC_OK) {
        x->b.len--;
    }
    return x->rc == PC_OK ? PC_OK : PC_ENOMEM;
}

int
pcl_url_enc(struct pc_buf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    int rc = PC_OK;

    for (; *s != '\0' && rc == PC_OK; s++) {
        unsigned char ch = (unsigned char)*s;

        if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
            (ch >= '0' && ch <= '9') || ch == '-' || ch == '.' || ch == '_' ||
            ch == '~') {
            rc = pc_buf_put_u8(b, ch);
        } else {
            char e[3] = { '%', hex[ch >> 4], hex[ch & 15] };
            rc = pc_buf_put(b, e, 3);
        }
    }
    return rc;
}

static int
terminate(struct pc_buf *b)
{
    int rc = pc_buf_put_u8(b, '\0');

    if (rc == PC_OK) {
        b->len--;
    }
    return rc;
}

int
pcl_vpath(struct pc_buf *b, const char *fmt, va_list ap)
{
    int rc = PC_OK;

    b->len = 0;
    for (const char *p = fmt; *p != '\0' && rc == PC_OK; p++) {
        if (p[0] == '%' && p[1] == 's') {
            rc = pcl_url_enc(b, va_arg(ap, const char *));
            p++;
        } else if (p[0] == '%' && p[1] == 'u') {
            rc = pc_buf_put_dec(b, va_arg(ap, uint64_t));
            p++;
        } else {
            rc = pc_buf_put_u8(b, (uint8_t)*p);
        }
    }
    return rc == PC_OK ? terminate(b) : rc;
}

int
pcl_path(struct pc_buf *b, const char *fmt, ...)
{
    va_list ap;
    int rc;

    va_start(ap, fmt);
    rc = pcl_vpath(b, fmt, ap);
    va_end(ap);
    return rc;
}

int
pcl_query(struct pc_buf *b, const char *name, const char *value)
{
    bool first = memchr(b->data, '?', b->len) == NULL;
    int rc = pc_buf_put_u8(b, first ? '?' : '&');

    rc = rc == PC_OK ? pcl_url_enc(b, name) : rc;
    rc = rc == PC_OK ? pc_buf_put_u8(b, '=') : rc;
    rc = rc == PC_OK ? pcl_url_enc(b, value) : rc;
    return rc == PC_OK ? terminate(b) : rc;
}

int
pcl_query_u64(struct pc_buf *b, const char *name, uint64_t value)
{
    char v[24];

    snprintf(v, sizeof(v), "%llu", (unsigned long long)value);
    return pcl_query(b, name, v);
}

/* ---- jansson accessors ---- */

char *
pcl_jstrdup(json_t *o, const char *name, int *rc)
{
    json_t *v = json_object_get(o, name);
    char *s;

    if (!json_is_string(v)) {
        return NULL;
    }
    s = pc_strndup(json_string_value(v), json_string_length(v));
    if (s == NULL) {
        *rc = PROVCAT_ENOMEM;
    }
    return s;
}

uint64_t
pcl_juint(json_t *o, const char *name)
{
    json_t *v = json_object_get(o, name);

    return json_is_integer(v) && json_integer_value(v) > 0
               ? (uint64_t)json_integer_value(v)
               : 0;
}

void
pcl_jhex(json_t *o, const char *name, char *out, size_t cap)
{
    json_t *v = json_object_get(o, name);

    out[0] = '\0';
    if (json_is_string(v) && json_string_length(v) < cap) {
        memcpy(out, json_string_value(v), json_string_length(v) + 1);
    }
}

char **
pcl_jstrv(json_t *o, const char *name, size_t *n, int *rc)
{
    json_t *a = json_object_get(o, name);
    size_t len = json_array_size(a);
    char **v;

    *n = 0;
    if (len == 0) {
        return NULL;
    }
    for (size_t i = 0; i < len; i++) {
        if (!json_is_string(json_array_get(a, i))) {
            return NULL;
        }
    }
    v = pc_calloc(len, sizeof(*v));
    if (v == NULL) {
        *rc = PROVCAT_ENOMEM;
        return NULL;
    }
    for (size_t i = 0; i < len; i++) {
        json_t *x = json_array_get(a, i);

        v[i] = pc_strndup(json_string_value(x), json_string_length(x));
        if (v[i] == NULL) {
            pcl_strv_free(v, i);
            *rc = PROVCAT_ENOMEM;
            return NULL;
        }
    }
    *n = len;
    return v;
}

void
pcl_strv_free(char **v, size_t n)
{
    for (size_t i = 0; v != NULL && i < n; i++) {
        pc_free(v[i]);
    }
    pc_free(v);
}
