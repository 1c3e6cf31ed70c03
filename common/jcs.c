/* SPDX-License-Identifier: MIT */
/*
 * RFC 8785 canonical JSON. One recursive-descent pass validates the text,
 * builds the tree in a per-document arena, sorts object members and
 * computes each number's canonical text and the exact output size, so
 * emitting is a single reservation followed by copies.
 */
#include "common/jcs.h"

#include <assert.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/err.h"

struct jcs_val {
    uint8_t type;
    uint8_t plain; /* strings: no byte needs an escape on output; numbers:
                      written without fraction or exponent */
    uint32_t len;  /* string/number text bytes, items, members */
    uint32_t off;  /* where the value (or key) starts in the input */
    double num;    /* numbers */
    union {
        const char *str;      /* strings: unescaped; numbers: canonical text */
        struct jcs_val *kids; /* arrays: items; objects: key, value pairs */
    } u;
};

/* Arena chunks; the data follows the header. */
struct chunk {
    struct chunk *next;
    size_t cap;
    size_t used;
};

struct jcs_doc {
    struct chunk *chunks; /* newest first; the doc lives in the oldest */
    struct jcs_val root;
    size_t out_len; /* exact length of the canonical form */
    bool has_nul;   /* a string or key holds U+0000 */
};

#define ARENA_ALIGN     8
#define ARENA_MAX_CHUNK ((size_t)1 << 20)
#define STACK_LOCAL     128

struct parser {
    const uint8_t *start;
    const uint8_t *p;
    const uint8_t *end;
    struct jcs_doc *doc;
    struct jcs_val *stk; /* children of the containers still open */
    size_t stk_len;
    size_t stk_cap;
    struct jcs_val *stk_local;
    size_t n_values;
    size_t out_len;
    int depth;
    bool has_nul;
    char *errmsg;
};

_Static_assert(sizeof(struct chunk) % ARENA_ALIGN == 0, "chunk alignment");

/* String bytes copied as they are, on input and on output. */
static const uint8_t plain_byte[256] = {
    [0x20 ... 0x21] = 1,
    [0x23 ... 0x5b] = 1,
    [0x5d ... 0x7f] = 1,
};

/* Output escapes: 0 = raw, 'u' = \u00xx, else the letter after '\'. */
static const uint8_t escape_byte[256] = {
    [0x00 ... 0x07] = 'u', [0x08] = 'b',  [0x09] = 't', [0x0a] = 'n',
    [0x0b] = 'u',          [0x0c] = 'f',  [0x0d] = 'r', [0x0e ... 0x1f] = 'u',
    ['"'] = '"',           ['\\'] = '\\',
};

/* ---- arena ------------------------------------------------------------ */

static uint8_t *
chunk_data(struct chunk *c)
{
    return (uint8_t *)(c + 1);
}

static struct chunk *
chunk_new(size_t cap)
{
    struct chunk *c;

    if (cap > SIZE_MAX - sizeof(*c)) {
        return NULL;
    }
    c = pc_malloc(sizeof(*c) + cap);
    if (c == NULL) {
        return NULL;
    }
    c->next = NULL;
    c->cap = cap;
    c->used = 0;
    return c;
}

static void *
arena_alloc(struct jcs_doc *d, size_t size, size_t align)
{
    struct chunk *c = d->chunks;
    size_t at = (c->used + align - 1) & ~(align - 1);
    size_t cap;

    if (at <= c->cap && size <= c->cap - at) {
        c->used = at + size;
        return chunk_data(c) + at;
    }
    cap = c->cap < ARENA_MAX_CHUNK ? c->cap * 2 : c->cap;
    if (cap < size) {
        cap = size;
    }
    c = chunk_new(cap);
    if (c == NULL) {
        return NULL;
    }
    c->next = d->chunks;
    d->chunks = c;
    c->used = size;
    return chunk_data(c);
}

/* Return the unused tail of the most recent allocation `p` of `size`. */
static void
arena_trim(struct jcs_doc *d, void *p, size_t size)
{
    struct chunk *c = d->chunks;

    c->used = (size_t)((uint8_t *)p - chunk_data(c)) + size;
}

static struct jcs_doc *
doc_new(size_t text_len)
{
    struct jcs_doc *d;
    struct chunk *c;
    size_t cap = 512;

    /* Typical documents need about 3 bytes of tree per byte of text. */
    if (text_len < ARENA_MAX_CHUNK / 4) {
        cap += text_len * 4;
    } else {
        cap = ARENA_MAX_CHUNK;
    }
    c = chunk_new(sizeof(*d) + cap);
    if (c == NULL) {
        return NULL;
    }
    d = (struct jcs_doc *)chunk_data(c);
    c->used = sizeof(*d);
    memset(d, 0, sizeof(*d));
    d->chunks = c;
    return d;
}

void
jcs_doc_free(struct jcs_doc *d)
{
    struct chunk *c, *next;

    if (d == NULL) {
        return;
    }
    for (c = d->chunks; c != NULL; c = next) {
        next = c->next; /* the doc itself sits in the last chunk */
        pc_free(c);
    }
}

/* ---- UTF-8 and key order --------------------------------------------- */

/* Length of the well-formed sequence at `p` (n > 0 bytes left), or 0. */
static size_t
utf8_seq(const uint8_t *p, size_t n)
{
    uint8_t c = p[0];
    uint8_t lo = 0x80, hi = 0xbf;

    if (c < 0x80) {
        return 1;
    }
    if (c < 0xc2) {
        return 0;
    }
    if (c < 0xe0) {
        return n >= 2 && (p[1] & 0xc0) == 0x80 ? 2 : 0;
    }
    if (c < 0xf0) {
        if (c == 0xe0) {
            lo = 0xa0; /* overlong below U+0800 */
        } else if (c == 0xed) {
            hi = 0x9f; /* U+D800..U+DFFF */
        }
        if (n < 3 || p[1] < lo || p[1] > hi || (p[2] & 0xc0) != 0x80) {
            return 0;
        }
        return 3;
    }
    if (c < 0xf5) {
        if (c == 0xf0) {
            lo = 0x90; /* overlong below U+10000 */
        } else if (c == 0xf4) {
            hi = 0x8f; /* above U+10FFFF */
        }
        if (n < 4 || p[1] < lo || p[1] > hi || (p[2] & 0xc0) != 0x80 ||
            (p[3] & 0xc0) != 0x80) {
            return 0;
        }
        return 4;
    }
    return 0;
}

