/* CI integration: Azure logging-command escaping (checked against the
 * agent's own unescape order), Java properties escaping, GitHub outputs. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/fs.h"
#include "core/util.h"
#include "report/ci.h"
#include "test.h"

static char *esc(const char *s, bool prop)
{
	struct buf b = BUF_INIT;
	struct err e = ERR_INIT;

	if (ci_azure_escape(s, prop, &b, &e) < 0)
		return NULL;
	return buf_detach(&b, NULL);
}

/* The agent's CommandStringConvertor.Unescape: ; CR LF ] in that order,
 * then %AZP25. */
static char *agent_unescape(const char *s)
{
	static const char *const map[][2] = { { ";", "%3B" }, { "\r", "%0D" }, { "\n", "%0A" },
					      { "]", "%5D" }, { "%", "%AZP25" } };
	char *cur = strdup(s), *next, *p, *w;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(map); i++) {
		next = malloc(strlen(cur) + 1);
		for (p = cur, w = next; *p;) {
			if (!strncmp(p, map[i][1], strlen(map[i][1]))) {
				*w++ = map[i][0][0];
				p += strlen(map[i][1]);
			} else {
				*w++ = *p++;
			}
		}
		*w = 0;
		free(cur);
		cur = next;
	}
	return cur;
}

TEST(azure_property_escaping)
{
	static const char *const cases[][2] = {
		{ "plain", "plain" },
		{ "100%", "100%AZP25" },
		{ "a;b", "a%3Bb" },
		{ "a]b", "a%5Db" },
		{ "l1\nl2", "l1%0Al2" },
		{ "cr\r\n", "cr%0D%0A" },
		{ "%3B", "%AZP253B" },
		{ "[x]", "[x%5D" },
		{ "", "" },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		char *s = esc(cases[i][0], true);
		CHECK_STR(s, cases[i][1]);
		free(s);
	}
}

TEST(azure_message_escaping)
{
	static const char *const cases[][2] = {
		{ "a;b]c", "a;b]c" },
		{ "50%", "50%AZP25" },
		{ "x\ny\r", "x%0Ay%0D" },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		char *s = esc(cases[i][0], false);
		CHECK_STR(s, cases[i][1]);
		free(s);
	}
}

TEST(azure_escaping_round_trips_through_agent)
{
	static const char *const values[] = { "a;b]c\nd\re%f", "%AZP25", "%3B%5D%0A", "]]]];;;",
					      "registry:5000/app:1.0@sha256:ab", "%%;%]" };
	size_t i;

	for (i = 0; i < ARRAY_SIZE(values); i++) {
		char *p = esc(values[i], true), *m = esc(values[i], false);
		char *up = agent_unescape(p), *um = agent_unescape(m);
		CHECK_STR(up, values[i]);
		CHECK_STR(um, values[i]);
		CHECK(!strchr(p, ';') && !strchr(p, ']') && !strchr(p, '\n'));
		CHECK(!strchr(m, '\n') && !strchr(m, '\r'));
		free(p), free(m), free(up), free(um);
	}
}

TEST(azure_commands)
{
	struct buf b = BUF_INIT;
	struct err e = ERR_INIT;

	CHECK_INT(ci_azure_setvar(&b, "imageRef", "r:5000/a;b]\nc", true, &e), 0);
	CHECK_STR(b.data, "##vso[task.setvariable variable=imageRef;isOutput=true]r:5000/a;b]%0Ac\n");
	buf_reset(&b);
	CHECK_INT(ci_azure_setvar(&b, "x", "1", false, &e), 0);
	CHECK_STR(b.data, "##vso[task.setvariable variable=x;isOutput=false]1\n");
	buf_reset(&b);
	CHECK_INT(ci_azure_setvar(&b, "bad;name", "1", true, &e), -1);
	CHECK_INT(e.code, ERR_INTERNAL);
	CHECK_INT(ci_azure_setvar(&b, "", "1", true, &e), -1);
	buf_reset(&b);
	CHECK_INT(ci_azure_logissue(&b, "error", "CVE-1 in a;b]\nnext", &e), 0);
	CHECK_STR(b.data, "##vso[task.logissue type=error]CVE-1 in a;b]%0Anext\n");
	buf_reset(&b);
	CHECK_INT(ci_azure_uploadsummary(&b, "/w/r 1/summary.md", &e), 0);
	CHECK_STR(b.data, "##vso[task.uploadsummary]/w/r 1/summary.md\n");
	buf_reset(&b);
	CHECK_INT(ci_azure_publish_junit(&b, "/w/junit.xml", "bosun app;1]", &e), 0);
	CHECK_STR(b.data, "##vso[results.publish type=JUnit;mergeResults=true;runTitle=bosun app%3B1%5D]"
			  "/w/junit.xml\n");
	buf_reset(&b);
	CHECK_INT(ci_azure_group(&b, "scan\nx", &e), 0);
	CHECK_INT(ci_azure_endgroup(&b, &e), 0);
	CHECK_STR(b.data, "##[group]scan x\n##[endgroup]\n");
	buf_free(&b);
}

