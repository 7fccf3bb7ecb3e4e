/* Tar reader that treats every name as bytes (see tar.h; the writer is
 * tar_write.c). Written from POSIX.1-2001 (pax, ustar) and GNU tar's format description. */
#include <archive.h>
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

struct override {
	bool has_path, has_link, has_size, has_uid, has_gid, has_uname, has_gname, has_mtime;
	struct buf path, link, uname, gname;
	int64_t size, uid, gid, mtime;
};

struct tar_reader {
	tar_read_fn fn;
	void *ctx;
	struct archive *arc; /* owned decompressor (tar_reader_open) */
	const unsigned char *mem;
	size_t mem_len;
	unsigned char *in;
	size_t in_len, in_pos;
	bool src_eof;
	uint64_t offset;
	int64_t data_left;
	uint32_t pad_left;
	bool done;
	struct tar_entry ent;
	struct buf path, link, uname, gname;
	struct tar_xattr *xa;
	size_t n_xa, a_xa;
	struct override local, global;
	bool local_xattrs; /* the PAX header named xattrs: they apply to the next entry */
	struct tar_xattr *pxa;
	size_t n_pxa, a_pxa;
};

/* ------------------------------------------------------------ sources */

static ssize_t arc_read(void *ctx, void *buf, size_t n, struct err *e)
{
	la_ssize_t r = archive_read_data((struct archive *)ctx, buf, n);

	if (r < 0)
		return err_archive(e, ERR_INPUT, ctx, "decompress");
	return (ssize_t)r;
}

static void override_free(struct override *o)
{
	buf_free(&o->path);
	buf_free(&o->link);
	buf_free(&o->uname);
	buf_free(&o->gname);
	memset(o, 0, sizeof(*o));
}

static void xattrs_clear(struct tar_xattr *x, size_t *n)
{
	for (size_t i = 0; i < *n; i++) {
		free((char *)x[i].name);
		free((unsigned char *)x[i].value);
	}
	*n = 0;
}

struct tar_reader *tar_reader_new(tar_read_fn fn, void *ctx, struct err *e)
{
	struct tar_reader *r = calloc(1, sizeof(*r));

	if (!r || !(r->in = malloc(INBUF))) {
		free(r);
		err_oom(e);
		return NULL;
	}
	r->fn = fn;
	r->ctx = ctx;
	buf_init(&r->path, NAME_CAP);
	buf_init(&r->link, NAME_CAP);
	buf_init(&r->uname, NAME_CAP);
	buf_init(&r->gname, NAME_CAP);
	return r;
}

struct tar_reader *tar_reader_mem(const void *p, size_t n, struct err *e)
{
	struct tar_reader *r = tar_reader_new(NULL, NULL, e);

	if (r) {
		r->mem = p;
		r->mem_len = n;
	}
	return r;
}

struct tar_reader *tar_reader_open(const char *path, struct err *e)
{
	struct archive *a;
	struct archive_entry *ae;
	struct tar_reader *r;
	struct stat st;

	if (stat(path, &st) == 0 && S_ISREG(st.st_mode) && st.st_size == 0)
		return tar_reader_mem("", 0, e); /* an empty file: an empty archive */
	a = archive_read_new();
	if (!a) {
		err_oom(e);
		return NULL;
	}
	archive_read_support_filter_all(a);
	archive_read_support_format_raw(a);
	if (archive_read_open_filename(a, path, 1 << 17) != ARCHIVE_OK) {
		err_archive(e, ERR_INPUT, a, "open %s", path);
		archive_read_free(a);
		return NULL;
	}
	int rc = archive_read_next_header(a, &ae);
	if (rc != ARCHIVE_OK && rc != ARCHIVE_EOF) {
		err_archive(e, ERR_INPUT, a, "read %s", path);
		archive_read_free(a);
		return NULL;
	}
	r = tar_reader_new(arc_read, a, e);
	if (!r) {
		archive_read_free(a);
		return NULL;
	}
	r->arc = a;
	if (rc == ARCHIVE_EOF)
		r->src_eof = true; /* an empty file: an empty archive */
	return r;
}

