#include <limits.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "core/util.h"
#include "oci/layer.h"
#include "oci/tar.h"

int oci_root_open(int rootfd, const char *path, int flags, int mode)
{
	struct open_how how;

	memset(&how, 0, sizeof(how));
	how.flags = (unsigned long long)(flags | O_CLOEXEC);
	how.mode = (flags & O_CREAT) ? (unsigned long long)mode : 0;
	how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
	while (*path == '/')
		path++;
	if (!*path)
		path = ".";
	return (int)syscall(SYS_openat2, rootfd, path, &how, sizeof(how));
}

static int mkdir_p_depth(int rootfd, const char *path, int mode, int depth, struct err *e);

int oci_root_mkdir_p(int rootfd, const char *path, int mode, struct err *e)
{
	return mkdir_p_depth(rootfd, path, mode, 0, e);
}

static int mkdir_p_depth(int rootfd, const char *path, int mode, int depth, struct err *e)
{
	char prefix[PATH_MAX];
	size_t pl = 0;
	int cur = oci_root_open(rootfd, path, O_PATH | O_DIRECTORY, 0);

	if (cur >= 0)
		return cur;
	if (errno != ENOENT)
		return err_errno(e, ERR_INPUT, "%s", path);
	/* Walk the components, creating what is missing inside the root. */
	cur = oci_root_open(rootfd, ".", O_PATH | O_DIRECTORY, 0);
	if (cur < 0)
		return err_errno(e, ERR_INTERNAL, "open root");
	for (const char *s = path; *s;) {
		while (*s == '/')
			s++;
		size_t l = strcspn(s, "/");
		if (l == 0)
			break;
		if (pl + l + 2 > sizeof(prefix)) {
			close(cur);
			return err_set(e, ERR_INPUT, "path too long: %.100s", path);
		}
		if (pl)
			prefix[pl++] = '/';
		memcpy(prefix + pl, s, l);
		pl += l;
		prefix[pl] = 0;
		char comp[NAME_MAX + 1];
		snprintf(comp, sizeof(comp), "%.*s", (int)l, s);
		s += l;
		int nfd = oci_root_open(rootfd, prefix, O_PATH | O_DIRECTORY, 0);
		if (nfd < 0 && errno == ENOENT && strcmp(comp, "..") != 0) {
			if (mkdirat(cur, comp, (mode_t)mode) < 0 && errno != EEXIST) {
				err_errno(e, ERR_INPUT, "mkdir %s", prefix);
				close(cur);
				return -1;
			}
			nfd = oci_root_open(rootfd, prefix, O_PATH | O_DIRECTORY, 0);
			char target[PATH_MAX];
			ssize_t tl;
			if (nfd < 0 && errno == ENOENT && depth < 16 &&
			    (tl = readlinkat(cur, comp, target, sizeof(target) - 1)) > 0) {
				/* A dangling symlink: create its target, inside the root. */
				char tp[PATH_MAX * 2];
				target[tl] = 0;
				if (target[0] == '/')
					snprintf(tp, sizeof(tp), "%s", target);
				else
					snprintf(tp, sizeof(tp), "%.*s/%s", (int)(pl - l), prefix,
						 target);
				int t = mkdir_p_depth(rootfd, tp, mode, depth + 1, e);
				if (t < 0) {
					close(cur);
					return -1;
				}
				close(t);
				nfd = oci_root_open(rootfd, prefix, O_PATH | O_DIRECTORY, 0);
			}
		}
		close(cur);
		if (nfd < 0)
			return err_errno(e, ERR_INPUT, "%s", prefix);
		cur = nfd;
	}
	return cur;
}

struct pset;
static bool pset_has(const struct pset *p, const char *s);

/* Remove what directory dfd (closed here) holds; with ps, what is in dir
 * (its path in the root) and not named in ps. */
static int rm_children(int dfd, const char *dir, const struct pset *ps, struct err *e)
{
	DIR *d = fdopendir(dfd);
	struct dirent *de;
	int ret = 0;

	if (!d) {
		close(dfd);
		if (ps)
			return err_errno(e, ERR_INTERNAL, "opendir %s", dir);
		return err_errno(e, ERR_INTERNAL, "opendir");
	}
	while ((de = readdir(d))) {
		char p[PATH_MAX];
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (ps) {
			snprintf(p, sizeof(p), "%s%s%s", strcmp(dir, ".") ? dir : "",
				 strcmp(dir, ".") ? "/" : "", de->d_name);
			if (pset_has(ps, p))
				continue;
		}
		if (oci_rm_at(dirfd(d), de->d_name, e) < 0) {
			ret = -1;
			break;
		}
	}
	closedir(d);
	return ret;
}

