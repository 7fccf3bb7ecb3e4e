/* bosun patch: staging the image, its previous patch layer and its
 * distribution; the wants (from a scan or a report); assembling the patched
 * image: the kept layers byte-identical, one patch layer, a history entry,
 * and annotations naming what changed. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <cjson/cJSON.h>

#include "core/buf.h"
#include "core/fs.h"
#include "core/log.h"
#include "core/ojson.h"
#include "core/util.h"
#include "image/image.h"
#include "image/location.h"
#include "oci/desc.h"
#include "oci/layer.h"
#include "oci/layout.h"
#include "oci/manifest.h"
#include "patch/internal.h"
#include "scan/version.h"

#define MT_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define MT_DOCKER_LAYER_GZIP "application/vnd.docker.image.rootfs.diff.tar.gzip"

bool patch_valid_name(const char *s)
{
	size_t n = strlen(s);

	if (n < 2 || n > 200 || !((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9')))
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '+' || *s == '-' || *s == '.'))
			return false;
	return true;
}

int patch_pkg_add(struct patch_pkg **v, size_t *n, const char *name, const char *from, const char *to,
		  struct err *e)
{
	struct patch_pkg *t = realloc(*v, (*n + 1) * sizeof(**v));

	if (!t)
		return err_oom(e);
	*v = t;
	t[*n].name = strdup(name);
	t[*n].from = strdup(from);
	t[*n].to = strdup(to);
	if (!t[*n].name || !t[*n].from || !t[*n].to) {
		free(t[*n].name);
		free(t[*n].from);
		free(t[*n].to);
		return err_oom(e);
	}
	(*n)++;
	return 0;
}

void patch_pkgs_free(struct patch_pkg *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].name);
		free(v[i].from);
		free(v[i].to);
	}
	free(v);
}

char *patch_pkgs_text(const struct patch_pkg *v, size_t n, struct err *e)
{
	struct buf b = BUF_INIT;

	if (buf_adds(&b, "", e) < 0)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (buf_addf(&b, e, "%s%s %s -> %s", i ? ", " : "", v[i].name, *v[i].from ? v[i].from : "(new)",
			     v[i].to) < 0) {
			buf_free(&b);
			return NULL;
		}
	return buf_detach(&b, NULL);
}

/* ------------------------------------------------------------------ wants */

int patch_wants_add(struct patch_wants *w, const char *name, const char *fixed, struct err *e)
{
	for (size_t i = 0; i < w->n; i++) {
		if (strcmp(w->v[i].name, name) != 0)
			continue;
		if (*fixed && (!*w->v[i].fixed || vercmp_dpkg(fixed, w->v[i].fixed) > 0)) {
			char *f = strdup(fixed);
			if (!f)
				return err_oom(e);
			free(w->v[i].fixed);
			w->v[i].fixed = f;
		}
		return 0;
	}
	if (w->n == w->alloc) {
		size_t na = w->alloc ? w->alloc * 2 : 16;
		struct patch_want *t = realloc(w->v, na * sizeof(*t));
		if (!t)
			return err_oom(e);
		w->v = t;
		w->alloc = na;
	}
	w->v[w->n].name = strdup(name);
	w->v[w->n].fixed = strdup(fixed);
	if (!w->v[w->n].name || !w->v[w->n].fixed) {
		free(w->v[w->n].name);
		free(w->v[w->n].fixed);
		return err_oom(e);
	}
	w->n++;
	return 0;
}

void patch_wants_free(struct patch_wants *w)
{
	for (size_t i = 0; i < w->n; i++) {
		free(w->v[i].name);
		free(w->v[i].fixed);
	}
	free(w->v);
	memset(w, 0, sizeof(*w));
}

int patch_wants_from_scan(struct patch_wants *w, const struct scan_result *res, struct err *e)
{
	for (size_t i = 0; i < res->n; i++) {
		const struct finding *f = &res->f[i];

		if (!f->reported || !f->fixed || !*f->fixed || strcmp(f->pkg->type, "deb") != 0)
			continue;
		if (patch_wants_add(w, f->pkg->name, f->fixed, e) < 0)
			return -1;
	}
	return 0;
}

