/* Reference parsing following distribution/reference (the grammar Docker,
 * containerd and skopeo share), with Docker's normalisation. */
#include "oci/ref.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "oci/digest.h"

#define NAME_TOTAL_MAX 255
#define TAG_MAX 128

static int bad(struct err *e, const char *input, const char *why)
{
	return err_set(e, ERR_INPUT, "invalid reference \"%.300s\": %s", input, why);
}

static bool is_lower_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool is_alnum(char c)
{
	return is_lower_alnum(c) || (c >= 'A' && c <= 'Z');
}

static bool is_word(char c)
{
	return is_alnum(c) || c == '_';
}

/* tag := [\w][\w.-]{0,127} */
static bool valid_tag(const char *t, size_t n)
{
	if (n == 0 || n > TAG_MAX || !is_word(t[0]))
		return false;
	for (size_t i = 1; i < n; i++)
		if (!is_word(t[i]) && t[i] != '.' && t[i] != '-')
			return false;
	return true;
}

/* path-component := [a-z0-9]+ ( ( [._] | "__" | "-"+ ) [a-z0-9]+ )* */
static bool valid_component(const char *c, size_t n)
{
	size_t i = 0;
	for (;;) {
		size_t start = i;
		while (i < n && is_lower_alnum(c[i]))
			i++;
		if (i == start)
			return false; /* empty, or a separator where alnum is due */
		if (i == n)
			return true;
		if (c[i] == '.')
			i++;
		else if (c[i] == '_')
			i += (i + 1 < n && c[i + 1] == '_') ? 2 : 1;
		else if (c[i] == '-')
			while (i < n && c[i] == '-')
				i++;
		else
			return false;
	}
}

static bool valid_path(const char *p, size_t n)
{
	size_t start = 0;
	for (size_t i = 0; i <= n; i++) {
		if (i == n || p[i] == '/') {
			if (!valid_component(p + start, i - start))
				return false;
			start = i + 1;
		}
	}
	return true;
}

/* domain-component := [A-Za-z0-9] | [A-Za-z0-9][A-Za-z0-9-]*[A-Za-z0-9] */
static bool valid_domain_name(const char *d, size_t n)
{
	size_t start = 0;
	for (size_t i = 0; i <= n; i++) {
		if (i == n || d[i] == '.') {
			size_t len = i - start;
			if (len == 0 || !is_alnum(d[start]) || !is_alnum(d[i - 1]))
				return false;
			for (size_t k = start; k < i; k++)
				if (!is_alnum(d[k]) && d[k] != '-')
					return false;
			start = i + 1;
		}
	}
	return true;
}

/* domain := ( domain-name | "[" IPv6 "]" ) [ ":" port ] */
static bool valid_domain(const char *d, size_t n)
{
	size_t host_end;
	if (n > 0 && d[0] == '[') {
		const char *close = memchr(d, ']', n);
		if (!close)
			return false;
		size_t inner = (size_t)(close - d) - 1;
		char tmp[64];
		unsigned char addr[16];
		if (inner == 0 || inner >= sizeof tmp)
			return false;
		memcpy(tmp, d + 1, inner);
		tmp[inner] = '\0';
		if (inet_pton(AF_INET6, tmp, addr) != 1)
			return false;
		host_end = (size_t)(close - d) + 1;
	} else {
		const char *colon = memchr(d, ':', n);
		host_end = colon ? (size_t)(colon - d) : n;
		if (!valid_domain_name(d, host_end))
			return false;
	}
	if (host_end == n)
		return true;
	if (d[host_end] != ':')
		return false;
	size_t digits = n - host_end - 1;
	if (digits == 0 || digits > 5)
		return false;
	long port = 0;
	for (size_t i = host_end + 1; i < n; i++) {
		if (d[i] < '0' || d[i] > '9')
			return false;
		port = port * 10 + (d[i] - '0');
	}
	return port > 0 && port <= 65535;
}

