/* SPDX-License-Identifier: MIT */
/* Byte buffers, varints and bounded readers. */
#include "common/buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/alloc.h"
#include "common/err.h"
#include "common/hash.h"

void
pc_buf_init(struct pc_buf *b)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}

void
pc_buf_release(struct pc_buf *b)
{
    if (b == NULL) {
        return;
    }
    pc_free(b->data);
    pc_buf_init(b);
}

int
pc_buf_reserve(struct pc_buf *b, size_t extra)
{
    size_t need, cap;
    uint8_t *p;

    if (extra > SIZE_MAX - b->len) {
        return PC_ENOMEM;
    }
    need = b->len + extra;
    if (need <= b->cap) {
        return PC_OK;
    }
    cap = b->cap < 64 ? 64 : b->cap;
    while (cap < need) {
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    }
    p = pc_realloc(b->data, cap);
    if (p == NULL) {
        return PC_ENOMEM;
    }
    b->data = p;
    b->cap = cap;
    return PC_OK;
}

uint8_t *
pc_buf_detach(struct pc_buf *b, size_t *len)
{
    uint8_t *p = b->data;

    if (len != NULL) {
        *len = b->len;
    }
    pc_buf_init(b);
    return p;
}

int
pc_buf_put(struct pc_buf *b, const void *p, size_t n)
{
    if (n == 0) {
        return PC_OK;
    }
    if (pc_buf_reserve(b, n) != PC_OK) {
        return PC_ENOMEM;
    }
    memcpy(b->data + b->len, p, n);
    b->len += n;
    return PC_OK;
}

int
pc_buf_put_u8(struct pc_buf *b, uint8_t v)
{
    return pc_buf_put(b, &v, 1);
}

int
pc_buf_put_u32le(struct pc_buf *b, uint32_t v)
{
    uint8_t x[4];

    for (int i = 0; i < 4; i++) {
        x[i] = (uint8_t)(v >> (8 * i));
    }
    return pc_buf_put(b, x, sizeof(x));
}

int
pc_buf_put_u64le(struct pc_buf *b, uint64_t v)
{
    uint8_t x[8];

    for (int i = 0; i < 8; i++) {
        x[i] = (uint8_t)(v >> (8 * i));
    }
    return pc_buf_put(b, x, sizeof(x));
}

size_t
pc_uvarint_encode(uint8_t out[10], uint64_t v)
{
    size_t n = 0;

    while (v >= 0x80) {
        out[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    out[n++] = (uint8_t)v;
    return n;
}

int
pc_buf_put_uvarint(struct pc_buf *b, uint64_t v)
{
    uint8_t x[10];

    return pc_buf_put(b, x, pc_uvarint_encode(x, v));
}

int
pc_buf_put_svarint(struct pc_buf *b, int64_t v)
{
    uint64_t z = ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);

    return pc_buf_put_uvarint(b, z);
}

int
pc_buf_put_lp(struct pc_buf *b, const void *p, size_t n)
{
    size_t old = b->len;

    if (pc_buf_put_uvarint(b, n) != PC_OK || pc_buf_put(b, p, n) != PC_OK) {
        b->len = old;
        return PC_ENOMEM;
    }
    return PC_OK;
}

int
pc_buf_put_dec(struct pc_buf *b, uint64_t v)
{
    char tmp[20];
    size_t n = 0;

    do {
        tmp[sizeof(tmp) - ++n] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    return pc_buf_put(b, tmp + sizeof(tmp) - n, n);
}

int
pc_buf_put_hex(struct pc_buf *b, const uint8_t *p, size_t n)
{
    if (pc_buf_reserve(b, 2 * n + 1) != PC_OK) {
        return PC_ENOMEM;
    }
    pc_hex((char *)b->data + b->len, p, n);
    b->len += 2 * n;
    return PC_OK;
}

int
pc_buf_printf(struct pc_buf *b, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || pc_buf_reserve(b, (size_t)n + 1) != PC_OK) {
        return PC_ENOMEM;
    }
    va_start(ap, fmt);
    vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return PC_OK;
}

int
pc_rd_u8(struct pc_rd *r, uint8_t *v)
{
    if (pc_rd_left(r) < 1) {
        return PC_ECORRUPT;
    }
    *v = r->p[r->off++];
    return PC_OK;
}

int
pc_rd_u32le(struct pc_rd *r, uint32_t *v)
{
    uint32_t x = 0;

    if (pc_rd_left(r) < 4) {
        return PC_ECORRUPT;
    }
    for (int i = 0; i < 4; i++) {
        x |= (uint32_t)r->p[r->off + i] << (8 * i);
    }
    r->off += 4;
    *v = x;
    return PC_OK;
}

int
pc_rd_u64le(struct pc_rd *r, uint64_t *v)
{
    uint64_t x = 0;

    if (pc_rd_left(r) < 8) {
        return PC_ECORRUPT;
    }
    for (int i = 0; i < 8; i++) {
        x |= (uint64_t)r->p[r->off + i] << (8 * i);
    }
    r->off += 8;
    *v = x;
    return PC_OK;
}

int
pc_rd_uvarint(struct pc_rd *r, uint64_t *v)
{
    uint64_t x = 0;
    size_t i;

    for (i = 0; i < 10 && r->off + i < r->len; i++) {
        uint8_t c = r->p[r->off + i];

        if (i == 9 && c > 1) {
            return PC_ECORRUPT; /* more than 64 bits */
        }
        x |= (uint64_t)(c & 0x7f) << (7 * i);
        if ((c & 0x80) == 0) {
            if (c == 0 && i > 0) {
                return PC_ECORRUPT; /* non-minimal: one encoding per value */
            }
            r->off += i + 1;
            *v = x;
            return PC_OK;
        }
    }
    return PC_ECORRUPT;
}

int
pc_rd_svarint(struct pc_rd *r, int64_t *v)
{
    uint64_t z;
    int rc = pc_rd_uvarint(r, &z);

    if (rc != PC_OK) {
        return rc;
    }
    *v = (int64_t)(z >> 1) ^ -(int64_t)(z & 1);
    return PC_OK;
}

int
pc_rd_bytes(struct pc_rd *r, size_t n, struct pc_slice *out)
{
    if (pc_rd_left(r) < n) {
        return PC_ECORRUPT;
    }
    out->p = r->p + r->off;
    out->len = n;
    r->off += n;
    return PC_OK;
}

int
pc_rd_lp(struct pc_rd *r, size_t max, struct pc_slice *out)
{
    size_t save = r->off;
    uint64_t n;

    if (pc_rd_uvarint(r, &n) != PC_OK) {
        return PC_ECORRUPT;
    }
    if (n > max || n > pc_rd_left(r)) {
        r->off = save;
        return PC_ECORRUPT;
    }
    return pc_rd_bytes(r, (size_t)n, out);
}
