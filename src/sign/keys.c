#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "core/fs.h"
#include "core/log.h"
#include "core/sha256.h"
#include "core/util.h"
#include "sign/keys.h"
#include "sign/secretbox.h"

#define SCRYPT_N 65536
#define SCRYPT_N_LEGACY 32768 /* keys written by older cosign releases */
#define SCRYPT_R 8
#define SCRYPT_P 1
#define SCRYPT_MAXMEM (256u << 20)
#define SALT_LEN 32

void sign_key_free(struct sign_key *k)
{
	if (!k)
		return;
	EVP_PKEY_free(k->pkey);
	memset(k, 0, sizeof(*k));
}

const char *sign_alg_name(enum sign_alg a)
{
	switch (a) {
	case SIGN_ECDSA_P256:
		return "ecdsa-p256";
	case SIGN_ED25519:
		return "ed25519";
	case SIGN_RSA:
		return "rsa";
	}
	return "?";
}

/* Accept the key types cosign accepts, and fill alg and fingerprint. */
static int key_adopt(struct sign_key *k, EVP_PKEY *pk, bool priv, struct err *e)
{
	unsigned char *der = NULL;
	char hex[72];
	int len;

	memset(k, 0, sizeof(*k));
	switch (EVP_PKEY_get_base_id(pk)) {
	case EVP_PKEY_EC: {
		char curve[64] = "";
		size_t cl = 0;

		if (!EVP_PKEY_get_utf8_string_param(pk, "group", curve, sizeof(curve), &cl) ||
		    (strcmp(curve, "prime256v1") && strcmp(curve, "P-256"))) {
			EVP_PKEY_free(pk);
			return err_set(e, ERR_INPUT, "unsupported ECDSA curve \"%s\" (P-256 only)", curve);
		}
		k->alg = SIGN_ECDSA_P256;
		break;
	}
	case EVP_PKEY_ED25519:
		k->alg = SIGN_ED25519;
		break;
	case EVP_PKEY_RSA:
		if (EVP_PKEY_get_bits(pk) < 2048) {
			EVP_PKEY_free(pk);
			return err_set(e, ERR_INPUT, "RSA key of %d bits is too small (2048 at least)",
				       EVP_PKEY_get_bits(pk));
		}
		k->alg = SIGN_RSA;
		break;
	default:
		EVP_PKEY_free(pk);
		return err_set(e, ERR_INPUT, "unsupported key type (ECDSA P-256, Ed25519 or RSA)");
	}
	len = i2d_PUBKEY(pk, &der);
	if (len <= 0) {
		EVP_PKEY_free(pk);
		return err_openssl(e, ERR_INPUT, "encode public key");
	}
	sha256_digest_str(der, (size_t)len, hex);
	OPENSSL_free(der);
	snprintf(k->fingerprint, sizeof(k->fingerprint), "SHA256:%s", hex + 7);
	k->pkey = pk;
	k->priv = priv;
	return 0;
}

int sign_key_generate(struct sign_key *k, struct err *e)
{
	EVP_PKEY *pk = EVP_EC_gen("P-256");

	if (!pk)
		return err_openssl(e, ERR_INTERNAL, "generate ECDSA P-256 key");
	return key_adopt(k, pk, true, e);
}

static int b64_field(const cJSON *o, const char *name, unsigned char **out, size_t *len, size_t max,
		     struct err *e)
{
	const cJSON *j = cJSON_GetObjectItemCaseSensitive(o, name);

	if (!cJSON_IsString(j))
		return err_set(e, ERR_INPUT, "\"%s\" missing or not a string", name);
	if (strlen(j->valuestring) > max)
		return err_set(e, ERR_INPUT, "\"%s\" is too long", name);
	if (base64_decode_alloc(j->valuestring, out, len, e) < 0)
		return e->code == ERR_INPUT ? err_set(e, ERR_INPUT, "\"%s\" is not valid base64", name)
					    : -1;
	return 0;
}

