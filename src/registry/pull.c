/* Parallel blob download: each blob streams into a temporary file next to
 * its destination while it is hashed; the file is renamed into place only
 * when size and digest match. A transfer cut short resumes with a Range
 * request when the server supports it, else starts over. */
#include "registry/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/fs.h"
#include "core/log.h"
#include "core/sha256.h"
#include "core/util.h"
#include "oci/digest.h"

#define WRITEBACK_STEP (8u << 20)
#define WRITE_BUFSIZE (1u << 20)

struct pull_job {
	struct job j; /* first: the engine hands back &j */
	const struct oci_desc *d;
	char *path;
	char *url;
	struct fs_atomic a;
	struct sha256 sha;
	bool sha_on;
	uint64_t got;
	uint64_t flushed; /* writeback started up to here */
	char *wbuf;	  /* stdio buffer of a.f */
	bool resp_seen;
	bool finished;
	int prog_id;
	char what[64];
};

static void reset_file(struct pull_job *p)
{
	fs_atomic_abort(&p->a);
	sha256_free(&p->sha);
	p->sha_on = false;
	p->got = 0;
	p->flushed = 0;
}

static int pull_open(struct pull_job *p)
{
	struct err *e = &p->j.err;

	reset_file(p);
	if (fs_atomic_open(&p->a, p->path, e) < 0)
		return -1;
	/* curl hands over at most 16 KiB at a time: gather 1 MiB per write(2).
	 * (glibc ignores the size unless it is given the buffer.) The buffer
	 * outlives every FILE it serves: freed in cleanup. */
	if (!p->wbuf)
		p->wbuf = malloc(WRITE_BUFSIZE);
	if (p->wbuf)
		setvbuf(p->a.f, p->wbuf, _IOFBF, WRITE_BUFSIZE);
	if (sha256_init(&p->sha, e) < 0) {
		fs_atomic_abort(&p->a);
		return -1;
	}
	p->sha_on = true;
	return 0;
}

static size_t pull_sink(struct hreq *r, const char *buf, size_t n)
{
	struct pull_job *p = r->ctx;
	struct reg_client *c = p->j.c;

	if (!p->resp_seen) {
		p->resp_seen = true;
		/* asked for a range, got the whole blob: start the file over */
		if (p->got && r->status != 206 && pull_open(p) < 0) {
			r->sink_err = p->j.err;
			r->sink_failed = true;
			return 0;
		}
	}
	if (p->d->size >= 0 && p->got + n > (uint64_t)p->d->size) {
		r->sink_failed = true;
		err_set(&r->sink_err, ERR_INPUT,
			"registry %s: %s: blob is larger than its descriptor says (%lld bytes)",
			c->registry, p->what, (long long)p->d->size);
		return 0;
	}
	if (fwrite(buf, 1, n, p->a.f) != n) {
		r->sink_failed = true;
		err_errno(&r->sink_err, ERR_INTERNAL, "write %s", p->a.tmp);
		return 0;
	}
	sha256_update(&p->sha, buf, n);
	p->got += n;
	if (p->got - p->flushed >= WRITEBACK_STEP) {
		/* start writeback now, so the fsync at the end has little left to wait for */
		if (fflush(p->a.f) == 0)
			sync_file_range(fileno(p->a.f), (off64_t)p->flushed,
					(off64_t)(p->got - p->flushed), SYNC_FILE_RANGE_WRITE);
		p->flushed = p->got;
	}
	if (p->prog_id >= 0)
		progress_update(c->progress, p->prog_id, p->got);
	return n;
}

static int pull_start(struct job *j)
{
	struct pull_job *p = (struct pull_job *)j;
	struct hreq *r = &j->r;
	/* r still describes the exchange that broke off */
	bool resume =
	    p->got > 0 && p->a.f && r->accept_ranges && (r->status == 200 || r->status == 206);

	p->resp_seen = false;
	if (!resume && pull_open(p) < 0)
		return JOB_FAIL;
	if (hreq_prepare(r, "GET", p->url, p->what, &j->err) < 0)
		return JOB_FAIL;
	if (resume) {
		if (fflush(p->a.f) != 0) {
			err_errno(&j->err, ERR_INTERNAL, "write %s", p->a.tmp);
			return JOB_FAIL;
		}
		if (asprintf(&r->range, "Range: bytes=%llu-", (unsigned long long)p->got) < 0) {
			r->range = NULL;
			err_oom(&j->err);
			return JOB_FAIL;
		}
		log_debug("registry %s: %s: resuming at byte %llu", j->c->registry, p->what,
			  (unsigned long long)p->got);
	}
	r->sink = pull_sink;
	r->ctx = p;
	return JOB_SUBMIT;
}

