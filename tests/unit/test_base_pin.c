/* FROM parsing and pinning without a registry: table of Dockerfiles with
 * the current digests filled in by hand, the rewritten text compared whole. */
#include <stdlib.h>
#include <unistd.h>

#include "base/base.h"
#include "core/fs.h"
#include "test.h"

#define D1 "sha256:1111111111111111111111111111111111111111111111111111111111111111"
#define D2 "sha256:2222222222222222222222222222222222222222222222222222222222222222"

static const struct {
	const char *in, *out, *out_update;
	int n_from, n_skip;
} cases[] = {
	{ "FROM alpine:3.19\n", "FROM alpine:3.19@" D2 "\n", NULL, 1, 0 },
	{ "# c\nFROM alpine:3.19 AS a # not a comment\n", NULL, NULL, -1, 0 }, /* FROM takes IMAGE [AS NAME] */
	{ "ARG V=3.19\nFROM alpine:${V} as base\nFROM base\nRUN x\n",
	  "ARG V=3.19\nFROM alpine:${V}@" D2 " as base\nFROM base\nRUN x\n", NULL, 2, 1 },
	{ "FROM alpine:3.19@" D1 "\n", "FROM alpine:3.19@" D1 "\n", "FROM alpine:3.19@" D2 "\n", 1, 0 },
	{ "FROM scratch\nFROM alpine@" D1 "\n", "FROM scratch\nFROM alpine@" D1 "\n", NULL, 2, 2 },
	{ "FROM \\\n   alpine:1   AS   x   \n", "FROM \\\n   alpine:1@" D2 "   AS   x   \n", NULL, 1, 0 },
	{ "ARG I=alpine:1@" D1 "\nFROM $I\n", "ARG I=alpine:1@" D1 "\nFROM $I\n", "", 1, 0 }, /* pin from ARG */
	{ "FROM --platform=$BUILDPLATFORM alpine:1\r\nCOPY alpine:1 /x\r\n",
	  "FROM --platform=$BUILDPLATFORM alpine:1@" D2 "\r\nCOPY alpine:1 /x\r\n", NULL, 1, 0 },
};

TEST(pin_table)
{
	char path[] = "/tmp/test_base_pin.XXXXXX";
	int fd = mkstemp(path);

	CHECK(fd >= 0);
	close(fd);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct err e = ERR_INIT;
		struct base_df df;
		int changed = -1, skipped = 0;

		CHECK(fs_write_atomic(path, cases[i].in, strlen(cases[i].in), 0600, &e) == 0);
		if (base_df_load(&df, path, NULL, &e) < 0) {
			CHECK_INT(cases[i].n_from, -1);
			CHECK_INT(e.code, ERR_INPUT);
			continue;
		}
		CHECK_INT(df.n, cases[i].n_from);
		for (size_t j = 0; j < df.n; j++) {
			skipped += df.from[j].skip;
			if (!df.from[j].skip)
				df.from[j].current = strdup(D2);
		}
		CHECK_INT(skipped, cases[i].n_skip);
		for (int upd = 0; upd < 2; upd++) {
			struct buf out = BUF_INIT;
			const char *want = upd && cases[i].out_update ? cases[i].out_update : cases[i].out;
			int r = base_df_pin_text(&df, cases[i].in, strlen(cases[i].in), upd, &out, &changed, &e);

			if (want && *want) {
				CHECK_INT(r, 0);
				if (strcmp(out.data, want))
					fprintf(stderr, "case %zu update=%d: got <<%s>>\n", i, upd, out.data);
				CHECK_STR(out.data, want);
			} else if (want) {
				CHECK_INT(r, -1); /* a digest from a variable cannot be moved */
			}
			buf_free(&out);
		}
		base_df_free(&df);
	}
	unlink(path);
}

TEST(build_arg_override)
{
	char path[] = "/tmp/test_base_pin.XXXXXX";
	const char *text = "ARG TAG=1\nARG REPO\nFROM ${REPO:-alpine}:${TAG}\n";
	const char *args[] = { "TAG=2", "OTHER=x", NULL };
	struct err e = ERR_INIT;
	struct base_df df;
	int fd = mkstemp(path);

	close(fd);
	CHECK(fs_write_atomic(path, text, strlen(text), 0600, &e) == 0);
	CHECK(base_df_load(&df, path, args, &e) == 0);
	CHECK_STR(df.from[0].image, "alpine:2");
	CHECK_STR(df.from[0].written, "${REPO:-alpine}:${TAG}");
	base_df_free(&df);
	unlink(path);
}

TEST(age_strings)
{
	char b[32];

	base_age_string(-1, b, sizeof(b));
	CHECK_STR(b, "unknown");
	base_age_string(59, b, sizeof(b));
	CHECK_STR(b, "0 minutes");
	base_age_string(7200, b, sizeof(b));
	CHECK_STR(b, "2 hours");
	base_age_string(3 * 86400 + 5, b, sizeof(b));
	CHECK_STR(b, "3 days");
}

int main(void)
{
	RUN(pin_table);
	RUN(build_arg_override);
	RUN(age_strings);
	return test_done();
}
