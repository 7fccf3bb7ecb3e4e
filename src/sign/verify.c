#include <cjson/cJSON.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/fs.h"
#include "core/ojson.h"
#include "core/util.h"
#include "oci/desc.h"
#include "oci/digest.h"
#include "sign/bundle.h"
#include "sign/cosign.h"
#include "sign/store.h"
#include "sign/verify.h"

#define POLICY_MAX (1u << 20)
#define REASONS_MAX 8192

static const char *const sev_names[] = {"unknown", "low", "medium", "high", "critical"};

int sign_severity_rank(const char *s)
{
	size_t i;

	if (strcasecmp(s, "negligible") == 0)
		return 0;
	for (i = 0; i < ARRAY_SIZE(sev_names); i++)
		if (strcasecmp(s, sev_names[i]) == 0)
			return (int)i;
	return -1;
}

const char *sign_severity_name(int rank)
{
	if (rank == SEV_NONE)
		return "none";
	return rank >= 0 && rank < (int)ARRAY_SIZE(sev_names) ? sev_names[rank] : "?";
}

long long sign_parse_duration(const char *s)
{
	char *end;
	long long v;

	if (!isdigit((unsigned char)*s))
		return -1;
	v = strtoll(s, &end, 10);
	if (v < 0 || v > 100LL * 365 * 86400)
		return -1;
	if (!*end || strcmp(end, "s") == 0)
		return v;
	if (strcmp(end, "m") == 0)
		return v * 60;
	if (strcmp(end, "h") == 0)
		return v * 3600;
	if (strcmp(end, "d") == 0)
		return v * 86400;
	return -1;
}

void sign_policy_free(struct sign_policy *p)
{
	size_t i;

	for (i = 0; i < p->n_keys; i++)
		free(p->keys[i]);
	for (i = 0; i < p->n_attestations; i++)
		free(p->attestations[i]);
	free(p->keys);
	free(p->attestations);
	memset(p, 0, sizeof(*p));
}

static int str_list(const cJSON *arr, const char *what, const char *base, char ***out, size_t *n,
		    struct err *e)
{
	const cJSON *it;
	size_t cnt;

	if (!cJSON_IsArray(arr))
		return err_set(e, ERR_INPUT, "%s must be an array of strings", what);
	cnt = (size_t)cJSON_GetArraySize(arr);
	if (cnt > 64)
		return err_set(e, ERR_INPUT, "%s has more than 64 entries", what);
	*out = calloc(cnt + 1, sizeof(char *));
	if (!*out)
		return err_oom(e);
	cJSON_ArrayForEach(it, arr)
	{
		if (!cJSON_IsString(it) || !*it->valuestring)
			return err_set(e, ERR_INPUT, "%s must be an array of strings", what);
		if (base && it->valuestring[0] != '/')
			(*out)[*n] = fs_join(base, it->valuestring);
		else
			(*out)[*n] = strdup(it->valuestring);
		if (!(*out)[(*n)++])
			return err_oom(e);
	}
	return 0;
}

/* The "keys" object: exactly one of anyOf or allOf, a non-empty list. */
static int policy_keys(struct sign_policy *p, const cJSON *keys, const char *dir, struct err *e)
{
	const cJSON *any = cJSON_GetObjectItemCaseSensitive(keys, "anyOf");
	const cJSON *all = cJSON_GetObjectItemCaseSensitive(keys, "allOf");

	if (!cJSON_IsObject(keys) || (!any == !all))
		return err_set(e, ERR_INPUT, "\"keys\" takes exactly one of \"anyOf\" or \"allOf\"");
	p->all_of = all != NULL;
	if (str_list(all ? all : any, all ? "keys.allOf" : "keys.anyOf", dir, &p->keys, &p->n_keys,
		     e) < 0)
		return -1;
	if (p->n_keys == 0)
		return err_set(e, ERR_INPUT, "keys list is empty");
	return 0;
}

