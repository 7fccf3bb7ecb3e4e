#include "core/fs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/util.h"

int fs_mkdir_p(const char *path, int mode, struct err *e)
{
	char *p = xstrdup_e(path, e), *s;

	if (!p)
		return -1;
	for (s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = 0;
		if (mkdir(p, (mode_t)mode) < 0 && errno != EEXIST) {
			err_errno(e, ERR_INTERNAL, "mkdir %s", p);
			free(p);
			return -1;
		}
		*s = '/';
	}
	if (mkdir(p, (mode_t)mode) < 0 && errno != EEXIST) {
		err_errno(e, ERR_INTERNAL, "mkdir %s", p);
		free(p);
		return -1;
	}
	free(p);
	return 0;
}

int fs_read_file(const char *path, struct buf *b, size_t max, struct err *e)
{
	char tmp[65536];
	struct stat st;
	ssize_t r;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return err_errno(e, errno == ENOENT ? ERR_INPUT : ERR_INTERNAL, "%s", path);
	if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
		close(fd);
		return err_set(e, ERR_INPUT, "%s: is a directory", path);
	}
	if (max && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (uint64_t)st.st_size > max) {
		close(fd);
		return err_set(e, ERR_INPUT, "%s: larger than %zu bytes", path, max);
	}
	b->max = max;
	while ((r = read(fd, tmp, sizeof(tmp))) > 0) {
		if (buf_add(b, tmp, (size_t)r, e) < 0) {
			close(fd);
			return err_prefix(e, "%s", path);
		}
	}
	if (r < 0) {
		err_errno(e, ERR_INTERNAL, "read %s", path);
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

int fs_atomic_open(struct fs_atomic *a, const char *path, struct err *e)
{
	struct stat st;
	int fd;

	memset(a, 0, sizeof(*a));
	if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
		if (S_ISDIR(st.st_mode))
			return err_set(e, ERR_USAGE, "%s: is a directory", path);
		a->direct = true;
		a->path = xstrdup_e(path, e);
		if (!a->path)
			return -1;
		fd = open(path, O_WRONLY | O_CLOEXEC | O_NOCTTY);
		if (fd < 0) {
			err_errno(e, ERR_INTERNAL, "open %s", path);
			free(a->path);
			a->path = NULL;
			return -1;
		}
		goto opened;
	}
	/* Write next to the link's target, not over the link. */
	a->path = realpath(path, NULL);
	if (!a->path)
		a->path = xstrdup_e(path, e);
	/* A hidden name beside the target: what a killed process leaves behind
	 * is never listed as content (a blob, a feed, a report) by anyone. */
	if (a->path) {
		const char *slash = strrchr(a->path, '/');
		int dl = slash ? (int)(slash - a->path + 1) : 0;

		a->tmp = xasprintf_e(e, "%.*s.%s.tmp-XXXXXX", dl, a->path, a->path + dl);
	}
	if (!a->tmp) {
		free(a->path);
		a->path = NULL;
		return -1;
	}
	fd = mkostemp(a->tmp, O_CLOEXEC);
	if (fd < 0) {
		err_errno(e, ERR_INTERNAL, "create %s", a->tmp);
		free(a->path);
		free(a->tmp);
		a->path = a->tmp = NULL;
		return -1;
	}
opened:
	a->f = fdopen(fd, "wb");
	if (!a->f) {
		close(fd);
		if (a->tmp)
			unlink(a->tmp);
		free(a->path);
		free(a->tmp);
		a->path = a->tmp = NULL;
		return err_errno(e, ERR_INTERNAL, "fdopen");
	}
	return 0;
}

int fs_atomic_commit(struct fs_atomic *a, int mode, struct err *e)
{
	int rc = 0;

	if (!a->f)
		return err_set(e, ERR_INTERNAL, "atomic file not open");
	if (a->direct) {
		if (fclose(a->f) != 0)
			rc = err_errno(e, ERR_INTERNAL, "write %s", a->path);
		a->f = NULL;
		free(a->path);
		a->path = NULL;
		return rc;
	}
	if (fflush(a->f) != 0 || fchmod(fileno(a->f), (mode_t)mode) < 0 || fsync(fileno(a->f)) < 0)
		rc = err_errno(e, ERR_INTERNAL, "write %s", a->path);
	if (fclose(a->f) != 0 && rc == 0)
		rc = err_errno(e, ERR_INTERNAL, "write %s", a->path);
	a->f = NULL;
	if (rc == 0 && rename(a->tmp, a->path) < 0)
		rc = err_errno(e, ERR_INTERNAL, "rename %s", a->path);
	if (rc < 0)
		unlink(a->tmp);
	free(a->path);
	free(a->tmp);
	a->path = a->tmp = NULL;
	return rc;
}

