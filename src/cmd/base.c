/* bosun base check | pin | watch */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"
#include "base/scan.h"
#include "base/watch.h"
#include "cmd/cmd.h"
#include "cmd/opts.h"
#include "core/fs.h"
#include "core/log.h"
#include "core/util.h"
#include "image/image.h"

static const char help[] =
	"usage: bosun base check [OPTIONS] IMAGE\n"
	"       bosun base check [OPTIONS] --dockerfile FILE\n"
	"       bosun base pin [--update] [--build-arg K=V]... --dockerfile FILE\n"
	"       bosun base watch --images FILE [OPTIONS]\n\n"
	"Find out whether images were built on the current version of their base\n"
	"image, so a pipeline can rebuild and redeploy them when the base is updated.\n"
	"Run 'bosun base SUBCOMMAND --help' for the options of each.\n\n" EXIT_CODES_HELP;

static const char help_check[] =
	"usage: bosun base check [OPTIONS] IMAGE\n"
	"       bosun base check [OPTIONS] --dockerfile FILE\n\n"
	"IMAGE: read the base the image was built on (the manifest annotations\n"
	"org.opencontainers.image.base.name/.base.digest, else the same config labels,\n"
	"else the Azure Docker task's labels image.base.ref.name/image.base.digest) and\n"
	"ask the base's registry (HEAD) where its tag points now. For a multi-platform\n"
	"base only the image's platform counts. Answers up-to-date, stale (old and new\n"
	"digests, age of the new base) or unknown (no base recorded, with advice).\n"
	"--dockerfile FILE: every FROM (all stages, ARGs expanded); a FROM pinned with\n"
	"@sha256: is compared with its tag's current digest, an unpinned one is listed.\n\n"
	"Options:\n"
	"  --dockerfile FILE          check the FROM lines of a Dockerfile instead of an image\n"
	"  --build-arg K=V            value of a global ARG used in FROM (repeatable)\n"
	"  --fail-if-stale            exit 1 when the base (any FROM) is stale\n"
	"  --format text|json         output format (default text)\n"
	"  --scan --db FILE           for a stale base, also scan the old and the current base\n"
	"                             and report the findings the rebuild would fix\n"
	"  --cache-dir DIR            where layers are fetched for --scan (default: a temp dir)\n"
	"  --report-dir DIR           where bosun-base.properties goes under Jenkins (default .)\n"
	"  -v, -q                     more / less output\n" REG_OPTS_HELP "\n"
	"CI outputs: baseStatus, baseStale (true|false), baseDigest, baseCurrentDigest\n"
	"(and baseFixedFindings with --scan): Azure output variables when TF_BUILD=True,\n"
	"REPORTDIR/bosun-base.properties when JENKINS_URL is set, $GITHUB_OUTPUT.\n\n"
	"Exit codes: 0 for every answer (up-to-date, stale, unknown) unless\n"
	"--fail-if-stale (then 1 for stale); 2 usage; 3 bad input (unreadable image,\n"
	"Dockerfile, base tag that does not exist); 4 registry unreachable; 5 internal.\n";

static const char help_pin[] =
	"usage: bosun base pin [OPTIONS] --dockerfile FILE\n\n"
	"Rewrite each 'FROM name:tag' of FILE (all stages) to 'FROM name:tag@sha256:...'\n"
	"with the tag's current digest, in place (atomic write), keeping comments,\n"
	"formatting and ARG references. Stages, scratch and FROMs already pinned are left\n"
	"alone unless --update, which moves existing pins to the current digests.\n"
	"Running it twice changes nothing the second time.\n\n"
	"Options:\n"
	"  --dockerfile FILE          the Dockerfile to rewrite\n"
	"  --update                   move existing pins to the current digests\n"
	"  --build-arg K=V            value of a global ARG used in FROM (repeatable)\n"
	"  --dry-run                  print the result instead of writing it\n"
	"  -v, -q                     more / less output\n" REG_OPTS_HELP "\n" EXIT_CODES_HELP;

