/* Version comparators. Each follows its package manager's own rules; the
 * vector suites in tests/unit/test_scan_version.c hold them to that. */
#include <ctype.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "scan/version.h"

static int sgn(long long x)
{
	return (x > 0) - (x < 0);
}

/* Compare two digit strings of any length by value. */
static int numcmp(const char *a, size_t na, const char *b, size_t nb)
{
	int r;

	while (na && *a == '0')
		a++, na--;
	while (nb && *b == '0')
		b++, nb--;
	if (na != nb)
		return na < nb ? -1 : 1;
	r = memcmp(a, b, na);
	return sgn(r);
}

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

static size_t digits(const char *s)
{
	size_t n = 0;

	while (isdigit((unsigned char)s[n]))
		n++;
	return n;
}

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

/* ---------------------------------------------------------------- semver */

struct semver {
	const char *comp[8];
	size_t ncomp_len[8];
	int ncomp;
	const char *pre; /* NULL: none */
	size_t pre_len;
};

/* Lenient: leading spaces, "=", "v"; any number of numeric components;
 * a pre-release after "-" (or directly after the numbers); "+build" ignored. */
static void semver_parse(const char *s, struct semver *v)
{
	memset(v, 0, sizeof(*v));
	while (*s == ' ' || *s == '=' || *s == 'v' || *s == 'V' || *s == '\t')
		s++;
	while (isdigit((unsigned char)*s) && v->ncomp < 8) {
		size_t n = digits(s);

		v->comp[v->ncomp] = s, v->ncomp_len[v->ncomp] = n;
		v->ncomp++;
		s += n;
		if (*s == '.')
			s++;
		else
			break;
	}
	if (*s == '-')
		s++;
	if (*s && *s != '+') {
		v->pre = s;
		v->pre_len = strcspn(s, "+");
		while (v->pre_len && v->pre[v->pre_len - 1] == ' ')
			v->pre_len--;
		if (!v->pre_len)
			v->pre = NULL;
	}
}

static bool all_digits(const char *s, size_t n)
{
	if (!n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isdigit((unsigned char)s[i]))
			return false;
	return true;
}

static int semver_pre_cmp(const char *a, size_t na, const char *b, size_t nb)
{
	while (na && nb) {
		size_t la = 0, lb = 0;
		bool da, db;
		int r;

		while (la < na && a[la] != '.')
			la++;
		while (lb < nb && b[lb] != '.')
			lb++;
		da = all_digits(a, la), db = all_digits(b, lb);
		if (da && db)
			r = numcmp(a, la, b, lb);
		else if (da != db)
			r = da ? -1 : 1;
		else {
			r = memcmp(a, b, la < lb ? la : lb);
			r = r ? sgn(r) : sgn((long long)la - (long long)lb);
		}
		if (r)
			return r;
		a += la, na -= la, b += lb, nb -= lb;
		if (na)
			a++, na--;
		if (nb)
			b++, nb--;
		if (!na || !nb)
			break;
	}
	if (na || nb)
		return na ? 1 : -1;
	return 0;
}

int vercmp_semver(const char *a, const char *b)
{
	struct semver x, y;
	int n, r;

	semver_parse(a, &x);
	semver_parse(b, &y);
	n = x.ncomp > y.ncomp ? x.ncomp : y.ncomp;
	for (int i = 0; i < n; i++) {
		r = numcmp(i < x.ncomp ? x.comp[i] : "0", i < x.ncomp ? x.ncomp_len[i] : 1,
			   i < y.ncomp ? y.comp[i] : "0", i < y.ncomp ? y.ncomp_len[i] : 1);
		if (r)
			return r;
	}
	if (!x.pre && !y.pre)
		return 0;
	if (!x.pre || !y.pre)
		return x.pre ? -1 : 1;
	return semver_pre_cmp(x.pre, x.pre_len, y.pre, y.pre_len);
}

/* Appends at most len bytes of s to the string in out, truncating at cap. */
static void append(char *out, size_t cap, const char *s, size_t len)
{
	size_t have = strnlen(out, cap - 1), n = len == SIZE_MAX ? strlen(s) : strnlen(s, len);

	if (n > cap - 1 - have)
		n = cap - 1 - have;
	memcpy(out + have, s, n);
	out[have + n] = 0;
}

