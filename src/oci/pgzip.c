/* Parallel gzip in one stream (see pgzip.h). The calling thread fills
 * chunks in a ring; workers take them in order and deflate each into its
 * own buffer; the calling thread writes finished chunks strictly in order,
 * so what reaches the sink never depends on which worker was faster. */
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "oci/pgzip.h"

#define PGZ_CHUNK (1u << 20)
#define PGZ_DICT 32768u
#define PGZ_MAX_THREADS 8
/* Room for a chunk that does not compress: stored blocks cost 5 bytes per
 * 64 KiB, the sync flush marker 5 more. */
#define PGZ_OUT_CAP (PGZ_CHUNK + PGZ_CHUNK / 8 + 1024)

enum job_state { JOB_FREE, JOB_QUEUED, JOB_DONE, JOB_FAILED };

struct pgz_job {
	unsigned char *in, *out;
	size_t n_in, n_out;
	unsigned char dict[PGZ_DICT];
	size_t n_dict;
	bool last;
	uLong crc;
	enum job_state state;
	int zrc; /* zlib's code when the job failed */
};

struct pgz {
	int level, n_threads;
	pgz_sink_fn sink;
	void *ctx;
	struct pgz_job *jobs;
	size_t n_jobs;
	/* Sequence numbers: the chunk being filled, the next a worker takes, the
	 * next to be written. A job's slot is jobs[seq % n_jobs]. Guarded by mu. */
	uint64_t fill, take, drain;
	pthread_t th[PGZ_MAX_THREADS];
	int n_started;
	pthread_mutex_t mu;
	pthread_cond_t work, done;
	bool stop;
	z_stream strm; /* the calling thread's, when there are no workers */
	bool strm_ok;
	unsigned char tail[PGZ_DICT]; /* the last 32 KiB of the previous chunk */
	size_t n_tail;
	uLong crc;
	uint64_t total;
	bool header_done, finished;
};

static int deflate_init(z_stream *s, int level)
{
	memset(s, 0, sizeof(*s));
	/* Raw deflate (-15): the gzip framing is written once, here. */
	return deflateInit2(s, level > 0 ? level : Z_DEFAULT_COMPRESSION, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY);
}

/* Deflate one chunk: its dictionary, its data, a byte-aligned end (the last
 * one ends the deflate stream). The caller publishes the state. */
static enum job_state deflate_job(struct pgz_job *j, z_stream *s)
{
	int rc = deflateReset(s);

	if (rc == Z_OK && j->n_dict)
		rc = deflateSetDictionary(s, j->dict, (uInt)j->n_dict);
	if (rc == Z_OK) {
		s->next_in = j->in;
		s->avail_in = (uInt)j->n_in;
		s->next_out = j->out;
		s->avail_out = PGZ_OUT_CAP;
		rc = deflate(s, j->last ? Z_FINISH : Z_SYNC_FLUSH);
		if (j->last ? rc == Z_STREAM_END : rc == Z_OK && s->avail_in == 0 && s->avail_out > 0)
			rc = Z_OK;
		else if (rc == Z_OK)
			rc = Z_BUF_ERROR;
	}
	j->n_out = PGZ_OUT_CAP - s->avail_out;
	j->crc = crc32(0, j->in, (uInt)j->n_in);
	j->zrc = rc;
	return rc == Z_OK ? JOB_DONE : JOB_FAILED;
}

static void *worker(void *arg)
{
	struct pgz *z = arg;
	z_stream s;
	int init = deflate_init(&s, z->level);

	pthread_mutex_lock(&z->mu);
	for (;;) {
		while (!z->stop && z->take == z->fill)
			pthread_cond_wait(&z->work, &z->mu);
		if (z->stop)
			break;
		struct pgz_job *j = &z->jobs[z->take % z->n_jobs];
		z->take++;
		pthread_mutex_unlock(&z->mu);
		enum job_state st = JOB_FAILED;
		if (init == Z_OK)
			st = deflate_job(j, &s);
		else
			j->zrc = init;
		pthread_mutex_lock(&z->mu);
		j->state = st;
		pthread_cond_broadcast(&z->done);
	}
	pthread_mutex_unlock(&z->mu);
	if (init == Z_OK)
		deflateEnd(&s);
	return NULL;
}

int pgz_open(struct pgz **out, int level, int threads, pgz_sink_fn sink, void *ctx, struct err *e)
{
	struct pgz *z = calloc(1, sizeof(*z));

	*out = NULL;
	if (!z)
		return err_oom(e);
	z->level = level;
	z->sink = sink;
	z->ctx = ctx;
	z->n_threads = threads < 2 ? 0 : threads > PGZ_MAX_THREADS ? PGZ_MAX_THREADS : threads;
	/* Enough chunks that every worker has one queued while the caller fills
	 * the next and the oldest waits to be written. */
	z->n_jobs = z->n_threads ? (size_t)z->n_threads * 2 + 2 : 1;
	z->crc = crc32(0, NULL, 0);
	pthread_mutex_init(&z->mu, NULL);
	pthread_cond_init(&z->work, NULL);
	pthread_cond_init(&z->done, NULL);
	z->jobs = calloc(z->n_jobs, sizeof(*z->jobs));
	if (!z->jobs) {
		pgz_free(z);
		return err_oom(e);
	}
	if (!z->n_threads) {
		int rc = deflate_init(&z->strm, level);
		z->strm_ok = rc == Z_OK;
		if (!z->strm_ok) {
			pgz_free(z);
			return rc == Z_MEM_ERROR ? err_oom(e) : err_set(e, ERR_INTERNAL, "gzip: deflateInit2: %d", rc);
		}
	}
	for (int i = 0; i < z->n_threads; i++) {
		if (pthread_create(&z->th[i], NULL, worker, z) != 0)
			break;
		z->n_started++;
	}
	if (z->n_threads && !z->n_started) {
		pgz_free(z);
		return err_set(e, ERR_INTERNAL, "gzip: no compression thread could start");
	}
	*out = z;
	return 0;
}

