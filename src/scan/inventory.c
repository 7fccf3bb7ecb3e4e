#include <archive.h>
#include <archive_entry.h>
#include <pthread.h>
#include <cjson/cJSON.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/fs.h"
#include "core/log.h"
#include "core/util.h"
#include "oci/archive.h"
#include "oci/tar.h"
#include "core/utf8.h"
#include "oci/layer.h"
#include "oci/layout.h"
#include "oci/manifest.h"
#include "registry/image.h"
#include "registry/location.h"
#include "scan/inventory.h"
#include "scan/layercache.h"
#include "scan/rpmdb.h"

#define JAR_MAX (256u << 20)    /* jars are opened in memory up to this size */
#define GOINFO_MAX (256u << 10) /* bytes kept after the Go build info magic */

static const char go_magic[] = "\xff Go buildinf:";
#define GO_MAGIC_LEN 14

static void fileset_remove_at(struct fileset *fs, size_t i)
{
	free(fs->f[i].path);
	buf_free(&fs->f[i].data);
	fs->f[i] = fs->f[--fs->n];
}

/* Remove lower-layer entries at path (and below it when tree). */
static void fileset_remove(struct fileset *fs, const char *path, bool tree, int below_layer)
{
	size_t pl = strlen(path);

	for (size_t i = 0; i < fs->n;) {
		const char *p = fs->f[i].path;
		bool hit = strcmp(p, path) == 0 ||
			   (tree && (pl == 0 || (strncmp(p, path, pl) == 0 && (p[pl] == '/' || (p[pl] == '!' && p[pl + 1] == '/')))));

		if (hit && fs->f[i].layer < below_layer)
			fileset_remove_at(fs, i);
		else
			i++;
	}
}

/* Normalise a member name: no "./", no leading "/", no trailing "/". */
static void norm_path(const char *in, char *out, size_t cap)
{
	size_t n;

	while (in[0] == '.' && in[1] == '/')
		in += 2;
	while (*in == '/')
		in++;
	n = strlen(in);
	if (n >= cap)
		n = cap - 1;
	memcpy(out, in, n);
	while (n && out[n - 1] == '/')
		n--;
	out[n] = 0;
}

static bool is_jar(const char *p)
{
	return str_ends(p, ".jar") || str_ends(p, ".war") || str_ends(p, ".ear");
}

/* Files some cataloger reads. */
static bool needed(const char *p)
{
	static const char *const exact[] = { "etc/os-release", "usr/lib/os-release", "etc/debian_version",
					     "etc/alpine-release", "etc/redhat-release", "etc/centos-release",
					     "etc/fedora-release", "etc/system-release", "var/lib/dpkg/status",
					     "lib/apk/db/installed", "var/lib/rpm/rpmdb.sqlite", "var/lib/rpm/Packages",
					     "usr/lib/sysimage/rpm/rpmdb.sqlite" };
	const char *base = strrchr(p, '/');

	base = base ? base + 1 : p;
	for (size_t i = 0; i < ARRAY_SIZE(exact); i++)
		if (strcmp(p, exact[i]) == 0)
			return true;
	if (str_starts(p, "var/lib/dpkg/status.d/") && !strchr(p + 22, '/') && !str_ends(p, ".md5sums"))
		return true;
	if (strcmp(base, "METADATA") == 0 && strstr(p, ".dist-info/"))
		return true;
	if (strcmp(base, "PKG-INFO") == 0 && strstr(p, ".egg-info/"))
		return true;
	if (str_ends(p, ".egg-info") && !strchr(base, '/'))
		return true; /* egg-info as a single file */
	if (strcmp(base, "package.json") == 0 && strstr(p, "node_modules/"))
		return true;
	if (strcmp(base, "Cargo.lock") == 0)
		return true;
	return false;
}

/* Go build info (Go 1.18+ inline form): magic, ptr size, flags; at 32 two
 * varint-prefixed strings: the Go version and the module info. */
static int varint(const unsigned char **p, const unsigned char *end, uint64_t *v)
{
	int shift = 0;

	*v = 0;
	while (*p < end && shift < 63) {
		unsigned char c = *(*p)++;

		*v |= (uint64_t)(c & 0x7f) << shift;
		if (!(c & 0x80))
			return 0;
		shift += 7;
	}
	return -1;
}

/* Streams bytes of an executable looking for the build info. */
struct goscan {
	bool elf_checked, is_exec, found, done;
	unsigned char carry[GO_MAGIC_LEN];
	size_t ncarry;
	struct buf info;
};

static void goscan_init(struct goscan *g)
{
	memset(g, 0, sizeof(*g));
	buf_init(&g->info, GOINFO_MAX + 64);
}

static void goscan_feed(struct goscan *g, const unsigned char *p, size_t n)
{
	struct err e = ERR_INIT;

	if (g->done || !n)
		return;
	if (!g->elf_checked) {
		g->elf_checked = true;
		g->is_exec = n >= 4 && memcmp(p, "\x7f" "ELF", 4) == 0;
		if (!g->is_exec) {
			g->done = true;
			return;
		}
	}
	if (g->found) {
		size_t room = GOINFO_MAX - g->info.len;

		if (n > room)
			n = room;
		buf_add(&g->info, p, n, &e);
		if (g->info.len >= GOINFO_MAX)
			g->done = true;
		return;
	}
	/* the magic may straddle two reads: look at carry + head first */
	if (g->ncarry) {
		unsigned char tmp[2 * GO_MAGIC_LEN];
		size_t h = n < GO_MAGIC_LEN ? n : GO_MAGIC_LEN;
		unsigned char *m;

		memcpy(tmp, g->carry, g->ncarry);
		memcpy(tmp + g->ncarry, p, h);
		m = memmem(tmp, g->ncarry + h, go_magic, GO_MAGIC_LEN);
		if (m) {
			size_t off = (size_t)(m - tmp);

			g->found = true;
			buf_add(&g->info, tmp + off, g->ncarry - off, &e);
			goscan_feed(g, p, n);
			return;
		}
	}
	{
		unsigned char *m = memmem(p, n, go_magic, GO_MAGIC_LEN);

		if (m) {
			g->found = true;
			goscan_feed(g, m, n - (size_t)(m - p));
			return;
		}
	}
	g->ncarry = n < GO_MAGIC_LEN - 1 ? n : GO_MAGIC_LEN - 1;
	memcpy(g->carry, p + n - g->ncarry, g->ncarry);
}

/* ------------------------------------------------------------ catalogers */