static const char help_watch[] =
	"usage: bosun base watch --images FILE [OPTIONS]\n\n"
	"Check the base of every image listed in FILE, concurrently, and write\n"
	"REPORTDIR/junit.xml (one testcase per image; a stale base is a failure naming\n"
	"the base and its new digest), REPORTDIR/watch.json and REPORTDIR/summary.md.\n"
	"FILE is one image reference per line ('#' comments), a JSON array or\n"
	"{\"images\": [...]} of references or {\"image\", \"dockerfile\", \"pipeline\"}\n"
	"objects, the same in YAML (images: / - image: ... / dockerfile: / pipeline:),\n"
	"or the output of 'kubectl get pods -A -o json' (the running digests are checked).\n\n"
	"Options:\n"
	"  --images FILE              the fleet file (required)\n"
	"  --shard I/N                check only shard I of N (for a CI matrix; every image\n"
	"                             falls in exactly one shard, by a hash of its reference)\n"
	"  --jobs N                   images checked at once (default 8)\n"
	"  --report-dir DIR           where the reports go (default bosun-reports)\n"
	"  --format text|json         what goes to stdout (default text; json = watch.json)\n"
	"  --fail-if-stale            exit 1 when any image is stale\n"
	"  --rescan --db FILE         also scan every image with the database and report the\n"
	"                             findings that are new since the last watch\n"
	"  --state FILE               rescan state kept between runs (default\n"
	"                             REPORTDIR/base-watch-state.json; cache it in the pipeline)\n"
	"  --cache-dir DIR            where layers are fetched for --rescan\n"
	"  -v, -q                     more / less output\n" REG_OPTS_HELP "\n"
	"CI outputs: baseImages, baseStaleCount, baseStaleImages, baseStalePipelines\n"
	"(comma-separated), baseErrorCount, baseNewFindings (--rescan).\n\n"
	"Exit codes: 0 when every image was checked (stale or not) unless --fail-if-stale\n"
	"(then 1 for any stale image); 3 for a malformed fleet file (with its line), an\n"
	"image that cannot be read or a base tag that does not exist; 4 when a registry\n"
	"was unreachable. Every other image is still checked and reported.\n";

enum {
	O_FORMAT = 3000,
	O_FAIL_STALE,
	O_DOCKERFILE,
	O_BUILD_ARG,
	O_REPORT_DIR,
	O_SCAN,
	O_DB,
	O_UPDATE,
	O_DRY_RUN,
	O_IMAGES,
	O_SHARD,
	O_JUNIT,
	O_RESCAN,
	O_STATE,
	O_JOBS,
	O_CACHE_DIR,
};

#define MAX_BUILD_ARGS 64

struct base_cli {
	struct reg_cli rc;
	struct oci_platform plat;
	struct reg_opts ro;
	struct base_opts bo;
	const char *format, *dockerfile, *report_dir, *db, *images, *shard, *state, *cache_dir;
	const char *build_args[MAX_BUILD_ARGS + 1];
	int n_build_args, jobs;
	bool fail_if_stale, scan, update, dry_run, rescan;
};

static const struct option base_lo[] = {{"format", required_argument, NULL, O_FORMAT},
					{"fail-if-stale", no_argument, NULL, O_FAIL_STALE},
					{"dockerfile", required_argument, NULL, O_DOCKERFILE},
					{"build-arg", required_argument, NULL, O_BUILD_ARG},
					{"report-dir", required_argument, NULL, O_REPORT_DIR},
					{"scan", no_argument, NULL, O_SCAN},
					{"db", required_argument, NULL, O_DB},
					{"update", no_argument, NULL, O_UPDATE},
					{"dry-run", no_argument, NULL, O_DRY_RUN},
					{"images", required_argument, NULL, O_IMAGES},
					{"shard", required_argument, NULL, O_SHARD},
					{"rescan", no_argument, NULL, O_RESCAN},
					{"state", required_argument, NULL, O_STATE},
					{"jobs", required_argument, NULL, O_JOBS},
					{"cache-dir", required_argument, NULL, O_CACHE_DIR},
					{NULL, 0, NULL, 0}};

struct base_parse {
	struct base_cli *b;
	const int *allowed; /* the option ids this subcommand takes */
	const char *cmd;
	char **argv;
};

