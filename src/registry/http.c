/* HTTP for the registry client: one exchange (struct hreq) on a curl easy
 * handle, and the engine that runs jobs (sequences of exchanges) on a curl
 * multi handle with redirects, 401 re-authentication and retries (the header
 * and URL helpers are http_parse.c). */
#include "registry/internal.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "core/log.h"
#include "core/util.h"
#include "core/version.h"

#define XFER_BUFSIZE (512 * 1024)
#define MAX_REDIRECTS 10
#define RETRY_AFTER_CAP 60.0
#define BACKOFF_BASE 0.5
#define BACKOFF_CAP 8.0
#define HEADER_VALUE_MAX 8192

/* --------------------------------------------------------- one exchange */

static void resp_reset(struct hreq *r)
{
	r->status = 0;
	free(r->location);
	free(r->ctype);
	free(r->digest);
	free(r->www_auth);
	free(r->retry_after);
	free(r->rrange);
	free(r->link);
	free(r->oci_subject);
	r->oci_subject = NULL;
	r->location = r->ctype = r->digest = r->www_auth = r->retry_after = r->rrange = r->link =
	    NULL;
	r->clen = -1;
	r->chunk_min = 0;
	r->accept_ranges = false;
	buf_free(&r->errbody);
	buf_init(&r->errbody, BUF_CAP_ERRBODY);
	r->errbody_full = false;
	r->sink_failed = false;
	r->sink_retry = false;
	err_clear(&r->sink_err);
	r->cc = 0;
	r->errbuf[0] = 0;
}

int hreq_prepare(struct hreq *r, const char *method, const char *url, const char *what,
		 struct err *e)
{
	char *u0 = xstrdup_e(url, e), *u = u0 ? xstrdup_e(url, e) : NULL;

	if (!u) {
		free(u0);
		return -1;
	}
	free(r->url0);
	free(r->url);
	r->url0 = u0;
	r->url = u;
	r->method = method;
	r->what = what;
	r->accept = r->content_type = NULL;
	free(r->range);
	r->range = NULL;
	r->body = BODY_NONE;
	r->mem = NULL;
	r->mem_len = 0;
	r->fd = -1;
	r->off = r->len = r->pos = 0;
	r->out = NULL;
	r->out_max = 0;
	r->sink = NULL;
	r->redirects = 0;
	r->auth_tried = false;
	resp_reset(r);
	return 0;
}

void hreq_free(struct hreq *r)
{
	resp_reset(r);
	buf_free(&r->errbody);
	free(r->url0);
	free(r->url);
	free(r->range);
	if (r->auth_override) {
		explicit_bzero(r->auth_override, strlen(r->auth_override));
		free(r->auth_override);
	}
	r->url0 = r->url = r->range = r->auth_override = NULL;
	if (r->h)
		curl_easy_cleanup(r->h);
	r->h = NULL;
	curl_slist_free_all(r->hdrs);
	r->hdrs = NULL;
}

/* Printable, single line, bounded: registry text goes into our messages. */
static void clean_text(char *dst, size_t cap, const char *src)
{
	size_t n = 0;

	for (; src && *src && n + 1 < cap; src++)
		dst[n++] = (unsigned char)*src < 0x20 || *src == 0x7f ? ' ' : *src;
	dst[n] = 0;
}

int hreq_fail(struct reg_client *c, const struct hreq *r, struct err *e)
{
	char code[64] = "", msg[256] = "";
	cJSON *j = NULL, *errs, *first, *x;

	if (r->errbody.len && r->ctype && strstr(r->ctype, "json"))
		j = cJSON_ParseWithLength(r->errbody.data, r->errbody.len);
	else if (r->errbody.len && r->errbody.data[0] == '{')
		j = cJSON_ParseWithLength(r->errbody.data, r->errbody.len);
	errs = j ? cJSON_GetObjectItemCaseSensitive(j, "errors") : NULL;
	first = cJSON_IsArray(errs) ? cJSON_GetArrayItem(errs, 0) : NULL;
	if (first) {
		x = cJSON_GetObjectItemCaseSensitive(first, "code");
		if (cJSON_IsString(x))
			clean_text(code, sizeof(code), x->valuestring);
		x = cJSON_GetObjectItemCaseSensitive(first, "message");
		if (cJSON_IsString(x))
			clean_text(msg, sizeof(msg), x->valuestring);
	}
	cJSON_Delete(j);
	err_set(e, ERR_NETWORK, "registry %s: %s: HTTP %ld%s%s%s%s", c->registry, r->what,
		r->status, code[0] ? " " : "", code, msg[0] ? ": " : "", msg);
	if (e)
		e->http_status = (int)r->status;
	return -1;
}

