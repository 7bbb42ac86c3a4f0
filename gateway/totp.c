/*
 * TOTP codes and sealed seeds (see totp.h).
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "encode.h"
#include "totp.h"

#define TOTP_NONCE	12
#define TOTP_TAG	16

static const char totp_b32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

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
		acc = (acc << 8) | in[i];
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

/*
 * Decode <s>, <width> bits per character of <alphabet> (base32: 5,
 * base64url: 6), skipping the characters in <skip>, into <out>; the byte
 * count, or -1 if malformed or longer than <size>.
 */
static long
totp_decode(const char *s, const char *alphabet, unsigned int width,
    const char *skip, unsigned char *out, size_t size)
{
	unsigned int	acc = 0, bits = 0;
	size_t		o = 0;
	const char	*p;

	for (; *s != '\0'; s++) {
		if (strchr(skip, *s) != NULL)
			continue;
		if ((p = strchr(alphabet, width == 5 ?
		    toupper((unsigned char)*s) : *s)) == NULL)
			return -1;
		acc = (acc << width) | (unsigned int)(p - alphabet);
		bits += width;
		if (bits >= 8) {
			if (o == size)
				return -1;
			out[o++] = (unsigned char)(acc >> (bits - 8));
			bits -= 8;
		}
		acc &= 0xff;
	}
	return (long)o;
}

long
totp_base32_decode(const char *s, unsigned char *out, size_t size)
{
	return totp_decode(s, totp_b32, 5, " -=", out, size);
}

uint32_t
totp_code(const unsigned char *key, size_t keylen, uint64_t step, int digits)
{
	unsigned char	msg[8], md[EVP_MAX_MD_SIZE];
	unsigned int	mdlen = 0, off, i;
	uint32_t	bin, mod = 1;

	for (i = 0; i < 8; i++)
		msg[i] = (unsigned char)(step >> (56 - 8 * i));
	if (HMAC(EVP_sha1(), key, (int)keylen, msg, sizeof(msg), md,
	    &mdlen) == NULL || mdlen < 20)
		return UINT32_MAX;
	off = md[mdlen - 1] & 0x0f;
	bin = ((uint32_t)(md[off] & 0x7f) << 24) |
	    ((uint32_t)md[off + 1] << 16) | ((uint32_t)md[off + 2] << 8) |
	    md[off + 3];
	OPENSSL_cleanse(md, sizeof(md));
	for (i = 0; i < (unsigned int)digits; i++)
		mod *= 10;
	return bin % mod;
}

