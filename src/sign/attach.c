/* Signing and attesting an image: what `bosun sign`, `bosun attest` and
 * `bosun ship` write, in cosign's legacy format (.sig / .att layers), as
 * Sigstore bundles (OCI 1.1 referrers), or both. Several attestations of
 * one image are written together: one update of the .att manifest and one
 * of the referrers tag schema index for all of them. The concurrent-writer
 * machinery they write through is in store.c. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "core/util.h"
#include "oci/desc.h"
#include "oci/manifest.h"
#include "sign/bundle.h"
#include "sign/cosign.h"
#include "sign/store.h"

#define EMPTY_DIGEST "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"

void sign_result_free(struct sign_result *r)
{
	free(r->tag);
	r->tag = NULL;
}

int sig_format_parse(const char *s, enum sig_format *f)
{
	if (strcmp(s, "legacy") == 0)
		*f = SIG_FORMAT_LEGACY;
	else if (strcmp(s, "bundle") == 0)
		*f = SIG_FORMAT_BUNDLE;
	else if (strcmp(s, "both") == 0)
		*f = SIG_FORMAT_BOTH;
	else
		return -1;
	return 0;
}

/* {"K":"V",...} with the signature and a creation time (unsigned, for
 * display: the simple-signing payload has no time of its own), and the key
 * id for the concurrent-writer check. */
static int layer_annotations(const char *sig_b64, const char *pred_type, const char *keyid,
			     struct buf *out, struct err *e)
{
	cJSON *a = cJSON_CreateObject();
	char ts[32], *t;
	int rc;

	if (!a)
		return err_oom(e);
	cJSON_AddStringToObject(a, ANN_COSIGN_SIG, sig_b64);
	if (pred_type)
		cJSON_AddStringToObject(a, ANN_PREDICATE_TYPE, pred_type);
	time_rfc3339((int64_t)time(NULL), ts);
	cJSON_AddStringToObject(a, ANN_CREATED, ts);
	cJSON_AddStringToObject(a, ANN_KEYID, keyid);
	t = cJSON_PrintUnformatted(a);
	cJSON_Delete(a);
	if (!t)
		return err_oom(e);
	rc = buf_adds(out, t, e);
	free(t);
	return rc;
}

/* The image's own descriptor, for the referrer's subject: media type and
 * size as the registry serves them. */
static int subject_desc(struct reg_client *c, const char *digest, struct oci_desc *d, struct err *e)
{
	char *mt = NULL;
	int64_t size = -1;

	memset(d, 0, sizeof(*d));
	if (reg_head_manifest(c, digest, NULL, &mt, &size, e) < 0)
		return -1;
	if (size <= 0 || !mt || (!oci_mt_is_manifest(mt) && !oci_mt_is_index(mt))) {
		struct buf body __attribute__((cleanup(buf_cleanup))) = BUF_INIT;

		free(mt);
		mt = NULL;
		buf_init(&body, BUF_CAP_MANIFEST);
		if (reg_get_manifest(c, digest, &body, &mt, NULL, e) < 0)
			return -1;
		size = (int64_t)body.len;
	}
	d->media_type = mt ? mt : strdup(MT_OCI_MANIFEST);
	d->size = size;
	d->digest = strdup(digest);
	if (!d->media_type || !d->digest) {
		oci_desc_free(d);
		return err_oom(e);
	}
	return 0;
}

/* One bundle as an OCI 1.1 artifact manifest: empty config, one layer
 * (digest ld of the bundle), subject = the image, annotations as
 * BUNDLE_SPEC.md (plus the key id). *body and *ann are malloc'd. */
