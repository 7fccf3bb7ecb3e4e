#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "builder/sandbox.h"
#include "core/util.h"
#include "oci/layer.h"

extern char **environ;

/* Mount points the sandbox needs inside the root, besides user mounts. */
static const char *const fixed_points[] = { "proc", "dev", "etc/resolv.conf", "etc/hosts" };

/* The children report why they could not start the command through a
 * close-on-exec pipe (as crun does): one message "CODE MESSAGE" written
 * before _exit; a successful exec closes the pipe with nothing written, so
 * the parent tells the command's own exit status from a sandbox failure. */
static int report_fd = -1;

static void fail_code(int code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3), noreturn));
static void fail_code(int code, const char *fmt, ...)
{
	char m[1024];
	int n = snprintf(m, sizeof(m), "%d ", code);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(m + n, sizeof(m) - (size_t)n, fmt, ap);
	va_end(ap);
	if (report_fd >= 0 && write(report_fd, m, strlen(m)) < 0)
		_exit(125);
	_exit(125);
}

static void die(const char *what)
{
	fail_code(ERR_INTERNAL, "sandbox: %s: %s", what, strerror(errno));
}

static void write_file(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);

	if (fd < 0 || write(fd, s, strlen(s)) != (ssize_t)strlen(s))
		die(path);
	close(fd);
}

/* Create path (file or dir) under merged if missing. */
static void make_point(const char *merged, const char *rel, bool is_file)
{
	char p[4096];
	struct err e = ERR_INIT;
	int rootfd = open(merged, O_PATH | O_DIRECTORY | O_CLOEXEC);
	char dir[4096];
	const char *sl = strrchr(rel, '/');

	if (rootfd < 0)
		die("open merged root");
	if (!is_file) {
		int fd = oci_root_mkdir_p(rootfd, rel, 0755, &e);
		if (fd < 0)
			fail_code(ERR_INTERNAL, "sandbox: %s", e.msg);
		close(fd);
	} else {
		snprintf(dir, sizeof(dir), "%.*s", sl ? (int)(sl - rel) : 1, sl ? rel : ".");
		int dfd = oci_root_mkdir_p(rootfd, dir, 0755, &e);
		if (dfd < 0)
			fail_code(ERR_INTERNAL, "sandbox: %s", e.msg);
		close(dfd);
		/* An existing file is left alone: opening it for writing would
		 * copy it up into the layer. */
		int fd = oci_root_open(rootfd, rel, O_PATH, 0);
		if (fd < 0)
			fd = oci_root_open(rootfd, rel, O_WRONLY | O_CREAT, 0644);
		if (fd < 0 && errno != EISDIR)
			die(rel);
		if (fd >= 0)
			close(fd);
	}
	close(rootfd);
	(void)p;
}

/* Bind src onto merged/rel, resolved inside merged so a symlink in the
 * image cannot redirect the mount to the host. */
static void bind_in(const char *merged, const char *src, const char *rel, bool ro, bool is_file)
{
	char target[64];
	int rootfd, fd;

	make_point(merged, rel, is_file);
	rootfd = open(merged, O_PATH | O_DIRECTORY | O_CLOEXEC);
	fd = oci_root_open(rootfd, rel, O_PATH, 0);
	if (fd < 0)
		die(rel);
	char real[4096];
	snprintf(target, sizeof(target), "/proc/self/fd/%d", fd);
	ssize_t rl = readlink(target, real, sizeof(real) - 1);
	if (rl < 0)
		die(rel);
	real[rl] = 0;
	memcpy(target, "", 1);
	if (mount(src, real, NULL, MS_BIND | MS_REC, NULL) < 0)
		die(src);
	if (ro && mount(NULL, real, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY, NULL) < 0)
		die("remount read-only");
	close(fd);
	close(rootfd);
}