void fs_atomic_abort(struct fs_atomic *a)
{
	if (a->f)
		fclose(a->f);
	if (a->tmp)
		unlink(a->tmp);
	free(a->path);
	free(a->tmp);
	memset(a, 0, sizeof(*a));
}

int fs_write_atomic(const char *path, const void *p, size_t n, int mode, struct err *e)
{
	struct fs_atomic a;

	if (fs_atomic_open(&a, path, e) < 0)
		return -1;
	if (n && fwrite(p, 1, n, a.f) != n) {
		err_errno(e, ERR_INTERNAL, "write %s", path);
		fs_atomic_abort(&a);
		return -1;
	}
	return fs_atomic_commit(&a, mode, e);
}

int fs_exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

char *fs_join(const char *a, const char *b)
{
	size_t la = strlen(a);
	char *r;

	while (la > 1 && a[la - 1] == '/')
		la--;
	while (*b == '/')
		b++;
	r = malloc(la + strlen(b) + 2);
	if (!r)
		return NULL;
	memcpy(r, a, la);
	r[la] = '/';
	memcpy(r + la + 1, b, strlen(b) + 1);
	return r;
}

char *fs_mkdtemp(const char *prefix, struct err *e)
{
	const char *t = getenv("TMPDIR");
	char *p = xasprintf_e(e, "%s/%s-XXXXXX", t && *t ? t : "/tmp", prefix);

	if (!p)
		return NULL;
	if (!mkdtemp(p)) {
		err_errno(e, ERR_INTERNAL, "mkdtemp %s", p);
		free(p);
		return NULL;
	}
	return p;
}

#define TMPDIR_LOCK ".bosun-lock"

static int rm_at(int dirfd, const char *name, struct err *e);

int fs_tmpdir_lock(const char *dir, struct err *e)
{
	char *p = fs_join(dir, TMPDIR_LOCK);
	int fd;

	if (!p)
		return err_oom(e);
	fd = open(p, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) < 0) {
		err_errno(e, ERR_INTERNAL, "lock %s", p);
		if (fd >= 0)
			close(fd);
		fd = -1;
	}
	free(p);
	return fd;
}

int fs_tmpdir_sweep(const char *prefix)
{
	const char *t = getenv("TMPDIR");
	size_t pl = strlen(prefix);
	int tfd, n = 0;
	DIR *d;
	struct dirent *de;

	tfd = open(t && *t ? t : "/tmp", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (tfd < 0)
		return 0;
	d = fdopendir(tfd);
	if (!d) {
		close(tfd);
		return 0;
	}
	while ((de = readdir(d))) {
		struct stat st;
		int dfd, lfd;
		bool stale = false;

		/* PREFIX-XXXXXX exactly, as fs_mkdtemp names them */
		if (strncmp(de->d_name, prefix, pl) != 0 || de->d_name[pl] != '-' || strlen(de->d_name + pl + 1) != 6)
			continue;
		if (fstatat(tfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode) ||
		    st.st_uid != geteuid())
			continue;
		dfd = openat(tfd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (dfd < 0)
			continue;
		lfd = openat(dfd, TMPDIR_LOCK, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		if (lfd >= 0) {
			stale = flock(lfd, LOCK_EX | LOCK_NB) == 0;
			close(lfd); /* releases the lock again before the removal */
		} else if (errno == ENOENT) {
			stale = st.st_mtime < time(NULL) - 86400;
		}
		close(dfd);
		if (stale) {
			struct err e = ERR_INIT;

			if (rm_at(tfd, de->d_name, &e) == 0)
				n++;
		}
	}
	closedir(d);
	return n;
}

static int rm_at(int dirfd, const char *name, struct err *e)
{
	struct stat st;
	struct dirent *d;
	DIR *dir;
	int fd, rc = 0;

	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : err_errno(e, ERR_INTERNAL, "stat %s", name);
	if (!S_ISDIR(st.st_mode)) {
		if (unlinkat(dirfd, name, 0) < 0 && errno != ENOENT)
			return err_errno(e, ERR_INTERNAL, "unlink %s", name);
		return 0;
	}
	fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return err_errno(e, ERR_INTERNAL, "open %s", name);
	dir = fdopendir(fd);
	if (!dir) {
		close(fd);
		return err_errno(e, ERR_INTERNAL, "opendir %s", name);
	}
	while (rc == 0 && (d = readdir(dir))) {
		if (strcmp(d->d_name, ".") == 0 || strcmp(d->d_name, "..") == 0)
			continue;
		rc = rm_at(fd, d->d_name, e);
	}
	closedir(dir);
	if (rc == 0 && unlinkat(dirfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
		rc = err_errno(e, ERR_INTERNAL, "rmdir %s", name);
	return rc;
}

int fs_rm_rf(const char *path, struct err *e)
{
	return rm_at(AT_FDCWD, path, e);
}
