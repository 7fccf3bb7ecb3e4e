/* Signatures and attestations in registries, the way cosign keeps them: an
 * OCI manifest under the tag "sha256-<hex>.sig" (or ".att") next to the
 * image, one layer per signature. sign_image and attest_image are the entry
 * points for `bosun sign`, `bosun attest` and `bosun ship`. */
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

/* The digest ref names: its digest when it has one, else the registry's
 * answer for its tag (never a tag's moving target). */
int sign_resolve(struct reg_client *c, const struct oci_ref *ref, char digest[OCI_DIGEST_MAX],
		 struct err *e);

struct sig_layer {
	char *media_type;
	char *digest;
	char *annotations_json; /* or NULL */
	struct buf blob;        /* verified against digest */
};
struct sig_set {
	struct sig_layer *layers;
	size_t n;
};
/* The manifest under tag and every layer blob. *found is false (and 0
 * returned) when the tag does not exist. A manifest without layers, with more
 * than SIG_MAX_LAYERS, or that is not an image manifest is ERR_INPUT. */
int sig_set_fetch(struct reg_client *c, const char *tag, struct sig_set *s, bool *found, struct err *e);
void sig_set_free(struct sig_set *s);

/* Add one layer (blob of media type mt, annotations a compact JSON object)
 * to the manifest under tag, creating it when absent; an identical layer
 * (same digest and annotations) is not added twice (*added = false). */
int sig_append_layer(struct reg_client *c, const char *tag, const char *mt, const void *blob, size_t n,
		     const char *annotations_json, bool *added, struct err *e);

struct sign_result {
	char digest[OCI_DIGEST_MAX]; /* the image digest signed */
	char *tag;                   /* "sha256-<hex>.sig" / ".att", malloc'd */
	bool added;                  /* false when the same signature was there already */
};
void sign_result_free(struct sign_result *r);

/* Sign the image ref names (client c opened for push on its repository). */
int sign_image(struct reg_client *c, const struct oci_ref *ref, const struct sign_key *k,
	       const char *const *keys, const char *const *vals, size_t n_ann, struct sign_result *r,
	       struct err *e);
/* Attest: in-toto statement about the image, in a DSSE envelope, under .att. */
int attest_image(struct reg_client *c, const struct oci_ref *ref, const struct sign_key *k,
		 const char *predicate_type, const char *predicate, size_t n, struct sign_result *r,
		 struct err *e);
#endif
