/* Manifest, index and config parsing. The raw bytes stay with the caller
 * (digests are over bytes, never over a re-serialisation); these structs are
 * for reading fields. */
#include "oci/manifest.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/util.h"
#include "oci/digest.h"
#include "core/ojson.h"

static bool is_schema1(const char *mt)
{
	return mt && (!strcmp(mt, MT_DOCKER_SCHEMA1) || !strcmp(mt, MT_DOCKER_SCHEMA1_SIGNED));
}

static int schema1_error(struct err *e)
{
	return err_set(e, ERR_INPUT, "Docker schema 1 manifests are not supported (deprecated since 2017); "
				     "push the image again with a current Docker or Podman");
}

/* Shared header checks: schema version and media type. want_index selects
 * which family the document must belong to. *mt gets the effective type. */
static int check_head(const cJSON *root, const char *hint, bool want_index, char **mt, struct err *e)
{
	int64_t sv = 0;
	char *body_mt = NULL;
	*mt = NULL;
	const cJSON *svj = oj_get(root, "schemaVersion");
	if (oj_str(root, "mediaType", false, &body_mt, e) < 0)
		return -1;
	if (is_schema1(body_mt) || is_schema1(hint) || (cJSON_IsNumber(svj) && svj->valuedouble == 1)) {
		free(body_mt);
		return schema1_error(e);
	}
	if (oj_int64(root, "schemaVersion", true, &sv, e) < 0) {
		free(body_mt);
		return -1;
	}
	if (sv != 2) {
		free(body_mt);
		return err_set(e, ERR_INPUT, "unsupported schemaVersion %lld (want 2)", (long long)sv);
	}
	const char *kind = want_index ? "an index" : "an image manifest";
	if (body_mt) {
		bool ok = want_index ? oci_mt_is_index(body_mt) : oci_mt_is_manifest(body_mt);
		if (!ok) {
			err_set(e, ERR_INPUT, "expected %s, got mediaType \"%.200s\"", kind, body_mt);
			free(body_mt);
			return -1;
		}
		*mt = body_mt;
		return 0;
	}
	/* No mediaType in the body (allowed by OCI): the shape decides, the hint names it. */
	bool looks_index = oj_get(root, "manifests") && !oj_get(root, "layers");
	if (looks_index != want_index)
		return err_set(e, ERR_INPUT, "expected %s, got %s", kind, looks_index ? "an index" : "an image manifest");
	if (want_index)
		*mt = xstrdup_e(oci_mt_is_index(hint) ? hint : MT_OCI_INDEX, e);
	else
		*mt = xstrdup_e(oci_mt_is_manifest(hint) ? hint : MT_OCI_MANIFEST, e);
	return *mt ? 0 : -1;
}

void oci_manifest_free(struct oci_manifest *m)
{
	if (!m)
		return;
	free(m->media_type);
	oci_desc_free(&m->config);
	for (size_t i = 0; i < m->n_layers; i++)
		oci_desc_free(&m->layers[i]);
	free(m->layers);
	free(m->annotations_json);
	if (m->subject) {
		oci_desc_free(m->subject);
		free(m->subject);
	}
	free(m->artifact_type);
	memset(m, 0, sizeof *m);
}

/* Parse the array at key into a fresh descriptor vector. */
static int parse_desc_array(const cJSON *root, const char *key, struct oci_desc **out, size_t *n, struct err *e)
{
	*out = NULL;
	*n = 0;
	const cJSON *arr = oj_get(root, key);
	if (!arr)
		return err_set(e, ERR_INPUT, "missing \"%s\"", key);
	if (!cJSON_IsArray(arr))
		return err_set(e, ERR_INPUT, "\"%s\" must be an array", key);
	size_t cnt = (size_t)cJSON_GetArraySize(arr);
	if (cnt == 0)
		return 0;
	struct oci_desc *v = calloc(cnt, sizeof *v);
	if (!v)
		return err_oom(e);
	size_t i = 0;
	const cJSON *it;
	cJSON_ArrayForEach(it, arr)
	{
		if (oci_desc_from_json(&v[i], it, e) < 0) {
			err_prefix(e, "%s[%zu]", key, i);
			for (size_t k = 0; k < i; k++)
				oci_desc_free(&v[k]);
			free(v);
			return -1;
		}
		i++;
	}
	*out = v;
	*n = cnt;
	return 0;
}

