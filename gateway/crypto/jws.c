/*
 * JWKS parsing and compact JWS verification (see jws.h).  Keys become
 * OpenSSL EVP_PKEYs once, at parse time; a token is checked in a fixed
 * order: shape and base64url, header (alg, refused members, kid), key
 * choice, signature, and only then is the payload parsed as JSON.
 * Base64url is read strictly (RFC 7515 2: no padding, no '+' or '/', no
 * whitespace, no non-zero trailing bits), so one token has one spelling.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>

#include "encode.h"
#include "jws.h"
#include "jwssign.h"

#define JWS_KTY_RSA	1
#define JWS_KTY_EC	2
#define JWS_KTY_OKP	3

#define JWS_RSA_MIN_BITS	2048
#define JWS_RSA_MAX_BYTES	1024	/* 8192-bit modulus */
#define JWS_HEADER_MAX		8192	/* decoded header bytes (room for x5c) */
#define JWS_SIG_MAX		JWS_RSA_MAX_BYTES

struct jwk {
	int		 kty;		/* JWS_KTY_* */
	unsigned	 alg;		/* the key's own "alg" bit, 0: none */
	char		*kid;		/* NULL without one */
	EVP_PKEY	*pkey;
};

struct jwks {
	int		 refs;		/* atomic */
	size_t		 n;
	struct jwk	 keys[JWS_MAX_KEYS];
};

static const char *const jws_reasons[] = {
	[JWS_OK] = "ok",
	[JWS_MALFORMED] = "jws_malformed",
	[JWS_ALG_REFUSED] = "jws_alg_refused",
	[JWS_UNKNOWN_KID] = "jws_unknown_kid",
	[JWS_BAD_SIGNATURE] = "jws_bad_signature",
	[JWS_NOMEM] = "jws_nomem",
};

unsigned
jws_alg_bit(const char *name)
{
	if (name == NULL)
		return 0;
	if (strcmp(name, "RS256") == 0)
		return JWS_RS256;
	if (strcmp(name, "PS256") == 0)
		return JWS_PS256;
	if (strcmp(name, "ES256") == 0)
		return JWS_ES256;
	if (strcmp(name, "EdDSA") == 0)
		return JWS_EDDSA;
	return 0;
}

/* The algs a key type can verify. */
static unsigned
jws_kty_algs(int kty)
{
	switch (kty) {
	case JWS_KTY_RSA:
		return JWS_RS256 | JWS_PS256;
	case JWS_KTY_EC:
		return JWS_ES256;
	case JWS_KTY_OKP:
		return JWS_EDDSA;
	default:
		return 0;
	}
}

const char *
jws_reason(enum jws_status st)
{
	if ((size_t)st >= sizeof(jws_reasons) / sizeof(jws_reasons[0]))
		return "jws_malformed";
	return jws_reasons[st];
}

/* The value of base64url character <c>, or -1. */
static int
jws_b64val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '-')
		return 62;
	if (c == '_')
		return 63;
	return -1;
}

/*
 * Decode the <len> base64url characters at <in> into <out> (<cap> bytes),
 * the length in *<outlen>.  Strict: only the 64 characters, no padding, no
 * length of 1 mod 4, unused trailing bits zero.  Returns 0 or -1.
 */
static int
jws_b64dec(const char *in, size_t len, unsigned char *out, size_t cap,
    size_t *outlen)
{
	uint32_t	acc = 0;
	size_t		i, n = 0, bits = 0;
	int		v;

	if (len % 4 == 1 || len / 4 * 3 + (len % 4 ? len % 4 - 1 : 0) > cap)
		return -1;
	for (i = 0; i < len; i++) {
		if ((v = jws_b64val((unsigned char)in[i])) == -1)
			return -1;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[n++] = (unsigned char)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	if (acc != 0)		/* non-canonical trailing bits */
		return -1;
	*outlen = n;
	return 0;
}

/* Decode the base64url string member <name> of <o>; 0 or -1. */
static int
jws_member_b64(json_t *o, const char *name, unsigned char *out, size_t cap,
    size_t *outlen)
{
	json_t	*v = json_object_get(o, name);

	if (!json_is_string(v))
		return -1;
	return jws_b64dec(json_string_value(v), json_string_length(v), out,
	    cap, outlen);
}

static EVP_PKEY *
jws_fromdata(const char *type, OSSL_PARAM_BLD *bld)
{
	EVP_PKEY_CTX	*ctx = NULL;
	EVP_PKEY	*pkey = NULL;
	OSSL_PARAM	*params = NULL;

	if ((params = OSSL_PARAM_BLD_to_param(bld)) == NULL ||
	    (ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL)) == NULL ||
	    EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1)
		pkey = NULL;
	OSSL_PARAM_free(params);
	EVP_PKEY_CTX_free(ctx);
	return pkey;
}

