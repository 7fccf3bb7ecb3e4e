/* Tar layers (plain or compressed; bosun's own tar reader over libarchive's decompression) unpacked into a
 * scratch root that already holds files for whiteouts to delete. A sibling
 * directory holds a canary: after every run it must be exactly as it was
 * (nothing written outside the root). The scratch dir is removed each run. */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>
#include "fuzz.h"
#include "oci/layer.h"

static char base[64];

static void put(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || write(fd, text, strlen(text)) < 0)
		abort();
	close(fd);
}

static int count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;
	if (!d)
		abort();
	while ((de = readdir(d)))
		n += de->d_name[0] != '.';
	closedir(d);
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	char p[256], root[128], outside[128], blob[128], canary[160];
	struct unpack_opts o = {.set_owner = false};
	struct err e = ERR_INIT;
	struct stat st;
	int fd;

	if (!base[0])
		snprintf(base, sizeof(base), "/tmp/bosun-fuzz-unpack-%d", (int)getpid());
	mkdir(base, 0755);
	snprintf(root, sizeof(root), "%s/root", base);
	snprintf(outside, sizeof(outside), "%s/outside", base);
	snprintf(blob, sizeof(blob), "%s/layer.tar", base);
	snprintf(canary, sizeof(canary), "%s/canary", outside);
	if (mkdir(root, 0755) || mkdir(outside, 0755))
		abort();
	put(canary, "canary");
	snprintf(p, sizeof(p), "%s/etc", root);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/etc/passwd", root);
	put(p, "root:x:0:0::/root:/bin/sh\n");
	snprintf(p, sizeof(p), "%s/a", root);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/a/b", root);
	put(p, "b");
	fd = open(blob, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || write(fd, d, n) != (ssize_t)n)
		abort();
	close(fd);

	(void)oci_unpack_layer(blob, root, &o, &e);

	if (stat(canary, &st) || !S_ISREG(st.st_mode) || st.st_size != 6 || count_entries(outside) != 1 ||
	    count_entries(base) != 3) {
		fprintf(stderr, "unpack wrote outside its root\n");
		abort();
	}
	fd = open("/tmp", O_RDONLY | O_DIRECTORY);
	if (oci_rm_at(fd, base + 5, &e) < 0) {
		fprintf(stderr, "cannot remove scratch dir: %s\n", e.msg);
		abort();
	}
	close(fd);
	return 0;
}
