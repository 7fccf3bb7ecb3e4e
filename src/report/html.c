#include "report/html.h"

#include <stdio.h>
#include <string.h>

#include "core/util.h"
#include "scan/cvss.h"

int html_escape(struct buf *out, const char *s, struct err *e)
{
	const char *start = s, *rep;

	for (; s && *s; s++) {
		switch (*s) {
		case '&': rep = "&amp;"; break;
		case '<': rep = "&lt;"; break;
		case '>': rep = "&gt;"; break;
		case '"': rep = "&quot;"; break;
		case '\'': rep = "&#39;"; break;
		default: continue;
		}
		if (buf_add(out, start, (size_t)(s - start), e) || buf_adds(out, rep, e))
			return -1;
		start = s + 1;
	}
	return s ? buf_add(out, start, (size_t)(s - start), e) : 0;
}

/* Shorthands: append literal / escaped text, bail out to the caller on error. */
#define LIT(s)                                                                                 \
	do {                                                                                   \
		if (buf_adds(out, (s), e))                                                     \
			return -1;                                                             \
	} while (0)
#define ESC(s)                                                                                 \
	do {                                                                                   \
		if (html_escape(out, (s), e))                                                  \
			return -1;                                                             \
	} while (0)
#define FMT(...)                                                                               \
	do {                                                                                   \
		if (buf_addf(out, e, __VA_ARGS__))                                             \
			return -1;                                                             \
	} while (0)

