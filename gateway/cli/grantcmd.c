/*
 * `postern apikey ...` and `postern share ...` (see grantcmd.h): argument
 * parsing, checks against the configuration (the org exists, the share's
 * app and path are shareable under its policy) and the printing.  Redis
 * work is grant.c's, over the synchronous store.  A new token is printed
 * once, on standard output alone (scripts capture it); what it is goes to
 * standard error.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "audit.h"
#include "cli.h"
#include "config.h"
#include "decide.h"
#include "grant.h"
#include "grantcmd.h"
#include "grantlist.h"
#include "grantscope.h"
#include "parse.h"
#include "route.h"
#include "store.h"
#include "user.h"

#define GC_APIKEY_TTL	"90d"
#define GC_SHARE_TTL	"7d"
#define GC_MAXTTL	(10ull * 365 * 86400 * 1000)	/* ms */

/* One invocation: its parsed arguments and what it opened. */
struct grantcmd {
	struct cli		 cli;
	enum grant_kind		 kind;
	const char		*org;
	const char		*name;
	const char		*expires;
	const char		*app;
	const char		*path;
	const char		*host;
	const char		*rate;
	const char		*scopes[GRANT_MAXSCOPES];
	size_t			 nscopes;
	const char		*methods[8];
	size_t			 nmethods;
	int			 prefix;
	char			 done[TOKEN_IDLEN + 4];	/* what was made */
};

static int
gc_scope(struct cli *c, void *obj, const char *arg)
{
	struct grantcmd	*gc = obj;

	if (gc->nscopes == GRANT_MAXSCOPES)
		return cli_fail(c, "at most %d scopes", GRANT_MAXSCOPES) + 1;
	gc->scopes[gc->nscopes++] = arg;
	return 0;
}

static const struct cli_opt gc_opts[] = {
	CLI_OPT_CONFIG,
	CLI_OPT("org", 0, CLI_STR, struct grantcmd, org),
	CLI_OPT_FN("scope", gc_scope),
	CLI_OPT("expires", 0, CLI_STR, struct grantcmd, expires),
	CLI_OPT("name", 0, CLI_STR, struct grantcmd, name),
	CLI_OPT("rate", 0, CLI_STR, struct grantcmd, rate),
	CLI_OPT("app", 0, CLI_STR, struct grantcmd, app),
	CLI_OPT("path", 0, CLI_STR, struct grantcmd, path),
	CLI_OPT_LIST("method", struct grantcmd, methods, nmethods),
	CLI_OPT("prefix", 0, CLI_FLAG, struct grantcmd, prefix),
	CLI_OPT("host", 0, CLI_STR, struct grantcmd, host),
	CLI_OPT_JSON,
	CLI_OPT_HELP,
	CLI_OPT_END,
};

static const struct cli_spec gc_apikey_spec = {
	"apikey", GRANTCMD_APIKEY_USAGE, NULL, gc_opts, NULL,
};
static const struct cli_spec gc_share_spec = {
	"share", GRANTCMD_SHARE_USAGE, NULL, gc_opts, NULL,
};

/* --expires: "never" (API keys only) or a duration; into g->expires. */
static int
gc_expires(const struct grantcmd *gc, struct grant *g, const char *dflt)
{
	const char	*s = gc->expires != NULL ? gc->expires : dflt;
	uint64_t	 ms;
	char		 err[PARSE_ERRLEN];

	if (strcmp(s, "never") == 0 && gc->kind == GRANT_APIKEY) {
		g->expires = 0;
		return 0;
	}
	if (parse_duration(s, &ms, err, sizeof(err)) == -1 || ms < 1000 ||
	    ms > GC_MAXTTL) {
		cli_fail(&gc->cli, "--expires: expected a duration such as 7d, "
		    "12h or 90d (at most 10 years)%s",
		    gc->kind == GRANT_APIKEY ? ", or never" : "");
		return -1;
	}
	g->expires = g->created + (int64_t)(ms / 1000);
	return 0;
}