/* ---------------------------------------------------------- callbacks */

static char *hdr_dup(const char *p, size_t n)
{
	while (n && (p[n - 1] == '\r' || p[n - 1] == '\n' || p[n - 1] == ' ' || p[n - 1] == '\t'))
		n--;
	while (n && (*p == ' ' || *p == '\t'))
		p++, n--;
	return n <= HEADER_VALUE_MAX ? strndup(p, n) : NULL;
}

static void hdr_set(char **slot, const char *p, size_t n)
{
	free(*slot);
	*slot = hdr_dup(p, n);
}

static size_t on_header(char *p, size_t sz, size_t nm, void *ud)
{
	struct hreq *r = ud;
	size_t n = sz * nm, klen;
	const char *colon, *v;
	size_t vlen;

	if (n >= 5 && memcmp(p, "HTTP/", 5) == 0) {
		const char *sp = memchr(p, ' ', n);

		resp_reset(r);
		r->status = sp ? strtol(sp + 1, NULL, 10) : 0;
		return n;
	}
	colon = memchr(p, ':', n);
	if (!colon)
		return n;
	klen = (size_t)(colon - p);
	v = colon + 1;
	vlen = n - klen - 1;
#define IS(name) (klen == sizeof(name) - 1 && strncasecmp(p, name, klen) == 0)
	if (IS("location")) {
		hdr_set(&r->location, v, vlen);
	} else if (IS("content-type")) {
		hdr_set(&r->ctype, v, vlen);
	} else if (IS("docker-content-digest")) {
		hdr_set(&r->digest, v, vlen);
	} else if (IS("www-authenticate")) {
		char *val = hdr_dup(v, vlen), *joined;

		if (val && r->www_auth) {
			joined = NULL;
			if (asprintf(&joined, "%s, %s", r->www_auth, val) < 0)
				joined = NULL;
			free(val);
			val = joined;
		}
		if (val) {
			free(r->www_auth);
			r->www_auth = val;
		}
	} else if (IS("retry-after")) {
		hdr_set(&r->retry_after, v, vlen);
	} else if (IS("range")) {
		hdr_set(&r->rrange, v, vlen);
	} else if (IS("link")) {
		hdr_set(&r->link, v, vlen);
	} else if (IS("oci-subject")) {
		hdr_set(&r->oci_subject, v, vlen);
	} else if (IS("content-length")) {
		char *s = hdr_dup(v, vlen);

		r->clen = s ? strtoll(s, NULL, 10) : -1;
		free(s);
	} else if (IS("oci-chunk-min-length")) {
		char *s = hdr_dup(v, vlen);

		r->chunk_min = s ? strtoll(s, NULL, 10) : 0;
		free(s);
	} else if (IS("accept-ranges")) {
		char *s = hdr_dup(v, vlen);

		r->accept_ranges = s && strcasecmp(s, "bytes") == 0;
		free(s);
	}
#undef IS
	return n;
}