static const char css[] =
	":root{--bg:#f5f7fa;--card:#fff;--ink:#1c2430;--mute:#5b6675;--line:#e3e8ef;"
	"--crit:#b3261e;--high:#e8590c;--med:#d4a017;--low:#2f7dd1;--unk:#8a94a3;"
	"--ok:#1e8e3e;--bad:#c62828;--warn:#b26a00}"
	"*{box-sizing:border-box}"
	"body{margin:0;background:var(--bg);color:var(--ink);"
	"font:15px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,'DejaVu Sans',sans-serif}"
	"header{background:#17212f;color:#fff;padding:18px 28px;display:flex;align-items:center;"
	"gap:16px;flex-wrap:wrap}"
	"header h1{font-size:20px;margin:0;font-weight:600;letter-spacing:.2px}"
	"header .ref{font:13px/1.3 ui-monospace,'DejaVu Sans Mono',monospace;color:#c9d4e3;"
	"overflow-wrap:anywhere;flex:1 1 300px}"
	".pill{display:inline-block;padding:4px 12px;border-radius:999px;font-weight:700;"
	"font-size:13px;letter-spacing:.4px;text-transform:uppercase}"
	".pill.pass{background:var(--ok);color:#fff}.pill.fail{background:var(--bad);color:#fff}"
	"main{max-width:1240px;margin:0 auto;padding:20px 24px 40px}"
	".grid{display:grid;grid-template-columns:repeat(2,minmax(0,1fr));gap:16px;margin-top:16px}"
	".kv2{display:grid;grid-template-columns:minmax(0,1fr) minmax(0,1fr);column-gap:18px}"
	".sub{flex-basis:100%;font-size:13.5px;color:#c9d4e3;margin-top:-6px}"
	".card{background:var(--card);border:1px solid var(--line);border-radius:10px;"
	"padding:14px 16px;min-width:0;overflow-wrap:anywhere}"
	".card h2{font-size:12px;text-transform:uppercase;letter-spacing:.8px;color:var(--mute);"
	"margin:0 0 8px;font-weight:600}"
	".kv{margin:0}.kv dt{font-size:12px;color:var(--mute);margin-top:6px}"
	".kv dd{margin:0;overflow-wrap:anywhere}"
	".mono{font-family:ui-monospace,'DejaVu Sans Mono',monospace;font-size:12.5px}"
	".badge{display:inline-block;padding:1px 8px;border-radius:6px;font-size:12px;font-weight:600}"
	".b-ok{background:#e6f4ea;color:var(--ok)}.b-bad{background:#fdecea;color:var(--bad)}"
	".b-warn{background:#fff4e5;color:var(--warn)}.b-mute{background:#eef1f5;color:var(--mute)}"
	"section{margin-top:16px}"
	".stages{display:grid;grid-template-columns:repeat(6,minmax(0,1fr));gap:10px;padding:0;margin:0;"
	"list-style:none}"
	".stage{border-radius:8px;padding:10px 12px;border:1px solid var(--line);background:var(--card);"
	"min-width:0;overflow-wrap:anywhere;"
	"border-top:4px solid var(--unk)}"
	".stage b{display:block;text-transform:capitalize}.stage span{font-size:12px;color:var(--mute)}"
	".stage.passed{border-top-color:var(--ok)}.stage.failed{border-top-color:var(--bad)}"
	".stage.error{border-top-color:var(--bad)}.stage.skipped,.stage.not-run{border-top-color:#c3cad4}"
	".stage .st{font-weight:600;font-size:12px;text-transform:uppercase}"
	".stage.passed .st{color:var(--ok)}.stage.failed .st,.stage.error .st{color:var(--bad)}"
	".stage.skipped .st,.stage.not-run .st{color:var(--mute)}"
	".two{display:grid;grid-template-columns:minmax(0,5fr) minmax(0,7fr);gap:16px}"
	".two .stages{grid-template-columns:repeat(3,minmax(0,1fr))}"
	"svg.chart{width:100%;height:auto;display:block}"
	".tot{font-size:28px;font-weight:700;margin:0}.tot small{font-size:13px;color:var(--mute);"
	"font-weight:400}"
	".tablewrap{background:var(--card);border:1px solid var(--line);border-radius:10px;overflow:auto}"
	"table{border-collapse:collapse;width:100%;font-size:13.5px}"
	"th,td{text-align:left;padding:8px 10px;border-bottom:1px solid var(--line);vertical-align:top}"
	"th{background:#f0f3f7;font-size:12px;text-transform:uppercase;letter-spacing:.5px;"
	"color:var(--mute);position:sticky;top:0;white-space:nowrap}"
	"th button{all:unset;cursor:pointer}th button:after{content:' \\2195';opacity:.35}"
	"th[aria-sort=ascending] button:after{content:' \\2191';opacity:1}"
	"th[aria-sort=descending] button:after{content:' \\2193';opacity:1}"
	"tr.failing td:first-child{box-shadow:inset 3px 0 0 var(--bad)}"
	"tr.suppressed{opacity:.55}"
	".sev{display:inline-block;min-width:70px;text-align:center;padding:2px 8px;border-radius:6px;"
	"color:#fff;font-size:12px;font-weight:700;text-transform:uppercase}"
	".sev-critical{background:var(--crit)}.sev-high{background:var(--high)}"
	".sev-medium{background:var(--med);color:#1c2430}.sev-low{background:var(--low)}"
	".sev-unknown{background:var(--unk)}"
	".cvss{display:block;font-size:11.5px;margin-top:3px;opacity:.85}"
	".alias{display:block;color:var(--mute);font-size:12px}"
	".empty{padding:28px;text-align:center;color:var(--ok);font-weight:600}"
	".sect{font-size:13px;text-transform:uppercase;letter-spacing:.8px;color:var(--mute);margin:22px 0 8px}"
	"footer{color:var(--mute);font-size:12px;margin-top:22px;text-align:center}"
	"@media (max-width:980px){.grid,.two{grid-template-columns:1fr}}"
	"@media (max-width:640px){header{padding:14px 16px}main{padding:14px 12px 30px}"
	".kv2{grid-template-columns:1fr}.two .stages{grid-template-columns:repeat(2,minmax(0,1fr))}"
	"table,tbody,tr,td{display:block;width:100%}thead{display:none}"
	".tablewrap{background:none;border:0}"
	"tr{background:var(--card);border:1px solid var(--line);border-radius:10px;margin-bottom:10px;"
	"padding:6px 4px}"
	"td{border:0;padding:3px 10px}td[data-label]:before{content:attr(data-label);display:inline-block;"
	"min-width:84px;color:var(--mute);font-size:12px}"
	"tr.failing td:first-child{box-shadow:none}tr.failing{border-left:4px solid var(--bad)}}"
	"@media print{header{background:#fff;color:#000}th{position:static}}";

/* Sorting: click a column header; severity sorts by rank, text columns
 * with locale-aware numeric comparison. Without JavaScript the table is
 * already sorted by severity. */
