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
#include "image/image.h"
#include "image/location.h"
#include "scan/cat.h"
#include "scan/inventory.h"
#include "scan/layercache.h"
#include "scan/rpmdb.h"

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
	if (strcmp(base, "PKG-INFO") == 0 && (strstr(p, ".egg-info/") || str_ends(p, ".egg/EGG-INFO/PKG-INFO")))
		return true;
	if (str_ends(p, ".egg-info") && !strchr(base, '/'))
		return true; /* egg-info as a single file */
	/* an installed package, or (with a name and a version) an application's
	 * own package.json anywhere, as Trivy lists it */
	if (strcmp(base, "package.json") == 0)
		return true;
	if (strcmp(base, "Cargo.lock") == 0 || cat_is_js_lock(p))
		return true;
	return false;
}

static bool is_lock(const char *p)
{
	return str_ends(p, "Cargo.lock") || cat_is_js_lock(p);
}

static int catalog_one(struct inventory *inv, const struct fileset *fs, const struct kfile *k, struct err *e)
{
	const char *base = strrchr(k->path, '/');

	base = base ? base + 1 : k->path;
	if (k->goinfo)
		return cat_go(inv, k, e);
	if (strcmp(k->path, "var/lib/dpkg/status") == 0 || str_starts(k->path, "var/lib/dpkg/status.d/"))
		return cat_dpkg(inv, k, e);
	if (strcmp(k->path, "lib/apk/db/installed") == 0)
		return cat_apk(inv, k, e);
	if (strcmp(base, "rpmdb.sqlite") == 0 || strcmp(k->path, "var/lib/rpm/Packages") == 0)
		return cat_rpm(inv, k, e);
	if (strcmp(base, "METADATA") == 0 || strcmp(base, "PKG-INFO") == 0 || str_ends(k->path, ".egg-info"))
		return cat_python(inv, k, e);
	if (strcmp(base, "package.json") == 0)
		return cat_npm(inv, k, e);
	if (strcmp(base, "Cargo.lock") == 0)
		return cat_cargo(inv, k, e);
	if (cat_is_js_lock(k->path))
		return cat_js_lock(inv, fs, k, e);
	if (strcmp(base, "pom.properties") == 0)
		return cat_pom(inv, k, e);
	if (strcmp(base, "pom.xml") == 0 && strstr(k->path, "!/META-INF/maven/"))
		return cat_pom_xml(inv, fs, k, e);
	if (str_ends(k->path, "!/META-INF/MANIFEST.MF"))
		return cat_manifest(inv, fs, k, e);
	return 0;
}

static int catalog(struct inventory *inv, const struct fileset *fs, struct err *e)
{
	cat_detect_os(inv, fs);
	for (size_t i = 0; i < fs->n; i++) {
		const struct kfile *k = &fs->f[i];
		int r = catalog_one(inv, fs, k, e);

		if (r < 0)
			return err_prefix(e, "%s", k->path);
		if (r == CAT_UNPARSED) {
			/* one bad lock file costs its packages, not the scan */
			inv->unparsed++;
			log_warn("%s: does not parse as a lock file of its kind; skipped", k->path);
		}
	}
	return 0;
}

/* ------------------------------------------------------------ readers */

/* One layer (or one file of dir:), streamed through f. */
typedef la_ssize_t (*read_fn)(void *ctx, void *buf, size_t n);

static int keep_stream(struct fileset *fs, const char *path, int64_t size, bool exec, int layer, read_fn rd, void *ctx,
		       struct err *e)
{
	char chunk[65536];
	la_ssize_t r;

	if (needed(path)) {
		struct kfile *k;

		/* an oversized lock file is kept empty: it counts as unparsed */
		if (size > (int64_t)kept_file_cap(path) && is_lock(path))
			return fileset_add(fs, path, layer, e) ? 0 : -1;
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
	if (cat_is_archive(path) && size <= (int64_t)CAT_ZIP_MAX) {
		struct buf b = BUF_INIT;
		int rc = 0;

		buf_init(&b, CAT_ZIP_MAX);
		while ((r = rd(ctx, chunk, sizeof(chunk))) > 0)
			if (buf_add(&b, chunk, (size_t)r, e) < 0)
				break;
		if (r == 0 && !e->code)
			rc = cat_zip(fs, path, b.data, b.len, layer, 0, e);
		else
			err_clear(e);
		buf_free(&b);
		return rc;
	}
	if (exec && size > 4096) {
		struct goscan *g = goscan_new();
		struct buf info = BUF_INIT;
		int rc = 0;

		if (!g)
			return err_oom(e);
		while (!goscan_done(g) && (r = rd(ctx, chunk, sizeof(chunk))) > 0)
			goscan_feed(g, (unsigned char *)chunk, (size_t)r);
		buf_init(&info, CAT_GOINFO_MAX + 64);
		rc = goscan_finish(g, &info, e);
		if (rc == 0 && info.len) {
			struct kfile *k = fileset_add(fs, path, layer, e);

			if (!k || buf_add(&k->data, info.data, info.len, e) < 0)
				rc = -1;
			else
				k->goinfo = true;
		}
		buf_free(&info);
		goscan_free(g);
		return rc;
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
		return err_oom(e);
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
		if (!needed(relp) && !cat_is_archive(relp) && !((sb.st_mode & 0111) && sb.st_size > 4096))
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
		r = *digest ? 0 : err_oom(e);
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
		/* a registry reference gets the digest; a local base (oci:DIR:TAG,
		 * docker-archive:FILE) is found by its name as it was given */
		bool local = str_starts(n->valuestring, "oci:") || str_starts(n->valuestring, "docker-archive:");
		if (!local && cJSON_IsString(d) && oci_digest_valid(d->valuestring) && !strchr(n->valuestring, '@'))
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
		err_oom(e);
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
		err_oom(e);
		goto out;
	}
	for (size_t i = 0; i < m.n_layers; i++) {
		if (!(inv->layers[i] = strdup(m.layers[i].digest))) {
			err_oom(e);
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
			err_oom(e);
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
