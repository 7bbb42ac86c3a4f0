/*
 * The routes of an app (policy file "routes:") and the matcher compiled
 * from them.  policy.c reads each route into a struct route and hands it to
 * route_table_add(); route_table_compile() then checks the list as a whole
 * (roles against the ladder, tenant bindings, shadowed routes, public
 * routes under protected ones) and builds a trie by path segment.
 *
 * Matching cost.  A path of S segments walks at most S levels of the trie;
 * at each level the literal children are found by binary search over a
 * sorted array (O(log c) for c distinct literals at that level) and the one
 * "*"/"{name}" child and the "**" list are looked at too.  For literal-heavy
 * policies a match is therefore O(S log c), independent of the number of
 * routes; only wildcard fan-out (a literal and a "*" child both matching
 * at several levels) adds branches, at most 2^S in a pathological policy
 * and a handful in real ones.  Each node keeps its routes sorted by index,
 * so the method check stops at the first route that accepts the method.
 */
#ifndef POSTERN_ROUTE_H
#define POSTERN_ROUTE_H

#include <stddef.h>
#include <stdint.h>

#include "confaddr.h"

struct diag;

#define ROUTE_MAXSEGS	64	/* path segments matched; deeper: no match */
#define ROUTE_MAXPARAMS	8	/* "{name}" segments in one pattern */

/* Methods as bits; a request method outside the list is ROUTE_M_OTHER. */
#define ROUTE_M_GET	0x01u
#define ROUTE_M_HEAD	0x02u
#define ROUTE_M_POST	0x04u
#define ROUTE_M_PUT	0x08u
#define ROUTE_M_PATCH	0x10u
#define ROUTE_M_DELETE	0x20u
#define ROUTE_M_OPTIONS	0x40u
#define ROUTE_M_OTHER	0x80u
#define ROUTE_M_ALL	0xffu

/* Accepted kinds of credentials (route "auth:"). */
#define ROUTE_AUTH_SESSION	0x1u
#define ROUTE_AUTH_APIKEY	0x2u
#define ROUTE_AUTH_SHARE	0x4u

/* One "{name}" segment of a pattern. */
struct route_param {
	char		*name;		/* without braces; "org" is the tenant */
	size_t		 seg;		/* its segment index */
};

/*
 * One route as written.  Owned by its table (route_table_add() takes the
 * strings); read-only once compiled.
 */
struct route {
	char		*pattern;	/* path as written: /a/{id}/... */
	struct config_pos pos;		/* of the route's mapping */
	struct config_pos path_pos;	/* of its path value */
	unsigned int	 methods;	/* ROUTE_M_* bits; ROUTE_M_ALL: any */
	int		 is_public;	/* public: true */
	int		 authenticated;	/* authenticated: true (or implied) */
	char		*role;		/* minimum rung, or NULL */
	struct config_pos role_pos;
	int		 role_rank;	/* 0 = top of the ladder; set at compile */
	char		**users;	/* user ids */
	size_t		 nusers;
	char		**emails;	/* "a@x.y" or "@x.y" (a whole domain) */
	size_t		 nemails;
	unsigned int	 auth;		/* ROUTE_AUTH_* bits */
	char		**scopes;	/* all required of an API key */
	size_t		 nscopes;
	int		 mfa;		/* the session passed 2FA */
	uint64_t	 fresh_auth;	/* ms; 0: not required */
	char		*rate_limit;	/* class name, or NULL */
	struct route_param params[ROUTE_MAXPARAMS];
	size_t		 nparams;
	int		 org_seg;	/* segment of {org}, or -1 */
	int		 any_org;	/* any_org: API keys and share links
					 * of any org on a host without a
					 * tenant of an app with {org} hosts */
	struct config_pos key_pos[4];	/* public, authenticated, users,
					 * emails: for conflict messages */
};

#define ROUTE_POS_PUBLIC	0
#define ROUTE_POS_AUTHENTICATED	1
#define ROUTE_POS_USERS		2
#define ROUTE_POS_EMAILS	3

struct route_table;

/* How an app binds its tenant, for route_table_compile(). */
struct route_binding {
	int		 host_tenant;	/* a host is "{org}.example.com" */
	const char	*fixed_org;	/* app "org:", or NULL */
	int		 case_insensitive;	/* app paths: case_insensitive */
	const char *const *roles;	/* the ladder, highest first */
	size_t		 nroles;
	const char *const *rate_classes;	/* rate_limits.classes */
	size_t		 nrate_classes;
};

/* The result of route_match(). */
struct route_match {
	const struct route *route;	/* NULL: no route matches */
	size_t		 index;		/* of route in the table */
	const char	*seg[ROUTE_MAXSEGS];	/* into the matched path */
	size_t		 seglen[ROUTE_MAXSEGS];
	size_t		 nsegs;
};

/* Free what <r> holds (not <r>) and zero it; for routes never added. */
void		 route_clear(struct route *r);

/* An empty table, or NULL when out of memory. */
struct route_table	*route_table_new(void);
/* Free <t> and every route; NULL-safe. */
void		 route_table_free(struct route_table *t);
/*
 * Check pattern <s>: "/", literal segments, "*" (one segment), "{name}"
 * (one segment, captured) and a last "**" (any rest, none included); fill
 * r->params, r->org_seg.  Returns 0, or -1 with a reason in <err>.
 */
int		 route_pattern_parse(struct route *r, const char *s,
		    char *err, size_t errlen);
/*
 * Append <r> (its strings and arrays now belong to <t>; <r> itself is
 * copied).  Routes are matched in the order added.  0, or -1 when out of
 * memory (then <r> is left to the caller).
 */
int		 route_table_add(struct route_table *t, struct route *r);
/*
 * The rank of <role> on the ladder given to route_table_compile() (0 is the
 * highest rung), or -1 if it is not on the ladder.
 */
int		 route_table_rank(const struct route_table *t,
		    const char *role);
/* 1 if any route is not public (the app needs identities). */
int		 route_table_protects(const struct route_table *t);
/* Route <i> of <t> in the order written, or NULL past the last (and for
 * a NULL table). */
const struct route *route_table_route(const struct route_table *t,
		    size_t i);

/*
 * Check the routes as a whole against <b> and build the trie.  Errors and
 * warnings go to <d> as "<file>:line:col: ...".  Returns 0, or -1 if errors
 * were added (the table must then not be used for matching).
 */
int		 route_table_compile(struct route_table *t,
		    const struct route_binding *b, const char *file,
		    struct diag *d);

/*
 * Find the first route (lowest index) whose pattern matches the
 * normalised path <path> and whose methods accept <method>.  Segments are
 * compared up to a ';' (matrix parameters never change which route
 * applies) and a segment empty up to its ';' is skipped ("/;x/a" is "/a");
 * a trailing '/' is ignored.  Fills <m>; returns 0 if a route
 * matched, -1 otherwise.  No allocation; safe from any thread.
 */
int		 route_match(const struct route_table *t, const char *method,
		    const char *path, struct route_match *m);
/* The value of pattern parameter <name> of <m> into <buf>; 0 or -1. */
int		 route_param(const struct route_match *m, const char *name,
		    char *buf, size_t size);

/* The ROUTE_M_* bit of method <s> (ROUTE_M_OTHER if not a listed one). */
unsigned int	 route_method_bit(const char *s);

/*
 * Hosts with a tenant label.  <pattern> is "{org}.rest.of.name"; if <host>
 * is exactly one label followed by ".rest.of.name", copy that label into
 * <org> (<size> bytes) and return 1; else 0.
 */
int		 route_host_tenant(const char *pattern, const char *host,
		    char *org, size_t size);

#endif
