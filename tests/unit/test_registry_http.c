#include <signal.h>
/* The registry client against scripted HTTP servers on 127.0.0.1 (threads
 * in this process): manifests and their digests, caps, error JSON, Basic
 * and Bearer auth, redirects that must not carry Authorization to another
 * host, retries with Retry-After, resumed and corrupt downloads, the
 * chunked upload fallback and tag pagination. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/fs.h"
#include "core/log.h"
#include "core/sha256.h"
#include "core/util.h"
#include "oci/ref.h"
#include "registry/internal.h"
#include "registry/registry.h"
#include "test.h"

/* ------------------------------------------------------------ the server */

struct rq {
	char method[16];
	char path[2048];
	char auth[512];
	char range[128];
	char ctype[128];
	char *body;
	size_t body_len;
};

struct srv;
typedef void (*handler_fn)(struct srv *s, struct rq *r, int fd);

struct srv {
	int lfd;
	int port;
	handler_fn h;
	pthread_mutex_t lock;
	char log[16384];  /* "METHOD PATH [auth]\n" lines */
	int count;	  /* requests seen */
	int state;	  /* free for handlers */
	struct buf store; /* uploaded bytes */
};

static void srv_log(struct srv *s, const struct rq *r)
{
	size_t n;

	pthread_mutex_lock(&s->lock);
	n = strlen(s->log);
	snprintf(s->log + n, sizeof(s->log) - n, "%s %s%s\n", r->method, r->path,
		 r->auth[0] ? " [auth]" : "");
	s->count++;
	pthread_mutex_unlock(&s->lock);
}

static int read_req(int fd, struct rq *r)
{
	char hdr[16384];
	size_t n = 0;
	char *end, *line, *save = NULL;
	size_t clen = 0, have;

	memset(r, 0, sizeof(*r));
	for (;;) {
		ssize_t k = read(fd, hdr + n, 1); /* byte-wise: never eat the body */

		if (k <= 0)
			return -1;
		if (n == 0 && hdr[0] == 0x16)
			return -1; /* a TLS hello: plain HTTP only, hang up like a real server */
		n++;
		if (n >= 4 && memcmp(hdr + n - 4, "\r\n\r\n", 4) == 0)
			break;
		if (n == sizeof(hdr) - 1)
			return -1;
	}
	hdr[n] = 0;
	end = strstr(hdr, "\r\n");
	*end = 0;
	if (sscanf(hdr, "%15s %2047s", r->method, r->path) != 2)
		return -1;
	for (line = strtok_r(end + 2, "\r\n", &save); line; line = strtok_r(NULL, "\r\n", &save)) {
		if (!strncasecmp(line, "Content-Length: ", 16))
			clen = strtoul(line + 16, NULL, 10);
		else if (!strncasecmp(line, "Authorization: ", 15))
			snprintf(r->auth, sizeof(r->auth), "%s", line + 15);
		else if (!strncasecmp(line, "Range: ", 7))
			snprintf(r->range, sizeof(r->range), "%s", line + 7);
		else if (!strncasecmp(line, "Content-Range: ", 15))
			snprintf(r->range, sizeof(r->range), "%s", line + 15);
		else if (!strncasecmp(line, "Content-Type: ", 14))
			snprintf(r->ctype, sizeof(r->ctype), "%s", line + 14);
	}
	r->body = malloc(clen + 1);
	for (have = 0; have < clen;) {
		ssize_t k = read(fd, r->body + have, clen - have);

		if (k <= 0)
			return -1;
		have += (size_t)k;
	}
	r->body[clen] = 0;
	r->body_len = clen;
	return 0;
}

static void wr(int fd, const void *p, size_t n)
{
	const char *c = p;

	while (n) {
		ssize_t k = write(fd, c, n);

		if (k <= 0)
			return;
		c += k;
		n -= (size_t)k;
	}
}

/* status, extra header lines (each ending in \r\n) or "", body */
static void reply(int fd, const struct rq *r, int status, const char *hdrs, const void *body,
		  size_t n)
{
	char h[4096];
	int k = snprintf(h, sizeof(h), "HTTP/1.1 %d X\r\nContent-Length: %zu\r\n%s\r\n", status, n,
			 hdrs ? hdrs : "");

	wr(fd, h, (size_t)k);
	if (strcmp(r->method, "HEAD") != 0 && n)
		wr(fd, body, n);
}

