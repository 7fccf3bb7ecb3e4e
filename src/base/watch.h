/* bosun base watch: a fleet of images checked concurrently, sharded across
 * CI jobs, reported as JUnit, JSON and markdown; optionally rescanned with
 * the current vulnerability database. */
#ifndef BOSUN_BASE_WATCH_H
#define BOSUN_BASE_WATCH_H

#include <stdbool.h>
#include <stddef.h>
#include "base/base.h"
#include "core/buf.h"
#include "core/err.h"

#define FLEET_MAX_SIZE (16u << 20) /* a fleet file bigger than this is refused */
#define FLEET_MAX_ITEMS 100000

struct fleet_item {
	char *image;
	char *dockerfile; /* or NULL */
	char *pipeline;   /* pipeline id/name to queue on a stale base, or NULL */
	char *source;     /* kubectl: "namespace/pod/container", or NULL */
	int line;         /* where it was listed (0 when unknown) */
};

struct fleet {
	const char *format; /* "list", "json", "yaml", "kubectl" (static) */
	struct fleet_item *items;
	size_t n;
};

/* Parse a fleet file: one reference per line ('#' comments); JSON
 * ({"images":[...]} or [...] with strings or {image, dockerfile, pipeline});
 * `kubectl get pods -A -o json` (containers and init containers, running
 * digest from status.containerStatuses[].imageID); or a YAML subset
 * (images: with "- REF" or "- image: REF" items and dockerfile/pipeline
 * keys). Duplicate images are listed once. ERR_INPUT "FILE:LINE: ..." on
 * anything malformed. */
int fleet_parse(struct fleet *f, const char *path, const char *text, size_t len, struct err *e);
int fleet_load(struct fleet *f, const char *path, struct err *e);
void fleet_free(struct fleet *f);

/* "I/N" with 1 <= I <= N <= 1000. */
int base_shard_parse(const char *s, int *i, int *n, struct err *e);
/* Whether image belongs to shard i of n: a stable hash of the reference, so
 * adding an image to the fleet does not move the others between shards. */
bool base_in_shard(const char *image, int i, int n);

struct rescan_finding {
	char *id, *pkg, *version, *fixed, *severity, *title;
};
/* {"id","package","version","fixed","severity","title"} of f. */
struct cJSON *rescan_finding_json(const struct rescan_finding *f);

struct watch_item {
	const struct fleet_item *fi;
	struct base_result r;
	/* --rescan */
	bool scanned;
	struct err scan_err;
	size_t n_findings;            /* all reported findings */
	struct rescan_finding *fresh; /* new since the last watch */
	size_t n_fresh;
};

struct watch_opts {
	const struct base_opts *bo;
	int jobs;           /* concurrent checks (default 8) */
	int shard_i, shard_n;
	const char *db;     /* --rescan: the database */
	const char *state;  /* --rescan: state file (read, then rewritten) */
	const char *cache_dir;
};

struct watch {
	struct watch_item *it;
	size_t n;
	size_t n_up, n_stale, n_unknown, n_error, n_fresh, n_scan_err;
	char *db_built;
	double seconds;
	int shard_i, shard_n;
	const char *fleet_path;
};

int base_watch_run(const struct fleet *f, const struct watch_opts *o, struct watch *w, struct err *e);
void base_watch_free(struct watch *w);
/* Reports: JUnit (suite "base", one testcase per image; stale = failure
 * naming the base and its new digest; error = <error>; unknown = skipped;
 * with --rescan a suite "rescan" with one failing testcase per new
 * finding), watch.json ("bosun.base.watch.v1") and summary.md. */
int base_watch_junit(const struct watch *w, struct buf *out, struct err *e);
int base_watch_json(const struct watch *w, struct buf *out, struct err *e);
int base_watch_markdown(const struct watch *w, struct buf *out, struct err *e);

/* --rescan: scan each image (not errored) with the database and mark the
 * findings not in the state file as new; the state file is rewritten with
 * every finding seen. Implemented in rescan.c. */
int base_watch_rescan(struct watch *w, const struct watch_opts *o, struct err *e);

#endif
