/*
 * jws.c: key sets built from real OpenSSL keys (RSA 2048, P-256, Ed25519)
 * and tokens signed here with OpenSSL for each alg verify; every way a
 * token can be bent (tampered parts, alg none, the HS256-with-the-public-
 * key confusion, a key of another type or alg, DER ECDSA signatures,
 * loose base64url, crit and key-naming headers, non-object payloads) is
 * refused with the expected status; JWKS entries that are not usable
 * signature keys are skipped.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "encode.h"
#include "jws.h"

struct keys {
	EVP_PKEY	*rsa, *ec, *ed, *rsa2, *rsa1024;
	char		 jwks[8192];	/* rsa "r1", ec "e1", ed "d1" */
};

static struct keys	K;

/* base64url of <n> bytes into a static-free buffer the caller frees. */
static char *
b64(const void *p, size_t n)
{
	char	*out = malloc(ENCODE_B64URL_LEN(n) + 1);

	assert_non_null(out);
	assert_true(encode_b64url(p, n, out, ENCODE_B64URL_LEN(n) + 1) >= 0);
	return out;
}

static char *
b64s(const char *s)
{
	return b64(s, strlen(s));
}

static char *
b64bn(EVP_PKEY *pk, const char *param)
{
	BIGNUM		*bn = NULL;
	unsigned char	 buf[1024];
	int		 n;

	assert_int_equal(EVP_PKEY_get_bn_param(pk, param, &bn), 1);
	n = BN_bn2bin(bn, buf);
	BN_free(bn);
	return b64(buf, (size_t)n);
}

/* The JWK of <pk>'s public half, with <extra> members (",..." or ""). */
static void
jwk(EVP_PKEY *pk, const char *kid, const char *extra, char *out, size_t len)
{
	unsigned char	 pt[65];
	size_t		 n = sizeof(pt);
	char		*a, *b;

	if (EVP_PKEY_is_a(pk, "RSA")) {
		a = b64bn(pk, OSSL_PKEY_PARAM_RSA_N);
		b = b64bn(pk, OSSL_PKEY_PARAM_RSA_E);
		(void)snprintf(out, len, "{\"kty\":\"RSA\",\"kid\":\"%s\","
		    "\"n\":\"%s\",\"e\":\"%s\"%s}", kid, a, b, extra);
	} else if (EVP_PKEY_is_a(pk, "EC")) {
		assert_int_equal(EVP_PKEY_get_octet_string_param(pk,
		    OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, pt, n, &n), 1);
		a = b64(pt + 1, 32);
		b = b64(pt + 33, 32);
		(void)snprintf(out, len, "{\"kty\":\"EC\",\"crv\":\"P-256\","
		    "\"kid\":\"%s\",\"x\":\"%s\",\"y\":\"%s\"%s}", kid, a, b,
		    extra);
	} else {
		n = 32;
		assert_int_equal(EVP_PKEY_get_raw_public_key(pk, pt, &n), 1);
		a = b64(pt, n);
		b = NULL;
		(void)snprintf(out, len, "{\"kty\":\"OKP\",\"crv\":\"Ed25519\","
		    "\"kid\":\"%s\",\"x\":\"%s\"%s}", kid, a, extra);
	}
	free(a);
	free(b);
}

/* "{"keys":[<a>,<b>,...]}" of the NULL-terminated JWKs. */
static void
jwks_of(char *out, size_t len, ...)
{
	va_list		 ap;
	const char	*k;
	size_t		 n;

	(void)snprintf(out, len, "{\"keys\":[");
	va_start(ap, len);
	while ((k = va_arg(ap, const char *)) != NULL) {
		n = strlen(out);
		(void)snprintf(out + n, len - n, "%s%s",
		    out[n - 1] == '[' ? "" : ",", k);
	}
	va_end(ap);
	n = strlen(out);
	(void)snprintf(out + n, len - n, "]}");
}

static struct jwks *
parse(const char *json)
{
	char		 err[256];
	struct jwks	*set = jwks_parse(json, strlen(json), err, sizeof(err));

	if (set == NULL)
		print_error("jwks_parse: %s\n", err);
	return set;
}