static int add_pkg(struct inventory *inv, const char *type, const char *eco, const char *name, const char *ver,
		   const char *src, const char *srcver, const char *path, int layer, struct err *e)
{
	struct pkg *p;

	if (!name || !*name || !ver || !*ver)
		return 0;
	if (inv->n == inv->alloc) {
		size_t na = inv->alloc ? inv->alloc * 2 : 64;
		struct pkg *np = realloc(inv->pkgs, na * sizeof(*np));

		if (!np)
			return err_set(e, ERR_INTERNAL, "out of memory");
		inv->pkgs = np, inv->alloc = na;
	}
	p = &inv->pkgs[inv->n];
	memset(p, 0, sizeof(*p));
	p->name = strndup(name, 256);
	p->version = strndup(ver, 256);
	p->src_name = strndup(src && *src ? src : name, 256);
	p->src_version = strndup(srcver && *srcver ? srcver : ver, 256);
	p->type = strdup(type);
	p->ecosystem = strdup(eco ? eco : "");
	p->path = strndup(path, 1024);
	p->layer = layer;
	p->from_base = layer >= 0 && (size_t)layer < inv->n_base;
	inv->n++;
	if (!p->name || !p->version || !p->src_name || !p->src_version || !p->type || !p->ecosystem || !p->path)
		return err_set(e, ERR_INTERNAL, "out of memory");
	return 0;
}

/* "Key: value" in an RFC 822 style paragraph [s, end). Copies into out. */
static bool field(const char *s, const char *end, const char *key, char *out, size_t cap)
{
	size_t kl = strlen(key);

	for (const char *l = s; l < end;) {
		const char *nl = memchr(l, '\n', (size_t)(end - l));
		const char *le = nl ? nl : end;

		if ((size_t)(le - l) > kl && strncasecmp(l, key, kl) == 0 && l[kl] == ':') {
			const char *v = l + kl + 1;
			size_t n;

			while (v < le && (*v == ' ' || *v == '\t'))
				v++;
			n = (size_t)(le - v);
			while (n && (v[n - 1] == '\r' || v[n - 1] == ' '))
				n--;
			if (n >= cap)
				n = cap - 1;
			memcpy(out, v, n);
			out[n] = 0;
			return true;
		}
		l = le + 1;
	}
	out[0] = 0;
	return false;
}

static int cat_dpkg(struct inventory *inv, const struct kfile *k, struct err *e)
{
	const char *s = k->data.data, *end = s + k->data.len;
	bool statusd = strstr(k->path, "status.d/") != NULL;

	while (s < end) {
		const char *pe = strstr(s, "\n\n");
		char name[256], ver[256], src[512], status[128], srcver[256] = "";

		pe = pe ? pe + 1 : end;
		field(s, pe, "Package", name, sizeof(name));
		field(s, pe, "Version", ver, sizeof(ver));
		field(s, pe, "Source", src, sizeof(src));
		/* deinstalled and half-removed entries are not there */
		if (field(s, pe, "Status", status, sizeof(status)) ? (strstr(status, " installed") != NULL) : statusd) {
			char *paren = strchr(src, '(');

			if (paren) {
				char *close = strchr(paren, ')');

				if (close) {
					size_t n = (size_t)(close - paren - 1);

					if (n >= sizeof(srcver))
						n = sizeof(srcver) - 1;
					memcpy(srcver, paren + 1, n);
					srcver[n] = 0;
				}
				while (paren > src && paren[-1] == ' ')
					paren--;
				*paren = 0;
			}
			if (add_pkg(inv, "deb", inv->os.ecosystem, name, ver, src, srcver, k->path, k->layer, e) < 0)
				return -1;
		}
		s = pe;
		while (s < end && *s == '\n')
			s++;
	}
	return 0;
}

static int cat_apk(struct inventory *inv, const struct kfile *k, struct err *e)
{
	const char *s = k->data.data, *end = s + k->data.len;

	while (s < end) {
		const char *pe = strstr(s, "\n\n");
		char name[256], ver[256], origin[256];

		pe = pe ? pe + 1 : end;
		/* apk fields are one letter, case-sensitive: P name, V version, o origin */
		name[0] = ver[0] = origin[0] = 0;
		for (const char *l = s; l < pe;) {
			const char *nl = memchr(l, '\n', (size_t)(pe - l));
			const char *le = nl ? nl : pe;
			size_t n = le > l + 2 ? (size_t)(le - l - 2) : 0;
			char *dst = NULL;

			if (le - l >= 2 && l[1] == ':') {
				if (l[0] == 'P')
					dst = name;
				else if (l[0] == 'V')
					dst = ver;
				else if (l[0] == 'o')
					dst = origin;
			}
			if (dst) {
				if (n > 255)
					n = 255;
				memcpy(dst, l + 2, n);
				dst[n] = 0;
			}
			l = le + 1;
		}
		if (add_pkg(inv, "apk", inv->os.ecosystem, name, ver, origin, ver, k->path, k->layer, e) < 0)
			return -1;
		s = pe;
		while (s < end && *s == '\n')
			s++;
	}
	return 0;
}

struct rpm_ctx {
	struct inventory *inv;
	const struct kfile *k;
};

static int rpm_one(void *ctx, const struct rpm_pkg *p, struct err *e)
{
	struct rpm_ctx *c = ctx;
	char ver[300], src[256] = "", srcver[256] = "";

	/* gpg-pubkey entries are keys, not software */
	if (strcmp(p->name, "gpg-pubkey") == 0)
		return 0;
	if (p->epoch > 0)
		snprintf(ver, sizeof(ver), "%lld:%s%s%s", (long long)p->epoch, p->version, p->release[0] ? "-" : "", p->release);
	else
		snprintf(ver, sizeof(ver), "%s%s%s", p->version, p->release[0] ? "-" : "", p->release);
	/* the source rpm carries no epoch: the binary's applies */
	if (p->sourcerpm[0] && rpm_split_srpm(p->sourcerpm, src, sizeof(src), srcver, sizeof(srcver)) == 0 && p->epoch > 0) {
		char tmp[256];

		snprintf(tmp, sizeof(tmp), "%lld:%s", (long long)p->epoch, srcver);
		snprintf(srcver, sizeof(srcver), "%s", tmp);
	}
	return add_pkg(c->inv, "rpm", c->inv->os.ecosystem, p->name, ver, src, srcver[0] ? srcver : ver, c->k->path,
		       c->k->layer, e);
}

static int cat_rpm(struct inventory *inv, const struct kfile *k, struct err *e)
{
	struct rpm_ctx c = { inv, k };
	long skipped = 0;

	if ((str_ends(k->path, "/Packages") ? rpmdb_bdb_read : rpmdb_sqlite_read)(k->data.data, k->data.len, rpm_one, &c,
										    &skipped, e) < 0)
		return -1;
	if (skipped)
		log_warn("%s: %ld damaged package header%s skipped", k->path, skipped, skipped == 1 ? "" : "s");
	return 0;
}

