#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd/cmd.h"
#include "cmd/opts.h"
#include "core/log.h"
#include "core/util.h"
#include "image/image.h"
#include "patch/patch.h"
#include "scan/db.h"
#include "scan/dbsync.h"
#include "scan/findings.h"
#include "scan/inventory.h"

static const char help[] =
    "usage: bosun patch [--db FILE | --report results.json | --all | --only PKG,...] -t DEST... SRC\n\n"
    "Upgrade the OS packages of an image that a distribution update fixes, without a rebuild:\n"
    "the image's layers stay byte-identical and one patch layer is added (patching a patched\n"
    "image replaces its patch layer). Debian and Ubuntu: apt-get runs in bosun's sandbox on the\n"
    "image's own root with the distribution's security suite added for the run; images with\n"
    "dpkg data but no package manager (distroless) are patched from a tooling root. The\n"
    "manifest digest of the result is printed on stdout.\n\n"
    "What to upgrade (one of):\n"
    "  --db FILE                  scan SRC with this database (default: the cached one) and\n"
    "                             upgrade the OS packages with a finding that has a fixed version\n"
    "  --report FILE              take the findings of an earlier 'bosun scan --format json'\n"
    "  --all                      every package the distribution has a newer version of\n"
    "  --only PKG[,PKG...]        these packages (repeatable)\n"
    "Options:\n"
    "  -t, --tag DEST             where the patched image goes (a registry reference, oci:DIR:TAG\n"
    "                             or docker-archive:FILE; repeatable)\n"
    "  --output DEST              the same, for a local copy (repeatable)\n"
    "  --package-mirror [security=|main=]URL\n"
    "                             the archive to take fixes from instead of the distribution's\n"
    "                             security archive (security=, the default) or instead of the\n"
    "                             image's own sources (main=); repeatable\n"
    "  --tool-image REF           distroless images: the root that downloads the packages\n"
    "                             (default docker.io/library/debian:VERSION-slim or\n"
    "                             docker.io/library/ubuntu:VERSION, the image's release)\n"
    "  --digest-file FILE         write the manifest digest to FILE\n"
    "  --cache-dir DIR            cache root (database, inventories)\n"
    "  -v, -q                     more / less output\n"
    "Scan options (with --db):\n" SCAN_OPTS_HELP REG_OPTS_HELP "\n"
    "The package manager sees the caller's http_proxy, https_proxy and no_proxy.\n"
    "SOURCE_DATE_EPOCH, when set, fixes the patch time and clamps file times: the same\n"
    "image and packages give the same digest.\n\n"
    "Examples:\n"
    "  bosun patch --db vuln.db -t registry.example.com/team/app:1.0-patched registry.example.com/team/app:1.0\n"
    "  bosun scan --db vuln.db --format json -o scan.json app:1.0 && bosun patch --report scan.json -t app:1.0-p app:1.0\n\n"
    "Exit codes:\n"
    "  0  patched, or nothing to patch (DEST gets the image unchanged)\n"
    "  2  usage error\n"
    "  3  bad input (unsupported distribution, no OS packages, a damaged package database,\n"
    "     the package manager failed)\n"
    "  4  registry or package archive unreachable after retries (nothing is pushed)\n"
    "  5  internal error (the sandbox could not be set up)\n";

#define MAXV 64

struct patch_cli {
	const char *dest[MAXV], *mirrors[MAXV], *only[MAXV];
	size_t n_dest, n_mirrors, n_only;
	const char *report, *tool, *digest_file, *cache;
	bool all;
};

enum { O_REPORT = 3000, O_ALL, O_ONLY, O_MIRROR, O_TOOL, O_OUTPUT, O_DIGEST, O_CACHE };
static const struct option patch_own[] = { { "tag", required_argument, NULL, 't' },
					    { "output", required_argument, NULL, O_OUTPUT },
					    { "report", required_argument, NULL, O_REPORT },
					    { "all", no_argument, NULL, O_ALL },
					    { "only", required_argument, NULL, O_ONLY },
					    { "package-mirror", required_argument, NULL, O_MIRROR },
					    { "tool-image", required_argument, NULL, O_TOOL },
					    { "digest-file", required_argument, NULL, O_DIGEST },
					    { "cache-dir", required_argument, NULL, O_CACHE },
					    { NULL, 0, NULL, 0 } };

