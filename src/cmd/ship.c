#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "cmd/cmd.h"
#include "cmd/opts.h"
#include "core/fs.h"
#include "core/log.h"
#include "core/util.h"
#include "report/ci.h"
#include "report/results.h"
#include "scan/dbsync.h"
#include "ship/ship.h"

static const char help[] =
    "usage: bosun ship [BUILD OPTIONS] [SCAN OPTIONS] [--key KEY] [--attest]\n"
    "                  [--junit FILE] [--report-dir DIR] -t REF... CONTEXT\n"
    "       bosun ship --from-results FILE [--report-dir DIR]\n\n"
    "The pipeline step: build -> scan -> policy gate -> push -> sign -> attest.\n"
    "When the gate passes, the image is pushed to every -t reference, signed with\n"
    "--key and, with --attest, given signed SBOM (CycloneDX), vulnerability scan and\n"
    "SLSA provenance attestations. When it fails, nothing is pushed or signed\n"
    "(--push-on-fail pushes it anyway, never signed). Every stage's outcome goes\n"
    "into the reports; the exit code is 1 when the gate failed. With several\n"
    "--platform values (one OCI image index) every platform's image is scanned, the\n"
    "gate holds for all of them, and the index and each platform's manifest are\n"
    "signed and attested; scan.OS-ARCH.sarif and sbom.OS-ARCH.cdx.json are written\n"
    "for each platform beside scan.sarif and sbom.cdx.json (the first platform's).\n\n"
    "Build options (as for bosun build):\n" BUILD_OPTS_HELP
    "  --no-push                  do not push (the image goes only to --output)\n"
    "Scan and policy options (as for bosun scan; ship's gate defaults to --fail-on "
    "high):\n" SCAN_OPTS_HELP
    "  --push-on-fail             push even when the gate fails (never signed)\n"
    "Patching (see bosun patch):\n"
    "  --patch                    when the gate fails only on findings a distribution package\n"
    "                             fixes, patch the image, scan it again and ship the patched\n"
    "                             image (with --attest, a patch attestation lists the packages)\n"
    "  --package-mirror [security=|main=]URL   archives for the patch (repeatable)\n"
    "  --tool-image REF           distroless images: the root that downloads the packages\n"
    "Signing:\n" SIGN_OPTS_HELP
    "  --attest                   attach SBOM, vulnerability and SLSA provenance attestations\n"
    "Reports (in --report-dir, default bosun-reports: junit.xml, results.json,\n"
    "scan.sarif, sbom.cdx.json, summary.md, report.html):\n" REPORT_OPTS_HELP
    "  --base-max-age DAYS        a base image older than this is shown as stale (default 30)\n"
    "  --no-ci-publish            no results.publish command on Azure (when the pipeline\n"
    "                             publishes junit.xml itself)\n"
    "  --from-results FILE        only render the reports again from a results.json\n"
    "  -v, -q                     more / less output\n\n"
    "CI integration (automatic):\n"
    "  TF_BUILD=True              Azure Pipelines logging commands on stdout: output\n"
    "                             variables imageRef, imageDigest, findingsCritical,\n"
    "                             findingsHigh, findingsMedium, findingsLow, policyPassed,\n"
    "                             signed, reportDir; logissue errors for the gate;\n"
    "                             uploadsummary; results.publish of junit.xml; one\n"
    "                             collapsible log group per stage\n"
    "  JENKINS_URL                REPORTDIR/bosun.properties with the same outputs\n"
    "  GITHUB_OUTPUT, GITHUB_STEP_SUMMARY   the outputs and the markdown summary\n\n" REG_OPTS_HELP
    "\n" EXIT_CODES_HELP;

/* Azure: one collapsible log group per stage (stdout, where the agent
 * looks; stderr is flushed first so the log lines land inside). */
static bool group_open;
static void on_stage(enum res_stage s, void *arg)
{
	(void)arg;
	fflush(stderr);
	if (group_open)
		printf("##[endgroup]\n");
	printf("##[group]bosun ship: %s\n", res_stage_name(s));
	fflush(stdout);
	group_open = true;
}

