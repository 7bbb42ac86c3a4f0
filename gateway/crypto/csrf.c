/*
 * Stateless synchronizer tokens and same-origin checks (see csrf.h).
 */
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "csrf.h"
#include "encode.h"

int
csrf_new_id(char *out, size_t outlen)
{
	unsigned char	rnd[32];

	if (outlen < CSRF_ID_LEN + 1 || RAND_bytes(rnd, sizeof(rnd)) != 1)
		return -1;
	(void)encode_b64url(rnd, sizeof(rnd), out, outlen);
	OPENSSL_cleanse(rnd, sizeof(rnd));
	return 0;
}

int
csrf_token(const unsigned char *key, const char *id, char *out,
    size_t outlen)
{
	unsigned char	mac[EVP_MAX_MD_SIZE];
	unsigned int	maclen = 0;

	if (outlen < CSRF_TOKEN_LEN + 1 || strlen(id) != CSRF_ID_LEN)
		return -1;
	if (HMAC(EVP_sha256(), key, 32, (const unsigned char *)id,
	    strlen(id), mac, &maclen) == NULL || maclen != 32)
		return -1;
	(void)encode_b64url(mac, maclen, out, outlen);
	return 0;
}

int
csrf_verify(const unsigned char *key, const char *id, const char *token)
{
	char	want[CSRF_TOKEN_LEN + 1];

	if (id == NULL || token == NULL || strlen(token) != CSRF_TOKEN_LEN ||
	    csrf_token(key, id, want, sizeof(want)) == -1)
		return 0;
	return CRYPTO_memcmp(want, token, CSRF_TOKEN_LEN) == 0;
}

int
csrf_origin_ok(const char *origin, const char *referer, const char *host,
    int tls)
{
	char	self[300];
	size_t	n;
	int	len;

	len = snprintf(self, sizeof(self), "%s://%s", tls ? "https" : "http",
	    host != NULL ? host : "");
	if (host == NULL || *host == '\0' || len < 0 ||
	    (size_t)len >= sizeof(self))
		return 0;
	n = (size_t)len;
	if (origin != NULL)
		return strcasecmp(origin, self) == 0;
	return referer != NULL && strncasecmp(referer, self, n) == 0 &&
	    referer[n] == '/';
}
