/*
 * Gateway secret and HKDF-derived keys (see secret.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "encode.h"
#include "secret.h"

#define SECRET_MAX	4096
#define SECRET_MIN	32

int
secret_hkdf(const void *salt, size_t saltlen, const void *ikm, size_t ikmlen,
    const void *info, size_t infolen, unsigned char *out, size_t outlen)
{
	EVP_KDF		*kdf;
	EVP_KDF_CTX	*ctx = NULL;
	OSSL_PARAM	 params[5], *p = params;
	int		 rc = -1;

	if ((kdf = EVP_KDF_fetch(NULL, "HKDF", NULL)) == NULL)
		return -1;
	if ((ctx = EVP_KDF_CTX_new(kdf)) == NULL)
		goto out;
	*p++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST,
	    (char *)(uintptr_t)"SHA256", 0);
	*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY,
	    (void *)(uintptr_t)ikm, ikmlen);
	*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT,
	    (void *)(uintptr_t)salt, saltlen);
	*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO,
	    (void *)(uintptr_t)info, infolen);
	*p = OSSL_PARAM_construct_end();
	if (EVP_KDF_derive(ctx, out, outlen, params) == 1)
		rc = 0;
out:
	EVP_KDF_CTX_free(ctx);
	EVP_KDF_free(kdf);
	return rc;
}

int
secret_derive(const unsigned char *ikm, size_t ikmlen, const char *label,
    unsigned char *out)
{
	return secret_hkdf("postern", 7, ikm, ikmlen, label, strlen(label),
	    out, SECRET_KEY_LEN);
}

int
secret_gcm(int enc, const unsigned char *key, const unsigned char *nonce,
    const void *aad, size_t aadlen, const unsigned char *in, size_t len,
    unsigned char *out, unsigned char *tag)
{
	EVP_CIPHER_CTX	*ctx;
	int		 n = 0, ok;

	if (len > INT32_MAX || aadlen > INT32_MAX ||
	    (ctx = EVP_CIPHER_CTX_new()) == NULL)
		return -1;
	ok = EVP_CipherInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL,
	    enc) == 1 &&
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, SECRET_GCM_NONCE,
	    NULL) == 1 &&
	    EVP_CipherInit_ex(ctx, NULL, NULL, key, nonce, enc) == 1 &&
	    (aadlen == 0 || EVP_CipherUpdate(ctx, NULL, &n, aad,
	    (int)aadlen) == 1) &&
	    (len == 0 || EVP_CipherUpdate(ctx, out, &n, in, (int)len) == 1) &&
	    (enc || EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG,
	    SECRET_GCM_TAG, tag) == 1) &&
	    EVP_CipherFinal_ex(ctx, out + (len == 0 ? 0 : n), &n) == 1 &&
	    (!enc || EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG,
	    SECRET_GCM_TAG, tag) == 1);
	EVP_CIPHER_CTX_free(ctx);
	return ok ? 0 : -1;
}

int
secret_seal(const unsigned char *key, const void *aad, size_t aadlen,
    const unsigned char *in, size_t len, char *out, size_t size)
{
	unsigned char	*buf;
	size_t		 n = SECRET_GCM_NONCE + len + SECRET_GCM_TAG;
	int		 rc = -1;

	if (size > 0)
		out[0] = '\0';
	if (len == 0 || len > INT32_MAX / 2 || size < SECRET_SEALED_LEN(len) ||
	    (buf = malloc(n)) == NULL)
		return -1;
	if (RAND_bytes(buf, SECRET_GCM_NONCE) == 1 &&
	    secret_gcm(1, key, buf, aad, aadlen, in, len,
	    buf + SECRET_GCM_NONCE, buf + SECRET_GCM_NONCE + len) == 0) {
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
secret_open(const unsigned char *key, const void *aad, size_t aadlen,
    const char *sealed, unsigned char *out, size_t size, size_t *len)
{
	unsigned char	*buf = NULL;
	size_t		 max = 0, clen;
	long		 n;
	int		 rc = -1;

	if (strncmp(sealed, "v1.", 3) != 0 || size > INT32_MAX / 2)
		goto out;
	max = SECRET_GCM_NONCE + size + SECRET_GCM_TAG;
	if (strlen(sealed + 3) > ENCODE_B64URL_LEN(max) ||
	    (buf = malloc(max)) == NULL ||
	    (n = encode_base_decode(sealed + 3, encode_b64url_chars, 6, "",
	    buf, max)) < SECRET_GCM_NONCE + 1 + SECRET_GCM_TAG)
		goto out;
	clen = (size_t)n - SECRET_GCM_NONCE - SECRET_GCM_TAG;
	if (clen <= size && secret_gcm(0, key, buf, aad, aadlen,
	    buf + SECRET_GCM_NONCE, clen, out,
	    buf + SECRET_GCM_NONCE + clen) == 0) {
		*len = clen;
		rc = 0;
	}
out:
	if (rc == -1)
		OPENSSL_cleanse(out, size);	/* no unauthenticated bytes */
	if (buf != NULL)
		OPENSSL_clear_free(buf, max);
	return rc;
}

