/* Stage planning: stages from the FROM lines, the target and the stages it
 * depends on, the number of steps. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "builder/internal.h"

struct stage *find_stage(struct build *b, const char *name, size_t before)
{
	char *end;
	long idx = strtol(name, &end, 10);

	if (*name && !*end && idx >= 0 && (size_t)idx < before)
		return &b->st[idx];
	for (size_t i = 0; i < before; i++)
		if (b->st[i].name && strcasecmp(b->st[i].name, name) == 0)
			return &b->st[i];
	return NULL;
}

int plan_stages(struct build *b, struct err *e)
{
	size_t i = 0;

	/* Meta ARGs before the first FROM: usable in FROM lines. */
	for (; i < b->df.n && strcmp(b->df.ins[i].cmd, "from") != 0; i++) {
		const struct df_instr *in = &b->df.ins[i];
		char **k, **v;
		size_t n;
		if (strcmp(in->cmd, "arg") != 0)
			return err_set(e, ERR_INPUT, "%s:%d:%d: %s before the first FROM (only ARG may come first)",
				       b->df.path, in->line, in->col, in->cmd);
		if (df_kv(in->rest, b->df.escape, lookup_global, b, false, true, &k, &v, &n, e) < 0)
			return at(b, in, e);
		for (size_t j = 0; j < n; j++)
			kv_set(&b->global, k[j], arg_value(b, k[j], v[j], true), e);
		df_strv_free(k, n);
		df_strv_free(v, n);
	}
	if (i == b->df.n)
		return err_set(e, ERR_INPUT, "%s: no FROM instruction", b->df.path);
	for (; i < b->df.n; i++) {
		const struct df_instr *in = &b->df.ins[i];
		if (strcmp(in->cmd, "from") == 0) {
			struct stage *ns = realloc(b->st, (b->n_st + 1) * sizeof(*ns));
			if (!ns)
				return err_oom(e);
			b->st = ns;
			memset(&ns[b->n_st], 0, sizeof(*ns));
			ns[b->n_st].index = (int)b->n_st;
			ns[b->n_st].first = i;
			char **w;
			size_t n;
			if (df_lex(in->rest, b->df.escape, lookup_global, b, true, &w, &n, e) < 0)
				return at(b, in, e);
			if (n == 3 && strcasecmp(w[1], "as") == 0) {
				ns[b->n_st].name = strdup(w[2]);
				for (char *p = ns[b->n_st].name; p && *p; p++)
					*p = (char)tolower((unsigned char)*p);
			} else if (n != 1) {
				df_strv_free(w, n);
				return err_set(e, ERR_INPUT, "%s:%d:%d: expected \"FROM IMAGE [AS NAME]\"", b->df.path,
					       in->line, in->col);
			}
			df_strv_free(w, n);
			b->n_st++;
		}
		b->st[b->n_st - 1].last = i;
	}
	/* The target and the stages it depends on. */
	struct stage *t = &b->st[b->n_st - 1];
	if (b->o->target) {
		t = find_stage(b, b->o->target, b->n_st);
		if (!t)
			return err_set(e, ERR_INPUT, "%s: target stage \"%s\" not found", b->df.path, b->o->target);
	}
	t->needed = true;
	for (size_t si = (size_t)t->index + 1; si-- > 0;) {
		struct stage *s = &b->st[si];
		if (!s->needed)
			continue;
		for (size_t j = s->first; j <= s->last; j++) {
			const struct df_instr *in = &b->df.ins[j];
			const char *dep = NULL;
			char **w = NULL;
			size_t n = 0;
			if (j == s->first) {
				if (df_lex(in->rest, b->df.escape, lookup_global, b, true, &w, &n, e) < 0)
					return at(b, in, e);
				dep = n ? w[0] : NULL;
			} else if (strcmp(in->cmd, "copy") == 0 || strcmp(in->cmd, "add") == 0) {
				dep = df_flag(in, "from");
			} else if (strcmp(in->cmd, "run") == 0 || strcmp(in->cmd, "from") == 0) {
				dep = NULL;
			}
			if (dep && *dep) {
				struct stage *d = find_stage(b, dep, si);
				if (d)
					d->needed = true;
				else if (j != s->first && (strchr(dep, '$') == NULL) && !strchr(dep, '/') &&
					 !strchr(dep, ':') && !strchr(dep, '.')) {
					/* Not a stage, and does not look like an image either. */
					bool later = find_stage(b, dep, b->n_st) != NULL;
					if (later) {
						df_strv_free(w, n);
						return err_set(e, ERR_INPUT,
							       "%s:%d:%d: stage \"%s\" is used before it is defined",
							       b->df.path, in->line, in->col, dep);
					}
				}
			}
			df_strv_free(w, n);
		}
	}
	for (size_t si = 0; si <= (size_t)t->index; si++)
		if (b->st[si].needed)
			b->n_steps += (int)(b->st[si].last - b->st[si].first);
	return t->index;
}
