/* npm lock files, for projects shipped without their node_modules tree:
 * package-lock.json (lockfileVersion 1: nested "dependencies"; 2 and 3:
 * flat "packages" keyed by install path), yarn.lock (v1's own format and
 * berry's YAML: "SPECIFIERS:" blocks with a version), pnpm-lock.yaml
 * (lockfileVersion 5: "/name/version", 6: "/name@version(peers)", 9:
 * "name@version" keys under "packages:"). Written from each tool's
 * documentation of its format. When the directory holding the lock file
 * has an installed tree (any package.json under DIR/node_modules/), the
 * tree is what is there and the lock file is not read; nor is one under
 * usr/share/ or usr/lib/ (shipped by a distribution package). Dependencies
 * package-lock.json marks "dev" are left out, as a production install
 * (npm ci --omit=dev) leaves them out; yarn.lock does not mark them.
 *
 * A lock file that is not valid UTF-8 or breaks its format's grammar is
 * CAT_UNPARSED: skipped and counted, never half read. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "scan/cat.h"

#define LOCK_DEPTH 64
#define NAME_MAX_LEN 512

bool cat_is_js_lock(const char *path)
{
	const char *base = strrchr(path, '/');

	base = base ? base + 1 : path;
	if (strstr(path, "node_modules/"))
		return false; /* packages' own lock files, npm's hidden lockfile */
	/* under the OS's trees a lock file came with a distribution package
	 * (its source's lock, not what is installed): the OS cataloger has it */
	if (str_starts(path, "usr/share/") || str_starts(path, "usr/lib/"))
		return false;
	return strcmp(base, "package-lock.json") == 0 || strcmp(base, "yarn.lock") == 0 ||
	       strcmp(base, "pnpm-lock.yaml") == 0;
}

/* An installed tree beside the lock file. */
static bool has_tree(const struct fileset *fs, const char *lock)
{
	const char *slash = strrchr(lock, '/');
	size_t dl = slash ? (size_t)(slash - lock) + 1 : 0;

	for (size_t i = 0; i < fs->n; i++) {
		const char *p = fs->f[i].path;

		if (strncmp(p, lock, dl) == 0 && str_starts(p + dl, "node_modules/") &&
		    str_ends(p, "/package.json"))
			return true;
	}
	return false;
}

/* ------------------------------------------------------------ package-lock.json */

static int npm_v1(struct inventory *inv, const struct kfile *k, const cJSON *deps, int depth,
		  struct err *e)
{
	const cJSON *d;

	if (depth > LOCK_DEPTH)
		return CAT_UNPARSED;
	cJSON_ArrayForEach(d, deps)
	{
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(d, "version");
		const cJSON *sub = cJSON_GetObjectItemCaseSensitive(d, "dependencies");
		int r;

		if (!cJSON_IsObject(d) || !d->string)
			return CAT_UNPARSED;
		if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(d, "dev")))
			continue; /* and what only it needs is dev too */
		if (cat_add(inv, "npm", "npm", d->string, cJSON_IsString(v) ? v->valuestring : NULL,
			    NULL, NULL, k, e) < 0)
			return -1;
		if (sub && (!cJSON_IsObject(sub) || (r = npm_v1(inv, k, sub, depth + 1, e)) != 0))
			return sub && !cJSON_IsObject(sub) ? CAT_UNPARSED : r;
	}
	return 0;
}

static int npm_v2(struct inventory *inv, const struct kfile *k, const cJSON *pkgs, struct err *e)
{
	const cJSON *d;

	cJSON_ArrayForEach(d, pkgs)
	{
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(d, "version");
		const cJSON *n = cJSON_GetObjectItemCaseSensitive(d, "name");
		const char *key = d->string, *nm;

		if (!cJSON_IsObject(d) || !key)
			return CAT_UNPARSED;
		nm = strstr(key, "node_modules/");
		/* "" is the project itself; links point at workspace folders;
		 * dev dependencies are not installed by npm ci --omit=dev */
		if (!nm || cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(d, "link")) ||
		    cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(d, "dev")))
			continue;
		for (const char *q; (q = strstr(nm + 1, "node_modules/"));)
			nm = q;
		if (cat_add(inv, "npm", "npm", cJSON_IsString(n) ? n->valuestring : nm + 13,
			    cJSON_IsString(v) ? v->valuestring : NULL, NULL, NULL, k, e) < 0)
			return -1;
	}
	return 0;
}

