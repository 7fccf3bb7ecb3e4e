/* Private to src/patch:
 *   patch.c   staging the image, the previous patch layer, the distribution,
 *             assembling the patched image, wants from a scan or a report
 *   apt.c     the package manager in the RUN sandbox (apt-get, sources for the
 *             run, classifying its failures), the dpkg status before and after
 *   deb.c     distroless images: the tooling root downloads the fixed .debs,
 *             bosun writes their files and status.d entries */
#ifndef BOSUN_PATCH_INTERNAL_H
#define BOSUN_PATCH_INTERNAL_H

#include <stdbool.h>
#include <cjson/cJSON.h>
#include "oci/layout.h"
#include "patch/patch.h"

enum patch_pm { PM_APT, PM_DISTROLESS };

struct patch_distro {
	char id[32];	     /* debian, ubuntu */
	char version_id[32]; /* 12, 22.04 */
	char codename[64];   /* bookworm, jammy */
	char text[160];	     /* "debian 12 (bookworm)" */
};

/* One installed package of a dpkg database. */
struct dpkg_ent {
	char *name, *version, *arch, *file; /* file: the status.d entry it came from, or NULL */
	bool installed;
	bool has_status; /* the stanza has a Status field (distroless status.d entries may not) */
};

struct dpkg_db {
	struct dpkg_ent *v;
	size_t n, alloc;
};

struct patch_image {
	struct patch_opts opts; /* a copy: the strings it points to are the caller's */
	const struct patch_opts *o;
	char *work;	  /* private work directory, locked */
	int work_lock;
	char *lay_dir;	  /* work/img: the OCI layout everything is staged in */
	struct oci_layout *lay;
	char *spec;	  /* oci:work/img:src */
	char digest[72];  /* the staged manifest's digest */
	char platform[64]; /* os/arch of the image */
	cJSON *manifest, *config;
	size_t n_keep;	  /* layers kept (all but a previous patch layer) */
	bool has_prev;
	struct patch_pkg *prev;
	size_t n_prev;
	char *root;	  /* work/root: the kept layers unpacked */
	struct patch_distro os;
	enum patch_pm pm;
	bool rootless;
	struct dpkg_db before; /* installed packages of the kept layers */
};

/* patch.c */
/* Copy the image src names (its platform's image, for an index) into the
 * work layout under tag; digest gets the manifest's, mt its media type. */
int patch_stage_image(struct patch_image *p, const char *src, const char *platform, const char *tag,
		      char digest[72], char mt[128], struct err *e);
/* Unpack layers (digests[0..n), blobs of the work layout) in order into
 * the new directory dir. */
int patch_unpack(const struct patch_image *p, const char *const *digests, size_t n, const char *dir,
		 struct err *e);
int patch_pkg_add(struct patch_pkg **v, size_t *n, const char *name, const char *from, const char *to,
		  struct err *e);
void patch_pkgs_free(struct patch_pkg *v, size_t n);

/* apt.c */
/* The value of field key ("Key: value" lines) in s[0, end). */
void dpkg_field(const char *s, const char *end, const char *key, char *out, size_t cap);
/* The file rel of rootfd, resolved inside it, into out (capped by out's max). */
int patch_read_in_root(int rootfd, const char *rel, struct buf *out, struct err *e);
/* dpkg's database of root: var/lib/dpkg/status, else status.d/ entries.
 * ERR_INPUT when a stanza has no Package or Version. */
int dpkg_db_read(struct dpkg_db *db, const char *root, bool statusd, struct err *e);
const struct dpkg_ent *dpkg_db_find(const struct dpkg_db *db, const char *name);
void dpkg_db_free(struct dpkg_db *db);
/* The sources.list lines for the run (the security suite, mirrors) into
 * path; *hide_own: the image's own sources are hidden (a main= mirror). */
int apt_sources(const struct patch_image *p, const char *path, bool *hide_own, struct err *e);
/* Runs SCRIPT with args in the sandbox over lower (upper collects the
 * changes), with the run's sources, apt's lists and cache outside the image
 * and work/io at /.bosun-patch. *status is the script's exit code. */
int apt_sandbox(const struct patch_image *p, const char *lower, const char *upper, const char *script,
		char **args, size_t n_args, const char *extra_src, const char *extra_dst, int *status,
		struct err *e);
/* The error of a failed step from its log in work/io (update: ERR_NETWORK
 * when apt could not reach an archive). */
int apt_failure(const struct patch_image *p, const char *step, struct err *e);
/* apt-get in the image itself: upgrades into upper. */
int apt_upgrade(struct patch_image *p, const struct patch_wants *w, const char *upper, struct err *e);
/* Removes logs, caches and backup files the run left in upper. */
int apt_tidy_upper(const char *upper, const char *lower, struct err *e);

/* deb.c */
int deb_upgrade(struct patch_image *p, const struct patch_wants *w, const char *upper, struct patch_pkg **pkgs,
		size_t *n_pkgs, struct err *e);

#endif
