/* COPY and ADD: sources (context, stage, image, heredoc, URL, local tar),
 * the destination, the cache key pass and the copy pass. */
#include <limits.h>
#include <stdint.h>
#include <archive.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <cjson/cJSON.h>

#include "builder/internal.h"
#include "core/fs.h"
#include "core/log.h"
#include "core/sha256.h"
#include "core/util.h"
#include "oci/digest.h"
#include "oci/layer.h"
#include "oci/tar.h"
#include "registry/fetch.h"

/* ADD URL: the registry layer's downloader (retries on 5xx, 429 and network
 * errors; no larger than one layer may expand to), then --checksum. */
static int download(const char *url, const char *dst, const char *checksum, struct err *e)
{
	unsigned long long cap = oci_max_layer_size();
	struct fetch_opts fo = { .max_size = cap > INT64_MAX ? 0 : (int64_t)cap };
	struct fetch_result fr;
	int r = fetch_to_file(url, dst, &fo, &fr, e);

	fetch_result_free(&fr);
	if (r < 0)
		return err_prefix(e, "download");
	if (checksum && oci_digest_verify_file(checksum, dst, NULL, e) < 0)
		return err_prefix(e, "ADD %s --checksum", url);
	return 0;
}

/* ADD extracts a local file that reads as a (compressed) tar archive. */
static bool is_archive(const char *path)
{
	struct err e = ERR_INIT;
	struct tar_reader *tr = tar_reader_open(path, &e);
	const struct tar_entry *ent;
	bool ok = tr && tar_next(tr, &ent, &e) == 1;

	tar_reader_free(tr);
	return ok;
}

/* One COPY or ADD: the expanded words (sources..., destination) and what
 * they mean. */
struct copy_job {
	const struct df_instr *in;
	bool add;
	char **w;
	size_t n;
	const char *checksum;  /* ADD --checksum */
	char dst[PATH_MAX];    /* the destination, cleaned, relative to / */
	bool dst_dir;          /* a directory: trailing '/', several sources or matches */
	char *from_root;       /* --from=IMAGE: its root file system, removed after */
};

/* The words: each exec-form argument expanded on its own, else the shell form. */
static int copy_words(struct build *b, const struct df_instr *in, char ***wp, size_t *np, struct err *e)
{
	if (!in->json)
		return df_lex(in->rest, b->df.escape, lookup_stage, b, true, wp, np, e);
	*wp = calloc(in->n_args + 1, sizeof(char *));
	if (!*wp)
		return err_oom(e);
	for (size_t i = 0; i < in->n_args; i++) {
		char **t;
		size_t tn;
		if (df_lex(in->args[i], b->df.escape, lookup_stage, b, false, &t, &tn, e) < 0)
			return -1;
		(*wp)[(*np)++] = t[0];
		free(t);
	}
	return 0;
}

/* Known flags, --chmod and --chown. */
static int copy_flags(struct build *b, struct stage *s, const struct df_instr *in, struct copy_ctx *c, struct err *e)
{
	const char *chown = df_flag(in, "chown");
	const char *chmod_s = df_flag(in, "chmod");

	for (size_t i = 0; i < in->n_flags; i++) {
		static const char *const okf[] = { "from", "chown", "chmod", "link", "checksum", "keep-git-dir",
						   "parents", "exclude" };
		bool ok = false;
		for (size_t j = 0; j < ARRAY_SIZE(okf); j++)
			ok = ok || strncmp(in->flags[i], okf[j], strlen(okf[j])) == 0;
		if (!ok)
			return err_set(e, ERR_INPUT, "unknown flag --%s", in->flags[i]);
	}
	if (chmod_s) {
		char *end;
		c->chmod_mode = strtol(chmod_s, &end, 8);
		if (!*chmod_s || *end || c->chmod_mode < 0 || c->chmod_mode > 07777)
			return err_set(e, ERR_INPUT, "--chmod=%s: expected an octal mode", chmod_s);
	}
	if (chown && *chown) {
		char *cv = df_expand_plain(chown, b->df.escape, lookup_stage, b, e);
		int r = cv ? resolve_user(b, s, cv, &c->uid, &c->gid, e) : -1;
		if (r == 0 && !strchr(cv, ':'))
			c->gid = c->gid < 0 ? c->uid : c->gid;
		free(cv);
		if (r < 0)
			return -1;
	}
	return 0;
}

