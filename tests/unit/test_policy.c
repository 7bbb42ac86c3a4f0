/*
 * The policy engine through its API: policy files loaded by policy.c,
 * compiled by route.c, decided by decide.c, with request paths passed
 * through path.c's normaliser first (policy sees what the upstream sees).
 * Table-driven: each row is a request, an identity and the expected
 * verdict, tenant and role.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "config.h"
#include "decide.h"
#include "diag.h"
#include "path.h"
#include "policy.h"
#include "ratelimit.h"
#include "route.h"
#include "session.h"

#define NOW		1700000000
#define REFUSED		100	/* path.c refuses the request: never reaches policy */

static const char *const ladder[] = { "owner", "executive", "admin", "member",
    "viewer" };

static const char bill_yaml[] =
"app:\n"
"  name: bill\n"
"  hosts: [bill.test, \"{org}.bill.test\"]\n"
"  upstream: http://127.0.0.1:9\n"
"  routes:\n"
"    - path: /\n"				/* line 6 */
"      public: true\n"
"    - path: /static/**\n"			/* 8 */
"      methods: [GET]\n"
"      public: true\n"
"    - path: /pay/{invoice}\n"			/* 11 */
"      methods: [GET, POST]\n"
"      auth: [share]\n"
"    - path: /api/**\n"				/* 14 */
"      methods: [GET]\n"
"      auth: [apikey]\n"
"      scopes: [inv:read]\n"
"    - path: /api/**\n"				/* 18 */
"      auth: [apikey, session]\n"
"      scopes: [inv:write]\n"
"    - path: /admin/**\n"			/* 21 */
"      role: admin\n"
"    - path: /exec/**\n"			/* 23 */
"      role: executive\n"
"    - path: /owner/**\n"			/* 25 */
"      role: owner\n"
"      mfa: true\n"
"    - path: /danger\n"				/* 28 */
"      methods: [POST, DELETE]\n"
"      role: owner\n"
"      fresh_auth: 5m\n"
"    - path: /danger\n"				/* 32 */
"      role: viewer\n"
"    - path: /invoices/{id}\n"			/* 34 */
"      methods: [GET]\n"
"      role: viewer\n"
"    - path: /invoices/{id}\n"			/* 37 */
"      methods: [PUT, DELETE]\n"
"      role: member\n"
"    - path: /invoices/*/pdf\n"			/* 40 */
"      role: viewer\n"
"      rate_limit: pdf\n"
"    - path: /team\n"				/* 43 */
"      users: [u1]\n"
"      emails: [boss@corp.test, \"@ops.test\"]\n"
"    - path: /me/**\n"				/* 46 */
"      authenticated: true\n"
"    - path: /docs/**\n"			/* 48 */
"      public: true\n"
"    - path: /**\n"				/* 50 */
"      role: member\n";

static const char paths_yaml[] =
"app:\n"
"  name: paths\n"
"  hosts: [paths.test]\n"
"  upstream: http://127.0.0.1:9\n"
"  routes:\n"
"    - path: /login\n"				/* 6 */
"      public: true\n"
"    - path: /account\n"			/* 8 */
"      authenticated: true\n"
"    - path: /{org}/settings/**\n"		/* 10 */
"      role: admin\n"
"    - path: /{org}/projects/{project}/*\n"	/* 12 */
"      methods: [DELETE]\n"
"      role: owner\n"
"    - path: /{org}/**\n"			/* 15 */
"      role: viewer\n";

static const char ci_yaml[] =
"app:\n"
"  name: ci\n"
"  hosts: [ci.test]\n"
"  upstream: http://127.0.0.1:9\n"
"  org: staff\n"
"  paths: case_insensitive\n"
"  routes:\n"
"    - path: /admin/**\n"			/* 8 */
"      role: admin\n"
"    - path: /**\n"				/* 10 */
"      public: true\n";

static const char cs_yaml[] =
"app:\n"
"  name: cs\n"
"  hosts: [cs.test]\n"
"  upstream: http://127.0.0.1:9\n"
"  org: staff\n"
"  routes:\n"
"    - path: /admin/**\n"			/* 7 */
"      role: admin\n"
"    - path: /**\n"				/* 9 */
"      public: true\n";

static const char legacy_yaml[] =
"app:\n"
"  name: legacy\n"
"  hosts: [legacy.test]\n"
"  upstream: http://127.0.0.1:9\n";

static const char open_yaml[] =
"app:\n"
"  name: open\n"
"  hosts: [open.test]\n"
"  upstream: http://127.0.0.1:9\n"
"  protect: false\n";

/* ---- loading ---- */

static void
cfg_free(struct config *cfg)
{
	size_t	i;

	for (i = 0; i < cfg->napps; i++)
		policy_app_free(&cfg->apps[i]);
	free(cfg->apps);
	free(cfg);
}

/* Load policy texts (NULL-terminated pairs name, text) with <roles>. */
static struct config *
cfg_load(struct diag *d, const char *const *roles, size_t nroles, ...)
{
	struct config	*cfg;
	const char	*name, *text;
	va_list		 ap;

	static struct ratelimit_class classes[] = { { .name = "pdf" },
	    { .name = "api" } };

	if ((cfg = calloc(1, sizeof(*cfg))) == NULL)
		fail();
	cfg->roles = (char **)(uintptr_t)roles;
	cfg->nroles = nroles;
	cfg->ratelimits = classes;	/* the classes routes may name */
	cfg->nratelimits = 2;
	va_start(ap, nroles);
	while ((name = va_arg(ap, const char *)) != NULL) {
		text = va_arg(ap, const char *);
		(void)policy_load_buffer(cfg, name, text, strlen(text), d);
	}
	va_end(ap);
	policy_compile(cfg, d);
	return cfg;
}

static struct config *
all_apps(void)
{
	struct diag	 d = { 0 };
	struct config	*cfg;

	cfg = cfg_load(&d, ladder, 5, "bill.yaml", bill_yaml, "paths.yaml",
	    paths_yaml, "ci.yaml", ci_yaml, "cs.yaml", cs_yaml, "legacy.yaml",
	    legacy_yaml, "open.yaml", open_yaml, NULL);
	if (d.nmsgs > 0) {
		diag_print(&d, stderr);
		fail_msg("the test policies have %zu messages", d.nmsgs);
	}
	diag_free(&d);
	return cfg;
}

/* ---- identities: "-" | "u=EMAIL;id=ID;ORG=ROLE;mfa;age=S" |
 *      "key=ORG;scope=S" | "share=PATH[*];m=GET" ---- */

struct ident {
	struct decide_identity	 id;
	struct session_org	 orgs[8];
	const char		*scopes[8];
	char			 buf[256];
};

