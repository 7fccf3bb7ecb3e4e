/* Parallel blob upload. Per blob: HEAD (skip when present), cross-repo
 * mount when a source repository is given, POST to open an upload session,
 * then one monolithic PUT ?digest=; when the registry refuses that (413,
 * 405, 411, 501) a fresh session is uploaded in PATCH chunks and closed by
 * an empty PUT. Bodies stream from the file with pread. A retry starts the
 * blob over from the HEAD, in a new upload session. */
#include "registry/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/log.h"
#include "core/util.h"
#include "oci/digest.h"

#define CHUNK_DEFAULT (16 * 1024 * 1024)

enum pstate { P_HEAD, P_MOUNT, P_POST, P_PUT, P_PATCH, P_FINAL };

struct push_job {
	struct job j; /* first */
	const char *digest;
	int64_t size;
	const char *path;
	int fd;
	const unsigned char *mem;
	const char *mount_from;
	enum pstate st;
	bool chunked;
	int64_t chunk;
	int64_t sent;
	char *upload;
	const char *result;
	const struct reg_growing *g; /* a blob still being written, or NULL */
	char gdigest[OCI_DIGEST_MAX];
	int prog_id;
	char what[64];
	char dq[160]; /* digest escaped for a query */
};

static int prep(struct push_job *p, const char *method, const char *url)
{
	struct hreq *r = &p->j.r;

	if (hreq_prepare(r, method, url, p->what, &p->j.err) < 0)
		return -1;
	r->prog_id = p->prog_id;
	r->prog_base = 0;
	return 0;
}

/* method on /v2/<repo>/<suffix><a><b> */
static int prep_repo(struct push_job *p, const char *method, const char *suffix, const char *a,
		     const char *b)
{
	struct reg_client *c = p->j.c;
	char *url = client_url(c, &p->j.err, "%s%s%s", suffix, a ? a : "", b ? b : "");
	int rc;

	if (!url)
		return -1;
	rc = prep(p, method, url);
	free(url);
	return rc;
}

static void body(struct push_job *p, int64_t off, int64_t len)
{
	struct hreq *r = &p->j.r;

	if (p->mem) {
		r->body = BODY_MEM;
		r->mem = p->mem + off;
		r->mem_len = (size_t)len;
	} else {
		r->body = BODY_FD;
		r->fd = p->fd;
		r->off = off;
	}
	r->len = len;
	r->prog_base = (uint64_t)off;
	r->content_type = "application/octet-stream";
}

