/* Dockerfile word lexing and variable expansion (df_lex, df_words_raw, df_kv,
 * df_expand_plain) and df_check_expansions; the parser is dockerfile.c. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <cjson/cJSON.h>

#include "builder/dockerfile.h"
#include "builder/dockerfile_int.h"
#include "core/buf.h"
#include "core/fs.h"
#include "core/util.h"

/* ---------------------------------------------------------------- lexer */

/* How a lexed text becomes words. */
enum split_mode {
	SPLIT_NONE,  /* one word, whitespace kept */
	SPLIT_SPACE, /* words on unquoted whitespace of the text; expansions stay whole */
	SPLIT_WORDS, /* Docker's ProcessWords: unquoted expansions are split too; empty words
			dropped */
};

struct words {
	enum split_mode mode;
	char **v;
	size_t n;
	struct buf cur;
	bool in_word;
};

struct lex {
	const char *s;
	size_t i;
	char esc;
	df_lookup_fn lookup;
	void *ctx;
	struct err *e;
	int depth;
};

static int is_name_char(int c)
{
	return isalnum(c) || c == '_';
}

static int words_end_word(struct words *w, struct err *e)
{
	if (w->mode == SPLIT_WORDS ? w->cur.len > 0 : w->in_word) {
		if (strv_push(&w->v, &w->n, buf_detach(&w->cur, NULL), e) < 0)
			return -1;
	}
	w->in_word = false;
	return 0;
}

/* A character of the text, not quoted and not escaped. */
static int words_char(struct words *w, char c, struct err *e)
{
	if (!w)
		return 0;
	if (w->mode != SPLIT_NONE && isspace((unsigned char)c)) {
		/* Docker keeps an empty word open on a blank (no word yet). */
		if (w->in_word && (w->mode != SPLIT_WORDS || w->cur.len > 0))
			return words_end_word(w, e);
		return 0;
	}
	w->in_word = true;
	return buf_add(&w->cur, &c, 1, e);
}

/* Text that is part of the current word whatever it holds (quoted or escaped). */
static int words_raw(struct words *w, const char *s, size_t n, struct err *e)
{
	if (!w)
		return 0;
	w->in_word = true;
	return buf_add(&w->cur, s, n, e);
}

/* The result of a $ expansion. */
static int words_expansion(struct words *w, const char *s, size_t n, struct err *e)
{
	if (!w)
		return 0;
	if (w->mode != SPLIT_WORDS)
		return words_raw(w, s, n, e);
	for (size_t i = 0; i < n; i++)
		if (words_char(w, s[i], e) < 0)
			return -1;
	return 0;
}

static int lex_until(struct lex *L, char stop, struct buf *out, struct words *w);

/* After "$" or "${": a name. A digit starts a positional parameter (all the
 * digits), one of @*#?-$! is a special parameter; neither is ever set in a
 * Dockerfile. Returns the length in the text (0: no name; max or more: too
 * long, name truncated); *special tells the kind. */
static size_t lex_name(struct lex *L, char *name, size_t max, bool *special)
{
	const char *s = L->s;
	size_t nl = 0;

	*special = false;
	if (isdigit((unsigned char)s[L->i])) {
		*special = true;
		while (isdigit((unsigned char)s[L->i])) {
			if (nl < max - 1)
				name[nl] = s[L->i];
			nl++;
			L->i++;
		}
	} else if (s[L->i] && strchr("@*#?-$!", s[L->i])) {
		*special = true;
		name[nl++] = s[L->i++];
	} else {
		while (is_name_char((unsigned char)s[L->i])) {
			if (nl < max - 1)
				name[nl] = s[L->i];
			nl++;
			L->i++;
		}
	}
	name[nl < max ? nl : max - 1] = 0;
	return nl;
}

