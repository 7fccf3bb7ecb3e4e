/* OCI image layout: create, blobs, tags, corruption, concurrent writers. */
#include <cjson/cJSON.h>
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/fs.h"
#include "core/sha256.h"
#include "oci/layout.h"
#include "test.h"

static char *tmp_root;

static char *new_dir(const char *name)
{
	char *p = fs_join(tmp_root, name);
	return p;
}

static int write_file(const char *path, const char *s)
{
	FILE *f = fopen(path, "wb");
	if (!f)
		return -1;
	fputs(s, f);
	return fclose(f);
}

/* Files in DIR/blobs/sha256 whose names start with ".tmp". */
static int count_tmp(const char *dir)
{
	char *b = fs_join(dir, "blobs/sha256");
	DIR *d = opendir(b);
	int n = 0;
	struct dirent *de;
	while (d && (de = readdir(d)))
		if (!strncmp(de->d_name, ".tmp", 4))
			n++;
	if (d)
		closedir(d);
	free(b);
	return n;
}

static size_t index_entries(const char *dir)
{
	char *p = fs_join(dir, "index.json");
	struct buf b = BUF_INIT;
	struct err e = ERR_INIT;
	size_t n = (size_t)-1;
	if (fs_read_file(p, &b, 0, &e) == 0) {
		cJSON *j = cJSON_Parse(b.data);
		cJSON *m = cJSON_GetObjectItem(j, "manifests");
		if (cJSON_IsArray(m))
			n = (size_t)cJSON_GetArraySize(m);
		cJSON_Delete(j);
	}
	buf_free(&b);
	free(p);
	return n;
}

static struct oci_desc mk_desc(const char *digest, int64_t size)
{
	struct oci_desc d = { 0 };
	d.media_type = (char *)MT_OCI_MANIFEST;
	d.digest = (char *)digest;
	d.size = size;
	return d;
}

TEST(create_and_open)
{
	char *dir = new_dir("create/sub");
	struct oci_layout *l = NULL;
	struct err e = ERR_INIT;
	CHECK_INT(oci_layout_open(&l, dir, false, &e), -1);
	CHECK_INT(e.code, ERR_INPUT);
	char want[512];
	snprintf(want, sizeof want, "%s: not an OCI layout (no index.json)", dir);
	CHECK(strstr(e.msg, want) != NULL);
	CHECK_INT(oci_layout_open(&l, dir, true, &e), 0);
	CHECK_STR(oci_layout_dir(l), dir);
	oci_layout_close(l);

	struct buf b = BUF_INIT;
	char *p = fs_join(dir, "oci-layout");
	CHECK_INT(fs_read_file(p, &b, 0, &e), 0);
	CHECK_STR(b.data, "{\"imageLayoutVersion\":\"1.0.0\"}");
	free(p);
	buf_reset(&b);
	p = fs_join(dir, "index.json");
	CHECK_INT(fs_read_file(p, &b, 0, &e), 0);
	struct oci_index idx;
	CHECK_INT(oci_index_parse(&idx, b.data, b.len, NULL, &e), 0);
	CHECK_INT(idx.n, 0);
	oci_index_free(&idx);
	free(p);
	buf_free(&b);
	p = fs_join(dir, "blobs/sha256");
	CHECK(fs_exists(p));
	free(p);

	/* Reopen both ways; creating again keeps existing content. */
	CHECK_INT(oci_layout_open(&l, dir, false, &e), 0);
	struct oci_desc d;
	CHECK_INT(oci_layout_resolve(l, NULL, &d, &e), -1);
	CHECK_INT(e.code, ERR_INPUT);
	CHECK(strstr(e.msg, "holds no images") != NULL);
	oci_layout_close(l);
	oci_layout_close(NULL);
	CHECK_INT(oci_layout_open(&l, "", true, &e), -1);
	free(dir);
}