static const char script[] =
	"(function(){var t=document.getElementById('findings');if(!t)return;"
	"var hs=t.tHead.rows[0].cells;"
	"for(var i=0;i<hs.length;i++)(function(i,th){var b=document.createElement('button');"
	"b.textContent=th.textContent;th.textContent='';th.appendChild(b);"
	"b.addEventListener('click',function(){var asc=th.getAttribute('aria-sort')!=='ascending';"
	"for(var j=0;j<hs.length;j++)hs[j].removeAttribute('aria-sort');"
	"th.setAttribute('aria-sort',asc?'ascending':'descending');"
	"var tb=t.tBodies[0],rows=Array.prototype.slice.call(tb.rows);"
	"rows.sort(function(x,y){var a=x.cells[i],c=y.cells[i];"
	"var p=a.getAttribute('data-sort')||a.textContent,q=c.getAttribute('data-sort')||c.textContent;"
	"var r=p.localeCompare(q,undefined,{numeric:true});return asc?r:-r;});"
	"rows.forEach(function(r){tb.appendChild(r);});});})(i,hs[i]);})();";

/* ship --patch: the scan of the build, and the packages upgraded. */
static int patched(const struct results *r, struct buf *out, struct err *e)
{
	size_t failing_before = r->before_failing, before = 0;

	if (!r->patch_from)
		return 0;
	for (size_t i = 0; i < RSEV__N; i++)
		before += r->before_counts[i];
	LIT("<section id=\"patch\"><h2 class=\"sect\">Patched</h2><div class=\"tablewrap\"><p>The image as built (<span "
	    "class=\"mono\">");
	ESC(r->patch_from);
	FMT("</span>) had %zu finding%s, %zu at or above the threshold; the shipped image is the patched one.</p>"
	    "<table><thead><tr><th>Package</th><th>From</th><th>To</th></tr></thead><tbody>",
	    before, before == 1 ? "" : "s", failing_before);
	for (size_t i = 0; i < r->n_patched; i++) {
		LIT("<tr><td data-label=\"Package\">");
		ESC(r->patched[i].name);
		LIT("</td><td data-label=\"From\" class=\"mono\">");
		ESC(*r->patched[i].from ? r->patched[i].from : "(new)");
		LIT("</td><td data-label=\"To\" class=\"mono\">");
		ESC(r->patched[i].to);
		LIT("</td></tr>");
	}
	LIT("</tbody></table></div></section>");
	return 0;
}

static const char *const sev_color[RSEV__N] = { "#b3261e", "#e8590c", "#d4a017", "#2f7dd1", "#8a94a3" };

static int chart(const struct results *r, struct buf *out, struct err *e)
{
	size_t counts[RSEV__N], max = 0, total = 0;
	const int w = 420, row = 34, left = 86, right = 56;

	results_counts(r, counts);
	for (size_t i = 0; i < RSEV__N; i++) {
		total += counts[i];
		if (counts[i] > max)
			max = counts[i];
	}
	FMT("<p class=\"tot\"><span id=\"count-total\">%zu</span> <small>finding%s (not suppressed)</small></p>",
	    total, total == 1 ? "" : "s");
	FMT("<svg class=\"chart\" viewBox=\"0 0 %d %d\" role=\"img\" aria-label=\"findings by severity\" "
	    "xmlns=\"http://www.w3.org/2000/svg\">",
	    w, row * RSEV__N + 6);
	for (size_t i = 0; i < RSEV__N; i++) {
		int y = (int)i * row + 4;
		int bw = max ? (int)((double)counts[i] * (w - left - right) / (double)max + 0.5) : 0;
		const char *nm = res_sev_name((enum res_sev)i);

		if (counts[i] && bw < 3)
			bw = 3;
		FMT("<g class=\"bar\" data-sev=\"%s\" data-count=\"%zu\">"
		    "<text x=\"%d\" y=\"%d\" text-anchor=\"end\" font-size=\"14\" fill=\"#5b6675\" "
		    "style=\"text-transform:capitalize\">%c%s</text>"
		    "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"22\" rx=\"4\" fill=\"#eef1f5\"/>"
		    "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"22\" rx=\"4\" fill=\"%s\"/>"
		    "<text x=\"%d\" y=\"%d\" font-size=\"14\" font-weight=\"700\" fill=\"#1c2430\" "
		    "id=\"count-%s\">%zu</text></g>",
		    nm, counts[i], left - 10, y + 16, nm[0] - 32, nm + 1, left, y, w - left - right, left, y, bw,
		    sev_color[i], left + (w - left - right) + 8, y + 16, nm, counts[i]);
	}
	LIT("</svg>");
	return 0;
}