static size_t on_write(char *p, size_t sz, size_t nm, void *ud)
{
	struct hreq *r = ud;
	size_t n = sz * nm;

	if (r->status < 200 || r->status > 299) {
		/* Error and redirect bodies: keep the start, stop reading at the cap. */
		if (r->errbody.len + n > BUF_CAP_ERRBODY) {
			r->errbody_full = true;
			return 0;
		}
		if (buf_add(&r->errbody, p, n, NULL) < 0)
			return 0;
		return n;
	}
	if (r->sink)
		return r->sink(r, p, n);
	if (r->out) {
		size_t max = r->out_max ? r->out_max : BUF_CAP_MANIFEST;
		const char *reg = r->job && r->job->c ? r->job->c->registry : "?";

		/* A body announced over the cap is refused before any of it is kept;
		 * one without a length (or lying about it) is cut at the cap. */
		if (r->out->len == 0 && r->clen > (int64_t)max) {
			r->sink_failed = true;
			err_set(&r->sink_err, ERR_INPUT,
				"registry %s: %s: response of %lld bytes exceeds the %zu-byte limit",
				reg, r->what, (long long)r->clen, max);
			return 0;
		}
		if (r->out->len + n > max) {
			r->sink_failed = true;
			err_set(&r->sink_err, ERR_INPUT,
				"registry %s: %s: response exceeds the %zu-byte limit", reg, r->what,
				max);
			return 0;
		}
		if (buf_add(r->out, p, n, &r->sink_err) < 0) {
			r->sink_failed = true;
			return 0;
		}
	}
	return n;
}

static size_t on_read(char *p, size_t sz, size_t nm, void *ud)
{
	struct hreq *r = ud;
	size_t want = sz * nm;
	int64_t left = r->len - r->pos;
	ssize_t got;

	if (left <= 0)
		return 0;
	if ((int64_t)want > left)
		want = (size_t)left;
	if (r->body == BODY_MEM) {
		memcpy(p, r->mem + r->pos, want);
		got = (ssize_t)want;
	} else {
		do
			got = pread(r->fd, p, want, (off_t)(r->off + r->pos));
		while (got < 0 && errno == EINTR);
		if (got <= 0) {
			r->sink_failed = true;
			if (got < 0)
				err_errno(&r->sink_err, ERR_INTERNAL, "%s: read", r->what);
			else
				err_set(&r->sink_err, ERR_INPUT, "%s: file shrank while uploading",
					r->what);
			return CURL_READFUNC_ABORT;
		}
	}
	r->pos += got;
	if (r->prog_id >= 0 && r->job && r->job->c->progress)
		progress_update(r->job->c->progress, r->prog_id, r->prog_base + (uint64_t)r->pos);
	return (size_t)got;
}

static int on_seek(void *ud, curl_off_t off, int origin)
{
	struct hreq *r = ud;

	if (origin != SEEK_SET || off < 0 || off > r->len)
		return CURL_SEEKFUNC_CANTSEEK;
	r->pos = off;
	return CURL_SEEKFUNC_OK;
}

static int add_header(struct hreq *r, const char *line, struct err *e)
{
	struct curl_slist *l = curl_slist_append(r->hdrs, line);

	if (!l)
		return err_oom(e);
	r->hdrs = l;
	return 0;
}

static int add_headerf(struct hreq *r, struct err *e, const char *name, const char *value)
{
	char line[1024];

	snprintf(line, sizeof(line), "%s: %s", name, value);
	return add_header(r, line, e);
}

