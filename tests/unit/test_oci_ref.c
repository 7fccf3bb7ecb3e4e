/* Reference parsing and normalisation, table-driven. */
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "oci/ref.h"
#include "test.h"

#define H64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define D64 "sha256:" H64

struct ok_case {
	const char *in;
	const char *registry, *repository, *tag, *digest;
	const char *string;   /* oci_ref_string */
	const char *familiar; /* oci_ref_familiar */
};

static const struct ok_case ok_cases[] = {
	{ "alpine", "docker.io", "library/alpine", "latest", NULL, "docker.io/library/alpine:latest", "alpine:latest" },
	{ "alpine:3.19", "docker.io", "library/alpine", "3.19", NULL, "docker.io/library/alpine:3.19", "alpine:3.19" },
	{ "library/alpine", "docker.io", "library/alpine", "latest", NULL, "docker.io/library/alpine:latest", "alpine:latest" },
	{ "docker.io/alpine", "docker.io", "library/alpine", "latest", NULL, NULL, NULL },
	{ "docker.io/library/alpine:edge", "docker.io", "library/alpine", "edge", NULL, NULL, "alpine:edge" },
	{ "index.docker.io/library/alpine", "docker.io", "library/alpine", "latest", NULL, "docker.io/library/alpine:latest", NULL },
	{ "index.docker.io/alpine", "docker.io", "library/alpine", "latest", NULL, NULL, NULL },
	{ "docker://alpine:3", "docker.io", "library/alpine", "3", NULL, "docker.io/library/alpine:3", NULL },
	{ "user/app", "docker.io", "user/app", "latest", NULL, "docker.io/user/app:latest", "user/app:latest" },
	{ "docker.io/user/app:v1", "docker.io", "user/app", "v1", NULL, NULL, "user/app:v1" },
	{ "a/b/c", "docker.io", "a/b/c", "latest", NULL, NULL, "a/b/c:latest" },
	{ "library/a/b", "docker.io", "library/a/b", "latest", NULL, NULL, "library/a/b:latest" },
	{ "localhost/x", "localhost", "x", "latest", NULL, "localhost/x:latest", "localhost/x:latest" },
	{ "localhost:5000/a/b:tag", "localhost:5000", "a/b", "tag", NULL, "localhost:5000/a/b:tag", NULL },
	{ "127.0.0.1:5000/x@" D64, "127.0.0.1:5000", "x", NULL, D64, "127.0.0.1:5000/x@" D64, NULL },
	{ "[::1]:5000/x", "[::1]:5000", "x", "latest", NULL, "[::1]:5000/x:latest", NULL },
	{ "[2001:db8::1]/team/app:1", "[2001:db8::1]", "team/app", "1", NULL, NULL, NULL },
	{ "ghcr.io/o/r:v1.2.3-rc.1", "ghcr.io", "o/r", "v1.2.3-rc.1", NULL, "ghcr.io/o/r:v1.2.3-rc.1", "ghcr.io/o/r:v1.2.3-rc.1" },
	{ "my.registry:443/a/b/c", "my.registry:443", "a/b/c", "latest", NULL, NULL, NULL },
	{ "My.Registry.io/a", "My.Registry.io", "a", "latest", NULL, NULL, NULL },
	{ "x@" D64, "docker.io", "library/x", NULL, D64, "docker.io/library/x@" D64, "x@" D64 },
	{ "x:1@" D64, "docker.io", "library/x", "1", D64, "docker.io/library/x:1@" D64, NULL },
	{ "docker://ghcr.io/o/r@" D64, "ghcr.io", "o/r", NULL, D64, NULL, NULL },
	{ "x/a.b_c__d-e--f/g", "docker.io", "x/a.b_c__d-e--f/g", "latest", NULL, NULL, NULL },
	{ "registry.example.com/team/app:1.2", "registry.example.com", "team/app", "1.2", NULL, NULL, NULL },
	{ "foo:_tag", "docker.io", "library/foo", "_tag", NULL, NULL, NULL },
	{ "foo:UPPER.case-OK", "docker.io", "library/foo", "UPPER.case-OK", NULL, NULL, NULL },
	{ "localhost:5000", "docker.io", "library/localhost", "5000", NULL, NULL, NULL },
	{ "0", "docker.io", "library/0", "latest", NULL, NULL, NULL },
	{ "a-b.example:1/x", "a-b.example:1", "x", "latest", NULL, NULL, NULL },
};

