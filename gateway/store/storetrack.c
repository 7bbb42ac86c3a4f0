/*
 * Client-side caching (store.h: store_track()): the store's second
 * connection to Redis, SUBSCRIBEd to __redis__:invalidate, and the CLIENT
 * TRACKING of the command connection that REDIRECTs to it, in BCAST mode
 * over the prefixes the caller caches.  What a cache needs from it: every
 * change reported, in order, while the epoch is not 0; a <reset> whenever
 * a change may have gone unreported.
 *
 * Tracking connection states:
 *   TRACK_WAITING     no context; t->retry fires after the backoff delay
 *   TRACK_CONNECTING  PING/AUTH/CLIENT SETNAME/SELECT, CLIENT ID and
 *                     SUBSCRIBE queued; t->conn_timer bounds them by
 *                     redis.connect_timeout
 *   TRACK_SUBSCRIBED  the subscription confirmed: CLIENT TRACKING is sent
 *                     on the command connection whenever that one is ready
 * A period starts (epoch = its number, <reset>) when, both connections
 * having stayed up, the last CLIENT TRACKING on sent was answered +OK and
 * then a probe of the tracking connection came back: SUBSCRIBE to the
 * channel again, the one command a subscribed RESP2 connection answers
 * through its subscription.  The probe proves that the REDIRECT went to
 * this connection: a Redis restarted behind a connection that did not see
 * it (no FIN, no RST) numbers its clients from 1 again, and the id may be
 * someone else's.  The same probe, every STORE_TRACK_HEARTBEAT ms, bounds
 * by redis.command_timeout how long a connection that silently stopped
 * (a firewall forgetting an idle flow) goes unnoticed.  Losing either
 * connection ends the period (epoch 0, <reset>); a refused CLIENT
 * TRACKING drops the tracking connection (retried with backoff); a nil
 * invalidation (FLUSHDB, FLUSHALL) or a message that cannot be read
 * starts a new period at once.
 *
 * The tracking connection's read event has priority 0, above the default
 * of a worker's base (two priorities, serve.c): Redis writes an
 * invalidation to this socket before it answers the client whose write
 * caused it, so a request read in the same loop turn as the invalidation
 * is served after the cache dropped the entry.  hiredis' libevent adapter
 * does not expose its events, hence the small adapter below.
 */

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/event.h>
#include <hiredis/async.h>

#include "log.h"
#include "store.h"
#include "store-int.h"
#include "timeutil.h"

#define TRACK_CHANNEL	"__redis__:invalidate"
#define TRACK_MAXPREFIX	64
#define TRACK_ARGC0	6	/* CLIENT TRACKING on REDIRECT <id> BCAST */

enum track_state {
	TRACK_WAITING = 0,
	TRACK_CONNECTING,
	TRACK_SUBSCRIBED,
};

/* The tracking connection and the periods; owned by its store. */
struct store_track {
	struct store		*st;
	struct store_hs		 hs;
	redisAsyncContext	*ac;		/* NULL while waiting */
	enum track_state	 state;
	struct event		*retry;		/* reconnect after backoff */
	struct event		*conn_timer;	/* connect, subscribe, probe */
	struct event		*beat;		/* heartbeat probe, persistent */
	unsigned int		 backoff;	/* next delay, ms */
	long long		 id;		/* CLIENT ID of ac, or -1 */
	char			 idtext[24];	/* argv[4] */
	const char		**argv;		/* CLIENT TRACKING on ... */
	size_t			*argvlen;
	char			**prefixes;	/* full names, owned */
	int			 argc;
	store_inval_cb		 inval;
	store_reset_cb		 reset;
	void			*arg;
	uint64_t		 period;	/* the last one started */
	uint64_t		 epoch;		/* 0, or period while in force */
	unsigned int		 gen;		/* changes at each loss */
	unsigned int		 sent_gen;	/* gen of the last one sent */
	unsigned int		 pending;	/* CLIENT TRACKING on in flight */
	unsigned int		 ok_gen;	/* gen of the last +OK */
	int			 ok;		/* an +OK arrived (at ok_gen) */
	unsigned int		 probes;	/* SUBSCRIBE probes in flight */
	unsigned int		 addr_gen;	/* st->addr_gen when connected */
	int			 down_logged;
	int			 refused_logged;
};

