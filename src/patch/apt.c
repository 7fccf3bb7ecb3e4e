/* The package manager in the RUN sandbox: the sources for the run (the
 * distribution's security suite, or the mirrors given), apt's lists and
 * cache kept outside the image, apt-get's failures told apart (an archive
 * that cannot be reached is a network error), what the run leaves that is
 * not part of the fix removed from the patch layer; and dpkg's database. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "builder/sandbox.h"
#include "core/buf.h"
#include "core/fs.h"
#include "core/log.h"
#include "core/util.h"
#include "oci/layer.h"
#include "patch/internal.h"

/* ------------------------------------------------------------------ dpkg */

void dpkg_field(const char *s, const char *end, const char *key, char *out, size_t cap)
{
	size_t kl = strlen(key);

	out[0] = 0;
	for (const char *l = s; l < end;) {
		const char *nl = memchr(l, '\n', (size_t)(end - l));
		const char *le = nl ? nl : end;
		if ((size_t)(le - l) > kl && strncmp(l, key, kl) == 0 && l[kl] == ':') {
			const char *v = l + kl + 1;
			while (v < le && (*v == ' ' || *v == '\t'))
				v++;
			snprintf(out, cap, "%.*s", (int)(le - v), v);
			return;
		}
		l = le + 1;
	}
}

static int db_add(struct dpkg_db *db, const char *name, const char *ver, const char *arch, const char *file,
		  bool installed, bool has_status, struct err *e)
{
	if (db->n == db->alloc) {
		size_t na = db->alloc ? db->alloc * 2 : 256;
		struct dpkg_ent *t = realloc(db->v, na * sizeof(*t));
		if (!t)
			return err_oom(e);
		db->v = t;
		db->alloc = na;
	}
	struct dpkg_ent *d = &db->v[db->n];
	d->name = strdup(name);
	d->version = strdup(ver);
	d->arch = strdup(arch);
	d->file = file ? strdup(file) : NULL;
	d->installed = installed;
	d->has_status = has_status;
	if (!d->name || !d->version || !d->arch || (file && !d->file)) {
		free(d->name);
		free(d->version);
		free(d->arch);
		free(d->file);
		return err_oom(e);
	}
	db->n++;
	return 0;
}

/* The stanzas of one status file (status.d: file names the entry). */
static int parse_status(struct dpkg_db *db, const char *text, size_t len, const char *what, const char *file,
			struct err *e)
{
	const char *s = text, *end = text + len;
	int stanza = 0;

	while (s < end) {
		while (s < end && *s == '\n')
			s++;
		if (s >= end)
			break;
		const char *pe = s;
		while (pe < end && !(pe[0] == '\n' && pe + 1 < end && pe[1] == '\n'))
			pe++;
		char name[256], ver[256], arch[64], status[128];
		stanza++;
		dpkg_field(s, pe, "Package", name, sizeof(name));
		dpkg_field(s, pe, "Version", ver, sizeof(ver));
		dpkg_field(s, pe, "Architecture", arch, sizeof(arch));
		dpkg_field(s, pe, "Status", status, sizeof(status));
		bool inst = *status ? strstr(status, " installed") != NULL : file != NULL;
		if (!*name || (inst && !*ver))
			return err_set(e, ERR_INPUT, "%s: entry %d has no %s: the package database is damaged", what,
				       stanza, *name ? "Version" : "Package");
		if (memchr(s, 0, (size_t)(pe - s)))
			return err_set(e, ERR_INPUT, "%s: entry %d holds a NUL byte: the package database is damaged",
				       what, stanza);
		if (db_add(db, name, ver, arch, file, inst, *status != 0, e) < 0)
			return -1;
		s = pe;
	}
	return 0;
}

