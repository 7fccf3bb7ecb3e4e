/* Version comparators against the upstream vector suites in
 * $SHARED/data/vectors and against dpkg and rpm as oracles. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scan/version.h"
#include "test.h"

static char vdir[512];

static FILE *vopen(const char *name)
{
	char p[1024];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", vdir, name);
	f = fopen(p, "r");
	if (!f)
		fprintf(stderr, "cannot open %s\n", p);
	return f;
}

static int sign(int x)
{
	return (x > 0) - (x < 0);
}

static void chomp(char *s)
{
	size_t n = strlen(s);

	while (n && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' ' || s[n - 1] == '\t'))
		s[--n] = 0;
}

/* osv-scalibr format: "A OP B", OP one of < = >. Returns pairs checked. */
static int scalibr_file(const char *name, vercmp_fn cmp)
{
	char line[4096];
	int n = 0, bad = 0;
	FILE *f = vopen(name);

	CHECK(f != NULL);
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		char *a, *op, *b, *save = NULL;
		int want, got;

		chomp(line);
		if (!line[0] || strncmp(line, "# ", 2) == 0 || strncmp(line, "// ", 3) == 0)
			continue;
		a = strtok_r(line, " ", &save);
		op = strtok_r(NULL, " ", &save);
		b = strtok_r(NULL, "", &save);
		if (!a || !op || !b)
			continue;
		want = op[0] == '<' ? -1 : op[0] == '>' ? 1 : 0;
		got = sign(cmp(a, b));
		if (got != want || sign(cmp(b, a)) != -want) {
			if (bad++ < 10)
				fprintf(stderr, "%s: %s %s %s: got %d\n", name, a, op, b, got);
		}
		n++;
	}
	fclose(f);
	CHECK_INT(bad, 0);
	return n;
}

TEST(dpkg_vectors)
{
	char line[512];
	int n = 0;
	FILE *f = vopen("dpkg-version.txt");

	CHECK(f != NULL);
	while (f && fgets(line, sizeof(line), f)) {
		char a[200], b[200];
		int want;

		if (sscanf(line, "%199s %199s %d", a, b, &want) != 3)
			continue;
		if (sign(vercmp_dpkg(a, b)) != want)
			{ fprintf(stderr, "dpkg %s %s want %d\n", a, b, want); CHECK(0); }
		n++;
	}
	if (f)
		fclose(f);
	CHECK(n >= 40);
	CHECK(scalibr_file("osv-scalibr/debian-versions.txt", vercmp_dpkg) >= 20);
	CHECK(scalibr_file("osv-scalibr/debian-versions-generated.txt", vercmp_dpkg) >= 14000);
}

static int apk_op_holds(const char *a, const char *op, const char *b)
{
	int c = sign(vercmp_apk(a, b));
	bool any = false;

	for (const char *p = op; *p; p++) {
		if (*p == '<' && c < 0)
			any = true;
		if (*p == '>' && c > 0)
			any = true;
		if (*p == '=' && c == 0)
			any = true;
		if (*p == '~' && vermatch_apk_fuzzy(a, b))
			any = true;
	}
	return any;
}

