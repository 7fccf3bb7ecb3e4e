/* docker-archive: write and read back, legacy archives, hostile tars. */
#include <archive.h>
#include <archive_entry.h>
#include <cjson/cJSON.h>
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/fs.h"
#include "core/sha256.h"
#include "oci/archive.h"
#include "oci/layout.h"
#include "oci/manifest.h"
#include "test.h"

static char *tmp_root;

struct tar_member {
	const char *name;
	const void *data;
	size_t len;
	const char *symlink; /* target, for a symlink member */
	const char *hardlink;
};

static char *path_in(const char *name)
{
	return fs_join(tmp_root, name);
}

static int make_tar(const char *path, const struct tar_member *m, size_t n)
{
	struct archive *a = archive_write_new();
	archive_write_set_format_pax_restricted(a);
	if (archive_write_open_filename(a, path) != ARCHIVE_OK)
		return -1;
	for (size_t i = 0; i < n; i++) {
		struct archive_entry *e = archive_entry_new();
		archive_entry_set_pathname(e, m[i].name);
		if (m[i].symlink) {
			archive_entry_set_filetype(e, AE_IFLNK);
			archive_entry_set_symlink(e, m[i].symlink);
			archive_entry_set_perm(e, 0777);
		} else if (m[i].hardlink) {
			archive_entry_set_filetype(e, AE_IFREG);
			archive_entry_set_hardlink(e, m[i].hardlink);
			archive_entry_set_perm(e, 0644);
		} else {
			archive_entry_set_filetype(e, AE_IFREG);
			archive_entry_set_perm(e, 0644);
			archive_entry_set_size(e, (la_int64_t)m[i].len);
		}
		archive_write_header(a, e);
		if (m[i].data && m[i].len)
			archive_write_data(a, m[i].data, m[i].len);
		archive_entry_free(e);
	}
	int rc = archive_write_close(a) == ARCHIVE_OK ? 0 : -1;
	archive_write_free(a);
	return rc;
}

/* An uncompressed layer tarball in memory (one file). */
static size_t make_layer(char *out, size_t cap, const char *fname, const char *content)
{
	struct archive *a = archive_write_new();
	size_t used = 0;
	archive_write_set_format_pax_restricted(a);
	archive_write_set_bytes_in_last_block(a, 1);
	archive_write_open_memory(a, out, cap, &used);
	struct archive_entry *e = archive_entry_new();
	archive_entry_set_pathname(e, fname);
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0644);
	archive_entry_set_size(e, (la_int64_t)strlen(content));
	archive_write_header(a, e);
	archive_write_data(a, content, strlen(content));
	archive_entry_free(e);
	archive_write_close(a);
	archive_write_free(a);
	return used;
}

static int count_files(const char *dir, const char *sub, bool tmp_only)
{
	char *p = fs_join(dir, sub);
	DIR *d = opendir(p);
	int n = 0;
	struct dirent *de;
	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.' && (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")))
			continue;
		if (!tmp_only || strstr(de->d_name, ".tmp"))
			n++;
	}
	if (d)
		closedir(d);
	free(p);
	return n;
}

static struct oci_layout *new_layout(const char *name)
{
	char *p = path_in(name);
	struct oci_layout *l = NULL;
	struct err e = ERR_INIT;
	if (oci_layout_open(&l, p, true, &e) < 0)
		fprintf(stderr, "%s\n", e.msg);
	free(p);
	return l;
}

/* Source image: config + an uncompressed layer + a "gzip" layer + a repeated layer. */
struct src_image {
	struct oci_layout *l;
	char manifest[72], config[72], layer1[72], layer2[72];
	size_t manifest_len;
	char layer1_data[4096];
	size_t layer1_len;
};

