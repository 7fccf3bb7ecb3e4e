/* CVSS v4.0 scores: reference values (agreed by ae-cvss-calculator and
 * Red Hat's cvss library), the rounding rule, nomenclature, ratings, and
 * hostile vector strings that must give no score. The full comparisons
 * (1,694 Red Hat vectors, all 104,976 base vectors) are in e2e 48. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "scan/cvss.h"
#include "scan/cvss4.h"
#include "test.h"

static double score_of(const char *v)
{
	struct err e = ERR_INIT;
	double s = -1;

	if (cvss4_score(v, &s, NULL, &e) < 0)
		return -1;
	return s;
}

#define CHECK_SCORE(v, want) CHECK(fabs(score_of(v) - (want)) < 1e-9)

TEST(reference_scores)
{
	/* the highest and the no-impact vectors */
	CHECK_SCORE("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:H/SI:H/SA:H", 10.0);
	CHECK_SCORE("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:N/VA:N/SC:N/SI:N/SA:N", 0.0);
	/* RUSTSEC-2025-0149 */
	CHECK_SCORE("CVSS:4.0/AV:L/AC:L/AT:P/PR:L/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N", 7.3);
	CHECK_SCORE("CVSS:4.0/AV:P/AC:H/AT:P/PR:H/UI:A/VC:L/VI:N/VA:N/SC:N/SI:N/SA:N", 1.0);
	/* threat: E:P lowers, E:X is E:A */
	CHECK_SCORE("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:H/SI:H/SA:H/E:P", 9.3);
	CHECK_SCORE("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:H/SI:H/SA:H/E:X", 10.0);
	CHECK_SCORE("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/E:U/CR:L/IR:L/AR:L", 6.5);
	/* environmental: modified metrics replace base ones, Safety */
	CHECK_SCORE("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/MSI:S", 10.0);
	CHECK_SCORE("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:L/VI:L/VA:L/SC:N/SI:N/SA:N/MSA:S/MAV:P", 5.9);
	CHECK_SCORE("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:N/VA:N/SC:N/SI:N/SA:N/MVC:H", 8.7);
	CHECK_SCORE("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:N/VA:N/SC:N/SI:N/SA:N/MVC:N", 0.0);
}

/* The exact value of this vector is 8.55: rounded half up, 8.6 (Red Hat's
 * library and ae-cvss-calculator agree); FIRST's calculator computes
 * 8.549999... in floating point and shows 8.5. */
TEST(rounding_half_up)
{
	CHECK_SCORE("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:P/VC:H/VI:L/VA:N/SC:H/SI:H/SA:H", 8.6);
	CHECK_SCORE("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:P/VC:L/VI:H/VA:N/SC:H/SI:H/SA:H", 8.6);
}

TEST(order_and_supplemental)
{
	double a = score_of("CVSS:4.0/AV:L/AC:L/AT:P/PR:L/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/E:P/CR:M");

	CHECK(a > 0);
	CHECK_SCORE("CVSS:4.0/CR:M/SA:N/SI:N/SC:N/VA:H/VI:H/VC:H/UI:N/PR:L/AT:P/AC:L/AV:L/E:P", a);
	/* supplemental metrics do not change the score */
	CHECK_SCORE(
	    "CVSS:4.0/AV:L/AC:L/AT:P/PR:L/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/E:P/CR:M/S:P/AU:Y/R:I/V:C/RE:H/U:Red", a);
	CHECK_SCORE("CVSS:4.0/AV:L/AC:L/AT:P/PR:L/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/U:Clear", 7.3);
}

TEST(nomenclature)
{
	const char *b = "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N";
	char v[300];

	CHECK_STR(cvss_nomenclature(b), "CVSS-B");
	snprintf(v, sizeof(v), "%s/E:X/CR:X/MAV:X/U:Red", b);
	CHECK_STR(cvss_nomenclature(v), "CVSS-B");
	snprintf(v, sizeof(v), "%s/E:U", b);
	CHECK_STR(cvss_nomenclature(v), "CVSS-BT");
	snprintf(v, sizeof(v), "%s/MSI:S", b);
	CHECK_STR(cvss_nomenclature(v), "CVSS-BE");
	snprintf(v, sizeof(v), "%s/AR:L", b);
	CHECK_STR(cvss_nomenclature(v), "CVSS-BE");
	snprintf(v, sizeof(v), "%s/E:A/IR:H", b);
	CHECK_STR(cvss_nomenclature(v), "CVSS-BTE");
	CHECK(cvss_nomenclature("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H") == NULL);
	CHECK(cvss_nomenclature("CVSS:4.0/AV:N") == NULL);
	CHECK(cvss_nomenclature(NULL) == NULL);
}