int patch_wants_from_report(struct patch_wants *w, const char *path, const struct patch_image *p, struct err *e)
{
	struct buf b __attribute__((cleanup(buf_cleanup))) = BUF_INIT;
	cJSON *root __attribute__((cleanup(cjson_deletep))) = NULL;
	const cJSON *fs, *os, *f;
	const char *eco = "";

	if (fs_read_file(path, &b, 256u << 20, e) < 0)
		return err_prefix(e, "--report");
	if (!(root = oj_parse_object(b.data, b.len, 256u << 20, path, e)))
		return -1;
	const cJSON *schema = oj_get(root, "schema");
	if (!cJSON_IsString(schema) || strcmp(schema->valuestring, "bosun.scan.v1") != 0)
		return err_set(e, ERR_INPUT, "%s: not a bosun JSON scan report (schema bosun.scan.v1)", path);
	const cJSON *dg = oj_get(root, "digest");
	if (cJSON_IsString(dg) && strcmp(dg->valuestring, p->digest) != 0)
		return err_set(e, ERR_INPUT, "%s is the report of %.80s, not of this image (%s)", path,
			       dg->valuestring, p->digest);
	if ((os = oj_get(root, "os")) && cJSON_IsString(oj_get(os, "ecosystem")))
		eco = oj_get(os, "ecosystem")->valuestring;
	fs = oj_get(root, "findings");
	if (!cJSON_IsArray(fs))
		return err_set(e, ERR_INPUT, "%s: no findings array", path);
	cJSON_ArrayForEach(f, fs)
	{
		const cJSON *name = oj_get(f, "package"), *fixed = oj_get(f, "fixed_version"),
			    *fe = oj_get(f, "ecosystem"), *rep = oj_get(f, "reported");

		if (!cJSON_IsString(name) || !cJSON_IsString(fixed) || !cJSON_IsString(fe))
			return err_set(e, ERR_INPUT, "%s: a finding without package, fixed_version or ecosystem", path);
		if (!*eco || strcmp(fe->valuestring, eco) != 0 || !*fixed->valuestring || cJSON_IsFalse(rep))
			continue;
		if (!patch_valid_name(name->valuestring))
			return err_set(e, ERR_INPUT, "%s: \"%.80s\" is not a package name", path, name->valuestring);
		if (patch_wants_add(w, name->valuestring, fixed->valuestring, e) < 0)
			return -1;
	}
	return 0;
}

/* ------------------------------------------------------------------ staging */

static int read_json_blob(struct patch_image *p, const char *digest, cJSON **out, const char *what, struct err *e)
{
	struct buf b __attribute__((cleanup(buf_cleanup))) = BUF_INIT;

	if (oci_layout_read_blob(p->lay, digest, &b, BUF_CAP_MANIFEST, e) < 0)
		return -1;
	*out = oj_parse_object(b.data, b.len, BUF_CAP_MANIFEST, what, e);
	return *out ? 0 : -1;
}

/* The previous patch layer: the manifest names it, and it is the last one. */
static int find_previous(struct patch_image *p, struct err *e)
{
	const cJSON *ann = oj_get(p->manifest, "annotations"), *layers = oj_get(p->manifest, "layers");
	const cJSON *pl = ann ? oj_get(ann, PATCH_ANN_LAYER) : NULL;
	int n = cJSON_GetArraySize(layers);

	p->n_keep = (size_t)n;
	if (!cJSON_IsString(pl) || n < 2)
		return 0;
	const cJSON *last = oj_get(cJSON_GetArrayItem(layers, n - 1), "digest");
	if (!cJSON_IsString(last) || strcmp(last->valuestring, pl->valuestring) != 0)
		return 0;
	p->has_prev = true;
	p->n_keep = (size_t)n - 1;
	const cJSON *pk = oj_get(ann, PATCH_ANN_PACKAGES);
	cJSON *arr __attribute__((cleanup(cjson_deletep))) =
	    cJSON_IsString(pk) ? cJSON_Parse(pk->valuestring) : NULL;
	const cJSON *it;
	cJSON_ArrayForEach(it, arr)
	{
		const cJSON *nm = oj_get(it, "name"), *fr = oj_get(it, "from"), *to = oj_get(it, "to");
		if (cJSON_IsString(nm) && cJSON_IsString(fr) && cJSON_IsString(to) && patch_valid_name(nm->valuestring) &&
		    patch_pkg_add(&p->prev, &p->n_prev, nm->valuestring, fr->valuestring, to->valuestring, e) < 0)
			return -1;
	}
	return 0;
}

