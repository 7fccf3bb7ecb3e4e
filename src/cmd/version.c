#include <archive.h>
#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <libxml/xmlversion.h>
#include <openssl/crypto.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "cmd/cmd.h"
#include "cmd/opts.h"
#include "core/version.h"


static const char help[] = "usage: bosun version [--short]\n\n"
			   "Print bosun's version and the versions of the libraries it uses.\n\n"
			   "  --short   the version number only\n\n" EXIT_CODES_HELP;

int cmd_version(int argc, char **argv, struct err *e)
{
	bool shrt = false;
	const struct cli_val vals[] = {{"short", NULL, &shrt}, {NULL, NULL, NULL}};
	const struct cli_cmd cmd = {"version", help, 0, NULL, NULL, NULL, NULL, vals};
	struct cli cl;
	int r;

	cli_init(&cl);
	if ((r = cli_parse(&cmd, argc, argv, &cl, e)) != 0)
		return r > 0 ? 0 : -1;
	if (optind < argc)
		return cmd_usage_error(e, "version", "unexpected argument \"%s\"", argv[optind]);
	if (shrt) {
		printf("%s\n", bosun_version);
		return 0;
	}
	printf("bosun %s\n", bosun_version);
	printf("  curl      %s\n", curl_version_info(CURLVERSION_NOW)->version);
	printf("  openssl   %s\n", OpenSSL_version(OPENSSL_VERSION));
	printf("  libarchive %s\n", archive_version_details());
	printf("  cjson     %s\n", cJSON_Version());
	printf("  libxml2   %s\n", LIBXML_DOTTED_VERSION);
	printf("  sqlite    %s\n", sqlite3_libversion());
	return 0;
}
