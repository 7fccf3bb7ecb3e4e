/* docker-archive reading (writing is archive_write.c). Reading is one sequential pass over the tar:
 * every member is streamed into a verified temp blob in the staging layout
 * (names never become paths, so no member can land outside staging); once
 * manifest.json / index.json (which may come last) are known, the members
 * the chosen image needs are renamed into place and the rest dropped. */
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

#define MAX_MEMBERS 100000
#define LINK_HOPS 16
#define MAX_DEPTH 4
#define CHUNK (1 << 16)

struct member {
	char *name;                /* normalised archive path */
	char *link;                /* symlink / hardlink target as an archive path, or NULL */
	bool bad_link;             /* link pointing outside the archive */
	struct oci_blob_writer *w; /* finished writer holding the content */
	char digest[OCI_DIGEST_MAX];
	int64_t size;
	unsigned char magic[4];
	size_t magic_len;
	bool needed;
};

struct reader {
	const char *file;
	struct oci_layout *staging;
	struct member *m;
	size_t n, cap;
	struct buf manifest_json, index_json;
	bool has_manifest_json, has_index_json;
};

/* Lexical normalisation. base (a directory, may be "") is prepended and ".."
 * allowed for link targets only; member names with ".." or a leading "/" are
 * refused outright. Returns NULL when the path is unsafe. out "" = the root. */
static char *norm_path(const char *base, const char *p, bool allow_dotdot)
{
	if (p[0] == '/')
		return NULL; /* absolute names, and links pointing outside the archive */
	size_t cap = (base ? strlen(base) : 0) + strlen(p) + 2;
	char *out = malloc(cap);
	char *in = xasprintf_e(NULL, "%s%s%s", base ? base : "", base && *base ? "/" : "", p);
	if (!out || !in) {
		free(out);
		free(in);
		return NULL;
	}
	size_t len = 0;
	char *save = in;
	for (;;) {
		char *c = save;
		size_t cl = strcspn(c, "/");
		char *next = c[cl] ? c + cl + 1 : NULL;
		if (cl == 0 || (cl == 1 && c[0] == '.')) {
			/* skip */
		} else if (cl == 2 && c[0] == '.' && c[1] == '.') {
			if (!allow_dotdot || len == 0) {
				free(in);
				free(out);
				return NULL;
			}
			while (len > 0 && out[len - 1] != '/')
				len--;
			if (len > 0)
				len--;
		} else {
			if (len)
				out[len++] = '/';
			memcpy(out + len, c, cl);
			len += cl;
		}
		if (!next)
			break;
		save = next;
	}
	out[len] = '\0';
	free(in);
	return out;
}

static void member_clear(struct member *m)
{
	free(m->name);
	free(m->link);
	oci_layout_blob_writer_abort(m->w);
	memset(m, 0, sizeof *m);
}

static void reader_free(struct reader *r)
{
	for (size_t i = 0; i < r->n; i++)
		member_clear(&r->m[i]);
	free(r->m);
	buf_free(&r->manifest_json);
	buf_free(&r->index_json);
}

static struct member *member_by_name(struct reader *r, const char *name)
{
	for (size_t i = r->n; i > 0; i--)
		if (!strcmp(r->m[i - 1].name, name))
			return &r->m[i - 1];
	return NULL;
}

/* Follow links to the member that holds the content. */
static struct member *find_content(struct reader *r, const char *path)
{
	char *name = norm_path(NULL, path, false);
	struct member *m = name ? member_by_name(r, name) : NULL;
	free(name);
	for (int hop = 0; m && m->link && hop < LINK_HOPS; hop++)
		m = m->bad_link ? NULL : member_by_name(r, m->link);
	return m && !m->link && m->w ? m : NULL;
}

/* A new slot for name; a later member of the same name replaces the earlier
 * one, as tar extraction would. */
