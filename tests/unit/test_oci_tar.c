/* The tar codec: names are bytes (UTF-8 of several scripts, invalid UTF-8,
 * a newline, 255-byte components, paths past ustar's limits), every field
 * round-trips, ustar is used when it is enough, and malformed archives are
 * refused with ERR_INPUT instead of read past. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/utf8.h"
#include "oci/tar.h"
#include "test.h"

static int sink(void *ctx, const void *p, size_t n, struct err *e)
{
	return buf_add(ctx, p, n, e);
}

static char long_comp[256], long_path[400], long_link[300];

static void init_names(void)
{
	memset(long_comp, 'c', 255);
	long_comp[255] = 0;
	/* 300+ bytes in 8 components: needs PAX, not the ustar prefix */
	snprintf(long_path, sizeof(long_path), "%s/%s/%s/%.200s", "usr", "share", "dir", long_comp);
	memset(long_link, 'l', 150);
	long_link[150] = 0;
}

struct want {
	const char *path, *link, *uname;
	int type;
	int64_t uid, mtime;
	const char *data;
	const char *xname;
	const unsigned char *xval;
	size_t xlen;
};

static const unsigned char cap[] = {0x01, 0x00, 0x00, 0x02, 0x00, 0x20, 0x00, 0x00, 0, 0,
				    0,	  0,	0,    0,    0,	  0,	0,    0,    0, 0};

static const struct want cases[] = {
    {"etc/ssl/certs/NetLock_Arany_=Class_Gold=_F\xc5\x91tan\xc3\xbas\xc3\xadtv\xc3\xa1ny.pem",
     "/usr/share/ca-certificates/mozilla/"
     "NetLock_Arany_=Class_Gold=_F\xc5\x91tan\xc3\xbas\xc3\xadtv\xc3\xa1ny.crt",
     "root", TAR_SYMLINK, 0, 1700000000, NULL, NULL, NULL, 0},
    {"a\xe2\x98\xba"
     "b",
     NULL, NULL, TAR_REG, 0, 0, "smile", NULL, NULL, 0},
    {"\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e/"
     "\xce\x95\xce\xbb\xce\xbb\xce\xb7\xce\xbd\xce\xb9\xce\xba\xce\xac/"
     "\xd7\xa2\xd7\x91\xd7\xa8\xd7\x99\xd7\xaa",
     NULL, NULL, TAR_REG, 0, 0, "scripts", NULL, NULL, 0},
    {"bad/\xff\xfe-not-utf8-\x80", NULL, NULL, TAR_REG, 0, 0, "x", NULL, NULL, 0},
    {"line\nbreak", NULL, NULL, TAR_REG, 0, 0, "", NULL, NULL, 0},
    {"dir/", NULL, "\xc3\xbcser", TAR_DIR, 3000000, -5, NULL, NULL, NULL, 0},
    {"bin/ping", NULL, NULL, TAR_REG, 0, 0, "ELF", "security.capability", cap, sizeof(cap)},
    {"link-to-smile",
     "a\xe2\x98\xba"
     "b",
     NULL, TAR_LINK, 0, 0, NULL, NULL, NULL, 0},
    {"sym-long", long_link, NULL, TAR_SYMLINK, 0, 0, NULL, "user.k",
     (const unsigned char *)"v=1\n2", 5},
    {long_comp, NULL, NULL, TAR_REG, 0, 0, "255", NULL, NULL, 0},
    {long_path, NULL, NULL, TAR_REG, 0, 0, "deep", NULL, NULL, 0},
};