static int build_source(struct src_image *s, const char *name, const char *manifest_mt)
{
	struct err e = ERR_INIT;
	static const char cfg[] = "{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\"}}";
	static const unsigned char gz[] = { 0x1f, 0x8b, 0x08, 0x00, 'x', 'y', 'z' };
	s->l = new_layout(name);
	s->layer1_len = make_layer(s->layer1_data, sizeof s->layer1_data, "hello.txt", "hi there\n");
	if (!s->l || oci_layout_put_blob(s->l, cfg, strlen(cfg), s->config, &e) < 0 ||
	    oci_layout_put_blob(s->l, s->layer1_data, s->layer1_len, s->layer1, &e) < 0 ||
	    oci_layout_put_blob(s->l, gz, sizeof gz, s->layer2, &e) < 0)
		return -1;
	bool docker = !strcmp(manifest_mt, MT_DOCKER_MANIFEST);
	char m[2048];
	int n = snprintf(m, sizeof m,
			 "{\"schemaVersion\":2,\"mediaType\":\"%s\",\"config\":{\"mediaType\":\"%s\",\"digest\":\"%s\","
			 "\"size\":%zu},\"layers\":[{\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":%zu},"
			 "{\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":%zu},{\"mediaType\":\"%s\",\"digest\":\"%s\","
			 "\"size\":%zu}]}",
			 manifest_mt, docker ? MT_DOCKER_CONFIG : MT_OCI_CONFIG, s->config, strlen(cfg),
			 docker ? MT_DOCKER_LAYER : MT_OCI_LAYER, s->layer1, s->layer1_len,
			 docker ? MT_DOCKER_LAYER_GZIP : MT_OCI_LAYER_GZIP, s->layer2, sizeof gz,
			 docker ? MT_DOCKER_LAYER : MT_OCI_LAYER, s->layer1, s->layer1_len);
	s->manifest_len = (size_t)n;
	return oci_layout_put_blob(s->l, m, (size_t)n, s->manifest, &e);
}

static struct oci_desc desc_of(const char *mt, const char *digest, size_t size)
{
	struct oci_desc d = { 0 };
	d.media_type = (char *)mt;
	d.digest = (char *)digest;
	d.size = (int64_t)size;
	return d;
}

struct listed {
	char names[32][128];
	int n;
	bool all_zero; /* mtime, uid, gid */
};

static int list_tar(const char *path, struct listed *out)
{
	struct archive *a = archive_read_new();
	struct archive_entry *ent;
	archive_read_support_format_tar(a);
	if (archive_read_open_filename(a, path, 10240) != ARCHIVE_OK)
		return -1;
	out->n = 0;
	out->all_zero = true;
	while (archive_read_next_header(a, &ent) == ARCHIVE_OK && out->n < 32) {
		snprintf(out->names[out->n++], 128, "%s", archive_entry_pathname(ent));
		if (archive_entry_mtime(ent) != 0 || archive_entry_uid(ent) != 0 || archive_entry_gid(ent) != 0)
			out->all_zero = false;
	}
	archive_read_free(a);
	return 0;
}

static char *read_member(const char *tar, const char *name)
{
	struct archive *a = archive_read_new();
	struct archive_entry *ent;
	char *r = NULL;
	archive_read_support_format_tar(a);
	archive_read_open_filename(a, tar, 10240);
	while (archive_read_next_header(a, &ent) == ARCHIVE_OK) {
		if (strcmp(archive_entry_pathname(ent), name) != 0)
			continue;
		size_t n = (size_t)archive_entry_size(ent);
		r = calloc(1, n + 1);
		archive_read_data(a, r, n);
		break;
	}
	archive_read_free(a);
	return r;
}

static bool files_equal(const char *a, const char *b)
{
	struct buf x = BUF_INIT, y = BUF_INIT;
	struct err e = ERR_INIT;
	bool eq = fs_read_file(a, &x, 0, &e) == 0 && fs_read_file(b, &y, 0, &e) == 0 && x.len == y.len &&
		  !memcmp(x.data, y.data, x.len);
	buf_free(&x);
	buf_free(&y);
	return eq;
}

