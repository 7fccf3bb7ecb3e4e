#include <cjson/cJSON.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/fs.h"
#include "core/util.h"
#include "oci/desc.h"
#include "oci/digest.h"
#include "sign/cosign.h"
#include "sign/store.h"
#include "sign/verify.h"

#define POLICY_MAX (1u << 20)
#define REASONS_MAX 600

static const char *const sev_names[] = { "unknown", "low", "medium", "high", "critical" };

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

long long parse_rfc3339(const char *s)
{
	struct tm tm = { 0 };
	int y, mo, d, h, mi, sec, n = 0, oh, om;
	long long t;
	const char *p;

	if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &n) != 6 || n != 19)
		return -1;
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60 || y < 1)
		return -1;
	p = s + n;
	if (*p == '.')
		for (p++; isdigit((unsigned char)*p); p++)
			;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	t = (long long)timegm(&tm);
	if (*p == 'Z' || *p == 'z')
		return p[1] ? -1 : t;
	if ((*p == '+' || *p == '-') && sscanf(p + 1, "%2d:%2d%n", &oh, &om, &n) == 2 && n == 5 && !p[6]) {
		long long off = oh * 3600LL + om * 60LL;

		return *p == '+' ? t - off : t + off;
	}
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

int sign_policy_load(struct sign_policy *p, const char *path, struct err *e)
{
	struct buf b = BUF_INIT;
	char *dir = NULL;
	const cJSON *keys, *any, *all, *atts, *vuln, *sev, *age, *it;
	cJSON *root = NULL;
	char *slash;
	int rc = -1;

	memset(p, 0, sizeof(*p));
	p->max_severity = SEV_UNSET;
	if (fs_read_file(path, &b, POLICY_MAX, e) < 0) {
		err_prefix(e, "policy %s", path);
		goto out;
	}
	if (!(dir = xstrdup_e(path, e)))
		goto out;
	slash = strrchr(dir, '/');
	if (slash)
		*slash = '\0';
	else
		dir[0] = '.', dir[1] = '\0';
	root = cJSON_ParseWithLength(b.data, b.len);
	if (!root || !cJSON_IsObject(root)) {
		err_json(e, b.data, b.len, "policy %s is not a JSON object", path);
		goto out;
	}
	cJSON_ArrayForEach(it, root)
	{
		if (strcmp(it->string, "keys") && strcmp(it->string, "attestations") &&
		    strcmp(it->string, "vulnerabilities") && strcmp(it->string, "$schema")) {
			err_set(e, ERR_INPUT, "unknown field \"%.64s\"", it->string);
			goto bad;
		}
	}
	keys = cJSON_GetObjectItemCaseSensitive(root, "keys");
	if (keys) {
		any = cJSON_GetObjectItemCaseSensitive(keys, "anyOf");
		all = cJSON_GetObjectItemCaseSensitive(keys, "allOf");
		if (!cJSON_IsObject(keys) || (!any == !all)) {
			err_set(e, ERR_INPUT, "\"keys\" takes exactly one of \"anyOf\" or \"allOf\"");
			goto bad;
		}
		p->all_of = all != NULL;
		if (str_list(all ? all : any, all ? "keys.allOf" : "keys.anyOf", dir, &p->keys, &p->n_keys, e) < 0)
			goto bad;
		if (p->n_keys == 0) {
			err_set(e, ERR_INPUT, "keys list is empty");
			goto bad;
		}
	}
	atts = cJSON_GetObjectItemCaseSensitive(root, "attestations");
	if (atts && str_list(atts, "attestations", NULL, &p->attestations, &p->n_attestations, e) < 0)
		goto bad;
	vuln = cJSON_GetObjectItemCaseSensitive(root, "vulnerabilities");
	if (vuln) {
		sev = cJSON_GetObjectItemCaseSensitive(vuln, "maxSeverity");
		age = cJSON_GetObjectItemCaseSensitive(vuln, "maxAge");
		if (!cJSON_IsObject(vuln)) {
			err_set(e, ERR_INPUT, "\"vulnerabilities\" must be an object");
			goto bad;
		}
		if (sev) {
			if (!cJSON_IsString(sev) ||
			    ((p->max_severity = sign_severity_rank(sev->valuestring)) < 0 &&
			     strcasecmp(sev->valuestring, "none") != 0)) {
				err_set(e, ERR_INPUT, "maxSeverity takes none, low, medium, high or critical");
				goto bad;
			}
			if (p->max_severity < 0)
				p->max_severity = SEV_NONE;
		}
		if (age) {
			p->max_age = cJSON_IsString(age)   ? sign_parse_duration(age->valuestring)
				     : cJSON_IsNumber(age) ? (long long)age->valuedouble
							   : -1;
			if (p->max_age <= 0) {
				err_set(e, ERR_INPUT, "maxAge takes seconds or \"30m\", \"24h\", \"7d\"");
				goto bad;
			}
		}
	}
	rc = 0;
	goto out;
bad:
	err_prefix(e, "policy %s", path);
out:
	cJSON_Delete(root);
	buf_free(&b);
	free(dir);
	if (rc < 0)
		sign_policy_free(p);
	return rc;
}