TEST(roundtrip_bytes)
{
	struct buf out = BUF_INIT;
	struct tar_writer w;
	struct err e = ERR_INIT;

	tar_writer_init(&w, sink, &out);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct want *c = &cases[i];
		struct tar_xattr x = {(char *)c->xname, (unsigned char *)c->xval, c->xlen};
		struct tar_entry te = {.path = (char *)c->path,
				       .linkname = (char *)c->link,
				       .uname = (char *)c->uname,
				       .type = c->type,
				       .mode = 04755,
				       .uid = c->uid,
				       .gid = 7,
				       .mtime = c->mtime,
				       .size = c->data ? (int64_t)strlen(c->data) : 0,
				       .xattrs = c->xname ? &x : NULL,
				       .n_xattrs = c->xname ? 1 : 0};
		CHECK(tar_write_header(&w, &te, &e) == 0);
		if (c->data && *c->data)
			CHECK(tar_write_data(&w, c->data, strlen(c->data), &e) == 0);
	}
	CHECK(tar_write_end(&w, &e) == 0);
	CHECK(out.len % 512 == 0);

	struct tar_reader *r = tar_reader_mem(out.data, out.len, &e);
	const struct tar_entry *t;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct want *c = &cases[i];
		CHECK(tar_next(r, &t, &e) == 1);
		if (!t)
			break;
		CHECK_STR(t->path, c->path);
		CHECK_INT(t->type, c->type);
		CHECK_INT(t->mode, 04755);
		CHECK_INT(t->uid, c->uid);
		CHECK_INT(t->gid, 7);
		CHECK_INT(t->mtime, c->mtime);
		CHECK_STR(t->linkname, c->link ? c->link : "");
		CHECK_STR(t->uname, c->uname ? c->uname : "");
		if (c->xname) {
			CHECK_INT(t->n_xattrs, 1);
			if (t->n_xattrs == 1) {
				CHECK_STR(t->xattrs[0].name, c->xname);
				CHECK(t->xattrs[0].len == c->xlen &&
				      memcmp(t->xattrs[0].value, c->xval, c->xlen) == 0);
			}
		} else {
			CHECK_INT(t->n_xattrs, 0);
		}
		char data[64] = {0};
		ssize_t n = tar_read_data(r, data, sizeof(data) - 1, &e);
		CHECK_INT(n, c->data && c->type == TAR_REG ? (ssize_t)strlen(c->data) : 0);
		if (c->data && c->type == TAR_REG)
			CHECK_STR(data, c->data);
	}
	CHECK(tar_next(r, &t, &e) == 0);
	tar_reader_free(r);
	buf_free(&out);
}

/* ASCII names that fit ustar get no PAX header (what every reader reads);
 * a long ASCII path uses the ustar prefix. */
TEST(ustar_when_enough)
{
	struct buf out = BUF_INIT;
	struct tar_writer w;
	struct err e = ERR_INIT;
	char p[200];

	memset(p, 'p', 120);
	p[120] = 0;
	memcpy(p + 60, "/", 1);
	tar_writer_init(&w, sink, &out);
	struct tar_entry te = {.path = "usr/bin/env", .type = TAR_REG, .mode = 0755, .size = 3};
	CHECK(tar_write_header(&w, &te, &e) == 0);
	CHECK(tar_write_data(&w, "abc", 3, &e) == 0);
	struct tar_entry t2 = {.path = p, .type = TAR_REG, .mode = 0644};
	CHECK(tar_write_header(&w, &t2, &e) == 0);
	CHECK(tar_write_end(&w, &e) == 0);
	CHECK_INT(out.len, 512 + 512 + 512 + 1024);
	CHECK(memcmp(out.data + 257,
		     "ustar\0"
		     "00",
		     8) == 0);
	struct tar_reader *r = tar_reader_mem(out.data, out.len, &e);
	const struct tar_entry *t;
	CHECK(tar_next(r, &t, &e) == 1);
	CHECK(tar_next(r, &t, &e) == 1 && strcmp(t->path, p) == 0);
	tar_reader_free(r);
	buf_free(&out);
}

/* Build one raw header by hand (what other writers produce). */
static void raw_header(unsigned char *h, const char *name, char type, uint64_t size,
		       const char *magic)
{
	memset(h, 0, 512);
	memcpy(h, name, strlen(name) > 100 ? 100 : strlen(name));
	memcpy(h + 100, "0000644", 7);
	memcpy(h + 108, "0000000", 7);
	memcpy(h + 116, "0000000", 7);
	snprintf((char *)h + 124, 12, "%011llo", (unsigned long long)size);
	memcpy(h + 136, "00000000000", 11);
	h[156] = (unsigned char)type;
	memcpy(h + 257, magic, 8);
	unsigned sum = 0;
	memset(h + 148, ' ', 8);
	for (int i = 0; i < 512; i++)
		sum += h[i];
	snprintf((char *)h + 148, 8, "%06o", sum);
	h[155] = ' ';
}

