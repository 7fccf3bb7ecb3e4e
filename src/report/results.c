#include "report/results.h"
#include "report/xmlw.h"

#include <cjson/cJSON.h>
#include <libxml/xmlwriter.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/fs.h"
#include "core/ojson.h"
#include "core/util.h"
#include "scan/cvss.h"

static const char *const stage_names[RS__N] = { "build", "scan", "policy", "patch", "push", "sign", "attest" };
static const char *const status_names[] = { "not-run", "passed", "failed", "error", "skipped" };
static const char *const sev_names[RSEV__N] = { "critical", "high", "medium", "low", "unknown" };

const char *res_stage_name(enum res_stage s) { return stage_names[s]; }
const char *res_status_name(enum res_status s) { return status_names[s]; }
const char *res_sev_name(enum res_sev s) { return sev_names[s]; }

int res_status_parse(const char *s)
{
	for (size_t i = 0; i < ARRAY_SIZE(status_names); i++)
		if (!strcmp(s, status_names[i]))
			return (int)i;
	return -1;
}

int res_sev_parse(const char *s)
{
	for (size_t i = 0; i < RSEV__N; i++)
		if (!strcasecmp(s, sev_names[i]))
			return (int)i;
	return -1;
}

void results_init(struct results *r)
{
	memset(r, 0, sizeof(*r));
	r->base_age_days = -1;
	r->base_max_age_days = -1;
}

static void free_list(char **l, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(l[i]);
	free(l);
}

static void finding_free(struct res_finding *f)
{
	free(f->id), free(f->severity), free(f->package), free(f->installed);
	free(f->fixed), free(f->layer), free(f->title), free(f->cvss_vector);
	free_list(f->aliases, f->n_aliases);
}

void results_free(struct results *r)
{
	free(r->tool), free(r->created), free(r->ref), free(r->digest), free(r->platform);
	free_list(r->tags, r->n_tags);
	free(r->base_name), free(r->base_digest), free(r->base_created);
	free(r->fail_on), free(r->db_version);
	for (size_t i = 0; i < RS__N; i++)
		free(r->stage[i].details);
	for (size_t i = 0; i < r->n_f; i++)
		finding_free(&r->f[i]);
	free(r->f);
	free(r->sign_key), free(r->sign_key_id);
	free_list(r->signed_refs, r->n_signed);
	free_list(r->attestations, r->n_attestations);
	free(r->patch_from);
	for (size_t i = 0; i < r->n_patched; i++)
		free(r->patched[i].name), free(r->patched[i].from), free(r->patched[i].to);
	free(r->patched);
	results_init(r);
}

int results_set(char **field, const char *s, struct err *e)
{
	char *c = NULL;

	if (s && !(c = xstrdup_e(s, e)))
		return -1;
	free(*field);
	*field = c;
	return 0;
}

int results_list_add(char ***list, size_t *n, const char *s, struct err *e)
{
	char **l;

	if (*n >= RESULTS_MAX_LIST)
		return err_set(e, ERR_INPUT, "more than %u list entries", RESULTS_MAX_LIST);
	l = realloc(*list, (*n + 1) * sizeof(*l));
	if (!l)
		return err_oom(e);
	*list = l;
	if (!(l[*n] = xstrdup_e(s ? s : "", e)))
		return -1;
	(*n)++;
	return 0;
}

int results_add_finding(struct results *r, const struct res_finding *f, struct err *e)
{
	struct res_finding *n;
	const char *src[7] = { f->id, f->severity, f->package, f->installed, f->fixed, f->layer, f->title };
	char **dst[7];

	if (r->n_f >= RESULTS_MAX_FINDINGS)
		return err_set(e, ERR_INPUT, "more than %u findings", RESULTS_MAX_FINDINGS);
	if (r->n_f == r->alloc_f) {
		size_t na = r->alloc_f ? r->alloc_f * 2 : 16;
		n = realloc(r->f, na * sizeof(*n));
		if (!n)
			return err_oom(e);
		r->f = n;
		r->alloc_f = na;
	}
	n = &r->f[r->n_f];
	memset(n, 0, sizeof(*n));
	dst[0] = &n->id, dst[1] = &n->severity, dst[2] = &n->package, dst[3] = &n->installed;
	dst[4] = &n->fixed, dst[5] = &n->layer, dst[6] = &n->title;
	for (size_t i = 0; i < 7; i++)
		if (!(*dst[i] = xstrdup_e(src[i] ? src[i] : "", e)))
			goto fail;
	for (size_t i = 0; i < f->n_aliases; i++)
		if (results_list_add(&n->aliases, &n->n_aliases, f->aliases[i], e))
			goto fail;
	n->from_base = f->from_base;
	n->failing = f->failing;
	n->suppressed = f->suppressed;
	if (f->cvss_vector && *f->cvss_vector) {
		if (!(n->cvss_vector = xstrdup_e(f->cvss_vector, e)))
			goto fail;
		n->cvss_score = f->cvss_score;
	}
	r->n_f++;
	return 0;
fail:
	finding_free(n);
	return -1;
}

