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
/* A writer into a new memory buffer (-1 with e set when out of memory; *xb
 * may then be set, and xmlw_free frees it); xmlw_free frees either when set. */
int xmlw_open(xmlBufferPtr *xb, xmlTextWriterPtr *w, struct err *e);
void xmlw_free(xmlTextWriterPtr w, xmlBufferPtr xb);

/* The JUnit layout every writer shares (scan, ship, base watch): one
 * <testsuites>, each suite with the same attributes in the same order and
 * a timestamp without zone (the windyroad XSD wants none), properties, and
 * <system-out>/<system-err> at its end. Each returns < 0 on a writer error. */
struct junit_suite {
	const char *name;
	size_t tests, failures, errors, skipped, id;
	double seconds;
	const char *timestamp; /* RFC 3339 "YYYY-MM-DDTHH:MM:SS..." or NULL: now */
};
struct junit_prop {
	const char *name, *value; /* a NULL value leaves the property out */
};
/* Indented document and the opening <testsuites>. */
int junit_start(xmlTextWriterPtr w);
/* <testsuite ...><properties>...</properties>, left open for the testcases. */
int junit_suite_start(xmlTextWriterPtr w, const struct junit_suite *s, const struct junit_prop *p,
		      size_t n);
/* <system-out>system_out (cleaned, may be NULL)</system-out><system-err/></testsuite>. */
int junit_suite_end(xmlTextWriterPtr w, const char *system_out);

/* The classname "PREFIX.NAME" with NAME's dots made '_' (Jenkins splits a
 * classname at its last dot) into out[cap]. */
void junit_classname(const char *prefix, const char *name, char *out, size_t cap);
/* <testcase classname= name= time=>, left open for its outcome; the caller
 * ends it (xmlTextWriterEndElement). time NULL: "0". */
int junit_case_start(xmlTextWriterPtr w, const char *classname, const char *name, const char *time);
/* <KIND message= type=>text</KIND>, KIND "failure", "error" or "skipped";
 * message, type and text may be NULL (left out); all cleaned (text cut at
 * 2 KiB). */
int junit_outcome(xmlTextWriterPtr w, const char *kind, const char *message, const char *type,
		  const char *text);

/* In a function with `struct err *e` and an `out:` label. */
#define XW(x)                                                                                \
	do {                                                                                 \
		if ((x) < 0) {                                                               \
			err_set(e, ERR_INTERNAL, "junit: xml writer failed");                \
			goto out;                                                            \
		}                                                                            \
	} while (0)

#endif
