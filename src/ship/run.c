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
#include "ship/ship.h"
#include "core/version.h"
#include "core/ojson.h"

static void stage_set(struct results *r, enum res_stage s, enum res_status st, double t0, const char *fmt,
		      ...) __attribute__((format(printf, 5, 6)));
static void stage_set(struct results *r, enum res_stage s, enum res_status st, double t0, const char *fmt,
		      ...)
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

static const char *sev_lower(enum severity s)
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

static int add_findings(struct results *r, const struct inventory *inv, const struct scan_result *res,
			struct err *e)
{
	for (size_t i = 0; i < res->n; i++) {
		const struct finding *f = &res->f[i];
		struct res_finding rf = { 0 };
		char **al = NULL;
		size_t nal = 0;
		cJSON *a = f->aliases ? cJSON_Parse(f->aliases) : NULL, *it;
		int rc = 0;

		cJSON_ArrayForEach(it, a) {
			if (cJSON_IsString(it) && (rc = results_list_add(&al, &nal, it->valuestring, e)) < 0)
				break;
		}
		cJSON_Delete(a);
		if (rc == 0) {
			rf.id = f->id;
			rf.severity = (char *)sev_lower(f->severity);
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
	rc = oj_print_buf(root, out, e);
out:
	cJSON_Delete(root);
	buf_free(&js);
	return rc;
}

/* SLSA v1 provenance: what was built from what. Build argument values stay
 * out (they may carry tokens); their names are recorded. */
static int provenance(const struct ship_opts *o, const struct results *r, const char *started,
		      const char *finished, struct buf *out, struct err *e)
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
	if (r->base_name && r->base_digest && str_starts(r->base_digest, "sha256:")) {
		cJSON *d = cJSON_CreateObject(), *dg;
		char *uri = xasprintf_e(e, "pkg:docker/%s", r->base_name);

		cJSON_AddStringToObject(d, "uri", uri ? uri : r->base_name);
		free(uri);
		dg = cJSON_AddObjectToObject(d, "digest");
		cJSON_AddStringToObject(dg, "sha256", r->base_digest + 7);
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
	rc = oj_print_buf(root, out, e);
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
	if (o->db_max_age > 0) {
		int64_t built = vdb_built_time(db);

		if (built < 0 || (long long)time(NULL) - built > o->db_max_age) {
			vdb_close(db);
			return err_set(e, ERR_INPUT, "database %s is older than --db-max-age (%lld days)", o->db,
				       o->db_max_age / 86400);
		}
	}
	vdb_close(db);
	return 0;
}

/* Push to --output and, when the gate allows, to every -t reference. */
static int push_stage(const struct ship_opts *o, struct results *r, const struct location *src, struct err *e)
{
	double tscan;
	int rc;

	if (o->on_stage)
		o->on_stage(RS_PUSH, o->cb_arg);
	tscan = time_now();
	if (o->output) {
		struct location dst;
		struct copy_opts co = { o->reg, o->reg, NULL };
		struct copy_result cr;

		if (location_parse(&dst, o->output, e) < 0)
			return -1;
		rc = image_copy(src, &dst, &co, &cr, e);
		location_free(&dst);
		if (rc < 0) {
			stage_set(r, RS_PUSH, RST_ERROR, tscan, "--output %s: %s", o->output, e->msg);
			return err_prefix(e, "--output %s", o->output);
		}
	}
	if (o->no_push || (!r->policy_passed && !o->push_on_fail)) {
		stage_set(r, RS_PUSH, RST_SKIPPED, 0, "%s",
			  o->no_push ? "--no-push" : "the policy gate failed: nothing pushed");
	} else {
		for (size_t i = 0; i < o->n_tags; i++) {
			struct location dst;
			struct copy_opts co = { o->reg, o->reg, NULL };
			struct copy_result cr;
			char title[600];

			if (location_parse(&dst, o->tags[i], e) < 0)
				return -1;
			snprintf(title, sizeof(title), "push %s", o->tags[i]);
			co.dst_reg.progress = progress_new(title);
			rc = image_copy(src, &dst, &co, &cr, e);
			progress_free(co.dst_reg.progress);
			location_free(&dst);
			if (rc < 0) {
				stage_set(r, RS_PUSH, RST_ERROR, tscan, "%s: %s", o->tags[i], e->msg);
				return err_prefix(e, "push %s", o->tags[i]);
			}
		}
		r->pushed = true;
		stage_set(r, RS_PUSH, RST_PASSED, tscan, "%zu tag%s%s", o->n_tags, o->n_tags == 1 ? "" : "s",
			  r->policy_passed ? "" : " (--push-on-fail: the gate failed)");
	}
	return 0;
}

/* One repository that ship signs: its first -t reference, with the digest
 * pushed (what is signed is what was pushed, whatever the tag says by now),
 * and one registry client for the signature and every attestation. */
struct sign_target {
	struct location loc;
	struct reg_client *cl;
};

static void sign_targets_free(struct sign_target *t, size_t n)
{
	for (size_t i = 0; t && i < n; i++) {
		reg_close(t[i].cl);
		if (t[i].loc.text)
			location_free(&t[i].loc);
	}
	free(t);
}

/* The targets of o->tags (one per repository), opened for push. */
static int sign_targets_open(const struct ship_opts *o, const char *digest, struct sign_target **out, size_t *n,
			     struct err *e)
{
	struct sign_target *t = calloc(o->n_tags ? o->n_tags : 1, sizeof(*t));
	size_t k = 0;

	*out = NULL;
	*n = 0;
	if (!t)
		return err_oom(e);
	for (size_t i = 0; i < o->n_tags; i++) {
		if (repo_seen_before(o, i))
			continue;
		if (location_parse(&t[k].loc, o->tags[i], e) < 0) {
			sign_targets_free(t, k);
			return -1;
		}
		k++;
		if ((!t[k - 1].loc.ref.digest && !(t[k - 1].loc.ref.digest = xstrdup_e(digest, e))) ||
		    reg_open(&t[k - 1].cl, &t[k - 1].loc.ref, &o->reg, true, e) < 0) {
			err_prefix(e, "%s", o->tags[i]);
			sign_targets_free(t, k);
			return -1;
		}
	}
	*out = t;
	*n = k;
	return 0;
}

/* Sign what was pushed and passed the gate, once per repository. */
static int sign_stage(const struct ship_opts *o, struct results *r, const struct sign_key *key,
		      const struct sign_target *t, size_t n_t, struct err *e)
{
	double tscan;

	if (o->on_stage)
		o->on_stage(RS_SIGN, o->cb_arg);
	tscan = time_now();
	if (!o->key) {
		stage_set(r, RS_SIGN, RST_SKIPPED, 0, "no --key");
	} else if (!r->pushed) {
		stage_set(r, RS_SIGN, RST_SKIPPED, 0, "not pushed");
	} else if (!r->policy_passed) {
		stage_set(r, RS_SIGN, RST_SKIPPED, 0, "the policy gate failed: pushed with --push-on-fail, never signed");
	} else {
		results_set(&r->sign_key, o->key, e);
		results_set(&r->sign_key_id, key->fingerprint, e);
		for (size_t i = 0; i < n_t; i++) {
			struct sign_result sr = { 0 };

			if (sign_image(t[i].cl, &t[i].loc.ref, key, NULL, NULL, 0, &sr, e) < 0) {
				stage_set(r, RS_SIGN, RST_ERROR, tscan, "%s: %s", t[i].loc.text, e->msg);
				err_prefix(e, "sign %s", t[i].loc.text);
				sign_result_free(&sr);
				return -1;
			}
			sign_result_free(&sr);
		}
		/* every -t reference, each repository signed once */
		for (size_t i = 0; i < o->n_tags; i++) {
			char *signed_ref = xasprintf_e(e, "%s@%s", o->tags[i], r->digest);

			if (signed_ref)
				results_list_add(&r->signed_refs, &r->n_signed, signed_ref, e);
			free(signed_ref);
		}
		stage_set(r, RS_SIGN, RST_PASSED, tscan, "%s key %.23s…", sign_alg_name(key->alg), key->fingerprint);
	}
	return 0;
}

/* SBOM, vulnerability scan and SLSA provenance attestations on what was
 * signed: the three of one repository written together. */
static int attest_stage(const struct ship_opts *o, struct results *r, const struct report_in *in,
			const struct sign_key *key, const struct sign_target *t, size_t n_t, const char *started,
			const char *finished, struct err *e)
{
	double tscan;

	if (o->on_stage)
		o->on_stage(RS_ATTEST, o->cb_arg);
	tscan = time_now();
	if (!o->attest) {
		stage_set(r, RS_ATTEST, RST_SKIPPED, 0, "no --attest");
	} else if (!r->n_signed) {
		stage_set(r, RS_ATTEST, RST_SKIPPED, 0, "nothing signed");
	} else {
		static const char *const types[] = { "cyclonedx", "vuln", "slsaprovenance" };
		struct buf pred[3] = { BUF_INIT, BUF_INIT, BUF_INIT };
		struct attest_pred ap[3];
		int ok = report_cyclonedx(in, &pred[0], e) == 0 &&
			 vuln_predicate(in, started, finished, &pred[1], e) == 0 &&
			 provenance(o, r, started, finished, &pred[2], e) == 0;

		for (size_t k = 0; k < 3; k++)
			ap[k] = (struct attest_pred){ intoto_predicate_type(types[k]), pred[k].data, pred[k].len };
		for (size_t i = 0; ok && i < n_t; i++) {
			struct sign_result sr = { 0 };

			if (attest_image_many(t[i].cl, &t[i].loc.ref, key, ap, 3, SIG_FORMAT_BOTH, &sr, e) < 0) {
				err_prefix(e, "attest %s", t[i].loc.text);
				ok = 0;
			}
			sign_result_free(&sr);
		}
		for (size_t k = 0; ok && k < 3; k++)
			results_list_add(&r->attestations, &r->n_attestations, ap[k].type, e);
		for (size_t k = 0; k < 3; k++)
			buf_free(&pred[k]);
		if (!ok) {
			stage_set(r, RS_ATTEST, RST_ERROR, tscan, "%s", e->msg);
			return -1;
		}
		stage_set(r, RS_ATTEST, RST_PASSED, tscan, "SBOM (CycloneDX), vulnerability scan, SLSA provenance");
	}
	return 0;
}

/* Sign and attest (when the gate let it be pushed): the key as preflight
 * loaded it, else loaded here. */
static int sign_and_attest(const struct ship_opts *o, struct results *r, const struct report_in *in,
			   const char *started, const char *finished, struct err *e)
{
	struct sign_key own = { 0 };
	const struct sign_key *key = o->signer;
	struct sign_target *t = NULL;
	size_t n_t = 0;
	int rc = -1;

	if (o->key && r->pushed && r->policy_passed) {
		if (!key) {
			if (sign_key_load_private(&own, o->key, e) < 0) {
				stage_set(r, RS_SIGN, RST_ERROR, time_now(), "%s", e->msg);
				return -1;
			}
			key = &own;
		}
		if (sign_targets_open(o, r->digest, &t, &n_t, e) < 0) {
			stage_set(r, RS_SIGN, RST_ERROR, time_now(), "%s", e->msg);
			goto out;
		}
	}
	if (sign_stage(o, r, key, t, n_t, e) < 0 || attest_stage(o, r, in, key, t, n_t, started, finished, e) < 0)
		goto out;
	rc = 0;
out:
	sign_targets_free(t, n_t);
	sign_key_free(&own);
	return rc;
}

int ship_run(const struct ship_opts *o, struct results *r, struct err *e)
{
	struct build_result br = { 0 };
	struct vdb *db = NULL;
	struct inventory inv = { 0 };
	struct scan_result sres = { 0 };
	struct location src = { 0 };
	char spec[4096], started[32], finished[32], *dbv = NULL;
	double t0 = time_now(), tscan;
	int failing = 0, rc = -1;
	bool built = false;

	time_rfc3339((int64_t)time(NULL), started);
	snprintf(spec, sizeof(spec), "bosun %s", bosun_version);
	results_set(&r->tool, spec, e);
	results_set(&r->created, started, e);
	results_set(&r->platform, o->build.platform ? o->build.platform : "linux/amd64", e);
	results_set(&r->fail_on, o->pol.fail_on >= 0 ? sev_lower((enum severity)o->pol.fail_on) : "none", e);
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
		stage_set(r, RS_BUILD, RST_ERROR, t0, "%s", e->msg);
		err_prefix(e, "build");
		goto out;
	}
	built = true;
	results_set(&r->digest, br.digest, e);
	stage_set(r, RS_BUILD, RST_PASSED, t0, "%d step%s, %d cached", br.steps, br.steps == 1 ? "" : "s", br.hits);
	snprintf(spec, sizeof(spec), "oci:%s:build", br.layout);
	base_info(r, spec, o);

	/* ---- scan */
	if (o->on_stage)
		o->on_stage(RS_SCAN, o->cb_arg);
	tscan = time_now();
	if (vdb_open(&db, o->db, e) < 0) {
		stage_set(r, RS_SCAN, RST_ERROR, tscan, "%s", e->msg);
		goto out;
	}
	{
		struct inv_opts io = { &o->reg, o->build.platform, NULL, r->base_name };

		if (inventory_scan(spec, &io, &inv, e) < 0 && r->base_name) {
			/* an unreachable base only costs the from-base marks */
			log_warn("scan: base image %s: %s; findings are not split by layer origin", r->base_name, e->msg);
			err_clear(e);
			inventory_free(&inv);
			memset(&inv, 0, sizeof(inv));
			io.base = NULL;
			if (inventory_scan(spec, &io, &inv, e) < 0)
				goto scan_err;
		} else if (e->code) {
			goto scan_err;
		}
	}
	if (scan_match(db, &inv, &sres, e) < 0)
		goto scan_err;
	dbv = vdb_meta(db, "built");
	results_set(&r->db_version, dbv, e);
	stage_set(r, RS_SCAN, RST_PASSED, tscan, "%zu package%s (%s), %zu finding%s", inv.n, inv.n == 1 ? "" : "s",
		  inv.os.pretty[0] ? inv.os.pretty : "no OS detected", sres.n, sres.n == 1 ? "" : "s");

	/* ---- policy */
	if (o->on_stage)
		o->on_stage(RS_POLICY, o->cb_arg);
	tscan = time_now();
	failing = scan_policy(&sres, &o->pol, e);
	if (failing < 0) {
		stage_set(r, RS_POLICY, RST_ERROR, tscan, "%s", e->msg);
		goto out;
	}
	if (add_findings(r, &inv, &sres, e) < 0)
		goto out;
	r->policy_passed = failing == 0;
	if (r->policy_passed)
		stage_set(r, RS_POLICY, RST_PASSED, tscan, "no findings at or above %s", r->fail_on);
	else
		stage_set(r, RS_POLICY, RST_FAILED, tscan, "%d finding%s at or above %s", failing,
			  failing == 1 ? "" : "s", r->fail_on);
	if (sres.warnings)
		log_warn("%s", sres.warnings);
	time_rfc3339((int64_t)time(NULL), finished);
	{
		struct report_in in = { &inv, &sres, o->pol.fail_on, dbv, bosun_version, false, time_now() - t0 };

		if (write_report(RF_SARIF, &in, o->report_dir, "scan.sarif", e) < 0 ||
		    write_report(RF_CYCLONEDX, &in, o->report_dir, "sbom.cdx.json", e) < 0)
			goto out;
	}

	if (location_parse(&src, spec, e) < 0 || push_stage(o, r, &src, e) < 0)
		goto out;
	{
		struct report_in in = { &inv, &sres, o->pol.fail_on, dbv, bosun_version, false, 0 };

		if (sign_and_attest(o, r, &in, started, finished, e) < 0)
			goto out;
	}
	rc = 0;
	goto out;
scan_err:
	stage_set(r, RS_SCAN, RST_ERROR, tscan, "%s", e->msg);
	err_prefix(e, "scan");
out:
	if (!built && r->stage[RS_BUILD].status == RST_NOT_RUN)
		stage_set(r, RS_BUILD, RST_ERROR, t0, "%s", e->msg);
	free(dbv);
	if (src.text)
		location_free(&src);
	scan_result_free(&sres);
	inventory_free(&inv);
	vdb_close(db);
	if (built)
		build_result_free(&br);
	return rc;
}
