#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "core/fs.h"
#include "core/log.h"
#include "core/util.h"
#include "core/version.h"
#include "registry/fetch.h"
#include "registry/internal.h"

struct sink {
	struct fs_atomic a;
	bool open;
	const char *path;
	int64_t n, max;
	bool too_big, write_err;
	long status;
	char *etag, *lastmod;
};

static size_t on_body(char *p, size_t sz, size_t nm, void *ctx)
{
	struct sink *s = ctx;
	size_t n = sz * nm;
	struct err e = ERR_INIT;

	if (!s->open) {
		/* the body of an error page or a 304 is not the file */
		if (s->status != 200)
			return n;
		if (fs_atomic_open(&s->a, s->path, &e) < 0) {
			s->write_err = true;
			return 0;
		}
		s->open = true;
	}
	if (s->max && s->n + (int64_t)n > s->max) {
		s->too_big = true;
		return 0;
	}
	if (fwrite(p, 1, n, s->a.f) != n) {
		s->write_err = true;
		return 0;
	}
	s->n += (int64_t)n;
	return n;
}

static char *header_value(const char *p, size_t n, const char *key)
{
	size_t kl = strlen(key);
	const char *v, *end = p + n;

	if (n <= kl || strncasecmp(p, key, kl) != 0 || p[kl] != ':')
		return NULL;
	v = p + kl + 1;
	while (v < end && (*v == ' ' || *v == '\t'))
		v++;
	while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' '))
		end--;
	if (end - v > 1024)
		return NULL;
	return strndup(v, (size_t)(end - v));
}

static size_t on_header(char *p, size_t sz, size_t nm, void *ctx)
{
	struct sink *s = ctx;
	size_t n = sz * nm;
	char *v;

	if (n >= 5 && strncmp(p, "HTTP/", 5) == 0) {
		/* a new response (redirect or retry): forget the last one's headers */
		const char *sp = memchr(p, ' ', n);

		s->status = sp ? strtol(sp + 1, NULL, 10) : 0;
		free(s->etag), free(s->lastmod);
		s->etag = s->lastmod = NULL;
		return n;
	}
	if ((v = header_value(p, n, "ETag"))) {
		free(s->etag);
		s->etag = v;
	} else if ((v = header_value(p, n, "Last-Modified"))) {
		free(s->lastmod);
		s->lastmod = v;
	}
	return n;
}

static bool transient(CURLcode cc, long status)
{
	if (cc == CURLE_OK)
		return status == 429 || status >= 500;
	return cc == CURLE_COULDNT_CONNECT || cc == CURLE_OPERATION_TIMEDOUT || cc == CURLE_RECV_ERROR ||
	       cc == CURLE_SEND_ERROR || cc == CURLE_GOT_NOTHING || cc == CURLE_PARTIAL_FILE ||
	       cc == CURLE_COULDNT_RESOLVE_HOST || cc == CURLE_HTTP2 || cc == CURLE_HTTP2_STREAM;
}

int fetch_to_file(const char *url, const char *path, const struct fetch_opts *o, struct fetch_result *r,
		  struct err *e)
{
	static const struct fetch_opts defaults = { 0 };
	int retries, rc = -1;
	CURL *h = NULL;
	struct curl_slist *hdrs = NULL;
	char errbuf[CURL_ERROR_SIZE], line[1200], *cainfo = NULL, *capath = NULL;

	if (!o)
		o = &defaults;
	memset(r, 0, sizeof(*r));
	retries = o->retries == 0 ? 3 : o->retries < 0 ? 0 : o->retries;
	if (reg_ca_pick(o->cacert, &cainfo, &capath, e) < 0)
		goto out;
	if (!(h = curl_easy_init())) {
		err_oom(e);
		goto out;
	}
	if (o->etag && *o->etag) {
		snprintf(line, sizeof(line), "If-None-Match: %s", o->etag);
		hdrs = curl_slist_append(hdrs, line);
	}
	if (o->last_modified && *o->last_modified) {
		snprintf(line, sizeof(line), "If-Modified-Since: %s", o->last_modified);
		hdrs = curl_slist_append(hdrs, line);
	}
	for (int attempt = 0;; attempt++) {
		struct sink s = { .path = path, .max = o->max_size };
		CURLcode cc;

		errbuf[0] = 0;
		curl_easy_reset(h);
		curl_easy_setopt(h, CURLOPT_URL, url);
		curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
		curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
		curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
		curl_easy_setopt(h, CURLOPT_MAXREDIRS, 5L);
		curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
		char ua[96];

		snprintf(ua, sizeof(ua), "bosun/%s", bosun_version); /* curl copies it */
		curl_easy_setopt(h, CURLOPT_USERAGENT, ua);
		curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
		curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
		curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
		curl_easy_setopt(h, CURLOPT_WRITEDATA, &s);
		curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
		curl_easy_setopt(h, CURLOPT_HEADERDATA, &s);
		curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 30L);
		/* a stalled transfer is a failure, a slow one is not */
		curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
		curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, 60L);
		if (o->timeout > 0)
			curl_easy_setopt(h, CURLOPT_TIMEOUT, o->timeout);
		if (o->max_size > 0)
			curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)o->max_size);
		if (cainfo)
			curl_easy_setopt(h, CURLOPT_CAINFO, cainfo);
		if (capath)
			curl_easy_setopt(h, CURLOPT_CAPATH, capath);
		if (o->insecure) {
			curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
			curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
		}
		cc = curl_easy_perform(h);
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &s.status);
		if (s.too_big || cc == CURLE_FILESIZE_EXCEEDED) {
			if (s.open)
				fs_atomic_abort(&s.a);
			free(s.etag), free(s.lastmod);
			err_set(e, ERR_INPUT, "%s: larger than the %lld-byte limit", url, (long long)o->max_size);
			goto out;
		}
		if (s.write_err) {
			if (s.open)
				fs_atomic_abort(&s.a);
			free(s.etag), free(s.lastmod);
			err_errno(e, ERR_INTERNAL, "%s", path);
			goto out;
		}
		if (cc == CURLE_OK && (s.status == 200 || s.status == 304)) {
			r->status = s.status;
			r->etag = s.etag, r->last_modified = s.lastmod;
			r->size = s.n;
			if (s.status == 304) {
				if (s.open)
					fs_atomic_abort(&s.a);
				r->not_modified = true;
				rc = 0;
				goto out;
			}
			if (!s.open) { /* empty body */
				if (fs_write_atomic(path, "", 0, 0644, e) < 0)
					goto out;
			} else if (fs_atomic_commit(&s.a, 0644, e) < 0) {
				goto out;
			}
			rc = 0;
			goto out;
		}
		if (s.open)
			fs_atomic_abort(&s.a);
		free(s.etag), free(s.lastmod);
		if (attempt < retries && transient(cc, s.status)) {
			unsigned ms =
			    (unsigned)((250u << (attempt < 5 ? attempt : 5)) * backoff_scale());

			log_debug("fetch %s: %s, retrying in %u ms", url,
				  cc != CURLE_OK ? curl_easy_strerror(cc) : "server error", ms);
			usleep(ms * 1000u);
			continue;
		}
		if (cc != CURLE_OK) {
			err_curl(e, (int)cc, errbuf, "%s", url);
		} else {
			err_set(e, ERR_NETWORK, "%s: HTTP %ld", url, s.status);
			e->http_status = (int)s.status;
		}
		goto out;
	}
out:
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(h);
	free(cainfo);
	free(capath);
	return rc;
}

void fetch_result_free(struct fetch_result *r)
{
	free(r->etag);
	free(r->last_modified);
	r->etag = r->last_modified = NULL;
}
