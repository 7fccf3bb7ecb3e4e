#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/fs.h"
#include "core/util.h"
#include "report/html.h"
#include "ship/ship.h"

int ship_report_dir_check(const char *dir, struct err *e)
{
	if (!*dir)
		return err_set(e, ERR_USAGE, "--report-dir must not be empty");
	if (fs_mkdir_p(dir, 0755, e) < 0) {
		e->code = ERR_INPUT; /* the user named a place we cannot write */
		return err_prefix(e, "report dir %s", dir);
	}
	if (access(dir, W_OK | X_OK) < 0)
		return err_errno(e, ERR_INPUT, "report dir %s", dir);
	return 0;
}

typedef int (*render_fn)(const struct results *, struct buf *, struct err *);

int ship_reports_write(const struct results *r, const char *dir, struct err *e)
{
	static const struct {
		const char *name;
		render_fn fn;
	} files[] = {
		{ "results.json", results_to_json },
		{ "summary.md", results_markdown },
		{ "junit.xml", results_junit },
		{ "report.html", results_html },
	};

	for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
		struct buf b __attribute__((cleanup(buf_cleanup))) = BUF_INIT;
		char *path __attribute__((cleanup(freep))) = fs_join(dir, files[i].name);

		if (!path)
			return err_oom(e);
		if (files[i].fn(r, &b, e) < 0)
			return err_prefix(e, "%s", files[i].name);
		if (fs_write_atomic(path, b.data, b.len, 0644, e) < 0)
			return err_prefix(e, "report dir %s", dir);
	}
	return 0;
}

void ship_outputs_fill(struct ship_outputs *so, const struct results *r, const char *reportdir)
{
	size_t counts[RSEV__N];
	static const char *const names[4] = { "findingsCritical", "findingsHigh", "findingsMedium",
					      "findingsLow" };
	size_t n = 0;

	results_counts(r, counts);
	so->o[n++] = (struct ci_output){ "imageRef", r->ref ? r->ref : "" };
	so->o[n++] = (struct ci_output){ "imageDigest", r->digest ? r->digest : "" };
	for (size_t i = 0; i < 4; i++) {
		snprintf(so->num[i], sizeof(so->num[i]), "%zu", counts[i]);
		so->o[n++] = (struct ci_output){ names[i], so->num[i] };
	}
	so->o[n++] = (struct ci_output){ "policyPassed", r->policy_passed ? "true" : "false" };
	so->o[n++] = (struct ci_output){ "signed", r->n_signed ? "true" : "false" };
	so->o[n++] = (struct ci_output){ "reportDir", reportdir };
}

static int azure(const struct results *r, const char *dir, const struct ship_outputs *so,
		 bool publish_junit, struct buf *out, struct err *e)
{
	char *summary __attribute__((cleanup(freep))) = fs_join(dir, "summary.md");
	char *junit __attribute__((cleanup(freep))) = fs_join(dir, "junit.xml");
	char title[300];
	size_t issues = 0, failing = 0;

	if (!summary || !junit)
		return err_oom(e);
	for (size_t i = 0; i < SHIP_OUTPUTS; i++)
		if (ci_azure_setvar(out, so->o[i].name, so->o[i].value, true, e))
			return -1;
	for (size_t i = 0; i < r->n_f; i++) {
		const struct res_finding *f = &r->f[i];
		char *msg;

		if (!f->failing || f->suppressed)
			continue;
		failing++;
		if (++issues > 50)
			continue;
		msg = xasprintf_e(e, "%s %s in %s %s%s%s: %s", f->severity, f->id, f->package, f->installed,
				  *f->fixed ? ", fixed in " : ", no fix yet", f->fixed, f->title);
		if (!msg || ci_azure_logissue(out, "error", msg, e)) {
			free(msg);
			return -1;
		}
		free(msg);
	}
	if (!r->policy_passed) {
		char msg[600];

		snprintf(msg, sizeof(msg), "bosun policy gate failed for %s: %zu finding%s at or above %s%s",
			 r->ref ? r->ref : "the image", failing, failing == 1 ? "" : "s",
			 r->fail_on ? r->fail_on : "the threshold",
			 r->pushed ? " (pushed anyway with --push-on-fail, not signed)" : "; nothing pushed");
		if (ci_azure_logissue(out, "error", msg, e))
			return -1;
	}
	snprintf(title, sizeof(title), "bosun %s", r->ref ? r->ref : "image");
	if (ci_azure_uploadsummary(out, summary, e) ||
	    (publish_junit && ci_azure_publish_junit(out, junit, title, e)))
		return -1;
	return 0;
}

int ship_ci(const struct results *r, const char *reportdir, const struct ci_env *env,
	    bool publish_junit, struct buf *azure_out, struct err *e)
{
	struct ship_outputs so;
	struct buf b __attribute__((cleanup(buf_cleanup))) = BUF_INIT;

	ship_outputs_fill(&so, r, reportdir);
	if (env->azure && azure(r, reportdir, &so, publish_junit, azure_out, e))
		return -1;
	if (env->jenkins) {
		char *path __attribute__((cleanup(freep))) = fs_join(reportdir, "bosun.properties");

		if (!path)
			return err_oom(e);
		if (ci_jenkins_properties(so.o, SHIP_OUTPUTS, &b, e) ||
		    fs_write_atomic(path, b.data, b.len, 0644, e))
			return err_prefix(e, "jenkins outputs");
		buf_reset(&b);
	}
	if (env->github_output) {
		if (ci_github_outputs(so.o, SHIP_OUTPUTS, &b, e) ||
		    ci_append_file(env->github_output, b.data, b.len, e))
			return err_prefix(e, "GITHUB_OUTPUT");
		buf_reset(&b);
	}
	if (env->github_summary) {
		if (results_markdown(r, &b, e) || ci_append_file(env->github_summary, b.data, b.len, e))
			return err_prefix(e, "GITHUB_STEP_SUMMARY");
	}
	return 0;
}
