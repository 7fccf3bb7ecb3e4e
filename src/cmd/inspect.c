#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "cmd/opts.h"
#include "core/util.h"
#include "oci/digest.h"
#include "oci/manifest.h"
#include "image/image.h"

static const char help[] =
	"usage: bosun inspect [OPTIONS] IMAGE\n\n"
	"Show an image's manifest digest and media type, its platforms, the config of\n"
	"one platform (linux/amd64 unless --platform says otherwise) and its layers.\n"
	"IMAGE is a registry reference, oci:DIR[:TAG] or docker-archive:FILE.\n\n"
	"Options:\n"
	"  --format text|json         output format (default text)\n"
	"  --raw                      print the top manifest exactly as stored\n"
	"  -v, -q                     more / less output\n" REG_OPTS_HELP "\n" EXIT_CODES_HELP;

struct view {
	char *name;
	struct oci_desc top;
	char *platforms; /* index only */
	struct oci_desc image; /* the single-platform manifest */
	struct oci_manifest m;
	struct oci_config cfg;
	bool is_index;
	struct buf raw;
};

static void view_free(struct view *v)
{
	free(v->name);
	oci_desc_free(&v->top);
	free(v->platforms);
	oci_desc_free(&v->image);
	oci_manifest_free(&v->m);
	oci_config_free(&v->cfg);
	buf_free(&v->raw);
}

static int load(struct image_src *s, const struct oci_platform *plat, struct view *v, struct err *e)
{
	struct buf body __attribute__((cleanup(buf_cleanup))) = BUF_INIT;
	struct buf cfg __attribute__((cleanup(buf_cleanup))) = BUF_INIT;
	const char *mt;

	if (image_src_top(s, &v->top, e) < 0 || image_src_manifest(s, &v->top, &v->raw, e) < 0)
		return -1;
	mt = v->top.media_type ? v->top.media_type : oci_detect_media_type(v->raw.data, v->raw.len);
	if (mt && oci_mt_is_index(mt)) {
		struct oci_index idx;

		v->is_index = true;
		if (oci_index_parse(&idx, v->raw.data, v->raw.len, mt, e) < 0)
			return -1;
		v->platforms = oci_index_platforms(&idx);
		if (oci_index_select(&idx, plat, &v->image, e) < 0) {
			oci_index_free(&idx);
			return -1;
		}
		oci_index_free(&idx);
		if (image_src_manifest(s, &v->image, &body, e) < 0)
			return -1;
	} else {
		if (oci_desc_copy(&v->image, &v->top, e) < 0 ||
		    buf_add(&body, v->raw.data, v->raw.len, e) < 0)
			return -1;
	}
	if (oci_manifest_parse(&v->m, body.data, body.len, v->image.media_type, e) < 0)
		return -1;
	if (image_src_blob_buf(s, &v->m.config, &cfg, BUF_CAP_MANIFEST, e) < 0)
		return err_prefix(e, "config");
	/* Artifacts (signatures, SBOMs) have configs that are not image configs. */
	if (v->m.config.media_type && (strcmp(v->m.config.media_type, MT_OCI_CONFIG) == 0 ||
				       strcmp(v->m.config.media_type, MT_DOCKER_CONFIG) == 0))
		return oci_config_parse(&v->cfg, cfg.data, cfg.len, e);
	return 0;
}

static cJSON *str_array(char **a)
{
	cJSON *arr = cJSON_CreateArray();

	for (; a && *a; a++)
		cJSON_AddItemToArray(arr, cJSON_CreateString(*a));
	return arr;
}

