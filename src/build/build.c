/* The build executor: stages, instructions, layers, image config. */
#include <limits.h>
#include <archive.h>
#include <ctype.h>
#include <curl/curl.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <cjson/cJSON.h>

#include "build/build.h"
#include "build/dockerfile.h"
#include "build/sandbox.h"
#include "core/buf.h"
#include "core/fs.h"
#include "core/log.h"
#include "core/sha256.h"
#include "core/util.h"
#include "oci/digest.h"
#include "oci/layer.h"
#include "oci/layout.h"
#include "oci/manifest.h"
#include "registry/image.h"
#include "registry/location.h"

#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

struct kv {
	char **k, **v;
	size_t n;
};

struct stage {
	int index;
	char *name;
	size_t first, last; /* instruction indices: first is the FROM */
	bool needed, built;
	cJSON *config;      /* the whole image config */
	struct oci_desc *layers;
	size_t n_layers;
	size_t n_applied;   /* layers unpacked into rootfs */
	char *rootfs;
	char *base_name, *base_digest;
	struct kv args;     /* ARGs declared in this stage */
	char chain[65];     /* cache chain key */
};

struct build {
	const struct build_opts *o;
	struct dockerfile df;
	struct stage *st;
	size_t n_st;
	struct kv global;   /* meta ARGs + platform args */
	struct kv bargs;    /* --build-arg */
	bool *bargs_used;
	struct oci_platform plat;
	char *workdir;
	int workdir_lock;
	struct oci_layout *lay;   /* where layers and bases live */
	struct oci_layout *out;   /* the final image's layout (= lay without cache) */
	char *lay_dir;
	char *ctx_real;
	struct ignore *ig;
	int64_t created;
	int step, n_steps, hits;
	bool rootless;
	const char *cache_dir;    /* --cache-dir, or a private one for --cache-repo */
	char *cache_dir_own;
	struct reg_client *creg;  /* --cache-repo */
	struct memo {
		struct memo_ent *v;
		size_t cap, n;
		bool loaded, dirty;
	} memo;
	struct stage *cur;
	const struct df_instr *cur_in;
	int tmpseq;
};

static void kv_free(struct kv *kv)
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

static int kv_set(struct kv *kv, const char *k, const char *v, struct err *e)
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
		return err_set(e, ERR_INTERNAL, "out of memory");
	kv->k = nk;
	char **nv = realloc(kv->v, (kv->n + 2) * sizeof(char *));
	if (!nv)
		return err_set(e, ERR_INTERNAL, "out of memory");
	kv->v = nv;
	kv->k[kv->n] = xstrdup_e(k, e);
	kv->v[kv->n] = v ? xstrdup_e(v, e) : NULL;
	kv->n++;
	kv->k[kv->n] = kv->v[kv->n] = NULL;
	return kv->k[kv->n - 1] ? 0 : -1;
}

/* ------------------------------------------------------------ messages */

static int at(struct build *b, const struct df_instr *in, struct err *e)
{
	return err_prefix(e, "%s:%d:%d: %s", b->df.path, in->line, in->col, in->cmd);
}

/* ------------------------------------------------------- variable scope */

static cJSON *cfg_obj(struct stage *s)
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

static const char *lookup_stage(void *ctx, const char *name)
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

static const char *lookup_global(void *ctx, const char *name)
{
	struct build *b = ctx;

	return kv_get(&b->global, name, NULL);
}

/* Value an ARG gets: --build-arg, else (no default) the global value, else the default. */
static const char *arg_value(struct build *b, const char *k, const char *def, bool global)
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

/* --------------------------------------------------------- config JSON */

static void set_str(cJSON *o, const char *k, const char *v)
{
	cJSON_DeleteItemFromObjectCaseSensitive(o, k);
	if (v)
		cJSON_AddStringToObject(o, k, v);
}

static cJSON *strv_json(char **v, size_t n)
{
	cJSON *a = cJSON_CreateArray();

	for (size_t i = 0; a && i < n; i++)
		cJSON_AddItemToArray(a, cJSON_CreateString(v[i]));
	return a;
}

static void env_set(struct stage *s, const char *k, const char *v)
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

static char **config_env(struct stage *s, bool with_args, bool default_path)
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

