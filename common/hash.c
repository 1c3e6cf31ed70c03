/* SPDX-License-Identifier: MIT */
/* Domain-separated BLAKE2b-256 and hex helpers. */
#include "common/hash.h"

#include <sodium.h>

void
pc_hash(uint8_t out[PC_HASH_LEN], const void *p, size_t n)
{
    crypto_generichash(out, PC_HASH_LEN, p, n, NULL, 0);
}

void
pc_hash_prefixed(uint8_t out[PC_HASH_LEN], uint8_t prefix, const void *a,
                 size_t alen, const void *b, size_t blen)
{
    crypto_generichash_state st;

    crypto_generichash_init(&st, NULL, 0, PC_HASH_LEN);
    crypto_generichash_update(&st, &prefix, 1);
    if (alen > 0) {
        crypto_generichash_update(&st, a, alen);
    }
    if (blen > 0) {
        crypto_generichash_update(&st, b, blen);
    }
    crypto_generichash_final(&st, out, PC_HASH_LEN);
}

void
pc_hash_content(uint8_t out[PC_HASH_LEN], const uint8_t salt[PC_SALT_LEN],
                const void *doc, size_t len)
{
    pc_hash_prefixed(out, PC_HASH_CONTENT, salt, PC_SALT_LEN, doc, len);
}

void
pc_hex(char *out, const uint8_t *p, size_t n)
{
    static const char digits[] = "0123456789abcdef";

    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[p[i] >> 4];
        out[2 * i + 1] = digits[p[i] & 15];
    }
    out[2 * n] = '\0';
}

static int
nibble(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

bool
pc_unhex(uint8_t *out, size_t n, const char *hex, size_t hexlen)
{
    if (hexlen != 2 * n) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        int hi = nibble(hex[2 * i]), lo = nibble(hex[2 * i + 1]);

        if (hi < 0 || lo < 0) {
            return false;
        }
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return true;
}
