/*
 * SHA-256 with the implementation fetched once (see digest.h).
 */
#include <pthread.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/sha.h>

#include "digest.h"

static pthread_once_t	 digest_once = PTHREAD_ONCE_INIT;
static EVP_MD		*digest_md;	/* kept for the process' lifetime */

static void
digest_fetch(void)
{
	digest_md = EVP_MD_fetch(NULL, "SHA256", NULL);
}

int
digest_sha256(const void *p, size_t len, unsigned char md[DIGEST_SHA256_LEN])
{
	(void)pthread_once(&digest_once, digest_fetch);
	if (digest_md != NULL &&
	    EVP_Digest(p, len, md, NULL, digest_md, NULL) == 1)
		return 0;
	/* no fetched implementation: the one-shot call, which looks it up */
	if (SHA256(p, len, md) != NULL)
		return 0;
	memset(md, 0, DIGEST_SHA256_LEN);
	return -1;
}