static void strv_free0(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

static void add_history(struct build *b, struct stage *s, const char *created_by, bool empty)
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

static int add_layer(struct stage *s, const char *mt, const char *digest, int64_t size, const char *diff_id,
		     struct err *e)
{
	struct oci_desc *nl = realloc(s->layers, (s->n_layers + 1) * sizeof(*nl));
	cJSON *rootfs, *ids;

	if (!nl)
		return err_set(e, ERR_INTERNAL, "out of memory");
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

/* ---------------------------------------------------------------- cache */

static void chain_step(struct stage *s, const char *text, const char *extra)
{
	struct sha256 h;
	struct err e = ERR_INIT;

	if (sha256_init(&h, &e) < 0)
		return;
	sha256_update(&h, s->chain, strlen(s->chain));
	sha256_update(&h, "\n", 1);
	sha256_update(&h, text, strlen(text));
	sha256_update(&h, "\n", 1);
	if (extra)
		sha256_update(&h, extra, strlen(extra));
	sha256_final_hex(&h, s->chain);
}

static char *cache_path(struct build *b, const char *key)
{
	char p[4096];

	if (!b->cache_dir)
		return NULL;
	snprintf(p, sizeof(p), "%s/keys/%s.json", b->cache_dir, key);
	return strdup(p);
}

/* --cache-repo: one tag per step key ("bosun-cache-<key>") naming a small
 * OCI artifact manifest whose only layer is the step's layer (diff_id in
 * its annotations) or, for steps without a layer, no layer at all. */
#define MT_BOSUN_CACHE "application/vnd.bosun.build.cache.v1"

static char *write_record(struct build *b, const char *key, const char *mt, const char *digest, int64_t size,
			  const char *diff_id);

static char *blob_path_for(void *ctx, const struct oci_desc *d)
{
	return oci_layout_blob_path(ctx, d->digest);
}

static bool remote_get(struct build *b, struct stage *s)
{
	char tag[80];
	struct buf mb = BUF_INIT;
	struct oci_manifest m = { 0 };
	struct err e = ERR_INIT;
	bool hit = false;
	char *mt = NULL;

	snprintf(tag, sizeof(tag), "bosun-cache-%s", s->chain);
	if (reg_get_manifest(b->creg, tag, &mb, &mt, NULL, &e) < 0) {
		if (!reg_not_found(&e))
			log_warn("cache repo: %s", e.msg);
		goto out;
	}
	if (oci_manifest_parse(&m, mb.data, mb.len, mt, &e) < 0)
		goto out;
	if (m.n_layers == 0) {
		free(write_record(b, s->chain, NULL, NULL, 0, NULL));
		hit = true;
		goto out;
	}
	char *diff = oci_desc_annotation(&m.layers[0], "org.bosun.diff_id");
	if (!diff || !oci_digest_valid(diff)) {
		free(diff);
		goto out;
	}
	if (!oci_layout_has_blob(b->lay, m.layers[0].digest)) {
		char *path = oci_layout_blob_path(b->lay, m.layers[0].digest);
		int r = path ? 0 : -1;
		free(path);
		if (r == 0 && reg_fetch_blobs(b->creg, &m.layers[0], 1, blob_path_for, NULL, b->lay, &e) < 0) {
			log_warn("cache repo: %s", e.msg);
			free(diff);
			goto out;
		}
	}
	free(write_record(b, s->chain, m.layers[0].media_type, m.layers[0].digest, m.layers[0].size, diff));
	free(diff);
	hit = true;
out:
	oci_manifest_free(&m);
	free(mt);
	buf_free(&mb);
	return hit;
}

static void remote_put(struct build *b, struct stage *s, const struct layer_result *lr)
{
	char tag[80], *man = NULL, *path = NULL;
	struct err e = ERR_INIT;
	struct oci_manifest m;
	struct oci_desc ld;
	static const char empty[] = "{}";
	char ed[72];
	size_t ml;

	sha256_digest_str(empty, 2, ed);
	memset(&m, 0, sizeof(m));
	m.media_type = (char *)MT_OCI_MANIFEST;
	m.schema_version = 2;
	m.artifact_type = (char *)MT_BOSUN_CACHE;
	m.config.media_type = (char *)MT_OCI_EMPTY;
	m.config.digest = ed;
	m.config.size = 2;
	if (lr) {
		memset(&ld, 0, sizeof(ld));
		ld.media_type = (char *)lr->media_type;
		ld.digest = (char *)lr->digest;
		ld.size = lr->size;
		ld.annotations_json = xasprintf_e(&e, "{\"org.bosun.diff_id\":\"%s\"}", lr->diff_id);
		m.layers = &ld;
		m.n_layers = 1;
		path = oci_layout_blob_path(b->lay, lr->digest);
		const char *paths[1] = { path };
		if (!path || reg_push_blobs(b->creg, &ld, paths, 1, NULL, &e) < 0)
			goto out;
	}
	if (reg_push_blob_buf(b->creg, empty, 2, ed, &e) < 0)
		goto out;
	man = oci_manifest_serialise(&m, &ml, &e);
	snprintf(tag, sizeof(tag), "bosun-cache-%s", s->chain);
	if (!man || reg_put_manifest(b->creg, tag, man, ml, MT_OCI_MANIFEST, &e) < 0)
		goto out;
out:
	if (e.code)
		log_warn("cache repo: could not store step: %s", e.msg);
	if (lr)
		free(ld.annotations_json);
	free(man);
	free(path);
}

/* Looks up s->chain. On a hit the step's result is applied to s. */
static bool cache_get(struct build *b, struct stage *s, const char *created_by)
{
	char *p = cache_path(b, s->chain);
	struct buf buf = BUF_INIT;
	struct err e = ERR_INIT;
	bool hit = false;
	cJSON *j = NULL;

	if (!p)
		return false;
	if (!fs_exists(p) && b->creg)
		remote_get(b, s);
	if (fs_exists(p) && fs_read_file(p, &buf, 65536, &e) == 0 && (j = cJSON_Parse(buf.data))) {
		cJSON *d = cJSON_GetObjectItem(j, "digest"), *di = cJSON_GetObjectItem(j, "diff_id"),
		      *sz = cJSON_GetObjectItem(j, "size"), *mt = cJSON_GetObjectItem(j, "mediaType");
		if (cJSON_IsString(d) && cJSON_IsString(di) && cJSON_IsNumber(sz) && cJSON_IsString(mt)) {
			if (oci_layout_has_blob(b->lay, d->valuestring) &&
			    add_layer(s, mt->valuestring, d->valuestring, (int64_t)sz->valuedouble, di->valuestring,
				      &e) == 0) {
				add_history(b, s, created_by, false);
				hit = true;
			}
		} else if (cJSON_IsTrue(cJSON_GetObjectItem(j, "empty"))) {
			add_history(b, s, created_by, true);
			hit = true;
		}
	}
	cJSON_Delete(j);
	buf_free(&buf);
	free(p);
	return hit;
}

static char *write_record(struct build *b, const char *key, const char *mt, const char *digest, int64_t size,
			  const char *diff_id)
{
	char *p = cache_path(b, key);
	char dir[4096];
	struct err e = ERR_INIT;
	cJSON *j;
	char *txt;

	if (!p)
		return NULL;
	snprintf(dir, sizeof(dir), "%s/keys", b->cache_dir);
	j = cJSON_CreateObject();
	if (digest) {
		cJSON_AddStringToObject(j, "mediaType", mt);
		cJSON_AddStringToObject(j, "digest", digest);
		cJSON_AddNumberToObject(j, "size", (double)size);
		cJSON_AddStringToObject(j, "diff_id", diff_id);
	} else {
		cJSON_AddBoolToObject(j, "empty", 1);
	}
	txt = cJSON_PrintUnformatted(j);
	if (txt && fs_mkdir_p(dir, 0755, &e) == 0 && fs_write_atomic(p, txt, strlen(txt), 0644, &e) < 0)
		log_warn("cache: %s", e.msg);
	free(txt);
	cJSON_Delete(j);
	return p;
}

static void cache_put(struct build *b, struct stage *s, const struct layer_result *lr)
{
	if (!b->cache_dir)
		return;
	free(lr ? write_record(b, s->chain, lr->media_type, lr->digest, lr->size, lr->diff_id)
		: write_record(b, s->chain, NULL, NULL, 0, NULL));
	if (b->creg)
		remote_put(b, s, lr);
}

static void log_step(struct build *b, const struct df_instr *in, const char *state)
{
	log_info("step %d/%d: %.200s%s%s%s", b->step, b->n_steps, in->original, state ? " (" : "", state ? state : "",
		 state ? ")" : "");
}

/* ----------------------------------------------------- root file system */

static int sync_rootfs(struct build *b, struct stage *s, struct err *e)
{
	struct unpack_opts uo = { .set_owner = !b->rootless };

	for (; s->n_applied < s->n_layers; s->n_applied++) {
		char *p = oci_layout_blob_path(b->lay, s->layers[s->n_applied].digest);
		int r;
		if (!p)
			return err_set(e, ERR_INTERNAL, "out of memory");
		r = oci_unpack_layer(p, s->rootfs, &uo, e);
		free(p);
		if (r < 0)
			return -1;
	}
	return 0;
}

static char *new_tmp(struct build *b, const char *what, struct err *e)
{
	char *p = xasprintf_e(e, "%s/%s-%d", b->workdir, what, ++b->tmpseq);

	if (p && mkdir(p, 0755) < 0) {
		err_errno(e, ERR_INTERNAL, "mkdir %s", p);
		free(p);
		return NULL;
	}
	return p;
}

/* Look a user or group up in the stage's /etc/passwd or /etc/group. */
static int lookup_id(struct build *b, struct stage *s, const char *file, const char *name, long *id, long *gid,
		     struct err *e)
{
	char *end;
	long v = strtol(name, &end, 10);

	if (*name && !*end && v >= 0) {
		*id = v;
		if (gid)
			*gid = -1;
		return 0;
	}
	if (sync_rootfs(b, s, e) < 0)
		return -1;
	int rootfd = open(s->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
	int fd = rootfd < 0 ? -1 : oci_root_open(rootfd, file, O_RDONLY, 0);
	if (rootfd >= 0)
		close(rootfd);
	if (fd < 0)
		return err_set(e, ERR_INPUT, "unknown %s \"%s\" (no %s in the image)",
			       gid ? "user" : "group", name, file);
	FILE *f = fdopen(fd, "r");
	char line[1024];
	int ret = err_set(e, ERR_INPUT, "unknown %s \"%s\" (not in %s)", gid ? "user" : "group", name, file);
	while (f && fgets(line, sizeof(line), f)) {
		char *save, *n = strtok_r(line, ":", &save);
		strtok_r(NULL, ":", &save);
		char *u = strtok_r(NULL, ":", &save);
		char *g = strtok_r(NULL, ":", &save);
		if (n && u && strcmp(n, name) == 0) {
			*id = strtol(u, NULL, 10);
			if (gid)
				*gid = g ? strtol(g, NULL, 10) : 0;
			err_clear(e);
			ret = 0;
			break;
		}
	}
	if (f)
		fclose(f);
	else
		close(fd);
	return ret;
}

/* "user[:group]" -> uid, gid (the user's primary group when not given). */
static int resolve_user(struct build *b, struct stage *s, const char *spec, long *uid, long *gid, struct err *e)
{
	char u[256];
	const char *colon = strchr(spec, ':');
	long pg = -1;

	snprintf(u, sizeof(u), "%.*s", colon ? (int)(colon - spec) : (int)strlen(spec), spec);
	if (!*u) {
		*uid = 0;
	} else if (lookup_id(b, s, "etc/passwd", u, uid, &pg, e) < 0) {
		return -1;
	}
	if (colon)
		return lookup_id(b, s, "etc/group", colon + 1, gid, NULL, e);
	if (pg < 0) {
		/* numeric user: group from passwd when listed, else the same number (Docker: 0) */
		char num[32];
		long uu, g2 = -1;
		snprintf(num, sizeof(num), "%ld", *uid);
		(void)num;
		(void)uu;
		(void)g2;
		pg = 0;
	}
	*gid = pg;
	return 0;
}

/* ---------------------------------------------------------------- FROM */

static void sanitize_tag(const char *s, char out[72])
{
	char d[72];

	sha256_digest_str(s, strlen(s), d);
	snprintf(out, 72, "base-%.24s", d + 7);
}

static int load_image(struct build *b, struct stage *s, const struct oci_desc *top, struct err *e)
{
	struct buf mb = BUF_INIT, cb = BUF_INIT;
	struct oci_desc md = { 0 };
	struct oci_manifest m = { 0 };
	int ret = -1;

	if (oci_desc_copy(&md, top, e) < 0)
		return -1;
	if (oci_mt_is_index(md.media_type)) {
		struct oci_index idx = { 0 };
		if (oci_layout_read_blob(b->lay, md.digest, &mb, BUF_CAP_MANIFEST, e) < 0 ||
		    oci_index_parse(&idx, mb.data, mb.len, md.media_type, e) < 0) {
			oci_index_free(&idx);
			goto out;
		}
		oci_desc_free(&md);
		int r = oci_index_select(&idx, &b->plat, &md, e);
		oci_index_free(&idx);
		if (r < 0)
			goto out;
		buf_reset(&mb);
	}
	if (oci_layout_read_blob(b->lay, md.digest, &mb, BUF_CAP_MANIFEST, e) < 0 ||
	    oci_manifest_parse(&m, mb.data, mb.len, md.media_type, e) < 0 ||
	    oci_layout_read_blob(b->lay, m.config.digest, &cb, BUF_CAP_MANIFEST, e) < 0)
		goto out;
	s->config = cJSON_ParseWithLength(cb.data, cb.len);
	if (!cJSON_IsObject(s->config)) {
		err_set(e, ERR_INPUT, "image config %s is not a JSON object", m.config.digest);
		goto out;
	}
	for (size_t i = 0; i < m.n_layers; i++) {
		const char *mt = m.layers[i].media_type;
		/* Same bytes, OCI names: the output manifest is an OCI manifest. */
		if (strcmp(mt, MT_DOCKER_LAYER_GZIP) == 0)
			mt = MT_OCI_LAYER_GZIP;
		else if (strcmp(mt, MT_DOCKER_LAYER) == 0)
			mt = MT_OCI_LAYER;
		if (add_layer(s, mt, m.layers[i].digest, m.layers[i].size, NULL, e) < 0)
			goto out;
	}
	ret = 0;
out:
	oci_manifest_free(&m);
	oci_desc_free(&md);
	buf_free(&mb);
	buf_free(&cb);
	return ret;
}

static int pull_base(struct build *b, const char *ref, struct oci_desc *top, struct err *e)
{
	struct location src = { 0 }, dst = { 0 };
	struct copy_opts co;
	struct copy_result cr;
	char tag[72];
	int ret = -1;

	if (location_parse(&src, ref, e) < 0)
		return -1;
	if (src.kind == LOC_DIR) {
		location_free(&src);
		return err_set(e, ERR_INPUT, "dir: cannot be a base image");
	}
	sanitize_tag(src.text, tag);
	memset(&dst, 0, sizeof(dst));
	dst.kind = LOC_OCI;
	dst.path = xstrdup_e(b->lay_dir, e);
	dst.tag = xstrdup_e(tag, e);
	dst.text = xasprintf_e(e, "oci:%s:%s", b->lay_dir, tag);
	if (!dst.path || !dst.tag || !dst.text)
		goto out;
	memset(&co, 0, sizeof(co));
	co.src_reg = b->o->reg;
	co.dst_reg = b->o->reg;
	co.platform = &b->plat;
	log_info("pull %s", src.text);
	if (image_copy(&src, &dst, &co, &cr, e) < 0) {
		if (reg_not_found(e))
			e->code = ERR_INPUT; /* a base that does not exist is bad input */
		err_prefix(e, "base image %s", ref);
		goto out;
	}
	if (oci_layout_resolve(b->lay, tag, top, e) < 0)
		goto out;
	ret = 0;
out:
	location_free(&src);
	location_free(&dst);
	return ret;
}

static struct stage *find_stage(struct build *b, const char *name, size_t before)
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

static int exec_instr(struct build *b, struct stage *s, const struct df_instr *in, bool onbuild, struct err *e);

static int do_from(struct build *b, struct stage *s, const struct df_instr *in, struct err *e)
{
	char **w = NULL;
	size_t n = 0;
	int ret = -1;

	if (df_lex(in->rest, b->df.escape, lookup_global, b, true, &w, &n, e) < 0)
		return at(b, in, e);
	if (!(n == 1 || (n == 3 && strcasecmp(w[1], "as") == 0))) {
		err_set(e, ERR_INPUT, "expected \"FROM IMAGE [AS NAME]\"");
		goto fail;
	}
	const char *plat = df_flag(in, "platform");
	if (plat && *plat) {
		char *pv = df_expand_plain(plat, b->df.escape, lookup_global, b, e);
		struct oci_platform p = { 0 };
		if (!pv || oci_platform_parse(&p, pv, e) < 0) {
			free(pv);
			goto fail;
		}
		if (!oci_platform_match(&b->plat, &p))
			log_warn("%s:%d: --platform=%s differs from the target platform; using the target", b->df.path,
				 in->line, pv);
		oci_platform_free(&p);
		free(pv);
	}
	const char *img = w[0];
	struct stage *ps = find_stage(b, img, (size_t)s->index);
	char ts[32];
	s->rootfs = new_tmp(b, "rootfs", e);
	if (!s->rootfs)
		goto fail;
	time_rfc3339(b->created, ts);
	if (ps) {
		/* A stage built on another: copy its state. */
		s->config = cJSON_Duplicate(ps->config, 1);
		for (size_t i = 0; i < ps->n_layers; i++)
			if (add_layer(s, ps->layers[i].media_type, ps->layers[i].digest, ps->layers[i].size, NULL, e) < 0)
				goto fail;
		s->base_name = ps->base_name ? xstrdup_e(ps->base_name, e) : NULL;
		s->base_digest = ps->base_digest ? xstrdup_e(ps->base_digest, e) : NULL;
		memcpy(s->chain, ps->chain, sizeof(s->chain));
	} else if (strcasecmp(img, "scratch") == 0) {
		char *arch = oci_platform_string(&b->plat);
		s->config = cJSON_CreateObject();
		cJSON_AddStringToObject(s->config, "architecture", b->plat.architecture);
		cJSON_AddStringToObject(s->config, "os", b->plat.os);
		if (b->plat.variant)
			cJSON_AddStringToObject(s->config, "variant", b->plat.variant);
		cJSON_AddObjectToObject(s->config, "config");
		cJSON *rf = cJSON_AddObjectToObject(s->config, "rootfs");
		cJSON_AddStringToObject(rf, "type", "layers");
		cJSON_AddArrayToObject(rf, "diff_ids");
		cJSON_AddArrayToObject(s->config, "history");
		free(arch);
		memset(s->chain, '0', 64);
		s->chain[64] = 0;
	} else {
		struct oci_desc top = { 0 };
		if (pull_base(b, img, &top, e) < 0)
			goto fail;
		int r = load_image(b, s, &top, e);
		s->base_digest = xstrdup_e(top.digest, e);
		oci_desc_free(&top);
		if (r < 0)
			goto fail;
		struct location l = { 0 };
		if (location_parse(&l, img, e) == 0 && l.kind == LOC_REGISTRY) {
			struct oci_ref nr = l.ref;
			char *full = oci_ref_string(&nr);
			s->base_name = full;
		} else {
			s->base_name = xstrdup_e(img, e);
		}
		location_free(&l);
		memcpy(s->chain, s->base_digest + 7, 64);
		s->chain[64] = 0;
	}
	if (!s->config) {
		err_set(e, ERR_INTERNAL, "out of memory");
		goto fail;
	}
	cJSON_DeleteItemFromObjectCaseSensitive(s->config, "created");
	cJSON_AddStringToObject(s->config, "created", ts);
	/* ONBUILD triggers of the base run now, then are cleared. */
	cJSON *c = cfg_obj(s), *ob = cJSON_DetachItemFromObjectCaseSensitive(c, "OnBuild"), *it;
	if (!ps) {
		cJSON_ArrayForEach(it, ob)
		{
			struct dockerfile tdf;
			if (!cJSON_IsString(it))
				continue;
			if (df_parse(&tdf, "ONBUILD", it->valuestring, strlen(it->valuestring), e) < 0) {
				cJSON_Delete(ob);
				goto fail;
			}
			for (size_t i = 0; i < tdf.n; i++) {
				log_info("ONBUILD trigger: %s", tdf.ins[i].original);
				if (exec_instr(b, s, &tdf.ins[i], true, e) < 0) {
					df_free(&tdf);
					cJSON_Delete(ob);
					err_prefix(e, "%s:%d: ONBUILD trigger of %s", b->df.path, in->line, img);
					goto out;
				}
			}
			df_free(&tdf);
		}
		cJSON_Delete(ob);
	} else if (ob) {
		cJSON_AddItemToObject(c, "OnBuild", ob);
	}
	ret = 0;
	goto out;
fail:
	at(b, in, e);
out:
	df_strv_free(w, n);
	return ret;
}

/* ---------------------------------------------------------- COPY / ADD */

/* Lexically clean a relative path; false when it climbs out of its root. */
static bool clean_rel(const char *in, char *out, size_t outsz)
{
	size_t o = 0;
	const char *s = in;

	while (*s) {
		while (*s == '/')
			s++;
		size_t l = strcspn(s, "/");
		if (l == 0)
			break;
		if (l == 1 && s[0] == '.') {
		} else if (l == 2 && s[0] == '.' && s[1] == '.') {
			if (o == 0)
				return false;
			while (o > 0 && out[o - 1] != '/')
				o--;
			if (o > 0)
				o--;
		} else {
			if (o + l + 2 > outsz)
				return false;
			if (o)
				out[o++] = '/';
			memcpy(out + o, s, l);
			o += l;
		}
		s += l;
	}
	out[o] = 0;
	return true;
}

/* Real path of rel resolved inside root (symlinks cannot leave it). */
static char *resolve_in(const char *root, const char *rel, struct err *e)
{
	int rfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	int fd;
	char pp[64], real[PATH_MAX];
	ssize_t n;

	if (rfd < 0)
		return (void)err_errno(e, ERR_INTERNAL, "open %s", root), NULL;
	fd = oci_root_open(rfd, rel, O_PATH, 0);
	close(rfd);
	if (fd < 0)
		return (void)err_set(e, ERR_INPUT, "\"%s\": not found", rel), NULL;
	snprintf(pp, sizeof(pp), "/proc/self/fd/%d", fd);
	n = readlink(pp, real, sizeof(real) - 1);
	close(fd);
	if (n < 0)
		return (void)err_errno(e, ERR_INTERNAL, "readlink"), NULL;
	real[n] = 0;
	return xstrdup_e(real, e);
}

static bool has_glob(const char *s)
{
	return strpbrk(s, "*?[") != NULL;
}

/* Expand a glob pattern (relative to root) into matching relative paths. */
static int glob_in(const char *root, const char *pat, char ***out, size_t *n, struct err *e)
{
	char **cur = NULL, **next = NULL;
	size_t nc = 0, nn = 0;
	const char *s = pat;

	if (df_strv_free(NULL, 0), 1) {
		cur = calloc(2, sizeof(char *));
		if (!cur)
			return err_set(e, ERR_INTERNAL, "out of memory");
		cur[0] = strdup("");
		nc = 1;
	}
	while (*s) {
		size_t l = strcspn(s, "/");
		char comp[NAME_MAX + 1];
		snprintf(comp, sizeof(comp), "%.*s", (int)l, s);
		s += l;
		while (*s == '/')
			s++;
		if (!l)
			continue;
		next = NULL;
		nn = 0;
		for (size_t i = 0; i < nc; i++) {
			if (!has_glob(comp)) {
				char *p = xasprintf_e(e, "%s%s%s", cur[i], *cur[i] ? "/" : "", comp);
				char **t = realloc(next, (nn + 2) * sizeof(char *));
				if (!p || !t) {
					free(p);
					free(t);
					df_strv_free(cur, nc);
					return err_set(e, ERR_INTERNAL, "out of memory");
				}
				next = t;
				next[nn++] = p;
				continue;
			}
			char *real = resolve_in(root, *cur[i] ? cur[i] : ".", e);
			DIR *d = real ? opendir(real) : NULL;
			struct dirent *de;
			free(real);
			err_clear(e);
			while (d && (de = readdir(d))) {
				if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
					continue;
				if (fnmatch(comp, de->d_name, 0) != 0)
					continue;
				char *p = xasprintf_e(e, "%s%s%s", cur[i], *cur[i] ? "/" : "", de->d_name);
				char **t = realloc(next, (nn + 2) * sizeof(char *));
				if (!p || !t) {
					free(p);
					free(t);
					closedir(d);
					df_strv_free(cur, nc);
					return err_set(e, ERR_INTERNAL, "out of memory");
				}
				next = t;
				next[nn++] = p;
			}
			if (d)
				closedir(d);
		}
		df_strv_free(cur, nc);
		cur = next;
		nc = nn;
	}
	/* Sorted for deterministic layers. */
	for (size_t i = 1; i < nc; i++)
		for (size_t j = i; j > 0 && strcmp(cur[j - 1], cur[j]) > 0; j--) {
			char *t = cur[j];
			cur[j] = cur[j - 1];
			cur[j - 1] = t;
		}
	*out = cur;
	*n = nc;
	return 0;
}

struct copy_ctx {
	struct build *b;
	struct stage *s;
	const char *src_root;  /* context dir or a stage's rootfs */
	bool from_context;
	long uid, gid;         /* -1 = keep default 0 */
	long chmod_mode;       /* -1 = keep */
	char *layer;           /* layer directory */
	struct sha256 h;       /* content hash for the cache key */
	bool hash_only;
};

static void hash_str(struct copy_ctx *c, const char *s)
{
	sha256_update(&c->h, s, strlen(s) + 1);
}

static int copy_meta(struct copy_ctx *c, const char *dst, const struct stat *st, bool is_link)
{
	int rfd, pfd;
	char parent[PATH_MAX];
	const char *sl = strrchr(dst, '/');
	uid_t u = c->uid >= 0 ? (uid_t)c->uid : 0;
	gid_t g = c->gid >= 0 ? (gid_t)c->gid : 0;

	(void)rfd;
	snprintf(parent, sizeof(parent), "%s/%.*s", c->layer, sl ? (int)(sl - dst) : 0, dst);
	pfd = open(parent, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (pfd < 0)
		return -1;
	const char *base = sl ? sl + 1 : dst;
	if (!c->b->rootless)
		fchownat(pfd, base, u, g, AT_SYMLINK_NOFOLLOW);
	if (!is_link) {
		mode_t m = st->st_mode & 07777;
		if (c->chmod_mode >= 0) {
			m = (mode_t)c->chmod_mode;
			/* Directories stay searchable where readable (chmod's "X"). */
			if (S_ISDIR(st->st_mode))
				m |= (m & 0444) >> 2;
		}
		fchmodat(pfd, base, m, 0);
	}
	struct timespec ts[2] = { st->st_mtim, st->st_mtim };
	utimensat(pfd, base, ts, AT_SYMLINK_NOFOLLOW);
	close(pfd);
	return 0;
}

/* Make the parent directories of dst in the layer, copying metadata from
 * the stage's root file system when they exist there. */
static int make_parents(struct copy_ctx *c, const char *dst, struct err *e)
{
	char pre[PATH_MAX];
	size_t pl = 0;
	const char *s = dst;

	for (;;) {
		size_t l = strcspn(s, "/");
		if (!s[l])
			return 0; /* the last component is the item itself */
		if (pl)
			pre[pl++] = '/';
		memcpy(pre + pl, s, l);
		pl += l;
		pre[pl] = 0;
		s += l + 1;
		char lp[PATH_MAX * 2];
		snprintf(lp, sizeof(lp), "%s/%s", c->layer, pre);
		struct stat st;
		if (lstat(lp, &st) == 0)
			continue;
		if (mkdir(lp, 0755) < 0)
			return err_errno(e, ERR_INTERNAL, "mkdir %s", lp);
		char *real = resolve_in(c->s->rootfs, pre, e);
		err_clear(e);
		struct stat rs;
		if (real && stat(real, &rs) == 0 && S_ISDIR(rs.st_mode)) {
			if (!c->b->rootless)
				lchown(lp, rs.st_uid, rs.st_gid);
			chmod(lp, rs.st_mode & 07777);
			struct timespec ts[2] = { rs.st_mtim, rs.st_mtim };
			utimensat(AT_FDCWD, lp, ts, AT_SYMLINK_NOFOLLOW);
		} else if (!c->b->rootless && c->uid >= 0) {
			lchown(lp, (uid_t)c->uid, (gid_t)(c->gid >= 0 ? c->gid : 0));
		}
		free(real);
	}
}

static int copy_file(const char *src, const char *dst, struct err *e)
{
	int in = open(src, O_RDONLY | O_NOFOLLOW | O_CLOEXEC), out = -1, ret = -1;
	struct stat st;

	if (in < 0 || fstat(in, &st) < 0) {
		err_errno(e, ERR_INPUT, "open %s", src);
		goto out;
	}
	out = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (out < 0) {
		err_errno(e, ERR_INTERNAL, "create %s", dst);
		goto out;
	}
	off_t left = st.st_size;
	while (left > 0) {
		ssize_t n = copy_file_range(in, NULL, out, NULL, (size_t)left, 0);
		if (n <= 0) {
			/* Fallback for file systems without copy_file_range. */
			char buf[65536];
			n = read(in, buf, sizeof(buf));
			if (n <= 0 || write(out, buf, (size_t)n) != n) {
				err_errno(e, ERR_INTERNAL, "copy %s", src);
				goto out;
			}
		}
		left -= n;
	}
	ret = 0;
out:
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
	return ret;
}

/* Content digests of context files are remembered in the cache directory
 * (one file, DIR/filehash.txt, "METAKEY DIGEST" lines), keyed by a hash of
 * path, inode, size, mtime and change time (a write or chmod changes the
 * latter), so a warm build does not read every source file again. */
#define MEMO_MAX 200000

struct memo_ent {
	char key[65];
	char dig[72];
	bool used;
};

static size_t memo_slot(const struct memo *m, const char *key)
{
	size_t h = 0;

	/* The key is already a hash: its first hex digits index the table. */
	for (int i = 0; i < 15; i++)
		h = (h << 4) | (size_t)(isdigit((unsigned char)key[i]) ? key[i] - '0' : key[i] - 'a' + 10);
	size_t j = h & (m->cap - 1);

	while (m->v[j].key[0] && strcmp(m->v[j].key, key) != 0)
		j = (j + 1) & (m->cap - 1);
	return j;
}

static int memo_put(struct memo *m, const char *key, const char *dig, bool used)
{
	if ((m->n + 1) * 2 > m->cap) {
		size_t nc = m->cap ? m->cap * 2 : 1024;
		struct memo_ent *old = m->v;
		size_t oc = m->cap;
		m->v = calloc(nc, sizeof(*m->v));
		if (!m->v) {
			m->v = old;
			return -1;
		}
		m->cap = nc;
		m->n = 0;
		for (size_t i = 0; i < oc; i++)
			if (old[i].key[0])
				memo_put(m, old[i].key, old[i].dig, old[i].used);
		free(old);
	}
	size_t j = memo_slot(m, key);
	if (!m->v[j].key[0])
		m->n++;
	snprintf(m->v[j].key, sizeof(m->v[j].key), "%s", key);
	snprintf(m->v[j].dig, sizeof(m->v[j].dig), "%s", dig);
	m->v[j].used = m->v[j].used || used;
	return 0;
}

static void memo_load(struct build *b, struct memo *m)
{
	struct buf t = BUF_INIT;
	struct err e = ERR_INIT;
	char *p = xasprintf_e(&e, "%s/filehash.txt", b->cache_dir);

	m->loaded = true;
	if (p && fs_exists(p) && fs_read_file(p, &t, 64u << 20, &e) == 0) {
		for (char *l = t.data, *nl; l && *l; l = nl) {
			nl = strchr(l, '\n');
			if (nl)
				*nl++ = 0;
			if (strlen(l) == 64 + 1 + 71 && l[64] == ' ') {
				l[64] = 0;
				if (oci_digest_valid(l + 65))
					memo_put(m, l, l + 65, false);
			}
		}
	}
	buf_free(&t);
	free(p);
}

static void memo_save(struct build *b, struct memo *m)
{
	struct fs_atomic a;
	struct err e = ERR_INIT;
	char *p;

	if (!m->dirty || !b->cache_dir)
		return;
	p = xasprintf_e(&e, "%s/filehash.txt", b->cache_dir);
	if (!p || fs_atomic_open(&a, p, &e) < 0) {
		free(p);
		return;
	}
	for (size_t i = 0; i < m->cap; i++)
		if (m->v[i].key[0] && (m->n <= MEMO_MAX || m->v[i].used))
			fprintf(a.f, "%s %s\n", m->v[i].key, m->v[i].dig);
	if (fs_atomic_commit(&a, 0644, &e) < 0)
		log_warn("cache: %s", e.msg);
	free(p);
}

static bool memo_key(const char *src, char key[65])
{
	struct stat st;
	char buf[PATH_MAX + 160], d[72];
	int n;

	if (lstat(src, &st) < 0)
		return false;
	n = snprintf(buf, sizeof(buf), "%s\n%lu:%lu:%lld:%lld.%ld:%lld.%ld", src, (unsigned long)st.st_dev,
		     (unsigned long)st.st_ino, (long long)st.st_size, (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec,
		     (long long)st.st_ctim.tv_sec, st.st_ctim.tv_nsec);
	if (n < 0 || n >= (int)sizeof(buf))
		return false;
	sha256_digest_str(buf, (size_t)n, d);
	memcpy(key, d + 7, 65);
	return true;
}

static int hash_file(struct copy_ctx *c, const char *src, struct err *e)
{
	struct build *b = c->b;
	struct memo *m = &b->memo;
	char d[72], key[65];
	uint64_t sz;
	bool have_key = b->cache_dir && memo_key(src, key);

	if (have_key) {
		if (!m->loaded)
			memo_load(b, m);
		if (m->cap) {
			size_t j = memo_slot(m, key);
			if (m->v[j].key[0]) {
				m->v[j].used = true;
				hash_str(c, m->v[j].dig);
				return 0;
			}
		}
	}
	if (sha256_file(src, d, &sz, e) < 0)
		return -1;
	hash_str(c, d);
	if (have_key && memo_put(m, key, d, true) == 0)
		m->dirty = true;
	return 0;
}

/* Copy src (host path, already resolved) to dst (in the layer). */
static int copy_tree(struct copy_ctx *c, const char *src, const char *dst, const char *ctx_rel, struct err *e)
{
	struct stat st;
	char lp[PATH_MAX * 2];

	if (lstat(src, &st) < 0)
		return err_errno(e, ERR_INPUT, "%s", src);
	bool ignored = c->from_context && ctx_rel && *ctx_rel && ignore_match(c->b->ig, ctx_rel);
	snprintf(lp, sizeof(lp), "%s/%s", c->layer, dst);
	if (!ignored) {
		char meta[128];
		snprintf(meta, sizeof(meta), "%o:%ld:%ld:%ld", (unsigned)st.st_mode, c->uid, c->gid, c->chmod_mode);
		hash_str(c, dst);
		hash_str(c, meta);
	}
	if (S_ISDIR(st.st_mode)) {
		if (!ignored && !c->hash_only) {
			if (make_parents(c, dst, e) < 0)
				return -1;
			if (mkdir(lp, 0755) < 0 && errno != EEXIST)
				return err_errno(e, ERR_INTERNAL, "mkdir %s", lp);
		}
		DIR *d = opendir(src);
		struct dirent *de;
		char **names = NULL;
		size_t n = 0;
		if (!d)
			return err_errno(e, ERR_INPUT, "open %s", src);
		while ((de = readdir(d))) {
			if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
				continue;
			char **t = realloc(names, (n + 1) * sizeof(char *));
			if (!t)
				break;
			names = t;
			names[n++] = strdup(de->d_name);
		}
		closedir(d);
		for (size_t i = 1; i < n; i++)
			for (size_t j = i; j > 0 && strcmp(names[j - 1], names[j]) > 0; j--) {
				char *t = names[j];
				names[j] = names[j - 1];
				names[j - 1] = t;
			}
		int r = 0;
		for (size_t i = 0; i < n && r == 0; i++) {
			char cs[PATH_MAX], cd[PATH_MAX], cr[PATH_MAX];
			snprintf(cs, sizeof(cs), "%s/%s", src, names[i]);
			snprintf(cd, sizeof(cd), "%s%s%s", dst, *dst ? "/" : "", names[i]);
			snprintf(cr, sizeof(cr), "%s%s%s", ctx_rel ? ctx_rel : "", ctx_rel && *ctx_rel ? "/" : "",
				 names[i]);
			r = copy_tree(c, cs, cd, ctx_rel ? cr : NULL, e);
		}
		for (size_t i = 0; i < n; i++)
			free(names[i]);
		free(names);
		if (r < 0)
			return -1;
		if (!ignored && !c->hash_only && *dst)
			copy_meta(c, dst, &st, false);
		return 0;
	}
	if (ignored)
		return 0;
	if (S_ISLNK(st.st_mode)) {
		char t[PATH_MAX];
		ssize_t tl = readlink(src, t, sizeof(t) - 1);
		if (tl < 0)
			return err_errno(e, ERR_INPUT, "readlink %s", src);
		t[tl] = 0;
		hash_str(c, t);
		if (c->hash_only)
			return 0;
		if (make_parents(c, dst, e) < 0)
			return -1;
		unlink(lp);
		if (symlink(t, lp) < 0)
			return err_errno(e, ERR_INTERNAL, "symlink %s", lp);
		return copy_meta(c, dst, &st, true);
	}
	if (!S_ISREG(st.st_mode))
		return 0; /* devices, sockets and fifos are not copied */
	if (c->hash_only)
		return hash_file(c, src, e);
	if (make_parents(c, dst, e) < 0 || copy_file(src, lp, e) < 0)
		return -1;
	return copy_meta(c, dst, &st, false);
}

static size_t curl_write_cb(char *p, size_t sz, size_t n, void *ctx)
{
	return fwrite(p, sz, n, ctx);
}

static int download(const char *url, const char *dst, const char *checksum, struct err *e)
{
	CURL *h = curl_easy_init();
	FILE *f = fopen(dst, "wbx");
	char eb[CURL_ERROR_SIZE] = "";
	long code = 0;
	int ret = -1;

	if (!h || !f) {
		err_errno(e, ERR_INTERNAL, "download %s", url);
		goto out;
	}
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, curl_write_cb);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, f);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, eb);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	CURLcode cc = curl_easy_perform(h);
	if (cc != CURLE_OK) {
		err_curl(e, cc, eb, "download %s", url);
		goto out;
	}
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
	if (code >= 400) {
		err_set(e, ERR_NETWORK, "download %s: HTTP %ld", url, code);
		goto out;
	}
	fclose(f);
	f = NULL;
	if (checksum && oci_digest_verify_file(checksum, dst, NULL, e) < 0) {
		err_prefix(e, "ADD %s --checksum", url);
		goto out;
	}
	ret = 0;
out:
	if (f)
		fclose(f);
	if (h)
		curl_easy_cleanup(h);
	return ret;
}

static bool is_archive(const char *path)
{
	struct archive *a = archive_read_new();
	struct archive_entry *ae;
	bool ok = false;

	archive_read_support_filter_all(a);
	archive_read_support_format_tar(a);
	if (archive_read_open_filename(a, path, 65536) == ARCHIVE_OK && archive_read_next_header(a, &ae) == ARCHIVE_OK)
		ok = true;
	archive_read_free(a);
	return ok;
}

static int write_layer(struct build *b, struct stage *s, const char *dir, bool overlay, const char *created_by,
		       struct err *e)
{
	struct layer_opts lo = { .comp = b->o->comp,
				 .clamp_mtime = b->o->source_date_epoch,
				 .overlay_whiteouts = overlay,
				 .map_self_root = b->rootless,
				 .threads = (int)sysconf(_SC_NPROCESSORS_ONLN) };
	struct layer_result lr;

	if (oci_layer_write_dir(b->lay, dir, &lo, &lr, e) < 0)
		return -1;
	if (add_layer(s, lr.media_type, lr.digest, lr.size, lr.diff_id, e) < 0)
		return -1;
	add_history(b, s, created_by, false);
	cache_put(b, s, &lr);
	return 0;
}

static const char *workdir_of(struct stage *s)
{
	cJSON *w = cJSON_GetObjectItemCaseSensitive(cfg_obj(s), "WorkingDir");

	return cJSON_IsString(w) && *w->valuestring ? w->valuestring : "/";
}

static int do_copy(struct build *b, struct stage *s, const struct df_instr *in, bool add, struct err *e)
{
	char **w = NULL;
	size_t n = 0;
	struct copy_ctx c;
	struct stage *from = NULL;
	char *from_root = NULL, *dst_raw = NULL;
	int ret = -1;
	char created_by[8192];

	memset(&c, 0, sizeof(c));
	c.b = b;
	c.s = s;
	c.uid = c.gid = c.chmod_mode = -1;
	if (in->json) {
		w = calloc(in->n_args + 1, sizeof(char *));
		if (!w)
			return err_set(e, ERR_INTERNAL, "out of memory");
		for (size_t i = 0; i < in->n_args; i++) {
			char **t;
			size_t tn;
			if (df_lex(in->args[i], b->df.escape, lookup_stage, b, false, &t, &tn, e) < 0)
				goto fail;
			w[n++] = t[0];
			free(t);
		}
	} else if (df_lex(in->rest, b->df.escape, lookup_stage, b, true, &w, &n, e) < 0) {
		goto fail;
	}
	if (n < 2) {
		err_set(e, ERR_INPUT, "requires at least two arguments (SRC... DEST)");
		goto fail;
	}
	const char *ff = df_flag(in, "from");
	const char *chown = df_flag(in, "chown");
	const char *chmod_s = df_flag(in, "chmod");
	const char *checksum = df_flag(in, "checksum");
	for (size_t i = 0; i < in->n_flags; i++) {
		static const char *const okf[] = { "from", "chown", "chmod", "link", "checksum", "keep-git-dir",
						   "parents", "exclude" };
		bool ok = false;
		for (size_t j = 0; j < ARRAY_SIZE(okf); j++)
			ok = ok || strncmp(in->flags[i], okf[j], strlen(okf[j])) == 0;
		if (!ok) {
			err_set(e, ERR_INPUT, "unknown flag --%s", in->flags[i]);
			goto fail;
		}
	}
	if (chmod_s) {
		char *end;
		c.chmod_mode = strtol(chmod_s, &end, 8);
		if (!*chmod_s || *end || c.chmod_mode < 0 || c.chmod_mode > 07777) {
			err_set(e, ERR_INPUT, "--chmod=%s: expected an octal mode", chmod_s);
			goto fail;
		}
	}
	if (chown && *chown) {
		char *cv = df_expand_plain(chown, b->df.escape, lookup_stage, b, e);
		int r = cv ? resolve_user(b, s, cv, &c.uid, &c.gid, e) : -1;
		if (r == 0 && !strchr(cv, ':'))
			c.gid = c.gid < 0 ? c.uid : c.gid;
		free(cv);
		if (r < 0)
			goto fail;
	}
	if (ff && *ff) {
		from = find_stage(b, ff, (size_t)s->index);
		if (!from && strspn(ff, "0123456789") == strlen(ff)) {
			err_set(e, ERR_INPUT, "--from=%s: no such stage", ff);
			goto fail;
		}
		if (!from && find_stage(b, ff, b->n_st)) {
			err_set(e, ERR_INPUT, "--from=%s: stage is defined later", ff);
			goto fail;
		}
		if (from) {
			if (sync_rootfs(b, from, e) < 0)
				goto fail;
			c.src_root = from->rootfs;
		} else {
			/* An image: pull it into its own scratch stage state. */
			struct stage tmp;
			struct oci_desc top = { 0 };
			memset(&tmp, 0, sizeof(tmp));
			if (pull_base(b, ff, &top, e) < 0)
				goto fail;
			int r = load_image(b, &tmp, &top, e);
			oci_desc_free(&top);
			tmp.rootfs = r == 0 ? new_tmp(b, "from", e) : NULL;
			if (tmp.rootfs)
				r = sync_rootfs(b, &tmp, e);
			else
				r = -1;
			from_root = tmp.rootfs;
			cJSON_Delete(tmp.config);
			for (size_t i = 0; i < tmp.n_layers; i++)
				oci_desc_free(&tmp.layers[i]);
			free(tmp.layers);
			if (r < 0)
				goto fail;
			c.src_root = from_root;
		}
	} else {
		c.src_root = b->ctx_real;
		c.from_context = true;
	}
	/* Destination: relative to WORKDIR; a trailing '/' or several sources make it a directory. */
	dst_raw = w[n - 1];
	char dst[PATH_MAX], tmp[PATH_MAX * 2];
	const char *wd = workdir_of(s);
	snprintf(tmp, sizeof(tmp), "%s/%s", dst_raw[0] == '/' ? "" : wd, dst_raw);
	if (!clean_rel(tmp, dst, sizeof(dst))) {
		err_set(e, ERR_INPUT, "bad destination \"%s\"", dst_raw);
		goto fail;
	}
	size_t dl = strlen(dst_raw);
	bool dst_dir = (dl && (dst_raw[dl - 1] == '/' || strcmp(dst_raw, ".") == 0 ||
				(dl >= 2 && strcmp(dst_raw + dl - 2, "/.") == 0))) || n > 2;

	if (sha256_init(&c.h, e) < 0)
		goto fail;
	/* Pass 1: hash what would be copied (the cache key), pass 2: copy on a miss. */
	snprintf(created_by, sizeof(created_by), "%s", in->original);
	/* Without a cache nobody needs the content hash: skip that read. */
	for (int pass = b->cache_dir ? 0 : 1; pass < 2; pass++) {
		c.hash_only = pass == 0;
		if (pass == 1) {
			char hex[65];
			sha256_final_hex(&c.h, hex);
			chain_step(s, in->original, hex);
			b->step++;
			if (cache_get(b, s, created_by)) {
				b->hits++;
				log_step(b, in, "cache hit");
				ret = 0;
				goto out;
			}
			log_step(b, in, b->cache_dir ? "cache miss" : NULL);
			if (sync_rootfs(b, s, e) < 0)
				goto fail;
			c.layer = new_tmp(b, "layer", e);
			if (!c.layer)
				goto fail;
		}
		for (size_t i = 0; i + 1 < n; i++) {
			const char *src = w[i];
			/* Heredoc source. */
			const struct df_heredoc *hd = NULL;
			for (size_t h = 0; h < in->n_heredocs; h++)
				if (str_starts(src, "<<") && strstr(src, in->heredocs[h].name))
					hd = &in->heredocs[h];
			if (hd) {
				char *body = hd->expand ? df_expand_plain(hd->content, b->df.escape, lookup_stage, b, e)
							: xstrdup_e(hd->content, e);
				if (!body)
					goto fail;
				char d2[PATH_MAX];
				snprintf(d2, sizeof(d2), "%s%s%s", dst, dst_dir ? "/" : "", dst_dir ? hd->name : "");
				hash_str(&c, d2);
				hash_str(&c, body);
				if (!c.hash_only) {
					char lp[PATH_MAX * 2];
					snprintf(lp, sizeof(lp), "%s/%s", c.layer, d2);
					int r = make_parents(&c, d2, e) < 0 ||
						fs_write_atomic(lp, body, strlen(body), 0644, e) < 0;
					struct stat st = { .st_mode = S_IFREG | 0644 };
					st.st_mtim.tv_sec = b->created;
					if (!r)
						copy_meta(&c, d2, &st, false);
					free(body);
					if (r)
						goto fail;
				} else {
					free(body);
				}
				continue;
			}
			if (add && (str_starts(src, "http://") || str_starts(src, "https://"))) {
				const char *bn = strrchr(src, '/');
				bn = bn && bn[1] ? bn + 1 : "index.html";
				char d2[PATH_MAX];
				snprintf(d2, sizeof(d2), "%s%s%s", dst, dst_dir ? "/" : "", dst_dir ? bn : "");
				hash_str(&c, src);
				hash_str(&c, checksum ? checksum : "");
				if (!c.hash_only) {
					char lp[PATH_MAX * 2];
					if (make_parents(&c, d2, e) < 0)
						goto fail;
					snprintf(lp, sizeof(lp), "%s/%s", c.layer, d2);
					if (download(src, lp, checksum, e) < 0)
						goto fail;
					struct stat st = { .st_mode = S_IFREG | 0600 };
					st.st_mtim.tv_sec = b->created;
					copy_meta(&c, d2, &st, false);
				}
				continue;
			}
			char rel[PATH_MAX];
			if (!clean_rel(src, rel, sizeof(rel))) {
				err_set(e, ERR_INPUT, "\"%s\": path outside the build context", src);
				goto fail;
			}
			char **matches = NULL;
			size_t nm = 0;
			if (has_glob(rel)) {
				if (glob_in(c.src_root, rel, &matches, &nm, e) < 0)
					goto fail;
				if (nm == 0) {
					err_set(e, ERR_INPUT, "\"%s\": no source files were specified", src);
					goto fail;
				}
				if (nm > 1)
					dst_dir = true;
			} else {
				matches = calloc(2, sizeof(char *));
				if (!matches || !(matches[0] = strdup(rel))) {
					free(matches);
					err_set(e, ERR_INTERNAL, "out of memory");
					goto fail;
				}
				nm = 1;
			}
			for (size_t m = 0; m < nm; m++) {
				char *real = resolve_in(c.src_root, matches[m], e);
				struct stat st;
				if (!real) {
					err_prefix(e, "%s", from || from_root ? "source" : "build context");
					df_strv_free(matches, nm);
					goto fail;
				}
				const char *cr = "";
				if (c.from_context) {
					size_t cl = strlen(b->ctx_real);
					cr = strncmp(real, b->ctx_real, cl) == 0 ? real + cl : "";
					while (*cr == '/')
						cr++;
					if (*cr && ignore_match(b->ig, cr) && has_glob(rel) == false) {
						struct stat ds;
						if (stat(real, &ds) == 0 && !S_ISDIR(ds.st_mode)) {
							err_set(e, ERR_INPUT, "\"%s\": excluded by .dockerignore", src);
							free(real);
							df_strv_free(matches, nm);
							goto fail;
						}
					}
				}
				int r;
				if (stat(real, &st) == 0 && S_ISDIR(st.st_mode)) {
					/* A directory: its contents go into dst. */
					r = copy_tree(&c, real, dst, c.from_context ? cr : NULL, e);
				} else if (add && !from && !from_root && is_archive(real)) {
					hash_str(&c, dst);
					r = c.hash_only ? hash_file(&c, real, e) : 0;
					if (!c.hash_only) {
						char lp[PATH_MAX * 2];
						snprintf(lp, sizeof(lp), "%s/%s", c.layer, dst);
						struct unpack_opts uo = { .set_owner = !b->rootless };
						r = make_parents(&c, dst[0] ? dst : ".", e);
						if (r == 0 && fs_mkdir_p(lp, 0755, e) < 0)
							r = -1;
						if (r == 0)
							r = oci_unpack_layer(real, lp, &uo, e);
					}
				} else {
					const char *bn = strrchr(matches[m], '/');
					bn = bn ? bn + 1 : matches[m];
					char d2[PATH_MAX];
					bool into = dst_dir;
					if (!into && !c.hash_only) {
						char *rd = resolve_in(s->rootfs, dst, e);
						struct stat ds;
						err_clear(e);
						into = rd && stat(rd, &ds) == 0 && S_ISDIR(ds.st_mode);
						free(rd);
					}
					snprintf(d2, sizeof(d2), "%s%s%s", dst, into ? "/" : "", into ? bn : "");
					r = copy_tree(&c, real, d2, c.from_context ? cr : NULL, e);
				}
				free(real);
				if (r < 0) {
					df_strv_free(matches, nm);
					goto fail;
				}
			}
			df_strv_free(matches, nm);
		}
	}
	/* The destination directory itself exists even when the sources were empty. */
	if (dst_dir) {
		char lp[PATH_MAX * 2];
		snprintf(lp, sizeof(lp), "%s/%s/x", c.layer, dst);
		char d2[PATH_MAX];
		snprintf(d2, sizeof(d2), "%s/x", dst);
		if (make_parents(&c, d2, e) < 0)
			goto fail;
	}
	if (write_layer(b, s, c.layer, false, created_by, e) < 0)
		goto fail;
	ret = 0;
	goto out;
fail:
	at(b, in, e);
out:
	sha256_free(&c.h);
	if (c.layer) {
		struct err e2 = ERR_INIT;
		fs_rm_rf(c.layer, &e2);
		free(c.layer);
	}
	if (from_root) {
		struct err e2 = ERR_INIT;
		fs_rm_rf(from_root, &e2);
		free(from_root);
	}
	df_strv_free(w, n);
	return ret;
}

/* ----------------------------------------------------------------- RUN */

static int parse_mount(struct build *b, const char *spec, struct sb_mount *m, struct err *e)
{
	char buf[2048];
	char *save, *tok;
	const char *type = "bind", *id = NULL, *target = NULL, *src = NULL;
	bool required = false;

	snprintf(buf, sizeof(buf), "%s", spec);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(tok, '=');
		char *v = eq ? eq + 1 : (char *)"true";
		if (eq)
			*eq = 0;
		if (strcmp(tok, "type") == 0)
			type = v;
		else if (strcmp(tok, "id") == 0)
			id = v;
		else if (strcmp(tok, "target") == 0 || strcmp(tok, "dst") == 0 || strcmp(tok, "destination") == 0)
			target = v;
		else if (strcmp(tok, "source") == 0 || strcmp(tok, "src") == 0)
			src = v;
		else if (strcmp(tok, "required") == 0)
			required = strcmp(v, "true") == 0;
	}
	memset(m, 0, sizeof(*m));
	if (strcmp(type, "secret") == 0) {
		const char *sid = id ? id : (target ? strrchr(target, '/') + 1 : NULL);
		const char *path = NULL;
		if (!sid)
			return err_set(e, ERR_INPUT, "--mount=type=secret needs id= or target=");
		for (size_t i = 0; i < b->o->n_secrets; i++) {
			char sb[2048], *sv, *t, *sidv = NULL, *srcv = NULL;
			snprintf(sb, sizeof(sb), "%s", b->o->secrets[i]);
			for (t = strtok_r(sb, ",", &sv); t; t = strtok_r(NULL, ",", &sv)) {
				if (str_starts(t, "id="))
					sidv = t + 3;
				else if (str_starts(t, "src=") || str_starts(t, "source="))
					srcv = strchr(t, '=') + 1;
			}
			if (sidv && strcmp(sidv, sid) == 0 && srcv) {
				path = srcv;
				m->src = realpath(path, NULL);
				if (!m->src)
					return err_errno(e, ERR_INPUT, "secret %s: %s", sid, path);
			}
		}
		if (!m->src) {
			if (required)
				return err_set(e, ERR_INPUT, "secret \"%s\" is required but not given (--secret id=%s,src=FILE)",
					       sid, sid);
			return 1; /* an optional secret that is absent: no mount */
		}
		m->dst = target ? strdup(target) : xasprintf_e(e, "/run/secrets/%s", sid);
		m->readonly = true;
		m->is_file = true;
		return m->dst ? 0 : -1;
	}
	if (strcmp(type, "cache") == 0) {
		if (!target)
			return err_set(e, ERR_INPUT, "--mount=type=cache needs target=");
		char key[72];
		sha256_digest_str(id ? id : target, strlen(id ? id : target), key);
		m->src = b->cache_dir ? xasprintf_e(e, "%s/mounts/%.16s", b->cache_dir, key + 7)
					 : xasprintf_e(e, "%s/mounts/%.16s", b->workdir, key + 7);
		if (!m->src || fs_mkdir_p(m->src, 0755, e) < 0)
			return -1;
		m->dst = strdup(target);
		return m->dst ? 0 : -1;
	}
	if (strcmp(type, "tmpfs") == 0 || strcmp(type, "bind") == 0) {
		(void)src;
		return err_set(e, ERR_INPUT, "--mount=type=%s is not supported (secret and cache are)", type);
	}
	return err_set(e, ERR_INPUT, "unknown mount type \"%s\"", type);
}

static char **shell_of(struct stage *s, size_t *n)
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

static int do_run(struct build *b, struct stage *s, const struct df_instr *in, struct err *e)
{
	struct sb_mount mounts[16];
	size_t nm = 0;
	char **argv = NULL, **envp = NULL;
	size_t na = 0;
	char *upper = NULL, *work = NULL, *merged = NULL, *ovl = NULL;
	bool net_none = b->o->network && strcmp(b->o->network, "none") == 0;
	int ret = -1, status = 0;
	struct buf key = BUF_INIT, cmdtext = BUF_INIT;

	memset(mounts, 0, sizeof(mounts));
	for (size_t i = 0; i < in->n_flags; i++) {
		const char *f = in->flags[i];
		if (str_starts(f, "mount=")) {
			if (nm == ARRAY_SIZE(mounts)) {
				err_set(e, ERR_INPUT, "too many --mount flags");
				goto fail;
			}
			int r = parse_mount(b, f + 6, &mounts[nm], e);
			if (r < 0)
				goto fail;
			if (r == 0)
				nm++;
		} else if (str_starts(f, "network=")) {
			if (strcmp(f + 8, "none") == 0)
				net_none = true;
			else if (strcmp(f + 8, "host") == 0 || strcmp(f + 8, "default") == 0)
				net_none = b->o->network && strcmp(b->o->network, "none") == 0;
			else {
				err_set(e, ERR_INPUT, "--network=%s: expected none, host or default", f + 8);
				goto fail;
			}
		} else if (!str_starts(f, "security=")) {
			err_set(e, ERR_INPUT, "unknown flag --%s", f);
			goto fail;
		}
	}
	/* Command line. */
	if (in->json) {
		argv = calloc(in->n_args + 1, sizeof(char *));
		for (size_t i = 0; argv && i < in->n_args; i++)
			argv[na++] = strdup(in->args[i]);
		if (!argv || na == 0) {
			err_set(e, ERR_INPUT, "empty command");
			goto fail;
		}
	} else {
		argv = shell_of(s, &na);
		char **t = realloc(argv, (na + 2) * sizeof(char *));
		if (!t)
			goto oom;
		argv = t;
		char hdname[300];
		if (in->n_heredocs == 1 && snprintf(hdname, sizeof(hdname), "<<%s", in->heredocs[0].name) > 0 &&
		    (strcmp(in->rest, hdname) == 0 || (strncmp(in->rest, "<<-", 3) == 0 &&
						       strcmp(in->rest + 3, in->heredocs[0].name) == 0))) {
			/* RUN <<EOF: the body is the script. */
			if (buf_adds(&cmdtext, in->heredocs[0].content, e) < 0)
				goto fail;
		} else {
			if (buf_adds(&cmdtext, in->rest, e) < 0)
				goto fail;
			for (size_t h = 0; h < in->n_heredocs; h++)
				if (buf_addf(&cmdtext, e, "\n%s%s", in->heredocs[h].content, in->heredocs[h].name) < 0)
					goto fail;
		}
		argv[na++] = buf_detach(&cmdtext, NULL);
		argv[na] = NULL;
	}
	envp = config_env(s, true, true);
	if (!envp)
		goto oom;
	/* Cache key: the command, its environment and the mounts' targets. */
	for (size_t i = 0; i < na; i++)
		if (buf_adds(&key, argv[i], e) < 0 || buf_add(&key, "\0", 1, e) < 0)
			goto fail;
	for (size_t i = 0; envp[i]; i++)
		if (buf_adds(&key, envp[i], e) < 0 || buf_add(&key, "\0", 1, e) < 0)
			goto fail;
	cJSON *u = cJSON_GetObjectItemCaseSensitive(cfg_obj(s), "User");
	const char *user = cJSON_IsString(u) ? u->valuestring : "";
	if (buf_addf(&key, e, "user=%s wd=%s net=%d", user, workdir_of(s), net_none) < 0)
		goto fail;
	chain_step(s, in->original, key.data);
	b->step++;
	char created_by[8192];
	if (in->json) {
		struct buf cb = BUF_INIT;
		buf_adds(&cb, "RUN ", e);
		for (size_t i = 0; i < na; i++)
			buf_addf(&cb, e, "%s%s", i ? " " : "", argv[i]);
		snprintf(created_by, sizeof(created_by), "%s", cb.data);
		buf_free(&cb);
	} else {
		snprintf(created_by, sizeof(created_by), "RUN %s %s", argv[0], in->original + 4);
	}
	if (cache_get(b, s, created_by)) {
		b->hits++;
		log_step(b, in, "cache hit");
		ret = 0;
		goto out;
	}
	log_step(b, in, b->cache_dir ? "cache miss" : NULL);
	long uid = 0, gid = 0;
	if (*user && resolve_user(b, s, user, &uid, &gid, e) < 0)
		goto fail;
	if (sync_rootfs(b, s, e) < 0)
		goto fail;
	ovl = new_tmp(b, "run", e);
	if (!ovl)
		goto fail;
	upper = xasprintf_e(e, "%s/upper", ovl);
	work = xasprintf_e(e, "%s/work", ovl);
	merged = xasprintf_e(e, "%s/merged", ovl);
	if (!upper || !work || !merged || mkdir(upper, 0755) < 0 || mkdir(work, 0700) < 0 || mkdir(merged, 0755) < 0) {
		err_errno(e, ERR_INTERNAL, "overlay directories");
		goto fail;
	}
	struct sandbox_opts so = { .lower = s->rootfs,
				   .upper = upper,
				   .work = work,
				   .merged = merged,
				   .argv = argv,
				   .envp = envp,
				   .uid = (uid_t)uid,
				   .gid = (gid_t)gid,
				   .workdir = workdir_of(s),
				   .network_none = net_none,
				   .mounts = mounts,
				   .n_mounts = nm };
	if (sandbox_run(&so, &status, e) < 0)
		goto fail;
	if (status != 0) {
		err_set(e, ERR_POLICY, "step %d/%d failed: \"%.200s\" exited with code %d", b->step, b->n_steps,
			in->rest, status);
		goto fail;
	}
	if (sandbox_cleanup_upper(&so, s->rootfs, e) < 0)
		goto fail;
	/* The changes become the layer; the rootfs catches up by unpacking it. */
	if (write_layer(b, s, upper, true, created_by, e) < 0)
		goto fail;
	ret = 0;
	goto out;
oom:
	err_set(e, ERR_INTERNAL, "out of memory");
fail:
	at(b, in, e);
out:
	if (ovl) {
		struct err e2 = ERR_INIT;
		fs_rm_rf(ovl, &e2);
	}
	free(ovl);
	free(upper);
	free(work);
	free(merged);
	for (size_t i = 0; i < nm; i++) {
		free(mounts[i].src);
		free(mounts[i].dst);
	}
	if (argv)
		for (size_t i = 0; i < na; i++)
			free(argv[i]);
	free(argv);
	strv_free0(envp);
	buf_free(&key);
	buf_free(&cmdtext);
	return ret;
}

/* -------------------------------------------------------- metadata only */

static int meta_step(struct build *b, struct stage *s, const struct df_instr *in, const char *created_by)
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

static int exec_instr(struct build *b, struct stage *s, const struct df_instr *in, bool onbuild, struct err *e)
{
	const char *c = in->cmd;
	cJSON *cfg = cfg_obj(s);
	char **k = NULL, **v = NULL;
	size_t n = 0;
	int ret = -1;

	b->cur = s;
	if (strcmp(c, "run") == 0)
		return do_run(b, s, in, e);
	if (strcmp(c, "copy") == 0 || strcmp(c, "add") == 0)
		return do_copy(b, s, in, c[0] == 'a', e);
	if (strcmp(c, "from") == 0)
		return err_set(e, ERR_INPUT, "%s:%d:%d: FROM is not allowed here", b->df.path, in->line, in->col);
	if (strcmp(c, "env") == 0 || strcmp(c, "label") == 0) {
		bool env = c[0] == 'e';
		if (df_kv(in->rest, b->df.escape, lookup_stage, b, true, false, &k, &v, &n, e) < 0)
			goto fail;
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
	} else if (strcmp(c, "arg") == 0) {
		if (df_kv(in->rest, b->df.escape, lookup_stage, b, false, true, &k, &v, &n, e) < 0)
			goto fail;
		for (size_t i = 0; i < n; i++)
			if (kv_set(&s->args, k[i], arg_value(b, k[i], v[i], false), e) < 0)
				goto fail;
	} else if (strcmp(c, "workdir") == 0) {
		char **w;
		size_t wn;
		if (df_lex(in->rest, b->df.escape, lookup_stage, b, false, &w, &wn, e) < 0)
			goto fail;
		char tmp[PATH_MAX * 2], cl[PATH_MAX];
		snprintf(tmp, sizeof(tmp), "%s/%s", w[0][0] == '/' ? "" : workdir_of(s), w[0]);
		df_strv_free(w, wn);
		clean_rel(tmp, cl, sizeof(cl));
		snprintf(tmp, sizeof(tmp), "/%s", cl);
		set_str(cfg, "WorkingDir", tmp);
	} else if (strcmp(c, "user") == 0) {
		char **w;
		size_t wn;
		if (df_lex(in->rest, b->df.escape, lookup_stage, b, false, &w, &wn, e) < 0)
			goto fail;
		set_str(cfg, "User", w[0]);
		df_strv_free(w, wn);
	} else if (strcmp(c, "expose") == 0 || strcmp(c, "volume") == 0) {
		bool expose = c[0] == 'e';
		const char *key = expose ? "ExposedPorts" : "Volumes";
		char **w = NULL;
		size_t wn = 0;
		if (in->json) {
			w = calloc(in->n_args + 1, sizeof(char *));
			for (size_t i = 0; w && i < in->n_args; i++)
				w[wn++] = strdup(in->args[i]);
		} else if ((expose ? df_lex_words(in->rest, b->df.escape, lookup_stage, b, &w, &wn, e)
				   : df_lex(in->rest, b->df.escape, lookup_stage, b, true, &w, &wn, e)) < 0) {
			goto fail;
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
					goto fail;
				}
				snprintf(p, sizeof(p), "%s%s", w[i], strchr(w[i], '/') ? "" : "/tcp");
			} else {
				snprintf(p, sizeof(p), "%s", w[i]);
			}
			cJSON_DeleteItemFromObjectCaseSensitive(o, p);
			cJSON_AddObjectToObject(o, p);
		}
		df_strv_free(w, wn);
	} else if (strcmp(c, "cmd") == 0 || strcmp(c, "entrypoint") == 0) {
		const char *key = c[0] == 'c' ? "Cmd" : "Entrypoint";
		cJSON_DeleteItemFromObjectCaseSensitive(cfg, key);
		cJSON_AddItemToObject(cfg, key, cmd_json(b, s, in));
		if (c[0] == 'e' && !in->json) {
			/* Shell-form ENTRYPOINT ignores CMD, as in Docker. */
			cJSON_DeleteItemFromObjectCaseSensitive(cfg, "Cmd");
		}
	} else if (strcmp(c, "shell") == 0) {
		cJSON_DeleteItemFromObjectCaseSensitive(cfg, "Shell");
		cJSON_AddItemToObject(cfg, "Shell", strv_json(in->args, in->n_args));
	} else if (strcmp(c, "stopsignal") == 0) {
		char **w;
		size_t wn;
		if (df_lex(in->rest, b->df.escape, lookup_stage, b, false, &w, &wn, e) < 0)
			goto fail;
		set_str(cfg, "StopSignal", w[0]);
		df_strv_free(w, wn);
	} else if (strcmp(c, "maintainer") == 0) {
		set_str(s->config, "author", in->rest);
	} else if (strcmp(c, "onbuild") == 0) {
		if (onbuild) {
			err_set(e, ERR_INPUT, "ONBUILD may not trigger ONBUILD");
			goto fail;
		}
		if (str_starts(in->rest, "FROM") || str_starts(in->rest, "ONBUILD") || str_starts(in->rest, "from")) {
			err_set(e, ERR_INPUT, "%.7s is not allowed as an ONBUILD trigger", in->rest);
			goto fail;
		}
		cJSON *o = cJSON_GetObjectItemCaseSensitive(cfg, "OnBuild");
		if (!cJSON_IsArray(o)) {
			cJSON_DeleteItemFromObjectCaseSensitive(cfg, "OnBuild");
			o = cJSON_AddArrayToObject(cfg, "OnBuild");
		}
		cJSON_AddItemToArray(o, cJSON_CreateString(in->rest));
	} else if (strcmp(c, "healthcheck") == 0) {
		cJSON *hc = cJSON_CreateObject();
		if (strncasecmp(in->rest, "NONE", 4) == 0 && !in->rest[4]) {
			cJSON *t = cJSON_AddArrayToObject(hc, "Test");
			cJSON_AddItemToArray(t, cJSON_CreateString("NONE"));
		} else if (strncasecmp(in->rest, "CMD", 3) == 0 && (in->rest[3] == ' ' || in->rest[3] == '\t')) {
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
				if (parse_duration(f, &ns) < 0) {
					cJSON_Delete(hc);
					err_set(e, ERR_INPUT, "--%s=%s: bad duration", durs[i][0], f);
					goto fail;
				}
				cJSON_AddNumberToObject(hc, durs[i][1], ns);
			}
			const char *rt = df_flag(in, "retries");
			if (rt)
				cJSON_AddNumberToObject(hc, "Retries", atoi(rt));
		} else {
			cJSON_Delete(hc);
			err_set(e, ERR_INPUT, "expected HEALTHCHECK NONE or HEALTHCHECK [OPTIONS] CMD command");
			goto fail;
		}
		cJSON_DeleteItemFromObjectCaseSensitive(cfg, "Healthcheck");
		cJSON_AddItemToObject(cfg, "Healthcheck", hc);
	} else {
		err_set(e, ERR_INPUT, "unsupported instruction");
		goto fail;
	}
	char cb[8192];
	snprintf(cb, sizeof(cb), "%s", in->original);
	ret = meta_step(b, s, in, cb);
	goto out;