static int push_v(const char **v, size_t *n, const char *arg, const char *what, struct err *e)
{
	if (*n >= MAXV)
		return cmd_usage_error(e, "patch", "too many %s", what);
	v[(*n)++] = arg;
	return 1;
}

static int patch_own_opt(void *ctx, int c, const char *arg, struct err *e)
{
	struct patch_cli *pc = ctx;

	switch (c) {
	case 't':
	case O_OUTPUT: return push_v(pc->dest, &pc->n_dest, arg, "destinations", e);
	case O_MIRROR: return push_v(pc->mirrors, &pc->n_mirrors, arg, "--package-mirror", e);
	case O_ONLY: return push_v(pc->only, &pc->n_only, arg, "--only", e);
	case O_REPORT: pc->report = arg; return 1;
	case O_ALL: pc->all = true; return 1;
	case O_TOOL: pc->tool = arg; return 1;
	case O_DIGEST: pc->digest_file = arg; return 1;
	case O_CACHE: pc->cache = arg; return 1;
	default: return 0;
	}
}

/* --only A,B --only C */
static int wants_only(const struct patch_cli *pc, struct patch_wants *w, struct err *e)
{
	for (size_t i = 0; i < pc->n_only; i++) {
		char *s = xstrdup_e(pc->only[i], e), *save = NULL;
		if (!s)
			return -1;
		for (char *t = strtok_r(s, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
			if (!patch_valid_name(t)) {
				err_set(e, ERR_USAGE, "--only %s: \"%s\" is not a package name", pc->only[i], t);
				free(s);
				return -1;
			}
			if (patch_wants_add(w, t, "", e) < 0) {
				free(s);
				return -1;
			}
		}
		free(s);
	}
	return 0;
}

/* Scan the staged image with the database; the wants are its fixable OS
 * findings. */
static int wants_scan(struct cli *cl, const struct patch_cli *pc, struct patch_image *p, struct patch_wants *w,
		      struct err *e)
{
	char *dbv = NULL, *cache = NULL;
	const char *dbpath = cmd_find_db(cl->scan.db, pc->cache, &dbv, e);
	struct vdb *db = NULL;
	struct inventory inv = { 0 };
	struct scan_result res = { 0 };
	int ret = -1;

	if (!dbpath)
		goto out;
	if (vdb_open(&db, dbpath, e) < 0)
		goto out;
	if (vdb_too_old(db, cl->scan.db_max_age)) {
		err_set(e, ERR_INPUT, "database %s is older than --db-max-age (%s)", dbpath, cl->scan.db_max_age_text);
		goto out;
	}
	if (!(cache = bosun_cache_dir(pc->cache, e)))
		goto out;
	struct reg_opts ro = cli_reg_opts(cl);
	struct inv_opts io = { &ro, NULL, cache, NULL };
	log_info("patch: scanning with %s", dbpath);
	if (inventory_scan(patch_staged_spec(p), &io, &inv, e) < 0 || scan_match(db, &inv, &res, e) < 0 ||
	    scan_policy(&res, &cl->scan.pol, e) < 0)
		goto out;
	ret = patch_wants_from_scan(w, &res, e);
	if (ret == 0)
		log_info("patch: %zu finding%s, %zu OS package%s with a fix", res.n, res.n == 1 ? "" : "s", w->n,
			 w->n == 1 ? "" : "s");
out:
	scan_result_free(&res);
	inventory_free(&inv);
	vdb_close(db);
	free(dbv);
	free(cache);
	return ret;
}

static int put_outputs(const struct patch_cli *pc, const struct patch_result *r, const struct reg_opts *ro,
		       struct err *e)
{
	struct location src;

	if (location_parse(&src, r->spec, e) < 0)
		return -1;
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < pc->n_dest; i++)
		if ((rc = image_copy_to(&src, pc->dest[i], ro, NULL, true, e)) < 0)
			err_prefix(e, "output %s", pc->dest[i]);
	location_free(&src);
	return rc;
}

