/* Writing signatures: the legacy .sig/.att manifests and the referrers
 * tag schema index under concurrent writers, Sigstore bundles as OCI 1.1
 * referrers, and sign/attest themselves. Reading and copying are in fetch.c. */
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

#define EMPTY_DIGEST "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"

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
#define ANN_KEYID "dev.bosun.keyid"

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
	const char *mt, *annotations_json;
	const void *blob;
	size_t n;
	char digest[72];
	bool blobs_pushed;
	struct oci_manifest m; /* as read */
	bool found;
};

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
	*ours = has_layer(&l->m, l->digest, l->annotations_json);
	for (size_t i = 0; i < l->m.n_layers; i++)
		*recent =
		    *recent || recent_foreign(l->m.layers[i].annotations_json, ANN_KEYID, w->keyid);
	return 0;
}

static int layer_write(struct rmw *w, const char *before, char digest[72], bool *moved,
		       struct err *e)
{
	struct layer_rmw *l = (struct layer_rmw *)w;
	struct buf cfg __attribute__((cleanup(buf_cleanup))) = BUF_INIT;
	struct oci_manifest *m = &l->m;
	struct oci_desc *nl, *layers;
	char cdigest[72];
	_cleanup_free_ char *body = NULL;
	size_t blen = 0;

	if (!l->found) {
		memset(m, 0, sizeof(*m));
		m->schema_version = 2;
		if (!(m->media_type = xstrdup_e(MT_OCI_MANIFEST, e)))
			return -1;
	}
	if (m->n_layers >= SIG_MAX_LAYERS)
		return err_set(e, ERR_INPUT, "%s has %d signatures already", w->tag,
			       SIG_MAX_LAYERS);
	layers = realloc(m->layers, (m->n_layers + 1) * sizeof(*layers));
	if (!layers)
		return err_oom(e);
	m->layers = layers;
	nl = &m->layers[m->n_layers++];
	memset(nl, 0, sizeof(*nl));
	nl->size = (int64_t)l->n;
	if (!(nl->media_type = xstrdup_e(l->mt, e)) || !(nl->digest = xstrdup_e(l->digest, e)) ||
	    (l->annotations_json && !(nl->annotations_json = xstrdup_e(l->annotations_json, e))))
		return -1;
	if (sig_config(m, &cfg, e) < 0)
		return -1;
	sha256_digest_str(cfg.data, cfg.len, cdigest);
	oci_desc_free(&m->config);
	m->config.size = (int64_t)cfg.len;
	if (!(m->config.media_type = xstrdup_e(MT_OCI_CONFIG, e)) ||
	    !(m->config.digest = xstrdup_e(cdigest, e)))
		return -1;
	/* Blobs first, the manifest last, so the tag never names missing content. */
	if ((!l->blobs_pushed && reg_push_blob_buf(w->c, l->blob, l->n, l->digest, e) < 0) ||
	    reg_push_blob_buf(w->c, cfg.data, cfg.len, cdigest, e) < 0)
		return -1;
	l->blobs_pushed = true;
	body = oci_manifest_serialise(m, &blen, e);
	if (!body || tag_moved(w->c, w->tag, before, moved, e) < 0)
		return -1;
	if (*moved)
		return 0;
	w->put_span = time_now();
	if (!body || reg_put_manifest(w->c, w->tag, body, blen,
				      m->media_type ? m->media_type : MT_OCI_MANIFEST, e) < 0) {
		l->blobs_pushed = false; /* a racing signer may have replaced it */
		return -1;
	}
	w->put_span = time_now() - w->put_span;
	sha256_digest_str(body, blen, digest);
	return 0;
}

