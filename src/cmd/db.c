#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "scan/db.h"

static const char help[] =
	"usage: bosun db build --osv ZIP|DIR... [--alpine-secdb FILE...] [--nvd FILE...] -o FILE\n"
	"       bosun db info FILE\n\n"
	"Compile vulnerability data into one SQLite database, or show its metadata.\n\n"
	"build options:\n"
	"  --osv ZIP|DIR        an OSV all.zip dump or a directory of OSV JSON records (repeatable)\n"
	"  --alpine-secdb FILE  an Alpine secdb JSON file (repeatable)\n"
	"  --nvd FILE           an NVD CVE JSON 2.0 feed: severities for records that have none (repeatable)\n"
	"  -o, --output FILE    the database to write (atomically)\n\n"
	"Withdrawn records are dropped; malformed or oversized records are skipped and counted.\n\n"
	"Examples:\n"
	"  bosun db build --osv Go-all.zip --osv Debian-all.zip -o vuln.db\n"
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
		default: return cmd_usage_error(e, "db build", "bad option \"%s\"", argv[optind - 1]);
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

	if (argc != 2)
		return cmd_usage_error(e, "db info", "expected FILE");
	if (vdb_open(&db, argv[1], e) < 0)
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
	if (strcmp(argv[1], "update") == 0 || strcmp(argv[1], "push") == 0 || strcmp(argv[1], "pull") == 0)
		return err_set(e, ERR_INTERNAL, "'bosun db %s' is not implemented yet", argv[1]);
	return cmd_usage_error(e, "db", "unknown subcommand \"%s\"", argv[1]);
}