/* The "vulnerabilities" object: maxSeverity and maxAge. */
static int policy_vulns(struct sign_policy *p, const cJSON *vuln, struct err *e)
{
	const cJSON *sev = cJSON_GetObjectItemCaseSensitive(vuln, "maxSeverity");
	const cJSON *age = cJSON_GetObjectItemCaseSensitive(vuln, "maxAge");

	if (!cJSON_IsObject(vuln))
		return err_set(e, ERR_INPUT, "\"vulnerabilities\" must be an object");
	if (sev) {
		if (!cJSON_IsString(sev) ||
		    ((p->max_severity = sign_severity_rank(sev->valuestring)) < 0 &&
		     strcasecmp(sev->valuestring, "none") != 0))
			return err_set(e, ERR_INPUT,
				       "maxSeverity takes none, low, medium, high or critical");
		if (p->max_severity < 0)
			p->max_severity = SEV_NONE;
	}
	if (age) {
		p->max_age = cJSON_IsString(age)   ? sign_parse_duration(age->valuestring)
			     : cJSON_IsNumber(age) ? (long long)age->valuedouble
						   : -1;
		if (p->max_age <= 0)
			return err_set(e, ERR_INPUT, "maxAge takes seconds or \"30m\", \"24h\", \"7d\"");
	}
	return 0;
}

static int policy_parse(struct sign_policy *p, const cJSON *root, const char *dir, struct err *e)
{
	const cJSON *keys, *atts, *vuln, *it;

	cJSON_ArrayForEach(it, root)
	{
		if (strcmp(it->string, "keys") && strcmp(it->string, "attestations") &&
		    strcmp(it->string, "vulnerabilities") && strcmp(it->string, "$schema"))
			return err_set(e, ERR_INPUT, "unknown field \"%.64s\"", it->string);
	}
	keys = cJSON_GetObjectItemCaseSensitive(root, "keys");
	if (keys && policy_keys(p, keys, dir, e) < 0)
		return -1;
	atts = cJSON_GetObjectItemCaseSensitive(root, "attestations");
	if (atts &&
	    str_list(atts, "attestations", NULL, &p->attestations, &p->n_attestations, e) < 0)
		return -1;
	vuln = cJSON_GetObjectItemCaseSensitive(root, "vulnerabilities");
	if (vuln && policy_vulns(p, vuln, e) < 0)
		return -1;
	return 0;
}

int sign_policy_load(struct sign_policy *p, const char *path, struct err *e)
{
	struct buf b __attribute__((cleanup(buf_cleanup))) = BUF_INIT;
	_cleanup_free_ char *dir = NULL;
	_cleanup_cjson_ cJSON *root = NULL;
	char *slash;

	memset(p, 0, sizeof(*p));
	p->max_severity = SEV_UNSET;
	if (fs_read_file(path, &b, POLICY_MAX, e) < 0)
		return err_prefix(e, "policy %s", path);
	if (!(dir = xstrdup_e(path, e)))
		return -1;
	slash = strrchr(dir, '/');
	if (slash)
		*slash = '\0';
	else
		dir[0] = '.', dir[1] = '\0';
	root = cJSON_ParseWithLength(b.data, b.len);
	if (!root || !cJSON_IsObject(root))
		return err_json(e, b.data, b.len, "policy %s is not a JSON object", path);
	if (policy_parse(p, root, dir, e) < 0) {
		sign_policy_free(p);
		return err_prefix(e, "policy %s", path);
	}
	return 0;
}

