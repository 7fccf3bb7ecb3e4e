/* CVSS v4.0 scoring, written from FIRST's specification (section 8,
 * "CVSS v4.0 Scoring"): the vector's MacroVector (equivalence sets EQ1..EQ6
 * of its effective metric values) gives a score from the published table
 * (cvss4_table.h); the score is lowered by the mean, over the equivalence
 * sets that have a lower MacroVector, of the difference to that lower
 * MacroVector's score times the vector's severity distance from the
 * highest-severity vector of its MacroVector divided by the MacroVector's
 * depth. The arithmetic is exact (integers in tenths over a common
 * denominator) and the result is rounded half up to one decimal. */
#include <stdbool.h>
#include <string.h>

#include "scan/cvss4.h"
#include "scan/cvss4_table.h"

enum {
	AV,
	AC,
	AT,
	PR,
	UI,
	VC,
	VI,
	VA,
	SC,
	SI,
	SA, /* base, all required */
	E,  /* threat */
	CR,
	IR,
	AR,
	MAV,
	MAC,
	MAT,
	MPR,
	MUI,
	MVC,
	MVI,
	MVA,
	MSC,
	MSI,
	MSA, /* environmental */
	S,
	AU,
	R,
	V,
	RE,
	U, /* supplemental, not scored */
	NMETRIC
};
#define NBASE (SA + 1)

/* Values in the specification's order of decreasing severity for the
 * base metrics, so that a base value's index is its severity level; the
 * optional metrics start with X (Not Defined). */
static const struct {
	const char *key;
	const char *const val[6];
} metrics[NMETRIC] = {
	[AV] = { "AV", { "N", "A", "L", "P" } },
	[AC] = { "AC", { "L", "H" } },
	[AT] = { "AT", { "N", "P" } },
	[PR] = { "PR", { "N", "L", "H" } },
	[UI] = { "UI", { "N", "P", "A" } },
	[VC] = { "VC", { "H", "L", "N" } },
	[VI] = { "VI", { "H", "L", "N" } },
	[VA] = { "VA", { "H", "L", "N" } },
	[SC] = { "SC", { "H", "L", "N" } },
	[SI] = { "SI", { "H", "L", "N" } },
	[SA] = { "SA", { "H", "L", "N" } },
	[E] = { "E", { "X", "A", "P", "U" } },
	[CR] = { "CR", { "X", "H", "M", "L" } },
	[IR] = { "IR", { "X", "H", "M", "L" } },
	[AR] = { "AR", { "X", "H", "M", "L" } },
	[MAV] = { "MAV", { "X", "N", "A", "L", "P" } },
	[MAC] = { "MAC", { "X", "L", "H" } },
	[MAT] = { "MAT", { "X", "N", "P" } },
	[MPR] = { "MPR", { "X", "N", "L", "H" } },
	[MUI] = { "MUI", { "X", "N", "P", "A" } },
	[MVC] = { "MVC", { "X", "H", "L", "N" } },
	[MVI] = { "MVI", { "X", "H", "L", "N" } },
	[MVA] = { "MVA", { "X", "H", "L", "N" } },
	[MSC] = { "MSC", { "X", "H", "L", "N" } },
	[MSI] = { "MSI", { "X", "S", "H", "L", "N" } },
	[MSA] = { "MSA", { "X", "S", "H", "L", "N" } },
	[S] = { "S", { "X", "N", "P" } },
	[AU] = { "AU", { "X", "N", "Y" } },
	[R] = { "R", { "X", "A", "U", "I" } },
	[V] = { "V", { "X", "D", "C" } },
	[RE] = { "RE", { "X", "L", "M", "H" } },
	[U] = { "U", { "X", "Clear", "Green", "Amber", "Red" } },
};

static int lookup(const char *s, size_t n, const char *const *names, size_t count)
{
	for (size_t i = 0; i < count && names[i]; i++)
		if (strlen(names[i]) == n && memcmp(s, names[i], n) == 0)
			return (int)i;
	return -1;
}

