/* bosun ship orchestration: build -> scan -> policy -> push -> sign -> attest,
 * every stage's outcome recorded in the results model. */
#include <cjson/cJSON.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "builder/build.h"
#include "core/fs.h"
#include "core/log.h"
#include "core/util.h"
#include "oci/manifest.h"
#include "image/image.h"
#include "image/location.h"
#include "report/report.h"
#include "scan/db.h"
#include "scan/findings.h"
#include "scan/inventory.h"
#include "sign/cosign.h"
#include "sign/keys.h"
#include "sign/store.h"
#include "ship/internal.h"
#include "ship/ship.h"
#include "core/version.h"
#include "core/ojson.h"

void ship_stage_set(struct results *r, enum res_stage s, enum res_status st, double t0, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	r->stage[s].status = st;
	r->stage[s].seconds = t0 > 0 ? time_now() - t0 : 0;
	free(r->stage[s].details);
	r->stage[s].details = NULL;
	if (fmt) {
		va_start(ap, fmt);
		vsnprintf(msg, sizeof(msg), fmt, ap);
		va_end(ap);
		r->stage[s].details = strdup(msg);
	}
}

const char *ship_sev_lower(enum severity s)
{
	switch (s) {
	case SEV_CRITICAL: return "critical";
	case SEV_HIGH: return "high";
	case SEV_MEDIUM: return "medium";
	case SEV_LOW: return "low";
	default: return "unknown"; /* UNKNOWN and NONE (CVSS 0.0) */
	}
}

/* The base image recorded by the build, and when it was created. */
static void base_info(struct results *r, const char *layout_spec, const struct ship_opts *o)
{
	struct err e = ERR_INIT;
	struct location loc = { 0 }, bl = { 0 };
	struct image_src *src = NULL, *bsrc = NULL;
	struct oci_desc top = { 0 }, btop = { 0 };
	struct buf mb = BUF_INIT, bb = BUF_INIT, cb = BUF_INIT;
	struct oci_manifest m = { 0 }, bm = { 0 };
	struct oci_config cfg = { 0 };
	cJSON *ann = NULL;
	char *bref = NULL;
	const cJSON *n, *d;

	if (location_parse(&loc, layout_spec, &e) < 0 || image_src_open(&src, &loc, NULL, &e) < 0 ||
	    image_src_top(src, &top, &e) < 0 || image_src_manifest(src, &top, &mb, &e) < 0 ||
	    oci_manifest_parse(&m, mb.data, mb.len, top.media_type, &e) < 0)
		goto out;
	ann = m.annotations_json ? cJSON_Parse(m.annotations_json) : NULL;
	n = cJSON_GetObjectItemCaseSensitive(ann, ANN_BASE_NAME);
	d = cJSON_GetObjectItemCaseSensitive(ann, ANN_BASE_DIGEST);
	if (!cJSON_IsString(n) || !cJSON_IsString(d))
		goto out;
	results_set(&r->base_name, n->valuestring, &e);
	results_set(&r->base_digest, d->valuestring, &e);
	/* when it was built: the base's config "created" */
	bref = strchr(n->valuestring, '@') ? xstrdup_e(n->valuestring, &e)
					   : xasprintf_e(&e, "%s@%s", n->valuestring, d->valuestring);
	if (!bref || location_parse(&bl, bref, &e) < 0 || image_src_open(&bsrc, &bl, &o->reg, &e) < 0 ||
	    image_src_top(bsrc, &btop, &e) < 0 || image_src_manifest(bsrc, &btop, &bb, &e) < 0 ||
	    oci_manifest_parse(&bm, bb.data, bb.len, btop.media_type, &e) < 0 ||
	    image_src_blob_buf(bsrc, &bm.config, &cb, BUF_CAP_MANIFEST, &e) < 0 ||
	    oci_config_parse(&cfg, cb.data, cb.len, &e) < 0)
		goto out;
	if (cfg.created) {
		struct tm tm = { 0 };

		results_set(&r->base_created, cfg.created, &e);
		if (strptime(cfg.created, "%Y-%m-%dT%H:%M:%S", &tm)) {
			time_t t = timegm(&tm);

			if (t != (time_t)-1 && t <= time(NULL))
				r->base_age_days = (long)((time(NULL) - t) / 86400);
		}
	}
out:
	if (e.code)
		log_debug("base image: %s", e.msg);
	cJSON_Delete(ann);
	free(bref);
	oci_config_free(&cfg);
	oci_manifest_free(&m);
	oci_manifest_free(&bm);
	oci_desc_free(&top);
	oci_desc_free(&btop);
	buf_free(&mb);
	buf_free(&bb);
	buf_free(&cb);
	image_src_close(src);
	image_src_close(bsrc);
	if (loc.text)
		location_free(&loc);
	if (bl.text)
		location_free(&bl);
}