static int int_field(const cJSON *o, const char *name, long *v, struct err *e)
{
	const cJSON *j = cJSON_GetObjectItemCaseSensitive(o, name);

	/* range first: converting a double beyond long (or NaN) is undefined */
	if (!cJSON_IsNumber(j) || !(j->valuedouble > -9.0e18 && j->valuedouble < 9.0e18) ||
	    j->valuedouble != (double)(long)j->valuedouble)
		return err_set(e, ERR_INPUT, "kdf parameter \"%s\" missing or not an integer", name);
	*v = (long)j->valuedouble;
	return 0;
}

static int scrypt_key(const char *pass, size_t passlen, const unsigned char *salt, size_t saltlen,
		      uint64_t n, unsigned char key[32], struct err *e)
{
	if (EVP_PBE_scrypt(pass, passlen, salt, saltlen, n, SCRYPT_R, SCRYPT_P, SCRYPT_MAXMEM, key, 32) != 1)
		return err_openssl(e, ERR_INTERNAL, "scrypt");
	return 0;
}

int cosign_decrypt(const char *json, size_t n, const char *pass, size_t passlen, unsigned char **out,
		   size_t *outlen, struct err *e)
{
	cJSON *root = cJSON_ParseWithLength(json, n);
	const cJSON *kdf, *params, *cipher, *name;
	unsigned char *salt = NULL, *nonce = NULL, *ct = NULL, *pt = NULL, key[32];
	size_t saltlen = 0, noncelen = 0, ctlen = 0;
	long N = 0, r = 0, p = 0;
	int rc = -1;

	*out = NULL;
	if (!root || !cJSON_IsObject(root)) {
		err_set(e, ERR_INPUT, "encrypted key body is not JSON");
		goto out;
	}
	kdf = cJSON_GetObjectItemCaseSensitive(root, "kdf");
	cipher = cJSON_GetObjectItemCaseSensitive(root, "cipher");
	params = kdf ? cJSON_GetObjectItemCaseSensitive(kdf, "params") : NULL;
	if (!cJSON_IsObject(kdf) || !cJSON_IsObject(cipher) || !cJSON_IsObject(params)) {
		err_set(e, ERR_INPUT, "encrypted key lacks kdf, kdf.params or cipher");
		goto out;
	}
	name = cJSON_GetObjectItemCaseSensitive(kdf, "name");
	if (!cJSON_IsString(name) || strcmp(name->valuestring, "scrypt")) {
		err_set(e, ERR_INPUT, "unsupported kdf (scrypt only)");
		goto out;
	}
	name = cJSON_GetObjectItemCaseSensitive(cipher, "name");
	if (!cJSON_IsString(name) || strcmp(name->valuestring, "nacl/secretbox")) {
		err_set(e, ERR_INPUT, "unsupported cipher (nacl/secretbox only)");
		goto out;
	}
	if (int_field(params, "N", &N, e) < 0 || int_field(params, "r", &r, e) < 0 ||
	    int_field(params, "p", &p, e) < 0)
		goto out;
	/* Fixed parameters, as cosign checks them: a key file must not be able
	 * to make us burn gigabytes or hours. */
	if ((N != SCRYPT_N && N != SCRYPT_N_LEGACY) || r != SCRYPT_R || p != SCRYPT_P) {
		err_set(e, ERR_INPUT, "unexpected scrypt parameters N=%ld r=%ld p=%ld", N, r, p);
		goto out;
	}
	if (b64_field(kdf, "salt", &salt, &saltlen, 1024, e) < 0 ||
	    b64_field(cipher, "nonce", &nonce, &noncelen, 64, e) < 0 ||
	    b64_field(root, "ciphertext", &ct, &ctlen, KEY_FILE_MAX, e) < 0)
		goto out;
	if (noncelen != SECRETBOX_NONCE) {
		err_set(e, ERR_INPUT, "nonce is %zu bytes, not 24", noncelen);
		goto out;
	}
	if (ctlen < SECRETBOX_TAG) {
		err_set(e, ERR_INPUT, "ciphertext is truncated");
		goto out;
	}
	if (scrypt_key(pass, passlen, salt, saltlen, (uint64_t)N, key, e) < 0)
		goto out;
	pt = malloc(ctlen);
	if (!pt) {
		err_oom(e);
		goto out;
	}
	if (secretbox_open(pt, ct, ctlen, nonce, key, e) < 0) {
		err_set(e, ERR_INPUT, "wrong password or corrupted key (decryption failed)");
		goto out;
	}
	*out = pt;
	*outlen = ctlen - SECRETBOX_TAG;
	pt = NULL;
	rc = 0;
out:
	OPENSSL_cleanse(key, sizeof(key));
	if (pt) {
		OPENSSL_cleanse(pt, ctlen);
		free(pt);
	}
	free(salt);
	free(nonce);
	free(ct);
	cJSON_Delete(root);
	return rc;
}

