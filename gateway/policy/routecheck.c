/*
 * The checks of a route list as a whole (part of route.c, see
 * route-int.h): each route against the role ladder and the rate-limit
 * classes, routes that earlier ones shadow, public routes that would
 * expose a protected subtree; then the trie is built for matching.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "diag.h"
#include "route.h"
#include "route-int.h"

/* ---- whole-list checks ---- */

/*
 * Visit every route already in the trie whose pattern covers the whole of
 * <p> (matches every path <p> matches): "**" routes on the way, exact
 * routes at the end, through literal and parameter children.
 */
typedef void	(*route_cover_fn)(size_t idx, void *arg);

static void
route_covers(const struct route_table *t, const struct route_node *n,
    const struct route_pat *p, size_t k, route_cover_fn fn, void *arg)
{
	const struct route_node	*c;
	size_t			 i;

	for (i = 0; i < n->nrest; i++)
		fn(n->rest[i], arg);
	if (k == p->n) {
		for (i = 0; i < n->nexact; i++)
			fn(n->exact[i], arg);
		return;
	}
	if (p->kind[k] == SEG_REST)
		return;
	if (p->kind[k] == SEG_LIT && (c = route_kid_find(n, p->seg[k],
	    p->len[k], t->ci, NULL)) != NULL)
		route_covers(t, c, p, k + 1, fn, arg);
	if (n->param != NULL)
		route_covers(t, n->param, p, k + 1, fn, arg);
}

struct route_shadow {
	const struct route_table *t;
	size_t		 self;
	unsigned int	 methods;	/* union of the earlier coverers' */
	size_t		 first;		/* earliest coverer */
	size_t		 prot;		/* a protecting coverer, for warnings */
};

static void
route_on_shadow(size_t idx, void *arg)
{
	struct route_shadow	*s = arg;

	if (idx >= s->self)
		return;
	s->methods |= s->t->routes[idx].methods;
	if (idx < s->first)
		s->first = idx;
}

/* 1 if pattern <s> names a literal segment (it is not a catch-all). */
static int
route_has_literal(const char *s)
{
	struct route_pat	p;
	size_t			i;

	route_pat_split(s, &p);
	for (i = 0; i < p.n; i++)
		if (p.kind[i] == SEG_LIT)
			return 1;
	return 0;
}

/*
 * A protecting route that covers a public one.  Catch-alls (a path of
 * only wildcard segments) are left out: public exceptions before them are the usual
 * way to write a policy.
 */
static void
route_on_protect(size_t idx, void *arg)
{
	struct route_shadow	*s = arg;
	const struct route	*r = &s->t->routes[idx];

	if (idx != s->self && !r->is_public && route_has_literal(r->pattern) &&
	    (r->methods & s->t->routes[s->self].methods) && idx < s->prot)
		s->prot = idx;
}

/* Requirements that make no sense together, and tenant bindings. */
static void
route_check_one(struct route *r, const struct route_binding *b,
    const char *file, struct diag *d)
{
	size_t	i;
	int	wants_id = r->role != NULL || r->nusers > 0 || r->nemails > 0 ||
		    r->mfa || r->fresh_auth > 0 || r->nscopes > 0 ||
		    r->authenticated;

	if (r->is_public && wants_id)
		diag_error(d, file, r->key_pos[ROUTE_POS_PUBLIC].line,
		    r->key_pos[ROUTE_POS_PUBLIC].col, "route %s: public: true "
		    "conflicts with its other requirements (role, users, "
		    "emails, authenticated, mfa, fresh_auth, scopes)",
		    r->pattern);
	if (!r->is_public)
		r->authenticated = 1;
	if ((r->auth & ROUTE_AUTH_APIKEY) && r->nscopes == 0 && !r->is_public)
		diag_error(d, file, r->pos.line, r->pos.col, "route %s: auth "
		    "accepts apikey, so list the scopes a key needs (scopes: "
		    "[...])", r->pattern);
	if ((r->auth & (ROUTE_AUTH_APIKEY | ROUTE_AUTH_SHARE)) && (r->mfa ||
	    r->fresh_auth > 0 || r->nusers > 0 || r->nemails > 0))
		diag_error(d, file, r->pos.line, r->pos.col, "route %s: mfa, "
		    "fresh_auth, users and emails apply to sessions only; "
		    "accept apikey or share on a separate route", r->pattern);
	if (r->any_org && !(r->auth & (ROUTE_AUTH_APIKEY | ROUTE_AUTH_SHARE)))
		diag_error(d, file, r->pos.line, r->pos.col, "route %s: "
		    "any_org applies to API keys and share links: add apikey "
		    "or share to auth", r->pattern);
	if (r->nscopes > 0 && !(r->auth & ROUTE_AUTH_APIKEY))
		diag_error(d, file, r->pos.line, r->pos.col, "route %s: "
		    "scopes need apikey in auth", r->pattern);
	if (r->org_seg >= 0 && (b->host_tenant || b->fixed_org != NULL))
		diag_error(d, file, r->path_pos.line, r->path_pos.col,
		    "route %s: {org} is already bound by the app's %s; a "
		    "tenant is bound once", r->pattern, b->host_tenant ?
		    "hosts ({org}.…)" : "org key");
	for (i = 0; r->rate_limit != NULL && i < b->nrate_classes; i++)
		if (strcmp(b->rate_classes[i], r->rate_limit) == 0)
			break;
	if (r->rate_limit != NULL && i == b->nrate_classes)
		diag_error(d, file, r->pos.line, r->pos.col, "route %s: "
		    "rate_limit: no class '%s' in rate_limits.classes",
		    r->pattern, r->rate_limit);
	if (r->role == NULL)
		return;
	if (r->org_seg < 0 && !b->host_tenant && b->fixed_org == NULL)
		diag_error(d, file, r->role_pos.line, r->role_pos.col,
		    "route %s: role needs a tenant, but {org} is not bound: "
		    "put {org} in the path or in the app's hosts, or set "
		    "app.org", r->pattern);
	for (i = 0; i < b->nroles; i++)
		if (strcmp(b->roles[i], r->role) == 0)
			break;
	if (i == b->nroles)
		diag_error(d, file, r->role_pos.line, r->role_pos.col,
		    "route %s: unknown role '%.40s' (the ladder, highest "
		    "first: %s%s%s%s...)", r->pattern, r->role,
		    b->nroles > 0 ? b->roles[0] : "",
		    b->nroles > 1 ? ", " : "", b->nroles > 1 ? b->roles[1] : "",
		    b->nroles > 2 ? ", " : "");
	r->role_rank = (int)i;
}

