#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "cmd/opts.h"
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
#define MAXECO 32

/* The options of every db subcommand; each takes the ones its table names. */
enum { O_OSV = 3000, O_SECDB, O_NVD, O_ECO, O_DB };

struct db_cli {
	const char *cmd; /* "db build", "db update", ... */
	bool push;	 /* db push (--db) or db pull (-o) */
	const char *osv[MAXIN], *secdb[MAXIN], *nvd[MAXIN], *eco[MAXECO], *out;
	size_t n_osv, n_secdb, n_nvd, n_eco, n_bufs;
	char *ecobufs[MAXECO]; /* the --ecosystem values, split in place */
};

static int add_list(struct db_cli *d, char *s, struct err *e)
{
	char *save = NULL;

	for (char *t = strtok_r(s, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		if (d->n_eco >= MAXECO)
			return cmd_usage_error(e, d->cmd, "at most %d ecosystems", MAXECO);
		d->eco[d->n_eco++] = t;
	}
	return 0;
}

static int db_own_opt(void *ctx, int c, const char *arg, struct err *e)
{
	struct db_cli *d = ctx;

	switch (c) {
	case O_OSV:
	case O_SECDB:
	case O_NVD: {
		size_t *n = c == O_OSV ? &d->n_osv : c == O_SECDB ? &d->n_secdb : &d->n_nvd;
		const char **a = c == O_OSV ? d->osv : c == O_SECDB ? d->secdb : d->nvd;

		if (*n >= MAXIN)
			return cmd_usage_error(e, d->cmd, "at most %d inputs of a kind", MAXIN);
		a[(*n)++] = arg;
		return 1;
	}
	case O_ECO:
		if (d->n_bufs >= MAXECO)
			return cmd_usage_error(e, d->cmd, "at most %d --ecosystem options", MAXECO);
		if (!(d->ecobufs[d->n_bufs] = xstrdup_e(arg, e)))
			return -1;
		return add_list(d, d->ecobufs[d->n_bufs++], e) < 0 ? -1 : 1;
	case O_DB:
		if (!d->push)
			return cmd_usage_error(e, d->cmd, "--db is for push (pull takes -o FILE)");
		d->out = arg;
		return 1;
	case 'o':
		if (d->push)
			return cmd_usage_error(e, d->cmd, "-o is for pull (push takes --db FILE)");
		d->out = arg;
		return 1;
	default:
		return 0;
	}
}

static void db_cli_free(struct db_cli *d)
{
	for (size_t i = 0; i < d->n_bufs; i++)
		free(d->ecobufs[i]);
}

/* cli_parse with the db options of table own (-o when it names "output"),
 * the registry group with reg and the plain options vals; 1 when --help was
 * printed. */
static int db_parse(struct db_cli *d, int argc, char **argv, bool reg, const struct option *own,
		    const struct cli_val *vals, struct cli *cl, struct err *e)
{
	bool short_o = false;

	for (const struct option *o = own; o && o->name; o++)
		short_o = short_o || o->val == 'o';
	const struct cli_cmd cmd = {d->cmd, help,	reg ? CLI_REG : 0, short_o ? "o:" : NULL,
				    own,    db_own_opt, d,		   vals};

	cli_init(cl);
	return cli_parse(&cmd, argc, argv, cl, e);
}

static int db_build(int argc, char **argv, struct err *e)
{
	static const struct option lo[] = {{"osv", required_argument, NULL, O_OSV},
					   {"alpine-secdb", required_argument, NULL, O_SECDB},
					   {"nvd", required_argument, NULL, O_NVD},
					   {"output", required_argument, NULL, 'o'},
					   {NULL, 0, NULL, 0}};
	struct db_cli d = {.cmd = "db build"};
	struct vdb_stats st;
	struct cli cl;
	int r = db_parse(&d, argc, argv, false, lo, NULL, &cl, e);

	if (r != 0)
		return r > 0 ? 0 : -1;
	if (!d.out || optind != argc)
		return cmd_usage_error(e, d.cmd, "expected -o FILE and no other arguments");
	if (!d.n_osv && !d.n_secdb)
		return cmd_usage_error(e, d.cmd, "nothing to build from (--osv or --alpine-secdb)");
	{
		struct vdb_build_opts o = {d.osv, d.n_osv, d.secdb, d.n_secdb, d.nvd, d.n_nvd};

		if (vdb_build(d.out, &o, &st, e) < 0)
			return -1;
	}
	printf("%s: %ld records (%ld withdrawn dropped, %ld rejected), %ld affected packages, %ld secdb fixes, "
	       "%ld NVD CVEs, %ld enriched\n",
	       d.out, st.records, st.withdrawn, st.rejected, st.affected, st.secdb, st.nvd, st.enriched);
	return 0;
}

/* The cached database's path (CACHE/db/vuln.db), cache_opt or the default
 * cache root; NULL with e filled. */
static char *cached_db(const char *cache_opt, struct err *e)
{
	char *cache = bosun_cache_dir(cache_opt, e), *path;

	if (!cache)
		return NULL;
	path = vdb_cached_path(cache, e);
	free(cache);
	return path;
}

static int db_info(int argc, char **argv, struct err *e)
{
	static const char *const keys[] = { "schema_version", "built", "sources", "counts" };
	struct db_cli d = {.cmd = "db info"};
	struct vdb *db;
	struct cli cl;
	char *v, *path = NULL;
	int rc = db_parse(&d, argc, argv, false, NULL, NULL, &cl, e);

	if (rc != 0)
		return rc > 0 ? 0 : -1;
	if (argc - optind > 1)
		return cmd_usage_error(e, d.cmd, "expected at most one FILE");
	if (argc == optind && !(path = cached_db(NULL, e)))
		return -1;
	rc = vdb_open(&db, argc > optind ? argv[optind] : path, e);
	free(path);
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

/* db update --db-repository REF: pull the ready database into the cache. */
static int update_pull(const char *repo, const struct cli *cl, const char *cache, struct err *e)
{
	struct reg_opts ro = cli_reg_opts(cl);
	struct oci_ref ref;
	char dg[72] = "", *path = vdb_cached_path(cache, e);
	int r;

	if (!path || oci_ref_parse(&ref, repo, e) < 0) {
		free(path);
		return -1;
	}
	r = vdb_pull(&ref, &ro, path, dg, e);
	oci_ref_free(&ref);
	if (r == 0)
		printf("%s: pulled %s (%s)\n", path, repo, dg);
	free(path);
	return r;
}

/* db update from the feeds: download what changed, rebuild when needed. */
static int update_feeds(struct db_cli *d, struct vdb_update_opts *uo, const struct cli *cl,
			char *cache, struct err *e)
{
	struct vdb_update_result ur = { 0 };
	char *defeco = NULL;
	int r = -1;

	if (!d->n_eco && (!(defeco = xstrdup_e(VDB_DEFAULT_ECOSYSTEMS, e)) || add_list(d, defeco, e) < 0))
		goto out;
	uo->dir = cache;
	uo->ecosystems = d->eco, uo->n_ecosystems = d->n_eco;
	uo->nvd = d->nvd, uo->n_nvd = d->n_nvd;
	uo->fetch.cacert = cl->reg.cacert;
	uo->fetch.retries = cl->reg.retries;
	if (vdb_update(uo, &ur, e) < 0)
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
	free(defeco);
	vdb_update_result_free(&ur);
	return r;
}

static int db_update(int argc, char **argv, struct err *e)
{
	static const struct option lo[] = {{"ecosystem", required_argument, NULL, O_ECO},
					   {"nvd", required_argument, NULL, O_NVD},
					   {NULL, 0, NULL, 0}};
	struct db_cli d = {.cmd = "db update"};
	struct vdb_update_opts uo = { 0 };
	const char *repo = NULL, *cache_opt = NULL;
	const struct cli_val vals[] = {{"osv-url", &uo.base_url, NULL},
				       {"db-repository", &repo, NULL},
				       {"cache-dir", &cache_opt, NULL},
				       {"force", NULL, &uo.force},
				       {NULL, NULL, NULL}};
	struct cli cl;
	char *cache = NULL;
	int r;

	uo.base_url = getenv("BOSUN_OSV_URL");
	r = db_parse(&d, argc, argv, true, lo, vals, &cl, e);
	if (r != 0) {
		r = r > 0 ? 0 : -1;
	} else if (optind != argc) {
		r = cmd_usage_error(e, d.cmd, "unexpected argument \"%s\"", argv[optind]);
	} else if (!(cache = bosun_cache_dir(cache_opt, e))) {
		r = -1;
	} else {
		r = repo ? update_pull(repo, &cl, cache, e) : update_feeds(&d, &uo, &cl, cache, e);
	}
	free(cache);
	db_cli_free(&d);
	return r;
}

static int db_pushpull(int argc, char **argv, bool push, struct err *e)
{
	static const struct option lo[] = {{"db", required_argument, NULL, O_DB},
					   {"output", required_argument, NULL, 'o'},
					   {NULL, 0, NULL, 0}};
	struct db_cli d = {.cmd = push ? "db push" : "db pull", .push = push};
	const char *cache_opt = NULL;
	const struct cli_val vals[] = {{"cache-dir", &cache_opt, NULL}, {NULL, NULL, NULL}};
	struct reg_opts ro;
	struct oci_ref ref;
	struct cli cl;
	char *def = NULL, dg[72] = "";
	const char *file;
	int r = db_parse(&d, argc, argv, true, lo, vals, &cl, e);

	if (r != 0)
		return r > 0 ? 0 : -1;
	if (argc - optind != 1)
		return cmd_usage_error(e, d.cmd, "expected one REF");
	if (!(file = d.out) && !(file = def = cached_db(cache_opt, e)))
		return -1;
	if (oci_ref_parse(&ref, argv[optind], e) < 0) {
		free(def);
		return -1;
	}
	ro = cli_reg_opts(&cl);
	r = push ? vdb_push(file, &ref, &ro, dg, e) : vdb_pull(&ref, &ro, file, dg, e);
	if (r == 0 && push)
		printf("pushed %s to %s (%s)\n", file, argv[optind], dg);
	else if (r == 0)
		printf("pulled %s to %s (%s)\n", argv[optind], file, dg);
	oci_ref_free(&ref);
	free(def);
	return r;
}

int cmd_db(int argc, char **argv, struct err *e)
{
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		cmd_print_help(help);
		return argc < 2 ? cmd_usage_error(e, "db", "expected a subcommand: build, info") : 0;
	}
	optind = 0;
	if (strcmp(argv[1], "build") == 0)
		return db_build(argc - 1, argv + 1, e);
	if (strcmp(argv[1], "info") == 0)
		return db_info(argc - 1, argv + 1, e);
	if (strcmp(argv[1], "update") == 0)
		return db_update(argc - 1, argv + 1, e);
	if (strcmp(argv[1], "push") == 0 || strcmp(argv[1], "pull") == 0)
		return db_pushpull(argc - 1, argv + 1, strcmp(argv[1], "push") == 0, e);
	return cmd_usage_error(e, "db", "unknown subcommand \"%s\"", argv[1]);
}
