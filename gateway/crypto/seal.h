/*
 * Sealed values: secrets kept outside the process (TOTP seeds, secrets of
 * the configuration, ACME account and certificate keys in Redis) are
 * encrypted with AES-256-GCM under a key derived from the gateway secret
 * (secret.h), with a label naming their owner as additional data, so a
 * sealed value copied to another owner (another user, another host) does
 * not open.  The sealed form is text: "v1." followed by the base64url of
 * nonce || ciphertext || tag, with a fresh random 96-bit nonce each time.
 */
#ifndef POSTERN_SEAL_H
#define POSTERN_SEAL_H

#include <stddef.h>

#include "encode.h"

#define SEAL_NONCE	12	/* AES-GCM's 96-bit IV (NIST SP 800-38D) */
#define SEAL_TAG	16
/* Bytes of the sealed form of <n> bytes, NUL included. */
#define SEAL_SIZE(n)	(3 + ENCODE_B64URL_LEN(SEAL_NONCE + (n) + SEAL_TAG) + 1)

/*
 * Seal the <len> bytes (at least 1) at <in> under <key> (32 bytes) for the
 * owner <aad> (not empty) into <out> (<size> bytes, at least
 * SEAL_SIZE(len)).  0, or -1 (then <out> holds "").
 */
int	seal_box(const unsigned char *key, const char *aad,
	    const unsigned char *in, size_t len, char *out, size_t size);
/*
 * Open <sealed> of owner <aad> under <key> into <out> (<size> bytes), the
 * length in *<len>.  0, or -1 if it is malformed, longer than <size>, was
 * sealed for another owner or key, or was changed in any way (then <out>
 * is wiped: no unauthenticated byte is left in it).
 */
int	seal_open(const unsigned char *key, const char *aad,
	    const char *sealed, unsigned char *out, size_t size, size_t *len);

#endif
