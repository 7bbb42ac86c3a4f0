/*
 * TLS-ALPN-01 challenge certificates (see tlsacme.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "certstore.h"
#include "tlsacme.h"

#define TLSACME_HOST_MAX	253
#define TLSACME_LABEL_MAX	63

/* One label of <len> bytes at <s>: LDH, no hyphen at either end. */
static int
tlsacme_label_ok(const char *s, size_t len)
{
	size_t	i;

	if (len == 0 || len > TLSACME_LABEL_MAX || s[0] == '-' ||
	    s[len - 1] == '-')
		return 0;
	for (i = 0; i < len; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-'))
			return 0;
	}
	return 1;
}

int
tlsacme_host_ok(const char *host)
{
	const char	*p = host, *dot;
	size_t		 len = strnlen(host, TLSACME_HOST_MAX + 1);

	if (len == 0 || len > TLSACME_HOST_MAX)
		return 0;
	for (;;) {
		dot = strchr(p, '.');
		if (!tlsacme_label_ok(p, dot != NULL ? (size_t)(dot - p) :
		    strlen(p)))
			return 0;
		if (dot == NULL)
			return 1;
		p = dot + 1;
	}
}

/* A random positive 127-bit serial for <x>. */
static int
tlsacme_serial(X509 *x)
{
	unsigned char	 buf[16];
	BIGNUM		*bn;
	int		 ok;

	if (RAND_bytes(buf, sizeof(buf)) != 1)
		return -1;
	buf[0] &= 0x7f;
	if ((bn = BN_bin2bn(buf, sizeof(buf), NULL)) == NULL)
		return -1;
	ok = BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) != NULL;
	BN_free(bn);
	return ok ? 0 : -1;
}

/* The SAN of <x>: dNSName <host> only. */
static int
tlsacme_san(X509 *x, const char *host)
{
	GENERAL_NAMES	*gens;
	GENERAL_NAME	*gen;
	ASN1_IA5STRING	*ia5;
	int		 ok = 0;

	if ((gens = sk_GENERAL_NAME_new_null()) == NULL)
		return -1;
	if ((gen = GENERAL_NAME_new()) != NULL &&
	    (ia5 = ASN1_IA5STRING_new()) != NULL) {
		if (ASN1_STRING_set(ia5, host, (int)strlen(host)) == 1) {
			GENERAL_NAME_set0_value(gen, GEN_DNS, ia5);
			ok = sk_GENERAL_NAME_push(gens, gen) > 0;
		} else
			ASN1_IA5STRING_free(ia5);
	}
	if (!ok)
		GENERAL_NAME_free(gen);
	else
		ok = X509_add1_ext_i2d(x, NID_subject_alt_name, gens, 0,
		    X509V3_ADD_DEFAULT) == 1;
	GENERAL_NAMES_free(gens);
	return ok ? 0 : -1;
}

/* The critical acmeIdentifier: extnValue = DER OCTET STRING of <sha>. */
static int
tlsacme_ident(X509 *x, const unsigned char sha[32])
{
	unsigned char		 der[2 + 32];
	ASN1_OBJECT		*oid;
	ASN1_OCTET_STRING	*val = NULL;
	X509_EXTENSION		*ext = NULL;
	int			 ok = 0;

	der[0] = V_ASN1_OCTET_STRING;
	der[1] = 32;
	memcpy(der + 2, sha, 32);
	if ((oid = OBJ_txt2obj(TLSACME_OID, 1)) == NULL)
		return -1;
	if ((val = ASN1_OCTET_STRING_new()) != NULL &&
	    ASN1_OCTET_STRING_set(val, der, sizeof(der)) == 1 &&
	    (ext = X509_EXTENSION_create_by_OBJ(NULL, oid, 1, val)) != NULL)
		ok = X509_add_ext(x, ext, -1) == 1;
	X509_EXTENSION_free(ext);
	ASN1_OCTET_STRING_free(val);
	ASN1_OBJECT_free(oid);
	return ok ? 0 : -1;
}

/*
 * The name (CN=<host> when it fits), validity (<days> from now), key and
 * extensions: the acmeIdentifier unless <sha> is NULL.
 */
static int
tlsacme_fill(X509 *x, EVP_PKEY *pk, const char *host,
    const unsigned char *sha, long days)
{
	X509_NAME	*name = X509_get_subject_name(x);

	if (X509_set_version(x, X509_VERSION_3) != 1 ||
	    tlsacme_serial(x) == -1 ||
	    X509_gmtime_adj(X509_getm_notBefore(x), -3600) == NULL ||
	    X509_gmtime_adj(X509_getm_notAfter(x),
	    days * 86400) == NULL ||
	    X509_set_pubkey(x, pk) != 1)
		return -1;
	if (strlen(host) <= 64 && X509_NAME_add_entry_by_NID(name,
	    NID_commonName, MBSTRING_ASC, (const unsigned char *)host, -1,
	    -1, 0) != 1)
		return -1;
	if (X509_set_issuer_name(x, name) != 1 ||
	    tlsacme_san(x, host) == -1 ||
	    (sha != NULL && tlsacme_ident(x, sha) == -1) ||
	    X509_sign(x, pk, EVP_sha256()) == 0)
		return -1;
	return 0;
}

