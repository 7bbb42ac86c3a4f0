/*
 * The operator commands on users and organisations (see usercmd.h): the
 * argument parsing, the password prompt, and the messages.  Redis work is
 * done by user.c over the synchronous store; passwords are checked and
 * hashed by password.c with the configured argon2id cost.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "audit.h"
#include "config.h"
#include "diag.h"
#include "loader.h"
#include "password.h"
#include "store.h"
#include "user.h"
#include "usercmd.h"

#define DEFAULT_CONFIG	"/etc/postern/postern.yaml"
#define PWBUF		(PASSWORD_MAX_BYTES + 2)

/* One invocation: its parsed arguments and what it opened. */
struct usercmd {
	const char		*cmd;		/* "user" or "org" */
	const char		*action;
	const char		*config;
	const char		*name;		/* --name */
	const char		*role;		/* --role */
	int			 remove;	/* --remove */
	int			 all;		/* --all */
	int			 help;		/* -h: usage shown, exit 0 */
	char			**args;		/* positional, after action */
	int			 nargs;
	struct config		*cfg;
	struct store_sync	*ss;
};

static void
usercmd_usage_to(const struct usercmd *uc, FILE *fp)
{
	fprintf(fp, "usage: postern %s %s\n", uc->cmd,
	    strcmp(uc->cmd, "user") == 0 ? USERCMD_USER_USAGE :
	    strcmp(uc->cmd, "org") == 0 ? USERCMD_ORG_USAGE :
	    USERCMD_SESSIONS_USAGE);
}

static void
usercmd_usage(const struct usercmd *uc)
{
	usercmd_usage_to(uc, stderr);
}

int
usercmd_failv(const char *cmd, const char *action, const char *fmt,
    va_list ap)
{
	fprintf(stderr, "postern %s %s: ", cmd, action);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	return 1;
}

