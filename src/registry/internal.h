/* Private to src/registry: the client state, the HTTP exchange and job
 * engine (http.c; its header and URL helpers in http_parse.c), auth (auth.c)
 * and credentials (creds.c). Unit tests include it for the parsers. */
#ifndef BOSUN_REGISTRY_INTERNAL_H
#define BOSUN_REGISTRY_INTERNAL_H

#include <curl/curl.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>
#include "core/buf.h"
#include "core/err.h"
#include "oci/digest.h"
#include "registry/registry.h"

/* ------------------------------------------------------------ credentials */

struct reg_creds {
	char *user;
	char *pass;
	char *identity_token; /* refresh token for the OAuth2 token endpoint */
};

void creds_free(struct reg_creds *cr); /* wipes the secrets */
/* Config key -> host: strips scheme and path, lowercases, maps
 * index.docker.io / registry-1.docker.io / docker.io to "docker.io".
 * malloc'd, NULL on OOM. */
char *creds_normalize_host(const char *key);
/* The lookup chain of DESIGN.md for registry (e.g. "docker.io",
 * "localhost:5000"). *found false and 0 when nothing matched. Errors:
 * ERR_USAGE for a malformed --creds, ERR_INPUT for an unreadable config. */
int creds_lookup(const char *registry, const char *opt_creds, struct reg_creds *out, bool *found,
		 struct err *e);
/* One config file (docker config.json or containers auth.json format). */
int creds_from_config(const char *path, const char *registry, struct reg_creds *out, bool *found,
		      struct err *e);
/* docker-credential-<helper> get, server on stdin. Not found is *found=false. */
int creds_run_helper(const char *helper, const char *server, struct reg_creds *out, bool *found,
		     struct err *e);

/* -------------------------------------------------------------- challenge */

struct auth_challenge {
	char scheme[16]; /* "bearer" or "basic" (lower case) */
	char *realm, *service, *scope, *error;
};

/* WWW-Authenticate value (several challenges and several headers joined by
 * ", " are fine). Picks Bearer over Basic. -1 when neither is present. */
int auth_parse_challenge(const char *hdr, struct auth_challenge *ch);
void auth_challenge_free(struct auth_challenge *ch);

/* ------------------------------------------------------------ HTTP helpers */

/* Retry-After: delta seconds or an HTTP date, relative to now; -1 when
 * unparsable. Not capped here. */
double http_parse_retry_after(const char *v, time_t now);
/* Location (absolute or relative) against base; NULL unless http(s). */
char *http_resolve(const char *base, const char *loc);
/* Same scheme, host and port. */
bool http_same_origin(const char *a, const char *b);
/* The rel="next" target of a Link header, malloc'd, or NULL. */
char *http_link_next(const char *link);
/* "registry.example.com:5000" -> true for localhost, 127.0.0.0/8, ::1. */
bool http_host_is_loopback(const char *hostport);

/* ------------------------------------------------------------ the client */

enum auth_kind { AUTH_NONE, AUTH_BASIC, AUTH_BEARER };

/* CA certificates for every HTTPS client of bosun (registries and data
 * downloads): --cacert, SSL_CERT_FILE / SSL_CERT_DIR, curl's built-in
 * default when it exists, else the usual distribution paths. *cainfo and
 * *capath stay NULL for curl's default (the caller frees them). */
int reg_ca_pick(const char *cacert, char **cainfo, char **capath, struct err *e);

struct reg_client {
	char *registry; /* as written in the reference: "docker.io" */
	char *host;	/* where the API lives: "registry-1.docker.io" */
	char *repo;
	char *name; /* registry/repo, for messages */
	char *base; /* "https://host" once pinged */
	bool pinged;
	bool plain_ok; /* may fall back to http */
	bool insecure; /* no TLS verification for host */
	char *cainfo, *capath;
	int parallel, retries;
	struct progress *progress;
	char *opt_creds;

	enum auth_kind auth;
	char *realm, *service;
	char **scopes;
	size_t nscopes;
	struct reg_creds creds;
	bool creds_loaded, have_creds;
	char *auth_header; /* "Authorization: ..." (secret) */
	int auth_gen;	   /* bumped whenever auth_header changes */
	double token_expiry;
	char *token_scopes; /* scopes the current token was asked for */

