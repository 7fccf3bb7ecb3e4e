/* A layer described entry by entry (see layer.h): the entries, a table
 * from path to entry, and writing them in oci_layer_write_dir's order. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/util.h"
#include "oci/internal.h"
#include "oci/layer.h"
#include "oci/tar.h"

struct tnode {
	char *path;       /* relative to the root, "" for the root */
	const char *name; /* its last component, inside path */
	int type;         /* TAR_DIR, TAR_REG, TAR_SYMLINK */
	struct layer_meta m;
	char *src;           /* TAR_REG read from this file, */
	unsigned char *data; /* or holding these bytes */
	size_t len;
	char *link; /* TAR_SYMLINK */
	struct tnode *parent;
	struct tnode **kids;
	size_t n_kids, a_kids;
};

struct layer_tree {
	struct tnode root;
	struct tnode **tab; /* open addressing on the path */
	size_t cap, n;
};

static uint64_t hash_path(const char *p)
{
	uint64_t h = 1469598103934665603ull;

	for (; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ull;
	return h;
}

static struct tnode **slot_of(const struct layer_tree *t, const char *path)
{
	size_t j = (size_t)hash_path(path) & (t->cap - 1);

	while (t->tab[j] && strcmp(t->tab[j]->path, path) != 0)
		j = (j + 1) & (t->cap - 1);
	return &t->tab[j];
}

static struct tnode *find(const struct layer_tree *t, const char *path)
{
	return *path ? *slot_of(t, path) : (struct tnode *)&t->root;
}

struct layer_tree *layer_tree_new(struct err *e)
{
	struct layer_tree *t = calloc(1, sizeof(*t));

	if (t) {
		t->cap = 1024;
		t->tab = calloc(t->cap, sizeof(*t->tab));
		t->root.path = strdup("");
	}
	if (!t || !t->tab || !t->root.path) {
		layer_tree_free(t);
		err_oom(e);
		return NULL;
	}
	t->root.name = t->root.path;
	t->root.type = TAR_DIR;
	t->root.m = (struct layer_meta){ .mode = 0755, .mtime = (int64_t)time(NULL) };
	return t;
}

static void node_content_free(struct tnode *n)
{
	free(n->src);
	free(n->data);
	free(n->link);
	n->src = n->link = NULL;
	n->data = NULL;
	n->len = 0;
}

void layer_tree_free(struct layer_tree *t)
{
	if (!t)
		return;
	for (size_t i = 0; t->tab && i < t->cap; i++) {
		struct tnode *n = t->tab[i];
		if (!n)
			continue;
		node_content_free(n);
		free(n->kids);
		free(n->path);
		free(n);
	}
	free(t->tab);
	free(t->root.kids);
	free(t->root.path);
	free(t);
}

bool layer_tree_has(const struct layer_tree *t, const char *path, bool *is_dir)
{
	const struct tnode *n = find(t, path);

	if (is_dir)
		*is_dir = n && n->type == TAR_DIR;
	return n != NULL;
}

static int grow(struct layer_tree *t, struct err *e)
{
	size_t oc = t->cap;
	struct tnode **old = t->tab;

	t->tab = calloc(oc * 2, sizeof(*t->tab));
	if (!t->tab) {
		t->tab = old;
		return err_oom(e);
	}
	t->cap = oc * 2;
	for (size_t i = 0; i < oc; i++)
		if (old[i])
			*slot_of(t, old[i]->path) = old[i];
	free(old);
	return 0;
}

/* The entry at path, made when missing (with parent mtime bumped): what is
 * there already, else a new node of type. err_no names what the file system
 * would have said. */
static struct tnode *entry(struct layer_tree *t, const char *path, int type, bool *made, struct err *e)
{
	const char *sl = strrchr(path, '/');
	char ppath[PATH_MAX];
	struct tnode *n, *p;

	*made = false;
	if ((n = find(t, path))) /* the root ("") among them */
		return n;
	if (strlen(path) >= sizeof(ppath))
		return err_set(e, ERR_INPUT, "layer: path too long: %.100s...", path), NULL;
	snprintf(ppath, sizeof(ppath), "%.*s", sl ? (int)(sl - path) : 0, path);
	p = find(t, ppath);
	if (!p || p->type != TAR_DIR) {
		errno = p ? ENOTDIR : ENOENT;
		return err_errno(e, ERR_INTERNAL, "create %s", path), NULL;
	}
	if ((t->n + 1) * 2 > t->cap && grow(t, e) < 0)
		return NULL;
	if (p->n_kids == p->a_kids) {
		size_t na = p->a_kids ? p->a_kids * 2 : 8;
		struct tnode **nk = realloc(p->kids, na * sizeof(*nk));
		if (!nk)
			return err_oom(e), NULL;
		p->kids = nk;
		p->a_kids = na;
	}
	n = calloc(1, sizeof(*n));
	if (!n || !(n->path = strdup(path))) {
		free(n);
		return err_oom(e), NULL;
	}
	n->name = sl ? n->path + (sl - path) + 1 : n->path;
	n->type = type;
	n->parent = p;
	p->kids[p->n_kids++] = n;
	*slot_of(t, path) = n;
	t->n++;
	p->m.mtime = (int64_t)time(NULL);
	*made = true;
	return n;
}

int layer_tree_mkdir(struct layer_tree *t, const char *path, const struct layer_meta *m, struct err *e)
{
	bool made;
	struct tnode *n = entry(t, path, TAR_DIR, &made, e);

	if (!n)
		return -1;
	if (made)
		n->m = *m;
	return 0;
}

/* A non-directory entry at path: made, or the one there replaced
 * (replacing: whether a new file takes its place, bumping the parent). */
static struct tnode *leaf(struct layer_tree *t, const char *path, int type, bool replacing, struct err *e)
{
	bool made;
	struct tnode *n = entry(t, path, type, &made, e);

	if (!n || made)
		return n;
	if (n->type == TAR_DIR || (!replacing && n->type == TAR_SYMLINK)) {
		/* O_TRUNC|O_NOFOLLOW on a link, a new name over a directory */
		errno = n->type == TAR_DIR ? EISDIR : ELOOP;
		return err_errno(e, ERR_INTERNAL, "create %s", path), NULL;
	}
	node_content_free(n);
	n->type = type;
	if (replacing)
		n->parent->m.mtime = (int64_t)time(NULL);
	return n;
}

int layer_tree_file(struct layer_tree *t, const char *path, const char *src, const struct layer_meta *m,
		    struct err *e)
{
	struct tnode *n = leaf(t, path, TAR_REG, false, e);

	if (!n)
		return -1;
	n->m = *m;
	n->src = xstrdup_e(src, e);
	return n->src ? 0 : -1;
}

int layer_tree_data(struct layer_tree *t, const char *path, const void *data, size_t len, const struct layer_meta *m,
		    struct err *e)
{
	struct tnode *n = leaf(t, path, TAR_REG, true, e);

	if (!n)
		return -1;
	n->m = *m;
	n->data = malloc(len ? len : 1);
	if (!n->data)
		return err_oom(e);
	memcpy(n->data, data, len);
	n->len = len;
	return 0;
}

int layer_tree_symlink(struct layer_tree *t, const char *path, const char *target, const struct layer_meta *m,
		       struct err *e)
{
	struct tnode *n = leaf(t, path, TAR_SYMLINK, true, e);

	if (!n)
		return -1;
	n->m = *m;
	n->link = xstrdup_e(target, e);
	return n->link ? 0 : -1;
}

int layer_tree_set(struct layer_tree *t, const char *path, const struct layer_meta *m, struct err *e)
{
	struct tnode *n = find(t, path);

	if (!n) {
		errno = ENOENT;
		return err_errno(e, ERR_INTERNAL, "layer: %s", path);
	}
	if (m->mode >= 0)
		n->m.mode = m->mode & 07777;
	if (m->uid >= 0)
		n->m.uid = m->uid;
	if (m->gid >= 0)
		n->m.gid = m->gid;
	if (m->mtime >= 0)
		n->m.mtime = m->mtime;
	return 0;
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp((*(struct tnode *const *)a)->name, (*(struct tnode *const *)b)->name);
}

static int emit_file(struct lw *w, const struct tnode *n, struct tar_entry *te)
{
	struct stat st;
	int fd = open(n->src, O_RDONLY | O_NOFOLLOW | O_CLOEXEC), r;

	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		if (fd >= 0) {
			close(fd);
			errno = EINVAL;
		}
		return err_errno(w->e, ERR_INPUT, "open %s", n->src);
	}
	te->size = st.st_size;
	r = lw_header(w, te) < 0 || lw_file_data(w, fd, n->src, st.st_size) < 0 ? -1 : 0;
	close(fd);
	return r;
}

