/* .dockerignore with Docker's rules (moby/patternmatcher and its ignorefile
 * reader): lines cleaned like filepath.Clean, "!" re-includes, the pattern
 * syntax checked as Go's filepath.Match checks it (Docker refuses a file with
 * a bad pattern), and matching with the semantics of the regular expression
 * Docker builds from each pattern: "*" is any run of characters but "/", "?"
 * one character (a UTF-8 code point, not a byte) but "/", "**" any run
 * including "/", "[...]" a class of code points, "\" escapes the next
 * character. A pattern that matches a parent directory matches the path.
 *
 * Own matcher (no regex library): a pattern is a token list run as an NFA
 * over the path's code points, so matching is O(path x pattern) whatever the
 * pattern, and names that are not valid UTF-8 match byte for byte. */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "builder/build.h"
#include "core/buf.h"
#include "core/util.h"

#define IGNORE_PATTERN_MAX 4096 /* bytes of one pattern */

/* A byte that is not part of valid UTF-8 decodes to RAW_BYTE + byte: it
 * matches only itself as a literal, and counts as one character. */
#define RAW_BYTE 0x110000u

enum tok_kind {
	T_LIT,	    /* one code point */
	T_ANY,	    /* ?: one code point but '/' */
	T_CLASS,    /* [...] */
	T_STAR,	    /* *: any run without '/' */
	T_DSTAR,    /* ** at the end: any run */
	T_DS_ENTRY, /* ** before more: (.* /)? entry, consumes nothing */
	T_DS_IN,    /* inside (.* /)?: any run that ends with '/' */
};

struct tok {
	unsigned char kind;
	bool neg;      /* T_CLASS: [^...] */
	uint32_t cp;   /* T_LIT */
	size_t r0, nr; /* T_CLASS: ranges r0 .. r0+nr-1 of the pattern */
};

struct ignore_pat {
	struct tok *t;
	size_t nt;
	uint32_t (*rng)[2];
	size_t nrng;
	bool exclude; /* "!" pattern: re-include */
	const char
	    *suffix; /* Docker's suffix match ("**" then literal text): the text after "**" */
	char *text;  /* the cleaned pattern */
};

struct ignore {
	struct ignore_pat *p;
	size_t n;
};

/* One code point of s (n bytes left); *len gets its length. */
static uint32_t utf8_next(const unsigned char *s, size_t n, size_t *len)
{
	uint32_t c = s[0];
	size_t l;

	*len = 1;
	if (c < 0x80)
		return c;
	if (c >= 0xc2 && c <= 0xdf)
		l = 2, c &= 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		l = 3, c &= 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		l = 4, c &= 0x07;
	else
		return RAW_BYTE + s[0];
	if (n < l)
		return RAW_BYTE + s[0];
	for (size_t i = 1; i < l; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return RAW_BYTE + s[0];
		c = (c << 6) | (s[i] & 0x3f);
	}
	/* overlong forms, surrogates and values past U+10FFFF are not UTF-8 */
	if ((l == 3 && c < 0x800) || (l == 4 && (c < 0x10000 || c > 0x10ffff)) ||
	    (c >= 0xd800 && c <= 0xdfff))
		return RAW_BYTE + s[0];
	*len = l;
	return c;
}

/* filepath.Clean for a slash-separated path, in place. */
static void clean(char *s)
{
	bool rooted = s[0] == '/';
	char *p = s;
	size_t o = 0, floor = 0; /* out[0..floor) are leading ".." of a relative path */

	if (rooted)
		s[o++] = '/', floor = 1;
	while (*p) {
		while (*p == '/')
			p++;
		if (!*p)
			break;
		size_t l = strcspn(p, "/");
		if (l == 1 && p[0] == '.') {
			/* nothing */
		} else if (l == 2 && p[0] == '.' && p[1] == '.') {
			if (o > floor) {
				while (o > floor && s[o - 1] != '/')
					o--;
				if (o > floor)
					o--;
				else if (rooted)
					o = 1;
			} else if (!rooted) {
				if (o)
					s[o++] = '/';
				s[o++] = '.';
				s[o++] = '.';
				floor = o;
			}
		} else {
			if (o > (rooted ? 1u : 0u))
				s[o++] = '/';
			memmove(s + o, p, l);
			o += l;
		}
		p += l;
	}
	if (o == 0)
		s[o++] = '.';
	s[o] = 0;
}

