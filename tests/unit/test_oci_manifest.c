/* Manifests, indexes, configs, descriptors, platforms and digests. */
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/err.h"
#include "oci/desc.h"
#include "oci/digest.h"
#include "oci/manifest.h"
#include "test.h"

#define HA "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define HB "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define HC "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"
#define HD "dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd"

static const char oci_manifest[] =
	"{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
	"\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"sha256:" HA "\",\"size\":1234},"
	"\"layers\":[{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\",\"digest\":\"sha256:" HB "\",\"size\":5000000000},"
	"{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+zstd\",\"digest\":\"sha256:" HC "\",\"size\":0,"
	"\"annotations\":{\"z\":\"last\",\"a\":\"caf\\u00e9 \\\"q\\\"\"}}],"
	"\"subject\":{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"sha256:" HD "\",\"size\":7},"
	"\"artifactType\":\"application/vnd.example+json\","
	"\"annotations\":{\"org.opencontainers.image.base.name\":\"docker.io/library/alpine:3.19\"}}";

static const char docker_manifest[] =
	"{\n   \"schemaVersion\": 2,\n   \"mediaType\": \"application/vnd.docker.distribution.manifest.v2+json\",\n"
	"   \"config\": {\"mediaType\": \"application/vnd.docker.container.image.v1+json\", \"size\": 1469,"
	" \"digest\": \"sha256:" HA "\"},\n"
	"   \"layers\": [{\"mediaType\": \"application/vnd.docker.image.rootfs.diff.tar.gzip\", \"size\": 3408729,"
	" \"digest\": \"sha256:" HB "\"}]\n}";

/* Like docker buildx output: two platforms plus attestation manifests. */
static const char oci_index[] =
	"{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\",\"manifests\":["
	"{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"sha256:" HA "\",\"size\":1,"
	"\"platform\":{\"architecture\":\"amd64\",\"os\":\"linux\"}},"
	"{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"sha256:" HB "\",\"size\":2,"
	"\"platform\":{\"architecture\":\"arm64\",\"os\":\"linux\",\"variant\":\"v8\"}},"
	"{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"sha256:" HC "\",\"size\":3,"
	"\"annotations\":{\"vnd.docker.reference.digest\":\"sha256:" HA "\",\"vnd.docker.reference.type\":\"attestation-manifest\"},"
	"\"platform\":{\"architecture\":\"unknown\",\"os\":\"unknown\"}}],"
	"\"annotations\":{\"k\":\"v\"}}";

/* Docker list as Docker Hub serves for alpine: arm v6 before v7, arm64 without variant. */
static const char docker_list[] =
	"{\"schemaVersion\":2,\"mediaType\":\"application/vnd.docker.distribution.manifest.list.v2+json\",\"manifests\":["
	"{\"mediaType\":\"application/vnd.docker.distribution.manifest.v2+json\",\"digest\":\"sha256:" HA "\",\"size\":1,"
	"\"platform\":{\"architecture\":\"arm\",\"os\":\"linux\",\"variant\":\"v6\"}},"
	"{\"mediaType\":\"application/vnd.docker.distribution.manifest.v2+json\",\"digest\":\"sha256:" HB "\",\"size\":2,"
	"\"platform\":{\"architecture\":\"arm\",\"os\":\"linux\",\"variant\":\"v7\"}},"
	"{\"mediaType\":\"application/vnd.docker.distribution.manifest.v2+json\",\"digest\":\"sha256:" HC "\",\"size\":3,"
	"\"platform\":{\"architecture\":\"arm64\",\"os\":\"linux\"}},"
	"{\"mediaType\":\"application/vnd.docker.distribution.manifest.v2+json\",\"digest\":\"sha256:" HD "\",\"size\":4,"
	"\"platform\":{\"architecture\":\"amd64\",\"os\":\"windows\",\"os.version\":\"10.0.17763.5329\"}}]}";

