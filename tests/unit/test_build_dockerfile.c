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
    {"$A", "alpha"},
    {"${A}b", "alphab"},
    {"${NOPE:-def}", "def"},
    {"${EMPTY:-def}", "def"},
    {"${A:-def}", "alpha"},
    {"${A:+alt}", "alt"},
    {"${NOPE:+alt}", ""},
    {"${NOPE:-${A}x}", "alphax"},
    {"'$A'", "$A"},
    {"\"$A\"", "alpha"},
    {"\\$A", "$A"},
    {"a\\ b", "a b"},
    {"\"a\\\"b\"", "a\"b"},
    {"cost $", "cost $"},
    {"$NOPE", ""},
    {"${A", "bad substitution"},
    {"'open", "unexpected end of statement"},
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

	CHECK_INT(
	    df_kv("A=1 B=\"two words\" C=${A}", '\\', lookup, NULL, true, false, &k, &v, &n, &e),
	    0);
	CHECK_INT(n, 3);
	if (n == 3) {
		CHECK_STR(k[1], "B");
		CHECK_STR(v[1], "two words");
		CHECK_STR(v[2], "alpha");
	}
	df_strv_free(k, n);
	df_strv_free(v, n);
	CHECK_INT(df_kv("KEY value with  spaces", '\\', lookup, NULL, true, false, &k, &v, &n, &e),
		  0);
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
    {"FROM scratch\nFORM x\n", "Dockerfile:2:1: unknown instruction \"FORM\""},
    {"FROM scratch\n  RUN\n", "Dockerfile:2:3: run requires at least one argument"},
    {"FROM scratch\nRUN <<EOF\necho\n", "Dockerfile:2:1: unterminated heredoc <<EOF"},
    {"FROM scratch\nSHELL /bin/bash\n", "Dockerfile:2:7: SHELL requires"},
    {"# escape=x\nFROM scratch\n", "Dockerfile:1:1: invalid escape token"},
    {"FROM scratch\nENV PATH\n", "Dockerfile:2:1: ENV PATH has no value"},
    {"FROM scratch\nLABEL a=1 b\n", "Dockerfile:2:1: LABEL: no '=' in \"b\""},
    {"FROM scratch\nENV =x\n", "Dockerfile:2:1: ENV: a name can not be blank"},
    {"FROM scratch\nARG a =b\n", "Dockerfile:2:1: ARG: a name can not be blank"},
    {"FROM scratch\nCMD [\"a\", 1]\n", "Dockerfile:2:5: when using JSON array syntax"},
    {"FROM scratch\nCMD [\"a\\u0000b\"]\n", "Dockerfile:2:5: a JSON argument holds a NUL"},
    {"FROM scratch\nONBUILD ONBUILD RUN x\n", "Dockerfile:2:9: ONBUILD isn't allowed"},
    {"FROM scratch\nONBUILD maintainer me\n", "Dockerfile:2:9: MAINTAINER isn't allowed"},
    {"FROM scratch\nONBUILD FORM x\n", "Dockerfile:2:9: ONBUILD trigger:1:1: unknown instruction"},
    {"FROM scratch\nRUN <<'EOF\nx\nEOF\n", "Dockerfile:2:5: unterminated quote in heredoc"},
    {"# escape=`\n# escape=\\\nFROM scratch\n", "Dockerfile:2:1: only one escape parser directive"},
    {"", "Dockerfile: file with no instructions"},
    {"\n# only a comment\n\n", "Dockerfile: file with no instructions"},
    {"FROM scratch\nRUN a\0b\n", "Dockerfile:2:6: NUL byte"},
};

TEST(parse_errors)
{
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct dockerfile df;
		struct err e = ERR_INIT;

		size_t len = strlen(bad[i].text);
		if (strstr(bad[i].msg, "NUL byte"))
			len += 2; /* the text goes on after its NUL */
		CHECK_INT(df_parse(&df, "Dockerfile", bad[i].text, len, &e), -1);
		CHECK_INT(e.code, ERR_INPUT);
		if (strncmp(e.msg, bad[i].msg, strlen(bad[i].msg)) != 0)
			CHECK_STR(e.msg, bad[i].msg);
		df_free(&df);
	}
}

