/*
 * SHA-256 for the hot path.  OpenSSL 3's one-shot SHA256() looks the
 * implementation up (EVP_MD_fetch) on every call, which was most of the
 * cost of hashing a session cookie; this fetches it once per process.
 */
#ifndef POSTERN_DIGEST_H
#define POSTERN_DIGEST_H

#include <stddef.h>

#define DIGEST_SHA256_LEN	32

/* The SHA-256 of <len> bytes at <p> into <md>.  0, or -1 (out of memory:
 * <md> is then cleared, never left half-written). */
int	digest_sha256(const void *p, size_t len,
	    unsigned char md[DIGEST_SHA256_LEN]);

#endif