/* An RSA public key from n and e, at least JWS_RSA_MIN_BITS; or NULL. */
static EVP_PKEY *
jws_rsa_key(json_t *o, const char **why)
{
	unsigned char	 nb[JWS_RSA_MAX_BYTES], eb[8];
	size_t		 nlen, elen;
	BIGNUM		*n = NULL, *e = NULL;
	OSSL_PARAM_BLD	*bld = NULL;
	EVP_PKEY	*pkey = NULL;

	*why = "RSA n or e malformed";
	if (jws_member_b64(o, "n", nb, sizeof(nb), &nlen) == -1 ||
	    jws_member_b64(o, "e", eb, sizeof(eb), &elen) == -1 ||
	    nlen == 0 || elen == 0)
		return NULL;
	if ((n = BN_bin2bn(nb, (int)nlen, NULL)) == NULL ||
	    (e = BN_bin2bn(eb, (int)elen, NULL)) == NULL)
		goto out;
	if (BN_num_bits(n) < JWS_RSA_MIN_BITS) {
		*why = "RSA key under 2048 bits";
		goto out;
	}
	if (!BN_is_odd(e) || BN_is_one(e)) {
		*why = "RSA exponent invalid";
		goto out;
	}
	if ((bld = OSSL_PARAM_BLD_new()) == NULL ||
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) != 1 ||
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e) != 1)
		goto out;
	pkey = jws_fromdata("RSA", bld);
out:
	OSSL_PARAM_BLD_free(bld);
	BN_free(n);
	BN_free(e);
	return pkey;
}

/* 1 if the public key of <pkey> passes OpenSSL's check (point on curve). */
static int
jws_public_ok(EVP_PKEY *pkey)
{
	EVP_PKEY_CTX	*ctx;
	int		 ok;

	if ((ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL)) == NULL)
		return 0;
	ok = EVP_PKEY_public_check(ctx) == 1;
	EVP_PKEY_CTX_free(ctx);
	return ok;
}

/* An EC P-256 public key from x and y (32 bytes each), on the curve. */
static EVP_PKEY *
jws_ec_key(json_t *o, const char **why)
{
	unsigned char	 pt[65];
	size_t		 xlen, ylen;
	OSSL_PARAM_BLD	*bld = NULL;
	EVP_PKEY	*pkey = NULL;
	char		 group[] = "prime256v1";

	*why = "EC x or y malformed";
	pt[0] = 0x04;
	if (jws_member_b64(o, "x", pt + 1, 32, &xlen) == -1 || xlen != 32 ||
	    jws_member_b64(o, "y", pt + 33, 32, &ylen) == -1 || ylen != 32)
		return NULL;
	*why = "EC point not on P-256";
	if ((bld = OSSL_PARAM_BLD_new()) == NULL ||
	    OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME,
	    group, 0) != 1 ||
	    OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pt,
	    sizeof(pt)) != 1)
		goto out;
	if ((pkey = jws_fromdata("EC", bld)) != NULL && !jws_public_ok(pkey)) {
		EVP_PKEY_free(pkey);
		pkey = NULL;
	}
out:
	OSSL_PARAM_BLD_free(bld);
	return pkey;
}

/* An Ed25519 public key from x (32 bytes). */
static EVP_PKEY *
jws_okp_key(json_t *o, const char **why)
{
	unsigned char	x[32];
	size_t		xlen;

	*why = "OKP x malformed";
	if (jws_member_b64(o, "x", x, sizeof(x), &xlen) == -1 || xlen != 32)
		return NULL;
	return EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, x, xlen);
}