int cosign_encrypt(const unsigned char *plain, size_t n, const char *pass, size_t passlen,
		   struct buf *out, struct err *e)
{
	unsigned char salt[SALT_LEN], nonce[SECRETBOX_NONCE], key[32], *ct = NULL;
	char *s_salt = NULL, *s_nonce = NULL, *s_ct = NULL;
	int rc = -1;

	if (RAND_bytes(salt, sizeof(salt)) != 1 || RAND_bytes(nonce, sizeof(nonce)) != 1)
		return err_openssl(e, ERR_INTERNAL, "random bytes");
	if (scrypt_key(pass, passlen, salt, sizeof(salt), SCRYPT_N, key, e) < 0)
		return -1;
	ct = malloc(n + SECRETBOX_TAG);
	if (!ct) {
		err_oom(e);
		goto out;
	}
	if (secretbox_seal(ct, plain, n, nonce, key, e) < 0)
		goto out;
	if (!(s_salt = base64_alloc(salt, sizeof(salt), e)) ||
	    !(s_nonce = base64_alloc(nonce, sizeof(nonce), e)) ||
	    !(s_ct = base64_alloc(ct, n + SECRETBOX_TAG, e)))
		goto out;
	/* Field order as Go's encoding/json writes the struct. */
	rc = buf_addf(out, e,
		      "{\"kdf\":{\"name\":\"scrypt\",\"params\":{\"N\":%d,\"r\":%d,\"p\":%d},\"salt\":\"%s\"},"
		      "\"cipher\":{\"name\":\"nacl/secretbox\",\"nonce\":\"%s\"},\"ciphertext\":\"%s\"}",
		      SCRYPT_N, SCRYPT_R, SCRYPT_P, s_salt, s_nonce, s_ct);
out:
	OPENSSL_cleanse(key, sizeof(key));
	if (ct) {
		OPENSSL_cleanse(ct, n + SECRETBOX_TAG);
		free(ct);
	}
	free(s_salt);
	free(s_nonce);
	free(s_ct);
	return rc;
}

/* PEM armour: the first block's type name and decoded body. */
static int pem_block(const char *pem, size_t n, char **name, unsigned char **data, long *len,
		     struct err *e)
{
	BIO *bio = BIO_new_mem_buf(pem, (int)n);
	char *header = NULL;
	int ok;

	if (!bio)
		return err_oom(e);
	ok = PEM_read_bio(bio, name, &header, data, len);
	BIO_free(bio);
	OPENSSL_free(header);
	if (!ok) {
		ERR_clear_error();
		return err_set(e, ERR_INPUT, "not a PEM file (no complete BEGIN/END block)");
	}
	return 0;
}

static int parse_der_private(struct sign_key *k, const unsigned char *der, size_t n, struct err *e)
{
	const unsigned char *p = der;
	EVP_PKEY *pk = d2i_AutoPrivateKey(NULL, &p, (long)n);

	if (!pk || p != der + n) {
		EVP_PKEY_free(pk);
		ERR_clear_error();
		return err_set(e, ERR_INPUT, "decrypted key is not a PKCS#8 private key");
	}
	return key_adopt(k, pk, true, e);
}

