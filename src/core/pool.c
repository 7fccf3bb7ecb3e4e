#include <pthread.h>
#include <stdlib.h>

#include "core/pool.h"

struct pool {
	pthread_mutex_t mu;
	size_t next, n;
	void (*fn)(void *ctx, size_t i);
	void *ctx;
};

static void *worker(void *arg)
{
	struct pool *p = arg;

	for (;;) {
		size_t i;

		pthread_mutex_lock(&p->mu);
		i = p->next < p->n ? p->next++ : p->n;
		pthread_mutex_unlock(&p->mu);
		if (i >= p->n)
			return NULL;
		p->fn(p->ctx, i);
	}
}

int base_pool_run(size_t n, int jobs, void (*fn)(void *ctx, size_t i), void *ctx, struct err *e)
{
	struct pool p = {PTHREAD_MUTEX_INITIALIZER, 0, n, fn, ctx};
	pthread_t *t;
	int started = 0;

	if (jobs < 1)
		jobs = 1;
	if ((size_t)jobs > n)
		jobs = (int)n;
	if (n == 0)
		return 0;
	t = calloc((size_t)jobs, sizeof(*t));
	if (!t)
		return err_oom(e);
	for (int i = 0; i < jobs; i++)
		if (pthread_create(&t[started], NULL, worker, &p) == 0)
			started++;
	if (started == 0) {
		/* No thread: do the work here. */
		worker(&p);
	}
	for (int i = 0; i < started; i++)
		pthread_join(t[i], NULL);
	free(t);
	return 0;
}