static void add_reason(char *reasons, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add_reason(char *reasons, const char *fmt, ...)
{
	size_t len = strlen(reasons), n;
	char one[640];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(one, sizeof(one), fmt, ap);
	va_end(ap);
	n = strlen(one);
	/* whole reasons only: a cut one could not be told apart later */
	if (len + n + 3 > REASONS_MAX)
		return;
	if (len) {
		reasons[len++] = ';';
		reasons[len++] = ' ';
	}
	memcpy(reasons + len, one, n + 1);
}

static bool same_repo(const char *identity, const char *name)
{
	struct oci_ref r;
	struct err e = ERR_INIT;
	char *n;
	bool ok;

	if (oci_ref_parse(&r, identity, &e) < 0)
		return false;
	n = oci_ref_name(&r);
	ok = n && strcmp(n, name) == 0;
	free(n);
	oci_ref_free(&r);
	return ok;
}

static void layer_time(const struct sig_layer *l, char out[40])
{
	struct oci_desc d = {.annotations_json = l->annotations_json};
	char *t = oci_desc_annotation(&d, ANN_CREATED);

	snprintf(out, 40, "%s", t && time_parse_rfc3339(t, true) >= 0 ? t : "unknown time");
	free(t);
}

/* The keys that verify sig over data: the first one's index, or -1. */
static int first_key(struct verify_req *req, const struct dsse_envelope *env, const struct buf *pae)
{
	for (size_t k = 0; k < req->n_keys; k++)
		for (size_t si = 0; si < env->n_sigs; si++) {
			struct err ve = ERR_INIT;

			if (sign_key_verify(&req->keys[k].key, pae->data, pae->len,
					    env->sigs[si].sig, env->sigs[si].len, &ve) == 0)
				return (int)k;
		}
	return -1;
}

static void bundle_time(const struct sig_bundle_item *b, char out[40])
{
	struct oci_desc d = {.annotations_json = b->annotations_json};
	char *t = oci_desc_annotation(&d, ANN_CREATED);

	snprintf(out, 40, "%s", t && time_parse_rfc3339(t, true) >= 0 ? t : "unknown time");
	free(t);
}

static bool statement_names(const struct intoto_statement *st, const char *digest)
{
	for (size_t k = 0; k < st->n_subjects; k++)
		if (st->subject_sha256[k] &&
		    strcmp(st->subject_sha256[k], oci_digest_hex(digest)) == 0)
			return true;
	return false;
}

/* One parsed bundle: its envelope verified (key index or -1) and its statement. */
struct bundle_view {
	struct sig_bundle b;
	struct intoto_statement st;
	int key;
	bool ok; /* parsed */
};

static int bundle_view(struct verify_req *req, const struct sig_bundle_item *it,
		       struct bundle_view *v, struct err *e)
{
	struct buf pae __attribute__((cleanup(buf_cleanup))) = BUF_INIT;

	memset(v, 0, sizeof(*v));
	v->key = -1;
	if (bundle_parse(&v->b, it->blob.data, it->blob.len, e) < 0)
		return err_prefix(e, "referrer %s", it->manifest_digest);
	if (v->b.message_signature)
		return 0;
	if (strcmp(v->b.env.payload_type, INTOTO_PAYLOAD_TYPE) != 0) {
		err_set(e, ERR_INPUT, "referrer %s: payloadType \"%.100s\" is not in-toto",
			it->manifest_digest, v->b.env.payload_type);
		bundle_free(&v->b);
		return -1;
	}
	if (intoto_statement_parse(&v->st, (const char *)v->b.env.payload, v->b.env.payload_len,
				   e) < 0) {
		bundle_free(&v->b);
		return err_prefix(e, "referrer %s", it->manifest_digest);
	}
	if (dsse_pae(v->b.env.payload_type, v->b.env.payload, v->b.env.payload_len, &pae, e) < 0) {
		bundle_free(&v->b);
		intoto_statement_free(&v->st);
		return -1;
	}
	v->key = first_key(req, &v->b.env, &pae);
	v->ok = true;
	return 0;
}

static void bundle_view_free(struct bundle_view *v)
{
	if (v->ok)
		intoto_statement_free(&v->st);
	bundle_free(&v->b);
}

static int verify_bundle_signatures(const char *digest, struct verify_req *req,
				    const struct sig_bundle_item *items, size_t n_items,
				    struct buf *report, char *reasons, int *n_ok, struct err *e)
{
	for (size_t i = 0; i < n_items; i++) {
		struct bundle_view v;
		char when[40];

		if (bundle_view(req, &items[i], &v, e) < 0)
			return -1;
		if (v.b.message_signature) {
			add_reason(reasons,
				   "bad signature: bundle %s holds a messageSignature; image "
				   "signatures are DSSE statements",
				   items[i].manifest_digest);
			bundle_view_free(&v);
			continue;
		}
		if (strcmp(v.st.predicate_type, PREDICATE_COSIGN_SIGN) != 0) {
			bundle_view_free(&v);
			continue; /* an attestation */
		}
		if (v.key < 0)
			add_reason(reasons,
				   "bad signature: signature bundle %.19s does not verify with any "
				   "given key (wrong key or changed bundle)",
				   items[i].manifest_digest);
		else if (!items[i].subject_digest || strcmp(items[i].subject_digest, digest) != 0)
			add_reason(reasons,
				   "digest mismatch: signature bundle %.19s is a referrer of "
				   "%.80s, the image is %s",
				   items[i].manifest_digest,
				   items[i].subject_digest ? items[i].subject_digest : "nothing",
				   digest);
		else if (!statement_names(&v.st, digest))
			add_reason(reasons,
				   "digest mismatch: signature bundle %.19s (key %s) is for "
				   "sha256:%.64s, the image is %s",
				   items[i].manifest_digest, req->keys[v.key].name,
				   v.st.n_subjects && v.st.subject_sha256[0]
				       ? v.st.subject_sha256[0]
				       : "(none)",
				   digest);
		else {
			struct verify_key *vk = &req->keys[v.key];

			vk->n_verified++;
			(*n_ok)++;
			bundle_time(&items[i], when);
			if (buf_addf(report, e,
				     "signature bundle %.19s: verified by %s (%s %s), signed %s\n",
				     items[i].manifest_digest, vk->name, sign_alg_name(vk->key.alg),
				     vk->key.fingerprint, when) < 0) {
				bundle_view_free(&v);
				return -1;
			}
		}
		bundle_view_free(&v);
	}
	return 0;
}

/* Layer i of the legacy signature tag: which of req's keys verify it, and
 * whether what it signs is this image under this name. */
static int verify_sig_layer(const char *digest, const char *name, const char *tag,
			    struct verify_req *req, const struct sig_layer *l, size_t i,
			    struct buf *report, char *reasons, int *n_ok, struct err *e)
{
	struct oci_desc d = {.annotations_json = l->annotations_json};
	_cleanup_free_ char *b64 = NULL;
	_cleanup_free_ unsigned char *sig = NULL;
	struct cosign_payload p;
	size_t siglen = 0;
	bool any = false;
	int rc = 0;

	if (strcmp(l->media_type, MT_SIMPLESIGNING) != 0)
		return err_set(e, ERR_INPUT, "%s: layer %zu has media type \"%.100s\", not a signature",
			       tag, i, l->media_type);
	b64 = oci_desc_annotation(&d, ANN_COSIGN_SIG);
	if (!b64 || !*b64 || strlen(b64) > 8192)
		return err_set(e, ERR_INPUT, "%s: layer %zu has no %s annotation", tag, i,
			       ANN_COSIGN_SIG);
	if (base64_decode_alloc(b64, &sig, &siglen, e) < 0 && e->code != ERR_INPUT)
		return -1;
	if (!sig || siglen == 0)
		return err_set(e, ERR_INPUT, "%s: layer %zu: signature is not base64", tag, i);
	if (cosign_payload_parse(&p, l->blob.data, l->blob.len, e) < 0)
		return err_prefix(e, "%s: layer %zu", tag, i);
	for (size_t k = 0; rc == 0 && k < req->n_keys; k++) {
		struct verify_key *vk = &req->keys[k];
		struct err ve = ERR_INIT;
		char when[40];

		if (sign_key_verify(&vk->key, l->blob.data, l->blob.len, sig, siglen, &ve) < 0)
			continue;
		any = true;
		if (strcmp(p.digest, digest) != 0) {
			add_reason(reasons,
				   "digest mismatch: signature %zu (key %s) is for %s, the image is %s",
				   i + 1, vk->name, p.digest, digest);
			break;
		}
		if (!same_repo(p.identity, name)) {
			add_reason(reasons,
				   "identity mismatch: signature %zu (key %s) names %.200s, not %s",
				   i + 1, vk->name, p.identity, name);
			break;
		}
		vk->n_verified++;
		(*n_ok)++;
		layer_time(l, when);
		rc = buf_addf(report, e, "signature %zu: verified by %s (%s %s), signed %s%s%s\n",
			      i + 1, vk->name, sign_alg_name(vk->key.alg), vk->key.fingerprint, when,
			      p.optional_json ? ", annotations " : "",
			      p.optional_json ? p.optional_json : "");
	}
	if (rc == 0 && !any)
		add_reason(reasons,
			   "bad signature: signature %zu does not verify with any given key (wrong "
			   "key or changed payload)",
			   i + 1);
	cosign_payload_free(&p);
	return rc < 0 ? -1 : 0;
}

static int verify_signatures(struct reg_client *c, const char *digest, const char *name,
			     struct verify_req *req, const struct sig_bundle_item *items,
			     size_t n_items, struct buf *report, char *reasons, int *n_ok,
			     struct err *e)
{
	struct sig_set s = {0};
	_cleanup_free_ char *tag = cosign_tag(digest, "sig", e);
	bool found;
	int rc;

	*n_ok = 0;
	if (!tag)
		return -1;
	if (sig_set_fetch(c, tag, &s, &found, e) < 0)
		return err_prefix(e, "signatures");
	rc = verify_bundle_signatures(digest, req, items, n_items, report, reasons, n_ok, e);
	if (rc == 0 && !found && *n_ok == 0 && !*reasons)
		add_reason(reasons, "no signature (no %s and no signature bundle in %s)", tag, name);
	for (size_t i = 0; rc == 0 && found && i < s.n; i++)
		rc = verify_sig_layer(digest, name, tag, req, &s.layers[i], i, report, reasons, n_ok,
				      e);
	sig_set_free(&s);
	return rc;
}

/* Worst severity among every "severity" string of the scan result (trivy,
 * grype, bosun and OSV results all name the field so); counts findings
 * above limit. */
static void walk_severity(const cJSON *j, int depth, int limit, int *worst, int *over)
{
	const cJSON *it;

	if (depth > 64 || !j)
		return;
	cJSON_ArrayForEach(it, j)
	{
		if (it->string && strcasecmp(it->string, "severity") == 0 && cJSON_IsString(it)) {
			int r = sign_severity_rank(it->valuestring);

			if (r < 0)
				r = 0;
			if (r > *worst)
				*worst = r;
			if (r > limit)
				(*over)++;
		} else if (cJSON_IsObject(it) || cJSON_IsArray(it)) {
			walk_severity(it, depth + 1, limit, worst, over);
		}
	}
}

struct att_found {
	const char *uri;
	bool ok;
	char reason[256];
};

struct att_ctx {
	struct verify_req *req;
	const char *digest;
	const char *const *uris;
	size_t n_uris;
	struct att_found *f;
	struct buf *report;
	cJSON *latest_vuln;
	long long latest_t;	 /* scanFinishedOn of latest_vuln */
	long long latest_signed; /* its signing time, for ties */
	char latest_when[40];
};

/* One attestation, legacy layer or bundle: label names it in messages,
 * key the verifying key's index or -1, subject_ok whether the referrer's
 * subject (bundles) is the image. */
static int att_consider(struct att_ctx *a, const char *label, const struct intoto_statement *stc,
			int key, bool subject_ok, const char *when, struct err *e)
{
	struct intoto_statement *st = (struct intoto_statement *)stc;
	char reason[256] = "";
	size_t u;

	if (key < 0)
		snprintf(reason, sizeof(reason), "%s (%.100s) is not signed by any given key",
			 label, st->predicate_type);
	else if (!subject_ok)
		snprintf(reason, sizeof(reason),
			 "%s (%.80s) is a referrer of another image, not %.80s", label,
			 st->predicate_type, a->digest);
	else if (!statement_names(st, a->digest))
		snprintf(reason, sizeof(reason),
			 "%s (%.80s): subject digest sha256:%.64s is not the image %.80s", label,
			 st->predicate_type,
			 st->n_subjects && st->subject_sha256[0] ? st->subject_sha256[0] : "(none)",
			 a->digest);
	for (u = 0; u < a->n_uris; u++) {
		if (strcmp(a->f[u].uri, st->predicate_type) != 0)
			continue;
		if (*reason && !a->f[u].ok)
			snprintf(a->f[u].reason, sizeof(a->f[u].reason), "%s", reason);
		else if (!*reason)
			a->f[u].ok = true;
	}
	if (*reason)
		return 0;
	if (buf_addf(a->report, e, "%s: %s verified by %s, signed %s\n", label, st->predicate_type,
		     a->req->keys[key].name, when) < 0)
		return -1;
	if (strcmp(st->predicate_type, PREDICATE_VULN) == 0) {
		const cJSON *fin = cJSON_GetObjectItemCaseSensitive(
		    cJSON_GetObjectItemCaseSensitive(st->predicate, "metadata"), "scanFinishedOn");
		long long t = cJSON_IsString(fin) ? time_parse_rfc3339(fin->valuestring, true) : -1;
		long long signed_t = time_parse_rfc3339(when, true);

		if (t < 0)
			return err_set(e, ERR_INPUT,
				       "%s: vuln predicate lacks metadata.scanFinishedOn", label);
		/* The newest scan decides (ties: the later signature), so an old
		 * passing scan cannot hide a newer failing one. */
		if (t > a->latest_t || (t == a->latest_t && signed_t > a->latest_signed)) {
			cJSON_Delete(a->latest_vuln);
			a->latest_vuln = st->predicate;
			st->predicate = NULL;
			a->latest_t = t;
			a->latest_signed = signed_t;
			snprintf(a->latest_when, sizeof(a->latest_when), "%s", fin->valuestring);
		}
	}
	return 0;
}

/* Layer i of the legacy attestation tag: a DSSE envelope of an in-toto
 * statement. */
static int att_layer(struct att_ctx *a, const char *tag, const struct sig_layer *l, size_t i,
		     struct err *e)
{
	struct dsse_envelope env;
	struct intoto_statement st;
	struct buf pae = BUF_INIT;
	char label[64], when[40];
	int key, rc;

	if (strcmp(l->media_type, MT_DSSE) != 0)
		return err_set(e, ERR_INPUT,
			       "%s: layer %zu has media type \"%.100s\", not a DSSE envelope", tag, i,
			       l->media_type);
	if (dsse_envelope_parse(&env, l->blob.data, l->blob.len, e) < 0)
		return err_prefix(e, "%s: layer %zu", tag, i);
	if (strcmp(env.payload_type, INTOTO_PAYLOAD_TYPE) != 0 ||
	    intoto_statement_parse(&st, (const char *)env.payload, env.payload_len, e) < 0) {
		if (strcmp(env.payload_type, INTOTO_PAYLOAD_TYPE) != 0)
			err_set(e, ERR_INPUT, "payloadType \"%.100s\" is not in-toto",
				env.payload_type);
		dsse_envelope_free(&env);
		return err_prefix(e, "%s: layer %zu", tag, i);
	}
	if (dsse_pae(env.payload_type, env.payload, env.payload_len, &pae, e) < 0) {
		dsse_envelope_free(&env);
		intoto_statement_free(&st);
		return -1;
	}
	key = first_key(a->req, &env, &pae);
	buf_free(&pae);
	snprintf(label, sizeof(label), "attestation %zu", i + 1);
	layer_time(l, when);
	rc = att_consider(a, label, &st, key, true, when, e);
	dsse_envelope_free(&env);
	intoto_statement_free(&st);
	return rc < 0 ? err_prefix(e, "%s: layer %zu", tag, i) : 0;
}

/* The attestation bundles among the referrers (signature bundles skipped). */
static int att_bundles(struct att_ctx *a, const struct sig_bundle_item *items, size_t n_items,
		       struct err *e)
{
	for (size_t i = 0; i < n_items; i++) {
		struct bundle_view v;
		char label[64], when[40];
		int rc;

		if (bundle_view(a->req, &items[i], &v, e) < 0)
			return -1;
		if (v.b.message_signature ||
		    strcmp(v.st.predicate_type, PREDICATE_COSIGN_SIGN) == 0) {
			bundle_view_free(&v);
			continue;
		}
		snprintf(label, sizeof(label), "attestation bundle %.19s", items[i].manifest_digest);
		bundle_time(&items[i], when);
		rc = att_consider(a, label, &v.st, v.key,
				  items[i].subject_digest &&
				      strcmp(items[i].subject_digest, a->digest) == 0,
				  when, e);
		bundle_view_free(&v);
		if (rc < 0)
			return -1;
	}
	return 0;
}

/* What the newest vulnerability scan says against the policy's limits. */
static int att_vuln_verdict(const struct att_ctx *a, char *reasons, struct err *e)
{
	const struct verify_req *req = a->req;
	int worst = -1, over = 0;
	const cJSON *result = cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(a->latest_vuln, "scanner"), "result");

	walk_severity(result, 0, req->max_severity == SEV_UNSET ? 99 : req->max_severity, &worst,
		      &over);
	if (req->max_severity != SEV_UNSET && over > 0)
		add_reason(reasons,
			   "vulnerabilities over the limit: the scan of %s found %d finding(s) above "
			   "%s (worst %s)",
			   a->latest_when, over, sign_severity_name(req->max_severity),
			   sign_severity_name(worst));
	if (req->max_age > 0 && req->now - a->latest_t > req->max_age)
		add_reason(reasons,
			   "stale scan: the latest vulnerability scan finished %s, %lld h ago; the "
			   "policy allows %lld h",
			   a->latest_when, (req->now - a->latest_t) / 3600, req->max_age / 3600);
	return buf_addf(a->report, e, "vulnerability scan: finished %s, worst severity %s\n",
			a->latest_when, worst < 0 ? "none" : sign_severity_name(worst));
}

