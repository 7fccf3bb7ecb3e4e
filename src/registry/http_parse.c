/* The registry client's HTTP header and URL helpers: Retry-After, Location
 * resolution, same-origin checks, Link pagination, loopback hosts (the
 * exchanges and the engine are http.c). */
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

double http_parse_retry_after(const char *v, time_t now)
{
	const char *p;
	char *end;
	double d;
	time_t t;

	if (!v)
		return -1;
	while (*v == ' ' || *v == '\t')
		v++;
	if (!*v)
		return -1;
	if (isdigit((unsigned char)*v)) {
		for (p = v; isdigit((unsigned char)*p); p++)
			;
		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p) {
			errno = 0;
			d = strtod(v, &end);
			if (errno)
				return -1;
			return d;
		}
	}
	t = curl_getdate(v, NULL);
	if (t == (time_t)-1)
		return -1;
	return t > now ? (double)(t - now) : 0.0;
}

char *http_resolve(const char *base, const char *loc)
{
	CURLU *u = curl_url();
	char *s = NULL, *scheme = NULL, *out = NULL;

	if (!u || !loc || !*loc)
		goto out;
	if (base && curl_url_set(u, CURLUPART_URL, base, 0) != CURLUE_OK)
		goto out;
	if (curl_url_set(u, CURLUPART_URL, loc, 0) != CURLUE_OK)
		goto out;
	if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK)
		goto out;
	if (strcasecmp(scheme, "http") != 0 && strcasecmp(scheme, "https") != 0)
		goto out;
	if (curl_url_get(u, CURLUPART_URL, &s, 0) != CURLUE_OK)
		goto out;
	out = strdup(s);
out:
	curl_free(s);
	curl_free(scheme);
	curl_url_cleanup(u);
	return out;
}

static bool origin_of(const char *url, char **scheme, char **host, char **port)
{
	CURLU *u = curl_url();
	bool ok = u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
		  curl_url_get(u, CURLUPART_SCHEME, scheme, 0) == CURLUE_OK &&
		  curl_url_get(u, CURLUPART_HOST, host, 0) == CURLUE_OK &&
		  curl_url_get(u, CURLUPART_PORT, port, CURLU_DEFAULT_PORT) == CURLUE_OK;

	curl_url_cleanup(u);
	return ok;
}

bool http_same_origin(const char *a, const char *b)
{
	char *s1 = NULL, *h1 = NULL, *p1 = NULL, *s2 = NULL, *h2 = NULL, *p2 = NULL;
	bool same = false;

	if (a && b && origin_of(a, &s1, &h1, &p1) && origin_of(b, &s2, &h2, &p2))
		same = strcasecmp(s1, s2) == 0 && strcasecmp(h1, h2) == 0 && strcmp(p1, p2) == 0;
	curl_free(s1);
	curl_free(h1);
	curl_free(p1);
	curl_free(s2);
	curl_free(h2);
	curl_free(p2);
	return same;
}

char *http_link_next(const char *link)
{
	const char *p = link, *lt, *gt, *end;

	/* Link: <url>; rel="next", <url2>; rel="prev" */
	while (p && (lt = strchr(p, '<'))) {
		gt = strchr(lt, '>');
		if (!gt)
			return NULL;
		end = strchr(gt, ',');
		if (!end)
			end = gt + strlen(gt);
		for (const char *q = gt; q + 3 <= end; q++) {
			if (strncasecmp(q, "rel", 3) != 0)
				continue;
			q += 3;
			while (q < end && (*q == ' ' || *q == '='))
				q++;
			if (q < end && *q == '"')
				q++;
			if (end - q >= 4 && strncasecmp(q, "next", 4) == 0 &&
			    (q + 4 == end || q[4] == '"' || q[4] == ' ' || q[4] == ';'))
				return strndup(lt + 1, (size_t)(gt - lt - 1));
			break;
		}
		p = *end ? end + 1 : NULL;
	}
	return NULL;
}

bool http_host_is_loopback(const char *hostport)
{
	char host[256];
	const char *colon;
	size_t n;

	if (!hostport)
		return false;
	if (hostport[0] == '[') {
		const char *rb = strchr(hostport, ']');

		if (!rb)
			return false;
		n = (size_t)(rb - hostport - 1);
		return n == 3 && strncmp(hostport + 1, "::1", 3) == 0;
	}
	colon = strchr(hostport, ':');
	n = colon ? (size_t)(colon - hostport) : strlen(hostport);
	if (n == 0 || n >= sizeof(host))
		return false;
	memcpy(host, hostport, n);
	host[n] = 0;
	if (strcasecmp(host, "localhost") == 0)
		return true;
	if (strncmp(host, "127.", 4) == 0) {
		for (const char *q = host + 4; *q; q++)
			if (!isdigit((unsigned char)*q) && *q != '.')
				return false;
		return true;
	}
	return false;
}