/* Reports + CI outputs; prints the Azure commands. Keeps the first error. */
static int finish(const struct results *r, const char *dir, const char *junit, bool ci_publish,
		  bool group, const struct err *run_err, struct err *e)
{
	struct buf az __attribute__((cleanup(buf_cleanup))) = BUF_INIT;
	char abs[PATH_MAX];
	struct ci_env env;

	if (ship_reports_write(r, dir, e) < 0)
		return -1;
	if (junit) {
		struct buf b __attribute__((cleanup(buf_cleanup))) = BUF_INIT;

		if (results_junit(r, &b, e) < 0 || fs_write_atomic(junit, b.data, b.len, 0644, e) < 0)
			return err_prefix(e, "--junit %s", junit);
	}
	if (!realpath(dir, abs))
		return err_errno(e, ERR_INPUT, "report dir %s", dir);
	ci_detect(&env);
	if (run_err && run_err->code && env.azure &&
	    ci_azure_logissue(&az, "error", run_err->msg, e) < 0)
		return -1;
	if (ship_ci(r, abs, &env, ci_publish, &az, e) < 0)
		return -1;
	if (group && group_open) {
		fflush(stderr);
		printf("##[endgroup]\n");
		group_open = false;
	}
	fwrite(az.data, 1, az.len, stdout);
	fflush(stdout);
	log_info("reports in %s: report.html, junit.xml, results.json, scan.sarif, sbom.cdx.json, summary.md",
		 dir);
	return 0;
}

/* ship's own options beside the build, scan, signing, report and registry groups. */
struct ship_cli {
	const char *from;
	bool no_push, push_on_fail, attest, ci_publish, patch;
	long base_max_age_days;
	const char *mirrors[CLI_MAXV], *tool_image;
	size_t n_mirrors;
};

enum { O_FROM = 3000, O_NOPUSH, O_PUSHFAIL, O_ATTEST, O_BASEAGE, O_NOCIPUB, O_PATCH, O_MIRROR, O_TOOL };
static const struct option ship_own[] = {{"from-results", required_argument, NULL, O_FROM},
					 {"no-push", no_argument, NULL, O_NOPUSH},
					 {"push-on-fail", no_argument, NULL, O_PUSHFAIL},
					 {"attest", no_argument, NULL, O_ATTEST},
					 {"base-max-age", required_argument, NULL, O_BASEAGE},
					 {"no-ci-publish", no_argument, NULL, O_NOCIPUB},
					 {"patch", no_argument, NULL, O_PATCH},
					 {"package-mirror", required_argument, NULL, O_MIRROR},
					 {"tool-image", required_argument, NULL, O_TOOL},
					 {NULL, 0, NULL, 0}};

static int ship_own_opt(void *ctx, int c, const char *arg, struct err *e)
{
	struct ship_cli *s = ctx;
	char *end;
	long d;

	switch (c) {
	case O_FROM:
		s->from = arg;
		return 1;
	case O_NOPUSH:
		s->no_push = true;
		return 1;
	case O_PUSHFAIL:
		s->push_on_fail = true;
		return 1;
	case O_ATTEST:
		s->attest = true;
		return 1;
	case O_NOCIPUB:
		s->ci_publish = false;
		return 1;
	case O_PATCH:
		s->patch = true;
		return 1;
	case O_MIRROR:
		if (s->n_mirrors >= CLI_MAXV)
			return cmd_usage_error(e, "ship", "too many --package-mirror");
		s->mirrors[s->n_mirrors++] = arg;
		return 1;
	case O_TOOL:
		s->tool_image = arg;
		return 1;
	case O_BASEAGE:
		d = strtol(arg, &end, 10);
		if (end == arg || *end || d < 0)
			return cmd_usage_error(e, "ship", "bad --base-max-age \"%s\" (days)", arg);
		s->base_max_age_days = d;
		return 1;
	default:
		return 0;
	}
}

/* ship --from-results: only the reports again. */
static int rerender(const struct ship_cli *s, const char *dir, const char *junit, int argc,
		    struct err *e)
{
	struct results r;
	int ret;

	if (argc != optind)
		return cmd_usage_error(e, "ship", "--from-results takes no CONTEXT");
	if (ship_report_dir_check(dir, e) < 0 || results_read_file(&r, s->from, e) < 0)
		return -1;
	ret = finish(&r, dir, junit, s->ci_publish, false, NULL, e);
	if (ret == 0)
		ret = r.policy_passed ? 0 : 1;
	results_free(&r);
	return ret;
}

