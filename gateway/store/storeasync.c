/*
 * Redis connections (see store.h): the per-worker asynchronous store with
 * its connection state machine (connect, handshake, ready, backoff), the
 * per-command timeout, the Lua script runner, and the synchronous variant
 * used by the command-line tools.  Settings are copied from the ones given
 * at creation; the password is wiped when the store is freed.
 *
 * Connection states:
 *   STORE_WAITING     no context; st->retry fires after the backoff delay
 *   STORE_CONNECTING  context made, PING/AUTH/CLIENT SETNAME/SELECT sent
 *                     (hiredis queues them until the socket connects);
 *                     st->conn_timer bounds connect + handshake by
 *                     redis.connect_timeout
 *   STORE_READY       SELECT answered: healthy
 * Any failure (connect error, refused AUTH, lost connection, a command
 * timeout) goes through store_drop(), which frees the context (every
 * pending callback then runs with an error) and schedules a retry.  The
 * handshake, the connect and the backoff serve storetrack.c's connection
 * too; becoming ready and being lost are reported to it.
 *
 * With sentinels (storesentinel.c) each attempt first asks them for the
 * primary (still STORE_CONNECTING, with no context: commands fail at
 * once), and the handshake ends with ROLE, which must say master.  A
 * READONLY error, a ROLE that is not master and a +switch-master away
 * from the current primary drop the connection like any failure; a
 * primary that changed drops the tracking connection too (storetrack.c),
 * and is logged once, old -> new.
 */

#include <errno.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <hiredis/async.h>
#include <hiredis/adapters/libevent.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "log.h"
#include "metrics.h"
#include "store.h"
#include "store-int.h"
#include "timeutil.h"

/*
 * One command in flight; owned by its hiredis callback (store_on_reply),
 * which runs exactly once per hiredis command, with NULL if the context
 * went away.  A script command keeps its arguments for the EVAL retry.
 */
struct store_cmd {
	struct store		*st;
	store_cb		 cb;
	void			*arg;
	struct event		*timer;		/* command_timeout */
	int			 timedout;
	int			 retried;	/* EVAL sent after NOSCRIPT */
	uint64_t		 sent_us;	/* timeutil_mono_us() */
	struct store_script	*script;	/* NULL for plain commands */
	int			 argc;		/* script: "EVALSHA" sha n ... */
	char			**argv;
	size_t			*argvlen;
};

static void	store_connect(struct store *);
static void	store_drop(struct store *, const char *reason);
static void	store_on_message(redisAsyncContext *, void *, void *);

static atomic_uint_fast64_t	store_failovers;	/* switches seen */

/* ---- asynchronous: connection state machine ---- */

uint32_t
store_backoff(unsigned int *backoff)
{
	uint32_t	r = 0, delay;

	(void)RAND_bytes((unsigned char *)&r, sizeof(r));
	/* "Equal jitter": half fixed, half random, so that workers and
	 * gateway instances do not reconnect in lockstep. */
	delay = *backoff / 2 + r % (*backoff / 2 + 1);
	*backoff = *backoff * 2 > STORE_BACKOFF_MAX ? STORE_BACKOFF_MAX :
	    *backoff * 2;
	return delay;
}

/* Schedule the next connection attempt: backoff with jitter, capped. */
static void
store_schedule(struct store *st)
{
	struct timeval	tv;
	uint32_t	delay;

	st->state = STORE_WAITING;
	atomic_store(&st->healthy, 0);
	delay = store_backoff(&st->backoff);
	(void)timeutil_tv(&tv, delay);
	evtimer_del(st->conn_timer);
	evtimer_add(st->retry, &tv);
	log_debug("%s: redis: next attempt in %" PRIu32 " ms", __func__,
	    delay);
}

static void
store_report_down(struct store *st, const char *reason)
{
	if (st->down_logged) {
		log_debug("redis %s: %s", st->conf.text, reason);
		return;
	}
	st->down_logged = 1;
	log_warnx("redis %s: %s; protected routes answer 503 until it is "
	    "back", st->conf.text, reason);
}