int patch_read_in_root(int rootfd, const char *rel, struct buf *out, struct err *e)
{
	int fd = oci_root_open(rootfd, rel, O_RDONLY, 0);
	char tmp[65536];
	ssize_t n;

	if (fd < 0)
		return err_errno(e, ERR_INPUT, "%s", rel);
	while ((n = read(fd, tmp, sizeof(tmp))) > 0)
		if (buf_add(out, tmp, (size_t)n, e) < 0) {
			close(fd);
			return -1;
		}
	close(fd);
	return n < 0 ? err_errno(e, ERR_INPUT, "read %s", rel) : 0;
}

int dpkg_db_read(struct dpkg_db *db, const char *root, bool statusd, struct err *e)
{
	int rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	int ret = -1;

	memset(db, 0, sizeof(*db));
	if (rootfd < 0)
		return err_errno(e, ERR_INTERNAL, "open %s", root);
	if (!statusd) {
		struct buf b = BUF_INIT;
		b.max = 256u << 20;
		if (patch_read_in_root(rootfd, "var/lib/dpkg/status", &b, e) == 0)
			ret = parse_status(db, b.data, b.len, "var/lib/dpkg/status", NULL, e);
		buf_free(&b);
		close(rootfd);
		return ret;
	}
	int dfd = oci_root_open(rootfd, "var/lib/dpkg/status.d", O_RDONLY | O_DIRECTORY, 0);
	DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
	struct dirent *de;
	char **names = NULL;
	size_t nn = 0;

	if (!d) {
		if (dfd >= 0)
			close(dfd);
		close(rootfd);
		return err_errno(e, ERR_INPUT, "var/lib/dpkg/status.d");
	}
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.' || str_ends(de->d_name, ".md5sums"))
			continue;
		char **t = realloc(names, (nn + 1) * sizeof(char *));
		if (!t || !(t[nn] = strdup(de->d_name))) {
			free(t ? t : names);
			names = NULL;
			nn = 0;
			err_oom(e);
			goto out;
		}
		names = t;
		nn++;
	}
	ret = 0;
	for (size_t i = 0; i < nn && ret == 0; i++) {
		struct buf b = BUF_INIT;
		char rel[600], what[700];
		snprintf(rel, sizeof(rel), "var/lib/dpkg/status.d/%s", names[i]);
		snprintf(what, sizeof(what), "%s", rel);
		ret = patch_read_in_root(rootfd, rel, &b, e);
		if (ret == 0)
			ret = parse_status(db, b.data, b.len, what, names[i], e);
		buf_free(&b);
	}
out:
	for (size_t i = 0; i < nn; i++)
		free(names[i]);
	free(names);
	closedir(d);
	close(rootfd);
	return ret;
}

const struct dpkg_ent *dpkg_db_find(const struct dpkg_db *db, const char *name)
{
	for (size_t i = 0; i < db->n; i++)
		if (strcmp(db->v[i].name, name) == 0 && db->v[i].installed)
			return &db->v[i];
	for (size_t i = 0; i < db->n; i++)
		if (strcmp(db->v[i].name, name) == 0)
			return &db->v[i];
	return NULL;
}

void dpkg_db_free(struct dpkg_db *db)
{
	for (size_t i = 0; i < db->n; i++) {
		free(db->v[i].name);
		free(db->v[i].version);
		free(db->v[i].arch);
		free(db->v[i].file);
	}
	free(db->v);
	memset(db, 0, sizeof(*db));
}

/* ------------------------------------------------------------------ sources */

bool patch_mirror_valid(const char *m)
{
	const char *u = str_starts(m, "main=") ? m + 5 : str_starts(m, "security=") ? m + 9 : m;

	if (!str_starts(u, "http://") && !str_starts(u, "https://") && !str_starts(u, "file:/"))
		return false;
	for (; *u; u++)
		if ((unsigned char)*u <= ' ' || *u == '"' || *u == '\'' || *u == '\\' || *u == '[' || *u == ']')
			return false;
	return true;
}

