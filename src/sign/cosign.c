#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "core/ojson.h"
#include "oci/digest.h"
#include "sign/cosign.h"

int cosign_payload_build(const char *identity, const char *digest, const char *const *keys,
			 const char *const *vals, size_t n, struct buf *out, struct err *e)
{
	size_t i;

	if (oci_digest_check(digest, "image digest", e) < 0)
		return -1;
	if (buf_adds(out, "{\"critical\":{\"identity\":{\"docker-reference\":", e) < 0 ||
	    oj_str_buf(out, identity, e) < 0 ||
	    buf_addf(out, e, "},\"image\":{\"docker-manifest-digest\":\"%s\"},", digest) < 0 ||
	    buf_adds(out, "\"type\":\"cosign container image signature\"},\"optional\":", e) < 0)
		return -1;
	if (n == 0)
		return buf_adds(out, "null}", e);
	if (buf_adds(out, "{", e) < 0)
		return -1;
	for (i = 0; i < n; i++) {
		if ((i && buf_adds(out, ",", e) < 0) || oj_str_buf(out, keys[i], e) < 0 ||
		    buf_adds(out, ":", e) < 0 || oj_str_buf(out, vals[i], e) < 0)
			return -1;
	}
	return buf_adds(out, "}}", e);
}

static const cJSON *obj_path(const cJSON *o, const char *a, const char *b)
{
	o = cJSON_GetObjectItemCaseSensitive(o, a);
	return b ? cJSON_GetObjectItemCaseSensitive(o, b) : o;
}

int cosign_payload_parse(struct cosign_payload *p, const char *s, size_t n, struct err *e)
{
	cJSON *root;
	const cJSON *crit, *id, *dg, *ty, *opt;
	int rc = -1;

	memset(p, 0, sizeof(*p));
	if (n > PAYLOAD_MAX)
		return err_set(e, ERR_INPUT, "signature payload larger than %u bytes", PAYLOAD_MAX);
	root = cJSON_ParseWithLength(s, n);
	if (!root || !cJSON_IsObject(root)) {
		cJSON_Delete(root);
		return err_set(e, ERR_INPUT, "signature payload is not a JSON object");
	}
	crit = cJSON_GetObjectItemCaseSensitive(root, "critical");
	id = obj_path(crit, "identity", "docker-reference");
	dg = obj_path(crit, "image", "docker-manifest-digest");
	ty = cJSON_GetObjectItemCaseSensitive(crit, "type");
	if (!cJSON_IsString(id) || !cJSON_IsString(dg) || !cJSON_IsString(ty)) {
		err_set(e, ERR_INPUT, "signature payload lacks critical.identity, critical.image or critical.type");
		goto out;
	}
	if (strcmp(ty->valuestring, "cosign container image signature") != 0) {
		err_set(e, ERR_INPUT, "signature payload has type \"%.100s\"", ty->valuestring);
		goto out;
	}
	if (!oci_digest_valid(dg->valuestring)) {
		err_set(e, ERR_INPUT, "signature payload has an invalid image digest");
		goto out;
	}
	p->identity = xstrdup_e(id->valuestring, e);
	p->digest = xstrdup_e(dg->valuestring, e);
	if (!p->identity || !p->digest)
		goto out;
	opt = cJSON_GetObjectItemCaseSensitive(root, "optional");
	if (cJSON_IsObject(opt) && !(p->optional_json = cJSON_PrintUnformatted(opt))) {
		err_oom(e);
		goto out;
	}
	rc = 0;
out:
	cJSON_Delete(root);
	if (rc < 0)
		cosign_payload_free(p);
	return rc;
}

void cosign_payload_free(struct cosign_payload *p)
{
	free(p->identity);
	free(p->digest);
	free(p->optional_json);
	memset(p, 0, sizeof(*p));
}

char *cosign_tag(const char *digest, const char *suffix, struct err *e)
{
	const char *colon = strchr(digest, ':');

	if (!oci_digest_valid(digest) || !colon) {
		err_set(e, ERR_INPUT, "invalid digest \"%.80s\"", digest);
		return NULL;
	}
	return xasprintf_e(e, "%.*s-%s.%s", (int)(colon - digest), digest, colon + 1, suffix);
}

int dsse_pae(const char *type, const void *body, size_t n, struct buf *out, struct err *e)
{
	if (buf_addf(out, e, "DSSEv1 %zu %s %zu ", strlen(type), type, n) < 0)
		return -1;
	return buf_add(out, body, n, e);
}

