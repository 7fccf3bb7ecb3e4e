#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/util.h"
#include "oci/desc.h"
#include "oci/internal.h"
#include "oci/layer.h"
#include "oci/tar.h"

/* Writing a directory tree on disk: what lw (internal.h) does not keep. */
struct xattrs {
	struct tar_xattr v[64];
	size_t n;
	char names[4096];
	unsigned char *vals;
};

struct dw {
	struct lw lw;
	struct xattrs xa;
	const struct layer_opts *o;
	struct err *e;
	uid_t self_uid;
	gid_t self_gid;
	struct {
		dev_t dev;
		ino_t ino;
		char *path;
	} * links;
	size_t n_links, a_links;
};

#define IOBUF (1u << 20)

/* Compressed bytes into the blob; every MiB, o->on_write hears how far the
 * file got. */
static int blob_write(struct lw *w, const void *p, size_t n, struct err *e)
{
	if (oci_layout_blob_writer_write(w->bw, p, n, e) < 0)
		return -1;
	int64_t size = oci_layout_blob_writer_size(w->bw);
	if (w->o->on_write && size - w->reported >= (1 << 20)) {
		if (oci_layout_blob_writer_flush(w->bw, e) < 0)
			return -1;
		w->reported = size;
		w->o->on_write(w->o->on_write_ctx, NULL, size, NULL);
	}
	return 0;
}

static la_ssize_t comp_write(struct archive *a, void *ctx, const void *p, size_t n)
{
	struct lw *w = ctx;

	(void)a;
	if (blob_write(w, p, n, w->e) < 0) {
		w->failed = 1;
		return -1;
	}
	return (la_ssize_t)n;
}

static int gz_sink(void *ctx, const void *p, size_t n, struct err *e)
{
	return blob_write(ctx, p, n, e);
}

static int tar_sink(void *ctx, const void *p, size_t n, struct err *e)
{
	struct lw *w = ctx;

	(void)e;
	if (w->failed)
		return -1;
	sha256_update(&w->diff, p, n);
	if (w->gz) {
		if (pgz_write(w->gz, p, n, w->e) < 0) {
			w->failed = 1;
			return -1;
		}
		return 0;
	}
	if (!w->comp)
		return comp_write(NULL, w, p, n) < 0 ? -1 : 0;
	if (archive_write_data(w->comp, p, n) != (la_ssize_t)n) {
		if (!w->failed)
			err_archive(w->e, ERR_INTERNAL, w->comp, "compress layer");
		w->failed = 1;
		return -1;
	}
	return 0;
}

static int lw_fail(struct lw *w, struct archive *a, const char *what)
{
	if (!w->failed)
		err_archive(w->e, ERR_INTERNAL, a, "%s", what);
	w->failed = 1;
	return -1;
}

/* A tar write failed: the sink or the tar layer stored the reason in e. */
static int tw_fail(struct lw *w)
{
	w->failed = 1;
	return -1;
}

/* zstd through libarchive. Its multi-threaded format is the same whatever
 * the number of workers (1 or more), unlike its single-threaded one: always
 * at least one worker, so the core count never changes the digest. */
static int zstd_open(struct lw *w, const struct layer_opts *o)
{
	char opt[64];
	struct archive_entry *ae;

	w->comp = archive_write_new();
	if (!w->comp || archive_write_set_format_raw(w->comp) != ARCHIVE_OK ||
	    archive_write_add_filter_zstd(w->comp) != ARCHIVE_OK)
		return lw_fail(w, w->comp, "layer: compressor");
	if (o->level > 0) {
		snprintf(opt, sizeof(opt), "zstd:compression-level=%d", o->level);
		archive_write_set_options(w->comp, opt);
	}
	snprintf(opt, sizeof(opt), "zstd:threads=%d", o->threads > 1 ? o->threads : 1);
	archive_write_set_options(w->comp, opt);
	archive_write_set_bytes_per_block(w->comp, 0);
	if (archive_write_open(w->comp, w, NULL, comp_write, NULL) != ARCHIVE_OK)
		return lw_fail(w, w->comp, "layer: compressor");
	ae = archive_entry_new();
	if (!ae)
		return err_oom(w->e);
	archive_entry_set_pathname(ae, "layer.tar");
	archive_entry_set_mode(ae, AE_IFREG | 0644);
	int hr = archive_write_header(w->comp, ae);
	archive_entry_free(ae);
	return hr == ARCHIVE_OK ? 0 : lw_fail(w, w->comp, "layer: compressor");
}

