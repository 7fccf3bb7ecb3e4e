/* Dockerfile parser (see dockerfile.h; the word lexer and expansion are dockerfile_lex.c). */
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

static const char *const known[] = {"from",	  "run",	 "cmd",	    "label", "maintainer",
				    "expose",	  "env",	 "add",	    "copy",  "entrypoint",
				    "volume",	  "user",	 "workdir", "arg",   "onbuild",
				    "stopsignal", "healthcheck", "shell"};

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

/* --------------------------------------------------------------- parser */

struct lines {
	char **v; /* without line terminators */
	size_t n;
};

static int split_lines(const char *path, const char *text, size_t len, struct lines *L,
		       struct err *e)
{
	size_t i = 0;

	L->v = NULL;
	L->n = 0;
	if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)
		i = 3; /* a UTF-8 byte order mark, as Windows editors write it */
	while (i < len) {
		size_t j = i;
		while (j < len && text[j] != '\n')
			j++;
		size_t end = j;
		if (end > i && text[end - 1] == '\r')
			end--;
		const char *nul = memchr(text + i, 0, end - i);
		if (nul)
			return err_set(e, ERR_INPUT, "%s:%zu:%zu: NUL byte in Dockerfile", path,
				       L->n + 1, (size_t)(nul - text - i) + 1);
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

/* Does the line end with the escape character (then blanks)? An escaped
 * escape character ("\\" at the end) does not continue the line. */
static bool continues(const char *s, char esc, size_t *keep)
{
	size_t l = strlen(s);

	while (l > 0 && (s[l - 1] == ' ' || s[l - 1] == '\t'))
		l--;
	if (l > 0 && s[l - 1] == esc && (l == 1 || s[l - 2] != esc)) {
		*keep = l - 1;
		return true;
	}
	*keep = strlen(s);
	return false;
}

static bool takes_json(const char *cmd)
{
	static const char *const j[] = {"run",	"cmd", "entrypoint", "shell",
					"copy", "add", "volume"};
	for (size_t i = 0; i < ARRAY_SIZE(j); i++)
		if (strcmp(cmd, j[i]) == 0)
			return true;
	return false;
}

/* Does JSON text hold a \u0000 escape inside a string? */
static bool json_has_nul(const char *s)
{
	bool str = false;

	for (; *s; s++) {
		if (!str) {
			str = *s == '"';
		} else if (*s == '"') {
			str = false;
		} else if (*s == '\\') {
			if (s[1] == 'u' && strncmp(s + 2, "0000", 4) == 0)
				return true;
			if (s[1])
				s++;
		}
	}
	return false;
}

static const char *upper(const char *cmd, char *b, size_t n)
{
	size_t i = 0;

	for (; cmd[i] && i + 1 < n; i++)
		b[i] = (char)toupper((unsigned char)cmd[i]);
	b[i] = 0;
	return b;
}

/* A raw word (quotes and escapes kept) of a RUN/COPY/ADD line: is it a
 * heredoc marker [N]<<[-]WORD? The delimiter is WORD with quotes removed; any
 * quoting in it means the body is not expanded (Docker's rule). */
static int heredoc_word(struct df_instr *in, const char *word, char esc, struct err *e)
{
	const char *p = word;
	unsigned fd = 0;
	bool chomp, quoted = false;
	char q = 0;
	struct buf name = BUF_INIT;

	while (isdigit((unsigned char)*p)) {
		if (fd < 100000)
			fd = fd * 10 + (unsigned)(*p - '0');
		p++;
	}
	if (p[0] != '<' || p[1] != '<')
		return 0;
	p += 2;
	chomp = *p == '-';
	if (chomp)
		p++;
	while (isspace((unsigned char)*p))
		p++;
	if (!*p || strchr(p, '<'))
		return 0;
	for (; *p; p++) {
		char c = *p;
		if (q) {
			if (c == q) {
				q = 0;
				continue;
			}
			if (q == '"' && c == esc && p[1] &&
			    (p[1] == '"' || p[1] == '$' || p[1] == esc))
				c = *++p;
		} else if (c == '\'' || c == '"') {
			q = c;
			quoted = true;
			continue;
		} else if (c == esc) {
			if (!p[1])
				break;
			c = *++p;
		} else if (isspace((unsigned char)c)) {
			buf_free(&name);
			return 0; /* more than one word: not a heredoc */
		}
		if (buf_add(&name, &c, 1, e) < 0) {
			buf_free(&name);
			return -1;
		}
	}
	if (q) {
		buf_free(&name);
		return err_set(e, ERR_INPUT, "unterminated quote in heredoc delimiter \"%.40s\"",
			       word);
	}
	if (name.len == 0) {
		buf_free(&name);
		return 0;
	}
	struct df_heredoc *nh = realloc(in->heredocs, (in->n_heredocs + 1) * sizeof(*nh));
	if (!nh) {
		buf_free(&name);
		return err_oom(e);
	}
	in->heredocs = nh;
	nh += in->n_heredocs++;
	memset(nh, 0, sizeof(*nh));
	nh->name = buf_detach(&name, NULL);
	nh->expand = !quoted;
	nh->chomp = chomp;
	nh->fd = (int)fd;
	return 0;
}

/* Heredoc markers in a RUN/COPY/ADD line, word by word as Docker finds them
 * ("<<  EOF" with blanks after the << counts too). */
static int find_heredocs(struct df_instr *in, char esc, struct err *e)
{
	char **w;
	size_t n;
	int r = 0;

	if (df_words_raw(in->rest, esc, &w, &n, e) < 0)
		return -1;
	for (size_t i = 0; i < n && r == 0; i++) {
		size_t d = strspn(w[i], "0123456789");
		bool bare = strncmp(w[i] + d, "<<", 2) == 0 &&
			    (w[i][d + 2] == 0 || (w[i][d + 2] == '-' && w[i][d + 3] == 0));
		if (bare && i + 1 < n) {
			struct buf j = BUF_INIT;
			r = buf_adds(&j, w[i], e) < 0 || buf_adds(&j, w[i + 1], e) < 0
				? -1
				: heredoc_word(in, j.data, esc, e);
			buf_free(&j);
			i++;
		} else {
			r = heredoc_word(in, w[i], esc, e);
		}
	}
	df_strv_free(w, n);
	return r;
}

/* --name[=value] words before the arguments (quotes removed, as Docker
 * does); a "--" word ends them. *rest is where the arguments start. */
static int parse_flags(struct df_instr *in, const char *p, const char **rest, struct err *e)
{
	struct buf w = BUF_INIT;
	int r = 0;

	for (;;) {
		while (isspace((unsigned char)*p))
			p++;
		if (p[0] != '-' || p[1] != '-')
			break;
		char q = 0;
		buf_reset(&w);
		while (*p && (q || !isspace((unsigned char)*p))) {
			char c = *p++;
			if (q && c == q) {
				q = 0;
				continue;
			}
			if (!q && (c == '\'' || c == '"')) {
				q = c;
				continue;
			}
			if (c == '\\') {
				if (!*p)
					break;
				c = *p++;
			}
			if (buf_add(&w, &c, 1, e) < 0) {
				r = -1;
				goto out;
			}
		}
		if (strcmp(w.data, "--") == 0) {
			while (isspace((unsigned char)*p))
				p++;
			break;
		}
		if (strv_push(&in->flags, &in->n_flags, xstrdup_e(w.data + 2, e), e) < 0) {
			r = -1;
			goto out;
		}
	}
	*rest = p;
out:
	buf_free(&w);
	return r;
}

static int parse_instr(struct dockerfile *df, struct df_instr *in, const char *logical, int line,
		       int col, struct err *e)
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
		return err_set(e, ERR_INPUT, "%s:%d:%d: unknown instruction \"%.*s\"", df->path,
			       line, col, (int)(wl > 40 ? 40 : wl), p);
	p += wl;
	if (strcmp(in->cmd, "onbuild") != 0 && parse_flags(in, p, &p, e) < 0)
		return -1;
	while (isspace((unsigned char)*p))
		p++;
	in->rest_col = col + (int)(p - logical);
	size_t rl = strlen(p);
	while (rl > 0 && isspace((unsigned char)p[rl - 1]))
		rl--;
	in->rest = xstrndup_e(p, rl, e);
	if (!in->rest)
		return -1;
	if (rl == 0 && strcmp(in->cmd, "healthcheck") != 0)
		return err_set(e, ERR_INPUT, "%s:%d:%d: %s requires at least one argument",
			       df->path, line, col, in->cmd);
	if (takes_json(in->cmd) && in->rest[0] == '[') {
		const char *end = NULL;
		cJSON *j = cJSON_ParseWithOpts(in->rest, &end, 1);
		cJSON *it;

		if (cJSON_IsArray(j)) {
			bool all_str = true;
			cJSON_ArrayForEach(it, j) all_str = all_str && cJSON_IsString(it);
			const char *bad =
			    !all_str ? "when using JSON array syntax, arrays must be comprised of "
				       "strings only"
			    : json_has_nul(in->rest) ? "a JSON argument holds a NUL character "
						       "(\\u0000), which no command "
						       "can receive"
						     : NULL;
			if (bad) {
				cJSON_Delete(j);
				return err_set(e, ERR_INPUT, "%s:%d:%d: %s", df->path, line,
					       in->rest_col, bad);
			}
			in->json = true;
			cJSON_ArrayForEach(it, j)
			{
				if (strv_push(&in->args, &in->n_args, xstrdup_e(it->valuestring, e),
					      e) < 0) {
					cJSON_Delete(j);
					return -1;
				}
			}
		}
		cJSON_Delete(j);
		if (!in->json && strcmp(in->cmd, "shell") == 0)
			return err_set(e, ERR_INPUT,
				       "%s:%d:%d: SHELL requires a JSON array of strings", df->path,
				       line, in->rest_col);
	} else if (strcmp(in->cmd, "shell") == 0) {
		return err_set(e, ERR_INPUT,
			       "%s:%d:%d: SHELL requires the JSON form [\"executable\", \"param\"]",
			       df->path, line, in->rest_col);
	}
	if (!in->json && (strcmp(in->cmd, "run") == 0 || strcmp(in->cmd, "copy") == 0 ||
			  strcmp(in->cmd, "add") == 0)) {
		if (find_heredocs(in, df->escape, e) < 0) {
			if (e->code == ERR_INPUT)
				err_prefix(e, "%s:%d:%d", df->path, line, in->rest_col);
			return -1;
		}
	}
	return 0;
}

