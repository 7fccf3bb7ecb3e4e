/* Multi-platform builds: --platform linux/amd64,linux/arm64 runs one build
 * per platform, each from the base's manifest for that platform, with its own
 * TARGET* arguments, stages and cache keys, and joins the manifests in one
 * OCI image index. The Dockerfile, the context, the workspace, the cache and
 * the memos are shared: the context is hashed once, and a COPY whose layer
 * comes out the same for another platform is not written twice (copy.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>

#include "builder/internal.h"
#include "core/fs.h"
#include "core/log.h"
#include "core/util.h"
#include "oci/layout.h"
#include "oci/manifest.h"

void build_platforms_free(struct oci_platform *p, size_t n)
{
	for (size_t i = 0; p && i < n; i++)
		oci_platform_free(&p[i]);
	free(p);
}

int build_platforms_parse(const char *spec, struct oci_platform **out, size_t *n, struct err *e)
{
	char *copy __attribute__((cleanup(freep))) = spec ? xstrdup_e(spec, e) : NULL;
	struct oci_platform *v = NULL;
	size_t k = 0, cap = 0;
	char *save = NULL, *tok;

	*out = NULL;
	*n = 0;
	if (spec && !copy)
		return -1;
	if (!spec) {
		v = calloc(1, sizeof(*v));
		if (!v)
			return err_oom(e);
		if (oci_platform_default(&v[0], e) < 0) {
			free(v);
			return -1;
		}
		*out = v;
		*n = 1;
		return 0;
	}
	size_t sl = strlen(spec);
	if (!sl || spec[0] == ',' || spec[sl - 1] == ',' || strstr(spec, ",,"))
		return err_set(e, ERR_USAGE, "--platform \"%.200s\": expected OS/ARCH[/VARIANT][,OS/ARCH...]", spec);
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (k == cap) {
			struct oci_platform *nv = realloc(v, (cap ? cap * 2 : 4) * sizeof(*nv));
			if (!nv) {
				build_platforms_free(v, k);
				return err_oom(e);
			}
			v = nv;
			cap = cap ? cap * 2 : 4;
		}
		if (oci_platform_parse(&v[k], tok, e) < 0) {
			build_platforms_free(v, k);
			return err_prefix(e, "--platform");
		}
		for (size_t i = 0; i < k; i++) {
			if (oci_platform_match(&v[i], &v[k]) && oci_platform_match(&v[k], &v[i])) {
				err_set(e, ERR_USAGE, "--platform: %s is given twice", tok);
				build_platforms_free(v, k + 1);
				return -1;
			}
		}
		k++;
	}
	*out = v;
	*n = k;
	return 0;
}

/* Does the build of b's target run a RUN step (other than ONBUILD triggers
 * of its bases, which do_run checks as it meets them)? */
static bool needs_run(const struct build *b)
{
	for (size_t si = 0; si < b->n_st; si++) {
		const struct stage *s = &b->st[si];
		for (size_t j = s->first + 1; s->needed && j <= s->last; j++)
			if (strcmp(b->df.ins[j].cmd, "run") == 0)
				return true;
	}
	return false;
}

/* The workspace open_workspace made in the owner, lent to a platform's build. */
static void share_workspace(struct build *dst, const struct build *src)
{
	dst->workdir = src->workdir;
	dst->workdir_lock = src->workdir_lock;
	dst->out = src->out;
	dst->lay = src->lay;
	dst->lay_dir = src->lay_dir;
	dst->cache_dir = src->cache_dir;
	dst->cache_dir_own = src->cache_dir_own;
	dst->creg = src->creg;
}

/* Platform i of the build: the owner's shared parts, its own platform,
 * arguments and stages (planned now: the target may depend on TARGETARCH). */
static int platform_build(struct build *pb, const struct build *owner, const struct oci_platform *p, int *target,
			  struct err *e)
{
	*pb = *owner;
	pb->borrowed = true;
	pb->multi = true;
	memset(&pb->plat, 0, sizeof(pb->plat));
	if (oci_platform_copy(&pb->plat, p, e) < 0 || set_args(pb, e) < 0)
		return -1;
	*target = plan_stages(pb, e);
	return *target < 0 ? -1 : 0;
}

/* The index entry of a platform's image: its platform as its config says. */
static int index_entry(struct oci_desc *d, const struct build *pb, const struct stage *s, const char *dig,
		       int64_t size, struct err *e)
{
	const cJSON *os = cJSON_GetObjectItemCaseSensitive(s->config, "os");
	const cJSON *arch = cJSON_GetObjectItemCaseSensitive(s->config, "architecture");
	const cJSON *var = cJSON_GetObjectItemCaseSensitive(s->config, "variant");
	struct oci_platform p = { 0 };

	memset(d, 0, sizeof(*d));
	d->media_type = xstrdup_e(MT_OCI_MANIFEST, e);
	d->digest = xstrdup_e(dig, e);
	d->size = size;
	d->platform = calloc(1, sizeof(*d->platform));
	if (!d->media_type || !d->digest || !d->platform)
		return err_oom(e);
	p.os = cJSON_IsString(os) ? os->valuestring : pb->plat.os;
	p.architecture = cJSON_IsString(arch) ? arch->valuestring : pb->plat.architecture;
	p.variant = cJSON_IsString(var) ? var->valuestring : (cJSON_IsString(arch) ? NULL : pb->plat.variant);
	return oci_platform_copy(d->platform, &p, e);
}

