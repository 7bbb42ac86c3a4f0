/*
 * Users, organisations and memberships in Redis: the key layout (below and
 * docs/redis.md), input checks (email, slug, role), and the operations of
 * the command-line tools.  Every write touching several keys is one Lua
 * script, so Redis never holds half of an operation.
 *
 * Key layout (every key starts with redis.prefix, default "postern:"; the
 * names are the USER_LAYOUT_* below, made only by user_key() in C and by
 * key() in Lua, see STORE_LUA_KEY):
 *
 *   user:<id>             hash   email, name, password (PHC string),
 *                                disabled ("0"|"1"), created,
 *                                password_changed, last_login (Unix
 *                                seconds; set by each new session)
 *   email:<email>         string user id; the unique index of lower-cased
 *                                email addresses
 *   users                 set    every user id (for `user list`)
 *   user:<id>:orgs        hash   org slug -> role
 *   user:<id>:sessions    set    session hashes (hex SHA-256 of a cookie
 *                                id) of that user: "revoke all"
 *   session:<sha256hex>   hash   one session (session.c)
 *   org:<slug>            hash   name, created
 *   orgs                  set    every org slug
 *   org:<slug>:members    hash   user id -> role
 *   users:deleted         set    tombstones: the id of every deleted user,
 *                                never given to a new one (useradmin.h)
 *
 * <id> is 128 random bits as 32 lower-case hex digits; roles are the
 * rungs of the config's ladder (default owner > admin > member > viewer).
 * Several scripts derive user:, session: and org: keys from values they
 * read (STORE_LAYOUT_SCRIPT), so Postern needs one Redis (or a
 * Sentinel-managed primary), not Redis Cluster.  API keys and share
 * links: grant.h.
 */
#ifndef POSTERN_USER_H
#define POSTERN_USER_H

#include <stddef.h>
#include <stdint.h>

#include "acctstore.h"
#include "session.h"
#include "store.h"

struct config;
struct password_params;
struct store_sync;

#define USER_IDLEN	32	/* hex digits */
#define USER_EMAILMAX	254	/* RFC 5321 path limit */
#define USER_NAMEMAX	200	/* bytes of a display name */
#define USER_SLUGMAX	63

/* The layouts above, in the order of enum user_key. */
#define USER_LAYOUT_USER		STORE_LAYOUT("user:<id>")
#define USER_LAYOUT_EMAIL		STORE_LAYOUT("email:<email>")
#define USER_LAYOUT_USERS		STORE_LAYOUT("users")
#define USER_LAYOUT_USER_ORGS		STORE_LAYOUT("user:<id>:orgs")
#define USER_LAYOUT_USER_SESSIONS	STORE_LAYOUT("user:<id>:sessions")
#define USER_LAYOUT_SESSION		STORE_LAYOUT("session:<sha256hex>")
#define USER_LAYOUT_ORG			STORE_LAYOUT("org:<slug>")
#define USER_LAYOUT_ORGS		STORE_LAYOUT("orgs")
#define USER_LAYOUT_ORG_MEMBERS		STORE_LAYOUT("org:<slug>:members")
#define USER_LAYOUT_DELETED		STORE_LAYOUT("users:deleted")

enum user_key {
	USER_KEY_USER = 0,	/* arg: id */
	USER_KEY_EMAIL,		/* arg: lower-cased email */
	USER_KEY_USERS,		/* arg: unused */
	USER_KEY_USER_ORGS,	/* arg: id */
	USER_KEY_USER_SESSIONS,	/* arg: id */
	USER_KEY_SESSION,	/* arg: hex SHA-256 of the cookie id */
	USER_KEY_ORG,		/* arg: slug */
	USER_KEY_ORGS,		/* arg: unused */
	USER_KEY_ORG_MEMBERS,	/* arg: slug */
	USER_KEY_DELETED,	/* arg: unused */
};

/* Results of the operations besides 0 (done) and -1 (error in <err>). */
#define USER_EXISTS	-2	/* email or slug taken */
#define USER_NOTFOUND	-3	/* no such user (or org) */

/*
 * Write the name of key <kind> for <arg> under <prefix> into <buf>.
 * Returns its length, or -1 if <buf> is too small.
 */
int	user_key(char *buf, size_t size, const char *prefix,
	    enum user_key kind, const char *arg);

/*
 * Lower-case and check an email address <in> into <out> (USER_EMAILMAX + 1
 * bytes).  Returns 0, or -1 with a reason in <why>.
 */
int	user_email_normalize(const char *in, char *out, char *why,
	    size_t whylen);