int patch_stage_image(struct patch_image *p, const char *src, const char *platform, const char *tag,
		      char digest[72], char mt[128], struct err *e)
{
	struct location from, to;
	struct copy_opts co;
	struct copy_result cr;
	struct oci_platform plat;
	char spec[4200];
	int r;

	memset(&co, 0, sizeof(co));
	memset(&plat, 0, sizeof(plat));
	if ((platform ? oci_platform_parse(&plat, platform, e) : oci_platform_default(&plat, e)) < 0)
		return -1;
	co.src_reg = p->o->reg;
	co.dst_reg = p->o->reg;
	co.platform = &plat;
	snprintf(spec, sizeof(spec), "oci:%s:%s", p->lay_dir, tag);
	r = location_parse(&from, src, e);
	if (r == 0) {
		r = location_parse(&to, spec, e);
		if (r == 0) {
			r = image_copy(&from, &to, &co, &cr, e);
			location_free(&to);
		}
		location_free(&from);
	}
	oci_platform_free(&plat);
	if (r < 0)
		return -1;
	snprintf(digest, 72, "%s", cr.digest);
	snprintf(mt, 128, "%s", cr.media_type);
	return 0;
}

int patch_unpack(const struct patch_image *p, const char *const *digests, size_t n, const char *dir,
		 struct err *e)
{
	struct unpack_opts uo = { .set_owner = !p->rootless };

	if (mkdir(dir, 0755) < 0)
		return err_errno(e, ERR_INTERNAL, "mkdir %s", dir);
	for (size_t i = 0; i < n; i++) {
		char *path = oci_layout_blob_path(p->lay, digests[i]);
		int r = path ? oci_unpack_layer(path, dir, &uo, e) : err_oom(e);

		free(path);
		if (r < 0)
			return err_prefix(e, "layer %zu", i + 1);
	}
	return 0;
}

static int stage(struct patch_image *p, const char *src, struct err *e)
{
	struct location from;
	char mt[128];

	if (location_parse(&from, src, e) < 0)
		return -1;
	bool dir = from.kind == LOC_DIR;
	location_free(&from);
	if (dir)
		return err_set(e, ERR_USAGE, "%s: a dir: location has no layers to patch", src);
	if (patch_stage_image(p, src, p->o->platform, "src", p->digest, mt, e) < 0)
		return -1;
	if (oci_mt_is_index(mt))
		return err_set(e, ERR_INPUT, "%s is an index: give --platform", src);
	return 0;
}

/* The layers below a previous patch layer, unpacked into work/root. */
static int unpack_kept(struct patch_image *p, struct err *e)
{
	const cJSON *layers = oj_get(p->manifest, "layers");
	const char **dg = calloc(p->n_keep + 1, sizeof(char *));
	int r;

	if (!dg)
		return err_oom(e);
	for (size_t i = 0; i < p->n_keep; i++) {
		const cJSON *d = oj_get(cJSON_GetArrayItem(layers, (int)i), "digest");
		if (!cJSON_IsString(d)) {
			free(dg);
			return err_set(e, ERR_INPUT, "manifest: layer %zu has no digest", i);
		}
		dg[i] = d->valuestring;
	}
	r = (p->root = xasprintf_e(e, "%s/root", p->work)) ? patch_unpack(p, dg, p->n_keep, p->root, e) : -1;
	free(dg);
	return r;
}

/* os-release of the root (etc/, else usr/lib/), resolved inside it. */
static int read_os_release(struct patch_image *p, struct buf *out, struct err *e)
{
	int rootfd = open(p->root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	int r;

	if (rootfd < 0)
		return err_errno(e, ERR_INTERNAL, "open %s", p->root);
	out->max = 1u << 20;
	r = patch_read_in_root(rootfd, "etc/os-release", out, e);
	if (r < 0) {
		err_clear(e);
		buf_reset(out);
		r = patch_read_in_root(rootfd, "usr/lib/os-release", out, e);
	}
	close(rootfd);
	if (r < 0) {
		err_clear(e);
		return err_set(e, ERR_INPUT, "the image has no /etc/os-release: cannot tell its distribution");
	}
	return buf_add(out, "", 1, e);
}

static void os_field(const char *text, const char *key, char *out, size_t cap)
{
	size_t kl = strlen(key);

	out[0] = 0;
	for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		if (strncmp(l, key, kl) != 0 || l[kl] != '=')
			continue;
		const char *v = l + kl + 1, *end = strchr(v, '\n');
		size_t n = end ? (size_t)(end - v) : strlen(v);
		if (n && (*v == '"' || *v == '\'')) {
			v++;
			n = n >= 2 ? n - 2 : 0;
		}
		snprintf(out, cap, "%.*s", (int)n, v);
		return;
	}
}

