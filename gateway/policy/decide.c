/*
 * The access decision (see decide.h).  Order of the checks, each ending the
 * decision with a stable reason code:
 *   case-folding app     path_case_ambiguous (403: see path_fold_check)
 *   tenant from host     tenant_invalid (404)
 *     (or a custom domain's org)
 *   route                no_route (403: default deny)
 *   tenant from path     tenant_invalid, no_tenant (404); on a custom
 *                        domain, a path naming another org: tenant_invalid
 *   public               public (allow)
 *   credentials          unauthenticated (401), auth_kind (403)
 *   session: membership not_member, role, not_listed (403), mfa, fresh_auth
 *   API key:             key_org, scope (403)
 *   key or share where an app with tenants has none: tenantless (403)
 *   share grant:         share_app, share_resource, share_method,
 *                        share_org (403)
 * then allow with the kind as reason ("session", "apikey", "share").
 */
#include <string.h>
#include <strings.h>

#include "decide.h"
#include "path.h"
#include "route.h"

static enum decide_verdict
decide_set(struct decision *out, enum decide_verdict v, const char *reason)
{
	out->verdict = v;
	out->reason = reason;
	return v;
}

/* An org slug as user.c accepts them: [a-z0-9][a-z0-9-]*, 1 to 63. */
static int
decide_slug_ok(const char *s)
{
	size_t	i;

	for (i = 0; s[i] != '\0'; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= '0' && s[i] <= '9') || (s[i] == '-' && i > 0)))
			return 0;
	return i >= 1 && i <= 63;
}

/*
 * The app's tenant before any route: app.org, or the org a custom domain
 * binds (the registry's; an app with its own org keeps it), or the
 * host's label.
 */
static int
decide_host_tenant(const struct config_app *app, const char *host,
    const char *domain_org, struct decision *out)
{
	size_t	i;

	if (app->org != NULL) {
		(void)strncpy(out->tenant, app->org, sizeof(out->tenant) - 1);
		return 0;
	}
	if (domain_org != NULL) {
		(void)strncpy(out->tenant, domain_org, sizeof(out->tenant) - 1);
		return decide_slug_ok(out->tenant) ? 0 : -1;
	}
	for (i = 0; app->host_tenant && host != NULL && i < app->nhosts; i++)
		if (route_host_tenant(app->hosts[i], host, out->tenant,
		    sizeof(out->tenant)))
			return decide_slug_ok(out->tenant) ? 0 : -1;
	out->tenant[0] = '\0';
	return 0;
}

/* Apps without routes: protect decides, as before the policy engine. */
static enum decide_verdict
decide_plain(const struct config_app *app, const struct decide_identity *id,
    struct decision *out)
{
	out->auth = ROUTE_AUTH_SESSION;
	if (!app->protect)
		return decide_set(out, DECIDE_ALLOW, "unprotected");
	if (id->kind == DECIDE_NONE)
		return decide_set(out, DECIDE_LOGIN, "unauthenticated");
	if (id->kind != DECIDE_SESSION)
		return decide_set(out, DECIDE_DENY, "auth_kind");
	return decide_set(out, DECIDE_ALLOW, "session");
}

static const struct session_org *
decide_member(const struct decide_identity *id, const char *tenant)
{
	size_t	i;

	for (i = 0; id->orgs != NULL && i < id->norgs; i++)
		if (strcmp(id->orgs[i].slug, tenant) == 0)
			return &id->orgs[i];
	return NULL;
}

/* users: ids; emails: exact addresses or "@domain" (case-insensitive). */
static int
decide_listed(const struct route *r, const struct decide_identity *id)
{
	size_t	i, el, dl;

	if (r->nusers == 0 && r->nemails == 0)
		return 1;
	for (i = 0; id->user != NULL && i < r->nusers; i++)
		if (strcmp(r->users[i], id->user) == 0)
			return 1;
	el = id->email != NULL ? strlen(id->email) : 0;
	for (i = 0; el > 0 && i < r->nemails; i++) {
		dl = strlen(r->emails[i]);
		if (r->emails[i][0] == '@' ? el > dl &&
		    strcasecmp(id->email + el - dl, r->emails[i]) == 0 :
		    strcasecmp(id->email, r->emails[i]) == 0)
			return 1;
	}
	return 0;
}

