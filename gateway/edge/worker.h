/*
 * The threads that serve connections: struct server, what all of them share,
 * and struct worker, one event-loop thread and what it owns.  Both are made
 * and run by `postern serve` (serve.h); they are defined here, in the edge,
 * since connections and listeners live in them.  Members owned by higher
 * layers (the store, the mailer, the upstream pool...) are opaque pointers.
 */
#ifndef POSTERN_WORKER_H
#define POSTERN_WORKER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>

#include <openssl/ssl.h>

#include "metrics.h"

struct acme;
struct acmestat;
struct audit_outbox;
struct certstore;
struct domainreg;
struct certsync;
struct config;
struct ratelimit_shed;
struct client;
struct connlimit;
struct event;
struct event_base;
struct listener;
struct mailer;
struct webhooks;
struct httpc;
struct oidc;
struct store;
struct hashpool;
struct hashpool_port;
struct pool;
struct proxy;
struct worker_ops;
struct exchange;

/* What all workers share; owned by serve_main(). */
struct server {
	pthread_mutex_t		 lock;		/* guards cfg and ssl_ctx */
	struct config		*cfg;		/* current snapshot */
	atomic_uint_fast64_t	 cfg_gen;	/* bumped with each swap of cfg */
	SSL_CTX			*ssl_ctx;	/* for cfg; NULL without TLS */
	struct metrics_global	 metrics;	/* accept/close, reloads */
	struct connlimit	*connlimit;	/* max_connections_per_ip */
	struct certstore	*certs;		/* run-time certificates */
	struct domainreg	*domains;	/* custom domains (cfg->domains) */
	struct acmestat		*acmestat;	/* ACME outcomes (acmestat.h) */
	atomic_int		 draining;	/* SIGTERM seen */
	atomic_int		 reload_failed;	/* the last reload was refused */
	/* The last reload's outcome, for the admin listener's /status;
	 * guarded by lock. */
	uint64_t		 reload_gen;	/* reloads tried, 0: none */
	int64_t			 reload_at;	/* Unix s of the last */
	char			 reload_msg[1024]; /* "reloaded: 3 apps", errors */
	int64_t			 started;	/* Unix s */
	struct hashpool		*hashpool;	/* password hashing threads */
	const struct worker_ops	*ops;		/* the layers above, see below */
	struct worker		*workers;	/* for the /metrics scraper */
	unsigned int		 nworkers;
};

TAILQ_HEAD(client_list, client);

/* One event-loop thread and what it owns; owned by serve_main(). */
#define WORKER_IDENT_FREE	256	/* as many as one loop turn may end */
#define WORKER_REQ_FREE		256	/* ended requests kept for reuse */

struct worker {
	struct server		*srv;
	unsigned int		 id;
	struct event_base	*base;
	pthread_t		 thread;
	struct listener		**listeners;	/* one per listen address */
	size_t			 nlisteners;
	struct event		*wake;		/* made active by serve_main */
	struct event		*drain_timer;	/* shutdown_timeout */
	struct store		*store;		/* its Redis connection */
	struct sesscache	*scache;	/* sessions (sesscache.h) */
	struct mailer		*mailer;	/* outbound mail (mail.h) */
	struct webhooks		*webhooks;	/* deliveries (webhook.h) */
	struct httpc		*httpc;		/* outbound HTTP (httpc.h) */
	struct oidc		*oidc;		/* SSO providers (oidc.h) */
	struct audit_outbox	*outbox;	/* worker 0: auditbox.h */
	struct acme		*acme;		/* worker 0: acme.h */
	struct certsync		*certsync;	/* worker 0: certsync.h */
	struct ratelimit_shed	*rl_shed;	/* Redis' refusals (ratelimit.h) */
	struct hashpool_port	*hashport;	/* hash-pool completions */
	struct client_list	 clients;
	size_t			 nclients;
	int			 draining;	/* closing once clients are gone */
	uint64_t		 next_client_id;
	struct metrics		 metrics;	/* this thread's counters */
	struct pool		*pool;		/* idle upstream connections */
	struct proxy		*px_free;	/* proxy.c's cache */
	unsigned int		 npx_free;
	/* Identities of ended requests (ex->ident: identity's struct,
	 * all of one size), reused by the next ones. */
	void			*ident_free[WORKER_IDENT_FREE];
	unsigned int		 nident_free;
	/* Ended requests, reset and kept with their buffers for the next
	 * heads (exchange_end_request(), client.c): one turn of the loop
	 * ends the requests of every connection that was answered and
	 * reads as many new heads, so it keeps up to that many. */
	struct request		*req_free[WORKER_REQ_FREE];
	unsigned int		 nreq_free;
	/* Request ids: RAND_bytes() in batches, since each call costs a
	 * getpid() and the DRBG's lock (client_new_id()). */
	unsigned char		 idrand[1024];
	size_t			 idrand_off;	/* bytes used; 0: not filled yet */
};

