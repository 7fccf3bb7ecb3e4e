/* Archives: Java jars (wars, ears; jars nested in them) and Python eggs
 * and wheels are zip files. What the catalogers need from a member is
 * kept as "ARCHIVE!/MEMBER":
 *  - jars: every pom.properties (Maven's own record of group, artifact
 *    and version; a shaded jar holds one per bundled artifact, and not
 *    always under META-INF/maven). Only when a jar holds none: its
 *    META-INF/maven/GROUP/ARTIFACT/pom.xml files and its
 *    META-INF/MANIFEST.MF, the fallbacks, in that order;
 *  - eggs: EGG-INFO/PKG-INFO; wheels: NAME.dist-info/METADATA.
 * An archive that does not open as a zip is no archive after all. */
#include <archive.h>
#include <archive_entry.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/util.h"
#include "scan/cat.h"

#define MEMBER_MAX (1u << 20) /* a kept member (pom.properties, MANIFEST.MF, ...) */

static bool is_jar(const char *p)
{
	return str_ends(p, ".jar") || str_ends(p, ".war") || str_ends(p, ".ear") ||
	       str_ends(p, ".hpi") || str_ends(p, ".jpi");
}

static bool is_py_archive(const char *p)
{
	return str_ends(p, ".egg") || str_ends(p, ".whl");
}

bool cat_is_archive(const char *path)
{
	return is_jar(path) || is_py_archive(path);
}

enum member { M_NONE, M_POMPROPS, M_POMXML, M_MANIFEST, M_PYMETA, M_NESTED };

static enum member member_kind(const char *archive, const char *name, int depth)
{
	const char *base = strrchr(name, '/');

	base = base ? base + 1 : name;
	if (is_py_archive(archive)) {
		if (strcmp(name, "EGG-INFO/PKG-INFO") == 0)
			return M_PYMETA;
		if (strcmp(base, "METADATA") == 0 && (size_t)(base - name) > 11 &&
		    strncmp(base - 11, ".dist-info/", 11) == 0 &&
		    !memchr(name, '/', (size_t)(base - 11 - name)))
			return M_PYMETA;
		return M_NONE;
	}
	if (strcmp(base, "pom.properties") == 0)
		return M_POMPROPS;
	if (strcmp(name, "META-INF/MANIFEST.MF") == 0)
		return M_MANIFEST;
	if (str_starts(name, "META-INF/maven/") && strcmp(base, "pom.xml") == 0)
		return M_POMXML;
	if (is_jar(name) && depth < CAT_ZIP_DEPTH)
		return M_NESTED;
	return M_NONE;
}

/* Read the current member whole into b (capped); 0 when all of it came. */
static int read_member(struct archive *a, struct buf *b, size_t cap, struct err *e)
{
	char chunk[16384];
	la_ssize_t r;

	buf_init(b, cap);
	while ((r = archive_read_data(a, chunk, sizeof(chunk))) > 0)
		if (buf_add(b, chunk, (size_t)r, e) < 0)
			return -1;
	return r == 0 ? 0 : -1;
}

static int keep(struct fileset *fs, const char *path, const struct buf *b, int layer, struct err *e)
{
	struct kfile *k = fileset_add(fs, path, layer, e);

	return !k || buf_add(&k->data, b->data, b->len, e) < 0 ? -1 : 0;
}

/* Move the fallbacks over only when the jar had no pom.properties. */
static int keep_own(struct fileset *fs, struct fileset *own, bool has_props, struct err *e)
{
	for (size_t i = 0; i < own->n; i++) {
		struct kfile *src = &own->f[i], *k;

		if (has_props && !str_ends(src->path, "/pom.properties") &&
		    !str_ends(src->path, "!/pom.properties"))
			continue;
		if (!(k = fileset_add(fs, "", src->layer, e)))
			return -1;
		free(k->path);
		*k = *src;
		memset(src, 0, sizeof(*src));
		src->data = (struct buf)BUF_INIT;
	}
	return 0;
}

int cat_zip(struct fileset *fs, const char *path, const void *p, size_t n, int layer, int depth,
	    struct err *e)
{
	struct archive *a = archive_read_new();
	struct archive_entry *ent;
	struct fileset own = {0};
	bool has_props = false;
	int r = 0;

