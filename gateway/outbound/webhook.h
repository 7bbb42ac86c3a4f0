/*
 * Webhooks: each audit event an endpoint subscribed to is POSTed to it as
 * JSON, signed with
 *
 *   X-Postern-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret,
 *                        "<t>." + body)>
 *
 * (docs/webhooks.md has the verification recipe).  Delivery runs on the
 * worker's loop (libcurl multi, curlev.h): a bounded queue, a timeout per
 * attempt, retries with exponential backoff and jitter on connection
 * errors, 429 and 5xx, none on other answers; redirects are never
 * followed.  SSRF guard: libcurl connects only to an address checked at
 * connect time (CURLOPT_OPENSOCKETFUNCTION, so a DNS answer that changes
 * between a check and the connection cannot slip through): loopback,
 * private, link-local, CGNAT, multicast, reserved and IPv6 ULA addresses
 * are refused unless the endpoint's allow_private names them.
 */
#ifndef POSTERN_WEBHOOK_H
#define POSTERN_WEBHOOK_H

#include <stddef.h>
#include <stdint.h>

struct config;
struct config_cidr;
struct event_base;
struct metrics;
struct sockaddr;
struct webhooks;

struct webhooks	*webhooks_new(struct event_base *base, struct metrics *m);
/* Free; deliveries still queued are dropped and counted.  NULL-safe. */
void		 webhooks_free(struct webhooks *);

/*
 * Queue <json> (an audit event named <action>) for every endpoint of
 * <cfg> subscribed to it.  Never blocks; a full queue drops it (counted,
 * logged).
 */
void		 webhook_dispatch(struct webhooks *, struct config *cfg,
		    const char *action, const char *json);

/*
 * Why <sa> may not be connected to (a stable reason such as "loopback",
 * "private", "link_local", "cgnat", "multicast", "reserved",
 * "unique_local"), or NULL if it is a public address.
 */
const char	*webhook_addr_class(const struct sockaddr *sa);
/* 1 if <sa> is in one of the <n> ranges <allow>. */
int		 webhook_addr_allowed(const struct sockaddr *sa,
		    const struct config_cidr *allow, size_t n);

/* The X-Postern-Signature value for <body> at <t> into <out>. */
void		 webhook_signature(const unsigned char *secret, size_t len,
		    int64_t t, const char *body, char *out, size_t size);

#endif
