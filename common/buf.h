/* SPDX-License-Identifier: MIT */
/*
 * Growable byte buffers for writing, bounded cursors for reading, and the
 * varint / length-prefixed encodings every provcat format uses. Readers never
 * trust their input: running past the end is PC_ECORRUPT, never a crash.
 */
#ifndef PC_BUF_H
#define PC_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A borrowed run of bytes; the owner states how long it stays valid. */
struct pc_slice {
    const uint8_t *p;
    size_t len;
};

#define PC_SLICE_STR(s) ((struct pc_slice){ (const uint8_t *)(s), strlen(s) })

/* A heap buffer: `data` holds `len` bytes of `cap` allocated. */
struct pc_buf {
    uint8_t *data;
    size_t len;
    size_t cap;
};

void pc_buf_init(struct pc_buf *b);
/* Free the memory and reset to empty. Accepts a zeroed buffer. */
void pc_buf_release(struct pc_buf *b);
/* Make room for `extra` more bytes. PC_OK or PC_ENOMEM (`b` unchanged). */
int pc_buf_reserve(struct pc_buf *b, size_t extra);
/* Take the bytes out of `b` (caller frees with pc_free); `b` becomes empty. */
uint8_t *pc_buf_detach(struct pc_buf *b, size_t *len);

/* Each put returns PC_OK or PC_ENOMEM; on failure `b->len` is unchanged. */
int pc_buf_put(struct pc_buf *b, const void *p, size_t n);
int pc_buf_put_u8(struct pc_buf *b, uint8_t v);
int pc_buf_put_u32le(struct pc_buf *b, uint32_t v);
int pc_buf_put_u64le(struct pc_buf *b, uint64_t v);
/* LEB128 unsigned varint, at most 10 bytes. */
int pc_buf_put_uvarint(struct pc_buf *b, uint64_t v);
/* Zigzag-encoded signed varint. */
int pc_buf_put_svarint(struct pc_buf *b, int64_t v);
/* uvarint length, then the bytes. */
int pc_buf_put_lp(struct pc_buf *b, const void *p, size_t n);
/* printf into the buffer (no NUL counted in len, but one is kept after). */
/* `v` in decimal ASCII; the hot answer paths' printf("%llu"). */
int pc_buf_put_dec(struct pc_buf *b, uint64_t v);
/* `n` bytes as lower-case hex. */
int pc_buf_put_hex(struct pc_buf *b, const uint8_t *p, size_t n);
int pc_buf_printf(struct pc_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Encode `v` as a uvarint into `out` (10 bytes); returns the length. */
size_t pc_uvarint_encode(uint8_t out[10], uint64_t v);

/* A read cursor over borrowed bytes. */
struct pc_rd {
    const uint8_t *p;
    size_t len;
    size_t off;
};

static inline void
pc_rd_init(struct pc_rd *r, const void *p, size_t len)
{
    r->p = p;
    r->len = len;
    r->off = 0;
}

static inline size_t
pc_rd_left(const struct pc_rd *r)
{
    return r->len - r->off;
}

/*
 * Each get returns PC_OK or PC_ECORRUPT (short input, overlong or
 * non-minimal varint); on error the cursor does not move.
 */
int pc_rd_u8(struct pc_rd *r, uint8_t *v);
int pc_rd_u32le(struct pc_rd *r, uint32_t *v);
int pc_rd_u64le(struct pc_rd *r, uint64_t *v);
int pc_rd_uvarint(struct pc_rd *r, uint64_t *v);
int pc_rd_svarint(struct pc_rd *r, int64_t *v);
/* Borrow the next `n` bytes. */
int pc_rd_bytes(struct pc_rd *r, size_t n, struct pc_slice *out);
/* A uvarint length then that many bytes, at most `max` of them. */
int pc_rd_lp(struct pc_rd *r, size_t max, struct pc_slice *out);

#endif
