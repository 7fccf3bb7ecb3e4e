#include <stdio.h>
#include <string.h>

#include "cmd/cmd.h"
#include "cmd/opts.h"
#include "core/fs.h"
#include "core/progress.h"
#include "core/log.h"
#include "image/image.h"
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
	"                             OCI 1.1 referrers (Sigstore bundles, SBOMs); for an\n"
	"                             index, those of each manifest it lists too\n"
	"  -v, -q                     more / less output\n" REG_OPTS_HELP "\n"
	"Examples:\n"
	"  bosun copy oci:./out:1.0 registry.example.com/team/app:1.0\n"
	"  bosun copy --platform linux/arm64 alpine:3.19 docker-archive:alpine.tar\n\n" EXIT_CODES_HELP;

enum { OPT_DIGEST_FILE = 3000 };
static const struct option copy_own[] = {{"digest-file", required_argument, NULL, OPT_DIGEST_FILE},
					 {NULL, 0, NULL, 0}};

static int copy_own_opt(void *ctx, int c, const char *arg, struct err *e)
{
	(void)e;
	if (c != OPT_DIGEST_FILE)
		return 0;
	*(const char **)ctx = arg;
	return 1;
}

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
		log_info("copied %zu legacy signature/attestation layer(s) and %zu referrer(s)%s%s", st.legacy,
			 st.referrers, st.referrers ? (st.api ? " (referrers API)" : " (referrers tag schema)") : "",
			 st.children ? ", of the index and its manifests" : "");
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
	const char *digest_file = NULL;
	bool with_sigs = false;
	const struct cli_val vals_own[] = {{"with-signatures", NULL, &with_sigs}, {NULL, NULL, NULL}};
	const struct cli_cmd cmd = {"copy",   help,	    CLI_REG,	  NULL,
				    copy_own, copy_own_opt, &digest_file, vals_own};
	struct cli cl;
	struct reg_cli rc;
	struct location src, dst;
	struct copy_opts o;
	struct copy_result res;
	struct oci_platform plat = { 0 };
	struct progress *prog = NULL;
	char title[512];
	int r;

	cli_init(&cl);
	if ((r = cli_parse(&cmd, argc, argv, &cl, e)) != 0)
		return r > 0 ? 0 : -1;
	rc = cl.reg;
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
	if (r == 0)
		r = cmd_put_digest(res.digest, digest_file, e);
	location_free(&src);
	location_free(&dst);
	oci_platform_free(&plat);
	return r;
}
