/* bosun build: Dockerfile -> OCI image in a staging layout, then out to a
 * registry, an OCI layout or a docker archive. */
#ifndef BOSUN_BUILD_BUILD_H
#define BOSUN_BUILD_BUILD_H

#include <stdbool.h>
#include <stdint.h>
#include "core/err.h"
#include "oci/digest.h"
#include "oci/layer.h"
#include "registry/registry.h"

struct build_opts {
	const char *context;     /* directory */
	const char *dockerfile;  /* NULL = CONTEXT/Dockerfile */
	char **build_args;       /* "K=V" or "K" (value from the environment) */
	size_t n_build_args;
	char **labels;           /* "K=V" */
	size_t n_labels;
	char **secrets;          /* "id=ID,src=PATH" */
	size_t n_secrets;
	const char *target;      /* stage name or NULL for the last */
	const char *platform;    /* NULL = this machine's */
	const char *network;     /* "host" (default) or "none" */
	enum layer_comp comp;
	const char *cache_dir;   /* NULL = no cache */
	const char *cache_repo;  /* registry repository for the cache, or NULL */
	int64_t source_date_epoch; /* -1 = unset */
	struct reg_opts reg;
	/* When set: called with each layer the build writes, once its blob is
	 * at path (--push starts pushing it while the build goes on). */
	void (*on_layer)(void *ctx, const struct oci_desc *d, const char *path);
	/* and, while a layer is written, layer_opts.on_write (same ctx) */
	void (*on_layer_write)(void *ctx, const char *tmp_path, int64_t flushed, const char *digest);
	void *on_layer_ctx;
};

struct build_result {
	char digest[OCI_DIGEST_MAX]; /* manifest digest */
	char *layout;                /* staging layout dir holding the image as tag "build" */
	char *workdir;               /* removed by build_result_free */
	int workdir_lock;            /* held while workdir is in use (fs_tmpdir_lock) */
	int steps, hits;
};

int build_run(const struct build_opts *o, struct build_result *r, struct err *e);
void build_result_free(struct build_result *r);

/* .dockerignore: patterns from text; build_ignored tells whether a path
 * relative to the context is excluded (Docker's rules: last match wins,
 * "!" re-includes, "**" spans directories, a match on a parent excludes). */
struct ignore;
int ignore_parse(struct ignore **out, const char *text, struct err *e);
bool ignore_match(const struct ignore *ig, const char *rel);
void ignore_free(struct ignore *ig);

#endif
