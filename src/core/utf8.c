#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/utf8.h"

size_t utf8_seq_len(const unsigned char *s, size_t n)
{
	unsigned c = s[0];
	size_t len;
	uint32_t cp;

	if (n == 0)
		return 0;
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		cp = c & 0x07;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

bool utf8_valid(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;

	while (n > 0) {
		size_t l = utf8_seq_len(p, n);
		if (!l)
			return false;
		p += l;
		n -= l;
	}
	return true;
}

bool utf8_needs_escape(const char *s)
{
	return !utf8_valid(s, strlen(s));
}

char *utf8_escape(const char *s, struct err *e)
{
	size_t n = strlen(s);
	const unsigned char *p = (const unsigned char *)s;
	bool esc = !utf8_valid(s, n);
	char *out = malloc(n * 4 + 1), *o = out;
	static const char hex[] = "0123456789abcdef";

	if (!out) {
		err_oom(e);
		return NULL;
	}
	while (n > 0) {
		size_t l = utf8_seq_len(p, n);
		if (l == 1 && esc && *p == '\\') {
			*o++ = '\\';
			*o++ = '\\';
		} else if (l) {
			memcpy(o, p, l);
			o += l;
		} else {
			*o++ = '\\';
			*o++ = 'x';
			*o++ = hex[*p >> 4];
			*o++ = hex[*p & 15];
			l = 1;
		}
		p += l;
		n -= l;
	}
	*o = 0;
	return out;
}
