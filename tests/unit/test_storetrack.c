/*
 * storetrack.c, client-side caching, against a real redis-server (skipped
 * when none is installed): invalidations of tracked prefixes only, the
 * store's own writes included, in order; the epoch and <reset> when either
 * connection is killed, on a command timeout, a FLUSHDB, a restart of
 * Redis, a silent Redis (heartbeat) and a message that is not an
 * invalidation, and recovery each time; a Redis that refuses CLIENT TRACKING
 * (ACL, renamed CLIENT) leaves the epoch at 0 and the store working; the
 * tracking connection's reads come before the other events of a loop turn
 * on a base with two priorities; store_free() in every state; and the
 * latency from a write to its invalidation (printed).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sys/socket.h>

#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <hiredis/hiredis.h>

#include "config.h"
#include "loader.h"
#include "store.h"
#include "testredis.h"

#define MAXKEYS		2048
#define NWRITES		1000

/* What the callbacks saw. */
struct rec {
	int		 resets;
	int		 nkeys;
	char		 keys[MAXKEYS][40];
	uint64_t	 reset_epoch;	/* store_track_epoch() in <reset> */
	int		 seq;		/* order of callbacks (priority test) */
	int		 inval_seq;
	int		 client_seq;
	struct store	*st;
};

struct fixture {
	struct event_base	*base;
	struct config		*cfg;
	struct store		*st;
	redisContext		*other;		/* another client */
	struct rec		*rec;
};

static const char *const prefixes[] = { "session:", "user:" };

static void
on_inval(void *arg, const char *key, size_t keylen)
{
	struct rec	*r = arg;

	r->inval_seq = ++r->seq;
	if (r->nkeys < MAXKEYS)
		(void)snprintf(r->keys[r->nkeys], sizeof(r->keys[0]), "%.*s",
		    (int)keylen, key);
	r->nkeys++;
}

static void
on_reset(void *arg)
{
	struct rec	*r = arg;

	r->resets++;
	r->reset_epoch = store_track_epoch(r->st);
}

struct result {
	int	calls;
	int	error;
	char	text[64];
};

static void
on_result(void *arg, const redisReply *reply, const char *err)
{
	struct result	*r = arg;

	r->calls++;
	if (err != NULL)
		r->error = 1;
	else if (reply->type == REDIS_REPLY_STRING ||
	    reply->type == REDIS_REPLY_STATUS)
		(void)snprintf(r->text, sizeof(r->text), "%s", reply->str);
}

static int64_t
now_us(void)
{
	struct timespec	t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000000 + t.tv_nsec / 1000;
}

/* A worker's base (two priorities) or the CLI's (one). */
static struct event_base *
base_new(int priorities)
{
	struct event_base	*base;

	assert_non_null(base = event_base_new());
	if (priorities)
		assert_int_equal(event_base_priority_init(base, 2), 0);
	return base;
}

static redisContext *
other_connect(void)
{
	redisContext	*c;

	c = redisConnect("127.0.0.1", redis_port);
	assert_non_null(c);
	assert_int_equal(c->err, 0);
	return c;
}

/* A command of the other client; its reply's integer, or 0. */
static long long
other(struct fixture *f, const char *fmt, ...)
{
	redisReply	*reply;
	va_list		 ap;
	long long	 n;

	va_start(ap, fmt);
	reply = redisvCommand(f->other, fmt, ap);
	va_end(ap);
	assert_non_null(reply);
	assert_int_not_equal(reply->type, REDIS_REPLY_ERROR);
	n = reply->type == REDIS_REPLY_INTEGER ? reply->integer : 0;
	freeReplyObject(reply);
	return n;
}

/* Run the loop until <pred>(f) or <ms> pass; returns <pred>(f). */
static int
loop_until(struct fixture *f, int (*pred)(struct fixture *), int ms)
{
	int64_t	t0 = now_us();

	while (!pred(f) && now_us() - t0 < (int64_t)ms * 1000) {
		(void)event_base_loop(f->base, EVLOOP_NONBLOCK);
		usleep(500);
	}
	return pred(f);
}

static int
tracking(struct fixture *f)
{
	return store_track_epoch(f->st) != 0;
}

static int
not_tracking(struct fixture *f)
{
	return store_track_epoch(f->st) == 0;
}

static int
got_key(struct fixture *f)
{
	return f->rec->nkeys > 0;
}

