#include "core/util.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

char *xstrdup_e(const char *s, struct err *e)
{
	char *r = strdup(s ? s : "");

	if (!r)
		err_oom(e);
	return r;
}

char *xstrndup_e(const char *s, size_t n, struct err *e)
{
	char *r = strndup(s, n);

	if (!r)
		err_oom(e);
	return r;
}

char *xasprintf_e(struct err *e, const char *fmt, ...)
{
	va_list ap;
	char *r = NULL;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&r, fmt, ap);
	va_end(ap);
	if (n < 0) {
		err_oom(e);
		return NULL;
	}
	return r;
}

bool str_starts(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

bool str_ends(const char *s, const char *suffix)
{
	size_t ls = strlen(s), lx = strlen(suffix);

	return ls >= lx && memcmp(s + ls - lx, suffix, lx) == 0;
}

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

size_t base64_enc_len(size_t n)
{
	return (n + 2) / 3 * 4;
}

void base64_encode(const void *in, size_t n, char *out)
{
	const unsigned char *p = in;
	size_t i, o = 0;

	for (i = 0; i + 2 < n; i += 3) {
		out[o++] = b64[p[i] >> 2];
		out[o++] = b64[((p[i] & 3) << 4) | (p[i + 1] >> 4)];
		out[o++] = b64[((p[i + 1] & 15) << 2) | (p[i + 2] >> 6)];
		out[o++] = b64[p[i + 2] & 63];
	}
	if (n - i == 1) {
		out[o++] = b64[p[i] >> 2];
		out[o++] = b64[(p[i] & 3) << 4];
		out[o++] = '=';
		out[o++] = '=';
	} else if (n - i == 2) {
		out[o++] = b64[p[i] >> 2];
		out[o++] = b64[((p[i] & 3) << 4) | (p[i + 1] >> 4)];
		out[o++] = b64[(p[i + 1] & 15) << 2];
		out[o++] = '=';
	}
	out[o] = 0;
}

char *base64_encode_e(const void *in, size_t n, struct err *e)
{
	char *s = malloc(base64_enc_len(n) + 1);

	if (!s) {
		err_oom(e);
		return NULL;
	}
	base64_encode(in, n, s);
	return s;
}

long base64_decode(const char *in, size_t n, unsigned char *out, bool url)
{
	const char *alpha = url ? b64url : b64;
	unsigned v = 0;
	int bits = 0;
	long o = 0;
	size_t i;

	while (n && in[n - 1] == '=')
		n--;
	for (i = 0; i < n; i++) {
		const char *c = memchr(alpha, in[i], 64);

		if (!c || !in[i])
			return -1;
		v = (v << 6) | (unsigned)(c - alpha);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (unsigned char)(v >> bits);
		}
	}
	/* A single leftover sextet cannot encode a byte. */
	if (bits >= 6)
		return -1;
	return o;
}

double time_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

double backoff_scale(void)
{
	const char *v = getenv("BOSUN_TEST_BACKOFF_SCALE");
	char *end;
	double f;

	if (!v || !*v)
		return 1.0;
	f = strtod(v, &end);
	return *end || !(f >= 0.0 && f <= 1.0) ? 1.0 : f;
}

bool path_append(char *out, size_t *o, size_t outsz, const char *s, size_t l)
{
	if (*o + l + 2 > outsz)
		return false;
	if (*o)
		out[(*o)++] = '/';
	memcpy(out + *o, s, l);
	*o += l;
	return true;
}

void time_rfc3339(int64_t t, char out[32])
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!gmtime_r(&tt, &tm)) {
		snprintf(out, 32, "1970-01-01T00:00:00Z");
		return;
	}
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

void fmt_size(uint64_t n, char out[16])
{
	static const char *const u[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double v = (double)n;
	int i = 0;

	while (v >= 1024 && i < 4) {
		v /= 1024;
		i++;
	}
	if (i == 0)
		snprintf(out, 16, "%llu B", (unsigned long long)n);
	else
		snprintf(out, 16, "%.1f %s", v, u[i]);
}

void closep(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

void fclosep(void *fp)
{
	FILE **f = fp;

	if (*f)
		fclose(*f);
	*f = NULL;
}
