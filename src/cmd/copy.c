#include <stdio.h>
#include <string.h>

#include "cmd/cmd.h"
#include "core/fs.h"
#include "core/progress.h"
#include "core/log.h"
#include "registry/image.h"
#include "sign/store.h"

static const char help[] =
	"usage: bosun copy [OPTIONS] SRC DST\n\n"
	"Copy an image between registries, OCI layouts and docker archives. Blobs and\n"
	"manifests keep their digests; a multi-platform image is copied whole unless\n"
	"--platform picks one (a docker archive always holds one platform, linux/amd64\n"
	"by default). The digest of what was copied is printed on stdout.\n\n"
	"Locations:\n"
	"  REGISTRY/REPO[:TAG][@DIGEST], docker://...   a registry\n"
	"  oci:DIR[:TAG]                                 an OCI image layout\n"
	"  docker-archive:FILE[:REPO:TAG]                a 'docker save' tarball\n\n"
	"Options:\n"
	"  --digest-file FILE         also write the digest to FILE\n"
	"  --with-signatures          registry to registry: also copy the image's cosign\n"
	"                             signatures and attestations (.sig / .att tags) and its\n"
	"                             OCI 1.1 referrers (Sigstore bundles, SBOMs)\n"
	"  -v, -q                     more / less output\n" REG_OPTS_HELP "\n"
	"Examples:\n"
	"  bosun copy oci:./out:1.0 registry.example.com/team/app:1.0\n"
	"  bosun copy --platform linux/arm64 alpine:3.19 docker-archive:alpine.tar\n\n" EXIT_CODES_HELP;

/* The signatures of digest at src, copied to dst (--with-signatures). */
static int cmd_copy_signatures(const struct location *src, const struct location *dst, const struct copy_opts *o,
			       const char *digest, struct err *e)
{
	struct reg_client *sc = NULL, *dc = NULL;
	struct reg_opts so = o->src_reg, dop = o->dst_reg;
	struct sign_copy_stats st;
	int r = -1;

	so.progress = dop.progress = NULL; /* freed by now */
	if (reg_open(&sc, &src->ref, &so, false, e) == 0 && reg_open(&dc, &dst->ref, &dop, true, e) == 0 &&
	    sign_copy_signatures(sc, dc, digest, &st, e) == 0) {
		log_info("copied %zu legacy signature/attestation layer(s) and %zu referrer(s)%s", st.legacy,
			 st.referrers, st.referrers ? (st.api ? " (referrers API)" : " (referrers tag schema)") : "");
		r = 0;
	} else {
		err_prefix(e, "copy signatures of %s", digest);
	}
	reg_close(sc);
	reg_close(dc);
	return r;
}

int cmd_copy(int argc, char **argv, struct err *e)
{
	enum { OPT_DIGEST_FILE = 3000, OPT_WITH_SIGS };
	static const struct option lo[] = { COMMON_LONGOPTS, REG_LONGOPTS,
					    { "digest-file", required_argument, NULL, OPT_DIGEST_FILE },
					    { "with-signatures", no_argument, NULL, OPT_WITH_SIGS },
					    { NULL, 0, NULL, 0 } };
	struct reg_cli rc = { 0 };
	struct location src, dst;
	struct copy_opts o;
	struct copy_result res;
	struct oci_platform plat = { 0 };
	struct progress *prog = NULL;
	const char *digest_file = NULL;
	bool with_sigs = false;
	char title[512];
	int c, r;

	while ((c = getopt_long(argc, argv, COMMON_SHORTOPTS, lo, NULL)) != -1) {
		if (cmd_common_opt(c))
			continue;
		if (c == 'h') {
			cmd_print_help(help);
			return 0;
		}
		if (c == OPT_DIGEST_FILE) {
			digest_file = optarg;
			continue;
		}
		if (c == OPT_WITH_SIGS) {
			with_sigs = true;
			continue;
		}
		r = cmd_reg_opt(&rc, c, optarg, "copy", e);
		if (r < 0)
			return -1;
		if (r == 0)
			return cmd_usage_error(e, "copy", "bad option \"%s\": unknown, or its value is missing", argv[optind - 1]);
	}
	if (argc - optind != 2)
		return cmd_usage_error(e, "copy", "expected SRC and DST");
	if (rc.platform && oci_platform_parse(&plat, rc.platform, e) < 0)
		return -1;
	if (location_parse(&src, argv[optind], e) < 0) {
		oci_platform_free(&plat);
		return -1;
	}
	if (location_parse(&dst, argv[optind + 1], e) < 0) {
		location_free(&src);
		oci_platform_free(&plat);
		return -1;
	}
	if (with_sigs && (src.kind != LOC_REGISTRY || dst.kind != LOC_REGISTRY)) {
		location_free(&src);
		location_free(&dst);
		oci_platform_free(&plat);
		return cmd_usage_error(e, "copy", "--with-signatures copies between registries only");
	}
	snprintf(title, sizeof(title), "copy %s -> %s", src.text, dst.text);
	prog = progress_new(title);
	memset(&o, 0, sizeof(o));
	o.src_reg = (struct reg_opts){ rc.src_creds ? rc.src_creds : rc.creds, rc.cacert, rc.insecure,
				       rc.parallel, rc.retries, prog };
	o.dst_reg = o.src_reg;
	o.dst_reg.creds = rc.dst_creds ? rc.dst_creds : rc.creds;
	o.platform = rc.platform ? &plat : NULL;
	r = image_copy(&src, &dst, &o, &res, e);
	progress_free(prog);
	if (r == 0 && with_sigs)
		r = cmd_copy_signatures(&src, &dst, &o, res.digest, e);
	if (r == 0) {
		printf("%s\n", res.digest);
		if (digest_file) {
			char line[OCI_DIGEST_MAX + 2];
			int n = snprintf(line, sizeof(line), "%s\n", res.digest);

			r = fs_write_atomic(digest_file, line, (size_t)n, 0644, e);
		}
	}
	location_free(&src);
	location_free(&dst);
	oci_platform_free(&plat);
	return r;
}
