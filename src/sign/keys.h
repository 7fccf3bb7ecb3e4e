/* Signing keys: cosign's encrypted private keys (ENCRYPTED SIGSTORE / COSIGN
 * PRIVATE KEY: scrypt + NaCl secretbox over PKCS#8 DER), plain PKCS#8 and
 * SEC1 / PKCS#1 PEM private keys, PKIX PEM public keys. ECDSA P-256 is the
 * default; Ed25519 and RSA (>= 2048 bits) are accepted.
 *
 * Errors: ERR_INPUT for unreadable or malformed keys and wrong passwords,
 * ERR_USAGE when a password is needed and none can be had, ERR_POLICY when a
 * signature does not verify. */
#ifndef BOSUN_SIGN_KEYS_H
#define BOSUN_SIGN_KEYS_H
#include <stdbool.h>
#include <stddef.h>
#include "core/buf.h"
#include "core/err.h"

#define PEM_SIGSTORE_KEY "ENCRYPTED SIGSTORE PRIVATE KEY"
#define PEM_COSIGN_KEY "ENCRYPTED COSIGN PRIVATE KEY"
#define KEY_FILE_MAX (64u << 10)

enum sign_alg { SIGN_ECDSA_P256 = 1, SIGN_ED25519, SIGN_RSA };

struct sign_key {
	void *pkey; /* EVP_PKEY */
	enum sign_alg alg;
	bool priv;
	char fingerprint[72]; /* "SHA256:<hex>" of the PKIX DER public key */
};

void sign_key_free(struct sign_key *k);
const char *sign_alg_name(enum sign_alg a);
/* A fresh ECDSA P-256 key. */
int sign_key_generate(struct sign_key *k, struct err *e);
/* A private key from PEM text. pass (passlen bytes, may be empty) is used
 * for encrypted keys; with pass NULL an encrypted key asks sign_password(). */
int sign_key_parse_private(struct sign_key *k, const char *pem, size_t n, const char *pass,
			   size_t passlen, struct err *e);
/* Read a private key file; warns when group or others may read it. */
int sign_key_load_private(struct sign_key *k, const char *path, struct err *e);
/* A public key (PKIX PEM "PUBLIC KEY"); a private key file is accepted too
 * and its public half used. */
int sign_key_parse_public(struct sign_key *k, const char *pem, size_t n, struct err *e);
int sign_key_load_public(struct sign_key *k, const char *path, struct err *e);
/* cosign's encrypted PEM (ENCRYPTED SIGSTORE PRIVATE KEY, scrypt N=65536). */
int sign_key_encrypted_pem(const struct sign_key *k, const char *pass, size_t passlen,
			   struct buf *out, struct err *e);
int sign_key_public_pem(const struct sign_key *k, struct buf *out, struct err *e);
/* Signature over data: ECDSA (DER) and RSA PKCS#1 v1.5 over SHA-256(data),
 * Ed25519 over data itself. *sig is malloc'd. */
int sign_key_sign(const struct sign_key *k, const void *data, size_t n, unsigned char **sig,
		  size_t *siglen, struct err *e);
/* 0 when sig verifies; -1 with ERR_POLICY "signature does not verify" when not. */
int sign_key_verify(const struct sign_key *k, const void *data, size_t n, const unsigned char *sig,
		    size_t siglen, struct err *e);

/* Decrypt / encrypt the JSON body of cosign's encrypted key (the bytes
 * inside the PEM armour). *out is malloc'd and cleansed by the caller. */
int cosign_decrypt(const char *json, size_t n, const char *pass, size_t passlen, unsigned char **out,
		   size_t *outlen, struct err *e);
int cosign_encrypt(const unsigned char *plain, size_t n, const char *pass, size_t passlen,
		   struct buf *out, struct err *e);

/* The key password: BOSUN_KEY_PASSWORD, COSIGN_PASSWORD, BOSUN_PASSWORD
 * (only when BOSUN_USERNAME is unset, since then it is not a registry
 * password), else a prompt on /dev/tty (twice with confirm). Empty is
 * allowed. *out is malloc'd; free with sign_password_free. */
int sign_password(bool confirm, char **out, struct err *e);
void sign_password_free(char *p);
#endif
