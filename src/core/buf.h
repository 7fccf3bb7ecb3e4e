/* Growable byte string with a size cap. data is never NULL and always
 * NUL-terminated (like git's strbuf). */
#ifndef BOSUN_CORE_BUF_H
#define BOSUN_CORE_BUF_H

#include <stddef.h>
#include "core/err.h"

#define BUF_CAP_MANIFEST (4u << 20)  /* manifests, indexes, configs */
#define BUF_CAP_TOKEN (64u << 10)    /* auth tokens */
#define BUF_CAP_ERRBODY (64u << 10)  /* JSON error bodies */
#define BUF_CAP_DEFAULT (64u << 20)

struct buf {
	char *data;
	size_t len;
	size_t alloc;
	size_t max; /* 0 = BUF_CAP_DEFAULT */
};

extern char buf_empty[];
#define BUF_INIT { buf_empty, 0, 0, 0 }

void buf_init(struct buf *b, size_t max);
void buf_free(struct buf *b);
void buf_reset(struct buf *b);
/* Appends fail with ERR_INPUT "... exceeds N bytes" when the cap would be passed. */
int buf_add(struct buf *b, const void *p, size_t n, struct err *e);
int buf_adds(struct buf *b, const char *s, struct err *e);
int buf_addf(struct buf *b, struct err *e, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Detach the data (caller frees); the buf is reset to empty. */
char *buf_detach(struct buf *b, size_t *len);
/* Free on scope exit: struct buf b __attribute__((cleanup(buf_cleanup))) = BUF_INIT; */
void buf_cleanup(struct buf *b);

#endif