TEST(write_then_read)
{
	struct src_image s;
	struct err e = ERR_INIT;
	CHECK_INT(build_source(&s, "w-src", MT_DOCKER_MANIFEST), 0);
	struct oci_desc md = desc_of(MT_DOCKER_MANIFEST, s.manifest, s.manifest_len);
	char *tar = path_in("w.tar"), *tar2 = path_in("w2.tar");
	CHECK_INT(docker_archive_write(tar, s.l, &md, "alpine:3.19", &e), 0);
	if (e.code)
		fprintf(stderr, "%s\n", e.msg);
	CHECK_INT(docker_archive_write(tar2, s.l, &md, "alpine:3.19", &e), 0);
	CHECK(files_equal(tar, tar2)); /* deterministic */

	/* Layout of the tar: sorted, owned by root, dated 0. */
	struct listed ls;
	CHECK_INT(list_tar(tar, &ls), 0);
	CHECK(ls.all_zero);
	CHECK_INT(ls.n, 10); /* 2 dirs + manifest, config, 2 distinct layers + 4 files */
	for (int i = 1; i < ls.n; i++)
		CHECK(strcmp(ls.names[i - 1], ls.names[i]) < 0);
	CHECK_STR(ls.names[0], "blobs/");
	CHECK_STR(ls.names[1], "blobs/sha256/");
	CHECK_STR(ls.names[6], "index.json");
	CHECK_STR(ls.names[7], "manifest.json");
	CHECK_STR(ls.names[8], "oci-layout");
	CHECK_STR(ls.names[9], "repositories");

	char *mj = read_member(tar, "manifest.json");
	char want[1024];
	snprintf(want, sizeof want,
		 "[{\"Config\":\"blobs/sha256/%.64s\",\"RepoTags\":[\"alpine:3.19\"],\"Layers\":[\"blobs/sha256/%.64s\","
		 "\"blobs/sha256/%.64s\",\"blobs/sha256/%.64s\"]}]",
		 s.config + 7, s.layer1 + 7, s.layer2 + 7, s.layer1 + 7);
	CHECK_STR(mj, want);
	free(mj);
	char *ij = read_member(tar, "index.json");
	CHECK(ij && strstr(ij, "\"io.containerd.image.name\":\"docker.io/library/alpine:3.19\"") &&
	      strstr(ij, "\"org.opencontainers.image.ref.name\":\"3.19\"") && strstr(ij, s.manifest));
	free(ij);
	char *rp = read_member(tar, "repositories");
	snprintf(want, sizeof want, "{\"alpine\":{\"3.19\":\"%.64s\"}}", s.config + 7);
	CHECK_STR(rp, want);
	free(rp);

	/* Read back: by no tag, by short and by full name; same manifest digest, blobs verified. */
	static const char *const tags[] = { NULL, "alpine:3.19", "docker.io/library/alpine:3.19", "3.19" };
	for (size_t i = 0; i < sizeof tags / sizeof tags[0]; i++) {
		char name[32];
		snprintf(name, sizeof name, "w-stage%zu", i);
		struct oci_layout *st = new_layout(name);
		struct oci_desc out;
		int rc = docker_archive_read(tar, tags[i], st, &out, &e);
		CHECK_INT(rc, 0);
		if (rc < 0) {
			fprintf(stderr, "%s\n", e.msg);
			oci_layout_close(st);
			continue;
		}
		CHECK_STR(out.digest, s.manifest);
		CHECK_STR(out.media_type, MT_DOCKER_MANIFEST);
		CHECK_INT(out.size, (int64_t)s.manifest_len);
		CHECK_INT(oci_layout_verify_blob(st, s.manifest, -1, &e), 0);
		CHECK_INT(oci_layout_verify_blob(st, s.config, -1, &e), 0);
		CHECK_INT(oci_layout_verify_blob(st, s.layer1, (int64_t)s.layer1_len, &e), 0);
		CHECK_INT(oci_layout_verify_blob(st, s.layer2, 7, &e), 0);
		CHECK_INT(count_files(oci_layout_dir(st), "blobs/sha256", false), 4);
		CHECK_INT(count_files(oci_layout_dir(st), "blobs/sha256", true), 0);
		/* The round trip writes the same archive again. */
		if (i == 0) {
			char *tar3 = path_in("w3.tar");
			CHECK_INT(docker_archive_write(tar3, st, &out, "alpine:3.19", &e), 0);
			CHECK(files_equal(tar, tar3));
			free(tar3);
		}
		oci_desc_free(&out);
		oci_layout_close(st);
	}

	/* Unknown tag: names what is there. */
	struct oci_layout *st = new_layout("w-stage-bad");
	struct oci_desc out;
	CHECK_INT(docker_archive_read(tar, "busybox", st, &out, &e), -1);
	CHECK_INT(e.code, ERR_INPUT);
	CHECK(strstr(e.msg, "no image named \"busybox\"") && strstr(e.msg, "docker.io/library/alpine:3.19"));
	CHECK(strstr(e.msg, tar) != NULL);
	CHECK_INT(count_files(oci_layout_dir(st), "blobs/sha256", false), 0);
	oci_layout_close(st);

	/* A descriptor without media type: the manifest's own type goes into index.json. */
	struct oci_desc untyped = desc_of(NULL, s.manifest, s.manifest_len);
	untyped.media_type = NULL;
	CHECK_INT(docker_archive_write(tar2, s.l, &untyped, "alpine:3.19", &e), 0);
	CHECK(files_equal(tar, tar2));

	/* Without a tag: no RepoTags, no repositories file. */
	CHECK_INT(docker_archive_write(tar2, s.l, &md, NULL, &e), 0);
	mj = read_member(tar2, "manifest.json");
	CHECK(mj && strstr(mj, "\"RepoTags\":[]"));
	free(mj);
	CHECK(read_member(tar2, "repositories") == NULL);

	oci_layout_close(s.l);
	free(tar);
	free(tar2);
}

