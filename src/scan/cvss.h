/* CVSS scores from vector strings (v2, v3.0, v3.1, v4.0) and ratings. */
#ifndef BOSUN_SCAN_CVSS_H
#define BOSUN_SCAN_CVSS_H

#include "core/err.h"

/* Severities in ascending order; SEV_UNKNOWN when nothing rates a finding. */
enum severity { SEV_UNKNOWN = 0, SEV_NONE, SEV_LOW, SEV_MEDIUM, SEV_HIGH, SEV_CRITICAL };

/* Score (0.0 - 10.0) of "CVSS:4.0/..." (base, threat and environmental
 * metrics as present, supplemental ones accepted and not scored: see
 * scan/cvss4.h), the base score of "CVSS:3.1/AV:N/...", "CVSS:3.0/..." or a
 * v2 vector ("AV:N/AC:L/Au:N/C:P/I:P/A:P", optionally "(...)"). ERR_INPUT
 * on a malformed vector or a missing base metric. */
int cvss_score(const char *vector, double *score, struct err *e);
/* The rating of a score for the vector's version (v2 has no CRITICAL). */
enum severity cvss_rating(const char *vector, double score);

/* "CVSS-B", "CVSS-BT", "CVSS-BE" or "CVSS-BTE" for a valid v4.0 vector, else NULL. */
const char *cvss_nomenclature(const char *vector);
/* 4, 3 (3.0 and 3.1), 2 (no "CVSS:" prefix), 0 (NULL, other versions). */
int cvss_version(const char *vector);

const char *severity_name(enum severity s); /* "CRITICAL", ..., "UNKNOWN" */
/* Case-insensitive; MODERATE and IMPORTANT are accepted as MEDIUM and HIGH.
 * Returns -1 when not a severity. */
int severity_parse(const char *s);

#endif