/* 1 if the optional string array member <name> of <o> lacks <want>. */
static int
jws_ops_lack(json_t *o, const char *name, const char *want)
{
	json_t	*a = json_object_get(o, name), *v;
	size_t	 i;

	if (a == NULL)
		return 0;
	if (!json_is_array(a))
		return 1;
	json_array_foreach(a, i, v)
		if (json_is_string(v) && strcmp(json_string_value(v), want) == 0)
			return 0;
	return 1;
}

/*
 * The key type of JWK <o> when it is a usable signature key (its "use",
 * "key_ops", "alg" and "crv" fit), else 0 with the reason in *<why>.
 */
static int
jws_jwk_kind(json_t *o, unsigned *alg, const char **why)
{
	const char	*kty, *crv, *use;
	int		 t;

	kty = json_string_value(json_object_get(o, "kty"));
	crv = json_string_value(json_object_get(o, "crv"));
	use = json_string_value(json_object_get(o, "use"));
	*why = "not a signature key";
	if ((json_object_get(o, "use") != NULL &&
	    (use == NULL || strcmp(use, "sig") != 0)) ||
	    jws_ops_lack(o, "key_ops", "verify"))
		return 0;
	*why = "private key published";
	if (json_object_get(o, "d") != NULL)
		return 0;
	*why = "unknown kty or crv";
	if (kty == NULL)
		return 0;
	if (strcmp(kty, "RSA") == 0)
		t = JWS_KTY_RSA;
	else if (strcmp(kty, "EC") == 0 && crv != NULL &&
	    strcmp(crv, "P-256") == 0)
		t = JWS_KTY_EC;
	else if (strcmp(kty, "OKP") == 0 && crv != NULL &&
	    strcmp(crv, "Ed25519") == 0)
		t = JWS_KTY_OKP;
	else
		return 0;
	*alg = 0;
	if (json_object_get(o, "alg") != NULL) {
		*why = "alg not usable with the key";
		*alg = jws_alg_bit(json_string_value(json_object_get(o,
		    "alg")));
		if ((*alg & jws_kty_algs(t)) == 0)
			return 0;
	}
	return t;
}

/* Add JWK <o> to <set> if usable; 0, or -1 with the reason in *<why>. */
static int
jws_jwk_add(struct jwks *set, json_t *o, const char **why)
{
	struct jwk	*k = &set->keys[set->n];
	json_t		*kid = json_object_get(o, "kid");

	*why = "not an object";
	if (!json_is_object(o))
		return -1;
	if ((k->kty = jws_jwk_kind(o, &k->alg, why)) == 0)
		return -1;
	*why = "kid not a string";
	if (kid != NULL && (!json_is_string(kid) ||
	    json_string_length(kid) > JWS_MAX_KID ||
	    strlen(json_string_value(kid)) != json_string_length(kid)))
		return -1;
	if (k->kty == JWS_KTY_RSA)
		k->pkey = jws_rsa_key(o, why);
	else if (k->kty == JWS_KTY_EC)
		k->pkey = jws_ec_key(o, why);
	else
		k->pkey = jws_okp_key(o, why);
	if (k->pkey == NULL)
		return -1;
	if (kid != NULL && (k->kid = strdup(json_string_value(kid))) == NULL) {
		EVP_PKEY_free(k->pkey);
		k->pkey = NULL;
		*why = "out of memory";
		return -1;
	}
	set->n++;
	return 0;
}

static void
jws_free(struct jwks *set)
{
	size_t	i;

	for (i = 0; i < set->n; i++) {
		EVP_PKEY_free(set->keys[i].pkey);
		free(set->keys[i].kid);
	}
	free(set);
}

