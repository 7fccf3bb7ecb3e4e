#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "core/util.h"
#include "scan/db.h"
#include "scan/dbsync.h"

static const char help[] =
	"usage: bosun db build --osv ZIP|DIR... [--alpine-secdb FILE...] [--nvd FILE...] -o FILE\n"
	"       bosun db update [--ecosystem LIST] [--osv-url URL] [--db-repository REF] [--cache-dir DIR]\n"
	"       bosun db push [--db FILE] REF\n"
	"       bosun db pull [-o FILE] REF\n"
	"       bosun db info [FILE]\n\n"
	"Compile vulnerability data into one SQLite database, keep it up to date, move it\n"
	"through registries as an OCI artifact, or show its metadata.\n\n"
	"build options:\n"
	"  --osv ZIP|DIR        an OSV all.zip dump or a directory of OSV JSON records (repeatable)\n"
	"  --alpine-secdb FILE  an Alpine secdb JSON file (repeatable)\n"
	"  --nvd FILE           an NVD CVE JSON 2.0 feed: severities for records that have none (repeatable)\n"
	"  -o, --output FILE    the database to write (atomically)\n\n"
	"Withdrawn records are dropped; malformed or oversized records are skipped and counted.\n\n"
	"update options (the database goes to CACHE/db/vuln.db, CACHE = $XDG_CACHE_HOME/bosun):\n"
	"  --ecosystem LIST     OSV ecosystems to download (comma-separated, repeatable;\n"
	"                       default " VDB_DEFAULT_ECOSYSTEMS ")\n"
	"  --osv-url URL        base URL of the OSV dumps (URL/ECOSYSTEM/all.zip; env BOSUN_OSV_URL;\n"
	"                       default " VDB_DEFAULT_OSV_URL ")\n"
	"  --nvd FILE           enrich with a local NVD CVE JSON 2.0 feed (repeatable)\n"
	"  --db-repository REF  pull a ready database artifact instead of downloading feeds\n"
	"  --force              rebuild even when no feed changed\n"
	"  --cache-dir DIR      the cache root (default $XDG_CACHE_HOME/bosun or ~/.cache/bosun)\n"
	"  --cacert FILE, --insecure-registry HOST, --creds USER:PASS, --retries N: as for registries\n"
	"Feeds are fetched with If-None-Match / If-Modified-Since: an unchanged feed is not\n"
	"downloaded again, and the database is rebuilt only when a feed changed.\n\n"
	"push / pull options:\n"
	"  --db FILE            the database to push (default the cached one)\n"
	"  -o, --output FILE    where pull writes the database (default the cached one)\n"
	"The artifact: an OCI manifest with artifactType " VDB_MT_ARTIFACT ",\n"
	"config " VDB_MT_CONFIG " (the metadata) and one layer\n"
	VDB_MT_LAYER " (the SQLite file).\n\n"
	"Examples:\n"
	"  bosun db build --osv Go-all.zip --osv Debian-all.zip -o vuln.db\n"
	"  bosun db update --ecosystem Debian,Go\n"
	"  bosun db push --db vuln.db registry.example/sec/bosun-db:1\n"
	"  bosun db update --db-repository registry.example/sec/bosun-db:1\n"
	"  bosun db info vuln.db\n\n" EXIT_CODES_HELP;

#define MAXIN 64

static int db_build(int argc, char **argv, struct err *e)
{
	enum { O_OSV = 3000, O_SECDB, O_NVD };
	static const struct option lo[] = { COMMON_LONGOPTS,
					    { "osv", required_argument, NULL, O_OSV },
					    { "alpine-secdb", required_argument, NULL, O_SECDB },
					    { "nvd", required_argument, NULL, O_NVD },
					    { "output", required_argument, NULL, 'o' },
					    { NULL, 0, NULL, 0 } };
	const char *osv[MAXIN], *secdb[MAXIN], *nvd[MAXIN], *out = NULL;
	struct vdb_build_opts o = { osv, 0, secdb, 0, nvd, 0 };
	struct vdb_stats st;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, COMMON_SHORTOPTS "o:", lo, NULL)) != -1) {
		if (cmd_common_opt(c))
			continue;
		switch (c) {
		case 'h': cmd_print_help(help); return 0;
		case 'o': out = optarg; break;
		case O_OSV:
		case O_SECDB:
		case O_NVD: {
			size_t *n = c == O_OSV ? &o.n_osv : c == O_SECDB ? &o.n_secdb : &o.n_nvd;
			const char **a = c == O_OSV ? osv : c == O_SECDB ? secdb : nvd;

			if (*n >= MAXIN)
				return cmd_usage_error(e, "db build", "at most %d inputs of a kind", MAXIN);
			a[(*n)++] = optarg;
			break;
		}
		default: return cmd_usage_error(e, "db build", "bad option \"%s\": unknown, or its value is missing", argv[optind - 1]);
		}
	}
	if (!out || optind != argc)
		return cmd_usage_error(e, "db build", "expected -o FILE and no other arguments");
	if (!o.n_osv && !o.n_secdb)
		return cmd_usage_error(e, "db build", "nothing to build from (--osv or --alpine-secdb)");
	if (vdb_build(out, &o, &st, e) < 0)
		return -1;
	printf("%s: %ld records (%ld withdrawn dropped, %ld rejected), %ld affected packages, %ld secdb fixes, "
	       "%ld NVD CVEs, %ld enriched\n",
	       out, st.records, st.withdrawn, st.rejected, st.affected, st.secdb, st.nvd, st.enriched);
	return 0;
}

