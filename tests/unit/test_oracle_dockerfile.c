/* buildkit's own parser and shell-lexer test data as the oracle of bosun's
 * Dockerfile parser ($SHARED/data/oracles/buildkit-dockerfile, read at run
 * time; see its SOURCES.txt):
 *   - parser testfiles: every file parsed, each instruction rendered the way
 *     buildkit's Node.Dump() prints its AST and compared with `result`;
 *   - negative testfiles: every one rejected by df_parse (so before any pull);
 *   - envVarTest (ProcessWord) and wordsTest (ProcessWords) through df_lex and
 *     df_lex_words;
 *   - heredoc-cases.json (TestParseExtractsHeredoc).
 * Each prints a table (cases, agreed, disagreed, unsupported by design with
 * the reason) and fails on any disagreement or when cases go missing.
 *
 * bosun keeps the text after the flags of an instruction unsplit (its
 * instructions split and expand it when they run), so the rendering below
 * splits it as buildkit's AST does: ENV/LABEL into key/value/"=" triples, ARG
 * into raw words, FROM/EXPOSE/COPY/ADD/VOLUME on blanks, HEALTHCHECK into its
 * type word and the rest. What is compared is bosun's: instruction names,
 * flags, continuation and comment handling, escape directive, JSON or shell
 * form and the JSON elements, ONBUILD triggers, heredoc markers and bodies. */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>

#include "builder/dockerfile.h"
#include "core/buf.h"
#include "core/fs.h"
#include "test.h"

static char odir[4096];

static char *slurp(const char *path, size_t *len)
{
	struct buf b = BUF_INIT;
	struct err e = ERR_INIT;

	if (fs_read_file(path, &b, 8u << 20, &e) < 0) {
		fprintf(stderr, "%s\n", e.msg);
		return NULL;
	}
	if (len)
		*len = b.len;
	return buf_detach(&b, NULL);
}

/* Go's strconv.Quote (valid UTF-8 above ASCII printed as is). */
static void go_quote(struct buf *o, const char *s)
{
	struct err e = ERR_INIT;

	buf_add(o, "\"", 1, &e);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '"':
			buf_adds(o, "\\\"", &e);
			break;
		case '\\':
			buf_adds(o, "\\\\", &e);
			break;
		case '\a':
			buf_adds(o, "\\a", &e);
			break;
		case '\b':
			buf_adds(o, "\\b", &e);
			break;
		case '\f':
			buf_adds(o, "\\f", &e);
			break;
		case '\n':
			buf_adds(o, "\\n", &e);
			break;
		case '\r':
			buf_adds(o, "\\r", &e);
			break;
		case '\t':
			buf_adds(o, "\\t", &e);
			break;
		case '\v':
			buf_adds(o, "\\v", &e);
			break;
		default:
			if (*p < 0x20 || *p == 0x7f)
				buf_addf(o, &e, "\\x%02x", *p);
			else
				buf_add(o, p, 1, &e);
		}
	}
	buf_add(o, "\"", 1, &e);
}

static void add_q(struct buf *o, const char *s)
{
	struct err e = ERR_INIT;

	buf_add(o, " ", 1, &e);
	go_quote(o, s);
}

/* Whitespace-delimited words of s, as buildkit's parseStringsWhitespaceDelimited. */
static void add_blank_split(struct buf *o, const char *s)
{
	char *d = strdup(s), *save = NULL;

	for (char *w = strtok_r(d, " \t\r\n\v\f", &save); w;
	     w = strtok_r(NULL, " \t\r\n\v\f", &save))
		add_q(o, w);
	free(d);
}

static int dump(struct buf *o, const struct df_instr *in, char esc);