static int package_lock(struct inventory *inv, const struct kfile *k, struct err *e)
{
	cJSON *j = cJSON_ParseWithLength(k->data.data, k->data.len);
	const cJSON *pkgs = cJSON_GetObjectItemCaseSensitive(j, "packages");
	const cJSON *deps = cJSON_GetObjectItemCaseSensitive(j, "dependencies");
	int r = CAT_UNPARSED;

	if (cJSON_IsObject(j) && cJSON_IsObject(pkgs))
		r = npm_v2(inv, k, pkgs, e);
	else if (cJSON_IsObject(j) && cJSON_IsObject(deps))
		r = npm_v1(inv, k, deps, 0, e);
	else if (cJSON_IsObject(j) && !pkgs && !deps)
		r = 0; /* a project without dependencies */
	cJSON_Delete(j);
	return r;
}

/* ------------------------------------------------------------ YAML-ish lines */

struct line {
	const char *s; /* content after the indentation */
	size_t n;      /* its length, without the line end and trailing blanks */
	int indent;
};

/* The next line of [*p, end); false at the end. A tab in the indentation
 * is against YAML (and yarn's format): the file does not parse. */
static bool next_line(const char **p, const char *end, struct line *l, bool *bad)
{
	const char *s = *p, *nl;

	if (s >= end)
		return false;
	nl = memchr(s, '\n', (size_t)(end - s));
	*p = nl ? nl + 1 : end;
	l->indent = 0;
	while (s < *p && *s == ' ')
		s++, l->indent++;
	if (s < *p && *s == '\t')
		*bad = true;
	l->s = s;
	l->n = (size_t)((nl ? nl : end) - s);
	while (l->n && (l->s[l->n - 1] == '\r' || l->s[l->n - 1] == ' '))
		l->n--;
	return true;
}

static bool blank(const struct line *l)
{
	return l->n == 0 || l->s[0] == '#';
}

/* Copy a scalar (optionally quoted) into out. */
static void scalar(const char *s, size_t n, char *out, size_t cap)
{
	while (n && *s == ' ')
		s++, n--;
	if (n >= 2 && (s[0] == '"' || s[0] == '\'') && s[n - 1] == s[0])
		s++, n -= 2;
	if (n >= cap)
		n = cap - 1;
	memcpy(out, s, n);
	out[n] = 0;
}

/* The package name of a specifier "name@range" or "@scope/name@range". */
static bool spec_name(const char *spec, char *out, size_t cap)
{
	const char *at = strchr(spec + (spec[0] == '@'), '@');
	size_t n = at ? (size_t)(at - spec) : 0;

	if (!n || n >= cap)
		return false;
	memcpy(out, spec, n);
	out[n] = 0;
	return true;
}

/* ------------------------------------------------------------ yarn.lock */

/* One entry's header "SPEC[, SPEC...]:" -> the name of its first spec;
 * empty for berry's metadata and for workspace, link, portal and patch
 * entries (not packages of the registry, or a copy of one). */
static bool yarn_header(const struct line *l, char *name, size_t cap)
{
	char first[NAME_MAX_LEN];
	size_t n = l->n - 1, c = 0;
	const char *s = l->s;

	if (l->s[l->n - 1] != ':')
		return false;
	while (c < n && s[c] != ',')
		c++;
	/* v1 quotes each spec, berry the whole list: "a@npm:^1, a@npm:^1.1": */
	while (c && (s[c - 1] == '"' || s[c - 1] == ' '))
		c--;
	if (c && *s == '"')
		s++, c--;
	scalar(s, c, first, sizeof(first));
	name[0] = 0;
	if (strcmp(first, "__metadata") == 0 || strstr(first, "@workspace:") ||
	    strstr(first, "@link:") || strstr(first, "@portal:") || strstr(first, "@patch:") ||
	    strstr(first, "@file:"))
		return true;
	return spec_name(first, name, cap);
}

