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

int cmd_copy(int argc, char **argv, struct err *e);
int cmd_inspect(int argc, char **argv, struct err *e);
int cmd_version(int argc, char **argv, struct err *e);
int cmd_help(int argc, char **argv, struct err *e);

const struct cmd *cmd_find(const char *name);
extern const struct cmd cmd_table[];

/* Options every command accepts (-v, -q, -h). Returns 1 when handled. */
enum { OPT_COMMON_BASE = 1000 };
#define COMMON_LONGOPTS                                                                        \
	{ "verbose", no_argument, NULL, 'v' }, { "quiet", no_argument, NULL, 'q' },          \
		{ "help", no_argument, NULL, 'h' }
#define COMMON_SHORTOPTS "+vqh"
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

#endif
