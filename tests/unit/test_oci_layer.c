/* Layer compression and the two ways to describe a layer: the gzip stream
 * is one standard member whatever the number of threads, and its bytes do
 * not depend on that number; zstd likewise; digest and diff_id are what
 * sha256 of the blob and of the decompressed tar say (zlib's inflate,
 * gzip -t and Python's zlib as the readers); a layer_tree gives the same
 * blob as the directory it describes. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "core/buf.h"
#include "core/fs.h"
#include "core/sha256.h"
#include "oci/layer.h"
#include "oci/pgzip.h"
#include "test.h"

static char *tmp;
static struct oci_layout *lay;

static void path_in(char *out, size_t n, const char *rel)
{
	snprintf(out, n, "%s/%s", tmp, rel);
}

/* Bytes that compress about 2:1 (words) with incompressible stretches. */
static void fill(unsigned char *p, size_t n, uint32_t seed)
{
	static const char *const w[] = { "layer ", "gzip ", "deflate ", "chunk ", "tar ", "digest ", "\n" };
	uint32_t x = seed * 2654435761u + 1;

	for (size_t i = 0; i < n;) {
		x = x * 1103515245u + 12345u;
		if ((x >> 28) == 0) { /* a random run */
			for (size_t k = 0; k < 300 && i < n; k++, i++) {
				x = x * 1103515245u + 12345u;
				p[i] = (unsigned char)(x >> 24);
			}
			continue;
		}
		const char *s = w[(x >> 16) % 7];
		for (; *s && i < n; s++)
			p[i++] = (unsigned char)*s;
	}
}

static void write_file(const char *rel, size_t n, uint32_t seed, int mode, time_t mtime)
{
	char p[4096];
	unsigned char *d = malloc(n ? n : 1);
	struct err e = ERR_INIT;

	path_in(p, sizeof(p), rel);
	fill(d, n, seed);
	CHECK_INT(fs_write_atomic(p, d, n, mode, &e), 0);
	struct timespec ts[2] = { { mtime, 0 }, { mtime, 0 } };
	utimensat(AT_FDCWD, p, ts, AT_SYMLINK_NOFOLLOW);
	free(d);
}

static int read_all(const char *path, struct buf *b)
{
	struct err e = ERR_INIT;

	return fs_read_file(path, b, 1u << 30, &e);
}

/* Inflate a gzip stream (header and trailer checked by zlib): the data, how
 * many bytes followed the first member's end (must be 0 for one member). */
static int gunzip(const struct buf *gz, struct buf *out, size_t *after_end)
{
	z_stream s;
	unsigned char chunk[65536];
	int rc;

	memset(&s, 0, sizeof(s));
	if (inflateInit2(&s, 15 + 16) != Z_OK) /* gzip only, one member */
		return -1;
	s.next_in = (unsigned char *)gz->data;
	s.avail_in = (uInt)gz->len;
	do {
		s.next_out = chunk;
		s.avail_out = sizeof(chunk);
		rc = inflate(&s, Z_NO_FLUSH);
		struct err e = ERR_INIT;
		if (buf_add(out, chunk, sizeof(chunk) - s.avail_out, &e) < 0)
			rc = Z_MEM_ERROR;
	} while (rc == Z_OK);
	*after_end = s.avail_in;
	inflateEnd(&s);
	return rc == Z_STREAM_END ? 0 : -1;
}

static void sha_hex(const void *p, size_t n, char out[72])
{
	sha256_digest_str(p, n, out);
}

/* What a user checks of a gzip layer blob: one member (gzip -t, Python
 * zlib with nothing left after the end), digest = sha256 of the blob,
 * diff_id = sha256 of what it inflates to. */
