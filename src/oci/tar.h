/* Tar streams, byte for byte. Names, link targets, user and group names and
 * xattr names are bytes: nothing here converts a character set or looks at
 * the locale, so a name that is not valid UTF-8 round-trips unchanged.
 *
 * Reader: POSIX ustar (name + prefix), GNU (L/K long names and link
 * targets, base-256 numbers), PAX local and global headers (path,
 * linkpath, size, uid, gid, uname, gname, mtime, SCHILY.xattr.*,
 * LIBARCHIVE.xattr.*). Compressed input (gzip, zstd, xz, bzip2) is
 * decompressed as a plain byte stream by libarchive's raw reader.
 *
 * Writer: ustar headers, plus one PAX header before an entry whose path,
 * link target, names or numbers do not fit ustar, that are not ASCII, or
 * that carries xattrs (as Go's archive/tar, and so buildah, does).
 * Records in a fixed order, so the same entries give the same bytes. */
#ifndef BOSUN_OCI_TAR_H
#define BOSUN_OCI_TAR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "core/err.h"

enum tar_type {
	TAR_REG = '0',
	TAR_LINK = '1', /* hard link: linkname is the target member */
	TAR_SYMLINK = '2',
	TAR_CHR = '3',
	TAR_BLK = '4',
	TAR_DIR = '5',
	TAR_FIFO = '6',
};

struct tar_xattr {
	const char *name;
	const unsigned char *value;
	size_t len;
};

struct tar_entry {
	const char *path;     /* as stored (NUL-terminated; a NUL inside a name is refused) */
	const char *linkname; /* hard link or symlink target, "" for other types */
	const char *uname, *gname;
	int type;      /* enum tar_type */
	uint32_t mode; /* permission bits, 07777 */
	int64_t uid, gid;
	int64_t size;  /* data bytes that follow (0 for every type but TAR_REG) */
	int64_t mtime; /* seconds */
	uint32_t devmajor, devminor;
	const struct tar_xattr *xattrs;
	size_t n_xattrs;
};

/* ----------------------------------------------------------------- reader */

/* Source of the (uncompressed) tar bytes: returns bytes read, 0 at the end,
 * -1 with e set on error. */
typedef ssize_t (*tar_read_fn)(void *ctx, void *buf, size_t n, struct err *e);

struct tar_reader;

/* A reader over fn. */
struct tar_reader *tar_reader_new(tar_read_fn fn, void *ctx, struct err *e);
/* A reader over the file at path, decompressed whatever its compression. */
struct tar_reader *tar_reader_open(const char *path, struct err *e);
/* A reader over n bytes at p (not copied; they must outlive the reader). */
struct tar_reader *tar_reader_mem(const void *p, size_t n, struct err *e);
void tar_reader_free(struct tar_reader *r);

/* Next entry: 1 and *ent set (valid until the next call), 0 at the end of
 * the archive, -1 with ERR_INPUT for a malformed or truncated tar. Unread
 * data of the previous entry is skipped. */
int tar_next(struct tar_reader *r, const struct tar_entry **ent, struct err *e);
/* Data of the current entry: bytes read (0 at its end), -1 on error. */
ssize_t tar_read_data(struct tar_reader *r, void *buf, size_t n, struct err *e);
/* Uncompressed bytes consumed so far (headers and data). */
uint64_t tar_reader_offset(const struct tar_reader *r);

/* ----------------------------------------------------------------- writer */

/* Sink of the tar bytes: 0, or -1 with e set. */
typedef int (*tar_write_fn)(void *ctx, const void *p, size_t n, struct err *e);

struct tar_writer {
	tar_write_fn fn;
	void *ctx;
	int64_t data_left; /* of the entry being written */
	uint32_t pad;	   /* zero bytes due after its data */
	uint64_t written;
};

void tar_writer_init(struct tar_writer *w, tar_write_fn fn, void *ctx);
/* Header of the next entry (the previous entry's data must be complete).
 * ERR_INPUT when the entry cannot be represented (a NUL or '=' where it
 * cannot be, a negative size). */
int tar_write_header(struct tar_writer *w, const struct tar_entry *h, struct err *e);
/* Data of the current entry; at most what its header announced. Padding
 * is added when the last byte is written. */
int tar_write_data(struct tar_writer *w, const void *p, size_t n, struct err *e);
/* End of archive: two zero blocks. */
int tar_write_end(struct tar_writer *w, struct err *e);

#endif