void results_clear_findings(struct results *r)
{
	for (size_t i = 0; i < r->n_f; i++)
		finding_free(&r->f[i]);
	free(r->f);
	r->f = NULL;
	r->n_f = r->alloc_f = 0;
}

int results_add_patched(struct results *r, const char *name, const char *from, const char *to, struct err *e)
{
	struct res_patch_pkg *t;

	if (r->n_patched >= RESULTS_MAX_LIST)
		return err_set(e, ERR_INPUT, "more than %u patched packages", RESULTS_MAX_LIST);
	if (!(t = realloc(r->patched, (r->n_patched + 1) * sizeof(*t))))
		return err_oom(e);
	r->patched = t;
	t += r->n_patched;
	t->name = xstrdup_e(name ? name : "", e);
	t->from = xstrdup_e(from ? from : "", e);
	t->to = xstrdup_e(to ? to : "", e);
	if (!t->name || !t->from || !t->to) {
		free(t->name), free(t->from), free(t->to);
		return -1;
	}
	r->n_patched++;
	return 0;
}

void results_counts(const struct results *r, size_t counts[RSEV__N])
{
	int s;

	memset(counts, 0, RSEV__N * sizeof(counts[0]));
	for (size_t i = 0; i < r->n_f; i++) {
		if (r->f[i].suppressed)
			continue;
		s = res_sev_parse(r->f[i].severity);
		counts[s < 0 ? RSEV_UNKNOWN : s]++;
	}
}

/* ------------------------------------------------------------------ JSON */

static cJSON *str_or_null(const char *s)
{
	return s ? cJSON_CreateString(s) : cJSON_CreateNull();
}

static cJSON *list_json(char **l, size_t n)
{
	cJSON *a = cJSON_CreateArray();

	for (size_t i = 0; a && i < n; i++)
		cJSON_AddItemToArray(a, cJSON_CreateString(l[i]));
	return a;
}

static int patch_json(const struct results *r, cJSON *root)
{
	cJSON *p, *a, *b, *c;

	if (!r->patch_from)
		return cJSON_AddNullToObject(root, "patch") ? 0 : -1;
	if (!(p = cJSON_AddObjectToObject(root, "patch")) || !cJSON_AddStringToObject(p, "from", r->patch_from) ||
	    !(a = cJSON_AddArrayToObject(p, "packages")) || !(b = cJSON_AddObjectToObject(p, "before")) ||
	    !(c = cJSON_AddObjectToObject(b, "counts")))
		return -1;
	for (size_t i = 0; i < r->n_patched; i++) {
		cJSON *o = cJSON_CreateObject();
		if (!o)
			return -1;
		cJSON_AddItemToArray(a, o);
		cJSON_AddStringToObject(o, "name", r->patched[i].name);
		cJSON_AddStringToObject(o, "from", r->patched[i].from);
		cJSON_AddStringToObject(o, "to", r->patched[i].to);
	}
	for (size_t i = 0; i < RSEV__N; i++)
		cJSON_AddNumberToObject(c, sev_names[i], (double)r->before_counts[i]);
	return cJSON_AddNumberToObject(b, "failing", (double)r->before_failing) ? 0 : -1;
}

