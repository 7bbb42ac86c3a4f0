/*
 * The postern binary: one table of subcommands, their usage text, and the
 * small commands (check, help, version) that need nothing else.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "assertion.h"
#include "config.h"
#include "diag.h"
#include "loader.h"
#include "log.h"
#include "mailcmd.h"
#include "policycmd.h"
#include "serve.h"
#include "audit.h"
#include "grantcmd.h"
#include "seccmd.h"
#include "usercmd.h"

#define DEFAULT_CONFIG	"/etc/postern/postern.yaml"

struct command {
	const char	*name;
	int		(*run)(int, char **);
	const char	*usage;		/* arguments after the name */
	const char	*summary;
	const char	*issue;		/* NULL once implemented */
};

static int	cmd_serve(int, char **);
static int	cmd_check(int, char **);
static int	cmd_help(int, char **);
static int	cmd_version(int, char **);
static int	cmd_keys(int, char **);

static const struct command commands[] = {
	{ "serve", cmd_serve, "[-c FILE]",
	    "run the gateway in the foreground (systemd Type=notify)", NULL },
	{ "check", cmd_check, "[-c FILE]",
	    "validate the configuration and policies; print file:line:col "
	    "errors", NULL },
	{ "policy", policycmd_main, POLICYCMD_USAGE,
	    "print the decision for a request and the rule that made it",
	    NULL },
	{ "user", usercmd_user, USERCMD_USER_USAGE,
	    "manage users in Redis (passwords are read from a TTY without "
	    "echo, or from stdin; never from arguments)", NULL },
	{ "org", usercmd_org, USERCMD_ORG_USAGE,
	    "manage organisations and members' roles", NULL },
	{ "apikey", grantcmd_apikey, GRANTCMD_APIKEY_USAGE,
	    "manage scoped API keys (the key is printed once)", NULL },
	{ "share", grantcmd_share, GRANTCMD_SHARE_USAGE,
	    "manage resource-bound share links (the URL is printed once)",
	    NULL },
	{ "sessions", usercmd_sessions, USERCMD_SESSIONS_USAGE,
	    "revoke every session of every user", NULL },
	{ "mail", mailcmd_main, MAILCMD_USAGE,
	    "send the 'test' mail template once to check the mail: settings",
	    NULL },
	{ "keys", cmd_keys, "generate [-c FILE]",
	    "create the assertion signing key (assertion.key_file) if absent",
	    NULL },
	{ "secrets", seccmd_main, SECCMD_USAGE,
	    "re-seal stored second-factor seeds with the current secret_file "
	    "(after moving the old one to previous_secret_files)", NULL },
	{ "audit", audit_main, AUDIT_USAGE,
	    "verify, read and trim the hash-chained audit trail", NULL },
	{ "help", cmd_help, "[SUBCOMMAND]", "show usage", NULL },
	{ "version", cmd_version, "", "print the version", NULL },
};
#define NCOMMANDS	(sizeof(commands) / sizeof(commands[0]))

static const struct command *
command_find(const char *name)
{
	size_t	i;

	for (i = 0; i < NCOMMANDS; i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

static void
usage_all(FILE *fp)
{
	size_t	i;

	fprintf(fp, "usage: postern SUBCOMMAND [ARGS]\n"
	    "       postern --help | --version\n\nsubcommands:\n");
	for (i = 0; i < NCOMMANDS; i++)
		fprintf(fp, "  %-9s %s\n", commands[i].name,
		    commands[i].summary);
	fprintf(fp, "\nThe default configuration file is " DEFAULT_CONFIG
	    ".\nRun 'postern help SUBCOMMAND' for its usage.\n");
}

static void
usage_one(FILE *fp, const struct command *c)
{
	fprintf(fp, "usage: postern %s %s\n  %s\n", c->name, c->usage,
	    c->summary);
	if (c->issue != NULL)
		fprintf(fp, "  (not in this version: arrives with %s)\n",
		    c->issue);
}

/* Parse "-c FILE" / "--config FILE"; anything else is a usage error. */
static int
config_arg(int argc, char **argv, const char *name, const char **path)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int	ch;

	*path = DEFAULT_CONFIG;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			*path = optarg;
			break;
		case 'h':
			usage_one(stdout, command_find(name));
			exit(0);
		default:
			usage_one(stderr, command_find(name));
			return -1;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "postern %s: unexpected argument '%s'\n", name,
		    argv[optind]);
		usage_one(stderr, command_find(name));
		return -1;
	}
	return 0;
}