/* The raw r||s of a DER ECDSA signature. */
static void
der_to_raw(const unsigned char *der, size_t len, unsigned char raw[64])
{
	ECDSA_SIG	*sig = d2i_ECDSA_SIG(NULL, &der, (long)len);

	assert_non_null(sig);
	assert_int_equal(BN_bn2binpad(ECDSA_SIG_get0_r(sig), raw, 32), 32);
	assert_int_equal(BN_bn2binpad(ECDSA_SIG_get0_s(sig), raw + 32, 32), 32);
	ECDSA_SIG_free(sig);
}

/*
 * Sign "<b64 header>.<b64 payload>" with <pk> by <alg> ("RS256", "PS256",
 * "PS256-salt64" (a salt longer than RFC 7518 3.5's), "ES256", "ES256-DER"
 * (the DER signature), "EdDSA"); a token to free().
 */
static char *
sign_raw(const char *alg, EVP_PKEY *pk, const char *h64, const char *p64)
{
	EVP_MD_CTX	*md = EVP_MD_CTX_new();
	EVP_PKEY_CTX	*pctx = NULL;
	unsigned char	 sig[1024], raw[64];
	size_t		 siglen = sizeof(sig);
	char		*in, *s64, *tok;
	int		 ed = strcmp(alg, "EdDSA") == 0;
	int		 salt = strcmp(alg, "PS256-salt64") == 0 ? 64 : 32;

	assert_true(asprintf(&in, "%s.%s", h64, p64) > 0);
	assert_int_equal(EVP_DigestSignInit(md, &pctx, ed ? NULL :
	    EVP_sha256(), NULL, pk), 1);
	if (strncmp(alg, "PS256", 5) == 0) {
		assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(pctx,
		    RSA_PKCS1_PSS_PADDING), 1);
		assert_int_equal(EVP_PKEY_CTX_set_rsa_mgf1_md(pctx,
		    EVP_sha256()), 1);
		assert_int_equal(EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, salt),
		    1);
	}
	assert_int_equal(EVP_DigestSign(md, sig, &siglen,
	    (unsigned char *)in, strlen(in)), 1);
	EVP_MD_CTX_free(md);
	if (strcmp(alg, "ES256") == 0) {
		der_to_raw(sig, siglen, raw);
		s64 = b64(raw, 64);
	} else
		s64 = b64(sig, siglen);
	assert_true(asprintf(&tok, "%s.%s", in, s64) > 0);
	free(in);
	free(s64);
	return tok;
}

/* A token with header <hdr> and payload <pay> (JSON texts). */
static char *
sign(const char *alg, EVP_PKEY *pk, const char *hdr, const char *pay)
{
	char	*h64 = b64s(hdr), *p64 = b64s(pay), *tok;

	tok = sign_raw(alg, pk, h64, p64);
	free(h64);
	free(p64);
	return tok;
}

static const char PAYLOAD[] = "{\"iss\":\"https://op\",\"sub\":\"u1\"}";

/* jws_verify of <tok> against the fixture's set; the payload is checked. */
static enum jws_status
verify(const char *jwks, const char *tok, unsigned algs, char *kid,
    size_t kidlen)
{
	struct jwks	*set = parse(jwks);
	json_t		*claims = (json_t *)1;
	enum jws_status	 st;

	assert_non_null(set);
	st = jws_verify(set, tok, strlen(tok), algs, &claims, kid, kidlen);
	if (st == JWS_OK) {
		assert_string_equal(json_string_value(json_object_get(claims,
		    "sub")), "u1");
		json_decref(claims);
	} else
		assert_null(claims);
	jwks_unref(set);
	return st;
}

static enum jws_status
check(const char *tok, unsigned algs)
{
	char	kid[64];

	return verify(K.jwks, tok, algs, kid, sizeof(kid));
}

/* Sign PAYLOAD with <pk> by <alg> under <hdr>; verify against <set>. */
static void
expect(const char *set, const char *alg, EVP_PKEY *pk, const char *hdr,
    enum jws_status want)
{
	char	 kid[64], *tok = sign(alg, pk, hdr, PAYLOAD);

	assert_int_equal(verify(set, tok, JWS_ALGS_ALL, kid, sizeof(kid)),
	    want);
	free(tok);
}