static void
store_drop(struct store *st, const char *reason)
{
	redisAsyncContext *ac = st->ac;

	if (ac == NULL)
		return;
	st->ac = NULL;		/* callers see "unavailable" from now on */
	ac->data = NULL;
	store_track_cmd_lost(st);
	store_report_down(st, reason);
	store_schedule(st);
	/* Runs every pending callback with NULL (or, from within a hiredis
	 * callback, once it returns). */
	redisAsyncFree(ac);
}

static void
store_on_retry(evutil_socket_t fd, short ev, void *arg)
{
	store_connect(arg);
}

static void
store_on_conn_timeout(evutil_socket_t fd, short ev, void *arg)
{
	struct store	*st = arg;

	if (st->state != STORE_READY)
		store_drop(st, "connect timed out");
}

static void
store_on_connect(const redisAsyncContext *ac, int status)
{
	struct store	*st = ac->data;
	char		 msg[STORE_ERRLEN];

	if (st == NULL || st->ac != ac || status == REDIS_OK)
		return;
	/* hiredis frees the context after this callback. */
	(void)snprintf(msg, sizeof(msg), "cannot connect: %s", ac->errstr);
	st->ac = NULL;
	store_track_cmd_lost(st);
	store_report_down(st, msg);
	store_schedule(st);
}

static void
store_on_disconnect(const redisAsyncContext *ac, int status)
{
	struct store	*st = ac->data;
	char		 msg[STORE_ERRLEN];

	if (st == NULL || st->ac != ac)
		return;		/* we dropped it ourselves */
	(void)snprintf(msg, sizeof(msg), "connection lost%s%s",
	    ac->err ? ": " : "", ac->err ? ac->errstr : "");
	st->ac = NULL;
	store_track_cmd_lost(st);
	store_report_down(st, msg);
	store_schedule(st);
}

static void
store_on_probe(redisAsyncContext *ac, void *r, void *arg)
{
	struct store_hs	*hs = arg;
	redisReply	*reply = r;

	if (reply != NULL && reply->type == REDIS_REPLY_STATUS)
		store_warn_unauthenticated(hs->st->conf.text);
}

static void
store_on_auth(redisAsyncContext *ac, void *r, void *arg)
{
	struct store_hs	*hs = arg;
	redisReply	*reply = r;
	char		 msg[STORE_ERRLEN];

	if (reply == NULL || reply->type != REDIS_REPLY_ERROR)
		return;
	(void)snprintf(msg, sizeof(msg), "authentication refused (check "
	    "redis.username and redis.password_file): %.120s", reply->str);
	hs->fail(hs, ac, msg);
}

/*
 * A subscriber's replies: the confirmation of SUBSCRIBE (each time the
 * connection is made again: messages may have been missed meanwhile) and
 * then every message.  NULL when the context goes.
 */
static void
store_on_message(redisAsyncContext *ac, void *r, void *arg)
{
	struct store		*st = arg;
	const redisReply	*msg;

	if (st->ac != ac)
		return;
	switch (store_pubsub(r, &msg)) {
	case STORE_PUB_SUBSCRIBED:
		st->on_message(st->msg_arg, NULL, 0);
		break;
	case STORE_PUB_MESSAGE:
		st->on_message(st->msg_arg, msg->str, msg->len);
		break;
	default:
		break;
	}
}

int
store_pubsub(const redisReply *reply, const redisReply **msg)
{
	const redisReply	*kind;

	if (reply == NULL || reply->type != REDIS_REPLY_ARRAY ||
	    reply->elements != 3)
		return 0;
	kind = reply->element[0];
	*msg = reply->element[2];
	if (kind->type != REDIS_REPLY_STRING)
		return 0;
	if (strcmp(kind->str, "subscribe") == 0)
		return STORE_PUB_SUBSCRIBED;
	if (strcmp(kind->str, "message") == 0 &&
	    (*msg)->type == REDIS_REPLY_STRING)
		return STORE_PUB_MESSAGE;
	return 0;
}

static void
store_on_select(redisAsyncContext *ac, void *r, void *arg)
{
	struct store_hs	*hs = arg;
	redisReply	*reply = r;
	char		 msg[STORE_ERRLEN];

	if (reply == NULL)
		return;
	if (reply->type == REDIS_REPLY_ERROR) {
		(void)snprintf(msg, sizeof(msg), "SELECT %u refused: %.120s",
		    hs->st->conf.db, reply->str);
		hs->fail(hs, ac, msg);
		return;
	}
	if (hs->st->conf.sentinels == NULL)
		hs->ready(hs, ac);	/* else ROLE decides */
}

