/* Content digests "algorithm:hex". Only sha256 is produced; sha512 is
 * accepted when reading. */
#ifndef BOSUN_OCI_DIGEST_H
#define BOSUN_OCI_DIGEST_H

#include <stdbool.h>
#include <stddef.h>
#include "core/err.h"
#include "core/sha256.h"

/* Room for the longest digest accepted: "sha512:" + 128 hex + NUL. */
#define OCI_DIGEST_MAX 136

/* True for "sha256:<64 lowercase hex>" or "sha512:<128 lowercase hex>". */
bool oci_digest_valid(const char *d);
/* ERR_INPUT when invalid, naming what. */
int oci_digest_check(const char *d, const char *what, struct err *e);
/* Verify that data hashes to digest; ERR_INPUT "digest mismatch: expected X, got Y". */
int oci_digest_verify(const char *digest, const void *p, size_t n, struct err *e);
/* "sha256:abcdef012345" (algorithm + first 12 hex) for messages, into out[20]. */
void oci_digest_short(const char *d, char out[20]);
/* "sha256" / "sha512" part and hex part of a valid digest (pointer into d). */
const char *oci_digest_hex(const char *d);

/* Streaming hash for either accepted algorithm. */
struct oci_digester {
	int alg; /* 0 = unset, 1 = sha256, 2 = sha512 */
	struct sha256 s256;
	void *md; /* EVP_MD_CTX for sha512 */
};
/* algo_or_digest: "sha256", "sha512" or a full digest whose algorithm is used. */
int oci_digester_init(struct oci_digester *d, const char *algo_or_digest, struct err *e);
void oci_digester_update(struct oci_digester *d, const void *p, size_t n);
/* "algo:hex" into out[OCI_DIGEST_MAX]; frees the context. */
void oci_digester_final(struct oci_digester *d, char out[OCI_DIGEST_MAX]);
void oci_digester_free(struct oci_digester *d); /* safe after final, safe twice */
/* Hash a file with the algorithm of `digest` and compare. ERR_INPUT on mismatch
 * or when the file is missing; *size_out (may be NULL) gets the file size. */
int oci_digest_verify_file(const char *digest, const char *path, long long *size_out, struct err *e);

#endif