static int
setup(void **state)
{
	char	r[2048], e[512], d[512];

	(void)state;
	K.rsa = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	K.rsa2 = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	K.rsa1024 = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
	K.ec = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	K.ed = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	if (K.rsa == NULL || K.rsa2 == NULL || K.rsa1024 == NULL ||
	    K.ec == NULL || K.ed == NULL)
		return -1;
	jwk(K.rsa, "r1", "", r, sizeof(r));
	jwk(K.ec, "e1", "", e, sizeof(e));
	jwk(K.ed, "d1", "", d, sizeof(d));
	jwks_of(K.jwks, sizeof(K.jwks), r, e, d, NULL);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	EVP_PKEY_free(K.rsa);
	EVP_PKEY_free(K.rsa2);
	EVP_PKEY_free(K.rsa1024);
	EVP_PKEY_free(K.ec);
	EVP_PKEY_free(K.ed);
	return 0;
}

/* Each alg verifies with its key, by kid and without one. */
static void
test_each_alg_verifies(void **state)
{
	static const struct {
		const char	*alg, *kid;
		EVP_PKEY	**key;
	} c[] = {
		{ "RS256", "r1", &K.rsa }, { "PS256", "r1", &K.rsa },
		{ "ES256", "e1", &K.ec }, { "EdDSA", "d1", &K.ed },
	};
	char	 hdr[128], kid[64], *tok;
	size_t	 i;

	(void)state;
	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		(void)snprintf(hdr, sizeof(hdr), "{\"alg\":\"%s\",\"kid\":"
		    "\"%s\"}", c[i].alg, c[i].kid);
		tok = sign(c[i].alg, *c[i].key, hdr, PAYLOAD);
		assert_int_equal(verify(K.jwks, tok, JWS_ALGS_ALL, kid,
		    sizeof(kid)), JWS_OK);
		assert_string_equal(kid, c[i].kid);
		/* the alg not among the allowed ones */
		assert_int_equal(check(tok, JWS_ALGS_ALL &
		    ~jws_alg_bit(c[i].alg)), JWS_ALG_REFUSED);
		free(tok);
		(void)snprintf(hdr, sizeof(hdr), "{\"alg\":\"%s\"}", c[i].alg);
		tok = sign(c[i].alg, *c[i].key, hdr, PAYLOAD);
		assert_int_equal(verify(K.jwks, tok, JWS_ALGS_ALL, kid,
		    sizeof(kid)), JWS_OK);
		assert_string_equal(kid, "");
		free(tok);
	}
}

/* A changed header, payload or signature fails. */
static void
test_tampered(void **state)
{
	char	*tok, *other, *mix, *dot;

	(void)state;
	tok = sign("ES256", K.ec, "{\"alg\":\"ES256\",\"kid\":\"e1\"}",
	    PAYLOAD);
	other = sign("ES256", K.ec, "{\"alg\":\"ES256\",\"kid\":\"e1\","
	    "\"typ\":\"JWT\"}", "{\"iss\":\"https://op\",\"sub\":\"u1\","
	    "\"x\":1}");
	/* other's header with tok's payload and signature */
	dot = strchr(tok, '.');
	assert_true(asprintf(&mix, "%.*s%s", (int)(strchr(other, '.') -
	    other), other, dot) > 0);
	assert_int_equal(check(mix, JWS_ALGS_ALL), JWS_BAD_SIGNATURE);
	free(mix);
	/* tok's header, other's payload, tok's signature */
	assert_true(asprintf(&mix, "%.*s%.*s%s", (int)(dot - tok), tok,
	    (int)(strrchr(other, '.') - strchr(other, '.')),
	    strchr(other, '.'), strrchr(tok, '.')) > 0);
	assert_int_equal(check(mix, JWS_ALGS_ALL), JWS_BAD_SIGNATURE);
	free(mix);
	/* one signature character changed (not the last: its low bits) */
	mix = strdup(tok);
	dot = strrchr(mix, '.') + 5;
	*dot = *dot == 'A' ? 'B' : 'A';
	assert_int_equal(check(mix, JWS_ALGS_ALL), JWS_BAD_SIGNATURE);
	free(mix);
	assert_int_equal(check(tok, JWS_ALGS_ALL), JWS_OK);
	free(tok);
	free(other);
}