/*
 * The libevent adapter of the tracking connection: hiredis' own
 * (hiredis/adapters/libevent.h) with the read event at priority 0.
 */
struct track_ev {
	redisAsyncContext	*ac;
	struct event		*rev;
	struct event		*wev;
};

static void	track_connect(struct store_track *);
static void	track_drop(struct store_track *, const char *);
static void	track_probe(struct store_track *);
static void	track_on_message(redisAsyncContext *, void *, void *);

/* ---- the adapter ---- */

static void
track_ev_on_read(evutil_socket_t fd, short what, void *arg)
{
	struct track_ev	*e = arg;

	redisAsyncHandleRead(e->ac);
}

static void
track_ev_on_write(evutil_socket_t fd, short what, void *arg)
{
	struct track_ev	*e = arg;

	redisAsyncHandleWrite(e->ac);
}

static void
track_ev_add_read(void *p)
{
	event_add(((struct track_ev *)p)->rev, NULL);
}

static void
track_ev_del_read(void *p)
{
	event_del(((struct track_ev *)p)->rev);
}

static void
track_ev_add_write(void *p)
{
	event_add(((struct track_ev *)p)->wev, NULL);
}

static void
track_ev_del_write(void *p)
{
	event_del(((struct track_ev *)p)->wev);
}

static void
track_ev_cleanup(void *p)
{
	struct track_ev	*e = p;

	if (e->rev != NULL)
		event_free(e->rev);
	if (e->wev != NULL)
		event_free(e->wev);
	free(e);
}

/*
 * Attach <ac> to <base>.  Priority 0 is the highest of any base (the only
 * one of a base without priorities).  0, or -1 (then nothing attached).
 */
static int
track_ev_attach(redisAsyncContext *ac, struct event_base *base)
{
	struct track_ev	*e;

	if (ac->ev.data != NULL || (e = calloc(1, sizeof(*e))) == NULL)
		return -1;
	e->ac = ac;
	if ((e->rev = event_new(base, ac->c.fd, EV_READ, track_ev_on_read,
	    e)) == NULL || (e->wev = event_new(base, ac->c.fd, EV_WRITE,
	    track_ev_on_write, e)) == NULL ||
	    event_priority_set(e->rev, 0) == -1) {
		track_ev_cleanup(e);
		return -1;
	}
	ac->ev.addRead = track_ev_add_read;
	ac->ev.delRead = track_ev_del_read;
	ac->ev.addWrite = track_ev_add_write;
	ac->ev.delWrite = track_ev_del_write;
	ac->ev.cleanup = track_ev_cleanup;
	ac->ev.data = e;
	event_add(e->rev, NULL);
	event_add(e->wev, NULL);
	return 0;
}

/* ---- periods ---- */

/* A connection is gone: nothing is reported until a new period. */
static void
track_end_period(struct store_track *t)
{
	t->gen++;
	if (t->epoch == 0)
		return;		/* nothing could be cached */
	t->epoch = 0;
	t->reset(t->arg);
}

/* Tracking is in force (again). */
static void
track_start_period(struct store_track *t)
{
	if (t->down_logged)
		log_info("redis %s: invalidation connection restored",
		    t->st->conf.text);
	t->down_logged = 0;
	t->backoff = STORE_BACKOFF_MIN;
	t->epoch = ++t->period;
	t->reset(t->arg);
}

/* Everything may have changed (FLUSHDB, or a message we cannot read). */
static void
track_restart_period(struct store_track *t)
{
	if (t->epoch != 0)
		t->epoch = ++t->period;
	t->reset(t->arg);
}

