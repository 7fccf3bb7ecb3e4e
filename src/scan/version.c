/* Version comparators for dpkg, apk and rpm, the generic fallback and the
 * ecosystem table (semver, Go, PEP 440, Maven are version_lang.c). Each follows
 * its package manager's own rules; the vector suites in
 * tests/unit/test_scan_version.c hold them to that. */
#include <ctype.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "scan/version.h"
#include "scan/version_int.h"

/* ------------------------------------------------------------------ dpkg */

static int dpkg_order(int c)
{
	if (isdigit(c))
		return 0;
	if (isalpha(c))
		return c;
	if (c == '~')
		return -1;
	if (c)
		return c + 256;
	return 0;
}

static int dpkg_verrevcmp(const char *a, const char *ae, const char *b, const char *be)
{
	while (a < ae || b < be) {
		int first_diff = 0;

		while ((a < ae && !isdigit((unsigned char)*a)) || (b < be && !isdigit((unsigned char)*b))) {
			int ac = a < ae ? dpkg_order((unsigned char)*a) : 0;
			int bc = b < be ? dpkg_order((unsigned char)*b) : 0;

			if (ac != bc)
				return sgn(ac - bc);
			a++, b++;
		}
		while (a < ae && *a == '0')
			a++;
		while (b < be && *b == '0')
			b++;
		while (a < ae && b < be && isdigit((unsigned char)*a) && isdigit((unsigned char)*b)) {
			if (!first_diff)
				first_diff = *a - *b;
			a++, b++;
		}
		if (a < ae && isdigit((unsigned char)*a))
			return 1;
		if (b < be && isdigit((unsigned char)*b))
			return -1;
		if (first_diff)
			return sgn(first_diff);
	}
	return 0;
}

struct dpkg_ver {
	const char *ep, *epe, *up, *upe, *rev, *reve;
};

static void dpkg_split(const char *s, struct dpkg_ver *v)
{
	const char *end, *colon, *dash;

	while (isspace((unsigned char)*s))
		s++;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		end--;
	colon = memchr(s, ':', (size_t)(end - s));
	if (colon) {
		v->ep = s, v->epe = colon;
		s = colon + 1;
	} else {
		v->ep = v->epe = s;
	}
	dash = NULL;
	for (const char *p = s; p < end; p++)
		if (*p == '-')
			dash = p;
	v->up = s;
	if (dash) {
		v->upe = dash;
		v->rev = dash + 1, v->reve = end;
	} else {
		v->upe = end;
		v->rev = v->reve = end;
	}
}

int vercmp_dpkg(const char *a, const char *b)
{
	struct dpkg_ver va, vb;
	int r;

	dpkg_split(a, &va);
	dpkg_split(b, &vb);
	r = numcmp(va.ep, (size_t)(va.epe - va.ep), vb.ep, (size_t)(vb.epe - vb.ep));
	if (r)
		return r;
	r = dpkg_verrevcmp(va.up, va.upe, vb.up, vb.upe);
	if (r)
		return r;
	return dpkg_verrevcmp(va.rev, va.reve, vb.rev, vb.reve);
}

/* ------------------------------------------------------------------- apk */

#define APK_MAX_PARTS 32

struct apk_num {
	const char *p;
	size_t n;
};

struct apk_ver {
	const char *orig;
	bool invalid;
	struct apk_num comp[APK_MAX_PARTS];
	int ncomp;
	char letter;
	struct {
		int weight;
		struct apk_num num;
	} suf[APK_MAX_PARTS];
	int nsuf;
	struct apk_num hash;
	struct apk_num rev; /* n == 0: "0" */
	bool has_rev;
	const char *rest;
};

/* Sort order of suffixes: pre-release ones below "no suffix" (weight 4). */
static const char *const apk_suffixes[] = { "alpha", "beta", "pre", "rc", "", "cvs", "svn", "git", "hg", "p" };