static int kv(struct buf *out, const char *k, const char *v, bool mono, const char *id, struct err *e)
{
	FMT("<dt>%s</dt><dd", k);
	if (mono)
		LIT(" class=\"mono\"");
	if (id)
		FMT(" id=\"%s\"", id);
	LIT(">");
	ESC(v && *v ? v : "—");
	LIT("</dd>");
	return 0;
}

static int cards(const struct results *r, struct buf *out, struct err *e)
{
	LIT("<div class=\"grid\"><div class=\"card\"><h2>Image</h2><dl class=\"kv\">");
	if (kv(out, "Reference", r->ref, true, "image-ref", e) ||
	    kv(out, "Digest", r->digest, true, "image-digest", e))
		return -1;
	if (r->n_tags > 1) {
		LIT("<dt>Tags</dt><dd class=\"mono\">");
		for (size_t i = 0; i < r->n_tags; i++) {
			if (i)
				LIT("<br>");
			ESC(r->tags[i]);
		}
		LIT("</dd>");
	}
	if (kv(out, "Platform", r->platform, false, NULL, e))
		return -1;
	FMT("<dt>Pushed</dt><dd>%s</dd>",
	    r->pushed ? (r->policy_passed ? "<span class=\"badge b-ok\">yes</span>"
					  : "<span class=\"badge b-warn\">yes, despite the failed gate</span>")
		      : "<span class=\"badge b-mute\">no</span>");
	LIT("</dl></div><div class=\"card\"><h2>Base image</h2><dl class=\"kv\">");
	if (kv(out, "Name", r->base_name ? r->base_name : "unknown", true, "base-name", e) ||
	    kv(out, "Digest", r->base_digest, true, NULL, e) || kv(out, "Created", r->base_created, false, NULL, e))
		return -1;
	LIT("<dt>Freshness</dt><dd id=\"base-freshness\">");
	if (r->base_age_days < 0)
		LIT("<span class=\"badge b-mute\">unknown</span>");
	else if (r->base_max_age_days >= 0 && r->base_age_days > r->base_max_age_days)
		FMT("<span class=\"badge b-warn\">stale</span> %ld days old (limit %ld)", r->base_age_days,
		    r->base_max_age_days);
	else if (r->base_max_age_days >= 0)
		FMT("<span class=\"badge b-ok\">fresh</span> %ld days old (limit %ld)", r->base_age_days,
		    r->base_max_age_days);
	else
		FMT("%ld days old", r->base_age_days);
	LIT("</dd></dl></div><div class=\"card\"><h2>Policy</h2><dl class=\"kv\">");
	if (kv(out, "Fail on", r->fail_on ? r->fail_on : "none", false, NULL, e))
		return -1;
	FMT("<dt>Gate</dt><dd id=\"policy\">%s</dd>",
	    r->policy_passed ? "<span class=\"badge b-ok\">passed</span>"
			     : "<span class=\"badge b-bad\">failed</span>");
	if (kv(out, "Database", r->db_version, false, NULL, e))
		return -1;
	LIT("</dl></div><div class=\"card\"><h2>Signature</h2><dl class=\"kv\">");
	if (r->n_signed) {
		LIT("<dt>Signed</dt><dd id=\"signed\"><span class=\"badge b-ok\">signed</span></dd>");
		if (kv(out, "Key", r->sign_key, true, "sign-key", e) ||
		    kv(out, "Key ID", r->sign_key_id, true, NULL, e))
			return -1;
		LIT("<dt>Signed references</dt><dd class=\"mono\">");
		for (size_t i = 0; i < r->n_signed; i++) {
			if (i)
				LIT("<br>");
			ESC(r->signed_refs[i]);
		}
		LIT("</dd>");
	} else {
		LIT("<dt>Signed</dt><dd id=\"signed\"><span class=\"badge b-mute\">not signed</span></dd>");
	}
	LIT("<dt>Attestations</dt><dd>");
	if (!r->n_attestations)
		LIT("none");
	for (size_t i = 0; i < r->n_attestations; i++) {
		if (i)
			LIT("<br>");
		LIT("<span class=\"mono\">");
		ESC(r->attestations[i]);
		LIT("</span>");
	}
	LIT("</dd></dl></div></div>");
	return 0;
}

