/* .dockerignore: first line(s) are patterns, matched against fixed paths and
 * against each input line taken as a path. */
#include "fuzz.h"
#include "builder/build.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	char *s = fuzz_str(d, n), *save = NULL;
	struct ignore *ig = NULL;
	struct err e = ERR_INIT;
	static const char *paths[] = {"a", "a/b", "a/b/c.txt", ".git/config", "x/../y", "Dockerfile", "deep/a/b/c/d/e"};

	if (ignore_parse(&ig, s, &e) == 0) {
		for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
			(void)ignore_match(ig, paths[i]);
		for (char *l = strtok_r(s, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
			(void)ignore_match(ig, l);
		ignore_free(ig);
	}
	free(s);
	return 0;
}