static void apk_parse(const char *s, struct apk_ver *v)
{
	memset(v, 0, sizeof(*v));
	v->orig = s;
	/* number{.number}... */
	while (isdigit((unsigned char)*s) && v->ncomp < APK_MAX_PARTS) {
		size_t n = digits(s);

		v->comp[v->ncomp].p = s, v->comp[v->ncomp].n = n;
		v->ncomp++;
		s += n;
		if (*s == '.' && isdigit((unsigned char)s[1]))
			s++;
		else
			break;
	}
	if (*s >= 'a' && *s <= 'z')
		v->letter = *s++;
	while (*s == '_' && v->nsuf < APK_MAX_PARTS) {
		int w = -1;
		size_t len = 0;

		/* longest name first so "pre" is not taken for "p" */
		for (int i = 0; i < (int)(sizeof(apk_suffixes) / sizeof(apk_suffixes[0])); i++) {
			size_t l = strlen(apk_suffixes[i]);

			if (l && strncmp(s + 1, apk_suffixes[i], l) == 0 && l > len)
				w = i, len = l;
		}
		if (w < 0)
			break;
		s += 1 + len;
		v->suf[v->nsuf].weight = w;
		v->suf[v->nsuf].num.p = s;
		v->suf[v->nsuf].num.n = digits(s);
		s += v->suf[v->nsuf].num.n;
		v->nsuf++;
	}
	if (*s == '~') {
		size_t n = 0;

		while (isxdigit((unsigned char)s[1 + n]) && !isupper((unsigned char)s[1 + n]))
			n++;
		if (n) {
			v->hash.p = s + 1, v->hash.n = n;
			s += 1 + n;
		}
	}
	if (*s == '-' && s[1] == 'r') {
		v->has_rev = true;
		v->rev.p = s + 2;
		v->rev.n = digits(s + 2);
		s += 2 + v->rev.n;
	} else if (*s) {
		v->invalid = true;
	}
	v->rest = s;
}

static int apk_comp_cmp(const struct apk_ver *a, const struct apk_ver *b, int i)
{
	struct apk_num x, y;

	/* as apk-tools: with the leading components equal, the version with
	 * more of them is the greater ("1" < "1.0"), whatever follows */
	if (i >= a->ncomp || i >= b->ncomp)
		return (i < a->ncomp) - (i < b->ncomp);
	x = a->comp[i];
	y = b->comp[i];
	/* a leading zero after the first component means a fraction: compare as text */
	if (i > 0 && i < a->ncomp && i < b->ncomp && (x.p[0] == '0' || y.p[0] == '0')) {
		size_t n = x.n < y.n ? x.n : y.n;
		int r = memcmp(x.p, y.p, n);

		if (r)
			return sgn(r);
		return sgn((long long)x.n - (long long)y.n);
	}
	return numcmp(x.p, x.n, y.p, y.n);
}

static int apk_cmp_parsed(const struct apk_ver *a, const struct apk_ver *b)
{
	int r, n;

	/* apk-tools gives invalid versions no order of their own; its test
	 * data sorts two of them by bytes (and an invalid one against a valid
	 * one by the fields it could read, below), so the order is only total
	 * on valid versions. */
	if (a->invalid && b->invalid)
		return sgn(strcmp(a->orig, b->orig));
	n = a->ncomp > b->ncomp ? a->ncomp : b->ncomp;
	for (int i = 0; i < n; i++)
		if ((r = apk_comp_cmp(a, b, i)))
			return r;
	if (a->letter != b->letter)
		return a->letter < b->letter ? -1 : 1;
	n = a->nsuf > b->nsuf ? a->nsuf : b->nsuf;
	for (int i = 0; i < n; i++) {
		int wa = i < a->nsuf ? a->suf[i].weight : 4, wb = i < b->nsuf ? b->suf[i].weight : 4;

		if (wa != wb)
			return wa < wb ? -1 : 1;
		if (i < a->nsuf && i < b->nsuf &&
		    (r = numcmp(a->suf[i].num.p, a->suf[i].num.n, b->suf[i].num.p, b->suf[i].num.n)))
			return r;
	}
	if (a->hash.n && b->hash.n) {
		size_t m = a->hash.n < b->hash.n ? a->hash.n : b->hash.n;

		if ((r = memcmp(a->hash.p, b->hash.p, m)))
			return sgn(r);
		if (a->hash.n != b->hash.n)
			return a->hash.n < b->hash.n ? -1 : 1;
	} else if (a->hash.n || b->hash.n) {
		/* as apk-tools' token order: a commit hash where the other
		 * version goes on to its revision or ends is the greater. Ignoring
		 * it made "1~1" = "1" = "1~0" while "1~1" > "1~0" (fuzz: vercmp) */
		return a->hash.n ? 1 : -1;
	}
	if ((r = numcmp(a->rev.p ? a->rev.p : "", a->rev.n, b->rev.p ? b->rev.p : "", b->rev.n)))
		return r;
	if (!*a->rest && *b->rest)
		return 1;
	if (*a->rest && !*b->rest)
		return -1;
	return 0;
}