static void reply_str(int fd, const struct rq *r, int status, const char *hdrs, const char *body)
{
	reply(fd, r, status, hdrs, body, body ? strlen(body) : 0);
}

struct conn {
	struct srv *s;
	int fd;
};

static void *conn_main(void *arg)
{
	struct conn *c = arg;
	struct rq r;

	while (read_req(c->fd, &r) == 0) {
		srv_log(c->s, &r);
		c->s->h(c->s, &r, c->fd);
		free(r.body);
	}
	free(r.body);
	close(c->fd);
	free(c);
	return NULL;
}

static void *srv_main(void *arg)
{
	struct srv *s = arg;

	for (;;) {
		int fd = accept(s->lfd, NULL, NULL);
		struct conn *c;
		pthread_t t;

		if (fd < 0) {
			if (errno == EINTR)
				continue;
			return NULL;
		}
		c = malloc(sizeof(*c));
		c->s = s;
		c->fd = fd;
		pthread_create(&t, NULL, conn_main, c);
		pthread_detach(t);
	}
}

static struct srv *srv_start(handler_fn h)
{
	struct srv *s = calloc(1, sizeof(*s));
	struct sockaddr_in a = {0};
	socklen_t al = sizeof(a);
	pthread_t t;
	int one = 1;

	s->h = h;
	pthread_mutex_init(&s->lock, NULL);
	buf_init(&s->store, 64u << 20);
	s->lfd = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(s->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	bind(s->lfd, (struct sockaddr *)&a, sizeof(a));
	listen(s->lfd, 64);
	getsockname(s->lfd, (struct sockaddr *)&a, &al);
	s->port = ntohs(a.sin_port);
	pthread_create(&t, NULL, srv_main, s);
	pthread_detach(t);
	return s;
}

/* Servers are left running (detached threads) until the process exits. */

static struct reg_client *client_for(struct srv *s, const char *repo_tag, const struct reg_opts *o)
{
	struct oci_ref ref;
	struct err e = ERR_INIT;
	struct reg_client *c = NULL;
	char r[256];

