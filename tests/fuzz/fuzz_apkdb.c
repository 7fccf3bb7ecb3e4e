/* apk's installed database, lib/apk/db/installed: the input is the file. */
#include "fuzz_inv.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	fuzz_catalog("lib/apk/db/installed", d, n, false);
	return 0;
}