/* val[m] = index of the value of metric m, -1 when absent. */
static int parse(const char *v, signed char val[NMETRIC], struct err *e)
{
	const char *p;

	memset(val, -1, NMETRIC);
	if (strncmp(v, "CVSS:4.0/", 9) != 0)
		return err_set(e, ERR_INPUT, "CVSS vector %.80s: not CVSS:4.0", v);
	p = v + 9;
	for (;;) {
		size_t n = strcspn(p, "/");
		const char *colon = memchr(p, ':', n);
		int m = -1, x;

		if (!colon || colon == p)
			return err_set(e, ERR_INPUT, "CVSS vector %.80s: malformed metric", v);
		for (int i = 0; i < NMETRIC && m < 0; i++)
			if (strlen(metrics[i].key) == (size_t)(colon - p) && memcmp(p, metrics[i].key, colon - p) == 0)
				m = i;
		if (m < 0)
			return err_set(e, ERR_INPUT, "CVSS vector %.80s: unknown metric", v);
		if (val[m] >= 0)
			return err_set(e, ERR_INPUT, "CVSS vector %.80s: metric %s given twice", v, metrics[m].key);
		x = lookup(colon + 1, n - (size_t)(colon + 1 - p), metrics[m].val, 6);
		if (x < 0)
			return err_set(e, ERR_INPUT, "CVSS vector %.80s: bad value for %s", v, metrics[m].key);
		val[m] = (signed char)x;
		if (!p[n])
			break;
		p += n + 1;
	}
	for (int i = 0; i < NBASE; i++)
		if (val[i] < 0)
			return err_set(e, ERR_INPUT, "CVSS vector %.80s: missing base metric %s", v, metrics[i].key);
	return 0;
}

/* Effective severity levels (0 = most severe) of the metrics that score:
 * a defined modified metric replaces the base one; E not defined counts
 * as Attacked, CR/IR/AR not defined as High. SC/SI/SA levels start at 1,
 * so that Safety (MSI:S, MSA:S) is 0. */
struct levels {
	int av, ac, at, pr, ui, vc, vi, va, sc, si, sa, e, cr, ir, ar;
};

static void effective(const signed char val[NMETRIC], struct levels *l)
{
#define MOD(mod, base) (val[mod] > 0 ? val[mod] - 1 : val[base])
	l->av = MOD(MAV, AV), l->ac = MOD(MAC, AC), l->at = MOD(MAT, AT), l->pr = MOD(MPR, PR), l->ui = MOD(MUI, UI);
	l->vc = MOD(MVC, VC), l->vi = MOD(MVI, VI), l->va = MOD(MVA, VA);
#undef MOD
	l->sc = val[MSC] > 0 ? val[MSC] : val[SC] + 1;
	l->si = val[MSI] > 0 ? val[MSI] - 1 : val[SI] + 1;
	l->sa = val[MSA] > 0 ? val[MSA] - 1 : val[SA] + 1;
	l->e = val[E] > 0 ? val[E] - 1 : 0;
	l->cr = val[CR] > 0 ? val[CR] - 1 : 0;
	l->ir = val[IR] > 0 ? val[IR] - 1 : 0;
	l->ar = val[AR] > 0 ? val[AR] - 1 : 0;
}

/* Score of a MacroVector in tenths, or -1 when there is none. */
static int macro_score(int eq1, int eq2, int eq3, int eq4, int eq5, int eq6)
{
	unsigned char s;

	if (eq1 > 2 || eq2 > 1 || eq3 > 2 || eq4 > 2 || eq5 > 2 || eq6 > 1)
		return -1;
	s = cvss4_macro_tenths[((((eq1 * 2 + eq2) * 3 + eq3) * 3 + eq4) * 3 + eq5) * 2 + eq6];
	return s == CVSS4_NO_MACRO ? -1 : s;
}

