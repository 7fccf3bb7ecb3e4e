/* Writing signatures: the legacy .sig/.att manifests and the referrers
 * tag schema index under concurrent writers, and referrer manifests.
 * What sign and attest write is in attach.c; reading and copying are in
 * fetch.c. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "core/ojson.h"
#include "core/util.h"
#include "oci/desc.h"
#include "oci/manifest.h"
#include "sign/bundle.h"
#include "sign/cosign.h"
#include "sign/store.h"
#include "sign/verify.h"

void sig_set_free(struct sig_set *s)
{
	size_t i;

	for (i = 0; i < s->n; i++) {
		free(s->layers[i].media_type);
		free(s->layers[i].digest);
		free(s->layers[i].annotations_json);
		buf_free(&s->layers[i].blob);
	}
	free(s->layers);
	memset(s, 0, sizeof(*s));
}

static int get_manifest(struct reg_client *c, const char *tag, struct oci_manifest *m, bool *found,
			struct err *e)
{
	struct buf body __attribute__((cleanup(buf_cleanup))) = BUF_INIT;
	_cleanup_free_ char *mt = NULL;
	struct err e2 = ERR_INIT;

	*found = false;
	memset(m, 0, sizeof(*m));
	buf_init(&body, BUF_CAP_MANIFEST);
	if (reg_get_manifest(c, tag, &body, &mt, NULL, &e2) < 0) {
		if (reg_not_found(&e2))
			return 0;
		*e = e2;
		return -1;
	}
	if (mt && !oci_mt_is_manifest(mt))
		return err_set(e, ERR_INPUT, "%s is a %s, not an image manifest", tag, mt);
	if (oci_manifest_parse(m, body.data, body.len, mt, e) < 0)
		return err_prefix(e, "%s", tag);
	*found = true;
	return 0;
}

int sig_set_fetch(struct reg_client *c, const char *tag, struct sig_set *s, bool *found,
		  struct err *e)
{
	struct oci_manifest m;
	size_t i;
	int rc = -1;

	memset(s, 0, sizeof(*s));
	if (get_manifest(c, tag, &m, found, e) < 0)
		return -1;
	if (!*found)
		return 0;
	if (m.n_layers == 0 || m.n_layers > SIG_MAX_LAYERS) {
		err_set(e, ERR_INPUT, "%s: manifest has %zu layers (1 to %d expected)", tag,
			m.n_layers, SIG_MAX_LAYERS);
		goto out;
	}
	s->layers = calloc(m.n_layers, sizeof(*s->layers));
	if (!s->layers) {
		err_oom(e);
		goto out;
	}
	for (i = 0; i < m.n_layers; i++) {
		struct sig_layer *l = &s->layers[i];

		s->n++;
		buf_init(&l->blob, PAYLOAD_MAX);
		if (m.layers[i].size < 0 || m.layers[i].size > (int64_t)PAYLOAD_MAX) {
			err_set(e, ERR_INPUT, "%s: layer %zu is larger than %u bytes", tag, i,
				PAYLOAD_MAX);
			goto out;
		}
		if (!(l->media_type =
			  xstrdup_e(m.layers[i].media_type ? m.layers[i].media_type : "", e)) ||
		    !(l->digest = xstrdup_e(m.layers[i].digest, e)) ||
		    (m.layers[i].annotations_json &&
		     !(l->annotations_json = xstrdup_e(m.layers[i].annotations_json, e))))
			goto out;
		if (reg_get_blob_buf(c, &m.layers[i], &l->blob, PAYLOAD_MAX, e) < 0) {
			err_prefix(e, "%s: layer %zu", tag, i);
			goto out;
		}
	}
	rc = 0;
out:
	oci_manifest_free(&m);
	if (rc < 0)
		sig_set_free(s);
	return rc;
}

/* A config like the one cosign (go-containerregistry) writes for its
 * signature images: empty platform, one diff_id per (uncompressed) layer. */