static int
got_two(struct fixture *f)
{
	return f->rec->nkeys >= 2;
}

static int
got_all(struct fixture *f)
{
	return f->rec->nkeys >= NWRITES;
}

/*
 * Run the loop for <ms>, whatever happens, and at least twice (what
 * Redis wrote before answering the other client is then read).
 */
static void
loop_for(struct fixture *f, int ms)
{
	int64_t	t0 = now_us();
	int	n = 0;

	while (n++ < 2 || now_us() - t0 < (int64_t)ms * 1000) {
		(void)event_base_loop(f->base, EVLOOP_NONBLOCK);
		usleep(1000);
	}
}

/* A store, with tracking asked for if <track>, not waited for. */
static void
open_store(struct fixture *f, int priorities, unsigned int command_ms,
    int track)
{
	struct store_settings	set;
	char			err[256];

	if (redis_port == 0)
		skip();
	memset(f, 0, sizeof(*f));
	assert_non_null(f->rec = calloc(1, sizeof(*f->rec)));
	f->base = base_new(priorities);
	f->cfg = redis_test_config(command_ms);
	config_store_settings(f->cfg, &set);
	assert_non_null(f->st = store_new(f->base, &set, err, sizeof(err)));
	f->rec->st = f->st;
	assert_int_equal(store_track_epoch(f->st), 0);
	if (track)
		assert_int_equal(store_track(f->st, prefixes, 2, on_inval,
		    on_reset, f->rec), 0);
	f->other = other_connect();
}

/* ...and tracking in force: the first period has started. */
static void
open_tracking(struct fixture *f, int priorities)
{
	open_store(f, priorities, 1000, 1);
	assert_true(loop_until(f, tracking, 3000));
	assert_int_equal(f->rec->resets, 1);	/* the period's start */
	assert_int_equal(f->rec->reset_epoch, store_track_epoch(f->st));
	assert_int_equal(f->rec->nkeys, 0);
}

static void
close_store(struct fixture *f)
{
	store_free(f->st);
	redisFree(f->other);
	config_unref(f->cfg);
	event_base_free(f->base);
	free(f->rec);
}

/* Forget what the callbacks saw (not the counts of resets). */
static void
rec_clear_keys(struct rec *r)
{
	r->nkeys = 0;
}

/* The id of the one client named <name> in CLIENT LIST, or -1. */
static long long
client_id(struct fixture *f, const char *name)
{
	redisReply	*reply;
	const char	*line, *p;
	char		 want[64];
	long long	 id = -1;
	int		 found = 0;

	(void)snprintf(want, sizeof(want), " name=%s ", name);
	reply = redisCommand(f->other, "CLIENT LIST");
	assert_non_null(reply);
	assert_int_equal(reply->type, REDIS_REPLY_STRING);
	for (line = reply->str; line != NULL && *line != '\0'; line = p) {
		p = strchr(line, '\n');
		if (strstr(line, want) != NULL && (p == NULL ||
		    strstr(line, want) < p)) {
			id = strtoll(line + 3, NULL, 10);
			found++;
		}
		if (p != NULL)
			p++;
	}
	freeReplyObject(reply);
	assert_int_equal(found, 1);
	return id;
}

/* A write by the other client to <key> is reported, as the only key. */
static void
assert_reported(struct fixture *f, const char *key)
{
	rec_clear_keys(f->rec);
	other(f, "SET %s v", key);
	assert_true(loop_until(f, got_key, 2000));
	loop_for(f, 20);
	assert_int_equal(f->rec->nkeys, 1);
	assert_string_equal(f->rec->keys[0], key);
}