static void
ident_parse(struct ident *x, const char *spec, time_t now)
{
	char	*tok, *save = NULL, *eq;

	memset(x, 0, sizeof(*x));
	if (strcmp(spec, "-") == 0)
		return;
	(void)snprintf(x->buf, sizeof(x->buf), "%s", spec);
	x->id.kind = DECIDE_SESSION;
	x->id.auth_time = now;
	x->id.user = "u0";
	x->id.orgs = x->orgs;
	x->id.scopes = x->scopes;
	for (tok = strtok_r(x->buf, ";", &save); tok != NULL;
	    tok = strtok_r(NULL, ";", &save)) {
		eq = strchr(tok, '=');
		if (strcmp(tok, "mfa") == 0)
			x->id.mfa = 1;
		else if (eq == NULL)
			fail_msg("bad identity token %s", tok);
		else if ((*eq = '\0'), strcmp(tok, "u") == 0)
			x->id.email = eq + 1;
		else if (strcmp(tok, "id") == 0)
			x->id.user = eq + 1;
		else if (strcmp(tok, "age") == 0)
			x->id.auth_time = now - atoi(eq + 1);
		else if (strcmp(tok, "key") == 0) {
			x->id.kind = DECIDE_APIKEY;
			x->id.key_org = eq + 1;
		} else if (strcmp(tok, "scope") == 0)
			x->scopes[x->id.nscopes++] = eq + 1;
		else if (strcmp(tok, "share") == 0) {
			x->id.kind = DECIDE_SHARE;
			x->id.share_path = eq + 1;
			if (eq[strlen(eq + 1)] == '*') {
				eq[strlen(eq + 1)] = '\0';
				x->id.share_prefix = 1;
			}
		} else if (strcmp(tok, "m") == 0)
			x->id.share_methods |= route_method_bit(eq + 1);
		else if (strcmp(tok, "app") == 0)
			x->id.share_app = eq + 1;
		else if (strcmp(tok, "org") == 0)
			x->id.key_org = eq + 1;
		else {
			(void)snprintf(x->orgs[x->id.norgs].slug,
			    sizeof(x->orgs[0].slug), "%s", tok);
			(void)snprintf(x->orgs[x->id.norgs].role,
			    sizeof(x->orgs[0].role), "%s", eq + 1);
			x->id.norgs++;
		}
	}
}

/* ---- the table ---- */

struct row {
	const char	*method;
	const char	*host;
	const char	*path;		/* raw: normalised first */
	const char	*who;
	int		 want;		/* enum decide_verdict or REFUSED */
	const char	*tenant;	/* NULL: don't care; "" none */
	const char	*role;		/* NULL: don't care; "-" none */
	size_t		 line;		/* rule line; 0: don't care */
};

#define A	DECIDE_ALLOW
#define L	DECIDE_LOGIN
#define D	DECIDE_DENY
#define N	DECIDE_NOT_FOUND
#define S	DECIDE_STEP_UP
#define M	DECIDE_MFA

/* <x> holds the identity: out->role points into it. */
static int
run_row(const struct config *cfg, const struct row *r, struct ident *x,
    struct decision *out)
{
	const struct config_app	*app;
	struct decide_request	 req;
	enum path_error		 pe;
	char			*path;

	if ((path = path_normalize(r->path, strlen(r->path), &pe)) == NULL)
		return REFUSED;
	if ((app = config_app_for_host(cfg, r->host)) == NULL)
		fail_msg("no app for %s", r->host);
	ident_parse(x, r->who, NOW);
	if (x->id.kind == DECIDE_SHARE && x->id.share_app == NULL)
		x->id.share_app = app->name;	/* "app=" names another */
	req.method = r->method;
	req.tenant = NULL;
	req.path = path;
	req.host = r->host;
	(void)decide(app, &req, &x->id, NOW, out);
	free(path);
	return (int)out->verdict;
}

static void
check_rows(const struct config *cfg, const struct row *rows, size_t n)
{
	struct decision	d;
	struct ident	x;
	size_t		i;
	int		got;

	for (i = 0; i < n; i++) {
		const struct row *r = &rows[i];

		got = run_row(cfg, r, &x, &d);
		if (got != r->want)
			fail_msg("row %zu: %s %s%s as %s: got %s (%s, line %zu), "
			    "wanted %s", i, r->method, r->host, r->path, r->who,
			    got == REFUSED ? "refused" :
			    decide_verdict_name(d.verdict), got == REFUSED ?
			    "-" : d.reason, got == REFUSED ? 0 : d.line,
			    r->want == REFUSED ? "refused" :
			    decide_verdict_name((enum decide_verdict)r->want));
		if (got == REFUSED)
			continue;
		if (r->tenant != NULL && strcmp(r->tenant, d.tenant) != 0)
			fail_msg("row %zu: %s%s: tenant '%s', wanted '%s'", i,
			    r->host, r->path, d.tenant, r->tenant);
		if (r->role != NULL && strcmp(r->role, d.role != NULL ? d.role :
		    "-") != 0)
			fail_msg("row %zu: %s%s: role %s, wanted %s", i, r->host,
			    r->path, d.role != NULL ? d.role : "-", r->role);
		if (r->line != 0 && r->line != d.line)
			fail_msg("row %zu: %s%s: rule line %zu, wanted %zu", i,
			    r->host, r->path, d.line, r->line);
	}
}

#define NROWS(a)	(sizeof(a) / sizeof((a)[0]))
#define B	"acme.bill.test"

