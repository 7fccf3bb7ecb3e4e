/* Matching an inventory against the database, and the policy applied to
 * the findings (severity filter, ignore file with expiry, OpenVEX). */
#ifndef BOSUN_SCAN_FINDINGS_H
#define BOSUN_SCAN_FINDINGS_H

#include <stdbool.h>
#include <stddef.h>
#include "core/err.h"
#include "scan/cvss.h"
#include "scan/db.h"
#include "scan/inventory.h"

struct finding {
	char *id;        /* advisory id */
	char *aliases;   /* JSON array text */
	char *title;
	enum severity severity;
	double score;    /* -1 none */
	char *vector;
	char *alt_vector; /* the other CVSS version's vector (v3 when v4.0 decides), or NULL */
	double alt_score;
	char *fixed;     /* "" when unfixed */
	const struct pkg *pkg;
	bool suppressed; /* by ignore file or VEX */
	char *suppress_reason;
	bool reported;   /* passes --severity / --ignore-unfixed and is not suppressed */
	bool failing;    /* reported and at or above --fail-on */
};

struct scan_result {
	struct finding *f;
	size_t n, alloc;
	char *db_built;  /* database build time */
	char *warnings;  /* newline-separated notes for the user (expired ignores) */
};

int scan_match(struct vdb *db, const struct inventory *inv, struct scan_result *res, struct err *e);
void scan_result_free(struct scan_result *res);

/* CVSS_PREFER_V4 (the default) or CVSS_PREFER_V3: the version whose
 * score and rating a finding carries when its record has both. */
enum cvss_prefer { CVSS_PREFER_V4 = 0, CVSS_PREFER_V3 };

struct policy {
	unsigned severities;   /* bitmask of (1 << severity) to report; 0 = all */
	int fail_on;           /* severity, or -1: never fail */
	bool ignore_unfixed;
	int unknown_as;        /* severity UNKNOWN findings are treated as */
	const char *ignore_file; /* may be NULL */
	const char *const *vex;  /* OpenVEX files */
	size_t n_vex;
	long long today;       /* days since epoch, for exp: dates */
	enum cvss_prefer cvss_prefer; /* which CVSS version rates a record that has v3 and v4.0 */
};

/* The gate's threshold for --fail-on: a severity, or "none" = -1, never
 * fail (the same for scan and ship). -1 when s names no severity. */
int policy_parse_gate(const char *s, int *fail_on);
/* "HIGH,CRITICAL" into a bitmask of (1 << severity); -1 on an unknown name. */
int policy_parse_severities(const char *s, unsigned *mask);

/* Rates by the preferred CVSS version, marks suppressed/reported/failing.
 * Returns the number failing, or -1. */
int scan_policy(struct scan_result *res, const struct policy *p, struct err *e);

#endif