static bool in_root(const struct patch_image *p, const char *rel, int type)
{
	int rootfd = open(p->root, O_PATH | O_DIRECTORY | O_CLOEXEC), fd;
	struct stat st;
	bool ok = false;

	if (rootfd < 0)
		return false;
	fd = oci_root_open(rootfd, rel, O_PATH, 0);
	if (fd >= 0) {
		ok = fstat(fd, &st) == 0 && (type == 0 || (st.st_mode & S_IFMT) == (unsigned)type) &&
		     (type != S_IFREG || st.st_size > 0);
		close(fd);
	}
	close(rootfd);
	return ok;
}

/* Which distribution and which way to patch it. */
static int detect(struct patch_image *p, struct err *e)
{
	struct buf osr __attribute__((cleanup(buf_cleanup))) = BUF_INIT;
	char like[128];

	if (read_os_release(p, &osr, e) < 0)
		return -1;
	os_field(osr.data, "ID", p->os.id, sizeof(p->os.id));
	os_field(osr.data, "VERSION_ID", p->os.version_id, sizeof(p->os.version_id));
	os_field(osr.data, "VERSION_CODENAME", p->os.codename, sizeof(p->os.codename));
	os_field(osr.data, "ID_LIKE", like, sizeof(like));
	snprintf(p->os.text, sizeof(p->os.text), "%s %s%s%s%s", *p->os.id ? p->os.id : "?",
		 *p->os.version_id ? p->os.version_id : "?", *p->os.codename ? " (" : "", p->os.codename,
		 *p->os.codename ? ")" : "");
	bool deb = strcmp(p->os.id, "debian") == 0 || strcmp(p->os.id, "ubuntu") == 0;
	if (!deb) {
		if (strcmp(p->os.id, "alpine") == 0 || in_root(p, "lib/apk/db/installed", S_IFREG))
			return err_set(e, ERR_INPUT, "%s: Alpine (apk) images are not supported yet", p->os.text);
		if (in_root(p, "var/lib/rpm", S_IFDIR) || in_root(p, "usr/lib/sysimage/rpm", S_IFDIR))
			return err_set(e, ERR_INPUT, "%s: RPM-based images are not supported yet", p->os.text);
		if (strstr(like, "debian"))
			return err_set(e, ERR_INPUT, "%s: a Debian derivative bosun does not know the archives of "
						     "(Debian and Ubuntu are supported)", p->os.text);
		return err_set(e, ERR_INPUT, "unknown distribution \"%s\" (Debian and Ubuntu are supported)",
			       p->os.id);
	}
	if (!*p->os.codename || !*p->os.version_id)
		return err_set(e, ERR_INPUT, "%s: os-release names no VERSION_ID and VERSION_CODENAME (a testing or "
					     "unstable image has no security suite)", p->os.text);
	bool status = in_root(p, "var/lib/dpkg/status", S_IFREG);
	bool statusd = in_root(p, "var/lib/dpkg/status.d", S_IFDIR);
	if (!status && !statusd)
		return err_set(e, ERR_INPUT, "%s: no OS packages in the image (no dpkg database)", p->os.text);
	if (status && in_root(p, "usr/bin/apt-get", S_IFREG) && in_root(p, "usr/bin/dpkg", S_IFREG) &&
	    in_root(p, "bin/sh", 0))
		p->pm = PM_APT;
	else if (statusd && !in_root(p, "usr/bin/dpkg", S_IFREG))
		p->pm = PM_DISTROLESS;
	else
		return err_set(e, ERR_INPUT, "%s: the image has dpkg's database but no apt-get, dpkg and /bin/sh "
					     "to run them (not supported yet)", p->os.text);
	if (dpkg_db_read(&p->before, p->root, p->pm == PM_DISTROLESS, e) < 0)
		return -1;
	size_t n = 0;
	for (size_t i = 0; i < p->before.n; i++)
		n += p->before.v[i].installed;
	if (n == 0)
		return err_set(e, ERR_INPUT, "%s: no OS packages in the image (the dpkg database lists none installed)",
			       p->os.text);
	return 0;
}

