/*
 * `postern policy test` (see policycmd.h): builds a decide_request and a
 * decide_identity from the command line or from each case of a suite file,
 * calls decide() and prints the verdict, the rule, the tenant and the role.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth-int.h"
#include "cli.h"
#include "config.h"
#include "decide.h"
#include "diag.h"
#include "loader.h"
#include "log.h"
#include "parse.h"
#include "path.h"
#include "policycmd.h"
#include "route.h"
#include "session.h"
#include "store.h"
#include "user.h"
#include "yconf.h"

#define PC_MAXSCOPES	16
#define PC_REFUSED	100	/* expect: refused (400 before any decision) */

/* One request to decide, as given. */
struct pc_case {
	const char		*method;
	const char		*url;
	int			 anonymous;
	const char		*user;		/* email */
	const char		*key_org;	/* --apikey-org ORG */
	const char		*apikey_id;	/* --apikey ID: from Redis */
	const char		*share_id;	/* --share ID: from Redis */
	struct grant		*grant;		/* what they name */
	const char		*scopes[PC_MAXSCOPES];
	size_t			 nscopes;
	struct session_org	 orgs[SESSION_MAX_ORGS];
	size_t			 norgs;
	int			 mfa;
	uint64_t		 auth_age;	/* ms since sign-in */
	/* suite only */
	const char		*name;
	int			 expect;	/* enum decide_verdict, -1 */
	const char		*expect_tenant;
	const char		*expect_role;
	size_t			 line;
};

/* The outcome of one case, for printing. */
struct pc_result {
	const char		*error;		/* the request is refused before */
	const struct config_app	*app;
	struct decision		 d;
	char			 path[512];	/* as matched and forwarded */
};

/* "ORG=ROLE" into the next membership; 0 or -1. */
static int
pc_org_role(struct pc_case *c, const char *s)
{
	const char	*eq = strchr(s, '=');
	size_t		 n;

	if (eq == NULL || eq == s || eq[1] == '\0' ||
	    c->norgs == SESSION_MAX_ORGS)
		return -1;
	n = (size_t)(eq - s);
	if (n >= sizeof(c->orgs[0].slug) ||
	    strlen(eq + 1) >= sizeof(c->orgs[0].role))
		return -1;
	memcpy(c->orgs[c->norgs].slug, s, n);
	c->orgs[c->norgs].slug[n] = '\0';
	(void)strcpy(c->orgs[c->norgs].role, eq + 1);
	c->norgs++;
	return 0;
}

/*
 * Split <url> ("https://Host:8443/a/b?q") into a lower-case host without
 * port and a normalised path (the caller frees *<path>).  Returns NULL or
 * the reason the gateway would refuse the request.
 */
static const char *
pc_url(const char *url, char *host, size_t hostlen, char **path)
{
	const char	*p, *h;
	size_t		 n, i;
	enum path_error	 pe;

	if ((p = strstr(url, "://")) == NULL)
		return "the URL must be absolute (https://host/path)";
	h = p + 3;
	n = strcspn(h, "/?#");
	p = h + n;
	if (h[0] == '[') {
		if ((n = strcspn(h, "]")) == strlen(h))
			return "bad IPv6 host";
		n++;
	} else
		n = strcspn(h, ":/?#");
	if (n == 0 || n >= hostlen)
		return "bad host";
	for (i = 0; i < n; i++)
		host[i] = (char)(h[i] >= 'A' && h[i] <= 'Z' ? h[i] - 'A' + 'a' :
		    h[i]);
	host[n] = '\0';
	if (*p != '/') {
		*path = strdup("/");
		return *path == NULL ? "out of memory" : NULL;
	}
	if ((*path = path_normalize(p, strcspn(p, "?"), &pe)) == NULL)
		return path_error_reason(pe);
	return NULL;
}

static void
pc_decide(const struct config *cfg, const struct pc_case *c, time_t now,
    struct pc_result *res)
{
	struct decide_request	 req;
	struct decide_identity	 id;
	const char		*scopes[GRANT_MAXSCOPES];
	char			 host[256], *path = NULL;

