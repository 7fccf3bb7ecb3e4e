#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "builder/build.h"
#include "cmd/cmd.h"
#include "core/fs.h"
#include "core/log.h"
#include "core/progress.h"
#include "registry/image.h"

static const char help[] =
	"usage: bosun build [OPTIONS] CONTEXT\n\n"
	"Build an OCI image from a Dockerfile without a daemon. RUN steps run in a\n"
	"namespace sandbox on overlayfs (as root, or rootless in a user namespace).\n"
	"The manifest digest is printed on stdout.\n\n"
	"Options:\n"
	"  -f, --file FILE            the Dockerfile (default CONTEXT/Dockerfile)\n"
	"  -t, --tag REF              name of the image; pushed there with --push (repeatable)\n"
	"  --push                     push to every -t REF\n"
	"  --output DEST              also write to oci:DIR[:TAG] or docker-archive:FILE\n"
	"  --build-arg K[=V]          set a build argument (V from the environment when omitted)\n"
	"  --target STAGE             build up to this stage\n"
	"  --label K=V                add a label to the image config (repeatable)\n"
	"  --secret id=ID,src=PATH    expose PATH to RUN --mount=type=secret,id=ID (never in a layer)\n"
	"  --network host|none        network of RUN steps (default host)\n"
	"  --compression gzip|zstd    layer compression (default gzip)\n"
	"  --cache-dir DIR            keep base images and step results in DIR and reuse them\n"
	"  --cache-repo REPO          share step results through a registry repository\n"
	"  --digest-file FILE         write the manifest digest to FILE\n"
	"  -v, -q                     more / less output\n" REG_OPTS_HELP "\n"
	"SOURCE_DATE_EPOCH, when set, fixes the image's created time and clamps the\n"
	"times of files in bosun's layers: the same inputs give the same digest.\n\n"
	"Examples:\n"
	"  bosun build -t registry.example.com/team/app:1.0 --push .\n"
	"  bosun build --output oci:./out:1.0 --build-arg VERSION=1.0 -f docker/Dockerfile .\n\n"
	"Exit codes:\n"
	"  0  success\n"
	"  1  a RUN step failed (the step and its exit code are named)\n"
	"  2  usage error\n"
	"  3  bad input (Dockerfile error with FILE:LINE:COL, missing file or stage, bad base image)\n"
	"  4  registry or network error after retries\n"
	"  5  internal error\n";

#define MAXV 64

static int push_v(char **v, size_t *n, char *s, struct err *e)
{
	if (*n >= MAXV)
		return cmd_usage_error(e, "build", "too many values (max %d)", MAXV);
	v[(*n)++] = s;
	return 0;
}

