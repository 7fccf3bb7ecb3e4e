#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "cmd/cmd.h"
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
	"into the reports; the exit code is 1 when the gate failed.\n\n"
	"Build options (as for bosun build):\n"
	"  -f FILE                    Dockerfile (default CONTEXT/Dockerfile)\n"
	"  -t REF                     registry reference to push to (repeatable)\n"
	"  --build-arg K=V            build argument (repeatable)\n"
	"  --target STAGE             stop at this stage\n"
	"  --label K=V                image label (repeatable)\n"
	"  --secret id=ID,src=PATH    build secret (repeatable)\n"
	"  --network host|none        network for RUN (default host)\n"
	"  --compression gzip|zstd    layer compression (default gzip)\n"
	"  --cache-dir DIR            layer cache directory\n"
	"  --cache-repo REF           registry repository for the layer cache\n"
	"  --output DEST              also write the image to oci:DIR[:TAG] or docker-archive:FILE\n"
	"  --no-push                  do not push (the image goes only to --output)\n"
	"Scan and policy options (as for bosun scan):\n"
	"  --db FILE                  vulnerability database (default: the one 'bosun db update'\n"
	"                             or 'bosun db pull' keep in the cache)\n"
	"  --db-max-age DURATION      refuse an older database (default 7d; 0 disables)\n"
	"  --fail-on SEVERITY         the gate: critical, high (default), medium, low, none\n"
	"  --severity LIST            report only these severities\n"
	"  --unknown-as SEVERITY      treat unrated findings as this for the gate\n"
	"  --cvss-prefer v4|v3        which CVSS version rates a record that has both (default v4)\n"
	"  --ignore-unfixed           do not report findings without a fixed version\n"
	"  --ignore-file FILE         ignore list (default .bosunignore when present)\n"
	"  --vex FILE                 OpenVEX document (repeatable)\n"
	"  --push-on-fail             push even when the gate fails (never signed)\n"
	"Signing:\n"
	"  --key FILE                 sign with this private key (cosign format or PEM);\n"
	"                             password from BOSUN_KEY_PASSWORD or COSIGN_PASSWORD\n"
	"  --attest                   attach SBOM, vulnerability and SLSA provenance attestations\n"
	"Reports:\n"
	"  --report-dir DIR           where the reports go (default bosun-reports):\n"
	"                             junit.xml, results.json, scan.sarif, sbom.cdx.json,\n"
	"                             summary.md, report.html\n"
	"  --junit FILE               also write the JUnit report to FILE\n"
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

#define MAXV 64

static int push_v(const char **v, size_t *n, const char *s, struct err *e)
{
	if (*n >= MAXV)
		return cmd_usage_error(e, "ship", "at most %d of each repeatable option", MAXV);
	v[(*n)++] = s;
	return 0;
}

/* "none" -> -1 (never fail), else a severity. -2 when unknown. */
static int parse_gate(const char *s)
{
	if (!strcasecmp(s, "none"))
		return -1;
	int v = severity_parse(s);
	return v < 0 ? -2 : v;
}

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