static struct member *new_member(struct reader *r, char *name, struct err *e)
{
	struct member *m = member_by_name(r, name);
	if (m) {
		member_clear(m);
		m->name = name;
		return m;
	}
	if (r->n >= MAX_MEMBERS) {
		free(name);
		err_set(e, ERR_INPUT, "more than %d members", MAX_MEMBERS);
		return NULL;
	}
	if (r->n == r->cap) {
		size_t nc = r->cap ? r->cap * 2 : 64;
		struct member *v = realloc(r->m, nc * sizeof *v);
		if (!v) {
			free(name);
			err_oom(e);
			return NULL;
		}
		r->m = v;
		r->cap = nc;
	}
	m = &r->m[r->n++];
	memset(m, 0, sizeof *m);
	m->name = name;
	return m;
}

/* Digest named by a "blobs/ALG/HEX" path, or NULL. */
static char *digest_of_blob_path(const char *name)
{
	if (!str_starts(name, "blobs/"))
		return NULL;
	const char *alg = name + 6, *slash = strchr(alg, '/');
	if (!slash || strchr(slash + 1, '/'))
		return NULL;
	char *d = xasprintf_e(NULL, "%.*s:%s", (int)(slash - alg), alg, slash + 1);
	if (d && !oci_digest_valid(d)) {
		free(d);
		d = NULL;
	}
	return d;
}

static int read_to_buf(struct archive *a, struct buf *b, const char *name, struct err *e)
{
	char chunk[8192];
	buf_reset(b);
	b->max = BUF_CAP_MANIFEST;
	for (;;) {
		la_ssize_t n = archive_read_data(a, chunk, sizeof chunk);
		if (n < 0)
			return err_archive(e, ERR_INPUT, a, "%s: truncated or corrupt", name);
		if (n == 0)
			return 0;
		if (buf_add(b, chunk, (size_t)n, e) < 0)
			return err_prefix(e, "%s", name);
	}
}

static int read_to_blob(struct reader *r, struct archive *a, struct member *m, struct archive_entry *ent,
			struct err *e)
{
	char *expected = digest_of_blob_path(m->name);
	int64_t size = archive_entry_size_is_set(ent) ? (int64_t)archive_entry_size(ent) : -1;
	char *chunk = malloc(CHUNK);
	int rc = -1;
	if (!chunk) {
		err_oom(e);
		goto out;
	}
	if (oci_layout_blob_writer_open(r->staging, expected, size, &m->w, e) < 0)
		goto out;
	for (;;) {
		la_ssize_t n = archive_read_data(a, chunk, CHUNK);
		if (n < 0) {
			err_archive(e, ERR_INPUT, a, "truncated or corrupt");
			goto out;
		}
		if (n == 0)
			break;
		if (m->magic_len < sizeof m->magic) {
			size_t k = sizeof m->magic - m->magic_len;
			if (k > (size_t)n)
				k = (size_t)n;
			memcpy(m->magic + m->magic_len, chunk, k);
			m->magic_len += k;
		}
		if (oci_layout_blob_writer_write(m->w, chunk, (size_t)n, e) < 0)
			goto out;
	}
	if (oci_layout_blob_writer_finish(m->w, m->digest, e) < 0)
		goto out;
	m->size = oci_layout_blob_writer_size(m->w);
	rc = 0;
out:
	free(chunk);
	free(expected);
	if (rc < 0)
		err_prefix(e, "%s", m->name);
	return rc;
}