int results_to_json(const struct results *r, struct buf *out, struct err *e)
{
	cJSON *root = cJSON_CreateObject(), *img, *base, *o, *st, *arr;
	size_t counts[RSEV__N];
	int rc = -1;

	if (!root)
		return err_oom(e);
	cJSON_AddNumberToObject(root, "schemaVersion", 1);
	cJSON_AddItemToObject(root, "tool", str_or_null(r->tool));
	cJSON_AddItemToObject(root, "created", str_or_null(r->created));
	img = cJSON_AddObjectToObject(root, "image");
	cJSON_AddItemToObject(img, "ref", str_or_null(r->ref));
	cJSON_AddItemToObject(img, "tags", list_json(r->tags, r->n_tags));
	cJSON_AddItemToObject(img, "digest", str_or_null(r->digest));
	cJSON_AddBoolToObject(img, "pushed", r->pushed);
	cJSON_AddItemToObject(img, "platform", str_or_null(r->platform));
	base = cJSON_AddObjectToObject(img, "base");
	cJSON_AddItemToObject(base, "name", str_or_null(r->base_name));
	cJSON_AddItemToObject(base, "digest", str_or_null(r->base_digest));
	cJSON_AddItemToObject(base, "created", str_or_null(r->base_created));
	if (r->base_age_days >= 0)
		cJSON_AddNumberToObject(base, "ageDays", (double)r->base_age_days);
	else
		cJSON_AddNullToObject(base, "ageDays");
	if (r->base_max_age_days >= 0)
		cJSON_AddNumberToObject(base, "maxAgeDays", (double)r->base_max_age_days);
	else
		cJSON_AddNullToObject(base, "maxAgeDays");
	o = cJSON_AddObjectToObject(root, "policy");
	cJSON_AddItemToObject(o, "failOn", str_or_null(r->fail_on));
	cJSON_AddBoolToObject(o, "passed", r->policy_passed);
	cJSON_AddBoolToObject(o, "pushOnFail", r->push_on_fail);
	o = cJSON_AddObjectToObject(root, "database");
	cJSON_AddItemToObject(o, "version", str_or_null(r->db_version));
	o = cJSON_AddObjectToObject(root, "stages");
	for (size_t i = 0; i < RS__N; i++) {
		st = cJSON_AddObjectToObject(o, stage_names[i]);
		cJSON_AddStringToObject(st, "status", status_names[r->stage[i].status]);
		cJSON_AddNumberToObject(st, "duration", (double)(long long)(r->stage[i].seconds * 1000 + 0.5) / 1000);
		cJSON_AddItemToObject(st, "details", str_or_null(r->stage[i].details));
	}
	results_counts(r, counts);
	o = cJSON_AddObjectToObject(root, "counts");
	for (size_t i = 0; i < RSEV__N; i++)
		cJSON_AddNumberToObject(o, sev_names[i], (double)counts[i]);
	arr = cJSON_AddArrayToObject(root, "findings");
	for (size_t i = 0; i < r->n_f; i++) {
		const struct res_finding *f = &r->f[i];
		cJSON *j = cJSON_CreateObject();

		cJSON_AddStringToObject(j, "id", f->id);
		cJSON_AddItemToObject(j, "aliases", list_json(f->aliases, f->n_aliases));
		cJSON_AddStringToObject(j, "severity", f->severity);
		cJSON_AddStringToObject(j, "package", f->package);
		cJSON_AddStringToObject(j, "installed", f->installed);
		cJSON_AddStringToObject(j, "fixed", f->fixed);
		cJSON_AddStringToObject(j, "layer", f->layer);
		cJSON_AddBoolToObject(j, "fromBase", f->from_base);
		cJSON_AddStringToObject(j, "title", f->title);
		cJSON_AddBoolToObject(j, "failing", f->failing);
		cJSON_AddBoolToObject(j, "suppressed", f->suppressed);
		if (f->cvss_vector) {
			cJSON_AddNumberToObject(j, "cvssScore", f->cvss_score);
			cJSON_AddStringToObject(j, "cvssVector", f->cvss_vector);
			if (cvss_nomenclature(f->cvss_vector))
				cJSON_AddStringToObject(j, "cvssNomenclature", cvss_nomenclature(f->cvss_vector));
		}
		cJSON_AddItemToArray(arr, j);
	}
	o = cJSON_AddObjectToObject(root, "signing");
	cJSON_AddItemToObject(o, "key", str_or_null(r->sign_key));
	cJSON_AddItemToObject(o, "keyId", str_or_null(r->sign_key_id));
	cJSON_AddItemToObject(o, "signed", list_json(r->signed_refs, r->n_signed));
	cJSON_AddItemToObject(o, "attestations", list_json(r->attestations, r->n_attestations));
	if (patch_json(r, root) < 0)
		err_oom(e);
	else if (oj_print_buf(root, true, out, e) == 0 && buf_adds(out, "\n", e) == 0)
		rc = 0;
	cJSON_Delete(root);
	return rc;
}

/* Typed getters: a missing or null member leaves *dst unchanged; any other
 * type is bad input. */
static int get_str(const cJSON *o, const char *name, char **dst, struct err *e)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

	if (!v || cJSON_IsNull(v))
		return 0;
	if (!cJSON_IsString(v))
		return err_set(e, ERR_INPUT, "\"%s\" must be a string", name);
	return results_set(dst, v->valuestring, e);
}

