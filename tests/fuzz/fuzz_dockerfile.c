/* Dockerfiles: the parser and its pre-pull checks, then the shell-word
 * expansion (every mode) of every instruction. */
#include "fuzz.h"
#include "builder/dockerfile.h"

static const char *lookup(void *ctx, const char *name)
{
	(void)ctx;
	if (!strcmp(name, "A"))
		return "alpha beta";
	if (!strcmp(name, "EMPTY"))
		return "";
	return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	struct dockerfile df = {0};
	struct err e = ERR_INIT;

	if (df_parse(&df, "Dockerfile", (const char *)d, n, &e) == 0) {
		err_clear(&e);
		(void)df_check_expansions(&df, &e);
		for (size_t i = 0; i < df.n; i++) {
			struct df_instr *in = &df.ins[i];
			char **w = NULL, **k = NULL, **v = NULL;
			size_t nw = 0, nk = 0;
			if (!in->rest)
				continue;
			err_clear(&e);
			if (df_lex(in->rest, df.escape, lookup, NULL, true, &w, &nw, &e) == 0)
				df_strv_free(w, nw);
			if (df_lex(in->rest, df.escape, lookup, NULL, false, &w, &nw, &e) == 0)
				df_strv_free(w, nw);
			if (df_lex_words(in->rest, df.escape, lookup, NULL, &w, &nw, &e) == 0)
				df_strv_free(w, nw);
			if (df_words_raw(in->rest, df.escape, &w, &nw, &e) == 0)
				df_strv_free(w, nw);
			free(df_expand_plain(in->rest, df.escape, lookup, NULL, &e));
			if (df_kv(in->rest, df.escape, lookup, NULL, true, true, &k, &v, &nk, &e) == 0) {
				df_strv_free(k, nk);
				df_strv_free(v, nk);
			}
			for (size_t h = 0; h < in->n_heredocs; h++)
				free(df_expand_plain(in->heredocs[h].content, df.escape, lookup, NULL, &e));
		}
		df_free(&df);
	}
	return 0;
}
