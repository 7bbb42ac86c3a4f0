/*
 * token.c and the pure parts of grant.c and authgrant.c: token shapes,
 * the share-link parameter, share paths and methods, credential headers.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <openssl/sha.h>

#include "authgrant.h"
#include "digest.h"
#include "encode.h"
#include "grant.h"
#include "route.h"
#include "token.h"

/* digest_sha256: FIPS 180-2's answers, and the same as SHA256() on every
 * length up to and past three blocks. */
static void
test_digest_sha256(void **state)
{
	static const char abc[] = "ba7816bf8f01cfea414140de5dae2223"
	    "b00361a396177a9cb410ff61f20015ad";
	static const char empty[] = "e3b0c44298fc1c149afbf4c8996fb924"
	    "27ae41e4649b934ca495991b7852b855";
	unsigned char	 md[DIGEST_SHA256_LEN], want[SHA256_DIGEST_LENGTH];
	unsigned char	 buf[200];
	char		 hex[2 * DIGEST_SHA256_LEN + 1];
	size_t		 n;

	(void)state;
	assert_int_equal(digest_sha256("abc", 3, md), 0);
	encode_hex(md, sizeof(md), hex);
	assert_string_equal(hex, abc);
	assert_int_equal(digest_sha256("", 0, md), 0);
	encode_hex(md, sizeof(md), hex);
	assert_string_equal(hex, empty);
	for (n = 0; n < sizeof(buf); n++)
		buf[n] = (unsigned char)(n * 7 + 1);
	for (n = 0; n <= sizeof(buf); n++) {
		assert_int_equal(digest_sha256(buf, n, md), 0);
		SHA256(buf, n, want);
		assert_memory_equal(md, want, sizeof(md));
	}
}

static void
test_new_and_parse(void **state)
{
	char		 id[TOKEN_IDLEN + 1], tok[TOKEN_LEN + 1];
	char		 hash[TOKEN_HASHLEN + 1], id2[TOKEN_IDLEN + 1];
	char		 hash2[TOKEN_HASHLEN + 1], want[TOKEN_HASHLEN + 1];
	unsigned char	 md[SHA256_DIGEST_LENGTH];

	(void)state;
	assert_int_equal(token_new("pk", id, tok, hash), 0);
	assert_int_equal(strlen(tok), TOKEN_LEN);
	assert_memory_equal(tok, "pk_", 3);
	assert_true(token_id_valid(id));
	assert_memory_equal(tok + 3, id, TOKEN_IDLEN);
	/* the hash is of the secret alone */
	SHA256((const unsigned char *)tok + 20, TOKEN_SECRETLEN, md);
	encode_hex(md, sizeof(md), want);
	assert_string_equal(hash, want);
	assert_int_equal(token_parse("pk", tok, strlen(tok), id2, hash2), 0);
	assert_string_equal(id, id2);
	assert_true(token_hash_equal(hash, hash2));
	/* the other kind, other lengths, other alphabets */
	assert_int_equal(token_parse("ps", tok, strlen(tok), id2, hash2), -1);
	assert_int_equal(token_parse("pk", tok, strlen(tok) - 1, id2, hash2),
	    -1);
	tok[5] = 'G';		/* id: hex only */
	assert_int_equal(token_parse("pk", tok, strlen(tok), id2, hash2), -1);
	tok[5] = 'a';
	tok[30] = '=';		/* secret: base64url only */
	assert_int_equal(token_parse("pk", tok, strlen(tok), id2, hash2), -1);
	tok[30] = '\0';		/* an embedded NUL is not a shorter token */
	assert_int_equal(token_parse("pk", tok, TOKEN_LEN, id2, hash2), -1);
	/* two tokens never repeat */
	assert_int_equal(token_new("ps", id2, tok, hash2), 0);
	assert_string_not_equal(id, id2);
	assert_false(token_hash_equal(hash, hash2));
	assert_false(token_hash_equal(hash, "abc"));
	assert_false(token_id_valid("0123456789ABCDEF"));
	assert_false(token_id_valid("0123456789abcde"));
}

static void
take(const char *q, int want, const char *val, const char *rest)
{
	char	v[TOKEN_LEN + 2], *r = NULL;

	assert_int_equal(token_query_take(q, "postern_share", v, sizeof(v),
	    &r), want);
	if (want == 1) {
		assert_string_equal(v, val);
		if (rest == NULL)
			assert_null(r);
		else
			assert_string_equal(r, rest);
	} else
		assert_null(r);
	free(r);
}