int oci_manifest_parse(struct oci_manifest *m, const char *json, size_t len, const char *mt_hint, struct err *e)
{
	memset(m, 0, sizeof *m);
	int rc = -1;
	cJSON *root = oj_parse_object(json, len, BUF_CAP_MANIFEST, "manifest", e);
	if (!root)
		return -1;
	if (check_head(root, mt_hint, false, &m->media_type, e) < 0)
		goto out;
	m->schema_version = 2;
	const cJSON *cfg = oj_get(root, "config");
	if (!cfg) {
		err_set(e, ERR_INPUT, "missing \"config\"");
		goto out;
	}
	if (oci_desc_from_json(&m->config, cfg, e) < 0) {
		err_prefix(e, "config");
		goto out;
	}
	if (parse_desc_array(root, "layers", &m->layers, &m->n_layers, e) < 0 ||
	    oj_annotations(root, "annotations", &m->annotations_json, e) < 0 ||
	    oj_str(root, "artifactType", false, &m->artifact_type, e) < 0)
		goto out;
	const cJSON *sub = oj_get(root, "subject");
	if (sub) {
		m->subject = calloc(1, sizeof *m->subject);
		if (!m->subject) {
			err_oom(e);
			goto out;
		}
		if (oci_desc_from_json(m->subject, sub, e) < 0) {
			err_prefix(e, "subject");
			goto out;
		}
	}
	rc = 0;
out:
	cJSON_Delete(root);
	if (rc < 0) {
		oci_manifest_free(m);
		err_prefix(e, "invalid manifest");
	}
	return rc;
}

static int add_desc(cJSON *o, const char *key, const struct oci_desc *d, struct err *e)
{
	cJSON *j = oci_desc_to_json(d, e);
	if (!j)
		return -1;
	if (!cJSON_AddItemToObject(o, key, j)) {
		cJSON_Delete(j);
		return err_oom(e);
	}
	return 0;
}

/* An array of descriptors under key ("layers", "manifests"). */
static int add_desc_array(cJSON *o, const char *key, const struct oci_desc *v, size_t n, struct err *e)
{
	cJSON *arr = cJSON_AddArrayToObject(o, key);

	if (!arr)
		return err_oom(e);
	for (size_t i = 0; i < n; i++) {
		cJSON *j = oci_desc_to_json(&v[i], e);
		if (!j)
			return -1;
		if (!cJSON_AddItemToArray(arr, j)) {
			cJSON_Delete(j);
			return err_oom(e);
		}
	}
	return 0;
}

char *oci_manifest_serialise(const struct oci_manifest *m, size_t *len, struct err *e)
{
	char *s = NULL;
	cJSON *o = cJSON_CreateObject();
	if (!o || !cJSON_AddNumberToObject(o, "schemaVersion", 2) ||
	    !cJSON_AddStringToObject(o, "mediaType", m->media_type ? m->media_type : MT_OCI_MANIFEST) ||
	    (m->artifact_type && !cJSON_AddStringToObject(o, "artifactType", m->artifact_type))) {
		err_oom(e);
		goto out;
	}
	if (add_desc(o, "config", &m->config, e) < 0 || add_desc_array(o, "layers", m->layers, m->n_layers, e) < 0)
		goto out;
	if ((m->subject && add_desc(o, "subject", m->subject, e) < 0) ||
	    oj_add_raw_object(o, "annotations", m->annotations_json, e) < 0)
		goto out;
	s = oj_print(o, e);
	if (s && len)
		*len = strlen(s);
out:
	cJSON_Delete(o);
	return s;
}

