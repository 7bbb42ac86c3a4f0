/*
 * The operator commands on users and organisations (see usercmd.h): the
 * argument parsing, the password prompt, and the messages.  Redis work is
 * done by user.c over the synchronous store; passwords are checked and
 * hashed by password.c with the configured argon2id cost.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "audit.h"
#include "cli.h"
#include "config.h"
#include "diag.h"
#include "loader.h"
#include "password.h"
#include "store.h"
#include "user.h"
#include "usercmd.h"
#include "usermod.h"
#include "orgcmd.h"
#include "usershow.h"

#define PWBUF		(PASSWORD_MAX_BYTES + 2)

/* One invocation: its parsed arguments and what it opened. */
struct usercmd {
	struct cli		 cli;
	const char		*name;		/* --name */
	const char		*role;		/* --role */
	int			 remove;	/* --remove */
	int			 all;		/* --all */
	int			 yes;		/* --yes */
	const char		*org;		/* --org */
	const char		*host;		/* --host */
};

static const struct cli_opt usercmd_opts[] = {
	CLI_OPT_CONFIG,
	CLI_OPT("name", 'n', CLI_STR, struct usercmd, name),
	CLI_OPT("role", 'r', CLI_STR, struct usercmd, role),
	CLI_OPT("remove", 0, CLI_FLAG, struct usercmd, remove),
	CLI_OPT("all", 0, CLI_FLAG, struct usercmd, all),
	CLI_OPT("yes", 'y', CLI_FLAG, struct usercmd, yes),
	CLI_OPT("org", 'o', CLI_STR, struct usercmd, org),
	CLI_OPT("host", 0, CLI_STR, struct usercmd, host),
	CLI_OPT_JSON,
	CLI_OPT_HELP,
	CLI_OPT_END,
};

static const struct cli_spec usercmd_user_spec = {
	"user", USERCMD_USER_USAGE, NULL, usercmd_opts, NULL,
};
static const struct cli_spec usercmd_org_spec = {
	"org", USERCMD_ORG_USAGE, NULL, usercmd_opts, NULL,
};
static const struct cli_spec usercmd_sessions_spec = {
	"sessions", USERCMD_SESSIONS_USAGE, NULL, usercmd_opts, NULL,
};

static int
usercmd_email(const struct usercmd *uc, const char *in, char *out)
{
	char	why[128];

	if (user_email_normalize(in, out, why, sizeof(why)) == -1) {
		cli_fail(&uc->cli, "%s", why);
		return -1;
	}
	return 0;
}

/* --name, if given, is a valid display name; 0, or -1 (message shown). */
static int
usercmd_name(const struct usercmd *uc)
{
	if (uc->name != NULL && user_name_valid(uc->name) == -1) {
		cli_fail(&uc->cli, "--name: at most %d bytes of UTF-8 text "
		    "without control characters", USER_NAMEMAX);
		return -1;
	}
	return 0;
}

/*
 * Read one line from <fd> into <buf> (<size> bytes) without stdio (whose
 * buffers we could not wipe).  Returns its length without the newline,
 * -1 on error or end of input before anything, -2 if it is too long.
 */
static long
usercmd_readline(int fd, char *buf, size_t size)
{
	size_t	len = 0;
	ssize_t	n;
	char	c;
	int	toolong = 0, any = 0;

	while ((n = read(fd, &c, 1)) == 1) {
		any = 1;
		if (c == '\n')
			break;
		if (len + 1 < size)
			buf[len++] = c;
		else
			toolong = 1;
	}
	if (n == -1 || !any)
		return -1;
	if (len > 0 && buf[len - 1] == '\r')
		len--;
	buf[len] = '\0';
	return toolong ? -2 : (long)len;
}

/* Prompt on the terminal with echo off. */
static long
usercmd_prompt(const char *prompt, char *buf, size_t size)
{
	struct termios	old, quiet;
	long		n;

	fputs(prompt, stderr);
	fflush(stderr);
	if (tcgetattr(STDIN_FILENO, &old) == -1)
		return -1;
	quiet = old;
	quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
	quiet.c_lflag |= ICANON;
	if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet) == -1)
		return -1;
	n = usercmd_readline(STDIN_FILENO, buf, size);
	(void)tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
	fputc('\n', stderr);
	return n;
}