static void put(struct buf *b, const void *p, size_t n)
{
	struct err e = ERR_INIT;
	buf_add(b, p, n, &e);
	size_t pad = (512 - n % 512) % 512;
	static const char z[512];
	buf_add(b, z, pad, &e);
}

/* GNU long names and link targets, base-256 numbers, PAX global headers
 * and libarchive's xattr records, as other tools write them. */
TEST(foreign_forms)
{
	struct buf b = BUF_INIT;
	unsigned char h[512];
	struct err e = ERR_INIT;
	const char *ln =
	    "gnu/\xc3\xa9t\xc3\xa9/a-very-long-name-that-is-longer-than-a-hundred-bytes-"
	    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx";
	raw_header(h, "././@LongLink", 'L', strlen(ln) + 1, "ustar  \0");
	put(&b, h, 512);
	put(&b, ln, strlen(ln) + 1);
	raw_header(h, "truncated", '0', 2, "ustar  \0");
	/* base-256 uid 2^40 */
	memset(h + 108, 0, 8);
	h[108] = 0x80;
	h[110] = 0x01;
	unsigned sum = 0;
	memset(h + 148, ' ', 8);
	for (int i = 0; i < 512; i++)
		sum += h[i];
	snprintf((char *)h + 148, 8, "%06o", sum);
	h[155] = ' ';
	put(&b, h, 512);
	put(&b, "hi", 2);
	const char *g = "22 comment=git commit\n";
	raw_header(h, "pax_global_header", 'g', strlen(g),
		   "ustar\0"
		   "00");
	put(&b, h, 512);
	put(&b, g, strlen(g));
	const char *x = "34 LIBARCHIVE.xattr.user%2Ek=dg==\n";
	raw_header(h, "PaxHeader/f", 'x', strlen(x),
		   "ustar\0"
		   "00");
	put(&b, h, 512);
	put(&b, x, strlen(x));
	raw_header(h, "f", '0', 0,
		   "ustar\0"
		   "00");
	put(&b, h, 512);

	struct tar_reader *r = tar_reader_mem(b.data, b.len, &e); /* no end blocks: EOF ends it */
	const struct tar_entry *t;
	CHECK(tar_next(r, &t, &e) == 1);
	if (!t) {
		fprintf(stderr, "%s\n", e.msg);
		tar_reader_free(r);
		buf_free(&b);
		return;
	}
	CHECK_STR(t->path, ln);
	CHECK_INT(t->uid, 1LL << 40);
	char d[4] = {0};
	CHECK(tar_read_data(r, d, 3, &e) == 2);
	CHECK_STR(d, "hi");
	CHECK(tar_next(r, &t, &e) == 1);
	if (!t) {
		fprintf(stderr, "%s\n", e.msg);
		tar_reader_free(r);
		buf_free(&b);
		return;
	}
	CHECK_STR(t->path, "f");
	CHECK(t->n_xattrs == 1 && strcmp(t->xattrs[0].name, "user.k") == 0 &&
	      t->xattrs[0].len == 1 && t->xattrs[0].value[0] == 'v');
	CHECK(tar_next(r, &t, &e) == 0);
	tar_reader_free(r);
	buf_free(&b);
}

static int read_all(const void *p, size_t n, struct err *e)
{
	struct tar_reader *r = tar_reader_mem(p, n, e);
	const struct tar_entry *t;
	char d[4096];
	int rc;

	while ((rc = tar_next(r, &t, e)) == 1) {
		ssize_t k;
		while ((k = tar_read_data(r, d, sizeof(d), e)) > 0)
			;
		if (k < 0) {
			rc = -1;
			break;
		}
	}
	tar_reader_free(r);
	return rc;
}