static const char config_json[] =
	"{\"architecture\":\"amd64\",\"os\":\"linux\",\"created\":\"2024-01-02T03:04:05Z\","
	"\"config\":{\"User\":\"app\",\"WorkingDir\":\"/srv\",\"Env\":[\"PATH=/bin\",\"A=b\"],\"Entrypoint\":null,"
	"\"Cmd\":[\"/bin/sh\",\"-c\",\"echo hi\"],\"Labels\":{\"maintainer\":\"x\",\"image.base.ref.name\":\"alpine:3\"}},"
	"\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"sha256:" HA "\",\"sha256:" HB "\"]},"
	"\"history\":[{\"created_by\":\"a\"},{\"created_by\":\"b\",\"empty_layer\":true},{\"created_by\":\"c\"}]}";

TEST(parse_oci_manifest)
{
	struct oci_manifest m;
	struct err e = ERR_INIT;
	CHECK_INT(oci_manifest_parse(&m, oci_manifest, strlen(oci_manifest), NULL, &e), 0);
	CHECK_STR(m.media_type, MT_OCI_MANIFEST);
	CHECK_INT(m.schema_version, 2);
	CHECK_STR(m.config.media_type, MT_OCI_CONFIG);
	CHECK_STR(m.config.digest, "sha256:" HA);
	CHECK_INT(m.config.size, 1234);
	CHECK_INT(m.n_layers, 2);
	CHECK_INT(m.layers[0].size, 5000000000LL);
	CHECK_STR(m.layers[1].media_type, MT_OCI_LAYER_ZSTD);
	CHECK_INT(m.layers[1].size, 0);
	/* Annotations verbatim: order and escapes preserved. */
	CHECK_STR(m.layers[1].annotations_json, "{\"z\":\"last\",\"a\":\"caf\xc3\xa9 \\\"q\\\"\"}");
	CHECK(m.subject != NULL);
	CHECK_STR(m.subject->digest, "sha256:" HD);
	CHECK_STR(m.artifact_type, "application/vnd.example+json");
	CHECK(strstr(m.annotations_json, "docker.io/library/alpine:3.19") != NULL);
	CHECK(m.layers[0].platform == NULL);

	/* Serialise and parse back: same fields. */
	size_t len = 0;
	char *s = oci_manifest_serialise(&m, &len, &e);
	CHECK(s != NULL);
	struct oci_manifest m2;
	CHECK_INT(oci_manifest_parse(&m2, s, len, NULL, &e), 0);
	CHECK_INT(m2.n_layers, 2);
	CHECK_INT(m2.layers[0].size, 5000000000LL);
	CHECK_STR(m2.layers[1].annotations_json, m.layers[1].annotations_json);
	CHECK_STR(m2.subject->digest, m.subject->digest);
	CHECK_STR(m2.annotations_json, m.annotations_json);
	CHECK_STR(m2.artifact_type, m.artifact_type);
	free(s);
	oci_manifest_free(&m2);
	oci_manifest_free(&m);
	oci_manifest_free(&m); /* safe twice */
}

TEST(parse_docker_manifest)
{
	struct oci_manifest m;
	struct err e = ERR_INIT;
	CHECK_INT(oci_manifest_parse(&m, docker_manifest, strlen(docker_manifest), MT_OCI_MANIFEST, &e), 0);
	CHECK_STR(m.media_type, MT_DOCKER_MANIFEST); /* body wins over the hint */
	CHECK_STR(m.config.media_type, MT_DOCKER_CONFIG);
	CHECK_INT(m.n_layers, 1);
	CHECK_STR(m.layers[0].media_type, MT_DOCKER_LAYER_GZIP);
	CHECK_INT(m.layers[0].size, 3408729);
	CHECK(m.subject == NULL && m.annotations_json == NULL && m.artifact_type == NULL);
	oci_manifest_free(&m);
}

TEST(manifest_without_media_type)
{
	const char *j = "{\"schemaVersion\":2,\"config\":{\"mediaType\":\"x\",\"digest\":\"sha256:" HA
			"\",\"size\":2},\"layers\":[]}";
	struct oci_manifest m;
	struct err e = ERR_INIT;
	CHECK_INT(oci_manifest_parse(&m, j, strlen(j), NULL, &e), 0);
	CHECK_STR(m.media_type, MT_OCI_MANIFEST);
	CHECK_INT(m.n_layers, 0);
	oci_manifest_free(&m);
	CHECK_INT(oci_manifest_parse(&m, j, strlen(j), MT_DOCKER_MANIFEST, &e), 0);
	CHECK_STR(m.media_type, MT_DOCKER_MANIFEST);
	oci_manifest_free(&m);
	/* A hint that is not a manifest type does not turn it into one. */
	CHECK_INT(oci_manifest_parse(&m, j, strlen(j), "text/plain", &e), 0);
	CHECK_STR(m.media_type, MT_OCI_MANIFEST);
	oci_manifest_free(&m);
}