static int bundle_manifest(const struct oci_desc *subject,
			   const struct buf *bundle, const char *ld, const char *pred_type,
			   const char *keyid, char **body, size_t *blen, char **ann, struct err *e)
{
	struct oci_manifest m = {0};
	struct oci_desc layer = {0};
	char ts[32];
	cJSON *a;

	*body = *ann = NULL;
	time_rfc3339((int64_t)time(NULL), ts);
	if (!(a = cJSON_CreateObject()))
		return err_oom(e);
	cJSON_AddStringToObject(a, ANN_BUNDLE_CONTENT, "dsse-envelope");
	cJSON_AddStringToObject(a, ANN_BUNDLE_PREDICATE, pred_type);
	cJSON_AddStringToObject(a, ANN_CREATED, ts);
	cJSON_AddStringToObject(a, ANN_BUNDLE_KEYID, keyid);
	*ann = cJSON_PrintUnformatted(a);
	cJSON_Delete(a);
	if (!*ann)
		return err_oom(e);
	layer.media_type = (char *)MT_SIGSTORE_BUNDLE;
	layer.digest = (char *)ld;
	layer.size = (int64_t)bundle->len;
	m.schema_version = 2;
	m.media_type = (char *)MT_OCI_MANIFEST;
	m.artifact_type = (char *)MT_SIGSTORE_BUNDLE;
	m.config.media_type = (char *)MT_OCI_EMPTY;
	m.config.digest = (char *)EMPTY_DIGEST;
	m.config.size = 2;
	m.layers = &layer;
	m.n_layers = 1;
	m.subject = (struct oci_desc *)subject;
	m.annotations_json = *ann;
	return (*body = oci_manifest_serialise(&m, blen, e)) ? 0 : -1;
}

/* Bundles bundles[0..n) (predicate types pred_types[i]) as referrers of the
 * image digest: their manifests pushed, then listed in one update. The
 * caller pushed the bundles and the empty config already. */
static int bundles_push(struct reg_client *c, const char *digest, const struct buf *bundles,
			const char *const *pred_types, size_t n, const char *keyid,
			struct sign_result *r, struct err *e)
{
	struct referrer_item items[SIG_MAX_BATCH] = {{0}};
	struct referrer_result rr[SIG_MAX_BATCH];
	char *bodies[SIG_MAX_BATCH] = {0}, *anns[SIG_MAX_BATCH] = {0}, ld[SIG_MAX_BATCH][72];
	struct oci_desc subj = {0};
	int rc = -1;

	if (n > SIG_MAX_BATCH)
		return err_set(e, ERR_USAGE, "more than %d attestations at once", SIG_MAX_BATCH);
	for (size_t i = 0; i < n; i++)
		sha256_digest_str(bundles[i].data, bundles[i].len, ld[i]);
	if (subject_desc(c, digest, &subj, e) < 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		if (bundle_manifest(&subj, &bundles[i], ld[i], pred_types[i], keyid, &bodies[i],
				    &items[i].n, &anns[i], e) < 0)
			goto out;
		items[i].body = bodies[i];
		items[i].artifact_type = MT_SIGSTORE_BUNDLE;
		items[i].annotations_json = anns[i];
	}
	if (referrers_put(c, digest, items, n, rr, e) < 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		snprintf(r->referrer, sizeof(r->referrer), "%s", rr[i].digest);
		r->api = rr[i].api;
		r->added = r->added || rr[i].api || rr[i].added;
	}
	rc = 0;
out:
	for (size_t i = 0; i < n; i++) {
		free(bodies[i]);
		free(anns[i]);
	}
	oci_desc_free(&subj);
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

/* The simple-signing payload of the image and its layer annotations (with
 * the signature), for .sig. */
static int legacy_signature(const struct sign_key *k, const char *name, const char *digest,
			    const char *const *keys, const char *const *vals, size_t n_ann,
			    const char *hint, struct buf *payload, struct buf *ann, struct err *e)
{
	_cleanup_free_ char *b64 = NULL;
	unsigned char *sig = NULL;
	size_t siglen = 0;

	if (cosign_payload_build(name, digest, keys, vals, n_ann, payload, e) < 0 ||
	    sign_key_sign(k, payload->data, payload->len, &sig, &siglen, e) < 0)
		return -1;
	b64 = base64_alloc(sig, siglen, e);
	free(sig);
	if (!b64 || layer_annotations(b64, NULL, hint, ann, e) < 0)
		return -1;
	return 0;
}

int sign_image_fmt(struct reg_client *c, const struct oci_ref *ref, const struct sign_key *k,
		   const char *const *keys, const char *const *vals, size_t n_ann,
		   enum sig_format fmt, struct sign_result *r, struct err *e)
{
	struct buf payload __attribute__((cleanup(buf_cleanup))) = BUF_INIT;
	struct buf ann __attribute__((cleanup(buf_cleanup))) = BUF_INIT;
	struct buf st __attribute__((cleanup(buf_cleanup))) = BUF_INIT;
	struct buf bundle __attribute__((cleanup(buf_cleanup))) = BUF_INIT;
	_cleanup_free_ char *name = NULL;
	const char *pt = PREDICATE_COSIGN_SIGN;
	struct reg_blob_mem blobs[3] = {{"{}", 2, EMPTY_DIGEST}};
	char hint[48], pd[72], bd[72];
	size_t nb = 1, added = 0;

