/*
 * store.c's store_layout_key(): a key layout with its <placeholders>
 * replaced, in order, behind the prefix; -1 when a name does not fit or an
 * argument is missing.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "store.h"

static void
test_replaces(void **state)
{
	char	buf[STORE_KEYLEN];

	(void)state;
	assert_int_equal(store_layout_key(buf, sizeof(buf), "postern:",
	    STORE_LAYOUT("users")), 13);
	assert_string_equal(buf, "postern:users");
	assert_int_equal(store_layout_key(buf, sizeof(buf), "p:",
	    STORE_LAYOUT("user:<id>:orgs"), "ab12"), 16);
	assert_string_equal(buf, "p:user:ab12:orgs");
	assert_true(store_layout_key(buf, sizeof(buf), "",
	    STORE_LAYOUT("rl:<class>:acct:<email or id>"), "login",
	    "a@b.example") > 0);
	assert_string_equal(buf, "rl:login:acct:a@b.example");
	/* an argument is copied as it is, even with <...> in it */
	assert_true(store_layout_key(buf, sizeof(buf), "",
	    STORE_LAYOUT("email:<email>"), "<x>@y") > 0);
	assert_string_equal(buf, "email:<x>@y");
}

static void
test_refuses(void **state)
{
	char	buf[16];

	(void)state;
	assert_int_equal(store_layout_key(buf, sizeof(buf), "p:",
	    STORE_LAYOUT("user:<id>"), (const char *)NULL), -1);
	assert_string_equal(buf, "");
	assert_int_equal(store_layout_key(buf, sizeof(buf), "p:",
	    STORE_LAYOUT("user:<id>"), "0123456789abcdef"), -1);
	assert_string_equal(buf, "");
	assert_int_equal(store_layout_key(buf, sizeof(buf), "p:",
	    STORE_LAYOUT("user:<id>"), "01234567"), 15);
	assert_int_equal(store_layout_key(buf, 3, "p:", STORE_LAYOUT("x")),
	    -1);
	/* a '<' without '>' is text */
	assert_int_equal(store_layout_key(buf, sizeof(buf), "p:",
	    STORE_LAYOUT("a<b")), 5);
	assert_string_equal(buf, "p:a<b");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_replaces),
		cmocka_unit_test(test_refuses),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
