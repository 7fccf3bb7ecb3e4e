/* Image locations as skopeo users write them:
 *   [docker://]REGISTRY/REPO[:TAG][@DIGEST]   a registry
 *   oci:DIR[:TAG]                             an OCI image layout
 *   docker-archive:FILE[:REPO[:TAG]]          a `docker save` tarball
 *   dir:ROOTFS                                a plain root file system (scan only)
 */
#ifndef BOSUN_IMAGE_LOCATION_H
#define BOSUN_IMAGE_LOCATION_H

#include "core/err.h"
#include "oci/ref.h"

enum loc_kind { LOC_REGISTRY, LOC_OCI, LOC_DOCKER_ARCHIVE, LOC_DIR };

struct location {
	enum loc_kind kind;
	struct oci_ref ref; /* LOC_REGISTRY */
	char *path;	    /* LOC_OCI, LOC_DOCKER_ARCHIVE, LOC_DIR */
	char *tag;	    /* LOC_OCI tag, LOC_DOCKER_ARCHIVE "repo:tag", or NULL */
	char *text;	    /* as given */
};

int location_parse(struct location *l, const char *s, struct err *e);
void location_free(struct location *l);
const char *location_kind_name(enum loc_kind k);

#endif
