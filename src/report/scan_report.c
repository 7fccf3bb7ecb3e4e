#include <cjson/cJSON.h>
#include <libxml/xmlwriter.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/ojson.h"
#include "core/util.h"
#include "report/report.h"
#include "report/xmlw.h"

int report_fmt_parse(const char *s)
{
	static const char *const n[] = { "table", "json", "sarif", "cyclonedx", "junit", "markdown" };

	for (int i = 0; i < (int)ARRAY_SIZE(n); i++)
		if (strcmp(s, n[i]) == 0)
			return i;
	return -1;
}

int report_write(enum report_fmt f, const struct report_in *in, struct buf *out, struct err *e)
{
	switch (f) {
	case RF_TABLE: return report_table(in, out, e);
	case RF_JSON: return report_json(in, out, e);
	case RF_SARIF: return report_sarif(in, out, e);
	case RF_CYCLONEDX: return report_cyclonedx(in, out, e);
	case RF_JUNIT: return report_junit(in, out, e);
	case RF_MARKDOWN: return report_markdown(in, out, e);
	}
	return err_set(e, ERR_USAGE, "unknown report format");
}

static const char *status_of(const struct finding *f)
{
	return f->fixed[0] ? "fixed" : "unfixed";
}

static int base_fixed(const struct report_in *in)
{
	int n = 0;

	for (size_t i = 0; i < in->res->n; i++) {
		const struct finding *f = &in->res->f[i];

		n += f->reported && f->pkg->from_base && f->fixed[0];
	}
	return n;
}

int report_base_line(const struct report_in *in, struct buf *out, struct err *e)
{
	int n = base_fixed(in);

	return buf_addf(out, e, "%d finding%s come%s from the base image and %s fixed in newer versions of it%s\n", n,
			n == 1 ? "" : "s", n == 1 ? "s" : "", n == 1 ? "is" : "are",
			n ? " (rebuild on an updated base)" : "");
}

static int put_json(cJSON *root, struct buf *out, struct err *e)
{
	int r = oj_print_buf(root, true, out, e);

	cJSON_Delete(root);
	return r < 0 ? -1 : buf_adds(out, "\n", e);
}

static cJSON *aliases_json(const struct finding *f)
{
	cJSON *a = cJSON_Parse(f->aliases);

	return a ? a : cJSON_CreateArray();
}

