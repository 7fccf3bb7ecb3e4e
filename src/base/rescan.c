/* Rescans: each watched image scanned with the current database; findings
 * not recorded for that image in the state file are new. The first watch
 * of an image records its findings as the baseline (they were reported by
 * the build-time scan). The state file keeps entries of images this run
 * did not see (other shards), so one file can be shared. */
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/scan.h"
#include "base/watch.h"
#include "core/fs.h"
#include "core/ojson.h"
#include "core/util.h"

#define STATE_SCHEMA "bosun.base.watch-state.v1"
#define STATE_MAX (64u << 20)

void base_scan_free(struct base_scan *s)
{
	for (size_t i = 0; i < s->n; i++) {
		free(s->f[i].id);
		free(s->f[i].pkg);
		free(s->f[i].version);
		free(s->f[i].fixed);
		free(s->f[i].severity);
		free(s->f[i].title);
	}
	free(s->f);
	memset(s, 0, sizeof(*s));
}

int base_scan_image(struct vdb *db, const char *target, const struct reg_opts *ro, const char *platform,
		    const char *cache_dir, struct base_scan *out, struct err *e)
{
	struct inventory inv;
	struct scan_result res;
	struct policy pol = { 0 };
	struct inv_opts io = { ro, platform, cache_dir, NULL };
	int rc = -1;

	memset(out, 0, sizeof(*out));
	memset(&inv, 0, sizeof(inv));
	memset(&res, 0, sizeof(res));
	pol.fail_on = -1;
	pol.unknown_as = SEV_UNKNOWN;
	pol.today = (long long)(time(NULL) / 86400);
	if (inventory_scan(target, &io, &inv, e) < 0 || scan_match(db, &inv, &res, e) < 0 ||
	    scan_policy(&res, &pol, e) < 0)
		goto out;
	out->f = calloc(res.n ? res.n : 1, sizeof(*out->f));
	if (!out->f) {
		err_oom(e);
		goto out;
	}
	for (size_t i = 0; i < res.n; i++) {
		const struct finding *f = &res.f[i];
		struct rescan_finding *o = &out->f[out->n];
		bool dup = false;

		if (!f->reported)
			continue;
		/* One entry per package name and advisory (dpkg binaries of one source repeat). */
		for (size_t j = 0; j < out->n && !dup; j++)
			dup = !strcmp(out->f[j].id, f->id) && !strcmp(out->f[j].pkg, f->pkg->name);
		if (dup)
			continue;
		o->id = strdup(f->id);
		o->pkg = strdup(f->pkg->name);
		o->version = strdup(f->pkg->version ? f->pkg->version : "");
		o->fixed = strdup(f->fixed ? f->fixed : "");
		o->severity = strdup(severity_name(f->severity));
		o->title = strdup(f->title ? f->title : "");
		out->n++;
		if (!o->id || !o->pkg || !o->version || !o->fixed || !o->severity || !o->title) {
			err_oom(e);
			goto out;
		}
	}
	rc = 0;
out:
	if (rc < 0)
		base_scan_free(out);
	scan_result_free(&res);
	inventory_free(&inv);
	return rc;
}

static char *key_of(const struct rescan_finding *f)
{
	char *k = NULL;

	if (asprintf(&k, "%s %s", f->pkg, f->id) < 0)
		return NULL;
	return k;
}

static int load_state(const char *path, cJSON **out, struct err *e)
{
	struct buf b = BUF_INIT;
	cJSON *j;

	*out = NULL;
	if (!fs_exists(path)) {
		*out = cJSON_CreateObject();
		goto fresh;
	}
	if (fs_read_file(path, &b, STATE_MAX, e) < 0)
		return -1;
	j = cJSON_ParseWithLength(b.data, b.len);
	buf_free(&b);
	if (!j || !cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(j, "images"))) {
		cJSON_Delete(j);
		return err_set(e, ERR_INPUT, "%s: not a bosun watch state file (delete it to start afresh)", path);
	}
	*out = j;
	return 0;
fresh:
	if (!*out)
		return err_oom(e);
	cJSON_AddStringToObject(*out, "schema", STATE_SCHEMA);
	cJSON_AddObjectToObject(*out, "images");
	return 0;
}

static bool known(const cJSON *list, const char *key)
{
	const cJSON *x;

	cJSON_ArrayForEach(x, list)
	if (cJSON_IsString(x) && strcmp(x->valuestring, key) == 0)
		return true;
	return false;
}