/*
 * The new password into <pw>: twice from a TTY, once from standard input
 * otherwise.  Returns its length or -1 (message printed).
 */
static long
usercmd_password(const struct usercmd *uc, char *pw, size_t size)
{
	char	again[PWBUF];
	long	n, m;

	if (!isatty(STDIN_FILENO)) {
		if ((n = usercmd_readline(STDIN_FILENO, pw, size)) == -1)
			cli_fail(&uc->cli, "no password on standard input");
		else if (n == -2)
			cli_fail(&uc->cli, "the password must be at most %d "
			    "characters long", PASSWORD_MAX_LENGTH);
		return n < 0 ? -1 : n;
	}
	n = usercmd_prompt("New password: ", pw, size);
	m = n < 0 ? -1 : usercmd_prompt("Repeat password: ", again,
	    sizeof(again));
	if (n == -2 || m == -2)
		cli_fail(&uc->cli, "the password must be at most %d characters "
		    "long", PASSWORD_MAX_LENGTH);
	else if (n < 0 || m < 0)
		cli_fail(&uc->cli, "cannot read the password from the "
		    "terminal");
	else if (n != m || CRYPTO_memcmp(pw, again, (size_t)n) != 0) {
		cli_fail(&uc->cli, "the passwords do not match");
		n = -1;
	}
	OPENSSL_cleanse(again, sizeof(again));
	return n < 0 || m < 0 ? -1 : n;
}

/*
 * Every org's slug and name (from Redis) as context words of <rules>: an
 * operator setting a password refuses them all, the user's own orgs or
 * not (a new user has none yet).  0, or -1.
 */
static int
usercmd_org_words(struct usercmd *uc, struct password_rules *rules)
{
	static struct store_script lua = STORE_LAYOUT_SCRIPT("org words",
		"local r = {}\n"
		"for _, o in ipairs(redis.call('SMEMBERS', KEYS[1])) do\n"
		"  r[#r + 1] = o\n"
		"  r[#r + 1] = redis.call('HGET',\n"
		"    key('" USER_LAYOUT_ORG "', o), 'name') or ''\n"
		"end\n"
		"return r\n");
	redisReply	*reply;
	char		 key[STORE_KEYLEN], err[256];
	size_t		 i;
	int		 rc = -1;

	if (user_key(key, sizeof(key), store_sync_prefix(uc->cli.ss),
	    USER_KEY_ORGS, NULL) == -1 || (reply = store_sync_eval(uc->cli.ss,
	    &lua, err, sizeof(err), 1, 2, (const char *[]){ key,
	    store_sync_prefix(uc->cli.ss) }, NULL)) == NULL)
		return -1;
	if (reply->type == REDIS_REPLY_ARRAY) {
		for (i = 0; i < reply->elements; i++)
			if (reply->element[i]->type == REDIS_REPLY_STRING &&
			    password_rules_word(rules, reply->element[i]->str,
			    "organisation") == -1)
				break;
		rc = i == reply->elements ? 0 : -1;
	}
	freeReplyObject(reply);
	return rc;
}

/* Read, check and hash a new password for <email> into <phc>. */
static int
usercmd_new_hash(struct usercmd *uc, const char *email, char *phc,
    size_t phclen)
{
	struct password_rules	*rules;
	struct password_params	 params;
	char			 pw[PWBUF], err[256], why[PASSWORD_WHYLEN];
	long			 n;
	int			 rc = -1;

	if ((rules = config_password_rules(uc->cli.cfg, err,
	    sizeof(err))) == NULL) {
		cli_fail(&uc->cli, "%s", err);
		return -1;
	}
	if (usercmd_org_words(uc, rules) == -1) {
		cli_fail(&uc->cli, "cannot read the organisations' names");
		goto out;
	}
	if ((n = usercmd_password(uc, pw, sizeof(pw))) < 0)
		goto out;
	if (password_check(rules, pw, (size_t)n, &(struct password_context){
	    .email = email }, why, sizeof(why)) == -1) {
		cli_fail(&uc->cli, "password refused: %s", why);
		goto out;
	}
	user_password_params(uc->cli.cfg, &params);
	if (password_hash(&params, pw, (size_t)n, phc, phclen) == -1) {
		cli_fail(&uc->cli, "cannot hash the password (argon2id with "
		    "m=%u KiB: out of memory?)", params.memory_kib);
		goto out;
	}
	rc = 0;
out:
	OPENSSL_cleanse(pw, sizeof(pw));
	password_rules_free(rules);
	return rc;
}