int vercmp_apk(const char *a, const char *b)
{
	struct apk_ver va, vb;

	apk_parse(a, &va);
	apk_parse(b, &vb);
	return apk_cmp_parsed(&va, &vb);
}

bool vermatch_apk_fuzzy(const char *a, const char *b)
{
	struct apk_ver va, vb;

	apk_parse(a, &va);
	apk_parse(b, &vb);
	if (vb.ncomp > va.ncomp)
		return false;
	for (int i = 0; i < vb.ncomp; i++)
		if (apk_comp_cmp(&va, &vb, i))
			return false;
	if (vb.letter && vb.letter != va.letter)
		return false;
	if (vb.nsuf > va.nsuf)
		return false;
	for (int i = 0; i < vb.nsuf; i++)
		if (va.suf[i].weight != vb.suf[i].weight ||
		    numcmp(va.suf[i].num.p, va.suf[i].num.n, vb.suf[i].num.p, vb.suf[i].num.n))
			return false;
	if (vb.has_rev && numcmp(va.rev.p ? va.rev.p : "", va.rev.n, vb.rev.p, vb.rev.n))
		return false;
	return true;
}

/* apk's grammar: number{.number}...{letter}{_suffix{number}}...{~hash}{-r#},
 * with at most APK_MAX_PARTS numbers and suffixes (beyond that the parser
 * calls it invalid too, and invalid versions have no total order). */
