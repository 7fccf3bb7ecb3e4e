/* Pushing blobs in the background (see registry.h): one thread, one client
 * per destination, blobs in the order they were queued. A blob still being
 * written streams to the first destination as it grows (the others get it
 * once it is finished). A failure is only logged: whoever pushes the image
 * afterwards uploads what is missing. */
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"
#include "core/util.h"
#include "registry/internal.h"
#include "registry/registry.h"

/* A blob being written: how far, and its digest at the end. Guarded by the
 * pusher's mu. */
struct bg_stream {
	struct reg_bgpush *p;
	int fd;
	int64_t flushed;
	char digest[OCI_DIGEST_MAX];
	bool failed;
};

struct bg_item {
	char *digest, *path; /* a finished blob, or */
	struct bg_stream *s; /* one being written */
	int64_t size;
};

struct reg_bgpush {
	struct reg_client **c;
	size_t n_c;
	pthread_t th;
	bool started, closing;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct bg_item *q;
	size_t n, a, next;
	struct bg_stream *cur; /* the blob being written now */
};

static int stream_wait(void *ctx, int64_t want, int64_t *avail, char digest[OCI_DIGEST_MAX])
{
	struct bg_stream *s = ctx;
	struct reg_bgpush *p = s->p;

	pthread_mutex_lock(&p->mu);
	while (!s->failed && !s->digest[0] && s->flushed < want)
		pthread_cond_wait(&p->cv, &p->mu);
	*avail = s->flushed;
	memcpy(digest, s->digest, OCI_DIGEST_MAX);
	int r = s->failed ? -1 : 0;
	pthread_mutex_unlock(&p->mu);
	return r;
}

static void push_item(struct reg_bgpush *p, const struct bg_item *it)
{
	struct err e = ERR_INIT;

	if (it->s) {
		struct reg_growing g = { .fd = it->s->fd, .wait = stream_wait, .ctx = it->s };
		if (reg_push_growing(p->c[0], &g, &e) < 0)
			log_debug("background push of a layer as it is written: %s", e.msg);
		return;
	}
	struct oci_desc d = { .digest = it->digest, .size = it->size };
	const char *path = it->path;
	for (size_t i = 0; i < p->n_c; i++) {
		err_clear(&e);
		if (reg_push_blobs(p->c[i], &d, &path, 1, NULL, &e) < 0)
			log_debug("background push of %s: %s", it->digest, e.msg);
	}
}

static void *bg_main(void *arg)
{
	struct reg_bgpush *p = arg;

	pthread_mutex_lock(&p->mu);
	for (;;) {
		while (!p->closing && p->next == p->n)
			pthread_cond_wait(&p->cv, &p->mu);
		if (p->next == p->n)
			break; /* closing, nothing left */
		struct bg_item it = p->q[p->next++];
		pthread_mutex_unlock(&p->mu);
		push_item(p, &it);
		pthread_mutex_lock(&p->mu);
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

int reg_bgpush_open(struct reg_bgpush **out, const char *const *refs, size_t n, const struct reg_opts *o,
		    struct err *e)
{
	struct reg_bgpush *p = calloc(1, sizeof(*p));
	struct reg_opts quiet = o ? *o : (struct reg_opts){ 0 };

	*out = NULL;
	quiet.progress = NULL; /* the push that follows shows progress */
	if (!p || !(p->c = calloc(n ? n : 1, sizeof(*p->c)))) {
		free(p);
		return err_oom(e);
	}
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv, NULL);
	for (size_t i = 0; i < n; i++) {
		struct oci_ref r;
		struct err e2 = ERR_INIT;
		/* A destination that does not parse is reported by the push itself. */
		if (oci_ref_parse(&r, refs[i], &e2) < 0)
			continue;
		int rc = reg_open(&p->c[p->n_c], &r, &quiet, true, &e2);
		oci_ref_free(&r);
		if (rc == 0)
			p->n_c++;
	}
	*out = p;
	return 0;
}

/* Queue it (under mu); false when it could not be. */
static bool enqueue(struct reg_bgpush *p, const struct bg_item *it)
{
	if (!p->started)
		p->started = pthread_create(&p->th, NULL, bg_main, p) == 0;
	if (p->started && p->n == p->a) {
		size_t na = p->a ? p->a * 2 : 8;
		struct bg_item *nq = realloc(p->q, na * sizeof(*nq));
		if (nq) {
			p->q = nq;
			p->a = na;
		}
	}
	if (!p->started || p->n == p->a)
		return false;
	p->q[p->n++] = *it;
	pthread_cond_broadcast(&p->cv);
	return true;
}

void reg_bgpush_layer(void *ctx, const struct oci_desc *d, const char *path)
{
	struct reg_bgpush *p = ctx;
	struct err e = ERR_INIT;
	struct bg_item it = { .size = d->size };

	if (!p || !p->n_c)
		return;
	it.digest = xstrdup_e(d->digest, &e);
	it.path = xstrdup_e(path, &e);
	pthread_mutex_lock(&p->mu);
	bool queued = it.digest && it.path && enqueue(p, &it);
	pthread_mutex_unlock(&p->mu);
	if (!queued) {
		free(it.digest);
		free(it.path);
	}
}

void reg_bgpush_write(void *ctx, const char *tmp_path, int64_t flushed, const char *digest)
{
	struct reg_bgpush *p = ctx;

	if (!p || !p->n_c)
		return;
	pthread_mutex_lock(&p->mu);
	if (tmp_path && p->cur) { /* a new blob before the last one ended */
		p->cur->failed = true;
		p->cur = NULL;
	}
	struct bg_stream *s = p->cur;
	if (!s && tmp_path && flushed >= 0 && !digest) {
		/* A new blob: open it now, before it is renamed or removed. */
		s = calloc(1, sizeof(*s));
		struct bg_item it = { .s = s };
		if (s) {
			s->p = p;
			s->fd = open(tmp_path, O_RDONLY | O_CLOEXEC);
		}
		if (s && (s->fd < 0 || !enqueue(p, &it))) {
			if (s->fd >= 0)
				close(s->fd);
			free(s);
			s = NULL;
		}
		p->cur = s;
	}
	if (s) {
		if (flushed < 0)
			s->failed = true;
		else
			s->flushed = flushed;
		if (digest)
			snprintf(s->digest, sizeof(s->digest), "%s", digest);
		if (s->failed || s->digest[0])
			p->cur = NULL;
		pthread_cond_broadcast(&p->cv);
	}
	pthread_mutex_unlock(&p->mu);
}

void reg_bgpush_free(struct reg_bgpush *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->mu);
	p->closing = true;
	if (p->cur) /* never finished: the build stopped */
		p->cur->failed = true;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
	if (p->started)
		pthread_join(p->th, NULL);
	for (size_t i = 0; i < p->n; i++) {
		free(p->q[i].digest);
		free(p->q[i].path);
		if (p->q[i].s && p->q[i].s->fd >= 0)
			close(p->q[i].s->fd);
		free(p->q[i].s);
	}
	for (size_t i = 0; i < p->n_c; i++)
		reg_close(p->c[i]);
	free(p->c);
	free(p->q);
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->cv);
	free(p);
}
