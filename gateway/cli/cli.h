/*
 * The scaffold every `postern SUBCOMMAND` is built on: a table of options
 * parsed with getopt_long (the shared -c FILE, -h/--help, --json), the
 * usage line, "postern CMD ACTION: message" failures, loading the
 * configuration with its diagnostics shown, the synchronous Redis
 * connection of operator commands, and a small JSON writer for output
 * meant for scripts.
 *
 * A subcommand describes itself once (struct cli_spec), keeps a struct cli
 * for the invocation and its own state (<obj>) that the table's options
 * fill in by offset.  Exit statuses: 0 done, 1 failure, 2 usage.
 */
#ifndef POSTERN_CLI_H
#define POSTERN_CLI_H

#include <stddef.h>
#include <stdio.h>

struct cli;
struct config;
struct store_sync;

#define CLI_DEFAULT_CONFIG	"/etc/postern/postern.yaml"

enum cli_kind {
	CLI_CONFIG,		/* the argument is cli->config */
	CLI_HELP,		/* usage on standard output, exit 0 */
	CLI_JSON,		/* cli->json = 1 */
	CLI_STR,		/* const char * at <off> = the argument */
	CLI_FLAG,		/* int at <off> = 1 */
	CLI_U64,		/* uint64_t at <off> = strtoull(argument) */
	CLI_LIST,		/* const char *[<max>] at <off>, size_t at
				 * <count>: the argument appended; more than
				 * <max> is a usage error */
	CLI_FN,			/* fn(cli, obj, argument): 0, or an exit
				 * status (its message printed) */
};

/* One option: --<name>, also -<letter> unless that is 0. */
struct cli_opt {
	const char	*name;
	char		 letter;
	enum cli_kind	 kind;
	size_t		 off;
	size_t		 count;
	size_t		 max;
	int		(*fn)(struct cli *, void *, const char *);
};

#define CLI_OPT_CONFIG	{ "config", 'c', CLI_CONFIG, 0, 0, 0, NULL }
#define CLI_OPT_HELP	{ "help", 'h', CLI_HELP, 0, 0, 0, NULL }
#define CLI_OPT_JSON	{ "json", 0, CLI_JSON, 0, 0, 0, NULL }
#define CLI_OPT(name, letter, kind, type, field)			\
	{ name, letter, kind, offsetof(type, field), 0, 0, NULL }
#define CLI_OPT_LIST(name, type, field, nfield)				\
	{ name, 0, CLI_LIST, offsetof(type, field),			\
	    offsetof(type, nfield), sizeof(((type *)0)->field) /	\
	    sizeof(((type *)0)->field[0]), NULL }
#define CLI_OPT_FN(name, fn)	{ name, 0, CLI_FN, 0, 0, 0, fn }
#define CLI_OPT_END	{ NULL, 0, CLI_FLAG, 0, 0, 0, NULL }

/* What a subcommand is; one static instance each. */
struct cli_spec {
	const char		*cmd;		/* "user" */
	const char		*usage;		/* after "postern CMD " */
	const char		*summary;	/* NULL, or a line under it */
	const struct cli_opt	*opts;		/* ends with CLI_OPT_END;
						 * 24 at the most */
	const char		*invalid;	/* NULL: "postern CMD ACTION:
						 * FILE: configuration not
						 * valid"; else "FILE: " this */
};

/* One invocation. */
struct cli {
	const struct cli_spec	*spec;
	const char		*action;	/* NULL for none */
	const char		*config;	/* -c FILE */
	int			 json;		/* --json */
	int			 rc;		/* once cli_parse() stops */
	unsigned long		 given;		/* bit i: opts[i] was given */
	char			**args;		/* what is not an option */
	int			 nargs;
	struct config		*cfg;		/* cli_load() */
	struct store_sync	*ss;		/* cli_connect() */
};

/* Start <c> for <spec> with the default configuration file. */
void	cli_init(struct cli *c, const struct cli_spec *spec);

