/* Signatures and attestations in registries, the way cosign keeps them.
 * Legacy (cosign 1-2): an OCI manifest under the tag "sha256-<hex>.sig" (or
 * ".att") next to the image, one layer per signature. Bundle (cosign 3):
 * one OCI 1.1 referrer manifest per Sigstore bundle (subject = the image),
 * indexed by the registry's referrers API, or else by bosun in the
 * referrers tag schema index "sha256-<hex>". sign_image and attest_image
 * are the entry points for `bosun sign`, `bosun attest` and `bosun ship`. */
#ifndef BOSUN_SIGN_STORE_H
#define BOSUN_SIGN_STORE_H
#include <stdbool.h>
#include <stddef.h>
#include "core/buf.h"
#include "core/err.h"
#include "oci/digest.h"
#include "oci/ref.h"
#include "registry/registry.h"
#include "sign/keys.h"

#define SIG_MAX_LAYERS 256
#define SIG_MAX_REFERRERS 1024
/* Attestations written together (attest_image_many) */
#define SIG_MAX_BATCH 16
/* The signer's key id (bundle.h's sign_key_hint) on legacy layers: the
 * concurrent-writer check tells its own items from another signer's. */
#define ANN_KEYID "dev.bosun.keyid"

enum sig_format { SIG_FORMAT_LEGACY = 1, SIG_FORMAT_BUNDLE = 2, SIG_FORMAT_BOTH = 3 };
/* "legacy", "bundle", "both"; -1 when none of these. */
int sig_format_parse(const char *s, enum sig_format *f);

/* The digest ref names: its digest when it has one, else the registry's
 * answer for its tag (never a tag's moving target). */
int sign_resolve(struct reg_client *c, const struct oci_ref *ref, char digest[OCI_DIGEST_MAX],
		 struct err *e);

struct sig_layer {
	char *media_type;
	char *digest;
	char *annotations_json; /* or NULL */
	struct buf blob;	/* verified against digest */
};
struct sig_set {
	struct sig_layer *layers;
	size_t n;
};
/* The manifest under tag and every layer blob. *found is false (and 0
 * returned) when the tag does not exist. A manifest without layers, with more
 * than SIG_MAX_LAYERS, or that is not an image manifest is ERR_INPUT. */
int sig_set_fetch(struct reg_client *c, const char *tag, struct sig_set *s, bool *found,
		  struct err *e);
void sig_set_free(struct sig_set *s);

struct sig_item {
	const char *media_type;
	const void *blob;
	size_t n;
	const char *annotations_json; /* a compact JSON object, or NULL */
};
/* Add layers (items[0..n)) to the manifest under tag in one update,
 * creating it when absent, merging with concurrent writers; a layer listed
 * already (same digest and annotations) is not added twice. pushed: the
 * caller pushed the items' blobs already. *added: how many were added. */
int sig_append_layers(struct reg_client *c, const char *tag, const struct sig_item *items,
		      size_t n, bool pushed, size_t *added, struct err *e);

struct sign_result {
	char digest[OCI_DIGEST_MAX]; /* the image digest signed */
	char *tag;		     /* "sha256-<hex>.sig" / ".att", malloc'd */
	bool added;		     /* false when the same signature was there already */
	char referrer[72];	     /* the bundle's referrer manifest digest, or "" */
	bool api;		     /* the registry indexed it (referrers API) */
};
void sign_result_free(struct sign_result *r);

/* Sign the image ref names (client c opened for push on its repository). */
int sign_image(struct reg_client *c, const struct oci_ref *ref, const struct sign_key *k,
	       const char *const *keys, const char *const *vals, size_t n_ann,
	       struct sign_result *r, struct err *e);
int sign_image_fmt(struct reg_client *c, const struct oci_ref *ref, const struct sign_key *k,
		   const char *const *keys, const char *const *vals, size_t n_ann,
		   enum sig_format fmt, struct sign_result *r, struct err *e);
int attest_image_fmt(struct reg_client *c, const struct oci_ref *ref, const struct sign_key *k,
		     const char *predicate_type, const char *predicate, size_t n,
		     enum sig_format fmt, struct sign_result *r, struct err *e);