static int push_start(struct job *j)
{
	struct push_job *p = (struct push_job *)j;

	p->st = P_HEAD;
	p->sent = 0;
	free(p->upload);
	p->upload = NULL;
	if (!p->mem && p->fd < 0) {
		struct stat st;

		p->fd = open(p->path, O_RDONLY | O_CLOEXEC);
		if (p->fd < 0) {
			err_errno(&j->err, ERR_INPUT, "open %s", p->path);
			return JOB_FAIL;
		}
		if (fstat(p->fd, &st) < 0) {
			err_errno(&j->err, ERR_INPUT, "stat %s", p->path);
			return JOB_FAIL;
		}
		if (st.st_size != p->size) {
			err_set(&j->err, ERR_INPUT, "%s: %lld bytes, but its descriptor says %lld",
				p->path, (long long)st.st_size, (long long)p->size);
			return JOB_FAIL;
		}
		posix_fadvise(p->fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	}
	if (prep_repo(p, "HEAD", "blobs/", p->digest, NULL) < 0)
		return JOB_FAIL;
	return JOB_SUBMIT;
}

static int take_location(struct push_job *p)
{
	struct hreq *r = &p->j.r;
	char *u;

	if (!r->location) {
		err_set(&p->j.err, ERR_NETWORK, "registry %s: %s: HTTP %ld without Location",
			p->j.c->registry, p->what, r->status);
		return -1;
	}
	u = http_resolve(r->url, r->location);
	if (!u) {
		err_set(&p->j.err, ERR_NETWORK, "registry %s: %s: bad upload Location",
			p->j.c->registry, p->what);
		return -1;
	}
	free(p->upload);
	p->upload = u;
	return 0;
}

static int put_final(struct push_job *p, bool with_body)
{
	struct hreq *r = &p->j.r;
	char *url = xasprintf_e(&p->j.err, "%s%cdigest=%s", p->upload,
				strchr(p->upload, '?') ? '&' : '?', p->dq);
	int rc;

	if (!url)
		return JOB_FAIL;
	rc = prep(p, "PUT", url);
	free(url);
	if (rc < 0)
		return JOB_FAIL;
	if (with_body)
		body(p, 0, p->size);
	else
		r->content_type = "application/octet-stream";
	p->st = with_body ? P_PUT : P_FINAL;
	return JOB_SUBMIT;
}

static int patch_next(struct push_job *p)
{
	struct hreq *r = &p->j.r;
	int64_t len = p->size - p->sent;

	if (len > p->chunk)
		len = p->chunk;
	if (prep(p, "PATCH", p->upload) < 0)
		return JOB_FAIL;
	body(p, p->sent, len);
	if (asprintf(&r->range, "Content-Range: %lld-%lld", (long long)p->sent,
		     (long long)(p->sent + len - 1)) < 0) {
		r->range = NULL;
		err_oom(&p->j.err);
		return JOB_FAIL;
	}
	p->st = P_PATCH;
	return JOB_SUBMIT;
}

/* A PATCH was accepted: the session may move (Location), the Range says how
 * far the registry got. -1 with ERR_NETWORK (a retry) on a bad Range. */
static int patch_done(struct push_job *p)
{
	struct hreq *r = &p->j.r;
	int64_t end = -1;
	const char *dash = r->rrange ? strchr(r->rrange, '-') : NULL;

	if (r->location && take_location(p) < 0)
		return -1;
	if (dash)
		end = strtoll(dash + 1, NULL, 10);
	p->sent = dash ? end + 1 : p->sent + r->len;
	if (p->sent <= 0 || p->sent > p->size)
		return err_set(&p->j.err, ERR_NETWORK, "registry %s: %s: bad Range %.40s", p->j.c->registry,
			       p->what, r->rrange ? r->rrange : "");
	return 0;
}

static int upload_begin(struct push_job *p)
{
	if (!p->chunked || p->size == 0)
		return put_final(p, true);
	return patch_next(p);
}

static int finish(struct push_job *p, const char *result)
{
	p->result = result;
	if (p->prog_id >= 0)
		progress_finish(p->j.c->progress, p->prog_id, result);
	log_debug("registry %s: %s: %s", p->j.c->registry, p->what, result);
	return JOB_DONE;
}

static bool monolithic_refused(long st)
{
	return st == 413 || st == 405 || st == 411 || st == 501;
}

static int push_next(struct job *j)
{
	struct push_job *p = (struct push_job *)j;
	struct reg_client *c = j->c;
	struct hreq *r = &j->r;
	long st = r->status;

	switch (p->st) {
	case P_HEAD:
		if (st == 200)
			return finish(p, "exists");
		if (st != 404)
			break;
		if (p->mount_from) {
			char q[512];

			snprintf(q, sizeof(q), "?mount=%s&from=%s", p->dq, p->mount_from);
			if (prep_repo(p, "POST", "blobs/uploads/", q, NULL) < 0)
				return JOB_FAIL;
			p->st = P_MOUNT;
			return JOB_SUBMIT;
		}
		/* fall through */
	case P_MOUNT:
		if (p->st == P_MOUNT) {
			if (st == 201)
				return finish(p, "mounted");
			if (st == 202) {
				/* not mountable, but the registry opened a session for us */
				if (take_location(p) < 0)
					return JOB_FAIL;
				p->chunk =
				    r->chunk_min > CHUNK_DEFAULT ? r->chunk_min : CHUNK_DEFAULT;
				return upload_begin(p);
			}
			log_debug("registry %s: %s: mount from %s refused (HTTP %ld)", c->registry,
				  p->what, p->mount_from, st);
		}
		if (prep_repo(p, "POST", "blobs/uploads/", NULL, NULL) < 0)
			return JOB_FAIL;
		p->st = P_POST;
		return JOB_SUBMIT;
	case P_POST:
		if (st != 202 && st != 201)
			break;
		if (take_location(p) < 0)
			return JOB_FAIL;
		p->chunk = r->chunk_min > CHUNK_DEFAULT ? r->chunk_min : CHUNK_DEFAULT;
		return upload_begin(p);
	case P_PUT:
		if (st == 201 || st == 204 || st == 200)
			return finish(p, "done");
		if (monolithic_refused(st) && !p->chunked) {
			log_debug(
			    "registry %s: %s: monolithic upload refused (HTTP %ld); using chunks",
			    c->registry, p->what, st);
			p->chunked = true;
			if (prep_repo(p, "POST", "blobs/uploads/", NULL, NULL) < 0)
				return JOB_FAIL;
			p->st = P_POST;
			return JOB_SUBMIT;
		}
		break;
	case P_PATCH:
		if (st == 416) {
			err_set(&j->err, ERR_NETWORK,
				"registry %s: %s: upload out of sync (HTTP 416)", c->registry,
				p->what);
			return JOB_RETRY;
		}
		if (st != 202 && st != 204)
			break;
		if (patch_done(p) < 0)
			return p->j.err.code == ERR_NETWORK ? JOB_RETRY : JOB_FAIL;
		if (p->sent < p->size)
			return patch_next(p);
		return put_final(p, false);
	case P_FINAL:
		if (st == 201 || st == 204 || st == 200)
			return finish(p, "done");
		break;
	}
	hreq_fail(c, r, &j->err);
	if (r->errbody.len && strstr(r->errbody.data, "DIGEST_INVALID"))
		j->err.code = ERR_INPUT; /* our bytes do not hash to the digest */
	return JOB_FAIL;
}

static void push_cleanup(struct job *j)
{
	struct push_job *p = (struct push_job *)j;

	if (p->fd >= 0)
		close(p->fd);
	p->fd = -1;
	if (p->prog_id >= 0 && !p->result)
		progress_finish(j->c->progress, p->prog_id, "failed");
	free(p->upload);
	p->upload = NULL;
	job_free(j);
}

static void set_digest(struct push_job *p, const char *digest)
{
	p->digest = digest;
	/* ':' escaped, as Docker does; the rest of a digest is [a-z0-9] */
	snprintf(p->dq, sizeof(p->dq), "%.*s%%3A%s", (int)strcspn(digest, ":"), digest,
		 digest + strcspn(digest, ":") + (strchr(digest, ':') ? 1 : 0));
}

static void push_job_init(struct push_job *p, struct reg_client *c, const char *digest,
			  int64_t size, const char *mount_from)
{
	char sd[20];

	job_init(&p->j, c);
	p->j.start = push_start;
	p->j.next = push_next;
	p->j.cleanup = push_cleanup;
	p->digest = digest;
	p->size = size;
	p->fd = -1;
	p->mount_from = mount_from;
	p->prog_id = -1;
	oci_digest_short(digest, sd);
	snprintf(p->what, sizeof(p->what), "upload blob %s", sd);
	set_digest(p, digest);
	if (c->progress)
		p->prog_id = progress_add(c->progress, sd, (uint64_t)(size > 0 ? size : 0));
}

static int push_run(struct reg_client *c, struct push_job *pj, size_t n, const char *mount_repo,
		    struct err *e)
{
	struct job **jobs = calloc(n ? n : 1, sizeof(*jobs));
	int rc;

	if (!jobs) {
		for (size_t i = 0; i < n; i++)
			push_cleanup(&pj[i].j);
		return err_oom(e);
	}
	for (size_t i = 0; i < n; i++)
		jobs[i] = &pj[i].j;
	rc = client_ensure_ping(c, e);
	if (rc == 0 && mount_repo) {
		char *scope = xasprintf_e(e, "repository:%s:pull", mount_repo);

		rc = scope ? auth_add_scope(c, scope, e) : -1;
		free(scope);
	}
	if (rc >= 0)
		rc = http_run(c, c->multi, jobs, n, c->parallel, e);
	else
		for (size_t i = 0; i < n; i++)
			push_cleanup(&pj[i].j);
	free(jobs);
	return rc < 0 ? -1 : 0;
}

/* A job for digest among pj[0..n) already: duplicates are pushed once. */
static bool pushed_before(const struct push_job *pj, size_t n, const char *digest)
{
	for (size_t k = 0; k < n; k++)
		if (strcmp(pj[k].digest, digest) == 0)
			return true;
	return false;
}

/* One job per distinct blob: from files (descs, paths) or memory (b). */
static int push_set(struct reg_client *c, size_t n, const struct oci_desc *descs,
		    const char *const *paths, const struct reg_blob_mem *b, const char *mount_repo,
		    struct err *e)
{
	struct push_job *pj = calloc(n, sizeof(*pj));
	size_t nj = 0;
	int rc;

	if (!pj)
		return err_oom(e);
	for (size_t i = 0; i < n; i++) {
		const char *d = descs ? descs[i].digest : b[i].digest;

		if (pushed_before(pj, nj, d))
			continue;
		push_job_init(&pj[nj], c, d, descs ? descs[i].size : (int64_t)b[i].n, mount_repo);
		if (descs)
			pj[nj].path = paths[i];
		else
			pj[nj].mem = b[i].p ? b[i].p : (const unsigned char *)"";
		nj++;
	}
	rc = push_run(c, pj, nj, mount_repo, e);
	free(pj);
	return rc;
}

int reg_push_blobs(struct reg_client *c, const struct oci_desc *descs, const char *const *paths,
		   size_t n, const char *mount_repo, struct err *e)
{

	reg_err_begin(e);
	if (!n)
		return 0;
	if (mount_repo && (!*mount_repo || strcmp(mount_repo, c->repo) == 0))
		mount_repo = NULL;
	for (size_t i = 0; i < n; i++) {
		if (oci_digest_check(descs[i].digest, "blob digest", e) < 0)
			return err_prefix(e, "registry %s", c->name);
		if (descs[i].size < 0)
			return err_set(e, ERR_INPUT, "registry %s: blob %.80s: negative size",
				       c->name, descs[i].digest);
		if (!paths[i])
			return err_set(e, ERR_USAGE, "registry %s: blob %.80s: no file", c->name,
				       descs[i].digest);
	}
	return push_set(c, n, descs, paths, NULL, mount_repo, e);
}

int reg_push_blobs_mem(struct reg_client *c, const struct reg_blob_mem *b, size_t n,
		       struct err *e)
{

	reg_err_begin(e);
	if (!n)
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (oci_digest_check(b[i].digest, "blob digest", e) < 0)
			return err_prefix(e, "registry %s", c->name);
		if (oci_digest_verify(b[i].digest, b[i].p, b[i].n, e) < 0)
			return err_prefix(e, "registry %s: upload blob", c->name);
	}
	return push_set(c, n, NULL, NULL, b, NULL, e);
}