/* With sentinels: the server they named must say it is the master. */
static void
store_on_role(redisAsyncContext *ac, void *r, void *arg)
{
	struct store_hs		*hs = arg;
	struct store_sentinels	*sn = hs->st->conf.sentinels;
	redisReply		*reply = r;

	if (reply == NULL)
		return;
	if (store_role_master(reply)) {
		hs->ready(hs, ac);
		return;
	}
	sn->first = (sn->first + 1) % sn->n;	/* ask another next time */
	hs->fail(hs, ac, reply->type == REDIS_REPLY_ERROR ? "ROLE refused "
	    "(an ACL must allow it with sentinels)" : "not the primary (ROLE)");
}

/*
 * Queue the handshake: probe, AUTH, CLIENT SETNAME, SELECT.  The name
 * lets an operator (and the tests) tell the gateway's connections apart
 * in CLIENT LIST; a refusal of it (an ACL without CLIENT) is ignored.
 */
int
store_handshake(struct store_hs *hs, redisAsyncContext *ac)
{
	const struct store_conf	*conf = &hs->st->conf;
	const char		*argv[3];
	size_t			 lens[3];
	int			 argc = 0;

	if (redisAsyncCommand(ac, store_on_probe, hs, "PING") != REDIS_OK)
		return -1;
	if (conf->password != NULL) {
		argv[argc] = "AUTH";
		lens[argc++] = 4;
		if (conf->username != NULL) {
			argv[argc] = conf->username;
			lens[argc] = strlen(conf->username);
			argc++;
		}
		argv[argc] = conf->password;
		lens[argc++] = conf->passwordlen;
		if (redisAsyncCommandArgv(ac, store_on_auth, hs, argc, argv,
		    lens) != REDIS_OK)
			return -1;
	}
	if (redisAsyncCommand(ac, NULL, NULL, "CLIENT SETNAME %s", hs->name)
	    != REDIS_OK || redisAsyncCommand(ac, store_on_select, hs,
	    "SELECT %u", conf->db) != REDIS_OK)
		return -1;
	if (conf->sentinels != NULL && redisAsyncCommand(ac, store_on_role,
	    hs, "ROLE") != REDIS_OK)
		return -1;
	return 0;
}

/* Log a change of primary once, old -> new. */
static void
store_primary_ready(struct store *st)
{
	if (st->ever_ready && st->ready_gen != st->addr_gen) {
		log_warnx("redis: the primary of %s changed: %s -> %s:%d",
		    st->conf.sentinels->master_name, st->primary,
		    st->conf.host, st->conf.port);
		atomic_fetch_add(&store_failovers, 1);
	}
	st->ready_gen = st->addr_gen;
	(void)snprintf(st->primary, sizeof(st->primary), "%s:%d",
	    st->conf.host, st->conf.port);
}

static void
store_on_hs_fail(struct store_hs *hs, redisAsyncContext *ac,
    const char *reason)
{
	if (hs->st->ac == ac)
		store_drop(hs->st, reason);
}

static void
store_on_ready(struct store_hs *hs, redisAsyncContext *ac)
{
	struct store	*st = hs->st;

	if (st->ac != ac)
		return;
	evtimer_del(st->conn_timer);
	st->state = STORE_READY;
	st->backoff = STORE_BACKOFF_MIN;
	if (st->conf.sentinels != NULL)
		store_primary_ready(st);
	atomic_store(&st->healthy, 1);
	if (st->ever_ready && st->metrics != NULL)
		metrics_inc(&st->metrics->redis_reconnects);
	if (st->down_logged || !st->ever_ready)
		log_info("redis %s: %s", st->conf.text, st->ever_ready ?
		    "connection restored" : "connected");
	st->down_logged = 0;
	st->ever_ready = 1;
	store_track_cmd_ready(st);
	if (st->channel != NULL && redisAsyncCommand(ac, store_on_message,
	    st, "SUBSCRIBE %s", st->channel) != REDIS_OK)
		store_drop(st, "cannot subscribe");
	if (st->state == STORE_READY && st->ready_cb != NULL)
		st->ready_cb(st->ready_arg);
}