static int check_args(const struct patch_cli *pc, const struct cli *cl, struct err *e)
{
	int modes = (pc->report != NULL) + pc->all + (pc->n_only > 0) + (cl->scan.db != NULL);
	if (modes > 1)
		return cmd_usage_error(e, "patch", "give one of --db, --report, --all and --only");
	if (pc->n_dest == 0)
		return cmd_usage_error(e, "patch", "give at least one -t DEST or --output DEST");
	for (size_t i = 0; i < pc->n_mirrors; i++)
		if (!patch_mirror_valid(pc->mirrors[i]))
			return cmd_usage_error(e, "patch", "--package-mirror %s: expected [security=|main=]http(s)://URL",
					       pc->mirrors[i]);
	for (size_t i = 0; i < pc->n_dest; i++) {
		struct location l;
		if (location_parse(&l, pc->dest[i], e) < 0)
			return -1;
		bool bad = l.kind == LOC_DIR;
		location_free(&l);
		if (bad)
			return cmd_usage_error(e, "patch", "%s: expected a registry reference, oci:DIR[:TAG] or "
							   "docker-archive:FILE", pc->dest[i]);
	}
	return 0;
}

int cmd_patch(int argc, char **argv, struct err *e)
{
	struct patch_cli pc = { 0 };
	const struct cli_cmd cmd = { "patch", help, CLI_REG | CLI_SCAN, "t:", patch_own, patch_own_opt, &pc, NULL };
	struct cli cl;
	struct patch_image *p = NULL;
	struct patch_wants w = { 0 };
	struct patch_result r = { 0 };
	int rc;

	cli_init(&cl);
	if ((rc = cli_parse(&cmd, argc, argv, &cl, e)) != 0)
		return rc > 0 ? 0 : -1;
	if (argc - optind != 1)
		return cmd_usage_error(e, "patch", "expected one SRC image");
	if (check_args(&pc, &cl, e) < 0 || cli_source_date(&cl, e) < 0)
		return -1;
	cli_policy_finish(&cl);
	struct patch_opts o = { .reg = cli_reg_opts(&cl),
				.platform = cl.reg.platform,
				.all = pc.all,
				.mirrors = pc.mirrors,
				.n_mirrors = pc.n_mirrors,
				.tool_image = pc.tool,
				.created = cl.build.o.source_date_epoch,
				.comp = LAYER_GZIP };
	rc = -1;
	if (wants_only(&pc, &w, e) < 0 || patch_open(&p, argv[optind], &o, e) < 0)
		goto out;
	if (!pc.n_only && (pc.report ? patch_wants_from_report(&w, pc.report, p, e) < 0
				     : !pc.all && wants_scan(&cl, &pc, p, &w, e) < 0))
		goto out;
	if (patch_apply(p, &w, &r, e) < 0) {
		err_prefix(e, "patch %s", argv[optind]);
		goto out;
	}
	for (size_t i = 0; i < r.n_unfixed; i++)
		log_warn("patch: not fixed: %s (no such version in the archives)", r.unfixed[i]);
	if (r.changed) {
		char *t = patch_pkgs_text(r.pkgs, r.n_pkgs, e);
		log_info("patch: %zu package%s upgraded in %.1f s%s: %s", r.n_pkgs, r.n_pkgs == 1 ? "" : "s",
			 r.seconds, r.replaced ? " (the previous patch layer replaced)" : "", t ? t : "");
		free(t);
	}
	struct reg_opts ro = cli_reg_opts(&cl);
	if (put_outputs(&pc, &r, &ro, e) < 0)
		goto out;
	rc = cmd_put_digest(r.digest, pc.digest_file, e);
out:
	patch_result_free(&r);
	patch_wants_free(&w);
	patch_close(p);
	return rc;
}