/* Where sources come from: --from=STAGE, --from=IMAGE (pulled into a root
 * file system of its own, j->from_root) or the build context. */
static int copy_from(struct build *b, struct stage *s, const char *ff, struct copy_ctx *c, struct copy_job *j,
		     struct err *e)
{
	if (!ff || !*ff) {
		c->src_root = b->ctx_real;
		c->from_context = true;
		return 0;
	}
	struct stage *from = find_stage(b, ff, (size_t)s->index);
	if (!from && strspn(ff, "0123456789") == strlen(ff))
		return err_set(e, ERR_INPUT, "--from=%s: no such stage", ff);
	if (!from && find_stage(b, ff, b->n_st))
		return err_set(e, ERR_INPUT, "--from=%s: stage is defined later", ff);
	if (from) {
		if (sync_rootfs(b, from, e) < 0)
			return -1;
		c->src_root = from->rootfs;
		return 0;
	}
	/* An image: pull it into its own scratch stage state. */
	struct stage tmp;
	struct oci_desc top = { 0 };
	memset(&tmp, 0, sizeof(tmp));
	if (pull_base(b, ff, &top, e) < 0)
		return -1;
	int r = load_image(b, &tmp, &top, e);
	oci_desc_free(&top);
	tmp.rootfs = r == 0 ? new_tmp(b, "from", e) : NULL;
	if (tmp.rootfs)
		r = sync_rootfs(b, &tmp, e);
	else
		r = -1;
	j->from_root = tmp.rootfs;
	cJSON_Delete(tmp.config);
	for (size_t i = 0; i < tmp.n_layers; i++)
		oci_desc_free(&tmp.layers[i]);
	free(tmp.layers);
	if (r < 0)
		return -1;
	c->src_root = j->from_root;
	return 0;
}

/* Destination: relative to WORKDIR; a trailing '/' or several sources make it a directory. */
static int copy_dest(struct stage *s, struct copy_job *j, struct err *e)
{
	const char *dst_raw = j->w[j->n - 1];
	char tmp[PATH_MAX * 2];
	const char *wd = workdir_of(s);

	snprintf(tmp, sizeof(tmp), "%s/%s", dst_raw[0] == '/' ? "" : wd, dst_raw);
	if (!clean_rel(tmp, j->dst, sizeof(j->dst)))
		return err_set(e, ERR_INPUT, "bad destination \"%s\"", dst_raw);
	size_t dl = strlen(dst_raw);
	j->dst_dir = (dl && (dst_raw[dl - 1] == '/' || strcmp(dst_raw, ".") == 0 ||
			     (dl >= 2 && strcmp(dst_raw + dl - 2, "/.") == 0))) ||
		     j->n > 2;
	return 0;
}

/* A heredoc source: its body (expanded unless quoted) becomes a file. */
static int copy_heredoc(struct copy_ctx *c, struct copy_job *j, const struct df_heredoc *hd, struct err *e)
{
	struct build *b = c->b;
	char *body = hd->expand ? df_expand_plain(hd->content, b->df.escape, lookup_stage, b, e)
				: xstrdup_e(hd->content, e);
	if (!body)
		return -1;
	char d2[PATH_MAX];
	snprintf(d2, sizeof(d2), "%s%s%s", j->dst, j->dst_dir ? "/" : "", j->dst_dir ? hd->name : "");
	hash_str(c, d2);
	hash_str(c, body);
	if (c->hash_only) {
		free(body);
		return 0;
	}
	char lp[PATH_MAX * 2];
	struct layer_meta lm = { .mode = 0644, .mtime = (int64_t)time(NULL) };
	snprintf(lp, sizeof(lp), "%s/%s", c->tree ? "" : c->layer, d2);
	int r = make_parents(c, d2, e) < 0 ||
		(c->tree ? layer_tree_data(c->tree, d2, body, strlen(body), &lm, e)
			 : fs_write_atomic(lp, body, strlen(body), 0644, e)) < 0;
	struct stat st = { .st_mode = S_IFREG | 0644 };
	st.st_mtim.tv_sec = b->created;
	if (!r)
		copy_meta(c, d2, &st, false);
	free(body);
	return r ? -1 : 0;
}

