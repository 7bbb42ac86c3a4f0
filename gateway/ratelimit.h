/*
 * Endpoint-specific rate limits shared by every gateway instance through
 * Redis.  A class (config "rate_limits:") allows <limit> requests per
 * <period> from one client address (IPv6 by /64 by default), and for the
 * sign-in classes also per target account, so credential stuffing against
 * one account from many addresses is slowed too.
 *
 * Counting: GCRA (the generic cell rate algorithm) in one Lua script on
 * Redis' clock, over one or two keys at once (address, account): a request
 * is admitted only if every key admits it, and only then is it counted.
 * GCRA keeps one timestamp per key (no per-request entries as a sliding
 * log would), spreads the limit evenly (no burst of 2x at a fixed window's
 * edge) and allows a burst of up to <limit> from idle.  Keys expire when
 * idle.
 */
#ifndef POSTERN_RATELIMIT_H
#define POSTERN_RATELIMIT_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"

struct client;
struct config;

#define RATELIMIT_NAMEMAX	32

/* One class of the configuration. */
struct ratelimit_class {
	char		 name[RATELIMIT_NAMEMAX + 1];
	uint64_t	 limit;		/* requests per period, per address */
	uint64_t	 period;	/* ms */
	uint64_t	 account_limit;	/* per target account; 0: not kept */
	int		 fail_open;	/* Redis down: admit (else 503) */
};

/* The class <name> of <cfg>, or NULL (then nothing is limited). */
const struct ratelimit_class *ratelimit_class(const struct config *cfg,
		    const char *name);

/*
 * The address <clt>'s requests are counted under, into <out>: the peer,
 * or with a trusted proxy the last address of X-Forwarded-For; IPv6
 * masked to cfg->ratelimit_v6_prefix bits.  0, or -1 if none.
 */
int	ratelimit_client_key(const struct client *clt, char *out, size_t size);

/*
 * Count one request of class <c> from address <addr> (and for account
 * <account>, lower-cased, if the class keeps accounts; may be NULL).  The
 * reply given to <cb> is an integer: 0 admitted, or the milliseconds until
 * one more request would be.  Contract of store_eval().
 */
int	ratelimit_take(struct store *st, const struct ratelimit_class *c,
	    const char *addr, const char *account, store_cb cb, void *arg);

/*
 * Answer <clt> 429 for class <c>: Retry-After from <retry_ms>, an HTML
 * page for browsers, JSON otherwise; logged with reason "rate_limit".
 */
void	ratelimit_refuse(struct client *clt, const struct ratelimit_class *c,
	    uint64_t retry_ms);

#endif
