/*
 * Redis Sentinel (store.h: the sentinels of struct store_settings): which
 * server is the primary, asked again before every connection of a store,
 * and the +switch-master subscription that tells a store its primary
 * moved.  The command-line tools ask synchronously.
 *
 * A question (struct store_disc) goes to one sentinel at a time, from the
 * one that answered last, each bounded by redis.connect_timeout: connect,
 * AUTH with redis.sentinel_password_file if set, SENTINEL
 * get-master-addr-by-name <master_name>.  An error, no answer, an unknown
 * master: the next sentinel; none left: store_disc_failed(), and the
 * store tries again after its backoff.  The answer is not trusted alone:
 * the store's handshake ends with ROLE on the server named, which must say
 * master (storeasync.c), else the store drops it and asks again.
 *
 * The watch (struct store_watch) is one more connection, to one sentinel,
 * SUBSCRIBEd to +switch-master ("<name> <old ip> <old port> <new ip> <new
 * port>").  A switch of the store's master to another address than the
 * one it uses drops the store's connection (store_switched()), which then
 * asks the sentinels again.  A lost watch moves on to the next sentinel
 * after a backoff; meanwhile a switch is still noticed when the old
 * primary closes the connection (a sentinel reconfiguring a server kills
 * its clients), answers READONLY, or fails ROLE.
 */

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <hiredis/async.h>
#include <hiredis/adapters/libevent.h>

#include "log.h"
#include "store.h"
#include "store-int.h"
#include "timeutil.h"

#define SENTINEL_CHANNEL	"+switch-master"

/* A question to the sentinels; owned by its store (st->disc). */
struct store_disc {
	struct store		*st;
	redisAsyncContext	*ac;	/* the sentinel being asked, or NULL */
	struct event		*timer;	/* connect_timeout for each */
	size_t			 idx;	/* the one being asked */
	size_t			 tried;	/* in this question */
	char			 last[STORE_ERRLEN];	/* its last failure */
};

/* The +switch-master subscription; owned by its store (st->watch). */
struct store_watch {
	struct store		*st;
	redisAsyncContext	*ac;	/* NULL while waiting */
	struct event		*retry;
	unsigned int		 backoff;
	size_t			 idx;	/* the sentinel subscribed to */
	int			 down_logged;
};

static void	disc_ask(struct store_disc *);
static void	watch_connect(struct store_watch *);

int
store_role_master(const redisReply *reply)
{
	return reply != NULL && reply->type == REDIS_REPLY_ARRAY &&
	    reply->elements >= 1 && reply->element[0]->type ==
	    REDIS_REPLY_STRING && strcmp(reply->element[0]->str, "master") ==
	    0;
}

/* AUTH [username] password, if the sentinels want one. */
static int
sentinel_auth(redisAsyncContext *ac, const struct store_sentinels *sn,
    redisCallbackFn *fn, void *arg)
{
	const char	*argv[3];
	size_t		 lens[3];
	int		 argc = 0;

	if (sn->password == NULL)
		return 0;
	argv[argc] = "AUTH";
	lens[argc++] = 4;
	if (sn->username != NULL) {
		argv[argc] = sn->username;
		lens[argc++] = strlen(sn->username);
	}
	argv[argc] = sn->password;
	lens[argc++] = sn->passwordlen;
	return redisAsyncCommandArgv(ac, fn, arg, argc, argv, lens) ==
	    REDIS_OK ? 0 : -1;
}

/* A context to sentinel <i> of <st> on its loop, with <data>; or NULL. */
static redisAsyncContext *
sentinel_connect(struct store *st, size_t i, void *data,
    redisConnectCallback *onconn, redisDisconnectCallback *ondisc)
{
	const struct store_sentinels	*sn = st->conf.sentinels;
	redisAsyncContext		*ac;

	if ((ac = redisAsyncConnect(sn->host[i], sn->port[i])) == NULL)
		return NULL;
	if (ac->err) {
		redisAsyncFree(ac);
		return NULL;
	}
	if (redisLibeventAttach(ac, st->base) != REDIS_OK ||
	    redisAsyncSetConnectCallback(ac, onconn) != REDIS_OK ||
	    redisAsyncSetDisconnectCallback(ac, ondisc) != REDIS_OK) {
		redisAsyncFree(ac);
		return NULL;
	}
	ac->data = data;
	return ac;
}