static int get_bool(const cJSON *o, const char *name, bool *dst, struct err *e)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

	if (!v || cJSON_IsNull(v))
		return 0;
	if (!cJSON_IsBool(v))
		return err_set(e, ERR_INPUT, "\"%s\" must be true or false", name);
	*dst = cJSON_IsTrue(v);
	return 0;
}

static int get_num(const cJSON *o, const char *name, double lo, double hi, double *dst,
		   struct err *e)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

	if (!v || cJSON_IsNull(v))
		return 0;
	if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) || v->valuedouble < lo || v->valuedouble > hi)
		return err_set(e, ERR_INPUT, "\"%s\" must be a number from %g to %g", name, lo, hi);
	*dst = v->valuedouble;
	return 0;
}

static int get_list(const cJSON *o, const char *name, char ***l, size_t *n, struct err *e)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name), *it;

	if (!v || cJSON_IsNull(v))
		return 0;
	if (!cJSON_IsArray(v))
		return err_set(e, ERR_INPUT, "\"%s\" must be an array", name);
	cJSON_ArrayForEach(it, v) {
		if (!cJSON_IsString(it))
			return err_set(e, ERR_INPUT, "\"%s\" must hold strings", name);
		if (results_list_add(l, n, it->valuestring, e))
			return err_prefix(e, "\"%s\"", name);
	}
	return 0;
}

static const cJSON *get_obj(const cJSON *o, const char *name, struct err *e, int *bad)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

	*bad = 0;
	if (!v || cJSON_IsNull(v))
		return NULL;
	if (!cJSON_IsObject(v)) {
		*bad = 1;
		err_set(e, ERR_INPUT, "\"%s\" must be an object", name);
		return NULL;
	}
	return v;
}

static int parse_finding(struct results *r, const cJSON *j, struct err *e)
{
	struct res_finding f;
	int rc = -1;

	memset(&f, 0, sizeof(f));
	if (!cJSON_IsObject(j))
		return err_set(e, ERR_INPUT, "a finding must be an object");
	if (get_str(j, "id", &f.id, e) || get_str(j, "severity", &f.severity, e) ||
	    get_str(j, "package", &f.package, e) || get_str(j, "installed", &f.installed, e) ||
	    get_str(j, "fixed", &f.fixed, e) || get_str(j, "layer", &f.layer, e) ||
	    get_str(j, "title", &f.title, e) || get_list(j, "aliases", &f.aliases, &f.n_aliases, e) ||
	    get_bool(j, "fromBase", &f.from_base, e) || get_bool(j, "failing", &f.failing, e) ||
	    get_bool(j, "suppressed", &f.suppressed, e) || get_str(j, "cvssVector", &f.cvss_vector, e) ||
	    get_num(j, "cvssScore", 0, 10, &f.cvss_score, e))
		goto out;
	if (!f.id || !*f.id) {
		err_set(e, ERR_INPUT, "a finding has no \"id\"");
		goto out;
	}
	if (f.cvss_vector && !cJSON_GetObjectItemCaseSensitive(j, "cvssScore")) {
		/* a vector without its score: computed, or dropped if it does not score */
		struct err e2 = ERR_INIT;

		if (cvss_score(f.cvss_vector, &f.cvss_score, &e2) < 0)
			free(f.cvss_vector), f.cvss_vector = NULL;
	}
	if (!f.severity || res_sev_parse(f.severity) < 0) {
		err_set(e, ERR_INPUT, "finding %s: unknown severity \"%s\"", f.id,
			f.severity ? f.severity : "");
		goto out;
	}
	rc = results_add_finding(r, &f, e);
out:
	finding_free(&f);
	return rc;
}

static int parse_patch(struct results *r, const cJSON *o, struct err *e)
{
	const cJSON *a = cJSON_GetObjectItemCaseSensitive(o, "packages"), *it, *b, *c;
	int bad;
	double d;

	if (get_str(o, "from", &r->patch_from, e))
		return -1;
	if (!r->patch_from)
		return err_set(e, ERR_INPUT, "\"from\" is missing");
	if (a && !cJSON_IsArray(a))
		return err_set(e, ERR_INPUT, "\"packages\" must be an array");
	cJSON_ArrayForEach(it, a) {
		const cJSON *n = cJSON_GetObjectItemCaseSensitive(it, "name"), *f = cJSON_GetObjectItemCaseSensitive(it, "from"),
			    *t = cJSON_GetObjectItemCaseSensitive(it, "to");
		if (!cJSON_IsString(n) || !cJSON_IsString(f) || !cJSON_IsString(t))
			return err_set(e, ERR_INPUT, "\"packages\" entries need name, from and to strings");
		if (results_add_patched(r, n->valuestring, f->valuestring, t->valuestring, e) < 0)
			return -1;
	}
	if ((b = get_obj(o, "before", e, &bad))) {
		if ((c = get_obj(b, "counts", e, &bad)))
			for (size_t i = 0; i < RSEV__N; i++) {
				d = 0;
				if (get_num(c, sev_names[i], 0, RESULTS_MAX_FINDINGS, &d, e))
					return err_prefix(e, "before.counts");
				r->before_counts[i] = (size_t)d;
			}
		else if (bad)
			return -1;
		d = 0;
		if (get_num(b, "failing", 0, RESULTS_MAX_FINDINGS, &d, e))
			return err_prefix(e, "before");
		r->before_failing = (size_t)d;
	} else if (bad) {
		return -1;
	}
	return 0;
}

