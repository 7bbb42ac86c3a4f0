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

struct event;
struct event_base;
struct store_settings;
struct store_track;

/* Where and how to reach Redis: a copy of struct store_settings. */
struct store_conf {
	char		*host;		/* numeric address, or NULL for unix */
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
	char			*channel;	/* subscriber: its channel */
	store_message_cb	 on_message;
	void			*msg_arg;
};

/*
 * A context connecting to <conf>'s Redis, not yet attached to a loop; or
 * NULL with the reason in <msg>.
 */
redisAsyncContext *store_ac_connect(const struct store_conf *conf,
		    char *msg, size_t msglen);
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
 * Client-side caching (storetrack.c), called by storeasync.c: the command
 * connection became ready (send CLIENT TRACKING if the tracking connection
 * is subscribed), or was lost (end the period); free everything of it.
 */
void		store_track_cmd_ready(struct store *st);
void		store_track_cmd_lost(struct store *st);
void		store_track_free(struct store_track *t);

#endif
