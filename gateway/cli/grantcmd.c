/*
 * `postern apikey ...` and `postern share ...` (see grantcmd.h): argument
 * parsing, checks against the configuration (the org exists, the share's
 * app and path are shareable under its policy) and the printing.  Redis
 * work is grant.c's, over the synchronous store.  A new token is printed
 * once, on standard output alone (scripts capture it); what it is goes to
 * standard error.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "audit.h"
#include "config.h"
#include "decide.h"
#include "grant.h"
#include "grantcmd.h"
#include "parse.h"
#include "route.h"
#include "store.h"
#include "user.h"
#include "usercmd.h"

#define DEFAULT_CONFIG	"/etc/postern/postern.yaml"
#define GC_APIKEY_TTL	"90d"
#define GC_SHARE_TTL	"7d"
#define GC_MAXTTL	(10ull * 365 * 86400 * 1000)	/* ms */

/* One invocation: its parsed arguments and what it opened. */
struct grantcmd {
	enum grant_kind		 kind;
	const char		*cmd;		/* "apikey" or "share" */
	const char		*action;
	const char		*config;
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
	char			**args;
	int			 nargs;
	struct config		*cfg;
	struct store_sync	*ss;
	char			 done[TOKEN_IDLEN + 4];	/* what was made */
};

static int
gc_fail(const struct grantcmd *gc, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
gc_fail(const struct grantcmd *gc, const char *fmt, ...)
{
	va_list	ap;
	int	rc;

	va_start(ap, fmt);
	rc = usercmd_failv(gc->cmd, gc->action, fmt, ap);
	va_end(ap);
	return rc;
}

static int
gc_usage(const struct grantcmd *gc, FILE *fp)
{
	fprintf(fp, "usage: postern %s %s\n", gc->cmd, gc->kind ==
	    GRANT_APIKEY ? GRANTCMD_APIKEY_USAGE : GRANTCMD_SHARE_USAGE);
	return 2;
}

/* Options anywhere after the action; 0, or an exit status. */
static int
gc_parse(struct grantcmd *gc, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "org", required_argument, NULL, 'o' },
		{ "scope", required_argument, NULL, 's' },
		{ "expires", required_argument, NULL, 'e' },
		{ "name", required_argument, NULL, 'n' },
		{ "rate", required_argument, NULL, 'r' },
		{ "app", required_argument, NULL, 'a' },
		{ "path", required_argument, NULL, 'p' },
		{ "method", required_argument, NULL, 'm' },
		{ "prefix", no_argument, NULL, 'P' },
		{ "host", required_argument, NULL, 'H' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int	ch;

	gc->config = DEFAULT_CONFIG;
	if (argc >= 2 && (strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "--help") == 0)) {
		(void)gc_usage(gc, stdout);
		return -1;
	}
	if (argc < 2)
		return gc_usage(gc, stderr);
	gc->action = argv[1];
	optind = 1;
	while ((ch = getopt_long(argc - 1, argv + 1, "c:h", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'c':
			gc->config = optarg;
			break;
		case 'o':
			gc->org = optarg;
			break;
		case 's':
			if (gc->nscopes == GRANT_MAXSCOPES)
				return gc_fail(gc, "at most %d scopes",
				    GRANT_MAXSCOPES) + 1;
			gc->scopes[gc->nscopes++] = optarg;
			break;
		case 'e':
			gc->expires = optarg;
			break;
		case 'n':
			gc->name = optarg;
			break;
		case 'r':
			gc->rate = optarg;
			break;
		case 'a':
			gc->app = optarg;
			break;
		case 'p':
			gc->path = optarg;
			break;
		case 'm':
			if (gc->nmethods == sizeof(gc->methods) /
			    sizeof(gc->methods[0]))
				return gc_usage(gc, stderr);
			gc->methods[gc->nmethods++] = optarg;
			break;
		case 'P':
			gc->prefix = 1;
			break;
		case 'H':
			gc->host = optarg;
			break;
		case 'h':
			(void)gc_usage(gc, stdout);
			return -1;
		default:
			return gc_usage(gc, stderr);
		}
	}
	gc->args = argv + 1 + optind;
	gc->nargs = argc - 1 - optind;
	return 0;
}

static int
gc_open(struct grantcmd *gc)
{
	return usercmd_connect(gc->cmd, gc->action, gc->config, &gc->cfg,
	    &gc->ss);
}

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
		gc_fail(gc, "--expires: expected a duration such as 7d, 12h "
		    "or 90d (at most 10 years)%s", gc->kind == GRANT_APIKEY ?
		    ", or never" : "");
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
			gc_fail(gc, "--name: at most %d printable characters",
			    GRANT_NAMEMAX);
			return -1;
		}
		(void)strcpy(g->name, gc->name);
	}
	if (gc->rate != NULL) {
		n = strtoul(gc->rate, &end, 10);
		if (*end != '\0' || gc->rate[0] == '\0' || n < 1 ||
		    n > GRANT_RATE_MAX) {
			gc_fail(gc, "--rate: requests per minute, 1 to %d",
			    GRANT_RATE_MAX);
			return -1;
		}
		g->rate = (unsigned int)n;
	}
	if (gc->org != NULL) {
		if (user_slug_valid(gc->org) == -1) {
			gc_fail(gc, "--org: '%s' is not a valid slug", gc->org);
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

/* Store <g> with a fresh token; prints the token (or the URL) once. */
static int
gc_store(struct grantcmd *gc, struct grant *g, char *tok)
{
	char	hash[TOKEN_HASHLEN + 1], err[STORE_ERRLEN];
	int	rc;

	if (token_new(grant_token_kind(gc->kind), g->id, tok, hash) == -1)
		return gc_fail(gc, "no random bytes");
	rc = grant_create_sync(gc->ss, g, hash, err, sizeof(err));
	OPENSSL_cleanse(hash, sizeof(hash));
	if (rc == GRANT_ENOORG)
		return gc_fail(gc, "no organisation '%s' (postern org add)",
		    g->org);
	if (rc != 0)
		return gc_fail(gc, "%s", err);
	return 0;
}

static int
apikey_cmd_create(struct grantcmd *gc)
{
	struct grant	g;
	char		tok[TOKEN_LEN + 1], when[32];
	size_t		i;
	int		rc;

	memset(&g, 0, sizeof(g));
	if (gc->nargs != 0 || gc->org == NULL || gc->nscopes == 0) {
		gc_fail(gc, "give --org ORG and at least one --scope");
		return gc_usage(gc, stderr);
	}
	for (i = 0; i < gc->nscopes; i++) {
		if (grant_scope_valid(gc->scopes[i]) == -1) {
			gc_fail(gc, "--scope: '%s' is not a scope (1 to 63 of "
			    "a-z 0-9 : _ . -)", gc->scopes[i]);
			return 2;
		}
		(void)strcpy(g.scopes[g.nscopes++], gc->scopes[i]);
	}
	if (gc_common(gc, &g, GC_APIKEY_TTL, GRANT_APIKEY_RATE) == -1)
		return 2;
	if ((rc = gc_open(gc)) != 0 || (rc = gc_store(gc, &g, tok)) != 0)
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
				gc_fail(gc, "app '%s' takes its tenant from the "
				    "host: give --org", app->name);
				return -1;
			}
			(void)snprintf(host, size, "%s.%s", g->org, h + 6);
			return 0;
		}
	}
	if (h == NULL || strchr(h, '*') != NULL || strchr(h, '{') != NULL) {
		gc_fail(gc, "give --host: the app has no plain host name");
		return -1;
	}
	(void)snprintf(host, size, "%s", h);
	return 0;
}

