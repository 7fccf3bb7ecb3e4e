/* File system helpers. Every file bosun writes is written to a temporary
 * name in the same directory (hidden: ".NAME.tmp-XXXXXX"), fsynced and
 * renamed into place. */
#ifndef BOSUN_CORE_FS_H
#define BOSUN_CORE_FS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include "core/buf.h"
#include "core/err.h"

int fs_mkdir_p(const char *path, int mode, struct err *e);
/* Read a whole file into b, failing with ERR_INPUT when bigger than max. */
int fs_read_file(const char *path, struct buf *b, size_t max, struct err *e);
/* Atomic write: tmp file + fsync + rename. mode e.g. 0644. */
int fs_write_atomic(const char *path, const void *p, size_t n, int mode, struct err *e);

/* Atomic writer for streamed content. A path that names a device, FIFO or
 * socket (/dev/null, /dev/stdout, a pipe) is written in place: renaming a
 * file over it would replace the host's device node. A symlink to a regular
 * file is followed, so the link stays and its target is replaced. */
struct fs_atomic {
	FILE *f;
	char *path;
	char *tmp; /* NULL in direct mode */
	bool direct;
};
int fs_atomic_open(struct fs_atomic *a, const char *path, struct err *e);
int fs_atomic_commit(struct fs_atomic *a, int mode, struct err *e); /* fsync+rename, frees */
void fs_atomic_abort(struct fs_atomic *a);                          /* unlink tmp, frees; safe twice */

int fs_exists(const char *path);
/* Join with '/', caller frees (abort on OOM is not allowed: returns NULL). */
char *fs_join(const char *a, const char *b);
/* mkdtemp under $TMPDIR (or /tmp): returns malloc'd path. */
char *fs_mkdtemp(const char *prefix, struct err *e);
/* Mark a work directory from fs_mkdtemp as in use: creates DIR/.bosun-lock
 * and holds an exclusive flock on it until the returned descriptor is
 * closed (or the process dies, kill -9 included). */
int fs_tmpdir_lock(const char *dir, struct err *e);
/* Remove what killed runs left under $TMPDIR: directories PREFIX-XXXXXX
 * owned by this user whose lock is free. A directory without a lock file
 * (an older bosun, or a run killed between mkdtemp and lock) is removed
 * only when untouched for a day. Best effort; returns how many went. */
int fs_tmpdir_sweep(const char *prefix);
/* rm -rf that never follows symlinks. */
int fs_rm_rf(const char *path, struct err *e);

#endif
