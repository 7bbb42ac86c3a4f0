/*
 * store.c's asynchronous connection against a real redis-server (skipped
 * when none is installed): commands and the prefix, EVALSHA with the EVAL
 * fallback, the per-command timeout (error exactly once, then a reset and
 * a reconnect), Redis going away and coming back, store_free() with
 * commands pending, the callback of each connection made, and the Lua
 * key() of STORE_LAYOUT_SCRIPT making the very names store_layout_key()
 * makes.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "config.h"
#include "diag.h"
#include "loader.h"
#include "acctstore.h"
#include "store.h"
#include "testredis.h"
#include "user.h"

struct result {
	int	calls;
	int	error;
	char	text[128];
	long long integer;
};

static void
on_result(void *arg, const redisReply *reply, const char *err)
{
	struct result	*r = arg;

	r->calls++;
	if (err != NULL) {
		r->error = 1;
		(void)snprintf(r->text, sizeof(r->text), "%s", err);
		return;
	}
	if (reply->type == REDIS_REPLY_STRING ||
	    reply->type == REDIS_REPLY_STATUS)
		(void)snprintf(r->text, sizeof(r->text), "%s", reply->str);
	else if (reply->type == REDIS_REPLY_INTEGER)
		r->integer = reply->integer;
}

struct fixture {
	struct event_base	*base;
	struct config		*cfg;
	struct store		*st;
};

static void
open_store(struct fixture *f, unsigned int command_ms)
{
	struct store_settings	set;
	char			err[256];
	int			i;

	if (redis_port == 0)
		skip();
	assert_non_null(f->base = event_base_new());
	f->cfg = redis_test_config(command_ms);
	config_store_settings(f->cfg, &set);
	assert_non_null(f->st = store_new(f->base, &set, err, sizeof(err)));
	assert_string_equal(store_prefix(f->st), "t:");
	for (i = 0; i < 2000 && !store_healthy(f->st); i++) {
		(void)event_base_loop(f->base, EVLOOP_NONBLOCK);
		usleep(1000);
	}
	assert_true(store_healthy(f->st));
}

static void
close_store(struct fixture *f)
{
	store_free(f->st);
	config_unref(f->cfg);
	event_base_free(f->base);
}

static void
test_commands(void **state)
{
	struct fixture	f;
	struct result	a = { 0 }, b = { 0 }, c = { 0 };
	const char	*argv[] = { "SET", "t:k2", "v2" };

	(void)state;
	open_store(&f, 1000);
	assert_int_equal(store_command(f.st, on_result, &a, "SET %s %s",
	    "t:k", "hello"), 0);
	assert_int_equal(store_command_argv(f.st, on_result, &b, 3, argv,
	    NULL), 0);
	assert_int_equal(store_command(f.st, on_result, &c, "GET %s", "t:k"),
	    0);
	assert_int_equal(a.calls + b.calls + c.calls, 0);	/* not inline */
	assert_true(run_until(f.base, &c.calls, 2000));
	assert_string_equal(a.text, "OK");
	assert_string_equal(b.text, "OK");
	assert_string_equal(c.text, "hello");
	memset(&a, 0, sizeof(a));
	assert_int_equal(store_command(f.st, on_result, &a, "INCRBY %s x",
	    "t:k"), 0);
	assert_true(run_until(f.base, &a.calls, 2000));
	assert_int_equal(a.calls, 1);
	assert_true(a.error);		/* a Redis error reply */
	close_store(&f);
}

static struct store_script script = STORE_SCRIPT("test",
    "redis.call('SET', KEYS[1], ARGV[1]) return #ARGV[1]");

static void
test_eval_fallback(void **state)
{
	struct fixture	f;
	struct result	a = { 0 }, b = { 0 }, c = { 0 };
	const char	*argv[] = { "t:s", "four" };

	(void)state;
	open_store(&f, 1000);
	assert_int_equal(store_command(f.st, on_result, &a, "SCRIPT FLUSH"),
	    0);
	/* NOSCRIPT: the store sends EVAL with the source */
	assert_int_equal(store_eval(f.st, &script, on_result, &b, 1, 2, argv,
	    NULL), 0);
	assert_true(run_until(f.base, &b.calls, 2000));
	assert_false(b.error);
	assert_int_equal(b.integer, 4);
	/* now cached: EVALSHA answers */
	assert_int_equal(store_eval(f.st, &script, on_result, &c, 1, 2, argv,
	    NULL), 0);
	assert_true(run_until(f.base, &c.calls, 2000));
	assert_int_equal(c.integer, 4);
	assert_int_equal(b.calls + c.calls, 2);
	close_store(&f);
}

