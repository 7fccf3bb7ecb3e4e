/* Moving the vulnerability database around: `db update` (OSV all.zip dumps
 * downloaded with conditional requests into a cache directory, then
 * compiled) and `db push` / `db pull` (the SQLite file as an OCI artifact:
 * artifactType VDB_MT_ARTIFACT, a VDB_MT_CONFIG config holding the metadata,
 * one VDB_MT_LAYER layer holding the file). */
#ifndef BOSUN_SCAN_DBSYNC_H
#define BOSUN_SCAN_DBSYNC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "core/err.h"
#include "registry/fetch.h"
#include "registry/registry.h"
#include "scan/db.h"

#define VDB_DEFAULT_OSV_URL "https://osv-vulnerabilities.storage.googleapis.com"
/* Ecosystems a typical image scan needs. */
#define VDB_DEFAULT_ECOSYSTEMS "Debian,Alpine,Ubuntu,Go,PyPI,npm,Maven,crates.io"
/* A feed larger than this is refused (the biggest OSV dumps are a few hundred MB). */
#define VDB_FEED_MAX ((int64_t)2 << 30)
/* A database artifact larger than this is refused on pull. */
#define VDB_ARTIFACT_MAX ((int64_t)4 << 30)

/* $XDG_CACHE_HOME/bosun, else ~/.cache/bosun (malloc'd). */
char *bosun_cache_dir(const char *override, struct err *e);
/* DIR/db/vuln.db (malloc'd): where `db update` and `db pull` keep the database. */
char *vdb_cached_path(const char *cache_dir, struct err *e);

struct vdb_update_opts {
	const char *dir;      /* cache root; feeds go to DIR/db/osv/ECO/all.zip */
	const char *base_url; /* NULL = VDB_DEFAULT_OSV_URL */
	const char *const *ecosystems;
	size_t n_ecosystems;
	const char *const *nvd; /* local NVD feeds for enrichment, may be 0 */
	size_t n_nvd;
	struct fetch_opts fetch;
	bool force;           /* rebuild even when nothing changed */
};

enum vdb_feed_status { FEED_DOWNLOADED, FEED_NOT_MODIFIED };
struct vdb_feed_result {
	char ecosystem[64];
	enum vdb_feed_status status;
	int64_t size;
};

struct vdb_update_result {
	struct vdb_feed_result *feeds; /* n_ecosystems entries, malloc'd */
	size_t n;
	bool rebuilt;
	char *db_path;        /* malloc'd */
	struct vdb_stats st;  /* when rebuilt */
};

int vdb_update(const struct vdb_update_opts *o, struct vdb_update_result *r, struct err *e);
void vdb_update_result_free(struct vdb_update_result *r);

/* Push db_path to ref; *digest_out gets the manifest digest. */
int vdb_push(const char *db_path, const struct oci_ref *ref, const struct reg_opts *ro, char digest_out[72],
	     struct err *e);
/* Pull the database artifact at ref into out_path (verified, checked to be a
 * bosun database, then renamed into place). ERR_INPUT when ref names
 * something else. */
int vdb_pull(const struct oci_ref *ref, const struct reg_opts *ro, const char *out_path, char digest_out[72],
	     struct err *e);

#endif
