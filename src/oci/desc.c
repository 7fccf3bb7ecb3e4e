/* Descriptors, platforms and media-type predicates. */
#include "oci/desc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/util.h"
#include "oci/digest.h"
#include "core/ojson.h"

void oci_platform_free(struct oci_platform *p)
{
	if (!p)
		return;
	free(p->os);
	free(p->architecture);
	free(p->variant);
	free(p->os_version);
	memset(p, 0, sizeof *p);
}

void oci_desc_free(struct oci_desc *d)
{
	if (!d)
		return;
	free(d->media_type);
	free(d->digest);
	free(d->annotations_json);
	free(d->artifact_type);
	if (d->platform) {
		oci_platform_free(d->platform);
		free(d->platform);
	}
	memset(d, 0, sizeof *d);
}

static int dup_opt(char **dst, const char *src, struct err *e)
{
	*dst = NULL;
	if (!src)
		return 0;
	*dst = xstrdup_e(src, e);
	return *dst ? 0 : -1;
}

int oci_platform_copy(struct oci_platform *dst, const struct oci_platform *src, struct err *e)
{
	memset(dst, 0, sizeof *dst);
	if (dup_opt(&dst->os, src->os, e) < 0 || dup_opt(&dst->architecture, src->architecture, e) < 0 ||
	    dup_opt(&dst->variant, src->variant, e) < 0 || dup_opt(&dst->os_version, src->os_version, e) < 0) {
		oci_platform_free(dst);
		return -1;
	}
	return 0;
}

int oci_desc_copy(struct oci_desc *dst, const struct oci_desc *src, struct err *e)
{
	memset(dst, 0, sizeof *dst);
	dst->size = src->size;
	if (dup_opt(&dst->media_type, src->media_type, e) < 0 || dup_opt(&dst->digest, src->digest, e) < 0 ||
	    dup_opt(&dst->annotations_json, src->annotations_json, e) < 0 ||
	    dup_opt(&dst->artifact_type, src->artifact_type, e) < 0)
		goto fail;
	if (src->platform) {
		dst->platform = calloc(1, sizeof *dst->platform);
		if (!dst->platform) {
			err_oom(e);
			goto fail;
		}
		if (oci_platform_copy(dst->platform, src->platform, e) < 0)
			goto fail;
	}
	return 0;
fail:
	oci_desc_free(dst);
	return -1;
}

int oci_platform_parse(struct oci_platform *p, const char *s, struct err *e)
{
	memset(p, 0, sizeof *p);
	const char *a = s ? strchr(s, '/') : NULL;
	const char *v = a ? strchr(a + 1, '/') : NULL;
	if (!s || !a || a == s || a[1] == '\0' || a[1] == '/' || (v && (v[1] == '\0' || strchr(v + 1, '/'))) ||
	    strpbrk(s, ", \t\n"))
		return err_set(e, ERR_USAGE, "invalid platform \"%.100s\" (want os/arch[/variant], e.g. linux/arm64)",
			       s ? s : "");
	p->os = xstrndup_e(s, (size_t)(a - s), e);
	p->architecture = v ? xstrndup_e(a + 1, (size_t)(v - a - 1), e) : xstrdup_e(a + 1, e);
	p->variant = v ? xstrdup_e(v + 1, e) : NULL;
	if (!p->os || !p->architecture || (v && !p->variant)) {
		oci_platform_free(p);
		return -1;
	}
	return 0;
}

char *oci_platform_string(const struct oci_platform *p)
{
	if (!p)
		return xstrdup_e("(no platform)", NULL);
	return xasprintf_e(NULL, "%s/%s%s%s", p->os ? p->os : "?", p->architecture ? p->architecture : "?",
			   p->variant ? "/" : "", p->variant ? p->variant : "");
}

/* Architecture aliases as Go and distributions spell them. The second result
 * is the variant an alias implies (armhf is arm/v7). */
static const char *norm_arch(const char *a, const char **implied_variant)
{
	*implied_variant = NULL;
	if (!a)
		return "";
	if (!strcasecmp(a, "x86_64") || !strcasecmp(a, "x86-64"))
		return "amd64";
	if (!strcasecmp(a, "aarch64"))
		return "arm64";
	if (!strcasecmp(a, "armhf") || !strcasecmp(a, "armel")) {
		*implied_variant = a[3] == 'h' || a[3] == 'H' ? "v7" : "v6";
		return "arm";
	}
	if (!strcasecmp(a, "i386") || !strcasecmp(a, "i686"))
		return "386";
	return a;
}

/* Normalised variant or NULL for "any". Writes into buf for "8" -> "v8". */
static const char *norm_variant(const char *arch, const char *variant, char buf[16])
{
	if (variant && *variant && variant[0] != 'v' && strlen(variant) < 8 &&
	    (!strcmp(arch, "arm") || !strcmp(arch, "arm64"))) {
		snprintf(buf, 16, "v%s", variant);
		variant = buf;
	}
	if (!strcmp(arch, "arm64") && (!variant || !*variant))
		return "v8";
	if (!strcmp(arch, "arm") && (!variant || !*variant))
		return "v7";
	if (!strcmp(arch, "amd64") && variant && !strcmp(variant, "v1"))
		return NULL;
	return variant && *variant ? variant : NULL;
}

