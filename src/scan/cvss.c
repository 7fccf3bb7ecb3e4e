#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "scan/cvss.h"
#include "scan/cvss4.h"

/* Value of metric `key` in a "K:V/K:V" vector, or 0 when absent. */
static char metric(const char *v, const char *key, char out[4])
{
	size_t kl = strlen(key);
	const char *p = v;

	out[0] = 0;
	while (p && *p) {
		if (strncmp(p, key, kl) == 0 && p[kl] == ':') {
			size_t n = strcspn(p + kl + 1, "/)");

			if (n == 0 || n > 3)
				return 0;
			memcpy(out, p + kl + 1, n);
			out[n] = 0;
			return out[0];
		}
		p = strchr(p, '/');
		if (p)
			p++;
	}
	return 0;
}

static double pick(const char *val, const char *const *names, const double *w, int n)
{
	for (int i = 0; i < n; i++)
		if (strcmp(val, names[i]) == 0)
			return w[i];
	return -1;
}

/* CVSS v3.1 Roundup: smallest one-decimal number >= x, robust to float error. */
static double roundup31(double x)
{
	long long i = llround(x * 100000.0);

	if (i % 10000 == 0)
		return (double)i / 100000.0;
	return (floor((double)i / 10000.0) + 1) / 10.0;
}

static int score_v3(const char *v, bool v31, double *out, struct err *e)
{
	static const char *const av_n[] = { "N", "A", "L", "P" };
	static const double av_w[] = { 0.85, 0.62, 0.55, 0.2 };
	static const char *const ac_n[] = { "L", "H" };
	static const double ac_w[] = { 0.77, 0.44 };
	static const char *const ui_n[] = { "N", "R" };
	static const double ui_w[] = { 0.85, 0.62 };
	static const char *const cia_n[] = { "H", "L", "N" };
	static const double cia_w[] = { 0.56, 0.22, 0 };
	char av[4], ac[4], pr[4], ui[4], s[4], c[4], i[4], a[4];
	double AV, AC, PR, UI, C, I, A, iss, impact, expl;
	bool changed;

	if (!metric(v, "AV", av) || !metric(v, "AC", ac) || !metric(v, "PR", pr) || !metric(v, "UI", ui) ||
	    !metric(v, "S", s) || !metric(v, "C", c) || !metric(v, "I", i) || !metric(v, "A", a))
		return err_set(e, ERR_INPUT, "CVSS vector %.80s: missing base metric", v);
	changed = strcmp(s, "C") == 0;
	if (!changed && strcmp(s, "U") != 0)
		return err_set(e, ERR_INPUT, "CVSS vector %.80s: bad scope", v);
	AV = pick(av, av_n, av_w, 4), AC = pick(ac, ac_n, ac_w, 2), UI = pick(ui, ui_n, ui_w, 2);
	C = pick(c, cia_n, cia_w, 3), I = pick(i, cia_n, cia_w, 3), A = pick(a, cia_n, cia_w, 3);
	if (strcmp(pr, "N") == 0)
		PR = 0.85;
	else if (strcmp(pr, "L") == 0)
		PR = changed ? 0.68 : 0.62;
	else if (strcmp(pr, "H") == 0)
		PR = changed ? 0.5 : 0.27;
	else
		PR = -1;
	if (AV < 0 || AC < 0 || UI < 0 || C < 0 || I < 0 || A < 0 || PR < 0)
		return err_set(e, ERR_INPUT, "CVSS vector %.80s: bad metric value", v);
	iss = 1 - (1 - C) * (1 - I) * (1 - A);
	impact = changed ? 7.52 * (iss - 0.029) - 3.25 * pow(iss - 0.02, 15) : 6.42 * iss;
	expl = 8.22 * AV * AC * PR * UI;
	if (impact <= 0) {
		*out = 0;
		return 0;
	}
	{
		double raw = changed ? fmin(1.08 * (impact + expl), 10) : fmin(impact + expl, 10);

		*out = v31 ? roundup31(raw) : ceil(raw * 10 - 1e-9) / 10;
	}
	return 0;
}

