/* Go build info in an executable. The input is what follows the ELF magic
 * and some padding in a file streamed past the scanner (whose reads come in
 * pieces, so the build info magic may straddle two of them): usually a
 * build info blob (the "\xff Go buildinf:" magic, a 32-byte header, then
 * the Go version and module info as varint-prefixed strings). The first
 * input byte sets the padding, which moves the blob against the pieces.
 * With its high bit set, the padding starts with an ELF64 header whose one
 * PT_LOAD maps addresses to the same file offsets and the Go build-id
 * note, so the pre-1.18 pointer form (pointers = file offsets) is read. */
#include "fuzz_inv.h"

#define PAD 4096

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	unsigned char *f;
	size_t pad;

	if (n == 0)
		return 0;
	pad = PAD + d[0];
	f = malloc(pad + n - 1);
	if (!f)
		abort();
	memset(f, 0, pad);
	memcpy(f,
	       "\x7f"
	       "ELF",
	       4);
	if (d[0] & 0x80) {
		memcpy(f + 4, "\2\1\1", 3);
		f[32] = 64, f[54] = 56, f[56] = 1; /* e_phoff, e_phentsize, e_phnum */
		f[64] = 1, f[64 + 32 + 5] = 1;	   /* PT_LOAD, p_filesz 2^40 */
		memcpy(f + 176, "\4\0\0\0\4\0\0\0\4\0\0\0Go\0\0abcd", 20); /* the Go note */
	}
	memcpy(f + pad, d + 1, n - 1);
	fuzz_catalog("usr/local/bin/app", f, pad + n - 1, true);
	free(f);
	return 0;
}