/* ADD URL: the cache key is the URL and the checksum, not the content. */
static int copy_url(struct copy_ctx *c, struct copy_job *j, const char *src, struct err *e)
{
	const char *bn = strrchr(src, '/');
	bn = bn && bn[1] ? bn + 1 : "index.html";
	char d2[PATH_MAX];
	snprintf(d2, sizeof(d2), "%s%s%s", j->dst, j->dst_dir ? "/" : "", j->dst_dir ? bn : "");
	hash_str(c, src);
	hash_str(c, j->checksum ? j->checksum : "");
	if (c->hash_only)
		return 0;
	char lp[PATH_MAX * 2];
	if (make_parents(c, d2, e) < 0)
		return -1;
	snprintf(lp, sizeof(lp), "%s/%s", c->layer, d2);
	if (download(src, lp, j->checksum, e) < 0)
		return -1;
	struct stat st = { .st_mode = S_IFREG | 0600 };
	st.st_mtim.tv_sec = c->b->created;
	copy_meta(c, d2, &st, false);
	return 0;
}

/* ADD of a local tar archive: unpacked into the destination. */
static int copy_archive(struct copy_ctx *c, const char *real, const char *dst, struct err *e)
{
	int r;

	hash_str(c, dst);
	r = c->hash_only ? hash_file(c, real, e) : 0;
	if (!c->hash_only) {
		char lp[PATH_MAX * 2];
		snprintf(lp, sizeof(lp), "%s/%s", c->layer, dst);
		struct unpack_opts uo = { .set_owner = !c->b->rootless };
		r = make_parents(c, dst[0] ? dst : ".", e);
		if (r == 0 && fs_mkdir_p(lp, 0755, e) < 0)
			r = -1;
		if (r == 0)
			r = oci_unpack_layer(real, lp, &uo, e);
	}
	return r;
}

/* One match of a local source (rel as written, cleaned): a directory's
 * contents go into dst, an ADD archive is unpacked, anything else is
 * copied to dst or into it. */
static int copy_match(struct copy_ctx *c, struct copy_job *j, const char *src, const char *rel, const char *match,
		      struct err *e)
{
	struct build *b = c->b;
	const char *dst = j->dst;
	char *real = resolve_in(c->src_root, match, e);
	struct stat st;

	if (!real)
		return err_prefix(e, "%s", !c->from_context ? "source" : "build context");
	const char *cr = "";
	if (c->from_context) {
		size_t cl = strlen(b->ctx_real);
		cr = strncmp(real, b->ctx_real, cl) == 0 ? real + cl : "";
		while (*cr == '/')
			cr++;
		if (*cr && ignore_match(b->ig, cr) && has_glob(rel) == false) {
			struct stat ds;
			if (stat(real, &ds) == 0 && !S_ISDIR(ds.st_mode)) {
				err_set(e, ERR_INPUT, "\"%s\": excluded by .dockerignore", src);
				free(real);
				return -1;
			}
		}
	}
	int r;
	if (stat(real, &st) == 0 && S_ISDIR(st.st_mode)) {
		/* A directory: its contents go into dst. */
		r = copy_tree(c, real, dst, c->from_context ? cr : NULL, e);
	} else if (j->add && c->from_context && is_archive(real)) {
		r = copy_archive(c, real, dst, e);
	} else {
		const char *bn = strrchr(match, '/');
		bn = bn ? bn + 1 : match;
		char d2[PATH_MAX];
		bool into = j->dst_dir;
		if (!into && !c->hash_only) {
			char *rd = resolve_in(c->s->rootfs, dst, e);
			struct stat ds;
			err_clear(e);
			into = rd && stat(rd, &ds) == 0 && S_ISDIR(ds.st_mode);
			free(rd);
		}
		snprintf(d2, sizeof(d2), "%s%s%s", dst, into ? "/" : "", into ? bn : "");
		r = copy_tree(c, real, d2, c->from_context ? cr : NULL, e);
	}
	free(real);
	return r < 0 ? -1 : 0;
}

/* A local source: a path inside the source root, or a glob of them. */
static int copy_local(struct copy_ctx *c, struct copy_job *j, const char *src, struct err *e)
{
	char rel[PATH_MAX];
	char **matches = NULL;
	size_t nm = 0;
	int r = 0;

	if (!clean_rel(src, rel, sizeof(rel)))
		return err_set(e, ERR_INPUT, "\"%s\": path outside the build context", src);
	if (has_glob(rel)) {
		if (glob_in(c->src_root, rel, &matches, &nm, e) < 0)
			return -1;
		if (nm == 0) {
			df_strv_free(matches, nm);
			return err_set(e, ERR_INPUT, "\"%s\": no source files were specified", src);
		}
		if (nm > 1)
			j->dst_dir = true;
	} else {
		matches = calloc(2, sizeof(char *));
		if (!matches || !(matches[0] = strdup(rel))) {
			free(matches);
			return err_oom(e);
		}
		nm = 1;
	}
	for (size_t m = 0; m < nm && r == 0; m++)
		r = copy_match(c, j, src, rel, matches[m], e);
	df_strv_free(matches, nm);
	return r;
}