int sig_append_layer(struct reg_client *c, const char *tag, const char *mt, const void *blob,
		     size_t n, const char *annotations_json, bool *added, struct err *e)
{
	struct oci_desc d = {.annotations_json = (char *)annotations_json};
	_cleanup_free_ char *keyid = oci_desc_annotation(&d, ANN_KEYID);
	struct layer_rmw l = {.w = {layer_read, layer_write, c, tag, keyid, 0},
			      .mt = mt,
			      .annotations_json = annotations_json,
			      .blob = blob,
			      .n = n};
	int rc;

	sha256_digest_str(blob, n, l.digest);
	/* the payload first: the read-to-write window holds only the config */
	if (reg_push_blob_buf(c, blob, n, l.digest, e) < 0)
		return -1;
	l.blobs_pushed = true;
	rc = rmw_run(&l.w, added, e);
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
	const struct oci_desc *entry;
	struct oci_index idx;
	bool found;
};

static int index_read(struct rmw *w, bool *ours, bool *recent, char digest[72], struct err *e)
{
	struct index_rmw *x = (struct index_rmw *)w;

	oci_index_free(&x->idx);
	*ours = *recent = false;
	if (referrers_index_fetch(w->c, w->tag, &x->idx, &x->found, digest, e) < 0)
		return -1;
	for (size_t i = 0; i < x->idx.n; i++) {
		if (x->idx.manifests[i].digest &&
		    strcmp(x->idx.manifests[i].digest, x->entry->digest) == 0)
			*ours = true;
		*recent = *recent || recent_foreign(x->idx.manifests[i].annotations_json,
						    ANN_BUNDLE_KEYID, w->keyid);
	}
	return 0;
}

static int index_write(struct rmw *w, const char *before, char digest[72], bool *moved,
		       struct err *e)
{
	struct index_rmw *x = (struct index_rmw *)w;
	_cleanup_cjson_ cJSON *root = cJSON_CreateObject();
	cJSON *arr = cJSON_CreateArray(), *it;
	_cleanup_free_ char *body = NULL;

	if (!root || !arr) {
		cJSON_Delete(arr);
		return err_oom(e);
	}
	cJSON_AddNumberToObject(root, "schemaVersion", 2);
	cJSON_AddStringToObject(root, "mediaType", MT_OCI_INDEX);
	cJSON_AddItemToObject(root, "manifests", arr);
	if (x->idx.n >= SIG_MAX_REFERRERS)
		return err_set(e, ERR_INPUT, "referrers tag %s lists %d manifests already", w->tag,
			       SIG_MAX_REFERRERS);
	for (size_t i = 0; i <= x->idx.n; i++) {
		if (!(it = oci_desc_to_json(i < x->idx.n ? &x->idx.manifests[i] : x->entry, e)))
			return -1;
		cJSON_AddItemToArray(arr, it);
	}
	if (x->found && x->idx.annotations_json) {
		cJSON *a = cJSON_Parse(x->idx.annotations_json);

		if (a)
			cJSON_AddItemToObject(root, "annotations", a);
	}
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

int referrers_index_add(struct reg_client *c, const char *subject_digest,
			const struct oci_desc *entry, bool *added, struct err *e)
{
	_cleanup_free_ char *tag = referrers_tag(subject_digest, e);
	_cleanup_free_ char *keyid = oci_desc_annotation(entry, ANN_BUNDLE_KEYID);
	struct index_rmw x = {.w = {index_read, index_write, c, NULL, keyid, 0}, .entry = entry};
	int rc;

	if (!tag)
		return -1;
	x.w.tag = tag;
	rc = rmw_run(&x.w, added, e);
	oci_index_free(&x.idx);
	return rc < 0 ? err_prefix(e, "referrers tag %s", tag) : 0;
}

void sign_result_free(struct sign_result *r)
{
	free(r->tag);
	r->tag = NULL;
}

int sig_format_parse(const char *s, enum sig_format *f)
{
	if (strcmp(s, "legacy") == 0)
		*f = SIG_FORMAT_LEGACY;
	else if (strcmp(s, "bundle") == 0)
		*f = SIG_FORMAT_BUNDLE;
	else if (strcmp(s, "both") == 0)
		*f = SIG_FORMAT_BOTH;
	else
		return -1;
	return 0;
}

/* {"K":"V",...} with the signature and a creation time (unsigned, for
 * display: the simple-signing payload has no time of its own), and the key
 * id for the concurrent-writer check. */
static int layer_annotations(const char *sig_b64, const char *pred_type, const char *keyid,
			     struct buf *out, struct err *e)
{
	cJSON *a = cJSON_CreateObject();
	char ts[32];
	int rc;