void oci_index_free(struct oci_index *idx)
{
	if (!idx)
		return;
	free(idx->media_type);
	for (size_t i = 0; i < idx->n; i++)
		oci_desc_free(&idx->manifests[i]);
	free(idx->manifests);
	free(idx->annotations_json);
	memset(idx, 0, sizeof *idx);
}

int oci_index_parse(struct oci_index *idx, const char *json, size_t len, const char *mt_hint, struct err *e)
{
	memset(idx, 0, sizeof *idx);
	int rc = -1;
	cJSON *root = oj_parse_object(json, len, BUF_CAP_MANIFEST, "index", e);
	if (!root)
		return -1;
	if (check_head(root, mt_hint, true, &idx->media_type, e) < 0 ||
	    parse_desc_array(root, "manifests", &idx->manifests, &idx->n, e) < 0 ||
	    oj_annotations(root, "annotations", &idx->annotations_json, e) < 0)
		goto out;
	rc = 0;
out:
	cJSON_Delete(root);
	if (rc < 0) {
		oci_index_free(idx);
		err_prefix(e, "invalid index");
	}
	return rc;
}

char *oci_index_serialise(const struct oci_index *idx, size_t *len, struct err *e)
{
	cJSON *o = cJSON_CreateObject();
	char *s = NULL;

	if (!o || !cJSON_AddNumberToObject(o, "schemaVersion", 2) ||
	    !cJSON_AddStringToObject(o, "mediaType", idx->media_type ? idx->media_type : MT_OCI_INDEX))
		err_oom(e);
	else if (add_desc_array(o, "manifests", idx->manifests, idx->n, e) == 0 &&
		 oj_add_raw_object(o, "annotations", idx->annotations_json, e) == 0)
		s = oj_print(o, e);
	cJSON_Delete(o);
	if (s && len)
		*len = strlen(s);
	return s;
}

bool oci_desc_is_attestation(const struct oci_desc *d)
{
	if (d->platform && d->platform->os && d->platform->architecture && !strcmp(d->platform->os, "unknown") &&
	    !strcmp(d->platform->architecture, "unknown"))
		return true;
	char *t = oci_desc_annotation(d, ANN_DOCKER_REF_TYPE);
	bool att = t && !strcmp(t, "attestation-manifest");
	free(t);
	return att;
}

char *oci_index_platforms(const struct oci_index *idx)
{
	struct buf b = BUF_INIT;
	for (size_t i = 0; i < idx->n; i++) {
		const struct oci_desc *d = &idx->manifests[i];
		if (oci_desc_is_attestation(d) || !d->platform)
			continue;
		char *p = oci_platform_string(d->platform);
		int rc = buf_addf(&b, NULL, "%s%s", b.len ? ", " : "", p ? p : "?");
		free(p);
		if (rc < 0) {
			buf_free(&b);
			return NULL;
		}
	}
	if (!b.len && buf_adds(&b, "none", NULL) < 0)
		return NULL;
	return buf_detach(&b, NULL);
}

int oci_index_select(const struct oci_index *idx, const struct oci_platform *want, struct oci_desc *out,
		     struct err *e)
{
	struct oci_platform def = { 0 };
	memset(out, 0, sizeof *out);
	if (!want) {
		if (oci_platform_default(&def, e) < 0)
			return -1;
		want = &def;
	}
	int rc = -1;
	for (size_t i = 0; i < idx->n; i++) {
		const struct oci_desc *d = &idx->manifests[i];
		if (!d->platform || oci_desc_is_attestation(d) || !oci_platform_match(want, d->platform))
			continue;
		rc = oci_desc_copy(out, d, e);
		goto out;
	}
	char *w = oci_platform_string(want);
	char *have = oci_index_platforms(idx);
	err_set(e, ERR_INPUT, "no image for platform %s in the index (available: %s); choose one with --platform",
		w ? w : "?", have ? have : "?");
	free(w);
	free(have);
out:
	oci_platform_free(&def);
	return rc;
}