TEST(apk_vectors)
{
	char line[512];
	int n = 0;
	FILE *f = vopen("apk-version.data");

	CHECK(f != NULL);
	while (f && fgets(line, sizeof(line), f)) {
		char *hash = strchr(line, '#'), *a, *op, *b, *save = NULL;

		if (hash)
			*hash = 0;
		chomp(line);
		a = strtok_r(line, " \t", &save);
		if (!a) {
			if (line[0] == 0 && hash == NULL)
				continue;
			continue;
		}
		op = strtok_r(NULL, " \t", &save);
		b = op ? strtok_r(NULL, " \t", &save) : NULL;
		if (!op) {
			bool want = a[0] != '!';

			if (verok_apk(want ? a : a + 1) != want)
				{ fprintf(stderr, "apk validity of %s\n", a); CHECK(0); }
			n++;
			continue;
		}
		if (op[0] == '!') {
			if (apk_op_holds(a, op + 1, b))
				{ fprintf(stderr, "apk %s %s %s\n", a, op, b); CHECK(0); }
		} else if (!apk_op_holds(a, op, b)) {
			fprintf(stderr, "apk %s %s %s (got %d)\n", a, op, b, vercmp_apk(a, b));
			CHECK(0);
		}
		n++;
	}
	if (f)
		fclose(f);
	/* the lone "!" line: the empty version is invalid */
	CHECK(!verok_apk(""));
	CHECK(n > 700);
	CHECK(scalibr_file("osv-scalibr/alpine-versions.txt", vercmp_apk) > 300);
	CHECK(scalibr_file("osv-scalibr/alpine-versions-generated.txt", vercmp_apk) >= 13900);
}

TEST(rpm_vectors)
{
	char line[512];
	int n = 0;
	FILE *f = vopen("rpm-vercmp.at");

	CHECK(f != NULL);
	while (f && fgets(line, sizeof(line), f)) {
		char a[200], b[200];
		int want;

		/* RPMVERCMP(a, b, n); dnl lines are upstream's disabled oddities */
		if (strncmp(line, "RPMVERCMP(", 10) != 0)
			continue;
		if (sscanf(line + 10, "%199[^,], %199[^,], %d)", a, b, &want) != 3)
			continue;
		if (sign(rpmvercmp(a, b)) != want || sign(vercmp_rpm(a, b)) != want)
			{ fprintf(stderr, "rpm %s %s want %d got %d\n", a, b, want, rpmvercmp(a, b)); CHECK(0); }
		n++;
	}
	if (f)
		fclose(f);
	CHECK(n >= 90);
	CHECK(scalibr_file("osv-scalibr/redhat-versions.txt", vercmp_rpm) > 100);
}

/* node-semver fixtures: lines "  ['a', 'b'...]," */
static int semver_js(const char *name, int want)
{
	char line[512];
	int n = 0;
	FILE *f = vopen(name);

	CHECK(f != NULL);
	while (f && fgets(line, sizeof(line), f)) {
		char a[128], b[128];

		if (sscanf(line, " ['%127[^']', '%127[^']'", a, b) != 2)
			continue;
		if (sign(vercmp_semver(a, b)) != want || sign(vercmp_semver(b, a)) != -want)
			{ fprintf(stderr, "semver %s %s want %d\n", a, b, want); CHECK(0); }
		n++;
	}
	if (f)
		fclose(f);
	return n;
}

TEST(semver_vectors)
{
	CHECK(semver_js("semver/comparisons.js", 1) > 30);
	CHECK(semver_js("semver/equality.js", 0) > 30);
	CHECK(scalibr_file("osv-scalibr/semver-versions.txt", vercmp_semver) > 50);
}

TEST(pep440_vectors)
{
	CHECK(scalibr_file("osv-scalibr/pypi-versions.txt", vercmp_pep440) > 30);
	CHECK(scalibr_file("osv-scalibr/pypi-versions-generated.txt", vercmp_pep440) >= 12000);
}