static int verify_attestations(struct reg_client *c, const char *digest, struct verify_req *req,
			       const char *const *uris, size_t n_uris, bool need_vuln,
			       const struct sig_bundle_item *items, size_t n_items,
			       struct buf *report, char *reasons, struct err *e)
{
	struct sig_set s = {0};
	char *tag = cosign_tag(digest, "att", e);
	struct att_ctx a = {req, digest, uris, n_uris, NULL, report, NULL, -1, -1, ""};
	bool found = false;
	int rc = -1;

	if (!tag)
		return -1;
	if (sig_set_fetch(c, tag, &s, &found, e) < 0) {
		err_prefix(e, "attestations");
		goto out;
	}
	if (!(a.f = calloc(n_uris + 1, sizeof(*a.f)))) {
		err_oom(e);
		goto out;
	}
	for (size_t u = 0; u < n_uris; u++)
		a.f[u].uri = uris[u];
	for (size_t i = 0; found && i < s.n; i++)
		if (att_layer(&a, tag, &s.layers[i], i, e) < 0)
			goto out;
	if (att_bundles(&a, items, n_items, e) < 0)
		goto out;
	for (size_t u = 0; u < n_uris; u++)
		if (!a.f[u].ok) {
			if (*a.f[u].reason)
				add_reason(reasons, "%s", a.f[u].reason);
			else
				add_reason(reasons, "no verified %s attestation", a.f[u].uri);
		}
	if (need_vuln && a.latest_vuln && att_vuln_verdict(&a, reasons, e) < 0)
		goto out;
	rc = 0;
out:
	cJSON_Delete(a.latest_vuln);
	free(a.f);
	sig_set_free(&s);
	free(tag);
	return rc;
}