static void free_list(char **l, size_t n)
{
	for (size_t k = 0; k < n; k++)
		free(l[k]);
	free(l);
}

/* A finding another platform's image already has (the same id in the same
 * package version): a multi-platform image lists it once. */
static bool have_finding(const struct results *r, const struct finding *f)
{
	for (size_t i = 0; i < r->n_f; i++)
		if (!strcmp(r->f[i].id, f->id ? f->id : "") && !strcmp(r->f[i].package, f->pkg->name ? f->pkg->name : "") &&
		    !strcmp(r->f[i].installed, f->pkg->version ? f->pkg->version : ""))
			return true;
	return false;
}

int ship_add_findings(struct results *r, const struct inventory *inv, const struct scan_result *res,
		      bool dedupe, struct err *e)
{
	for (size_t i = 0; i < res->n; i++) {
		const struct finding *f = &res->f[i];
		struct res_finding rf = { 0 };
		char **al = NULL;
		size_t nal = 0;
		if (dedupe && have_finding(r, f))
			continue;
		cJSON *a = f->aliases ? cJSON_Parse(f->aliases) : NULL, *it;
		int rc = 0;

		cJSON_ArrayForEach(it, a) {
			if (cJSON_IsString(it) && (rc = results_list_add(&al, &nal, it->valuestring, e)) < 0)
				break;
		}
		cJSON_Delete(a);
		if (rc == 0) {
			rf.id = f->id;
			rf.severity = (char *)ship_sev_lower(f->severity);
			rf.package = f->pkg->name;
			rf.installed = f->pkg->version;
			rf.fixed = f->fixed;
			rf.layer = f->pkg->layer >= 0 && (size_t)f->pkg->layer < inv->n_layers
					   ? inv->layers[f->pkg->layer]
					   : (char *)"";
			rf.title = f->title;
			rf.aliases = al;
			rf.n_aliases = nal;
			rf.from_base = f->pkg->from_base;
			rf.failing = f->failing;
			rf.suppressed = f->suppressed || !f->reported;
			rf.cvss_vector = f->score >= 0 ? f->vector : NULL;
			rf.cvss_score = f->score;
			rc = results_add_finding(r, &rf, e);
		}
		free_list(al, nal);
		if (rc < 0)
			return -1;
	}
	return 0;
}

/* Signatures and attestations live per repository (under the digest's
 * tag), so a second tag in the same repository needs none of its own. */
static bool repo_seen_before(const struct ship_opts *o, size_t i)
{
	struct location a, b;
	struct err e = ERR_INIT;
	bool same = false;

	if (location_parse(&a, o->tags[i], &e) < 0)
		return false;
	for (size_t j = 0; j < i && !same; j++) {
		if (location_parse(&b, o->tags[j], &e) < 0)
			continue;
		same = !strcmp(a.ref.registry, b.ref.registry) && !strcmp(a.ref.repository, b.ref.repository);
		location_free(&b);
	}
	location_free(&a);
	return same;
}

/* cosign's vulnerability predicate around bosun's JSON scan report. */
static int vuln_predicate(const struct report_in *in, const char *started, const char *finished,
			  struct buf *out, struct err *e)
{
	struct buf js = BUF_INIT;
	cJSON *root = NULL, *res;
	int rc = -1;

	if (report_json(in, &js, e) < 0)
		goto out;
	res = cJSON_ParseWithLength(js.data, js.len);
	root = cJSON_CreateObject();
	if (!res || !root) {
		cJSON_Delete(res);
		err_set(e, ERR_INTERNAL, "vulnerability predicate: out of memory");
		goto out;
	}
	{
		cJSON *inv = cJSON_AddObjectToObject(root, "invocation"), *sc, *db, *md;

		cJSON_AddNullToObject(inv, "parameters");
		cJSON_AddStringToObject(inv, "uri", "");
		cJSON_AddStringToObject(inv, "event_id", "");
		cJSON_AddStringToObject(inv, "builder.id", "");
		sc = cJSON_AddObjectToObject(root, "scanner");
		cJSON_AddStringToObject(sc, "uri", "bosun");
		cJSON_AddStringToObject(sc, "version", bosun_version);
		db = cJSON_AddObjectToObject(sc, "db");
		cJSON_AddStringToObject(db, "uri", "");
		cJSON_AddStringToObject(db, "version", in->db_version ? in->db_version : "");
		cJSON_AddItemToObject(sc, "result", res);
		md = cJSON_AddObjectToObject(root, "metadata");
		cJSON_AddStringToObject(md, "scanStartedOn", started);
		cJSON_AddStringToObject(md, "scanFinishedOn", finished);
	}
	rc = oj_print_buf(root, false, out, e);
out:
	cJSON_Delete(root);
	buf_free(&js);
	return rc;
}

