/* .dockerignore with Docker's rules (moby/patternmatcher). */
#include <ctype.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "builder/build.h"
#include "core/buf.h"
#include "core/util.h"

struct ignore_pat {
	regex_t re;
	bool exclude; /* "!" pattern: re-include */
};

struct ignore {
	struct ignore_pat *p;
	size_t n;
};

/* Clean like filepath.Clean: collapse '/', drop '.', resolve '..'. */
static void clean(char *s)
{
	char *out = s, *p = s;
	size_t o = 0;

	while (*p == '/')
		p++;
	while (*p) {
		size_t l = strcspn(p, "/");
		if (l == 1 && p[0] == '.') {
		} else if (l == 2 && p[0] == '.' && p[1] == '.') {
			while (o > 0 && out[o - 1] != '/')
				o--;
			if (o > 0)
				o--;
		} else {
			if (o)
				out[o++] = '/';
			memmove(out + o, p, l);
			o += l;
		}
		p += l;
		while (*p == '/')
			p++;
	}
	out[o] = 0;
}

static int to_regex(const char *pat, struct buf *re, struct err *e)
{
	if (buf_adds(re, "^", e) < 0)
		return -1;
	for (size_t i = 0; pat[i]; i++) {
		char c = pat[i];
		int r = 0;
		if (c == '*') {
			if (pat[i + 1] == '*') {
				i++;
				if (pat[i + 1] == '/') {
					i++;
					r = buf_adds(re, "(.*/)?", e);
				} else {
					r = buf_adds(re, ".*", e);
				}
			} else {
				r = buf_adds(re, "[^/]*", e);
			}
		} else if (c == '?') {
			r = buf_adds(re, "[^/]", e);
		} else if (c == '[') {
			size_t j = i + 1;
			while (pat[j] && pat[j] != ']')
				j++;
			if (!pat[j])
				return err_set(e, ERR_INPUT, ".dockerignore: bad pattern \"%s\"", pat);
			r = buf_add(re, "[", 1, e);
			if (r == 0 && pat[i + 1] == '^') {
				r = buf_add(re, "^", 1, e);
				i++;
			}
			if (r == 0)
				r = buf_add(re, pat + i + 1, j - i, e);
			i = j;
		} else if (c == '\\' && pat[i + 1]) {
			i++;
			r = buf_addf(re, e, "\\%c", pat[i]);
		} else if (strchr(".+()|^${}", c)) {
			r = buf_addf(re, e, "\\%c", c);
		} else {
			r = buf_add(re, &c, 1, e);
		}
		if (r < 0)
			return -1;
	}
	return buf_adds(re, "$", e);
}

int ignore_parse(struct ignore **out, const char *text, struct err *e)
{
	struct ignore *ig = calloc(1, sizeof(*ig));
	const char *p = text;

	if (!ig)
		return err_oom(e);
	while (*p) {
		size_t l = strcspn(p, "\n");
		char line[4096];
		snprintf(line, sizeof(line), "%.*s", (int)l, p);
		p += l;
		if (*p)
			p++;
		char *s = line;
		size_t sl = strlen(s);
		while (sl && isspace((unsigned char)s[sl - 1]))
			s[--sl] = 0;
		while (isspace((unsigned char)*s))
			s++;
		if (!*s || *s == '#')
			continue;
		bool exc = false;
		if (*s == '!') {
			exc = true;
			s++;
		}
		clean(s);
		if (!*s)
			continue;
		struct buf re = BUF_INIT;
		if (to_regex(s, &re, e) < 0) {
			buf_free(&re);
			ignore_free(ig);
			return -1;
		}
		struct ignore_pat *np = realloc(ig->p, (ig->n + 1) * sizeof(*np));
		if (!np) {
			buf_free(&re);
			ignore_free(ig);
			return err_oom(e);
		}
		ig->p = np;
		if (regcomp(&np[ig->n].re, re.data, REG_EXTENDED | REG_NOSUB) != 0) {
			buf_free(&re);
			ignore_free(ig);
			return err_set(e, ERR_INPUT, ".dockerignore: bad pattern \"%s\"", s);
		}
		np[ig->n].exclude = exc;
		ig->n++;
		buf_free(&re);
	}
	*out = ig;
	return 0;
}

static bool match_or_parent(const regex_t *re, const char *rel)
{
	char buf[4096];
	size_t l = strlen(rel);

	if (l >= sizeof(buf))
		return false;
	memcpy(buf, rel, l + 1);
	for (;;) {
		if (regexec(re, buf, 0, NULL, 0) == 0)
			return true;
		char *sl = strrchr(buf, '/');
		if (!sl)
			return false;
		*sl = 0;
	}
}

bool ignore_match(const struct ignore *ig, const char *rel)
{
	bool ignored = false;

	if (!ig)
		return false;
	for (size_t i = 0; i < ig->n; i++) {
		if (match_or_parent(&ig->p[i].re, rel))
			ignored = !ig->p[i].exclude;
	}
	return ignored;
}

void ignore_free(struct ignore *ig)
{
	if (!ig)
		return;
	for (size_t i = 0; i < ig->n; i++)
		regfree(&ig->p[i].re);
	free(ig->p);
	free(ig);
}
