#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "core/util.h"
#include "core/ojson.h"
#include "oci/desc.h"
#include "oci/manifest.h"
#include "sign/cosign.h"
#include "sign/store.h"

int sign_resolve(struct reg_client *c, const struct oci_ref *ref, char digest[OCI_DIGEST_MAX],
		 struct err *e)
{
	struct buf body __attribute__((cleanup(buf_cleanup))) = BUF_INIT;
	_cleanup_free_ char *d = NULL;

	if (ref->digest) {
		snprintf(digest, OCI_DIGEST_MAX, "%s", ref->digest);
		return 0;
	}
	/* GET rather than HEAD: the body is verified against the digest we sign. */
	buf_init(&body, BUF_CAP_MANIFEST);
	if (reg_get_manifest(c, ref->tag, &body, NULL, &d, e) < 0)
		return -1;
	if (!d || !oci_digest_valid(d)) {
		char tmp[72];

		sha256_digest_str(body.data, body.len, tmp);
		snprintf(digest, OCI_DIGEST_MAX, "%s", tmp);
	} else {
		snprintf(digest, OCI_DIGEST_MAX, "%s", d);
	}
	return 0;
}

void sig_set_free(struct sig_set *s)
{
	size_t i;

	for (i = 0; i < s->n; i++) {
		free(s->layers[i].media_type);
		free(s->layers[i].digest);
		free(s->layers[i].annotations_json);
		buf_free(&s->layers[i].blob);
	}
	free(s->layers);
	memset(s, 0, sizeof(*s));
}

static int get_manifest(struct reg_client *c, const char *tag, struct oci_manifest *m, bool *found,
			struct err *e)
{
	struct buf body __attribute__((cleanup(buf_cleanup))) = BUF_INIT;
	_cleanup_free_ char *mt = NULL;
	struct err e2 = ERR_INIT;

	*found = false;
	memset(m, 0, sizeof(*m));
	buf_init(&body, BUF_CAP_MANIFEST);
	if (reg_get_manifest(c, tag, &body, &mt, NULL, &e2) < 0) {
		if (reg_not_found(&e2))
			return 0;
		*e = e2;
		return -1;
	}
	if (mt && !oci_mt_is_manifest(mt))
		return err_set(e, ERR_INPUT, "%s is a %s, not an image manifest", tag, mt);
	if (oci_manifest_parse(m, body.data, body.len, mt, e) < 0)
		return err_prefix(e, "%s", tag);
	*found = true;
	return 0;
}

int sig_set_fetch(struct reg_client *c, const char *tag, struct sig_set *s, bool *found, struct err *e)
{
	struct oci_manifest m;
	size_t i;
	int rc = -1;

	memset(s, 0, sizeof(*s));
	if (get_manifest(c, tag, &m, found, e) < 0)
		return -1;
	if (!*found)
		return 0;
	if (m.n_layers == 0 || m.n_layers > SIG_MAX_LAYERS) {
		err_set(e, ERR_INPUT, "%s: manifest has %zu layers (1 to %d expected)", tag, m.n_layers,
			SIG_MAX_LAYERS);
		goto out;
	}
	s->layers = calloc(m.n_layers, sizeof(*s->layers));
	if (!s->layers) {
		err_oom(e);
		goto out;
	}
	for (i = 0; i < m.n_layers; i++) {
		struct sig_layer *l = &s->layers[i];

		s->n++;
		buf_init(&l->blob, PAYLOAD_MAX);
		if (m.layers[i].size < 0 || m.layers[i].size > (int64_t)PAYLOAD_MAX) {
			err_set(e, ERR_INPUT, "%s: layer %zu is larger than %u bytes", tag, i, PAYLOAD_MAX);
			goto out;
		}
		if (!(l->media_type = xstrdup_e(m.layers[i].media_type ? m.layers[i].media_type : "", e)) ||
		    !(l->digest = xstrdup_e(m.layers[i].digest, e)) ||
		    (m.layers[i].annotations_json &&
		     !(l->annotations_json = xstrdup_e(m.layers[i].annotations_json, e))))
			goto out;
		if (reg_get_blob_buf(c, &m.layers[i], &l->blob, PAYLOAD_MAX, e) < 0) {
			err_prefix(e, "%s: layer %zu", tag, i);
			goto out;
		}
	}
	rc = 0;
out:
	oci_manifest_free(&m);
	if (rc < 0)
		sig_set_free(s);
	return rc;
}

