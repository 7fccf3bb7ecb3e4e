/* The compiled vulnerability database: one SQLite file built from OSV
 * records (zip dumps or directories), Alpine secdb JSON and NVD CVE JSON 2.0
 * feeds (severity enrichment by CVE alias). Schema versioned; metadata
 * holds build time, sources and record counts. */
#ifndef BOSUN_SCAN_DB_H
#define BOSUN_SCAN_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "core/err.h"

#define VDB_SCHEMA_VERSION 2
#define VDB_MT_ARTIFACT "application/vnd.bosun.vulndb.v1"
#define VDB_MT_LAYER "application/vnd.bosun.vulndb.layer.v1.sqlite"
#define VDB_MT_CONFIG "application/vnd.bosun.vulndb.config.v1+json"

/* Per-record size cap inside feeds: a larger entry (or a zip bomb) is skipped and counted. */
#define VDB_RECORD_MAX (4u << 20)

struct vdb_build_opts {
	const char *const *osv;   /* zip files or directories of *.json */
	size_t n_osv;
	const char *const *secdb; /* Alpine secdb JSON files */
	size_t n_secdb;
	const char *const *nvd;   /* NVD CVE JSON 2.0 files */
	size_t n_nvd;
};

struct vdb_stats {
	long records;   /* OSV records accepted */
	long withdrawn; /* dropped because withdrawn */
	long rejected;  /* malformed or oversized, skipped */
	long affected;  /* (ecosystem, package) rows */
	long secdb;     /* secdb fixes imported */
	long nvd;       /* NVD CVEs read */
	long enriched;  /* records that got a severity from NVD */
};

int vdb_build(const char *out_path, const struct vdb_build_opts *o, struct vdb_stats *st, struct err *e);

struct vdb;
/* ERR_INPUT when the file is not SQLite or has another schema version. */
int vdb_open(struct vdb **out, const char *path, struct err *e);
void vdb_close(struct vdb *db);
/* malloc'd metadata value or NULL ("schema_version", "built", "sources", "counts"). */
char *vdb_meta(struct vdb *db, const char *key);
/* Build time as a Unix time, or -1. */
int64_t vdb_built_time(struct vdb *db);
/* Whether max_age (seconds, > 0) has passed since the build, or the build
 * time is unknown; false when max_age <= 0 (no limit). */
bool vdb_too_old(struct vdb *db, long long max_age);

/* One affected entry of one advisory, valid during the callback. */
struct vdb_adv {
	const char *id, *summary;
	const char *aliases;  /* JSON array text */
	const char *severity; /* "HIGH" etc. or NULL */
	const char *vector;   /* CVSS vector or NULL */
	double score;         /* -1 when none */
	const char *ecosystem, *name;
	const char *ranges;   /* JSON array text of OSV ranges, or NULL */
	const char *versions; /* JSON array text or NULL */
	/* the CVSS v3 vector and score when a v4.0 vector decides, else NULL
	 * and -1 (and NULL when the affected entry carries its own rating) */
	const char *alt_vector;
	double alt_score;
};
typedef int (*vdb_cb)(void *ctx, const struct vdb_adv *a, struct err *e);
/* Every advisory affecting (ecosystem, name). Returns -1 if cb does. */
int vdb_query(struct vdb *db, const char *ecosystem, const char *name, vdb_cb cb, void *ctx, struct err *e);

/* Ecosystems present (JSON array text, malloc'd). */
char *vdb_ecosystems(struct vdb *db);

#endif
