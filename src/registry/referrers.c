/* OCI 1.1 referrers: the referrers API (GET /v2/<name>/referrers/<digest>)
 * and manifests pushed with a subject (the registry says it indexed them
 * with the OCI-Subject header). The referrers tag schema fallback lives with
 * its users (src/sign/store.c): it is plain manifests under a tag. */
#include "registry/internal.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/sha256.h"
#include "core/util.h"
#include "oci/digest.h"

/* One page's "manifests" appended to all (at most REG_REFERRERS_MAX in all);
 * *first keeps the first page, whose other members the merged index keeps. */
static int referrers_merge(struct reg_client *c, const char *what, const struct buf *page,
			   cJSON **first, cJSON *all, struct err *e)
{
	cJSON *js = cJSON_ParseWithLength(page->data, page->len), *arr, *it;

	if (!cJSON_IsObject(js)) {
		cJSON_Delete(js);
		return err_json(e, page->data, page->len, "registry %s: %s", c->name, what);
	}
	arr = cJSON_GetObjectItemCaseSensitive(js, "manifests");
	if (arr && !cJSON_IsArray(arr)) {
		cJSON_Delete(js);
		return err_set(e, ERR_INPUT, "registry %s: %s: \"manifests\" is not an array",
			       c->name, what);
	}
	while (arr && (it = cJSON_DetachItemFromArray(arr, 0))) {
		if (cJSON_GetArraySize(all) >= REG_REFERRERS_MAX) {
			cJSON_Delete(it);
			cJSON_Delete(js);
			return err_set(e, ERR_INPUT, "registry %s: %s: more than %d referrers",
				       c->name, what, REG_REFERRERS_MAX);
		}
		cJSON_AddItemToArray(all, it);
	}
	if (*first)
		cJSON_Delete(js);
	else
		*first = js;
	return 0;
}

/* The Link rel="next" of the answer in r, resolved against its URL, or NULL
 * (*url_out) when there is none. A URL already fetched (seen[0..n)) is a
 * loop: refused. */
static int referrers_next(struct reg_client *c, const char *what, const struct hreq *r,
			  char *const *seen, size_t n, char **url_out, struct err *e)
{
	char *next = r->link ? http_link_next(r->link) : NULL;

	*url_out = NULL;
	if (!next)
		return 0;
	*url_out = http_resolve(r->url, next);
	free(next);
	if (!*url_out)
		return err_set(e, ERR_INPUT, "registry %s: %s: unusable Link rel=\"next\"", c->name,
			       what);
	for (size_t i = 0; i < n; i++) {
		if (strcmp(seen[i], *url_out) == 0) {
			free(*url_out);
			*url_out = NULL;
			return err_set(e, ERR_INPUT,
				       "registry %s: %s: Link rel=\"next\" of page %zu loops back "
				       "to page %zu",
				       c->name, what, n, i + 1);
		}
	}
	return 0;
}

int reg_get_referrers(struct reg_client *c, const char *digest, struct buf *out, bool *supported,
		      struct err *e)
{
	struct job j;
	struct buf page = BUF_INIT;
	char *url = NULL, *seen[REG_REFERRERS_MAX_PAGES], what[160], *s = NULL;
	cJSON *first = NULL, *all = NULL;
	size_t n_seen = 0;
	int rc = -1;

	reg_err_begin(e);
	*supported = false;
	job_init(&j, c);
	buf_init(&page, BUF_CAP_MANIFEST);
	snprintf(what, sizeof(what), "list referrers of %s@%.80s", c->repo, digest ? digest : "");
	if (oci_digest_check(digest, "subject digest", e) < 0 || client_ensure_ping(c, e) < 0 ||
	    !(url = client_url(c, e, "referrers/%s", digest)))
		goto out;
	buf_reset(out);
	while (url) {
		char *next;

		if (n_seen == REG_REFERRERS_MAX_PAGES) {
			err_set(e, ERR_INPUT, "registry %s: %s: more than %d pages", c->name, what,
				REG_REFERRERS_MAX_PAGES);
			goto out;
		}
		seen[n_seen++] = url;
		if (hreq_prepare(&j.r, "GET", url, what, e) < 0)
			goto out;
		buf_reset(&page);
		j.r.accept = MT_OCI_INDEX;
		j.r.out = &page;
		j.r.out_max = BUF_CAP_MANIFEST;
		if (http_do(&j, e) < 0)
			goto out;
		if (n_seen == 1 && (j.r.status == 404 || j.r.status == 400 || j.r.status == 405 ||
				    j.r.status == 501)) {
			/* The distribution spec: 404 means no referrers API;
			 * clients fall back to the tag schema. Some older
			 * registries answer an unknown route with 400, 405 or
			 * 501: the same fallback. */
			rc = 0;
			goto out;
		}
		if (j.r.status != 200) {
			hreq_fail(c, &j.r, e);
			goto out;
		}
		if (referrers_next(c, what, &j.r, seen, n_seen, &next, e) < 0)
			goto out;
		if (n_seen == 1 && !next) {
			/* one page: passed on as the registry wrote it */
			if (buf_add(out, page.data, page.len, e) < 0)
				goto out;
			break;
		}
		if (!all && !(all = cJSON_CreateArray())) {
			free(next);
			err_oom(e);
			goto out;
		}
		if (referrers_merge(c, what, &page, &first, all, e) < 0) {
			free(next);
			goto out;
		}
		url = next;
	}
	url = NULL; /* owned by seen[] */
	if (first) {
		cJSON_DeleteItemFromObjectCaseSensitive(first, "manifests");
		cJSON_AddItemToObject(first, "manifests", all);
		all = NULL;
		if (!(s = cJSON_PrintUnformatted(first)) || buf_adds(out, s, e) < 0) {
			if (!s)
				err_oom(e);
			goto out;
		}
		log_debug("registry %s: %s: %zu pages", c->name, what, n_seen);
	}
	*supported = true;
	rc = 0;
out:
	if (rc < 0 || !*supported)
		buf_reset(out);
	for (size_t i = 0; i < n_seen; i++)
		free(seen[i]);
	if (url && (n_seen == 0 || seen[n_seen - 1] != url))
		free(url);
	free(s);
	cJSON_Delete(first);
	cJSON_Delete(all);
	buf_free(&page);
	job_free(&j);
	return rc;
}

int reg_put_referrer(struct reg_client *c, const char *digest, const void *p, size_t n,
		     const char *media_type, bool *indexed, struct err *e)
{
	struct job j;
	char what[160];
	int rc;

	reg_err_begin(e);
	*indexed = false;
	if (oci_digest_check(digest, "manifest digest", e) < 0)
		return -1;
	snprintf(what, sizeof(what), "put manifest %s@%.80s", c->repo, digest);
	job_init(&j, c);
	rc = client_put_manifest(c, &j, digest, p, n, media_type, what, e);
	*indexed = rc == 0 && j.r.oci_subject && *j.r.oci_subject;
	job_free(&j);
	return rc;
}
