/*
 * Redis access.  Each worker owns one asynchronous connection (hiredis'
 * async API on the worker's event_base through the libevent adapter) that
 * authenticates, selects the configured db, reconnects with capped
 * exponential backoff and jitter, and bounds every command by
 * redis.command_timeout.  The CLI uses the synchronous variant.  Both apply
 * the configured key prefix through store_key(), the only place where
 * key names are formed (from the layouts each module lists, see
 * store_layout_key()), and both run the same Lua scripts (EVALSHA, with a
 * fallback to EVAL when Redis answers NOSCRIPT).  A worker's store can also
 * report the changes of keys it caches (store_track(), client-side
 * caching), over a second connection.
 */
#ifndef POSTERN_STORE_H
#define POSTERN_STORE_H

#include <sys/socket.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <hiredis/hiredis.h>

struct event_base;
struct store;
struct store_sync;

#define STORE_KEYLEN	512	/* longest key, prefix included */
#define STORE_ERRLEN	256

/* Backoff between reconnection attempts (milliseconds). */
#define STORE_BACKOFF_MIN	100
#define STORE_BACKOFF_MAX	10000

#define STORE_MAX_SENTINELS	8

/*
 * Where and how to reach Redis: the redis section of the configuration,
 * filled in by the layer that reads it (config_store_settings(), loader.h).
 * The store copies what it keeps (a reload does not move an open
 * connection): the pointers need only be valid during the call.
 */
struct store_settings {
	const struct sockaddr_storage *addr;	/* ip:port, or a unix socket */
	socklen_t	 addrlen;
	const char	*text;		/* the address as configured */
	const char	*username;	/* ACL user, or NULL */
	const char	*password_file;	/* or NULL: no AUTH */
	unsigned int	 db;
	const char	*prefix;	/* of every key name */
	uint64_t	 connect_timeout;	/* ms: connect + handshake */
	uint64_t	 command_timeout;	/* ms: each command */
	/*
	 * Redis Sentinel (storesentinel.c): with <nsentinels> > 0 the
	 * primary is not <addr> but what these sentinels name for
	 * <master_name>, asked again at every connection.
	 */
	const struct sockaddr_storage *sentinels[STORE_MAX_SENTINELS];
	socklen_t	 sentinel_lens[STORE_MAX_SENTINELS];
	size_t		 nsentinels;
	const char	*master_name;
	const char	*sentinel_username;	/* or NULL */
	const char	*sentinel_password_file; /* or NULL: no AUTH */
};

/*
 * The answer to one command.  Exactly one call per accepted command: with
 * <reply> (valid only during the call: hiredis frees it afterwards) and
 * <err> NULL; or with <err> set (Redis error reply, timeout, connection
 * lost, store freed) and <reply> NULL.  Never called from within
 * store_command*() itself.
 */
typedef void	(*store_cb)(void *arg, const redisReply *reply,
		    const char *err);

/*
 * A Lua script run with EVALSHA.  Declare them static with STORE_SCRIPT();
 * the digest is computed on first use.
 */
struct store_script {
	const char	*name;		/* for messages */
	const char	*source;
	char		 sha1[41];	/* hex digest, "" until computed */
};
#define STORE_SCRIPT(n, src)	{ (n), (src), "" }

/*
 * Write <prefix> followed by the formatted name into <buf> (<size>
 * bytes).  Returns the length, or -1 if it does not fit.
 */