TEST(write_refuses)
{
	struct src_image s;
	struct err e = ERR_INIT;
	CHECK_INT(build_source(&s, "r-src", MT_OCI_MANIFEST), 0);
	char *tar = path_in("r.tar");
	/* An index cannot go into a docker-archive. */
	char idx[512], idxd[72];
	int n = snprintf(idx, sizeof idx,
			 "{\"schemaVersion\":2,\"mediaType\":\"%s\",\"manifests\":[{\"mediaType\":\"%s\",\"digest\":\"%s\","
			 "\"size\":%zu,\"platform\":{\"os\":\"linux\",\"architecture\":\"amd64\"}}]}",
			 MT_OCI_INDEX, MT_OCI_MANIFEST, s.manifest, s.manifest_len);
	CHECK_INT(oci_layout_put_blob(s.l, idx, (size_t)n, idxd, &e), 0);
	struct oci_desc d = desc_of(MT_OCI_INDEX, idxd, (size_t)n);
	CHECK_INT(docker_archive_write(tar, s.l, &d, "x:1", &e), -1);
	CHECK_INT(e.code, ERR_USAGE);
	CHECK(strstr(e.msg, "--platform") != NULL);
	d.media_type = NULL; /* detected from the content as well */
	CHECK_INT(docker_archive_write(tar, s.l, &d, "x:1", &e), -1);
	CHECK_INT(e.code, ERR_USAGE);
	CHECK(!fs_exists(tar));

	/* Missing layer blob: bad input, and no partial output file. */
	char *lp = oci_layout_blob_path(s.l, s.layer2);
	unlink(lp);
	free(lp);
	struct oci_desc md = desc_of(MT_OCI_MANIFEST, s.manifest, s.manifest_len);
	CHECK_INT(docker_archive_write(tar, s.l, &md, "x:1", &e), -1);
	CHECK_INT(e.code, ERR_INPUT);
	CHECK(strstr(e.msg, s.layer2) != NULL);
	CHECK(!fs_exists(tar));
	CHECK_INT(docker_archive_write(tar, s.l, &md, "Bad/Ref", &e), -1);
	CHECK_INT(e.code, ERR_INPUT);
	CHECK_INT(count_files(tmp_root, "", true), 0);
	oci_layout_close(s.l);
	free(tar);
}

