#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "builder/build.h"
#include "cmd/cmd.h"
#include "cmd/opts.h"
#include "core/fs.h"
#include "core/log.h"
#include "image/image.h"

static const char help[] =
    "usage: bosun build [OPTIONS] CONTEXT\n\n"
    "Build an OCI image from a Dockerfile without a daemon. RUN steps run in a\n"
    "namespace sandbox on overlayfs (as root, or rootless in a user namespace).\n"
    "The manifest digest is printed on stdout (the index's, with several platforms).\n\n"
    "Build options (the same for bosun ship):\n" BUILD_OPTS_HELP "Options:\n"
    "  --push                     push to every -t REF\n"
    "  --digest-file FILE         write the manifest digest to FILE\n"
    "  -v, -q                     more / less output\n" REG_OPTS_HELP "\n"
    "SOURCE_DATE_EPOCH, when set, fixes the image's created time and clamps the\n"
    "times of files in bosun's layers: the same inputs give the same digest.\n\n"
    "--platform linux/amd64,linux/arm64 builds each platform from the base's image\n"
    "for it and pushes one OCI image index. RUN steps of a platform this machine\n"
    "cannot run go through the kernel's binfmt_misc and qemu-user-static; without a\n"
    "registered handler (F flag) the build stops before any work, exit 5. As root:\n"
    "  mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc\n"
    "  apt-get install qemu-user-static binfmt-support; update-binfmts --enable qemu-aarch64\n\n"
    "Examples:\n"
    "  bosun build -t registry.example.com/team/app:1.0 --push .\n"
    "  bosun build --output oci:./out:1.0 --build-arg VERSION=1.0 -f docker/Dockerfile .\n"
    "  bosun build --platform linux/amd64,linux/arm64 -t registry.example.com/team/app:1.0 --push .\n\n"
    "Exit codes:\n"
    "  0  success\n"
    "  1  a RUN step failed (the step and its exit code are named)\n"
    "  2  usage error\n"
    "  3  bad input (Dockerfile error with FILE:LINE:COL, missing file or stage, bad base image)\n"
    "  4  registry or network error after retries\n"
    "  5  internal error; RUN for a foreign platform without binfmt_misc emulation\n";

/* build's own options beside the build and registry groups. */
struct build_cli {
	bool push;
	const char *digest_file;
};

enum { O_PUSH = 3000, O_DIGEST_FILE };
static const struct option build_own[] = {{"push", no_argument, NULL, O_PUSH},
					  {"digest-file", required_argument, NULL, O_DIGEST_FILE},
					  {NULL, 0, NULL, 0}};

static int build_own_opt(void *ctx, int c, const char *arg, struct err *e)
{
	struct build_cli *b = ctx;

	(void)e;
	if (c == O_PUSH)
		b->push = true;
	else if (c == O_DIGEST_FILE)
		b->digest_file = arg;
	else
		return 0;
	return 1;
}

int cmd_build(int argc, char **argv, struct err *e)
{
	struct build_cli bc = {0};
	const struct cli_cmd cmd = {
	    "build", help, CLI_REG | CLI_BUILD, NULL, build_own, build_own_opt, &bc, NULL};
	struct cli cl;
	struct build_opts o;
	struct build_result res;
	const char **tags = cl.build.tags, **outputs = cl.build.outputs;
	size_t nt, no;
	bool push;
	const char *digest_file;
	int r;

	cli_init(&cl);
	if ((r = cli_parse(&cmd, argc, argv, &cl, e)) != 0)
		return r > 0 ? 0 : -1;
	nt = cl.build.n_tags, no = cl.build.n_outputs, push = bc.push, digest_file = bc.digest_file;
	if (argc - optind != 1)
		return cmd_usage_error(e, "build", "expected one CONTEXT directory");
	if (push && nt == 0)
		return cmd_usage_error(e, "build", "--push needs at least one -t REF");
	if (cli_source_date(&cl, e) < 0)
		return -1;
	o = cl.build.o;
	o.context = argv[optind];
	struct oci_platform *plats;
	size_t np;
	if (build_platforms_parse(o.platform, &plats, &np, e) < 0)
		return -1;
	build_platforms_free(plats, np);
	/* Check the destinations before spending time on the build. */
	for (size_t i = 0; i < no + (push ? nt : 0); i++) {
		struct location l;
		if (location_parse(&l, i < no ? outputs[i] : tags[i - no], e) < 0)
			return -1;
		bool bad = i < no && l.kind != LOC_OCI && l.kind != LOC_DOCKER_ARCHIVE && l.kind != LOC_REGISTRY;
		bool archive = l.kind == LOC_DOCKER_ARCHIVE;
		location_free(&l);
		if (bad)
			return cmd_usage_error(e, "build", "--output %s: expected oci:DIR[:TAG] or docker-archive:FILE",
					       outputs[i]);
		if (i < no && np > 1 && archive)
			return cmd_usage_error(e, "build",
					       "--output %s: a docker archive holds one platform; write the %zu "
					       "platforms to oci:DIR[:TAG] or a registry",
					       outputs[i], np);
	}
	/* --push: each layer goes up while it is written and the build goes on;
	 * the push below then finds it there. */
	struct reg_bgpush *bg = NULL;
	if (push && reg_bgpush_open(&bg, tags, nt, &o.reg, e) < 0)
		return -1;
	if (bg) {
		o.on_layer = reg_bgpush_layer;
		o.on_layer_write = reg_bgpush_write;
		o.on_layer_ctx = bg;
	}
	r = build_run(&o, &res, e);
	reg_bgpush_free(bg);
	if (r < 0)
		return -1;
	log_info("built %s (%d steps, %d cached)", res.digest, res.steps, res.hits);
	/* Outputs: copies from the staging layout, the tag written last. */
	char srcspec[4096];
	snprintf(srcspec, sizeof(srcspec), "oci:%s:build", res.layout);
	struct location src;
	r = location_parse(&src, srcspec, e);
	bool src_ok = r == 0;
	for (size_t i = 0; r == 0 && i < no + (push ? nt : 0); i++) {
		const char *d = i < no ? outputs[i] : tags[i - no];
		if ((r = image_copy_to(&src, d, &o.reg, nt > 0 ? tags[0] : NULL, true, e)) < 0)
			err_prefix(e, "output %s", d);
	}
	if (src_ok)
		location_free(&src);
	if (r == 0)
		r = cmd_put_digest(res.digest, digest_file, e);
	build_result_free(&res);
	return r;
}
