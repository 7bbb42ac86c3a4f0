/*
 * Sessions in Redis.  The browser holds a 256-bit random id (base64url, in
 * the __Host-postern cookie); Redis holds the session under the SHA-256 of
 * that id, so a dump of Redis yields no usable cookie.  Lookups on the
 * request path go through the worker's cache (sesscache.h), which Redis
 * keeps coherent: revocation by logout, password change, `user disable`
 * or `user revoke-sessions` takes effect at once on every gateway
 * instance sharing the Redis.
 *
 * Expiry: the Redis TTL is the idle timeout, renewed by a lookup but never
 * beyond the absolute lifetime counted from creation.  A lookup renews it
 * only when the last renewal is a tenth of the idle timeout old
 * (SESSION_TOUCH_DIV) or more, so a session in use costs one Redis write
 * per tenth of its idle timeout, not one per request: a session is ended
 * by Redis between 0.9 and 1.0 idle timeouts after its last use.
 *
 * Scope: a session belongs to the hosts its cookie was issued for (the
 * shared cookie domain, or one app's hosts); a lookup names the scope of
 * the request's host and a session of another scope is no session.
 *
 * Privilege: every change of what a session may do (second factor
 * passed, password entered again, a role added or changed) gives it a new
 * id through session_rotate(); the old id is gone in the same Redis step.
 * A lookup shows only the memberships of the snapshot taken at creation
 * or at the last rotation (less if some were removed since).
 */
#ifndef POSTERN_SESSION_H
#define POSTERN_SESSION_H

#include <stddef.h>
#include <stdint.h>

#include "decide.h"
#include "store.h"

struct store;

#define SESSION_COOKIE		"__Host-postern"
#define SESSION_COOKIE_SSO	"__Secure-postern"
#define SESSION_ID_LEN		43	/* base64url of 32 random bytes */
#define SESSION_HASH_LEN	64	/* hex SHA-256 of the id */
#define SESSION_MAX_ORGS	16
#define SESSION_TOUCH_DIV	10	/* idle timeout / this: slide period */
#define SESSION_DEVICES_MAX	20	/* browsers remembered per user */
#define SESSION_DEVICES_TTL	(400 * 86400)	/* seconds, from the last */

/*
 * The browsers a user signed in with (docs/redis.md): a sorted set of the
 * hex SHA-256 of each browser's device id (device.h), scored by the last
 * sign-in (Unix seconds), at most SESSION_DEVICES_MAX (the oldest go),
 * gone SESSION_DEVICES_TTL after the last sign-in.  Written by
 * session_create() in the same step as the session.
 */
#define SESSION_LAYOUT_DEVICES	STORE_LAYOUT("user:<id>:devices")

enum session_status {
	SESSION_OK = 0,
	SESSION_NONE,		/* no such session, expired, user disabled */
	SESSION_ERROR,		/* Redis unavailable or failed: fail closed */
};

/* A valid session as a lookup found it (user data read fresh). */
struct session {
	char		user[33];	/* user id */
	char		email[255];
	char		method[40];	/* how the user signed in: password,
					 * magic, sso:<provider> */
	int		mfa;		/* second factor passed */
	int		mfa_enrolled;	/* the user has a second factor */
	char		hash[SESSION_HASH_LEN + 1];	/* its Redis key */
	int64_t		created;	/* Unix seconds */
	int64_t		auth_time;	/* last primary authentication */
	struct session_org orgs[SESSION_MAX_ORGS];	/* of its snapshot */
	size_t		norgs;
	int		orgs_pending;	/* a membership was added or changed
					 * since: it waits for a rotation */
	int64_t		touched_ago_ms;	/* since the idle timeout slid */
	int64_t		pttl_ms;	/* until Redis expires it */
};

/*
 * Where a new session comes from: kept with it for the account page, and
 * the browser remembered for the new-device notice.  Owned by the
 * caller's flow state, which outlives the create's callback.
 */
