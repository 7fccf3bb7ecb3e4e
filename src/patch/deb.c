/* Distroless images (dpkg data in var/lib/dpkg/status.d/, no dpkg or apt):
 * a tooling root of the same release (--tool-image) runs apt-get download
 * for the packages that have a newer version; bosun then reads each .deb
 * (ar, control.tar, data.tar) and writes its files and the status.d entry
 * itself. Paths are resolved inside the image's root (its symlinks, such as
 * /lib -> usr/lib, are followed and never replaced by a directory), so the
 * patch layer holds exactly what a dpkg run would have changed, less the
 * files an older version had and the new one dropped. Dependencies are not
 * resolved: a fix that needs a package the image lacks is not installed. */
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/fs.h"
#include "core/log.h"
#include "core/util.h"
#include "image/image.h"
#include "image/location.h"
#include "oci/desc.h"
#include "oci/layer.h"
#include "oci/layout.h"
#include "oci/manifest.h"
#include "oci/tar.h"
#include "patch/internal.h"
#include "scan/version.h"

#define DEB_MAX_MEMBER (2ull << 30)

struct written {
	char **v;
	size_t n, alloc;
};

static int written_add(struct written *w, const char *rel, struct err *e)
{
	if (w->n == w->alloc) {
		size_t na = w->alloc ? w->alloc * 2 : 256;
		char **t = realloc(w->v, na * sizeof(char *));
		if (!t)
			return err_oom(e);
		w->v = t;
		w->alloc = na;
	}
	if (!(w->v[w->n] = strdup(rel)))
		return err_oom(e);
	w->n++;
	return 0;
}

static void written_free(struct written *w)
{
	for (size_t i = 0; i < w->n; i++)
		free(w->v[i]);
	free(w->v);
}

/* ------------------------------------------------------------ tooling root */

static int tool_root(struct patch_image *p, char **out, struct err *e)
{
	char def[128], digest[72], mt[128];
	const char *ref = p->o->tool_image;
	struct buf mb __attribute__((cleanup(buf_cleanup))) = BUF_INIT;
	struct oci_manifest m;

	if (!ref) {
		snprintf(def, sizeof(def), "docker.io/library/%s:%s%s", p->os.id, p->os.version_id,
			 strcmp(p->os.id, "debian") == 0 ? "-slim" : "");
		ref = def;
	}
	log_info("patch: tooling root %s", ref);
	if (patch_stage_image(p, ref, p->platform, "tool", digest, mt, e) < 0 ||
	    oci_layout_read_blob(p->lay, digest, &mb, BUF_CAP_MANIFEST, e) < 0 ||
	    oci_manifest_parse(&m, mb.data, mb.len, mt, e) < 0)
		return err_prefix(e, "--tool-image %s", ref);
	const char **dg = calloc(m.n_layers + 1, sizeof(char *));
	char *root = xasprintf_e(e, "%s/tool", p->work);
	int r = dg && root ? 0 : (dg ? -1 : err_oom(e));
	for (size_t i = 0; r == 0 && i < m.n_layers; i++)
		dg[i] = m.layers[i].digest;
	if (r == 0)
		r = patch_unpack(p, dg, m.n_layers, root, e);
	free(dg);
	oci_manifest_free(&m);
	if (r < 0) {
		free(root);
		return err_prefix(e, "--tool-image %s", ref);
	}
	*out = root;
	return 0;
}

/* In the tooling root: update with the run's sources, then download every
 * package whose candidate is newer than the version the image has. */
static const char dl_script[] =
    "io=/.bosun-patch\n"
    "command -v apt-get >/dev/null && command -v dpkg >/dev/null || exit 12\n"
    "apt-get -q -o APT::Update::Error-Mode=any update >$io/update.log 2>&1 || exit 10\n"
    "grep -Eq '^(W|E): (Failed to fetch|Some index files failed)' $io/update.log && exit 10\n"
    "cd /.bosun-debs || exit 13\n"
    ": >$io/install.log\n"
    "for a; do n=${a%%=*}; v=${a#*=}\n"
    "  c=$(apt-cache show --no-all-versions \"$n\" 2>/dev/null | sed -n 's/^Version: //p' | head -n 1)\n"
    "  [ -n \"$c\" ] || continue\n"
    "  dpkg --compare-versions \"$c\" gt \"$v\" || continue\n"
    "  apt-get -q download \"$n=$c\" >>$io/install.log 2>&1 || exit 11\n"
    "done\n"
    "exit 0\n";