struct bad_manifest {
	const char *json;
	const char *hint;
	const char *why;
};

#define CFG "\"config\":{\"mediaType\":\"x\",\"digest\":\"sha256:" HA "\",\"size\":2}"
#define LAYER(extra) "{\"mediaType\":\"l\",\"digest\":\"sha256:" HB "\"" extra "}"

static const struct bad_manifest bad_manifests[] = {
	{ "{\"schemaVersion\":1,\"name\":\"x\",\"tag\":\"latest\",\"fsLayers\":[]}", NULL, "schema 1" },
	{ "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.docker.distribution.manifest.v1+prettyjws\"}", NULL, "schema 1" },
	{ "{\"schemaVersion\":2," CFG ",\"layers\":[]}", MT_DOCKER_SCHEMA1_SIGNED, "schema 1" },
	{ "not json", NULL, "not valid JSON" },
	{ "", NULL, "empty" },
	{ "[1,2]", NULL, "not a JSON object" },
	{ "{\"schemaVersion\":2,", NULL, "not valid JSON" },
	{ "{\"schemaVersion\":3," CFG ",\"layers\":[]}", NULL, "schemaVersion 3" },
	{ "{" CFG ",\"layers\":[]}", NULL, "missing \"schemaVersion\"" },
	{ "{\"schemaVersion\":\"2\"," CFG ",\"layers\":[]}", NULL, "\"schemaVersion\" must be a non-negative integer" },
	{ "{\"schemaVersion\":2,\"layers\":[]}", NULL, "missing \"config\"" },
	{ "{\"schemaVersion\":2," CFG "}", NULL, "missing \"layers\"" },
	{ "{\"schemaVersion\":2," CFG ",\"layers\":{}}", NULL, "\"layers\" must be an array" },
	{ "{\"schemaVersion\":2," CFG ",\"layers\":[" LAYER("") "]}", NULL, "layers[0]: missing \"size\"" },
	{ "{\"schemaVersion\":2," CFG ",\"layers\":[" LAYER(",\"size\":-1") "]}", NULL, "non-negative integer" },
	{ "{\"schemaVersion\":2," CFG ",\"layers\":[" LAYER(",\"size\":1.5") "]}", NULL, "non-negative integer" },
	{ "{\"schemaVersion\":2," CFG ",\"layers\":[" LAYER(",\"size\":\"10\"") "]}", NULL, "non-negative integer" },
	{ "{\"schemaVersion\":2," CFG ",\"layers\":[" LAYER(",\"size\":1e300") "]}", NULL, "non-negative integer" },
	{ "{\"schemaVersion\":2," CFG ",\"layers\":[" LAYER(",\"size\":1"), NULL, "not valid JSON" },
	{ "{\"schemaVersion\":2," CFG ",\"layers\":[{\"mediaType\":\"l\",\"digest\":\"sha256:abc\",\"size\":1}]}", NULL,
	  "invalid digest \"sha256:abc\"" },
	{ "{\"schemaVersion\":2," CFG ",\"layers\":[{\"mediaType\":\"l\",\"size\":1}]}", NULL, "missing \"digest\"" },
	{ "{\"schemaVersion\":2," CFG ",\"layers\":[{\"digest\":\"sha256:" HB "\",\"size\":1}]}", NULL, "missing \"mediaType\"" },
	{ "{\"schemaVersion\":2," CFG ",\"layers\":[{\"mediaType\":7,\"digest\":\"sha256:" HB "\",\"size\":1}]}", NULL,
	  "\"mediaType\" must be a string" },
	{ "{\"schemaVersion\":2," CFG ",\"layers\":[" LAYER(",\"size\":1,\"annotations\":{\"a\":1}") "]}", NULL,
	  "must be a string" },
	{ "{\"schemaVersion\":2," CFG ",\"layers\":[" LAYER(",\"size\":1,\"annotations\":[]") "]}", NULL,
	  "must be an object" },
	{ "{\"schemaVersion\":2,\"config\":\"x\",\"layers\":[]}", NULL, "config: descriptor must be an object" },
	{ "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\",\"manifests\":[]}", NULL,
	  "expected an image manifest" },
	{ "{\"schemaVersion\":2,\"manifests\":[]}", NULL, "expected an image manifest, got an index" },
	{ "{\"schemaVersion\":2,\"mediaType\":\"application/json\"," CFG ",\"layers\":[]}", NULL, "expected an image manifest" },
	{ "{\"schemaVersion\":2," CFG ",\"layers\":[],\"subject\":{\"mediaType\":\"x\",\"digest\":\"sha256:1\",\"size\":1}}",
	  NULL, "subject" },
	{ "{\"schemaVersion\":2," CFG ",\"layers\":[" LAYER(",\"size\":1,\"platform\":{\"os\":\"linux\"}") "]}", NULL,
	  "missing \"architecture\"" },
};