/* Attest: in-toto statement about the image, in a DSSE envelope, under .att. */
int attest_image(struct reg_client *c, const struct oci_ref *ref, const struct sign_key *k,
		 const char *predicate_type, const char *predicate, size_t n, struct sign_result *r,
		 struct err *e);
struct attest_pred {
	const char *type; /* predicate type URI */
	const char *data; /* the predicate JSON */
	size_t n;
};
/* n (1 to SIG_MAX_BATCH) attestations of one image, written together: one
 * update of the .att manifest and one of the referrers tag schema index for
 * all of them (r->referrer is the last bundle's). */
int attest_image_many(struct reg_client *c, const struct oci_ref *ref, const struct sign_key *k,
		      const struct attest_pred *preds, size_t n, enum sig_format fmt,
		      struct sign_result *r, struct err *e);

/* ------------------------------------------------------------ referrers */
struct oci_index;
/* "sha256-<hex>": the referrers tag schema tag of digest. */
char *referrers_tag(const char *digest, struct err *e);
/* Parse a referrers index from body (mt its media type): more than
 * SIG_MAX_REFERRERS entries is ERR_INPUT; errors start "WHAT NAME". */
int referrers_index_parse(struct oci_index *idx, const struct buf *body, const char *mt,
			  const char *what, const char *name, struct err *e);
/* The index under tag; *found false (0 returned) when absent; digest (may
 * be NULL) gets its digest. An index of more than SIG_MAX_REFERRERS
 * entries, or a tag that is not an index, is ERR_INPUT. */
int referrers_index_fetch(struct reg_client *c, const char *tag, struct oci_index *idx, bool *found,
			  char digest[72], struct err *e);
/* Add entries[0..n) to the tag schema index of subject_digest in one update
 * (merging with concurrent writers); *added: how many it did not list yet. */
int referrers_index_add(struct reg_client *c, const char *subject_digest,
			const struct oci_desc *entries, size_t n, size_t *added, struct err *e);
/* The referrers of digest: through the API when the registry has one
 * (*api true), else the tag schema index (empty when absent). */
int referrers_list(struct reg_client *c, const char *digest, struct oci_index *idx, bool *api,
		   struct err *e);

struct referrer_result {
	char digest[72]; /* of the manifest */
	bool api;	 /* indexed by the registry */
	bool added;	 /* added to the tag schema index */
};
struct referrer_item {
	const char *body; /* the manifest, whose subject is the image */
	size_t n;
	const char *artifact_type;
	const char *annotations_json; /* compact JSON or NULL */
};
/* PUT each manifest under its digest (r[i] its result); those the registry
 * did not answer with OCI-Subject are listed in the tag schema index of
 * subject_digest, all in one update. */
int referrers_put(struct reg_client *c, const char *subject_digest,
		  const struct referrer_item *items, size_t n, struct referrer_result *r,
		  struct err *e);

struct sig_bundle_item {
	char *manifest_digest;
	char *subject_digest;	/* the referrer manifest's subject, or NULL */
	char *annotations_json; /* the manifest's annotations, or NULL */
	struct buf blob;	/* the bundle (digest verified) */
};
/* Every referrer of digest whose artifactType is a Sigstore bundle, with
 * its bundle blob. A bundle referrer that is not one bundle layer is ERR_INPUT. */
int sig_bundles_fetch(struct reg_client *c, const char *digest, struct sig_bundle_item **out,
		      size_t *n, bool *api, struct err *e);
void sig_bundle_item_free(struct sig_bundle_item *b);
void sig_bundles_free(struct sig_bundle_item *v, size_t n);

struct sign_copy_stats {
	size_t legacy;	  /* legacy signature / attestation layers added at dst */
	size_t referrers; /* referrer manifests copied */
	size_t children;  /* manifests of an index whose signatures were copied too */
	bool api;	  /* dst indexed them itself */
};
/* An index whose signatures are copied lists at most this many manifests. */
#define SIG_MAX_CHILDREN 256
/* Copy the legacy .sig / .att layers of digest and all its referrer
 * manifests (with their blobs) from src to dst (clients of two
 * repositories; the image itself must be at dst already). When digest is
 * an image index, the same for every manifest it lists. */
int sign_copy_signatures(struct reg_client *src, struct reg_client *dst, const char *digest,
			 struct sign_copy_stats *st, struct err *e);
#endif
