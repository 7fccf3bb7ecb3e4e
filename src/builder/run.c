/* RUN: flags and mounts, the command line, the cache key, and the overlay
 * and sandbox the command runs in. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <cjson/cJSON.h>

#include "builder/internal.h"
#include "builder/sandbox.h"
#include "core/buf.h"
#include "core/fs.h"
#include "core/sha256.h"
#include "core/util.h"

static int parse_mount(struct build *b, const char *spec, struct sb_mount *m, struct err *e)
{
	char buf[2048];
	char *save, *tok;
	const char *type = "bind", *id = NULL, *target = NULL, *src = NULL;
	bool required = false;

	snprintf(buf, sizeof(buf), "%s", spec);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(tok, '=');
		char *v = eq ? eq + 1 : (char *)"true";
		if (eq)
			*eq = 0;
		if (strcmp(tok, "type") == 0)
			type = v;
		else if (strcmp(tok, "id") == 0)
			id = v;
		else if (strcmp(tok, "target") == 0 || strcmp(tok, "dst") == 0 || strcmp(tok, "destination") == 0)
			target = v;
		else if (strcmp(tok, "source") == 0 || strcmp(tok, "src") == 0)
			src = v;
		else if (strcmp(tok, "required") == 0)
			required = strcmp(v, "true") == 0;
	}
	memset(m, 0, sizeof(*m));
	if (strcmp(type, "secret") == 0) {
		const char *sid = id ? id : (target ? strrchr(target, '/') + 1 : NULL);
		const char *path = NULL;
		if (!sid)
			return err_set(e, ERR_INPUT, "--mount=type=secret needs id= or target=");
		for (size_t i = 0; i < b->o->n_secrets; i++) {
			char sb[2048], *sv, *t, *sidv = NULL, *srcv = NULL;
			snprintf(sb, sizeof(sb), "%s", b->o->secrets[i]);
			for (t = strtok_r(sb, ",", &sv); t; t = strtok_r(NULL, ",", &sv)) {
				if (str_starts(t, "id="))
					sidv = t + 3;
				else if (str_starts(t, "src=") || str_starts(t, "source="))
					srcv = strchr(t, '=') + 1;
			}
			if (sidv && strcmp(sidv, sid) == 0 && srcv) {
				path = srcv;
				m->src = realpath(path, NULL);
				if (!m->src)
					return err_errno(e, ERR_INPUT, "secret %s: %s", sid, path);
			}
		}
		if (!m->src) {
			if (required)
				return err_set(e, ERR_INPUT, "secret \"%s\" is required but not given (--secret id=%s,src=FILE)",
					       sid, sid);
			return 1; /* an optional secret that is absent: no mount */
		}
		m->dst = target ? strdup(target) : xasprintf_e(e, "/run/secrets/%s", sid);
		m->readonly = true;
		m->is_file = true;
		return m->dst ? 0 : -1;
	}
	if (strcmp(type, "cache") == 0) {
		if (!target)
			return err_set(e, ERR_INPUT, "--mount=type=cache needs target=");
		char key[72];
		sha256_digest_str(id ? id : target, strlen(id ? id : target), key);
		m->src = b->cache_dir ? xasprintf_e(e, "%s/mounts/%.16s", b->cache_dir, key + 7)
					 : xasprintf_e(e, "%s/mounts/%.16s", b->workdir, key + 7);
		if (!m->src || fs_mkdir_p(m->src, 0755, e) < 0)
			return -1;
		m->dst = strdup(target);
		return m->dst ? 0 : -1;
	}
	if (strcmp(type, "tmpfs") == 0 || strcmp(type, "bind") == 0) {
		(void)src;
		return err_set(e, ERR_INPUT, "--mount=type=%s is not supported (secret and cache are)", type);
	}
	return err_set(e, ERR_INPUT, "unknown mount type \"%s\"", type);
}