/* SLSA v1 provenance: what was built from what (the base image's manifest
 * of each platform in bases). Build argument values stay out (they may carry
 * tokens); their names are recorded. */
static int provenance(const struct ship_opts *o, const struct results *r, const char *const *bases, size_t nb,
		      const char *started, const char *finished, struct buf *out, struct err *e)
{
	cJSON *root = cJSON_CreateObject(), *bd, *ep, *args, *deps, *rd, *b, *md;
	int rc;

	if (!root)
		return err_oom(e);
	bd = cJSON_AddObjectToObject(root, "buildDefinition");
	cJSON_AddStringToObject(bd, "buildType", "https://bosun.dev/ship/v1");
	ep = cJSON_AddObjectToObject(bd, "externalParameters");
	cJSON_AddStringToObject(ep, "context", o->build.context);
	cJSON_AddStringToObject(ep, "dockerfile", o->build.dockerfile ? o->build.dockerfile : "Dockerfile");
	if (o->build.target)
		cJSON_AddStringToObject(ep, "target", o->build.target);
	if (o->build.platform)
		cJSON_AddStringToObject(ep, "platform", o->build.platform);
	args = cJSON_AddArrayToObject(ep, "buildArgNames");
	for (size_t i = 0; i < o->build.n_build_args; i++) {
		const char *a = o->build.build_args[i], *eq = strchr(a, '=');
		char *nm = eq ? strndup(a, (size_t)(eq - a)) : strdup(a);

		if (nm)
			cJSON_AddItemToArray(args, cJSON_CreateString(nm));
		free(nm);
	}
	cJSON_AddObjectToObject(bd, "internalParameters");
	deps = cJSON_AddArrayToObject(bd, "resolvedDependencies");
	for (size_t i = 0; i < nb && r->base_name; i++) {
		if (!bases[i] || !str_starts(bases[i], "sha256:"))
			continue;
		cJSON *d = cJSON_CreateObject(), *dg;
		char *uri = xasprintf_e(e, "pkg:docker/%s", r->base_name);

		cJSON_AddStringToObject(d, "uri", uri ? uri : r->base_name);
		free(uri);
		dg = cJSON_AddObjectToObject(d, "digest");
		cJSON_AddStringToObject(dg, "sha256", bases[i] + 7);
		cJSON_AddItemToArray(deps, d);
	}
	rd = cJSON_AddObjectToObject(root, "runDetails");
	b = cJSON_AddObjectToObject(rd, "builder");
	{
		char id[128];

		snprintf(id, sizeof(id), "https://bosun.dev/ship@%s", bosun_version);
		cJSON_AddStringToObject(b, "id", id);
	}
	md = cJSON_AddObjectToObject(rd, "metadata");
	{
		/* the CI run, when there is one */
		const char *id = getenv("BUILD_BUILDURI");

		if (!id || !*id)
			id = getenv("BUILD_URL");
		if (!id || !*id)
			id = getenv("GITHUB_RUN_ID");
		if (id && *id)
			cJSON_AddStringToObject(md, "invocationId", id);
	}
	cJSON_AddStringToObject(md, "startedOn", started);
	cJSON_AddStringToObject(md, "finishedOn", finished);
	rc = oj_print_buf(root, false, out, e);
	cJSON_Delete(root);
	return rc;
}

static int write_report(enum report_fmt f, const struct report_in *in, const char *dir, const char *name,
			struct err *e)
{
	struct buf b __attribute__((cleanup(buf_cleanup))) = BUF_INIT;
	char *p __attribute__((cleanup(freep))) = fs_join(dir, name);

	if (!p)
		return err_oom(e);
	if (report_write(f, in, &b, e) < 0 || fs_write_atomic(p, b.data, b.len, 0644, e) < 0)
		return err_prefix(e, "%s", name);
	return 0;
}

