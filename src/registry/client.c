/* The registry client: open/close, ping, manifests, small blobs, tags. */
#include "registry/internal.h"

#include <ctype.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "core/fs.h"
#include "core/log.h"
#include "core/sha256.h"
#include "core/util.h"
#include "oci/digest.h"

#define DEFAULT_PARALLEL 4
#define MAX_PARALLEL 32
#define DEFAULT_RETRIES 5
#define TAGS_MAX_PAGES 1000

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void curl_init_once(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* ------------------------------------------------------------------ URLs */

char *client_url(struct reg_client *c, struct err *e, const char *fmt, ...)
{
	char suffix[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(suffix, sizeof(suffix), fmt, ap);
	va_end(ap);
	return xasprintf_e(e, "%s/v2/%s/%s", c->base, c->repo, suffix);
}

char *url_add_query(char *url, const char *k, const char *v, struct err *e)
{
	char *ev = curl_easy_escape(NULL, v, 0), *n = NULL;

	if (ev)
		n = xasprintf_e(e, "%s%c%s=%s", url, strchr(url, '?') ? '&' : '?', k, ev);
	else
		err_oom(e);
	curl_free(ev);
	free(url);
	return n;
}

/* ----------------------------------------------------------- open / close */

static bool host_listed(const char *const *list, const struct reg_client *c)
{
	for (; list && *list; list++) {
		const char *h = *list;
		size_t n;

		if (str_starts(h, "https://"))
			h += 8;
		else if (str_starts(h, "http://"))
			h += 7;
		n = strcspn(h, "/");
		if ((strlen(c->registry) == n && strncasecmp(h, c->registry, n) == 0) ||
		    (strlen(c->host) == n && strncasecmp(h, c->host, n) == 0))
			return true;
		/* "host" allows every port of host */
		if (!memchr(h, ':', n) && strncasecmp(h, c->host, n) == 0 && c->host[n] == ':')
			return true;
	}
	return false;
}

/* CA certificates: --cacert, SSL_CERT_FILE / SSL_CERT_DIR, curl's built-in
 * default when it exists, else the usual distribution paths (a static
 * binary's compiled-in default may point nowhere on the host). */
int reg_ca_pick(const char *cacert, char **cainfo, char **capath, struct err *e)
{
	static const char *const files[] = {
	    "/etc/ssl/certs/ca-certificates.crt", /* Debian, Ubuntu, Alpine (ca-certificates) */
	    "/etc/pki/tls/certs/ca-bundle.crt",	  /* RHEL, Fedora */
	    "/etc/ssl/cert.pem",		  /* Alpine, macOS */
	    "/etc/ssl/ca-bundle.pem",		  /* SUSE */
	    "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
	};
	const curl_version_info_data *vi;
	const char *f = getenv("SSL_CERT_FILE"), *d = getenv("SSL_CERT_DIR");

	if (cacert) {
		if (access(cacert, R_OK) < 0)
			return err_errno(e, ERR_USAGE, "--cacert %s", cacert);
		return (*cainfo = xstrdup_e(cacert, e)) ? 0 : -1;
	}
	if ((f && *f) || (d && *d)) {
		if (f && *f && !(*cainfo = xstrdup_e(f, e)))
			return -1;
		if (d && *d && !(*capath = xstrdup_e(d, e)))
			return -1;
		return 0;
	}
	vi = curl_version_info(CURLVERSION_NOW);
	if (vi->age >= CURLVERSION_SEVENTH && ((vi->cainfo && access(vi->cainfo, R_OK) == 0) ||
					       (vi->capath && access(vi->capath, R_OK) == 0)))
		return 0;
	for (size_t i = 0; i < ARRAY_SIZE(files); i++)
		if (access(files[i], R_OK) == 0)
			return (*cainfo = xstrdup_e(files[i], e)) ? 0 : -1;
	return 0;
}

int reg_open(struct reg_client **out, const struct oci_ref *ref, const struct reg_opts *o,
	     bool push, struct err *e)
{
	static const struct reg_opts defaults = {0};
	struct reg_client *c;
	char *scope = NULL;
	int rc;

	*out = NULL;
	if (!o)
		o = &defaults;
	if (!ref || !ref->registry || !ref->repository)
		return err_set(e, ERR_USAGE, "registry reference without registry or repository");
	if (o->creds && (!strchr(o->creds, ':') || o->creds[0] == ':'))
		return err_set(e, ERR_USAGE, "--creds must be USER:PASSWORD");
	pthread_once(&curl_once, curl_init_once);
	c = calloc(1, sizeof(*c));
	if (!c)
		return err_oom(e);
	c->registry = xstrdup_e(ref->registry, e);
	c->host = c->registry ? xstrdup_e(oci_ref_api_host(ref), e) : NULL;
	c->repo = c->host ? xstrdup_e(ref->repository, e) : NULL;
	c->name = c->repo ? xasprintf_e(e, "%s/%s", ref->registry, ref->repository) : NULL;
	c->opt_creds = o->creds && c->name ? xstrdup_e(o->creds, e) : NULL;
	if (!c->name || (o->creds && !c->opt_creds))
		goto fail;
	c->insecure = host_listed(o->insecure, c);
	c->plain_ok = c->insecure || http_host_is_loopback(c->host);
	if (reg_ca_pick(o->cacert, &c->cainfo, &c->capath, e) < 0)
		goto fail;
	c->parallel = o->parallel > 0 ? o->parallel : DEFAULT_PARALLEL;
	if (c->parallel > MAX_PARALLEL)
		c->parallel = MAX_PARALLEL;
	c->retries = o->retries == 0 ? DEFAULT_RETRIES : o->retries < 0 ? 0 : o->retries;
	if (c->retries > 64)
		c->retries = 64;
	c->progress = o->progress;
	c->rng = (unsigned)time(NULL) ^ ((unsigned)getpid() << 16) ^ 0x9e3779b9u;
	c->multi = curl_multi_init();
	c->auth_multi = curl_multi_init();
	if (!c->multi || !c->auth_multi) {
		err_set(e, ERR_INTERNAL, "curl_multi_init failed");
		goto fail;
	}
	curl_multi_setopt(c->multi, CURLMOPT_MAXCONNECTS, (long)(c->parallel * 2 + 2));
	scope = xasprintf_e(e, "repository:%s:%s", c->repo, push ? "pull,push" : "pull");
	if (!scope)
		goto fail;
	rc = auth_add_scope(c, scope, e);
	free(scope);
	if (rc < 0)
		goto fail;
	*out = c;
	return 0;
fail:
	reg_close(c);
	return -1;
}

void reg_close(struct reg_client *c)
{
	if (!c)
		return;
	auth_free(c);
	if (c->multi)
		curl_multi_cleanup(c->multi);
	if (c->auth_multi)
		curl_multi_cleanup(c->auth_multi);
	if (c->opt_creds) {
		explicit_bzero(c->opt_creds, strlen(c->opt_creds));
		free(c->opt_creds);
	}
	free(c->registry);
	free(c->host);
	free(c->repo);
	free(c->name);
	free(c->base);
	free(c->cainfo);
	free(c->capath);
	free(c);
}

const char *reg_name(const struct reg_client *c)
{
	return c->name;
}

/* ------------------------------------------------------------------ ping */

static int ping_once(struct reg_client *c, const char *scheme, bool probe, CURLcode *cc,
		     struct err *e)
{
	struct job j;
	char *url;
	int rc = -1;

	free(c->base);
	c->base = xasprintf_e(e, "%s://%s", scheme, c->host);
	if (!c->base)
		return -1;
	job_init(&j, c);
	url = xasprintf_e(e, "%s/v2/", c->base);
	if (!url || hreq_prepare(&j.r, "GET", url, "ping", e) < 0)
		goto out;
	/* 401 here only tells the scheme: the engine must not authenticate yet */
	j.r.is_auth = true;
	/* Probe: only "does it speak TLS?". Skipping verification spares loading
	 * the CA bundle (tens of ms) for plain-HTTP local registries; a TLS
	 * answer is pinged again with verification below. */
	j.r.tls_probe = j.r.no_verify = probe;
	rc = http_do(&j, e);
	*cc = (CURLcode)j.r.cc;
	if (rc < 0 || probe)
		goto out;
	if (j.r.status == 200) {
		c->auth = AUTH_NONE;
	} else if (j.r.status == 401 && j.r.www_auth) {
		rc = auth_learn_ping(c, j.r.www_auth, e);
	} else {
		rc = hreq_fail(c, &j.r, e);
		if (j.r.status == 404)
			err_prefix(e, "not a registry (no /v2/ API)");
	}
out:
	free(url);
	job_free(&j);
	return rc;
}

/* Scheme learnt per host, so a second client in the process (copy between
 * two repositories of one registry) does not probe again. */
#define SCHEME_CACHE 8
static pthread_mutex_t scheme_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
	char host[256];
	bool plain;
} scheme_cache[SCHEME_CACHE];
static unsigned scheme_next;

static int scheme_cached(const char *host)
{
	int r = -1;

	pthread_mutex_lock(&scheme_lock);
	for (int i = 0; i < SCHEME_CACHE; i++)
		if (strcmp(scheme_cache[i].host, host) == 0)
			r = scheme_cache[i].plain;
	pthread_mutex_unlock(&scheme_lock);
	return r;
}

static void scheme_remember(const char *host, bool plain)
{
	if (strlen(host) >= sizeof(scheme_cache[0].host) || scheme_cached(host) == (int)plain)
		return;
	pthread_mutex_lock(&scheme_lock);
	snprintf(scheme_cache[scheme_next].host, sizeof(scheme_cache[0].host), "%s", host);
	scheme_cache[scheme_next].plain = plain;
	scheme_next = (scheme_next + 1) % SCHEME_CACHE;
	pthread_mutex_unlock(&scheme_lock);
}

int reg_ping(struct reg_client *c, struct err *e)
{
	CURLcode cc = CURLE_OK;
	struct err e1 = ERR_INIT;
	bool plain = false;

	reg_err_begin(e);
	if (c->plain_ok) {
		int known = scheme_cached(c->host);

		if (known >= 0) {
			plain = known;
		} else if (ping_once(c, "https", true, &cc, &e1) < 0) {
			if (cc != CURLE_SSL_CONNECT_ERROR && cc != CURLE_OPERATION_TIMEDOUT) {
				if (e)
					*e = e1;
				return -1;
			}
			log_debug("registry %s: no TLS (%s); using plain HTTP", c->registry,
				  e1.msg);
			plain = true;
		}
	}
	if (ping_once(c, plain ? "http" : "https", false, &cc, e) < 0) {
		if (!plain && !c->plain_ok && cc == CURLE_SSL_CONNECT_ERROR && e) {
			size_t n = strlen(e->msg);

			snprintf(e->msg + n, sizeof(e->msg) - n,
				 " (if it serves plain HTTP, allow it with --insecure-registry %s)",
				 c->registry);
		}
		return -1;
	}
	if (c->plain_ok)
		scheme_remember(c->host, plain);
	c->pinged = true;
	log_debug("registry %s: %s, auth %s", c->registry, c->base,
		  c->auth == AUTH_NONE	  ? "none"
		  : c->auth == AUTH_BASIC ? "basic"
					  : "bearer");
	return 0;
}

int client_ensure_ping(struct reg_client *c, struct err *e)
{
	return c->pinged ? 0 : reg_ping(c, e);
}

/* ------------------------------------------------------------- manifests */

static bool key_is_digest(const char *key)
{
	return strchr(key, ':') != NULL;
}

static int check_key(struct reg_client *c, const char *key, struct err *e)
{
	if (!key || !*key)
		return err_set(e, ERR_USAGE, "registry %s: empty tag or digest", c->name);
	if (key_is_digest(key))
		return oci_digest_check(key, "manifest digest", e);
	for (const char *p = key; *p; p++)
		if (!(isalnum((unsigned char)*p) || *p == '_' || *p == '.' || *p == '-'))
			return err_set(e, ERR_USAGE, "registry %s: invalid tag \"%.128s\"", c->name,
				       key);
	return 0;
}

int client_prepare(struct reg_client *c, struct job *j, const char *method, const char *kind,
		   const char *key, const char *what, struct err *e)
{
	char *url;
	int rc;

	if (client_ensure_ping(c, e) < 0 || !(url = client_url(c, e, "%s/%s", kind, key)))
		return -1;
	rc = hreq_prepare(&j->r, method, url, what, e);
	free(url);
	return rc;
}

int client_fetch(struct reg_client *c, struct job *j, const char *method, const char *kind,
		 const char *key, const char *what, const char *accept, struct buf *out, size_t max,
		 struct err *e)
{
	if (client_prepare(c, j, method, kind, key, what, e) < 0)
		return -1;
	j->r.accept = accept;
	if (out) {
		buf_reset(out);
		j->r.out = out;
		j->r.out_max = max;
	}
	return http_do(j, e);
}

int client_put_manifest(struct reg_client *c, struct job *j, const char *key, const void *p,
			size_t n, const char *media_type, const char *what, struct err *e)
{
	if (n > BUF_CAP_MANIFEST)
		return err_set(e, ERR_INPUT, "registry %s: %s: manifest exceeds %u bytes", c->name,
			       what, BUF_CAP_MANIFEST);
	if (key_is_digest(key) && oci_digest_verify(key, p, n, e) < 0)
		return err_prefix(e, "registry %s: %s", c->name, what);
	if (client_prepare(c, j, "PUT", "manifests", key, what, e) < 0)
		return -1;
	j->r.body = BODY_MEM;
	j->r.mem = p;
	j->r.mem_len = n;
	j->r.len = (int64_t)n;
	j->r.content_type = media_type;
	if (http_do(j, e) < 0)
		return -1;
	if (j->r.status != 201 && j->r.status != 200 && j->r.status != 202)
		return hreq_fail(c, &j->r, e);
	return 0;
}

static char *mt_clean(const char *ct)
{
	size_t n;

	if (!ct)
		return NULL;
	n = strcspn(ct, "; ");
	return n ? strndup(ct, n) : NULL;
}

int reg_get_manifest(struct reg_client *c, const char *key, struct buf *out, char **media_type,
		     char **digest, struct err *e)
{
	struct job j;
	char what[160], computed[72], *mt = NULL, *dg = NULL;
	int rc = -1;

	reg_err_begin(e);
	if (media_type)
		*media_type = NULL;
	if (digest)
		*digest = NULL;
	job_init(&j, c);
	snprintf(what, sizeof(what), "get manifest %s:%.100s", c->repo, key ? key : "");
	if (check_key(c, key, e) < 0 ||
	    client_fetch(c, &j, "GET", "manifests", key, what, MT_ACCEPT_MANIFESTS, out,
			 BUF_CAP_MANIFEST, e) < 0)
		goto out;
	if (j.r.status != 200) {
		hreq_fail(c, &j.r, e);
		goto out;
	}
	sha256_digest_str(out->data, out->len, computed);
	if (key_is_digest(key)) {
		if (oci_digest_verify(key, out->data, out->len, e) < 0) {
			err_prefix(e, "registry %s: manifest %s", c->name, key);
			goto out;
		}
		dg = xstrdup_e(key, e);
	} else if (j.r.digest && oci_digest_valid(j.r.digest)) {
		if (oci_digest_verify(j.r.digest, out->data, out->len, e) < 0) {
			err_prefix(e, "registry %s: manifest %s (Docker-Content-Digest)", c->name,
				   key);
			goto out;
		}
		dg = xstrdup_e(j.r.digest, e);
	} else {
		dg = xstrdup_e(computed, e);
	}
	if (!dg)
		goto out;
	mt = mt_clean(j.r.ctype);
	if (!mt || (!oci_mt_is_index(mt) && !oci_mt_is_manifest(mt) &&
		    !str_starts(mt, "application/vnd."))) {
		/* application/json or nothing: the body says what it is */
		cJSON *js = cJSON_ParseWithLength(out->data, out->len);
		cJSON *m = js ? cJSON_GetObjectItemCaseSensitive(js, "mediaType") : NULL;

		if (cJSON_IsString(m)) {
			free(mt);
			mt = strdup(m->valuestring);
		}
		cJSON_Delete(js);
	}
	if (media_type) {
		*media_type = mt;
		mt = NULL;
	}
	if (digest) {
		*digest = dg;
		dg = NULL;
	}
	rc = 0;
out:
	free(mt);
	free(dg);
	job_free(&j);
	return rc;
}

int reg_head_manifest(struct reg_client *c, const char *key, char **digest, char **media_type,
		      int64_t *size, struct err *e)
{
	struct job j;
	char what[160];
	int rc = -1;

	reg_err_begin(e);
	if (digest)
		*digest = NULL;
	if (media_type)
		*media_type = NULL;
	if (size)
		*size = -1;
	job_init(&j, c);
	snprintf(what, sizeof(what), "check manifest %s:%.100s", c->repo, key ? key : "");
	if (check_key(c, key, e) < 0 ||
	    client_fetch(c, &j, "HEAD", "manifests", key, what, MT_ACCEPT_MANIFESTS, NULL, 0, e) < 0)
		goto out;
	if (j.r.status != 200) {
		hreq_fail(c, &j.r, e);
		goto out;
	}
	if (j.r.digest && !oci_digest_valid(j.r.digest)) {
		err_set(e, ERR_INPUT, "registry %s: %s: invalid Docker-Content-Digest", c->name,
			what);
		goto out;
	}
	if (digest) {
		if (j.r.digest)
			*digest = xstrdup_e(j.r.digest, e);
		else if (key_is_digest(key))
			*digest = xstrdup_e(key, e);
	}
	if (media_type)
		*media_type = mt_clean(j.r.ctype);
	if (size)
		*size = j.r.clen;
	rc = 0;
out:
	job_free(&j);
	return rc;
}

int reg_put_manifest(struct reg_client *c, const char *key, const void *p, size_t n,
		     const char *media_type, struct err *e)
{
	struct job j;
	char what[160], computed[72];
	int rc = -1;

	reg_err_begin(e);
	job_init(&j, c);
	snprintf(what, sizeof(what), "put manifest %s:%.100s", c->repo, key ? key : "");
	if (check_key(c, key, e) == 0 &&
	    client_put_manifest(c, &j, key, p, n, media_type ? media_type : MT_OCI_MANIFEST, what,
				e) == 0) {
		sha256_digest_str(p, n, computed);
		if (j.r.digest && strcmp(j.r.digest, computed) != 0)
			log_warn("registry %s: stored manifest as %s, expected %s", c->name,
				 j.r.digest, computed);
		rc = 0;
	}
	job_free(&j);
	return rc;
}

/* ----------------------------------------------------------- small blobs */

int reg_get_blob_buf(struct reg_client *c, const struct oci_desc *d, struct buf *out, size_t max,
		     struct err *e)
{
	struct job j;
	char what[128], sd[20];
	int rc = -1;

	reg_err_begin(e);
	if (!max)
		max = BUF_CAP_MANIFEST;
	job_init(&j, c);
	if (oci_digest_check(d->digest, "blob digest", e) < 0)
		goto out;
	oci_digest_short(d->digest, sd);
	snprintf(what, sizeof(what), "get blob %s", sd);
	if (d->size > (int64_t)max) {
		err_set(e, ERR_INPUT, "registry %s: %s: size %lld exceeds %zu bytes", c->name, what,
			(long long)d->size, max);
		goto out;
	}
	/* a blob longer than its descriptor is cut off at the first byte over */
	if (client_fetch(c, &j, "GET", "blobs", d->digest, what, NULL, out,
			 d->size > 0 ? (size_t)d->size : max, e) < 0) {
		if (d->size > 0 && j.r.sink_failed && j.r.sink_err.code == ERR_INPUT)
			err_set(e, ERR_INPUT,
				"registry %s: %s: blob is larger than its descriptor says (%lld bytes)",
				c->name, what, (long long)d->size);
		goto out;
	}
	if (j.r.status != 200) {
		hreq_fail(c, &j.r, e);
		goto out;
	}
	if (d->size >= 0 && (int64_t)out->len != d->size) {
		err_set(e, ERR_INPUT, "registry %s: %s: got %zu bytes, descriptor says %lld",
			c->name, what, out->len, (long long)d->size);
		goto out;
	}
	if (oci_digest_verify(d->digest, out->data, out->len, e) < 0) {
		err_prefix(e, "registry %s: %s", c->name, what);
		goto out;
	}
	rc = 0;
out:
	job_free(&j);
	return rc;
}

/* ------------------------------------------------------------------ tags */

void reg_free_tags(char **tags, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(tags[i]);
	free(tags);
}

int reg_list_tags(struct reg_client *c, char ***tags, size_t *n, struct err *e)
{
	struct job j;
	struct buf b = BUF_INIT;
	char *url = NULL, what[160], **v = NULL;
	size_t cnt = 0, cap = 0;
	int rc = -1;

	reg_err_begin(e);
	*tags = NULL;
	*n = 0;
	job_init(&j, c);
	snprintf(what, sizeof(what), "list tags of %s", c->repo);
	buf_init(&b, BUF_CAP_MANIFEST);
	if (client_ensure_ping(c, e) < 0 || !(url = client_url(c, e, "tags/list?n=1000")))
		goto out;
	for (int page = 0; url; page++) {
		cJSON *js, *arr, *it;
		char *next;

		if (page >= TAGS_MAX_PAGES) {
			err_set(e, ERR_INPUT, "registry %s: %s: more than %d pages", c->name, what,
				TAGS_MAX_PAGES);
			goto out;
		}
		if (hreq_prepare(&j.r, "GET", url, what, e) < 0)
			goto out;
		buf_reset(&b);
		j.r.out = &b;
		j.r.out_max = BUF_CAP_MANIFEST;
		j.r.accept = "application/json";
		if (http_do(&j, e) < 0)
			goto out;
		if (j.r.status != 200) {
			hreq_fail(c, &j.r, e);
			goto out;
		}
		js = cJSON_ParseWithLength(b.data, b.len);
		if (!cJSON_IsObject(js)) {
			cJSON_Delete(js);
			err_json(e, b.data, b.len, "registry %s: %s", c->name, what);
			goto out;
		}
		arr = cJSON_GetObjectItemCaseSensitive(js, "tags");
		if (!cJSON_IsArray(arr))
			arr = NULL;
		cJSON_ArrayForEach(it, arr)
		{
			if (!cJSON_IsString(it))
				continue;
			if (cnt == cap) {
				char **nv;

				cap = cap ? cap * 2 : 64;
				nv = realloc(v, cap * sizeof(*nv));
				if (!nv) {
					cJSON_Delete(js);
					err_oom(e);
					goto out;
				}
				v = nv;
			}
			if (!(v[cnt] = xstrdup_e(it->valuestring, e))) {
				cJSON_Delete(js);
				goto out;
			}
			cnt++;
		}
		cJSON_Delete(js);
		next = j.r.link ? http_link_next(j.r.link) : NULL;
		free(url);
		url = next ? http_resolve(j.r.url, next) : NULL;
		free(next);
	}
	*tags = v;
	*n = cnt;
	v = NULL;
	rc = 0;
out:
	if (v)
		reg_free_tags(v, cnt);
	buf_free(&b);
	free(url);
	job_free(&j);
	return rc;
}
