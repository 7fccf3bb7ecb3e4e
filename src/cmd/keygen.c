#include <openssl/crypto.h>
#include <stdio.h>
#include <string.h>

#include "cmd/cmd.h"
#include "cmd/opts.h"
#include "core/fs.h"
#include "core/util.h"
#include "sign/keys.h"

static const char help[] =
	"usage: bosun keygen [--output-key-prefix PREFIX]\n\n"
	"Generate an ECDSA P-256 key pair in cosign's format: PREFIX.key (ENCRYPTED\n"
	"SIGSTORE PRIVATE KEY: scrypt N=65536 r=8 p=1 + NaCl secretbox over PKCS#8,\n"
	"mode 0600) and PREFIX.pub (PKIX PEM). The password comes from\n"
	"BOSUN_KEY_PASSWORD, COSIGN_PASSWORD or BOSUN_PASSWORD (the last only when\n"
	"BOSUN_USERNAME is unset), else a prompt on the terminal, asked twice. An\n"
	"empty password is allowed, as cosign allows it. Existing files are not\n"
	"overwritten.\n\n"
	"Options:\n"
	"  --output-key-prefix PREFIX  file name prefix (default \"cosign\")\n"
	"  -v, -q                      more / less output\n\n" EXIT_CODES_HELP;

int cmd_keygen(int argc, char **argv, struct err *e)
{
	const char *prefix = "cosign";
	const struct cli_val vals[] = {{"output-key-prefix", &prefix, NULL}, {NULL, NULL, NULL}};
	const struct cli_cmd cmd = {"keygen", help, 0, NULL, NULL, NULL, NULL, vals};
	struct cli cl;
	struct buf priv = BUF_INIT, pub = BUF_INIT;
	char *kpath = NULL, *ppath = NULL, *pass = NULL;
	struct sign_key k = { 0 };
	int rc;

	cli_init(&cl);
	if ((rc = cli_parse(&cmd, argc, argv, &cl, e)) != 0)
		return rc > 0 ? 0 : -1;
	if (optind != argc)
		return cmd_usage_error(e, "keygen", "unexpected argument \"%s\"", argv[optind]);
	if (!*prefix)
		return cmd_usage_error(e, "keygen", "--output-key-prefix must not be empty");
	rc = -1;
	kpath = xasprintf_e(e, "%s.key", prefix);
	ppath = xasprintf_e(e, "%s.pub", prefix);
	if (!kpath || !ppath)
		goto out;
	if (fs_exists(kpath) || fs_exists(ppath)) {
		err_set(e, ERR_USAGE, "%s or %s exists already; not overwriting", kpath, ppath);
		goto out;
	}
	if (sign_password(true, &pass, e) < 0)
		goto out;
	if (sign_key_generate(&k, e) < 0 || sign_key_encrypted_pem(&k, pass, strlen(pass), &priv, e) < 0 ||
	    sign_key_public_pem(&k, &pub, e) < 0)
		goto out;
	if (fs_write_atomic(kpath, priv.data, priv.len, 0600, e) < 0 ||
	    fs_write_atomic(ppath, pub.data, pub.len, 0644, e) < 0)
		goto out;
	printf("Private key written to %s\nPublic key written to %s\n", kpath, ppath);
	rc = 0;
out:
	OPENSSL_cleanse(priv.data, priv.len);
	buf_free(&priv);
	buf_free(&pub);
	free(kpath);
	free(ppath);
	sign_password_free(pass);
	sign_key_free(&k);
	return rc;
}