static int parse_root(struct results *r, const cJSON *root, struct err *e)
{
	const cJSON *img, *base, *o, *st, *it;
	double d;
	int bad;

	if (!cJSON_IsObject(root))
		return err_set(e, ERR_INPUT, "not a JSON object");
	d = 0;
	if (get_num(root, "schemaVersion", 0, 1e9, &d, e))
		return -1;
	if (d != 1)
		return err_set(e, ERR_INPUT, "unsupported schemaVersion %g (want 1)", d);
	if (get_str(root, "tool", &r->tool, e) || get_str(root, "created", &r->created, e))
		return -1;
	if ((img = get_obj(root, "image", e, &bad))) {
		if (get_str(img, "ref", &r->ref, e) || get_list(img, "tags", &r->tags, &r->n_tags, e) ||
		    get_str(img, "digest", &r->digest, e) || get_bool(img, "pushed", &r->pushed, e) ||
		    get_str(img, "platform", &r->platform, e))
			return err_prefix(e, "image");
		if ((base = get_obj(img, "base", e, &bad))) {
			d = -1;
			if (get_str(base, "name", &r->base_name, e) ||
			    get_str(base, "digest", &r->base_digest, e) ||
			    get_str(base, "created", &r->base_created, e) ||
			    get_num(base, "ageDays", 0, 1e6, &d, e))
				return err_prefix(e, "image.base");
			r->base_age_days = (long)d;
			d = -1;
			if (get_num(base, "maxAgeDays", 0, 1e6, &d, e))
				return err_prefix(e, "image.base");
			r->base_max_age_days = (long)d;
		} else if (bad) {
			return err_prefix(e, "image");
		}
	} else if (bad) {
		return -1;
	}
	if ((o = get_obj(root, "policy", e, &bad))) {
		if (get_str(o, "failOn", &r->fail_on, e) || get_bool(o, "passed", &r->policy_passed, e) ||
		    get_bool(o, "pushOnFail", &r->push_on_fail, e))
			return err_prefix(e, "policy");
	} else if (bad) {
		return -1;
	}
	if ((o = get_obj(root, "database", e, &bad))) {
		if (get_str(o, "version", &r->db_version, e))
			return err_prefix(e, "database");
	} else if (bad) {
		return -1;
	}
	if ((o = get_obj(root, "stages", e, &bad))) {
		for (size_t i = 0; i < RS__N; i++) {
			char *status = NULL;
			int s;

			if (!(st = get_obj(o, stage_names[i], e, &bad))) {
				if (bad)
					return err_prefix(e, "stages");
				continue;
			}
			d = 0;
			if (get_str(st, "status", &status, e) || get_num(st, "duration", 0, 1e9, &d, e) ||
			    get_str(st, "details", &r->stage[i].details, e)) {
				free(status);
				return err_prefix(e, "stages.%s", stage_names[i]);
			}
			s = status ? res_status_parse(status) : RST_NOT_RUN;
			if (s < 0) {
				err_set(e, ERR_INPUT, "stages.%s: unknown status \"%s\"", stage_names[i], status);
				free(status);
				return -1;
			}
			free(status);
			r->stage[i].status = (enum res_status)s;
			r->stage[i].seconds = d;
		}
	} else if (bad) {
		return -1;
	}
	it = cJSON_GetObjectItemCaseSensitive(root, "findings");
	if (it && !cJSON_IsNull(it)) {
		const cJSON *f;
		size_t i = 0;

		if (!cJSON_IsArray(it))
			return err_set(e, ERR_INPUT, "\"findings\" must be an array");
		cJSON_ArrayForEach(f, it) {
			if (parse_finding(r, f, e))
				return err_prefix(e, "findings[%zu]", i);
			i++;
		}
	}
	if ((o = get_obj(root, "signing", e, &bad))) {
		if (get_str(o, "key", &r->sign_key, e) || get_str(o, "keyId", &r->sign_key_id, e) ||
		    get_list(o, "signed", &r->signed_refs, &r->n_signed, e) ||
		    get_list(o, "attestations", &r->attestations, &r->n_attestations, e))
			return err_prefix(e, "signing");
	} else if (bad) {
		return -1;
	}
	if ((o = get_obj(root, "patch", e, &bad)))
		return parse_patch(r, o, e) < 0 ? err_prefix(e, "patch") : 0;
	return bad ? -1 : 0;
}