/* The predicate types to look for: the requested attestations, and the
 * vulnerability scan when the policy limits it; each once. */
static int wanted_uris(const struct verify_req *req, bool need_vuln, const char **uris,
		       size_t max, size_t *n_uris, struct err *e)
{
	*n_uris = 0;
	for (size_t i = 0; i < req->n_attestations + (need_vuln ? 1 : 0) && *n_uris < max; i++) {
		const char *u = i < req->n_attestations
				    ? intoto_predicate_type(req->attestations[i])
				    : PREDICATE_VULN;
		bool dup = false;

		if (!u)
			return err_set(e, ERR_USAGE, "unknown attestation type \"%s\"",
				       req->attestations[i]);
		for (size_t j = 0; j < *n_uris; j++)
			dup = dup || strcmp(uris[j], u) == 0;
		if (!dup)
			uris[(*n_uris)++] = u;
	}
	return 0;
}

/* The reasons the keys give (all-of, --key, any-of), and, when a signature
 * verified, only the reasons that still matter: a verified signature
 * excuses failures of other signature layers, but nothing else. */
static void key_reasons(const struct verify_req *req, int n_ok, char *reasons)
{
	bool any_cli = false, cli_ok = false, has_policy = false, policy_ok = false;

	for (size_t i = 0; i < req->n_keys; i++) {
		const struct verify_key *vk = &req->keys[i];

		any_cli = any_cli || vk->cli;
		cli_ok = cli_ok || (vk->cli && vk->n_verified);
		has_policy = has_policy || vk->policy;
		policy_ok = policy_ok || (vk->policy && vk->n_verified);
		if (vk->policy && req->policy_all_of && !vk->n_verified)
			add_reason(reasons,
				   "policy requires a signature by %s (all-of); none verified",
				   vk->name);
	}
	if (n_ok == 0 && !*reasons)
		add_reason(reasons, "no signature verified");
	if (any_cli && !cli_ok && n_ok > 0)
		add_reason(reasons, "no signature by the --key key(s)");
	if (!req->policy_all_of && has_policy && !policy_ok && n_ok > 0)
		add_reason(reasons, "policy requires a signature by any of its keys; none verified");
	if (n_ok > 0) {
		char keep[REASONS_MAX] = "";
		char *save = NULL, *tok;

		for (tok = strtok_r(reasons, ";", &save); tok; tok = strtok_r(NULL, ";", &save)) {
			while (*tok == ' ')
				tok++;
			if (str_starts(tok, "bad signature: ") ||
			    str_starts(tok, "digest mismatch") ||
			    str_starts(tok, "identity mismatch"))
				continue;
			add_reason(keep, "%s", tok);
		}
		memcpy(reasons, keep, sizeof(keep));
	}
}

