/* The tar codec on any input: the reader never reads past its input or
 * crashes, and every entry it returns survives the writer and a second
 * read with the same path, link target, names, numbers and xattrs (names
 * are bytes: no entry may change on the way through). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "oci/tar.h"

static int sink(void *ctx, const void *p, size_t n, struct err *e)
{
	return buf_add(ctx, p, n, e);
}

static void same(const struct tar_entry *a, const struct tar_entry *b)
{
	if (strcmp(a->path, b->path) || strcmp(a->linkname, b->linkname) || strcmp(a->uname, b->uname) ||
	    strcmp(a->gname, b->gname) || a->type != b->type || a->mode != b->mode || a->uid != b->uid ||
	    a->gid != b->gid || a->mtime != b->mtime || a->size != b->size || a->n_xattrs != b->n_xattrs)
		abort();
	/* the writer sorts xattrs by name; the reader keeps their order */
	for (size_t i = 0; i < a->n_xattrs; i++) {
		size_t j = 0;
		while (j < b->n_xattrs && strcmp(a->xattrs[i].name, b->xattrs[j].name))
			j++;
		if (j == b->n_xattrs || a->xattrs[i].len != b->xattrs[j].len ||
		    memcmp(a->xattrs[i].value, b->xattrs[j].value, a->xattrs[i].len))
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	struct err e = ERR_INIT;
	struct tar_reader *r = tar_reader_mem(d, n, &e);
	const struct tar_entry *t;
	char data[4096];

	if (!r)
		return 0;
	while (tar_next(r, &t, &e) == 1) {
		struct buf out = BUF_INIT;
		struct tar_writer w;
		struct err e2 = ERR_INIT;
		struct tar_entry copy = *t;

		copy.size = 0; /* the data is not carried over: only the header */
		tar_writer_init(&w, sink, &out);
		if (tar_write_header(&w, &copy, &e2) == 0 && tar_write_end(&w, &e2) == 0) {
			struct tar_reader *r2 = tar_reader_mem(out.data, out.len, &e2);
			const struct tar_entry *t2;
			if (!r2 || tar_next(r2, &t2, &e2) != 1)
				abort();
			same(&copy, t2);
			tar_reader_free(r2);
		}
		buf_free(&out);
		ssize_t k;
		while ((k = tar_read_data(r, data, sizeof(data), &e)) > 0)
			;
		if (k < 0)
			break;
	}
	tar_reader_free(r);
	return 0;
}
