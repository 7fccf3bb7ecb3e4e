/* Instructions that change only the image config; each is one empty-layer
 * step in the cache chain. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <cjson/cJSON.h>

#include "builder/internal.h"
#include "core/util.h"

int meta_step(struct build *b, struct stage *s, const struct df_instr *in, const char *created_by)
{
	char *txt = cJSON_PrintUnformatted(cfg_obj(s));

	chain_step(s, in->original, txt);
	free(txt);
	b->step++;
	if (b->cache_dir && cache_hit(b, s, in, created_by))
		return 0;
	add_history(b, s, created_by, true);
	cache_put(b, s, NULL);
	log_step(b, in, b->cache_dir ? "cache miss" : NULL);
	return 0;
}

static cJSON *cmd_json(struct build *b, struct stage *s, const struct df_instr *in)
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

static int parse_duration(const char *s, double *ns)
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

/* ENV K=V ... and LABEL K=V ...: values expanded with the stage's scope. */
static int env_or_label(struct build *b, struct stage *s, const struct df_instr *in, bool env, struct err *e)
{
	cJSON *cfg = cfg_obj(s);
	char **k = NULL, **v = NULL;
	size_t n = 0;

	if (df_kv(in->rest, b->df.escape, lookup_stage, b, true, false, &k, &v, &n, e) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (env) {
			env_set(s, k[i], v[i]);
		} else {
			cJSON *l = cJSON_GetObjectItemCaseSensitive(cfg, "Labels");
			if (!cJSON_IsObject(l)) {
				cJSON_DeleteItemFromObjectCaseSensitive(cfg, "Labels");
				l = cJSON_AddObjectToObject(cfg, "Labels");
			}
			set_str(l, k[i], v[i]);
		}
	}
	df_strv_free(k, n);
	df_strv_free(v, n);
	return 0;
}

int instr_env(struct build *b, struct stage *s, const struct df_instr *in, bool onbuild, struct err *e)
{
	return env_or_label(b, s, in, true, e);
}

int instr_label(struct build *b, struct stage *s, const struct df_instr *in, bool onbuild, struct err *e)
{
	return env_or_label(b, s, in, false, e);
}

int instr_arg(struct build *b, struct stage *s, const struct df_instr *in, bool onbuild, struct err *e)
{
	char **k = NULL, **v = NULL;
	size_t n = 0;
	int ret = 0;

	if (df_kv(in->rest, b->df.escape, lookup_stage, b, false, true, &k, &v, &n, e) < 0)
		return -1;
	for (size_t i = 0; i < n && ret == 0; i++)
		ret = kv_set(&s->args, k[i], arg_value(b, k[i], v[i], false), e);
	df_strv_free(k, n);
	df_strv_free(v, n);
	return ret < 0 ? -1 : 0;
}

int instr_workdir(struct build *b, struct stage *s, const struct df_instr *in, bool onbuild, struct err *e)
{
	char **w;
	size_t wn;

	if (df_lex(in->rest, b->df.escape, lookup_stage, b, false, &w, &wn, e) < 0)
		return -1;
	char tmp[PATH_MAX * 2], cl[PATH_MAX];
	snprintf(tmp, sizeof(tmp), "%s/%s", w[0][0] == '/' ? "" : workdir_of(s), w[0]);
	df_strv_free(w, wn);
	clean_rel(tmp, cl, sizeof(cl));
	snprintf(tmp, sizeof(tmp), "/%s", cl);
	set_str(cfg_obj(s), "WorkingDir", tmp);
	return 0;
}

/* USER and STOPSIGNAL: one word into config key. */
static int one_word(struct build *b, struct stage *s, const struct df_instr *in, const char *key, struct err *e)
{
	char **w;
	size_t wn;

	if (df_lex(in->rest, b->df.escape, lookup_stage, b, false, &w, &wn, e) < 0)
		return -1;
	set_str(cfg_obj(s), key, w[0]);
	df_strv_free(w, wn);
	return 0;
}