int reg_push_blob_buf(struct reg_client *c, const void *p, size_t n, const char *digest,
		      struct err *e)
{
	struct reg_blob_mem b = {p, n, digest};

	return reg_push_blobs_mem(c, &b, 1, e);
}

/* ------------------------------------------- a blob still being written */

/* Chunks of a growing blob: big enough for registries with a minimum
 * (OCI-Chunk-Min-Length, 5 MiB at some), small enough to follow the writer. */
#define GROW_CHUNK (8 * 1024 * 1024)

static int grow_start(struct job *j)
{
	struct push_job *p = (struct push_job *)j;

	p->sent = p->size = 0;
	p->gdigest[0] = 0;
	free(p->upload);
	p->upload = NULL;
	if (prep_repo(p, "POST", "blobs/uploads/", NULL, NULL) < 0)
		return JOB_FAIL;
	p->st = P_POST;
	return JOB_SUBMIT;
}

/* Wait for the next chunk to be written and PATCH it, or close the upload
 * with PUT ?digest= once the blob is complete and all of it was sent. */
static int grow_chunk(struct push_job *p)
{
	int64_t avail = 0;

	if (p->g->wait(p->g->ctx, p->sent + p->chunk, &avail, p->gdigest) < 0 || avail < p->sent) {
		err_set(&p->j.err, ERR_INTERNAL, "registry %s: %s: the blob was not completed", p->j.c->registry,
			p->what);
		return JOB_FAIL;
	}
	p->size = avail;
	if (p->gdigest[0] && avail == p->sent) {
		set_digest(p, p->gdigest);
		return put_final(p, false);
	}
	if (!p->gdigest[0] && avail < p->sent + p->chunk)
		return grow_chunk(p);
	return patch_next(p);
}