static int sig_config(const struct oci_manifest *m, struct buf *out, struct err *e)
{
	size_t i;

	if (buf_adds(out,
		     "{\"architecture\":\"\",\"created\":\"0001-01-01T00:00:00Z\",\"history\":[",
		     e) < 0)
		return -1;
	for (i = 0; i < m->n_layers; i++)
		if (buf_adds(out,
			     i ? ",{\"created\":\"0001-01-01T00:00:00Z\"}"
			       : "{\"created\":\"0001-01-01T00:00:00Z\"}",
			     e) < 0)
			return -1;
	if (buf_adds(out, "],\"os\":\"\",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[", e) < 0)
		return -1;
	for (i = 0; i < m->n_layers; i++)
		if (buf_addf(out, e, "%s\"%s\"", i ? "," : "", m->layers[i].digest) < 0)
			return -1;
	return buf_adds(out, "]},\"config\":{}}", e);
}

/* Annotations equal as JSON values (key order aside). */
static bool same_json(const char *a, const char *b)
{
	cJSON *x, *y;
	bool r;

	if (!a || !b)
		return !a && !b;
	x = cJSON_Parse(a);
	y = cJSON_Parse(b);
	r = x && y && cJSON_Compare(x, y, true);
	cJSON_Delete(x);
	cJSON_Delete(y);
	return r;
}

static bool has_layer(const struct oci_manifest *m, const char *digest,
		      const char *annotations_json)
{
	for (size_t i = 0; i < m->n_layers; i++)
		if (m->layers[i].digest && strcmp(m->layers[i].digest, digest) == 0 &&
		    same_json(m->layers[i].annotations_json, annotations_json))
			return true;
	return false;
}

/* ------------------------------------------------ concurrent writers
 *
 * Registries have no compare-and-swap for tags: two writers of one tag
 * (the .sig / .att manifest, the referrers tag schema index) both read it,
 * add their item and write it back, and the later write drops the earlier
 * item. So every writer reads back once right after writing; when the tag
 * moved (another writer is active) it merges and writes again. Only then, or
 * when the tag holds another key's item younger than RECENT_S (a concurrent
 * signer may still be between its read and its write), it also re-reads
 * after a pause longer than its own read-modify-write took, twice. A lone
 * signer pays one extra GET and no pause. */
#define SIG_MERGE_ATTEMPTS 8
#define RECENT_S 3

struct rmw {
	/* Read the tag: *ours when our item is in it, *recent when another
	 * key's item is younger than RECENT_S, digest its digest ("" when the
	 * tag is absent). Keeps what it read for write(). */
	int (*read)(struct rmw *w, bool *ours, bool *recent, char digest[72], struct err *e);
	/* Write what read() saw (digest before) plus our item; digest what was
	 * written. *moved (and nothing written) when the tag is no longer
	 * before right before the PUT. */
	int (*write)(struct rmw *w, const char *before, char digest[72], bool *moved,
		     struct err *e);
	struct reg_client *c;
	const char *tag;
	const char *keyid; /* ours, for the recent-writer check */
	double put_span;   /* how long our last PUT took */
};

static bool recent_foreign(const char *annotations_json, const char *keyid_key, const char *keyid)
{
	struct oci_desc d = {.annotations_json = (char *)annotations_json};
	_cleanup_free_ char *t = oci_desc_annotation(&d, ANN_CREATED);
	_cleanup_free_ char *k = oci_desc_annotation(&d, keyid_key);
	long long when = t ? time_parse_rfc3339(t, true) : -1;

	if (when < 0 || (long long)time(NULL) - when > RECENT_S)
		return false;
	return !k || !keyid || strcmp(k, keyid) != 0;
}

static void rmw_pause(double span, int check)
{
	/* jitter from the pid and the clock's nanoseconds: concurrent writers
	 * part ways (integers only: no float-to-int overflow) */
	struct timespec now, ts;
	unsigned long long mix;
	long pause_ms;

	clock_gettime(CLOCK_MONOTONIC, &now);
	mix = (unsigned long long)getpid() * 2654435761ULL ^ (unsigned long long)now.tv_nsec;
	pause_ms = 50 * check + (long)(span * 2000 * check) + (long)(mix % 150ULL);
	if (pause_ms > 5000)
		pause_ms = 5000;
	ts.tv_sec = pause_ms / 1000;
	ts.tv_nsec = (pause_ms % 1000) * 1000000L;
	nanosleep(&ts, NULL);
}

