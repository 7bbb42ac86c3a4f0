/*
 * Keeping every instance's run-time certificates in step with Redis: at
 * start, and again after each (re)connection of its subscriber, worker 0
 * reads every `acme:cert:<host>` into the server's certstore (certstore.h);
 * then the messages of the pub/sub channel `acme:events` say what changed:
 *
 *	cert <host>	a certificate of <host> was stored: load it
 *	alpn <host>	a TLS-ALPN-01 challenge of <host> was stored (or
 *			removed): load it before the CA connects
 *	domain <host>	the custom-domain registry changed (domainreg.h)
 *
 * One subscriber connection per instance, on worker 0's loop; the store is
 * the server's, shared by all workers, so each message is read once.  Keys
 * are sealed (secret_seal(), the "postern acme key", additional data
 * "acme:" + host); a value that does not open, does not parse, does not
 * match its key or host, or is expired is logged and ignored, and the
 * certificate served before stays.
 */
#ifndef POSTERN_CERTSYNC_H
#define POSTERN_CERTSYNC_H

#include "domain.h"
#include "store.h"

/* Redis: what certsync reads (written by the ACME client or the CLI). */
#define CERTSYNC_LAYOUT_CERT	STORE_LAYOUT("acme:cert:<host>")
#define CERTSYNC_LAYOUT_ALPN	STORE_LAYOUT("acme:alpn01:<host>")
#define CERTSYNC_LAYOUT_EVENTS	DOMAIN_LAYOUT_EVENTS	/* domain.h */
/* The additional data of a sealed key: this prefix, then the host. */
#define CERTSYNC_AAD		"acme:"

struct worker;
struct certsync;

/*
 * Start following Redis for worker <w> (worker 0) into its server's
 * certstore.  NULL with the reason in <err>.
 */
struct certsync	*certsync_new(struct worker *w, char *err, size_t errlen);
/*
 * What another module (the ACME client's driver) learns from the channel:
 * <kind> "cert", "alpn" or "domain" with its <host> once certsync has
 * asked Redis for what it keeps of it (the answer comes later), or
 * "resync" with <host> NULL after the subscriber (re)connected (messages
 * may have been missed).  On worker 0's loop.
 */
typedef void	(*certsync_event_fn)(void *arg, const char *kind,
		    const char *host);
/* Call <fn> for each event from now on (one listener; NULL: none). */
void		 certsync_listen(struct certsync *cy, certsync_event_fn fn,
		    void *arg);
/*
 * A certstore_known_fn over the server's custom-domain registry <arg>
 * (struct domainreg): 0 with the registered name in <out>, or -1.
 */
int		 certsync_domain_known(void *arg, const char *host,
		    char out[254]);
/* Stop; after the worker's store was freed (its callbacks have run). */
void		 certsync_free(struct certsync *cy);

#endif
