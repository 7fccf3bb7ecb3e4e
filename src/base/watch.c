/* bosun base watch: concurrent checks and the three reports. */
#include <cjson/cJSON.h>
#include <libxml/xmlwriter.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/pool.h"
#include "base/watch.h"
#include "report/xmlw.h"
#include "core/ojson.h"
#include "core/util.h"

static void check_one(void *ctx, size_t i)
{
	const struct watch_opts *o = ((void **)ctx)[0];
	struct watch *w = ((void **)ctx)[1];
	struct watch_item *it = &w->it[i];
	struct err e = ERR_INIT;

	if (base_check(it->fi->image, o->bo, &it->r, &e) < 0) {
		it->r.state = BASE_ERROR;
		it->r.err = e;
	}
}

int base_watch_run(const struct fleet *f, const struct watch_opts *o, struct watch *w, struct err *e)
{
	void *ctx[2] = { (void *)o, w };
	double t0 = time_now();

	memset(w, 0, sizeof(*w));
	w->shard_i = o->shard_n ? o->shard_i : 1;
	w->shard_n = o->shard_n ? o->shard_n : 1;
	w->it = calloc(f->n ? f->n : 1, sizeof(*w->it));
	if (!w->it)
		return err_oom(e);
	for (size_t i = 0; i < f->n; i++)
		if (w->shard_n == 1 || base_in_shard(f->items[i].image, w->shard_i, w->shard_n))
			w->it[w->n++].fi = &f->items[i];
	if (base_pool_run(w->n, o->jobs > 0 ? o->jobs : 8, check_one, ctx, e) < 0)
		return -1;
	for (size_t i = 0; i < w->n; i++)
		switch (w->it[i].r.state) {
		case BASE_UP_TO_DATE: w->n_up++; break;
		case BASE_STALE: w->n_stale++; break;
		case BASE_UNKNOWN: w->n_unknown++; break;
		case BASE_ERROR: w->n_error++; break;
		}
	if (o->db && base_watch_rescan(w, o, e) < 0)
		return -1;
	w->seconds = time_now() - t0;
	return 0;
}

void base_watch_free(struct watch *w)
{
	for (size_t i = 0; i < w->n; i++) {
		struct watch_item *it = &w->it[i];

		base_result_free(&it->r);
		for (size_t j = 0; j < it->n_fresh; j++) {
			free(it->fresh[j].id);
			free(it->fresh[j].pkg);
			free(it->fresh[j].version);
			free(it->fresh[j].fixed);
			free(it->fresh[j].severity);
			free(it->fresh[j].title);
		}
		free(it->fresh);
	}
	free(w->it);
	free(w->db_built);
	memset(w, 0, sizeof(*w));
}

/* ---- JUnit */

static int suite_start(xmlTextWriterPtr w, const char *name, size_t tests, size_t fail, size_t errs,
		       size_t skip, double secs, int id, const struct watch *wt)
{
	const struct junit_suite s = {name, tests, fail, errs, skip, (size_t)id, secs, NULL};
	char shard[32];
	const struct junit_prop p[] = {
	    {"shard", shard}, {"fleet", wt->fleet_path}, {"db.version", wt->db_built}};

	snprintf(shard, sizeof(shard), "%d/%d", wt->shard_i, wt->shard_n);
	return junit_suite_start(w, &s, p, ARRAY_SIZE(p));
}

static int suite_end(xmlTextWriterPtr w)
{
	return junit_suite_end(w, NULL);
}

