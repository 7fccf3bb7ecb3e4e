/* OSV range semantics, one hand-written case at a time. */
#include <string.h>

#include "scan/cvss.h"
#include "scan/match.h"
#include "test.h"

#define R(ev) "[{\"type\":\"SEMVER\",\"events\":[" ev "]}]"

static bool aff(const char *ranges, const char *versions, const char *v, char *fixed)
{
	static char dummy[128];

	return osv_is_affected(ranges, versions, v, vercmp_semver, fixed ? fixed : dummy, 128);
}

TEST(introduced_fixed)
{
	const char *r = R("{\"introduced\":\"1.0.0\"},{\"fixed\":\"1.2.0\"}");
	char f[128];

	CHECK(!aff(r, NULL, "0.9.9", NULL));
	CHECK(aff(r, NULL, "1.0.0", f));
	CHECK_STR(f, "1.2.0");
	CHECK(aff(r, NULL, "1.1.9", NULL));
	CHECK(!aff(r, NULL, "1.2.0", NULL));
	CHECK(!aff(r, NULL, "2.0.0", NULL));
}

TEST(introduced_zero_and_unfixed)
{
	char f[128];

	CHECK(aff(R("{\"introduced\":\"0\"}"), NULL, "0.0.1", f));
	CHECK_STR(f, "");
	CHECK(aff(R("{\"introduced\":\"0\"},{\"fixed\":\"1.19.7\"}"), NULL, "1.19.6", f));
	CHECK_STR(f, "1.19.7");
}

TEST(last_affected)
{
	const char *r = R("{\"introduced\":\"1.0.0\"},{\"last_affected\":\"1.4.0\"}");

	CHECK(aff(r, NULL, "1.4.0", NULL));
	CHECK(!aff(r, NULL, "1.4.1", NULL));
	CHECK(!aff(r, NULL, "0.1.0", NULL));
}

TEST(limit)
{
	const char *r = R("{\"introduced\":\"0\"},{\"limit\":\"2.0.0\"}");

	CHECK(aff(r, NULL, "1.9.9", NULL));
	CHECK(!aff(r, NULL, "2.0.0", NULL));
	CHECK(!aff(r, NULL, "3.0.0", NULL));
}

TEST(several_ranges_and_events)
{
	/* the Go stdlib shape: two introduced/fixed pairs in one range */
	const char *r = R("{\"introduced\":\"0\"},{\"fixed\":\"1.19.7\"},{\"introduced\":\"1.20.0-0\"},{\"fixed\":\"1.20.2\"}");
	const char *two = "[{\"type\":\"SEMVER\",\"events\":[{\"introduced\":\"1.0.0\"},{\"fixed\":\"1.1.0\"}]},"
			  "{\"type\":\"SEMVER\",\"events\":[{\"introduced\":\"2.0.0\"},{\"fixed\":\"2.0.5\"}]}]";
	char f[128];

	CHECK(aff(r, NULL, "1.19.6", f));
	CHECK_STR(f, "1.19.7");
	CHECK(!aff(r, NULL, "1.19.7", NULL));
	CHECK(!aff(r, NULL, "1.19.10", NULL));
	CHECK(aff(r, NULL, "1.20.1", f));
	CHECK_STR(f, "1.20.2");
	CHECK(aff(r, NULL, "1.20.0-rc.1", NULL));
	CHECK(!aff(r, NULL, "1.20.2", NULL));
	CHECK(aff(two, NULL, "1.0.5", NULL));
	CHECK(!aff(two, NULL, "1.5.0", NULL));
	CHECK(aff(two, NULL, "2.0.4", f));
	CHECK_STR(f, "2.0.5");
}

TEST(versions_list_and_git)
{
	const char *git = "[{\"type\":\"GIT\",\"repo\":\"x\",\"events\":[{\"introduced\":\"0\"}]}]";

	CHECK(aff(NULL, "[\"1.0.1\",\"1.0.3\"]", "1.0.3", NULL));
	CHECK(!aff(NULL, "[\"1.0.1\",\"1.0.3\"]", "1.0.2", NULL));
	CHECK(!aff(git, NULL, "1.0.0", NULL));
}

TEST(distro_backport)
{
	const char *r = "[{\"type\":\"ECOSYSTEM\",\"events\":[{\"introduced\":\"0\"},{\"fixed\":\"3.0.11-1~deb12u2\"}]}]";
	char f[128];

	CHECK(osv_is_affected(r, NULL, "3.0.11-1~deb12u1", vercmp_dpkg, f, sizeof(f)));
	CHECK_STR(f, "3.0.11-1~deb12u2");
	CHECK(!osv_is_affected(r, NULL, "3.0.11-1~deb12u2", vercmp_dpkg, f, sizeof(f)));
	CHECK(!osv_is_affected(r, NULL, "3.0.13-1~deb12u1", vercmp_dpkg, f, sizeof(f)));
}

/* Scores from the FIRST calculators (v3.1, v3.0 and v2 specification examples). */
TEST(cvss_known_scores)
{
	static const struct {
		const char *v;
		double s;
		const char *rating;
	} t[] = {
		{ "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8, "CRITICAL" },
		{ "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H", 10.0, "CRITICAL" },
		{ "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N", 6.1, "MEDIUM" },
		{ "CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H", 7.8, "HIGH" },
		{ "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:N/A:N", 5.9, "MEDIUM" },
		{ "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H", 7.5, "HIGH" },
		{ "CVSS:3.1/AV:P/AC:H/PR:H/UI:R/S:U/C:L/I:N/A:N", 1.6, "LOW" },
		{ "CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:C/C:L/I:L/A:N", 6.4, "MEDIUM" },
		{ "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N", 0.0, "NONE" },
		{ "CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8, "CRITICAL" },
		{ "CVSS:3.0/AV:L/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:H", 7.8, "HIGH" },
		{ "AV:N/AC:L/Au:N/C:C/I:C/A:C", 10.0, "HIGH" },
		{ "AV:N/AC:L/Au:N/C:N/I:N/A:C", 7.8, "HIGH" },
		{ "AV:N/AC:M/Au:N/C:P/I:N/A:N", 4.3, "MEDIUM" },
		{ "AV:L/AC:H/Au:N/C:P/I:N/A:N", 1.2, "LOW" },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		double s = -1;
		struct err e = ERR_INIT;

		CHECK_INT(cvss_score(t[i].v, &s, &e), 0);
		if ((long)(s * 10 + 0.5) != (long)(t[i].s * 10 + 0.5))
			fprintf(stderr, "%s: got %.1f want %.1f\n", t[i].v, s, t[i].s), test_cur_failed = 1;
		CHECK_STR(severity_name(cvss_rating(t[i].v, s)), t[i].rating);
	}
	{
		double s;
		struct err e = ERR_INIT;

		CHECK_INT(cvss_score("CVSS:3.1/AV:N/AC:L", &s, &e), -1);
		CHECK_INT(e.code, ERR_INPUT);
	}
}

int main(void)
{
	RUN(introduced_fixed);
	RUN(introduced_zero_and_unfixed);
	RUN(last_affected);
	RUN(limit);
	RUN(several_ranges_and_events);
	RUN(versions_list_and_git);
	RUN(distro_backport);
	RUN(cvss_known_scores);
	return test_done();
}
