/*
 * `postern org list | show | rename` (see orgcmd.h): the Redis work is
 * identity/orgadmin.c's; here are the configuration's side (apps bound to
 * an org, slugs the configuration names) and the output, as text with a
 * header row or as JSON.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "config.h"
#include "orgadmin.h"
#include "orgcmd.h"
#include "store.h"
#include "user.h"

static const char *
orgcmd_str(const redisReply *r)
{
	return r->type == REDIS_REPLY_STRING ? r->str : "";
}

int
orgcmd_list(struct cli *c)
{
	struct cli_json	 j;
	redisReply	*r;
	char		 err[STORE_ERRLEN], when[32];
	size_t		 i;

	if ((r = org_list_read(c->ss, err, sizeof(err))) == NULL)
		return cli_fail(c, "%s", err);
	cli_json_init(&j, stdout);
	if (c->json)
		cli_json_open(&j, '[');
	else
		printf("SLUG\tNAME\tMEMBERS\tCREATED\n");
	for (i = 0; i + 3 < r->elements; i += 4) {
		cli_time(orgcmd_str(r->element[i + 2]), when, sizeof(when));
		if (!c->json) {
			printf("%s\t%s\t%lld\t%s\n", orgcmd_str(r->element[i]),
			    orgcmd_str(r->element[i + 1]),
			    r->element[i + 3]->integer, when);
			continue;
		}
		cli_json_open(&j, '{');
		cli_json_key(&j, "slug");
		cli_json_str(&j, orgcmd_str(r->element[i]));
		cli_json_key(&j, "name");
		cli_json_str(&j, orgcmd_str(r->element[i + 1]));
		cli_json_key(&j, "members");
		cli_json_int(&j, r->element[i + 3]->integer);
		cli_json_key(&j, "created");
		cli_json_str(&j, when);
		cli_json_close(&j, '}');
	}
	if (c->json)
		cli_json_close(&j, ']');
	freeReplyObject(r);
	return 0;
}

/* How app <a> serves <slug>: "fixed" (app org:), "tenant" ({org} hosts)
 * or NULL. */
static const char *
orgcmd_binding(const struct config_app *a, const char *slug)
{
	if (a->org != NULL)
		return strcmp(a->org, slug) == 0 ? "fixed" : NULL;
	return a->host_tenant ? "tenant" : NULL;
}

static void
orgcmd_show_json(struct cli *c, const char *slug, const redisReply *r)
{
	const redisReply *m = r->element[1], *d = r->element[2];
	struct cli_json	 j;
	char		 when[32];
	const char	*how;
	size_t		 i;

	cli_time(orgcmd_str(r->element[0]->element[1]), when, sizeof(when));
	cli_json_init(&j, stdout);
	cli_json_open(&j, '{');
	cli_json_key(&j, "slug");
	cli_json_str(&j, slug);
	cli_json_key(&j, "name");
	cli_json_str(&j, orgcmd_str(r->element[0]->element[0]));
	cli_json_key(&j, "created");
	cli_json_str(&j, when);
	cli_json_key(&j, "members");
	cli_json_open(&j, '[');
	for (i = 0; i + 2 < m->elements; i += 3) {
		cli_json_open(&j, '{');
		cli_json_key(&j, "email");
		cli_json_str(&j, orgcmd_str(m->element[i + 2]));
		cli_json_key(&j, "id");
		cli_json_str(&j, orgcmd_str(m->element[i]));
		cli_json_key(&j, "role");
		cli_json_str(&j, orgcmd_str(m->element[i + 1]));
		cli_json_close(&j, '}');
	}
	cli_json_close(&j, ']');
	cli_json_key(&j, "apps");
	cli_json_open(&j, '[');
	for (i = 0; i < c->cfg->napps; i++) {
		if ((how = orgcmd_binding(&c->cfg->apps[i], slug)) == NULL)
			continue;
		cli_json_open(&j, '{');
		cli_json_key(&j, "app");
		cli_json_str(&j, c->cfg->apps[i].name);
		cli_json_key(&j, "binding");
		cli_json_str(&j, how);
		cli_json_close(&j, '}');
	}
	cli_json_close(&j, ']');
	cli_json_key(&j, "domains");
	cli_json_open(&j, '[');
	for (i = 0; i + 2 < d->elements; i += 3) {
		cli_json_open(&j, '{');
		cli_json_key(&j, "host");
		cli_json_str(&j, orgcmd_str(d->element[i]));
		cli_json_key(&j, "app");
		cli_json_str(&j, orgcmd_str(d->element[i + 1]));
		cli_json_key(&j, "state");
		cli_json_str(&j, orgcmd_str(d->element[i + 2]));
		cli_json_close(&j, '}');
	}
	cli_json_close(&j, ']');
	cli_json_key(&j, "api_keys");
	cli_json_int(&j, r->element[3]->integer);
	cli_json_key(&j, "share_links");
	cli_json_int(&j, r->element[4]->integer);
	cli_json_close(&j, '}');
}

