/*
 * `postern domain ...` (see domaincmd.h), over the synchronous store.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audit.h"
#include "cli.h"
#include "config.h"
#include "domain.h"
#include "domaincmd.h"
#include "store.h"
#include "user.h"

/* One invocation. */
struct domaincmd {
	struct cli	 cli;
	const char	*app;		/* --app */
	const char	*org;		/* --org */
	char		 host[254];
	char		 done[300];	/* audit target, "" if nothing */
	char		 done_org[64];
};

static const struct cli_opt domaincmd_opts[] = {
	CLI_OPT_CONFIG,
	CLI_OPT_HELP,
	CLI_OPT_JSON,
	CLI_OPT("app", 0, CLI_STR, struct domaincmd, app),
	CLI_OPT("org", 0, CLI_STR, struct domaincmd, org),
	CLI_OPT_END,
};

static const struct cli_spec domaincmd_spec = {
	"domain", DOMAINCMD_USAGE, NULL, domaincmd_opts, NULL,
};

/* The HOST argument checked into dc->host; 0 or 1 (message shown). */
static int
domaincmd_host(struct domaincmd *dc)
{
	const char	*why;

	if (cli_load(&dc->cli) != 0)
		return 1;
	if ((why = domain_check(dc->cli.cfg, dc->cli.args[0],
	    dc->host)) == NULL)
		return 0;
	if (strcmp(why, "domain_configured") == 0)
		return cli_fail(&dc->cli, "%s is a host of the configuration "
		    "already", dc->host);
	return cli_fail(&dc->cli, "'%s' is not a DNS name (two labels or "
	    "more: letters, digits, hyphens)", dc->cli.args[0]);
}

static int
domaincmd_add(void *arg)
{
	struct domaincmd	*dc = arg;
	enum domain_result	 r;
	char			 err[STORE_ERRLEN];
	size_t			 i;

	if (dc->app == NULL || dc->org == NULL)
		return cli_fail(&dc->cli, "--app APP and --org ORG are needed");
	if (domaincmd_host(dc) != 0)
		return 1;
	for (i = 0; i < dc->cli.cfg->napps; i++)
		if (strcmp(dc->cli.cfg->apps[i].name, dc->app) == 0)
			break;
	if (i == dc->cli.cfg->napps)
		return cli_fail(&dc->cli, "no app '%s' in the configuration",
		    dc->app);
	if (dc->cli.cfg->apps[i].org != NULL &&
	    strcmp(dc->cli.cfg->apps[i].org, dc->org) != 0)
		return cli_fail(&dc->cli, "app '%s' belongs to org '%s'",
		    dc->app, dc->cli.cfg->apps[i].org);
	if (user_slug_valid(dc->org) != 0)
		return cli_fail(&dc->cli, "'%s' is not an org slug", dc->org);
	if (cli_connect(&dc->cli, NULL) != 0)
		return 1;
	r = domain_add_sync(dc->cli.ss, dc->host, dc->app, dc->org,
	    domain_max_per_org(dc->cli.cfg), err, sizeof(err));
	if (r == DOMAIN_ERROR)
		return cli_fail(&dc->cli, "%s", err);
	if (r != DOMAIN_OK && r != DOMAIN_SAME)
		return cli_fail(&dc->cli, "%s: %s", dc->host,
		    domain_result_text(r));
	printf("%s: %s for app %s, org %s\n", dc->host, r == DOMAIN_SAME ?
	    "already registered" : "registered", dc->app, dc->org);
	if (r == DOMAIN_OK) {
		(void)snprintf(dc->done, sizeof(dc->done), "%s", dc->host);
		(void)snprintf(dc->done_org, sizeof(dc->done_org), "%s",
		    dc->org);
	}
	return 0;
}

static int
domaincmd_remove(void *arg)
{
	struct domaincmd	*dc = arg;
	enum domain_result	 r;
	char			 err[STORE_ERRLEN];

	if (domaincmd_host(dc) != 0 || cli_connect(&dc->cli, NULL) != 0)
		return 1;
	r = domain_remove_sync(dc->cli.ss, dc->host, err, sizeof(err));
	if (r == DOMAIN_ERROR)
		return cli_fail(&dc->cli, "%s", err);
	if (r != DOMAIN_OK)
		return cli_fail(&dc->cli, "%s: %s", dc->host,
		    domain_result_text(r));
	printf("%s: removed\n", dc->host);
	(void)snprintf(dc->done, sizeof(dc->done), "%s", dc->host);
	return 0;
}

/* ---- list ---- */

static const char *
domaincmd_str(const redisReply *r)
{
	return r != NULL && r->type == REDIS_REPLY_STRING ? r->str : "";
}