/* The fields every grant has: created, expiry, name, rate, org. */
static int
gc_common(struct grantcmd *gc, struct grant *g, const char *ttl,
    unsigned int rate)
{
	char	*end;
	unsigned long n;

	g->kind = gc->kind;
	g->created = (int64_t)time(NULL);
	g->rate = rate;
	if (gc_expires(gc, g, ttl) == -1)
		return -1;
	if (gc->name != NULL) {
		if (strlen(gc->name) > GRANT_NAMEMAX ||
		    user_name_valid(gc->name) == -1) {
			cli_fail(&gc->cli, "--name: at most %d printable "
			    "characters", GRANT_NAMEMAX);
			return -1;
		}
		(void)strcpy(g->name, gc->name);
	}
	if (gc->rate != NULL) {
		n = strtoul(gc->rate, &end, 10);
		if (*end != '\0' || gc->rate[0] == '\0' || n < 1 ||
		    n > GRANT_RATE_MAX) {
			cli_fail(&gc->cli, "--rate: requests per minute, 1 to "
			    "%d", GRANT_RATE_MAX);
			return -1;
		}
		g->rate = (unsigned int)n;
	}
	if (gc->org != NULL) {
		if (user_slug_valid(gc->org) == -1) {
			cli_fail(&gc->cli, "--org: '%s' is not a valid slug",
			    gc->org);
			return -1;
		}
		(void)strcpy(g->org, gc->org);
	}
	return 0;
}

