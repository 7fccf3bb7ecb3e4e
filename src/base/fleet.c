/* Fleet files for bosun base watch: plain lists, JSON, kubectl pod lists
 * and a small YAML subset. Every error names FILE:LINE. */
#include <cjson/cJSON.h>
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/watch.h"
#include "core/fs.h"
#include "core/util.h"
#include "oci/ref.h"

void fleet_free(struct fleet *f)
{
	for (size_t i = 0; i < f->n; i++) {
		free(f->items[i].image);
		free(f->items[i].dockerfile);
		free(f->items[i].pipeline);
		free(f->items[i].source);
	}
	free(f->items);
	memset(f, 0, sizeof(*f));
}

static int line_of(const char *text, const char *p)
{
	int l = 1;

	for (const char *c = text; c < p; c++)
		l += *c == '\n';
	return l;
}

/* Add an item (copies the strings); a duplicate image is dropped. The
 * reference must parse: a typo fails here, with its line, not later. */
static int add(struct fleet *f, const char *path, int line, const char *image, const char *df,
	       const char *pipeline, const char *source, struct err *e)
{
	struct fleet_item *n, *it;
	struct oci_ref ref;
	struct err pe = ERR_INIT;

	if (!image || !*image)
		return err_set(e, ERR_INPUT, "%s:%d: an entry without an image", path, line);
	if (strncmp(image, "oci:", 4) && strncmp(image, "docker-archive:", 15)) {
		if (oci_ref_parse(&ref, image, &pe) < 0)
			return err_set(e, ERR_INPUT, "%s:%d: %s", path, line, pe.msg);
		oci_ref_free(&ref);
	}
	for (size_t i = 0; i < f->n; i++)
		if (strcmp(f->items[i].image, image) == 0)
			return 0;
	if (f->n >= FLEET_MAX_ITEMS)
		return err_set(e, ERR_INPUT, "%s:%d: more than %d images", path, line, FLEET_MAX_ITEMS);
	n = realloc(f->items, (f->n + 1) * sizeof(*n));
	if (!n)
		return err_oom(e);
	f->items = n;
	it = &f->items[f->n];
	memset(it, 0, sizeof(*it));
	it->line = line;
	it->image = strdup(image);
	it->dockerfile = df ? strdup(df) : NULL;
	it->pipeline = pipeline ? strdup(pipeline) : NULL;
	it->source = source ? strdup(source) : NULL;
	f->n++;
	if (!it->image || (df && !it->dockerfile) || (pipeline && !it->pipeline) || (source && !it->source))
		return err_oom(e);
	return 0;
}

/* ---- JSON */