static int scan_archive(struct reader *r, struct err *e)
{
	struct archive *a = archive_read_new();
	struct archive_entry *ent;
	int rc = -1;
	if (!a)
		return err_oom(e);
	archive_read_support_format_tar(a);
	/* docker load accepts compressed archives too. */
	archive_read_support_filter_gzip(a);
	archive_read_support_filter_zstd(a);
	archive_read_support_filter_xz(a);
	archive_read_support_filter_bzip2(a);
	if (archive_read_open_filename(a, r->file, CHUNK) != ARCHIVE_OK) {
		err_archive(e, ERR_INPUT, a, "cannot read");
		goto out;
	}
	for (;;) {
		int h = archive_read_next_header(a, &ent);
		if (h == ARCHIVE_EOF)
			break;
		if (h < ARCHIVE_WARN) {
			err_archive(e, ERR_INPUT, a, "not a tar archive, or truncated");
			goto out;
		}
		const char *raw = archive_entry_pathname(ent);
		if (!raw)
			continue;
		char *name = norm_path(NULL, raw, false);
		if (!name) {
			err_set(e, ERR_INPUT, "unsafe member name \"%.200s\"", raw);
			goto out;
		}
		if (!*name) {
			free(name);
			continue;
		}
		const char *hl = archive_entry_hardlink(ent);
		mode_t type = archive_entry_filetype(ent);
		if (hl || type == AE_IFLNK) {
			struct member *m = new_member(r, name, e);
			if (!m)
				goto out;
			if (hl) {
				m->link = norm_path(NULL, hl, false);
			} else {
				const char *slash = strrchr(m->name, '/');
				char *dir = xstrndup_e(m->name, slash ? (size_t)(slash - m->name) : 0, NULL);
				const char *target = archive_entry_symlink(ent);
				m->link = dir && target ? norm_path(dir, target, true) : NULL;
				free(dir);
			}
			if (!m->link) {
				m->bad_link = true;
				m->link = xstrdup_e("", e);
				if (!m->link)
					goto out;
			}
			continue;
		}
		if (type != AE_IFREG) {
			free(name);
			continue;
		}
		if (!strcmp(name, "manifest.json") || !strcmp(name, "index.json")) {
			bool idx = name[0] == 'i';
			int x = read_to_buf(a, idx ? &r->index_json : &r->manifest_json, name, e);
			free(name);
			if (x < 0)
				goto out;
			*(idx ? &r->has_index_json : &r->has_manifest_json) = true;
			continue;
		}
		if (!strcmp(name, "oci-layout") || !strcmp(name, "repositories")) {
			free(name);
			continue;
		}
		struct member *m = new_member(r, name, e);
		if (!m || read_to_blob(r, a, m, ent, e) < 0)
			goto out;
	}
	rc = 0;
out:
	archive_read_free(a);
	return rc;
}

static int read_content(struct member *m, struct buf *b, struct err *e)
{
	return fs_read_file(oci_layout_blob_writer_tmp_path(m->w), b, BUF_CAP_MANIFEST, e);
}

static bool layer_optional(const char *mt)
{
	return mt && (!strcmp(mt, MT_DOCKER_LAYER_FOREIGN) ||
		      str_starts(mt, "application/vnd.oci.image.layer.nondistributable."));
}