/* Every source, in the hashing pass or the copying pass. */
static int copy_sources(struct copy_ctx *c, struct copy_job *j, struct err *e)
{
	const struct df_instr *in = j->in;

	for (size_t i = 0; i + 1 < j->n; i++) {
		const char *src = j->w[i];
		const struct df_heredoc *hd = NULL;
		int r;
		for (size_t h = 0; h < in->n_heredocs; h++)
			if (str_starts(src, "<<") && strstr(src, in->heredocs[h].name))
				hd = &in->heredocs[h];
		if (hd)
			r = copy_heredoc(c, j, hd, e);
		else if (j->add && (str_starts(src, "http://") || str_starts(src, "https://")))
			r = copy_url(c, j, src, e);
		else
			r = copy_local(c, j, src, e);
		if (r < 0)
			return -1;
	}
	return 0;
}

/* Multi-platform builds: a COPY whose layer another platform already wrote
 * is not copied and compressed again. The layer is a function of the content
 * hash (sources, destinations, modes, owners), the expanded words and what
 * the copy reads of the stage's root file system: the directories on the way
 * to the destination (make_parents copies their metadata; a directory at the
 * destination takes a file into it). reuse_key hashes all of it. */
static void reuse_key(struct copy_ctx *c, const struct copy_job *j, const char *content, char key[65])
{
	struct sha256 h;
	struct err e = ERR_INIT;
	char pre[PATH_MAX], line[256];

	key[0] = 0;
	if (sha256_init(&h, &e) < 0)
		return;
	snprintf(line, sizeof(line), "%s\n%d:%ld:%ld:%ld\n", content, (int)c->b->o->comp, c->uid, c->gid,
		 c->chmod_mode);
	sha256_update(&h, line, strlen(line));
	for (size_t i = 0; i < j->n; i++)
		sha256_update(&h, j->w[i], strlen(j->w[i]) + 1);
	for (size_t l = 0;; l++) {
		if (j->dst[l] && j->dst[l] != '/')
			continue;
		snprintf(pre, sizeof(pre), "%.*s", (int)l, j->dst);
		char *real = resolve_in(c->s->rootfs, *pre ? pre : ".", &e);
		struct stat st;
		err_clear(&e);
		if (real && stat(real, &st) == 0)
			snprintf(line, sizeof(line), "%s %o %ld %ld %lld.%ld\n", pre, (unsigned)st.st_mode,
				 (long)st.st_uid, (long)st.st_gid, (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
		else
			snprintf(line, sizeof(line), "%s none\n", pre);
		free(real);
		sha256_update(&h, line, strlen(line));
		if (!j->dst[l])
			break;
	}
	sha256_final_hex(&h, key);
}

/* A layer of another platform with this key: applied to s as if just written. */
static bool reuse_get(struct build *b, struct stage *s, const char *key, const char *created_by)
{
	struct err e = ERR_INIT;

	for (size_t i = 0; *key && i < b->reuse->n; i++) {
		const struct reuse_ent *r = &b->reuse->v[i];
		if (strcmp(r->key, key) != 0)
			continue;
		if (add_layer(s, r->media_type, r->digest, r->size, r->diff_id, &e) < 0)
			return false;
		add_history(b, s, created_by, false);
		struct layer_result lr;
		memset(&lr, 0, sizeof(lr));
		lr.media_type = r->media_type;
		snprintf(lr.digest, sizeof(lr.digest), "%s", r->digest);
		snprintf(lr.diff_id, sizeof(lr.diff_id), "%s", r->diff_id);
		lr.size = r->size;
		cache_put(b, s, &lr);
		log_info("  the same layer as for %s: %.19s", r->platform, r->digest);
		return true;
	}
	return false;
}

/* Remember the layer just added to s under key. */
static void reuse_put(struct build *b, struct stage *s, const char *key)
{
	const cJSON *ids = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(s->config, "rootfs"),
							   "diff_ids");
	const cJSON *last = cJSON_GetArrayItem(ids, cJSON_GetArraySize(ids) - 1);
	const struct oci_desc *l = s->n_layers ? &s->layers[s->n_layers - 1] : NULL;
	struct reuse_ent *nv;

	if (!*key || !l || !cJSON_IsString(last) || !(nv = realloc(b->reuse->v, (b->reuse->n + 1) * sizeof(*nv))))
		return;
	b->reuse->v = nv;
	struct reuse_ent *r = &nv[b->reuse->n];
	memset(r, 0, sizeof(*r));
	snprintf(r->key, sizeof(r->key), "%s", key);
	r->media_type = strdup(l->media_type);
	r->digest = strdup(l->digest);
	r->diff_id = strdup(last->valuestring);
	r->platform = oci_platform_string(&b->plat);
	r->size = l->size;
	if (r->media_type && r->digest && r->diff_id && r->platform) {
		b->reuse->n++;
		return;
	}
	free(r->media_type);
	free(r->digest);
	free(r->diff_id);
	free(r->platform);
}

int do_copy(struct build *b, struct stage *s, const struct df_instr *in, bool add, struct err *e)
{
	struct copy_job j = { .in = in, .add = add, .checksum = df_flag(in, "checksum") };
	struct copy_ctx c;
	int ret = -1;
	char created_by[8192], rkey[65] = "";

	memset(&c, 0, sizeof(c));
	c.b = b;
	c.s = s;
	c.uid = c.gid = c.chmod_mode = -1;
	if (copy_words(b, in, &j.w, &j.n, e) < 0)
		goto out;
	if (j.n < 2) {
		err_set(e, ERR_INPUT, "requires at least two arguments (SRC... DEST)");
		goto out;
	}
	if (copy_flags(b, s, in, &c, e) < 0 || copy_from(b, s, df_flag(in, "from"), &c, &j, e) < 0 ||
	    copy_dest(s, &j, e) < 0)
		goto out;
	if (sha256_init(&c.h, e) < 0)
		goto out;
	/* Pass 1: hash what would be copied (the cache key), pass 2: copy on a miss. */
	snprintf(created_by, sizeof(created_by), "%s", in->original);
	/* Without a cache (or other platforms) nobody needs the content hash: skip that read. */
	for (int pass = b->cache_dir || b->multi ? 0 : 1; pass < 2; pass++) {
		c.hash_only = pass == 0;
		if (pass == 1) {
			char hex[65];
			sha256_final_hex(&c.h, hex);
			chain_step(s, in->original, hex);
			b->step++;
			if (cache_hit(b, s, in, created_by)) {
				ret = 0;
				goto out;
			}
			log_step(b, in, b->cache_dir ? "cache miss" : NULL);
			if (sync_rootfs(b, s, e) < 0)
				goto out;
			if (b->multi) {
				reuse_key(&c, &j, hex, rkey);
				if (reuse_get(b, s, rkey, created_by)) {
					ret = 0;
					goto out;
				}
			}
			/* COPY's entries go straight into the layer writer; ADD may
			 * download or unpack, so it builds the layer on disk. */
			if (add)
				c.layer = new_tmp(b, "layer", e);
			else
				c.tree = layer_tree_new(e);
			if (!c.layer && !c.tree)
				goto out;
		}
		if (copy_sources(&c, &j, e) < 0)
			goto out;
	}
	/* The destination directory itself exists even when the sources were empty. */
	if (j.dst_dir) {
		char d2[PATH_MAX];
		snprintf(d2, sizeof(d2), "%s/x", j.dst);
		if (make_parents(&c, d2, e) < 0)
			goto out;
	}
	if ((c.tree ? write_layer_tree(b, s, c.tree, created_by, e) : write_layer(b, s, c.layer, false, created_by, e)) <
	    0)
		goto out;
	if (b->multi)
		reuse_put(b, s, rkey);
	ret = 0;
out:
	sha256_free(&c.h);
	layer_tree_free(c.tree);
	if (c.layer) {
		struct err e2 = ERR_INIT;
		fs_rm_rf(c.layer, &e2);
		free(c.layer);
	}
	if (j.from_root) {
		struct err e2 = ERR_INIT;
		fs_rm_rf(j.from_root, &e2);
		free(j.from_root);
	}
	df_strv_free(j.w, j.n);
	return ret;
}