int lw_open(struct lw *w, struct oci_layout *l, const struct layer_opts *o, struct err *e)
{
	memset(w, 0, sizeof(*w));
	w->o = o;
	w->e = e;
	w->iobuf = malloc(IOBUF);
	if (!w->iobuf)
		return err_oom(e);
	if (sha256_init(&w->diff, e) < 0 || oci_layout_blob_writer_open(l, NULL, -1, &w->bw, e) < 0)
		return -1;
	if (o->on_write)
		o->on_write(o->on_write_ctx, oci_layout_blob_writer_tmp_path(w->bw), 0, NULL);
	if (o->comp == LAYER_GZIP && pgz_open(&w->gz, o->level, o->threads, gz_sink, w, e) < 0)
		return -1;
	if (o->comp == LAYER_ZSTD && zstd_open(w, o) < 0)
		return -1;
	tar_writer_init(&w->tw, tar_sink, w);
	return 0;
}

int lw_header(struct lw *w, const struct tar_entry *te)
{
	w->n_entries++;
	return tar_write_header(&w->tw, te, w->e) < 0 ? tw_fail(w) : 0;
}

int lw_file_data(struct lw *w, int fd, const char *abs, int64_t size)
{
	int64_t left = size;

	while (left > 0) {
		ssize_t n = read(fd, w->iobuf, IOBUF);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return err_errno(w->e, ERR_INTERNAL, "layer: read %s", abs);
		if (n == 0) /* the file shrank: the header said st_size; pad with zeros */
			return err_set(w->e, ERR_INTERNAL, "layer: %s shrank while it was read",
				       abs);
		if (n > left)
			n = (ssize_t)left; /* the file grew: the header said st_size */
		if (lw_data(w, w->iobuf, (size_t)n) < 0)
			return -1;
		left -= n;
	}
	return 0;
}

int lw_data(struct lw *w, const void *p, size_t n)
{
	return tar_write_data(&w->tw, p, n, w->e) < 0 ? tw_fail(w) : 0;
}

int lw_close(struct lw *w, struct layer_result *r)
{
	char hex[65];

	memset(r, 0, sizeof(*r));
	if (tar_write_end(&w->tw, w->e) < 0)
		return tw_fail(w);
	if (w->gz && pgz_finish(w->gz, w->e) < 0)
		return tw_fail(w);
	if (w->comp && archive_write_close(w->comp) != ARCHIVE_OK)
		return lw_fail(w, w->comp, "layer: finish compression");
	sha256_final_hex(&w->diff, hex);
	snprintf(r->diff_id, sizeof(r->diff_id), "sha256:%s", hex);
	r->size = oci_layout_blob_writer_size(w->bw);
	int ret = oci_layout_blob_writer_commit(w->bw, r->digest, w->e);
	w->bw = NULL;
	if (ret == 0 && w->o->on_write) {
		w->told_end = true;
		w->o->on_write(w->o->on_write_ctx, NULL, r->size, r->digest);
	}
	r->media_type = w->o->comp == LAYER_ZSTD   ? MT_OCI_LAYER_ZSTD
			: w->o->comp == LAYER_GZIP ? MT_OCI_LAYER_GZIP
						   : MT_OCI_LAYER;
	r->n_entries = w->n_entries;
	return ret;
}

void lw_free(struct lw *w)
{
	if (w->o && w->o->on_write && !w->told_end)
		w->o->on_write(w->o->on_write_ctx, NULL, -1, NULL);
	if (w->comp)
		archive_write_free(w->comp);
	pgz_free(w->gz);
	oci_layout_blob_writer_abort(w->bw);
	sha256_free(&w->diff);
	free(w->iobuf);
	memset(w, 0, sizeof(*w));
}

