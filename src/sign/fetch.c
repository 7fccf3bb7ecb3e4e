/* Reading what signing stored, and carrying it along: the digest a
 * reference resolves to, the referrers of an image (through the API or the
 * tag schema) and their Sigstore bundles, and the copy of an image's
 * signatures, attestations and referrers to another registry
 * (copy --with-signatures). Writing is in store.c. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/util.h"
#include "oci/desc.h"
#include "oci/manifest.h"
#include "sign/bundle.h"
#include "sign/cosign.h"
#include "sign/store.h"
#include "sign/verify.h"

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

/* --------------------------------------------------------- reading referrers */

int referrers_list(struct reg_client *c, const char *digest, struct oci_index *idx, bool *api,
		   struct err *e)
{
	struct buf body __attribute__((cleanup(buf_cleanup))) = BUF_INIT;
	_cleanup_free_ char *tag = NULL;
	bool found;

	memset(idx, 0, sizeof(*idx));
	buf_init(&body, BUF_CAP_MANIFEST);
	if (reg_get_referrers(c, digest, &body, api, e) < 0)
		return -1;
	if (*api)
		return referrers_index_parse(idx, &body, MT_OCI_INDEX, "referrers of", digest, e);
	if (!(tag = referrers_tag(digest, e)))
		return -1;
	return referrers_index_fetch(c, tag, idx, &found, NULL, e);
}

void sig_bundle_item_free(struct sig_bundle_item *b)
{
	free(b->manifest_digest);
	free(b->subject_digest);
	free(b->annotations_json);
	buf_free(&b->blob);
	memset(b, 0, sizeof(*b));
}

void sig_bundles_free(struct sig_bundle_item *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		sig_bundle_item_free(&v[i]);
	free(v);
}

/* GET a referrer's manifest into body and parse it into m; its digest names
 * it in the error. With is_index, a referrer that is not an image manifest
 * sets it and is not parsed; without, it fails to parse. */
static int referrer_manifest(struct reg_client *c, const char *digest, struct buf *body,
			     struct oci_manifest *m, bool *is_index, struct err *e)
{
	_cleanup_free_ char *mt = NULL;

	if (is_index)
		*is_index = false;
	buf_init(body, BUF_CAP_MANIFEST);
	if (reg_get_manifest(c, digest, body, &mt, NULL, e) < 0)
		return -1;
	if (is_index && mt && !oci_mt_is_manifest(mt)) {
		*is_index = true;
		return 0;
	}
	if (oci_manifest_parse(m, body->data, body->len, mt, e) < 0)
		return err_prefix(e, "referrer %s", digest);
	return 0;
}

/* One Sigstore bundle referrer into b: its manifest, subject, annotations
 * and the bundle blob. */
static int bundle_item_fetch(struct reg_client *c, const struct oci_desc *d,
			     struct sig_bundle_item *b, struct err *e)
{
	struct buf body __attribute__((cleanup(buf_cleanup))) = BUF_INIT;
	struct oci_manifest m;
	int rc = -1;

	buf_init(&b->blob, PAYLOAD_MAX);
	if (!(b->manifest_digest = xstrdup_e(d->digest, e)) ||
	    referrer_manifest(c, d->digest, &body, &m, NULL, e) < 0)
		return -1;
	if (m.n_layers != 1 || !m.layers[0].media_type ||
	    strcmp(m.layers[0].media_type, MT_SIGSTORE_BUNDLE) != 0 ||
	    m.layers[0].size > (int64_t)PAYLOAD_MAX)
		err_set(e, ERR_INPUT, "referrer %s: not one Sigstore bundle layer", d->digest);
	else if ((m.subject && !(b->subject_digest = xstrdup_e(m.subject->digest, e))) ||
		 (m.annotations_json && !(b->annotations_json = xstrdup_e(m.annotations_json, e))) ||
		 reg_get_blob_buf(c, &m.layers[0], &b->blob, PAYLOAD_MAX, e) < 0)
		err_prefix(e, "referrer %s", d->digest);
	else
		rc = 0;
	oci_manifest_free(&m);
	return rc;
}

