/* Lock files and archives: the first byte picks what the rest is, as
 * found at that path: Cargo.lock, package-lock.json, yarn.lock,
 * pnpm-lock.yaml, a jar, a wheel. */
#include "fuzz_inv.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	static const char *const paths[] = {"srv/Cargo.lock",  "srv/package-lock.json",
					    "srv/yarn.lock",   "srv/pnpm-lock.yaml",
					    "opt/lib/app.jar", "w/x-1.0-py3-none-any.whl"};

	if (n == 0)
		return 0;
	fuzz_catalog(paths[d[0] % 6], d + 1, n - 1, false);
	return 0;
}