struct jwks *
jwks_parse(const char *json, size_t len, char *err, size_t errlen)
{
	struct jwks	*set = NULL;
	json_t		*doc = NULL, *keys, *o;
	json_error_t	 jerr;
	const char	*why = "no usable key";
	size_t		 i;

	if (len > JWS_MAX_JWKS) {
		(void)snprintf(err, errlen, "JWKS over %d bytes", JWS_MAX_JWKS);
		return NULL;
	}
	if ((doc = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr)) ==
	    NULL) {
		(void)snprintf(err, errlen, "JWKS not JSON: %s", jerr.text);
		return NULL;
	}
	keys = json_object_get(doc, "keys");
	if (!json_is_array(keys) || json_array_size(keys) > JWS_MAX_KEYS) {
		(void)snprintf(err, errlen, "JWKS has no \"keys\" array of at "
		    "most %d keys", JWS_MAX_KEYS);
		goto out;
	}
	if ((set = calloc(1, sizeof(*set))) == NULL) {
		(void)snprintf(err, errlen, "out of memory");
		goto out;
	}
	set->refs = 1;
	json_array_foreach(keys, i, o)
		(void)jws_jwk_add(set, o, &why);
	if (set->n == 0) {
		(void)snprintf(err, errlen, "JWKS has no usable key (last "
		    "skipped: %s)", why);
		jws_free(set);
		set = NULL;
	}
out:
	json_decref(doc);
	return set;
}

struct jwks *
jwks_ref(struct jwks *set)
{
	__atomic_add_fetch(&set->refs, 1, __ATOMIC_RELAXED);
	return set;
}

void
jwks_unref(struct jwks *set)
{
	if (set != NULL && __atomic_sub_fetch(&set->refs, 1,
	    __ATOMIC_ACQ_REL) == 0)
		jws_free(set);
}

int
jwks_has_kid(const struct jwks *set, const char *kid)
{
	size_t	i;

	for (i = 0; i < set->n; i++)
		if (set->keys[i].kid != NULL &&
		    strcmp(set->keys[i].kid, kid) == 0)
			return 1;
	return 0;
}

/* A compact JWS cut into its parts; the decoded header and signature. */
struct jws_parts {
	const char	*b64[3];	/* header, payload, signature */
	size_t		 b64len[3];
	unsigned char	 sig[JWS_SIG_MAX];
	size_t		 siglen;
	unsigned	 alg;
	const char	*kid;		/* in <header>, NULL without one */
	json_t		*header;
};

/* Cut <token> at its two dots, checking each part's base64url. */
static enum jws_status
jws_split(const char *token, size_t len, struct jws_parts *p)
{
	unsigned char	 hdr[JWS_HEADER_MAX];
	const char	*s = token, *end = token + len, *dot;
	size_t		 i, hlen;
	json_error_t	 jerr;

	if (len == 0 || len > JWS_MAX_TOKEN)
		return JWS_MALFORMED;
	for (i = 0; i < 3; i++) {
		dot = i < 2 ? memchr(s, '.', (size_t)(end - s)) : end;
		if (dot == NULL || dot == s)
			return JWS_MALFORMED;
		p->b64[i] = s;
		p->b64len[i] = (size_t)(dot - s);
		s = dot + 1;
	}
	if (memchr(p->b64[2], '.', p->b64len[2]) != NULL ||
	    jws_b64dec(p->b64[2], p->b64len[2], p->sig, sizeof(p->sig),
	    &p->siglen) == -1 ||
	    jws_b64dec(p->b64[0], p->b64len[0], hdr, sizeof(hdr), &hlen) == -1)
		return JWS_MALFORMED;
	/* the payload's base64url now, its JSON after the signature */
	for (i = 0; i < p->b64len[1]; i++)
		if (jws_b64val((unsigned char)p->b64[1][i]) == -1)
			return JWS_MALFORMED;
	if (p->b64len[1] % 4 == 1)
		return JWS_MALFORMED;
	p->header = json_loadb((const char *)hdr, hlen,
	    JSON_REJECT_DUPLICATES, &jerr);
	if (!json_is_object(p->header))
		return JWS_MALFORMED;
	return JWS_OK;
}

/*
 * Check the header: a string alg in <algs>, no crit (we understand no
 * extension, RFC 7515 4.1.11), no member naming a key to trust (jku, jwk,
 * x5u: a token must not choose its own key), a kid that is a short
 * printable string.
 */