/* At L->s[L->i] == '$'. Appends the expansion to out. */
static int lex_dollar(struct lex *L, struct buf *out)
{
	const char *s = L->s;
	char name[256];
	bool special;
	size_t nl;
	const char *val;

	L->i++;
	if (s[L->i] != '{') {
		nl = lex_name(L, name, sizeof(name), &special);
		if (nl == 0)
			return buf_add(out, "$", 1, L->e); /* a lone $ stays */
		if (nl >= sizeof(name))
			return err_set(L->e, ERR_INPUT, "variable name longer than %zu bytes",
				       sizeof(name) - 1);
		val = !special && L->lookup ? L->lookup(L->ctx, name) : NULL;
		return val ? buf_adds(out, val, L->e) : 0;
	}
	L->i++;
	if (!s[L->i])
		return err_set(L->e, ERR_INPUT, "syntax error: missing '}' in \"%.40s\"", L->s);
	if (s[L->i] == '{' || s[L->i] == '}' || s[L->i] == ':')
		return err_set(L->e, ERR_INPUT, "bad substitution at \"${%.20s\"", s + L->i);
	nl = lex_name(L, name, sizeof(name), &special);
	if (nl >= sizeof(name))
		return err_set(L->e, ERR_INPUT, "variable name longer than %zu bytes",
			       sizeof(name) - 1);
	val = !special && nl && L->lookup ? L->lookup(L->ctx, name) : NULL;
	char c = s[L->i];
	if (nl == 0 || !c || !strchr("}:?", c))
		return err_set(L->e, ERR_INPUT, "bad substitution at \"${%.20s\"", s + L->i - nl);
	L->i++;
	if (c == '}')
		return val ? buf_adds(out, val, L->e) : 0;
	char op = '?';
	bool colon = c == ':';
	if (colon) {
		op = s[L->i];
		if (op != '-' && op != '+' && op != '?')
			return err_set(
			    L->e, ERR_INPUT,
			    "bad substitution: unsupported modifier \"%.1s\" in ${%s:...}",
			    op ? &s[L->i] : "", name);
		L->i++;
	}
	if (++L->depth > DF_MAX_NESTING)
		return err_set(L->e, ERR_INPUT, "variable substitutions nested deeper than %d",
			       DF_MAX_NESTING);
	struct buf w = BUF_INIT;
	int r = lex_until(L, '}', &w, NULL);
	L->depth--;
	if (r < 0) {
		buf_free(&w);
		return -1;
	}
	bool set = val != NULL, nonempty = val && *val;
	switch (op) {
	case '-': /* ${V:-word} */
		r = buf_adds(out, nonempty ? val : w.data, L->e);
		break;
	case '+': /* ${V:+word} */
		r = buf_adds(out, nonempty ? w.data : "", L->e);
		break;
	default: /* ${V?msg} (unset is an error), ${V:?msg} (unset or empty) */
		if (colon ? !nonempty : !set)
			r = err_set(L->e, ERR_INPUT, "%s: %s", name,
				    w.len   ? w.data
				    : colon ? "is not allowed to be empty"
					    : "is not allowed to be unset");
		else
			r = buf_adds(out, val, L->e);
	}
	buf_free(&w);
	return r;
}

/* Docker's shell-word processing up to stop (0: the end of the text): quotes,
 * the escape character and $ expansion (when there is a lookup). The word goes
 * to out, the split words (when w) to w. A stop character not found is an
 * error. */