/* JSON: documented in README.md, "Scanning images" ("bosun.scan.v1"). */
int report_json(const struct report_in *in, struct buf *out, struct err *e)
{
	cJSON *root = cJSON_CreateObject(), *pk = cJSON_CreateArray(), *fs = cJSON_CreateArray(), *os, *sum;
	int counts[6] = { 0 }, failing = 0, suppressed = 0;

	cJSON_AddStringToObject(root, "schema", "bosun.scan.v1");
	cJSON_AddStringToObject(root, "target", in->inv->target ? in->inv->target : "");
	if (in->inv->digest)
		cJSON_AddStringToObject(root, "digest", in->inv->digest);
	cJSON_AddStringToObject(root, "database", in->db_version ? in->db_version : "");
	os = cJSON_AddObjectToObject(root, "os");
	cJSON_AddStringToObject(os, "id", in->inv->os.id);
	cJSON_AddStringToObject(os, "version", in->inv->os.version_id);
	cJSON_AddStringToObject(os, "ecosystem", in->inv->os.ecosystem);
	if (in->inv->base) {
		cJSON *b = cJSON_AddObjectToObject(root, "base_image");

		cJSON_AddStringToObject(b, "name", in->inv->base);
		cJSON_AddNumberToObject(b, "layers", (double)in->inv->n_base);
	}
	for (size_t i = 0; i < in->inv->n; i++) {
		const struct pkg *p = &in->inv->pkgs[i];
		cJSON *o = cJSON_CreateObject();

		cJSON_AddStringToObject(o, "name", p->name);
		cJSON_AddStringToObject(o, "version", p->version);
		cJSON_AddStringToObject(o, "type", p->type);
		cJSON_AddStringToObject(o, "ecosystem", p->ecosystem);
		if (strcmp(p->src_name, p->name) || strcmp(p->src_version, p->version)) {
			cJSON_AddStringToObject(o, "source_name", p->src_name);
			cJSON_AddStringToObject(o, "source_version", p->src_version);
		}
		cJSON_AddStringToObject(o, "path", p->path);
		if (p->layer >= 0 && (size_t)p->layer < in->inv->n_layers)
			cJSON_AddStringToObject(o, "layer", in->inv->layers[p->layer]);
		cJSON_AddBoolToObject(o, "from_base", p->from_base);
		cJSON_AddItemToArray(pk, o);
	}
	for (size_t i = 0; i < in->res->n; i++) {
		const struct finding *f = &in->res->f[i];
		cJSON *o = cJSON_CreateObject();

		cJSON_AddStringToObject(o, "id", f->id);
		cJSON_AddItemToObject(o, "aliases", aliases_json(f));
		cJSON_AddStringToObject(o, "title", f->title);
		cJSON_AddStringToObject(o, "severity", severity_name(f->severity));
		if (f->score >= 0)
			cJSON_AddNumberToObject(o, "cvss_score", f->score);
		if (f->vector)
			cJSON_AddStringToObject(o, "cvss_vector", f->vector);
		if (cvss_nomenclature(f->vector))
			cJSON_AddStringToObject(o, "cvss_nomenclature", cvss_nomenclature(f->vector));
		cJSON_AddStringToObject(o, "package", f->pkg->name);
		cJSON_AddStringToObject(o, "installed_version", f->pkg->version);
		cJSON_AddStringToObject(o, "fixed_version", f->fixed);
		cJSON_AddStringToObject(o, "status", status_of(f));
		cJSON_AddStringToObject(o, "ecosystem", f->pkg->ecosystem);
		cJSON_AddStringToObject(o, "path", f->pkg->path);
		if (f->pkg->layer >= 0 && (size_t)f->pkg->layer < in->inv->n_layers)
			cJSON_AddStringToObject(o, "layer", in->inv->layers[f->pkg->layer]);
		cJSON_AddBoolToObject(o, "from_base", f->pkg->from_base);
		cJSON_AddBoolToObject(o, "reported", f->reported);
		cJSON_AddBoolToObject(o, "failing", f->failing);
		if (f->suppressed)
			cJSON_AddStringToObject(o, "suppressed", f->suppress_reason ? f->suppress_reason : "");
		cJSON_AddItemToArray(fs, o);
		if (f->reported)
			counts[f->severity]++;
		failing += f->failing;
		suppressed += f->suppressed;
	}
	cJSON_AddItemToObject(root, "packages", pk);
	/* lock files skipped because they did not parse (a warning each) */
	cJSON_AddNumberToObject(root, "unparsed_files", (double)in->inv->unparsed);
	cJSON_AddItemToObject(root, "findings", fs);
	sum = cJSON_AddObjectToObject(root, "summary");
	for (int s = SEV_CRITICAL; s >= SEV_UNKNOWN; s--)
		cJSON_AddNumberToObject(sum, severity_name((enum severity)s), counts[s]);
	cJSON_AddNumberToObject(sum, "failing", failing);
	cJSON_AddNumberToObject(sum, "suppressed", suppressed);
	cJSON_AddNumberToObject(sum, "base_fixed", base_fixed(in));
	return put_json(root, out, e);
}

static const char *sarif_level(const struct finding *f)
{
	if (f->failing)
		return "error";
	return f->severity >= SEV_MEDIUM ? "warning" : "note";
}

