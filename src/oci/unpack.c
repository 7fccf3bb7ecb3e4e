#include <limits.h>
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "core/util.h"
#include "oci/layer.h"

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
					snprintf(tp, sizeof(tp), "%.*s/%s", (int)(pl - l), prefix, target);
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

static int rm_children(int dfd, struct err *e)
{
	DIR *d = fdopendir(dfd);
	struct dirent *de;
	int ret = 0;

	if (!d) {
		close(dfd);
		return err_errno(e, ERR_INTERNAL, "opendir");
	}
	while ((de = readdir(d))) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
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
		if (rm_children(fd, e) < 0)
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
			return err_set(e, ERR_INTERNAL, "out of memory");
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
			return err_set(e, ERR_INPUT, "member \"%.200s\" escapes the root (\"..\")", in);
		if (l > NAME_MAX) /* bad input, not an internal error from openat */
			return err_set(e, ERR_INPUT, "member \"%.200s\": a name component is over %d bytes", in, NAME_MAX);
		if (o + l + 2 > outsz)
			return err_set(e, ERR_INPUT, "member name too long");
		if (o)
			out[o++] = '/';
		memcpy(out + o, s, l);
		o += l;
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
	DIR *d;
	struct dirent *de;
	int ret = 0;

	if (fd < 0)
		return errno == ENOENT ? 0 : err_errno(e, ERR_INPUT, "opaque directory %s", dir);
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return err_errno(e, ERR_INTERNAL, "opendir %s", dir);
	}
	while ((de = readdir(d))) {
		char p[PATH_MAX];
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(p, sizeof(p), "%s%s%s", strcmp(dir, ".") ? dir : "", strcmp(dir, ".") ? "/" : "",
			 de->d_name);
		if (pset_has(ps, p))
			continue;
		if (oci_rm_at(dirfd(d), de->d_name, e) < 0) {
			ret = -1;
			break;
		}
	}
	closedir(d);
	return ret;
}

static int write_data(struct archive *a, int fd, const char *name, struct err *e)
{
	const void *buf;
	size_t sz;
	la_int64_t off;
	int r;

	while ((r = archive_read_data_block(a, &buf, &sz, &off)) == ARCHIVE_OK) {
		const char *p = buf;
		while (sz > 0) {
			ssize_t n = pwrite(fd, p, sz, off);
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0)
				return err_errno(e, ERR_INTERNAL, "write %s", name);
			p += n;
			sz -= (size_t)n;
			off += n;
		}
	}
	if (r != ARCHIVE_EOF)
		return err_archive(e, ERR_INPUT, a, "read %s", name);
	/* Sparse tails: make the size what the header says. */
	return 0;
}

static int apply_entry(struct archive *a, struct archive_entry *ae, int rootfd, const struct unpack_opts *o,
		       struct pset *ps, struct err *e)
{
	char name[PATH_MAX], lname[PATH_MAX];
	const char *parent, *base;
	int pfd = -1, fd = -1, ret = -1;
	mode_t mode = archive_entry_mode(ae);
	const char *hl = archive_entry_hardlink(ae);

