/*
 * Sealed values (see seal.h).
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "encode.h"
#include "seal.h"
#include "secret.h"

_Static_assert(SEAL_NONCE == SECRET_GCM_NONCE && SEAL_TAG == SECRET_GCM_TAG,
    "seal.h and secret.h disagree on AES-GCM's sizes");

int
seal_box(const unsigned char *key, const char *aad, const unsigned char *in,
    size_t len, char *out, size_t size)
{
	unsigned char	*buf;
	size_t		 n = SEAL_NONCE + len + SEAL_TAG;
	int		 rc = -1;

	if (size > 0)
		out[0] = '\0';
	if (*aad == '\0' || len == 0 || len > size || size < SEAL_SIZE(len) ||
	    (buf = malloc(n)) == NULL)
		return -1;
	if (RAND_bytes(buf, SEAL_NONCE) == 1 &&
	    secret_gcm(1, key, buf, aad, strlen(aad), in, len,
	    buf + SEAL_NONCE, buf + SEAL_NONCE + len) == 0) {
		memcpy(out, "v1.", 3);
		if (encode_b64url(buf, n, out + 3, size - 3) > 0)
			rc = 0;
		else
			out[0] = '\0';
	}
	OPENSSL_clear_free(buf, n);
	return rc;
}

int
seal_open(const unsigned char *key, const char *aad, const char *sealed,
    unsigned char *out, size_t size, size_t *len)
{
	unsigned char	*buf = NULL;
	size_t		 slen, cap = 0, clen;
	long		 n;
	int		 rc = -1;

	if (*aad == '\0' || strncmp(sealed, "v1.", 3) != 0)
		goto out;
	slen = strlen(sealed + 3);
	cap = SEAL_NONCE + size + SEAL_TAG;
	if (slen > ENCODE_B64URL_LEN(cap) || (buf = malloc(cap)) == NULL ||
	    (n = encode_b64url_decode(sealed + 3, slen, buf, cap)) <
	    SEAL_NONCE + 1 + SEAL_TAG)
		goto out;
	clen = (size_t)n - SEAL_NONCE - SEAL_TAG;
	if (secret_gcm(0, key, buf, aad, strlen(aad), buf + SEAL_NONCE, clen,
	    out, buf + SEAL_NONCE + clen) == 0) {
		*len = clen;
		rc = 0;
	}
out:
	if (rc == -1 && size > 0)
		OPENSSL_cleanse(out, size);	/* no unauthenticated bytes */
	if (buf != NULL)
		OPENSSL_clear_free(buf, cap);
	return rc;
}
