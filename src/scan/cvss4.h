/* CVSS v4.0 scores (FIRST's specification, section 8): the MacroVector of
 * a vector's equivalence classes EQ1..EQ6, its score from the published
 * table, lowered by the mean proportional severity distance to the next
 * lower MacroVectors; rounded half up on the exact value. */
#ifndef BOSUN_SCAN_CVSS4_H
#define BOSUN_SCAN_CVSS4_H

#include "core/err.h"

/* Which metric groups took part (specification section 1.3). */
enum cvss4_nomenclature { CVSS4_B = 0, CVSS4_BT, CVSS4_BE, CVSS4_BTE };

/* Score (0.0 - 10.0) of "CVSS:4.0/AV:N/AC:L/...": base metrics all
 * present, threat (E), environmental (CR, IR, AR, MAV...MSA) and
 * supplemental metrics optional, in any order, each at most once; a
 * metric given as X counts as absent. ERR_INPUT on anything else.
 * nom (may be NULL) receives the nomenclature. */
int cvss4_score(const char *vector, double *score, enum cvss4_nomenclature *nom, struct err *e);

/* "CVSS-B", "CVSS-BT", "CVSS-BE", "CVSS-BTE". */
const char *cvss4_nomenclature_name(enum cvss4_nomenclature n);

#endif