static int lex_until(struct lex *L, char stop, struct buf *out, struct words *w)
{
	const char *s = L->s;
	struct err *e = L->e;

	while (s[L->i]) {
		char c = s[L->i];
		if (stop && c == stop) {
			L->i++;
			return 0;
		}
		if (c == '\'') {
			const char *end = strchr(s + L->i + 1, '\'');
			if (!end)
				return err_set(
				    e, ERR_INPUT,
				    "unexpected end of statement while looking for matching '");
			size_t n = (size_t)(end - s) - L->i - 1;
			if (buf_add(out, s + L->i + 1, n, e) < 0 ||
			    words_raw(w, s + L->i + 1, n, e) < 0)
				return -1;
			L->i = (size_t)(end - s) + 1;
		} else if (c == '"') {
			struct buf q = BUF_INIT;
			L->i++;
			for (;;) {
				char d = s[L->i];
				int r = 0;
				if (!d) {
					buf_free(&q);
					return err_set(e, ERR_INPUT,
						       "unexpected end of statement while looking "
						       "for matching \"");
				}
				if (d == '"') {
					L->i++;
					break;
				}
				if (d == '$' && L->lookup) {
					r = lex_dollar(L, &q);
				} else if (d == L->esc) {
					char nx = s[L->i + 1];
					if (!nx) { /* an escape at the very end is dropped */
						L->i++;
						continue;
					}
					if (nx == '"' || nx == '$' || nx == L->esc) {
						r = buf_add(&q, &nx, 1, e);
						L->i += 2;
					} else {
						r = buf_add(&q, &d, 1, e);
						L->i++;
					}
				} else {
					r = buf_add(&q, &d, 1, e);
					L->i++;
				}
				if (r < 0) {
					buf_free(&q);
					return -1;
				}
			}
			int r =
			    buf_add(out, q.data, q.len, e) < 0 || words_raw(w, q.data, q.len, e) < 0
				? -1
				: 0;
			buf_free(&q);
			if (r < 0)
				return -1;
		} else if (c == '$' && L->lookup) {
			struct buf x = BUF_INIT;
			int r = lex_dollar(L, &x);
			if (r == 0)
				r = buf_add(out, x.data, x.len, e) < 0 ||
					    words_expansion(w, x.data, x.len, e) < 0
					? -1
					: 0;
			buf_free(&x);
			if (r < 0)
				return -1;
		} else if (c == L->esc) {
			L->i++;
			if (!s[L->i])
				break; /* an escape at the very end is dropped */
			if (buf_add(out, s + L->i, 1, e) < 0 || words_raw(w, s + L->i, 1, e) < 0)
				return -1;
			L->i++;
		} else {
			if (buf_add(out, &c, 1, e) < 0 || words_char(w, c, e) < 0)
				return -1;
			L->i++;
		}
	}
	if (stop)
		return err_set(e, ERR_INPUT, "syntax error: missing '%c' in \"%.40s\"", stop, s);
	return 0;
}

static int lex_run(const char *s, char esc, df_lookup_fn lookup, void *ctx, enum split_mode mode,
		   char ***words, size_t *n, struct err *e)
{
	struct lex L = {s, 0, esc, lookup, ctx, e, 0};
	struct buf out = BUF_INIT;
	struct words w = {mode, NULL, 0, BUF_INIT, false};
	int ret = -1;

	*words = NULL;
	*n = 0;
	if (lex_until(&L, 0, &out, mode == SPLIT_NONE ? NULL : &w) < 0)
		goto out;
	if (mode == SPLIT_NONE) {
		if (strv_push(&w.v, &w.n, buf_detach(&out, NULL), e) < 0)
			goto out;
	} else if (words_end_word(&w, e) < 0) {
		goto out;
	}
	*words = w.v;
	*n = w.n;
	w.v = NULL;
	w.n = 0;
	ret = 0;
out:
	buf_free(&out);
	buf_free(&w.cur);
	df_strv_free(w.v, w.n);
	return ret;
}

int df_lex(const char *s, char esc, df_lookup_fn lookup, void *ctx, bool split, char ***words,
	   size_t *n, struct err *e)
{
	return lex_run(s, esc, lookup, ctx, split ? SPLIT_SPACE : SPLIT_NONE, words, n, e);
}

int df_lex_words(const char *s, char esc, df_lookup_fn lookup, void *ctx, char ***words, size_t *n,
		 struct err *e)
{
	return lex_run(s, esc, lookup, ctx, SPLIT_WORDS, words, n, e);
}

