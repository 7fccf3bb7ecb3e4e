#include <sqlite3.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "scan/rpmdb.h"
#include "scan/sqlite_untrusted.h"

enum { RPM_INT32 = 4, RPM_STRING = 6, RPM_STRING_ARRAY = 8, RPM_I18NSTRING = 9 };
enum { TAG_NAME = 1000, TAG_VERSION = 1001, TAG_RELEASE = 1002, TAG_EPOCH = 1003, TAG_ARCH = 1022, TAG_SOURCERPM = 1044 };

#define RPM_MAX_INDEX 100000  /* rpm's own limit is 0x0000ffff entries... with headroom */
#define RPM_MAX_DATA (256u << 20)

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* A NUL-terminated string at off inside the data store, copied into out. */
static int str_at(const unsigned char *data, uint32_t dl, uint32_t off, char *out, size_t cap)
{
	const unsigned char *z;

	if (off >= dl)
		return -1;
	z = memchr(data + off, 0, dl - off);
	if (!z)
		return -1;
	snprintf(out, cap, "%s", (const char *)data + off);
	return 0;
}

int rpm_header_parse(const unsigned char *p, size_t n, struct rpm_pkg *out, struct err *e)
{
	uint32_t il, dl;
	const unsigned char *data;

	memset(out, 0, sizeof(*out));
	out->epoch = -1;
	if (n < 8)
		return err_set(e, ERR_INPUT, "rpm header: %zu bytes, too short", n);
	il = be32(p), dl = be32(p + 4);
	if (il == 0 || il > RPM_MAX_INDEX || dl > RPM_MAX_DATA || (uint64_t)il * 16 + dl + 8 > n)
		return err_set(e, ERR_INPUT, "rpm header: bad sizes (%u entries, %u data bytes, %zu total)", il, dl, n);
	data = p + 8 + (size_t)il * 16;
	for (uint32_t i = 0; i < il; i++) {
		const unsigned char *ent = p + 8 + (size_t)i * 16;
		uint32_t tag = be32(ent), type = be32(ent + 4), off = be32(ent + 8), cnt = be32(ent + 12);
		char *dst = NULL;
		size_t cap = 0;

		switch (tag) {
		case TAG_NAME: dst = out->name, cap = sizeof(out->name); break;
		case TAG_VERSION: dst = out->version, cap = sizeof(out->version); break;
		case TAG_RELEASE: dst = out->release, cap = sizeof(out->release); break;
		case TAG_ARCH: dst = out->arch, cap = sizeof(out->arch); break;
		case TAG_SOURCERPM: dst = out->sourcerpm, cap = sizeof(out->sourcerpm); break;
		case TAG_EPOCH:
			if (type != RPM_INT32 || cnt < 1 || off > dl || dl - off < 4 || (off & 3))
				return err_set(e, ERR_INPUT, "rpm header: bad EPOCH entry");
			out->epoch = be32(data + off);
			continue;
		default: continue;
		}
		if ((type != RPM_STRING && type != RPM_I18NSTRING && type != RPM_STRING_ARRAY) || cnt < 1 ||
		    str_at(data, dl, off, dst, cap) < 0)
			return err_set(e, ERR_INPUT, "rpm header: bad string entry for tag %u", tag);
	}
	if (!out->name[0] || !out->version[0])
		return err_set(e, ERR_INPUT, "rpm header: no NAME or VERSION");
	return 0;
}

int rpm_split_srpm(const char *srpm, char *name, size_t ncap, char *ver, size_t vcap)
{
	char tmp[512];
	char *d1, *d2;
	size_t l;

	snprintf(tmp, sizeof(tmp), "%s", srpm);
	l = strlen(tmp);
	if (l > 8 && strcmp(tmp + l - 8, ".src.rpm") == 0)
		tmp[l - 8] = 0;
	else if (l > 10 && strcmp(tmp + l - 10, ".nosrc.rpm") == 0)
		tmp[l - 10] = 0;
	else
		return -1;
	/* name-version-release: the last two dashes split it */
	d2 = strrchr(tmp, '-');
	if (!d2 || d2 == tmp)
		return -1;
	*d2 = 0;
	d1 = strrchr(tmp, '-');
	*d2 = '-';
	if (!d1 || d1 == tmp)
		return -1;
	snprintf(name, ncap, "%.*s", (int)(d1 - tmp), tmp);
	snprintf(ver, vcap, "%s", d1 + 1);
	return 0;
}