	if (!a)
		return err_oom(e);
	archive_read_support_format_zip(a);
	if (archive_read_open_memory(a, p, n) != ARCHIVE_OK) {
		archive_read_free(a);
		return 0; /* not a zip: not an archive after all */
	}
	int hr;
	/* ARCHIVE_WARN: a name libarchive could not convert to the locale
	 * (bosun never sets one, so any non-ASCII UTF-8 name); the entries
	 * after it still count. Such a name reads as NULL and is skipped:
	 * what a jar is known by (pom.properties, MANIFEST.MF, nested .jar)
	 * has ASCII names. */
	while (r == 0 && ((hr = archive_read_next_header(a, &ent)) == ARCHIVE_OK || hr == ARCHIVE_WARN)) {
		const char *name = archive_entry_pathname(ent);
		enum member m = name ? member_kind(path, name, depth) : M_NONE;
		struct buf b = BUF_INIT;
		char vpath[4096];

		if (m == M_NONE || archive_entry_filetype(ent) != AE_IFREG)
			continue;
		snprintf(vpath, sizeof(vpath), "%s!/%s", path, name);
		if (read_member(a, &b, m == M_NESTED ? CAT_ZIP_MAX : MEMBER_MAX, e) == 0) {
			if (m == M_NESTED)
				r = cat_zip(fs, vpath, b.data, b.len, layer, depth + 1, e);
			else if (m == M_PYMETA)
				r = keep(fs, vpath, &b, layer, e);
			else
				r = keep(&own, vpath, &b, layer, e);
			has_props |= m == M_POMPROPS;
		} else if (e->code != ERR_INTERNAL) {
			err_clear(e); /* a damaged or oversized member: skipped */
		} else {
			r = -1;
		}
		buf_free(&b);
	}
	archive_read_free(a);
	if (r == 0)
		r = keep_own(fs, &own, has_props, e);
	fileset_free(&own);
	return r;
}

/* ------------------------------------------------------------ catalogers */

/* "key=value" or "key: value" (java.util.Properties), in out. */
static bool prop(const char *s, const char *end, const char *key, char *out, size_t cap)
{
	size_t kl = strlen(key);

	for (const char *l = s; l < end;) {
		const char *nl = memchr(l, '\n', (size_t)(end - l));
		const char *le = nl ? nl : end, *v = l;

		while (v < le && (*v == ' ' || *v == '\t'))
			v++;
		if ((size_t)(le - v) > kl && strncmp(v, key, kl) == 0) {
			v += kl;
			while (v < le && (*v == ' ' || *v == '\t'))
				v++;
			if (v < le && (*v == '=' || *v == ':')) {
				cat_copy_value(v + 1, le, out, cap);
				return true;
			}
		}
		l = le + 1;
	}
	out[0] = 0;
	return false;
}

int cat_pom(struct inventory *inv, const struct kfile *k, struct err *e)
{
	char g[256], a[256], v[128], name[520];
	const char *s = k->data.data, *end = s + k->data.len;

	if (!prop(s, end, "groupId", g, sizeof(g)) || !prop(s, end, "artifactId", a, sizeof(a)) ||
	    !g[0] || !a[0])
		return 0;
	prop(s, end, "version", v, sizeof(v));
	snprintf(name, sizeof(name), "%s:%s", g, a);
	return cat_add(inv, "maven", "Maven", name, v, NULL, NULL, k, e);
}

/* A main-section attribute of a manifest (continuation lines start with
 * one space). */
static bool mf_attr(const char *s, const char *end, const char *key, char *out, size_t cap)
{
	size_t kl = strlen(key), n = 0;

	out[0] = 0;
	for (const char *l = s; l < end;) {
		const char *nl = memchr(l, '\n', (size_t)(end - l));
		const char *le = nl ? nl : end;

		if (le == l || (le == l + 1 && *l == '\r'))
			return false; /* end of the main section */
		if ((size_t)(le - l) > kl + 1 && strncasecmp(l, key, kl) == 0 && l[kl] == ':') {
			for (const char *v = l + kl + 1;;) {
				size_t k;

				while (v < le && *v == ' ' && n == 0)
					v++;
				k = (size_t)(le - v);
				if (k && v[k - 1] == '\r')
					k--;
				if (n + k >= cap)
					k = cap - 1 - n;
				memcpy(out + n, v, k);
				n += k;
				out[n] = 0;
				if (le >= end || le + 1 >= end || le[1] != ' ')
					return n > 0;
				v = le + 2; /* continuation */
				nl = memchr(v, '\n', (size_t)(end - v));
				le = nl ? nl : end;
			}
		}
		l = le + 1;
	}
	return false;
}

/* The file name of the innermost archive of "a.war!/WEB-INF/lib/b.jar!/M". */
static void archive_base(const char *path, char *out, size_t cap)
{
	const char *end = strstr(path, "!/"), *start = path;

	for (const char *q; end && (q = strstr(end + 2, "!/"));)
		start = end + 2, end = q;
	if (!end)
		end = path + strlen(path);
	for (const char *q = start; q < end; q++)
		if (*q == '/')
			start = q + 1;
	snprintf(out, cap, "%.*s", (int)(end - start), start);
}

int cat_manifest(struct inventory *inv, const struct fileset *fs, const struct kfile *k,
		 struct err *e)
{
	const char *s = k->data.data, *end = s + k->data.len;
	size_t jl = strlen(k->path) - strlen("META-INF/MANIFEST.MF");
	char ver[128], group[256], art[256], name[520], file[256];
	size_t fl;