/* ---- CLIENT TRACKING on the command connection ---- */

/*
 * Redis refused <what>: one warning per store (it stands for the
 * connection's loss too), then the tracking connection starts again.
 */
static void
track_refused(struct store_track *t, const char *what, const char *err)
{
	if (!t->refused_logged)
		log_warnx("redis %s: %s refused (%.120s); local caches are "
		    "off while it is (client-side caching needs Redis 6 or "
		    "later, and an ACL that allows CLIENT and the channel "
		    TRACK_CHANNEL ")", t->st->conf.text, what, err);
	t->refused_logged = 1;
	t->down_logged = 1;
	track_drop(t, "refused by redis");
}

static void
track_on_tracking(redisAsyncContext *ac, void *r, void *arg)
{
	struct store_track	*t = arg;
	redisReply		*reply = r;	/* NULL: context gone */

	t->pending--;
	if (reply == NULL || t->pending != 0 || t->sent_gen != t->gen ||
	    t->st->ac != ac || t->state != TRACK_SUBSCRIBED)
		return;		/* an older request, or the period ended */
	if (reply->type == REDIS_REPLY_STATUS && strcmp(reply->str, "OK") ==
	    0) {
		t->ok = 1;
		t->ok_gen = t->gen;
		track_probe(t);		/* the period starts on its answer */
		return;
	}
	/* Refused (an ACL, Redis before 6), or the id we sent is not a
	 * client of this Redis: start the tracking connection again. */
	track_refused(t, "CLIENT TRACKING", reply->type == REDIS_REPLY_ERROR ?
	    reply->str : "unexpected reply");
}

/*
 * Both connections are up: (re)point the command connection's tracking
 * at ours.  "off" first, since Redis refuses to change a BCAST
 * registration in place.
 */
static void
track_send(struct store_track *t)
{
	redisAsyncContext	*ac = t->st->ac;

	(void)snprintf(t->idtext, sizeof(t->idtext), "%lld", t->id);
	t->argvlen[4] = strlen(t->idtext);
	if (redisAsyncCommand(ac, NULL, NULL, "CLIENT TRACKING off") !=
	    REDIS_OK || redisAsyncCommandArgv(ac, track_on_tracking, t,
	    t->argc, t->argv, t->argvlen) != REDIS_OK)
		return;		/* closing: its loss ends the period */
	t->pending++;
	t->sent_gen = t->gen;
}

void
store_track_cmd_ready(struct store *st)
{
	struct store_track	*t = st->track;

	if (t != NULL && t->ac != NULL && t->addr_gen != st->addr_gen) {
		/* On the old primary: follow the command connection. */
		track_drop(t, "the primary changed");
		return;
	}
	if (t != NULL && t->state == TRACK_SUBSCRIBED)
		track_send(t);
}

void
store_track_cmd_lost(struct store *st)
{
	if (st->track != NULL)
		track_end_period(st->track);
}

/* ---- the tracking connection ---- */

static void
track_schedule(struct store_track *t)
{
	struct timeval	tv;

	t->state = TRACK_WAITING;
	t->id = -1;
	evtimer_del(t->conn_timer);
	evtimer_del(t->beat);
	(void)timeutil_tv(&tv, store_backoff(&t->backoff));
	evtimer_add(t->retry, &tv);
}

/* The tracking connection is gone (t->ac already NULL). */
static void
track_down(struct store_track *t, const char *msg)
{
	track_end_period(t);
	if (!t->down_logged)
		log_warnx("redis %s: invalidation connection: %s; local "
		    "caches are off until it is back", t->st->conf.text,
		    msg);
	else
		log_debug("redis %s: invalidation connection: %s",
		    t->st->conf.text, msg);
	t->down_logged = 1;
	track_schedule(t);
}

