/*
 * Grants: the bearer credentials that are not sessions.  An API key
 * (token "pk_<id>_<secret>", see token.h) lets a machine of one org call
 * routes that accept `apikey`, within its scopes; a share link (token
 * "ps_<id>_<secret>") opens exactly one resource of one app (a path, or a
 * path and below, for some methods) to whoever holds the link.
 *
 * Key layout in Redis (every key starts with redis.prefix):
 *
 *   apikey:<id>      hash   hash (hex SHA-256 of the secret), org,
 *                           scopes (space-separated), name, rate,
 *                           created, expires (0: never), last_used
 *   apikeys          set    every API key id (`postern apikey list`)
 *   share:<id>       hash   hash, org ("" if none), app, path, prefix
 *                           ("0"|"1"), methods ("GET,HEAD"), name, rate,
 *                           created, expires, last_used; the key itself
 *                           expires with the grant
 *   shares           set    every share id (stale ids are dropped by list)
 *   grantrl:<kind>:<id>  string the rate limiter's state (GCRA: the
 *                           theoretical arrival time, in milliseconds)
 *
 * Every use is checked against Redis or the worker's cache, which Redis
 * keeps coherent (sesscache.h), so a revocation takes effect at once on
 * every gateway instance.  Every use also passes
 * the grant's own rate limit: <rate> requests per minute, in bursts of at
 * most <rate>.
 */
#ifndef POSTERN_GRANT_H
#define POSTERN_GRANT_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"
#include "token.h"

struct sesscache;
struct store;
struct store_sync;

/* The layouts above that other modules' scripts name (org rename). */
#define GRANT_LAYOUT_APIKEY	STORE_LAYOUT("apikey:<id>")
#define GRANT_LAYOUT_APIKEYS	STORE_LAYOUT("apikeys")
#define GRANT_LAYOUT_SHARE	STORE_LAYOUT("share:<id>")
#define GRANT_LAYOUT_SHARES	STORE_LAYOUT("shares")

#define GRANT_MAXSCOPES		16
#define GRANT_SCOPEMAX		63
#define GRANT_NAMEMAX		100
#define GRANT_PATHMAX		1024
#define GRANT_SLUGMAX		63
#define GRANT_RATE_MAX		100000	/* per minute */
#define GRANT_APIKEY_RATE	600	/* default, per minute */
#define GRANT_SHARE_RATE	120

enum grant_kind {
	GRANT_APIKEY = 0,
	GRANT_SHARE,
};

enum grant_status {
	GRANT_OK = 0,
	GRANT_NONE,		/* unknown, wrong secret, expired, revoked */
	GRANT_LIMITED,		/* over its rate limit: retry later */
	GRANT_ERROR,		/* Redis unavailable or failed: fail closed */
};

/* One grant as stored (plain arrays: copyable with memcpy). */
struct grant {
	enum grant_kind	 kind;
	char		 id[TOKEN_IDLEN + 1];
	char		 org[GRANT_SLUGMAX + 1];	/* "" if none */
	char		 name[GRANT_NAMEMAX + 1];
	unsigned int	 rate;		/* requests per minute */
	int64_t		 created;	/* Unix seconds */
	int64_t		 expires;	/* Unix seconds; 0: never */
	int64_t		 last_used;	/* Unix seconds; 0: never */
	/* API keys */
	char		 scopes[GRANT_MAXSCOPES][GRANT_SCOPEMAX + 1];
	size_t		 nscopes;
	/* share links */
	char		 app[64];
	char		 path[GRANT_PATHMAX + 1];	/* normalised */
	int		 prefix;	/* path and below */
	unsigned int	 methods;	/* ROUTE_M_* bits */
};

/* "pk" or "ps". */
const char	*grant_token_kind(enum grant_kind);
/* "apikey" or "share". */
const char	*grant_kind_name(enum grant_kind);

/* 0 if <s> is a scope: 1 to 63 of [a-z0-9:_.-]. */
int	grant_scope_valid(const char *s);
/*
 * 0 if <s> can be a share's path: absolute, already normalised (as
 * path_normalize() would leave it) and of characters that need no
 * quoting in a URL or a cookie's Path attribute.
 */
int	grant_path_valid(const char *s);
/* "GET,HEAD" into ROUTE_M_* bits; 0 if any name is unknown or none. */
unsigned int grant_methods_parse(const char *s);
/* The methods of <g> as "GET,HEAD" into <buf>. */
void	grant_methods_string(unsigned int methods, char *buf, size_t size);

typedef void	(*grant_check_cb)(void *arg, enum grant_status,
		    const struct grant *, unsigned int retry_ms);

/*
 * Check a presented token (already split by token_parse() into <id> and
 * the <hash> of its secret) of <kind> at <now>: the grant must exist, the
 * hash match (constant time), the grant not have expired, and its rate
 * limit admit one more request (which is counted, and last_used set).
 * <cb> gets the grant only with GRANT_OK.  Returns 0 (<cb> will run
 * exactly once, maybe before this returns: a grant in the worker's cache
 * <sc> (NULL: none) is checked without asking Redis for it, and a wrong
 * secret is refused at once) or -1 (Redis unavailable: <cb> will not
 * run).
 */
int	grant_check(struct store *st, struct sesscache *sc,
	    enum grant_kind kind, const char *id, const char *hash,
	    int64_t now, grant_check_cb cb, void *arg);

typedef void	(*grant_done_cb)(void *arg, int result);

/*
 * Store the new grant <g> whose secret hashes to <hash>.  The result is
 * 0, GRANT_ENOORG (its org does not exist) or -1 (Redis failed).
 * Asynchronous form: contract as grant_check().
 */
#define GRANT_ENOORG	-2
int	grant_create(struct store *st, const struct grant *g,
	    const char *hash, grant_done_cb cb, void *arg);
int	grant_create_sync(struct store_sync *ss, const struct grant *g,
	    const char *hash, char *err, size_t errlen);

/* Delete grant <id>: 0 done, GRANT_ENOENT none, -1 error in <err>. */
#define GRANT_ENOENT	-3
int	grant_revoke_sync(struct store_sync *ss, enum grant_kind kind,
	    const char *id, char *err, size_t errlen);
/* Read grant <id> into <g>: 0, GRANT_ENOENT, or -1 with <err>. */
int	grant_get_sync(struct store_sync *ss, enum grant_kind kind,
	    const char *id, struct grant *g, char *err, size_t errlen);

typedef void	(*grant_list_fn)(const struct grant *, void *arg);
/* Call <fn> for every grant of <kind>, oldest first. */
int	grant_list_sync(struct store_sync *ss, enum grant_kind kind,
	    grant_list_fn fn, void *arg, char *err, size_t errlen);

#endif