static void setup_dev(const char *merged)
{
	static const char *const nodes[] = { "null", "zero", "full", "random", "urandom", "tty" };
	char p[4096];

	make_point(merged, "dev", false);
	snprintf(p, sizeof(p), "%s/dev", merged);
	if (mount("tmpfs", p, "tmpfs", MS_NOSUID | MS_NOEXEC, "mode=755,size=65536k") < 0)
		die("mount /dev");
	for (size_t i = 0; i < ARRAY_SIZE(nodes); i++) {
		char src[64];
		snprintf(src, sizeof(src), "/dev/%s", nodes[i]);
		snprintf(p, sizeof(p), "%s/dev/%s", merged, nodes[i]);
		int fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0666);
		if (fd >= 0)
			close(fd);
		if (mount(src, p, NULL, MS_BIND, NULL) < 0 && strcmp(nodes[i], "tty") != 0)
			die(src);
	}
	snprintf(p, sizeof(p), "%s/dev/fd", merged);
	if (symlink("/proc/self/fd", p) < 0)
		die("dev/fd");
	static const char *const std[] = { "stdin", "stdout", "stderr" };
	for (int i = 0; i < 3; i++) {
		char t[32];
		snprintf(t, sizeof(t), "/proc/self/fd/%d", i);
		snprintf(p, sizeof(p), "%s/dev/%s", merged, std[i]);
		if (symlink(t, p) < 0)
			die("dev links");
	}
	snprintf(p, sizeof(p), "%s/dev/shm", merged);
	if (mkdir(p, 01777) < 0 || mount("shm", p, "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777") < 0)
		die("dev/shm");
	snprintf(p, sizeof(p), "%s/dev/pts", merged);
	if (mkdir(p, 0755) < 0)
		die("dev/pts");
}

/* What the image lacks (no shell, no such command, not executable) is bad
 * input, worded as Docker words it: "exec: /bin/sh: no such file or directory". */
static void exec_failed(const char *cmd, int err) __attribute__((noreturn));
static void exec_failed(const char *cmd, int err)
{
	char reason[128];
	bool image = err == ENOENT || err == EACCES || err == ENOEXEC || err == ENOTDIR ||
		     err == ELOOP || err == EISDIR || err == ENAMETOOLONG;

	snprintf(reason, sizeof(reason), "%s", strerror(err));
	reason[0] = (char)tolower((unsigned char)reason[0]);
	fail_code(image ? ERR_INPUT : ERR_INTERNAL, "exec: %s: %s", cmd, reason);
}