/* alg none, with or without a signature part, and HS256, are refused. */
static void
test_alg_none(void **state)
{
	char	*h = b64s("{\"alg\":\"none\"}"), *p = b64s(PAYLOAD), *tok;

	(void)state;
	assert_true(asprintf(&tok, "%s.%s.", h, p) > 0);
	assert_int_equal(check(tok, JWS_ALGS_ALL), JWS_MALFORMED);
	free(tok);
	assert_true(asprintf(&tok, "%s.%s.AAAA", h, p) > 0);
	assert_int_equal(check(tok, 0xffffffffu), JWS_ALG_REFUSED);
	free(tok);
	free(h);
	h = b64s("{\"alg\":\"None\",\"kid\":\"r1\"}");
	assert_true(asprintf(&tok, "%s.%s.AAAA", h, p) > 0);
	assert_int_equal(check(tok, 0xffffffffu), JWS_ALG_REFUSED);
	free(tok);
	free(h);
	free(p);
	assert_int_equal(jws_alg_bit("none"), 0);
	assert_int_equal(jws_alg_bit("HS256"), 0);
	assert_int_equal(jws_alg_bit("RS384"), 0);
	assert_int_equal(jws_alg_bit("rs256"), 0);
	assert_int_equal(jws_alg_bit("ES256K"), 0);
	assert_int_equal(jws_alg_bit(""), 0);
}

/* HS256 over the token with <secret> as the key. */
static char *
sign_hs256(const char *hdr, const unsigned char *secret, size_t n)
{
	char		*h = b64s(hdr), *p = b64s(PAYLOAD), *in, *s, *tok;
	unsigned char	 mac[32];
	unsigned int	 maclen = sizeof(mac);

	assert_true(asprintf(&in, "%s.%s", h, p) > 0);
	assert_non_null(HMAC(EVP_sha256(), secret, (int)n,
	    (unsigned char *)in, strlen(in), mac, &maclen));
	s = b64(mac, maclen);
	assert_true(asprintf(&tok, "%s.%s", in, s) > 0);
	free(h);
	free(p);
	free(in);
	free(s);
	return tok;
}

/*
 * The classic confusion: HS256 keyed with the RSA public key's PEM or DER
 * (what a library that takes "the key" for any alg would verify) is
 * refused whatever algs the caller allows.
 */
static void
test_hs256_with_public_key(void **state)
{
	unsigned char	*der = NULL;
	char		*pem, *tok;
	BIO		*bio = BIO_new(BIO_s_mem());
	long		 n;
	int		 dlen;

	(void)state;
	assert_true(PEM_write_bio_PUBKEY(bio, K.rsa) == 1);
	n = BIO_get_mem_data(bio, &pem);
	tok = sign_hs256("{\"alg\":\"HS256\",\"kid\":\"r1\"}",
	    (unsigned char *)pem, (size_t)n);
	assert_int_equal(check(tok, 0xffffffffu), JWS_ALG_REFUSED);
	free(tok);
	BIO_free(bio);
	dlen = i2d_PUBKEY(K.rsa, &der);
	assert_true(dlen > 0);
	tok = sign_hs256("{\"alg\":\"HS256\"}", der, (size_t)dlen);
	assert_int_equal(check(tok, 0xffffffffu), JWS_ALG_REFUSED);
	free(tok);
	OPENSSL_free(der);
}

/* An unknown kid is reported, so the caller can refetch the key set. */
static void
test_unknown_kid(void **state)
{
	char	 kid[64], *tok;

	(void)state;
	tok = sign("RS256", K.rsa2, "{\"alg\":\"RS256\",\"kid\":\"r2\"}",
	    PAYLOAD);
	assert_int_equal(verify(K.jwks, tok, JWS_ALGS_ALL, kid, sizeof(kid)),
	    JWS_UNKNOWN_KID);
	assert_string_equal(kid, "r2");
	free(tok);
	/* no kid, signed by a key not in the set: every RSA key fails */
	tok = sign("RS256", K.rsa2, "{\"alg\":\"RS256\"}", PAYLOAD);
	assert_int_equal(verify(K.jwks, tok, JWS_ALGS_ALL, kid, sizeof(kid)),
	    JWS_BAD_SIGNATURE);
	assert_string_equal(kid, "");
	free(tok);
	/* a kid that does not fit the caller's buffer */
	tok = sign("RS256", K.rsa, "{\"alg\":\"RS256\",\"kid\":\"r1\"}",
	    PAYLOAD);
	assert_int_equal(verify(K.jwks, tok, JWS_ALGS_ALL, kid, 2),
	    JWS_MALFORMED);
	free(tok);
}

/*
 * A key of another type than the alg's, or whose own alg differs, is not
 * used: ES256 naming the RSA key, RS256 naming the EC key, PS256 with a
 * key published for RS256, EdDSA without kid and no Ed25519 key.
 */
