/* Digest validation and verification. sha256 goes through core/sha256; sha512
 * (accepted when reading, never produced) uses EVP directly. */
#include "oci/digest.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/util.h"

enum { ALG_NONE, ALG_SHA256, ALG_SHA512 };

static bool hex_lower(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return s[n] == '\0';
}

bool oci_digest_valid(const char *d)
{
	if (!d)
		return false;
	if (str_starts(d, "sha256:"))
		return hex_lower(d + 7, 64);
	if (str_starts(d, "sha512:"))
		return hex_lower(d + 7, 128);
	return false;
}

const char *oci_digest_hex(const char *d)
{
	const char *c = d ? strchr(d, ':') : NULL;
	return c ? c + 1 : "";
}

int oci_digest_check(const char *d, const char *what, struct err *e)
{
	if (oci_digest_valid(d))
		return 0;
	if (!d)
		return err_set(e, ERR_INPUT, "%s: missing digest", what ? what : "digest");
	if (what)
		return err_set(e, ERR_INPUT, "%s: invalid digest \"%.140s\"", what, d);
	return err_set(e, ERR_INPUT, "invalid digest \"%.140s\"", d);
}

void oci_digest_short(const char *d, char out[20])
{
	/* Bounded copy: "alg:" plus 12 hex fits in 19 chars for sha256/sha512. */
	size_t n = d ? strlen(d) : 0;
	const char *c = d ? strchr(d, ':') : NULL;
	if (c && (size_t)(c - d) <= 6)
		n = (size_t)(c - d) + 1 + 12 < n ? (size_t)(c - d) + 1 + 12 : n;
	if (n > 19)
		n = 19;
	if (n)
		memcpy(out, d, n);
	out[n] = '\0';
}

static int alg_of(const char *s)
{
	if (!s)
		return ALG_NONE;
	if (!strcmp(s, "sha256") || str_starts(s, "sha256:"))
		return ALG_SHA256;
	if (!strcmp(s, "sha512") || str_starts(s, "sha512:"))
		return ALG_SHA512;
	return ALG_NONE;
}

int oci_digester_init(struct oci_digester *d, const char *algo, struct err *e)
{
	memset(d, 0, sizeof *d);
	int alg = alg_of(algo);
	if (alg == ALG_SHA256) {
		if (sha256_init(&d->s256, e) < 0)
			return -1;
	} else if (alg == ALG_SHA512) {
		EVP_MD_CTX *c = EVP_MD_CTX_new();
		if (!c || EVP_DigestInit_ex(c, EVP_sha512(), NULL) != 1) {
			EVP_MD_CTX_free(c);
			return err_openssl(e, ERR_INTERNAL, "sha512 init");
		}
		d->md = c;
	} else {
		return err_set(e, ERR_INPUT, "unsupported digest algorithm in \"%.80s\"",
			       algo ? algo : "");
	}
	d->alg = alg;
	return 0;
}

void oci_digester_update(struct oci_digester *d, const void *p, size_t n)
{
	if (d->alg == ALG_SHA256)
		sha256_update(&d->s256, p, n);
	else if (d->alg == ALG_SHA512)
		EVP_DigestUpdate(d->md, p, n);
}

void oci_digester_final(struct oci_digester *d, char out[OCI_DIGEST_MAX])
{
	out[0] = '\0';
	if (d->alg == ALG_SHA256) {
		char hex[65];
		sha256_final_hex(&d->s256, hex);
		snprintf(out, OCI_DIGEST_MAX, "sha256:%s", hex);
	} else if (d->alg == ALG_SHA512) {
		unsigned char md[64];
		unsigned int len = 0;
		EVP_DigestFinal_ex(d->md, md, &len);
		memcpy(out, "sha512:", 7);
		for (unsigned i = 0; i < len && i < 64; i++)
			snprintf(out + 7 + 2 * i, 3, "%02x", md[i]);
	}
	oci_digester_free(d);
}

void oci_digester_free(struct oci_digester *d)
{
	if (d->alg == ALG_SHA256)
		sha256_free(&d->s256);
	else if (d->alg == ALG_SHA512)
		EVP_MD_CTX_free(d->md);
	d->md = NULL;
	d->alg = ALG_NONE;
}

int oci_digest_verify(const char *digest, const void *p, size_t n, struct err *e)
{
	if (oci_digest_check(digest, NULL, e) < 0)
		return -1;
	struct oci_digester d;
	char got[OCI_DIGEST_MAX];
	if (oci_digester_init(&d, digest, e) < 0)
		return -1;
	oci_digester_update(&d, p, n);
	oci_digester_final(&d, got);
	if (strcmp(got, digest) != 0)
		return err_set(e, ERR_INPUT, "digest mismatch: expected %s, got %s", digest, got);
	return 0;
}

int oci_digest_verify_file(const char *digest, const char *path, long long *size_out, struct err *e)
{
	if (oci_digest_check(digest, NULL, e) < 0)
		return -1;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return err_errno(e, errno == ENOENT ? ERR_INPUT : ERR_INTERNAL, "open %s", path);
	struct oci_digester d;
	if (oci_digester_init(&d, digest, e) < 0) {
		close(fd);
		return -1;
	}
	char chunk[32768];
	long long total = 0;
	for (;;) {
		ssize_t r = read(fd, chunk, sizeof chunk);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int saved = errno;
			oci_digester_free(&d);
			close(fd);
			errno = saved;
			return err_errno(e, ERR_INTERNAL, "read %s", path);
		}
		if (r == 0)
			break;
		oci_digester_update(&d, chunk, (size_t)r);
		total += r;
	}
	close(fd);
	char got[OCI_DIGEST_MAX];
	oci_digester_final(&d, got);
	if (size_out)
		*size_out = total;
	if (strcmp(got, digest) != 0)
		return err_set(e, ERR_INPUT, "digest mismatch: expected %s, got %s", digest, got);
	return 0;
}
