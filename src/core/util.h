/* Small helpers: allocation that reports failure, strings, base64, time. */
#ifndef BOSUN_CORE_UTIL_H
#define BOSUN_CORE_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include "core/err.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Cleanup attribute helpers: a variable declared with one is released when
 * it goes out of scope. A function uses these or one `out:` label that
 * releases everything, not both. */
static inline void freep(void *p) { free(*(void **)p); }
#define _cleanup_free_ __attribute__((cleanup(freep)))
/* An fd (-1 = none). */
void closep(int *fd);
#define _cleanup_close_ __attribute__((cleanup(closep)))
/* A FILE * (NULL = none); a write error at fclose is lost: check with
 * fflush/ferror before leaving when it matters. */
void fclosep(void *fp);
#define _cleanup_fclose_ __attribute__((cleanup(fclosep)))

char *xstrdup_e(const char *s, struct err *e);     /* NULL + ERR_INTERNAL on OOM */
char *xstrndup_e(const char *s, size_t n, struct err *e);
char *xasprintf_e(struct err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
bool str_starts(const char *s, const char *prefix);
bool str_ends(const char *s, const char *suffix);

/* Standard base64 (with padding). out must hold base64_enc_len(n)+1. */
size_t base64_enc_len(size_t n);
void base64_encode(const void *in, size_t n, char *out);
/* The same into a malloc'd string; NULL (e set) when out of memory. */
char *base64_encode_e(const void *in, size_t n, struct err *e);
/* Returns decoded length or -1 on invalid input; out must hold n*3/4+3. Accepts
 * missing padding. url=true for the URL-safe alphabet. */
long base64_decode(const char *in, size_t n, unsigned char *out, bool url);

/* Monotonic clock in seconds. */
double time_now(void);
/* Factor on retry back-off delays: 1, or BOSUN_TEST_BACKOFF_SCALE (0 to 1)
 * so the fault suites do not wait out real back-off. For tests only: a
 * server's own Retry-After is never scaled. */
double backoff_scale(void);
/* RFC 3339 UTC "2024-01-02T03:04:05Z" of t into out[32] (thread-safe). */
void time_rfc3339(int64_t t, char out[32]);
/* Append the component s[0, l) to the relative path out (*o bytes long), after a
 * '/' unless out is empty; false (out unchanged) when it would not fit in outsz
 * with room for a NUL. out is not terminated here. */
bool path_append(char *out, size_t *o, size_t outsz, const char *s, size_t l);

/* Human-readable size: "12.3 MiB" into out[16]. */
void fmt_size(uint64_t n, char out[16]);

#endif
