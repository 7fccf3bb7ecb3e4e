/* ship --patch: when the gate fails only on findings that a distribution
 * package fixes, patch the built image (bosun patch), scan the result and
 * gate it again; the image shipped, signed and attested is the patched one,
 * with a patch attestation naming what changed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>

#include "core/log.h"
#include "core/ojson.h"
#include "core/util.h"
#include "ship/internal.h"

/* Whether every failing finding is on a dpkg package with a fixed version;
 * else the first that is not, for the message. */
static const struct finding *not_fixable(const struct scan_result *res)
{
	for (size_t i = 0; i < res->n; i++) {
		const struct finding *f = &res->f[i];
		if (f->failing && (strcmp(f->pkg->type, "deb") != 0 || !f->fixed || !*f->fixed))
			return f;
	}
	return NULL;
}

static int rescan(const struct ship_opts *o, struct results *r, struct vdb *db, const char *spec,
		  struct inventory *inv, struct scan_result *res, int *failing, struct err *e)
{
	inventory_free(inv);
	scan_result_free(res);
	memset(inv, 0, sizeof(*inv));
	memset(res, 0, sizeof(*res));
	if (ship_scan_image(o, r, db, spec, o->build.platform, inv, res, e) < 0 ||
	    (*failing = scan_policy(res, &o->pol, e)) < 0)
		return err_prefix(e, "the scan of the patched image");
	results_clear_findings(r);
	return ship_add_findings(r, inv, res, false, e);
}

static int run_patch(const struct ship_opts *o, struct results *r, struct patch_image *p, struct vdb *db,
		     char *spec, size_t cap, struct inventory *inv, struct scan_result *res, int *failing,
		     double t0, struct err *e)
{
	struct patch_wants w = { 0 };
	struct patch_result pr = { 0 };
	int before = *failing, rc = -1;

	if (patch_wants_from_scan(&w, res, e) < 0 || patch_apply(p, &w, &pr, e) < 0)
		goto out;
	if (!pr.changed) {
		ship_stage_set(r, RS_PATCH, RST_FAILED, t0, "nothing to upgrade: the archives have no fixed version "
							      "of the %zu package%s", w.n, w.n == 1 ? "" : "s");
		rc = 0;
		goto out;
	}
	results_counts(r, r->before_counts);
	r->before_failing = (size_t)before;
	if (results_set(&r->patch_from, r->digest, e) < 0 || results_set(&r->digest, pr.digest, e) < 0)
		goto out;
	for (size_t i = 0; i < pr.n_pkgs; i++)
		if (results_add_patched(r, pr.pkgs[i].name, pr.pkgs[i].from, pr.pkgs[i].to, e) < 0)
			goto out;
	snprintf(spec, cap, "%s", pr.spec);
	if (rescan(o, r, db, spec, inv, res, failing, e) < 0)
		goto out;
	r->policy_passed = *failing == 0;
	ship_stage_set(r, RS_PATCH, r->policy_passed ? RST_PASSED : RST_FAILED, t0,
		       "%zu package%s upgraded; %d of %d failing finding%s left", pr.n_pkgs, pr.n_pkgs == 1 ? "" : "s",
		       *failing, before, before == 1 ? "" : "s");
	if (r->policy_passed)
		ship_stage_set(r, RS_POLICY, RST_PASSED, 0, "passed after the patch (%d finding%s at or above %s before)",
			       before, before == 1 ? "" : "s", r->fail_on);
	else
		ship_stage_set(r, RS_POLICY, RST_FAILED, 0, "%d finding%s at or above %s after the patch (%d before)",
			       *failing, *failing == 1 ? "" : "s", r->fail_on, before);
	for (size_t i = 0; i < pr.n_unfixed; i++)
		log_warn("patch: not fixed: %s", pr.unfixed[i]);
	rc = 0;
out:
	patch_wants_free(&w);
	patch_result_free(&pr);
	return rc;
}

int ship_patch_stage(const struct ship_opts *o, struct results *r, struct vdb *db, char *spec, size_t cap,
		     struct inventory *inv, struct scan_result *res, struct patch_image **pimg, struct err *e)
{
	double t0 = time_now();
	const struct finding *nf;
	int failing = 0;

	if (!o->patch)
		return 0;
	if (o->on_stage)
		o->on_stage(RS_PATCH, o->cb_arg);
	if (r->policy_passed) {
		ship_stage_set(r, RS_PATCH, RST_SKIPPED, 0, "the gate passed: nothing to patch");
		return 0;
	}
	for (size_t i = 0; i < res->n; i++)
		failing += res->f[i].failing;
	if ((nf = not_fixable(res))) {
		ship_stage_set(r, RS_PATCH, RST_SKIPPED, 0, "not every failing finding has a distribution fix (%s in %s %s)",
			       nf->id, nf->pkg->type, nf->pkg->name);
		return 0;
	}
	const struct patch_opts po = { .reg = o->reg,
				       .platform = o->build.platform,
				       .mirrors = o->patch_mirrors,
				       .n_mirrors = o->n_patch_mirrors,
				       .tool_image = o->patch_tool_image,
				       .created = o->build.source_date_epoch,
				       .comp = o->build.comp };
	log_info("ship: the gate failed on %d finding%s a distribution package fixes: patching", failing,
		 failing == 1 ? "" : "s");
	if (patch_open(pimg, spec, &po, e) < 0 ||
	    run_patch(o, r, *pimg, db, spec, cap, inv, res, &failing, t0, e) < 0) {
		ship_stage_set(r, RS_PATCH, RST_ERROR, t0, "%s", e->msg);
		patch_close(*pimg);
		*pimg = NULL;
		return -1;
	}
	return 0;
}

int ship_patch_predicate(const struct results *r, const char *started, struct buf *out, struct err *e)
{
	cJSON *root __attribute__((cleanup(cjson_deletep))) = cJSON_CreateObject();
	cJSON *img, *pk;

	if (!root || !(img = cJSON_AddObjectToObject(root, "image")) || !(pk = cJSON_AddArrayToObject(root, "packages")))
		return err_oom(e);
	cJSON_AddStringToObject(img, "from", r->patch_from ? r->patch_from : "");
	cJSON_AddStringToObject(img, "to", r->digest ? r->digest : "");
	for (size_t i = 0; i < r->n_patched; i++) {
		cJSON *o = cJSON_CreateObject();
		if (!o)
			return err_oom(e);
		cJSON_AddItemToArray(pk, o);
		cJSON_AddStringToObject(o, "name", r->patched[i].name);
		cJSON_AddStringToObject(o, "from", r->patched[i].from);
		cJSON_AddStringToObject(o, "to", r->patched[i].to);
	}
	cJSON_AddStringToObject(root, "patchedOn", started);
	cJSON *b = cJSON_AddObjectToObject(root, "findingsBefore");
	cJSON_AddNumberToObject(b, "failing", (double)r->before_failing);
	for (size_t i = 0; i < RSEV__N; i++)
		cJSON_AddNumberToObject(b, res_sev_name((enum res_sev)i), (double)r->before_counts[i]);
	cJSON *t = cJSON_AddObjectToObject(root, "patcher");
	cJSON_AddStringToObject(t, "uri", "bosun");
	return oj_print_buf(root, false, out, e);
}