static int cat_go(struct inventory *inv, const struct kfile *k, struct err *e)
{
	const unsigned char *p = (const unsigned char *)k->data.data, *end = p + k->data.len;
	uint64_t vl, ml;
	char gover[64];
	const char *mod, *mend;

	if (k->data.len < 32 || !(p[15] & 2))
		return 0; /* pre-1.18 pointer form: not supported */
	p += 32;
	if (varint(&p, end, &vl) < 0 || vl >= sizeof(gover) || vl > (uint64_t)(end - p))
		return 0;
	memcpy(gover, p, vl);
	gover[vl] = 0;
	p += vl;
	gover[strcspn(gover, " ")] = 0; /* "go1.22.1 X:boringcrypto" */
	if (str_starts(gover, "go") && add_pkg(inv, "stdlib", "Go", "stdlib", gover + 2, NULL, NULL, k->path, k->layer, e) < 0)
		return -1;
	if (varint(&p, end, &ml) < 0 || ml > (uint64_t)(end - p) || ml < 33)
		return 0;
	/* module info sits between two 16-byte sentinels */
	mod = (const char *)p + 16;
	mend = (const char *)p + ml - 16;
	for (const char *l = mod; l < mend;) {
		const char *nl = memchr(l, '\n', (size_t)(mend - l));
		const char *le = nl ? nl : mend;
		char line[1024], *f[4] = { 0 }, *save = NULL;
		size_t n = (size_t)(le - l);
		int nf = 0;

		if (n >= sizeof(line))
			n = sizeof(line) - 1;
		memcpy(line, l, n);
		line[n] = 0;
		for (char *t = strtok_r(line, "\t", &save); t && nf < 4; t = strtok_r(NULL, "\t", &save))
			f[nf++] = t;
		if (nf >= 3 && strcmp(f[0], "dep") == 0) {
			if (add_pkg(inv, "go-module", "Go", f[1], f[2], NULL, NULL, k->path, k->layer, e) < 0)
				return -1;
		} else if (nf >= 3 && strcmp(f[0], "=>") == 0 && inv->n && strcmp(inv->pkgs[inv->n - 1].type, "go-module") == 0) {
			/* a replacement stands in for the module before it */
			struct pkg *last = &inv->pkgs[inv->n - 1];
			char *nn = strdup(f[1]), *nv = strdup(f[2]);

			if (!nn || !nv) {
				free(nn), free(nv);
				return err_set(e, ERR_INTERNAL, "out of memory");
			}
			free(last->name), free(last->src_name), free(last->version), free(last->src_version);
			last->name = nn, last->version = nv;
			last->src_name = strdup(nn), last->src_version = strdup(nv);
		} else if (nf >= 3 && strcmp(f[0], "mod") == 0 && strcmp(f[2], "(devel)") != 0) {
			if (add_pkg(inv, "go-module", "Go", f[1], f[2], NULL, NULL, k->path, k->layer, e) < 0)
				return -1;
		}
		l = le + 1;
	}
	return 0;
}

static int cat_python(struct inventory *inv, const struct kfile *k, struct err *e)
{
	char name[256], ver[128];
	const char *end = k->data.data + k->data.len;
	const char *hdr_end = strstr(k->data.data, "\n\n");

	if (!field(k->data.data, hdr_end ? hdr_end : end, "Name", name, sizeof(name)) ||
	    !field(k->data.data, hdr_end ? hdr_end : end, "Version", ver, sizeof(ver)))
		return 0;
	/* PEP 503 normalised name, as OSV's PyPI records use */
	for (char *c = name; *c; c++)
		*c = (*c == '_' || *c == '.') ? '-' : (char)tolower((unsigned char)*c);
	return add_pkg(inv, "python", "PyPI", name, ver, NULL, NULL, k->path, k->layer, e);
}

static int cat_npm(struct inventory *inv, const struct kfile *k, struct err *e)
{
	cJSON *j = cJSON_ParseWithLength(k->data.data, k->data.len);
	const cJSON *n = cJSON_GetObjectItemCaseSensitive(j, "name"), *v = cJSON_GetObjectItemCaseSensitive(j, "version");
	int r = 0;

	if (cJSON_IsString(n) && cJSON_IsString(v))
		r = add_pkg(inv, "npm", "npm", n->valuestring, v->valuestring, NULL, NULL, k->path, k->layer, e);
	cJSON_Delete(j);
	return r;
}

static int cat_cargo(struct inventory *inv, const struct kfile *k, struct err *e)
{
	const char *s = k->data.data;
	char name[256] = "", ver[128] = "";

	for (const char *l = s; *l;) {
		const char *nl = strchr(l, '\n');
		size_t n = nl ? (size_t)(nl - l) : strlen(l);

		if (n >= 9 && strncmp(l, "[[package]]", 11) == 0) {
			if (add_pkg(inv, "cargo", "crates.io", name, ver, NULL, NULL, k->path, k->layer, e) < 0)
				return -1;
			name[0] = ver[0] = 0;
		} else if (strncmp(l, "name = \"", 8) == 0 || strncmp(l, "version = \"", 11) == 0) {
			bool isname = l[0] == 'n';
			const char *v = l + (isname ? 8 : 11);
			const char *q = memchr(v, '"', n - (size_t)(v - l));
			char *dst = isname ? name : ver;
			size_t cap = isname ? sizeof(name) : sizeof(ver);

			if (q && (size_t)(q - v) < cap) {
				memcpy(dst, v, (size_t)(q - v));
				dst[q - v] = 0;
			}
		}
		l = nl ? nl + 1 : l + n;
	}
	return add_pkg(inv, "cargo", "crates.io", name, ver, NULL, NULL, k->path, k->layer, e);
}

static int cat_pom(struct inventory *inv, const struct kfile *k, struct err *e)
{
	char g[256], a[256], v[128], name[520];
	const char *end = k->data.data + k->data.len;

	/* pom.properties is key=value; reuse the "Key: value" reader on a copy */
	struct buf b = BUF_INIT;
	int r = 0;

	if (buf_add(&b, k->data.data, k->data.len, e) < 0)
		return -1;
	for (size_t i = 0; i < b.len; i++)
		if (b.data[i] == '=')
			b.data[i] = ':';
	(void)end;
	if (field(b.data, b.data + b.len, "groupId", g, sizeof(g)) && field(b.data, b.data + b.len, "artifactId", a, sizeof(a)) &&
	    field(b.data, b.data + b.len, "version", v, sizeof(v))) {
		snprintf(name, sizeof(name), "%s:%s", g, a);
		r = add_pkg(inv, "maven", "Maven", name, v, NULL, NULL, k->path, k->layer, e);
	}
	buf_free(&b);
	return r;
}

