#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "core/fs.h"
#include "core/log.h"
#include "scan/dbsync.h"

int cmd_common_opt(int c)
{
	switch (c) {
	case 'v':
		if (log_get_level() < LOG_TRACE)
			log_set_level(log_get_level() + 1);
		return 1;
	case 'q':
		log_set_level(LOG_ERROR);
		return 1;
	default:
		return 0;
	}
}

int cmd_usage_error(struct err *e, const char *cmd, const char *fmt, ...)
{
	char m[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(m, sizeof(m), fmt, ap);
	va_end(ap);
	return err_set(e, ERR_USAGE, "%s (see 'bosun %s --help')", m, cmd);
}

void cmd_print_help(const char *text)
{
	fputs(text, stdout);
}

int cmd_reg_opt(struct reg_cli *r, int c, const char *arg, const char *cmd, struct err *e)
{
	char *end;
	long v;

	switch (c) {
	case OPT_CREDS:
	case OPT_SRC_CREDS:
	case OPT_DST_CREDS:
		if (!strchr(arg, ':'))
			return cmd_usage_error(e, cmd, "credentials must be USER:PASSWORD");
		if (c == OPT_CREDS)
			r->creds = arg;
		else if (c == OPT_SRC_CREDS)
			r->src_creds = arg;
		else
			r->dst_creds = arg;
		return 1;
	case OPT_CACERT:
		if (access(arg, R_OK) != 0)
			return cmd_usage_error(e, cmd, "--cacert %s: cannot read the file", arg);
		r->cacert = arg;
		return 1;
	case OPT_INSECURE:
		if (r->n_insecure >= REG_MAX_INSECURE)
			return cmd_usage_error(e, cmd, "too many --insecure-registry options");
		r->insecure[r->n_insecure++] = arg;
		r->insecure[r->n_insecure] = NULL;
		return 1;
	case OPT_PLATFORM:
		r->platform = arg;
		return 1;
	case OPT_PARALLEL:
	case OPT_RETRIES:
		v = strtol(arg, &end, 10);
		if (*end || end == arg || v < 0 || v > 64)
			return cmd_usage_error(e, cmd, "%s takes a number from 0 to 64",
					       c == OPT_PARALLEL ? "--parallel" : "--retries");
		if (c == OPT_PARALLEL)
			r->parallel = v ? (int)v : 1;
		else
			r->retries = v ? (int)v : -1;
		return 1;
	default:
		return 0;
	}
}

int cmd_parse_age(const char *s, long long *secs)
{
	char *end;
	long long v = strtoll(s, &end, 10);

	if (end == s || v < 0)
		return -1;
	switch (*end) {
	case 0:
	case 's': break;
	case 'm': v *= 60; break;
	case 'h': v *= 3600; break;
	case 'd': v *= 86400; break;
	default: return -1;
	}
	if (*end && end[1])
		return -1;
	*secs = v;
	return 0;
}

int cmd_put_digest(const char *digest, const char *file, struct err *e)
{
	char line[160];
	int n = snprintf(line, sizeof(line), "%s\n", digest);

	printf("%s", line);
	if (!file)
		return 0;
	return fs_write_atomic(file, line, (size_t)n, 0644, e);
}

/* The database to open: --db, else the one 'bosun db update' keeps in the
 * cache (scan itself never downloads it). *owned is set when allocated. */
const char *cmd_find_db(const char *given, const char *cache, char **owned, struct err *e)
{
	char *root;

	if (given)
		return given;
	root = bosun_cache_dir(cache, e);
	*owned = root ? vdb_cached_path(root, e) : NULL;
	free(root);
	if (!*owned)
		return NULL;
	if (!fs_exists(*owned)) {
		err_set(
		    e, ERR_INPUT,
		    "no vulnerability database at %s: run 'bosun db update' (or give --db FILE)",
		    *owned);
		return NULL;
	}
	return *owned;
}
