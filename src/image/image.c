#include "image/image.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/fs.h"
#include "core/log.h"
#include "core/progress.h"
#include "core/sha256.h"
#include "core/util.h"
#include "oci/archive.h"
#include "oci/digest.h"
#include "oci/manifest.h"
#include "oci/ref.h"

/* Nested indexes deeper than this are refused: real images use one level,
 * and a crafted index that points at itself must not loop forever. */
#define MAX_DEPTH 4
/* Upper bound on manifests and blobs one copy handles. */
#define MAX_ITEMS 100000

struct image_src {
	const struct location *loc;
	struct reg_client *reg;
	struct oci_layout *layout; /* oci: source, or docker-archive staging */
	char *tmpdir;		   /* docker-archive staging, removed on close */
	struct oci_desc top;
	bool have_top;
	struct buf top_bytes; /* registry: the body fetched to learn the top digest */
};

void image_src_close(struct image_src *s)
{
	struct err e = ERR_INIT;

	if (!s)
		return;
	reg_close(s->reg);
	oci_layout_close(s->layout);
	if (s->tmpdir && fs_rm_rf(s->tmpdir, &e) < 0)
		log_warn("cannot remove %s: %s", s->tmpdir, e.msg);
	free(s->tmpdir);
	oci_desc_free(&s->top);
	buf_free(&s->top_bytes);
	free(s);
}

int image_src_open(struct image_src **out, const struct location *loc, const struct reg_opts *ro,
		   struct err *e)
{
	struct image_src *s = calloc(1, sizeof(*s));

	*out = NULL;
	if (!s)
		return err_oom(e);
	s->loc = loc;
	buf_init(&s->top_bytes, BUF_CAP_MANIFEST);
	switch (loc->kind) {
	case LOC_REGISTRY:
		if (reg_open(&s->reg, &loc->ref, ro, false, e) < 0)
			goto fail;
		break;
	case LOC_OCI:
		if (oci_layout_open(&s->layout, loc->path, false, e) < 0)
			goto fail;
		break;
	case LOC_DOCKER_ARCHIVE:
		s->tmpdir = fs_mkdtemp("bosun-archive", e);
		if (!s->tmpdir || oci_layout_open(&s->layout, s->tmpdir, true, e) < 0)
			goto fail;
		if (docker_archive_read(loc->path, loc->tag, s->layout, &s->top, e) < 0)
			goto fail;
		s->have_top = true;
		break;
	case LOC_DIR:
		err_set(e, ERR_USAGE,
			"%s: a dir: location holds no image (only 'bosun scan' reads it)",
			loc->text);
		goto fail;
	}
	*out = s;
	return 0;
fail:
	image_src_close(s);
	return -1;
}

int image_src_top(struct image_src *s, struct oci_desc *top, struct err *e)
{
	memset(top, 0, sizeof(*top));
	if (!s->have_top) {
		if (s->reg) {
			char *mt = NULL, *dg = NULL;

			buf_reset(&s->top_bytes);
			if (reg_get_manifest(s->reg, oci_ref_manifest_key(&s->loc->ref),
					     &s->top_bytes, &mt, &dg, e) < 0)
				return -1;
			if (!dg) {
				char d[72];

				sha256_digest_str(s->top_bytes.data, s->top_bytes.len, d);
				dg = strdup(d);
			}
			if (!mt) {
				const char *m =
				    oci_detect_media_type(s->top_bytes.data, s->top_bytes.len);

				mt = m ? strdup(m) : NULL;
			}
			s->top.media_type = mt;
			s->top.digest = dg;
			s->top.size = (int64_t)s->top_bytes.len;
			if (!dg || !mt) {
				oci_desc_free(&s->top);
				return err_set(e, ERR_INPUT, "%s: manifest of unknown media type",
					       s->loc->text);
			}
		} else if (oci_layout_resolve(s->layout, s->loc->tag, &s->top, e) < 0) {
			return -1;
		}
		s->have_top = true;
	}
	return oci_desc_copy(top, &s->top, e);
}

int image_src_manifest(struct image_src *s, const struct oci_desc *d, struct buf *out,
		       struct err *e)
{
	out->max = BUF_CAP_MANIFEST;
	if (s->reg) {
		if (s->top_bytes.len && s->top.digest && strcmp(s->top.digest, d->digest) == 0)
			return buf_add(out, s->top_bytes.data, s->top_bytes.len, e);
		return reg_get_manifest(s->reg, d->digest, out, NULL, NULL, e);
	}
	return oci_layout_read_blob(s->layout, d->digest, out, BUF_CAP_MANIFEST, e);
}

