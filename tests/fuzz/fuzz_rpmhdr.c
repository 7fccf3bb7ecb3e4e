/* rpm package headers (the blobs of rpmdb.sqlite / Packages). */
#include "fuzz.h"
#include "scan/rpmdb.h"

static int cb(void *ctx, const struct rpm_pkg *p, struct err *e)
{
	(void)ctx;
	(void)p;
	(void)e;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	struct rpm_pkg p;
	struct err e = ERR_INIT;
	long skipped = 0;

	memset(&p, 0, sizeof(p));
	(void)rpm_header_parse(d, n, &p, &e);
	err_clear(&e);
	(void)rpmdb_bdb_read(d, n, cb, NULL, &skipped, &e);
	return 0;
}