int report_sarif(const struct report_in *in, struct buf *out, struct err *e)
{
	cJSON *root = cJSON_CreateObject(), *runs = cJSON_AddArrayToObject(root, "runs"), *run = cJSON_CreateObject();
	cJSON *driver, *rules, *results;

	cJSON_AddStringToObject(root, "$schema", "https://json.schemastore.org/sarif-2.1.0.json");
	cJSON_AddStringToObject(root, "version", "2.1.0");
	cJSON_AddItemToArray(runs, run);
	driver = cJSON_AddObjectToObject(cJSON_AddObjectToObject(run, "tool"), "driver");
	cJSON_AddStringToObject(driver, "name", "bosun");
	cJSON_AddStringToObject(driver, "version", in->tool_version ? in->tool_version : "dev");
	cJSON_AddStringToObject(driver, "informationUri", "https://github.com/bosun/bosun");
	rules = cJSON_AddArrayToObject(driver, "rules");
	results = cJSON_AddArrayToObject(run, "results");
	for (size_t i = 0; i < in->res->n; i++) {
		const struct finding *f = &in->res->f[i];
		cJSON *rule = NULL, *it, *res, *loc, *msg, *props;
		int idx = 0;
		char text[1024];

		if (!f->reported)
			continue;
		cJSON_ArrayForEach(it, rules)
		{
			if (strcmp(cJSON_GetObjectItem(it, "id")->valuestring, f->id) == 0) {
				rule = it;
				break;
			}
			idx++;
		}
		if (!rule) {
			rule = cJSON_CreateObject();
			cJSON_AddStringToObject(rule, "id", f->id);
			cJSON_AddStringToObject(cJSON_AddObjectToObject(rule, "shortDescription"), "text", f->title);
			props = cJSON_AddObjectToObject(rule, "properties");
			cJSON_AddStringToObject(props, "severity", severity_name(f->severity));
			if (f->score >= 0) {
				snprintf(text, sizeof(text), "%.1f", f->score);
				cJSON_AddStringToObject(props, "security-severity", text);
			}
			if (f->vector)
				cJSON_AddStringToObject(props, "cvss-vector", f->vector);
			if (cvss_nomenclature(f->vector))
				cJSON_AddStringToObject(props, "cvss-nomenclature", cvss_nomenclature(f->vector));
			cJSON_AddItemToArray(rules, rule);
		}
		res = cJSON_CreateObject();
		cJSON_AddStringToObject(res, "ruleId", f->id);
		cJSON_AddNumberToObject(res, "ruleIndex", idx);
		cJSON_AddStringToObject(res, "level", sarif_level(f));
		snprintf(text, sizeof(text), "%s %s: %s (%s)%s%s", f->pkg->name, f->pkg->version, f->id, severity_name(f->severity),
			 f->fixed[0] ? ", fixed in " : ", no fix yet", f->fixed);
		msg = cJSON_AddObjectToObject(res, "message");
		cJSON_AddStringToObject(msg, "text", text);
		loc = cJSON_CreateObject();
		cJSON_AddStringToObject(
			cJSON_AddObjectToObject(cJSON_AddObjectToObject(loc, "physicalLocation"), "artifactLocation"), "uri",
			f->pkg->path);
		cJSON_AddItemToArray(cJSON_AddArrayToObject(res, "locations"), loc);
		cJSON_AddItemToArray(results, res);
	}
	return put_json(root, out, e);
}

static void purl(const struct report_in *in, const struct pkg *p, char *out, size_t cap)
{
	const char *t = strcmp(p->type, "deb") == 0 ? "deb" : strcmp(p->type, "apk") == 0 ? "apk"
		: strcmp(p->type, "python") == 0 ? "pypi" : strcmp(p->type, "npm") == 0 ? "npm"
		: strcmp(p->type, "maven") == 0 ? "maven" : strcmp(p->type, "cargo") == 0 ? "cargo" : "golang";
	char name[600];
	size_t n = 0;

	/* maven group:artifact -> group/artifact; keep other names, percent-encode '@' */
	for (const char *c = p->name; *c && n < sizeof(name) - 4; c++) {
		if (*c == ':' && strcmp(t, "maven") == 0)
			name[n++] = '/';
		else if (*c == '@')
			memcpy(name + n, "%40", 3), n += 3;
		else
			name[n++] = *c;
	}
	name[n] = 0;
	/* a package without a version has a purl without one */
	if (strcmp(t, "deb") == 0 || strcmp(t, "apk") == 0)
		snprintf(out, cap, "pkg:%s/%s/%s%s%s", t, in->inv->os.id[0] ? in->inv->os.id : "unknown", name,
			 p->version[0] ? "@" : "", p->version);
	else
		snprintf(out, cap, "pkg:%s/%s%s%s", t, name, p->version[0] ? "@" : "", p->version);
}

