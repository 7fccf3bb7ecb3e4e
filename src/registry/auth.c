/* Registry authentication: WWW-Authenticate challenges, Basic, Bearer
 * tokens (GET with Basic credentials or anonymous, POST refresh_token for
 * identity tokens). Tokens and credentials never reach a log or a message. */
#include "registry/internal.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

#include "core/log.h"
#include "core/util.h"

#define ACR_TOKEN_USER "00000000-0000-0000-0000-000000000000"
#define TOKEN_DEFAULT_TTL 60.0

/* ------------------------------------------------------- challenge parser */

static bool is_tchar(char ch)
{
	return isalnum((unsigned char)ch) || (ch && strchr("!#$%&'*+-.^_`|~", ch));
}

static void skip_ws(const char **p)
{
	while (**p == ' ' || **p == '\t')
		(*p)++;
}

/* token or quoted-string (backslash escapes) into a malloc'd string */
static char *read_value(const char **pp)
{
	const char *p = *pp;
	char *out;
	size_t n = 0;

	if (*p == '"') {
		const char *q = ++p;

		out = malloc(strlen(p) + 1);
		if (!out)
			return NULL;
		while (*q && *q != '"') {
			if (*q == '\\' && q[1])
				q++;
			out[n++] = *q++;
		}
		out[n] = 0;
		*pp = *q == '"' ? q + 1 : q;
		return out;
	}
	while (p[n] && p[n] != ',' && p[n] != ' ' && p[n] != '\t')
		n++;
	out = strndup(p, n);
	*pp = p + n;
	return out;
}

struct chal_tmp {
	char scheme[16];
	char *realm, *service, *scope, *error;
};

static void tmp_free(struct chal_tmp *t)
{
	free(t->realm);
	free(t->service);
	free(t->scope);
	free(t->error);
	memset(t, 0, sizeof(*t));
}

static void set_param(struct chal_tmp *t, const char *name, size_t nlen, char *val)
{
	char **slot = NULL;

	if (nlen == 5 && strncasecmp(name, "realm", 5) == 0)
		slot = &t->realm;
	else if (nlen == 7 && strncasecmp(name, "service", 7) == 0)
		slot = &t->service;
	else if (nlen == 5 && strncasecmp(name, "error", 5) == 0)
		slot = &t->error;
	else if (nlen == 5 && strncasecmp(name, "scope", 5) == 0)
		slot = &t->scope;
	if (!slot) {
		free(val);
		return;
	}
	if (slot == &t->scope && *slot && val) {
		/* several scope parameters: one space-separated list */
		char *j = NULL;

		if (asprintf(&j, "%s %s", *slot, val) < 0)
			j = NULL;
		free(val);
		val = j;
		if (!val)
			return;
	}
	free(*slot);
	*slot = val;
}

/* Keep cur as the first Bearer or the first Basic challenge, or free it. */
static void keep_challenge(struct chal_tmp *cur, struct chal_tmp *bearer, struct chal_tmp *basic)
{
	if (!bearer->scheme[0] && strcmp(cur->scheme, "bearer") == 0)
		*bearer = *cur;
	else if (!basic->scheme[0] && strcmp(cur->scheme, "basic") == 0)
		*basic = *cur;
	else
		tmp_free(cur);
}

int auth_parse_challenge(const char *hdr, struct auth_challenge *ch)
{
	struct chal_tmp cur = {0}, bearer = {0}, basic = {0};
	const char *p = hdr;
	bool have_cur = false;

	memset(ch, 0, sizeof(*ch));
	if (!hdr)
		return -1;
	for (;;) {
		const char *name;
		size_t nlen;

		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		if (!*p)
			break;
		name = p;
		while (is_tchar(*p))
			p++;
		nlen = (size_t)(p - name);
		if (!nlen) {
			p++; /* stray character */
			continue;
		}
		skip_ws(&p);
		if (*p == '=') {
			char *val;

			p++;
			skip_ws(&p);
			val = read_value(&p);
			if (have_cur)
				set_param(&cur, name, nlen, val);
			else
				free(val);
			continue;
		}
		/* a new challenge: keep the first Bearer and the first Basic */
		if (have_cur) {
			keep_challenge(&cur, &bearer, &basic);
			memset(&cur, 0, sizeof(cur));
		}
		have_cur = true;
		snprintf(cur.scheme, sizeof(cur.scheme), "%.*s", (int)(nlen < 15 ? nlen : 15),
			 name);
		for (char *s = cur.scheme; *s; s++)
			*s = (char)tolower((unsigned char)*s);
	}
	if (have_cur)
		keep_challenge(&cur, &bearer, &basic);
	if (bearer.scheme[0]) {
		tmp_free(&basic);
		memcpy(ch, &bearer, sizeof(*ch));
		return 0;
	}
	if (basic.scheme[0]) {
		memcpy(ch, &basic, sizeof(*ch));
		return 0;
	}
	return -1;
}

