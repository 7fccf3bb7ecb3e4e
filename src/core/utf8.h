/* UTF-8 checks and the escaping reports use for names that are bytes. */
#ifndef BOSUN_CORE_UTF8_H
#define BOSUN_CORE_UTF8_H

#include <stdbool.h>
#include <stddef.h>
#include "core/buf.h"

/* True when the n bytes at s are valid UTF-8 (no overlong forms, no
 * surrogates, nothing past U+10FFFF). */
bool utf8_valid(const char *s, size_t n);
/* Length of the valid UTF-8 sequence at s (1-4), or 0 when the bytes there
 * do not start one. */
size_t utf8_seq_len(const unsigned char *s, size_t n);

/* s as valid UTF-8 for a report: valid sequences are kept, each byte that
 * is not part of one becomes the four characters \xNN, and a backslash
 * becomes \\ only when escapes were needed (so a name that is valid UTF-8
 * reads as itself). Returns a malloc'd string, or NULL with e set. */
char *utf8_escape(const char *s, struct err *e);
/* True when utf8_escape would change s. */
bool utf8_needs_escape(const char *s);

#endif