TEST(read_legacy)
{
	/* As `docker save` wrote before Docker 25: config <hex>.json, <id>/layer.tar,
	 * a symlinked duplicate layer, VERSION/json files, manifest.json last. */
	static const char cfg[] = "{\"architecture\":\"arm64\",\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\"}}";
	char layer[4096];
	size_t layer_len = make_layer(layer, sizeof layer, "etc/hostname", "box\n");
	static const unsigned char gz[] = { 0x1f, 0x8b, 0x08, 0x00, 1, 2, 3, 4 };
	char cfg_d[72], layer_d[72], gz_d[72], cfg_name[80], mj[1024];
	sha256_digest_str(cfg, strlen(cfg), cfg_d);
	sha256_digest_str(layer, layer_len, layer_d);
	sha256_digest_str(gz, sizeof gz, gz_d);
	snprintf(cfg_name, sizeof cfg_name, "%s.json", cfg_d + 7);
	snprintf(mj, sizeof mj,
		 "[{\"Config\":\"%s\",\"RepoTags\":[\"busybox:latest\",\"example.com/tools/box:1\"],"
		 "\"Layers\":[\"aaa/layer.tar\",\"bbb/layer.tar\",\"./ccc/layer.tar\"]},"
		 "{\"Config\":\"%s\",\"RepoTags\":[\"other:2\"],\"Layers\":[\"aaa/layer.tar\"]}]",
		 cfg_name, cfg_name);
	const struct tar_member members[] = {
		{ "aaa/VERSION", "1.0", 3, NULL, NULL },
		{ "aaa/json", "{}", 2, NULL, NULL },
		{ "aaa/layer.tar", layer, layer_len, NULL, NULL },
		{ "bbb/layer.tar", NULL, 0, NULL, "aaa/layer.tar" },
		{ "ccc/layer.tar", gz, sizeof gz, NULL, NULL },
		{ "ddd/layer.tar", NULL, 0, "../aaa/layer.tar", NULL },
		{ cfg_name, cfg, strlen(cfg), NULL, NULL },
		{ "repositories", "{}", 2, NULL, NULL },
		{ "manifest.json", mj, strlen(mj), NULL, NULL },
	};
	char *tar = path_in("legacy.tar");
	CHECK_INT(make_tar(tar, members, sizeof members / sizeof members[0]), 0);
	struct oci_layout *st = new_layout("legacy-stage");
	struct oci_desc out;
	struct err e = ERR_INIT;

	/* Two images: a tag is needed. */
	CHECK_INT(docker_archive_read(tar, NULL, st, &out, &e), -1);
	CHECK_INT(e.code, ERR_INPUT);
	CHECK(strstr(e.msg, "holds 2 images") && strstr(e.msg, "busybox:latest, example.com/tools/box:1, other:2"));
	CHECK_INT(count_files(oci_layout_dir(st), "blobs/sha256", false), 0);

	int rc = docker_archive_read(tar, "docker.io/library/busybox", st, &out, &e);
	CHECK_INT(rc, 0);
	if (rc < 0) {
		fprintf(stderr, "%s\n", e.msg);
		goto done;
	}
	CHECK_STR(out.media_type, MT_DOCKER_MANIFEST);
	struct buf b = BUF_INIT;
	CHECK_INT(oci_layout_read_blob(st, out.digest, &b, BUF_CAP_MANIFEST, &e), 0);
	CHECK_INT((int64_t)b.len, out.size);
	struct oci_manifest m;
	CHECK_INT(oci_manifest_parse(&m, b.data, b.len, out.media_type, &e), 0);
	CHECK_STR(m.config.digest, cfg_d);
	CHECK_STR(m.config.media_type, MT_DOCKER_CONFIG);
	CHECK_INT(m.config.size, (int64_t)strlen(cfg));
	CHECK_INT(m.n_layers, 3);
	CHECK_STR(m.layers[0].digest, layer_d);
	CHECK_STR(m.layers[0].media_type, MT_DOCKER_LAYER);
	CHECK_INT(m.layers[0].size, (int64_t)layer_len);
	CHECK_STR(m.layers[1].digest, layer_d); /* hard link resolved */
	CHECK_STR(m.layers[2].digest, gz_d);
	CHECK_STR(m.layers[2].media_type, MT_DOCKER_LAYER_GZIP);
	oci_manifest_free(&m);
	buf_free(&b);
	/* Exactly manifest, config, two layers: VERSION and json files were dropped. */
	CHECK_INT(count_files(oci_layout_dir(st), "blobs/sha256", false), 4);
	CHECK_INT(oci_layout_verify_blob(st, layer_d, (int64_t)layer_len, &e), 0);
	oci_desc_free(&out);

	/* Symlinked layer paths resolve as well (legacy saves link duplicate layers). */
	snprintf(mj, sizeof mj, "[{\"Config\":\"%s\",\"RepoTags\":null,\"Layers\":[\"ddd/layer.tar\"]}]", cfg_name);
	const struct tar_member m2[] = {
		{ "aaa/layer.tar", layer, layer_len, NULL, NULL },
		{ "ddd/layer.tar", NULL, 0, "../aaa/layer.tar", NULL },
		{ "eee/layer.tar", NULL, 0, "../../outside/layer.tar", NULL },
		{ cfg_name, cfg, strlen(cfg), NULL, NULL },
		{ "manifest.json", mj, strlen(mj), NULL, NULL },
	};
	CHECK_INT(make_tar(tar, m2, sizeof m2 / sizeof m2[0]), 0);
	CHECK_INT(docker_archive_read(tar, NULL, st, &out, &e), 0);
	oci_desc_free(&out);
	/* A layer reached only through a link out of the archive is missing, not followed. */
	snprintf(mj, sizeof mj, "[{\"Config\":\"%s\",\"Layers\":[\"eee/layer.tar\"]}]", cfg_name);
	const struct tar_member m3[] = {
		{ "eee/layer.tar", NULL, 0, "../../outside/layer.tar", NULL },
		{ cfg_name, cfg, strlen(cfg), NULL, NULL },
		{ "manifest.json", mj, strlen(mj), NULL, NULL },
	};
	CHECK_INT(make_tar(tar, m3, sizeof m3 / sizeof m3[0]), 0);
	CHECK_INT(docker_archive_read(tar, NULL, st, &out, &e), -1);
	CHECK_INT(e.code, ERR_INPUT);
	CHECK(strstr(e.msg, "layer \"eee/layer.tar\" is not in the archive") != NULL);
done:
	CHECK_INT(count_files(oci_layout_dir(st), "blobs/sha256", true), 0);
	oci_layout_close(st);
	free(tar);
}

