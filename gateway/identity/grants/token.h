/*
 * Bearer tokens the gateway hands out to machines and to share links:
 * "<kind>_<id>_<secret>", where <kind> is "pk" (API key) or "ps" (share
 * link), <id> is 64 random bits as 16 lower-case hex digits (the public
 * name: logs, `list`, `revoke`) and <secret> 256 random bits in base64url
 * (43 characters, which may contain '_' and '-': the id's fixed length
 * makes the split unambiguous).  Redis keeps only SHA-256(secret), and a
 * presented secret is compared with CRYPTO_memcmp().
 */
#ifndef POSTERN_TOKEN_H
#define POSTERN_TOKEN_H

#include <stddef.h>

#define TOKEN_IDLEN	16	/* hex digits */
#define TOKEN_SECRETLEN	43	/* base64url of 32 bytes */
#define TOKEN_LEN	(2 + 1 + TOKEN_IDLEN + 1 + TOKEN_SECRETLEN)
#define TOKEN_HASHLEN	64	/* hex SHA-256 */

/*
 * A new token of <kind> ("pk" or "ps"): its id into <id> (TOKEN_IDLEN + 1
 * bytes), the whole token into <tok> (TOKEN_LEN + 1 bytes) and the hex
 * SHA-256 of its secret into <hash> (TOKEN_HASHLEN + 1 bytes).  0, or -1
 * if the random generator failed.
 */
int	token_new(const char *kind, char *id, char *tok, char *hash);

/*
 * Split <s> (<len> bytes, not necessarily NUL-terminated) as a token of
 * <kind>: on success its id goes to <id> and the hex SHA-256 of its
 * secret to <hash>, and 0 is returned; -1 if <s> is not exactly such a
 * token (length, prefix, separators, alphabets).
 */
int	token_parse(const char *kind, const char *s, size_t len, char *id,
	    char *hash);

/* 1 if <s> is a token id (TOKEN_IDLEN lower-case hex digits). */
int	token_id_valid(const char *s);

/* Constant-time equality of two hex hashes (TOKEN_HASHLEN digits). */
int	token_hash_equal(const char *a, const char *b);

/*
 * Take parameter <name> out of query string <q> (the part after '?').
 * Returns 0 if it is absent (<q> may carry it percent-encoded: that is not
 * our parameter); 1 if it is there exactly once, with its value (at most
 * <size> - 1 bytes, no '%' escapes) copied into <val> and *<rest> set to
 * a copy of the query without it (NULL if nothing is left; the caller
 * frees it); -1 if it appears twice, its value is too long or escaped,
 * or memory ran out.
 */
int	token_query_take(const char *q, const char *name, char *val,
	    size_t size, char **rest);

/*
 * The credentials of the Authorization header value <value> if its scheme
 * is Bearer (RFC 6750 2.1; the scheme in any case, RFC 9110 11.1),
 * separated by any run of spaces and tabs: *<len> bytes at the returned
 * pointer, 0 if more than one word follows (never a token: refuse it).
 * NULL if the scheme is another one.
 */
const char	*token_bearer(const char *value, size_t *len);

/*
 * Whether the Authorization header value <value> carries what looks like
 * a Postern token ("pk_..."/"ps_..." in any case, after any scheme and
 * spacing, or a whole token anywhere): such a header never goes upstream.
 */
int		 token_authorization_ours(const char *value);

#endif