void
store_ac_close(redisAsyncContext **acp)
{
	redisAsyncContext	*ac = *acp;

	if (ac == NULL)
		return;
	*acp = NULL;
	ac->data = NULL;
	redisAsyncFree(ac);
}

redisAsyncContext *
store_ac_connect(const struct store_conf *conf, char *msg, size_t msglen)
{
	redisAsyncContext	*ac;

	if (conf->unixpath == NULL && conf->host == NULL) {
		(void)snprintf(msg, msglen, "no primary named yet");
		return NULL;
	}
	if (conf->unixpath != NULL)
		ac = redisAsyncConnectUnix(conf->unixpath);
	else
		ac = redisAsyncConnect(conf->host, conf->port);
	if (ac == NULL || ac->err) {
		(void)snprintf(msg, msglen, "cannot connect: %s",
		    ac != NULL ? ac->errstr : "out of memory");
		if (ac != NULL)
			redisAsyncFree(ac);
		return NULL;
	}
	return ac;
}

void
store_connect_primary(struct store *st)
{
	redisAsyncContext	*ac;
	struct timeval		 tv;
	char			 msg[STORE_ERRLEN];

	if ((ac = store_ac_connect(&st->conf, msg, sizeof(msg))) == NULL) {
		store_report_down(st, msg);
		store_schedule(st);
		return;
	}
	ac->data = st;
	st->ac = ac;
	st->state = STORE_CONNECTING;
	if (redisLibeventAttach(ac, st->base) != REDIS_OK ||
	    redisAsyncSetConnectCallback(ac, store_on_connect) != REDIS_OK ||
	    redisAsyncSetDisconnectCallback(ac, store_on_disconnect) !=
	    REDIS_OK || store_handshake(&st->hs, ac) == -1) {
		store_drop(st, "cannot set up the connection");
		return;
	}
	(void)timeutil_tv(&tv, st->conf.connect_timeout);
	evtimer_add(st->conn_timer, &tv);
}

static void
store_connect(struct store *st)
{
	if (st->conf.sentinels == NULL) {
		store_connect_primary(st);
		return;
	}
	st->state = STORE_CONNECTING;	/* no context: unavailable */
	store_disc_start(st);
}

void
store_disc_failed(struct store *st, const char *reason)
{
	store_report_down(st, reason);
	store_schedule(st);
}

/*
 * The sentinels moved the primary: drop the connection, or, between
 * attempts, try the new one now rather than after the backoff.
 */
void
store_switched(struct store *st, const char *reason)
{
	if (st->ac != NULL) {
		store_drop(st, reason);
		return;
	}
	if (st->state != STORE_WAITING)
		return;		/* asking the sentinels already */
	log_debug("redis %s: %s", st->conf.text, reason);
	evtimer_del(st->retry);
	store_connect(st);
}

struct store *
store_new(struct event_base *base, const struct store_settings *set,
    char *err, size_t errlen)
{
	struct store	*st;

	if ((st = calloc(1, sizeof(*st))) == NULL)
		fatal("%s", __func__);
	if (store_conf_init(&st->conf, set, err, errlen) == -1) {
		free(st);
		return NULL;
	}
	st->base = base;
	st->backoff = STORE_BACKOFF_MIN;
	st->hs.st = st;
	st->hs.name = "postern";
	st->hs.fail = store_on_hs_fail;
	st->hs.ready = store_on_ready;
	if ((st->retry = evtimer_new(base, store_on_retry, st)) == NULL ||
	    (st->conn_timer = evtimer_new(base, store_on_conn_timeout, st)) ==
	    NULL) {
		(void)snprintf(err, errlen, "redis: out of memory");
		store_free(st);
		return NULL;
	}
	if (st->conf.sentinels != NULL)
		st->watch = store_watch_new(st);
	store_connect(st);
	return st;
}

void
store_free(struct store *st)
{
	if (st == NULL)
		return;
	store_ac_close(&st->ac);	/* pending callbacks get errors */
	store_disc_free(st);
	store_watch_free(st->watch);
	store_track_free(st->track);	/* after: its replies were pending */
	if (st->retry != NULL)
		event_free(st->retry);
	if (st->conn_timer != NULL)
		event_free(st->conn_timer);
	store_conf_free(&st->conf);
	free(st->channel);
	free(st);
}

