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
};

struct layer_result {
	char digest[OCI_DIGEST_MAX];
	char diff_id[OCI_DIGEST_MAX];
	int64_t size;
	const char *media_type;
	uint64_t n_entries;
};

/* Tar the contents of dir (not dir itself) into a new blob of l. */
int oci_layer_write_dir(struct oci_layout *l, const char *dir, const struct layer_opts *o, struct layer_result *r,
			struct err *e);

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
