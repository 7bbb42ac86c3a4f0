/*
 * TOTP codes and sealed seeds (see totp.h).  Everything here is pure: no
 * I/O, no clock (the caller passes <now>), randomness only from RAND_bytes.
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "encode.h"
#include "secret.h"
#include "totp.h"


static const char totp_b32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/* What the URI tells authenticator apps must match what totp_verify does. */
#define TOTP_URI_PARAMS	"&algorithm=SHA1&digits=6&period=30"
_Static_assert(TOTP_DIGITS == 6 && TOTP_PERIOD == 30,
    "TOTP_URI_PARAMS is out of date");

int
totp_new_secret(unsigned char out[TOTP_SECRET_LEN])
{
	return RAND_bytes(out, TOTP_SECRET_LEN) == 1 ? 0 : -1;
}

int
totp_base32(const unsigned char *in, size_t n, char *out, size_t size)
{
	size_t		i, o = 0;
	unsigned int	acc = 0, bits = 0;

	if (size < (n * 8 + 4) / 5 + 1)
		return -1;
	for (i = 0; i < n; i++) {
		acc = ((acc << 8) | in[i]) & 0xfff;	/* < 13 bits live */
		bits += 8;
		while (bits >= 5) {
			out[o++] = totp_b32[(acc >> (bits - 5)) & 31];
			bits -= 5;
		}
	}
	if (bits > 0)
		out[o++] = totp_b32[(acc << (5 - bits)) & 31];
	out[o] = '\0';
	return 0;
}

long
totp_base32_decode(const char *s, unsigned char *out, size_t size)
{
	return encode_base_decode(s, totp_b32, 5, " -=", out, size);
}

/* RFC 4226 §5.3 dynamic truncation of HMAC-SHA1 <md>. */
static uint32_t
totp_truncate(const unsigned char *md)
{
	unsigned int	off = md[19] & 0x0f;

	return ((uint32_t)(md[off] & 0x7f) << 24) |
	    ((uint32_t)md[off + 1] << 16) | ((uint32_t)md[off + 2] << 8) |
	    md[off + 3];
}

uint32_t
totp_code(const unsigned char *key, size_t keylen, uint64_t step, int digits)
{
	unsigned char	msg[8], md[EVP_MAX_MD_SIZE];
	unsigned int	mdlen = 0, i;
	uint32_t	bin, mod = 1;

	if (digits < 6 || digits > 8 || keylen > INT_MAX)
		return TOTP_CODE_ERR;
	for (i = 0; i < 8; i++)		/* big-endian (RFC 6238 §4) */
		msg[i] = (unsigned char)(step >> (56 - 8 * i));
	if (HMAC(EVP_sha1(), key, (int)keylen, msg, sizeof(msg), md,
	    &mdlen) == NULL || mdlen != 20) {
		OPENSSL_cleanse(md, sizeof(md));
		return TOTP_CODE_ERR;
	}
	bin = totp_truncate(md);
	OPENSSL_cleanse(md, sizeof(md));
	for (i = 0; i < (unsigned int)digits; i++)
		mod *= 10;
	return bin % mod;
}

/*
 * Copy the digits of typed code <in> into <typed> (TOTP_DIGITS + 1 bytes),
 * skipping spaces and '-'; 0, or -1 unless exactly TOTP_DIGITS ASCII
 * digits remain.
 */
static int
totp_typed(const char *in, char *typed)
{
	size_t	n = 0;

	for (; *in != '\0'; in++) {
		if (*in == ' ' || *in == '-')
			continue;
		if (*in < '0' || *in > '9' || n == TOTP_DIGITS)
			return -1;
		typed[n++] = *in;
	}
	typed[n] = '\0';
	return n == TOTP_DIGITS ? 0 : -1;
}

int
totp_verify(const unsigned char *key, size_t keylen, const char *input,
    int64_t now, int64_t last_step, int64_t *matched)
{
	char		 typed[TOTP_DIGITS + 1], want[16];
	uint32_t	 code;
	int64_t		 step, d, found = -1;
	int		 hit, replay = 0;

	if (now < TOTP_PERIOD || totp_typed(input, typed) == -1) {
		OPENSSL_cleanse(typed, sizeof(typed));
		return -1;
	}
	step = now / TOTP_PERIOD;
	for (d = -1; d <= 1; d++) {	/* all three, whatever matches */
		code = totp_code(key, keylen, (uint64_t)(step + d),
		    TOTP_DIGITS);
		(void)snprintf(want, sizeof(want), "%0*lu", TOTP_DIGITS,
		    (unsigned long)code);
		hit = CRYPTO_memcmp(want, typed, TOTP_DIGITS + 1) == 0 &&
		    code != TOTP_CODE_ERR;
		if (hit && found == -1 && step + d > last_step)
			found = step + d;
		replay |= hit && step + d <= last_step;
	}
	OPENSSL_cleanse(want, sizeof(want));
	OPENSSL_cleanse(typed, sizeof(typed));
	if (found == -1)
		return replay ? -2 : -1;
	*matched = found;
	return 0;
}

/* Percent-encode <s> (RFC 3986 unreserved and '@' kept) at <out>+<*o>. */
static int
totp_pct(const char *s, char *out, size_t size, size_t *o)
{
	int	n;

	if ((n = encode_pct(s, "@", out + *o, size - *o)) == -1)
		return -1;
	*o += (size_t)n;
	return 0;
}

/* Append <what> at <out>+<*o>; 0, or -1 if it does not fit. */
static int
totp_cat(char *out, size_t size, size_t *o, const char *what)
{
	size_t	n = strlen(what);

	if (*o + n >= size)
		return -1;
	memcpy(out + *o, what, n + 1);
	*o += n;
	return 0;
}

int
totp_uri(const char *issuer, const char *account, const char *b32,
    char *out, size_t size)
{
	size_t	o = 0;

	if (size == 0)
		return -1;
	out[0] = '\0';
	if (*b32 == '\0' || strspn(b32, totp_b32) != strlen(b32) ||
	    totp_cat(out, size, &o, "otpauth://totp/") == -1 ||
	    totp_pct(issuer, out, size, &o) == -1 ||
	    totp_cat(out, size, &o, ":") == -1 ||
	    totp_pct(account, out, size, &o) == -1 ||
	    totp_cat(out, size, &o, "?secret=") == -1 ||
	    totp_cat(out, size, &o, b32) == -1 ||
	    totp_cat(out, size, &o, "&issuer=") == -1 ||
	    totp_pct(issuer, out, size, &o) == -1 ||
	    totp_cat(out, size, &o, TOTP_URI_PARAMS) == -1) {
		out[0] = '\0';
		return -1;
	}
	return 0;
}

int
totp_seal(const unsigned char *key, const char *user,
    const unsigned char *secret, size_t len, char *out, size_t size)
{
	if (size > 0)
		out[0] = '\0';
	if (*user == '\0' || len == 0 || len > TOTP_SEAL_MAX)
		return -1;
	return secret_seal(key, user, strlen(user), secret, len, out, size);
}

int
totp_open(const unsigned char *key, const char *user, const char *sealed,
    unsigned char *out, size_t size, size_t *len)
{
	if (*user == '\0') {
		OPENSSL_cleanse(out, size);
		return -1;
	}
	return secret_open(key, user, strlen(user), sealed, out, size, len);
}