/* Mark d and, for manifests and indexes, what it references. */
static int mark_desc(struct reader *r, const struct oci_desc *d, bool required, int depth, bool *found,
		     struct err *e)
{
	struct buf b = BUF_INIT;
	struct oci_index idx = { 0 };
	struct oci_manifest mf = { 0 };
	char *path = NULL;
	int rc = -1;
	*found = false;
	if (depth > MAX_DEPTH) {
		err_set(e, ERR_INPUT, "indexes nested too deeply");
		goto out;
	}
	size_t al = strcspn(d->digest, ":");
	if (!(path = xasprintf_e(e, "blobs/%.*s/%s", (int)al, d->digest, d->digest + al + 1)))
		goto out;
	struct member *m = find_content(r, path);
	if (!m) {
		rc = required ? err_set(e, ERR_INPUT, "blob %s is missing from the archive", d->digest) : 0;
		goto out;
	}
	if (m->size != d->size) {
		err_set(e, ERR_INPUT, "blob %s is %lld bytes, the descriptor says %lld", d->digest, (long long)m->size,
			(long long)d->size);
		goto out;
	}
	m->needed = true;
	*found = true;
	if (oci_mt_is_index(d->media_type)) {
		if (read_content(m, &b, e) < 0 || oci_index_parse(&idx, b.data, b.len, d->media_type, e) < 0)
			goto out;
		size_t got = 0;
		for (size_t i = 0; i < idx.n; i++) {
			bool f;
			if (mark_desc(r, &idx.manifests[i], false, depth + 1, &f, e) < 0)
				goto out;
			got += f;
		}
		if (idx.n && !got) {
			err_set(e, ERR_INPUT, "index %s: none of its manifests are in the archive", d->digest);
			goto out;
		}
	} else if (oci_mt_is_manifest(d->media_type)) {
		bool f;
		if (read_content(m, &b, e) < 0 || oci_manifest_parse(&mf, b.data, b.len, d->media_type, e) < 0)
			goto out;
		if (mark_desc(r, &mf.config, true, depth + 1, &f, e) < 0)
			goto out;
		for (size_t i = 0; i < mf.n_layers; i++)
			if (mark_desc(r, &mf.layers[i], !layer_optional(mf.layers[i].media_type), depth + 1, &f, e) < 0)
				goto out;
	}
	rc = 0;
out:
	if (rc < 0 && *found)
		err_prefix(e, "%s", d->digest);
	free(path);
	buf_free(&b);
	oci_index_free(&idx);
	oci_manifest_free(&mf);
	return rc;
}

/* Does candidate (a ref name as stored in the archive) name want? */
static bool ref_matches(const char *candidate, const char *want, const char *want_norm)
{
	if (!candidate)
		return false;
	if (!strcmp(candidate, want))
		return true;
	if (!want_norm)
		return false;
	struct oci_ref cr;
	struct err ignore = ERR_INIT;
	if (oci_ref_parse(&cr, candidate, &ignore) < 0)
		return false;
	char *s = oci_ref_string(&cr);
	bool eq = s && !strcmp(s, want_norm);
	free(s);
	oci_ref_free(&cr);
	return eq;
}

/* Normalised form of a wanted tag, or NULL when it is not a valid reference
 * (then only literal matches count). */
static char *norm_want(const char *tag)
{
	struct oci_ref wr;
	struct err ignore = ERR_INIT;
	if (!tag || oci_ref_parse(&wr, tag, &ignore) < 0)
		return NULL;
	char *s = oci_ref_string(&wr);
	oci_ref_free(&wr);
	return s;
}

static int import_oci(struct reader *r, const char *tag, struct oci_desc *out, struct err *e)
{
	struct oci_index idx;
	char *want = norm_want(tag);
	const char *names;
	const struct oci_desc *hit = NULL;
	struct buf list = BUF_INIT;
	int rc = -1;
	if (oci_index_parse(&idx, r->index_json.data, r->index_json.len, MT_OCI_INDEX, e) < 0) {
		err_prefix(e, "index.json");
		free(want);
		return -1;
	}
	for (size_t i = 0; i < idx.n; i++) {
		char *full = oci_desc_annotation(&idx.manifests[i], ANN_CONTAINERD_NAME);
		char *short_name = oci_desc_annotation(&idx.manifests[i], ANN_REF_NAME);
		if (!hit && (tag ? ref_matches(full, tag, want) || ref_matches(short_name, tag, want) : idx.n == 1))
			hit = &idx.manifests[i];
		buf_addf(&list, NULL, "%s%s", list.len ? ", " : "", full ? full : short_name ? short_name : "(untagged)");
		free(full);
		free(short_name);
	}
	names = list.len ? list.data : "none";
	if (!hit && idx.n == 0)
		err_set(e, ERR_INPUT, "the archive holds no images");
	else if (!hit && !tag)
		err_set(e, ERR_INPUT, "the archive holds %zu images, choose one with docker-archive:%s:REF (images: %s)",
			idx.n, r->file, names);
	else if (!hit)
		err_set(e, ERR_INPUT, "no image named \"%s\" in the archive (images: %s)", tag, names);
	if (!hit)
		goto out;
	bool found;
	if (mark_desc(r, hit, true, 0, &found, e) < 0 || oci_desc_copy(out, hit, e) < 0)
		goto out;
	rc = 0;
out:
	buf_free(&list);
	free(want);
	oci_index_free(&idx);
	return rc;
}

