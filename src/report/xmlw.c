#include "report/xmlw.h"

#include "core/buf.h"
#include "core/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

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