TEST(read_legacy_zstd)
{
	/* A zstd layer cannot be named in schema2: an OCI manifest is synthesised. */
	static const char cfg[] = "{\"os\":\"linux\"}";
	static const unsigned char zst[] = { 0x28, 0xb5, 0x2f, 0xfd, 0, 0, 0 };
	const char *mj = "[{\"Config\":\"c.json\",\"RepoTags\":[\"z:1\"],\"Layers\":[\"l/layer.tar\"]}]";
	const struct tar_member members[] = {
		{ "manifest.json", mj, strlen(mj), NULL, NULL },
		{ "c.json", cfg, strlen(cfg), NULL, NULL },
		{ "l/layer.tar", zst, sizeof zst, NULL, NULL },
	};
	char *tar = path_in("zstd.tar");
	CHECK_INT(make_tar(tar, members, 3), 0);
	struct oci_layout *st = new_layout("zstd-stage");
	struct oci_desc out;
	struct err e = ERR_INIT;
	CHECK_INT(docker_archive_read(tar, "z:1", st, &out, &e), 0);
	CHECK_STR(out.media_type, MT_OCI_MANIFEST);
	struct buf b = BUF_INIT;
	CHECK_INT(oci_layout_read_blob(st, out.digest, &b, BUF_CAP_MANIFEST, &e), 0);
	CHECK(strstr(b.data, MT_OCI_LAYER_ZSTD) && strstr(b.data, MT_OCI_CONFIG));
	buf_free(&b);
	oci_desc_free(&out);
	oci_layout_close(st);
	free(tar);
}

TEST(empty_index_uses_legacy)
{
	/* index.json without entries next to a usable manifest.json. */
	const char *mj = "[{\"Config\":\"c.json\",\"RepoTags\":[\"e:1\"],\"Layers\":[\"l.tar\"]}]";
	const char *ij = "{\"schemaVersion\":2,\"manifests\":[]}";
	const struct tar_member members[] = {
		{ "c.json", "{}", 2, NULL, NULL },
		{ "index.json", ij, strlen(ij), NULL, NULL },
		{ "l.tar", "layer", 5, NULL, NULL },
		{ "manifest.json", mj, strlen(mj), NULL, NULL },
	};
	char *tar = path_in("emptyidx.tar");
	CHECK_INT(make_tar(tar, members, 4), 0);
	struct oci_layout *st = new_layout("emptyidx-stage");
	struct oci_desc out;
	struct err e = ERR_INIT;
	CHECK_INT(docker_archive_read(tar, NULL, st, &out, &e), 0);
	CHECK_STR(out.media_type, MT_DOCKER_MANIFEST);
	oci_desc_free(&out);
	oci_layout_close(st);
	free(tar);
}

