/* Layer blobs: write a directory tree as a deterministic tar (sorted
 * entries, PAX, numeric owners, modes, xattrs, hardlinks, clamped mtimes),
 * compressed with gzip or zstd, digest and diff_id computed in the same
 * streaming pass straight into an OCI layout; and unpack a layer into a root
 * directory applying whiteouts, never writing outside that root. */
#ifndef BOSUN_OCI_LAYER_H
#define BOSUN_OCI_LAYER_H

#include <stdbool.h>
#include <stdint.h>
#include "core/err.h"
#include "oci/digest.h"
#include "oci/layout.h"

enum layer_comp { LAYER_GZIP = 0, LAYER_ZSTD = 1, LAYER_NONE = 2 };

struct layer_opts {
	enum layer_comp comp;
	int level;             /* 0 = library default */
	int64_t clamp_mtime;   /* -1: keep mtimes; else min(mtime, clamp) */
	bool overlay_whiteouts; /* char 0/0 -> .wh.NAME, opaque xattr -> .wh..wh..opq */
	bool map_self_root;    /* record our own uid/gid as 0 (rootless builds) */
	int threads;           /* compression threads, 0/1 = one */
	/* When set: told where the blob is being written (tmp_path, first call,
	 * flushed 0), then how many bytes the file holds as it grows, and at
	 * the end its digest, or flushed -1 when it failed: enough to upload the
	 * layer while it is written. */
	void (*on_write)(void *ctx, const char *tmp_path, int64_t flushed, const char *digest);
	void *on_write_ctx;
};

struct layer_result {
	char digest[OCI_DIGEST_MAX];
	char diff_id[OCI_DIGEST_MAX];
	int64_t size;
	const char *media_type;
	uint64_t n_entries;
};

/* Tar the contents of dir (not dir itself) into a new blob of l. Threads
 * (layer_opts.threads) change the speed, never the bytes. */
int oci_layer_write_dir(struct oci_layout *l, const char *dir, const struct layer_opts *o, struct layer_result *r,
			struct err *e);

/* A layer described entry by entry, for a step that knows what it adds
 * (COPY): nothing is copied to disk first, each regular file is read from
 * its source when the tar is written, in the same pass that compresses and
 * hashes it. The entries behave as the same operations on a directory
 * would, so the layer is byte for byte the one oci_layer_write_dir writes
 * of that directory: paths are relative and clean ("a/b"; "" is the root,
 * never written); creating an entry needs its parent directory; mkdir of an
 * existing entry leaves it; a new entry, or one replaced by a new file
 * (symlink, data), sets its parent's mtime to the current time, writing
 * over an existing regular file (layer_tree_file) does not; files and links
 * cannot replace a directory. Metadata is what the tar records: permission
 * bits (07777), owners, mtime (clamped by layer_opts.clamp_mtime). */
struct layer_tree;
struct layer_meta {
	int64_t mode, uid, gid, mtime; /* layer_tree_set: -1 keeps the field */
};

struct layer_tree *layer_tree_new(struct err *e);
void layer_tree_free(struct layer_tree *t);
/* Whether path is in the tree (an entry of any type); is_dir, when not
 * NULL, says whether it is a directory. */
bool layer_tree_has(const struct layer_tree *t, const char *path, bool *is_dir);
int layer_tree_mkdir(struct layer_tree *t, const char *path, const struct layer_meta *m, struct err *e);
/* A regular file with the content of the file src at write time. */
int layer_tree_file(struct layer_tree *t, const char *path, const char *src, const struct layer_meta *m,
		    struct err *e);
/* A regular file holding len bytes of data (copied). */
int layer_tree_data(struct layer_tree *t, const char *path, const void *data, size_t len, const struct layer_meta *m,
		    struct err *e);
int layer_tree_symlink(struct layer_tree *t, const char *path, const char *target, const struct layer_meta *m,
		       struct err *e);
/* chmod, chown and utimes of an existing entry: -1 fields are kept. */
int layer_tree_set(struct layer_tree *t, const char *path, const struct layer_meta *m, struct err *e);
/* Write t as a new blob of l (entries in the order oci_layer_write_dir
 * uses: depth first, names sorted bytewise). */
int oci_layer_write_tree(struct oci_layout *l, struct layer_tree *t, const struct layer_opts *o,
			 struct layer_result *r, struct err *e);

struct unpack_opts {
	bool set_owner; /* chown entries (needs root); devices are skipped without it */
};

/* Unpack the (compressed or plain) tar blob at path into root. Whiteouts
 * delete from what is already there; ".." components are refused with
 * ERR_INPUT; absolute names, symlinked parents and link targets are resolved
 * inside root, so nothing is ever written outside it. */
int oci_unpack_layer(const char *path, const char *root, const struct unpack_opts *o, struct err *e);
/* Bytes one layer may expand to: BOSUN_MAX_LAYER_SIZE (MiB, or with a K/M/G
 * suffix), default 8 GiB. Unpacking (build) and reading (scan) both stop
 * there, so a decompression bomb ends in a clear error. */
unsigned long long oci_max_layer_size(void);
/* At an entry's header: whether what the layer expanded to so far
 * (consumed bytes) plus the size the entry states stays within limit; else
 * ERR_INPUT naming WHAT ("layer", "layer sha256:abc...") and returns -1. */
int oci_layer_size_check(uint64_t consumed, int64_t entry_size, unsigned long long limit, const char *what,
			 struct err *e);

/* openat2(rootfd, path, RESOLVE_IN_ROOT): path resolved as if rootfd were /. */
int oci_root_open(int rootfd, const char *path, int flags, int mode);
/* mkdir -p of path inside rootfd (each component resolved in root); returns
 * an O_PATH|O_DIRECTORY fd of the result, or -1 with e set. */
int oci_root_mkdir_p(int rootfd, const char *path, int mode, struct err *e);
/* rm -rf of name in dirfd, never following symlinks. */
int oci_rm_at(int dirfd, const char *name, struct err *e);

#endif
