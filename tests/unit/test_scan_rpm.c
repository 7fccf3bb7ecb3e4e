#include <string.h>

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

int main(void)
{
	RUN(header_fields);
	RUN(hostile_headers);
	RUN(split_srpm);
	return test_done();
}
