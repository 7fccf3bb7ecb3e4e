/* Base images: FROM (another stage, scratch or a pulled image), pulls into
 * the build's layout, and the base's ONBUILD triggers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <cjson/cJSON.h>

#include "builder/internal.h"
#include "core/buf.h"
#include "core/log.h"
#include "core/sha256.h"
#include "core/util.h"
#include "oci/layout.h"
#include "oci/manifest.h"
#include "oci/ref.h"
#include "image/image.h"
#include "image/location.h"

/* The base's tag in the build's layout; a multi-platform build pulls the
 * same base once per platform, each under its own tag. */
static void sanitize_tag(struct build *b, const char *s, char out[72])
{
	char d[72], *ps = b->multi ? oci_platform_string(&b->plat) : NULL;
	char *key = ps ? xasprintf_e(NULL, "%s\n%s", s, ps) : NULL;

	sha256_digest_str(key ? key : s, strlen(key ? key : s), d);
	snprintf(out, 72, "base-%.24s", d + 7);
	free(key);
	free(ps);
}

/* The first link of a stage's cache chain: its base (a digest, or zeros for
 * scratch) and the platform it is built for. */
static void chain_root(struct build *b, struct stage *s, const char *base_hex)
{
	char *ps = oci_platform_string(&b->plat);

	memset(s->chain, '0', 64);
	s->chain[64] = 0;
	if (base_hex)
		memcpy(s->chain, base_hex, 64);
	chain_step(s, "platform", ps ? ps : "");
	free(ps);
}

/* In a multi-platform build each platform's base must be an image of that
 * platform (the base an index with a manifest for each, or one built for it). */
static int check_base_platform(struct build *b, struct stage *s, const char *img, struct err *e)
{
	const cJSON *os = cJSON_GetObjectItemCaseSensitive(s->config, "os");
	const cJSON *arch = cJSON_GetObjectItemCaseSensitive(s->config, "architecture");
	const cJSON *var = cJSON_GetObjectItemCaseSensitive(s->config, "variant");
	struct oci_platform have = { 0 };

	if (!b->multi)
		return 0;
	have.os = cJSON_IsString(os) ? os->valuestring : (char *)"?";
	have.architecture = cJSON_IsString(arch) ? arch->valuestring : (char *)"?";
	have.variant = cJSON_IsString(var) ? var->valuestring : NULL;
	if (oci_platform_match(&b->plat, &have))
		return 0;
	char *want = oci_platform_string(&b->plat), *got = oci_platform_string(&have);
	err_set(e, ERR_INPUT, "base image %s is %s, not %s: a multi-platform build needs a base with an image for "
		"every platform", img, got ? got : "?", want ? want : "?");
	free(want);
	free(got);
	return -1;
}

int load_image(struct build *b, struct stage *s, const struct oci_desc *top, struct err *e)
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

int pull_base(struct build *b, const char *ref, struct oci_desc *top, struct err *e)
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
	sanitize_tag(b, src.text, tag);
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

int do_from(struct build *b, struct stage *s, const struct df_instr *in, struct err *e)
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
		chain_root(b, s, NULL);
	} else {
		struct oci_desc top = { 0 };
		if (pull_base(b, img, &top, e) < 0)
			goto fail;
		int r = load_image(b, s, &top, e);
		s->base_digest = xstrdup_e(top.digest, e);
		oci_desc_free(&top);
		if (r < 0 || check_base_platform(b, s, img, e) < 0)
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
		chain_root(b, s, s->base_digest ? s->base_digest + 7 : NULL);
	}
	if (!s->config) {
		err_oom(e);
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