/* ---- the question ---- */

/* Close the connection to the sentinel being asked. */
static void
disc_close(struct store_disc *d)
{
	evtimer_del(d->timer);
	store_ac_close(&d->ac);
}

/* The sentinel being asked failed with <why>: ask the next one. */
static void
disc_next(struct store_disc *d, const char *why)
{
	const struct store_sentinels	*sn = d->st->conf.sentinels;

	/* bounded: a long host or reason is cut, never the format */
	(void)snprintf(d->last, sizeof(d->last), "sentinel %.64s:%d: %.160s",
	    sn->host[d->idx], sn->port[d->idx], why);
	log_debug("redis %s: %s", d->st->conf.text, d->last);
	disc_close(d);
	d->idx = (d->idx + 1) % sn->n;
	disc_ask(d);
}

static void
disc_on_connect(const redisAsyncContext *ac, int status)
{
	struct store_disc	*d = ac->data;
	char			 why[STORE_ERRLEN];

	if (d == NULL || d->ac != ac || status == REDIS_OK)
		return;
	(void)snprintf(why, sizeof(why), "cannot connect: %s", ac->errstr);
	d->ac = NULL;		/* hiredis frees it */
	disc_next(d, why);
}

static void
disc_on_disconnect(const redisAsyncContext *ac, int status)
{
	struct store_disc	*d = ac->data;

	if (d == NULL || d->ac != ac)
		return;
	d->ac = NULL;
	disc_next(d, "connection lost");
}

static void
disc_on_timeout(evutil_socket_t fd, short ev, void *arg)
{
	disc_next(arg, "no answer within redis.connect_timeout");
}

static void
disc_on_auth(redisAsyncContext *ac, void *r, void *arg)
{
	struct store_disc	*d = arg;
	const redisReply	*reply = r;

	if (reply != NULL && d->ac == ac && reply->type == REDIS_REPLY_ERROR)
		disc_next(d, "refused redis.sentinel_password_file");
}

/* An answer ["ip", "port"], nil for an unknown master, or an error. */
static void
disc_on_addr(redisAsyncContext *ac, void *r, void *arg)
{
	struct store_disc	*d = arg;
	struct store		*st = d->st;
	const redisReply	*reply = r;
	char			 host[64];
	long			 port;

	if (reply == NULL || d->ac != ac)
		return;
	if (reply->type == REDIS_REPLY_ERROR) {
		disc_next(d, reply->str);
		return;
	}
	if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 2 ||
	    reply->element[0]->type != REDIS_REPLY_STRING ||
	    reply->element[1]->type != REDIS_REPLY_STRING ||
	    reply->element[0]->len >= sizeof(host) ||
	    (port = strtol(reply->element[1]->str, NULL, 10)) < 1 ||
	    port > 65535) {
		disc_next(d, "does not know redis.master_name");
		return;
	}
	memcpy(host, reply->element[0]->str, reply->element[0]->len + 1);
	st->conf.sentinels->first = d->idx;
	disc_close(d);
	if (store_conf_primary(&st->conf, host, (int)port))
		st->addr_gen++;
	store_connect_primary(st);
}

static void
disc_ask(struct store_disc *d)
{
	struct store			*st = d->st;
	const struct store_sentinels	*sn = st->conf.sentinels;
	redisAsyncContext		*ac;
	struct timeval			 tv;
	char				 msg[STORE_ERRLEN];

	if (d->tried++ == sn->n) {
		(void)snprintf(msg, sizeof(msg), "no sentinel named the "
		    "primary (last: %.200s)", d->last);
		store_disc_failed(st, msg);
		return;
	}
	if ((ac = sentinel_connect(st, d->idx, d, disc_on_connect,
	    disc_on_disconnect)) == NULL) {
		disc_next(d, "cannot connect");
		return;
	}
	d->ac = ac;
	if (sentinel_auth(ac, sn, disc_on_auth, d) == -1 ||
	    redisAsyncCommand(ac, disc_on_addr, d, "SENTINEL "
	    "get-master-addr-by-name %s", sn->master_name) != REDIS_OK) {
		disc_next(d, "cannot send the question");
		return;
	}
	(void)timeutil_tv(&tv, st->conf.connect_timeout);
	evtimer_add(d->timer, &tv);
}

