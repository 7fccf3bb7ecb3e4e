#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/fs.h"
#include "core/ojson.h"
#include "core/log.h"
#include "core/sha256.h"
#include "core/util.h"
#include "oci/desc.h"
#include "scan/dbsync.h"

char *bosun_cache_dir(const char *override, struct err *e)
{
	const char *x = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");

	if (override && *override)
		return xstrdup_e(override, e);
	if (x && *x)
		return xasprintf_e(e, "%s/bosun", x);
	return xasprintf_e(e, "%s/.cache/bosun", home && *home ? home : "/tmp");
}

char *vdb_cached_path(const char *cache_dir, struct err *e)
{
	return xasprintf_e(e, "%s/db/vuln.db", cache_dir);
}

/* Writers of one database directory take turns: an flock on the directory
 * itself (no lock file left behind; released when the process dies, even by
 * kill -9). A second `db update` waits, then finds the feeds current.
 * Returns the fd to close, or -1. */
static int dir_lock(const char *dir, struct err *e)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return err_errno(e, ERR_INTERNAL, "open %s", dir);
	while (flock(fd, LOCK_EX) < 0) {
		if (errno == EINTR)
			continue;
		err_errno(e, ERR_INTERNAL, "lock %s", dir);
		close(fd);
		return -1;
	}
	return fd;
}

static bool pid_gone(const char *digits)
{
	char *end;
	long pid = strtol(digits, &end, 10);

	return *digits && !*end && pid > 0 && kill((pid_t)pid, 0) < 0 && errno == ESRCH;
}

/* What a killed run left in dir beside the file base, removed under the
 * directory's lock: ".BASE.tmp-*" (atomic writes) and "BASE.pull-*",
 * ".BASE.pull-*" (pulls) are only written under that lock, so none of them
 * is in use; "BASE.tmp.PID" (a database build, which `db build -o` also
 * does without the lock) only when that process is gone. */
static void drop_leftovers(const char *dir, const char *base)
{
	size_t bl = strlen(base);
	struct dirent *d;
	DIR *dh = opendir(dir);

	if (!dh)
		return;
	while ((d = readdir(dh))) {
		const char *n = d->d_name, *rest;
		bool drop = false;

		if (n[0] == '.' && strncmp(n + 1, base, bl) == 0) {
			rest = n + 1 + bl;
			drop = str_starts(rest, ".tmp-") || str_starts(rest, ".pull-");
		} else if (strncmp(n, base, bl) == 0) {
			rest = n + bl;
			drop = str_starts(rest, ".pull-") || (str_starts(rest, ".tmp.") && pid_gone(rest + 5));
		}
		if (drop && unlinkat(dirfd(dh), n, 0) == 0)
			log_debug("removed %s/%s, left by an interrupted run", dir, n);
	}
	closedir(dh);
}

/* Ecosystem names go into URLs and directory names: keep [A-Za-z0-9._-]. */
static void enc_eco(const char *eco, char *out, size_t cap, bool url)
{
	size_t o = 0;

	for (const unsigned char *p = (const unsigned char *)eco; *p && o + 4 < cap; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '.' ||
		    *p == '-' || *p == '_')
			out[o++] = (char)*p;
		else
			o += (size_t)snprintf(out + o, cap - o, url ? "%%%02X" : "_%02X", *p);
	}
	out[o] = 0;
}

static void read_meta(const char *path, char **etag, char **lastmod)
{
	struct buf b = BUF_INIT;
	struct err e = ERR_INIT;
	cJSON *j;

	*etag = *lastmod = NULL;
	if (fs_read_file(path, &b, 64 << 10, &e) < 0)
		return;
	j = cJSON_ParseWithLength(b.data, b.len);
	if (j) {
		const cJSON *a = cJSON_GetObjectItemCaseSensitive(j, "etag");
		const cJSON *l = cJSON_GetObjectItemCaseSensitive(j, "last_modified");

		if (cJSON_IsString(a))
			*etag = strdup(a->valuestring);
		if (cJSON_IsString(l))
			*lastmod = strdup(l->valuestring);
	}
	cJSON_Delete(j);
	buf_free(&b);
}

static int write_meta(const char *path, const char *url, const struct fetch_result *fr, struct err *e)
{
	cJSON *j = cJSON_CreateObject();
	int r;

	if (!j)
		return err_oom(e);
	cJSON_AddStringToObject(j, "url", url);
	if (fr->etag)
		cJSON_AddStringToObject(j, "etag", fr->etag);
	if (fr->last_modified)
		cJSON_AddStringToObject(j, "last_modified", fr->last_modified);
	r = oj_write_file(path, j, false, e);
	cJSON_Delete(j);
	return r;
}

