/*
 * Device cookies (see device.h): made and checked with HMAC-SHA-256 under
 * the "token" key derived from the gateway secret, over a label, the
 * email and the nonce, so a cookie is worth nothing for another account.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include "config.h"
#include "cookie.h"
#include "device.h"
#include "encode.h"
#include "exchange.h"
#include "ratelimit.h"
#include "request.h"
#include "secret.h"

/* The MAC of <nonce> for <email> (base64url) into <out>: 0 or -1.  The
 * NULs between the fields keep them apart. */
static int
device_mac(const struct config *cfg, const char *email, const char *nonce,
    char out[DEVICE_MAC_LEN + 1])
{
	unsigned char	msg[512], mac[EVP_MAX_MD_SIZE];
	unsigned int	maclen = 0;
	int		n, rc = -1;

	if (cfg->keys == NULL || !cfg->keys->present)
		return -1;
	n = snprintf((char *)msg, sizeof(msg), "postern device v1%c%s%c%s",
	    '\0', email, '\0', nonce);
	if (n > 0 && (size_t)n < sizeof(msg) && HMAC(EVP_sha256(),
	    cfg->keys->token, SECRET_KEY_LEN, msg, (size_t)n, mac, &maclen) !=
	    NULL && maclen == 32 && encode_b64url(mac, maclen, out,
	    DEVICE_MAC_LEN + 1) == DEVICE_MAC_LEN)
		rc = 0;
	OPENSSL_cleanse(mac, sizeof(mac));
	return rc;
}

/* The Set-Cookie line of the device cookie <nonce> of <email>: 0 or -1
 * (then <out> is ""). */
static int
device_cookie_line(const struct config *cfg, const char *email,
    const char *nonce, char *out, size_t size)
{
	char	mac[DEVICE_MAC_LEN + 1];
	int	n = -1;

	if (size > 0)
		out[0] = '\0';
	if (device_mac(cfg, email, nonce, mac) == 0)
		n = snprintf(out, size, "Set-Cookie: %s=%s.%s; Path=/; "
		    "Max-Age=%d; Secure; HttpOnly; SameSite=Lax\r\n",
		    DEVICE_COOKIE, nonce, mac, DEVICE_MAX_AGE);
	OPENSSL_cleanse(mac, sizeof(mac));
	if (n < 0 || (size_t)n >= size) {
		if (size > 0)
			out[0] = '\0';
		return -1;
	}
	return 0;
}

/* A new random nonce into <nonce>: 0 or -1. */
static int
device_nonce(char nonce[DEVICE_NONCE_LEN + 1])
{
	unsigned char	raw[16];
	int		rc;

	rc = RAND_bytes(raw, sizeof(raw)) == 1 && encode_b64url(raw,
	    sizeof(raw), nonce, DEVICE_NONCE_LEN + 1) == DEVICE_NONCE_LEN ?
	    0 : -1;
	OPENSSL_cleanse(raw, sizeof(raw));
	return rc;
}

int
device_cookie(const struct config *cfg, const char *email, char *out,
    size_t size)
{
	char	nonce[DEVICE_NONCE_LEN + 1];

	if (size > 0)
		out[0] = '\0';
	if (device_nonce(nonce) == -1)
		return -1;
	return device_cookie_line(cfg, email, nonce, out, size);
}

int
device_check(const struct config *cfg, const char *hdr, const char *email,
    char *id, size_t size)
{
	char	v[DEVICE_VALUE_LEN + 2], want[DEVICE_MAC_LEN + 1];
	int	rc = -1;

	if (size < DEVICE_NONCE_LEN + 1 || cookie_get(hdr, DEVICE_COOKIE, v,
	    sizeof(v)) != COOKIE_FOUND || strlen(v) != DEVICE_VALUE_LEN ||
	    v[DEVICE_NONCE_LEN] != '.' || strspn(v, encode_b64url_chars) !=
	    DEVICE_NONCE_LEN)
		return -1;
	v[DEVICE_NONCE_LEN] = '\0';
	if (device_mac(cfg, email, v, want) == 0 && CRYPTO_memcmp(want,
	    v + DEVICE_NONCE_LEN + 1, DEVICE_MAC_LEN) == 0) {
		memcpy(id, v, DEVICE_NONCE_LEN + 1);
		rc = 0;
	}
	OPENSSL_cleanse(v, sizeof(v));
	OPENSSL_cleanse(want, sizeof(want));
	return rc;
}

void
device_origin(struct exchange *ex, const char *email,
    struct device_origin *d)
{
	char		 nonce[DEVICE_NONCE_LEN + 1];
	unsigned char	 dig[SHA256_DIGEST_LENGTH];

	memset(d, 0, sizeof(*d));
	if (ratelimit_client_addr(ex, d->ip, sizeof(d->ip)) == -1)
		(void)snprintf(d->ip, sizeof(d->ip), "%s", ex->peer);
	uagent_clean(request_header(ex->req, "user-agent"), d->ua,
	    sizeof(d->ua));
	d->origin.ip = d->ip;
	d->origin.ua = d->ua;
	if ((device_check(ex->cfg, request_header(ex->req, "cookie"), email,
	    nonce, sizeof(nonce)) == -1 && device_nonce(nonce) == -1) ||
	    device_cookie_line(ex->cfg, email, nonce, d->cookie,
	    sizeof(d->cookie)) == -1) {
		OPENSSL_cleanse(nonce, sizeof(nonce));
		return;
	}
	SHA256((const unsigned char *)nonce, DEVICE_NONCE_LEN, dig);
	encode_hex(dig, sizeof(dig), d->hash);
	d->origin.device = d->hash;
	OPENSSL_cleanse(nonce, sizeof(nonce));
}
