/*
 * `postern reload` and `postern status` (see opscmd.h).  Both read the
 * admin listener's /status with one blocking HTTP/1.1 request: this is an
 * operator's command, not the event loop.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>
#include <sys/socket.h>

#include <jansson.h>

#include "cli.h"
#include "config.h"
#include "opscmd.h"

#define OPS_IO_MS	2000		/* connect, send, receive each */
#define OPS_MAX		(256 * 1024)	/* of the answer */

struct opscmd {
	struct cli	 cli;
	const char	*pid;		/* --pid */
	const char	*timeout;	/* --timeout, seconds */
	int		 watch;		/* --watch */
};

static const struct cli_opt opscmd_opts[] = {
	CLI_OPT_CONFIG,
	CLI_OPT("pid", 0, CLI_STR, struct opscmd, pid),
	CLI_OPT("timeout", 0, CLI_STR, struct opscmd, timeout),
	CLI_OPT("watch", 'w', CLI_FLAG, struct opscmd, watch),
	CLI_OPT_JSON,
	CLI_OPT_HELP,
	CLI_OPT_END,
};

static const struct cli_spec opscmd_reload_spec = {
	"reload", OPSCMD_RELOAD_USAGE, "check the configuration, then ask the "
	"running gateway to load it and report its outcome", opscmd_opts,
	"configuration not valid; nothing was reloaded (the running gateway "
	"keeps its configuration)",
};

static const struct cli_spec opscmd_status_spec = {
	"status", OPSCMD_STATUS_USAGE, "the running gateway at a glance (from "
	"the admin listener)", opscmd_opts, NULL,
};

/* Connect to <a> within OPS_IO_MS: the socket, or -1. */
static int
ops_connect(const struct config_addr *a)
{
	struct pollfd	 p;
	struct timeval	 tv = { OPS_IO_MS / 1000, 0 };
	int		 fd, err = 0;
	socklen_t	 len = sizeof(err);

	if ((fd = socket(a->ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC |
	    SOCK_NONBLOCK, 0)) == -1)
		return -1;
	if (connect(fd, (const struct sockaddr *)&a->ss, a->sslen) == -1 &&
	    errno != EINPROGRESS)
		goto fail;
	p.fd = fd;
	p.events = POLLOUT;
	if (poll(&p, 1, OPS_IO_MS) != 1 ||
	    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1 ||
	    err != 0)
		goto fail;
	if (fcntl(fd, F_SETFL, 0) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) == -1)
		goto fail;
	return fd;
fail:
	(void)close(fd);
	return -1;
}

/* GET /status of the admin listener: the parsed object, or NULL. */
static json_t *
ops_fetch(const struct config *cfg)
{
	static const char req[] = "GET /status HTTP/1.1\r\nHost: admin\r\n"
	    "Connection: close\r\n\r\n";
	char		*buf, *body;
	size_t		 n = 0;
	ssize_t		 r;
	int		 fd;
	json_t		*j = NULL;

	if (!cfg->admin_enabled || (fd = ops_connect(&cfg->admin)) == -1)
		return NULL;
	if ((buf = malloc(OPS_MAX + 1)) == NULL ||
	    write(fd, req, sizeof(req) - 1) != (ssize_t)sizeof(req) - 1)
		goto out;
	while (n < OPS_MAX && (r = read(fd, buf + n, OPS_MAX - n)) > 0)
		n += (size_t)r;
	buf[n] = '\0';
	if (strncmp(buf, "HTTP/1.1 200 ", 13) == 0 &&
	    (body = strstr(buf, "\r\n\r\n")) != NULL)
		j = json_loads(body + 4, 0, NULL);
out:
	free(buf);
	(void)close(fd);
	if (j != NULL && !json_is_object(j)) {
		json_decref(j);
		j = NULL;
	}
	return j;
}

static long long
ops_int(const json_t *o, const char *path1, const char *path2)
{
	const json_t	*v = json_object_get(o, path1);

	if (path2 != NULL)
		v = json_object_get(v, path2);
	return json_is_integer(v) ? json_integer_value(v) : -1;
}

