/* Manifests, indexes and image configs; a parsed manifest must serialise and re-parse. */
#include <stdio.h>
#include "fuzz.h"
#include "oci/manifest.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	struct err e = ERR_INIT;
	struct oci_manifest m = {0}, m2 = {0};
	struct oci_index idx = {0};
	struct oci_config c = {0};
	const char *json = (const char *)d;

	(void)oci_detect_media_type(json, n);
	if (oci_manifest_parse(&m, json, n, NULL, &e) == 0) {
		size_t len = 0;
		char *out = oci_manifest_serialise(&m, &len, &e);
		if (out && oci_manifest_parse(&m2, out, len, NULL, &e) != 0) {
			fprintf(stderr, "serialised manifest does not re-parse: %s\n", e.msg);
			abort();
		}
		oci_manifest_free(&m2);
		free(out);
	}
	oci_manifest_free(&m);
	if (oci_index_parse(&idx, json, n, NULL, &e) == 0) {
		free(oci_index_platforms(&idx));
		oci_index_free(&idx);
	}
	if (oci_config_parse(&c, json, n, &e) == 0)
		oci_config_free(&c);
	return 0;
}