fail:
	at(b, in, e);
out:
	df_strv_free(k, n);
	df_strv_free(v, n);
	return ret;
}

/* ---------------------------------------------------------------- plan */

static int plan_stages(struct build *b, struct err *e)
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
				return err_set(e, ERR_INTERNAL, "out of memory");
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

/* ---------------------------------------------------------- the image */

static int finish_image(struct build *b, struct stage *s, struct build_result *r, struct err *e)
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
		return err_set(e, ERR_INTERNAL, "out of memory");
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
	if (oci_layout_set_ref(b->out, &d, "build", e) < 0)
		goto out;
	snprintf(r->digest, sizeof(r->digest), "%s", mdig);
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

int build_run(const struct build_opts *o, struct build_result *r, struct err *e)
{
	struct build b;
	int n_swept;
	char *dfpath = NULL;
	int ret = -1;

	memset(&b, 0, sizeof(b));
	b.workdir_lock = -1;
	memset(r, 0, sizeof(*r));
	b.o = o;
	b.rootless = geteuid() != 0;
	b.created = o->source_date_epoch >= 0 ? o->source_date_epoch : (int64_t)time(NULL);
	b.ctx_real = realpath(o->context, NULL);
	if (!b.ctx_real) {
		err_errno(e, ERR_INPUT, "build context %s", o->context);
		goto out;
	}
	struct stat cst;
	if (stat(b.ctx_real, &cst) < 0 || !S_ISDIR(cst.st_mode)) {
		err_set(e, ERR_INPUT, "build context %s: not a directory", o->context);
		goto out;
	}
	dfpath = o->dockerfile ? xstrdup_e(o->dockerfile, e) : fs_join(o->context, "Dockerfile");
	if (!dfpath || df_parse_file(&b.df, dfpath, e) < 0 || df_check_expansions(&b.df, e) < 0)
		goto out;
	/* .dockerignore */
	char *igp = fs_join(b.ctx_real, ".dockerignore");
	if (igp && fs_exists(igp)) {
		struct buf ib = BUF_INIT;
		int rr = fs_read_file(igp, &ib, 1u << 20, e) < 0 || ignore_parse(&b.ig, ib.data, e) < 0;
		buf_free(&ib);
		if (rr) {
			free(igp);
			goto out;
		}
	}
	free(igp);
	/* Platform and the predefined ARGs. */
	if (o->platform ? oci_platform_parse(&b.plat, o->platform, e) < 0 : oci_platform_default(&b.plat, e) < 0)
		goto out;
	struct oci_platform host = { 0 };
	if (oci_platform_default(&host, e) < 0)
		goto out;
	char *tp = oci_platform_string(&b.plat), *bp = oci_platform_string(&host);
	kv_set(&b.global, "TARGETPLATFORM", tp, e);
	kv_set(&b.global, "TARGETOS", b.plat.os, e);
	kv_set(&b.global, "TARGETARCH", b.plat.architecture, e);
	kv_set(&b.global, "TARGETVARIANT", b.plat.variant ? b.plat.variant : "", e);
	kv_set(&b.global, "BUILDPLATFORM", bp, e);
	kv_set(&b.global, "BUILDOS", host.os, e);
	kv_set(&b.global, "BUILDARCH", host.architecture, e);
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
		if (kv_set(&b.bargs, key, val, e) < 0)
			goto out;
	}
	b.bargs_used = calloc(b.bargs.n + 1, sizeof(bool));
	if (!b.bargs_used) {
		err_set(e, ERR_INTERNAL, "out of memory");
		goto out;
	}
	/* Work space; first what killed builds left behind. */
	n_swept = fs_tmpdir_sweep("bosun-build");
	if (n_swept > 0)
		log_info("removed %d work director%s left by interrupted builds", n_swept, n_swept == 1 ? "y" : "ies");
	b.workdir = fs_mkdtemp("bosun-build", e);
	if (!b.workdir || (b.workdir_lock = fs_tmpdir_lock(b.workdir, e)) < 0)
		goto out;
	char *outdir = fs_join(b.workdir, "layout");
	if (!outdir || oci_layout_open(&b.out, outdir, true, e) < 0) {
		free(outdir);
		goto out;
	}
	b.cache_dir = o->cache_dir;
	if (o->cache_repo) {
		struct oci_ref cr;
		if (!b.cache_dir) {
			b.cache_dir_own = fs_join(b.workdir, "cache");
			b.cache_dir = b.cache_dir_own;
		}
		if (oci_ref_parse(&cr, o->cache_repo, e) < 0) {
			free(outdir);
			err_prefix(e, "--cache-repo");
			goto out;
		}
		int rr = reg_open(&b.creg, &cr, &o->reg, true, e);
		oci_ref_free(&cr);
		if (rr < 0) {
			free(outdir);
			goto out;
		}
	}
	if (b.cache_dir) {
		b.lay_dir = fs_join(b.cache_dir, "layout");
		if (!b.lay_dir || fs_mkdir_p(b.cache_dir, 0755, e) < 0 ||
		    oci_layout_open(&b.lay, b.lay_dir, true, e) < 0) {
			free(outdir);
			goto out;
		}
		free(outdir);
	} else {
		b.lay = b.out;
		b.lay_dir = outdir;
	}
	int target = plan_stages(&b, e);
	if (target < 0)
		goto out;
	for (int si = 0; si <= target; si++) {
		struct stage *s = &b.st[si];
		if (!s->needed) {
			log_info("stage %d%s%s: not needed for the target, skipped", si, s->name ? " " : "",
				 s->name ? s->name : "");
			continue;
		}
		b.cur = s;
		log_info("stage %d%s%s: %s", si, s->name ? " " : "", s->name ? s->name : "", b.df.ins[s->first].original);
		if (do_from(&b, s, &b.df.ins[s->first], e) < 0)
			goto out;
		for (size_t j = s->first + 1; j <= s->last; j++)
			if (exec_instr(&b, s, &b.df.ins[j], false, e) < 0)
				goto out;
		s->built = true;
	}
	for (size_t i = 0; i < b.bargs.n; i++)
		if (!b.bargs_used[i])
			log_warn("build argument %s was not consumed by any ARG", b.bargs.k[i]);
	if (finish_image(&b, &b.st[target], r, e) < 0)
		goto out;
	memo_save(&b, &b.memo);
	r->layout = fs_join(b.workdir, "layout");
	r->workdir = b.workdir;
	b.workdir = NULL;
	r->workdir_lock = b.workdir_lock;
	b.workdir_lock = -1;
	r->steps = b.n_steps;
	r->hits = b.hits;
	ret = 0;
out:
	free(dfpath);
	df_free(&b.df);
	for (size_t i = 0; i < b.n_st; i++)
		stage_free(&b.st[i]);
	free(b.st);
	kv_free(&b.global);
	kv_free(&b.bargs);
	free(b.bargs_used);
	oci_platform_free(&b.plat);
	if (b.lay != b.out)
		oci_layout_close(b.lay);
	oci_layout_close(b.out);
	free(b.lay_dir);
	free(b.ctx_real);
	reg_close(b.creg);
	ignore_free(b.ig);
	if (b.workdir) {
		struct err e2 = ERR_INIT;
		fs_rm_rf(b.workdir, &e2);
		free(b.workdir);
	}
	if (b.workdir_lock >= 0)
		close(b.workdir_lock);
	free(b.cache_dir_own);
	free(b.memo.v);
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
	memset(r, 0, sizeof(*r));
	r->workdir_lock = -1;
}