/* The highest-severity vectors of each MacroVector level (specification
 * tables 24 to 29), as severity levels, and each level's depth: the
 * largest severity distance within it plus one step. For EQ3 the table
 * is joint with EQ6 and carries CR/IR/AR. */
static const signed char eq1_max[3][3][3] = { /* AV PR UI */
					      { { 0, 0, 0 } },
					      { { 1, 0, 0 }, { 0, 1, 0 }, { 0, 0, 1 } },
					      { { 3, 0, 0 }, { 1, 1, 1 } }
};
static const int eq1_n[3] = { 1, 3, 2 }, eq1_depth[3] = { 1, 4, 5 };
static const signed char eq2_max[2][2][2] = { /* AC AT */ { { 0, 0 } }, { { 1, 0 }, { 0, 1 } } };
static const int eq2_n[2] = { 1, 2 }, eq2_depth[2] = { 1, 2 };
static const signed char eq36_max[3][2][5][6] = { /* VC VI VA CR IR AR */
						  { { { 0, 0, 0, 0, 0, 0 } },
						    { { 0, 0, 1, 1, 1, 0 }, { 0, 0, 0, 1, 1, 1 } } },
						  { { { 1, 0, 0, 0, 0, 0 }, { 0, 1, 0, 0, 0, 0 } },
						    { { 1, 0, 1, 0, 1, 0 },
						      { 1, 0, 0, 0, 1, 1 },
						      { 0, 1, 0, 1, 0, 1 },
						      { 0, 1, 1, 1, 0, 0 },
						      { 1, 1, 0, 0, 0, 1 } } },
						  { { { 0 } }, { { 1, 1, 1, 0, 0, 0 } } }
};
static const int eq36_n[3][2] = { { 1, 2 }, { 2, 5 }, { 0, 1 } }, eq36_depth[3][2] = { { 7, 6 }, { 8, 8 }, { 0, 10 } };
static const signed char eq4_max[3][3] = { /* SC SI SA */ { 1, 0, 0 }, { 1, 1, 1 }, { 2, 2, 2 } };
static const int eq4_depth[3] = { 6, 5, 4 };

/* Distance of `have` from the first of `n` highest vectors (each `k`
 * levels) that it does not exceed in severity; every vector of a
 * MacroVector is below at least one of them. */
static int distance(const int *have, const signed char *maxes, int n, int k)
{
	for (int i = 0; i < n; i++) {
		const signed char *mx = maxes + i * k;
		int d = 0, j;

		for (j = 0; j < k && have[j] >= mx[j]; j++)
			d += have[j] - mx[j];
		if (j == k)
			return d;
	}
	return 0; /* not reached for a valid vector */
}