/* Signers of one image push the same blobs at the same time, and
 * docker-registry's storage can then refuse the manifest for a moment (the
 * blob it links is being replaced). Only that is worth a new merge. */
static bool racing_error(const struct err *e)
{
	return strstr(e->msg, "put manifest") &&
	       (strstr(e->msg, "DIGEST_INVALID") || strstr(e->msg, "BLOB_UNKNOWN"));
}

/* Right before a PUT: is the tag still what we read (before, "" when it
 * was absent)? A HEAD narrows the window in which another writer's
 * update could be lost to the time between this answer and our PUT. */
static int tag_moved(struct reg_client *c, const char *tag, const char *before, bool *moved,
		     struct err *e)
{
	_cleanup_free_ char *d = NULL;
	struct err e2 = ERR_INIT;

	*moved = false;
	if (reg_head_manifest(c, tag, &d, NULL, NULL, &e2) < 0) {
		if (!reg_not_found(&e2)) {
			*e = e2;
			return -1;
		}
		*moved = *before != '\0';
		return 0;
	}
	*moved = !d || strcmp(d, before) != 0;
	return 0;
}

static int rmw_run(struct rmw *w, bool *added, struct err *e)
{
	bool careful = false;

	*added = false;
	for (int attempt = 1;; attempt++) {
		char before[72], written[72], after[72];
		bool ours, recent, ours2, recent2, moved = false;
		int wr;
		double t0 = time_now(), span;

		if (w->read(w, &ours, &recent, before, e) < 0)
			return -1;
		if (ours)
			return 0; /* there already (or merged in by another writer) */
		careful = careful || recent;
		wr = w->write(w, before, written, &moved, e);
		if (wr == 0 && moved) {
			careful = true; /* another writer came between our read and our write */
			if (attempt == SIG_MERGE_ATTEMPTS)
				return err_set(e, ERR_NETWORK,
					       "%s: other writers replaced it %d times; try again",
					       w->tag, attempt);
			continue;
		}
		if (wr < 0) {
			struct timespec ts = {0, 50000000L};

			if (!racing_error(e) || attempt == SIG_MERGE_ATTEMPTS)
				return -1;
			log_debug("%s: %s; merging again", w->tag, e->msg);
			err_clear(e);
			careful = true;
			nanosleep(&ts, NULL);
			continue;
		}
		*added = true;
		span = time_now() - t0;
		if (w->read(w, &ours2, &recent2, after, e) < 0)
			return -1;
		if (strcmp(after, written) != 0)
			careful = true; /* the tag moved: another writer is active */
		if (ours2 && !careful) {
			/* A writer that read before our write may still be inside
			 * its PUT: look once more after about as long as ours took. */
			struct timespec now, ts;
			long us;

			clock_gettime(CLOCK_MONOTONIC, &now);
			us = (long)(w->put_span * 1e6) +
			     (long)((unsigned long long)now.tv_nsec % 5000ULL);
			if (us > 200000)
				us = 200000;
			ts.tv_sec = 0;
			ts.tv_nsec = us * 1000L;
			nanosleep(&ts, NULL);
			if (w->read(w, &ours2, &recent2, after, e) < 0)
				return -1;
			if (strcmp(after, written) != 0)
				careful = true;
		}
		for (int check = 1; check <= 2 && ours2 && careful; check++) {
			rmw_pause(span, check);
			if (w->read(w, &ours2, &recent2, after, e) < 0)
				return -1;
		}
		if (ours2)
			return 0;
		if (attempt == SIG_MERGE_ATTEMPTS)
			return err_set(e, ERR_NETWORK,
				       "%s: other writers replaced it %d times; try again", w->tag,
				       attempt);
		log_debug("%s: another writer replaced it; merging again", w->tag);
	}
}

/* ------------------------------------------ the legacy .sig / .att manifest */

struct layer_rmw {
	struct rmw w;
	const struct sig_item *items;
	size_t n;
	char (*digests)[72]; /* of items[i].blob */
	bool blobs_pushed;   /* the items' blobs (the config is pushed by every write) */
	struct oci_manifest m; /* as read */
	bool found;
	size_t added; /* items the last write added */
};