char *df_expand_plain(const char *s, char esc, df_lookup_fn lookup, void *ctx, struct err *e)
{
	struct lex L = {s, 0, esc, lookup, ctx, e, 0};
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

int df_words_raw(const char *s, char esc, char ***words, size_t *n, struct err *e)
{
	struct buf w = BUF_INIT;
	bool in_word = false, keep_empty = false;
	char q = 0;

	*words = NULL;
	*n = 0;
	for (size_t i = 0;; i++) {
		char c = s[i];
		if (!c) {
			if (in_word && (keep_empty || w.len) &&
			    strv_push(words, n, buf_detach(&w, NULL), e) < 0)
				goto fail;
			break;
		}
		if (!in_word) {
			if (isspace((unsigned char)c))
				continue;
			in_word = true;
		}
		if (q) {
			if (c == q)
				q = 0;
			else if (c == esc && q != '\'') {
				if (!s[i + 1]) { /* an escape at the end is dropped */
					q = 0;
					continue;
				}
				if (buf_add(&w, &c, 1, e) < 0)
					goto fail;
				c = s[++i];
			}
		} else if (isspace((unsigned char)c)) {
			if ((keep_empty || w.len) &&
			    strv_push(words, n, buf_detach(&w, NULL), e) < 0)
				goto fail;
			in_word = keep_empty = false;
			continue;
		} else if (c == '\'' || c == '"') {
			q = c;
			keep_empty = true;
		} else if (c == esc) {
			if (!s[i + 1])
				continue;
			if (buf_add(&w, &c, 1, e) < 0)
				goto fail;
			c = s[++i];
		}
		if (buf_add(&w, &c, 1, e) < 0)
			goto fail;
	}
	buf_free(&w);
	return 0;
fail:
	buf_free(&w);
	df_strv_free(*words, *n);
	*words = NULL;
	*n = 0;
	return -1;
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
		if (strv_push(keys, &nk,
			      xstrndup_e(w[i], eq ? (size_t)(eq - w[i]) : strlen(w[i]), e), e) < 0)
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

static const char *any_value(void *ctx, const char *name)
{
	(void)ctx;
	(void)name;
	return "x";
}

/* The words an instruction expands when it runs, lexed now with every
 * variable set: what fails here (quotes, ${...} syntax, nesting) fails
 * whatever the values. */
static int lex_check(const struct dockerfile *df, const struct df_instr *in, struct err *e)
{
	static const char *const expanded[] = {"env",  "label",	 "arg",	   "workdir",
					       "user", "expose", "volume", "stopsignal",
					       "copy", "add",	 "from"};
	bool exp = false;
	char **w;
	size_t n;
	int r = 0;

	for (size_t i = 0; i < ARRAY_SIZE(expanded); i++)
		exp = exp || strcmp(in->cmd, expanded[i]) == 0;
	if (!exp)
		return 0;
	for (size_t i = 0; i < (in->json ? in->n_args : 1) && r == 0; i++) {
		r = df_lex(in->json ? in->args[i] : in->rest, df->escape, any_value, NULL, false,
			   &w, &n, e);
		if (r == 0)
			df_strv_free(w, n);
	}
	for (size_t h = 0; h < in->n_heredocs && r == 0; h++) {
		if (!in->heredocs[h].expand)
			continue;
		char *x = df_expand_plain(in->heredocs[h].content, df->escape, any_value, NULL, e);
		r = x ? 0 : -1;
		free(x);
	}
	if (r < 0 && e->code == ERR_INPUT)
		err_prefix(e, "%s:%d:%d: %s", df->path, in->line, in->col, in->cmd);
	return r;
}

int df_check_expansions(const struct dockerfile *df, struct err *e)
{
	for (size_t i = 0; i < df->n; i++)
		if (lex_check(df, &df->ins[i], e) < 0)
			return -1;
	return 0;
}