void
store_disc_start(struct store *st)
{
	struct store_disc	*d = st->disc;

	if (d == NULL) {
		if ((d = calloc(1, sizeof(*d))) == NULL ||
		    (d->timer = evtimer_new(st->base, disc_on_timeout, d)) ==
		    NULL)
			fatal("%s", __func__);
		d->st = st;
		st->disc = d;
	}
	disc_close(d);
	d->tried = 0;
	d->idx = st->conf.sentinels->first;
	d->last[0] = '\0';
	disc_ask(d);
}

void
store_disc_free(struct store *st)
{
	struct store_disc	*d = st->disc;

	if (d == NULL)
		return;
	disc_close(d);		/* its callbacks see d->ac != ac */
	event_free(d->timer);
	free(d);
	st->disc = NULL;
}

/* ---- the watch ---- */

static void
watch_down(struct store_watch *w, const char *why)
{
	const struct store_sentinels	*sn = w->st->conf.sentinels;
	struct timeval			 tv;

	if (!w->down_logged)
		log_warnx("redis %s: sentinel %s:%d: %s; a failover is noticed "
		    "by its effects until a sentinel is back",
		    w->st->conf.text, sn->host[w->idx], sn->port[w->idx],
		    why);
	w->down_logged = 1;
	w->idx = (w->idx + 1) % sn->n;
	(void)timeutil_tv(&tv, store_backoff(&w->backoff));
	evtimer_add(w->retry, &tv);
}

static void
watch_drop(struct store_watch *w, const char *why)
{
	redisAsyncContext	*ac = w->ac;

	if (ac == NULL)
		return;
	w->ac = NULL;
	ac->data = NULL;
	watch_down(w, why);
	redisAsyncFree(ac);
}

static void
watch_on_connect(const redisAsyncContext *ac, int status)
{
	struct store_watch	*w = ac->data;

	if (w == NULL || w->ac != ac || status == REDIS_OK)
		return;
	w->ac = NULL;
	watch_down(w, "cannot connect");
}

static void
watch_on_disconnect(const redisAsyncContext *ac, int status)
{
	struct store_watch	*w = ac->data;

	if (w == NULL || w->ac != ac)
		return;
	w->ac = NULL;
	watch_down(w, "subscription lost");
}

static void
watch_on_auth(redisAsyncContext *ac, void *r, void *arg)
{
	struct store_watch	*w = arg;
	const redisReply	*reply = r;

	if (reply != NULL && w->ac == ac && reply->type == REDIS_REPLY_ERROR)
		watch_drop(w, "refused redis.sentinel_password_file");
}

/* "<name> <old ip> <old port> <new ip> <new port>" */
static void
watch_switch(struct store_watch *w, const char *msg, size_t len)
{
	struct store	*st = w->st;
	char		 buf[512], name[256], oip[64], nip[64], why[STORE_ERRLEN];
	int		 oport, nport;

	if (len >= sizeof(buf))
		return;
	memcpy(buf, msg, len);
	buf[len] = '\0';
	if (sscanf(buf, "%255s %63s %d %63s %d", name, oip, &oport, nip,
	    &nport) != 5 || strcmp(name, st->conf.sentinels->master_name) != 0)
		return;
	if (st->conf.host != NULL && strcmp(st->conf.host, nip) == 0 &&
	    st->conf.port == nport)
		return;		/* already there */
	(void)snprintf(why, sizeof(why), "sentinel: the primary moved to "
	    "%s:%d", nip, nport);
	store_switched(st, why);
}

static void
watch_on_message(redisAsyncContext *ac, void *r, void *arg)
{
	struct store_watch	*w = arg;
	const redisReply	*msg;

	if (w->ac != ac)
		return;
	switch (store_pubsub(r, &msg)) {
	case STORE_PUB_SUBSCRIBED:
		if (w->down_logged)
			log_info("redis %s: sentinel subscription restored",
			    w->st->conf.text);
		w->down_logged = 0;
		w->backoff = STORE_BACKOFF_MIN;
		break;
	case STORE_PUB_MESSAGE:
		watch_switch(w, msg->str, msg->len);
		break;
	default:
		break;
	}
}

