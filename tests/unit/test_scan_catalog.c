/* inventory_catalog_file: the catalogers on one in-memory file, fed the
 * seed files of the package database fuzz targets (tests/fuzz/corpus). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "scan/inventory.h"
#include "test.h"

static char *slurp(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	char *d = malloc(1 << 20);

	*n = 0;
	if (!f || !d) {
		fprintf(stderr, "cannot read %s\n", path);
		if (f)
			fclose(f);
		free(d);
		return NULL;
	}
	*n = fread(d, 1, (1 << 20) - 1, f);
	d[*n] = 0;
	fclose(f);
	return d;
}

static const struct pkg *find_pkg(const struct inventory *inv, const char *name)
{
	for (size_t i = 0; i < inv->n; i++)
		if (strcmp(inv->pkgs[i].name, name) == 0)
			return &inv->pkgs[i];
	return NULL;
}

/* The dpkg target's input is one selector byte, then the file. */
TEST(dpkg_status)
{
	struct inventory inv;
	struct err e = ERR_INIT;
	size_t n;
	char *d = slurp("tests/fuzz/corpus/dpkg/status", &n);
	const struct pkg *p;

	CHECK(d && n > 1);
	if (!d)
		return;
	CHECK_INT(inventory_catalog_file("var/lib/dpkg/status", d + 1, n - 1, false, &inv, &e), 0);
	CHECK_INT(inv.n, 2); /* oldpkg is deinstalled */
	p = find_pkg(&inv, "libc6");
	CHECK(p != NULL);
	if (p) {
		CHECK_STR(p->version, "2.36-9+deb12u4");
		CHECK_STR(p->src_name, "glibc");
		CHECK_STR(p->src_version, "2.36-9+deb12u4");
		CHECK_STR(p->type, "deb");
		CHECK_STR(p->path, "var/lib/dpkg/status");
	}
	p = find_pkg(&inv, "zlib1g");
	CHECK(p != NULL && strcmp(p->version, "1:1.2.13.dfsg-1") == 0 && strcmp(p->src_name, "zlib") == 0);
	CHECK(find_pkg(&inv, "oldpkg") == NULL);
	inventory_free(&inv);
	free(d);

	/* status.d (distroless): no Status field, the package is there */
	d = slurp("tests/fuzz/corpus/dpkg/status.d", &n);
	CHECK(d != NULL);
	if (!d)
		return;
	CHECK_INT(inventory_catalog_file("var/lib/dpkg/status.d/tzdata", d + 1, n - 1, false, &inv, &e), 0);
	CHECK_INT(inv.n, 1);
	CHECK(inv.n == 1 && strcmp(inv.pkgs[0].version, "2024a-0+deb12u1") == 0);
	inventory_free(&inv);
	/* the same bytes elsewhere are no package database */
	CHECK_INT(inventory_catalog_file("var/lib/dpkg/other", d + 1, n - 1, false, &inv, &e), 0);
	CHECK_INT(inv.n, 0);
	inventory_free(&inv);
	free(d);
}

TEST(apk_installed)
{
	struct inventory inv;
	struct err e = ERR_INIT;
	size_t n;
	char *d = slurp("tests/fuzz/corpus/apkdb/installed", &n);
	const struct pkg *p;

	CHECK(d != NULL);
	if (!d)
		return;
	CHECK_INT(inventory_catalog_file("lib/apk/db/installed", d, n, false, &inv, &e), 0);
	CHECK_INT(inv.n, 3); /* the entry without V: is listed without a version */
	p = find_pkg(&inv, "musl");
	CHECK(p != NULL && strcmp(p->version, "1.2.4-r2") == 0 && strcmp(p->type, "apk") == 0);
	p = find_pkg(&inv, "busybox");
	CHECK(p != NULL && strcmp(p->version, "1.36.1-r15") == 0);
	for (size_t i = 0; i < inv.n; i++)
		if (inv.pkgs[i].version[0] == 0)
			CHECK(p = &inv.pkgs[i]);
	CHECK(p != NULL && p->version[0] == 0);
	inventory_free(&inv);
	free(d);
}

/* As fuzz_gobuildinfo does: the ELF magic, 4096 + first byte of padding,
 * then the rest of the input. */
static int go_file(const char *seed, bool exec, struct inventory *inv, struct err *e)
{
	size_t n, pad;
	char *d = slurp(seed, &n), *f;
	int r = -1;

	if (!d || n < 1)
		return free(d), -2;
	pad = 4096 + (unsigned char)d[0];
	f = calloc(1, pad + n);
	if (f) {
		memcpy(f, "\x7f" "ELF", 4);
		memcpy(f + pad, d + 1, n - 1);
		r = inventory_catalog_file("usr/local/bin/app", f, pad + n - 1, exec, inv, e);
	}
	free(f);
	free(d);
	return r;
}

TEST(go_buildinfo)
{
	struct inventory inv;
	struct err e = ERR_INIT;
	const struct pkg *p;

	CHECK_INT(go_file("tests/fuzz/corpus/gobuildinfo/app", true, &inv, &e), 0);
	CHECK_INT(inv.n, 3); /* the main module is (devel): listed without a version */
	p = find_pkg(&inv, "stdlib");
	CHECK(p != NULL && strcmp(p->version, "1.22.1") == 0 && strcmp(p->ecosystem, "Go") == 0);
	p = find_pkg(&inv, "golang.org/x/text");
	CHECK(p != NULL && strcmp(p->version, "v0.14.0") == 0 && strcmp(p->type, "go-module") == 0);
	inventory_free(&inv);

	CHECK_INT(go_file("tests/fuzz/corpus/gobuildinfo/replace", true, &inv, &e), 0);
	CHECK_INT(inv.n, 4);
	p = find_pkg(&inv, "stdlib");
	CHECK(p != NULL && strcmp(p->version, "1.21.5") == 0); /* " X:boringcrypto" dropped */
	CHECK(find_pkg(&inv, "example.com/tool") != NULL);
	p = find_pkg(&inv, "github.com/new/lib"); /* the replacement stands in */
	CHECK(p != NULL && strcmp(p->version, "v1.0.1") == 0);
	CHECK(find_pkg(&inv, "github.com/old/lib") == NULL);
	inventory_free(&inv);

	/* not executable: never scanned; pre-1.18 form: nothing read */
	CHECK_INT(go_file("tests/fuzz/corpus/gobuildinfo/app", false, &inv, &e), 0);
	CHECK_INT(inv.n, 0);
	inventory_free(&inv);
	CHECK_INT(go_file("tests/fuzz/corpus/gobuildinfo/pre118", true, &inv, &e), 0);
	CHECK_INT(inv.n, 0);
	inventory_free(&inv);
}

TEST(size_limit)
{
	struct inventory inv;
	struct err e = ERR_INIT;
	size_t n = (size_t)64 << 20;
	char *big = malloc(n);

	CHECK(big != NULL);
	if (!big)
		return;
	memset(big, 'x', n);
	CHECK_INT(inventory_catalog_file("var/lib/dpkg/status", big, n, false, &inv, &e), -1);
	CHECK_INT(e.code, ERR_INPUT);
	CHECK(strstr(e.msg, "var/lib/dpkg/status") != NULL);
	CHECK_INT(inv.n, 0);
	free(big);
}

int main(void)
{
	RUN(dpkg_status);
	RUN(apk_installed);
	RUN(go_buildinfo);
	RUN(size_limit);
	return test_done();
}