	memset(res, 0, sizeof(*res));
	if ((res->error = pc_url(c->url, host, sizeof(host), &path)) != NULL)
		return;
	if ((res->app = config_app_for_host(cfg, host)) == NULL) {
		res->error = "no app serves this host (404)";
		free(path);
		return;
	}
	memset(&id, 0, sizeof(id));
	if (c->grant != NULL) {
		auth_identity_grant(&id, c->grant, scopes);
		id.user = "cli";
	} else if (c->key_org != NULL) {
		id.kind = DECIDE_APIKEY;
		id.user = "cli";
		id.key_org = c->key_org;
		id.scopes = c->scopes;
		id.nscopes = c->nscopes;
	} else if (!c->anonymous) {
		id.kind = DECIDE_SESSION;
		id.user = "cli";
		id.email = c->user;
		id.orgs = c->orgs;
		id.norgs = c->norgs;
		id.mfa = c->mfa;
		id.auth_time = (int64_t)now - (int64_t)(c->auth_age / 1000);
	}
	req.method = c->method;
	req.path = path;
	req.host = host;
	req.tenant = NULL;
	(void)decide(res->app, &req, &id, now, &res->d);
	if (snprintf(res->path, sizeof(res->path), "%s", path) >=
	    (int)sizeof(res->path))
		(void)strcpy(res->path + sizeof(res->path) - 4, "...");
	free(path);
}

static void
pc_print(const struct pc_result *res)
{
	const struct decision	*d = &res->d;

	if (res->error != NULL) {
		printf("decision: refused\nreason: %s\n", res->error);
		return;
	}
	printf("decision: %s (%d)\n", decide_verdict_name(d->verdict),
	    decide_status(d->verdict));
	printf("app: %s\n", res->app->name);
	/* the normalised path: what the routes matched and what the
	 * gateway would forward (";" kept; the routes ignore what follows) */
	printf("path: %s%s\n", res->path, res->app->case_insensitive_paths ?
	    " (routes compare it in any case)" : "");
	if (d->route != NULL)
		printf("rule: %s:%zu (%s)\n", d->file, d->line,
		    d->route->pattern);
	else if (res->app->routes != NULL)
		printf("rule: none (no route matches: default deny)\n");
	else
		printf("rule: %s (protect: %s, no routes)\n", d->file,
		    res->app->protect ? "true" : "false");
	printf("tenant: %s\n", d->tenant[0] != '\0' ? d->tenant : "-");
	printf("role: %s\n", d->role != NULL ? d->role : "-");
	printf("reason: %s\n", d->reason);
	if (d->rate_limit != NULL)
		printf("rate_limit: %s\n", d->rate_limit);
}

static int	pc_suite(const struct config *, const char *);

/* One run: the options, and the case they describe. */
struct policycmd {
	struct cli		 cli;
	struct pc_case		 c;
	const char		*suite;		/* --suite */
};

#define PC_REDIS_HINT	"\n(--org-role ORG=ROLE and --apikey-org ORG " \
	"--scope S test without Redis)"

/*
 * Who --user, --apikey or --share names, read from Redis: memberships
 * (unless --org-role gave them), or the grant.  0, or an exit status.
 */
static int
pc_from_store(struct policycmd *pc)
{
	struct pc_case		*c = &pc->c;
	struct user_membership	 m;
	char			 err[STORE_ERRLEN * 2], email[USER_EMAILMAX + 1];
	const char		*id = c->apikey_id != NULL ? c->apikey_id :
				    c->share_id;
	enum grant_kind		 kind = c->apikey_id != NULL ? GRANT_APIKEY :
				    GRANT_SHARE;
	int			 rc;

	if ((c->user == NULL || c->norgs > 0) && id == NULL)
		return 0;		/* all given: offline */
	if (c->user != NULL && user_email_normalize(c->user, email, err,
	    sizeof(err)) == -1)
		return cli_fail(&pc->cli, "--user: %s", err) + 1;
	if (cli_connect(&pc->cli, PC_REDIS_HINT) != 0)
		return 1;
	if (c->user != NULL) {
		rc = user_memberships(pc->cli.ss, email, &m, err, sizeof(err));
		if (rc == 0) {
			memcpy(c->orgs, m.orgs, sizeof(m.orgs));
			c->norgs = m.norgs;
			printf("user: %s (%s)%s\n", email, m.id, m.disabled ?
			    ": DISABLED, signs in nowhere" : "");
		}
	} else {
		if ((c->grant = calloc(1, sizeof(*c->grant))) == NULL)
			rc = -1;
		else
			rc = grant_get_sync(pc->cli.ss, kind, id, c->grant, err,
			    sizeof(err));
		if (rc == 0 && c->grant->expires != 0 &&
		    c->grant->expires <= (int64_t)time(NULL))
			printf("note: %s %s has expired: the gateway refuses it "
			    "(401)\n", grant_kind_name(kind), id);
		if (rc == GRANT_ENOENT)
			(void)snprintf(err, sizeof(err), "no %s %s",
			    grant_kind_name(kind), id);
	}
	return rc != 0 ? cli_fail(&pc->cli, "%s", err) : 0;
}