static const char *
ops_str(const json_t *o, const char *path1, const char *path2)
{
	const json_t	*v = json_object_get(o, path1);

	if (path2 != NULL)
		v = json_object_get(v, path2);
	return json_is_string(v) ? json_string_value(v) : "";
}

static int
ops_parse(struct opscmd *oc, int argc, char **argv,
    const struct cli_spec *spec)
{
	cli_init(&oc->cli, spec);
	if (cli_parse(&oc->cli, argc, argv, oc) == -1)
		return -1;
	if (oc->cli.nargs != 0) {
		fprintf(stderr, "postern %s: unexpected argument '%s'\n",
		    spec->cmd, oc->cli.args[0]);
		oc->cli.rc = cli_usage(&oc->cli, stderr);
		return -1;
	}
	return 0;
}

/* A positive number from <s>, or -1. */
static long
ops_number(const char *s, long max)
{
	char	*end;
	long	 v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v <= 0 || v > max)
		return -1;
	return v;
}

/* Which process to signal: --pid, $MAINPID, /status; 0 if none. */
static long
ops_pid(struct opscmd *oc, const json_t *st)
{
	const char	*env = getenv("MAINPID");

	if (oc->pid != NULL)
		return ops_number(oc->pid, 4194304);
	if (env != NULL && *env != '\0')
		return ops_number(env, 4194304);
	return st != NULL ? ops_int(st, "pid", NULL) : 0;
}

/* Wait for /status to show a reload after <gen>: 0 ok, 1 refused or none. */
static int
ops_wait(struct opscmd *oc, long long gen, long seconds)
{
	struct timespec	 tick = { 0, 100 * 1000 * 1000 };
	time_t		 end = time(NULL) + seconds;
	json_t		*st;
	int		 rc;

	while (time(NULL) <= end) {
		(void)nanosleep(&tick, NULL);
		if ((st = ops_fetch(oc->cli.cfg)) == NULL)
			continue;
		if (ops_int(st, "reload", "generation") > gen) {
			rc = json_is_true(json_object_get(json_object_get(st,
			    "reload"), "ok")) ? 0 : 1;
			fprintf(rc ? stderr : stdout, "%s%s%s",
			    rc ? "postern reload: the gateway refused the "
			    "configuration and keeps the running one:\n" : "",
			    ops_str(st, "reload", "message"), "\n");
			json_decref(st);
			return rc;
		}
		json_decref(st);
	}
	return cli_fail(&oc->cli, "no outcome from the gateway within %lds "
	    "(see its log)", seconds);
}

int
opscmd_reload(int argc, char **argv)
{
	struct opscmd	 oc = { 0 };
	json_t		*st;
	long		 pid, seconds = 30;
	long long	 gen;
	int		 rc;

	if (ops_parse(&oc, argc, argv, &opscmd_reload_spec) == -1)
		return oc.cli.rc;
	if (oc.timeout != NULL &&
	    (seconds = ops_number(oc.timeout, 3600)) == -1)
		return cli_fail(&oc.cli, "--timeout: seconds, 1-3600");
	if (cli_load(&oc.cli) != 0)
		return 1;
	st = ops_fetch(oc.cli.cfg);
	gen = st != NULL ? ops_int(st, "reload", "generation") : -1;
	pid = ops_pid(&oc, st);
	json_decref(st);
	if (pid <= 0)
		rc = cli_fail(&oc.cli, "cannot tell which process to signal: "
		    "pass --pid, or enable server.admin so that the gateway "
		    "can be asked");
	else if (kill((pid_t)pid, SIGHUP) == -1)
		rc = cli_fail(&oc.cli, "signal %ld: %s", pid, strerror(errno));
	else if (gen < 0) {
		printf("configuration ok; SIGHUP sent to %ld (no admin "
		    "listener to confirm: see the gateway's log)\n", pid);
		rc = 0;
	} else
		rc = ops_wait(&oc, gen, seconds);
	cli_close(&oc.cli);
	return rc;
}