bool
jcs_utf8_valid(const uint8_t *p, size_t len)
{
    size_t i = 0, n;

    while (i < len) {
        if (p[i] < 0x80) {
            i++;
            continue;
        }
        n = utf8_seq(p + i, len - i);
        if (n == 0) {
            return false;
        }
        i += n;
    }
    return true;
}

/*
 * Compare two UTF-8 strings in the order of their UTF-16 code units. UTF-8
 * byte order is code point order, which agrees with UTF-16 order except
 * that characters above U+FFFF (lead bytes F0-F4, high surrogates in
 * UTF-16) sort before U+E000..U+FFFF (lead bytes EE, EF). The first
 * differing byte decides; when it is a continuation byte both characters
 * share their lead byte, so byte order is right there too.
 */
static int
byte_order(uint8_t x, uint8_t y)
{
    if (x >= 0xf0 && (y == 0xee || y == 0xef)) {
        return -1;
    }
    if (y >= 0xf0 && (x == 0xee || x == 0xef)) {
        return 1;
    }
    return x < y ? -1 : 1;
}

static int
key_cmp(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
    size_t n = alen < blen ? alen : blen;

    for (size_t i = 0; i < n; i++) {
        if (a[i] != b[i]) {
            return byte_order(a[i], b[i]);
        }
    }
    return alen < blen ? -1 : alen > blen;
}

int
jcs_key_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
    return key_cmp((const uint8_t *)a, alen, (const uint8_t *)b, blen);
}

/* Members are (key, value) pairs; equal keys fall back to input order. */
static int
member_cmp(const void *pa, const void *pb)
{
    const struct jcs_val *a = pa, *b = pb;
    int c = key_cmp((const uint8_t *)a->u.str, a->len,
                    (const uint8_t *)b->u.str, b->len);

    if (c != 0) {
        return c;
    }
    return a->off < b->off ? -1 : a->off > b->off;
}

static void
sort_members(struct jcs_val *kids, size_t n)
{
    struct jcs_val tmp[2];

    if (n > 16) {
        qsort(kids, n, 2 * sizeof(*kids), member_cmp);
        return;
    }
    /* Insertion sort: most objects are small and already nearly sorted. */
    for (size_t i = 1; i < n; i++) {
        size_t j = i;

        if (member_cmp(&kids[2 * (i - 1)], &kids[2 * i]) <= 0) {
            continue;
        }
        memcpy(tmp, &kids[2 * i], sizeof(tmp));
        while (j > 0 && member_cmp(&kids[2 * (j - 1)], tmp) > 0) {
            memcpy(&kids[2 * j], &kids[2 * (j - 1)], sizeof(tmp));
            j--;
        }
        memcpy(&kids[2 * j], tmp, sizeof(tmp));
    }
}

/* ---- numbers ---------------------------------------------------------- */

/*
 * Write `k` significant digits (no trailing zeros) with value
 * 0.digits * 10^n in the layout of ECMAScript Number::toString.
 */
static size_t
layout_number(char *out, bool neg, const char *dig, int k, int n)
{
    char *w = out;

    if (neg) {
        *w++ = '-';
    }
    if (k <= n && n <= 21) {
        memcpy(w, dig, (size_t)k);
        w += k;
        memset(w, '0', (size_t)(n - k));
        w += n - k;
    } else if (0 < n && n <= 21) {
        memcpy(w, dig, (size_t)n);
        w += n;
        *w++ = '.';
        memcpy(w, dig + n, (size_t)(k - n));
        w += k - n;
    } else if (-6 < n && n <= 0) {
        *w++ = '0';
        *w++ = '.';
        memset(w, '0', (size_t)-n);
        w += -n;
        memcpy(w, dig, (size_t)k);
        w += k;
    } else {
        int e = n - 1;

        *w++ = dig[0];
        if (k > 1) {
            *w++ = '.';
            memcpy(w, dig + 1, (size_t)(k - 1));
            w += k - 1;
        }
        *w++ = 'e';
        *w++ = e < 0 ? '-' : '+';
        w += sprintf(w, "%d", e < 0 ? -e : e);
    }
    *w = '\0';
    return (size_t)(w - out);
}

/*
 * The correctly rounded `p`-digit decimal of `v` > 0: digits into `dig`,
 * decimal exponent (value = 0.dig * 10^n) into `*n`. Returns whether it
 * reads back as `v`. The text is rebuilt without a decimal point so the
 * check does not depend on the locale.
 */
static bool
digits_at(double v, int p, char dig[18], int *n)
{
    char buf[48], back[48];
    const char *s = buf;
    int i = 0, e10;

    snprintf(buf, sizeof(buf), "%.*e", p - 1, v);
    while (*s != 'e' && *s != '\0') {
        if (*s >= '0' && *s <= '9' && i < 17) {
            dig[i++] = *s;
        }
        s++;
    }
    e10 = *s == 'e' ? atoi(s + 1) : 0;
    dig[i] = '\0';
    *n = e10 + 1;
    snprintf(back, sizeof(back), "%se%d", dig, e10 - (p - 1));
    return strtod(back, NULL) == v;
}

size_t
jcs_format_double(double v, char out[JCS_NUMBER_SIZE])
{
    char dig[18], best[18];
    int lo = 1, hi = 17, n, best_n = 0, k;
    bool neg = v < 0;

    if (!isfinite(v)) {
        out[0] = '\0';
        return 0;
    }
    if (v == 0) {
        out[0] = '0';
        out[1] = '\0';
        return 1;
    }
    if (neg) {
        v = -v;
    }
    if (v < 9007199254740992.0 && v == floor(v)) {
        /* Below 2^53 every integer is a double and its own shortest form. */
        char *w = out;
        size_t len;

        if (neg) {
            *w++ = '-';
        }
        len = (size_t)sprintf(w, "%llu", (unsigned long long)v);
        return len + (size_t)(w - out);
    }
    /*
     * The k-digit decimals contain the (k-1)-digit ones and the rounding
     * interval of v is convex, so "the closest p-digit decimal reads back
     * as v" is monotone in p: binary search for the least p.
     */
    best[0] = '\0';
    while (lo < hi) {
        int mid = (lo + hi) / 2;

        if (digits_at(v, mid, dig, &n)) {
            hi = mid;
            memcpy(best, dig, sizeof(best));
            best_n = n;
        } else {
            lo = mid + 1;
        }
    }
    if (best[0] == '\0' || (int)strlen(best) != lo) {
        digits_at(v, lo, best, &best_n);
    }
    k = (int)strlen(best);
    while (k > 1 && best[k - 1] == '0') {
        k--;
    }
    return layout_number(out, neg, best, k, best_n);
}