static void
watch_connect(struct store_watch *w)
{
	const struct store_sentinels	*sn = w->st->conf.sentinels;
	redisAsyncContext		*ac;

	if ((ac = sentinel_connect(w->st, w->idx, w, watch_on_connect,
	    watch_on_disconnect)) == NULL) {
		watch_down(w, "cannot connect");
		return;
	}
	w->ac = ac;
	if (sentinel_auth(ac, sn, watch_on_auth, w) == -1 ||
	    redisAsyncCommand(ac, watch_on_message, w, "SUBSCRIBE "
	    SENTINEL_CHANNEL) != REDIS_OK)
		watch_drop(w, "cannot subscribe");
}

static void
watch_on_retry(evutil_socket_t fd, short ev, void *arg)
{
	watch_connect(arg);
}

struct store_watch *
store_watch_new(struct store *st)
{
	struct store_watch	*w;

	if ((w = calloc(1, sizeof(*w))) == NULL ||
	    (w->retry = evtimer_new(st->base, watch_on_retry, w)) == NULL)
		fatal("%s", __func__);
	w->st = st;
	w->backoff = STORE_BACKOFF_MIN;
	w->idx = st->conf.sentinels->first;
	watch_connect(w);
	return w;
}

void
store_watch_free(struct store_watch *w)
{
	if (w == NULL)
		return;
	store_ac_close(&w->ac);
	event_free(w->retry);
	free(w);
}

/* ---- synchronous, for the command-line tools ---- */

/* Ask sentinel <i>; 0 with the primary set in <sc>, or -1 and <why>. */
static int
sentinel_ask_sync(struct store_conf *sc, size_t i, char *why, size_t len)
{
	struct store_sentinels	*sn = sc->sentinels;
	redisContext		*c;
	redisReply		*r = NULL;
	struct timeval		 tv;
	int			 rc = -1;

	(void)timeutil_tv(&tv, sc->connect_timeout);
	if ((c = redisConnectWithTimeout(sn->host[i], sn->port[i], tv)) ==
	    NULL || c->err) {
		(void)snprintf(why, len, "cannot connect: %s", c != NULL ?
		    c->errstr : "out of memory");
		goto out;
	}
	(void)timeutil_tv(&tv, sc->command_timeout);
	(void)redisSetTimeout(c, tv);
	if (sn->password != NULL) {
		r = sn->username != NULL ? redisCommand(c, "AUTH %s %b",
		    sn->username, sn->password, sn->passwordlen) :
		    redisCommand(c, "AUTH %b", sn->password, sn->passwordlen);
		if (r == NULL || r->type == REDIS_REPLY_ERROR) {
			(void)snprintf(why, len, "refused "
			    "redis.sentinel_password_file");
			goto out;
		}
		freeReplyObject(r);
	}
	r = redisCommand(c, "SENTINEL get-master-addr-by-name %s",
	    sn->master_name);
	if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
	    r->element[0]->type != REDIS_REPLY_STRING ||
	    r->element[1]->type != REDIS_REPLY_STRING) {
		(void)snprintf(why, len, "%s", r == NULL ? c->errstr :
		    r->type == REDIS_REPLY_ERROR ? r->str :
		    "does not know redis.master_name");
		goto out;
	}
	(void)store_conf_primary(sc, r->element[0]->str,
	    atoi(r->element[1]->str));
	sn->first = i;
	rc = 0;
out:
	if (r != NULL)
		freeReplyObject(r);
	if (c != NULL)
		redisFree(c);
	return rc;
}

int
store_sentinel_sync(struct store_conf *sc, char *err, size_t errlen)
{
	struct store_sentinels	*sn = sc->sentinels;
	char			 why[STORE_ERRLEN] = "";
	size_t			 k, i = 0;

	for (k = 0; k < sn->n; k++) {
		i = (sn->first + k) % sn->n;
		if (sentinel_ask_sync(sc, i, why, sizeof(why)) == 0)
			return 0;
	}
	(void)snprintf(err, errlen, "redis: no sentinel named the primary of "
	    "%s (last, %s:%d: %s)", sn->master_name, sn->host[i], sn->port[i],
	    why);
	return -1;
}