static int
cmd_serve(int argc, char **argv)
{
	const char	*path;

	if (config_arg(argc, argv, "serve", &path) == -1)
		return 2;
	return serve_main(path);
}

static int
cmd_check(int argc, char **argv)
{
	struct diag	 d = { 0 };
	struct config	*cfg;
	const char	*path;

	if (config_arg(argc, argv, "check", &path) == -1)
		return 2;
	cfg = config_load(path, &d);
	diag_print(&d, stderr);
	if (cfg == NULL) {
		fprintf(stderr, "%s: %zu error%s, configuration not valid\n",
		    path, d.nerrors, d.nerrors == 1 ? "" : "s");
		diag_free(&d);
		return 1;
	}
	printf("%s: configuration ok (%zu app%s, %zu listener%s, "
	    "%zu warning%s)\n", path, cfg->napps, cfg->napps == 1 ? "" : "s",
	    cfg->nlisten, cfg->nlisten == 1 ? "" : "s", d.nwarnings,
	    d.nwarnings == 1 ? "" : "s");
	config_unref(cfg);
	diag_free(&d);
	return 0;
}

static int
cmd_help(int argc, char **argv)
{
	const struct command *c;

	if (argc < 2) {
		usage_all(stdout);
		return 0;
	}
	if ((c = command_find(argv[1])) == NULL) {
		fprintf(stderr, "postern: unknown subcommand '%s'\n", argv[1]);
		usage_all(stderr);
		return 2;
	}
	usage_one(stdout, c);
	return 0;
}

static int
cmd_version(int argc, char **argv)
{
	printf("postern %s\n", POSTERN_VERSION);
	return 0;
}

/*
 * `postern keys generate`: write a P-256 key to assertion.key_file unless
 * one is there.  Reads the file's path from the configuration without
 * requiring the key to exist (that is what we are here to fix).
 */
static int
cmd_keys(int argc, char **argv)
{
	const char	*path;
	char		 err[256], *key;
	struct diag	 d = { 0 };
	struct config	*cfg;

	if (argc < 2 || strcmp(argv[1], "generate") != 0) {
		usage_one(stderr, command_find("keys"));
		return 2;
	}
	if (config_arg(argc - 1, argv + 1, "keys", &path) == -1)
		return 2;
	if ((key = config_assertion_key_path(path, &d)) == NULL) {
		diag_print(&d, stderr);
		diag_free(&d);
		fprintf(stderr, "%s: no assertion.key_file to generate\n", path);
		return 1;
	}
	diag_free(&d);
	if (access(key, F_OK) == 0) {
		printf("%s: exists, left as it is\n", key);
		free(key);
		return 0;
	}
	if (assertion_key_generate(key, err, sizeof(err)) == -1) {
		fprintf(stderr, "postern keys: %s\n", err);
		free(key);
		return 1;
	}
	printf("%s: new P-256 signing key written (mode 0600)\n", key);
	free(key);
	(void)cfg;
	return 0;
}

int
main(int argc, char *argv[])
{
	const struct command *c;

	log_init(LOG_LEVEL_INFO, LOG_FORMAT_TEXT);
	if (argc < 2) {
		usage_all(stderr);
		return 2;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		usage_all(stdout);
		return 0;
	}
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0)
		return cmd_version(argc - 1, argv + 1);
	if ((c = command_find(argv[1])) == NULL) {
		fprintf(stderr, "postern: unknown subcommand '%s'\n", argv[1]);
		usage_all(stderr);
		return 2;
	}
	return c->run(argc - 1, argv + 1);
}