/* Tenant from the host; roles; methods; first match; default routes. */
static const struct row bill_rows[] = {
	{ "GET", B, "/", "-", A, "acme", "-", 6 },
	{ "GET", B, "/static/app.js", "-", A, "acme", "-", 8 },
	{ "HEAD", B, "/static/app.js", "-", A, NULL, NULL, 8 },
	{ "POST", B, "/static/app.js", "-", L, NULL, NULL, 50 },
	{ "GET", B, "/static", "-", A, NULL, NULL, 8 },
	{ "GET", B, "/static/", "-", A, NULL, NULL, 8 },
	{ "GET", B, "/staticx", "-", L, NULL, NULL, 50 },
	{ "GET", B, "/docs/a/b/c", "-", A, NULL, NULL, 48 },
	{ "GET", B, "/docs", "u=a@x;acme=viewer", A, "acme", "viewer", 48 },
	/* member of another org: public routes stay public */
	{ "GET", B, "/docs", "u=a@x;other=owner", A, "acme", "-", 48 },
	/* the catch-all needs member in this tenant */
	{ "GET", B, "/dashboard", "-", L, "acme", NULL, 50 },
	{ "GET", B, "/dashboard", "u=a@x;acme=member", A, "acme", "member", 50 },
	{ "GET", B, "/dashboard", "u=a@x;acme=viewer", D, "acme", "viewer", 50 },
	{ "GET", B, "/dashboard", "u=a@x;acme=owner", A, "acme", "owner", 50 },
	{ "GET", B, "/dashboard", "u=a@x;acme=executive", A, NULL, NULL, 50 },
	{ "GET", B, "/dashboard", "u=a@x;acme=janitor", D, NULL, "janitor", 50 },
	/* cross-tenant: an owner of globex is nobody at acme */
	{ "GET", B, "/dashboard", "u=a@x;globex=owner", D, "acme", "-", 50 },
	{ "GET", "globex.bill.test", "/dashboard", "u=a@x;globex=owner", A,
	    "globex", "owner", 50 },
	{ "GET", "globex.bill.test", "/dashboard", "u=a@x;acme=owner", D,
	    "globex", "-", 50 },
	{ "GET", B, "/me/profile", "u=a@x;globex=owner", D, NULL, NULL, 46 },
	{ "GET", B, "/me/profile", "u=a@x;acme=viewer", A, NULL, "viewer", 46 },
	/* the bare host has no tenant: tenant routes are 404 */
	{ "GET", "bill.test", "/dashboard", "u=a@x;acme=owner", N, "", NULL, 50 },
	{ "GET", "bill.test", "/admin/x", "-", N, "", NULL, 21 },
	{ "GET", "bill.test", "/", "-", A, "", NULL, 6 },
	{ "GET", "bill.test", "/me", "u=a@x", A, "", "-", 46 },
	/* a tenant label that is no slug */
	{ "GET", "a_b.bill.test", "/", "-", N, NULL, NULL, 0 },
	/* the ladder, with the custom executive rung */
	{ "GET", B, "/admin/users", "u=a@x;acme=owner", A, NULL, "owner", 21 },
	{ "GET", B, "/admin/users", "u=a@x;acme=executive", A, NULL, NULL, 21 },
	{ "GET", B, "/admin/users", "u=a@x;acme=admin", A, NULL, NULL, 21 },
	{ "GET", B, "/admin/users", "u=a@x;acme=member", D, NULL, NULL, 21 },
	{ "GET", B, "/admin/users", "u=a@x;acme=viewer", D, NULL, NULL, 21 },
	{ "GET", B, "/admin", "u=a@x;acme=member", D, NULL, NULL, 21 },
	{ "GET", B, "/admin/", "u=a@x;acme=member", D, NULL, NULL, 21 },
	{ "GET", B, "/exec/q3", "u=a@x;acme=executive", A, NULL, NULL, 23 },
	{ "GET", B, "/exec/q3", "u=a@x;acme=admin", D, NULL, NULL, 23 },
	{ "GET", B, "/exec/q3", "u=a@x;acme=owner", A, NULL, NULL, 23 },
	/* mfa */
	{ "GET", B, "/owner/x", "u=a@x;acme=owner", M, NULL, NULL, 25 },
	{ "GET", B, "/owner/x", "u=a@x;acme=owner;mfa", A, NULL, NULL, 25 },
	{ "GET", B, "/owner/x", "u=a@x;acme=admin;mfa", D, NULL, NULL, 25 },
	{ "GET", B, "/owner/x", "u=a@x;acme=admin", D, NULL, NULL, 25 },
	{ "GET", B, "/owner/x", "-", L, NULL, NULL, 25 },
	/* fresh_auth 5m, and methods choosing the route */
	{ "POST", B, "/danger", "u=a@x;acme=owner;age=60", A, NULL, NULL, 28 },
	{ "POST", B, "/danger", "u=a@x;acme=owner;age=300", A, NULL, NULL, 28 },
	{ "POST", B, "/danger", "u=a@x;acme=owner;age=301", S, NULL, NULL, 28 },
	{ "DELETE", B, "/danger", "u=a@x;acme=owner;age=9999", S, NULL, NULL,
	    28 },
	{ "POST", B, "/danger", "u=a@x;acme=admin;age=1", D, NULL, NULL, 28 },
	{ "GET", B, "/danger", "u=a@x;acme=viewer;age=9999", A, NULL, NULL, 32 },
	{ "HEAD", B, "/danger", "u=a@x;acme=viewer", A, NULL, NULL, 32 },
	{ "PUT", B, "/danger", "u=a@x;acme=viewer", A, NULL, NULL, 32 },
	/* named segments */
	{ "GET", B, "/invoices/17", "u=a@x;acme=viewer", A, NULL, NULL, 34 },
	{ "HEAD", B, "/invoices/17", "u=a@x;acme=viewer", A, NULL, NULL, 34 },
	{ "PUT", B, "/invoices/17", "u=a@x;acme=viewer", D, NULL, NULL, 37 },
	{ "PUT", B, "/invoices/17", "u=a@x;acme=member", A, NULL, NULL, 37 },
	{ "DELETE", B, "/invoices/17", "u=a@x;acme=member", A, NULL, NULL, 37 },
	{ "POST", B, "/invoices/17", "u=a@x;acme=viewer", D, NULL, NULL, 50 },
	{ "POST", B, "/invoices/17", "u=a@x;acme=member", A, NULL, NULL, 50 },
	{ "GET", B, "/invoices", "u=a@x;acme=viewer", D, NULL, NULL, 50 },
	{ "GET", B, "/invoices/17/pdf", "u=a@x;acme=viewer", A, NULL, NULL,
	    40 },
	{ "GET", B, "/invoices/17/pdf/x", "u=a@x;acme=viewer", D, NULL, NULL,
	    50 },
	{ "GET", B, "/invoices/17/", "u=a@x;acme=viewer", A, NULL, NULL, 34 },
	/* users and emails lists */
	{ "GET", B, "/team", "u=boss@corp.test;acme=viewer", A, NULL, NULL, 43 },
	{ "GET", B, "/team", "u=BOSS@corp.test;acme=viewer", A, NULL, NULL,
	    43 },
	{ "GET", B, "/team", "u=x@ops.test;acme=viewer", A, NULL, NULL, 43 },
	{ "GET", B, "/team", "u=x@sub.ops.test;acme=viewer", D, NULL, NULL,
	    43 },
	{ "GET", B, "/team", "u=x@evilops.test;acme=viewer", D, NULL, NULL,
	    43 },
	{ "GET", B, "/team", "u=ops.test;acme=viewer", D, NULL, NULL, 43 },
	{ "GET", B, "/team", "u=boss@corp.test;id=u1;globex=owner", D, NULL,
	    NULL, 43 },
	{ "GET", B, "/team", "u=z@z.test;id=u1;acme=viewer", A, NULL, NULL, 43 },
	{ "GET", B, "/team", "u=z@z.test;id=u2;acme=owner", D, NULL, NULL, 43 },
	/* API keys: org and scopes */
	{ "GET", B, "/api/v1/inv", "key=acme;scope=inv:read", A, "acme", NULL,
	    14 },
	{ "GET", B, "/api/v1/inv", "key=acme;scope=inv:write", D, NULL, NULL,
	    14 },
	{ "GET", B, "/api/v1/inv", "key=globex;scope=inv:read", D, NULL, NULL,
	    14 },
	{ "POST", B, "/api/v1/inv", "key=acme;scope=inv:read", D, NULL, NULL,
	    18 },
	{ "POST", B, "/api/v1/inv", "key=acme;scope=inv:read;scope=inv:write",
	    A, NULL, NULL, 18 },
	{ "POST", B, "/api/v1/inv", "u=a@x;acme=viewer", A, NULL, NULL, 18 },
	{ "GET", B, "/api/v1/inv", "u=a@x;acme=owner", D, NULL, NULL, 14 },
	{ "GET", B, "/api/v1/inv", "-", L, NULL, NULL, 14 },
	{ "GET", B, "/dashboard", "key=acme;scope=inv:read", D, NULL, NULL, 50 },
	/* share grants: exactly their resource and methods */
	{ "GET", B, "/pay/12", "share=/pay/12;m=GET;org=acme", A, NULL, NULL,
	    11 },
	{ "POST", B, "/pay/12", "share=/pay/12;m=GET;org=acme", D, NULL, NULL,
	    11 },
	{ "POST", B, "/pay/12", "share=/pay/12;m=GET;m=POST;org=acme", A, NULL,
	    NULL, 11 },
	{ "GET", B, "/pay/13", "share=/pay/12;m=GET;org=acme", D, NULL, NULL,
	    11 },
	{ "GET", B, "/pay/123", "share=/pay/12;m=GET;org=acme", D, NULL, NULL,
	    11 },
	{ "GET", "globex.bill.test", "/pay/12", "share=/pay/12;m=GET;org=acme",
	    D, NULL, NULL, 11 },
	{ "GET", B, "/pay/12", "u=a@x;acme=owner", D, NULL, NULL, 11 },
	{ "GET", B, "/dashboard", "share=/dashboard;m=GET;org=acme", D, NULL,
	    NULL, 50 },
	/* a grant of another app opens nothing here, whatever the path */
	{ "GET", B, "/pay/12", "share=/pay/12;m=GET;org=acme;app=docs", D,
	    NULL, NULL, 11 },
	{ "GET", B, "/pay/12", "share=/pay/12;m=GET;org=acme;app=", D, NULL,
	    NULL, 11 },
	/* prefix grants: the path and below, never a sibling */
	{ "GET", B, "/pay/12/receipt", "share=/pay/12;m=GET;org=acme", D, NULL,
	    NULL, 0 },
	{ "GET", B, "/pay/12;x", "share=/pay/12;m=GET;org=acme", D, NULL, NULL,
	    11 },
	{ "GET", B, "/pay/12/", "share=/pay/12;m=GET;org=acme", D, NULL, NULL,
	    11 },
	{ "GET", B, "/pay/12", "-", L, NULL, NULL, 11 },
	/* a grant for GET admits HEAD, as a route's GET does; no more */
	{ "HEAD", B, "/pay/12", "share=/pay/12;m=GET;org=acme", A, NULL, NULL,
	    11 },
	{ "HEAD", B, "/pay/12", "share=/pay/12;m=POST;org=acme", D, NULL,
	    NULL, 11 },
	{ "POST", B, "/pay/12", "share=/pay/12;m=HEAD;org=acme", D, NULL,
	    NULL, 11 },
	/* the bare host has no tenant: a key or link of any org would do,
	 * so none does (the routes do not say any_org) */
	{ "GET", "bill.test", "/api/v1/inv", "key=acme;scope=inv:read", D, "",
	    NULL, 14 },
	{ "POST", "bill.test", "/api/v1/inv", "key=globex;scope=inv:write", D,
	    "", NULL, 18 },
	{ "GET", "bill.test", "/pay/12", "share=/pay/12;m=GET;org=acme", D, "",
	    NULL, 11 },
	{ "GET", "bill.test", "/pay/12", "share=/pay/12;m=GET", D, "", NULL,
	    11 },
	{ "HEAD", "bill.test", "/pay/12", "share=/pay/12;m=GET", D, NULL, NULL,
	    11 },
	/* sessions there are unchanged: no tenant, no tenant route */
	{ "GET", "bill.test", "/me", "u=a@x", A, "", "-", 46 },
};

