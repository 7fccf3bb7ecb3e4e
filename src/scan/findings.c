#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/buf.h"
#include "core/fs.h"
#include "core/util.h"
#include "scan/findings.h"
#include "scan/match.h"

struct mctx {
	struct scan_result *res;
	const struct pkg *pkg;
	const char *version;
	vercmp_fn cmp;
};

static bool alias_overlap(const struct finding *f, const struct vdb_adv *a)
{
	if (strcmp(f->id, a->id) == 0)
		return true;
	/* same advisory under another name: one finding, names merged */
	if (a->aliases && strstr(a->aliases, f->id))
		return true;
	if (f->aliases && strstr(f->aliases, a->id))
		return true;
	return false;
}

static int on_adv(void *ctx, const struct vdb_adv *a, struct err *e)
{
	struct mctx *m = ctx;
	struct scan_result *r = m->res;
	struct finding *f;
	char fixed[128];

	if (!osv_is_affected(a->ranges, a->versions, m->version, m->cmp, fixed, sizeof(fixed)))
		return 0;
	/* packages are matched one after the other: this one's findings are the tail */
	for (size_t i = r->n; i-- > 0 && r->f[i].pkg == m->pkg;)
		if (alias_overlap(&r->f[i], a))
			return 0;
	if (r->n == r->alloc) {
		size_t na = r->alloc ? r->alloc * 2 : 64;
		struct finding *nf = realloc(r->f, na * sizeof(*nf));

		if (!nf)
			return err_oom(e);
		r->f = nf, r->alloc = na;
	}
	f = &r->f[r->n++];
	memset(f, 0, sizeof(*f));
	f->id = strdup(a->id);
	f->aliases = strdup(a->aliases ? a->aliases : "[]");
	f->title = strndup(a->summary ? a->summary : a->id, 300);
	f->severity = a->severity && severity_parse(a->severity) > 0 ? (enum severity)severity_parse(a->severity) : SEV_UNKNOWN;
	f->score = a->score;
	f->vector = a->vector ? strdup(a->vector) : NULL;
	f->alt_vector = a->alt_vector ? strdup(a->alt_vector) : NULL;
	f->alt_score = a->alt_score;
	f->fixed = strdup(fixed);
	f->pkg = m->pkg;
	if (!f->id || !f->aliases || !f->title || !f->fixed)
		return err_oom(e);
	return 0;
}

int scan_match(struct vdb *db, const struct inventory *inv, struct scan_result *res, struct err *e)
{
	memset(res, 0, sizeof(*res));
	res->db_built = vdb_meta(db, "built");
	for (size_t i = 0; i < inv->n; i++) {
		const struct pkg *p = &inv->pkgs[i];
		/* distro packages match by source package in the distro ecosystem */
		bool distro = strcmp(p->type, "deb") == 0 || strcmp(p->type, "apk") == 0 || strcmp(p->type, "rpm") == 0;
		struct mctx m = { res, p, distro ? p->src_version : p->version,
				  vercmp_for(vscheme_for_ecosystem(p->ecosystem)) };

		/* a package without a version is listed, and matched by nothing */
		if (!p->ecosystem[0] || !m.version[0])
			continue;
		if (vdb_query(db, p->ecosystem, distro ? p->src_name : p->name, on_adv, &m, e) < 0)
			return -1;
		/* a binary package named unlike its source may carry its own records */
		if (distro && strcmp(p->src_name, p->name) != 0 && vdb_query(db, p->ecosystem, p->name, on_adv, &m, e) < 0)
			return -1;
	}
	return 0;
}

void scan_result_free(struct scan_result *res)
{
	for (size_t i = 0; i < res->n; i++) {
		struct finding *f = &res->f[i];

		free(f->id), free(f->aliases), free(f->title), free(f->vector), free(f->alt_vector), free(f->fixed),
		    free(f->suppress_reason);
	}
	free(res->f);
	free(res->db_built);
	free(res->warnings);
	memset(res, 0, sizeof(*res));
}

static bool names_finding(const struct finding *f, const char *id)
{
	char q[300];

	if (strcmp(f->id, id) == 0)
		return true;
	snprintf(q, sizeof(q), "\"%s\"", id);
	return strstr(f->aliases, q) != NULL;
}

static void suppress(struct finding *f, const char *why)
{
	if (f->suppressed)
		return;
	f->suppressed = true;
	f->suppress_reason = strdup(why);
}

static long long parse_day(const char *s)
{
	struct tm tm = { 0 };
	char *end = strptime(s, "%Y-%m-%d", &tm);

	if (!end || *end)
		return -1;
	return (long long)(timegm(&tm) / 86400);
}

static void warn(struct scan_result *r, const char *msg)
{
	struct buf b = BUF_INIT;
	struct err e = ERR_INIT;

	if (r->warnings)
		buf_adds(&b, r->warnings, &e);
	buf_addf(&b, &e, "%s\n", msg);
	free(r->warnings);
	r->warnings = buf_detach(&b, NULL);
}

