/*
 * timeutil.c: milliseconds to and from struct timeval, and the clocks.
 */
#include <sys/time.h>

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "timeutil.h"

static void
tv_is(uint64_t ms, long long sec, long usec)
{
	struct timeval	tv = { -1, -1 };

	assert_ptr_equal(timeutil_tv(&tv, ms), &tv);
	assert_int_equal((long long)tv.tv_sec, sec);
	assert_int_equal((long)tv.tv_usec, usec);
	assert_int_equal(timeutil_ms(&tv), ms);
}

static void
test_tv(void **state)
{
	(void)state;
	tv_is(0, 0, 0);
	tv_is(1, 0, 1000);
	tv_is(999, 0, 999000);
	tv_is(1000, 1, 0);
	tv_is(1001, 1, 1000);
	tv_is(86400000, 86400, 0);
	tv_is(UINT64_C(4000000000123), 4000000000LL, 123000);
}

static void
test_timeout(void **state)
{
	struct timeval	tv = { -1, -1 };

	(void)state;
	assert_null(timeutil_timeout(&tv, 0));
	assert_int_equal((long long)tv.tv_sec, -1);	/* untouched */
	assert_ptr_equal(timeutil_timeout(&tv, 999), &tv);
	assert_int_equal((long long)tv.tv_sec, 0);
	assert_int_equal((long)tv.tv_usec, 999000);
	assert_ptr_equal(timeutil_timeout(&tv, 1000), &tv);
	assert_int_equal((long long)tv.tv_sec, 1);
	assert_int_equal((long)tv.tv_usec, 0);
}

static void
test_ms_rounds_down(void **state)
{
	struct timeval	tv;

	(void)state;
	tv.tv_sec = 2;
	tv.tv_usec = 999999;
	assert_int_equal(timeutil_ms(&tv), 2999);
	tv.tv_sec = 0;
	tv.tv_usec = 999;
	assert_int_equal(timeutil_ms(&tv), 0);
}

static void
test_clocks(void **state)
{
	uint64_t	a, b;

	(void)state;
	a = timeutil_mono_ms();
	b = timeutil_mono_ms();
	assert_true(a > 0 && b >= a);
	a = timeutil_coarse_ms();
	b = timeutil_coarse_ms();
	assert_true(a > 0 && b >= a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tv),
		cmocka_unit_test(test_timeout),
		cmocka_unit_test(test_ms_rounds_down),
		cmocka_unit_test(test_clocks),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