static const struct row path_rows[] = {
	{ "GET", "paths.test", "/login", "-", A, "", NULL, 6 },
	{ "GET", "paths.test", "/account", "-", L, "", NULL, 8 },
	{ "GET", "paths.test", "/account", "u=a@x", A, "", "-", 8 },
	{ "GET", "paths.test", "/acme/home", "u=a@x;acme=viewer", A, "acme",
	    "viewer", 15 },
	{ "GET", "paths.test", "/acme", "u=a@x;acme=viewer", A, "acme", NULL,
	    15 },
	{ "GET", "paths.test", "/acme/", "u=a@x;acme=viewer", A, "acme", NULL,
	    15 },
	{ "GET", "paths.test", "/globex/home", "u=a@x;acme=owner", D, "globex",
	    "-", 15 },
	{ "GET", "paths.test", "/acme/settings/sso", "u=a@x;acme=viewer", D,
	    "acme", NULL, 10 },
	{ "GET", "paths.test", "/acme/settings/sso", "u=a@x;acme=admin", A,
	    "acme", "admin", 10 },
	{ "GET", "paths.test", "/acme/settings", "u=a@x;acme=member", D, NULL,
	    NULL, 10 },
	{ "GET", "paths.test", "/globex/settings", "u=a@x;acme=owner", D,
	    "globex", NULL, 10 },
	{ "DELETE", "paths.test", "/acme/projects/p1/x", "u=a@x;acme=admin", D,
	    NULL, NULL, 12 },
	{ "DELETE", "paths.test", "/acme/projects/p1/x", "u=a@x;acme=owner", A,
	    NULL, NULL, 12 },
	{ "GET", "paths.test", "/acme/projects/p1/x", "u=a@x;acme=viewer", A,
	    NULL, NULL, 15 },
	{ "DELETE", "paths.test", "/acme/projects/p1/x/y", "u=a@x;acme=viewer",
	    A, NULL, NULL, 15 },
	/* tenant values that are no slug: 404 */
	{ "GET", "paths.test", "/ACME/home", "u=a@x;ACME=owner", N, NULL, NULL,
	    15 },
	{ "GET", "paths.test", "/a%20b/home", "u=a@x", N, NULL, NULL, 15 },
	{ "GET", "paths.test", "/-x/home", "u=a@x", N, NULL, NULL, 15 },
	{ "GET", "paths.test", "/", "u=a@x;acme=owner", D, NULL, NULL, 0 },
	{ "GET", "paths.test", "/", "-", D, NULL, NULL, 0 },
	/* matrix parameters never change the route nor the tenant */
	{ "GET", "paths.test", "/acme;x=1/settings/sso", "u=a@x;acme=viewer", D,
	    "acme", NULL, 10 },
	{ "GET", "paths.test", "/acme/settings;x/sso", "u=a@x;acme=viewer", D,
	    "acme", NULL, 10 },
	{ "GET", "paths.test", "/login;jsessionid=1", "-", A, NULL, NULL, 6 },
};

