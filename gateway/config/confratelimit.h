/*
 * The rate_limits: section of the configuration: the classes a request is
 * counted under (identity/ratelimit.c counts them; policy files name them
 * in their routes).
 */
#ifndef POSTERN_CONFRATELIMIT_H
#define POSTERN_CONFRATELIMIT_H

#include <stdint.h>

#define RATELIMIT_NAMEMAX	32

/* One class of the configuration. */
struct ratelimit_class {
	char		 name[RATELIMIT_NAMEMAX + 1];
	uint64_t	 limit;		/* requests per period, per address */
	uint64_t	 period;	/* ms */
	uint64_t	 account_limit;	/* per target account; 0: not kept */
	int		 fail_open;	/* Redis down: admit (else 503) */
};

#endif