static void
test_timeout(void **state)
{
	struct fixture	f;
	struct result	slow = { 0 }, behind = { 0 }, after = { 0 };
	int		i;

	(void)state;
	open_store(&f, 150);
	assert_int_equal(store_command(f.st, on_result, &slow,
	    "DEBUG SLEEP 0.6"), 0);
	assert_int_equal(store_command(f.st, on_result, &behind, "PING"), 0);
	assert_true(run_until(f.base, &slow.calls, 2000));
	assert_true(slow.error);
	assert_string_equal(slow.text, "redis command timed out");
	assert_int_equal(behind.calls, 1);	/* reset: pending ones fail */
	assert_true(behind.error);
	assert_false(store_healthy(f.st));
	/* reconnects by itself (Redis is busy for the rest of its sleep) */
	for (i = 0; i < 5000 && !store_healthy(f.st); i++) {
		(void)event_base_loop(f.base, EVLOOP_NONBLOCK);
		usleep(1000);
	}
	assert_true(store_healthy(f.st));
	assert_int_equal(store_command(f.st, on_result, &after, "PING"), 0);
	assert_true(run_until(f.base, &after.calls, 2000));
	assert_string_equal(after.text, "PONG");
	assert_int_equal(slow.calls, 1);	/* still exactly once */
	close_store(&f);
}

static void
test_redis_restart(void **state)
{
	struct fixture	f;
	struct result	a = { 0 }, b = { 0 };
	int		i, refused = 0;

	(void)state;
	open_store(&f, 1000);
	assert_int_equal(store_command(f.st, on_result, &a,
	    "DEBUG SLEEP 0.3"), 0);
	redis_stop();
	assert_true(run_until(f.base, &a.calls, 2000));
	assert_true(a.error);
	for (i = 0; i < 200; i++) {
		(void)event_base_loop(f.base, EVLOOP_NONBLOCK);
		usleep(1000);
	}
	assert_false(store_healthy(f.st));
	/* fail fast while waiting to reconnect; or an error callback */
	memset(&b, 0, sizeof(b));
	if (store_command(f.st, on_result, &b, "PING") == -1)
		refused = 1;
	else
		assert_true(run_until(f.base, &b.calls, 3000) && b.error);
	(void)refused;
	assert_int_equal(redis_start(), 0);
	for (i = 0; i < 15000 && !store_healthy(f.st); i++) {
		(void)event_base_loop(f.base, EVLOOP_NONBLOCK);
		usleep(1000);
	}
	assert_true(store_healthy(f.st));
	memset(&b, 0, sizeof(b));
	assert_int_equal(store_command(f.st, on_result, &b, "PING"), 0);
	assert_true(run_until(f.base, &b.calls, 2000));
	assert_string_equal(b.text, "PONG");
	close_store(&f);
}

struct ready {
	struct store	*st;
	int		 calls;
	struct result	 ping;		/* sent from within the callback */
};

static void
on_ready(void *arg)
{
	struct ready	*r = arg;

	r->calls++;
	assert_true(store_healthy(r->st));
	memset(&r->ping, 0, sizeof(r->ping));
	assert_int_equal(store_command(r->st, on_result, &r->ping, "PING"),
	    0);
}

/*
 * The ready callback runs once per connection made, the first included,
 * and may send commands: after Redis restarts it runs again.
 */
static void
test_ready_callback(void **state)
{
	struct fixture		f;
	struct store_settings	set;
	struct ready		r = { 0 };
	char			err[256];
	int			i;

	(void)state;
	if (redis_port == 0)
		skip();
	assert_non_null(f.base = event_base_new());
	f.cfg = redis_test_config(1000);
	config_store_settings(f.cfg, &set);
	assert_non_null(f.st = r.st = store_new(f.base, &set, err,
	    sizeof(err)));
	store_set_ready_cb(f.st, on_ready, &r);
	assert_true(run_until(f.base, &r.ping.calls, 3000));
	assert_int_equal(r.calls, 1);
	assert_string_equal(r.ping.text, "PONG");
	for (i = 0; i < 100; i++) {		/* no second call meanwhile */
		(void)event_base_loop(f.base, EVLOOP_NONBLOCK);
		usleep(1000);
	}
	assert_int_equal(r.calls, 1);
	redis_stop();
	assert_int_equal(redis_start(), 0);
	r.ping.calls = 0;
	assert_true(run_until(f.base, &r.ping.calls, 15000));
	assert_int_equal(r.calls, 2);
	assert_string_equal(r.ping.text, "PONG");
	close_store(&f);
}

