/* Parallel gzip, as pigz writes it: ONE standard gzip stream (one header,
 * one trailer) whose deflate data is cut into fixed 1 MiB chunks of input,
 * each deflated on a worker thread with the previous 32 KiB of input as its
 * preset dictionary and ended on a byte boundary (an empty stored block,
 * Z_SYNC_FLUSH), the last with Z_FINISH; the chunks' CRC-32s are combined
 * in order. Chunk boundaries depend only on the input, never on timing or
 * on the number of threads, so the same input always gives the same bytes
 * (threads = 1 runs the same algorithm on the calling thread). No name and
 * no time in the header. */
#ifndef BOSUN_OCI_PGZIP_H
#define BOSUN_OCI_PGZIP_H

#include <stddef.h>
#include "core/err.h"

/* Where the compressed bytes go, in order, on the thread that calls
 * pgz_write and pgz_finish: 0, or -1 with e set. */
typedef int (*pgz_sink_fn)(void *ctx, const void *p, size_t n, struct err *e);

struct pgz;

/* A compressor at level (0: zlib's default, 6) on threads workers (< 2: the
 * calling thread alone). Free it with pgz_free. */
int pgz_open(struct pgz **out, int level, int threads, pgz_sink_fn sink, void *ctx, struct err *e);
int pgz_write(struct pgz *z, const void *p, size_t n, struct err *e);
/* The last chunk and the trailer. */
int pgz_finish(struct pgz *z, struct err *e);
/* Stops the workers (after an error too) and frees everything. */
void pgz_free(struct pgz *z);

#endif
