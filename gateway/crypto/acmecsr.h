/*
 * The certificate side of an ACME order: a new certificate key (ECDSA
 * P-256, or RSA 2048), the certificate signing request for one host
 * (RFC 8555 7.4: DER, the host as subjectAltName dNSName), keys as PEM
 * text, and what the gateway keeps from the chain the CA issued (the
 * leaf's validity and serial, checked to be for the host and the key).
 */
#ifndef POSTERN_ACMECSR_H
#define POSTERN_ACMECSR_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

/* A new key: <rsa> 0 for P-256, 1 for RSA 2048.  NULL on failure. */
EVP_PKEY	*acmecsr_key_new(int rsa);
/*
 * The DER CSR for <host> signed with <key>, malloc'ed into *<der>
 * (*<len> bytes).  0 or -1.
 */
int		 acmecsr_make(EVP_PKEY *key, const char *host,
		    unsigned char **der, size_t *len);
/* <key> (private) as PEM PKCS#8 text, malloc'ed; NULL on failure. */
char		*acmecsr_key_pem(EVP_PKEY *key);
/* The private key in PEM text <pem>, or NULL. */
EVP_PKEY	*acmecsr_key_load(const char *pem, size_t len);

struct acmecsr_leaf {
	int64_t		 not_before;	/* Unix seconds */
	int64_t		 not_after;
	char		 serial[80];	/* hex */
};

/*
 * Check chain <pem> (<len> bytes, leaf first): the leaf names <host>, its
 * key is <key>'s, and it is in its validity period at <now>; fill <leaf>.
 * 0, or -1 with the reason in <err>.
 */
int		 acmecsr_chain_check(const char *pem, size_t len,
		    const char *host, EVP_PKEY *key, int64_t now,
		    struct acmecsr_leaf *leaf, char *err, size_t errlen);

#endif
