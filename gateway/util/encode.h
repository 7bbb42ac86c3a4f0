/*
 * Text encodings of binary values the gateway hands out: base64url without
 * padding (RFC 4648 §5; JWTs, cookie ids, CSRF tokens), lower-case hex
 * (Redis keys, request ids) and percent-encoding (RFC 3986 §2.1; URLs,
 * form bodies), with the decoders.
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
/*
 * Decode <s>, <width> bits per character of <alphabet> (base32: 5, case
 * folded; base64url: 6), skipping the characters in <skip>, into <out>.
 * Only the canonical encoding is accepted (RFC 4648 §3.5): a last group
 * too short to hold a byte or with non-zero pad bits is refused, so that
 * no two strings decode to the same bytes.  Returns the byte count, or -1
 * if malformed or longer than <size>.
 */
long	encode_base_decode(const char *s, const char *alphabet,
	    unsigned int width, const char *skip, unsigned char *out,
	    size_t size);
/* The hex digits by value, lower and upper case ("0123456789abcdef"). */
extern const char encode_hex_lower[];
extern const char encode_hex_upper[];

/* Lower-case hex of <n> bytes into <out> (at least 2n + 1 bytes). */
void	encode_hex(const unsigned char *in, size_t n, char *out);
/* The value of hex digit <c> (either case), or -1. */
int	encode_hexval(int c);

/* Is <c> RFC 3986 unreserved (ALPHA, DIGIT, "-", ".", "_", "~")? */
int	encode_unreserved(unsigned char c);
/* "%XX" (upper-case hex, RFC 3986 §2.1) for byte <c> at <out>, no NUL. */
void	encode_pct_put(char *out, unsigned char c);
/*
 * Percent-encode the string <s> into <out> (<size> bytes): RFC 3986
 * unreserved characters and those in <keep> stay as they are, every other
 * byte becomes "%XX".  Returns the length, or -1 if it does not fit (then
 * <out> holds the encoding of the longest prefix that fits, NUL-terminated,
 * or nothing if <size> is 0).
 */
int	encode_pct(const char *s, const char *keep, char *out, size_t size);
/*
 * The byte that the escape "%XX" at <s> (<left> bytes long) stands for, or
 * -1 if <left> is below 3, <s> does not start with '%' or XX is not hex.
 */
int	encode_pct_byte(const char *s, size_t left);
/*
 * Decode the percent-encoded <len> bytes at <in> into <out> (at least
 * len + 1 bytes), NUL-terminated; with <plus>, '+' is a space
 * (application/x-www-form-urlencoded).  The length in *<outlen>.  Returns
 * 0, or -1 on a '%' not followed by two hex digits (then <out> holds
 * part of the decoding, not NUL-terminated).
 */
int	encode_pct_decode(const char *in, size_t len, int plus, char *out,
	    size_t *outlen);
/*
 * The Redis glob pattern (SCAN MATCH, KEYS) that matches exactly the
 * strings starting with <literal> (a key prefix, which may hold a host
 * name, an org slug or the configured redis.prefix): each of '*', '?',
 * '[', ']' and backslash escaped with a backslash, then '*'.  Into <out>
 * (<size> bytes); 0, or -1 if it does not fit (<out> is then "").
 */
int	encode_glob_prefix(const char *literal, char *out, size_t size);
/*
 * The length (1 to 4) of the well-formed UTF-8 character at <s>, <n>
 * bytes left: no overlong form, surrogate or code point past U+10FFFF;
 * 0 if it is not one (or <n> is 0).
 */
size_t	encode_utf8_len(const unsigned char *s, size_t n);

#endif
