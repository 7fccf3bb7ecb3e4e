/* Layer writer and safe unpacker: round trip, whiteouts, opaque dirs, and
 * archives that try to write outside the root. */
#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/fs.h"
#include "oci/layer.h"
#include "test.h"

struct ent {
	const char *name;
	char type; /* f file, d dir, l symlink, h hardlink */
	const char *data; /* content or link target */
};

static void write_tar(const char *path, const struct ent *es, size_t n)
{
	struct archive *a = archive_write_new();
	archive_write_set_format_pax_restricted(a);
	archive_write_open_filename(a, path);
	for (size_t i = 0; i < n; i++) {
		struct archive_entry *ae = archive_entry_new();
		archive_entry_set_pathname(ae, es[i].name);
		switch (es[i].type) {
		case 'd':
			archive_entry_set_mode(ae, AE_IFDIR | 0755);
			break;
		case 'l':
			archive_entry_set_mode(ae, AE_IFLNK | 0777);
			archive_entry_set_symlink(ae, es[i].data);
			break;
		case 'h':
			archive_entry_set_mode(ae, AE_IFREG | 0644);
			archive_entry_set_hardlink(ae, es[i].data);
			break;
		default:
			archive_entry_set_mode(ae, AE_IFREG | 0644);
			archive_entry_set_size(ae, (la_int64_t)strlen(es[i].data ? es[i].data : ""));
		}
		archive_write_header(a, ae);
		if (es[i].type == 'f' && es[i].data)
			archive_write_data(a, es[i].data, strlen(es[i].data));
		archive_entry_free(ae);
	}
	archive_write_free(a);
}

static char *root_dir, *outside;

static int unpack(const struct ent *es, size_t n, struct err *e)
{
	char tar[4096];
	struct unpack_opts o = { .set_owner = geteuid() == 0 };

	snprintf(tar, sizeof(tar), "%s/layer.tar", outside);
	write_tar(tar, es, n);
	return oci_unpack_layer(tar, root_dir, &o, e);
}

static int exists_in(const char *dir, const char *rel)
{
	char p[4096];
	struct stat st;

	snprintf(p, sizeof(p), "%s/%s", dir, rel);
	return lstat(p, &st) == 0;
}

TEST(whiteouts_and_opaque)
{
	struct err e = ERR_INIT;
	static const struct ent l1[] = { { "etc/", 'd', 0 },   { "etc/a", 'f', "a" }, { "etc/b", 'f', "b" },
					 { "keep/", 'd', 0 },  { "keep/x", 'f', "x" }, { "opq/", 'd', 0 },
					 { "opq/old", 'f', "o" } };
	static const struct ent l2[] = { { "etc/.wh.a", 'f', "" },
					 { "opq/", 'd', 0 },
					 { "opq/new", 'f', "n" },    /* same layer, before the marker */
					 { "opq/.wh..wh..opq", 'f', "" },
					 { "etc/link", 'h', "etc/b" } };

	CHECK_INT(unpack(l1, sizeof(l1) / sizeof(l1[0]), &e), 0);
	CHECK_INT(unpack(l2, sizeof(l2) / sizeof(l2[0]), &e), 0);
	if (e.code)
		fprintf(stderr, "%s\n", e.msg);
	CHECK(!exists_in(root_dir, "etc/a"));
	CHECK(exists_in(root_dir, "etc/b"));
	CHECK(exists_in(root_dir, "keep/x"));
	CHECK(!exists_in(root_dir, "opq/old"));
	CHECK(exists_in(root_dir, "opq/new"));
	CHECK(exists_in(root_dir, "etc/link"));
}

TEST(escapes_stay_inside)
{
	struct err e = ERR_INIT;
	char abs_target[4096], name[4096];

	snprintf(abs_target, sizeof(abs_target), "%s", outside);
	snprintf(name, sizeof(name), "%s/abs", outside + 1);
	struct ent sl[] = { { "esc", 'l', abs_target },	  /* absolute symlink to the outside dir */
			    { "esc/pwned", 'f', "x" },	  /* must land in ROOT/<outside>/pwned */
			    { "rel", 'l', "../../../../../../../" }, /* climbing symlink */
			    { "rel/tmp-pwned", 'f', "x" },
			    { name, 'f', "x" } };	  /* absolute member name */
	CHECK_INT(unpack(sl, sizeof(sl) / sizeof(sl[0]), &e), 0);
	if (e.code)
		fprintf(stderr, "%s\n", e.msg);
	CHECK(!exists_in(outside, "pwned"));
	CHECK(!exists_in(outside, "abs"));
	CHECK(!exists_in("/", "tmp-pwned"));
	char inside[4096];
	snprintf(inside, sizeof(inside), "%s/pwned", outside + 1);
	CHECK(exists_in(root_dir, inside));
	CHECK(exists_in(root_dir, "tmp-pwned"));

	struct ent dd[] = { { "../dotdot", 'f', "x" } };
	err_clear(&e);
	CHECK_INT(unpack(dd, 1, &e), -1);
	CHECK_INT(e.code, ERR_INPUT);
	CHECK(strstr(e.msg, "escapes the root") != NULL);
	CHECK(!exists_in(outside, "../dotdot"));

	struct ent hl[] = { { "hl", 'h', "../../etc/passwd" } };
	err_clear(&e);
	CHECK_INT(unpack(hl, 1, &e), -1);
	CHECK_INT(e.code, ERR_INPUT);
}

