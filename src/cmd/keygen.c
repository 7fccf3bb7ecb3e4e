#include <openssl/crypto.h>
#include <stdio.h>
#include <string.h>

#include "cmd/cmd.h"
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
	enum { OPT_PREFIX = 3000 };
	static const struct option lo[] = { COMMON_LONGOPTS,
					    { "output-key-prefix", required_argument, NULL, OPT_PREFIX },
					    { NULL, 0, NULL, 0 } };
	struct buf priv __attribute__((cleanup(buf_cleanup))) = BUF_INIT;
	struct buf pub __attribute__((cleanup(buf_cleanup))) = BUF_INIT;
	const char *prefix = "cosign";
	_cleanup_free_ char *kpath = NULL;
	_cleanup_free_ char *ppath = NULL;
	struct sign_key k = { 0 };
	char *pass = NULL;
	int c, rc = -1;

	while ((c = getopt_long(argc, argv, COMMON_SHORTOPTS, lo, NULL)) != -1) {
		if (cmd_common_opt(c))
			continue;
		if (c == 'h') {
			cmd_print_help(help);
			return 0;
		}
		if (c == OPT_PREFIX) {
			prefix = optarg;
			continue;
		}
		return cmd_usage_error(e, "keygen", "bad option \"%s\": unknown, or its value is missing", argv[optind - 1]);
	}
	if (optind != argc)
		return cmd_usage_error(e, "keygen", "unexpected argument \"%s\"", argv[optind]);
	if (!*prefix)
		return cmd_usage_error(e, "keygen", "--output-key-prefix must not be empty");
	kpath = xasprintf_e(e, "%s.key", prefix);
	ppath = xasprintf_e(e, "%s.pub", prefix);
	if (!kpath || !ppath)
		return -1;
	if (fs_exists(kpath) || fs_exists(ppath))
		return err_set(e, ERR_USAGE, "%s or %s exists already; not overwriting", kpath, ppath);
	if (sign_password(true, &pass, e) < 0)
		return -1;
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
	sign_password_free(pass);
	sign_key_free(&k);
	return rc;
}