static bool layer_listed(const struct layer_rmw *l, size_t i)
{
	return l->found && has_layer(&l->m, l->digests[i], l->items[i].annotations_json);
}

static int layer_read(struct rmw *w, bool *ours, bool *recent, char digest[72], struct err *e)
{
	struct layer_rmw *l = (struct layer_rmw *)w;
	struct buf body __attribute__((cleanup(buf_cleanup))) = BUF_INIT;
	_cleanup_free_ char *mt = NULL, *dg = NULL;
	struct err e2 = ERR_INIT;

	oci_manifest_free(&l->m);
	memset(&l->m, 0, sizeof(l->m));
	*ours = *recent = l->found = false;
	digest[0] = '\0';
	buf_init(&body, BUF_CAP_MANIFEST);
	if (reg_get_manifest(w->c, w->tag, &body, &mt, &dg, &e2) < 0) {
		if (reg_not_found(&e2))
			return 0;
		*e = e2;
		return -1;
	}
	if (mt && !oci_mt_is_manifest(mt))
		return err_set(e, ERR_INPUT, "%s is a %s, not an image manifest", w->tag, mt);
	if (oci_manifest_parse(&l->m, body.data, body.len, mt, e) < 0)
		return err_prefix(e, "%s", w->tag);
	l->found = true;
	snprintf(digest, 72, "%s", dg ? dg : "");
	*ours = true;
	for (size_t i = 0; i < l->n && *ours; i++)
		*ours = layer_listed(l, i);
	for (size_t i = 0; i < l->m.n_layers; i++)
		*recent =
		    *recent || recent_foreign(l->m.layers[i].annotations_json, ANN_KEYID, w->keyid);
	return 0;
}

/* The manifest as read plus the items it does not list yet. */
static int layer_extend(struct layer_rmw *l, struct err *e)
{
	struct oci_manifest *m = &l->m;
	struct oci_desc *layers;
	size_t more = 0;

	if (!l->found) {
		memset(m, 0, sizeof(*m));
		m->schema_version = 2;
		if (!(m->media_type = xstrdup_e(MT_OCI_MANIFEST, e)))
			return -1;
	}
	l->added = 0;
	for (size_t i = 0; i < l->n; i++)
		more += !layer_listed(l, i);
	if (m->n_layers + more > SIG_MAX_LAYERS)
		return err_set(e, ERR_INPUT, "%s would hold more than %d signatures", l->w.tag,
			       SIG_MAX_LAYERS);
	if (more == 0)
		return 0;
	layers = realloc(m->layers, (m->n_layers + more) * sizeof(*layers));
	if (!layers)
		return err_oom(e);
	m->layers = layers;
	for (size_t i = 0; i < l->n; i++) {
		const struct sig_item *it = &l->items[i];
		struct oci_desc *nl;

		if (has_layer(m, l->digests[i], it->annotations_json))
			continue; /* listed, or the same item given twice */
		nl = &m->layers[m->n_layers++];
		memset(nl, 0, sizeof(*nl));
		nl->size = (int64_t)it->n;
		l->added++;
		if (!(nl->media_type = xstrdup_e(it->media_type, e)) ||
		    !(nl->digest = xstrdup_e(l->digests[i], e)) ||
		    (it->annotations_json && !(nl->annotations_json = xstrdup_e(it->annotations_json, e))))
			return -1;
	}
	return 0;
}

/* The items' blobs (when items) and cfg (or NULL), pushed together. */
static int push_blobs(struct layer_rmw *l, bool items, const struct buf *cfg, const char *cdigest,
		      struct err *e)
{
	struct reg_blob_mem *b = calloc(l->n + 1, sizeof(*b));
	size_t k = 0;
	int rc;

	if (!b)
		return err_oom(e);
	for (size_t i = 0; items && i < l->n; i++)
		b[k++] = (struct reg_blob_mem){l->items[i].blob, l->items[i].n, l->digests[i]};
	if (cfg)
		b[k++] = (struct reg_blob_mem){cfg->data, cfg->len, cdigest};
	rc = reg_push_blobs_mem(l->w.c, b, k, e);
	free(b);
	return rc;
}