static void
track_drop(struct store_track *t, const char *msg)
{
	redisAsyncContext	*ac = t->ac;

	if (ac == NULL)
		return;
	t->ac = NULL;
	ac->data = NULL;
	track_down(t, msg);
	redisAsyncFree(ac);
}

static void
track_on_hs_fail(struct store_hs *hs, redisAsyncContext *ac,
    const char *msg)
{
	struct store_track	*t = hs->st->track;

	if (t->ac == ac)
		track_drop(t, msg);
}

static void
track_on_hs_ready(struct store_hs *hs, redisAsyncContext *ac)
{
	(void)hs;
	(void)ac;		/* CLIENT ID and SUBSCRIBE follow */
}

static void
track_on_connect(const redisAsyncContext *ac, int status)
{
	struct store_track	*t = ac->data;
	char			 msg[STORE_ERRLEN];

	if (t == NULL || t->ac != ac || status == REDIS_OK)
		return;
	/* hiredis frees the context after this callback. */
	(void)snprintf(msg, sizeof(msg), "cannot connect: %s", ac->errstr);
	t->ac = NULL;
	track_down(t, msg);
}

static void
track_on_disconnect(const redisAsyncContext *ac, int status)
{
	struct store_track	*t = ac->data;
	char			 msg[STORE_ERRLEN];

	if (t == NULL || t->ac != ac)
		return;		/* we dropped it ourselves */
	/* A refused SUBSCRIBE comes here too: hiredis 0.14 takes an error
	 * reply it has no callback for as the end of the connection. */
	(void)snprintf(msg, sizeof(msg), "connection lost%s%s",
	    ac->err ? ": " : "", ac->err ? ac->errstr : "");
	t->ac = NULL;
	track_down(t, msg);
}

static void
track_on_id(redisAsyncContext *ac, void *r, void *arg)
{
	struct store_track	*t = arg;
	redisReply		*reply = r;

	if (reply == NULL || t->ac != ac)
		return;
	if (reply->type == REDIS_REPLY_INTEGER && reply->integer > 0) {
		t->id = reply->integer;
		return;
	}
	track_refused(t, "CLIENT ID", reply->type == REDIS_REPLY_ERROR ?
	    reply->str : "unexpected reply");
}

static void
track_subscribed(struct store_track *t)
{
	struct timeval	tv;

	if (t->state == TRACK_SUBSCRIBED || t->id <= 0)
		return;
	t->state = TRACK_SUBSCRIBED;
	evtimer_del(t->conn_timer);
	(void)timeutil_tv(&tv, STORE_TRACK_HEARTBEAT);
	evtimer_add(t->beat, &tv);
	if (t->st->ac != NULL && t->st->state == STORE_READY)
		track_send(t);
}

/*
 * SUBSCRIBE again: its confirmation comes back through the subscription,
 * after every message Redis sent before it, within redis.command_timeout.
 */
static void
track_probe(struct store_track *t)
{
	struct timeval	tv;

	if (t->ac == NULL || redisAsyncCommand(t->ac, track_on_message, t,
	    "SUBSCRIBE " TRACK_CHANNEL) != REDIS_OK)
		return;		/* closing: its loss is reported */
	if (t->probes++ == 0) {
		(void)timeutil_tv(&tv, t->st->conf.command_timeout);
		evtimer_add(t->conn_timer, &tv);
	}
}

/* A probe came back; the last one may start the period. */
static void
track_on_probe(struct store_track *t)
{
	if (--t->probes > 0)
		return;
	evtimer_del(t->conn_timer);
	if (t->epoch == 0 && t->ok && t->ok_gen == t->gen && t->pending == 0)
		track_start_period(t);
}

static void
track_on_beat(evutil_socket_t fd, short what, void *arg)
{
	struct store_track	*t = arg;

	if (t->state == TRACK_SUBSCRIBED && t->probes == 0)
		track_probe(t);
}

