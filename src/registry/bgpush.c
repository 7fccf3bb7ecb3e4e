/* Pushing blobs in the background (see registry.h): one thread, one client
 * per destination, blobs in the order they were queued. A failure is only
 * logged: whoever pushes the image afterwards uploads what is missing. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/util.h"
#include "registry/registry.h"

struct bg_item {
	char *digest, *path;
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
};

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
		struct oci_desc d = { .digest = it.digest, .size = it.size };
		const char *path = it.path;
		for (size_t i = 0; i < p->n_c; i++) {
			struct err e = ERR_INIT;
			if (reg_push_blobs(p->c[i], &d, &path, 1, NULL, &e) < 0)
				log_debug("background push of %s: %s", it.digest, e.msg);
		}
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

void reg_bgpush_layer(void *ctx, const struct oci_desc *d, const char *path)
{
	struct reg_bgpush *p = ctx;
	struct err e = ERR_INIT;

	if (!p || !p->n_c)
		return;
	pthread_mutex_lock(&p->mu);
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
	if (p->started && p->n < p->a) {
		struct bg_item *it = &p->q[p->n];
		it->digest = xstrdup_e(d->digest, &e);
		it->path = xstrdup_e(path, &e);
		it->size = d->size;
		if (it->digest && it->path) {
			p->n++;
			pthread_cond_signal(&p->cv);
		} else {
			free(it->digest);
			free(it->path);
		}
	}
	pthread_mutex_unlock(&p->mu);
}

void reg_bgpush_free(struct reg_bgpush *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->mu);
	p->closing = true;
	pthread_cond_signal(&p->cv);
	pthread_mutex_unlock(&p->mu);
	if (p->started)
		pthread_join(p->th, NULL);
	for (size_t i = 0; i < p->n; i++) {
		free(p->q[i].digest);
		free(p->q[i].path);
	}
	for (size_t i = 0; i < p->n_c; i++)
		reg_close(p->c[i]);
	free(p->c);
	free(p->q);
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->cv);
	free(p);
}
