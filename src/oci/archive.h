/* docker-archive: `docker save` tarballs, both the legacy form
 * (manifest.json + <id>/layer.tar + <id>.json) and the Docker 25+ form (an
 * OCI layout inside the tar, plus manifest.json for older loaders). */
#ifndef BOSUN_OCI_ARCHIVE_H
#define BOSUN_OCI_ARCHIVE_H

#include "core/err.h"
#include "oci/desc.h"
#include "oci/layout.h"

/* Import one image from FILE into the staging layout, streaming (no layer is
 * held in memory). OCI form: the blobs reachable from the chosen index.json
 * entry are imported byte for byte (digests preserved). Legacy form: config
 * and layers become blobs and a Docker schema2 manifest is synthesised and
 * stored (an OCI manifest when a layer is zstd, which schema2 cannot name).
 * tag: a reference matched after normalisation against RepoTags /
 * io.containerd.image.name (or the literal ref.name); NULL = the only image.
 * out_manifest: the root descriptor, which may be an index (multi-platform
 * OCI form); index.json of staging is not changed. ERR_INPUT for a
 * truncated or non-tar file, a missing manifest, unsafe member names or
 * digest mismatches, always naming FILE. */
int docker_archive_read(const char *file, const char *tag, struct oci_layout *staging, struct oci_desc *out_manifest,
			struct err *e);

/* Write the single-platform image manifest_desc (from src) to FILE,
 * atomically and deterministically (sorted members, mtime 0, uid/gid 0):
 * oci-layout, index.json, blobs/ALG/HEX, and the legacy manifest.json and
 * repositories files. repo_tag (may be NULL) goes into RepoTags and the
 * index.json annotations. ERR_USAGE for an index (choose --platform). */
int docker_archive_write(const char *file, struct oci_layout *src, const struct oci_desc *manifest_desc,
			 const char *repo_tag, struct err *e);

#endif
