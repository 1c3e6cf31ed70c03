/* SPDX-License-Identifier: MIT */
/*
 * Canonical JSON (RFC 8785, JCS): a strict parser for UTF-8 JSON text into a
 * read-only tree held in one arena per document, and the canonical
 * serialiser whose bytes provcat hashes. Input rules beyond RFC 8259: no
 * duplicate keys, no lone surrogates, finite numbers, bounded depth and size.
 */
#ifndef PC_JCS_H
#define PC_JCS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pc_buf;

/* Deepest accepted nesting of arrays and objects (the root counts as 1). */
#define JCS_MAX_DEPTH 64
/* Most values (scalars and containers, not keys) accepted in one document. */
#define JCS_MAX_VALUES 100000
/* Size of the buffer jcs_format_double writes (longest output + NUL). */
#define JCS_NUMBER_SIZE 32

/* A parsed document: owns every value, string and key reachable from it. */
struct jcs_doc;
/* A value inside a document; valid until jcs_doc_free of its document. */
struct jcs_val;

enum jcs_type {
    JCS_NULL,
    JCS_FALSE,
    JCS_TRUE,
    JCS_NUMBER,
    JCS_STRING,
    JCS_ARRAY,
    JCS_OBJECT,
};

/*
 * Parse `len` bytes of UTF-8 JSON text (RFC 8259; NUL bytes inside are
 * data, `text` need not be NUL-terminated). Object members are sorted into
 * canonical order here, so reading and emitting cost no further sorting.
 * Refused, with PC_EINVAL and a message naming the problem and its byte
 * offset in `errmsg` (PC_ERRMSG_SIZE, may be NULL): invalid JSON, trailing
 * data, a byte order mark, invalid UTF-8 (overlong, encoded surrogates,
 * above U+10FFFF), lone or mismatched surrogate escapes, duplicate keys
 * (compared after unescaping), nesting deeper than JCS_MAX_DEPTH, more than
 * JCS_MAX_VALUES values, numbers that overflow a double (numbers that
 * underflow become 0, as in ECMAScript), input of 4 GiB or more.
 * PC_ENOMEM when allocation fails. On PC_OK `*out` owns a new document
 * (free with jcs_doc_free); the caller may free `text` at once.
 */
int jcs_parse(const char *text, size_t len, struct jcs_doc **out, char *errmsg);

/* Free a document and every value in it, all at once. Accepts NULL. */
void jcs_doc_free(struct jcs_doc *d);

/*
 * Append the canonical serialisation of `d` to `out`: members sorted by the
 * UTF-16 code units of their keys, numbers in ECMAScript form, minimal
 * string escapes, no whitespace. PC_OK, or PC_ENOMEM with `out` unchanged.
 */
int jcs_emit(const struct jcs_doc *d, struct pc_buf *out);

/*
 * Append the canonical serialisation of `v`, a value inside `d` (an array
 * item or a member's value, e.g. one record of a batch body), to `out`.
 * PC_OK, or PC_ENOMEM with `out` unchanged. Reserves the whole document's
 * canonical length, an upper bound for any part of it.
 */
int jcs_emit_value(const struct jcs_doc *d, const struct jcs_val *v,
                   struct pc_buf *out);

/*
 * jcs_parse then jcs_emit without keeping the tree: the write path's one
 * call. Same codes and messages as jcs_parse; on failure `out` is
 * unchanged.
 */
int jcs_canonicalize(const char *text, size_t len, struct pc_buf *out,
                     char *errmsg);

/* The top-level value of a document. */
const struct jcs_val *jcs_root(const struct jcs_doc *d);

/* The type of `v`. */
enum jcs_type jcs_type(const struct jcs_val *v);

/* The value of a number as a double (-0 stays -0); 0 for other types. */
double jcs_number(const struct jcs_val *v);

/*
 * Whether `v` is a number of schema type integer: integral with
 * |v| <= 2^53 - 1. False for other types.
 */
bool jcs_is_integer(const struct jcs_val *v);

/*
 * The unescaped UTF-8 bytes of a string, NUL-terminated for convenience but
 * possibly holding NULs, so use `*len` (may be NULL). NULL for other types.
 * Lives as long as the document.
 */
const char *jcs_string(const struct jcs_val *v, size_t *len);

/* Items of an array or members of an object; 0 for other types. */
size_t jcs_len(const struct jcs_val *v);

/*
 * Item `i` of an array, or the value of member `i` (canonical order) of an
 * object. NULL when `i` is out of range or `v` is a scalar.
 */
const struct jcs_val *jcs_at(const struct jcs_val *v, size_t i);

/*
 * The value of member `key` (`klen` bytes of UTF-8, compared after
 * unescaping) of object `obj`, by binary search. NULL if absent or if `obj`
 * is not an object.
 */
const struct jcs_val *jcs_get(const struct jcs_val *obj, const char *key,
                              size_t klen);

/*
 * The unescaped key of member `i` (canonical order) of object `obj`,
 * NUL-terminated, length in `*len` (may be NULL). NULL when `i` is out of
 * range or `obj` is not an object.
 */
const char *jcs_key(const struct jcs_val *obj, size_t i, size_t *len);

/*
 * Write the ECMAScript Number.prototype.toString form of `v` (RFC 8785
 * section 3.2.2.3: shortest round-tripping digits; -0 is "0") into `out`,
 * NUL-terminated; returns its length. NaN and infinities have no JSON form:
 * they return 0 and write "".
 */
size_t jcs_format_double(double v, char out[JCS_NUMBER_SIZE]);

/*
 * Whether `p` holds `len` bytes of well-formed UTF-8 (Unicode table 3-7: no
 * overlongs, no encoded surrogates, nothing above U+10FFFF). NUL bytes are
 * valid.
 */
bool jcs_utf8_valid(const uint8_t *p, size_t len);

#endif