/* Builds every platform in turn; each image is tagged build-N in the staging
 * layout and becomes entry N of idx. */
static int build_all(struct build *owner, struct build *pb, const int *target, size_t n, struct oci_index *idx,
		     struct build_result *r, struct err *e)
{
	for (size_t i = 0; i < n; i++) {
		struct build_image *im = &r->images[i];
		char *ps = oci_platform_string(&pb[i].plat);
		int64_t size;

		if (!ps)
			return err_oom(e);
		snprintf(im->platform, sizeof(im->platform), "%s", ps);
		free(ps);
		snprintf(im->tag, sizeof(im->tag), "build-%zu", i);
		log_info("platform %s (%zu of %zu)", im->platform, i + 1, n);
		share_workspace(&pb[i], owner);
		if (run_stages(&pb[i], target[i], e) < 0 ||
		    finish_image(&pb[i], &pb[i].st[target[i]], im->tag, im->digest, &size, e) < 0)
			return err_prefix(e, "%s", im->platform);
		const struct stage *ts = &pb[i].st[target[i]];
		snprintf(im->base_digest, sizeof(im->base_digest), "%s", ts->base_digest ? ts->base_digest : "");
		idx->n = i + 1;
		if (index_entry(&idx->manifests[i], &pb[i], ts, im->digest, size, e) < 0)
			return -1;
		r->steps += pb[i].n_steps;
		r->hits += pb[i].hits;
		r->n_images = i + 1;
		/* Its root file systems are done with: the disk holds one platform's at a time. */
		for (size_t si = 0; si < pb[i].n_st; si++) {
			struct err e2 = ERR_INIT;
			if (pb[i].st[si].rootfs && fs_rm_rf(pb[i].st[si].rootfs, &e2) < 0)
				log_warn("%s", e2.msg);
		}
	}
	/* A build argument is unused when no platform's build consumed it. */
	for (size_t a = 0; a < pb[0].bargs.n; a++) {
		bool used = false;
		for (size_t i = 0; i < n && !used; i++)
			used = pb[i].bargs_used[a];
		if (!used)
			log_warn("build argument %s was not consumed by any ARG", pb[0].bargs.k[a]);
	}
	return 0;
}

/* The index, tagged "build". */
static int write_index(struct build *owner, const struct oci_index *idx, struct build_result *r, struct err *e)
{
	size_t len;
	char *text = oci_index_serialise(idx, &len, e);
	char dig[72];
	int rc;

	if (!text || oci_layout_put_blob(owner->out, text, len, dig, e) < 0) {
		free(text);
		return -1;
	}
	free(text);
	struct oci_desc d = { .media_type = (char *)MT_OCI_INDEX, .digest = dig, .size = (int64_t)len };
	rc = oci_layout_set_ref(owner->out, &d, "build", e);
	snprintf(r->digest, sizeof(r->digest), "%s", dig);
	return rc;
}

int build_run_multi(const struct build_opts *o, struct oci_platform *plats, size_t n, struct build_result *r,
		    struct err *e)
{
	struct build owner, *pb = calloc(n, sizeof(*pb));
	struct oci_index idx = { 0 };
	int *target = calloc(n, sizeof(*target));
	size_t made = 0;
	int ret = -1;

	build_init(&owner, o);
	owner.multi = true;
	idx.manifests = calloc(n, sizeof(*idx.manifests));
	r->images = calloc(n, sizeof(*r->images));
	if (!pb || !target || !idx.manifests || !r->images) {
		err_oom(e);
		goto out;
	}
	if (open_context(&owner, e) < 0)
		goto out;
	for (; made < n; made++)
		if (platform_build(&pb[made], &owner, &plats[made], &target[made], e) < 0) {
			made++;
			goto out;
		}
	/* Before any work: emulation for every foreign platform that runs something. */
	for (size_t i = 0; i < n; i++)
		if (needs_run(&pb[i]) && binfmt_check(&pb[i].plat, e) < 0)
			goto out;
	if (open_workspace(&owner, e) < 0 || build_all(&owner, pb, target, n, &idx, r, e) < 0 ||
	    write_index(&owner, &idx, r, e) < 0)
		goto out;
	memo_save(&owner, owner.memo);
	r->is_index = true;
	r->layout = fs_join(owner.workdir, "layout");
	if (!r->layout) {
		err_oom(e);
		goto out;
	}
	r->workdir = owner.workdir;
	owner.workdir = NULL;
	r->workdir_lock = owner.workdir_lock;
	owner.workdir_lock = -1;
	ret = 0;
out:
	for (size_t i = 0; i < made; i++)
		build_free(&pb[i]);
	free(pb);
	free(target);
	oci_index_free(&idx);
	build_free(&owner);
	if (ret < 0) {
		free(r->images);
		r->images = NULL;
		r->n_images = 0;
	}
	return ret;
}
