/* FROM lines of a Dockerfile: read (ARG-expanded), resolve, pin. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/base.h"
#include "builder/dockerfile.h"
#include "core/pool.h"
#include "core/util.h"
#include "oci/digest.h"
#include "oci/ref.h"

#define MAX_ARGS 256

struct args {
	char *k[MAX_ARGS], *v[MAX_ARGS];
	size_t n;
	const char *const *over; /* --build-arg K=V */
};

static const char *lookup(void *ctx, const char *name)
{
	struct args *a = ctx;

	for (size_t i = 0; i < a->n; i++)
		if (strcmp(a->k[i], name) == 0)
			return a->v[i];
	return NULL;
}

static const char *override(const struct args *a, const char *k)
{
	size_t kl = strlen(k);

	for (const char *const *p = a->over; p && *p; p++)
		if (strncmp(*p, k, kl) == 0 && (*p)[kl] == '=')
			return *p + kl + 1;
	return NULL;
}

static void args_free(struct args *a)
{
	for (size_t i = 0; i < a->n; i++) {
		free(a->k[i]);
		free(a->v[i]);
	}
}

/* Global ARG: declared before the first FROM; --build-arg wins over the default. */
static int add_args(struct args *a, const struct dockerfile *df, const struct df_instr *in, struct err *e)
{
	char **k = NULL, **v = NULL;
	size_t n = 0;

	if (df_kv(in->rest, df->escape, lookup, a, false, true, &k, &v, &n, e) < 0)
		return err_prefix(e, "%s:%d", df->path, in->line);
	for (size_t i = 0; i < n; i++) {
		const char *o = override(a, k[i]);
		const char *val = o ? o : v[i];

		if (a->n >= MAX_ARGS || !val)
			continue;
		a->k[a->n] = strdup(k[i]);
		a->v[a->n] = strdup(val);
		if (!a->k[a->n] || !a->v[a->n]) {
			free(a->k[a->n]);
			free(a->v[a->n]);
			df_strv_free(k, n);
			df_strv_free(v, n);
			return err_oom(e);
		}
		a->n++;
	}
	df_strv_free(k, n);
	df_strv_free(v, n);
	return 0;
}

void base_df_free(struct base_df *df)
{
	for (size_t i = 0; i < df->n; i++) {
		struct base_from *f = &df->from[i];

		free(f->written);
		free(f->image);
		free(f->stage);
		free(f->pinned);
		free(f->current);
	}
	free(df->from);
	free(df->path);
	memset(df, 0, sizeof(*df));
}

static bool is_stage(const struct base_df *bd, size_t upto, const char *name)
{
	for (size_t i = 0; i < upto; i++)
		if (bd->from[i].stage && strcasecmp(bd->from[i].stage, name) == 0)
			return true;
	return false;
}

static int add_from(struct base_df *bd, const struct dockerfile *df, const struct df_instr *in,
		    struct args *a, struct err *e)
{
	char **w = NULL, **raw = NULL;
	size_t n = 0, nraw = 0;
	struct base_from *f, *nf;
	struct oci_ref ref;
	int rc = -1;

	if (df_lex(in->rest, df->escape, lookup, a, true, &w, &n, e) < 0 ||
	    df_lex(in->rest, df->escape, NULL, NULL, true, &raw, &nraw, e) < 0) {
		err_prefix(e, "%s:%d", df->path, in->line);
		goto out;
	}
	if (n < 1 || nraw < 1 || (n != 1 && n != 3) || (n == 3 && strcasecmp(w[1], "as") != 0)) {
		err_set(e, ERR_INPUT, "%s:%d: FROM takes IMAGE [AS NAME]", df->path, in->line);
		goto out;
	}
	nf = realloc(bd->from, (bd->n + 1) * sizeof(*nf));
	if (!nf) {
		err_oom(e);
		goto out;
	}
	bd->from = nf;
	f = &bd->from[bd->n++];
	memset(f, 0, sizeof(*f));
	f->line = in->line;
	/* The word as written, quotes and all, for the rewrite: the first
	 * whitespace-separated token of the unexpanded text. */
	f->written = xstrndup_e(in->rest, strcspn(in->rest, " \t\r\n"), e);
	f->image = xstrdup_e(w[0], e);
	f->stage = n == 3 ? xstrdup_e(w[2], e) : NULL;
	if (!f->written || !f->image || (n == 3 && !f->stage))
		goto out;
	if (strcasecmp(f->image, "scratch") == 0 || is_stage(bd, bd->n - 1, f->image) ||
	    oci_ref_parse(&ref, f->image, NULL) < 0) {
		f->skip = true;
	} else {
		if (ref.digest && !(f->pinned = xstrdup_e(ref.digest, e))) {
			oci_ref_free(&ref);
			goto out;
		}
		/* A digest without a tag has nothing to follow. */
		if (!ref.tag)
			f->skip = true;
		oci_ref_free(&ref);
	}
	rc = 0;
out:
	df_strv_free(w, n);
	df_strv_free(raw, nraw);
	return rc;
}