int sign_verify_image(struct reg_client *c, const struct oci_ref *ref, struct verify_req *req,
		      struct buf *report, char digest[136], struct err *e)
{
	_cleanup_free_ char *name = oci_ref_name(ref);
	const char *uris[72];
	char reasons[REASONS_MAX] = "";
	size_t n_uris = 0;
	bool need_vuln = req->max_severity != SEV_UNSET || req->max_age > 0;
	struct sig_bundle_item *items = NULL;
	size_t n_items = 0;
	bool api = false;
	int n_ok = 0, rc;

	if (!name)
		return err_oom(e);
	if (req->n_keys == 0)
		return err_set(e, ERR_USAGE, "no public key to verify with");
	if (sign_resolve(c, ref, digest, e) < 0)
		return -1;
	/* Bundles: through the referrers API when the registry has one, else
	 * the tag schema index; read once for signatures and attestations. */
	if (sig_bundles_fetch(c, digest, &items, &n_items, &api, e) < 0)
		return err_prefix(e, "signature bundles");
	rc = verify_signatures(c, digest, name, req, items, n_items, report, reasons, &n_ok, e);
	if (rc == 0)
		rc = wanted_uris(req, need_vuln, uris, ARRAY_SIZE(uris), &n_uris, e);
	if (rc == 0 && n_uris)
		rc = verify_attestations(c, digest, req, uris, n_uris, need_vuln, items, n_items,
					 report, reasons, e);
	sig_bundles_free(items, n_items);
	if (rc < 0)
		return -1;
	key_reasons(req, n_ok, reasons);
	if (*reasons)
		return err_set(e, ERR_POLICY, "not verified: %s", reasons);
	return 0;
}