/* Flags: quotes removed, "--" ends them (buildkit's extractBuilderFlags). */
TEST(parse_flags)
{
	struct dockerfile df;
	struct err e = ERR_INIT;
	const char *t = "FROM scratch\nCOPY --chown=\"a b\" --link -- --not-a-flag /d\n"
			"RUN --mount=type=cache,target='/x y' echo\nCOPY -- a b\n";

	CHECK_INT(df_parse(&df, "Dockerfile", t, strlen(t), &e), 0);
	CHECK_INT(df.n, 4);
	if (df.n == 4) {
		CHECK_INT(df.ins[1].n_flags, 2);
		CHECK_STR(df_flag(&df.ins[1], "chown"), "a b");
		CHECK_STR(df_flag(&df.ins[1], "link"), "");
		CHECK_STR(df.ins[1].rest, "--not-a-flag /d");
		CHECK_STR(df_flag(&df.ins[2], "mount"), "type=cache,target=/x y");
		CHECK_STR(df.ins[2].rest, "echo");
		CHECK_INT(df.ins[3].n_flags, 0);
		CHECK_STR(df.ins[3].rest, "a b");
	}
	df_free(&df);
}

/* Continuations: an escaped escape at the end does not continue; a BOM is
 * skipped; CRLF lines; "# check=" is a directive too. */
TEST(parse_lines)
{
	struct dockerfile df;
	struct err e = ERR_INIT;
	const char *t = "\xef\xbb\xbf# check=skip=all\r\n# escape=`\r\nFROM scratch\r\nENV "
			"A=x``\r\nRUN y`\r\n  z\r\n";

	CHECK_INT(df_parse(&df, "Dockerfile", t, strlen(t), &e), 0);
	CHECK_INT(df.escape, '`');
	CHECK_INT(df.n, 3);
	if (df.n == 3) {
		CHECK_STR(df.ins[1].rest, "A=x``");
		CHECK_STR(df.ins[2].rest, "y  z");
		CHECK_INT(df.ins[2].line, 5);
	}
	df_free(&df);
}

/* Heredoc markers as buildkit finds them: N<<, quotes anywhere in the word,
 * "<<  EOF" with blanks, several per line, none inside quotes. */
TEST(parse_heredoc_forms)
{
	struct dockerfile df;
	struct err e = ERR_INIT;
	const char *t = "FROM scratch\n"
			"RUN 3<<A cat <<  \"B\" \"<<NOT\"\na $x\nA\nb\nB\n"
			"RUN <<e'o'f\nx\neof\n";

	CHECK_INT(df_parse(&df, "Dockerfile", t, strlen(t), &e), 0);
	if (e.code)
		fprintf(stderr, "%s\n", e.msg);
	CHECK_INT(df.n, 3);
	if (df.n == 3) {
		CHECK_INT(df.ins[1].n_heredocs, 2);
		if (df.ins[1].n_heredocs == 2) {
			CHECK_STR(df.ins[1].heredocs[0].name, "A");
			CHECK_INT(df.ins[1].heredocs[0].fd, 3);
			CHECK_INT(df.ins[1].heredocs[0].expand, 1);
			CHECK_STR(df.ins[1].heredocs[0].content, "a $x\n");
			CHECK_STR(df.ins[1].heredocs[1].name, "B");
			CHECK_INT(df.ins[1].heredocs[1].expand, 0);
			CHECK_INT(df.ins[1].heredocs[1].fd, 0);
		}
		CHECK_INT(df.ins[2].n_heredocs, 1);
		if (df.ins[2].n_heredocs == 1) {
			CHECK_STR(df.ins[2].heredocs[0].name, "eof");
			CHECK_INT(df.ins[2].heredocs[0].expand, 0);
		}
	}
	df_free(&df);
}

