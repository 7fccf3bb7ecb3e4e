#include <stdio.h>
#include <string.h>

#include "cmd/cmd.h"
#include "cmd/opts.h"
#include "core/fs.h"
#include "core/log.h"
#include "image/location.h"
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
	const char *keyfile, *predfile = NULL, *type = NULL, *uri, *fmts = NULL;
	enum sig_format fmt = SIG_FORMAT_BOTH;
	const struct cli_val vals[] = {{"predicate", &predfile, NULL},
				       {"type", &type, NULL},
				       {"signature-format", &fmts, NULL},
				       {NULL, NULL, NULL}};
	const struct cli_cmd cmd = {"attest", help, CLI_REG | CLI_SIGN, NULL, NULL, NULL,
				    NULL,     vals};
	struct cli cl0;
	struct buf pred = BUF_INIT;
	struct sign_key k = { 0 };
	struct sign_result res = { 0 };
	struct reg_client *cl = NULL;
	struct location loc = {0};
	struct reg_opts ro;
	int r;

	cli_init(&cl0);
	if ((r = cli_parse(&cmd, argc, argv, &cl0, e)) != 0)
		return r > 0 ? 0 : -1;
	keyfile = cl0.key;
	if (!keyfile || !predfile || !type)
		return cmd_usage_error(e, "attest", "--key, --predicate and --type are required");
	if (fmts && sig_format_parse(fmts, &fmt) < 0)
		return cmd_usage_error(e, "attest", "--signature-format takes legacy, bundle or both");
	if (!(uri = intoto_predicate_type(type)))
		return cmd_usage_error(e, "attest", "unknown --type \"%s\"", type);
	if (argc - optind != 1)
		return cmd_usage_error(e, "attest", "expected one IMAGE");
	r = -1;
	if (fs_read_file(predfile, &pred, PAYLOAD_MAX / 2, e) < 0) {
		err_prefix(e, "predicate %s", predfile);
		goto out;
	}
	if (cmd_sign_parse_image(argv[optind], "attest", &loc, e) < 0)
		goto out;
	if (sign_key_load_private(&k, keyfile, e) < 0)
		goto out;
	ro = cli_reg_opts(&cl0);
	if (reg_open(&cl, &loc.ref, &ro, true, e) < 0 ||
	    attest_image_fmt(cl, &loc.ref, &k, uri, pred.data, pred.len, fmt, &res, e) < 0) {
		err_prefix(e, "attest %s", loc.text);
		goto out;
	}
	log_info("attested %s (%s) with key %s into %s", res.digest, uri, k.fingerprint, res.tag);
	printf("%s\n", res.digest);
	r = 0;
out:
	buf_free(&pred);
	sign_result_free(&res);
	reg_close(cl);
	sign_key_free(&k);
	location_free(&loc);
	return r;
}