int patch_open(struct patch_image **out, const char *src, const struct patch_opts *o, struct err *e)
{
	struct patch_image *p = calloc(1, sizeof(*p));
	const cJSON *cfg, *cd;

	*out = NULL;
	if (!p)
		return err_oom(e);
	p->opts = *o;
	p->o = &p->opts;
	p->work_lock = -1;
	p->rootless = geteuid() != 0;
	fs_tmpdir_sweep("bosun-patch");
	if (!(p->work = fs_mkdtemp("bosun-patch", e)) || (p->work_lock = fs_tmpdir_lock(p->work, e)) < 0)
		goto fail;
	if (!(p->lay_dir = xasprintf_e(e, "%s/img", p->work)) || !(p->spec = xasprintf_e(e, "oci:%s:src", p->lay_dir)))
		goto fail;
	log_info("patch: reading %s", src);
	if (stage(p, src, e) < 0 || oci_layout_open(&p->lay, p->lay_dir, false, e) < 0)
		goto fail;
	if (read_json_blob(p, p->digest, &p->manifest, "manifest", e) < 0)
		goto fail;
	cfg = oj_get(p->manifest, "config");
	cd = cfg ? oj_get(cfg, "digest") : NULL;
	if (!cJSON_IsString(cd) || !cJSON_IsArray(oj_get(p->manifest, "layers"))) {
		err_set(e, ERR_INPUT, "%s: the manifest has no config or layers", src);
		goto fail;
	}
	if (read_json_blob(p, cd->valuestring, &p->config, "config", e) < 0 || find_previous(p, e) < 0)
		goto fail;
	const cJSON *os = oj_get(p->config, "os"), *arch = oj_get(p->config, "architecture");
	snprintf(p->platform, sizeof(p->platform), "%s/%s", cJSON_IsString(os) ? os->valuestring : "linux",
		 cJSON_IsString(arch) ? arch->valuestring : "amd64");
	if (p->has_prev)
		log_info("patch: the image has a patch layer (%zu package%s); it is replaced", p->n_prev,
			 p->n_prev == 1 ? "" : "s");
	if (unpack_kept(p, e) < 0 || detect(p, e) < 0)
		goto fail;
	log_info("patch: %s, %zu packages, %s", p->os.text, p->before.n,
		 p->pm == PM_APT ? "apt-get in the image" : "no package manager in the image: a tooling root");
	*out = p;
	return 0;
fail:
	err_prefix(e, "patch %s", src);
	patch_close(p);
	return -1;
}

void patch_close(struct patch_image *p)
{
	if (!p)
		return;
	if (p->lay)
		oci_layout_close(p->lay);
	if (p->work) {
		struct err e2 = ERR_INIT;
		fs_rm_rf(p->work, &e2);
	}
	if (p->work_lock >= 0)
		close(p->work_lock);
	cJSON_Delete(p->manifest);
	cJSON_Delete(p->config);
	patch_pkgs_free(p->prev, p->n_prev);
	dpkg_db_free(&p->before);
	free(p->work);
	free(p->lay_dir);
	free(p->spec);
	free(p->root);
	free(p);
}

const char *patch_staged_spec(const struct patch_image *p) { return p->spec; }
const char *patch_distro(const struct patch_image *p) { return p->os.text; }
const char *patch_src_digest(const struct patch_image *p) { return p->digest; }

const struct patch_pkg *patch_previous(const struct patch_image *p, size_t *n)
{
	*n = p->n_prev;
	return p->prev;
}

/* ------------------------------------------------------------------ assembly */

static cJSON *pkgs_json(const struct patch_pkg *v, size_t n)
{
	cJSON *a = cJSON_CreateArray();

	for (size_t i = 0; a && i < n; i++) {
		cJSON *o = cJSON_CreateObject();
		if (!o) {
			cJSON_Delete(a);
			return NULL;
		}
		cJSON_AddItemToArray(a, o);
		cJSON_AddStringToObject(o, "name", v[i].name);
		cJSON_AddStringToObject(o, "from", v[i].from);
		cJSON_AddStringToObject(o, "to", v[i].to);
	}
	return a;
}