/* Go's getEsc: one class member at s[*i] (an escape allowed). */
static int class_char(const char *s, size_t *i, uint32_t *cp)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t l;

	if (!s[*i] || s[*i] == '-' || s[*i] == ']')
		return -1;
	if (s[*i] == '\\') {
		(*i)++;
		if (!s[*i])
			return -1;
	}
	*cp = utf8_next(u + *i, strlen(s + *i), &l);
	if (*cp >= RAW_BYTE)
		return -1;
	*i += l;
	return s[*i] ? 0 : -1;
}

/* The pattern's syntax as filepath.Match checks it; the reason on error. */
static const char *syntax_error(const char *p)
{
	for (size_t i = 0; p[i];) {
		if (p[i] == '\\') {
			if (!p[i + 1])
				return "a trailing \\ escapes nothing";
			i += 2;
		} else if (p[i] == '[') {
			size_t nr = 0;
			uint32_t lo, hi;
			i++;
			if (p[i] == '^')
				i++;
			for (;;) {
				if (p[i] == ']' && nr > 0) {
					i++;
					break;
				}
				if (class_char(p, &i, &lo) < 0)
					return "bad character class (\"]\" or \"-\" must be "
					       "escaped inside [...], and it must be closed)";
				if (p[i] == '-') {
					i++;
					if (class_char(p, &i, &hi) < 0)
						return "bad range in character class";
				}
				nr++;
			}
		} else {
			i++;
		}
	}
	return NULL;
}

static int tok_add(struct ignore_pat *ip, struct tok t, struct err *e)
{
	struct tok *nt = realloc(ip->t, (ip->nt + 1) * sizeof(*nt));

	if (!nt)
		return err_oom(e);
	ip->t = nt;
	nt[ip->nt++] = t;
	return 0;
}

static int rng_add(struct ignore_pat *ip, uint32_t lo, uint32_t hi, struct err *e)
{
	uint32_t(*nr)[2] = realloc(ip->rng, (ip->nrng + 1) * sizeof(*nr));

	if (!nr)
		return err_oom(e);
	ip->rng = nr;
	nr[ip->nrng][0] = lo;
	nr[ip->nrng][1] = hi;
	ip->nrng++;
	return 0;
}

/* Tokens of a pattern whose syntax is valid. */
static int compile(struct ignore_pat *ip, const char *p, struct err *e)
{
	const unsigned char *u = (const unsigned char *)p;
	size_t n = strlen(p), l;

	for (size_t i = 0; i < n;) {
		struct tok t = {0};
		if (p[i] == '*') {
			if (p[i + 1] == '*') {
				i += 2;
				if (p[i] == '/')
					i++;
				if (i >= n) {
					t.kind = T_DSTAR;
				} else {
					t.kind = T_DS_ENTRY;
					if (tok_add(ip, t, e) < 0)
						return -1;
					t.kind = T_DS_IN;
				}
			} else {
				t.kind = T_STAR;
				i++;
			}
		} else if (p[i] == '?') {
			t.kind = T_ANY;
			i++;
		} else if (p[i] == '[') {
			uint32_t lo, hi;
			size_t nr = 0;
			t.kind = T_CLASS;
			t.r0 = ip->nrng;
			i++;
			if (p[i] == '^') {
				t.neg = true;
				i++;
			}
			while (!(p[i] == ']' && nr > 0)) {
				if (class_char(p, &i, &lo) < 0)
					return err_set(e, ERR_INTERNAL,
						       "pattern compile"); /* checked before */
				hi = lo;
				if (p[i] == '-') {
					i++;
					if (class_char(p, &i, &hi) < 0)
						return err_set(e, ERR_INTERNAL, "pattern compile");
				}
				if (rng_add(ip, lo, hi, e) < 0)
					return -1;
				nr++;
			}
			i++;
			t.nr = nr;
		} else {
			if (p[i] == '\\')
				i++;
			t.kind = T_LIT;
			t.cp = utf8_next(u + i, n - i, &l);
			i += l;
		}
		if (tok_add(ip, t, e) < 0)
			return -1;
	}
	/* Docker matches "**" followed by text without wildcards or escapes by
	 * suffix: "**file" matches "myfile", "**" + "/x" matches "x". */
	if (p[0] == '*' && p[1] == '*' && !strpbrk(p + 2, "*?[]\\"))
		ip->suffix = p + 2;
	return 0;
}