/* The single-request form; returns the exit status. */
static int
pc_one(struct policycmd *pc)
{
	struct pc_case		*c = &pc->c;
	struct pc_result	 res;
	int			 kinds = (c->user != NULL) + c->anonymous +
				    (c->key_org != NULL) +
				    (c->apikey_id != NULL) +
				    (c->share_id != NULL), rc;

	if (kinds != 1 || c->method == NULL || c->url == NULL) {
		cli_fail(&pc->cli, "give one of --user, --anonymous, --apikey, "
		    "--apikey-org, --share, and --method and --url");
		return cli_usage(&pc->cli, stderr);
	}
	if ((rc = pc_from_store(pc)) != 0)
		return rc;
	pc_decide(pc->cli.cfg, c, time(NULL), &res);
	pc_print(&res);
	free(c->grant);
	return res.error != NULL ? 1 : 0;
}

static int
pc_opt_org_role(struct cli *cli, void *obj, const char *arg)
{
	if (pc_org_role(&((struct policycmd *)obj)->c, arg) == -1)
		return cli_fail(cli, "--org-role: expected ORG=ROLE") + 1;
	return 0;
}

static int
pc_opt_auth_age(struct cli *cli, void *obj, const char *arg)
{
	char	err[PARSE_ERRLEN];

	if (parse_duration(arg, &((struct policycmd *)obj)->c.auth_age, err,
	    sizeof(err)) == -1)
		return cli_fail(cli, "--auth-age: %s", err) + 1;
	return 0;
}

#define PC_OPT(name, kind, field)	CLI_OPT(name, 0, kind,		\
	struct policycmd, field)

static const struct cli_opt pc_opts[] = {
	CLI_OPT_CONFIG,
	PC_OPT("user", CLI_STR, c.user),
	PC_OPT("anonymous", CLI_FLAG, c.anonymous),
	PC_OPT("apikey", CLI_STR, c.apikey_id),
	PC_OPT("apikey-org", CLI_STR, c.key_org),
	PC_OPT("share", CLI_STR, c.share_id),
	CLI_OPT_LIST("scope", struct policycmd, c.scopes, c.nscopes),
	CLI_OPT_FN("org-role", pc_opt_org_role),
	PC_OPT("mfa", CLI_FLAG, c.mfa),
	CLI_OPT_FN("auth-age", pc_opt_auth_age),
	PC_OPT("method", CLI_STR, c.method),
	PC_OPT("url", CLI_STR, c.url),
	PC_OPT("suite", CLI_STR, suite),
	CLI_OPT_HELP,
	CLI_OPT_END,
};

static const struct cli_spec pc_spec = {
	"policy", POLICYCMD_USAGE, NULL, pc_opts, "configuration not valid",
};

int
policycmd_main(int argc, char **argv)
{
	struct policycmd	pc;
	int			rc, help;

	memset(&pc, 0, sizeof(pc));
	cli_init(&pc.cli, &pc_spec);
	if (argc < 2 || strcmp(argv[1], "test") != 0) {
		help = argc >= 2 && strcmp(argv[1], "--help") == 0;
		(void)cli_usage(&pc.cli, help ? stdout : stderr);
		return help ? 0 : 2;
	}
	pc.cli.action = "test";
	if (cli_parse(&pc.cli, argc - 1, argv + 1, &pc) == -1)
		return pc.cli.rc;
	if (pc.cli.nargs != 0)
		return cli_usage(&pc.cli, stderr);
	if (cli_load(&pc.cli) != 0)
		return 1;
	rc = pc.suite != NULL ? pc_suite(pc.cli.cfg, pc.suite) : pc_one(&pc);
	cli_close(&pc.cli);
	return rc;
}

/* ---- suites ---- */

struct pc_suite {
	const struct config	*cfg;
	time_t			 now;
	size_t			 ran;
	size_t			 failed;
	struct pc_case		 c;
};

static void	pc_on_tests(struct yconf *, yaml_node_t *, void *);
static void	pc_on_str(struct yconf *, yaml_node_t *, void *);
static void	pc_on_anon(struct yconf *, yaml_node_t *, void *);
static void	pc_on_org_roles(struct yconf *, yaml_node_t *, void *);
static void	pc_on_scopes(struct yconf *, yaml_node_t *, void *);
static void	pc_on_mfa(struct yconf *, yaml_node_t *, void *);
static void	pc_on_age(struct yconf *, yaml_node_t *, void *);
static void	pc_on_expect(struct yconf *, yaml_node_t *, void *);

