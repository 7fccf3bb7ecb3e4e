#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <string.h>

#include "sign/secretbox.h"

#define ROTL(a, b) (((a) << (b)) | ((a) >> (32 - (b))))

static uint32_t ld32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void st32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

/* 20 rounds (10 double rounds) of the Salsa20 permutation, in place. */
static void salsa20_rounds(uint32_t x[16])
{
	int i;

	for (i = 0; i < 10; i++) {
		/* column round */
		x[4] ^= ROTL(x[0] + x[12], 7), x[8] ^= ROTL(x[4] + x[0], 9);
		x[12] ^= ROTL(x[8] + x[4], 13), x[0] ^= ROTL(x[12] + x[8], 18);
		x[9] ^= ROTL(x[5] + x[1], 7), x[13] ^= ROTL(x[9] + x[5], 9);
		x[1] ^= ROTL(x[13] + x[9], 13), x[5] ^= ROTL(x[1] + x[13], 18);
		x[14] ^= ROTL(x[10] + x[6], 7), x[2] ^= ROTL(x[14] + x[10], 9);
		x[6] ^= ROTL(x[2] + x[14], 13), x[10] ^= ROTL(x[6] + x[2], 18);
		x[3] ^= ROTL(x[15] + x[11], 7), x[7] ^= ROTL(x[3] + x[15], 9);
		x[11] ^= ROTL(x[7] + x[3], 13), x[15] ^= ROTL(x[11] + x[7], 18);
		/* row round */
		x[1] ^= ROTL(x[0] + x[3], 7), x[2] ^= ROTL(x[1] + x[0], 9);
		x[3] ^= ROTL(x[2] + x[1], 13), x[0] ^= ROTL(x[3] + x[2], 18);
		x[6] ^= ROTL(x[5] + x[4], 7), x[7] ^= ROTL(x[6] + x[5], 9);
		x[4] ^= ROTL(x[7] + x[6], 13), x[5] ^= ROTL(x[4] + x[7], 18);
		x[11] ^= ROTL(x[10] + x[9], 7), x[8] ^= ROTL(x[11] + x[10], 9);
		x[9] ^= ROTL(x[8] + x[11], 13), x[10] ^= ROTL(x[9] + x[8], 18);
		x[12] ^= ROTL(x[15] + x[14], 7), x[13] ^= ROTL(x[12] + x[15], 9);
		x[14] ^= ROTL(x[13] + x[12], 13), x[15] ^= ROTL(x[14] + x[13], 18);
	}
}

/* "expand 32-byte k" state with key and the 16 bytes at words 6..9. */
static void salsa20_setup(uint32_t s[16], const uint8_t key[32], const uint8_t in[16])
{
	int i;

	s[0] = 0x61707865;
	s[5] = 0x3320646e;
	s[10] = 0x79622d32;
	s[15] = 0x6b206574;
	for (i = 0; i < 4; i++) {
		s[1 + i] = ld32(key + 4 * i);
		s[11 + i] = ld32(key + 16 + 4 * i);
		s[6 + i] = ld32(in + 4 * i);
	}
}

void hsalsa20(uint8_t out[32], const uint8_t key[32], const uint8_t in[16])
{
	static const int pick[8] = { 0, 5, 10, 15, 6, 7, 8, 9 };
	uint32_t x[16];
	int i;

	salsa20_setup(x, key, in);
	salsa20_rounds(x);
	for (i = 0; i < 8; i++)
		st32(out + 4 * i, x[pick[i]]);
	OPENSSL_cleanse(x, sizeof(x));
}

void xsalsa20_xor(uint8_t *out, const uint8_t *in, size_t n, uint64_t skip,
		  const uint8_t key[32], const uint8_t nonce[24])
{
	uint8_t sub[32], blk[16], ks[64];
	uint32_t s[16], x[16];
	uint64_t ctr = skip / 64;
	size_t off = (size_t)(skip % 64), i, take;
	int j;

	hsalsa20(sub, key, nonce);
	memcpy(blk, nonce + 16, 8);
	while (n > 0) {
		for (j = 0; j < 8; j++)
			blk[8 + j] = (uint8_t)(ctr >> (8 * j));
		salsa20_setup(s, sub, blk);
		memcpy(x, s, sizeof(x));
		salsa20_rounds(x);
		for (j = 0; j < 16; j++)
			st32(ks + 4 * j, x[j] + s[j]);
		take = 64 - off < n ? 64 - off : n;
		for (i = 0; i < take; i++)
			out[i] = in[i] ^ ks[off + i];
		out += take, in += take, n -= take;
		off = 0;
		ctr++;
	}
	OPENSSL_cleanse(sub, sizeof(sub));
	OPENSSL_cleanse(ks, sizeof(ks));
	OPENSSL_cleanse(s, sizeof(s));
	OPENSSL_cleanse(x, sizeof(x));
}

static int poly1305(uint8_t tag[16], const uint8_t *m, size_t n, const uint8_t key[32], struct err *e)
{
	EVP_MAC *mac = EVP_MAC_fetch(NULL, "POLY1305", NULL);
	EVP_MAC_CTX *ctx = mac ? EVP_MAC_CTX_new(mac) : NULL;
	size_t outl = 0;
	int r = -1;

	if (ctx && EVP_MAC_init(ctx, key, 32, NULL) == 1 && EVP_MAC_update(ctx, m, n) == 1 &&
	    EVP_MAC_final(ctx, tag, &outl, 16) == 1 && outl == 16)
		r = 0;
	else
		err_openssl(e, ERR_INTERNAL, "poly1305");
	EVP_MAC_CTX_free(ctx);
	EVP_MAC_free(mac);
	return r;
}

int secretbox_seal(uint8_t *out, const uint8_t *m, size_t n, const uint8_t nonce[24],
		   const uint8_t key[32], struct err *e)
{
	uint8_t pk[32] = { 0 };
	int r;

	/* The first 32 bytes of the stream key Poly1305; the message uses the rest. */
	xsalsa20_xor(pk, pk, 32, 0, key, nonce);
	xsalsa20_xor(out + SECRETBOX_TAG, m, n, 32, key, nonce);
	r = poly1305(out, out + SECRETBOX_TAG, n, pk, e);
	OPENSSL_cleanse(pk, sizeof(pk));
	return r;
}

int secretbox_open(uint8_t *out, const uint8_t *in, size_t n, const uint8_t nonce[24],
		   const uint8_t key[32], struct err *e)
{
	uint8_t pk[32] = { 0 }, tag[16];
	int r;

	if (n < SECRETBOX_TAG)
		return err_set(e, ERR_INPUT, "ciphertext shorter than its authenticator");
	xsalsa20_xor(pk, pk, 32, 0, key, nonce);
	r = poly1305(tag, in + SECRETBOX_TAG, n - SECRETBOX_TAG, pk, e);
	OPENSSL_cleanse(pk, sizeof(pk));
	if (r < 0)
		return -1;
	if (CRYPTO_memcmp(tag, in, SECRETBOX_TAG) != 0)
		return err_set(e, ERR_INPUT, "authentication failed");
	xsalsa20_xor(out, in + SECRETBOX_TAG, n - SECRETBOX_TAG, 32, key, nonce);
	return 0;
}