static void check_gzip_blob(const struct layer_result *r)
{
	char *bp = oci_layout_blob_path(lay, r->digest), cmd[8192], d[72];
	struct buf gz = BUF_INIT, tar = BUF_INIT;
	size_t after = 99;

	CHECK(bp != NULL);
	if (!bp)
		return;
	CHECK_INT(read_all(bp, &gz), 0);
	CHECK_INT(gz.len, r->size);
	sha_hex(gz.data, gz.len, d);
	CHECK_STR(d, r->digest);
	CHECK(gz.len > 10 && (unsigned char)gz.data[0] == 0x1f && (unsigned char)gz.data[1] == 0x8b);
	CHECK_INT(gunzip(&gz, &tar, &after), 0);
	CHECK_INT(after, 0);
	sha_hex(tar.data, tar.len, d);
	CHECK_STR(d, r->diff_id);
	snprintf(cmd, sizeof(cmd), "gzip -t '%s'", bp);
	CHECK_INT(system(cmd), 0);
	snprintf(cmd, sizeof(cmd),
		 "python3 -c 'import sys, zlib, hashlib\n"
		 "d = open(sys.argv[1], \"rb\").read()\n"
		 "o = zlib.decompressobj(31)\n"
		 "t = o.decompress(d) + o.flush()\n"
		 "assert o.eof and o.unused_data == b\"\", \"not one member\"\n"
		 "assert \"sha256:\" + hashlib.sha256(t).hexdigest() == sys.argv[2], \"diff_id\"' '%s' '%s'",
		 bp, r->diff_id);
	CHECK_INT(system(cmd), 0);
	buf_free(&gz);
	buf_free(&tar);
	free(bp);
}

/* A context of more than four 1 MiB chunks: some big files, some small. */
static void make_context(void)
{
	char p[4096];

	path_in(p, sizeof(p), "ctx/sub/deeper");
	struct err e = ERR_INIT;
	CHECK_INT(fs_mkdir_p(p, 0755, &e), 0);
	write_file("ctx/big1", 3u << 20, 1, 0644, 1000);
	write_file("ctx/sub/big2", (5u << 20) + 12345, 2, 0600, 2000);
	for (int i = 0; i < 40; i++) {
		char rel[64];
		snprintf(rel, sizeof(rel), "ctx/sub/deeper/small%02d", i);
		write_file(rel, (size_t)i * 997, (uint32_t)(10 + i), 0644, 3000);
	}
	write_file("ctx/empty", 0, 3, 0644, 1000);
}

TEST(gzip_same_bytes_on_any_core_count)
{
	struct err e = ERR_INIT;
	char ctx[4096];
	struct layer_opts o = { .comp = LAYER_GZIP, .clamp_mtime = 5000 };
	struct layer_result r[4];
	int threads[4] = { 1, 2, 3, 8 };

	path_in(ctx, sizeof(ctx), "ctx");
	for (int i = 0; i < 4; i++) {
		o.threads = threads[i];
		CHECK_INT(oci_layer_write_dir(lay, ctx, &o, &r[i], &e), 0);
		if (e.code)
			fprintf(stderr, "write: %s\n", e.msg);
	}
	CHECK(r[0].size > (4 << 20)); /* more than four chunks even compressed */
	for (int i = 1; i < 4; i++) {
		CHECK_STR(r[i].digest, r[0].digest);
		CHECK_STR(r[i].diff_id, r[0].diff_id);
	}
	check_gzip_blob(&r[0]);
	/* Level 1 is another stream, still one member. */
	o.level = 1;
	o.threads = 2;
	struct layer_result l1;
	CHECK_INT(oci_layer_write_dir(lay, ctx, &o, &l1, &e), 0);
	CHECK(strcmp(l1.digest, r[0].digest) != 0);
	CHECK_STR(l1.diff_id, r[0].diff_id);
	check_gzip_blob(&l1);
}

TEST(zstd_same_bytes_on_any_core_count)
{
	struct err e = ERR_INIT;
	char ctx[4096];
	struct layer_opts o = { .comp = LAYER_ZSTD, .clamp_mtime = 5000, .threads = 1 };
	struct layer_result a, b, g;

	path_in(ctx, sizeof(ctx), "ctx");
	CHECK_INT(oci_layer_write_dir(lay, ctx, &o, &a, &e), 0);
	o.threads = 2;
	CHECK_INT(oci_layer_write_dir(lay, ctx, &o, &b, &e), 0);
	CHECK_STR(a.digest, b.digest);
	o.comp = LAYER_GZIP;
	CHECK_INT(oci_layer_write_dir(lay, ctx, &o, &g, &e), 0);
	CHECK_STR(a.diff_id, g.diff_id);
	CHECK_STR(a.media_type, "application/vnd.oci.image.layer.v1.tar+zstd");
}

