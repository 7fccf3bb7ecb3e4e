/* Cargo.lock: a TOML document whose [[package]] tables name the crates
 * of a build (name, version, source). Read with a small TOML reader of
 * our own, after the TOML 1.0 specification: bare and quoted keys, the
 * four string forms (basic "...", literal '...', multi-line basic
 * """...""" with escapes and line-ending backslashes, multi-line literal
 * '''...'''), arrays and inline tables (skipped, nested at most
 * TOML_DEPTH deep), comments. A document that breaks the grammar is not
 * read at all (CAT_UNPARSED): a half-read lock file would be a silent gap. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scan/cat.h"

#define TOML_DEPTH 32
#define TOML_STR_MAX 1024 /* longer strings are read but not kept */

struct toml {
	const char *p, *end;
};

static bool at(const struct toml *t, const char *s)
{
	size_t n = strlen(s);

	return (size_t)(t->end - t->p) >= n && memcmp(t->p, s, n) == 0;
}

static void skip_ws(struct toml *t)
{
	while (t->p < t->end && (*t->p == ' ' || *t->p == '\t'))
		t->p++;
}

static void skip_comment(struct toml *t)
{
	if (t->p < t->end && *t->p == '#')
		while (t->p < t->end && *t->p != '\n')
			t->p++;
}

/* Blank lines, comments and newlines (inside arrays too). */
static void skip_space(struct toml *t)
{
	for (;;) {
		skip_ws(t);
		skip_comment(t);
		if (t->p < t->end && (*t->p == '\n' || *t->p == '\r'))
			t->p++;
		else
			return;
	}
}

static void put(char *out, size_t *n, const char *s, size_t k)
{
	if (*n + k < TOML_STR_MAX) {
		memcpy(out + *n, s, k);
		*n += k;
	}
}

