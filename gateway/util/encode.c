/*
 * base64url and hex encoders (see encode.h).
 */
#include <stdint.h>

#include "encode.h"

const char encode_b64url_chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

int
encode_b64url(const unsigned char *in, size_t n, char *out, size_t outlen)
{
	size_t		i, o = 0;
	uint32_t	v;

	if (outlen < ENCODE_B64URL_LEN(n) + 1) {
		if (outlen > 0)
			out[0] = '\0';
		return -1;
	}
	for (i = 0; i < n; i += 3) {
		v = (uint32_t)in[i] << 16;
		if (i + 1 < n)
			v |= (uint32_t)in[i + 1] << 8;
		if (i + 2 < n)
			v |= in[i + 2];
		out[o++] = encode_b64url_chars[(v >> 18) & 63];
		out[o++] = encode_b64url_chars[(v >> 12) & 63];
		if (i + 1 < n)
			out[o++] = encode_b64url_chars[(v >> 6) & 63];
		if (i + 2 < n)
			out[o++] = encode_b64url_chars[v & 63];
	}
	out[o] = '\0';
	return (int)o;
}

void
encode_hex(const unsigned char *in, size_t n, char *out)
{
	static const char hex[] = "0123456789abcdef";
	size_t		i;

	for (i = 0; i < n; i++) {
		out[2 * i] = hex[in[i] >> 4];
		out[2 * i + 1] = hex[in[i] & 15];
	}
	out[2 * n] = '\0';
}
