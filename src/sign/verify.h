/* Verification of cosign-style signatures and attestations, and the deploy
 * gate policy (required keys any-of / all-of, required attestation types,
 * maximum severity and maximum age of the latest vulnerability scan).
 *
 * Outcomes: 0 verified; -1 with ERR_POLICY and a reason (no signature,
 * wrong key, digest mismatch, identity mismatch, missing attestation, stale
 * scan, findings over the limit); ERR_INPUT for malformed signature
 * manifests, payloads, envelopes or policy files; ERR_NETWORK from the
 * registry. */
#ifndef BOSUN_SIGN_VERIFY_H
#define BOSUN_SIGN_VERIFY_H
#include <stdbool.h>
#include <stddef.h>
#include "core/buf.h"
#include "core/err.h"
#include "oci/ref.h"
#include "registry/registry.h"
#include "sign/keys.h"

#define SEV_UNSET (-2)
#define SEV_NONE (-1) /* no finding at all is allowed */

struct sign_policy {
	char **keys; /* public key paths, resolved against the policy's directory */
	size_t n_keys;
	bool all_of;
	char **attestations; /* type names or URIs */
	size_t n_attestations;
	int max_severity;  /* SEV_UNSET, SEV_NONE, or a sign_severity_rank() */
	long long max_age; /* seconds; 0 = no limit */
};
int sign_policy_load(struct sign_policy *p, const char *path, struct err *e);
void sign_policy_free(struct sign_policy *p);

/* unknown/negligible 0, low 1, medium 2, high 3, critical 4; -1 for none
 * of these (case-insensitive). */
int sign_severity_rank(const char *s);
const char *sign_severity_name(int rank);
/* "90", "90s", "30m", "24h", "7d" -> seconds; -1 when malformed. */
long long sign_parse_duration(const char *s);

struct verify_key {
	struct sign_key key;
	const char *name;  /* file name for messages */
	bool cli;          /* from --key: at least one of these must have signed */
	bool policy;       /* from the policy: any-of / all-of */
	int n_verified;    /* signatures it verified */
};

struct verify_req {
	struct verify_key *keys;
	size_t n_keys;
	bool policy_all_of;
	const char *const *attestations; /* type names or URIs */
	size_t n_attestations;
	int max_severity;    /* SEV_UNSET for no limit */
	long long max_age;   /* 0 for no limit */
	long long now;       /* Unix time */
};

/* Verify ref (tag or digest) through c; report gets one line per verified
 * item, for the command to print. digest gets the image digest. */
int sign_verify_image(struct reg_client *c, const struct oci_ref *ref, struct verify_req *req,
		      struct buf *report, char digest[136], struct err *e);
#endif
