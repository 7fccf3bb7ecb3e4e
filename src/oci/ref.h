/* Image references with Docker's normalisation:
 *   alpine            -> docker.io/library/alpine:latest
 *   localhost:5000/a  -> localhost:5000/a:latest
 *   x/y@sha256:...    -> docker.io/x/y@sha256:... (tag kept if both are given)
 * Grammar as in distribution/reference: lowercase path components separated
 * by [._-] / "__" / "-+", tags [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}, domain
 * recognised when the first component contains '.' or ':' or is "localhost".
 * An optional "docker://" prefix is accepted; docker.io and index.docker.io
 * both become docker.io; the name as written is at most 255 characters. */
#ifndef BOSUN_OCI_REF_H
#define BOSUN_OCI_REF_H

#include <stdbool.h>
#include "core/err.h"

struct oci_ref {
	char *registry;   /* "docker.io", "localhost:5000", "[::1]:5000" */
	char *repository; /* "library/alpine" */
	char *tag;        /* NULL when absent and a digest is given; "latest" by default */
	char *digest;     /* "sha256:<64 hex>" or NULL */
};

/* Parse and normalise. ERR_INPUT with a message naming the reference on bad input. */
int oci_ref_parse(struct oci_ref *r, const char *s, struct err *e);
void oci_ref_free(struct oci_ref *r);
/* Full normalised string: registry/repository[:tag][@digest]. Caller frees. */
char *oci_ref_string(const struct oci_ref *r);
/* registry/repository. Caller frees. */
char *oci_ref_name(const struct oci_ref *r);
/* The host the API is reached at: docker.io -> registry-1.docker.io. */
const char *oci_ref_api_host(const struct oci_ref *r);
/* Tag or digest to put in /v2/<repo>/manifests/<x>: digest wins. */
const char *oci_ref_manifest_key(const struct oci_ref *r);
int oci_ref_copy(struct oci_ref *dst, const struct oci_ref *src, struct err *e);
/* Docker's short form for display and RepoTags: "alpine:3.19", "user/app:1",
 * "ghcr.io/o/r:v1" (tag and digest as present). Caller frees. */
char *oci_ref_familiar(const struct oci_ref *r);

#endif