	CURLM *multi;	   /* registry traffic */
	CURLM *auth_multi; /* token requests, run while multi is paused */
	unsigned rng;
};

/* ---------------------------------------------------- one HTTP exchange */

enum body_kind { BODY_NONE, BODY_MEM, BODY_FD };

struct hreq;
/* Body sink for 2xx responses: return n to go on, anything else aborts
 * (set r->sink_failed and r->sink_err first). */
typedef size_t (*hreq_sink_fn)(struct hreq *r, const char *p, size_t n);

struct hreq {
	/* request */
	const char *method; /* static string */
	char *url0;	    /* as prepared; retries start here again */
	char *url;	    /* current (after redirects) */
	const char *what;   /* "get manifest latest", for messages */
	const char *accept, *content_type;
	char *range;	     /* "Range: bytes=N-" or "Content-Range: a-b" header line */
	bool is_auth;	     /* token endpoint: 401 is the caller's business */
	bool tls_probe;	     /* a TLS handshake failure ends it at once (scheme probe) */
	bool no_verify;	     /* scheme probe: does it speak TLS at all? (sends no secrets) */
	char *auth_override; /* full header line for token requests (secret); sent to
				the origin of url0 only */
	enum body_kind body;
	const unsigned char *mem;
	size_t mem_len;
	int fd;
	int64_t off, len, pos;
	/* sink for 2xx bodies: out (capped at out_max) or sink, else discarded */
	struct buf *out;
	size_t out_max;
	hreq_sink_fn sink;
	void *ctx;
	int prog_id;	    /* progress item or -1 */
	uint64_t prog_base; /* bytes done before this exchange */
	/* response */
	long status;
	char *location, *ctype, *digest, *www_auth, *retry_after, *rrange, *link;
	char *oci_subject; /* OCI-Subject: the registry indexed a referrer */
	int64_t clen, chunk_min;
	bool accept_ranges;
	struct buf errbody;
	bool errbody_full;
	bool sink_failed;
	struct err sink_err;
	bool sink_retry; /* the sink saw a transient problem (e.g. short body) */
	int cc;
	char errbuf[CURL_ERROR_SIZE];
	/* engine */
	CURL *h;
	struct curl_slist *hdrs;
	int redirects;
	int auth_gen;
	bool auth_tried;
	double started;
	struct job *job;
};

/* Set method/url/what; frees the previous url, clears body, sink and
 * response fields (but keeps the curl handle). url is copied. */
int hreq_prepare(struct hreq *r, const char *method, const char *url, const char *what,
		 struct err *e);
void hreq_free(struct hreq *r);
/* "registry NAME: WHAT: HTTP 404 MANIFEST_UNKNOWN: manifest unknown" */
int hreq_fail(struct reg_client *c, const struct hreq *r, struct err *e);

/* --------------------------------------------------------------- jobs */

enum { JOB_FAIL = -1, JOB_DONE = 0, JOB_SUBMIT = 1, JOB_RETRY = 2 };

/* A job is a sequence of exchanges (e.g. HEAD, POST, PUT). start (re)starts
 * it from the top and returns JOB_SUBMIT with r prepared, JOB_DONE (nothing
 * to do) or JOB_FAIL; NULL means "submit r as prepared". next sees every
 * final response (2xx, 4xx other than 401, 3xx without Location) and
 * returns JOB_DONE, JOB_SUBMIT (r prepared again), JOB_RETRY (transient:
 * back off and start again) or JOB_FAIL (err set). cleanup (may be NULL)
 * runs once at the end, whatever happened. */
struct job {
	int (*start)(struct job *j);
	int (*next)(struct job *j);
	void (*cleanup)(struct job *j);
	struct reg_client *c;
	struct hreq r;
	struct err err;
	int attempts;
	int state;
	double wake_at;
	double retry_hint;
	/* The last exchange was refused with 429: the registry did nothing, so
	 * the retry sends that exchange again instead of starting the job over
	 * (a blob upload would otherwise need HEAD, POST and PUT to all pass in
	 * one attempt, which a rate limiter refusing half the requests rarely
	 * allows). resends counts those in a row. */
	bool resend;
	int resends;
};