/* ---- strength of a secret file ---- */

#define SECRET_BITS	256	/* what a secret file must hold */

enum secret_form { SECRET_RAW, SECRET_HEX, SECRET_B64, SECRET_TEXT };

static const char *const secret_forms[] = { "bytes", "hex digits",
    "base64 characters", "characters" };

/* How many of the first <n> bytes of <buf> are in <set>. */
static size_t
secret_span(const unsigned char *buf, size_t n, const char *set)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (buf[i] == '\0' || strchr(set, buf[i]) == NULL)
			break;
	return i;
}

/*
 * The form of <buf>: printable ASCII is text, and hex or base64 when its
 * characters allow (base64's '=' padding dropped from <*n>); bytes that
 * are 90% or more printable are text too (a passphrase with a few UTF-8
 * letters: 32 random bytes get there once in 3 billion); anything else
 * is raw bytes.  Line breaks and trailing blanks of text were dropped by
 * the caller.
 */
static enum secret_form
secret_form(const unsigned char *buf, size_t *n)
{
	static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789+/-_";
	size_t		i, len = *n, text = 0;

	for (i = 0; i < len; i++)
		text += buf[i] >= 0x20 && buf[i] <= 0x7e;
	if (text < len)
		return text * 10 >= len * 9 ? SECRET_TEXT : SECRET_RAW;
	if (secret_span(buf, len, "0123456789abcdefABCDEF") == len)
		return SECRET_HEX;
	while (len > 0 && buf[len - 1] == '=')
		len--;
	if (secret_span(buf, len, b64) == len) {
		*n = len;
		return SECRET_B64;
	}
	return SECRET_TEXT;
}

/*
 * Shannon entropy, in bits per symbol, of the <n> symbols of <buf>, or of
 * the steps between neighbours when <delta> (a counting sequence has as
 * many distinct symbols as a random one, but a single step).
 */
static double
secret_shannon(const unsigned char *buf, size_t n, int delta)
{
	unsigned int	count[256] = { 0 };
	double		h = 0, p;
	size_t		i, m = delta ? n - 1 : n;

	for (i = 0; i < m; i++)
		count[delta ? (unsigned char)(buf[i + 1] - buf[i]) : buf[i]]++;
	for (i = 0; i < 256; i++) {
		if (count[i] == 0)
			continue;
		p = (double)count[i] / (double)m;
		h -= p * log2(p);
	}
	return h;
}

/* 1 if a run of <w> symbols occurs twice in <buf> (<n> symbols). */
static int
secret_repeats(const unsigned char *buf, size_t n, size_t w)
{
	size_t	i, j;

	for (i = 0; i + w <= n; i++)
		for (j = i + 1; j + w <= n; j++)
			if (memcmp(buf + i, buf + j, w) == 0)
				return 1;
	return 0;
}

/*
 * The expected sample entropy of <n> symbols drawn uniformly from <k>:
 * k * E[-(c/n) log2(c/n)] with each symbol's count c ~ Binomial(n, 1/k).
 * Well below log2(k) when n is not much larger than k (43 base64
 * characters: 4.85 bits, not 6).  n <= SECRET_MAX keeps (1 - 1/k)^n far
 * from underflow.
 */
static double
secret_expected(size_t n, unsigned int k)
{
	double	p = 1.0 / k, pmf = pow(1 - p, (double)n), e = 0, q;
	size_t	c;

	for (c = 1; c <= n; c++) {
		pmf *= (double)(n - c + 1) / (double)c * p / (1 - p);
		q = (double)c / (double)n;
		e -= pmf * q * log2(q);
	}
	return k * e;
}

/*
 * Random symbols of a <bits>-bit alphabet show a sample entropy (and one
 * of their steps) near secret_expected(); 0.8 bits below it is 6 to 10
 * standard deviations for 32 to 4096 symbols (no refusal in 200,000
 * draws of each accepted form), while words, letters in a few repeated
 * patterns, repeated bytes and sequences fall well below.
 */
static int
secret_spread(const unsigned char *buf, size_t n, unsigned int bits)
{
	unsigned int	k = 1U << bits;

	return secret_shannon(buf, n, 0) >= secret_expected(n, k) - 0.8 &&
	    secret_shannon(buf, n, 1) >= secret_expected(n - 1, k) - 0.8;
}

/*
 * <buf> without line breaks and trailing blanks into <out> (wrapped base64
 * and echo's newline are still text); 0 unless what is left is printable.
 */