void tar_reader_free(struct tar_reader *r)
{
	if (!r)
		return;
	if (r->arc)
		archive_read_free(r->arc);
	free(r->in);
	buf_free(&r->path);
	buf_free(&r->link);
	buf_free(&r->uname);
	buf_free(&r->gname);
	xattrs_clear(r->xa, &r->n_xa);
	free(r->xa);
	xattrs_clear(r->pxa, &r->n_pxa);
	free(r->pxa);
	override_free(&r->local);
	override_free(&r->global);
	free(r);
}

uint64_t tar_reader_offset(const struct tar_reader *r)
{
	return r->offset;
}

/* Up to n bytes from the source; *got 0 only at its end. */
static int src_read(struct tar_reader *r, void *buf, size_t n, size_t *got, struct err *e)
{
	*got = 0;
	while (!r->mem && r->in_pos == r->in_len) {
		if (r->src_eof)
			return 0;
		ssize_t k = r->fn(r->ctx, r->in, INBUF, e);
		if (k < 0)
			return -1;
		if (k == 0) {
			r->src_eof = true;
			return 0;
		}
		r->in_len = (size_t)k;
		r->in_pos = 0;
	}
	/* a memory reader's bytes are its buffer */
	const unsigned char *base = r->mem ? r->mem : r->in;
	size_t k = (r->mem ? r->mem_len : r->in_len) - r->in_pos;
	if (k > n)
		k = n;
	memcpy(buf, base + r->in_pos, k);
	r->in_pos += k;
	*got = k;
	r->offset += k;
	return 0;
}

/* Exactly n bytes; *got < n only at the source's end. */
static int src_full(struct tar_reader *r, void *buf, size_t n, size_t *got, struct err *e)
{
	size_t have = 0, k;

	while (have < n) {
		if (src_read(r, (char *)buf + have, n - have, &k, e) < 0)
			return -1;
		if (k == 0)
			break;
		have += k;
	}
	*got = have;
	return 0;
}

static int src_skip(struct tar_reader *r, uint64_t n, struct err *e)
{
	char tmp[16384];
	size_t k;

	if (r->mem) {
		if (n > r->mem_len - r->in_pos)
			return err_set(e, ERR_INPUT, "truncated tar (an entry's data ends early)");
		r->in_pos += (size_t)n;
		r->offset += n;
		return 0;
	}
	while (n > 0) {
		size_t want = n > sizeof(tmp) ? sizeof(tmp) : (size_t)n;
		if (r->in_pos < r->in_len) {
			/* inside the buffer: no copy */
			k = r->in_len - r->in_pos;
			if (k > want)
				k = want;
			r->in_pos += k;
			r->offset += k;
		} else if (src_read(r, tmp, want, &k, e) < 0) {
			return -1;
		}
		if (k == 0)
			return err_set(e, ERR_INPUT, "truncated tar (an entry's data ends early)");
		n -= k;
	}
	return 0;
}

/* ------------------------------------------------------------ header fields */

/* A numeric field: octal (leading spaces, ended by NUL or space) or GNU
 * base-256 (high bit of the first byte). */
static int num_field(const unsigned char *h, size_t off, size_t len, int64_t *out)
{
	const unsigned char *p = h + off;
	uint64_t v = 0;

	if (p[0] & 0x80) {
		/* base-256, big-endian; negative values (0xff) are refused */
		if (p[0] != 0x80)
			return -1;
		for (size_t i = 1; i < len; i++) {
			if (v >> 55)
				return -1;
			v = (v << 8) | p[i];
		}
		*out = (int64_t)v;
		return 0;
	}
	size_t i = 0;
	while (i < len && p[i] == ' ')
		i++;
	if (i == len || p[i] == 0) {
		*out = 0;
		return 0;
	}
	for (; i < len && p[i] >= '0' && p[i] <= '7'; i++) {
		if (v >> 60)
			return -1;
		v = v * 8 + (p[i] - '0');
	}
	for (; i < len; i++)
		if (p[i] != ' ' && p[i] != 0)
			return -1;
	*out = (int64_t)v;
	return 0;
}

