/*
 * The certificates the gateway obtained at run time (ACME, or imported
 * into Redis), kept in memory by host name so that the TLS handshake can
 * choose one without any I/O: an SSL_CTX per host, swapped in place when a
 * new certificate arrives.  A connection holds a reference to the context
 * it was made with (SSL_set_SSL_CTX), so a swap drops nothing: the old
 * context is freed when its last connection closes.  Besides, the
 * TLS-ALPN-01 challenge certificate of a host while a CA validates it
 * (tlsacme.h).
 *
 * One certstore per server, shared by every worker: lookups take a read
 * lock and allocate nothing, so a name the store does not hold costs one
 * binary search.
 */
#ifndef POSTERN_CERTSTORE_H
#define POSTERN_CERTSTORE_H

#include <stddef.h>
#include <time.h>

#include <openssl/ssl.h>

/* How long a challenge certificate is served after it was stored. */
#define CERTSTORE_ALPN_TTL	600
/* Custom domains wanted by handshakes: names remembered, and how long
 * one name is not signalled again. */
#define CERTSTORE_WANT_MAX	32
#define CERTSTORE_WANT_QUIET	60

struct certstore;

/* What certstore_list() reports of one host. */
struct certstore_info {
	char		host[254];
	time_t		not_after;	/* 0 without a certificate */
	int		challenge;	/* a challenge certificate is held */
};

/* An empty store; NULL when out of memory. */
struct certstore *certstore_new(void);
/* Free the store and its references.  NULL-safe. */
void		 certstore_free(struct certstore *cs);
/* Whether contexts made from now on issue session tickets. */
void		 certstore_set_tickets(struct certstore *cs, int on);

/*
 * Install the certificate of <host> (a DNS name, any case): <chain_pem>
 * the leaf then its intermediates, <key_pem> the leaf's private key.
 * Refused (-1, the reason in <err>, the previous certificate of <host>
 * kept) when a PEM does not parse, the key does not match the leaf, the
 * leaf does not name <host>, or a certificate of the chain is expired or
 * not yet valid at <now>.  Returns 0, or 1 when the same certificate was
 * already installed (nothing changed).
 */
int		 certstore_put(struct certstore *cs, const char *host,
		    const char *chain_pem, const char *key_pem, time_t now,
		    char *err, size_t errlen);
/* Forget the certificate of <host>; 0, or -1 if there was none. */
int		 certstore_drop(struct certstore *cs, const char *host);
/*
 * Install the TLS-ALPN-01 challenge certificate of <host> (PEM
 * certificate and key), served until certstore_drop_alpn() or for
 * CERTSTORE_ALPN_TTL seconds from <now>.  0, or -1 with <err>.
 */
int		 certstore_put_alpn(struct certstore *cs, const char *host,
		    const char *cert_pem, const char *key_pem, time_t now,
		    char *err, size_t errlen);
void		 certstore_drop_alpn(struct certstore *cs, const char *host);

/*
 * The context for <host> with a reference for the caller (who passes it
 * to SSL_set_SSL_CTX() and then SSL_CTX_free()s it), or NULL.
 */
SSL_CTX		*certstore_ctx(struct certstore *cs, const char *host);
/*
 * Put the challenge certificate of <host> on <ssl> if one is held and
 * current at <now>; 0, or -1 (none: the handshake must fail).
 */
int		 certstore_use_alpn(struct certstore *cs, SSL *ssl,
		    const char *host, time_t now);
/*
 * Whether <host> (any case) is a registered custom domain: 0 with its
 * lower-case name in <out>, or -1.  No I/O (certsync_domain_known()).
 */
typedef int	(*certstore_known_fn)(void *arg, const char *host,
		    char out[254]);
/*
 * The registry certstore_want() consults; set once before the listeners
 * start.  <fn> NULL: none.
 */
void		 certstore_set_domains(struct certstore *cs,
		    certstore_known_fn fn, void *arg);
/*
 * A handshake named <host> and found no certificate: if <host> is a
 * registered custom domain, note that it is wanted (at most once per
 * CERTSTORE_WANT_QUIET seconds per name, CERTSTORE_WANT_MAX names at a
 * time).  No I/O, no allocation: any other name costs one lookup.  From
 * any worker thread.
 */
void		 certstore_want(struct certstore *cs, const char *host,
		    time_t now);
/*
 * Whether a name was wanted since the last call (the ACME driver asks
 * once a second, on worker 0).
 */
int		 certstore_wanted(struct certstore *cs);
/*
 * A copy of what the store holds, sorted by host: an array the caller
 * frees, its length in *<n>; NULL with *<n> 0 when empty or out of memory.
 */
struct certstore_info *certstore_list(struct certstore *cs, size_t *n);

#endif