int oci_rm_at(int dirfd_, const char *name, struct err *e)
{
	struct stat st;

	if (fstatat(dirfd_, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : err_errno(e, ERR_INTERNAL, "stat %s", name);
	if (S_ISDIR(st.st_mode)) {
		int fd = openat(dirfd_, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			return err_errno(e, ERR_INTERNAL, "open %s", name);
		if (rm_children(fd, NULL, NULL, e) < 0)
			return -1;
		if (unlinkat(dirfd_, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
			return err_errno(e, ERR_INTERNAL, "rmdir %s", name);
		return 0;
	}
	if (unlinkat(dirfd_, name, 0) < 0 && errno != ENOENT)
		return err_errno(e, ERR_INTERNAL, "unlink %s", name);
	return 0;
}

/* Paths written by the current layer, so an opaque marker only hides
 * what lower layers left (it applies before same-layer siblings). */
struct pset {
	char **v;
	size_t cap, n;
};

static uint64_t fnv(const char *s)
{
	uint64_t h = 1469598103934665603ull;
	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211ull;
	return h;
}

static int pset_add(struct pset *p, const char *s, struct err *e)
{
	if ((p->n + 1) * 2 > p->cap) {
		size_t nc = p->cap ? p->cap * 2 : 256;
		char **nv = calloc(nc, sizeof(char *));
		if (!nv)
			return err_oom(e);
		for (size_t i = 0; i < p->cap; i++) {
			if (!p->v[i])
				continue;
			size_t j = fnv(p->v[i]) & (nc - 1);
			while (nv[j])
				j = (j + 1) & (nc - 1);
			nv[j] = p->v[i];
		}
		free(p->v);
		p->v = nv;
		p->cap = nc;
	}
	size_t j = fnv(s) & (p->cap - 1);
	while (p->v[j]) {
		if (strcmp(p->v[j], s) == 0)
			return 0;
		j = (j + 1) & (p->cap - 1);
	}
	p->v[j] = xstrdup_e(s, e);
	if (!p->v[j])
		return -1;
	p->n++;
	return 0;
}

static bool pset_has(const struct pset *p, const char *s)
{
	if (!p->cap)
		return false;
	size_t j = fnv(s) & (p->cap - 1);
	while (p->v[j]) {
		if (strcmp(p->v[j], s) == 0)
			return true;
		j = (j + 1) & (p->cap - 1);
	}
	return false;
}

static void pset_free(struct pset *p)
{
	for (size_t i = 0; i < p->cap; i++)
		free(p->v[i]);
	free(p->v);
}

/* Normalise a member name: drop leading '/' and "./", "." components and
 * trailing '/'. ".." anywhere is refused. */
static int clean_name(const char *in, char *out, size_t outsz, struct err *e)
{
	size_t o = 0;
	const char *s = in;

	while (*s) {
		while (*s == '/')
			s++;
		if (!*s)
			break;
		size_t l = strcspn(s, "/");
		if (l == 1 && s[0] == '.') {
			s += l;
			continue;
		}
		if (l == 2 && s[0] == '.' && s[1] == '.')
			return err_set(e, ERR_INPUT, "member \"%.200s\" escapes the root (\"..\")",
				       in);
		if (l > NAME_MAX) /* bad input, not an internal error from openat */
			return err_set(e, ERR_INPUT,
				       "member \"%.200s\": a name component is over %d bytes", in,
				       NAME_MAX);
		if (!path_append(out, &o, outsz, s, l))
			return err_set(e, ERR_INPUT, "member name too long");
		s += l;
	}
	out[o] = 0;
	return 0;
}

static void split_parent(char *path, const char **parent, const char **base)
{
	char *sl = strrchr(path, '/');

	if (sl) {
		*sl = 0;
		*parent = path;
		*base = sl + 1;
	} else {
		*parent = ".";
		*base = path;
	}
}

static int opaque_dir(int rootfd, const char *dir, const struct pset *ps, struct err *e)
{
	int fd = oci_root_open(rootfd, dir, O_RDONLY | O_DIRECTORY, 0);

	if (fd < 0)
		return errno == ENOENT ? 0 : err_errno(e, ERR_INPUT, "opaque directory %s", dir);
	return rm_children(fd, dir, ps, e);
}

static int write_data(struct tar_reader *tr, int fd, const char *name, struct err *e)
{
	static __thread char buf[1 << 17];
	ssize_t r;

	while ((r = tar_read_data(tr, buf, sizeof(buf), e)) > 0) {
		const char *p = buf;
		size_t sz = (size_t)r;
		while (sz > 0) {
			ssize_t n = write(fd, p, sz);
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0)
				return err_errno(e, ERR_INTERNAL, "write %s", name);
			p += n;
			sz -= (size_t)n;
		}
	}
	return r < 0 ? err_prefix(e, "read %s", name) : 0;
}

static mode_t unpack_mode(const struct tar_entry *ae)
{
	mode_t t;

	switch (ae->type) {
	case TAR_DIR:
		t = S_IFDIR;
		break;
	case TAR_SYMLINK:
		t = S_IFLNK;
		break;
	case TAR_CHR:
		t = S_IFCHR;
		break;
	case TAR_BLK:
		t = S_IFBLK;
		break;
	case TAR_FIFO:
		t = S_IFIFO;
		break;
	default:
		t = S_IFREG;
		break;
	}
	return t | (ae->mode & 07777);
}

static int apply_entry(struct tar_reader *tr, const struct tar_entry *ae, int rootfd,
		       const struct unpack_opts *o, struct pset *ps, struct err *e)
{
	char name[PATH_MAX], lname[PATH_MAX];
	const char *parent, *base;
	int pfd = -1, fd = -1, ret = -1;
	mode_t mode = unpack_mode(ae);
	const char *hl = ae->type == TAR_LINK ? ae->linkname : NULL;

	if (clean_name(ae->path, name, sizeof(name), e) < 0)
		return -1;
	if (!*name)
		return 0; /* the root itself keeps its own metadata */
	char full[PATH_MAX];
	memcpy(full, name, strlen(name) + 1);
	split_parent(name, &parent, &base);

	if (strcmp(base, ".wh..wh..opq") == 0)
		return opaque_dir(rootfd, parent, ps, e);
	if (str_starts(base, ".wh.")) {
		/* ".wh..." would delete through ".." (the parent of the root
		 * for a top-level entry), ".wh.." the directory itself. */
		if (!base[4] || strcmp(base + 4, ".") == 0 || strcmp(base + 4, "..") == 0)
			return err_set(e, ERR_INPUT, "member \"%.200s\": whiteout of \"%s\"", full,
				       base + 4);
		pfd = oci_root_open(rootfd, parent, O_RDONLY | O_DIRECTORY, 0);
		if (pfd < 0)
			return 0; /* nothing to delete */
		ret = oci_rm_at(pfd, base + 4, e);
		close(pfd);
		return ret;
	}
	if (pset_add(ps, full, e) < 0)
		return -1;
	pfd = oci_root_mkdir_p(rootfd, parent, 0755, e);
	if (pfd < 0)
		return -1;
	/* O_PATH fds cannot be used with mkdirat & co on all kernels: reopen. */
	int dfd = openat(pfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	close(pfd);
	pfd = dfd;
	if (pfd < 0)
		return err_errno(e, ERR_INTERNAL, "open %s", parent);

	struct stat st;
	bool exists = fstatat(pfd, base, &st, AT_SYMLINK_NOFOLLOW) == 0;
	if (exists && !(S_ISDIR(st.st_mode) && S_ISDIR(mode) && !hl)) {
		if (oci_rm_at(pfd, base, e) < 0)
			goto out;
		exists = false;
	}
	if (hl) {
		const char *tp, *tb;
		if (clean_name(hl, lname, sizeof(lname), e) < 0)
			goto out;
		split_parent(lname, &tp, &tb);
		int tfd = oci_root_open(rootfd, tp, O_PATH | O_DIRECTORY, 0);
		if (tfd < 0) {
			err_errno(e, ERR_INPUT, "hardlink %s -> %s", full, hl);
			goto out;
		}
		int r = linkat(tfd, tb, pfd, base, 0);
		close(tfd);
		if (r < 0) {
			err_errno(e, ERR_INPUT, "hardlink %s -> %s", full, hl);
			goto out;
		}
		ret = 0;
		goto out;
	}
	switch (mode & S_IFMT) {
	case S_IFDIR:
		if (!exists && mkdirat(pfd, base, 0700) < 0) {
			err_errno(e, ERR_INTERNAL, "mkdir %s", full);
			goto out;
		}
		fd = openat(pfd, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		break;
	case S_IFLNK:
		if (symlinkat(ae->linkname, pfd, base) < 0) {
			err_errno(e, ERR_INTERNAL, "symlink %s", full);
			goto out;
		}
		break;
	case S_IFCHR:
	case S_IFBLK:
	case S_IFIFO:
		if (!o->set_owner && (mode & S_IFMT) != S_IFIFO) {
			ret = 0; /* devices need root; a rootless unpack leaves them out */
			goto out;
		}
		if (mknodat(pfd, base, mode, makedev(ae->devmajor, ae->devminor)) < 0) {
			err_errno(e, ERR_INTERNAL, "mknod %s", full);
			goto out;
		}
		break;
	default:
		fd = openat(pfd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd < 0) {
			err_errno(e, ERR_INTERNAL, "create %s", full);
			goto out;
		}
		if (write_data(tr, fd, full, e) < 0)
			goto out;
		if (ftruncate(fd, ae->size) < 0) {
			err_errno(e, ERR_INTERNAL, "truncate %s", full);
			goto out;
		}
		break;
	}
	if (o->set_owner &&
	    fchownat(pfd, base, (uid_t)ae->uid, (gid_t)ae->gid, AT_SYMLINK_NOFOLLOW) < 0) {
		err_errno(e, ERR_INTERNAL, "chown %s", full);
		goto out;
	}
	if (fd >= 0) {
		for (size_t i = 0; i < ae->n_xattrs; i++) /* best effort: tmpfs refuses user.* */
			fsetxattr(fd, ae->xattrs[i].name, ae->xattrs[i].value, ae->xattrs[i].len,
				  0);
		if (fchmod(fd, mode & 07777) < 0) {
			err_errno(e, ERR_INTERNAL, "chmod %s", full);
			goto out;
		}
	} else if ((mode & S_IFMT) != S_IFLNK) {
		fchmodat(pfd, base, mode & 07777, 0);
	}
	struct timespec ts[2] = {{(time_t)ae->mtime, 0}, {(time_t)ae->mtime, 0}};
	utimensat(pfd, base, ts, AT_SYMLINK_NOFOLLOW);
	ret = 0;
out:
	if (fd >= 0)
		close(fd);
	if (pfd >= 0)
		close(pfd);
	return ret;
}

/* Bytes a layer may expand to (BOSUN_MAX_LAYER_SIZE, in MiB, or with a
 * K/M/G suffix): a gzip bomb must end in a clear error, not a full disk. */
#define UNPACK_DEFAULT_MAX (8ULL << 30)

unsigned long long oci_max_layer_size(void)
{
	const char *v = getenv("BOSUN_MAX_LAYER_SIZE");
	unsigned long long n;
	char *end;

	if (!v || !*v)
		return UNPACK_DEFAULT_MAX;
	n = strtoull(v, &end, 10);
	switch (*end) {
	case 'k':
	case 'K':
		n <<= 10;
		break;
	case 'g':
	case 'G':
		n <<= 30;
		break;
	default:
		n <<= 20;
		break;
	}
	return n ? n : UNPACK_DEFAULT_MAX;
}

int oci_layer_size_check(uint64_t consumed, int64_t entry_size, unsigned long long limit,
			 const char *what, struct err *e)
{
	if (consumed + (unsigned long long)(entry_size > 0 ? entry_size : 0) <= limit)
		return 0;
	return err_set(e, ERR_INPUT,
		       "%s expands to more than %llu MiB (a decompression bomb? raise "
		       "BOSUN_MAX_LAYER_SIZE to allow it)",
		       what, limit >> 20);
}

int oci_unpack_layer(const char *path, const char *root, const struct unpack_opts *o, struct err *e)
{
	unsigned long long limit = oci_max_layer_size();
	struct tar_reader *tr = NULL;
	const struct tar_entry *ae;
	struct pset ps = {0};
	int rootfd = -1, ret = -1, r;

	rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0) {
		err_errno(e, ERR_INTERNAL, "open %s", root);
		goto out;
	}
	tr = tar_reader_open(path, e);
	if (!tr)
		goto out;
	while ((r = tar_next(tr, &ae, e)) == 1) {
		/* The header states the entry's size: refuse before writing it. */
		if (oci_layer_size_check(tar_reader_offset(tr), ae->size, limit, "layer", e) < 0)
			goto out;
		if (apply_entry(tr, ae, rootfd, o, &ps, e) < 0)
			goto out;
	}
	if (r < 0)
		goto out;
	ret = 0;
out:
	if (ret < 0) {
		const char *sl = strrchr(path, '/');
		err_prefix(e, "unpack layer %.19s", sl ? sl + 1 : path);
	}
	pset_free(&ps);
	if (rootfd >= 0)
		close(rootfd);
	tar_reader_free(tr);
	return ret;
}