/* ---- parser ----------------------------------------------------------- */

static uint32_t
pos(const struct parser *ps, const uint8_t *at)
{
    return (uint32_t)(at - ps->start);
}

static int
fail(struct parser *ps, const char *what, const uint8_t *at)
{
    return pc_errmsgf(ps->errmsg, PC_EINVAL, "%s at byte %u", what,
                      pos(ps, at));
}

static int
fail_nomem(struct parser *ps)
{
    return pc_errmsgf(ps->errmsg, PC_ENOMEM, "out of memory");
}

/* An unexpected byte, shown as a character when printable. */
static int
fail_char(struct parser *ps, const uint8_t *at)
{
    if (at >= ps->end) {
        return fail(ps, "unexpected end of input", at);
    }
    if (*at >= 0x21 && *at < 0x7f) {
        return pc_errmsgf(ps->errmsg, PC_EINVAL,
                          "unexpected character '%c' at byte %u", *at,
                          pos(ps, at));
    }
    return pc_errmsgf(ps->errmsg, PC_EINVAL,
                      "unexpected byte 0x%02x at byte %u", *at, pos(ps, at));
}

static void
skip_ws(struct parser *ps)
{
    const uint8_t *p = ps->p, *end = ps->end;

    while (p < end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t')) {
        p++;
    }
    ps->p = p;
}

static int
push(struct parser *ps, const struct jcs_val *v)
{
    if (ps->stk_len == ps->stk_cap) {
        size_t cap = ps->stk_cap * 2;
        struct jcs_val *s;

        if (ps->stk == ps->stk_local) {
            s = pc_malloc(cap * sizeof(*s));
            if (s != NULL) {
                memcpy(s, ps->stk, ps->stk_len * sizeof(*s));
            }
        } else {
            s = pc_realloc(ps->stk, cap * sizeof(*s));
        }
        if (s == NULL) {
            return fail_nomem(ps);
        }
        ps->stk = s;
        ps->stk_cap = cap;
    }
    ps->stk[ps->stk_len++] = *v;
    return PC_OK;
}

static int
hex4(const uint8_t *p)
{
    int v = 0;

    for (int i = 0; i < 4; i++) {
        int c = p[i], d;

        if (c >= '0' && c <= '9') {
            d = c - '0';
        } else if (c >= 'a' && c <= 'f') {
            d = c - 'a' + 10;
        } else if (c >= 'A' && c <= 'F') {
            d = c - 'A' + 10;
        } else {
            return -1;
        }
        v = v * 16 + d;
    }
    return v;
}