static int cmpstr(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The xattrs of path worth keeping in a layer (not overlay's own, not
 * SELinux labels of the build machine). */
static int get_xattrs(struct xattrs *x, const char *path, struct err *e)
{
	ssize_t nl = llistxattr(path, x->names, sizeof(x->names));
	size_t used = 0;

	x->n = 0;
	if (nl <= 0)
		return 0;
	if (!x->vals && !(x->vals = malloc(1u << 17)))
		return err_oom(e);
	for (ssize_t i = 0; i < nl && x->n < ARRAY_SIZE(x->v);
	     i += (ssize_t)strlen(x->names + i) + 1) {
		char *n = x->names + i;
		if (str_starts(n, "trusted.overlay.") || str_starts(n, "user.overlay.") ||
		    strcmp(n, "security.selinux") == 0)
			continue;
		ssize_t vl = lgetxattr(path, n, x->vals + used, (1u << 17) - used);
		if (vl < 0)
			continue;
		x->v[x->n].name = n;
		x->v[x->n].value = x->vals + used;
		x->v[x->n].len = (size_t)vl;
		x->n++;
		used += (size_t)vl;
	}
	return 0;
}

static bool is_opaque(const char *path)
{
	char v[4];
	ssize_t n = lgetxattr(path, "trusted.overlay.opaque", v, sizeof(v));

	if (n < 0)
		n = lgetxattr(path, "user.overlay.opaque", v, sizeof(v));
	return n == 1 && v[0] == 'y';
}

static int write_header_simple(struct dw *w, const char *name, int type, uint32_t mode)
{
	struct tar_entry te = {.path = name, .type = type, .mode = mode};

	return lw_header(&w->lw, &te);
}

static int walk(struct dw *w, const char *abs, const char *rel);

static int tar_type_of(mode_t m)
{
	switch (m & S_IFMT) {
	case S_IFDIR:
		return TAR_DIR;
	case S_IFLNK:
		return TAR_SYMLINK;
	case S_IFCHR:
		return TAR_CHR;
	case S_IFBLK:
		return TAR_BLK;
	case S_IFIFO:
		return TAR_FIFO;
	default:
		return TAR_REG;
	}
}

/* A hard link to a file already written: its first path, else NULL (and
 * the file is remembered under rel). */
static const char *hardlink_of(struct dw *w, const struct stat *st, const char *rel, int *err)
{
	*err = 0;
	for (size_t i = 0; i < w->n_links; i++)
		if (w->links[i].dev == st->st_dev && w->links[i].ino == st->st_ino)
			return w->links[i].path;
	if (w->n_links == w->a_links) {
		size_t na = w->a_links ? w->a_links * 2 : 64;
		void *nl = realloc(w->links, na * sizeof(*w->links));
		if (!nl) {
			*err = err_oom(w->e);
			return NULL;
		}
		w->links = nl;
		w->a_links = na;
	}
	w->links[w->n_links].dev = st->st_dev;
	w->links[w->n_links].ino = st->st_ino;
	w->links[w->n_links].path = xstrdup_e(rel, w->e);
	if (!w->links[w->n_links].path) {
		*err = -1;
		return NULL;
	}
	w->n_links++;
	return NULL;
}

static int emit(struct dw *w, const char *abs, const char *rel, const char *base)
{
	struct stat st;
	char name[PATH_MAX + 2], target[PATH_MAX];
	struct tar_entry te = {0};
	int ret = -1, fd = -1;

	if (lstat(abs, &st) < 0)
		return err_errno(w->e, ERR_INTERNAL, "layer: stat %s", abs);
	if (w->o->overlay_whiteouts && S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0)) {
		/* Overlay whiteout: the file was deleted. */
		const char *slash = strrchr(rel, '/');
		int n = slash ? snprintf(name, sizeof(name), "%.*s/.wh.%s", (int)(slash - rel), rel,
					 base)
			      : snprintf(name, sizeof(name), ".wh.%s", base);
		if (n >= (int)sizeof(name))
			return err_set(w->e, ERR_INPUT, "layer: name too long: %.100s...", rel);
		return write_header_simple(w, name, TAR_REG, 0644);
	}
	if (snprintf(name, sizeof(name), "%s%s", rel, S_ISDIR(st.st_mode) ? "/" : "") >=
	    (int)sizeof(name))
		return err_set(w->e, ERR_INPUT, "layer: name too long: %.100s...", rel);
	te.path = name;
	te.type = tar_type_of(st.st_mode);
	te.mode = st.st_mode & 07777;
	te.uid = st.st_uid;
	te.gid = st.st_gid;
	if (w->o->map_self_root) {
		if (st.st_uid == w->self_uid)
			te.uid = 0;
		if (st.st_gid == w->self_gid)
			te.gid = 0;
	}
	te.mtime = st.st_mtime;
	if (w->o->clamp_mtime >= 0 && te.mtime > w->o->clamp_mtime)
		te.mtime = w->o->clamp_mtime;
	if (!S_ISLNK(st.st_mode)) {
		if (get_xattrs(&w->xa, abs, w->e) < 0)
			return -1;
		te.xattrs = w->xa.v;
		te.n_xattrs = w->xa.n;
	}
	if (S_ISREG(st.st_mode) && st.st_nlink > 1) {
		int herr;
		const char *first = hardlink_of(w, &st, rel, &herr);
		if (herr < 0)
			return -1;
		if (first) {
			te.type = TAR_LINK;
			te.linkname = first;
			return lw_header(&w->lw, &te);
		}
	}
	if (S_ISLNK(st.st_mode)) {
		ssize_t tl = readlink(abs, target, sizeof(target) - 1);
		if (tl < 0)
			return err_errno(w->e, ERR_INTERNAL, "layer: readlink %s", abs);
		target[tl] = 0;
		te.linkname = target;
	} else if (S_ISREG(st.st_mode)) {
		te.size = st.st_size;
		fd = open(abs, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			return err_errno(w->e, ERR_INTERNAL, "layer: open %s", abs);
	} else if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) {
		te.devmajor = major(st.st_rdev);
		te.devminor = minor(st.st_rdev);
	}
	if (lw_header(&w->lw, &te) < 0)
		goto out;
	if (fd >= 0 && lw_file_data(&w->lw, fd, abs, st.st_size) < 0)
		goto out;
	if (S_ISDIR(st.st_mode)) {
		if (w->o->overlay_whiteouts && is_opaque(abs)) {
			char opq[PATH_MAX + 16];
			if (snprintf(opq, sizeof(opq), "%s/.wh..wh..opq", rel) >=
				(int)sizeof(opq) ||
			    write_header_simple(w, opq, TAR_REG, 0644) < 0)
				goto out;
		}
		if (walk(w, abs, rel) < 0)
			goto out;
	}
	ret = 0;
out:
	if (fd >= 0)
		close(fd);
	return ret;
}