/* Path-confusion attempts, through path.c: never a way around /admin. */
static const struct row confusion_rows[] = {
	{ "GET", "ci.test", "/admin/x", "-", L, "staff", NULL, 8 },
	{ "GET", "ci.test", "/admin/..;/x", "-", REFUSED, NULL, NULL, 0 },
	{ "GET", "ci.test", "/admin/.;/x", "-", REFUSED, NULL, NULL, 0 },
	{ "GET", "ci.test", "//admin", "-", L, NULL, NULL, 8 },
	{ "GET", "ci.test", "///admin//x", "-", L, NULL, NULL, 8 },
	{ "GET", "ci.test", "/ADMIN", "-", L, NULL, NULL, 8 },
	{ "GET", "ci.test", "/Admin/X", "-", L, NULL, NULL, 8 },
	{ "GET", "ci.test", "/admin%2f", "-", REFUSED, NULL, NULL, 0 },
	{ "GET", "ci.test", "/admin%2Fx", "-", REFUSED, NULL, NULL, 0 },
	{ "GET", "ci.test", "/admin%5cx", "-", REFUSED, NULL, NULL, 0 },
	{ "GET", "ci.test", "/admin\\x", "-", REFUSED, NULL, NULL, 0 },
	{ "GET", "ci.test", "/admin%00", "-", REFUSED, NULL, NULL, 0 },
	{ "GET", "ci.test", "/admin/.", "-", L, NULL, NULL, 8 },
	{ "GET", "ci.test", "/admin/./x", "-", L, NULL, NULL, 8 },
	{ "GET", "ci.test", "/./admin", "-", L, NULL, NULL, 8 },
	{ "GET", "ci.test", "/x/../admin", "-", L, NULL, NULL, 8 },
	{ "GET", "ci.test", "/x/%2e%2e/admin", "-", L, NULL, NULL, 8 },
	{ "GET", "ci.test", "/x/%2E%2E/admin/", "-", L, NULL, NULL, 8 },
	{ "GET", "ci.test", "/%2e/admin", "-", L, NULL, NULL, 8 },
	{ "GET", "ci.test", "/%61dmin", "-", L, NULL, NULL, 8 },
	{ "GET", "ci.test", "/adm%69n/x", "-", L, NULL, NULL, 8 },
	{ "GET", "ci.test", "/admin;jsessionid=1", "-", L, NULL, NULL, 8 },
	{ "GET", "ci.test", "/admin;/x", "-", L, NULL, NULL, 8 },
	{ "GET", "ci.test", "/admin/", "-", L, NULL, NULL, 8 },
	{ "GET", "ci.test", "/admin", "-", L, NULL, NULL, 8 },
	{ "GET", "ci.test", "/admin/..", "-", A, NULL, NULL, 10 },
	{ "GET", "ci.test", "/admin/%2e%2e/x", "-", A, NULL, NULL, 10 },
	{ "GET", "ci.test", "/../admin", "-", REFUSED, NULL, NULL, 0 },
	{ "GET", "ci.test", "/admin#x", "-", REFUSED, NULL, NULL, 0 },
	{ "GET", "ci.test", "/admin%09", "-", REFUSED, NULL, NULL, 0 },
	{ "GET", "ci.test", "admin", "-", REFUSED, NULL, NULL, 0 },
	{ "GET", "ci.test", "/administrator", "-", A, NULL, NULL, 10 },
	{ "GET", "ci.test", "/admin/x", "u=a@x;staff=admin", A, "staff",
	    "admin", 8 },
	{ "GET", "ci.test", "/ADMIN/x", "u=a@x;staff=member", D, "staff",
	    "member", 8 },
	/* escapes decode before the fold: /%41DMIN is /ADMIN is /admin */
	{ "GET", "ci.test", "/%41DMIN", "u=a@x;staff=member", D, NULL, NULL,
	    8 },
	{ "GET", "ci.test", "/%41dMiN/x", "-", L, NULL, NULL, 8 },
	{ "GET", "ci.test", "/%2541DMIN", "-", REFUSED, NULL, NULL, 0 },
	/* characters a case-folding upstream reads as ASCII, and the
	 * trailing dot or space Windows drops: refused by the matcher */
	{ "GET", "ci.test", "/adm%C4%B1n", "-", D, NULL, NULL, 0 },
	{ "GET", "ci.test", "/adm\xc4\xb1n", "-", D, NULL, NULL, 0 },
	{ "GET", "ci.test", "/%C5%BFecret", "-", D, NULL, NULL, 0 },
	{ "GET", "ci.test", "/%EF%BC%A1DMIN", "-", D, NULL, NULL, 0 },
	{ "GET", "ci.test", "/adm%ef%bd%89n", "-", D, NULL, NULL, 0 },
	{ "GET", "ci.test", "/admin.", "-", D, NULL, NULL, 0 },
	{ "GET", "ci.test", "/ADMIN./x", "-", D, NULL, NULL, 0 },
	{ "GET", "ci.test", "/admin%20/x", "-", D, NULL, NULL, 0 },
	{ "GET", "ci.test", "/admin /x", "-", D, NULL, NULL, 0 },
	{ "GET", "ci.test", "/a.b/c", "-", A, NULL, NULL, 10 },
	/* ";" however encoded, wherever it is */
	{ "GET", "ci.test", "/admin%3bx", "-", L, NULL, NULL, 8 },
	{ "GET", "ci.test", "/ADMIN%3B/x", "-", L, NULL, NULL, 8 },
	{ "GET", "ci.test", "/;x/admin", "-", L, NULL, NULL, 8 },
	{ "GET", "ci.test", "/%3Bx/admin/y", "-", L, NULL, NULL, 8 },
	{ "GET", "ci.test", "/;/;/admin", "-", L, NULL, NULL, 8 },
	{ "GET", "ci.test", "/admin/..%3B/x", "-", REFUSED, NULL, NULL, 0 },
	{ "GET", "ci.test", "/admin%253Bx", "-", REFUSED, NULL, NULL, 0 },
	{ "GET", "ci.test", "/%C0%AEadmin", "-", REFUSED, NULL, NULL, 0 },
	{ "GET", "ci.test", "/x%C0%AF..%C0%AFadmin", "-", REFUSED, NULL, NULL,
	    0 },
	{ "GET", "ci.test", "/admin/x", "u=a@x;acme=owner", D, "staff", "-",
	    8 },
	/* a case-sensitive app: /ADMIN is another path (as on the upstream,
	 * if the upstream is case-sensitive too: else set
	 * case_insensitive_paths) */
	{ "GET", "cs.test", "/admin", "-", L, NULL, NULL, 7 },
	{ "GET", "cs.test", "/ADMIN", "-", A, NULL, NULL, 9 },
	{ "GET", "cs.test", "//admin/x", "-", L, NULL, NULL, 7 },
	{ "GET", "cs.test", "/%61dmin", "-", L, NULL, NULL, 7 },
	{ "GET", "cs.test", "/admin;x", "-", L, NULL, NULL, 7 },
	{ "GET", "cs.test", "/admin%3bx", "-", L, NULL, NULL, 7 },
	{ "GET", "cs.test", "/admin%3B", "-", L, NULL, NULL, 7 },
	{ "GET", "cs.test", "/;x/admin", "-", L, NULL, NULL, 7 },
	{ "GET", "cs.test", "/%3b/admin/x", "-", L, NULL, NULL, 7 },
	{ "GET", "cs.test", "/admin;x/../y", "-", A, NULL, NULL, 9 },
	{ "GET", "cs.test", "/admin%253Bx", "-", REFUSED, NULL, NULL, 0 },
	{ "GET", "cs.test", "/admin.", "-", A, NULL, NULL, 9 },
	{ "GET", "cs.test", "/x/%2e%2e/admin", "-", L, NULL, NULL, 7 },
	/* apps without routes behave as before the policy engine */
	{ "GET", "legacy.test", "/anything", "-", L, "", NULL, 0 },
	{ "GET", "legacy.test", "/anything", "u=a@x", A, "", NULL, 0 },
	{ "GET", "legacy.test", "/", "key=acme;scope=x", D, NULL, NULL, 0 },
	{ "POST", "open.test", "/anything", "-", A, NULL, NULL, 0 },
	{ "GET", "open.test", "/", "u=a@x", A, NULL, NULL, 0 },
};