static int setup(struct reg_client *c, struct hreq *r, struct err *e)
{
	CURL *h = r->h;
	bool to_registry = c->base && http_same_origin(r->url, c->base);
	const char *auth = NULL;

	if (!h) {
		h = r->h = curl_easy_init();
		if (!h)
			return err_set(e, ERR_INTERNAL, "curl_easy_init failed");
	} else {
		curl_easy_reset(h);
	}
	curl_slist_free_all(r->hdrs);
	r->hdrs = NULL;
	r->pos = 0;

	if (r->auth_override) {
		if (http_same_origin(r->url, r->url0))
			auth = r->auth_override;
	} else if (!r->is_auth && to_registry && c->auth_header) {
		auth = c->auth_header;
	}
	if ((r->accept && add_headerf(r, e, "Accept", r->accept) < 0) ||
	    (r->content_type && add_headerf(r, e, "Content-Type", r->content_type) < 0) ||
	    (r->range && add_header(r, r->range, e) < 0) || add_header(r, "Expect:", e) < 0 ||
	    (auth && add_header(r, auth, e) < 0))
		return -1;

	curl_easy_setopt(h, CURLOPT_URL, r->url);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, r->hdrs);
	{
		char ua[96];

		snprintf(ua, sizeof(ua), "bosun/%s", bosun_version); /* curl copies it */
		curl_easy_setopt(h, CURLOPT_USERAGENT, ua);
	}
	curl_easy_setopt(h, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 30L);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, 300L);
	curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(h, CURLOPT_BUFFERSIZE, (long)XFER_BUFSIZE);
	curl_easy_setopt(h, CURLOPT_UPLOAD_BUFFERSIZE, (long)XFER_BUFSIZE);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, r->errbuf);
	curl_easy_setopt(h, CURLOPT_PRIVATE, r);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_write);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, r);
	if (c->cainfo)
		curl_easy_setopt(h, CURLOPT_CAINFO, c->cainfo);
	if (c->capath)
		curl_easy_setopt(h, CURLOPT_CAPATH, c->capath);
	if (r->tls_probe)
		/* a plain-HTTP server may sit silent on a TLS hello */
		curl_easy_setopt(h, CURLOPT_TIMEOUT, 10L);
	if (r->no_verify || (c->insecure && to_registry)) {
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
	}

	if (strcmp(r->method, "HEAD") == 0) {
		curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
	} else if (strcmp(r->method, "GET") == 0) {
		curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
	} else {
		/* Every other method uploads r's body (possibly empty) with a known length. */
		if (r->body == BODY_NONE)
			r->len = 0;
		curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, r->method);
		curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)r->len);
		curl_easy_setopt(h, CURLOPT_READFUNCTION, on_read);
		curl_easy_setopt(h, CURLOPT_READDATA, r);
		curl_easy_setopt(h, CURLOPT_SEEKFUNCTION, on_seek);
		curl_easy_setopt(h, CURLOPT_SEEKDATA, r);
	}
	return 0;
}

/* --------------------------------------------------------------- engine */

enum { JS_PENDING, JS_ACTIVE, JS_WORK, JS_SLEEP, JS_DONE };

struct run {
	struct reg_client *c;
	CURLM *m;
	int active; /* begun and not done */
	bool failed;
	struct err *e;
};

void job_init(struct job *j, struct reg_client *c)
{
	memset(j, 0, sizeof(*j));
	j->c = c;
	j->r.fd = -1;
	j->r.prog_id = -1;
	j->r.job = j;
	buf_init(&j->r.errbody, BUF_CAP_ERRBODY);
}

void job_free(struct job *j)
{
	hreq_free(&j->r);
}

static void url_for_log(const char *url, char *out, size_t cap)
{
	size_t n = strcspn(url, "?");

	snprintf(out, cap, "%.*s%s", (int)n, url, url[n] ? "?..." : "");
}

static bool cc_retryable(CURLcode cc)
{
	switch (cc) {
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_CONNECT:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_PARTIAL_FILE:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_WEIRD_SERVER_REPLY:
		return true;
	default:
		return false;
	}
}

static bool status_retryable(long st)
{
	return st == 408 || st == 429 || (st >= 500 && st <= 599 && st != 501 && st != 505);
}

static double backoff(struct reg_client *c, int attempt)
{
	double d = BACKOFF_BASE;

	for (int i = 1; i < attempt && d < BACKOFF_CAP; i++)
		d *= 2;
	if (d > BACKOFF_CAP)
		d = BACKOFF_CAP;
	/* xorshift jitter, +-25 %, so parallel jobs do not retry in lock step */
	c->rng ^= c->rng << 13;
	c->rng ^= c->rng >> 17;
	c->rng ^= c->rng << 5;
	return d * (0.75 + 0.5 * (double)(c->rng % 1000) / 1000.0) * backoff_scale();
}

