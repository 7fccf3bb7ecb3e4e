/* Private to oci/tar*.c: the ustar block size, limits and header field
 * offsets shared by the tar reader (tar.c) and writer (tar_write.c). */
#ifndef BOSUN_OCI_TAR_FMT_H
#define BOSUN_OCI_TAR_FMT_H

#define BLK 512
/* A PAX header or GNU long name larger than this is not a layer's. */
#define META_MAX (16u << 20)
#define NAME_CAP (64u << 10)
#define INBUF (256u << 10)

/* ustar header field offsets and sizes */
#define F_NAME 0, 100
#define F_MODE 100, 8
#define F_UID 108, 8
#define F_GID 116, 8
#define F_SIZE 124, 12
#define F_MTIME 136, 12
#define F_CHKSUM 148, 8
#define F_TYPE 156
#define F_LINK 157, 100
#define F_MAGIC 257
#define F_UNAME 265, 32
#define F_GNAME 297, 32
#define F_DEVMAJ 329, 8
#define F_DEVMIN 337, 8
#define F_PREFIX 345, 155

#endif
