#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "core/log.h"
#include "registry/location.h"
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

int cmd_sign(int argc, char **argv, struct err *e)
{
	enum { OPT_KEY = 3000, OPT_SIGFMT };
	static const struct option lo[] = { COMMON_LONGOPTS, REG_LONGOPTS,
					    { "key", required_argument, NULL, OPT_KEY },
					    { "annotation", required_argument, NULL, 'a' },
					    { "signature-format", required_argument, NULL, OPT_SIGFMT },
					    { NULL, 0, NULL, 0 } };
	const char *keys[MAX_ANN], *vals[MAX_ANN];
	char *kv[MAX_ANN];
	struct reg_cli rc = { 0 };
	struct sign_key k = { 0 };
	struct sign_result res = { 0 };
	struct reg_client *cl = NULL;
	struct location loc;
	struct reg_opts ro;
	const char *keyfile = NULL;
	enum sig_format fmt = SIG_FORMAT_BOTH;
	size_t n = 0, i;
	int c, r = -1;

	while ((c = getopt_long(argc, argv, COMMON_SHORTOPTS "a:", lo, NULL)) != -1) {
		if (cmd_common_opt(c))
			continue;
		if (c == 'h') {
			cmd_print_help(help);
			return 0;
		}
		if (c == OPT_KEY) {
			keyfile = optarg;
			continue;
		}
		if (c == OPT_SIGFMT) {
			if (sig_format_parse(optarg, &fmt) < 0)
				return cmd_usage_error(e, "sign", "--signature-format takes legacy, bundle or both");
			continue;
		}
		if (c == 'a') {
			char *eq = strchr(optarg, '=');

			if (!eq || eq == optarg)
				return cmd_usage_error(e, "sign", "-a takes KEY=VALUE");
			if (n == MAX_ANN)
				return cmd_usage_error(e, "sign", "at most %d annotations", MAX_ANN);
			kv[n++] = optarg;
			continue;
		}
		r = cmd_reg_opt(&rc, c, optarg, "sign", e);
		if (r < 0)
			return -1;
		if (r == 0)
			return cmd_usage_error(e, "sign", "bad option \"%s\": unknown, or its value is missing", argv[optind - 1]);
	}
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
			err_set(e, ERR_INTERNAL, "out of memory");
			r = -1;
			goto out;
		}
	}
	r = -1;
	if (sign_key_load_private(&k, keyfile, e) < 0)
		goto out;
	ro = (struct reg_opts){ rc.creds, rc.cacert, rc.insecure, rc.parallel, rc.retries, NULL };
	if (reg_open(&cl, &loc.ref, &ro, true, e) < 0 ||
	    sign_image_fmt(cl, &loc.ref, &k, keys, vals, n, fmt, &res, e) < 0) {
		err_prefix(e, "sign %s", loc.text);
		goto out;
	}
	log_info("signed %s with %s key %s into %s%s", res.digest, sign_alg_name(k.alg), k.fingerprint,
		 fmt == SIG_FORMAT_BUNDLE ? "a bundle" : res.tag, res.added ? "" : " (the same signature was there already)");
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
