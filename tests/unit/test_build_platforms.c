/* Multi-platform builds: the --platform list, and which binfmt_misc handlers
 * serve a foreign platform's RUN steps (handler files in a directory named by
 * BOSUN_BINFMT_DIR, written in the kernel's format). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "builder/internal.h"
#include "test.h"

static char dir[64];

static void put(const char *name, const char *text)
{
	char p[128];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	f = fopen(p, "w");
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

static void drop(const char *name)
{
	char p[128];

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	unlink(p);
}

/* 0 when linux/ARCH's RUN steps can run, else the message in msg. */
static int check(const char *arch, char *msg, size_t n)
{
	struct oci_platform p = { (char *)"linux", (char *)arch, NULL, NULL };
	struct err e = ERR_INIT;
	int r = binfmt_check(&p, &e);

	snprintf(msg, n, "%s", e.msg);
	if (r < 0)
		CHECK_INT(e.code, ERR_INTERNAL);
	return r;
}

#define AARCH64_MAGIC "7f454c460201010000000000000000000200b700"
#define AARCH64_MASK "ffffffffffffff00fffffffffffffffffeffffff"

TEST(platform_list)
{
	struct oci_platform *p;
	size_t n;
	struct err e = ERR_INIT;

	CHECK_INT(build_platforms_parse(NULL, &p, &n, &e), 0);
	CHECK_INT(n, 1);
	CHECK_STR(p[0].os, "linux");
	build_platforms_free(p, n);
	CHECK_INT(build_platforms_parse("linux/amd64,linux/arm64/v8,linux/arm/v7", &p, &n, &e), 0);
	CHECK_INT(n, 3);
	CHECK_STR(p[1].architecture, "arm64");
	CHECK_STR(p[1].variant, "v8");
	CHECK_STR(p[2].variant, "v7");
	build_platforms_free(p, n);
	static const char *const bad[] = { "", ",", "linux/amd64,", ",linux/amd64", "linux/amd64,,linux/arm64",
					   "linux/amd64,amd64", "linux/arm64,linux/arm64/v8", "linux/amd64,linux/x86_64",
					   "linux/amd64 ,linux/arm64" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		err_clear(&e);
		CHECK_INT(build_platforms_parse(bad[i], &p, &n, &e), -1);
		CHECK_INT(e.code, ERR_USAGE);
		CHECK(p == NULL && n == 0);
	}
	/* arm/v6 and arm/v7 are two platforms */
	CHECK_INT(build_platforms_parse("linux/arm/v6,linux/arm/v7", &p, &n, &e), 0);
	CHECK_INT(n, 2);
	build_platforms_free(p, n);
}

TEST(native)
{
	struct oci_platform host = { 0 };
	struct err e = ERR_INIT;

	CHECK_INT(oci_platform_default(&host, &e), 0);
	CHECK(binfmt_native(&host));
	oci_platform_free(&host);
#if defined(__x86_64__)
	struct oci_platform i386 = { (char *)"linux", (char *)"386", NULL, NULL };
	struct oci_platform x86 = { (char *)"linux", (char *)"x86_64", NULL, NULL };
	struct oci_platform arm64 = { (char *)"linux", (char *)"arm64", NULL, NULL };
	CHECK(binfmt_native(&i386));
	CHECK(binfmt_native(&x86));
	CHECK(!binfmt_native(&arm64));
#endif
}