static void
test_wrong_key_for_alg(void **state)
{
	char	r[2048], e[512], set[4096];

	(void)state;
	expect(K.jwks, "ES256", K.ec, "{\"alg\":\"ES256\",\"kid\":\"r1\"}",
	    JWS_ALG_REFUSED);
	expect(K.jwks, "RS256", K.rsa, "{\"alg\":\"RS256\",\"kid\":\"e1\"}",
	    JWS_ALG_REFUSED);
	jwk(K.rsa, "r1", ",\"alg\":\"RS256\"", r, sizeof(r));
	jwks_of(set, sizeof(set), r, NULL);
	expect(set, "PS256", K.rsa, "{\"alg\":\"PS256\",\"kid\":\"r1\"}",
	    JWS_ALG_REFUSED);
	expect(set, "PS256", K.rsa, "{\"alg\":\"PS256\"}", JWS_UNKNOWN_KID);
	expect(set, "RS256", K.rsa, "{\"alg\":\"RS256\",\"kid\":\"r1\"}",
	    JWS_OK);
	jwk(K.ec, "e1", ",\"alg\":\"ES256\"", e, sizeof(e));
	jwks_of(set, sizeof(set), e, NULL);
	expect(set, "EdDSA", K.ed, "{\"alg\":\"EdDSA\"}", JWS_UNKNOWN_KID);
	/* PSS with another salt length than the hash's (RFC 7518 3.5) */
	expect(K.jwks, "PS256-salt64", K.rsa, "{\"alg\":\"PS256\"}",
	    JWS_BAD_SIGNATURE);
	/* PS256 signature presented as RS256 and the reverse */
	expect(K.jwks, "PS256", K.rsa, "{\"alg\":\"RS256\"}",
	    JWS_BAD_SIGNATURE);
	expect(K.jwks, "RS256", K.rsa, "{\"alg\":\"PS256\"}",
	    JWS_BAD_SIGNATURE);
}

/* An ES256 signature in DER form (what OpenSSL makes) is not JWS's. */
static void
test_es256_der_refused(void **state)
{
	(void)state;
	expect(K.jwks, "ES256-DER", K.ec, "{\"alg\":\"ES256\",\"kid\":\"e1\"}",
	    JWS_BAD_SIGNATURE);
}

/* <tok> with <ins> inserted at offset <at> (from the end if negative). */
static char *
splice(const char *tok, long at, const char *ins, size_t del)
{
	size_t	 n = strlen(tok), pos = at < 0 ? n + (size_t)at : (size_t)at;
	char	*out;

	assert_true(asprintf(&out, "%.*s%s%s", (int)pos, tok, ins,
	    tok + pos + del) > 0);
	return out;
}

/* Extra dots, padding, whitespace, '+' and '/', trailing bits. */
static void
test_loose_encoding(void **state)
{
	char	*tok, *bad, *sig;
	size_t	 hlen, i;
	struct {
		long		 at;
		const char	*ins;
		size_t		 del;
	} c[] = {
		{ -1, ".", 0 },		/* four parts */
		{ 0, ".", 0 },		/* an empty first part */
		{ -1, "=", 0 },		/* padding */
		{ 0, " ", 0 },		/* whitespace */
		{ 5, "\n", 0 },
		{ -1, "\t", 0 },
		{ 3, "+", 1 },		/* '+' for '-' or a letter */
		{ 3, "/", 1 },
		{ 0, "", 1 },		/* a header of a wrong length */
	};

	(void)state;
	tok = sign("EdDSA", K.ed, "{\"alg\":\"EdDSA\",\"kid\":\"d1\"}",
	    PAYLOAD);
	assert_int_equal(check(tok, JWS_ALGS_ALL), JWS_OK);
	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		bad = splice(tok, c[i].at, c[i].ins, c[i].del);
		assert_int_equal(check(bad, JWS_ALGS_ALL), JWS_MALFORMED);
		free(bad);
	}
	/* the payload padded or in standard base64 */
	hlen = (size_t)(strchr(tok, '.') - tok);
	bad = splice(tok, (long)hlen + 1, "+", 1);
	assert_int_equal(check(bad, JWS_ALGS_ALL), JWS_MALFORMED);
	free(bad);
	/* non-zero unused bits in the signature's last character */
	sig = strrchr(tok, '.') + 1;
	assert_int_equal(strlen(sig) % 4, 2);	/* 64 bytes: 86 chars */
	bad = strdup(tok);
	bad[strlen(bad) - 1] = bad[strlen(bad) - 1] == 'A' ? 'B' :
	    (char)(bad[strlen(bad) - 1] ^ 1);
	assert_int_equal(check(bad, JWS_ALGS_ALL), JWS_MALFORMED);
	free(bad);
	free(tok);
	/* a part of 4n+1 characters: no such base64url, even if the last is 0 */
	tok = sign("EdDSA", K.ed, "{\"alg\":\"EdDSA\"}", PAYLOAD);
	assert_int_equal(strchr(tok, '.') - tok, 20);
	bad = splice(tok, 20, "A", 0);
	assert_int_equal(check(bad, JWS_ALGS_ALL), JWS_MALFORMED);
	free(bad);
	/* too long, and two parts only */
	bad = calloc(1, JWS_MAX_TOKEN + 2);
	memset(bad, 'A', JWS_MAX_TOKEN + 1);
	assert_int_equal(check(bad, JWS_ALGS_ALL), JWS_MALFORMED);
	free(bad);
	*strrchr(tok, '.') = '\0';
	assert_int_equal(check(tok, JWS_ALGS_ALL), JWS_MALFORMED);
	free(tok);
}