static uint8_t *
put_utf8(uint8_t *w, uint32_t cp)
{
    if (cp < 0x80) {
        *w++ = (uint8_t)cp;
    } else if (cp < 0x800) {
        *w++ = (uint8_t)(0xc0 | cp >> 6);
        *w++ = (uint8_t)(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
        *w++ = (uint8_t)(0xe0 | cp >> 12);
        *w++ = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
        *w++ = (uint8_t)(0x80 | (cp & 0x3f));
    } else {
        *w++ = (uint8_t)(0xf0 | cp >> 18);
        *w++ = (uint8_t)(0x80 | ((cp >> 12) & 0x3f));
        *w++ = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
        *w++ = (uint8_t)(0x80 | (cp & 0x3f));
    }
    return w;
}

/* Bytes the canonical form adds to escape `c`. */
static size_t
escape_extra(uint8_t c)
{
    uint8_t e = escape_byte[c];

    return e == 0 ? 0 : e == 'u' ? 5 : 1;
}

/*
 * Decode the body of a string with escapes, [q, end) where `end` is the
 * closing quote, into `out` (never longer than the input). PC_OK with the
 * decoded length and the bytes canonical escaping will add, or PC_EINVAL.
 */
static int
decode_string(struct parser *ps, const uint8_t *q, const uint8_t *end,
              uint8_t *out, size_t *out_len, size_t *extra)
{
    uint8_t *w = out;
    size_t x = 0;

    while (q < end) {
        uint8_t c = *q;

        if (plain_byte[c]) {
            *w++ = c;
            q++;
        } else if (c == '\\') {
            uint8_t e = q[1]; /* the closing quote bounds every escape */
            int cp;

            switch (e) {
            case '"':
            case '\\':
            case '/':
                c = e;
                break;
            case 'b':
                c = '\b';
                break;
            case 'f':
                c = '\f';
                break;
            case 'n':
                c = '\n';
                break;
            case 'r':
                c = '\r';
                break;
            case 't':
                c = '\t';
                break;
            case 'u':
                if (end - q < 6 || (cp = hex4(q + 2)) < 0) {
                    return fail(ps, "invalid \\u escape", q);
                }
                if (cp >= 0xd800 && cp < 0xdc00) {
                    int lo = -1;

                    if (end - q >= 12 && q[6] == '\\' && q[7] == 'u') {
                        lo = hex4(q + 8);
                    }
                    if (lo < 0xdc00 || lo > 0xdfff) {
                        return pc_errmsgf(ps->errmsg, PC_EINVAL,
                                          "lone surrogate \\u%04x at byte %u",
                                          (unsigned)cp, pos(ps, q));
                    }
                    cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                    q += 6;
                } else if (cp >= 0xdc00 && cp < 0xe000) {
                    return pc_errmsgf(ps->errmsg, PC_EINVAL,
                                      "lone surrogate \\u%04x at byte %u",
                                      (unsigned)cp, pos(ps, q));
                }
                q += 6;
                if (cp < 0x80) {
                    x += escape_extra((uint8_t)cp);
                }
                if (cp == 0) {
                    ps->has_nul = true;
                }
                w = put_utf8(w, (uint32_t)cp);
                continue;
            default:
                return fail(ps, "invalid escape", q);
            }
            x += escape_extra(c);
            *w++ = c;
            q += 2;
        } else if (c < 0x20) {
            return pc_errmsgf(ps->errmsg, PC_EINVAL,
                              "control character 0x%02x in string at byte %u",
                              c, pos(ps, q));
        } else {
            size_t n = utf8_seq(q, (size_t)(end - q));

            if (n == 0) {
                return fail(ps, "invalid utf-8", q);
            }
            memcpy(w, q, n);
            w += n;
            q += n;
        }
    }
    *out_len = (size_t)(w - out);
    *extra = x;
    return PC_OK;
}

/* Whether the 8 bytes at `p` are all plain_byte: none below 0x20, at or
 * above 0x80, '"' or '\\'. Eight at a time: record values are mostly long
 * runs of plain text. */
static bool
plain8(const uint8_t *p)
{
    const uint64_t ones = 0x0101010101010101u, high = 0x8080808080808080u;
    uint64_t x, quote, bslash;

    memcpy(&x, p, 8);
    quote = x ^ (ones * '"');
    bslash = x ^ (ones * '\\');
    /* (v - 1) & ~v has the high bit of each byte that was 0 (and maybe of
     * bytes above one that was): exact for "any". */
    return ((x | (x - ones * 0x20) | ((quote - ones) & ~quote) |
             ((bslash - ones) & ~bslash)) &
            high) == 0;
}

static int
parse_string(struct parser *ps, struct jcs_val *v)
{
    const uint8_t *q = ps->p + 1, *end = ps->end;
    size_t i = 0, n = (size_t)(end - q), len = 0, extra = 0;
    bool plain = true;
    uint8_t *s;
    int rc;

    /* Find the closing quote first so the arena is asked once. */
    for (;;) {
        while (i + 8 <= n && plain8(q + i)) {
            i += 8;
        }
        while (i < n && plain_byte[q[i]]) {
            i++;
        }
        if (i >= n) {
            return fail(ps, "unterminated string", ps->p);
        }
        if (q[i] == '"') {
            break;
        }
        plain = false;
        i += q[i] == '\\' ? 2 : 1;
    }
    s = arena_alloc(ps->doc, i + 1, 1);
    if (s == NULL) {
        return fail_nomem(ps);
    }
    if (plain) {
        memcpy(s, q, i);
        len = i;
    } else {
        rc = decode_string(ps, q, q + i, s, &len, &extra);
        if (rc != PC_OK) {
            return rc;
        }
        arena_trim(ps->doc, s, len + 1);
    }
    s[len] = '\0';
    v->type = JCS_STRING;
    v->plain = extra == 0;
    v->len = (uint32_t)len;
    v->off = pos(ps, ps->p);
    v->u.str = (const char *)s;
    ps->out_len += 2 + len + extra;
    ps->p = q + i + 1;
    return PC_OK;
}

static bool
is_digit(const uint8_t *p, const uint8_t *end)
{
    return p < end && *p >= '0' && *p <= '9';
}

/* Exact powers of ten for the one-rounding fast path (Clinger). */
static const double pow10_exact[] = { 1e0,  1e1,  1e2,  1e3,  1e4,  1e5,
                                      1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
                                      1e12, 1e13, 1e14, 1e15, 1e16, 1e17,
                                      1e18, 1e19, 1e20, 1e21, 1e22 };

/*
 * Value of the number token [b, q): int digits at `ip`, fraction at `fp`,
 * decimal exponent `exp`. Small mantissas and exponents take one exactly
 * rounded operation; the rest go to strtod on a copy without decimal point
 * (so the locale cannot matter).
 */
static int
number_value(struct parser *ps, const uint8_t *ip, size_t ilen,
             const uint8_t *fp, size_t flen, long long exp, bool neg,
             double *out)
{
    char local[128], *buf = local;
    size_t need;
    double d = 0;

    /* Needs each double operation rounded once, as on SSE2 and ARM. */
    if (FLT_EVAL_METHOD == 0 && ilen + flen <= 15) {
        uint64_t m = 0;
        long long e10 = exp - (long long)flen;

        for (size_t i = 0; i < ilen; i++) {
            m = m * 10 + (uint64_t)(ip[i] - '0');
        }
        for (size_t i = 0; i < flen; i++) {
            m = m * 10 + (uint64_t)(fp[i] - '0');
        }
        if (e10 >= -22 && e10 <= 22) {
            d = (double)m;
            d = e10 < 0 ? d / pow10_exact[-e10] : d * pow10_exact[e10];
            *out = neg ? -d : d;
            return PC_OK;
        }
    }
    need = ilen + flen + 32;
    if (need > sizeof(local)) {
        buf = pc_malloc(need);
        if (buf == NULL) {
            return fail_nomem(ps);
        }
    }
    {
        char *w = buf;

        if (neg) {
            *w++ = '-';
        }
        memcpy(w, ip, ilen);
        w += ilen;
        memcpy(w, fp, flen);
        w += flen;
        sprintf(w, "e%lld", exp - (long long)flen);
    }
    d = strtod(buf, NULL);
    if (buf != local) {
        pc_free(buf);
    }
    *out = d;
    return PC_OK;
}

static int
parse_number(struct parser *ps, struct jcs_val *v)
{
    const uint8_t *b = ps->p, *q = b, *end = ps->end;
    const uint8_t *ip, *fp = q;
    size_t ilen, flen = 0, first = SIZE_MAX, last = 0, k;
    long long exp = 0;
    bool neg = false, literal = true;
    char text[JCS_NUMBER_SIZE], dig[16];
    size_t tlen;
    double d = 0;
    int rc;

    if (*q == '-') {
        neg = true;
        q++;
    }
    if (!is_digit(q, end)) {
        return fail(ps, "invalid number", b);
    }
    ip = q;
    if (*q == '0') {
        q++;
        if (is_digit(q, end)) {
            return fail(ps, "leading zero in number", b);
        }
    } else {
        while (is_digit(q, end)) {
            q++;
        }
    }
    ilen = (size_t)(q - ip);
    if (q < end && *q == '.') {
        literal = false;
        q++;
        if (!is_digit(q, end)) {
            return fail(ps, "invalid number", b);
        }
        fp = q;
        while (is_digit(q, end)) {
            q++;
        }
        flen = (size_t)(q - fp);
    }
    if (q < end && (*q == 'e' || *q == 'E')) {
        bool eneg = false;

        literal = false;
        q++;
        if (q < end && (*q == '+' || *q == '-')) {
            eneg = *q == '-';
            q++;
        }
        if (!is_digit(q, end)) {
            return fail(ps, "invalid number", b);
        }
        /* Saturate: beyond 10^15 the value is 0 or infinite anyway. */
        while (is_digit(q, end)) {
            if (exp < 1000000000000000LL) {
                exp = exp * 10 + (*q - '0');
            }
            q++;
        }
        if (eneg) {
            exp = -exp;
        }
    }
    rc = number_value(ps, ip, ilen, fp, flen, exp, neg, &d);
    if (rc != PC_OK) {
        return rc;
    }
    if (!isfinite(d)) {
        return fail(ps, "number overflows a double", b);
    }

    /* Significant digits of the token: first and last non-zero. */
    for (size_t i = 0; i < ilen + flen; i++) {
        uint8_t c = i < ilen ? ip[i] : fp[i - ilen];

        if (c != '0') {
            if (first == SIZE_MAX) {
                first = i;
            }
            last = i;
        }
    }
    k = first == SIZE_MAX ? 0 : last - first + 1;
    if (k > 0 && k <= 15 && fabs(d) >= DBL_MIN) {
        /*
         * Distinct decimals of at most 15 digits (DBL_DIG) stay distinct
         * as normal doubles, so the token's own digits are the shortest
         * that round-trip: format them without consulting the double.
         */
        for (size_t i = 0; i < k; i++) {
            size_t j = first + i;

            dig[i] = (char)(j < ilen ? ip[j] : fp[j - ilen]);
        }
        tlen = layout_number(text, neg, dig, (int)k,
                             (int)((long long)ilen - (long long)first + exp));
    } else {
        tlen = jcs_format_double(d, text);
    }
    v->u.str = arena_alloc(ps->doc, tlen, 1);
    if (v->u.str == NULL) {
        return fail_nomem(ps);
    }
    memcpy((char *)v->u.str, text, tlen);
    v->type = JCS_NUMBER;
    v->plain = literal;
    v->len = (uint32_t)tlen;
    v->off = pos(ps, b);
    v->num = d;
    ps->out_len += tlen;
    ps->p = q;
    return PC_OK;
}

static int parse_value(struct parser *ps, struct jcs_val *v);

/* Move the children pushed since `base` into the arena. */
static int
collect(struct parser *ps, size_t base, struct jcs_val **out)
{
    size_t n = ps->stk_len - base;

    *out = NULL;
    if (n == 0) {
        return PC_OK;
    }
    *out = arena_alloc(ps->doc, n * sizeof(**out), ARENA_ALIGN);
    if (*out == NULL) {
        return fail_nomem(ps);
    }
    memcpy(*out, ps->stk + base, n * sizeof(**out));
    ps->stk_len = base;
    return PC_OK;
}

static int
parse_array(struct parser *ps, struct jcs_val *v)
{
    const uint8_t *open = ps->p;
    size_t base = ps->stk_len, n;
    struct jcs_val item;
    int rc;

    ps->p++;
    skip_ws(ps);
    if (ps->p < ps->end && *ps->p == ']') {
        ps->p++;
    } else {
        for (;;) {
            rc = parse_value(ps, &item);
            if (rc != PC_OK) {
                return rc;
            }
            rc = push(ps, &item);
            if (rc != PC_OK) {
                return rc;
            }
            skip_ws(ps);
            if (ps->p < ps->end && *ps->p == ',') {
                ps->p++;
                skip_ws(ps);
                continue;
            }
            if (ps->p < ps->end && *ps->p == ']') {
                ps->p++;
                break;
            }
            if (ps->p >= ps->end) {
                return fail(ps, "unexpected end of input", ps->p);
            }
            return fail(ps, "expected ',' or ']'", ps->p);
        }
    }
    n = ps->stk_len - base;
    rc = collect(ps, base, &v->u.kids);
    if (rc != PC_OK) {
        return rc;
    }
    v->type = JCS_ARRAY;
    v->len = (uint32_t)n;
    v->off = pos(ps, open);
    ps->out_len += 2 + (n > 0 ? n - 1 : 0);
    return PC_OK;
}

/* Show a key in a message: escaped, cut at a character boundary. */
static void
key_excerpt(char *out, size_t cap, const struct jcs_val *key)
{
    const uint8_t *s = (const uint8_t *)key->u.str;
    size_t i = 0, o = 0;

    while (i < key->len && o + 8 < cap) {
        uint8_t c = s[i];
        size_t n = c < 0x80 ? 1 : utf8_seq(s + i, key->len - i);

        n = n == 0 ? 1 : n;

        if (o >= 40) {
            memcpy(out + o, "...", 3);
            o += 3;
            break;
        }
        if (c < 0x20 || c == '"' || c == '\\') {
            o += (size_t)snprintf(out + o, cap - o, "\\u%04x", c);
        } else {
            memcpy(out + o, s + i, n);
            o += n;
        }
        i += n;
    }
    out[o] = '\0';
}

static int
check_duplicates(struct parser *ps, const struct jcs_val *kids, size_t n)
{
    const struct jcs_val *dup = NULL;
    char shown[64];

    /* Sorted with ties in input order: a duplicate follows its first. */
    for (size_t i = 1; i < n; i++) {
        const struct jcs_val *a = &kids[2 * (i - 1)], *b = &kids[2 * i];

        if (a->len == b->len && memcmp(a->u.str, b->u.str, a->len) == 0 &&
            (dup == NULL || b->off < dup->off)) {
            dup = b;
        }
    }
    if (dup == NULL) {
        return PC_OK;
    }
    key_excerpt(shown, sizeof(shown), dup);
    return pc_errmsgf(ps->errmsg, PC_EINVAL, "duplicate key \"%s\" at byte %u",
                      shown, dup->off);
}

static int
parse_object(struct parser *ps, struct jcs_val *v)
{
    const uint8_t *open = ps->p;
    size_t base = ps->stk_len, n;
    struct jcs_val key, val;
    int rc;

    ps->p++;
    skip_ws(ps);
    if (ps->p < ps->end && *ps->p == '}') {
        ps->p++;
    } else {
        for (;;) {
            if (ps->p >= ps->end) {
                return fail(ps, "unexpected end of input", ps->p);
            }
            if (*ps->p != '"') {
                return fail(ps, "expected string key", ps->p);
            }
            rc = parse_string(ps, &key);
            if (rc != PC_OK) {
                return rc;
            }
            rc = push(ps, &key);
            if (rc != PC_OK) {
                return rc;
            }
            skip_ws(ps);
            if (ps->p >= ps->end) {
                return fail(ps, "unexpected end of input", ps->p);
            }
            if (*ps->p != ':') {
                return fail(ps, "expected ':'", ps->p);
            }
            ps->p++;
            skip_ws(ps);
            rc = parse_value(ps, &val);
            if (rc != PC_OK) {
                return rc;
            }
            rc = push(ps, &val);
            if (rc != PC_OK) {
                return rc;
            }
            skip_ws(ps);
            if (ps->p < ps->end && *ps->p == ',') {
                ps->p++;
                skip_ws(ps);
                continue;
            }
            if (ps->p < ps->end && *ps->p == '}') {
                ps->p++;
                break;
            }
            if (ps->p >= ps->end) {
                return fail(ps, "unexpected end of input", ps->p);
            }
            return fail(ps, "expected ',' or '}'", ps->p);
        }
    }
    n = (ps->stk_len - base) / 2;
    rc = collect(ps, base, &v->u.kids);
    if (rc != PC_OK) {
        return rc;
    }
    sort_members(v->u.kids, n);
    rc = check_duplicates(ps, v->u.kids, n);
    if (rc != PC_OK) {
        return rc;
    }
    v->type = JCS_OBJECT;
    v->len = (uint32_t)n;
    v->off = pos(ps, open);
    ps->out_len += 2 + n + (n > 0 ? n - 1 : 0);
    return PC_OK;
}

static int
parse_literal(struct parser *ps, struct jcs_val *v, const char *word,
              enum jcs_type type)
{
    size_t n = strlen(word);

    if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, word, n) != 0) {
        return fail(ps, "invalid literal", ps->p);
    }
    v->type = (uint8_t)type;
    v->len = 0;
    v->off = pos(ps, ps->p);
    v->u.str = NULL;
    ps->p += n;
    ps->out_len += n;
    return PC_OK;
}

