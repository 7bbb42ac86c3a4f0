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

#include "worker.h"

/* Runs in the foreground; returns the process exit status. */
int	serve_main(const char *config_path);

struct config;
struct server;
struct worker;

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

#endif
