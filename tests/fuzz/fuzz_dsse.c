/* DSSE envelopes, in-toto statements, cosign simple-signing payloads and
 * Sigstore bundles. */
#include "fuzz.h"
#include "sign/bundle.h"
#include "sign/cosign.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	struct dsse_envelope env;
	struct intoto_statement st;
	struct cosign_payload p;
	struct sig_bundle b;
	struct err e = ERR_INIT;

	memset(&env, 0, sizeof(env));
	if (dsse_envelope_parse(&env, (const char *)d, n, &e) == 0)
		dsse_envelope_free(&env);
	memset(&st, 0, sizeof(st));
	err_clear(&e);
	if (intoto_statement_parse(&st, (const char *)d, n, &e) == 0)
		intoto_statement_free(&st);
	memset(&p, 0, sizeof(p));
	err_clear(&e);
	if (cosign_payload_parse(&p, (const char *)d, n, &e) == 0)
		cosign_payload_free(&p);
	err_clear(&e);
	if (bundle_parse(&b, (const char *)d, n, &e) == 0)
		bundle_free(&b);
	return 0;
}