TEST(ratings_and_dispatch)
{
	struct err e = ERR_INIT;
	double s = -1;
	const char *v = "CVSS:4.0/AV:L/AC:L/AT:P/PR:L/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N";

	CHECK_INT(cvss_score(v, &s, &e), 0);
	CHECK(fabs(s - 7.3) < 1e-9);
	CHECK_INT(cvss_rating(v, 7.3), SEV_HIGH);
	CHECK_INT(cvss_rating(v, 0.0), SEV_NONE);
	CHECK_INT(cvss_rating(v, 0.1), SEV_LOW);
	CHECK_INT(cvss_rating(v, 3.9), SEV_LOW);
	CHECK_INT(cvss_rating(v, 4.0), SEV_MEDIUM);
	CHECK_INT(cvss_rating(v, 6.9), SEV_MEDIUM);
	CHECK_INT(cvss_rating(v, 8.9), SEV_HIGH);
	CHECK_INT(cvss_rating(v, 9.0), SEV_CRITICAL);
	CHECK_INT(cvss_version(v), 4);
	CHECK_INT(cvss_version("CVSS:3.0/AV:N"), 3);
	CHECK_INT(cvss_version("AV:N/AC:L/Au:N/C:P/I:P/A:P"), 2);
	CHECK_INT(cvss_version("CVSS:4.1/AV:N"), 0);
	CHECK_INT(cvss_version(NULL), 0);
}

TEST(hostile_vectors)
{
	static const char *const bad[] = {
		"",
		"CVSS:4.0",
		"CVSS:4.0/",
		"CVSS:4.1/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
		"cvss:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
		"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/",
		"CVSS:4.0//AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
		"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N",		/* SA missing */
		"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/AV:N", /* twice */
		"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/E:X/E:A",
		"CVSS:4.0/AV:X/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N", /* X for a base metric */
		"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:S/SA:N", /* S only as MSI */
		"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/MSC:S",
		"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/E:Q",
		"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/U:clear",
		"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/U:Clearer",
		"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/ZZ:A",
		"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/E",
		"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/E:",
		"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/:A",
		"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/E:A:A",
		"CVSS:4.0/AV:NN/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
		"CVSS:4.0/AVV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
		"CVSS:4.0/av:n/ac:l/at:n/pr:n/ui:n/vc:h/vi:h/va:h/sc:n/si:n/sa:n",
		"CVSS:4.0/AV:N /AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
		"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N\n",
		"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/E:A\x01",
		"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/E:\xc3\xa9",
		"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/CVSS:4.0",
		"CVSS:4.0/(AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N)",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct err e = ERR_INIT;
		double s = -7;

		if (cvss_score(bad[i], &s, &e) != -1 || e.code != ERR_INPUT || s != -7) {
			fprintf(stderr, "accepted: \"%s\" (%.1f)\n", bad[i], s);
			CHECK(0);
		}
		CHECK(cvss_nomenclature(bad[i]) == NULL);
	}
	/* a long vector: every metric repeated (duplicates) and one of 64 KiB */
	{
		size_t n = 65536;
		char *v = malloc(n + 1);
		struct err e = ERR_INIT;
		double s;

		memcpy(v, "CVSS:4.0/", 9);
		for (size_t i = 9; i + 4 < n; i += 4)
			memcpy(v + i, "E:A/", 4);
		v[n - 4] = 'E', v[n - 3] = ':', v[n - 2] = 'A', v[n - 1] = 0;
		CHECK_INT(cvss_score(v, &s, &e), -1);
		memset(v + 9, 'A', n - 10);
		v[n - 1] = 0;
		CHECK_INT(cvss_score(v, &s, &e), -1);
		free(v);
	}
}

int main(void)
{
	RUN(reference_scores);
	RUN(rounding_half_up);
	RUN(order_and_supplemental);
	RUN(nomenclature);
	RUN(ratings_and_dispatch);
	RUN(hostile_vectors);
	return test_done();
}