static void
test_prefixes(void **state)
{
	struct fixture	f;
	uint64_t	e;

	(void)state;
	open_tracking(&f, 0);		/* a base without priorities */
	e = store_track_epoch(f.st);
	/* siblings of the tracked names: none is reported */
	other(&f, "SET t:other v");
	other(&f, "SET t:sessionX v");
	other(&f, "SET t:session v");
	other(&f, "SET session:1 v");
	other(&f, "SET u:session:1 v");
	other(&f, "SET T:session:1 v");
	other(&f, "SET t:users:1 v");
	assert_reported(&f, "t:session:abc");
	assert_reported(&f, "t:user:42");
	/* any change: a delete, a hash field, an expiry set */
	rec_clear_keys(f.rec);
	assert_int_equal(other(&f, "DEL t:session:abc"), 1);
	assert_true(loop_until(&f, got_key, 2000));
	assert_string_equal(f.rec->keys[0], "t:session:abc");
	rec_clear_keys(f.rec);
	other(&f, "HSET t:user:7 email a@b");
	assert_true(loop_until(&f, got_key, 2000));
	assert_string_equal(f.rec->keys[0], "t:user:7");
	rec_clear_keys(f.rec);
	other(&f, "PEXPIRE t:user:7 100000");
	assert_true(loop_until(&f, got_key, 2000));
	assert_string_equal(f.rec->keys[0], "t:user:7");
	/* an expiry is reported when Redis deletes the key (active expiry
	 * here: nothing touches it) */
	assert_reported(&f, "t:session:exp");
	rec_clear_keys(f.rec);
	other(&f, "PEXPIRE t:session:exp 30");	/* reported, then... */
	assert_true(loop_until(&f, got_two, 3000));
	loop_for(&f, 50);
	assert_int_equal(f.rec->nkeys, 2);	/* ...the deletion */
	assert_string_equal(f.rec->keys[0], "t:session:exp");
	assert_string_equal(f.rec->keys[1], "t:session:exp");
	assert_int_equal(store_track_epoch(f.st), e);	/* no reset */
	assert_int_equal(f.rec->resets, 1);
	close_store(&f);
}

static void
test_own_write(void **state)
{
	struct fixture	f;
	struct result	r = { 0 };

	(void)state;
	open_tracking(&f, 1);
	assert_int_equal(store_command(f.st, on_result, &r, "SET %s %s",
	    "t:session:own", "v"), 0);
	assert_true(loop_until(&f, got_key, 2000));
	assert_true(run_until(f.base, &r.calls, 2000));
	assert_string_equal(r.text, "OK");
	assert_int_equal(f.rec->nkeys, 1);
	assert_string_equal(f.rec->keys[0], "t:session:own");
	close_store(&f);
}

/*
 * Kill the connection named <name>: the period ends (epoch 0, a reset),
 * a new one starts (a new epoch, a reset) and changes are reported again.
 */
static void
kill_and_recover(struct fixture *f, const char *name)
{
	uint64_t	e = store_track_epoch(f->st);
	int		resets = f->rec->resets;

	assert_int_not_equal(e, 0);
	assert_int_equal(other(f, "CLIENT KILL ID %lld", client_id(f, name)),
	    1);
	assert_true(loop_until(f, not_tracking, 2000));
	assert_int_equal(f->rec->resets, resets + 1);
	assert_int_equal(f->rec->reset_epoch, 0);
	assert_true(loop_until(f, tracking, 5000));
	assert_int_equal(f->rec->resets, resets + 2);
	assert_true(store_track_epoch(f->st) > e);
	assert_int_equal(f->rec->reset_epoch, store_track_epoch(f->st));
	assert_reported(f, "t:session:after-kill");
}

/* Kill <victim> twice: each time it comes back, <other> stays. */
static void
kill_twice(const char *victim, const char *other_name)
{
	struct fixture	f;
	long long	id;

	open_tracking(&f, 1);
	id = client_id(&f, other_name);
	kill_and_recover(&f, victim);
	kill_and_recover(&f, victim);
	assert_int_equal(client_id(&f, other_name), id);
	assert_true(store_healthy(f.st));
	close_store(&f);
}

static void
test_kill_track(void **state)
{
	(void)state;
	kill_twice("postern-track", "postern");
}

/*
 * A new command connection gets CLIENT TRACKING again, towards the
 * tracking connection that stayed.
 */
static void
test_kill_cmd(void **state)
{
	(void)state;
	kill_twice("postern", "postern-track");
}

static void
test_cmd_timeout(void **state)
{
	struct fixture	f;
	struct result	r = { 0 };
	uint64_t	e;

	(void)state;
	open_store(&f, 1, 150, 1);
	assert_true(loop_until(&f, tracking, 3000));
	e = store_track_epoch(f.st);
	/* the store resets its command connection: a period ends */
	assert_int_equal(store_command(f.st, on_result, &r,
	    "DEBUG SLEEP 0.4"), 0);
	assert_true(run_until(f.base, &r.calls, 2000));
	assert_true(r.error);
	assert_int_equal(store_track_epoch(f.st), 0);
	assert_int_equal(f.rec->resets, 2);
	assert_true(loop_until(&f, tracking, 5000));
	assert_true(store_track_epoch(f.st) > e);
	assert_int_equal(f.rec->resets, 3);
	assert_reported(&f, "t:user:after-timeout");
	close_store(&f);
}

