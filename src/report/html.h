/* The HTML report: one self-contained page (inline CSS and SVG, no external
 * assets, readable without JavaScript; a small inline script sorts the
 * findings table) rendered from the ship results model. */
#ifndef BOSUN_REPORT_HTML_H
#define BOSUN_REPORT_HTML_H

#include "core/buf.h"
#include "core/err.h"
#include "report/results.h"

/* Escape & < > " ' for HTML text and attribute values. */
int html_escape(struct buf *out, const char *s, struct err *e);
int results_html(const struct results *r, struct buf *out, struct err *e);

#endif