static const char *layer_type(const struct member *m, bool docker)
{
	static const unsigned char gz[] = { 0x1f, 0x8b }, zst[] = { 0x28, 0xb5, 0x2f, 0xfd };
	if (m->magic_len >= 2 && !memcmp(m->magic, gz, 2))
		return docker ? MT_DOCKER_LAYER_GZIP : MT_OCI_LAYER_GZIP;
	if (m->magic_len >= 4 && !memcmp(m->magic, zst, 4))
		return MT_OCI_LAYER_ZSTD;
	return docker ? MT_DOCKER_LAYER : MT_OCI_LAYER;
}

static int fill_desc(struct oci_desc *d, const struct member *m, const char *mt, struct err *e)
{
	d->size = m->size;
	d->media_type = xstrdup_e(mt, e);
	d->digest = xstrdup_e(m->digest, e);
	return d->media_type && d->digest ? 0 : -1;
}

/* Choose the manifest.json item for tag (or the only one). */
static const cJSON *pick_legacy(struct reader *r, const cJSON *arr, const char *tag, struct err *e)
{
	char *want = norm_want(tag);
	const cJSON *hit = NULL, *it;
	struct buf list = BUF_INIT;
	int n = cJSON_GetArraySize(arr);
	cJSON_ArrayForEach(it, arr)
	{
		const cJSON *tags = oj_get(it, "RepoTags"), *t;
		if (!tag && n == 1)
			hit = it;
		if (tags && !cJSON_IsArray(tags))
			continue;
		cJSON_ArrayForEach(t, tags)
		{
			if (!cJSON_IsString(t))
				continue;
			if (tag && !hit && ref_matches(t->valuestring, tag, want))
				hit = it;
			buf_addf(&list, NULL, "%s%s", list.len ? ", " : "", t->valuestring);
		}
	}
	const char *names = list.len ? list.data : "untagged";
	if (!hit && n == 0)
		err_set(e, ERR_INPUT, "manifest.json lists no images");
	else if (!hit && !tag)
		err_set(e, ERR_INPUT, "the archive holds %d images, choose one with docker-archive:%s:REF (images: %s)", n,
			r->file, names);
	else if (!hit)
		err_set(e, ERR_INPUT, "no image named \"%s\" in the archive (images: %s)", tag, names);
	buf_free(&list);
	free(want);
	return hit;
}