int report_cyclonedx(const struct report_in *in, struct buf *out, struct err *e)
{
	cJSON *root = cJSON_CreateObject(), *meta, *comps, *vulns, *tool;
	char ref[1200], now[32];

	cJSON_AddStringToObject(root, "bomFormat", "CycloneDX");
	cJSON_AddStringToObject(root, "specVersion", "1.5");
	cJSON_AddNumberToObject(root, "version", 1);
	meta = cJSON_AddObjectToObject(root, "metadata");
	time_rfc3339((int64_t)time(NULL), now);
	cJSON_AddStringToObject(meta, "timestamp", now);
	tool = cJSON_CreateObject();
	cJSON_AddStringToObject(tool, "type", "application");
	cJSON_AddStringToObject(tool, "name", "bosun");
	cJSON_AddStringToObject(tool, "version", in->tool_version ? in->tool_version : "dev");
	cJSON_AddItemToArray(cJSON_AddArrayToObject(cJSON_AddObjectToObject(meta, "tools"), "components"), tool);
	{
		cJSON *c = cJSON_AddObjectToObject(meta, "component");

		cJSON_AddStringToObject(c, "type", "container");
		cJSON_AddStringToObject(c, "name", in->inv->target ? in->inv->target : "target");
		cJSON_AddStringToObject(c, "bom-ref", "target");
	}
	comps = cJSON_AddArrayToObject(root, "components");
	for (size_t i = 0; i < in->inv->n; i++) {
		const struct pkg *p = &in->inv->pkgs[i];
		cJSON *c = cJSON_CreateObject();
		char bref[64];

		snprintf(bref, sizeof(bref), "pkg-%zu", i);
		purl(in, p, ref, sizeof(ref));
		cJSON_AddStringToObject(c, "type", "library");
		cJSON_AddStringToObject(c, "bom-ref", bref);
		cJSON_AddStringToObject(c, "name", p->name);
		if (p->version[0])
			cJSON_AddStringToObject(c, "version", p->version);
		cJSON_AddStringToObject(c, "purl", ref);
		cJSON_AddItemToArray(comps, c);
	}
	vulns = cJSON_AddArrayToObject(root, "vulnerabilities");
	for (size_t i = 0; i < in->res->n; i++) {
		const struct finding *f = &in->res->f[i];
		cJSON *v = cJSON_CreateObject(), *ratings = cJSON_CreateArray(), *rt = cJSON_CreateObject(), *aff;
		char bref[64];
		static const char *const cdx_sev[] = { "unknown", "none", "low", "medium", "high", "critical" };

		if (!f->reported && !f->suppressed)
			continue;
		snprintf(bref, sizeof(bref), "pkg-%zu", (size_t)(f->pkg - in->inv->pkgs));
		cJSON_AddStringToObject(v, "id", f->id);
		if (f->score >= 0)
			cJSON_AddNumberToObject(rt, "score", f->score);
		cJSON_AddStringToObject(rt, "severity", cdx_sev[f->severity]);
		if (f->vector) {
			const char *method = cvss_version(f->vector) == 4	      ? "CVSSv4"
					     : strncmp(f->vector, "CVSS:3.1", 8) == 0 ? "CVSSv31"
					     : strncmp(f->vector, "CVSS:3", 6) == 0   ? "CVSSv3"
										      : "CVSSv2";

			cJSON_AddStringToObject(rt, "method", method);
			cJSON_AddStringToObject(rt, "vector", f->vector);
		}
		cJSON_AddItemToArray(ratings, rt);
		cJSON_AddItemToObject(v, "ratings", ratings);
		cJSON_AddStringToObject(v, "description", f->title);
		if (f->fixed[0]) {
			char rec[200];

			snprintf(rec, sizeof(rec), "Upgrade %.80s to %.80s", f->pkg->name, f->fixed);
			cJSON_AddStringToObject(v, "recommendation", rec);
		}
		aff = cJSON_CreateObject();
		cJSON_AddStringToObject(aff, "ref", bref);
		cJSON_AddItemToArray(cJSON_AddArrayToObject(v, "affects"), aff);
		if (f->suppressed) {
			cJSON *an = cJSON_AddObjectToObject(v, "analysis");

			cJSON_AddStringToObject(an, "state", "not_affected");
			cJSON_AddStringToObject(an, "detail", f->suppress_reason ? f->suppress_reason : "");
		}
		cJSON_AddItemToArray(vulns, v);
	}
	return put_json(root, out, e);
}


