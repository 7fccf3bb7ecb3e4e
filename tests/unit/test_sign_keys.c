/* Keys and the NaCl secretbox under cosign's encrypted keys. */
#include <openssl/evp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "sign/keys.h"
#include "sign/secretbox.h"
#include "test.h"

static void hex2bin(const char *h, uint8_t *out)
{
	size_t i;

	for (i = 0; h[2 * i]; i++) {
		unsigned v;

		sscanf(h + 2 * i, "%2x", &v);
		out[i] = (uint8_t)v;
	}
}

/* Known answer from libsodium's crypto_secretbox (through PyNaCl):
 * key = 00..1f, nonce = 64..7b, m[i] = 7*i mod 256, 131 bytes. */
static const char kat[] =
	"173e3d707adeebb47e80ad486ce0a1b902be97dc2695e4d888c265d963dfc1714edd46226835d1ba0ea3f429ce40"
	"1b5148881aedb33491f5ed09314f34289f2c91c7f07d7ef543de8b6ec5997f192cdd834c82b814dfa27b417019ff"
	"54d8cfba64a0b342ebac2163faf4ff5afc6d775f5a6e47ce531af016dba4996648a797316838886ffb187a4808c3"
	"58fe807aa4453e8783";

TEST(secretbox_known_answer)
{
	uint8_t key[32], nonce[24], m[131], want[147], got[147], back[131];
	struct err e = ERR_INIT;
	int i;

	for (i = 0; i < 32; i++)
		key[i] = (uint8_t)i;
	for (i = 0; i < 24; i++)
		nonce[i] = (uint8_t)(100 + i);
	for (i = 0; i < 131; i++)
		m[i] = (uint8_t)(i * 7);
	CHECK_INT(strlen(kat), 2 * 147);
	hex2bin(kat, want);
	CHECK_INT(secretbox_seal(got, m, sizeof(m), nonce, key, &e), 0);
	CHECK(memcmp(got, want, sizeof(want)) == 0);
	CHECK_INT(secretbox_open(back, want, sizeof(want), nonce, key, &e), 0);
	CHECK(memcmp(back, m, sizeof(m)) == 0);
	/* Any flipped bit fails authentication. */
	want[40] ^= 1;
	CHECK_INT(secretbox_open(back, want, sizeof(want), nonce, key, &e), -1);
	CHECK_INT(e.code, ERR_INPUT);
	CHECK_INT(secretbox_open(back, want, 10, nonce, key, &e), -1);
}

TEST(encrypted_key_round_trip)
{
	struct sign_key k = { 0 }, k2 = { 0 }, pub = { 0 };
	struct buf pem = BUF_INIT, ppem = BUF_INIT;
	struct err e = ERR_INIT;
	unsigned char *sig = NULL;
	size_t siglen = 0;

	CHECK_INT(sign_key_generate(&k, &e), 0);
	CHECK_INT(sign_key_encrypted_pem(&k, "s3cret", 6, &pem, &e), 0);
	CHECK(strstr(pem.data, "-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----") == pem.data);
	CHECK_INT(sign_key_parse_private(&k2, pem.data, pem.len, "wrong", 5, &e), -1);
	CHECK_INT(e.code, ERR_INPUT);
	CHECK(strstr(e.msg, "wrong password") != NULL);
	CHECK_INT(sign_key_parse_private(&k2, pem.data, pem.len, "s3cret", 6, &e), 0);
	CHECK_STR(k2.fingerprint, k.fingerprint);
	CHECK_INT(k2.alg, SIGN_ECDSA_P256);
	CHECK_INT(sign_key_public_pem(&k, &ppem, &e), 0);
	CHECK_INT(sign_key_parse_public(&pub, ppem.data, ppem.len, &e), 0);
	CHECK_INT(sign_key_sign(&k2, "hello", 5, &sig, &siglen, &e), 0);
	CHECK_INT(sign_key_verify(&pub, "hello", 5, sig, siglen, &e), 0);
	CHECK_INT(sign_key_verify(&pub, "hellO", 5, sig, siglen, &e), -1);
	CHECK_INT(e.code, ERR_POLICY);
	free(sig);
	sign_key_free(&k2);
	/* Truncated: the END line is gone. */
	CHECK_INT(sign_key_parse_private(&k2, pem.data, pem.len / 2, "s3cret", 6, &e), -1);
	CHECK_INT(e.code, ERR_INPUT);
	sign_key_free(&k);
	sign_key_free(&k2);
	sign_key_free(&pub);
	buf_free(&pem);
	buf_free(&ppem);
}

