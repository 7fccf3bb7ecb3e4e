/* OCI image layout. */
#include "oci/layout.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/fs.h"
#include "core/util.h"
#include "core/ojson.h"

#define LAYOUT_FILE_CONTENT "{\"imageLayoutVersion\":\"1.0.0\"}"
#define EMPTY_INDEX "{\"schemaVersion\":2,\"mediaType\":\"" MT_OCI_INDEX "\",\"manifests\":[]}"

struct oci_layout {
	char *dir;
	char *index_path;
};

struct oci_blob_writer {
	struct oci_layout *l;
	char expected[OCI_DIGEST_MAX]; /* "" when the content names the blob */
	char digest[OCI_DIGEST_MAX];   /* set by finish */
	int64_t expected_size;         /* -1 unknown */
	int64_t size;
	FILE *f;
	char *tmp;
	struct oci_digester dg;
	bool finished;
};

const char *oci_layout_dir(const struct oci_layout *l)
{
	return l->dir;
}

void oci_layout_close(struct oci_layout *l)
{
	if (!l)
		return;
	free(l->dir);
	free(l->index_path);
	free(l);
}

/* flock on the layout directory itself: no lock file to leave behind, and
 * flock locks belong to the open file description, so threads and processes
 * exclude each other alike. Returns the fd to pass to unlock. */