static enum decide_verdict
decide_session(const struct config_app *app, const struct route *r,
    const struct decide_identity *id, time_t now, struct decision *out)
{
	const struct session_org	*o = NULL;
	int				 rank;

	if (out->tenant[0] != '\0') {
		if ((o = decide_member(id, out->tenant)) == NULL)
			return decide_set(out, DECIDE_DENY, "not_member");
		out->role = o->role;
	}
	if (r->role != NULL) {
		rank = route_table_rank(app->routes, o != NULL ? o->role : NULL);
		if (rank < 0 || rank > r->role_rank)
			return decide_set(out, DECIDE_DENY, "role");
	}
	if (!decide_listed(r, id))
		return decide_set(out, DECIDE_DENY, "not_listed");
	if (r->mfa && !id->mfa)
		return decide_set(out, DECIDE_MFA, "mfa");
	if (r->fresh_auth > 0 && (id->auth_time <= 0 ||
	    (int64_t)now - id->auth_time > (int64_t)(r->fresh_auth / 1000)))
		return decide_set(out, DECIDE_STEP_UP, "fresh_auth");
	return decide_set(out, DECIDE_ALLOW, "session");
}

static enum decide_verdict
decide_apikey(const struct route *r, const struct decide_identity *id,
    struct decision *out)
{
	size_t	i, j;

	if (out->tenant[0] != '\0' && (id->key_org == NULL ||
	    strcmp(id->key_org, out->tenant) != 0))
		return decide_set(out, DECIDE_DENY, "key_org");
	for (i = 0; i < r->nscopes; i++) {
		for (j = 0; j < id->nscopes; j++)
			if (strcmp(r->scopes[i], id->scopes[j]) == 0)
				break;
		if (j == id->nscopes)
			return decide_set(out, DECIDE_DENY, "scope");
	}
	return decide_set(out, DECIDE_ALLOW, "apikey");
}

/* A share grant opens exactly its path (or that path and below). */
static enum decide_verdict
decide_share(const struct config_app *app, const struct decide_request *req,
    const struct decide_identity *id, struct decision *out)
{
	size_t		n = id->share_path != NULL ? strlen(id->share_path) : 0;
	unsigned int	methods;

	if (id->share_app == NULL || strcmp(id->share_app, app->name) != 0)
		return decide_set(out, DECIDE_DENY, "share_app");
	if (n == 0 || strncmp(req->path, id->share_path, n) != 0 ||
	    (req->path[n] != '\0' && !(id->share_prefix &&
	    (req->path[n] == '/' || id->share_path[n - 1] == '/'))))
		return decide_set(out, DECIDE_DENY, "share_resource");
	methods = id->share_methods;
	if (methods & ROUTE_M_GET)	/* as routes do: GET admits HEAD */
		methods |= ROUTE_M_HEAD;
	if ((route_method_bit(req->method) & methods) == 0)
		return decide_set(out, DECIDE_DENY, "share_method");
	if (out->tenant[0] != '\0' && (id->key_org == NULL ||
	    strcmp(id->key_org, out->tenant) != 0))
		return decide_set(out, DECIDE_DENY, "share_org");
	return decide_set(out, DECIDE_ALLOW, "share");
}

/*
 * An API key or share link on a host of an app with "{org}.x" hosts that
 * yields no tenant (a bare host listed beside them): the credential's org
 * would bind nothing there, so a key of any org would do.  Only a route
 * with any_org accepts that.  (A route without {org} on an app that binds
 * the tenant in paths says so in its pattern and is left alone.)
 */
static int
decide_tenantless(const struct config_app *app, const struct route *r,
    const struct decide_identity *id, const struct decision *out)
{
	return (id->kind == DECIDE_APIKEY || id->kind == DECIDE_SHARE) &&
	    out->tenant[0] == '\0' && app->host_tenant && !r->any_org;
}

