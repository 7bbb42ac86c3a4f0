/*
 * `postern serve`: load the configuration, open the listeners, run one event
 * loop per worker thread until SIGTERM; SIGHUP reloads atomically.
 */
#ifndef POSTERN_SERVE_H
#define POSTERN_SERVE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>

#include <openssl/ssl.h>

#include "metrics.h"

/* Runs in the foreground; returns the process exit status. */
int	serve_main(const char *config_path);

struct audit_outbox;
struct config;
struct ratelimit_shed;
struct client;
struct connlimit;
struct event;
struct event_base;
struct listener;
struct mailer;
struct webhooks;
struct store;
struct hashpool;
struct hashpool_port;
struct pool;
struct proxy;

/* What all workers share; owned by serve_main(). */
struct server {
	pthread_mutex_t		 lock;		/* guards cfg and ssl_ctx */
	struct config		*cfg;		/* current snapshot */
	atomic_uint_fast64_t	 cfg_gen;	/* bumped with each swap of cfg */
	SSL_CTX			*ssl_ctx;	/* for cfg; NULL without TLS */
	struct metrics_global	 metrics;	/* accept/close, reloads */
	struct connlimit	*connlimit;	/* max_connections_per_ip */
	atomic_int		 draining;	/* SIGTERM seen */
	struct hashpool		*hashpool;	/* password hashing threads */
	struct worker		*workers;	/* for the /metrics scraper */
	unsigned int		 nworkers;
};

TAILQ_HEAD(client_list, client);

/* One event-loop thread and what it owns; owned by serve_main(). */
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
	struct mailer		*mailer;	/* outbound mail (mail.h) */
	struct webhooks		*webhooks;	/* deliveries (webhook.h) */
	struct audit_outbox	*outbox;	/* worker 0: audit.h */
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
	/* Request ids: RAND_bytes() in batches, since each call costs a
	 * getpid() and the DRBG's lock (client_new_id()). */
	unsigned char		 idrand[1024];
	size_t			 idrand_off;	/* bytes used; 0: not filled yet */
};

/*
 * The current snapshot and TLS context with one reference each (the caller
 * drops them with config_unref() and SSL_CTX_free()).  *<ctx> may be NULL.
 */
void	serve_snapshot(struct server *, struct config **cfg, SSL_CTX **ctx);

/*
 * The current snapshot with one reference (dropped with config_unref()),
 * and in *<gen> its generation: compare it with srv->cfg_gen to learn,
 * without the lock, whether a reload has swapped in another one since.
 */
struct config	*serve_config(struct server *, uint64_t *gen);

/* A client of <w> has been freed: ends a drained worker's loop. */
void	serve_client_gone(struct worker *w);

#endif
