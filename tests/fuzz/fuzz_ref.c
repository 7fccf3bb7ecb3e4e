/* Image references: parse, and a parsed reference must re-parse from its string. */
#include <stdio.h>
#include "fuzz.h"
#include "oci/ref.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	char *s = fuzz_str(d, n);
	struct oci_ref r = {0}, r2 = {0};
	struct err e = ERR_INIT;

	if (oci_ref_parse(&r, s, &e) == 0) {
		char *str = oci_ref_string(&r), *name = oci_ref_name(&r), *fam = oci_ref_familiar(&r);
		(void)oci_ref_api_host(&r);
		(void)oci_ref_manifest_key(&r);
		if (str && oci_ref_parse(&r2, str, &e) != 0) {
			fprintf(stderr, "canonical form does not re-parse: '%s' -> '%s': %s\n", s, str, e.msg);
			abort();
		}
		oci_ref_free(&r2);
		free(str);
		free(name);
		free(fam);
	}
	oci_ref_free(&r);
	free(s);
	return 0;
}
