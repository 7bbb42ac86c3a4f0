/*
 * base64url, hex and percent-encoding (see encode.h).
 */
#include <stdint.h>
#include <string.h>

#include "encode.h"

const char encode_hex_lower[] = "0123456789abcdef";
const char encode_hex_upper[] = "0123456789ABCDEF";

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
	size_t		i;

	for (i = 0; i < n; i++) {
		out[2 * i] = encode_hex_lower[in[i] >> 4];
		out[2 * i + 1] = encode_hex_lower[in[i] & 15];
	}
	out[2 * n] = '\0';
}

int
encode_hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

void
encode_pct_put(char *out, unsigned char c)
{
	out[0] = '%';
	out[1] = encode_hex_upper[c >> 4];
	out[2] = encode_hex_upper[c & 15];
}

int
encode_unreserved(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
	    c == '~';
}

int
encode_pct(const char *s, const char *keep, char *out, size_t size)
{
	size_t		o = 0, n;
	unsigned char	c;

	if (size == 0)
		return -1;
	for (; *s != '\0'; s++) {
		c = (unsigned char)*s;
		n = encode_unreserved(c) || strchr(keep, c) != NULL ? 1 : 3;
		if (o + n >= size) {
			out[o] = '\0';
			return -1;
		}
		if (n == 1)
			out[o] = (char)c;
		else
			encode_pct_put(out + o, c);
		o += n;
	}
	out[o] = '\0';
	return o > INT32_MAX ? -1 : (int)o;
}

int
encode_pct_byte(const char *s, size_t left)
{
	int	hi, lo;

	if (left < 3 || s[0] != '%' ||
	    (hi = encode_hexval((unsigned char)s[1])) == -1 ||
	    (lo = encode_hexval((unsigned char)s[2])) == -1)
		return -1;
	return hi << 4 | lo;
}

int
encode_pct_decode(const char *in, size_t len, int plus, char *out,
    size_t *outlen)
{
	size_t	i, o = 0;
	int	c;

	for (i = 0; i < len; i++) {
		if (plus && in[i] == '+')
			out[o++] = ' ';
		else if (in[i] != '%')
			out[o++] = in[i];
		else if ((c = encode_pct_byte(in + i, len - i)) != -1) {
			out[o++] = (char)c;
			i += 2;
		} else
			return -1;
	}
	out[o] = '\0';
	*outlen = o;
	return 0;
}

/* ASCII upper case, whatever the locale. */
static int
encode_upper(int c)
{
	return c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c;
}

/* RFC 4648 base32 and base64url (see encode.h). */
long
encode_base_decode(const char *s, const char *alphabet, unsigned int width,
    const char *skip, unsigned char *out, size_t size)
{
	unsigned int	acc = 0, bits = 0;
	size_t		o = 0;
	const char	*p;
	int		c;

	for (; *s != '\0'; s++) {
		if (strchr(skip, *s) != NULL)
			continue;
		c = width == 5 ? encode_upper((unsigned char)*s) : *s;
		if ((p = strchr(alphabet, c)) == NULL)
			return -1;
		acc = ((acc << width) | (unsigned int)(p - alphabet)) & 0x3fff;
		bits += width;
		if (bits >= 8) {
			if (o == size)
				return -1;
			out[o++] = (unsigned char)(acc >> (bits - 8));
			bits -= 8;
		}
	}
	if (bits >= width || (acc & ((1u << bits) - 1)) != 0)
		return -1;
	return (long)o;
}

int
encode_glob_prefix(const char *literal, char *out, size_t size)
{
	size_t	o = 0;

	for (; *literal != '\0'; literal++) {
		if (strchr("*?[]\\", *literal) != NULL) {
			if (o + 1 >= size)
				goto full;
			out[o++] = '\\';
		}
		if (o + 1 >= size)
			goto full;
		out[o++] = *literal;
	}
	if (o + 2 > size)
		goto full;
	out[o++] = '*';
	out[o] = '\0';
	return 0;
full:
	if (size > 0)
		out[0] = '\0';
	return -1;
}

size_t
encode_utf8_len(const unsigned char *s, size_t n)
{
	uint32_t	cp;
	size_t		len, i;

	if (n == 0)
		return 0;
	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4, cp = s[0] & 0x07;
	else
		return 0;
	if (n < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}
