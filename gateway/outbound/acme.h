/*
 * The ACME client (RFC 8555): one driver per gateway instance, on the
 * loop of worker 0, that keeps a certificate in Redis for every host the
 * configuration lists (confacme.h) and for every registered custom domain
 * (the `domains` set, domain.h) whose `domain:<host>` state, last error
 * and expiry it keeps.  It makes the account once (an ES256
 * key, sealed in Redis), orders a certificate for a host that has none or
 * whose renewal time came, proves control with HTTP-01 (the key
 * authorization in Redis, answered by any instance, see acmehttp.h) or
 * TLS-ALPN-01 (the challenge certificate in Redis, announced with
 * "alpn <host>" so that every instance serves it to acme-tls/1),
 * finalizes with a CSR and stores the chain and the sealed key, then
 * publishes "cert <host>" on the events channel.  A Redis lock with a
 * fencing token lets one instance at a time order a host; a failure is
 * kept in the host's hash with a growing wait before the next try.
 * Nothing blocks: Redis through the worker's store, HTTP through httpc.
 */
#ifndef POSTERN_ACME_H
#define POSTERN_ACME_H

#include "store.h"

/* The keys and the channel of docs/redis.md (under redis.prefix). */
#define ACME_LAYOUT_ACCOUNT	STORE_LAYOUT("acme:account")
#define ACME_LAYOUT_CERT	STORE_LAYOUT("acme:cert:<host>")
#define ACME_LAYOUT_LOCK	STORE_LAYOUT("acme:lock:<host>")
#define ACME_LAYOUT_HTTP01	STORE_LAYOUT("acme:http01:<token>")
#define ACME_LAYOUT_ALPN01	STORE_LAYOUT("acme:alpn01:<host>")
#define ACME_LAYOUT_EVENTS	STORE_LAYOUT("acme:events")
/* The custom domains (domain.h owns them; the driver orders for them). */
#define ACME_LAYOUT_DOMAINS	STORE_LAYOUT("domains")
#define ACME_LAYOUT_DOMAIN	STORE_LAYOUT("domain:<host>")

#define ACME_CHALLENGE_TTL	600000	/* ms a challenge answer is kept */
#define ACME_LOCK_TTL		600000	/* ms an order may hold its lock */

struct acme;
struct worker;

/*
 * The driver for worker <w> (its loop, store and httpc): it reads the
 * current snapshot at each run and starts its first run within a second.
 * NULL when out of memory.
 */
struct acme	*acme_new(struct worker *w);
/*
 * Run now (or right after the run under way): a custom domain was
 * registered, a renewal was asked for, or a handshake wanted a custom
 * domain's certificate.  The run still orders only what is due.
 * NULL-safe; on worker 0's loop.
 */
void		 acme_kick(struct acme *a);
/*
 * A message of acme:events (certsync.h's listener, <arg> the driver):
 * "domain" (registered or removed), "cert" (stored, or a renewal asked
 * for), "resync": acme_kick(); "alpn": nothing.
 */
void		 acme_event(void *arg, const char *kind, const char *host);
/*
 * Stop: with a request pending the driver is freed by its callback, which
 * the store's or httpc's own free calls with an error; so call this before
 * store_free() and httpc_free().  NULL-safe.
 */
void		 acme_free(struct acme *a);

#endif