int image_src_blob_buf(struct image_src *s, const struct oci_desc *d, struct buf *out, size_t max,
		       struct err *e)
{
	if (s->reg)
		return reg_get_blob_buf(s->reg, d, out, max, e);
	return oci_layout_read_blob(s->layout, d->digest, out, max ? max : BUF_CAP_MANIFEST, e);
}

/* What a copy moves: manifests in push order (children before the index
 * that lists them) and the deduplicated blobs they reference. */
struct plan {
	struct oci_desc *manifests;
	char **bodies;
	size_t *body_len;
	size_t n_manifests;
	struct oci_desc *blobs;
	size_t n_blobs;
	struct oci_desc top;
};

static void plan_free(struct plan *p)
{
	size_t i;

	for (i = 0; i < p->n_manifests; i++) {
		oci_desc_free(&p->manifests[i]);
		free(p->bodies[i]);
	}
	for (i = 0; i < p->n_blobs; i++)
		oci_desc_free(&p->blobs[i]);
	free(p->manifests);
	free(p->bodies);
	free(p->body_len);
	free(p->blobs);
	oci_desc_free(&p->top);
	memset(p, 0, sizeof(*p));
}

static bool has_manifest(const struct plan *p, const char *digest)
{
	size_t i;

	for (i = 0; i < p->n_manifests; i++)
		if (strcmp(p->manifests[i].digest, digest) == 0)
			return true;
	return false;
}

static int add_blob(struct plan *p, const struct oci_desc *d, struct err *e)
{
	struct oci_desc *nb;
	size_t i;

	for (i = 0; i < p->n_blobs; i++)
		if (strcmp(p->blobs[i].digest, d->digest) == 0)
			return 0;
	if (p->n_blobs >= MAX_ITEMS)
		return err_set(e, ERR_INPUT, "image references more than %d blobs", MAX_ITEMS);
	nb = realloc(p->blobs, (p->n_blobs + 1) * sizeof(*nb));
	if (!nb)
		return err_oom(e);
	p->blobs = nb;
	memset(&nb[p->n_blobs], 0, sizeof(*nb));
	if (oci_desc_copy(&nb[p->n_blobs], d, e) < 0)
		return -1;
	p->n_blobs++;
	return 0;
}

static int add_manifest(struct plan *p, const struct oci_desc *d, struct buf *body, struct err *e)
{
	size_t n = p->n_manifests + 1;
	struct oci_desc *nm;
	char **nbod;
	size_t *nlen;

	if (n > MAX_ITEMS)
		return err_set(e, ERR_INPUT, "image has more than %d manifests", MAX_ITEMS);
	nm = realloc(p->manifests, n * sizeof(*nm));
	if (nm)
		p->manifests = nm;
	nbod = realloc(p->bodies, n * sizeof(*nbod));
	if (nbod)
		p->bodies = nbod;
	nlen = realloc(p->body_len, n * sizeof(*nlen));
	if (nlen)
		p->body_len = nlen;
	if (!nm || !nbod || !nlen)
		return err_oom(e);
	memset(&nm[n - 1], 0, sizeof(*nm));
	if (oci_desc_copy(&nm[n - 1], d, e) < 0)
		return -1;
	nbod[n - 1] = buf_detach(body, &nlen[n - 1]);
	p->n_manifests = n;
	return 0;
}

