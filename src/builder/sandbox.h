/* RUN sandbox: namespaces (user when not root, mount, PID, UTS, IPC and
 * optionally network) around an overlayfs whose lower dir is the stage's
 * root file system and whose upper dir collects the changes. No external
 * runtime. */
#ifndef BOSUN_BUILD_SANDBOX_H
#define BOSUN_BUILD_SANDBOX_H

#include <stdbool.h>
#include <sys/types.h>
#include "core/err.h"

struct sb_mount {
	char *src; /* host path */
	char *dst; /* absolute path inside the container */
	bool readonly, is_file;
};

struct sandbox_opts {
	const char *lower, *upper, *work, *merged;
	char **argv, **envp;
	uid_t uid;
	gid_t gid;
	const char *workdir;
	bool network_none;
	struct sb_mount *mounts;
	size_t n_mounts;
};

/* Runs argv; *status is the command's exit code (128+N for signal N).
 * -1 when the command never ran, with the reason the sandbox's children sent
 * back: ERR_INPUT when the image lacks it ("exec: /bin/sh: no such file or
 * directory", a WORKDIR that cannot be made), ERR_INTERNAL when the sandbox
 * itself could not be set up (namespaces, mounts). */
int sandbox_run(const struct sandbox_opts *o, int *status, struct err *e);
/* Paths (relative, no leading '/') that sandbox_run creates as mount points
 * when they are missing: remove them from the upper dir afterwards. */
int sandbox_cleanup_upper(const struct sandbox_opts *o, const char *lower, struct err *e);

#endif