/* The config: the old patch's diff_id and history entry replaced. */
static int new_config(struct patch_image *p, const struct layer_result *lr, const char *when, const char *text,
		      char digest[72], int64_t *size, struct err *e)
{
	cJSON *c __attribute__((cleanup(cjson_deletep))) = cJSON_Duplicate(p->config, 1);
	cJSON *rootfs, *ids, *hist;
	char *s;

	if (!c)
		return err_oom(e);
	rootfs = cJSON_GetObjectItemCaseSensitive(c, "rootfs");
	ids = rootfs ? cJSON_GetObjectItemCaseSensitive(rootfs, "diff_ids") : NULL;
	if (!cJSON_IsArray(ids) || (size_t)cJSON_GetArraySize(ids) != p->n_keep + p->has_prev)
		return err_set(e, ERR_INPUT, "config: rootfs.diff_ids does not match the manifest's layers");
	if (p->has_prev)
		cJSON_DeleteItemFromArray(ids, cJSON_GetArraySize(ids) - 1);
	cJSON_AddItemToArray(ids, cJSON_CreateString(lr->diff_id));
	hist = cJSON_GetObjectItemCaseSensitive(c, "history");
	if (!hist)
		hist = cJSON_AddArrayToObject(c, "history");
	if (p->has_prev && cJSON_IsArray(hist)) {
		for (int i = cJSON_GetArraySize(hist) - 1; i >= 0; i--) {
			const cJSON *cm = oj_get(cJSON_GetArrayItem(hist, i), "comment");
			if (cJSON_IsString(cm) && strcmp(cm->valuestring, PATCH_HISTORY_COMMENT) == 0) {
				cJSON_DeleteItemFromArray(hist, i);
				break;
			}
		}
	}
	if (cJSON_IsArray(hist)) {
		cJSON *h = cJSON_CreateObject();
		char *cb = xasprintf_e(e, "bosun patch: %s", text);
		if (!h || !cb) {
			cJSON_Delete(h);
			free(cb);
			return err_oom(e);
		}
		cJSON_AddStringToObject(h, "created", when);
		cJSON_AddStringToObject(h, "created_by", cb);
		cJSON_AddStringToObject(h, "comment", PATCH_HISTORY_COMMENT);
		cJSON_AddItemToArray(hist, h);
		free(cb);
	}
	cJSON_DeleteItemFromObjectCaseSensitive(c, "created");
	cJSON_AddStringToObject(c, "created", when);
	if (!(s = oj_print(c, e)))
		return -1;
	*size = (int64_t)strlen(s);
	int r = oci_layout_put_blob(p->lay, s, strlen(s), digest, e);
	free(s);
	return r;
}

static int set_ann(cJSON *ann, const char *k, const char *v)
{
	cJSON_DeleteItemFromObjectCaseSensitive(ann, k);
	return cJSON_AddStringToObject(ann, k, v) ? 0 : -1;
}

static int new_manifest(struct patch_image *p, const struct layer_result *lr, const char *cfg_digest,
			int64_t cfg_size, const char *when, const struct patch_pkg *pkgs, size_t n,
			struct patch_result *r, struct err *e)
{
	cJSON *m __attribute__((cleanup(cjson_deletep))) = cJSON_Duplicate(p->manifest, 1);
	cJSON *pj __attribute__((cleanup(cjson_deletep))) = pkgs_json(pkgs, n);
	cJSON *cfg, *layers, *ann, *l;
	char *s, *pt = NULL;
	const cJSON *mt;

