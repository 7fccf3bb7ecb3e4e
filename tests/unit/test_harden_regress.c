/* Regressions for inputs the fuzz targets (tests/fuzz) found; each input is
 * also a seed in tests/fuzz/corpus/NAME/regress-*. */
#include <stdlib.h>
#include <string.h>

#include "build/dockerfile.h"
#include "test.h"

static char *slurp(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	char *s;
	long len;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	rewind(f);
	s = malloc((size_t)len + 1);
	if (s && fread(s, 1, (size_t)len, f) != (size_t)len) {
		free(s);
		s = NULL;
	}
	fclose(f);
	if (s)
		s[len] = 0;
	*n = (size_t)len;
	return s;
}

/* A Dockerfile that fails to parse after some instructions used to leak
 * them (ONBUILD triggers in build.c do not free a failed parse). */
TEST(dockerfile_failed_parse_frees)
{
	struct dockerfile df;
	struct err e = ERR_INIT;
	const char *text = "FROM alpine\nRUN true\nSHELL sh -c\n";
	size_t n = 0;
	char *seed;

	CHECK_INT(df_parse(&df, "Dockerfile", text, strlen(text), &e), -1);
	CHECK_INT(e.code, ERR_INPUT);
	CHECK(df.n == 0 && df.ins == NULL && df.path == NULL);
	seed = slurp("tests/fuzz/corpus/dockerfile/regress-leak-failed-parse", &n);
	CHECK(seed != NULL);
	if (seed) {
		err_clear(&e);
		if (df_parse(&df, "Dockerfile", seed, n, &e) < 0)
			CHECK(df.n == 0 && df.ins == NULL);
		df_free(&df);
		free(seed);
	}
}

int main(void)
{
	RUN(dockerfile_failed_parse_frees);
	return test_done();
}