int instr_user(struct build *b, struct stage *s, const struct df_instr *in, bool onbuild, struct err *e)
{
	return one_word(b, s, in, "User", e);
}

int instr_stopsignal(struct build *b, struct stage *s, const struct df_instr *in, bool onbuild, struct err *e)
{
	return one_word(b, s, in, "StopSignal", e);
}

/* EXPOSE PORT[/PROTO] ... and VOLUME PATH ...: keys of an object of empty objects. */
static int expose_or_volume(struct build *b, struct stage *s, const struct df_instr *in, bool expose, struct err *e)
{
	cJSON *cfg = cfg_obj(s);
	const char *key = expose ? "ExposedPorts" : "Volumes";
	char **w = NULL;
	size_t wn = 0;

	if (in->json) {
		w = calloc(in->n_args + 1, sizeof(char *));
		for (size_t i = 0; w && i < in->n_args; i++)
			w[wn++] = strdup(in->args[i]);
	} else if ((expose ? df_lex_words(in->rest, b->df.escape, lookup_stage, b, &w, &wn, e)
			   : df_lex(in->rest, b->df.escape, lookup_stage, b, true, &w, &wn, e)) < 0) {
		return -1;
	}
	cJSON *o = cJSON_GetObjectItemCaseSensitive(cfg, key);
	if (!cJSON_IsObject(o)) {
		cJSON_DeleteItemFromObjectCaseSensitive(cfg, key);
		o = cJSON_AddObjectToObject(cfg, key);
	}
	for (size_t i = 0; i < wn; i++) {
		char p[300];
		if (expose) {
			char *end;
			long port = strtol(w[i], &end, 10);
			if (port <= 0 || port > 65535 || (*end && strcmp(end, "/tcp") && strcmp(end, "/udp") &&
							   strcmp(end, "/sctp"))) {
				err_set(e, ERR_INPUT, "invalid port \"%s\"", w[i]);
				df_strv_free(w, wn);
				return -1;
			}
			snprintf(p, sizeof(p), "%s%s", w[i], strchr(w[i], '/') ? "" : "/tcp");
		} else {
			snprintf(p, sizeof(p), "%s", w[i]);
		}
		cJSON_DeleteItemFromObjectCaseSensitive(o, p);
		cJSON_AddObjectToObject(o, p);
	}
	df_strv_free(w, wn);
	return 0;
}

int instr_expose(struct build *b, struct stage *s, const struct df_instr *in, bool onbuild, struct err *e)
{
	return expose_or_volume(b, s, in, true, e);
}

int instr_volume(struct build *b, struct stage *s, const struct df_instr *in, bool onbuild, struct err *e)
{
	return expose_or_volume(b, s, in, false, e);
}

int instr_cmd(struct build *b, struct stage *s, const struct df_instr *in, bool onbuild, struct err *e)
{
	cJSON *cfg = cfg_obj(s);

	cJSON_DeleteItemFromObjectCaseSensitive(cfg, "Cmd");
	cJSON_AddItemToObject(cfg, "Cmd", cmd_json(b, s, in));
	return 0;
}

int instr_entrypoint(struct build *b, struct stage *s, const struct df_instr *in, bool onbuild, struct err *e)
{
	cJSON *cfg = cfg_obj(s);

	cJSON_DeleteItemFromObjectCaseSensitive(cfg, "Entrypoint");
	cJSON_AddItemToObject(cfg, "Entrypoint", cmd_json(b, s, in));
	if (!in->json) {
		/* Shell-form ENTRYPOINT ignores CMD, as in Docker. */
		cJSON_DeleteItemFromObjectCaseSensitive(cfg, "Cmd");
	}
	return 0;
}

int instr_shell(struct build *b, struct stage *s, const struct df_instr *in, bool onbuild, struct err *e)
{
	cJSON *cfg = cfg_obj(s);

	cJSON_DeleteItemFromObjectCaseSensitive(cfg, "Shell");
	cJSON_AddItemToObject(cfg, "Shell", strv_json(in->args, in->n_args));
	return 0;
}

