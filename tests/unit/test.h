/* Minimal unit-test harness: assertion macros that report file and line,
 * and a closing line "N passed, N failed". Each test program is one module:
 *
 *   TEST(name) { CHECK(x == 1); CHECK_STR(a, "b"); }
 *   int main(void) { RUN(name); return test_done(); }
 */
#ifndef BOSUN_TEST_H
#define BOSUN_TEST_H

#include <stdio.h>
#include <string.h>

extern int test_passed, test_failed, test_cur_failed;
extern const char *test_cur_name;

#define TEST(name) static void name(void)
#define RUN(name)                                                                   \
	do {                                                                        \
		test_cur_failed = 0;                                                \
		test_cur_name = #name;                                              \
		name();                                                             \
		if (test_cur_failed)                                                \
			test_failed++, printf("not ok - %s\n", #name);              \
		else                                                                \
			test_passed++, printf("ok - %s\n", #name);                  \
	} while (0)

#define CHECK(cond)                                                                  \
	do {                                                                         \
		if (!(cond)) {                                                       \
			fprintf(stderr, "%s:%d: %s: CHECK(%s) failed\n", __FILE__,    \
				__LINE__, test_cur_name, #cond);                     \
			test_cur_failed = 1;                                         \
		}                                                                    \
	} while (0)

#define CHECK_STR(a, b)                                                              \
	do {                                                                         \
		const char *a_ = (a), *b_ = (b);                                     \
		if (!a_ || !b_ || strcmp(a_, b_) != 0) {                             \
			fprintf(stderr, "%s:%d: %s: \"%s\" != \"%s\"\n", __FILE__,    \
				__LINE__, test_cur_name, a_ ? a_ : "(null)",         \
				b_ ? b_ : "(null)");                                 \
			test_cur_failed = 1;                                         \
		}                                                                    \
	} while (0)

#define CHECK_INT(a, b)                                                              \
	do {                                                                         \
		long long a_ = (long long)(a), b_ = (long long)(b);                  \
		if (a_ != b_) {                                                      \
			fprintf(stderr, "%s:%d: %s: %s == %lld, expected %lld\n",     \
				__FILE__, __LINE__, test_cur_name, #a, a_, b_);      \
			test_cur_failed = 1;                                         \
		}                                                                    \
	} while (0)

int test_done(void);

#endif