static void job_failed(struct run *run, struct job *j)
{
	if (!j->err.msg[0])
		err_set(&j->err, ERR_INTERNAL, "registry %s: %s failed", run->c->registry,
			j->r.what ? j->r.what : "request");
	if (!j->err.code)
		j->err.code = ERR_INTERNAL;
	if (!run->failed && run->e)
		*run->e = j->err;
	run->failed = true;
	j->state = JS_DONE;
	run->active--;
}

/* At trace level (-v -v) the request line and the headers bosun adds; the
 * Authorization value is never shown, only its scheme. */
static void trace_request(const struct hreq *r)
{
	char lu[256];

	if (log_get_level() < LOG_TRACE)
		return;
	url_for_log(r->url, lu, sizeof(lu));
	log_trace("> %s %s", r->method, lu);
	for (const struct curl_slist *l = r->hdrs; l; l = l->next) {
		const char *h = l->data, *v;
		size_t n;

		if (strncasecmp(h, "Authorization:", 14) != 0) {
			if (h[0] && h[strlen(h) - 1] != ':') /* "Expect:" only removes a header */
				log_trace("> %s", h);
			continue;
		}
		v = h + 14;
		while (*v == ' ')
			v++;
		n = strcspn(v, " ");
		if (v[n] == ' ' && n <= 16)
			log_trace("> Authorization: %.*s <redacted>", (int)n, v);
		else
			log_trace("> Authorization: <redacted>");
	}
}

static int submit(struct run *run, struct job *j)
{
	struct reg_client *c = run->c;
	struct hreq *r = &j->r;
	CURLMcode mc;

	r->job = j;
	if (!r->is_auth && c->base && http_same_origin(r->url, c->base) &&
	    auth_ensure(c, &j->err) < 0)
		return -1;
	r->auth_gen = c->auth_gen;
	resp_reset(r);
	if (r->out)
		buf_reset(r->out); /* a retried exchange starts its body over */
	if (setup(c, r, &j->err) < 0)
		return -1;
	trace_request(r);
	r->started = time_now();
	mc = curl_multi_add_handle(run->m, r->h);
	if (mc != CURLM_OK)
		return err_set(&j->err, ERR_INTERNAL, "curl_multi_add_handle: %s",
			       curl_multi_strerror(mc));
	j->state = JS_ACTIVE;
	return 0;
}

static void job_retry(struct run *run, struct job *j);

static void dispatch(struct run *run, struct job *j, int rc)
{
	switch (rc) {
	case JOB_SUBMIT:
		if (submit(run, j) < 0)
			job_failed(run, j);
		break;
	case JOB_DONE:
		j->state = JS_DONE;
		run->active--;
		break;
	case JOB_RETRY:
		job_retry(run, j);
		break;
	default:
		job_failed(run, j);
		break;
	}
}

/* Start (or restart after a retry) a job from its first exchange. */
static void job_begin(struct run *run, struct job *j)
{
	struct hreq *r = &j->r;

	j->state = JS_WORK;
	if (j->resend) {
		j->resend = false;
		dispatch(run, j, JOB_SUBMIT);
		return;
	}
	if (j->start) {
		dispatch(run, j, j->start(j));
		return;
	}
	if (r->url0 && strcmp(r->url, r->url0) != 0) {
		char *u = strdup(r->url0);

		if (!u) {
			err_oom(&j->err);
			job_failed(run, j);
			return;
		}
		free(r->url);
		r->url = u;
	}
	r->redirects = 0;
	r->auth_tried = false;
	dispatch(run, j, JOB_SUBMIT);
}