int sig_bundles_fetch(struct reg_client *c, const char *digest, struct sig_bundle_item **out,
		      size_t *n, bool *api, struct err *e)
{
	struct oci_index idx;
	struct sig_bundle_item *v = NULL;
	size_t cnt = 0;

	*out = NULL;
	*n = 0;
	if (referrers_list(c, digest, &idx, api, e) < 0)
		return -1;
	if (idx.n && !(v = calloc(idx.n, sizeof(*v)))) {
		oci_index_free(&idx);
		return err_oom(e);
	}
	for (size_t i = 0; i < idx.n; i++) {
		const struct oci_desc *d = &idx.manifests[i];

		if (!d->artifact_type || strcmp(d->artifact_type, MT_SIGSTORE_BUNDLE) != 0)
			continue; /* not ours to judge (SBOMs, other signers) */
		if (bundle_item_fetch(c, d, &v[cnt++], e) < 0) {
			sig_bundles_free(v, cnt);
			oci_index_free(&idx);
			return -1;
		}
	}
	oci_index_free(&idx);
	*out = v;
	*n = cnt;
	return 0;
}

/* ------------------------------------------------------------- copying */

static int copy_manifest_blobs(struct reg_client *src, struct reg_client *dst,
			       const struct oci_manifest *m, struct err *e)
{
	struct buf b __attribute__((cleanup(buf_cleanup))) = BUF_INIT;

	buf_init(&b, PAYLOAD_MAX);
	for (size_t i = 0; i <= m->n_layers; i++) {
		const struct oci_desc *d = i < m->n_layers ? &m->layers[i] : &m->config;

		if (d->size > (int64_t)PAYLOAD_MAX)
			return err_set(e, ERR_INPUT, "blob %s is larger than %u bytes", d->digest,
				       PAYLOAD_MAX);
		if (reg_get_blob_buf(src, d, &b, PAYLOAD_MAX, e) < 0 ||
		    reg_push_blob_buf(dst, b.data, b.len, d->digest, e) < 0)
			return -1;
	}
	return 0;
}

/* The legacy .sig / .att layers of digest, each kind in one update at dst. */
static int copy_legacy(struct reg_client *src, struct reg_client *dst, const char *digest,
		       struct sign_copy_stats *st, struct err *e)
{
	static const char *const kinds[] = {"sig", "att"};

	for (size_t k = 0; k < ARRAY_SIZE(kinds); k++) {
		_cleanup_free_ char *tag = cosign_tag(digest, kinds[k], e);
		_cleanup_free_ struct sig_item *items = NULL;
		struct sig_set s;
		size_t added = 0;
		bool found;
		int rc;

		if (!tag || sig_set_fetch(src, tag, &s, &found, e) < 0)
			return -1;
		if (!found)
			continue;
		if (!(items = calloc(s.n, sizeof(*items)))) {
			sig_set_free(&s);
			return err_oom(e);
		}
		for (size_t i = 0; i < s.n; i++)
			items[i] = (struct sig_item){s.layers[i].media_type, s.layers[i].blob.data,
						     s.layers[i].blob.len, s.layers[i].annotations_json};
		rc = sig_append_layers(dst, tag, items, s.n, false, &added, e);
		sig_set_free(&s);
		if (rc < 0)
			return err_prefix(e, "copy %s", tag);
		st->legacy += added;
	}
	return 0;
}

/* The referrer manifests of digest (with their blobs), listed at dst in one
 * update. */
static int copy_referrers(struct reg_client *src, struct reg_client *dst, const char *digest,
			  struct sign_copy_stats *st, struct err *e)
{
	struct oci_index idx;
	struct referrer_item *items = NULL;
	struct referrer_result *rr = NULL;
	size_t n = 0;
	bool api;
	int rc = -1;

