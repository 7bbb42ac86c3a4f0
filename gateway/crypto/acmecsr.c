/*
 * Certificate keys, CSRs and issued chains for ACME (see acmecsr.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "acmecsr.h"

EVP_PKEY *
acmecsr_key_new(int rsa)
{
	return rsa ? EVP_RSA_gen(2048) : EVP_EC_gen("P-256");
}

/* The subjectAltName extension "DNS:<host>" added to <req>; 0 or -1. */
static int
acmecsr_san(X509_REQ *req, const char *host)
{
	STACK_OF(X509_EXTENSION) *exts;
	X509_EXTENSION	*ext = NULL;
	char		 val[300];
	int		 rc = -1;

	if (snprintf(val, sizeof(val), "DNS:%s", host) >= (int)sizeof(val) ||
	    (exts = sk_X509_EXTENSION_new_null()) == NULL)
		return -1;
	if ((ext = X509V3_EXT_conf_nid(NULL, NULL, NID_subject_alt_name,
	    val)) != NULL && sk_X509_EXTENSION_push(exts, ext) > 0) {
		ext = NULL;
		if (X509_REQ_add_extensions(req, exts) == 1)
			rc = 0;
	}
	X509_EXTENSION_free(ext);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	return rc;
}

int
acmecsr_make(EVP_PKEY *key, const char *host, unsigned char **der,
    size_t *len)
{
	X509_REQ	*req;
	unsigned char	*p = NULL;
	int		 n = -1;

	if ((req = X509_REQ_new()) == NULL)
		return -1;
	if (X509_REQ_set_version(req, 0) == 1 &&
	    X509_REQ_set_pubkey(req, key) == 1 &&
	    acmecsr_san(req, host) == 0 &&
	    X509_REQ_sign(req, key, EVP_sha256()) > 0)
		n = i2d_X509_REQ(req, &p);
	X509_REQ_free(req);
	ERR_clear_error();
	if (n <= 0)
		return -1;
	*der = p;
	*len = (size_t)n;
	return 0;
}

char *
acmecsr_key_pem(EVP_PKEY *key)
{
	BIO	*b;
	BUF_MEM	*m;
	char	*s = NULL;

	if ((b = BIO_new(BIO_s_secmem())) == NULL)
		return NULL;
	if (PEM_write_bio_PrivateKey(b, key, NULL, NULL, 0, NULL, NULL) ==
	    1 && BIO_get_mem_ptr(b, &m) == 1 && (s = malloc(m->length + 1)) !=
	    NULL) {
		memcpy(s, m->data, m->length);
		s[m->length] = '\0';
	}
	BIO_free(b);
	return s;
}

EVP_PKEY *
acmecsr_key_load(const char *pem, size_t len)
{
	BIO		*b;
	EVP_PKEY	*k;

	if (len > INT32_MAX ||
	    (b = BIO_new_mem_buf(pem, (int)len)) == NULL)
		return NULL;
	k = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
	BIO_free(b);
	ERR_clear_error();
	return k;
}

/* <t> as Unix seconds into *<out>; 0 or -1. */
static int
acmecsr_time(const ASN1_TIME *t, int64_t *out)
{
	struct tm	tm;

	if (ASN1_TIME_to_tm(t, &tm) != 1)
		return -1;
	*out = (int64_t)timegm(&tm);
	return 0;
}

static int
acmecsr_leaf_info(X509 *x, struct acmecsr_leaf *leaf)
{
	BIGNUM	*bn;
	char	*hex;
	int	 rc = -1;

	if (acmecsr_time(X509_get0_notBefore(x), &leaf->not_before) == -1 ||
	    acmecsr_time(X509_get0_notAfter(x), &leaf->not_after) == -1 ||
	    (bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL)) ==
	    NULL)
		return -1;
	if ((hex = BN_bn2hex(bn)) != NULL &&
	    strlen(hex) < sizeof(leaf->serial)) {
		(void)snprintf(leaf->serial, sizeof(leaf->serial), "%s", hex);
		rc = 0;
	}
	OPENSSL_free(hex);
	BN_free(bn);
	return rc;
}

int
acmecsr_chain_check(const char *pem, size_t len, const char *host,
    EVP_PKEY *key, int64_t now, struct acmecsr_leaf *leaf, char *err,
    size_t errlen)
{
	BIO		*b;
	X509		*x = NULL;
	const char	*why = NULL;

	if (len > INT32_MAX || (b = BIO_new_mem_buf(pem, (int)len)) == NULL)
		return -1;
	if ((x = PEM_read_bio_X509(b, NULL, NULL, NULL)) == NULL)
		why = "no PEM certificate";
	else if (X509_check_host(x, host, 0, 0, NULL) != 1)
		why = "the leaf does not name the host";
	else if (X509_check_private_key(x, key) != 1)
		why = "the leaf is not for the key of the CSR";
	else if (acmecsr_leaf_info(x, leaf) == -1)
		why = "the leaf's validity or serial is unreadable";
	else if (now < leaf->not_before || now > leaf->not_after)
		why = "the leaf is not valid now";
	X509_free(x);
	BIO_free(b);
	ERR_clear_error();
	if (why != NULL) {
		(void)snprintf(err, errlen, "%s", why);
		return -1;
	}
	return 0;
}