/* One instruction as buildkit's Node.Dump() prints it. */
static int dump(struct buf *o, const struct df_instr *in, char esc)
{
	struct err e = ERR_INIT;
	const char *c = in->cmd;

	buf_adds(o, c, &e);
	if (in->n_flags) {
		buf_adds(o, " [", &e);
		for (size_t i = 0; i < in->n_flags; i++) {
			size_t fl = strlen(in->flags[i]) + 3;
			char *f = malloc(fl);
			snprintf(f, fl, "--%s", in->flags[i]);
			if (i)
				buf_add(o, " ", 1, &e);
			go_quote(o, f);
			free(f);
		}
		buf_adds(o, "]", &e);
	}
	if (strcmp(c, "onbuild") == 0) {
		struct dockerfile sub;
		if (df_parse(&sub, "ONBUILD", in->rest, strlen(in->rest), &e) < 0 || sub.n != 1) {
			fprintf(stderr, "ONBUILD trigger: %s\n", e.msg);
			return -1;
		}
		buf_adds(o, " (", &e);
		dump(o, &sub.ins[0], esc);
		buf_adds(o, ")", &e);
		df_free(&sub);
	} else if (in->json) {
		for (size_t i = 0; i < in->n_args; i++)
			add_q(o, in->args[i]);
	} else if (strcmp(c, "env") == 0 || strcmp(c, "label") == 0 || strcmp(c, "arg") == 0) {
		char **w;
		size_t n;
		if (df_words_raw(in->rest, esc, &w, &n, &e) < 0)
			return -1;
		if (c[0] == 'a') {
			for (size_t i = 0; i < n; i++)
				add_q(o, w[i]);
		} else if (n && !strchr(w[0], '=')) { /* legacy KEY VALUE */
			size_t kl = strcspn(in->rest, " \t");
			char *k = strndup(in->rest, kl);
			const char *v = in->rest + kl + strspn(in->rest + kl, " \t");
			add_q(o, k);
			add_q(o, v);
			add_q(o, "");
			free(k);
		} else {
			for (size_t i = 0; i < n; i++) {
				char *eq = strchr(w[i], '=');
				if (!eq)
					return -1;
				*eq = 0;
				add_q(o, w[i]);
				add_q(o, eq + 1);
				add_q(o, "=");
			}
		}
		df_strv_free(w, n);
	} else if (strcmp(c, "from") == 0 || strcmp(c, "expose") == 0 || strcmp(c, "copy") == 0 ||
		   strcmp(c, "add") == 0 || strcmp(c, "volume") == 0) {
		add_blank_split(o, in->rest);
	} else if (strcmp(c, "healthcheck") == 0) {
		if (*in->rest) {
			size_t kl = strcspn(in->rest, " \t");
			char *k = strndup(in->rest, kl);
			const char *r = in->rest + kl + strspn(in->rest + kl, " \t");
			add_q(o, k);
			free(k);
			cJSON *j = r[0] == '[' ? cJSON_Parse(r) : NULL, *it;
			if (cJSON_IsArray(j)) {
				cJSON_ArrayForEach(it, j)
				    add_q(o, cJSON_IsString(it) ? it->valuestring : "?");
			} else if (*r) {
				add_q(o, r);
			}
			cJSON_Delete(j);
		}
	} else {
		add_q(o, in->rest);
	}
	return 0;
}

/* bosun's deliberate departures from buildkit's parser, each one checked:
 * the file with that line is refused with msg, and the rest of the file,
 * with the line blanked, is still compared. */
static const struct {
	const char *file;
	int line;	  /* of the Dockerfile */
	int result_index; /* of the instruction in `result` */
	const char *msg, *reason;
} by_design[] = {
    {"json", 8, 7, "a JSON argument holds a NUL character",
     "a \\u0000 inside a JSON argument: refused (no command can receive it; C strings), buildkit "
     "keeps it"},
};

struct table {
	int cases, agreed, disagreed, unsupported, skipped;
};

static void table_print(const char *name, const struct table *t)
{
	printf("# oracle %-34s cases %4d  agreed %4d  disagreed %3d  unsupported-by-design %2d",
	       name, t->cases, t->agreed, t->disagreed, t->unsupported);
	if (t->skipped)
		printf("  not-applicable %d", t->skipped);
	printf("\n");
}

static char *blank_line(const char *text, size_t len, int line)
{
	char *d = malloc(len + 1);
	int ln = 1;

	memcpy(d, text, len);
	d[len] = 0;
	for (size_t i = 0; i < len; i++) {
		if (ln == line && d[i] != '\n')
			d[i] = ' ';
		if (d[i] == '\n')
			ln++;
	}
	return d;
}