static void
gc_when(int64_t t, char *buf, size_t size)
{
	time_t		tt = (time_t)t;
	struct tm	tm;

	if (t == 0 || gmtime_r(&tt, &tm) == NULL)
		(void)snprintf(buf, size, "never");
	else
		(void)strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* 0 if org <slug> exists, else the exit status (message shown). */
static int
gc_org_exists(struct grantcmd *gc, const char *slug)
{
	char		 key[STORE_KEYLEN], err[STORE_ERRLEN];
	redisReply	*r;
	int		 rc;

	if (user_key(key, sizeof(key), store_sync_prefix(gc->cli.ss),
	    USER_KEY_ORG, slug) == -1 || (r = store_sync_command(gc->cli.ss,
	    err, sizeof(err), "EXISTS %s", key)) == NULL)
		return cli_fail(&gc->cli, "cannot read organisation %s", slug);
	rc = r->type == REDIS_REPLY_INTEGER && r->integer == 1 ? 0 :
	    cli_fail(&gc->cli, "no organisation '%s' (postern org add)", slug);
	freeReplyObject(r);
	return rc;
}

/* Store <g> with a fresh token; prints the token (or the URL) once. */
static int
gc_store(struct grantcmd *gc, struct grant *g, char *tok)
{
	char	hash[TOKEN_HASHLEN + 1], err[STORE_ERRLEN];
	int	rc;

	if (token_new(grant_token_kind(gc->kind), g->id, tok, hash) == -1)
		return cli_fail(&gc->cli, "no random bytes");
	rc = grant_create_sync(gc->cli.ss, g, hash, err, sizeof(err));
	OPENSSL_cleanse(hash, sizeof(hash));
	if (rc == GRANT_ENOORG)
		return cli_fail(&gc->cli, "no organisation '%s' (postern org "
		    "add)", g->org);
	if (rc != 0)
		return cli_fail(&gc->cli, "%s", err);
	return 0;
}

static int
apikey_cmd_create(void *arg)
{
	struct grantcmd	*gc = arg;
	struct grant	 g;
	char		 tok[TOKEN_LEN + 1], when[32];
	size_t		 i;
	int		 rc;

	memset(&g, 0, sizeof(g));
	if (gc->cli.nargs != 0 || gc->org == NULL || gc->nscopes == 0) {
		cli_fail(&gc->cli, "give --org ORG and at least one --scope");
		return cli_usage(&gc->cli, stderr);
	}
	for (i = 0; i < gc->nscopes; i++) {
		if (grant_scope_valid(gc->scopes[i]) == -1) {
			cli_fail(&gc->cli, "--scope: '%s' is not a scope (1 to "
			    "63 of a-z 0-9 : _ . -)", gc->scopes[i]);
			return 2;
		}
		(void)strcpy(g.scopes[g.nscopes++], gc->scopes[i]);
	}
	if (gc_common(gc, &g, GC_APIKEY_TTL, GRANT_APIKEY_RATE) == -1)
		return 2;
	if ((rc = cli_connect(&gc->cli, NULL)) != 0 ||
	    (rc = gc_org_exists(gc, g.org)) != 0 ||
	    (rc = grantscope_check(&gc->cli, g.org, gc->scopes,
	    gc->nscopes)) != 0 || (rc = gc_store(gc, &g, tok)) != 0)
		return rc;
	(void)snprintf(gc->done, sizeof(gc->done), "pk_%s", g.id);
	gc_when(g.expires, when, sizeof(when));
	printf("%s\n", tok);
	fflush(stdout);
	fprintf(stderr, "API key %s for org %s (%zu scope%s, %u requests/min, "
	    "expires %s): shown once, store it now\n", g.id, g.org, g.nscopes,
	    g.nscopes == 1 ? "" : "s", g.rate, when);
	OPENSSL_cleanse(tok, sizeof(tok));
	return 0;
}

/* The public URL for <g>: --host, else the app's first host. */
static int
gc_share_url(struct grantcmd *gc, const struct config_app *app,
    const struct grant *g, char *host, size_t size)
{
	const char	*h = gc->host;

	if (h == NULL && app->nhosts > 0) {
		h = app->hosts[0];
		if (strncmp(h, "{org}.", 6) == 0) {
			if (g->org[0] == '\0') {
				cli_fail(&gc->cli, "app '%s' takes its tenant "
				    "from the host: give --org", app->name);
				return -1;
			}
			(void)snprintf(host, size, "%s.%s", g->org, h + 6);
			return 0;
		}
	}
	if (h == NULL || strchr(h, '*') != NULL || strchr(h, '{') != NULL) {
		cli_fail(&gc->cli, "give --host: the app has no plain host "
		    "name");
		return -1;
	}
	(void)snprintf(host, size, "%s", h);
	return 0;
}

static int
share_cmd_create(void *arg)
{
	struct grantcmd		*gc = arg;
	struct grant		 g;
	struct decide_identity	 id;
	struct decision		 d;
	const struct config_app	*app;
	char			 tok[TOKEN_LEN + 1], host[300], when[32];
	char			 hostonly[300], methods[64];
	size_t			 i;
	int			 rc;

	memset(&g, 0, sizeof(g));
	if (gc->cli.nargs != 0 || gc->app == NULL || gc->path == NULL) {
		cli_fail(&gc->cli, "give --app APP and --path PATH");
		return cli_usage(&gc->cli, stderr);
	}
	if (grant_path_valid(gc->path) == -1) {
		cli_fail(&gc->cli, "--path: '%s' is not a normalised absolute "
		    "path of URL-safe characters (no %%-escapes, '//', '.' or "
		    "'..' segments)", gc->path);
		return 2;
	}
	(void)strcpy(g.path, gc->path);
	g.prefix = gc->prefix;
	for (i = 0; i < gc->nmethods; i++) {
		unsigned int b = grant_methods_parse(gc->methods[i]);

		if (b == 0) {
			cli_fail(&gc->cli, "--method: unknown method '%s'",
			    gc->methods[i]);
			return 2;
		}
		g.methods |= b;
	}
	if (g.methods == 0)
		g.methods = grant_methods_parse("GET,HEAD");
	if (gc_common(gc, &g, GC_SHARE_TTL, GRANT_SHARE_RATE) == -1)
		return 2;
	if ((rc = cli_connect(&gc->cli, NULL)) != 0)
		return rc;
	for (i = 0; i < gc->cli.cfg->napps; i++)
		if (strcmp(gc->cli.cfg->apps[i].name, gc->app) == 0)
			break;
	if (i == gc->cli.cfg->napps)
		return cli_fail(&gc->cli, "no app '%s' in %s", gc->app,
		    gc->cli.config);
	app = &gc->cli.cfg->apps[i];
	(void)snprintf(g.app, sizeof(g.app), "%s", app->name);
	if (app->routes == NULL)
		return cli_fail(&gc->cli, "app '%s' has no routes: none "
		    "accepts share links", app->name);
	if (gc_share_url(gc, app, &g, host, sizeof(host)) == -1)
		return 1;
	(void)snprintf(hostonly, sizeof(hostonly), "%.*s",
	    (int)strcspn(host, ":"), host);
	memset(&id, 0, sizeof(id));
	id.kind = DECIDE_SHARE;
	id.user = "cli";
	id.key_org = g.org[0] != '\0' ? g.org : NULL;
	id.share_app = g.app;
	id.share_path = g.path;
	id.share_prefix = g.prefix;
	id.share_methods = g.methods;
	if (decide_shareable(app, hostonly, &id, time(NULL), &d) !=
	    DECIDE_ALLOW) {
		if (d.route != NULL)
			return cli_fail(&gc->cli, "%s on %s is not shareable: "
			    "%s (rule %s:%zu)%s", g.path, hostonly, d.reason,
			    d.file, d.line, strcmp(d.reason, "auth_kind") == 0 ?
			    ": the route does not accept share links" : "");
		return cli_fail(&gc->cli, "%s on %s is not shareable: %s",
		    g.path, hostonly, d.reason);
	}
	if ((rc = gc_store(gc, &g, tok)) != 0)
		return rc;
	(void)snprintf(gc->done, sizeof(gc->done), "ps_%s", g.id);
	gc_when(g.expires, when, sizeof(when));
	grant_methods_string(g.methods, methods, sizeof(methods));
	printf("https://%s%s?postern_share=%s\n", host, g.path, tok);
	fflush(stdout);
	fprintf(stderr, "share %s: %s %s%s of app %s%s%s, expires %s\n", g.id,
	    methods, g.path, g.prefix ? " and below" : "", g.app,
	    g.org[0] != '\0' ? ", org " : "", g.org, when);
	OPENSSL_cleanse(tok, sizeof(tok));
	return 0;
}

/* ID, or a whole token (whose id is taken) */
static int
gc_id(struct grantcmd *gc, char *id)
{
	const char	*s;

	if (gc->cli.nargs != 1) {
		cli_fail(&gc->cli, "give the id (as `list` shows it)");
		return cli_usage(&gc->cli, stderr);
	}
	s = gc->cli.args[0];
	if (strncmp(s, grant_token_kind(gc->kind), 2) == 0 && s[2] == '_')
		s += 3;
	(void)snprintf(id, TOKEN_IDLEN + 1, "%s", s);
	if (strlen(s) < TOKEN_IDLEN || (s[TOKEN_IDLEN] != '\0' &&
	    s[TOKEN_IDLEN] != '_') || !token_id_valid(id)) {
		cli_fail(&gc->cli, "'%.20s' is not an id (16 hex digits)",
		    gc->cli.args[0]);
		return 2;
	}
	return 0;
}

static int
grant_cmd_revoke(void *arg)
{
	struct grantcmd	*gc = arg;
	char		 id[TOKEN_IDLEN + 1], err[STORE_ERRLEN];
	int		 rc;

	if ((rc = gc_id(gc, id)) != 0 ||
	    (rc = cli_connect(&gc->cli, NULL)) != 0)
		return rc;
	rc = grant_revoke_sync(gc->cli.ss, gc->kind, id, err, sizeof(err));
	if (rc == GRANT_ENOENT)
		return cli_fail(&gc->cli, "no %s %s", gc->kind == GRANT_APIKEY ?
		    "API key" : "share", id);
	if (rc != 0)
		return cli_fail(&gc->cli, "%s", err);
	(void)snprintf(gc->done, sizeof(gc->done), "%s_%s",
	    grant_token_kind(gc->kind), id);
	printf("%s %s revoked\n", gc->kind == GRANT_APIKEY ? "API key" :
	    "share", id);
	return 0;
}

static int
grant_cmd_list(void *arg)
{
	struct grantcmd	*gc = arg;
	int		 rc;

	if (gc->cli.nargs != 0)
		return cli_usage(&gc->cli, stderr);
	if ((rc = cli_connect(&gc->cli, NULL)) != 0)
		return rc;
	return grantlist_run(&gc->cli, gc->kind, gc->org);
}

static const struct cli_action apikey_actions[] = {
	{ "create", apikey_cmd_create, CLI_ANYARGS, NULL },
	{ "revoke", grant_cmd_revoke, CLI_ANYARGS, NULL },
	{ "list", grant_cmd_list, CLI_ANYARGS, NULL },
	{ NULL, NULL, 0, NULL },
};
static const struct cli_action share_actions[] = {
	{ "create", share_cmd_create, CLI_ANYARGS, NULL },
	{ "revoke", grant_cmd_revoke, CLI_ANYARGS, NULL },
	{ "list", grant_cmd_list, CLI_ANYARGS, NULL },
	{ NULL, NULL, 0, NULL },
};

static int
gc_run(enum grant_kind kind, int argc, char **argv)
{
	struct grantcmd	gc;
	char		action[32];
	int		rc;

	memset(&gc, 0, sizeof(gc));
	gc.kind = kind;
	cli_init(&gc.cli, kind == GRANT_APIKEY ? &gc_apikey_spec :
	    &gc_share_spec);
	if (cli_action(&gc.cli, argc, argv) == -1 ||
	    cli_parse(&gc.cli, argc - 1, argv + 1, &gc) == -1)
		return gc.cli.rc;
	rc = cli_dispatch(&gc.cli, kind == GRANT_APIKEY ? apikey_actions :
	    share_actions, &gc);
	if (rc == 0 && gc.cli.ss != NULL && gc.done[0] != '\0') {
		(void)snprintf(action, sizeof(action), "%s_%s",
		    gc.cli.spec->cmd, gc.cli.action);
		(void)audit_emit_sync(gc.cli.ss, &(struct audit_event){
		    .action = action, .actor = "operator", .target = gc.done,
		    .org = gc.org, .outcome = "success" });
	}
	cli_close(&gc.cli);
	return rc;
}

int
grantcmd_apikey(int argc, char **argv)
{
	return gc_run(GRANT_APIKEY, argc, argv);
}

int
grantcmd_share(int argc, char **argv)
{
	return gc_run(GRANT_SHARE, argc, argv);
}
