#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
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
#include "oci/layer.h"
#include "oci/tar.h"

/* Parallel gzip, as pigz does: the tar stream is cut into fixed-size
 * chunks, each compressed on its own thread into a complete gzip member,
 * and the members are written in order (a multi-member gzip file, which
 * every gzip reader accepts). Fixed chunk boundaries keep it deterministic. */
#define PGZ_CHUNK (4u << 20)
#define PGZ_SLOTS 5

struct pgz_slot {
	char *in, *out;
	size_t n_in, n_out, cap_out;
	int level;
	int rc;
	bool busy;
	pthread_t th;
};

struct xattrs {
	struct tar_xattr v[64];
	size_t n;
	char names[4096];
	unsigned char *vals;
};

struct lw {
	struct archive *comp;
	struct tar_writer tw;
	struct xattrs xa;
	struct pgz_slot slots[PGZ_SLOTS];
	int n_threads, next_slot, oldest, in_flight;
	struct oci_blob_writer *bw;
	struct sha256 diff;
	const struct layer_opts *o;
	struct err *e;
	int failed; /* an error already stored in e */
	uid_t self_uid;
	gid_t self_gid;
	struct {
		dev_t dev;
		ino_t ino;
		char *path;
	} * links;
	size_t n_links, a_links;
	char *iobuf;
	uint64_t n_entries;
};

#define IOBUF (1u << 20)

static la_ssize_t comp_write(struct archive *a, void *ctx, const void *p, size_t n)
{
	struct lw *w = ctx;

	(void)a;
	if (oci_layout_blob_writer_write(w->bw, p, n, w->e) < 0) {
		w->failed = 1;
		return -1;
	}
	return (la_ssize_t)n;
}

static void *pgz_worker(void *arg)
{
	struct pgz_slot *sl = arg;
	struct archive *a = archive_write_new();
	struct archive_entry *ae = archive_entry_new();
	char opt[64];

	sl->rc = -1;
	if (!a || !ae)
		goto out;
	if (archive_write_set_format_raw(a) != ARCHIVE_OK ||
	    archive_write_add_filter_gzip(a) != ARCHIVE_OK)
		goto out;
	archive_write_set_options(a, "gzip:!timestamp");
	if (sl->level > 0) {
		snprintf(opt, sizeof(opt), "gzip:compression-level=%d", sl->level);
		archive_write_set_options(a, opt);
	}
	archive_write_set_bytes_per_block(a, 0);
	if (archive_write_open_memory(a, sl->out, sl->cap_out, &sl->n_out) != ARCHIVE_OK)
		goto out;
	archive_entry_set_pathname(ae, "layer.tar");
	archive_entry_set_mode(ae, AE_IFREG | 0644);
	if (archive_write_header(a, ae) != ARCHIVE_OK ||
	    archive_write_data(a, sl->in, sl->n_in) != (la_ssize_t)sl->n_in ||
	    archive_write_close(a) != ARCHIVE_OK)
		goto out;
	sl->rc = 0;
out:
	archive_entry_free(ae);
	if (a)
		archive_write_free(a);
	return NULL;
}

/* Wait for the oldest chunk in flight and write its gzip member. */
static int pgz_drain_one(struct lw *w)
{
	struct pgz_slot *sl = &w->slots[w->oldest];
	int r = 0;

	pthread_join(sl->th, NULL);
	sl->busy = false;
	sl->n_in = 0;
	w->in_flight--;
	w->oldest = (w->oldest + 1) % PGZ_SLOTS;
	if (sl->rc < 0) {
		if (!w->failed)
			err_set(w->e, ERR_INTERNAL, "layer: gzip of a chunk failed");
		w->failed = 1;
		r = -1;
	} else if (!w->failed && comp_write(NULL, w, sl->out, sl->n_out) < 0) {
		r = -1;
	}
	return r;
}

