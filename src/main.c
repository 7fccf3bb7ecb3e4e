/* bosun: global options, the command table, and the one place that prints
 * an error and chooses the exit code. */
#include <curl/curl.h>
#include <signal.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "core/err.h"
#include "core/log.h"

const struct cmd cmd_table[] = {
	{ "build", cmd_build, "build an image from a Dockerfile, without a daemon" },
	{ "scan", cmd_scan, "scan an image or root file system for known vulnerabilities" },
	{ "db", cmd_db, "build, update, move and describe the vulnerability database" },
	{ "keygen", cmd_keygen, "create a cosign-compatible signing key pair" },
	{ "sign", cmd_sign, "sign an image digest (cosign-compatible)" },
	{ "attest", cmd_attest, "attach a signed in-toto attestation to an image" },
	{ "verify", cmd_verify, "verify signatures and attestations: the deploy gate" },
	{ "base", cmd_base, "check and pin base images, watch a fleet for base updates" },
	{ "patch", cmd_patch, "upgrade an image's vulnerable OS packages in one new layer, no rebuild" },
	{ "ship", cmd_ship, "build, scan, gate, push, sign and attest in one pipeline step" },
	{ "copy", cmd_copy, "copy an image between registries, OCI layouts and docker archives" },
	{ "inspect", cmd_inspect, "show an image's manifest, platforms, config and layers" },
	{ "version", cmd_version, "print the version and the libraries bosun was built with" },
	{ "help", cmd_help, "show help for bosun or one command" },
	{ NULL, NULL, NULL },
};

const struct cmd *cmd_find(const char *name)
{
	const struct cmd *c;

	for (c = cmd_table; c->name; c++)
		if (strcmp(c->name, name) == 0)
			return c;
	return NULL;
}

static void usage(FILE *f)
{
	const struct cmd *c;

	fprintf(f, "usage: bosun [-v|-q] COMMAND [OPTIONS] ARGS\n\n"
		   "Build, scan, sign and push container images from a CI pipeline.\n\nCommands:\n");
	for (c = cmd_table; c->name; c++)
		fprintf(f, "  %-10s %s\n", c->name, c->summary);
	fprintf(f, "\nImage locations: REGISTRY/REPO[:TAG][@DIGEST] (or docker://...), oci:DIR[:TAG],\n"
		   "docker-archive:FILE[:REPO:TAG].\n\nRun 'bosun COMMAND --help' for a command's options.\n\n"
		   "Global options:\n  -v, --verbose   more detail (repeat for trace)\n"
		   "  -q, --quiet     errors only\n  -h, --help      this help\n\n"
		   "Environment: NO_COLOR, BOSUN_PROGRESS=tty|plain|none, BOSUN_USERNAME, BOSUN_PASSWORD,\n"
		   "DOCKER_CONFIG, REGISTRY_AUTH_FILE, SSL_CERT_FILE.\n\n" EXIT_CODES_HELP);
}

int cmd_help(int argc, char **argv, struct err *e)
{
	const struct cmd *c;
	char *args[] = { NULL, (char *)"--help", NULL };

	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		if (argc >= 2)
			printf("usage: bosun help [COMMAND]\n\n");
		usage(stdout);
		return 0;
	}
	c = cmd_find(argv[1]);
	if (!c)
		return err_set(e, ERR_USAGE, "unknown command \"%s\" (see 'bosun help')", argv[1]);
	args[0] = (char *)c->name;
	optind = 0;
	return c->fn(2, args, e);
}

int main(int argc, char **argv)
{
	struct err e = ERR_INIT;
	const struct cmd *c;
	int i = 1, rc, lvl = LOG_INFO;

	signal(SIGPIPE, SIG_IGN);
	opterr = 0; /* the commands say what is wrong with an option, on one line */
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "-v") || !strcmp(argv[i], "--verbose"))
			lvl++;
		else if (!strcmp(argv[i], "-vv"))
			lvl += 2;
		else if (!strcmp(argv[i], "-q") || !strcmp(argv[i], "--quiet"))
			lvl = LOG_ERROR;
		else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(argv[i], "--version")) {
			argv[i] = (char *)"version";
			break;
		} else {
			fprintf(stderr, "bosun: unknown global option \"%s\" (see 'bosun --help')\n",
				argv[i]);
			return ERR_USAGE;
		}
	}
	if (lvl > LOG_TRACE)
		lvl = LOG_TRACE;
	log_set_level((enum log_level)lvl);
	if (i >= argc) {
		usage(stderr);
		return ERR_USAGE;
	}
	c = cmd_find(argv[i]);
	if (!c) {
		fprintf(stderr, "bosun: unknown command \"%s\" (see 'bosun --help')\n", argv[i]);
		return ERR_USAGE;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0) {
		fprintf(stderr, "bosun: cannot initialise libcurl\n");
		return ERR_INTERNAL;
	}
	optind = 0;
	rc = c->fn(argc - i, argv + i, &e);
	curl_global_cleanup();
	if (rc < 0) {
		if (e.code < ERR_POLICY || e.code > ERR_INTERNAL)
			e.code = ERR_INTERNAL;
		fprintf(stderr, "bosun %s: %s\n", c->name, e.msg[0] ? e.msg : "failed");
		return e.code;
	}
	return rc;
}