int	store_key(char *buf, size_t size, const char *prefix,
	    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/*
 * A key layout: a key's name after the prefix as docs/redis.md writes it,
 * each <placeholder> standing for one argument ("user:<id>:orgs").  Each
 * module lists its layouts with STORE_LAYOUT() next to the code that uses
 * them and makes its key names only from them (store_layout_key());
 * tests/unit/layouts.py checks docs/redis.md against these lists.
 */
#define STORE_LAYOUT(s)	s

/*
 * Lua for a script that derives key names from values it reads (a user id
 * from the email index, the sessions of a user's index): key(layout, ...)
 * returns the script's ARGV[1], the prefix, followed by <layout> with each
 * <placeholder> replaced by the next argument -- the name
 * store_layout_key() makes.  <layout> is always a module's STORE_LAYOUT
 * macro spliced into the script's text, never a name written by hand:
 *
 *	"redis.call('DEL', key('" USER_LAYOUT_SESSION "', h))\n"
 *
 * A missing argument (nil, or false for a missing reply) is a script
 * error, as joining it would have been.  Declare such a script with
 * STORE_LAYOUT_SCRIPT() and pass store_prefix() as its first argument;
 * tests/unit/layouts.py checks that its key names come only from key().
 * Such keys are not in KEYS, so these scripts need one Redis (or a
 * Sentinel-managed primary), not Redis Cluster (docs/redis.md).
 */
#define STORE_LUA_KEY							\
	"local function key(layout, ...)\n"				\
	"  local a, i = {...}, 0\n"					\
	"  local name = string.gsub(layout, '<[^>]*>', function()\n"	\
	"    i = i + 1\n"						\
	"    return a[i] or error('key ' .. layout .. ': no argument '\n" \
	"      .. i)\n"							\
	"  end)\n"							\
	"  return ARGV[1] .. name\n"					\
	"end\n"
#define STORE_LAYOUT_SCRIPT(n, src)	STORE_SCRIPT((n), STORE_LUA_KEY src)

/*
 * Write <prefix> followed by <layout> with each <placeholder> replaced by
 * the next of the const char * arguments into <buf> (<size> bytes).
 * Returns the length, or -1 if it does not fit or an argument is NULL.
 */
int	store_layout_key(char *buf, size_t size, const char *prefix,
	    const char *layout, ...);

/* Fill in <s>->sha1 (idempotent; thread-safe since the result is fixed). */
void	store_script_digest(struct store_script *s);

/* ---- asynchronous, one per worker ---- */

/*
 * A store for <base> with the settings <set> (copied).  Starts connecting
 * at once.  Returns NULL with a reason in <err> (e.g. an unreadable
 * password file).
 */
struct store	*store_new(struct event_base *base,
		    const struct store_settings *set, char *err,
		    size_t errlen);
/*
 * Close the connection: every pending command's callback runs (with an
 * error) before this returns.  NULL-safe.  Not from within a store_cb.
 */
void		 store_free(struct store *st);
/*
 * A subscriber's callback: <msg> (<len> bytes, not NUL-terminated) is a
 * message of its channel; <msg> NULL says the subscription is (again) in
 * place after a connection was made: messages may have been missed, so
 * the subscriber reads again what it keeps.
 */
typedef void	(*store_message_cb)(void *arg, const char *msg, size_t len);
/*
 * Make <st> (fresh from store_new()) the subscriber of pub/sub <channel>
 * (the full name, prefix included): each time its connection is ready it
 * subscribes, and <cb> gets the messages.  Such a store runs no other
 * command.  0, or -1 (out of memory, or already subscribed).
 */
int		 store_subscribe(struct store *st, const char *channel,
		    store_message_cb cb, void *arg);
/*
 * Run <cb>(<arg>) on the store's loop each time its connection becomes
 * ready (authenticated, database selected), the first time included.
 * After a reconnection -- a Redis restarted, a new primary -- what was
 * read before may be gone: <cb> may send commands to look.  It may not
 * call store_free().  One callback per store; call after store_new().
 */
typedef void	(*store_ready_cb)(void *arg);
void		 store_set_ready_cb(struct store *st, store_ready_cb cb,
		    void *arg);
/*
 * Changes of primary seen by the stores of this process (sentinels): each
 * store counts the switches it follows.
 */
uint64_t	 store_failovers_total(void);
/*
 * Count <st>'s command latencies and restored connections in <m> (the
 * calling worker's own; NULL: none).
 */
struct metrics;
void		 store_count_into(struct store *st, struct metrics *m);
/* 1 while the connection is up and authenticated, else 0. */
int		 store_healthy(const struct store *st);
const char	*store_prefix(const struct store *st);

/*
 * Send a command (hiredis format, or an argument vector; as in hiredis, a
 * NULL <argvlen> means NUL-terminated strings).  Returns 0: <cb>
 * will run exactly once; or -1 when Redis is unavailable (between
 * reconnection attempts) or the command cannot be queued: <cb> will not
 * run and the caller answers the failure itself (fail closed).
 */
int	store_command(struct store *st, store_cb cb, void *arg,
	    const char *fmt, ...);
int	store_command_argv(struct store *st, store_cb cb, void *arg, int argc,
	    const char **argv, const size_t *argvlen);
/*
 * Run <script> with <nkeys> keys followed by arguments (<argc> strings in
 * all, keys first, already prefixed).  Contract as store_command().
 */
int	store_eval(struct store *st, struct store_script *script, store_cb cb,
	    void *arg, int nkeys, int argc, const char **argv,
	    const size_t *argvlen);

/* ---- client-side caching (storetrack.c) ---- */

/*
 * How often the tracking connection proves it still reads (ms); one that
 * does not answer within redis.command_timeout ends the period.
 */
#define STORE_TRACK_HEARTBEAT	1000

typedef void	(*store_inval_cb)(void *arg, const char *key, size_t keylen);
typedef void	(*store_reset_cb)(void *arg);
/*
 * Client-side caching.  Ask Redis to report every change of a key under
 * one of <prefixes> (each a name after the store's prefix, e.g.
 * "session:"), made by any client, this store included: CLIENT TRACKING
 * on ... BCAST PREFIX <store prefix><p> ... on the command connection,
 * REDIRECTed to a second connection of the store's own that is SUBSCRIBEd
 * to __redis__:invalidate (hiredis 0.14 speaks RESP2 only, so no push
 * messages on the command connection).  <inval>(arg, key, keylen) runs on
 * the worker's loop for each changed key (the full name, store prefix
 * included; valid during the call only), in the order Redis reported
 * them; <reset>(arg) runs whenever something cached may have missed a
 * change: either connection lost or reset (command timeout, Redis restart,
 * CLIENT KILL, the tracking connection silent for a heartbeat), tracking
 * being (re)established, or a FLUSHDB/FLUSHALL (the nil payload).  Each
 * <reset> runs after the epoch changed (below).  The prefixes (1 to 64)
 * must not overlap (Redis refuses that in BCAST mode); the strings are
 * copied.  The tracking connection reads before the other events of its
 * loop turn when the base has two priorities (priority 0; the gateway's
 * workers, serve.c); a base with one works too.  Neither callback may call
 * store_free().  Call once, after store_new().  0, or -1 (bad arguments /
 * out of memory).  A Redis that refuses CLIENT TRACKING (before 6, an
 * ACL) gets one warning and the epoch stays 0.
 */
int	store_track(struct store *st, const char *const *prefixes,
	    size_t nprefixes, store_inval_cb inval, store_reset_cb reset,
	    void *arg);
/*
 * 0 while tracking is not in force (not asked for, either connection
 * down, CLIENT TRACKING not yet acknowledged); else the number of the
 * current tracking period, which changes at every reset (never reused,
 * never 0).  A reply to a command sent during period E may be cached iff
 * store_track_epoch() is still E when the reply is delivered: every change
 * after that read is then reported through <inval>.
 */
uint64_t store_track_epoch(const struct store *st);

/* ---- synchronous, for the command-line tools ---- */

/*
 * Connect to Redis with the settings <set>, bounded by their connect
 * timeout; commands are bounded by their command timeout.  Returns NULL
 * with a reason in <err> ("cannot connect to redis at ...", "redis refused
 * the password").
 */
struct store_sync *store_sync_open(const struct store_settings *set,
		    char *err, size_t errlen);
void		 store_sync_close(struct store_sync *ss);
const char	*store_sync_prefix(const struct store_sync *ss);
/* The hiredis context, for pipelining (redisAppendCommand). */
redisContext	*store_sync_context(struct store_sync *ss);
/*
 * Run a command; returns the reply (free with freeReplyObject()) or NULL
 * with the reason in <err>.  An error reply is returned as NULL + <err>.
 */
redisReply	*store_sync_command(struct store_sync *ss, char *err,
		    size_t errlen, const char *fmt, ...);
redisReply	*store_sync_eval(struct store_sync *ss,
		    struct store_script *script, char *err, size_t errlen,
		    int nkeys, int argc, const char **argv,
		    const size_t *argvlen);

#endif
