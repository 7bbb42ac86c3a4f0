/* A redis-server for the store tests (testredis.h). */
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include <event2/event.h>

#include "config.h"
#include "diag.h"
#include "loader.h"
#include "testredis.h"

#define REDIS_MAXARGS	32

int	redis_port;
pid_t	redis_pid = -1;

int
redis_free_port(void)
{
	struct sockaddr_in	sin;
	socklen_t		len = sizeof(sin);
	int			fd, port;

	fd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	(void)bind(fd, (struct sockaddr *)&sin, sizeof(sin));
	(void)getsockname(fd, (struct sockaddr *)&sin, &len);
	port = ntohs(sin.sin_port);
	close(fd);
	return port;
}

static int
port_open(int port)
{
	struct sockaddr_in	sin;
	int			fd, rc;

	fd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	rc = connect(fd, (struct sockaddr *)&sin, sizeof(sin));
	close(fd);
	return rc == 0;
}

static void
redis_exec(const char *const *extra)
{
	const char	*argv[REDIS_MAXARGS] = { "redis-server", "--port", NULL,
	    "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
	    "--enable-debug-command", "yes" };
	char		 port[16];
	int		 fd, n = 11;

	(void)snprintf(port, sizeof(port), "%d", redis_port);
	argv[2] = port;
	while (extra != NULL && *extra != NULL && n < REDIS_MAXARGS - 1)
		argv[n++] = *extra++;
	argv[n] = NULL;
	fd = open("/dev/null", O_WRONLY);
	dup2(fd, 1);
	dup2(fd, 2);
	execvp("redis-server", (char *const *)(uintptr_t)argv);
	_exit(127);
}

int
redis_start_args(const char *const *extra)
{
	int	i;

	if ((redis_pid = fork()) == 0)
		redis_exec(extra);
	for (i = 0; i < 500; i++) {
		if (port_open(redis_port))
			return 0;
		if (waitpid(redis_pid, NULL, WNOHANG) == redis_pid) {
			redis_pid = -1;
			return -1;
		}
		usleep(10000);
	}
	return -1;
}

int
redis_start(void)
{
	return redis_start_args(NULL);
}

void
redis_stop(void)
{
	if (redis_pid > 0) {
		kill(redis_pid, SIGKILL);
		waitpid(redis_pid, NULL, 0);
		redis_pid = -1;
	}
}

int
redis_setup(void **state)
{
	(void)state;
	redis_port = redis_free_port();
	if (redis_start() == -1)
		redis_port = 0;
	return 0;
}

int
redis_teardown(void **state)
{
	(void)state;
	redis_stop();
	return 0;
}

struct config *
redis_test_config(unsigned int command_ms)
{
	struct diag	 d = { 0 };
	struct config	*cfg;
	char		 buf[512];
	int		 n;

	n = snprintf(buf, sizeof(buf), "server:\n  listen:\n"
	    "    - address: \"127.0.0.1:1\"\n      tls: false\n"
	    "redis:\n  address: \"127.0.0.1:%d\"\n  prefix: \"t:\"\n"
	    "  connect_timeout: 500ms\n  command_timeout: %ums\n",
	    redis_port, command_ms);
	cfg = config_load_buffer("/tmp/t.yaml", buf, (size_t)n, &d);
	diag_print(&d, stderr);
	diag_free(&d);
	assert_non_null(cfg);
	return cfg;
}

int
run_until(struct event_base *base, const int *flag, int ms)
{
	struct timespec	 t0, t;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (!*flag) {
		(void)event_base_loop(base, EVLOOP_NONBLOCK);
		clock_gettime(CLOCK_MONOTONIC, &t);
		if ((t.tv_sec - t0.tv_sec) * 1000 +
		    (t.tv_nsec - t0.tv_nsec) / 1000000 > ms)
			break;
		usleep(1000);
	}
	return *flag;
}