static char *jesc(const char *s, bool key)
{
	struct buf b = BUF_INIT;
	struct err e = ERR_INIT;

	if (ci_java_prop_escape(s, key, &b, &e) < 0)
		return NULL;
	return buf_detach(&b, NULL);
}

TEST(java_properties_escaping)
{
	static const char *const vals[][2] = {
		{ "plain", "plain" },
		{ "a=b:c", "a\\=b\\:c" },
		{ "#!", "\\#\\!" },
		{ "back\\slash", "back\\\\slash" },
		{ "  lead and inner", "\\ \\ lead and inner" },
		{ "t\tn\nr\rf\f", "t\\tn\\nr\\rf\\f" },
		{ "bell\a", "bell\\u0007" },
		{ "caf\xc3\xa9", "caf\\u00E9" },
		{ "\xe2\x82\xac", "\\u20AC" },
		{ "\xf0\x9f\x98\x80", "\\uD83D\\uDE00" },
		{ "bad\xff", "bad\\uFFFD" },
		{ "trunc\xe2\x82", "trunc\\uFFFD" },
		{ "over\xc0\xaf", "over\\uFFFD" },
		{ "del\x7f", "del\\u007F" },
	};
	size_t i;
	char *s;

	for (i = 0; i < ARRAY_SIZE(vals); i++) {
		s = jesc(vals[i][0], false);
		CHECK_STR(s, vals[i][1]);
		free(s);
	}
	s = jesc("a key", true);
	CHECK_STR(s, "a\\ key");
	free(s);
}

TEST(jenkins_properties_document)
{
	struct ci_output o[] = { { "imageRef", "r:5000/app:1" }, { "note", "x=y\nz" } };
	struct buf b = BUF_INIT;
	struct err e = ERR_INIT;

	CHECK_INT(ci_jenkins_properties(o, 2, &b, &e), 0);
	CHECK(strstr(b.data, "\nimageRef=r\\:5000/app\\:1\n") != NULL);
	CHECK(strstr(b.data, "\nnote=x\\=y\\nz\n") != NULL);
	CHECK(b.data[0] == '#');
	buf_free(&b);
}

TEST(github_outputs)
{
	struct ci_output o[] = { { "imageDigest", "sha256:ab" }, { "multi", "l1\nl2" } };
	struct buf b = BUF_INIT;
	struct err e = ERR_INIT;
	char delim[80], *p, *nl;

	CHECK_INT(ci_github_outputs(o, 2, &b, &e), 0);
	CHECK(!strncmp(b.data, "imageDigest=sha256:ab\nmulti<<ghadelimiter_", 42));
	p = strstr(b.data, "multi<<");
	CHECK(p != NULL);
	if (p) {
		p += 7;
		nl = strchr(p, '\n');
		CHECK(nl && (size_t)(nl - p) < sizeof(delim));
		if (nl) {
			memcpy(delim, p, (size_t)(nl - p));
			delim[nl - p] = 0;
			CHECK_INT(strlen(delim), 13 + 32);
			CHECK(!strncmp(nl + 1, "l1\nl2\n", 6));
			CHECK(!strncmp(nl + 7, delim, strlen(delim)));
			CHECK_STR(nl + 7 + strlen(delim), "\n");
		}
	}
	buf_reset(&b);
	o[0].name = "bad name";
	CHECK_INT(ci_github_outputs(o, 1, &b, &e), -1);
	buf_free(&b);
}

TEST(append_file)
{
	struct err e = ERR_INIT;
	struct buf b = BUF_INIT;
	char *dir = fs_mkdtemp("ci-test", &e), *path;

	CHECK(dir != NULL);
	if (!dir)
		return;
	path = fs_join(dir, "out");
	CHECK_INT(ci_append_file(path, "a=1\n", 4, &e), 0);
	CHECK_INT(ci_append_file(path, "b=2\n", 4, &e), 0);
	CHECK_INT(fs_read_file(path, &b, 1024, &e), 0);
	CHECK_STR(b.data, "a=1\nb=2\n");
	free(path);
	path = fs_join(dir, "missing/out");
	CHECK_INT(ci_append_file(path, "x", 1, &e), -1);
	CHECK_INT(e.code, ERR_INPUT);
	free(path);
	buf_free(&b);
	fs_rm_rf(dir, &e);
	free(dir);
}

TEST(detect)
{
	struct ci_env env;

	setenv("TF_BUILD", "True", 1);
	unsetenv("JENKINS_URL");
	setenv("GITHUB_OUTPUT", "/tmp/o", 1);
	unsetenv("GITHUB_STEP_SUMMARY");
	ci_detect(&env);
	CHECK(env.azure && !env.jenkins && env.github_output && !env.github_summary);
	setenv("TF_BUILD", "false", 1);
	setenv("JENKINS_URL", "http://j/", 1);
	unsetenv("GITHUB_OUTPUT");
	ci_detect(&env);
	CHECK(!env.azure && env.jenkins && !env.github_output);
}

int main(void)
{
	RUN(azure_property_escaping);
	RUN(azure_message_escaping);
	RUN(azure_escaping_round_trips_through_agent);
	RUN(azure_commands);
	RUN(java_properties_escaping);
	RUN(jenkins_properties_document);
	RUN(github_outputs);
	RUN(append_file);
	RUN(detect);
	return test_done();
}