static enum jws_status
jws_header(struct jws_parts *p, unsigned algs)
{
	static const char *const refused[] = { "crit", "jku", "jwk", "x5u" };
	json_t		*alg = json_object_get(p->header, "alg");
	json_t		*kid = json_object_get(p->header, "kid");
	const char	*s;
	size_t		 i;

	if (!json_is_string(alg))
		return JWS_MALFORMED;
	if (kid != NULL) {
		if (!json_is_string(kid) ||
		    json_string_length(kid) > JWS_MAX_KID)
			return JWS_MALFORMED;
		s = json_string_value(kid);
		for (i = 0; i < json_string_length(kid); i++)
			if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
				return JWS_MALFORMED;
		p->kid = s;
	}
	for (i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
		if (json_object_get(p->header, refused[i]) != NULL)
			return JWS_ALG_REFUSED;
	p->alg = jws_alg_bit(json_string_value(alg));
	if (p->alg == 0 || (p->alg & algs) == 0)
		return JWS_ALG_REFUSED;
	return JWS_OK;
}

/* The DER ECDSA-Sig-Value of the raw r||s ES256 signature, or -1. */
static int
jws_es256_der(const unsigned char *raw, size_t rawlen, unsigned char *der,
    size_t cap, size_t *derlen)
{
	ECDSA_SIG	*sig;
	BIGNUM		*r, *s;
	unsigned char	*d = der;
	int		 n = -1;

	if (rawlen != 64 || (sig = ECDSA_SIG_new()) == NULL)
		return -1;
	r = BN_bin2bn(raw, 32, NULL);
	s = BN_bin2bn(raw + 32, 32, NULL);
	if (r == NULL || s == NULL || ECDSA_SIG_set0(sig, r, s) != 1) {
		BN_free(r);
		BN_free(s);
	} else if ((n = i2d_ECDSA_SIG(sig, NULL)) > 0 && (size_t)n <= cap)
		n = i2d_ECDSA_SIG(sig, &d);
	else
		n = -1;
	ECDSA_SIG_free(sig);
	if (n <= 0)
		return -1;
	*derlen = (size_t)n;
	return 0;
}

/* 1 if <sig> over <msg> verifies under <pkey> with <alg>, else 0. */
static int
jws_sig_ok(EVP_PKEY *pkey, unsigned alg, const unsigned char *msg,
    size_t msglen, const unsigned char *sig, size_t siglen)
{
	EVP_MD_CTX	*md;
	EVP_PKEY_CTX	*pctx = NULL;
	unsigned char	 der[80];
	int		 ok = 0;

	if (alg == JWS_ES256) {
		if (jws_es256_der(sig, siglen, der, sizeof(der), &siglen) == -1)
			return 0;
		sig = der;
	}
	if (alg == JWS_EDDSA && siglen != 64)
		return 0;
	if ((md = EVP_MD_CTX_new()) == NULL)
		return 0;
	if (EVP_DigestVerifyInit(md, &pctx, alg == JWS_EDDSA ? NULL :
	    EVP_sha256(), NULL, pkey) != 1)
		goto out;
	if (alg == JWS_PS256 &&
	    (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
	    EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha256()) != 1 ||
	    EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, 32) != 1))
		goto out;
	ok = EVP_DigestVerify(md, sig, siglen, msg, msglen) == 1;
out:
	EVP_MD_CTX_free(md);
	return ok;
}

/*
 * Try the keys of <set> that fit the token: its kid (if any), its alg's
 * key type, the key's own alg.  JWS_OK when one verifies.
 */
static enum jws_status
jws_try_keys(const struct jwks *set, const struct jws_parts *p)
{
	const struct jwk	*k;
	size_t			 i, named = 0, fit = 0;
	const unsigned char	*msg = (const unsigned char *)p->b64[0];
	size_t			 msglen = p->b64len[0] + 1 + p->b64len[1];

	for (i = 0; i < set->n; i++) {
		k = &set->keys[i];
		if (p->kid != NULL && (k->kid == NULL ||
		    strcmp(k->kid, p->kid) != 0))
			continue;
		named++;
		if ((jws_kty_algs(k->kty) & p->alg) == 0 ||
		    (k->alg != 0 && k->alg != p->alg))
			continue;
		fit++;
		if (jws_sig_ok(k->pkey, p->alg, msg, msglen, p->sig,
		    p->siglen))
			return JWS_OK;
	}
	if (named == 0 || (p->kid == NULL && fit == 0))
		return JWS_UNKNOWN_KID;
	return fit == 0 ? JWS_ALG_REFUSED : JWS_BAD_SIGNATURE;
}