TEST(handlers)
{
	char m[1024];
	struct oci_platform a64 = { (char *)"linux", (char *)"arm64", NULL, NULL };

	if (binfmt_native(&a64))
		return; /* an arm64 machine runs arm64 natively: nothing to check here */
	setenv("BOSUN_BINFMT_DIR", dir, 1);
	CHECK_INT(check("arm64", m, sizeof(m)), -1);
	CHECK(strstr(m, "binfmt_misc is not mounted on") != NULL);
	CHECK(strstr(m, "update-binfmts --enable qemu-aarch64") != NULL);
	CHECK(strstr(m, "apt-get install qemu-user-static binfmt-support") != NULL);
	put("status", "disabled\n");
	CHECK_INT(check("arm64", m, sizeof(m)), -1);
	CHECK(strstr(m, "binfmt_misc is disabled") != NULL);
	put("status", "enabled\n");
	put("register", "");
	CHECK_INT(check("arm64", m, sizeof(m)), -1);
	CHECK(strstr(m, "no binfmt_misc handler for aarch64 is registered") != NULL);
	/* the arm handler does not serve arm64 */
	put("qemu-arm", "enabled\ninterpreter /usr/libexec/qemu-binfmt/arm-binfmt-P\nflags: PF\noffset 0\n"
			"magic 7f454c4601010100000000000000000002002800\nmask " AARCH64_MASK "\n");
	CHECK_INT(check("arm64", m, sizeof(m)), -1);
	CHECK_INT(check("arm", m, sizeof(m)), 0);
	/* disabled, then without F, then right */
	put("qemu-aarch64", "disabled\ninterpreter /x\nflags: PF\noffset 0\nmagic " AARCH64_MAGIC "\nmask " AARCH64_MASK "\n");
	CHECK_INT(check("arm64", m, sizeof(m)), -1);
	put("qemu-aarch64", "enabled\ninterpreter /x\nflags: OC\noffset 0\nmagic " AARCH64_MAGIC "\nmask " AARCH64_MASK "\n");
	CHECK_INT(check("arm64", m, sizeof(m)), -1);
	CHECK(strstr(m, "qemu-aarch64 lacks the F (fix binary) flag") != NULL);
	put("qemu-aarch64", "enabled\ninterpreter /x\nflags: POCF\noffset 0\nmagic " AARCH64_MAGIC "\nmask " AARCH64_MASK "\n");
	CHECK_INT(check("arm64", m, sizeof(m)), 0);
	CHECK_INT(check("aarch64", m, sizeof(m)), 0);
	drop("qemu-aarch64");
	/* any name, no mask: the magic must match an executable exactly; a PIE
	 * (e_type 3) header is accepted too */
	put("cross", "enabled\ninterpreter /x\nflags: F\noffset 0\nmagic 7f454c460201010000000000000000000300b700\n");
	CHECK_INT(check("arm64", m, sizeof(m)), 0);
	/* a handler on e_machine alone, at its offset */
	put("cross", "enabled\ninterpreter /x\nflags: F\noffset 18\nmagic b700\nmask ffff\n");
	CHECK_INT(check("arm64", m, sizeof(m)), 0);
	/* malformed entries never match */
	put("cross", "enabled\ninterpreter /x\nflags: F\noffset 60\nmagic b700b700b700\n");
	CHECK_INT(check("arm64", m, sizeof(m)), -1);
	put("cross", "enabled\ninterpreter /x\nflags: F\noffset 0\nmagic 7f454c4g\n");
	CHECK_INT(check("arm64", m, sizeof(m)), -1);
	put("cross", "enabled\ninterpreter /x\nflags: F\noffset 0\nmagic 7f454c46\nmask ffff\n");
	CHECK_INT(check("arm64", m, sizeof(m)), -1);
	put("cross", "enabled\ninterpreter /x\nflags: F\nextension .jar\n");
	CHECK_INT(check("arm64", m, sizeof(m)), -1);
	drop("cross");
	/* big-endian: Debian's qemu-s390x */
	put("qemu-s390x", "enabled\ninterpreter /x\nflags: PF\noffset 0\n"
			  "magic 7f454c46020201000000000000000000000200" "16\n"
			  "mask ffffffffffffff fcffffffffffffffffffffeffff\n");
	CHECK_INT(check("s390x", m, sizeof(m)), -1); /* a space inside the mask: malformed, never matches */
	put("qemu-s390x", "enabled\ninterpreter /x\nflags: PF\noffset 0\n"
			  "magic 7f454c4602020100000000000000000000020016\n"
			  "mask fffffffffffffffcfffffffffffffffffffeffff\n");
	CHECK_INT(check("s390x", m, sizeof(m)), 0);
	CHECK_INT(check("ppc64le", m, sizeof(m)), -1);
	CHECK(strstr(m, "update-binfmts --enable qemu-ppc64le") != NULL);
	CHECK_INT(check("sparc", m, sizeof(m)), -1);
	CHECK(strstr(m, "knows no emulator for sparc") != NULL);
	unsetenv("BOSUN_BINFMT_DIR");
}

int main(void)
{
	snprintf(dir, sizeof(dir), "/tmp/bosun-binfmt-XXXXXX");
	if (!mkdtemp(dir))
		return 1;
	RUN(platform_list);
	RUN(native);
	RUN(handlers);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		return 1;
	return test_done();
}
