/* docker config.json / containers auth.json, through a scratch file (the
 * parser reads a path). No credential helper can run: "credsStore" and
 * "credHelpers" are stripped from inputs by making the lookup host unusual,
 * and PATH is emptied so no docker-credential-* can be found. */
#include <stdio.h>
#include <unistd.h>
#include "fuzz.h"
#include "registry/internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	char path[] = "/tmp/bosun-fuzz-creds-XXXXXX";
	int fd = mkstemp(path);
	struct reg_creds cr;
	bool found = false;
	struct err e = ERR_INIT;
	static const char *hosts[] = {"docker.io", "r.example:5000", "localhost", "index.docker.io"};

	if (fd < 0)
		abort();
	setenv("PATH", "/nonexistent", 1);
	if (write(fd, d, n) != (ssize_t)n)
		abort();
	close(fd);
	for (size_t i = 0; i < sizeof(hosts) / sizeof(hosts[0]); i++) {
		memset(&cr, 0, sizeof(cr));
		found = false;
		if (creds_from_config(path, hosts[i], &cr, &found, &e) == 0 && found)
			creds_free(&cr);
		else if (found)
			creds_free(&cr);
	}
	unlink(path);
	{
		char *s = fuzz_str(d, n);
		free(creds_normalize_host(s));
		free(s);
	}
	return 0;
}
