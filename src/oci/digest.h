/* Content digests "algorithm:hex". Only sha256 is produced; sha512 is
 * accepted when reading. */
#ifndef BOSUN_OCI_DIGEST_H
#define BOSUN_OCI_DIGEST_H

#include <stdbool.h>
#include <stddef.h>
#include "core/err.h"

/* True for "sha256:<64 lowercase hex>" or "sha512:<128 lowercase hex>". */
bool oci_digest_valid(const char *d);
/* ERR_INPUT when invalid, naming what. */
int oci_digest_check(const char *d, const char *what, struct err *e);
/* Verify that data hashes to digest; ERR_INPUT "digest mismatch: expected X, got Y". */
int oci_digest_verify(const char *digest, const void *p, size_t n, struct err *e);
/* "sha256:abcdef012345" (algorithm + first 12 hex) for messages, into out[20]. */
void oci_digest_short(const char *d, char out[20]);

#endif