static int base_own_opt(void *ctx, int c, const char *arg, struct err *e)
{
	struct base_parse *p = ctx;
	struct base_cli *b = p->b;
	bool ok = false;

	if (c < O_FORMAT)
		return 0;
	for (const int *a = p->allowed; *a; a++)
		ok |= *a == c;
	if (!ok) /* "--opt VALUE": name the option, not its value */
		return cmd_usage_error(
		    e, p->cmd, "option \"%s\" does not apply here",
		    p->argv[optind - (arg && optind >= 2 && arg == p->argv[optind - 1] ? 2 : 1)]);
	switch (c) {
	case O_FORMAT:
		if (strcmp(arg, "text") && strcmp(arg, "json"))
			return cmd_usage_error(e, p->cmd, "--format takes text or json");
		b->format = arg;
		return 1;
	case O_FAIL_STALE:
		b->fail_if_stale = true;
		return 1;
	case O_DOCKERFILE:
		b->dockerfile = arg;
		return 1;
	case O_BUILD_ARG:
		if (!strchr(arg, '=') || b->n_build_args >= MAX_BUILD_ARGS)
			return cmd_usage_error(e, p->cmd, "--build-arg takes K=V (at most %d)",
					       MAX_BUILD_ARGS);
		b->build_args[b->n_build_args++] = arg;
		return 1;
	case O_REPORT_DIR:
		b->report_dir = arg;
		return 1;
	case O_SCAN:
		b->scan = true;
		return 1;
	case O_DB:
		b->db = arg;
		return 1;
	case O_UPDATE:
		b->update = true;
		return 1;
	case O_DRY_RUN:
		b->dry_run = true;
		return 1;
	case O_IMAGES:
		b->images = arg;
		return 1;
	case O_SHARD:
		b->shard = arg;
		return 1;
	case O_RESCAN:
		b->rescan = true;
		return 1;
	case O_STATE:
		b->state = arg;
		return 1;
	case O_CACHE_DIR:
		b->cache_dir = arg;
		return 1;
	case O_JOBS:
		b->jobs = atoi(arg);
		if (b->jobs < 1 || b->jobs > 64)
			return cmd_usage_error(e, p->cmd, "--jobs takes 1..64");
		return 1;
	default:
		return 0;
	}
}

/* Parse the options; returns 1 when --help was printed. allowed: the
 * option ids this subcommand takes. */
static int parse(int argc, char **argv, const char *name, const char *hlp, const int *allowed,
		 struct base_cli *b, struct err *e)
{
	char cmd[32];
	struct base_parse bp = {b, allowed, cmd, argv};
	const struct cli_cmd cc = {cmd, hlp, CLI_REG, NULL, base_lo, base_own_opt, &bp, NULL};
	struct cli cl;
	int r;

	snprintf(cmd, sizeof(cmd), "base %s", name);
	b->format = "text";
	b->report_dir = ".";
	cli_init(&cl);
	if ((r = cli_parse(&cc, argc, argv, &cl, e)) != 0)
		return r;
	b->rc = cl.reg;
	if (b->rc.platform && oci_platform_parse(&b->plat, b->rc.platform, e) < 0)
		return -1;
	b->ro = (struct reg_opts){ b->rc.creds, b->rc.cacert, b->rc.insecure, b->rc.parallel, b->rc.retries, NULL };
	b->bo.ro = &b->ro;
	b->bo.platform = b->rc.platform ? &b->plat : NULL;
	return 0;
}

static int outputs(const struct base_cli *b, const struct base_output *o, size_t n, struct err *e)
{
	struct buf az __attribute__((cleanup(buf_cleanup))) = BUF_INIT;
	_cleanup_free_ char *props = fs_join(b->report_dir, "bosun-base.properties");

	if (!props)
		return err_oom(e);
	if (getenv("JENKINS_URL") && *getenv("JENKINS_URL") && fs_mkdir_p(b->report_dir, 0755, e) < 0)
		return -1;
	if (base_ci_outputs(o, n, props, &az, e) < 0)
		return -1;
	fwrite(az.data, 1, az.len, stdout);
	return 0;
}

static cJSON *result_json(const struct base_result *r)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "image", r->image);
	if (r->image_digest)
		cJSON_AddStringToObject(o, "digest", r->image_digest);
	if (r->platform)
		cJSON_AddStringToObject(o, "platform", r->platform);
	cJSON_AddStringToObject(o, "status", base_state_name(r->state));
	base_result_add_json(o, r);
	return o;
}

static int print_json(cJSON *o, struct err *e)
{
	char *s = cJSON_Print(o);

	cJSON_Delete(o);
	if (!s)
		return err_oom(e);
	printf("%s\n", s);
	free(s);
	return 0;
}

