/* Sigstore bundles (v0.3) the way cosign 3 writes them for keyed signing:
 * a DSSE envelope of an in-toto statement, verification material = the
 * public key's hint, no transparency-log entry, no timestamp. Image
 * signatures are statements of predicate type https://sigstore.dev/cosign/sign/v1
 * with an empty predicate and the image digest as the only subject;
 * attestations are the in-toto statements of cosign.h. Pure data: store.c
 * moves bundles to and from registries as OCI 1.1 referrers. */
#ifndef BOSUN_SIGN_BUNDLE_H
#define BOSUN_SIGN_BUNDLE_H
#include <stddef.h>
#include "core/buf.h"
#include "core/err.h"
#include "sign/cosign.h"
#include "sign/keys.h"

#define MT_SIGSTORE_BUNDLE "application/vnd.dev.sigstore.bundle.v0.3+json"
#define PREDICATE_COSIGN_SIGN "https://sigstore.dev/cosign/sign/v1"
/* Annotations of a bundle's referrer manifest (cosign's BUNDLE_SPEC.md),
 * copied into its referrers index entry; the key id is bosun's. */
#define ANN_BUNDLE_CONTENT "dev.sigstore.bundle.content"
#define ANN_BUNDLE_PREDICATE "dev.sigstore.bundle.predicateType"
#define ANN_BUNDLE_KEYID "dev.bosun.bundle.keyid"

/* base64(SHA-256(PKIX DER of the public key)): cosign's and sigstore-go's
 * publicKey.hint. */
int sign_key_hint(const struct sign_key *k, char out[48], struct err *e);

/* cosign 3's signature statement:
 * {"_type":"https://in-toto.io/Statement/v1","subject":[{"digest":{"sha256":HEX}}],
 *  "predicateType":"https://sigstore.dev/cosign/sign/v1","predicate":{}}
 * with n annotations as the subject's "annotations" object. */
int cosign_sign_statement_build(const char *digest, const char *const *keys,
				const char *const *vals, size_t n, struct buf *out, struct err *e);

/* Sign the PAE of the statement and write the bundle JSON:
 * {"mediaType":MT_SIGSTORE_BUNDLE,"verificationMaterial":{"publicKey":{"hint":H},"tlogEntries":[]},
 *  "dsseEnvelope":{"payload":B64,"payloadType":"application/vnd.in-toto+json","signatures":[{"sig":B64}]}}
 */
int bundle_build_dsse(const struct sign_key *k, const void *stmt, size_t n, struct buf *out,
		      struct err *e);

struct sig_bundle {
	char *hint;		  /* verificationMaterial.publicKey.hint or NULL */
	bool message_signature;	  /* a messageSignature bundle: not for images */
	struct dsse_envelope env; /* when !message_signature */
};
/* ERR_INPUT for anything that is not a Sigstore bundle (v0.1 to v0.3). */
int bundle_parse(struct sig_bundle *b, const char *s, size_t n, struct err *e);
void bundle_free(struct sig_bundle *b);
#endif