/* crit, jku, jwk and x5u headers are refused even over a good signature. */
static void
test_refused_headers(void **state)
{
	static const char *const h[] = {
		"{\"alg\":\"ES256\",\"crit\":[\"exp\"],\"exp\":1}",
		"{\"alg\":\"ES256\",\"crit\":[]}",
		"{\"alg\":\"ES256\",\"jku\":\"https://evil/jwks\"}",
		"{\"alg\":\"ES256\",\"jwk\":{\"kty\":\"EC\"}}",
		"{\"alg\":\"ES256\",\"x5u\":\"https://evil/cert\"}",
		"{\"alg\":\"ES256\",\"b64\":false,\"crit\":[\"b64\"]}",
	};
	char	*tok;
	size_t	 i;

	(void)state;
	for (i = 0; i < sizeof(h) / sizeof(h[0]); i++) {
		tok = sign("ES256", K.ec, h[i], PAYLOAD);
		assert_int_equal(check(tok, JWS_ALGS_ALL), JWS_ALG_REFUSED);
		free(tok);
	}
	/* x5c is never a source of trust: ignored, the set's key decides */
	expect(K.jwks, "ES256", K.ec, "{\"alg\":\"ES256\",\"x5c\":[\"AAAA\"]}",
	    JWS_OK);
}

/* Headers and payloads that are not JSON objects, or are ambiguous. */
static void
test_bad_json(void **state)
{
	static const char *const pay[] = {
		"[\"sub\",\"u1\"]", "\"u1\"", "1", "null", "{\"sub\":",
		"{\"sub\":\"u1\",\"sub\":\"u2\"}",
	};
	static const char *const hdr[] = {
		"[\"ES256\"]", "{\"alg\":256}", "{\"kid\":\"e1\"}",
		"{\"alg\":\"ES256\",\"alg\":\"none\"}",
		"{\"alg\":\"ES256\",\"kid\":7}",
		"{\"alg\":\"ES256\",\"kid\":\"e\\u00001\"}",
		"{\"alg\":\"ES256\",\"kid\":\"e\\n1\"}", "nope",
	};
	char	*tok;
	size_t	 i;

	(void)state;
	for (i = 0; i < sizeof(pay) / sizeof(pay[0]); i++) {
		tok = sign("ES256", K.ec, "{\"alg\":\"ES256\"}", pay[i]);
		assert_int_equal(check(tok, JWS_ALGS_ALL), JWS_MALFORMED);
		free(tok);
	}
	for (i = 0; i < sizeof(hdr) / sizeof(hdr[0]); i++) {
		tok = sign("ES256", K.ec, hdr[i], PAYLOAD);
		assert_int_equal(check(tok, JWS_ALGS_ALL), JWS_MALFORMED);
		free(tok);
	}
}

