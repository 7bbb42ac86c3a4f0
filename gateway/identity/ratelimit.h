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
 *
 * Local shedding: when Redis refuses a client, it says how long until one
 * more request could be admitted; each worker remembers that deadline for
 * the exact (class, address, account) and refuses the same client's
 * requests until then without asking Redis (nothing can be admitted
 * before it: GCRA's state only moves later).  A flood from one client then
 * costs Redis about one script per emission interval per worker instead of
 * one per request, and its lockout is audited once per refusal by Redis.
 */
#ifndef POSTERN_RATELIMIT_H
#define POSTERN_RATELIMIT_H

#include <stddef.h>
#include <stdint.h>

#include "confratelimit.h"
#include "store.h"

struct exchange;
struct config;

/* The class <name> of <cfg>, or NULL (then nothing is limited). */
const struct ratelimit_class *ratelimit_class(const struct config *cfg,
		    const char *name);

/*
 * The client's address into <out>: the peer, or with a trusted proxy the
 * last address of X-Forwarded-For, whole (IPv6 in its canonical text; for
 * the audit trail and the user's notices).  0, or -1 if none.
 */
int	ratelimit_client_addr(const struct exchange *ex, char *out, size_t size);

/*
 * The address <ex>'s requests are counted under, into <out>: the peer,
 * or with a trusted proxy the last address of X-Forwarded-For; IPv6
 * masked to cfg->ratelimit_v6_prefix bits.  0, or -1 if none.
 */
int	ratelimit_client_key(const struct exchange *ex, char *out, size_t size);

/*
 * Count one request of class <c> from address <addr> (and for account
 * <account>, lower-cased, if the class keeps accounts; may be NULL).  The
 * reply given to <cb> is an integer: 0 admitted, or the milliseconds until
 * one more request would be.  Contract of store_eval().
 */
int	ratelimit_take(struct store *st, const struct ratelimit_class *c,
	    const char *addr, const char *account, store_cb cb, void *arg);

/* A worker's memory of Redis' refusals (one per worker, not shared). */
struct ratelimit_shed;
struct ratelimit_shed_id {
	unsigned char	 id[16];	/* keyed hash of class, address, account */
	size_t		 slot;
};

struct ratelimit_shed *ratelimit_shed_new(void);
void	ratelimit_shed_free(struct ratelimit_shed *);
/* The identity of a check of class <c>, as ratelimit_take() keys it. */
void	ratelimit_shed_key(const struct ratelimit_shed *,
	    const struct ratelimit_class *c, const char *addr,
	    const char *account, struct ratelimit_shed_id *out);
/* Milliseconds left of a refusal remembered for <k> at <now_ms>, or 0. */
uint64_t ratelimit_shed_left(const struct ratelimit_shed *,
	    const struct ratelimit_shed_id *k, uint64_t now_ms);
/* Remember that Redis admits nothing for <k> before <until_ms>. */
void	ratelimit_shed_note(struct ratelimit_shed *,
	    const struct ratelimit_shed_id *k, uint64_t until_ms);

/*
 * Count a refusal of <ex> by class <c> (metrics) and log its event
 * (unless <shed>), for a caller that answers it itself.
 */
void	ratelimit_note(struct exchange *ex, const struct ratelimit_class *c,
	    int shed);
/*
 * Answer <ex> 429 for class <c>: Retry-After from <retry_ms>, an HTML
 * page for browsers, JSON otherwise; logged with reason "rate_limit" (and
 * an event naming the class, unless <shed>: a flood logs one line per
 * request, not two).
 */
void	ratelimit_refuse(struct exchange *ex, const struct ratelimit_class *c,
	    uint64_t retry_ms, int shed);

#endif
