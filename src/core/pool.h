/* A small pool of worker threads for independent jobs (one registry
 * client per job, as the client is not thread-safe). */
#ifndef BOSUN_CORE_POOL_H
#define BOSUN_CORE_POOL_H

#include <stddef.h>
#include "core/err.h"

/* Run fn(ctx, i) for i in [0, n) on up to jobs threads (jobs < 1: 1).
 * fn reports per-item results itself. -1 only when no thread could start. */
int base_pool_run(size_t n, int jobs, void (*fn)(void *ctx, size_t i), void *ctx, struct err *e);

#endif