struct bad_case {
	const char *in;
	const char *why; /* substring of the message */
};

static char long_tag[200], long_name[300];

static const struct bad_case bad_cases[] = {
	{ "", "empty reference" },
	{ "docker://", "empty reference" },
	{ "Foo/Bar", "repository name must be lowercase" },
	{ "foo/Bar", "must be lowercase" },
	{ "localhost:5000/Foo", "must be lowercase" },
	{ "ALPINE", "must be lowercase" },
	{ ":tag", "missing repository name" },
	{ "@" D64, "missing repository name" },
	{ "a//b", "invalid repository name" },
	{ "a:", "empty tag" },
	{ "a/", "invalid repository name" },
	{ "/a", "invalid repository name" },
	{ "a/b/", "invalid repository name" },
	{ "a:-tag", "invalid tag" },
	{ "a:.tag", "invalid tag" },
	{ "a:t@g", "invalid digest" },
	{ "a:ta/g", "invalid registry host" }, /* a colon makes it a host */
	{ "a.b_c/d", "invalid registry host" }, /* a dot makes it a host; "_" is not allowed there */
	{ "a@sha256:abc", "invalid digest" },
	{ "a@sha256:" H64 "0", "invalid digest" },
	{ "a@sha256:0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef", "invalid digest" },
	{ "a@md5:0123456789abcdef0123456789abcdef", "invalid digest" },
	{ "a@", "invalid digest" },
	{ "a..b", "invalid repository name" },
	{ "a___b", "invalid repository name" },
	{ "-a", "invalid repository name" },
	{ "a-", "invalid repository name" },
	{ "a_", "invalid repository name" },
	{ "a b", "whitespace" },
	{ "a\tb", "whitespace" },
	{ "café", "non-ASCII" },
	{ H64, "64-character hexadecimal" },
	{ "[::1/x", "invalid registry host" },
	{ "[zz::1]:5000/x", "invalid registry host" },
	{ "host:99999/x", "invalid registry host" },
	{ "host:0/x", "invalid registry host" },
	{ "host:/x", "invalid registry host" },
	{ "-host.io/x", "invalid registry host" },
	{ "host-.io/x", "invalid registry host" },
	{ "a..io/x", "invalid registry host" },
	{ "ho_st.io/x", "invalid registry host" },
	{ long_tag, "tag is longer than 128" },
	{ long_name, "must not be more than 255" },
};

TEST(valid_references)
{
	for (size_t i = 0; i < sizeof ok_cases / sizeof ok_cases[0]; i++) {
		const struct ok_case *c = &ok_cases[i];
		struct oci_ref r;
		struct err e = ERR_INIT;
		int rc = oci_ref_parse(&r, c->in, &e);
		if (rc != 0) {
			fprintf(stderr, "case %zu \"%s\": %s\n", i, c->in, e.msg);
			CHECK(rc == 0);
			continue;
		}
		CHECK_STR(r.registry, c->registry);
		CHECK_STR(r.repository, c->repository);
		if (c->tag)
			CHECK_STR(r.tag, c->tag);
		else
			CHECK(r.tag == NULL);
		if (c->digest)
			CHECK_STR(r.digest, c->digest);
		else
			CHECK(r.digest == NULL);
		char *s = oci_ref_string(&r);
		if (c->string)
			CHECK_STR(s, c->string);
		/* The normalised string parses back to itself. */
		struct oci_ref r2;
		CHECK_INT(oci_ref_parse(&r2, s, &e), 0);
		char *s2 = oci_ref_string(&r2);
		CHECK_STR(s2, s);
		if (c->familiar) {
			char *f = oci_ref_familiar(&r);
			CHECK_STR(f, c->familiar);
			free(f);
		}
		free(s);
		free(s2);
		oci_ref_free(&r2);
		oci_ref_free(&r);
	}
}