static const struct kfile *find(const struct fileset *fs, const char *path)
{
	for (size_t i = 0; i < fs->n; i++)
		if (strcmp(fs->f[i].path, path) == 0)
			return &fs->f[i];
	return NULL;
}

static void kv(const char *data, const char *key, char *out, size_t cap)
{
	size_t kl = strlen(key);

	out[0] = 0;
	for (const char *l = data; l && *l;) {
		if (strncmp(l, key, kl) == 0 && l[kl] == '=') {
			const char *v = l + kl + 1;
			size_t n = strcspn(v, "\n");

			if (*v == '"' || *v == '\'')
				v++, n = n >= 2 ? n - 2 : 0;
			if (n >= cap)
				n = cap - 1;
			memcpy(out, v, n);
			out[n] = 0;
			return;
		}
		l = strchr(l, '\n');
		if (l)
			l++;
	}
}

/* An Ubuntu release is LTS when os-release's VERSION says so ("22.04.4 LTS
 * (Jammy Jellyfish)"); without VERSION, by Canonical's rule: the April
 * release of an even year. */
static bool ubuntu_lts(const char *version_id, const char *version)
{
	unsigned yy, mm;
	char end;

	if (version[0])
		return strstr(version, "LTS") != NULL;
	return sscanf(version_id, "%2u.%2u%c", &yy, &mm, &end) == 2 && yy % 2 == 0 && mm == 4;
}

static void detect_os(struct inventory *inv, const struct fileset *fs)
{
	const struct kfile *k = find(fs, "etc/os-release");
	struct os_info *os = &inv->os;
	char version[128] = "";

	if (!k)
		k = find(fs, "usr/lib/os-release");
	if (k) {
		kv(k->data.data, "ID", os->id, sizeof(os->id));
		kv(k->data.data, "VERSION_ID", os->version_id, sizeof(os->version_id));
		kv(k->data.data, "PRETTY_NAME", os->pretty, sizeof(os->pretty));
		kv(k->data.data, "VERSION", version, sizeof(version));
	}
	if (!os->id[0] && (k = find(fs, "etc/alpine-release")))
		snprintf(os->id, sizeof(os->id), "alpine");
	if (!os->id[0] && (k = find(fs, "etc/debian_version")))
		snprintf(os->id, sizeof(os->id), "debian");
	if (!os->id[0] && ((k = find(fs, "etc/redhat-release")) || (k = find(fs, "etc/centos-release")) ||
			   (k = find(fs, "etc/fedora-release")))) {
		const char *p = strstr(k->data.data, "release ");

		snprintf(os->id, sizeof(os->id), "rhel");
		if (p)
			snprintf(os->version_id, sizeof(os->version_id), "%.*s", (int)strcspn(p + 8, " \n"), p + 8);
	}
	if (strcmp(os->id, "alpine") == 0 && (k = find(fs, "etc/alpine-release")) && !os->version_id[0])
		snprintf(os->version_id, sizeof(os->version_id), "%.*s", (int)strcspn(k->data.data, "\n"), k->data.data);
	if (strcmp(os->id, "debian") == 0 && !os->version_id[0] && (k = find(fs, "etc/debian_version")))
		snprintf(os->version_id, sizeof(os->version_id), "%.*s", (int)strcspn(k->data.data, ".\n"), k->data.data);
	if (strcmp(os->id, "debian") == 0)
		snprintf(os->ecosystem, sizeof(os->ecosystem), "Debian:%.*s", (int)strcspn(os->version_id, "."),
			 os->version_id);
	else if (strcmp(os->id, "alpine") == 0) {
		const char *d1 = strchr(os->version_id, '.');
		int n = d1 ? (int)(strcspn(d1 + 1, ".") + (size_t)(d1 - os->version_id) + 1) : (int)strlen(os->version_id);

		snprintf(os->ecosystem, sizeof(os->ecosystem), "Alpine:v%.*s", n, os->version_id);
	} else if (strcmp(os->id, "ubuntu") == 0)
		/* OSV names a long-term-support release "Ubuntu:22.04:LTS", any other "Ubuntu:23.10" */
		snprintf(os->ecosystem, sizeof(os->ecosystem), "Ubuntu:%s%s", os->version_id,
			 ubuntu_lts(os->version_id, version) ? ":LTS" : "");
	else if (strcmp(os->id, "rocky") == 0 || strcmp(os->id, "almalinux") == 0 || strcmp(os->id, "rhel") == 0)
		/* OSV: "Rocky Linux:9", "AlmaLinux:9", Red Hat by major version */
		snprintf(os->ecosystem, sizeof(os->ecosystem), "%s:%.*s",
			 os->id[0] == 'r' && os->id[1] == 'o' ? "Rocky Linux" : os->id[0] == 'a' ? "AlmaLinux" : "Red Hat",
			 (int)strcspn(os->version_id, "."), os->version_id);
	else if (strcmp(os->id, "mariner") == 0 || strcmp(os->id, "azurelinux") == 0)
		snprintf(os->ecosystem, sizeof(os->ecosystem), "%s:%s", os->id[0] == 'm' ? "Mariner" : "Azure Linux",
			 os->version_id);
	else if (strcmp(os->id, "opensuse-leap") == 0)
		snprintf(os->ecosystem, sizeof(os->ecosystem), "openSUSE:Leap %s", os->version_id);
	else if (os->id[0])
		snprintf(os->ecosystem, sizeof(os->ecosystem), "%s:%s", os->id, os->version_id);
}

static int catalog(struct inventory *inv, const struct fileset *fs, struct err *e)
{
	detect_os(inv, fs);
	for (size_t i = 0; i < fs->n; i++) {
		const struct kfile *k = &fs->f[i];
		const char *base = strrchr(k->path, '/');
		int r = 0;

		base = base ? base + 1 : k->path;
		if (k->goinfo)
			r = cat_go(inv, k, e);
		else if (strcmp(k->path, "var/lib/dpkg/status") == 0 || str_starts(k->path, "var/lib/dpkg/status.d/"))
			r = cat_dpkg(inv, k, e);
		else if (strcmp(k->path, "lib/apk/db/installed") == 0)
			r = cat_apk(inv, k, e);
		else if (strcmp(base, "rpmdb.sqlite") == 0 || strcmp(k->path, "var/lib/rpm/Packages") == 0)
			r = cat_rpm(inv, k, e);
		else if (strcmp(base, "METADATA") == 0 || strcmp(base, "PKG-INFO") == 0 || str_ends(k->path, ".egg-info"))
			r = cat_python(inv, k, e);
		else if (strcmp(base, "package.json") == 0)
			r = cat_npm(inv, k, e);
		else if (strcmp(base, "Cargo.lock") == 0)
			r = cat_cargo(inv, k, e);
		else if (strcmp(base, "pom.properties") == 0)
			r = cat_pom(inv, k, e);
		if (r < 0)
			return err_prefix(e, "%s", k->path);
	}
	return 0;
}