static void job_retry(struct run *run, struct job *j)
{
	struct reg_client *c = run->c;
	double d;

	if (!j->err.msg[0])
		err_set(&j->err, ERR_NETWORK, "registry %s: %s: transient failure", c->registry,
			j->r.what ? j->r.what : "request");
	/* A refused exchange (429) has its own count, so a job of several
	 * exchanges gets the retries per request that --retries promises. */
	int *tries = j->resend ? &j->resends : &j->attempts;

	if (!j->resend)
		j->resends = 0;
	if (*tries >= c->retries) {
		size_t n = strlen(j->err.msg);

		if (c->retries > 0)
			snprintf(j->err.msg + n, sizeof(j->err.msg) - n, " (gave up after %d %s)",
				 c->retries, c->retries == 1 ? "retry" : "retries");
		job_failed(run, j);
		return;
	}
	(*tries)++;
	d = backoff(c, *tries);
	if (j->retry_hint > 0)
		d = j->retry_hint > RETRY_AFTER_CAP ? RETRY_AFTER_CAP : j->retry_hint;
	j->retry_hint = 0;
	log_debug("%s; retry %d/%d in %.1f s", j->err.msg, *tries, c->retries, d);
	err_clear(&j->err);
	j->state = JS_SLEEP;
	j->wake_at = time_now() + d;
}

static void on_complete(struct run *run, struct job *j, CURLcode cc)
{
	struct reg_client *c = run->c;
	struct hreq *r = &j->r;
	char lu[256];
	long st;

	curl_multi_remove_handle(run->m, r->h);
	j->state = JS_WORK;
	j->resend = false;
	r->cc = cc;
	url_for_log(r->url, lu, sizeof(lu));
	if (cc == CURLE_OK || (cc == CURLE_WRITE_ERROR && r->errbody_full))
		log_debug("%s %s -> %ld (%.3f s)", r->method, lu, r->status,
			  time_now() - r->started);
	else
		log_debug("%s %s -> curl error %d (%s)", r->method, lu, (int)cc,
			  r->errbuf[0] ? r->errbuf : curl_easy_strerror(cc));
	if (r->www_auth && log_get_level() >= LOG_TRACE) {
		char wa[512];

		clean_text(wa, sizeof(wa), r->www_auth);
		log_trace("< WWW-Authenticate: %s", wa);
	}

	if (r->sink_failed) {
		j->err = r->sink_err;
		dispatch(run, j, r->sink_retry ? JOB_RETRY : JOB_FAIL);
		return;
	}
	if (cc == CURLE_WRITE_ERROR && r->errbody_full)
		cc = CURLE_OK;
	if (cc == CURLE_OUT_OF_MEMORY && r->status && !r->errbuf[0]) {
		/* what curl reports for a header line over its 100 KiB limit */
		err_set(&j->err, ERR_NETWORK,
			"registry %s: %s: response header too large (or out of memory)", c->registry,
			r->what);
		dispatch(run, j, JOB_FAIL);
		return;
	}
	if (cc != CURLE_OK) {
		err_curl(&j->err, cc, r->errbuf, "registry %s: %s", c->registry, r->what);
		if (cc == CURLE_PEER_FAILED_VERIFICATION) {
			size_t n = strlen(j->err.msg);

			snprintf(j->err.msg + n, sizeof(j->err.msg) - n,
				 " (trust its CA with --cacert FILE or SSL_CERT_FILE)");
		}
		if (r->tls_probe &&
		    (cc == CURLE_SSL_CONNECT_ERROR || cc == CURLE_OPERATION_TIMEDOUT))
			dispatch(run, j, JOB_FAIL);
		else
			dispatch(run, j, cc_retryable(cc) ? JOB_RETRY : JOB_FAIL);
		return;
	}
	st = r->status;
	if ((st == 301 || st == 302 || st == 303 || st == 307 || st == 308) && r->location) {
		char *u = http_resolve(r->url, r->location);

		if (!u || ++r->redirects > MAX_REDIRECTS) {
			err_set(&j->err, ERR_NETWORK, "registry %s: %s: %s", c->registry, r->what,
				u ? "too many redirects" : "bad redirect location");
			free(u);
			dispatch(run, j, JOB_FAIL);
			return;
		}
		free(r->url);
		r->url = u;
		if (st == 303)
			r->method = strcmp(r->method, "HEAD") == 0 ? "HEAD" : "GET";
		r->auth_tried = false;
		dispatch(run, j, JOB_SUBMIT);
		return;
	}
	if (st == 401 && !r->is_auth && c->base && http_same_origin(r->url, c->base)) {
		if (r->auth_gen != c->auth_gen) {
			/* Another request refreshed the credentials meanwhile. */
			dispatch(run, j, JOB_SUBMIT);
			return;
		}
		if (r->auth_tried || !r->www_auth) {
			hreq_fail(c, r, &j->err);
			size_t n = strlen(j->err.msg);
			snprintf(j->err.msg + n, sizeof(j->err.msg) - n, " (%s)",
				 c->have_creds
				     ? "credentials rejected or not allowed"
				     : "no credentials found; use --creds or docker login");
			dispatch(run, j, JOB_FAIL);
			return;
		}
		r->auth_tried = true;
		if (auth_challenge(c, r->www_auth, &j->err) < 0) {
			dispatch(run, j, JOB_FAIL);
			return;
		}
		dispatch(run, j, JOB_SUBMIT);
		return;
	}
	if (status_retryable(st)) {
		hreq_fail(c, r, &j->err);
		if (r->retry_after && (st == 429 || st == 503))
			j->retry_hint = http_parse_retry_after(r->retry_after, time(NULL));
		j->resend = st == 429;
		if (!j->resend)
			j->resends = 0;
		dispatch(run, j, JOB_RETRY);
		return;
	}
	j->resends = 0;
	dispatch(run, j, j->next ? j->next(j) : JOB_DONE);
}