void auth_challenge_free(struct auth_challenge *ch)
{
	free(ch->realm);
	free(ch->service);
	free(ch->scope);
	free(ch->error);
	memset(ch, 0, sizeof(*ch));
}

/* ------------------------------------------------------------------ state */

static void wipe_free(char **s)
{
	if (*s) {
		explicit_bzero(*s, strlen(*s));
		free(*s);
		*s = NULL;
	}
}

static void set_header(struct reg_client *c, char *h)
{
	wipe_free(&c->auth_header);
	c->auth_header = h;
	c->auth_gen++;
}

void auth_free(struct reg_client *c)
{
	wipe_free(&c->auth_header);
	creds_free(&c->creds);
	free(c->realm);
	free(c->service);
	free(c->token_scopes);
	for (size_t i = 0; i < c->nscopes; i++)
		free(c->scopes[i]);
	free(c->scopes);
	c->realm = c->service = c->token_scopes = NULL;
	c->scopes = NULL;
	c->nscopes = 0;
}

int auth_add_scope(struct reg_client *c, const char *scope, struct err *e)
{
	char **n;

	for (size_t i = 0; i < c->nscopes; i++)
		if (strcmp(c->scopes[i], scope) == 0)
			return 0;
	n = realloc(c->scopes, (c->nscopes + 1) * sizeof(*n));
	if (!n)
		return err_oom(e);
	c->scopes = n;
	if (!(c->scopes[c->nscopes] = xstrdup_e(scope, e)))
		return -1;
	c->nscopes++;
	return 1;
}

static int load_creds(struct reg_client *c, struct err *e)
{
	if (c->creds_loaded)
		return 0;
	if (creds_lookup(c->registry, c->opt_creds, &c->creds, &c->have_creds, e) < 0)
		return -1;
	c->creds_loaded = true;
	log_debug("registry %s: %s", c->registry,
		  c->have_creds ? "using stored credentials" : "no credentials, anonymous");
	return 0;
}

static bool identity_flow(const struct reg_client *c)
{
	return c->have_creds &&
	       (c->creds.identity_token ||
		(c->creds.user && strcmp(c->creds.user, ACR_TOKEN_USER) == 0 && c->creds.pass));
}

static const char *refresh_token(const struct reg_client *c)
{
	return c->creds.identity_token ? c->creds.identity_token : c->creds.pass;
}

static char *basic_header(const char *user, const char *pass, struct err *e)
{
	size_t ul = strlen(user), pl = strlen(pass), n = ul + 1 + pl;
	char *raw = malloc(n + 1), *b64 = malloc(base64_enc_len(n) + 1), *h = NULL;

	if (raw && b64) {
		memcpy(raw, user, ul);
		raw[ul] = ':';
		memcpy(raw + ul + 1, pass, pl);
		raw[n] = 0;
		base64_encode(raw, n, b64);
		h = xasprintf_e(e, "Authorization: Basic %s", b64);
	} else {
		err_oom(e);
	}
	if (raw) {
		explicit_bzero(raw, n);
		free(raw);
	}
	if (b64) {
		explicit_bzero(b64, strlen(b64));
		free(b64);
	}
	return h;
}

/* Scopes joined by sep ("," never appears inside one scope's name). */
static char *join_scopes(const struct reg_client *c, const char *sep, struct err *e)
{
	struct buf b = BUF_INIT;

	for (size_t i = 0; i < c->nscopes; i++)
		if ((i && buf_adds(&b, sep, e) < 0) || buf_adds(&b, c->scopes[i], e) < 0) {
			buf_free(&b);
			return NULL;
		}
	return buf_detach(&b, NULL);
}

static int form_add(struct buf *b, CURL *h, const char *k, const char *v, struct err *e)
{
	char *ev = curl_easy_escape(h, v, 0);
	int rc;

	if (!ev)
		return err_oom(e);
	rc = buf_addf(b, e, "%s%s=%s", b->len ? "&" : "", k, ev);
	explicit_bzero(ev, strlen(ev));
	curl_free(ev);
	return rc;
}

static char *realm_host(const char *realm)
{
	CURLU *u = curl_url();
	char *h = NULL, *port = NULL, *out = NULL;

	if (u && curl_url_set(u, CURLUPART_URL, realm, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, &h, 0) == CURLUE_OK) {
		if (curl_url_get(u, CURLUPART_PORT, &port, 0) != CURLUE_OK)
			port = NULL;
		if (asprintf(&out, "%s%s%s", h, port ? ":" : "", port ? port : "") < 0)
			out = NULL;
	}
	curl_free(h);
	curl_free(port);
	curl_url_cleanup(u);
	return out ? out : strdup("?");
}

