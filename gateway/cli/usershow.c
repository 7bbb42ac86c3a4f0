/*
 * `postern user show EMAIL [--json]`: one user as the gateway sees it --
 * id, name, state, created and last sign-in, second factor (enrolled,
 * backup codes left), memberships, live sessions (count and each one) and
 * the identities of single sign-on providers linked to it.  Read-only
 * but for dropping index entries of expired sessions.  The JSON fields
 * are listed in docs/cli.md.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acctstore.h"
#include "cli.h"
#include "sso.h"
#include "store.h"
#include "user.h"
#include "usershow.h"

/* What is read of one user; the replies are owned here. */
struct usershow {
	const char	*email;
	char		 id[USER_IDLEN + 1];
	redisReply	*u;		/* HGETALL user:<id> */
	redisReply	*orgs;		/* HGETALL user:<id>:orgs */
	redisReply	*sso;		/* HGETALL user:<id>:sso */
	redisReply	*backup;	/* SCARD user:<id>:backup */
	redisReply	*sessions;	/* {hash, created, last_seen, method,
					 * mfa}... */
};

#define US_SESSION_FIELDS	ACCTSTORE_SESSION_FIELDS

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

static size_t
usershow_nsessions(const struct usershow *us)
{
	return us->sessions->type == REDIS_REPLY_ARRAY ?
	    us->sessions->elements / US_SESSION_FIELDS : 0;
}

