/* OCI 1.1 referrers: the referrers API (GET /v2/<name>/referrers/<digest>)
 * and manifests pushed with a subject (the registry says it indexed them
 * with the OCI-Subject header). The referrers tag schema fallback lives with
 * its users (src/sign/store.c): it is plain manifests under a tag. */
#include "registry/internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/sha256.h"
#include "core/util.h"
#include "oci/digest.h"

int reg_get_referrers(struct reg_client *c, const char *digest, struct buf *out, bool *supported,
		      struct err *e)
{
	struct job j;
	char *url = NULL, what[160];
	int rc = -1;

	reg_err_begin(e);
	*supported = false;
	job_init(&j, c);
	snprintf(what, sizeof(what), "list referrers of %s@%.80s", c->repo, digest ? digest : "");
	if (oci_digest_check(digest, "subject digest", e) < 0 || client_ensure_ping(c, e) < 0 ||
	    !(url = client_url(c, e, "referrers/%s", digest)) ||
	    hreq_prepare(&j.r, "GET", url, what, e) < 0)
		goto out;
	buf_reset(out);
	j.r.accept = MT_OCI_INDEX;
	j.r.out = out;
	j.r.out_max = BUF_CAP_MANIFEST;
	if (http_do(&j, e) < 0)
		goto out;
	if (j.r.status == 404 || j.r.status == 400 || j.r.status == 405 || j.r.status == 501) {
		/* The distribution spec: 404 means no referrers API; clients
		 * fall back to the tag schema. Some older registries answer an
		 * unknown route with 400, 405 or 501: the same fallback. */
		buf_reset(out);
		rc = 0;
		goto out;
	}
	if (j.r.status != 200) {
		hreq_fail(c, &j.r, e);
		goto out;
	}
	*supported = true;
	rc = 0;
out:
	free(url);
	job_free(&j);
	return rc;
}

int reg_put_referrer(struct reg_client *c, const char *digest, const void *p, size_t n,
		     const char *media_type, bool *indexed, struct err *e)
{
	struct job j;
	char *url = NULL, what[160];
	int rc = -1;

	reg_err_begin(e);
	*indexed = false;
	job_init(&j, c);
	snprintf(what, sizeof(what), "put manifest %s@%.80s", c->repo, digest ? digest : "");
	if (oci_digest_check(digest, "manifest digest", e) < 0)
		goto out;
	if (n > BUF_CAP_MANIFEST) {
		err_set(e, ERR_INPUT, "registry %s: %s: manifest exceeds %u bytes", c->name, what,
			BUF_CAP_MANIFEST);
		goto out;
	}
	if (oci_digest_verify(digest, p, n, e) < 0) {
		err_prefix(e, "registry %s: %s", c->name, what);
		goto out;
	}
	if (client_ensure_ping(c, e) < 0 || !(url = client_url(c, e, "manifests/%s", digest)) ||
	    hreq_prepare(&j.r, "PUT", url, what, e) < 0)
		goto out;
	j.r.body = BODY_MEM;
	j.r.mem = p;
	j.r.mem_len = n;
	j.r.len = (int64_t)n;
	j.r.content_type = media_type;
	if (http_do(&j, e) < 0)
		goto out;
	if (j.r.status != 201 && j.r.status != 200 && j.r.status != 202) {
		hreq_fail(c, &j.r, e);
		goto out;
	}
	*indexed = j.r.oci_subject && *j.r.oci_subject;
	rc = 0;
out:
	free(url);
	job_free(&j);
	return rc;
}