int apt_sources(const struct patch_image *p, const char *path, bool *hide_own, struct err *e)
{
	const struct patch_distro *d = &p->os;
	bool ubuntu = strcmp(d->id, "ubuntu") == 0;
	bool ports = ubuntu && !str_ends(p->platform, "/amd64") && !str_ends(p->platform, "/386");
	const char *sec = ubuntu ? (ports ? "http://ports.ubuntu.com/ubuntu-ports" : "http://security.ubuntu.com/ubuntu")
				 : "http://deb.debian.org/debian-security";
	const char *comps = ubuntu ? "main universe" : "main";
	const char *main_url = NULL;
	struct buf b __attribute__((cleanup(buf_cleanup))) = BUF_INIT;

	*hide_own = false;
	for (size_t i = 0; i < p->o->n_mirrors; i++) {
		const char *m = p->o->mirrors[i];
		if (str_starts(m, "main=")) {
			main_url = m + 5;
		} else {
			sec = str_starts(m, "security=") ? m + 9 : m;
		}
		if (!patch_mirror_valid(m))
			return err_set(e, ERR_USAGE, "--package-mirror %.200s: expected [security=|main=]http(s)://...", m);
	}
	/* Debian 10 named its security suite CODENAME/updates. */
	bool old = !ubuntu && atoi(d->version_id) > 0 && atoi(d->version_id) < 11;
	if (buf_addf(&b, e, "# bosun patch: for this run only\ndeb %s %s%s %s\n", sec, d->codename,
		     old ? "/updates" : "-security", comps) < 0)
		return -1;
	if (main_url) {
		*hide_own = true;
		if (buf_addf(&b, e, "deb %s %s %s\ndeb %s %s-updates %s\n", main_url, d->codename, comps, main_url,
			     d->codename, comps) < 0)
			return -1;
	}
	return fs_write_atomic(path, b.data, b.len, 0644, e);
}

/* ------------------------------------------------------------------ the run */

