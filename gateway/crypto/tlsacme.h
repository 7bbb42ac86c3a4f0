/*
 * TLS-ALPN-01 (RFC 8737): the self-signed challenge certificate a CA sees
 * when it connects with ALPN "acme-tls/1" to validate a host.
 */
#ifndef POSTERN_TLSACME_H
#define POSTERN_TLSACME_H

#include <stddef.h>

#include <openssl/ssl.h>

/* The ALPN protocol of the challenge (RFC 8737 6.2). */
#define TLSACME_ALPN		"acme-tls/1"
/* id-pe-acmeIdentifier (RFC 8737 6.1). */
#define TLSACME_OID		"1.3.6.1.5.5.7.1.31"
/* How long the challenge certificate is valid (the CA checks it at once). */
#define TLSACME_CERT_DAYS	7
/* ... and the self-signed default (made anew at each start and reload). */
#define TLSACME_DEFAULT_DAYS	365

/*
 * Make the challenge certificate of <host> (a DNS name: letters, digits,
 * hyphens and dots, at most 253 characters, no leading, trailing or double
 * dot): self-signed with a fresh P-256 key, its only SAN the dNSName
 * <host>, and the critical acmeIdentifier extension holding the DER
 * OCTET STRING of <keyauth_sha256>, the SHA-256 of the key authorization.
 * On success returns 0 with the certificate's PEM in <*cert_pem> and the
 * key's (PKCS#8, unencrypted) in <*key_pem>, both the caller's to free()
 * (the key after wiping it with OPENSSL_cleanse()); -1 with the reason
 * in <err> otherwise, both left NULL.
 */
int	tls_alpn01_cert(const char *host,
	    const unsigned char keyauth_sha256[32], char **cert_pem,
	    char **key_pem, char *err, size_t errlen);

/*
 * A fresh P-256 key and a self-signed certificate for <host> (its SAN and
 * CN, TLSACME_DEFAULT_DAYS long) without the acmeIdentifier: the default
 * certificate of a listener whose certificates all come at run time.  0,
 * or -1 (then both NULL).  The caller frees both.
 */
int	tlsacme_selfsigned(const char *host, X509 **x, EVP_PKEY **pk);

/* Whether <host> is a DNS name tls_alpn01_cert() accepts (1) or not (0). */
int	tlsacme_host_ok(const char *host);

struct certstore;

/*
 * The ALPN answer of the server side (SSL_CTX_set_alpn_select_cb()): a
 * ClientHello offering only "acme-tls/1" (RFC 8737 3: a CA offers no
 * other protocol) gets the challenge certificate <cs> holds for its SNI
 * name and "acme-tls/1" (SSL_TLSEXT_ERR_OK), or, without one, a fatal
 * alert.  Any other offer is not a challenge: -1, and the caller selects
 * among its own protocols ("acme-tls/1" is never one of them).
 */
int	tlsacme_alpn(SSL *ssl, struct certstore *cs, const unsigned char *in,
	    unsigned int inlen, const unsigned char **out,
	    unsigned char *outlen);
/*
 * Whether the handshake of <ssl> chose "acme-tls/1": the connection then
 * carries nothing after the handshake and is closed.
 */
int	tlsacme_selected(const SSL *ssl);

#endif
