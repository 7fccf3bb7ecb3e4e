/* The JUnit writer: any strings in (split from the input on newlines into
 * finding fields), output must be well-formed XML for libxml2. */
#include <libxml/parser.h>
#include <stdio.h>
#include "fuzz.h"
#include "report/results.h"

static void silent(void *ctx, const char *msg, ...)
{
	(void)ctx;
	(void)msg;
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	char *s = fuzz_str(d, n), *f[8];
	struct results r;
	struct res_finding rf;
	struct buf out;
	struct err e = ERR_INIT;
	int k = 0;

	xmlSetGenericErrorFunc(NULL, silent);
	for (int i = 0; i < 8; i++)
		f[i] = "";
	f[0] = s;
	for (size_t i = 0; i < n && k < 7; i++)
		if (s[i] == '\n') {
			s[i] = 0;
			f[++k] = s + i + 1;
		}
	results_init(&r);
	buf_init(&out, BUF_CAP_DEFAULT);
	memset(&rf, 0, sizeof(rf));
	rf.id = f[0];
	rf.severity = f[1];
	rf.package = f[2];
	rf.installed = f[3];
	rf.fixed = f[4];
	rf.layer = f[5];
	rf.title = f[6];
	rf.aliases = &f[7];
	rf.n_aliases = 1;
	rf.failing = n & 1;
	if (results_set(&r.ref, f[7], &e) || results_set(&r.stage[RS_SCAN].details, f[6], &e) ||
	    results_add_finding(&r, &rf, &e))
		goto out;
	r.stage[RS_SCAN].status = RST_FAILED;
	if (results_junit(&r, &out, &e) == 0) {
		xmlDocPtr doc = xmlReadMemory(out.data, (int)out.len, "junit.xml", NULL, XML_PARSE_NONET);
		if (!doc) {
			fprintf(stderr, "JUnit output is not well-formed XML:\n%.*s\n", (int)out.len, out.data);
			abort();
		}
		xmlFreeDoc(doc);
	}
out:
	buf_free(&out);
	results_free(&r);
	free(s);
	return 0;
}
