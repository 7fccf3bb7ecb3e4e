/* Image manifests, indexes and image configs (OCI image spec and Docker
 * schema2). Parsers take at most BUF_CAP_MANIFEST bytes and fail with
 * ERR_INPUT naming the field that is wrong. */
#ifndef BOSUN_OCI_MANIFEST_H
#define BOSUN_OCI_MANIFEST_H

#include <stdbool.h>
#include <stddef.h>
#include "core/err.h"
#include "oci/desc.h"

#define MT_DOCKER_SCHEMA1 "application/vnd.docker.distribution.manifest.v1+json"
#define MT_DOCKER_SCHEMA1_SIGNED "application/vnd.docker.distribution.manifest.v1+prettyjws"

/* Annotations on descriptors and manifests. */
#define ANN_REF_NAME "org.opencontainers.image.ref.name"
#define ANN_CONTAINERD_NAME "io.containerd.image.name"
#define ANN_BASE_NAME "org.opencontainers.image.base.name"
#define ANN_BASE_DIGEST "org.opencontainers.image.base.digest"
#define ANN_DOCKER_REF_TYPE "vnd.docker.reference.type"

struct oci_manifest {
	char *media_type; /* from the body, else the hint, else MT_OCI_MANIFEST */
	int schema_version;
	struct oci_desc config;
	struct oci_desc *layers;
	size_t n_layers;
	char *annotations_json; /* compact JSON object or NULL */
	struct oci_desc *subject; /* or NULL */
	char *artifact_type;      /* or NULL */
};

/* mt_hint: the Content-Type or descriptor media type, or NULL. The body's
 * mediaType wins when present. Docker schema 1 is refused with ERR_INPUT. */
int oci_manifest_parse(struct oci_manifest *m, const char *json, size_t len, const char *mt_hint, struct err *e);
void oci_manifest_free(struct oci_manifest *m);
/* Compact JSON (schemaVersion, mediaType, artifactType, config, layers,
 * subject, annotations). Caller frees; *len may be NULL. */
char *oci_manifest_serialise(const struct oci_manifest *m, size_t *len, struct err *e);

struct oci_index {
	char *media_type; /* MT_OCI_INDEX or MT_DOCKER_LIST */
	struct oci_desc *manifests;
	size_t n;
	char *annotations_json;
};

int oci_index_parse(struct oci_index *idx, const char *json, size_t len, const char *mt_hint, struct err *e);
/* Compact JSON (schemaVersion, mediaType, manifests with their platforms,
 * annotations). Caller frees; *len may be NULL. */
char *oci_index_serialise(const struct oci_index *idx, size_t *len, struct err *e);
void oci_index_free(struct oci_index *idx);
/* First entry matching want (NULL = oci_platform_default()), skipping
 * attestation manifests (platform unknown/unknown or
 * vnd.docker.reference.type=attestation-manifest). ERR_INPUT listing the
 * available platforms when none matches. out is a copy the caller frees. */
int oci_index_select(const struct oci_index *idx, const struct oci_platform *want, struct oci_desc *out,
		     struct err *e);
bool oci_desc_is_attestation(const struct oci_desc *d);
/* "linux/amd64, linux/arm64/v8" of the non-attestation entries; caller frees. */
char *oci_index_platforms(const struct oci_index *idx);

/* The body's mediaType when it is a known manifest type; without one,
 * "manifests" means OCI index, "layers" OCI manifest, schemaVersion 1 Docker
 * schema 1. NULL when unknown or not JSON. Returns a static string. */
const char *oci_detect_media_type(const char *json, size_t len);

/* The fields of an image config that commands show or check. */
struct oci_config {
	char *os, *architecture, *variant, *created, *user, *workdir;
	char **env;        /* NULL-terminated, or NULL */
	char **entrypoint; /* NULL-terminated, or NULL */
	char **cmd;        /* NULL-terminated, or NULL */
	char *labels_json; /* compact JSON object or NULL */
	char **diff_ids;   /* NULL-terminated (validated digests), or NULL */
	size_t n_diff_ids;
	size_t n_history;
};

int oci_config_parse(struct oci_config *c, const char *json, size_t len, struct err *e);
void oci_config_free(struct oci_config *c);

#endif