/* What Docker's parser itself rejects, checked here so that a bad Dockerfile
 * fails before any base image is pulled: ENV and LABEL need KEY=VALUE pairs
 * or "KEY VALUE", ARG names and keys are not blank, an ONBUILD trigger is
 * one instruction other than ONBUILD, FROM and MAINTAINER. */
static int validate_instr(const struct dockerfile *df, const struct df_instr *in, struct err *e)
{
	const char *c = in->cmd;
	char up[16];
	char **w = NULL;
	size_t n = 0;
	int r = 0;

	if (strcmp(c, "env") == 0 || strcmp(c, "label") == 0 || strcmp(c, "arg") == 0) {
		bool arg = c[0] == 'a';
		if (df_words_raw(in->rest, df->escape, &w, &n, e) < 0)
			return -1;
		if (!arg && n > 0 && !strchr(w[0], '=')) {
			if (!in->rest[strcspn(in->rest, " \t")])
				r = err_set(e, ERR_INPUT,
					    "%s:%d:%d: %s %.60s has no value (%s KEY=VALUE or %s "
					    "KEY VALUE)",
					    df->path, in->line, in->col, upper(c, up, sizeof(up)),
					    in->rest, up, up);
		} else {
			for (size_t i = 0; i < n && r == 0; i++) {
				const char *eq = strchr(w[i], '=');
				if (!arg && !eq)
					r = err_set(e, ERR_INPUT,
						    "%s:%d:%d: %s: no '=' in \"%.60s\" (expected "
						    "KEY=VALUE)",
						    df->path, in->line, in->col,
						    upper(c, up, sizeof(up)), w[i]);
				else if (eq == w[i])
					r = err_set(
					    e, ERR_INPUT,
					    "%s:%d:%d: %s: a name can not be blank (\"%.60s\")",
					    df->path, in->line, in->col, upper(c, up, sizeof(up)),
					    w[i]);
			}
		}
		df_strv_free(w, n);
	} else if (strcmp(c, "onbuild") == 0) {
		static const char *const no[] = {"onbuild", "from", "maintainer"};
		size_t tl = strcspn(in->rest, " \t");
		struct dockerfile sub;
		for (size_t i = 0; i < ARRAY_SIZE(no); i++)
			if (tl == strlen(no[i]) && strncasecmp(in->rest, no[i], tl) == 0)
				return err_set(e, ERR_INPUT,
					       "%s:%d:%d: %s isn't allowed as an ONBUILD trigger",
					       df->path, in->line, in->rest_col,
					       upper(no[i], up, sizeof(up)));
		if (df_parse(&sub, "ONBUILD trigger", in->rest, strlen(in->rest), e) < 0) {
			if (e->code == ERR_INPUT)
				err_prefix(e, "%s:%d:%d", df->path, in->line, in->rest_col);
			return -1;
		}
		if (sub.n != 1)
			r = err_set(e, ERR_INPUT, "%s:%d:%d: an ONBUILD trigger is one instruction",
				    df->path, in->line, in->rest_col);
		df_free(&sub);
	}
	return r;
}