int vdb_update(const struct vdb_update_opts *o, struct vdb_update_result *r, struct err *e)
{
	const char *base = o->base_url && *o->base_url ? o->base_url : VDB_DEFAULT_OSV_URL;
	char **zips = NULL, *dbdir = NULL;
	bool changed = false;
	int rc = -1, lockfd = -1;

	memset(r, 0, sizeof(*r));
	if (!o->n_ecosystems)
		return err_set(e, ERR_USAGE, "no ecosystems to update");
	if (!(dbdir = xasprintf_e(e, "%s/db", o->dir)) || fs_mkdir_p(dbdir, 0755, e) < 0 ||
	    (lockfd = dir_lock(dbdir, e)) < 0) {
		free(dbdir);
		return -1;
	}
	drop_leftovers(dbdir, "vuln.db");
	r->feeds = calloc(o->n_ecosystems, sizeof(*r->feeds));
	zips = calloc(o->n_ecosystems, sizeof(*zips));
	if (!r->feeds || !zips) {
		err_oom(e);
		goto out;
	}
	if (!(r->db_path = vdb_cached_path(o->dir, e)))
		goto out;
	for (size_t i = 0; i < o->n_ecosystems; i++) {
		char ue[192], de[192], *dir = NULL, *url = NULL, *meta = NULL, *etag = NULL, *lastmod = NULL;
		struct fetch_opts fo = o->fetch;
		struct fetch_result fr;
		int frc;

		enc_eco(o->ecosystems[i], ue, sizeof(ue), true);
		enc_eco(o->ecosystems[i], de, sizeof(de), false);
		snprintf(r->feeds[i].ecosystem, sizeof(r->feeds[i].ecosystem), "%s", o->ecosystems[i]);
		r->n++;
		dir = xasprintf_e(e, "%s/db/osv/%s", o->dir, de);
		url = xasprintf_e(e, "%s%s%s/all.zip", base, str_ends(base, "/") ? "" : "/", ue);
		zips[i] = dir ? xasprintf_e(e, "%s/all.zip", dir) : NULL;
		meta = dir ? xasprintf_e(e, "%s/all.zip.meta", dir) : NULL;
		if (!dir || !url || !zips[i] || !meta || fs_mkdir_p(dir, 0755, e) < 0) {
			free(dir), free(url), free(meta);
			goto out;
		}
		drop_leftovers(dir, "all.zip");
		drop_leftovers(dir, "all.zip.meta");
		/* conditional only when the file the validators describe is there */
		if (fs_exists(zips[i]))
			read_meta(meta, &etag, &lastmod);
		fo.etag = etag, fo.last_modified = lastmod;
		if (!fo.max_size)
			fo.max_size = VDB_FEED_MAX;
		frc = fetch_to_file(url, zips[i], &fo, &fr, e);
		if (frc == 0 && !fr.not_modified && write_meta(meta, url, &fr, e) < 0)
			frc = -1;
		if (frc == 0) {
			r->feeds[i].status = fr.not_modified ? FEED_NOT_MODIFIED : FEED_DOWNLOADED;
			r->feeds[i].size = fr.size;
			changed |= !fr.not_modified;
		} else {
			err_prefix(e, "%s feed", o->ecosystems[i]);
		}
		fetch_result_free(&fr);
		free(dir), free(url), free(meta), free(etag), free(lastmod);
		if (frc < 0)
			goto out;
	}
	/* a feed newer than the database (a build that failed after a download) also rebuilds */
	{
		struct stat dbs, zs;

		if (stat(r->db_path, &dbs) < 0)
			changed = true;
		for (size_t i = 0; i < o->n_ecosystems && !changed; i++)
			if (stat(zips[i], &zs) == 0 &&
			    (zs.st_mtim.tv_sec > dbs.st_mtim.tv_sec ||
			     (zs.st_mtim.tv_sec == dbs.st_mtim.tv_sec && zs.st_mtim.tv_nsec > dbs.st_mtim.tv_nsec)))
				changed = true;
	}
	if (changed || o->force) {
		struct vdb_build_opts bo = { (const char *const *)zips, o->n_ecosystems, NULL, 0, o->nvd, o->n_nvd };

		if (vdb_build(r->db_path, &bo, &r->st, e) < 0)
			goto out;
		r->rebuilt = true;
	}
	rc = 0;
out:
	if (zips)
		for (size_t i = 0; i < o->n_ecosystems; i++)
			free(zips[i]);
	free(zips);
	if (lockfd >= 0)
		close(lockfd);
	free(dbdir);
	return rc;
}