static size_t field_len(const unsigned char *h, size_t off, size_t len)
{
	const void *z = memchr(h + off, 0, len);
	return z ? (size_t)((const unsigned char *)z - (h + off)) : len;
}

static bool checksum_ok(const unsigned char *h)
{
	int64_t want;
	uint64_t u = 0;
	int64_t s = 0;

	if (num_field(h, F_CHKSUM, &want) < 0)
		return false;
	for (size_t i = 0; i < BLK; i++) {
		unsigned char c = (i >= 148 && i < 156) ? ' ' : h[i];
		u += c;
		s += (signed char)c;
	}
	return (int64_t)u == want || s == want;
}

static bool all_zero(const unsigned char *h)
{
	for (size_t i = 0; i < BLK; i++)
		if (h[i])
			return false;
	return true;
}

/* ------------------------------------------------------------ PAX records */

static int xa_add(struct tar_xattr **v, size_t *n, size_t *a, const char *name, size_t nl,
		  const void *val, size_t vl, struct err *e)
{
	for (size_t i = 0; i < *n; i++) {
		if (strlen((*v)[i].name) == nl && memcmp((*v)[i].name, name, nl) == 0) {
			unsigned char *nv = malloc(vl ? vl : 1);
			if (!nv)
				return err_oom(e);
			memcpy(nv, val, vl);
			free((unsigned char *)(*v)[i].value);
			(*v)[i].value = nv;
			(*v)[i].len = vl;
			return 0;
		}
	}
	if (*n == *a) {
		size_t na = *a ? *a * 2 : 4;
		void *nv = realloc(*v, na * sizeof(**v));
		if (!nv)
			return err_oom(e);
		*v = nv;
		*a = na;
	}
	struct tar_xattr *x = &(*v)[*n];
	char *xn = xstrndup_e(name, nl, e);
	unsigned char *xv = malloc(vl ? vl : 1);
	if (!xn || !xv) {
		free(xn);
		free(xv);
		return err_oom(e);
	}
	memcpy(xv, val, vl);
	x->name = xn;
	x->value = xv;
	x->len = vl;
	(*n)++;
	return 0;
}

static int pax_int(const char *v, size_t n, int64_t *out, bool frac_ok)
{
	size_t i = 0;
	bool neg = false;
	int64_t x = 0;

	if (i < n && v[i] == '-') {
		neg = true;
		i++;
	}
	if (i == n || v[i] < '0' || v[i] > '9')
		return -1;
	for (; i < n && v[i] >= '0' && v[i] <= '9'; i++) {
		if (x > (INT64_MAX - 9) / 10)
			return -1;
		x = x * 10 + (v[i] - '0');
	}
	if (i < n && frac_ok && v[i] == '.') {
		for (i++; i < n && v[i] >= '0' && v[i] <= '9'; i++)
			;
	}
	if (i != n)
		return -1;
	*out = neg ? -x : x;
	return 0;
}

static int set_str(struct buf *b, bool *has, const char *v, size_t n, const char *key,
		   struct err *e)
{
	if (memchr(v, 0, n))
		return err_set(e, ERR_INPUT, "tar: PAX %s contains a NUL byte", key);
	buf_reset(b);
	*has = true;
	return buf_add(b, v, n, e);
}

