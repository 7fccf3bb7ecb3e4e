/* docker-archive writing (see archive.h; reading is archive.c): the image's
 * blobs, index.json, manifest.json and repositories streamed into a tar. */
#include "oci/archive.h"

#include <archive.h>
#include <archive_entry.h>
#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/fs.h"
#include "core/util.h"
#include "oci/digest.h"
#include "oci/manifest.h"
#include "core/ojson.h"
#include "oci/ref.h"

#define CHUNK (1 << 16)

struct out_entry {
	char *name;
	const char *digest; /* blob content from the layout, or NULL */
	const char *data;   /* in-memory content, or NULL */
	size_t len;
	int64_t size;
	bool dir;
};

static int cmp_entry(const void *a, const void *b)
{
	return strcmp(((const struct out_entry *)a)->name, ((const struct out_entry *)b)->name);
}

static int write_blob(struct archive *a, struct oci_layout *src, const struct out_entry *oe, struct err *e)
{
	char *path = oci_layout_blob_path(src, oe->digest);
	char *chunk = malloc(CHUNK);
	struct oci_digester dg = { 0 };
	int fd = -1, rc = -1;
	int64_t total = 0;
	if (!path || !chunk) {
		err_oom(e);
		goto out;
	}
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		err_errno(e, errno == ENOENT ? ERR_INPUT : ERR_INTERNAL, "open %s", path);
		goto out;
	}
	if (oci_digester_init(&dg, oe->digest, e) < 0)
		goto out;
	for (;;) {
		ssize_t n = read(fd, chunk, CHUNK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err_errno(e, ERR_INTERNAL, "read %s", path);
			goto out;
		}
		if (n == 0)
			break;
		total += n;
		if (total > oe->size) {
			err_set(e, ERR_INPUT, "blob %s grew while being written", oe->digest);
			goto out;
		}
		oci_digester_update(&dg, chunk, (size_t)n);
		if (archive_write_data(a, chunk, (size_t)n) != n) {
			err_archive(e, ERR_INTERNAL, a, "write %s", oe->name);
			goto out;
		}
	}
	char got[OCI_DIGEST_MAX];
	oci_digester_final(&dg, got);
	if (total != oe->size || strcmp(got, oe->digest) != 0) {
		err_set(e, ERR_INPUT, "blob %s in %s is corrupt (digest %s, %lld bytes)", oe->digest,
			oci_layout_dir(src), got, (long long)total);
		goto out;
	}
	rc = 0;
out:
	oci_digester_free(&dg);
	if (fd >= 0)
		close(fd);
	free(chunk);
	free(path);
	return rc;
}

static int add_entry(struct out_entry **v, size_t *n, struct out_entry oe, struct err *e)
{
	for (size_t i = 0; i < *n; i++)
		if (!strcmp((*v)[i].name, oe.name)) {
			free(oe.name);
			return 0; /* same blob listed twice (repeated layer) */
		}
	struct out_entry *nv = realloc(*v, (*n + 1) * sizeof *nv);
	if (!nv) {
		free(oe.name);
		return err_oom(e);
	}
	*v = nv;
	nv[(*n)++] = oe;
	return 0;
}

static int add_blob_entries(struct out_entry **v, size_t *n, struct oci_layout *src, const struct oci_desc *d,
			    struct err *e)
{
	if (oci_digest_check(d->digest, "descriptor", e) < 0)
		return -1;
	size_t al = strcspn(d->digest, ":");
	char *dir1 = xstrdup_e("blobs/", e);
	char *dir2 = xasprintf_e(e, "blobs/%.*s/", (int)al, d->digest);
	char *file = xasprintf_e(e, "blobs/%.*s/%s", (int)al, d->digest, d->digest + al + 1);
	char *path = oci_layout_blob_path(src, d->digest);
	struct stat st;
	int rc = -1;
	if (!dir1 || !dir2 || !file || !path) {
		free(dir1);
		free(dir2);
		free(file);
		free(path);
		return err_oom(e);
	}
	if (stat(path, &st) < 0 || !S_ISREG(st.st_mode)) {
		err_set(e, ERR_INPUT, "%s: blob %s is missing", oci_layout_dir(src), d->digest);
		free(dir1);
		free(dir2);
		free(file);
	} else if (st.st_size != d->size) {
		err_set(e, ERR_INPUT, "%s: blob %s is %lld bytes, the manifest says %lld", oci_layout_dir(src),
			d->digest, (long long)st.st_size, (long long)d->size);
		free(dir1);
		free(dir2);
		free(file);
	} else if (add_entry(v, n, (struct out_entry){ .name = dir1, .dir = true }, e) == 0 &&
		   add_entry(v, n, (struct out_entry){ .name = dir2, .dir = true }, e) == 0 &&
		   add_entry(v, n, (struct out_entry){ .name = file, .digest = d->digest, .size = d->size }, e) == 0) {
		rc = 0;
	}
	free(path);
	return rc;
}

