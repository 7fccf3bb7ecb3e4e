/* Variables and scopes: ARG values (--build-arg, meta ARGs, defaults), the
 * lookups the Dockerfile lexer expands with, and the stage's config JSON. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>

#include "builder/internal.h"
#include "core/util.h"

void kv_free(struct kv *kv)
{
	df_strv_free(kv->k, kv->n);
	df_strv_free(kv->v, kv->n);
	memset(kv, 0, sizeof(*kv));
}

static const char *kv_get(const struct kv *kv, const char *k, bool *found)
{
	for (size_t i = kv->n; i-- > 0;) {
		if (strcmp(kv->k[i], k) == 0) {
			if (found)
				*found = true;
			return kv->v[i];
		}
	}
	if (found)
		*found = false;
	return NULL;
}

int kv_set(struct kv *kv, const char *k, const char *v, struct err *e)
{
	for (size_t i = 0; i < kv->n; i++) {
		if (strcmp(kv->k[i], k) == 0) {
			char *nv = v ? xstrdup_e(v, e) : NULL;
			if (v && !nv)
				return -1;
			free(kv->v[i]);
			kv->v[i] = nv;
			return 0;
		}
	}
	char **nk = realloc(kv->k, (kv->n + 2) * sizeof(char *));
	if (!nk)
		return err_oom(e);
	kv->k = nk;
	char **nv = realloc(kv->v, (kv->n + 2) * sizeof(char *));
	if (!nv)
		return err_oom(e);
	kv->v = nv;
	kv->k[kv->n] = xstrdup_e(k, e);
	kv->v[kv->n] = v ? xstrdup_e(v, e) : NULL;
	kv->n++;
	kv->k[kv->n] = kv->v[kv->n] = NULL;
	return kv->k[kv->n - 1] ? 0 : -1;
}

cJSON *cfg_obj(struct stage *s)
{
	cJSON *c = cJSON_GetObjectItemCaseSensitive(s->config, "config");

	if (!cJSON_IsObject(c)) {
		cJSON_DeleteItemFromObjectCaseSensitive(s->config, "config");
		c = cJSON_AddObjectToObject(s->config, "config");
	}
	return c;
}

static const char *env_get(struct stage *s, const char *k)
{
	cJSON *env = cJSON_GetObjectItemCaseSensitive(cfg_obj(s), "Env"), *it;
	size_t kl = strlen(k);

	cJSON_ArrayForEach(it, env)
	{
		if (cJSON_IsString(it) && strncmp(it->valuestring, k, kl) == 0 && it->valuestring[kl] == '=')
			return it->valuestring + kl + 1;
	}
	return NULL;
}

const char *lookup_stage(void *ctx, const char *name)
{
	struct build *b = ctx;
	struct stage *s = b->cur;
	const char *v = env_get(s, name);
	bool found;

	if (v)
		return v;
	v = kv_get(&s->args, name, &found);
	return found ? v : NULL;
}

const char *lookup_global(void *ctx, const char *name)
{
	struct build *b = ctx;

	return kv_get(&b->global, name, NULL);
}

/* Value an ARG gets: --build-arg, else (no default) the global value, else the default. */
const char *arg_value(struct build *b, const char *k, const char *def, bool global)
{
	bool found;
	const char *v = kv_get(&b->bargs, k, &found);

	if (found) {
		for (size_t i = 0; i < b->bargs.n; i++)
			if (strcmp(b->bargs.k[i], k) == 0)
				b->bargs_used[i] = true;
		return v;
	}
	if (!def && !global) {
		v = kv_get(&b->global, k, &found);
		if (found)
			return v;
	}
	return def;
}

void set_str(cJSON *o, const char *k, const char *v)
{
	cJSON_DeleteItemFromObjectCaseSensitive(o, k);
	if (v)
		cJSON_AddStringToObject(o, k, v);
}

cJSON *strv_json(char **v, size_t n)
{
	cJSON *a = cJSON_CreateArray();

	for (size_t i = 0; a && i < n; i++)
		cJSON_AddItemToArray(a, cJSON_CreateString(v[i]));
	return a;
}

void env_set(struct stage *s, const char *k, const char *v)
{
	cJSON *c = cfg_obj(s);
	cJSON *env = cJSON_GetObjectItemCaseSensitive(c, "Env"), *it;
	size_t kl = strlen(k);
	size_t l = kl + strlen(v) + 2;
	char *kvs = malloc(l);
	int idx = 0;

	if (!kvs)
		return;
	snprintf(kvs, l, "%s=%s", k, v);
	if (!cJSON_IsArray(env)) {
		cJSON_DeleteItemFromObjectCaseSensitive(c, "Env");
		env = cJSON_AddArrayToObject(c, "Env");
	}
	cJSON_ArrayForEach(it, env)
	{
		if (cJSON_IsString(it) && strncmp(it->valuestring, k, kl) == 0 && it->valuestring[kl] == '=') {
			cJSON_ReplaceItemInArray(env, idx, cJSON_CreateString(kvs));
			free(kvs);
			return;
		}
		idx++;
	}
	cJSON_AddItemToArray(env, cJSON_CreateString(kvs));
	free(kvs);
}

char **config_env(struct stage *s, bool with_args, bool default_path)
{
	cJSON *env = cJSON_GetObjectItemCaseSensitive(cfg_obj(s), "Env"), *it;
	size_t n = 0, cap = (size_t)cJSON_GetArraySize(env) + s->args.n + 2;
	char **v = calloc(cap + 1, sizeof(char *));
	bool have_path = false;

	if (!v)
		return NULL;
	cJSON_ArrayForEach(it, env)
	{
		if (cJSON_IsString(it)) {
			v[n++] = strdup(it->valuestring);
			have_path = have_path || str_starts(it->valuestring, "PATH=");
		}
	}
	for (size_t i = 0; with_args && i < s->args.n; i++) {
		if (!s->args.v[i] || env_get(s, s->args.k[i]))
			continue;
		size_t l = strlen(s->args.k[i]) + strlen(s->args.v[i]) + 2;
		v[n] = malloc(l);
		if (v[n])
			snprintf(v[n++], l, "%s=%s", s->args.k[i], s->args.v[i]);
	}
	if (default_path && !have_path)
		v[n++] = strdup("PATH=" DEFAULT_PATH);
	return v;
}

void strv_free0(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

const char *workdir_of(struct stage *s)
{
	cJSON *w = cJSON_GetObjectItemCaseSensitive(cfg_obj(s), "WorkingDir");

	return cJSON_IsString(w) && *w->valuestring ? w->valuestring : "/";
}

char **shell_of(struct stage *s, size_t *n)
{
	cJSON *sh = cJSON_GetObjectItemCaseSensitive(cfg_obj(s), "Shell"), *it;
	char **v;
	size_t k = 0;

	if (cJSON_IsArray(sh) && cJSON_GetArraySize(sh) > 0) {
		v = calloc((size_t)cJSON_GetArraySize(sh) + 2, sizeof(char *));
		cJSON_ArrayForEach(it, sh) if (v && cJSON_IsString(it)) v[k++] = strdup(it->valuestring);
	} else {
		v = calloc(4, sizeof(char *));
		if (v) {
			v[k++] = strdup("/bin/sh");
			v[k++] = strdup("-c");
		}
	}
	*n = k;
	return v;
}