static void
test_bill(void **state)
{
	struct config	*cfg = all_apps();

	(void)state;
	check_rows(cfg, bill_rows, NROWS(bill_rows));
	cfg_free(cfg);
}

static void
test_path_tenant(void **state)
{
	struct config	*cfg = all_apps();

	(void)state;
	check_rows(cfg, path_rows, NROWS(path_rows));
	cfg_free(cfg);
}

static void
test_confusion(void **state)
{
	struct config	*cfg = all_apps();

	(void)state;
	check_rows(cfg, confusion_rows, NROWS(confusion_rows));
	cfg_free(cfg);
}

/*
 * The ladder as a matrix: every rung held against every rung required,
 * for a host tenant and a path tenant, member and non-member.
 */
static void
test_ladder_matrix(void **state)
{
	static const char *const req_path[] = { "/owner/x", "/exec/x",
	    "/admin/x", "/dashboard", "/invoices/1" };
	static const int req_rank[] = { 0, 1, 2, 3, 4 };
	struct config	*cfg = all_apps();
	struct row	 r;
	char		 who[64];
	size_t		 i, j, k, n = 0;

	(void)state;
	for (i = 0; i < 5; i++)		/* role held */
		for (j = 0; j < 5; j++)	/* route */
			for (k = 0; k < 2; k++) {	/* member of acme? */
				(void)snprintf(who, sizeof(who), "u=a@x;%s=%s;mfa",
				    k == 0 ? "acme" : "globex", ladder[i]);
				memset(&r, 0, sizeof(r));
				r.method = "GET";
				r.host = B;
				r.path = req_path[j];
				r.who = who;
				r.want = k == 0 && (int)i <= req_rank[j] ? A : D;
				r.tenant = "acme";
				check_rows(cfg, &r, 1);
				n++;
			}
	assert_int_equal(n, 50);
	cfg_free(cfg);
}

/* First match wins; default deny; methods; every pattern kind. */
static void
test_match_order(void **state)
{
	static const char yaml[] =
	    "app:\n  name: m\n  hosts: [m.test]\n  upstream: http://127.0.0.1:9\n"
	    "  routes:\n"
	    "    - {path: /a/b, methods: [GET], public: true}\n"		/* 6 */
	    "    - {path: /a/*, methods: [GET], authenticated: true}\n"	/* 7 */
	    "    - {path: \"/a/{x}\", methods: [POST], authenticated: true}\n"
	    "    - {path: /a/**, public: true}\n"				/* 9 */
	    "    - {path: /b/*/c, authenticated: true}\n"			/* 10 */
	    "    - {path: /b/x/**, public: true}\n"				/* 11 */
	    "    - {path: /c, methods: [OPTIONS], public: true}\n";	/* 12 */
	static const struct row rows[] = {
		{ "GET", "m.test", "/a/b", "-", A, NULL, NULL, 6 },
		{ "HEAD", "m.test", "/a/b", "-", A, NULL, NULL, 6 },
		{ "POST", "m.test", "/a/b", "-", L, NULL, NULL, 8 },
		{ "PUT", "m.test", "/a/b", "-", A, NULL, NULL, 9 },
		{ "GET", "m.test", "/a/c", "-", L, NULL, NULL, 7 },
		{ "GET", "m.test", "/a", "-", A, NULL, NULL, 9 },
		{ "GET", "m.test", "/a/c/d", "-", A, NULL, NULL, 9 },
		{ "GET", "m.test", "/b/x/c", "-", L, NULL, NULL, 10 },
		{ "GET", "m.test", "/b/x/d", "-", A, NULL, NULL, 11 },
		{ "GET", "m.test", "/b/y/c/d", "-", D, NULL, NULL, 0 },
		{ "GET", "m.test", "/b/y", "-", D, NULL, NULL, 0 },
		{ "OPTIONS", "m.test", "/c", "-", A, NULL, NULL, 12 },
		{ "GET", "m.test", "/c", "-", D, NULL, NULL, 0 },
		{ "PROPFIND", "m.test", "/a/zz", "-", A, NULL, NULL, 9 },
		{ "PROPFIND", "m.test", "/c", "-", D, NULL, NULL, 0 },
		{ "GET", "m.test", "/", "-", D, NULL, NULL, 0 },
		{ "GET", "m.test", "/zzz", "-", D, NULL, NULL, 0 },
	};
	struct diag	 d = { 0 };
	struct config	*cfg;

	(void)state;
	cfg = cfg_load(&d, ladder, 5, "m.yaml", yaml, NULL);
	assert_int_equal(d.nerrors, 0);
	assert_int_equal(d.nwarnings, 1);
	assert_string_equal(d.msgs[0], "m.yaml:6:14: warning: route /a/b grants "
	    "public access under /a/*, which line 7 protects");
	check_rows(cfg, rows, NROWS(rows));
	diag_free(&d);
	cfg_free(cfg);
}

/* ---- error locations ---- */

static void
errors_are(const char *yaml, ...)
{
	struct diag	 d = { 0 };
	struct config	*cfg;
	const char	*want;
	va_list		 ap;
	size_t		 i = 0;

	cfg = cfg_load(&d, ladder, 5, "t.yaml", yaml, NULL);
	va_start(ap, yaml);
	while ((want = va_arg(ap, const char *)) != NULL) {
		if (i >= d.nmsgs)
			fail_msg("missing message %s", want);
		if (strcmp(d.msgs[i], want) != 0)
			fail_msg("message %zu:\n got: %s\nwant: %s", i,
			    d.msgs[i], want);
		i++;
	}
	va_end(ap);
	if (i != d.nmsgs)
		fail_msg("extra message: %s", d.msgs[i]);
	diag_free(&d);
	cfg_free(cfg);
}