/* The PEM that <bio> holds, as a new string; NULL on failure. */
static char *
tlsacme_bio_str(BIO *bio)
{
	char	*data, *s;
	long	 n;

	if ((n = BIO_get_mem_data(bio, &data)) <= 0 ||
	    (s = malloc((size_t)n + 1)) == NULL)
		return NULL;
	memcpy(s, data, (size_t)n);
	s[n] = '\0';
	return s;
}

/* <x> and <pk> as PEM into <*cert>, <*key>; 0 or -1. */
static int
tlsacme_pem(X509 *x, EVP_PKEY *pk, char **cert, char **key)
{
	BIO	*cb, *kb;
	int	 rc = -1;

	cb = BIO_new(BIO_s_mem());
	kb = BIO_new(BIO_s_secmem());
	if (cb != NULL && kb != NULL && PEM_write_bio_X509(cb, x) == 1 &&
	    PEM_write_bio_PrivateKey(kb, pk, NULL, NULL, 0, NULL,
	    NULL) == 1 && (*cert = tlsacme_bio_str(cb)) != NULL) {
		if ((*key = tlsacme_bio_str(kb)) != NULL)
			rc = 0;
		else {
			free(*cert);
			*cert = NULL;
		}
	}
	BIO_free(cb);
	BIO_free(kb);
	return rc;
}

/* A new key and certificate for <host> (<sha>: see tlsacme_fill()). */
static int
tlsacme_make(const char *host, const unsigned char *sha, long days,
    X509 **x, EVP_PKEY **pk)
{
	*x = NULL;
	if ((*pk = EVP_EC_gen("P-256")) == NULL || (*x = X509_new()) == NULL ||
	    tlsacme_fill(*x, *pk, host, sha, days) == -1) {
		X509_free(*x);
		EVP_PKEY_free(*pk);
		*x = NULL;
		*pk = NULL;
		ERR_clear_error();
		return -1;
	}
	return 0;
}

int
tls_alpn01_cert(const char *host, const unsigned char keyauth_sha256[32],
    char **cert_pem, char **key_pem, char *err, size_t errlen)
{
	EVP_PKEY	*pk = NULL;
	X509		*x = NULL;
	int		 rc = -1;

	*cert_pem = *key_pem = NULL;
	if (!tlsacme_host_ok(host)) {
		(void)snprintf(err, errlen, "not a DNS name for a TLS-ALPN-01 "
		    "challenge");
		return -1;
	}
	if (tlsacme_make(host, keyauth_sha256, TLSACME_CERT_DAYS, &x, &pk) == -1 ||
	    tlsacme_pem(x, pk, cert_pem, key_pem) == -1)
		(void)snprintf(err, errlen, "cannot make the TLS-ALPN-01 "
		    "challenge certificate");
	else
		rc = 0;
	ERR_clear_error();
	X509_free(x);
	EVP_PKEY_free(pk);
	return rc;
}

int
tlsacme_selfsigned(const char *host, X509 **x, EVP_PKEY **pk)
{
	if (!tlsacme_host_ok(host))
		return -1;
	return tlsacme_make(host, NULL, TLSACME_DEFAULT_DAYS, x, pk);
}

/* ---- the handshake's side ---- */

/* "acme-tls/1" in the wire format of an ALPN list. */
static const unsigned char tlsacme_proto[] = "\x0a" TLSACME_ALPN;

int
tlsacme_alpn(SSL *ssl, struct certstore *cs, const unsigned char *in,
    unsigned int inlen, const unsigned char **out, unsigned char *outlen)
{
	const char	*name;

	if (cs == NULL || inlen != sizeof(tlsacme_proto) - 1 ||
	    memcmp(in, tlsacme_proto, inlen) != 0)
		return -1;
	name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
	if (name == NULL || certstore_use_alpn(cs, ssl, name,
	    time(NULL)) == -1)
		return SSL_TLSEXT_ERR_ALERT_FATAL;
	*out = in + 1;
	*outlen = (unsigned char)(inlen - 1);
	return SSL_TLSEXT_ERR_OK;
}

int
tlsacme_selected(const SSL *ssl)
{
	const unsigned char	*p;
	unsigned int		 len = 0;

	SSL_get0_alpn_selected(ssl, &p, &len);
	return len == sizeof(tlsacme_proto) - 2 &&
	    memcmp(p, tlsacme_proto + 1, len) == 0;
}
