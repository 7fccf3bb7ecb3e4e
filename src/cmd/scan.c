#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "core/fs.h"
#include "core/log.h"
#include "core/util.h"
#include "report/report.h"
#include "scan/db.h"
#include "scan/dbsync.h"
#include "scan/findings.h"
#include "scan/inventory.h"

static const char help[] =
	"usage: bosun scan [--db FILE] [OPTIONS] TARGET\n\n"
	"Scan an image or root file system for known vulnerabilities.\n\n"
	"Targets:\n"
	"  REGISTRY/REPO[:TAG][@DIGEST]   an image in a registry (layers fetched into the cache dir)\n"
	"  oci:DIR[:TAG]                  an OCI image layout\n"
	"  docker-archive:FILE            a 'docker save' tarball\n"
	"  dir:ROOTFS                     a plain root file system\n\n"
	"Options:\n"
	"  --db FILE               the vulnerability database (default: the one 'bosun db update'\n"
	"                          keeps in CACHE/db/vuln.db)\n"
	"  --db-max-age DURATION   refuse a database older than this (default 7d; 0 disables; s/m/h/d)\n"
	"  --skip-db-update        never touch the network for the database (scan never downloads it:\n"
	"                          run 'bosun db update' before; accepted for CI scripts)\n"
	"  --severity LIST         report only these severities (e.g. HIGH,CRITICAL)\n"
	"  --fail-on SEVERITY      exit 1 when a reported finding is at or above SEVERITY\n"
	"  --unknown-as SEVERITY   treat findings without a rating as SEVERITY for --fail-on\n"
	"  --cvss-prefer v4|v3     which CVSS version rates a record that has both (default v4)\n"
	"  --ignore-unfixed        do not report findings without a fixed version\n"
	"  --ignore-file FILE      ids to ignore, one a line, optional exp:YYYY-MM-DD (default .bosunignore)\n"
	"  --vex FILE              OpenVEX document: not_affected / fixed statements suppress (repeatable)\n"
	"  --base LOCATION         the base image: layers shared with it are marked as from the base\n"
	"  --format FMT            table (default), json, sarif, cyclonedx, junit, markdown\n"
	"  -o, --output FILE       write the preceding --format to FILE (repeatable as pairs)\n"
	"  --cache-dir DIR         cache root: per-layer inventories and the database (default\n"
	"                          $XDG_CACHE_HOME/bosun, else ~/.cache/bosun)\n"
	"  --no-cache              read every layer, use and write no inventory cache\n"
	"  --cache-max-size SIZE   cap of the inventory cache, least recently used evicted\n"
	"                          (default 512M; K, M, G)\n" REG_OPTS_HELP "\n"
	"Examples:\n"
	"  bosun scan --db vuln.db --fail-on HIGH oci:./out:1.0\n"
	"  bosun scan --db vuln.db --format junit -o scan.xml --format sarif -o scan.sarif app:1\n\n" EXIT_CODES_HELP;

#define MAXOUT 16

