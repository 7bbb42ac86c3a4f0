/*
 * JSON Web Signatures from OpenID Providers: their key sets (RFC 7517
 * JWKS) and the verification of compact JWS (RFC 7515) signed with one of
 * four asymmetric algorithms (RFC 7518 3.3, 3.4, 3.5; RFC 8037 EdDSA with
 * Ed25519), plus ES256 signing for private_key_jwt client assertions.
 * There is no symmetric (HS*) path at all, so a public key can never be
 * used as an HMAC secret; alg none, critical headers and headers that name
 * their own key (jku, jwk, x5u) are refused, and x5c is never read.
 */
#ifndef POSTERN_JWS_H
#define POSTERN_JWS_H

#include <stddef.h>

#include <jansson.h>
#include <openssl/evp.h>

#define JWS_RS256	0x01u	/* RSASSA-PKCS1-v1_5 SHA-256 */
#define JWS_PS256	0x02u	/* RSASSA-PSS SHA-256, MGF1 SHA-256, salt 32 */
#define JWS_ES256	0x04u	/* ECDSA P-256 SHA-256, raw r||s */
#define JWS_EDDSA	0x08u	/* Ed25519 */
#define JWS_ALGS_ALL	0x0fu

#define JWS_MAX_TOKEN	16384	/* bytes of a compact JWS */
#define JWS_MAX_JWKS	65536	/* bytes of a JWKS document */
#define JWS_MAX_KEYS	32	/* entries of its "keys" array */
#define JWS_MAX_KID	255	/* bytes of a kid */

/* The JWS_* bit of the alg <name>; 0 for none, HS*, and anything unknown. */
unsigned	 jws_alg_bit(const char *name);

/*
 * An immutable, reference-counted key set: it may be shared by threads,
 * each holding its own reference.
 */
struct jwks;

/*
 * Parse the JWKS document <json> (<len> bytes, at most JWS_MAX_JWKS, with
 * at most JWS_MAX_KEYS keys).  Keys that are not for signatures ("use"
 * other than "sig", "key_ops" without "verify"), of an unknown kty or crv,
 * with an "alg" that is not one of the four or does not fit the key type,
 * with a private part ("d"), or RSA under 2048 bits are skipped; a key
 * whose members are malformed (bad base64url, wrong lengths, a point off
 * the curve) is skipped too.  Several keys may share a kid (RFC 7517 4.5
 * allows it across key types): all are kept and a token with that kid is
 * tried against each that fits its alg.  Returns a set with one reference,
 * or NULL with a reason in <err> on garbage or when no key is usable.
 */
struct jwks	*jwks_parse(const char *json, size_t len, char *err,
		    size_t errlen);
/* Another reference to <set>; returns <set>. */
struct jwks	*jwks_ref(struct jwks *set);
/* Drop a reference; the last frees the set.  NULL-safe. */
void		 jwks_unref(struct jwks *set);
/* 1 if a usable key of <set> has the kid <kid>, else 0. */
int		 jwks_has_kid(const struct jwks *set, const char *kid);

enum jws_status {
	JWS_OK = 0,
	JWS_MALFORMED,		/* not a well-formed compact JWS */
	JWS_ALG_REFUSED,	/* alg not allowed, refused header, key type */
	JWS_UNKNOWN_KID,	/* no key of the set for this token */
	JWS_BAD_SIGNATURE,
	JWS_NOMEM,
};

/*
 * Verify the compact JWS <token> (<len> bytes, <= JWS_MAX_TOKEN) with an
 * alg in <algs> and a key of <set> (by kid; without kid: every key of the
 * alg's type is tried); the key's own "alg", if any, must equal the
 * header's.  On JWS_OK *<claims> is the payload object (json_decref it);
 * otherwise *<claims> is NULL.  <kid> (<kidlen> bytes) receives the
 * header's kid, "" without one, also on failure (the caller refetches the
 * JWKS on JWS_UNKNOWN_KID); a kid that does not fit, over JWS_MAX_KID or
 * with control characters makes the token JWS_MALFORMED.  alg none, HS*,
 * crit headers, jku/jwk/x5u headers, and a payload that is not a JSON
 * object are refused.  A kid that names keys none of which fits the alg
 * is JWS_ALG_REFUSED; a token without kid and no key of its alg's type is
 * JWS_UNKNOWN_KID.
 */
enum jws_status	 jws_verify(const struct jwks *set, const char *token,
		    size_t len, unsigned algs, json_t **claims, char *kid,
		    size_t kidlen);
/* The reason code (util/reasons.def) of <st>. */
const char	*jws_reason(enum jws_status st);

/*
 * ES256 compact JWS of <claims> with header {alg, typ "JWT", kid if not
 * NULL}, signed with the P-256 private <key>; a malloc'ed string the caller
 * frees, or NULL.  For private_key_jwt.
 */
char		*jws_sign_es256(EVP_PKEY *key, const char *kid, json_t *claims);

#endif