static const char *jstr(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* A pipeline id may be a number in JSON. */
static const char *jid(const cJSON *o, const char *k, char *tmp, size_t cap)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	if (cJSON_IsNumber(v)) {
		snprintf(tmp, cap, "%.0f", v->valuedouble);
		return tmp;
	}
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* kubectl get pods -A -o json: running images, the digest the node pulled
 * when the status has it (what runs, even if the tag moved since). */
static int kube_pod(struct fleet *f, const char *path, const cJSON *pod, int idx, struct err *e)
{
	const cJSON *md = cJSON_GetObjectItemCaseSensitive(pod, "metadata");
	const cJSON *spec = cJSON_GetObjectItemCaseSensitive(pod, "spec");
	const cJSON *st = cJSON_GetObjectItemCaseSensitive(pod, "status");
	const char *kinds[][2] = { { "containers", "containerStatuses" },
				   { "initContainers", "initContainerStatuses" } };
	const char *ns = jstr(md, "namespace"), *name = jstr(md, "name");

	if (!cJSON_IsObject(spec))
		return err_set(e, ERR_INPUT, "%s: items[%d]: a pod without spec", path, idx);
	for (size_t k = 0; k < 2; k++) {
		const cJSON *cs = cJSON_GetObjectItemCaseSensitive(spec, kinds[k][0]), *c;
		const cJSON *ss = cJSON_GetObjectItemCaseSensitive(st, kinds[k][1]);

		cJSON_ArrayForEach(c, cs)
		{
			const char *img = jstr(c, "image"), *cname = jstr(c, "name"), *id = NULL;
			const cJSON *s;
			char src[512], full[1024];

			if (!img)
				return err_set(e, ERR_INPUT, "%s: items[%d].spec.%s: a container without image", path,
					       idx, kinds[k][0]);
			cJSON_ArrayForEach(s, ss)
			if (cname && jstr(s, "name") && strcmp(jstr(s, "name"), cname) == 0)
				id = jstr(s, "imageID");
			/* imageID: "docker-pullable://repo@sha256:..", "repo@sha256:.." */
			if (id && strstr(id, "@sha256:") && !strchr(img, '@') && strlen(img) + 80 < sizeof(full)) {
				const char *d = strstr(id, "@sha256:");

				snprintf(full, sizeof(full), "%s%.72s", img, d);
				img = full;
			}
			snprintf(src, sizeof(src), "%s/%s/%s", ns ? ns : "", name ? name : "", cname ? cname : "");
			if (add(f, path, 0, img, NULL, NULL, src, e) < 0)
				return err_prefix(e, "items[%d]", idx);
		}
	}
	return 0;
}

static int parse_json(struct fleet *f, const char *path, const char *text, size_t len, struct err *e)
{
	const char *end = NULL;
	cJSON *root = cJSON_ParseWithLengthOpts(text, len, &end, 0), *arr, *it;
	const char *kind;
	int idx = 0, rc = -1;

	if (!root)
		return err_set(e, ERR_INPUT, "%s:%d: invalid JSON", path, line_of(text, end ? end : text));
	kind = jstr(root, "kind");
	if (kind && (strcmp(kind, "List") == 0 || strcmp(kind, "PodList") == 0)) {
		f->format = "kubectl";
		arr = cJSON_GetObjectItemCaseSensitive(root, "items");
		if (!cJSON_IsArray(arr)) {
			err_set(e, ERR_INPUT, "%s: a %s without items", path, kind);
			goto out;
		}
		cJSON_ArrayForEach(it, arr)
		{
			if (cJSON_IsObject(it) && jstr(it, "kind") && strcmp(jstr(it, "kind"), "Pod") != 0) {
				idx++;
				continue;
			}
			if (kube_pod(f, path, it, idx++, e) < 0)
				goto out;
		}
		rc = 0;
		goto out;
	}
	f->format = "json";
	arr = cJSON_IsArray(root) ? root : cJSON_GetObjectItemCaseSensitive(root, "images");
	if (!cJSON_IsArray(arr)) {
		err_set(e, ERR_INPUT, "%s: expected a JSON array or an object with \"images\"", path);
		goto out;
	}
	cJSON_ArrayForEach(it, arr)
	{
		char tmp[64];

		if (cJSON_IsString(it)) {
			if (add(f, path, 0, it->valuestring, NULL, NULL, NULL, e) < 0)
				goto bad;
		} else if (cJSON_IsObject(it)) {
			if (add(f, path, 0, jstr(it, "image"), jstr(it, "dockerfile"), jid(it, "pipeline", tmp, sizeof(tmp)),
				NULL, e) < 0)
				goto bad;
		} else {
			err_set(e, ERR_INPUT, "%s: images[%d]: expected a string or an object", path, idx);
			goto out;
		}
		idx++;
	}
	rc = 0;
	goto out;
bad:
	err_prefix(e, "images[%d]", idx);
out:
	cJSON_Delete(root);
	return rc;
}

/* ---- YAML subset */

/* Trim, drop a trailing " #comment", unquote. In place. */
static char *scalar(char *s, bool *bad)
{
	size_t n;
	char *h;

	while (*s == ' ' || *s == '\t')
		s++;
	if (*s == '"' || *s == '\'') {
		char q = *s++;
		char *c = strchr(s, q);

		if (!c) {
			*bad = true;
			return s;
		}
		*c = 0;
		for (h = c + 1; *h == ' ' || *h == '\t'; h++)
			;
		if (*h && *h != '#')
			*bad = true;
		return s;
	}
	for (h = s; (h = strchr(h, '#')) != NULL; h++)
		if (h > s && (h[-1] == ' ' || h[-1] == '\t')) {
			*h = 0;
			break;
		}
	n = strlen(s);
	while (n && isspace((unsigned char)s[n - 1]))
		s[--n] = 0;
	return s;
}

static int parse_yaml(struct fleet *f, const char *path, char *text, struct err *e)
{
	char *save = NULL, *ln, *image = NULL, *df = NULL, *pl = NULL;
	bool in_images = false;
	int line = 0, item_line = 0, item_indent = -1;

	f->format = "yaml";
	/* Lines are cut in place; strtok_r would merge empty lines and lose the count. */
	for (ln = text; ln; ln = save) {
		char *nl = strchr(ln, '\n'), *p, *colon;
		int ind;
		bool bad = false;

		save = nl ? nl + 1 : NULL;
		if (nl)
			*nl = 0;
		line++;
		if (nl && nl > ln && nl[-1] == '\r')
			nl[-1] = 0;
		for (p = ln; *p == ' '; p++)
			;
		if (*p == '\t')
			return err_set(e, ERR_INPUT, "%s:%d: tabs are not allowed for indentation", path, line);
		if (!*p || *p == '#' || !strcmp(p, "---"))
			continue;
		ind = (int)(p - ln);
		/* A list may sit at the key's own indentation ("images:\n- a"). */
		if (ind == 0 && !(in_images && p[0] == '-' && (p[1] == ' ' || p[1] == 0))) {
			if (image && add(f, path, item_line, image, df, pl, NULL, e) < 0)
				return -1;
			image = df = pl = NULL;
			colon = strchr(p, ':');
			if (!colon)
				return err_set(e, ERR_INPUT, "%s:%d: expected \"key: value\"", path, line);
			*colon = 0;
			in_images = strcmp(p, "images") == 0;
			if (in_images && *scalar(colon + 1, &bad))
				return err_set(e, ERR_INPUT, "%s:%d: \"images:\" takes a list on the next lines", path, line);
			continue;
		}
		if (!in_images)
			continue; /* other top-level keys and their children are not ours */
		if (p[0] == '-' && (p[1] == ' ' || p[1] == 0)) {
			if (image && add(f, path, item_line, image, df, pl, NULL, e) < 0)
				return -1;
			image = df = pl = NULL;
			item_line = line;
			p++;
			while (*p == ' ')
				p++;
			item_indent = (int)(p - ln);
			colon = strstr(p, ": ");
			if (!colon && str_ends(p, ":"))
				colon = p + strlen(p) - 1;
			if (!colon || *p == '"' || *p == '\'') {
				image = scalar(p, &bad);
				if (bad || !*image)
					return err_set(e, ERR_INPUT, "%s:%d: bad list item", path, line);
				if (add(f, path, line, image, NULL, NULL, NULL, e) < 0)
					return -1;
				image = NULL;
				item_indent = -1;
				continue;
			}
		} else {
			if (item_indent < 0 || ind != item_indent)
				return err_set(e, ERR_INPUT, "%s:%d: unexpected indentation", path, line);
			colon = strstr(p, ": ");
			if (!colon && str_ends(p, ":"))
				colon = p + strlen(p) - 1;
			if (!colon)
				return err_set(e, ERR_INPUT, "%s:%d: expected \"key: value\"", path, line);
		}
		*colon = 0;
		{
			char *v = scalar(colon + 1, &bad);

			if (bad)
				return err_set(e, ERR_INPUT, "%s:%d: unterminated quote", path, line);
			if (!strcmp(p, "image"))
				image = v;
			else if (!strcmp(p, "dockerfile"))
				df = v;
			else if (!strcmp(p, "pipeline"))
				pl = v;
			else
				return err_set(e, ERR_INPUT, "%s:%d: unknown key \"%.40s\" (image, dockerfile, pipeline)",
					       path, line, p);
		}
	}
	if (image)
		return add(f, path, item_line, image, df, pl, NULL, e);
	if (df || pl)
		return err_set(e, ERR_INPUT, "%s:%d: an entry without an image", path, item_line);
	return 0;
}

/* ---- plain list */

static int parse_list(struct fleet *f, const char *path, char *text, struct err *e)
{
	char *save, *ln;
	int line = 0;

	f->format = "list";
	for (ln = text; ln; ln = save) {
		char *nl = strchr(ln, '\n'), *p, *q;

		save = nl ? nl + 1 : NULL;
		if (nl)
			*nl = 0;
		line++;
		for (p = ln; isspace((unsigned char)*p); p++)
			;
		if (!*p || *p == '#')
			continue;
		for (q = p; *q && !isspace((unsigned char)*q); q++)
			;
		if (*q) {
			char *r = q;

			while (isspace((unsigned char)*r))
				r++;
			if (*r && *r != '#')
				return err_set(e, ERR_INPUT, "%s:%d: one image reference per line", path, line);
			*q = 0;
		}
		if (add(f, path, line, p, NULL, NULL, NULL, e) < 0)
			return -1;
	}
	return 0;
}

int fleet_parse(struct fleet *f, const char *path, const char *text, size_t len, struct err *e)
{
	char *copy;
	const char *p = text;
	int rc;

	memset(f, 0, sizeof(*f));
	if (memchr(text, 0, len))
		return err_set(e, ERR_INPUT, "%s:%d: NUL byte in a text file", path,
			       line_of(text, (const char *)memchr(text, 0, len)));
	while (p < text + len && isspace((unsigned char)*p))
		p++;
	if (p < text + len && (*p == '{' || *p == '['))
		rc = parse_json(f, path, text, len, e);
	else {
		if (!(copy = xstrndup_e(text, len, e)))
			return -1;
		/* YAML when a top-level "key:" line comes first. */
		bool yaml = false;
		for (const char *l = copy; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
			if (*l == '#' || *l == '\n' || *l == '\r' || isspace((unsigned char)*l))
				continue;
			yaml = strncmp(l, "images:", 7) == 0 || strncmp(l, "---", 3) == 0;
			break;
		}
		rc = yaml ? parse_yaml(f, path, copy, e) : parse_list(f, path, copy, e);
		free(copy);
	}
	if (rc < 0)
		fleet_free(f);
	else if (f->n == 0) {
		fleet_free(f);
		return err_set(e, ERR_INPUT, "%s: no images listed", path);
	}
	return rc;
}

int fleet_load(struct fleet *f, const char *path, struct err *e)
{
	struct buf b = BUF_INIT;
	int rc;

	if (fs_read_file(path, &b, FLEET_MAX_SIZE, e) < 0)
		return -1;
	rc = fleet_parse(f, path, b.data, b.len, e);
	buf_free(&b);
	return rc;
}

int base_shard_parse(const char *s, int *i, int *n, struct err *e)
{
	char tail;

	if (sscanf(s, "%d/%d%c", i, n, &tail) != 2 || *n < 1 || *n > 1000 || *i < 1 || *i > *n)
		return err_set(e, ERR_USAGE, "--shard takes I/N with 1 <= I <= N <= 1000, not \"%s\"", s);
	return 0;
}

bool base_in_shard(const char *image, int i, int n)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a */

	for (const unsigned char *p = (const unsigned char *)image; *p; p++)
		h = (h ^ *p) * 1099511628211ull;
	return (int)(h % (uint64_t)n) == i - 1;
}