static void
orgcmd_show_text(struct cli *c, const char *slug, const redisReply *r)
{
	const redisReply *m = r->element[1], *d = r->element[2];
	char		 when[32];
	const char	*how;
	size_t		 i;

	cli_time(orgcmd_str(r->element[0]->element[1]), when, sizeof(when));
	printf("slug:         %s\nname:         %s\ncreated:      %s\n"
	    "api keys:     %lld\nshare links:  %lld\n", slug,
	    orgcmd_str(r->element[0]->element[0]), when,
	    r->element[3]->integer, r->element[4]->integer);
	printf("members:      %zu\n  %-40s %s\n", m->elements / 3, "EMAIL",
	    "ROLE");
	for (i = 0; i + 2 < m->elements; i += 3)
		printf("  %-40s %s\n", orgcmd_str(m->element[i + 2]),
		    orgcmd_str(m->element[i + 1]));
	printf("apps:\n  %-24s %s\n", "APP", "BINDING");
	for (i = 0; i < c->cfg->napps; i++)
		if ((how = orgcmd_binding(&c->cfg->apps[i], slug)) != NULL)
			printf("  %-24s %s\n", c->cfg->apps[i].name, how);
	printf("domains:      %zu\n  %-40s %-16s %s\n", d->elements / 3,
	    "HOST", "APP", "STATE");
	for (i = 0; i + 2 < d->elements; i += 3)
		printf("  %-40s %-16s %s\n", orgcmd_str(d->element[i]),
		    orgcmd_str(d->element[i + 1]),
		    orgcmd_str(d->element[i + 2]));
}

int
orgcmd_show(struct cli *c, const char *slug)
{
	redisReply	*r;
	char		 err[STORE_ERRLEN];
	int		 rc = 0;

	if ((r = org_show_read(c->ss, slug, err, sizeof(err))) == NULL)
		return cli_fail(c, "%s", err);
	if (r->type == REDIS_REPLY_NIL)
		rc = cli_fail(c, "no organisation %s", slug);
	else if (r->type != REDIS_REPLY_ARRAY || r->elements != 5 ||
	    r->element[0]->elements != 2)
		rc = cli_fail(c, "org show: unexpected reply from redis");
	else if (c->json)
		orgcmd_show_json(c, slug, r);
	else
		orgcmd_show_text(c, slug, r);
	freeReplyObject(r);
	return rc;
}

/* Where the configuration names <slug>, or NULL if it does not. */
static const char *
orgcmd_named(const struct config *cfg, const char *slug, char *buf,
    size_t size)
{
	size_t	i;

	for (i = 0; i < cfg->napps; i++)
		if (cfg->apps[i].org != NULL &&
		    strcmp(cfg->apps[i].org, slug) == 0) {
			(void)snprintf(buf, size, "app %s (org: %s)",
			    cfg->apps[i].name, slug);
			return buf;
		}
	if (config_names_has(&cfg->mfa_orgs, slug))
		return "mfa.required_orgs";
	if (config_names_has(&cfg->magic_orgs, slug))
		return "account.magic_link_orgs";
	for (i = 0; cfg->sso != NULL && i < cfg->sso->norgs; i++)
		if (strcmp(cfg->sso->orgs[i].org, slug) == 0)
			return "sso.orgs";
	return NULL;
}

int
orgcmd_rename(struct cli *c, const char *from, const char *to)
{
	char		 err[STORE_ERRLEN], where[200];
	const char	*named;
	long		 n = 0;
	int		 rc;

	if (user_slug_valid(from) == -1 || user_slug_valid(to) == -1) {
		(void)cli_fail(c, "'%s' is not a valid slug (lower-case "
		    "letters, digits and inner '-', at most %d)",
		    user_slug_valid(from) == -1 ? from : to, USER_SLUGMAX);
		return 2;
	}
	if ((named = orgcmd_named(c->cfg, from, where, sizeof(where))) !=
	    NULL)
		return cli_fail(c, "%s names org %s in its configuration: "
		    "change %s first (to %s), then rename; nothing renamed",
		    c->config, from, named, to);
	rc = org_rename(c->ss, from, to, &n, err, sizeof(err));
	if (rc == USER_NOTFOUND)
		return cli_fail(c, "no organisation %s", from);
	if (rc == USER_EXISTS)
		return cli_fail(c, "organisation %s already exists", to);
	if (rc != 0)
		return cli_fail(c, "%s", err);
	printf("organisation %s renamed to %s (%ld member%s)\n", from, to, n,
	    n == 1 ? "" : "s");
	return 0;
}
