/* moby/patternmatcher's own test table as the oracle of bosun's .dockerignore
 * matcher ($SHARED/data/oracles/dockerignore-patternmatcher/pattern-cases.json,
 * read at run time): TestMatches (one pattern, the path or a parent matches),
 * TestMatch (filepath.Match-style rows; error=true is a pattern Docker
 * refuses, so ignore_parse must refuse it) and TestMatches_multiPattern
 * (several lines, "!" re-includes). Prints a table per group and fails on
 * any disagreement or when cases go missing. */
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>

#include "builder/build.h"
#include "core/buf.h"
#include "core/fs.h"
#include "test.h"

static char path_json[4096];

struct table {
	int cases, agreed, disagreed, unsupported;
};

static void table_print(const char *name, const struct table *t)
{
	printf("# oracle %-38s cases %3d  agreed %3d  disagreed %2d  unsupported-by-design %d\n",
	       name, t->cases, t->agreed, t->disagreed, t->unsupported);
}

static cJSON *load(void)
{
	struct buf b = BUF_INIT;
	struct err e = ERR_INIT;

	if (fs_read_file(path_json, &b, 4u << 20, &e) < 0) {
		fprintf(stderr, "%s\n", e.msg);
		return NULL;
	}
	cJSON *j = cJSON_Parse(b.data);
	buf_free(&b);
	return j;
}

/* One case: the patterns (lines of a .dockerignore), the path, what Docker
 * says (excluded or not; bad = Docker refuses the file). */
static void one(struct table *t, const char *group, const char *lines, const char *path, bool want,
		bool bad)
{
	struct ignore *ig = NULL;
	struct err e = ERR_INIT;
	int r = ignore_parse(&ig, lines, &e);
	bool ok;

	t->cases++;
	if (bad) {
		ok = r < 0 && e.code == ERR_INPUT;
		if (ok)
			printf("# %s: refused as Docker does: %s\n", group, e.msg);
	} else {
		ok = r == 0 && ignore_match(ig, path) == want;
	}
	if (ok) {
		t->agreed++;
	} else {
		t->disagreed++;
		printf("# %s: pattern(s) \"%s\" path \"%s\": Docker %s, bosun %s\n", group, lines,
		       path,
		       bad    ? "refuses the pattern"
		       : want ? "excludes"
			      : "keeps",
		       r < 0			? e.msg
		       : ignore_match(ig, path) ? "excludes"
						: "keeps");
	}
	ignore_free(ig);
}

static void run_group(const char *key, int min_cases)
{
	cJSON *j = load(), *c;
	struct table t = {0};

	CHECK(j != NULL);
	if (!j)
		return;
	cJSON *cases = cJSON_GetObjectItem(cJSON_GetObjectItem(j, key), "cases");
	CHECK(cJSON_IsArray(cases));
	cJSON_ArrayForEach(c, cases)
	{
		const char *path = cJSON_GetStringValue(cJSON_GetObjectItem(c, "path"));
		bool want = cJSON_IsTrue(cJSON_GetObjectItem(c, "match"));
		bool bad = cJSON_IsTrue(cJSON_GetObjectItem(c, "error"));
		cJSON *pats = cJSON_GetObjectItem(c, "patterns"), *p;
		struct buf lines = BUF_INIT;
		struct err e = ERR_INIT;
		if (cJSON_IsArray(pats)) {
			cJSON_ArrayForEach(p, pats)
			{
				buf_adds(&lines, cJSON_GetStringValue(p), &e);
				buf_add(&lines, "\n", 1, &e);
			}
		} else {
			buf_adds(&lines, cJSON_GetStringValue(cJSON_GetObjectItem(c, "pattern")),
				 &e);
		}
		one(&t, key, lines.data, path, want, bad);
		buf_free(&lines);
	}
	cJSON_Delete(j);
	table_print(key, &t);
	CHECK(t.cases >= min_cases);
	CHECK_INT(t.disagreed, 0);
}

TEST(patternmatcher_matches)
{
	run_group("TestMatches", 69);
}

TEST(patternmatcher_match)
{
	run_group("TestMatch", 54);
}

TEST(patternmatcher_multi)
{
	run_group("TestMatches_multiPattern", 4);
}

int main(void)
{
	const char *sh = getenv("SHARED");

	snprintf(path_json, sizeof(path_json),
		 "%s/data/oracles/dockerignore-patternmatcher/pattern-cases.json",
		 sh && *sh ? sh : "/work/shared");
	RUN(patternmatcher_matches);
	RUN(patternmatcher_match);
	RUN(patternmatcher_multi);
	return test_done();
}