int
totp_verify(const unsigned char *key, size_t keylen, const char *input,
    int64_t now, int64_t last_step, int64_t *matched)
{
	char		 typed[TOTP_DIGITS + 1], want[TOTP_DIGITS + 1];
	size_t		 n = 0;
	int64_t		 step, d, found = -1;
	int		 hit, replay = 0;

	for (; *input != '\0'; input++) {
		if (*input == ' ' || *input == '-')
			continue;
		if (!isdigit((unsigned char)*input) || n == TOTP_DIGITS)
			return -1;
		typed[n++] = *input;
	}
	if (n != TOTP_DIGITS || now < TOTP_PERIOD)
		return -1;
	typed[n] = '\0';
	step = now / TOTP_PERIOD;
	for (d = -1; d <= 1; d++) {	/* all three, whatever matches */
		(void)snprintf(want, sizeof(want), "%0*u", TOTP_DIGITS,
		    (unsigned int)totp_code(key, keylen, (uint64_t)(step + d),
		    TOTP_DIGITS));
		hit = CRYPTO_memcmp(want, typed, TOTP_DIGITS) == 0;
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

/* Percent-encode <s> (RFC 3986 unreserved kept) at <out>+<*o>. */
static int
totp_pct(const char *s, char *out, size_t size, size_t *o)
{
	static const char hex[] = "0123456789ABCDEF";

	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (*o + 4 >= size)
			return -1;
		if (isalnum(c) || strchr("-._~@", c) != NULL)
			out[(*o)++] = (char)c;
		else {
			out[(*o)++] = '%';
			out[(*o)++] = hex[c >> 4];
			out[(*o)++] = hex[c & 15];
		}
	}
	out[*o] = '\0';
	return 0;
}

int
totp_uri(const char *issuer, const char *account, const char *b32,
    char *out, size_t size)
{
	size_t	o;
	int	n;

	n = snprintf(out, size, "otpauth://totp/");
	if (n < 0 || (size_t)n >= size)
		return -1;
	o = (size_t)n;
	if (totp_pct(issuer, out, size, &o) == -1 || o + 2 >= size)
		return -1;
	out[o++] = ':';
	if (totp_pct(account, out, size, &o) == -1)
		return -1;
	n = snprintf(out + o, size - o, "?secret=%s&issuer=", b32);
	if (n < 0 || (size_t)n >= size - o)
		return -1;
	o += (size_t)n;
	if (totp_pct(issuer, out, size, &o) == -1)
		return -1;
	n = snprintf(out + o, size - o, "&algorithm=SHA1&digits=%d&period=%d",
	    TOTP_DIGITS, TOTP_PERIOD);
	return n < 0 || (size_t)n >= size - o ? -1 : 0;
}

/* AES-256-GCM of <in> into <out> (encrypt) or back; 0 or -1. */
static int
totp_gcm(int enc, const unsigned char *key, const unsigned char *nonce,
    const char *aad, const unsigned char *in, size_t len, unsigned char *out,
    unsigned char *tag)
{
	EVP_CIPHER_CTX	*ctx;
	int		 n, ok;

	if ((ctx = EVP_CIPHER_CTX_new()) == NULL)
		return -1;
	ok = EVP_CipherInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL,
	    enc) == 1 &&
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, TOTP_NONCE,
	    NULL) == 1 &&
	    EVP_CipherInit_ex(ctx, NULL, NULL, key, nonce, enc) == 1 &&
	    EVP_CipherUpdate(ctx, NULL, &n, (const unsigned char *)aad,
	    (int)strlen(aad)) == 1 &&
	    EVP_CipherUpdate(ctx, out, &n, in, (int)len) == 1 &&
	    (enc || EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, TOTP_TAG,
	    tag) == 1) &&
	    EVP_CipherFinal_ex(ctx, out + n, &n) == 1 &&
	    (!enc || EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, TOTP_TAG,
	    tag) == 1);
	EVP_CIPHER_CTX_free(ctx);
	return ok ? 0 : -1;
}

int
totp_seal(const unsigned char *key, const char *user,
    const unsigned char *secret, size_t len, char *out, size_t size)
{
	unsigned char	buf[TOTP_NONCE + TOTP_SECRET_MAX + TOTP_TAG];
	int		rc = -1;

	if (len == 0 || len > TOTP_SECRET_MAX || size < 4)
		return -1;
	if (RAND_bytes(buf, TOTP_NONCE) == 1 &&
	    totp_gcm(1, key, buf, user, secret, len, buf + TOTP_NONCE,
	    buf + TOTP_NONCE + len) == 0) {
		memcpy(out, "v1.", 3);
		if (encode_b64url(buf, TOTP_NONCE + len + TOTP_TAG, out + 3,
		    size - 3) > 0)
			rc = 0;
	}
	OPENSSL_cleanse(buf, sizeof(buf));
	return rc;
}


int
totp_open(const unsigned char *key, const char *user, const char *sealed,
    unsigned char *out, size_t size, size_t *len)
{
	unsigned char	buf[TOTP_NONCE + TOTP_SECRET_MAX + TOTP_TAG];
	long		n;
	size_t		clen;
	int		rc = -1;

	if (strncmp(sealed, "v1.", 3) != 0 ||
	    strlen(sealed + 3) > (sizeof(buf) * 4 + 2) / 3 ||
	    (n = totp_decode(sealed + 3, encode_b64url_chars, 6, "", buf,
	    sizeof(buf))) <
	    TOTP_NONCE + TOTP_TAG + 1)
		return -1;
	clen = (size_t)n - TOTP_NONCE - TOTP_TAG;
	if (clen <= size && totp_gcm(0, key, buf, user, buf + TOTP_NONCE,
	    clen, out, buf + TOTP_NONCE + clen) == 0) {
		*len = clen;
		rc = 0;
	} else
		OPENSSL_cleanse(out, size);
	OPENSSL_cleanse(buf, sizeof(buf));
	return rc;
}
