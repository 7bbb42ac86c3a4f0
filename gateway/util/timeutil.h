/*
 * Milliseconds, the gateway's unit for every configured duration, to and
 * from the struct timeval that libevent and hiredis take, and the
 * monotonic clocks that deadlines are measured on.
 */
#ifndef POSTERN_TIMEUTIL_H
#define POSTERN_TIMEUTIL_H

#include <stdint.h>

struct timeval;

/* <ms> milliseconds into *<tv>, which is returned. */
struct timeval	*timeutil_tv(struct timeval *tv, uint64_t ms);
/*
 * As timeutil_tv(), but NULL for 0: a timeout of 0 means none, which is
 * what libevent reads from a NULL timeval.
 */
struct timeval	*timeutil_timeout(struct timeval *tv, uint64_t ms);
/* *<tv> in whole milliseconds (rounded down). */
uint64_t	 timeutil_ms(const struct timeval *tv);
/* Milliseconds of CLOCK_MONOTONIC. */
uint64_t	 timeutil_mono_ms(void);
/* Microseconds of CLOCK_MONOTONIC. */
uint64_t	 timeutil_mono_us(void);
/*
 * Milliseconds of CLOCK_MONOTONIC_COARSE: no syscall, a few milliseconds
 * behind; for deadlines checked on every I/O event.
 */
uint64_t	 timeutil_coarse_ms(void);

#endif