/* sqlite3 progress handler: non-zero interrupts the statement. */
static int work_bound(void *ctx)
{
	long *left = ctx;

	return --*left < 0;
}

int rpmdb_sqlite_read(const void *db, size_t n, rpm_cb cb, void *ctx, long *skipped, struct err *e)
{
	sqlite3 *s = NULL;
	sqlite3_stmt *q = NULL;
	unsigned char *copy;
	/* progress callbacks (10,000 VM steps each) the query may take: 10^9
	 * steps and 10 per byte of the database, far above what a real one
	 * needs (a few per package) */
	long budget = (long)(n / 1000) + 100000;
	int rc = -1, r;

	*skipped = 0;
	if (n < 100 || memcmp(db, "SQLite format 3", 16) != 0)
		return err_set(e, ERR_INPUT, "not an SQLite database");
	copy = sqlite3_malloc64(n);
	if (!copy)
		return err_oom(e);
	memcpy(copy, db, n);
	/* rpm keeps the database in WAL mode; an in-memory copy must say "rollback journal" */
	copy[18] = copy[19] = 1;
	if (sqlite3_open_v2(":memory:", &s, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
		sqlite3_free(copy);
		err_set(e, ERR_INTERNAL, "sqlite: out of memory");
		goto out;
	}
	/* The file comes from an image: its schema runs nothing, and a
	 * progress handler bounds the work whatever the pages say. */
	sqlite_untrusted(s);
	sqlite3_progress_handler(s, 10000, work_bound, &budget);
	if (sqlite3_deserialize(s, "main", copy, (sqlite3_int64)n, (sqlite3_int64)n,
				SQLITE_DESERIALIZE_FREEONCLOSE | SQLITE_DESERIALIZE_READONLY) != SQLITE_OK) {
		err_set(e, ERR_INPUT, "not a readable SQLite database: %s", sqlite3_errmsg(s));
		goto out;
	}
	if (sqlite3_prepare_v2(s, "SELECT blob FROM Packages", -1, &q, NULL) != SQLITE_OK) {
		err_set(e, ERR_INPUT, "not an rpm database: %s", sqlite3_errmsg(s));
		goto out;
	}
	while ((r = sqlite3_step(q)) == SQLITE_ROW) {
		const unsigned char *b = sqlite3_column_blob(q, 0);
		int bl = sqlite3_column_bytes(q, 0);
		struct rpm_pkg p;
		struct err e2 = ERR_INIT;
		int cr;

		if (!b || bl <= 0 || rpm_header_parse(b, (size_t)bl, &p, &e2) < 0) {
			(*skipped)++;
			continue;
		}
		if ((cr = cb(ctx, &p, e)) != 0) {
			rc = cr;
			goto out;
		}
	}
	if (r == SQLITE_INTERRUPT) {
		err_set(e, ERR_INPUT, "rpm database: reading it takes unbounded work (crafted?)");
		goto out;
	}
	if (r != SQLITE_DONE) {
		err_set(e, ERR_INPUT, "rpm database: %s", sqlite3_errmsg(s));
		goto out;
	}
	rc = 0;
out:
	sqlite3_finalize(q);
	sqlite3_close(s);
	return rc;
}

/* ------------------------------------------------------------ BerkeleyDB */

#define BDB_HASH_MAGIC 0x061561u
enum { P_HASH_UNSORTED = 2, P_OVERFLOW = 7, P_HASHMETA = 8, P_HASH = 13 };
enum { H_KEYDATA = 1, H_OFFPAGE = 3 };
#define PAGE_HDR 26
#define BDB_VALUE_MAX (16u << 20) /* one header blob */

struct bdb {
	const unsigned char *p;
	size_t n, pagesize, npages;
	bool swap;
};

static uint32_t bdb32(const struct bdb *b, const unsigned char *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return b->swap ? __builtin_bswap32(v) : v;
}

static uint16_t bdb16(const struct bdb *b, const unsigned char *p)
{
	uint16_t v;

	memcpy(&v, p, 2);
	return b->swap ? __builtin_bswap16(v) : v;
}

/* Follow an overflow chain from pgno, collecting tlen bytes into *out (malloc'd). */
static int bdb_overflow(const struct bdb *b, uint32_t pgno, uint32_t tlen, unsigned char **out)
{
	unsigned char *v;
	size_t got = 0, hops = 0;

	*out = NULL;
	if (tlen == 0 || tlen > BDB_VALUE_MAX || !(v = malloc(tlen)))
		return -1;
	while (got < tlen) {
		const unsigned char *pg;
		size_t len;

		/* a chain longer than the file has pages is a loop */
		if (pgno == 0 || pgno >= b->npages || ++hops > b->npages)
			goto bad;
		pg = b->p + (size_t)pgno * b->pagesize;
		if (pg[25] != P_OVERFLOW)
			goto bad;
		len = bdb16(b, pg + 22); /* hf_offset: bytes used on an overflow page */
		if (len > b->pagesize - PAGE_HDR || len > tlen - got)
			goto bad;
		memcpy(v + got, pg + PAGE_HDR, len);
		got += len;
		pgno = bdb32(b, pg + 16);
		if (len == 0)
			goto bad;
	}
	*out = v;
	return 0;
bad:
	free(v);
	return -1;
}

int rpmdb_bdb_read(const void *db, size_t n, rpm_cb cb, void *ctx, long *skipped, struct err *e)
{
	struct bdb b = { db, n, 0, 0, false };
	uint32_t magic;

	*skipped = 0;
	if (n < 512)
		return err_set(e, ERR_INPUT, "not a BerkeleyDB file (%zu bytes)", n);
	memcpy(&magic, b.p + 12, 4);
	if (magic != BDB_HASH_MAGIC) {
		if (__builtin_bswap32(magic) != BDB_HASH_MAGIC)
			return err_set(e, ERR_INPUT, "not a BerkeleyDB hash database");
		b.swap = true;
	}
	b.pagesize = bdb32(&b, b.p + 20);
	if (b.pagesize < 512 || b.pagesize > 65536 || (b.pagesize & (b.pagesize - 1)) || b.p[25] != P_HASHMETA)
		return err_set(e, ERR_INPUT, "BerkeleyDB: bad page size %zu or meta page", b.pagesize);
	if (b.p[24] != 0)
		return err_set(e, ERR_INPUT, "BerkeleyDB: encrypted databases are not supported");
	b.npages = n / b.pagesize;
	for (size_t pgno = 1; pgno < b.npages; pgno++) {
		const unsigned char *pg = b.p + pgno * b.pagesize;
		uint16_t entries;

		if (pg[25] != P_HASH && pg[25] != P_HASH_UNSORTED)
			continue;
		entries = bdb16(&b, pg + 20);
		if ((size_t)PAGE_HDR + (size_t)entries * 2 > b.pagesize) {
			(*skipped)++;
			continue;
		}
		/* entries alternate key, value; item i ends where item i-1 starts */
		for (uint16_t i = 1; i < entries; i += 2) {
			size_t off = bdb16(&b, pg + PAGE_HDR + 2 * i);
			size_t end = bdb16(&b, pg + PAGE_HDR + 2 * (i - 1));
			unsigned char *val = NULL;
			const unsigned char *vp;
			size_t vl;
			struct rpm_pkg pkg;
			struct err e2 = ERR_INIT;
			int cr;

			if (off >= b.pagesize || end > b.pagesize || end <= off) {
				(*skipped)++;
				continue;
			}
			if (pg[off] == H_OFFPAGE) {
				if (off + 12 > b.pagesize ||
				    bdb_overflow(&b, bdb32(&b, pg + off + 4), bdb32(&b, pg + off + 8), &val) < 0) {
					(*skipped)++;
					continue;
				}
				vp = val, vl = bdb32(&b, pg + off + 8);
			} else if (pg[off] == H_KEYDATA) {
				vp = pg + off + 1, vl = end - off - 1;
			} else {
				(*skipped)++; /* duplicates: rpm never writes them */
				continue;
			}
			if (rpm_header_parse(vp, vl, &pkg, &e2) < 0) {
				(*skipped)++;
				free(val);
				continue;
			}
			free(val);
			if ((cr = cb(ctx, &pkg, e)) != 0)
				return cr;
		}
	}
	return 0;
}
