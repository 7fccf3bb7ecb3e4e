#include <sqlite3.h>
#include <string.h>
#include <unistd.h>

#include "scan/rpmdb.h"
#include "test.h"

struct hb {
	unsigned char b[4096];
	size_t idx, data; /* entries, data bytes */
	unsigned char d[2048];
	unsigned char ents[64][16];
};

static void be(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24), p[1] = (unsigned char)(v >> 16), p[2] = (unsigned char)(v >> 8), p[3] = (unsigned char)v;
}

static void ent(struct hb *h, uint32_t tag, uint32_t type, const void *val, size_t n, uint32_t cnt)
{
	while (type == 4 && (h->data & 3))
		h->d[h->data++] = 0;
	be(h->ents[h->idx], tag), be(h->ents[h->idx] + 4, type), be(h->ents[h->idx] + 8, (uint32_t)h->data),
		be(h->ents[h->idx] + 12, cnt);
	memcpy(h->d + h->data, val, n);
	h->data += n;
	h->idx++;
}

static size_t build(struct hb *h)
{
	be(h->b, (uint32_t)h->idx), be(h->b + 4, (uint32_t)h->data);
	memcpy(h->b + 8, h->ents, h->idx * 16);
	memcpy(h->b + 8 + h->idx * 16, h->d, h->data);
	return 8 + h->idx * 16 + h->data;
}

TEST(header_fields)
{
	struct hb h = { 0 };
	unsigned char ep[4] = { 0, 0, 0, 3 };
	struct rpm_pkg p;
	struct err e = ERR_INIT;
	size_t n;

	ent(&h, 1000, 6, "openssl-libs", 13, 1);
	ent(&h, 1001, 6, "3.0.7", 6, 1);
	ent(&h, 1002, 6, "24.el9", 7, 1);
	ent(&h, 1003, 4, ep, 4, 1);
	ent(&h, 1022, 6, "x86_64", 7, 1);
	ent(&h, 1044, 6, "openssl-3.0.7-24.el9.src.rpm", 29, 1);
	n = build(&h);
	CHECK_INT(rpm_header_parse(h.b, n, &p, &e), 0);
	CHECK_STR(p.name, "openssl-libs");
	CHECK_STR(p.version, "3.0.7");
	CHECK_STR(p.release, "24.el9");
	CHECK_INT((int)p.epoch, 3);
	CHECK_STR(p.arch, "x86_64");
	CHECK_STR(p.sourcerpm, "openssl-3.0.7-24.el9.src.rpm");
}

TEST(hostile_headers)
{
	struct hb h = { 0 };
	struct rpm_pkg p;
	struct err e = ERR_INIT;
	size_t n;

	ent(&h, 1000, 6, "abc", 3, 1); /* no NUL inside the store */
	n = build(&h);
	CHECK_INT(rpm_header_parse(h.b, n, &p, &e), -1);
	CHECK_INT(e.code, ERR_INPUT);
	/* offset past the store */
	memset(&h, 0, sizeof(h));
	ent(&h, 1000, 6, "abc", 4, 1);
	be(h.ents[0] + 8, 0x7fffffff);
	n = build(&h);
	CHECK_INT(rpm_header_parse(h.b, n, &p, &e), -1);
	/* sizes larger than the blob */
	memset(&h, 0, sizeof(h));
	ent(&h, 1000, 6, "abc", 4, 1);
	n = build(&h);
	be(h.b, 0xffffff);
	CHECK_INT(rpm_header_parse(h.b, n, &p, &e), -1);
	CHECK_INT(rpm_header_parse(h.b, 3, &p, &e), -1);
	/* EPOCH with the wrong type */
	memset(&h, 0, sizeof(h));
	ent(&h, 1000, 6, "abc", 4, 1);
	ent(&h, 1001, 6, "1", 2, 1);
	ent(&h, 1003, 6, "1", 2, 1);
	n = build(&h);
	CHECK_INT(rpm_header_parse(h.b, n, &p, &e), -1);
}

TEST(split_srpm)
{
	char n[64], v[64];

	CHECK_INT(rpm_split_srpm("openssl-3.0.7-24.el9.src.rpm", n, sizeof(n), v, sizeof(v)), 0);
	CHECK_STR(n, "openssl");
	CHECK_STR(v, "3.0.7-24.el9");
	CHECK_INT(rpm_split_srpm("python3-pip-wheel-21.3.1-1.el9.src.rpm", n, sizeof(n), v, sizeof(v)), 0);
	CHECK_STR(n, "python3-pip-wheel");
	CHECK_INT(rpm_split_srpm("nodash.src.rpm", n, sizeof(n), v, sizeof(v)), -1);
	CHECK_INT(rpm_split_srpm("a-1.src", n, sizeof(n), v, sizeof(v)), -1);
}

static int count_cb(void *ctx, const struct rpm_pkg *p, struct err *e)
{
	(void)p;
	(void)e;
	(*(long *)ctx)++;
	return 0;
}

/* An rpmdb.sqlite from an image whose "Packages" is not a table but a
 * view (here an endless recursive one) or carries a trigger: the schema
 * must not run, the read must end with an error. */
TEST(hostile_sqlite_schema)
{
	static const char *schemas[] = {
		"CREATE VIEW Packages AS WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) "
		"SELECT zeroblob(100) AS blob FROM c;",
		"CREATE TABLE t(blob BLOB); CREATE VIEW Packages AS SELECT blob FROM t;",
	};
	alarm(60); /* an endless read fails the test instead of hanging it */
	for (size_t i = 0; i < sizeof(schemas) / sizeof(schemas[0]); i++) {
		sqlite3 *s = NULL;
		sqlite3_int64 n = 0;
		unsigned char *img;
		struct err e = ERR_INIT;
		long rows = 0, skipped = 0;

		CHECK_INT(sqlite3_open(":memory:", &s), SQLITE_OK);
		CHECK_INT(sqlite3_exec(s, schemas[i], NULL, NULL, NULL), SQLITE_OK);
		img = sqlite3_serialize(s, "main", &n, 0);
		CHECK(img != NULL);
		CHECK_INT(rpmdb_sqlite_read(img, (size_t)n, count_cb, &rows, &skipped, &e), -1);
		CHECK_INT(e.code, ERR_INPUT);
		CHECK(strstr(e.msg, "not an rpm database") != NULL);
		sqlite3_free(img);
		sqlite3_close(s);
	}
	alarm(0);
}

int main(void)
{
	RUN(header_fields);
	RUN(hostile_headers);
	RUN(split_srpm);
	RUN(hostile_sqlite_schema);
	return test_done();
}