static int
share_cmd_create(struct grantcmd *gc)
{
	struct grant		 g;
	struct decide_identity	 id;
	struct decision		 d;
	const struct config_app	*app;
	char			 tok[TOKEN_LEN + 1], host[300], when[32];
	char			 hostonly[300], methods[64];
	size_t			 i;
	int			 rc;

	memset(&g, 0, sizeof(g));
	if (gc->nargs != 0 || gc->app == NULL || gc->path == NULL) {
		gc_fail(gc, "give --app APP and --path PATH");
		return gc_usage(gc, stderr);
	}
	if (grant_path_valid(gc->path) == -1) {
		gc_fail(gc, "--path: '%s' is not a normalised absolute path of "
		    "URL-safe characters (no %%-escapes, '//', '.' or '..' "
		    "segments)", gc->path);
		return 2;
	}
	(void)strcpy(g.path, gc->path);
	g.prefix = gc->prefix;
	for (i = 0; i < gc->nmethods; i++) {
		unsigned int b = grant_methods_parse(gc->methods[i]);

		if (b == 0) {
			gc_fail(gc, "--method: unknown method '%s'",
			    gc->methods[i]);
			return 2;
		}
		g.methods |= b;
	}
	if (g.methods == 0)
		g.methods = grant_methods_parse("GET,HEAD");
	if (gc_common(gc, &g, GC_SHARE_TTL, GRANT_SHARE_RATE) == -1)
		return 2;
	if ((rc = gc_open(gc)) != 0)
		return rc;
	for (i = 0; i < gc->cfg->napps; i++)
		if (strcmp(gc->cfg->apps[i].name, gc->app) == 0)
			break;
	if (i == gc->cfg->napps)
		return gc_fail(gc, "no app '%s' in %s", gc->app, gc->config);
	app = &gc->cfg->apps[i];
	(void)snprintf(g.app, sizeof(g.app), "%s", app->name);
	if (app->routes == NULL)
		return gc_fail(gc, "app '%s' has no routes: none accepts share "
		    "links", app->name);
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
			return gc_fail(gc, "%s on %s is not shareable: %s "
			    "(rule %s:%zu)%s", g.path, hostonly, d.reason,
			    d.file, d.line, strcmp(d.reason, "auth_kind") == 0 ?
			    ": the route does not accept share links" : "");
		return gc_fail(gc, "%s on %s is not shareable: %s", g.path,
		    hostonly, d.reason);
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

	if (gc->nargs != 1) {
		gc_fail(gc, "give the id (as `list` shows it)");
		return gc_usage(gc, stderr);
	}
	s = gc->args[0];
	if (strncmp(s, grant_token_kind(gc->kind), 2) == 0 && s[2] == '_')
		s += 3;
	(void)snprintf(id, TOKEN_IDLEN + 1, "%s", s);
	if (strlen(s) < TOKEN_IDLEN || (s[TOKEN_IDLEN] != '\0' &&
	    s[TOKEN_IDLEN] != '_') || !token_id_valid(id)) {
		gc_fail(gc, "'%.20s' is not an id (16 hex digits)", gc->args[0]);
		return 2;
	}
	return 0;
}

