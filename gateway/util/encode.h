/*
 * Text encodings of binary values the gateway hands out: base64url without
 * padding (RFC 4648 §5; JWTs, cookie ids, CSRF tokens) and lower-case hex
 * (Redis keys, request ids).
 */
#ifndef POSTERN_ENCODE_H
#define POSTERN_ENCODE_H

#include <stddef.h>

/* The base64url alphabet, for validating encoded values. */
extern const char encode_b64url_chars[];

/* Length of the unpadded base64url encoding of <n> bytes. */
#define ENCODE_B64URL_LEN(n)	(((n) * 4 + 2) / 3)

/*
 * Encode <n> bytes at <in> into <out> (<outlen> bytes, at least
 * ENCODE_B64URL_LEN(n) + 1), NUL-terminated.  Returns the length, or -1 if
 * <out> is too small (then <out> holds "").
 */
int	encode_b64url(const unsigned char *in, size_t n, char *out,
	    size_t outlen);
/* Lower-case hex of <n> bytes into <out> (at least 2n + 1 bytes). */
void	encode_hex(const unsigned char *in, size_t n, char *out);

#endif
