/* The ship results document (results.json): what every stage of
 * build -> scan -> policy -> push -> sign -> attest did, the findings, and
 * what was signed. Reports (HTML, markdown summary, JUnit, CI outputs) are
 * rendered from this model only, so they can be re-rendered from the file.
 *
 * results.json (schemaVersion 1):
 * {
 *   "schemaVersion": 1, "tool": "bosun VERSION", "created": RFC3339,
 *   "image": { "ref": REF, "tags": [REF...], "digest": "sha256:..",
 *              "pushed": bool, "platform": "linux/amd64",
 *              "base": { "name": REF, "digest": DIGEST, "created": RFC3339,
 *                        "ageDays": N, "maxAgeDays": N } },
 *   "policy": { "failOn": SEVERITY|"none", "passed": bool, "pushOnFail": bool },
 *   "database": { "version": TEXT },
 *   "stages": { "build"|"scan"|"policy"|"patch"|"push"|"sign"|"attest":
 *               { "status": "passed"|"failed"|"error"|"skipped"|"not-run",
 *                 "duration": SECONDS, "details": TEXT } },
 *   "counts": { "critical": N, "high": N, "medium": N, "low": N, "unknown": N },
 *   "findings": [ { "id", "aliases": [..], "severity", "package", "installed",
 *                   "fixed", "layer", "fromBase": bool, "title", "failing": bool,
 *                   "suppressed": bool } ],
 *   "signing": { "key": PATH, "keyId": TEXT, "signed": [REF@DIGEST...],
 *                "attestations": [PREDICATE TYPE...] },
 *   "patch": null | { "from": DIGEST (the image as built),
 *                     "packages": [ { "name", "from", "to" } ],
 *                     "before": { "counts": {...}, "failing": N } }
 * }
 * With ship --patch, "findings" and "counts" are the scan of the patched
 * image (the one shipped); "patch.before" sums up the scan of the build.
 */
#ifndef BOSUN_REPORT_RESULTS_H
#define BOSUN_REPORT_RESULTS_H

#include <stdbool.h>
#include <stddef.h>
#include "core/buf.h"
#include "core/err.h"

/* RS_PATCH runs only with ship --patch; reports leave it out while "not-run". */
enum res_stage { RS_BUILD, RS_SCAN, RS_POLICY, RS_PATCH, RS_PUSH, RS_SIGN, RS_ATTEST, RS__N };
enum res_status { RST_NOT_RUN, RST_PASSED, RST_FAILED, RST_ERROR, RST_SKIPPED };
/* Severities, most severe first; index into counts[]. */
enum res_sev { RSEV_CRITICAL, RSEV_HIGH, RSEV_MEDIUM, RSEV_LOW, RSEV_UNKNOWN, RSEV__N };

#define RESULTS_MAX (64u << 20)       /* results.json read cap */
#define RESULTS_MAX_FINDINGS 200000
#define RESULTS_MAX_LIST 1024         /* tags, aliases, signed refs, attestations */

struct res_stage_info {
	enum res_status status;
	double seconds;
	char *details; /* may be NULL */
};

struct res_finding {
	char *id, *severity, *package, *installed, *fixed, *layer, *title;
	char **aliases;
	size_t n_aliases;
	bool from_base, failing, suppressed;
	char *cvss_vector; /* the CVSS vector that rates it, or NULL */
	double cvss_score; /* its score; meaningful only with cvss_vector */
};

struct res_patch_pkg {
	char *name, *from, *to;
};

struct results {
	char *tool, *created;
	char *ref, *digest, *platform;
	char **tags;
	size_t n_tags;
	bool pushed;
	char *base_name, *base_digest, *base_created;
	long base_age_days;     /* -1 unknown */
	long base_max_age_days; /* freshness threshold, -1 none */
	char *fail_on;          /* severity name or "none" */
	bool policy_passed, push_on_fail;
	char *db_version;
	struct res_stage_info stage[RS__N];
	struct res_finding *f;
	size_t n_f, alloc_f;
	char *sign_key, *sign_key_id;
	char **signed_refs;
	size_t n_signed;
	char **attestations;
	size_t n_attestations;
	/* ship --patch: NULL patch_from when nothing was patched */
	char *patch_from;
	struct res_patch_pkg *patched;
	size_t n_patched;
	size_t before_counts[RSEV__N], before_failing;
};

const char *res_stage_name(enum res_stage s);
const char *res_status_name(enum res_status s);
int res_status_parse(const char *s); /* -1 unknown */
const char *res_sev_name(enum res_sev s); /* lower case */
/* Lower or upper case severity name -> enum; -1 unknown. */
int res_sev_parse(const char *s);

void results_init(struct results *r);
void results_free(struct results *r);
/* Append a finding (strings copied; NULL becomes ""). */
int results_add_finding(struct results *r, const struct res_finding *f, struct err *e);
/* Drop every finding (ship --patch replaces the build's scan by the rescan). */
void results_clear_findings(struct results *r);
/* Append a patched package (strings copied). */
int results_add_patched(struct results *r, const char *name, const char *from, const char *to, struct err *e);
/* Counts per severity of the findings. */
void results_counts(const struct results *r, size_t counts[RSEV__N]);
/* Set a string field: frees the old value, copies s (NULL allowed). */
int results_set(char **field, const char *s, struct err *e);
int results_list_add(char ***list, size_t *n, const char *s, struct err *e);

/* Pretty JSON text. */
int results_to_json(const struct results *r, struct buf *out, struct err *e);
/* Parse results.json; ERR_INPUT on anything malformed (wrong types, unknown
 * status or severity, lists over the caps). */
int results_from_json(struct results *r, const char *s, size_t n, struct err *e);
int results_read_file(struct results *r, const char *path, struct err *e);

/* A markdown summary for Azure's build summary / GitHub's step summary. */
int results_markdown(const struct results *r, struct buf *out, struct err *e);
/* JUnit XML: one testsuite per stage, one testcase per finding (stable
 * names: "<id> in <package>"), valid under junit-10.xsd and windyroad. */
int results_junit(const struct results *r, struct buf *out, struct err *e);

#endif