static int
parse_value(struct parser *ps, struct jcs_val *v)
{
    int rc;

    if (ps->p >= ps->end) {
        return fail(ps, "unexpected end of input", ps->p);
    }
    if (++ps->n_values > JCS_MAX_VALUES) {
        return pc_errmsgf(ps->errmsg, PC_EINVAL,
                          "more than %d values at byte %u", JCS_MAX_VALUES,
                          pos(ps, ps->p));
    }
    v->plain = 0;
    v->num = 0;
    switch (*ps->p) {
    case '{':
    case '[':
        if (++ps->depth > JCS_MAX_DEPTH) {
            return pc_errmsgf(ps->errmsg, PC_EINVAL,
                              "nesting deeper than %d at byte %u",
                              JCS_MAX_DEPTH, pos(ps, ps->p));
        }
        rc = *ps->p == '{' ? parse_object(ps, v) : parse_array(ps, v);
        ps->depth--;
        return rc;
    case '"':
        return parse_string(ps, v);
    case 't':
        return parse_literal(ps, v, "true", JCS_TRUE);
    case 'f':
        return parse_literal(ps, v, "false", JCS_FALSE);
    case 'n':
        return parse_literal(ps, v, "null", JCS_NULL);
    case '-':
    case '0':
    case '1':
    case '2':
    case '3':
    case '4':
    case '5':
    case '6':
    case '7':
    case '8':
    case '9':
        return parse_number(ps, v);
    default:
        return fail_char(ps, ps->p);
    }
}