int dsse_envelope_build(const char *type, const void *body, size_t n, const unsigned char *sig,
			size_t siglen, struct buf *out, struct err *e)
{
	_cleanup_free_ char *pb = base64_alloc(body, n, e);
	_cleanup_free_ char *sb = base64_alloc(sig, siglen, e);

	if (!pb || !sb)
		return -1;
	if (buf_adds(out, "{\"payloadType\":", e) < 0 || oj_str_buf(out, type, e) < 0)
		return -1;
	return buf_addf(out, e, ",\"payload\":\"%s\",\"signatures\":[{\"keyid\":\"\",\"sig\":\"%s\"}]}", pb, sb);
}

int dsse_envelope_parse(struct dsse_envelope *d, const char *s, size_t n, struct err *e)
{
	cJSON *root = cJSON_ParseWithLength(s, n);
	const cJSON *pt, *pl, *sigs, *it;
	size_t i = 0;
	int rc = -1;

	memset(d, 0, sizeof(*d));
	if (!root || !cJSON_IsObject(root)) {
		err_set(e, ERR_INPUT, "DSSE envelope is not a JSON object");
		goto out;
	}
	pt = cJSON_GetObjectItemCaseSensitive(root, "payloadType");
	pl = cJSON_GetObjectItemCaseSensitive(root, "payload");
	sigs = cJSON_GetObjectItemCaseSensitive(root, "signatures");
	if (!cJSON_IsString(pt) || !cJSON_IsString(pl) || !cJSON_IsArray(sigs)) {
		err_set(e, ERR_INPUT, "DSSE envelope lacks payloadType, payload or signatures");
		goto out;
	}
	if (!(d->payload_type = xstrdup_e(pt->valuestring, e)))
		goto out;
	if (base64_decode_alloc(pl->valuestring, &d->payload, &d->payload_len, e) < 0) {
		err_prefix(e, "DSSE payload");
		goto out;
	}
	d->n_sigs = (size_t)cJSON_GetArraySize(sigs);
	if (d->n_sigs == 0 || d->n_sigs > 64) {
		err_set(e, ERR_INPUT, "DSSE envelope has %zu signatures", d->n_sigs);
		goto out;
	}
	d->sigs = calloc(d->n_sigs, sizeof(*d->sigs));
	if (!d->sigs) {
		err_oom(e);
		goto out;
	}
	cJSON_ArrayForEach(it, sigs)
	{
		const cJSON *sg = cJSON_GetObjectItemCaseSensitive(it, "sig");

		if (!cJSON_IsString(sg)) {
			err_set(e, ERR_INPUT, "DSSE signature %zu has no sig", i);
			goto out;
		}
		if (base64_decode_alloc(sg->valuestring, &d->sigs[i].sig, &d->sigs[i].len, e) < 0) {
			err_prefix(e, "DSSE signature %zu", i);
			goto out;
		}
		i++;
	}
	rc = 0;
out:
	cJSON_Delete(root);
	if (rc < 0)
		dsse_envelope_free(d);
	return rc;
}

void dsse_envelope_free(struct dsse_envelope *d)
{
	size_t i;

	for (i = 0; d->sigs && i < d->n_sigs; i++)
		free(d->sigs[i].sig);
	free(d->sigs);
	free(d->payload_type);
	free(d->payload);
	memset(d, 0, sizeof(*d));
}

static const struct {
	const char *name, *uri;
} predicate_types[] = {
	{ "slsaprovenance", "https://slsa.dev/provenance/v1" },
	{ "slsaprovenance1", "https://slsa.dev/provenance/v1" },
	{ "slsaprovenance02", "https://slsa.dev/provenance/v0.2" },
	{ "cyclonedx", "https://cyclonedx.org/bom" },
	{ "spdxjson", "https://spdx.dev/Document" },
	{ "vuln", PREDICATE_VULN },
	{ "patch", PREDICATE_PATCH },
	{ "openvex", "https://openvex.dev/ns" },
	{ "custom", PREDICATE_CUSTOM },
	{ "link", "https://in-toto.io/Link/v1" },
};

const char *intoto_predicate_type(const char *type)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(predicate_types); i++)
		if (strcmp(type, predicate_types[i].name) == 0)
			return predicate_types[i].uri;
	if (strstr(type, "://") && strlen(type) < 1024 && !strpbrk(type, " \t\r\n\""))
		return type;
	return NULL;
}

int intoto_statement_build(const char *name, const char *digest, const char *predicate_type,
			   const char *predicate, size_t n, long long now, struct buf *out,
			   struct err *e)
{
	cJSON *st = cJSON_CreateObject(), *subj, *s, *dg, *pred;
	char *text = NULL;
	int rc = -1;

