/* The results model (JSON round trip, strict parsing) and the HTML page
 * (escaping, self-containment, counts). */
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "report/html.h"
#include "report/results.h"
#include "test.h"

static void sample(struct results *r)
{
	struct err e = ERR_INIT;
	char *al[] = { (char *)"GHSA-1" };
	struct res_finding f = { .id = (char *)"CVE-1", .severity = (char *)"critical",
				 .package = (char *)"openssl", .installed = (char *)"3.0.1",
				 .fixed = (char *)"3.0.2", .layer = (char *)"sha256:aa",
				 .title = (char *)"<b>x</b> & \"y\"", .aliases = al, .n_aliases = 1,
				 .from_base = true, .failing = true };

	results_init(r);
	results_set(&r->ref, "reg:5000/a'pp:1", &e);
	results_set(&r->digest, "sha256:abc", &e);
	results_set(&r->fail_on, "high", &e);
	r->stage[RS_BUILD].status = RST_PASSED;
	r->stage[RS_BUILD].seconds = 1.25;
	r->stage[RS_POLICY].status = RST_FAILED;
	results_add_finding(r, &f, &e);
	f.id = (char *)"CVE-2", f.severity = (char *)"LOW", f.failing = false, f.n_aliases = 0;
	results_add_finding(r, &f, &e);
	f.id = (char *)"CVE-3", f.suppressed = true;
	results_add_finding(r, &f, &e);
}

TEST(escape)
{
	struct buf b = BUF_INIT;
	struct err e = ERR_INIT;

	CHECK_INT(html_escape(&b, "a<b>&\"c'd", &e), 0);
	CHECK_STR(b.data, "a&lt;b&gt;&amp;&quot;c&#39;d");
	buf_reset(&b);
	CHECK_INT(html_escape(&b, "", &e), 0);
	CHECK_STR(b.data, "");
	buf_free(&b);
}

TEST(json_round_trip)
{
	struct results r, r2;
	struct buf a = BUF_INIT, b = BUF_INIT;
	struct err e = ERR_INIT;
	size_t c[RSEV__N];

	sample(&r);
	results_counts(&r, c);
	CHECK_INT(c[RSEV_CRITICAL], 1);
	CHECK_INT(c[RSEV_LOW], 1); /* the suppressed one is not counted */
	CHECK_INT(results_to_json(&r, &a, &e), 0);
	CHECK_INT(results_from_json(&r2, a.data, a.len, &e), 0);
	CHECK_INT(r2.n_f, 3);
	CHECK_STR(r2.f[0].aliases[0], "GHSA-1");
	CHECK(r2.f[0].from_base && r2.f[0].failing && r2.f[2].suppressed);
	CHECK_INT(r2.stage[RS_POLICY].status, RST_FAILED);
	CHECK_INT(results_to_json(&r2, &b, &e), 0);
	CHECK_STR(a.data, b.data);
	results_free(&r);
	results_free(&r2);
	buf_free(&a);
	buf_free(&b);
}

TEST(strict_parsing)
{
	static const char *const bad[] = {
		"[]",
		"{\"schemaVersion\":2}",
		"{\"schemaVersion\":1,\"image\":[]}",
		"{\"schemaVersion\":1,\"image\":{\"ref\":5}}",
		"{\"schemaVersion\":1,\"findings\":[{\"severity\":\"high\"}]}",
		"{\"schemaVersion\":1,\"findings\":[{\"id\":\"X\",\"severity\":\"bad\"}]}",
		"{\"schemaVersion\":1,\"findings\":[{\"id\":\"X\",\"severity\":\"high\",\"aliases\":[1]}]}",
		"{\"schemaVersion\":1,\"stages\":{\"scan\":{\"status\":\"ok\"}}}",
		"{\"schemaVersion\":1,\"stages\":{\"scan\":{\"duration\":-1}}}",
		"{\"schemaVersion\":1,\"policy\":{\"passed\":\"yes\"}}",
		"{\"schemaVersion\":1,",
	};
	struct results r;
	struct err e = ERR_INIT;

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		err_clear(&e);
		CHECK_INT(results_from_json(&r, bad[i], strlen(bad[i]), &e), -1);
		CHECK_INT(e.code, ERR_INPUT);
	}
	CHECK_INT(results_from_json(&r, "{\"schemaVersion\":1}", 19, &e), 0);
	CHECK_INT(r.base_age_days, -1);
	results_free(&r);
}

TEST(html_page)
{
	struct results r;
	struct buf b = BUF_INIT;
	struct err e = ERR_INIT;

	sample(&r);
	CHECK_INT(results_html(&r, &b, &e), 0);
	CHECK(strstr(b.data, "<b>x</b>") == NULL);
	CHECK(strstr(b.data, "&lt;b&gt;x&lt;/b&gt; &amp; &quot;y&quot;") != NULL);
	CHECK(strstr(b.data, "reg:5000/a&#39;pp:1") != NULL);
	CHECK(strstr(b.data, "id=\"count-critical\">1<") != NULL);
	CHECK(strstr(b.data, "id=\"count-low\">1<") != NULL);
	CHECK(strstr(b.data, "id=\"count-failing\">1<") != NULL);
	CHECK(strstr(b.data, "href=") == NULL && strstr(b.data, "src=") == NULL);
	CHECK(strstr(b.data, "policy failed") != NULL);
	buf_free(&b);
	results_free(&r);
	/* an empty result is a valid page too */
	results_init(&r);
	r.policy_passed = true;
	CHECK_INT(results_html(&r, &b, &e), 0);
	CHECK(strstr(b.data, "id=\"no-findings\"") != NULL);
	buf_free(&b);
	results_free(&r);
}

TEST(markdown_and_junit)
{
	struct results r;
	struct buf b = BUF_INIT;
	struct err e = ERR_INIT;

	sample(&r);
	results_set(&r.stage[RS_BUILD].details, "a|b\nc", &e);
	CHECK_INT(results_markdown(&r, &b, &e), 0);
	CHECK(strstr(b.data, "a\\|b c") != NULL);
	CHECK(strstr(b.data, "| critical | CVE-1 | openssl |") != NULL);
	buf_reset(&b);
	results_set(&r.f[0].title, "bell\a here", &e);
	CHECK_INT(results_junit(&r, &b, &e), 0);
	CHECK(strchr(b.data, '\a') == NULL);
	CHECK(strstr(b.data, "name=\"openssl CVE-1\"") != NULL);
	CHECK(strstr(b.data, "<failure message=\"bell here\" type=\"critical\"") != NULL);
	buf_free(&b);
	results_free(&r);
}

int main(void)
{
	RUN(escape);
	RUN(json_round_trip);
	RUN(strict_parsing);
	RUN(html_page);
	RUN(markdown_and_junit);
	return test_done();
}