int results_from_json(struct results *r, const char *s, size_t n, struct err *e)
{
	cJSON *root;
	int rc;

	results_init(r);
	root = cJSON_ParseWithLength(s, n);
	if (!root)
		return err_json(e, s, n, "results");
	rc = parse_root(r, root, e);
	cJSON_Delete(root);
	if (rc)
		results_free(r);
	return rc;
}

int results_read_file(struct results *r, const char *path, struct err *e)
{
	struct buf b __attribute__((cleanup(buf_cleanup))) = BUF_INIT;

	results_init(r);
	if (fs_read_file(path, &b, RESULTS_MAX, e) < 0)
		return err_prefix(e, "%s", path);
	if (results_from_json(r, b.data, b.len, e) < 0)
		return err_prefix(e, "%s", path);
	return 0;
}

/* -------------------------------------------------------------- markdown */

/* Markdown table cell: pipes and line breaks would break the row. */
static int md_cell(struct buf *out, const char *s, struct err *e)
{
	for (; s && *s; s++) {
		const char *rep = *s == '|' ? "\\|" : (*s == '\n' || *s == '\r') ? " " : NULL;
		if (rep ? buf_adds(out, rep, e) : buf_add(out, s, 1, e))
			return -1;
	}
	return 0;
}

/* ship --patch: both scans and what changed. */
static int md_patch(const struct results *r, struct buf *out, struct err *e)
{
	size_t c[RSEV__N];

	results_counts(r, c);
	if (buf_addf(out, e, "\n### Patched\n\nThe image as built (`%s`) had %zu critical, %zu high, %zu medium, %zu low, "
			     "%zu unknown (%zu over the threshold); after the patch %zu critical, %zu high, %zu medium, "
			     "%zu low, %zu unknown.\n\n| Package | From | To |\n|---|---|---|\n",
		     r->patch_from, r->before_counts[RSEV_CRITICAL], r->before_counts[RSEV_HIGH],
		     r->before_counts[RSEV_MEDIUM], r->before_counts[RSEV_LOW], r->before_counts[RSEV_UNKNOWN],
		     r->before_failing, c[RSEV_CRITICAL], c[RSEV_HIGH], c[RSEV_MEDIUM], c[RSEV_LOW], c[RSEV_UNKNOWN]))
		return -1;
	for (size_t i = 0; i < r->n_patched; i++)
		if (buf_adds(out, "| ", e) || md_cell(out, r->patched[i].name, e) || buf_adds(out, " | ", e) ||
		    md_cell(out, *r->patched[i].from ? r->patched[i].from : "(new)", e) || buf_adds(out, " | ", e) ||
		    md_cell(out, r->patched[i].to, e) || buf_adds(out, " |\n", e))
			return -1;
	return 0;
}

