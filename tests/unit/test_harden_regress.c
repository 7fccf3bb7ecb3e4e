/* Regressions for inputs the fuzz targets (tests/fuzz) found; each input is
 * also a seed in tests/fuzz/corpus/NAME/regress-*. */
#include <stdlib.h>
#include <string.h>

#include "builder/dockerfile.h"
#include "oci/layer.h"
#include "oci/ref.h"
#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
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

static void tar_one(const char *path, const char *name)
{
	struct archive *a = archive_write_new();
	struct archive_entry *ae = archive_entry_new();

	archive_write_set_format_pax_restricted(a);
	archive_write_open_filename(a, path);
	archive_entry_set_pathname(ae, name);
	archive_entry_set_mode(ae, AE_IFREG | 0644);
	archive_entry_set_size(ae, 0);
	archive_write_header(a, ae);
	archive_entry_free(ae);
	archive_write_free(a);
}

static int exists(const char *dir, const char *rel)
{
	char p[512];
	struct stat st;

	snprintf(p, sizeof(p), "%s/%s", dir, rel);
	return lstat(p, &st) == 0;
}

/* Whiteouts of "." and ".." used to delete through the directory fd: a
 * top-level ".wh..." emptied the directory that holds the root. Found by
 * tests/hostile (whiteout-dotdot); now refused with ERR_INPUT. A name
 * component over NAME_MAX was an internal error (5), now bad input (3). */
TEST(unpack_whiteout_dot_and_long_names)
{
	char base[] = "/tmp/bosun-regress-XXXXXX", root[128], tar[128], p[160], longname[400];
	static const char *names[] = {".wh...", ".wh..", "a/.wh...", "a/.wh.."};
	struct unpack_opts o = {.set_owner = false};
	struct err e = ERR_INIT;
	int fd;

	CHECK(mkdtemp(base) != NULL);
	snprintf(root, sizeof(root), "%s/root", base);
	snprintf(tar, sizeof(tar), "%s/layer.tar", base);
	snprintf(p, sizeof(p), "%s/canary", base);
	fd = open(p, O_WRONLY | O_CREAT, 0644);
	close(fd);
	mkdir(root, 0755);
	snprintf(p, sizeof(p), "%s/a", root);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/a/b", root);
	fd = open(p, O_WRONLY | O_CREAT, 0644);
	close(fd);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		tar_one(tar, names[i]);
		err_clear(&e);
		CHECK_INT(oci_unpack_layer(tar, root, &o, &e), -1);
		CHECK_INT(e.code, ERR_INPUT);
		CHECK(exists(base, "canary"));
		CHECK(exists(root, "a/b"));
	}
	memset(longname, 'x', 300);
	longname[300] = 0;
	tar_one(tar, longname);
	err_clear(&e);
	CHECK_INT(oci_unpack_layer(tar, root, &o, &e), -1);
	CHECK_INT(e.code, ERR_INPUT);
	fd = open("/tmp", O_RDONLY | O_DIRECTORY);
	oci_rm_at(fd, base + 5, &e);
	close(fd);
}

int main(void)
{
	RUN(unpack_whiteout_dot_and_long_names);
	RUN(ref_normalised_length);
	RUN(junit_invalid_utf8);
	RUN(dockerfile_failed_parse_frees);
	return test_done();
}