static int put_header(struct pgz *z, struct err *e)
{
	/* ID1 ID2 CM=deflate FLG=0 MTIME=0 XFL OS=unix, as gzip -n writes. */
	unsigned char h[10] = { 0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3 };

	h[8] = z->level == 9 ? 2 : z->level == 1 ? 4 : 0;
	z->header_done = true;
	return z->sink(z->ctx, h, sizeof(h), e);
}

/* Write the oldest chunk once it is compressed (wait: block for it). 1 when
 * one was written, 0 when none was ready, -1 on error. */
static int drain_one(struct pgz *z, bool wait, struct err *e)
{
	struct pgz_job *j = &z->jobs[z->drain % z->n_jobs];

	pthread_mutex_lock(&z->mu);
	while (wait && z->drain < z->fill && j->state == JOB_QUEUED)
		pthread_cond_wait(&z->done, &z->mu);
	bool ready = z->drain < z->fill && j->state != JOB_QUEUED;
	pthread_mutex_unlock(&z->mu);
	if (!ready)
		return 0;
	if (j->state == JOB_FAILED)
		return j->zrc == Z_MEM_ERROR ? err_oom(e) : err_set(e, ERR_INTERNAL, "gzip: deflate: %d", j->zrc);
	if (!z->header_done && put_header(z, e) < 0)
		return -1;
	if (z->sink(z->ctx, j->out, j->n_out, e) < 0)
		return -1;
	z->crc = crc32_combine(z->crc, j->crc, (z_off_t)j->n_in);
	z->total += j->n_in;
	j->n_in = 0;
	j->state = JOB_FREE;
	pthread_mutex_lock(&z->mu);
	z->drain++;
	pthread_mutex_unlock(&z->mu);
	return 1;
}

/* Hand the chunk being filled to a worker (or deflate it here). */
static int submit(struct pgz *z, bool last, struct err *e)
{
	struct pgz_job *j = &z->jobs[z->fill % z->n_jobs];

	memcpy(j->dict, z->tail, z->n_tail);
	j->n_dict = z->n_tail;
	j->last = last;
	if (j->n_in >= PGZ_DICT) {
		memcpy(z->tail, j->in + j->n_in - PGZ_DICT, PGZ_DICT);
		z->n_tail = PGZ_DICT;
	}
	if (!z->n_threads) {
		j->state = deflate_job(j, &z->strm);
		z->fill++;
		return drain_one(z, true, e) < 0 ? -1 : 0;
	}
	pthread_mutex_lock(&z->mu);
	j->state = JOB_QUEUED;
	z->fill++;
	pthread_cond_signal(&z->work);
	pthread_mutex_unlock(&z->mu);
	/* Write what is ready; block only when the ring is full. */
	int r;
	while ((r = drain_one(z, z->fill - z->drain >= z->n_jobs, e)) == 1)
		;
	return r;
}

int pgz_write(struct pgz *z, const void *p, size_t n, struct err *e)
{
	const unsigned char *s = p;

	while (n > 0) {
		struct pgz_job *j = &z->jobs[z->fill % z->n_jobs];
		if (!j->in) {
			j->in = malloc(PGZ_CHUNK);
			j->out = malloc(PGZ_OUT_CAP);
			if (!j->in || !j->out)
				return err_oom(e);
		}
		size_t k = PGZ_CHUNK - j->n_in;
		if (k > n)
			k = n;
		memcpy(j->in + j->n_in, s, k);
		j->n_in += k;
		s += k;
		n -= k;
		if (j->n_in == PGZ_CHUNK && submit(z, false, e) < 0)
			return -1;
	}
	return 0;
}

int pgz_finish(struct pgz *z, struct err *e)
{
	struct pgz_job *j = &z->jobs[z->fill % z->n_jobs];
	unsigned char t[8];

	if (z->finished)
		return err_set(e, ERR_INTERNAL, "gzip: already finished");
	if (!j->in) {
		j->in = malloc(PGZ_CHUNK);
		j->out = malloc(PGZ_OUT_CAP);
		if (!j->in || !j->out)
			return err_oom(e);
	}
	if (submit(z, true, e) < 0)
		return -1;
	while (z->drain < z->fill)
		if (drain_one(z, true, e) < 0)
			return -1;
	z->finished = true;
	for (int i = 0; i < 4; i++) {
		t[i] = (unsigned char)(z->crc >> (8 * i));
		t[4 + i] = (unsigned char)(z->total >> (8 * i)); /* ISIZE: the length mod 2^32 */
	}
	return z->sink(z->ctx, t, sizeof(t), e);
}

void pgz_free(struct pgz *z)
{
	if (!z)
		return;
	pthread_mutex_lock(&z->mu);
	z->stop = true;
	pthread_cond_broadcast(&z->work);
	pthread_mutex_unlock(&z->mu);
	for (int i = 0; i < z->n_started; i++)
		pthread_join(z->th[i], NULL);
	if (z->strm_ok)
		deflateEnd(&z->strm);
	for (size_t i = 0; z->jobs && i < z->n_jobs; i++) {
		free(z->jobs[i].in);
		free(z->jobs[i].out);
	}
	free(z->jobs);
	pthread_mutex_destroy(&z->mu);
	pthread_cond_destroy(&z->work);
	pthread_cond_destroy(&z->done);
	free(z);
}