static const struct {
	const char *in, *out;
} lex_more[] = {
    {"a\\", "a"}, /* an escape at the very end is dropped */
    {"$1x", "x"}, /* positional: digits only, never set */
    {"$@@", "@"}, /* special parameters, never set */
    {"${#:-d}", "d"},
    {"${A?}", "alpha"},
    {"${EMPTY?}", ""},
    {"${A:?x}", "alpha"},
    {"${NOPE:-'a }'}", "a }"}, /* quotes inside the default word */
    {"${NOPE:-\"$A\"}", "alpha"},
};

static const struct {
	const char *in, *err;
} lex_bad[] = {
    {"${NOPE?}", "NOPE: is not allowed to be unset"},
    {"${NOPE?gone}", "NOPE: gone"},
    {"${EMPTY:?}", "EMPTY: is not allowed to be empty"},
    {"${A:=x}", "unsupported modifier"},
    {"${A", "bad substitution"},
    {"${A:-x", "missing '}'"},
    {"${}", "bad substitution"},
    {"\"x\\", "unexpected end of statement"},
};

TEST(lexer_forms)
{
	for (size_t i = 0; i < sizeof(lex_more) / sizeof(lex_more[0]); i++) {
		char *got = lex1(lex_more[i].in, '\\');
		if (strcmp(got, lex_more[i].out) != 0)
			fprintf(stderr, "lex %s\n", lex_more[i].in);
		CHECK_STR(got, lex_more[i].out);
		free(got);
	}
	for (size_t i = 0; i < sizeof(lex_bad) / sizeof(lex_bad[0]); i++) {
		char **w;
		size_t n;
		struct err e = ERR_INIT;
		CHECK_INT(df_lex(lex_bad[i].in, '\\', lookup, NULL, false, &w, &n, &e), -1);
		CHECK_INT(e.code, ERR_INPUT);
		if (!strstr(e.msg, lex_bad[i].err))
			CHECK_STR(e.msg, lex_bad[i].err);
	}
}

TEST(lexer_words_modes)
{
	char **w;
	size_t n;
	struct err e = ERR_INIT;

	/* ProcessWords: an unquoted expansion splits, a quoted one does not; '' is no word. */
	CHECK_INT(df_lex_words("p$SP \"$SP\" '' q", '\\', lookup, NULL, &w, &n, &e), 0);
	CHECK_INT(n, 4);
	if (n == 4) {
		CHECK_STR(w[0], "px");
		CHECK_STR(w[1], "y");
		CHECK_STR(w[2], "x y");
		CHECK_STR(w[3], "q");
	}
	df_strv_free(w, n);
	/* Raw words: quotes and escapes kept, blanks inside quotes kept. */
	CHECK_INT(df_words_raw("a=\"b c\" d\\ e 'f g'h \\", '\\', &w, &n, &e), 0);
	CHECK_INT(n, 3);
	if (n == 3) {
		CHECK_STR(w[0], "a=\"b c\"");
		CHECK_STR(w[1], "d\\ e");
		CHECK_STR(w[2], "'f g'h");
	}
	df_strv_free(w, n);
}

/* Hostile input: deep nesting is refused (no stack exhaustion), huge lines
 * and invalid UTF-8 are just bytes, long names are refused. */