static bool in_class(const struct ignore_pat *ip, const struct tok *t, uint32_t c)
{
	bool in = false;

	for (size_t r = t->r0; r < t->r0 + t->nr && !in; r++)
		in = c >= ip->rng[r][0] && c <= ip->rng[r][1];
	return in != t->neg;
}

static void closure(const struct ignore_pat *ip, unsigned char *set)
{
	for (size_t i = 0; i < ip->nt; i++) {
		if (!set[i])
			continue;
		unsigned k = ip->t[i].kind;
		if (k == T_STAR || k == T_DSTAR)
			set[i + 1] = 1;
		else if (k == T_DS_ENTRY)
			set[i + 1] = set[i + 2] = 1;
	}
}

static bool suffix_match(const struct ignore_pat *ip, const char *s, size_t n)
{
	size_t sl = strlen(ip->suffix);

	if (n >= sl && memcmp(s + n - sl, ip->suffix, sl) == 0)
		return true;
	return sl > 0 && ip->suffix[0] == '/' && n == sl - 1 && memcmp(s, ip->suffix + 1, n) == 0;
}

/* Does the pattern match s (n bytes), or (parents) one of its parent
 * directories, the text before one of its '/'? One pass of the NFA serves
 * them all: a parent matches when the pattern accepts just before its '/'. */
static bool pat_match(const struct ignore_pat *ip, const char *s, size_t n, bool parents,
		      unsigned char *cur, unsigned char *nxt)
{
	const unsigned char *u = (const unsigned char *)s;

	if (ip->suffix) {
		if (suffix_match(ip, s, n))
			return true;
		for (size_t i = 1; parents && i < n; i++)
			if (s[i] == '/' && suffix_match(ip, s, i))
				return true;
		return false;
	}
	memset(cur, 0, ip->nt + 1);
	cur[0] = 1;
	closure(ip, cur);
	for (size_t i = 0; i < n;) {
		size_t l;
		if (parents && i > 0 && s[i] == '/' && cur[ip->nt])
			return true;
		uint32_t c = utf8_next(u + i, n - i, &l);
		bool any = false;
		i += l;
		memset(nxt, 0, ip->nt + 1);
		for (size_t k = 0; k < ip->nt; k++) {
			if (!cur[k])
				continue;
			const struct tok *t = &ip->t[k];
			switch (t->kind) {
			case T_LIT:
				if (c == t->cp)
					nxt[k + 1] = 1;
				break;
			case T_ANY:
				if (c != '/')
					nxt[k + 1] = 1;
				break;
			case T_CLASS:
				if (in_class(ip, t, c))
					nxt[k + 1] = 1;
				break;
			case T_STAR:
				if (c != '/')
					nxt[k] = 1;
				break;
			case T_DSTAR:
				nxt[k] = 1;
				break;
			case T_DS_IN:
				nxt[k] = 1;
				if (c == '/')
					nxt[k + 1] = 1;
				break;
			default:
				break;
			}
		}
		closure(ip, nxt);
		for (size_t k = 0; k <= ip->nt && !any; k++)
			any = nxt[k];
		if (!any)
			return false;
		memcpy(cur, nxt, ip->nt + 1);
	}
	return cur[ip->nt] != 0;
}

