#include "report/ci.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <openssl/rand.h>

void ci_detect(struct ci_env *env)
{
	const char *s;

	memset(env, 0, sizeof(*env));
	s = getenv("TF_BUILD");
	env->azure = s && strcasecmp(s, "true") == 0;
	s = getenv("JENKINS_URL");
	env->jenkins = s && *s;
	s = getenv("GITHUB_OUTPUT");
	env->github_output = s && *s ? s : NULL;
	s = getenv("GITHUB_STEP_SUMMARY");
	env->github_summary = s && *s ? s : NULL;
}

int ci_azure_escape(const char *s, bool property, struct buf *out, struct err *e)
{
	const char *rep;

	for (; *s; s++) {
		switch (*s) {
		case '%': rep = "%AZP25"; break;
		case '\r': rep = "%0D"; break;
		case '\n': rep = "%0A"; break;
		case ']': rep = property ? "%5D" : NULL; break;
		case ';': rep = property ? "%3B" : NULL; break;
		default: rep = NULL;
		}
		if (rep ? buf_adds(out, rep, e) : buf_add(out, s, 1, e))
			return -1;
	}
	return 0;
}

static bool valid_name(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
		      *s == '.' || *s == '_' || *s == '-'))
			return false;
	return true;
}

int ci_azure_setvar(struct buf *out, const char *name, const char *value, bool is_output,
		    struct err *e)
{
	if (!valid_name(name))
		return err_set(e, ERR_INTERNAL, "invalid pipeline variable name \"%s\"", name);
	if (buf_addf(out, e, "##vso[task.setvariable variable=%s;isOutput=%s]", name,
		     is_output ? "true" : "false") ||
	    ci_azure_escape(value, false, out, e) || buf_adds(out, "\n", e))
		return -1;
	return 0;
}

int ci_azure_logissue(struct buf *out, const char *type, const char *msg, struct err *e)
{
	if (buf_adds(out, "##vso[task.logissue type=", e) || ci_azure_escape(type, true, out, e) ||
	    buf_adds(out, "]", e) || ci_azure_escape(msg, false, out, e) || buf_adds(out, "\n", e))
		return -1;
	return 0;
}

int ci_azure_uploadsummary(struct buf *out, const char *path, struct err *e)
{
	if (buf_adds(out, "##vso[task.uploadsummary]", e) || ci_azure_escape(path, false, out, e) ||
	    buf_adds(out, "\n", e))
		return -1;
	return 0;
}

int ci_azure_publish_junit(struct buf *out, const char *path, const char *title, struct err *e)
{
	if (buf_adds(out, "##vso[results.publish type=JUnit;mergeResults=true;runTitle=", e) ||
	    ci_azure_escape(title, true, out, e) || buf_adds(out, "]", e) ||
	    ci_azure_escape(path, false, out, e) || buf_adds(out, "\n", e))
		return -1;
	return 0;
}

int ci_azure_group(struct buf *out, const char *title, struct err *e)
{
	if (buf_adds(out, "##[group]", e))
		return -1;
	for (; *title; title++)
		if (buf_add(out, (*title == '\n' || *title == '\r') ? " " : title, 1, e))
			return -1;
	return buf_adds(out, "\n", e);
}

int ci_azure_endgroup(struct buf *out, struct err *e)
{
	return buf_adds(out, "##[endgroup]\n", e);
}