static void
domaincmd_time(const char *s, char *out, size_t size)
{
	time_t		t = (time_t)strtoll(s, NULL, 10);
	struct tm	tm;

	(void)snprintf(out, size, "-");
	if (t > 0 && gmtime_r(&t, &tm) != NULL)
		(void)strftime(out, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* One domain: HMGET'd fields <f> (app org state last_error not_after). */
static void
domaincmd_print(struct domaincmd *dc, struct cli_json *j, const char *host,
    const redisReply *f)
{
	static const char *const names[] = { "app", "org", "state",
	    "last_error" };
	char	na[32];
	size_t	i;

	if (!dc->cli.json) {
		domaincmd_time(domaincmd_str(f->element[4]), na, sizeof(na));
		printf("%-40s %-16s %-16s %-8s %-20s %s\n", host,
		    domaincmd_str(f->element[0]), domaincmd_str(f->element[1]),
		    domaincmd_str(f->element[2]), na,
		    domaincmd_str(f->element[3])[0] != '\0' ?
		    domaincmd_str(f->element[3]) : "-");
		return;
	}
	cli_json_open(j, '{');
	cli_json_key(j, "host");
	cli_json_str(j, host);
	for (i = 0; i < 4; i++) {
		cli_json_key(j, names[i]);
		cli_json_str(j, domaincmd_str(f->element[i]));
	}
	cli_json_key(j, "not_after");
	cli_json_int(j, strtoll(domaincmd_str(f->element[4]), NULL, 10));
	cli_json_close(j, '}');
}

static int
domaincmd_list(void *arg)
{
	struct domaincmd	*dc = arg;
	struct cli_json		 j;
	redisReply		*all, *f;
	char			 k[STORE_KEYLEN], err[STORE_ERRLEN];
	size_t			 i;
	int			 rc = 0;

	if (cli_connect(&dc->cli, NULL) != 0)
		return 1;
	(void)store_layout_key(k, sizeof(k), store_sync_prefix(dc->cli.ss),
	    DOMAIN_LAYOUT_ALL);
	if ((all = store_sync_command(dc->cli.ss, err, sizeof(err),
	    "SORT %s ALPHA", k)) == NULL)
		return cli_fail(&dc->cli, "%s", err);
	if (dc->cli.json) {
		cli_json_init(&j, stdout);
		cli_json_open(&j, '[');
	} else
		printf("%-40s %-16s %-16s %-8s %-20s %s\n", "HOST", "APP",
		    "ORG", "STATE", "NOT_AFTER", "LAST_ERROR");
	for (i = 0; rc == 0 && i < all->elements; i++) {
		const char *host = domaincmd_str(all->element[i]);

		(void)store_layout_key(k, sizeof(k),
		    store_sync_prefix(dc->cli.ss), DOMAIN_LAYOUT_HOST, host);
		if ((f = store_sync_command(dc->cli.ss, err, sizeof(err),
		    "HMGET %s app org state last_error not_after", k)) ==
		    NULL) {
			rc = cli_fail(&dc->cli, "%s", err);
			break;
		}
		if (f->type == REDIS_REPLY_ARRAY && f->elements == 5)
			domaincmd_print(dc, &j, host, f);
		freeReplyObject(f);
	}
	if (dc->cli.json)
		cli_json_close(&j, ']');
	freeReplyObject(all);
	return rc;
}

static const struct cli_action domaincmd_actions[] = {
	{ "add", domaincmd_add, 1, "app org" },
	{ "list", domaincmd_list, 0, "" },
	{ "remove", domaincmd_remove, 1, "" },
	{ NULL, NULL, 0, NULL },
};

int
domaincmd_main(int argc, char **argv)
{
	struct domaincmd	dc;
	char			action[32];
	int			rc;

	memset(&dc, 0, sizeof(dc));
	cli_init(&dc.cli, &domaincmd_spec);
	if (cli_action(&dc.cli, argc, argv) == -1 ||
	    cli_parse(&dc.cli, argc - 1, argv + 1, &dc) == -1)
		return dc.cli.rc;
	rc = cli_dispatch(&dc.cli, domaincmd_actions, &dc);
	if (rc == 0 && dc.cli.ss != NULL && dc.done[0] != '\0') {
		(void)snprintf(action, sizeof(action), "domain_%s",
		    dc.cli.action);
		(void)audit_emit_sync(dc.cli.ss, &(struct audit_event){
		    .action = action, .actor = "operator", .target = dc.done,
		    .org = dc.done_org[0] != '\0' ? dc.done_org : NULL,
		    .outcome = "success" });
	}
	cli_close(&dc.cli);
	return rc;
}
