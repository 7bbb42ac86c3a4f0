/*
 * Listening sockets.  Every worker opens its own socket per configured
 * address with SO_REUSEPORT, so the kernel spreads connections over the
 * workers; accepted connections become clients of that worker, over TLS
 * or plain HTTP.  The admin listener (main thread) serves /metrics and /status.
 */
#ifndef POSTERN_LISTENER_H
#define POSTERN_LISTENER_H

#include <stddef.h>
#include <stdint.h>

struct config_addr;
struct config_listen;
struct event_base;
struct listener;
struct server;
struct worker;

/*
 * Listen on <lc> for worker <w>; <https_port> is where the plain listener
 * redirects browsers.  NULL with the reason in <err> (bind failed, ...).
 */
struct listener	*listener_new(struct worker *w, const struct config_listen *lc,
		    uint16_t https_port, char *err, size_t errlen);

/* The admin listener on <base>, serving <srv>'s metrics and status. */
struct listener	*listener_admin_new(struct server *srv, struct event_base *base,
		    const struct config_addr *addr, char *err, size_t errlen);

/* Close the socket (draining); NULL-safe. */
void		 listener_free(struct listener *);

/* The port of a resolved address, 0 for none. */
uint16_t	 listener_port(const struct config_addr *);

#endif