struct sink {
	struct buf b;
};

static int to_buf(void *ctx, const void *p, size_t n, struct err *e)
{
	struct sink *s = ctx;

	return buf_add(&s->b, p, n, e);
}

/* pgz on its own: empty input, exactly two chunks, writes of odd sizes. */
static int pgz_of(const unsigned char *d, size_t n, int threads, size_t step, struct buf *out)
{
	struct err e = ERR_INIT;
	struct sink s = { BUF_INIT };
	struct pgz *z;
	int r = -1;

	if (pgz_open(&z, 0, threads, to_buf, &s, &e) < 0)
		return -1;
	for (size_t off = 0; off < n; off += step)
		if (pgz_write(z, d + off, n - off < step ? n - off : step, &e) < 0)
			goto out;
	r = pgz_finish(z, &e);
out:
	pgz_free(z);
	*out = s.b;
	return r;
}

TEST(pgz_edges)
{
	size_t sizes[] = { 0, 1, 1u << 20, 2u << 20, (2u << 20) + 1 };
	unsigned char *d = malloc((2u << 20) + 1);

	fill(d, (2u << 20) + 1, 7);
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		struct buf one = BUF_INIT, two = BUF_INIT, back = BUF_INIT;
		size_t after = 99;
		CHECK_INT(pgz_of(d, sizes[i], 1, 4096, &one), 0);
		CHECK_INT(pgz_of(d, sizes[i], 2, 333333, &two), 0);
		CHECK_INT(one.len, two.len);
		CHECK(one.len == two.len && memcmp(one.data, two.data, one.len) == 0);
		CHECK_INT(gunzip(&one, &back, &after), 0);
		CHECK_INT(after, 0);
		CHECK_INT(back.len, sizes[i]);
		CHECK(back.len == sizes[i] && (sizes[i] == 0 || memcmp(back.data, d, sizes[i]) == 0));
		buf_free(&one);
		buf_free(&two);
		buf_free(&back);
	}
	free(d);
}

/* The same layer described as a tree: every kind of entry, names whose
 * bytewise order differs from a sort of whole paths ("a-c" < "a/b"). */
