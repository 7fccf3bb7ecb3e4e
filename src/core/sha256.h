/* Streaming SHA-256 (OpenSSL EVP). */
#ifndef BOSUN_CORE_SHA256_H
#define BOSUN_CORE_SHA256_H

#include <stddef.h>
#include <stdint.h>
#include "core/err.h"

struct sha256 {
	void *ctx; /* EVP_MD_CTX */
};

int sha256_init(struct sha256 *s, struct err *e);
void sha256_update(struct sha256 *s, const void *p, size_t n);
/* Writes 64 lowercase hex chars + NUL into hex[65]; frees the context. */
void sha256_final_hex(struct sha256 *s, char hex[65]);
void sha256_free(struct sha256 *s); /* safe after final, safe twice */
/* One shot: "sha256:<hex>" into out[72]. */
void sha256_digest_str(const void *p, size_t n, char out[72]);
/* Hash a whole file: "sha256:<hex>" into out[72], size into *size (may be NULL). */
int sha256_file(const char *path, char out[72], uint64_t *size, struct err *e);

#endif