	if (!st)
		return err_oom(e);
	if (oci_digest_check(digest, "image digest", e) < 0 || strncmp(digest, "sha256:", 7) != 0) {
		err_set(e, ERR_INPUT, "in-toto subjects need a sha256 digest");
		goto out;
	}
	cJSON_AddStringToObject(st, "_type", INTOTO_STATEMENT_V1);
	subj = cJSON_AddArrayToObject(st, "subject");
	s = cJSON_CreateObject();
	cJSON_AddItemToArray(subj, s);
	cJSON_AddStringToObject(s, "name", name);
	dg = cJSON_AddObjectToObject(s, "digest");
	cJSON_AddStringToObject(dg, "sha256", digest + 7);
	cJSON_AddStringToObject(st, "predicateType", predicate_type);
	if (strcmp(predicate_type, PREDICATE_CUSTOM) == 0) {
		char ts[32];

		if (!(text = xstrndup_e(predicate, n, e)))
			goto out;
		if (strlen(text) != n) {
			err_set(e, ERR_INPUT, "predicate contains NUL bytes");
			goto out;
		}
		time_rfc3339(now, ts);
		pred = cJSON_CreateObject();
		cJSON_AddStringToObject(pred, "Data", text);
		cJSON_AddStringToObject(pred, "Timestamp", ts);
	} else {
		pred = cJSON_ParseWithLength(predicate, n);
		if (!pred || !cJSON_IsObject(pred)) {
			cJSON_Delete(pred);
			err_set(e, ERR_INPUT, "predicate is not a JSON object");
			goto out;
		}
	}
	cJSON_AddItemToObject(st, "predicate", pred);
	rc = oj_print_buf(st, false, out, e);
out:
	free(text);
	cJSON_Delete(st);
	return rc;
}

int intoto_statement_parse(struct intoto_statement *st, const char *s, size_t n, struct err *e)
{
	cJSON *root = cJSON_ParseWithLength(s, n);
	const cJSON *ty, *pt, *subj, *it;
	size_t i = 0;
	int rc = -1;

	memset(st, 0, sizeof(*st));
	if (!root || !cJSON_IsObject(root)) {
		err_set(e, ERR_INPUT, "in-toto statement is not a JSON object");
		goto out;
	}
	ty = cJSON_GetObjectItemCaseSensitive(root, "_type");
	pt = cJSON_GetObjectItemCaseSensitive(root, "predicateType");
	subj = cJSON_GetObjectItemCaseSensitive(root, "subject");
	if (!cJSON_IsString(ty) || !str_starts(ty->valuestring, "https://in-toto.io/Statement/") ||
	    !cJSON_IsString(pt) || !cJSON_IsArray(subj)) {
		err_set(e, ERR_INPUT, "in-toto statement lacks _type, predicateType or subject");
		goto out;
	}
	if (!(st->predicate_type = xstrdup_e(pt->valuestring, e)))
		goto out;
	st->n_subjects = (size_t)cJSON_GetArraySize(subj);
	if (st->n_subjects > 1024) {
		err_set(e, ERR_INPUT, "in-toto statement has too many subjects");
		goto out;
	}
	st->subject_names = calloc(st->n_subjects + 1, sizeof(char *));
	st->subject_sha256 = calloc(st->n_subjects + 1, sizeof(char *));
	if (!st->subject_names || !st->subject_sha256) {
		err_oom(e);
		goto out;
	}
	cJSON_ArrayForEach(it, subj)
	{
		const cJSON *nm = cJSON_GetObjectItemCaseSensitive(it, "name");
		const cJSON *h = obj_path(it, "digest", "sha256");

		if ((cJSON_IsString(nm) && !(st->subject_names[i] = xstrdup_e(nm->valuestring, e))) ||
		    (cJSON_IsString(h) && !(st->subject_sha256[i] = xstrdup_e(h->valuestring, e))))
			goto out;
		i++;
	}
	st->predicate = cJSON_DetachItemFromObjectCaseSensitive(root, "predicate");
	rc = 0;
out:
	cJSON_Delete(root);
	if (rc < 0)
		intoto_statement_free(st);
	return rc;
}

void intoto_statement_free(struct intoto_statement *st)
{
	size_t i;

	for (i = 0; i < st->n_subjects; i++) {
		if (st->subject_names)
			free(st->subject_names[i]);
		if (st->subject_sha256)
			free(st->subject_sha256[i]);
	}
	free(st->subject_names);
	free(st->subject_sha256);
	free(st->predicate_type);
	cJSON_Delete(st->predicate);
	memset(st, 0, sizeof(*st));
}
