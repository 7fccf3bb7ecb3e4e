#include "report/xmlw.h"

#include "core/buf.h"
#include "core/err.h"
#include "core/util.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* Length of the valid UTF-8 sequence at s that XML 1.0 allows, or 0:
 * overlongs, surrogates, > U+10FFFF, U+FFFE/U+FFFF are refused. */
static size_t utf8_xml_len(const unsigned char *s)
{
	unsigned cp;
	size_t len;

	if (s[0] < 0x80)
		return s[0] >= 0x20 || s[0] == '\n' || s[0] == '\t' ? 1 : 0;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4, cp = s[0] & 0x07;
	else
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80) /* also stops at the NUL */
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp == 0xfffe || cp == 0xffff)
		return 0;
	return len;
}

char *xmlw_clean(const char *s, char *out, size_t cap)
{
	size_t n = 0;

	while (s && *s) {
		size_t l = utf8_xml_len((const unsigned char *)s);

		if (l == 0) {
			if ((unsigned char)*s >= 0x20 && n + 1 < cap)
				out[n++] = '?';
			s++;
			continue;
		}
		if (n + l >= cap)
			break;
		memmove(out + n, s, l);
		n += l;
		s += l;
	}
	out[n] = 0;
	return out;
}

int xmlw_attr(xmlTextWriterPtr w, const char *name, const char *val)
{
	char t[2048];

	return xmlTextWriterWriteAttribute(w, BAD_CAST name, BAD_CAST xmlw_clean(val, t, sizeof(t)));
}

int xmlw_attrf(xmlTextWriterPtr w, const char *name, const char *fmt, ...)
{
	char t[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(t, sizeof(t), fmt, ap);
	va_end(ap);
	return xmlTextWriterWriteAttribute(w, BAD_CAST name, BAD_CAST t);
}

int xmlw_finish(xmlTextWriterPtr *w, xmlBufferPtr xb, struct buf *out, struct err *e)
{
	int r = xmlTextWriterEndDocument(*w);

	xmlFreeTextWriter(*w);
	*w = NULL;
	if (r < 0)
		return err_set(e, ERR_INTERNAL, "junit: xml writer failed");
	return buf_add(out, xmlBufferContent(xb), (size_t)xmlBufferLength(xb), e);
}

int xmlw_open(xmlBufferPtr *xb, xmlTextWriterPtr *w, struct err *e)
{
	*xb = xmlBufferCreate();
	*w = *xb ? xmlNewTextWriterMemory(*xb, 0) : NULL;
	return *w ? 0 : err_oom(e);
}

void xmlw_free(xmlTextWriterPtr w, xmlBufferPtr xb)
{
	if (w)
		xmlFreeTextWriter(w);
	if (xb)
		xmlBufferFree(xb);
}

int junit_start(xmlTextWriterPtr w)
{
	xmlTextWriterSetIndent(w, 1);
	if (xmlTextWriterStartDocument(w, NULL, "UTF-8", NULL) < 0)
		return -1;
	return xmlTextWriterStartElement(w, BAD_CAST "testsuites");
}

int junit_suite_start(xmlTextWriterPtr w, const struct junit_suite *s, const struct junit_prop *p,
		      size_t n)
{
	char ts[32];

	time_rfc3339((int64_t)time(NULL), ts);
	if (s->timestamp && strlen(s->timestamp) >= 19 && s->timestamp[10] == 'T')
		memcpy(ts, s->timestamp, 19);
	ts[19] = 0; /* the windyroad XSD wants a timestamp without zone */
	if (xmlTextWriterStartElement(w, BAD_CAST "testsuite") < 0 ||
	    xmlw_attr(w, "name", s->name) < 0 || xmlw_attrf(w, "tests", "%zu", s->tests) < 0 ||
	    xmlw_attrf(w, "failures", "%zu", s->failures) < 0 ||
	    xmlw_attrf(w, "errors", "%zu", s->errors) < 0 ||
	    xmlw_attrf(w, "skipped", "%zu", s->skipped) < 0 ||
	    xmlw_attrf(w, "time", "%.3f", s->seconds) < 0 || xmlw_attr(w, "timestamp", ts) < 0 ||
	    xmlw_attr(w, "hostname", "localhost") < 0 || xmlw_attrf(w, "id", "%zu", s->id) < 0 ||
	    xmlw_attr(w, "package", "bosun") < 0 ||
	    xmlTextWriterStartElement(w, BAD_CAST "properties") < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (!p[i].value)
			continue;
		if (xmlTextWriterStartElement(w, BAD_CAST "property") < 0 ||
		    xmlw_attr(w, "name", p[i].name) < 0 || xmlw_attr(w, "value", p[i].value) < 0 ||
		    xmlTextWriterEndElement(w) < 0)
			return -1;
	}
	return xmlTextWriterEndElement(w);
}

int junit_suite_end(xmlTextWriterPtr w, const char *system_out)
{
	char t[2048];

	if (xmlTextWriterStartElement(w, BAD_CAST "system-out") < 0 ||
	    (system_out &&
	     xmlTextWriterWriteString(w, BAD_CAST xmlw_clean(system_out, t, sizeof(t))) < 0) ||
	    xmlTextWriterEndElement(w) < 0 ||
	    xmlTextWriterStartElement(w, BAD_CAST "system-err") < 0 ||
	    xmlTextWriterEndElement(w) < 0)
		return -1;
	return xmlTextWriterEndElement(w);
}

int junit_case_start(xmlTextWriterPtr w, const char *classname, const char *name, const char *time)
{
	if (xmlTextWriterStartElement(w, BAD_CAST "testcase") < 0 ||
	    xmlw_attr(w, "classname", classname) < 0 || xmlw_attr(w, "name", name) < 0)
		return -1;
	return xmlw_attr(w, "time", time ? time : "0");
}

int junit_outcome(xmlTextWriterPtr w, const char *kind, const char *message, const char *type,
		  const char *text)
{
	char t[2048];

	if (xmlTextWriterStartElement(w, BAD_CAST kind) < 0 ||
	    (message && xmlw_attr(w, "message", message) < 0) ||
	    (type && xmlw_attr(w, "type", type) < 0) ||
	    (text && xmlTextWriterWriteString(w, BAD_CAST xmlw_clean(text, t, sizeof(t))) < 0))
		return -1;
	return xmlTextWriterEndElement(w);
}

void junit_classname(const char *prefix, const char *name, char *out, size_t cap)
{
	int r = snprintf(out, cap, "%s.", prefix);
	size_t n = r < 0 ? 0 : (size_t)r;

	for (; name && *name && n < cap - 1; name++)
		out[n++] = *name == '.' ? '_' : *name;
	out[n < cap ? n : cap - 1] = 0;
}