int base_watch_junit(const struct watch *wt, struct buf *out, struct err *e)
{
	xmlBufferPtr xb = NULL;
	xmlTextWriterPtr w = NULL;
	char t[2048], msg[2048], age[32];
	int r = -1;

	if (xmlw_open(&xb, &w, e) < 0)
		goto out;
	XW(junit_start(w));
	XW(suite_start(w, "base", wt->n, wt->n_stale, wt->n_error, wt->n_unknown, wt->seconds, 0, wt));
	for (size_t i = 0; i < wt->n; i++) {
		const struct base_result *r0 = &wt->it[i].r;

		/* Stable name (history is keyed by it); classname without dots. */
		XW(junit_case_start(w, "base", wt->it[i].fi->image, NULL));
		switch (r0->state) {
		case BASE_STALE:
			base_age_string(r0->age_seconds, age, sizeof(age));
			snprintf(msg, sizeof(msg), "base %s was updated: %s", r0->base_name, r0->current_digest);
			snprintf(t, sizeof(t),
				 "%s was built on %s@%s; the tag now points at %s%s%s (new base age: %s). "
				 "Rebuild and redeploy%s%s.",
				 wt->it[i].fi->image, r0->base_name, r0->base_digest, r0->current_digest,
				 r0->current_platform_digest ? ", platform manifest " : "",
				 r0->current_platform_digest ? r0->current_platform_digest : "", age,
				 wt->it[i].fi->pipeline ? " with pipeline " : "",
				 wt->it[i].fi->pipeline ? wt->it[i].fi->pipeline : "");
			XW(junit_outcome(w, "failure", msg, "stale-base", t));
			break;
		case BASE_ERROR:
			XW(junit_outcome(w, "error", r0->err.msg,
					 r0->err.code == ERR_NETWORK ? "network" : "input", NULL));
			break;
		case BASE_UNKNOWN:
			XW(junit_outcome(w, "skipped", r0->note ? r0->note : "no base recorded", NULL, NULL));
			break;
		case BASE_UP_TO_DATE: break;
		}
		XW(xmlTextWriterEndElement(w));
	}
	XW(suite_end(w));
	if (wt->db_built) {
		size_t n = 0, errs = 0;

		for (size_t i = 0; i < wt->n; i++)
			n += wt->it[i].n_fresh, errs += wt->it[i].scan_err.code != 0;
		XW(suite_start(w, "rescan", n + errs, n, errs, 0, 0, 1, wt));
		for (size_t i = 0; i < wt->n; i++) {
			const struct watch_item *it = &wt->it[i];

			if (it->scan_err.code) {
				XW(junit_case_start(w, "rescan", it->fi->image, NULL));
				XW(junit_outcome(w, "error", it->scan_err.msg, "scan", NULL));
				XW(xmlTextWriterEndElement(w));
			}
			for (size_t j = 0; j < it->n_fresh; j++) {
				const struct rescan_finding *f = &it->fresh[j];

				snprintf(msg, sizeof(msg), "%s %s %s", it->fi->image, f->pkg, f->id);
				XW(junit_case_start(w, "rescan", msg, NULL));
				snprintf(t, sizeof(t), "new since the last watch: %s %s in %s %s; fixed version: %s", f->id,
					 f->severity, f->pkg, f->version, *f->fixed ? f->fixed : "none");
				XW(junit_outcome(w, "failure", f->title && *f->title ? f->title : f->id,
						 f->severity, t));
				XW(xmlTextWriterEndElement(w));
			}
		}
		XW(suite_end(w));
	}
	XW(xmlTextWriterEndElement(w));
	r = xmlw_finish(&w, xb, out, e);
out:
	xmlw_free(w, xb);
	return r;
}

/* ---- JSON */

cJSON *rescan_finding_json(const struct rescan_finding *rf)
{
	cJSON *f = cJSON_CreateObject();

	cJSON_AddStringToObject(f, "id", rf->id);
	cJSON_AddStringToObject(f, "package", rf->pkg);
	cJSON_AddStringToObject(f, "version", rf->version);
	cJSON_AddStringToObject(f, "fixed", rf->fixed);
	cJSON_AddStringToObject(f, "severity", rf->severity);
	cJSON_AddStringToObject(f, "title", rf->title);
	return f;
}

static cJSON *item_json(const struct watch_item *it)
{
	const struct base_result *r = &it->r;
	cJSON *o = cJSON_CreateObject(), *x;

	cJSON_AddStringToObject(o, "image", it->fi->image);
	if (it->fi->dockerfile)
		cJSON_AddStringToObject(o, "dockerfile", it->fi->dockerfile);
	if (it->fi->pipeline)
		cJSON_AddStringToObject(o, "pipeline", it->fi->pipeline);
	if (it->fi->source)
		cJSON_AddStringToObject(o, "source", it->fi->source);
	cJSON_AddStringToObject(o, "status", base_state_name(r->state));
	if (r->image_digest)
		cJSON_AddStringToObject(o, "digest", r->image_digest);
	base_result_add_json(o, r);
	if (it->scanned || it->scan_err.code) {
		x = cJSON_AddObjectToObject(o, "rescan");
		if (it->scan_err.code)
			cJSON_AddStringToObject(x, "error", it->scan_err.msg);
		cJSON_AddNumberToObject(x, "findings", (double)it->n_findings);
		cJSON *arr = cJSON_AddArrayToObject(x, "new");
		for (size_t j = 0; j < it->n_fresh; j++)
			cJSON_AddItemToArray(arr, rescan_finding_json(&it->fresh[j]));
	}
	return o;
}

