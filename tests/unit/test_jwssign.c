/*
 * jwssign.c, and secret.c's sealing of ACME keys: the flattened ES256 JWS of an ACME request
 * verifies with the gateway's own verifier (jws.c) against the JWK the
 * signer publishes, and fails once any part changes; the thumbprint is
 * the SHA-256 of the JWK written out by hand in RFC 7638's order; the
 * HS256 MAC of an external account binding matches OpenSSL's HMAC; keys
 * other than P-256 are refused.  Sealing a PEM-sized value round-trips,
 * and opens neither under another owner (another host), another key, nor
 * after any change.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rsa.h>

#include "encode.h"
#include "jws.h"
#include "jwssign.h"
#include "secret.h"

/* "<protected>.<payload>.<signature>" of flattened JWS <f>. */
static char *
compact(json_t *f)
{
	char	*s;

	assert_true(asprintf(&s, "%s.%s.%s",
	    json_string_value(json_object_get(f, "protected")),
	    json_string_value(json_object_get(f, "payload")),
	    json_string_value(json_object_get(f, "signature"))) > 0);
	return s;
}

static struct jwks *
jwks_of(EVP_PKEY *key)
{
	json_t		*jwk = jwssign_jwk(key), *set;
	char		*s;
	struct jwks	*ks;
	char		 err[128];

	assert_non_null(jwk);
	json_object_set_new(jwk, "kid", json_string("k1"));
	set = json_pack("{s:[o]}", "keys", jwk);
	s = json_dumps(set, JSON_COMPACT);
	ks = jwks_parse(s, strlen(s), err, sizeof(err));
	assert_non_null(ks);
	free(s);
	json_decref(set);
	return ks;
}

static void
test_es256_flat_verifies(void **state)
{
	EVP_PKEY	*key = jwssign_p256_new(), *other = jwssign_p256_new();
	struct jwks	*ks = jwks_of(key), *ko = jwks_of(other);
	json_t		*hdr = json_pack("{s:s, s:s}", "nonce", "n1", "url",
			    "https://ca.test/new-order"), *f, *claims = NULL;
	char		*tok, kid[64];

	f = jwssign_flat(key, NULL, 0, hdr, "{\"a\":1}");
	assert_non_null(f);
	tok = compact(f);
	assert_int_equal(jws_verify(ks, tok, strlen(tok), JWS_ES256, &claims,
	    kid, sizeof(kid)), JWS_OK);
	assert_int_equal(json_integer_value(json_object_get(claims, "a")), 1);
	json_decref(claims);
	assert_int_equal(jws_verify(ko, tok, strlen(tok), JWS_ES256, &claims,
	    kid, sizeof(kid)), JWS_BAD_SIGNATURE);
	tok[strlen(tok) - 3] ^= 1;	/* a bit of the signature */
	assert_int_not_equal(jws_verify(ks, tok, strlen(tok), JWS_ES256,
	    &claims, kid, sizeof(kid)), JWS_OK);
	assert_string_equal(json_string_value(json_object_get(hdr, "alg")),
	    "ES256");
	free(tok);
	json_decref(f);
	/* POST-as-GET: the payload is empty */
	f = jwssign_flat(key, NULL, 0, hdr, "");
	assert_string_equal(json_string_value(json_object_get(f, "payload")),
	    "");
	json_decref(f);
	json_decref(hdr);
	jwks_unref(ks);
	jwks_unref(ko);
	EVP_PKEY_free(key);
	EVP_PKEY_free(other);
}

static char *
b64bn(EVP_PKEY *key, const char *param)
{
	BIGNUM		*bn = NULL;
	unsigned char	 b[32];
	char		*s = malloc(64);

	assert_int_equal(EVP_PKEY_get_bn_param(key, param, &bn), 1);
	assert_int_equal(BN_bn2binpad(bn, b, 32), 32);
	assert_int_equal(encode_b64url(b, 32, s, 64), 43);
	BN_free(bn);
	return s;
}

