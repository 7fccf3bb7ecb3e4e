#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd/opts.h"
#include "core/fs.h"
#include "core/util.h"

enum {
	/* CLI_BUILD ('f' and 't' are the short ones) */
	O_BUILD_ARG = 2100,
	O_TARGET,
	O_LABEL,
	O_SECRET,
	O_NETWORK,
	O_COMP,
	O_CACHE_DIR,
	O_CACHE_REPO,
	O_OUTPUT,
	/* CLI_SCAN */
	O_DB = 2200,
	O_DB_MAX_AGE,
	O_SKIP_DB_UPDATE,
	O_SEVERITY,
	O_FAIL_ON,
	O_UNKNOWN_AS,
	O_IGNORE_UNFIXED,
	O_IGNORE_FILE,
	O_VEX,
	O_CVSS_PREFER,
	/* CLI_SIGN */
	O_KEY = 2300,
	/* CLI_REPORT */
	O_REPORT_DIR = 2400,
	O_JUNIT,
	/* struct cli_val entries, by index */
	O_VAL = 3500,
};

#define END_OPT                                                                                    \
	{                                                                                          \
		NULL, 0, NULL, 0                                                                   \
	}

static const struct option common_lo[] = {COMMON_LONGOPTS, END_OPT};
static const struct option reg_lo[] = {REG_LONGOPTS, END_OPT};
static const struct option build_lo[] = {{"file", required_argument, NULL, 'f'},
					 {"tag", required_argument, NULL, 't'},
					 {"build-arg", required_argument, NULL, O_BUILD_ARG},
					 {"target", required_argument, NULL, O_TARGET},
					 {"label", required_argument, NULL, O_LABEL},
					 {"secret", required_argument, NULL, O_SECRET},
					 {"network", required_argument, NULL, O_NETWORK},
					 {"compression", required_argument, NULL, O_COMP},
					 {"cache-dir", required_argument, NULL, O_CACHE_DIR},
					 {"cache-repo", required_argument, NULL, O_CACHE_REPO},
					 {"output", required_argument, NULL, O_OUTPUT},
					 END_OPT};
static const struct option scan_lo[] = {{"db", required_argument, NULL, O_DB},
					{"db-max-age", required_argument, NULL, O_DB_MAX_AGE},
					{"skip-db-update", no_argument, NULL, O_SKIP_DB_UPDATE},
					{"severity", required_argument, NULL, O_SEVERITY},
					{"fail-on", required_argument, NULL, O_FAIL_ON},
					{"unknown-as", required_argument, NULL, O_UNKNOWN_AS},
					{"ignore-unfixed", no_argument, NULL, O_IGNORE_UNFIXED},
					{"ignore-file", required_argument, NULL, O_IGNORE_FILE},
					{"vex", required_argument, NULL, O_VEX},
					{"cvss-prefer", required_argument, NULL, O_CVSS_PREFER},
					END_OPT};
static const struct option sign_lo[] = {{"key", required_argument, NULL, O_KEY}, END_OPT};
static const struct option report_lo[] = {{"report-dir", required_argument, NULL, O_REPORT_DIR},
					  {"junit", required_argument, NULL, O_JUNIT},
					  END_OPT};

void cli_init(struct cli *c)
{
	memset(c, 0, sizeof(*c));
	c->build.o.build_args = c->build.build_args;
	c->build.o.labels = c->build.labels;
	c->build.o.secrets = c->build.secrets;
	c->build.o.source_date_epoch = -1;
	c->scan.db_max_age = 7 * 86400;
	snprintf(c->scan.db_max_age_text, sizeof(c->scan.db_max_age_text), "7d");
	c->scan.pol = (struct policy){0, -1, false, SEV_UNKNOWN, NULL, NULL, 0, 0, CVSS_PREFER_V4};
}

static int push_v(const char **v, size_t *n, const char *s, const char *cmd, struct err *e)
{
	if (*n >= CLI_MAXV)
		return cmd_usage_error(e, cmd, "at most %d of each repeatable option", CLI_MAXV);
	v[(*n)++] = s;
	return 0;
}