	if (referrers_list(src, digest, &idx, &api, e) < 0)
		return -1;
	if (idx.n && (!(items = calloc(idx.n, sizeof(*items))) || !(rr = calloc(idx.n, sizeof(*rr))))) {
		err_oom(e);
		goto out;
	}
	for (size_t i = 0; i < idx.n; i++) {
		const struct oci_desc *d = &idx.manifests[i];
		struct buf body = BUF_INIT;
		char *mt = NULL;
		struct oci_manifest m;
		bool skip;

		buf_init(&body, BUF_CAP_MANIFEST);
		if (reg_get_manifest(src, d->digest, &body, &mt, NULL, e) < 0 ||
		    (!(skip = mt && !oci_mt_is_manifest(mt)) && /* index referrers: not copied */
		     oci_manifest_parse(&m, body.data, body.len, mt, e) < 0)) {
			free(mt);
			buf_free(&body);
			err_prefix(e, "referrer %s", d->digest);
			goto out;
		}
		free(mt);
		/* listed for this image, but about another one: not copied */
		if (!skip && (skip = !m.subject || !m.subject->digest ||
				     strcmp(m.subject->digest, digest) != 0))
			oci_manifest_free(&m);
		if (skip) {
			buf_free(&body);
			continue;
		}
		rc = copy_manifest_blobs(src, dst, &m, e);
		oci_manifest_free(&m);
		items[n] = (struct referrer_item){NULL, 0, d->artifact_type, d->annotations_json};
		items[n].body = buf_detach(&body, &items[n].n);
		n++;
		if (rc < 0) {
			err_prefix(e, "copy referrer %s", d->digest);
			goto out;
		}
		rc = -1;
	}
	if (referrers_put(dst, digest, items, n, rr, e) < 0) {
		err_prefix(e, "copy the referrers of %s", digest);
		goto out;
	}
	st->referrers += n;
	for (size_t i = 0; i < n; i++)
		st->api = st->api || rr[i].api;
	rc = 0;
out:
	for (size_t i = 0; i < n; i++)
		free((char *)items[i].body);
	free(items);
	free(rr);
	oci_index_free(&idx);
	return rc;
}

/* The legacy layers and the referrers of one manifest (or index), added to st. */
static int copy_one(struct reg_client *src, struct reg_client *dst, const char *digest,
		    struct sign_copy_stats *st, struct err *e)
{
	return copy_legacy(src, dst, digest, st, e) < 0 ||
			       copy_referrers(src, dst, digest, st, e) < 0
		   ? -1
		   : 0;
}

int sign_copy_signatures(struct reg_client *src, struct reg_client *dst, const char *digest,
			 struct sign_copy_stats *st, struct err *e)
{
	struct buf body __attribute__((cleanup(buf_cleanup))) = BUF_INIT;
	_cleanup_free_ char *mt = NULL;
	struct oci_index idx;
	int rc = 0;

	memset(st, 0, sizeof(*st));
	if (copy_one(src, dst, digest, st, e) < 0)
		return -1;
	/* An index: each manifest it lists has signatures of its own (cosign
	 * signs the index and, with --recursive, every platform's manifest). */
	buf_init(&body, BUF_CAP_MANIFEST);
	if (reg_get_manifest(src, digest, &body, &mt, NULL, e) < 0)
		return err_prefix(e, "read %s", digest);
	if (!mt || !oci_mt_is_index(mt))
		return 0;
	if (oci_index_parse(&idx, body.data, body.len, mt, e) < 0)
		return err_prefix(e, "index %s", digest);
	if (idx.n > SIG_MAX_CHILDREN) {
		oci_index_free(&idx);
		return err_set(e, ERR_INPUT, "index %s lists more than %d manifests", digest,
			       SIG_MAX_CHILDREN);
	}
	for (size_t i = 0; i < idx.n && rc == 0; i++) {
		const char *d = idx.manifests[i].digest;

		if (!d || strcmp(d, digest) == 0)
			continue;
		rc = copy_one(src, dst, d, st, e);
		if (rc < 0)
			err_prefix(e, "manifest %s of the index", d);
		else
			st->children++;
	}
	oci_index_free(&idx);
	return rc;
}
