#include "core/sha256.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int sha256_init(struct sha256 *s, struct err *e)
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();

	s->ctx = NULL;
	if (!c || EVP_DigestInit_ex(c, EVP_sha256(), NULL) != 1) {
		EVP_MD_CTX_free(c);
		return err_openssl(e, ERR_INTERNAL, "sha256 init");
	}
	s->ctx = c;
	return 0;
}

void sha256_update(struct sha256 *s, const void *p, size_t n)
{
	if (s->ctx && n)
		EVP_DigestUpdate(s->ctx, p, n);
}

static void hex(const unsigned char *d, unsigned n, char *out)
{
	static const char x[] = "0123456789abcdef";
	unsigned i;

	for (i = 0; i < n; i++) {
		out[2 * i] = x[d[i] >> 4];
		out[2 * i + 1] = x[d[i] & 15];
	}
	out[2 * n] = 0;
}

void sha256_final_hex(struct sha256 *s, char out[65])
{
	unsigned char d[EVP_MAX_MD_SIZE];
	unsigned n = 0;

	out[0] = 0;
	if (!s->ctx)
		return;
	if (EVP_DigestFinal_ex(s->ctx, d, &n) == 1 && n == 32)
		hex(d, n, out);
	sha256_free(s);
}

void sha256_free(struct sha256 *s)
{
	if (s->ctx)
		EVP_MD_CTX_free(s->ctx);
	s->ctx = NULL;
}

void sha256_digest_str(const void *p, size_t n, char out[72])
{
	unsigned char d[32];
	unsigned len = 0;

	EVP_Digest(p, n, d, &len, EVP_sha256(), NULL);
	memcpy(out, "sha256:", 7);
	hex(d, 32, out + 7);
}

int sha256_file(const char *path, char out[72], uint64_t *size, struct err *e)
{
	struct sha256 s;
	char h[65];
	uint64_t total = 0;
	ssize_t r;
	int fd;
	char *b;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return err_errno(e, ERR_INPUT, "%s", path);
	b = malloc(1 << 20);
	if (!b || sha256_init(&s, e) < 0) {
		free(b);
		close(fd);
		return b ? -1 : err_oom(e);
	}
	while ((r = read(fd, b, 1 << 20)) > 0) {
		sha256_update(&s, b, (size_t)r);
		total += (uint64_t)r;
	}
	free(b);
	if (r < 0) {
		err_errno(e, ERR_INTERNAL, "read %s", path);
		sha256_free(&s);
		close(fd);
		return -1;
	}
	close(fd);
	sha256_final_hex(&s, h);
	snprintf(out, 72, "sha256:%s", h);
	if (size)
		*size = total;
	return 0;
}
