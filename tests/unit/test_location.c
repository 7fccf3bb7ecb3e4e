/* Image location parsing: the transports skopeo users know. */
#include <stdlib.h>

#include "core/util.h"
#include "image/location.h"
#include "test.h"

TEST(locations)
{
	static const struct {
		const char *in;
		int kind;
		const char *path, *tag, *ref;
	} ok[] = {
		{ "alpine", LOC_REGISTRY, NULL, NULL, "docker.io/library/alpine:latest" },
		{ "docker://localhost:5000/a/b:1", LOC_REGISTRY, NULL, NULL, "localhost:5000/a/b:1" },
		{ "oci:out", LOC_OCI, "out", NULL, NULL },
		{ "oci:/tmp/x:v1.2", LOC_OCI, "/tmp/x", "v1.2", NULL },
		{ "docker-archive:img.tar", LOC_DOCKER_ARCHIVE, "img.tar", NULL, NULL },
		{ "docker-archive:img.tar:app:1", LOC_DOCKER_ARCHIVE, "img.tar", "app:1", NULL },
		{ "dir:/rootfs", LOC_DIR, "/rootfs", NULL, NULL },
	};
	static const struct {
		const char *in;
		int code;
	} bad[] = {
		{ "", ERR_USAGE },           { "oci:", ERR_USAGE },      { "oci:dir:", ERR_USAGE },
		{ "docker-archive:", ERR_USAGE }, { "dir:", ERR_USAGE }, { "ftp://x/y", ERR_USAGE },
		{ "Upper/Case", ERR_INPUT }, { "docker://", ERR_INPUT },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(ok); i++) {
		struct location l;
		struct err e = ERR_INIT;

		CHECK_INT(location_parse(&l, ok[i].in, &e), 0);
		if (e.code) {
			fprintf(stderr, "  %s: %s\n", ok[i].in, e.msg);
			continue;
		}
		CHECK_INT(l.kind, ok[i].kind);
		if (ok[i].path)
			CHECK_STR(l.path, ok[i].path);
		if (ok[i].tag)
			CHECK_STR(l.tag, ok[i].tag);
		else
			CHECK(l.tag == NULL);
		if (ok[i].ref) {
			char *s = oci_ref_string(&l.ref);

			CHECK_STR(s, ok[i].ref);
			free(s);
		}
		location_free(&l);
	}
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		struct location l;
		struct err e = ERR_INIT;

		CHECK_INT(location_parse(&l, bad[i].in, &e), -1);
		if (e.code != bad[i].code)
			fprintf(stderr, "  \"%s\": code %d (%s)\n", bad[i].in, e.code, e.msg);
		CHECK_INT(e.code, bad[i].code);
	}
}

int main(void)
{
	RUN(locations);
	return test_done();
}