static int pgz_submit(struct lw *w)
{
	struct pgz_slot *sl = &w->slots[w->next_slot];

	if (sl->n_in == 0)
		return 0;
	if (pthread_create(&sl->th, NULL, pgz_worker, sl) != 0) {
		/* No thread: compress here. */
		pgz_worker(sl);
		sl->busy = true;
		w->in_flight++;
		w->next_slot = (w->next_slot + 1) % PGZ_SLOTS;
		return pgz_drain_one(w);
	}
	sl->busy = true;
	w->in_flight++;
	w->next_slot = (w->next_slot + 1) % PGZ_SLOTS;
	return 0;
}

static int pgz_write(struct lw *w, const char *p, size_t n)
{
	while (n > 0) {
		struct pgz_slot *sl = &w->slots[w->next_slot];
		if (sl->busy && pgz_drain_one(w) < 0)
			return -1;
		if (!sl->in) {
			sl->in = malloc(PGZ_CHUNK);
			sl->cap_out = PGZ_CHUNK + PGZ_CHUNK / 8 + 65536;
			sl->out = malloc(sl->cap_out);
			sl->level = w->o->level;
			if (!sl->in || !sl->out) {
				w->failed = 1;
				return err_oom(w->e);
			}
		}
		size_t k = PGZ_CHUNK - sl->n_in;
		if (k > n)
			k = n;
		memcpy(sl->in + sl->n_in, p, k);
		sl->n_in += k;
		p += k;
		n -= k;
		if (sl->n_in == PGZ_CHUNK) {
			if (pgz_submit(w) < 0)
				return -1;
			/* Keep at most n_threads chunks compressing while this thread fills the
			 * next. */
			while (w->in_flight > w->n_threads)
				if (pgz_drain_one(w) < 0)
					return -1;
		}
	}
	return 0;
}

static int pgz_finish(struct lw *w)
{
	int r = w->failed ? -1 : pgz_submit(w);

	while (w->in_flight > 0)
		if (pgz_drain_one(w) < 0)
			r = -1;
	return r;
}

static void pgz_free(struct lw *w)
{
	while (w->in_flight > 0)
		pgz_drain_one(w);
	for (int i = 0; i < PGZ_SLOTS; i++) {
		free(w->slots[i].in);
		free(w->slots[i].out);
	}
}

static int tar_sink(void *ctx, const void *p, size_t n, struct err *e)
{
	struct lw *w = ctx;

	(void)e;
	if (w->failed)
		return -1;
	sha256_update(&w->diff, p, n);
	if (w->n_threads > 1)
		return pgz_write(w, p, n) < 0 ? -1 : 0;
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

static int write_header_simple(struct lw *w, const char *name, int type, uint32_t mode)
{
	struct tar_entry te = {.path = name, .type = type, .mode = mode};

	w->n_entries++;
	return tar_write_header(&w->tw, &te, w->e) < 0 ? tw_fail(w) : 0;
}

static int walk(struct lw *w, const char *abs, const char *rel);

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
static const char *hardlink_of(struct lw *w, const struct stat *st, const char *rel, int *err)
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

static int copy_file_data(struct lw *w, int fd, const char *abs, int64_t size)
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
		if (tar_write_data(&w->tw, w->iobuf, (size_t)n, w->e) < 0)
			return tw_fail(w);
		left -= n;
	}
	return 0;
}

static int emit(struct lw *w, const char *abs, const char *rel, const char *base)
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
			w->n_entries++;
			return tar_write_header(&w->tw, &te, w->e) < 0 ? tw_fail(w) : 0;
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
	if (tar_write_header(&w->tw, &te, w->e) < 0) {
		tw_fail(w);
		goto out;
	}
	w->n_entries++;
	if (fd >= 0 && copy_file_data(w, fd, abs, st.st_size) < 0)
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

