/* CVSS v4.0 base (and threat/environmental) score, as the FIRST
 * specification defines it: the vector's effective metrics (modified
 * metrics over base ones, E:X = A, CR/IR/AR:X = H) fall into six
 * equivalence classes (EQ1..EQ6) naming a MacroVector; its score comes from
 * the specification's MacroVector table, and is lowered by the vector's
 * severity distance from the highest-severity vectors of its MacroVector,
 * in proportion to the distance to the next lower MacroVectors. */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "scan/cvss.h"

/* MacroVector scores x10, indexed by (((((eq1*2+eq2)*3+eq3)*3+eq4)*3+eq5)*2+eq6);
 * NA marks the combinations that do not exist (EQ3=2 with EQ6=0). These are
 * the 270 values of the CVSS v4.0 specification's MacroVector table. */
#define NA 255
static const unsigned char mv_table[324] = {
	100, 99, 98, 95, 95, 92, 100, 96, 93, 87, 91, 81, 93, 90, 89, 80, 81, 68,
	98, 95, 95, 92, 90, 84, 93, 92, 89, 81, 81, 65, 88, 80, 78, 70, 69, 48,
	NA, 92, NA, 82, NA, 72, NA, 79, NA, 69, NA, 50, NA, 69, NA, 55, NA, 27,
	99, 97, 95, 92, 92, 85, 95, 91, 90, 83, 84, 71, 92, 81, 82, 71, 72, 53,
	95, 93, 92, 85, 85, 73, 92, 82, 80, 72, 70, 59, 84, 70, 71, 52, 50, 30,
	NA, 86, NA, 75, NA, 52, NA, 71, NA, 52, NA, 29, NA, 63, NA, 29, NA, 17,
	98, 95, 94, 87, 91, 81, 94, 89, 86, 74, 77, 64, 87, 75, 74, 63, 63, 49,
	94, 89, 88, 77, 76, 67, 86, 76, 74, 58, 59, 50, 72, 57, 57, 52, 52, 25,
	NA, 83, NA, 70, NA, 54, NA, 65, NA, 58, NA, 26, NA, 53, NA, 21, NA, 13,
	95, 90, 88, 76, 76, 70, 90, 77, 75, 62, 61, 53, 77, 66, 68, 59, 52, 30,
	89, 78, 76, 67, 62, 58, 74, 59, 57, 57, 47, 23, 61, 52, 57, 29, 24, 16,
	NA, 71, NA, 59, NA, 30, NA, 58, NA, 26, NA, 15, NA, 23, NA, 13, NA, 6,
	93, 87, 86, 72, 75, 58, 86, 74, 74, 61, 56, 34, 70, 54, 52, 40, 40, 22,
	85, 75, 74, 55, 62, 51, 72, 57, 55, 41, 46, 19, 53, 36, 34, 19, 19, 8,
	NA, 64, NA, 51, NA, 20, NA, 47, NA, 21, NA, 11, NA, 24, NA, 9, NA, 4,
	88, 75, 73, 53, 60, 50, 73, 55, 59, 40, 41, 20, 54, 43, 45, 22, 20, 11,
	75, 55, 58, 45, 40, 21, 61, 51, 48, 18, 20, 9, 46, 18, 17, 7, 8, 2,
	NA, 53, NA, 24, NA, 14, NA, 24, NA, 12, NA, 5, NA, 10, NA, 3, NA, 1,
};

enum { X_AV, X_AC, X_AT, X_PR, X_UI, X_VC, X_VI, X_VA, X_SC, X_SI, X_SA, X_E, X_CR, X_IR, X_AR, X_N };

struct mdef {
	const char *key, *mod; /* base key and its modified form ("MAV") or NULL */
	const char *vals;      /* allowed letters of the base metric */
	bool required;
};

static const struct mdef defs[X_N] = {
	[X_AV] = { "AV", "MAV", "NALP", true }, [X_AC] = { "AC", "MAC", "LH", true },
	[X_AT] = { "AT", "MAT", "NP", true },	[X_PR] = { "PR", "MPR", "NLH", true },
	[X_UI] = { "UI", "MUI", "NPA", true },	[X_VC] = { "VC", "MVC", "HLN", true },
	[X_VI] = { "VI", "MVI", "HLN", true },	[X_VA] = { "VA", "MVA", "HLN", true },
	[X_SC] = { "SC", "MSC", "HLN", true },	[X_SI] = { "SI", "MSI", "HLN", true },
	[X_SA] = { "SA", "MSA", "HLN", true },	[X_E] = { "E", NULL, "XAPU", false },
	[X_CR] = { "CR", NULL, "XHML", false }, [X_IR] = { "IR", NULL, "XHML", false },
	[X_AR] = { "AR", NULL, "XHML", false },
};

