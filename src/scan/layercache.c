#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/fs.h"
#include "core/log.h"
#include "core/util.h"
#include "oci/digest.h"
#include "scan/layercache.h"

#define FILE_MAX ((size_t)32 << 20)
#define RPMDB_MAX ((size_t)256 << 20)
#define REC_MAX ((size_t)768 << 20)   /* a cache file larger than this is not ours */

size_t kept_file_cap(const char *path)
{
	return str_ends(path, "rpm/Packages") || str_ends(path, "rpm/rpmdb.sqlite") ? RPMDB_MAX : FILE_MAX;
}
static const char magic[8] = "BOSUNLC1";
static const char trailer[8] = "BOSUNEND";

void fileset_free(struct fileset *fs)
{
	for (size_t i = 0; i < fs->n; i++) {
		free(fs->f[i].path);
		buf_free(&fs->f[i].data);
	}
	free(fs->f);
	memset(fs, 0, sizeof(*fs));
}

struct kfile *fileset_add(struct fileset *fs, const char *path, int layer, struct err *e)
{
	struct kfile *k;

	if (fs->n == fs->alloc) {
		size_t na = fs->alloc ? fs->alloc * 2 : 64;
		struct kfile *nf = realloc(fs->f, na * sizeof(*nf));

		if (!nf) {
			err_oom(e);
			return NULL;
		}
		fs->f = nf, fs->alloc = na;
	}
	k = &fs->f[fs->n];
	memset(k, 0, sizeof(*k));
	k->path = strdup(path);
	if (!k->path) {
		err_oom(e);
		return NULL;
	}
	buf_init(&k->data, kept_file_cap(path));
	k->layer = layer;
	fs->n++;
	return k;
}

void layer_rec_free(struct layer_rec *r)
{
	fileset_free(&r->files);
	fileset_free(&r->whiteouts);
	free(r->hashes);
	memset(r, 0, sizeof(*r));
}

/* FNV-1a, 64 bits: collisions among a layer's paths are vanishingly rare,
 * and one would only hide a lower file wrongly, never crash. */
static uint64_t hash_n(const char *p, size_t n, bool dir)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)p[i]) * 0x100000001b3ull;
	if (dir)
		h = (h ^ '/') * 0x100000001b3ull;
	return h;
}

