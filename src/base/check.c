/* bosun base check: read the base record of an image and ask the base's
 * registry where the tag points now. */
#include <cjson/cJSON.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/base.h"
#include "core/util.h"
#include "oci/digest.h"
#include "oci/manifest.h"
#include "oci/ref.h"
#include "image/image.h"
#include "image/location.h"

const char *base_state_name(enum base_state s)
{
	switch (s) {
	case BASE_UP_TO_DATE: return "up-to-date";
	case BASE_STALE: return "stale";
	case BASE_ERROR: return "error";
	case BASE_UNKNOWN: break;
	}
	return "unknown";
}

void base_result_free(struct base_result *r)
{
	free(r->image);
	free(r->image_digest);
	free(r->platform);
	free(r->base_name);
	free(r->base_digest);
	free(r->current_digest);
	free(r->current_platform_digest);
	free(r->current_created);
	free(r->note);
	memset(r, 0, sizeof(*r));
}

void base_age_string(int64_t s, char *out, size_t cap)
{
	if (s < 0)
		snprintf(out, cap, "unknown");
	else if (s >= 2 * 86400)
		snprintf(out, cap, "%lld days", (long long)(s / 86400));
	else if (s >= 2 * 3600)
		snprintf(out, cap, "%lld hours", (long long)(s / 3600));
	else
		snprintf(out, cap, "%lld minutes", (long long)(s / 60));
}

/* String value of key in a JSON object text, malloc'd, or NULL. */
static char *json_str(const char *obj, const char *key)
{
	cJSON *j = obj ? cJSON_Parse(obj) : NULL;
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, key);
	char *s = cJSON_IsString(v) && v->valuestring[0] ? strdup(v->valuestring) : NULL;

	cJSON_Delete(j);
	return s;
}

/* Take name/digest from obj under the two keys; true when both found. */
static bool take_pair(const char *obj, const char *kn, const char *kd, struct base_result *r,
		      const char *source)
{
	char *n = json_str(obj, kn), *d = json_str(obj, kd);

	if (n && d) {
		r->base_name = n;
		r->base_digest = d;
		r->source = source;
		return true;
	}
	free(n);
	free(d);
	return false;
}

struct image_view {
	struct oci_manifest m;
	struct oci_config cfg;
	char *index_annotations;
	bool have_m, have_cfg;
};

static void view_free(struct image_view *v)
{
	if (v->have_m)
		oci_manifest_free(&v->m);
	if (v->have_cfg)
		oci_config_free(&v->cfg);
	free(v->index_annotations);
}

static int read_image(const char *image, const struct base_opts *o, struct image_view *v,
		      struct base_result *r, struct err *e)
{
	struct location loc;
	struct image_src *s = NULL;
	struct oci_desc top = { 0 }, man = { 0 };
	struct buf body = BUF_INIT, cfg = BUF_INIT;
	const char *mt;
	int rc = -1;

