#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd/cmd.h"
#include "cmd/opts.h"
#include "image/location.h"
#include "core/util.h"
#include "sign/cosign.h"
#include "sign/verify.h"

static const char help[] =
	"usage: bosun verify --key PUB [--key PUB]... [--attestation TYPE]... [--policy FILE] IMAGE\n\n"
	"Verify the cosign-style signatures of an image (the sha256-<hex>.sig manifest\n"
	"next to it, and Sigstore bundles among its OCI 1.1 referrers: the referrers\n"
	"API, else the sha256-<hex> tag schema index; no transparency log, works\n"
	"offline with keys). A signature counts when it verifies with a given key,\n"
	"its payload (or statement) names the image digest, and its\n"
	"identity names the repository. With --attestation, the sha256-<hex>.att\n"
	"manifest must hold a DSSE envelope of that predicate type, signed by a given\n"
	"key, whose in-toto subject is the image digest. --policy adds the deploy gate\n"
	"(see docs): required keys (anyOf / allOf), required attestations, maximum\n"
	"severity and maximum age of the latest vulnerability-scan attestation.\n"
	"Prints what was verified, by which key, signed when; on failure the reason.\n\n"
	"Options:\n"
	"  --key FILE                 public key (PEM); repeatable: any one must have signed\n"
	"  --attestation TYPE         require an attestation: slsaprovenance, cyclonedx,\n"
	"                             vuln, openvex, custom, spdxjson, link, or a URI\n"
	"  --policy FILE              JSON policy file\n"
	"  -v, -q                     more / less output\n\n" REG_OPTS_HELP "\n"
	"Exit codes: 0 verified; 1 not verified (no signature, wrong key, digest\n"
	"mismatch, missing attestation, stale scan, findings over the limit); 2 usage\n"
	"error; 3 bad input (malformed key, policy, signature manifest, payload);\n"
	"4 registry or network error; 5 internal error.\n";

#define MAX_KEYS 32
#define MAX_ATT 32

/* verify's --key is repeatable (public keys), unlike the signing group's. */
struct verify_cli {
	const char *keyfiles[MAX_KEYS], *atts[MAX_ATT + 64];
	size_t nk, na;
};

enum { OPT_KEY = 3000, OPT_ATT };
static const struct option verify_own[] = {{"key", required_argument, NULL, OPT_KEY},
					   {"attestation", required_argument, NULL, OPT_ATT},
					   {NULL, 0, NULL, 0}};

static int verify_own_opt(void *ctx, int c, const char *arg, struct err *e)
{
	struct verify_cli *v = ctx;

	if (c == OPT_KEY) {
		if (v->nk == MAX_KEYS)
			return cmd_usage_error(e, "verify", "at most %d --key options", MAX_KEYS);
		v->keyfiles[v->nk++] = arg;
		return 1;
	}
	if (c != OPT_ATT)
		return 0;
	if (v->na == MAX_ATT)
		return cmd_usage_error(e, "verify", "at most %d --attestation options", MAX_ATT);
	if (!intoto_predicate_type_known(arg))
		return cmd_usage_error(e, "verify", "unknown attestation type \"%s\"", arg);
	v->atts[v->na++] = arg;
	return 1;
}

int cmd_verify(int argc, char **argv, struct err *e)
{
	struct verify_cli vc;
	const char *polfile = NULL;
	const struct cli_val vals[] = {{"policy", &polfile, NULL}, {NULL, NULL, NULL}};
	const struct cli_cmd cmd = {"verify",	help,		CLI_REG, NULL,
				    verify_own, verify_own_opt, &vc,	 vals};
	struct cli cl0;
	struct buf report = BUF_INIT;
	const char **keyfiles = vc.keyfiles, **atts = vc.atts;
	struct verify_key keys[MAX_KEYS + 64];
	struct sign_policy pol = { 0 };
	struct verify_req req = {0};
	struct reg_client *cl = NULL;
	struct location loc = {0};
	struct reg_opts ro;
	char digest[136];
	size_t nk, na, i;
	int r;

	memset(keys, 0, sizeof(keys));
	memset(&vc, 0, sizeof(vc));
	cli_init(&cl0);
	if ((r = cli_parse(&cmd, argc, argv, &cl0, e)) != 0)
		return r > 0 ? 0 : -1;
	nk = vc.nk, na = vc.na;
	if (nk == 0 && !polfile)
		return cmd_usage_error(e, "verify", "--key (or a --policy with keys) is required");
	if (argc - optind != 1)
		return cmd_usage_error(e, "verify", "expected one IMAGE");
	if (polfile && sign_policy_load(&pol, polfile, e) < 0)
		return -1;
	if (nk == 0 && pol.n_keys == 0) {
		sign_policy_free(&pol);
		return cmd_usage_error(e, "verify", "no key: give --key or keys in the policy");
	}
	if (cmd_sign_parse_image(argv[optind], "verify", &loc, e) < 0) {
		sign_policy_free(&pol);
		return -1;
	}
	r = -1;
	req.keys = keys;
	for (i = 0; i < nk; i++, req.n_keys++) {
		if (sign_key_load_public(&keys[req.n_keys].key, keyfiles[i], e) < 0)
			goto out;
		keys[req.n_keys].name = keyfiles[i];
		keys[req.n_keys].cli = true;
	}
	for (i = 0; i < pol.n_keys; i++, req.n_keys++) {
		if (sign_key_load_public(&keys[req.n_keys].key, pol.keys[i], e) < 0) {
			err_prefix(e, "policy %s", polfile);
			goto out;
		}
		keys[req.n_keys].name = pol.keys[i];
		keys[req.n_keys].policy = true;
	}
	for (i = 0; i < pol.n_attestations; i++) {
		if (!intoto_predicate_type_known(pol.attestations[i])) {
			err_set(e, ERR_INPUT, "policy %s: unknown attestation type \"%s\"", polfile,
				pol.attestations[i]);
			goto out;
		}
		atts[na++] = pol.attestations[i];
	}
	req.policy_all_of = pol.all_of;
	req.attestations = atts;
	req.n_attestations = na;
	req.max_severity = polfile ? pol.max_severity : SEV_UNSET;
	req.max_age = pol.max_age;
	req.now = (long long)time(NULL);
	ro = cli_reg_opts(&cl0);
	if (reg_open(&cl, &loc.ref, &ro, false, e) < 0)
		goto out;
	r = sign_verify_image(cl, &loc.ref, &req, &report, digest, e);
	if (report.len)
		fputs(report.data, stdout);
	if (r < 0) {
		err_prefix(e, "%s", loc.text);
		goto out;
	}
	printf("Verified %s@%s\n", loc.text, digest);
	r = 0;
out:
	for (i = 0; i < req.n_keys + 1 && i < ARRAY_SIZE(keys); i++)
		sign_key_free(&keys[i].key);
	reg_close(cl);
	location_free(&loc);
	sign_policy_free(&pol);
	buf_free(&report);
	return r;
}
