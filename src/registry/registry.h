/* Registry client: OCI distribution spec v2 over libcurl.
 *
 * One client talks to one repository of one registry. It learns the auth
 * scheme from /v2/ (anonymous, Basic, Bearer tokens), finds credentials
 * (--creds, BOSUN_USERNAME/BOSUN_PASSWORD, $REGISTRY_AUTH_FILE, docker
 * config.json with credential helpers), verifies every body against its
 * digest, retries transient failures with back-off and runs blob transfers
 * in parallel on one curl multi handle.
 *
 * Errors: ERR_NETWORK for network/registry failures after retries and for
 * authentication failures (e->http_status holds the last HTTP status),
 * ERR_INPUT for bad content (digest or size mismatch, oversized or
 * unparsable body, bad local file), ERR_USAGE for bad options. Messages name
 * the registry and never a secret. Not thread-safe: one client per thread. */
#ifndef BOSUN_REGISTRY_REGISTRY_H
#define BOSUN_REGISTRY_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "core/buf.h"
#include "core/err.h"
#include "core/progress.h"
#include "oci/desc.h"
#include "oci/ref.h"

struct reg_opts {
	const char *creds;	     /* "USER:PASS" from --creds, or NULL */
	const char *cacert;	     /* --cacert PATH or NULL */
	const char *const *insecure; /* hosts ("host" or "host:port") allowed plain HTTP and
					unverified TLS, NULL-terminated; may be NULL */
	int parallel;		     /* blobs in flight; 0 = default 4 */
	int retries;		     /* retries per request; 0 = default 5, -1 = none */
	struct progress *progress;   /* may be NULL */
};

struct reg_client;

/* No network traffic happens here. push=true asks for pull+push access.
 * o may be NULL for the defaults. */
int reg_open(struct reg_client **out, const struct oci_ref *ref, const struct reg_opts *o,
	     bool push, struct err *e);
void reg_close(struct reg_client *c); /* NULL is fine */

/* GET /v2/: picks https or (localhost and --insecure-registry hosts only)
 * plain http, and learns the auth scheme. Every other call pings first if
 * it has not happened yet. */
int reg_ping(struct reg_client *c, struct err *e);

/* Not found (HTTP 404) comes back as -1 with e->code ERR_NETWORK and
 * e->http_status 404, so callers can tell "absent" from "broken". */
static inline bool reg_not_found(const struct err *e)
{
	return e && e->http_status == 404;
}

/* key = tag or digest. The body is checked against the digest: key when it
 * is a digest, else Docker-Content-Digest when the registry sends one.
 * *media_type (Content-Type, or the body's mediaType) and *digest are
 * malloc'd; either pointer may be NULL. Bodies over BUF_CAP_MANIFEST fail. */
int reg_get_manifest(struct reg_client *c, const char *key, struct buf *out, char **media_type,
		     char **digest, struct err *e);
/* HEAD: any of digest, media_type, size may be NULL; *digest is NULL when
 * the registry sends no Docker-Content-Digest and key is a tag. */
int reg_head_manifest(struct reg_client *c, const char *key, char **digest, char **media_type,
		      int64_t *size, struct err *e);
/* PUT the manifest under key (tag or its digest). */
int reg_put_manifest(struct reg_client *c, const char *key, const void *p, size_t n,
		     const char *media_type, struct err *e);

/* A small blob (config, signature payload) into out, at most max bytes
 * (0 = BUF_CAP_MANIFEST); digest and size verified. */
int reg_get_blob_buf(struct reg_client *c, const struct oci_desc *d, struct buf *out, size_t max,
		     struct err *e);

/* Fetch blobs concurrently, each into path_for(ctx, d) (a malloc'd path the
 * client frees; missing parent directories are created), written through a
 * temporary file that is renamed into place only after the size and digest
 * check. skip may be NULL; when skip(ctx, d) is true the blob is left
 * alone. Duplicate digests are fetched once. */
