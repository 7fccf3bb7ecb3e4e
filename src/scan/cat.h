/* Private to the catalogers (src/scan/cat_*.c) and inventory.c: each
 * cataloger reads one kind of kept file and adds what it finds to the
 * inventory.
 *
 * A cataloger returns 0 when it read the file (finding nothing is fine),
 * CAT_UNPARSED when the file is not what its name says (a lock file that
 * does not parse): the caller skips it and counts it; -1 with e set only
 * on what must stop the scan (out of memory, a damaged OS package
 * database). */
#ifndef BOSUN_SCAN_CAT_H
#define BOSUN_SCAN_CAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "core/buf.h"
#include "core/err.h"
#include "scan/inventory.h"
#include "scan/layercache.h"

#define CAT_UNPARSED 1
#define CAT_ZIP_MAX (256u << 20) /* archives are opened in memory up to this size */
#define CAT_ZIP_DEPTH 3		 /* archives inside archives, at most this deep */
#define CAT_GOINFO_MAX (256u << 10)

/* Add a package. A package without a name is dropped; one without a
 * version is kept with version "" (listed, matched by nothing). */
int cat_add(struct inventory *inv, const char *type, const char *eco, const char *name,
	    const char *ver, const char *src, const char *srcver, const struct kfile *k,
	    struct err *e);
/* Remove the packages added since inv->n was first (a file read in part). */
void cat_drop(struct inventory *inv, size_t first);
bool cat_utf8_valid(const char *s, size_t n);
/* "Key: value" in an RFC 822 style paragraph [s, end), copied into out. */
bool cat_field(const char *s, const char *end, const char *key, char *out, size_t cap);
/* The value [v, le) without its leading blanks and trailing spaces and CRs,
 * copied into out (cut to cap - 1 bytes). */
void cat_copy_value(const char *v, const char *le, char *out, size_t cap);
const struct kfile *cat_find(const struct fileset *fs, const char *path);

/* OS: os-release and friends, dpkg, apk, rpm (cat_os.c). */
void cat_detect_os(struct inventory *inv, const struct fileset *fs);
int cat_dpkg(struct inventory *inv, const struct kfile *k, struct err *e);
int cat_apk(struct inventory *inv, const struct kfile *k, struct err *e);
int cat_rpm(struct inventory *inv, const struct kfile *k, struct err *e);

/* Go binaries (cat_go.c): the build info is found while the executable
 * streams past; what is kept is self-contained (see cat_go.c). */
struct goscan;
struct goscan *goscan_new(void);
void goscan_feed(struct goscan *g, const unsigned char *p, size_t n);
bool goscan_done(const struct goscan *g);
/* The build info in its kept form (the Go 1.18+ inline layout) into out;
 * 0 with out empty when the file holds none, -1 only when out of memory. */
int goscan_finish(struct goscan *g, struct buf *out, struct err *e);
void goscan_free(struct goscan *g);
int cat_go(struct inventory *inv, const struct kfile *k, struct err *e);

/* Python: METADATA, PKG-INFO (cat_lang.c). */
int cat_python(struct inventory *inv, const struct kfile *k, struct err *e);
/* npm: an installed package.json (cat_lang.c). */
int cat_npm(struct inventory *inv, const struct kfile *k, struct err *e);
/* Cargo.lock (cat_cargo.c). */
int cat_cargo(struct inventory *inv, const struct kfile *k, struct err *e);

/* npm lock files, read when no installed tree sits beside them (cat_lock.c). */
bool cat_is_js_lock(const char *path);
int cat_js_lock(struct inventory *inv, const struct fileset *fs, const struct kfile *k,
		struct err *e);

/* Archives (cat_java.c): jars (and wars, ears) and Python eggs and wheels
 * are zips; what the catalogers need inside them is kept as
 * "ARCHIVE!/MEMBER". */
bool cat_is_archive(const char *path);
int cat_zip(struct fileset *fs, const char *path, const void *p, size_t n, int layer, int depth,
	    struct err *e);
int cat_pom(struct inventory *inv, const struct kfile *k, struct err *e);
int cat_pom_xml(struct inventory *inv, const struct fileset *fs, const struct kfile *k,
		struct err *e);
int cat_manifest(struct inventory *inv, const struct fileset *fs, const struct kfile *k,
		 struct err *e);

#endif