TEST(blobs)
{
	char *dir = new_dir("blobs");
	struct oci_layout *l;
	struct err e = ERR_INIT;
	CHECK_INT(oci_layout_open(&l, dir, true, &e), 0);
	char d[72], expect[72];
	sha256_digest_str("hello", 5, expect);
	CHECK_INT(oci_layout_put_blob(l, "hello", 5, d, &e), 0);
	CHECK_STR(d, expect);
	CHECK(oci_layout_has_blob(l, d));
	CHECK_INT(oci_layout_put_blob(l, "hello", 5, d, &e), 0); /* idempotent */
	char *p = oci_layout_blob_path(l, d);
	char want[600];
	snprintf(want, sizeof want, "%s/blobs/sha256/%s", dir, d + 7);
	CHECK_STR(p, want);
	struct stat st;
	CHECK(stat(p, &st) == 0 && (st.st_mode & 0777) == 0644);
	free(p);
	CHECK(oci_layout_blob_path(l, "sha256:abc") == NULL);
	CHECK(oci_layout_blob_path(l, "../../etc/passwd") == NULL);
	CHECK(!oci_layout_has_blob(l, "sha256:abc"));

	struct buf b = BUF_INIT;
	CHECK_INT(oci_layout_read_blob(l, d, &b, 100, &e), 0);
	CHECK_STR(b.data, "hello");
	CHECK_INT(oci_layout_read_blob(l, d, &b, 3, &e), -1); /* over max */
	CHECK_INT(e.code, ERR_INPUT);
	CHECK_INT(oci_layout_verify_blob(l, d, 5, &e), 0);
	CHECK_INT(oci_layout_verify_blob(l, d, 6, &e), -1);
	CHECK_INT(oci_layout_read_blob(l, "sha256:0000000000000000000000000000000000000000000000000000000000000000",
				       &b, 100, &e),
		  -1);
	CHECK_INT(e.code, ERR_INPUT);
	CHECK(strstr(e.msg, "not found") != NULL);
	CHECK_INT(oci_layout_read_blob(l, "md5:00", &b, 100, &e), -1);
	CHECK_INT(e.code, ERR_INPUT);

	/* Corrupt the file behind the digest name: reads and verification refuse it. */
	p = oci_layout_blob_path(l, d);
	CHECK_INT(write_file(p, "hellO"), 0);
	free(p);
	CHECK_INT(oci_layout_read_blob(l, d, &b, 100, &e), -1);
	CHECK_INT(e.code, ERR_INPUT);
	CHECK(strstr(e.msg, "digest mismatch") != NULL);
	CHECK_INT(b.len, 0);
	CHECK_INT(oci_layout_verify_blob(l, d, -1, &e), -1);
	CHECK_INT(e.code, ERR_INPUT);
	CHECK(strstr(e.msg, "digest mismatch") != NULL);
	buf_free(&b);
	oci_layout_close(l);
	free(dir);
}

