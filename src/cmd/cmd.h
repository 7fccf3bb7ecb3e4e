/* Command entry points and the option helpers they share. */
#ifndef BOSUN_CMD_H
#define BOSUN_CMD_H

#include <getopt.h>
#include <stdbool.h>
#include "core/err.h"

/* A command returns its exit code (0, or 1 when the policy said no), or -1
 * with e filled; main prints e once and maps e->code to the exit code. */
typedef int (*cmd_fn)(int argc, char **argv, struct err *e);

struct cmd {
	const char *name;
	cmd_fn fn;
	const char *summary;
};

int cmd_build(int argc, char **argv, struct err *e);
int cmd_scan(int argc, char **argv, struct err *e);
int cmd_db(int argc, char **argv, struct err *e);
int cmd_keygen(int argc, char **argv, struct err *e);
int cmd_sign(int argc, char **argv, struct err *e);
int cmd_attest(int argc, char **argv, struct err *e);
int cmd_verify(int argc, char **argv, struct err *e);
int cmd_ship(int argc, char **argv, struct err *e);
int cmd_patch(int argc, char **argv, struct err *e);
int cmd_copy(int argc, char **argv, struct err *e);
int cmd_inspect(int argc, char **argv, struct err *e);
int cmd_base(int argc, char **argv, struct err *e);
int cmd_version(int argc, char **argv, struct err *e);
int cmd_help(int argc, char **argv, struct err *e);

const struct cmd *cmd_find(const char *name);
extern const struct cmd cmd_table[];

/* Options every command accepts (-v, -q, -h). Returns 1 when handled. */
enum { OPT_COMMON_BASE = 1000 };
#define COMMON_LONGOPTS                                                                        \
	{ "verbose", no_argument, NULL, 'v' }, { "quiet", no_argument, NULL, 'q' },          \
		{ "help", no_argument, NULL, 'h' }
#define COMMON_SHORTOPTS "vqh"
int cmd_common_opt(int c);

/* Unknown option / missing argument from getopt: fills e with ERR_USAGE. */
int cmd_usage_error(struct err *e, const char *cmd, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Print the help text of a command to stdout. */
void cmd_print_help(const char *text);

#define EXIT_CODES_HELP                                                                        \
	"Exit codes:\n"                                                                        \
	"  0  success\n"                                                                       \
	"  1  policy said no (findings over the threshold, bad signature, stale base)\n"      \
	"  2  usage error\n"                                                                   \
	"  3  bad input (unparsable reference, manifest, archive, digest mismatch)\n"          \
	"  4  registry or network error after retries\n"                                       \
	"  5  internal error\n"


/* Registry options shared by copy, inspect and later commands. */
#define REG_MAX_INSECURE 16
struct reg_cli {
	const char *creds, *src_creds, *dst_creds, *cacert, *platform;
	const char *insecure[REG_MAX_INSECURE + 1];
	int n_insecure, parallel, retries;
};
enum {
	OPT_CREDS = 2000,
	OPT_SRC_CREDS,
	OPT_DST_CREDS,
	OPT_CACERT,
	OPT_INSECURE,
	OPT_PLATFORM,
	OPT_PARALLEL,
	OPT_RETRIES,
};
#define REG_LONGOPTS                                                                           \
	{ "creds", required_argument, NULL, OPT_CREDS },                                        \
		{ "src-creds", required_argument, NULL, OPT_SRC_CREDS },                        \
		{ "dest-creds", required_argument, NULL, OPT_DST_CREDS },                       \
		{ "cacert", required_argument, NULL, OPT_CACERT },                              \
		{ "insecure-registry", required_argument, NULL, OPT_INSECURE },                 \
		{ "platform", required_argument, NULL, OPT_PLATFORM },                          \
		{ "parallel", required_argument, NULL, OPT_PARALLEL },                          \
		{ "retries", required_argument, NULL, OPT_RETRIES }
#define REG_OPTS_HELP                                                                          \
	"Registry options:\n"                                                                  \
	"  --creds USER:PASS          credentials for every registry involved\n"             \
	"  --src-creds USER:PASS      credentials for the source registry\n"                 \
	"  --dest-creds USER:PASS     credentials for the destination registry\n"            \
	"  --cacert FILE              trust this CA bundle (else SSL_CERT_FILE, system CAs)\n"  \
	"  --insecure-registry HOST   allow plain HTTP / unverified TLS for HOST (repeatable;\n" \
	"                             localhost and 127.0.0.1 are always allowed plain HTTP)\n"  \
	"  --platform OS/ARCH[/VAR]   pick one platform of a multi-platform image\n"          \
	"  --parallel N               blobs in flight at once (default 4)\n"                  \
	"  --retries N                retries per request on 5xx/429/network errors (default 5)\n" \
	"Credentials are also read from BOSUN_USERNAME/BOSUN_PASSWORD, $REGISTRY_AUTH_FILE,\n"  \
	"$DOCKER_CONFIG/config.json or ~/.docker/config.json (credHelpers, credsStore, auths).\n"

/* Returns 1 when c was a registry option, 0 when not, -1 on a bad value. */
int cmd_reg_opt(struct reg_cli *r, int c, const char *arg, const char *cmd, struct err *e);

/* "30", "30s", "15m", "12h", "7d" into seconds; -1 when malformed. */
int cmd_parse_age(const char *s, long long *secs);

/* Prints digest on stdout and, when file is given, writes "digest\n" to it. */
int cmd_put_digest(const char *digest, const char *file, struct err *e);

/* The vulnerability database to open: given, else the one 'bosun db update'
 * keeps in the cache root (cache, or the default one); *owned is set when
 * the path was allocated. NULL with ERR_INPUT when there is none. */
const char *cmd_find_db(const char *given, const char *cache, char **owned, struct err *e);

/* A registry reference for sign/attest/verify (those work on registries only). */
struct location;
int cmd_sign_parse_image(const char *s, const char *cmd, struct location *loc, struct err *e);

#endif
