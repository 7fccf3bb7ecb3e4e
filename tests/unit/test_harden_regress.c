/* Regressions for inputs the fuzz targets (tests/fuzz) found; each input is
 * also a seed in tests/fuzz/corpus/NAME/regress-*. */
#include <stdlib.h>
#include <string.h>

#include "build/dockerfile.h"
#include "oci/ref.h"
#include "report/results.h"
#include <libxml/parser.h>
#include "test.h"

static char *slurp(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	char *s;
	long len;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	rewind(f);
	s = malloc((size_t)len + 1);
	if (s && fread(s, 1, (size_t)len, f) != (size_t)len) {
		free(s);
		s = NULL;
	}
	fclose(f);
	if (s)
		s[len] = 0;
	*n = (size_t)len;
	return s;
}

/* A Dockerfile that fails to parse after some instructions used to leak
 * them (ONBUILD triggers in build.c do not free a failed parse). */
TEST(dockerfile_failed_parse_frees)
{
	struct dockerfile df;
	struct err e = ERR_INIT;
	const char *text = "FROM alpine\nRUN true\nSHELL sh -c\n";
	size_t n = 0;
	char *seed;

	CHECK_INT(df_parse(&df, "Dockerfile", text, strlen(text), &e), -1);
	CHECK_INT(e.code, ERR_INPUT);
	CHECK(df.n == 0 && df.ins == NULL && df.path == NULL);
	seed = slurp("tests/fuzz/corpus/dockerfile/regress-leak-failed-parse", &n);
	CHECK(seed != NULL);
	if (seed) {
		err_clear(&e);
		if (df_parse(&df, "Dockerfile", seed, n, &e) < 0)
			CHECK(df.n == 0 && df.ins == NULL);
		df_free(&df);
		free(seed);
	}
}

/* A short name under 255 characters whose normalised form
 * (docker.io/library/NAME) is over: refused, as docker refuses it. */
TEST(ref_normalised_length)
{
	char name[300];
	struct oci_ref r = {0};
	struct err e = ERR_INIT;
	char *canon;

	memset(name, 'a', 240);
	name[240] = 0;
	CHECK_INT(oci_ref_parse(&r, name, &e), -1);
	CHECK_INT(e.code, ERR_INPUT);
	CHECK(strstr(e.msg, "255") != NULL);
	name[230] = 0; /* docker.io/library/ + 230 = 248: fine, and re-parses */
	err_clear(&e);
	CHECK_INT(oci_ref_parse(&r, name, &e), 0);
	canon = oci_ref_string(&r);
	oci_ref_free(&r);
	CHECK_INT(oci_ref_parse(&r, canon, &e), 0);
	oci_ref_free(&r);
	free(canon);
}

/* Invalid UTF-8 and control bytes in findings: the JUnit file stays
 * well-formed (libxml2 as the oracle). */
TEST(junit_invalid_utf8)
{
	struct results r;
	struct res_finding f;
	struct buf out;
	struct err e = ERR_INIT;
	static char alias_s[] = "GHSA-\xc3", id[] = "CVE-1\xff\x01", sev[] = "high", pkg[] = "p\xed\xa0\x80kg",
		    inst[] = "1.0", none[] = "", title[] = "]]>\xef\xbf\xbf \xe2\x82\xac ok";
	char *alias = alias_s;
	xmlDocPtr doc;

	results_init(&r);
	buf_init(&out, 0);
	memset(&f, 0, sizeof(f));
	f.id = id;
	f.severity = sev;
	f.package = pkg; /* a UTF-8 surrogate */
	f.installed = inst;
	f.fixed = none;
	f.layer = none;
	f.title = title;
	f.aliases = &alias;
	f.n_aliases = 1;
	f.failing = true;
	CHECK_INT(results_add_finding(&r, &f, &e), 0);
	r.stage[RS_POLICY].status = RST_FAILED;
	r.stage[RS_SCAN].status = RST_PASSED;
	CHECK_INT(results_junit(&r, &out, &e), 0);
	doc = xmlReadMemory(out.data, (int)out.len, "junit.xml", NULL, XML_PARSE_NONET);
	CHECK(doc != NULL);
	CHECK(strstr(out.data, "\xe2\x82\xac ok") != NULL); /* valid text is kept */
	xmlFreeDoc(doc);
	buf_free(&out);
	results_free(&r);
}

int main(void)
{
	RUN(ref_normalised_length);
	RUN(junit_invalid_utf8);
	RUN(dockerfile_failed_parse_frees);
	return test_done();
}
