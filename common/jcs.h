/* SPDX-License-Identifier: MIT */
/*
 * Canonical JSON (RFC 8785, JCS): a strict parser for UTF-8 JSON text into a
 * read-only tree held in one arena per document, the canonical serialiser
 * whose bytes provcat hashes, and a writer that appends canonical JSON built
 * by hand (no tree) to a buffer. Input rules beyond RFC 8259: no duplicate
 * keys, no lone surrogates, finite numbers, bounded depth and size.
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
 * Whether number `v` was written as an integer literal: digits with no
 * fraction and no exponent (`2`, not `2.0` or `2e0`, which parse to the
 * same value). False for other types.
 */
bool jcs_is_int_literal(const struct jcs_val *v);

/*
 * Where `v` starts in the text it was parsed from (a byte offset): lets a
 * caller that keeps the text read a number's exact digits.
 */
size_t jcs_offset(const struct jcs_val *v);

/*
 * Whether a string or key of `d` holds U+0000 (written "\u0000"), which
 * code keeping strings as C strings cannot represent.
 */
bool jcs_has_nul(const struct jcs_doc *d);

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

/*
 * Compare keys `a` and `b` (UTF-8, `alen` and `blen` bytes) in canonical
 * member order, by their UTF-16 code units: negative, 0 or positive.
 */
int jcs_key_cmp(const char *a, size_t alen, const char *b, size_t blen);

/* ---- writer ----------------------------------------------------------- */

/* Deepest nesting a writer accepts (the outermost container counts as 1). */
#define JCS_W_MAX_DEPTH 32

/*
 * A writer appending one canonical JSON value to a buffer, call by call:
 *
 *     struct jcs_writer w;
 *
 *     jcs_w_init(&w, out);
 *     jcs_w_obj(&w);
 *     jcs_w_kstr(&w, "code", code);  (members in canonical key order)
 *     jcs_w_key(&w, "detail");
 *     jcs_w_val(&w, doc, detail);    (a value of a parsed document)
 *     jcs_w_kint(&w, "status", 409);
 *     jcs_w_obj_end(&w);
 *     rc = jcs_w_finish(&w);
 *
 * Output is RFC 8785: no whitespace, strings with the minimal escapes of
 * jcs_emit, numbers in ECMAScript form, members in the order of their keys'
 * UTF-16 code units. The caller gives members in that order; a key out of
 * order (or repeated) is a bug in the caller and fails an assert, as does a
 * misplaced key or value or an unbalanced end. Errors are sticky: after the
 * first (PC_ENOMEM, or PC_EINVAL for a string that is not valid UTF-8 or a
 * NaN or infinite number) every call does nothing and the buffer is back at
 * its length at jcs_w_init; jcs_w_finish reports it. Members are fields of
 * the struct only so that it can live on the stack.
 */
struct jcs_writer {
    struct pc_buf *out;
    size_t start;    /* out->len at jcs_w_init */
    int rc;          /* the first error, or PC_OK */
    int depth;       /* containers open */
    bool want_value; /* a key was written: its value comes next */
    bool done;       /* the top-level value is complete */
    struct {
        bool object;    /* else an array */
        bool empty;     /* nothing written inside yet */
        size_t key;     /* objects: offset in `out` of the last key's text */
        size_t key_len; /* its length, escaped, without quotes */
    } lv[JCS_W_MAX_DEPTH];
};

/* Start writing one value at the end of `out` (which the caller owns). */
void jcs_w_init(struct jcs_writer *w, struct pc_buf *out);

/*
 * End the value: PC_OK with the canonical bytes appended to the buffer, or
 * the first error (PC_ENOMEM, PC_EINVAL) with the buffer as it was at
 * jcs_w_init. On PC_OK the value must be complete (asserted).
 */
int jcs_w_finish(struct jcs_writer *w);

/* Open and close an object or an array. */
void jcs_w_obj(struct jcs_writer *w);
void jcs_w_obj_end(struct jcs_writer *w);
void jcs_w_arr(struct jcs_writer *w);
void jcs_w_arr_end(struct jcs_writer *w);

/*
 * The key of the next member of the open object: `key` NUL-terminated, or
 * `len` bytes of UTF-8 (NULs included). Keys must come in canonical order.
 */
void jcs_w_key(struct jcs_writer *w, const char *key);
void jcs_w_keyn(struct jcs_writer *w, const char *key, size_t len);

/* Values: a string (`s` NUL-terminated, or `len` bytes of UTF-8), an
 * integer (exact below 2^53, beyond that the nearest double as every JSON
 * number), a double (finite), a boolean, null. */
void jcs_w_str(struct jcs_writer *w, const char *s);
void jcs_w_strn(struct jcs_writer *w, const char *s, size_t len);
void jcs_w_int(struct jcs_writer *w, int64_t v);
void jcs_w_double(struct jcs_writer *w, double v);
void jcs_w_bool(struct jcs_writer *w, bool v);
void jcs_w_null(struct jcs_writer *w);

/* Value `v` of the parsed document `d`, in its canonical form. */
void jcs_w_val(struct jcs_writer *w, const struct jcs_doc *d,
               const struct jcs_val *v);

/*
 * `len` bytes that already are one canonical JSON value (what jcs_emit or a
 * writer produced), copied as they are: the caller vouches for them.
 */
void jcs_w_raw(struct jcs_writer *w, const void *json, size_t len);

/* A key and its value in one call. */
void jcs_w_kstr(struct jcs_writer *w, const char *key, const char *s);
void jcs_w_kint(struct jcs_writer *w, const char *key, int64_t v);
void jcs_w_kbool(struct jcs_writer *w, const char *key, bool v);
void jcs_w_knull(struct jcs_writer *w, const char *key);

#endif