/* The keys of one invalidation message, or -1 if it is not one. */
static int
track_deliver(struct store_track *t, const redisReply *keys)
{
	size_t	i;

	if (keys->type == REDIS_REPLY_NIL) {
		track_restart_period(t);	/* FLUSHDB, FLUSHALL */
		return 0;
	}
	if (keys->type != REDIS_REPLY_ARRAY)
		return -1;
	for (i = 0; i < keys->elements; i++)
		if (keys->element[i]->type != REDIS_REPLY_STRING)
			return -1;
	for (i = 0; i < keys->elements; i++)
		t->inval(t->arg, keys->element[i]->str,
		    keys->element[i]->len);
	return 0;
}

/*
 * Every reply of the subscription: its confirmation, then the messages
 * [message, __redis__:invalidate, keys or nil].  NULL when the context
 * goes away (the disconnect callback reports that).
 */
static void
track_on_message(redisAsyncContext *ac, void *r, void *arg)
{
	struct store_track	*t = arg;
	redisReply		*reply = r;
	const char		*kind;

	if (reply == NULL || ac->data == NULL || t->ac != ac)
		return;
	/* hiredis routes only arrays of two strings or more here */
	kind = reply->element[0]->str;
	if (strcasecmp(kind, "subscribe") == 0 && t->state ==
	    TRACK_CONNECTING)
		track_subscribed(t);
	else if (strcasecmp(kind, "subscribe") == 0 && t->probes > 0)
		track_on_probe(t);
	else if (strcasecmp(kind, "message") != 0 || reply->elements != 3 ||
	    t->state != TRACK_SUBSCRIBED ||
	    track_deliver(t, reply->element[2]) == -1) {
		log_warnx("redis %s: unexpected message on the invalidation "
		    "connection; local caches flushed", t->st->conf.text);
		track_restart_period(t);
	}
}

static void
track_on_retry(evutil_socket_t fd, short what, void *arg)
{
	track_connect(arg);
}

static void
track_on_conn_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct store_track	*t = arg;

	if (t->state != TRACK_SUBSCRIBED)
		track_drop(t, "connect timed out");
	else if (t->probes > 0)
		track_drop(t, "no answer within redis.command_timeout");
}

static void
track_connect(struct store_track *t)
{
	redisAsyncContext	*ac;
	struct timeval		 tv;
	char			 msg[STORE_ERRLEN];

	if (t->st->conf.host == NULL && t->st->conf.unixpath == NULL) {
		track_schedule(t);	/* the sentinels have not answered */
		return;
	}
	if ((ac = store_ac_connect(&t->st->conf, msg, sizeof(msg))) == NULL) {
		track_down(t, msg);
		return;
	}
	ac->data = t;
	t->ac = ac;
	t->addr_gen = t->st->addr_gen;
	t->state = TRACK_CONNECTING;
	t->probes = 0;
	if (track_ev_attach(ac, t->st->base) == -1 ||
	    redisAsyncSetConnectCallback(ac, track_on_connect) != REDIS_OK ||
	    redisAsyncSetDisconnectCallback(ac, track_on_disconnect) !=
	    REDIS_OK || store_handshake(&t->hs, ac) == -1 ||
	    redisAsyncCommand(ac, track_on_id, t, "CLIENT ID") != REDIS_OK ||
	    redisAsyncCommand(ac, track_on_message, t, "SUBSCRIBE "
	    TRACK_CHANNEL) != REDIS_OK) {
		track_drop(t, "cannot set up the connection");
		return;
	}
	(void)timeutil_tv(&tv, t->st->conf.connect_timeout);
	evtimer_add(t->conn_timer, &tv);
}

/* ---- creation ---- */

/* 0 if <prefixes> can be registered together (BCAST refuses overlaps). */
static int
track_check_prefixes(const char *const *prefixes, size_t n)
{
	size_t	i, j;

	if (prefixes == NULL || n == 0 || n > TRACK_MAXPREFIX)
		return -1;
	for (i = 0; i < n; i++)
		if (prefixes[i] == NULL || strlen(prefixes[i]) >= STORE_KEYLEN)
			return -1;
	for (i = 0; i < n; i++)
		for (j = 0; j < n; j++)
			if (i != j && strncmp(prefixes[i], prefixes[j],
			    strlen(prefixes[i])) == 0)
				return -1;
	return 0;
}