int ship_preflight(const struct ship_opts *o, struct sign_key *key, struct err *e)
{
	struct vdb *db = NULL;
	struct oci_platform *plats;
	size_t np;

	if (build_platforms_parse(o->build.platform, &plats, &np, e) < 0)
		return -1;
	build_platforms_free(plats, np);
	if (np > 1 && o->output && str_starts(o->output, "docker-archive:"))
		return err_set(e, ERR_USAGE, "--output %s: a docker archive holds one platform; write the %zu platforms "
			       "to oci:DIR[:TAG] or a registry", o->output, np);
	if (!o->no_push && !o->n_tags)
		return err_set(e, ERR_USAGE, "nothing to push to: give -t REF (or --no-push)");
	for (size_t i = 0; i < o->n_tags; i++) {
		struct location l;
		bool reg;

		if (location_parse(&l, o->tags[i], e) < 0)
			return err_prefix(e, "-t %s", o->tags[i]);
		reg = l.kind == LOC_REGISTRY;
		location_free(&l);
		if (!reg)
			return err_set(e, ERR_USAGE, "-t %s: ship pushes to registries; use --output for %s", o->tags[i],
				       "OCI layouts and archives");
	}
	if (o->key) {
		struct sign_key k = { 0 };

		if (!fs_exists(o->key))
			return err_set(e, ERR_INPUT, "--key %s: no such file", o->key);
		if (sign_key_load_private(key ? key : &k, o->key, e) < 0)
			return err_prefix(e, "--key %s", o->key);
		sign_key_free(&k);
	}
	if (vdb_open(&db, o->db, e) < 0)
		return err_prefix(e, "--db %s", o->db);
	if (vdb_too_old(db, o->db_max_age)) {
		vdb_close(db);
		return err_set(e, ERR_INPUT, "database %s is older than --db-max-age (%lld days)", o->db,
			       o->db_max_age / 86400);
	}
	vdb_close(db);
	return 0;
}

/* Push to --output and, when the gate allows, to every -t reference. */
static int push_stage(const struct ship_opts *o, struct results *r, const struct location *src, struct err *e)
{
	double tscan;

	if (o->on_stage)
		o->on_stage(RS_PUSH, o->cb_arg);
	tscan = time_now();
	if (o->output) {
		if (image_copy_to(src, o->output, &o->reg, NULL, false, e) < 0) {
			ship_stage_set(r, RS_PUSH, RST_ERROR, tscan, "--output %s: %s", o->output, e->msg);
			return err_prefix(e, "--output %s", o->output);
		}
	}
	if (o->no_push || (!r->policy_passed && !o->push_on_fail)) {
		ship_stage_set(r, RS_PUSH, RST_SKIPPED, 0, "%s",
			  o->no_push ? "--no-push" : "the policy gate failed: nothing pushed");
	} else {
		for (size_t i = 0; i < o->n_tags; i++) {
			if (image_copy_to(src, o->tags[i], &o->reg, NULL, true, e) < 0) {
				ship_stage_set(r, RS_PUSH, RST_ERROR, tscan, "%s: %s", o->tags[i], e->msg);
				return err_prefix(e, "push %s", o->tags[i]);
			}
		}
		r->pushed = true;
		ship_stage_set(r, RS_PUSH, RST_PASSED, tscan, "%zu tag%s%s", o->n_tags, o->n_tags == 1 ? "" : "s",
			  r->policy_passed ? "" : " (--push-on-fail: the gate failed)");
	}
	return 0;
}

/* Tag i's reference, naming digest instead when given, and a client for its
 * repository. On failure dst is freed (or was never filled). */
static int open_subject(const struct ship_opts *o, size_t i, const char *digest, struct location *dst,
			struct reg_client **cl, struct err *e)
{
	if (location_parse(dst, o->tags[i], e) < 0)
		return -1;
	if (digest) {
		free(dst->ref.digest);
		dst->ref.digest = xstrdup_e(digest, e);
	}
	if ((digest && !dst->ref.digest) || reg_open(cl, &dst->ref, &o->reg, true, e) < 0) {
		location_free(dst);
		return -1;
	}
	return 0;
}

/* Sign the manifest digest (NULL: the one the tag names) in tag i's
 * repository; record what was signed. */
static int sign_one(const struct ship_opts *o, size_t i, const char *digest, struct results *r,
		    const struct sign_key *key, struct err *e)
{
	struct location dst;
	struct reg_client *cl = NULL;
	struct sign_result sr = { 0 };
	char *signed_ref;
	int rc = 0;

	if (open_subject(o, i, digest, &dst, &cl, e) < 0)
		return -1;
	if (sign_image(cl, &dst.ref, key, NULL, NULL, 0, &sr, e) < 0) {
		rc = -1;
	} else {
		signed_ref = xasprintf_e(e, "%s@%s", o->tags[i], sr.digest);
		if (signed_ref)
			results_list_add(&r->signed_refs, &r->n_signed, signed_ref, e);
		free(signed_ref);
	}
	reg_close(cl);
	location_free(&dst);
	sign_result_free(&sr);
	return rc;
}

/* Sign what was pushed and passed the gate, once per repository: the
 * image, or the index and each platform's manifest. */