/* .bosunignore: one id per line, optional "exp:YYYY-MM-DD", "#" comments. */
static int apply_ignore(struct scan_result *r, const struct policy *p, struct err *e)
{
	struct buf b = BUF_INIT;
	char *save = NULL;
	int ln = 0;

	if (fs_read_file(p->ignore_file, &b, 4u << 20, e) < 0)
		return err_prefix(e, "ignore file");
	for (char *line = strtok_r(b.data, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *hash = strchr(line, '#'), *s2 = NULL, *id, *tok;
		long long exp = -1;
		char why[400];

		ln++;
		if (hash)
			*hash = 0;
		id = strtok_r(line, " \t\r", &s2);
		if (!id)
			continue;
		while ((tok = strtok_r(NULL, " \t\r", &s2))) {
			if (str_starts(tok, "exp:")) {
				exp = parse_day(tok + 4);
				if (exp < 0) {
					/* the message before the buffer tok points into is freed */
					err_set(e, ERR_INPUT, "%s: line %d: bad expiry \"%s\" (want exp:YYYY-MM-DD)",
						p->ignore_file, ln, tok);
					buf_free(&b);
					return -1;
				}
			}
		}
		if (exp >= 0 && exp < p->today) {
			snprintf(why, sizeof(why), "ignore entry %.100s in %.200s expired, no longer ignored", id, p->ignore_file);
			warn(r, why);
			continue;
		}
		snprintf(why, sizeof(why), "ignored by %.200s", p->ignore_file);
		for (size_t i = 0; i < r->n; i++)
			if (names_finding(&r->f[i], id))
				suppress(&r->f[i], why);
	}
	buf_free(&b);
	return 0;
}

/* OpenVEX: statements with status not_affected or fixed suppress their
 * vulnerability (by name or alias); the justification is kept. */
static int apply_vex(struct scan_result *r, const char *path, struct err *e)
{
	struct buf b = BUF_INIT;
	cJSON *doc;
	const cJSON *st;

	if (fs_read_file(path, &b, 16u << 20, e) < 0)
		return err_prefix(e, "vex");
	doc = cJSON_ParseWithLength(b.data, b.len);
	if (!doc || !cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(doc, "statements"))) {
		err_set(e, ERR_INPUT, "%s: not an OpenVEX document (no statements)", path);
		cJSON_Delete(doc);
		buf_free(&b);
		return -1;
	}
	cJSON_ArrayForEach(st, cJSON_GetObjectItemCaseSensitive(doc, "statements"))
	{
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(st, "vulnerability");
		const cJSON *name = cJSON_IsObject(v) ? cJSON_GetObjectItemCaseSensitive(v, "name") : v;
		const cJSON *status = cJSON_GetObjectItemCaseSensitive(st, "status");
		const cJSON *just = cJSON_GetObjectItemCaseSensitive(st, "justification");
		const cJSON *impact = cJSON_GetObjectItemCaseSensitive(st, "impact_statement");
		char why[500];

		if (!cJSON_IsString(name) || !cJSON_IsString(status))
			continue;
		if (strcmp(status->valuestring, "not_affected") != 0 && strcmp(status->valuestring, "fixed") != 0)
			continue;
		snprintf(why, sizeof(why), "vex %s%s%s%s%s", status->valuestring,
			 cJSON_IsString(just) ? ": " : "", cJSON_IsString(just) ? just->valuestring : "",
			 cJSON_IsString(impact) ? ": " : "", cJSON_IsString(impact) ? impact->valuestring : "");
		for (size_t i = 0; i < r->n; i++)
			if (names_finding(&r->f[i], name->valuestring))
				suppress(&r->f[i], why);
	}
	cJSON_Delete(doc);
	buf_free(&b);
	return 0;
}

int policy_parse_gate(const char *s, int *fail_on)
{
	int v;

	if (strcasecmp(s, "none") == 0) {
		*fail_on = -1;
		return 0;
	}
	if ((v = severity_parse(s)) < 0)
		return -1;
	*fail_on = v;
	return 0;
}

int policy_parse_severities(const char *s, unsigned *mask)
{
	char tmp[256], *save = NULL;
	unsigned m = 0;

	if (snprintf(tmp, sizeof(tmp), "%s", s) >= (int)sizeof(tmp))
		return -1;
	for (char *t = strtok_r(tmp, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		int v = severity_parse(t);

		if (v < 0)
			return -1;
		m |= 1u << v;
	}
	if (!m)
		return -1;
	*mask = m;
	return 0;
}

/* The finding rated by the preferred CVSS version when its record has
 * both (the database stores the v4.0 one as deciding, the v3 one aside). */
static void prefer_cvss(struct finding *f, enum cvss_prefer pref)
{
	int want = pref == CVSS_PREFER_V3 ? 3 : 4;
	char *v;
	double s;

	if (!f->vector || !f->alt_vector || cvss_version(f->vector) == want || cvss_version(f->alt_vector) != want)
		return;
	v = f->vector, f->vector = f->alt_vector, f->alt_vector = v;
	s = f->score, f->score = f->alt_score, f->alt_score = s;
	f->severity = f->score >= 0 ? cvss_rating(f->vector, f->score) : SEV_UNKNOWN;
}

int scan_policy(struct scan_result *r, const struct policy *p, struct err *e)
{
	int failing = 0;

	for (size_t i = 0; i < r->n; i++)
		prefer_cvss(&r->f[i], p->cvss_prefer);

	if (p->ignore_file && apply_ignore(r, p, e) < 0)
		return -1;
	for (size_t i = 0; i < p->n_vex; i++)
		if (apply_vex(r, p->vex[i], e) < 0)
			return -1;
	for (size_t i = 0; i < r->n; i++) {
		struct finding *f = &r->f[i];
		int sev = f->severity == SEV_UNKNOWN ? p->unknown_as : (int)f->severity;

		f->reported = !f->suppressed && (!p->severities || (p->severities & (1u << f->severity))) &&
			      !(p->ignore_unfixed && !f->fixed[0]);
		f->failing = f->reported && p->fail_on >= 0 && sev >= p->fail_on && sev != SEV_UNKNOWN;
		failing += f->failing;
	}
	return failing;
}