TEST(blob_writer)
{
	char *dir = new_dir("writer");
	struct oci_layout *l;
	struct oci_blob_writer *w;
	struct err e = ERR_INIT;
	char d[OCI_DIGEST_MAX], expect[72];
	CHECK_INT(oci_layout_open(&l, dir, true, &e), 0);
	sha256_digest_str("hello world", 11, expect);

	/* Known digest and size, written in pieces. */
	CHECK_INT(oci_layout_blob_writer_open(l, expect, 11, &w, &e), 0);
	CHECK(!oci_layout_has_blob(l, expect));
	CHECK_INT(oci_layout_blob_writer_write(w, "hello", 5, &e), 0);
	CHECK_INT(oci_layout_blob_writer_write(w, " world", 6, &e), 0);
	CHECK(!oci_layout_has_blob(l, expect)); /* not visible before commit */
	CHECK_INT(oci_layout_blob_writer_commit(w, d, &e), 0);
	CHECK_STR(d, expect);
	CHECK(oci_layout_has_blob(l, expect));
	CHECK_INT(oci_layout_verify_blob(l, expect, 11, &e), 0);

	/* Wrong content for the digest: nothing appears under its name. */
	const char *other = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
	CHECK_INT(oci_layout_blob_writer_open(l, other, -1, &w, &e), 0);
	CHECK_INT(oci_layout_blob_writer_write(w, "evil", 4, &e), 0);
	CHECK_INT(oci_layout_blob_writer_commit(w, NULL, &e), -1);
	CHECK_INT(e.code, ERR_INPUT);
	CHECK(strstr(e.msg, "digest mismatch: expected sha256:1111") != NULL);
	CHECK(!oci_layout_has_blob(l, other));

	/* More than the announced size fails at once; fewer fails at commit. */
	CHECK_INT(oci_layout_blob_writer_open(l, expect, 4, &w, &e), 0);
	CHECK_INT(oci_layout_blob_writer_write(w, "hello", 5, &e), -1);
	CHECK_INT(e.code, ERR_INPUT);
	oci_layout_blob_writer_abort(w);
	CHECK_INT(oci_layout_blob_writer_open(l, NULL, 20, &w, &e), 0);
	CHECK_INT(oci_layout_blob_writer_write(w, "hello", 5, &e), 0);
	CHECK_INT(oci_layout_blob_writer_commit(w, NULL, &e), -1);
	CHECK(strstr(e.msg, "got 5 bytes, expected 20") != NULL);

	/* Unknown digest: the content names it. finish keeps it private until commit. */
	CHECK_INT(oci_layout_blob_writer_open(l, NULL, -1, &w, &e), 0);
	CHECK_INT(oci_layout_blob_writer_write(w, "abc", 3, &e), 0);
	CHECK_INT(oci_layout_blob_writer_finish(w, d, &e), 0);
	CHECK_STR(d, "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	CHECK(fs_exists(oci_layout_blob_writer_tmp_path(w)));
	CHECK_INT(oci_layout_blob_writer_size(w), 3);
	CHECK(!oci_layout_has_blob(l, d));
	CHECK_INT(oci_layout_blob_writer_write(w, "x", 1, &e), -1); /* finished */
	oci_layout_blob_writer_abort(w);
	CHECK(!oci_layout_has_blob(l, d));
	oci_layout_blob_writer_abort(NULL);

	/* sha512 blobs are accepted too. */
	const char *abc512 = "sha512:ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
			     "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f";
	CHECK_INT(oci_layout_blob_writer_open(l, abc512, 3, &w, &e), 0);
	CHECK_INT(oci_layout_blob_writer_write(w, "abc", 3, &e), 0);
	CHECK_INT(oci_layout_blob_writer_commit(w, NULL, &e), 0);
	CHECK(oci_layout_has_blob(l, abc512));
	struct buf b = BUF_INIT;
	CHECK_INT(oci_layout_read_blob(l, abc512, &b, 10, &e), 0);
	buf_free(&b);

	CHECK_INT(count_tmp(dir), 0); /* no leftovers */
	oci_layout_close(l);
	free(dir);
}

TEST(put_blob_file)
{
	char *dir = new_dir("putfile");
	char *src = new_dir("putfile-src.txt");
	char *lnk = new_dir("putfile-link");
	struct oci_layout *l;
	struct err e = ERR_INIT;
	char d[72];
	CHECK_INT(oci_layout_open(&l, dir, true, &e), 0);
	CHECK_INT(write_file(src, "file content"), 0);
	sha256_digest_str("file content", 12, d);
	const char *wrong = "sha256:2222222222222222222222222222222222222222222222222222222222222222";
	CHECK_INT(oci_layout_put_blob_file(l, wrong, src, &e), -1);
	CHECK_INT(e.code, ERR_INPUT);
	CHECK(strstr(e.msg, "digest mismatch") != NULL);
	CHECK(!oci_layout_has_blob(l, wrong));
	/* Through a symlink: the blob is the file, not a link. */
	CHECK_INT(symlink(src, lnk), 0);
	CHECK_INT(oci_layout_put_blob_file(l, d, lnk, &e), 0);
	char *p = oci_layout_blob_path(l, d);
	struct stat st;
	CHECK(lstat(p, &st) == 0 && S_ISREG(st.st_mode));
	free(p);
	CHECK_INT(oci_layout_verify_blob(l, d, 12, &e), 0);
	CHECK_INT(oci_layout_put_blob_file(l, d, src, &e), 0); /* again: fine */
	CHECK_INT(oci_layout_put_blob_file(l, d, "/nonexistent/x", &e), -1);
	CHECK_INT(e.code, ERR_INPUT);
	CHECK_INT(count_tmp(dir), 0);
	oci_layout_close(l);
	free(dir);
	free(src);
	free(lnk);
}

TEST(tags)
{
	char *dir = new_dir("tags");
	struct oci_layout *l;
	struct err e = ERR_INIT;
	char m1[72], m2[72], m3[72];
	CHECK_INT(oci_layout_open(&l, dir, true, &e), 0);
	CHECK_INT(oci_layout_put_blob(l, "{\"m\":1}", 7, m1, &e), 0);
	CHECK_INT(oci_layout_put_blob(l, "{\"m\":2}", 7, m2, &e), 0);
	CHECK_INT(oci_layout_put_blob(l, "{\"m\":3}", 7, m3, &e), 0);

	struct oci_desc d1 = mk_desc(m1, 7), d2 = mk_desc(m2, 7), d3 = mk_desc(m3, 7), got;
	d1.annotations_json = (char *)"{\"org.opencontainers.image.created\":\"2024\"}";
	CHECK_INT(oci_layout_set_ref(l, &d1, "v1", &e), 0);
	CHECK_INT(oci_layout_resolve(l, "v1", &got, &e), 0);
	CHECK_STR(got.digest, m1);
	CHECK_STR(got.media_type, MT_OCI_MANIFEST);
	CHECK_INT(got.size, 7);
	char *a = oci_desc_annotation(&got, "org.opencontainers.image.created");
	CHECK_STR(a, "2024"); /* caller annotations kept next to the tag */
	free(a);
	a = oci_desc_annotation(&got, ANN_REF_NAME);
	CHECK_STR(a, "v1");
	free(a);
	oci_desc_free(&got);
	CHECK_INT(oci_layout_resolve(l, NULL, &got, &e), 0); /* the only entry */
	CHECK_STR(got.digest, m1);
	oci_desc_free(&got);

	CHECK_INT(oci_layout_set_ref(l, &d2, "v2", &e), 0);
	CHECK_INT(oci_layout_resolve(l, NULL, &got, &e), -1);
	CHECK_INT(e.code, ERR_INPUT);
	CHECK(strstr(e.msg, "holds 2 images") && strstr(e.msg, "tags: v1, v2"));
	CHECK_INT(oci_layout_resolve(l, "v3", &got, &e), -1);
	CHECK_INT(e.code, ERR_INPUT);
	CHECK(strstr(e.msg, "no image tagged \"v3\" (tags: v1, v2)") != NULL);

	/* Retag v1: replaced, not duplicated; v2 untouched. */
	CHECK_INT(oci_layout_set_ref(l, &d3, "v1", &e), 0);
	CHECK_INT(index_entries(dir), 2);
	CHECK_INT(oci_layout_resolve(l, "v1", &got, &e), 0);
	CHECK_STR(got.digest, m3);
	oci_desc_free(&got);
	CHECK_INT(oci_layout_resolve(l, "v2", &got, &e), 0);
	CHECK_STR(got.digest, m2);
	oci_desc_free(&got);

	/* Untagged entries: one per digest. */
	CHECK_INT(oci_layout_set_ref(l, &d1, NULL, &e), 0);
	CHECK_INT(oci_layout_set_ref(l, &d1, NULL, &e), 0);
	CHECK_INT(index_entries(dir), 3);

	/* A tag never points at a missing blob. */
	struct oci_desc missing = mk_desc("sha256:3333333333333333333333333333333333333333333333333333333333333333", 1);
	CHECK_INT(oci_layout_set_ref(l, &missing, "v9", &e), -1);
	CHECK_INT(index_entries(dir), 3);
	CHECK_INT(oci_layout_set_ref(l, &d1, "", &e), -1);
	oci_layout_close(l);
	free(dir);
}

TEST(foreign_index_fields_kept)
{
	/* index.json written by another tool: unknown fields and entries survive set_ref. */
	char *dir = new_dir("foreign");
	struct oci_layout *l;
	struct err e = ERR_INIT;
	char m1[72];
	CHECK_INT(oci_layout_open(&l, dir, true, &e), 0);
	CHECK_INT(oci_layout_put_blob(l, "{}", 2, m1, &e), 0);
	char *p = fs_join(dir, "index.json");
	char text[1024];
	snprintf(text, sizeof text,
		 "{\"schemaVersion\":2,\"annotations\":{\"x\":\"y\"},\"manifests\":[{\"mediaType\":\"%s\","
		 "\"digest\":\"%s\",\"size\":2,\"urls\":[\"u\"],\"annotations\":{\"io.containerd.image.name\":"
		 "\"docker.io/library/alpine:3\",\"org.opencontainers.image.ref.name\":\"3\"}}]}",
		 MT_OCI_MANIFEST, m1);
	CHECK_INT(write_file(p, text), 0);
	struct oci_desc d = mk_desc(m1, 2), got;
	CHECK_INT(oci_layout_set_ref(l, &d, "new", &e), 0);
	struct buf b = BUF_INIT;
	CHECK_INT(fs_read_file(p, &b, 0, &e), 0);
	CHECK(strstr(b.data, "\"urls\":[\"u\"]") && strstr(b.data, "\"annotations\":{\"x\":\"y\"}"));
	buf_free(&b);
	/* Lookup by the full name containerd writes works too. */
	CHECK_INT(oci_layout_resolve(l, "docker.io/library/alpine:3", &got, &e), 0);
	oci_desc_free(&got);
	CHECK_INT(oci_layout_resolve(l, "3", &got, &e), 0);
	oci_desc_free(&got);

	/* A broken index.json is bad input, not a crash. */
	CHECK_INT(write_file(p, "{\"manifests\":"), 0);
	CHECK_INT(oci_layout_resolve(l, "3", &got, &e), -1);
	CHECK_INT(e.code, ERR_INPUT);
	CHECK_INT(oci_layout_set_ref(l, &d, "x", &e), -1);
	CHECK_INT(e.code, ERR_INPUT);
	/* Missing index.json: opening without create refuses. */
	unlink(p);
	oci_layout_close(l);
	CHECK_INT(oci_layout_open(&l, dir, false, &e), -1);
	CHECK_INT(e.code, ERR_INPUT);
	CHECK(strstr(e.msg, "not an OCI layout (no index.json)") != NULL);
	free(p);
	free(dir);
}

static int child_tagger(const char *dir, int who)
{
	struct oci_layout *l;
	struct err e = ERR_INIT;
	if (oci_layout_open(&l, dir, true, &e) < 0)
		return 1;
	for (int i = 0; i < 50; i++) {
		char content[64], tag[32], d[72];
		snprintf(content, sizeof content, "{\"child\":%d,\"n\":%d}", who, i);
		snprintf(tag, sizeof tag, "c%d-t%d", who, i);
		if (oci_layout_put_blob(l, content, strlen(content), d, &e) < 0)
			return 2;
		struct oci_desc desc = mk_desc(d, (int64_t)strlen(content));
		if (oci_layout_set_ref(l, &desc, tag, &e) < 0) {
			fprintf(stderr, "child %d: %s\n", who, e.msg);
			return 3;
		}
	}
	oci_layout_close(l);
	return 0;
}

TEST(concurrent_writers)
{
	char *dir = new_dir("concurrent");
	pid_t pids[2];
	fflush(NULL);
	for (int c = 0; c < 2; c++) {
		pids[c] = fork();
		if (pids[c] == 0)
			_exit(child_tagger(dir, c));
	}
	for (int c = 0; c < 2; c++) {
		int st = 0;
		CHECK(waitpid(pids[c], &st, 0) == pids[c]);
		CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
	CHECK_INT(index_entries(dir), 100);
	struct oci_layout *l;
	struct err e = ERR_INIT;
	CHECK_INT(oci_layout_open(&l, dir, false, &e), 0);
	for (int c = 0; c < 2; c++)
		for (int i = 0; i < 50; i++) {
			char tag[32];
			struct oci_desc d;
			snprintf(tag, sizeof tag, "c%d-t%d", c, i);
			int rc = oci_layout_resolve(l, tag, &d, &e);
			CHECK_INT(rc, 0);
			if (rc == 0)
				CHECK_INT(oci_layout_verify_blob(l, d.digest, d.size, &e), 0);
			oci_desc_free(&d);
		}
	oci_layout_close(l);
	free(dir);
}

TEST(split_spec)
{
	char *dir, *tag;
	struct err e = ERR_INIT;
	CHECK_INT(oci_layout_split_spec("out/img:v1", &dir, &tag, &e), 0);
	CHECK_STR(dir, "out/img");
	CHECK_STR(tag, "v1");
	free(dir);
	free(tag);
	CHECK_INT(oci_layout_split_spec("/abs/dir", &dir, &tag, &e), 0);
	CHECK_STR(dir, "/abs/dir");
	CHECK(tag == NULL);
	free(dir);
	CHECK_INT(oci_layout_split_spec("", &dir, &tag, &e), -1);
	CHECK_INT(e.code, ERR_USAGE);
	CHECK_INT(oci_layout_split_spec("d:", &dir, &tag, &e), -1);
	CHECK_INT(e.code, ERR_USAGE);
	CHECK_INT(oci_layout_split_spec(":t", &dir, &tag, &e), -1);
}

int main(void)
{
	struct err e = ERR_INIT;
	tmp_root = fs_mkdtemp("bosun-test-layout", &e);
	if (!tmp_root) {
		fprintf(stderr, "%s\n", e.msg);
		return 1;
	}
	RUN(create_and_open);
	RUN(blobs);
	RUN(blob_writer);
	RUN(put_blob_file);
	RUN(tags);
	RUN(foreign_index_fields_kept);
	RUN(concurrent_writers);
	RUN(split_spec);
	if (!test_failed)
		fs_rm_rf(tmp_root, &e);
	free(tmp_root);
	return test_done();
}