TEST(bad_manifests_rejected)
{
	for (size_t i = 0; i < sizeof bad_manifests / sizeof bad_manifests[0]; i++) {
		const struct bad_manifest *c = &bad_manifests[i];
		struct oci_manifest m;
		struct err e = ERR_INIT;
		int rc = oci_manifest_parse(&m, c->json, strlen(c->json), c->hint, &e);
		CHECK_INT(rc, -1);
		CHECK_INT(e.code, ERR_INPUT);
		if (!strstr(e.msg, c->why) || !strstr(e.msg, "manifest")) {
			fprintf(stderr, "case %zu: message \"%s\" lacks \"%s\"\n", i, e.msg, c->why);
			CHECK(0);
		}
		CHECK(m.media_type == NULL && m.layers == NULL && m.config.digest == NULL);
	}
}

TEST(size_cap)
{
	/* A valid manifest padded with whitespace past 4 MiB is refused unparsed. */
	size_t n = BUF_CAP_MANIFEST + 1;
	char *big = malloc(n);
	memset(big, ' ', n);
	memcpy(big, docker_manifest, strlen(docker_manifest));
	struct oci_manifest m;
	struct oci_index idx;
	struct oci_config c;
	struct err e = ERR_INIT;
	CHECK_INT(oci_manifest_parse(&m, big, n, NULL, &e), -1);
	CHECK_INT(e.code, ERR_INPUT);
	CHECK(strstr(e.msg, "limit") != NULL);
	CHECK_INT(oci_index_parse(&idx, big, n, NULL, &e), -1);
	CHECK_INT(e.code, ERR_INPUT);
	CHECK_INT(oci_config_parse(&c, big, n, &e), -1);
	CHECK_INT(e.code, ERR_INPUT);
	CHECK(oci_detect_media_type(big, n) == NULL);
	/* Exactly at the cap is fine. */
	CHECK_INT(oci_manifest_parse(&m, big, n - 1, NULL, &e), 0);
	oci_manifest_free(&m);
	free(big);
}

