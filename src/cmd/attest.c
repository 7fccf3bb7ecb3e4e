#include <stdio.h>
#include <string.h>

#include "cmd/cmd.h"
#include "core/fs.h"
#include "core/log.h"
#include "registry/location.h"
#include "sign/cosign.h"
#include "sign/keys.h"
#include "sign/store.h"

static const char help[] =
	"usage: bosun attest --key KEY --predicate FILE --type TYPE IMAGE\n\n"
	"Attach a signed attestation to an image in a registry, as cosign attest does:\n"
	"an in-toto Statement v1 (subject = the repository and the image digest,\n"
	"predicateType, predicate = FILE) in a DSSE envelope signed over its PAE,\n"
	"added as a layer (application/vnd.dsse.envelope.v1+json, annotation\n"
	"predicateType) of the manifest tagged sha256-<hex>.att. Prints the digest.\n\n"
	"Options:\n"
	"  --key FILE                 private key (as for bosun sign)\n"
	"  --predicate FILE           the predicate (JSON; any text for --type custom)\n"
	"  --type TYPE                slsaprovenance (SLSA v1), slsaprovenance02,\n"
	"                             cyclonedx, spdxjson, vuln\n"
	"                             (https://cosign.sigstore.dev/attestation/vuln/v1),\n"
	"                             openvex, link, custom (text wrapped as\n"
	"                             {\"Data\":...,\"Timestamp\":...}), or any URI\n"
	"  --signature-format F       legacy (the .att tag), bundle (a Sigstore bundle as an\n"
	"                             OCI 1.1 referrer, cosign 3) or both (default)\n"
	"  -v, -q                     more / less output\n\n" REG_OPTS_HELP "\n" EXIT_CODES_HELP;


int cmd_attest(int argc, char **argv, struct err *e)
{
	enum { OPT_KEY = 3000, OPT_PRED, OPT_TYPE, OPT_SIGFMT };
	static const struct option lo[] = { COMMON_LONGOPTS, REG_LONGOPTS,
					    { "key", required_argument, NULL, OPT_KEY },
					    { "predicate", required_argument, NULL, OPT_PRED },
					    { "type", required_argument, NULL, OPT_TYPE },
					    { "signature-format", required_argument, NULL, OPT_SIGFMT },
					    { NULL, 0, NULL, 0 } };
	struct buf pred __attribute__((cleanup(buf_cleanup))) = BUF_INIT;
	struct reg_cli rc = { 0 };
	struct sign_key k = { 0 };
	struct sign_result res = { 0 };
	struct reg_client *cl = NULL;
	struct location loc;
	struct reg_opts ro;
	const char *keyfile = NULL, *predfile = NULL, *type = NULL, *uri;
	enum sig_format fmt = SIG_FORMAT_BOTH;
	int c, r;

	while ((c = getopt_long(argc, argv, COMMON_SHORTOPTS, lo, NULL)) != -1) {
		if (cmd_common_opt(c))
			continue;
		switch (c) {
		case 'h':
			cmd_print_help(help);
			return 0;
		case OPT_KEY:
			keyfile = optarg;
			continue;
		case OPT_PRED:
			predfile = optarg;
			continue;
		case OPT_TYPE:
			type = optarg;
			continue;
		case OPT_SIGFMT:
			if (sig_format_parse(optarg, &fmt) < 0)
				return cmd_usage_error(e, "attest", "--signature-format takes legacy, bundle or both");
			continue;
		}
		r = cmd_reg_opt(&rc, c, optarg, "attest", e);
		if (r < 0)
			return -1;
		if (r == 0)
			return cmd_usage_error(e, "attest", "bad option \"%s\": unknown, or its value is missing", argv[optind - 1]);
	}
	if (!keyfile || !predfile || !type)
		return cmd_usage_error(e, "attest", "--key, --predicate and --type are required");
	if (!(uri = intoto_predicate_type(type)))
		return cmd_usage_error(e, "attest", "unknown --type \"%s\"", type);
	if (argc - optind != 1)
		return cmd_usage_error(e, "attest", "expected one IMAGE");
	if (fs_read_file(predfile, &pred, PAYLOAD_MAX / 2, e) < 0)
		return err_prefix(e, "predicate %s", predfile);
	if (cmd_sign_parse_image(argv[optind], "attest", &loc, e) < 0)
		return -1;
	r = -1;
	if (sign_key_load_private(&k, keyfile, e) < 0)
		goto out;
	ro = (struct reg_opts){ rc.creds, rc.cacert, rc.insecure, rc.parallel, rc.retries, NULL };
	if (reg_open(&cl, &loc.ref, &ro, true, e) < 0 ||
	    attest_image_fmt(cl, &loc.ref, &k, uri, pred.data, pred.len, fmt, &res, e) < 0) {
		err_prefix(e, "attest %s", loc.text);
		goto out;
	}
	log_info("attested %s (%s) with key %s into %s", res.digest, uri, k.fingerprint, res.tag);
	printf("%s\n", res.digest);
	r = 0;
out:
	sign_result_free(&res);
	reg_close(cl);
	sign_key_free(&k);
	location_free(&loc);
	return r;
}