static int
grant_cmd_revoke(struct grantcmd *gc)
{
	char	id[TOKEN_IDLEN + 1], err[STORE_ERRLEN];
	int	rc;

	if ((rc = gc_id(gc, id)) != 0 || (rc = gc_open(gc)) != 0)
		return rc;
	rc = grant_revoke_sync(gc->ss, gc->kind, id, err, sizeof(err));
	if (rc == GRANT_ENOENT)
		return gc_fail(gc, "no %s %s", gc->kind == GRANT_APIKEY ?
		    "API key" : "share", id);
	if (rc != 0)
		return gc_fail(gc, "%s", err);
	(void)snprintf(gc->done, sizeof(gc->done), "%s_%s",
	    grant_token_kind(gc->kind), id);
	printf("%s %s revoked\n", gc->kind == GRANT_APIKEY ? "API key" :
	    "share", id);
	return 0;
}

static void
gc_row(const struct grant *g, void *arg)
{
	const struct grantcmd *gc = arg;
	char		 c[32], e[32], u[32], m[64];
	size_t		 i;
	int64_t		 now = (int64_t)time(NULL);

	if (gc->org != NULL && strcmp(g->org, gc->org) != 0)
		return;
	gc_when(g->created, c, sizeof(c));
	gc_when(g->expires, e, sizeof(e));
	gc_when(g->last_used, u, sizeof(u));
	if (g->last_used == 0)
		(void)strcpy(u, "-");
	printf("%s  %-12s", g->id, g->org[0] != '\0' ? g->org : "-");
	if (g->kind == GRANT_APIKEY) {
		printf("  ");
		for (i = 0; i < g->nscopes; i++)
			printf("%s%s", i > 0 ? "," : "", g->scopes[i]);
	} else {
		grant_methods_string(g->methods, m, sizeof(m));
		printf("  %s %s %s%s", g->app, m, g->path, g->prefix ? "/**" :
		    "");
	}
	printf("  created %s  expires %s%s  last used %s%s%s\n", c, e,
	    g->expires != 0 && g->expires <= now ? " (expired)" : "", u,
	    g->name[0] != '\0' ? "  " : "", g->name);
}

static int
grant_cmd_list(struct grantcmd *gc)
{
	char	err[STORE_ERRLEN];
	int	rc;

	if (gc->nargs != 0)
		return gc_usage(gc, stderr);
	if ((rc = gc_open(gc)) != 0)
		return rc;
	if (grant_list_sync(gc->ss, gc->kind, gc_row, gc, err, sizeof(err)) ==
	    -1)
		return gc_fail(gc, "%s", err);
	return 0;
}

static int
gc_run(enum grant_kind kind, int argc, char **argv)
{
	struct grantcmd	gc;
	int		rc;

	memset(&gc, 0, sizeof(gc));
	gc.kind = kind;
	gc.cmd = grant_kind_name(kind);
	if ((rc = gc_parse(&gc, argc, argv)) != 0)
		return rc == -1 ? 0 : rc;
	if (strcmp(gc.action, "create") == 0)
		rc = kind == GRANT_APIKEY ? apikey_cmd_create(&gc) :
		    share_cmd_create(&gc);
	else if (strcmp(gc.action, "revoke") == 0)
		rc = grant_cmd_revoke(&gc);
	else if (strcmp(gc.action, "list") == 0)
		rc = grant_cmd_list(&gc);
	else {
		fprintf(stderr, "postern %s: unknown action '%s'\n", gc.cmd,
		    gc.action);
		rc = gc_usage(&gc, stderr);
	}
	if (rc == 0 && gc.ss != NULL && gc.done[0] != '\0') {
		char	action[32];

		(void)snprintf(action, sizeof(action), "%s_%s", gc.cmd,
		    gc.action);
		(void)audit_emit_sync(gc.ss, &(struct audit_event){
		    .action = action, .actor = "operator", .target = gc.done,
		    .org = gc.org, .outcome = "success" });
	}
	store_sync_close(gc.ss);
	config_unref(gc.cfg);
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