static int parse_sevlist(const char *s, unsigned *mask, struct err *e)
{
	char tmp[256], *save = NULL;

	snprintf(tmp, sizeof(tmp), "%s", s);
	*mask = 0;
	for (char *t = strtok_r(tmp, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		int v = severity_parse(t);

		if (v < 0)
			return cmd_usage_error(e, "scan", "bad severity \"%s\"", t);
		*mask |= 1u << v;
	}
	return 0;
}

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

int cmd_scan(int argc, char **argv, struct err *e)
{
	enum { O_DB = 3000, O_SEV, O_FAILON, O_UNK, O_UNFIXED, O_IGN, O_VEX, O_FMT, O_AGE, O_SKIP, O_CACHE, O_NOCACHE, O_BASE, O_CACHEMAX };
	enum { O_CVSS = 3900 }; /* --cvss-prefer */
	static const struct option lo[] = { COMMON_LONGOPTS, REG_LONGOPTS,
					    { "db", required_argument, NULL, O_DB },
					    { "severity", required_argument, NULL, O_SEV },
					    { "fail-on", required_argument, NULL, O_FAILON },
					    { "unknown-as", required_argument, NULL, O_UNK },
					    { "ignore-unfixed", no_argument, NULL, O_UNFIXED },
					    { "ignore-file", required_argument, NULL, O_IGN },
					    { "vex", required_argument, NULL, O_VEX },
					    { "format", required_argument, NULL, O_FMT },
					    { "output", required_argument, NULL, 'o' },
					    { "db-max-age", required_argument, NULL, O_AGE },
					    { "skip-db-update", no_argument, NULL, O_SKIP },
					    { "cache-dir", required_argument, NULL, O_CACHE },
					    { "no-cache", no_argument, NULL, O_NOCACHE },
					    { "cache-max-size", required_argument, NULL, O_CACHEMAX },
					    { "base", required_argument, NULL, O_BASE },
					    { "cvss-prefer", required_argument, NULL, O_CVSS },
					    { NULL, 0, NULL, 0 } };
	struct reg_cli rc = { 0 };
	struct policy pol = { 0, -1, false, SEV_UNKNOWN, NULL, NULL, 0, 0, CVSS_PREFER_V4 };
	const char *vex[MAXOUT], *dbpath = NULL, *cache = NULL, *base = NULL;
	int fmts[MAXOUT];
	const char *outs[MAXOUT];
	int nout = 0, pending_fmt = -1, c, r = -1, failing;
	long long max_age = 7 * 86400;
	int64_t cache_max = 0;
	bool no_cache = false, cached_db = false;
	char age_text[32] = "7d";
	struct vdb *db = NULL;
	struct inventory inv = { 0 };
	struct scan_result res = { 0 };
	char *cache_def = NULL, *dbv = NULL;
	double t0 = time_now();
	size_t n_vex = 0;

	while ((c = getopt_long(argc, argv, COMMON_SHORTOPTS "o:", lo, NULL)) != -1) {
		int v;

		if (cmd_common_opt(c))
			continue;
		switch (c) {
		case 'h': cmd_print_help(help); return 0;
		case O_DB: dbpath = optarg; break;
		case O_SEV:
			if (parse_sevlist(optarg, &pol.severities, e) < 0)
				return -1;
			break;
		case O_FAILON:
		case O_UNK:
			if ((v = severity_parse(optarg)) < 0)
				return cmd_usage_error(e, "scan", "bad severity \"%s\"", optarg);
			*(c == O_FAILON ? &pol.fail_on : &pol.unknown_as) = v;
			break;
		case O_UNFIXED: pol.ignore_unfixed = true; break;
		case O_IGN: pol.ignore_file = optarg; break;
		case O_VEX:
			if (n_vex >= MAXOUT)
				return cmd_usage_error(e, "scan", "too many --vex");
			vex[n_vex++] = optarg;
			break;
		case O_FMT:
			if ((v = report_fmt_parse(optarg)) < 0)
				return cmd_usage_error(e, "scan", "unknown format \"%s\"", optarg);
			if (pending_fmt >= 0) /* a --format without -o goes to stdout */
				fmts[nout] = pending_fmt, outs[nout++] = NULL;
			pending_fmt = v;
			if (nout >= MAXOUT - 1)
				return cmd_usage_error(e, "scan", "too many outputs");
			break;
		case 'o':
			if (nout >= MAXOUT - 1)
				return cmd_usage_error(e, "scan", "too many outputs");
			fmts[nout] = pending_fmt >= 0 ? pending_fmt : RF_TABLE;
			outs[nout++] = optarg;
			pending_fmt = -1;
			break;
		case O_AGE:
			snprintf(age_text, sizeof(age_text), "%s", optarg);
			if (cmd_parse_age(optarg, &max_age) < 0)
				return cmd_usage_error(e, "scan", "bad --db-max-age \"%s\" (e.g. 7d, 12h, 0)", optarg);
			break;
		case O_SKIP: break;
		case O_CACHE: cache = optarg; break;
		case O_NOCACHE: no_cache = true; break;
		case O_CACHEMAX:
			if (parse_size(optarg, &cache_max) < 0)
				return cmd_usage_error(e, "scan", "bad --cache-max-size \"%s\" (e.g. 512M, 2G)", optarg);
			break;
		case O_BASE: base = optarg; break;
		case O_CVSS:
			if (strcmp(optarg, "v4") != 0 && strcmp(optarg, "v3") != 0)
				return cmd_usage_error(e, "scan", "bad --cvss-prefer \"%s\" (v4 or v3)", optarg);
			pol.cvss_prefer = optarg[1] == '3' ? CVSS_PREFER_V3 : CVSS_PREFER_V4;
			break;
		default:
			v = cmd_reg_opt(&rc, c, optarg, "scan", e);
			if (v < 0)
				return -1;
			if (v == 0)
				return cmd_usage_error(e, "scan", "bad option \"%s\": unknown, or its value is missing", argv[optind - 1]);
		}
	}
	if (pending_fmt >= 0)
		fmts[nout] = pending_fmt, outs[nout++] = NULL;
	if (argc - optind != 1)
		return cmd_usage_error(e, "scan", "expected one TARGET");
	if (!dbpath) {
		/* the database `bosun db update` / `db pull` keep in the cache; scan itself never downloads */
		char *root = bosun_cache_dir(cache, e);

		dbv = root ? vdb_cached_path(root, e) : NULL;
		free(root);
		if (!dbv)
			return -1;
		if (!fs_exists(dbv)) {
			err_set(e, ERR_INPUT, "no vulnerability database at %s: run 'bosun db update' (or give --db FILE)", dbv);
			free(dbv);
			return -1;
		}
		dbpath = dbv;
		cached_db = true;
	}
	if (!pol.ignore_file && fs_exists(".bosunignore"))
		pol.ignore_file = ".bosunignore";
	pol.vex = vex, pol.n_vex = n_vex;
	pol.today = (long long)(time(NULL) / 86400);
	if (vdb_open(&db, dbpath, e) < 0)
		goto out;
	if (max_age > 0) {
		int64_t built = vdb_built_time(db);

		if (built < 0 || (long long)time(NULL) - built > max_age) {
			err_set(e, ERR_INPUT, "database %s is older than --db-max-age (%s); %s or pass --db-max-age 0", dbpath,
				age_text, cached_db ? "run 'bosun db update'" : "rebuild it ('bosun db build')");
			goto out;
		}
	}
	if (!cache && !no_cache) {
		if (!(cache_def = bosun_cache_dir(NULL, e)))
			goto out;
		cache = cache_def;
	}
	{
		struct reg_opts ro = { rc.creds, rc.cacert, rc.insecure, rc.parallel, rc.retries, NULL };
		struct inv_opts io = { &ro, rc.platform, no_cache ? NULL : cache, base };

		inventory_set_cache_max(cache_max);

		if (inventory_scan(argv[optind], &io, &inv, e) < 0)
			goto out;
	}
	if (scan_match(db, &inv, &res, e) < 0)
		goto out;
	failing = scan_policy(&res, &pol, e);
	if (failing < 0)
		goto out;
	if (res.warnings)
		fprintf(stderr, "%s", res.warnings);
	free(dbv);
	dbv = vdb_meta(db, "built");
	{
		struct report_in in = { &inv, &res, pol.fail_on, dbv, BOSUN_VERSION,
					isatty(1) && !getenv("NO_COLOR"), time_now() - t0 };

		if (nout == 0)
			fmts[nout] = RF_TABLE, outs[nout++] = NULL;
		for (int i = 0; i < nout; i++) {
			struct buf b = BUF_INIT;

			in.color = !outs[i] && isatty(1) && !getenv("NO_COLOR");
			if (report_write((enum report_fmt)fmts[i], &in, &b, e) < 0) {
				buf_free(&b);
				goto out;
			}
			if (outs[i]) {
				if (fs_write_atomic(outs[i], b.data, b.len, 0644, e) < 0) {
					buf_free(&b);
					goto out;
				}
			} else {
				fwrite(b.data, 1, b.len, stdout);
			}
			buf_free(&b);
		}
		/* the base-image line always closes the run on stderr when stdout is a report */
		if (outs[nout - 1] || fmts[nout - 1] != RF_TABLE) {
			struct buf b = BUF_INIT;

			if (report_base_line(&in, &b, e) == 0)
				fputs(b.data, stderr);
			buf_free(&b);
		}
	}
	r = failing > 0 ? 1 : 0;
	if (r)
		log_error("scan: %d finding%s at or above %s", failing, failing == 1 ? "" : "s",
			  severity_name((enum severity)pol.fail_on));
out:
	free(dbv);
	free(cache_def);
	scan_result_free(&res);
	inventory_free(&inv);
	vdb_close(db);
	return r;
}