/* The email argument normalised, --name checked, Redis connected: 0, or
 * the exit status (message shown). */
static int
usercmd_begin(struct usercmd *uc, char *email)
{
	if (usercmd_email(uc, uc->cli.args[0], email) == -1)
		return 2;
	if (usercmd_name(uc) == -1)
		return 2;
	return cli_connect(&uc->cli, NULL);
}

static int
user_cmd_add(void *arg)
{
	struct usercmd	*uc = arg;
	char		 email[USER_EMAILMAX + 1], phc[PASSWORD_HASHLEN];
	char		 id[USER_IDLEN + 1], err[STORE_ERRLEN];
	int		 rc;

	if ((rc = usercmd_begin(uc, email)) != 0)
		return rc;
	if (usercmd_new_hash(uc, email, phc, sizeof(phc)) == -1)
		return 1;
	rc = user_add(uc->cli.ss, email, uc->name != NULL ? uc->name : "", phc,
	    id, err, sizeof(err));
	OPENSSL_cleanse(phc, sizeof(phc));
	if (rc == USER_EXISTS)
		return cli_fail(&uc->cli, "a user with email %s already exists",
		    email);
	if (rc != 0)
		return cli_fail(&uc->cli, "%s", err);
	printf("user %s added (id %s)\n", email, id);
	return 0;
}

static int
user_cmd_passwd(void *arg)
{
	struct usercmd	*uc = arg;
	char		 email[USER_EMAILMAX + 1], phc[PASSWORD_HASHLEN];
	char		 err[STORE_ERRLEN];
	long		 n = 0;
	int		 rc;

	if (usercmd_email(uc, uc->cli.args[0], email) == -1)
		return 2;
	if ((rc = cli_connect(&uc->cli, NULL)) != 0)
		return rc;
	if (usercmd_new_hash(uc, email, phc, sizeof(phc)) == -1)
		return 1;
	rc = user_set_password(uc->cli.ss, email, phc, &n, err, sizeof(err));
	OPENSSL_cleanse(phc, sizeof(phc));
	if (rc == USER_NOTFOUND)
		return cli_fail(&uc->cli, "no user %s", email);
	if (rc != 0)
		return cli_fail(&uc->cli, "%s", err);
	printf("password of %s changed; %ld session%s revoked\n", email, n,
	    n == 1 ? "" : "s");
	return 0;
}

/* disable, enable, revoke-sessions */
static int
user_cmd_state(void *arg)
{
	struct usercmd	*uc = arg;
	char		 email[USER_EMAILMAX + 1], err[STORE_ERRLEN];
	long		 n = 0;
	int		 rc, disable = strcmp(uc->cli.action, "disable") == 0;

	if (usercmd_email(uc, uc->cli.args[0], email) == -1)
		return 2;
	if ((rc = cli_connect(&uc->cli, NULL)) != 0)
		return rc;
	if (strcmp(uc->cli.action, "revoke-sessions") == 0)
		rc = user_revoke_sessions(uc->cli.ss, email, &n, err,
		    sizeof(err));
	else
		rc = user_set_disabled(uc->cli.ss, email, disable, &n, err,
		    sizeof(err));
	if (rc == USER_NOTFOUND)
		return cli_fail(&uc->cli, "no user %s", email);
	if (rc != 0)
		return cli_fail(&uc->cli, "%s", err);
	if (strcmp(uc->cli.action, "enable") == 0)
		printf("user %s enabled\n", email);
	else
		printf("%s%s; %ld session%s revoked\n", disable ?
		    "user disabled: " : "sessions of ", email, n,
		    n == 1 ? "" : "s");
	return 0;
}