int report_junit(const struct report_in *in, struct buf *out, struct err *e)
{
	xmlBufferPtr xb = NULL;
	xmlTextWriterPtr w = NULL;
	char t[2048];
	int tests = 0, failures = 0, skipped = 0, r = -1;

	if (xmlw_open(&xb, &w, e) < 0)
		goto out;
	for (size_t i = 0; i < in->res->n; i++) {
		tests++;
		failures += in->res->f[i].failing;
		skipped += !in->res->f[i].reported;
	}
	XW(junit_start(w));
	{
		const struct junit_suite s = {
		    "scan",	 (size_t)tests, (size_t)failures, 0, (size_t)skipped, 0,
		    in->seconds, NULL};
		const struct junit_prop p[] = {
		    {"image.digest", in->inv->digest ? in->inv->digest : ""},
		    {"image.target", in->inv->target ? in->inv->target : ""},
		    {"db.version", in->db_version ? in->db_version : ""}};

		XW(junit_suite_start(w, &s, p, ARRAY_SIZE(p)));
	}
	for (size_t i = 0; i < in->res->n; i++) {
		const struct finding *f = &in->res->f[i];
		char cls[600], title[1024];

		junit_classname("scan", f->pkg->src_name, cls, sizeof(cls));
		snprintf(title, sizeof(title), "%s %s", f->pkg->name, f->id);
		XW(junit_case_start(w, cls, title, NULL));
		if (f->failing) {
			snprintf(t, sizeof(t), "%s %s in %s %s (%s); fixed version: %s", f->id, severity_name(f->severity),
				 f->pkg->name, f->pkg->version, f->pkg->path, f->fixed[0] ? f->fixed : "none");
			if (f->vector && f->score >= 0) /* "; CVSS-B 7.3 CVSS:4.0/...", "; CVSS 9.8 CVSS:3.1/..." */
				snprintf(t + strlen(t), sizeof(t) - strlen(t), "; %s %.1f %s",
					 cvss_nomenclature(f->vector) ? cvss_nomenclature(f->vector) : "CVSS", f->score,
					 f->vector);
			XW(junit_outcome(w, "failure", f->title, severity_name(f->severity), t));
		} else if (!f->reported) {
			XW(junit_outcome(w, "skipped", f->suppressed ? f->suppress_reason : NULL, NULL, NULL));
		}
		XW(xmlTextWriterEndElement(w));
	}
	XW(junit_suite_end(w, NULL));
	XW(xmlTextWriterEndElement(w));
	r = xmlw_finish(&w, xb, out, e);
out:
	xmlw_free(w, xb);
	return r;
}