static int walk(struct lw *w, const char *abs, const char *rel)
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
	struct lw w;
	char hex[65];
	int ret = -1;

	memset(&w, 0, sizeof(w));
	memset(r, 0, sizeof(*r));
	w.o = o;
	w.e = e;
	w.self_uid = geteuid();
	w.self_gid = getegid();
	w.iobuf = malloc(IOBUF);
	if (!w.iobuf)
		return err_oom(e);
	if (sha256_init(&w.diff, e) < 0)
		goto out;
	if (oci_layout_blob_writer_open(l, NULL, -1, &w.bw, e) < 0)
		goto out;
	if (o->comp == LAYER_GZIP && o->threads > 1) {
		w.n_threads = o->threads > PGZ_SLOTS - 1 ? PGZ_SLOTS - 1 : o->threads;
	} else if (o->comp != LAYER_NONE) {
		char opt[64];
		w.comp = archive_write_new();
		if (!w.comp || archive_write_set_format_raw(w.comp) != ARCHIVE_OK)
			goto arch_fail_comp;
		if (o->comp == LAYER_ZSTD) {
			if (archive_write_add_filter_zstd(w.comp) != ARCHIVE_OK)
				goto arch_fail_comp;
			if (o->level > 0) {
				snprintf(opt, sizeof(opt), "zstd:compression-level=%d", o->level);
				archive_write_set_options(w.comp, opt);
			}
			if (o->threads > 1) {
				snprintf(opt, sizeof(opt), "zstd:threads=%d", o->threads);
				archive_write_set_options(w.comp, opt);
			}
		} else {
			if (archive_write_add_filter_gzip(w.comp) != ARCHIVE_OK)
				goto arch_fail_comp;
			/* No timestamp or name in the gzip header: same input, same bytes. */
			archive_write_set_options(w.comp, "gzip:!timestamp");
			if (o->level > 0) {
				snprintf(opt, sizeof(opt), "gzip:compression-level=%d", o->level);
				archive_write_set_options(w.comp, opt);
			}
		}
		archive_write_set_bytes_per_block(w.comp, 0);
		if (archive_write_open(w.comp, &w, NULL, comp_write, NULL) != ARCHIVE_OK)
			goto arch_fail_comp;
		struct archive_entry *ae = archive_entry_new();
		archive_entry_set_pathname(ae, "layer.tar");
		archive_entry_set_mode(ae, AE_IFREG | 0644);
		int hr = archive_write_header(w.comp, ae);
		archive_entry_free(ae);
		if (hr != ARCHIVE_OK)
			goto arch_fail_comp;
	}
	tar_writer_init(&w.tw, tar_sink, &w);
	if (walk(&w, dir, "") < 0)
		goto out;
	if (tar_write_end(&w.tw, e) < 0) {
		tw_fail(&w);
		goto out;
	}
	if (w.n_threads > 1 && pgz_finish(&w) < 0)
		goto out;
	if (w.comp && archive_write_close(w.comp) != ARCHIVE_OK) {
		lw_fail(&w, w.comp, "layer: finish compression");
		goto out;
	}
	sha256_final_hex(&w.diff, hex);
	snprintf(r->diff_id, sizeof(r->diff_id), "sha256:%s", hex);
	r->size = oci_layout_blob_writer_size(w.bw);
	ret = oci_layout_blob_writer_commit(w.bw, r->digest, e);
	w.bw = NULL;
	r->media_type = o->comp == LAYER_ZSTD	? MT_OCI_LAYER_ZSTD
			: o->comp == LAYER_GZIP ? MT_OCI_LAYER_GZIP
						: MT_OCI_LAYER;
	r->n_entries = w.n_entries;
	goto out;
arch_fail_comp:
	lw_fail(&w, w.comp, "layer: compressor");
out:
	if (w.comp)
		archive_write_free(w.comp);
	pgz_free(&w);
	oci_layout_blob_writer_abort(w.bw);
	sha256_free(&w.diff);
	for (size_t i = 0; i < w.n_links; i++)
		free(w.links[i].path);
	free(w.links);
	free(w.xa.vals);
	free(w.iobuf);
	return ret;
}