/* The flags of RUN: --mount (into mounts), --network, --security. */
static int run_flags(struct build *b, const struct df_instr *in, struct sb_mount *mounts, size_t max, size_t *nm,
		     bool *net_none, struct err *e)
{
	for (size_t i = 0; i < in->n_flags; i++) {
		const char *f = in->flags[i];
		if (str_starts(f, "mount=")) {
			if (*nm == max)
				return err_set(e, ERR_INPUT, "too many --mount flags");
			int r = parse_mount(b, f + 6, &mounts[*nm], e);
			if (r < 0)
				return -1;
			if (r == 0)
				(*nm)++;
		} else if (str_starts(f, "network=")) {
			if (strcmp(f + 8, "none") == 0)
				*net_none = true;
			else if (strcmp(f + 8, "host") == 0 || strcmp(f + 8, "default") == 0)
				*net_none = b->o->network && strcmp(b->o->network, "none") == 0;
			else
				return err_set(e, ERR_INPUT, "--network=%s: expected none, host or default", f + 8);
		} else if (!str_starts(f, "security=")) {
			return err_set(e, ERR_INPUT, "unknown flag --%s", f);
		}
	}
	return 0;
}

/* The command line: the exec form as written, else the shell form through
 * SHELL (RUN <<EOF: the body is the script). *argvp and *nap always name
 * what was allocated, also on failure. */
static int run_argv(struct stage *s, const struct df_instr *in, char ***argvp, size_t *nap, struct err *e)
{
	struct buf cmdtext = BUF_INIT;
	char **argv;
	size_t na = 0;

	if (in->json) {
		argv = calloc(in->n_args + 1, sizeof(char *));
		for (size_t i = 0; argv && i < in->n_args; i++)
			argv[na++] = strdup(in->args[i]);
		*argvp = argv;
		*nap = na;
		if (!argv || na == 0)
			return err_set(e, ERR_INPUT, "empty command");
		return 0;
	}
	argv = shell_of(s, &na);
	*argvp = argv;
	*nap = na;
	char **t = realloc(argv, (na + 2) * sizeof(char *));
	if (!t)
		return err_oom(e);
	argv = t;
	*argvp = argv;
	char hdname[300];
	if (in->n_heredocs == 1 && snprintf(hdname, sizeof(hdname), "<<%s", in->heredocs[0].name) > 0 &&
	    (strcmp(in->rest, hdname) == 0 || (strncmp(in->rest, "<<-", 3) == 0 &&
					       strcmp(in->rest + 3, in->heredocs[0].name) == 0))) {
		/* RUN <<EOF: the body is the script. */
		if (buf_adds(&cmdtext, in->heredocs[0].content, e) < 0)
			goto fail;
	} else {
		if (buf_adds(&cmdtext, in->rest, e) < 0)
			goto fail;
		for (size_t h = 0; h < in->n_heredocs; h++)
			if (buf_addf(&cmdtext, e, "\n%s%s", in->heredocs[h].content, in->heredocs[h].name) < 0)
				goto fail;
	}
	argv[na++] = buf_detach(&cmdtext, NULL);
	argv[na] = NULL;
	*nap = na;
	return 0;
fail:
	buf_free(&cmdtext);
	return -1;
}

/* Cache key: the command, its environment, the user, the working directory
 * and the network. */
static int run_chain(struct stage *s, const struct df_instr *in, char **argv, size_t na, char **envp,
		     const char *user, bool net_none, struct err *e)
{
	struct buf key = BUF_INIT;
	int ret = -1;

	for (size_t i = 0; i < na; i++)
		if (buf_adds(&key, argv[i], e) < 0 || buf_add(&key, "\0", 1, e) < 0)
			goto out;
	for (size_t i = 0; envp[i]; i++)
		if (buf_adds(&key, envp[i], e) < 0 || buf_add(&key, "\0", 1, e) < 0)
			goto out;
	if (buf_addf(&key, e, "user=%s wd=%s net=%d", user, workdir_of(s), net_none) < 0)
		goto out;
	chain_step(s, in->original, key.data);
	ret = 0;
out:
	buf_free(&key);
	return ret;
}

/* The history line: "RUN ARGV..." (exec form) or "RUN SHELL COMMAND". */
static void run_created_by(const struct df_instr *in, char **argv, size_t na, char *out, size_t outsz,
			   struct err *e)
{
	if (in->json) {
		struct buf cb = BUF_INIT;
		buf_adds(&cb, "RUN ", e);
		for (size_t i = 0; i < na; i++)
			buf_addf(&cb, e, "%s%s", i ? " " : "", argv[i]);
		snprintf(out, outsz, "%s", cb.data);
		buf_free(&cb);
	} else {
		snprintf(out, outsz, "RUN %s %s", argv[0], in->original + 4);
	}
}