int http_run(struct reg_client *c, CURLM *m, struct job **jobs, size_t n, int parallel,
	     struct err *e)
{
	struct run run = {c, m, 0, false, e};
	size_t next = 0, i;
	int running;

	if (parallel < 1)
		parallel = 1;
	for (i = 0; i < n; i++) {
		jobs[i]->c = c;
		jobs[i]->r.job = jobs[i];
		jobs[i]->state = JS_PENDING;
		jobs[i]->resend = false;
		jobs[i]->resends = 0;
		err_clear(&jobs[i]->err);
	}
	for (;;) {
		double now, wait;
		bool busy = false;

		while (!run.failed && run.active < parallel && next < n) {
			run.active++;
			job_begin(&run, jobs[next++]);
		}
		if (run.failed || (run.active == 0 && next == n))
			break;
		now = time_now();
		for (i = 0; i < next && !run.failed; i++)
			if (jobs[i]->state == JS_SLEEP && jobs[i]->wake_at <= now)
				job_begin(&run, jobs[i]);
		if (run.failed)
			break;
		curl_multi_perform(m, &running);
		for (;;) {
			int q;
			CURLMsg *msg = curl_multi_info_read(m, &q);
			struct hreq *r = NULL;

			if (!msg)
				break;
			if (msg->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&r);
			if (r && r->job && r->job->state == JS_ACTIVE)
				on_complete(&run, r->job, msg->data.result);
			if (run.failed)
				break;
		}
		if (run.failed || (run.active == 0 && next == n))
			break;
		if (run.active < parallel && next < n)
			continue; /* a slot is free: start the next job now */
		wait = 1.0;
		now = time_now();
		for (i = 0; i < next; i++) {
			if (jobs[i]->state == JS_ACTIVE)
				busy = true;
			if (jobs[i]->state == JS_SLEEP && jobs[i]->wake_at - now < wait)
				wait = jobs[i]->wake_at - now;
		}
		if (wait < 0)
			wait = 0;
		if (busy)
			curl_multi_poll(m, NULL, 0, (int)(wait * 1000), NULL);
		else if (wait > 0)
			usleep((useconds_t)(wait * 1e6));
	}
	for (i = 0; i < n; i++) {
		if (jobs[i]->state == JS_ACTIVE)
			curl_multi_remove_handle(m, jobs[i]->r.h);
		if (jobs[i]->cleanup)
			jobs[i]->cleanup(jobs[i]);
	}
	return run.failed ? -1 : 0;
}

int http_do(struct job *j, struct err *e)
{
	struct job *one = j;

	return http_run(j->c, j->c->multi, &one, 1, 1, e);
}

int http_do_auth(struct job *j, struct err *e)
{
	struct job *one = j;

	return http_run(j->c, j->c->auth_multi, &one, 1, 1, e);
}
