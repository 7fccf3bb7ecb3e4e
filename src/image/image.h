/* Images wherever they live (registry, OCI layout, docker archive): open one
 * for reading, walk its manifests, and copy it between any two locations.
 * Copies go through a staging OCI layout (the destination layout itself when
 * the destination is oci:), so a blob is only ever visible complete and
 * verified, and a tag is written last. */
#ifndef BOSUN_IMAGE_IMAGE_H
#define BOSUN_IMAGE_IMAGE_H

#include <stdbool.h>
#include "core/buf.h"
#include "core/err.h"
#include "oci/desc.h"
#include "oci/layout.h"
#include "image/location.h"
#include "registry/registry.h"

struct image_src;

int image_src_open(struct image_src **out, const struct location *loc, const struct reg_opts *ro,
		   struct err *e);
void image_src_close(struct image_src *s);
/* The descriptor the location names (tag, digest, or the only image). */
int image_src_top(struct image_src *s, struct oci_desc *top, struct err *e);
/* Manifest or index bytes, verified against d->digest (max 4 MiB). */
int image_src_manifest(struct image_src *s, const struct oci_desc *d, struct buf *out,
		       struct err *e);
/* A small blob such as a config, verified. */
int image_src_blob_buf(struct image_src *s, const struct oci_desc *d, struct buf *out, size_t max,
		       struct err *e);

struct copy_opts {
	struct reg_opts src_reg, dst_reg;
	const struct oci_platform *platform; /* copy only this platform of an index */
};

struct copy_result {
	char digest[OCI_DIGEST_MAX];
	char media_type[128];
	int64_t size;
	size_t n_manifests, n_blobs;
};

int image_copy(const struct location *src, const struct location *dst, const struct copy_opts *o,
	       struct copy_result *r, struct err *e);
/* image_copy of src to the location dst names, with ro for both sides; a
 * docker archive named without a tag gets archive_tag (may be NULL); with
 * progress, the transfer shows as "push DST". */
int image_copy_to(const struct location *src, const char *dst, const struct reg_opts *ro, const char *archive_tag,
		  bool progress, struct err *e);

#endif