	snprintf(r, sizeof(r), "127.0.0.1:%d/%s", s->port, repo_tag);
	if (oci_ref_parse(&ref, r, &e) < 0 || reg_open(&c, &ref, o, false, &e) < 0)
		fprintf(stderr, "client_for %s: %s\n", r, e.msg);
	oci_ref_free(&ref);
	return c;
}

static bool has(const char *hay, const char *needle)
{
	bool ok = hay && strstr(hay, needle) != NULL;

	if (!ok)
		fprintf(stderr, "  expected \"%s\" in: %s\n", needle, hay ? hay : "(null)");
	return ok;
}

/* --------------------------------------------------------------- fixtures */

static const char manifest[] =
    "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
    "\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":"
    "\"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a\",\"size\":2},"
    "\"layers\":[]}";
static char manifest_digest[72];

static char blob[200000];
static char blob_digest[72];

static void fixtures(void)
{
	for (size_t i = 0; i < sizeof(blob); i++)
		blob[i] = (char)(i * 7 + i / 251);
	sha256_digest_str(blob, sizeof(blob), blob_digest);
	sha256_digest_str(manifest, strlen(manifest), manifest_digest);
}

/* -------------------------------------------------------- plain registry */

static void h_plain(struct srv *s, struct rq *r, int fd)
{
	char hdr[512];

	if (!strcmp(r->path, "/v2/")) {
		reply_str(fd, r, 200, "", "{}");
	} else if (!strcmp(r->path, "/v2/app/manifests/good") ||
		   !strcmp(r->path, "/v2/app/manifests/nodigest") ||
		   (!strncmp(r->path, "/v2/app/manifests/", 18) &&
		    !strcmp(r->path + 18, manifest_digest))) {
		snprintf(hdr, sizeof(hdr),
			 "Content-Type: application/vnd.oci.image.manifest.v1+json\r\n%s%s%s",
			 strstr(r->path, "nodigest") ? "" : "Docker-Content-Digest: ",
			 strstr(r->path, "nodigest") ? "" : manifest_digest,
			 strstr(r->path, "nodigest") ? "" : "\r\n");
		reply(fd, r, 200, hdr, manifest, strlen(manifest));
	} else if (!strcmp(r->path, "/v2/app/manifests/json")) {
		/* plain application/json: the body's mediaType counts */
		reply(fd, r, 200, "Content-Type: application/json\r\n", manifest, strlen(manifest));
	} else if (!strcmp(r->path, "/v2/app/manifests/liar")) {
		reply(fd, r, 200,
		      "Content-Type: application/vnd.oci.image.manifest.v1+json\r\n"
		      "Docker-Content-Digest: "
		      "sha256:0000000000000000000000000000000000000000000000000000000000000000\r\n",
		      manifest, strlen(manifest));
	} else if (!strcmp(r->path, "/v2/app/manifests/huge")) {
		size_t n = (4u << 20) + 10;
		char *big = malloc(n);

		memset(big, ' ', n);
		big[0] = '{';
		big[n - 1] = '}';
		reply(fd, r, 200, "Content-Type: application/vnd.oci.image.manifest.v1+json\r\n",
		      big, n);
		free(big);
	} else if (!strncmp(r->path, "/v2/app/manifests/", 18)) {
		reply_str(fd, r, 404, "Content-Type: application/json\r\n",
			  "{\"errors\":[{\"code\":\"MANIFEST_UNKNOWN\",\"message\":"
			  "\"manifest\\nunknown\",\"detail\":{}}]}");
	} else {
		reply_str(fd, r, 404, "", "");
	}
}

TEST(manifests)
{
	struct srv *s = srv_start(h_plain);
	struct reg_client *c = client_for(s, "app:good", NULL);
	struct buf b = BUF_INIT;
	struct err e = ERR_INIT;
	char *mt = NULL, *dg = NULL;
	int64_t size = 0;

	CHECK_INT(reg_get_manifest(c, "good", &b, &mt, &dg, &e), 0);
	CHECK_STR(b.data, manifest);
	CHECK_STR(mt, "application/vnd.oci.image.manifest.v1+json");
	CHECK_STR(dg, manifest_digest);
	free(mt);
	free(dg);
	/* by digest, and without Docker-Content-Digest */
	CHECK_INT(reg_get_manifest(c, manifest_digest, &b, NULL, &dg, &e), 0);
	CHECK_STR(dg, manifest_digest);
	free(dg);
	CHECK_INT(reg_get_manifest(c, "nodigest", &b, NULL, &dg, &e), 0);
	CHECK_STR(dg, manifest_digest);
	free(dg);
	CHECK_INT(reg_get_manifest(c, "json", &b, &mt, NULL, &e), 0);
	CHECK_STR(mt, "application/vnd.oci.image.manifest.v1+json");
	free(mt);
	CHECK_INT(reg_head_manifest(c, "good", &dg, &mt, &size, &e), 0);
	CHECK_STR(dg, manifest_digest);
	CHECK_INT(size, (long long)strlen(manifest));
	free(dg);
	free(mt);

	/* a registry that lies about the digest, a body over the cap */
	CHECK_INT(reg_get_manifest(c, "liar", &b, NULL, NULL, &e), -1);
	CHECK_INT(e.code, ERR_INPUT);
	CHECK_INT(reg_get_manifest(c, "huge", &b, NULL, NULL, &e), -1);
	CHECK_INT(e.code, ERR_INPUT);
	CHECK(has(e.msg, "exceeds"));
	/* the digest we asked for is not what came back */
	CHECK_INT(reg_get_manifest(
		      c, "sha256:1111111111111111111111111111111111111111111111111111111111111111",
		      &b, NULL, NULL, &e),
		  -1);
	CHECK_INT(e.code, ERR_NETWORK); /* 404 from this server */

	/* 404 with the registry's error JSON: named registry, code, cleaned message */
	err_clear(&e);
	CHECK_INT(reg_get_manifest(c, "missing", &b, NULL, NULL, &e), -1);
	CHECK_INT(e.code, ERR_NETWORK);
	CHECK_INT(e.http_status, 404);
	CHECK(reg_not_found(&e));
	CHECK(has(e.msg, "127.0.0.1:"));
	CHECK(has(e.msg, "HTTP 404 MANIFEST_UNKNOWN: manifest unknown"));

	/* bad keys never reach the network */
	CHECK_INT(reg_get_manifest(c, "bad/tag", &b, NULL, NULL, &e), -1);
	CHECK_INT(e.code, ERR_USAGE);
	CHECK_INT(reg_get_manifest(c, "sha256:xyz", &b, NULL, NULL, &e), -1);
	buf_free(&b);
	reg_close(c);
}

/* ---------------------------------------------- Basic auth and redirects */

static struct srv *storage; /* another origin, where blobs redirect to */

static void h_storage(struct srv *s, struct rq *r, int fd)
{
	if (!strncmp(r->path, "/bucket/", 8))
		reply(fd, r, 200, "", blob, sizeof(blob));
	else
		reply_str(fd, r, 404, "", "");
}

static void h_basic(struct srv *s, struct rq *r, int fd)
{
	char hdr[512], want[128], b64[128];

	base64_encode("alice:s3cret", 12, b64);
	snprintf(want, sizeof(want), "Basic %s", b64);
	if (strcmp(r->auth, want) != 0) {
		reply_str(
		    fd, r, 401,
		    "WWW-Authenticate: Basic realm=\"test\"\r\nContent-Type: application/json\r\n",
		    "{\"errors\":[{\"code\":\"UNAUTHORIZED\",\"message\":\"authentication "
		    "required\"}]}");
		return;
	}
	if (!strcmp(r->path, "/v2/")) {
		reply_str(fd, r, 200, "", "");
	} else if (!strncmp(r->path, "/v2/app/blobs/", 14)) {
		/* off to storage on another port: Authorization must not follow */
		snprintf(hdr, sizeof(hdr), "Location: http://127.0.0.1:%d/bucket/x?sig=1\r\n",
			 storage->port);
		reply_str(fd, r, 307, hdr, "");
	} else if (!strncmp(r->path, "/v2/app/manifests/", 18)) {
		/* relative redirect on the same origin keeps it */
		if (strstr(r->path, "/moved"))
			reply(fd, r, 200,
			      "Content-Type: application/vnd.oci.image.manifest.v1+json\r\n",
			      manifest, strlen(manifest));
		else
			reply_str(fd, r, 302, "Location: /v2/app/manifests/moved\r\n", "");
	} else {
		reply_str(fd, r, 404, "", "");
	}
}

TEST(basic_and_redirects)
{
	struct srv *s = srv_start(h_basic);
	struct reg_opts o = {.creds = "alice:s3cret"};
	struct reg_client *c;
	struct buf b = BUF_INIT;
	struct err e = ERR_INIT;
	struct oci_desc d = {0};

	storage = srv_start(h_storage);
	c = client_for(s, "app:1", &o);
	d.digest = blob_digest;
	d.size = sizeof(blob);
	CHECK_INT(reg_get_blob_buf(c, &d, &b, sizeof(blob), &e), 0);
	CHECK_INT(b.len, sizeof(blob));
	CHECK(has(storage->log, "GET /bucket/x?sig=1\n")); /* no [auth] */
	CHECK(!strstr(storage->log, "[auth]"));
	CHECK(has(s->log, "GET /v2/app/blobs/"));
	/* too small a cap */
	CHECK_INT(reg_get_blob_buf(c, &d, &b, 1000, &e), -1);
	CHECK_INT(e.code, ERR_INPUT);
	CHECK_INT(reg_get_manifest(c, "latest", &b, NULL, NULL, &e), 0);
	CHECK(has(s->log, "GET /v2/app/manifests/moved [auth]"));
	reg_close(c);

	/* wrong and missing credentials: ERR_NETWORK, never the password */
	o.creds = "alice:wrong-pw";
	c = client_for(s, "app:1", &o);
	CHECK_INT(reg_get_manifest(c, "latest", &b, NULL, NULL, &e), -1);
	CHECK_INT(e.code, ERR_NETWORK);
	CHECK(has(e.msg, "rejected"));
	CHECK(!strstr(e.msg, "wrong-pw"));
	reg_close(c);
	setenv("DOCKER_CONFIG", "/nonexistent", 1);
	c = client_for(s, "app:1", NULL);
	CHECK_INT(reg_get_manifest(c, "latest", &b, NULL, NULL, &e), -1);
	CHECK_INT(e.code, ERR_NETWORK);
	CHECK(has(e.msg, "no credentials"));
	reg_close(c);
	buf_free(&b);
}

/* ------------------------------------------------------------ Bearer auth */

static struct srv *tokens;

static void h_token(struct srv *s, struct rq *r, int fd)
{
	/* ACR style: access_token, and only for the right scope */
	if (strstr(r->path, "scope=repository%3Aapp%3Apull") && strstr(r->path, "service=svc"))
		reply_str(fd, r, 200, "Content-Type: application/json\r\n",
			  "{\"access_token\":\"T0K3N\",\"expires_in\":300}");
	else
		reply_str(fd, r, 403, "", "{}");
}

static void h_bearer(struct srv *s, struct rq *r, int fd)
{
	char hdr[512];

	if (strcmp(r->auth, "Bearer T0K3N") != 0) {
		snprintf(
		    hdr, sizeof(hdr),
		    "WWW-Authenticate: Bearer realm=\"http://127.0.0.1:%d/token\",service=\"svc\""
		    "%s\r\n",
		    tokens->port, strcmp(r->path, "/v2/") ? ",scope=\"repository:app:pull\"" : "");
		reply_str(fd, r, 401, hdr, "");
		return;
	}
	if (!strcmp(r->path, "/v2/app/tags/list?n=1000"))
		reply_str(fd, r, 200, "Link: </v2/app/tags/list?last=b&n=1000>; rel=\"next\"\r\n",
			  "{\"name\":\"app\",\"tags\":[\"a\",\"b\"]}");
	else if (!strcmp(r->path, "/v2/app/tags/list?last=b&n=1000"))
		reply_str(fd, r, 200, "", "{\"name\":\"app\",\"tags\":[\"c\"]}");
	else
		reply_str(fd, r, 404, "", "");
}

TEST(bearer_and_tags)
{
	struct srv *s = srv_start(h_bearer);
	struct reg_client *c;
	struct err e = ERR_INIT;
	char **tags = NULL;
	size_t n = 0;

	tokens = srv_start(h_token);
	c = client_for(s, "app:1", NULL);
	CHECK_INT(reg_list_tags(c, &tags, &n, &e), 0);
	CHECK_INT(n, 3);
	if (n == 3) {
		CHECK_STR(tags[0], "a");
		CHECK_STR(tags[2], "c");
	}
	reg_free_tags(tags, n);
	/* one token for the whole session */
	CHECK_INT(tokens->count, 1);
	CHECK(has(s->log, "GET /v2/app/tags/list?last=b&n=1000 [auth]"));
	reg_close(c);

	/* a repository the token server refuses */
	c = client_for(s, "other:1", NULL);
	CHECK_INT(reg_list_tags(c, &tags, &n, &e), -1);
	CHECK_INT(e.code, ERR_NETWORK);
	CHECK(has(e.msg, "token request to 127.0.0.1:"));
	CHECK(has(e.msg, "HTTP 403"));
	reg_close(c);
}

/* ---------------------------------------------------------------- retries */

static void h_flaky(struct srv *s, struct rq *r, int fd)
{
	if (!strcmp(r->path, "/v2/")) {
		reply_str(fd, r, 200, "", "");
		return;
	}
	pthread_mutex_lock(&s->lock);
	int n = ++s->state;
	pthread_mutex_unlock(&s->lock);
	if (strstr(r->path, "/manifests/down")) {
		reply_str(fd, r, 500, "Content-Type: application/json\r\n",
			  "{\"errors\":[{\"code\":\"UNKNOWN\",\"message\":\"disk on fire\"}]}");
	} else if (strstr(r->path, "/manifests/slow") && n == 1) {
		reply_str(fd, r, 429, "Retry-After: 1\r\n", "");
	} else if (strstr(r->path, "/manifests/flaky") && n <= 2) {
		reply_str(fd, r, 503, "", "");
	} else if (strstr(r->path, "/manifests/reset") && n == 1) {
		/* announce a body, then hang up */
		wr(fd, "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n{\"sch", 47);
		shutdown(fd, SHUT_RDWR);
	} else {
		reply(fd, r, 200, "Content-Type: application/vnd.oci.image.manifest.v1+json\r\n",
		      manifest, strlen(manifest));
	}
}

TEST(retries)
{
	struct srv *s = srv_start(h_flaky);
	struct reg_opts o = {.retries = 2};
	struct reg_client *c = client_for(s, "app:1", &o);
	struct buf b = BUF_INIT;
	struct err e = ERR_INIT;
	double t0;

	s->state = 0;
	CHECK_INT(reg_get_manifest(c, "flaky", &b, NULL, NULL, &e), 0);
	CHECK_INT(s->state, 3);
	s->state = 0;
	t0 = time_now();
	CHECK_INT(reg_get_manifest(c, "slow", &b, NULL, NULL, &e), 0);
	CHECK(time_now() - t0 >= 0.9); /* Retry-After: 1 was honoured */
	s->state = 0;
	CHECK_INT(reg_get_manifest(c, "reset", &b, NULL, NULL, &e), 0);
	CHECK_STR(b.data, manifest);
	s->state = 0;
	CHECK_INT(reg_get_manifest(c, "down", &b, NULL, NULL, &e), -1);
	CHECK_INT(s->state, 3); /* 1 + 2 retries */
	CHECK_INT(e.code, ERR_NETWORK);
	CHECK_INT(e.http_status, 500);
	CHECK(has(e.msg, "HTTP 500 UNKNOWN: disk on fire (gave up after 2 retries)"));
	buf_free(&b);
	reg_close(c);

	/* nobody listening: ERR_NETWORK naming the registry */
	{
		struct oci_ref ref;
		struct reg_opts o1 = {.retries = -1};

		oci_ref_parse(&ref, "127.0.0.1:1/x/y:1", &e);
		reg_open(&c, &ref, &o1, false, &e);
		oci_ref_free(&ref);
		CHECK_INT(reg_ping(c, &e), -1);
		CHECK_INT(e.code, ERR_NETWORK);
		CHECK(has(e.msg, "registry 127.0.0.1:1"));
		reg_close(c);
	}
}

/* -------------------------------------------------------------- downloads */

static void h_blobs(struct srv *s, struct rq *r, int fd)
{
	char hdr[256];

	if (!strcmp(r->path, "/v2/")) {
		reply_str(fd, r, 200, "", "");
	} else if (strstr(r->path, "/v2/good/blobs/")) {
		if (s->state++ == 0) {
			/* half the blob, then the connection drops */
			snprintf(hdr, sizeof(hdr),
				 "HTTP/1.1 200 OK\r\nAccept-Ranges: bytes\r\nContent-Length: "
				 "%zu\r\n\r\n",
				 sizeof(blob));
			wr(fd, hdr, strlen(hdr));
			wr(fd, blob, sizeof(blob) / 2);
			shutdown(fd, SHUT_RDWR);
		} else if (!strncmp(r->range, "bytes=", 6)) {
			size_t from = strtoul(r->range + 6, NULL, 10);

			snprintf(hdr, sizeof(hdr), "Content-Range: bytes %zu-%zu/%zu\r\n", from,
				 sizeof(blob) - 1, sizeof(blob));
			reply(fd, r, 206, hdr, blob + from, sizeof(blob) - from);
		} else {
			reply(fd, r, 200, "", blob, sizeof(blob));
		}
	} else if (strstr(r->path, "/v2/bad/blobs/")) {
		char *copy = malloc(sizeof(blob));

		memcpy(copy, blob, sizeof(blob));
		copy[1000] ^= 1;
		reply(fd, r, 200, "", copy, sizeof(blob));
		free(copy);
	} else if (strstr(r->path, "/v2/long/blobs/")) {
		reply(fd, r, 200, "", blob, sizeof(blob)); /* longer than the descriptor */
	} else {
		reply_str(fd, r, 404, "", "");
	}
}

static char *dest_dir;

static char *path_for(void *ctx, const struct oci_desc *d)
{
	char *p = NULL;

	if (asprintf(&p, "%s/%s/%s", dest_dir, (const char *)ctx, d->digest + 7) < 0)
		return NULL;
	return p;
}

static bool skip_none(void *ctx, const struct oci_desc *d)
{
	return false;
}

static int count_files(const char *sub)
{
	char cmd[1024];
	FILE *f;
	int n = -1;

	snprintf(cmd, sizeof(cmd), "ls -A '%s/%s' 2>/dev/null | wc -l", dest_dir, sub);
	f = popen(cmd, "r");
	if (f) {
		if (fscanf(f, "%d", &n) != 1)
			n = -1;
		pclose(f);
	}
	return n;
}

TEST(downloads)
{
	struct srv *s = srv_start(h_blobs);
	struct reg_client *c = client_for(s, "good:1", NULL);
	struct err e = ERR_INIT;
	struct oci_desc d[2] = {{0}};
	struct buf b = BUF_INIT;
	char *p;

	d[0].digest = blob_digest;
	d[0].size = sizeof(blob);
	d[1] = d[0]; /* a duplicate is fetched once */
	CHECK_INT(reg_fetch_blobs(c, d, 2, path_for, skip_none, (void *)"good", &e), 0);
	p = path_for((void *)"good", &d[0]);
	CHECK_INT(fs_read_file(p, &b, 1 << 20, &e), 0);
	CHECK_INT(b.len, sizeof(blob));
	CHECK(memcmp(b.data, blob, sizeof(blob)) == 0);
	free(p);
	CHECK(has(s->log, "GET /v2/good/blobs/"));
	CHECK_INT(s->state, 2); /* cut, then resumed with a Range */
	CHECK_INT(count_files("good"), 1);
	reg_close(c);

	/* a corrupt body: ERR_INPUT and no file, not even a temporary one */
	c = client_for(s, "bad:1", NULL);
	CHECK_INT(reg_fetch_blobs(c, d, 1, path_for, NULL, (void *)"bad", &e), -1);
	CHECK_INT(e.code, ERR_INPUT);
	CHECK(has(e.msg, "digest mismatch"));
	CHECK_INT(count_files("bad"), 0);
	reg_close(c);

	/* more bytes than the descriptor says */
	c = client_for(s, "long:1", NULL);
	d[0].size = 100;
	CHECK_INT(reg_fetch_blobs(c, d, 1, path_for, NULL, (void *)"long", &e), -1);
	CHECK_INT(e.code, ERR_INPUT);
	CHECK_INT(count_files("long"), 0);
	reg_close(c);
	buf_free(&b);
}

/* ---------------------------------------------------------------- uploads */

static void h_upload(struct srv *s, struct rq *r, int fd)
{
	char hdr[512];

	if (!strcmp(r->path, "/v2/")) {
		reply_str(fd, r, 200, "", "");
	} else if (!strcmp(r->method, "HEAD")) {
		reply_str(fd, r, 404, "", "");
	} else if (!strcmp(r->method, "POST")) {
		pthread_mutex_lock(&s->lock);
		buf_reset(&s->store);
		pthread_mutex_unlock(&s->lock);
		/* relative Location with a query, like distribution's _state */
		reply_str(fd, r, 202, "Location: /v2/app/blobs/uploads/u1?_state=abc\r\n", "");
	} else if (!strcmp(r->method, "PUT") && r->body_len) {
		reply_str(fd, r, 413, "", "too big"); /* no monolithic uploads here */
	} else if (!strcmp(r->method, "PATCH")) {
		long a = -1, z = -1;

		sscanf(r->range, "%ld-%ld", &a, &z);
		if (a != (long)s->store.len || z - a + 1 != (long)r->body_len) {
			reply_str(fd, r, 416, "", "");
			return;
		}
		buf_add(&s->store, r->body, r->body_len, NULL);
		snprintf(hdr, sizeof(hdr),
			 "Location: /v2/app/blobs/uploads/u1?_state=n%zu\r\nRange: 0-%zu\r\n",
			 s->store.len, s->store.len - 1);
		reply_str(fd, r, 202, hdr, "");
	} else if (!strcmp(r->method, "PUT")) {
		char dg[72];

		sha256_digest_str(s->store.data, s->store.len, dg);
		/* the query carries the digest, ':' escaped */
		if (strstr(r->path, "_state=n") && strstr(r->path, "&digest=sha256%3A") &&
		    !strcmp(strstr(r->path, "%3A") + 3, dg + 7))
			reply_str(fd, r, 201, "", "");
		else
			reply_str(fd, r, 400, "Content-Type: application/json\r\n",
				  "{\"errors\":[{\"code\":\"DIGEST_INVALID\",\"message\":\"digest "
				  "did not match\"}]}");
	} else {
		reply_str(fd, r, 404, "", "");
	}
}

TEST(chunked_upload)
{
	struct srv *s = srv_start(h_upload);
	struct reg_client *c = client_for(s, "app:1", NULL);
	struct err e = ERR_INIT;
	size_t n = (16u << 20) + 12345; /* two PATCHes */
	char *data = malloc(n), dg[72];

	for (size_t i = 0; i < n; i++)
		data[i] = (char)(i % 253);
	sha256_digest_str(data, n, dg);
	CHECK_INT(reg_push_blob_buf(c, data, n, dg, &e), 0);
	if (e.msg[0])
		fprintf(stderr, "  %s\n", e.msg);
	CHECK_INT(s->store.len, n);
	CHECK(has(s->log, "PATCH /v2/app/blobs/uploads/u1?_state=abc\n"));
	CHECK(has(s->log, "PATCH /v2/app/blobs/uploads/u1?_state=n16777216\n"));
	CHECK(has(s->log, "PUT /v2/app/blobs/uploads/u1?_state=n16789561&digest=sha256%3A"));
	/* the wrong digest for the bytes: refused before any traffic */
	CHECK_INT(reg_push_blob_buf(c, data, n - 1, dg, &e), -1);
	CHECK_INT(e.code, ERR_INPUT);
	free(data);
	reg_close(c);
}

/* A rate limiter in front of the registry refuses the first POST and the
 * first PUT with 429: each is sent again after Retry-After, and the blob is
 * not started over from its HEAD. */
static void h_ratelimit(struct srv *s, struct rq *r, int fd)
{
	int bit = !strcmp(r->method, "POST") ? 1 : !strcmp(r->method, "PUT") ? 2 : 0, first;

	if (!strcmp(r->path, "/v2/")) {
		reply_str(fd, r, 200, "", "");
		return;
	}
	pthread_mutex_lock(&s->lock);
	first = bit && !(s->state & bit);
	s->state |= bit;
	pthread_mutex_unlock(&s->lock);
	if (first)
		reply_str(fd, r, 429, "Retry-After: 1\r\nContent-Type: application/json\r\n",
			  "{\"errors\":[{\"code\":\"TOOMANYREQUESTS\",\"message\":\"slow down\"}]}");
	else if (!strcmp(r->method, "HEAD"))
		reply_str(fd, r, 404, "", "");
	else if (bit == 1)
		reply_str(fd, r, 202, "Location: /v2/app/blobs/uploads/u2?_state=x\r\n", "");
	else if (bit == 2)
		reply_str(fd, r, 201, "", "");
	else
		reply_str(fd, r, 404, "", "");
}

TEST(rate_limited_upload)
{
	struct srv *s = srv_start(h_ratelimit);
	struct reg_opts o = {.retries = 1};
	struct reg_client *c = client_for(s, "app:1", &o);
	struct err e = ERR_INIT;
	const char data[] = "rate limited blob";
	char dg[72];
	const char *p, *q;
	double t0;
	int heads = 0;

	s->state = 0;
	sha256_digest_str(data, strlen(data), dg);
	t0 = time_now();
	/* one retry per request is enough: each 429 costs only its own request */
	CHECK_INT(reg_push_blob_buf(c, data, strlen(data), dg, &e), 0);
	if (e.msg[0])
		fprintf(stderr, "  %s\n", e.msg);
	CHECK(time_now() - t0 >= 1.9); /* two Retry-After: 1 waits */
	for (p = s->log; p && (q = strstr(p, "HEAD /v2/app/blobs/")); p = q + 1)
		heads++;
	CHECK_INT(heads, 1);
	p = strstr(s->log, "POST /v2/app/blobs/uploads/");
	CHECK(p && strstr(p + 1, "POST /v2/app/blobs/uploads/"));
	p = strstr(s->log, "PUT /v2/app/blobs/uploads/u2?_state=x&digest=");
	CHECK(p && strstr(p + 1, "PUT /v2/app/blobs/uploads/u2?_state=x&digest="));
	reg_close(c);
}

int main(void)
{
	struct err e = ERR_INIT;

	/* as bosun's main: the test server here writes to sockets the client
	 * may have closed (a 429 answered early, a cut transfer) */
	signal(SIGPIPE, SIG_IGN);
	log_set_level(LOG_ERROR);
	unsetenv("BOSUN_USERNAME");
	unsetenv("REGISTRY_AUTH_FILE");
	setenv("DOCKER_CONFIG", "/nonexistent", 1);
	dest_dir = fs_mkdtemp("bosun-test-reghttp", &e);
	fixtures();
	RUN(manifests);
	RUN(basic_and_redirects);
	RUN(bearer_and_tags);
	RUN(retries);
	RUN(downloads);
	RUN(chunked_upload);
	RUN(rate_limited_upload);
	fs_rm_rf(dest_dir, &e);
	free(dest_dir);
	return test_done();
}
