/* PEM and cosign keys: public and private (with a fixed password, never the
 * terminal prompt), and cosign's encrypted-key JSON. */
#include "fuzz.h"
#include "sign/keys.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	struct sign_key k;
	struct err e = ERR_INIT;
	unsigned char *out = NULL;
	size_t outlen = 0;

	memset(&k, 0, sizeof(k));
	if (sign_key_parse_public(&k, (const char *)d, n, &e) == 0)
		sign_key_free(&k);
	memset(&k, 0, sizeof(k));
	err_clear(&e);
	if (sign_key_parse_private(&k, (const char *)d, n, "pw", 2, &e) == 0)
		sign_key_free(&k);
	err_clear(&e);
	if (cosign_decrypt((const char *)d, n, "pw", 2, &out, &outlen, &e) == 0)
		free(out);
	return 0;
}