int cmd_ship(int argc, char **argv, struct err *e)
{
	enum {
		O_REPORT_DIR = 3000, O_FROM, O_BARG, O_TARGET, O_LABEL, O_SECRET, O_NETWORK, O_COMP,
		O_CACHE_DIR, O_CACHE_REPO, O_OUTPUT, O_NOPUSH, O_DB, O_AGE, O_FAILON, O_SEV, O_UNK,
		O_UNFIXED, O_IGN, O_VEX, O_PUSHFAIL, O_KEY, O_ATTEST, O_JUNIT, O_BASEAGE, O_NOCIPUB
	};
	enum { O_CVSS = 3900 }; /* --cvss-prefer */
	static const struct option lo[] = { COMMON_LONGOPTS, REG_LONGOPTS,
					    { "report-dir", required_argument, NULL, O_REPORT_DIR },
					    { "from-results", required_argument, NULL, O_FROM },
					    { "file", required_argument, NULL, 'f' },
					    { "tag", required_argument, NULL, 't' },
					    { "build-arg", required_argument, NULL, O_BARG },
					    { "target", required_argument, NULL, O_TARGET },
					    { "label", required_argument, NULL, O_LABEL },
					    { "secret", required_argument, NULL, O_SECRET },
					    { "network", required_argument, NULL, O_NETWORK },
					    { "compression", required_argument, NULL, O_COMP },
					    { "cache-dir", required_argument, NULL, O_CACHE_DIR },
					    { "cache-repo", required_argument, NULL, O_CACHE_REPO },
					    { "output", required_argument, NULL, O_OUTPUT },
					    { "no-push", no_argument, NULL, O_NOPUSH },
					    { "db", required_argument, NULL, O_DB },
					    { "db-max-age", required_argument, NULL, O_AGE },
					    { "fail-on", required_argument, NULL, O_FAILON },
					    { "severity", required_argument, NULL, O_SEV },
					    { "unknown-as", required_argument, NULL, O_UNK },
					    { "ignore-unfixed", no_argument, NULL, O_UNFIXED },
					    { "ignore-file", required_argument, NULL, O_IGN },
					    { "vex", required_argument, NULL, O_VEX },
					    { "push-on-fail", no_argument, NULL, O_PUSHFAIL },
					    { "key", required_argument, NULL, O_KEY },
					    { "attest", no_argument, NULL, O_ATTEST },
					    { "junit", required_argument, NULL, O_JUNIT },
					    { "base-max-age", required_argument, NULL, O_BASEAGE },
					    { "no-ci-publish", no_argument, NULL, O_NOCIPUB },
					    { "cvss-prefer", required_argument, NULL, O_CVSS },
					    { NULL, 0, NULL, 0 } };
	const char *tags[MAXV], *bargs[MAXV], *labels[MAXV], *secrets[MAXV], *vex[MAXV];
	const char *dir = "bosun-reports", *from = NULL, *junit = NULL;
	size_t n_vex = 0;
	struct reg_cli rc = { 0 };
	struct ship_opts o;
	struct results r;
	struct err run_err = ERR_INIT;
	bool ci_publish = true, group = false;
	char *cached_db __attribute__((cleanup(freep))) = NULL;
	int c, v, ret;

	memset(&o, 0, sizeof(o));
	o.build.build_args = (char **)bargs;
	o.build.labels = (char **)labels;
	o.build.secrets = (char **)secrets;
	o.build.source_date_epoch = -1;
	o.tags = tags;
	o.pol = (struct policy){ 0, SEV_HIGH, false, SEV_UNKNOWN, NULL, NULL, 0, 0, CVSS_PREFER_V4 };
	o.db_max_age = 7 * 86400;
	o.base_max_age_days = 30;
	while ((c = getopt_long(argc, argv, COMMON_SHORTOPTS "f:t:", lo, NULL)) != -1) {
		if (cmd_common_opt(c))
			continue;
		switch (c) {
		case 'h': cmd_print_help(help); return 0;
		case O_REPORT_DIR: dir = optarg; break;
		case O_FROM: from = optarg; break;
		case 'f': o.build.dockerfile = optarg; break;
		case 't':
			if (push_v(tags, &o.n_tags, optarg, e) < 0)
				return -1;
			break;
		case O_BARG:
			if (push_v(bargs, &o.build.n_build_args, optarg, e) < 0)
				return -1;
			break;
		case O_TARGET: o.build.target = optarg; break;
		case O_LABEL:
			if (!strchr(optarg, '='))
				return cmd_usage_error(e, "ship", "--label %s: expected KEY=VALUE", optarg);
			if (push_v(labels, &o.build.n_labels, optarg, e) < 0)
				return -1;
			break;
		case O_SECRET:
			if (!strstr(optarg, "id=") || (!strstr(optarg, "src=") && !strstr(optarg, "source=")))
				/* not echoed: a mistaken value may be the secret itself */
				return cmd_usage_error(e, "ship", "--secret: expected id=ID,src=PATH");
			if (push_v(secrets, &o.build.n_secrets, optarg, e) < 0)
				return -1;
			break;
		case O_NETWORK:
			if (strcmp(optarg, "host") && strcmp(optarg, "none"))
				return cmd_usage_error(e, "ship", "--network %s: expected host or none", optarg);
			o.build.network = optarg;
			break;
		case O_COMP:
			if (!strcmp(optarg, "gzip"))
				o.build.comp = LAYER_GZIP;
			else if (!strcmp(optarg, "zstd"))
				o.build.comp = LAYER_ZSTD;
			else
				return cmd_usage_error(e, "ship", "--compression %s: expected gzip or zstd", optarg);
			break;
		case O_CACHE_DIR: o.build.cache_dir = optarg; break;
		case O_CACHE_REPO: o.build.cache_repo = optarg; break;
		case O_OUTPUT: o.output = optarg; break;
		case O_NOPUSH: o.no_push = true; break;
		case O_DB: o.db = optarg; break;
		case O_AGE:
			if (cmd_parse_age(optarg, &o.db_max_age) < 0)
				return cmd_usage_error(e, "ship", "bad --db-max-age \"%s\" (e.g. 7d, 12h, 0)", optarg);
			break;
		case O_FAILON:
			if ((v = parse_gate(optarg)) == -2)
				return cmd_usage_error(e, "ship", "unknown severity \"%s\" for --fail-on "
								   "(critical, high, medium, low, none)", optarg);
			o.pol.fail_on = v;
			break;
		case O_SEV: {
			char tmp[256], *save = NULL;

			snprintf(tmp, sizeof(tmp), "%s", optarg);
			o.pol.severities = 0;
			for (char *t = strtok_r(tmp, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
				if ((v = severity_parse(t)) < 0)
					return cmd_usage_error(e, "ship", "unknown severity \"%s\" in --severity", t);
				o.pol.severities |= 1u << v;
			}
			break;
		}
		case O_UNK:
			if ((v = severity_parse(optarg)) < 0)
				return cmd_usage_error(e, "ship", "unknown severity \"%s\" for --unknown-as", optarg);
			o.pol.unknown_as = v;
			break;
		case O_UNFIXED: o.pol.ignore_unfixed = true; break;
		case O_IGN: o.pol.ignore_file = optarg; break;
		case O_VEX:
			if (push_v(vex, &n_vex, optarg, e) < 0)
				return -1;
			break;
		case O_PUSHFAIL: o.push_on_fail = true; break;
		case O_KEY: o.key = optarg; break;
		case O_ATTEST: o.attest = true; break;
		case O_JUNIT: junit = optarg; break;
		case O_BASEAGE: {
			char *end;
			long d = strtol(optarg, &end, 10);

			if (end == optarg || *end || d < 0)
				return cmd_usage_error(e, "ship", "bad --base-max-age \"%s\" (days)", optarg);
			o.base_max_age_days = d;
			break;
		}
		case O_NOCIPUB: ci_publish = false; break;
		case O_CVSS:
			if (strcmp(optarg, "v4") != 0 && strcmp(optarg, "v3") != 0)
				return cmd_usage_error(e, "ship", "bad --cvss-prefer \"%s\" (v4 or v3)", optarg);
			o.pol.cvss_prefer = optarg[1] == '3' ? CVSS_PREFER_V3 : CVSS_PREFER_V4;
			break;
		default:
			v = cmd_reg_opt(&rc, c, optarg, "ship", e);
			if (v < 0)
				return -1;
			if (v == 0)
				return cmd_usage_error(e, "ship", "bad option \"%s\": unknown, or its value is missing", argv[optind - 1]);
		}
	}
	if (from) {
		if (argc != optind)
			return cmd_usage_error(e, "ship", "--from-results takes no CONTEXT");
		if (ship_report_dir_check(dir, e) < 0 || results_read_file(&r, from, e) < 0)
			return -1;
		ret = finish(&r, dir, junit, ci_publish, false, NULL, e);
		if (ret == 0)
			ret = r.policy_passed ? 0 : 1;
		results_free(&r);
		return ret;
	}
	if (argc - optind != 1)
		return cmd_usage_error(e, "ship", "expected one CONTEXT directory");
	if (!o.db) {
		/* the database `bosun db update` / `db pull` keep in the cache, as scan does */
		char *root = bosun_cache_dir(NULL, e);

		cached_db = root ? vdb_cached_path(root, e) : NULL;
		free(root);
		if (!cached_db)
			return -1;
		if (!fs_exists(cached_db)) {
			return err_set(e, ERR_INPUT,
				       "no vulnerability database at %s: run 'bosun db update' (or give --db FILE)",
				       cached_db);
		}
		o.db = cached_db;
	}
	if (o.attest && !o.key)
		return cmd_usage_error(e, "ship", "--attest needs --key");
	if (o.push_on_fail && o.no_push)
		return cmd_usage_error(e, "ship", "--push-on-fail and --no-push contradict each other");
	o.build.context = argv[optind];
	o.build.platform = rc.platform;
	o.reg = (struct reg_opts){ rc.creds, rc.cacert, rc.insecure, rc.parallel, rc.retries, NULL };
	o.build.reg = o.reg;
	o.report_dir = dir;
	if (!o.pol.ignore_file && fs_exists(".bosunignore"))
		o.pol.ignore_file = ".bosunignore";
	o.pol.vex = vex, o.pol.n_vex = n_vex;
	o.pol.today = (long long)(time(NULL) / 86400);
	{
		const char *sde = getenv("SOURCE_DATE_EPOCH");

		if (sde && *sde) {
			char *end;
			long long t = strtoll(sde, &end, 10);

			if (*end || t < 0)
				return err_set(e, ERR_USAGE, "SOURCE_DATE_EPOCH=%s: expected seconds since 1970", sde);
			o.build.source_date_epoch = t;
		}
	}
	/* Everything that can be checked before the build: no image is built,
	 * let alone pushed, on a bad report dir, key, database or reference. */
	if (ship_report_dir_check(dir, e) < 0 || ship_preflight(&o, e) < 0)
		return -1;
	{
		const char *tf = getenv("TF_BUILD");

		group = tf && !strcasecmp(tf, "true");
		if (group)
			o.on_stage = on_stage;
	}
	results_init(&r);
	ret = ship_run(&o, &r, &run_err);
	if (finish(&r, dir, junit, ci_publish, group, ret < 0 ? &run_err : NULL, e) < 0) {
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