static void pat_free(struct ignore_pat *ip)
{
	free(ip->t);
	free(ip->rng);
	free(ip->text);
}

/* One line of the file as Docker's ignorefile reader and NewPatternMatcher
 * take it. Adds a pattern, skips the line, or fails. */
static int add_line(struct ignore *ig, char *s, int lineno, struct err *e)
{
	size_t sl = strlen(s);
	bool exc = false;

	if (s[0] == '#')
		return 0; /* a comment only when '#' is the very first character */
	while (sl && isspace((unsigned char)s[sl - 1]))
		s[--sl] = 0;
	while (isspace((unsigned char)*s))
		s++;
	if (!*s)
		return 0;
	if (*s == '!') {
		exc = true;
		s++;
		while (isspace((unsigned char)*s))
			s++;
		if (!*s)
			return err_set(e, ERR_INPUT,
				       ".dockerignore:%d: illegal exclusion pattern \"!\"", lineno);
	}
	if (strlen(s) > IGNORE_PATTERN_MAX)
		return err_set(e, ERR_INPUT,
			       ".dockerignore:%d: pattern longer than %d bytes (starts \"%.40s\")",
			       lineno, IGNORE_PATTERN_MAX, s);
	clean(s);
	if (s[0] == '/' && s[1])
		s++;
	const char *why = syntax_error(s);
	if (why)
		return err_set(e, ERR_INPUT, ".dockerignore:%d: bad pattern \"%.80s\": %s", lineno,
			       s, why);
	struct ignore_pat ip = {0};
	ip.exclude = exc;
	ip.text = xstrdup_e(s, e);
	if (!ip.text || compile(&ip, ip.text, e) < 0) {
		pat_free(&ip);
		return -1;
	}
	struct ignore_pat *np = realloc(ig->p, (ig->n + 1) * sizeof(*np));
	if (!np) {
		pat_free(&ip);
		return err_oom(e);
	}
	ig->p = np;
	np[ig->n++] = ip;
	return 0;
}

int ignore_parse(struct ignore **out, const char *text, struct err *e)
{
	struct ignore *ig = calloc(1, sizeof(*ig));
	const char *p = text;
	int lineno = 0;

	*out = NULL;
	if (!ig)
		return err_oom(e);
	if (strncmp(p, "\xef\xbb\xbf", 3) == 0)
		p += 3; /* a UTF-8 byte order mark */
	while (*p) {
		size_t l = strcspn(p, "\n");
		char *line = xstrndup_e(p, l, e);
		lineno++;
		p += l;
		if (*p)
			p++;
		int r = line ? add_line(ig, line, lineno, e) : -1;
		free(line);
		if (r < 0) {
			ignore_free(ig);
			return -1;
		}
	}
	*out = ig;
	return 0;
}

bool ignore_match(const struct ignore *ig, const char *rel)
{
	bool ignored = false;
	/* A pattern has at most one token per byte. */
	unsigned char cur[IGNORE_PATTERN_MAX + 1], nxt[IGNORE_PATTERN_MAX + 1];

	if (!ig)
		return false;
	for (size_t i = 0; i < ig->n; i++) {
		/* Only a pattern that can change the answer is tried. */
		if (ig->p[i].exclude != ignored)
			continue;
		if (pat_match(&ig->p[i], rel, strlen(rel), true, cur, nxt))
			ignored = !ig->p[i].exclude;
	}
	return ignored;
}

void ignore_free(struct ignore *ig)
{
	if (!ig)
		return;
	for (size_t i = 0; i < ig->n; i++)
		pat_free(&ig->p[i]);
	free(ig->p);
	free(ig);
}
