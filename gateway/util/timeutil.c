/*
 * Milliseconds and timevals (see timeutil.h).
 */
#include <sys/time.h>

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "timeutil.h"

struct timeval *
timeutil_tv(struct timeval *tv, uint64_t ms)
{
	tv->tv_sec = (time_t)(ms / 1000);
	tv->tv_usec = (suseconds_t)(ms % 1000) * 1000;
	return tv;
}

struct timeval *
timeutil_timeout(struct timeval *tv, uint64_t ms)
{
	return ms == 0 ? NULL : timeutil_tv(tv, ms);
}

uint64_t
timeutil_ms(const struct timeval *tv)
{
	return (uint64_t)tv->tv_sec * 1000 + (uint64_t)tv->tv_usec / 1000;
}

static uint64_t
timeutil_clock_ms(clockid_t clock)
{
	struct timespec	ts;

	(void)clock_gettime(clock, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

uint64_t
timeutil_mono_ms(void)
{
	return timeutil_clock_ms(CLOCK_MONOTONIC);
}

uint64_t
timeutil_mono_us(void)
{
	struct timespec	ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

uint64_t
timeutil_coarse_ms(void)
{
	return timeutil_clock_ms(CLOCK_MONOTONIC_COARSE);
}