TEST(invalid_references)
{
	for (size_t i = 0; i < sizeof bad_cases / sizeof bad_cases[0]; i++) {
		const struct bad_case *c = &bad_cases[i];
		struct oci_ref r;
		struct err e = ERR_INIT;
		int rc = oci_ref_parse(&r, c->in, &e);
		if (rc == 0) {
			fprintf(stderr, "case %zu \"%s\" parsed but should not\n", i, c->in);
			oci_ref_free(&r);
		}
		CHECK_INT(rc, -1);
		CHECK_INT(e.code, ERR_INPUT);
		if (!strstr(e.msg, c->why) || !strstr(e.msg, "invalid reference \"")) {
			fprintf(stderr, "case %zu \"%s\": message \"%s\" lacks \"%s\"\n", i, c->in, e.msg, c->why);
			CHECK(0);
		}
		CHECK(r.registry == NULL && r.repository == NULL && r.tag == NULL && r.digest == NULL);
	}
}

TEST(message_format)
{
	struct oci_ref r;
	struct err e = ERR_INIT;
	CHECK_INT(oci_ref_parse(&r, "Foo/Bar", &e), -1);
	CHECK_STR(e.msg, "invalid reference \"Foo/Bar\": repository name must be lowercase");
	CHECK_INT(oci_ref_parse(&r, NULL, &e), -1);
	CHECK_INT(e.code, ERR_INPUT);
}

TEST(length_limits)
{
	/* 128-character tag is fine, 255-character name is fine. */
	char tag128[140], name255[300];
	memset(tag128, 'a', sizeof tag128);
	memcpy(tag128, "x:", 2);
	tag128[2 + 128] = '\0';
	struct oci_ref r;
	struct err e = ERR_INIT;
	CHECK_INT(oci_ref_parse(&r, tag128, &e), 0);
	CHECK_INT(strlen(r.tag), 128);
	oci_ref_free(&r);

	/* The limit is on the normalised name, as in docker: r.io/ + 250. */
	memcpy(name255, "r.io/", 5);
	memset(name255 + 5, 'a', 250);
	name255[255] = '\0';
	CHECK_INT(oci_ref_parse(&r, name255, &e), 0);
	oci_ref_free(&r);
	name255[254] = '\0';
	memmove(name255, name255 + 5, 250); /* 249 a's: docker.io/library/ makes it 267 */
	CHECK_INT(oci_ref_parse(&r, name255, &e), -1);
}

TEST(helpers)
{
	struct oci_ref r, c;
	struct err e = ERR_INIT;
	CHECK_INT(oci_ref_parse(&r, "alpine:3@" D64, &e), 0);
	CHECK_STR(oci_ref_api_host(&r), "registry-1.docker.io");
	CHECK_STR(oci_ref_manifest_key(&r), D64);
	char *n = oci_ref_name(&r);
	CHECK_STR(n, "docker.io/library/alpine");
	free(n);
	CHECK_INT(oci_ref_copy(&c, &r, &e), 0);
	CHECK_STR(c.tag, "3");
	CHECK_STR(c.digest, D64);
	oci_ref_free(&c);
	oci_ref_free(&r);

	CHECK_INT(oci_ref_parse(&r, "localhost:5000/a:t", &e), 0);
	CHECK_STR(oci_ref_api_host(&r), "localhost:5000");
	CHECK_STR(oci_ref_manifest_key(&r), "t");
	oci_ref_free(&r);
	oci_ref_free(&r); /* safe twice */
}

int main(void)
{
	memset(long_tag, 'a', sizeof long_tag);
	memcpy(long_tag, "x:", 2);
	long_tag[2 + 129] = '\0';
	memset(long_name, 'a', sizeof long_name);
	long_name[256] = '\0';
	RUN(valid_references);
	RUN(invalid_references);
	RUN(message_format);
	RUN(length_limits);
	RUN(helpers);
	return test_done();
}
