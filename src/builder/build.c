/* The build executor's core: the instruction table, layers and history,
 * the final image, and build_run. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <cjson/cJSON.h>

#include "builder/internal.h"
#include "core/buf.h"
#include "core/fs.h"
#include "core/log.h"
#include "core/util.h"
#include "oci/layer.h"
#include "oci/layout.h"
#include "oci/manifest.h"
#include "oci/ref.h"

int at(struct build *b, const struct df_instr *in, struct err *e)
{
	return err_prefix(e, "%s:%d:%d: %s", b->df.path, in->line, in->col, in->cmd);
}

void log_step(struct build *b, const struct df_instr *in, const char *state)
{
	log_info("step %d/%d: %.200s%s%s%s", b->step, b->n_steps, in->original, state ? " (" : "", state ? state : "",
		 state ? ")" : "");
}

void add_history(struct build *b, struct stage *s, const char *created_by, bool empty)
{
	cJSON *h = cJSON_GetObjectItemCaseSensitive(s->config, "history");
	char ts[32];

	if (!cJSON_IsArray(h)) {
		cJSON_DeleteItemFromObjectCaseSensitive(s->config, "history");
		h = cJSON_AddArrayToObject(s->config, "history");
	}
	cJSON *e = cJSON_CreateObject();
	time_rfc3339(b->created, ts);
	cJSON_AddStringToObject(e, "created", ts);
	cJSON_AddStringToObject(e, "created_by", created_by);
	cJSON_AddStringToObject(e, "comment", "bosun");
	if (empty)
		cJSON_AddBoolToObject(e, "empty_layer", 1);
	cJSON_AddItemToArray(h, e);
}

int add_layer(struct stage *s, const char *mt, const char *digest, int64_t size, const char *diff_id,
	      struct err *e)
{
	struct oci_desc *nl = realloc(s->layers, (s->n_layers + 1) * sizeof(*nl));
	cJSON *rootfs, *ids;

	if (!nl)
		return err_oom(e);
	s->layers = nl;
	memset(&nl[s->n_layers], 0, sizeof(*nl));
	nl[s->n_layers].media_type = xstrdup_e(mt, e);
	nl[s->n_layers].digest = xstrdup_e(digest, e);
	nl[s->n_layers].size = size;
	s->n_layers++;
	if (!nl[s->n_layers - 1].media_type || !nl[s->n_layers - 1].digest)
		return -1;
	if (diff_id) {
		rootfs = cJSON_GetObjectItemCaseSensitive(s->config, "rootfs");
		if (!cJSON_IsObject(rootfs)) {
			cJSON_DeleteItemFromObjectCaseSensitive(s->config, "rootfs");
			rootfs = cJSON_AddObjectToObject(s->config, "rootfs");
			cJSON_AddStringToObject(rootfs, "type", "layers");
		}
		ids = cJSON_GetObjectItemCaseSensitive(rootfs, "diff_ids");
		if (!cJSON_IsArray(ids)) {
			cJSON_DeleteItemFromObjectCaseSensitive(rootfs, "diff_ids");
			ids = cJSON_AddArrayToObject(rootfs, "diff_ids");
		}
		cJSON_AddItemToArray(ids, cJSON_CreateString(diff_id));
	}
	return 0;
}

static struct layer_opts layer_opts_of(const struct build *b, bool overlay)
{
	struct layer_opts lo = { .comp = b->o->comp,
				 .clamp_mtime = b->o->source_date_epoch,
				 .overlay_whiteouts = overlay,
				 .map_self_root = b->rootless,
				 .threads = (int)sysconf(_SC_NPROCESSORS_ONLN),
				 .on_write = b->o->on_layer_write,
				 .on_write_ctx = b->o->on_layer_ctx };
	return lo;
}

static int add_written_layer(struct build *b, struct stage *s, const struct layer_result *lr, const char *created_by,
			     struct err *e)
{
	if (add_layer(s, lr->media_type, lr->digest, lr->size, lr->diff_id, e) < 0)
		return -1;
	add_history(b, s, created_by, false);
	cache_put(b, s, lr);
	char *path = b->o->on_layer ? oci_layout_blob_path(b->lay, lr->digest) : NULL;
	if (path) {
		struct oci_desc d = { .media_type = (char *)lr->media_type, .digest = (char *)lr->digest, .size = lr->size };
		b->o->on_layer(b->o->on_layer_ctx, &d, path);
		free(path);
	}
	return 0;
}

int write_layer(struct build *b, struct stage *s, const char *dir, bool overlay, const char *created_by,
		struct err *e)
{
	struct layer_opts lo = layer_opts_of(b, overlay);
	struct layer_result lr;

	if (oci_layer_write_dir(b->lay, dir, &lo, &lr, e) < 0)
		return -1;
	return add_written_layer(b, s, &lr, created_by, e);
}

int write_layer_tree(struct build *b, struct stage *s, struct layer_tree *t, const char *created_by, struct err *e)
{
	struct layer_opts lo = layer_opts_of(b, false);
	struct layer_result lr;

	if (oci_layer_write_tree(b->lay, t, &lo, &lr, e) < 0)
		return -1;
	return add_written_layer(b, s, &lr, created_by, e);
}

/* The instruction table; exec_instr locates every error (file:line:col:
 * instruction). A config-only instruction is one empty-layer step. */
