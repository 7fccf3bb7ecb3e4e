/* Descriptors and media types. */
#ifndef BOSUN_OCI_DESC_H
#define BOSUN_OCI_DESC_H

#include <stdbool.h>
#include <stdint.h>
#include "core/err.h"

#define MT_OCI_INDEX "application/vnd.oci.image.index.v1+json"
#define MT_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define MT_OCI_CONFIG "application/vnd.oci.image.config.v1+json"
#define MT_OCI_LAYER "application/vnd.oci.image.layer.v1.tar"
#define MT_OCI_LAYER_GZIP "application/vnd.oci.image.layer.v1.tar+gzip"
#define MT_OCI_LAYER_ZSTD "application/vnd.oci.image.layer.v1.tar+zstd"
#define MT_OCI_EMPTY "application/vnd.oci.empty.v1+json"
#define MT_DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"
#define MT_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define MT_DOCKER_CONFIG "application/vnd.docker.container.image.v1+json"
#define MT_DOCKER_LAYER_GZIP "application/vnd.docker.image.rootfs.diff.tar.gzip"
#define MT_DOCKER_LAYER "application/vnd.docker.image.rootfs.diff.tar"
#define MT_DOCKER_LAYER_FOREIGN "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"

/* The Accept header value for manifest requests. */
#define MT_ACCEPT_MANIFESTS MT_OCI_INDEX ", " MT_OCI_MANIFEST ", " MT_DOCKER_LIST ", " MT_DOCKER_MANIFEST

struct oci_platform {
	char *os;           /* "linux" */
	char *architecture; /* "amd64" */
	char *variant;      /* "v8" or NULL */
	char *os_version;   /* or NULL */
};

struct oci_desc {
	char *media_type;
	char *digest;
	int64_t size;
	char *annotations_json; /* compact JSON object text or NULL (kept verbatim for round trips) */
	struct oci_platform *platform; /* only in index entries; NULL otherwise */
	char *artifact_type;           /* or NULL */
};

void oci_desc_free(struct oci_desc *d);
int oci_desc_copy(struct oci_desc *dst, const struct oci_desc *src, struct err *e);
void oci_platform_free(struct oci_platform *p);
/* Parse "os/arch[/variant]". ERR_USAGE on bad syntax. */
int oci_platform_parse(struct oci_platform *p, const char *s, struct err *e);
/* "linux/arm64/v8" into a malloc'd string. */
char *oci_platform_string(const struct oci_platform *p);
/* want matches have: os and arch equal (after aliases: x86_64 = amd64,
 * aarch64 = arm64); variants compared after normalisation, where a missing
 * variant means v8 for arm64 and v7 for arm (so arm64 matches arm64/v8 both
 * ways, and plain arm does not pick arm/v6). For other architectures a want
 * without variant matches any variant. os.version only when want has one.
 * Returns 1 on match, 0 otherwise. */
int oci_platform_match(const struct oci_platform *want, const struct oci_platform *have);
int oci_platform_copy(struct oci_platform *dst, const struct oci_platform *src, struct err *e);
/* linux/<architecture of this build> (amd64, arm64, ...). */
int oci_platform_default(struct oci_platform *p, struct err *e);

bool oci_mt_is_index(const char *mt);    /* OCI index or Docker list */
bool oci_mt_is_manifest(const char *mt); /* OCI manifest or Docker schema2 */

/* Descriptor <-> JSON (cJSON kept out of this header: include <cjson/cJSON.h>
 * to use these). mediaType, digest (validated) and size (integer >= 0) are
 * required; annotations (strings only) are kept verbatim; platform and
 * artifactType are optional. Errors are ERR_INPUT naming the field; callers
 * prefix where the descriptor sits ("layers[2]: ..."). */
struct cJSON;
int oci_desc_from_json(struct oci_desc *d, const struct cJSON *j, struct err *e);
/* New cJSON object: mediaType, digest, size, artifactType, annotations, platform. */
struct cJSON *oci_desc_to_json(const struct oci_desc *d, struct err *e);
int oci_platform_from_json(struct oci_platform *p, const struct cJSON *j, struct err *e);
/* Value of one annotation in d->annotations_json, malloc'd, or NULL. */
char *oci_desc_annotation(const struct oci_desc *d, const char *key);

#endif