static const struct yconf_key pc_top_keys[] = {
	{ "tests", YAML_SEQUENCE_NODE, 1, pc_on_tests, 0, 0, 0 },
};

#define PC_OFF(f)	offsetof(struct pc_case, f)

static const struct yconf_key pc_case_keys[] = {
	{ "name", YAML_SCALAR_NODE, 0, pc_on_str, PC_OFF(name), 0, 0 },
	{ "user", YAML_SCALAR_NODE, 0, pc_on_str, PC_OFF(user), 0, 0 },
	{ "anonymous", YAML_SCALAR_NODE, 0, pc_on_anon, 0, 0, 0 },
	{ "apikey_org", YAML_SCALAR_NODE, 0, pc_on_str, PC_OFF(key_org), 0, 0 },
	{ "scopes", YAML_SEQUENCE_NODE, 0, pc_on_scopes, 0, 0, 0 },
	{ "org_roles", YAML_MAPPING_NODE, 0, pc_on_org_roles, 0, 0, 0 },
	{ "mfa", YAML_SCALAR_NODE, 0, pc_on_mfa, 0, 0, 0 },
	{ "auth_age", YAML_SCALAR_NODE, 0, pc_on_age, 0, 0, 0 },
	{ "method", YAML_SCALAR_NODE, 1, pc_on_str, PC_OFF(method), 0, 0 },
	{ "url", YAML_SCALAR_NODE, 1, pc_on_str, PC_OFF(url), 0, 0 },
	{ "expect", YAML_SCALAR_NODE, 1, pc_on_expect, 0, 0, 0 },
	{ "tenant", YAML_SCALAR_NODE, 0, pc_on_str, PC_OFF(expect_tenant), 0,
	    0 },
	{ "role", YAML_SCALAR_NODE, 0, pc_on_str, PC_OFF(expect_role), 0, 0 },
};

static void
pc_on_str(struct yconf *y, yaml_node_t *n, void *obj)
{
	struct pc_suite	*s = obj;

	(void)yconf_str(y, n, (const char **)(void *)((char *)&s->c +
	    y->cur->off));
}

static void
pc_on_anon(struct yconf *y, yaml_node_t *n, void *obj)
{
	(void)yconf_bool(y, n, &((struct pc_suite *)obj)->c.anonymous);
}

static void
pc_on_mfa(struct yconf *y, yaml_node_t *n, void *obj)
{
	(void)yconf_bool(y, n, &((struct pc_suite *)obj)->c.mfa);
}

static void
pc_on_age(struct yconf *y, yaml_node_t *n, void *obj)
{
	(void)yconf_duration(y, n, 0, 366ULL * 86400 * 1000,
	    &((struct pc_suite *)obj)->c.auth_age);
}

static void
pc_on_expect(struct yconf *y, yaml_node_t *n, void *obj)
{
	struct pc_suite	*s = obj;
	const char	*v;

	if (yconf_str(y, n, &v) == -1)
		return;
	if (strcmp(v, "refused") == 0)
		s->c.expect = PC_REFUSED;
	else if ((s->c.expect = decide_verdict_parse(v)) == -1)
		yconf_error(y, n, "%s: expected allow, login, deny, not_found, "
		    "step_up, mfa or refused", y->key);
}

static void
pc_on_scopes(struct yconf *y, yaml_node_t *n, void *obj)
{
	struct pc_suite		*s = obj;
	yaml_node_item_t	*it;
	yaml_node_t		*item;
	const char		*v;

	for (it = n->data.sequence.items.start;
	    it < n->data.sequence.items.top; it++) {
		item = yaml_document_get_node(&y->doc, *it);
		if (item == NULL || yconf_str(y, item, &v) == -1)
			continue;
		if (s->c.nscopes == PC_MAXSCOPES)
			yconf_error(y, item, "%s: at most %d scopes", y->key,
			    PC_MAXSCOPES);
		else
			s->c.scopes[s->c.nscopes++] = v;
	}
}

/* org_roles: {acme: admin, other: viewer} */
static void
pc_on_org_roles(struct yconf *y, yaml_node_t *n, void *obj)
{
	struct pc_suite		*s = obj;
	yaml_node_pair_t	*pair;
	yaml_node_t		*k, *v;
	char			 buf[160];

	for (pair = n->data.mapping.pairs.start;
	    pair < n->data.mapping.pairs.top; pair++) {
		k = yaml_document_get_node(&y->doc, pair->key);
		v = yaml_document_get_node(&y->doc, pair->value);
		if (k == NULL || v == NULL || k->type != YAML_SCALAR_NODE ||
		    v->type != YAML_SCALAR_NODE) {
			yconf_error(y, k, "%s: expected ORG: ROLE", y->key);
			continue;
		}
		(void)snprintf(buf, sizeof(buf), "%s=%s",
		    (char *)k->data.scalar.value, (char *)v->data.scalar.value);
		if (pc_org_role(&s->c, buf) == -1)
			yconf_error(y, k, "%s: bad org or role", y->key);
	}
}