static int
usercmd_fail(const struct usercmd *uc, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
usercmd_fail(const struct usercmd *uc, const char *fmt, ...)
{
	va_list	ap;
	int	rc;

	va_start(ap, fmt);
	rc = usercmd_failv(uc->cmd, uc->action, fmt, ap);
	va_end(ap);
	return rc;
}

/* Options anywhere after the action; returns 0 or -1 (usage printed). */
static int
usercmd_parse(struct usercmd *uc, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "name", required_argument, NULL, 'n' },
		{ "role", required_argument, NULL, 'r' },
		{ "remove", no_argument, NULL, 'R' },
		{ "all", no_argument, NULL, 'A' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int	ch;

	uc->config = DEFAULT_CONFIG;
	if (argc >= 2 && (strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "--help") == 0)) {
		uc->help = 1;
		usercmd_usage_to(uc, stdout);
		return -1;
	}
	if (argc < 2) {
		usercmd_usage(uc);
		return -1;
	}
	uc->action = argv[1];
	optind = 1;
	while ((ch = getopt_long(argc - 1, argv + 1, "c:n:r:h", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'c':
			uc->config = optarg;
			break;
		case 'n':
			uc->name = optarg;
			break;
		case 'r':
			uc->role = optarg;
			break;
		case 'R':
			uc->remove = 1;
			break;
		case 'A':
			uc->all = 1;
			break;
		case 'h':
			uc->help = 1;
			usercmd_usage_to(uc, stdout);
			return -1;
		default:
			usercmd_usage(uc);
			return -1;
		}
	}
	uc->args = argv + 1 + optind;
	uc->nargs = argc - 1 - optind;
	return 0;
}

/* Check the positional count and the options this action accepts. */
static int
usercmd_expect(const struct usercmd *uc, int nargs, int name, int role)
{
	if (uc->nargs != nargs) {
		fprintf(stderr, "postern %s %s: expected %d argument%s, got "
		    "%d\n", uc->cmd, uc->action, nargs, nargs == 1 ? "" : "s",
		    uc->nargs);
		usercmd_usage(uc);
		return -1;
	}
	if ((uc->name != NULL && !name) || ((uc->role != NULL ||
	    uc->remove) && !role)) {
		fprintf(stderr, "postern %s %s: option not accepted here\n",
		    uc->cmd, uc->action);
		usercmd_usage(uc);
		return -1;
	}
	return 0;
}

int
usercmd_connect(const char *cmd, const char *action, const char *config,
    struct config **cfg, struct store_sync **ss)
{
	struct diag	d = { 0 };
	char		err[STORE_ERRLEN * 2];

	*cfg = config_load(config, &d);
	diag_print(&d, stderr);
	diag_free(&d);
	if (*cfg == NULL) {
		fprintf(stderr, "postern %s %s: %s: configuration not valid\n",
		    cmd, action, config);
		return 1;
	}
	if ((*ss = store_sync_open(*cfg, err, sizeof(err))) == NULL) {
		fprintf(stderr, "postern %s %s: %s\n", cmd, action, err);
		return 1;
	}
	return 0;
}

static int
usercmd_open(struct usercmd *uc)
{
	return usercmd_connect(uc->cmd, uc->action, uc->config, &uc->cfg,
	    &uc->ss);
}

static void
usercmd_close(struct usercmd *uc)
{
	store_sync_close(uc->ss);
	config_unref(uc->cfg);
}

static int
usercmd_email(const struct usercmd *uc, const char *in, char *out)
{
	char	why[128];

	if (user_email_normalize(in, out, why, sizeof(why)) == -1) {
		fprintf(stderr, "postern %s %s: %s\n", uc->cmd, uc->action,
		    why);
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
			usercmd_fail(uc, "no password on standard input");
		else if (n == -2)
			usercmd_fail(uc, "the password must be at most %d "
			    "characters long", PASSWORD_MAX_LENGTH);
		return n < 0 ? -1 : n;
	}
	n = usercmd_prompt("New password: ", pw, size);
	m = n < 0 ? -1 : usercmd_prompt("Repeat password: ", again,
	    sizeof(again));
	if (n == -2 || m == -2)
		usercmd_fail(uc, "the password must be at most %d characters "
		    "long", PASSWORD_MAX_LENGTH);
	else if (n < 0 || m < 0)
		usercmd_fail(uc, "cannot read the password from the terminal");
	else if (n != m || CRYPTO_memcmp(pw, again, (size_t)n) != 0) {
		usercmd_fail(uc, "the passwords do not match");
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
	static struct store_script lua = STORE_SCRIPT("org words",
		"local r = {}\n"
		"for _, o in ipairs(redis.call('SMEMBERS', KEYS[1])) do\n"
		"  r[#r + 1] = o\n"
		"  r[#r + 1] = redis.call('HGET', ARGV[1] .. 'org:' .. o, "
		"'name') or ''\n"
		"end\n"
		"return r\n");
	redisReply	*reply;
	char		 key[STORE_KEYLEN], err[256];
	size_t		 i;
	int		 rc = -1;

	if (user_key(key, sizeof(key), store_sync_prefix(uc->ss),
	    USER_KEY_ORGS, NULL) == -1 || (reply = store_sync_eval(uc->ss, &lua,
	    err, sizeof(err), 1, 2, (const char *[]){ key,
	    store_sync_prefix(uc->ss) }, NULL)) == NULL)
		return -1;
	if (reply->type == REDIS_REPLY_ARRAY) {
		for (i = 0; i < reply->elements; i++)
			if (reply->element[i]->type == REDIS_REPLY_STRING &&
			    password_rules_word(rules, reply->element[i]->str,
			    "the name of an organisation") == -1)
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

	if ((rules = password_rules_load(password_rules_path(uc->cfg),
	    (size_t)uc->cfg->password_min_length, err, sizeof(err))) == NULL) {
		usercmd_fail(uc, "%s", err);
		return -1;
	}
	if (password_rules_context(rules, uc->cfg) == -1 ||
	    usercmd_org_words(uc, rules) == -1) {
		usercmd_fail(uc, "cannot read the organisations' names");
		goto out;
	}
	if ((n = usercmd_password(uc, pw, sizeof(pw))) < 0)
		goto out;
	if (password_check(rules, pw, (size_t)n, &(struct password_context){
	    .email = email }, why, sizeof(why)) == -1) {
		usercmd_fail(uc, "password refused: %s", why);
		goto out;
	}
	password_params_from(uc->cfg, &params);
	if (password_hash(&params, pw, (size_t)n, phc, phclen) == -1) {
		usercmd_fail(uc, "cannot hash the password (argon2id with "
		    "m=%u KiB: out of memory?)", params.memory_kib);
		goto out;
	}
	rc = 0;
out:
	OPENSSL_cleanse(pw, sizeof(pw));
	password_rules_free(rules);
	return rc;
}

static int
user_cmd_add(struct usercmd *uc)
{
	char	email[USER_EMAILMAX + 1], phc[PASSWORD_HASHLEN];
	char	id[USER_IDLEN + 1], err[STORE_ERRLEN];
	int	rc;

	if (usercmd_expect(uc, 1, 1, 0) == -1 ||
	    usercmd_email(uc, uc->args[0], email) == -1)
		return 2;
	if (uc->name != NULL && user_name_valid(uc->name) == -1) {
		usercmd_fail(uc, "--name: at most %d bytes of UTF-8 text "
		    "without control characters", USER_NAMEMAX);
		return 2;
	}
	if ((rc = usercmd_open(uc)) != 0)
		return rc;
	if (usercmd_new_hash(uc, email, phc, sizeof(phc)) == -1)
		return 1;
	rc = user_add(uc->ss, email, uc->name != NULL ? uc->name : "", phc,
	    id, err, sizeof(err));
	OPENSSL_cleanse(phc, sizeof(phc));
	if (rc == USER_EXISTS)
		return usercmd_fail(uc, "a user with email %s already exists",
		    email);
	if (rc != 0)
		return usercmd_fail(uc, "%s", err);
	printf("user %s added (id %s)\n", email, id);
	return 0;
}

static int
user_cmd_passwd(struct usercmd *uc)
{
	char	email[USER_EMAILMAX + 1], phc[PASSWORD_HASHLEN];
	char	err[STORE_ERRLEN];
	long	n = 0;
	int	rc;

	if (usercmd_expect(uc, 1, 0, 0) == -1 ||
	    usercmd_email(uc, uc->args[0], email) == -1)
		return 2;
	if ((rc = usercmd_open(uc)) != 0)
		return rc;
	if (usercmd_new_hash(uc, email, phc, sizeof(phc)) == -1)
		return 1;
	rc = user_set_password(uc->ss, email, phc, &n, err, sizeof(err));
	OPENSSL_cleanse(phc, sizeof(phc));
	if (rc == USER_NOTFOUND)
		return usercmd_fail(uc, "no user %s", email);
	if (rc != 0)
		return usercmd_fail(uc, "%s", err);
	printf("password of %s changed; %ld session%s revoked\n", email, n,
	    n == 1 ? "" : "s");
	return 0;
}

/* disable, enable, revoke-sessions */
static int
user_cmd_state(struct usercmd *uc)
{
	char	email[USER_EMAILMAX + 1], err[STORE_ERRLEN];
	long	n = 0;
	int	rc, disable = strcmp(uc->action, "disable") == 0;

	if (usercmd_expect(uc, 1, 0, 0) == -1 ||
	    usercmd_email(uc, uc->args[0], email) == -1)
		return 2;
	if ((rc = usercmd_open(uc)) != 0)
		return rc;
	if (strcmp(uc->action, "revoke-sessions") == 0)
		rc = user_revoke_sessions(uc->ss, email, &n, err, sizeof(err));
	else
		rc = user_set_disabled(uc->ss, email, disable, &n, err,
		    sizeof(err));
	if (rc == USER_NOTFOUND)
		return usercmd_fail(uc, "no user %s", email);
	if (rc != 0)
		return usercmd_fail(uc, "%s", err);
	if (strcmp(uc->action, "enable") == 0)
		printf("user %s enabled\n", email);
	else
		printf("%s%s; %ld session%s revoked\n", disable ?
		    "user disabled: " : "sessions of ", email, n,
		    n == 1 ? "" : "s");
	return 0;
}

/* `postern sessions revoke --all`: everyone signs in again (incident). */
static int
sessions_cmd_revoke(struct usercmd *uc)
{
	char	err[STORE_ERRLEN];
	long	n = 0;
	int	rc;

	if (usercmd_expect(uc, 0, 0, 0) == -1)
		return 2;
	if (!uc->all) {
		fprintf(stderr, "postern sessions revoke: --all is required "
		    "(for one user: postern user revoke-sessions EMAIL)\n");
		usercmd_usage(uc);
		return 2;
	}
	if ((rc = usercmd_open(uc)) != 0)
		return rc;
	if (user_revoke_all(uc->ss, &n, err, sizeof(err)) == -1)
		return usercmd_fail(uc, "%s", err);
	printf("%ld session%s revoked\n", n, n == 1 ? "" : "s");
	return 0;
}

static void
user_cmd_row(const struct user_info *ui, void *arg)
{
	struct tm	tm;
	time_t		t = (time_t)ui->created;
	char		when[32];

	(void)arg;
	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		(void)snprintf(when, sizeof(when), "-");
	printf("%s\t%s\t%s\t%s\t%s\t%s\n", ui->email, ui->id,
	    ui->disabled ? "disabled" : "enabled", when,
	    ui->name[0] != '\0' ? ui->name : "-",
	    ui->orgs[0] != '\0' ? ui->orgs : "-");
}

static int
user_cmd_list(struct usercmd *uc)
{
	char	err[STORE_ERRLEN];
	int	rc;

	if (usercmd_expect(uc, 0, 0, 0) == -1)
		return 2;
	if ((rc = usercmd_open(uc)) != 0)
		return rc;
	if (isatty(STDOUT_FILENO))
		printf("EMAIL\tID\tSTATUS\tCREATED\tNAME\tORGS\n");
	if (user_list(uc->ss, user_cmd_row, NULL, err, sizeof(err)) == -1)
		return usercmd_fail(uc, "%s", err);
	return 0;
}

static int
org_cmd_add(struct usercmd *uc)
{
	char	err[STORE_ERRLEN];
	int	rc;

	if (usercmd_expect(uc, 1, 1, 0) == -1)
		return 2;
	if (user_slug_valid(uc->args[0]) == -1) {
		usercmd_fail(uc, "'%s' is not a valid slug (lower-case letters, "
		    "digits and inner '-', at most %d)", uc->args[0],
		    USER_SLUGMAX);
		return 2;
	}
	if (uc->name != NULL && user_name_valid(uc->name) == -1) {
		usercmd_fail(uc, "--name: at most %d bytes of UTF-8 text "
		    "without control characters", USER_NAMEMAX);
		return 2;
	}
	if ((rc = usercmd_open(uc)) != 0)
		return rc;
	rc = user_org_add(uc->ss, uc->args[0], uc->name != NULL ? uc->name :
	    uc->args[0], err, sizeof(err));
	if (rc == USER_EXISTS)
		return usercmd_fail(uc, "organisation %s already exists",
		    uc->args[0]);
	if (rc != 0)
		return usercmd_fail(uc, "%s", err);
	printf("organisation %s added\n", uc->args[0]);
	return 0;
}

static int
org_cmd_member(struct usercmd *uc)
{
	char	email[USER_EMAILMAX + 1], err[STORE_ERRLEN];
	int	rc;

	if (usercmd_expect(uc, 2, 0, 1) == -1 ||
	    usercmd_email(uc, uc->args[1], email) == -1)
		return 2;
	if ((uc->role == NULL) == (uc->remove == 0)) {
		usercmd_fail(uc, "give exactly one of --role ROLE and "
		    "--remove");
		usercmd_usage(uc);
		return 2;
	}
	if (user_slug_valid(uc->args[0]) == -1) {
		usercmd_fail(uc, "'%s' is not a valid slug", uc->args[0]);
		return 2;
	}
	if ((rc = usercmd_open(uc)) != 0)
		return rc;
	if (uc->role != NULL && user_role_valid(uc->cfg->roles,
	    uc->cfg->nroles, uc->role) == -1) {
		size_t	i;

		fprintf(stderr, "postern org member: unknown role '%s' (the "
		    "ladder in %s is:", uc->role, uc->config);
		for (i = 0; i < uc->cfg->nroles; i++)
			fprintf(stderr, " %s", uc->cfg->roles[i]);
		fprintf(stderr, ")\n");
		return 2;
	}
	rc = user_org_member(uc->ss, uc->args[0], email, uc->role, err,
	    sizeof(err));
	if (rc != 0)
		return usercmd_fail(uc, "%s", err);
	if (uc->role != NULL)
		printf("%s is %s of %s\n", email, uc->role, uc->args[0]);
	else
		printf("%s removed from %s\n", email, uc->args[0]);
	return 0;
}

struct usercmd_action {
	const char	*cmd;
	const char	*name;
	int		(*run)(struct usercmd *);
};

static const struct usercmd_action usercmd_actions[] = {
	{ "user", "add", user_cmd_add },
	{ "user", "passwd", user_cmd_passwd },
	{ "user", "disable", user_cmd_state },
	{ "user", "enable", user_cmd_state },
	{ "user", "revoke-sessions", user_cmd_state },
	{ "user", "list", user_cmd_list },
	{ "org", "add", org_cmd_add },
	{ "org", "member", org_cmd_member },
	{ "sessions", "revoke", sessions_cmd_revoke },
};

/* The operator's action, done: one audit event ("user_add", ...). */
static void
usercmd_audit(const struct usercmd *uc)
{
	char	action[64];
	size_t	i;
	int	member = strcmp(uc->cmd, "org") == 0 &&
		    strcmp(uc->action, "member") == 0;

	(void)snprintf(action, sizeof(action), "%s_%s", uc->cmd, uc->action);
	for (i = 0; action[i] != '\0'; i++)
		if (action[i] == '-')
			action[i] = '_';
	(void)audit_emit_sync(uc->ss, &(struct audit_event){
	    .action = action, .actor = "operator",
	    .target = member && uc->nargs > 1 ? uc->args[1] :
	    uc->nargs > 0 ? uc->args[0] : (uc->all ? "all" : ""),
	    .org = member || strcmp(uc->cmd, "org") == 0 ? (uc->nargs > 0 ?
	    uc->args[0] : "") : "", .outcome = "success",
	    .reason = member ? (uc->role != NULL ? uc->role : "removed") :
	    NULL });
}

static int
usercmd_run(const char *cmd, int argc, char **argv)
{
	struct usercmd	uc;
	size_t		i;
	int		rc;

	memset(&uc, 0, sizeof(uc));
	uc.cmd = cmd;
	if (usercmd_parse(&uc, argc, argv) == -1)
		return uc.help ? 0 : 2;
	for (i = 0; i < sizeof(usercmd_actions) / sizeof(usercmd_actions[0]);
	    i++)
		if (strcmp(usercmd_actions[i].cmd, cmd) == 0 &&
		    strcmp(usercmd_actions[i].name, uc.action) == 0)
			break;
	if (i == sizeof(usercmd_actions) / sizeof(usercmd_actions[0])) {
		fprintf(stderr, "postern %s: unknown action '%s'\n", cmd,
		    uc.action);
		usercmd_usage(&uc);
		return 2;
	}
	rc = usercmd_actions[i].run(&uc);
	if (rc == 0 && uc.ss != NULL)
		usercmd_audit(&uc);
	usercmd_close(&uc);
	return rc;
}

int
usercmd_user(int argc, char **argv)
{
	return usercmd_run("user", argc, argv);
}

int
usercmd_org(int argc, char **argv)
{
	return usercmd_run("org", argc, argv);
}

int
usercmd_sessions(int argc, char **argv)
{
	return usercmd_run("sessions", argc, argv);
}