/* Go: module versions are semver with "v"; toolchain versions are
 * "go1.21rc2", "go1.20" (= 1.20.0). Turned into semver first. */
static void go_norm(const char *s, char *out, size_t cap)
{
	const char *p;
	int dots = 0;
	size_t n;

	if (strncmp(s, "go", 2) == 0)
		s += 2;
	if (*s == 'v')
		s++;
	p = s;
	while (isdigit((unsigned char)*p) || *p == '.') {
		if (*p == '.')
			dots++;
		p++;
	}
	n = (size_t)(p - s);
	if (n > cap - 40)
		n = cap - 40;
	memcpy(out, s, n);
	out[n] = 0;
	if (*p && *p != '-' && *p != '+' && isalpha((unsigned char)*p)) {
		/* go1.21rc2 -> 1.21.0-rc.2 */
		const char *d = p;

		while (isalpha((unsigned char)*d))
			d++;
		for (; dots < 2; dots++)
			append(out, cap, ".0", SIZE_MAX);
		append(out, cap, "-", SIZE_MAX);
		append(out, cap, p, (size_t)(d - p));
		if (*d) {
			append(out, cap, ".", SIZE_MAX);
			append(out, cap, d, SIZE_MAX);
		}
		return;
	}
	append(out, cap, p, SIZE_MAX);
}

int vercmp_go(const char *a, const char *b)
{
	char x[256], y[256];

	go_norm(a, x, sizeof(x));
	go_norm(b, y, sizeof(y));
	return vercmp_semver(x, y);
}

/* ---------------------------------------------------------------- PEP 440 */

struct pep440 {
	bool valid;
	long long epoch;
	long long rel[16];
	int nrel;
	int pre_kind; /* 0 a, 1 b, 2 rc; -1 none */
	long long pre_num;
	long long post; /* -1 none */
	long long dev;  /* -1 none */
	char local[64];
};

static bool eat(const char **s, const char *w)
{
	size_t n = strlen(w);

	if (strncasecmp(*s, w, n) == 0) {
		*s += n;
		return true;
	}
	return false;
}

static long long eatnum(const char **s)
{
	long long v = 0;

	while (isdigit((unsigned char)**s)) {
		if (v < 100000000000000LL)
			v = v * 10 + (**s - '0');
		(*s)++;
	}
	return v;
}

static bool sep(char c)
{
	return c == '.' || c == '-' || c == '_';
}

static void pep440_parse(const char *s, struct pep440 *v)
{
	const char *t;

	memset(v, 0, sizeof(*v));
	v->pre_kind = -1, v->post = -1, v->dev = -1;
	while (isspace((unsigned char)*s))
		s++;
	if (*s == 'v' || *s == 'V')
		s++;
	if (!isdigit((unsigned char)*s))
		return;
	t = s;
	v->rel[0] = eatnum(&t);
	if (*t == '!') {
		v->epoch = v->rel[0];
		s = t + 1;
		if (!isdigit((unsigned char)*s))
			return;
	}
	while (isdigit((unsigned char)*s)) {
		long long n = eatnum(&s);

		if (v->nrel < 16)
			v->rel[v->nrel++] = n;
		if (*s == '.' && isdigit((unsigned char)s[1]))
			s++;
		else
			break;
	}
	/* pre-release */
	t = s;
	if (sep(*t))
		t++;
	{
		static const struct {
			const char *w;
			int kind;
		} pre[] = { { "alpha", 0 }, { "beta", 1 }, { "preview", 2 }, { "pre", 2 }, { "rc", 2 }, { "a", 0 }, { "b", 1 }, { "c", 2 } };

		for (size_t i = 0; i < sizeof(pre) / sizeof(pre[0]); i++) {
			if (eat(&t, pre[i].w)) {
				v->pre_kind = pre[i].kind;
				if (sep(*t) && isdigit((unsigned char)t[1]))
					t++;
				v->pre_num = eatnum(&t);
				s = t;
				break;
			}
		}
	}
	/* post-release */
	t = s;
	if (*t == '-' && isdigit((unsigned char)t[1])) {
		t++;
		v->post = eatnum(&t);
		s = t;
	} else {
		if (sep(*t))
			t++;
		if (eat(&t, "post") || eat(&t, "rev") || eat(&t, "r")) {
			if (sep(*t) && isdigit((unsigned char)t[1]))
				t++;
			v->post = eatnum(&t);
			s = t;
		}
	}
	t = s;
	if (sep(*t))
		t++;
	if (eat(&t, "dev")) {
		if (sep(*t) && isdigit((unsigned char)t[1]))
			t++;
		v->dev = eatnum(&t);
		s = t;
	}
	if (*s == '+') {
		size_t n = 0;

		s++;
		while (*s && n < sizeof(v->local) - 1) {
			char c = *s++;

			if (!isalnum((unsigned char)c) && !sep(c))
				return;
			v->local[n++] = sep(c) ? '.' : (char)tolower((unsigned char)c);
		}
		v->local[n] = 0;
		if (!n)
			return;
	}
	while (isspace((unsigned char)*s))
		s++;
	v->valid = *s == 0;
}