TEST(go_and_maven)
{
	static const struct {
		const char *a, *b;
		int want;
		vercmp_fn f;
	} t[] = {
		{ "go1.19.8", "1.19.10", -1, vercmp_go },   { "go1.21rc2", "1.21.0", -1, vercmp_go },
		{ "go1.21rc2", "1.21.0-rc.3", -1, vercmp_go }, { "go1.20", "1.20.0", 0, vercmp_go },
		{ "v0.0.0-20220101-abc", "v0.1.0", -1, vercmp_go }, { "v1.2.3", "1.2.3", 0, vercmp_go },
		{ "1.0", "1.0.0", 0, vercmp_maven },         { "1.0-alpha", "1.0", -1, vercmp_maven },
		{ "1.0-SNAPSHOT", "1.0", -1, vercmp_maven }, { "1.0-rc1", "1.0-SNAPSHOT", -1, vercmp_maven },
		{ "1.0-sp1", "1.0", 1, vercmp_maven },       { "2.17.1", "2.17.0", 1, vercmp_maven },
		{ "1.0.1", "1.0-sp", 1, vercmp_maven },      { "1.0-beta", "1.0-alpha2", 1, vercmp_maven },
		{ "1.0.final", "1.0", 0, vercmp_maven },     { "1.10", "1.9", 1, vercmp_maven },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (sign(t[i].f(t[i].a, t[i].b)) != t[i].want || sign(t[i].f(t[i].b, t[i].a)) != -t[i].want)
			{ fprintf(stderr, "%s %s want %d\n", t[i].a, t[i].b, t[i].want); CHECK(0); }
	CHECK(vscheme_for_ecosystem("Debian:12") == VS_DPKG);
	CHECK(vscheme_for_ecosystem("Alpine:v3.19") == VS_APK);
	CHECK(vscheme_for_ecosystem("Go") == VS_GO);
	CHECK(vscheme_for_ecosystem("Gox") == VS_GENERIC);
}

/* Maven's own ordering examples: its documentation (pom.html, "Version
 * Order Specification") and the two ascending lists ComparableVersion is
 * tested with. */
TEST(maven_documented_order)
{
	static const char *const qual[] = { "1-alpha2snapshot", "1-alpha2", "1-alpha-123", "1-beta-2", "1-beta123",
					     "1-m2", "1-m11", "1-rc", "1-cr2", "1-rc123", "1-SNAPSHOT", "1", "1-sp",
					     "1-sp2", "1-sp123", "1-abc", "1-def", "1-pom-1", "1-1-snapshot", "1-1",
					     "1-2", "1-123", NULL };
	static const char *const num[] = { "2.0", "2.0.a", "2-1", "2.0.2", "2.0.123", "2.1.0", "2.1-a", "2.1b",
					   "2.1-c", "2.1-1", "2.1.0.1", "2.2", "2.123", "11.a2", "11.a11", "11.b2",
					   "11.b11", "11.m2", "11.m11", "11", "11.a", "11b", "11c", "11m", NULL };
	static const char *const *const lists[] = { qual, num };
	static const struct {
		const char *a, *b;
		int want;
	} t[] = {
		{ "1", "1.1", -1 },          { "1-snapshot", "1", -1 },      { "1", "1-sp", -1 },
		{ "1-foo2", "1-foo10", -1 }, { "1.foo", "1-1", -1 },         { "1-foo", "1-1", -1 },
		{ "1-1", "1.1", -1 },        { "1.ga", "1", 0 },             { "1-ga", "1", 0 },
		{ "1-0", "1", 0 },           { "1.0", "1", 0 },              { "1-sp", "1-ga", 1 },
		{ "1-sp.1", "1-ga.1", 1 },   { "1-sp-1", "1-ga-1", -1 },     { "1-a1", "1-alpha-1", 0 },
		{ "1.release", "1", 0 },     { "1-CR1", "1-rc1", 0 },        { "1.0-SNAPSHOT", "1-SNAPSHOT", 0 },
		{ "1.0.0.RC1", "1.0.0", -1 }, { "1.0.0.RC1", "1.RC1", 0 },   { "", "0", 0 },
		{ "1-b1", "1-beta1", 0 },    { "1-b", "1-beta", 1 },         { "1.X", "1.x", 0 },
	};
	int bad = 0;

	for (size_t l = 0; l < 2; l++)
		for (size_t i = 0; lists[l][i]; i++)
			for (size_t j = i + 1; lists[l][j]; j++)
				if (vercmp_maven(lists[l][i], lists[l][j]) >= 0 || vercmp_maven(lists[l][j], lists[l][i]) <= 0) {
					if (bad++ < 10)
						fprintf(stderr, "maven: want %s < %s\n", lists[l][i], lists[l][j]);
				}
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (sign(vercmp_maven(t[i].a, t[i].b)) != t[i].want || sign(vercmp_maven(t[i].b, t[i].a)) != -t[i].want) {
			if (bad++ < 10)
				fprintf(stderr, "maven: %s %s want %d\n", t[i].a, t[i].b, t[i].want);
		}
	CHECK_INT(bad, 0);
}

/* The comparator laws the fuzz target checks, on one triple. */
static int laws_broken(const char *name, vercmp_fn f, const char *a, const char *b, const char *c)
{
	const char *v[3] = { a, b, c };
	int ab = sign(f(a, b)), ba = sign(f(b, a)), bc = sign(f(b, c)), ac = sign(f(a, c));

	for (int j = 0; j < 3; j++)
		if (f(v[j], v[j]) != 0) {
			fprintf(stderr, "%s: '%s' not equal to itself\n", name, v[j]);
			return 1;
		}
	if (ab != -ba || (ab <= 0 && bc <= 0 && ac > 0) || (ab >= 0 && bc >= 0 && ac < 0)) {
		fprintf(stderr, "%s: laws broken on '%s' '%s' '%s' (%d %d %d %d)\n", name, a, b, c, ab, ba, bc, ac);
		return 1;
	}
	return 0;
}

/* Cycles Maven's own ComparableVersion has ("1-alpha" < "1" < "1.sp" <
 * "1-alpha"), the ones fuzz_vercmp found, and apk's "1" < "1.0" < "1.00". */
TEST(comparator_laws_regressions)
{
	static const struct {
		vercmp_fn f;
		const char *name, *a, *b, *c;
	} t[] = {
		{ vercmp_maven, "maven", "1-alpha", "1", "1.sp" },
		{ vercmp_maven, "maven", "1.0.alpha", "1-sp", "1" },
		{ vercmp_maven, "maven", "1.0.alpha", "1", "1.ga.sp" },
		{ vercmp_maven, "maven", "1-0.foo", "1", "1-0.bar" },
		{ vercmp_maven, "maven", "1.0-SNAPSHOT", "1.0", "1.Y0-final" },
		{ vercmp_maven, "maven", "1.1.02.3-r0", "1.2.31_r-1", "c1\n1-r" },
		{ vercmp_maven, "maven", "1.0.1", "1.0-sp", "1" },
		{ vercmp_maven, "maven", "1-x", "1.x", "1-0x" },
		{ vercmp_apk, "apk", "1.0", "1", "1.00" },
		{ vercmp_apk, "apk", "1.0", "1.0_alpha", "1.00_p1" },
	};
	int bad = 0;

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		bad += laws_broken(t[i].name, t[i].f, t[i].a, t[i].b, t[i].c);
		bad += laws_broken(t[i].name, t[i].f, t[i].c, t[i].b, t[i].a);
		bad += laws_broken(t[i].name, t[i].f, t[i].b, t[i].c, t[i].a);
	}
	/* apk-tools: more components is greater */
	CHECK(vercmp_apk("1", "1.0") < 0);
	CHECK_INT(bad, 0);
}