/* The parser directives at the top (# escape=, # syntax=, # check=); *i is
 * the first line after them. */
static int parse_directives(struct dockerfile *df, const struct lines *L, size_t *i, struct err *e)
{
	bool seen_escape = false, seen_syntax = false;

	for (; *i < L->n; (*i)++) {
		const char *s = L->v[*i];
		while (isspace((unsigned char)*s))
			s++;
		if (*s != '#')
			break;
		s++;
		while (isspace((unsigned char)*s))
			s++;
		size_t kl = 0;
		if (isalpha((unsigned char)s[0]))
			while (isalnum((unsigned char)s[kl]))
				kl++;
		const char *v = s + kl;
		while (isspace((unsigned char)*v))
			v++;
		if (kl == 0 || *v != '=')
			break;
		v++;
		while (isspace((unsigned char)*v))
			v++;
		size_t vl = strlen(v);
		while (vl > 0 && isspace((unsigned char)v[vl - 1]))
			vl--;
		if (vl == 0)
			break;
		if (kl == 6 && strncasecmp(s, "escape", 6) == 0) {
			if (seen_escape)
				return err_set(
				    e, ERR_INPUT,
				    "%s:%zu:1: only one escape parser directive can be used",
				    df->path, *i + 1);
			seen_escape = true;
			if (vl != 1 || (v[0] != '\\' && v[0] != '`'))
				return err_set(
				    e, ERR_INPUT,
				    "%s:%zu:1: invalid escape token '%.*s' does not validate",
				    df->path, *i + 1, (int)(vl > 20 ? 20 : vl), v);
			df->escape = v[0];
		} else if (kl == 6 && strncasecmp(s, "syntax", 6) == 0) {
			if (seen_syntax)
				return err_set(
				    e, ERR_INPUT,
				    "%s:%zu:1: only one syntax parser directive can be used",
				    df->path, *i + 1);
			seen_syntax = true;
			df->syntax = xstrndup_e(v, vl, e);
			if (!df->syntax)
				return -1;
		} else if (!(kl == 5 && strncasecmp(s, "check", 5) == 0)) {
			break; /* not a directive bosun knows: a comment, and directives end */
		}
	}
	return 0;
}

int df_parse(struct dockerfile *df, const char *path, const char *text, size_t len, struct err *e)
{
	struct lines L = {NULL, 0};
	struct buf logical = BUF_INIT;
	size_t i = 0;
	int ret = -1;

	memset(df, 0, sizeof(*df));
	df->escape = '\\';
	df->path = xstrdup_e(path, e);
	if (!df->path)
		return -1;
	if (len > DF_MAX_SIZE) {
		err_set(e, ERR_INPUT, "%s: bigger than %u bytes", path, DF_MAX_SIZE);
		goto out;
	}
	if (split_lines(path, text, len, &L, e) < 0 || parse_directives(df, &L, &i, e) < 0)
		goto out;
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
				err_set(e, ERR_INPUT, "%s:%d:%d: unterminated heredoc <<%s", path,
					line, col, in->heredocs[h].name);
				goto out;
			}
		}
		if (validate_instr(df, in, e) < 0)
			goto out;
	}
	if (df->n == 0) {
		err_set(e, ERR_INPUT, "%s: file with no instructions", path);
		goto out;
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