/* `postern sessions revoke --all`: everyone signs in again (incident). */
static int
sessions_cmd_revoke(void *arg)
{
	struct usercmd	*uc = arg;
	char		 err[STORE_ERRLEN];
	long		 n = 0;
	int		 rc;

	if (!uc->all) {
		cli_fail(&uc->cli, "--all is required (for one user: postern "
		    "user revoke-sessions EMAIL)");
		(void)cli_usage(&uc->cli, stderr);
		return 2;
	}
	if ((rc = cli_connect(&uc->cli, NULL)) != 0)
		return rc;
	if (user_revoke_all(uc->cli.ss, &n, err, sizeof(err)) == -1)
		return cli_fail(&uc->cli, "%s", err);
	printf("%ld session%s revoked\n", n, n == 1 ? "" : "s");
	return 0;
}

/* "slug:role,..." as a JSON list of {org, role}. */
static void
user_json_orgs(struct cli_json *j, const char *orgs)
{
	const char	*p = orgs, *colon;
	char		 part[USER_SLUGMAX + 64];
	size_t		 len;

	cli_json_key(j, "orgs");
	cli_json_open(j, '[');
	while (*p != '\0') {
		len = strcspn(p, ",");
		if (len < sizeof(part)) {
			memcpy(part, p, len);
			part[len] = '\0';
			if ((colon = strchr(part, ':')) != NULL) {
				part[colon - part] = '\0';
				cli_json_open(j, '{');
				cli_json_key(j, "org");
				cli_json_str(j, part);
				cli_json_key(j, "role");
				cli_json_str(j, colon + 1);
				cli_json_close(j, '}');
			}
		}
		p += len;
		p += *p == ',';
	}
	cli_json_close(j, ']');
}

static void
user_cmd_row(const struct user_info *ui, void *arg)
{
	struct cli_json	*j = arg;
	char		 when[32], s[24];

	(void)snprintf(s, sizeof(s), "%lld", (long long)ui->created);
	cli_time(ui->created != 0 ? s : NULL, when, sizeof(when));
	if (j == NULL) {
		printf("%s\t%s\t%s\t%s\t%s\t%s\n", ui->email, ui->id,
		    ui->disabled ? "disabled" : "enabled", when[0] != '\0' ?
		    when : "-", ui->name[0] != '\0' ? ui->name : "-",
		    ui->orgs[0] != '\0' ? ui->orgs : "-");
		return;
	}
	cli_json_open(j, '{');
	cli_json_key(j, "email");
	cli_json_str(j, ui->email);
	cli_json_key(j, "id");
	cli_json_str(j, ui->id);
	cli_json_key(j, "disabled");
	cli_json_bool(j, ui->disabled);
	cli_json_key(j, "created");
	cli_json_str(j, when);
	cli_json_key(j, "name");
	cli_json_str(j, ui->name);
	user_json_orgs(j, ui->orgs);
	cli_json_close(j, '}');
}

static int
user_cmd_list(void *arg)
{
	struct usercmd	*uc = arg;
	struct cli_json	 j;
	char		 err[STORE_ERRLEN];
	int		 rc;

	if ((rc = cli_connect(&uc->cli, NULL)) != 0)
		return rc;
	cli_json_init(&j, stdout);
	if (uc->cli.json)
		cli_json_open(&j, '[');
	else
		printf("EMAIL\tID\tSTATUS\tCREATED\tNAME\tORGS\n");
	rc = user_list(uc->cli.ss, user_cmd_row, uc->cli.json ? &j : NULL,
	    err, sizeof(err));
	if (uc->cli.json)
		cli_json_close(&j, ']');
	if (rc == -1)
		return cli_fail(&uc->cli, "%s", err);
	return 0;
}