void vdb_update_result_free(struct vdb_update_result *r)
{
	free(r->feeds);
	free(r->db_path);
	memset(r, 0, sizeof(*r));
}

/* ------------------------------------------------------------ OCI artifact */

static cJSON *meta_json(struct vdb *db)
{
	cJSON *j = cJSON_CreateObject();
	static const char *const keys[] = { "schema_version", "built", "sources", "counts" };

	if (!j)
		return NULL;
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
		char *v = vdb_meta(db, keys[i]);
		cJSON *parsed = v && (v[0] == '[' || v[0] == '{') ? cJSON_Parse(v) : NULL;

		if (parsed)
			cJSON_AddItemToObject(j, keys[i], parsed);
		else
			cJSON_AddStringToObject(j, keys[i], v ? v : "");
		free(v);
	}
	return j;
}

static cJSON *desc_json(const char *mt, const char *digest, int64_t size)
{
	cJSON *d = cJSON_CreateObject();

	cJSON_AddStringToObject(d, "mediaType", mt);
	cJSON_AddStringToObject(d, "digest", digest);
	cJSON_AddNumberToObject(d, "size", (double)size);
	return d;
}

/* The database file, its config and the manifest to ref: blobs first, the
 * manifest last, so the tag never names missing content. */
static int push_artifact(const struct oci_ref *ref, const struct reg_opts *ro, const char *db_path,
			 char *ldigest, uint64_t lsize, const char *cfg_txt, const char *cdigest,
			 const char *man_txt, struct err *e)
{
	struct oci_desc ld = { (char *)VDB_MT_LAYER, ldigest, (int64_t)lsize, NULL, NULL, NULL };
	const char *paths[1] = { db_path };
	struct reg_client *c = NULL;
	int rc = -1;

	if (reg_open(&c, ref, ro, true, e) == 0 && reg_push_blobs(c, &ld, paths, 1, NULL, e) == 0 &&
	    reg_push_blob_buf(c, cfg_txt, strlen(cfg_txt), cdigest, e) == 0 &&
	    reg_put_manifest(c, oci_ref_manifest_key(ref), man_txt, strlen(man_txt), MT_OCI_MANIFEST, e) == 0)
		rc = 0;
	reg_close(c);
	return rc;
}

int vdb_push(const char *db_path, const struct oci_ref *ref, const struct reg_opts *ro, char digest_out[72],
	     struct err *e)
{
	struct vdb *db = NULL;
	cJSON *cfg = NULL, *man = NULL, *layer, *ann, *layers;
	char *cfg_txt = NULL, *man_txt = NULL, *built = NULL, ldigest[72], cdigest[72];
	uint64_t lsize;
	int rc = -1;

	if (vdb_open(&db, db_path, e) < 0)
		return -1;
	built = vdb_meta(db, "built");
	cfg = meta_json(db);
	vdb_close(db);
	cfg_txt = cfg ? cJSON_PrintUnformatted(cfg) : NULL;
	if (!cfg_txt) {
		err_oom(e);
		goto out;
	}
	if (sha256_file(db_path, ldigest, &lsize, e) < 0)
		goto out;
	sha256_digest_str(cfg_txt, strlen(cfg_txt), cdigest);
	man = cJSON_CreateObject();
	cJSON_AddNumberToObject(man, "schemaVersion", 2);
	cJSON_AddStringToObject(man, "mediaType", MT_OCI_MANIFEST);
	cJSON_AddStringToObject(man, "artifactType", VDB_MT_ARTIFACT);
	cJSON_AddItemToObject(man, "config", desc_json(VDB_MT_CONFIG, cdigest, (int64_t)strlen(cfg_txt)));
	layers = cJSON_AddArrayToObject(man, "layers");
	layer = desc_json(VDB_MT_LAYER, ldigest, (int64_t)lsize);
	ann = cJSON_AddObjectToObject(layer, "annotations");
	cJSON_AddStringToObject(ann, "org.opencontainers.image.title", "vuln.db");
	cJSON_AddItemToArray(layers, layer);
	ann = cJSON_AddObjectToObject(man, "annotations");
	if (built && *built)
		cJSON_AddStringToObject(ann, "org.opencontainers.image.created", built);
	cJSON_AddStringToObject(ann, "org.opencontainers.image.description", "bosun vulnerability database");
	man_txt = cJSON_PrintUnformatted(man);
	if (!man_txt) {
		err_oom(e);
		goto out;
	}
	sha256_digest_str(man_txt, strlen(man_txt), digest_out);
	rc = push_artifact(ref, ro, db_path, ldigest, lsize, cfg_txt, cdigest, man_txt, e);
out:
	cJSON_Delete(cfg);
	cJSON_Delete(man);
	free(cfg_txt), free(man_txt), free(built);
	return rc;
}

