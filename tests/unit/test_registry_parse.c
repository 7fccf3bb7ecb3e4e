/* Registry client parsers: WWW-Authenticate challenges, Retry-After,
 * Location resolution, origins, Link pagination, loopback hosts and
 * credential key normalisation. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "registry/internal.h"
#include "test.h"

TEST(challenge_bearer)
{
	struct auth_challenge ch;

	CHECK_INT(
	    auth_parse_challenge(
		"Bearer "
		"realm=\"https://auth.docker.io/"
		"token\",service=\"registry.docker.io\",scope=\"repository:library/alpine:pull\"",
		&ch),
	    0);
	CHECK_STR(ch.scheme, "bearer");
	CHECK_STR(ch.realm, "https://auth.docker.io/token");
	CHECK_STR(ch.service, "registry.docker.io");
	CHECK_STR(ch.scope, "repository:library/alpine:pull");
	CHECK(ch.error == NULL);
	auth_challenge_free(&ch);
}

TEST(challenge_quoting)
{
	struct auth_challenge ch;

	/* escapes, commas inside quotes, spaces around '=', case of names */
	CHECK_INT(auth_parse_challenge("  bearer  Realm = \"https://h/t?a=1,b=2\" , SERVICE=\"a "
				       "\\\"q\\\" b\",scope=\"repository:a/b:pull,push "
				       "repository:c:pull\", error=\"insufficient_scope\"",
				       &ch),
		  0);
	CHECK_STR(ch.scheme, "bearer");
	CHECK_STR(ch.realm, "https://h/t?a=1,b=2");
	CHECK_STR(ch.service, "a \"q\" b");
	CHECK_STR(ch.scope, "repository:a/b:pull,push repository:c:pull");
	CHECK_STR(ch.error, "insufficient_scope");
	auth_challenge_free(&ch);

	/* unquoted token values, unknown parameters ignored */
	CHECK_INT(auth_parse_challenge("Bearer realm=https://h/token,service=reg,foo=bar", &ch), 0);
	CHECK_STR(ch.realm, "https://h/token");
	CHECK_STR(ch.service, "reg");
	CHECK(ch.scope == NULL);
	auth_challenge_free(&ch);

	/* unterminated quote: take what is there */
	CHECK_INT(auth_parse_challenge("Bearer realm=\"https://h/tok", &ch), 0);
	CHECK_STR(ch.realm, "https://h/tok");
	auth_challenge_free(&ch);
}

TEST(challenge_several)
{
	struct auth_challenge ch;

	/* Bearer wins over Basic whatever the order; headers joined with ", " */
	CHECK_INT(auth_parse_challenge(
		      "Basic realm=\"Registry\", Bearer realm=\"https://t/x\",service=\"s\"", &ch),
		  0);
	CHECK_STR(ch.scheme, "bearer");
	CHECK_STR(ch.realm, "https://t/x");
	CHECK_STR(ch.service, "s");
	auth_challenge_free(&ch);

	CHECK_INT(auth_parse_challenge("Negotiate abc==, Basic realm=\"bosun-test-registry\"", &ch),
		  0);
	CHECK_STR(ch.scheme, "basic");
	CHECK_STR(ch.realm, "bosun-test-registry");
	auth_challenge_free(&ch);

	CHECK_INT(auth_parse_challenge("Basic", &ch), 0);
	CHECK_STR(ch.scheme, "basic");
	CHECK(ch.realm == NULL);
	auth_challenge_free(&ch);

	/* several scope parameters become one list */
	CHECK_INT(
	    auth_parse_challenge("Bearer realm=\"r\",scope=\"a:b:pull\",scope=\"c:d:push\"", &ch),
	    0);
	CHECK_STR(ch.scope, "a:b:pull c:d:push");
	auth_challenge_free(&ch);
}

TEST(challenge_none)
{
	struct auth_challenge ch;

	CHECK_INT(auth_parse_challenge(NULL, &ch), -1);
	CHECK_INT(auth_parse_challenge("", &ch), -1);
	CHECK_INT(auth_parse_challenge("Digest realm=\"x\", nonce=\"y\"", &ch), -1);
	CHECK_INT(auth_parse_challenge(",,, ;;; \"", &ch), -1);
	CHECK(ch.realm == NULL);
}

TEST(retry_after)
{
	time_t now = 784111777; /* Sun, 06 Nov 1994 08:49:37 GMT */

	CHECK_INT((long)http_parse_retry_after("120", now), 120);
	CHECK_INT((long)http_parse_retry_after(" 1 ", now), 1);
	CHECK_INT((long)http_parse_retry_after("0", now), 0);
	CHECK_INT((long)http_parse_retry_after("Sun, 06 Nov 1994 08:50:07 GMT", now), 30);
	CHECK_INT((long)http_parse_retry_after("Sunday, 06-Nov-94 08:49:47 GMT", now), 10);
	CHECK_INT((long)http_parse_retry_after("Sun Nov  6 08:49:57 1994", now), 20);
	/* a date in the past means "now" */
	CHECK_INT((long)http_parse_retry_after("Sun, 06 Nov 1994 08:00:00 GMT", now), 0);
	CHECK_INT((long)http_parse_retry_after("soon", now), -1);
	CHECK_INT((long)http_parse_retry_after("", now), -1);
	CHECK_INT((long)http_parse_retry_after(NULL, now), -1);
}

