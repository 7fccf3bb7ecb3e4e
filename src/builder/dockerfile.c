#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <cjson/cJSON.h>

#include "builder/dockerfile.h"
#include "core/buf.h"
#include "core/fs.h"
#include "core/util.h"

static const char *const known[] = { "from",  "run",	  "cmd",	 "label",   "maintainer", "expose",
				     "env",   "add",	  "copy",	 "entrypoint", "volume",  "user",
				     "workdir", "arg",	  "onbuild",	 "stopsignal", "healthcheck", "shell" };

void df_strv_free(char **v, size_t n)
{
	if (!v)
		return;
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void df_instr_free(struct df_instr *in)
{
	free(in->cmd);
	free(in->original);
	df_strv_free(in->flags, in->n_flags);
	df_strv_free(in->args, in->n_args);
	free(in->rest);
	for (size_t i = 0; i < in->n_heredocs; i++) {
		free(in->heredocs[i].name);
		free(in->heredocs[i].content);
	}
	free(in->heredocs);
	memset(in, 0, sizeof(*in));
}

void df_free(struct dockerfile *df)
{
	for (size_t i = 0; i < df->n; i++)
		df_instr_free(&df->ins[i]);
	free(df->ins);
	free(df->path);
	free(df->syntax);
	memset(df, 0, sizeof(*df));
}

const char *df_flag(const struct df_instr *in, const char *name)
{
	size_t nl = strlen(name);

	for (size_t i = 0; i < in->n_flags; i++) {
		const char *f = in->flags[i];
		if (strncmp(f, name, nl) == 0 && (f[nl] == '=' || f[nl] == 0))
			return f[nl] == '=' ? f + nl + 1 : "";
	}
	return NULL;
}

static int strv_push(char ***v, size_t *n, char *s, struct err *e)
{
	char **nv;

	if (!s)
		return err_oom(e);
	nv = realloc(*v, (*n + 2) * sizeof(char *));
	if (!nv) {
		free(s);
		return err_oom(e);
	}
	nv[(*n)++] = s;
	nv[*n] = NULL;
	*v = nv;
	return 0;
}

/* ---------------------------------------------------------------- lexer */

struct lex {
	const char *s;
	size_t i;
	char esc;
	df_lookup_fn lookup;
	void *ctx;
	struct err *e;
};

static int lex_word_until(struct lex *L, char stop, struct buf *out);

static int is_name_char(int c)
{
	return isalnum(c) || c == '_';
}

/* At L->s[L->i] == '$'. Appends the expansion to out. */
static int lex_dollar(struct lex *L, struct buf *out)
{
	const char *s = L->s;
	char name[256];
	size_t nl = 0;

	L->i++;
	if (s[L->i] == '{') {
		L->i++;
		while (is_name_char((unsigned char)s[L->i]) && nl < sizeof(name) - 1)
			name[nl++] = s[L->i++];
		name[nl] = 0;
		if (nl == 0)
			return err_set(L->e, ERR_INPUT, "bad substitution at \"${%.20s\"", s + L->i);
		const char *val = L->lookup ? L->lookup(L->ctx, name) : NULL;
		if (s[L->i] == '}') {
			L->i++;
			return val ? buf_adds(out, val, L->e) : 0;
		}
		if (s[L->i] == ':' && (s[L->i + 1] == '-' || s[L->i + 1] == '+')) {
			char op = s[L->i + 1];
			struct buf w = BUF_INIT;
			int r;

			L->i += 2;
			if (lex_word_until(L, '}', &w) < 0) {
				buf_free(&w);
				return -1;
			}
			if (s[L->i] != '}') {
				buf_free(&w);
				return err_set(L->e, ERR_INPUT, "missing '}' in ${%s...}", name);
			}
			L->i++;
			if (op == '-')
				r = buf_adds(out, val && *val ? val : w.data, L->e);
			else
				r = buf_adds(out, val && *val ? w.data : "", L->e);
			buf_free(&w);
			return r;
		}
		return err_set(L->e, ERR_INPUT, "bad substitution: unsupported modifier in ${%s%.10s", name, s + L->i);
	}
	if (!is_name_char((unsigned char)s[L->i]))
		return buf_add(out, "$", 1, L->e); /* a lone $ stays */
	while (is_name_char((unsigned char)s[L->i]) && nl < sizeof(name) - 1)
		name[nl++] = s[L->i++];
	name[nl] = 0;
	const char *val = L->lookup ? L->lookup(L->ctx, name) : NULL;
	return val ? buf_adds(out, val, L->e) : 0;
}

/* A word inside ${...:-WORD}: quotes and escapes processed, stops at stop. */
static int lex_word_until(struct lex *L, char stop, struct buf *out)
{
	const char *s = L->s;

	while (s[L->i] && s[L->i] != stop) {
		char c = s[L->i];
		if (c == L->esc && s[L->i + 1]) {
			if (buf_add(out, s + L->i + 1, 1, L->e) < 0)
				return -1;
			L->i += 2;
		} else if (c == '$' && L->lookup) {
			if (lex_dollar(L, out) < 0)
				return -1;
		} else {
			if (buf_add(out, &c, 1, L->e) < 0)
				return -1;
			L->i++;
		}
	}
	return 0;
}

int df_lex(const char *s, char esc, df_lookup_fn lookup, void *ctx, bool split, char ***words, size_t *n,
	   struct err *e)
{
	struct lex L = { s, 0, esc, lookup, ctx, e };
	struct buf w = BUF_INIT;
	bool in_word = false;
	int ret = -1;

	*words = NULL;
	*n = 0;
	while (s[L.i]) {
		char c = s[L.i];
		if (split && isspace((unsigned char)c)) {
			if (in_word && strv_push(words, n, buf_detach(&w, NULL), e) < 0)
				goto out;
			in_word = false;
			L.i++;
			continue;
		}
		in_word = true;
		if (c == esc) {
			if (!s[L.i + 1]) {
				if (buf_add(&w, &c, 1, e) < 0)
					goto out;
				L.i++;
				continue;
			}
			if (buf_add(&w, s + L.i + 1, 1, e) < 0)
				goto out;
			L.i += 2;
		} else if (c == '\'') {
			const char *end = strchr(s + L.i + 1, '\'');
			if (!end) {
				err_set(e, ERR_INPUT, "unexpected end of statement while looking for matching '");
				goto out;
			}
			if (buf_add(&w, s + L.i + 1, (size_t)(end - s - L.i - 1), e) < 0)
				goto out;
			L.i = (size_t)(end - s) + 1;
		} else if (c == '"') {
			L.i++;
			while (s[L.i] && s[L.i] != '"') {
				char d = s[L.i];
				if (d == esc && s[L.i + 1]) {
					char nx = s[L.i + 1];
					if (nx == '"' || nx == '$' || nx == esc) {
						if (buf_add(&w, &nx, 1, e) < 0)
							goto out;
					} else if (buf_add(&w, s + L.i, 2, e) < 0) {
						goto out;
					}
					L.i += 2;
				} else if (d == '$' && lookup) {
					if (lex_dollar(&L, &w) < 0)
						goto out;
				} else {
					if (buf_add(&w, &d, 1, e) < 0)
						goto out;
					L.i++;
				}
			}
			if (s[L.i] != '"') {
				err_set(e, ERR_INPUT, "unexpected end of statement while looking for matching \"");
				goto out;
			}
			L.i++;
		} else if (c == '$' && lookup) {
			if (lex_dollar(&L, &w) < 0)
				goto out;
		} else {
			if (buf_add(&w, &c, 1, e) < 0)
				goto out;
			L.i++;
		}
	}
	if ((in_word || !split) && strv_push(words, n, buf_detach(&w, NULL), e) < 0)
		goto out;
	ret = 0;
out:
	buf_free(&w);
	if (ret < 0) {
		df_strv_free(*words, *n);
		*words = NULL;
		*n = 0;
	}
	return ret;
}

char *df_expand_plain(const char *s, char esc, df_lookup_fn lookup, void *ctx, struct err *e)
{
	struct lex L = { s, 0, esc, lookup, ctx, e };
	struct buf w = BUF_INIT;

	while (s[L.i]) {
		if (s[L.i] == esc && s[L.i + 1] == '$') {
			if (buf_add(&w, "$", 1, e) < 0)
				goto fail;
			L.i += 2;
		} else if (s[L.i] == '$') {
			if (lex_dollar(&L, &w) < 0)
				goto fail;
		} else {
			if (buf_add(&w, s + L.i, 1, e) < 0)
				goto fail;
			L.i++;
		}
	}
	return buf_detach(&w, NULL);
fail:
	buf_free(&w);
	return NULL;
}

int df_kv(const char *s, char esc, df_lookup_fn lookup, void *ctx, bool legacy, bool allow_novalue,
	  char ***keys, char ***vals, size_t *n, struct err *e)
{
	char **w = NULL;
	size_t nw = 0, nk = 0, nv = 0;
	const char *p = s;

	*keys = *vals = NULL;
	*n = 0;
	while (isspace((unsigned char)*p))
		p++;
	/* Legacy "KEY value with spaces": the first raw word holds no '='. */
	size_t kl = strcspn(p, " \t\r\n");
	if (legacy && !memchr(p, '=', kl) && p[kl]) {
		char *k = xstrndup_e(p, kl, e);
		const char *v = p + kl;

		if (!k)
			return -1;
		while (isspace((unsigned char)*v))
			v++;
		if (strv_push(keys, &nk, k, e) < 0)
			goto fail;
		if (df_lex(v, esc, lookup, ctx, false, &w, &nw, e) < 0)
			goto fail;
		if (strv_push(vals, &nv, w[0], e) < 0) {
			w[0] = NULL;
			goto fail;
		}
		w[0] = NULL;
		df_strv_free(w, nw);
		*n = 1;
		return 0;
	}
	if (df_lex(s, esc, lookup, ctx, true, &w, &nw, e) < 0)
		return -1;
	if (nw == 0) {
		err_set(e, ERR_INPUT, "missing KEY=VALUE");
		goto fail;
	}
	for (size_t i = 0; i < nw; i++) {
		char *eq = strchr(w[i], '=');
		if (eq == w[i] || (!eq && !allow_novalue)) {
			err_set(e, ERR_INPUT, "expected KEY=VALUE, got \"%s\"", w[i]);
			goto fail;
		}
		if (strv_push(keys, &nk, xstrndup_e(w[i], eq ? (size_t)(eq - w[i]) : strlen(w[i]), e), e) < 0)
			goto fail;
		char **nvv = realloc(*vals, (nv + 2) * sizeof(char *));
		if (!nvv) {
			err_oom(e);
			goto fail;
		}
		*vals = nvv;
		nvv[nv] = eq ? xstrdup_e(eq + 1, e) : NULL;
		if (eq && !nvv[nv])
			goto fail;
		nv++;
		nvv[nv] = NULL;
	}
	df_strv_free(w, nw);
	*n = nk;
	return 0;
fail:
	df_strv_free(w, nw);
	df_strv_free(*keys, nk);
	df_strv_free(*vals, nv);
	*keys = *vals = NULL;
	return -1;
}

/* --------------------------------------------------------------- parser */

struct lines {
	char **v; /* without line terminators */
	size_t n;
};

static int split_lines(const char *text, size_t len, struct lines *L, struct err *e)
{
	size_t i = 0;

	L->v = NULL;
	L->n = 0;
	while (i < len) {
		size_t j = i;
		while (j < len && text[j] != '\n')
			j++;
		size_t end = j;
		if (end > i && text[end - 1] == '\r')
			end--;
		if (memchr(text + i, 0, end - i))
			return err_set(e, ERR_INPUT, "line %zu: NUL byte in Dockerfile", L->n + 1);
		if (strv_push(&L->v, &L->n, xstrndup_e(text + i, end - i, e), e) < 0)
			return -1;
		i = j + 1;
	}
	return 0;
}

static bool blank(const char *s)
{
	while (*s && isspace((unsigned char)*s))
		s++;
	return *s == 0;
}

static bool comment(const char *s)
{
	while (*s && isspace((unsigned char)*s))
		s++;
	return *s == '#';
}

/* Does the (right-trimmed) line end with the escape character? */
static bool continues(const char *s, char esc, size_t *keep)
{
	size_t l = strlen(s);

	while (l > 0 && isspace((unsigned char)s[l - 1]))
		l--;
	if (l > 0 && s[l - 1] == esc) {
		*keep = l - 1;
		return true;
	}
	*keep = strlen(s);
	return false;
}

static bool takes_json(const char *cmd)
{
	static const char *const j[] = { "run", "cmd", "entrypoint", "shell", "copy", "add", "volume" };
	for (size_t i = 0; i < ARRAY_SIZE(j); i++)
		if (strcmp(cmd, j[i]) == 0)
			return true;
	return false;
}

/* Heredoc markers in a RUN/COPY/ADD line: <<[-]["']WORD["'] outside quotes. */
static int find_heredocs(struct df_instr *in, struct err *e)
{
	const char *s = in->rest;
	char q = 0;

	for (size_t i = 0; s[i]; i++) {
		if (q) {
			if (s[i] == q)
				q = 0;
			continue;
		}
		if (s[i] == '\'' || s[i] == '"') {
			q = s[i];
			continue;
		}
		if (s[i] != '<' || s[i + 1] != '<')
			continue;
		size_t j = i + 2;
		bool chomp = false, quoted = false;
		char qc = 0;
		if (s[j] == '-') {
			chomp = true;
			j++;
		}
		if (s[j] == '"' || s[j] == '\'') {
			qc = s[j++];
			quoted = true;
		}
		size_t st = j;
		while (s[j] && (isalnum((unsigned char)s[j]) || s[j] == '_' || s[j] == '-' || s[j] == '.'))
			j++;
		if (j == st)
			continue;
		if (quoted && s[j] != qc)
			continue;
		struct df_heredoc *nh = realloc(in->heredocs, (in->n_heredocs + 1) * sizeof(*nh));
		if (!nh)
			return err_oom(e);
		in->heredocs = nh;
		nh[in->n_heredocs].name = xstrndup_e(s + st, j - st, e);
		nh[in->n_heredocs].content = NULL;
		nh[in->n_heredocs].expand = !quoted;
		nh[in->n_heredocs].chomp = chomp;
		in->n_heredocs++;
		if (!nh[in->n_heredocs - 1].name)
			return -1;
		i = quoted ? j : j - 1;
	}
	return 0;
}

static int parse_instr(struct dockerfile *df, struct df_instr *in, const char *logical, int line, int col,
		       struct err *e)
{
	const char *p = logical;
	size_t wl;

	while (isspace((unsigned char)*p))
		p++;
	wl = strcspn(p, " \t");
	in->line = line;
	in->col = col;
	in->original = xstrdup_e(p, e);
	in->cmd = xstrndup_e(p, wl, e);
	if (!in->original || !in->cmd)
		return -1;
	for (char *c = in->cmd; *c; c++)
		*c = (char)tolower((unsigned char)*c);
	bool ok = false;
	for (size_t i = 0; i < ARRAY_SIZE(known); i++)
		ok = ok || strcmp(in->cmd, known[i]) == 0;
	if (!ok)
		return err_set(e, ERR_INPUT, "%s:%d:%d: unknown instruction \"%.*s\"", df->path, line, col, (int)wl, p);
	p += wl;
	while (isspace((unsigned char)*p))
		p++;
	/* Flags: --name[=value] words before the arguments. */
	while (p[0] == '-' && p[1] == '-' && strcmp(in->cmd, "onbuild") != 0) {
		size_t fl = strcspn(p, " \t");
		if (fl == 2)
			return err_set(e, ERR_INPUT, "%s:%d:%d: empty flag \"--\"", df->path, line,
				       col + (int)(p - logical));
		if (strv_push(&in->flags, &in->n_flags, xstrndup_e(p + 2, fl - 2, e), e) < 0)
			return -1;
		p += fl;
		while (isspace((unsigned char)*p))
			p++;
	}
	in->rest_col = col + (int)(p - logical);
	size_t rl = strlen(p);
	while (rl > 0 && isspace((unsigned char)p[rl - 1]))
		rl--;
	in->rest = xstrndup_e(p, rl, e);
	if (!in->rest)
		return -1;
	if (rl == 0 && strcmp(in->cmd, "healthcheck") != 0)
		return err_set(e, ERR_INPUT, "%s:%d:%d: %s requires at least one argument", df->path, line, col,
			       in->cmd);
	if (takes_json(in->cmd) && in->rest[0] == '[') {
		cJSON *j = cJSON_ParseWithLength(in->rest, rl);
		bool all_str = j && cJSON_IsArray(j);
		cJSON *it;

		cJSON_ArrayForEach(it, j) all_str = all_str && cJSON_IsString(it);
		if (all_str) {
			in->json = true;
			cJSON_ArrayForEach(it, j)
			{
				if (strv_push(&in->args, &in->n_args, xstrdup_e(it->valuestring, e), e) < 0) {
					cJSON_Delete(j);
					return -1;
				}
			}
		}
		cJSON_Delete(j);
		if (!in->json && strcmp(in->cmd, "shell") == 0)
			return err_set(e, ERR_INPUT, "%s:%d:%d: SHELL requires a JSON array of strings", df->path,
				       line, in->rest_col);
	} else if (strcmp(in->cmd, "shell") == 0) {
		return err_set(e, ERR_INPUT, "%s:%d:%d: SHELL requires the JSON form [\"executable\", \"param\"]",
			       df->path, line, in->rest_col);
	}
	if (!in->json && (strcmp(in->cmd, "run") == 0 || strcmp(in->cmd, "copy") == 0 ||
			  strcmp(in->cmd, "add") == 0))
		return find_heredocs(in, e);
	return 0;
}

int df_parse(struct dockerfile *df, const char *path, const char *text, size_t len, struct err *e)
{
	struct lines L;
	struct buf logical = BUF_INIT;
	size_t i = 0;
	int ret = -1;

	memset(df, 0, sizeof(*df));
	df->escape = '\\';
	df->path = xstrdup_e(path, e);
	if (!df->path)
		return -1;
	if (len > DF_MAX_SIZE)
		return err_set(e, ERR_INPUT, "%s: bigger than %u bytes", path, DF_MAX_SIZE);
	if (split_lines(text, len, &L, e) < 0) {
		err_prefix(e, "%s", path);
		goto out;
	}
	/* Parser directives: only at the very top, before any other line. */
	for (; i < L.n; i++) {
		const char *s = L.v[i];
		while (isspace((unsigned char)*s))
			s++;
		if (*s != '#')
			break;
		s++;
		while (isspace((unsigned char)*s))
			s++;
		size_t kl = 0;
		while (isalpha((unsigned char)s[kl]))
			kl++;
		const char *v = s + kl;
		while (*v == ' ' || *v == '\t')
			v++;
		if (kl == 0 || *v != '=')
			break;
		v++;
		while (*v == ' ' || *v == '\t')
			v++;
		size_t vl = strlen(v);
		while (vl > 0 && isspace((unsigned char)v[vl - 1]))
			vl--;
		if (kl == 6 && strncasecmp(s, "escape", 6) == 0) {
			if (vl != 1 || (v[0] != '\\' && v[0] != '`')) {
				err_set(e, ERR_INPUT, "%s:%zu:1: invalid escape token '%.*s' does not validate", path,
					i + 1, (int)vl, v);
				goto out;
			}
			df->escape = v[0];
		} else if (kl == 6 && strncasecmp(s, "syntax", 6) == 0) {
			free(df->syntax);
			df->syntax = xstrndup_e(v, vl, e);
		} else {
			break;
		}
	}
	while (i < L.n) {
		if (blank(L.v[i]) || comment(L.v[i])) {
			i++;
			continue;
		}
		int line = (int)i + 1;
		int col = 1 + (int)strspn(L.v[i], " \t");
		size_t keep;
		buf_reset(&logical);
		bool cont = continues(L.v[i], df->escape, &keep);
		if (buf_add(&logical, L.v[i], keep, e) < 0)
			goto out;
		i++;
		while (cont && i < L.n) {
			if (comment(L.v[i]) || blank(L.v[i])) {
				i++;
				continue;
			}
			cont = continues(L.v[i], df->escape, &keep);
			if (buf_add(&logical, L.v[i], keep, e) < 0)
				goto out;
			i++;
		}
		struct df_instr *ni = realloc(df->ins, (df->n + 1) * sizeof(*ni));
		if (!ni) {
			err_oom(e);
			goto out;
		}
		df->ins = ni;
		memset(&ni[df->n], 0, sizeof(*ni));
		df->n++;
		struct df_instr *in = &ni[df->n - 1];
		if (parse_instr(df, in, logical.data, line, col, e) < 0)
			goto out;
		for (size_t h = 0; h < in->n_heredocs; h++) {
			struct buf body = BUF_INIT;
			bool found = false;
			for (; i < L.n; i++) {
				const char *s = L.v[i];
				if (in->heredocs[h].chomp)
					while (*s == '\t')
						s++;
				if (strcmp(s, in->heredocs[h].name) == 0) {
					found = true;
					i++;
					break;
				}
				if (buf_adds(&body, s, e) < 0 || buf_add(&body, "\n", 1, e) < 0) {
					buf_free(&body);
					goto out;
				}
			}
			in->heredocs[h].content = buf_detach(&body, NULL);
			if (!found) {
				err_set(e, ERR_INPUT, "%s:%d:%d: unterminated heredoc <<%s", path, line, col,
					in->heredocs[h].name);
				goto out;
			}
		}
	}
	ret = 0;
out:
	if (ret < 0)
		df_free(df); /* callers (ONBUILD) do not free a failed parse */
	buf_free(&logical);
	df_strv_free(L.v, L.n);
	return ret;
}

int df_parse_file(struct dockerfile *df, const char *path, struct err *e)
{
	struct buf b = BUF_INIT;
	int r;

	memset(df, 0, sizeof(*df));
	if (fs_read_file(path, &b, DF_MAX_SIZE, e) < 0)
		return -1;
	r = df_parse(df, path, b.data, b.len, e);
	buf_free(&b);
	return r;
}