/*
 * What the edge and the upstream call in the layers above them, installed
 * by serve_main() in srv->ops: a connection reads requests and answers
 * them, but the configuration snapshot, deciding a request (identity) and
 * forwarding it (upstream) belong to higher layers, which the app layer
 * wires in here.
 */
struct worker_ops {
	/*
	 * The current snapshot and TLS context with one reference each
	 * (config_unref(), SSL_CTX_free()).  *<ctx> may be NULL.
	 */
	void		 (*snapshot)(struct server *, struct config **cfg,
			    SSL_CTX **ctx);
	/*
	 * The current snapshot with one reference, its generation in *<gen>
	 * (compare with srv->cfg_gen to learn whether a reload swapped it).
	 */
	struct config	*(*config)(struct server *, uint64_t *gen);

	/*
	 * A request for an app (ex->app set) is in: decide it.  It ends in
	 * exactly one of client_resume() (now or from a later reply),
	 * client_answer() or client_read_form(); the edge checks it
	 * (exchange_decided(), client_check_outcome()).
	 */
	void		 (*request)(struct exchange *ex);
	/*
	 * A request under /.postern/: serve it and return 1 if the path is
	 * one of identity's endpoints, else 0 (the edge answers 404).
	 */
	int		 (*builtin)(struct exchange *ex);
	/*
	 * The request may go upstream: start forwarding it.  The upstream
	 * side, owned by the client (client_close() ends it), or NULL when it
	 * could not even start (the edge answers 502).
	 */
	struct proxy	*(*forward)(struct exchange *ex);
	/*
	 * A forward-auth decision allows the request: compute the identity
	 * headers and assertion into ex->up as forward would.  0, or -1
	 * when they cannot be made (never allowed unsigned).
	 */
	int		 (*identify)(struct exchange *ex);
	/*
	 * A request for PLAIN_ACME_PREFIX... in clear (plain.h): answer it
	 * as builtin does, or NULL: the edge answers 404.
	 */
	void		 (*challenge)(struct exchange *ex);
	/* The client is closing: forget it in any pending step.  Idempotent. */
	void		 (*detach)(struct exchange *ex);
	/* The request became a WebSocket tunnel (client_tunnel()). */
	void		 (*tunnel)(struct exchange *ex);

	/* The upstream side of a request (see proxy.h). */
	void		 (*up_close)(struct proxy *);	/* unlink, free later */
	void		 (*up_body)(struct proxy *);	/* request body came */
	void		 (*up_tunnel)(struct proxy *);	/* tunnel bytes came */
	void		 (*up_resume)(struct proxy *);	/* client output drained */

	/* The gateway's own cookies, never forwarded (NULL-terminated). */
	const char *const *cookies;
	/* 1 if request header <name>: <value> is a gateway credential. */
	int		 (*credential)(const char *name, const char *value);
	/*
	 * The upstream's response says X-Postern-Logout: end the session the
	 * request was made with (this worker forgets it now, Redis and the
	 * other workers and instances within moments) and put in <extra>
	 * (<size> bytes) the header lines that clear the browser's cookie;
	 * "" when the request had no session.
	 */
	void		 (*logout)(struct exchange *ex, char *extra, size_t size);
};

#endif