struct session_origin {
	const char	*ip;		/* client address, or "" */
	const char	*ua;		/* User-Agent, uagent_clean()ed, or "" */
	const char	*device;	/* hex SHA-256 of the browser's device
					 * id, or NULL: none remembered */
	int		 seen;		/* set before the callback runs:
					 * SESSION_DEVICE_* */
};

enum session_device {
	SESSION_DEVICE_NONE = 0,	/* no device given */
	SESSION_DEVICE_KNOWN,		/* the user signed in with it before */
	SESSION_DEVICE_FIRST,		/* the user's first remembered one */
	SESSION_DEVICE_NEW,		/* new, and the user has others */
};

struct session_limits {
	uint64_t	idle_ms;	/* idle timeout */
	uint64_t	lifetime_s;	/* absolute lifetime */
	unsigned int	max_per_user;	/* 0: no limit; else oldest go */
};

typedef void	(*session_lookup_cb)(void *arg, enum session_status,
		    const struct session *);
typedef void	(*session_done_cb)(void *arg, enum session_status);
/* <user> is the id of the session's user when the status is SESSION_OK. */
typedef void	(*session_user_cb)(void *arg, enum session_status,
		    const char *user);

/* A new random cookie id (SESSION_ID_LEN + 1 bytes); 0 or -1. */
int	session_new_id(char *id, size_t idlen);
/* The hex SHA-256 of cookie id <id> (SESSION_HASH_LEN + 1 bytes). */
void	session_hash(const char *id, char *hex);
/* 1 if <id> has the shape of a cookie id (43 base64url characters). */
int	session_id_valid(const char *id);

/*
 * Create a session for user <user> with cookie id <id> at <now>, valid on
 * the hosts of <scope> (auth.c's scope of the request's host) and with a
 * snapshot of the user's memberships, its origin <from> (address,
 * User-Agent; its device is added to the user's devices and from->seen
 * set before <cb> runs).  <cb> gets SESSION_OK, SESSION_NONE
 * (the user vanished or was disabled since the password check) or
 * SESSION_ERROR.  Returns 0 (<cb> will run exactly once) or -1 (Redis
 * unavailable: <cb> will not run).
 */
int	session_create(struct store *st, const char *id, const char *user,
	    const char *method, int mfa, const char *scope, int64_t now,
	    const struct session_limits *lim, struct session_origin *from,
	    session_done_cb cb, void *arg);
/*
 * Look up and touch the session of cookie id <id>; one of another scope
 * than <scope> is SESSION_NONE (and is left alone).  Contract as above.
 */
int	session_lookup(struct store *st, const char *id, const char *scope,
	    int64_t now, const struct session_limits *lim,
	    session_lookup_cb cb, void *arg);
/* The same for the session stored under <hash> (an open tunnel's, whose
 * scope was checked when it opened: <scope> NULL checks none). */
int	session_lookup_hash(struct store *st, const char *hash,
	    const char *scope, int64_t now, const struct session_limits *lim,
	    session_lookup_cb cb, void *arg);
/*
 * A change of privilege for the session stored under <hash>: it moves to
 * the new cookie id <newid> (from session_new_id(); the caller sends its
 * Set-Cookie), <mfa> marking the second factor passed and a non-zero
 * <auth_time> a fresh password entry, with a new snapshot of the user's
 * memberships.  The old id is deleted in the same Redis step, on every
 * instance at once.  SESSION_NONE if the session (or its user) is gone;
 * contract as above.
 */
int	session_rotate(struct store *st, const char *hash, const char *newid,
	    int mfa, int64_t auth_time, session_done_cb cb, void *arg);
/*
 * Delete the session of cookie id <id> (logout) if it is of <scope>.
 * <cb> gets SESSION_OK with the id of the session's user, SESSION_NONE
 * when there was no such session (or it is of another scope, and stays),
 * or SESSION_ERROR; contract as above.
 */
int	session_destroy(struct store *st, const char *id, const char *scope,
	    session_user_cb cb, void *arg);

#endif