bool verok_apk(const char *s)
{
	struct apk_ver v;

	apk_parse(s, &v);
	if (v.invalid)
		return false;
	if (!isdigit((unsigned char)*s))
		return false;
	for (;;) {
		s += digits(s);
		if (*s != '.')
			break;
		s++;
		if (!isdigit((unsigned char)*s))
			return false;
	}
	if (*s >= 'a' && *s <= 'z')
		s++;
	while (*s == '_') {
		size_t len = 0;

		for (size_t i = 0; i < sizeof(apk_suffixes) / sizeof(apk_suffixes[0]); i++) {
			size_t l = strlen(apk_suffixes[i]);

			if (l && strncmp(s + 1, apk_suffixes[i], l) == 0 && l > len)
				len = l;
		}
		if (!len)
			return false;
		s += 1 + len;
		s += digits(s);
	}
	if (*s == '~') {
		size_t n = 0;

		s++;
		while ((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f'))
			s++, n++;
		if (!n)
			return false;
	}
	if (*s == '-') {
		if (s[1] != 'r' || !isdigit((unsigned char)s[2]))
			return false;
		s += 2;
		s += digits(s);
	}
	return *s == 0;
}

/* ------------------------------------------------------------------- rpm */

int rpmvercmp(const char *a, const char *b)
{
	const char *one = a, *two = b;

	if (strcmp(a, b) == 0)
		return 0;
	while (*one || *two) {
		const char *s1, *s2;
		bool isnum;
		int r;

		while (*one && !isalnum((unsigned char)*one) && *one != '~' && *one != '^')
			one++;
		while (*two && !isalnum((unsigned char)*two) && *two != '~' && *two != '^')
			two++;
		/* tilde sorts before everything, even the end */
		if (*one == '~' || *two == '~') {
			if (*one != '~')
				return 1;
			if (*two != '~')
				return -1;
			one++, two++;
			continue;
		}
		/* caret sorts after the end but before anything else */
		if (*one == '^' || *two == '^') {
			if (!*one)
				return -1;
			if (!*two)
				return 1;
			if (*one != '^')
				return 1;
			if (*two != '^')
				return -1;
			one++, two++;
			continue;
		}
		if (!(*one && *two))
			break;
		s1 = one, s2 = two;
		if (isdigit((unsigned char)*s1)) {
			while (isdigit((unsigned char)*one))
				one++;
			while (isdigit((unsigned char)*two))
				two++;
			isnum = true;
		} else {
			while (isalpha((unsigned char)*one))
				one++;
			while (isalpha((unsigned char)*two))
				two++;
			isnum = false;
		}
		if (one == s1)
			return -1;
		if (two == s2)
			return isnum ? 1 : -1;
		if (isnum) {
			r = numcmp(s1, (size_t)(one - s1), s2, (size_t)(two - s2));
		} else {
			size_t n1 = (size_t)(one - s1), n2 = (size_t)(two - s2);

			r = memcmp(s1, s2, n1 < n2 ? n1 : n2);
			r = r ? sgn(r) : sgn((long long)n1 - (long long)n2);
		}
		if (r)
			return r;
	}
	if (!*one && !*two)
		return 0;
	return *one ? 1 : -1;
}

/* Split [epoch:]version[-release] into bounded copies. */
static bool rpm_split(const char *s, char *ep, char *ver, char *rel, size_t cap)
{
	const char *colon = strchr(s, ':'), *dash;
	size_t n;

	ep[0] = rel[0] = 0;
	if (colon) {
		bool num = colon > s;

		for (const char *p = s; p < colon; p++)
			num = num && isdigit((unsigned char)*p);
		if (num) {
			n = (size_t)(colon - s);
			n = n < cap - 1 ? n : cap - 1;
			memcpy(ep, s, n), ep[n] = 0;
			s = colon + 1;
		}
	}
	dash = strrchr(s, '-');
	n = dash ? (size_t)(dash - s) : strlen(s);
	n = n < cap - 1 ? n : cap - 1;
	memcpy(ver, s, n), ver[n] = 0;
	if (dash) {
		n = strlen(dash + 1);
		n = n < cap - 1 ? n : cap - 1;
		memcpy(rel, dash + 1, n), rel[n] = 0;
	}
	return dash != NULL;
}

int vercmp_rpm(const char *a, const char *b)
{
	char ea[256], va[256], ra[256], eb[256], vb[256], rb[256];
	int r;

	bool has_ra = rpm_split(a, ea, va, ra, sizeof(va));
	bool has_rb = rpm_split(b, eb, vb, rb, sizeof(vb));

	r = numcmp(ea, strlen(ea), eb, strlen(eb));
	if (r)
		return r;
	if ((r = rpmvercmp(va, vb)))
		return r;
	/* a release, even an empty one, sorts after none */
	if (has_ra != has_rb)
		return has_ra ? 1 : -1;
	return rpmvercmp(ra, rb);
}


int vercmp_generic(const char *a, const char *b)
{
	return vercmp_dpkg(a, b);
}

enum vscheme vscheme_for_ecosystem(const char *eco)
{
	static const struct {
		const char *prefix;
		enum vscheme s;
	} map[] = { { "Debian", VS_DPKG },     { "Ubuntu", VS_DPKG },   { "Alpine", VS_APK },   { "Wolfi", VS_APK },
		    { "Chainguard", VS_APK }, { "Red Hat", VS_RPM },   { "Rocky Linux", VS_RPM }, { "AlmaLinux", VS_RPM },
		    { "openSUSE", VS_RPM },    { "SUSE", VS_RPM },      { "Mariner", VS_RPM },  { "Azure Linux", VS_RPM },
		    { "Go", VS_GO },           { "PyPI", VS_PEP440 },   { "Maven", VS_MAVEN },  { "npm", VS_SEMVER },
		    { "crates.io", VS_SEMVER }, { "NuGet", VS_SEMVER }, { "Hex", VS_SEMVER },   { "Pub", VS_SEMVER } };

	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		size_t n = strlen(map[i].prefix);

		if (strncmp(eco, map[i].prefix, n) == 0 && (eco[n] == 0 || eco[n] == ':'))
			return map[i].s;
	}
	return VS_GENERIC;
}

vercmp_fn vercmp_for(enum vscheme s)
{
	switch (s) {
	case VS_DPKG: return vercmp_dpkg;
	case VS_APK: return vercmp_apk;
	case VS_RPM: return vercmp_rpm;
	case VS_SEMVER: return vercmp_semver;
	case VS_PEP440: return vercmp_pep440;
	case VS_GO: return vercmp_go;
	case VS_MAVEN: return vercmp_maven;
	default: return vercmp_generic;
	}
}
