/*
 * cli.c: the subcommands' option table (values, usage errors, --help),
 * actions, failure lines, a configuration that does not load, and the
 * JSON writer's escaping.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "cli.h"

/* A command's state as a subcommand keeps it. */
struct tcmd {
	struct cli	 cli;
	const char	*name;
	int		 flag;
	uint64_t	 n;
	const char	*list[2];
	size_t		 nlist;
	const char	*seen;		/* by the --fn option */
};

static int
tcmd_fn(struct cli *c, void *obj, const char *arg)
{
	if (strcmp(arg, "bad") == 0)
		return cli_fail(c, "--fn: bad") + 2;
	((struct tcmd *)obj)->seen = arg;
	return 0;
}

static const struct cli_opt tcmd_opts[] = {
	CLI_OPT_CONFIG,
	CLI_OPT("name", 'n', CLI_STR, struct tcmd, name),
	CLI_OPT("flag", 0, CLI_FLAG, struct tcmd, flag),
	CLI_OPT("count", 0, CLI_U64, struct tcmd, n),
	CLI_OPT_LIST("item", struct tcmd, list, nlist),
	CLI_OPT_FN("fn", tcmd_fn),
	CLI_OPT_JSON,
	CLI_OPT_HELP,
	CLI_OPT_END,
};

static const struct cli_spec tcmd_spec = {
	"tcmd", "act [--name N] [-c FILE]", NULL, tcmd_opts, NULL,
};

#define USAGE	"usage: postern tcmd act [--name N] [-c FILE]\n"

static const struct cli_spec tcmd_spec_errors = {
	"tcmd", "act", NULL, tcmd_opts, "configuration has errors",
};

/* What <fd> (1 or 2) gets between capture_start() and capture_end(). */
struct capture {
	int	saved;
	int	fd;
	FILE	*tmp;
};

static void
capture_start(struct capture *cp, int fd)
{
	fflush(stdout);
	fflush(stderr);
	cp->fd = fd;
	cp->tmp = tmpfile();
	assert_non_null(cp->tmp);
	cp->saved = dup(fd);
	assert_true(dup2(fileno(cp->tmp), fd) != -1);
}

static void
capture_end(struct capture *cp, char *out, size_t size)
{
	size_t	n;

	fflush(stdout);
	fflush(stderr);
	assert_true(dup2(cp->saved, cp->fd) != -1);
	(void)close(cp->saved);
	rewind(cp->tmp);
	n = fread(out, 1, size - 1, cp->tmp);
	out[n] = '\0';
	fclose(cp->tmp);
}

/* Parse <argv> (NULL-terminated) into a fresh <t>; cli_parse()'s result. */
static int
parse(struct tcmd *t, const struct cli_spec *spec, char **argv,
    char *err, size_t errlen)
{
	struct capture	cp;
	int		argc = 0, rc;

	while (argv[argc] != NULL)
		argc++;
	memset(t, 0, sizeof(*t));
	cli_init(&t->cli, spec);
	t->cli.action = "act";
	capture_start(&cp, STDERR_FILENO);
	rc = cli_parse(&t->cli, argc, argv, t);
	capture_end(&cp, err, errlen);
	return rc;
}

