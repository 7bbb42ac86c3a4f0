/*
 * The acme: section of the configuration (docs/acme.md): the ACME CA, the
 * account's contact and external account binding, the challenge types in
 * the order tried, the certificate key type, the retry backoff; and the
 * hosts the loader derived from it: every exact host name of an app when
 * a listener has tls: { acme: true }, except those a configured
 * certificate already covers.
 */
#ifndef POSTERN_CONFACME_H
#define POSTERN_CONFACME_H

#include <stddef.h>
#include <stdint.h>

#define ACME_LETSENCRYPT \
	"https://acme-v02.api.letsencrypt.org/directory"
#define ACME_EAB_KEY_MAX	256	/* bytes of an EAB MAC key */
/* acme.max_domains_per_org: its default, also without an acme: section. */
#define ACME_MAX_DOMAINS_PER_ORG	20

enum acme_challenge {
	ACME_HTTP01 = 0,	/* "http-01": a file on the plain listener */
	ACME_TLSALPN01,		/* "tls-alpn-01": a certificate at handshake */
};

enum acme_key_type {
	ACME_KEY_P256 = 0,	/* ECDSA P-256 (default) */
	ACME_KEY_RSA2048,
};

struct config_acme {
	char		*directory;	/* the CA's directory URL */
	char		*email;		/* account contact, or NULL */
	char		*ca_file;	/* PEM CAs for the CA's TLS, or NULL */
	enum acme_challenge challenges[2];	/* in the order tried */
	size_t		 nchallenges;
	enum acme_key_type key_type;	/* of certificate keys */
	char		*eab_kid;	/* external account binding, or NULL */
	unsigned char	 eab_key[ACME_EAB_KEY_MAX];	/* its MAC key */
	size_t		 eab_keylen;
	uint64_t	 retry_min;	/* ms: first wait after a failure */
	uint64_t	 retry_max;	/* ms: longest wait */
	uint64_t	 timeout;	/* ms: each request to the CA */
	uint64_t	 max_domains_per_org;	/* custom domains of an org */
	char		**hosts;	/* derived: the hosts ordered */
	size_t		 nhosts;
};

#endif
