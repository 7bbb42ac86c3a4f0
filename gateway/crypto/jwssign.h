/*
 * JSON Web Signatures the gateway makes for ACME (RFC 8555 6.2): the
 * flattened JSON serialization (RFC 7515 7.2.2) signed with the account's
 * ES256 key, the public JWK of that key and its thumbprint (RFC 7638), and
 * the HS256 MAC of an external account binding (RFC 8555 7.3.4).  Keys come
 * from OpenSSL's generator (RAND_bytes underneath).
 */
#ifndef POSTERN_JWSSIGN_H
#define POSTERN_JWSSIGN_H

#include <stddef.h>

#include <jansson.h>
#include <openssl/evp.h>

/* base64url of a SHA-256 digest, NUL included. */
#define JWSSIGN_THUMB_SIZE	44

/* A new P-256 key, or NULL. */
EVP_PKEY	*jwssign_p256_new(void);
/*
 * The raw r || s ES256 signature (RFC 7518 3.4) of the <n> bytes at <in>
 * with the P-256 private <key> into <raw>.  0 or -1.
 */
int		 jwssign_es256_raw(EVP_PKEY *key, const unsigned char *in,
		    size_t n, unsigned char raw[64]);
/* The public JWK {crv, kty, x, y} of P-256 <key> (json_decref it), or NULL. */
json_t		*jwssign_jwk(EVP_PKEY *key);
/*
 * The RFC 7638 thumbprint of <key>'s public JWK: base64url(SHA-256 of its
 * required members in lexicographic order, no white space) into <out>.
 * 0 or -1.
 */
int		 jwssign_thumbprint(EVP_PKEY *key,
		    char out[JWSSIGN_THUMB_SIZE]);
/*
 * The flattened JWS {protected, payload, signature} of <payload> (a JSON
 * text, or "" for an ACME POST-as-GET) under header <protected> (its
 * "alg" is set here: ES256 with <key>, or HS256 with the <maclen> bytes of
 * <mac> when <key> is NULL).  A new object (json_decref it), or NULL.
 */
json_t		*jwssign_flat(EVP_PKEY *key, const unsigned char *mac,
		    size_t maclen, json_t *protected, const char *payload);

#endif
