#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "cmd/opts.h"
#include "core/fs.h"
#include "core/log.h"
#include "core/util.h"
#include "report/report.h"
#include "scan/db.h"
#include "scan/dbsync.h"
#include "scan/findings.h"
#include "scan/inventory.h"
#include "core/version.h"

static const char help[] =
    "usage: bosun scan [--db FILE] [OPTIONS] TARGET\n\n"
    "Scan an image or root file system for known vulnerabilities.\n\n"
    "Targets:\n"
    "  REGISTRY/REPO[:TAG][@DIGEST]   an image in a registry (layers fetched into the cache dir)\n"
    "  oci:DIR[:TAG]                  an OCI image layout\n"
    "  docker-archive:FILE            a 'docker save' tarball\n"
    "  dir:ROOTFS                     a plain root file system\n\n"
    "Scan and policy options (the same for bosun ship):\n" SCAN_OPTS_HELP "Options:\n"
    "  --base LOCATION            the base image: layers shared with it are marked as from the "
    "base\n"
    "  --format FMT               table (default), json, sarif, cyclonedx, junit, markdown\n"
    "  -o, --output FILE          write the preceding --format to FILE (repeatable as pairs)\n"
    "  --cache-dir DIR            cache root: per-layer inventories and the database (default\n"
    "                             $XDG_CACHE_HOME/bosun, else ~/.cache/bosun)\n"
    "  --no-cache                 read every layer, use and write no inventory cache\n"
    "  --cache-max-size SIZE      cap of the inventory cache, least recently used evicted\n"
    "                             (default 512M; K, M, G)\n" REG_OPTS_HELP "\n"
    "Examples:\n"
    "  bosun scan --db vuln.db --fail-on HIGH oci:./out:1.0\n"
    "  bosun scan --db vuln.db --format junit -o scan.xml --format sarif -o scan.sarif "
    "app:1\n\n" EXIT_CODES_HELP;

#define MAXOUT 16

static int parse_size(const char *s, int64_t *out)
{
	char *end;
	long long v = strtoll(s, &end, 10);
	int shift = 0;

	if (end == s || v <= 0)
		return -1;
	switch (*end) {
	case 0: break;
	case 'K': case 'k': shift = 10; break;
	case 'M': case 'm': shift = 20; break;
	case 'G': case 'g': shift = 30; break;
	default: return -1;
	}
	if (*end && end[1] && strcmp(end + 1, "iB") != 0 && strcmp(end + 1, "B") != 0)
		return -1;
	if (v > (INT64_MAX >> shift))
		return -1;
	*out = (int64_t)v << shift;
	return 0;
}

/* scan's own options: outputs, the inventory cache, --base. */
struct scan_cli {
	int fmts[MAXOUT];
	const char *outs[MAXOUT];
	int nout, pending_fmt;
	const char *cache, *base;
	bool no_cache;
	int64_t cache_max;
};

enum { O_FMT = 3000, O_CACHE, O_NOCACHE, O_BASE, O_CACHEMAX };
static const struct option scan_own[] = {{"format", required_argument, NULL, O_FMT},
					 {"output", required_argument, NULL, 'o'},
					 {"cache-dir", required_argument, NULL, O_CACHE},
					 {"no-cache", no_argument, NULL, O_NOCACHE},
					 {"cache-max-size", required_argument, NULL, O_CACHEMAX},
					 {"base", required_argument, NULL, O_BASE},
					 {NULL, 0, NULL, 0}};

static int scan_own_opt(void *ctx, int c, const char *arg, struct err *e)
{
	struct scan_cli *s = ctx;
	int v;

	switch (c) {
	case O_FMT:
		if ((v = report_fmt_parse(arg)) < 0)
			return cmd_usage_error(e, "scan", "unknown format \"%s\"", arg);
		if (s->nout >= MAXOUT - 1)
			return cmd_usage_error(e, "scan", "too many outputs");
		if (s->pending_fmt >= 0) /* a --format without -o goes to stdout */
			s->fmts[s->nout] = s->pending_fmt, s->outs[s->nout++] = NULL;
		s->pending_fmt = v;
		return 1;
	case 'o':
		if (s->nout >= MAXOUT - 1)
			return cmd_usage_error(e, "scan", "too many outputs");
		s->fmts[s->nout] = s->pending_fmt >= 0 ? s->pending_fmt : RF_TABLE;
		s->outs[s->nout++] = arg;
		s->pending_fmt = -1;
		return 1;
	case O_CACHE:
		s->cache = arg;
		return 1;
	case O_NOCACHE:
		s->no_cache = true;
		return 1;
	case O_CACHEMAX:
		if (parse_size(arg, &s->cache_max) < 0)
			return cmd_usage_error(e, "scan",
					       "bad --cache-max-size \"%s\" (e.g. 512M, 2G)", arg);
		return 1;
	case O_BASE:
		s->base = arg;
		return 1;
	default:
		return 0;
	}
}