static int score_v2(const char *v, double *out, struct err *e)
{
	static const char *const av_n[] = { "L", "A", "N" };
	static const double av_w[] = { 0.395, 0.646, 1.0 };
	static const char *const ac_n[] = { "H", "M", "L" };
	static const double ac_w[] = { 0.35, 0.61, 0.71 };
	static const char *const au_n[] = { "M", "S", "N" };
	static const double au_w[] = { 0.45, 0.56, 0.704 };
	static const char *const cia_n[] = { "N", "P", "C" };
	static const double cia_w[] = { 0, 0.275, 0.660 };
	char av[4], ac[4], au[4], c[4], i[4], a[4];
	double AV, AC, AU, C, I, A, impact, expl, f;

	if (*v == '(')
		v++;
	if (!metric(v, "AV", av) || !metric(v, "AC", ac) || !metric(v, "Au", au) || !metric(v, "C", c) ||
	    !metric(v, "I", i) || !metric(v, "A", a))
		return err_set(e, ERR_INPUT, "CVSS vector %.80s: missing base metric", v);
	AV = pick(av, av_n, av_w, 3), AC = pick(ac, ac_n, ac_w, 3), AU = pick(au, au_n, au_w, 3);
	C = pick(c, cia_n, cia_w, 3), I = pick(i, cia_n, cia_w, 3), A = pick(a, cia_n, cia_w, 3);
	if (AV < 0 || AC < 0 || AU < 0 || C < 0 || I < 0 || A < 0)
		return err_set(e, ERR_INPUT, "CVSS vector %.80s: bad metric value", v);
	impact = 10.41 * (1 - (1 - C) * (1 - I) * (1 - A));
	expl = 20 * AV * AC * AU;
	f = impact == 0 ? 0 : 1.176;
	*out = round(((0.6 * impact) + (0.4 * expl) - 1.5) * f * 10) / 10;
	if (*out < 0)
		*out = 0;
	return 0;
}

int cvss_score(const char *vector, double *score, struct err *e)
{
	if (strncmp(vector, "CVSS:3.1/", 9) == 0)
		return score_v3(vector + 9, true, score, e);
	if (strncmp(vector, "CVSS:3.0/", 9) == 0)
		return score_v3(vector + 9, false, score, e);
	if (strncmp(vector, "CVSS:4.0/", 9) == 0)
		return cvss4_score(vector, score, NULL, e);
	if (strncmp(vector, "CVSS:", 5) == 0)
		return err_set(e, ERR_INPUT, "CVSS vector %.80s: version not supported", vector);
	return score_v2(vector, score, e);
}

const char *cvss_nomenclature(const char *vector)
{
	enum cvss4_nomenclature n;
	double s;
	struct err e = ERR_INIT;

	if (!vector || strncmp(vector, "CVSS:4.0/", 9) != 0 || cvss4_score(vector, &s, &n, &e) < 0)
		return NULL;
	return cvss4_nomenclature_name(n);
}

int cvss_version(const char *vector)
{
	if (!vector)
		return 0;
	if (strncmp(vector, "CVSS:4.0/", 9) == 0)
		return 4;
	if (strncmp(vector, "CVSS:3.0/", 9) == 0 || strncmp(vector, "CVSS:3.1/", 9) == 0)
		return 3;
	return strncmp(vector, "CVSS:", 5) == 0 ? 0 : 2;
}

enum severity cvss_rating(const char *vector, double s)
{
	bool v2 = strncmp(vector, "CVSS:", 5) != 0;

	if (v2)
		return s >= 7.0 ? SEV_HIGH : s >= 4.0 ? SEV_MEDIUM : SEV_LOW;
	if (s == 0)
		return SEV_NONE;
	return s >= 9.0 ? SEV_CRITICAL : s >= 7.0 ? SEV_HIGH : s >= 4.0 ? SEV_MEDIUM : SEV_LOW;
}

const char *severity_name(enum severity s)
{
	static const char *const n[] = { "UNKNOWN", "NONE", "LOW", "MEDIUM", "HIGH", "CRITICAL" };

	return (unsigned)s < 6 ? n[s] : "UNKNOWN";
}

int severity_parse(const char *s)
{
	static const struct {
		const char *n;
		int v;
	} t[] = { { "unknown", SEV_UNKNOWN }, { "none", SEV_NONE },	    { "negligible", SEV_LOW }, { "low", SEV_LOW },
		  { "medium", SEV_MEDIUM },   { "moderate", SEV_MEDIUM }, { "high", SEV_HIGH },	      { "important", SEV_HIGH },
		  { "critical", SEV_CRITICAL } };

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (strcasecmp(s, t[i].n) == 0)
			return t[i].v;
	return -1;
}