struct pwctx {
	const char *pass;
	size_t len;
};

static int pem_pass_cb(char *buf, int size, int rwflag, void *u)
{
	const struct pwctx *c = u;

	if (!c || !c->pass || c->len > (size_t)size)
		return -1;
	memcpy(buf, c->pass, c->len);
	return (int)c->len;
}

int sign_key_parse_private(struct sign_key *k, const char *pem, size_t n, const char *pass,
			   size_t passlen, struct err *e)
{
	char *name = NULL, *asked = NULL;
	unsigned char *data = NULL, *der = NULL;
	size_t derlen = 0;
	long len = 0;
	int rc = -1;

	memset(k, 0, sizeof(*k));
	if (n > KEY_FILE_MAX)
		return err_set(e, ERR_INPUT, "key file larger than %u bytes", KEY_FILE_MAX);
	if (pem_block(pem, n, &name, &data, &len, e) < 0)
		return -1;
	if (strcmp(name, PEM_SIGSTORE_KEY) == 0 || strcmp(name, PEM_COSIGN_KEY) == 0) {
		if (!pass) {
			if (sign_password(false, &asked, e) < 0)
				goto out;
			pass = asked;
			passlen = strlen(asked);
		}
		if (cosign_decrypt((const char *)data, (size_t)len, pass, passlen, &der, &derlen, e) < 0)
			goto out;
		rc = parse_der_private(k, der, derlen, e);
	} else if (strcmp(name, "PRIVATE KEY") == 0 || strcmp(name, "EC PRIVATE KEY") == 0 ||
		   strcmp(name, "RSA PRIVATE KEY") == 0 || strcmp(name, "ENCRYPTED PRIVATE KEY") == 0) {
		struct pwctx pc = { pass, passlen };
		BIO *bio = BIO_new_mem_buf(pem, (int)n);
		EVP_PKEY *pk;

		if (!pass && strcmp(name, "ENCRYPTED PRIVATE KEY") == 0) {
			if (sign_password(false, &asked, e) < 0) {
				BIO_free(bio);
				goto out;
			}
			pc.pass = asked;
			pc.len = strlen(asked);
		}
		pk = bio ? PEM_read_bio_PrivateKey(bio, NULL, pem_pass_cb, &pc) : NULL;
		BIO_free(bio);
		if (!pk) {
			err_openssl(e, ERR_INPUT, "malformed %s (or wrong password)", name);
			goto out;
		}
		rc = key_adopt(k, pk, true, e);
	} else {
		err_set(e, ERR_INPUT, "PEM block \"%s\" is not a private key", name);
	}
out:
	if (der) {
		OPENSSL_cleanse(der, derlen);
		free(der);
	}
	if (data)
		OPENSSL_clear_free(data, (size_t)len);
	OPENSSL_free(name);
	sign_password_free(asked);
	return rc;
}

static void warn_mode(const char *path)
{
	struct stat st;

	if (stat(path, &st) == 0 && (st.st_mode & 077))
		log_warn("private key %s is readable by group or others (mode %03o); chmod 600 it", path,
			 (unsigned)(st.st_mode & 0777));
}

int sign_key_load_private(struct sign_key *k, const char *path, struct err *e)
{
	struct buf b __attribute__((cleanup(buf_cleanup))) = BUF_INIT;

	memset(k, 0, sizeof(*k));
	if (fs_read_file(path, &b, KEY_FILE_MAX, e) < 0)
		return err_prefix(e, "key %s", path);
	warn_mode(path);
	if (sign_key_parse_private(k, b.data, b.len, NULL, 0, e) < 0) {
		OPENSSL_cleanse(b.data, b.len);
		return err_prefix(e, "key %s", path);
	}
	OPENSSL_cleanse(b.data, b.len);
	return 0;
}

