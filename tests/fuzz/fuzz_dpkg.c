/* dpkg databases: the input is var/lib/dpkg/status, or (first byte odd) a
 * file in var/lib/dpkg/status.d/ as distroless images ship them; the rest
 * of the input after that byte is the file. */
#include "fuzz_inv.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	if (n == 0)
		return 0;
	fuzz_catalog(d[0] & 1 ? "var/lib/dpkg/status.d/base" : "var/lib/dpkg/status", d + 1, n - 1, false);
	return 0;
}
