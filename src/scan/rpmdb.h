/* rpm's package database, rpmdb.sqlite (rpm >= 4.16: table Packages, one
 * header blob per package), read from memory. Header blobs are parsed
 * here: big-endian index count and data length, 16-byte index entries
 * (tag, type, offset, count), then the data store. Every offset and
 * length is checked; a damaged header is skipped and counted. */
#ifndef BOSUN_SCAN_RPMDB_H
#define BOSUN_SCAN_RPMDB_H

#include <stddef.h>
#include <stdint.h>
#include "core/err.h"

struct rpm_pkg {
	char name[256], version[128], release[128], arch[32], sourcerpm[512];
	int64_t epoch; /* -1 when absent */
};

/* One header blob (as stored in rpmdb.sqlite, without the 8-byte header
 * magic). 0 on success, -1 (ERR_INPUT) when damaged. */
int rpm_header_parse(const unsigned char *p, size_t n, struct rpm_pkg *out, struct err *e);

/* cb is called once per package; a non-zero return stops with that value. */
typedef int (*rpm_cb)(void *ctx, const struct rpm_pkg *p, struct err *e);
/* ERR_INPUT when the bytes are not an rpm sqlite database. *skipped counts
 * damaged headers. */
int rpmdb_sqlite_read(const void *db, size_t n, rpm_cb cb, void *ctx, long *skipped, struct err *e);

/* The BerkeleyDB hash file var/lib/rpm/Packages (rpm < 4.16: RHEL/CentOS
 * 7 and 8, Amazon Linux 2): hash pages walked in file order, values
 * (header blobs) taken inline or from their overflow page chains; either
 * byte order. ERR_INPUT when the bytes are not a BerkeleyDB hash file. */
int rpmdb_bdb_read(const void *db, size_t n, rpm_cb cb, void *ctx, long *skipped, struct err *e);

/* "openssl-3.0.7-24.el9.src.rpm" -> name "openssl", version "3.0.7-24.el9". */
int rpm_split_srpm(const char *srpm, char *name, size_t ncap, char *ver, size_t vcap);

#endif