static void
test_flush(void **state)
{
	struct fixture	f;
	uint64_t	e, e2;

	(void)state;
	open_tracking(&f, 1);
	e = store_track_epoch(f.st);
	other(&f, "SET t:session:f v");
	other(&f, "FLUSHDB");
	assert_true(loop_until(&f, got_key, 2000));
	loop_for(&f, 100);
	/* the key, then the flush: a new period at once */
	assert_int_equal(f.rec->nkeys, 1);
	assert_int_equal(f.rec->resets, 2);
	e2 = store_track_epoch(f.st);
	assert_true(e2 > e);
	assert_int_equal(f.rec->reset_epoch, e2);
	other(&f, "FLUSHALL");
	loop_for(&f, 100);
	assert_int_equal(f.rec->resets, 3);
	assert_true(store_track_epoch(f.st) > e2);
	assert_reported(&f, "t:session:after-flush");
	close_store(&f);
}

static void
test_restart(void **state)
{
	struct fixture	f;
	uint64_t	e;

	(void)state;
	open_tracking(&f, 1);
	e = store_track_epoch(f.st);
	redis_stop();
	assert_true(loop_until(&f, not_tracking, 2000));
	assert_int_equal(f.rec->resets, 2);
	loop_for(&f, 300);		/* failed attempts: no more resets */
	assert_int_equal(f.rec->resets, 2);
	assert_int_equal(store_track_epoch(f.st), 0);
	assert_int_equal(redis_start(), 0);
	assert_true(loop_until(&f, tracking, 15000));
	assert_true(store_track_epoch(f.st) > e);
	assert_int_equal(f.rec->resets, 3);
	redisFree(f.other);
	f.other = other_connect();
	assert_reported(&f, "t:session:after-restart");
	close_store(&f);
}

/*
 * Anyone allowed to PUBLISH can write to the channel: a message that is
 * not an invalidation (a string, not an array of names) starts a new
 * period; a forged array of names is only reported, as a real one.
 */
static void
test_garbled(void **state)
{
	struct fixture	f;
	uint64_t	e;

	(void)state;
	open_tracking(&f, 1);
	e = store_track_epoch(f.st);
	assert_int_equal(other(&f, "PUBLISH __redis__:invalidate %s",
	    "t:session:x"), 1);
	loop_for(&f, 100);
	assert_int_equal(f.rec->resets, 2);
	assert_true(store_track_epoch(f.st) > e);
	assert_int_equal(f.rec->nkeys, 0);
	assert_reported(&f, "t:session:after-garbled");
	close_store(&f);
}

/*
 * The heartbeat: probes answered leave the period alone; a Redis that
 * stops answering (SIGSTOP: no FIN, no RST, no command of ours pending on
 * the command connection) ends it within STORE_TRACK_HEARTBEAT plus the
 * command timeout.
 */
static void
test_heartbeat(void **state)
{
	struct fixture	f;
	uint64_t	e;
	int64_t		t0, took;

	(void)state;
	open_store(&f, 1, 200, 1);
	assert_true(loop_until(&f, tracking, 3000));
	e = store_track_epoch(f.st);
	loop_for(&f, 2 * STORE_TRACK_HEARTBEAT + 300);
	assert_int_equal(store_track_epoch(f.st), e);
	assert_int_equal(f.rec->resets, 1);
	assert_int_equal(kill(redis_pid, SIGSTOP), 0);
	t0 = now_us();
	assert_true(loop_until(&f, not_tracking, 3 * STORE_TRACK_HEARTBEAT));
	took = (now_us() - t0) / 1000;
	assert_int_equal(kill(redis_pid, SIGCONT), 0);
	print_message("silent Redis noticed after %" PRId64 " ms\n", took);
	assert_true(took <= STORE_TRACK_HEARTBEAT + 200 + 500);
	assert_int_equal(f.rec->resets, 2);
	assert_true(loop_until(&f, tracking, 5000));
	assert_true(store_track_epoch(f.st) > e);
	assert_reported(&f, "t:session:after-stop");
	close_store(&f);
}