TEST(resolve_location)
{
	char *u;

	u = http_resolve("http://127.0.0.1:5000/v2/a/b/blobs/uploads/",
			 "/v2/a/b/blobs/uploads/6f1c?_state=xYz%3D&x=1");
	CHECK_STR(u, "http://127.0.0.1:5000/v2/a/b/blobs/uploads/6f1c?_state=xYz%3D&x=1");
	free(u);
	u = http_resolve("https://reg.example.com/v2/a/blobs/sha256:00",
			 "https://storage.example.net/bucket/data?sig=abc");
	CHECK_STR(u, "https://storage.example.net/bucket/data?sig=abc");
	free(u);
	/* relative to the current directory */
	u = http_resolve("https://reg.example.com/v2/a/blobs/uploads/", "abc?x=1");
	CHECK_STR(u, "https://reg.example.com/v2/a/blobs/uploads/abc?x=1");
	free(u);
	/* scheme-relative */
	u = http_resolve("https://reg.example.com/v2/", "//cdn.example.com/x");
	CHECK_STR(u, "https://cdn.example.com/x");
	free(u);
	/* only http(s) */
	CHECK(http_resolve("https://reg.example.com/v2/", "file:///etc/passwd") == NULL);
	CHECK(http_resolve("https://reg.example.com/v2/", "ftp://h/x") == NULL);
	CHECK(http_resolve("https://reg.example.com/v2/", "") == NULL);
	CHECK(http_resolve("https://reg.example.com/v2/", NULL) == NULL);
}

TEST(same_origin)
{
	CHECK(http_same_origin("https://r.io/v2/x", "https://r.io"));
	CHECK(http_same_origin("https://R.IO:443/a", "https://r.io/b"));
	CHECK(http_same_origin("http://127.0.0.1:5000/v2/", "http://127.0.0.1:5000"));
	CHECK(!http_same_origin("https://r.io/v2/x", "https://s3.amazonaws.com/x"));
	CHECK(!http_same_origin("http://r.io/v2/x", "https://r.io/v2/x"));
	CHECK(!http_same_origin("http://r.io:5000/", "http://r.io:5001/"));
	CHECK(!http_same_origin("https://r.io.evil.com/", "https://r.io/"));
	CHECK(!http_same_origin(NULL, "https://r.io/"));
}

TEST(link_next)
{
	char *n;

	n = http_link_next("</v2/a/tags/list?last=b&n=2>; rel=\"next\"");
	CHECK_STR(n, "/v2/a/tags/list?last=b&n=2");
	free(n);
	n = http_link_next("<https://x/p1>; rel=\"prev\", <https://x/p3>; rel=next");
	CHECK_STR(n, "https://x/p3");
	free(n);
	CHECK(http_link_next("<https://x/p1>; rel=\"prev\"") == NULL);
	CHECK(http_link_next("garbage") == NULL);
	CHECK(http_link_next("<unterminated; rel=next") == NULL);
}

TEST(loopback)
{
	CHECK(http_host_is_loopback("localhost"));
	CHECK(http_host_is_loopback("localhost:5000"));
	CHECK(http_host_is_loopback("LocalHost:5000"));
	CHECK(http_host_is_loopback("127.0.0.1:5000"));
	CHECK(http_host_is_loopback("127.1.2.3"));
	CHECK(http_host_is_loopback("[::1]:5000"));
	CHECK(http_host_is_loopback("[::1]"));
	CHECK(!http_host_is_loopback("localhost.example.com:5000"));
	CHECK(!http_host_is_loopback("127.0.0.1.nip.io"));
	CHECK(!http_host_is_loopback("10.0.0.1:5000"));
	CHECK(!http_host_is_loopback("[::2]:5000"));
	CHECK(!http_host_is_loopback("registry.example.com"));
	CHECK(!http_host_is_loopback(""));
}

TEST(normalize_host)
{
	static const char *const cases[][2] = {
	    {"https://index.docker.io/v1/", "docker.io"},
	    {"index.docker.io", "docker.io"},
	    {"registry-1.docker.io", "docker.io"},
	    {"docker.io", "docker.io"},
	    {"http://localhost:5000/v2/", "localhost:5000"},
	    {"https://MyReg.AzureCR.io", "myreg.azurecr.io"},
	    {"myreg.azurecr.io/", "myreg.azurecr.io"},
	    {"ghcr.io/owner/repo", "ghcr.io"},
	    {"[::1]:5000", "[::1]:5000"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *h = creds_normalize_host(cases[i][0]);

		CHECK_STR(h, cases[i][1]);
		free(h);
	}
}

int main(void)
{
	RUN(challenge_bearer);
	RUN(challenge_quoting);
	RUN(challenge_several);
	RUN(challenge_none);
	RUN(retry_after);
	RUN(resolve_location);
	RUN(same_origin);
	RUN(link_next);
	RUN(loopback);
	RUN(normalize_host);
	return test_done();
}