static void print_result(const struct base_result *r)
{
	char age[32];

	printf("%s: %s\n", r->image, base_state_name(r->state));
	if (r->base_name) {
		printf("  base:      %s\n", r->base_name);
		printf("  built on:  %s\n", r->base_digest);
	}
	if (r->state == BASE_STALE) {
		base_age_string(r->age_seconds, age, sizeof(age));
		printf("  current:   %s", r->current_digest);
		if (r->current_platform_digest)
			printf(" (%s: %s)", r->platform ? r->platform : "platform", r->current_platform_digest);
		if (r->age_seconds >= 0)
			printf("\n  new base:  published %s ago (%s)\n", age, r->current_created);
		else
			printf("\n  new base:  age unknown\n");
		printf("  rebuild the image on the new base and redeploy it\n");
	}
	if (r->note)
		printf("  %s\n", r->note);
}

static cJSON *fixes_json(const struct base_scan *fx, size_t n_old, size_t n_new)
{
	cJSON *o = cJSON_CreateObject(), *arr;

	cJSON_AddNumberToObject(o, "count", (double)fx->n);
	cJSON_AddNumberToObject(o, "oldBaseFindings", (double)n_old);
	cJSON_AddNumberToObject(o, "currentBaseFindings", (double)n_new);
	arr = cJSON_AddArrayToObject(o, "findings");
	for (size_t i = 0; i < fx->n; i++)
		cJSON_AddItemToArray(arr, rescan_finding_json(&fx->f[i]));
	return o;
}

static int check_image(struct base_cli *b, const char *image, struct err *e)
{
	struct base_result r;
	struct base_scan fx = { 0 };
	size_t n_old = 0, n_new = 0;
	bool scanned = false;
	char nfix[32] = "0";
	int rc = -1;

	if (b->scan && !b->db)
		return cmd_usage_error(e, "base check", "--scan needs --db FILE");
	if (base_check(image, &b->bo, &r, e) < 0)
		goto out;
	if (b->scan && r.state == BASE_STALE) {
		struct vdb *db = NULL;

		if (vdb_open(&db, b->db, e) < 0)
			goto out;
		rc = base_scan_fixes(db, &r, &b->ro, b->cache_dir, &fx, &n_old, &n_new, e);
		vdb_close(db);
		if (rc < 0)
			goto out;
		rc = -1;
		scanned = true;
		snprintf(nfix, sizeof(nfix), "%zu", fx.n);
	}
	if (strcmp(b->format, "json") == 0) {
		cJSON *o = result_json(&r);

		if (scanned)
			cJSON_AddItemToObject(o, "fixes", fixes_json(&fx, n_old, n_new));
		if (print_json(o, e) < 0)
			goto out;
	} else {
		print_result(&r);
		if (scanned) {
			printf("  the rebuild fixes %zu finding%s (old base: %zu, current base: %zu)\n", fx.n,
			       fx.n == 1 ? "" : "s", n_old, n_new);
			for (size_t i = 0; i < fx.n; i++)
				printf("    %-20s %-9s %s %s -> %s\n", fx.f[i].id, fx.f[i].severity, fx.f[i].pkg,
				       fx.f[i].version, *fx.f[i].fixed ? fx.f[i].fixed : "(removed)");
		}
	}
	{
		struct base_output o[] = {
			{ "baseStatus", base_state_name(r.state) },
			{ "baseStale", r.state == BASE_STALE ? "true" : "false" },
			{ "baseDigest", r.base_digest ? r.base_digest : "" },
			{ "baseCurrentDigest", r.current_digest ? r.current_digest : "" },
			{ "baseFixedFindings", nfix },
		};
		if (outputs(b, o, b->scan ? 5 : 4, e) < 0)
			goto out;
	}
	rc = b->fail_if_stale && r.state == BASE_STALE ? 1 : 0;
out:
	base_scan_free(&fx);
	base_result_free(&r);
	return rc;
}

static const char *from_status(const struct base_from *f)
{
	if (f->skip)
		return "skipped";
	if (f->err.code)
		return "error";
	if (!f->pinned)
		return "unpinned";
	return strcmp(f->pinned, f->current) == 0 ? "up-to-date" : "stale";
}

