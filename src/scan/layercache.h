/* What the catalogers need from one layer, and a cache of it keyed by the
 * layer digest, so a layer shared by many images is read once per machine.
 *
 * A layer record holds the files kept from the layer (package databases,
 * Go build info, pom.properties from jars), its whiteouts, and a set of
 * 64-bit hashes of every other path it holds (non-directories as "P",
 * directories as "P/"), which is all an upper layer needs to hide what a
 * lower one kept.
 *
 * Cache: DIR/<algorithm>-<hex>.inv, a small binary file written to a
 * temporary name and renamed into place (concurrent writers of the same
 * layer write the same bytes; readers see a whole file or none). A hit
 * touches the file; after a write, the cache is trimmed to max bytes by
 * evicting the least recently used files, under an flock on DIR/.lock so
 * two runs never trim at once. A file that does not parse is a miss and is
 * removed. */
#ifndef BOSUN_SCAN_LAYERCACHE_H
#define BOSUN_SCAN_LAYERCACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "core/buf.h"
#include "core/err.h"

#define LCACHE_DEFAULT_MAX ((int64_t)512 << 20)
/* What the catalogers keep from a layer. Bump it whenever that changes (a
 * new cataloger, a new file it needs): entries of another version are
 * misses, read again and overwritten, so an upgrade never scans with
 * inventories that lack what the new catalogers would have found. */
#define LCACHE_CATALOG_VERSION 4

/* A kept file: content of a needed file, or the build info of a Go binary. */
struct kfile {
	char *path;
	struct buf data;
	int layer;
	bool goinfo;
};

struct fileset {
	struct kfile *f;
	size_t n, alloc;
};

/* The most of one file the catalogers keep: rpm databases can be large
 * (a full RHEL system's Packages is 100+ MB), everything else is small. */
size_t kept_file_cap(const char *path);

void fileset_free(struct fileset *fs);
struct kfile *fileset_add(struct fileset *fs, const char *path, int layer, struct err *e);

struct layer_rec {
	struct fileset files;     /* kept files */
	struct fileset whiteouts; /* paths removed with everything below them */
	uint64_t *hashes;         /* sorted after layer_rec_seal */
	size_t n_hashes, alloc_hashes;
	long files_seen;
};

void layer_rec_free(struct layer_rec *r);
int layer_rec_add_path(struct layer_rec *r, const char *path, bool dir, struct err *e);
void layer_rec_seal(struct layer_rec *r);
/* True when this layer hides a lower layer's kept file at path (a
 * non-directory at path or at a parent of it, "JAR!/..." counting JAR as a
 * parent; or a directory at path). */
bool layer_rec_hides(const struct layer_rec *r, const char *path);

struct lcache {
	const char *dir;
	int64_t max; /* bytes; 0 = LCACHE_DEFAULT_MAX */
};

/* 1 on a hit (r filled, files marked with layer), 0 on a miss. */
int lcache_get(const struct lcache *c, const char *digest, int layer, struct layer_rec *r, struct err *e);
int lcache_has(const struct lcache *c, const char *digest);
int lcache_put(const struct lcache *c, const char *digest, const struct layer_rec *r, struct err *e);

#endif
