/* Scan reports written into a buffer (the caller decides where they go):
 * table, JSON, SARIF 2.1.0, CycloneDX 1.5, JUnit XML, markdown. */
#ifndef BOSUN_REPORT_REPORT_H
#define BOSUN_REPORT_REPORT_H

#include <stdbool.h>
#include "core/buf.h"
#include "core/err.h"
#include "scan/findings.h"
#include "scan/inventory.h"

struct report_in {
	const struct inventory *inv;
	const struct scan_result *res;
	int fail_on;            /* severity or -1 */
	const char *db_version; /* database build time */
	const char *tool_version;
	bool color;             /* table only */
	double seconds;         /* scan duration, for JUnit time */
};

enum report_fmt { RF_TABLE, RF_JSON, RF_SARIF, RF_CYCLONEDX, RF_JUNIT, RF_MARKDOWN };
/* -1 for an unknown name. */
int report_fmt_parse(const char *s);
int report_write(enum report_fmt f, const struct report_in *in, struct buf *out, struct err *e);

int report_table(const struct report_in *in, struct buf *out, struct err *e);
int report_json(const struct report_in *in, struct buf *out, struct err *e);
int report_sarif(const struct report_in *in, struct buf *out, struct err *e);
int report_cyclonedx(const struct report_in *in, struct buf *out, struct err *e);
int report_junit(const struct report_in *in, struct buf *out, struct err *e);
int report_markdown(const struct report_in *in, struct buf *out, struct err *e);
/* "N findings come from the base image and are fixed in newer versions of it". */
int report_base_line(const struct report_in *in, struct buf *out, struct err *e);

#endif