int sign_key_parse_public(struct sign_key *k, const char *pem, size_t n, struct err *e)
{
	char *name = NULL;
	unsigned char *data = NULL;
	const unsigned char *p;
	EVP_PKEY *pk;
	long len = 0;

	memset(k, 0, sizeof(*k));
	if (n > KEY_FILE_MAX)
		return err_set(e, ERR_INPUT, "key file larger than %u bytes", KEY_FILE_MAX);
	if (pem_block(pem, n, &name, &data, &len, e) < 0)
		return -1;
	if (strcmp(name, "PUBLIC KEY") != 0) {
		bool is_priv = strstr(name, "PRIVATE KEY") != NULL;

		OPENSSL_free(name);
		OPENSSL_clear_free(data, (size_t)len);
		if (is_priv) {
			/* A private key where a public one is expected: use its public half. */
			if (sign_key_parse_private(k, pem, n, NULL, 0, e) < 0)
				return -1;
			k->priv = false;
			return 0;
		}
		return err_set(e, ERR_INPUT, "PEM block is not a PUBLIC KEY");
	}
	OPENSSL_free(name);
	p = data;
	pk = d2i_PUBKEY(NULL, &p, len);
	if (!pk || p != data + len) {
		EVP_PKEY_free(pk);
		OPENSSL_free(data);
		ERR_clear_error();
		return err_set(e, ERR_INPUT, "malformed PUBLIC KEY");
	}
	OPENSSL_free(data);
	return key_adopt(k, pk, false, e);
}

int sign_key_load_public(struct sign_key *k, const char *path, struct err *e)
{
	struct buf b __attribute__((cleanup(buf_cleanup))) = BUF_INIT;

	memset(k, 0, sizeof(*k));
	if (fs_read_file(path, &b, KEY_FILE_MAX, e) < 0 || sign_key_parse_public(k, b.data, b.len, e) < 0)
		return err_prefix(e, "key %s", path);
	return 0;
}

static int pem_wrap(const char *name, const unsigned char *p, size_t n, struct buf *out, struct err *e)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *mem;
	long ml;
	int rc = -1;

	if (!bio)
		return err_oom(e);
	if (PEM_write_bio(bio, name, "", p, (long)n) <= 0) {
		err_openssl(e, ERR_INTERNAL, "write PEM");
	} else {
		ml = BIO_get_mem_data(bio, &mem);
		rc = buf_add(out, mem, (size_t)ml, e);
	}
	BIO_free(bio);
	return rc;
}

int sign_key_encrypted_pem(const struct sign_key *k, const char *pass, size_t passlen,
			   struct buf *out, struct err *e)
{
	struct buf body __attribute__((cleanup(buf_cleanup))) = BUF_INIT;
	unsigned char *der = NULL;
	PKCS8_PRIV_KEY_INFO *p8 = EVP_PKEY2PKCS8(k->pkey);
	int len, rc;

	if (!p8)
		return err_openssl(e, ERR_INTERNAL, "encode PKCS#8");
	len = i2d_PKCS8_PRIV_KEY_INFO(p8, &der);
	PKCS8_PRIV_KEY_INFO_free(p8);
	if (len <= 0)
		return err_openssl(e, ERR_INTERNAL, "encode PKCS#8");
	rc = cosign_encrypt(der, (size_t)len, pass, passlen, &body, e);
	OPENSSL_clear_free(der, (size_t)len);
	if (rc < 0)
		return -1;
	return pem_wrap(PEM_SIGSTORE_KEY, (const unsigned char *)body.data, body.len, out, e);
}

int sign_key_public_pem(const struct sign_key *k, struct buf *out, struct err *e)
{
	unsigned char *der = NULL;
	int len = i2d_PUBKEY(k->pkey, &der), rc;

	if (len <= 0)
		return err_openssl(e, ERR_INTERNAL, "encode public key");
	rc = pem_wrap("PUBLIC KEY", der, (size_t)len, out, e);
	OPENSSL_free(der);
	return rc;
}

static const EVP_MD *key_md(const struct sign_key *k)
{
	return k->alg == SIGN_ED25519 ? NULL : EVP_sha256();
}