struct pull_ctx {
	const char *tmp;
};

static char *pull_path(void *ctx, const struct oci_desc *d)
{
	(void)d;
	return strdup(((struct pull_ctx *)ctx)->tmp);
}

int vdb_pull(const struct oci_ref *ref, const struct reg_opts *ro, const char *out_path, char digest_out[72],
	     struct err *e)
{
	struct reg_client *c = NULL;
	struct buf b = BUF_INIT;
	char *mt = NULL, *dg = NULL, *tmp = NULL, *dir = NULL;
	const char *base;
	cJSON *j = NULL;
	struct oci_desc ld = { 0 };
	struct vdb *db = NULL;
	int rc = -1, lockfd = -1;

	if (reg_open(&c, ref, ro, false, e) < 0 || reg_get_manifest(c, oci_ref_manifest_key(ref), &b, &mt, &dg, e) < 0)
		goto out;
	j = cJSON_ParseWithLength(b.data, b.len);
	{
		const cJSON *at = cJSON_GetObjectItemCaseSensitive(j, "artifactType");
		const cJSON *cfg = cJSON_GetObjectItemCaseSensitive(j, "config");
		const cJSON *cmt = cJSON_GetObjectItemCaseSensitive(cfg, "mediaType");
		const cJSON *layers = cJSON_GetObjectItemCaseSensitive(j, "layers"), *l;
		bool ours = (cJSON_IsString(at) && strcmp(at->valuestring, VDB_MT_ARTIFACT) == 0) ||
			    (cJSON_IsString(cmt) && strcmp(cmt->valuestring, VDB_MT_CONFIG) == 0);

		if (!j || !ours) {
			err_set(e, ERR_INPUT, "%s is not a bosun vulnerability database artifact (artifactType %s)",
				reg_name(c), cJSON_IsString(at) ? at->valuestring : cJSON_IsString(cmt) ? cmt->valuestring : "none");
			goto out;
		}
		cJSON_ArrayForEach(l, layers)
		{
			const cJSON *lmt = cJSON_GetObjectItemCaseSensitive(l, "mediaType");

			if (cJSON_IsString(lmt) && strcmp(lmt->valuestring, VDB_MT_LAYER) == 0) {
				if (oci_desc_from_json(&ld, l, e) < 0) {
					err_prefix(e, "database artifact layer");
					goto out;
				}
				break;
			}
		}
		if (!ld.digest) {
			err_set(e, ERR_INPUT, "database artifact has no %s layer", VDB_MT_LAYER);
			goto out;
		}
		if (ld.size > VDB_ARTIFACT_MAX) {
			err_set(e, ERR_INPUT, "database artifact layer is %lld bytes, over the limit", (long long)ld.size);
			goto out;
		}
	}
	snprintf(digest_out, 72, "%s", dg ? dg : "");
	dir = xstrdup_e(out_path, e);
	if (!dir)
		goto out;
	{
		char *slash = strrchr(dir, '/');

		base = slash ? out_path + (slash - dir) + 1 : out_path;
		if (!slash)
			snprintf(dir, strlen(dir) + 1, ".");
		else if (slash == dir)
			slash[1] = 0;
		else
			*slash = 0;
		if (fs_mkdir_p(dir, 0755, e) < 0)
			goto out;
	}
	/* one pull or update at a time per directory; then what killed ones left can go */
	if ((lockfd = dir_lock(dir, e)) < 0)
		goto out;
	drop_leftovers(dir, base);
	if (!(tmp = xasprintf_e(e, "%s.pull-%ld", out_path, (long)getpid())))
		goto out;
	{
		struct pull_ctx pc = { tmp };

		unlink(tmp);
		if (reg_fetch_blobs(c, &ld, 1, pull_path, NULL, &pc, e) < 0)
			goto out;
	}
	/* only a database bosun can open replaces the one in place */
	if (vdb_open(&db, tmp, e) < 0) {
		err_prefix(e, "pulled database");
		goto out;
	}
	vdb_close(db);
	if (rename(tmp, out_path) < 0) {
		err_errno(e, ERR_INTERNAL, "%s", out_path);
		goto out;
	}
	rc = 0;
out:
	if (tmp && rc < 0)
		unlink(tmp);
	if (lockfd >= 0)
		close(lockfd);
	free(tmp), free(dir), free(mt), free(dg);
	oci_desc_free(&ld);
	cJSON_Delete(j);
	buf_free(&b);
	reg_close(c);
	return rc;
}