static void compare_file(const char *name, const char *text, size_t len, const char *result,
			 int skip_index, struct table *t)
{
	struct dockerfile df;
	struct err e = ERR_INIT;
	char *res = strdup(result), *save = NULL;
	char **want = NULL;
	size_t nw = 0;

	for (char *l = strtok_r(res, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		want = realloc(want, (nw + 1) * sizeof(char *));
		want[nw++] = l;
	}
	if (df_parse(&df, name, text, len, &e) < 0) {
		printf("# %s: refused: %s\n", name, e.msg);
		int n = (int)nw - (skip_index >= 0);
		t->cases += n;
		t->disagreed += n;
		CHECK(0);
		free(want);
		free(res);
		return;
	}
	size_t k = 0;
	for (size_t i = 0; i < nw; i++) {
		if ((int)i == skip_index)
			continue;
		t->cases++;
		struct buf o = BUF_INIT;
		struct err e2 = ERR_INIT;
		buf_add(&o, "(", 1, &e2);
		if (k < df.n)
			dump(&o, &df.ins[k], df.escape);
		buf_add(&o, ")", 1, &e2);
		k++;
		if (strcmp(o.data, want[i]) == 0) {
			t->agreed++;
		} else {
			t->disagreed++;
			printf("# %s: instruction %zu\n#   buildkit %s\n#   bosun    %s\n", name,
			       i + 1, want[i], o.data);
			CHECK(0);
		}
		buf_free(&o);
	}
	if (k != df.n) {
		printf("# %s: bosun found %zu instructions, buildkit %zu\n", name, df.n, k);
		t->disagreed++;
		CHECK(0);
	}
	df_free(&df);
	free(want);
	free(res);
}

TEST(parser_testfiles)
{
	char dir[4200];
	struct table t = {0};
	int files = 0;

	snprintf(dir, sizeof(dir), "%s/frontend/dockerfile/parser/testfiles", odir);
	DIR *d = opendir(dir);
	CHECK(d != NULL);
	if (!d)
		return;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		char p[8400], r[8400];
		size_t len;
		snprintf(p, sizeof(p), "%s/%s/Dockerfile", dir, de->d_name);
		snprintf(r, sizeof(r), "%s/%s/result", dir, de->d_name);
		char *text = slurp(p, &len), *result = slurp(r, NULL);
		CHECK(text && result);
		if (!text || !result) {
			free(text);
			free(result);
			continue;
		}
		files++;
		int skip = -1;
		for (size_t b = 0; b < sizeof(by_design) / sizeof(by_design[0]); b++) {
			if (strcmp(by_design[b].file, de->d_name) != 0)
				continue;
			struct dockerfile df;
			struct err e = ERR_INIT;
			char at[64];
			snprintf(at, sizeof(at), "%s:%d:", de->d_name, by_design[b].line);
			int r2 = df_parse(&df, de->d_name, text, len, &e);
			CHECK_INT(r2, -1);
			CHECK(strncmp(e.msg, at, strlen(at)) == 0 &&
			      strstr(e.msg, by_design[b].msg));
			if (r2 == 0)
				df_free(&df);
			printf("# %s:%d: unsupported by design: %s\n", de->d_name,
			       by_design[b].line, by_design[b].reason);
			t.unsupported++;
			t.cases++;
			char *bl = blank_line(text, len, by_design[b].line);
			free(text);
			text = bl;
			skip = by_design[b].result_index;
		}
		compare_file(de->d_name, text, strlen(text), result, skip, &t);
		free(text);
		free(result);
	}
	closedir(d);
	printf("# buildkit parser testfiles: %d files\n", files);
	table_print("buildkit parser testfiles (AST)", &t);
	CHECK(files >= 33);
	CHECK(t.cases >= 285);
	CHECK_INT(t.disagreed, 0);
}