/* Redis started with <extra> refuses tracking: epoch 0, commands work. */
static void
refused(const char *const *extra)
{
	struct fixture	f;
	struct result	r = { 0 };

	if (redis_port == 0)
		skip();
	redis_stop();
	assert_int_equal(redis_start_args(extra), 0);
	open_store(&f, 1, 1000, 1);
	loop_for(&f, 800);
	assert_true(store_healthy(f.st));
	assert_int_equal(store_track_epoch(f.st), 0);
	other(&f, "SET t:session:x v");
	assert_int_equal(store_command(f.st, on_result, &r, "GET %s",
	    "t:session:x"), 0);
	assert_true(run_until(f.base, &r.calls, 2000));
	assert_string_equal(r.text, "v");
	loop_for(&f, 100);
	assert_int_equal(store_track_epoch(f.st), 0);
	assert_int_equal(f.rec->nkeys, 0);
	assert_int_equal(f.rec->resets, 0);
	close_store(&f);
	redis_stop();
	assert_int_equal(redis_start(), 0);
}

static void
test_refused_acl(void **state)
{
	static const char *const acl[] = { "--user", "default", "on",
	    "nopass", "~*", "&*", "+@all", "-client|tracking", NULL };

	(void)state;
	refused(acl);
}

static void
test_refused_rename(void **state)
{
	static const char *const rename[] = { "--rename-command", "CLIENT",
	    "", NULL };

	(void)state;
	refused(rename);	/* CLIENT SETNAME and CLIENT ID refused too */
}

static void
test_order(void **state)
{
	struct fixture	f;
	redisReply	*reply;
	char		 key[40];
	int		 i;

	(void)state;
	open_tracking(&f, 1);
	/* Redis batches one event-loop turn's keys in name order: names
	 * that sort as they are written keep the test exact. */
	for (i = 0; i < NWRITES; i++)
		redisAppendCommand(f.other, "SET t:session:%05d v", i);
	for (i = 0; i < NWRITES; i++) {
		assert_int_equal(redisGetReply(f.other, (void **)&reply),
		    REDIS_OK);
		freeReplyObject(reply);
	}
	assert_true(loop_until(&f, got_all, 5000));
	loop_for(&f, 50);
	assert_int_equal(f.rec->nkeys, NWRITES);
	for (i = 0; i < NWRITES; i++) {
		(void)snprintf(key, sizeof(key), "t:session:%05d", i);
		assert_string_equal(f.rec->keys[i], key);
	}
	assert_int_equal(f.rec->resets, 1);
	close_store(&f);
}

static void
on_client(evutil_socket_t fd, short what, void *arg)
{
	struct rec	*r = arg;
	char		 c;

	(void)what;
	if (read(fd, &c, 1) == 1)
		r->client_seq = ++r->seq;
}

static int
both_ran(struct fixture *f)
{
	return f->rec->inval_seq != 0 && f->rec->client_seq != 0;
}

/*
 * A client's bytes arrive first, then the invalidation, both before the
 * loop turn: the invalidation is handled first (priority 0 over the
 * default 1).
 */
static void
test_priority(void **state)
{
	struct fixture	 f;
	struct event	*ev;
	int		 sv[2];

	(void)state;
	open_tracking(&f, 1);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_non_null(ev = event_new(f.base, sv[1], EV_READ, on_client,
	    f.rec));
	assert_int_equal(event_add(ev, NULL), 0);
	assert_int_equal(write(sv[0], "x", 1), 1);
	usleep(20000);
	other(&f, "SET t:session:prio v");
	usleep(50000);			/* the invalidation is in our socket */
	f.rec->seq = 0;
	assert_true(loop_until(&f, both_ran, 2000));
	assert_int_equal(f.rec->inval_seq, 1);
	assert_int_equal(f.rec->client_seq, 2);
	event_free(ev);
	close(sv[0]);
	close(sv[1]);
	close_store(&f);
}

static void
test_free_states(void **state)
{
	struct fixture	f;
	int		resets;

	(void)state;
	/* connecting: nothing is up yet */
	open_store(&f, 1, 1000, 1);
	close_store(&f);
	/* subscribed, CLIENT TRACKING maybe in flight */
	open_store(&f, 1, 1000, 1);
	loop_for(&f, 2);
	close_store(&f);
	/* an invalidation unread in the socket: no callback */
	open_tracking(&f, 1);
	other(&f, "SET t:session:unread v");
	usleep(20000);
	resets = f.rec->resets;
	store_free(f.st);
	f.st = NULL;
	assert_int_equal(f.rec->nkeys, 0);
	assert_int_equal(f.rec->resets, resets);
	(void)event_base_loop(f.base, EVLOOP_NONBLOCK);
	close_store(&f);
	/* Redis down: both connections waiting for their retry */
	open_tracking(&f, 1);
	redis_stop();
	assert_true(loop_until(&f, not_tracking, 2000));
	loop_for(&f, 50);
	redisFree(f.other);
	f.other = NULL;
	close_store(&f);
	assert_int_equal(redis_start(), 0);
}

