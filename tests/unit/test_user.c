/*
 * user.c and store.c key naming (the layout documented in user.h and
 * docs/redis.md), and the checks of emails, slugs, roles, names and ids.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "store.h"
#include "user.h"

static void
key_is(const char *prefix, enum user_key kind, const char *arg,
    const char *want)
{
	char	buf[STORE_KEYLEN];

	assert_int_equal(user_key(buf, sizeof(buf), prefix, kind, arg),
	    (int)strlen(want));
	assert_string_equal(buf, want);
}

static void
test_key_layout(void **state)
{
	const char	*id = "0123456789abcdef0123456789abcdef";

	(void)state;
	key_is("postern:", USER_KEY_USER, id,
	    "postern:user:0123456789abcdef0123456789abcdef");
	key_is("postern:", USER_KEY_EMAIL, "a@b.example",
	    "postern:email:a@b.example");
	key_is("postern:", USER_KEY_USERS, NULL, "postern:users");
	key_is("p2:", USER_KEY_USER_ORGS, id,
	    "p2:user:0123456789abcdef0123456789abcdef:orgs");
	key_is("p2:", USER_KEY_USER_SESSIONS, id,
	    "p2:user:0123456789abcdef0123456789abcdef:sessions");
	key_is("x:", USER_KEY_SESSION, "ab12", "x:session:ab12");
	key_is("x:", USER_KEY_ORG, "acme", "x:org:acme");
	key_is("x:", USER_KEY_ORGS, NULL, "x:orgs");
	key_is("x:", USER_KEY_ORG_MEMBERS, "acme", "x:org:acme:members");
}

static void
test_key_limits(void **state)
{
	char	buf[16];

	(void)state;
	assert_int_equal(user_key(buf, sizeof(buf), "postern:", USER_KEY_USER,
	    "0123456789"), -1);
	assert_int_equal(user_key(buf, sizeof(buf), "p:", USER_KEY_USER,
	    NULL), -1);
	assert_int_equal(user_key(buf, sizeof(buf), "p:", (enum user_key)99,
	    "x"), -1);
	assert_int_equal(store_key(buf, sizeof(buf), "p:", "%s", "abcdefghijklm"),
	    15);
	assert_int_equal(store_key(buf, sizeof(buf), "p:", "%s",
	    "abcdefghijklmn"), -1);
	assert_int_equal(store_key(buf, 2, "p:", "%s", ""), -1);
}

static void
test_email(void **state)
{
	char	out[USER_EMAILMAX + 1], why[128], big[300];
	static const char *bad[] = {
		"", "ab", "noatsign", "@example.com", "a@", "a@@b.c",
		"a@b@c.d", "a b@c.d", "a@b.c.", "a@.b", "a\n@b.c",
		"<a>@b.c", "a@b\xff.c",
	};
	size_t	i;

	(void)state;
	assert_int_equal(user_email_normalize("Alice.Smith@Example.COM", out,
	    why, sizeof(why)), 0);
	assert_string_equal(out, "alice.smith@example.com");
	assert_int_equal(user_email_normalize("j\xc3\xb6rg@b\xc3\xbc.de", out,
	    why, sizeof(why)), 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(user_email_normalize(bad[i], out, why,
		    sizeof(why)), -1);
	memset(big, 'a', sizeof(big));
	big[100] = '@';
	big[299] = '\0';
	assert_int_equal(user_email_normalize(big, out, why, sizeof(why)), -1);
}

static void
test_slug_role_name(void **state)
{
	(void)state;
	assert_int_equal(user_slug_valid("acme"), 0);
	assert_int_equal(user_slug_valid("a-1"), 0);
	assert_int_equal(user_slug_valid(""), -1);
	assert_int_equal(user_slug_valid("-a"), -1);
	assert_int_equal(user_slug_valid("a-"), -1);
	assert_int_equal(user_slug_valid("Acme"), -1);
	assert_int_equal(user_slug_valid("a:b"), -1);
	assert_int_equal(user_slug_valid("a_b"), -1);
	static char *const ladder[] = { "owner", "executive", "admin",
	    "member", "viewer" };

	assert_int_equal(user_role_valid(ladder, 5, "owner"), 0);
	assert_int_equal(user_role_valid(ladder, 5, "executive"), 0);
	assert_int_equal(user_role_valid(ladder, 5, "viewer"), 0);
	assert_int_equal(user_role_valid(ladder, 4, "viewer"), -1);
	assert_int_equal(user_role_valid(ladder, 5, "root"), -1);
	assert_int_equal(user_role_valid(ladder, 5, "Owner"), -1);
	assert_int_equal(user_role_valid(ladder, 0, "owner"), -1);
	assert_int_equal(user_name_valid("Ana Mar\xc3\xad" "a"), 0);
	assert_int_equal(user_name_valid("tab\there"), -1);
	assert_int_equal(user_name_valid("bad\xff"), -1);
}

static void
test_new_id(void **state)
{
	char	a[USER_IDLEN + 1], b[USER_IDLEN + 1];
	size_t	i;

	(void)state;
	assert_int_equal(user_new_id(a), 0);
	assert_int_equal(user_new_id(b), 0);
	assert_int_equal(strlen(a), USER_IDLEN);
	assert_string_not_equal(a, b);
	for (i = 0; i < USER_IDLEN; i++)
		assert_non_null(strchr("0123456789abcdef", a[i]));
}

static void
test_script_digest(void **state)
{
	struct store_script s = STORE_SCRIPT("t", "return 1");

	(void)state;
	store_script_digest(&s);
	/* printf 'return 1' | sha1sum */
	assert_string_equal(s.sha1, "e0e1f9fabfc9d4800c877a703b823ac0578ff8db");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_key_layout),
		cmocka_unit_test(test_key_limits),
		cmocka_unit_test(test_email),
		cmocka_unit_test(test_slug_role_name),
		cmocka_unit_test(test_new_id),
		cmocka_unit_test(test_script_digest),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
