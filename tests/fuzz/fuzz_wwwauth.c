/* WWW-Authenticate challenges, plus the other header helpers of the client. */
#include <time.h>
#include "fuzz.h"
#include "registry/internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	char *s = fuzz_str(d, n);
	struct auth_challenge ch = {0};

	if (auth_parse_challenge(s, &ch) == 0)
		auth_challenge_free(&ch);
	(void)http_parse_retry_after(s, (time_t)1700000000);
	free(http_link_next(s));
	free(http_resolve("https://r.example/v2/x/tags/list", s));
	(void)http_same_origin("https://r.example", s);
	(void)http_host_is_loopback(s);
	free(s);
	return 0;
}