static int layer_write(struct rmw *w, const char *before, char digest[72], bool *moved,
		       struct err *e)
{
	struct layer_rmw *l = (struct layer_rmw *)w;
	struct buf cfg __attribute__((cleanup(buf_cleanup))) = BUF_INIT;
	struct oci_manifest *m = &l->m;
	char cdigest[72];
	_cleanup_free_ char *body = NULL;
	size_t blen = 0;

	if (layer_extend(l, e) < 0 || sig_config(m, &cfg, e) < 0)
		return -1;
	sha256_digest_str(cfg.data, cfg.len, cdigest);
	oci_desc_free(&m->config);
	m->config.size = (int64_t)cfg.len;
	if (!(m->config.media_type = xstrdup_e(MT_OCI_CONFIG, e)) ||
	    !(m->config.digest = xstrdup_e(cdigest, e)))
		return -1;
	/* Blobs first, the manifest last, so the tag never names missing content. */
	if (push_blobs(l, !l->blobs_pushed, &cfg, cdigest, e) < 0)
		return -1;
	l->blobs_pushed = true;
	body = oci_manifest_serialise(m, &blen, e);
	if (!body || tag_moved(w->c, w->tag, before, moved, e) < 0)
		return -1;
	if (*moved)
		return 0;
	w->put_span = time_now();
	if (reg_put_manifest(w->c, w->tag, body, blen,
			     m->media_type ? m->media_type : MT_OCI_MANIFEST, e) < 0) {
		l->blobs_pushed = false; /* a racing signer may have replaced one */
		return -1;
	}
	w->put_span = time_now() - w->put_span;
	sha256_digest_str(body, blen, digest);
	return 0;
}

/* The key id the recent-writer check compares with: the items' when they
 * share one, else none (every recent item is then another writer's). */
static char *items_keyid(const struct sig_item *items, size_t n)
{
	char *k = NULL;

	for (size_t i = 0; i < n; i++) {
		struct oci_desc d = {.annotations_json = (char *)items[i].annotations_json};
		char *ki = oci_desc_annotation(&d, ANN_KEYID);

		if (i == 0) {
			k = ki;
			continue;
		}
		if (!ki || !k || strcmp(ki, k) != 0) {
			free(ki);
			free(k);
			return NULL;
		}
		free(ki);
	}
	return k;
}

int sig_append_layers(struct reg_client *c, const char *tag, const struct sig_item *items,
		      size_t n, bool pushed, size_t *added, struct err *e)
{
	_cleanup_free_ char *keyid = items_keyid(items, n);
	_cleanup_free_ char(*digests)[72] = calloc(n ? n : 1, sizeof(*digests));
	struct layer_rmw l = {.w = {layer_read, layer_write, c, tag, keyid, 0},
			      .items = items,
			      .n = n,
			      .digests = digests};
	bool any = false;
	int rc;

	*added = 0;
	if (!digests)
		return err_oom(e);
	if (n == 0)
		return 0;
	/* the payloads first: the read-to-write window holds only the config */
	for (size_t i = 0; i < n; i++)
		sha256_digest_str(items[i].blob, items[i].n, digests[i]);
	if (!pushed && push_blobs(&l, true, NULL, NULL, e) < 0)
		return -1;
	l.blobs_pushed = true;
	rc = rmw_run(&l.w, &any, e);
	*added = any ? l.added : 0;
	oci_manifest_free(&l.m);
	return rc;
}

/* ------------------------------------------ the referrers tag schema index */

char *referrers_tag(const char *digest, struct err *e)
{
	const char *colon = strchr(digest, ':');

	if (!oci_digest_valid(digest) || !colon) {
		err_set(e, ERR_INPUT, "invalid digest \"%.80s\"", digest);
		return NULL;
	}
	return xasprintf_e(e, "%.*s-%s", (int)(colon - digest), digest, colon + 1);
}