static int
user_cmd_show(void *arg)
{
	struct usercmd	*uc = arg;
	char		 email[USER_EMAILMAX + 1];
	int		 rc;

	if (usercmd_email(uc, uc->cli.args[0], email) == -1)
		return 2;
	if ((rc = cli_connect(&uc->cli, NULL)) != 0)
		return rc;
	return usershow_run(&uc->cli, email);
}

/* delete, reset-2fa, invite: usermod.c */
static int
user_cmd_mod(void *arg)
{
	struct usercmd	*uc = arg;
	char		 email[USER_EMAILMAX + 1];
	const char	*a = uc->cli.action;
	int		 rc;

	if ((rc = usercmd_begin(uc, email)) != 0)
		return rc;
	if (strcmp(a, "delete") == 0)
		return usermod_delete(&uc->cli, email, uc->yes);
	if (strcmp(a, "reset-2fa") == 0)
		return usermod_reset_mfa(&uc->cli, email);
	return usermod_invite(&uc->cli, email, &(struct usermod_invite){
	    .name = uc->name, .org = uc->org, .role = uc->role,
	    .host = uc->host });
}

static int
org_cmd_add(void *arg)
{
	struct usercmd	*uc = arg;
	char		 err[STORE_ERRLEN];
	int		 rc;

	if (user_slug_valid(uc->cli.args[0]) == -1) {
		cli_fail(&uc->cli, "'%s' is not a valid slug (lower-case "
		    "letters, digits and inner '-', at most %d)",
		    uc->cli.args[0], USER_SLUGMAX);
		return 2;
	}
	if (usercmd_name(uc) == -1)
		return 2;
	if ((rc = cli_connect(&uc->cli, NULL)) != 0)
		return rc;
	rc = user_org_add(uc->cli.ss, uc->cli.args[0], uc->name != NULL ?
	    uc->name : uc->cli.args[0], err, sizeof(err));
	if (rc == USER_EXISTS)
		return cli_fail(&uc->cli, "organisation %s already exists",
		    uc->cli.args[0]);
	if (rc != 0)
		return cli_fail(&uc->cli, "%s", err);
	printf("organisation %s added\n", uc->cli.args[0]);
	return 0;
}

static int
org_cmd_member(void *arg)
{
	struct usercmd	*uc = arg;
	char		 email[USER_EMAILMAX + 1], err[STORE_ERRLEN];
	int		 rc;

	if (usercmd_email(uc, uc->cli.args[1], email) == -1)
		return 2;
	if (strcmp(uc->cli.action, "remove-member") == 0)
		uc->remove = 1;
	if ((uc->role == NULL) == (uc->remove == 0)) {
		cli_fail(&uc->cli, "give exactly one of --role ROLE and "
		    "--remove");
		(void)cli_usage(&uc->cli, stderr);
		return 2;
	}
	if (user_slug_valid(uc->cli.args[0]) == -1) {
		cli_fail(&uc->cli, "'%s' is not a valid slug", uc->cli.args[0]);
		return 2;
	}
	if ((rc = cli_connect(&uc->cli, NULL)) != 0)
		return rc;
	if (uc->role != NULL && user_role_valid(uc->cli.cfg->roles,
	    uc->cli.cfg->nroles, uc->role) == -1) {
		size_t	i;

		fprintf(stderr, "postern org member: unknown role '%s' (the "
		    "ladder in %s is:", uc->role, uc->cli.config);
		for (i = 0; i < uc->cli.cfg->nroles; i++)
			fprintf(stderr, " %s", uc->cli.cfg->roles[i]);
		fprintf(stderr, ")\n");
		return 2;
	}
	rc = user_org_member(uc->cli.ss, uc->cli.args[0], email, uc->role, err,
	    sizeof(err));
	if (rc != 0)
		return cli_fail(&uc->cli, "%s", err);
	if (uc->role != NULL)
		printf("%s is %s of %s\n", email, uc->role, uc->cli.args[0]);
	else
		printf("%s removed from %s\n", email, uc->cli.args[0]);
	return 0;
}

