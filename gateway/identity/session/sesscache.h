/*
 * A worker's cache of sessions, so that a signed-in request needs no Redis
 * round trip.  It holds what a request needs of a session (session.h's
 * struct session: user, email, memberships, second factor, times) and the
 * assertions signed for it, keyed by the session's hash.
 *
 * Coherence: the store reports every change of a key under "session:" and
 * "user:" made by any client (store_track(): Redis client-side caching in
 * broadcast mode); each report drops the entries it concerns (a session's
 * key: that session; any key of a user: every session of the user).  When
 * the store cannot vouch for the reports (tracking not in force, a
 * connection lost, FLUSHDB), the cache is flushed and every lookup goes to
 * Redis until tracking is back: never a stale answer.
 *
 * The race a second socket brings: a change made after our read may be
 * reported before the read's reply arrives.  A lookup therefore takes a
 * ticket when it is sent (the tracking period and the report count), and
 * its reply is cached only if the period is unchanged and no report since
 * concerns that session or its user (the last SESSCACHE_RING reports are
 * remembered; more than that since the ticket: not cached).
 *
 * Expiry: an entry is served until the session's expiry in Redis as the
 * lookup saw it (idle timeout and absolute lifetime), and only until its
 * idle timeout is due to be slid again (session.h: at most once per
 * tenth of the idle timeout): then the lookup goes to Redis, which slides
 * it.  Bounded in size: the least recently used entry makes room.
 */
#ifndef POSTERN_SESSCACHE_H
#define POSTERN_SESSCACHE_H

#include <stddef.h>
#include <stdint.h>

struct metrics;
struct rcstr;
struct session;
struct sesscache;

#define SESSCACHE_RING		256	/* reports remembered for tickets */
#define SESSCACHE_JWTS		4	/* assertions kept per session */
#define SESSCACHE_SCOPEMAX	300
#define SESSCACHE_MEMO		512	/* cookie ids whose hash is kept */

/* What a lookup sent to Redis carries until its reply (see above). */
struct sesscache_ticket {
	uint64_t	epoch;		/* tracking period; 0: not cacheable */
	uint64_t	seq;		/* reports seen when sent */
	int64_t		sent_ms;	/* when sent (Unix ms) */
};

/*
 * A cache of at most <max> sessions counting into <m> (NULL: none).
 * <max> 0 gives a cache that holds nothing.  NULL on out of memory.
 */
struct sesscache *sesscache_new(size_t max, struct metrics *m);
void		 sesscache_free(struct sesscache *);

/*
 * The cached session stored under <hash> for a request of <scope> at
 * <now_ms> while tracking period <epoch> is in force, or NULL (a miss:
 * none, another scope, tracking off, expired, or its idle timeout due to
 * be slid).  The pointer is valid until the next call into the cache.
 */
const struct session *sesscache_get(struct sesscache *, const char *hash,
		    const char *scope, uint64_t epoch, int64_t now_ms);
/*
 * The hash of session cookie id <id> into <hash> (SESSION_HASH_LEN + 1
 * bytes): session_hash(), remembered for the last SESSCACHE_MEMO ids
 * (one place per id, picked by its first characters; compared in
 * constant time), so that a browser's or a client's next request with the
 * same cookie costs no SHA-256.  Pure: never stale, whatever the
 * session's state; the ids are wiped with the cache.  A NULL cache
 * remembers nothing.
 */
void		 sesscache_id_hash(struct sesscache *, const char *id,
		    char *hash);
/* A lookup is being sent to Redis at <now_ms> in period <epoch>. */
void		 sesscache_ticket(struct sesscache *, uint64_t epoch,
		    int64_t now_ms, struct sesscache_ticket *);
/*
 * The lookup of ticket <t> found session <s> valid in <scope>, its Redis
 * key expiring <pttl_ms> after the lookup and due to be slid again
 * <touch_ms> after it; cache it if nothing may have changed since (see
 * above) and the period is still <epoch>.  1 if cached, else 0.
 */
int		 sesscache_put(struct sesscache *, const struct sesscache_ticket *t,
		    uint64_t epoch, const struct session *s, const char *scope,
		    int64_t pttl_ms, int64_t touch_ms);

/*
 * The key named <name> (<len> bytes, without the store's prefix) changed:
 * drop what it concerns.  Keys of no interest are ignored.
 */
void		 sesscache_invalidate(struct sesscache *, const char *name,
		    size_t len);
/* Drop the session stored under <hash> (this worker ended it). */
void		 sesscache_drop(struct sesscache *, const char *hash);
/* Drop everything (tracking stopped or restarted). */
void		 sesscache_flush(struct sesscache *);
size_t		 sesscache_count(const struct sesscache *);

/*
 * API keys and share links (grant.h), cached by their key's name
 * ("apikey:<id>", "share:<id>"; SESSCACHE_GRANTMAX bytes at most) with
 * the stored hash of their secret, coherent in the same way: a report
 * of any key under that name drops it.  sesscache_grant_get() copies a
 * cached one into <g> and <hash> (TOKEN_HASHLEN + 1 bytes) and returns 1,
 * else 0; sesscache_grant_put() caches one that the lookup of ticket <t>
 * found (1 if cached).  Reports of grants must be asked for
 * ("apikey:", "share:").
 */
#define SESSCACHE_GRANTMAX	32
struct grant;
int		 sesscache_grant_get(struct sesscache *, const char *name,
		    uint64_t epoch, struct grant *g, char *hash);
int		 sesscache_grant_put(struct sesscache *,
		    const struct sesscache_ticket *t, uint64_t epoch,
		    const char *name, const struct grant *g, const char *hash);

/*
 * Assertions: the one signed for the session under <hash> with key
 * <akey> (a string naming everything the assertion depends on besides the
 * session: app, org, role, signing key, issuer, lifetime), with a new
 * reference, if it was signed at most <reuse_s> seconds before <now>;
 * else NULL.
 */
struct rcstr	*sesscache_jwt_get(struct sesscache *, const char *hash,
		    const char *akey, int64_t now, int64_t reuse_s);
/*
 * Keep <jwt> (a new reference is taken), signed at <iat>, for the session
 * under <hash> if it is cached, replacing the oldest when all
 * SESSCACHE_JWTS places are taken.
 */
void		 sesscache_jwt_put(struct sesscache *, const char *hash,
		    const char *akey, struct rcstr *jwt, int64_t iat);

#endif
