/* Paths inside a root: lexical cleaning, resolution that cannot leave the
 * root, glob expansion. */
#include <limits.h>
#include <dirent.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "builder/internal.h"
#include "core/util.h"
#include "oci/layer.h"

/* Lexically clean a relative path; false when it climbs out of its root. */
bool clean_rel(const char *in, char *out, size_t outsz)
{
	size_t o = 0;
	const char *s = in;

	while (*s) {
		while (*s == '/')
			s++;
		size_t l = strcspn(s, "/");
		if (l == 0)
			break;
		if (l == 1 && s[0] == '.') {
		} else if (l == 2 && s[0] == '.' && s[1] == '.') {
			if (o == 0)
				return false;
			while (o > 0 && out[o - 1] != '/')
				o--;
			if (o > 0)
				o--;
		} else {
			if (!path_append(out, &o, outsz, s, l))
				return false;
		}
		s += l;
	}
	out[o] = 0;
	return true;
}

/* Real path of rel resolved inside root (symlinks cannot leave it). */
char *resolve_in(const char *root, const char *rel, struct err *e)
{
	int rfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	int fd;
	char pp[64], real[PATH_MAX];
	ssize_t n;

	if (rfd < 0)
		return (void)err_errno(e, ERR_INTERNAL, "open %s", root), NULL;
	fd = oci_root_open(rfd, rel, O_PATH, 0);
	close(rfd);
	if (fd < 0)
		return (void)err_set(e, ERR_INPUT, "\"%s\": not found", rel), NULL;
	snprintf(pp, sizeof(pp), "/proc/self/fd/%d", fd);
	n = readlink(pp, real, sizeof(real) - 1);
	close(fd);
	if (n < 0)
		return (void)err_errno(e, ERR_INTERNAL, "readlink"), NULL;
	real[n] = 0;
	return xstrdup_e(real, e);
}

bool has_glob(const char *s)
{
	return strpbrk(s, "*?[") != NULL;
}

/* Append "dir/name" ("name" when dir is empty) to *next (*nn entries). */
static int push_path(char ***next, size_t *nn, const char *dir, const char *name, struct err *e)
{
	char *p = xasprintf_e(e, "%s%s%s", dir, *dir ? "/" : "", name);
	char **t = realloc(*next, (*nn + 2) * sizeof(char *));
	if (!p || !t) {
		free(p);
		free(t);
		return err_oom(e);
	}
	*next = t;
	(*next)[(*nn)++] = p;
	return 0;
}

/* Expand a glob pattern (relative to root) into matching relative paths. */
int glob_in(const char *root, const char *pat, char ***out, size_t *n, struct err *e)
{
	char **cur = NULL, **next = NULL;
	size_t nc = 0, nn = 0;
	const char *s = pat;

	if (df_strv_free(NULL, 0), 1) {
		cur = calloc(2, sizeof(char *));
		if (!cur)
			return err_oom(e);
		cur[0] = strdup("");
		nc = 1;
	}
	while (*s) {
		size_t l = strcspn(s, "/");
		char comp[NAME_MAX + 1];
		snprintf(comp, sizeof(comp), "%.*s", (int)l, s);
		s += l;
		while (*s == '/')
			s++;
		if (!l)
			continue;
		next = NULL;
		nn = 0;
		for (size_t i = 0; i < nc; i++) {
			if (!has_glob(comp)) {
				if (push_path(&next, &nn, cur[i], comp, e) < 0) {
					df_strv_free(cur, nc);
					return -1;
				}
				continue;
			}
			char *real = resolve_in(root, *cur[i] ? cur[i] : ".", e);
			DIR *d = real ? opendir(real) : NULL;
			struct dirent *de;
			free(real);
			err_clear(e);
			while (d && (de = readdir(d))) {
				if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
					continue;
				if (fnmatch(comp, de->d_name, 0) != 0)
					continue;
				if (push_path(&next, &nn, cur[i], de->d_name, e) < 0) {
					closedir(d);
					df_strv_free(cur, nc);
					return -1;
				}
			}
			if (d)
				closedir(d);
		}
		df_strv_free(cur, nc);
		cur = next;
		nc = nn;
	}
	/* Sorted for deterministic layers. */
	for (size_t i = 1; i < nc; i++)
		for (size_t j = i; j > 0 && strcmp(cur[j - 1], cur[j]) > 0; j--) {
			char *t = cur[j];
			cur[j] = cur[j - 1];
			cur[j - 1] = t;
		}
	*out = cur;
	*n = nc;
	return 0;
}