const char *oci_detect_media_type(const char *json, size_t len)
{
	static const char *const known[] = { MT_OCI_INDEX,	 MT_OCI_MANIFEST,   MT_DOCKER_LIST,
					     MT_DOCKER_MANIFEST, MT_DOCKER_SCHEMA1, MT_DOCKER_SCHEMA1_SIGNED };
	const char *r = NULL;
	if (!json || len == 0 || len > BUF_CAP_MANIFEST)
		return NULL;
	cJSON *root = cJSON_ParseWithLength(json, len);
	if (!cJSON_IsObject(root))
		goto out;
	const cJSON *mt = oj_get(root, "mediaType");
	if (cJSON_IsString(mt)) {
		for (size_t i = 0; i < ARRAY_SIZE(known); i++)
			if (!strcmp(mt->valuestring, known[i]))
				r = known[i];
		goto out;
	}
	const cJSON *sv = oj_get(root, "schemaVersion");
	if (cJSON_IsNumber(sv) && sv->valuedouble == 1)
		r = MT_DOCKER_SCHEMA1;
	else if (oj_get(root, "manifests"))
		r = MT_OCI_INDEX;
	else if (oj_get(root, "layers"))
		r = MT_OCI_MANIFEST;
out:
	cJSON_Delete(root);
	return r;
}

void oci_config_free(struct oci_config *c)
{
	if (!c)
		return;
	free(c->os);
	free(c->architecture);
	free(c->variant);
	free(c->created);
	free(c->user);
	free(c->workdir);
	oj_strv_free(c->env);
	oj_strv_free(c->entrypoint);
	oj_strv_free(c->cmd);
	free(c->labels_json);
	oj_strv_free(c->diff_ids);
	memset(c, 0, sizeof *c);
}

int oci_config_parse(struct oci_config *c, const char *json, size_t len, struct err *e)
{
	memset(c, 0, sizeof *c);
	int rc = -1;
	cJSON *root = oj_parse_object(json, len, BUF_CAP_MANIFEST, "image config", e);
	if (!root)
		return -1;
	if (oj_str(root, "os", false, &c->os, e) < 0 || oj_str(root, "architecture", false, &c->architecture, e) < 0 ||
	    oj_str(root, "variant", false, &c->variant, e) < 0 || oj_str(root, "created", false, &c->created, e) < 0)
		goto out;
	const cJSON *cfg = oj_get(root, "config");
	if (cfg) {
		if (!cJSON_IsObject(cfg)) {
			err_set(e, ERR_INPUT, "\"config\" must be an object");
			goto out;
		}
		if (oj_str(cfg, "User", false, &c->user, e) < 0 || oj_str(cfg, "WorkingDir", false, &c->workdir, e) < 0 ||
		    oj_strv(cfg, "Env", &c->env, NULL, e) < 0 || oj_strv(cfg, "Entrypoint", &c->entrypoint, NULL, e) < 0 ||
		    oj_strv(cfg, "Cmd", &c->cmd, NULL, e) < 0 || oj_object_text(cfg, "Labels", &c->labels_json, e) < 0) {
			err_prefix(e, "config");
			goto out;
		}
	}
	const cJSON *rootfs = oj_get(root, "rootfs");
	if (rootfs) {
		if (!cJSON_IsObject(rootfs)) {
			err_set(e, ERR_INPUT, "\"rootfs\" must be an object");
			goto out;
		}
		if (oj_strv(rootfs, "diff_ids", &c->diff_ids, &c->n_diff_ids, e) < 0) {
			err_prefix(e, "rootfs");
			goto out;
		}
		for (size_t i = 0; i < c->n_diff_ids; i++)
			if (oci_digest_check(c->diff_ids[i], "rootfs.diff_ids", e) < 0)
				goto out;
	}
	const cJSON *hist = oj_get(root, "history");
	if (hist) {
		if (!cJSON_IsArray(hist)) {
			err_set(e, ERR_INPUT, "\"history\" must be an array");
			goto out;
		}
		c->n_history = (size_t)cJSON_GetArraySize(hist);
	}
	rc = 0;
out:
	cJSON_Delete(root);
	if (rc < 0) {
		oci_config_free(c);
		err_prefix(e, "invalid image config");
	}
	return rc;
}