int results_markdown(const struct results *r, struct buf *out, struct err *e)
{
	size_t counts[RSEV__N], shown = 0;
	static const char *const icon[] = { "-", "✅", "❌", "⚠️", "⏭️" };

	results_counts(r, counts);
	if (buf_addf(out, e, "## bosun ship: %s\n\n",
		     r->policy_passed ? "passed" : "policy failed") ||
	    buf_adds(out, "| | |\n|---|---|\n| Image | `", e) || md_cell(out, r->ref ? r->ref : "-", e) ||
	    buf_adds(out, "` |\n| Digest | `", e) || md_cell(out, r->digest ? r->digest : "-", e) ||
	    buf_adds(out, "` |\n| Base image | ", e) ||
	    md_cell(out, r->base_name ? r->base_name : "unknown", e))
		return -1;
	if (r->base_age_days >= 0 && buf_addf(out, e, " (%ld days old)", r->base_age_days))
		return -1;
	if (buf_addf(out, e, " |\n| Findings | %zu critical, %zu high, %zu medium, %zu low, %zu unknown |\n",
		     counts[RSEV_CRITICAL], counts[RSEV_HIGH], counts[RSEV_MEDIUM], counts[RSEV_LOW],
		     counts[RSEV_UNKNOWN]) ||
	    buf_adds(out, "| Policy | fail on ", e) || md_cell(out, r->fail_on ? r->fail_on : "none", e) ||
	    buf_addf(out, e, ": **%s** |\n", r->policy_passed ? "passed" : "failed") ||
	    buf_adds(out, "| Signed | ", e))
		return -1;
	if (r->n_signed) {
		if (buf_adds(out, "yes, key `", e) || md_cell(out, r->sign_key ? r->sign_key : "?", e) ||
		    buf_adds(out, "`", e))
			return -1;
		if (r->sign_key_id && (buf_adds(out, " (", e) || md_cell(out, r->sign_key_id, e) ||
				       buf_adds(out, ")", e)))
			return -1;
	} else if (buf_adds(out, "no", e)) {
		return -1;
	}
	if (buf_adds(out, " |\n\n### Stages\n\n| Stage | Status | Time | Details |\n|---|---|---|---|\n", e))
		return -1;
	for (size_t i = 0; i < RS__N; i++)
		if (i == RS_PATCH && r->stage[i].status == RST_NOT_RUN)
			continue;
		else if (buf_addf(out, e, "| %s | %s %s | %.1f s | ", stage_names[i], icon[r->stage[i].status],
			     status_names[r->stage[i].status], r->stage[i].seconds) ||
		    md_cell(out, r->stage[i].details, e) || buf_adds(out, " |\n", e))
			return -1;
	for (size_t i = 0; i < r->n_f; i++)
		if (r->f[i].failing && !r->f[i].suppressed) {
			const struct res_finding *f = &r->f[i];

			if (!shown++ && buf_adds(out, "\n### Findings over the threshold\n\n"
						      "| Severity | ID | Package | Installed | Fixed | Title |\n"
						      "|---|---|---|---|---|---|\n", e))
				return -1;
			if (shown > 50)
				break;
			if (buf_adds(out, "| ", e) || md_cell(out, f->severity, e) || buf_adds(out, " | ", e) ||
			    md_cell(out, f->id, e) || buf_adds(out, " | ", e) || md_cell(out, f->package, e) ||
			    buf_adds(out, " | ", e) || md_cell(out, f->installed, e) || buf_adds(out, " | ", e) ||
			    md_cell(out, *f->fixed ? f->fixed : "none", e) || buf_adds(out, " | ", e) ||
			    md_cell(out, f->title, e) || buf_adds(out, " |\n", e))
				return -1;
		}
	if (shown > 50 && buf_addf(out, e, "\n…and %zu more; see report.html.\n", shown - 50))
		return -1;
	if (r->patch_from && md_patch(r, out, e) < 0)
		return -1;
	return buf_adds(out, "\nFull report: `report.html`, JUnit: `junit.xml`.\n", e);
}

/* ----------------------------------------------------------------- JUnit */


/* The patch stage: one passing case per package upgraded. */
static int junit_patch_suite(xmlTextWriterPtr w, const struct results *r, const struct res_stage_info *si)
{
	char t[1024], cls[600];
	const struct junit_suite js = { "patch", r->n_patched, si->status == RST_FAILED, si->status == RST_ERROR, 0,
					RS_PATCH, si->seconds, r->created };
	const struct junit_prop p[] = { { "image.ref", r->ref ? r->ref : "" },
					{ "image.digest", r->digest ? r->digest : "" },
					{ "patch.from", r->patch_from ? r->patch_from : "" } };

	if (junit_suite_start(w, &js, p, ARRAY_SIZE(p)) < 0)
		return -1;
	for (size_t i = 0; i < r->n_patched; i++) {
		junit_classname("patch", r->patched[i].name, cls, sizeof(cls));
		snprintf(t, sizeof(t), "%s %s -> %s", r->patched[i].name,
			 *r->patched[i].from ? r->patched[i].from : "(new)", r->patched[i].to);
		if (junit_case_start(w, cls, t, "0") < 0 || xmlTextWriterEndElement(w) < 0)
			return -1;
	}
	return junit_suite_end(w, si->details ? si->details : "");
}