	if (store_begin(c, ref, "sig", r, &name, e) < 0 || sign_key_hint(k, hint, e) < 0)
		return -1;
	if ((fmt & SIG_FORMAT_LEGACY) &&
	    legacy_signature(k, name, r->digest, keys, vals, n_ann, hint, &payload, &ann, e) < 0)
		return -1;
	if ((fmt & SIG_FORMAT_BUNDLE) &&
	    (cosign_sign_statement_build(r->digest, keys, vals, n_ann, &st, e) < 0 ||
	     bundle_build_dsse(k, st.data, st.len, &bundle, e) < 0))
		return -1;
	/* every blob at once (the empty config of a bundle's manifest too) */
	if (fmt & SIG_FORMAT_LEGACY) {
		sha256_digest_str(payload.data, payload.len, pd);
		blobs[nb++] = (struct reg_blob_mem){payload.data, payload.len, pd};
	}
	if (fmt & SIG_FORMAT_BUNDLE) {
		sha256_digest_str(bundle.data, bundle.len, bd);
		blobs[nb++] = (struct reg_blob_mem){bundle.data, bundle.len, bd};
	}
	if (reg_push_blobs_mem(c, blobs + !(fmt & SIG_FORMAT_BUNDLE), nb - !(fmt & SIG_FORMAT_BUNDLE), e) < 0)
		return err_prefix(e, "store signature");
	if (fmt & SIG_FORMAT_LEGACY) {
		struct sig_item it = {MT_SIMPLESIGNING, payload.data, payload.len, ann.data};

		if (sig_append_layers(c, r->tag, &it, 1, true, &added, e) < 0)
			return err_prefix(e, "store signature %s", r->tag);
		r->added = added > 0;
	}
	if ((fmt & SIG_FORMAT_BUNDLE) &&
	    bundles_push(c, r->digest, &bundle, &pt, 1, hint, r, e) < 0)
		return err_prefix(e, "store signature bundle");
	return 0;
}

int sign_image(struct reg_client *c, const struct oci_ref *ref, const struct sign_key *k,
	       const char *const *keys, const char *const *vals, size_t n_ann,
	       struct sign_result *r, struct err *e)
{
	return sign_image_fmt(c, ref, k, keys, vals, n_ann, SIG_FORMAT_BOTH, r, e);
}

/* The DSSE envelope (st signed) and its layer annotations, for .att. */
static int legacy_envelope(const struct sign_key *k, const struct buf *st, const char *pred_type,
			   const char *hint, struct buf *env, struct buf *ann, struct err *e)
{
	struct buf pae __attribute__((cleanup(buf_cleanup))) = BUF_INIT;
	unsigned char *sig = NULL;
	size_t siglen = 0;
	int rc;

	if (dsse_pae(INTOTO_PAYLOAD_TYPE, st->data, st->len, &pae, e) < 0 ||
	    sign_key_sign(k, pae.data, pae.len, &sig, &siglen, e) < 0)
		return -1;
	rc = dsse_envelope_build(INTOTO_PAYLOAD_TYPE, st->data, st->len, sig, siglen, env, e);
	free(sig);
	/* cosign leaves the signature annotation empty on attestations: the
	 * signature lives in the envelope. */
	if (rc < 0 || layer_annotations("", pred_type, hint, ann, e) < 0)
		return -1;
	return 0;
}

int attest_image_many(struct reg_client *c, const struct oci_ref *ref, const struct sign_key *k,
		      const struct attest_pred *preds, size_t n, enum sig_format fmt,
		      struct sign_result *r, struct err *e)
{
	struct buf st[SIG_MAX_BATCH], env[SIG_MAX_BATCH], ann[SIG_MAX_BATCH], bun[SIG_MAX_BATCH];
	struct sig_item items[SIG_MAX_BATCH];
	struct reg_blob_mem blobs[2 * SIG_MAX_BATCH + 1] = {{"{}", 2, EMPTY_DIGEST}};
	char dg[2 * SIG_MAX_BATCH + 1][72];
	const char *types[SIG_MAX_BATCH];
	char *name = NULL, hint[48];
	size_t added = 0, nb = 1, i;
	int rc = -1;