static int stages(const struct results *r, struct buf *out, struct err *e)
{
	LIT("<ol class=\"stages\" aria-label=\"stages\">");
	for (size_t i = 0; i < RS__N; i++) {
		const struct res_stage_info *s = &r->stage[i];

		if (i == RS_PATCH && s->status == RST_NOT_RUN)
			continue;
		FMT("<li class=\"stage %s\" data-stage=\"%s\"><b>%s</b><span class=\"st\">%s</span> "
		    "<span>%.1f s</span>",
		    res_status_name(s->status), res_stage_name((enum res_stage)i),
		    res_stage_name((enum res_stage)i), res_status_name(s->status), s->seconds);
		if (s->details && *s->details) {
			LIT("<br><span>");
			ESC(s->details);
			LIT("</span>");
		}
		LIT("</li>");
	}
	LIT("</ol>");
	return 0;
}

/* Findings sorted for the no-JavaScript reading: severity, failing first, id. */
static const struct results *sort_ctx;
static int cmp_finding(const void *a, const void *b)
{
	const struct res_finding *x = &sort_ctx->f[*(const size_t *)a], *y = &sort_ctx->f[*(const size_t *)b];
	int sx = res_sev_parse(x->severity), sy = res_sev_parse(y->severity), c;

	if (x->suppressed != y->suppressed)
		return x->suppressed ? 1 : -1;
	if (sx != sy)
		return sx - sy;
	if ((c = strcmp(x->id, y->id)))
		return c;
	return strcmp(x->package, y->package);
}

/* Layers as "sha256:" + 12 hex digits; the full digest is in the title. */
static int layer_short(struct buf *out, const char *layer, struct err *e)
{
	char t[24];

	if (strlen(layer) <= 19)
		return html_escape(out, layer, e);
	memcpy(t, layer, 19);
	memcpy(t + 19, "…", 4);
	t[23] = 0;
	return html_escape(out, t, e);
}