void job_init(struct job *j, struct reg_client *c);
/* Run jobs, at most parallel at once, on m (c->multi or c->auth_multi).
 * Stops at the first failure (copied into e) and aborts the rest. */
int http_run(struct reg_client *c, CURLM *m, struct job **jobs, size_t n, int parallel,
	     struct err *e);
/* One job whose r is prepared (next may be NULL: any final status ends it),
 * on c->multi: 0 once a final status is in j->r.status (the caller judges
 * it), -1 when retries ran out or the transport failed. */
int http_do(struct job *j, struct err *e);
int http_do_auth(struct job *j, struct err *e); /* on c->auth_multi, for token requests */
void job_free(struct job *j);

/* ---------------------------------------------------------------- auth */

/* Before a request to the registry: make sure a token is there when the
 * scheme is Bearer (fetching one if needed). */
int auth_ensure(struct reg_client *c, struct err *e);
/* A 401 came back with this WWW-Authenticate value: learn the scheme,
 * fetch credentials/token. -1 when nothing can be done. */
int auth_challenge(struct reg_client *c, const char *www_auth, struct err *e);
/* What /v2/ said: learn the scheme, realm and service, fetch nothing yet. */
int auth_learn_ping(struct reg_client *c, const char *www_auth, struct err *e);
/* Add a scope ("repository:x:pull"); returns 1 when it was new. */
int auth_add_scope(struct reg_client *c, const char *scope, struct err *e);
void auth_free(struct reg_client *c);

/* --------------------------------------------------------------- client */

/* Public calls start here: a stale http_status from an earlier failure
 * must not make a new, non-HTTP failure look like "not found". */
static inline void reg_err_begin(struct err *e)
{
	if (e)
		e->http_status = 0;
}

int client_ensure_ping(struct reg_client *c, struct err *e);
/* "https://host/v2/<repo>/<suffix>" into a malloc'd string. */
char *client_url(struct reg_client *c, struct err *e, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Ping, then prepare j->r (job_init'ed by the caller, who job_frees it)
 * for METHOD https://host/v2/<repo>/KIND/KEY (KIND "manifests", "blobs",
 * "referrers"), described in messages as what. */
int client_prepare(struct reg_client *c, struct job *j, const char *method, const char *kind,
		   const char *key, const char *what, struct err *e);
/* client_prepare and send it, taking accept (may be NULL) and the response
 * body into out (reset first; capped at max) unless out is NULL: 0 once a
 * final status is in j->r.status (the caller judges it). */
int client_fetch(struct reg_client *c, struct job *j, const char *method, const char *kind,
		 const char *key, const char *what, const char *accept, struct buf *out, size_t max,
		 struct err *e);
/* PUT the manifest p (n bytes, media_type) under key, a tag or a digest the
 * bytes must match, capped at BUF_CAP_MANIFEST: 0 when the registry took it
 * (its answer in j->r), -1 with e filled. */
int client_put_manifest(struct reg_client *c, struct job *j, const char *key, const void *p,
			size_t n, const char *media_type, const char *what, struct err *e);
/* Append "?k=v" or "&k=v" (v escaped) to a malloc'd url; frees the old one. */
char *url_add_query(char *url, const char *k, const char *v, struct err *e);

/* ---------------------------------------------- push.c, for bgpush.c */

/* A blob still being written to the file fd: wait blocks until the file
 * holds at least want bytes or the blob is complete, and sets *avail (the
 * bytes there now) and, once it is complete, digest (else digest[0] is 0);
 * -1 when the blob will never be complete. */
struct reg_growing {
	int fd;
	int (*wait)(void *ctx, int64_t want, int64_t *avail, char digest[OCI_DIGEST_MAX]);
	void *ctx;
};
/* Upload it as it grows: POST, a PATCH per chunk as soon as the chunk is
 * written, PUT ?digest= when it is complete. A retry starts a new session
 * from the first byte (the file keeps them). No HEAD: the digest comes last. */
int reg_push_growing(struct reg_client *c, const struct reg_growing *g, struct err *e);

#endif