static int sign_stage(const struct ship_opts *o, struct results *r, const struct build_result *br,
		      struct sign_key *own, const struct sign_key **keyp, struct err *e)
{
	const struct sign_key *key = o->signer; /* decrypted once, by the preflight */
	double tscan;

	if (o->on_stage)
		o->on_stage(RS_SIGN, o->cb_arg);
	tscan = time_now();
	if (!o->key) {
		ship_stage_set(r, RS_SIGN, RST_SKIPPED, 0, "no --key");
	} else if (!r->pushed) {
		ship_stage_set(r, RS_SIGN, RST_SKIPPED, 0, "not pushed");
	} else if (!r->policy_passed) {
		ship_stage_set(r, RS_SIGN, RST_SKIPPED, 0, "the policy gate failed: pushed with --push-on-fail, never signed");
	} else {
		if (!key) {
			if (sign_key_load_private(own, o->key, e) < 0) {
				ship_stage_set(r, RS_SIGN, RST_ERROR, tscan, "%s", e->msg);
				return -1;
			}
			key = own;
		}
		*keyp = key;
		results_set(&r->sign_key, o->key, e);
		results_set(&r->sign_key_id, key->fingerprint, e);
		size_t n_sub = br->is_index ? br->n_images : 0;
		for (size_t i = 0; i < o->n_tags; i++) {
			for (size_t k = 0; k <= n_sub; k++) {
				const char *dig = k ? br->images[k - 1].digest : r->digest; /* what was pushed */
				if (repo_seen_before(o, i)) {
					char *signed_ref = xasprintf_e(e, "%s@%s", o->tags[i], dig ? dig : r->digest);
					if (signed_ref)
						results_list_add(&r->signed_refs, &r->n_signed, signed_ref, e);
					free(signed_ref);
				} else if (sign_one(o, i, dig, r, key, e) < 0) {
					ship_stage_set(r, RS_SIGN, RST_ERROR, tscan, "%s%s%s: %s", o->tags[i], dig ? "@" : "",
						  dig ? dig : "", e->msg);
					return err_prefix(e, "sign %s%s%s", o->tags[i], dig ? "@" : "", dig ? dig : "");
				}
			}
		}
		if (n_sub)
			ship_stage_set(r, RS_SIGN, RST_PASSED, tscan, "%s key %.23s…, the index and %zu manifests",
				  sign_alg_name(key->alg), key->fingerprint, n_sub);
		else
			ship_stage_set(r, RS_SIGN, RST_PASSED, tscan, "%s key %.23s…", sign_alg_name(key->alg),
				  key->fingerprint);
	}
	return 0;
}

/* One platform's image of the build: its scan and what of it fails the gate. */
#define SHIP_NPRED 4 /* SBOM, vulnerability scan, provenance, patch */

struct plat_scan {
	const struct build_image *im;
	char spec[4200]; /* oci:LAYOUT:TAG */
	struct inventory inv;
	struct scan_result sres;
};

/* Attest one subject in tag i's repository: the manifest digest (NULL: the
 * one the tag names) gets every predicate of pred that is not empty. */
static int attest_one(const struct ship_opts *o, size_t i, const char *digest, const struct sign_key *key,
		      const char *const *types, const struct buf *pred, struct err *e)
{
	struct location dst;
	struct reg_client *cl = NULL;
	int rc = 0;

	struct attest_pred ap[SHIP_NPRED];
	struct sign_result sr = { 0 };
	size_t na = 0;

	for (size_t t = 0; t < SHIP_NPRED; t++)
		if (pred[t].len)
			ap[na++] = (struct attest_pred){ intoto_predicate_type(types[t]), pred[t].data, pred[t].len };
	if (na == 0)
		return 0;
	if (open_subject(o, i, digest, &dst, &cl, e) < 0)
		return -1;
	/* the predicates of one subject written together: one .att update and one
	 * referrers index update */
	if (attest_image_many(cl, &dst.ref, key, ap, na, SIG_FORMAT_BOTH, &sr, e) < 0)
		rc = err_prefix(e, "attest %s%s%s", o->tags[i], digest ? "@" : "", digest ? digest : "");
	sign_result_free(&sr);
	reg_close(cl);
	location_free(&dst);
	return rc;
}

/* The predicates: for each platform's image its SBOM, vulnerability scan and
 * provenance (pred[k]); for an index, its provenance naming every platform's
 * base (pred[n]). */
static int predicates(const struct ship_opts *o, const struct results *r, const struct plat_scan *ps, size_t n,
		      bool is_index, const char *dbv, const char *started, const char *finished, struct buf (*pred)[SHIP_NPRED],
		      struct err *e)
{
	const char *bases[64];
	size_t nb = 0;

