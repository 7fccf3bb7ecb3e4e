/* rpmdb.sqlite files as an image could carry them: the SQLite file format
 * itself (deserialised read-only, defensive, no views or triggers), then
 * each row's header blob. */
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
	struct err e = ERR_INIT;
	long skipped = 0;

	(void)rpmdb_sqlite_read(d, n, cb, NULL, &skipped, &e);
	return 0;
}
