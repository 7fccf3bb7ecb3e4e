/* Base image updates: which base an image was built on, whether the base's
 * tag still points at that digest, Dockerfile FROM pinning, and fleet
 * watches (concurrent checks, JUnit/JSON/markdown reports, rescans).
 * Layered above registry/, build/ (Dockerfile parser) and scan/. */
#ifndef BOSUN_BASE_BASE_H
#define BOSUN_BASE_BASE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "core/buf.h"
#include "core/err.h"
#include "oci/desc.h"
#include "registry/registry.h"

#define LABEL_AZURE_BASE_NAME "image.base.ref.name"
#define LABEL_AZURE_BASE_DIGEST "image.base.digest"

enum base_state { BASE_UNKNOWN, BASE_UP_TO_DATE, BASE_STALE, BASE_ERROR };
const char *base_state_name(enum base_state s); /* "unknown", "up-to-date", "stale", "error" */

struct base_opts {
	const struct reg_opts *ro;
	const struct oci_platform *platform; /* for an image that is an index; NULL = default */
};

struct base_result {
	enum base_state state;
	char *image;          /* as given */
	char *image_digest;   /* the image's manifest digest (its platform's) */
	char *platform;       /* "linux/amd64" from the image config */
	char *base_name;      /* recorded name (normalised when it parses) */
	char *base_digest;    /* recorded digest */
	const char *source;   /* where the record was found (static string) */
	char *current_digest; /* what the base tag points at now */
	char *current_platform_digest; /* the platform's manifest under it, when an index */
	char *current_created; /* config "created" of the current base */
	int64_t age_seconds;  /* now - current_created, -1 unknown */
	char *note;           /* advice (unknown) or detail (stale/up-to-date), or NULL */
	struct err err;       /* BASE_ERROR: what failed */
};
void base_result_free(struct base_result *r);
/* The base, current, note and error fields of r, added to the JSON object o
 * (as in `base check --format json` and watch.json). */
struct cJSON;
void base_result_add_json(struct cJSON *o, const struct base_result *r);

/* Read the base record of image (any location) and compare it with the
 * current digest of the base's tag (HEAD first; a GET only when the tag
 * moved and the base is multi-platform). -1 only when the image itself
 * cannot be read or the base's registry cannot be reached; "no record"
 * is BASE_UNKNOWN with advice in r->note. */
int base_check(const char *image, const struct base_opts *o, struct base_result *r, struct err *e);

/* Resolve a tag: the digest it points at now (HEAD), and when platform is
 * given and the tag is an index, the digest of that platform's manifest
 * (plat_digest may be NULL). */
int base_resolve(const char *ref, const struct base_opts *o, char **digest, char **plat_digest,
		 struct err *e);

/* Age as "3 days", "5 hours", "12 minutes" into out. */
void base_age_string(int64_t seconds, char *out, size_t cap);

/* ---- Dockerfiles */

struct base_from {
	int line;              /* 1-based line of the FROM instruction */
	char *written;         /* the image word as written ("${BASE}:1", "alpine:3.19@sha256:..") */
	char *image;           /* ARG-expanded */
	char *stage;           /* AS name or NULL */
	bool skip;             /* scratch, an earlier stage, or a non-registry name */
	char *pinned;          /* digest after '@' in the expanded image, or NULL */
	char *current;         /* current digest of the tag (filled by base_df_resolve) */
	struct err err;        /* resolution error (code 0 when none) */
};

struct base_df {
	char *path;
	struct base_from *from;
	size_t n;
};

/* Parse the FROM instructions (all stages), expanding global ARGs (their
 * defaults, overridden by build_args "K=V", NULL-terminated, may be NULL). */
int base_df_load(struct base_df *df, const char *path, const char *const *build_args, struct err *e);
void base_df_free(struct base_df *df);
/* Current digest of every FROM that is not skipped, concurrently. Per-FROM
 * errors land in from[i].err; -1 only for internal failures. */
int base_df_resolve(struct base_df *df, const struct base_opts *o, struct err *e);

/* Rewrite the Dockerfile text: each resolvable FROM's image word gets
 * "@digest" (update=false: only unpinned FROMs; update=true: existing pins
 * move to the current digest). Everything else is kept byte for byte.
 * *changed counts rewritten FROMs. */
int base_df_pin_text(const struct base_df *df, const char *text, size_t len, bool update,
		     struct buf *out, int *changed, struct err *e);

/* ---- CI outputs (Azure logging commands on out, a Jenkins properties
 * file, GitHub $GITHUB_OUTPUT). */
struct base_output {
	const char *name, *value;
};
int base_ci_outputs(const struct base_output *o, size_t n, const char *properties_path,
		    struct buf *azure_out, struct err *e);

#endif
