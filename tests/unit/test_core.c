/* Core library: errors, capped buffers, base64, sha256, atomic files. */
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/fs.h"
#include "core/sha256.h"
#include "core/util.h"
#include "test.h"

TEST(err_chain)
{
	struct err e = ERR_INIT;

	CHECK_INT(err_set(&e, ERR_NETWORK, "HTTP %d", 503), -1);
	err_prefix(&e, "upload layer %s", "sha256:ab");
	err_prefix(&e, "push app:1");
	CHECK_STR(e.msg, "push app:1: upload layer sha256:ab: HTTP 503");
	CHECK_INT(e.code, ERR_NETWORK);
	CHECK_INT(err_set(NULL, ERR_INPUT, "x"), -1);
}

TEST(err_converters)
{
	struct err e = ERR_INIT;

	err_curl(&e, 7, "Failed to connect to 127.0.0.1 port 1\n", "GET %s", "/v2/");
	CHECK_STR(e.msg, "GET /v2/: Failed to connect to 127.0.0.1 port 1");
	CHECK_INT(e.code, ERR_NETWORK);
	err_curl(&e, 28, NULL, "ping");
	CHECK(strstr(e.msg, "ping: ") == e.msg);
	err_json(&e, "{", 1, "manifest");
	CHECK_INT(e.code, ERR_INPUT);
	CHECK(strstr(e.msg, "invalid JSON") != NULL);
}

TEST(buf_cap)
{
	struct err e = ERR_INIT;
	struct buf b __attribute__((cleanup(buf_cleanup))) = BUF_INIT;

	CHECK_STR(b.data, "");
	b.max = 8;
	CHECK_INT(buf_adds(&b, "12345", &e), 0);
	CHECK_INT(buf_addf(&b, &e, "%d", 678), 0);
	CHECK_STR(b.data, "12345678");
	CHECK_INT(buf_adds(&b, "9", &e), -1);
	CHECK_INT(e.code, ERR_INPUT);
	CHECK_INT(b.len, 8);
	buf_reset(&b);
	CHECK_STR(b.data, "");
}

TEST(base64_round)
{
	const char *in[] = { "", "f", "fo", "foo", "foob", "fooba", "foobar" };
	const char *out[] = { "", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy" };
	char enc[32];
	unsigned char dec[32];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(in); i++) {
		struct err e = ERR_INIT;
		char *a = base64_alloc(in[i], strlen(in[i]), &e);

		base64_encode(in[i], strlen(in[i]), enc);
		CHECK_STR(enc, out[i]);
		CHECK(a != NULL);
		CHECK_STR(a ? a : "", out[i]);
		free(a);
		CHECK_INT(base64_decode(enc, strlen(enc), dec, false), (long)strlen(in[i]));
		CHECK(memcmp(dec, in[i], strlen(in[i])) == 0);
	}
	CHECK_INT(base64_decode("Zm9v!", 5, dec, false), -1);
	CHECK_INT(base64_decode("Z", 1, dec, false), -1);
	CHECK_INT(base64_decode("_-8", 3, dec, true), 2);
	{
		struct err e = ERR_INIT;
		char *a = base64_alloc("foobar", 6, &e);
		unsigned char *d = NULL;
		size_t n = 0;

		CHECK_STR(a, "Zm9vYmFy");
		CHECK_INT(base64_decode_alloc(a, &d, &n, &e), 0);
		CHECK_INT((long)n, 6);
		CHECK(d && memcmp(d, "foobar", 6) == 0);
		free(a);
		free(d);
		CHECK_INT(base64_decode_alloc("Zm9v!", &d, &n, &e), -1);
		CHECK(d == NULL && e.code == ERR_INPUT);
	}
}

/* Expected values from date(1): date -u -d 2024-01-02T03:04:05Z +%s. */
TEST(rfc3339_parse)
{
	CHECK_INT(time_parse_rfc3339("2024-01-02T03:04:05Z", true), 1704164645);
	CHECK_INT(time_parse_rfc3339("2024-01-02T03:04:05.123456789Z", true), 1704164645);
	CHECK_INT(time_parse_rfc3339("2024-01-02T03:04:05+02:00", true), 1704157445);
	CHECK_INT(time_parse_rfc3339("2024-01-02T03:04:05.5-01:30", true), 1704170045);
	/* strict: a zone and nothing after it, fields in range */
	CHECK_INT(time_parse_rfc3339("2024-01-02T03:04:05", true), -1);
	CHECK_INT(time_parse_rfc3339("2024-01-02T03:04:05Zx", true), -1);
	CHECK_INT(time_parse_rfc3339("2024-13-02T03:04:05Z", true), -1);
	CHECK_INT(time_parse_rfc3339("2024-01-02 03:04:05Z", true), -1);
	/* lenient (image config "created"): no zone is UTC, a tail is ignored */
	CHECK_INT(time_parse_rfc3339("2024-01-02T03:04:05", false), 1704164645);
	CHECK_INT(time_parse_rfc3339("2024-01-02T03:04:05+02:00 junk", false), 1704157445);
	CHECK_INT(time_parse_rfc3339(NULL, false), -1);
	CHECK_INT(time_parse_rfc3339("yesterday", false), -1);
}

