/* cosign's keyed formats: simple-signing payloads, the .sig / .att
 * manifests, DSSE envelopes (PAE) and in-toto statements. Pure data, no
 * network: store.h moves them to and from registries. */
#ifndef BOSUN_SIGN_COSIGN_H
#define BOSUN_SIGN_COSIGN_H
#include <stddef.h>
#include "core/buf.h"
#include "core/err.h"

#define MT_SIMPLESIGNING "application/vnd.dev.cosign.simplesigning.v1+json"
#define MT_DSSE "application/vnd.dsse.envelope.v1+json"
#define ANN_COSIGN_SIG "dev.cosignproject.cosign/signature"
#define ANN_PREDICATE_TYPE "predicateType"
#define ANN_CREATED "org.opencontainers.image.created"
#define INTOTO_PAYLOAD_TYPE "application/vnd.in-toto+json"
#define INTOTO_STATEMENT_V1 "https://in-toto.io/Statement/v1"
#define PREDICATE_VULN "https://cosign.sigstore.dev/attestation/vuln/v1"
/* bosun ship --patch: what the patch changed (image from/to, packages). */
#define PREDICATE_PATCH "https://bosun.dev/patch/v1"
#define PREDICATE_CUSTOM "https://cosign.sigstore.dev/attestation/v1"
#define PAYLOAD_MAX (4u << 20)

/* The simple-signing payload, compact, fields in cosign's order.
 * n annotations (keys[i]=vals[i]) go into "optional", else it is null. */
int cosign_payload_build(const char *identity, const char *digest, const char *const *keys,
			 const char *const *vals, size_t n, struct buf *out, struct err *e);
struct cosign_payload {
	char *identity; /* critical.identity.docker-reference */
	char *digest;   /* critical.image.docker-manifest-digest */
	char *optional_json; /* compact JSON or NULL */
};
/* ERR_INPUT when not JSON or a required field is missing or of the wrong type. */
int cosign_payload_parse(struct cosign_payload *p, const char *s, size_t n, struct err *e);
void cosign_payload_free(struct cosign_payload *p);

/* "sha256-<hex>.<suffix>" for a digest ("sig", "att"); caller frees. */
char *cosign_tag(const char *digest, const char *suffix, struct err *e);

/* DSSE pre-authentication encoding:
 * "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body. */
int dsse_pae(const char *type, const void *body, size_t n, struct buf *out, struct err *e);
/* Envelope JSON: payloadType, payload (base64), signatures [{keyid, sig}]. */
int dsse_envelope_build(const char *type, const void *body, size_t n, const unsigned char *sig,
			size_t siglen, struct buf *out, struct err *e);
struct dsse_sig {
	unsigned char *sig;
	size_t len;
};
struct dsse_envelope {
	char *payload_type;
	unsigned char *payload;
	size_t payload_len;
	struct dsse_sig *sigs;
	size_t n_sigs;
};
int dsse_envelope_parse(struct dsse_envelope *d, const char *s, size_t n, struct err *e);
void dsse_envelope_free(struct dsse_envelope *d);

/* Predicate type URI for a --type value: slsaprovenance (SLSA v1),
 * slsaprovenance02, slsaprovenance1, cyclonedx, spdxjson, vuln, openvex,
 * custom, link, or any URI (returned as given). NULL when unknown. */
const char *intoto_predicate_type(const char *type);
static inline int intoto_predicate_type_known(const char *type)
{
	return intoto_predicate_type(type) != NULL;
}
/* An in-toto Statement v1 about one image. predicate is the file's bytes:
 * JSON for every type except custom, whose bytes cosign wraps as
 * {"Data": TEXT, "Timestamp": RFC3339}. now is the time for that wrap. */
int intoto_statement_build(const char *name, const char *digest, const char *predicate_type,
			   const char *predicate, size_t n, long long now, struct buf *out,
			   struct err *e);
struct intoto_statement {
	char *predicate_type;
	char **subject_names;
	char **subject_sha256; /* hex, per subject (NULL when absent) */
	size_t n_subjects;
	void *predicate; /* cJSON *, owned */
};
int intoto_statement_parse(struct intoto_statement *st, const char *s, size_t n, struct err *e);
void intoto_statement_free(struct intoto_statement *st);
#endif
