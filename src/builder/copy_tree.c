/* Copying trees into a layer directory with their metadata, and hashing
 * them for the cache key (content digests memoised in the cache). */
#include <limits.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "builder/internal.h"
#include "core/buf.h"
#include "core/fs.h"
#include "core/log.h"
#include "core/sha256.h"
#include "core/util.h"
#include "oci/digest.h"

void hash_str(struct copy_ctx *c, const char *s)
{
	sha256_update(&c->h, s, strlen(s) + 1);
}

int copy_meta(struct copy_ctx *c, const char *dst, const struct stat *st, bool is_link)
{
	int pfd;
	char parent[PATH_MAX];
	const char *sl = strrchr(dst, '/');
	uid_t u = c->uid >= 0 ? (uid_t)c->uid : 0;
	gid_t g = c->gid >= 0 ? (gid_t)c->gid : 0;
	mode_t m = st->st_mode & 07777;

	if (c->chmod_mode >= 0) {
		m = (mode_t)c->chmod_mode;
		/* Directories stay searchable where readable (chmod's "X"). */
		if (S_ISDIR(st->st_mode))
			m |= (m & 0444) >> 2;
	}
	if (c->tree) {
		/* What the calls below do on disk; rootless, nothing is chowned and
		 * our own ids are recorded as 0. */
		struct layer_meta lm = { .mode = is_link ? -1 : (int64_t)m, .uid = c->b->rootless ? -1 : (int64_t)u,
					 .gid = c->b->rootless ? -1 : (int64_t)g, .mtime = st->st_mtim.tv_sec };
		struct err e2 = ERR_INIT;
		return layer_tree_set(c->tree, dst, &lm, &e2);
	}
	snprintf(parent, sizeof(parent), "%s/%.*s", c->layer, sl ? (int)(sl - dst) : 0, dst);
	pfd = open(parent, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (pfd < 0)
		return -1;
	const char *base = sl ? sl + 1 : dst;
	if (!c->b->rootless)
		fchownat(pfd, base, u, g, AT_SYMLINK_NOFOLLOW);
	if (!is_link)
		fchmodat(pfd, base, m, 0);
	struct timespec ts[2] = { st->st_mtim, st->st_mtim };
	utimensat(pfd, base, ts, AT_SYMLINK_NOFOLLOW);
	close(pfd);
	return 0;
}

/* The layer's entries are on disk under c->layer (lp), or in c->tree (rel):
 * whether one exists, a new directory (an existing one is kept; in the
 * tree it is owned by root, as mkdir as root or, rootless, our own ids
 * recorded as 0 make it), the metadata of one (uid < 0: no chown, mtim
 * NULL: keep the time). */
static bool layer_exists(struct copy_ctx *c, const char *rel, const char *lp)
{
	struct stat st;

	return c->tree ? layer_tree_has(c->tree, rel, NULL) : lstat(lp, &st) == 0;
}

static int layer_mkdir(struct copy_ctx *c, const char *rel, const char *lp, struct err *e)
{
	if (c->tree) {
		struct layer_meta lm = { .mode = 0755, .mtime = (int64_t)time(NULL) };
		return layer_tree_mkdir(c->tree, rel, &lm, e);
	}
	if (mkdir(lp, 0755) < 0 && errno != EEXIST)
		return err_errno(e, ERR_INTERNAL, "mkdir %s", lp);
	return 0;
}

static void dir_meta(struct copy_ctx *c, const char *rel, const char *lp, mode_t mode, long uid, long gid,
		     const struct timespec *mtim)
{
	bool own = !c->b->rootless && uid >= 0;

	if (c->tree) {
		struct layer_meta lm = { .mode = mode, .uid = own ? uid : -1, .gid = own ? gid : -1,
					 .mtime = mtim ? mtim->tv_sec : -1 };
		struct err e2 = ERR_INIT;
		layer_tree_set(c->tree, rel, &lm, &e2);
		return;
	}
	if (own)
		lchown(lp, (uid_t)uid, (gid_t)gid);
	chmod(lp, mode);
	if (mtim) {
		struct timespec ts[2] = { *mtim, *mtim };
		utimensat(AT_FDCWD, lp, ts, AT_SYMLINK_NOFOLLOW);
	}
}

/* Make the parent directories of dst in the layer, copying metadata from
 * the stage's root file system when they exist there. */
int make_parents(struct copy_ctx *c, const char *dst, struct err *e)
{
	char pre[PATH_MAX];
	size_t pl = 0;
	const char *s = dst;

	for (;;) {
		size_t l = strcspn(s, "/");
		if (!s[l])
			return 0; /* the last component is the item itself */
		if (pl)
			pre[pl++] = '/';
		memcpy(pre + pl, s, l);
		pl += l;
		pre[pl] = 0;
		s += l + 1;
		char lp[PATH_MAX * 2];
		snprintf(lp, sizeof(lp), "%s/%s", c->tree ? "" : c->layer, pre);
		if (layer_exists(c, pre, lp))
			continue;
		if (layer_mkdir(c, pre, lp, e) < 0)
			return -1;
		char *real = resolve_in(c->s->rootfs, pre, e);
		err_clear(e);
		struct stat rs;
		/* The metadata of the stage's directory where it has one, else 0755
		 * (whatever the umask) and --chown's owner. */
		bool from_rootfs = real && stat(real, &rs) == 0 && S_ISDIR(rs.st_mode);
		free(real);
		if (from_rootfs)
			dir_meta(c, pre, lp, rs.st_mode & 07777, rs.st_uid, rs.st_gid, &rs.st_mtim);
		else
			dir_meta(c, pre, lp, 0755, c->uid, c->gid >= 0 ? c->gid : 0, NULL);
	}
}

static int copy_file(const char *src, const char *dst, struct err *e)
{
	int in = open(src, O_RDONLY | O_NOFOLLOW | O_CLOEXEC), out = -1, ret = -1;
	struct stat st;

	if (in < 0 || fstat(in, &st) < 0) {
		err_errno(e, ERR_INPUT, "open %s", src);
		goto out;
	}
	out = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (out < 0) {
		err_errno(e, ERR_INTERNAL, "create %s", dst);
		goto out;
	}
	off_t left = st.st_size;
	while (left > 0) {
		ssize_t n = copy_file_range(in, NULL, out, NULL, (size_t)left, 0);
		if (n <= 0) {
			/* Fallback for file systems without copy_file_range. */
			char buf[65536];
			n = read(in, buf, sizeof(buf));
			if (n <= 0 || write(out, buf, (size_t)n) != n) {
				err_errno(e, ERR_INTERNAL, "copy %s", src);
				goto out;
			}
		}
		left -= n;
	}
	ret = 0;
out:
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
	return ret;
}

/* Content digests of context files are remembered in the cache directory
 * (one file, DIR/filehash.txt, "METAKEY DIGEST" lines), keyed by a hash of
 * path, inode, size, mtime and change time (a write or chmod changes the
 * latter), so a warm build does not read every source file again. */
#define MEMO_MAX 200000

struct memo_ent {
	char key[65];
	char dig[72];
	bool used;
};

static size_t memo_slot(const struct memo *m, const char *key)
{
	size_t h = 0;

	/* The key is already a hash: its first hex digits index the table. */
	for (int i = 0; i < 15; i++)
		h = (h << 4) | (size_t)(isdigit((unsigned char)key[i]) ? key[i] - '0' : key[i] - 'a' + 10);
	size_t j = h & (m->cap - 1);

	while (m->v[j].key[0] && strcmp(m->v[j].key, key) != 0)
		j = (j + 1) & (m->cap - 1);
	return j;
}

static int memo_put(struct memo *m, const char *key, const char *dig, bool used)
{
	if ((m->n + 1) * 2 > m->cap) {
		size_t nc = m->cap ? m->cap * 2 : 1024;
		struct memo_ent *old = m->v;
		size_t oc = m->cap;
		m->v = calloc(nc, sizeof(*m->v));
		if (!m->v) {
			m->v = old;
			return -1;
		}
		m->cap = nc;
		m->n = 0;
		for (size_t i = 0; i < oc; i++)
			if (old[i].key[0])
				memo_put(m, old[i].key, old[i].dig, old[i].used);
		free(old);
	}
	size_t j = memo_slot(m, key);
	if (!m->v[j].key[0])
		m->n++;
	snprintf(m->v[j].key, sizeof(m->v[j].key), "%s", key);
	snprintf(m->v[j].dig, sizeof(m->v[j].dig), "%s", dig);
	m->v[j].used = m->v[j].used || used;
	return 0;
}

static void memo_load(struct build *b, struct memo *m)
{
	struct buf t = BUF_INIT;
	struct err e = ERR_INIT;
	char *p = xasprintf_e(&e, "%s/filehash.txt", b->cache_dir);

	m->loaded = true;
	if (p && fs_exists(p) && fs_read_file(p, &t, 64u << 20, &e) == 0) {
		for (char *l = t.data, *nl; l && *l; l = nl) {
			nl = strchr(l, '\n');
			if (nl)
				*nl++ = 0;
			if (strlen(l) == 64 + 1 + 71 && l[64] == ' ') {
				l[64] = 0;
				if (oci_digest_valid(l + 65))
					memo_put(m, l, l + 65, false);
			}
		}
	}
	buf_free(&t);
	free(p);
}

void memo_save(struct build *b, struct memo *m)
{
	struct fs_atomic a;
	struct err e = ERR_INIT;
	char *p;

	if (!m->dirty || !b->cache_dir)
		return;
	p = xasprintf_e(&e, "%s/filehash.txt", b->cache_dir);
	if (!p || fs_atomic_open(&a, p, &e) < 0) {
		free(p);
		return;
	}
	for (size_t i = 0; i < m->cap; i++)
		if (m->v[i].key[0] && (m->n <= MEMO_MAX || m->v[i].used))
			fprintf(a.f, "%s %s\n", m->v[i].key, m->v[i].dig);
	if (fs_atomic_commit(&a, 0644, &e) < 0)
		log_warn("cache: %s", e.msg);
	free(p);
}

static bool memo_key(const char *src, char key[65])
{
	struct stat st;
	char buf[PATH_MAX + 160], d[72];
	int n;

	if (lstat(src, &st) < 0)
		return false;
	n = snprintf(buf, sizeof(buf), "%s\n%lu:%lu:%lld:%lld.%ld:%lld.%ld", src, (unsigned long)st.st_dev,
		     (unsigned long)st.st_ino, (long long)st.st_size, (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec,
		     (long long)st.st_ctim.tv_sec, st.st_ctim.tv_nsec);
	if (n < 0 || n >= (int)sizeof(buf))
		return false;
	sha256_digest_str(buf, (size_t)n, d);
	memcpy(key, d + 7, 65);
	return true;
}

int hash_file(struct copy_ctx *c, const char *src, struct err *e)
{
	struct build *b = c->b;
	struct memo *m = b->memo;
	char d[72], key[65];
	uint64_t sz;
	/* A multi-platform build keeps the memo in memory even without a cache:
	 * each platform's COPY hashes the context, and it is read only once. */
	bool have_key = (b->cache_dir || b->multi) && memo_key(src, key);

	if (have_key) {
		if (!m->loaded && b->cache_dir)
			memo_load(b, m);
		if (m->cap) {
			size_t j = memo_slot(m, key);
			if (m->v[j].key[0]) {
				m->v[j].used = true;
				hash_str(c, m->v[j].dig);
				return 0;
			}
		}
	}
	if (sha256_file(src, d, &sz, e) < 0)
		return -1;
	hash_str(c, d);
	if (have_key && memo_put(m, key, d, true) == 0)
		m->dirty = true;
	return 0;
}

/* Copy src (host path, already resolved) to dst (in the layer). */
int copy_tree(struct copy_ctx *c, const char *src, const char *dst, const char *ctx_rel, struct err *e)
{
	struct stat st;
	char lp[PATH_MAX * 2];

	if (lstat(src, &st) < 0)
		return err_errno(e, ERR_INPUT, "%s", src);
	bool ignored = c->from_context && ctx_rel && *ctx_rel && ignore_match(c->b->ig, ctx_rel);
	snprintf(lp, sizeof(lp), "%s/%s", c->tree ? "" : c->layer, dst);
	if (!ignored) {
		char meta[128];
		snprintf(meta, sizeof(meta), "%o:%ld:%ld:%ld", (unsigned)st.st_mode, c->uid, c->gid, c->chmod_mode);
		hash_str(c, dst);
		hash_str(c, meta);
	}
	if (S_ISDIR(st.st_mode)) {
		if (!ignored && !c->hash_only) {
			if (make_parents(c, dst, e) < 0 || layer_mkdir(c, dst, lp, e) < 0)
				return -1;
		}
		DIR *d = opendir(src);
		struct dirent *de;
		char **names = NULL;
		size_t n = 0;
		if (!d)
			return err_errno(e, ERR_INPUT, "open %s", src);
		while ((de = readdir(d))) {
			if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
				continue;
			char **t = realloc(names, (n + 1) * sizeof(char *));
			if (!t)
				break;
			names = t;
			names[n++] = strdup(de->d_name);
		}
		closedir(d);
		for (size_t i = 1; i < n; i++)
			for (size_t j = i; j > 0 && strcmp(names[j - 1], names[j]) > 0; j--) {
				char *t = names[j];
				names[j] = names[j - 1];
				names[j - 1] = t;
			}
		int r = 0;
		for (size_t i = 0; i < n && r == 0; i++) {
			char cs[PATH_MAX], cd[PATH_MAX], cr[PATH_MAX];
			snprintf(cs, sizeof(cs), "%s/%s", src, names[i]);
			snprintf(cd, sizeof(cd), "%s%s%s", dst, *dst ? "/" : "", names[i]);
			snprintf(cr, sizeof(cr), "%s%s%s", ctx_rel ? ctx_rel : "", ctx_rel && *ctx_rel ? "/" : "",
				 names[i]);
			r = copy_tree(c, cs, cd, ctx_rel ? cr : NULL, e);
		}
		for (size_t i = 0; i < n; i++)
			free(names[i]);
		free(names);
		if (r < 0)
			return -1;
		if (!ignored && !c->hash_only && *dst)
			copy_meta(c, dst, &st, false);
		return 0;
	}
	if (ignored)
		return 0;
	if (S_ISLNK(st.st_mode)) {
		char t[PATH_MAX];
		ssize_t tl = readlink(src, t, sizeof(t) - 1);
		if (tl < 0)
			return err_errno(e, ERR_INPUT, "readlink %s", src);
		t[tl] = 0;
		hash_str(c, t);
		if (c->hash_only)
			return 0;
		if (make_parents(c, dst, e) < 0)
			return -1;
		if (c->tree) {
			struct layer_meta lm = { .mode = 0777, .mtime = (int64_t)time(NULL) };
			if (layer_tree_symlink(c->tree, dst, t, &lm, e) < 0)
				return -1;
		} else {
			unlink(lp);
			if (symlink(t, lp) < 0)
				return err_errno(e, ERR_INTERNAL, "symlink %s", lp);
		}
		return copy_meta(c, dst, &st, true);
	}
	if (!S_ISREG(st.st_mode))
		return 0; /* devices, sockets and fifos are not copied */
	if (c->hash_only)
		return hash_file(c, src, e);
	if (make_parents(c, dst, e) < 0)
		return -1;
	if (c->tree) {
		/* Read from src when the layer is written: nothing copied here. */
		struct layer_meta lm = { .mode = 0600, .mtime = (int64_t)time(NULL) };
		if (layer_tree_file(c->tree, dst, src, &lm, e) < 0)
			return -1;
	} else if (copy_file(src, lp, e) < 0) {
		return -1;
	}
	return copy_meta(c, dst, &st, false);
}