static int pull_next(struct job *j)
{
	struct pull_job *p = (struct pull_job *)j;
	struct reg_client *c = j->c;
	struct hreq *r = &j->r;
	char hex[65];

	if (r->status != 200 && r->status != 206) {
		hreq_fail(c, r, &j->err);
		return JOB_FAIL;
	}
	if (p->d->size >= 0 && p->got < (uint64_t)p->d->size) {
		err_set(&j->err, ERR_NETWORK,
			"registry %s: %s: body cut short at %llu of %lld bytes", c->registry,
			p->what, (unsigned long long)p->got, (long long)p->d->size);
		return JOB_RETRY;
	}
	sha256_final_hex(&p->sha, hex);
	p->sha_on = false;
	if (strcmp(p->d->digest + 7, hex) != 0) {
		err_set(&j->err, ERR_INPUT,
			"registry %s: %s: digest mismatch: expected %s, got sha256:%s", c->registry,
			p->what, p->d->digest, hex);
		return JOB_FAIL;
	}
	if (fs_atomic_commit(&p->a, 0644, &j->err) < 0)
		return JOB_FAIL;
	if (p->prog_id >= 0)
		progress_finish(c->progress, p->prog_id, "done");
	p->finished = true;
	return JOB_DONE;
}

static void pull_cleanup(struct job *j)
{
	struct pull_job *p = (struct pull_job *)j;

	if (p->a.f || p->a.tmp)
		fs_atomic_abort(&p->a);
	sha256_free(&p->sha);
	free(p->wbuf);
	p->wbuf = NULL;
	if (p->prog_id >= 0 && !p->finished)
		progress_finish(j->c->progress, p->prog_id, "failed");
	free(p->path);
	free(p->url);
	p->path = p->url = NULL;
	job_free(j);
}

static int ensure_parent(const char *path, struct err *e)
{
	const char *slash = strrchr(path, '/');
	char *dir;
	int rc;

	if (!slash || slash == path)
		return 0;
	if (!(dir = xstrndup_e(path, (size_t)(slash - path), e)))
		return -1;
	rc = fs_exists(dir) ? 0 : fs_mkdir_p(dir, 0755, e);
	free(dir);
	return rc;
}

int reg_fetch_blobs(struct reg_client *c, const struct oci_desc *descs, size_t n,
		    char *(*path_for)(void *ctx, const struct oci_desc *d),
		    bool (*skip)(void *ctx, const struct oci_desc *d), void *ctx, struct err *e)
{
	struct pull_job *pj = NULL;
	struct job **jobs = NULL;
	size_t nj = 0;
	int rc = -1;

	reg_err_begin(e);
	if (!n)
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (oci_digest_check(descs[i].digest, "blob digest", e) < 0)
			return err_prefix(e, "registry %s", c->name);
		if (!str_starts(descs[i].digest, "sha256:"))
			return err_set(e, ERR_INPUT,
				       "registry %s: blob %.80s: only sha256 is supported", c->name,
				       descs[i].digest);
	}
	pj = calloc(n, sizeof(*pj));
	jobs = calloc(n, sizeof(*jobs));
	if (!pj || !jobs) {
		err_oom(e);
		goto out;
	}
	if (client_ensure_ping(c, e) < 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		const struct oci_desc *d = &descs[i];
		struct pull_job *p = &pj[nj];
		bool dup = false;
		char sd[20];

		for (size_t k = 0; k < i && !dup; k++)
			dup = strcmp(descs[k].digest, d->digest) == 0;
		if (dup)
			continue;
		oci_digest_short(d->digest, sd);
		if (skip && skip(ctx, d)) {
			if (c->progress)
				progress_finish(c->progress,
						progress_add(c->progress, sd,
							     (uint64_t)(d->size > 0 ? d->size : 0)),
						"exists");
			continue;
		}
		job_init(&p->j, c);
		p->j.start = pull_start;
		p->j.next = pull_next;
		p->j.cleanup = pull_cleanup;
		p->d = d;
		p->prog_id = -1;
		jobs[nj++] = &p->j;
		snprintf(p->what, sizeof(p->what), "get blob %s", sd);
		p->path = path_for(ctx, d);
		if (!p->path) {
			err_set(e, ERR_INTERNAL, "registry %s: no destination for blob %s", c->name,
				sd);
			goto out;
		}
		if (ensure_parent(p->path, e) < 0 ||
		    !(p->url = client_url(c, e, "blobs/%s", d->digest)))
			goto out;
		if (c->progress)
			p->prog_id =
			    progress_add(c->progress, sd, (uint64_t)(d->size > 0 ? d->size : 0));
	}
	rc = http_run(c, c->multi, jobs, nj, c->parallel, e);
	nj = 0; /* http_run ran every cleanup */
out:
	for (size_t i = 0; i < nj; i++)
		pull_cleanup(jobs[i]);
	free(jobs);
	free(pj);
	return rc;
}