static void
test_parse_values(void **state)
{
	char	*argv[] = { "act", "-c", "/x.yaml", "--name", "N", "one",
		    "--flag", "--count", "42", "--item", "a", "--json",
		    "--item", "b", "--fn", "f", "two", NULL };
	struct tcmd t;
	char	err[512];

	(void)state;
	assert_int_equal(parse(&t, &tcmd_spec, argv, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	assert_string_equal(t.cli.config, "/x.yaml");
	assert_string_equal(t.name, "N");
	assert_int_equal(t.flag, 1);
	assert_int_equal(t.n, 42);
	assert_int_equal(t.nlist, 2);
	assert_string_equal(t.list[0], "a");
	assert_string_equal(t.list[1], "b");
	assert_string_equal(t.seen, "f");
	assert_int_equal(t.cli.json, 1);
	assert_int_equal(t.cli.nargs, 2);
	assert_string_equal(t.cli.args[0], "one");
	assert_string_equal(t.cli.args[1], "two");
}

static void
test_parse_defaults(void **state)
{
	char	*argv[] = { "act", "-nN", NULL };
	struct tcmd t;
	char	err[512];

	(void)state;
	assert_int_equal(parse(&t, &tcmd_spec, argv, err, sizeof(err)), 0);
	assert_string_equal(t.cli.config, CLI_DEFAULT_CONFIG);
	assert_string_equal(t.name, "N");
	assert_int_equal(t.cli.json, 0);
	assert_int_equal(t.cli.nargs, 0);
}

/* Each is a usage error: getopt's line, then the usage, status 2. */
static void
test_parse_usage_errors(void **state)
{
	char	*unknown[] = { "act", "--bogus", NULL };
	char	*noarg[] = { "act", "--name", NULL };
	char	*longonly[] = { "act", "-f", NULL };
	char	*full[] = { "act", "--item", "a", "--item", "b", "--item",
		    "c", NULL };
	char	**cases[] = { unknown, noarg, longonly, full };
	struct tcmd t;
	char	err[512];
	size_t	i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(parse(&t, &tcmd_spec, cases[i], err,
		    sizeof(err)), -1);
		assert_int_equal(t.cli.rc, 2);
		assert_non_null(strstr(err, USAGE));
	}
	(void)parse(&t, &tcmd_spec, unknown, err, sizeof(err));
	assert_non_null(strstr(err, "'--bogus'"));
	(void)parse(&t, &tcmd_spec, full, err, sizeof(err));
	assert_string_equal(err, USAGE);
}

static void
test_parse_option_status(void **state)
{
	char	*argv[] = { "act", "--fn", "bad", "--flag", NULL };
	struct tcmd t;
	char	err[512];

	(void)state;
	assert_int_equal(parse(&t, &tcmd_spec, argv, err, sizeof(err)), -1);
	assert_int_equal(t.cli.rc, 3);
	assert_string_equal(err, "postern tcmd act: --fn: bad\n");
	assert_int_equal(t.flag, 0);		/* stopped there */
}

static void
test_parse_help(void **state)
{
	char		*argv[] = { "act", "--flag", "-h", "--bogus", NULL };
	struct tcmd	 t;
	struct capture	 cp;
	char		 out[512], err[512];

	(void)state;
	capture_start(&cp, STDOUT_FILENO);
	assert_int_equal(parse(&t, &tcmd_spec, argv, err, sizeof(err)), -1);
	capture_end(&cp, out, sizeof(out));
	assert_int_equal(t.cli.rc, 0);
	assert_string_equal(out, USAGE);
	assert_string_equal(err, "");
}

static int
tcmd_run(void *arg)
{
	return ((struct tcmd *)arg)->flag ? 0 : 1;
}

static void
test_action_word(void **state)
{
	char		*none[] = { "tcmd", NULL };
	char		*help[] = { "tcmd", "--help", NULL };
	char		*stop[] = { "tcmd", "stop", NULL };
	struct cli	 c;
	struct capture	 cp;
	char		 out[512];

	(void)state;
	cli_init(&c, &tcmd_spec);
	capture_start(&cp, STDERR_FILENO);
	assert_int_equal(cli_action(&c, 1, none), -1);
	capture_end(&cp, out, sizeof(out));
	assert_int_equal(c.rc, 2);
	assert_string_equal(out, USAGE);
	capture_start(&cp, STDOUT_FILENO);
	assert_int_equal(cli_action(&c, 2, help), -1);
	capture_end(&cp, out, sizeof(out));
	assert_int_equal(c.rc, 0);
	assert_string_equal(out, USAGE);
	assert_int_equal(cli_action(&c, 2, stop), 0);
	assert_string_equal(c.action, "stop");
}

/* Parse <argv> as action <action> and dispatch: the status and stderr. */
static int
dispatch(char **argv, const char *action, char *err, size_t errlen)
{
	static const struct cli_action actions[] = {
		{ "go", tcmd_run, 0, "flag item" },
		{ "one", tcmd_run, 1, NULL },
		{ NULL, NULL, 0, NULL },
	};
	struct tcmd	t;
	struct capture	cp;
	int		rc;

	assert_int_equal(parse(&t, &tcmd_spec, argv, err, errlen), 0);
	t.cli.action = action;
	capture_start(&cp, STDERR_FILENO);
	rc = cli_dispatch(&t.cli, actions, &t);
	capture_end(&cp, err, errlen);
	return rc;
}

static void
test_dispatch(void **state)
{
	char	*flag[] = { "act", "--flag", NULL };
	char	*flag1[] = { "act", "--flag", "x", NULL };
	char	*two[] = { "act", "--flag", "x", "y", NULL };
	char	*name[] = { "act", "--flag", "--name", "x", NULL };
	char	*taken[] = { "act", "--flag", "-c", "f", "--json", "--item",
		    "i", NULL };
	char	err[512];

	(void)state;
	assert_int_equal(dispatch(flag, "go", err, sizeof(err)), 0);
	assert_int_equal(dispatch(flag1, "one", err, sizeof(err)), 0);
	assert_int_equal(dispatch(flag, "stop", err, sizeof(err)), 2);
	assert_string_equal(err, "postern tcmd: unknown action 'stop'\n"
	    USAGE);
	assert_int_equal(dispatch(flag, "one", err, sizeof(err)), 2);
	assert_string_equal(err, "postern tcmd one: expected 1 argument, got "
	    "0\n" USAGE);
	assert_int_equal(dispatch(two, "go", err, sizeof(err)), 2);
	assert_string_equal(err, "postern tcmd go: expected 0 arguments, got "
	    "2\n" USAGE);
	/* options the action does not take; -c and --json it always does */
	assert_int_equal(dispatch(name, "go", err, sizeof(err)), 2);
	assert_string_equal(err, "postern tcmd go: option not accepted here\n"
	    USAGE);
	assert_int_equal(dispatch(taken, "go", err, sizeof(err)), 0);
	assert_string_equal(err, "");
}

static void
test_fail_and_usage(void **state)
{
	struct cli	c;
	struct capture	cp;
	char		out[512];
	static const struct cli_spec spec = { "keys", "generate [-c FILE]",
	    "create the key", tcmd_opts, NULL };

	(void)state;
	cli_init(&c, &spec);
	capture_start(&cp, STDERR_FILENO);
	assert_int_equal(cli_fail(&c, "no %s", "luck"), 1);
	c.action = "generate";
	assert_int_equal(cli_fail(&c, "%d%%", 5), 1);
	assert_int_equal(cli_usage(&c, stderr), 2);
	capture_end(&cp, out, sizeof(out));
	assert_string_equal(out, "postern keys: no luck\n"
	    "postern keys generate: 5%\n"
	    "usage: postern keys generate [-c FILE]\n  create the key\n");
}

/* The last line of <s>. */
static const char *
last_line(const char *s)
{
	const char	*p = s + strlen(s);

	if (p > s && p[-1] == '\n')
		p--;
	while (p > s && p[-1] != '\n')
		p--;
	return p;
}

static void
test_config_load_fails(void **state)
{
	struct cli	c;
	struct capture	cp;
	char		out[2048], path[] = "/tmp/test_cli_XXXXXX";
	int		fd;

	(void)state;
	cli_init(&c, &tcmd_spec);
	c.action = "act";
	c.config = "/nonexistent/postern.yaml";
	capture_start(&cp, STDERR_FILENO);
	assert_int_equal(cli_load(&c), 1);
	capture_end(&cp, out, sizeof(out));
	assert_null(c.cfg);
	assert_string_equal(last_line(out), "postern tcmd act: "
	    "/nonexistent/postern.yaml: configuration not valid\n");
	assert_true(last_line(out) > out);	/* the diagnostics first */

	/* cli_connect() stops there too, before any Redis */
	capture_start(&cp, STDERR_FILENO);
	assert_int_equal(cli_connect(&c, " (hint)"), 1);
	capture_end(&cp, out, sizeof(out));
	assert_null(c.ss);
	assert_null(strstr(out, "(hint)"));

	/* a file with errors, and the other wording of the last line */
	assert_true((fd = mkstemp(path)) != -1);
	assert_true(write(fd, "listen: [\n", 10) == 10);
	(void)close(fd);
	cli_init(&c, &tcmd_spec_errors);
	c.config = path;
	capture_start(&cp, STDERR_FILENO);
	assert_int_equal(cli_load(&c), 1);
	capture_end(&cp, out, sizeof(out));
	(void)unlink(path);
	assert_non_null(strstr(out, path));
	assert_true(strlen(last_line(out)) == strlen(path) +
	    strlen(": configuration has errors\n"));
	assert_memory_equal(last_line(out), path, strlen(path));
	cli_close(&c);				/* nothing to close: no-op */
}

/* <s> (<len> bytes) as cli_json_quote() writes it, into <out>. */
static void
quote(const char *s, size_t len, char *out, size_t size)
{
	char	*buf = NULL;
	size_t	 n = 0;
	FILE	*fp;

	assert_non_null(fp = open_memstream(&buf, &n));
	cli_json_quote(fp, s, len);
	fclose(fp);
	assert_true(n < size);
	memcpy(out, buf, n + 1);
	free(buf);
}

#define QUOTE_EQ(in, want) do {						\
	char	got_[256];						\
									\
	quote(in, sizeof(in) - 1, got_, sizeof(got_));			\
	assert_string_equal(got_, want);				\
} while (0)