/* Report route <j> if earlier routes leave it nothing; 1 if so. */
static int
route_check_shadow(struct route_table *t, size_t j, const char *file,
    struct diag *d)
{
	struct route		*r = &t->routes[j], *e;
	struct route_shadow	 s = { t, j, 0, SIZE_MAX, SIZE_MAX };
	struct route_pat	 p;
	char			 mb[64];

	route_pat_split(r->pattern, &p);
	route_covers(t, t->root, &p, 0, route_on_shadow, &s);
	if (s.first == SIZE_MAX || (r->methods & ~s.methods) != 0)
		return 0;
	e = &t->routes[s.first];
	diag_error(d, file, r->path_pos.line, r->path_pos.col,
	    "route %s%s%s is unreachable: %s at line %zu already matches "
	    "every request it would", r->pattern,
	    r->methods == ROUTE_M_ALL ? "" : " ",
	    r->methods == ROUTE_M_ALL ? "" :
	    route_methods_text(r->methods, mb, sizeof(mb)), e->pattern,
	    e->pos.line);
	return 1;
}

static void
route_check_public(struct route_table *t, size_t j, const char *file,
    struct diag *d)
{
	struct route		*r = &t->routes[j], *e;
	struct route_shadow	 s = { t, j, 0, SIZE_MAX, SIZE_MAX };
	struct route_pat	 p;

	if (!r->is_public)
		return;
	route_pat_split(r->pattern, &p);
	route_covers(t, t->root, &p, 0, route_on_protect, &s);
	if (s.prot == SIZE_MAX)
		return;
	e = &t->routes[s.prot];
	diag_warning(d, file, r->path_pos.line, r->path_pos.col,
	    "route %s grants public access under %s, which line %zu "
	    "protects", r->pattern, e->pattern, e->pos.line);
}

/* The table cannot be built: an error for <file>; returns -1. */
static int
route_nomem(struct diag *d, const char *file)
{
	diag_error(d, file, 0, 0, "out of memory");
	return -1;
}

int
route_table_compile(struct route_table *t, const struct route_binding *b,
    const char *file, struct diag *d)
{
	size_t	nerrors = d->nerrors, i;
	char	*dead;

	t->ci = b->case_insensitive;
	t->compiled = 0;
	route_strv_free(t->roles, t->nroles);
	t->nroles = 0;
	if ((t->roles = calloc(b->nroles + 1, sizeof(*t->roles))) == NULL)
		return route_nomem(d, file);
	for (; t->nroles < b->nroles; t->nroles++)
		if ((t->roles[t->nroles] = strdup(b->roles[t->nroles])) ==
		    NULL)
			return route_nomem(d, file);
	if ((dead = calloc(t->nroutes + 1, 1)) == NULL)
		return route_nomem(d, file);
	for (i = 0; i < t->nroutes; i++) {
		route_check_one(&t->routes[i], b, file, d);
		dead[i] = (char)route_check_shadow(t, i, file, d);
		if (route_insert(t, i) == -1) {
			free(dead);
			return route_nomem(d, file);
		}
	}
	for (i = 0; i < t->nroutes; i++)
		if (!dead[i])
			route_check_public(t, i, file, d);
	free(dead);
	if (route_node_index(t->root, t->ci) == -1)
		return route_nomem(d, file);
	t->compiled = d->nerrors == nerrors;
	return t->compiled ? 0 : -1;
}
