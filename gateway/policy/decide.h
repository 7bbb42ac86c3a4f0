/*
 * The access decision: a pure function of the normalised request, the
 * identity the gateway established for it and the app's compiled routes.
 * No I/O, no globals, no allocation: the request path, `postern policy
 * test` and the unit tests all call decide() the same way.
 *
 * Wiring (the request path): after path normalisation and the app lookup,
 *   1. decide() with id.kind = DECIDE_NONE;  if the verdict is LOGIN and
 *      the request carries credentials, look them up (session, API key,
 *      share token: the route's out->auth says which are accepted),
 *   2. fill a struct decide_identity from what was found and call
 *      decide() again; answer by the verdict.
 * The identity's strings are only borrowed for the duration of the call
 * (out->role points into it).
 */
#ifndef POSTERN_DECIDE_H
#define POSTERN_DECIDE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "confapp.h"

struct route;

/* A membership as policy reads it: the org's slug and the role in it. */
struct session_org {
	char	slug[64];
	char	role[16];
};

enum decide_verdict {
	DECIDE_ALLOW = 0,
	DECIDE_LOGIN,		/* 401, or a redirect to /.postern/login */
	DECIDE_DENY,		/* 403 */
	DECIDE_NOT_FOUND,	/* 404: the tenant cannot be resolved */
	DECIDE_STEP_UP,		/* redirect to /.postern/reauth */
	DECIDE_MFA,		/* redirect to /.postern/2fa */
};

enum decide_kind {
	DECIDE_NONE = 0,	/* anonymous */
	DECIDE_SESSION,
	DECIDE_APIKEY,
	DECIDE_SHARE,
};

/* The request as policy sees it. */
struct decide_request {
	const char	*method;	/* "GET", ... */
	const char	*path;		/* path_normalize()d, no query */
	const char	*host;		/* lower-case, no port */
	const char	*tenant;	/* a custom domain's org, or NULL */
};

/*
 * Who made the request.  Sessions use user, email, orgs, mfa and
 * auth_time; API keys key_org and scopes; share grants key_org (the org
 * of the shared resource, or NULL) and share_*.  Strings are borrowed.
 */
struct decide_identity {
	enum decide_kind	 kind;
	const char		*user;		/* user id, or key/share id */
	const char		*email;
	const struct session_org *orgs;	/* memberships (slug, role) */
	size_t			 norgs;
	int			 mfa;
	int64_t			 auth_time;	/* Unix seconds */
	const char *const	*scopes;
	size_t			 nscopes;
	const char		*key_org;
	const char		*share_app;	/* the app the grant opens */
	const char		*share_path;	/* normalised path granted */
	int			 share_prefix;	/* share_path and below */
	unsigned int		 share_methods;	/* ROUTE_M_* bits */
};

/* What decide() found.  Pointers refer to the app or the identity. */
struct decision {
	enum decide_verdict	 verdict;
	const char		*reason;	/* stable code, see decide.c */
	const struct route	*route;		/* NULL: no route applied */
	const char		*file;		/* the rule's policy file */
	size_t			 line;		/* its line; 0: none */
	char			 tenant[64];	/* "" if none */
	const char		*role;		/* identity's role in tenant */
	unsigned int		 auth;		/* accepted ROUTE_AUTH_* */
	const char		*rate_limit;	/* class, or NULL */
};

/*
 * Decide <req> by <id> against <app> at time <now>.  Fills <out> and
 * returns out->verdict.  An app without routes keeps the plain protect
 * rule: ALLOW if protect is false or the identity is a session, else
 * LOGIN.
 */
enum decide_verdict	decide(const struct config_app *app,
			    const struct decide_request *req,
			    const struct decide_identity *id, time_t now,
			    struct decision *out);

/*
 * May share grant <id> be created?  For every method of the grant, a
 * request for its path on <host> (a host of <app>) must be allowed by
 * <app>'s routes with <id>: so a grant never opens more than the policy
 * lets share links open, and never a resource of another tenant.
 * Returns DECIDE_ALLOW, or the first refusal (in <out>).
 */
enum decide_verdict	decide_shareable(const struct config_app *app,
			    const char *host, const struct decide_identity *id,
			    time_t now, struct decision *out);

/* "allow", "login", "deny", "not_found", "step_up", "mfa". */
const char	*decide_verdict_name(enum decide_verdict);
/* The verdict named <s>; -1 if none. */
int		 decide_verdict_parse(const char *s);
/* The HTTP status of a verdict (200, 401, 403, 404, 302). */
int		 decide_status(enum decide_verdict);

#endif