int oci_platform_match(const struct oci_platform *want, const struct oci_platform *have)
{
	if (!want || !have || !want->os || !have->os)
		return 0;
	if (strcasecmp(want->os, have->os) != 0)
		return 0;
	const char *wiv, *hiv;
	const char *wa = norm_arch(want->architecture, &wiv);
	const char *ha = norm_arch(have->architecture, &hiv);
	if (strcmp(wa, ha) != 0)
		return 0;
	char wb[16], hb[16];
	const char *wv = norm_variant(wa, want->variant ? want->variant : wiv, wb);
	const char *hv = norm_variant(ha, have->variant ? have->variant : hiv, hb);
	/* amd64 (or any arch without a default) wanted without variant: any variant. */
	if (wv && (!hv || strcmp(wv, hv) != 0))
		return 0;
	if (want->os_version && (!have->os_version || strcmp(want->os_version, have->os_version) != 0))
		return 0;
	return 1;
}

int oci_platform_default(struct oci_platform *p, struct err *e)
{
#if defined(__x86_64__)
	const char *arch = "amd64", *variant = NULL;
#elif defined(__aarch64__)
	const char *arch = "arm64", *variant = NULL;
#elif defined(__arm__)
	const char *arch = "arm", *variant = "v7";
#elif defined(__i386__)
	const char *arch = "386", *variant = NULL;
#elif defined(__s390x__)
	const char *arch = "s390x", *variant = NULL;
#elif defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	const char *arch = "ppc64le", *variant = NULL;
#elif defined(__riscv) && __riscv_xlen == 64
	const char *arch = "riscv64", *variant = NULL;
#else
	const char *arch = "amd64", *variant = NULL;
#endif
	memset(p, 0, sizeof *p);
	p->os = xstrdup_e("linux", e);
	p->architecture = xstrdup_e(arch, e);
	p->variant = variant ? xstrdup_e(variant, e) : NULL;
	if (!p->os || !p->architecture || (variant && !p->variant)) {
		oci_platform_free(p);
		return -1;
	}
	return 0;
}

bool oci_mt_is_index(const char *mt)
{
	return mt && (!strcmp(mt, MT_OCI_INDEX) || !strcmp(mt, MT_DOCKER_LIST));
}

bool oci_mt_is_manifest(const char *mt)
{
	return mt && (!strcmp(mt, MT_OCI_MANIFEST) || !strcmp(mt, MT_DOCKER_MANIFEST));
}

int oci_platform_from_json(struct oci_platform *p, const struct cJSON *j, struct err *e)
{
	memset(p, 0, sizeof *p);
	if (!cJSON_IsObject(j))
		return err_set(e, ERR_INPUT, "\"platform\" must be an object");
	if (oj_str(j, "os", true, &p->os, e) < 0 || oj_str(j, "architecture", true, &p->architecture, e) < 0 ||
	    oj_str(j, "variant", false, &p->variant, e) < 0 ||
	    oj_str(j, "os.version", false, &p->os_version, e) < 0) {
		oci_platform_free(p);
		return err_prefix(e, "platform");
	}
	return 0;
}

int oci_desc_from_json(struct oci_desc *d, const struct cJSON *j, struct err *e)
{
	memset(d, 0, sizeof *d);
	if (!cJSON_IsObject(j))
		return err_set(e, ERR_INPUT, "descriptor must be an object");
	if (oj_str(j, "mediaType", true, &d->media_type, e) < 0 || oj_str(j, "digest", true, &d->digest, e) < 0)
		goto fail;
	if (oci_digest_check(d->digest, "\"digest\"", e) < 0)
		goto fail;
	if (oj_int64(j, "size", true, &d->size, e) < 0 || oj_annotations(j, "annotations", &d->annotations_json, e) < 0 ||
	    oj_str(j, "artifactType", false, &d->artifact_type, e) < 0)
		goto fail;
	const cJSON *pl = oj_get(j, "platform");
	if (pl) {
		d->platform = calloc(1, sizeof *d->platform);
		if (!d->platform) {
			err_oom(e);
			goto fail;
		}
		if (oci_platform_from_json(d->platform, pl, e) < 0)
			goto fail;
	}
	return 0;
fail:
	oci_desc_free(d);
	return -1;
}

struct cJSON *oci_desc_to_json(const struct oci_desc *d, struct err *e)
{
	cJSON *o = cJSON_CreateObject();
	if (!o || !cJSON_AddStringToObject(o, "mediaType", d->media_type ? d->media_type : "") ||
	    !cJSON_AddStringToObject(o, "digest", d->digest ? d->digest : "") ||
	    !cJSON_AddNumberToObject(o, "size", (double)d->size) ||
	    (d->artifact_type && !cJSON_AddStringToObject(o, "artifactType", d->artifact_type))) {
		err_oom(e);
		goto fail;
	}
	if (oj_add_raw_object(o, "annotations", d->annotations_json, e) < 0)
		goto fail;
	if (d->platform) {
		const struct oci_platform *p = d->platform;
		cJSON *pj = cJSON_AddObjectToObject(o, "platform");
		if (!pj || !cJSON_AddStringToObject(pj, "architecture", p->architecture ? p->architecture : "") ||
		    !cJSON_AddStringToObject(pj, "os", p->os ? p->os : "") ||
		    (p->os_version && !cJSON_AddStringToObject(pj, "os.version", p->os_version)) ||
		    (p->variant && !cJSON_AddStringToObject(pj, "variant", p->variant))) {
			err_oom(e);
			goto fail;
		}
	}
	return o;
fail:
	cJSON_Delete(o);
	return NULL;
}

char *oci_desc_annotation(const struct oci_desc *d, const char *key)
{
	if (!d || !d->annotations_json)
		return NULL;
	cJSON *a = cJSON_Parse(d->annotations_json);
	const cJSON *v = a ? cJSON_GetObjectItemCaseSensitive(a, key) : NULL;
	char *r = cJSON_IsString(v) ? xstrdup_e(v->valuestring, NULL) : NULL;
	cJSON_Delete(a);
	return r;
}
