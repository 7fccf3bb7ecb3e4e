#include <archive.h>
#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <libxml/xmlversion.h>
#include <openssl/crypto.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "cmd/cmd.h"
#include "core/version.h"


static const char help[] = "usage: bosun version [--short]\n\n"
			   "Print bosun's version and the versions of the libraries it uses.\n\n"
			   "  --short   the version number only\n\n" EXIT_CODES_HELP;

int cmd_version(int argc, char **argv, struct err *e)
{
	static const struct option lo[] = { COMMON_LONGOPTS, { "short", no_argument, NULL, 's' },
					    { NULL, 0, NULL, 0 } };
	int c, shrt = 0;

	while ((c = getopt_long(argc, argv, COMMON_SHORTOPTS, lo, NULL)) != -1) {
		if (cmd_common_opt(c))
			continue;
		if (c == 'h') {
			cmd_print_help(help);
			return 0;
		}
		if (c == 's') {
			shrt = 1;
			continue;
		}
		return cmd_usage_error(e, "version", "bad option \"%s\": unknown, or its value is missing", argv[optind - 1]);
	}
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