static int check_dockerfile(struct base_cli *b, struct err *e)
{
	struct base_df df;
	const struct base_from *last = NULL, *bad = NULL;
	bool stale = false, json = strcmp(b->format, "json") == 0;
	cJSON *o = NULL, *arr = NULL;
	int rc = -1;

	b->build_args[b->n_build_args] = NULL;
	if (base_df_load(&df, b->dockerfile, b->build_args, e) < 0)
		return -1;
	if (base_df_resolve(&df, &b->bo, e) < 0)
		goto out;
	if (json) {
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "dockerfile", df.path);
		arr = cJSON_AddArrayToObject(o, "from");
	}
	for (size_t i = 0; i < df.n; i++) {
		const struct base_from *f = &df.from[i];
		const char *st = from_status(f);

		stale |= strcmp(st, "stale") == 0;
		if (f->err.code && !bad)
			bad = f;
		if (!f->skip)
			last = f;
		if (json) {
			cJSON *x = cJSON_CreateObject();

			cJSON_AddNumberToObject(x, "line", f->line);
			cJSON_AddStringToObject(x, "image", f->image);
			if (strcmp(f->image, f->written))
				cJSON_AddStringToObject(x, "written", f->written);
			if (f->stage)
				cJSON_AddStringToObject(x, "stage", f->stage);
			cJSON_AddStringToObject(x, "status", st);
			if (f->pinned)
				cJSON_AddStringToObject(x, "pinned", f->pinned);
			if (f->current)
				cJSON_AddStringToObject(x, "current", f->current);
			if (f->err.code)
				cJSON_AddStringToObject(x, "error", f->err.msg);
			cJSON_AddItemToArray(arr, x);
			continue;
		}
		printf("%s:%d: FROM %s: %s", df.path, f->line, f->image, st);
		if (f->err.code)
			printf(": %s", f->err.msg);
		else if (!strcmp(st, "stale"))
			printf(": pinned %s, current %s", f->pinned, f->current);
		else if (!strcmp(st, "unpinned"))
			printf(": current %s (pin it with 'bosun base pin')", f->current);
		printf("\n");
	}
	if (json) {
		cJSON_AddBoolToObject(o, "stale", stale);
		if (print_json(o, e) < 0)
			goto out;
	}
	{
		struct base_output out[] = {
			{ "baseStatus", bad ? "error" : stale ? "stale" : "up-to-date" },
			{ "baseStale", stale ? "true" : "false" },
			{ "baseDigest", last && last->pinned ? last->pinned : "" },
			{ "baseCurrentDigest", last && last->current ? last->current : "" },
		};
		if (outputs(b, out, ARRAY_SIZE(out), e) < 0)
			goto out;
	}
	if (bad) {
		*e = bad->err;
		err_prefix(e, "%s:%d", df.path, bad->line);
		goto out;
	}
	rc = b->fail_if_stale && stale ? 1 : 0;
out:
	base_df_free(&df);
	return rc;
}

static int sub_pin(int argc, char **argv, struct err *e)
{
	static const int allowed[] = { O_DOCKERFILE, O_BUILD_ARG, O_UPDATE, O_DRY_RUN, 0 };
	struct base_cli b = { 0 };
	struct buf text = BUF_INIT, out = BUF_INIT;
	struct base_df df = { 0 };
	int r = parse(argc, argv, "pin", help_pin, allowed, &b, e), changed = 0;

	if (r != 0) {
		r = r > 0 ? 0 : r;
		goto out;
	}
	r = -1;
	if (!b.dockerfile || argc != optind) {
		cmd_usage_error(e, "base pin", "expected --dockerfile FILE and nothing else");
		goto out;
	}
	b.build_args[b.n_build_args] = NULL;
	if (fs_read_file(b.dockerfile, &text, 4u << 20, e) < 0 ||
	    base_df_load(&df, b.dockerfile, b.build_args, e) < 0 || base_df_resolve(&df, &b.bo, e) < 0)
		goto out;
	for (size_t i = 0; i < df.n; i++)
		if (df.from[i].err.code) {
			*e = df.from[i].err;
			err_prefix(e, "%s:%d", df.path, df.from[i].line);
			goto out;
		}
	if (base_df_pin_text(&df, text.data, text.len, b.update, &out, &changed, e) < 0)
		goto out;
	if (b.dry_run)
		fwrite(out.data, 1, out.len, stdout);
	else if (changed && fs_write_atomic(b.dockerfile, out.data, out.len, 0644, e) < 0)
		goto out;
	for (size_t i = 0; i < df.n; i++)
		if (!df.from[i].skip)
			log_info("%s:%d: %s@%s", df.path, df.from[i].line, df.from[i].image, df.from[i].current);
	log_info("%s: %d FROM line%s %s", b.dockerfile, changed, changed == 1 ? "" : "s",
		 b.dry_run ? "would change" : "changed");
	r = 0;
out:
	buf_free(&text);
	buf_free(&out);
	base_df_free(&df);
	oci_platform_free(&b.plat);
	return r;
}