static int cmpll(long long a, long long b)
{
	return (a > b) - (a < b);
}

/* Local segments: numbers sort above strings, fewer segments first. */
static int pep440_local_cmp(const char *a, const char *b)
{
	if (!*a || !*b)
		return *a ? 1 : (*b ? -1 : 0);
	while (*a && *b) {
		size_t la = strcspn(a, "."), lb = strcspn(b, ".");
		bool da = all_digits(a, la), db = all_digits(b, lb);
		int r;

		if (da && db)
			r = numcmp(a, la, b, lb);
		else if (da != db)
			r = da ? 1 : -1;
		else {
			r = memcmp(a, b, la < lb ? la : lb);
			r = r ? sgn(r) : sgn((long long)la - (long long)lb);
		}
		if (r)
			return r;
		a += la, b += lb;
		if (*a)
			a++;
		if (*b)
			b++;
	}
	return *a ? 1 : (*b ? -1 : 0);
}

int vercmp_pep440(const char *a, const char *b)
{
	struct pep440 x, y;
	int r, n;
	long long px, py;

	pep440_parse(a, &x);
	pep440_parse(b, &y);
	if (!x.valid || !y.valid) {
		/* unparsable versions sort before every valid one (packaging's legacy rule) */
		if (x.valid != y.valid)
			return x.valid ? 1 : -1;
		return sgn(strcmp(a, b));
	}
	if ((r = cmpll(x.epoch, y.epoch)))
		return r;
	n = x.nrel > y.nrel ? x.nrel : y.nrel;
	for (int i = 0; i < n; i++)
		if ((r = cmpll(i < x.nrel ? x.rel[i] : 0, i < y.nrel ? y.rel[i] : 0)))
			return r;
	/* pre: a dev-only release sorts before its pre-releases; no pre = above all */
	px = x.pre_kind >= 0 ? x.pre_kind * 1000000000000LL + x.pre_num
			     : (x.post < 0 && x.dev >= 0 ? -1 : 4000000000000LL);
	py = y.pre_kind >= 0 ? y.pre_kind * 1000000000000LL + y.pre_num
			     : (y.post < 0 && y.dev >= 0 ? -1 : 4000000000000LL);
	if ((r = cmpll(px, py)))
		return r;
	if ((r = cmpll(x.post, y.post)))
		return r;
	if ((r = cmpll(x.dev < 0 ? (1LL << 62) : x.dev, y.dev < 0 ? (1LL << 62) : y.dev)))
		return r;
	return pep440_local_cmp(x.local, y.local);
}

/* ----------------------------------------------------------------- Maven */

