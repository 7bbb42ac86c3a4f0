/*
 * API-key and share-link tokens (see token.h).
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "digest.h"
#include "encode.h"
#include "token.h"

static void
token_hash_secret(const char *secret, size_t len, char *hash)
{
	unsigned char	md[DIGEST_SHA256_LEN];

	(void)digest_sha256(secret, len, md);
	encode_hex(md, sizeof(md), hash);
	OPENSSL_cleanse(md, sizeof(md));
}

int
token_new(const char *kind, char *id, char *tok, char *hash)
{
	unsigned char	rid[TOKEN_IDLEN / 2], rsec[32];
	char		sec[TOKEN_SECRETLEN + 1];
	int		rc = -1;

	if (strlen(kind) == 2 && RAND_bytes(rid, sizeof(rid)) == 1 &&
	    RAND_bytes(rsec, sizeof(rsec)) == 1 &&
	    encode_b64url(rsec, sizeof(rsec), sec, sizeof(sec)) ==
	    TOKEN_SECRETLEN) {
		encode_hex(rid, sizeof(rid), id);
		memcpy(tok, kind, 2);
		tok[2] = '_';
		memcpy(tok + 3, id, TOKEN_IDLEN);
		tok[3 + TOKEN_IDLEN] = '_';
		memcpy(tok + 4 + TOKEN_IDLEN, sec, TOKEN_SECRETLEN + 1);
		token_hash_secret(sec, TOKEN_SECRETLEN, hash);
		rc = 0;
	}
	OPENSSL_cleanse(rsec, sizeof(rsec));
	OPENSSL_cleanse(sec, sizeof(sec));
	return rc;
}

int
token_id_valid(const char *s)
{
	return strlen(s) == TOKEN_IDLEN &&
	    strspn(s, encode_hex_lower) == TOKEN_IDLEN;
}

int
token_parse(const char *kind, const char *s, size_t len, char *id,
    char *hash)
{
	const char	*sec = s + 4 + TOKEN_IDLEN;
	size_t		 i;

	if (len != TOKEN_LEN || strlen(kind) != 2 ||
	    memcmp(s, kind, 2) != 0 || s[2] != '_' ||
	    s[3 + TOKEN_IDLEN] != '_')
		return -1;
	for (i = 0; i < TOKEN_IDLEN; i++)
		if (strchr(encode_hex_lower, s[3 + i]) == NULL ||
		    s[3 + i] == '\0')
			return -1;
	for (i = 0; i < TOKEN_SECRETLEN; i++)
		if (sec[i] == '\0' || strchr(encode_b64url_chars, sec[i]) ==
		    NULL)
			return -1;
	memcpy(id, s + 3, TOKEN_IDLEN);
	id[TOKEN_IDLEN] = '\0';
	token_hash_secret(sec, TOKEN_SECRETLEN, hash);
	return 0;
}

int
token_hash_equal(const char *a, const char *b)
{
	return strlen(a) == TOKEN_HASHLEN && strlen(b) == TOKEN_HASHLEN &&
	    CRYPTO_memcmp(a, b, TOKEN_HASHLEN) == 0;
}

int
token_query_take(const char *q, const char *name, char *val, size_t size,
    char **rest)
{
	const char	*p = q, *amp, *found = NULL;
	size_t		 nlen = strlen(name), plen, vlen = 0;
	char		*out;
	size_t		 o = 0;

	*rest = NULL;
	for (p = q; *p != '\0'; p = *amp != '\0' ? amp + 1 : amp) {
		amp = p + strcspn(p, "&");
		plen = (size_t)(amp - p);
		if (plen < nlen || strncmp(p, name, nlen) != 0 ||
		    (plen > nlen && p[nlen] != '='))
			continue;
		if (found != NULL)
			return -1;	/* twice: which one is meant? */
		found = p;
		vlen = plen > nlen ? plen - nlen - 1 : 0;
	}
	if (found == NULL)
		return 0;
	if (vlen >= size || memchr(found + nlen, '%', vlen + 1) != NULL)
		return -1;
	memcpy(val, found + nlen + (vlen > 0), vlen);
	val[vlen] = '\0';
	if ((out = malloc(strlen(q) + 1)) == NULL)
		return -1;
	for (p = q; *p != '\0'; p = *amp != '\0' ? amp + 1 : amp) {
		amp = p + strcspn(p, "&");
		if (p == found || amp == p)
			continue;
		if (o > 0)
			out[o++] = '&';
		memcpy(out + o, p, (size_t)(amp - p));
		o += (size_t)(amp - p);
	}
	out[o] = '\0';
	if (o == 0)
		free(out);
	else
		*rest = out;
	return 1;
}

/* Spaces and tabs (RFC 9110 5.6.3 OWS) at <s>: how many. */
static size_t
token_ows(const char *s)
{
	return strspn(s, " \t");
}

const char *
token_bearer(const char *value, size_t *len)
{
	const char	*v = value + token_ows(value);

	if (strncasecmp(v, "bearer", 6) != 0 || (v[6] != ' ' && v[6] != '\t'))
		return NULL;
	v += 6;
	v += token_ows(v);
	*len = strcspn(v, " \t");
	if (v[*len + token_ows(v + *len)] != '\0')
		*len = 0;	/* more than one word: not a token (refused) */
	return v;
}

/* Does <s> start with "pk_" or "ps_", in any case? */
static int
token_kind_at(const char *s)
{
	return (strncasecmp(s, "pk_", 3) == 0 || strncasecmp(s, "ps_", 3) == 0);
}

int
token_authorization_ours(const char *value)
{
	const char	*v = value + token_ows(value), *p;
	size_t		 n;

	/* The credentials after any scheme ("Bearer", "bearer", "Token",
	 * none at all, even glued on: "Bearerpk_..."), in any spacing. */
	n = strcspn(v, " \t");		/* the scheme, or a bare token */
	if (strncasecmp(v, "bearer", 6) == 0)
		v += 6;
	else if (v[n] != '\0')
		v += n;
	if (token_kind_at(v + token_ows(v)))
		return 1;
	/* Or a whole token anywhere: its secret must not go upstream. */
	for (p = value; (p = strchr(p, '_')) != NULL; p++)
		if (p - value >= 2 && token_kind_at(p - 2) &&
		    strspn(p + 1, encode_hex_lower) == TOKEN_IDLEN &&
		    p[1 + TOKEN_IDLEN] == '_')
			return 1;
	return 0;
}