static enum decide_verdict
decide_route(const struct config_app *app, const struct decide_request *req,
    const struct decide_identity *id, const struct route_match *m,
    time_t now, struct decision *out)
{
	const struct route	*r = m->route;
	static const unsigned int kinds[] = { 0, ROUTE_AUTH_SESSION,
	    ROUTE_AUTH_APIKEY, ROUTE_AUTH_SHARE };

	if (r->org_seg >= 0 && (route_param(m, "org", out->tenant,
	    sizeof(out->tenant)) == -1 || !decide_slug_ok(out->tenant)))
		return decide_set(out, DECIDE_NOT_FOUND, "tenant_invalid");
	/* a custom domain binds its org: the path may not name another */
	if (r->org_seg >= 0 && req->tenant != NULL && app->org == NULL &&
	    strcmp(out->tenant, req->tenant) != 0)
		return decide_set(out, DECIDE_NOT_FOUND, "tenant_invalid");
	if (r->role != NULL && out->tenant[0] == '\0')
		return decide_set(out, DECIDE_NOT_FOUND, "no_tenant");
	if (id->kind == DECIDE_SESSION && out->tenant[0] != '\0' &&
	    decide_member(id, out->tenant) != NULL)
		out->role = decide_member(id, out->tenant)->role;
	if (r->is_public)
		return decide_set(out, DECIDE_ALLOW, "public");
	if (id->kind == DECIDE_NONE)
		return decide_set(out, DECIDE_LOGIN, "unauthenticated");
	if ((unsigned int)id->kind >= sizeof(kinds) / sizeof(kinds[0]) ||
	    (r->auth & kinds[id->kind]) == 0)
		return decide_set(out, DECIDE_DENY, "auth_kind");
	if (decide_tenantless(app, r, id, out))
		return decide_set(out, DECIDE_DENY, "tenantless");
	switch (id->kind) {
	case DECIDE_SESSION:
		return decide_session(app, r, id, now, out);
	case DECIDE_APIKEY:
		return decide_apikey(r, id, out);
	default:
		return decide_share(app, req, id, out);
	}
}

enum decide_verdict
decide(const struct config_app *app, const struct decide_request *req,
    const struct decide_identity *id, time_t now, struct decision *out)
{
	struct route_match	m;

	memset(out, 0, sizeof(*out));
	out->file = app->policy_file;
	if (app->routes == NULL)
		return decide_plain(app, id, out);
	if (app->case_insensitive_paths &&
	    path_fold_check(req->path) != PATH_OK)
		return decide_set(out, DECIDE_DENY, "path_case_ambiguous");
	if (decide_host_tenant(app, req->host, req->tenant, out) == -1)
		return decide_set(out, DECIDE_NOT_FOUND, "tenant_invalid");
	if (route_match(app->routes, req->method, req->path, &m) == -1)
		return decide_set(out, DECIDE_DENY, "no_route");
	out->route = m.route;
	out->line = m.route->pos.line;
	out->auth = m.route->auth;
	out->rate_limit = m.route->rate_limit;
	return decide_route(app, req, id, &m, now, out);
}

enum decide_verdict
decide_shareable(const struct config_app *app, const char *host,
    const struct decide_identity *id, time_t now, struct decision *out)
{
	static const char *const methods[] = { "GET", "HEAD", "POST", "PUT",
	    "PATCH", "DELETE", "OPTIONS" };
	struct decide_request	 req;
	size_t			 i;

	memset(out, 0, sizeof(*out));
	out->verdict = DECIDE_DENY;
	out->reason = "share_method";
	req.host = host;
	req.tenant = NULL;
	req.path = id->share_path;
	for (i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
		if ((route_method_bit(methods[i]) & id->share_methods) == 0)
			continue;
		req.method = methods[i];
		if (decide(app, &req, id, now, out) != DECIDE_ALLOW)
			return out->verdict;
	}
	return out->verdict;
}

static const char *const decide_names[] = {
	"allow", "login", "deny", "not_found", "step_up", "mfa",
};

const char *
decide_verdict_name(enum decide_verdict v)
{
	if ((size_t)v >= sizeof(decide_names) / sizeof(decide_names[0]))
		return "?";
	return decide_names[v];
}

int
decide_verdict_parse(const char *s)
{
	size_t	i;

	for (i = 0; i < sizeof(decide_names) / sizeof(decide_names[0]); i++)
		if (strcmp(decide_names[i], s) == 0)
			return (int)i;
	return -1;
}

int
decide_status(enum decide_verdict v)
{
	switch (v) {
	case DECIDE_ALLOW:
		return 200;
	case DECIDE_LOGIN:
		return 401;
	case DECIDE_DENY:
		return 403;
	case DECIDE_NOT_FOUND:
		return 404;
	default:
		return 302;
	}
}