/* Every input kept in tests/fuzz/known/vercmp-* goes through the checks
 * fuzz_vercmp makes: lines split as it splits them, every comparator, apk
 * only on versions apk-tools calls valid (it orders no others). */
TEST(fuzz_known_vercmp)
{
	static const struct {
		const char *name;
		vercmp_fn f;
	} cmps[] = {
		{ "dpkg", vercmp_dpkg },     { "apk", vercmp_apk },       { "rpm", vercmp_rpm }, { "rpmvercmp", rpmvercmp },
		{ "semver", vercmp_semver }, { "pep440", vercmp_pep440 }, { "go", vercmp_go },   { "maven", vercmp_maven },
		{ "generic", vercmp_generic },
	};
	FILE *ls = popen("ls tests/fuzz/known/vercmp-* 2>/dev/null", "r");
	char path[512];
	int files = 0, bad = 0;

	CHECK(ls != NULL);
	while (ls && fgets(path, sizeof(path), ls)) {
		static char data[65536 + 1];
		char empty[1] = "", *v[3] = { empty, empty, empty };
		FILE *f;
		size_t n;
		int k = 0;

		chomp(path);
		f = fopen(path, "rb");
		CHECK(f != NULL);
		if (!f)
			continue;
		n = fread(data, 1, sizeof(data) - 1, f);
		fclose(f);
		data[n] = 0;
		v[0] = data;
		for (size_t i = 0; i < n && k < 2; i++)
			if (data[i] == '\n') {
				data[i] = 0;
				v[++k] = data + i + 1;
			}
		for (size_t i = 0; i < sizeof(cmps) / sizeof(cmps[0]); i++) {
			if (cmps[i].f == vercmp_apk && !(verok_apk(v[0]) && verok_apk(v[1]) && verok_apk(v[2])))
				continue;
			if (laws_broken(cmps[i].name, cmps[i].f, v[0], v[1], v[2])) {
				fprintf(stderr, "  from %s\n", path);
				bad++;
			}
		}
		files++;
	}
	if (ls)
		pclose(ls);
	CHECK(files >= 3);
	CHECK_INT(bad, 0);
}

