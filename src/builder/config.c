/* Instructions that change only the image config; each is one empty-layer
 * step in the cache chain. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>

#include "builder/internal.h"

int meta_step(struct build *b, struct stage *s, const struct df_instr *in, const char *created_by)
{
	char *txt = cJSON_PrintUnformatted(cfg_obj(s));

	chain_step(s, in->original, txt);
	free(txt);
	b->step++;
	if (b->cache_dir && cache_get(b, s, created_by)) {
		b->hits++;
		log_step(b, in, "cache hit");
		return 0;
	}
	add_history(b, s, created_by, true);
	cache_put(b, s, NULL);
	log_step(b, in, b->cache_dir ? "cache miss" : NULL);
	return 0;
}

cJSON *cmd_json(struct build *b, struct stage *s, const struct df_instr *in)
{
	if (in->json)
		return strv_json(in->args, in->n_args);
	size_t n;
	char **sh = shell_of(s, &n);
	cJSON *a = strv_json(sh, n);
	cJSON_AddItemToArray(a, cJSON_CreateString(in->rest));
	strv_free0(sh);
	(void)b;
	return a;
}

int parse_duration(const char *s, double *ns)
{
	char *end;
	double v = strtod(s, &end);

	if (end == s)
		return -1;
	if (strcmp(end, "s") == 0 || !*end)
		*ns = v * 1e9;
	else if (strcmp(end, "ms") == 0)
		*ns = v * 1e6;
	else if (strcmp(end, "m") == 0)
		*ns = v * 60e9;
	else if (strcmp(end, "h") == 0)
		*ns = v * 3600e9;
	else
		return -1;
	return 0;
}