static int instr_run(struct build *b, struct stage *s, const struct df_instr *in, bool onbuild, struct err *e)
{
	return do_run(b, s, in, e);
}

static int instr_copy(struct build *b, struct stage *s, const struct df_instr *in, bool onbuild, struct err *e)
{
	return do_copy(b, s, in, false, e);
}

static int instr_add(struct build *b, struct stage *s, const struct df_instr *in, bool onbuild, struct err *e)
{
	return do_copy(b, s, in, true, e);
}

static const struct instr_def {
	const char *cmd; /* lower case, as the parser gives it */
	int (*fn)(struct build *b, struct stage *s, const struct df_instr *in, bool onbuild, struct err *e);
	bool config_only;
} instrs[] = {
	{ "run", instr_run, false },
	{ "copy", instr_copy, false },
	{ "add", instr_add, false },
	{ "env", instr_env, true },
	{ "label", instr_label, true },
	{ "arg", instr_arg, true },
	{ "workdir", instr_workdir, true },
	{ "user", instr_user, true },
	{ "expose", instr_expose, true },
	{ "volume", instr_volume, true },
	{ "cmd", instr_cmd, true },
	{ "entrypoint", instr_entrypoint, true },
	{ "shell", instr_shell, true },
	{ "stopsignal", instr_stopsignal, true },
	{ "maintainer", instr_maintainer, true },
	{ "onbuild", instr_onbuild, true },
	{ "healthcheck", instr_healthcheck, true },
};

int exec_instr(struct build *b, struct stage *s, const struct df_instr *in, bool onbuild, struct err *e)
{
	const struct instr_def *d = NULL;
	char cb[8192];

	b->cur = s;
	if (strcmp(in->cmd, "from") == 0)
		return err_set(e, ERR_INPUT, "%s:%d:%d: FROM is not allowed here", b->df.path, in->line, in->col);
	for (size_t i = 0; i < ARRAY_SIZE(instrs) && !d; i++)
		if (strcmp(in->cmd, instrs[i].cmd) == 0)
			d = &instrs[i];
	if (!d) {
		err_set(e, ERR_INPUT, "unsupported instruction");
		return at(b, in, e);
	}
	if (d->fn(b, s, in, onbuild, e) < 0)
		return at(b, in, e);
	if (!d->config_only)
		return 0;
	snprintf(cb, sizeof(cb), "%s", in->original);
	return meta_step(b, s, in, cb);
}

