/* Progress display: bars redrawn in place on a TTY, plain periodic lines
 * (at most one every few seconds per item) in CI logs. Thread-compatible
 * but not thread-safe: call from the thread that drives the transfers. */
#ifndef BOSUN_CORE_PROGRESS_H
#define BOSUN_CORE_PROGRESS_H

#include <stdint.h>

struct progress;

/* title: e.g. "push localhost:5000/app:1". Draws to stderr; silent when the
 * log level is below LOG_INFO. */
struct progress *progress_new(const char *title);
/* Add an item (e.g. a blob "sha256:abcd1234 layer"); returns its id. total may be 0 (unknown). */
int progress_add(struct progress *p, const char *label, uint64_t total);
void progress_update(struct progress *p, int id, uint64_t done);
/* status: short word shown at the end: "done", "exists", "mounted", "failed". */
void progress_finish(struct progress *p, int id, const char *status);
void progress_free(struct progress *p); /* prints the final summary line */

#endif