int base_watch_json(const struct watch *w, struct buf *out, struct err *e)
{
	cJSON *o = cJSON_CreateObject(), *arr, *s;
	int r;

	cJSON_AddStringToObject(o, "schema", "bosun.base.watch.v1");
	if (w->fleet_path)
		cJSON_AddStringToObject(o, "fleet", w->fleet_path);
	s = cJSON_AddObjectToObject(o, "shard");
	cJSON_AddNumberToObject(s, "index", w->shard_i);
	cJSON_AddNumberToObject(s, "count", w->shard_n);
	s = cJSON_AddObjectToObject(o, "summary");
	cJSON_AddNumberToObject(s, "images", (double)w->n);
	cJSON_AddNumberToObject(s, "upToDate", (double)w->n_up);
	cJSON_AddNumberToObject(s, "stale", (double)w->n_stale);
	cJSON_AddNumberToObject(s, "unknown", (double)w->n_unknown);
	cJSON_AddNumberToObject(s, "errors", (double)w->n_error);
	if (w->db_built) {
		cJSON_AddNumberToObject(s, "newFindings", (double)w->n_fresh);
		cJSON_AddStringToObject(o, "dbVersion", w->db_built);
	}
	cJSON_AddNumberToObject(o, "seconds", w->seconds);
	arr = cJSON_AddArrayToObject(o, "images");
	for (size_t i = 0; i < w->n; i++)
		cJSON_AddItemToArray(arr, item_json(&w->it[i]));
	r = oj_print_buf(o, true, out, e);
	cJSON_Delete(o);
	return r < 0 ? -1 : buf_adds(out, "\n", e);
}

/* ---- markdown */

/* Table cells: '|' and line breaks would end the cell. */
static int md_cell(struct buf *out, const char *s, struct err *e)
{
	for (; s && *s; s++) {
		int r = *s == '|' ? buf_adds(out, "\\|", e) : (*s == '\n' || *s == '\r') ? buf_adds(out, " ", e)
											       : buf_add(out, s, 1, e);
		if (r < 0)
			return -1;
	}
	return 0;
}

int base_watch_markdown(const struct watch *w, struct buf *out, struct err *e)
{
	char age[32];

	if (buf_addf(out, e, "## Base images\n\n%zu image%s checked (shard %d/%d): **%zu stale**, %zu up to date, %zu unknown, %zu error%s\n\n",
		     w->n, w->n == 1 ? "" : "s", w->shard_i, w->shard_n, w->n_stale, w->n_up, w->n_unknown,
		     w->n_error, w->n_error == 1 ? "" : "s") < 0)
		return -1;
	if (w->n_stale + w->n_error + w->n_unknown) {
		if (buf_adds(out, "| image | status | base | new digest | age | pipeline |\n|---|---|---|---|---|---|\n", e) < 0)
			return -1;
		for (size_t i = 0; i < w->n; i++) {
			const struct watch_item *it = &w->it[i];
			const struct base_result *r = &it->r;

			if (r->state == BASE_UP_TO_DATE)
				continue;
			base_age_string(r->age_seconds, age, sizeof(age));
			if (buf_adds(out, "| ", e) < 0 || md_cell(out, it->fi->image, e) < 0 ||
			    buf_addf(out, e, " | %s | ", base_state_name(r->state)) < 0 ||
			    md_cell(out, r->base_name ? r->base_name : "", e) < 0 || buf_adds(out, " | ", e) < 0 ||
			    md_cell(out, r->state == BASE_STALE ? r->current_digest
				    : r->state == BASE_ERROR  ? r->err.msg
							      : r->note, e) < 0 ||
			    buf_addf(out, e, " | %s | ", r->state == BASE_STALE ? age : "") < 0 ||
			    md_cell(out, it->fi->pipeline ? it->fi->pipeline : "", e) < 0 || buf_adds(out, " |\n", e) < 0)
				return -1;
		}
		if (buf_adds(out, "\n", e) < 0)
			return -1;
	}
	if (w->db_built) {
		if (buf_addf(out, e, "### Rescan (database %s)\n\n%zu new finding%s since the last watch\n\n", w->db_built,
			     w->n_fresh, w->n_fresh == 1 ? "" : "s") < 0)
			return -1;
		if (w->n_fresh && buf_adds(out, "| image | advisory | severity | package | fixed |\n|---|---|---|---|---|\n", e) < 0)
			return -1;
		for (size_t i = 0; i < w->n; i++)
			for (size_t j = 0; j < w->it[i].n_fresh; j++) {
				const struct rescan_finding *f = &w->it[i].fresh[j];

				if (buf_adds(out, "| ", e) < 0 || md_cell(out, w->it[i].fi->image, e) < 0 ||
				    buf_addf(out, e, " | %s | %s | ", f->id, f->severity) < 0 ||
				    md_cell(out, f->pkg, e) < 0 || buf_addf(out, e, " %s | %s |\n", f->version,
									   *f->fixed ? f->fixed : "none") < 0)
					return -1;
			}
	}
	return 0;
}