int finish_image(struct build *b, struct stage *s, const char *tag, char dig[72], int64_t *size, struct err *e)
{
	cJSON *cfg = cfg_obj(s);
	char ts[32], cdig[72], mdig[72];
	char *ctext = NULL, *mtext = NULL;
	struct oci_manifest m;
	int ret = -1;

	for (size_t i = 0; i < b->o->n_labels; i++) {
		const char *eq = strchr(b->o->labels[i], '=');
		char key[512];
		if (!eq)
			return err_set(e, ERR_USAGE, "--label %s: expected KEY=VALUE", b->o->labels[i]);
		snprintf(key, sizeof(key), "%.*s", (int)(eq - b->o->labels[i]), b->o->labels[i]);
		cJSON *l = cJSON_GetObjectItemCaseSensitive(cfg, "Labels");
		if (!cJSON_IsObject(l)) {
			cJSON_DeleteItemFromObjectCaseSensitive(cfg, "Labels");
			l = cJSON_AddObjectToObject(cfg, "Labels");
		}
		set_str(l, key, eq + 1);
	}
	if (s->base_name && s->base_digest) {
		cJSON *l = cJSON_GetObjectItemCaseSensitive(cfg, "Labels");
		if (!cJSON_IsObject(l)) {
			cJSON_DeleteItemFromObjectCaseSensitive(cfg, "Labels");
			l = cJSON_AddObjectToObject(cfg, "Labels");
		}
		set_str(l, ANN_BASE_NAME, s->base_name);
		set_str(l, ANN_BASE_DIGEST, s->base_digest);
	}
	time_rfc3339(b->created, ts);
	set_str(s->config, "created", ts);
	ctext = cJSON_PrintUnformatted(s->config);
	if (!ctext)
		return err_oom(e);
	if (oci_layout_put_blob(b->out, ctext, strlen(ctext), cdig, e) < 0)
		goto out;
	memset(&m, 0, sizeof(m));
	m.media_type = (char *)MT_OCI_MANIFEST;
	m.schema_version = 2;
	m.config.media_type = (char *)MT_OCI_CONFIG;
	m.config.digest = cdig;
	m.config.size = (int64_t)strlen(ctext);
	m.layers = s->layers;
	m.n_layers = s->n_layers;
	cJSON *ann = cJSON_CreateObject();
	cJSON_AddStringToObject(ann, "org.opencontainers.image.created", ts);
	if (s->base_name && s->base_digest) {
		cJSON_AddStringToObject(ann, ANN_BASE_NAME, s->base_name);
		cJSON_AddStringToObject(ann, ANN_BASE_DIGEST, s->base_digest);
	}
	m.annotations_json = cJSON_PrintUnformatted(ann);
	cJSON_Delete(ann);
	/* Layers live in the cache layout: link them into the output layout. */
	if (b->out != b->lay) {
		for (size_t i = 0; i < s->n_layers; i++) {
			char *p = oci_layout_blob_path(b->lay, s->layers[i].digest);
			int rr = p ? oci_layout_put_blob_file(b->out, s->layers[i].digest, p, e) : -1;
			free(p);
			if (rr < 0) {
				free(m.annotations_json);
				goto out;
			}
		}
	}
	size_t ml;
	mtext = oci_manifest_serialise(&m, &ml, e);
	free(m.annotations_json);
	if (!mtext || oci_layout_put_blob(b->out, mtext, ml, mdig, e) < 0)
		goto out;
	struct oci_desc d = { .media_type = (char *)MT_OCI_MANIFEST, .digest = mdig, .size = (int64_t)ml };
	if (tag && oci_layout_set_ref(b->out, &d, tag, e) < 0)
		goto out;
	snprintf(dig, 72, "%s", mdig);
	*size = (int64_t)ml;
	ret = 0;
out:
	free(ctext);
	free(mtext);
	return ret;
}

static void stage_free(struct stage *s)
{
	free(s->name);
	cJSON_Delete(s->config);
	for (size_t i = 0; i < s->n_layers; i++)
		oci_desc_free(&s->layers[i]);
	free(s->layers);
	free(s->rootfs);
	free(s->base_name);
	free(s->base_digest);
	kv_free(&s->args);
}

/* The context, the Dockerfile and .dockerignore. */
int open_context(struct build *b, struct err *e)
{
	const struct build_opts *o = b->o;
	struct stat cst;

	b->ctx_real = realpath(o->context, NULL);
	if (!b->ctx_real)
		return err_errno(e, ERR_INPUT, "build context %s", o->context);
	if (stat(b->ctx_real, &cst) < 0 || !S_ISDIR(cst.st_mode))
		return err_set(e, ERR_INPUT, "build context %s: not a directory", o->context);
	char *dfpath = o->dockerfile ? xstrdup_e(o->dockerfile, e) : fs_join(o->context, "Dockerfile");
	int r = !dfpath || df_parse_file(&b->df, dfpath, e) < 0 || df_check_expansions(&b->df, e) < 0;
	free(dfpath);
	if (r)
		return -1;
	char *igp = fs_join(b->ctx_real, ".dockerignore");
	if (igp && fs_exists(igp)) {
		struct buf ib = BUF_INIT;
		r = fs_read_file(igp, &ib, 1u << 20, e) < 0 || ignore_parse(&b->ig, ib.data, e) < 0;
		buf_free(&ib);
	}
	free(igp);
	return r ? -1 : 0;
}