int cmd_build(int argc, char **argv, struct err *e)
{
	enum {
		O_PUSH = 3000,
		O_OUTPUT,
		O_BUILD_ARG,
		O_TARGET,
		O_LABEL,
		O_SECRET,
		O_NETWORK,
		O_COMP,
		O_CACHE_DIR,
		O_CACHE_REPO,
		O_DIGEST_FILE,
	};
	static const struct option lo[] = { COMMON_LONGOPTS,
					    REG_LONGOPTS,
					    { "file", required_argument, NULL, 'f' },
					    { "tag", required_argument, NULL, 't' },
					    { "push", no_argument, NULL, O_PUSH },
					    { "output", required_argument, NULL, O_OUTPUT },
					    { "build-arg", required_argument, NULL, O_BUILD_ARG },
					    { "target", required_argument, NULL, O_TARGET },
					    { "label", required_argument, NULL, O_LABEL },
					    { "secret", required_argument, NULL, O_SECRET },
					    { "network", required_argument, NULL, O_NETWORK },
					    { "compression", required_argument, NULL, O_COMP },
					    { "cache-dir", required_argument, NULL, O_CACHE_DIR },
					    { "cache-repo", required_argument, NULL, O_CACHE_REPO },
					    { "digest-file", required_argument, NULL, O_DIGEST_FILE },
					    { NULL, 0, NULL, 0 } };
	struct reg_cli rc = { 0 };
	struct build_opts o;
	struct build_result res;
	char *tags[MAXV], *bargs[MAXV], *labels[MAXV], *secrets[MAXV], *outputs[MAXV];
	size_t nt = 0, no = 0;
	bool push = false;
	const char *digest_file = NULL;
	int c, r;

	memset(&o, 0, sizeof(o));
	o.build_args = bargs;
	o.labels = labels;
	o.secrets = secrets;
	o.source_date_epoch = -1;
	while ((c = getopt_long(argc, argv, COMMON_SHORTOPTS "f:t:", lo, NULL)) != -1) {
		if (cmd_common_opt(c))
			continue;
		switch (c) {
		case 'h':
			cmd_print_help(help);
			return 0;
		case 'f':
			o.dockerfile = optarg;
			continue;
		case 't':
			if (push_v(tags, &nt, optarg, e) < 0)
				return -1;
			continue;
		case O_PUSH:
			push = true;
			continue;
		case O_OUTPUT:
			if (push_v(outputs, &no, optarg, e) < 0)
				return -1;
			continue;
		case O_BUILD_ARG:
			if (push_v(bargs, &o.n_build_args, optarg, e) < 0)
				return -1;
			continue;
		case O_TARGET:
			o.target = optarg;
			continue;
		case O_LABEL:
			if (!strchr(optarg, '='))
				return cmd_usage_error(e, "build", "--label %s: expected KEY=VALUE", optarg);
			if (push_v(labels, &o.n_labels, optarg, e) < 0)
				return -1;
			continue;
		case O_SECRET:
			if (!strstr(optarg, "id=") || (!strstr(optarg, "src=") && !strstr(optarg, "source=")))
				/* not echoed: a mistaken value may be the secret itself */
				return cmd_usage_error(e, "build", "--secret: expected id=ID,src=PATH");
			if (push_v(secrets, &o.n_secrets, optarg, e) < 0)
				return -1;
			continue;
		case O_NETWORK:
			if (strcmp(optarg, "host") != 0 && strcmp(optarg, "none") != 0)
				return cmd_usage_error(e, "build", "--network %s: expected host or none", optarg);
			o.network = optarg;
			continue;
		case O_COMP:
			if (strcmp(optarg, "gzip") == 0)
				o.comp = LAYER_GZIP;
			else if (strcmp(optarg, "zstd") == 0)
				o.comp = LAYER_ZSTD;
			else
				return cmd_usage_error(e, "build", "--compression %s: expected gzip or zstd", optarg);
			continue;
		case O_CACHE_DIR:
			o.cache_dir = optarg;
			continue;
		case O_CACHE_REPO:
			o.cache_repo = optarg;
			continue;
		case O_DIGEST_FILE:
			digest_file = optarg;
			continue;
		}
		r = cmd_reg_opt(&rc, c, optarg, "build", e);
		if (r < 0)
			return -1;
		if (r == 0)
			return cmd_usage_error(e, "build", "bad option \"%s\": unknown, or its value is missing", argv[optind - 1]);
	}
	if (argc - optind != 1)
		return cmd_usage_error(e, "build", "expected one CONTEXT directory");
	if (push && nt == 0)
		return cmd_usage_error(e, "build", "--push needs at least one -t REF");
	o.context = argv[optind];
	o.platform = rc.platform;
	o.reg = (struct reg_opts){ rc.creds, rc.cacert, rc.insecure, rc.parallel, rc.retries, NULL };
	const char *sde = getenv("SOURCE_DATE_EPOCH");
	if (sde && *sde) {
		char *end;
		long long v = strtoll(sde, &end, 10);
		if (*end || v < 0)
			return err_set(e, ERR_USAGE, "SOURCE_DATE_EPOCH=%s: expected seconds since 1970", sde);
		o.source_date_epoch = v;
	}
	/* Check the destinations before spending time on the build. */
	for (size_t i = 0; i < no + (push ? nt : 0); i++) {
		struct location l;
		if (location_parse(&l, i < no ? outputs[i] : tags[i - no], e) < 0)
			return -1;
		bool bad = i < no && l.kind != LOC_OCI && l.kind != LOC_DOCKER_ARCHIVE && l.kind != LOC_REGISTRY;
		location_free(&l);
		if (bad)
			return cmd_usage_error(e, "build", "--output %s: expected oci:DIR[:TAG] or docker-archive:FILE",
					       outputs[i]);
	}
	if (build_run(&o, &res, e) < 0)
		return -1;
	log_info("built %s (%d steps, %d cached)", res.digest, res.steps, res.hits);
	/* Outputs: copies from the staging layout, the tag written last. */
	char srcspec[4096];
	snprintf(srcspec, sizeof(srcspec), "oci:%s:build", res.layout);
	struct location src;
	r = location_parse(&src, srcspec, e);
	bool src_ok = r == 0;
	for (size_t i = 0; r == 0 && i < no + (push ? nt : 0); i++) {
		struct location dst;
		struct copy_opts co;
		struct copy_result cr;
		const char *d = i < no ? outputs[i] : tags[i - no];
		char title[512];
		if (location_parse(&dst, d, e) < 0) {
			r = -1;
			break;
		}
		if (dst.kind == LOC_DOCKER_ARCHIVE && !dst.tag && nt > 0)
			dst.tag = strdup(tags[0]);
		snprintf(title, sizeof(title), "push %s", d);
		struct progress *prog = progress_new(title);
		memset(&co, 0, sizeof(co));
		co.src_reg = o.reg;
		co.dst_reg = o.reg;
		co.dst_reg.progress = prog;
		r = image_copy(&src, &dst, &co, &cr, e);
		progress_free(prog);
		location_free(&dst);
		if (r < 0)
			err_prefix(e, "output %s", d);
	}
	if (src_ok)
		location_free(&src);
	if (r == 0) {
		printf("%s\n", res.digest);
		if (digest_file) {
			char line[OCI_DIGEST_MAX + 2];
			int n = snprintf(line, sizeof(line), "%s\n", res.digest);
			r = fs_write_atomic(digest_file, line, (size_t)n, 0644, e);
		}
	}
	build_result_free(&res);
	return r;
}
