/* OSV records: the input is one record in a feed directory, imported by
 * vdb_build into a scratch SQLite file (both removed each run). A second
 * copy goes in as an Alpine secdb file. */
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>
#include "fuzz.h"
#include "scan/db.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	char dir[96], feed[128], rec[160], sec[128], out[128];
	struct vdb_stats st = {0};
	struct err e = ERR_INIT;
	int fd;

	snprintf(dir, sizeof(dir), "/tmp/bosun-fuzz-osv-%d", (int)getpid());
	snprintf(feed, sizeof(feed), "%s/feed", dir);
	snprintf(rec, sizeof(rec), "%s/feed/GHSA-0000.json", dir);
	snprintf(sec, sizeof(sec), "%s/secdb.json", dir);
	snprintf(out, sizeof(out), "%s/vuln.db", dir);
	mkdir(dir, 0755);
	mkdir(feed, 0755);
	fd = open(rec, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || write(fd, d, n) != (ssize_t)n)
		abort();
	close(fd);
	{
		const char *osv[] = {feed};
		struct vdb_build_opts o = {.osv = osv, .n_osv = 1};
		(void)vdb_build(out, &o, &st, &e);
	}
	unlink(out);
	fd = open(sec, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || write(fd, d, n) != (ssize_t)n)
		abort();
	close(fd);
	{
		const char *s[] = {sec};
		struct vdb_build_opts o = {.secdb = s, .n_secdb = 1};
		err_clear(&e);
		(void)vdb_build(out, &o, &st, &e);
	}
	unlink(out);
	unlink(sec);
	unlink(rec);
	rmdir(feed);
	rmdir(dir);
	return 0;
}