/* Supplemental metrics: allowed, no effect on the score. */
static const struct {
	const char *key, *vals;
} supp[] = { { "S", "XNP" }, { "AU", "XNY" }, { "R", "XAUI" }, { "V", "XDC" }, { "RE", "XLMH" } };
/* U (provider urgency) takes words */
static const char *const urgency[] = { "X", "Clear", "Green", "Amber", "Red" };

/* Severity levels of each value, lower is more severe. Doubles in steps of
 * 0.1, and the arithmetic below in the same order as the specification's
 * calculator, so results agree with it to the last rounding. */
static double level(int m, char v)
{
	switch (m) {
	case X_AV: return v == 'N' ? 0.0 : v == 'A' ? 0.1 : v == 'L' ? 0.2 : 0.3;
	case X_PR: return v == 'N' ? 0.0 : v == 'L' ? 0.1 : 0.2;
	case X_UI: return v == 'N' ? 0.0 : v == 'P' ? 0.1 : 0.2;
	case X_AC: return v == 'L' ? 0.0 : 0.1;
	case X_AT: return v == 'N' ? 0.0 : 0.1;
	case X_VC: case X_VI: case X_VA: return v == 'H' ? 0.0 : v == 'L' ? 0.1 : 0.2;
	case X_SC: case X_SI: case X_SA: return v == 'S' ? 0.0 : v == 'H' ? 0.1 : v == 'L' ? 0.2 : 0.3;
	case X_CR: case X_IR: case X_AR: return v == 'H' ? 0.0 : v == 'M' ? 0.1 : 0.2;
	case X_E: return v == 'A' ? 0.0 : v == 'P' ? 0.1 : 0.2;
	}
	return 0;
}

static int mv_score(int e1, int e2, int e3, int e4, int e5, int e6)
{
	if (e1 > 2 || e2 > 1 || e3 > 2 || e4 > 2 || e5 > 2 || e6 > 1)
		return -1;
	unsigned char v = mv_table[((((e1 * 2 + e2) * 3 + e3) * 3 + e4) * 3 + e5) * 2 + e6];
	return v == NA ? -1 : v;
}

/* Highest-severity vectors of each class, as strings of effective values
 * in the order of the metrics they cover. */
static const char *const eq1_max[3][3] = { { "NNN" }, { "ANN", "NLN", "NNP" }, { "PNN", "ALP" } };     /* AV PR UI */
static const char *const eq2_max[2][2] = { { "LN" }, { "HN", "LP" } };                                 /* AC AT */
static const char *const eq3eq6_max[3][2][5] = {                                                       /* VC VI VA CR IR AR */
	{ { "HHHHHH" }, { "HHLMMH", "HHHMMM" } },
	{ { "LHHHHH", "HLHHHH" }, { "LHLHMH", "LHHHMM", "HLHMHM", "HLLMHH", "LLHHHM" } },
	{ { NULL }, { "LLLHHH" } },
};
static const char *const eq4_max[3][1] = { { "HSS" }, { "HHH" }, { "LLL" } };                          /* SC SI SA */
/* depth + 1 of each class, in tenths */
static const int eq1_depth[3] = { 1, 4, 5 }, eq2_depth[2] = { 1, 2 }, eq4_depth[3] = { 6, 5, 4 };
static const int eq3eq6_depth[3][2] = { { 7, 6 }, { 8, 8 }, { 0, 10 } };


