/*
 * JWS signing for ACME (see jwssign.h).
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "encode.h"
#include "jwssign.h"

EVP_PKEY *
jwssign_p256_new(void)
{
	return EVP_EC_gen("P-256");
}

/* Whether <key> is a P-256 key. */
static int
jwssign_is_p256(EVP_PKEY *key)
{
	char	group[32];

	return key != NULL && EVP_PKEY_get_utf8_string_param(key,
	    OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group), NULL) == 1 &&
	    strcmp(group, "prime256v1") == 0;
}

int
jwssign_es256_raw(EVP_PKEY *key, const unsigned char *in, size_t n,
    unsigned char raw[64])
{
	EVP_MD_CTX		*md;
	ECDSA_SIG		*sig = NULL;
	unsigned char		 der[80];
	const unsigned char	*p = der;
	size_t			 derlen = sizeof(der);
	int			 rc = -1;

	if (!jwssign_is_p256(key) || (md = EVP_MD_CTX_new()) == NULL)
		return -1;
	if (EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key) == 1 &&
	    EVP_DigestSign(md, der, &derlen, in, n) == 1 &&
	    (sig = d2i_ECDSA_SIG(NULL, &p, (long)derlen)) != NULL &&
	    BN_bn2binpad(ECDSA_SIG_get0_r(sig), raw, 32) == 32 &&
	    BN_bn2binpad(ECDSA_SIG_get0_s(sig), raw + 32, 32) == 32)
		rc = 0;
	ECDSA_SIG_free(sig);
	EVP_MD_CTX_free(md);
	return rc;
}

/* A new JSON string of the base64url of <n> bytes, or NULL. */
static json_t *
jwssign_b64(const unsigned char *in, size_t n)
{
	char	*s;
	json_t	*v = NULL;

	if ((s = malloc(ENCODE_B64URL_LEN(n) + 1)) == NULL)
		return NULL;
	if (encode_b64url(in, n, s, ENCODE_B64URL_LEN(n) + 1) >= 0)
		v = json_string(s);
	free(s);
	return v;
}

json_t *
jwssign_jwk(EVP_PKEY *key)
{
	BIGNUM		*x = NULL, *y = NULL;
	unsigned char	 bx[32], by[32];
	json_t		*jwk = NULL;

	if (jwssign_is_p256(key) &&
	    EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_EC_PUB_X, &x) == 1 &&
	    EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_EC_PUB_Y, &y) == 1 &&
	    BN_bn2binpad(x, bx, 32) == 32 && BN_bn2binpad(y, by, 32) == 32)
		jwk = json_pack("{s:s, s:s, s:o, s:o}", "crv", "P-256",
		    "kty", "EC", "x", jwssign_b64(bx, 32),
		    "y", jwssign_b64(by, 32));
	BN_free(x);
	BN_free(y);
	return jwk;
}

int
jwssign_thumbprint(EVP_PKEY *key, char out[JWSSIGN_THUMB_SIZE])
{
	json_t		*jwk;
	char		*s = NULL;
	unsigned char	 md[32];
	int		 rc = -1;

	if ((jwk = jwssign_jwk(key)) != NULL &&
	    (s = json_dumps(jwk, JSON_COMPACT | JSON_SORT_KEYS)) != NULL &&
	    EVP_Digest(s, strlen(s), md, NULL, EVP_sha256(), NULL) == 1 &&
	    encode_b64url(md, sizeof(md), out, JWSSIGN_THUMB_SIZE) > 0)
		rc = 0;
	free(s);
	json_decref(jwk);
	return rc;
}

/* base64url of the compact text of <o> into a new string, or NULL. */
static char *
jwssign_b64json(json_t *o)
{
	char	*s, *out;
	size_t	 n;

	if ((s = json_dumps(o, JSON_COMPACT)) == NULL)
		return NULL;
	n = strlen(s);
	if ((out = malloc(ENCODE_B64URL_LEN(n) + 1)) != NULL)
		(void)encode_b64url((unsigned char *)s, n, out,
		    ENCODE_B64URL_LEN(n) + 1);
	free(s);
	return out;
}

/* The signature of "<h>.<p>" as a JSON string, or NULL. */
static json_t *
jwssign_signature(EVP_PKEY *key, const unsigned char *mac, size_t maclen,
    const char *h, const char *p)
{
	unsigned char	 sig[64];
	unsigned int	 siglen = 0;
	char		*in;
	json_t		*v = NULL;

	if (asprintf(&in, "%s.%s", h, p) == -1)
		return NULL;
	if (key != NULL ? jwssign_es256_raw(key, (unsigned char *)in,
	    strlen(in), sig) == 0 : HMAC(EVP_sha256(), mac, (int)maclen,
	    (unsigned char *)in, strlen(in), sig, &siglen) != NULL)
		v = jwssign_b64(sig, key != NULL ? 64 : siglen);
	OPENSSL_cleanse(sig, sizeof(sig));
	free(in);
	return v;
}

json_t *
jwssign_flat(EVP_PKEY *key, const unsigned char *mac, size_t maclen,
    json_t *protected, const char *payload)
{
	json_t	*jws = NULL, *sig;
	char	*h = NULL, *p = NULL;
	size_t	 n = strlen(payload);

	if (json_object_set_new(protected, "alg", json_string(key != NULL ?
	    "ES256" : "HS256")) == -1 || (h = jwssign_b64json(protected)) ==
	    NULL || (p = malloc(ENCODE_B64URL_LEN(n) + 1)) == NULL)
		goto out;
	(void)encode_b64url((const unsigned char *)payload, n, p,
	    ENCODE_B64URL_LEN(n) + 1);
	if ((sig = jwssign_signature(key, mac, maclen, h, p)) != NULL)
		jws = json_pack("{s:s, s:s, s:o}", "protected", h,
		    "payload", p, "signature", sig);
out:
	free(h);
	free(p);
	return jws;
}