static int emit_node(struct lw *w, struct tnode *n)
{
	char name[PATH_MAX + 2];
	struct tar_entry te = { .path = name, .type = n->type, .mode = (uint32_t)(n->m.mode & 07777), .uid = n->m.uid,
				.gid = n->m.gid, .mtime = n->m.mtime, .linkname = n->link };
	int64_t clamp = w->o->clamp_mtime;

	if (snprintf(name, sizeof(name), "%s%s", n->path, n->type == TAR_DIR ? "/" : "") >= (int)sizeof(name))
		return err_set(w->e, ERR_INPUT, "layer: name too long: %.100s...", n->path);
	if (clamp >= 0 && te.mtime > clamp)
		te.mtime = clamp;
	if (n->type == TAR_REG && n->src)
		return emit_file(w, n, &te);
	te.size = n->type == TAR_REG ? (int64_t)n->len : 0;
	if (lw_header(w, &te) < 0 || (n->len && lw_data(w, n->data, n->len) < 0))
		return -1;
	return 0;
}

static int emit_dir(struct lw *w, struct tnode *d)
{
	if (d->n_kids > 1)
		qsort(d->kids, d->n_kids, sizeof(*d->kids), cmp_name);
	for (size_t i = 0; i < d->n_kids; i++) {
		if (emit_node(w, d->kids[i]) < 0)
			return -1;
		if (d->kids[i]->type == TAR_DIR && emit_dir(w, d->kids[i]) < 0)
			return -1;
	}
	return 0;
}

int oci_layer_write_tree(struct oci_layout *l, struct layer_tree *t, const struct layer_opts *o,
			 struct layer_result *r, struct err *e)
{
	struct lw w;
	int ret = -1;

	memset(r, 0, sizeof(*r));
	if (lw_open(&w, l, o, e) == 0 && emit_dir(&w, &t->root) == 0)
		ret = lw_close(&w, r);
	lw_free(&w);
	return ret;
}