static int fetch_token(struct reg_client *c, struct err *e)
{
	struct job j;
	struct buf resp = BUF_INIT, form = BUF_INIT;
	char *url = NULL, *joined = NULL, *rh = NULL, *hdr = NULL, what[300];
	const char *tok = NULL;
	cJSON *js = NULL, *x;
	double ttl = TOKEN_DEFAULT_TTL;
	bool post;
	int rc = -1;
	CURL *esc = NULL;

	job_init(&j, c);
	if (!c->realm)
		return err_set(e, ERR_NETWORK, "registry %s: Bearer challenge without realm",
			       c->registry);
	if (load_creds(c, e) < 0)
		return -1;
	post = identity_flow(c);
	rh = realm_host(c->realm);
	if (!(joined = join_scopes(c, " ", e)) || !(esc = curl_easy_init()) ||
	    !(url = xstrdup_e(c->realm, e)))
		goto out;
	if (post) {
		if (form_add(&form, esc, "grant_type", "refresh_token", e) < 0 ||
		    (c->service && form_add(&form, esc, "service", c->service, e) < 0) ||
		    (*joined && form_add(&form, esc, "scope", joined, e) < 0) ||
		    form_add(&form, esc, "client_id", "bosun", e) < 0 ||
		    form_add(&form, esc, "refresh_token", refresh_token(c), e) < 0)
			goto out;
	} else {
		if (c->service && !(url = url_add_query(url, "service", c->service, e)))
			goto out;
		for (size_t i = 0; i < c->nscopes; i++)
			if (!(url = url_add_query(url, "scope", c->scopes[i], e)))
				goto out;
	}
	snprintf(what, sizeof(what), "token request to %s", rh);
	if (hreq_prepare(&j.r, post ? "POST" : "GET", url, what, e) < 0)
		goto out;
	j.r.is_auth = true;
	buf_init(&resp, BUF_CAP_TOKEN);
	j.r.out = &resp;
	j.r.out_max = BUF_CAP_TOKEN;
	if (post) {
		j.r.body = BODY_MEM;
		j.r.mem = (const unsigned char *)form.data;
		j.r.mem_len = form.len;
		j.r.len = (int64_t)form.len;
		j.r.content_type = "application/x-www-form-urlencoded";
	} else if (c->have_creds && c->creds.user && c->creds.pass) {
		if (!(j.r.auth_override = basic_header(c->creds.user, c->creds.pass, e)))
			goto out;
	}
	log_debug("registry %s: token from %s (%s, scope %s)", c->registry, rh,
		  post		  ? "refresh token"
		  : c->have_creds ? "basic credentials"
				  : "anonymous",
		  joined);
	if (http_do_auth(&j, e) < 0) {
		/* an oversized token answer is the registry's fault, not the user's input */
		if (j.r.sink_failed && e->code == ERR_INPUT)
			e->code = ERR_NETWORK;
		goto out;
	}
	if (j.r.status != 200) {
		err_set(e, ERR_NETWORK, "registry %s: token request to %s: HTTP %ld%s", c->registry,
			rh, j.r.status,
			j.r.status == 401 || j.r.status == 403
			    ? (c->have_creds
				   ? " (credentials rejected)"
				   : " (no credentials found; use --creds or docker login)")
			    : "");
		e->http_status = (int)j.r.status;
		goto out;
	}
	js = cJSON_ParseWithLength(resp.data, resp.len);
	x = js ? cJSON_GetObjectItemCaseSensitive(js, "token") : NULL;
	if (cJSON_IsString(x) && x->valuestring[0])
		tok = x->valuestring;
	x = js ? cJSON_GetObjectItemCaseSensitive(js, "access_token") : NULL;
	if (!tok && cJSON_IsString(x) && x->valuestring[0])
		tok = x->valuestring;
	if (!tok) {
		err_set(e, ERR_NETWORK, "registry %s: token response from %s has no token",
			c->registry, rh);
		goto out;
	}
	for (const char *s = tok; *s; s++)
		if ((unsigned char)*s < 0x21 || *s == 0x7f) {
			err_set(e, ERR_NETWORK, "registry %s: token from %s is malformed",
				c->registry, rh);
			goto out;
		}
	x = cJSON_GetObjectItemCaseSensitive(js, "expires_in");
	if (cJSON_IsNumber(x) && x->valuedouble > 0)
		ttl = x->valuedouble;
	if (!(hdr = xasprintf_e(e, "Authorization: Bearer %s", tok)))
		goto out;
	set_header(c, hdr);
	hdr = NULL;
	/* refresh a little early: a token must not expire mid-request */
	c->token_expiry = time_now() + (ttl > 20 ? ttl - 10 : ttl * 0.5);
	free(c->token_scopes);
	c->token_scopes = joined;
	joined = NULL;
	rc = 0;
out:
	if (js) {
		/* the token text lives in the parsed tree and the response buffer */
		for (const char *k = "token";; k = "access_token") {
			x = cJSON_GetObjectItemCaseSensitive(js, k);
			if (cJSON_IsString(x))
				explicit_bzero(x->valuestring, strlen(x->valuestring));
			if (strcmp(k, "access_token") == 0)
				break;
		}
		cJSON_Delete(js);
	}
	if (resp.alloc)
		explicit_bzero(resp.data, resp.len);
	if (form.alloc)
		explicit_bzero(form.data, form.len);
	buf_free(&resp);
	buf_free(&form);
	job_free(&j);
	if (esc)
		curl_easy_cleanup(esc);
	free(url);
	free(joined);
	free(rh);
	return rc;
}