static void
test_query_take(void **state)
{
	(void)state;
	take("postern_share=abc", 1, "abc", NULL);
	take("a=1&postern_share=abc&b=2", 1, "abc", "a=1&b=2");
	take("a=1&postern_share=abc", 1, "abc", "a=1");
	take("postern_share", 1, "", NULL);
	take("postern_share=", 1, "", NULL);
	take("a&&postern_share=x&&b", 1, "x", "a&b");
	take("postern_shared=1&xpostern_share=2", 0, NULL, NULL);
	take("postern%5Fshare=1", 0, NULL, NULL);
	take("", 0, NULL, NULL);
	take("postern_share=a&postern_share=b", -1, NULL, NULL);
	take("postern_share=a&postern_share", -1, NULL, NULL);
	take("postern_share=a%5Fb", -1, NULL, NULL);
	take("postern_share=pk_0123456789abcdef_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	    "AAAAAAAAAAAAAxxxxxxxx", -1, NULL, NULL);
}

static void
test_share_paths(void **state)
{
	(void)state;
	assert_int_equal(grant_path_valid("/invoices/123/pay"), 0);
	assert_int_equal(grant_path_valid("/"), 0);
	assert_int_equal(grant_path_valid("/docs/"), 0);
	assert_int_equal(grant_path_valid("/a-b_c.d~e/f@g:h,i+j=k!l$m&n"), 0);
	assert_int_equal(grant_path_valid(""), -1);
	assert_int_equal(grant_path_valid("invoices"), -1);
	assert_int_equal(grant_path_valid("/a//b"), -1);
	assert_int_equal(grant_path_valid("/a/./b"), -1);
	assert_int_equal(grant_path_valid("/a/../b"), -1);
	assert_int_equal(grant_path_valid("/a/.."), -1);
	assert_int_equal(grant_path_valid("/a/."), -1);
	assert_int_equal(grant_path_valid("/a%2fb"), -1);
	assert_int_equal(grant_path_valid("/a;b"), -1);	/* cookie Path */
	assert_int_equal(grant_path_valid("/a?b"), -1);
	assert_int_equal(grant_path_valid("/a b"), -1);
	assert_int_equal(grant_path_valid("/a\"b"), -1);
	assert_int_equal(grant_path_valid("/a\r\nSet-Cookie: x"), -1);
}

static void
test_methods(void **state)
{
	char	buf[64];

	(void)state;
	assert_int_equal(grant_methods_parse("GET,HEAD"),
	    ROUTE_M_GET | ROUTE_M_HEAD);
	assert_int_equal(grant_methods_parse("POST"), ROUTE_M_POST);
	assert_int_equal(grant_methods_parse("GET,FETCH"), 0);
	assert_int_equal(grant_methods_parse("get"), 0);
	assert_int_equal(grant_methods_parse(""), 0);
	assert_int_equal(grant_methods_parse(","), 0);
	grant_methods_string(ROUTE_M_DELETE | ROUTE_M_GET, buf, sizeof(buf));
	assert_string_equal(buf, "GET,DELETE");
	assert_int_equal(grant_scope_valid("shares:create"), 0);
	assert_int_equal(grant_scope_valid("Shares"), -1);
	assert_int_equal(grant_scope_valid(""), -1);
	assert_int_equal(grant_scope_valid("a b"), -1);
}

static void
test_header_ours(void **state)
{
	(void)state;
	assert_true(authgrant_header_ours("Authorization", "Bearer pk_x"));
	assert_true(authgrant_header_ours("authorization", "bearer  ps_x"));
	assert_true(authgrant_header_ours("AUTHORIZATION", "BEARER pk_"));
	assert_false(authgrant_header_ours("Authorization", "Basic dTpw"));
	assert_false(authgrant_header_ours("Authorization", "Bearer eyJ"));
	assert_false(authgrant_header_ours("Authorization", "Bearer"));
	assert_false(authgrant_header_ours("X-Api-Key", "Bearer pk_x"));
	assert_false(authgrant_header_ours("Accept", "Bearer pk_x"));
	/* any spacing, any case, any scheme or none */
	assert_true(authgrant_header_ours("Authorization", "Bearer\tpk_x"));
	assert_true(authgrant_header_ours("Authorization", "Bearer \t pk_x"));
	assert_true(authgrant_header_ours("Authorization", "  Bearer pk_x"));
	assert_true(authgrant_header_ours("Authorization", "Bearerpk_x"));
	assert_true(authgrant_header_ours("Authorization", "Token pk_x"));
	assert_true(authgrant_header_ours("Authorization", "pk_x"));
	assert_true(authgrant_header_ours("Authorization", "Bearer PK_x"));
	assert_true(authgrant_header_ours("Authorization", "Basic a, Bearer "
	    "pk_0123456789abcdef_x"));
	assert_false(authgrant_header_ours("Authorization", "Basic a, Bearer "
	    "pk_0123"));
}

static void
test_bearer(void **state)
{
	static const char *const ok[] = { "Bearer tok", "bearer tok",
	    "BEARER tok", "Bearer\ttok", "Bearer  \t tok", "Bearer tok  ",
	    "Bearer tok\t", " Bearer tok", NULL };
	const char *const *v;
	const char	*t;
	size_t		 len;

	(void)state;
	for (v = ok; *v != NULL; v++) {
		assert_non_null(t = token_bearer(*v, &len));
		assert_int_equal(len, 3);
		assert_memory_equal(t, "tok", 3);
	}
	assert_null(token_bearer("Basic tok", &len));
	assert_null(token_bearer("Bearertok", &len));
	assert_null(token_bearer("Bearer", &len));
	assert_non_null(token_bearer("Bearer a b", &len));
	assert_int_equal(len, 0);	/* two words: refused */
	assert_non_null(token_bearer("Bearer ", &len));
	assert_int_equal(len, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_digest_sha256),
		cmocka_unit_test(test_new_and_parse),
		cmocka_unit_test(test_query_take),
		cmocka_unit_test(test_share_paths),
		cmocka_unit_test(test_methods),
		cmocka_unit_test(test_header_ours),
		cmocka_unit_test(test_bearer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