int
jcs_parse(const char *text, size_t len, struct jcs_doc **out, char *errmsg)
{
    struct jcs_val local[STACK_LOCAL];
    struct parser ps;
    struct jcs_doc *d;
    int rc;

    if (len >= UINT32_MAX) {
        return pc_errmsgf(errmsg, PC_EINVAL, "document too large (%zu bytes)",
                          len);
    }
    if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0) {
        return pc_errmsgf(errmsg, PC_EINVAL, "byte order mark at byte 0");
    }
    d = doc_new(len);
    if (d == NULL) {
        return pc_errmsgf(errmsg, PC_ENOMEM, "out of memory");
    }
    memset(&ps, 0, sizeof(ps));
    ps.start = (const uint8_t *)text;
    ps.p = ps.start;
    ps.end = ps.start + len;
    ps.doc = d;
    ps.stk = local;
    ps.stk_local = local;
    ps.stk_cap = STACK_LOCAL;
    ps.errmsg = errmsg;

    skip_ws(&ps);
    rc = parse_value(&ps, &d->root);
    if (rc != PC_OK) {
        goto err;
    }
    skip_ws(&ps);
    if (ps.p != ps.end) {
        rc = fail(&ps, "trailing data", ps.p);
        goto err;
    }
    d->out_len = ps.out_len;
    d->has_nul = ps.has_nul;
    if (ps.stk != local) {
        pc_free(ps.stk);
    }
    *out = d;
    return PC_OK;

err:
    if (ps.stk != local) {
        pc_free(ps.stk);
    }
    jcs_doc_free(d);
    return rc;
}

/* ---- output ----------------------------------------------------------- */

static uint8_t *
emit_string(uint8_t *w, const struct jcs_val *s)
{
    static const char hex[] = "0123456789abcdef";
    const uint8_t *p = (const uint8_t *)s->u.str;

    *w++ = '"';
    if (s->plain) {
        memcpy(w, p, s->len);
        w += s->len;
    } else {
        for (uint32_t i = 0; i < s->len; i++) {
            uint8_t c = p[i], e = escape_byte[c];

            if (e == 0) {
                *w++ = c;
            } else if (e == 'u') {
                memcpy(w, "\\u00", 4);
                w[4] = (uint8_t)hex[c >> 4];
                w[5] = (uint8_t)hex[c & 15];
                w += 6;
            } else {
                w[0] = '\\';
                w[1] = e;
                w += 2;
            }
        }
    }
    *w++ = '"';
    return w;
}

static uint8_t *
emit_val(uint8_t *w, const struct jcs_val *v)
{
    switch ((enum jcs_type)v->type) {
    case JCS_NULL:
        memcpy(w, "null", 4);
        return w + 4;
    case JCS_FALSE:
        memcpy(w, "false", 5);
        return w + 5;
    case JCS_TRUE:
        memcpy(w, "true", 4);
        return w + 4;
    case JCS_NUMBER:
        memcpy(w, v->u.str, v->len);
        return w + v->len;
    case JCS_STRING:
        return emit_string(w, v);
    case JCS_ARRAY:
        *w++ = '[';
        for (uint32_t i = 0; i < v->len; i++) {
            if (i > 0) {
                *w++ = ',';
            }
            w = emit_val(w, &v->u.kids[i]);
        }
        *w++ = ']';
        return w;
    case JCS_OBJECT:
        *w++ = '{';
        for (uint32_t i = 0; i < v->len; i++) {
            if (i > 0) {
                *w++ = ',';
            }
            w = emit_string(w, &v->u.kids[2 * i]);
            *w++ = ':';
            w = emit_val(w, &v->u.kids[2 * i + 1]);
        }
        *w++ = '}';
        return w;
    }
    return w;
}