static int set_basic(struct reg_client *c, struct err *e)
{
	char *h;

	if (load_creds(c, e) < 0)
		return -1;
	if (!c->have_creds || !c->creds.user || !c->creds.pass)
		return 0;
	if (!(h = basic_header(c->creds.user, c->creds.pass, e)))
		return -1;
	set_header(c, h);
	return 0;
}

static int learn(struct reg_client *c, const struct auth_challenge *ch, struct err *e)
{
	if (strcmp(ch->scheme, "basic") == 0) {
		c->auth = AUTH_BASIC;
		return 0;
	}
	c->auth = AUTH_BEARER;
	if (!ch->realm)
		return err_set(e, ERR_NETWORK, "registry %s: Bearer challenge without realm",
			       c->registry);
	if (!str_starts(ch->realm, "https://") && !str_starts(ch->realm, "http://"))
		return err_set(e, ERR_NETWORK, "registry %s: token realm is not an http(s) URL",
			       c->registry);
	free(c->realm);
	c->realm = xstrdup_e(ch->realm, e);
	free(c->service);
	c->service = ch->service ? xstrdup_e(ch->service, e) : NULL;
	if (!c->realm || (ch->service && !c->service))
		return -1;
	for (const char *s = ch->scope; s && *s;) {
		size_t n = strcspn(s, " ");
		char *one;

		if (n) {
			if (!(one = xstrndup_e(s, n, e)))
				return -1;
			if (auth_add_scope(c, one, e) < 0) {
				free(one);
				return -1;
			}
			free(one);
		}
		s += n;
		s += strspn(s, " ");
	}
	return 0;
}

int auth_learn_ping(struct reg_client *c, const char *www_auth, struct err *e)
{
	struct auth_challenge ch;
	int rc;

	if (auth_parse_challenge(www_auth, &ch) < 0)
		return err_set(e, ERR_NETWORK, "registry %s: unsupported authentication scheme",
			       c->registry);
	rc = learn(c, &ch, e);
	auth_challenge_free(&ch);
	return rc;
}

int auth_ensure(struct reg_client *c, struct err *e)
{
	if (c->auth == AUTH_BASIC && !c->auth_header)
		return set_basic(c, e);
	if (c->auth == AUTH_BEARER) {
		char *joined;
		bool stale;

		if (!c->auth_header || time_now() >= c->token_expiry)
			return fetch_token(c, e);
		if (!(joined = join_scopes(c, " ", e)))
			return -1;
		stale = !c->token_scopes || strcmp(joined, c->token_scopes) != 0;
		free(joined);
		if (stale)
			return fetch_token(c, e);
	}
	return 0;
}

int auth_challenge(struct reg_client *c, const char *www_auth, struct err *e)
{
	struct auth_challenge ch;
	int rc;
	bool had_basic = c->auth == AUTH_BASIC && c->auth_header;

	if (auth_parse_challenge(www_auth, &ch) < 0)
		return err_set(e, ERR_NETWORK, "registry %s: unsupported authentication scheme",
			       c->registry);
	rc = learn(c, &ch, e);
	auth_challenge_free(&ch);
	if (rc < 0)
		return -1;
	if (c->auth == AUTH_BASIC) {
		if (had_basic) {
			err_set(e, ERR_NETWORK,
				"registry %s: authentication failed (credentials rejected)",
				c->registry);
			e->http_status = 401;
			return -1;
		}
		if (set_basic(c, e) < 0)
			return -1;
		if (!c->auth_header) {
			err_set(e, ERR_NETWORK,
				"registry %s: authentication required (no credentials found; use "
				"--creds or docker login)",
				c->registry);
			e->http_status = 401;
			return -1;
		}
		return 0;
	}
	return fetch_token(c, e);
}