static int write_report(const char *dir, const char *name, const struct buf *b, struct err *e)
{
	_cleanup_free_ char *p = fs_join(dir, name);

	if (!p)
		return err_oom(e);
	return fs_write_atomic(p, b->data, b->len, 0644, e);
}

/* Comma-separated values of the stale images. */
static int stale_list(const struct watch *w, bool pipelines, struct buf *out, struct err *e)
{
	for (size_t i = 0; i < w->n; i++) {
		const char *v = pipelines ? w->it[i].fi->pipeline : w->it[i].fi->image;

		if (w->it[i].r.state != BASE_STALE || !v)
			continue;
		if ((out->len && buf_adds(out, ",", e) < 0) || buf_adds(out, v, e) < 0)
			return -1;
	}
	return 0;
}

static int sub_watch(int argc, char **argv, struct err *e)
{
	static const int allowed[] = { O_FORMAT, O_FAIL_STALE, O_REPORT_DIR, O_DB, O_IMAGES, O_SHARD,
				       O_RESCAN, O_STATE, O_JOBS, O_CACHE_DIR, 0 };
	struct base_cli b = { 0 };
	struct fleet f = { 0 };
	struct watch w = { 0 };
	struct watch_opts wo = { 0 };
	struct buf junit = BUF_INIT, json = BUF_INIT, md = BUF_INIT, sl = BUF_INIT, sp = BUF_INIT;
	char *state = NULL;
	char n1[32], n2[32], n3[32], n4[32];
	int r = parse(argc, argv, "watch", help_watch, allowed, &b, e);
	const struct err *worst = NULL;

	if (r != 0) {
		r = r > 0 ? 0 : r;
		goto out;
	}
	r = -1;
	if (!b.images || argc != optind) {
		cmd_usage_error(e, "base watch", "expected --images FILE and no other arguments");
		goto out;
	}
	if (strcmp(b.report_dir, ".") == 0)
		b.report_dir = "bosun-reports";
	if (b.rescan != (b.db != NULL)) {
		cmd_usage_error(e, "base watch", "--rescan and --db FILE go together");
		goto out;
	}
	if (b.shard && base_shard_parse(b.shard, &wo.shard_i, &wo.shard_n, e) < 0)
		goto out;
	if (fleet_load(&f, b.images, e) < 0)
		goto out;
	if (fs_mkdir_p(b.report_dir, 0755, e) < 0)
		goto out;
	if (b.rescan && !b.state && !(state = fs_join(b.report_dir, "base-watch-state.json"))) {
		err_oom(e);
		goto out;
	}
	wo.bo = &b.bo;
	wo.jobs = b.jobs;
	wo.db = b.db;
	wo.state = b.state ? b.state : state;
	wo.cache_dir = b.cache_dir;
	if (base_watch_run(&f, &wo, &w, e) < 0)
		goto out;
	w.fleet_path = b.images;
	if (base_watch_junit(&w, &junit, e) < 0 || base_watch_json(&w, &json, e) < 0 ||
	    base_watch_markdown(&w, &md, e) < 0 || write_report(b.report_dir, "junit.xml", &junit, e) < 0 ||
	    write_report(b.report_dir, "watch.json", &json, e) < 0 ||
	    write_report(b.report_dir, "summary.md", &md, e) < 0)
		goto out;
	if (strcmp(b.format, "json") == 0) {
		fwrite(json.data, 1, json.len, stdout);
	} else {
		for (size_t i = 0; i < w.n; i++) {
			const struct watch_item *it = &w.it[i];

			printf("%-10s %s", base_state_name(it->r.state), it->fi->image);
			if (it->r.state == BASE_STALE)
				printf(": base %s now %s", it->r.base_name, it->r.current_digest);
			else if (it->r.state == BASE_ERROR)
				printf(": %s", it->r.err.msg);
			if (it->n_fresh)
				printf(" (%zu new finding%s)", it->n_fresh, it->n_fresh == 1 ? "" : "s");
			printf("\n");
		}
		printf("%zu images (shard %d/%d): %zu stale, %zu up-to-date, %zu unknown, %zu errors\n", w.n,
		       w.shard_i, w.shard_n, w.n_stale, w.n_up, w.n_unknown, w.n_error);
		if (w.db_built)
			printf("rescan: %zu new findings since the last watch\n", w.n_fresh);
	}
	if (stale_list(&w, false, &sl, e) < 0 || stale_list(&w, true, &sp, e) < 0)
		goto out;
	snprintf(n1, sizeof(n1), "%zu", w.n);
	snprintf(n2, sizeof(n2), "%zu", w.n_stale);
	snprintf(n3, sizeof(n3), "%zu", w.n_error);
	snprintf(n4, sizeof(n4), "%zu", w.n_fresh);
	{
		struct base_output o[] = {
			{ "baseImages", n1 }, { "baseStaleCount", n2 }, { "baseStaleImages", sl.data },
			{ "baseStalePipelines", sp.data }, { "baseErrorCount", n3 }, { "baseNewFindings", n4 },
		};
		if (outputs(&b, o, w.db_built ? 6 : 5, e) < 0)
			goto out;
	}
	log_info("reports in %s: junit.xml, watch.json, summary.md", b.report_dir);
	/* Network failures outrank bad input: the step broke, retry it. */
	for (size_t i = 0; i < w.n; i++)
		if (w.it[i].r.state == BASE_ERROR && (!worst || (w.it[i].r.err.code == ERR_NETWORK &&
								  worst->code != ERR_NETWORK)))
			worst = &w.it[i].r.err;
	if (worst) {
		err_set(e, worst->code, "%zu of %zu images could not be checked (first: %s)", w.n_error, w.n,
			worst->msg);
		goto out;
	}
	if (w.n_scan_err) {
		err_set(e, ERR_INPUT, "%zu images could not be rescanned (see the reports)", w.n_scan_err);
		goto out;
	}
	r = b.fail_if_stale && w.n_stale ? 1 : 0;
out:
	free(state);
	base_watch_free(&w);
	fleet_free(&f);
	buf_free(&junit);
	buf_free(&json);
	buf_free(&md);
	buf_free(&sl);
	buf_free(&sp);
	oci_platform_free(&b.plat);
	return r;
}