int
jcs_emit(const struct jcs_doc *d, struct pc_buf *out)
{
    uint8_t *start, *end;

    if (pc_buf_reserve(out, d->out_len) != PC_OK) {
        return PC_ENOMEM;
    }
    start = out->data + out->len;
    end = emit_val(start, &d->root);
    /* The size computed while parsing is exact, not a bound. */
    assert((size_t)(end - start) == d->out_len);
    out->len += d->out_len;
    return PC_OK;
}

int
jcs_emit_value(const struct jcs_doc *d, const struct jcs_val *v,
               struct pc_buf *out)
{
    uint8_t *start, *end;

    if (pc_buf_reserve(out, d->out_len) != PC_OK) {
        return PC_ENOMEM;
    }
    start = out->data + out->len;
    end = emit_val(start, v);
    assert((size_t)(end - start) <= d->out_len);
    out->len += (size_t)(end - start);
    return PC_OK;
}

int
jcs_canonicalize(const char *text, size_t len, struct pc_buf *out, char *errmsg)
{
    struct jcs_doc *d;
    int rc;

    rc = jcs_parse(text, len, &d, errmsg);
    if (rc != PC_OK) {
        return rc;
    }
    rc = jcs_emit(d, out);
    if (rc != PC_OK) {
        pc_errmsgf(errmsg, rc, "out of memory");
    }
    jcs_doc_free(d);
    return rc;
}

/* ---- read access ------------------------------------------------------ */

const struct jcs_val *
jcs_root(const struct jcs_doc *d)
{
    return &d->root;
}

enum jcs_type
jcs_type(const struct jcs_val *v)
{
    return (enum jcs_type)v->type;
}

double
jcs_number(const struct jcs_val *v)
{
    return v->type == JCS_NUMBER ? v->num : 0;
}

bool
jcs_is_integer(const struct jcs_val *v)
{
    return v->type == JCS_NUMBER && v->num == floor(v->num) &&
           fabs(v->num) <= 9007199254740991.0;
}

bool
jcs_is_int_literal(const struct jcs_val *v)
{
    return v->type == JCS_NUMBER && v->plain;
}

size_t
jcs_offset(const struct jcs_val *v)
{
    return v->off;
}

bool
jcs_has_nul(const struct jcs_doc *d)
{
    return d->has_nul;
}

const char *
jcs_string(const struct jcs_val *v, size_t *len)
{
    if (v->type != JCS_STRING) {
        return NULL;
    }
    if (len != NULL) {
        *len = v->len;
    }
    return v->u.str;
}

size_t
jcs_len(const struct jcs_val *v)
{
    return v->type == JCS_ARRAY || v->type == JCS_OBJECT ? v->len : 0;
}

const struct jcs_val *
jcs_at(const struct jcs_val *v, size_t i)
{
    if (v->type == JCS_ARRAY && i < v->len) {
        return &v->u.kids[i];
    }
    if (v->type == JCS_OBJECT && i < v->len) {
        return &v->u.kids[2 * i + 1];
    }
    return NULL;
}