/* Decode one UTF-8 sequence; returns its length, *cp = U+FFFD on bad input. */
static size_t utf8_next(const unsigned char *s, uint32_t *cp)
{
	uint32_t c = s[0], min;
	size_t n, i;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if ((c & 0xe0) == 0xc0)
		n = 2, c &= 0x1f, min = 0x80;
	else if ((c & 0xf0) == 0xe0)
		n = 3, c &= 0x0f, min = 0x800;
	else if ((c & 0xf8) == 0xf0)
		n = 4, c &= 0x07, min = 0x10000;
	else {
		*cp = 0xfffd;
		return 1;
	}
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80) {
			*cp = 0xfffd;
			return i;
		}
		c = (c << 6) | (s[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		c = 0xfffd;
	*cp = c;
	return n;
}

int ci_java_prop_escape(const char *s, bool key, struct buf *out, struct err *e)
{
	const unsigned char *p = (const unsigned char *)s;
	bool leading = true;
	uint32_t cp;
	size_t n;

	while (*p) {
		n = utf8_next(p, &cp);
		p += n;
		if (cp == ' ') {
			if (buf_adds(out, (key || leading) ? "\\ " : " ", e))
				return -1;
			continue;
		}
		leading = false;
		switch (cp) {
		case '\\': case '=': case ':': case '#': case '!':
			if (buf_addf(out, e, "\\%c", (char)cp))
				return -1;
			continue;
		case '\t': if (buf_adds(out, "\\t", e)) return -1; continue;
		case '\n': if (buf_adds(out, "\\n", e)) return -1; continue;
		case '\r': if (buf_adds(out, "\\r", e)) return -1; continue;
		case '\f': if (buf_adds(out, "\\f", e)) return -1; continue;
		default: break;
		}
		if (cp >= 0x20 && cp <= 0x7e) {
			char ch = (char)cp;
			if (buf_add(out, &ch, 1, e))
				return -1;
		} else if (cp >= 0x10000) {
			cp -= 0x10000;
			if (buf_addf(out, e, "\\u%04X\\u%04X", 0xd800 + (unsigned)(cp >> 10),
				     0xdc00 + (unsigned)(cp & 0x3ff)))
				return -1;
		} else if (buf_addf(out, e, "\\u%04X", (unsigned)cp)) {
			return -1;
		}
	}
	return 0;
}

int ci_jenkins_properties(const struct ci_output *o, size_t n, struct buf *out, struct err *e)
{
	size_t i;

	if (buf_adds(out, "# bosun outputs (read with readProperties)\n", e))
		return -1;
	for (i = 0; i < n; i++)
		if (ci_java_prop_escape(o[i].name, true, out, e) || buf_adds(out, "=", e) ||
		    ci_java_prop_escape(o[i].value, false, out, e) || buf_adds(out, "\n", e))
			return -1;
	return 0;
}

int ci_github_outputs(const struct ci_output *o, size_t n, struct buf *out, struct err *e)
{
	unsigned char rnd[16];
	char delim[64];
	size_t i, j;
	int len;

	for (i = 0; i < n; i++) {
		if (!valid_name(o[i].name))
			return err_set(e, ERR_INTERNAL, "invalid output name \"%s\"", o[i].name);
		if (!strchr(o[i].value, '\n') && !strchr(o[i].value, '\r')) {
			if (buf_addf(out, e, "%s=%s\n", o[i].name, o[i].value))
				return -1;
			continue;
		}
		do {
			if (RAND_bytes(rnd, sizeof(rnd)) != 1)
				return err_openssl(e, ERR_INTERNAL, "random delimiter");
			len = snprintf(delim, sizeof(delim), "ghadelimiter_");
			for (j = 0; j < sizeof(rnd); j++)
				len += snprintf(delim + len, sizeof(delim) - (size_t)len, "%02x", rnd[j]);
		} while (strstr(o[i].value, delim));
		if (buf_addf(out, e, "%s<<%s\n%s\n%s\n", o[i].name, delim, o[i].value, delim))
			return -1;
	}
	return 0;
}

int ci_append_file(const char *path, const char *data, size_t n, struct err *e)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	ssize_t w;

	if (fd < 0)
		return err_errno(e, ERR_INPUT, "open %s", path);
	while (n) {
		w = write(fd, data, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			err_errno(e, ERR_INPUT, "write %s", path);
			close(fd);
			return -1;
		}
		data += w;
		n -= (size_t)w;
	}
	if (close(fd) < 0)
		return err_errno(e, ERR_INPUT, "close %s", path);
	return 0;
}