static int walk(struct image_src *s, struct plan *p, const struct oci_desc *d, int depth,
		const struct oci_platform *platform, bool select_platform, struct err *e)
{
	struct buf body __attribute__((cleanup(buf_cleanup))) = BUF_INIT;
	const char *mt;
	char sd[20];
	size_t i;

	oci_digest_short(d->digest, sd);
	if (depth > MAX_DEPTH)
		return err_set(e, ERR_INPUT, "index nesting deeper than %d at %s (a loop?)",
			       MAX_DEPTH, sd);
	if (has_manifest(p, d->digest))
		return 0;
	if (image_src_manifest(s, d, &body, e) < 0)
		return err_prefix(e, "manifest %s", sd);
	mt = d->media_type && *d->media_type ? d->media_type
					     : oci_detect_media_type(body.data, body.len);
	if (mt && oci_mt_is_index(mt)) {
		struct oci_index idx;

		if (oci_index_parse(&idx, body.data, body.len, mt, e) < 0)
			return err_prefix(e, "index %s", sd);
		if (select_platform) {
			struct oci_desc child;
			int rc;

			if (oci_index_select(&idx, platform, &child, e) < 0) {
				oci_index_free(&idx);
				return err_prefix(e, "%s", s->loc->text);
			}
			oci_index_free(&idx);
			oci_desc_free(&p->top);
			if (oci_desc_copy(&p->top, &child, e) < 0) {
				oci_desc_free(&child);
				return -1;
			}
			rc = walk(s, p, &child, depth + 1, platform, false, e);
			oci_desc_free(&child);
			return rc;
		}
		for (i = 0; i < idx.n; i++) {
			if (walk(s, p, &idx.manifests[i], depth + 1, platform, false, e) < 0) {
				oci_index_free(&idx);
				return -1;
			}
		}
		oci_index_free(&idx);
	} else {
		struct oci_manifest m;

		if (oci_manifest_parse(&m, body.data, body.len, mt, e) < 0)
			return err_prefix(e, "manifest %s", sd);
		if (add_blob(p, &m.config, e) < 0) {
			oci_manifest_free(&m);
			return -1;
		}
		for (i = 0; i < m.n_layers; i++) {
			if (add_blob(p, &m.layers[i], e) < 0) {
				oci_manifest_free(&m);
				return -1;
			}
		}
		oci_manifest_free(&m);
	}
	return add_manifest(p, d, &body, e);
}

struct stage_ctx {
	struct oci_layout *l;
};

static char *stage_path(void *ctx, const struct oci_desc *d)
{
	return oci_layout_blob_path(((struct stage_ctx *)ctx)->l, d->digest);
}

static bool stage_has(void *ctx, const struct oci_desc *d)
{
	return oci_layout_has_blob(((struct stage_ctx *)ctx)->l, d->digest);
}

/* Put manifests into the staging layout and fetch the blobs a registry
 * source has. */
static int stage(struct image_src *s, struct plan *p, struct oci_layout *l, struct err *e)
{
	struct stage_ctx ctx = {l};
	char dg[72];
	size_t i;

	for (i = 0; i < p->n_manifests; i++) {
		if (oci_layout_has_blob(l, p->manifests[i].digest))
			continue;
		if (oci_layout_put_blob(l, p->bodies[i], p->body_len[i], dg, e) < 0)
			return -1;
		if (strcmp(dg, p->manifests[i].digest) != 0)
			return err_set(e, ERR_INPUT, "manifest %s is stored under another digest",
				       p->manifests[i].digest);
	}
	if (s->reg)
		return reg_fetch_blobs(s->reg, p->blobs, p->n_blobs, stage_path, stage_has, &ctx,
				       e);
	for (i = 0; i < p->n_blobs; i++)
		if (!oci_layout_has_blob(l, p->blobs[i].digest))
			return err_set(e, ERR_INPUT, "%s: blob %s is missing", s->loc->text,
				       p->blobs[i].digest);
	return 0;
}

static int publish_oci(struct plan *p, struct oci_layout *from, const struct location *dst,
		       struct progress *prog, struct err *e)
{
	char label[20];
	int id;
	struct oci_layout *l = NULL;
	char *path;
	size_t i, k;
	int rc = -1;

	if (oci_layout_open(&l, dst->path, true, e) < 0)
		return -1;
	for (k = 0; k < 2; k++) {
		size_t n = k ? p->n_manifests : p->n_blobs;

		for (i = 0; i < n; i++) {
			const char *dg = k ? p->manifests[i].digest : p->blobs[i].digest;

			oci_digest_short(dg, label);
			id = k ? -1 : progress_add(prog, label, (uint64_t)p->blobs[i].size);
			if (oci_layout_has_blob(l, dg)) {
				progress_finish(prog, id, "exists");
				continue;
			}
			path = oci_layout_blob_path(from, dg);
			if (!path) {
				err_oom(e);
				goto out;
			}
			rc = oci_layout_put_blob_file(l, dg, path, e);
			free(path);
			if (rc < 0) {
				progress_finish(prog, id, "failed");
				goto out;
			}
			if (!k)
				progress_update(prog, id, (uint64_t)p->blobs[i].size);
			progress_finish(prog, id, "done");
			rc = -1;
		}
	}
	rc = oci_layout_set_ref(l, &p->top, dst->tag, e);
out:
	oci_layout_close(l);
	return rc;
}