#define HEAD	"app:\n  name: t\n  hosts: [t.test]\n  upstream: " \
		"http://127.0.0.1:9\n  routes:\n"
#define THEAD	"app:\n  name: t\n  hosts: [\"{org}.t.test\"]\n  upstream: " \
		"http://127.0.0.1:9\n  routes:\n"

static void
test_errors(void **state)
{
	(void)state;
	errors_are(HEAD "    - path: /a\n      pubic: true\n",
	    "t.yaml:7:7: unknown key 'pubic' in 'app.routes[0]' (expected "
	    "one of: path, methods, public, authenticated, mfa, role, users, "
	    "emails, scopes, auth, fresh_auth, rate_limit, any_org)",
	    "t.yaml:6:7: app.routes[0]: route /a requires nothing: add public, "
	    "authenticated, role, users, emails, scopes or mfa", NULL);
	errors_are(HEAD "    - path: /a\n      role: boss\n",
	    "t.yaml:7:13: route /a: role needs a tenant, but {org} is not "
	    "bound: put {org} in the path or in the app's hosts, or set "
	    "app.org", "t.yaml:7:13: route /a: unknown role 'boss' (the ladder, "
	    "highest first: owner, executive, ...)", NULL);
	errors_are(THEAD "    - path: /a\n      role: boss\n",
	    "t.yaml:7:13: route /a: unknown role 'boss' (the ladder, highest "
	    "first: owner, executive, ...)", NULL);
	errors_are(HEAD "    - path: /a/**\n      public: true\n"
	    "    - path: /a/b\n      methods: [GET]\n      authenticated: true\n",
	    "t.yaml:8:13: route /a/b GET,HEAD is unreachable: /a/** at line 6 "
	    "already matches every request it would", NULL);
	errors_are(HEAD "    - path: /a/*\n      methods: [GET]\n      public: true\n"
	    "    - path: \"/a/{id}\"\n      methods: [POST]\n      public: true\n"
	    "    - path: /a/b\n      methods: [GET, POST]\n"
	    "      authenticated: true\n",
	    "t.yaml:12:13: route /a/b GET,HEAD,POST is unreachable: /a/* at "
	    "line 6 already matches every request it would", NULL);
	errors_are(THEAD "    - path: \"/{org}/x\"\n      authenticated: true\n",
	    "t.yaml:6:13: route /{org}/x: {org} is already bound by the app's "
	    "hosts ({org}.…); a tenant is bound once", NULL);
	errors_are(HEAD "    - path: /a\n      public: true\n      role: admin\n",
	    "t.yaml:7:15: route /a: public: true conflicts with its other "
	    "requirements (role, users, emails, authenticated, mfa, "
	    "fresh_auth, scopes)",
	    "t.yaml:8:13: route /a: role needs a tenant, but {org} is not "
	    "bound: put {org} in the path or in the app's hosts, or set "
	    "app.org", NULL);
	errors_are(HEAD "    - path: /admin/**\n      authenticated: true\n"
	    "    - path: /admin/help\n      public: true\n",
	    "t.yaml:8:13: route /admin/help is unreachable: /admin/** at line "
	    "6 already matches every request it would", NULL);
	errors_are(HEAD "    - path: /admin/help\n      public: true\n"
	    "    - path: /admin/**\n      authenticated: true\n",
	    "t.yaml:6:13: warning: route /admin/help grants public access "
	    "under /admin/**, which line 8 protects", NULL);
	errors_are(HEAD "    - path: /a/**/b\n      public: true\n"
	    "    - path: a\n      public: true\n"
	    "    - path: /a/%7e\n      public: true\n"
	    "    - path: /a/b*\n      public: true\n"
	    "    - path: \"/{Org}\"\n      public: true\n",
	    "t.yaml:6:13: app.routes[0].path: invalid path '/a/**/b': '**' "
	    "must be the last segment",
	    "t.yaml:8:13: app.routes[1].path: invalid path 'a': must start "
	    "with '/'",
	    "t.yaml:10:13: app.routes[2].path: invalid path '/a/%7e': not in "
	    "normal form: requests arrive as '/a/~'",
	    "t.yaml:12:13: app.routes[3].path: invalid path '/a/b*': '*' "
	    "inside a segment: use a whole '*', '**' or '{name}' segment",
	    "t.yaml:14:13: app.routes[4].path: invalid path '/{Org}': a "
	    "placeholder is {name} with a lower-case name", NULL);
	errors_are(HEAD "    - path: /a\n      methods: [GET, FETCH]\n"
	    "      auth: [cookie]\n      authenticated: true\n"
	    "    - path: /b\n",
	    "t.yaml:7:22: app.routes[0].methods: unknown method 'FETCH' "
	    "(expected GET, HEAD, POST, PUT, PATCH, DELETE or OPTIONS, in "
	    "upper case)",
	    "t.yaml:8:14: app.routes[0].auth: unknown kind 'cookie' (expected "
	    "session, apikey or share)",
	    "t.yaml:10:7: app.routes[1]: route /b requires nothing: add "
	    "public, authenticated, role, users, emails, scopes or mfa", NULL);
	errors_are("app:\n  name: t\n  hosts: [t.test]\n  upstream: "
	    "http://127.0.0.1:9\n  protect: true\n  routes:\n"
	    "    - {path: /, public: true}\n",
	    "t.yaml:5:12: app.protect: an app with routes says per route what "
	    "it requires (public: true, authenticated: true, ...); remove "
	    "protect", NULL);
	errors_are("app:\n  name: t\n  hosts: [\"{org}.t.test\"]\n  upstream: "
	    "http://127.0.0.1:9\n  org: acme\n",
	    "t.yaml:5:8: app.org: the tenant is already bound by a host "
	    "{org}.…; a tenant is bound once", NULL);
	errors_are("app:\n  name: t\n  hosts: [\"{id}.t.test\", \"{org}.t\"]\n"
	    "  upstream: http://127.0.0.1:9\n",
	    "t.yaml:3:11: app.hosts: invalid host '{id}.t.test': the only "
	    "placeholder in a host is a whole first label {org}",
	    "t.yaml:3:26: app.hosts: invalid host '{org}.t': {org} needs at "
	    "least two labels after it", NULL);
	errors_are(HEAD "    - path: /k\n      auth: [apikey]\n"
	    "    - path: /s\n      auth: [share]\n      mfa: true\n"
	    "    - path: /t\n      scopes: [a:b]\n",
	    "t.yaml:6:7: route /k: auth accepts apikey, so list the scopes a "
	    "key needs (scopes: [...])",
	    "t.yaml:8:7: route /s: mfa, fresh_auth, users and emails apply to "
	    "sessions only; accept apikey or share on a separate route",
	    "t.yaml:11:7: route /t: scopes need apikey in auth", NULL);
}

