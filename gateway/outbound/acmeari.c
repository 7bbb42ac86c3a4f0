/*
 * ARI (see acmeari.h).
 */
#include <stdio.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "acmeari.h"
#include "encode.h"

/* The leaf of PEM <chain>, or NULL. */
static X509 *
acme_ari_leaf(const char *chain)
{
	BIO	*b;
	X509	*x = NULL;

	if ((b = BIO_new_mem_buf(chain, -1)) != NULL)
		x = PEM_read_bio_X509(b, NULL, NULL, NULL);
	BIO_free(b);
	ERR_clear_error();
	return x;
}

/* base64url of <n> bytes <p> at <out>, with <size> left; its length or
 * -1. */
static int
acme_ari_b64(const unsigned char *p, size_t n, char *out, size_t size)
{
	if (n == 0 || ENCODE_B64URL_LEN(n) + 1 > size)
		return -1;
	return encode_b64url(p, n, out, size);
}

int
acme_ari_certid(const char *chain, char *out, size_t size)
{
	X509			*x;
	const ASN1_OCTET_STRING	*kid;
	unsigned char		*der = NULL;
	const unsigned char	*p;
	long			 len;
	int			 n, tag, cls, rc = -1, dl;

	if ((x = acme_ari_leaf(chain)) == NULL)
		return -1;
	kid = X509_get0_authority_key_id(x);
	/* the serial's DER, then its content octets past tag and length */
	if (kid != NULL && (dl = i2d_ASN1_INTEGER(X509_get0_serialNumber(x),
	    &der)) > 0) {
		p = der;
		if (!(ASN1_get_object(&p, &len, &tag, &cls, dl) & 0x80) &&
		    tag == V_ASN1_INTEGER && (n = acme_ari_b64(
		    ASN1_STRING_get0_data(kid), (size_t)ASN1_STRING_length(kid),
		    out, size)) > 0 && (size_t)n + 1 < size) {
			out[n] = '.';
			if (acme_ari_b64(p, (size_t)len, out + n + 1,
			    size - (size_t)n - 1) > 0)
				rc = 0;
		}
	}
	OPENSSL_free(der);
	X509_free(x);
	if (rc == -1 && size > 0)
		out[0] = '\0';
	return rc;
}

int64_t
acme_ari_pick(int64_t start, int64_t end, int64_t now, uint64_t rnd)
{
	int64_t	t = start;

	if (end > start)
		t = start + (int64_t)(rnd % (uint64_t)(end - start));
	return t < now ? now : t;
}

int64_t
acme_ari_wait(int64_t retry_after)
{
	if (retry_after < 0)
		return ACME_ARI_WAIT;
	if (retry_after < ACME_ARI_WAIT_MIN)
		return ACME_ARI_WAIT_MIN;
	return retry_after > ACME_ARI_WAIT_MAX ? ACME_ARI_WAIT_MAX :
	    retry_after;
}