TEST(parser_negative)
{
	char dir[4200];
	struct table t = {0};

	snprintf(dir, sizeof(dir), "%s/frontend/dockerfile/parser/testfiles-negative", odir);
	DIR *d = opendir(dir);
	CHECK(d != NULL);
	if (!d)
		return;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		char p[8400];
		size_t len;
		snprintf(p, sizeof(p), "%s/%s/Dockerfile", dir, de->d_name);
		char *text = slurp(p, &len);
		struct dockerfile df;
		struct err e = ERR_INIT;
		t.cases++;
		if (text && df_parse(&df, de->d_name, text, len, &e) < 0 && e.code == ERR_INPUT) {
			t.agreed++;
			printf("# negative %s: refused: %s\n", de->d_name, e.msg);
		} else {
			t.disagreed++;
			printf("# negative %s: accepted by bosun\n", de->d_name);
			if (text)
				df_free(&df);
		}
		free(text);
	}
	closedir(d);
	table_print("buildkit parser testfiles-negative", &t);
	CHECK(t.cases >= 4);
	CHECK_INT(t.disagreed, 0);
}

/* testfile-line: where each instruction starts (bosun records no end line). */
TEST(parser_line_numbers)
{
	char p[4300];
	size_t len;
	struct dockerfile df;
	struct err e = ERR_INIT;

	snprintf(p, sizeof(p), "%s/frontend/dockerfile/parser/testfile-line/Dockerfile", odir);
	char *text = slurp(p, &len);
	CHECK(text != NULL);
	if (!text)
		return;
	CHECK_INT(df_parse(&df, "testfile-line", text, len, &e), 0);
	CHECK_INT(df.n, 3);
	if (df.n == 3) {
		CHECK_INT(df.ins[0].line, 5);
		CHECK_INT(df.ins[1].line, 11);
		CHECK_INT(df.ins[2].line, 17);
	}
	df_free(&df);
	free(text);
}

/* ------------------------------------------------------------ shell lexer */

struct env {
	char *k[64], *v[64];
	int n;
};

static const char *env_lookup(void *ctx, const char *name)
{
	struct env *en = ctx;

	for (int i = en->n - 1; i >= 0; i--)
		if (strcmp(en->k[i], name) == 0)
			return en->v[i];
	return NULL;
}

static void env_set(struct env *en, const char *k, const char *v)
{
	if (en->n < 64) {
		en->k[en->n] = strdup(k);
		en->v[en->n] = strdup(v);
		en->n++;
	}
}

static void env_free(struct env *en)
{
	for (int i = 0; i < en->n; i++) {
		free(en->k[i]);
		free(en->v[i]);
	}
	en->n = 0;
}

static char *trim(char *s)
{
	size_t l;

	while (*s == ' ' || *s == '\t')
		s++;
	l = strlen(s);
	while (l && (s[l - 1] == ' ' || s[l - 1] == '\t' || s[l - 1] == '\r'))
		s[--l] = 0;
	return s;
}

TEST(shell_envvartest)
{
	char p[4300];
	struct table t = {0};
	struct env en = {0};

	snprintf(p, sizeof(p), "%s/frontend/dockerfile/shell/envVarTest", odir);
	char *text = slurp(p, NULL), *save = NULL;
	CHECK(text != NULL);
	if (!text)
		return;
	env_set(&en, "PWD", "/home");
	env_set(&en, "SHELL", "bash");
	env_set(&en, "KOREAN", "한국어");
	env_set(&en, "NULL", "");
	int lineno = 0;
	for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		lineno++;
		char *s = trim(l);
		if (!*s || *s == '#')
			continue;
		char *b1 = strchr(s, '|'), *b2 = b1 ? strchr(b1 + 1, '|') : NULL;
		CHECK(b2 != NULL);
		if (!b2)
			continue;
		*b1 = *b2 = 0;
		char *plat = trim(s), *src = trim(b1 + 1), *want = trim(b2 + 1);
		t.cases++;
		if (strcmp(plat, "W") == 0) {
			t.skipped++; /* Windows only */
			continue;
		}
		char **w = NULL;
		size_t n = 0;
		struct err e = ERR_INIT;
		int r = df_lex(src, '\\', env_lookup, &en, false, &w, &n, &e);
		bool ok = strcmp(want, "error") == 0 ? r < 0
						     : r == 0 && n == 1 && strcmp(w[0], want) == 0;
		if (ok) {
			t.agreed++;
		} else {
			t.disagreed++;
			printf("# envVarTest line %d: %s: buildkit \"%s\", bosun %s%s%s\n", lineno,
			       src, want, r < 0 ? "error: " : "\"",
			       r < 0 ? e.msg
			       : n   ? w[0]
				     : "",
			       r < 0 ? "" : "\"");
		}
		df_strv_free(w, n);
	}
	free(text);
	env_free(&en);
	table_print("buildkit shell envVarTest", &t);
	CHECK(t.cases >= 230);
	CHECK_INT(t.disagreed, 0);
}