/* A config like the one cosign (go-containerregistry) writes for its
 * signature images: empty platform, one diff_id per (uncompressed) layer. */
static int sig_config(const struct oci_manifest *m, struct buf *out, struct err *e)
{
	size_t i;

	if (buf_adds(out, "{\"architecture\":\"\",\"created\":\"0001-01-01T00:00:00Z\",\"history\":[", e) < 0)
		return -1;
	for (i = 0; i < m->n_layers; i++)
		if (buf_adds(out, i ? ",{\"created\":\"0001-01-01T00:00:00Z\"}" : "{\"created\":\"0001-01-01T00:00:00Z\"}", e) < 0)
			return -1;
	if (buf_adds(out, "],\"os\":\"\",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[", e) < 0)
		return -1;
	for (i = 0; i < m->n_layers; i++)
		if (buf_addf(out, e, "%s\"%s\"", i ? "," : "", m->layers[i].digest) < 0)
			return -1;
	return buf_adds(out, "]},\"config\":{}}", e);
}

/* Annotations equal as JSON values (key order aside). */
static bool same_json(const char *a, const char *b)
{
	cJSON *x, *y;
	bool r;

	if (!a || !b)
		return !a && !b;
	x = cJSON_Parse(a);
	y = cJSON_Parse(b);
	r = x && y && cJSON_Compare(x, y, true);
	cJSON_Delete(x);
	cJSON_Delete(y);
	return r;
}

static bool has_layer(const struct oci_manifest *m, const char *digest, const char *annotations_json)
{
	for (size_t i = 0; i < m->n_layers; i++)
		if (m->layers[i].digest && strcmp(m->layers[i].digest, digest) == 0 &&
		    same_json(m->layers[i].annotations_json, annotations_json))
			return true;
	return false;
}

/* One read-modify-write of the signature manifest. */
static int append_once(struct reg_client *c, const char *tag, const char *mt, const void *blob, size_t n,
		       const char *annotations_json, bool *added, struct err *e)
{
	struct buf cfg = BUF_INIT;
	struct oci_manifest m;
	struct oci_desc *nl, *layers;
	char digest[72], cdigest[72];
	char *body = NULL;
	size_t blen = 0;
	bool found;
	int rc = -1;

	*added = false;
	sha256_digest_str(blob, n, digest);
	if (get_manifest(c, tag, &m, &found, e) < 0)
		return -1;
	if (!found) {
		memset(&m, 0, sizeof(m));
		m.schema_version = 2;
		if (!(m.media_type = xstrdup_e(MT_OCI_MANIFEST, e)))
			goto out;
	}
	if (has_layer(&m, digest, annotations_json)) {
		rc = 0; /* already there */
		goto out;
	}
	if (m.n_layers >= SIG_MAX_LAYERS) {
		err_set(e, ERR_INPUT, "%s has %d signatures already", tag, SIG_MAX_LAYERS);
		goto out;
	}
	layers = realloc(m.layers, (m.n_layers + 1) * sizeof(*layers));
	if (!layers) {
		err_oom(e);
		goto out;
	}
	m.layers = layers;
	nl = &m.layers[m.n_layers++];
	memset(nl, 0, sizeof(*nl));
	nl->size = (int64_t)n;
	if (!(nl->media_type = xstrdup_e(mt, e)) || !(nl->digest = xstrdup_e(digest, e)) ||
	    (annotations_json && !(nl->annotations_json = xstrdup_e(annotations_json, e))))
		goto out;
	if (sig_config(&m, &cfg, e) < 0)
		goto out;
	sha256_digest_str(cfg.data, cfg.len, cdigest);
	oci_desc_free(&m.config);
	m.config.size = (int64_t)cfg.len;
	if (!(m.config.media_type = xstrdup_e(MT_OCI_CONFIG, e)) || !(m.config.digest = xstrdup_e(cdigest, e)))
		goto out;
	/* Blobs first, the manifest last, so the tag never names missing content. */
	if (reg_push_blob_buf(c, blob, n, digest, e) < 0 ||
	    reg_push_blob_buf(c, cfg.data, cfg.len, cdigest, e) < 0)
		goto out;
	body = oci_manifest_serialise(&m, &blen, e);
	if (!body || reg_put_manifest(c, tag, body, blen, m.media_type ? m.media_type : MT_OCI_MANIFEST, e) < 0)
		goto out;
	*added = true;
	rc = 0;
out:
	free(body);
	buf_free(&cfg);
	oci_manifest_free(&m);
	return rc;
}