	if (!m || !pj)
		return err_oom(e);
	mt = oj_get(m, "mediaType");
	bool docker = cJSON_IsString(mt) && strcmp(mt->valuestring, MT_DOCKER_MANIFEST) == 0;
	cfg = cJSON_GetObjectItemCaseSensitive(m, "config");
	cJSON_DeleteItemFromObjectCaseSensitive(cfg, "digest");
	cJSON_DeleteItemFromObjectCaseSensitive(cfg, "size");
	cJSON_AddStringToObject(cfg, "digest", cfg_digest);
	cJSON_AddNumberToObject(cfg, "size", (double)cfg_size);
	layers = cJSON_GetObjectItemCaseSensitive(m, "layers");
	if (p->has_prev)
		cJSON_DeleteItemFromArray(layers, cJSON_GetArraySize(layers) - 1);
	if (!(l = cJSON_CreateObject()))
		return err_oom(e);
	cJSON_AddItemToArray(layers, l);
	cJSON_AddStringToObject(l, "mediaType",
				docker && strcmp(lr->media_type, MT_OCI_LAYER_GZIP) == 0 ? MT_DOCKER_LAYER_GZIP
											  : lr->media_type);
	cJSON_AddStringToObject(l, "digest", lr->digest);
	cJSON_AddNumberToObject(l, "size", (double)lr->size);
	ann = cJSON_GetObjectItemCaseSensitive(m, "annotations");
	if (!ann)
		ann = cJSON_AddObjectToObject(m, "annotations");
	if (!ann || !(pt = oj_print(pj, e)))
		return ann ? -1 : err_oom(e);
	int bad = set_ann(ann, PATCH_ANN_PACKAGES, pt) | set_ann(ann, PATCH_ANN_CREATED, when) |
		  set_ann(ann, PATCH_ANN_LAYER, lr->digest);
	free(pt);
	if (bad || !(s = oj_print(m, e)))
		return bad ? err_oom(e) : -1;
	struct oci_desc d = { .media_type = (char *)(cJSON_IsString(mt) ? mt->valuestring : MT_OCI_MANIFEST),
			      .size = (int64_t)strlen(s) };
	int rc = oci_layout_put_blob(p->lay, s, strlen(s), r->digest, e);
	free(s);
	if (rc < 0)
		return -1;
	d.digest = r->digest;
	if (oci_layout_set_ref(p->lay, &d, "patched", e) < 0)
		return -1;
	r->spec = xasprintf_e(e, "oci:%s:patched", p->lay_dir);
	return r->spec ? 0 : -1;
}

static int assemble(struct patch_image *p, const char *upper, struct patch_result *r, struct err *e)
{
	int64_t t = p->o->created >= 0 ? p->o->created : (int64_t)time(NULL);
	struct layer_opts lo = { .comp = p->o->comp,
				 .level = 0,
				 .clamp_mtime = p->o->created,
				 .overlay_whiteouts = p->pm == PM_APT,
				 .map_self_root = p->rootless,
				 .threads = (int)sysconf(_SC_NPROCESSORS_ONLN) };
	struct layer_result lr;
	char when[32], cfg_digest[72];
	int64_t cfg_size = 0;
	char *text;
	int rc;

	time_rfc3339(t, when);
	if (oci_layer_write_dir(p->lay, upper, &lo, &lr, e) < 0)
		return err_prefix(e, "the patch layer");
	if (!(text = patch_pkgs_text(r->pkgs, r->n_pkgs, e)))
		return -1;
	rc = new_config(p, &lr, when, text, cfg_digest, &cfg_size, e);
	free(text);
	if (rc < 0)
		return -1;
	return new_manifest(p, &lr, cfg_digest, cfg_size, when, r->pkgs, r->n_pkgs, r, e);
}

/* The wants to hand to the package manager: those installed, and the
 * packages a replaced patch layer had upgraded. */
static int effective_wants(const struct patch_image *p, const struct patch_wants *w, struct patch_wants *eff,
			   struct err *e)
{
	for (size_t i = 0; i < w->n; i++) {
		const struct dpkg_ent *d = dpkg_db_find(&p->before, w->v[i].name);
		if (!patch_valid_name(w->v[i].name))
			return err_set(e, ERR_INPUT, "\"%.80s\" is not a package name", w->v[i].name);
		if (!d || !d->installed) {
			log_debug("patch: %s is not installed below the patch layer; skipped", w->v[i].name);
			continue;
		}
		if (*w->v[i].fixed && vercmp_dpkg(d->version, w->v[i].fixed) >= 0)
			continue; /* already fixed */
		if (patch_wants_add(eff, w->v[i].name, w->v[i].fixed, e) < 0)
			return -1;
	}
	for (size_t i = 0; i < p->n_prev; i++) {
		const struct dpkg_ent *d = dpkg_db_find(&p->before, p->prev[i].name);
		if (d && d->installed && *p->prev[i].from &&
		    patch_wants_add(eff, p->prev[i].name, p->prev[i].to, e) < 0)
			return -1;
	}
	return 0;
}