static int build_opt(struct cli_build *b, int c, const char *arg, const char *cmd, struct err *e)
{
	switch (c) {
	case 'f':
		b->o.dockerfile = arg;
		return 1;
	case 't':
		return push_v(b->tags, &b->n_tags, arg, cmd, e) < 0 ? -1 : 1;
	case O_OUTPUT:
		return push_v(b->outputs, &b->n_outputs, arg, cmd, e) < 0 ? -1 : 1;
	case O_BUILD_ARG:
		return push_v((const char **)b->build_args, &b->o.n_build_args, arg, cmd, e) < 0
			   ? -1
			   : 1;
	case O_TARGET:
		b->o.target = arg;
		return 1;
	case O_LABEL:
		if (!strchr(arg, '='))
			return cmd_usage_error(e, cmd, "--label %s: expected KEY=VALUE", arg);
		return push_v((const char **)b->labels, &b->o.n_labels, arg, cmd, e) < 0 ? -1 : 1;
	case O_SECRET:
		if (!strstr(arg, "id=") || (!strstr(arg, "src=") && !strstr(arg, "source=")))
			/* not echoed: a mistaken value may be the secret itself */
			return cmd_usage_error(e, cmd, "--secret: expected id=ID,src=PATH");
		return push_v((const char **)b->secrets, &b->o.n_secrets, arg, cmd, e) < 0 ? -1 : 1;
	case O_NETWORK:
		if (strcmp(arg, "host") != 0 && strcmp(arg, "none") != 0)
			return cmd_usage_error(e, cmd, "--network %s: expected host or none", arg);
		b->o.network = arg;
		return 1;
	case O_COMP:
		if (strcmp(arg, "gzip") == 0)
			b->o.comp = LAYER_GZIP;
		else if (strcmp(arg, "zstd") == 0)
			b->o.comp = LAYER_ZSTD;
		else
			return cmd_usage_error(e, cmd, "--compression %s: expected gzip or zstd",
					       arg);
		return 1;
	case O_CACHE_DIR:
		b->o.cache_dir = arg;
		return 1;
	case O_CACHE_REPO:
		b->o.cache_repo = arg;
		return 1;
	default:
		return 0;
	}
}

static int scan_opt(struct cli_scan *s, int c, const char *arg, const char *cmd, struct err *e)
{
	int v;

	switch (c) {
	case O_DB:
		s->db = arg;
		return 1;
	case O_DB_MAX_AGE:
		snprintf(s->db_max_age_text, sizeof(s->db_max_age_text), "%s", arg);
		if (cmd_parse_age(arg, &s->db_max_age) < 0)
			return cmd_usage_error(e, cmd, "bad --db-max-age \"%s\" (e.g. 7d, 12h, 0)",
					       arg);
		return 1;
	case O_SKIP_DB_UPDATE:
		s->skip_db_update = true;
		return 1;
	case O_SEVERITY:
		if (policy_parse_severities(arg, &s->pol.severities) < 0)
			return cmd_usage_error(e, cmd,
					       "bad severity list \"%s\" for --severity "
					       "(critical, high, medium, low, negligible, unknown)",
					       arg);
		return 1;
	case O_FAIL_ON:
		if (policy_parse_gate(arg, &s->pol.fail_on) < 0)
			return cmd_usage_error(e, cmd,
					       "unknown severity \"%s\" for --fail-on "
					       "(critical, high, medium, low, none)",
					       arg);
		return 1;
	case O_UNKNOWN_AS:
		if ((v = severity_parse(arg)) < 0)
			return cmd_usage_error(e, cmd, "unknown severity \"%s\" for --unknown-as",
					       arg);
		s->pol.unknown_as = v;
		return 1;
	case O_CVSS_PREFER:
		if (strcmp(arg, "v4") != 0 && strcmp(arg, "v3") != 0)
			return cmd_usage_error(e, cmd, "bad --cvss-prefer \"%s\" (v4 or v3)", arg);
		s->pol.cvss_prefer = arg[1] == '3' ? CVSS_PREFER_V3 : CVSS_PREFER_V4;
		return 1;
	case O_IGNORE_UNFIXED:
		s->pol.ignore_unfixed = true;
		return 1;
	case O_IGNORE_FILE:
		s->pol.ignore_file = arg;
		return 1;
	case O_VEX:
		return push_v(s->vex, &s->pol.n_vex, arg, cmd, e) < 0 ? -1 : 1;
	default:
		return 0;
	}
}

static int add_opts(struct option *lo, size_t *n, size_t cap, const struct option *g)
{
	for (; g && g->name; g++) {
		if (*n + 1 >= cap)
			return -1;
		lo[(*n)++] = *g;
	}
	lo[*n] = (struct option)END_OPT;
	return 0;
}

