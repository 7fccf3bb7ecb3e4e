/* Small helpers shared by the XML (JUnit) writers. */
#ifndef BOSUN_REPORT_XMLW_H
#define BOSUN_REPORT_XMLW_H

#include <libxml/xmlwriter.h>
#include <stddef.h>

/* XML 1.0 cannot carry control characters or invalid UTF-8 (JUnit readers
 * choke on them): copy s into out[cap] without control characters (TAB and
 * LF kept) and with '?' for each invalid byte. out may be s. Returns out. */
char *xmlw_clean(const char *s, char *out, size_t cap);
/* Attribute with a cleaned value (values over 2 KiB are cut). */
int xmlw_attr(xmlTextWriterPtr w, const char *name, const char *val);
int xmlw_attrf(xmlTextWriterPtr w, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* End the document (closing every open element), free *w (set to NULL) and
 * append what was written to out. The caller still frees xb. */
struct buf;
struct err;
int xmlw_finish(xmlTextWriterPtr *w, xmlBufferPtr xb, struct buf *out, struct err *e);

/* In a function with `struct err *e` and an `out:` label. */
#define XW(x)                                                                                \
	do {                                                                                 \
		if ((x) < 0) {                                                               \
			err_set(e, ERR_INTERNAL, "junit: xml writer failed");                \
			goto out;                                                            \
		}                                                                            \
	} while (0)

#endif