int
store_subscribe(struct store *st, const char *channel, store_message_cb cb,
    void *arg)
{
	if (st->channel != NULL || (st->channel = strdup(channel)) == NULL)
		return -1;
	st->on_message = cb;
	st->msg_arg = arg;
	if (st->state == STORE_READY && st->ac != NULL &&
	    redisAsyncCommand(st->ac, store_on_message, st, "SUBSCRIBE %s",
	    st->channel) != REDIS_OK)
		store_drop(st, "cannot subscribe");
	return 0;
}

void
store_set_ready_cb(struct store *st, store_ready_cb cb, void *arg)
{
	st->ready_cb = cb;
	st->ready_arg = arg;
}

uint64_t
store_failovers_total(void)
{
	return atomic_load(&store_failovers);
}

void
store_count_into(struct store *st, struct metrics *m)
{
	st->metrics = m;
}

int
store_healthy(const struct store *st)
{
	return st != NULL && atomic_load(&st->healthy);
}

const char *
store_prefix(const struct store *st)
{
	return st->conf.prefix;
}

/* ---- asynchronous: commands ---- */

static void
store_cmd_free(struct store_cmd *cmd)
{
	int	i;

	if (cmd->timer != NULL)
		event_free(cmd->timer);
	for (i = 0; i < cmd->argc; i++)
		free(cmd->argv[i]);
	free(cmd->argv);
	free(cmd->argvlen);
	free(cmd);
}

/* The EVAL fallback: same arguments with the source for the digest. */
static int
store_cmd_eval(redisAsyncContext *ac, struct store_cmd *cmd,
    redisCallbackFn *fn)
{
	const char	*src = cmd->script->source;
	char		*sha = cmd->argv[1];
	size_t		 shalen = cmd->argvlen[1];
	int		 rc;

	free(cmd->argv[0]);
	if ((cmd->argv[0] = strdup("EVAL")) == NULL)
		fatal("%s", __func__);
	cmd->argvlen[0] = 4;
	cmd->retried = 1;
	cmd->argv[1] = (char *)(uintptr_t)src;
	cmd->argvlen[1] = strlen(src);
	rc = redisAsyncCommandArgv(ac, fn, cmd, cmd->argc,
	    (const char **)(void *)cmd->argv, cmd->argvlen);
	cmd->argv[1] = sha;
	cmd->argvlen[1] = shalen;
	return rc == REDIS_OK ? 0 : -1;
}

static void
store_on_reply(redisAsyncContext *ac, void *r, void *arg)
{
	struct store_cmd	*cmd = arg;	/* owned by this callback */
	redisReply		*reply = r;	/* NULL: context gone */
	const char		*err = NULL;

	if (reply == NULL)
		err = cmd->timedout ? "redis command timed out" :
		    "redis connection lost";
	else if (reply->type == REDIS_REPLY_ERROR) {
		if (cmd->script != NULL && strncmp(reply->str, "NOSCRIPT", 8)
		    == 0 && !cmd->retried &&
		    store_cmd_eval(ac, cmd, store_on_reply) == 0)
			return;		/* the EVAL reply comes here */
		err = reply->str;
	}
	if (cmd->st->metrics != NULL)
		metrics_observe(&cmd->st->metrics->redis, METRICS_FAST,
		    timeutil_mono_us() - cmd->sent_us);
	cmd->cb(cmd->arg, err == NULL ? reply : NULL, err);
	/* A primary turned replica: ask the sentinels again. */
	if (err != NULL && reply != NULL && strncmp(err, "READONLY", 8) == 0 &&
	    cmd->st->conf.sentinels != NULL && cmd->st->ac == ac)
		store_drop(cmd->st, "READONLY: the primary became a replica");
	store_cmd_free(cmd);
}

static void
store_on_cmd_timeout(evutil_socket_t fd, short ev, void *arg)
{
	struct store_cmd	*cmd = arg;
	struct store		*st = cmd->st;

	/* Replies come in order, so a late one would be paired with the
	 * wrong command forever: reset the connection.  store_on_reply then
	 * runs for this command (and every other pending one). */
	cmd->timedout = 1;
	log_warnx("redis %s: a command took longer than %" PRIu64 " ms; "
	    "resetting the connection", st->conf.text,
	    st->conf.command_timeout);
	store_drop(st, "command timed out");
}