int cli_parse(const struct cli_cmd *cmd, int argc, char **argv, struct cli *c, struct err *e)
{
	struct option lo[96];
	char shortopts[64];
	size_t n = 0;
	int o, r;

	if (add_opts(lo, &n, ARRAY_SIZE(lo), common_lo) < 0 ||
	    ((cmd->groups & CLI_REG) && add_opts(lo, &n, ARRAY_SIZE(lo), reg_lo) < 0) ||
	    ((cmd->groups & CLI_BUILD) && add_opts(lo, &n, ARRAY_SIZE(lo), build_lo) < 0) ||
	    ((cmd->groups & CLI_SCAN) && add_opts(lo, &n, ARRAY_SIZE(lo), scan_lo) < 0) ||
	    ((cmd->groups & CLI_SIGN) && add_opts(lo, &n, ARRAY_SIZE(lo), sign_lo) < 0) ||
	    ((cmd->groups & CLI_REPORT) && add_opts(lo, &n, ARRAY_SIZE(lo), report_lo) < 0) ||
	    add_opts(lo, &n, ARRAY_SIZE(lo), cmd->own) < 0)
		return err_set(e, ERR_INTERNAL, "%s: option table too large", cmd->name);
	for (size_t i = 0; cmd->vals && cmd->vals[i].name; i++) {
		if (n + 1 >= ARRAY_SIZE(lo))
			return err_set(e, ERR_INTERNAL, "%s: option table too large", cmd->name);
		lo[n++] = (struct option){cmd->vals[i].name,
					  cmd->vals[i].str ? required_argument : no_argument, NULL,
					  O_VAL + (int)i};
		lo[n] = (struct option)END_OPT;
	}
	snprintf(shortopts, sizeof(shortopts), "%s%s%s", COMMON_SHORTOPTS,
		 cmd->groups & CLI_BUILD ? "f:t:" : "", cmd->shortopts ? cmd->shortopts : "");
	while ((o = getopt_long(argc, argv, shortopts, lo, NULL)) != -1) {
		if (cmd_common_opt(o))
			continue;
		if (o == 'h') {
			cmd_print_help(cmd->help);
			return 1;
		}
		r = 0;
		if (o >= O_VAL && o < O_VAL + 100) {
			const struct cli_val *v = &cmd->vals[o - O_VAL];

			if (v->str)
				*v->str = optarg;
			else
				*v->flag = true;
			continue;
		}
		if (cmd->own_opt)
			r = cmd->own_opt(cmd->ctx, o, optarg, e);
		if (r == 0 && (cmd->groups & CLI_REG))
			r = cmd_reg_opt(&c->reg, o, optarg, cmd->name, e);
		if (r == 0 && (cmd->groups & CLI_BUILD))
			r = build_opt(&c->build, o, optarg, cmd->name, e);
		if (r == 0 && (cmd->groups & CLI_SCAN))
			r = scan_opt(&c->scan, o, optarg, cmd->name, e);
		if (r == 0 && (cmd->groups & CLI_SIGN) && o == O_KEY)
			c->key = optarg, r = 1;
		if (r == 0 && (cmd->groups & CLI_REPORT) && (o == O_REPORT_DIR || o == O_JUNIT)) {
			*(o == O_REPORT_DIR ? &c->report_dir : &c->junit) = optarg;
			r = 1;
		}
		if (r < 0)
			return -1;
		if (r == 0)
			return cmd_usage_error(
			    e, cmd->name, "bad option \"%s\": unknown, or its value is missing",
			    argv[optind - 1]);
	}
	c->build.o.platform = c->reg.platform;
	c->build.o.reg = cli_reg_opts(c);
	return 0;
}

struct reg_opts cli_reg_opts(const struct cli *c)
{
	return (struct reg_opts){c->reg.creds,	  c->reg.cacert,  c->reg.insecure,
				 c->reg.parallel, c->reg.retries, NULL};
}

void cli_policy_finish(struct cli *c)
{
	struct policy *p = &c->scan.pol;

	if (!p->ignore_file && fs_exists(".bosunignore"))
		p->ignore_file = ".bosunignore";
	p->vex = c->scan.vex;
	p->today = (long long)(time(NULL) / 86400);
}

int cli_source_date(struct cli *c, struct err *e)
{
	const char *sde = getenv("SOURCE_DATE_EPOCH");
	char *end;
	long long t;

	if (!sde || !*sde)
		return 0;
	t = strtoll(sde, &end, 10);
	if (*end || t < 0)
		return err_set(e, ERR_USAGE, "SOURCE_DATE_EPOCH=%s: expected seconds since 1970",
			       sde);
	c->build.o.source_date_epoch = t;
	return 0;
}