static void
test_free_with_pending(void **state)
{
	struct fixture	f;
	struct result	a = { 0 }, b = { 0 };

	(void)state;
	open_store(&f, 1000);
	assert_int_equal(store_command(f.st, on_result, &a, "PING"), 0);
	assert_int_equal(store_command(f.st, on_result, &b, "PING"), 0);
	store_free(f.st);
	assert_int_equal(a.calls, 1);
	assert_int_equal(b.calls, 1);
	assert_true(a.error && b.error);
	config_unref(f.cfg);
	event_base_free(f.base);
}

/*
 * key() of STORE_LUA_KEY, for any layout: ARGV is the prefix, the layout,
 * then its arguments.  (The gateway's scripts splice their layout in.)
 */
static struct store_script key_script = STORE_LAYOUT_SCRIPT("key test",
    "return key(ARGV[2], unpack(ARGV, 3))");

/* key(<layout>, <args>) by Redis; -1 if the script failed. */
static int
lua_key(struct fixture *f, const char *layout, const char *const *args,
    int nargs, char *out, size_t size)
{
	struct result	 r = { 0 };
	const char	*argv[8];
	int		 i;

	assert_true(nargs <= 6);
	argv[0] = store_prefix(f->st);
	argv[1] = layout;
	for (i = 0; i < nargs; i++)
		argv[2 + i] = args[i];
	assert_int_equal(store_eval(f->st, &key_script, on_result, &r, 0,
	    2 + nargs, argv, NULL), 0);
	assert_true(run_until(f->base, &r.calls, 2000));
	assert_int_equal(r.calls, 1);
	if (r.error)
		return -1;
	(void)snprintf(out, size, "%s", r.text);
	return 0;
}

static void
test_lua_key(void **state)
{
	static const char *const layouts[] = {
		USER_LAYOUT_USER, USER_LAYOUT_EMAIL, USER_LAYOUT_USERS,
		USER_LAYOUT_USER_ORGS, USER_LAYOUT_USER_SESSIONS,
		USER_LAYOUT_SESSION, USER_LAYOUT_ORG, USER_LAYOUT_ORGS,
		USER_LAYOUT_ORG_MEMBERS, ACCTSTORE_KEY_OTK,
		ACCTSTORE_KEY_OTK_USER, STORE_LAYOUT("a<b"),
		STORE_LAYOUT("<x>"), STORE_LAYOUT("<x><y>:<z>"),
	};
	/* pattern characters of Lua's gsub, a placeholder, a separator */
	static const char *const args[][3] = {
		{ "0123456789abcdef0123456789abcdef", "magic", "ff" },
		{ "%1", "%%", "%" },
		{ "<id>", "a:b", "" },
		{ "Caf\xc3\xa9 X", "(.*)", "[^>]" },
	};
	struct fixture	f;
	char		lua[STORE_KEYLEN], c[STORE_KEYLEN];
	size_t		i, j;

	(void)state;
	open_store(&f, 1000);
	for (i = 0; i < sizeof(layouts) / sizeof(layouts[0]); i++)
		for (j = 0; j < sizeof(args) / sizeof(args[0]); j++) {
			assert_true(store_layout_key(c, sizeof(c),
			    store_prefix(f.st), layouts[i], args[j][0],
			    args[j][1], args[j][2]) > 0);
			assert_int_equal(lua_key(&f, layouts[i],
			    args[j], 3, lua, sizeof(lua)), 0);
			assert_string_equal(lua, c);
		}
	/* the names the scripts used to join by hand */
	assert_int_equal(lua_key(&f, USER_LAYOUT_USER_SESSIONS,
	    (const char *[]){ "u1" }, 1, lua, sizeof(lua)), 0);
	assert_string_equal(lua, "t:user:u1:sessions");
	assert_int_equal(lua_key(&f, ACCTSTORE_KEY_OTK,
	    (const char *[]){ "reset", "ab" }, 2, lua, sizeof(lua)), 0);
	assert_string_equal(lua, "t:otk:reset:ab");
	/* a missing argument fails the script, it names no key */
	assert_int_equal(lua_key(&f, ACCTSTORE_KEY_OTK,
	    (const char *[]){ "reset" }, 1, lua, sizeof(lua)), -1);
	assert_int_equal(lua_key(&f, USER_LAYOUT_USER, NULL, 0, lua,
	    sizeof(lua)), -1);
	close_store(&f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_commands),
		cmocka_unit_test(test_eval_fallback),
		cmocka_unit_test(test_timeout),
		cmocka_unit_test(test_redis_restart),
		cmocka_unit_test(test_ready_callback),
		cmocka_unit_test(test_free_with_pending),
		cmocka_unit_test(test_lua_key),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, redis_setup, redis_teardown);
}
