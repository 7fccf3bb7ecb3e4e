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
	char what[160];
	int rc = -1;

	reg_err_begin(e);
	*supported = false;
	job_init(&j, c);
	snprintf(what, sizeof(what), "list referrers of %s@%.80s", c->repo, digest ? digest : "");
	if (oci_digest_check(digest, "subject digest", e) < 0 ||
	    client_fetch(c, &j, "GET", "referrers", digest, what, MT_OCI_INDEX, out,
			 BUF_CAP_MANIFEST, e) < 0)
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