/* ------------------------------------------------------------ readers */

/* pom.properties inside a jar (and jars nested in it), kept as "JAR!/PATH". */
static int scan_jar(struct fileset *fs, const char *jarpath, const void *p, size_t n, int layer, int depth,
		    struct err *e)
{
	struct archive *a = archive_read_new();
	struct archive_entry *ent;
	int rc;

	if (!a)
		return err_set(e, ERR_INTERNAL, "out of memory");
	archive_read_support_format_zip(a);
	if (archive_read_open_memory(a, p, n) != ARCHIVE_OK) {
		archive_read_free(a);
		return 0; /* not a zip: not a jar after all */
	}
	while ((rc = archive_read_next_header(a, &ent)) == ARCHIVE_OK) {
		const char *name = archive_entry_pathname(ent);
		bool pom = name && str_starts(name, "META-INF/maven/") && str_ends(name, "/pom.properties");
		bool nested = name && is_jar(name) && depth < 3;
		struct buf b = BUF_INIT;
		char vpath[2048];
		char chunk[16384];
		la_ssize_t r;

		if (!pom && !nested)
			continue;
		buf_init(&b, pom ? (1u << 20) : JAR_MAX);
		while ((r = archive_read_data(a, chunk, sizeof(chunk))) > 0)
			if (buf_add(&b, chunk, (size_t)r, e) < 0)
				break;
		snprintf(vpath, sizeof(vpath), "%s!/%s", jarpath, name);
		if (r == 0 && pom) {
			struct kfile *k = fileset_add(fs, vpath, layer, e);

			if (!k || buf_add(&k->data, b.data, b.len, e) < 0) {
				buf_free(&b);
				archive_read_free(a);
				return -1;
			}
		} else if (r == 0 && nested) {
			scan_jar(fs, vpath, b.data, b.len, layer, depth + 1, e);
		}
		err_clear(e);
		buf_free(&b);
	}
	archive_read_free(a);
	return 0;
}

/* One layer (or one file of dir:), streamed through f. */
typedef la_ssize_t (*read_fn)(void *ctx, void *buf, size_t n);

static int keep_stream(struct fileset *fs, const char *path, int64_t size, bool exec, int layer, read_fn rd, void *ctx,
		       struct err *e)
{
	char chunk[65536];
	la_ssize_t r;

	if (needed(path)) {
		struct kfile *k;

		if (size > (int64_t)kept_file_cap(path))
			return err_set(e, ERR_INPUT, "%s: %lld bytes, larger than the %zu-byte limit for package databases",
				       path, (long long)size, kept_file_cap(path));
		k = fileset_add(fs, path, layer, e);
		if (!k)
			return -1;
		while ((r = rd(ctx, chunk, sizeof(chunk))) > 0)
			if (buf_add(&k->data, chunk, (size_t)r, e) < 0)
				return err_prefix(e, "%s", path);
		return r < 0 ? err_set(e, ERR_INPUT, "%s: read error", path) : 0;
	}
	if (is_jar(path) && size <= (int64_t)JAR_MAX) {
		struct buf b = BUF_INIT;
		int rc = 0;

		buf_init(&b, JAR_MAX);
		while ((r = rd(ctx, chunk, sizeof(chunk))) > 0)
			if (buf_add(&b, chunk, (size_t)r, e) < 0)
				break;
		if (r == 0 && !e->code)
			rc = scan_jar(fs, path, b.data, b.len, layer, 0, e);
		err_clear(e);
		buf_free(&b);
		return rc;
	}
	if (exec && size > 4096) {
		struct goscan g;

		goscan_init(&g);
		while (!g.done && (r = rd(ctx, chunk, sizeof(chunk))) > 0)
			goscan_feed(&g, (unsigned char *)chunk, (size_t)r);
		if (g.found) {
			struct kfile *k = fileset_add(fs, path, layer, e);

			if (!k || buf_add(&k->data, g.info.data, g.info.len, e) < 0) {
				buf_free(&g.info);
				return -1;
			}
			k->goinfo = true;
		}
		buf_free(&g.info);
	}
	return 0;
}

struct tar_rd_ctx {
	struct tar_reader *tr;
	struct err e; /* why a read failed: keep_stream knows only that it did */
};

static la_ssize_t tar_rd(void *ctx, void *buf, size_t n)
{
	struct tar_rd_ctx *c = ctx;

	return tar_read_data(c->tr, buf, n, &c->e);
}

/* Read one layer into a record: kept files, whiteouts, and the hashes of
 * every other path (what it hides below it). */
static int read_layer(struct layer_rec *rec, const char *blob, const char *digest, int layer, struct err *e)
{
	struct tar_reader *tr;
	const struct tar_entry *ent;
	char short_d[20], what[32];
	unsigned long long limit = oci_max_layer_size();
	int rc, r = -1;

	oci_digest_short(digest, short_d);
	snprintf(what, sizeof(what), "layer %s", short_d);
	tr = tar_reader_open(blob, e);
	if (!tr)
		return err_prefix(e, "layer %s", short_d);
	while ((rc = tar_next(tr, &ent, e)) == 1) {
		char path[4096];
		const char *base;
		bool dir = ent->type == TAR_DIR;

		if (oci_layer_size_check(tar_reader_offset(tr), ent->size, limit, what, e) < 0)
			goto out;

		norm_path(ent->path, path, sizeof(path));
		rec->files_seen++;
		base = strrchr(path, '/');
		base = base ? base + 1 : path;
		if (str_starts(base, ".wh.")) {
			char target[4096];
			size_t dl = (size_t)(base - path);

			if (strcmp(base, ".wh..wh..opq") == 0)
				snprintf(target, sizeof(target), "%.*s", (int)(dl ? dl - 1 : 0), path);
			else
				snprintf(target, sizeof(target), "%.*s%s", (int)dl, path, base + 4);
			if (!fileset_add(&rec->whiteouts, target, layer, e))
				goto out;
			continue;
		}
		/* anything at this path hides what lower layers had there */
		if (layer_rec_add_path(rec, path, dir, e) < 0)
			goto out;
		if (ent->type != TAR_REG)
			continue;
		struct tar_rd_ctx c = { tr, ERR_INIT };
		if (keep_stream(&rec->files, path, ent->size, (ent->mode & 0111) != 0, layer, tar_rd, &c, e) < 0) {
			if (c.e.code)
				*e = c.e;
			goto out;
		}
	}
	if (rc < 0) {
		err_prefix(e, "layer %s: not a readable tar", short_d);
		goto out;
	}
	layer_rec_seal(rec);
	r = 0;
out:
	tar_reader_free(tr);
	return r;
}

