/* Tar writer (see tar.h). Written from POSIX.1-2001 (pax, ustar) and GNU
 * tar's format description. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/utf8.h"
#include "core/util.h"
#include "oci/tar.h"
#include "oci/tar_fmt.h"

void tar_writer_init(struct tar_writer *w, tar_write_fn fn, void *ctx)
{
	memset(w, 0, sizeof(*w));
	w->fn = fn;
	w->ctx = ctx;
}

static int w_out(struct tar_writer *w, const void *p, size_t n, struct err *e)
{
	if (n == 0)
		return 0;
	if (w->fn(w->ctx, p, n, e) < 0)
		return -1;
	w->written += n;
	return 0;
}

static bool ascii_clean(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] >= 0x80)
			return false;
	return true;
}

static void put_octal(unsigned char *h, size_t off, size_t len, uint64_t v)
{
	/* len-1 digits and a NUL */
	char tmp[24];
	snprintf(tmp, sizeof(tmp), "%0*" PRIo64, (int)(len - 1), v);
	memcpy(h + off, tmp, len - 1);
	h[off + len - 1] = 0;
}

static bool fits_octal(int64_t v, size_t len)
{
	return v >= 0 && (len - 1 >= 21 || (uint64_t)v < ((uint64_t)1 << (3 * (len - 1))));
}

static int pax_add(struct buf *p, const char *k, const void *v, size_t vl, struct err *e)
{
	size_t base = strlen(k) + vl + 3, d = 1, n;
	char num[24];

	for (;;) {
		n = base + d;
		int dd = snprintf(num, sizeof(num), "%zu", n);
		if ((size_t)dd == d)
			break;
		d = (size_t)dd;
	}
	return buf_addf(p, e, "%s %s=", num, k) < 0 || buf_add(p, v, vl, e) < 0 ||
		       buf_add(p, "\n", 1, e) < 0
		   ? -1
		   : 0;
}

static int pax_addnum(struct buf *p, const char *k, int64_t v, struct err *e)
{
	char num[24];
	int n = snprintf(num, sizeof(num), "%" PRId64, v);
	return pax_add(p, k, num, (size_t)n, e);
}

/* Split path into ustar prefix (<=155) and name (<=100) at a '/'. */
static bool ustar_split(const char *s, size_t n, size_t *cut)
{
	if (n <= 100) {
		*cut = 0;
		return true;
	}
	if (n > 256)
		return false;
	for (size_t i = n - 1; i > 0; i--) {
		if (s[i] != '/')
			continue;
		if (i <= 155 && n - i - 1 <= 100 && n - i - 1 > 0) {
			*cut = i;
			return true;
		}
		if (i < n - 101)
			break;
	}
	return false;
}

static int cmp_xattr(const void *a, const void *b)
{
	return strcmp(((const struct tar_xattr *)a)->name, ((const struct tar_xattr *)b)->name);
}

static void fill_header(unsigned char *h, const char *name, size_t nl, size_t cut,
			const struct tar_entry *x, const char *link, int type, int64_t size)
{
	memset(h, 0, BLK);
	if (cut) {
		memcpy(h + 345, name, cut);
		memcpy(h, name + cut + 1, nl - cut - 1);
	} else {
		memcpy(h, name, nl > 100 ? 100 : nl);
	}
	put_octal(h, F_MODE, x->mode & 07777);
	put_octal(h, F_UID, fits_octal(x->uid, 8) ? (uint64_t)x->uid : 0);
	put_octal(h, F_GID, fits_octal(x->gid, 8) ? (uint64_t)x->gid : 0);
	put_octal(h, F_SIZE, fits_octal(size, 12) ? (uint64_t)size : 0);
	put_octal(h, F_MTIME, fits_octal(x->mtime, 12) ? (uint64_t)x->mtime : 0);
	h[F_TYPE] = (unsigned char)type;
	if (link) {
		size_t ll = strlen(link);
		memcpy(h + 157, link, ll > 100 ? 100 : ll);
	}
	memcpy(h + F_MAGIC,
	       "ustar\0"
	       "00",
	       8);
	if (x->uname && strlen(x->uname) < 32)
		memcpy(h + 265, x->uname, strlen(x->uname));
	if (x->gname && strlen(x->gname) < 32)
		memcpy(h + 297, x->gname, strlen(x->gname));
	put_octal(h, F_DEVMAJ, x->devmajor & 07777777);
	put_octal(h, F_DEVMIN, x->devminor & 07777777);
	unsigned sum = 0;
	memset(h + 148, ' ', 8);
	for (size_t i = 0; i < BLK; i++)
		sum += h[i];
	char ck[8];
	snprintf(ck, sizeof(ck), "%06o", sum & 0777777);
	memcpy(h + 148, ck, 6);
	h[154] = 0;
	h[155] = ' ';
}

/* The ustar name of a PAX header: "PaxHeaders/" and the entry's base name
 * with anything but printable ASCII as '_', so old readers show something
 * sensible. */
static void pax_name(const char *path, char *out, size_t outsz)
{
	const char *b = path + strlen(path);
	while (b > path && b[-1] == '/')
		b--;
	const char *end = b;
	while (b > path && b[-1] != '/')
		b--;
	int o = snprintf(out, outsz, "PaxHeaders/");
	for (const char *p = b; p < end && (size_t)o + 1 < outsz; p++)
		out[o++] = (*p > 0x20 && *p < 0x7f) ? *p : '_';
	out[o] = 0;
}