/* The repository on dst's registry that an image says it was built on
 * (org.opencontainers.image.base.name in a manifest's annotations), so
 * its blobs are mounted instead of uploaded again; or NULL. A registry that
 * does not have a blob there, or will not mount it, opens an upload
 * session instead, so a wrong hint costs one request per blob. */
static char *base_mount_repo(const struct plan *p, const struct oci_ref *dst)
{
	char *repo = NULL;

	for (size_t i = 0; i < p->n_manifests && !repo; i++) {
		cJSON *doc = cJSON_ParseWithLength(p->bodies[i], p->body_len[i]);
		const cJSON *ann = cJSON_GetObjectItemCaseSensitive(doc, "annotations");
		const cJSON *bn = cJSON_GetObjectItemCaseSensitive(ann, ANN_BASE_NAME);
		struct oci_ref r;
		struct err ignored = ERR_INIT;

		if (cJSON_IsString(bn) && oci_ref_parse(&r, bn->valuestring, &ignored) == 0) {
			if (strcmp(r.registry, dst->registry) == 0 &&
			    strcmp(r.repository, dst->repository) != 0)
				repo = strdup(r.repository);
			oci_ref_free(&r);
		}
		cJSON_Delete(doc);
	}
	return repo;
}

static int publish_registry(struct plan *p, struct oci_layout *from, const struct image_src *s,
			    const struct location *dst, const struct reg_opts *ro, struct err *e)
{
	struct reg_client *c = NULL;
	const char *mount = NULL, *key;
	char **paths = NULL, *base_repo = NULL;
	size_t i;
	int rc = -1;

	if (dst->ref.digest && strcmp(dst->ref.digest, p->top.digest) != 0)
		return err_set(e, ERR_USAGE, "%s: destination digest does not match the image (%s)",
			       dst->text, p->top.digest);
	if (reg_open(&c, &dst->ref, ro, true, e) < 0)
		return -1;
	if (s->reg && strcmp(s->loc->ref.registry, dst->ref.registry) == 0 &&
	    strcmp(s->loc->ref.repository, dst->ref.repository) != 0)
		mount = s->loc->ref.repository;
	else if ((base_repo = base_mount_repo(p, &dst->ref)))
		mount = base_repo;
	paths = calloc(p->n_blobs + 1, sizeof(*paths));
	if (!paths) {
		err_oom(e);
		goto out;
	}
	for (i = 0; i < p->n_blobs; i++) {
		paths[i] = oci_layout_blob_path(from, p->blobs[i].digest);
		if (!paths[i]) {
			err_oom(e);
			goto out;
		}
	}
	if (reg_push_blobs(c, p->blobs, (const char *const *)paths, p->n_blobs, mount, e) < 0)
		goto out;
	/* Children first, the tagged manifest last: a tag never points at
	 * content the registry does not have. */
	for (i = 0; i < p->n_manifests; i++) {
		bool is_top = strcmp(p->manifests[i].digest, p->top.digest) == 0;

		key = is_top && dst->ref.tag ? dst->ref.tag : p->manifests[i].digest;
		if (is_top)
			continue;
		if (reg_put_manifest(c, key, p->bodies[i], p->body_len[i],
				     p->manifests[i].media_type, e) < 0)
			goto out;
	}
	for (i = 0; i < p->n_manifests; i++) {
		if (strcmp(p->manifests[i].digest, p->top.digest) != 0)
			continue;
		key = dst->ref.tag ? dst->ref.tag : p->manifests[i].digest;
		if (reg_put_manifest(c, key, p->bodies[i], p->body_len[i],
				     p->manifests[i].media_type, e) < 0)
			goto out;
		break;
	}
	rc = 0;
out:
	if (paths)
		for (i = 0; i < p->n_blobs; i++)
			free(paths[i]);
	free(paths);
	free(base_repo);
	reg_close(c);
	return rc;
}

/* The repo:tag recorded in a docker archive: the destination's own, else
 * the source reference. */
static char *archive_tag(const struct image_src *s, const struct location *dst, struct err *e)
{
	if (dst->tag)
		return xstrdup_e(dst->tag, e);
	if (s->loc->kind == LOC_REGISTRY && s->loc->ref.tag) {
		char *name = oci_ref_name(&s->loc->ref), *r;

		if (!name) {
			err_oom(e);
			return NULL;
		}
		r = xasprintf_e(e, "%s:%s", name, s->loc->ref.tag);
		free(name);
		return r;
	}
	if (s->loc->kind == LOC_DOCKER_ARCHIVE && s->loc->tag)
		return xstrdup_e(s->loc->tag, e);
	err_clear(e);
	return NULL;
}

