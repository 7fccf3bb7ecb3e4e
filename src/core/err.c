#include "core/err.h"

#include <archive.h>
#include <curl/curl.h>
#include <errno.h>
#include <openssl/err.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void err_clear(struct err *e)
{
	if (!e)
		return;
	e->code = 0;
	e->http_status = 0;
	e->msg[0] = 0;
}

__attribute__((format(printf, 3, 0))) static void vset(struct err *e, int code, const char *fmt, va_list ap)
{
	e->code = code;
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
}

/* Set e's code and message from the calling function's fmt and arguments. */
#define VSET(e, code, fmt)                                                                         \
	do {                                                                                       \
		va_list ap_;                                                                       \
		va_start(ap_, fmt);                                                                \
		vset(e, code, fmt, ap_);                                                           \
		va_end(ap_);                                                                       \
	} while (0)

int err_set(struct err *e, int code, const char *fmt, ...)
{
	if (!e)
		return -1;
	VSET(e, code, fmt);
	return -1;
}

int err_prefix(struct err *e, const char *fmt, ...)
{
	char ctx[ERR_MSG_MAX], old[ERR_MSG_MAX];
	va_list ap;

	if (!e)
		return -1;
	va_start(ap, fmt);
	vsnprintf(ctx, sizeof(ctx), fmt, ap);
	va_end(ap);
	memcpy(old, e->msg, sizeof(old));
	if (old[0])
		snprintf(e->msg, sizeof(e->msg), "%s: %s", ctx, old);
	else
		snprintf(e->msg, sizeof(e->msg), "%s", ctx);
	if (!e->code)
		e->code = ERR_INTERNAL;
	return -1;
}

/* Append ": detail" to the message already set. */
static void append(struct err *e, const char *detail)
{
	size_t n = strlen(e->msg);

	if (detail && *detail && n + 3 < sizeof(e->msg))
		snprintf(e->msg + n, sizeof(e->msg) - n, "%s%s", n ? ": " : "", detail);
}

int err_errno(struct err *e, int code, const char *fmt, ...)
{
	int saved = errno;

	if (!e)
		return -1;
	VSET(e, code, fmt);
	append(e, strerror(saved));
	errno = saved;
	return -1;
}

int err_curl(struct err *e, int curlcode, const char *errbuf, const char *fmt, ...)
{
	char detail[CURL_ERROR_SIZE + 64];
	size_t n;

	if (!e)
		return -1;
	VSET(e, ERR_NETWORK, fmt);
	if (errbuf && *errbuf) {
		snprintf(detail, sizeof(detail), "%s", errbuf);
		n = strlen(detail);
		while (n && (detail[n - 1] == '\n' || detail[n - 1] == '\r'))
			detail[--n] = 0;
	} else {
		snprintf(detail, sizeof(detail), "%s", curl_easy_strerror((CURLcode)curlcode));
	}
	append(e, detail);
	return -1;
}

int err_openssl(struct err *e, int code, const char *fmt, ...)
{
	unsigned long l, last = 0;
	char detail[256];

	/* Drain the whole queue so a stale error never leaks into a later call;
	 * the last entry is usually the most specific. */
	while ((l = ERR_get_error()) != 0)
		last = l;
	if (!e)
		return -1;
	VSET(e, code, fmt);
	if (last) {
		const char *reason = ERR_reason_error_string(last);

		if (reason)
			snprintf(detail, sizeof(detail), "%s", reason);
		else
			ERR_error_string_n(last, detail, sizeof(detail));
		append(e, detail);
	}
	return -1;
}

int err_archive(struct err *e, int code, void *a, const char *fmt, ...)
{
	const char *s = a ? archive_error_string((struct archive *)a) : NULL;

	if (!e)
		return -1;
	VSET(e, code, fmt);
	append(e, s ? s : "archive error");
	return -1;
}

int err_json(struct err *e, const char *input, size_t len, const char *fmt, ...)
{
	char detail[64];

	if (!e)
		return -1;
	VSET(e, ERR_INPUT, fmt);
	/* cJSON_GetErrorPtr is global state and not reliable across threads, so
	 * report only what we know for sure. */
	(void)input;
	snprintf(detail, sizeof(detail), "invalid JSON (%zu bytes)", len);
	append(e, detail);
	return -1;
}

int err_oom(struct err *e)
{
	return err_set(e, ERR_INTERNAL, "out of memory");
}