/* Random versions from pieces that exercise each scheme's corners. */
static unsigned rng = 12345;
static unsigned rnd(unsigned n)
{
	rng = rng * 1103515245u + 12345u;
	return (rng >> 16) % n;
}

static void gen_version(char *out, size_t cap, bool dpkg)
{
	static const char *const dpieces[] = { "0", "1", "2", "10", "01", ".", ".", "~", "+", "a", "b", "rc", "~rc", "deb12u", "+deb12u", "ubuntu", "z", ".0" };
	static const char *const rpieces[] = { "0", "1", "2", "10", "01", ".", ".", "~", "^", "a", "b", "rc", "_", "git", "el9", "+", "Z" };
	size_t n = 0;
	int parts = 1 + (int)rnd(6);

	out[0] = 0;
	if (dpkg && rnd(5) == 0)
		n += (size_t)snprintf(out + n, cap - n, "%u:", rnd(3));
	n += (size_t)snprintf(out + n, cap - n, "%u", rnd(12));
	for (int i = 0; i < parts && n < cap - 16; i++)
		n += (size_t)snprintf(out + n, cap - n, "%s", dpkg ? dpieces[rnd(18)] : rpieces[rnd(17)]);
	if (dpkg && rnd(2))
		n += (size_t)snprintf(out + n, cap - n, "-%u%s", rnd(4), rnd(3) ? "" : "+deb12u1");
}