TEST(shell_wordstest)
{
	char p[4300];
	struct table t = {0};
	struct env en = {0};

	snprintf(p, sizeof(p), "%s/frontend/dockerfile/shell/wordsTest", odir);
	char *text = slurp(p, NULL), *save = NULL;
	CHECK(text != NULL);
	if (!text)
		return;
	int lineno = 0;
	for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		lineno++;
		if (l[0] == '#' || !*l)
			continue;
		if (strncmp(l, "ENV ", 4) == 0) {
			char *kv = l + 4, *eq;
			while (*kv == ' ')
				kv++;
			eq = strchr(kv, '=');
			if (eq) {
				*eq = 0;
				env_set(&en, kv, eq + 1);
			}
			continue;
		}
		char *bar = strchr(l, '|');
		CHECK(bar != NULL);
		if (!bar)
			continue;
		*bar = 0;
		char *src = trim(l), *want = bar + 1;
		while (*want == ' ')
			want++;
		t.cases++;
		char **w = NULL;
		size_t n = 0;
		struct err e = ERR_INIT;
		int r = df_lex_words(src, '\\', env_lookup, &en, &w, &n, &e);
		struct buf got = BUF_INIT;
		struct err e2 = ERR_INIT;
		if (r < 0)
			buf_adds(&got, "error", &e2);
		for (size_t i = 0; r == 0 && i < n; i++) {
			if (i)
				buf_add(&got, ",", 1, &e2);
			buf_adds(&got, w[i], &e2);
		}
		if (strcmp(got.data, want) == 0) {
			t.agreed++;
		} else {
			t.disagreed++;
			printf("# wordsTest line %d: %s: buildkit [%s], bosun [%s]\n", lineno, src,
			       want, got.data);
		}
		buf_free(&got);
		df_strv_free(w, n);
	}
	free(text);
	env_free(&en);
	table_print("buildkit shell wordsTest", &t);
	CHECK(t.cases >= 24);
	CHECK_INT(t.disagreed, 0);
}

/* ------------------------------------------------------------- heredocs */

/* What <<- does to a body: leading tabs off every line. */
static char *chomp(const char *s)
{
	char *d = malloc(strlen(s) + 1), *o = d;
	bool bol = true;

	for (; *s; s++) {
		if (bol && *s == '\t')
			continue;
		bol = *s == '\n';
		*o++ = *s;
	}
	*o = 0;
	return d;
}