/* Registries have no compare-and-swap for tags: two signers of one image
 * at once both read the signature manifest, add their layer and write it
 * back, and the later write drops the earlier signature. So after writing,
 * wait a little longer than a read-modify-write takes here, read the tag
 * again, and merge once more when another writer replaced ours. */
#define SIG_MERGE_ATTEMPTS 8

int sig_append_layer(struct reg_client *c, const char *tag, const char *mt, const void *blob, size_t n,
		     const char *annotations_json, bool *added, struct err *e)
{
	char digest[72];

	*added = false;
	sha256_digest_str(blob, n, digest);
	for (int attempt = 1;; attempt++) {
		bool put = false, ours = true;
		double t0 = time_now(), span;

		if (append_once(c, tag, mt, blob, n, annotations_json, &put, e) < 0) {
			/* Signers of one image push the same payload blob at the same
			 * time, and docker-registry's storage can then refuse the
			 * manifest for a moment (the blob it links is being replaced).
			 * Only that is worth a new merge; anything else is final. */
			bool racing = strstr(e->msg, "put manifest") &&
				      (strstr(e->msg, "DIGEST_INVALID") || strstr(e->msg, "BLOB_UNKNOWN"));
			struct timespec ts = { 0, 200000000L };

			if (!racing || attempt == SIG_MERGE_ATTEMPTS)
				return -1;
			log_debug("%s: %s; merging again", tag, e->msg);
			err_clear(e);
			nanosleep(&ts, NULL);
			continue;
		}
		*added = *added || put;
		if (!put)
			return 0;
		span = time_now() - t0;
		/* Two reads, each after a pause longer than our own read-modify-
		 * write took: a writer that read before our write and writes after
		 * our first check is still caught by the second. */
		for (int check = 1; check <= 2 && ours; check++) {
			struct oci_manifest m;
			struct timespec ts;
			bool found;
			/* jitter from the pid and the clock's nanoseconds: concurrent
			 * signers part ways (integers only: no float-to-int overflow) */
			struct timespec now;
			unsigned long long mix;
			long pause_ms;

			clock_gettime(CLOCK_MONOTONIC, &now);
			mix = (unsigned long long)getpid() * 2654435761ULL ^ (unsigned long long)now.tv_nsec;
			pause_ms = 100 * check + (long)(span * 2000 * check) + (long)(mix % 200ULL);

			if (pause_ms > 5000)
				pause_ms = 5000;
			ts.tv_sec = pause_ms / 1000;
			ts.tv_nsec = (pause_ms % 1000) * 1000000L;
			nanosleep(&ts, NULL);
			if (get_manifest(c, tag, &m, &found, e) < 0)
				return -1;
			ours = found && has_layer(&m, digest, annotations_json);
			oci_manifest_free(&m);
		}
		if (ours)
			return 0;
		if (attempt == SIG_MERGE_ATTEMPTS)
			return err_set(e, ERR_NETWORK,
				       "%s: other writers replaced the signature manifest %d times; try again", tag,
				       attempt);
		log_debug("%s: another writer replaced the signature manifest; merging again", tag);
	}
}

void sign_result_free(struct sign_result *r)
{
	free(r->tag);
	r->tag = NULL;
}

/* {"K":"V",...} with the signature and a creation time (unsigned, for
 * display: the simple-signing payload has no time of its own). */