static void
test_bad_args(void **state)
{
	static const char *const overlap[] = { "session:", "session:ab" };
	static const char *const same[] = { "user:", "user:" };
	static const char *const withnull[] = { "user:", NULL };
	struct fixture	f;

	(void)state;
	open_store(&f, 0, 1000, 0);
	assert_int_equal(store_track(NULL, prefixes, 2, on_inval, on_reset,
	    NULL), -1);
	assert_int_equal(store_track(f.st, NULL, 2, on_inval, on_reset,
	    NULL), -1);
	assert_int_equal(store_track(f.st, prefixes, 0, on_inval, on_reset,
	    NULL), -1);
	assert_int_equal(store_track(f.st, overlap, 2, on_inval, on_reset,
	    NULL), -1);
	assert_int_equal(store_track(f.st, same, 2, on_inval, on_reset,
	    NULL), -1);
	assert_int_equal(store_track(f.st, withnull, 2, on_inval, on_reset,
	    NULL), -1);
	assert_int_equal(store_track(f.st, prefixes, 2, NULL, on_reset,
	    NULL), -1);
	assert_int_equal(store_track(f.st, prefixes, 2, on_inval, NULL,
	    NULL), -1);
	assert_int_equal(store_track_epoch(NULL), 0);
	/* none of them took: the first good call does, a second does not */
	assert_int_equal(store_track(f.st, prefixes, 2, on_inval, on_reset,
	    f.rec), 0);
	assert_int_equal(store_track(f.st, prefixes, 2, on_inval, on_reset,
	    f.rec), -1);
	assert_true(loop_until(&f, tracking, 3000));
	assert_int_equal(f.rec->resets, 1);
	close_store(&f);
}

static int
cmp_i64(const void *a, const void *b)
{
	int64_t	x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * The time from a write returning to the other client to its <inval>
 * running, on loopback: p50 and p99 over NWRITES writes (printed).  The
 * loop blocks in its wait (EVLOOP_ONCE), as a worker's does.
 */
static void
test_latency(void **state)
{
	struct fixture	 f;
	int64_t		*lat, t0;
	int		 i;

	(void)state;
	open_tracking(&f, 1);
	assert_non_null(lat = calloc(NWRITES, sizeof(*lat)));
	for (i = 0; i < NWRITES; i++) {
		rec_clear_keys(f.rec);
		other(&f, "SET t:session:lat%d v", i);
		t0 = now_us();
		while (f.rec->nkeys == 0 && now_us() - t0 < 1000000)
			(void)event_base_loop(f.base, EVLOOP_ONCE);
		assert_int_equal(f.rec->nkeys, 1);
		lat[i] = now_us() - t0;
	}
	qsort(lat, NWRITES, sizeof(*lat), cmp_i64);
	print_message("write to invalidation, loopback, %d writes: "
	    "p50 %" PRId64 " us, p99 %" PRId64 " us, max %" PRId64 " us\n",
	    NWRITES, lat[NWRITES / 2], lat[NWRITES * 99 / 100],
	    lat[NWRITES - 1]);
	assert_true(lat[NWRITES * 99 / 100] < 50000);
	free(lat);
	close_store(&f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_prefixes),
		cmocka_unit_test(test_own_write),
		cmocka_unit_test(test_kill_track),
		cmocka_unit_test(test_kill_cmd),
		cmocka_unit_test(test_cmd_timeout),
		cmocka_unit_test(test_flush),
		cmocka_unit_test(test_restart),
		cmocka_unit_test(test_heartbeat),
		cmocka_unit_test(test_garbled),
		cmocka_unit_test(test_refused_acl),
		cmocka_unit_test(test_refused_rename),
		cmocka_unit_test(test_order),
		cmocka_unit_test(test_priority),
		cmocka_unit_test(test_free_states),
		cmocka_unit_test(test_bad_args),
		cmocka_unit_test(test_latency),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, redis_setup, redis_teardown);
}
