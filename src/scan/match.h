/* OSV affected-range evaluation, as the OSV schema's evaluation rules say:
 * a version is affected when it is listed in versions[] or falls in any
 * SEMVER/ECOSYSTEM range (GIT ranges are ignored: no commit to compare). */
#ifndef BOSUN_SCAN_MATCH_H
#define BOSUN_SCAN_MATCH_H

#include <stdbool.h>
#include <stddef.h>
#include "scan/version.h"

/* ranges_json / versions_json: the JSON arrays (either may be NULL).
 * fixed (may be NULL, size cap) receives the lowest "fixed" event above
 * version in the range that matched, or "" when there is none (unfixed). */
bool osv_is_affected(const char *ranges_json, const char *versions_json, const char *version, vercmp_fn cmp,
		     char *fixed, size_t cap);

#endif