static int write_entries(struct archive *a, struct oci_layout *src, const struct out_entry *v, size_t n,
			 struct err *e)
{
	for (size_t i = 0; i < n; i++) {
		struct archive_entry *ent = archive_entry_new();
		if (!ent)
			return err_oom(e);
		archive_entry_set_pathname(ent, v[i].name);
		archive_entry_set_filetype(ent, v[i].dir ? AE_IFDIR : AE_IFREG);
		archive_entry_set_perm(ent, v[i].dir ? 0755 : 0644);
		archive_entry_set_size(ent, v[i].dir ? 0 : v[i].digest ? v[i].size : (la_int64_t)v[i].len);
		archive_entry_set_mtime(ent, 0, 0);
		archive_entry_set_uid(ent, 0);
		archive_entry_set_gid(ent, 0);
		int h = archive_write_header(a, ent);
		archive_entry_free(ent);
		if (h != ARCHIVE_OK)
			return err_archive(e, ERR_INTERNAL, a, "write %s", v[i].name);
		if (v[i].digest && write_blob(a, src, &v[i], e) < 0)
			return -1;
		if (v[i].data && archive_write_data(a, v[i].data, v[i].len) != (la_ssize_t)v[i].len)
			return err_archive(e, ERR_INTERNAL, a, "write %s", v[i].name);
	}
	return 0;
}

/* index.json, manifest.json and repositories of the archive. */
static int build_meta(const struct oci_desc *md, const struct oci_manifest *mf, const struct oci_ref *ref,
		      char **index_json, char **manifest_json, char **repositories, struct err *e)
{
	cJSON *idx = cJSON_CreateObject(), *mj = cJSON_CreateArray(), *repos = NULL;
	cJSON *entry = NULL, *arr, *item, *tags, *layers, *ann;
	char *familiar = NULL, *full = NULL;
	int rc = -1;
	/* The effective type (body, else hint), so a caller's descriptor without one still works. */
	struct oci_desc plain = { .media_type = mf->media_type, .digest = md->digest, .size = md->size };
	if (!idx || !mj || !cJSON_AddNumberToObject(idx, "schemaVersion", 2) ||
	    !cJSON_AddStringToObject(idx, "mediaType", MT_OCI_INDEX) || !(arr = cJSON_AddArrayToObject(idx, "manifests"))) {
		err_oom(e);
		goto out;
	}
	if (!(entry = oci_desc_to_json(&plain, e)))
		goto out;
	if (!cJSON_AddItemToArray(arr, entry)) {
		cJSON_Delete(entry);
		err_oom(e);
		goto out;
	}
	if (ref) {
		if (!(full = oci_ref_string(ref)) || !(familiar = oci_ref_familiar(ref)) ||
		    !(ann = cJSON_AddObjectToObject(entry, "annotations")) ||
		    !cJSON_AddStringToObject(ann, ANN_CONTAINERD_NAME, full) ||
		    !cJSON_AddStringToObject(ann, ANN_REF_NAME, ref->tag)) {
			err_oom(e);
			goto out;
		}
		/* {"alpine":{"3.19":"<image id>"}}: what pre-manifest.json loaders read. */
		const char *colon = strrchr(familiar, ':');
		char *repo = xstrndup_e(familiar, (size_t)(colon - familiar), e);
		cJSON *r1 = (repos = cJSON_CreateObject()) && repo ? cJSON_AddObjectToObject(repos, repo) : NULL;
		free(repo);
		if (!r1 || !cJSON_AddStringToObject(r1, ref->tag, oci_digest_hex(mf->config.digest))) {
			err_oom(e);
			goto out;
		}
	}
	/* Created detached, so a failed add must free it. */
	if (!(item = cJSON_CreateObject()) || !cJSON_AddItemToArray(mj, item)) {
		cJSON_Delete(item);
		err_oom(e);
		goto out;
	}
	char cfg[200];
	snprintf(cfg, sizeof cfg, "blobs/%.*s/%s", (int)strcspn(mf->config.digest, ":"), mf->config.digest,
		 oci_digest_hex(mf->config.digest));
	if (!cJSON_AddStringToObject(item, "Config", cfg) || !(tags = cJSON_AddArrayToObject(item, "RepoTags")) ||
	    (familiar && !cJSON_AddItemToArray(tags, cJSON_CreateString(familiar))) ||
	    !(layers = cJSON_AddArrayToObject(item, "Layers"))) {
		err_oom(e);
		goto out;
	}
	for (size_t i = 0; i < mf->n_layers; i++) {
		const char *d = mf->layers[i].digest;
		char lp[200];
		snprintf(lp, sizeof lp, "blobs/%.*s/%s", (int)strcspn(d, ":"), d, oci_digest_hex(d));
		if (!cJSON_AddItemToArray(layers, cJSON_CreateString(lp))) {
			err_oom(e);
			goto out;
		}
	}
	if (!(*index_json = oj_print(idx, e)) || !(*manifest_json = oj_print(mj, e)) ||
	    (repos && !(*repositories = oj_print(repos, e))))
		goto out;
	rc = 0;
out:
	cJSON_Delete(idx);
	cJSON_Delete(mj);
	cJSON_Delete(repos);
	free(familiar);
	free(full);
	return rc;
}