	if (!a)
		return err_oom(e);
	cJSON_AddStringToObject(a, ANN_COSIGN_SIG, sig_b64);
	if (pred_type)
		cJSON_AddStringToObject(a, ANN_PREDICATE_TYPE, pred_type);
	time_rfc3339((int64_t)time(NULL), ts);
	cJSON_AddStringToObject(a, ANN_CREATED, ts);
	cJSON_AddStringToObject(a, ANN_KEYID, keyid);
	rc = oj_print_buf(a, false, out, e);
	cJSON_Delete(a);
	return rc;
}

/* The image's own descriptor, for the referrer's subject: media type and
 * size as the registry serves them. */
static int subject_desc(struct reg_client *c, const char *digest, struct oci_desc *d, struct err *e)
{
	char *mt = NULL;
	int64_t size = -1;

	memset(d, 0, sizeof(*d));
	if (reg_head_manifest(c, digest, NULL, &mt, &size, e) < 0)
		return -1;
	if (size <= 0 || !mt || (!oci_mt_is_manifest(mt) && !oci_mt_is_index(mt))) {
		struct buf body __attribute__((cleanup(buf_cleanup))) = BUF_INIT;

		free(mt);
		mt = NULL;
		buf_init(&body, BUF_CAP_MANIFEST);
		if (reg_get_manifest(c, digest, &body, &mt, NULL, e) < 0)
			return -1;
		size = (int64_t)body.len;
	}
	d->media_type = mt ? mt : strdup(MT_OCI_MANIFEST);
	d->size = size;
	d->digest = strdup(digest);
	if (!d->media_type || !d->digest) {
		oci_desc_free(d);
		return err_oom(e);
	}
	return 0;
}

/* Push a manifest whose subject is subject_digest, then make it findable:
 * a registry with the referrers API indexes it itself (OCI-Subject), else
 * add it to the referrers tag schema index. */
int referrer_put(struct reg_client *c, const char *subject_digest, const char *body, size_t n,
		 const char *artifact_type, const char *annotations_json, struct referrer_result *r,
		 struct err *e)
{
	struct oci_desc ent = {0};
	int rc = -1;

	memset(r, 0, sizeof(*r));
	sha256_digest_str(body, n, r->digest);
	if (reg_put_referrer(c, r->digest, body, n, MT_OCI_MANIFEST, &r->api, e) < 0)
		return -1;
	if (r->api)
		return 0;
	ent.media_type = (char *)MT_OCI_MANIFEST;
	ent.digest = r->digest;
	ent.size = (int64_t)n;
	ent.artifact_type = (char *)artifact_type;
	ent.annotations_json = (char *)annotations_json;
	rc = referrers_index_add(c, subject_digest, &ent, &r->added, e);
	return rc;
}

/* The bundle as an OCI 1.1 artifact: empty config, one layer, subject =
 * the image, annotations as BUNDLE_SPEC.md (plus the key id). */
static int bundle_push(struct reg_client *c, const struct oci_desc *subject,
		       const struct buf *bundle, const char *pred_type, const char *keyid,
		       struct sign_result *r, struct err *e)
{
	struct oci_manifest m = {0};
	struct oci_desc layer = {0};
	struct referrer_result rr;
	char ld[72], ts[32];
	_cleanup_free_ char *body = NULL, *ann = NULL;
	cJSON *a = NULL;
	size_t blen = 0;