static void
test_json_escaping(void **state)
{
	(void)state;
	QUOTE_EQ("", "\"\"");
	QUOTE_EQ("plain text 123", "\"plain text 123\"");
	QUOTE_EQ("a\"b\\c/d", "\"a\\\"b\\\\c/d\"");
	QUOTE_EQ("\n\r\t", "\"\\n\\r\\t\"");
	QUOTE_EQ("\x01\x08\x0c\x1f\x7f", "\"\\u0001\\u0008\\u000c\\u001f"
	    "\\u007f\"");
	QUOTE_EQ("a\0b", "\"a\\u0000b\"");
	/* valid UTF-8 (2, 3 and 4 bytes) passes as it is */
	QUOTE_EQ("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
	    "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"");
	QUOTE_EQ("\xef\xbf\xbf\xf4\x8f\xbf\xbf", "\"\xef\xbf\xbf\xf4\x8f\xbf"
	    "\xbf\"");
	/* invalid UTF-8: each byte that starts no valid sequence as \u00XX */
	QUOTE_EQ("\xff", "\"\\u00ff\"");
	QUOTE_EQ("a\x80z", "\"a\\u0080z\"");
	QUOTE_EQ("\xc3", "\"\\u00c3\"");			/* cut short */
	QUOTE_EQ("\xc3(", "\"\\u00c3(\"");			/* bad 2nd */
	QUOTE_EQ("\xc0\xaf", "\"\\u00c0\\u00af\"");		/* overlong */
	QUOTE_EQ("\xe0\x80\xaf", "\"\\u00e0\\u0080\\u00af\"");	/* overlong */
	QUOTE_EQ("\xed\xa0\x80", "\"\\u00ed\\u00a0\\u0080\"");	/* surrogate */
	QUOTE_EQ("\xf4\x90\x80\x80", "\"\\u00f4\\u0090\\u0080\\u0080\"");
	QUOTE_EQ("\xe2\x82\"", "\"\\u00e2\\u0082\\\"\"");	/* cut, quote */
	/* the longest escape for every byte: nothing cut off */
	QUOTE_EQ("\xff\xff\xff", "\"\\u00ff\\u00ff\\u00ff\"");
}

static void
test_json_writer(void **state)
{
	struct cli_json	 j;
	char		*buf = NULL;
	size_t		 n = 0;
	FILE		*fp;

	(void)state;
	assert_non_null(fp = open_memstream(&buf, &n));
	cli_json_init(&j, fp);
	cli_json_open(&j, '{');
	cli_json_key(&j, "email");
	cli_json_str(&j, "a@example.com");
	cli_json_key(&j, "n");
	cli_json_int(&j, -3);
	cli_json_key(&j, "orgs");
	cli_json_open(&j, '[');
	cli_json_str(&j, "acme");
	cli_json_open(&j, '{');
	cli_json_close(&j, '}');
	cli_json_bool(&j, 0);
	cli_json_close(&j, ']');
	cli_json_key(&j, "k\"ey");
	cli_json_bool(&j, 1);
	cli_json_close(&j, '}');
	cli_json_open(&j, '[');
	cli_json_close(&j, ']');
	cli_json_str(&j, "x\n");
	fclose(fp);
	assert_string_equal(buf, "{\"email\":\"a@example.com\",\"n\":-3,"
	    "\"orgs\":[\"acme\",{},false],\"k\\\"ey\":true}\n[]\n\"x\\n\"\n");
	free(buf);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_values),
		cmocka_unit_test(test_parse_defaults),
		cmocka_unit_test(test_parse_usage_errors),
		cmocka_unit_test(test_parse_option_status),
		cmocka_unit_test(test_parse_help),
		cmocka_unit_test(test_action_word),
		cmocka_unit_test(test_dispatch),
		cmocka_unit_test(test_fail_and_usage),
		cmocka_unit_test(test_config_load_fails),
		cmocka_unit_test(test_json_escaping),
		cmocka_unit_test(test_json_writer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