/* Score in tenths of the exact value, rounded half up. */
static int score_tenths(const struct levels *l)
{
	int eq1, eq2, eq3, eq4, eq5, eq6, base, lower[5], dist[5], depth[5], n = 0;
	long long num = 0, den = 1, value;

	if (l->vc == 2 && l->vi == 2 && l->va == 2 && l->sc == 3 && l->si == 3 && l->sa == 3)
		return 0; /* no impact on any system */
	eq1 = l->av == 0 && l->pr == 0 && l->ui == 0		       ? 0
	      : (l->av == 0 || l->pr == 0 || l->ui == 0) && l->av != 3 ? 1
								       : 2;
	eq2 = l->ac == 0 && l->at == 0 ? 0 : 1;
	eq3 = l->vc == 0 && l->vi == 0 ? 0 : l->vc == 0 || l->vi == 0 || l->va == 0 ? 1 : 2;
	eq4 = l->si == 0 || l->sa == 0 ? 0 : l->sc == 1 || l->si == 1 || l->sa == 1 ? 1 : 2;
	eq5 = l->e;
	eq6 = (l->cr == 0 && l->vc == 0) || (l->ir == 0 && l->vi == 0) || (l->ar == 0 && l->va == 0) ? 0 : 1;
	base = macro_score(eq1, eq2, eq3, eq4, eq5, eq6);

	/* next lower MacroVector of each set; EQ3 and EQ6 step together:
	 * 00 -> the higher of 01 and 10, 01 -> 11, 10 -> 11, 11 -> 21, 21 -> none */
	lower[0] = macro_score(eq1 + 1, eq2, eq3, eq4, eq5, eq6);
	lower[1] = macro_score(eq1, eq2 + 1, eq3, eq4, eq5, eq6);
	if (eq3 == 0 && eq6 == 0) {
		int a = macro_score(eq1, eq2, 0, eq4, eq5, 1), b = macro_score(eq1, eq2, 1, eq4, eq5, 0);

		lower[2] = a > b ? a : b;
	} else if (eq3 == 1 && eq6 == 1) {
		lower[2] = macro_score(eq1, eq2, 2, eq4, eq5, 1);
	} else if (eq3 == 2) {
		lower[2] = -1;
	} else {
		lower[2] = macro_score(eq1, eq2, 1, eq4, eq5, 1);
	}
	lower[3] = macro_score(eq1, eq2, eq3, eq4 + 1, eq5, eq6);
	lower[4] = macro_score(eq1, eq2, eq3, eq4, eq5 + 1, eq6);

	{
		const int h1[3] = { l->av, l->pr, l->ui }, h2[2] = { l->ac, l->at };
		const int h36[6] = { l->vc, l->vi, l->va, l->cr, l->ir, l->ar }, h4[3] = { l->sc, l->si, l->sa };

		dist[0] = distance(h1, &eq1_max[eq1][0][0], eq1_n[eq1], 3), depth[0] = eq1_depth[eq1];
		dist[1] = distance(h2, &eq2_max[eq2][0][0], eq2_n[eq2], 2), depth[1] = eq2_depth[eq2];
		dist[2] = distance(h36, &eq36_max[eq3][eq6][0][0], eq36_n[eq3][eq6], 6),
		depth[2] = eq36_depth[eq3][eq6];
		dist[3] = distance(h4, eq4_max[eq4], 1, 3), depth[3] = eq4_depth[eq4];
		dist[4] = 0, depth[4] = 1; /* EQ5 has a single vector per level */
	}
	/* mean of (base - lower) * dist / depth over the sets with a lower
	 * MacroVector, as num / den tenths */
	for (int i = 0; i < 5; i++)
		if (lower[i] >= 0)
			den *= depth[i], n++;
	for (int i = 0; i < 5; i++)
		if (lower[i] >= 0)
			num += (long long)(base - lower[i]) * dist[i] * (den / depth[i]);
	if (n == 0)
		return base;
	den *= n;
	value = (long long)base * den - num; /* the score times den */
	if (value <= 0)
		return 0;
	if (value >= 100 * den)
		return 100;
	return (int)((2 * value + den) / (2 * den));
}

int cvss4_score(const char *vector, double *score, enum cvss4_nomenclature *nom, struct err *e)
{
	signed char val[NMETRIC];
	struct levels l;
	bool threat, env = false;

	if (parse(vector, val, e) < 0)
		return -1;
	threat = val[E] > 0;
	for (int m = CR; m <= MSA; m++)
		env = env || val[m] > 0;
	effective(val, &l);
	*score = score_tenths(&l) / 10.0;
	if (nom)
		*nom = threat && env ? CVSS4_BTE : threat ? CVSS4_BT : env ? CVSS4_BE : CVSS4_B;
	return 0;
}

const char *cvss4_nomenclature_name(enum cvss4_nomenclature n)
{
	static const char *const names[] = { "CVSS-B", "CVSS-BT", "CVSS-BE", "CVSS-BTE" };

	return (unsigned)n < 4 ? names[n] : "CVSS-B";
}