/* Entries that are not usable signature keys are skipped. */
static void
test_jwks_skips(void **state)
{
	char		 a[2048], b[2048], c[2048], d[2048], e[2048], f[2048];
	char		 g[2048], h[512], set[16384], err[128];
	struct jwks	*s;
	char		*p;

	(void)state;
	jwk(K.rsa, "enc", ",\"use\":\"enc\"", a, sizeof(a));
	jwk(K.rsa, "ops", ",\"key_ops\":[\"encrypt\"]", b, sizeof(b));
	jwk(K.rsa1024, "small", "", c, sizeof(c));
	jwk(K.rsa, "hs", ",\"alg\":\"HS256\"", d, sizeof(d));
	jwk(K.ec, "rsalg", ",\"alg\":\"RS256\"", e, sizeof(e));
	jwk(K.ec, "priv", ",\"d\":\"AAAA\"", f, sizeof(f));
	jwk(K.ed, "ok", ",\"use\":\"sig\",\"key_ops\":[\"verify\"]", g,
	    sizeof(g));
	jwk(K.ec, "offcurve", "", h, sizeof(h));
	p = strstr(h, "\"y\":\"") + 5;		/* y changed: off the curve */
	*p = *p == 'A' ? 'B' : 'A';
	jwks_of(set, sizeof(set), a, b, c, d, e, f, g, h,
	    "{\"kty\":\"EC\",\"crv\":\"P-384\",\"kid\":\"p384\",\"x\":\"AA\"}",
	    "{\"kty\":\"oct\",\"kid\":\"oct\",\"k\":\"AAAA\"}",
	    "{\"kty\":\"OKP\",\"crv\":\"X25519\",\"kid\":\"x\",\"x\":\"AA\"}",
	    "{\"kty\":\"EC\",\"crv\":\"P-256\",\"kid\":\"short\",\"x\":\"AA\","
	    "\"y\":\"AA\"}", "[]", "7", NULL);
	s = jwks_parse(set, strlen(set), err, sizeof(err));
	assert_non_null(s);
	assert_true(jwks_has_kid(s, "ok"));
	assert_false(jwks_has_kid(s, "enc"));
	assert_false(jwks_has_kid(s, "ops"));
	assert_false(jwks_has_kid(s, "small"));
	assert_false(jwks_has_kid(s, "hs"));
	assert_false(jwks_has_kid(s, "rsalg"));
	assert_false(jwks_has_kid(s, "priv"));
	assert_false(jwks_has_kid(s, "offcurve"));
	assert_false(jwks_has_kid(s, "p384"));
	assert_false(jwks_has_kid(s, "oct"));
	assert_false(jwks_has_kid(s, "short"));
	assert_false(jwks_has_kid(s, "x"));
	jwks_unref(s);
	/* the same set without the one usable key: refused as a whole */
	jwks_of(set, sizeof(set), a, b, c, d, e, f, h, NULL);
	assert_null(jwks_parse(set, strlen(set), err, sizeof(err)));
	assert_non_null(strstr(err, "no usable key"));
}

/* Base64url members of keys are read strictly too. */
static void
test_jwks_strict_base64(void **state)
{
	static const char *const ins[] = { "=", " ", "+", "/", "" };
	char		 k[512], set[1024], *x, err[128];
	struct jwks	*s;
	size_t		 i;

	(void)state;
	for (i = 0; i < sizeof(ins) / sizeof(ins[0]); i++) {
		jwk(K.ed, "d1", "", k, sizeof(k));
		x = strstr(k, "\"x\":\"") + 5;
		if (ins[i][0] == '\0')		/* 42 characters: 31 bytes */
			memmove(x + 3, x + 4, strlen(x + 4) + 1);
		else if (ins[i][0] == '=')	/* 43 characters and '=' */
			memmove(x + 43, "=\"}", 4);
		else
			x[3] = ins[i][0];
		jwks_of(set, sizeof(set), k, NULL);
		assert_null(jwks_parse(set, strlen(set), err, sizeof(err)));
	}
	jwk(K.ed, "d1", "", k, sizeof(k));
	jwks_of(set, sizeof(set), k, NULL);
	s = parse(set);
	assert_non_null(s);
	jwks_unref(s);
}