/* Field <f> of session <i>. */
static const char *
usershow_sess(const struct usershow *us, size_t i, size_t f)
{
	return us->sessions->element[i * US_SESSION_FIELDS + f]->str;
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
usershow_json_time(struct cli_json *j, const char *key, const char *s)
{
	char	when[32];

	cli_time(s, when, sizeof(when));
	cli_json_key(j, key);
	cli_json_str(j, when);
}

static void
usershow_json_sessions(struct cli_json *j, const struct usershow *us)
{
	char	id[17];
	size_t	i;

	cli_json_key(j, "active_sessions");
	cli_json_open(j, '[');
	for (i = 0; i < usershow_nsessions(us); i++) {
		(void)snprintf(id, sizeof(id), "%s", usershow_sess(us, i, 0));
		cli_json_open(j, '{');
		cli_json_key(j, "id");
		cli_json_str(j, id);
		usershow_json_time(j, "created", usershow_sess(us, i, 1));
		usershow_json_time(j, "last_seen", usershow_sess(us, i, 2));
		cli_json_key(j, "method");
		cli_json_str(j, usershow_sess(us, i, 3));
		cli_json_key(j, "mfa");
		cli_json_bool(j, strcmp(usershow_sess(us, i, 4), "1") == 0);
		cli_json_close(j, '}');
	}
	cli_json_close(j, ']');
}

static void
usershow_json(const struct usershow *us)
{
	struct cli_json	j;
	const redisReply *u = us->u;

	cli_json_init(&j, stdout);
	cli_json_open(&j, '{');
	cli_json_key(&j, "email");
	cli_json_str(&j, us->email);
	cli_json_key(&j, "id");
	cli_json_str(&j, us->id);
	cli_json_key(&j, "name");
	cli_json_str(&j, usershow_field(u, "name"));
	cli_json_key(&j, "disabled");
	cli_json_bool(&j, strcmp(usershow_field(u, "disabled"), "1") == 0);
	usershow_json_time(&j, "created", usershow_field(u, "created"));
	usershow_json_time(&j, "last_sign_in", usershow_field(u,
	    "last_login"));
	usershow_json_time(&j, "password_changed", usershow_field(u,
	    "password_changed"));
	cli_json_key(&j, "password");
	cli_json_bool(&j, usershow_field(u, "password")[0] != '\0');
	cli_json_key(&j, "two_factor");
	cli_json_bool(&j, usershow_field(u, "totp")[0] != '\0');
	cli_json_key(&j, "backup_codes_left");
	cli_json_int(&j, us->backup->integer);
	cli_json_key(&j, "sessions");
	cli_json_int(&j, (long long)usershow_nsessions(us));
	usershow_json_sessions(&j, us);
	usershow_json_pairs(&j, "orgs", us->orgs, "org", "role");
	usershow_json_pairs(&j, "identities", us->sso, "provider", "sub");
	cli_json_close(&j, '}');
}

/* The rows of HGETALL reply <r> under a <k> <v> header, or "none". */
static void
usershow_text_pairs(const char *title, const redisReply *r, const char *k,
    const char *v)
{
	size_t	i;

	if (r->elements == 0) {
		printf("%s: none\n", title);
		return;
	}
	printf("%s:\n  %-24s %s\n", title, k, v);
	for (i = 0; i + 1 < r->elements; i += 2)
		printf("  %-24s %s\n", r->element[i]->str,
		    r->element[i + 1]->str);
}

static void
usershow_text_sessions(const struct usershow *us)
{
	char	created[32], seen[32];
	size_t	i, n = usershow_nsessions(us);

	printf("sessions:         %zu\n", n);
	if (n == 0)
		return;
	printf("  %-16s %-20s %-20s %-12s %s\n", "ID", "CREATED",
	    "LAST SEEN", "METHOD", "2FA");
	for (i = 0; i < n; i++) {
		cli_time(usershow_sess(us, i, 1), created,
		    sizeof(created));
		cli_time(usershow_sess(us, i, 2), seen, sizeof(seen));
		printf("  %-16.16s %-20s %-20s %-12s %s\n",
		    usershow_sess(us, i, 0), created, seen,
		    usershow_sess(us, i, 3),
		    strcmp(usershow_sess(us, i, 4), "1") == 0 ? "yes" : "no");
	}
}

static void
usershow_text(const struct usershow *us)
{
	const redisReply *u = us->u;
	char		 created[32], last[32];

	cli_time(usershow_field(u, "created"), created, sizeof(created));
	cli_time(usershow_field(u, "last_login"), last, sizeof(last));
	printf("email:            %s\nid:               %s\n"
	    "name:             %s\nstatus:           %s\n"
	    "created:          %s\nlast sign-in:     %s\n"
	    "password:         %s\n", us->email, us->id,
	    usershow_field(u, "name"), strcmp(usershow_field(u, "disabled"),
	    "1") == 0 ? "disabled" : "active", created,
	    last[0] != '\0' ? last : "never", usershow_field(u,
	    "password")[0] != '\0' ? "set" : "none");
	if (usershow_field(u, "totp")[0] != '\0')
		printf("two-factor:       enrolled, %lld backup code%s left\n",
		    us->backup->integer, us->backup->integer == 1 ? "" : "s");
	else
		printf("two-factor:       none\n");
	usershow_text_sessions(us);
	usershow_text_pairs("orgs", us->orgs, "ORG", "ROLE");
	usershow_text_pairs("linked identities", us->sso, "PROVIDER", "SUB");
}

/* Read everything of us->id; 0, or -1 with <err>. */
static int
usershow_read(struct store_sync *ss, struct usershow *us, char *err,
    size_t errlen)
{
	const char	*prefix = store_sync_prefix(ss);
	char		 ku[STORE_KEYLEN], ko[STORE_KEYLEN], ks[STORE_KEYLEN];
	char		 kl[STORE_KEYLEN], kb[STORE_KEYLEN];

	if (user_key(ku, sizeof(ku), prefix, USER_KEY_USER, us->id) == -1 ||
	    user_key(ko, sizeof(ko), prefix, USER_KEY_USER_ORGS, us->id) ==
	    -1 || user_key(ks, sizeof(ks), prefix, USER_KEY_USER_SESSIONS,
	    us->id) == -1 || store_layout_key(kl, sizeof(kl), prefix,
	    SSO_KEY_LINKS, us->id) == -1 || store_layout_key(kb, sizeof(kb),
	    prefix, ACCTSTORE_KEY_BACKUP, us->id) == -1) {
		(void)snprintf(err, errlen, "key too long");
		return -1;
	}
	if ((us->u = store_sync_command(ss, err, errlen, "HGETALL %s", ku)) ==
	    NULL || (us->orgs = store_sync_command(ss, err, errlen,
	    "HGETALL %s", ko)) == NULL || (us->sso = store_sync_command(ss,
	    err, errlen, "HGETALL %s", kl)) == NULL || (us->backup =
	    store_sync_command(ss, err, errlen, "SCARD %s", kb)) == NULL ||
	    (us->sessions = store_sync_eval(ss, &acctstore_lua_sessions, err,
	    errlen, 1, 2, (const char *[]){ ks, prefix }, NULL)) == NULL)
		return -1;
	return 0;
}

static void
usershow_free(struct usershow *us)
{
	redisReply	*r[] = { us->u, us->orgs, us->sso, us->backup,
	    us->sessions };
	size_t		 i;

	for (i = 0; i < sizeof(r) / sizeof(r[0]); i++)
		if (r[i] != NULL)
			freeReplyObject(r[i]);
}

int
usershow_run(struct cli *cli, const char *email)
{
	struct usershow	 us;
	redisReply	*idr;
	char		 key[STORE_KEYLEN], err[STORE_ERRLEN];
	int		 rc = 1;

	memset(&us, 0, sizeof(us));
	us.email = email;
	if (user_key(key, sizeof(key), store_sync_prefix(cli->ss),
	    USER_KEY_EMAIL, email) == -1 || (idr = store_sync_command(cli->ss,
	    err, sizeof(err), "GET %s", key)) == NULL)
		return cli_fail(cli, "%s", err);
	if (idr->type != REDIS_REPLY_STRING || idr->len != USER_IDLEN) {
		freeReplyObject(idr);
		return cli_fail(cli, "no user %s", email);
	}
	memcpy(us.id, idr->str, USER_IDLEN + 1);
	freeReplyObject(idr);
	if (usershow_read(cli->ss, &us, err, sizeof(err)) == -1)
		rc = cli_fail(cli, "%s", err);
	else if (us.sessions->type != REDIS_REPLY_ARRAY ||
	    us.backup->type != REDIS_REPLY_INTEGER)
		rc = cli_fail(cli, "unexpected reply from redis");
	else {
		if (cli->json)
			usershow_json(&us);
		else
			usershow_text(&us);
		rc = 0;
	}
	usershow_free(&us);
	return rc;
}
