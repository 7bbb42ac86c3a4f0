/*
 * The subcommands' scaffold (see cli.h): the option table turned into
 * getopt_long's, the usage and failure lines, the configuration and
 * Redis of operator commands, and the JSON writer.
 */
#include <getopt.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "config.h"
#include "loader.h"
#include "diag.h"
#include "log.h"
#include "store.h"

#define CLI_MAXOPTS	24
#define CLI_LONGONLY	256	/* getopt_long's value of a long-only option */

void
cli_init(struct cli *c, const struct cli_spec *spec)
{
	memset(c, 0, sizeof(*c));
	c->spec = spec;
	c->config = CLI_DEFAULT_CONFIG;
}

int
cli_action(struct cli *c, int argc, char **argv)
{
	if (argc >= 2 && (strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "--help") == 0)) {
		(void)cli_usage(c, stdout);
		c->rc = 0;
		return -1;
	}
	if (argc < 2) {
		c->rc = cli_usage(c, stderr);
		return -1;
	}
	c->action = argv[1];
	return 0;
}

/* Is <word> one of the space-separated words of <list>? */
static int
cli_word(const char *list, const char *word)
{
	size_t	n = strlen(word), len;

	while (*list != '\0') {
		len = strcspn(list, " ");
		if (len == n && strncmp(list, word, n) == 0)
			return 1;
		list += len;
		list += strspn(list, " ");
	}
	return 0;
}

/* Were only options that <a> accepts given? */
static int
cli_accepted(const struct cli *c, const struct cli_action *a)
{
	const struct cli_opt	*o = c->spec->opts;
	size_t			 i;

	if (a->accepts == NULL)
		return 1;
	for (i = 0; o[i].name != NULL; i++)
		if ((c->given & 1UL << i) && o[i].kind != CLI_CONFIG &&
		    o[i].kind != CLI_HELP && o[i].kind != CLI_JSON &&
		    !cli_word(a->accepts, o[i].name))
			return 0;
	return 1;
}

int
cli_dispatch(struct cli *c, const struct cli_action *actions, void *obj)
{
	size_t	i;

	for (i = 0; actions[i].name != NULL; i++)
		if (strcmp(actions[i].name, c->action) == 0)
			break;
	if (actions[i].name == NULL) {
		fprintf(stderr, "postern %s: unknown action '%s'\n",
		    c->spec->cmd, c->action);
		return cli_usage(c, stderr);
	}
	if (actions[i].nargs != CLI_ANYARGS && c->nargs != actions[i].nargs) {
		(void)cli_fail(c, "expected %d argument%s, got %d",
		    actions[i].nargs, actions[i].nargs == 1 ? "" : "s",
		    c->nargs);
		return cli_usage(c, stderr);
	}
	if (!cli_accepted(c, &actions[i])) {
		(void)cli_fail(c, "option not accepted here");
		return cli_usage(c, stderr);
	}
	return actions[i].run(obj);
}

void
cli_usage_print(FILE *fp, const char *cmd, const char *usage,
    const char *summary)
{
	fprintf(fp, "usage: postern %s %s\n", cmd, usage);
	if (summary != NULL)
		fprintf(fp, "  %s\n", summary);
}

int
cli_usage(const struct cli *c, FILE *fp)
{
	cli_usage_print(fp, c->spec->cmd, c->spec->usage, c->spec->summary);
	return 2;
}

static void
cli_prefix(const struct cli *c)
{
	fprintf(stderr, "postern %s%s%s: ", c->spec->cmd,
	    c->action != NULL ? " " : "", c->action != NULL ? c->action : "");
}

int
cli_fail(const struct cli *c, const char *fmt, ...)
{
	va_list	ap;

	cli_prefix(c);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 1;
}

static int
cli_takes_arg(enum cli_kind kind)
{
	return kind != CLI_HELP && kind != CLI_JSON && kind != CLI_FLAG;
}

/* getopt_long's view of the table: <longopts> and <shortopts>. */
static size_t
cli_getopt_tables(const struct cli_opt *opts, struct option *longopts,
    char *shortopts)
{
	size_t	i, s = 0;

	for (i = 0; opts[i].name != NULL; i++) {
		if (i == CLI_MAXOPTS)
			fatalx("%s: more than %d options", __func__,
			    CLI_MAXOPTS);
		longopts[i].name = opts[i].name;
		longopts[i].has_arg = cli_takes_arg(opts[i].kind) ?
		    required_argument : no_argument;
		longopts[i].flag = NULL;
		longopts[i].val = opts[i].letter != 0 ? opts[i].letter :
		    CLI_LONGONLY + (int)i;
		if (opts[i].letter == 0)
			continue;
		shortopts[s++] = opts[i].letter;
		if (cli_takes_arg(opts[i].kind))
			shortopts[s++] = ':';
	}
	memset(&longopts[i], 0, sizeof(longopts[i]));
	shortopts[s] = '\0';
	return i;
}