TEST(tree_equals_dir)
{
	struct err e = ERR_INIT;
	char p[4096];
	struct layer_opts o = { .comp = LAYER_GZIP, .clamp_mtime = 5000, .threads = 2 };
	struct layer_result rd, rt;

	path_in(p, sizeof(p), "t/a/b");
	CHECK_INT(fs_mkdir_p(p, 0755, &e), 0);
	write_file("t/a/b/f", 70000, 4, 0640, 1500);
	write_file("t/a-c", 10, 5, 0755, 1600);
	write_file("t/a/big", (2u << 20) + 7, 6, 0644, 1700);
	path_in(p, sizeof(p), "t/a/link");
	CHECK_INT(symlink("b/f", p), 0);
	struct timespec ts[2] = { { 1800, 0 }, { 1800, 0 } };
	utimensat(AT_FDCWD, p, ts, AT_SYMLINK_NOFOLLOW);
	const char *dirs[] = { "t/a/b", "t/a" };
	for (int i = 0; i < 2; i++) {
		path_in(p, sizeof(p), dirs[i]);
		chmod(p, 0750);
		struct timespec dt[2] = { { 1900, 0 }, { 1900, 0 } };
		utimensat(AT_FDCWD, p, dt, 0);
	}
	uid_t u = geteuid();
	gid_t g = getegid();
	char t[4096];
	path_in(t, sizeof(t), "t");
	CHECK_INT(oci_layer_write_dir(lay, t, &o, &rd, &e), 0);

	struct layer_tree *tr = layer_tree_new(&e);
	struct layer_meta dm = { .mode = 0750, .uid = u, .gid = g, .mtime = 1900 };
	CHECK_INT(layer_tree_mkdir(tr, "a", &dm, &e), 0);
	CHECK_INT(layer_tree_mkdir(tr, "a/b", &dm, &e), 0);
	struct layer_meta fm = { .mode = 0640, .uid = u, .gid = g, .mtime = 1500 };
	path_in(p, sizeof(p), "t/a/b/f");
	CHECK_INT(layer_tree_file(tr, "a/b/f", p, &fm, &e), 0);
	/* a-c is inline data with the file's bytes; big is read from disk. */
	struct buf ac = BUF_INIT;
	path_in(p, sizeof(p), "t/a-c");
	CHECK_INT(read_all(p, &ac), 0);
	struct layer_meta am = { .mode = 0755, .uid = u, .gid = g, .mtime = 1600 };
	CHECK_INT(layer_tree_data(tr, "a-c", ac.data, ac.len, &am, &e), 0);
	struct layer_meta bm = { .mode = 0600, .uid = u, .gid = g, .mtime = 9999 };
	path_in(p, sizeof(p), "t/a/big");
	CHECK_INT(layer_tree_file(tr, "a/big", p, &bm, &e), 0);
	struct layer_meta fix = { .mode = 0644, .uid = -1, .gid = -1, .mtime = 1700 };
	CHECK_INT(layer_tree_set(tr, "a/big", &fix, &e), 0);
	struct layer_meta lm = { .mode = 0777, .uid = u, .gid = g, .mtime = 1800 };
	CHECK_INT(layer_tree_symlink(tr, "a/link", "b/f", &lm, &e), 0);
	/* Adding entries bumped the directories' times: set them back. */
	struct layer_meta back = { .mode = -1, .uid = -1, .gid = -1, .mtime = 1900 };
	CHECK_INT(layer_tree_set(tr, "a", &back, &e), 0);
	CHECK_INT(layer_tree_set(tr, "a/b", &back, &e), 0);
	CHECK_INT(oci_layer_write_tree(lay, tr, &o, &rt, &e), 0);
	CHECK_STR(rt.digest, rd.digest);
	CHECK_INT(rt.n_entries, rd.n_entries);
	check_gzip_blob(&rt);

	/* What the file system would refuse, the tree refuses. */
	bool is_dir = false;
	CHECK(layer_tree_has(tr, "a/b", &is_dir) && is_dir);
	CHECK(!layer_tree_has(tr, "nope", NULL));
	CHECK_INT(layer_tree_file(tr, "a/b", p, &fm, &e), -1); /* over a directory */
	CHECK_INT(layer_tree_mkdir(tr, "x/y", &dm, &e), -1);   /* no parent */
	CHECK_INT(layer_tree_file(tr, "a-c/z", p, &fm, &e), -1); /* parent not a dir */
	CHECK_INT(layer_tree_mkdir(tr, "a", &fm, &e), 0);       /* exists: kept */
	CHECK_INT(layer_tree_mkdir(tr, "", &fm, &e), 0);        /* the root exists */
	CHECK_INT(layer_tree_file(tr, "", p, &fm, &e), -1);     /* and is a directory */
	layer_tree_free(tr);
	buf_free(&ac);
}

int main(void)
{
	struct err e = ERR_INIT;

	tmp = fs_mkdtemp("bosun-layer-test", &e);
	if (!tmp)
		return 1;
	char lp[4096];
	path_in(lp, sizeof(lp), "layout");
	if (oci_layout_open(&lay, lp, true, &e) < 0)
		return 1;
	make_context();
	RUN(gzip_same_bytes_on_any_core_count);
	RUN(zstd_same_bytes_on_any_core_count);
	RUN(pgz_edges);
	RUN(tree_equals_dir);
	oci_layout_close(lay);
	fs_rm_rf(tmp, &e);
	free(tmp);
	return test_done();
}