	for (size_t k = 0; k < n; k++) {
		struct report_in in = { &ps[k].inv, &ps[k].sres, o->pol.fail_on, dbv, bosun_version, false, 0 };
		const char *base = ps[k].im->base_digest[0] ? ps[k].im->base_digest : r->base_digest;
		if (nb < ARRAY_SIZE(bases))
			bases[nb++] = base;
		if (report_cyclonedx(&in, &pred[k][0], e) < 0 || vuln_predicate(&in, started, finished, &pred[k][1], e) < 0 ||
		    provenance(o, r, &base, 1, started, finished, &pred[k][2], e) < 0)
			return -1;
		/* ship --patch (single-platform images only): what the patch changed */
		if (r->patch_from && ship_patch_predicate(r, started, &pred[k][3], e) < 0)
			return -1;
	}
	if (is_index && provenance(o, r, bases, nb, started, finished, &pred[n][2], e) < 0)
		return -1;
	return 0;
}

/* SBOM, vulnerability scan and SLSA provenance attestations on what was
 * signed: the image, or each platform's manifest and the index. */
static int attest_stage(const struct ship_opts *o, struct results *r, const struct plat_scan *ps, size_t n,
			bool is_index, const char *dbv, const struct sign_key *key, const char *started,
			const char *finished, struct err *e)
{
	static const char *const types[SHIP_NPRED] = { "cyclonedx", "vuln", "slsaprovenance", "patch" };
	double tscan;

	if (o->on_stage)
		o->on_stage(RS_ATTEST, o->cb_arg);
	tscan = time_now();
	if (!o->attest) {
		ship_stage_set(r, RS_ATTEST, RST_SKIPPED, 0, "no --attest");
		return 0;
	}
	if (!r->n_signed) {
		ship_stage_set(r, RS_ATTEST, RST_SKIPPED, 0, "nothing signed");
		return 0;
	}
	size_t ns = n + (is_index ? 1 : 0);
	struct buf(*pred)[SHIP_NPRED] = calloc(ns, sizeof(*pred));
	int ok = pred != NULL;
	if (!ok)
		err_oom(e);
	for (size_t k = 0; ok && k < ns; k++)
		for (size_t t = 0; t < SHIP_NPRED; t++)
			buf_init(&pred[k][t], 0);
	ok = ok && predicates(o, r, ps, n, is_index, dbv, started, finished, pred, e) == 0;
	for (size_t i = 0; ok && i < o->n_tags; i++) {
		if (repo_seen_before(o, i))
			continue;
		for (size_t k = 0; ok && k < ns; k++)
			ok = attest_one(o, i, is_index && k < n ? ps[k].im->digest : r->digest, key, types, pred[k], e) == 0;
	}
	for (size_t t = 0; ok && t < (r->patch_from ? 4u : 3u); t++)
		results_list_add(&r->attestations, &r->n_attestations, intoto_predicate_type(types[t]), e);
	for (size_t k = 0; pred && k < ns; k++)
		for (size_t t = 0; t < SHIP_NPRED; t++)
			buf_free(&pred[k][t]);
	free(pred);
	if (!ok) {
		ship_stage_set(r, RS_ATTEST, RST_ERROR, tscan, "%s", e->msg);
		return -1;
	}
	ship_stage_set(r, RS_ATTEST, RST_PASSED, tscan, "SBOM (CycloneDX), vulnerability scan, SLSA provenance%s",
		  is_index ? " of each platform's image; provenance of the index" : r->patch_from ? ", patch" : "");
	return 0;
}

/* Inventory and match one platform's image. */
int ship_scan_image(const struct ship_opts *o, const struct results *r, struct vdb *db, const char *spec,
		    const char *platform, struct inventory *inv, struct scan_result *res, struct err *e)
{
	struct inv_opts io = { &o->reg, platform, NULL, r->base_name };

	if (inventory_scan(spec, &io, inv, e) < 0 && r->base_name) {
		/* an unreachable base only costs the from-base marks */
		log_warn("scan: base image %s: %s; findings are not split by layer origin", r->base_name, e->msg);
		err_clear(e);
		inventory_free(inv);
		memset(inv, 0, sizeof(*inv));
		io.base = NULL;
		if (inventory_scan(spec, &io, inv, e) < 0)
			return -1;
	} else if (e->code) {
		return -1;
	}
	return scan_match(db, inv, res, e);
}

static int scan_platform(const struct ship_opts *o, const struct results *r, struct vdb *db, struct plat_scan *ps,
			 bool multi, struct err *e)
{
	return ship_scan_image(o, r, db, ps->spec, multi ? ps->im->platform : o->build.platform, &ps->inv, &ps->sres,
			       e);
}