/* list, show, rename: orgcmd.c */
static int
org_cmd_read(void *arg)
{
	struct usercmd	*uc = arg;
	const char	*a = uc->cli.action;
	int		 rc;

	if ((rc = cli_connect(&uc->cli, NULL)) != 0)
		return rc;
	if (strcmp(a, "list") == 0)
		return orgcmd_list(&uc->cli);
	if (strcmp(a, "show") == 0)
		return orgcmd_show(&uc->cli, uc->cli.args[0]);
	return orgcmd_rename(&uc->cli, uc->cli.args[0], uc->cli.args[1]);
}

static const struct cli_action user_actions[] = {
	{ "add", user_cmd_add, 1, "name all" },
	{ "passwd", user_cmd_passwd, 1, "all" },
	{ "disable", user_cmd_state, 1, "all" },
	{ "enable", user_cmd_state, 1, "all" },
	{ "revoke-sessions", user_cmd_state, 1, "all" },
	{ "list", user_cmd_list, 0, "all json" },
	{ "show", user_cmd_show, 1, "json" },
	{ "delete", user_cmd_mod, 1, "yes" },
	{ "reset-2fa", user_cmd_mod, 1, "" },
	{ "invite", user_cmd_mod, 1, "name org role host" },
	{ NULL, NULL, 0, NULL },
};
static const struct cli_action org_actions[] = {
	{ "add", org_cmd_add, 1, "name all" },
	{ "member", org_cmd_member, 2, "role remove all" },
	{ "remove-member", org_cmd_member, 2, "" },
	{ "list", org_cmd_read, 0, "json" },
	{ "show", org_cmd_read, 1, "json" },
	{ "rename", org_cmd_read, 2, "" },
	{ NULL, NULL, 0, NULL },
};
static const struct cli_action sessions_actions[] = {
	{ "revoke", sessions_cmd_revoke, 0, "all" },
	{ NULL, NULL, 0, NULL },
};

/* The operator's action, done: one audit event ("user_add", ...). */
static void
usercmd_audit(const struct usercmd *uc)
{
	const struct cli *c = &uc->cli;
	char		 action[64];
	size_t		 i;
	int		 org = strcmp(c->spec->cmd, "org") == 0;
	int		 member = org && (strcmp(c->action, "member") == 0 ||
			    strcmp(c->action, "remove-member") == 0);
	int		 rename = org && strcmp(c->action, "rename") == 0;

	(void)snprintf(action, sizeof(action), "%s_%s", c->spec->cmd,
	    c->action);
	for (i = 0; action[i] != '\0'; i++)
		if (action[i] == '-')
			action[i] = '_';
	(void)audit_emit_sync(c->ss, &(struct audit_event){
	    .action = action, .actor = "operator",
	    .target = member && c->nargs > 1 ? c->args[1] :
	    c->nargs > 0 ? c->args[0] : (uc->all ? "all" : ""),
	    .org = member || org ? (c->nargs > 0 ? c->args[0] : "") :
	    uc->org,			/* user invite --org */
	    .outcome = "success",
	    .reason = member ? (uc->role != NULL ? uc->role : "removed") :
	    rename ? c->args[1] : uc->role });
}

static int
usercmd_run(const struct cli_spec *spec, const struct cli_action *actions,
    int argc, char **argv)
{
	struct usercmd	uc;
	int		rc;

	memset(&uc, 0, sizeof(uc));
	cli_init(&uc.cli, spec);
	if (cli_action(&uc.cli, argc, argv) == -1 ||
	    cli_parse(&uc.cli, argc - 1, argv + 1, &uc) == -1)
		return uc.cli.rc;
	rc = cli_dispatch(&uc.cli, actions, &uc);
	if (rc == 0 && uc.cli.ss != NULL)
		usercmd_audit(&uc);
	cli_close(&uc.cli);
	return rc;
}

int
usercmd_user(int argc, char **argv)
{
	return usercmd_run(&usercmd_user_spec, user_actions, argc, argv);
}

int
usercmd_org(int argc, char **argv)
{
	return usercmd_run(&usercmd_org_spec, org_actions, argc, argv);
}

int
usercmd_sessions(int argc, char **argv)
{
	return usercmd_run(&usercmd_sessions_spec, sessions_actions, argc,
	    argv);
}