int docker_archive_write(const char *file, struct oci_layout *src, const struct oci_desc *manifest_desc,
			 const char *repo_tag, struct err *e)
{
	struct buf mbuf = BUF_INIT;
	struct oci_manifest mf = { 0 };
	struct oci_ref ref = { 0 };
	bool have_ref = false;
	struct out_entry *v = NULL;
	size_t n = 0;
	char *index_json = NULL, *manifest_json = NULL, *repositories = NULL;
	struct fs_atomic out_file = { 0 };
	bool opened = false;
	struct archive *a = NULL;
	int rc = -1;
	static const char layout_text[] = "{\"imageLayoutVersion\":\"1.0.0\"}";

	if (oci_mt_is_index(manifest_desc->media_type)) {
		err_set(e, ERR_USAGE, "a docker-archive holds one platform, and %s is a multi-platform index; "
				      "choose one with --platform",
			manifest_desc->digest);
		goto out;
	}
	if (repo_tag) {
		if (oci_ref_parse(&ref, repo_tag, e) < 0)
			goto out;
		have_ref = true;
		/* RepoTags cannot carry a digest; the content is addressed by the blobs anyway. */
		free(ref.digest);
		ref.digest = NULL;
		if (!ref.tag) {
			err_set(e, ERR_USAGE, "docker-archive needs a tag, not only a digest: %s", repo_tag);
			goto out;
		}
	}
	if (oci_layout_read_blob(src, manifest_desc->digest, &mbuf, BUF_CAP_MANIFEST, e) < 0)
		goto out;
	const char *mt = manifest_desc->media_type ? manifest_desc->media_type
						   : oci_detect_media_type(mbuf.data, mbuf.len);
	if (oci_mt_is_index(oci_detect_media_type(mbuf.data, mbuf.len))) {
		err_set(e, ERR_USAGE, "a docker-archive holds one platform, and %s is a multi-platform index; "
				      "choose one with --platform",
			manifest_desc->digest);
		goto out;
	}
	if (oci_manifest_parse(&mf, mbuf.data, mbuf.len, mt, e) < 0)
		goto out;
	if (build_meta(manifest_desc, &mf, have_ref ? &ref : NULL, &index_json, &manifest_json, &repositories, e) < 0)
		goto out;
	if (add_blob_entries(&v, &n, src, manifest_desc, e) < 0 || add_blob_entries(&v, &n, src, &mf.config, e) < 0)
		goto out;
	for (size_t i = 0; i < mf.n_layers; i++)
		if (add_blob_entries(&v, &n, src, &mf.layers[i], e) < 0)
			goto out;
	struct {
		const char *name, *text;
	} meta[] = { { "index.json", index_json },
		     { "manifest.json", manifest_json },
		     { "oci-layout", layout_text },
		     { "repositories", repositories } };
	for (size_t i = 0; i < ARRAY_SIZE(meta); i++) {
		if (!meta[i].text)
			continue;
		char *name = xstrdup_e(meta[i].name, e);
		if (!name || add_entry(&v, &n, (struct out_entry){ .name = name, .data = meta[i].text,
								    .len = strlen(meta[i].text) },
				       e) < 0)
			goto out;
	}
	qsort(v, n, sizeof *v, cmp_entry);

	if (fs_atomic_open(&out_file, file, e) < 0)
		goto out;
	opened = true;
	if (!(a = archive_write_new())) {
		err_oom(e);
		goto out;
	}
	if (archive_write_set_format_pax_restricted(a) != ARCHIVE_OK ||
	    archive_write_open_FILE(a, out_file.f) != ARCHIVE_OK) {
		err_archive(e, ERR_INTERNAL, a, "write");
		goto out;
	}
	if (write_entries(a, src, v, n, e) < 0)
		goto out;
	if (archive_write_close(a) != ARCHIVE_OK) {
		err_archive(e, ERR_INTERNAL, a, "write");
		goto out;
	}
	archive_write_free(a);
	a = NULL;
	opened = false;
	if (fs_atomic_commit(&out_file, 0644, e) < 0)
		goto out;
	rc = 0;
out:
	if (a)
		archive_write_free(a);
	if (opened)
		fs_atomic_abort(&out_file);
	for (size_t i = 0; i < n; i++)
		free(v[i].name);
	free(v);
	free(index_json);
	free(manifest_json);
	free(repositories);
	oci_manifest_free(&mf);
	if (have_ref)
		oci_ref_free(&ref);
	buf_free(&mbuf);
	if (rc < 0)
		err_prefix(e, "write %s", file);
	return rc;
}