static struct store_cmd *
store_cmd_new(struct store *st, store_cb cb, void *arg)
{
	struct store_cmd	*cmd;
	struct timeval		 tv;

	if ((cmd = calloc(1, sizeof(*cmd))) == NULL)
		return NULL;
	cmd->st = st;
	cmd->cb = cb;
	cmd->arg = arg;
	if (st->metrics != NULL)
		cmd->sent_us = timeutil_mono_us();
	if ((cmd->timer = evtimer_new(st->base, store_on_cmd_timeout, cmd)) ==
	    NULL) {
		free(cmd);
		return NULL;
	}
	(void)timeutil_tv(&tv, st->conf.command_timeout);
	evtimer_add(cmd->timer, &tv);
	return cmd;
}

static int
store_available(const struct store *st)
{
	return st->ac != NULL && (st->state == STORE_READY ||
	    st->state == STORE_CONNECTING);
}

int
store_command_argv(struct store *st, store_cb cb, void *arg, int argc,
    const char **argv, const size_t *argvlen)
{
	struct store_cmd	*cmd;

	if (!store_available(st) || (cmd = store_cmd_new(st, cb, arg)) ==
	    NULL)
		return -1;
	if (redisAsyncCommandArgv(st->ac, store_on_reply, cmd, argc, argv,
	    argvlen) != REDIS_OK) {
		store_cmd_free(cmd);
		return -1;
	}
	return 0;
}

int
store_command(struct store *st, store_cb cb, void *arg, const char *fmt, ...)
{
	struct store_cmd	*cmd;
	va_list			 ap;
	int			 rc;

	if (!store_available(st) || (cmd = store_cmd_new(st, cb, arg)) ==
	    NULL)
		return -1;
	va_start(ap, fmt);
	rc = redisvAsyncCommand(st->ac, store_on_reply, cmd, fmt, ap);
	va_end(ap);
	if (rc != REDIS_OK) {
		store_cmd_free(cmd);
		return -1;
	}
	return 0;
}

/* "EVALSHA sha nkeys args..." as owned copies (for the EVAL retry). */
static int
store_eval_args(struct store_cmd *cmd, struct store_script *script,
    int nkeys, int argc, const char **argv, const size_t *argvlen)
{
	char	 num[16];
	size_t	 len;
	int	 i, n = argc + 3;

	store_script_digest(script);
	(void)snprintf(num, sizeof(num), "%d", nkeys);
	if ((cmd->argv = calloc((size_t)n, sizeof(char *))) == NULL ||
	    (cmd->argvlen = calloc((size_t)n, sizeof(size_t))) == NULL)
		return -1;
	cmd->argc = n;
	cmd->script = script;
	if ((cmd->argv[0] = strdup("EVALSHA")) == NULL ||
	    (cmd->argv[1] = strdup(script->sha1)) == NULL ||
	    (cmd->argv[2] = strdup(num)) == NULL)
		return -1;
	cmd->argvlen[0] = 7;
	cmd->argvlen[1] = 40;
	cmd->argvlen[2] = strlen(num);
	for (i = 0; i < argc; i++) {
		len = argvlen != NULL ? argvlen[i] : strlen(argv[i]);
		if ((cmd->argv[i + 3] = malloc(len + 1)) == NULL)
			return -1;
		memcpy(cmd->argv[i + 3], argv[i], len);
		cmd->argv[i + 3][len] = '\0';
		cmd->argvlen[i + 3] = len;
	}
	return 0;
}

int
store_eval(struct store *st, struct store_script *script, store_cb cb,
    void *arg, int nkeys, int argc, const char **argv, const size_t *argvlen)
{
	struct store_cmd	*cmd;

	if (!store_available(st) || (cmd = store_cmd_new(st, cb, arg)) ==
	    NULL)
		return -1;
	if (store_eval_args(cmd, script, nkeys, argc, argv, argvlen) == -1 ||
	    redisAsyncCommandArgv(st->ac, store_on_reply, cmd, cmd->argc,
	    (const char **)(void *)cmd->argv, cmd->argvlen) != REDIS_OK) {
		store_cmd_free(cmd);
		return -1;
	}
	return 0;
}