TEST(hostile)
{
	struct buf b = BUF_INIT;
	unsigned char h[512];
	struct err e = ERR_INIT;

	/* bad checksum */
	raw_header(h, "f", '0', 0,
		   "ustar\0"
		   "00");
	h[0] = 'g';
	CHECK(read_all(h, 512, &e) == -1 && e.code == ERR_INPUT && strstr(e.msg, "checksum"));
	/* data shorter than the header says */
	err_clear(&e);
	raw_header(h, "f", '0', 5000,
		   "ustar\0"
		   "00");
	put(&b, h, 512);
	put(&b, "abc", 3);
	CHECK(read_all(b.data, b.len, &e) == -1 && e.code == ERR_INPUT &&
	      strstr(e.msg, "truncated"));
	/* a PAX record whose length runs past its header */
	buf_reset(&b);
	err_clear(&e);
	const char *x = "99 path=x\n";
	raw_header(h, "PaxHeader/f", 'x', strlen(x),
		   "ustar\0"
		   "00");
	put(&b, h, 512);
	put(&b, x, strlen(x));
	raw_header(h, "f", '0', 0,
		   "ustar\0"
		   "00");
	put(&b, h, 512);
	CHECK(read_all(b.data, b.len, &e) == -1 && e.code == ERR_INPUT && strstr(e.msg, "PAX"));
	/* a NUL inside a PAX path */
	buf_reset(&b);
	err_clear(&e);
	const char x2[] = "12 path=a\0b\n";
	raw_header(h, "PaxHeader/f", 'x', sizeof(x2) - 1,
		   "ustar\0"
		   "00");
	put(&b, h, 512);
	put(&b, x2, sizeof(x2) - 1);
	raw_header(h, "f", '0', 0,
		   "ustar\0"
		   "00");
	put(&b, h, 512);
	CHECK(read_all(b.data, b.len, &e) == -1 && e.code == ERR_INPUT && strstr(e.msg, "NUL"));
	/* an extended header of 1 TiB */
	buf_reset(&b);
	err_clear(&e);
	raw_header(h, "PaxHeader/f", 'x', 1ULL << 40,
		   "ustar\0"
		   "00");
	put(&b, h, 512);
	CHECK(read_all(b.data, b.len, &e) == -1 && e.code == ERR_INPUT);
	/* GNU sparse entries are refused, not misread */
	buf_reset(&b);
	err_clear(&e);
	raw_header(h, "s", 'S', 0, "ustar  \0");
	put(&b, h, 512);
	CHECK(read_all(b.data, b.len, &e) == -1 && e.code == ERR_INPUT && strstr(e.msg, "sparse"));
	/* a header cut short */
	err_clear(&e);
	raw_header(h, "f", '0', 0,
		   "ustar\0"
		   "00");
	CHECK(read_all(h, 300, &e) == -1 && e.code == ERR_INPUT);
	/* an extended header with no entry after it */
	buf_reset(&b);
	err_clear(&e);
	raw_header(h, "PaxHeader/f", 'x', 11,
		   "ustar\0"
		   "00");
	put(&b, h, 512);
	put(&b, "11 path=x\n", 10);
	CHECK(read_all(b.data, b.len, &e) == -1 && e.code == ERR_INPUT);
	/* empty input is an empty archive */
	err_clear(&e);
	CHECK(read_all("", 0, &e) == 0);
	/* names the writer cannot store */
	buf_reset(&b);
	err_clear(&e);
	struct tar_writer w;
	tar_writer_init(&w, sink, &b);
	struct tar_xattr xa = {"bad=name", (unsigned char *)"v", 1};
	struct tar_entry te = {.path = "f", .type = TAR_REG, .xattrs = &xa, .n_xattrs = 1};
	CHECK(tar_write_header(&w, &te, &e) == -1 && e.code == ERR_INPUT);
	buf_free(&b);
}

TEST(utf8_escape_for_reports)
{
	struct err e = ERR_INIT;
	char *s = utf8_escape("a\xe2\x98\xba"
			      "b",
			      &e);
	CHECK_STR(s, "a\xe2\x98\xba"
		     "b");
	free(s);
	s = utf8_escape("x\\y\xff\xc3", &e);
	CHECK_STR(s, "x\\\\y\\xff\\xc3");
	free(s);
	CHECK(!utf8_valid("\xed\xa0\x80", 3)); /* a surrogate */
	CHECK(!utf8_valid("\xc0\xaf", 2));     /* overlong */
	CHECK(utf8_valid("\xf0\x9f\x98\x80", 4));
}

int main(void)
{
	init_names();
	RUN(roundtrip_bytes);
	RUN(ustar_when_enough);
	RUN(foreign_forms);
	RUN(hostile);
	RUN(utf8_escape_for_reports);
	return test_done();
}