/* Each --format/-o pair rendered; the base-image line closes the run on
 * stderr when stdout is a report. */
static int write_reports(const struct scan_cli *s, struct report_in *in, struct err *e)
{
	for (int i = 0; i < s->nout; i++) {
		struct buf b __attribute__((cleanup(buf_cleanup))) = BUF_INIT;

		in->color = !s->outs[i] && isatty(1) && !getenv("NO_COLOR");
		if (report_write((enum report_fmt)s->fmts[i], in, &b, e) < 0)
			return -1;
		if (s->outs[i]) {
			if (fs_write_atomic(s->outs[i], b.data, b.len, 0644, e) < 0)
				return -1;
		} else {
			fwrite(b.data, 1, b.len, stdout);
		}
	}
	if (s->outs[s->nout - 1] || s->fmts[s->nout - 1] != RF_TABLE) {
		struct buf b __attribute__((cleanup(buf_cleanup))) = BUF_INIT;

		if (report_base_line(in, &b, e) == 0)
			fputs(b.data, stderr);
	}
	return 0;
}

int cmd_scan(int argc, char **argv, struct err *e)
{
	struct scan_cli sc = {.pending_fmt = -1};
	const struct cli_cmd cmd = {"scan", help, CLI_REG | CLI_SCAN, "o:", scan_own, scan_own_opt,
				    &sc,    NULL};
	struct cli cl;
	const char *dbpath, *cache;
	int r = -1, failing, pr;
	struct vdb *db = NULL;
	struct inventory inv = { 0 };
	struct scan_result res = { 0 };
	char *cache_def = NULL, *dbv = NULL;
	double t0 = time_now();

	cli_init(&cl);
	if ((pr = cli_parse(&cmd, argc, argv, &cl, e)) != 0)
		return pr > 0 ? 0 : -1;
	if (sc.pending_fmt >= 0)
		sc.fmts[sc.nout] = sc.pending_fmt, sc.outs[sc.nout++] = NULL;
	if (sc.nout == 0)
		sc.fmts[sc.nout] = RF_TABLE, sc.outs[sc.nout++] = NULL;
	if (argc - optind != 1)
		return cmd_usage_error(e, "scan", "expected one TARGET");
	if (!(dbpath = cmd_find_db(cl.scan.db, sc.cache, &dbv, e))) {
		free(dbv);
		return -1;
	}
	cli_policy_finish(&cl);
	cache = sc.cache;
	if (vdb_open(&db, dbpath, e) < 0)
		goto out;
	if (vdb_too_old(db, cl.scan.db_max_age)) {
		err_set(e, ERR_INPUT,
			"database %s is older than --db-max-age (%s); %s or pass "
			"--db-max-age 0",
			dbpath, cl.scan.db_max_age_text,
			dbv ? "run 'bosun db update'" : "rebuild it ('bosun db build')");
		goto out;
	}
	if (!cache && !sc.no_cache) {
		if (!(cache_def = bosun_cache_dir(NULL, e)))
			goto out;
		cache = cache_def;
	}
	{
		struct reg_opts ro = cli_reg_opts(&cl);
		struct inv_opts io = {&ro, cl.reg.platform, sc.no_cache ? NULL : cache, sc.base};

		inventory_set_cache_max(sc.cache_max);
		if (inventory_scan(argv[optind], &io, &inv, e) < 0)
			goto out;
		if (inv.unparsed)
			log_warn("%ld lock file%s did not parse and %s skipped (unparsed_files in the JSON report)",
				 inv.unparsed, inv.unparsed == 1 ? "" : "s", inv.unparsed == 1 ? "was" : "were");
	}
	if (scan_match(db, &inv, &res, e) < 0)
		goto out;
	failing = scan_policy(&res, &cl.scan.pol, e);
	if (failing < 0)
		goto out;
	if (res.warnings)
		fprintf(stderr, "%s", res.warnings);
	free(dbv);
	dbv = vdb_meta(db, "built");
	{
		struct report_in in = {&inv,	      &res,  cl.scan.pol.fail_on, dbv,
				       bosun_version, false, time_now() - t0};

		if (write_reports(&sc, &in, e) < 0)
			goto out;
	}
	r = failing > 0 ? 1 : 0;
	if (r)
		log_error("scan: %d finding%s at or above %s", failing, failing == 1 ? "" : "s",
			  severity_name((enum severity)cl.scan.pol.fail_on));
out:
	free(dbv);
	free(cache_def);
	scan_result_free(&res);
	inventory_free(&inv);
	vdb_close(db);
	return r;
}
