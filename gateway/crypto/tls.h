/*
 * Server-side TLS: one SSL_CTX per configuration snapshot, built from its
 * certificates.  TLS 1.2 and 1.3 only, AEAD ECDHE suites in server order,
 * X25519 and P-256, ALPN http/1.1, SNI choosing among the certificates by
 * their names, then among the run-time certificates of a certstore
 * (certstore.h; a configured certificate wins), the default last.  ALPN
 * "acme-tls/1" alone gets a TLS-ALPN-01 challenge certificate (tlsacme.h).
 * A reload builds a new context; connections keep theirs.
 */
#ifndef POSTERN_TLS_H
#define POSTERN_TLS_H

#include <stddef.h>
#include <time.h>

#include <openssl/ssl.h>

/* A certificate expiring sooner than this is worth a warning. */
#define TLS_EXPIRY_WARN_DAYS	14

struct certstore;
struct config_cert;

/* What a server context is made of (tls: section; the caller fills it). */
struct tls_settings {
	const struct config_cert *certs;	/* the first is the default */
	size_t		 ncerts;
	int		 session_tickets;	/* 0: none issued */
	struct certstore *store;	/* run-time certificates, or NULL */
	int		 acme;		/* with a store: no certificate is
					 * needed (self-signed default) */
};

/*
 * The context for the certificates of <ts>, or NULL with the reason in
 * <err> (none, a missing or unreadable file, a key with group or world
 * access, a key not matching its certificate).  With no certificate but
 * a store and <acme>, the default is a fresh self-signed certificate for
 * "postern.invalid" (every real one comes from the store).  The caller frees it with
 * SSL_CTX_free(); it owns the contexts SNI switches to.
 */
SSL_CTX		*tls_ctx_new(const struct tls_settings *ts, char *err,
		    size_t errlen);

/*
 * A server context with the gateway's protocol settings and no
 * certificate (certstore.c adds one), its ALPN answer reading challenge
 * certificates from <cs> (may be NULL).  NULL when out of memory.
 */
SSL_CTX		*tls_server_ctx(int session_tickets, struct certstore *cs);

/*
 * Check server certificate <x> at <now>: not yet valid or expired is an
 * error (-1, the reason in <err>); expiring within TLS_EXPIRY_WARN_DAYS,
 * an RSA key under 3072 bits or an EC curve weaker than P-256 (under 128
 * bits of security, NIST SP 800-57) is a warning (1, the reason in <err>);
 * 0 otherwise.  <err> never names the file: the caller does.
 */
int		 tls_cert_check(X509 *x, time_t now, char *err,
		    size_t errlen);

/*
 * A client context for https:// upstreams: TLS 1.2 or 1.3, the peer's
 * certificate verified against the CAs in PEM file <ca_file>, or the system
 * trust store when it is NULL.  Returns the context (the caller frees it
 * with SSL_CTX_free()), or NULL with the reason in <err>.  Each connection
 * then sets SNI and the expected name (tls_upstream_ssl()).
 */
SSL_CTX		*tls_upstream_ctx(const char *ca_file, char *err,
		    size_t errlen);

/*
 * A new SSL for one connection made with <ctx> to <name> (a host name or
 * an IP address literal): SNI for host names, and the certificate must
 * match <name>.  NULL on failure.
 */
SSL		*tls_upstream_ssl(SSL_CTX *ctx, const char *name);

#endif
