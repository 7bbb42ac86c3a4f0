/*
 * Policy files (see policy.h).  One file describes one app: its name (the
 * assertion audience), the hosts it serves and its upstream.  Names and
 * hosts are unique across all files; a conflict names both positions.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "diag.h"
#include "headers.h"
#include "log.h"
#include "parse.h"
#include "policy.h"
#include "policy-int.h"
#include "confratelimit.h"
#include "route.h"
#include "tls.h"
#include "yconf.h"

static void	policy_on_app(struct yconf *, yaml_node_t *, void *);
static void	policy_on_name(struct yconf *, yaml_node_t *, void *);
static void	policy_on_hosts(struct yconf *, yaml_node_t *, void *);
static void	policy_on_upstream(struct yconf *, yaml_node_t *, void *);
static void	policy_on_upstream_ca(struct yconf *, yaml_node_t *, void *);
static void	policy_on_server_name(struct yconf *, yaml_node_t *, void *);
static void	policy_on_security(struct yconf *, yaml_node_t *, void *);
static void	policy_on_mode(struct yconf *, yaml_node_t *, void *);
static void	policy_on_header(struct yconf *, yaml_node_t *, void *);
static void	policy_on_protect(struct yconf *, yaml_node_t *, void *);
static void	policy_on_org(struct yconf *, yaml_node_t *, void *);
static void	policy_on_paths(struct yconf *, yaml_node_t *, void *);
static const struct yconf_key policy_top_keys[] = {
	{ "app", YAML_MAPPING_NODE, 1, policy_on_app, 0, 0, 0 },
};

static const struct yconf_key policy_app_keys[] = {
	{ "name", YAML_SCALAR_NODE, 1, policy_on_name, 0, 0, 0 },
	{ "hosts", YAML_SEQUENCE_NODE, 1, policy_on_hosts, 0, 0, 0 },
	{ "upstream", YAML_SCALAR_NODE, 1, policy_on_upstream, 0, 0, 0 },
	{ "upstream_ca", YAML_SCALAR_NODE, 0, policy_on_upstream_ca, 0, 0, 0 },
	{ "upstream_server_name", YAML_SCALAR_NODE, 0, policy_on_server_name,
	    0, 0, 0 },
	{ "security_headers", YAML_MAPPING_NODE, 0, policy_on_security,
	    0, 0, 0 },
	{ "hide_server_header", YAML_SCALAR_NODE, 0, yconf_on_bool,
	    offsetof(struct policy_ctx, app.hide_server_header), 0, 0 },
	{ "protect", YAML_SCALAR_NODE, 0, policy_on_protect, 0, 0, 0 },
	{ "org", YAML_SCALAR_NODE, 0, policy_on_org, 0, 0, 0 },
	{ "paths", YAML_SCALAR_NODE, 0, policy_on_paths, 0, 0, 0 },
	{ "case_insensitive_paths", YAML_SCALAR_NODE, 0, policy_on_paths,
	    0, 1, 0 },
	{ "method_override", YAML_SCALAR_NODE, 0, yconf_on_bool,
	    offsetof(struct policy_ctx, app.method_override), 0, 0 },
	{ "allow_clear_site_data", YAML_SCALAR_NODE, 0, yconf_on_bool,
	    offsetof(struct policy_ctx, app.allow_clear_site_data), 0, 0 },
	{ "routes", YAML_SEQUENCE_NODE, 0, policy_on_routes, 0, 0, 0 },
	{ "identity_headers", YAML_MAPPING_NODE, 0, policy_on_idheaders,
	    0, 0, 0 },
};

/* <min> carries the enum headers_id that checks the value. */
#define HEADER_KEY(name, field, id)	{ name, YAML_SCALAR_NODE, 0,	\
	policy_on_header, offsetof(struct config_headers, field), id, 0 }

