#include "test.h"

int test_passed, test_failed, test_cur_failed;
const char *test_cur_name;

int test_done(void)
{
	printf("%d passed, %d failed\n", test_passed, test_failed);
	return test_failed ? 1 : 0;
}
