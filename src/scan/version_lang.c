/* Version comparators for language ecosystems: semver (npm, cargo, ...), Go,
 * PEP 440 and Maven (dpkg, apk and rpm are version.c). The vector suites in
 * tests/unit/test_scan_version.c hold them to their rules. */
#include <ctype.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "scan/version.h"
#include "scan/version_int.h"

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
