/* OS catalogers: which distribution (os-release and its older
 * friends) and its package databases (dpkg status and status.d, apk
 * installed, rpm Packages and rpmdb.sqlite). Shared helpers of every
 * cataloger live here too. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/log.h"
#include "core/util.h"
#include "scan/cat.h"
#include "scan/rpmdb.h"

int cat_add(struct inventory *inv, const char *type, const char *eco, const char *name,
	    const char *ver, const char *src, const char *srcver, const struct kfile *k,
	    struct err *e)
{
	struct pkg *p;
	const char *path = k->path;
	int layer = k->layer;

	if (!name || !*name)
		return 0;
	if (!ver)
		ver = "";
	if (inv->n == inv->alloc) {
		size_t na = inv->alloc ? inv->alloc * 2 : 64;
		struct pkg *np = realloc(inv->pkgs, na * sizeof(*np));

		if (!np)
			return err_oom(e);
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
	if (!p->name || !p->version || !p->src_name || !p->src_version || !p->type ||
	    !p->ecosystem || !p->path)
		return err_oom(e);
	return 0;
}

void cat_drop(struct inventory *inv, size_t first)
{
	while (inv->n > first) {
		struct pkg *p = &inv->pkgs[--inv->n];

		free(p->name), free(p->version), free(p->src_name), free(p->src_version);
		free(p->type), free(p->ecosystem), free(p->path);
	}
}

/* Well-formed UTF-8 (RFC 3629: no overlongs, no surrogates, at most U+10FFFF). */
bool cat_utf8_valid(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + n;

	while (p < end) {
		unsigned c = *p;
		int k = c < 0x80	     ? 0
			: (c & 0xe0) == 0xc0 ? 1
			: (c & 0xf0) == 0xe0 ? 2
			: (c & 0xf8) == 0xf0 ? 3
					     : -1;
		unsigned long cp;

		if (k < 0 || end - p <= k)
			return false;
		cp = k ? c & (0x3f >> k) : c;
		for (int i = 1; i <= k; i++) {
			if ((p[i] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (p[i] & 0x3f);
		}
		if ((k == 1 && cp < 0x80) || (k == 2 && cp < 0x800) || (k == 3 && cp < 0x10000) ||
		    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		p += k + 1;
	}
	return true;
}

void cat_copy_value(const char *v, const char *le, char *out, size_t cap)
{
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
}

/* "Key: value" in an RFC 822 style paragraph [s, end). Copies into out. */
bool cat_field(const char *s, const char *end, const char *key, char *out, size_t cap)
{
	size_t kl = strlen(key);

	for (const char *l = s; l < end;) {
		const char *nl = memchr(l, '\n', (size_t)(end - l));
		const char *le = nl ? nl : end;

		if ((size_t)(le - l) > kl && strncasecmp(l, key, kl) == 0 && l[kl] == ':') {
			cat_copy_value(l + kl + 1, le, out, cap);
			return true;
		}
		l = le + 1;
	}
	out[0] = 0;
	return false;
}

int cat_dpkg(struct inventory *inv, const struct kfile *k, struct err *e)
{
	const char *s = k->data.data, *end = s + k->data.len;
	bool statusd = strstr(k->path, "status.d/") != NULL;

	while (s < end) {
		const char *pe = strstr(s, "\n\n");
		char name[256], ver[256], src[512], status[128], srcver[256] = "";

		pe = pe ? pe + 1 : end;
		cat_field(s, pe, "Package", name, sizeof(name));
		cat_field(s, pe, "Version", ver, sizeof(ver));
		cat_field(s, pe, "Source", src, sizeof(src));
		/* deinstalled and half-removed entries are not there */
		if (cat_field(s, pe, "Status", status, sizeof(status))
			? (strstr(status, " installed") != NULL)
			: statusd) {
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
			if (cat_add(inv, "deb", inv->os.ecosystem, name, ver, src, srcver, k, e) <
			    0)
				return -1;
		}
		s = pe;
		while (s < end && *s == '\n')
			s++;
	}
	return 0;
}

int cat_apk(struct inventory *inv, const struct kfile *k, struct err *e)
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

			/* every line is "X:value", as apk itself insists: anything
			 * else is a damaged database, not one to half read */
			if (le > l && !(le - l >= 2 && l[1] == ':' && l[0] > ' ' && l[0] < 0x7f))
				return err_set(e, ERR_INPUT, "not an apk database: line \"%.*s\"",
					       (int)(le - l > 40 ? 40 : le - l), l);
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
		if (cat_add(inv, "apk", inv->os.ecosystem, name, ver, origin, ver, k, e) < 0)
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
		snprintf(ver, sizeof(ver), "%lld:%s%s%s", (long long)p->epoch, p->version,
			 p->release[0] ? "-" : "", p->release);
	else
		snprintf(ver, sizeof(ver), "%s%s%s", p->version, p->release[0] ? "-" : "",
			 p->release);
	/* the source rpm carries no epoch: the binary's applies */
	if (p->sourcerpm[0] &&
	    rpm_split_srpm(p->sourcerpm, src, sizeof(src), srcver, sizeof(srcver)) == 0 &&
	    p->epoch > 0) {
		char tmp[256];

		snprintf(tmp, sizeof(tmp), "%lld:%s", (long long)p->epoch, srcver);
		snprintf(srcver, sizeof(srcver), "%s", tmp);
	}
	return cat_add(c->inv, "rpm", c->inv->os.ecosystem, p->name, ver, src,
		       srcver[0] ? srcver : ver, c->k, e);
}

int cat_rpm(struct inventory *inv, const struct kfile *k, struct err *e)
{
	struct rpm_ctx c = {inv, k};
	long skipped = 0;

	if ((str_ends(k->path, "/Packages") ? rpmdb_bdb_read : rpmdb_sqlite_read)(
		k->data.data, k->data.len, rpm_one, &c, &skipped, e) < 0)
		return -1;
	if (skipped)
		log_warn("%s: %ld damaged package header%s skipped", k->path, skipped,
			 skipped == 1 ? "" : "s");
	return 0;
}

const struct kfile *cat_find(const struct fileset *fs, const char *path)
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

void cat_detect_os(struct inventory *inv, const struct fileset *fs)
{
	const struct kfile *k = cat_find(fs, "etc/os-release");
	struct os_info *os = &inv->os;
	char version[128] = "";

	if (!k)
		k = cat_find(fs, "usr/lib/os-release");
	if (k) {
		kv(k->data.data, "ID", os->id, sizeof(os->id));
		kv(k->data.data, "VERSION_ID", os->version_id, sizeof(os->version_id));
		kv(k->data.data, "PRETTY_NAME", os->pretty, sizeof(os->pretty));
		kv(k->data.data, "VERSION", version, sizeof(version));
	}
	if (!os->id[0] && (k = cat_find(fs, "etc/alpine-release")))
		snprintf(os->id, sizeof(os->id), "alpine");
	if (!os->id[0] && (k = cat_find(fs, "etc/debian_version")))
		snprintf(os->id, sizeof(os->id), "debian");
	if (!os->id[0] &&
	    ((k = cat_find(fs, "etc/redhat-release")) || (k = cat_find(fs, "etc/centos-release")) ||
	     (k = cat_find(fs, "etc/fedora-release")))) {
		const char *p = strstr(k->data.data, "release ");

		snprintf(os->id, sizeof(os->id), "rhel");
		if (p)
			snprintf(os->version_id, sizeof(os->version_id), "%.*s",
				 (int)strcspn(p + 8, " \n"), p + 8);
	}
	if (strcmp(os->id, "alpine") == 0 && (k = cat_find(fs, "etc/alpine-release")) &&
	    !os->version_id[0])
		snprintf(os->version_id, sizeof(os->version_id), "%.*s",
			 (int)strcspn(k->data.data, "\n"), k->data.data);
	if (strcmp(os->id, "debian") == 0 && !os->version_id[0] &&
	    (k = cat_find(fs, "etc/debian_version")))
		snprintf(os->version_id, sizeof(os->version_id), "%.*s",
			 (int)strcspn(k->data.data, ".\n"), k->data.data);
	if (strcmp(os->id, "debian") == 0)
		snprintf(os->ecosystem, sizeof(os->ecosystem), "Debian:%.*s",
			 (int)strcspn(os->version_id, "."), os->version_id);
	else if (strcmp(os->id, "alpine") == 0) {
		const char *d1 = strchr(os->version_id, '.');
		int n = d1 ? (int)(strcspn(d1 + 1, ".") + (size_t)(d1 - os->version_id) + 1)
			   : (int)strlen(os->version_id);

		snprintf(os->ecosystem, sizeof(os->ecosystem), "Alpine:v%.*s", n, os->version_id);
	} else if (strcmp(os->id, "ubuntu") == 0)
		/* OSV names a long-term-support release "Ubuntu:22.04:LTS", any other
		 * "Ubuntu:23.10" */
		snprintf(os->ecosystem, sizeof(os->ecosystem), "Ubuntu:%s%s", os->version_id,
			 ubuntu_lts(os->version_id, version) ? ":LTS" : "");
	else if (strcmp(os->id, "rocky") == 0 || strcmp(os->id, "almalinux") == 0 ||
		 strcmp(os->id, "rhel") == 0)
		/* OSV: "Rocky Linux:9", "AlmaLinux:9", Red Hat by major version */
		snprintf(os->ecosystem, sizeof(os->ecosystem), "%s:%.*s",
			 os->id[0] == 'r' && os->id[1] == 'o' ? "Rocky Linux"
			 : os->id[0] == 'a'		      ? "AlmaLinux"
							      : "Red Hat",
			 (int)strcspn(os->version_id, "."), os->version_id);
	else if (strcmp(os->id, "mariner") == 0 || strcmp(os->id, "azurelinux") == 0)
		snprintf(os->ecosystem, sizeof(os->ecosystem), "%s:%s",
			 os->id[0] == 'm' ? "Mariner" : "Azure Linux", os->version_id);
	else if (strcmp(os->id, "opensuse-leap") == 0)
		snprintf(os->ecosystem, sizeof(os->ecosystem), "openSUSE:Leap %s", os->version_id);
	else if (os->id[0])
		snprintf(os->ecosystem, sizeof(os->ecosystem), "%s:%s", os->id, os->version_id);
}