static void free_strv(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

static char **run_env(struct err *e)
{
	static const char *const pass[] = { "http_proxy", "https_proxy", "no_proxy", "HTTP_PROXY", "HTTPS_PROXY",
					    "NO_PROXY" };
	char **v = calloc(ARRAY_SIZE(pass) + 6, sizeof(char *));
	size_t n = 0;

	if (!v) {
		err_oom(e);
		return NULL;
	}
	v[n++] = strdup("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
	v[n++] = strdup("HOME=/root");
	v[n++] = strdup("LC_ALL=C");
	v[n++] = strdup("DEBIAN_FRONTEND=noninteractive");
	for (size_t i = 0; i < ARRAY_SIZE(pass); i++)
		if (getenv(pass[i]))
			v[n++] = xasprintf_e(e, "%s=%s", pass[i], getenv(pass[i]));
	for (size_t i = 0; i < n; i++)
		if (!v[i]) {
			for (size_t k = 0; k < n; k++)
				free(v[k]);
			free(v);
			err_oom(e);
			return NULL;
		}
	return v;
}

int apt_sandbox(const struct patch_image *p, const char *lower, const char *upper, const char *script,
		char **args, size_t n_args, const char *extra_src, const char *extra_dst, int *status,
		struct err *e)
{
	char io[4096], lists[4096], cache[4096], srcs[4096], sdir[4096], empty[4096], work[4096], merged[4096];
	struct sb_mount m[7];
	size_t nm = 0;
	bool hide;
	char **argv = NULL, **envp = NULL;
	int ret = -1;

	snprintf(io, sizeof(io), "%s/io", p->work);
	snprintf(lists, sizeof(lists), "%s/apt-lists", p->work);
	snprintf(cache, sizeof(cache), "%s/apt-cache", p->work);
	snprintf(sdir, sizeof(sdir), "%s/sources.list.d", p->work);
	snprintf(srcs, sizeof(srcs), "%s/zz-bosun-patch.list", sdir);
	snprintf(empty, sizeof(empty), "%s/empty", p->work);
	snprintf(work, sizeof(work), "%s/ovl-work", p->work);
	snprintf(merged, sizeof(merged), "%s/merged", p->work);
	const char *dirs[] = { io, lists, cache, sdir, work, merged };
	for (size_t i = 0; i < ARRAY_SIZE(dirs); i++)
		if (fs_mkdir_p(dirs[i], 0755, e) < 0)
			return -1;
	/* a new overlay work directory for every run */
	if (fs_rm_rf(work, e) < 0 || mkdir(work, 0700) < 0)
		return err_errno(e, ERR_INTERNAL, "mkdir %s", work);
	if (apt_sources(p, srcs, &hide, e) < 0 || fs_write_atomic(empty, "", 0, 0644, e) < 0)
		return -1;
	m[nm++] = (struct sb_mount){ io, (char *)"/.bosun-patch", false, false };
	m[nm++] = (struct sb_mount){ lists, (char *)"/var/lib/apt/lists", false, false };
	m[nm++] = (struct sb_mount){ cache, (char *)"/var/cache/apt", false, false };
	if (hide) {
		m[nm++] = (struct sb_mount){ sdir, (char *)"/etc/apt/sources.list.d", true, false };
		m[nm++] = (struct sb_mount){ empty, (char *)"/etc/apt/sources.list", true, true };
	} else {
		m[nm++] = (struct sb_mount){ srcs, (char *)"/etc/apt/sources.list.d/zz-bosun-patch.list", true, true };
	}
	if (extra_src)
		m[nm++] = (struct sb_mount){ (char *)extra_src, (char *)extra_dst, false, false };
	if (!(argv = calloc(n_args + 5, sizeof(char *))) || !(envp = run_env(e))) {
		if (!argv)
			err_oom(e);
		goto out;
	}
	argv[0] = (char *)"/bin/sh";
	argv[1] = (char *)"-c";
	argv[2] = (char *)script;
	argv[3] = (char *)"bosun-patch";
	for (size_t i = 0; i < n_args; i++)
		argv[4 + i] = args[i];
	struct sandbox_opts so = { .lower = lower,
				   .upper = upper,
				   .work = work,
				   .merged = merged,
				   .argv = argv,
				   .envp = envp,
				   .uid = 0,
				   .gid = 0,
				   .workdir = "/",
				   .network_none = false,
				   .mounts = m,
				   .n_mounts = nm };
	if (sandbox_run(&so, status, e) < 0)
		goto out;
	ret = sandbox_cleanup_upper(&so, lower, e);
out:
	free(argv);
	free_strv(envp);
	return ret;
}

/* The last lines of a log that say what went wrong ("E: ...", "W: ..."). */
static void log_reason(const char *log, char *out, size_t cap)
{
	const char *best = NULL, *any = NULL;

	out[0] = 0;
	for (const char *l = log; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		if (str_starts(l, "E: ") || (str_starts(l, "W: ") && !best))
			best = l;
		if (*l != '\n')
			any = l;
	}
	const char *l = best ? best : any;
	if (l)
		snprintf(out, cap, "%.*s", (int)(strchr(l, '\n') ? strchr(l, '\n') - l : (long)strlen(l)), l);
}

int apt_failure(const struct patch_image *p, const char *step, struct err *e)
{
	struct buf b __attribute__((cleanup(buf_cleanup))) = BUF_INIT;
	char path[4096], why[512];

	snprintf(path, sizeof(path), "%s/io/%s.log", p->work, step);
	if (fs_read_file(path, &b, 16u << 20, e) < 0 || buf_add(&b, "", 1, e) < 0)
		return err_set(e, ERR_INPUT, "apt-get %s failed and left no log", step);
	log_reason(b.data, why, sizeof(why));
	log_debug("patch: apt-get %s log:\n%s", step, b.data);
	bool net = strstr(b.data, "Failed to fetch") || strstr(b.data, "Could not connect") ||
		   strstr(b.data, "Temporary failure resolving") || strstr(b.data, "Could not resolve") ||
		   strstr(b.data, "Connection failed") || strstr(b.data, "Unable to connect") ||
		   strstr(b.data, "Some index files failed to download");
	return err_set(e, net ? ERR_NETWORK : ERR_INPUT, "apt-get %s failed%s: %s", step,
		       net ? " (a package archive could not be reached)" : "", *why ? why : "(no message)");
}

/* update, then the upgrade; auto-installed marks kept; 10: update failed,
 * 11: the upgrade failed. "$1" is the mode (all / only), then names. */
static const char apt_script[] =
    "io=/.bosun-patch\n"
    "mode=$1; shift\n"
    "t() { echo \"$1 $(date +%s.%N)\" >>$io/times; }\n"
    "t start\n"
    "apt-get -q -o APT::Update::Error-Mode=any -o Acquire::Languages=none update >$io/update.log 2>&1 || exit 10\n"
    "grep -Eq '^(W|E): (Failed to fetch|Some index files failed)' $io/update.log && exit 10\n"
    "t update\n"
    "auto=$(apt-mark showauto 2>/dev/null)\n"
    "t showauto\n"
    "o='-q -y --no-install-recommends -o Dpkg::Options::=--force-confold -o Dpkg::Options::=--force-confdef'\n"
    "if [ \"$mode\" = all ]; then apt-get $o upgrade >$io/install.log 2>&1 || exit 11\n"
    "else apt-get $o --only-upgrade install \"$@\" >$io/install.log 2>&1 || exit 11; fi\n"
    "t install\n"
    "[ -z \"$auto\" ] || apt-mark auto $auto >/dev/null 2>&1\n"
    "t mark\n"
    "apt-get -q clean >/dev/null 2>&1\n"
    "t clean\n"
    "exit 0\n";

/* The script's step times (io/times: "step seconds.nanos" lines) as one log line. */
static void log_times(const struct patch_image *p)
{
	char path[4096], line[128], name[32], out[512] = "";
	double prev = -1, t;
	size_t o = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/io/times", p->work);
	if (!(f = fopen(path, "re")))
		return;
	while (fgets(line, sizeof(line), f) && o < sizeof(out) - 64)
		if (sscanf(line, "%31s %lf", name, &t) == 2) {
			if (prev >= 0)
				o += (size_t)snprintf(out + o, sizeof(out) - o, "%s%s %.1f s", o ? ", " : "", name, t - prev);
			prev = t;
		}
	fclose(f);
	unlink(path);
	if (o)
		log_debug("patch: %s", out);
}

int apt_upgrade(struct patch_image *p, const struct patch_wants *w, const char *upper, struct err *e)
{
	char **args = calloc(w->n + 2, sizeof(char *));
	int status = 0, ret = -1;
	size_t na = 0;

	if (!args)
		return err_oom(e);
	args[na++] = (char *)(p->o->all ? "all" : "only");
	for (size_t i = 0; i < w->n; i++)
		args[na++] = w->v[i].name;
	if (p->o->all)
		log_info("patch: apt-get upgrade of every package with a newer version");
	else
		log_info("patch: apt-get install --only-upgrade of %zu package%s", w->n, w->n == 1 ? "" : "s");
	double t0 = time_now();
	if (apt_sandbox(p, p->root, upper, apt_script, args, na, NULL, NULL, &status, e) < 0)
		goto out;
	log_times(p);
	log_debug("patch: the sandbox run took %.1f s", time_now() - t0);
	if (status == 10) {
		apt_failure(p, "update", e);
		goto out;
	}
	if (status == 11) {
		apt_failure(p, "install", e);
		goto out;
	}
	if (status != 0) {
		err_set(e, ERR_INPUT, "the package manager's run ended with code %d", status);
		goto out;
	}
	ret = apt_tidy_upper(upper, p->root, e);
out:
	free(args);
	return ret;
}

/* ------------------------------------------------------------------ tidy */

/* What a run writes besides the fix: logs, caches, backup copies. Removed
 * from the patch layer (the lower file, if any, shows through). */
static const char *const volatile_paths[] = {
	"var/log/dpkg.log",		"var/log/alternatives.log",	  "var/log/apt/history.log",
	"var/log/apt/term.log",		"var/log/apt/eipp.log.xz",	  "var/cache/debconf/config.dat-old",
	"var/cache/debconf/templates.dat-old", "var/cache/debconf/passwords.dat-old", "var/lib/dpkg/status-old",
	"var/lib/dpkg/diversions-old",	"var/lib/dpkg/statoverride-old", "var/lib/dpkg/lock",
	"var/lib/dpkg/lock-frontend",	"var/lib/dpkg/triggers/Lock",	  "var/cache/ldconfig/aux-cache",
	"var/lib/apt/extended_states.save",
};

/* Remove rel from upper when it is not a whiteout and, for a directory
 * that the run only touched, when it is empty and the lower has it. */
static int drop(int upfd, const char *rel, struct err *e)
{
	struct stat st;

	if (fstatat(upfd, rel, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return 0;
	if (S_ISCHR(st.st_mode) && st.st_rdev == 0)
		return 0; /* a whiteout: the run deleted it */
	return oci_rm_at(upfd, rel, e);
}

/* Directories of upper that hold nothing and exist in lower with the same
 * mode and owner: only their times changed. Depth first. */
static int prune(int upfd, int lowfd, const char *rel, struct err *e)
{
	int dfd = openat(upfd, *rel ? rel : ".", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
	struct dirent *de;
	char sub[4096];
	int ret = 0;

	if (!d) {
		if (dfd >= 0)
			close(dfd);
		return 0;
	}
	while ((de = readdir(d)) && ret == 0) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0 || de->d_type != DT_DIR)
			continue;
		snprintf(sub, sizeof(sub), "%s%s%s", rel, *rel ? "/" : "", de->d_name);
		ret = prune(upfd, lowfd, sub, e);
	}
	closedir(d);
	if (ret < 0 || !*rel)
		return ret;
	struct stat su, sl;
	char x[8];
	if (fstatat(upfd, rel, &su, AT_SYMLINK_NOFOLLOW) < 0 || fstatat(lowfd, rel, &sl, AT_SYMLINK_NOFOLLOW) < 0 ||
	    !S_ISDIR(sl.st_mode) || su.st_mode != sl.st_mode || su.st_uid != sl.st_uid || su.st_gid != sl.st_gid)
		return 0;
	char full[4096];
	snprintf(full, sizeof(full), "/proc/self/fd/%d/%s", upfd, rel);
	if (lgetxattr(full, "trusted.overlay.opaque", x, sizeof(x)) > 0 ||
	    lgetxattr(full, "user.overlay.opaque", x, sizeof(x)) > 0)
		return 0;
	if (unlinkat(upfd, rel, AT_REMOVEDIR) < 0 && errno != ENOTEMPTY && errno != EEXIST)
		return err_errno(e, ERR_INTERNAL, "rmdir %s", rel);
	return 0;
}

int apt_tidy_upper(const char *upper, const char *lower, struct err *e)
{
	int upfd = open(upper, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int lowfd = open(lower, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int ret = 0;

	if (upfd < 0 || lowfd < 0) {
		ret = err_errno(e, ERR_INTERNAL, "open %s", upfd < 0 ? upper : lower);
		goto out;
	}
	for (size_t i = 0; i < ARRAY_SIZE(volatile_paths) && ret == 0; i++)
		ret = drop(upfd, volatile_paths[i], e);
	if (ret == 0)
		ret = prune(upfd, lowfd, "", e);
out:
	if (upfd >= 0)
		close(upfd);
	if (lowfd >= 0)
		close(lowfd);
	return ret;
}