static void child_main(const struct sandbox_opts *o, bool userns)
{
	char opts[8192];

	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		die("make mounts private");
	/* No redirects or metacopy: every change must be a plain file in upper.
	 * In a user namespace the kernel only accepts redirect_dir=nofollow
	 * (redirects neither created nor followed). */
	snprintf(opts, sizeof(opts), "lowerdir=%s,upperdir=%s,workdir=%s,index=off,metacopy=off,volatile,%s", o->lower,
		 o->upper, o->work, userns ? "userxattr,redirect_dir=nofollow" : "redirect_dir=off");
	if (mount("overlay", o->merged, "overlay", 0, opts) < 0)
		die("mount overlay");
	make_point(o->merged, "proc", false);
	char p[4096];
	snprintf(p, sizeof(p), "%s/proc", o->merged);
	if (mount("proc", p, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
		die("mount /proc");
	setup_dev(o->merged);
	if (!o->network_none) {
		if (access("/etc/resolv.conf", R_OK) == 0)
			bind_in(o->merged, "/etc/resolv.conf", "etc/resolv.conf", true, true);
		if (access("/etc/hosts", R_OK) == 0)
			bind_in(o->merged, "/etc/hosts", "etc/hosts", true, true);
	}
	for (size_t i = 0; i < o->n_mounts; i++)
		bind_in(o->merged, o->mounts[i].src, o->mounts[i].dst + (o->mounts[i].dst[0] == '/'),
			o->mounts[i].readonly, o->mounts[i].is_file);
	sethostname("bosun", 5);
	if (chdir(o->merged) < 0)
		die("chdir root");
	if (syscall(SYS_pivot_root, ".", ".") < 0)
		die("pivot_root");
	if (umount2(".", MNT_DETACH) < 0)
		die("detach old root");
	if (chdir("/") < 0)
		die("chdir /");
	if (o->workdir && *o->workdir) {
		struct err e = ERR_INIT;
		int rfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
		int fd = oci_root_mkdir_p(rfd, o->workdir, 0755, &e);
		if (fd < 0 || fchdir(fd) < 0)
			fail_code(ERR_INPUT, "workdir %s: %s", o->workdir,
				  e.msg[0] ? e.msg : strerror(errno));
		close(fd);
		close(rfd);
	}
	if (!userns)
		setgroups(0, NULL);
	if (setgid(o->gid) < 0)
		die("setgid");
	if (setuid(o->uid) < 0)
		die("setuid");
	int nul = open("/dev/null", O_RDONLY);
	if (nul >= 0) {
		dup2(nul, 0);
		close(nul);
	}
	dup2(2, 1); /* command output goes to the build log */
	environ = o->envp;
	execvp(o->argv[0], o->argv);
	exec_failed(o->argv[0], errno);
}

static int wait_status(pid_t pid)
{
	int st;

	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return 125;
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	if (WIFSIGNALED(st))
		return 128 + WTERMSIG(st);
	return 125;
}

/* Reads the children's report until every write end is closed (exec or
 * exit). Returns the error code sent (e filled), or 0 when nothing was sent. */
static int read_report(int fd, struct err *e)
{
	char m[1100], *msg;
	size_t len = 0;
	ssize_t n;
	long code;

	while (len < sizeof(m) - 1 && (n = read(fd, m + len, sizeof(m) - 1 - len)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err_errno(e, ERR_INTERNAL, "sandbox: read the start report");
			return ERR_INTERNAL;
		}
		len += (size_t)n;
	}
	if (len == 0)
		return 0;
	m[len] = 0;
	code = strtol(m, &msg, 10);
	if (msg == m || *msg != ' ' || (code != ERR_INPUT && code != ERR_INTERNAL)) {
		code = ERR_INTERNAL;
		msg = m;
	} else {
		msg++;
	}
	err_set(e, (int)code, "%s", msg);
	return (int)code;
}

int sandbox_run(const struct sandbox_opts *o, int *status, struct err *e)
{
	bool userns = geteuid() != 0;
	uid_t uid = geteuid();
	gid_t gid = getegid();
	pid_t pid;
	int rep[2], code;

	if (pipe2(rep, O_CLOEXEC) < 0)
		return err_errno(e, ERR_INTERNAL, "sandbox: pipe");
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		close(rep[0]);
		close(rep[1]);
		return err_errno(e, ERR_INTERNAL, "fork");
	}
	if (pid == 0) {
		close(rep[0]);
		report_fd = rep[1];
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (userns) {
			char map[64];
			if (unshare(CLONE_NEWUSER) < 0)
				die("unshare user namespace (unprivileged user namespaces disabled?)");
			write_file("/proc/self/setgroups", "deny");
			snprintf(map, sizeof(map), "0 %u 1\n", (unsigned)uid);
			write_file("/proc/self/uid_map", map);
			snprintf(map, sizeof(map), "0 %u 1\n", (unsigned)gid);
			write_file("/proc/self/gid_map", map);
		}
		int flags = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC;
		if (o->network_none)
			flags |= CLONE_NEWNET;
		if (unshare(flags) < 0)
			die("unshare namespaces");
		pid_t gc = fork();
		if (gc < 0)
			die("fork");
		if (gc == 0) {
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			child_main(o, userns);
		}
		close(rep[1]); /* the grandchild's copy is the one that reports now */
		_exit(wait_status(gc));
	}
	close(rep[1]);
	code = read_report(rep[0], e);
	close(rep[0]);
	*status = wait_status(pid);
	return code ? -1 : 0;
}

static int cleanup_point(int upfd, int lowfd, const char *rel, struct err *e)
{
	char path[4096];
	struct stat st;

	/* Remove the deepest missing-in-lower component chain, leaf first. */
	snprintf(path, sizeof(path), "%s", rel);
	for (;;) {
		if (fstatat(lowfd, path, &st, AT_SYMLINK_NOFOLLOW) == 0)
			return 0; /* it was there before: keep what the command did */
		if (fstatat(upfd, path, &st, AT_SYMLINK_NOFOLLOW) == 0) {
			if (S_ISDIR(st.st_mode)) {
				if (unlinkat(upfd, path, AT_REMOVEDIR) < 0 && errno != ENOTEMPTY && errno != EEXIST)
					return err_errno(e, ERR_INTERNAL, "remove mount point %s", path);
			} else if (st.st_size == 0 && unlinkat(upfd, path, 0) < 0) {
				return err_errno(e, ERR_INTERNAL, "remove mount point %s", path);
			}
		}
		char *sl = strrchr(path, '/');
		if (!sl)
			return 0;
		*sl = 0;
	}
}

int sandbox_cleanup_upper(const struct sandbox_opts *o, const char *lower, struct err *e)
{
	int upfd = open(o->upper, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int lowfd = open(lower, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int ret = 0;

	if (upfd < 0 || lowfd < 0) {
		ret = err_errno(e, ERR_INTERNAL, "open %s", upfd < 0 ? o->upper : lower);
		goto out;
	}
	for (size_t i = 0; i < o->n_mounts && ret == 0; i++)
		ret = cleanup_point(upfd, lowfd, o->mounts[i].dst + (o->mounts[i].dst[0] == '/'), e);
	for (size_t i = 0; i < ARRAY_SIZE(fixed_points) && ret == 0; i++)
		ret = cleanup_point(upfd, lowfd, fixed_points[i], e);
out:
	if (upfd >= 0)
		close(upfd);
	if (lowfd >= 0)
		close(lowfd);
	return ret;
}