int results_junit(const struct results *r, struct buf *out, struct err *e)
{
	xmlBufferPtr xb = NULL;
	xmlTextWriterPtr w = NULL;
	char t[2048], cls[600];
	int rc = -1;

	if (xmlw_open(&xb, &w, e) < 0)
		goto out;
	XW(junit_start(w));
	for (size_t s = 0; s < RS__N; s++) {
		const struct res_stage_info *si = &r->stage[s];
		size_t tests = 1, failures = 0, errors = 0, skipped = 0;
		bool per_finding = s == RS_SCAN || s == RS_POLICY;

		if (s == RS_PATCH && si->status == RST_NOT_RUN)
			continue;
		if (s == RS_PATCH && r->n_patched) {
			XW(junit_patch_suite(w, r, si));
			continue;
		}

		/* scan: every finding checked (failing ones fail in policy);
		 * policy: one case per finding, failing when over the threshold. */
		if (per_finding) {
			tests = r->n_f ? r->n_f : 1;
			for (size_t i = 0; i < r->n_f; i++) {
				if (r->f[i].suppressed)
					skipped++;
				else if (s == RS_POLICY && r->f[i].failing)
					failures++;
			}
			if (s == RS_SCAN && si->status == RST_ERROR)
				tests = r->n_f + 1, errors = 1;
			if (si->status == RST_NOT_RUN || si->status == RST_SKIPPED)
				tests = 1, failures = 0, skipped = 1, errors = 0;
		} else {
			failures = si->status == RST_FAILED;
			errors = si->status == RST_ERROR;
			skipped = si->status == RST_NOT_RUN || si->status == RST_SKIPPED;
		}
		{
			const struct junit_suite js = {stage_names[s], tests,	  failures,
						       errors,	       skipped,	  s,
						       si->seconds,    r->created};
			const struct junit_prop p[] = {
			    {"image.ref", r->ref ? r->ref : ""},
			    {"image.digest", r->digest ? r->digest : ""},
			    {"db.version", r->db_version ? r->db_version : ""},
			    {"policy.failOn", r->fail_on ? r->fail_on : ""}};

			XW(junit_suite_start(w, &js, p, ARRAY_SIZE(p)));
		}
		if (per_finding && r->n_f && si->status != RST_NOT_RUN && si->status != RST_SKIPPED) {
			for (size_t i = 0; i < r->n_f; i++) {
				const struct res_finding *f = &r->f[i];

				junit_classname(stage_names[s], f->package, cls, sizeof(cls));
				snprintf(t, sizeof(t), "%s %s", f->package, f->id);
				XW(junit_case_start(w, cls, t, NULL));
				if (f->suppressed) {
					XW(junit_outcome(w, "skipped", "suppressed by ignore file or VEX", NULL, NULL));
				} else if (s == RS_POLICY && f->failing) {
					snprintf(t, sizeof(t), "%s %s in %s %s (layer %s%s); fixed version: %s", f->id,
						 f->severity, f->package, f->installed, *f->layer ? f->layer : "?",
						 f->from_base ? ", from the base image" : "",
						 *f->fixed ? f->fixed : "none");
					if (f->cvss_vector) /* "; CVSS-B 7.3 CVSS:4.0/...", "; CVSS 9.8 CVSS:3.1/..." */
						snprintf(t + strlen(t), sizeof(t) - strlen(t), "; %s %.1f %s",
							 cvss_nomenclature(f->cvss_vector) ? cvss_nomenclature(f->cvss_vector)
											   : "CVSS",
							 f->cvss_score, f->cvss_vector);
					XW(junit_outcome(w, "failure", *f->title ? f->title : f->id, f->severity, t));
				}
				XW(xmlTextWriterEndElement(w));
			}
			if (s == RS_SCAN && si->status == RST_ERROR) {
				XW(junit_case_start(w, "scan.image", "scan", NULL));
				XW(junit_outcome(w, "error", si->details ? si->details : "error", "error", NULL));
				XW(xmlTextWriterEndElement(w));
			}
		} else {
			/* the stage's own step as one case */
			char secs[32];

			snprintf(cls, sizeof(cls), "%s.image", stage_names[s]);
			snprintf(secs, sizeof(secs), "%.3f", si->seconds);
			XW(junit_case_start(w, cls, per_finding && !skipped ? "no findings" : stage_names[s], secs));
			if (skipped)
				XW(junit_outcome(w, "skipped", si->details ? si->details : "not run", NULL, NULL));
			else if (failures || errors)
				XW(junit_outcome(w, failures ? "failure" : "error",
						 si->details ? si->details : status_names[si->status],
						 status_names[si->status], NULL));
			XW(xmlTextWriterEndElement(w));
		}
		XW(junit_suite_end(w, si->details ? si->details : ""));
	}
	XW(xmlTextWriterEndElement(w));
	rc = xmlw_finish(&w, xb, out, e);
out:
	xmlw_free(w, xb);
	return rc;
}
