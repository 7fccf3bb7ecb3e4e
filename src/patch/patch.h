/* bosun patch: upgrade an image's vulnerable OS packages in one new layer,
 * without a rebuild. The image's own layers stay byte-identical; the
 * package manager runs in the RUN sandbox on the image's root (Debian and
 * Ubuntu: apt-get with the security suite added for the run), or, for
 * images with dpkg data but no dpkg (distroless), in a tooling root that
 * downloads the fixed .debs, whose files bosun then writes itself. A
 * second patch replaces the first patch layer instead of stacking one. */
#ifndef BOSUN_PATCH_PATCH_H
#define BOSUN_PATCH_PATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "core/err.h"
#include "oci/layer.h"
#include "registry/registry.h"
#include "scan/findings.h"

/* Annotations of a patched manifest. */
#define PATCH_ANN_PACKAGES "dev.bosun.patch.packages" /* JSON [{"name","from","to"}] */
#define PATCH_ANN_CREATED "dev.bosun.patch.created"   /* RFC 3339 */
#define PATCH_ANN_LAYER "dev.bosun.patch.layer"	      /* digest of the patch layer */
#define PATCH_HISTORY_COMMENT "bosun patch"

/* A package to upgrade: name, and the lowest version that fixes it ("" =
 * any newer one). */
struct patch_want {
	char *name, *fixed;
};

struct patch_wants {
	struct patch_want *v;
	size_t n, alloc;
};

/* A package the patch changed (from "" = newly installed as a dependency). */
struct patch_pkg {
	char *name, *from, *to;
};

struct patch_opts {
	struct reg_opts reg;
	const char *platform;		  /* "os/arch" of an index, or NULL = the agent's */
	bool all;			  /* every package the distro can upgrade */
	const char *const *mirrors;	  /* "[security=|main=]URL" */
	size_t n_mirrors;
	const char *tool_image;		  /* distroless: the tooling root, NULL = the default */
	int64_t created;		  /* SOURCE_DATE_EPOCH, or -1: now */
	enum layer_comp comp;
};

struct patch_image;

/* Stages SRC (any location) in a private work directory, finds a previous
 * patch layer and unpacks the layers below it, and tells the distribution.
 * ERR_INPUT for an image with no OS packages, an unknown distribution or a
 * package database that does not parse; "not supported yet" for apk and
 * rpm. o is copied; the strings and arrays it points to must outlive p. */
int patch_open(struct patch_image **out, const char *src, const struct patch_opts *o, struct err *e);
void patch_close(struct patch_image *p); /* removes the work directory; NULL-safe */

/* "oci:DIR:src": the staged image as it came, to scan. */
const char *patch_staged_spec(const struct patch_image *p);
/* "debian 12 (bookworm)", for messages. */
const char *patch_distro(const struct patch_image *p);
/* The manifest digest of the staged image. */
const char *patch_src_digest(const struct patch_image *p);
/* The packages a previous patch layer changed (they are upgraded again,
 * as that layer is replaced). */
const struct patch_pkg *patch_previous(const struct patch_image *p, size_t *n);

/* Wants from a scan: every reported finding on an OS package (the OS's
 * ecosystem) with a fixed version; the highest fix per package. */
int patch_wants_from_scan(struct patch_wants *w, const struct scan_result *res,
			  struct err *e);
/* Wants from bosun's JSON report (schema bosun.scan.v1) at path. The
 * report's digest, when it names one, must be the image's. */
int patch_wants_from_report(struct patch_wants *w, const char *path, const struct patch_image *p, struct err *e);
/* Add or raise one want. */
int patch_wants_add(struct patch_wants *w, const char *name, const char *fixed, struct err *e);
/* Whether s is a Debian package name (policy 5.6.1), safe to hand to apt. */
bool patch_valid_name(const char *s);
/* Whether m is a --package-mirror value: [security=|main=]http(s):// or file:/ URL. */
bool patch_mirror_valid(const char *m);
void patch_wants_free(struct patch_wants *w);

struct patch_result {
	char digest[72];	  /* the result's manifest digest */
	char *spec;		  /* "oci:DIR:patched": where the result is staged */
	struct patch_pkg *pkgs;	  /* what changed */
	size_t n_pkgs;
	char **unfixed;		  /* "name: have V, fix needs F" for wants the mirrors could not meet */
	size_t n_unfixed;
	bool changed;		  /* false: nothing to patch, the image is unchanged */
	bool replaced;		  /* a previous patch layer was replaced */
	double seconds;
};

/* Upgrades the wanted packages (all with o->all) and assembles the patched
 * image in the work layout. Nothing wanted and no previous patch: changed =
 * false and spec names the image as it came. ERR_NETWORK when the mirrors
 * cannot be reached, ERR_INPUT when the package manager fails. */
int patch_apply(struct patch_image *p, const struct patch_wants *w, struct patch_result *r, struct err *e);
void patch_result_free(struct patch_result *r);

/* "libssl3 3.0.11-1~deb12u1 -> 3.0.15-1~deb12u1, ..." (allocated). */
char *patch_pkgs_text(const struct patch_pkg *v, size_t n, struct err *e);

#endif