/* LIBARCHIVE.xattr.NAME: NAME is %-encoded, the value base64. */
static int libarchive_xattr(struct tar_reader *r, const char *k, size_t kl, const char *v,
			    size_t vl, struct err *e)
{
	char name[512];
	size_t o = 0;

	for (size_t i = 0; i < kl; i++) {
		if (o + 1 >= sizeof(name))
			return 0;
		if (k[i] == '%' && i + 2 < kl) {
			char hx[3] = {k[i + 1], k[i + 2], 0};
			char *end;
			long c = strtol(hx, &end, 16);
			if (*end || c == 0)
				return 0;
			name[o++] = (char)c;
			i += 2;
		} else {
			name[o++] = k[i];
		}
	}
	for (size_t i = 0; i < r->n_pxa; i++)
		if (strlen(r->pxa[i].name) == o && memcmp(r->pxa[i].name, name, o) == 0)
			return 0; /* SCHILY.xattr of the same name wins */
	unsigned char *dec = malloc(vl * 3 / 4 + 4);
	if (!dec)
		return err_oom(e);
	long dl = base64_decode(v, vl, dec, false);
	int rc = dl < 0 ? 0 : xa_add(&r->pxa, &r->n_pxa, &r->a_pxa, name, o, dec, (size_t)dl, e);
	free(dec);
	return rc;
}

static int pax_record(struct tar_reader *r, struct override *o, bool global, const char *k,
		      size_t kl, const char *v, size_t vl, struct err *e)
{
#define KEY(s) (kl == sizeof(s) - 1 && memcmp(k, s, kl) == 0)
	int64_t x;

	if (KEY("path")) {
		if (!global && set_str(&o->path, &o->has_path, v, vl, "path", e) < 0)
			return -1;
	} else if (KEY("linkpath")) {
		if (!global && set_str(&o->link, &o->has_link, v, vl, "linkpath", e) < 0)
			return -1;
	} else if (KEY("uname")) {
		if (set_str(&o->uname, &o->has_uname, v, vl, "uname", e) < 0)
			return -1;
	} else if (KEY("gname")) {
		if (set_str(&o->gname, &o->has_gname, v, vl, "gname", e) < 0)
			return -1;
	} else if (KEY("size") || KEY("uid") || KEY("gid") || KEY("mtime")) {
		if (pax_int(v, vl, &x, KEY("mtime")) < 0 || (!KEY("mtime") && x < 0))
			return err_set(e, ERR_INPUT, "tar: PAX %.*s is not a number", (int)kl, k);
		if (KEY("size")) {
			if (!global) {
				o->size = x;
				o->has_size = true;
			}
		} else if (KEY("uid")) {
			o->uid = x;
			o->has_uid = true;
		} else if (KEY("gid")) {
			o->gid = x;
			o->has_gid = true;
		} else {
			o->mtime = x;
			o->has_mtime = true;
		}
	} else if (kl > 13 && memcmp(k, "SCHILY.xattr.", 13) == 0) {
		if (!global && xa_add(&r->pxa, &r->n_pxa, &r->a_pxa, k + 13, kl - 13, v, vl, e) < 0)
			return -1;
	} else if (kl > 16 && memcmp(k, "LIBARCHIVE.xattr.", 17) == 0) {
		if (!global && libarchive_xattr(r, k + 17, kl - 17, v, vl, e) < 0)
			return -1;
	} else if (kl > 11 && memcmp(k, "GNU.sparse.", 11) == 0) {
		return err_set(e, ERR_INPUT, "tar: sparse files are not supported");
	}
	/* Anything else (atime, ctime, comment, hdrcharset, ...) changes
	 * nothing bosun keeps. */
	return 0;
#undef KEY
}