TEST(encrypted_key_hostile_json)
{
	static const char *bad[] = {
		"not json",
		"{}",
		"{\"kdf\":{\"name\":\"scrypt\",\"params\":{\"N\":1073741824,\"r\":8,\"p\":1},\"salt\":\"AA==\"},"
		"\"cipher\":{\"name\":\"nacl/secretbox\",\"nonce\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"},\"ciphertext\":\"AA==\"}",
		"{\"kdf\":{\"name\":\"pbkdf2\",\"params\":{\"N\":65536,\"r\":8,\"p\":1},\"salt\":\"AA==\"},"
		"\"cipher\":{\"name\":\"nacl/secretbox\",\"nonce\":\"AAAA\"},\"ciphertext\":\"AA==\"}",
		"{\"kdf\":{\"name\":\"scrypt\",\"params\":{\"N\":65536,\"r\":8,\"p\":1},\"salt\":\"AA==\"},"
		"\"cipher\":{\"name\":\"nacl/secretbox\",\"nonce\":\"AAAA\"},\"ciphertext\":\"AA==\"}",
		"{\"kdf\":{\"name\":\"scrypt\",\"params\":{\"N\":65536,\"r\":8,\"p\":1},\"salt\":\"!!\"},"
		"\"cipher\":{\"name\":\"nacl/secretbox\",\"nonce\":\"AAAA\"},\"ciphertext\":\"AA==\"}",
		/* found by the 10-minute fuzz run: N beyond long was cast (UB) */
		"{\"kdf\":{\"name\":\"scrypt\",\"params\":{\"N\":1e72,\"r\":8,\"p\":1},\"salt\":\"AA==\"},"
		"\"cipher\":{\"name\":\"nacl/secretbox\",\"nonce\":\"AAAA\"},\"ciphertext\":\"AA==\"}",
		"{\"kdf\":{\"name\":\"scrypt\",\"params\":{\"N\":65536,\"r\":-1e300,\"p\":1},\"salt\":\"AA==\"},"
		"\"cipher\":{\"name\":\"nacl/secretbox\",\"nonce\":\"AAAA\"},\"ciphertext\":\"AA==\"}",
	};
	struct err e = ERR_INIT;
	unsigned char *out = NULL;
	size_t n = 0, i;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		err_clear(&e);
		CHECK_INT(cosign_decrypt(bad[i], strlen(bad[i]), "", 0, &out, &n, &e), -1);
		CHECK_INT(e.code, ERR_INPUT);
		CHECK(out == NULL);
	}
}

TEST(plain_pem_keys)
{
	static const char *types[] = { "ED25519", "RSA" };
	struct err e = ERR_INIT;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(types); i++) {
		EVP_PKEY *pk = EVP_PKEY_Q_keygen(NULL, NULL, types[i], (size_t)2048);
		struct sign_key k = { 0 }, v = { 0 };
		unsigned char *sig = NULL;
		size_t siglen = 0;
		struct buf pem = BUF_INIT;

		CHECK(pk != NULL);
		if (!pk)
			continue;
		CHECK_INT(sign_key_encrypted_pem(&(struct sign_key){ .pkey = pk, .priv = true }, "", 0, &pem, &e), 0);
		CHECK_INT(sign_key_parse_private(&k, pem.data, pem.len, "", 0, &e), 0);
		CHECK_INT(k.alg, i == 0 ? SIGN_ED25519 : SIGN_RSA);
		CHECK_INT(sign_key_sign(&k, "x", 1, &sig, &siglen, &e), 0);
		v.pkey = k.pkey;
		v.alg = k.alg;
		CHECK_INT(sign_key_verify(&v, "x", 1, sig, siglen, &e), 0);
		free(sig);
		sign_key_free(&k);
		EVP_PKEY_free(pk);
		buf_free(&pem);
	}
	/* Not PEM at all, and a PEM of the wrong kind. */
	{
		struct sign_key k;
		const char *cert = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";

		CHECK_INT(sign_key_parse_private(&k, "garbage", 7, "", 0, &e), -1);
		CHECK_INT(e.code, ERR_INPUT);
		CHECK_INT(sign_key_parse_private(&k, cert, strlen(cert), "", 0, &e), -1);
		CHECK_INT(e.code, ERR_INPUT);
		CHECK_INT(sign_key_parse_public(&k, cert, strlen(cert), &e), -1);
		CHECK_INT(e.code, ERR_INPUT);
	}
}

int main(void)
{
	RUN(secretbox_known_answer);
	RUN(encrypted_key_round_trip);
	RUN(encrypted_key_hostile_json);
	RUN(plain_pem_keys);
	return test_done();
}
