#ifndef TMP_GATEWAY_CRYPTO_JWS_H
#define TMP_GATEWAY_CRYPTO_JWS_H
#include <stddef.h>
#include <stdint.h>
/* crypto/jws.h  (jws) */
#include <jansson.h>
#include <openssl/evp.h>
#define JWS_RS256	0x01u
#define JWS_PS256	0x02u
#define JWS_ES256	0x04u
#define JWS_EDDSA	0x08u	/* Ed25519 */
#define JWS_ALGS_ALL	0x0fu
unsigned	 jws_alg_bit(const char *name);	/* 0: none, HS*, unknown */
struct jwks;					/* immutable, reference-counted */
struct jwks	*jwks_parse(const char *json, size_t len, char *err, size_t errlen); /* bounded: <= 32 keys, <= 64 KiB; skips keys with use != sig, unknown kty/crv, RSA < 2048 bits; NULL + err on garbage or no usable key */
struct jwks	*jwks_ref(struct jwks *);
void		 jwks_unref(struct jwks *);	/* NULL-safe */
int		 jwks_has_kid(const struct jwks *, const char *kid);
enum jws_status { JWS_OK = 0, JWS_MALFORMED, JWS_ALG_REFUSED, JWS_UNKNOWN_KID, JWS_BAD_SIGNATURE, JWS_NOMEM };
/* Verify the compact JWS <token> (<len> bytes, <= 16 KiB) with an alg in <algs> and a key of <set> (by kid; without kid: every key of the alg's type is tried); the key's own "alg", if any, must equal the header's. On JWS_OK *claims is the payload object (json_decref it). <kid> (kidlen bytes) receives the header's kid, "" without one, also on failure (the caller refetches JWKS on JWS_UNKNOWN_KID). alg none, HS*, crit headers, jku/jwk/x5u headers, and a payload that is not a JSON object are refused. */
enum jws_status	 jws_verify(const struct jwks *set, const char *token, size_t len, unsigned algs, json_t **claims, char *kid, size_t kidlen);
const char	*jws_reason(enum jws_status);	/* a reason code of util/reasons.def */
/* ES256 compact JWS of <claims> with header {alg, typ "JWT", kid if not NULL}; malloc'ed string or NULL. For private_key_jwt. */
char		*jws_sign_es256(EVP_PKEY *key, const char *kid, json_t *claims);

#endif
