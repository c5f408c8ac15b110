/* SPDX-License-Identifier: MIT */
/*
 * JSON for small request/reply protocols (KObj's RPC first), with no allocation.
 *
 * Reading: json_parse_object takes one complete JSON text (RFC 8259) whose top level is
 * an object and fills a json_object_t with its members. Member values that are
 * strings, numbers, booleans or null are decoded; nested objects and arrays are checked
 * for syntax (up to JSON_DEPTH_MAX deep) and reported only by type. Strings are decoded
 * into the object's own storage as NUL-terminated UTF-8, so "\u0000" is refused, as are
 * invalid UTF-8, lone surrogates and duplicate keys. Every failure names its byte offset.
 *
 * Writing: json_writer_t appends to a caller's buffer and remembers overflow instead of
 * failing each call; json_writer_finish says whether everything fit. Strings are escaped;
 * bytes that are not valid UTF-8 become U+FFFD, so the output is always valid JSON.
 */
#ifndef SRC_LIB_JSON_JSON_H
#define SRC_LIB_JSON_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JSON_MEMBERS_MAX 16   /* members of the top-level object */
#define JSON_STORAGE_MAX 4096 /* decoded keys and strings, NULs included */
#define JSON_DEPTH_MAX   16   /* nesting of objects and arrays, the top level included */

/* Error codes; json_parse_object returns them negated. */
#define JSON_ESYNTAX    1 /* not JSON */
#define JSON_ENOTOBJECT 2 /* the top level is not an object */
#define JSON_EDUPLICATE 3 /* a key appears twice */
#define JSON_ETOOMANY   4 /* more than JSON_MEMBERS_MAX members */
#define JSON_ETOOLONG   5 /* keys and strings need more than JSON_STORAGE_MAX bytes */
#define JSON_EDEPTH     6 /* nested deeper than JSON_DEPTH_MAX */
#define JSON_ENUL       7 /* a string holds U+0000 */
#define JSON_EENCODING  8 /* invalid UTF-8, or a lone surrogate escape */

typedef enum {
    JSON_TYPE_NULL = 1,
    JSON_TYPE_BOOL,
    JSON_TYPE_NUMBER,
    JSON_TYPE_STRING,
    JSON_TYPE_OBJECT,
    JSON_TYPE_ARRAY,
} json_type_t;

typedef struct {
    const char *key;       /* decoded, in the object's storage */
    json_type_t type;
    const char *string;    /* JSON_TYPE_STRING: decoded, NUL-terminated */
    size_t string_length;
    bool boolean;          /* JSON_TYPE_BOOL */
    /* JSON_TYPE_NUMBER: integer when there is no fraction or exponent and the
     * magnitude fits 64 bits; then the value is (negative ? -magnitude : magnitude).
     * overflow: written as an integer, but the magnitude needs more than 64 bits. */
    bool integer;
    bool overflow;
    bool negative;
    uint64_t magnitude;
} json_member_t;

typedef struct {
    char storage[JSON_STORAGE_MAX];
    json_member_t members[JSON_MEMBERS_MAX];
    unsigned count;        /* 0 after a failed parse */
    size_t error_offset;   /* after a failed parse: the byte where it failed */
} json_object_t;

/* Parses text[0..length) (NULs inside are a syntax error). 0 or -JSON_E*. */
int json_parse_object(json_object_t *out, const char *text, size_t length);
/* The member named key, or NULL. */
const json_member_t *json_find(const json_object_t *o, const char *key);
/* A member that must be an integer in [min, max] (RPC limits such as watch's count):
 * JSON_UINT_OK with *out set, JSON_UINT_NOT_INTEGER (not a number, or a fraction) or
 * JSON_UINT_OUT_OF_RANGE (negative, past 64 bits, or outside [min, max]). */
#define JSON_UINT_OK           0
#define JSON_UINT_NOT_INTEGER  1
#define JSON_UINT_OUT_OF_RANGE 2
int json_member_uint_in(const json_member_t *m, uint64_t min, uint64_t max, uint64_t *out);
/* A short English message for a return value of json_parse_object (either sign). */
const char *json_error_string(int err);
/* The name of a type as JSON calls it ("string", "number", ...). */
const char *json_type_name(json_type_t type);

/* Bytes of the valid UTF-8 sequence starting s[0..n), or 0 when it is not one. RFC 3629:
 * no overlong forms, no surrogates, nothing above U+10FFFF. */
size_t json_utf8_length(const uint8_t *s, size_t n);

/* ---- writing ------------------------------------------------------------------------ */

typedef struct {
    char *buf;
    size_t size;           /* bytes of buf; one is kept for the closing NUL */
    size_t length;         /* bytes written so far (those that fit) */
    bool overflow;
    bool after_key;        /* a key was written: the next value needs no comma */
    unsigned depth;
    uint32_t has_items;    /* bit d: the container at depth d already has an item */
} json_writer_t;

void json_writer_init(json_writer_t *w, char *buf, size_t size);
void json_object_begin(json_writer_t *w);
void json_object_end(json_writer_t *w);
void json_array_begin(json_writer_t *w);
void json_array_end(json_writer_t *w);
void json_key(json_writer_t *w, const char *key);
void json_string(json_writer_t *w, const char *s);
void json_string_n(json_writer_t *w, const char *s, size_t n);
void json_int(json_writer_t *w, int64_t v);
void json_uint(json_writer_t *w, uint64_t v);
void json_bool(json_writer_t *w, bool v);
void json_null(json_writer_t *w);
/* NUL-terminates the text; true when everything fit. */
bool json_writer_finish(json_writer_t *w);

#endif
