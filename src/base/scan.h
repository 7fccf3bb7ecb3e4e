/* Scanning for the base commands (rescans, fixes a rebuild would bring),
 * over the scan library. */
#ifndef BOSUN_BASE_SCAN_H
#define BOSUN_BASE_SCAN_H

#include "base/watch.h"
#include "scan/db.h"
#include "scan/findings.h"
#include "scan/inventory.h"

/* Reported findings of target (any location), one per package and advisory. */
struct base_scan {
	struct rescan_finding *f;
	size_t n;
};
int base_scan_image(struct vdb *db, const char *target, const struct reg_opts *ro, const char *platform,
		    const char *cache_dir, struct base_scan *out, struct err *e);
void base_scan_free(struct base_scan *s);

/* Findings of the old base (name@old) that the current base (name@new)
 * no longer has: what a rebuild fixes. The totals of both scans go to
 * n_old and n_new. */
int base_scan_fixes(struct vdb *db, const struct base_result *r, const struct reg_opts *ro,
		    const char *cache_dir, struct base_scan *fixed, size_t *n_old, size_t *n_new, struct err *e);

#endif