static int db_info(int argc, char **argv, struct err *e)
{
	struct vdb *db;
	char *v;
	static const char *const keys[] = { "schema_version", "built", "sources", "counts" };

	char *cache = NULL, *path = NULL;
	int rc;

	if (argc > 2)
		return cmd_usage_error(e, "db info", "expected at most one FILE");
	if (argc == 1 && (!(cache = bosun_cache_dir(NULL, e)) || !(path = vdb_cached_path(cache, e)))) {
		free(cache);
		return -1;
	}
	rc = vdb_open(&db, argc == 2 ? argv[1] : path, e);
	free(cache), free(path);
	if (rc < 0)
		return -1;
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		v = vdb_meta(db, keys[i]);
		printf("%s: %s\n", keys[i], v ? v : "");
		free(v);
	}
	v = vdb_ecosystems(db);
	printf("ecosystems: %s\n", v ? v : "[]");
	free(v);
	vdb_close(db);
	return 0;
}

#define MAXECO 32

static int add_list(const char **a, size_t *n, char *s, struct err *e)
{
	char *save = NULL;

	for (char *t = strtok_r(s, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		if (*n >= MAXECO)
			return cmd_usage_error(e, "db update", "at most %d ecosystems", MAXECO);
		a[(*n)++] = t;
	}
	return 0;
}

static int db_update(int argc, char **argv, struct err *e)
{
	enum { O_ECO = 3000, O_URL, O_REPO, O_CACHE, O_FORCE, O_NVD };
	static const struct option lo[] = { COMMON_LONGOPTS, REG_LONGOPTS,
					    { "ecosystem", required_argument, NULL, O_ECO },
					    { "osv-url", required_argument, NULL, O_URL },
					    { "db-repository", required_argument, NULL, O_REPO },
					    { "cache-dir", required_argument, NULL, O_CACHE },
					    { "force", no_argument, NULL, O_FORCE },
					    { "nvd", required_argument, NULL, O_NVD },
					    { NULL, 0, NULL, 0 } };
	const char *eco[MAXECO], *nvd[MAXIN], *repo = NULL, *cache_opt = NULL;
	char *defeco = NULL, *ecobufs[MAXECO], *cache = NULL;
	size_t n_eco = 0, n_nvd = 0, n_bufs = 0;
	struct reg_cli rc = { 0 };
	struct vdb_update_opts uo = { 0 };
	struct vdb_update_result ur = { 0 };
	int c, r = -1;

	optind = 1;
	uo.base_url = getenv("BOSUN_OSV_URL");
	while ((c = getopt_long(argc, argv, COMMON_SHORTOPTS, lo, NULL)) != -1) {
		int v;

		if (cmd_common_opt(c))
			continue;
		switch (c) {
		case 'h': cmd_print_help(help); r = 0; goto out;
		case O_ECO:
			if (n_bufs >= MAXECO || !(ecobufs[n_bufs] = xstrdup_e(optarg, e)))
				goto out;
			if (add_list(eco, &n_eco, ecobufs[n_bufs++], e) < 0)
				goto out;
			break;
		case O_URL: uo.base_url = optarg; break;
		case O_REPO: repo = optarg; break;
		case O_CACHE: cache_opt = optarg; break;
		case O_FORCE: uo.force = true; break;
		case O_NVD:
			if (n_nvd >= MAXIN) {
				cmd_usage_error(e, "db update", "too many --nvd");
				goto out;
			}
			nvd[n_nvd++] = optarg;
			break;
		default:
			v = cmd_reg_opt(&rc, c, optarg, "db update", e);
			if (v < 0)
				goto out;
			if (v == 0) {
				cmd_usage_error(e, "db update", "bad option \"%s\": unknown, or its value is missing", argv[optind - 1]);
				goto out;
			}
		}
	}
	if (optind != argc) {
		cmd_usage_error(e, "db update", "unexpected argument \"%s\"", argv[optind]);
		goto out;
	}
	if (!(cache = bosun_cache_dir(cache_opt, e)))
		goto out;
	if (repo) {
		struct reg_opts ro = { rc.creds, rc.cacert, rc.insecure, rc.parallel, rc.retries, NULL };
		struct oci_ref ref;
		char dg[72] = "", *path = vdb_cached_path(cache, e);
		int pr;

		if (!path || oci_ref_parse(&ref, repo, e) < 0) {
			free(path);
			goto out;
		}
		pr = vdb_pull(&ref, &ro, path, dg, e);
		oci_ref_free(&ref);
		if (pr == 0)
			printf("%s: pulled %s (%s)\n", path, repo, dg);
		free(path);
		r = pr;
		goto out;
	}
	if (!n_eco) {
		if (!(defeco = xstrdup_e(VDB_DEFAULT_ECOSYSTEMS, e)) || add_list(eco, &n_eco, defeco, e) < 0)
			goto out;
	}
	uo.dir = cache;
	uo.ecosystems = eco, uo.n_ecosystems = n_eco;
	uo.nvd = nvd, uo.n_nvd = n_nvd;
	uo.fetch.cacert = rc.cacert;
	uo.fetch.retries = rc.retries;
	if (vdb_update(&uo, &ur, e) < 0)
		goto out;
	for (size_t i = 0; i < ur.n; i++) {
		if (ur.feeds[i].status == FEED_NOT_MODIFIED)
			printf("%s: not modified\n", ur.feeds[i].ecosystem);
		else
			printf("%s: downloaded %lld bytes\n", ur.feeds[i].ecosystem, (long long)ur.feeds[i].size);
	}
	if (ur.rebuilt)
		printf("%s: %ld records (%ld withdrawn dropped, %ld rejected), %ld affected packages\n", ur.db_path,
		       ur.st.records, ur.st.withdrawn, ur.st.rejected, ur.st.affected);
	else
		printf("%s: up to date\n", ur.db_path);
	r = 0;
out:
	for (size_t i = 0; i < n_bufs; i++)
		free(ecobufs[i]);
	free(defeco), free(cache);
	vdb_update_result_free(&ur);
	return r;
}

static int db_pushpull(int argc, char **argv, bool push, struct err *e)
{
	enum { O_DB = 3000, O_CACHE };
	static const struct option lo[] = { COMMON_LONGOPTS, REG_LONGOPTS,
					    { "db", required_argument, NULL, O_DB },
					    { "output", required_argument, NULL, 'o' },
					    { "cache-dir", required_argument, NULL, O_CACHE },
					    { NULL, 0, NULL, 0 } };
	const char *cmd = push ? "db push" : "db pull", *file = NULL, *cache_opt = NULL;
	struct reg_cli rc = { 0 };
	struct oci_ref ref;
	char *cache = NULL, *def = NULL, dg[72] = "";
	int c, r;

	optind = 1;
	while ((c = getopt_long(argc, argv, COMMON_SHORTOPTS "o:", lo, NULL)) != -1) {
		int v;

		if (cmd_common_opt(c))
			continue;
		switch (c) {
		case 'h': cmd_print_help(help); return 0;
		case O_DB:
			if (!push)
				return cmd_usage_error(e, cmd, "--db is for push (pull takes -o FILE)");
			file = optarg;
			break;
		case 'o':
			if (push)
				return cmd_usage_error(e, cmd, "-o is for pull (push takes --db FILE)");
			file = optarg;
			break;
		case O_CACHE: cache_opt = optarg; break;
		default:
			v = cmd_reg_opt(&rc, c, optarg, cmd, e);
			if (v < 0)
				return -1;
			if (v == 0)
				return cmd_usage_error(e, cmd, "bad option \"%s\": unknown, or its value is missing", argv[optind - 1]);
		}
	}
	if (argc - optind != 1)
		return cmd_usage_error(e, cmd, "expected one REF");
	if (!file) {
		if (!(cache = bosun_cache_dir(cache_opt, e)) || !(def = vdb_cached_path(cache, e))) {
			free(cache);
			return -1;
		}
		file = def;
	}
	if (oci_ref_parse(&ref, argv[optind], e) < 0) {
		free(cache), free(def);
		return -1;
	}
	{
		struct reg_opts ro = { rc.creds, rc.cacert, rc.insecure, rc.parallel, rc.retries, NULL };

		r = push ? vdb_push(file, &ref, &ro, dg, e) : vdb_pull(&ref, &ro, file, dg, e);
	}
	if (r == 0)
	{
		if (push)
			printf("pushed %s to %s (%s)\n", file, argv[optind], dg);
		else
			printf("pulled %s to %s (%s)\n", argv[optind], file, dg);
	}
	oci_ref_free(&ref);
	free(cache), free(def);
	return r;
}

int cmd_db(int argc, char **argv, struct err *e)
{
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		cmd_print_help(help);
		return argc < 2 ? cmd_usage_error(e, "db", "expected a subcommand: build, info") : 0;
	}
	if (strcmp(argv[1], "build") == 0)
		return db_build(argc - 1, argv + 1, e);
	if (strcmp(argv[1], "info") == 0) {
		if (argc > 2 && (strcmp(argv[2], "--help") == 0 || strcmp(argv[2], "-h") == 0)) {
			cmd_print_help(help);
			return 0;
		}
		return db_info(argc - 1, argv + 1, e);
	}
	if (strcmp(argv[1], "update") == 0)
		return db_update(argc - 1, argv + 1, e);
	if (strcmp(argv[1], "push") == 0 || strcmp(argv[1], "pull") == 0)
		return db_pushpull(argc - 1, argv + 1, strcmp(argv[1], "push") == 0, e);
	return cmd_usage_error(e, "db", "unknown subcommand \"%s\"", argv[1]);
}
