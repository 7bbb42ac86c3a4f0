/*
 * libFuzzer target: JWKS documents and compact JWS tokens (jws.c), both
 * from an OpenID Provider or an attacker in its place.  The input is cut
 * at its first NUL byte: the part before is parsed as a JWKS (and, if it
 * gives a key set, the part after is verified against it); the part after
 * (the whole input without a NUL) is verified against a fixed key set made
 * once (the seeds hold tokens its private keys signed).  Invariants: a
 * token is OK only in three parts and with a JSON object payload, the kid
 * reported fits, and an ES256 signature made by jws_sign_es256 of any JSON
 * object the input holds verifies to the same object.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>

#include "encode.h"
#include "jws.h"

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* Public keys only: RSA 2048 "r1", P-256 "e1", Ed25519 "d1". */
static const char FIXED[] =
    "{\"keys\":[{\"kty\":\"RSA\",\"key_ops\":[\"verify\"],\"n\":\"5JRpgUj"
    "u5XptwVQ_HZuOtfkIJtfaPBsMRnyUXLFR64L65HEt5uTBS5ye9IVlQWKpkC8_8KU_iuv"
    "2TnRduYwz3d-ccZIrCs_nUJ-D4FyADUoumv3N4XN7dpK-cPACyGggM8I2HaRgpx_Cbq7"
    "_nP1X4LvRCDvJLf9dO3G9kKYf_oNWEeP9txKnzw0eL2tbCO3C32nSdq3oFGV8P5flGUf"
    "tzrnVn6VG77erGg_QCropgKADCshbNpxgfYG-CNupR1rMZIl11vj3j4IUH3HycAs6Rgr"
    "-SPkxH4WKdoej4gKObr57OYaS6F87AL5yjfzLSJuRL-RZ2uCAei_UJWnCp3EWtw\",\""
    "e\":\"AQAB\",\"kid\":\"r1\"},{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\""
    ":\"XatyDp-JUI143G03vGD_dfF6wKc721n1eTJO4hyE9jM\",\"y\":\"XVyfL192L_7"
    "FY4R-JgjY7qnWsZzoV2jb4s3rQqEMK9g\",\"kid\":\"e1\",\"use\":\"sig\"},{"
    "\"x\":\"bgueIzfXd0n-tRYq1FcjdP_JqEX2ijwjiQq6xcUip_U\",\"kty\":\"OKP\""
    ",\"crv\":\"Ed25519\",\"kid\":\"d1\"}]}";

static struct jwks	*fixed;
static struct jwks	*own;		/* the public half of <signer> */
static EVP_PKEY		*signer;	/* P-256, for jws_sign_es256 */

/* A key set of <signer>'s public half. */
static struct jwks *
fuzz_own_set(void)
{
	unsigned char	pt[65];
	size_t		n = sizeof(pt);
	char		x[48], y[48], doc[256], err[128];

	if (EVP_PKEY_get_octet_string_param(signer,
	    OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, pt, n, &n) != 1 || n != 65)
		abort();
	(void)encode_b64url(pt + 1, 32, x, sizeof(x));
	(void)encode_b64url(pt + 33, 32, y, sizeof(y));
	(void)snprintf(doc, sizeof(doc), "{\"keys\":[{\"kty\":\"EC\","
	    "\"crv\":\"P-256\",\"kid\":\"own\",\"x\":\"%s\","
	    "\"y\":\"%s\"}]}", x, y);
	return jwks_parse(doc, strlen(doc), err, sizeof(err));
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char	err[128];

	(void)argc;
	(void)argv;
	fixed = jwks_parse(FIXED, sizeof(FIXED) - 1, err, sizeof(err));
	signer = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	if (fixed == NULL || signer == NULL || (own = fuzz_own_set()) == NULL)
		abort();
	return 0;
}

/* Verify <tok> against <set>; abort on a broken promise of jws.h. */
static void
fuzz_verify(const struct jwks *set, const char *tok, size_t len)
{
	char		 kid[JWS_MAX_KID + 1];
	json_t		*claims = NULL;
	enum jws_status	 st;
	size_t		 i, dots = 0;

	st = jws_verify(set, tok, len, JWS_ALGS_ALL, &claims, kid,
	    sizeof(kid));
	if (strlen(kid) >= sizeof(kid) || jws_reason(st) == NULL)
		abort();
	if (st != JWS_OK) {
		if (claims != NULL)
			abort();
		return;
	}
	for (i = 0; i < len; i++)
		dots += tok[i] == '.';
	if (!json_is_object(claims) || dots != 2)
		abort();
	json_decref(claims);
}

/* Any JSON object signed with jws_sign_es256 verifies, unchanged. */
static void
fuzz_roundtrip(const char *data, size_t len)
{
	json_t	*in, *out = NULL;
	char	 kid[8], *tok;

	if ((in = json_loadb(data, len, 0, NULL)) == NULL)
		return;
	if (json_is_object(in) && (tok = jws_sign_es256(signer, "own",
	    in)) != NULL) {
		if (strlen(tok) <= JWS_MAX_TOKEN &&
		    (jws_verify(own, tok, strlen(tok), JWS_ES256, &out, kid,
		    sizeof(kid)) != JWS_OK || !json_equal(in, out)))
			abort();
		json_decref(out);
		free(tok);
	}
	json_decref(in);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char	*s = (const char *)data, *tok = s;
	const uint8_t	*nul = memchr(data, 0, size);
	size_t		 head = nul != NULL ? (size_t)(nul - data) : size;
	size_t		 len = size;
	struct jwks	*set;
	char		 err[128];

	err[0] = '\0';
	if (nul != NULL) {
		tok = (const char *)nul + 1;
		len = size - head - 1;
	}
	if ((set = jwks_parse(s, head, err, sizeof(err))) != NULL) {
		(void)jwks_has_kid(set, "r1");
		fuzz_verify(set, tok, len);
		jwks_unref(jwks_ref(set));
		jwks_unref(set);
	} else if (err[0] == '\0')
		abort();
	fuzz_verify(fixed, tok, len);
	fuzz_roundtrip(s, head);
	return 0;
}