static void
ops_show(const json_t *st, long long prev_total, double dt)
{
	const json_t	*ws = json_object_get(st, "workers"), *w;
	size_t		 i;
	long long	 total = ops_int(st, "requests", "total");

	printf("postern %s  pid %lld  up %llds%s\n", ops_str(st, "version",
	    NULL), ops_int(st, "pid", NULL), ops_int(st, "uptime", NULL),
	    json_is_true(json_object_get(st, "draining")) ? "  DRAINING" : "");
	printf("%-22s %s\n", "redis", ops_str(st, "redis", NULL));
	printf("%-22s %lld\n", "connections", ops_int(st, "connections", NULL));
	if (prev_total >= 0 && dt > 0)
		printf("%-22s %.1f\n", "requests/s",
		    (double)(total - prev_total) / dt);
	printf("%-22s %lld (2xx %lld, 3xx %lld, 4xx %lld, 5xx %lld, "
	    "rate-limited %lld)\n", "requests", total,
	    ops_int(st, "requests", "2xx"), ops_int(st, "requests", "3xx"),
	    ops_int(st, "requests", "4xx"), ops_int(st, "requests", "5xx"),
	    ops_int(st, "requests", "rate_limited"));
	printf("%-22s %lld entries, %lld hits, %lld misses\n",
	    "session cache", ops_int(st, "session_cache", "entries"),
	    ops_int(st, "session_cache", "hits"),
	    ops_int(st, "session_cache", "misses"));
	printf("%-22s mail %lld, webhooks %lld\n", "queues",
	    ops_int(st, "queues", "mail"), ops_int(st, "queues", "webhooks"));
	printf("%-22s %s (%s)\n", "last reload",
	    json_is_true(json_object_get(json_object_get(st, "reload"),
	    "ok")) ? "ok" : "REFUSED", ops_str(st, "reload", "message"));
	printf("\n%-8s %-8s %s\n", "WORKER", "REDIS", "CACHED SESSIONS");
	json_array_foreach(ws, i, w)
		printf("%-8lld %-8s %lld%s\n", ops_int(w, "id", NULL),
		    ops_str(w, "redis", NULL),
		    ops_int(w, "session_cache", "entries"),
		    json_is_true(json_object_get(json_object_get(w,
		    "session_cache"), "active")) ? "" : " (cache off)");
}

int
opscmd_status(int argc, char **argv)
{
	struct opscmd	 oc = { 0 };
	struct timespec	 t0, t1, sec = { 1, 0 };
	json_t		*st;
	long long	 prev = -1;
	int		 tty = isatty(STDOUT_FILENO);

	if (ops_parse(&oc, argc, argv, &opscmd_status_spec) == -1)
		return oc.cli.rc;
	if (cli_load(&oc.cli) != 0)
		return 1;
	if (!oc.cli.cfg->admin_enabled) {
		cli_close(&oc.cli);
		return cli_fail(&oc.cli, "server.admin is off: the status "
		    "comes from the admin listener");
	}
	(void)clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		if ((st = ops_fetch(oc.cli.cfg)) == NULL) {
			cli_close(&oc.cli);
			return cli_fail(&oc.cli, "no answer from the admin "
			    "listener (is the gateway running?)");
		}
		(void)clock_gettime(CLOCK_MONOTONIC, &t1);
		if (oc.cli.json) {
			(void)json_dumpf(st, stdout, JSON_COMPACT);
			putchar('\n');
		} else {
			if (oc.watch && tty)
				fputs("\033[H\033[2J", stdout);
			ops_show(st, prev, (double)(t1.tv_sec - t0.tv_sec) +
			    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
		}
		(void)fflush(stdout);
		prev = ops_int(st, "requests", "total");
		json_decref(st);
		if (!oc.watch)
			break;
		t0 = t1;
		(void)nanosleep(&sec, NULL);
	}
	cli_close(&oc.cli);
	return 0;
}
