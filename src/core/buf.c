#include "core/buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char buf_empty[1];

void buf_init(struct buf *b, size_t max)
{
	b->data = buf_empty;
	b->len = 0;
	b->alloc = 0;
	b->max = max;
}

void buf_free(struct buf *b)
{
	if (b->alloc)
		free(b->data);
	buf_init(b, b->max);
}

void buf_cleanup(struct buf *b)
{
	buf_free(b);
}

void buf_reset(struct buf *b)
{
	b->len = 0;
	if (b->alloc)
		b->data[0] = 0;
}

static size_t cap_of(const struct buf *b)
{
	return b->max ? b->max : BUF_CAP_DEFAULT;
}

static int grow(struct buf *b, size_t extra, struct err *e)
{
	size_t need, n;
	char *p;

	if (extra > cap_of(b) || b->len > cap_of(b) - extra)
		return err_set(e, ERR_INPUT, "content exceeds %zu bytes", cap_of(b));
	need = b->len + extra + 1;
	if (need <= b->alloc)
		return 0;
	n = b->alloc ? b->alloc : 64;
	while (n < need)
		n *= 2;
	p = b->alloc ? realloc(b->data, n) : malloc(n);
	if (!p)
		return err_oom(e);
	if (!b->alloc)
		p[0] = 0;
	b->data = p;
	b->alloc = n;
	return 0;
}

int buf_add(struct buf *b, const void *p, size_t n, struct err *e)
{
	if (grow(b, n, e) < 0)
		return -1;
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = 0;
	return 0;
}

int buf_adds(struct buf *b, const char *s, struct err *e)
{
	return buf_add(b, s, strlen(s), e);
}

int buf_addf(struct buf *b, struct err *e, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return err_set(e, ERR_INTERNAL, "format error");
	if (grow(b, (size_t)n, e) < 0)
		return -1;
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

char *buf_detach(struct buf *b, size_t *len)
{
	char *p = b->alloc ? b->data : calloc(1, 1);

	if (len)
		*len = p ? b->len : 0;
	buf_init(b, b->max);
	return p;
}
