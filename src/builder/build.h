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
	const char *platform;    /* NULL = this machine's; "P1,P2,..." builds an index */
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

/* One platform's image of a build. */
struct build_image {
	char platform[128];          /* "linux/arm64" */
	char digest[OCI_DIGEST_MAX]; /* its manifest */
	char tag[16];                /* its tag in the staging layout: "build" or "build-N" */
	char base_digest[OCI_DIGEST_MAX]; /* the manifest of its base image, or "" */
};

struct build_result {
	char digest[OCI_DIGEST_MAX]; /* manifest digest, or the index's with several platforms */
	char *layout;                /* staging layout dir holding the image (or index) as tag "build" */
	char *workdir;               /* removed by build_result_free */
	int workdir_lock;            /* held while workdir is in use (fs_tmpdir_lock) */
	int steps, hits;             /* summed over the platforms */
	bool is_index;               /* several platforms: "build" is an OCI image index */
	struct build_image *images;  /* one per platform, in --platform order */
	size_t n_images;
};

/* One build per platform of o->platform: one platform gives an image
 * manifest, several ("linux/amd64,linux/arm64") an OCI image index of one
 * manifest per platform, each built from the base's manifest for it.
 * RUN steps of a foreign platform run through binfmt_misc emulation; when no
 * handler is registered for it the build stops before any work (ERR_INTERNAL,
 * saying how to register qemu-user-static). */
int build_run(const struct build_opts *o, struct build_result *r, struct err *e);
void build_result_free(struct build_result *r);

/* The platforms of a --platform value (NULL: this machine's): *out has *n
 * entries, caller frees with build_platforms_free. ERR_USAGE on a malformed
 * or repeated platform. */
int build_platforms_parse(const char *spec, struct oci_platform **out, size_t *n, struct err *e);
void build_platforms_free(struct oci_platform *p, size_t n);

/* .dockerignore: patterns from text; build_ignored tells whether a path
 * relative to the context is excluded (Docker's rules: last match wins,
 * "!" re-includes, "**" spans directories, a match on a parent excludes). */
struct ignore;
int ignore_parse(struct ignore **out, const char *text, struct err *e);
bool ignore_match(const struct ignore *ig, const char *rel);
void ignore_free(struct ignore *ig);

#endif