static bool all_hex64(const char *s)
{
	if (strlen(s) != 64)
		return false;
	for (int i = 0; i < 64; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

int oci_ref_parse(struct oci_ref *r, const char *input, struct err *e)
{
	memset(r, 0, sizeof *r);
	if (!input)
		input = "";
	const char *s = input;
	if (str_starts(s, "docker://"))
		s += 9;
	size_t len = strlen(s);
	if (len == 0)
		return bad(e, input, "empty reference");
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] <= ' ' || (unsigned char)s[i] >= 0x7f)
			return bad(e, input, "contains whitespace or non-ASCII characters");
	/* A bare image ID is not a name (Docker refuses it the same way). */
	if (all_hex64(s))
		return bad(e, input, "cannot use a 64-character hexadecimal string as a repository name");

	const char *at = strchr(s, '@');
	size_t nt_len = at ? (size_t)(at - s) : len;
	if (at && !oci_digest_valid(at + 1))
		return bad(e, input, "invalid digest (want sha256:<64 lowercase hex> or sha512:<128 lowercase hex>)");

	/* The tag is after the last ':' that follows the last '/'. */
	size_t name_len = nt_len;
	const char *tag = NULL;
	size_t tag_len = 0;
	for (size_t i = nt_len; i > 0; i--) {
		if (s[i - 1] == '/')
			break;
		if (s[i - 1] == ':') {
			name_len = i - 1;
			tag = s + i;
			tag_len = nt_len - i;
			break;
		}
	}
	if (tag && tag_len == 0)
		return bad(e, input, "empty tag");
	if (tag && tag_len > TAG_MAX)
		return bad(e, input, "tag is longer than 128 characters");
	if (tag && !valid_tag(tag, tag_len))
		return bad(e, input, "invalid tag (allowed: letters, digits, '_', '.', '-'; not starting with '.' or '-')");
	if (name_len == 0)
		return bad(e, input, "missing repository name");
	if (name_len > NAME_TOTAL_MAX)
		return bad(e, input, "repository name must not be more than 255 characters");

	/* Domain: the first component when it looks like a host. */
	const char *slash = memchr(s, '/', name_len);
	const char *dom = NULL, *path = s;
	size_t dom_len = 0, path_len = name_len;
	if (slash) {
		size_t first = (size_t)(slash - s);
		if (memchr(s, '.', first) || memchr(s, ':', first) ||
		    (first == 9 && !memcmp(s, "localhost", 9))) {
			dom = s;
			dom_len = first;
			path = slash + 1;
			path_len = name_len - first - 1;
		}
	}
	if (dom && !valid_domain(dom, dom_len))
		return bad(e, input, "invalid registry host");
	for (size_t i = 0; i < path_len; i++)
		if (path[i] >= 'A' && path[i] <= 'Z')
			return bad(e, input, "repository name must be lowercase");
	if (path_len == 0 || !valid_path(path, path_len))
		return bad(e, input, "invalid repository name (components of [a-z0-9] separated by '.', '_', '__' or '-', joined by '/')");

	bool hub = !dom || (dom_len == 9 && !memcmp(dom, "docker.io", 9)) ||
		   (dom_len == 15 && !memcmp(dom, "index.docker.io", 15));
	r->registry = hub ? xstrdup_e("docker.io", e) : xstrndup_e(dom, dom_len, e);
	if (hub && !memchr(path, '/', path_len))
		r->repository = xasprintf_e(e, "library/%.*s", (int)path_len, path);
	else
		r->repository = xstrndup_e(path, path_len, e);
	if (tag)
		r->tag = xstrndup_e(tag, tag_len, e);
	else if (!at)
		r->tag = xstrdup_e("latest", e);
	if (at)
		r->digest = xstrdup_e(at + 1, e);
	if (!r->registry || !r->repository || ((tag || !at) && !r->tag) || (at && !r->digest)) {
		oci_ref_free(r);
		return -1;
	}
	/* As docker does, the limit holds for the normalised name too
	 * (docker.io/library/...), so the canonical string parses again. */
	if (strlen(r->registry) + 1 + strlen(r->repository) > NAME_TOTAL_MAX) {
		oci_ref_free(r);
		return bad(e, input, "repository name must not be more than 255 characters");
	}
	return 0;
}

void oci_ref_free(struct oci_ref *r)
{
	if (!r)
		return;
	free(r->registry);
	free(r->repository);
	free(r->tag);
	free(r->digest);
	memset(r, 0, sizeof *r);
}

char *oci_ref_string(const struct oci_ref *r)
{
	return xasprintf_e(NULL, "%s/%s%s%s%s%s", r->registry, r->repository, r->tag ? ":" : "",
			   r->tag ? r->tag : "", r->digest ? "@" : "", r->digest ? r->digest : "");
}

char *oci_ref_name(const struct oci_ref *r)
{
	return xasprintf_e(NULL, "%s/%s", r->registry, r->repository);
}

char *oci_ref_familiar(const struct oci_ref *r)
{
	const char *reg = r->registry, *repo = r->repository;
	bool hub = !strcmp(reg, "docker.io");
	if (hub && str_starts(repo, "library/") && !strchr(repo + 8, '/'))
		repo += 8;
	return xasprintf_e(NULL, "%s%s%s%s%s%s%s", hub ? "" : reg, hub ? "" : "/", repo,
			   r->tag ? ":" : "", r->tag ? r->tag : "", r->digest ? "@" : "",
			   r->digest ? r->digest : "");
}

const char *oci_ref_api_host(const struct oci_ref *r)
{
	return strcmp(r->registry, "docker.io") == 0 ? "registry-1.docker.io" : r->registry;
}

const char *oci_ref_manifest_key(const struct oci_ref *r)
{
	return r->digest ? r->digest : r->tag;
}

int oci_ref_copy(struct oci_ref *dst, const struct oci_ref *src, struct err *e)
{
	memset(dst, 0, sizeof *dst);
	dst->registry = xstrdup_e(src->registry, e);
	dst->repository = xstrdup_e(src->repository, e);
	dst->tag = src->tag ? xstrdup_e(src->tag, e) : NULL;
	dst->digest = src->digest ? xstrdup_e(src->digest, e) : NULL;
	if (!dst->registry || !dst->repository || (src->tag && !dst->tag) ||
	    (src->digest && !dst->digest)) {
		oci_ref_free(dst);
		return -1;
	}
	return 0;
}