/* "CLIENT TRACKING on REDIRECT <id> BCAST PREFIX <p> ...", owned. */
static int
track_build_argv(struct store_track *t, const char *storeprefix,
    const char *const *prefixes, size_t n)
{
	static const char *const head[TRACK_ARGC0] = { "CLIENT", "TRACKING",
	    "on", "REDIRECT", "", "BCAST" };
	size_t	i;
	int	k;

	t->argc = TRACK_ARGC0 + 2 * (int)n;
	if ((t->argv = calloc((size_t)t->argc, sizeof(*t->argv))) == NULL ||
	    (t->argvlen = calloc((size_t)t->argc, sizeof(size_t))) == NULL ||
	    (t->prefixes = calloc(n + 1, sizeof(char *))) == NULL)
		return -1;
	for (k = 0; k < TRACK_ARGC0; k++) {
		t->argv[k] = head[k];
		t->argvlen[k] = strlen(head[k]);
	}
	t->argv[4] = t->idtext;
	for (i = 0; i < n; i++, k += 2) {
		if (asprintf(&t->prefixes[i], "%s%s", storeprefix,
		    prefixes[i]) == -1) {
			t->prefixes[i] = NULL;
			return -1;
		}
		t->argv[k] = "PREFIX";
		t->argvlen[k] = 6;
		t->argv[k + 1] = t->prefixes[i];
		t->argvlen[k + 1] = strlen(t->prefixes[i]);
	}
	return 0;
}

int
store_track(struct store *st, const char *const *prefixes, size_t nprefixes,
    store_inval_cb inval, store_reset_cb reset, void *arg)
{
	struct store_track	*t;

	if (st == NULL || st->track != NULL || inval == NULL || reset ==
	    NULL || track_check_prefixes(prefixes, nprefixes) == -1)
		return -1;
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return -1;
	t->st = st;
	t->hs.st = st;
	t->hs.name = "postern-track";
	t->hs.fail = track_on_hs_fail;
	t->hs.ready = track_on_hs_ready;
	t->backoff = STORE_BACKOFF_MIN;
	t->id = -1;
	t->inval = inval;
	t->reset = reset;
	t->arg = arg;
	if (track_build_argv(t, st->conf.prefix, prefixes, nprefixes) == -1 ||
	    (t->retry = evtimer_new(st->base, track_on_retry, t)) == NULL ||
	    (t->conn_timer = evtimer_new(st->base, track_on_conn_timeout, t))
	    == NULL || (t->beat = event_new(st->base, -1, EV_PERSIST,
	    track_on_beat, t)) == NULL) {
		store_track_free(t);
		return -1;
	}
	st->track = t;
	track_connect(t);
	return 0;
}

uint64_t
store_track_epoch(const struct store *st)
{
	return st == NULL || st->track == NULL ? 0 : st->track->epoch;
}

void
store_track_free(struct store_track *t)
{
	redisAsyncContext	*ac;
	size_t			 i;

	if (t == NULL)
		return;
	if ((ac = t->ac) != NULL) {
		t->ac = NULL;
		ac->data = NULL;	/* no callback of ours from here */
		redisAsyncFree(ac);
	}
	if (t->retry != NULL)
		event_free(t->retry);
	if (t->conn_timer != NULL)
		event_free(t->conn_timer);
	if (t->beat != NULL)
		event_free(t->beat);
	for (i = 0; t->prefixes != NULL && t->prefixes[i] != NULL; i++)
		free(t->prefixes[i]);
	free(t->prefixes);
	free(t->argv);
	free(t->argvlen);
	free(t);
}
