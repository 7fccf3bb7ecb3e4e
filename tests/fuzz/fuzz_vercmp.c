/* Every version comparator: no crash, cmp(a,a)==0, antisymmetry
 * sign(cmp(a,b)) == -sign(cmp(b,a)), and transitivity on the triple
 * (a,b,c) from the input (three newline-separated strings). */
#include <stdbool.h>
#include <stdio.h>
#include "fuzz.h"
#include "scan/version.h"

static int sgn(int x)
{
	return (x > 0) - (x < 0);
}

static const struct {
	const char *name;
	vercmp_fn f;
} cmps[] = {
	{"dpkg", vercmp_dpkg},     {"apk", vercmp_apk},       {"rpm", vercmp_rpm},     {"rpmvercmp", rpmvercmp},
	{"semver", vercmp_semver}, {"pep440", vercmp_pep440}, {"go", vercmp_go},       {"maven", vercmp_maven},
	{"generic", vercmp_generic},
};

static void die(const char *name, const char *what, const char *a, const char *b, const char *c)
{
	fprintf(stderr, "%s: %s violated: a='%s' b='%s' c='%s'\n", name, what, a, b, c ? c : "");
	abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	char *s = fuzz_str(d, n), *v[3] = {"", "", ""};
	int k = 0;

	v[0] = s;
	for (size_t i = 0; i < n && k < 2; i++)
		if (s[i] == '\n') {
			s[i] = 0;
			v[++k] = s + i + 1;
		}
	for (size_t i = 0; i < sizeof(cmps) / sizeof(cmps[0]); i++) {
		vercmp_fn f = cmps[i].f;
		/* apk-tools defines no order on invalid versions (it compares
		 * token by token and gives up); the laws are checked on valid ones. */
		bool valid = f != vercmp_apk || (verok_apk(v[0]) && verok_apk(v[1]) && verok_apk(v[2]));
		int ab = sgn(f(v[0], v[1])), ba = sgn(f(v[1], v[0]));
		int bc = sgn(f(v[1], v[2])), ac = sgn(f(v[0], v[2]));
		if (!valid)
			continue;
		for (int j = 0; j < 3; j++)
			if (f(v[j], v[j]) != 0)
				die(cmps[i].name, "reflexivity", v[j], v[j], NULL);
		if (ab != -ba)
			die(cmps[i].name, "antisymmetry", v[0], v[1], NULL);
		if (ab <= 0 && bc <= 0 && ac > 0)
			die(cmps[i].name, "transitivity (<=)", v[0], v[1], v[2]);
		if (ab >= 0 && bc >= 0 && ac < 0)
			die(cmps[i].name, "transitivity (>=)", v[0], v[1], v[2]);
	}
	(void)vermatch_apk_fuzzy(v[0], v[1]);
	(void)verok_apk(v[0]);
	free(s);
	return 0;
}
