/* Plain HTTP(S) downloads to a file: conditional requests (ETag /
 * Last-Modified), retries with back-off on 5xx/429/network errors, a size
 * cap, and the same TLS options as the registry client. Used for data feeds
 * (OSV dumps), not for registries. */
#ifndef BOSUN_REGISTRY_FETCH_H
#define BOSUN_REGISTRY_FETCH_H

#include <stdbool.h>
#include <stdint.h>
#include "core/err.h"

struct fetch_opts {
	const char *etag;          /* sent as If-None-Match, or NULL */
	const char *last_modified; /* sent as If-Modified-Since, or NULL */
	const char *cacert;	   /* CA bundle, or NULL: found as the registry client finds it */
	bool insecure;             /* skip TLS verification */
	int retries;               /* 0 = default 3, -1 = none */
	int64_t max_size;          /* 0 = no cap */
	long timeout;              /* seconds for the whole transfer, 0 = none */
};

struct fetch_result {
	long status;          /* final HTTP status */
	bool not_modified;    /* 304: path was left alone */
	char *etag;           /* malloc'd response ETag or NULL */
	char *last_modified;  /* malloc'd response Last-Modified or NULL */
	int64_t size;         /* bytes written */
};

/* GET url into path (written to a temporary name and renamed into place only
 * when the body is complete). ERR_NETWORK for transport errors and HTTP
 * errors (e->http_status set), ERR_INPUT when the body exceeds max_size. */
int fetch_to_file(const char *url, const char *path, const struct fetch_opts *o, struct fetch_result *r,
		  struct err *e);
void fetch_result_free(struct fetch_result *r);

#endif