int referrers_index_parse(struct oci_index *idx, const struct buf *body, const char *mt,
			  const char *what, const char *name, struct err *e)
{
	if (oci_index_parse(idx, body->data, body->len, mt, e) < 0)
		return err_prefix(e, "%s %s", what, name);
	if (idx->n > SIG_MAX_REFERRERS) {
		oci_index_free(idx);
		return err_set(e, ERR_INPUT, "%s %s lists more than %d manifests", what, name,
			       SIG_MAX_REFERRERS);
	}
	return 0;
}

int referrers_index_fetch(struct reg_client *c, const char *tag, struct oci_index *idx, bool *found,
			  char digest[72], struct err *e)
{
	struct buf body __attribute__((cleanup(buf_cleanup))) = BUF_INIT;
	_cleanup_free_ char *mt = NULL, *dg = NULL;
	struct err e2 = ERR_INIT;

	memset(idx, 0, sizeof(*idx));
	*found = false;
	if (digest)
		digest[0] = '\0';
	buf_init(&body, BUF_CAP_MANIFEST);
	if (reg_get_manifest(c, tag, &body, &mt, &dg, &e2) < 0) {
		if (reg_not_found(&e2))
			return 0;
		*e = e2;
		return -1;
	}
	if (mt && !oci_mt_is_index(mt))
		return err_set(e, ERR_INPUT, "referrers tag %s is a %s, not an image index", tag,
			       mt);
	if (referrers_index_parse(idx, &body, mt, "referrers tag", tag, e) < 0)
		return -1;
	*found = true;
	if (digest)
		snprintf(digest, 72, "%s", dg ? dg : "");
	return 0;
}

struct index_rmw {
	struct rmw w;
	const struct oci_desc *entries;
	size_t n;
	struct oci_index idx;
	bool found;
	size_t added; /* entries the last write added */
};

static bool desc_listed(const struct oci_desc *v, size_t n, const char *digest)
{
	for (size_t i = 0; i < n; i++)
		if (v[i].digest && strcmp(v[i].digest, digest) == 0)
			return true;
	return false;
}

static int index_read(struct rmw *w, bool *ours, bool *recent, char digest[72], struct err *e)
{
	struct index_rmw *x = (struct index_rmw *)w;

	oci_index_free(&x->idx);
	*ours = *recent = false;
	if (referrers_index_fetch(w->c, w->tag, &x->idx, &x->found, digest, e) < 0)
		return -1;
	*ours = true;
	for (size_t i = 0; i < x->n && *ours; i++)
		*ours = desc_listed(x->idx.manifests, x->idx.n, x->entries[i].digest);
	for (size_t i = 0; i < x->idx.n; i++)
		*recent = *recent || recent_foreign(x->idx.manifests[i].annotations_json,
						    ANN_BUNDLE_KEYID, w->keyid);
	return 0;
}

/* The index as read plus the entries it does not list yet, as JSON. */
static cJSON *index_extended(struct index_rmw *x, struct err *e)
{
	cJSON *root = cJSON_CreateObject(), *arr = cJSON_CreateArray(), *it;

	if (!root || !arr) {
		cJSON_Delete(root);
		cJSON_Delete(arr);
		err_oom(e);
		return NULL;
	}
	cJSON_AddNumberToObject(root, "schemaVersion", 2);
	cJSON_AddStringToObject(root, "mediaType", MT_OCI_INDEX);
	cJSON_AddItemToObject(root, "manifests", arr);
	x->added = 0;
	for (size_t i = 0; i < x->idx.n + x->n; i++) {
		const struct oci_desc *d =
		    i < x->idx.n ? &x->idx.manifests[i] : &x->entries[i - x->idx.n];

		if (i >= x->idx.n) {
			/* listed already, or the same entry given twice */
			if (desc_listed(x->idx.manifests, x->idx.n, d->digest) ||
			    desc_listed(x->entries, i - x->idx.n, d->digest))
				continue;
			if (x->idx.n + ++x->added > SIG_MAX_REFERRERS) {
				err_set(e, ERR_INPUT, "referrers tag %s would list more than %d manifests",
					x->w.tag, SIG_MAX_REFERRERS);
				cJSON_Delete(root);
				return NULL;
			}
		}
		if (!(it = oci_desc_to_json(d, e))) {
			cJSON_Delete(root);
			return NULL;
		}
		cJSON_AddItemToArray(arr, it);
	}
	if (x->found && x->idx.annotations_json) {
		cJSON *a = cJSON_Parse(x->idx.annotations_json);

		if (a)
			cJSON_AddItemToObject(root, "annotations", a);
	}
	return root;
}

