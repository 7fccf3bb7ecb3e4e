/* One error type carried up through every layer. */
#ifndef BOSUN_CORE_ERR_H
#define BOSUN_CORE_ERR_H

#include <stddef.h>

/* Error codes double as the process exit codes (DESIGN.md). */
enum err_code {
	ERR_OK = 0,
	ERR_POLICY = 1,   /* policy said no */
	ERR_USAGE = 2,    /* bad command line */
	ERR_INPUT = 3,    /* bad input: unparsable file, manifest, key, digest mismatch */
	ERR_NETWORK = 4,  /* registry or network error after retries */
	ERR_INTERNAL = 5, /* anything else: I/O, out of memory, bugs */
};

#define ERR_MSG_MAX 1024

struct err {
	int code;
	int http_status; /* last HTTP status when the error came from a registry, else 0 */
	char msg[ERR_MSG_MAX];
};

#define ERR_INIT { 0, 0, { 0 } }

void err_clear(struct err *e);
/* Set code and message (printf style). Always returns -1 so callers can write
 * `return err_set(e, ERR_INPUT, "...")`. e may be NULL. */
int err_set(struct err *e, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Prefix context: "CTX: previous message". Keeps the code. Returns -1. */
int err_prefix(struct err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Message from errno: "FMT: strerror(errno)". Returns -1. */
int err_errno(struct err *e, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* ERR_INTERNAL "out of memory", the one wording for every failed allocation. Returns -1. */
int err_oom(struct err *e);

/* Converters, one per library. Each returns -1. */
/* curl: CURLcode (as int to keep curl.h out of this header), the CURLOPT_ERRORBUFFER
 * contents (may be NULL/empty). Maps to ERR_NETWORK. */
int err_curl(struct err *e, int curlcode, const char *errbuf, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* OpenSSL: drains the thread's error queue into the message. */
int err_openssl(struct err *e, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* libarchive: archive_error_string of the given struct archive *. */
int err_archive(struct err *e, int code, void *archive, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* cJSON parse failure: pos is cJSON_GetErrorPtr() relative to the input start. */
int err_json(struct err *e, const char *input, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#endif
