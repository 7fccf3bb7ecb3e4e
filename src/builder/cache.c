/* The step cache: a chain key per step, records in --cache-dir and, with
 * --cache-repo, one small artifact per step in a registry. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>

#include "builder/internal.h"
#include "core/buf.h"
#include "core/fs.h"
#include "core/log.h"
#include "core/sha256.h"
#include "core/util.h"
#include "oci/digest.h"
#include "oci/layout.h"
#include "oci/manifest.h"
#include "registry/registry.h"

void chain_step(struct stage *s, const char *text, const char *extra)
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
bool cache_get(struct build *b, struct stage *s, const char *created_by)
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

bool cache_hit(struct build *b, struct stage *s, const struct df_instr *in, const char *created_by)
{
	if (!cache_get(b, s, created_by))
		return false;
	b->hits++;
	log_step(b, in, "cache hit");
	return true;
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

void cache_put(struct build *b, struct stage *s, const struct layer_result *lr)
{
	if (!b->cache_dir)
		return;
	free(lr ? write_record(b, s->chain, lr->media_type, lr->digest, lr->size, lr->diff_id)
		: write_record(b, s->chain, NULL, NULL, 0, NULL));
	if (b->creg)
		remote_put(b, s, lr);
}