static int index_write(struct rmw *w, const char *before, char digest[72], bool *moved,
		       struct err *e)
{
	struct index_rmw *x = (struct index_rmw *)w;
	_cleanup_cjson_ cJSON *root = index_extended(x, e);
	_cleanup_free_ char *body = NULL;

	if (!root)
		return -1;
	if (!(body = cJSON_PrintUnformatted(root)))
		return err_oom(e);
	if (tag_moved(w->c, w->tag, before, moved, e) < 0)
		return -1;
	if (*moved)
		return 0;
	w->put_span = time_now();
	if (reg_put_manifest(w->c, w->tag, body, strlen(body), MT_OCI_INDEX, e) < 0)
		return -1;
	w->put_span = time_now() - w->put_span;
	sha256_digest_str(body, strlen(body), digest);
	return 0;
}

/* The key id of the entries when they share one, else NULL. */
static char *entries_keyid(const struct oci_desc *entries, size_t n)
{
	char *k = n ? oci_desc_annotation(&entries[0], ANN_BUNDLE_KEYID) : NULL;

	for (size_t i = 1; k && i < n; i++) {
		_cleanup_free_ char *ki = oci_desc_annotation(&entries[i], ANN_BUNDLE_KEYID);

		if (!ki || strcmp(ki, k) != 0) {
			free(k);
			return NULL;
		}
	}
	return k;
}

int referrers_index_add(struct reg_client *c, const char *subject_digest,
			const struct oci_desc *entries, size_t n, size_t *added, struct err *e)
{
	_cleanup_free_ char *tag = referrers_tag(subject_digest, e);
	_cleanup_free_ char *keyid = entries_keyid(entries, n);
	struct index_rmw x = {
	    .w = {index_read, index_write, c, NULL, keyid, 0}, .entries = entries, .n = n};
	bool any = false;
	int rc;

	*added = 0;
	if (!tag)
		return -1;
	if (n == 0)
		return 0;
	x.w.tag = tag;
	rc = rmw_run(&x.w, &any, e);
	*added = any ? x.added : 0;
	oci_index_free(&x.idx);
	return rc < 0 ? err_prefix(e, "referrers tag %s", tag) : 0;
}

/* Push manifests whose subject is subject_digest under their digests,
 * then make them findable: a registry with the referrers API indexes each
 * itself (OCI-Subject), the others go into the referrers tag schema index,
 * all in one update. */
int referrers_put(struct reg_client *c, const char *subject_digest,
		  const struct referrer_item *items, size_t n, struct referrer_result *r,
		  struct err *e)
{
	_cleanup_free_ struct oci_desc *ents = calloc(n ? n : 1, sizeof(*ents));
	size_t n_ents = 0, added = 0;

	if (!ents)
		return err_oom(e);
	for (size_t i = 0; i < n; i++) {
		memset(&r[i], 0, sizeof(r[i]));
		sha256_digest_str(items[i].body, items[i].n, r[i].digest);
		if (reg_put_referrer(c, r[i].digest, items[i].body, items[i].n, MT_OCI_MANIFEST,
				     &r[i].api, e) < 0)
			return -1;
		if (r[i].api)
			continue;
		ents[n_ents].media_type = (char *)MT_OCI_MANIFEST;
		ents[n_ents].digest = r[i].digest;
		ents[n_ents].size = (int64_t)items[i].n;
		ents[n_ents].artifact_type = (char *)items[i].artifact_type;
		ents[n_ents].annotations_json = (char *)items[i].annotations_json;
		n_ents++;
	}
	if (referrers_index_add(c, subject_digest, ents, n_ents, &added, e) < 0)
		return -1;
	/* which ones were new to the index: those it did not list before */
	for (size_t i = 0; i < n; i++)
		r[i].added = !r[i].api && added > 0;
	return 0;
}