TEST(sha256_vectors)
{
	char d[72], h[65];
	struct sha256 s;
	struct err e = ERR_INIT;

	sha256_digest_str("abc", 3, d);
	CHECK_STR(d, "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	CHECK_INT(sha256_init(&s, &e), 0);
	sha256_update(&s, "a", 1);
	sha256_update(&s, "bc", 2);
	sha256_final_hex(&s, h);
	CHECK_STR(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	sha256_free(&s);
}

TEST(fs_atomic_and_rm)
{
	struct err e = ERR_INIT;
	char *dir = fs_mkdtemp("bosun-test", &e), *f, *sub, *link;
	struct buf b __attribute__((cleanup(buf_cleanup))) = BUF_INIT;
	char d[72];
	uint64_t size = 0;
	struct stat st;

	CHECK(dir != NULL);
	f = fs_join(dir, "x/y/file");
	sub = fs_join(dir, "x/y");
	CHECK_INT(fs_mkdir_p(sub, 0755, &e), 0);
	CHECK_INT(fs_write_atomic(f, "abc", 3, 0600, &e), 0);
	CHECK_INT(stat(f, &st), 0);
	CHECK_INT(st.st_mode & 0777, 0600);
	CHECK_INT(fs_read_file(f, &b, 100, &e), 0);
	CHECK_STR(b.data, "abc");
	buf_reset(&b);
	CHECK_INT(fs_read_file(f, &b, 2, &e), -1);
	CHECK_INT(e.code, ERR_INPUT);
	CHECK_INT(sha256_file(f, d, &size, &e), 0);
	CHECK_STR(d, "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	CHECK_INT(size, 3);
	/* rm -rf must not follow a symlink out of the tree */
	link = fs_join(dir, "x/escape");
	CHECK_INT(symlink(sub, link), 0);
	free(link);
	link = fs_join(dir, "x/y2");
	CHECK_INT(rename(sub, link), 0);
	free(link);
	link = fs_join(dir, "x/escape");
	CHECK_INT(unlink(link), 0);
	CHECK_INT(symlink("/etc", link), 0);
	CHECK_INT(fs_rm_rf(dir, &e), 0);
	CHECK(!fs_exists(dir));
	CHECK(fs_exists("/etc/hostname") || fs_exists("/etc/passwd"));
	free(link);
	free(f);
	free(sub);
	free(dir);
}

/* Writing "atomically" to a device must not rename a file over it. */
TEST(fs_atomic_special_files)
{
	struct err e = ERR_INIT;
	struct stat st;
	char *dir = fs_mkdtemp("bosun-test", &e), *target, *link;

	CHECK_INT(fs_write_atomic("/dev/null", "x", 1, 0644, &e), 0);
	CHECK_INT(stat("/dev/null", &st), 0);
	CHECK(S_ISCHR(st.st_mode));
	CHECK_INT(fs_write_atomic("/", "x", 1, 0644, &e), -1);
	target = fs_join(dir, "target");
	link = fs_join(dir, "link");
	CHECK_INT(fs_write_atomic(target, "old", 3, 0644, &e), 0);
	CHECK_INT(symlink(target, link), 0);
	CHECK_INT(fs_write_atomic(link, "new", 3, 0644, &e), 0);
	CHECK_INT(lstat(link, &st), 0);
	CHECK(S_ISLNK(st.st_mode));
	{
		struct buf b __attribute__((cleanup(buf_cleanup))) = BUF_INIT;

		CHECK_INT(fs_read_file(target, &b, 10, &e), 0);
		CHECK_STR(b.data, "new");
	}
	CHECK_INT(fs_rm_rf(dir, &e), 0);
	free(target);
	free(link);
	free(dir);
}

TEST(fs_read_missing)
{
	struct err e = ERR_INIT;
	struct buf b __attribute__((cleanup(buf_cleanup))) = BUF_INIT;

	CHECK_INT(fs_read_file("/nonexistent/bosun", &b, 10, &e), -1);
	CHECK_INT(e.code, ERR_INPUT);
	CHECK(strstr(e.msg, "/nonexistent/bosun") != NULL);
}

TEST(sizes)
{
	char s[16];

	fmt_size(512, s);
	CHECK_STR(s, "512 B");
	fmt_size(1536, s);
	CHECK_STR(s, "1.5 KiB");
	fmt_size(130u << 20, s);
	CHECK_STR(s, "130.0 MiB");
}

TEST(path_append_cap)
{
	char out[8];
	size_t o = 0;

	CHECK(path_append(out, &o, sizeof(out), "ab", 2));
	CHECK(path_append(out, &o, sizeof(out), "cd", 2));
	out[o] = 0;
	CHECK_STR(out, "ab/cd");
	/* "ab/cd/e" and its NUL need 8 bytes: fits; one more byte does not */
	CHECK(!path_append(out, &o, sizeof(out), "ef", 2));
	CHECK_INT((int)o, 5);
	CHECK(path_append(out, &o, sizeof(out), "e", 1));
	out[o] = 0;
	CHECK_STR(out, "ab/cd/e");
}

int main(void)
{
	RUN(err_chain);
	RUN(err_converters);
	RUN(buf_cap);
	RUN(base64_round);
	RUN(rfc3339_parse);
	RUN(sha256_vectors);
	RUN(fs_atomic_and_rm);
	RUN(fs_atomic_special_files);
	RUN(fs_read_missing);
	RUN(sizes);
	RUN(path_append_cap);
	return test_done();
}