static int parse_pax(struct tar_reader *r, const char *p, size_t n, bool global, struct err *e)
{
	struct override *o = global ? &r->global : &r->local;
	size_t i = 0;

	while (i < n) {
		size_t len = 0, j = i;
		if (p[j] == 0) /* NUL padding after the last record */
			break;
		while (j < n && p[j] >= '0' && p[j] <= '9' && j - i < 12)
			len = len * 10 + (size_t)(p[j++] - '0');
		if (j == i || j >= n || p[j] != ' ' || len <= j - i + 1 || len > n - i ||
		    p[i + len - 1] != '\n')
			return err_set(e, ERR_INPUT,
				       "tar: malformed PAX record at byte %zu of its header", i);
		const char *k = p + j + 1, *end = p + i + len - 1;
		const char *eq = memchr(k, '=', (size_t)(end - k));
		if (!eq || eq == k)
			return err_set(e, ERR_INPUT,
				       "tar: malformed PAX record at byte %zu of its header", i);
		if (pax_record(r, o, global, k, (size_t)(eq - k), eq + 1, (size_t)(end - eq - 1),
			       e) < 0)
			return -1;
		i += len;
	}
	return 0;
}

/* ------------------------------------------------------------ reading */

static int read_meta(struct tar_reader *r, int64_t size, struct buf *out, struct err *e)
{
	size_t got;
	uint64_t padded;

	if (size < 0 || (uint64_t)size > META_MAX)
		return err_set(e, ERR_INPUT,
			       "tar: an extended header of %" PRId64 " bytes (at most %u)", size,
			       META_MAX);
	buf_reset(out);
	if (size > 0) {
		char *tmp = malloc((size_t)size);
		if (!tmp)
			return err_oom(e);
		if (src_full(r, tmp, (size_t)size, &got, e) < 0 ||
		    (got < (size_t)size &&
		     err_set(e, ERR_INPUT, "truncated tar (in an extended header)") < 0) ||
		    buf_add(out, tmp, (size_t)size, e) < 0) {
			free(tmp);
			return -1;
		}
		free(tmp);
	}
	padded = ((uint64_t)size + BLK - 1) / BLK * BLK;
	return src_skip(r, padded - (uint64_t)size, e);
}

static int copy_field(struct buf *b, const unsigned char *h, size_t off, size_t len, struct err *e)
{
	buf_reset(b);
	return buf_add(b, h + off, field_len(h, off, len), e);
}

static int bad_num(struct err *e, uint64_t at)
{
	return err_set(e, ERR_INPUT, "tar: bad numeric field in the header at byte %" PRIu64, at);
}

/* Fill r->ent from the entry header h (type t, size field size) at byte at,
   with the PAX overrides and GNU long names read before it. */