static int import_legacy(struct reader *r, const char *tag, struct oci_desc *out, struct err *e)
{
	struct oci_manifest mf = { 0 };
	char *text = NULL;
	size_t text_len = 0;
	char digest[72];
	int rc = -1;
	cJSON *root = cJSON_ParseWithLength(r->manifest_json.data, r->manifest_json.len);
	if (!cJSON_IsArray(root)) {
		err_set(e, ERR_INPUT, "manifest.json is not a JSON array");
		goto out;
	}
	const cJSON *item = pick_legacy(r, root, tag, e);
	if (!item)
		goto out;
	const cJSON *cfg = oj_get(item, "Config"), *layers = oj_get(item, "Layers"), *it;
	if (!cJSON_IsString(cfg) || (layers && !cJSON_IsArray(layers))) {
		err_set(e, ERR_INPUT, "manifest.json: \"Config\" must be a string and \"Layers\" an array of strings");
		goto out;
	}
	struct member *cm = find_content(r, cfg->valuestring);
	if (!cm) {
		err_set(e, ERR_INPUT, "manifest.json: config \"%.200s\" is not in the archive", cfg->valuestring);
		goto out;
	}
	/* Pass 1: layer media types decide the manifest flavour. */
	size_t n = (size_t)cJSON_GetArraySize(layers);
	bool zstd = false;
	cJSON_ArrayForEach(it, layers)
	{
		struct member *lm = cJSON_IsString(it) ? find_content(r, it->valuestring) : NULL;
		if (!lm) {
			err_set(e, ERR_INPUT, "manifest.json: layer \"%.200s\" is not in the archive",
				cJSON_IsString(it) ? it->valuestring : "(not a string)");
			goto out;
		}
		zstd |= !strcmp(layer_type(lm, false), MT_OCI_LAYER_ZSTD);
	}
	bool docker = !zstd; /* schema2 has no zstd layer type */
	mf.schema_version = 2;
	if (!(mf.media_type = xstrdup_e(docker ? MT_DOCKER_MANIFEST : MT_OCI_MANIFEST, e)) ||
	    fill_desc(&mf.config, cm, docker ? MT_DOCKER_CONFIG : MT_OCI_CONFIG, e) < 0)
		goto out;
	if (n && !(mf.layers = calloc(n, sizeof *mf.layers))) {
		err_oom(e);
		goto out;
	}
	cm->needed = true;
	cJSON_ArrayForEach(it, layers)
	{
		struct member *lm = find_content(r, it->valuestring);
		if (fill_desc(&mf.layers[mf.n_layers++], lm, layer_type(lm, docker), e) < 0)
			goto out;
		lm->needed = true;
	}
	if (!(text = oci_manifest_serialise(&mf, &text_len, e)) ||
	    oci_layout_put_blob(r->staging, text, text_len, digest, e) < 0)
		goto out;
	memset(out, 0, sizeof *out);
	out->size = (int64_t)text_len;
	out->media_type = xstrdup_e(mf.media_type, e);
	out->digest = xstrdup_e(digest, e);
	if (!out->media_type || !out->digest) {
		oci_desc_free(out);
		goto out;
	}
	rc = 0;
out:
	cJSON_Delete(root);
	oci_manifest_free(&mf);
	free(text);
	return rc;
}

/* An empty index.json next to a manifest.json: use the legacy description. */
static bool index_has_entries(struct reader *r)
{
	struct oci_index idx;
	struct err ignore = ERR_INIT;
	if (oci_index_parse(&idx, r->index_json.data, r->index_json.len, MT_OCI_INDEX, &ignore) < 0)
		return true; /* let import_oci report the error */
	bool any = idx.n > 0;
	oci_index_free(&idx);
	return any;
}

int docker_archive_read(const char *file, const char *tag, struct oci_layout *staging, struct oci_desc *out_manifest,
			struct err *e)
{
	struct reader r = { .file = file, .staging = staging, .manifest_json = BUF_INIT, .index_json = BUF_INIT };
	struct oci_desc tmp = { 0 };
	int rc = -1;
	memset(out_manifest, 0, sizeof *out_manifest);
	if (scan_archive(&r, e) < 0)
		goto out;
	if (r.has_index_json && (!r.has_manifest_json || index_has_entries(&r))) {
		if (import_oci(&r, tag, &tmp, e) < 0)
			goto out;
	} else if (r.has_manifest_json) {
		if (import_legacy(&r, tag, &tmp, e) < 0)
			goto out;
	} else {
		err_set(e, ERR_INPUT, "not a docker archive (no manifest.json or index.json)");
		goto out;
	}
	for (size_t i = 0; i < r.n; i++) {
		struct member *m = &r.m[i];
		if (!m->needed || !m->w)
			continue;
		struct oci_blob_writer *w = m->w;
		m->w = NULL; /* commit frees it */
		if (oci_layout_blob_writer_commit(w, NULL, e) < 0)
			goto out;
	}
	*out_manifest = tmp;
	memset(&tmp, 0, sizeof tmp);
	rc = 0;
out:
	oci_desc_free(&tmp);
	reader_free(&r);
	if (rc < 0)
		err_prefix(e, "%s", file);
	return rc;
}