int tar_write_header(struct tar_writer *w, const struct tar_entry *x, struct err *e)
{
	static const unsigned char zero[BLK];
	unsigned char h[BLK];
	struct buf pax = BUF_INIT;
	const char *path = x->path ? x->path : "";
	const char *link =
	    x->type == TAR_LINK || x->type == TAR_SYMLINK ? (x->linkname ? x->linkname : "") : NULL;
	size_t pl = strlen(path), ll = link ? strlen(link) : 0, cut = 0;
	int64_t size = x->type == TAR_REG ? x->size : 0;
	bool binary = false;
	int ret = -1;

	if (w->data_left > 0)
		return err_set(e, ERR_INTERNAL,
			       "tar: header before the previous entry's data is complete");
	if (size < 0)
		return err_set(e, ERR_INPUT, "tar: negative size for %.200s", path);
	buf_init(&pax, META_MAX);
	bool p_ok = ascii_clean(path, pl) && ustar_split(path, pl, &cut);
	bool l_ok = !link || (ascii_clean(link, ll) && ll <= 100);
	bool u_ok = !x->uname || (ascii_clean(x->uname, strlen(x->uname)) && strlen(x->uname) < 32);
	bool g_ok = !x->gname || (ascii_clean(x->gname, strlen(x->gname)) && strlen(x->gname) < 32);
	if ((!p_ok && !utf8_valid(path, pl)) || (!l_ok && !utf8_valid(link, ll)) ||
	    (!u_ok && !utf8_valid(x->uname, strlen(x->uname))) ||
	    (!g_ok && !utf8_valid(x->gname, strlen(x->gname))))
		binary = true;
	if (binary && pax_add(&pax, "hdrcharset", "BINARY", 6, e) < 0)
		goto out;
	if (!p_ok && pax_add(&pax, "path", path, pl, e) < 0)
		goto out;
	if (!l_ok && pax_add(&pax, "linkpath", link, ll, e) < 0)
		goto out;
	if (!u_ok && pax_add(&pax, "uname", x->uname, strlen(x->uname), e) < 0)
		goto out;
	if (!g_ok && pax_add(&pax, "gname", x->gname, strlen(x->gname), e) < 0)
		goto out;
	if (!fits_octal(x->uid, 8) && pax_addnum(&pax, "uid", x->uid, e) < 0)
		goto out;
	if (!fits_octal(x->gid, 8) && pax_addnum(&pax, "gid", x->gid, e) < 0)
		goto out;
	if (!fits_octal(size, 12) && pax_addnum(&pax, "size", size, e) < 0)
		goto out;
	if (!fits_octal(x->mtime, 12) && pax_addnum(&pax, "mtime", x->mtime, e) < 0)
		goto out;
	if (x->n_xattrs) {
		struct tar_xattr *xs = malloc(x->n_xattrs * sizeof(*xs));
		if (!xs) {
			err_oom(e);
			goto out;
		}
		memcpy(xs, x->xattrs, x->n_xattrs * sizeof(*xs));
		qsort(xs, x->n_xattrs, sizeof(*xs), cmp_xattr);
		for (size_t i = 0; i < x->n_xattrs; i++) {
			char key[300];
			if (!xs[i].name[0] || strchr(xs[i].name, '=') ||
			    snprintf(key, sizeof(key), "SCHILY.xattr.%s", xs[i].name) >=
				(int)sizeof(key)) {
				err_set(e, ERR_INPUT,
					"tar: xattr name \"%.100s\" of %.200s cannot be stored",
					xs[i].name, path);
				free(xs);
				goto out;
			}
			if (pax_add(&pax, key, xs[i].value, xs[i].len, e) < 0) {
				free(xs);
				goto out;
			}
		}
		free(xs);
	}
	if (pax.len) {
		char pn[100];
		struct tar_entry ph = {.mode = 0644,
				       .mtime = fits_octal(x->mtime, 12) ? x->mtime : 0};
		pax_name(path, pn, sizeof(pn));
		fill_header(h, pn, strlen(pn), 0, &ph, NULL, 'x', (int64_t)pax.len);
		if (w_out(w, h, BLK, e) < 0 || w_out(w, pax.data, pax.len, e) < 0 ||
		    w_out(w, zero, (BLK - pax.len % BLK) % BLK, e) < 0)
			goto out;
	}
	if (!p_ok)
		cut = 0;
	fill_header(h, path, pl, cut, x, link, x->type, size);
	if (w_out(w, h, BLK, e) < 0)
		goto out;
	w->data_left = size;
	w->pad = (uint32_t)((BLK - (uint64_t)size % BLK) % BLK);
	ret = 0;
out:
	buf_free(&pax);
	return ret;
}

int tar_write_data(struct tar_writer *w, const void *p, size_t n, struct err *e)
{
	static const unsigned char zero[BLK];

	if ((int64_t)n > w->data_left)
		return err_set(e, ERR_INTERNAL, "tar: more data than the header announced");
	if (w_out(w, p, n, e) < 0)
		return -1;
	w->data_left -= (int64_t)n;
	if (w->data_left == 0 && w->pad) {
		if (w_out(w, zero, w->pad, e) < 0)
			return -1;
		w->pad = 0;
	}
	return 0;
}

int tar_write_end(struct tar_writer *w, struct err *e)
{
	static const unsigned char zero[2 * BLK];

	if (w->data_left > 0)
		return err_set(e, ERR_INTERNAL, "tar: archive ended inside an entry's data");
	return w_out(w, zero, sizeof(zero), e);
}
