/*
 * The certificate part of the admin listener's /metrics: the hosts whose
 * certificates it reports, bounded by the configuration and the
 * custom-domain registry -- the ACME hosts of the current snapshot, the
 * registered custom domains, and the run-time certificates (certstore.h)
 * of hosts an app serves -- never a name a client sent in SNI or Host.
 * acmestat.h renders them with the ACME driver's counters.
 */
#ifndef POSTERN_CERTGAUGE_H
#define POSTERN_CERTGAUGE_H

struct evbuffer;
struct server;

/* Append the exposition of <srv>'s certificates to <out>; 0, or -1. */
int	certgauge_render(struct evbuffer *out, struct server *srv);

#endif