	/* pom.xml data of the same jar wins */
	for (size_t i = 0; i < fs->n; i++)
		if (strncmp(fs->f[i].path, k->path, jl) == 0 &&
		    str_starts(fs->f[i].path + jl, "META-INF/maven/") &&
		    !strstr(fs->f[i].path + jl, "!/"))
			return 0;
	if (!mf_attr(s, end, "Implementation-Version", ver, sizeof(ver)) &&
	    !mf_attr(s, end, "Bundle-Version", ver, sizeof(ver)))
		mf_attr(s, end, "Specification-Version", ver, sizeof(ver));
	archive_base(k->path, file, sizeof(file));
	fl = strlen(file);
	if (fl > 4)
		file[fl -= 4] = 0; /* ".jar" */
	/* the artifact: the file name without "-VERSION", else the title */
	if (ver[0] && fl > strlen(ver) + 1 && str_ends(file, ver) &&
	    file[fl - strlen(ver) - 1] == '-')
		snprintf(art, sizeof(art), "%.*s", (int)(fl - strlen(ver) - 1), file);
	else if (!mf_attr(s, end, "Implementation-Title", art, sizeof(art)))
		snprintf(art, sizeof(art), "%s", file);
	if (!mf_attr(s, end, "Implementation-Vendor-Id", group, sizeof(group))) {
		char sym[256];
		size_t al = strlen(art), sl;

		/* "com.example.thing" of artifact "thing": group "com.example" */
		if (mf_attr(s, end, "Bundle-SymbolicName", sym, sizeof(sym))) {
			sym[strcspn(sym, ";")] = 0;
			sl = strlen(sym);
			if (sl > al + 1 && str_ends(sym, art) && sym[sl - al - 1] == '.')
				snprintf(group, sizeof(group), "%.*s", (int)(sl - al - 1), sym);
		}
	}
	if (!art[0])
		return 0;
	/* OSV's Maven names are GROUP:ARTIFACT: without a group, no matching */
	if (group[0])
		snprintf(name, sizeof(name), "%s:%s", group, art);
	else
		snprintf(name, sizeof(name), "%s", art);
	return cat_add(inv, "maven", group[0] ? "Maven" : "", name, ver, NULL, NULL, k, e);
}

/* The project's own <version> (not its parent's, not a dependency's). */
static void pom_version(const char *s, char *out, size_t cap, char *parent, size_t pcap)
{
	const char *p = strstr(s, "<parent>"), *pe = p ? strstr(p, "</parent>") : NULL;
	static const char *const stops[] = {"<dependencies>", "<dependencyManagement>",
					    "<build>",	      "<profiles>",
					    "<reporting>",    "<modules>"};
	const char *lim = s + strlen(s);

	out[0] = parent[0] = 0;
	if (p && pe) {
		const char *v = strstr(p, "<version>");

		if (v && v < pe)
			snprintf(parent, pcap, "%.*s", (int)strcspn(v + 9, "<"), v + 9);
	}
	for (size_t i = 0; i < ARRAY_SIZE(stops); i++) {
		const char *q = strstr(pe ? pe : s, stops[i]);

		if (q && q < lim)
			lim = q;
	}
	for (const char *v = strstr(s, "<version>"); v && v < lim; v = strstr(v + 1, "<version>")) {
		if (p && pe && v > p && v < pe)
			continue;
		snprintf(out, cap, "%.*s", (int)strcspn(v + 9, "<"), v + 9);
		return;
	}
}

int cat_pom_xml(struct inventory *inv, const struct fileset *fs, const struct kfile *k,
		struct err *e)
{
	const char *m = strstr(k->path, "!/META-INF/maven/");
	const char *g, *a, *ae;
	char name[520], ver[128], parent[128], mfpath[4096];
	const struct kfile *mf;

	while (m && strstr(m + 1, "!/META-INF/maven/"))
		m = strstr(m + 1, "!/META-INF/maven/");
	if (!m)
		return 0;
	g = m + strlen("!/META-INF/maven/");
	a = strchr(g, '/');
	ae = a ? strchr(a + 1, '/') : NULL;
	if (!a || !ae || a == g || ae == a + 1 || strcmp(ae, "/pom.xml") != 0)
		return 0;
	snprintf(name, sizeof(name), "%.*s:%.*s", (int)(a - g), g, (int)(ae - a - 1), a + 1);
	/* the version: the manifest's (a released jar's), else the pom's own
	 * when it is a literal, else the parent's it inherits */
	snprintf(mfpath, sizeof(mfpath), "%.*s!/META-INF/MANIFEST.MF", (int)(m - k->path), k->path);
	mf = cat_find(fs, mfpath);
	ver[0] = 0;
	if (mf && !mf_attr(mf->data.data, mf->data.data + mf->data.len, "Implementation-Version",
			   ver, sizeof(ver)))
		mf_attr(mf->data.data, mf->data.data + mf->data.len, "Bundle-Version", ver,
			sizeof(ver));
	if (!ver[0]) {
		pom_version(k->data.data, ver, sizeof(ver), parent, sizeof(parent));
		if (!ver[0] || strstr(ver, "${"))
			snprintf(ver, sizeof(ver), "%s", strstr(parent, "${") ? "" : parent);
	}
	return cat_add(inv, "maven", "Maven", name, ver, NULL, NULL, k, e);
}