static int grow_next(struct job *j)
{
	struct push_job *p = (struct push_job *)j;
	struct hreq *r = &j->r;
	long st = r->status;

	if (p->st == P_POST && (st == 202 || st == 201)) {
		if (take_location(p) < 0)
			return JOB_FAIL;
		p->chunk = r->chunk_min > GROW_CHUNK ? r->chunk_min : GROW_CHUNK;
		return grow_chunk(p);
	}
	if (p->st == P_PATCH && (st == 202 || st == 204)) {
		if (patch_done(p) < 0)
			return p->j.err.code == ERR_NETWORK ? JOB_RETRY : JOB_FAIL;
		return grow_chunk(p);
	}
	if (p->st == P_PATCH && st == 416)
		return JOB_RETRY; /* out of sync: a new session from the start */
	if (p->st == P_FINAL && (st == 201 || st == 204 || st == 200))
		return finish(p, "done");
	hreq_fail(j->c, r, &j->err);
	return JOB_FAIL;
}

static void grow_cleanup(struct job *j)
{
	struct push_job *p = (struct push_job *)j;

	p->fd = -1; /* the caller's */
	push_cleanup(j);
}

int reg_push_growing(struct reg_client *c, const struct reg_growing *g, struct err *e)
{
	struct push_job pj;

	reg_err_begin(e);
	memset(&pj, 0, sizeof(pj));
	push_job_init(&pj, c, "sha256:", 0, NULL);
	pj.j.start = grow_start;
	pj.j.next = grow_next;
	pj.j.cleanup = grow_cleanup;
	pj.g = g;
	pj.fd = g->fd;
	snprintf(pj.what, sizeof(pj.what), "stream a blob");
	return push_run(c, &pj, 1, NULL, e);
}
