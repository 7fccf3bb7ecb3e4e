/* Dockerfile parser and word lexer. */
#include <stdlib.h>
#include <string.h>

#include "builder/dockerfile.h"
#include "test.h"

static const char *lookup(void *ctx, const char *name)
{
	(void)ctx;
	if (strcmp(name, "A") == 0)
		return "alpha";
	if (strcmp(name, "EMPTY") == 0)
		return "";
	if (strcmp(name, "SP") == 0)
		return "x y";
	return NULL;
}

static char *lex1(const char *s, char esc)
{
	char **w;
	size_t n;
	struct err e = ERR_INIT;
	char *r;

	if (df_lex(s, esc, lookup, NULL, false, &w, &n, &e) < 0)
		return strdup(e.msg);
	r = strdup(w[0]);
	df_strv_free(w, n);
	return r;
}

static const struct {
	const char *in, *out;
} lex_cases[] = {
	{ "$A", "alpha" },
	{ "${A}b", "alphab" },
	{ "${NOPE:-def}", "def" },
	{ "${EMPTY:-def}", "def" },
	{ "${A:-def}", "alpha" },
	{ "${A:+alt}", "alt" },
	{ "${NOPE:+alt}", "" },
	{ "${NOPE:-${A}x}", "alphax" },
	{ "'$A'", "$A" },
	{ "\"$A\"", "alpha" },
	{ "\\$A", "$A" },
	{ "a\\ b", "a b" },
	{ "\"a\\\"b\"", "a\"b" },
	{ "cost $", "cost $" },
	{ "$NOPE", "" },
	{ "${A", "bad substitution" },
	{ "'open", "unexpected end of statement" },
};

TEST(lexer_expansion)
{
	for (size_t i = 0; i < sizeof(lex_cases) / sizeof(lex_cases[0]); i++) {
		char *got = lex1(lex_cases[i].in, '\\');
		if (i >= sizeof(lex_cases) / sizeof(lex_cases[0]) - 2)
			CHECK(strstr(got, lex_cases[i].out) != NULL);
		else
			CHECK_STR(got, lex_cases[i].out);
		free(got);
	}
	char *g = lex1("`$A", '`');
	CHECK_STR(g, "$A");
	free(g);
	g = lex1("a\\b", '`'); /* backslash is literal with escape=` */
	CHECK_STR(g, "a\\b");
	free(g);
}

TEST(lexer_split)
{
	char **w;
	size_t n;
	struct err e = ERR_INIT;

	CHECK_INT(df_lex("a \"b c\" $SP ''", '\\', lookup, NULL, true, &w, &n, &e), 0);
	CHECK_INT(n, 4);
	if (n == 4) {
		CHECK_STR(w[0], "a");
		CHECK_STR(w[1], "b c");
		CHECK_STR(w[2], "x y"); /* expansion results are not re-split (Docker) */
		CHECK_STR(w[3], "");
	}
	df_strv_free(w, n);
}

TEST(kv_forms)
{
	char **k, **v;
	size_t n;
	struct err e = ERR_INIT;

	CHECK_INT(df_kv("A=1 B=\"two words\" C=${A}", '\\', lookup, NULL, true, false, &k, &v, &n, &e), 0);
	CHECK_INT(n, 3);
	if (n == 3) {
		CHECK_STR(k[1], "B");
		CHECK_STR(v[1], "two words");
		CHECK_STR(v[2], "alpha");
	}
	df_strv_free(k, n);
	df_strv_free(v, n);
	CHECK_INT(df_kv("KEY value with  spaces", '\\', lookup, NULL, true, false, &k, &v, &n, &e), 0);
	CHECK_INT(n, 1);
	if (n == 1) {
		CHECK_STR(k[0], "KEY");
		CHECK_STR(v[0], "value with  spaces");
	}
	df_strv_free(k, n);
	df_strv_free(v, n);
	CHECK_INT(df_kv("NAME", '\\', lookup, NULL, false, true, &k, &v, &n, &e), 0);
	CHECK(n == 1 && v[0] == NULL);
	df_strv_free(k, n);
	df_strv_free(v, n);
	CHECK_INT(df_kv("=x", '\\', lookup, NULL, false, false, &k, &v, &n, &e), -1);
}

static const char sample[] = "# syntax=docker/dockerfile:1\n"
			     "# escape=\\\n"
			     "ARG BASE=busybox\n"
			     "# a comment\n"
			     "FROM ${BASE} AS build\n"
			     "RUN echo one \\\n"
			     "  # comment inside continuation\n"
			     "    two\n"
			     "\n"
			     "COPY --from=build --chown=1:2 [\"a b\", \"/dst/\"]\n"
			     "RUN <<EOF\n"
			     "echo $HOME\n"
			     "EOF\n"
			     "  cmd [\"/bin/sh\", \"-c\"]\n"
			     "ENTRYPOINT [not json\n"
			     "COPY <<-'END' /f\n"
			     "\thello\n"
			     "\tEND\n";