int image_copy(const struct location *src, const struct location *dst, const struct copy_opts *o,
	       struct copy_result *r, struct err *e)
{
	struct image_src *s = NULL;
	struct oci_layout *staging = NULL;
	struct plan p;
	struct oci_desc top;
	char *tmp = NULL, *tag = NULL;
	bool select;
	int rc = -1;

	memset(&p, 0, sizeof(p));
	memset(r, 0, sizeof(*r));
	if (dst->kind == LOC_DIR)
		return err_set(e, ERR_USAGE, "%s: cannot copy into a dir: location", dst->text);
	if (image_src_open(&s, src, &o->src_reg, e) < 0)
		return -1;
	if (image_src_top(s, &top, e) < 0)
		goto out;
	if (oci_desc_copy(&p.top, &top, e) < 0) {
		oci_desc_free(&top);
		goto out;
	}
	/* A docker archive holds one image: pick a platform even when none
	 * was asked for. */
	select = o->platform || dst->kind == LOC_DOCKER_ARCHIVE;
	rc = walk(s, &p, &top, 0, o->platform, select, e);
	oci_desc_free(&top);
	if (rc < 0)
		goto out;
	rc = -1;
	log_debug("copy: %zu manifests, %zu blobs, top %s", p.n_manifests, p.n_blobs, p.top.digest);

	if (s->layout) {
		staging = NULL; /* the source layout is the staging area */
	} else if (dst->kind == LOC_OCI) {
		if (oci_layout_open(&staging, dst->path, true, e) < 0)
			goto out;
	} else {
		tmp = fs_mkdtemp("bosun-copy", e);
		if (!tmp || oci_layout_open(&staging, tmp, true, e) < 0)
			goto out;
	}
	if (stage(s, &p, staging ? staging : s->layout, e) < 0)
		goto out;

	switch (dst->kind) {
	case LOC_OCI:
		if (staging) {
			/* staged straight into the destination */
			if (oci_layout_set_ref(staging, &p.top, dst->tag, e) < 0)
				goto out;
		} else if (publish_oci(&p, s->layout, dst, o->dst_reg.progress, e) < 0) {
			goto out;
		}
		break;
	case LOC_REGISTRY:
		if (publish_registry(&p, staging ? staging : s->layout, s, dst, &o->dst_reg, e) < 0)
			goto out;
		break;
	case LOC_DOCKER_ARCHIVE:
		tag = archive_tag(s, dst, e);
		if (!tag && e->code)
			goto out;
		if (docker_archive_write(dst->path, staging ? staging : s->layout, &p.top, tag, e) <
		    0)
			goto out;
		break;
	case LOC_DIR:
		break;
	}
	snprintf(r->digest, sizeof(r->digest), "%s", p.top.digest);
	snprintf(r->media_type, sizeof(r->media_type), "%s",
		 p.top.media_type ? p.top.media_type : "");
	r->size = p.top.size;
	r->n_manifests = p.n_manifests;
	r->n_blobs = p.n_blobs;
	rc = 0;
out:
	oci_layout_close(staging);
	if (tmp) {
		struct err e2 = ERR_INIT;

		if (fs_rm_rf(tmp, &e2) < 0)
			log_warn("cannot remove %s: %s", tmp, e2.msg);
		free(tmp);
	}
	free(tag);
	plan_free(&p);
	image_src_close(s);
	return rc;
}

int image_copy_to(const struct location *src, const char *dst, const struct reg_opts *ro, const char *archive_tag,
		  bool progress, struct err *e)
{
	struct location d;
	struct copy_opts co;
	struct copy_result cr;
	char title[600];
	int rc;

	if (location_parse(&d, dst, e) < 0)
		return -1;
	if (d.kind == LOC_DOCKER_ARCHIVE && !d.tag && archive_tag && !(d.tag = xstrdup_e(archive_tag, e))) {
		location_free(&d);
		return -1;
	}
	memset(&co, 0, sizeof(co));
	co.src_reg = *ro;
	co.dst_reg = *ro;
	if (progress) {
		snprintf(title, sizeof(title), "push %s", dst);
		co.dst_reg.progress = progress_new(title);
	}
	rc = image_copy(src, &d, &co, &cr, e);
	progress_free(co.dst_reg.progress);
	location_free(&d);
	return rc;
}