static int yarn_lock(struct inventory *inv, const struct kfile *k, struct err *e)
{
	const char *p = k->data.data, *end = p + k->data.len;
	char name[NAME_MAX_LEN] = "", ver[256] = "";
	bool in = false, bad = false;
	struct line l;

	while (next_line(&p, end, &l, &bad)) {
		if (bad)
			return CAT_UNPARSED;
		if (blank(&l))
			continue;
		if (l.indent == 0) {
			if (in && name[0] &&
			    cat_add(inv, "npm", "npm", name, ver, NULL, NULL, k, e) < 0)
				return -1;
			if (!yarn_header(&l, name, sizeof(name)))
				return CAT_UNPARSED;
			in = true, ver[0] = 0;
			continue;
		}
		if (!in)
			return CAT_UNPARSED;
		/* v1: '  version "1.2.3"'; berry: '  version: 1.2.3' */
		if (l.indent == 2 && l.n > 8 && strncmp(l.s, "version", 7) == 0 &&
		    (l.s[7] == ' ' || l.s[7] == ':'))
			scalar(l.s + 8, l.n - 8, ver, sizeof(ver));
	}
	if (in && name[0] && cat_add(inv, "npm", "npm", name, ver, NULL, NULL, k, e) < 0)
		return -1;
	return 0;
}

/* ------------------------------------------------------------ pnpm-lock.yaml */

/* A key of "packages:" -> name and version, by lock file version:
 * 5 "/name/version[_peers]", 6 "/name@version[(peers)]", 9 "name@version". */
static bool pnpm_key(const char *key, int major, char *name, size_t ncap, char *ver, size_t vcap)
{
	const char *s = key[0] == '/' ? key + 1 : key, *sep;
	size_t n;

	if (major < 6) {
		sep = strrchr(s, '/');
		if (!sep || sep == s)
			return false;
		if (s[0] == '@' && !strchr(s, '/'))
			return false;
	} else {
		sep = strchr(s + (s[0] == '@'), '@');
		if (!sep)
			return false;
	}
	n = (size_t)(sep - s);
	if (n >= ncap)
		return false;
	memcpy(name, s, n);
	name[n] = 0;
	scalar(sep + 1, strcspn(sep + 1, major < 6 ? "_" : "("), ver, vcap);
	return ver[0] != 0;
}

static int pnpm_lock(struct inventory *inv, const struct kfile *k, struct err *e)
{
	const char *p = k->data.data, *end = p + k->data.len;
	int major = -1;
	bool in_pkgs = false, bad = false;
	struct line l;

	while (next_line(&p, end, &l, &bad)) {
		char key[NAME_MAX_LEN], name[NAME_MAX_LEN], ver[256];
		const char *colon;

		if (bad)
			return CAT_UNPARSED;
		if (blank(&l))
			continue;
		colon = memchr(l.s, ':', l.n);
		if (!colon && l.s[0] != '-')
			return CAT_UNPARSED; /* neither "key: value" nor a list item */
		if (l.indent == 0) {
			in_pkgs = l.n == 9 && memcmp(l.s, "packages:", 9) == 0;
			if (str_starts(l.s, "lockfileVersion:")) {
				char v[32];

				scalar(l.s + 16, l.n - 16, v, sizeof(v));
				major = atoi(v);
			}
			continue;
		}
		if (!in_pkgs || l.indent != 2 || l.s[l.n - 1] != ':')
			continue;
		if (major < 0)
			return CAT_UNPARSED; /* packages before the version: not a pnpm lock file */
		scalar(l.s, l.n - 1, key, sizeof(key));
		if (!pnpm_key(key, major, name, sizeof(name), ver, sizeof(ver)))
			continue; /* a tarball or a local folder */
		if (cat_add(inv, "npm", "npm", name, ver, NULL, NULL, k, e) < 0)
			return -1;
	}
	return major < 0 ? CAT_UNPARSED : 0;
}

int cat_js_lock(struct inventory *inv, const struct fileset *fs, const struct kfile *k,
		struct err *e)
{
	size_t first = inv->n;
	int r;

	if (has_tree(fs, k->path))
		return 0;
	/* each format is UTF-8, and never empty (an oversized one is kept empty) */
	if (!k->data.len || !cat_utf8_valid(k->data.data, k->data.len))
		return CAT_UNPARSED;
	if (str_ends(k->path, "package-lock.json"))
		r = package_lock(inv, k, e);
	else if (str_ends(k->path, "yarn.lock"))
		r = yarn_lock(inv, k, e);
	else
		r = pnpm_lock(inv, k, e);
	if (r == CAT_UNPARSED)
		cat_drop(inv, first);
	return r;
}