TEST(hostile_archives)
{
	struct err e = ERR_INIT;
	struct oci_desc out;
	struct oci_layout *st = new_layout("hostile/stage");
	char *tar = path_in("hostile.tar");
	const char *mj = "[{\"Config\":\"c.json\",\"Layers\":[]}]";

	/* Path traversal members are refused; nothing lands outside staging. */
	static const char *const evil[] = { "../evil", "a/../../evil", "/evil", "./../evil" };
	for (size_t i = 0; i < sizeof evil / sizeof evil[0]; i++) {
		const struct tar_member m[] = {
			{ evil[i], "pwned", 5, NULL, NULL },
			{ "c.json", "{}", 2, NULL, NULL },
			{ "manifest.json", mj, strlen(mj), NULL, NULL },
		};
		CHECK_INT(make_tar(tar, m, 3), 0);
		CHECK_INT(docker_archive_read(tar, NULL, st, &out, &e), -1);
		CHECK_INT(e.code, ERR_INPUT);
		CHECK(strstr(e.msg, "unsafe member name") != NULL);
		CHECK(strstr(e.msg, tar) != NULL);
	}
	char *outside = path_in("evil"), *outside2 = path_in("hostile/evil");
	CHECK(!fs_exists(outside) && !fs_exists(outside2) && !fs_exists("/evil"));
	free(outside);
	free(outside2);
	CHECK_INT(count_files(oci_layout_dir(st), "blobs/sha256", false), 0);

	/* Not a tar at all, an empty file, a missing file. */
	CHECK_INT(make_tar(tar, NULL, 0), 0);
	FILE *f = fopen(tar, "wb");
	for (int i = 0; i < 200; i++)
		fputs("this is not a tar archive, just text. ", f);
	fclose(f);
	CHECK_INT(docker_archive_read(tar, NULL, st, &out, &e), -1);
	CHECK_INT(e.code, ERR_INPUT);
	CHECK(strstr(e.msg, tar) != NULL);
	f = fopen(tar, "wb");
	fclose(f);
	CHECK_INT(docker_archive_read(tar, NULL, st, &out, &e), -1);
	CHECK_INT(e.code, ERR_INPUT);
	char *none = path_in("does-not-exist.tar");
	CHECK_INT(docker_archive_read(none, NULL, st, &out, &e), -1);
	CHECK_INT(e.code, ERR_INPUT);
	CHECK(strstr(e.msg, none) != NULL);
	free(none);

	/* A tar without manifest.json or index.json. */
	const struct tar_member plain[] = { { "hello.txt", "hi", 2, NULL, NULL } };
	CHECK_INT(make_tar(tar, plain, 1), 0);
	CHECK_INT(docker_archive_read(tar, NULL, st, &out, &e), -1);
	CHECK_INT(e.code, ERR_INPUT);
	CHECK(strstr(e.msg, "not a docker archive (no manifest.json or index.json)") != NULL);

	/* Truncated: a real archive cut in the middle of a blob. */
	struct src_image s;
	CHECK_INT(build_source(&s, "hostile/src", MT_OCI_MANIFEST), 0);
	struct oci_desc md = desc_of(MT_OCI_MANIFEST, s.manifest, s.manifest_len);
	CHECK_INT(docker_archive_write(tar, s.l, &md, "t:1", &e), 0);
	struct stat sb;
	CHECK_INT(stat(tar, &sb), 0);
	CHECK_INT(truncate(tar, 1536 + 100), 0); /* inside the first blob */
	CHECK_INT(docker_archive_read(tar, NULL, st, &out, &e), -1);
	CHECK_INT(e.code, ERR_INPUT);
	CHECK(strstr(e.msg, tar) != NULL);
	fprintf(stderr, "  (truncated: %s)\n", e.msg);
	CHECK_INT(count_files(oci_layout_dir(st), "blobs/sha256", false), 0);

	/* OCI form with a blob whose content does not match its name. */
	char *lp = oci_layout_blob_path(s.l, s.layer2);
	f = fopen(lp, "r+b");
	fputc('X', f);
	fclose(f);
	free(lp);
	CHECK_INT(docker_archive_write(tar, s.l, &md, "t:1", &e), -1); /* the writer checks too */
	CHECK_INT(e.code, ERR_INPUT);
	char bogus[200];
	snprintf(bogus, sizeof bogus, "blobs/sha256/%.64s", s.layer1 + 7);
	const char *ij = "{\"schemaVersion\":2,\"manifests\":[]}";
	const struct tar_member m[] = {
		{ bogus, "not the layer", 13, NULL, NULL },
		{ "index.json", ij, strlen(ij), NULL, NULL },
	};
	CHECK_INT(make_tar(tar, m, 2), 0);
	CHECK_INT(docker_archive_read(tar, NULL, st, &out, &e), -1);
	CHECK_INT(e.code, ERR_INPUT);
	CHECK(strstr(e.msg, "digest mismatch") != NULL);

	/* index.json naming a manifest that is not in the tar. */
	char ij2[512];
	snprintf(ij2, sizeof ij2,
		 "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":%zu}]}",
		 MT_OCI_MANIFEST, s.manifest, s.manifest_len);
	const struct tar_member m4[] = { { "index.json", ij2, strlen(ij2), NULL, NULL } };
	CHECK_INT(make_tar(tar, m4, 1), 0);
	CHECK_INT(docker_archive_read(tar, NULL, st, &out, &e), -1);
	CHECK_INT(e.code, ERR_INPUT);
	CHECK(strstr(e.msg, "missing from the archive") != NULL);

	/* manifest.json that is not what it should be. */
	const struct tar_member m5[] = { { "manifest.json", "{\"a\":1}", 7, NULL, NULL } };
	CHECK_INT(make_tar(tar, m5, 1), 0);
	CHECK_INT(docker_archive_read(tar, NULL, st, &out, &e), -1);
	CHECK_INT(e.code, ERR_INPUT);

	CHECK_INT(count_files(oci_layout_dir(st), "blobs/sha256", false), 0);
	oci_layout_close(s.l);
	oci_layout_close(st);
	free(tar);
}