/* The platform (unless already set), the predefined ARGs and --build-arg. */
int set_args(struct build *b, struct err *e)
{
	const struct build_opts *o = b->o;
	struct oci_platform host = { 0 };

	if (!b->plat.os &&
	    (o->platform ? oci_platform_parse(&b->plat, o->platform, e) < 0 : oci_platform_default(&b->plat, e) < 0))
		return -1;
	if (oci_platform_default(&host, e) < 0)
		return -1;
	char *tp = oci_platform_string(&b->plat), *bp = oci_platform_string(&host);
	kv_set(&b->global, "TARGETPLATFORM", tp, e);
	kv_set(&b->global, "TARGETOS", b->plat.os, e);
	kv_set(&b->global, "TARGETARCH", b->plat.architecture, e);
	kv_set(&b->global, "TARGETVARIANT", b->plat.variant ? b->plat.variant : "", e);
	kv_set(&b->global, "BUILDPLATFORM", bp, e);
	kv_set(&b->global, "BUILDOS", host.os, e);
	kv_set(&b->global, "BUILDARCH", host.architecture, e);
	free(tp);
	free(bp);
	oci_platform_free(&host);
	for (size_t i = 0; i < o->n_build_args; i++) {
		const char *a = o->build_args[i], *eq = strchr(a, '=');
		char key[512];
		snprintf(key, sizeof(key), "%.*s", eq ? (int)(eq - a) : (int)strlen(a), a);
		const char *val = eq ? eq + 1 : getenv(key);
		if (!eq && !val)
			continue; /* --build-arg K with K unset: ignored, as Docker does */
		if (kv_set(&b->bargs, key, val, e) < 0)
			return -1;
	}
	b->bargs_used = calloc(b->bargs.n + 1, sizeof(bool));
	if (!b->bargs_used)
		return err_oom(e);
	return 0;
}

/* The work directory (first what killed builds left behind), the output
 * layout, and the cache: its directory, its layout, --cache-repo. */
int open_workspace(struct build *b, struct err *e)
{
	const struct build_opts *o = b->o;
	int n_swept = fs_tmpdir_sweep("bosun-build");

	if (n_swept > 0)
		log_info("removed %d work director%s left by interrupted builds", n_swept, n_swept == 1 ? "y" : "ies");
	b->workdir = fs_mkdtemp("bosun-build", e);
	if (!b->workdir || (b->workdir_lock = fs_tmpdir_lock(b->workdir, e)) < 0)
		return -1;
	char *outdir = fs_join(b->workdir, "layout");
	if (!outdir || oci_layout_open(&b->out, outdir, true, e) < 0) {
		free(outdir);
		return -1;
	}
	b->cache_dir = o->cache_dir;
	if (o->cache_repo) {
		struct oci_ref cr;
		if (!b->cache_dir) {
			b->cache_dir_own = fs_join(b->workdir, "cache");
			b->cache_dir = b->cache_dir_own;
		}
		if (oci_ref_parse(&cr, o->cache_repo, e) < 0) {
			free(outdir);
			return err_prefix(e, "--cache-repo");
		}
		int rr = reg_open(&b->creg, &cr, &o->reg, true, e);
		oci_ref_free(&cr);
		if (rr < 0) {
			free(outdir);
			return -1;
		}
	}
	if (!b->cache_dir) {
		b->lay = b->out;
		b->lay_dir = outdir;
		return 0;
	}
	free(outdir);
	b->lay_dir = fs_join(b->cache_dir, "layout");
	if (!b->lay_dir || fs_mkdir_p(b->cache_dir, 0755, e) < 0 || oci_layout_open(&b->lay, b->lay_dir, true, e) < 0)
		return -1;
	return 0;
}

/* The stages up to the target, skipping those it does not need. */
int run_stages(struct build *b, int target, struct err *e)
{
	for (int si = 0; si <= target; si++) {
		struct stage *s = &b->st[si];
		if (!s->needed) {
			log_info("stage %d%s%s: not needed for the target, skipped", si, s->name ? " " : "",
				 s->name ? s->name : "");
			continue;
		}
		b->cur = s;
		log_info("stage %d%s%s: %s", si, s->name ? " " : "", s->name ? s->name : "", b->df.ins[s->first].original);
		if (do_from(b, s, &b->df.ins[s->first], e) < 0)
			return -1;
		for (size_t j = s->first + 1; j <= s->last; j++)
			if (exec_instr(b, s, &b->df.ins[j], false, e) < 0)
				return -1;
		s->built = true;
	}
	return 0;
}