static size_t
secret_text(const unsigned char *buf, size_t len, unsigned char *out)
{
	size_t	i, n = 0;

	for (i = 0; i < len; i++) {
		if (buf[i] == '\n' || buf[i] == '\r')
			continue;
		if (buf[i] < 0x20 || buf[i] > 0x7e)
			return 0;
		out[n++] = buf[i];
	}
	while (n > 0 && (out[n - 1] == ' ' || out[n - 1] == '\t'))
		n--;
	return n;
}

/* secret_strength() of <n> bytes of one form (<buf> as secret_form()). */
static int
secret_judge(const unsigned char *buf, size_t n, char *why, size_t whylen)
{
	static const unsigned int bits[] = { 8, 4, 6, 0 };
	enum secret_form f = secret_form(buf, &n);

	if (f == SECRET_TEXT)
		(void)snprintf(why, whylen, "holds printable text that is "
		    "neither hex nor base64 (a passphrase or typed password?)");
	else if (n * bits[f] < SECRET_BITS)
		(void)snprintf(why, whylen, "holds %zu %s (%zu bits); expected "
		    "at least %u bits", n, secret_forms[f], n * bits[f],
		    SECRET_BITS);
	else if (!secret_spread(buf, n, bits[f]))
		(void)snprintf(why, whylen, "does not look random (its %s are "
		    "too unevenly spread)", secret_forms[f]);
	else if (secret_repeats(buf, n, (64 + bits[f] - 1) / bits[f]))
		(void)snprintf(why, whylen, "does not look random (it repeats "
		    "a run of 64 bits)");
	else
		return 0;
	return -1;
}

int
secret_strength(const unsigned char *buf, size_t len, char *why,
    size_t whylen)
{
	unsigned char	text[SECRET_MAX];
	size_t		n;
	int		rc;

	if (len > SECRET_MAX) {
		(void)snprintf(why, whylen, "holds more than %d bytes",
		    SECRET_MAX);
		return -1;
	}
	if ((n = secret_text(buf, len, text)) > 0)
		rc = secret_judge(text, n, why, whylen);
	else		/* raw bytes, even those ending in a newline's byte */
		rc = secret_judge(buf, len, why, whylen);
	OPENSSL_cleanse(text, sizeof(text));
	return rc;
}

int
secret_file_check(const char *path, char *err, size_t errlen)
{
	unsigned char	buf[SECRET_MAX + 1];
	char		why[160];
	ssize_t		n = -1;
	int		fd, rc = -1;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) != -1) {
		n = read(fd, buf, sizeof(buf));
		close(fd);
	}
	if (n == -1)
		(void)snprintf(err, errlen, "%s: %s", path, strerror(errno));
	else if (n > SECRET_MAX)
		(void)snprintf(err, errlen, "%s: expected %d to %d bytes",
		    path, SECRET_MIN, SECRET_MAX);
	else if (secret_strength(buf, (size_t)n, why, sizeof(why)) == -1)
		(void)snprintf(err, errlen, "%s %s; expected %d or more random "
		    "bytes, e.g. from: head -c 32 /dev/urandom > %s", path, why,
		    SECRET_MIN, path);
	else
		rc = 0;
	OPENSSL_cleanse(buf, sizeof(buf));
	return rc;
}

int
secret_load(const char *path, struct secret_keys *k, char *err,
    size_t errlen)
{
	unsigned char	buf[SECRET_MAX + 1];
	ssize_t		n = -1;
	int		fd, rc = -1;

	memset(k, 0, sizeof(*k));
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) != -1) {
		n = read(fd, buf, sizeof(buf));
		close(fd);
	}
	if (n == -1)
		(void)snprintf(err, errlen, "%s: %s", path, strerror(errno));
	else if (n < SECRET_MIN || n > SECRET_MAX)
		(void)snprintf(err, errlen, "%s: expected %d to %d bytes",
		    path, SECRET_MIN, SECRET_MAX);
	else if (secret_derive(buf, (size_t)n, "postern csrf v1",
	    k->csrf) == -1 ||
	    secret_derive(buf, (size_t)n, "postern totp v1", k->totp) == -1 ||
	    secret_derive(buf, (size_t)n, "postern token v1", k->token) == -1 ||
	    secret_derive(buf, (size_t)n, "postern seal v1", k->seal) == -1 ||
	    secret_derive(buf, (size_t)n, "postern acme key", k->acme) == -1)
		(void)snprintf(err, errlen, "%s: key derivation failed", path);
	else
		k->present = 1, rc = 0;
	OPENSSL_cleanse(buf, sizeof(buf));
	if (rc == -1)
		secret_wipe(k);
	return rc;
}

void
secret_wipe(struct secret_keys *k)
{
	OPENSSL_cleanse(k, sizeof(*k));
}