static int findings(const struct results *r, struct buf *out, struct err *e)
{
	size_t *idx;

	LIT("<div class=\"tablewrap\">");
	if (!r->n_f) {
		LIT("<p class=\"empty\" id=\"no-findings\">No known vulnerabilities found.</p></div>");
		return 0;
	}
	idx = malloc(r->n_f * sizeof(*idx));
	if (!idx)
		return err_oom(e);
	for (size_t i = 0; i < r->n_f; i++)
		idx[i] = i;
	sort_ctx = r;
	qsort(idx, r->n_f, sizeof(*idx), cmp_finding);
	if (buf_adds(out, "<table id=\"findings\"><thead><tr><th scope=\"col\">Severity</th>"
			  "<th scope=\"col\">Vulnerability</th><th scope=\"col\">Package</th>"
			  "<th scope=\"col\">Installed</th><th scope=\"col\">Fixed in</th>"
			  "<th scope=\"col\">Layer</th><th scope=\"col\">Title</th></tr></thead><tbody>",
		     e))
		goto fail;
	for (size_t k = 0; k < r->n_f; k++) {
		const struct res_finding *f = &r->f[idx[k]];
		int sev = res_sev_parse(f->severity);
		const char *sn = res_sev_name(sev < 0 ? RSEV_UNKNOWN : (enum res_sev)sev);

		if (buf_addf(out, e, "<tr class=\"finding%s%s\" data-sev=\"%s\"><td data-label=\"Severity\" "
				     "data-sort=\"%d\"><span class=\"sev sev-%s\">%s</span>",
			     f->failing && !f->suppressed ? " failing" : "", f->suppressed ? " suppressed" : "",
			     sn, sev < 0 ? RSEV_UNKNOWN : sev, sn, sn))
			goto fail;
		/* the CVSS score, its nomenclature (v4.0) and the vector on hover */
		if (f->cvss_vector && (buf_adds(out, " <span class=\"cvss mono\" title=\"", e) ||
				       html_escape(out, f->cvss_vector, e) ||
				       buf_addf(out, e, "\">%.1f%s%s</span>", f->cvss_score,
						cvss_nomenclature(f->cvss_vector) ? " " : "",
						cvss_nomenclature(f->cvss_vector) ? cvss_nomenclature(f->cvss_vector) : "")))
			goto fail;
		if (buf_adds(out, "</td><td data-label=\"ID\" class=\"mono\">", e) || html_escape(out, f->id, e))
			goto fail;
		for (size_t a = 0; a < f->n_aliases && a < 4; a++)
			if (buf_adds(out, "<span class=\"alias\">", e) || html_escape(out, f->aliases[a], e) ||
			    buf_adds(out, "</span>", e))
				goto fail;
		if (buf_adds(out, "</td><td data-label=\"Package\" class=\"mono\">", e) ||
		    html_escape(out, f->package, e) ||
		    buf_adds(out, "</td><td data-label=\"Installed\" class=\"mono\">", e) ||
		    html_escape(out, f->installed, e) ||
		    buf_adds(out, "</td><td data-label=\"Fixed in\" class=\"mono\">", e) ||
		    html_escape(out, *f->fixed ? f->fixed : "—", e) ||
		    buf_addf(out, e, "</td><td data-label=\"Layer\" data-sort=\"%d\"><span title=\"", f->from_base ? 0 : 1) ||
		    html_escape(out, f->layer, e) ||
		    buf_addf(out, e, "\">%s", f->from_base ? "<span class=\"badge b-mute\">base</span> "
							 : "<span class=\"badge b-ok\">app</span> ") ||
		    layer_short(out, f->layer, e) || buf_adds(out, "</span>", e) ||
		    buf_adds(out, "</td><td data-label=\"Title\">", e) || html_escape(out, f->title, e) ||
		    buf_adds(out, "</td></tr>", e))
			goto fail;
	}
	free(idx);
	LIT("</tbody></table></div>");
	return 0;
fail:
	free(idx);
	return -1;
}

int results_html(const struct results *r, struct buf *out, struct err *e)
{
	size_t counts[RSEV__N], failing = 0;

	results_counts(r, counts);
	for (size_t i = 0; i < r->n_f; i++)
		failing += r->f[i].failing && !r->f[i].suppressed;
	LIT("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
	    "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
	    "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
	    "style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">"
	    "<title>bosun report: ");
	ESC(r->ref ? r->ref : "image");
	LIT("</title><style>");
	LIT(css);
	LIT("</style></head><body><header><h1>bosun ship report</h1><span class=\"ref\">");
	ESC(r->ref ? r->ref : "");
	FMT("</span><span class=\"pill %s\" id=\"verdict\">%s</span><span class=\"sub\">",
	    r->policy_passed ? "pass" : "fail", r->policy_passed ? "passed" : "policy failed");
	FMT("<span id=\"count-failing\">%zu</span> finding%s at or above ", failing, failing == 1 ? "" : "s");
	ESC(r->fail_on ? r->fail_on : "none");
	FMT(" &middot; %s &middot; %s</span></header><main>", r->pushed ? "pushed" : "not pushed",
	    r->n_signed ? "signed" : "not signed");
	LIT("<section class=\"two\"><div class=\"card\"><h2>Findings by severity</h2>");
	if (chart(r, out, e))
		return -1;
	LIT("</div><div class=\"card\"><h2>Stages</h2>");
	if (stages(r, out, e))
		return -1;
	LIT("</div></section>");
	if (cards(r, out, e) || patched(r, out, e))
		return -1;
	LIT("<section><h2 class=\"sect\">Findings</h2>");
	if (findings(r, out, e))
		return -1;
	LIT("</section><footer>Generated by ");
	ESC(r->tool ? r->tool : "bosun");
	if (r->created) {
		LIT(" at ");
		ESC(r->created);
	}
	LIT(". Self-contained page: no external assets.</footer></main><script>");
	LIT(script);
	LIT("</script></body></html>\n");
	return 0;
}