TEST(parse_indexes)
{
	struct oci_index idx;
	struct err e = ERR_INIT;
	CHECK_INT(oci_index_parse(&idx, oci_index, strlen(oci_index), NULL, &e), 0);
	CHECK_STR(idx.media_type, MT_OCI_INDEX);
	CHECK_INT(idx.n, 3);
	CHECK_STR(idx.manifests[1].platform->variant, "v8");
	CHECK(idx.manifests[0].platform->variant == NULL);
	CHECK_STR(idx.annotations_json, "{\"k\":\"v\"}");
	CHECK(!oci_desc_is_attestation(&idx.manifests[0]));
	CHECK(oci_desc_is_attestation(&idx.manifests[2]));
	char *pl = oci_index_platforms(&idx);
	CHECK_STR(pl, "linux/amd64, linux/arm64/v8");
	free(pl);
	oci_index_free(&idx);

	CHECK_INT(oci_index_parse(&idx, docker_list, strlen(docker_list), NULL, &e), 0);
	CHECK_STR(idx.media_type, MT_DOCKER_LIST);
	CHECK_INT(idx.n, 4);
	CHECK_STR(idx.manifests[3].platform->os_version, "10.0.17763.5329");
	oci_index_free(&idx);

	/* A manifest is not an index; schema 1 is refused here too. */
	CHECK_INT(oci_index_parse(&idx, docker_manifest, strlen(docker_manifest), NULL, &e), -1);
	CHECK_INT(e.code, ERR_INPUT);
	CHECK(strstr(e.msg, "expected an index") != NULL);
	const char *s1 = "{\"schemaVersion\":1,\"fsLayers\":[]}";
	CHECK_INT(oci_index_parse(&idx, s1, strlen(s1), NULL, &e), -1);
	CHECK(strstr(e.msg, "schema 1") != NULL);
	const char *bad = "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"x\",\"digest\":\"sha256:" HA
			  "\",\"size\":1,\"platform\":\"linux/amd64\"}]}";
	CHECK_INT(oci_index_parse(&idx, bad, strlen(bad), NULL, &e), -1);
	CHECK(strstr(e.msg, "manifests[0]: \"platform\" must be an object") != NULL);
	const char *nomf = "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\"}";
	CHECK_INT(oci_index_parse(&idx, nomf, strlen(nomf), NULL, &e), -1);
	CHECK(strstr(e.msg, "missing \"manifests\"") != NULL);
}

static const char *select_digest(const char *json, const char *platform, struct err *e, struct oci_desc *d)
{
	struct oci_index idx;
	struct oci_platform want;
	const char *r = NULL;
	if (oci_index_parse(&idx, json, strlen(json), NULL, e) < 0)
		return NULL;
	if (oci_platform_parse(&want, platform, e) == 0) {
		if (oci_index_select(&idx, &want, d, e) == 0)
			r = d->digest;
		oci_platform_free(&want);
	}
	oci_index_free(&idx);
	return r;
}

TEST(platform_selection)
{
	static const struct {
		const char *json, *want, *digest; /* digest NULL: no match */
	} cases[] = {
		{ oci_index, "linux/amd64", "sha256:" HA },
		{ oci_index, "linux/x86_64", "sha256:" HA },
		{ oci_index, "linux/arm64", "sha256:" HB },    /* no variant wanted, v8 listed */
		{ oci_index, "linux/arm64/v8", "sha256:" HB },
		{ oci_index, "linux/aarch64", "sha256:" HB },
		{ oci_index, "linux/arm64/8", "sha256:" HB },
		{ oci_index, "linux/arm", NULL },
		{ oci_index, "linux/s390x", NULL },
		{ oci_index, "windows/amd64", NULL },
		{ oci_index, "unknown/unknown", NULL },        /* attestations are never picked */
		{ docker_list, "linux/arm64/v8", "sha256:" HC }, /* v8 wanted, listed without variant */
		{ docker_list, "linux/arm64", "sha256:" HC },
		{ docker_list, "linux/arm", "sha256:" HB },    /* plain arm is v7, not the v6 listed first */
		{ docker_list, "linux/arm/v7", "sha256:" HB },
		{ docker_list, "linux/arm/v6", "sha256:" HA },
		{ docker_list, "linux/arm/v5", NULL },
		{ docker_list, "linux/amd64", NULL },
		{ docker_list, "windows/amd64", "sha256:" HD },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct err e = ERR_INIT;
		struct oci_desc d = { 0 };
		const char *got = select_digest(cases[i].json, cases[i].want, &e, &d);
		if (cases[i].digest) {
			if (!got || strcmp(got, cases[i].digest) != 0) {
				fprintf(stderr, "case %zu %s: got %s (%s)\n", i, cases[i].want, got ? got : "none", e.msg);
				CHECK(0);
			}
		} else {
			CHECK(got == NULL);
			CHECK_INT(e.code, ERR_INPUT);
			CHECK(strstr(e.msg, "available: ") != NULL);
		}
		oci_desc_free(&d);
	}
	/* The message names the wanted platform and lists what exists, without attestations. */
	struct err e = ERR_INIT;
	struct oci_desc d = { 0 };
	CHECK(select_digest(oci_index, "linux/riscv64", &e, &d) == NULL);
	CHECK_STR(e.msg, "no image for platform linux/riscv64 in the index (available: linux/amd64, linux/arm64/v8); "
			 "choose one with --platform");
	/* Selection copies the descriptor, platform included. */
	CHECK(select_digest(oci_index, "linux/arm64", &e, &d) != NULL);
	CHECK_STR(d.platform->architecture, "arm64");
	CHECK_INT(d.size, 2);
	oci_desc_free(&d);
	/* NULL = this build's platform; the test index has amd64 and arm64. */
	struct oci_index idx;
	CHECK_INT(oci_index_parse(&idx, oci_index, strlen(oci_index), NULL, &e), 0);
#if defined(__x86_64__) || defined(__aarch64__)
	CHECK_INT(oci_index_select(&idx, NULL, &d, &e), 0);
	oci_desc_free(&d);
#endif
	oci_index_free(&idx);
}

