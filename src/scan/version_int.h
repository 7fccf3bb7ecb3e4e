/* Private to scan/version*.c: the digit helpers both comparator files use.
 *   version.c       dpkg, apk, rpm; generic; the scheme table
 *   version_lang.c  semver, Go, PEP 440, Maven */
#ifndef BOSUN_SCAN_VERSION_INT_H
#define BOSUN_SCAN_VERSION_INT_H

#include <ctype.h>
#include <stddef.h>
#include <string.h>

static inline int sgn(long long x)
{
	return (x > 0) - (x < 0);
}

/* Compare two digit strings of any length by value. */
static inline int numcmp(const char *a, size_t na, const char *b, size_t nb)
{
	int r;

	while (na && *a == '0')
		a++, na--;
	while (nb && *b == '0')
		b++, nb--;
	if (na != nb)
		return na < nb ? -1 : 1;
	r = memcmp(a, b, na);
	return sgn(r);
}

static inline size_t digits(const char *s)
{
	size_t n = 0;

	while (isdigit((unsigned char)s[n]))
		n++;
	return n;
}

#endif
