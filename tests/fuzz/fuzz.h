/* Shared helpers for the libFuzzer targets: a NUL-terminated copy of the input. */
#ifndef BOSUN_FUZZ_H
#define BOSUN_FUZZ_H
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static inline char *fuzz_str(const uint8_t *d, size_t n)
{
	char *s = malloc(n + 1);
	if (!s)
		abort();
	memcpy(s, d, n);
	s[n] = 0;
	return s;
}
#endif