/* Maven's ComparableVersion, as its documentation describes it. The version
 * (lower-cased) is split into items at '.', '-' and at every switch between
 * digits and other characters: numbers (IntItem), qualifiers (StringItem),
 * and lists (ListItem): '-' and a digit/letter switch open a sublist that
 * holds the rest of the version, so the tree is a spine and is kept here as
 * one flat array in which an M_LIST token stands for "the rest is a
 * sublist". An empty part is the number 0. "a", "b" and "m" directly
 * followed by a digit are alpha, beta and milestone; ga, final and release
 * are "" and cr is rc. Qualifiers order alpha < beta < milestone < rc <
 * snapshot < "" < sp < unknown ones (by text).
 *
 * Each list is normalised innermost first: a null item (0, "", an empty
 * list) goes when it is last, or when a qualifier or a sublist follows it
 * ("1.0-SNAPSHOT" is "1-SNAPSHOT", "1.0.0.RC1" is "1.RC1").
 *
 * Items then compare as Maven's do: numbers by value and above everything
 * else, qualifiers in the order above, lists element by element with a
 * missing element taken as null; a list is above a qualifier. Maven itself
 * is not transitive where a null stands between the two kinds ("1-alpha" <
 * "1" < "1.sp" < "1-alpha"); here every item has a place in one order,
 *   qualifier < null  <  list < null  <  null  <  qualifier > null  <
 *   list > null  <  number,
 * which only differs from Maven in that cycle: a list below null is below
 * any qualifier that is not. Together with the normalisation (a 0 that is
 * left is always followed by a number, so it is above null as Maven finds
 * too) this makes the order total on any string. At most MVN_MAX tokens of
 * a version count; what follows is ignored (the same for every comparison,
 * so the order stays total). */
#define MVN_MAX 192

enum mvn_kind { M_INT, M_STR, M_LIST };

struct mvn_tok {
	enum mvn_kind kind;
	bool dead;
	const char *p; /* INT: digits without leading zeros; STR: text */
	size_t n;
	int rank; /* STR: 0 alpha .. 4 snapshot, 5 "" (release), 6 sp, 7 unknown */
};

struct mvn_ver {
	struct mvn_tok t[MVN_MAX];
	int n;
};

#define MVN_RELEASE 5

static bool mvn_eq(const char *p, size_t n, const char *w)
{
	return strlen(w) == n && strncasecmp(p, w, n) == 0;
}

static void mvn_add(struct mvn_ver *v, enum mvn_kind k, const char *p, size_t n, bool digit_follows)
{
	static const struct {
		const char *w;
		int rank;
	} q[] = { { "alpha", 0 }, { "beta", 1 },  { "milestone", 2 }, { "rc", 3 },      { "cr", 3 }, { "snapshot", 4 },
		  { "", 5 },      { "ga", 5 },    { "final", 5 },     { "release", 5 }, { "sp", 6 } };
	struct mvn_tok *t;

	if (v->n >= MVN_MAX)
		return;
	t = &v->t[v->n++];
	memset(t, 0, sizeof(*t));
	t->kind = k;
	t->p = p, t->n = n;
	if (k == M_INT) {
		while (t->n && *t->p == '0')
			t->p++, t->n--;
	} else if (k == M_STR) {
		t->rank = 7;
		if (digit_follows && n == 1) {
			char c = (char)tolower((unsigned char)*p);

			t->rank = c == 'a' ? 0 : c == 'b' ? 1 : c == 'm' ? 2 : 7;
		}
		for (size_t i = 0; t->rank == 7 && i < sizeof(q) / sizeof(q[0]); i++)
			if (mvn_eq(p, n, q[i].w))
				t->rank = q[i].rank;
	}
}

static void mvn_part(struct mvn_ver *v, const char *p, size_t n, bool digits)
{
	if (n == 0)
		mvn_add(v, M_INT, "0", 1, false);
	else
		mvn_add(v, digits ? M_INT : M_STR, p, n, false);
}

static bool mvn_null(const struct mvn_tok *t)
{
	return (t->kind == M_INT && t->n == 0) || (t->kind == M_STR && t->rank == MVN_RELEASE);
}