/* The payload of <p> as a JSON object into *<claims>. */
static enum jws_status
jws_payload(const struct jws_parts *p, json_t **claims)
{
	unsigned char	*buf;
	size_t		 cap = p->b64len[1] / 4 * 3 + 3, n;
	json_error_t	 jerr;

	if ((buf = malloc(cap)) == NULL)
		return JWS_NOMEM;
	if (jws_b64dec(p->b64[1], p->b64len[1], buf, cap, &n) == -1) {
		free(buf);
		return JWS_MALFORMED;
	}
	*claims = json_loadb((const char *)buf, n, JSON_REJECT_DUPLICATES,
	    &jerr);
	free(buf);
	if (!json_is_object(*claims)) {
		json_decref(*claims);
		*claims = NULL;
		return JWS_MALFORMED;
	}
	return JWS_OK;
}

enum jws_status
jws_verify(const struct jwks *set, const char *token, size_t len,
    unsigned algs, json_t **claims, char *kid, size_t kidlen)
{
	struct jws_parts	 p;
	enum jws_status		 st;

	memset(&p, 0, sizeof(p));
	*claims = NULL;
	if (kidlen > 0)
		kid[0] = '\0';
	if ((st = jws_split(token, len, &p)) != JWS_OK)
		goto out;
	if ((st = jws_header(&p, algs)) != JWS_OK && st != JWS_ALG_REFUSED)
		goto out;
	if (p.kid != NULL) {
		if (strlen(p.kid) >= kidlen) {
			st = JWS_MALFORMED;
			goto out;
		}
		memcpy(kid, p.kid, strlen(p.kid) + 1);
	}
	if (st == JWS_OK && (st = jws_try_keys(set, &p)) == JWS_OK)
		st = jws_payload(&p, claims);
out:
	json_decref(p.header);
	return st;
}

/* base64url of the compact JSON of <o> into a new string, or NULL. */
static char *
jws_b64json(json_t *o)
{
	char	*s, *out = NULL;
	size_t	 n, cap;

	if ((s = json_dumps(o, JSON_COMPACT)) == NULL)
		return NULL;
	n = strlen(s);
	cap = ENCODE_B64URL_LEN(n) + 1;
	if ((out = malloc(cap)) != NULL &&
	    encode_b64url((unsigned char *)s, n, out, cap) == -1) {
		free(out);
		out = NULL;
	}
	free(s);
	return out;
}

/* "<header>.<payload>" of the ES256 JWS, or NULL. */
static char *
jws_signing_input(const char *kid, json_t *claims)
{
	json_t	*hdr;
	char	*h = NULL, *c = NULL, *in = NULL;

	hdr = json_pack("{s:s, s:s}", "alg", "ES256", "typ", "JWT");
	if (hdr == NULL || (kid != NULL && json_object_set_new(hdr, "kid",
	    json_string(kid)) == -1))
		goto out;
	if ((h = jws_b64json(hdr)) == NULL || (c = jws_b64json(claims)) ==
	    NULL || asprintf(&in, "%s.%s", h, c) == -1)
		in = NULL;
out:
	json_decref(hdr);
	free(h);
	free(c);
	return in;
}

char *
jws_sign_es256(EVP_PKEY *key, const char *kid, json_t *claims)
{
	unsigned char	 raw[64];
	size_t		 n;
	char		*in, *out = NULL;

	if (!json_is_object(claims) ||
	    (in = jws_signing_input(kid, claims)) == NULL)
		return NULL;
	n = strlen(in);
	if (jwssign_es256_raw(key, (unsigned char *)in, n, raw) == 0 &&
	    (out = malloc(n + 1 + ENCODE_B64URL_LEN(64) + 1)) != NULL) {
		memcpy(out, in, n);
		out[n] = '.';
		(void)encode_b64url(raw, 64, out + n + 1,
		    ENCODE_B64URL_LEN(64) + 1);
	}
	free(in);
	return out;
}