int reg_fetch_blobs(struct reg_client *c, const struct oci_desc *descs, size_t n,
		    char *(*path_for)(void *ctx, const struct oci_desc *d),
		    bool (*skip)(void *ctx, const struct oci_desc *d), void *ctx, struct err *e);

/* Push blobs concurrently from files (paths[i] holds descs[i]): HEAD skips
 * blobs the repository has, mount_repo (a repository of the same registry,
 * or NULL) is tried as a cross-repository mount source, then a monolithic
 * upload (POST, PUT ?digest=), with chunked PATCH uploads as the fallback
 * when the registry refuses a monolithic PUT. Files are streamed. */
int reg_push_blobs(struct reg_client *c, const struct oci_desc *descs, const char *const *paths,
		   size_t n, const char *mount_repo, struct err *e);
/* Push one blob from memory; digest is "sha256:..." of p. */
int reg_push_blob_buf(struct reg_client *c, const void *p, size_t n, const char *digest,
		      struct err *e);
struct reg_blob_mem {
	const void *p;
	size_t n;
	const char *digest; /* "sha256:..." of p */
};
/* Push blobs from memory concurrently (as reg_push_blobs: HEAD first,
 * duplicates once), each checked against its digest first. */
int reg_push_blobs_mem(struct reg_client *c, const struct reg_blob_mem *b, size_t n,
		       struct err *e);

/* Pushing blobs on a thread of its own while the caller goes on: a build
 * pushes each layer it finishes while it builds the next. One client per
 * destination (REGISTRY/REPO[:TAG] refs; one that does not parse is left
 * to whoever pushes the image), opened here; nothing is sent until a blob
 * is queued. reg_bgpush_layer queues the blob d held in the file at path
 * (copied; the file must stay until reg_bgpush_free); its signature is
 * build_opts.on_layer's. Failures are only logged (debug): the push of the
 * image that follows finds what is there (HEAD) and uploads the rest.
 * reg_bgpush_free waits for every queued blob, then frees. */
struct reg_bgpush;
int reg_bgpush_open(struct reg_bgpush **out, const char *const *refs, size_t n, const struct reg_opts *o,
		    struct err *e);
void reg_bgpush_layer(void *ctx, const struct oci_desc *d, const char *path);
/* A layer while it is written (layer_opts.on_write's signature): the first
 * call names its temporary file, the next ones how many bytes it holds, the
 * last its digest (flushed -1: it failed). It streams to the first
 * destination as it grows; reg_bgpush_layer then finds it there. */
void reg_bgpush_write(void *ctx, const char *tmp_path, int64_t flushed, const char *digest);
void reg_bgpush_free(struct reg_bgpush *p);

/* All tags of the repository (follows Link pagination). *tags is a
 * malloc'd array of malloc'd strings; free with reg_free_tags. */
int reg_list_tags(struct reg_client *c, char ***tags, size_t *n, struct err *e);
void reg_free_tags(char **tags, size_t n);

/* OCI 1.1 referrers API: the index of manifests whose subject is digest
 * into out. *supported is false (and 0 returned, out empty) when the
 * registry answers 404 (or 400, 405, 501), i.e. has no referrers API: use
 * the tag schema. A paginated answer (Link: <url>; rel="next", as the
 * distribution spec allows) is followed and merged into one index: at most
 * REG_REFERRERS_MAX_PAGES pages and REG_REFERRERS_MAX descriptors, and a
 * next link to a page already fetched (a loop) is refused, all ERR_INPUT. */
#define REG_REFERRERS_MAX_PAGES 64
#define REG_REFERRERS_MAX 1024
int reg_get_referrers(struct reg_client *c, const char *digest, struct buf *out, bool *supported,
		      struct err *e);
/* PUT a manifest under its own digest; *indexed is true when the registry
 * answered OCI-Subject (it maintains the referrers list itself). */
int reg_put_referrer(struct reg_client *c, const char *digest, const void *p, size_t n,
		     const char *media_type, bool *indexed, struct err *e);

/* "registry/repository" the client talks to, for messages. */
const char *reg_name(const struct reg_client *c);

#endif