const struct jcs_val *
jcs_get(const struct jcs_val *obj, const char *key, size_t klen)
{
    size_t lo = 0, hi;

    if (obj->type != JCS_OBJECT) {
        return NULL;
    }
    hi = obj->len;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const struct jcs_val *k = &obj->u.kids[2 * mid];
        int c = key_cmp((const uint8_t *)key, klen, (const uint8_t *)k->u.str,
                        k->len);

        if (c == 0) {
            return k + 1;
        }
        if (c < 0) {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    return NULL;
}

const char *
jcs_key(const struct jcs_val *obj, size_t i, size_t *len)
{
    if (obj->type != JCS_OBJECT || i >= obj->len) {
        return NULL;
    }
    if (len != NULL) {
        *len = obj->u.kids[2 * i].len;
    }
    return obj->u.kids[2 * i].u.str;
}

/* ---- writer ----------------------------------------------------------- */

void
jcs_w_init(struct jcs_writer *w, struct pc_buf *out)
{
    w->out = out;
    w->start = out->len;
    w->rc = PC_OK;
    w->depth = 0;
    w->want_value = false;
    w->done = false;
}

int
jcs_w_finish(struct jcs_writer *w)
{
    if (w->rc == PC_OK) {
        assert(w->done && w->depth == 0);
    }
    return w->rc;
}

/* Record the first error; the buffer goes back to where the value began. */
static void
w_fail(struct jcs_writer *w, int rc)
{
    if (w->rc == PC_OK) {
        w->rc = rc;
        w->out->len = w->start;
    }
}

static void
w_put(struct jcs_writer *w, const void *p, size_t n)
{
    if (w->rc == PC_OK && pc_buf_put(w->out, p, n) != PC_OK) {
        w_fail(w, PC_ENOMEM);
    }
}

/* Whether a value may be written now (asserting where it goes), after
 * the comma an array item needs. */
static bool
w_value(struct jcs_writer *w)
{
    if (w->rc != PC_OK) {
        return false;
    }
    assert(!w->done);
    if (w->depth > 0) {
        if (w->lv[w->depth - 1].object) {
            assert(w->want_value);
            w->want_value = false;
        } else {
            if (!w->lv[w->depth - 1].empty) {
                w_put(w, ",", 1);
            }
            w->lv[w->depth - 1].empty = false;
        }
    }
    return w->rc == PC_OK;
}

/* A scalar (or a spliced value) is complete. */
static void
w_value_end(struct jcs_writer *w)
{
    if (w->depth == 0) {
        w->done = true;
    }
}

/* `len` bytes of `s` as a JSON string, escaped as jcs_emit does. */
static void
w_string(struct jcs_writer *w, const char *s, size_t len)
{
    struct jcs_val v;
    size_t extra = 0;
    uint8_t *at;

    if (len >= UINT32_MAX || !jcs_utf8_valid((const uint8_t *)s, len)) {
        w_fail(w, PC_EINVAL);
        return;
    }
    for (size_t i = 0; i < len; i++) {
        extra += escape_extra((uint8_t)s[i]);
    }
    if (pc_buf_reserve(w->out, len + extra + 2) != PC_OK) {
        w_fail(w, PC_ENOMEM);
        return;
    }
    v.type = JCS_STRING;
    v.plain = extra == 0;
    v.len = (uint32_t)len;
    v.u.str = s;
    at = w->out->data + w->out->len;
    w->out->len += (size_t)(emit_string(at, &v) - at);
}

/* The next byte of a string as written (escaped, no quotes) at `*i`. */
static uint8_t
unescape_next(const uint8_t *esc, size_t *i)
{
    uint8_t c = esc[(*i)++];

    if (c != '\\') {
        return c;
    }
    c = esc[(*i)++];
    switch (c) {
    case 'b':
        return '\b';
    case 'f':
        return '\f';
    case 'n':
        return '\n';
    case 'r':
        return '\r';
    case 't':
        return '\t';
    case 'u':
        *i += 4; /* \u00xx: only control characters are written so */
        return (uint8_t)hex4(esc + *i - 4);
    default:
        return c; /* '"' or '\\' */
    }
}

/* Compare the key written escaped at `esc` (`n` bytes) with the raw key
 * `key` in canonical order. */
static int
w_key_cmp(const uint8_t *esc, size_t n, const uint8_t *key, size_t klen)
{
    size_t i = 0, j = 0;

    while (i < n && j < klen) {
        uint8_t x = unescape_next(esc, &i), y = key[j++];

        if (x != y) {
            return byte_order(x, y);
        }
    }
    return i < n ? 1 : j < klen ? -1 : 0;
}

void
jcs_w_keyn(struct jcs_writer *w, const char *key, size_t len)
{
    size_t at;

    if (w->rc != PC_OK) {
        return;
    }
    assert(w->depth > 0 && w->lv[w->depth - 1].object && !w->want_value);
    if (!w->lv[w->depth - 1].empty) {
        /* Strictly after the previous key: canonical order, no repeats.
         * Checked on the key as written (an invalid one fails below). */
        assert(!jcs_utf8_valid((const uint8_t *)key, len) ||
               w_key_cmp(w->out->data + w->lv[w->depth - 1].key,
                         w->lv[w->depth - 1].key_len, (const uint8_t *)key,
                         len) < 0);
        w_put(w, ",", 1);
    }
    at = w->out->len + 1;
    w_string(w, key, len);
    w_put(w, ":", 1);
    if (w->rc != PC_OK) {
        return;
    }
    w->lv[w->depth - 1].key = at;
    w->lv[w->depth - 1].key_len = w->out->len - 2 - at;
    w->lv[w->depth - 1].empty = false;
    w->want_value = true;
}

void
jcs_w_key(struct jcs_writer *w, const char *key)
{
    jcs_w_keyn(w, key, strlen(key));
}

static void
w_open(struct jcs_writer *w, bool object)
{
    if (!w_value(w)) {
        return;
    }
    assert(w->depth < JCS_W_MAX_DEPTH);
    w_put(w, object ? "{" : "[", 1);
    w->lv[w->depth].object = object;
    w->lv[w->depth].empty = true;
    w->depth++;
}

static void
w_close(struct jcs_writer *w, bool object)
{
    if (w->rc != PC_OK) {
        return;
    }
    assert(w->depth > 0 && w->lv[w->depth - 1].object == object &&
           !w->want_value);
    w_put(w, object ? "}" : "]", 1);
    w->depth--;
    w_value_end(w);
}

void
jcs_w_obj(struct jcs_writer *w)
{
    w_open(w, true);
}

void
jcs_w_obj_end(struct jcs_writer *w)
{
    w_close(w, true);
}

void
jcs_w_arr(struct jcs_writer *w)
{
    w_open(w, false);
}

void
jcs_w_arr_end(struct jcs_writer *w)
{
    w_close(w, false);
}

void
jcs_w_strn(struct jcs_writer *w, const char *s, size_t len)
{
    if (w_value(w)) {
        w_string(w, s, len);
        w_value_end(w);
    }
}

void
jcs_w_str(struct jcs_writer *w, const char *s)
{
    jcs_w_strn(w, s, strlen(s));
}

void
jcs_w_int(struct jcs_writer *w, int64_t v)
{
    char text[JCS_NUMBER_SIZE], *p = text + sizeof(text);
    uint64_t u = v < 0 ? -(uint64_t)v : (uint64_t)v;
    size_t n;

    if (!w_value(w)) {
        return;
    }
    if (u < (UINT64_C(1) << 53)) {
        /* Exact as a double, so its own canonical form. */
        do {
            *--p = (char)('0' + u % 10);
            u /= 10;
        } while (u > 0);
        if (v < 0) {
            *--p = '-';
        }
        n = (size_t)(text + sizeof(text) - p);
    } else {
        n = jcs_format_double((double)v, text);
        p = text;
    }
    w_put(w, p, n);
    w_value_end(w);
}

void
jcs_w_double(struct jcs_writer *w, double v)
{
    char text[JCS_NUMBER_SIZE];

    if (!isfinite(v)) {
        w_fail(w, PC_EINVAL);
        return;
    }
    if (w_value(w)) {
        w_put(w, text, jcs_format_double(v, text));
        w_value_end(w);
    }
}

void
jcs_w_bool(struct jcs_writer *w, bool v)
{
    if (w_value(w)) {
        w_put(w, v ? "true" : "false", v ? 4 : 5);
        w_value_end(w);
    }
}

void
jcs_w_null(struct jcs_writer *w)
{
    if (w_value(w)) {
        w_put(w, "null", 4);
        w_value_end(w);
    }
}

void
jcs_w_val(struct jcs_writer *w, const struct jcs_doc *d,
          const struct jcs_val *v)
{
    if (w_value(w)) {
        if (jcs_emit_value(d, v, w->out) != PC_OK) {
            w_fail(w, PC_ENOMEM);
        }
        w_value_end(w);
    }
}

void
jcs_w_raw(struct jcs_writer *w, const void *json, size_t len)
{
    if (w_value(w)) {
        w_put(w, json, len);
        w_value_end(w);
    }
}

void
jcs_w_kstr(struct jcs_writer *w, const char *key, const char *s)
{
    jcs_w_key(w, key);
    jcs_w_str(w, s);
}

void
jcs_w_kint(struct jcs_writer *w, const char *key, int64_t v)
{
    jcs_w_key(w, key);
    jcs_w_int(w, v);
}

void
jcs_w_kbool(struct jcs_writer *w, const char *key, bool v)
{
    jcs_w_key(w, key);
    jcs_w_bool(w, v);
}

void
jcs_w_knull(struct jcs_writer *w, const char *key)
{
    jcs_w_key(w, key);
    jcs_w_null(w);
}