static void mvn_parse(const char *s, struct mvn_ver *v)
{
	size_t start = 0, i;
	bool digit = false;

	v->n = 0;
	for (i = 0; s[i] && v->n < MVN_MAX; i++) {
		bool d = isdigit((unsigned char)s[i]);

		if (s[i] == '.' || s[i] == '-') {
			mvn_part(v, s + start, i - start, digit);
			start = i + 1;
			if (s[i] == '-')
				mvn_add(v, M_LIST, NULL, 0, false);
		} else if (d != digit && i > start) {
			mvn_add(v, digit ? M_INT : M_STR, s + start, i - start, d);
			start = i;
			mvn_add(v, M_LIST, NULL, 0, false);
		}
		if (s[i] != '.' && s[i] != '-')
			digit = d;
	}
	if (!s[i] && i > start)
		mvn_add(v, digit ? M_INT : M_STR, s + start, i - start, false);

	/* Normalise the lists, innermost (last) first. An M_LIST token stays
	 * only while its list holds something. */
	int end = v->n;

	for (int m = v->n - 1; m >= -1; m--) {
		if (m >= 0 && v->t[m].kind != M_LIST)
			continue;
		/* the list's items: tokens m+1 .. end-1, then the sublist at end */
		enum { NONE, STR_OR_LIST, OTHER } next = NONE;

		if (end < v->n && !v->t[end].dead)
			next = STR_OR_LIST;
		for (int k = end - 1; k > m; k--) {
			struct mvn_tok *t = &v->t[k];

			if (mvn_null(t) && next != OTHER) {
				t->dead = true;
				continue;
			}
			next = t->kind == M_STR ? STR_OR_LIST : OTHER;
		}
		if (m >= 0 && next == NONE)
			v->t[m].dead = true; /* empty list: null, and last in its parent */
		end = m;
	}
	int out = 0;

	for (int k = 0; k < v->n; k++)
		if (!v->t[k].dead)
			v->t[out++] = v->t[k];
	v->n = out;
}

static int mvn_strcmp(const struct mvn_tok *a, const struct mvn_tok *b)
{
	if (a->rank != b->rank)
		return a->rank < b->rank ? -1 : 1;
	if (a->rank != 7)
		return 0;
	for (size_t i = 0; i < a->n && i < b->n; i++) {
		int x = tolower((unsigned char)a->p[i]), y = tolower((unsigned char)b->p[i]);

		if (x != y)
			return x < y ? -1 : 1;
	}
	return sgn((long long)a->n - (long long)b->n);
}

/* A list (the tokens from i on) against null: its first item that is not
 * null decides. Numbers left after normalisation are above null. */
static int mvn_list_null(const struct mvn_ver *v, int i)
{
	for (; i < v->n; i++) {
		const struct mvn_tok *t = &v->t[i];

		if (t->kind == M_INT)
			return 1;
		if (t->kind == M_STR && t->rank != MVN_RELEASE)
			return t->rank < MVN_RELEASE ? -1 : 1;
	}
	return 0;
}

/* The place of item i (i == v->n: null) in the order of kinds above. */
static int mvn_class(const struct mvn_ver *v, int i)
{
	const struct mvn_tok *t;
	int r;

	if (i >= v->n)
		return 2;
	t = &v->t[i];
	if (t->kind == M_INT)
		return 5;
	if (t->kind == M_STR)
		return t->rank < MVN_RELEASE ? 0 : t->rank == MVN_RELEASE ? 2 : 3;
	r = mvn_list_null(v, i + 1);
	return r < 0 ? 1 : r == 0 ? 2 : 4;
}

static int mvn_cmp(const struct mvn_ver *a, const struct mvn_ver *b)
{
	int i = 0, j = 0;

	while (i < a->n || j < b->n) {
		const struct mvn_tok *x = i < a->n ? &a->t[i] : NULL, *y = j < b->n ? &b->t[j] : NULL;
		int ca, cb, r;

		if (x && y && x->kind == M_LIST && y->kind == M_LIST) {
			i++, j++; /* two sublists: compare their items */
			continue;
		}
		ca = mvn_class(a, i), cb = mvn_class(b, j);
		if (ca != cb)
			return ca < cb ? -1 : 1;
		if (x && y && x->kind == y->kind) {
			if (x->kind == M_INT && (r = numcmp(x->p, x->n, y->p, y->n)))
				return r;
			if (x->kind == M_STR && (r = mvn_strcmp(x, y)))
				return r;
		}
		/* equal, or both null-like ("" against a missing item): go on */
		i += x != NULL, j += y != NULL;
	}
	return 0;
}

int vercmp_maven(const char *a, const char *b)
{
	struct mvn_ver va, vb;

	mvn_parse(a, &va);
	mvn_parse(b, &vb);
	return mvn_cmp(&va, &vb);
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