TEST(hostile)
{
	struct err e = ERR_INIT;
	char **w;
	size_t n;
	size_t depth = 200000;
	char *s = malloc(depth * 8 + 16), *p = s;

	for (size_t i = 0; i < depth; i++)
		memcpy(p, "${A:-", 5), p += 5;
	*p++ = 'x';
	for (size_t i = 0; i < depth; i++)
		*p++ = '}';
	*p = 0;
	CHECK_INT(df_lex(s, '\\', lookup, NULL, false, &w, &n, &e), -1);
	CHECK(strstr(e.msg, "nested deeper than 64") != NULL);
	free(s);
	/* 64 levels are fine */
	s = malloc(64 * 8 + 16);
	p = s;
	for (int i = 0; i < 64; i++)
		memcpy(p, "${N:-", 5), p += 5;
	*p++ = 'x';
	for (int i = 0; i < 64; i++)
		*p++ = '}';
	*p = 0;
	err_clear(&e);
	CHECK_INT(df_lex(s, '\\', lookup, NULL, false, &w, &n, &e), 0);
	if (n == 1)
		CHECK_STR(w[0], "x");
	df_strv_free(w, n);
	free(s);
	/* a 300-byte variable name */
	char name[400] = "$";
	memset(name + 1, 'V', 300);
	name[301] = 0;
	CHECK_INT(df_lex(name, '\\', lookup, NULL, false, &w, &n, &e), -1);
	CHECK(strstr(e.msg, "variable name longer") != NULL);

	/* A 3 MB instruction line, invalid UTF-8, a Dockerfile over the cap. */
	size_t big = 3u << 20;
	char *t = malloc(big + 64);
	int h = snprintf(t, big + 64, "FROM scratch\nRUN \xff\xfe caf\xc3 ");
	memset(t + h, 'a', big);
	memcpy(t + h + big, "\n", 2);
	struct dockerfile df;
	err_clear(&e);
	CHECK_INT(df_parse(&df, "Dockerfile", t, strlen(t), &e), 0);
	if (df.n == 2)
		CHECK_INT(strlen(df.ins[1].rest), big + 8);
	df_free(&df);
	free(t);
	t = calloc(1, DF_MAX_SIZE + 2);
	memset(t, '\n', DF_MAX_SIZE + 1);
	CHECK_INT(df_parse(&df, "Dockerfile", t, DF_MAX_SIZE + 1, &e), -1);
	CHECK(strstr(e.msg, "bigger than") != NULL);
	free(t);
	/* 100000 ONBUILD words: refused at once, no recursion */
	t = malloc(8 * 100000 + 64);
	memcpy(t, "FROM scratch\n", 13), p = t + 13;
	for (int i = 0; i < 100000; i++)
		memcpy(p, "ONBUILD ", 8), p += 8;
	memcpy(p, "RUN x\n", 7);
	CHECK_INT(df_parse(&df, "Dockerfile", t, strlen(t), &e), -1);
	CHECK(strstr(e.msg, "isn't allowed as an ONBUILD trigger") != NULL);
	free(t);
}

/* df_check_expansions: what will fail whatever the values, found before any pull. */
TEST(check_expansions)
{
	static const struct {
		const char *text, *msg;
	} cases[] = {
	    {"FROM scratch\nENV A=${B\n", "Dockerfile:2:1: env: bad substitution"},
	    {"FROM scratch\nCOPY 'a /b\n", "Dockerfile:2:1: copy: unexpected end of statement"},
	    {"FROM scratch\nCOPY [\"${x\", \"/b\"]\n", "Dockerfile:2:1: copy: bad substitution"},
	    {"FROM scratch\nCOPY <<EOF /b\n${\nEOF\n", "Dockerfile:2:1: copy: "},
	    {"FROM ${IMG:-a\n", "Dockerfile:1:1: from: syntax error: missing '}'"},
	    {"FROM scratch\nWORKDIR \"/x\n", "Dockerfile:2:1: workdir: unexpected end"},
	    {"FROM scratch\nENV A=${B?must_be_set}\nRUN echo ${\nCMD echo '\n", NULL},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct dockerfile df;
		struct err e = ERR_INIT;
		CHECK_INT(df_parse(&df, "Dockerfile", cases[i].text, strlen(cases[i].text), &e), 0);
		if (e.code)
			fprintf(stderr, "%s\n", e.msg);
		int r = df_check_expansions(&df, &e);
		CHECK_INT(r, cases[i].msg ? -1 : 0);
		if (cases[i].msg && strncmp(e.msg, cases[i].msg, strlen(cases[i].msg)) != 0)
			CHECK_STR(e.msg, cases[i].msg);
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
	RUN(parse_flags);
	RUN(parse_lines);
	RUN(parse_heredoc_forms);
	RUN(lexer_forms);
	RUN(lexer_words_modes);
	RUN(hostile);
	RUN(check_expansions);
	return test_done();
}