int layer_rec_add_path(struct layer_rec *r, const char *path, bool dir, struct err *e)
{
	if (r->n_hashes == r->alloc_hashes) {
		size_t na = r->alloc_hashes ? r->alloc_hashes * 2 : 1024;
		uint64_t *nh = realloc(r->hashes, na * sizeof(*nh));

		if (!nh)
			return err_oom(e);
		r->hashes = nh, r->alloc_hashes = na;
	}
	r->hashes[r->n_hashes++] = hash_n(path, strlen(path), dir);
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

void layer_rec_seal(struct layer_rec *r)
{
	size_t o = 0;

	if (r->n_hashes)
		qsort(r->hashes, r->n_hashes, sizeof(*r->hashes), cmp_u64);
	for (size_t i = 0; i < r->n_hashes; i++)
		if (o == 0 || r->hashes[o - 1] != r->hashes[i])
			r->hashes[o++] = r->hashes[i];
	r->n_hashes = o;
}

static bool has_hash(const struct layer_rec *r, uint64_t h)
{
	return r->n_hashes && bsearch(&h, r->hashes, r->n_hashes, sizeof(h), cmp_u64) != NULL;
}

bool layer_rec_hides(const struct layer_rec *r, const char *path)
{
	size_t n = strlen(path);

	if (has_hash(r, hash_n(path, n, true)))
		return true;
	for (size_t i = 1; i <= n; i++)
		if ((i == n || path[i] == '/' || (path[i] == '!' && path[i + 1] == '/')) && has_hash(r, hash_n(path, i, false)))
			return true;
	return false;
}

/* ------------------------------------------------------------ files */

static char *rec_path(const struct lcache *c, const char *digest)
{
	const char *colon = strchr(digest, ':');

	if (!oci_digest_valid(digest) || !colon)
		return NULL;
	return xasprintf_e(NULL, "%s/%.*s-%s.inv", c->dir, (int)(colon - digest), digest, colon + 1);
}

/* A record this bosun can use: it exists and its header has our magic
 * and catalog version (a record from another version is read again, so
 * the layer must be fetched). */
int lcache_has(const struct lcache *c, const char *digest)
{
	char *p = rec_path(c, digest);
	unsigned char h[sizeof(magic) + 4];
	uint32_t ver;
	int fd, r = 0;

	fd = p ? open(p, O_RDONLY | O_CLOEXEC) : -1;
	if (fd >= 0) {
		if (read(fd, h, sizeof(h)) == (ssize_t)sizeof(h) && memcmp(h, magic, sizeof(magic)) == 0) {
			memcpy(&ver, h + sizeof(magic), 4);
			r = ver == LCACHE_CATALOG_VERSION;
		}
		close(fd);
	}
	free(p);
	return r;
}

static int put_u32(struct buf *b, uint32_t v, struct err *e)
{
	return buf_add(b, &v, sizeof(v), e);
}

static int put_set(struct buf *b, const struct fileset *fs, struct err *e)
{
	if (put_u32(b, (uint32_t)fs->n, e) < 0)
		return -1;
	for (size_t i = 0; i < fs->n; i++) {
		const struct kfile *k = &fs->f[i];
		uint32_t pl = (uint32_t)strlen(k->path);

		if (buf_add(b, &(uint8_t){ k->goinfo }, 1, e) < 0 || put_u32(b, pl, e) < 0 || buf_add(b, k->path, pl, e) < 0 ||
		    put_u32(b, (uint32_t)k->data.len, e) < 0 || buf_add(b, k->data.data, k->data.len, e) < 0)
			return -1;
	}
	return 0;
}

struct rd {
	const unsigned char *p, *end;
	bool bad;
};

static const void *take(struct rd *r, size_t n)
{
	const void *p = r->p;

	if (r->bad || (size_t)(r->end - r->p) < n) {
		r->bad = true;
		return NULL;
	}
	r->p += n;
	return p;
}

static uint32_t get_u32(struct rd *r)
{
	const void *p = take(r, 4);
	uint32_t v = 0;

	if (p)
		memcpy(&v, p, 4);
	return v;
}

static int get_set(struct rd *r, struct fileset *fs, int layer, struct err *e)
{
	uint32_t n = get_u32(r);

	for (uint32_t i = 0; i < n && !r->bad; i++) {
		const uint8_t *gi = take(r, 1);
		uint32_t pl = get_u32(r);
		const char *path = take(r, pl);
		uint32_t dl;
		const void *data;
		char tmp[4096];
		struct kfile *k;

		if (r->bad || pl >= sizeof(tmp) || memchr(path, 0, pl))
			break;
		dl = get_u32(r);
		data = take(r, dl);
		memcpy(tmp, path, r->bad ? 0 : pl);
		tmp[r->bad ? 0 : pl] = 0;
		if (r->bad || dl > kept_file_cap(tmp))
			break;
		if (!(k = fileset_add(fs, tmp, layer, e)) || buf_add(&k->data, data, dl, e) < 0)
			return -1;
		k->goinfo = *gi != 0;
	}
	if (r->bad || fs->n != n)
		r->bad = true;
	return 0;
}

int lcache_get(const struct lcache *c, const char *digest, int layer, struct layer_rec *r, struct err *e)
{
	char *p = rec_path(c, digest);
	struct buf b = BUF_INIT;
	struct err e2 = ERR_INIT;
	struct rd rd;
	int rc = 0;

	memset(r, 0, sizeof(*r));
	if (!p || !fs_exists(p)) {
		free(p);
		return 0;
	}
	if (fs_read_file(p, &b, REC_MAX, &e2) < 0)
		goto miss;
	rd.p = (const unsigned char *)b.data, rd.end = rd.p + b.len, rd.bad = false;
	{
		const void *m = take(&rd, sizeof(magic));
		uint32_t ver = get_u32(&rd), nh;
		const void *seen = take(&rd, 8);
		int64_t fseen = 0;

		if (!m || memcmp(m, magic, sizeof(magic)) != 0 || !seen)
			goto miss;
		if (ver != LCACHE_CATALOG_VERSION) {
			/* written by a bosun with other catalogers: read the layer again */
			log_debug("layer cache: %s is of catalog version %u, not %u", p, ver, LCACHE_CATALOG_VERSION);
			layer_rec_free(r);
			rc = 0;
			goto out;
		}
		memcpy(&fseen, seen, 8);
		r->files_seen = (long)fseen;
		nh = get_u32(&rd);
		if (rd.bad || nh > (rd.end - rd.p) / 8)
			goto miss;
		if (nh) {
			if (!(r->hashes = malloc((size_t)nh * 8))) {
				rc = err_oom(e);
				goto out;
			}
			memcpy(r->hashes, take(&rd, (size_t)nh * 8), (size_t)nh * 8);
		}
		r->n_hashes = r->alloc_hashes = nh;
		if (get_set(&rd, &r->files, layer, e) < 0 || get_set(&rd, &r->whiteouts, layer, e) < 0) {
			rc = -1;
			goto out;
		}
		m = take(&rd, sizeof(trailer));
		if (rd.bad || !m || memcmp(m, trailer, sizeof(trailer)) != 0 || rd.p != rd.end)
			goto miss;
		for (size_t i = 1; i < r->n_hashes; i++)
			if (r->hashes[i - 1] >= r->hashes[i])
				goto miss;
	}
	/* a hit makes the file recently used */
	utimensat(AT_FDCWD, p, NULL, 0);
	rc = 1;
	goto out;
miss:
	log_warn("layer cache: %s is damaged; reading the layer again", p);
	unlink(p);
	layer_rec_free(r);
	rc = 0;
out:
	if (rc < 0)
		layer_rec_free(r);
	buf_free(&b);
	free(p);
	return rc;
}

struct ent {
	char *name;
	off_t size;
	struct timespec mtime;
};

static int cmp_ent(const void *a, const void *b)
{
	const struct ent *x = a, *y = b;

	if (x->mtime.tv_sec != y->mtime.tv_sec)
		return x->mtime.tv_sec < y->mtime.tv_sec ? -1 : 1;
	return x->mtime.tv_nsec < y->mtime.tv_nsec ? -1 : x->mtime.tv_nsec > y->mtime.tv_nsec;
}

/* Least recently used first, until the cache is under 90% of its cap. */
static void evict(const struct lcache *c)
{
	int64_t max = c->max > 0 ? c->max : LCACHE_DEFAULT_MAX, total = 0;
	char *lockp = fs_join(c->dir, ".lock");
	int lfd = lockp ? open(lockp, O_RDWR | O_CREAT | O_CLOEXEC, 0644) : -1;
	struct ent *v = NULL;
	size_t n = 0, cap = 0;
	DIR *d = NULL;
	struct dirent *de;

	free(lockp);
	/* another run is trimming: it will do for both */
	if (lfd < 0 || flock(lfd, LOCK_EX | LOCK_NB) < 0)
		goto out;
	if (!(d = opendir(c->dir)))
		goto out;
	while ((de = readdir(d))) {
		struct stat sb;

		if (!str_ends(de->d_name, ".inv") || fstatat(dirfd(d), de->d_name, &sb, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISREG(sb.st_mode))
			continue;
		if (n == cap) {
			size_t nc = cap ? cap * 2 : 64;
			struct ent *nv = realloc(v, nc * sizeof(*nv));

			if (!nv)
				goto out;
			v = nv, cap = nc;
		}
		if (!(v[n].name = strdup(de->d_name)))
			goto out;
		v[n].size = sb.st_size, v[n].mtime = sb.st_mtim;
		total += sb.st_size;
		n++;
	}
	if (total <= max)
		goto out;
	qsort(v, n, sizeof(*v), cmp_ent);
	for (size_t i = 0; i < n && total > max - max / 10; i++) {
		if (unlinkat(dirfd(d), v[i].name, 0) == 0) {
			total -= v[i].size;
			log_debug("layer cache: evicted %s", v[i].name);
		}
	}
out:
	for (size_t i = 0; i < n; i++)
		free(v[i].name);
	free(v);
	if (d)
		closedir(d);
	if (lfd >= 0)
		close(lfd); /* releases the lock */
}

int lcache_put(const struct lcache *c, const char *digest, const struct layer_rec *r, struct err *e)
{
	char *p = rec_path(c, digest);
	struct buf b = BUF_INIT;
	int64_t fseen = r->files_seen;
	int rc = -1;

	if (!p)
		return err_set(e, ERR_INPUT, "bad layer digest");
	buf_init(&b, REC_MAX);
	if (fs_mkdir_p(c->dir, 0755, e) < 0 || buf_add(&b, magic, sizeof(magic), e) < 0 ||
	    put_u32(&b, LCACHE_CATALOG_VERSION, e) < 0 || buf_add(&b, &fseen, 8, e) < 0 ||
	    put_u32(&b, (uint32_t)r->n_hashes, e) < 0 || buf_add(&b, r->hashes, r->n_hashes * 8, e) < 0 ||
	    put_set(&b, &r->files, e) < 0 || put_set(&b, &r->whiteouts, e) < 0 ||
	    buf_add(&b, trailer, sizeof(trailer), e) < 0 || fs_write_atomic(p, b.data, b.len, 0644, e) < 0)
		goto out;
	evict(c);
	rc = 0;
out:
	buf_free(&b);
	free(p);
	return rc;
}