int base_df_load(struct base_df *bd, const char *path, const char *const *build_args, struct err *e)
{
	struct dockerfile df;
	struct args a;
	bool seen_from = false;
	int rc = -1;

	memset(bd, 0, sizeof(*bd));
	memset(&a, 0, sizeof(a));
	a.over = build_args;
	if (df_parse_file(&df, path, e) < 0) {
		df_free(&df); /* a failed parse leaves what it had read */
		return -1;
	}
	if (!(bd->path = xstrdup_e(path, e)))
		goto out;
	for (size_t i = 0; i < df.n; i++) {
		const struct df_instr *in = &df.ins[i];

		if (strcmp(in->cmd, "arg") == 0 && !seen_from) {
			if (add_args(&a, &df, in, e) < 0)
				goto out;
		} else if (strcmp(in->cmd, "from") == 0) {
			seen_from = true;
			if (add_from(bd, &df, in, &a, e) < 0)
				goto out;
		}
	}
	if (bd->n == 0) {
		err_set(e, ERR_INPUT, "%s: no FROM instruction", path);
		goto out;
	}
	rc = 0;
out:
	if (rc < 0)
		base_df_free(bd);
	args_free(&a);
	df_free(&df);
	return rc;
}

struct resolve_ctx {
	struct base_df *df;
	const struct base_opts *o;
};

static void resolve_one(void *ctx, size_t i)
{
	struct resolve_ctx *c = ctx;
	struct base_from *f = &c->df->from[i];
	char *top = NULL, *plat = NULL;

	if (f->skip)
		return;
	if (base_resolve(f->image, c->o, &top, f->pinned ? &plat : NULL, &f->err) < 0)
		return;
	/* A pin of this platform's manifest (not the index) counts as current. */
	if (f->pinned && plat && strcmp(f->pinned, plat) == 0) {
		f->current = plat;
		plat = NULL;
		free(top);
	} else {
		f->current = top;
	}
	free(plat);
}

int base_df_resolve(struct base_df *df, const struct base_opts *o, struct err *e)
{
	struct resolve_ctx c = { df, o };

	return base_pool_run(df->n, 8, resolve_one, &c, e);
}

static size_t line_offset(const char *text, size_t len, int line)
{
	size_t off = 0;

	for (int l = 1; l < line && off < len; off++)
		if (text[off] == '\n')
			l++;
	return off;
}

static bool is_sp(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Offset of the image token of the FROM starting at line: the first
 * whitespace-bounded occurrence of written after the FROM keyword. */
static long find_token(const char *text, size_t len, int line, const char *written)
{
	size_t off = line_offset(text, len, line), wl = strlen(written);

	while (off < len && is_sp(text[off]))
		off++;
	off += 4; /* FROM */
	for (; off + wl <= len; off++) {
		if (!is_sp(text[off - 1]) || memcmp(text + off, written, wl) != 0)
			continue;
		if (off + wl == len || is_sp(text[off + wl]))
			return (long)off;
	}
	return -1;
}

int base_df_pin_text(const struct base_df *df, const char *text, size_t len, bool update,
		     struct buf *out, int *changed, struct err *e)
{
	size_t pos = 0;

	*changed = 0;
	for (size_t i = 0; i < df->n; i++) {
		const struct base_from *f = &df->from[i];
		const char *at;
		long tok;
		size_t keep;

		if (f->skip || !f->current || (f->pinned && !update) ||
		    (f->pinned && strcmp(f->pinned, f->current) == 0))
			continue;
		tok = find_token(text, len, f->line, f->written);
		if (tok < 0 || (size_t)tok < pos)
			return err_set(e, ERR_INPUT, "%s:%d: cannot find \"%s\" to rewrite", df->path, f->line,
				       f->written);
		at = memchr(text + tok, '@', strlen(f->written));
		if (f->pinned && (!at || !oci_digest_valid(f->pinned) ||
				  strncmp(at + 1, f->pinned, strlen(f->pinned)) != 0))
			return err_set(e, ERR_INPUT, "%s:%d: the digest of \"%s\" comes from a variable; update the ARG instead",
				       df->path, f->line, f->written);
		/* Keep everything up to the '@' (or the end of the token). */
		keep = f->pinned ? (size_t)(at - text) : (size_t)tok + strlen(f->written);
		if (buf_add(out, text + pos, keep - pos, e) < 0 || buf_addf(out, e, "@%s", f->current) < 0)
			return -1;
		pos = (size_t)tok + strlen(f->written);
		(*changed)++;
	}
	return buf_add(out, text + pos, len - pos, e);
}