static int print_json(const struct view *v, struct err *e)
{
	cJSON *o = cJSON_CreateObject(), *c, *layers, *l;
	char *txt;
	size_t i;

	cJSON_AddStringToObject(o, "name", v->name);
	cJSON_AddStringToObject(o, "digest", v->top.digest);
	cJSON_AddStringToObject(o, "mediaType", v->top.media_type ? v->top.media_type : "");
	cJSON_AddNumberToObject(o, "size", (double)v->top.size);
	if (v->is_index) {
		cJSON *p = cJSON_AddArrayToObject(o, "platforms");
		char *list = strdup(v->platforms ? v->platforms : ""), *save = NULL, *tok;

		for (tok = list ? strtok_r(list, ", ", &save) : NULL; tok;
		     tok = strtok_r(NULL, ", ", &save))
			cJSON_AddItemToArray(p, cJSON_CreateString(tok));
		free(list);
		c = cJSON_AddObjectToObject(o, "manifest");
		cJSON_AddStringToObject(c, "digest", v->image.digest);
		cJSON_AddStringToObject(c, "mediaType", v->image.media_type ? v->image.media_type : "");
	}
	if (v->m.annotations_json)
		cJSON_AddItemToObject(o, "annotations", cJSON_Parse(v->m.annotations_json));
	c = cJSON_AddObjectToObject(o, "config");
	cJSON_AddStringToObject(c, "digest", v->m.config.digest);
	cJSON_AddStringToObject(c, "mediaType", v->m.config.media_type ? v->m.config.media_type : "");
	if (v->cfg.os) {
		cJSON_AddStringToObject(c, "os", v->cfg.os);
		cJSON_AddStringToObject(c, "architecture", v->cfg.architecture ? v->cfg.architecture : "");
		if (v->cfg.variant)
			cJSON_AddStringToObject(c, "variant", v->cfg.variant);
		if (v->cfg.created)
			cJSON_AddStringToObject(c, "created", v->cfg.created);
		if (v->cfg.user)
			cJSON_AddStringToObject(c, "user", v->cfg.user);
		if (v->cfg.workdir)
			cJSON_AddStringToObject(c, "workingDir", v->cfg.workdir);
		cJSON_AddItemToObject(c, "env", str_array(v->cfg.env));
		cJSON_AddItemToObject(c, "entrypoint", str_array(v->cfg.entrypoint));
		cJSON_AddItemToObject(c, "cmd", str_array(v->cfg.cmd));
		if (v->cfg.labels_json)
			cJSON_AddItemToObject(c, "labels", cJSON_Parse(v->cfg.labels_json));
		cJSON_AddNumberToObject(c, "history", (double)v->cfg.n_history);
	}
	layers = cJSON_AddArrayToObject(o, "layers");
	for (i = 0; i < v->m.n_layers; i++) {
		l = cJSON_CreateObject();
		cJSON_AddStringToObject(l, "digest", v->m.layers[i].digest);
		cJSON_AddNumberToObject(l, "size", (double)v->m.layers[i].size);
		cJSON_AddStringToObject(l, "mediaType",
					v->m.layers[i].media_type ? v->m.layers[i].media_type : "");
		if (v->cfg.diff_ids && i < v->cfg.n_diff_ids)
			cJSON_AddStringToObject(l, "diffID", v->cfg.diff_ids[i]);
		cJSON_AddItemToArray(layers, l);
	}
	txt = cJSON_Print(o);
	cJSON_Delete(o);
	if (!txt)
		return err_oom(e);
	printf("%s\n", txt);
	free(txt);
	return 0;
}

static void print_list(const char *label, char **a)
{
	if (!a || !*a)
		return;
	printf("%-12s", label);
	for (; *a; a++)
		printf(" %s", *a);
	printf("\n");
}