int cvss4_score(const char *vector, double *score, struct err *e)
{
	char base[X_N] = { 0 }, mod[X_N] = { 0 }, v[X_N];
	const char *p = vector + 9; /* after "CVSS:4.0/" */
	int e1, e2, e3, e4, e5, e6, value;

	/* parse: every key once, known keys and values only */
	while (*p) {
		const char *colon = strchr(p, ':'), *end;
		char key[8], val;
		bool known = false;

		if (!colon || colon == p || colon - p >= (long)sizeof(key))
			return err_set(e, ERR_INPUT, "CVSS vector %.80s: malformed", vector);
		memcpy(key, p, (size_t)(colon - p));
		key[colon - p] = 0;
		end = colon + 1 + strcspn(colon + 1, "/");
		if (strcmp(key, "U") == 0) {
			bool ok = false;

			for (size_t i = 0; i < sizeof(urgency) / sizeof(urgency[0]); i++)
				ok |= strlen(urgency[i]) == (size_t)(end - colon - 1) &&
				      strncmp(colon + 1, urgency[i], (size_t)(end - colon - 1)) == 0;
			if (!ok)
				return err_set(e, ERR_INPUT, "CVSS vector %.80s: bad U", vector);
			p = *end ? end + 1 : end;
			continue;
		}
		if (end - colon != 2)
			return err_set(e, ERR_INPUT, "CVSS vector %.80s: bad value of %s", vector, key);
		val = colon[1];
		for (int m = 0; m < X_N && !known; m++) {
			if (strcmp(key, defs[m].key) == 0) {
				if (base[m] || !strchr(defs[m].vals, val))
					return err_set(e, ERR_INPUT, "CVSS vector %.80s: bad or repeated %s", vector, key);
				base[m] = val, known = true;
			} else if (defs[m].mod && strcmp(key, defs[m].mod) == 0) {
				/* MSI/MSA may also be S (safety); every modified metric may be X */
				bool ok = val == 'X' || strchr(defs[m].vals, val) || ((m == X_SI || m == X_SA) && val == 'S');

				if (mod[m] || !ok)
					return err_set(e, ERR_INPUT, "CVSS vector %.80s: bad or repeated %s", vector, key);
				mod[m] = val, known = true;
			}
		}
		for (size_t i = 0; i < sizeof(supp) / sizeof(supp[0]) && !known; i++)
			if (strcmp(key, supp[i].key) == 0) {
				if (!strchr(supp[i].vals, val))
					return err_set(e, ERR_INPUT, "CVSS vector %.80s: bad %s", vector, key);
				known = true;
			}
		if (!known)
			return err_set(e, ERR_INPUT, "CVSS vector %.80s: unknown metric %s", vector, key);
		p = *end ? end + 1 : end;
	}
	for (int m = 0; m < X_N; m++) {
		if (defs[m].required && !base[m])
			return err_set(e, ERR_INPUT, "CVSS vector %.80s: base metric %s missing", vector, defs[m].key);
		v[m] = mod[m] && mod[m] != 'X' ? mod[m] : base[m];
	}
	if (!v[X_E] || v[X_E] == 'X')
		v[X_E] = 'A';
	for (int m = X_CR; m <= X_AR; m++)
		if (!v[m] || v[m] == 'X')
			v[m] = 'H';
	/* no impact on any system: 0 */
	if (v[X_VC] == 'N' && v[X_VI] == 'N' && v[X_VA] == 'N' && v[X_SC] == 'N' && v[X_SI] == 'N' && v[X_SA] == 'N') {
		*score = 0;
		return 0;
	}
	e1 = v[X_AV] == 'N' && v[X_PR] == 'N' && v[X_UI] == 'N' ? 0
	     : (v[X_AV] == 'N' || v[X_PR] == 'N' || v[X_UI] == 'N') && v[X_AV] != 'P' ? 1
										 : 2;
	e2 = v[X_AC] == 'L' && v[X_AT] == 'N' ? 0 : 1;
	e3 = v[X_VC] == 'H' && v[X_VI] == 'H' ? 0 : (v[X_VC] == 'H' || v[X_VI] == 'H' || v[X_VA] == 'H') ? 1 : 2;
	e4 = v[X_SI] == 'S' || v[X_SA] == 'S' ? 0 : (v[X_SC] == 'H' || v[X_SI] == 'H' || v[X_SA] == 'H') ? 1 : 2;
	e5 = v[X_E] == 'A' ? 0 : v[X_E] == 'P' ? 1 : 2;
	e6 = (v[X_CR] == 'H' && v[X_VC] == 'H') || (v[X_IR] == 'H' && v[X_VI] == 'H') || (v[X_AR] == 'H' && v[X_VA] == 'H')
		     ? 0
		     : 1;
	value = mv_score(e1, e2, e3, e4, e5, e6);
	if (value < 0)
		return err_set(e, ERR_INPUT, "CVSS vector %.80s: no MacroVector", vector);
	{
		/* the next lower MacroVector of each class (-1: none) */
		int n1 = mv_score(e1 + 1, e2, e3, e4, e5, e6), n2 = mv_score(e1, e2 + 1, e3, e4, e5, e6);
		int n4 = mv_score(e1, e2, e3, e4 + 1, e5, e6), n5 = mv_score(e1, e2, e3, e4, e5 + 1, e6), n36;
		double d[X_N] = { 0 };
		int found = 0;

		if (e3 == 0 && e6 == 0) {
			int l = mv_score(e1, e2, e3, e4, e5, e6 + 1), r = mv_score(e1, e2, e3 + 1, e4, e5, e6);

			n36 = l > r ? l : r;
		} else if (e3 == 1 && e6 == 0) {
			n36 = mv_score(e1, e2, e3, e4, e5, e6 + 1);
		} else if (e6 == 1 && e3 < 2) {
			n36 = mv_score(e1, e2, e3 + 1, e4, e5, e6);
		} else {
			n36 = -1;
		}
		/* the first highest-severity vector the vector does not exceed */
		for (int a = 0; a < 3 && eq1_max[e1][a] && !found; a++)
			for (int b = 0; b < 2 && eq2_max[e2][b] && !found; b++)
				for (int c = 0; c < 5 && eq3eq6_max[e3][e6][c] && !found; c++) {
					const char *x1 = eq1_max[e1][a], *x2 = eq2_max[e2][b], *x3 = eq3eq6_max[e3][e6][c];
					const char *x4 = eq4_max[e4][0];
					static const int o1[] = { X_AV, X_PR, X_UI }, o2[] = { X_AC, X_AT };
					static const int o3[] = { X_VC, X_VI, X_VA, X_CR, X_IR, X_AR }, o4[] = { X_SC, X_SI, X_SA };
					bool neg = false;

					for (int i = 0; i < 3; i++)
						d[o1[i]] = level(o1[i], v[o1[i]]) - level(o1[i], x1[i]);
					for (int i = 0; i < 2; i++)
						d[o2[i]] = level(o2[i], v[o2[i]]) - level(o2[i], x2[i]);
					for (int i = 0; i < 6; i++)
						d[o3[i]] = level(o3[i], v[o3[i]]) - level(o3[i], x3[i]);
					for (int i = 0; i < 3; i++)
						d[o4[i]] = level(o4[i], v[o4[i]]) - level(o4[i], x4[i]);
					for (int m = 0; m < X_N; m++)
						neg |= m != X_E && d[m] < 0;
					found = !neg;
				}
		{
			double val = value / 10.0, mean = 0;
			double dist1 = d[X_AV] + d[X_PR] + d[X_UI], dist2 = d[X_AC] + d[X_AT];
			double dist36 = d[X_VC] + d[X_VI] + d[X_VA] + d[X_CR] + d[X_IR] + d[X_AR];
			double dist4 = d[X_SC] + d[X_SI] + d[X_SA];
			double s1 = 0, s2 = 0, s36 = 0, s4 = 0, s5 = 0, sc;
			int n = 0;

			if (n1 >= 0)
				n++, s1 = (val - n1 / 10.0) * (dist1 / (eq1_depth[e1] * 0.1));
			if (n2 >= 0)
				n++, s2 = (val - n2 / 10.0) * (dist2 / (eq2_depth[e2] * 0.1));
			if (n36 >= 0)
				n++, s36 = (val - n36 / 10.0) * (dist36 / (eq3eq6_depth[e3][e6] * 0.1));
			if (n4 >= 0)
				n++, s4 = (val - n4 / 10.0) * (dist4 / (eq4_depth[e4] * 0.1));
			if (n5 >= 0)
				n++, s5 = (val - n5 / 10.0) * 0; /* EQ5: no distance within the class */
			if (n)
				mean = (s1 + s2 + s36 + s4 + s5) / n;
			sc = val - mean;
			if (sc > 10)
				sc = 10;
			if (sc < 0)
				sc = 0;
			/* round half up to one decimal */
			*score = floor(sc * 10 + 0.5) / 10;
		}
	}
	return 0;
}