/* UTF-8 of a code point; false for one TOML forbids. */
static bool put_utf8(char *out, size_t *n, unsigned long c)
{
	char u[4];
	size_t k;

	if (c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return false;
	if (c < 0x80)
		u[0] = (char)c, k = 1;
	else if (c < 0x800)
		u[0] = (char)(0xc0 | (c >> 6)), u[1] = (char)(0x80 | (c & 0x3f)), k = 2;
	else if (c < 0x10000)
		u[0] = (char)(0xe0 | (c >> 12)), u[1] = (char)(0x80 | ((c >> 6) & 0x3f)),
		u[2] = (char)(0x80 | (c & 0x3f)), k = 3;
	else
		u[0] = (char)(0xf0 | (c >> 18)), u[1] = (char)(0x80 | ((c >> 12) & 0x3f)),
		u[2] = (char)(0x80 | ((c >> 6) & 0x3f)), u[3] = (char)(0x80 | (c & 0x3f)), k = 4;
	put(out, n, u, k);
	return true;
}

/* One escape after the backslash of a basic string. */
static bool escape(struct toml *t, char *out, size_t *n)
{
	static const char from[] = "btnfr\"\\", to[] = "\b\t\n\f\r\"\\";
	const char *hit;
	int digits;
	unsigned long c = 0;

	if (t->p >= t->end)
		return false;
	if ((hit = memchr(from, *t->p, sizeof(from) - 1))) {
		put(out, n, &to[hit - from], 1);
		t->p++;
		return true;
	}
	if (*t->p != 'u' && *t->p != 'U')
		return false;
	digits = *t->p++ == 'u' ? 4 : 8;
	if (t->end - t->p < digits)
		return false;
	for (int i = 0; i < digits; i++, t->p++) {
		char h = *t->p;

		if (h >= '0' && h <= '9')
			c = c * 16 + (unsigned long)(h - '0');
		else if ((h | 0x20) >= 'a' && (h | 0x20) <= 'f')
			c = c * 16 + (unsigned long)((h | 0x20) - 'a' + 10);
		else
			return false;
	}
	return put_utf8(out, n, c);
}

/* A string in any of the four forms at t->p; out gets at most
 * TOML_STR_MAX - 1 bytes of it. */
static bool string(struct toml *t, char *out)
{
	bool literal = *t->p == '\'', multi = at(t, literal ? "'''" : "\"\"\"");
	const char *close = literal ? (multi ? "'''" : "'") : (multi ? "\"\"\"" : "\"");
	size_t n = 0;

	t->p += multi ? 3 : 1;
	/* a newline right after the opening delimiter is not part of it */
	if (multi && at(t, "\r\n"))
		t->p += 2;
	else if (multi && at(t, "\n"))
		t->p++;
	for (;;) {
		if (t->p >= t->end)
			return false;
		if (at(t, close)) {
			t->p += strlen(close);
			/* up to two quotes may end the content of a multi-line string */
			for (int extra = 0;
			     multi && extra < 2 && t->p < t->end && *t->p == close[0]; extra++)
				put(out, &n, t->p++, 1);
			out[n] = 0;
			return true;
		}
		if (!multi && (*t->p == '\n' || *t->p == '\r'))
			return false;
		if (!literal && *t->p == '\\') {
			const char *q = t->p + 1;

			/* line-ending backslash: drop it and the whitespace after */
			while (multi && q < t->end && (*q == ' ' || *q == '\t'))
				q++;
			if (multi && q < t->end && (*q == '\n' || *q == '\r')) {
				t->p = q;
				while (t->p < t->end && (*t->p == ' ' || *t->p == '\t' ||
							 *t->p == '\n' || *t->p == '\r'))
					t->p++;
				continue;
			}
			t->p++;
			if (!escape(t, out, &n))
				return false;
			continue;
		}
		put(out, &n, t->p++, 1);
	}
}

/* A value that is not kept: string, array, inline table or scalar. */
static bool skip_value(struct toml *t, int depth)
{
	char scratch[TOML_STR_MAX];

	if (depth > TOML_DEPTH || t->p >= t->end)
		return false;
	if (*t->p == '"' || *t->p == '\'')
		return string(t, scratch);
	if (*t->p == '[' || *t->p == '{') {
		char close = *t->p == '[' ? ']' : '}';

		t->p++;
		for (;;) {
			skip_space(t);
			if (t->p >= t->end)
				return false;
			if (*t->p == close) {
				t->p++;
				return true;
			}
			if (*t->p == ',') {
				t->p++;
				continue;
			}
			if (close == '}') { /* key = value */
				while (t->p < t->end && *t->p != '=' && *t->p != '}' &&
				       *t->p != '\n')
					t->p++;
				if (t->p >= t->end || *t->p != '=')
					return false;
				t->p++;
				skip_ws(t);
			}
			if (!skip_value(t, depth + 1))
				return false;
		}
	}
	/* number, boolean, date: up to the end of the value; never empty */
	{
		const char *start = t->p;

		while (t->p < t->end && !strchr(" \t\r\n#,]}", *t->p))
			t->p++;
		return t->p > start;
	}
}

/* A key (bare, quoted, dotted): the last part goes to out. */
static bool key(struct toml *t, char *out)
{
	for (;;) {
		size_t n = 0;

		if (t->p < t->end && (*t->p == '"' || *t->p == '\'')) {
			if (at(t, "\"\"\"") || at(t, "'''") || !string(t, out))
				return false;
		} else {
			while (t->p < t->end &&
			       (strchr("-_", *t->p) || (*t->p >= 'a' && *t->p <= 'z') ||
				(*t->p >= 'A' && *t->p <= 'Z') || (*t->p >= '0' && *t->p <= '9')))
				put(out, &n, t->p++, 1);
			if (!n)
				return false;
			out[n] = 0;
		}
		skip_ws(t);
		if (t->p >= t->end || *t->p != '.')
			return true;
		t->p++;
		skip_ws(t);
	}
}

struct cargo_pkg {
	char name[TOML_STR_MAX], version[TOML_STR_MAX];
	bool open;
};

static int flush(struct inventory *inv, const struct kfile *k, struct cargo_pkg *c, struct err *e)
{
	int r = 0;

	if (c->open)
		r = cat_add(inv, "cargo", "crates.io", c->name, c->version, NULL, NULL, k, e);
	c->open = false;
	c->name[0] = c->version[0] = 0;
	return r;
}

/* A table header: "[[package]]" opens a crate; any other table closes it. */
static bool header(struct toml *t, struct cargo_pkg *c)
{
	bool array = at(t, "[[");
	char name[TOML_STR_MAX];

	t->p += array ? 2 : 1;
	skip_ws(t);
	if (!key(t, name))
		return false;
	if (!at(t, array ? "]]" : "]"))
		return false;
	t->p += array ? 2 : 1;
	c->open = array && strcmp(name, "package") == 0;
	return true;
}

int cat_cargo(struct inventory *inv, const struct kfile *k, struct err *e)
{
	struct toml t = {k->data.data, k->data.data + k->data.len};
	struct cargo_pkg *c = calloc(1, sizeof(*c));
	size_t first = inv->n;
	int r = CAT_UNPARSED;

	if (!c)
		return err_oom(e);
	/* TOML is UTF-8; an empty Cargo.lock is none (or was too big to keep) */
	if (!k->data.len || !cat_utf8_valid(k->data.data, k->data.len)) {
		free(c);
		return CAT_UNPARSED;
	}
	for (;;) {
		skip_space(&t);
		if (t.p >= t.end) {
			r = flush(inv, k, c, e);
			break;
		}
		if (*t.p == '[') {
			if (flush(inv, k, c, e) < 0) {
				r = -1;
				break;
			}
			if (!header(&t, c))
				break;
		} else {
			char kname[TOML_STR_MAX], val[TOML_STR_MAX];
			bool want;

			if (!key(&t, kname) || t.p >= t.end || *t.p != '=')
				break;
			t.p++;
			skip_ws(&t);
			want = c->open &&
			       (strcmp(kname, "name") == 0 || strcmp(kname, "version") == 0);
			if (want && t.p < t.end && (*t.p == '"' || *t.p == '\'')) {
				if (!string(&t, val))
					break;
				snprintf(kname[0] == 'n' ? c->name : c->version, TOML_STR_MAX, "%s",
					 val);
			} else if (!skip_value(&t, 0)) {
				break;
			}
		}
		/* after a header or a key/value: the end of the line */
		skip_ws(&t);
		skip_comment(&t);
		if (t.p < t.end && *t.p != '\n' && *t.p != '\r')
			break;
	}
	free(c);
	if (r == CAT_UNPARSED)
		cat_drop(inv, first); /* all or nothing */
	return r;
}