	sha256_digest_str(bundle->data, bundle->len, ld);
	time_rfc3339((int64_t)time(NULL), ts);
	if (!(a = cJSON_CreateObject()))
		return err_oom(e);
	cJSON_AddStringToObject(a, ANN_BUNDLE_CONTENT, "dsse-envelope");
	cJSON_AddStringToObject(a, ANN_BUNDLE_PREDICATE, pred_type);
	cJSON_AddStringToObject(a, ANN_CREATED, ts);
	cJSON_AddStringToObject(a, ANN_BUNDLE_KEYID, keyid);
	ann = cJSON_PrintUnformatted(a);
	cJSON_Delete(a);
	if (!ann)
		return err_oom(e);
	if (reg_push_blob_buf(c, "{}", 2, EMPTY_DIGEST, e) < 0 ||
	    reg_push_blob_buf(c, bundle->data, bundle->len, ld, e) < 0)
		return -1;
	layer.media_type = (char *)MT_SIGSTORE_BUNDLE;
	layer.digest = ld;
	layer.size = (int64_t)bundle->len;
	m.schema_version = 2;
	m.media_type = (char *)MT_OCI_MANIFEST;
	m.artifact_type = (char *)MT_SIGSTORE_BUNDLE;
	m.config.media_type = (char *)MT_OCI_EMPTY;
	m.config.digest = (char *)EMPTY_DIGEST;
	m.config.size = 2;
	m.layers = &layer;
	m.n_layers = 1;
	m.subject = (struct oci_desc *)subject;
	m.annotations_json = ann;
	body = oci_manifest_serialise(&m, &blen, e);
	if (!body ||
	    referrer_put(c, subject->digest, body, blen, MT_SIGSTORE_BUNDLE, ann, &rr, e) < 0)
		return -1;
	snprintf(r->referrer, sizeof(r->referrer), "%s", rr.digest);
	r->api = rr.api;
	r->added = r->added || rr.api || rr.added;
	return 0;
}

/* The statement st signed into a Sigstore bundle and pushed as a referrer
 * of r->digest; a failed push is prefixed with what. */
static int bundle_store(struct reg_client *c, const struct sign_key *k, const struct buf *st,
			const char *pred_type, const char *hint, const char *what,
			struct sign_result *r, struct err *e)
{
	struct buf bundle __attribute__((cleanup(buf_cleanup))) = BUF_INIT;
	struct oci_desc subj;
	int rc;

	if (bundle_build_dsse(k, st->data, st->len, &bundle, e) < 0 ||
	    subject_desc(c, r->digest, &subj, e) < 0)
		return -1;
	rc = bundle_push(c, &subj, &bundle, pred_type, hint, r, e);
	oci_desc_free(&subj);
	return rc < 0 ? err_prefix(e, "%s", what) : 0;
}

/* What signing and attesting start with: the digest the tag points at now,
 * the repository name for the payload, and the sha256-<hex>.KIND tag. */
static int store_begin(struct reg_client *c, const struct oci_ref *ref, const char *kind,
		       struct sign_result *r, char **name, struct err *e)
{
	memset(r, 0, sizeof(*r));
	if (sign_resolve(c, ref, r->digest, e) < 0)
		return -1;
	*name = oci_ref_name(ref);
	r->tag = cosign_tag(r->digest, kind, e);
	if (!*name || !r->tag)
		return *name ? -1 : err_oom(e);
	return 0;
}

int sign_image_fmt(struct reg_client *c, const struct oci_ref *ref, const struct sign_key *k,
		   const char *const *keys, const char *const *vals, size_t n_ann,
		   enum sig_format fmt, struct sign_result *r, struct err *e)
{
	_cleanup_free_ char *name = NULL;
	char hint[48];