	if (location_parse(&loc, image, e) < 0)
		return -1;
	buf_init(&body, BUF_CAP_MANIFEST);
	buf_init(&cfg, BUF_CAP_MANIFEST);
	if (loc.kind == LOC_DIR) {
		err_set(e, ERR_USAGE, "a dir: root file system records no base; give an image");
		goto out;
	}
	if (image_src_open(&s, &loc, o->ro, e) < 0 || image_src_top(s, &top, e) < 0 ||
	    image_src_manifest(s, &top, &body, e) < 0)
		goto out;
	mt = top.media_type ? top.media_type : oci_detect_media_type(body.data, body.len);
	if (mt && oci_mt_is_index(mt)) {
		struct oci_index idx;

		if (oci_index_parse(&idx, body.data, body.len, mt, e) < 0)
			goto out;
		if (idx.annotations_json)
			v->index_annotations = strdup(idx.annotations_json);
		rc = oci_index_select(&idx, o->platform, &man, e);
		oci_index_free(&idx);
		if (rc < 0)
			goto out;
		rc = -1;
		buf_reset(&body);
		if (image_src_manifest(s, &man, &body, e) < 0)
			goto out;
	} else if (oci_desc_copy(&man, &top, e) < 0) {
		goto out;
	}
	if (oci_manifest_parse(&v->m, body.data, body.len, man.media_type, e) < 0)
		goto out;
	v->have_m = true;
	if (!(r->image_digest = xstrdup_e(man.digest, e)))
		goto out;
	if (image_src_blob_buf(s, &v->m.config, &cfg, BUF_CAP_MANIFEST, e) < 0) {
		err_prefix(e, "config");
		goto out;
	}
	if (oci_config_parse(&v->cfg, cfg.data, cfg.len, e) < 0) {
		err_prefix(e, "config");
		goto out;
	}
	v->have_cfg = true;
	if (v->cfg.os && v->cfg.architecture) {
		struct oci_platform p = { v->cfg.os, v->cfg.architecture, v->cfg.variant, NULL };

		r->platform = oci_platform_string(&p);
	}
	rc = 0;
out:
	if (rc < 0)
		err_prefix(e, "%s", image);
	oci_desc_free(&top);
	oci_desc_free(&man);
	buf_free(&body);
	buf_free(&cfg);
	image_src_close(s);
	location_free(&loc);
	return rc;
}

/* GET a manifest by key; when it is an index, the digest of plat's entry
 * (*pd malloc'd; NULL when it is a single manifest). */
static int platform_digest(struct reg_client *c, const char *key, const struct oci_platform *plat,
			   char **pd, char **created, struct err *e)
{
	struct buf body = BUF_INIT, cfg = BUF_INIT;
	struct oci_index idx;
	struct oci_desc sel = { 0 };
	struct oci_manifest m;
	char *mt = NULL, *dig = NULL;
	int rc = -1;

	*pd = NULL;
	buf_init(&body, BUF_CAP_MANIFEST);
	buf_init(&cfg, BUF_CAP_MANIFEST);
	if (reg_get_manifest(c, key, &body, &mt, &dig, e) < 0)
		goto out;
	if (mt && oci_mt_is_index(mt)) {
		if (oci_index_parse(&idx, body.data, body.len, mt, e) < 0)
			goto out;
		rc = oci_index_select(&idx, plat, &sel, e);
		oci_index_free(&idx);
		if (rc < 0)
			goto out;
		rc = -1;
		if (!(*pd = xstrdup_e(sel.digest, e)))
			goto out;
		if (!created) {
			rc = 0;
			goto out;
		}
		free(mt);
		mt = NULL;
		buf_reset(&body);
		if (reg_get_manifest(c, sel.digest, &body, &mt, NULL, e) < 0)
			goto out;
	} else if (!created) {
		rc = 0;
		goto out;
	}
	/* The config's "created" gives the age of the base; best effort. */
	if (oci_manifest_parse(&m, body.data, body.len, mt, e) == 0) {
		if (reg_get_blob_buf(c, &m.config, &cfg, BUF_CAP_MANIFEST, e) == 0)
			*created = json_str(cfg.data, "created");
		oci_manifest_free(&m);
	}
	err_clear(e);
	rc = 0;
out:
	oci_desc_free(&sel);
	free(mt);
	free(dig);
	buf_free(&body);
	buf_free(&cfg);
	return rc;
}

static int open_base(const char *name, const struct base_opts *o, struct oci_ref *ref,
		     struct reg_client **c, struct err *e)
{
	if (oci_ref_parse(ref, name, e) < 0)
		return -1;
	if (reg_open(c, ref, o->ro, false, e) < 0) {
		oci_ref_free(ref);
		return -1;
	}
	return 0;
}

int base_resolve(const char *name, const struct base_opts *o, char **digest, char **plat_digest,
		 struct err *e)
{
	struct oci_ref ref;
	struct reg_client *c = NULL;
	int rc = -1;

