/* .dockerignore matching against Docker's rules. */
#include <stdlib.h>
#include <time.h>

#include "builder/build.h"
#include "test.h"

static const struct {
	const char *patterns, *path;
	int ignored;
} cases[] = {
    {"*.log", "a.log", 1},
    {"*.log", "dir/a.log", 0}, /* '*' stays within one element */
    {"**/*.log", "dir/sub/a.log", 1},
    {"**/*.log", "a.log", 1},
    {"dir", "dir/sub/file", 1}, /* a parent match excludes the children */
    {"dir\n!dir/keep", "dir/keep", 0},
    {"dir\n!dir/keep", "dir/other", 1},
    {"!a\na", "a", 1}, /* the last match wins */
    {"# comment\n\n  x  \n", "x", 1},
    {"/abs/./path/", "abs/path", 1}, /* patterns are cleaned */
    {"a?c", "abc", 1},
    {"a?c", "a/c", 0},
    {"[a-c]x", "bx", 1},
    {"[^a-c]x", "bx", 0},
    {"*", "anything", 1},
    {"x.txt", "x.txt.bak", 0},
    {"dir/**", "dir/a/b", 1},
    {"file.(1)", "file.(1)", 1}, /* regex metacharacters are literal */
    {"a?b",
     "a\xe2\x98\xba"
     "b",
     1}, /* ? is one UTF-8 character, not one byte */
    {"a???b",
     "a\xe2\x98\xba"
     "b",
     0},
    {"caf?", "caf\xc3\xa9", 1},
    {"caf??", "caf\xc3\xa9", 0},
    {"caf\xc3", "caf\xc3", 1}, /* not UTF-8: bytes match themselves */
    {"caf?", "caf\xc3", 1},    /* and a stray byte is one character */
    {"caf?", "caf\xc3x", 0},
    {"[\xce\xb1-\xce\xb6]x", "\xce\xb2x", 1}, /* ranges of code points: [α-ζ] */
    {"[\\]a]", "]", 1},			      /* escapes inside [...] */
    {"[\\-x]", "-", 1},
    {"[x\\-]", "z", 0},
    {"a\\*b", "a*b", 1},
    {"a\\*b", "axb", 0},
    {"**file", "dir/myfile", 1}, /* Docker's suffix match for ** + literal text */
    {"**/foo", "foo", 1},
    {"**/foo", "xfoo", 0},
    {"a**b", "axb", 0}, /* ** not at the end needs a / before the rest */
    {"a**b", "ax/b", 1},
    {"a[^b]c", "a/c", 1}, /* a negated class takes / (Docker's regex) */
    {"../x", "x", 0},	  /* a leading .. stays: it matches nothing */
    {"a/../b", "b", 1},
    {"  # not a comment", "# not a comment", 1}, /* # only in the first column */
    {"\xef\xbb\xbf"
     "bom",
     "bom", 1}, /* a byte order mark is skipped */
    {"!\nx", "x", -1},
};

TEST(ignore_rules)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ignore *ig = NULL;
		struct err e = ERR_INIT;

		if (cases[i].ignored < 0) {
			CHECK_INT(ignore_parse(&ig, cases[i].patterns, &e), -1);
			continue;
		}
		CHECK_INT(ignore_parse(&ig, cases[i].patterns, &e), 0);
		int got = ignore_match(ig, cases[i].path);
		if (got != cases[i].ignored)
			fprintf(stderr, "case %zu: \"%s\" vs \"%s\": got %d\n", i,
				cases[i].patterns, cases[i].path, got);
		CHECK_INT(got, cases[i].ignored);
		ignore_free(ig);
	}
}

TEST(ignore_bad_pattern)
{
	struct ignore *ig = NULL;
	struct err e = ERR_INIT;

	CHECK_INT(ignore_parse(&ig, "[abc\n", &e), -1);
	CHECK_INT(e.code, ERR_INPUT);
	/* the patterns Docker refuses (filepath.ErrBadPattern), with the line */
	static const char *const badp[] = {"[]a]", "[x-]", "[-x]", "[-]", "a\\", "\\", "[a-b-c]",
					   "[",	   "[^",   "[^bc", "a[",  "!",	 "! "};
	for (size_t i = 0; i < sizeof(badp) / sizeof(badp[0]); i++) {
		char text[64];
		snprintf(text, sizeof(text), "ok\n# c\n%s\n", badp[i]);
		err_clear(&e);
		CHECK_INT(ignore_parse(&ig, text, &e), -1);
		CHECK_INT(e.code, ERR_INPUT);
		CHECK(strncmp(e.msg, ".dockerignore:3: ", 17) == 0);
	}
	CHECK(strstr(e.msg, "illegal exclusion pattern") != NULL);
}

/* Hostile: patterns that make backtracking matchers explode, paths longer
 * than PATH_MAX, a pattern over the length cap, NULs cut the text. */
TEST(ignore_hostile)
{
	struct ignore *ig = NULL;
	struct err e = ERR_INIT;
	char *path = malloc(20001);

	memset(path, 'a', 20000);
	path[20000] = 0;
	CHECK_INT(
	    ignore_parse(
		&ig, "*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b\n**a**a**a**a**a**a**a**a**b\n", &e),
	    0);
	clock_t t0 = clock();
	CHECK_INT(ignore_match(ig, path), 0);
	for (int i = 1; i < 20000; i += 2)
		path[i] = '/';
	CHECK_INT(ignore_match(ig, path), 0);
	double secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
	if (secs > 5)
		fprintf(stderr, "pathological patterns took %.1f s\n", secs);
	CHECK(secs < 5);
	ignore_free(ig);
	/* a 10000-element path under an ignored directory */
	CHECK_INT(ignore_parse(&ig, "a\n", &e), 0);
	CHECK_INT(ignore_match(ig, path), 1);
	path[0] = 'b';
	CHECK_INT(ignore_match(ig, path), 0);
	ignore_free(ig);
	free(path);
	/* a pattern of 4096 bytes is fine, 4097 is refused */
	char *pat = malloc(5000);
	memset(pat, '*', 4096);
	pat[4096] = 0;
	CHECK_INT(ignore_parse(&ig, pat, &e), 0);
	CHECK_INT(ignore_match(ig, "x"), 1);
	ignore_free(ig);
	memset(pat, 'x', 4097);
	pat[4097] = 0;
	CHECK_INT(ignore_parse(&ig, pat, &e), -1);
	CHECK(strstr(e.msg, "longer than 4096") != NULL);
	free(pat);
}

int main(void)
{
	RUN(ignore_rules);
	RUN(ignore_bad_pattern);
	RUN(ignore_hostile);
	return test_done();
}
