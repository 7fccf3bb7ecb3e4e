/* OCI image layout directories (oci:DIR[:TAG]): oci-layout, index.json and
 * blobs/ALG/HEX. Blobs appear under their digest name only complete and
 * verified (tmp file in the same directory, fsync, rename). index.json is
 * rewritten atomically under an flock on DIR, so concurrent writers (two
 * CI steps sharing a layout) never lose each other's tags. */
#ifndef BOSUN_OCI_LAYOUT_H
#define BOSUN_OCI_LAYOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "core/buf.h"
#include "core/err.h"
#include "oci/desc.h"
#include "oci/digest.h"
#include "oci/manifest.h"

struct oci_layout;
struct oci_blob_writer;

/* create: make DIR, oci-layout and an empty index.json when missing.
 * Otherwise ERR_INPUT "DIR: not an OCI layout (no index.json)". */
int oci_layout_open(struct oci_layout **out, const char *dir, bool create, struct err *e);
void oci_layout_close(struct oci_layout *l); /* NULL-safe */
const char *oci_layout_dir(const struct oci_layout *l);

/* Split the part after "oci:" into DIR and TAG (tag NULL when absent; the
 * first ':' separates them, as skopeo does). Both malloc'd. ERR_USAGE on "" or "DIR:". */
int oci_layout_split_spec(const char *spec, char **dir, char **tag, struct err *e);

/* The parsed index.json. */
int oci_layout_read_index(struct oci_layout *l, struct oci_index *out, struct err *e);
/* Entry whose org.opencontainers.image.ref.name is tag (or, failing that,
 * whose io.containerd.image.name is tag). tag NULL: the only entry; ERR_INPUT
 * when the layout is empty or holds several (listing their tags). */
int oci_layout_resolve(struct oci_layout *l, const char *tag, struct oci_desc *out, struct err *e);
/* Add d to index.json tagged tag (annotation org.opencontainers.image.ref.name;
 * other annotations of d kept). Replaces an entry with the same tag, or with
 * tag NULL an untagged entry with the same digest; keeps all other entries.
 * The blob d->digest must already be in the layout. */
int oci_layout_set_ref(struct oci_layout *l, const struct oci_desc *d, const char *tag, struct err *e);

/* DIR/blobs/ALG/HEX (malloc'd), NULL for an invalid digest or OOM. */
char *oci_layout_blob_path(const struct oci_layout *l, const char *digest);
bool oci_layout_has_blob(const struct oci_layout *l, const char *digest);
/* Read a blob of at most max bytes and verify it. ERR_INPUT when missing,
 * too big or not matching its digest. */
int oci_layout_read_blob(struct oci_layout *l, const char *digest, struct buf *out, size_t max, struct err *e);
/* Hash a blob on disk (streaming) and compare; size -1 = do not check size. */
int oci_layout_verify_blob(struct oci_layout *l, const char *digest, int64_t size, struct err *e);
/* Store bytes as a sha256 blob; digest_out gets "sha256:<hex>". */
int oci_layout_put_blob(struct oci_layout *l, const void *p, size_t n, char digest_out[72], struct err *e);
/* Store the file src_path as blob digest: hardlink when possible (the source
 * must not be modified afterwards), else copy; verified before it becomes
 * visible. ERR_INPUT when src does not hash to digest. */
int oci_layout_put_blob_file(struct oci_layout *l, const char *digest, const char *src_path, struct err *e);

/* Streaming blob writer (registry pulls, archive imports). digest NULL: the
 * sha256 of the content names the blob. size -1: unknown; otherwise writing
 * more fails at once and fewer fails at finish. */
int oci_layout_blob_writer_open(struct oci_layout *l, const char *digest, int64_t size,
				struct oci_blob_writer **out, struct err *e);
int oci_layout_blob_writer_write(struct oci_blob_writer *w, const void *p, size_t n, struct err *e);
/* What was written so far reaches the file (for a reader of tmp_path). */
int oci_layout_blob_writer_flush(struct oci_blob_writer *w, struct err *e);
/* Complete and verify (ERR_INPUT on digest or size mismatch) without making
 * the blob visible yet; the content stays readable at tmp_path until commit
 * or abort. Optional: commit finishes when needed. */
int oci_layout_blob_writer_finish(struct oci_blob_writer *w, char digest_out[OCI_DIGEST_MAX], struct err *e);
const char *oci_layout_blob_writer_tmp_path(const struct oci_blob_writer *w);
int64_t oci_layout_blob_writer_size(const struct oci_blob_writer *w);
/* Finish if needed, then rename into place. Frees w in every case. */
int oci_layout_blob_writer_commit(struct oci_blob_writer *w, char digest_out[OCI_DIGEST_MAX], struct err *e);
/* Drop the tmp file and free. NULL-safe. */
void oci_layout_blob_writer_abort(struct oci_blob_writer *w);

#endif