static void
pc_check(struct pc_suite *s, const char *file)
{
	struct pc_result	 res;
	const struct decision	*d = &res.d;
	const char		*why = NULL;
	char			 got[256];

	pc_decide(s->cfg, &s->c, s->now, &res);
	s->ran++;
	if (res.error != NULL || s->c.expect == PC_REFUSED)
		why = res.error != NULL && s->c.expect == PC_REFUSED ? NULL :
		    "verdict";
	else if ((int)d->verdict != s->c.expect)
		why = "verdict";
	else if (s->c.expect_tenant != NULL &&
	    strcmp(s->c.expect_tenant, d->tenant) != 0)
		why = "tenant";
	else if (s->c.expect_role != NULL && (d->role == NULL ||
	    strcmp(s->c.expect_role, d->role) != 0))
		why = "role";
	if (why == NULL)
		return;
	s->failed++;
	if (res.error != NULL)
		(void)snprintf(got, sizeof(got), "refused: %s", res.error);
	else
		(void)snprintf(got, sizeof(got), "%s (%s; rule %s:%zu; tenant "
		    "%s; role %s)", decide_verdict_name(d->verdict), d->reason,
		    d->file != NULL ? d->file : "-", d->line,
		    d->tenant[0] != '\0' ? d->tenant : "-",
		    d->role != NULL ? d->role : "-");
	printf("FAIL %s:%zu: %s%s%s %s: expected %s%s%s%s%s, got %s\n", file,
	    s->c.line, s->c.name != NULL ? s->c.name : "",
	    s->c.name != NULL ? ": " : "", s->c.method, s->c.url,
	    s->c.expect == PC_REFUSED ? "refused" :
	    decide_verdict_name((enum decide_verdict)s->c.expect),
	    s->c.expect_tenant != NULL ? " tenant " : "",
	    s->c.expect_tenant != NULL ? s->c.expect_tenant : "",
	    s->c.expect_role != NULL ? " role " : "",
	    s->c.expect_role != NULL ? s->c.expect_role : "", got);
}

static void
pc_on_case(struct yconf *y, yaml_node_t *n, void *obj)
{
	struct pc_suite	*s = obj;
	size_t		 nerrors = y->diag->nerrors;
	int		 kinds;

	memset(&s->c, 0, sizeof(s->c));
	s->c.expect = -1;
	s->c.line = n->start_mark.line + 1;
	yconf_map(y, n, "tests", pc_case_keys, sizeof(pc_case_keys) /
	    sizeof(pc_case_keys[0]), s);
	kinds = (s->c.user != NULL) + s->c.anonymous + (s->c.key_org != NULL);
	if (y->diag->nerrors == nerrors && kinds != 1)
		yconf_error(y, n, "tests: each case has one of user, anonymous: "
		    "true or apikey_org");
	if (y->diag->nerrors == nerrors)
		pc_check(s, y->path);
}

static void
pc_on_tests(struct yconf *y, yaml_node_t *n, void *obj)
{
	yconf_seq(y, n, pc_on_case, obj);
}

static int
pc_suite(const struct config *cfg, const char *file)
{
	struct pc_suite	 s;
	struct yconf	 y;
	struct diag	 d = { 0 };
	yaml_node_t	*root;
	int		 rc;

	memset(&s, 0, sizeof(s));
	s.cfg = cfg;
	s.now = time(NULL);
	if (yconf_open(&y, file, &d) == 0) {
		if ((root = yconf_root(&y)) == NULL)
			diag_error(&d, file, 0, 0, "empty tests file (expected "
			    "'tests:')");
		else
			yconf_map(&y, root, "", pc_top_keys, 1, &s);
	}
	yconf_close(&y);
	diag_print(&d, stderr);
	printf("%s: %zu case%s, %zu failed%s\n", file, s.ran,
	    s.ran == 1 ? "" : "s", s.failed, d.nerrors > 0 ?
	    ", the file has errors" : "");
	rc = s.failed > 0 || d.nerrors > 0 || s.ran == 0 ? 1 : 0;
	diag_free(&d);
	return rc;
}
