/* NaCl secretbox (XSalsa20-Poly1305), the cipher of cosign's encrypted
 * private keys. OpenSSL 3 has Poly1305 but no XSalsa20, so the Salsa20 core
 * lives here; Poly1305 comes from OpenSSL's EVP_MAC. */
#ifndef BOSUN_SIGN_SECRETBOX_H
#define BOSUN_SIGN_SECRETBOX_H
#include <stddef.h>
#include <stdint.h>
#include "core/err.h"

#define SECRETBOX_KEY 32
#define SECRETBOX_NONCE 24
#define SECRETBOX_TAG 16

/* HSalsa20: 32-byte subkey from key and a 16-byte input. */
void hsalsa20(uint8_t out[32], const uint8_t key[32], const uint8_t in[16]);
/* XOR n bytes of the XSalsa20 key stream, starting at byte offset `skip`
 * of the stream, into out (out may equal in). */
void xsalsa20_xor(uint8_t *out, const uint8_t *in, size_t n, uint64_t skip,
		  const uint8_t key[32], const uint8_t nonce[24]);
/* out (n + 16 bytes) = tag || ciphertext, as Go's secretbox.Seal and
 * libsodium's crypto_secretbox_easy write it. */
int secretbox_seal(uint8_t *out, const uint8_t *m, size_t n, const uint8_t nonce[24],
		   const uint8_t key[32], struct err *e);
/* in = tag || ciphertext (n >= 16); out gets n - 16 bytes. A wrong key or
 * a changed byte fails with ERR_INPUT "authentication failed". */
int secretbox_open(uint8_t *out, const uint8_t *in, size_t n, const uint8_t nonce[24],
		   const uint8_t key[32], struct err *e);
#endif
