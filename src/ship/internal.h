/* Private to src/ship:
 *   run.c      the pipeline: build -> scan -> policy -> patch -> push -> sign -> attest
 *   patch.c    ship --patch: patch, rescan and regate when the gate fails only on
 *              findings a distribution package fixes; the patch attestation
 *   reports.c  results.json, summary.md, report.html, junit.xml and the CI outputs */
#ifndef BOSUN_SHIP_INTERNAL_H
#define BOSUN_SHIP_INTERNAL_H

#include <stdarg.h>
#include <stdbool.h>
#include "core/buf.h"
#include "patch/patch.h"
#include "report/results.h"
#include "scan/db.h"
#include "scan/findings.h"
#include "scan/inventory.h"
#include "ship/ship.h"

void ship_stage_set(struct results *r, enum res_stage s, enum res_status st, double t0, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
const char *ship_sev_lower(enum severity s);
/* dedupe: leave out a finding already listed (another platform's image). */
int ship_add_findings(struct results *r, const struct inventory *inv, const struct scan_result *res,
		      bool dedupe, struct err *e);

/* Inventory and match the image at spec (platform of an index, or NULL),
 * with the from-base marks of r's base when it can be read. */
int ship_scan_image(const struct ship_opts *o, const struct results *r, struct vdb *db, const char *spec,
		    const char *platform, struct inventory *inv, struct scan_result *res, struct err *e);

/* The patch stage of a single-platform image. spec (in/out, cap bytes)
 * names the image to ship; on a patch it names the patched image, staged in
 * *pimg (kept open until the push is done), and inv and res are the
 * rescan's. */
int ship_patch_stage(const struct ship_opts *o, struct results *r, struct vdb *db, char *spec, size_t cap,
		     struct inventory *inv, struct scan_result *res, struct patch_image **pimg, struct err *e);
/* The patch predicate (PATCH_PREDICATE): what was patched, from which image. */
int ship_patch_predicate(const struct results *r, const char *started, struct buf *out, struct err *e);

#endif
