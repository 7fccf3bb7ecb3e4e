/* bosun ship: the pipeline step. Writing the reports and the CI outputs
 * from a results model (ship_reports.c); the build -> scan -> gate -> push
 * -> sign -> attest orchestration lives next to it. */
#ifndef BOSUN_SHIP_SHIP_H
#define BOSUN_SHIP_SHIP_H

#include <stdbool.h>
#include "core/buf.h"
#include "core/err.h"
#include "report/ci.h"
#include "builder/build.h"
#include "report/results.h"
#include "scan/findings.h"
#include "sign/keys.h"

/* Create DIR (and parents) and check it is writable before any work:
 * ERR_INPUT "report dir DIR: ..." otherwise. */
int ship_report_dir_check(const char *dir, struct err *e);

/* Write results.json, summary.md, report.html and junit.xml into dir
 * (atomically, each). */
int ship_reports_write(const struct results *r, const char *dir, struct err *e);

/* The named outputs: imageRef, imageDigest, findingsCritical, findingsHigh,
 * findingsMedium, findingsLow, policyPassed, signed, reportDir. Strings point
 * into r, reportdir or into storage (caller keeps both alive). */
#define SHIP_OUTPUTS 9
struct ship_outputs {
	struct ci_output o[SHIP_OUTPUTS];
	char num[4][24];
};
void ship_outputs_fill(struct ship_outputs *so, const struct results *r, const char *reportdir);

/* CI integration for the given environment: Azure logging commands appended
 * to azure_out (output variables, one logissue per failing finding up to 50
 * plus one for the gate, uploadsummary, results.publish unless
 * publish_junit is false), bosun.properties
 * in the report dir for Jenkins, the GitHub output and step-summary files.
 * reportdir must be absolute (the agent wants absolute paths). */
int ship_ci(const struct results *r, const char *reportdir, const struct ci_env *env,
	    bool publish_junit, struct buf *azure_out, struct err *e);

/* ---- the pipeline (run.c) */
struct ship_opts {
	struct build_opts build;      /* context, Dockerfile, args, platform, ... */
	const char **tags;            /* registry references pushed when the gate passes */
	size_t n_tags;
	const char *output;           /* also write the image here (oci:, docker-archive:) */
	bool no_push, push_on_fail, attest;
	const char *key;              /* private key file, or NULL: no signing */
	const struct sign_key *signer; /* that key as ship_preflight loaded it, or NULL: the sign
					  stage loads it (an encrypted key is decrypted once) */
	const char *db;               /* vulnerability database file */
	long long db_max_age;         /* seconds; 0 = no limit */
	struct policy pol;            /* gate: fail_on, severities, ignores, VEX */
	const char *report_dir;       /* scan.sarif and sbom.cdx.json go here */
	long base_max_age_days;       /* base freshness threshold, -1 none */
	bool patch;                   /* --patch: patch when only distro-fixable findings fail the gate */
	const char *const *patch_mirrors; /* --package-mirror */
	size_t n_patch_mirrors;
	const char *patch_tool_image; /* --tool-image */
	struct reg_opts reg;
	/* called as each stage starts (the command opens a CI log group) */
	void (*on_stage)(enum res_stage s, void *arg);
	void *cb_arg;
};

/* Checks that need no build: references, key (loaded, so a wrong password
 * fails here), database (opens, not too old). With key non-NULL the loaded
 * key is kept there for o->signer; the caller frees it (sign_key_free)
 * whatever the result. */
int ship_preflight(const struct ship_opts *o, struct sign_key *key, struct err *e);
/* Runs every stage, recording each in r (the caller results_init's it).
 * 0 when the pipeline ran (r->policy_passed says whether the gate passed),
 * -1 with e filled when a stage broke (its stage is "error" in r). */
int ship_run(const struct ship_opts *o, struct results *r, struct err *e);

#endif