/*
 * any_org: on a tenant-less request of an app with tenants, only a route
 * that says so takes API keys and share links, of any org.
 */
static void
test_any_org(void **state)
{
	static const char yaml[] =
	    "app:\n  name: t\n  hosts: [t.test, \"{org}.t.test\"]\n"
	    "  upstream: http://127.0.0.1:9\n  routes:\n"
	    "    - {path: /status/**, auth: [apikey], scopes: [s], "
	    "any_org: true}\n"						/* 6 */
	    "    - {path: /files/**, auth: [share], any_org: true}\n"	/* 7 */
	    "    - {path: /api/**, auth: [apikey], scopes: [s]}\n";	/* 8 */
	static const char pyaml[] =
	    "app:\n  name: p\n  hosts: [p.test]\n"
	    "  upstream: http://127.0.0.1:9\n  routes:\n"
	    "    - {path: \"/{org}/api/**\", auth: [apikey], scopes: [s]}\n"
	    "    - {path: /api/**, auth: [apikey], scopes: [s]}\n"	/* 7 */
	    "    - {path: /up, auth: [apikey], scopes: [s], any_org: true}\n";
	static const struct row rows[] = {
		{ "GET", "t.test", "/status/x", "key=acme;scope=s", A, "",
		    NULL, 6 },
		{ "GET", "t.test", "/files/a", "share=/files/a;m=GET;org=acme",
		    A, "", NULL, 7 },
		{ "GET", "t.test", "/api/x", "key=acme;scope=s", D, "", NULL,
		    8 },
		/* with a tenant, the key's org must still be it */
		{ "GET", "acme.t.test", "/status/x", "key=acme;scope=s", A,
		    "acme", NULL, 6 },
		{ "GET", "acme.t.test", "/status/x", "key=globex;scope=s", D,
		    "acme", NULL, 6 },
		{ "GET", "acme.t.test", "/api/x", "key=acme;scope=s", A, "acme",
		    NULL, 8 },
		/* path tenants: a route without {org} says it binds none */
		{ "GET", "p.test", "/acme/api/x", "key=acme;scope=s", A, "acme",
		    NULL, 6 },
		{ "GET", "p.test", "/acme/api/x", "key=globex;scope=s", D,
		    "acme", NULL, 6 },
		{ "GET", "p.test", "/api/x", "key=acme;scope=s", A, "", NULL,
		    7 },
		{ "GET", "p.test", "/up", "key=acme;scope=s", A, "", NULL, 8 },
	};
	struct diag	 d = { 0 };
	struct config	*cfg;

	(void)state;
	cfg = cfg_load(&d, ladder, 5, "t.yaml", yaml, "p.yaml", pyaml, NULL);
	if (d.nmsgs > 0)
		diag_print(&d, stderr);
	assert_int_equal(d.nmsgs, 0);
	check_rows(cfg, rows, NROWS(rows));
	diag_free(&d);
	cfg_free(cfg);
	errors_are(HEAD "    - path: /a\n      authenticated: true\n"
	    "      any_org: true\n",
	    "t.yaml:6:7: route /a: any_org applies to API keys and share "
	    "links: add apikey or share to auth", NULL);
}

/* "paths:" takes one of two words; the older boolean key is one or the other. */
static void
test_paths_key(void **state)
{
	static const char base[] = "app:\n  name: t\n  hosts: [t.test]\n"
	    "  upstream: http://127.0.0.1:9\n";
	char	 yaml[512];

	(void)state;
	(void)snprintf(yaml, sizeof(yaml), "%s  paths: Case_Insensitive\n",
	    base);
	errors_are(yaml, "t.yaml:5:10: app.paths: expected case_sensitive or "
	    "case_insensitive, got 'Case_Insensitive'", NULL);
	(void)snprintf(yaml, sizeof(yaml), "%s  paths: [x]\n", base);
	errors_are(yaml, "t.yaml:5:10: app.paths: expected a scalar value, "
	    "got a list", NULL);
	(void)snprintf(yaml, sizeof(yaml), "%s  paths: case_sensitive\n"
	    "  case_insensitive_paths: true\n", base);
	errors_are(yaml, "t.yaml:6:27: app.case_insensitive_paths: give one "
	    "of paths and case_insensitive_paths", NULL);
	(void)snprintf(yaml, sizeof(yaml), "%s  paths: case_sensitive\n",
	    base);
	errors_are(yaml, NULL);
}

/* Overlapping hosts across apps: *.x and {org}.x serve the same names. */
static void
test_host_overlap(void **state)
{
	static const char a[] = "app:\n  name: a\n  hosts: [\"*.x.test\"]\n"
	    "  upstream: http://127.0.0.1:9\n";
	static const char b[] = "app:\n  name: b\n  hosts: [\"{org}.x.test\"]\n"
	    "  upstream: http://127.0.0.1:9\n";
	struct diag	 d = { 0 };
	struct config	*cfg;

	(void)state;
	cfg = cfg_load(&d, ladder, 5, "a.yaml", a, "b.yaml", b, NULL);
	assert_int_equal(d.nerrors, 1);
	assert_string_equal(d.msgs[0], "b.yaml:3:11: app.hosts: host "
	    "'{org}.x.test' is already served by app 'a' at a.yaml:3:11");
	diag_free(&d);
	cfg_free(cfg);
}

/* route_host_tenant and config_app_for_host with a tenant label. */
static void
test_hosts(void **state)
{
	struct config	*cfg = all_apps();
	char		 org[64];

	(void)state;
	assert_int_equal(route_host_tenant("{org}.b.test", "acme.b.test", org,
	    sizeof(org)), 1);
	assert_string_equal(org, "acme");
	assert_int_equal(route_host_tenant("{org}.b.test", "a.acme.b.test",
	    org, sizeof(org)), 0);
	assert_int_equal(route_host_tenant("{org}.b.test", "b.test", org,
	    sizeof(org)), 0);
	assert_int_equal(route_host_tenant("{org}.b.test", ".b.test", org,
	    sizeof(org)), 0);
	assert_int_equal(route_host_tenant("b.test", "acme.b.test", org,
	    sizeof(org)), 0);
	assert_string_equal(config_app_for_host(cfg, "acme.bill.test")->name,
	    "bill");
	assert_string_equal(config_app_for_host(cfg, "bill.test")->name,
	    "bill");
	assert_null(config_app_for_host(cfg, "a.b.bill.test"));
	assert_null(config_app_for_host(cfg, "xbill.test"));
	cfg_free(cfg);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bill),
		cmocka_unit_test(test_path_tenant),
		cmocka_unit_test(test_confusion),
		cmocka_unit_test(test_ladder_matrix),
		cmocka_unit_test(test_match_order),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_paths_key),
		cmocka_unit_test(test_any_org),
		cmocka_unit_test(test_host_overlap),
		cmocka_unit_test(test_hosts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
