/*
 * `postern user show EMAIL [--json]`: one user as the gateway sees it --
 * id, name, state, second factor, memberships, live sessions and the
 * identities of single sign-on providers linked to it.  Read-only.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "sso.h"
#include "store.h"
#include "user.h"
#include "usershow.h"

/* A field of HGETALL reply <r>, or "". */
static const char *
usershow_field(const redisReply *r, const char *name)
{
	size_t	i;

	for (i = 0; r != NULL && r->type == REDIS_REPLY_ARRAY &&
	    i + 1 < r->elements; i += 2)
		if (strcmp(r->element[i]->str, name) == 0)
			return r->element[i + 1]->str;
	return "";
}

/* "2026-12-06T18:00:00Z" for Unix seconds <s>, or "" for none. */
static void
usershow_time(const char *s, char *out, size_t size)
{
	struct tm	tm;
	time_t		t;

	out[0] = '\0';
	if (s[0] == '\0')
		return;
	t = (time_t)strtoll(s, NULL, 10);
	if (gmtime_r(&t, &tm) != NULL)
		(void)strftime(out, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* The pairs of HGETALL reply <r> as a JSON list of {<k>, <v>}. */
static void
usershow_json_pairs(struct cli_json *j, const char *key,
    const redisReply *r, const char *k, const char *v)
{
	size_t	i;

	cli_json_key(j, key);
	cli_json_open(j, '[');
	for (i = 0; r->type == REDIS_REPLY_ARRAY && i + 1 < r->elements;
	    i += 2) {
		cli_json_open(j, '{');
		cli_json_key(j, k);
		cli_json_str(j, r->element[i]->str);
		cli_json_key(j, v);
		cli_json_str(j, r->element[i + 1]->str);
		cli_json_close(j, '}');
	}
	cli_json_close(j, ']');
}

static void
usershow_json(const char *email, const char *id, const redisReply *u,
    const redisReply *orgs, long long nsessions, const redisReply *sso)
{
	struct cli_json	j;
	char		created[32];

	usershow_time(usershow_field(u, "created"), created, sizeof(created));
	cli_json_init(&j, stdout);
	cli_json_open(&j, '{');
	cli_json_key(&j, "email");
	cli_json_str(&j, email);
	cli_json_key(&j, "id");
	cli_json_str(&j, id);
	cli_json_key(&j, "name");
	cli_json_str(&j, usershow_field(u, "name"));
	cli_json_key(&j, "disabled");
	cli_json_bool(&j, strcmp(usershow_field(u, "disabled"), "1") == 0);
	cli_json_key(&j, "created");
	cli_json_str(&j, created);
	cli_json_key(&j, "password");
	cli_json_bool(&j, usershow_field(u, "password")[0] != '\0');
	cli_json_key(&j, "two_factor");
	cli_json_bool(&j, usershow_field(u, "totp")[0] != '\0');
	cli_json_key(&j, "sessions");
	cli_json_int(&j, nsessions);
	usershow_json_pairs(&j, "orgs", orgs, "org", "role");
	usershow_json_pairs(&j, "identities", sso, "provider", "sub");
	cli_json_close(&j, '}');
}

static void
usershow_text(const char *email, const char *id, const redisReply *u,
    const redisReply *orgs, long long nsessions, const redisReply *sso)
{
	char	created[32];
	size_t	i;

	usershow_time(usershow_field(u, "created"), created, sizeof(created));
	printf("email:       %s\nid:          %s\nname:        %s\n"
	    "status:      %s\ncreated:     %s\npassword:    %s\n"
	    "two-factor:  %s\nsessions:    %lld\n", email, id,
	    usershow_field(u, "name"), strcmp(usershow_field(u, "disabled"),
	    "1") == 0 ? "disabled" : "active", created,
	    usershow_field(u, "password")[0] != '\0' ? "set" : "none",
	    usershow_field(u, "totp")[0] != '\0' ? "enrolled" : "none",
	    nsessions);
	printf("orgs:%s\n", orgs->elements == 0 ? "        none" : "");
	for (i = 0; i + 1 < orgs->elements; i += 2)
		printf("  %-24s %s\n", orgs->element[i]->str,
		    orgs->element[i + 1]->str);
	printf("linked identities:%s\n", sso->elements == 0 ? " none" : "");
	for (i = 0; i + 1 < sso->elements; i += 2)
		printf("  %-24s %s\n", sso->element[i]->str,
		    sso->element[i + 1]->str);
}

int
usershow_run(struct cli *cli, const char *email)
{
	redisReply	*idr = NULL, *u = NULL, *orgs = NULL, *n = NULL;
	redisReply	*sso = NULL;
	char		 key[STORE_KEYLEN], id[USER_IDLEN + 1], err[STORE_ERRLEN];
	char		 ko[STORE_KEYLEN], ks[STORE_KEYLEN], kl[STORE_KEYLEN];
	const char	*prefix = store_sync_prefix(cli->ss);
	int		 rc = 1;

	if (user_key(key, sizeof(key), prefix, USER_KEY_EMAIL, email) == -1 ||
	    (idr = store_sync_command(cli->ss, err, sizeof(err), "GET %s",
	    key)) == NULL) {
		rc = cli_fail(cli, "%s", err);
		goto out;
	}
	if (idr->type != REDIS_REPLY_STRING || idr->len != USER_IDLEN) {
		rc = cli_fail(cli, "no user %s", email);
		goto out;
	}
	memcpy(id, idr->str, USER_IDLEN + 1);
	if (user_key(key, sizeof(key), prefix, USER_KEY_USER, id) == -1 ||
	    user_key(ko, sizeof(ko), prefix, USER_KEY_USER_ORGS, id) == -1 ||
	    user_key(ks, sizeof(ks), prefix, USER_KEY_USER_SESSIONS, id) ==
	    -1 || store_layout_key(kl, sizeof(kl), prefix, SSO_KEY_LINKS,
	    id) == -1) {
		rc = cli_fail(cli, "key too long");
		goto out;
	}
	if ((u = store_sync_command(cli->ss, err, sizeof(err), "HGETALL %s",
	    key)) == NULL || (orgs = store_sync_command(cli->ss, err,
	    sizeof(err), "HGETALL %s", ko)) == NULL ||
	    (n = store_sync_command(cli->ss, err, sizeof(err), "SCARD %s",
	    ks)) == NULL || (sso = store_sync_command(cli->ss, err,
	    sizeof(err), "HGETALL %s", kl)) == NULL) {
		rc = cli_fail(cli, "%s", err);
		goto out;
	}
	if (cli->json)
		usershow_json(email, id, u, orgs, n->integer, sso);
	else
		usershow_text(email, id, u, orgs, n->integer, sso);
	rc = 0;
out:
	if (idr != NULL)
		freeReplyObject(idr);
	if (u != NULL)
		freeReplyObject(u);
	if (orgs != NULL)
		freeReplyObject(orgs);
	if (n != NULL)
		freeReplyObject(n);
	if (sso != NULL)
		freeReplyObject(sso);
	return rc;
}