int instr_maintainer(struct build *b, struct stage *s, const struct df_instr *in, bool onbuild, struct err *e)
{
	set_str(s->config, "author", in->rest);
	return 0;
}

int instr_onbuild(struct build *b, struct stage *s, const struct df_instr *in, bool onbuild, struct err *e)
{
	cJSON *cfg = cfg_obj(s);

	if (onbuild)
		return err_set(e, ERR_INPUT, "ONBUILD may not trigger ONBUILD");
	if (str_starts(in->rest, "FROM") || str_starts(in->rest, "ONBUILD") || str_starts(in->rest, "from"))
		return err_set(e, ERR_INPUT, "%.7s is not allowed as an ONBUILD trigger", in->rest);
	cJSON *o = cJSON_GetObjectItemCaseSensitive(cfg, "OnBuild");
	if (!cJSON_IsArray(o)) {
		cJSON_DeleteItemFromObjectCaseSensitive(cfg, "OnBuild");
		o = cJSON_AddArrayToObject(cfg, "OnBuild");
	}
	cJSON_AddItemToArray(o, cJSON_CreateString(in->rest));
	return 0;
}

/* HEALTHCHECK [OPTIONS] CMD ...: the test and the --interval, --timeout,
 * --start-period, --start-interval and --retries options. */
static int healthcheck_cmd(const struct df_instr *in, cJSON *hc, struct err *e)
{
	const char *r = in->rest + 4;
	while (*r == ' ' || *r == '\t')
		r++;
	cJSON *t = cJSON_AddArrayToObject(hc, "Test");
	cJSON *j = r[0] == '[' ? cJSON_Parse(r) : NULL;
	cJSON *it;
	if (cJSON_IsArray(j)) {
		cJSON_AddItemToArray(t, cJSON_CreateString("CMD"));
		cJSON_ArrayForEach(it, j) if (cJSON_IsString(it))
			cJSON_AddItemToArray(t, cJSON_CreateString(it->valuestring));
	} else {
		cJSON_AddItemToArray(t, cJSON_CreateString("CMD-SHELL"));
		cJSON_AddItemToArray(t, cJSON_CreateString(r));
	}
	cJSON_Delete(j);
	static const char *const durs[][2] = { { "interval", "Interval" },
						 { "timeout", "Timeout" },
						 { "start-period", "StartPeriod" },
						 { "start-interval", "StartInterval" } };
	for (size_t i = 0; i < ARRAY_SIZE(durs); i++) {
		const char *f = df_flag(in, durs[i][0]);
		double ns;
		if (!f)
			continue;
		if (parse_duration(f, &ns) < 0)
			return err_set(e, ERR_INPUT, "--%s=%s: bad duration", durs[i][0], f);
		cJSON_AddNumberToObject(hc, durs[i][1], ns);
	}
	const char *rt = df_flag(in, "retries");
	if (rt)
		cJSON_AddNumberToObject(hc, "Retries", atoi(rt));
	return 0;
}

int instr_healthcheck(struct build *b, struct stage *s, const struct df_instr *in, bool onbuild, struct err *e)
{
	cJSON *cfg = cfg_obj(s);
	cJSON *hc = cJSON_CreateObject();

	if (strncasecmp(in->rest, "NONE", 4) == 0 && !in->rest[4]) {
		cJSON *t = cJSON_AddArrayToObject(hc, "Test");
		cJSON_AddItemToArray(t, cJSON_CreateString("NONE"));
	} else if (strncasecmp(in->rest, "CMD", 3) == 0 && (in->rest[3] == ' ' || in->rest[3] == '\t')) {
		if (healthcheck_cmd(in, hc, e) < 0) {
			cJSON_Delete(hc);
			return -1;
		}
	} else {
		cJSON_Delete(hc);
		return err_set(e, ERR_INPUT, "expected HEALTHCHECK NONE or HEALTHCHECK [OPTIONS] CMD command");
	}
	cJSON_DeleteItemFromObjectCaseSensitive(cfg, "Healthcheck");
	cJSON_AddItemToObject(cfg, "Healthcheck", hc);
	return 0;
}