/* Apply option <o> with argument <arg>; 0, or -1 with c->rc set. */
static int
cli_apply(struct cli *c, const struct cli_opt *o, const char *arg, void *obj)
{
	char	*field = (char *)obj + o->off;
	size_t	*n;

	switch (o->kind) {
	case CLI_CONFIG:
		c->config = arg;
		break;
	case CLI_HELP:
		(void)cli_usage(c, stdout);
		c->rc = 0;
		return -1;
	case CLI_JSON:
		c->json = 1;
		break;
	case CLI_STR:
		*(const char **)(void *)field = arg;
		break;
	case CLI_FLAG:
		*(int *)(void *)field = 1;
		break;
	case CLI_U64:
		*(uint64_t *)(void *)field = strtoull(arg, NULL, 10);
		break;
	case CLI_LIST:
		n = (size_t *)(void *)((char *)obj + o->count);
		if (*n == o->max) {
			c->rc = cli_usage(c, stderr);
			return -1;
		}
		((const char **)(void *)field)[(*n)++] = arg;
		break;
	case CLI_FN:
		if ((c->rc = o->fn(c, obj, arg)) != 0)
			return -1;
		break;
	}
	return 0;
}

int
cli_parse(struct cli *c, int argc, char **argv, void *obj)
{
	struct option		 longopts[CLI_MAXOPTS + 1];
	char			 shortopts[CLI_MAXOPTS * 2 + 1];
	const struct cli_opt	*opts = c->spec->opts;
	size_t			 n, i;
	int			 ch;

	n = cli_getopt_tables(opts, longopts, shortopts);
	optind = 1;
	while ((ch = getopt_long(argc, argv, shortopts, longopts, NULL)) !=
	    -1) {
		for (i = 0; i < n; i++)
			if (longopts[i].val == ch)
				break;
		if (i == n) {
			c->rc = cli_usage(c, stderr);
			return -1;
		}
		c->given |= 1UL << i;
		if (cli_apply(c, &opts[i], optarg, obj) == -1)
			return -1;
	}
	c->args = argv + optind;
	c->nargs = argc - optind;
	return 0;
}

int
cli_load(struct cli *c)
{
	struct diag	d = { 0 };

	c->cfg = config_load(c->config, &d);
	diag_print(&d, stderr);
	diag_free(&d);
	if (c->cfg != NULL)
		return 0;
	if (c->spec->invalid != NULL)
		fprintf(stderr, "%s: %s\n", c->config, c->spec->invalid);
	else {
		cli_prefix(c);
		fprintf(stderr, "%s: configuration not valid\n", c->config);
	}
	return 1;
}

int
cli_connect(struct cli *c, const char *hint)
{
	struct store_settings	set;
	char			err[STORE_ERRLEN * 2];

	if (c->cfg == NULL && cli_load(c) != 0)
		return 1;
	config_store_settings(c->cfg, &set);
	if ((c->ss = store_sync_open(&set, err, sizeof(err))) == NULL)
		return cli_fail(c, "%s%s", err, hint != NULL ? hint : "");
	return 0;
}

void
cli_time(const char *s, char *out, size_t size)
{
	struct tm	tm;
	time_t		t;

	out[0] = '\0';
	if (s == NULL || s[0] == '\0')
		return;
	t = (time_t)strtoll(s, NULL, 10);
	if (gmtime_r(&t, &tm) != NULL)
		(void)strftime(out, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

void
cli_close(struct cli *c)
{
	store_sync_close(c->ss);
	c->ss = NULL;
	config_unref(c->cfg);
	c->cfg = NULL;
}

/* ---- JSON ---- */

void
cli_json_quote(FILE *fp, const char *s, size_t len)
{
	char	*buf;
	size_t	 size = len * 6 + 2, off = 0;	/* 6 bytes a byte at most */

	if ((buf = malloc(size)) == NULL)
		fatal("%s", __func__);
	log_json_escape(buf, size, &off, s, len);
	fputc('"', fp);
	fwrite(buf, 1, off, fp);
	fputc('"', fp);
	free(buf);
}

void
cli_json_init(struct cli_json *j, FILE *fp)
{
	memset(j, 0, sizeof(*j));
	j->fp = fp;
}

/* Before a value: the comma after the one before it, if any. */
static void
cli_json_sep(struct cli_json *j)
{
	if (j->key) {
		j->key = 0;
		return;
	}
	if (j->depth > 0 && j->depth <= CLI_JSON_DEPTH &&
	    j->items[j->depth - 1]++ > 0)
		fputc(',', j->fp);
}

/* After a value: the newline that ends an outermost one. */
static void
cli_json_end(struct cli_json *j)
{
	if (j->depth == 0)
		fputc('\n', j->fp);
}

void
cli_json_open(struct cli_json *j, char brace)
{
	cli_json_sep(j);
	fputc(brace, j->fp);
	if (j->depth < CLI_JSON_DEPTH)
		j->items[j->depth] = 0;
	j->depth++;
}

void
cli_json_close(struct cli_json *j, char brace)
{
	fputc(brace, j->fp);
	if (j->depth > 0)
		j->depth--;
	cli_json_end(j);
}

void
cli_json_key(struct cli_json *j, const char *key)
{
	cli_json_sep(j);
	cli_json_quote(j->fp, key, strlen(key));
	fputc(':', j->fp);
	j->key = 1;
}

void
cli_json_str(struct cli_json *j, const char *s)
{
	cli_json_sep(j);
	cli_json_quote(j->fp, s, strlen(s));
	cli_json_end(j);
}

void
cli_json_int(struct cli_json *j, long long n)
{
	cli_json_sep(j);
	fprintf(j->fp, "%lld", n);
	cli_json_end(j);
}

void
cli_json_bool(struct cli_json *j, int b)
{
	cli_json_sep(j);
	fputs(b ? "true" : "false", j->fp);
	cli_json_end(j);
}