void build_init(struct build *b, const struct build_opts *o)
{
	memset(b, 0, sizeof(*b));
	b->workdir_lock = -1;
	b->o = o;
	b->rootless = geteuid() != 0;
	b->created = o->source_date_epoch >= 0 ? o->source_date_epoch : (int64_t)time(NULL);
	b->memo = &b->memo_store;
	b->reuse = &b->reuse_store;
	b->tmpseq = &b->tmpseq_store;
}

void build_free(struct build *b)
{
	for (size_t i = 0; i < b->n_st; i++)
		stage_free(&b->st[i]);
	free(b->st);
	kv_free(&b->global);
	kv_free(&b->bargs);
	free(b->bargs_used);
	oci_platform_free(&b->plat);
	if (b->borrowed) {
		memset(b, 0, sizeof(*b));
		b->workdir_lock = -1;
		return;
	}
	df_free(&b->df);
	if (b->lay != b->out)
		oci_layout_close(b->lay);
	oci_layout_close(b->out);
	free(b->lay_dir);
	free(b->ctx_real);
	reg_close(b->creg);
	ignore_free(b->ig);
	if (b->workdir) {
		struct err e2 = ERR_INIT;
		fs_rm_rf(b->workdir, &e2);
		free(b->workdir);
	}
	if (b->workdir_lock >= 0)
		close(b->workdir_lock);
	free(b->cache_dir_own);
	free(b->memo_store.v);
	for (size_t i = 0; i < b->reuse_store.n; i++) {
		struct reuse_ent *r = &b->reuse_store.v[i];
		free(r->media_type);
		free(r->digest);
		free(r->diff_id);
		free(r->platform);
	}
	free(b->reuse_store.v);
}

int build_run(const struct build_opts *o, struct build_result *r, struct err *e)
{
	struct build b;
	struct oci_platform *plats = NULL;
	size_t np = 0;
	int64_t msize;
	int target, ret = -1;

	memset(r, 0, sizeof(*r));
	r->workdir_lock = -1;
	if (build_platforms_parse(o->platform, &plats, &np, e) < 0)
		return -1;
	if (np > 1) {
		ret = build_run_multi(o, plats, np, r, e);
		build_platforms_free(plats, np);
		return ret;
	}
	build_init(&b, o);
	r->images = calloc(1, sizeof(*r->images));
	if (!r->images) {
		err_oom(e);
		goto out;
	}
	if (open_context(&b, e) < 0 || set_args(&b, e) < 0 || open_workspace(&b, e) < 0)
		goto out;
	target = plan_stages(&b, e);
	if (target < 0 || run_stages(&b, target, e) < 0)
		goto out;
	for (size_t i = 0; i < b.bargs.n; i++)
		if (!b.bargs_used[i])
			log_warn("build argument %s was not consumed by any ARG", b.bargs.k[i]);
	if (finish_image(&b, &b.st[target], "build", r->digest, &msize, e) < 0)
		goto out;
	char *ps = oci_platform_string(&b.plat);
	snprintf(r->images[0].platform, sizeof(r->images[0].platform), "%s", ps ? ps : "");
	free(ps);
	snprintf(r->images[0].digest, sizeof(r->images[0].digest), "%s", r->digest);
	snprintf(r->images[0].tag, sizeof(r->images[0].tag), "build");
	snprintf(r->images[0].base_digest, sizeof(r->images[0].base_digest), "%s",
		 b.st[target].base_digest ? b.st[target].base_digest : "");
	r->n_images = 1;
	memo_save(&b, b.memo);
	r->layout = fs_join(b.workdir, "layout");
	r->workdir = b.workdir;
	b.workdir = NULL;
	r->workdir_lock = b.workdir_lock;
	b.workdir_lock = -1;
	r->steps = b.n_steps;
	r->hits = b.hits;
	ret = 0;
out:
	build_free(&b);
	build_platforms_free(plats, np);
	if (ret < 0) {
		free(r->images);
		r->images = NULL;
	}
	return ret;
}

void build_result_free(struct build_result *r)
{
	if (r->workdir) {
		struct err e2 = ERR_INIT;
		fs_rm_rf(r->workdir, &e2);
	}
	if (r->workdir && r->workdir_lock >= 0)
		close(r->workdir_lock);
	free(r->workdir);
	free(r->layout);
	free(r->images);
	memset(r, 0, sizeof(*r));
	r->workdir_lock = -1;
}