TEST(platform_parse_and_match)
{
	struct oci_platform p;
	struct err e = ERR_INIT;
	CHECK_INT(oci_platform_parse(&p, "linux/arm64/v8", &e), 0);
	CHECK_STR(p.os, "linux");
	CHECK_STR(p.architecture, "arm64");
	CHECK_STR(p.variant, "v8");
	char *s = oci_platform_string(&p);
	CHECK_STR(s, "linux/arm64/v8");
	free(s);
	struct oci_platform q;
	CHECK_INT(oci_platform_copy(&q, &p, &e), 0);
	CHECK(oci_platform_match(&q, &p));
	oci_platform_free(&q);
	oci_platform_free(&p);
	static const char *const bad[] = { "", "linux", "linux/", "/amd64", "linux//v8", "linux/arm/", "a/b/c/d",
					   "linux/amd64,linux/arm64", "linux/amd64 ", "linux/arm64,linux/amd64/v2" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		CHECK_INT(oci_platform_parse(&p, bad[i], &e), -1);
		CHECK_INT(e.code, ERR_USAGE);
	}
	/* amd64 without variant matches a v2/v3 variant; v3 wanted does not match plain. */
	struct oci_platform w = { (char *)"linux", (char *)"amd64", NULL, NULL };
	struct oci_platform h = { (char *)"linux", (char *)"amd64", (char *)"v3", NULL };
	CHECK(oci_platform_match(&w, &h));
	CHECK(!oci_platform_match(&h, &w));
	struct oci_platform w1 = { (char *)"linux", (char *)"amd64", (char *)"v1", NULL };
	CHECK(oci_platform_match(&w1, &w));
	CHECK_INT(oci_platform_default(&p, &e), 0);
	CHECK_STR(p.os, "linux");
	oci_platform_free(&p);
}

TEST(detect_media_type)
{
	CHECK_STR(oci_detect_media_type(oci_manifest, strlen(oci_manifest)), MT_OCI_MANIFEST);
	CHECK_STR(oci_detect_media_type(docker_manifest, strlen(docker_manifest)), MT_DOCKER_MANIFEST);
	CHECK_STR(oci_detect_media_type(oci_index, strlen(oci_index)), MT_OCI_INDEX);
	CHECK_STR(oci_detect_media_type(docker_list, strlen(docker_list)), MT_DOCKER_LIST);
	const char *a = "{\"schemaVersion\":2,\"manifests\":[]}";
	CHECK_STR(oci_detect_media_type(a, strlen(a)), MT_OCI_INDEX);
	const char *b = "{\"schemaVersion\":2,\"layers\":[]}";
	CHECK_STR(oci_detect_media_type(b, strlen(b)), MT_OCI_MANIFEST);
	const char *c = "{\"schemaVersion\":1,\"fsLayers\":[]}";
	CHECK_STR(oci_detect_media_type(c, strlen(c)), MT_DOCKER_SCHEMA1);
	const char *d = "{\"mediaType\":\"application/vnd.docker.distribution.manifest.v1+prettyjws\"}";
	CHECK_STR(oci_detect_media_type(d, strlen(d)), MT_DOCKER_SCHEMA1_SIGNED);
	const char *u = "{\"mediaType\":\"text/html\",\"layers\":[]}";
	CHECK(oci_detect_media_type(u, strlen(u)) == NULL);
	CHECK(oci_detect_media_type("{}", 2) == NULL);
	CHECK(oci_detect_media_type("<html>", 6) == NULL);
	CHECK(oci_detect_media_type("[]", 2) == NULL);
	CHECK(oci_detect_media_type(NULL, 0) == NULL);
}