	*digest = NULL;
	if (plat_digest)
		*plat_digest = NULL;
	if (open_base(name, o, &ref, &c, e) < 0)
		return -1;
	if (!ref.tag) {
		err_set(e, ERR_INPUT, "%s names no tag, so it has no current digest", name);
		goto out;
	}
	if (reg_head_manifest(c, ref.tag, digest, NULL, NULL, e) < 0) {
		if (reg_not_found(e))
			e->code = ERR_INPUT; /* the tag does not exist: bad input, not a broken network */
		goto out;
	}
	if (!*digest) { /* no Docker-Content-Digest: the body tells */
		struct buf b = BUF_INIT;

		buf_init(&b, BUF_CAP_MANIFEST);
		rc = reg_get_manifest(c, ref.tag, &b, NULL, digest, e);
		buf_free(&b);
		if (rc < 0)
			goto out;
		rc = -1;
	}
	if (plat_digest && platform_digest(c, *digest, o->platform, plat_digest, NULL, e) < 0)
		goto out;
	rc = 0;
out:
	if (rc < 0) {
		free(*digest);
		*digest = NULL;
		err_prefix(e, "base %s", name);
	}
	reg_close(c);
	oci_ref_free(&ref);
	return rc;
}

static int set_note(struct base_result *r, struct err *e, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int set_note(struct base_result *r, struct err *e, const char *fmt, ...)
{
	va_list ap;
	char tmp[1024];

	va_start(ap, fmt);
	vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	free(r->note);
	r->note = xstrdup_e(tmp, e);
	return r->note ? 0 : -1;
}

static const char ADVICE[] =
	"no base image recorded: build with 'bosun build' (it writes the "
	"org.opencontainers.image.base.name/.base.digest annotations), or add the labels "
	"org.opencontainers.image.base.name=NAME:TAG and org.opencontainers.image.base.digest=DIGEST "
	"(docker buildx: --annotation; Azure Docker@2 task writes image.base.ref.name/image.base.digest)";

/* Compare the record with the registry. */
static int compare(const struct base_opts *o, const struct oci_platform *plat, struct base_result *r,
		   struct err *e)
{
	struct oci_ref ref;
	struct reg_client *c = NULL;
	char *now = NULL, *now_p = NULL, *old_p = NULL;
	struct err e2 = ERR_INIT;
	int rc = -1;

	if (open_base(r->base_name, o, &ref, &c, e) < 0) {
		/* A record we cannot parse is an answer, not a failure. */
		r->state = BASE_UNKNOWN;
		err_clear(e);
		return set_note(r, e, "the recorded base name \"%s\" is not a registry reference", r->base_name);
	}
	if (!ref.tag) {
		r->state = BASE_UNKNOWN;
		rc = set_note(r, e, "the base was recorded by digest only (%s); record NAME:TAG so updates of the tag can be seen",
			      r->base_name);
		goto out;
	}
	/* The normalised name, tag kept, digest dropped. */
	free(ref.digest);
	ref.digest = NULL;
	free(r->base_name);
	if (!(r->base_name = oci_ref_string(&ref))) {
		err_oom(e);
		goto out;
	}
	if (reg_head_manifest(c, ref.tag, &now, NULL, NULL, e) < 0) {
		if (reg_not_found(e))
			e->code = ERR_INPUT;
		goto fail;
	}
	if (!now) {
		struct buf b = BUF_INIT;

		buf_init(&b, BUF_CAP_MANIFEST);
		rc = reg_get_manifest(c, ref.tag, &b, NULL, &now, e);
		buf_free(&b);
		if (rc < 0)
			goto fail;
		rc = -1;
	}
	r->current_digest = now;
	now = NULL;
	if (strcmp(r->current_digest, r->base_digest) == 0) {
		r->state = BASE_UP_TO_DATE;
		rc = 0;
		goto out;
	}
	/* The tag moved. For a multi-platform base only this platform counts. */
	if (platform_digest(c, r->current_digest, plat, &now_p, &r->current_created, e) < 0)
		goto fail;
	r->current_platform_digest = now_p;
	if (now_p && strcmp(now_p, r->base_digest) == 0) {
		r->state = BASE_UP_TO_DATE;
		rc = set_note(r, e, "the base was recorded by its %s manifest, which is current", r->platform);
		goto out;
	}
	if (now_p && platform_digest(c, r->base_digest, plat, &old_p, NULL, &e2) == 0 && old_p &&
	    strcmp(old_p, now_p) == 0) {
		r->state = BASE_UP_TO_DATE;
		rc = set_note(r, e, "%s moved to a new index, but its %s manifest %s is unchanged", ref.tag,
			      r->platform ? r->platform : "platform", now_p);
		goto out;
	}
	r->state = BASE_STALE;
	if (r->current_created)
		r->age_seconds = (int64_t)time(NULL) - time_parse_rfc3339(r->current_created, false);
	if (time_parse_rfc3339(r->current_created, false) < 0)
		r->age_seconds = -1;
	rc = 0;
	goto out;
fail:
	err_prefix(e, "base %s", r->base_name);
out:
	free(now);
	free(old_p);
	reg_close(c);
	oci_ref_free(&ref);
	return rc;
}

int base_check(const char *image, const struct base_opts *o, struct base_result *r, struct err *e)
{
	struct image_view v;
	struct oci_platform plat = { 0 };
	int rc = -1;

	memset(r, 0, sizeof(*r));
	memset(&v, 0, sizeof(v));
	r->age_seconds = -1;
	if (!(r->image = xstrdup_e(image, e)))
		return -1;
	if (read_image(image, o, &v, r, e) < 0)
		goto out;
	if (!take_pair(v.m.annotations_json, ANN_BASE_NAME, ANN_BASE_DIGEST, r, "manifest annotations") &&
	    !take_pair(v.index_annotations, ANN_BASE_NAME, ANN_BASE_DIGEST, r, "index annotations") &&
	    !take_pair(v.cfg.labels_json, ANN_BASE_NAME, ANN_BASE_DIGEST, r, "config labels") &&
	    !take_pair(v.cfg.labels_json, LABEL_AZURE_BASE_NAME, LABEL_AZURE_BASE_DIGEST, r,
		       "config labels (Azure Docker task)")) {
		r->state = BASE_UNKNOWN;
		rc = set_note(r, e, "%s", ADVICE);
		goto out;
	}
	if (!oci_digest_valid(r->base_digest)) {
		r->state = BASE_UNKNOWN;
		rc = set_note(r, e, "the recorded base digest \"%.80s\" is not a digest", r->base_digest);
		goto out;
	}
	/* The image's own platform picks the base's platform. */
	if (v.cfg.os && v.cfg.architecture) {
		plat.os = v.cfg.os;
		plat.architecture = v.cfg.architecture;
		plat.variant = v.cfg.variant;
	}
	rc = compare(o, plat.os ? &plat : o->platform, r, e);
out:
	view_free(&v);
	return rc;
}

void base_result_add_json(struct cJSON *o, const struct base_result *r)
{
	cJSON *x;

	if (r->base_name) {
		x = cJSON_AddObjectToObject(o, "base");
		cJSON_AddStringToObject(x, "name", r->base_name);
		cJSON_AddStringToObject(x, "digest", r->base_digest);
		if (r->source)
			cJSON_AddStringToObject(x, "source", r->source);
	}
	if (r->current_digest) {
		x = cJSON_AddObjectToObject(o, "current");
		cJSON_AddStringToObject(x, "digest", r->current_digest);
		if (r->current_platform_digest)
			cJSON_AddStringToObject(x, "platformDigest", r->current_platform_digest);
		if (r->current_created)
			cJSON_AddStringToObject(x, "created", r->current_created);
		if (r->age_seconds >= 0)
			cJSON_AddNumberToObject(x, "ageSeconds", (double)r->age_seconds);
	}
	if (r->note)
		cJSON_AddStringToObject(o, "note", r->note);
	if (r->state == BASE_ERROR) {
		cJSON_AddStringToObject(o, "error", r->err.msg);
		cJSON_AddNumberToObject(o, "errorCode", r->err.code);
	}
}