	if (store_begin(c, ref, "sig", r, &name, e) < 0 || sign_key_hint(k, hint, e) < 0)
		return -1;
	if (fmt & SIG_FORMAT_LEGACY) {
		struct buf payload __attribute__((cleanup(buf_cleanup))) = BUF_INIT;
		struct buf ann __attribute__((cleanup(buf_cleanup))) = BUF_INIT;
		_cleanup_free_ char *b64 = NULL;
		unsigned char *sig = NULL;
		size_t siglen = 0;

		if (cosign_payload_build(name, r->digest, keys, vals, n_ann, &payload, e) < 0 ||
		    sign_key_sign(k, payload.data, payload.len, &sig, &siglen, e) < 0)
			return -1;
		b64 = base64_alloc(sig, siglen, e);
		free(sig);
		if (!b64 || layer_annotations(b64, NULL, hint, &ann, e) < 0)
			return -1;
		if (sig_append_layer(c, r->tag, MT_SIMPLESIGNING, payload.data, payload.len,
				     ann.data, &r->added, e) < 0)
			return err_prefix(e, "store signature %s", r->tag);
	}
	if (fmt & SIG_FORMAT_BUNDLE) {
		struct buf st __attribute__((cleanup(buf_cleanup))) = BUF_INIT;

		if (cosign_sign_statement_build(r->digest, keys, vals, n_ann, &st, e) < 0 ||
		    bundle_store(c, k, &st, PREDICATE_COSIGN_SIGN, hint, "store signature bundle", r,
				 e) < 0)
			return -1;
	}
	return 0;
}

int sign_image(struct reg_client *c, const struct oci_ref *ref, const struct sign_key *k,
	       const char *const *keys, const char *const *vals, size_t n_ann,
	       struct sign_result *r, struct err *e)
{
	return sign_image_fmt(c, ref, k, keys, vals, n_ann, SIG_FORMAT_BOTH, r, e);
}

int attest_image_fmt(struct reg_client *c, const struct oci_ref *ref, const struct sign_key *k,
		     const char *predicate_type, const char *predicate, size_t n,
		     enum sig_format fmt, struct sign_result *r, struct err *e)
{
	struct buf st __attribute__((cleanup(buf_cleanup))) = BUF_INIT;
	_cleanup_free_ char *name = NULL;
	char hint[48];

	if (store_begin(c, ref, "att", r, &name, e) < 0 || sign_key_hint(k, hint, e) < 0)
		return -1;
	if (intoto_statement_build(name, r->digest, predicate_type, predicate, n,
				   (long long)time(NULL), &st, e) < 0)
		return err_prefix(e, "predicate");
	if (fmt & SIG_FORMAT_LEGACY) {
		struct buf pae __attribute__((cleanup(buf_cleanup))) = BUF_INIT;
		struct buf env __attribute__((cleanup(buf_cleanup))) = BUF_INIT;
		struct buf ann __attribute__((cleanup(buf_cleanup))) = BUF_INIT;
		unsigned char *sig = NULL;
		size_t siglen = 0;
		int rc;

		if (dsse_pae(INTOTO_PAYLOAD_TYPE, st.data, st.len, &pae, e) < 0 ||
		    sign_key_sign(k, pae.data, pae.len, &sig, &siglen, e) < 0)
			return -1;
		rc =
		    dsse_envelope_build(INTOTO_PAYLOAD_TYPE, st.data, st.len, sig, siglen, &env, e);
		free(sig);
		/* cosign leaves the signature annotation empty on attestations: the
		 * signature lives in the envelope. */
		if (rc < 0 || layer_annotations("", predicate_type, hint, &ann, e) < 0)
			return -1;
		if (sig_append_layer(c, r->tag, MT_DSSE, env.data, env.len, ann.data, &r->added,
				     e) < 0)
			return err_prefix(e, "store attestation %s", r->tag);
	}
	if ((fmt & SIG_FORMAT_BUNDLE) &&
	    bundle_store(c, k, &st, predicate_type, hint, "store attestation bundle", r, e) < 0)
		return -1;
	return 0;
}

int attest_image(struct reg_client *c, const struct oci_ref *ref, const struct sign_key *k,
		 const char *predicate_type, const char *predicate, size_t n, struct sign_result *r,
		 struct err *e)
{
	return attest_image_fmt(c, ref, k, predicate_type, predicate, n, SIG_FORMAT_BOTH, r, e);
}