/* An index serialised and parsed again: the same entries, platforms and
 * annotations, and the serialisation is canonical (the same bytes again). */
TEST(index_serialise)
{
	struct oci_index idx, back;
	struct err e = ERR_INIT;
	size_t len, len2;

	CHECK_INT(oci_index_parse(&idx, oci_index, strlen(oci_index), NULL, &e), 0);
	char *t = oci_index_serialise(&idx, &len, &e);
	CHECK(t != NULL);
	CHECK_INT(len, strlen(t));
	CHECK_INT(oci_index_parse(&back, t, len, NULL, &e), 0);
	CHECK_STR(back.media_type, "application/vnd.oci.image.index.v1+json");
	CHECK_INT(back.n, 3);
	CHECK_STR(back.manifests[1].digest, "sha256:" HB);
	CHECK_INT(back.manifests[1].size, 2);
	CHECK_STR(back.manifests[1].platform->architecture, "arm64");
	CHECK_STR(back.manifests[1].platform->variant, "v8");
	CHECK(back.manifests[0].platform->variant == NULL);
	CHECK(oci_desc_is_attestation(&back.manifests[2]));
	CHECK_STR(back.annotations_json, "{\"k\":\"v\"}");
	char *t2 = oci_index_serialise(&back, &len2, &e);
	CHECK_STR(t2, t);
	free(t);
	free(t2);
	oci_index_free(&back);
	/* no annotations: none written; an empty index has an empty array */
	free(idx.annotations_json);
	idx.annotations_json = NULL;
	for (size_t i = 0; i < idx.n; i++)
		oci_desc_free(&idx.manifests[i]);
	idx.n = 0;
	t = oci_index_serialise(&idx, NULL, &e);
	CHECK_STR(t, "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\",\"manifests\":[]}");
	free(t);
	oci_index_free(&idx);
}

TEST(parse_config)
{
	struct oci_config c;
	struct err e = ERR_INIT;
	CHECK_INT(oci_config_parse(&c, config_json, strlen(config_json), &e), 0);
	CHECK_STR(c.os, "linux");
	CHECK_STR(c.architecture, "amd64");
	CHECK(c.variant == NULL);
	CHECK_STR(c.created, "2024-01-02T03:04:05Z");
	CHECK_STR(c.user, "app");
	CHECK_STR(c.workdir, "/srv");
	CHECK_STR(c.env[0], "PATH=/bin");
	CHECK_STR(c.env[1], "A=b");
	CHECK(c.env[2] == NULL);
	CHECK(c.entrypoint == NULL);
	CHECK_STR(c.cmd[2], "echo hi");
	CHECK(c.cmd[3] == NULL);
	CHECK_STR(c.labels_json, "{\"maintainer\":\"x\",\"image.base.ref.name\":\"alpine:3\"}");
	CHECK_INT(c.n_diff_ids, 2);
	CHECK_STR(c.diff_ids[1], "sha256:" HB);
	CHECK(c.diff_ids[2] == NULL);
	CHECK_INT(c.n_history, 3);
	oci_config_free(&c);
	oci_config_free(&c);

	CHECK_INT(oci_config_parse(&c, "{}", 2, &e), 0);
	CHECK(c.os == NULL && c.env == NULL && c.n_diff_ids == 0);
	oci_config_free(&c);

	static const char *const bad[] = {
		"nope", "{\"config\":[]}", "{\"config\":{\"Env\":\"A=b\"}}", "{\"config\":{\"Cmd\":[1]}}",
		"{\"rootfs\":{\"diff_ids\":[\"sha256:12\"]}}", "{\"os\":5}", "{\"history\":{}}",
		"{\"config\":{\"Labels\":[]}}",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		CHECK_INT(oci_config_parse(&c, bad[i], strlen(bad[i]), &e), -1);
		CHECK_INT(e.code, ERR_INPUT);
		CHECK(strstr(e.msg, "image config") != NULL);
	}
}

