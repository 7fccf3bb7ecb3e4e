/* Private to src/oci: the layer writer shared by layer.c (a directory
 * tree walked on disk) and layer_tree.c (a tree described entry by entry).
 * The tar stream goes through one pass: sha256 of the tar (the diff_id),
 * compression (pgzip.c for gzip, libarchive for zstd), then the blob writer
 * that hashes the compressed bytes (the digest) and writes them. */
#ifndef BOSUN_OCI_INTERNAL_H
#define BOSUN_OCI_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include "core/err.h"
#include "core/sha256.h"
#include "oci/layer.h"
#include "oci/layout.h"
#include "oci/pgzip.h"
#include "oci/tar.h"

struct lw {
	struct archive *comp; /* zstd */
	struct pgz *gz;       /* gzip */
	struct tar_writer tw;
	struct oci_blob_writer *bw;
	struct sha256 diff;
	const struct layer_opts *o;
	struct err *e;
	int failed; /* an error already stored in e */
	char *iobuf;
	uint64_t n_entries;
	int64_t reported; /* bytes last told to o->on_write */
	bool told_end;
};

/* Start a layer blob in l: the compressor, both digests, the tar writer. */
int lw_open(struct lw *w, struct oci_layout *l, const struct layer_opts *o, struct err *e);
/* Header of the next entry (counted in n_entries). */
int lw_header(struct lw *w, const struct tar_entry *te);
/* size bytes of an open file as the current entry's data (abs names it in
 * errors). */
int lw_file_data(struct lw *w, int fd, const char *abs, int64_t size);
/* n bytes of the current entry's data. */
int lw_data(struct lw *w, const void *p, size_t n);
/* End the tar, the compression and the blob; r gets its digests. */
int lw_close(struct lw *w, struct layer_result *r);
/* Frees w (aborting the blob when lw_close did not commit it). */
void lw_free(struct lw *w);

#endif