TEST(writer_deterministic_round_trip)
{
	struct err e = ERR_INIT;
	char src[4096], lay[4096];
	struct oci_layout *l = NULL;
	struct layer_result r1, r2;
	struct layer_opts o = { .comp = LAYER_GZIP, .clamp_mtime = 1000 };

	snprintf(src, sizeof(src), "%s/src", outside);
	snprintf(lay, sizeof(lay), "%s/layout", outside);
	fs_mkdir_p(src, 0755, &e);
	char p[4200];
	snprintf(p, sizeof(p), "%s/b.txt", src);
	fs_write_atomic(p, "bee", 3, 0640, &e);
	snprintf(p, sizeof(p), "%s/a", src);
	mkdir(p, 0700);
	snprintf(p, sizeof(p), "%s/a/link", src);
	CHECK_INT(symlink("../b.txt", p), 0);
	CHECK_INT(oci_layout_open(&l, lay, true, &e), 0);
	CHECK_INT(oci_layer_write_dir(l, src, &o, &r1, &e), 0);
	CHECK_INT(oci_layer_write_dir(l, src, &o, &r2, &e), 0);
	CHECK_STR(r1.digest, r2.digest);
	CHECK_STR(r1.media_type, "application/vnd.oci.image.layer.v1.tar+gzip");
	CHECK_INT(r1.n_entries, 3);
	CHECK(strcmp(r1.digest, r1.diff_id) != 0);
	/* Unpack it again and compare. */
	char *bp = oci_layout_blob_path(l, r1.digest);
	struct unpack_opts uo = { .set_owner = geteuid() == 0 };
	CHECK_INT(oci_unpack_layer(bp, root_dir, &uo, &e), 0);
	struct stat st;
	snprintf(p, sizeof(p), "%s/b.txt", root_dir);
	CHECK_INT(stat(p, &st), 0);
	CHECK_INT(st.st_mode & 07777, 0640);
	CHECK_INT(st.st_mtime, 1000);
	char t[64] = "";
	snprintf(p, sizeof(p), "%s/a/link", root_dir);
	CHECK(readlink(p, t, sizeof(t) - 1) == 8);
	CHECK_STR(t, "../b.txt");
	/* zstd gives another digest but the same diff_id. */
	struct layer_result r3;
	o.comp = LAYER_ZSTD;
	CHECK_INT(oci_layer_write_dir(l, src, &o, &r3, &e), 0);
	CHECK_STR(r3.diff_id, r1.diff_id);
	CHECK(strcmp(r3.digest, r1.digest) != 0);
	/* Parallel gzip: same diff_id, and the stream unpacks. */
	char big[4200];
	snprintf(big, sizeof(big), "%s/big", src);
	FILE *f = fopen(big, "w");
	for (int i = 0; f && i < 400000; i++)
		fprintf(f, "line %d %x\n", i, i * 2654435761u);
	if (f)
		fclose(f);
	struct layer_result s1, p1, p2;
	o.comp = LAYER_GZIP;
	o.threads = 1;
	CHECK_INT(oci_layer_write_dir(l, src, &o, &s1, &e), 0);
	o.threads = 2;
	CHECK_INT(oci_layer_write_dir(l, src, &o, &p1, &e), 0);
	CHECK_INT(oci_layer_write_dir(l, src, &o, &p2, &e), 0);
	CHECK_STR(p1.diff_id, s1.diff_id);
	CHECK_STR(p1.digest, p2.digest); /* deterministic across runs */
	free(bp);
	bp = oci_layout_blob_path(l, p1.digest);
	char root2[4200];
	snprintf(root2, sizeof(root2), "%s/root2", outside);
	mkdir(root2, 0755);
	CHECK_INT(oci_unpack_layer(bp, root2, &uo, &e), 0);
	snprintf(p, sizeof(p), "%s/big", root2);
	struct stat bs, os_;
	CHECK_INT(stat(p, &bs), 0);
	CHECK_INT(stat(big, &os_), 0);
	CHECK_INT(bs.st_size, os_.st_size);
	free(bp);
	oci_layout_close(l);
}

int main(void)
{
	struct err e = ERR_INIT;

	outside = fs_mkdtemp("bosun-unpack-test", &e);
	root_dir = fs_join(outside, "root");
	if (!outside || !root_dir || mkdir(root_dir, 0755) < 0)
		return 1;
	RUN(whiteouts_and_opaque);
	RUN(escapes_stay_inside);
	RUN(writer_deterministic_round_trip);
	fs_rm_rf(outside, &e);
	free(outside);
	free(root_dir);
	return test_done();
}
