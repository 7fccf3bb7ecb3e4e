/* The command line, once: one option table per group (registry, build,
 * scan and policy, signing, reports) shared by every command that takes the
 * group, and one parser that handles -v/-q/-h, the groups, the command's own
 * options and every unknown option or missing value in one place. A group's
 * option means the same thing under every command that accepts it. */
#ifndef BOSUN_CMD_OPTS_H
#define BOSUN_CMD_OPTS_H

#include <getopt.h>
#include <stdbool.h>
#include "builder/build.h"
#include "cmd/cmd.h"
#include "core/err.h"
#include "scan/findings.h"

enum cli_group {
	CLI_REG = 1 << 0,    /* --creds ... --retries (REG_OPTS_HELP) */
	CLI_BUILD = 1 << 1,  /* -f -t --build-arg --target --label --secret --network ... */
	CLI_SCAN = 1 << 2,   /* --db --db-max-age --skip-db-update and the policy gate */
	CLI_SIGN = 1 << 3,   /* --key */
	CLI_REPORT = 1 << 4, /* --report-dir --junit */
};

#define CLI_MAXV 64

struct cli_build {
	struct build_opts o; /* dockerfile, args, labels, secrets, target, network, comp, caches */
	char *build_args[CLI_MAXV], *labels[CLI_MAXV], *secrets[CLI_MAXV];
	const char *tags[CLI_MAXV], *outputs[CLI_MAXV];
	size_t n_tags, n_outputs;
};

struct cli_scan {
	const char *db;		  /* NULL: the cached one ('bosun db update') */
	long long db_max_age;	  /* seconds, 0 = no limit (default 7d) */
	char db_max_age_text[32]; /* as given, for messages */
	bool skip_db_update;	  /* accepted: scan never downloads the database */
	struct policy pol;	  /* the gate (fail_on -1 = never) and the report filter */
	const char *vex[CLI_MAXV];
};

struct cli {
	struct reg_cli reg;
	struct cli_build build;
	struct cli_scan scan;
	const char *key;	/* CLI_SIGN */
	const char *report_dir; /* CLI_REPORT; NULL unless given */
	const char *junit;	/* CLI_REPORT */
};

/* A plain option of a command's own: --NAME VALUE stored in *str, or the
 * flag --NAME setting *flag. A list ends with a zero entry. */
struct cli_val {
	const char *name;
	const char **str;
	bool *flag;
};

/* A command's own options beside its groups: plain ones in vals, others in
 * own with own_opt, which returns 1 when it took c, 0 when c is not its
 * option, -1 with e filled on a bad value. */
struct cli_cmd {
	const char *name; /* "scan", "base check": in messages */
	const char *help;
	unsigned groups;
	const char *shortopts;	  /* the command's own short options ("o:"), or NULL */
	const struct option *own; /* terminated by a zero entry, or NULL */
	int (*own_opt)(void *ctx, int c, const char *arg, struct err *e);
	void *ctx;
	const struct cli_val *vals; /* or NULL */
};

/* Defaults: no gate (fail_on -1), database no older than 7 days, build
 * without source date. Commands change defaults between cli_init and
 * cli_parse (ship: fail_on HIGH). */
void cli_init(struct cli *c);

/* Parses argv (options may follow the arguments). 0: optind is at the first
 * argument; 1: --help was printed (the command returns 0); -1: e filled
 * (ERR_USAGE naming the option and 'bosun CMD --help'). */
int cli_parse(const struct cli_cmd *cmd, int argc, char **argv, struct cli *c, struct err *e);

/* The registry options as the library takes them. */
struct reg_opts cli_reg_opts(const struct cli *c);
/* The policy with its VEX list attached, today's date and .bosunignore when
 * present and no --ignore-file was given. */
void cli_policy_finish(struct cli *c);
/* SOURCE_DATE_EPOCH into c->build.o (ERR_USAGE when malformed). */
int cli_source_date(struct cli *c, struct err *e);

/* Help text of each group, written once. */
#define BUILD_OPTS_HELP                                                                            \
	"  -f, --file FILE            the Dockerfile (default CONTEXT/Dockerfile)\n"               \
	"  -t, --tag REF              name of the image (repeatable)\n"                            \
	"  --output DEST              also write to oci:DIR[:TAG] or docker-archive:FILE\n"        \
	"  --build-arg K[=V]          set a build argument (V from the environment when "          \
	"omitted)\n"                                                                               \
	"  --target STAGE             build up to this stage\n"                                    \
	"  --platform P[,P...]        target platform(s), OS/ARCH[/VARIANT] (default this "         \
	"machine's);\n"                                                                            \
	"                             several build one OCI image index, one image per platform;\n" \
	"                             RUN of a foreign platform needs binfmt_misc emulation\n"     \
	"  --label K=V                add a label to the image config (repeatable)\n"              \
	"  --secret id=ID,src=PATH    expose PATH to RUN --mount=type=secret,id=ID (never in a "   \
	"layer)\n"                                                                                 \
	"  --network host|none        network of RUN steps (default host)\n"                       \
	"  --compression gzip|zstd    layer compression (default gzip)\n"                          \
	"  --cache-dir DIR            keep base images and step results in DIR and reuse them\n"   \
	"  --cache-repo REPO          share step results through a registry repository\n"

#define SCAN_OPTS_HELP                                                                             \
	"  --db FILE                  the vulnerability database (default: the one 'bosun db "     \
	"update'\n"                                                                                \
	"                             or 'bosun db pull' keep in CACHE/db/vuln.db)\n"              \
	"  --db-max-age DURATION      refuse a database older than this (default 7d; 0 disables; " \
	"s/m/h/d)\n"                                                                               \
	"  --skip-db-update           never touch the network for the database (bosun never "      \
	"downloads\n"                                                                              \
	"                             it while scanning: run 'bosun db update' before; for CI "    \
	"scripts)\n"                                                                               \
	"  --severity LIST            report only these severities (e.g. HIGH,CRITICAL)\n"         \
	"  --fail-on SEVERITY         the gate: exit 1 when a reported finding is at or above\n"   \
	"                             SEVERITY (critical, high, medium, low); none never fails\n"  \
	"  --unknown-as SEVERITY      treat findings without a rating as SEVERITY for --fail-on\n" \
	"  --cvss-prefer v4|v3        which CVSS version rates a record that has both (default v4)\n" \
	"  --ignore-unfixed           do not report findings without a fixed version\n"            \
	"  --ignore-file FILE         ids to ignore, one a line, optional exp:YYYY-MM-DD\n"        \
	"                             (default .bosunignore when present)\n"                       \
	"  --vex FILE                 OpenVEX document: not_affected / fixed statements "          \
	"suppress\n"                                                                               \
	"                             (repeatable)\n"

#define SIGN_OPTS_HELP                                                                             \
	"  --key FILE                 private key (cosign format or PEM); password from\n"         \
	"                             BOSUN_KEY_PASSWORD or COSIGN_PASSWORD\n"

#define REPORT_OPTS_HELP                                                                           \
	"  --report-dir DIR           where the reports go\n"                                      \
	"  --junit FILE               also write the JUnit report to FILE\n"

#endif