int sign_key_sign(const struct sign_key *k, const void *data, size_t n, unsigned char **sig,
		  size_t *siglen, struct err *e)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	size_t len = 0;
	int rc = -1;

	*sig = NULL;
	if (!k->priv)
		return err_set(e, ERR_USAGE, "signing needs a private key");
	if (!ctx)
		return err_oom(e);
	if (EVP_DigestSignInit(ctx, NULL, key_md(k), NULL, k->pkey) != 1 ||
	    EVP_DigestSign(ctx, NULL, &len, data, n) != 1) {
		err_openssl(e, ERR_INTERNAL, "sign");
		goto out;
	}
	*sig = malloc(len);
	if (!*sig) {
		err_oom(e);
		goto out;
	}
	if (EVP_DigestSign(ctx, *sig, &len, data, n) != 1) {
		free(*sig);
		*sig = NULL;
		err_openssl(e, ERR_INTERNAL, "sign");
		goto out;
	}
	*siglen = len;
	rc = 0;
out:
	EVP_MD_CTX_free(ctx);
	return rc;
}

int sign_key_verify(const struct sign_key *k, const void *data, size_t n, const unsigned char *sig,
		    size_t siglen, struct err *e)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int r;

	if (!ctx)
		return err_oom(e);
	r = EVP_DigestVerifyInit(ctx, NULL, key_md(k), NULL, k->pkey);
	if (r == 1)
		r = EVP_DigestVerify(ctx, sig, siglen, data, n);
	EVP_MD_CTX_free(ctx);
	ERR_clear_error();
	if (r != 1)
		return err_set(e, ERR_POLICY, "signature does not verify with key %s", k->fingerprint);
	return 0;
}

static int read_tty_line(int fd, const char *prompt, char *out, size_t max, struct err *e)
{
	struct termios old, noecho;
	size_t n = 0;
	bool restore = false;
	char c;
	ssize_t r;

	if (write(fd, prompt, strlen(prompt)) < 0)
		return err_errno(e, ERR_USAGE, "prompt for the key password");
	if (tcgetattr(fd, &old) == 0) {
		noecho = old;
		noecho.c_lflag &= ~(tcflag_t)ECHO;
		restore = tcsetattr(fd, TCSAFLUSH, &noecho) == 0;
	}
	while ((r = read(fd, &c, 1)) == 1 && c != '\n') {
		if (n + 1 < max)
			out[n++] = c;
	}
	out[n] = '\0';
	if (restore)
		tcsetattr(fd, TCSAFLUSH, &old);
	if (write(fd, "\n", 1) < 0)
		return 0;
	return 0;
}

int sign_password(bool confirm, char **out, struct err *e)
{
	const char *v = getenv("BOSUN_KEY_PASSWORD");
	char a[1024], b[1024];
	int fd, rc = -1;

	*out = NULL;
	if (!v)
		v = getenv("COSIGN_PASSWORD");
	if (!v && !getenv("BOSUN_USERNAME"))
		v = getenv("BOSUN_PASSWORD");
	if (v)
		return (*out = xstrdup_e(v, e)) ? 0 : -1;
	fd = open("/dev/tty", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return err_set(e, ERR_USAGE, "the key needs a password: set COSIGN_PASSWORD or "
					     "BOSUN_KEY_PASSWORD (empty is allowed), or run on a terminal");
	if (read_tty_line(fd, "Enter password for private key: ", a, sizeof(a), e) < 0)
		goto out;
	if (confirm) {
		if (read_tty_line(fd, "Enter password for private key again: ", b, sizeof(b), e) < 0)
			goto out;
		if (strcmp(a, b) != 0) {
			err_set(e, ERR_USAGE, "passwords do not match");
			goto out;
		}
	}
	*out = xstrdup_e(a, e);
	rc = *out ? 0 : -1;
out:
	OPENSSL_cleanse(a, sizeof(a));
	OPENSSL_cleanse(b, sizeof(b));
	close(fd);
	return rc;
}

void sign_password_free(char *p)
{
	if (p) {
		OPENSSL_cleanse(p, strlen(p));
		free(p);
	}
}
