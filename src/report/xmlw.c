#include "report/xmlw.h"

#include <stdarg.h>
#include <stdio.h>

char *xmlw_clean(const char *s, char *out, size_t cap)
{
	size_t n = 0;

	for (; s && *s && n < cap - 1; s++)
		if ((unsigned char)*s >= 0x20 || *s == '\n' || *s == '\t')
			out[n++] = *s;
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