/* Lay one layer's record over what the lower layers left. */
static int apply_layer(struct fileset *fs, struct layer_rec *rec, int layer, struct err *e)
{
	for (size_t i = 0; i < rec->whiteouts.n; i++)
		fileset_remove(fs, rec->whiteouts.f[i].path, true, layer);
	for (size_t i = 0; i < fs->n;) {
		if (fs->f[i].layer < layer && layer_rec_hides(rec, fs->f[i].path))
			fileset_remove_at(fs, i);
		else
			i++;
	}
	/* move the kept files over */
	for (size_t i = 0; i < rec->files.n; i++) {
		struct kfile *k = fileset_add(fs, "", layer, e);

		if (!k)
			return -1;
		free(k->path);
		*k = rec->files.f[i];
		k->layer = layer;
	}
	rec->files.n = 0;
	return 0;
}

static la_ssize_t fd_rd(void *ctx, void *buf, size_t n)
{
	return read(*(int *)ctx, buf, n);
}

static int walk_dir(struct fileset *fs, const char *root, const char *rel, int depth, long *seen, struct err *e)
{
	char *dpath = rel[0] ? fs_join(root, rel) : strdup(root);
	DIR *d;
	struct dirent *de;
	int r = 0;

	if (!dpath)
		return err_set(e, ERR_INTERNAL, "out of memory");
	d = opendir(dpath);
	if (!d) {
		r = depth == 0 ? err_errno(e, ERR_INPUT, "%s", dpath) : 0;
		free(dpath);
		return r;
	}
	while (r == 0 && (de = readdir(d))) {
		char relp[4096];
		struct stat sb;
		int fd;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(relp, sizeof(relp), "%s%s%s", rel, rel[0] ? "/" : "", de->d_name);
		if (depth == 0 && (strcmp(de->d_name, "proc") == 0 || strcmp(de->d_name, "sys") == 0 ||
				   strcmp(de->d_name, "dev") == 0))
			continue;
		if (fstatat(dirfd(d), de->d_name, &sb, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		(*seen)++;
		if (S_ISDIR(sb.st_mode)) {
			if (depth < 64)
				r = walk_dir(fs, root, relp, depth + 1, seen, e);
			continue;
		}
		if (!S_ISREG(sb.st_mode))
			continue;
		if (!needed(relp) && !is_jar(relp) && !((sb.st_mode & 0111) && sb.st_size > 4096))
			continue;
		fd = openat(dirfd(d), de->d_name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			continue;
		r = keep_stream(fs, relp, sb.st_size, (sb.st_mode & 0111) != 0, -1, fd_rd, &fd, e);
		close(fd);
	}
	closedir(d);
	free(dpath);
	return r;
}

/* ------------------------------------------------------------ images */

static int pick_manifest(struct image_src *src, struct oci_layout *l, struct oci_desc *top, const char *platform,
			 struct oci_manifest *m, char **digest, struct err *e)
{
	struct buf b = BUF_INIT;
	struct oci_desc cur = { 0 };
	int r = -1;

	if (oci_desc_copy(&cur, top, e) < 0)
		return -1;
	for (int depth = 0; depth < 3; depth++) {
		buf_reset(&b);
		if ((src ? image_src_manifest(src, &cur, &b, e) : oci_layout_read_blob(l, cur.digest, &b, BUF_CAP_MANIFEST, e)) < 0)
			goto out;
		if (oci_mt_is_index(cur.media_type) || oci_mt_is_index(oci_detect_media_type(b.data, b.len))) {
			struct oci_index idx = { 0 };
			struct oci_platform want = { 0 };
			struct oci_desc next = { 0 };
			int rc;

			if (oci_index_parse(&idx, b.data, b.len, cur.media_type, e) < 0)
				goto out;
			if (platform && oci_platform_parse(&want, platform, e) < 0) {
				oci_index_free(&idx);
				goto out;
			}
			rc = oci_index_select(&idx, platform ? &want : NULL, &next, e);
			oci_index_free(&idx);
			oci_platform_free(&want);
			if (rc < 0)
				goto out;
			oci_desc_free(&cur);
			cur = next;
			continue;
		}
		if (oci_manifest_parse(m, b.data, b.len, cur.media_type, e) < 0)
			goto out;
		*digest = strdup(cur.digest);
		r = *digest ? 0 : err_set(e, ERR_INTERNAL, "out of memory");
		goto out;
	}
	err_set(e, ERR_INPUT, "index nesting too deep");
out:
	oci_desc_free(&cur);
	buf_free(&b);
	return r;
}

struct fetch_ctx {
	const char *dir;
};

static char *fetch_path(void *ctx, const struct oci_desc *d)
{
	struct fetch_ctx *f = ctx;

	return xasprintf_e(NULL, "%s/blobs/%s", f->dir, d->digest);
}

static bool fetch_skip(void *ctx, const struct oci_desc *d)
{
	char *p = fetch_path(ctx, d);
	bool have = p && fs_exists(p);

	free(p);
	return have;
}

static int64_t cache_max;

void inventory_set_cache_max(int64_t bytes)
{
	cache_max = bytes;
}

/* Layer digests of the base image, to mark which of ours came from it:
 * the leading layers the two manifests share. */
static size_t count_base(const struct oci_manifest *m, const char *base, const struct inv_opts *o, struct err *e)
{
	struct location bl;
	size_t n = 0;

	if (location_parse(&bl, base, e) < 0)
		return (size_t)-1;
	{
		struct image_src *src = NULL;
		struct oci_desc top = { 0 };
		struct oci_manifest bm = { 0 };
		char *dg = NULL;

		if (image_src_open(&src, &bl, o->ro, e) == 0 && image_src_top(src, &top, e) == 0 &&
		    pick_manifest(src, NULL, &top, o->platform, &bm, &dg, e) == 0) {
			while (n < bm.n_layers && n < m->n_layers && strcmp(bm.layers[n].digest, m->layers[n].digest) == 0)
				n++;
		} else {
			n = (size_t)-1;
		}
		oci_manifest_free(&bm);
		oci_desc_free(&top);
		free(dg);
		image_src_close(src);
	}
	location_free(&bl);
	return n;
}

/* name (+ "@digest") from a JSON object of annotations or labels, under
 * either pair of keys. */
static char *base_from_json(const char *json, const char *name_key, const char *digest_key)
{
	cJSON *j = json ? cJSON_Parse(json) : NULL;
	const cJSON *n = cJSON_GetObjectItemCaseSensitive(j, name_key), *d = cJSON_GetObjectItemCaseSensitive(j, digest_key);
	char *r = NULL;

	if (cJSON_IsString(n) && *n->valuestring && strlen(n->valuestring) < 512) {
		if (cJSON_IsString(d) && oci_digest_valid(d->valuestring) && !strchr(n->valuestring, '@'))
			r = xasprintf_e(NULL, "%s@%s", n->valuestring, d->valuestring);
		else
			r = strdup(n->valuestring);
	}
	cJSON_Delete(j);
	return r;
}

/* The base image the image names itself: manifest annotations
 * org.opencontainers.image.base.name/.digest, else the same keys or Azure's
 * image.base.ref.name/image.base.digest as config labels. */
static char *base_from_image(struct image_src *src, struct oci_layout *l, const struct oci_manifest *m)
{
	struct buf b = BUF_INIT;
	struct err e2 = ERR_INIT;
	struct oci_config cfg = { 0 };
	char *r = base_from_json(m->annotations_json, "org.opencontainers.image.base.name",
				 "org.opencontainers.image.base.digest");

	if (r || !m->config.digest)
		return r;
	if ((src ? image_src_blob_buf(src, &m->config, &b, BUF_CAP_MANIFEST, &e2)
		 : oci_layout_read_blob(l, m->config.digest, &b, BUF_CAP_MANIFEST, &e2)) == 0 &&
	    oci_config_parse(&cfg, b.data, b.len, &e2) == 0) {
		r = base_from_json(cfg.labels_json, "org.opencontainers.image.base.name",
				   "org.opencontainers.image.base.digest");
		if (!r)
			r = base_from_json(cfg.labels_json, "image.base.ref.name", "image.base.digest");
	} else {
		/* only the base image is taken from the config: the scan goes on */
		log_warn("image config %.19s: %s; the base image is not known from it", m->config.digest, e2.msg);
	}
	oci_config_free(&cfg);
	buf_free(&b);
	return r;
}

/* Cold layers are read in parallel, one thread per core (each decompresses
 * and catalogs its own layer into its own record), then laid over each
 * other in layer order so whiteouts apply as they must. */
struct layer_job {
	const char *path, *digest;
	int index;
	struct layer_rec rec;
	struct err e;
	int rc;
};

struct layer_jobs {
	struct layer_job *v;
	size_t n;
	size_t next;
	pthread_mutex_t mu;
};

static void *layer_worker(void *arg)
{
	struct layer_jobs *js = arg;

	for (;;) {
		pthread_mutex_lock(&js->mu);
		size_t i = js->next++;
		pthread_mutex_unlock(&js->mu);
		if (i >= js->n)
			return NULL;
		struct layer_job *j = &js->v[i];
		char sd[20];
		oci_digest_short(j->digest, sd);
		log_info("layer %s: reading", sd);
		j->rc = read_layer(&j->rec, j->path, j->digest, j->index, &j->e);
	}
}

static int scan_threads(size_t jobs)
{
	long nc = sysconf(_SC_NPROCESSORS_ONLN);
	const char *env = getenv("BOSUN_SCAN_THREADS");

	if (env && atoi(env) > 0)
		nc = atoi(env);
	if (nc < 1)
		nc = 1;
	if (nc > 16)
		nc = 16;
	return (size_t)nc < jobs ? (int)nc : (int)jobs;
}

static int read_layers(const struct oci_manifest *m, struct image_src *src, struct oci_layout *l,
		       const char *blobdir, struct lcache *lc, struct inventory *inv,
		       struct fileset *fs, struct err *e)
{
	struct layer_rec *recs = calloc(m->n_layers + 1, sizeof(*recs));
	struct layer_jobs js = {.v = calloc(m->n_layers + 1, sizeof(struct layer_job))};
	pthread_t th[16];
	int nth = 0, r = -1;

	pthread_mutex_init(&js.mu, NULL);
	if (!recs || !js.v) {
		err_set(e, ERR_INTERNAL, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < m->n_layers; i++) {
		char sd[20];
		int h = 0;

		oci_digest_short(m->layers[i].digest, sd);
		if (lc && (h = lcache_get(lc, m->layers[i].digest, (int)i, &recs[i], e)) < 0)
			goto out;
		if (h) {
			log_info("layer %s: cache hit (%zu kept files)", sd, recs[i].files.n);
			continue;
		}
		char *p = src ? fetch_path(&(struct fetch_ctx){(char *)blobdir}, &m->layers[i])
			      : oci_layout_blob_path(l, m->layers[i].digest);
		if (!p) {
			err_set(e, ERR_INPUT, "layer %zu: bad digest", i);
			goto out;
		}
		struct layer_job *j = &js.v[js.n++];
		j->path = p;
		j->digest = m->layers[i].digest;
		j->index = (int)i;
	}
	int want = scan_threads(js.n);
	for (; nth < want - 1; nth++)
		if (pthread_create(&th[nth], NULL, layer_worker, &js) != 0)
			break;
	layer_worker(&js); /* this thread works too */
	for (int t = 0; t < nth; t++)
		pthread_join(th[t], NULL);
	for (size_t k = 0; k < js.n; k++) {
		struct layer_job *j = &js.v[k];
		if (j->rc < 0) {
			*e = j->e;
			goto out;
		}
		recs[j->index] = j->rec;
		memset(&j->rec, 0, sizeof(j->rec));
		if (lc && lcache_put(lc, j->digest, &recs[j->index], e) < 0) {
			/* a cache that cannot be written costs time, not the scan */
			log_warn("layer cache: %s", e->msg);
			err_clear(e);
		}
	}
	for (size_t i = 0; i < m->n_layers; i++) {
		inv->files_seen += recs[i].files_seen;
		if (apply_layer(fs, &recs[i], (int)i, e) < 0)
			goto out;
	}
	r = 0;
out:
	for (size_t k = 0; js.v && k < js.n; k++) {
		free((char *)js.v[k].path);
		layer_rec_free(&js.v[k].rec);
	}
	for (size_t i = 0; recs && i < m->n_layers; i++)
		layer_rec_free(&recs[i]);
	pthread_mutex_destroy(&js.mu);
	free(js.v);
	free(recs);
	return r;
}

static int scan_image(const struct location *loc, const struct inv_opts *o, struct inventory *inv, struct fileset *fs,
		      struct err *e)
{
	struct oci_layout *l = NULL;
	struct image_src *src = NULL;
	struct reg_client *rc = NULL;
	struct oci_desc top = { 0 };
	struct oci_manifest m = { 0 };
	char *tmpdir = NULL, *blobdir = NULL, *lcdir = NULL;
	struct lcache lc = { 0 };
	int r = -1;

	if (loc->kind == LOC_OCI) {
		if (oci_layout_open(&l, loc->path, false, e) < 0 || oci_layout_resolve(l, loc->tag, &top, e) < 0)
			goto out;
	} else if (loc->kind == LOC_DOCKER_ARCHIVE) {
		tmpdir = fs_mkdtemp("bosun-scan", e);
		if (!tmpdir || oci_layout_open(&l, tmpdir, true, e) < 0 ||
		    docker_archive_read(loc->path, loc->tag, l, &top, e) < 0)
			goto out;
	} else {
		if (image_src_open(&src, loc, o->ro, e) < 0 || image_src_top(src, &top, e) < 0)
			goto out;
	}
	if (pick_manifest(src, l, &top, o->platform, &m, &inv->digest, e) < 0)
		goto out;
	inv->layers = calloc(m.n_layers + 1, sizeof(char *));
	if (!inv->layers) {
		err_set(e, ERR_INTERNAL, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < m.n_layers; i++) {
		if (!(inv->layers[i] = strdup(m.layers[i].digest))) {
			err_set(e, ERR_INTERNAL, "out of memory");
			goto out;
		}
		inv->n_layers++;
	}
	if (o->base) {
		size_t nb = count_base(&m, o->base, o, e);

		if (nb == (size_t)-1) {
			err_prefix(e, "base image %s", o->base);
			goto out;
		}
		inv->n_base = nb;
		inv->base = strdup(o->base);
	} else if ((inv->base = base_from_image(src, l, &m))) {
		/* named by the image: best effort, the scan does not depend on it */
		struct err e2 = ERR_INIT;
		size_t nb = count_base(&m, inv->base, o, &e2);

		if (nb == (size_t)-1) {
			log_warn("base image %s (from the image's annotations) not resolved: %s", inv->base, e2.msg);
			inv->n_base = 0;
		} else {
			log_info("base image %s: the first %zu layer%s", inv->base, nb, nb == 1 ? "" : "s");
			inv->n_base = nb;
		}
	}
	if (o->cache_dir && !(lcdir = xasprintf_e(e, "%s/inventory", o->cache_dir)))
		goto out;
	lc.dir = lcdir, lc.max = cache_max;
	if (src) {
		/* registry: fetch the layers the cache does not know into a
		 * temporary directory (verified), then stream them */
		struct fetch_ctx fc;
		struct oci_desc *need = calloc(m.n_layers + 1, sizeof(*need));
		size_t nn = 0;
		int fr;

		if (!need) {
			err_set(e, ERR_INTERNAL, "out of memory");
			goto out;
		}
		for (size_t i = 0; i < m.n_layers; i++)
			if (!lcdir || !lcache_has(&lc, m.layers[i].digest))
				need[nn++] = m.layers[i];
		blobdir = tmpdir = fs_mkdtemp("bosun-scan", e);
		fc.dir = blobdir;
		fr = !blobdir || reg_open(&rc, &loc->ref, o->ro, false, e) < 0 ||
		     (nn && reg_fetch_blobs(rc, need, nn, fetch_path, fetch_skip, &fc, e) < 0);
		free(need); /* shallow copies */
		if (fr)
			goto out;
	}
	if (read_layers(&m, src, l, blobdir, lcdir ? &lc : NULL, inv, fs, e) < 0)
		goto out;
	r = 0;
out:
	oci_manifest_free(&m);
	oci_desc_free(&top);
	image_src_close(src);
	reg_close(rc);
	oci_layout_close(l);
	if (tmpdir) {
		struct err e2 = ERR_INIT;

		fs_rm_rf(tmpdir, &e2);
		free(tmpdir);
	}
	free(lcdir);
	return r;
}

/* Names are bytes in a layer but text in every report: a path, name or
 * version that is not valid UTF-8 is kept, escaped (core/utf8.h), so JSON,
 * SARIF, JUnit and HTML stay well-formed and show it. */
static int escape_field(char **f, struct err *e)
{
	if (!*f || !utf8_needs_escape(*f))
		return 0;
	char *n = utf8_escape(*f, e);
	if (!n)
		return -1;
	free(*f);
	*f = n;
	return 0;
}

int inventory_escape_names(struct inventory *inv, struct err *e)
{
	for (size_t i = 0; i < inv->n; i++) {
		struct pkg *p = &inv->pkgs[i];
		if (escape_field(&p->name, e) < 0 || escape_field(&p->version, e) < 0 ||
		    escape_field(&p->src_name, e) < 0 || escape_field(&p->src_version, e) < 0 ||
		    escape_field(&p->path, e) < 0)
			return -1;
	}
	return 0;
}

int inventory_scan(const char *target, const struct inv_opts *o, struct inventory *inv, struct err *e)
{
	struct location loc;
	struct fileset fs = { 0 };
	int r;

	memset(inv, 0, sizeof(*inv));
	inv->target = strdup(target);
	if (location_parse(&loc, target, e) < 0)
		return -1;
	if (loc.kind == LOC_DIR)
		r = walk_dir(&fs, loc.path, "", 0, &inv->files_seen, e);
	else
		r = scan_image(&loc, o, inv, &fs, e);
	if (r == 0)
		r = catalog(inv, &fs, e);
	if (r == 0)
		r = inventory_escape_names(inv, e);
	fileset_free(&fs);
	location_free(&loc);
	return r;
}

/* One file from memory, read in pieces as a layer stream would be. */
struct mem_rd {
	const unsigned char *p;
	size_t left;
};

static la_ssize_t mem_read(void *ctx, void *buf, size_t n)
{
	struct mem_rd *m = ctx;

	if (n > 4093) /* an odd size, so the Go magic can straddle two reads */
		n = 4093;
	if (n > m->left)
		n = m->left;
	if (!n)
		return 0;
	memcpy(buf, m->p, n);
	m->p += n, m->left -= n;
	return (la_ssize_t)n;
}

int inventory_catalog_file(const char *path, const void *data, size_t len, bool exec, struct inventory *inv,
			   struct err *e)
{
	struct fileset fs = { 0 };
	struct mem_rd m = { data, len };
	int r;

	memset(inv, 0, sizeof(*inv));
	r = keep_stream(&fs, path, (int64_t)len, exec, 0, mem_read, &m, e);
	if (r == 0)
		r = catalog(inv, &fs, e);
	fileset_free(&fs);
	if (r < 0)
		inventory_free(inv);
	return r;
}

void inventory_free(struct inventory *inv)
{
	for (size_t i = 0; i < inv->n; i++) {
		struct pkg *p = &inv->pkgs[i];

		free(p->name), free(p->version), free(p->src_name), free(p->src_version);
		free(p->type), free(p->ecosystem), free(p->path);
	}
	free(inv->pkgs);
	for (size_t i = 0; i < inv->n_layers; i++)
		free(inv->layers[i]);
	free(inv->layers);
	free(inv->digest);
	free(inv->target);
	free(inv->base);
	memset(inv, 0, sizeof(*inv));
}