/* Scan every platform's image; *dbv gets the database version. */
static int scan_stage(const struct ship_opts *o, struct results *r, struct vdb **db, struct plat_scan *ps, size_t n,
		      bool multi, char **dbv, struct err *e)
{
	struct buf det __attribute__((cleanup(buf_cleanup))) = BUF_INIT;
	double tscan;

	if (o->on_stage)
		o->on_stage(RS_SCAN, o->cb_arg);
	tscan = time_now();
	if (vdb_open(db, o->db, e) < 0) {
		ship_stage_set(r, RS_SCAN, RST_ERROR, tscan, "%s", e->msg);
		return -1;
	}
	for (size_t k = 0; k < n; k++) {
		const struct inventory *inv = &ps[k].inv;
		if (scan_platform(o, r, *db, &ps[k], multi, e) < 0) {
			if (multi)
				err_prefix(e, "%s", ps[k].im->platform);
			ship_stage_set(r, RS_SCAN, RST_ERROR, tscan, "%s", e->msg);
			return err_prefix(e, "scan");
		}
		buf_addf(&det, NULL, "%s%s%s%zu package%s (%s), %zu finding%s", k ? "; " : "",
			 multi ? ps[k].im->platform : "", multi ? ": " : "", inv->n, inv->n == 1 ? "" : "s",
			 inv->os.pretty[0] ? inv->os.pretty : "no OS detected", ps[k].sres.n,
			 ps[k].sres.n == 1 ? "" : "s");
	}
	*dbv = vdb_meta(*db, "built");
	results_set(&r->db_version, *dbv, e);
	ship_stage_set(r, RS_SCAN, RST_PASSED, tscan, "%s", det.data);
	return 0;
}

/* The gate on every platform's findings: it passes when none fails. */
static int policy_stage(const struct ship_opts *o, struct results *r, struct plat_scan *ps, size_t n, bool multi,
			struct err *e)
{
	struct buf det __attribute__((cleanup(buf_cleanup))) = BUF_INIT;
	int failing = 0;
	double tscan;

	if (o->on_stage)
		o->on_stage(RS_POLICY, o->cb_arg);
	tscan = time_now();
	for (size_t k = 0; k < n; k++) {
		int f = scan_policy(&ps[k].sres, &o->pol, e);
		if (f < 0) {
			ship_stage_set(r, RS_POLICY, RST_ERROR, tscan, "%s", e->msg);
			return -1;
		}
		if (ship_add_findings(r, &ps[k].inv, &ps[k].sres, k > 0, e) < 0)
			return -1;
		failing += f;
		if (multi && f)
			buf_addf(&det, NULL, "%s%s: %d", det.len ? ", " : " (", ps[k].im->platform, f);
		if (ps[k].sres.warnings)
			log_warn("%s", ps[k].sres.warnings);
	}
	if (det.len)
		buf_adds(&det, ")", NULL);
	r->policy_passed = failing == 0;
	if (r->policy_passed)
		ship_stage_set(r, RS_POLICY, RST_PASSED, tscan, "no findings at or above %s", r->fail_on);
	else
		ship_stage_set(r, RS_POLICY, RST_FAILED, tscan, "%d finding%s at or above %s%s", failing,
			  failing == 1 ? "" : "s", r->fail_on, det.data);
	return 0;
}

/* scan.sarif and sbom.cdx.json of the (first platform's) image and, for a
 * multi-platform build, scan.OS-ARCH.sarif and sbom.OS-ARCH.cdx.json of each. */
static int scan_reports(const struct ship_opts *o, const struct plat_scan *ps, size_t n, bool multi,
			const char *dbv, double t0, struct err *e)
{
	for (size_t k = 0; k < n; k++) {
		struct report_in in = { &ps[k].inv, &ps[k].sres, o->pol.fail_on, dbv, bosun_version, false, time_now() - t0 };
		char plat[140], sarif[200], cdx[200];

		if (k == 0 && (write_report(RF_SARIF, &in, o->report_dir, "scan.sarif", e) < 0 ||
			       write_report(RF_CYCLONEDX, &in, o->report_dir, "sbom.cdx.json", e) < 0))
			return -1;
		if (!multi)
			continue;
		snprintf(plat, sizeof(plat), "%s", ps[k].im->platform);
		for (char *c = plat; *c; c++)
			if (*c == '/')
				*c = '-';
		snprintf(sarif, sizeof(sarif), "scan.%s.sarif", plat);
		snprintf(cdx, sizeof(cdx), "sbom.%s.cdx.json", plat);
		if (write_report(RF_SARIF, &in, o->report_dir, sarif, e) < 0 ||
		    write_report(RF_CYCLONEDX, &in, o->report_dir, cdx, e) < 0)
			return -1;
	}
	return 0;
}

