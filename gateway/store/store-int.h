/*
 * What the parts of the store share (not for other modules): the copy of
 * the settings it was given and the helpers that read them, and the
 * asynchronous store with the pieces its two connections share.  store.c
 * holds the settings helpers, key names and script digests; storeasync.c
 * the workers' command connection; storetrack.c its client-side caching
 * connection; storesync.c the command-line tools' connection.
 */
#ifndef POSTERN_STORE_INT_H
#define POSTERN_STORE_INT_H

#include <sys/time.h>

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <hiredis/async.h>

#include "store.h"

struct event;
struct event_base;
struct store_disc;
struct store_settings;
struct store_track;
struct store_watch;

/* The sentinels of a store_conf and what it takes to ask them. */
struct store_sentinels {
	char		*host[STORE_MAX_SENTINELS];	/* numeric */
	int		 port[STORE_MAX_SENTINELS];
	size_t		 n;
	size_t		 first;		/* asked first: the last that answered */
	char		*master_name;
	char		*username;	/* or NULL */
	char		*password;	/* or NULL: no AUTH */
	size_t		 passwordlen;
};

/* Where and how to reach Redis: a copy of struct store_settings. */
struct store_conf {
	struct store_sentinels *sentinels;	/* NULL: host, port as given */
	char		*host;		/* numeric address, or NULL for unix;
					 * with sentinels the primary they
					 * named last (NULL before) */
	int		 port;
	char		*unixpath;	/* or NULL */
	char		*text;		/* as configured, for messages */
	char		*username;	/* ACL user or NULL */
	char		*password;	/* NULL without password_file */
	size_t		 passwordlen;
	unsigned int	 db;
	char		*prefix;
	uint64_t	 connect_timeout;	/* ms */
	uint64_t	 command_timeout;	/* ms */
};

/*
 * Copy <set> into <sc> (reading the password file).  0, or -1 with a
 * reason in <err> (then <sc> holds nothing to free).
 */
int		store_conf_init(struct store_conf *sc,
		    const struct store_settings *set, char *err,
		    size_t errlen);
/* Free <sc>'s strings, wiping the password. */
void		store_conf_free(struct store_conf *sc);
/*
 * With sentinels: make <host>:<port> the primary of <sc> (its text too).
 * Returns 1 if that changed it, 0 if it was already the primary.
 */
int		store_conf_primary(struct store_conf *sc, const char *host,
		    int port);
/* Read a password file of redis.<what> into *<out> (wiped by its owner). */
int		store_read_secret(const char *what, const char *path,
		    char **out, size_t *outlen, char *err, size_t errlen);
/* Warn once per process that Redis answered before AUTH. */
void		store_warn_unauthenticated(const char *addr);

/* ---- the asynchronous store (storeasync.c, storetrack.c) ---- */

enum store_state {
	STORE_WAITING = 0,
	STORE_CONNECTING,
	STORE_READY,
};

/*
 * The handshake of one connection (PING, AUTH, CLIENT SETNAME, SELECT) and
 * what to do with its outcome; lives as long as the store.  Its callbacks
 * check that <ac> is still their connection.
 */
struct store_hs {
	struct store	*st;
	const char	*name;		/* CLIENT SETNAME */
	/* AUTH or SELECT refused on <ac>: drop it */
	void		(*fail)(struct store_hs *, redisAsyncContext *ac,
			    const char *reason);
	/* SELECT answered on <ac> */
	void		(*ready)(struct store_hs *, redisAsyncContext *ac);
};

/* One worker's connection; owned by the worker (struct worker). */
struct store {
	struct store_conf	 conf;
	struct event_base	*base;
	redisAsyncContext	*ac;		/* NULL while waiting */
	enum store_state	 state;
	atomic_int		 healthy;	/* read by /.postern/health */
	struct event		*retry;		/* reconnect after backoff */
	struct event		*conn_timer;	/* connect + handshake */
	unsigned int		 backoff;	/* next delay, ms */
	int			 down_logged;	/* outage already reported */
	int			 ever_ready;
	struct store_hs		 hs;
	struct store_track	*track;		/* NULL: no client-side caching */
	unsigned int		 addr_gen;	/* changes with the primary */
	unsigned int		 ready_gen;	/* addr_gen when last ready */
	char			 primary[80];	/* host:port when last ready */
	struct store_disc	*disc;		/* sentinels: asking them */
	struct store_watch	*watch;		/* sentinels: +switch-master */
	char			*channel;	/* subscriber: its channel */
	store_message_cb	 on_message;
	void			*msg_arg;
	store_ready_cb		 ready_cb;	/* store_set_ready_cb() */
	void			*ready_arg;
	struct metrics		*metrics;	/* the worker's, or NULL */
};

/*
 * A context connecting to <conf>'s Redis, not yet attached to a loop; or
 * NULL with the reason in <msg>.
 */
redisAsyncContext *store_ac_connect(const struct store_conf *conf,
		    char *msg, size_t msglen);
/*
 * What a reply on a SUBSCRIBEd connection is: STORE_PUB_SUBSCRIBED (the
 * confirmation), STORE_PUB_MESSAGE (*<msg> its string payload), else 0.
 */
#define STORE_PUB_SUBSCRIBED	1
#define STORE_PUB_MESSAGE	2
int		store_pubsub(const redisReply *reply, const redisReply **msg);
/*
 * Free *<acp> (if any) without its callbacks seeing their owner: they
 * find ac->data NULL, or their owner's pointer no longer equal to it.
 * From within a hiredis callback the context goes once that returns.
 */
void		store_ac_close(redisAsyncContext **acp);
/*
 * Queue <hs>'s handshake on <ac> (hiredis keeps the order and holds it
 * until the socket connects).  0, or -1 if a command cannot be queued.
 */
int		store_handshake(struct store_hs *hs, redisAsyncContext *ac);
/*
 * The delay before the next connection attempt (ms, with jitter) from
 * *<backoff>, which doubles up to STORE_BACKOFF_MAX.
 */
uint32_t	store_backoff(unsigned int *backoff);

/*
 * Sentinels (storesentinel.c).  store_disc_start(): ask them for the
 * primary of st->conf (asynchronously, each bounded by connect_timeout,
 * in turn from sc->sentinels->first); on an answer, store_conf_primary()
 * and then store_connect_primary(st); if none answers,
 * store_disc_failed(st, reason).  store_disc_free() abandons a question.
 * store_watch_new() subscribes to +switch-master on one of the sentinels
 * (the next when it is lost) and calls store_switched() when the
 * store's master moved away from its current primary.  Both NULL-safe
 * frees.  store_sentinel_sync(): the same question, synchronously, for
 * the command-line tools.  store_role_master(): 1 if a ROLE reply says
 * master.
 */
void		store_disc_start(struct store *st);
void		store_disc_free(struct store *st);
void		store_connect_primary(struct store *st);
void		store_disc_failed(struct store *st, const char *reason);
struct store_watch *store_watch_new(struct store *st);
void		store_watch_free(struct store_watch *w);
void		store_switched(struct store *st, const char *reason);
int		store_sentinel_sync(struct store_conf *sc, char *err,
		    size_t errlen);
int		store_role_master(const redisReply *reply);

/*
 * Client-side caching (storetrack.c), called by storeasync.c: the command
 * connection became ready (send CLIENT TRACKING if the tracking connection
 * is subscribed), or was lost (end the period); free everything of it.
 */
void		store_track_cmd_ready(struct store *st);
void		store_track_cmd_lost(struct store *st);
void		store_track_free(struct store_track *t);

#endif
