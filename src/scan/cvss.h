/* CVSS base scores from vector strings (v2, v3.0, v3.1) and ratings. */
#ifndef BOSUN_SCAN_CVSS_H
#define BOSUN_SCAN_CVSS_H

#include "core/err.h"

/* Severities in ascending order; SEV_UNKNOWN when nothing rates a finding. */
enum severity { SEV_UNKNOWN = 0, SEV_NONE, SEV_LOW, SEV_MEDIUM, SEV_HIGH, SEV_CRITICAL };

/* CVSS v4.0 score of "CVSS:4.0/..." (base, threat and environmental
 * metrics as present; supplemental metrics accepted and ignored). */
/* Base score (0.0 - 10.0) of "CVSS:4.0/...", "CVSS:3.1/AV:N/...", "CVSS:3.0/..." or a v2
 * vector ("AV:N/AC:L/Au:N/C:P/I:P/A:P", optionally "(...)"). ERR_INPUT on
 * a malformed vector or a missing base metric. */
int cvss_score(const char *vector, double *score, struct err *e);
/* The rating of a score for the vector's version (v2 has no CRITICAL). */
enum severity cvss_rating(const char *vector, double score);

const char *severity_name(enum severity s); /* "CRITICAL", ..., "UNKNOWN" */
/* Case-insensitive; MODERATE and IMPORTANT are accepted as MEDIUM and HIGH.
 * Returns -1 when not a severity. */
int severity_parse(const char *s);

#endif