static int download(struct patch_image *p, const struct patch_wants *w, const char *debs, struct err *e)
{
	char *tool = NULL, *tupper = NULL;
	char **args = NULL;
	size_t na = 0, cap = p->o->all ? p->before.n : w->n;
	int status = 0, ret = -1;

	if (tool_root(p, &tool, e) < 0)
		return -1;
	if (!(args = calloc(cap + 1, sizeof(char *))))
		goto oom;
	for (size_t i = 0; i < cap; i++) {
		const struct dpkg_ent *d = p->o->all ? &p->before.v[i] : dpkg_db_find(&p->before, w->v[i].name);
		if (!d || !d->installed || !patch_valid_name(d->name))
			continue;
		if (!(args[na++] = xasprintf_e(e, "%s=%s", d->name, d->version)))
			goto out;
	}
	if (!(tupper = xasprintf_e(e, "%s/tool-upper", p->work)) || mkdir(tupper, 0755) < 0) {
		if (tupper)
			err_errno(e, ERR_INTERNAL, "mkdir %s", tupper);
		goto out;
	}
	log_info("patch: downloading newer versions of %zu package%s in the tooling root", na, na == 1 ? "" : "s");
	if (apt_sandbox(p, tool, tupper, dl_script, args, na, debs, "/.bosun-debs", &status, e) < 0)
		goto out;
	if (status == 10 || status == 11) {
		apt_failure(p, status == 10 ? "update" : "download", e);
		goto out;
	}
	if (status == 12) {
		err_set(e, ERR_INPUT, "the tooling root has no apt-get and dpkg (--tool-image)");
		goto out;
	}
	if (status != 0) {
		err_set(e, ERR_INPUT, "the tooling root's run ended with code %d", status);
		goto out;
	}
	ret = 0;
	goto out;
oom:
	err_oom(e);
out:
	if (args)
		for (size_t i = 0; i < na; i++)
			free(args[i]);
	free(args);
	free(tupper);
	if (tool) {
		struct err e2 = ERR_INIT;
		fs_rm_rf(tool, &e2);
	}
	free(tool);
	return ret;
}

/* ------------------------------------------------------------ reading a .deb */

struct deb {
	char *control, *md5sums; /* NUL-terminated texts (md5sums may be NULL) */
	char data[4200];	 /* the data.tar member, extracted */
};

static int member_to_file(struct archive *a, const char *path, struct err *e)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	char buf[65536];
	la_ssize_t n;
	unsigned long long total = 0;

	if (fd < 0)
		return err_errno(e, ERR_INTERNAL, "create %s", path);
	while ((n = archive_read_data(a, buf, sizeof(buf))) > 0) {
		total += (unsigned long long)n;
		if (total > DEB_MAX_MEMBER || write(fd, buf, (size_t)n) != n) {
			close(fd);
			return total > DEB_MAX_MEMBER ? err_set(e, ERR_INPUT, "a .deb member over 2 GiB")
						      : err_errno(e, ERR_INTERNAL, "write %s", path);
		}
	}
	close(fd);
	return n < 0 ? err_set(e, ERR_INPUT, "read .deb: %s", archive_error_string(a)) : 0;
}