static int fill_entry(struct tar_reader *r, const unsigned char *h, char t, int64_t size,
		      bool gnu_name, bool gnu_link, uint64_t at, struct err *e)
{
	bool posix = memcmp(h + F_MAGIC, "ustar\0", 6) == 0;
	struct tar_entry *x = &r->ent;
	int64_t v;
	memset(x, 0, sizeof(*x));
	if (r->local.has_path) {
		buf_reset(&r->path);
		if (buf_add(&r->path, r->local.path.data, r->local.path.len, e) < 0)
			return -1;
	} else if (!gnu_name) {
		size_t pl = posix ? field_len(h, F_PREFIX) : 0;
		buf_reset(&r->path);
		if ((pl &&
		     (buf_add(&r->path, h + 345, pl, e) < 0 || buf_add(&r->path, "/", 1, e) < 0)) ||
		    buf_add(&r->path, h, field_len(h, F_NAME), e) < 0)
			return -1;
	}
	if (r->local.has_link) {
		buf_reset(&r->link);
		if (buf_add(&r->link, r->local.link.data, r->local.link.len, e) < 0)
			return -1;
	} else if (!gnu_link && copy_field(&r->link, h, F_LINK, e) < 0) {
		return -1;
	}
	struct override *ov[2] = {&r->local, &r->global};
	if (copy_field(&r->uname, h, F_UNAME, e) < 0 || copy_field(&r->gname, h, F_GNAME, e) < 0)
		return -1;
	for (int i = 1; i >= 0; i--) {
		if (ov[i]->has_uname) {
			buf_reset(&r->uname);
			if (buf_add(&r->uname, ov[i]->uname.data, ov[i]->uname.len, e) < 0)
				return -1;
		}
		if (ov[i]->has_gname) {
			buf_reset(&r->gname);
			if (buf_add(&r->gname, ov[i]->gname.data, ov[i]->gname.len, e) < 0)
				return -1;
		}
	}
	if (num_field(h, F_MODE, &v) < 0)
		return bad_num(e, at);
	x->mode = (uint32_t)v & 07777;
	if (num_field(h, F_UID, &x->uid) < 0 || num_field(h, F_GID, &x->gid) < 0 ||
	    num_field(h, F_MTIME, &x->mtime) < 0)
		return bad_num(e, at);
	if (num_field(h, F_DEVMAJ, &v) < 0)
		v = 0;
	x->devmajor = (uint32_t)v;
	if (num_field(h, F_DEVMIN, &v) < 0)
		v = 0;
	x->devminor = (uint32_t)v;
	x->size = size;
	for (int i = 1; i >= 0; i--) {
		if (ov[i]->has_uid)
			x->uid = ov[i]->uid;
		if (ov[i]->has_gid)
			x->gid = ov[i]->gid;
		if (ov[i]->has_mtime)
			x->mtime = ov[i]->mtime;
	}
	if (r->local.has_size)
		x->size = r->local.size;
	switch (t) {
	case TAR_LINK:
	case TAR_SYMLINK:
	case TAR_CHR:
	case TAR_BLK:
	case TAR_DIR:
	case TAR_FIFO:
		x->type = t;
		break;
	case 'D': /* GNU dump directory: a directory whose data lists its contents */
		x->type = TAR_DIR;
		break;
	default: /* '0', '\0', '7' (contiguous) and unknown types read as files */
		x->type = TAR_REG;
		if (t == 0 && r->path.len && r->path.data[r->path.len - 1] == '/')
			x->type = TAR_DIR; /* pre-POSIX directory */
		break;
	}
	/* Header-only types carry no data, whatever the size says (as Go's
	 * archive/tar reads them); a GNU dumpdir's listing is skipped. */
	int64_t data = x->size;
	if (x->type != TAR_REG) {
		x->size = 0;
		if (t != 'D')
			data = 0;
	}
	if (memchr(r->path.data, 0, r->path.len) || memchr(r->link.data, 0, r->link.len)) {
		err_set(e, ERR_INPUT, "tar: a name contains a NUL byte");
		return -1;
	}
	x->path = r->path.data;
	x->linkname = x->type == TAR_LINK || x->type == TAR_SYMLINK ? r->link.data : buf_empty;
	x->uname = r->uname.data;
	x->gname = r->gname.data;
	/* the PAX header's xattrs become this entry's */
	xattrs_clear(r->xa, &r->n_xa);
	free(r->xa);
	r->xa = r->pxa;
	r->n_xa = r->n_pxa;
	r->a_xa = r->a_pxa;
	r->pxa = NULL;
	r->n_pxa = r->a_pxa = 0;
	x->xattrs = r->xa;
	x->n_xattrs = r->n_xa;
	r->data_left = x->type == TAR_REG ? x->size : 0;
	r->pad_left = (uint32_t)((BLK - (uint64_t)data % BLK) % BLK);
	if (x->type == TAR_DIR && data > 0) {
		/* skip a dumpdir listing now */
		if (src_skip(r, ((uint64_t)data + BLK - 1) / BLK * BLK, e) < 0)
			return -1;
		r->pad_left = 0;
	}
	return 0;
}