	if (n == 0 || n > SIG_MAX_BATCH)
		return err_set(e, ERR_USAGE, "1 to %d attestations at once", SIG_MAX_BATCH);
	for (i = 0; i < n; i++) {
		buf_init(&st[i], 0);
		buf_init(&env[i], 0);
		buf_init(&ann[i], 0);
		buf_init(&bun[i], 0);
	}
	if (store_begin(c, ref, "att", r, &name, e) < 0 || sign_key_hint(k, hint, e) < 0)
		goto out;
	for (i = 0; i < n; i++) {
		types[i] = preds[i].type;
		if (intoto_statement_build(name, r->digest, preds[i].type, preds[i].data, preds[i].n,
					   (long long)time(NULL), &st[i], e) < 0) {
			err_prefix(e, "predicate");
			goto out;
		}
		if (((fmt & SIG_FORMAT_LEGACY) &&
		     legacy_envelope(k, &st[i], preds[i].type, hint, &env[i], &ann[i], e) < 0) ||
		    ((fmt & SIG_FORMAT_BUNDLE) &&
		     bundle_build_dsse(k, st[i].data, st[i].len, &bun[i], e) < 0))
			goto out;
		items[i] = (struct sig_item){MT_DSSE, env[i].data, env[i].len, ann[i].data};
		for (int f = 0; f < 2; f++) {
			const struct buf *x = f ? &bun[i] : &env[i];

			if (!(fmt & (f ? SIG_FORMAT_BUNDLE : SIG_FORMAT_LEGACY)))
				continue;
			sha256_digest_str(x->data, x->len, dg[nb]);
			blobs[nb] = (struct reg_blob_mem){x->data, x->len, dg[nb]};
			nb++;
		}
	}
	/* every envelope and bundle at once (and the bundles' empty config) */
	if (reg_push_blobs_mem(c, blobs + !(fmt & SIG_FORMAT_BUNDLE), nb - !(fmt & SIG_FORMAT_BUNDLE), e) < 0) {
		err_prefix(e, "store attestations");
		goto out;
	}
	if ((fmt & SIG_FORMAT_LEGACY) && sig_append_layers(c, r->tag, items, n, true, &added, e) < 0) {
		err_prefix(e, "store attestation %s", r->tag);
		goto out;
	}
	r->added = added > 0;
	if ((fmt & SIG_FORMAT_BUNDLE) && bundles_push(c, r->digest, bun, types, n, hint, r, e) < 0) {
		err_prefix(e, "store attestation bundle");
		goto out;
	}
	rc = 0;
out:
	for (i = 0; i < n; i++) {
		buf_free(&st[i]);
		buf_free(&env[i]);
		buf_free(&ann[i]);
		buf_free(&bun[i]);
	}
	free(name);
	return rc;
}

int attest_image_fmt(struct reg_client *c, const struct oci_ref *ref, const struct sign_key *k,
		     const char *predicate_type, const char *predicate, size_t n,
		     enum sig_format fmt, struct sign_result *r, struct err *e)
{
	struct attest_pred p = {predicate_type, predicate, n};

	return attest_image_many(c, ref, k, &p, 1, fmt, r, e);
}

int attest_image(struct reg_client *c, const struct oci_ref *ref, const struct sign_key *k,
		 const char *predicate_type, const char *predicate, size_t n, struct sign_result *r,
		 struct err *e)
{
	return attest_image_fmt(c, ref, k, predicate_type, predicate, n, SIG_FORMAT_BOTH, r, e);
}