/*
 * The action word of a command of actions (<argv>[0] is the command):
 * 0 with c->action set, or -1 with c->rc set after the usage is shown: 0
 * for -h or --help (standard output), 2 when it is missing.
 */
int	cli_action(struct cli *c, int argc, char **argv);

/* An action of a command: run(obj) returns the exit status. */
struct cli_action {
	const char	*name;
	int		(*run)(void *);
	int		 nargs;		/* what is not an option: how many;
					 * CLI_ANYARGS: run() checks */
	const char	*accepts;	/* the options of the table it takes,
					 * by name, space-separated (-c,
					 * --help and --json always); NULL:
					 * any */
};

#define CLI_ANYARGS	-1

/*
 * Run the action of <actions> (ending with a NULL name) that c->action
 * names on <obj>; an unknown one is "postern CMD: unknown action 'X'" and
 * the usage on standard error, 2, and so is a count of arguments other
 * than its nargs ("postern CMD ACTION: expected N arguments, got M") or an
 * option it does not accept ("...: option not accepted here").
 */
int	cli_dispatch(struct cli *c, const struct cli_action *actions,
	    void *obj);

/*
 * Parse the options of <argv> (<argv>[0] is the word before them, as for
 * getopt_long) into <c> and <obj> by <c>'s table; what is not an option
 * goes to c->args.  Returns 0, or -1 when the command stops here with
 * c->rc its exit status: 0 after --help, 2 after a usage error (getopt's
 * message and the usage on standard error), or an option's own status.
 */
int	cli_parse(struct cli *c, int argc, char **argv, void *obj);

/*
 * "usage: postern CMD USAGE" (and the summary) on <fp>; returns 2, the
 * exit status of a usage error.
 */
int	cli_usage(const struct cli *c, FILE *fp);
void	cli_usage_print(FILE *fp, const char *cmd, const char *usage,
	    const char *summary);

/* "postern CMD ACTION: <message>" on standard error; returns 1. */
int	cli_fail(const struct cli *c, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

/*
 * Load c->config into c->cfg, its warnings and errors on standard error;
 * 0, or 1 with the reason shown (c->cfg NULL).
 */
int	cli_load(struct cli *c);

/*
 * Load the configuration unless loaded and open its Redis (the store warns
 * when Redis asks no password) as c->ss: 0, or 1 with "postern CMD ACTION:
 * <why><hint>" shown (<hint> may be NULL).
 */
int	cli_connect(struct cli *c, const char *hint);

/*
 * "2026-12-06T18:00:00Z" for <s>, Unix seconds in decimal, into <out>; ""
 * for NULL or "" (never set).
 */
void	cli_time(const char *s, char *out, size_t size);

/* Close what cli_load() and cli_connect() opened. */
void	cli_close(struct cli *c);

/*
 * The JSON writer: one value (an object, usually) a line.  Commas and the
 * newline after the outermost value are its business; strings are escaped
 * as the logs and the audit trail escape them (log_json_escape(): quotes,
 * backslashes and control characters; valid UTF-8 passes as it is, a byte
 * of invalid UTF-8 becomes \u00XX, its value).
 */
#define CLI_JSON_DEPTH	16	/* deeper values lose their commas */

struct cli_json {
	FILE		*fp;
	int		 depth;
	int		 key;			/* a key waits for its value */
	int		 items[CLI_JSON_DEPTH];	/* values in each open one */
};

void	cli_json_init(struct cli_json *j, FILE *fp);
void	cli_json_open(struct cli_json *j, char brace);	/* '{' or '[' */
void	cli_json_close(struct cli_json *j, char brace);	/* '}' or ']' */
void	cli_json_key(struct cli_json *j, const char *key);
void	cli_json_str(struct cli_json *j, const char *s);
void	cli_json_int(struct cli_json *j, long long n);
void	cli_json_bool(struct cli_json *j, int b);
/* <s> (<len> bytes) as a quoted JSON string on <fp>. */
void	cli_json_quote(FILE *fp, const char *s, size_t len);

#endif