static int sub_check(int argc, char **argv, struct err *e)
{
	static const int allowed[] = { O_FORMAT, O_FAIL_STALE, O_DOCKERFILE, O_BUILD_ARG, O_REPORT_DIR,
				       O_SCAN, O_DB, O_CACHE_DIR, 0 };
	struct base_cli b = { 0 };
	int r = parse(argc, argv, "check", help_check, allowed, &b, e);

	if (r != 0) {
		r = r > 0 ? 0 : r;
		goto out;
	}
	if (b.dockerfile) {
		r = argc != optind ? cmd_usage_error(e, "base check", "--dockerfile takes no IMAGE")
				   : check_dockerfile(&b, e);
		goto out;
	}
	if (argc - optind != 1) {
		r = cmd_usage_error(e, "base check", "expected one IMAGE (or --dockerfile FILE)");
		goto out;
	}
	r = check_image(&b, argv[optind], e);
out:
	oci_platform_free(&b.plat);
	return r;
}

int cmd_base(int argc, char **argv, struct err *e)
{
	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		cmd_print_help(help);
		return argc < 2 ? err_set(e, ERR_USAGE, "expected a subcommand: check, pin or watch") : 0;
	}
	optind = 0;
	if (!strcmp(argv[1], "check"))
		return sub_check(argc - 1, argv + 1, e);
	if (!strcmp(argv[1], "watch"))
		return sub_watch(argc - 1, argv + 1, e);
	if (!strcmp(argv[1], "pin"))
		return sub_pin(argc - 1, argv + 1, e);
	return cmd_usage_error(e, "base", "unknown subcommand \"%s\" (check, pin, watch)", argv[1]);
}