/* The command line into ship_opts; checks what needs no build. */
static int ship_setup(struct cli *cl, const struct ship_cli *s, const char *context,
		      char **cached_db, struct ship_opts *o, struct err *e)
{
	memset(o, 0, sizeof(*o));
	if (!cl->scan.db) {
		/* the database `bosun db update` / `db pull` keep in the cache, as scan does */
		char *root = bosun_cache_dir(NULL, e);

		*cached_db = root ? vdb_cached_path(root, e) : NULL;
		free(root);
		if (!*cached_db)
			return -1;
		if (!fs_exists(*cached_db))
			return err_set(e, ERR_INPUT,
				       "no vulnerability database at %s: run 'bosun db update' (or "
				       "give --db FILE)",
				       *cached_db);
		cl->scan.db = *cached_db;
	}
	if (s->attest && !cl->key)
		return cmd_usage_error(e, "ship", "--attest needs --key");
	if (s->push_on_fail && s->no_push)
		return cmd_usage_error(e, "ship", "--push-on-fail and --no-push contradict each other");
	if (cl->build.n_outputs > 1)
		return cmd_usage_error(e, "ship",
				       "ship writes one --output (push to the -t references)");
	if (cli_source_date(cl, e) < 0)
		return -1;
	cli_policy_finish(cl);
	o->build = cl->build.o;
	o->build.context = context;
	o->tags = cl->build.tags;
	o->n_tags = cl->build.n_tags;
	o->output = cl->build.n_outputs ? cl->build.outputs[0] : NULL;
	o->no_push = s->no_push;
	o->push_on_fail = s->push_on_fail;
	o->attest = s->attest;
	o->key = cl->key;
	o->db = cl->scan.db;
	o->db_max_age = cl->scan.db_max_age;
	o->pol = cl->scan.pol;
	o->report_dir = cl->report_dir;
	o->base_max_age_days = s->base_max_age_days;
	o->patch = s->patch;
	o->patch_mirrors = s->mirrors;
	o->n_patch_mirrors = s->n_mirrors;
	o->patch_tool_image = s->tool_image;
	o->reg = cli_reg_opts(cl);
	return 0;
}

int cmd_ship(int argc, char **argv, struct err *e)
{
	struct ship_cli sc = {.ci_publish = true, .base_max_age_days = 30};
	const struct cli_cmd cmd = {
	    "ship", help,     CLI_REG | CLI_BUILD | CLI_SCAN | CLI_SIGN | CLI_REPORT,
	    NULL,   ship_own, ship_own_opt,
	    &sc,    NULL};
	struct cli cl;
	struct ship_opts o;
	struct results r;
	struct err run_err = ERR_INIT;
	bool group = false;
	char *cached_db __attribute__((cleanup(freep))) = NULL;
	struct sign_key signer __attribute__((cleanup(sign_key_free))) = { 0 };
	int ret;

	cli_init(&cl);
	cl.scan.pol.fail_on = SEV_HIGH; /* ship gates by default */
	cl.report_dir = "bosun-reports";
	if ((ret = cli_parse(&cmd, argc, argv, &cl, e)) != 0)
		return ret > 0 ? 0 : -1;
	if (sc.from)
		return rerender(&sc, cl.report_dir, cl.junit, argc, e);
	if (argc - optind != 1)
		return cmd_usage_error(e, "ship", "expected one CONTEXT directory");
	if (ship_setup(&cl, &sc, argv[optind], &cached_db, &o, e) < 0)
		return -1;
	/* Everything that can be checked before the build: no image is built,
	 * let alone pushed, on a bad report dir, key, database or reference. */
	if (ship_report_dir_check(o.report_dir, e) < 0 || ship_preflight(&o, &signer, e) < 0)
		return -1;
	o.signer = o.key ? &signer : NULL; /* decrypted once */
	{
		const char *tf = getenv("TF_BUILD");

		group = tf && !strcasecmp(tf, "true");
		if (group)
			o.on_stage = on_stage;
	}
	results_init(&r);
	ret = ship_run(&o, &r, &run_err);
	if (finish(&r, o.report_dir, cl.junit, sc.ci_publish, group, ret < 0 ? &run_err : NULL, e) <
	    0) {
		if (ret < 0)
			log_error("%s", e->msg); /* the run's own error is the one reported */
		else
			ret = -1;
	}
	if (ret < 0) {
		*e = run_err;
	} else if (ret == 0) {
		if (!r.policy_passed) {
			log_error("ship: the policy gate failed (%s); %s", r.stage[RS_POLICY].details,
				  r.pushed ? "PUSHED ANYWAY (--push-on-fail), NOT SIGNED" : "nothing pushed or signed");
			ret = 1;
		} else {
			printf("%s\n", r.digest ? r.digest : "");
		}
	}
	results_free(&r);
	return ret;
}