static int unchanged(struct patch_image *p, struct patch_result *r, struct err *e)
{
	snprintf(r->digest, sizeof(r->digest), "%s", p->digest);
	r->spec = xstrdup_e(p->spec, e);
	return r->spec ? 0 : -1;
}

/* Wants the upgrade did not meet: the mirrors had no fixed version. */
static int note_unfixed(struct patch_image *p, const struct patch_wants *eff, struct patch_result *r,
			struct err *e)
{
	for (size_t i = 0; i < eff->n; i++) {
		const char *now = dpkg_db_find(&p->before, eff->v[i].name)->version;
		for (size_t k = 0; k < r->n_pkgs; k++)
			if (strcmp(r->pkgs[k].name, eff->v[i].name) == 0)
				now = r->pkgs[k].to;
		if (!*eff->v[i].fixed || vercmp_dpkg(now, eff->v[i].fixed) >= 0)
			continue;
		char **t = realloc(r->unfixed, (r->n_unfixed + 1) * sizeof(char *));
		if (!t)
			return err_oom(e);
		r->unfixed = t;
		if (!(t[r->n_unfixed] = xasprintf_e(e, "%s: have %s, the fix needs %s", eff->v[i].name, now,
						     eff->v[i].fixed)))
			return -1;
		r->n_unfixed++;
	}
	return 0;
}

int patch_apply(struct patch_image *p, const struct patch_wants *w, struct patch_result *r, struct err *e)
{
	struct patch_wants eff = { 0 };
	char *upper = NULL;
	double t0 = time_now();
	int rc = -1;

	memset(r, 0, sizeof(*r));
	if (effective_wants(p, w, &eff, e) < 0)
		goto out;
	if (eff.n == 0 && !p->o->all) {
		log_info("patch: nothing to patch: no installed package has a fix to take");
		rc = unchanged(p, r, e);
		goto out;
	}
	if (!(upper = xasprintf_e(e, "%s/upper", p->work)) || mkdir(upper, 0755) < 0) {
		if (upper)
			err_errno(e, ERR_INTERNAL, "mkdir %s", upper);
		goto out;
	}
	if (p->pm == PM_APT) {
		struct dpkg_db after = { 0 };
		if (apt_upgrade(p, &eff, upper, e) < 0)
			goto out;
		char *st = xasprintf_e(e, "%s/var/lib/dpkg/status", upper);
		bool changed = st && fs_exists(st);
		free(st);
		if (changed && dpkg_db_read(&after, upper, false, e) < 0)
			goto out;
		for (size_t i = 0; i < after.n; i++) {
			const struct dpkg_ent *b = dpkg_db_find(&p->before, after.v[i].name);
			if (!after.v[i].installed || (b && b->installed && strcmp(b->version, after.v[i].version) == 0))
				continue;
			if (patch_pkg_add(&r->pkgs, &r->n_pkgs, after.v[i].name, b && b->installed ? b->version : "",
					  after.v[i].version, e) < 0) {
				dpkg_db_free(&after);
				goto out;
			}
		}
		dpkg_db_free(&after);
	} else if (deb_upgrade(p, &eff, upper, &r->pkgs, &r->n_pkgs, e) < 0) {
		goto out;
	}
	if (note_unfixed(p, &eff, r, e) < 0)
		goto out;
	if (r->n_pkgs == 0) {
		log_info("patch: nothing to patch: the mirrors have no newer version of the packages wanted");
		rc = unchanged(p, r, e);
		goto out;
	}
	r->changed = true;
	r->replaced = p->has_prev;
	rc = assemble(p, upper, r, e);
out:
	r->seconds = time_now() - t0;
	patch_wants_free(&eff);
	free(upper);
	return rc;
}

void patch_result_free(struct patch_result *r)
{
	free(r->spec);
	patch_pkgs_free(r->pkgs, r->n_pkgs);
	for (size_t i = 0; i < r->n_unfixed; i++)
		free(r->unfixed[i]);
	free(r->unfixed);
	memset(r, 0, sizeof(*r));
}