static const struct yconf_key policy_security_keys[] = {
	{ "mode", YAML_SCALAR_NODE, 0, policy_on_mode, 0, 0, 0 },
	HEADER_KEY("csp", csp, HEADERS_CSP),
	HEADER_KEY("frame_options", frame_options, HEADERS_FRAME),
	HEADER_KEY("referrer_policy", referrer_policy, HEADERS_REFERRER),
	HEADER_KEY("permissions_policy", permissions_policy,
	    HEADERS_PERMISSIONS),
};

#define NITEMS(a)	(sizeof(a) / sizeof((a)[0]))

struct config_pos
policy_pos(const yaml_node_t *n)
{
	struct config_pos	pos;

	pos.line = n->start_mark.line + 1;
	pos.col = n->start_mark.column + 1;
	return pos;
}

static void
policy_on_app(struct yconf *y, yaml_node_t *n, void *obj)
{
	yconf_map(y, n, "app", policy_app_keys, NITEMS(policy_app_keys), obj);
}

int
policy_name_ok(const char *s)
{
	size_t	i;

	for (i = 0; s[i] != '\0'; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
			return 0;
	return i >= 1 && i <= POLICY_NAMEMAX;
}

static void
policy_on_name(struct yconf *y, yaml_node_t *n, void *obj)
{
	struct policy_ctx	*pc = obj;
	const struct config_app	*a;
	const char		*s;
	char			 val[80];
	size_t			 i;

	if (yconf_str(y, n, &s) == -1)
		return;
	if (!policy_name_ok(s)) {
		yconf_error(y, n, "%s: invalid app name '%s': use 1 to %d "
		    "lower-case letters, digits and '-'", y->key,
		    parse_printable(val, sizeof(val), s, 64), POLICY_NAMEMAX);
		return;
	}
	for (i = 0; i < pc->cfg->napps; i++) {
		a = &pc->cfg->apps[i];
		if (strcmp(a->name, s) == 0) {
			yconf_error(y, n, "%s: app '%s' is already defined at "
			    "%s:%zu:%zu", y->key, s, a->policy_file,
			    a->pos.line, a->pos.col);
			return;
		}
	}
	if ((pc->app.name = strdup(s)) == NULL) {
		yconf_nomem(y, n);
		return;
	}
	pc->app.pos = policy_pos(n);
}

/*
 * The same host pattern: equal, or "*.rest" and "{org}.rest" (both serve
 * every name one label above "rest").
 */
static int
policy_host_same(const char *a, const char *b)
{
	if (strcmp(a, b) == 0)
		return 1;
	if (strncmp(a, "*.", 2) == 0)
		a += 1;
	else if (strncmp(a, "{org}.", 6) == 0)
		a += 5;
	else
		return 0;
	if (strncmp(b, "*.", 2) == 0)
		b += 1;
	else if (strncmp(b, "{org}.", 6) == 0)
		b += 5;
	else
		return 0;
	return strcmp(a, b) == 0;
}

/* Report <host> if an app of an earlier file, or this one, serves it. */
static int
policy_host_taken(struct yconf *y, yaml_node_t *n, struct policy_ctx *pc,
    const char *host)
{
	const struct config_app	*a;
	size_t			 i, j;

	for (i = 0; i < pc->app.nhosts; i++)
		if (policy_host_same(pc->app.hosts[i], host)) {
			yconf_error(y, n, "%s: duplicate host '%s' (first at "
			    "line %zu)", y->key, host, pc->app.host_pos[i].line);
			return 1;
		}
	for (i = 0; i < pc->cfg->napps; i++) {
		a = &pc->cfg->apps[i];
		for (j = 0; j < a->nhosts; j++)
			if (policy_host_same(a->hosts[j], host)) {
				yconf_error(y, n, "%s: host '%s' is already "
				    "served by app '%s' at %s:%zu:%zu", y->key,
				    host, a->name, a->policy_file,
				    a->host_pos[j].line, a->host_pos[j].col);
				return 1;
			}
	}
	return 0;
}

/* Take <host> into the app; 0, or -1 when out of memory (then freed). */
static int
policy_add_host(struct policy_ctx *pc, char *host, struct config_pos pos)
{
	struct config_app	*a = &pc->app;
	char			**hosts;
	struct config_pos	*hp;

	hosts = reallocarray(a->hosts, a->nhosts + 1, sizeof(*hosts));
	if (hosts != NULL)
		a->hosts = hosts;
	hp = reallocarray(a->host_pos, a->nhosts + 1, sizeof(*hp));
	if (hp != NULL)
		a->host_pos = hp;
	if (hosts == NULL || hp == NULL) {
		free(host);
		return -1;
	}
	a->hosts[a->nhosts] = host;
	a->host_pos[a->nhosts++] = pos;
	return 0;
}

static void
policy_on_host(struct yconf *y, yaml_node_t *n, void *obj)
{
	struct policy_ctx	*pc = obj;
	const char		*s;
	char			*host, *p, err[PARSE_ERRLEN], val[80];
	int			 tenant;

	if (yconf_str(y, n, &s) == -1)
		return;
	if ((host = strdup(s)) == NULL) {
		yconf_nomem(y, n);
		return;
	}
	for (p = host; *p != '\0'; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	tenant = strncmp(host, "{org}.", 6) == 0;
	if (!tenant && strchr(host, '{') != NULL) {
		yconf_error(y, n, "%s: invalid host '%s': the only placeholder "
		    "in a host is a whole first label {org}", y->key,
		    parse_printable(val, sizeof(val), s, 64));
		free(host);
	} else if (parse_host(host + (tenant ? 6 : 0), !tenant, err,
	    sizeof(err)) == -1 || (tenant && strchr(host + 6, '.') == NULL)) {
		if (tenant && strchr(host + 6, '.') == NULL)
			(void)snprintf(err, sizeof(err), "{org} needs at least "
			    "two labels after it");
		yconf_error(y, n, "%s: invalid host '%s': %s", y->key,
		    parse_printable(val, sizeof(val), s, 64), err);
		free(host);
	} else if (policy_host_taken(y, n, pc, host))
		free(host);
	else {
		pc->app.host_tenant |= tenant;
		if (policy_add_host(pc, host, policy_pos(n)) == -1)
			yconf_nomem(y, n);
	}
}

static void
policy_on_hosts(struct yconf *y, yaml_node_t *n, void *obj)
{
	if (yconf_seq_len(n) == 0) {
		yconf_error(y, n, "%s: at least one host is required", y->key);
		return;
	}
	yconf_seq(y, n, policy_on_host, obj);
}

static void
policy_on_upstream(struct yconf *y, yaml_node_t *n, void *obj)
{
	struct policy_ctx	*pc = obj;
	struct config_upstream	*u = &pc->app.upstream;
	const char		*s;
	char			 err[PARSE_ERRLEN], val[80];

	if (yconf_str(y, n, &s) == -1)
		return;
	parse_printable(val, sizeof(val), s, 64);
	if (parse_url(s, u, err, sizeof(err)) == -1) {
		yconf_error(y, n, "%s: invalid URL '%s': %s", y->key, val, err);
		return;
	}
	if (u->addr.sslen == 0 && parse_resolve(u->host, u->port, 0, &u->addr,
	    err, sizeof(err)) == -1) {
		yconf_error(y, n, "%s: '%s': %s", y->key, val, err);
		parse_url_free(u);
		return;
	}
	pc->upstream_ok = 1;
}

/* upstream_ca: a PEM file of CAs, relative to the policy file's directory. */
static void
policy_on_upstream_ca(struct yconf *y, yaml_node_t *n, void *obj)
{
	struct policy_ctx	*pc = obj;
	const char		*s, *slash;
	int			 dirlen;

	if (yconf_str(y, n, &s) == -1)
		return;
	if (*s == '\0') {
		yconf_error(y, n, "%s: expected a file name", y->key);
		return;
	}
	slash = strrchr(y->path, '/');
	dirlen = slash == NULL || *s == '/' ? 0 : (int)(slash - y->path + 1);
	free(pc->ca_file);
	if (asprintf(&pc->ca_file, "%.*s%s", dirlen, y->path, s) == -1) {
		pc->ca_file = NULL;
		yconf_nomem(y, n);
		return;
	}
	pc->ca_pos = policy_pos(n);
}

/* upstream_server_name: the name sent as SNI and verified instead of the
 * URL's host, for upstreams reached by address. */
static void
policy_on_server_name(struct yconf *y, yaml_node_t *n, void *obj)
{
	struct policy_ctx	*pc = obj;
	const char		*s;
	char			*p, err[PARSE_ERRLEN], val[80];

	if (yconf_str(y, n, &s) == -1)
		return;
	if (parse_host(s, 0, err, sizeof(err)) == -1) {
		yconf_error(y, n, "%s: invalid host '%s': %s", y->key,
		    parse_printable(val, sizeof(val), s, 64), err);
		return;
	}
	free(pc->server_name);
	if ((pc->server_name = strdup(s)) == NULL) {
		yconf_nomem(y, n);
		return;
	}
	for (p = pc->server_name; *p != '\0'; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
}

/*
 * Give the upstream its TLS settings and build its client context now, so
 * that `postern check` reports an unreadable CA file and a reload keeps
 * the old snapshot rather than failing requests later.
 */
static void
policy_upstream_tls(struct policy_ctx *pc, struct diag *d, const char *path)
{
	struct config_upstream	*u = &pc->app.upstream;
	char			 err[256];

	if (!u->tls) {
		if (pc->ca_file != NULL || pc->server_name != NULL)
			diag_error(d, path, pc->ca_pos.line, pc->ca_pos.col,
			    "upstream_ca, upstream_server_name: only for "
			    "https:// upstreams");
		return;
	}
	u->ca_file = pc->ca_file;
	u->server_name = pc->server_name;
	pc->ca_file = pc->server_name = NULL;
	if ((u->ssl_ctx = tls_upstream_ctx(u->ca_file, err, sizeof(err))) ==
	    NULL)
		diag_error(d, path, pc->ca_pos.line, pc->ca_pos.col,
		    "upstream_ca: %s", err);
}

static void
policy_on_security(struct yconf *y, yaml_node_t *n, void *obj)
{
	struct policy_ctx	*pc = obj;

	yconf_map(y, n, "app.security_headers", policy_security_keys,
	    NITEMS(policy_security_keys), &pc->app.sec);
}

static void
policy_on_mode(struct yconf *y, yaml_node_t *n, void *obj)
{
	struct config_headers	*h = obj;
	const char		*s;
	char			 val[40];

	if (yconf_str(y, n, &s) == -1)
		return;
	if (strcmp(s, "fill") == 0 || strcmp(s, "override") == 0)
		h->override = s[0] == 'o';
	else
		yconf_error(y, n, "%s: expected fill or override, got '%s'",
		    y->key, parse_printable(val, sizeof(val), s, 32));
}

/* A header value; null or "none" means the header is not sent. */
static void
policy_on_header(struct yconf *y, yaml_node_t *n, void *obj)
{
	char		**field = (char **)(void *)((char *)obj + y->cur->off);
	const char	 *s = NULL;
	char		  err[PARSE_ERRLEN], *p;

	if (!yconf_is_null(n)) {
		if (yconf_str(y, n, &s) == -1)
			return;
		if (strcasecmp(s, "none") == 0)
			s = NULL;
		else if (headers_check((enum headers_id)y->cur->min, s, err,
		    sizeof(err)) == -1) {
			yconf_error(y, n, "%s: %s", y->key, err);
			return;
		}
	}
	free(*field);
	*field = NULL;
	if (s != NULL && (*field = strdup(s)) == NULL) {
		yconf_nomem(y, n);
		return;
	}
	if (*field != NULL && y->cur->min == HEADERS_FRAME)
		for (p = *field; *p != '\0'; p++)	/* DENY, SAMEORIGIN */
			if (*p >= 'a' && *p <= 'z')
				*p = (char)(*p - 'a' + 'A');
}

/* protect: kept for apps without routes; with routes, routes decide. */
static void
policy_on_protect(struct yconf *y, yaml_node_t *n, void *obj)
{
	struct policy_ctx	*pc = obj;

	if (yconf_bool(y, n, &pc->app.protect) == 0) {
		pc->protect_set = 1;
		pc->protect_pos = policy_pos(n);
	}
}

/* org: the one tenant of a single-organisation app. */
static void
policy_on_org(struct yconf *y, yaml_node_t *n, void *obj)
{
	struct policy_ctx	*pc = obj;
	const char		*s;
	char			 val[80];

	if (yconf_str(y, n, &s) == -1)
		return;
	if (!policy_name_ok(s) || s[0] == '-') {
		yconf_error(y, n, "%s: invalid org '%s': an org slug is 1 to "
		    "63 lower-case letters, digits and '-'", y->key,
		    parse_printable(val, sizeof(val), s, 64));
		return;
	}
	free(pc->app.org);
	if ((pc->app.org = strdup(s)) == NULL) {
		yconf_nomem(y, n);
		return;
	}
	pc->org_pos = policy_pos(n);
}

/*
 * "paths: case_sensitive | case_insensitive" (<min> 0), or the older
 * "case_insensitive_paths: bool" (<min> 1); one of the two.
 */
static void
policy_on_paths(struct yconf *y, yaml_node_t *n, void *obj)
{
	struct policy_ctx	*pc = obj;
	const char		*s;
	char			 val[80];

	if (pc->paths_set++) {
		yconf_error(y, n, "%s: give one of paths and "
		    "case_insensitive_paths", y->key);
		return;
	}
	if (y->cur->min == 1) {
		(void)yconf_bool(y, n, &pc->app.case_insensitive_paths);
		return;
	}
	if (yconf_str(y, n, &s) == -1)
		return;
	if (strcmp(s, "case_insensitive") == 0)
		pc->app.case_insensitive_paths = 1;
	else if (strcmp(s, "case_sensitive") != 0)
		yconf_error(y, n, "%s: expected case_sensitive or "
		    "case_insensitive, got '%s'", y->key,
		    parse_printable(val, sizeof(val), s, 64));
}

/* Move the finished app into cfg->apps. */
static void
policy_append(struct config *cfg, struct config_app *app, const char *path,
    struct diag *d)
{
	struct config_app	*apps;

	apps = reallocarray(cfg->apps, cfg->napps + 1, sizeof(*apps));
	if (apps != NULL)
		cfg->apps = apps;
	if (apps == NULL || (app->policy_file = strdup(path)) == NULL) {
		diag_error(d, path, 0, 0, "out of memory");
		return;
	}
	cfg->apps[cfg->napps++] = *app;
	memset(app, 0, sizeof(*app));
}

/* Checks across the keys of one app. */
static void
policy_app_checks(struct policy_ctx *pc, struct diag *d, const char *path)
{
	if (pc->app.routes != NULL && pc->protect_set)
		diag_error(d, path, pc->protect_pos.line, pc->protect_pos.col,
		    "app.protect: an app with routes says per route what it "
		    "requires (public: true, authenticated: true, ...); remove "
		    "protect");
	if (pc->app.org != NULL && pc->app.host_tenant)
		diag_error(d, path, pc->org_pos.line, pc->org_pos.col,
		    "app.org: the tenant is already bound by a host "
		    "{org}.…; a tenant is bound once");
	/* With routes, protect only says whether some route needs an
	 * identity (config_keys() then wants the secret and the signer);
	 * decide() says which requests do. */
	if (pc->app.routes != NULL)
		pc->app.protect = route_table_protects(pc->app.routes);
}

/* Walk the opened document of <y> into an app and append it to <cfg>. */
static int
policy_load(struct config *cfg, struct yconf *y, int opened, const char *path,
    struct diag *d, size_t nerrors)
{
	struct policy_ctx	 pc;
	yaml_node_t		*root;

	memset(&pc, 0, sizeof(pc));
	pc.cfg = cfg;
	pc.app.hide_server_header = 1;
	pc.app.protect = 1;		/* fail safe: public is said out loud */
	if (headers_defaults(&pc.app.sec) == -1 && opened == 0) {
		diag_error(d, path, 0, 0, "out of memory");
		opened = -1;
	}
	if (opened == 0) {
		if ((root = yconf_root(y)) == NULL)
			diag_error(d, path, 0, 0, "empty policy file (expected "
			    "an 'app:' mapping)");
		else
			yconf_map(y, root, "", policy_top_keys,
			    NITEMS(policy_top_keys), &pc);
	}
	yconf_close(y);
	policy_app_checks(&pc, d, path);
	if (d->nerrors == nerrors && pc.upstream_ok)
		policy_upstream_tls(&pc, d, path);
	free(pc.ca_file);
	free(pc.server_name);
	if (d->nerrors == nerrors && pc.app.name != NULL &&
	    pc.upstream_ok && pc.app.nhosts > 0)
		policy_append(cfg, &pc.app, path, d);
	policy_app_free(&pc.app);
	return d->nerrors == nerrors ? 0 : -1;
}

int
policy_load_file(struct config *cfg, const char *path, struct diag *d)
{
	struct yconf	y;
	size_t		nerrors = d->nerrors;

	return policy_load(cfg, &y, yconf_open(&y, path, d), path, d,
	    nerrors);
}

int
policy_load_buffer(struct config *cfg, const char *path, const void *buf,
    size_t len, struct diag *d)
{
	struct yconf	y;
	size_t		nerrors = d->nerrors;

	return policy_load(cfg, &y, yconf_open_buffer(&y, path, buf, len, d),
	    path, d, nerrors);
}

/*
 * Routes are checked once the configuration is read, because the role
 * ladder (config "roles:") may come after "policies:".
 */
void
policy_compile(struct config *cfg, struct diag *d)
{
	struct route_binding	 b;
	struct config_app	*a;
	const char		**classes;
	size_t			 i;

	if ((classes = calloc(cfg->nratelimits + 1, sizeof(*classes))) == NULL) {
		diag_error(d, cfg->path, 0, 0, "out of memory");
		return;
	}
	for (i = 0; i < cfg->nratelimits; i++)
		classes[i] = cfg->ratelimits[i].name;
	for (i = 0; i < cfg->napps; i++) {
		a = &cfg->apps[i];
		if (a->routes == NULL)
			continue;
		memset(&b, 0, sizeof(b));
		b.host_tenant = a->host_tenant;
		b.fixed_org = a->org;
		b.case_insensitive = a->case_insensitive_paths;
		b.roles = (const char *const *)cfg->roles;
		b.nroles = cfg->nroles;
		b.rate_classes = classes;
		b.nrate_classes = cfg->nratelimits;
		(void)route_table_compile(a->routes, &b, a->policy_file, d);
	}
	free(classes);
}

void
policy_app_free(struct config_app *app)
{
	size_t	i;

	if (app == NULL)
		return;
	free(app->name);
	for (i = 0; i < app->nhosts; i++)
		free(app->hosts[i]);
	free(app->hosts);
	free(app->host_pos);
	free(app->upstream.server_name);
	free(app->upstream.ca_file);
	SSL_CTX_free(app->upstream.ssl_ctx);
	parse_url_free(&app->upstream);
	headers_clear(&app->sec);
	headers_set_free(app->headers);
	route_table_free(app->routes);
	policy_idheaders_free(app);
	free(app->org);
	free(app->policy_file);
	memset(app, 0, sizeof(*app));
}