static int walk(struct dw *w, const char *abs, const char *rel)
{
	DIR *d = opendir(abs);
	struct dirent *de;
	char **names = NULL;
	size_t n = 0, a = 0;
	int ret = -1;

	if (!d)
		return err_errno(w->e, ERR_INTERNAL, "layer: open directory %s", abs);
	while ((de = readdir(d))) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (n == a) {
			a = a ? a * 2 : 32;
			char **nn = realloc(names, a * sizeof(char *));
			if (!nn) {
				err_oom(w->e);
				goto out;
			}
			names = nn;
		}
		names[n] = xstrdup_e(de->d_name, w->e);
		if (!names[n])
			goto out;
		n++;
	}
	if (n)
		qsort(names, n, sizeof(char *), cmpstr);
	for (size_t i = 0; i < n; i++) {
		char cabs[PATH_MAX], crel[PATH_MAX];
		if (snprintf(cabs, sizeof(cabs), "%s/%s", abs, names[i]) >= (int)sizeof(cabs) ||
		    snprintf(crel, sizeof(crel), "%s%s%s", rel, *rel ? "/" : "", names[i]) >=
			(int)sizeof(crel)) {
			err_set(w->e, ERR_INPUT, "layer: path too long under %s", abs);
			goto out;
		}
		if (emit(w, cabs, crel, names[i]) < 0)
			goto out;
	}
	ret = 0;
out:
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	closedir(d);
	return ret;
}

int oci_layer_write_dir(struct oci_layout *l, const char *dir, const struct layer_opts *o,
			struct layer_result *r, struct err *e)
{
	struct dw w;
	int ret = -1;

	memset(&w, 0, sizeof(w));
	memset(r, 0, sizeof(*r));
	w.o = o;
	w.e = e;
	w.self_uid = geteuid();
	w.self_gid = getegid();
	if (lw_open(&w.lw, l, o, e) == 0 && walk(&w, dir, "") == 0)
		ret = lw_close(&w.lw, r);
	lw_free(&w.lw);
	for (size_t i = 0; i < w.n_links; i++)
		free(w.links[i].path);
	free(w.links);
	free(w.xa.vals);
	return ret;
}