TEST(parse_sample)
{
	struct dockerfile df;
	struct err e = ERR_INIT;

	CHECK_INT(df_parse(&df, "Dockerfile", sample, strlen(sample), &e), 0);
	if (e.code)
		fprintf(stderr, "%s\n", e.msg);
	CHECK_STR(df.syntax, "docker/dockerfile:1");
	CHECK_INT(df.n, 8);
	if (df.n == 8) {
		CHECK_STR(df.ins[0].cmd, "arg");
		CHECK_STR(df.ins[1].cmd, "from");
		CHECK_INT(df.ins[1].line, 5);
		CHECK_STR(df.ins[2].rest, "echo one     two");
		CHECK_INT(df.ins[3].json, 1);
		CHECK_STR(df_flag(&df.ins[3], "from"), "build");
		CHECK_STR(df_flag(&df.ins[3], "chown"), "1:2");
		CHECK(df_flag(&df.ins[3], "chmod") == NULL);
		CHECK_INT(df.ins[3].n_args, 2);
		CHECK_INT(df.ins[4].n_heredocs, 1);
		CHECK_STR(df.ins[4].heredocs[0].content, "echo $HOME\n");
		CHECK_INT(df.ins[4].heredocs[0].expand, 1);
		CHECK_STR(df.ins[5].cmd, "cmd");
		CHECK_INT(df.ins[5].col, 3);
		CHECK_INT(df.ins[5].json, 1);
		CHECK_INT(df.ins[6].json, 0); /* invalid JSON falls back to the shell form */
		CHECK_STR(df.ins[7].heredocs[0].content, "hello\n");
	}
	df_free(&df);
}

TEST(parse_heredoc_chomp_quoted)
{
	struct dockerfile df;
	struct err e = ERR_INIT;
	const char *t = "FROM scratch\nCOPY <<-'END' /f\n\thello $X\n\tEND\n";

	CHECK_INT(df_parse(&df, "Dockerfile", t, strlen(t), &e), 0);
	CHECK_INT(df.n, 2);
	if (df.n == 2 && df.ins[1].n_heredocs == 1) {
		CHECK_STR(df.ins[1].heredocs[0].content, "hello $X\n");
		CHECK_INT(df.ins[1].heredocs[0].expand, 0);
	}
	df_free(&df);
}

TEST(parse_escape_backtick)
{
	struct dockerfile df;
	struct err e = ERR_INIT;
	const char *t = "# escape=`\nFROM scratch\nRUN a `\n b\\c\n";

	CHECK_INT(df_parse(&df, "Dockerfile", t, strlen(t), &e), 0);
	CHECK_INT(df.escape, '`');
	if (df.n == 2)
		CHECK_STR(df.ins[1].rest, "a  b\\c");
	df_free(&df);
}

static const struct {
	const char *text, *msg;
} bad[] = {
	{ "FROM scratch\nFORM x\n", "Dockerfile:2:1: unknown instruction \"FORM\"" },
	{ "FROM scratch\n  RUN\n", "Dockerfile:2:3: run requires at least one argument" },
	{ "FROM scratch\nRUN <<EOF\necho\n", "Dockerfile:2:1: unterminated heredoc <<EOF" },
	{ "FROM scratch\nSHELL /bin/bash\n", "Dockerfile:2:7: SHELL requires" },
	{ "# escape=x\nFROM scratch\n", "Dockerfile:1:1: invalid escape token" },
	{ "FROM scratch\nCOPY -- a b\n", "Dockerfile:2:6: empty flag" },
};

TEST(parse_errors)
{
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct dockerfile df;
		struct err e = ERR_INIT;

		CHECK_INT(df_parse(&df, "Dockerfile", bad[i].text, strlen(bad[i].text), &e), -1);
		CHECK_INT(e.code, ERR_INPUT);
		if (strncmp(e.msg, bad[i].msg, strlen(bad[i].msg)) != 0)
			CHECK_STR(e.msg, bad[i].msg);
		df_free(&df);
	}
}

int main(void)
{
	RUN(lexer_expansion);
	RUN(lexer_split);
	RUN(kv_forms);
	RUN(parse_sample);
	RUN(parse_heredoc_chomp_quoted);
	RUN(parse_escape_backtick);
	RUN(parse_errors);
	return test_done();
}
