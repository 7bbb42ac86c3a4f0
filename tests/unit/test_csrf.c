/*
 * csrf.c and secret.c: tokens bind to their pre-session id, derived keys
 * differ per purpose, and the same-origin check is exact.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "csrf.h"
#include "secret.h"

static void
test_token_binds_to_id(void **state)
{
	unsigned char	key[32] = { 1 }, key2[32] = { 2 };
	char		id[CSRF_ID_LEN + 1], id2[CSRF_ID_LEN + 1];
	char		tok[CSRF_TOKEN_LEN + 1];

	(void)state;
	assert_int_equal(csrf_new_id(id, sizeof(id)), 0);
	assert_int_equal(csrf_new_id(id2, sizeof(id2)), 0);
	assert_int_equal(strlen(id), CSRF_ID_LEN);
	assert_string_not_equal(id, id2);
	assert_int_equal(csrf_token(key, id, tok, sizeof(tok)), 0);
	assert_true(csrf_verify(key, id, tok));
	assert_false(csrf_verify(key, id2, tok));
	assert_false(csrf_verify(key2, id, tok));
	assert_false(csrf_verify(key, id, ""));
	assert_false(csrf_verify(key, id, NULL));
	assert_false(csrf_verify(key, NULL, tok));
	assert_false(csrf_verify(key, "short", tok));
	tok[5] ^= 1;
	assert_false(csrf_verify(key, id, tok));
}

static void
test_origin(void **state)
{
	(void)state;
	assert_true(csrf_origin_ok("https://a.example", NULL, "a.example", 1));
	assert_true(csrf_origin_ok("https://a.example:8443", NULL,
	    "a.example:8443", 1));
	assert_true(csrf_origin_ok(NULL, "https://a.example/.postern/login",
	    "a.example", 1));
	assert_false(csrf_origin_ok("https://evil.example", NULL, "a.example",
	    1));
	assert_false(csrf_origin_ok("null", NULL, "a.example", 1));
	assert_false(csrf_origin_ok("http://a.example", NULL, "a.example", 1));
	assert_false(csrf_origin_ok("https://a.example.evil", NULL,
	    "a.example", 1));
	assert_false(csrf_origin_ok(NULL, "https://a.example.evil/",
	    "a.example", 1));
	assert_false(csrf_origin_ok(NULL, "https://a.example", "a.example",
	    1));
	assert_false(csrf_origin_ok(NULL, NULL, "a.example", 1));
	assert_false(csrf_origin_ok("https://a.example", NULL, NULL, 1));
}

static void
test_secret_derivation(void **state)
{
	struct secret_keys	 k, k2;
	char			 path[] = "/tmp/postern-secret-XXXXXX", err[256];
	unsigned char		 zero[32] = { 0 };
	int			 fd;

	(void)state;
	assert_true((fd = mkstemp(path)) != -1);
	assert_int_equal(write(fd, "0123456789abcdef0123456789abcdef", 32),
	    32);
	close(fd);
	assert_int_equal(secret_load(path, &k, err, sizeof(err)), 0);
	assert_int_equal(k.present, 1);
	assert_memory_not_equal(k.csrf, k.totp, 32);
	assert_memory_not_equal(k.csrf, k.token, 32);
	assert_memory_not_equal(k.csrf, zero, 32);
	assert_int_equal(secret_load(path, &k2, err, sizeof(err)), 0);
	assert_memory_equal(k.csrf, k2.csrf, 32);	/* deterministic */
	fd = open(path, O_WRONLY | O_TRUNC);
	assert_int_equal(write(fd, "short", 5), 5);
	close(fd);
	assert_int_equal(secret_load(path, &k2, err, sizeof(err)), -1);
	assert_int_equal(k2.present, 0);
	unlink(path);
	assert_int_equal(secret_load(path, &k2, err, sizeof(err)), -1);
	secret_wipe(&k);
	assert_memory_equal(k.csrf, zero, 32);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_token_binds_to_id),
		cmocka_unit_test(test_origin),
		cmocka_unit_test(test_secret_derivation),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