static void print_text(const struct view *v)
{
	uint64_t total = 0;
	char sz[16];
	size_t i;

	printf("%-12s %s\n", "Name:", v->name);
	printf("%-12s %s\n", "Digest:", v->top.digest);
	printf("%-12s %s\n", "MediaType:", v->top.media_type ? v->top.media_type : "");
	if (v->is_index) {
		printf("%-12s %s\n", "Platforms:", v->platforms ? v->platforms : "");
		printf("%-12s %s\n", "Manifest:", v->image.digest);
	}
	if (v->cfg.os) {
		printf("%-12s %s/%s%s%s\n", "Platform:", v->cfg.os,
		       v->cfg.architecture ? v->cfg.architecture : "?", v->cfg.variant ? "/" : "",
		       v->cfg.variant ? v->cfg.variant : "");
		if (v->cfg.created)
			printf("%-12s %s\n", "Created:", v->cfg.created);
		if (v->cfg.user && *v->cfg.user)
			printf("%-12s %s\n", "User:", v->cfg.user);
		if (v->cfg.workdir && *v->cfg.workdir)
			printf("%-12s %s\n", "WorkingDir:", v->cfg.workdir);
		print_list("Entrypoint:", v->cfg.entrypoint);
		print_list("Cmd:", v->cfg.cmd);
		print_list("Env:", v->cfg.env);
		if (v->cfg.labels_json)
			printf("%-12s %s\n", "Labels:", v->cfg.labels_json);
	}
	printf("%-12s %s\n", "Config:", v->m.config.digest);
	for (i = 0; i < v->m.n_layers; i++)
		total += (uint64_t)v->m.layers[i].size;
	fmt_size(total, sz);
	printf("Layers:      %zu (%s)\n", v->m.n_layers, sz);
	for (i = 0; i < v->m.n_layers; i++) {
		fmt_size((uint64_t)v->m.layers[i].size, sz);
		printf("  %s  %10s  %s\n", v->m.layers[i].digest, sz,
		       v->m.layers[i].media_type ? v->m.layers[i].media_type : "");
	}
}

struct inspect_cli {
	bool json, raw;
};

enum { OPT_FORMAT = 3000, OPT_RAW };
static const struct option inspect_own[] = {{"format", required_argument, NULL, OPT_FORMAT},
					    {"raw", no_argument, NULL, OPT_RAW},
					    {NULL, 0, NULL, 0}};

static int inspect_own_opt(void *ctx, int c, const char *arg, struct err *e)
{
	struct inspect_cli *ic = ctx;

	if (c == OPT_FORMAT) {
		if (strcmp(arg, "json") && strcmp(arg, "text"))
			return cmd_usage_error(e, "inspect", "--format takes text or json");
		ic->json = strcmp(arg, "json") == 0;
		return 1;
	}
	if (c == OPT_RAW) {
		ic->raw = true;
		return 1;
	}
	return 0;
}

int cmd_inspect(int argc, char **argv, struct err *e)
{
	struct inspect_cli ic = {false, false};
	const struct cli_cmd cmd = {"inspect",	     help, CLI_REG, NULL, inspect_own,
				    inspect_own_opt, &ic,  NULL};
	struct cli cl;
	struct reg_cli rc;
	struct location loc;
	struct reg_opts ro;
	struct oci_platform plat = { 0 };
	struct image_src *s = NULL;
	struct view v;
	bool json, raw;
	int r;

	cli_init(&cl);
	if ((r = cli_parse(&cmd, argc, argv, &cl, e)) != 0)
		return r > 0 ? 0 : -1;
	rc = cl.reg, json = ic.json, raw = ic.raw;
	if (argc - optind != 1)
		return cmd_usage_error(e, "inspect", "expected one IMAGE");
	if (rc.platform && oci_platform_parse(&plat, rc.platform, e) < 0)
		return -1;
	if (location_parse(&loc, argv[optind], e) < 0) {
		oci_platform_free(&plat);
		return -1;
	}
	memset(&v, 0, sizeof(v));
	buf_init(&v.raw, BUF_CAP_MANIFEST);
	ro = (struct reg_opts){ rc.creds, rc.cacert, rc.insecure, rc.parallel, rc.retries, NULL };
	r = image_src_open(&s, &loc, &ro, e);
	if (r == 0 && raw) {
		r = image_src_top(s, &v.top, e);
		if (r == 0)
			r = image_src_manifest(s, &v.top, &v.raw, e);
		if (r == 0)
			fwrite(v.raw.data, 1, v.raw.len, stdout);
	} else if (r == 0) {
		v.name = xstrdup_e(loc.text, e);
		r = v.name ? load(s, rc.platform ? &plat : NULL, &v, e) : -1;
		if (r == 0)
			r = json ? print_json(&v, e) : (print_text(&v), 0);
	}
	if (r < 0)
		err_prefix(e, "%s", loc.text);
	view_free(&v);
	image_src_close(s);
	location_free(&loc);
	oci_platform_free(&plat);
	return r;
}