	if (clean_name(archive_entry_pathname(ae) ? archive_entry_pathname(ae) : "", name, sizeof(name), e) < 0)
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
			return err_set(e, ERR_INPUT, "member \"%.200s\": whiteout of \"%s\"", full, base + 4);
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
	switch (mode & AE_IFMT) {
	case AE_IFDIR:
		if (!exists && mkdirat(pfd, base, 0700) < 0) {
			err_errno(e, ERR_INTERNAL, "mkdir %s", full);
			goto out;
		}
		fd = openat(pfd, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		break;
	case AE_IFLNK:
		if (symlinkat(archive_entry_symlink(ae) ? archive_entry_symlink(ae) : "", pfd, base) < 0) {
			err_errno(e, ERR_INTERNAL, "symlink %s", full);
			goto out;
		}
		break;
	case AE_IFCHR:
	case AE_IFBLK:
	case AE_IFIFO:
		if (!o->set_owner && (mode & AE_IFMT) != AE_IFIFO) {
			ret = 0; /* devices need root; a rootless unpack leaves them out */
			goto out;
		}
		if (mknodat(pfd, base, mode, archive_entry_rdev(ae)) < 0) {
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
		if (write_data(a, fd, full, e) < 0)
			goto out;
		if (ftruncate(fd, archive_entry_size(ae)) < 0) {
			err_errno(e, ERR_INTERNAL, "truncate %s", full);
			goto out;
		}
		break;
	}
	if (o->set_owner &&
	    fchownat(pfd, base, (uid_t)archive_entry_uid(ae), (gid_t)archive_entry_gid(ae), AT_SYMLINK_NOFOLLOW) < 0) {
		err_errno(e, ERR_INTERNAL, "chown %s", full);
		goto out;
	}
	if (fd >= 0) {
		const char *xn;
		const void *xv;
		size_t xs;
		archive_entry_xattr_reset(ae);
		while (archive_entry_xattr_next(ae, &xn, &xv, &xs) == ARCHIVE_OK)
			fsetxattr(fd, xn, xv, xs, 0); /* best effort: tmpfs refuses user.* */
		if (fchmod(fd, mode & 07777) < 0) {
			err_errno(e, ERR_INTERNAL, "chmod %s", full);
			goto out;
		}
	} else if ((mode & AE_IFMT) != AE_IFLNK) {
		fchmodat(pfd, base, mode & 07777, 0);
	}
	struct timespec ts[2] = { { archive_entry_mtime(ae), 0 }, { archive_entry_mtime(ae), 0 } };
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
	case 'k': case 'K': n <<= 10; break;
	case 'g': case 'G': n <<= 30; break;
	default: n <<= 20; break;
	}
	return n ? n : UNPACK_DEFAULT_MAX;
}

int oci_layer_size_check(struct archive *a, struct archive_entry *ae, unsigned long long limit, const char *what,
			 struct err *e)
{
	if ((unsigned long long)archive_filter_bytes(a, 0) +
		    (unsigned long long)(archive_entry_size(ae) > 0 ? archive_entry_size(ae) : 0) <=
	    limit)
		return 0;
	return err_set(e, ERR_INPUT,
		       "%s expands to more than %llu MiB (a decompression bomb? raise BOSUN_MAX_LAYER_SIZE to allow it)",
		       what, limit >> 20);
}

int oci_unpack_layer(const char *path, const char *root, const struct unpack_opts *o, struct err *e)
{
	unsigned long long limit = oci_max_layer_size();
	struct archive *a = archive_read_new();
	struct archive_entry *ae;
	struct pset ps = { 0 };
	int rootfd = -1, ret = -1, r;

	if (!a)
		return err_set(e, ERR_INTERNAL, "out of memory");
	archive_read_support_filter_all(a);
	archive_read_support_format_tar(a);
	rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0) {
		err_errno(e, ERR_INTERNAL, "open %s", root);
		goto out;
	}
	if (archive_read_open_filename(a, path, 1 << 20) != ARCHIVE_OK) {
		err_archive(e, ERR_INPUT, a, "open layer");
		goto out;
	}
	while ((r = archive_read_next_header(a, &ae)) == ARCHIVE_OK || r == ARCHIVE_WARN) {
		/* The header states the entry's size: refuse before writing it. */
		if (oci_layer_size_check(a, ae, limit, "layer", e) < 0)
			goto out;
		if (apply_entry(a, ae, rootfd, o, &ps, e) < 0)
			goto out;
	}
	if (r != ARCHIVE_EOF) {
		err_archive(e, ERR_INPUT, a, "read layer");
		goto out;
	}
	ret = 0;
out:
	if (ret < 0) {
		const char *sl = strrchr(path, '/');
		err_prefix(e, "unpack layer %.19s", sl ? sl + 1 : path);
	}
	pset_free(&ps);
	if (rootfd >= 0)
		close(rootfd);
	archive_read_free(a);
	return ret;
}