/* 0 if <s> is a valid org slug ([a-z0-9][a-z0-9-]*, at most 63). */
int	user_slug_valid(const char *s);
/* 0 if <s> is a rung of the role ladder <roles> (config "roles:"). */
int	user_role_valid(char *const *roles, size_t nroles, const char *s);
/* 0 if <s> is an acceptable display name (UTF-8, no control chars). */
int	user_name_valid(const char *s);
/* A new random id into <out> (USER_IDLEN + 1 bytes); 0 or -1. */
int	user_new_id(char *out);
/*
 * Lua for a STORE_LAYOUT_SCRIPT: revoke(id) deletes every session of user
 * <id> listed in its index, then the index, and the user's outstanding
 * emailed links; returns how many sessions.
 */
#define USER_LUA_REVOKE							\
	ACCTSTORE_LUA_DROP_LINKS					\
	"local function revoke(id)\n"					\
	"  drop_links(id)\n"						\
	"  local idx = key('" USER_LAYOUT_USER_SESSIONS "', id)\n"	\
	"  local hs = redis.call('SMEMBERS', idx)\n"			\
	"  for _, h in ipairs(hs) do\n"					\
	"    redis.call('DEL', key('" USER_LAYOUT_SESSION "', h))\n"	\
	"  end\n"							\
	"  redis.call('DEL', idx)\n"					\
	"  return #hs\n"						\
	"end\n"

/*
 * Run <script> with the <argc> argument strings <argv> (<nkeys> of them
 * keys) on <ss>; its integer reply in *<out>.  0, or -1 with <err> set.
 */
int	user_eval(struct store_sync *ss, struct store_script *script,
	    int nkeys, int argc, const char **argv, long long *out, char *err,
	    size_t errlen);
/*
 * Run a per-user script on KEYS = {email index of <email>}, ARGV =
 * {prefix, <a2>, <a3>} (NULLs left out): 0 and its integer in *<count>
 * (may be NULL), USER_NOTFOUND when it is negative, or -1.
 */
int	user_by_email(struct store_sync *ss, struct store_script *script,
	    const char *email, const char *a2, const char *a3, long *count,
	    char *err, size_t errlen);
/* The argon2id cost of new password hashes under <cfg> (passwords:). */
void	user_password_params(const struct config *cfg,
	    struct password_params *p);

/* One row of user_list(). */
struct user_info {
	char	*id;
	char	*email;
	char	*name;
	int	 disabled;
	int64_t	 created;
	char	*orgs;		/* "slug:role,slug:role" or "" */
};
typedef void	(*user_list_fn)(const struct user_info *, void *arg);

/*
 * Operations of the command-line tools on <ss>; <email> is normalised.
 * Each returns 0, USER_EXISTS, USER_NOTFOUND, or -1 with <err> set.
 * <phc> is a hash made by password_hash().  Functions that revoke
 * sessions report how many through <nrevoked> (may be NULL).
 */
int	user_add(struct store_sync *ss, const char *email, const char *name,
	    const char *phc, char *id, char *err, size_t errlen);
int	user_set_password(struct store_sync *ss, const char *email,
	    const char *phc, long *nrevoked, char *err, size_t errlen);
int	user_set_disabled(struct store_sync *ss, const char *email,
	    int disabled, long *nrevoked, char *err, size_t errlen);
/* Delete every session of every user, in one script; count in *<n>. */
int	user_revoke_all(struct store_sync *ss, long *n, char *err,
	    size_t errlen);
int	user_revoke_sessions(struct store_sync *ss, const char *email,
	    long *nrevoked, char *err, size_t errlen);
/* Call <fn> for every user, sorted by email. */
int	user_list(struct store_sync *ss, user_list_fn fn, void *arg,
	    char *err, size_t errlen);

int	user_org_add(struct store_sync *ss, const char *slug,
	    const char *name, char *err, size_t errlen);
/* A user's id, state and memberships, as a session would see them. */
struct user_membership {
	char			id[USER_IDLEN + 1];
	int			disabled;
	struct session_org	orgs[SESSION_MAX_ORGS];
	size_t			norgs;
};
/* Read <email>'s into <m>: 0, USER_NOTFOUND, or -1 with <err>. */
int	user_memberships(struct store_sync *ss, const char *email,
	    struct user_membership *m, char *err, size_t errlen);

/* <role> NULL removes the membership. */
int	user_org_member(struct store_sync *ss, const char *slug,
	    const char *email, const char *role, char *err, size_t errlen);

#endif