static int layer_annotations(const char *sig_b64, const char *pred_type, struct buf *out, struct err *e)
{
	cJSON *a = cJSON_CreateObject();
	char ts[32];
	int rc;

	if (!a)
		return err_oom(e);
	cJSON_AddStringToObject(a, ANN_COSIGN_SIG, sig_b64);
	if (pred_type)
		cJSON_AddStringToObject(a, ANN_PREDICATE_TYPE, pred_type);
	time_rfc3339((int64_t)time(NULL), ts);
	cJSON_AddStringToObject(a, ANN_CREATED, ts);
	rc = oj_print_buf(a, out, e);
	cJSON_Delete(a);
	return rc;
}

/* What signing and attesting start with: the digest the tag points at now,
 * the repository name for the payload, and the sha256-<hex>.KIND tag. */
static int store_begin(struct reg_client *c, const struct oci_ref *ref, const char *kind,
		       struct sign_result *r, char **name, struct err *e)
{
	memset(r, 0, sizeof(*r));
	if (sign_resolve(c, ref, r->digest, e) < 0)
		return -1;
	*name = oci_ref_name(ref);
	r->tag = cosign_tag(r->digest, kind, e);
	if (!*name || !r->tag)
		return *name ? -1 : err_oom(e);
	return 0;
}

int sign_image(struct reg_client *c, const struct oci_ref *ref, const struct sign_key *k,
	       const char *const *keys, const char *const *vals, size_t n_ann, struct sign_result *r,
	       struct err *e)
{
	struct buf payload __attribute__((cleanup(buf_cleanup))) = BUF_INIT;
	struct buf ann __attribute__((cleanup(buf_cleanup))) = BUF_INIT;
	_cleanup_free_ char *name = NULL;
	_cleanup_free_ char *b64 = NULL;
	unsigned char *sig = NULL;
	size_t siglen = 0;
	int rc;

	if (store_begin(c, ref, "sig", r, &name, e) < 0)
		return -1;
	if (cosign_payload_build(name, r->digest, keys, vals, n_ann, &payload, e) < 0 ||
	    sign_key_sign(k, payload.data, payload.len, &sig, &siglen, e) < 0)
		return -1;
	b64 = malloc(base64_enc_len(siglen) + 1);
	if (!b64) {
		free(sig);
		return err_oom(e);
	}
	base64_encode(sig, siglen, b64);
	free(sig);
	if (layer_annotations(b64, NULL, &ann, e) < 0)
		return -1;
	rc = sig_append_layer(c, r->tag, MT_SIMPLESIGNING, payload.data, payload.len, ann.data, &r->added, e);
	return rc < 0 ? err_prefix(e, "store signature %s", r->tag) : 0;
}

int attest_image(struct reg_client *c, const struct oci_ref *ref, const struct sign_key *k,
		 const char *predicate_type, const char *predicate, size_t n, struct sign_result *r,
		 struct err *e)
{
	struct buf st __attribute__((cleanup(buf_cleanup))) = BUF_INIT;
	struct buf pae __attribute__((cleanup(buf_cleanup))) = BUF_INIT;
	struct buf env __attribute__((cleanup(buf_cleanup))) = BUF_INIT;
	struct buf ann __attribute__((cleanup(buf_cleanup))) = BUF_INIT;
	_cleanup_free_ char *name = NULL;
	unsigned char *sig = NULL;
	size_t siglen = 0;
	int rc;

	if (store_begin(c, ref, "att", r, &name, e) < 0)
		return -1;
	if (intoto_statement_build(name, r->digest, predicate_type, predicate, n, (long long)time(NULL), &st, e) < 0)
		return err_prefix(e, "predicate");
	if (dsse_pae(INTOTO_PAYLOAD_TYPE, st.data, st.len, &pae, e) < 0 ||
	    sign_key_sign(k, pae.data, pae.len, &sig, &siglen, e) < 0)
		return -1;
	rc = dsse_envelope_build(INTOTO_PAYLOAD_TYPE, st.data, st.len, sig, siglen, &env, e);
	free(sig);
	/* cosign leaves the signature annotation empty on attestations: the
	 * signature lives in the envelope. */
	if (rc < 0 || layer_annotations("", predicate_type, &ann, e) < 0)
		return -1;
	rc = sig_append_layer(c, r->tag, MT_DSSE, env.data, env.len, ann.data, &r->added, e);
	return rc < 0 ? err_prefix(e, "store attestation %s", r->tag) : 0;
}
