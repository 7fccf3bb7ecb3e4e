#include "image/location.h"

#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "oci/layout.h"

const char *location_kind_name(enum loc_kind k)
{
	switch (k) {
	case LOC_REGISTRY:
		return "registry";
	case LOC_OCI:
		return "oci";
	case LOC_DOCKER_ARCHIVE:
		return "docker-archive";
	case LOC_DIR:
		return "dir";
	}
	return "?";
}

void location_free(struct location *l)
{
	oci_ref_free(&l->ref);
	free(l->path);
	free(l->tag);
	free(l->text);
	memset(l, 0, sizeof(*l));
}

int location_parse(struct location *l, const char *s, struct err *e)
{
	memset(l, 0, sizeof(*l));
	if (!s || !*s)
		return err_set(e, ERR_USAGE, "empty image location");
	l->text = xstrdup_e(s, e);
	if (!l->text)
		return -1;
	if (str_starts(s, "oci:")) {
		l->kind = LOC_OCI;
		/* the first ':' separates DIR and TAG, as in skopeo */
		if (oci_layout_split_spec(s + 4, &l->path, &l->tag, e) < 0)
			goto fail;
		return 0;
	}
	if (str_starts(s, "docker-archive:")) {
		const char *rest = s + strlen("docker-archive:"), *colon = strchr(rest, ':');

		l->kind = LOC_DOCKER_ARCHIVE;
		/* FILE[:REPO[:TAG]]: the first ':' ends the file name, as in skopeo. */
		l->path = colon ? xstrndup_e(rest, (size_t)(colon - rest), e) : xstrdup_e(rest, e);
		if (!l->path)
			goto fail;
		if (colon && colon[1] && !(l->tag = xstrdup_e(colon + 1, e)))
			goto fail;
		if (!*l->path) {
			err_set(e, ERR_USAGE, "\"%s\": missing file name", s);
			goto fail;
		}
		return 0;
	}
	if (str_starts(s, "dir:")) {
		l->kind = LOC_DIR;
		l->path = xstrdup_e(s + 4, e);
		if (!l->path)
			goto fail;
		if (!*l->path) {
			err_set(e, ERR_USAGE, "\"%s\": missing directory", s);
			goto fail;
		}
		return 0;
	}
	l->kind = LOC_REGISTRY;
	if (str_starts(s, "docker://"))
		s += strlen("docker://");
	else if (strstr(s, "://")) {
		err_set(
		    e, ERR_USAGE,
		    "unknown transport in \"%s\" (use docker://, oci:, docker-archive: or dir:)",
		    s);
		goto fail;
	}
	if (oci_ref_parse(&l->ref, s, e) < 0)
		goto fail;
	return 0;
fail:
	location_free(l);
	return -1;
}