static int control_texts(struct deb *d, const char *path, struct err *e)
{
	struct tar_reader *r = tar_reader_open(path, e);
	const struct tar_entry *ent;
	int rc;

	if (!r)
		return -1;
	while ((rc = tar_next(r, &ent, e)) == 1) {
		const char *n = ent->path;
		while (n[0] == '.' && n[1] == '/')
			n += 2;
		char **dst = strcmp(n, "control") == 0 ? &d->control : strcmp(n, "md5sums") == 0 ? &d->md5sums : NULL;
		if (!dst || ent->type != TAR_REG)
			continue;
		if (ent->size > (16 << 20)) {
			rc = err_set(e, ERR_INPUT, ".deb: %s is over 16 MiB", n);
			break;
		}
		free(*dst);
		if (!(*dst = calloc(1, (size_t)ent->size + 1))) {
			rc = err_oom(e);
			break;
		}
		size_t got = 0;
		ssize_t k;
		while (got < (size_t)ent->size && (k = tar_read_data(r, *dst + got, (size_t)ent->size - got, e)) > 0)
			got += (size_t)k;
		if (got != (size_t)ent->size) {
			rc = err_set(e, ERR_INPUT, ".deb: %s is truncated", n);
			break;
		}
	}
	tar_reader_free(r);
	if (rc < 0)
		return -1;
	return d->control ? 0 : err_set(e, ERR_INPUT, ".deb has no control file");
}

static int deb_read(struct deb *d, const char *path, const char *tmpdir, struct err *e)
{
	struct archive *a = archive_read_new();
	struct archive_entry *ae;
	char ctl[4200];
	int r, ret = -1;
	bool have_ctl = false, have_data = false;

	memset(d, 0, sizeof(*d));
	if (!a)
		return err_oom(e);
	archive_read_support_format_ar(a);
	archive_read_support_filter_none(a);
	if (archive_read_open_filename(a, path, 65536) != ARCHIVE_OK) {
		err_set(e, ERR_INPUT, "%s: %s", path, archive_error_string(a));
		goto out;
	}
	while ((r = archive_read_next_header(a, &ae)) == ARCHIVE_OK) {
		const char *n = archive_entry_pathname(ae);
		if (!n)
			continue;
		if (str_starts(n, "control.tar")) {
			snprintf(ctl, sizeof(ctl), "%s/control.tar", tmpdir);
			if (member_to_file(a, ctl, e) < 0)
				goto out;
			have_ctl = true;
		} else if (str_starts(n, "data.tar")) {
			snprintf(d->data, sizeof(d->data), "%s/data.tar", tmpdir);
			if (member_to_file(a, d->data, e) < 0)
				goto out;
			have_data = true;
		}
	}
	if (r != ARCHIVE_EOF) {
		err_set(e, ERR_INPUT, "%s: %s", path, archive_error_string(a));
		goto out;
	}
	if (!have_ctl || !have_data) {
		err_set(e, ERR_INPUT, "%s: not a Debian package (no control.tar or data.tar)", path);
		goto out;
	}
	ret = control_texts(d, ctl, e);
out:
	archive_read_free(a);
	return ret;
}

static void deb_free(struct deb *d)
{
	free(d->control);
	free(d->md5sums);
}

/* ------------------------------------------------------------ writing files */

struct applier {
	int rootfd;
	char root[PATH_MAX];
	size_t root_len;
	bool chown;
	struct written *w;
};

/* dir's path relative to the root, symlinks resolved (the kernel's name
 * for the open directory). */
static int rel_of(const struct applier *ap, int dirfd, char *out, size_t cap, struct err *e)
{
	char link[64], real[PATH_MAX];
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", dirfd);
	if ((n = readlink(link, real, sizeof(real) - 1)) < 0)
		return err_errno(e, ERR_INTERNAL, "readlink %s", link);
	real[n] = 0;
	if (strncmp(real, ap->root, ap->root_len) != 0 || (real[ap->root_len] && real[ap->root_len] != '/'))
		return err_set(e, ERR_INTERNAL, "a path left the root: %.200s", real);
	snprintf(out, cap, "%s", real[ap->root_len] == '/' ? real + ap->root_len + 1 : "");
	return 0;
}