int base_watch_rescan(struct watch *w, const struct watch_opts *o, struct err *e)
{
	struct vdb *db = NULL;
	cJSON *state = NULL, *images;
	char ts[32];
	int rc = -1;

	if (vdb_open(&db, o->db, e) < 0)
		return -1;
	w->db_built = vdb_meta(db, "built");
	if (!w->db_built)
		w->db_built = strdup("unknown");
	if (load_state(o->state, &state, e) < 0)
		goto out;
	images = cJSON_GetObjectItemCaseSensitive(state, "images");
	time_rfc3339((int64_t)time(NULL), ts);
	/* One at a time: the database handle is shared. */
	for (size_t i = 0; i < w->n; i++) {
		struct watch_item *it = &w->it[i];
		struct base_scan s;
		const cJSON *prev = cJSON_GetObjectItemCaseSensitive(images, it->fi->image);
		const cJSON *plist = cJSON_GetObjectItemCaseSensitive(prev, "findings");
		cJSON *ent, *list;

		if (it->r.state == BASE_ERROR)
			continue;
		if (base_scan_image(db, it->fi->image, o->bo->ro, NULL, o->cache_dir, &s, &it->scan_err) < 0) {
			w->n_scan_err++;
			continue;
		}
		it->scanned = true;
		it->n_findings = s.n;
		ent = cJSON_CreateObject();
		list = cJSON_AddArrayToObject(ent, "findings");
		it->fresh = calloc(s.n ? s.n : 1, sizeof(*it->fresh));
		if (!ent || !list || !it->fresh) {
			cJSON_Delete(ent);
			base_scan_free(&s);
			err_oom(e);
			goto out;
		}
		for (size_t j = 0; j < s.n; j++) {
			char *k = key_of(&s.f[j]);

			if (!k) {
				cJSON_Delete(ent);
				base_scan_free(&s);
				err_oom(e);
				goto out;
			}
			cJSON_AddItemToArray(list, cJSON_CreateString(k));
			if (cJSON_IsArray(plist) && !known(plist, k)) {
				it->fresh[it->n_fresh++] = s.f[j]; /* moved */
				memset(&s.f[j], 0, sizeof(s.f[j]));
			}
			free(k);
		}
		w->n_fresh += it->n_fresh;
		if (it->r.image_digest)
			cJSON_AddStringToObject(ent, "digest", it->r.image_digest);
		cJSON_AddStringToObject(ent, "checked", ts);
		if (prev)
			cJSON_ReplaceItemInObjectCaseSensitive(images, it->fi->image, ent);
		else
			cJSON_AddItemToObject(images, it->fi->image, ent);
		base_scan_free(&s);
	}
	cJSON_ReplaceItemInObjectCaseSensitive(state, "schema", cJSON_CreateString(STATE_SCHEMA));
	if (oj_write_file(o->state, state, true, e) < 0)
		goto out;
	rc = 0;
out:
	cJSON_Delete(state);
	vdb_close(db);
	return rc;
}

int base_scan_fixes(struct vdb *db, const struct base_result *r, const struct reg_opts *ro,
		    const char *cache_dir, struct base_scan *fixed, size_t *n_old, size_t *n_new, struct err *e)
{
	struct base_scan a = { 0 }, b = { 0 };
	char *old_t = NULL, *new_t = NULL;
	int rc = -1;

	memset(fixed, 0, sizeof(*fixed));
	if (!r->base_name || !r->base_digest || !r->current_digest)
		return err_set(e, ERR_INTERNAL, "no base to compare");
	old_t = xasprintf_e(e, "%s@%s", r->base_name, r->base_digest);
	new_t = xasprintf_e(e, "%s@%s", r->base_name, r->current_digest);
	if (!old_t || !new_t)
		goto out;
	if (base_scan_image(db, old_t, ro, r->platform, cache_dir, &a, e) < 0) {
		err_prefix(e, "scan the old base");
		goto out;
	}
	if (base_scan_image(db, new_t, ro, r->platform, cache_dir, &b, e) < 0) {
		err_prefix(e, "scan the current base");
		goto out;
	}
	*n_old = a.n;
	*n_new = b.n;
	fixed->f = calloc(a.n ? a.n : 1, sizeof(*fixed->f));
	if (!fixed->f) {
		err_oom(e);
		goto out;
	}
	for (size_t i = 0; i < a.n; i++) {
		bool still = false;

		for (size_t j = 0; j < b.n && !still; j++)
			still = !strcmp(a.f[i].id, b.f[j].id) && !strcmp(a.f[i].pkg, b.f[j].pkg);
		if (!still) {
			fixed->f[fixed->n++] = a.f[i];
			memset(&a.f[i], 0, sizeof(a.f[i]));
		}
	}
	rc = 0;
out:
	base_scan_free(&a);
	base_scan_free(&b);
	free(old_t);
	free(new_t);
	return rc;
}