static void
test_thumbprint(void **state)
{
	EVP_PKEY	*key = jwssign_p256_new(), *rsa;
	char		*x = b64bn(key, OSSL_PKEY_PARAM_EC_PUB_X);
	char		*y = b64bn(key, OSSL_PKEY_PARAM_EC_PUB_Y);
	char		 text[256], want[JWSSIGN_THUMB_SIZE];
	char		 got[JWSSIGN_THUMB_SIZE];
	unsigned char	 md[32];

	/* RFC 7638 3.2: the required members, sorted, no white space */
	snprintf(text, sizeof(text), "{\"crv\":\"P-256\",\"kty\":\"EC\","
	    "\"x\":\"%s\",\"y\":\"%s\"}", x, y);
	assert_int_equal(EVP_Digest(text, strlen(text), md, NULL,
	    EVP_sha256(), NULL), 1);
	assert_int_equal(encode_b64url(md, 32, want, sizeof(want)), 43);
	assert_int_equal(jwssign_thumbprint(key, got), 0);
	assert_string_equal(got, want);
	rsa = EVP_RSA_gen(2048);
	assert_int_equal(jwssign_thumbprint(rsa, got), -1);
	assert_null(jwssign_jwk(rsa));
	EVP_PKEY_free(rsa);
	EVP_PKEY_free(key);
	free(x);
	free(y);
}

static void
test_hs256_eab(void **state)
{
	static const unsigned char mac[32] = { 1, 2, 3, 4, 5 };
	json_t		*hdr = json_pack("{s:s, s:s}", "kid", "kid-1", "url",
			    "https://ca.test/new-acct"), *f;
	char		*in, sig[64];
	unsigned char	 md[32];
	unsigned int	 mdlen;

	f = jwssign_flat(NULL, mac, sizeof(mac), hdr, "{\"kty\":\"EC\"}");
	assert_non_null(f);
	assert_true(asprintf(&in, "%s.%s",
	    json_string_value(json_object_get(f, "protected")),
	    json_string_value(json_object_get(f, "payload"))) > 0);
	assert_non_null(HMAC(EVP_sha256(), mac, sizeof(mac),
	    (unsigned char *)in, strlen(in), md, &mdlen));
	assert_int_equal(encode_b64url(md, mdlen, sig, sizeof(sig)), 43);
	assert_string_equal(json_string_value(json_object_get(f,
	    "signature")), sig);
	assert_string_equal(json_string_value(json_object_get(hdr, "alg")),
	    "HS256");
	free(in);
	json_decref(f);
	json_decref(hdr);
}

static const unsigned char k1[32] = { 9, 9, 9 }, k2[32] = { 9, 9, 8 };

static void
test_seal_pem_sized(void **state)
{
	unsigned char	 in[2000], out[2000];
	char		 s[SECRET_SEALED_LEN(2000)], t[SECRET_SEALED_LEN(2000)];
	size_t		 len, i;

	for (i = 0; i < sizeof(in); i++)
		in[i] = (unsigned char)("-----BEGIN PRIVATE KEY-----"[i % 27]);
	assert_int_equal(secret_seal(k1, "acme:a.test", 11, in, sizeof(in), s,
	    sizeof(s)), 0);
	assert_int_equal(secret_seal(k1, "acme:a.test", 11, in, sizeof(in), t,
	    sizeof(t)), 0);
	assert_string_not_equal(s, t);		/* a fresh nonce each time */
	assert_null(strstr(s, "BEGIN"));
	assert_int_equal(secret_open(k1, "acme:a.test", 11, s, out, sizeof(out),
	    &len), 0);
	assert_int_equal(len, sizeof(in));
	assert_memory_equal(in, out, len);
	/* another host, another key, a smaller buffer: nothing opens */
	assert_int_equal(secret_open(k1, "acme:b.test", 11, s, out, sizeof(out),
	    &len), -1);
	assert_int_equal(secret_open(k1, "acme:account", 12, s, out,
	    sizeof(out), &len), -1);
	assert_int_equal(secret_open(k2, "acme:a.test", 11, s, out, sizeof(out),
	    &len), -1);
	assert_int_equal(secret_open(k1, "acme:a.test", 11, s, out, 1999,
	    &len), -1);
	for (i = 3; i < strlen(s); i += 97) {	/* any change */
		t[0] = '\0';
		strcpy(t, s);
		t[i] = t[i] == 'A' ? 'B' : 'A';
		assert_int_equal(secret_open(k1, "acme:a.test", 11, t, out,
		    sizeof(out), &len), -1);
	}
	strcpy(t, s);
	t[strlen(t) - 1] = '\0';		/* truncated */
	assert_int_equal(secret_open(k1, "acme:a.test", 11, t, out, sizeof(out),
	    &len), -1);
	assert_int_equal(secret_seal(k1, "acme:a.test", 11, in, 10, s,
	    SECRET_SEALED_LEN(10) - 1), -1);
	assert_string_equal(s, "");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_es256_flat_verifies),
		cmocka_unit_test(test_thumbprint),
		cmocka_unit_test(test_hs256_eab),
		cmocka_unit_test(test_seal_pem_sized),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