/* The overlay's upper, work and merged directories in a new work directory. */
static int run_overlay(struct build *b, char **ovl, char **upper, char **work, char **merged, struct err *e)
{
	*ovl = new_tmp(b, "run", e);
	if (!*ovl)
		return -1;
	*upper = xasprintf_e(e, "%s/upper", *ovl);
	*work = xasprintf_e(e, "%s/work", *ovl);
	*merged = xasprintf_e(e, "%s/merged", *ovl);
	if (!*upper || !*work || !*merged || mkdir(*upper, 0755) < 0 || mkdir(*work, 0700) < 0 ||
	    mkdir(*merged, 0755) < 0)
		return err_errno(e, ERR_INTERNAL, "overlay directories");
	return 0;
}

int do_run(struct build *b, struct stage *s, const struct df_instr *in, struct err *e)
{
	struct sb_mount mounts[16];
	size_t nm = 0;
	char **argv = NULL, **envp = NULL;
	size_t na = 0;
	char *upper = NULL, *work = NULL, *merged = NULL, *ovl = NULL;
	bool net_none = b->o->network && strcmp(b->o->network, "none") == 0;
	int ret = -1, status = 0;

	memset(mounts, 0, sizeof(mounts));
	if (run_flags(b, in, mounts, ARRAY_SIZE(mounts), &nm, &net_none, e) < 0)
		goto out;
	if (run_argv(s, in, &argv, &na, e) < 0)
		goto out;
	envp = config_env(s, true, true);
	if (!envp) {
		err_oom(e);
		goto out;
	}
	cJSON *u = cJSON_GetObjectItemCaseSensitive(cfg_obj(s), "User");
	const char *user = cJSON_IsString(u) ? u->valuestring : "";
	if (run_chain(s, in, argv, na, envp, user, net_none, e) < 0)
		goto out;
	b->step++;
	char created_by[8192];
	run_created_by(in, argv, na, created_by, sizeof(created_by), e);
	if (cache_hit(b, s, in, created_by)) {
		ret = 0;
		goto out;
	}
	log_step(b, in, b->cache_dir ? "cache miss" : NULL);
	/* The build checked emulation before it started; an ONBUILD trigger of a
	 * base can still bring a RUN it could not see. */
	if (b->multi && binfmt_check(&b->plat, e) < 0)
		goto out;
	long uid = 0, gid = 0;
	if (*user && resolve_user(b, s, user, &uid, &gid, e) < 0)
		goto out;
	if (sync_rootfs(b, s, e) < 0)
		goto out;
	if (run_overlay(b, &ovl, &upper, &work, &merged, e) < 0)
		goto out;
	struct sandbox_opts so = { .lower = s->rootfs,
				   .upper = upper,
				   .work = work,
				   .merged = merged,
				   .argv = argv,
				   .envp = envp,
				   .uid = (uid_t)uid,
				   .gid = (gid_t)gid,
				   .workdir = workdir_of(s),
				   .network_none = net_none,
				   .mounts = mounts,
				   .n_mounts = nm };
	if (sandbox_run(&so, &status, e) < 0)
		goto out;
	if (status != 0) {
		err_set(e, ERR_POLICY, "step %d/%d failed: \"%.200s\" exited with code %d", b->step, b->n_steps,
			in->rest, status);
		goto out;
	}
	if (sandbox_cleanup_upper(&so, s->rootfs, e) < 0)
		goto out;
	/* The changes become the layer; the rootfs catches up by unpacking it. */
	if (write_layer(b, s, upper, true, created_by, e) < 0)
		goto out;
	ret = 0;
out:
	if (ovl) {
		struct err e2 = ERR_INIT;
		fs_rm_rf(ovl, &e2);
	}
	free(ovl);
	free(upper);
	free(work);
	free(merged);
	for (size_t i = 0; i < nm; i++) {
		free(mounts[i].src);
		free(mounts[i].dst);
	}
	if (argv)
		for (size_t i = 0; i < na; i++)
			free(argv[i]);
	free(argv);
	strv_free0(envp);
	return ret;
}
