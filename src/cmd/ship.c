#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "core/log.h"
#include "core/util.h"
#include "report/ci.h"
#include "report/results.h"
#include "ship/ship.h"

static const char help[] =
	"usage: bosun ship [BUILD OPTIONS] [SCAN OPTIONS] [--key KEY] [--attest]\n"
	"                  [--junit FILE] [--report-dir DIR] CONTEXT\n"
	"       bosun ship --from-results FILE [--report-dir DIR]\n\n"
	"The pipeline step: build -> scan -> policy gate -> push -> sign -> attest.\n"
	"With --from-results, render the reports and CI outputs again from a\n"
	"results.json that an earlier run wrote, without building anything.\n\n"
	"Report options:\n"
	"  --report-dir DIR           where the reports go (default bosun-reports):\n"
	"                             results.json, junit.xml, summary.md, report.html\n"
	"  --from-results FILE        re-render the reports from FILE\n"
	"  -v, -q                     more / less output\n\n"
	"CI integration (automatic):\n"
	"  TF_BUILD=True              Azure Pipelines logging commands on stdout: output\n"
	"                             variables imageRef, imageDigest, findingsCritical,\n"
	"                             findingsHigh, findingsMedium, findingsLow, policyPassed,\n"
	"                             signed, reportDir; logissue errors for the gate;\n"
	"                             uploadsummary; results.publish of junit.xml\n"
	"  JENKINS_URL                REPORTDIR/bosun.properties with the same outputs\n"
	"  GITHUB_OUTPUT, GITHUB_STEP_SUMMARY   the outputs and the markdown summary\n\n" EXIT_CODES_HELP;

static int absolute_dir(const char *dir, char out[PATH_MAX], struct err *e)
{
	if (!realpath(dir, out))
		return err_errno(e, ERR_INPUT, "report dir %s", dir);
	return 0;
}

/* Reports + CI outputs; prints the Azure commands. */
static int finish(const struct results *r, const char *dir, struct err *e)
{
	struct buf az __attribute__((cleanup(buf_cleanup))) = BUF_INIT;
	char abs[PATH_MAX];
	struct ci_env env;

	if (ship_reports_write(r, dir, e) < 0 || absolute_dir(dir, abs, e) < 0)
		return -1;
	ci_detect(&env);
	if (ship_ci(r, abs, &env, true, &az, e) < 0)
		return -1;
	fwrite(az.data, 1, az.len, stdout);
	fflush(stdout);
	log_info("reports in %s: report.html, junit.xml, results.json, summary.md", dir);
	return 0;
}

int cmd_ship(int argc, char **argv, struct err *e)
{
	enum { OPT_REPORT_DIR = 3000, OPT_FROM_RESULTS };
	static const struct option lo[] = { COMMON_LONGOPTS,
					    { "report-dir", required_argument, NULL, OPT_REPORT_DIR },
					    { "from-results", required_argument, NULL, OPT_FROM_RESULTS },
					    { NULL, 0, NULL, 0 } };
	const char *dir = "bosun-reports", *from = NULL;
	struct results r;
	int c, rc;

	while ((c = getopt_long(argc, argv, COMMON_SHORTOPTS, lo, NULL)) != -1) {
		if (cmd_common_opt(c))
			continue;
		switch (c) {
		case 'h': cmd_print_help(help); return 0;
		case OPT_REPORT_DIR: dir = optarg; break;
		case OPT_FROM_RESULTS: from = optarg; break;
		default: return cmd_usage_error(e, "ship", "bad option \"%s\"", argv[optind - 1]);
		}
	}
	if (!from)
		return cmd_usage_error(e, "ship", "building needs the build and scan libraries; use --from-results");
	if (argc != optind)
		return cmd_usage_error(e, "ship", "--from-results takes no CONTEXT");
	if (ship_report_dir_check(dir, e) < 0)
		return -1;
	if (results_read_file(&r, from, e) < 0)
		return -1;
	rc = finish(&r, dir, e);
	if (rc == 0)
		rc = r.policy_passed ? 0 : 1;
	results_free(&r);
	return rc;
}