TEST(read_multiplatform_oci)
{
	/* Docker 25 with the containerd store saves an index; its present children come along. */
	struct src_image s;
	struct err e = ERR_INIT;
	CHECK_INT(build_source(&s, "mp-src", MT_OCI_MANIFEST), 0);
	char idx[1024], idxd[72];
	const char *absent = "sha256:4444444444444444444444444444444444444444444444444444444444444444";
	int n = snprintf(idx, sizeof idx,
			 "{\"schemaVersion\":2,\"mediaType\":\"%s\",\"manifests\":["
			 "{\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":%zu,\"platform\":{\"os\":\"linux\",\"architecture\":\"amd64\"}},"
			 "{\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":10,\"platform\":{\"os\":\"linux\",\"architecture\":\"arm64\"}}]}",
			 MT_OCI_INDEX, MT_OCI_MANIFEST, s.manifest, s.manifest_len, MT_OCI_MANIFEST, absent);
	CHECK_INT(oci_layout_put_blob(s.l, idx, (size_t)n, idxd, &e), 0);
	/* Build the tar by hand: the writer only takes single-platform images. */
	char names[5][160];
	const char *digests[] = { idxd, s.manifest, s.config, s.layer1, s.layer2 };
	struct buf blobs[5];
	struct tar_member m[6];
	for (int i = 0; i < 5; i++) {
		blobs[i] = (struct buf)BUF_INIT;
		snprintf(names[i], sizeof names[i], "blobs/sha256/%s", digests[i] + 7);
		CHECK_INT(oci_layout_read_blob(s.l, digests[i], &blobs[i], 1 << 20, &e), 0);
		m[i] = (struct tar_member){ names[i], blobs[i].data, blobs[i].len, NULL, NULL };
	}
	char ij[512];
	snprintf(ij, sizeof ij,
		 "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":%d,"
		 "\"annotations\":{\"io.containerd.image.name\":\"docker.io/library/mp:1\",\"org.opencontainers.image.ref.name\":\"1\"}}]}",
		 MT_OCI_INDEX, idxd, n);
	m[5] = (struct tar_member){ "index.json", ij, strlen(ij), NULL, NULL };
	char *tar = path_in("mp.tar");
	CHECK_INT(make_tar(tar, m, 6), 0);
	struct oci_layout *st = new_layout("mp-stage");
	struct oci_desc out;
	CHECK_INT(docker_archive_read(tar, "mp:1", st, &out, &e), 0);
	CHECK_STR(out.digest, idxd);
	CHECK_STR(out.media_type, MT_OCI_INDEX);
	CHECK_INT(count_files(oci_layout_dir(st), "blobs/sha256", false), 5);
	oci_desc_free(&out);
	for (int i = 0; i < 5; i++)
		buf_free(&blobs[i]);
	oci_layout_close(st);
	oci_layout_close(s.l);
	free(tar);
}

int main(void)
{
	struct err e = ERR_INIT;
	tmp_root = fs_mkdtemp("bosun-test-archive", &e);
	if (!tmp_root) {
		fprintf(stderr, "%s\n", e.msg);
		return 1;
	}
	RUN(write_then_read);
	RUN(write_refuses);
	RUN(read_legacy);
	RUN(read_legacy_zstd);
	RUN(empty_index_uses_legacy);
	RUN(hostile_archives);
	RUN(read_multiplatform_oci);
	if (!test_failed)
		fs_rm_rf(tmp_root, &e);
	free(tmp_root);
	return test_done();
}
