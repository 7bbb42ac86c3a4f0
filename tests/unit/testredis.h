/*
 * A real redis-server for the store tests: started on a free loopback
 * port (the same one again after redis_stop(), so that a store reconnects
 * to it), and a loop runner.
 */
#ifndef POSTERN_TESTREDIS_H
#define POSTERN_TESTREDIS_H

#include <sys/types.h>

struct config;
struct event_base;

extern int	redis_port;	/* 0: no redis-server to test against */
extern pid_t	redis_pid;	/* -1 while stopped */

/* A port nothing listens on now. */
int	redis_free_port(void);
/*
 * Start redis-server on redis_port with <extra> (NULL-terminated, or
 * NULL) after the test options; 0 once it accepts connections, or -1.
 */
int	redis_start_args(const char *const *extra);
int	redis_start(void);
/* Kill it (SIGKILL) and reap it; nothing if it is not running. */
void	redis_stop(void);
/* A cmocka group's setup (a redis-server, or redis_port 0) and teardown. */
int	redis_setup(void **state);
int	redis_teardown(void **state);
/*
 * A configuration whose redis section points at redis_port, with the key
 * prefix "t:", a connect timeout of 500 ms and <command_ms> per command
 * (config_unref() it).
 */
struct config *redis_test_config(unsigned int command_ms);
/* Run <base> until *<flag> is non-zero or <ms> pass; returns *<flag>. */
int	run_until(struct event_base *base, const int *flag, int ms);

#endif