static int layout_lock(const struct oci_layout *l, struct err *e)
{
	int fd = open(l->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return err_errno(e, ERR_INTERNAL, "open %s", l->dir);
	while (flock(fd, LOCK_EX) < 0) {
		if (errno == EINTR)
			continue;
		err_errno(e, ERR_INTERNAL, "lock %s", l->dir);
		close(fd);
		return -1;
	}
	return fd;
}

static void layout_unlock(int fd)
{
	if (fd >= 0)
		close(fd); /* releases the flock */
}

static char *blob_dir(const struct oci_layout *l, const char *alg_or_digest)
{
	size_t n = strcspn(alg_or_digest, ":");
	return xasprintf_e(NULL, "%s/blobs/%.*s", l->dir, (int)n, alg_or_digest);
}

/* The files of the layout at l->dir: index.json must be there, or with
 * create the blobs directory, oci-layout and an empty index.json are made. */
static int layout_init(struct oci_layout *l, bool create, struct err *e)
{
	_cleanup_free_ char *layout_file = fs_join(l->dir, "oci-layout");
	_cleanup_free_ char *blobs = fs_join(l->dir, "blobs/sha256");
	struct stat st;
	int lockfd, rc;

	if (!(l->index_path = fs_join(l->dir, "index.json")) || !layout_file || !blobs)
		return err_oom(e);
	if (!create) {
		if (stat(l->index_path, &st) < 0 || !S_ISREG(st.st_mode))
			return err_set(e, ERR_INPUT, "%s: not an OCI layout (no index.json)", l->dir);
		return 0;
	}
	if (fs_mkdir_p(blobs, 0755, e) < 0 ||
	    (!fs_exists(layout_file) &&
	     fs_write_atomic(layout_file, LAYOUT_FILE_CONTENT, strlen(LAYOUT_FILE_CONTENT), 0644, e) < 0))
		return -1;
	/* Under the lock so a concurrent set_ref is never overwritten by an empty index. */
	if ((lockfd = layout_lock(l, e)) < 0)
		return -1;
	rc = !fs_exists(l->index_path) &&
	     fs_write_atomic(l->index_path, EMPTY_INDEX, strlen(EMPTY_INDEX), 0644, e) < 0 ? -1 : 0;
	layout_unlock(lockfd);
	return rc;
}

int oci_layout_open(struct oci_layout **out, const char *dir, bool create, struct err *e)
{
	struct oci_layout *l;

	*out = NULL;
	if (!dir || !*dir)
		return err_set(e, ERR_USAGE, "empty OCI layout path");
	if (!(l = calloc(1, sizeof *l)))
		return err_oom(e);
	if (!(l->dir = xstrdup_e(dir, e)) || layout_init(l, create, e) < 0) {
		err_prefix(e, "open OCI layout");
		oci_layout_close(l);
		return -1;
	}
	*out = l;
	return 0;
}

int oci_layout_split_spec(const char *spec, char **dir, char **tag, struct err *e)
{
	*dir = *tag = NULL;
	if (!spec || !*spec || *spec == ':')
		return err_set(e, ERR_USAGE, "oci: needs a directory (oci:DIR[:TAG])");
	const char *c = strchr(spec, ':');
	if (c && c[1] == '\0')
		return err_set(e, ERR_USAGE, "oci:%s: empty tag", spec);
	*dir = c ? xstrndup_e(spec, (size_t)(c - spec), e) : xstrdup_e(spec, e);
	*tag = c ? xstrdup_e(c + 1, e) : NULL;
	if (!*dir || (c && !*tag)) {
		free(*dir);
		free(*tag);
		*dir = *tag = NULL;
		return -1;
	}
	return 0;
}

char *oci_layout_blob_path(const struct oci_layout *l, const char *digest)
{
	if (!oci_digest_valid(digest))
		return NULL;
	size_t n = strcspn(digest, ":");
	return xasprintf_e(NULL, "%s/blobs/%.*s/%s", l->dir, (int)n, digest, digest + n + 1);
}

bool oci_layout_has_blob(const struct oci_layout *l, const char *digest)
{
	_cleanup_free_ char *p = oci_layout_blob_path(l, digest);
	struct stat st;
	return p && stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

int oci_layout_read_blob(struct oci_layout *l, const char *digest, struct buf *out, size_t max, struct err *e)
{
	if (oci_digest_check(digest, "blob", e) < 0)
		return -1;
	_cleanup_free_ char *p = oci_layout_blob_path(l, digest);
	if (!p)
		return err_oom(e);
	if (!fs_exists(p))
		return err_set(e, ERR_INPUT, "%s: blob %s not found", l->dir, digest);
	buf_reset(out);
	if (fs_read_file(p, out, max, e) < 0)
		return -1;
	if (oci_digest_verify(digest, out->data, out->len, e) < 0) {
		buf_reset(out);
		return err_prefix(e, "%s: blob %s", l->dir, digest);
	}
	return 0;
}

int oci_layout_verify_blob(struct oci_layout *l, const char *digest, int64_t size, struct err *e)
{
	if (oci_digest_check(digest, "blob", e) < 0)
		return -1;
	_cleanup_free_ char *p = oci_layout_blob_path(l, digest);
	long long got = 0;
	if (!p)
		return err_oom(e);
	if (!fs_exists(p))
		return err_set(e, ERR_INPUT, "%s: blob %s not found", l->dir, digest);
	if (oci_digest_verify_file(digest, p, &got, e) < 0)
		return err_prefix(e, "%s: blob %s", l->dir, digest);
	if (size >= 0 && got != size)
		return err_set(e, ERR_INPUT, "%s: blob %s is %lld bytes, expected %lld", l->dir, digest, got,
			       (long long)size);
	return 0;
}

int oci_layout_put_blob(struct oci_layout *l, const void *p, size_t n, char digest_out[72], struct err *e)
{
	char d[72];
	struct stat st;
	sha256_digest_str(p, n, d);
	_cleanup_free_ char *path = oci_layout_blob_path(l, d);
	if (!path)
		return err_oom(e);
	/* Same name and size: the content is there already (names are only ever
	 * given to verified content). */
	if (stat(path, &st) == 0 && S_ISREG(st.st_mode) && (uint64_t)st.st_size == n) {
		/* present */
	} else {
		/* Layouts made by other tools may lack blobs/sha256 until the first blob. */
		_cleanup_free_ char *dir = blob_dir(l, d);
		if (!dir || fs_mkdir_p(dir, 0755, e) < 0 || fs_write_atomic(path, p, n, 0644, e) < 0)
			return err_prefix(e, "%s: store blob", l->dir);
	}
	if (digest_out)
		memcpy(digest_out, d, sizeof d);
	return 0;
}

int oci_layout_blob_writer_open(struct oci_layout *l, const char *digest, int64_t size,
				struct oci_blob_writer **out, struct err *e)
{
	*out = NULL;
	if (digest && oci_digest_check(digest, "blob", e) < 0)
		return -1;
	struct oci_blob_writer *w = calloc(1, sizeof *w);
	char *dir = NULL;
	int fd = -1;
	if (!w)
		return err_oom(e);
	w->l = l;
	w->expected_size = size;
	if (digest)
		snprintf(w->expected, sizeof w->expected, "%s", digest);
	dir = blob_dir(l, digest ? digest : "sha256");
	if (!dir || !(w->tmp = xasprintf_e(e, "%s/.tmp-XXXXXX", dir))) {
		err_oom(e);
		goto fail;
	}
	if (fs_mkdir_p(dir, 0755, e) < 0)
		goto fail;
	if ((fd = mkostemp(w->tmp, O_CLOEXEC)) < 0) {
		err_errno(e, ERR_INTERNAL, "create %s", w->tmp);
		free(w->tmp);
		w->tmp = NULL;
		goto fail;
	}
	if (!(w->f = fdopen(fd, "wb"))) {
		err_errno(e, ERR_INTERNAL, "fdopen");
		close(fd);
		goto fail;
	}
	setvbuf(w->f, NULL, _IOFBF, 1 << 16);
	if (oci_digester_init(&w->dg, digest ? digest : "sha256", e) < 0)
		goto fail;
	free(dir);
	*out = w;
	return 0;
fail:
	free(dir);
	oci_layout_blob_writer_abort(w);
	return err_prefix(e, "%s: new blob", l->dir);
}

int oci_layout_blob_writer_write(struct oci_blob_writer *w, const void *p, size_t n, struct err *e)
{
	if (w->finished || !w->f)
		return err_set(e, ERR_INTERNAL, "blob writer already finished");
	if (w->expected_size >= 0 && (uint64_t)w->size + n > (uint64_t)w->expected_size)
		return err_set(e, ERR_INPUT, "blob %s: more data than the expected %lld bytes",
			       w->expected[0] ? w->expected : "", (long long)w->expected_size);
	if (n && fwrite(p, 1, n, w->f) != n)
		return err_errno(e, ERR_INTERNAL, "write %s", w->tmp);
	oci_digester_update(&w->dg, p, n);
	w->size += (int64_t)n;
	return 0;
}

int oci_layout_blob_writer_flush(struct oci_blob_writer *w, struct err *e)
{
	if (w->finished || !w->f)
		return err_set(e, ERR_INTERNAL, "blob writer already finished");
	if (fflush(w->f) != 0)
		return err_errno(e, ERR_INTERNAL, "write %s", w->tmp);
	return 0;
}

int oci_layout_blob_writer_finish(struct oci_blob_writer *w, char digest_out[OCI_DIGEST_MAX], struct err *e)
{
	if (!w->finished) {
		FILE *f = w->f;
		w->f = NULL;
		/* mkostemp made it 0600; blobs are world-readable like the rest of the
		 * layout. fsync waits for commit: finished content may still be dropped. */
		int bad = fflush(f) != 0 || fchmod(fileno(f), 0644) < 0;
		if (fclose(f) != 0 || bad)
			return err_errno(e, ERR_INTERNAL, "write %s", w->tmp);
		oci_digester_final(&w->dg, w->digest);
		w->finished = true;
	}
	if (w->expected[0] && strcmp(w->expected, w->digest) != 0)
		return err_set(e, ERR_INPUT, "digest mismatch: expected %s, got %s", w->expected, w->digest);
	if (w->expected_size >= 0 && w->size != w->expected_size)
		return err_set(e, ERR_INPUT, "blob %s: got %lld bytes, expected %lld", w->digest, (long long)w->size,
			       (long long)w->expected_size);
	if (digest_out)
		memcpy(digest_out, w->digest, OCI_DIGEST_MAX);
	return 0;
}

const char *oci_layout_blob_writer_tmp_path(const struct oci_blob_writer *w)
{
	return w->tmp;
}

int64_t oci_layout_blob_writer_size(const struct oci_blob_writer *w)
{
	return w->size;
}

int oci_layout_blob_writer_commit(struct oci_blob_writer *w, char digest_out[OCI_DIGEST_MAX], struct err *e)
{
	char d[OCI_DIGEST_MAX];
	if (oci_layout_blob_writer_finish(w, d, e) < 0) {
		oci_layout_blob_writer_abort(w);
		return -1;
	}
	_cleanup_free_ char *path = oci_layout_blob_path(w->l, d);
	if (!path) {
		oci_layout_blob_writer_abort(w);
		return err_oom(e);
	}
	/* Durable before visible: after a crash the digest name never holds a
	 * partly written file. */
	int fd = open(w->tmp, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fsync(fd) < 0 || rename(w->tmp, path) < 0) {
		err_errno(e, ERR_INTERNAL, "store %s", path);
		if (fd >= 0)
			close(fd);
		oci_layout_blob_writer_abort(w);
		return -1;
	}
	close(fd);
	free(w->tmp);
	w->tmp = NULL;
	oci_layout_blob_writer_abort(w);
	if (digest_out)
		memcpy(digest_out, d, sizeof d);
	return 0;
}

void oci_layout_blob_writer_abort(struct oci_blob_writer *w)
{
	if (!w)
		return;
	if (w->f)
		fclose(w->f);
	if (w->tmp) {
		unlink(w->tmp);
		free(w->tmp);
	}
	oci_digester_free(&w->dg);
	free(w);
}

/* Copy through a writer: verifies while copying. */
static int copy_into(struct oci_layout *l, const char *digest, const char *src, struct err *e)
{
	struct oci_blob_writer *w = NULL;
	char chunk[32768];
	int fd = open(src, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return err_errno(e, errno == ENOENT ? ERR_INPUT : ERR_INTERNAL, "open %s", src);
	if (oci_layout_blob_writer_open(l, digest, -1, &w, e) < 0) {
		close(fd);
		return -1;
	}
	for (;;) {
		ssize_t r = read(fd, chunk, sizeof chunk);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			err_errno(e, ERR_INTERNAL, "read %s", src);
			close(fd);
			oci_layout_blob_writer_abort(w);
			return -1;
		}
		if (r == 0)
			break;
		if (oci_layout_blob_writer_write(w, chunk, (size_t)r, e) < 0) {
			close(fd);
			oci_layout_blob_writer_abort(w);
			return -1;
		}
	}
	close(fd);
	return oci_layout_blob_writer_commit(w, NULL, e);
}

int oci_layout_put_blob_file(struct oci_layout *l, const char *digest, const char *src_path, struct err *e)
{
	static unsigned counter;
	if (oci_digest_check(digest, "blob", e) < 0)
		return -1;
	_cleanup_free_ char *path = oci_layout_blob_path(l, digest);
	_cleanup_free_ char *dir = blob_dir(l, digest);
	_cleanup_free_ char *tmp = NULL;
	if (!path || !dir)
		return err_oom(e);
	if (fs_mkdir_p(dir, 0755, e) < 0)
		return -1;
	/* Link under a private name first and hash what was linked, so the name
	 * by digest is only given to the verified inode. */
	tmp = xasprintf_e(e, "%s/.tmp-link-%ld-%u", dir, (long)getpid(), __atomic_fetch_add(&counter, 1, __ATOMIC_RELAXED));
	if (!tmp)
		return -1;
	unlink(tmp);
	if (linkat(AT_FDCWD, src_path, AT_FDCWD, tmp, AT_SYMLINK_FOLLOW) < 0) {
		if (errno == ENOENT)
			return err_errno(e, ERR_INPUT, "%s", src_path);
		if (copy_into(l, digest, src_path, e) < 0)
			return err_prefix(e, "%s", src_path);
		return 0;
	}
	if (oci_digest_verify_file(digest, tmp, NULL, e) < 0) {
		unlink(tmp);
		return err_prefix(e, "%s", src_path);
	}
	if (rename(tmp, path) < 0) {
		err_errno(e, ERR_INTERNAL, "rename %s", path);
		unlink(tmp);
		return -1;
	}
	/* rename() does nothing when both names already link the same inode
	 * (the blob was stored from this source before); drop the tmp name. */
	unlink(tmp);
	return 0;
}

/* Read index.json as a cJSON tree (for rewriting with unknown fields kept). */
static cJSON *read_index_json(struct oci_layout *l, struct err *e)
{
	struct buf b __attribute__((cleanup(buf_cleanup))) = BUF_INIT;
	if (fs_read_file(l->index_path, &b, BUF_CAP_MANIFEST, e) < 0)
		return NULL;
	cJSON *root = oj_parse_object(b.data, b.len, BUF_CAP_MANIFEST, "index.json", e);
	if (!root)
		err_prefix(e, "%s", l->dir);
	return root;
}

int oci_layout_read_index(struct oci_layout *l, struct oci_index *out, struct err *e)
{
	struct buf b __attribute__((cleanup(buf_cleanup))) = BUF_INIT;
	memset(out, 0, sizeof *out);
	if (fs_read_file(l->index_path, &b, BUF_CAP_MANIFEST, e) < 0)
		return -1;
	if (oci_index_parse(out, b.data, b.len, MT_OCI_INDEX, e) < 0)
		return err_prefix(e, "%s", l->index_path);
	return 0;
}

static char *tag_list(const struct oci_index *idx)
{
	struct buf b = BUF_INIT;
	for (size_t i = 0; i < idx->n; i++) {
		char *t = oci_desc_annotation(&idx->manifests[i], ANN_REF_NAME);
		int rc = buf_addf(&b, NULL, "%s%s", b.len ? ", " : "", t ? t : "(untagged)");
		free(t);
		if (rc < 0)
			break;
	}
	return buf_detach(&b, NULL);
}

int oci_layout_resolve(struct oci_layout *l, const char *tag, struct oci_desc *out, struct err *e)
{
	static const char *const keys[] = { ANN_REF_NAME, ANN_CONTAINERD_NAME };
	struct oci_index idx;
	const struct oci_desc *hit = NULL;
	char *tags = NULL;
	int rc = -1;
	memset(out, 0, sizeof *out);
	if (oci_layout_read_index(l, &idx, e) < 0)
		return -1;
	if (!tag && idx.n == 1)
		hit = &idx.manifests[0];
	for (size_t k = 0; tag && !hit && k < ARRAY_SIZE(keys); k++) {
		for (size_t i = 0; i < idx.n && !hit; i++) {
			char *t = oci_desc_annotation(&idx.manifests[i], keys[k]);
			if (t && !strcmp(t, tag))
				hit = &idx.manifests[i];
			free(t);
		}
	}
	if (hit) {
		rc = oci_desc_copy(out, hit, e);
		goto out;
	}
	tags = tag_list(&idx);
	if (idx.n == 0)
		err_set(e, ERR_INPUT, "%s: the layout holds no images", l->dir);
	else if (!tag)
		err_set(e, ERR_INPUT, "%s: the layout holds %zu images, name one with oci:%s:TAG (tags: %s)", l->dir,
			idx.n, l->dir, tags ? tags : "?");
	else
		err_set(e, ERR_INPUT, "%s: no image tagged \"%s\" (tags: %s)", l->dir, tag, tags ? tags : "?");
out:
	free(tags);
	oci_index_free(&idx);
	return rc;
}

/* True when index entry j has annotation key == val (val NULL: has no such key). */
static bool entry_ann_is(const cJSON *j, const char *key, const char *val)
{
	const cJSON *a = cJSON_GetObjectItemCaseSensitive(j, "annotations");
	const cJSON *v = cJSON_IsObject(a) ? cJSON_GetObjectItemCaseSensitive(a, key) : NULL;
	if (!val)
		return !cJSON_IsString(v);
	return cJSON_IsString(v) && !strcmp(v->valuestring, val);
}

/* The index entry of d, with the ref.name annotation tag (when given). */
static cJSON *index_entry(const struct oci_desc *d, const char *tag, struct err *e)
{
	cJSON *entry = oci_desc_to_json(d, e), *ann;

	if (!entry || !tag)
		return entry;
	ann = cJSON_GetObjectItemCaseSensitive(entry, "annotations");
	if (!ann)
		ann = cJSON_AddObjectToObject(entry, "annotations");
	if (ann)
		cJSON_DeleteItemFromObjectCaseSensitive(ann, ANN_REF_NAME);
	if (!ann || !cJSON_AddStringToObject(ann, ANN_REF_NAME, tag)) {
		cJSON_Delete(entry);
		err_oom(e);
		return NULL;
	}
	return entry;
}

/* Put entry (owned from here on) into the index root, in place of the
 * entry tag names, or without a tag of the untagged entries of d. */
static int index_put(const struct oci_layout *l, cJSON *root, cJSON *entry,
		     const struct oci_desc *d, const char *tag, struct err *e)
{
	cJSON *arr = cJSON_GetObjectItemCaseSensitive(root, "manifests");

	if (!arr)
		arr = cJSON_AddArrayToObject(root, "manifests");
	else if (!cJSON_IsArray(arr)) {
		cJSON_Delete(entry);
		return err_set(e, ERR_INPUT, "%s: \"manifests\" must be an array", l->index_path);
	}
	for (cJSON *it = arr ? arr->child : NULL, *next; it; it = next) {
		next = it->next;
		const cJSON *dg = cJSON_GetObjectItemCaseSensitive(it, "digest");
		bool same = tag ? entry_ann_is(it, ANN_REF_NAME, tag)
				: (cJSON_IsString(dg) && !strcmp(dg->valuestring, d->digest) &&
				   entry_ann_is(it, ANN_REF_NAME, NULL));
		if (same)
			cJSON_Delete(cJSON_DetachItemViaPointer(arr, it));
	}
	if (!arr || !cJSON_AddItemToArray(arr, entry)) {
		cJSON_Delete(entry);
		return err_oom(e);
	}
	return 0;
}

int oci_layout_set_ref(struct oci_layout *l, const struct oci_desc *d, const char *tag, struct err *e)
{
	int rc = -1, lockfd = -1;
	cJSON *root = NULL, *entry;

	if (oci_digest_check(d->digest, "manifest", e) < 0)
		return -1;
	if (tag && !*tag)
		return err_set(e, ERR_USAGE, "%s: empty tag", l->dir);
	if (!oci_layout_has_blob(l, d->digest))
		return err_set(e, ERR_INTERNAL, "%s: cannot tag %s: the blob is not in the layout", l->dir, d->digest);
	if ((entry = index_entry(d, tag, e)) && (lockfd = layout_lock(l, e)) >= 0 &&
	    (root = read_index_json(l, e))) {
		if (index_put(l, root, entry, d, tag, e) == 0)
			rc = oj_write_file(l->index_path, root, false, e);
	} else {
		cJSON_Delete(entry);
	}
	layout_unlock(lockfd);
	cJSON_Delete(root);
	return rc < 0 ? err_prefix(e, "tag %s", tag ? tag : d->digest) : 0;
}