TEST(descriptor_json)
{
	const char *j = "{\"mediaType\":\"m\",\"digest\":\"sha256:" HA "\",\"size\":12,\"artifactType\":\"t\","
			"\"annotations\":{\"b\":\"2\",\"a\":\"1\"},\"platform\":{\"architecture\":\"arm\",\"os\":\"linux\","
			"\"variant\":\"v7\",\"os.version\":\"x\"},\"urls\":[\"http://x\"]}";
	cJSON *in = cJSON_Parse(j);
	struct oci_desc d, c;
	struct err e = ERR_INIT;
	CHECK_INT(oci_desc_from_json(&d, in, &e), 0);
	CHECK_STR(d.artifact_type, "t");
	CHECK_STR(d.platform->variant, "v7");
	CHECK_STR(d.annotations_json, "{\"b\":\"2\",\"a\":\"1\"}");
	char *a = oci_desc_annotation(&d, "a");
	CHECK_STR(a, "1");
	free(a);
	CHECK(oci_desc_annotation(&d, "zz") == NULL);
	CHECK_INT(oci_desc_copy(&c, &d, &e), 0);
	cJSON *out = oci_desc_to_json(&c, &e);
	char *s = cJSON_PrintUnformatted(out);
	CHECK_STR(s, "{\"mediaType\":\"m\",\"digest\":\"sha256:" HA "\",\"size\":12,\"artifactType\":\"t\","
		     "\"annotations\":{\"b\":\"2\",\"a\":\"1\"},\"platform\":{\"architecture\":\"arm\",\"os\":\"linux\","
		     "\"os.version\":\"x\",\"variant\":\"v7\"}}");
	free(s);
	cJSON_Delete(out);
	cJSON_Delete(in);
	oci_desc_free(&c);
	oci_desc_free(&d);
	oci_desc_free(&d);
	CHECK(oci_mt_is_index(MT_DOCKER_LIST) && oci_mt_is_index(MT_OCI_INDEX) && !oci_mt_is_index(MT_OCI_MANIFEST));
	CHECK(oci_mt_is_manifest(MT_DOCKER_MANIFEST) && !oci_mt_is_manifest(NULL) && !oci_mt_is_manifest("x"));
}

TEST(digests)
{
	static const char *const good[] = { "sha256:" HA,
					    "sha512:" HA HB };
	static const char *const bad[] = { NULL, "", "sha256:", "sha256:" HA "a", "sha256:" HA "\n",
					   "SHA256:" HA, "sha256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
					   "sha384:" HA, "sha512:" HA, "sha256:gggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggg" };
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
		CHECK(oci_digest_valid(good[i]));
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		CHECK(!oci_digest_valid(bad[i]));
	struct err e = ERR_INIT;
	CHECK_INT(oci_digest_check("sha256:1", "layer 3", &e), -1);
	CHECK_INT(e.code, ERR_INPUT);
	CHECK_STR(e.msg, "layer 3: invalid digest \"sha256:1\"");
	/* sha256("abc") and sha512("abc"). */
	const char *abc256 = "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
	const char *abc512 = "sha512:ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
			     "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f";
	CHECK_INT(oci_digest_verify(abc256, "abc", 3, &e), 0);
	CHECK_INT(oci_digest_verify(abc512, "abc", 3, &e), 0);
	CHECK_INT(oci_digest_verify(abc256, "abd", 3, &e), -1);
	CHECK_INT(e.code, ERR_INPUT);
	CHECK(strstr(e.msg, "digest mismatch: expected sha256:ba78") != NULL);
	char s[20];
	oci_digest_short(abc256, s);
	CHECK_STR(s, "sha256:ba7816bf8f01");
	oci_digest_short("x", s);
	CHECK_STR(s, "x");
	oci_digest_short(NULL, s);
	CHECK_STR(s, "");
	CHECK_STR(oci_digest_hex(abc256), abc256 + 7);
}

int main(void)
{
	RUN(parse_oci_manifest);
	RUN(parse_docker_manifest);
	RUN(manifest_without_media_type);
	RUN(bad_manifests_rejected);
	RUN(size_cap);
	RUN(parse_indexes);
	RUN(platform_selection);
	RUN(platform_parse_and_match);
	RUN(detect_media_type);
	RUN(index_serialise);
	RUN(parse_config);
	RUN(descriptor_json);
	RUN(digests);
	return test_done();
}
