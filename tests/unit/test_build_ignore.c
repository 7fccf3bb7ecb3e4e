/* .dockerignore matching against Docker's rules. */
#include "builder/build.h"
#include "test.h"

static const struct {
	const char *patterns, *path;
	int ignored;
} cases[] = {
	{ "*.log", "a.log", 1 },
	{ "*.log", "dir/a.log", 0 },	 /* '*' stays within one element */
	{ "**/*.log", "dir/sub/a.log", 1 },
	{ "**/*.log", "a.log", 1 },
	{ "dir", "dir/sub/file", 1 },	 /* a parent match excludes the children */
	{ "dir\n!dir/keep", "dir/keep", 0 },
	{ "dir\n!dir/keep", "dir/other", 1 },
	{ "!a\na", "a", 1 },		 /* the last match wins */
	{ "# comment\n\n  x  \n", "x", 1 },
	{ "/abs/./path/", "abs/path", 1 }, /* patterns are cleaned */
	{ "a?c", "abc", 1 },
	{ "a?c", "a/c", 0 },
	{ "[a-c]x", "bx", 1 },
	{ "[^a-c]x", "bx", 0 },
	{ "*", "anything", 1 },
	{ "x.txt", "x.txt.bak", 0 },
	{ "dir/**", "dir/a/b", 1 },
	{ "file.(1)", "file.(1)", 1 }, /* regex metacharacters are literal */
};

TEST(ignore_rules)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ignore *ig = NULL;
		struct err e = ERR_INIT;

		CHECK_INT(ignore_parse(&ig, cases[i].patterns, &e), 0);
		int got = ignore_match(ig, cases[i].path);
		if (got != cases[i].ignored)
			fprintf(stderr, "case %zu: \"%s\" vs \"%s\": got %d\n", i, cases[i].patterns, cases[i].path, got);
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
}

int main(void)
{
	RUN(ignore_rules);
	RUN(ignore_bad_pattern);
	return test_done();
}
