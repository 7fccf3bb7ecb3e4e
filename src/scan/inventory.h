/* Inventory of an image or root file system: the OS and the packages the
 * catalogers find. Image layers are read as streams, in order, with
 * whiteouts applied; only the files a cataloger needs are kept (Go
 * binaries are scanned for their build info while they stream past). */
#ifndef BOSUN_SCAN_INVENTORY_H
#define BOSUN_SCAN_INVENTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "core/err.h"
#include "registry/registry.h"

struct os_info {
	char id[32];          /* "debian", "alpine", "rhel", ... or "" */
	char version_id[32];  /* "12", "3.19.1" */
	char pretty[128];
	char ecosystem[64];   /* OSV ecosystem of its packages: "Debian:12", "Alpine:v3.19" */
};

struct pkg {
	char *name, *version;
	char *src_name, *src_version; /* source package (dpkg Source:, apk o:), else = name/version */
	char *type;                   /* deb apk go-module stdlib python npm maven cargo */
	char *ecosystem;              /* OSV ecosystem to match in */
	char *path;                   /* file it was found in */
	int layer;                    /* index of the layer that brought it, -1 for dir: */
	bool from_base;
};

struct inventory {
	struct os_info os;
	struct pkg *pkgs;
	size_t n, alloc;
	char *target;       /* as given */
	char *digest;       /* manifest digest, or NULL for dir: */
	char **layers;      /* layer digests */
	size_t n_layers;
	size_t n_base;      /* the first n_base layers belong to the base image */
	char *base;         /* the base image (--base, or named by the image's annotations/labels), or NULL */
	long files_seen;
	long unparsed;      /* lock files that did not parse: skipped (a warning each) */
};

struct inv_opts {
	const struct reg_opts *ro;
	const char *platform;  /* "os/arch" or NULL */
	const char *cache_dir; /* cache root: per-layer inventories in DIR/inventory; NULL = no cache */
	const char *base;      /* location of the base image, or NULL */
};

/* Size cap of the per-layer inventory cache, process-wide (0 = the default,
 * 512 MiB). Set once by the command before scanning; kept out of struct
 * inv_opts so callers' positional initialisers stay valid. */
void inventory_set_cache_max(int64_t bytes);

int inventory_scan(const char *target, const struct inv_opts *o, struct inventory *inv, struct err *e);
void inventory_free(struct inventory *inv);
/* Escape (core/utf8.h) every package field that is not valid UTF-8;
 * inventory_scan does it before it returns. */
int inventory_escape_names(struct inventory *inv, struct err *e);
/* The catalogers on one file given in memory, as if found at PATH (relative
 * to the root: "var/lib/dpkg/status", "lib/apk/db/installed", "usr/bin/app"
 * with exec set for a binary) in a root holding nothing else: no os-release,
 * so OS packages get no ecosystem. Fills a fresh *inv (inventory_free it);
 * a file no cataloger reads gives an empty one, a lock file that does not
 * parse one with unparsed = 1. -1 with e set on a file
 * over its size limit or a damaged database; *inv is then freed. */
int inventory_catalog_file(const char *path, const void *data, size_t len, bool exec, struct inventory *inv,
			   struct err *e);

#endif