int tar_next(struct tar_reader *r, const struct tar_entry **ent, struct err *e)
{
	unsigned char h[BLK];
	struct buf meta = BUF_INIT;
	bool gnu_name = false, gnu_link = false;
	int ret = -1;
	size_t got;

	*ent = NULL;
	if (r->done)
		return 0;
	if (r->data_left > 0 || r->pad_left > 0) {
		if (src_skip(r, (uint64_t)r->data_left + r->pad_left, e) < 0)
			return -1;
		r->data_left = 0;
		r->pad_left = 0;
	}
	buf_init(&meta, META_MAX + 1);
	override_free(&r->local);
	xattrs_clear(r->pxa, &r->n_pxa);
	buf_reset(&r->path);
	buf_reset(&r->link);
	for (;;) {
		uint64_t at = r->offset;
		if (src_full(r, h, BLK, &got, e) < 0)
			goto out;
		if (got == 0 || all_zero(h)) {
			if (got != 0 && got != BLK) {
				err_set(e, ERR_INPUT,
					"truncated tar (a partial header at byte %" PRIu64 ")", at);
				goto out;
			}
			if (r->local.has_path || gnu_name || r->n_pxa) {
				err_set(e, ERR_INPUT,
					"truncated tar (an extended header without its entry)");
				goto out;
			}
			r->done = true;
			ret = 0;
			goto out;
		}
		if (got < BLK) {
			err_set(e, ERR_INPUT,
				"truncated tar (a partial header at byte %" PRIu64 ")", at);
			goto out;
		}
		if (!checksum_ok(h)) {
			err_set(e, ERR_INPUT,
				"not a tar archive (bad header checksum at byte %" PRIu64 ")", at);
			goto out;
		}
		int64_t size;
		if (num_field(h, F_SIZE, &size) < 0 || size < 0) {
			err_set(e, ERR_INPUT, "tar: bad size field at byte %" PRIu64, at);
			goto out;
		}
		char t = (char)h[F_TYPE];
		if (t == 'x' || t == 'g') {
			if (read_meta(r, size, &meta, e) < 0 ||
			    parse_pax(r, meta.data, meta.len, t == 'g', e) < 0)
				goto out;
			continue;
		}
		if (t == 'L' || t == 'K') {
			struct buf *dst = t == 'L' ? &r->path : &r->link;
			if (size > (int64_t)NAME_CAP) {
				err_set(e, ERR_INPUT, "tar: a GNU long name of %" PRId64 " bytes",
					size);
				goto out;
			}
			if (read_meta(r, size, &meta, e) < 0)
				goto out;
			buf_reset(dst);
			if (buf_add(dst, meta.data, strnlen(meta.data, meta.len), e) < 0)
				goto out;
			if (t == 'L')
				gnu_name = true;
			else
				gnu_link = true;
			continue;
		}
		if (t == 'V' || t == 'N') { /* volume label, old GNU names: nothing to keep */
			if (src_skip(r, ((uint64_t)size + BLK - 1) / BLK * BLK, e) < 0)
				goto out;
			continue;
		}
		if (t == 'S' || t == 'M') {
			err_set(e, ERR_INPUT, "tar: %s entries are not supported",
				t == 'S' ? "GNU sparse" : "multi-volume");
			goto out;
		}

		/* The entry itself. */
		if (fill_entry(r, h, t, size, gnu_name, gnu_link, at, e) < 0)
			goto out;
		*ent = &r->ent;
		ret = 1;
		goto out;
	}
out:
	buf_free(&meta);
	return ret;
}

ssize_t tar_read_data(struct tar_reader *r, void *buf, size_t n, struct err *e)
{
	size_t got;

	if (r->data_left <= 0)
		return 0;
	if ((int64_t)n > r->data_left)
		n = (size_t)r->data_left;
	if (src_read(r, buf, n, &got, e) < 0)
		return -1;
	if (got == 0)
		return err_set(e, ERR_INPUT, "truncated tar (an entry's data ends early)");
	r->data_left -= (int64_t)got;
	if (r->data_left == 0 && r->pad_left) {
		if (src_skip(r, r->pad_left, e) < 0)
			return -1;
		r->pad_left = 0;
	}
	return (ssize_t)got;
}
