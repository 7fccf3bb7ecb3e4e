#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "cmd/opts.h"
#include "core/log.h"
#include "image/location.h"
#include "sign/keys.h"
#include "sign/store.h"

static const char help[] =
	"usage: bosun sign --key KEY [-a KEY=VALUE]... IMAGE\n\n"
	"Sign an image in a registry the way cosign does with a key: resolve IMAGE to\n"
	"its digest (a tag is resolved once; the digest is what gets signed and is\n"
	"printed), build the simple-signing payload\n"
	"  {\"critical\":{\"identity\":{\"docker-reference\":REPO},\"image\":{\"docker-manifest-digest\":DIGEST},\n"
	"   \"type\":\"cosign container image signature\"},\"optional\":ANNOTATIONS|null}\n"
	"sign it (ECDSA P-256 over SHA-256, DER; Ed25519; RSA PKCS#1 v1.5) and add it as\n"
	"one layer of the OCI manifest tagged sha256-<hex>.sig in the same repository.\n"
	"Signing again adds a layer; existing signatures stay.\n\n"
	"Options:\n"
	"  --key FILE                 private key: cosign encrypted (ENCRYPTED SIGSTORE /\n"
	"                             COSIGN PRIVATE KEY), or PKCS#8 / SEC1 / PKCS#1 PEM\n"
	"  -a, --annotation K=V       add K=V to the signed payload's \"optional\" (repeatable)\n"
	"  --signature-format F       legacy (the .sig tag, cosign 1-2), bundle (a Sigstore\n"
	"                             bundle as an OCI 1.1 referrer, cosign 3) or both (default)\n"
	"  -v, -q                     more / less output\n"
	"The key password comes from BOSUN_KEY_PASSWORD, COSIGN_PASSWORD or\n"
	"BOSUN_PASSWORD (when BOSUN_USERNAME is unset), else a terminal prompt.\n\n" REG_OPTS_HELP
	"\n" EXIT_CODES_HELP;

#define MAX_ANN 64

/* Parse IMAGE as a registry location; shared with attest and verify. */
int cmd_sign_parse_image(const char *s, const char *cmd, struct location *loc, struct err *e)
{
	if (location_parse(loc, s, e) < 0)
		return -1;
	if (loc->kind != LOC_REGISTRY) {
		location_free(loc);
		return cmd_usage_error(e, cmd, "%s: signatures live in a registry; give a registry reference",
				       s);
	}
	return 0;
}

struct annotations {
	char *kv[MAX_ANN];
	size_t n;
};

static const struct option sign_own[] = {{"annotation", required_argument, NULL, 'a'},
					 {NULL, 0, NULL, 0}};

static int annotation_opt(void *ctx, int c, const char *arg, struct err *e)
{
	struct annotations *an = ctx;
	const char *eq;

	if (c != 'a')
		return 0;
	eq = strchr(arg, '=');
	if (!eq || eq == arg)
		return cmd_usage_error(e, "sign", "-a takes KEY=VALUE");
	if (an->n == MAX_ANN)
		return cmd_usage_error(e, "sign", "at most %d annotations", MAX_ANN);
	an->kv[an->n++] = (char *)arg;
	return 1;
}

int cmd_sign(int argc, char **argv, struct err *e)
{
	struct annotations an = {.n = 0};
	const char *fmts = NULL;
	enum sig_format fmt = SIG_FORMAT_BOTH;
	const struct cli_val vals_own[] = {{"signature-format", &fmts, NULL}, {NULL, NULL, NULL}};
	const struct cli_cmd cmd = {
	    "sign", help, CLI_REG | CLI_SIGN, "a:", sign_own, annotation_opt, &an, vals_own};
	const char *keys[MAX_ANN], *vals[MAX_ANN];
	char **kv = an.kv;
	struct cli cl0;
	struct sign_key k = { 0 };
	struct sign_result res = { 0 };
	struct reg_client *cl = NULL;
	struct location loc;
	struct reg_opts ro;
	const char *keyfile;
	size_t n, i;
	int r = -1;

	cli_init(&cl0);
	if ((r = cli_parse(&cmd, argc, argv, &cl0, e)) != 0)
		return r > 0 ? 0 : -1;
	keyfile = cl0.key, n = an.n;
	if (fmts && sig_format_parse(fmts, &fmt) < 0)
		return cmd_usage_error(e, "sign", "--signature-format takes legacy, bundle or both");
	if (!keyfile)
		return cmd_usage_error(e, "sign", "--key is required");
	if (argc - optind != 1)
		return cmd_usage_error(e, "sign", "expected one IMAGE");
	if (cmd_sign_parse_image(argv[optind], "sign", &loc, e) < 0)
		return -1;
	/* Split K=V in copies so argv stays intact. */
	for (i = 0; i < n; i++) {
		char *eq = strchr(kv[i], '=');

		keys[i] = strndup(kv[i], (size_t)(eq - kv[i]));
		vals[i] = eq + 1;
		if (!keys[i]) {
			n = i;
			err_oom(e);
			r = -1;
			goto out;
		}
	}
	r = -1;
	if (sign_key_load_private(&k, keyfile, e) < 0)
		goto out;
	ro = cli_reg_opts(&cl0);
	if (reg_open(&cl, &loc.ref, &ro, true, e) < 0 ||
	    sign_image_fmt(cl, &loc.ref, &k, keys, vals, n, fmt, &res, e) < 0) {
		err_prefix(e, "sign %s", loc.text);
		goto out;
	}
	log_info("signed %s with %s key %s into %s%s", res.digest, sign_alg_name(k.alg), k.fingerprint,
		 fmt == SIG_FORMAT_BUNDLE ? "a bundle" : res.tag,
		 res.added ? "" : " (the same signature was there already)");
	if (*res.referrer)
		log_info("signature bundle %s (%s)", res.referrer, res.api ? "referrers API" : "referrers tag schema");
	printf("%s\n", res.digest);
	r = 0;
out:
	for (i = 0; i < n; i++)
		free((char *)keys[i]);
	sign_result_free(&res);
	reg_close(cl);
	sign_key_free(&k);
	location_free(&loc);
	return r;
}