int ship_run(const struct ship_opts *o, struct results *r, struct err *e)
{
	struct build_result br = { 0 };
	struct vdb *db = NULL;
	struct plat_scan *ps = NULL;
	size_t nps = 0;
	struct sign_key key = { 0 };
	struct location src = { 0 };
	struct patch_image *pimg = NULL;
	const struct sign_key *skey = &key;
	char spec[4096], started[32], finished[32], *dbv = NULL;
	double t0 = time_now();
	int rc = -1;
	bool built = false;

	time_rfc3339((int64_t)time(NULL), started);
	snprintf(spec, sizeof(spec), "bosun %s", bosun_version);
	results_set(&r->tool, spec, e);
	results_set(&r->created, started, e);
	results_set(&r->platform, o->build.platform ? o->build.platform : "linux/amd64", e);
	results_set(&r->fail_on, o->pol.fail_on >= 0 ? ship_sev_lower((enum severity)o->pol.fail_on) : "none", e);
	r->push_on_fail = o->push_on_fail;
	r->base_max_age_days = o->base_max_age_days;
	for (size_t i = 0; i < o->n_tags; i++)
		if (results_list_add(&r->tags, &r->n_tags, o->tags[i], e) < 0)
			return -1;
	results_set(&r->ref, o->n_tags ? o->tags[0] : (o->output ? o->output : "(not pushed)"), e);

	/* ---- build */
	if (o->on_stage)
		o->on_stage(RS_BUILD, o->cb_arg);
	log_info("ship: build %s", o->build.context);
	if (build_run(&o->build, &br, e) < 0) {
		ship_stage_set(r, RS_BUILD, RST_ERROR, t0, "%s", e->msg);
		err_prefix(e, "build");
		goto out;
	}
	built = true;
	results_set(&r->digest, br.digest, e);
	if (br.is_index)
		ship_stage_set(r, RS_BUILD, RST_PASSED, t0, "%zu platforms, %d step%s, %d cached", br.n_images, br.steps,
			  br.steps == 1 ? "" : "s", br.hits);
	else
		ship_stage_set(r, RS_BUILD, RST_PASSED, t0, "%d step%s, %d cached", br.steps, br.steps == 1 ? "" : "s",
			  br.hits);
	ps = calloc(br.n_images, sizeof(*ps));
	if (!ps) {
		err_oom(e);
		goto out;
	}
	nps = br.n_images;
	for (size_t k = 0; k < nps; k++) {
		ps[k].im = &br.images[k];
		snprintf(ps[k].spec, sizeof(ps[k].spec), "oci:%s:%s", br.layout, br.images[k].tag);
	}
	base_info(r, ps[0].spec, o);

	/* ---- scan, policy */
	if (scan_stage(o, r, &db, ps, nps, br.is_index, &dbv, e) < 0 ||
	    policy_stage(o, r, ps, nps, br.is_index, e) < 0)
		goto out;
	if (br.is_index && o->patch)
		ship_stage_set(r, RS_PATCH, RST_SKIPPED, 0, "--patch of a multi-platform image is not supported yet");
	else if (ship_patch_stage(o, r, db, ps[0].spec, sizeof(ps[0].spec), &ps[0].inv, &ps[0].sres, &pimg, e) < 0)
		goto out;
	time_rfc3339((int64_t)time(NULL), finished);
	if (scan_reports(o, ps, nps, br.is_index, dbv, t0, e) < 0)
		goto out;

	/* ---- push, sign, attest */
	if (r->patch_from)
		snprintf(spec, sizeof(spec), "%s", ps[0].spec); /* the patched image */
	else
		snprintf(spec, sizeof(spec), "oci:%s:build", br.layout);
	if (location_parse(&src, spec, e) < 0 || push_stage(o, r, &src, e) < 0 || sign_stage(o, r, &br, &key, &skey, e) < 0 ||
	    attest_stage(o, r, ps, nps, br.is_index, dbv, skey, started, finished, e) < 0)
		goto out;
	rc = 0;
out:
	if (!built && r->stage[RS_BUILD].status == RST_NOT_RUN)
		ship_stage_set(r, RS_BUILD, RST_ERROR, t0, "%s", e->msg);
	free(dbv);
	if (src.text)
		location_free(&src);
	sign_key_free(&key);
	patch_close(pimg);
	for (size_t k = 0; k < nps; k++) {
		scan_result_free(&ps[k].sres);
		inventory_free(&ps[k].inv);
	}
	free(ps);
	vdb_close(db);
	if (built)
		build_result_free(&br);
	return rc;
}
