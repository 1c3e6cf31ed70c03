/* SPDX-License-Identifier: MIT */
/*
 * H(x) = unkeyed BLAKE2b with a 32-byte digest (libsodium's
 * crypto_generichash, outlen 32), with the domain prefixes of docs/format.md:
 * 0x00 fact leaf, 0x01 Merkle node, 0x02 content, 0x03 entry digest.
 * Shared by the server, the client library and the tools.
 */
#ifndef PC_HASH_H
#define PC_HASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PC_HASH_LEN     32
#define PC_HASH_HEX_LEN 64
#define PC_SALT_LEN     16

enum {
    PC_HASH_LEAF = 0x00,
    PC_HASH_NODE = 0x01,
    PC_HASH_CONTENT = 0x02,
    PC_HASH_DIGEST = 0x03,
};

/* H(x) over one run of bytes (no prefix); H("") is the empty tree's root. */
void pc_hash(uint8_t out[PC_HASH_LEN], const void *p, size_t n);

/* H(prefix ‖ a ‖ b); `b` may be NULL with `blen` 0. */
void pc_hash_prefixed(uint8_t out[PC_HASH_LEN], uint8_t prefix, const void *a,
                      size_t alen, const void *b, size_t blen);

/* content hash = H(0x02 ‖ salt ‖ canonical document). */
void pc_hash_content(uint8_t out[PC_HASH_LEN], const uint8_t salt[PC_SALT_LEN],
                     const void *doc, size_t len);

/* Lower-case hex of `n` bytes into `out` (2n + 1 bytes, NUL-terminated). */
void pc_hex(char *out, const uint8_t *p, size_t n);

/* Decode exactly `n` bytes from 2n hex digits (either case); false if bad. */
bool pc_unhex(uint8_t *out, size_t n, const char *hex, size_t hexlen);

#endif