TEST(dpkg_oracle)
{
	int n = 0, bad = 0;

	if (system("command -v dpkg >/dev/null 2>&1") != 0) {
		printf("# SKIP dpkg not installed\n");
		return;
	}
	{
		char in[] = "/tmp/bosun-dpkg-pairs-XXXXXX";
		int fd = mkstemp(in);
		FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
		char (*pairs)[2][96] = calloc(1500, sizeof(*pairs));
		char cmd[1024], line[64];
		FILE *r;

		CHECK(f != NULL && pairs != NULL);
		if (!f || !pairs)
			return;
		for (int i = 0; i < 1500; i++) {
			gen_version(pairs[i][0], sizeof(pairs[i][0]), true);
			if (rnd(4) == 0)
				memcpy(pairs[i][1], pairs[i][0], sizeof(pairs[i][1]));
			else
				gen_version(pairs[i][1], sizeof(pairs[i][1]), true);
			fprintf(f, "%s %s\n", pairs[i][0], pairs[i][1]);
		}
		fclose(f);
		snprintf(cmd, sizeof(cmd),
			 "while read a b; do if dpkg --compare-versions \"$a\" lt \"$b\" 2>/dev/null; then echo -1; "
			 "elif dpkg --compare-versions \"$a\" eq \"$b\" 2>/dev/null; then echo 0; else echo 1; fi; done < %s",
			 in);
		r = popen(cmd, "r");
		CHECK(r != NULL);
		while (r && fgets(line, sizeof(line), r) && n < 1500) {
			int want = atoi(line), got = sign(vercmp_dpkg(pairs[n][0], pairs[n][1]));

			if (want != got && bad++ < 10)
				fprintf(stderr, "dpkg oracle: %s vs %s: dpkg %d, bosun %d\n", pairs[n][0], pairs[n][1], want, got);
			n++;
		}
		if (r)
			pclose(r);
		remove(in);
		free(pairs);
	}
	CHECK_INT(n, 1500);
	CHECK_INT(bad, 0);
}

TEST(rpm_oracle)
{
	char in[] = "/tmp/bosun-rpm-pairs-XXXXXX";
	char (*pairs)[2][96];
	char cmd[1024], line[64];
	int fd, n = 0, bad = 0;
	FILE *f, *r;

	if (system("command -v rpm >/dev/null 2>&1") != 0) {
		printf("# SKIP rpm not installed (apt-get install rpm)\n");
		return;
	}
	fd = mkstemp(in);
	f = fd >= 0 ? fdopen(fd, "w") : NULL;
	pairs = calloc(3000, sizeof(*pairs));
	CHECK(f != NULL && pairs != NULL);
	if (!f || !pairs)
		return;
	for (int i = 0; i < 3000; i++) {
		gen_version(pairs[i][0], sizeof(pairs[i][0]), false);
		if (rnd(4) == 0)
			memcpy(pairs[i][1], pairs[i][0], sizeof(pairs[i][1]));
		else
			gen_version(pairs[i][1], sizeof(pairs[i][1]), false);
		fprintf(f, "%s %s\n", pairs[i][0], pairs[i][1]);
	}
	fclose(f);
	/* one rpm process compares every pair with rpm.vercmp */
	snprintf(cmd, sizeof(cmd),
		 "rpm --eval '%%{lua: for l in io.lines(\"%s\") do local i = l:find(\" \"); local a, b = l:sub(1, i - 1), l:sub(i + 1); "
		 "io.write(rpm.vercmp(a, b), \"\\n\") end}'",
		 in);
	r = popen(cmd, "r");
	CHECK(r != NULL);
	while (r && fgets(line, sizeof(line), r) && n < 3000) {
		int want, got;

		if (!line[0] || line[0] == '\n')
			continue;
		want = sign(atoi(line));
		got = sign(rpmvercmp(pairs[n][0], pairs[n][1]));
		if (want != got && bad++ < 10)
			fprintf(stderr, "rpm oracle: %s vs %s: rpm %d, bosun %d\n", pairs[n][0], pairs[n][1], want, got);
		n++;
	}
	if (r)
		pclose(r);
	remove(in);
	free(pairs);
	CHECK_INT(n, 3000);
	CHECK_INT(bad, 0);
}

int main(void)
{
	const char *sh = getenv("SHARED");

	snprintf(vdir, sizeof(vdir), "%s/data/vectors", sh && *sh ? sh : "/work/shared");
	RUN(dpkg_vectors);
	RUN(apk_vectors);
	RUN(rpm_vectors);
	RUN(semver_vectors);
	RUN(pep440_vectors);
	RUN(go_and_maven);
	RUN(maven_documented_order);
	RUN(comparator_laws_regressions);
	RUN(fuzz_known_vercmp);
	RUN(dpkg_oracle);
	RUN(rpm_oracle);
	return test_done();
}
