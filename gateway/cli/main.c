/*
 * The postern binary: one table of subcommands, their usage text, and the
 * small commands (check, help, version) that need nothing else.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "assertion.h"
#include "auditcmd.h"
#include "cli.h"
#include "config.h"
#include "diag.h"
#include "evmem.h"
#include "loader.h"
#include "log.h"
#include "mailcmd.h"
#include "opscmd.h"
#include "certcmd.h"
#include "domaincmd.h"
#include "policycmd.h"
#include "serve.h"
#include "grantcmd.h"
#include "seccmd.h"
#include "ssocmd.h"
#include "usercmd.h"

struct command {
	const char	*name;
	int		(*run)(int, char **);
	const char	*usage;		/* arguments after the name */
	const char	*summary;
};

static int	cmd_serve(int, char **);
static int	cmd_check(int, char **);
static int	cmd_help(int, char **);
static int	cmd_version(int, char **);
static int	cmd_keys(int, char **);

static const struct command commands[] = {
	{ "serve", cmd_serve, "[-c FILE]",
	    "run the gateway in the foreground (systemd Type=notify)" },
	{ "check", cmd_check, "[-c FILE]",
	    "validate the configuration and policies; print file:line:col "
	    "errors" },
	{ "reload", opscmd_reload, OPSCMD_RELOAD_USAGE,
	    "check the configuration, then make the running gateway load it; "
	    "prints its outcome" },
	{ "status", opscmd_status, OPSCMD_STATUS_USAGE,
	    "the running gateway at a glance: connections, requests, Redis, "
	    "caches, last reload" },
	{ "policy", policycmd_main, POLICYCMD_USAGE,
	    "print the decision for a request and the rule that made it" },
	{ "user", usercmd_user, USERCMD_USER_USAGE,
	    "manage users in Redis (passwords are read from a TTY without "
	    "echo, or from stdin; never from arguments)" },
	{ "org", usercmd_org, USERCMD_ORG_USAGE,
	    "manage organisations and members' roles" },
	{ "apikey", grantcmd_apikey, GRANTCMD_APIKEY_USAGE,
	    "manage scoped API keys (the key is printed once)" },
	{ "share", grantcmd_share, GRANTCMD_SHARE_USAGE,
	    "manage resource-bound share links (the URL is printed once)" },
	{ "sessions", usercmd_sessions, USERCMD_SESSIONS_USAGE,
	    "revoke every session of every user" },
	{ "mail", mailcmd_main, MAILCMD_USAGE,
	    "send the 'test' mail template once to check the mail: settings" },
	{ "sso", ssocmd_main, SSOCMD_USAGE,
	    "fetch a provider's discovery document and keys and show what "
	    "Postern will use" },
	{ "keys", cmd_keys, "generate [-c FILE]",
	    "create the assertion signing key (assertion.key_file) if absent" },
	{ "secrets", seccmd_main, SECCMD_USAGE,
	    "re-seal stored second-factor seeds with the current secret_file "
	    "(after moving the old one to previous_secret_files)" },
	{ "domain", domaincmd_main, DOMAINCMD_USAGE,
	    "register tenants' custom domains (host -> app and org)" },
	{ "cert", certcmd_main, CERTCMD_USAGE,
	    "list the served certificates, renew one, or import one into "
	    "redis for every instance" },
	{ "audit", auditcmd_main, AUDITCMD_USAGE,
	    "verify, read and trim the hash-chained audit trail" },
	{ "help", cmd_help, "[SUBCOMMAND]", "show usage" },
	{ "version", cmd_version, "", "print the version" },
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
	fprintf(fp, "\nThe default configuration file is " CLI_DEFAULT_CONFIG
	    ".\nRun 'postern help SUBCOMMAND' for its usage.\n");
}

static void
usage_one(FILE *fp, const struct command *c)
{
	cli_usage_print(fp, c->name, c->usage, c->summary);
}

/* serve, check and keys: -c FILE, --help and nothing else. */
struct main_cmd {
	struct cli	cli;
	struct cli_spec	spec;
};

/* Parse <argv> for command <name>: 0, or -1 with m->cli.rc set. */
static int
config_arg(struct main_cmd *m, int argc, char **argv, const char *name)
{
	static const struct cli_opt opts[] = {
		CLI_OPT_CONFIG,
		CLI_OPT_HELP,
		CLI_OPT_END,
	};
	const struct command *c = command_find(name);

	m->spec = (struct cli_spec){ c->name, c->usage, c->summary, opts,
	    NULL };
	cli_init(&m->cli, &m->spec);
	if (cli_parse(&m->cli, argc, argv, NULL) == -1)
		return -1;
	if (m->cli.nargs != 0) {
		fprintf(stderr, "postern %s: unexpected argument '%s'\n", name,
		    m->cli.args[0]);
		m->cli.rc = cli_usage(&m->cli, stderr);
		return -1;
	}
	return 0;
}

static int
cmd_serve(int argc, char **argv)
{
	struct main_cmd	m;

	if (config_arg(&m, argc, argv, "serve") == -1)
		return m.cli.rc;
	return serve_main(m.cli.config);
}

static int
cmd_check(int argc, char **argv)
{
	struct main_cmd	 m;
	struct diag	 d = { 0 };
	struct config	*cfg;
	const char	*path;

	if (config_arg(&m, argc, argv, "check") == -1)
		return m.cli.rc;
	path = m.cli.config;
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
	struct main_cmd	 m;
	const char	*path;
	char		 err[256], *key;
	struct diag	 d = { 0 };

	if (argc < 2 || strcmp(argv[1], "generate") != 0) {
		usage_one(stderr, command_find("keys"));
		return 2;
	}
	if (config_arg(&m, argc - 1, argv + 1, "keys") == -1)
		return m.cli.rc;
	path = m.cli.config;
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
	return 0;
}

int
main(int argc, char *argv[])
{
	const struct command *c;

	/* before anything allocates through libevent */
	if (evmem_install() == -1)
		fprintf(stderr, "postern: libevent stays on malloc()\n");
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