static const char *sev_color(enum severity s)
{
	switch (s) {
	case SEV_CRITICAL: return "\033[1;31m";
	case SEV_HIGH: return "\033[31m";
	case SEV_MEDIUM: return "\033[33m";
	case SEV_LOW: return "\033[36m";
	default: return "\033[2m";
	}
}

int report_table(const struct report_in *in, struct buf *out, struct err *e)
{
	int shown = 0;

	if (buf_addf(out, e, "%s  (%s%s%s, %zu packages)\n", in->inv->target ? in->inv->target : "",
		     in->inv->os.pretty[0] ? in->inv->os.pretty : "unknown OS", in->inv->digest ? ", " : "",
		     in->inv->digest ? in->inv->digest : "", in->inv->n) < 0)
		return -1;
	/* grouped by package: findings arrive per package already */
	for (size_t i = 0; i < in->res->n; i++) {
		const struct finding *f = &in->res->f[i];
		bool first = i == 0 || in->res->f[i - 1].pkg != f->pkg;

		if (!f->reported)
			continue;
		if (first && buf_addf(out, e, "\n%s %s (%s)%s\n", f->pkg->name, f->pkg->version, f->pkg->path,
				      f->pkg->from_base ? " [base image]" : "") < 0)
			return -1;
		if (buf_addf(out, e, "  %s%-8s%s %-20s %-8s %-24s %.70s\n", in->color ? sev_color(f->severity) : "",
			     severity_name(f->severity), in->color ? "\033[0m" : "", f->id, status_of(f),
			     f->fixed[0] ? f->fixed : "-", f->title) < 0)
			return -1;
		shown++;
	}
	if (buf_addf(out, e, "\n%d finding%s reported", shown, shown == 1 ? "" : "s") < 0)
		return -1;
	{
		int sup = 0, fail = 0;

		for (size_t i = 0; i < in->res->n; i++)
			sup += in->res->f[i].suppressed, fail += in->res->f[i].failing;
		if (buf_addf(out, e, ", %d suppressed, %d at or above the failure threshold\n", sup, fail) < 0)
			return -1;
	}
	return report_base_line(in, out, e);
}

int report_markdown(const struct report_in *in, struct buf *out, struct err *e)
{
	int counts[6] = { 0 }, fail = 0;

	for (size_t i = 0; i < in->res->n; i++)
		if (in->res->f[i].reported)
			counts[in->res->f[i].severity]++, fail += in->res->f[i].failing;
	if (buf_addf(out, e, "## bosun scan: %s\n\n", in->inv->target ? in->inv->target : "") < 0 ||
	    buf_addf(out, e, "%s, %zu packages, database %s. **%s**\n\n",
		     in->inv->os.pretty[0] ? in->inv->os.pretty : "unknown OS", in->inv->n,
		     in->db_version ? in->db_version : "?", fail ? "Policy failed" : "Policy passed") < 0 ||
	    buf_adds(out, "| Critical | High | Medium | Low | Unknown |\n|---:|---:|---:|---:|---:|\n", e) < 0 ||
	    buf_addf(out, e, "| %d | %d | %d | %d | %d |\n\n", counts[SEV_CRITICAL], counts[SEV_HIGH], counts[SEV_MEDIUM],
		     counts[SEV_LOW], counts[SEV_UNKNOWN]) < 0)
		return -1;
	if (buf_adds(out, "| Severity | Advisory | Package | Installed | Fixed |\n|---|---|---|---|---|\n", e) < 0)
		return -1;
	for (size_t i = 0; i < in->res->n; i++) {
		const struct finding *f = &in->res->f[i];

		if (f->reported && buf_addf(out, e, "| %s | %s | %s | %s | %s |\n", severity_name(f->severity), f->id,
					    f->pkg->name, f->pkg->version, f->fixed[0] ? f->fixed : "no fix") < 0)
			return -1;
	}
	if (buf_adds(out, "\n", e) < 0)
		return -1;
	return report_base_line(in, out, e);
}