static void add_reason(char *reasons, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add_reason(char *reasons, const char *fmt, ...)
{
	size_t len = strlen(reasons);
	va_list ap;

	if (len && len < REASONS_MAX - 3) {
		reasons[len++] = ';';
		reasons[len++] = ' ';
		reasons[len] = '\0';
	}
	va_start(ap, fmt);
	vsnprintf(reasons + len, REASONS_MAX - len, fmt, ap);
	va_end(ap);
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
	struct oci_desc d = { .annotations_json = l->annotations_json };
	char *t = oci_desc_annotation(&d, ANN_CREATED);

	snprintf(out, 40, "%s", t && parse_rfc3339(t) >= 0 ? t : "unknown time");
	free(t);
}

static int verify_signatures(struct reg_client *c, const char *digest, const char *name,
			     struct verify_req *req, struct buf *report, char *reasons, int *n_ok,
			     struct err *e)
{
	struct sig_set s = { 0 };
	_cleanup_free_ char *tag = cosign_tag(digest, "sig", e);
	bool found;
	size_t i, k;
	int rc = -1;

	*n_ok = 0;
	if (!tag)
		return -1;
	if (sig_set_fetch(c, tag, &s, &found, e) < 0)
		return err_prefix(e, "signatures");
	if (!found) {
		add_reason(reasons, "no signature (no %s in %s)", tag, name);
		return 0;
	}
	for (i = 0; i < s.n; i++) {
		struct sig_layer *l = &s.layers[i];
		struct oci_desc d = { .annotations_json = l->annotations_json };
		struct cosign_payload p;
		_cleanup_free_ char *b64 = NULL;
		unsigned char *sig = NULL;
		long siglen;
		bool any = false;

		if (strcmp(l->media_type, MT_SIMPLESIGNING) != 0) {
			err_set(e, ERR_INPUT, "%s: layer %zu has media type \"%.100s\", not a signature", tag, i,
				l->media_type);
			goto out;
		}
		b64 = oci_desc_annotation(&d, ANN_COSIGN_SIG);
		if (!b64 || !*b64 || strlen(b64) > 8192) {
			err_set(e, ERR_INPUT, "%s: layer %zu has no %s annotation", tag, i, ANN_COSIGN_SIG);
			goto out;
		}
		sig = malloc(strlen(b64));
		if (!sig) {
			err_oom(e);
			goto out;
		}
		siglen = base64_decode(b64, strlen(b64), sig, false);
		if (siglen <= 0) {
			free(sig);
			err_set(e, ERR_INPUT, "%s: layer %zu: signature is not base64", tag, i);
			goto out;
		}
		if (cosign_payload_parse(&p, l->blob.data, l->blob.len, e) < 0) {
			free(sig);
			err_prefix(e, "%s: layer %zu", tag, i);
			goto out;
		}
		for (k = 0; k < req->n_keys; k++) {
			struct verify_key *vk = &req->keys[k];
			struct err ve = ERR_INIT;
			char when[40];

			if (sign_key_verify(&vk->key, l->blob.data, l->blob.len, sig, (size_t)siglen, &ve) < 0)
				continue;
			any = true;
			if (strcmp(p.digest, digest) != 0) {
				add_reason(reasons, "digest mismatch: signature %zu (key %s) is for %s, the image is %s",
					   i + 1, vk->name, p.digest, digest);
				break;
			}
			if (!same_repo(p.identity, name)) {
				add_reason(reasons, "identity mismatch: signature %zu (key %s) names %.200s, not %s",
					   i + 1, vk->name, p.identity, name);
				break;
			}
			vk->n_verified++;
			(*n_ok)++;
			layer_time(l, when);
			if (buf_addf(report, e, "signature %zu: verified by %s (%s %s), signed %s%s%s\n", i + 1,
				     vk->name, sign_alg_name(vk->key.alg), vk->key.fingerprint, when,
				     p.optional_json ? ", annotations " : "",
				     p.optional_json ? p.optional_json : "") < 0) {
				free(sig);
				cosign_payload_free(&p);
				goto out;
			}
		}
		if (!any)
			add_reason(reasons, "bad signature: signature %zu does not verify with any given key (wrong key or changed payload)", i + 1);
		free(sig);
		cosign_payload_free(&p);
	}
	rc = 0;
out:
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

static int verify_attestations(struct reg_client *c, const char *digest, struct verify_req *req,
			       const char *const *uris, size_t n_uris, bool need_vuln,
			       struct buf *report, char *reasons, struct err *e)
{
	struct sig_set s = { 0 };
	_cleanup_free_ char *tag = cosign_tag(digest, "att", e);
	struct att_found *f = NULL;
	cJSON *latest_vuln = NULL;
	long long latest_t = -1;
	char latest_when[40] = "";
	bool found;
	size_t i, k, u;
	int rc = -1;

	if (!tag)
		return -1;
	if (sig_set_fetch(c, tag, &s, &found, e) < 0)
		return err_prefix(e, "attestations");
	f = calloc(n_uris + 1, sizeof(*f));
	if (!f) {
		err_oom(e);
		goto out;
	}
	for (u = 0; u < n_uris; u++)
		f[u].uri = uris[u];
	for (i = 0; found && i < s.n; i++) {
		struct sig_layer *l = &s.layers[i];
		struct dsse_envelope env;
		struct intoto_statement st;
		struct buf pae = BUF_INIT;
		const char *key_name = NULL;
		char reason[256] = "";
		bool subject_ok = false;

		if (strcmp(l->media_type, MT_DSSE) != 0) {
			err_set(e, ERR_INPUT, "%s: layer %zu has media type \"%.100s\", not a DSSE envelope", tag,
				i, l->media_type);
			goto out;
		}
		if (dsse_envelope_parse(&env, l->blob.data, l->blob.len, e) < 0) {
			err_prefix(e, "%s: layer %zu", tag, i);
			goto out;
		}
		if (strcmp(env.payload_type, INTOTO_PAYLOAD_TYPE) != 0 ||
		    intoto_statement_parse(&st, (const char *)env.payload, env.payload_len, e) < 0) {
			if (strcmp(env.payload_type, INTOTO_PAYLOAD_TYPE) != 0)
				err_set(e, ERR_INPUT, "payloadType \"%.100s\" is not in-toto", env.payload_type);
			dsse_envelope_free(&env);
			err_prefix(e, "%s: layer %zu", tag, i);
			goto out;
		}
		if (dsse_pae(env.payload_type, env.payload, env.payload_len, &pae, e) < 0) {
			dsse_envelope_free(&env);
			intoto_statement_free(&st);
			goto out;
		}
		for (k = 0; k < req->n_keys && !key_name; k++) {
			size_t si;

			for (si = 0; si < env.n_sigs && !key_name; si++) {
				struct err ve = ERR_INIT;

				if (sign_key_verify(&req->keys[k].key, pae.data, pae.len, env.sigs[si].sig,
						    env.sigs[si].len, &ve) == 0)
					key_name = req->keys[k].name;
			}
		}
		buf_free(&pae);
		for (k = 0; k < st.n_subjects; k++)
			if (st.subject_sha256[k] && strcmp(st.subject_sha256[k], oci_digest_hex(digest)) == 0)
				subject_ok = true;
		if (!key_name)
			snprintf(reason, sizeof(reason), "attestation %zu (%.100s) is not signed by any given key",
				 i + 1, st.predicate_type);
		else if (!subject_ok)
			snprintf(reason, sizeof(reason),
				 "attestation %zu (%.80s): subject digest sha256:%.64s is not the image %.80s", i + 1,
				 st.predicate_type,
				 st.n_subjects && st.subject_sha256[0] ? st.subject_sha256[0] : "(none)", digest);
		for (u = 0; u < n_uris; u++) {
			if (strcmp(f[u].uri, st.predicate_type) != 0)
				continue;
			if (*reason && !f[u].ok)
				snprintf(f[u].reason, sizeof(f[u].reason), "%s", reason);
			else if (!*reason)
				f[u].ok = true;
		}
		if (!*reason) {
			char when[40];

			layer_time(l, when);
			if (buf_addf(report, e, "attestation %zu: %s verified by %s, signed %s\n", i + 1,
				     st.predicate_type, key_name, when) < 0) {
				dsse_envelope_free(&env);
				intoto_statement_free(&st);
				goto out;
			}
			if (strcmp(st.predicate_type, PREDICATE_VULN) == 0) {
				const cJSON *fin = cJSON_GetObjectItemCaseSensitive(
					cJSON_GetObjectItemCaseSensitive(st.predicate, "metadata"), "scanFinishedOn");
				long long t = cJSON_IsString(fin) ? parse_rfc3339(fin->valuestring) : -1;

				if (t < 0) {
					err_set(e, ERR_INPUT, "%s: layer %zu: vuln predicate lacks metadata.scanFinishedOn", tag, i);
					dsse_envelope_free(&env);
					intoto_statement_free(&st);
					goto out;
				}
				if (t > latest_t) {
					cJSON_Delete(latest_vuln);
					latest_vuln = st.predicate;
					st.predicate = NULL;
					latest_t = t;
					snprintf(latest_when, sizeof(latest_when), "%s", fin->valuestring);
				}
			}
		}
		dsse_envelope_free(&env);
		intoto_statement_free(&st);
	}
	for (u = 0; u < n_uris; u++)
		if (!f[u].ok) {
			if (*f[u].reason)
				add_reason(reasons, "%s", f[u].reason);
			else
				add_reason(reasons, "no verified %s attestation", f[u].uri);
		}
	if (need_vuln && latest_vuln) {
		int worst = -1, over = 0;
		const cJSON *result = cJSON_GetObjectItemCaseSensitive(
			cJSON_GetObjectItemCaseSensitive(latest_vuln, "scanner"), "result");

		walk_severity(result, 0, req->max_severity == SEV_UNSET ? 99 : req->max_severity, &worst, &over);
		if (req->max_severity != SEV_UNSET && over > 0)
			add_reason(reasons,
				   "vulnerabilities over the limit: the scan of %s found %d finding(s) above %s (worst %s)",
				   latest_when, over, sign_severity_name(req->max_severity), sign_severity_name(worst));
		if (req->max_age > 0 && req->now - latest_t > req->max_age)
			add_reason(reasons, "stale scan: the latest vulnerability scan finished %s, %lld h ago; the policy allows %lld h",
				   latest_when, (req->now - latest_t) / 3600, req->max_age / 3600);
		if (buf_addf(report, e, "vulnerability scan: finished %s, worst severity %s\n", latest_when,
			     worst < 0 ? "none" : sign_severity_name(worst)) < 0)
			goto out;
	}
	rc = 0;
out:
	cJSON_Delete(latest_vuln);
	free(f);
	sig_set_free(&s);
	return rc;
}

int sign_verify_image(struct reg_client *c, const struct oci_ref *ref, struct verify_req *req,
		      struct buf *report, char digest[136], struct err *e)
{
	_cleanup_free_ char *name = oci_ref_name(ref);
	const char *uris[72];
	char reasons[REASONS_MAX] = "";
	size_t i, j, n_uris = 0;
	bool need_vuln = req->max_severity != SEV_UNSET || req->max_age > 0, any_cli = false, cli_ok = false;
	int n_ok = 0;

	if (!name)
		return err_oom(e);
	if (req->n_keys == 0)
		return err_set(e, ERR_USAGE, "no public key to verify with");
	if (sign_resolve(c, ref, digest, e) < 0)
		return -1;
	if (verify_signatures(c, digest, name, req, report, reasons, &n_ok, e) < 0)
		return -1;
	for (i = 0; i < req->n_attestations + (need_vuln ? 1 : 0) && n_uris < ARRAY_SIZE(uris); i++) {
		const char *u = i < req->n_attestations ? intoto_predicate_type(req->attestations[i]) : PREDICATE_VULN;
		bool dup = false;

		if (!u)
			return err_set(e, ERR_USAGE, "unknown attestation type \"%s\"", req->attestations[i]);
		for (j = 0; j < n_uris; j++)
			dup = dup || strcmp(uris[j], u) == 0;
		if (!dup)
			uris[n_uris++] = u;
	}
	if (n_uris && verify_attestations(c, digest, req, uris, n_uris, need_vuln, report, reasons, e) < 0)
		return -1;
	for (i = 0; i < req->n_keys; i++) {
		struct verify_key *vk = &req->keys[i];

		any_cli = any_cli || vk->cli;
		cli_ok = cli_ok || (vk->cli && vk->n_verified);
		if (vk->policy && req->policy_all_of && !vk->n_verified)
			add_reason(reasons, "policy requires a signature by %s (all-of); none verified", vk->name);
	}
	if (n_ok == 0 && !*reasons)
		add_reason(reasons, "no signature verified");
	if (any_cli && !cli_ok && n_ok > 0)
		add_reason(reasons, "no signature by the --key key(s)");
	if (!req->policy_all_of) {
		bool has_policy = false, policy_ok = false;

		for (i = 0; i < req->n_keys; i++) {
			has_policy = has_policy || req->keys[i].policy;
			policy_ok = policy_ok || (req->keys[i].policy && req->keys[i].n_verified);
		}
		if (has_policy && !policy_ok && n_ok > 0)
			add_reason(reasons, "policy requires a signature by any of its keys; none verified");
	}
	/* A verified signature excuses failures of other signature layers,
	 * but nothing else: only fail on reasons that matter. */
	if (n_ok > 0) {
		char keep[REASONS_MAX] = "";
		char *save = NULL, *tok;

		for (tok = strtok_r(reasons, ";", &save); tok; tok = strtok_r(NULL, ";", &save)) {
			while (*tok == ' ')
				tok++;
			if (str_starts(tok, "bad signature: ") || str_starts(tok, "digest mismatch") ||
			    str_starts(tok, "identity mismatch"))
				continue;
			add_reason(keep, "%s", tok);
		}
		memcpy(reasons, keep, sizeof(keep));
	}
	if (*reasons)
		return err_set(e, ERR_POLICY, "not verified: %s", reasons);
	return 0;
}