static int copy_fd(int from, int to, struct err *e)
{
	char buf[65536];
	ssize_t n;

	while ((n = read(from, buf, sizeof(buf))) > 0)
		if (write(to, buf, (size_t)n) != n)
			return err_errno(e, ERR_INTERNAL, "write");
	return n < 0 ? err_errno(e, ERR_INTERNAL, "read") : 0;
}

static int put_entry(struct applier *ap, struct tar_reader *tr, const struct tar_entry *ent, const char *name,
		     struct err *e)
{
	char parent[PATH_MAX], rel[PATH_MAX];
	const char *slash = strrchr(name, '/'), *base = slash ? slash + 1 : name;
	struct stat st;
	int pfd, fd, ret = -1;

	snprintf(parent, sizeof(parent), "%.*s", slash ? (int)(slash - name) : 0, name);
	if ((pfd = oci_root_mkdir_p(ap->rootfd, parent, 0755, e)) < 0)
		return -1;
	int dfd = openat(pfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	close(pfd);
	if (dfd < 0)
		return err_errno(e, ERR_INTERNAL, "open %s", parent);
	if (rel_of(ap, dfd, rel, sizeof(rel), e) < 0)
		goto out;
	size_t rl = strlen(rel);
	snprintf(rel + rl, sizeof(rel) - rl, "%s%s", rl ? "/" : "", base);
	bool exists = fstatat(dfd, base, &st, AT_SYMLINK_NOFOLLOW) == 0;
	if (ent->type == TAR_DIR) {
		/* an existing directory, or a symlink to one, stays as it is */
		if (exists && (S_ISDIR(st.st_mode) || S_ISLNK(st.st_mode))) {
			ret = 0;
			goto out;
		}
		if (exists && unlinkat(dfd, base, 0) < 0) {
			err_errno(e, ERR_INPUT, "replace %s", rel);
			goto out;
		}
		if (mkdirat(dfd, base, ent->mode & 07777) < 0 ||
		    (ap->chown && fchownat(dfd, base, (uid_t)ent->uid, (gid_t)ent->gid, AT_SYMLINK_NOFOLLOW) < 0) ||
		    fchmodat(dfd, base, ent->mode & 07777, 0) < 0) {
			err_errno(e, ERR_INTERNAL, "mkdir %s", rel);
			goto out;
		}
	} else if (ent->type == TAR_REG || ent->type == TAR_LINK || ent->type == TAR_SYMLINK) {
		if (exists && S_ISDIR(st.st_mode)) {
			err_set(e, ERR_INPUT, "%s is a directory in the image and a file in the package", rel);
			goto out;
		}
		if (exists && unlinkat(dfd, base, 0) < 0) {
			err_errno(e, ERR_INTERNAL, "replace %s", rel);
			goto out;
		}
		if (ent->type == TAR_SYMLINK) {
			struct timespec ts[2] = { { ent->mtime, 0 }, { ent->mtime, 0 } };
			if (symlinkat(ent->linkname, dfd, base) < 0 ||
			    (ap->chown && fchownat(dfd, base, (uid_t)ent->uid, (gid_t)ent->gid, AT_SYMLINK_NOFOLLOW) < 0)) {
				err_errno(e, ERR_INTERNAL, "symlink %s", rel);
				goto out;
			}
			utimensat(dfd, base, ts, AT_SYMLINK_NOFOLLOW);
		} else {
			if ((fd = openat(dfd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600)) < 0) {
				err_errno(e, ERR_INTERNAL, "create %s", rel);
				goto out;
			}
			int r = 0;
			if (ent->type == TAR_LINK) {
				/* a hard link in the package: a copy of its target */
				const char *t = ent->linkname;
				while (t[0] == '.' && t[1] == '/')
					t += 2;
				int sfd = oci_root_open(ap->rootfd, t, O_RDONLY, 0);
				r = sfd < 0 ? err_errno(e, ERR_INPUT, "hard link %s -> %s", rel, t) : copy_fd(sfd, fd, e);
				if (sfd >= 0)
					close(sfd);
			} else {
				char buf[65536];
				ssize_t n;
				while (r == 0 && (n = tar_read_data(tr, buf, sizeof(buf), e)) > 0)
					if (write(fd, buf, (size_t)n) != n)
						r = err_errno(e, ERR_INTERNAL, "write %s", rel);
				if (n < 0)
					r = -1;
			}
			struct timespec ts[2] = { { ent->mtime, 0 }, { ent->mtime, 0 } };
			if (r == 0 && ((ap->chown && fchown(fd, (uid_t)ent->uid, (gid_t)ent->gid) < 0) ||
				       fchmod(fd, ent->mode & 07777) < 0 || futimens(fd, ts) < 0))
				r = err_errno(e, ERR_INTERNAL, "set the owner and mode of %s", rel);
			close(fd);
			if (r < 0)
				goto out;
		}
	} else {
		ret = 0; /* devices and fifos: not in packages bosun patches */
		goto out;
	}
	ret = written_add(ap->w, rel, e);
out:
	close(dfd);
	return ret;
}

static int apply_data(struct applier *ap, const char *path, struct err *e)
{
	struct tar_reader *tr = tar_reader_open(path, e);
	const struct tar_entry *ent;
	int rc;

	if (!tr)
		return -1;
	while ((rc = tar_next(tr, &ent, e)) == 1) {
		const char *n = ent->path;
		char clean[PATH_MAX];
		while (n[0] == '.' && n[1] == '/')
			n += 2;
		while (*n == '/')
			n++;
		snprintf(clean, sizeof(clean), "%s", n);
		size_t l = strlen(clean);
		while (l && clean[l - 1] == '/')
			clean[--l] = 0;
		if (!*clean || strcmp(clean, ".") == 0)
			continue;
		if (strcmp(clean, "..") == 0 || str_starts(clean, "../") || strstr(clean, "/../") ||
		    str_ends(clean, "/..")) {
			rc = err_set(e, ERR_INPUT, "a package entry leaves the root: %.200s", ent->path);
			break;
		}
		if ((rc = put_entry(ap, tr, ent, clean, e)) < 0)
			break;
	}
	tar_reader_free(tr);
	return rc < 0 ? -1 : 0;
}

/* status.d/FILE (and FILE.md5sums when the image has one) for the package. */
static int put_status(struct applier *ap, const struct dpkg_ent *old, const struct deb *d, struct err *e)
{
	char rel[700];
	struct buf b __attribute__((cleanup(buf_cleanup))) = BUF_INIT;
	int fd;

	snprintf(rel, sizeof(rel), "var/lib/dpkg/status.d/%s", old->file);
	/* the entry keeps the form it had: a Status line or none */
	bool status = old->has_status;
	const char *after_pkg = strchr(d->control, '\n');
	if (status && str_starts(d->control, "Package:") && after_pkg) {
		if (buf_add(&b, d->control, (size_t)(after_pkg + 1 - d->control), e) < 0 ||
		    buf_adds(&b, "Status: install ok installed\n", e) < 0 || buf_adds(&b, after_pkg + 1, e) < 0)
			return -1;
	} else if (buf_adds(&b, d->control, e) < 0) {
		return -1;
	}
	if (b.len && b.data[b.len - 1] != '\n' && buf_adds(&b, "\n", e) < 0)
		return -1;
	for (int pass = 0; pass < 2; pass++) {
		if (pass == 1) {
			snprintf(rel, sizeof(rel), "var/lib/dpkg/status.d/%s.md5sums", old->file);
			int t = oci_root_open(ap->rootfd, rel, O_PATH, 0);
			if (t < 0 || !d->md5sums) {
				if (t >= 0)
					close(t);
				break;
			}
			close(t);
			b.len = 0;
			if (buf_adds(&b, d->md5sums, e) < 0)
				return -1;
		}
		if ((fd = oci_root_open(ap->rootfd, rel, O_WRONLY | O_CREAT | O_TRUNC, 0644)) < 0)
			return err_errno(e, ERR_INTERNAL, "write %s", rel);
		bool ok = write(fd, b.data, b.len) == (ssize_t)b.len;
		close(fd);
		if (!ok)
			return err_errno(e, ERR_INTERNAL, "write %s", rel);
		if (written_add(ap->w, rel, e) < 0)
			return -1;
	}
	return 0;
}

/* ------------------------------------------------------------ the patch layer */

/* A copy of root's rel (no symlink in its parents: rel is resolved) into
 * upper, parents first, with their modes, owners and times. */
static int copy_up(int rootfd, int upfd, const char *rel, bool chown_ok, struct err *e)
{
	char prefix[PATH_MAX];
	size_t len = strlen(rel);

	for (size_t i = 0; i <= len; i++) {
		if (rel[i] != '/' && rel[i] != 0)
			continue;
		snprintf(prefix, sizeof(prefix), "%.*s", (int)i, rel);
		bool last = rel[i] == 0;
		struct stat st, su;
		if (fstatat(rootfd, prefix, &st, AT_SYMLINK_NOFOLLOW) < 0)
			return err_errno(e, ERR_INTERNAL, "stat %s", prefix);
		bool have = fstatat(upfd, prefix, &su, AT_SYMLINK_NOFOLLOW) == 0;
		if (have && !last)
			continue;
		if (have && S_ISDIR(su.st_mode) && S_ISDIR(st.st_mode))
			continue;
		if (have && oci_rm_at(upfd, prefix, e) < 0)
			return -1;
		struct timespec ts[2] = { st.st_mtim, st.st_mtim };
		if (S_ISDIR(st.st_mode)) {
			if (mkdirat(upfd, prefix, 0700) < 0)
				return err_errno(e, ERR_INTERNAL, "mkdir %s", prefix);
		} else if (S_ISLNK(st.st_mode)) {
			char t[PATH_MAX];
			ssize_t n = readlinkat(rootfd, prefix, t, sizeof(t) - 1);
			if (n < 0)
				return err_errno(e, ERR_INTERNAL, "readlink %s", prefix);
			t[n] = 0;
			if (symlinkat(t, upfd, prefix) < 0)
				return err_errno(e, ERR_INTERNAL, "symlink %s", prefix);
		} else if (S_ISREG(st.st_mode)) {
			int in = openat(rootfd, prefix, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
			int out = openat(upfd, prefix, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
			int r = in < 0 || out < 0 ? err_errno(e, ERR_INTERNAL, "copy %s", prefix) : copy_fd(in, out, e);
			if (in >= 0)
				close(in);
			if (out >= 0)
				close(out);
			if (r < 0)
				return -1;
		} else {
			continue;
		}
		if (chown_ok && fchownat(upfd, prefix, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) < 0)
			return err_errno(e, ERR_INTERNAL, "chown %s", prefix);
		if (!S_ISLNK(st.st_mode) && fchmodat(upfd, prefix, st.st_mode & 07777, 0) < 0)
			return err_errno(e, ERR_INTERNAL, "chmod %s", prefix);
		utimensat(upfd, prefix, ts, AT_SYMLINK_NOFOLLOW);
	}
	return 0;
}

/* Directory times last: writing into a directory moves its mtime. */
static void fix_dir_times(int rootfd, int upfd, const struct written *w)
{
	for (size_t i = w->n; i-- > 0;) {
		char p[PATH_MAX];
		snprintf(p, sizeof(p), "%s", w->v[i]);
		for (char *s = p + strlen(p); s >= p; s--) {
			if (*s != '/' && s != p)
				continue;
			if (*s == '/')
				*s = 0;
			struct stat st;
			if (*p && fstatat(rootfd, p, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode)) {
				struct timespec ts[2] = { st.st_mtim, st.st_mtim };
				utimensat(upfd, p, ts, AT_SYMLINK_NOFOLLOW);
			}
			if (s == p)
				break;
		}
	}
}

static int list_debs(const char *dir, char ***out, size_t *n, struct err *e)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	*out = NULL;
	*n = 0;
	if (!d)
		return err_errno(e, ERR_INTERNAL, "open %s", dir);
	while ((de = readdir(d))) {
		if (!str_ends(de->d_name, ".deb"))
			continue;
		char **t = realloc(*out, (*n + 1) * sizeof(char *));
		if (!t || !(t[*n] = fs_join(dir, de->d_name))) {
			closedir(d);
			if (t)
				*out = t;
			return err_oom(e);
		}
		*out = t;
		(*n)++;
	}
	closedir(d);
	for (size_t i = 1; i < *n; i++) /* sorted: the same order every run */
		for (size_t k = i; k > 0 && strcmp((*out)[k - 1], (*out)[k]) > 0; k--) {
			char *x = (*out)[k];
			(*out)[k] = (*out)[k - 1];
			(*out)[k - 1] = x;
		}
	return 0;
}

static int apply_debs(struct patch_image *p, struct applier *ap, char **debs, size_t nd, const char *tmp,
		      struct patch_pkg **pkgs, size_t *n_pkgs, struct err *e)
{
	for (size_t i = 0; i < nd; i++) {
		struct deb d;
		char name[256], ver[256];
		if (deb_read(&d, debs[i], tmp, e) < 0)
			return err_prefix(e, "%s", strrchr(debs[i], '/') + 1);
		dpkg_field(d.control, d.control + strlen(d.control), "Package", name, sizeof(name));
		dpkg_field(d.control, d.control + strlen(d.control), "Version", ver, sizeof(ver));
		const struct dpkg_ent *old = dpkg_db_find(&p->before, name);
		int r = 0;
		if (!old || !old->file || !*ver || vercmp_dpkg(ver, old->version) <= 0) {
			log_debug("patch: %s %s is not newer than the image's; skipped", name, ver);
		} else {
			log_info("patch: %s %s -> %s", name, old->version, ver);
			r = apply_data(ap, d.data, e);
			if (r == 0)
				r = put_status(ap, old, &d, e);
			if (r == 0)
				r = patch_pkg_add(pkgs, n_pkgs, name, old->version, ver, e);
		}
		deb_free(&d);
		if (r < 0)
			return err_prefix(e, "%s %s", name, ver);
	}
	return 0;
}

int deb_upgrade(struct patch_image *p, const struct patch_wants *w, const char *upper, struct patch_pkg **pkgs,
		size_t *n_pkgs, struct err *e)
{
	struct written wr = { 0 };
	struct applier ap = { .rootfd = -1, .chown = !p->rootless, .w = &wr };
	char *debdir = xasprintf_e(e, "%s/debs", p->work), *tmp = xasprintf_e(e, "%s/deb-tmp", p->work);
	char **debs = NULL;
	size_t nd = 0;
	int upfd = -1, ret = -1;

	if (!debdir || !tmp || fs_mkdir_p(debdir, 0755, e) < 0 || fs_mkdir_p(tmp, 0700, e) < 0)
		goto out;
	if (download(p, w, debdir, e) < 0 || list_debs(debdir, &debs, &nd, e) < 0)
		goto out;
	if (!realpath(p->root, ap.root)) {
		err_errno(e, ERR_INTERNAL, "realpath %s", p->root);
		goto out;
	}
	ap.root_len = strlen(ap.root);
	if ((ap.rootfd = open(ap.root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 ||
	    (upfd = open(upper, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		err_errno(e, ERR_INTERNAL, "open %s", ap.rootfd < 0 ? ap.root : upper);
		goto out;
	}
	if (apply_debs(p, &ap, debs, nd, tmp, pkgs, n_pkgs, e) < 0)
		goto out;
	for (size_t i = 0; i < wr.n; i++)
		if (copy_up(ap.rootfd, upfd, wr.v[i], ap.chown, e) < 0)
			goto out;
	fix_dir_times(ap.rootfd, upfd, &wr);
	ret = 0;
out:
	for (size_t i = 0; i < nd; i++)
		free(debs[i]);
	free(debs);
	written_free(&wr);
	if (ap.rootfd >= 0)
		close(ap.rootfd);
	if (upfd >= 0)
		close(upfd);
	free(debdir);
	free(tmp);
	return ret;
}