TEST(heredoc_cases)
{
	char p[4300];
	struct table t = {0};

	snprintf(p, sizeof(p), "%s/heredoc-cases.json", odir);
	char *js = slurp(p, NULL);
	cJSON *j = js ? cJSON_Parse(js) : NULL;
	free(js);
	CHECK(j != NULL);
	if (!j)
		return;
	const char *text = cJSON_GetStringValue(cJSON_GetObjectItem(j, "dockerfile"));
	cJSON *ins = cJSON_GetObjectItem(j, "instructions");
	CHECK(text && cJSON_IsArray(ins));
	if (!text || !cJSON_IsArray(ins)) {
		cJSON_Delete(j);
		return;
	}
	/* The by-design case: buildkit's parser takes the stray "INVALID" line
	 * (after USER <<INVALID, not a heredoc there) as an instruction and its
	 * build fails later; bosun refuses the unknown instruction at once. */
	struct dockerfile df;
	struct err e = ERR_INIT;
	const char *inv = strstr(text, "\nINVALID\n");
	int inv_line = 0, inv_index = -1;
	CHECK(inv != NULL);
	for (const char *q = text; inv && q <= inv; q++)
		inv_line += *q == '\n';
	inv_line++;
	CHECK_INT(df_parse(&df, "heredoc-cases", text, strlen(text), &e), -1);
	CHECK(strstr(e.msg, "unknown instruction \"INVALID\"") != NULL);
	char at[64];
	snprintf(at, sizeof(at), "heredoc-cases:%d:", inv_line);
	CHECK(strncmp(e.msg, at, strlen(at)) == 0);
	t.cases++;
	t.unsupported++;
	printf("# heredoc line %d: unsupported by design: an unknown instruction is refused by the "
	       "parser "
	       "(buildkit: by its later instruction check)\n",
	       inv_line);
	char *bl = blank_line(text, strlen(text), inv_line);
	int r = df_parse(&df, "heredoc-cases", bl, strlen(bl), &e);
	free(bl);
	CHECK_INT(r, 0);
	if (r < 0) {
		printf("# heredoc-cases: %s\n", e.msg);
		cJSON_Delete(j);
		return;
	}
	/* Child 3 is USER <<INVALID, child 4 the INVALID line. */
	inv_index = 4;
	cJSON *it;
	cJSON_ArrayForEach(it, ins)
	{
		int bk = (int)cJSON_GetNumberValue(cJSON_GetObjectItem(it, "index"));
		if (bk == inv_index)
			continue;
		size_t k = (size_t)(bk < inv_index ? bk : bk - 1);
		cJSON *hs = cJSON_GetObjectItem(it, "heredocs");
		size_t nh = cJSON_IsArray(hs) ? (size_t)cJSON_GetArraySize(hs) : 0;
		t.cases++;
		bool ok = k < df.n && df.ins[k].n_heredocs == nh;
		for (size_t h = 0; ok && h < nh; h++) {
			cJSON *x = cJSON_GetArrayItem(hs, (int)h);
			const struct df_heredoc *hd = &df.ins[k].heredocs[h];
			const char *raw = cJSON_GetStringValue(cJSON_GetObjectItem(x, "content"));
			bool ch = cJSON_IsTrue(cJSON_GetObjectItem(x, "chomp"));
			char *want = ch ? chomp(raw) : strdup(raw);
			ok = strcmp(hd->name,
				    cJSON_GetStringValue(cJSON_GetObjectItem(x, "name"))) == 0 &&
			     strcmp(hd->content, want) == 0 && hd->chomp == ch &&
			     hd->expand == cJSON_IsTrue(cJSON_GetObjectItem(x, "expand")) &&
			     hd->fd == (int)cJSON_GetNumberValue(cJSON_GetObjectItem(x, "fd"));
			free(want);
		}
		if (ok) {
			t.agreed++;
		} else {
			t.disagreed++;
			printf("# heredoc child %d (%s): differs; bosun has %zu heredocs", bk,
			       k < df.n ? df.ins[k].original : "?",
			       k < df.n ? df.ins[k].n_heredocs : 0);
			for (size_t h = 0; k < df.n && h < df.ins[k].n_heredocs; h++)
				printf(" [%s expand=%d chomp=%d fd=%d]", df.ins[k].heredocs[h].name,
				       df.ins[k].heredocs[h].expand, df.ins[k].heredocs[h].chomp,
				       df.ins[k].heredocs[h].fd);
			printf("\n");
		}
	}
	CHECK_INT(df.n, cJSON_GetArraySize(ins));
	df_free(&df);
	cJSON_Delete(j);
	table_print("buildkit heredoc-cases", &t);
	CHECK(t.cases >= 27);
	CHECK_INT(t.disagreed, 0);
}

int main(void)
{
	const char *sh = getenv("SHARED");

	snprintf(odir, sizeof(odir), "%s/data/oracles/buildkit-dockerfile",
		 sh && *sh ? sh : "/work/shared");
	RUN(parser_testfiles);
	RUN(parser_negative);
	RUN(parser_line_numbers);
	RUN(shell_envvartest);
	RUN(shell_wordstest);
	RUN(heredoc_cases);
	return test_done();
}
