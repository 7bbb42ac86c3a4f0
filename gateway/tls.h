/*
 * Server-side TLS: one SSL_CTX per configuration snapshot, built from its
 * certificates.  TLS 1.2 and 1.3 only, AEAD ECDHE suites in server order,
 * X25519 and P-256, ALPN http/1.1, SNI choosing among the certificates by
 * their names.  A reload builds a new context; connections keep theirs.
 */
#ifndef POSTERN_TLS_H
#define POSTERN_TLS_H

#include <stddef.h>

#include <openssl/ssl.h>

struct config;

/*
 * The context for <cfg>'s certificates (the first is the default), or NULL
 * with the reason in <err> (a missing or unreadable file, a key with group
 * or world access, a key not matching its certificate).  The caller frees
 * it with SSL_CTX_free(); it owns the contexts SNI switches to.
 */
SSL_CTX		*tls_ctx_new(const struct config *cfg, char *err,
		    size_t errlen);

#endif