/* Garbage, too many keys, too many bytes. */
static void
test_jwks_bounds(void **state)
{
	static const char *const bad[] = {
		"", "{}", "[]", "{\"keys\":{}}", "{\"keys\":[]}", "{\"keys\":",
		"{\"keys\":[],\"keys\":[]}", "null",
	};
	char		 k[512], *set, err[128];
	struct jwks	*s;
	size_t		 i, n;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_null(jwks_parse(bad[i], strlen(bad[i]), err,
		    sizeof(err)));
		assert_true(err[0] != '\0');
	}
	jwk(K.ed, "d1", "", k, sizeof(k));
	set = malloc(128 * 1024);
	for (n = 32; n <= 33; n++) {
		strcpy(set, "{\"keys\":[");
		for (i = 0; i < n; i++)
			(void)sprintf(set + strlen(set), "%s%s", i ? "," : "", k);
		strcat(set, "]}");
		s = jwks_parse(set, strlen(set), err, sizeof(err));
		if (n == 32)
			assert_non_null(s);
		else
			assert_null(s);
		jwks_unref(s);
	}
	/* over 64 KiB, though otherwise fine */
	strcpy(set, "{\"pad\":\"");
	memset(set + strlen(set), 'a', JWS_MAX_JWKS);
	(void)sprintf(set + 8 + JWS_MAX_JWKS, "\",\"keys\":[%s]}", k);
	assert_null(jwks_parse(set, strlen(set), err, sizeof(err)));
	free(set);
	jwks_unref(NULL);
}

/*
 * Two keys sharing a kid (a rotation published carelessly, or two key
 * types): both are kept, and a token verifies with either.
 */
static void
test_jwks_duplicate_kid(void **state)
{
	char		 a[2048], b[2048], set[4096];
	struct jwks	*s;

	(void)state;
	jwk(K.rsa, "k", "", a, sizeof(a));
	jwk(K.rsa2, "k", "", b, sizeof(b));
	jwks_of(set, sizeof(set), a, b, NULL);
	expect(set, "RS256", K.rsa2, "{\"alg\":\"RS256\",\"kid\":\"k\"}",
	    JWS_OK);
	expect(set, "RS256", K.rsa, "{\"alg\":\"RS256\",\"kid\":\"k\"}",
	    JWS_OK);
	s = parse(set);
	assert_ptr_equal(jwks_ref(s), s);
	jwks_unref(s);
	assert_true(jwks_has_kid(s, "k"));
	jwks_unref(s);
}

/* jws_sign_es256 makes a token jws_verify accepts, with typ and kid. */
static void
test_sign_es256(void **state)
{
	char		 e[512], set[1024], kid[16], *tok, *h;
	json_t		*claims = json_pack("{s:s}", "sub", "u1"), *got;
	struct jwks	*s;

	(void)state;
	jwk(K.ec, "c1", "", e, sizeof(e));
	jwks_of(set, sizeof(set), e, NULL);
	tok = jws_sign_es256(K.ec, "c1", claims);
	assert_non_null(tok);
	s = parse(set);
	assert_int_equal(jws_verify(s, tok, strlen(tok), JWS_ES256, &got,
	    kid, sizeof(kid)), JWS_OK);
	assert_string_equal(kid, "c1");
	assert_true(json_equal(got, claims));
	json_decref(got);
	h = b64s("{\"alg\":\"ES256\",\"typ\":\"JWT\",\"kid\":\"c1\"}");
	assert_int_equal(strncmp(tok, h, strlen(h)), 0);
	assert_int_equal(tok[strlen(h)], '.');
	free(h);
	free(tok);
	/* without kid; and an RSA or Ed25519 key cannot sign ES256 */
	tok = jws_sign_es256(K.ec, NULL, claims);
	assert_int_equal(jws_verify(s, tok, strlen(tok), JWS_ES256, &got,
	    kid, sizeof(kid)), JWS_OK);
	json_decref(got);
	free(tok);
	assert_null(jws_sign_es256(K.rsa, NULL, claims));
	assert_null(jws_sign_es256(K.ed, NULL, claims));
	jwks_unref(s);
	json_decref(claims);
	assert_string_equal(jws_reason(JWS_BAD_SIGNATURE),
	    "jws_bad_signature");
	assert_string_equal(jws_reason(JWS_UNKNOWN_KID), "jws_unknown_kid");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_each_alg_verifies),
		cmocka_unit_test(test_tampered),
		cmocka_unit_test(test_alg_none),
		cmocka_unit_test(test_hs256_with_public_key),
		cmocka_unit_test(test_unknown_kid),
		cmocka_unit_test(test_wrong_key_for_alg),
		cmocka_unit_test(test_es256_der_refused),
		cmocka_unit_test(test_loose_encoding),
		cmocka_unit_test(test_refused_headers),
		cmocka_unit_test(test_bad_json),
		cmocka_unit_test(test_jwks_skips),
		cmocka_unit_test(test_jwks_strict_base64),
		cmocka_unit_test(test_jwks_bounds),
		cmocka_unit_test(test_jwks_duplicate_kid),
		cmocka_unit_test(test_sign_es256),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
