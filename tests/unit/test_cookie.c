/*
 * cookie.c: lookup of the gateway's cookie and its removal before upstream.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "cookie.h"

static void
test_get(void **state)
{
	char	v[64];

	(void)state;
	assert_int_equal(cookie_get("a=1; __Host-postern=abc; b=2",
	    "__Host-postern", v, sizeof(v)), COOKIE_FOUND);
	assert_string_equal(v, "abc");
	assert_int_equal(cookie_get("__Host-postern=x", "__Host-postern", v,
	    sizeof(v)), COOKIE_FOUND);
	assert_string_equal(v, "x");
	assert_int_equal(cookie_get("a=1;b=2", "b", v, sizeof(v)),
	    COOKIE_FOUND);
	assert_string_equal(v, "2");
	assert_int_equal(cookie_get("a=\"q\"", "a", v, sizeof(v)),
	    COOKIE_FOUND);
	assert_int_equal(cookie_get(" a = 1 ", "a", v, sizeof(v)),
	    COOKIE_FOUND);
	assert_string_equal(v, "1");
	assert_int_equal(cookie_get("a=", "a", v, sizeof(v)), COOKIE_FOUND);
	assert_string_equal(v, "");
}

static void
test_absent(void **state)
{
	char	v[64];

	(void)state;
	assert_int_equal(cookie_get(NULL, "a", v, sizeof(v)), COOKIE_ABSENT);
	assert_int_equal(cookie_get("", "a", v, sizeof(v)), COOKIE_ABSENT);
	assert_int_equal(cookie_get("ab=1", "a", v, sizeof(v)),
	    COOKIE_ABSENT);
	assert_int_equal(cookie_get("xa=1", "a", v, sizeof(v)),
	    COOKIE_ABSENT);
	assert_int_equal(cookie_get("a", "a", v, sizeof(v)), COOKIE_ABSENT);
	/* names are case-sensitive, as browsers send them */
	assert_int_equal(cookie_get("__host-postern=1", "__Host-postern", v,
	    sizeof(v)), COOKIE_ABSENT);
}

static void
test_ambiguous_and_invalid(void **state)
{
	char	v[8];

	(void)state;
	assert_int_equal(cookie_get("a=1; a=2", "a", v, sizeof(v)),
	    COOKIE_AMBIGUOUS);
	assert_int_equal(cookie_get("a=1; a=1", "a", v, sizeof(v)),
	    COOKIE_AMBIGUOUS);
	assert_int_equal(cookie_get("a=12345678", "a", v, sizeof(v)),
	    COOKIE_INVALID);
	assert_int_equal(cookie_get("a=x\\y", "a", v, sizeof(v)),
	    COOKIE_INVALID);
	assert_int_equal(cookie_get("a=x y", "a", v, sizeof(v)),
	    COOKIE_INVALID);
	assert_int_equal(cookie_get("a=\xc3\xa9", "a", v, sizeof(v)),
	    COOKIE_INVALID);
	assert_int_equal(cookie_get("a=x,y", "a", v, sizeof(v)),
	    COOKIE_INVALID);
}

static void
strip(const char *in, const char *want)
{
	static const char *const names[] = { "__Host-postern",
	    "__Host-postern-csrf", NULL };
	char	*out;
	int	 err;

	out = cookie_strip(in, names, &err);
	assert_int_equal(err, 0);
	if (want == NULL)
		assert_null(out);
	else
		assert_string_equal(out, want);
	free(out);
}

static void
test_strip(void **state)
{
	(void)state;
	strip("a=1; __Host-postern=s; b=2", "a=1; b=2");
	strip("__Host-postern=s", NULL);
	strip("__Host-postern=s;__Host-postern-csrf=t", NULL);
	strip("a=1;b=2;c=3", "a=1; b=2; c=3");	/* grows: separators */
	strip("a=1;__Host-postern=1;__Host-postern=2;z", "a=1");
	strip("x=1; __Host-posternx=2", "x=1; __Host-posternx=2");
	strip(NULL, NULL);
	strip("", NULL);
	strip(" ;; ; ", NULL);
}

static void
test_name_ours(void **state)
{
	static const char *const ours[] = { "__Host-postern",
	    "__Secure-postern", "__Host-postern-csrf", "__Secure-postern-share",
	    "__HOST-POSTERN", "__host-postern", "__sEcUrE-Postern-Share",
	    " __Host-postern\t", "\"__Host-postern\"", "postern",
	    "postern-x", "__Host-postern-anything", NULL };
	static const char *const theirs[] = { "", "app", "posterns",
	    "__Host-posternx", "__Host-app", "my-postern", "__Host-",
	    "__Secure-", "__Host-__Secure-postern", "xpostern", NULL };
	const char *const *n;

	(void)state;
	for (n = ours; *n != NULL; n++)
		assert_true(cookie_name_ours(*n, strlen(*n)));
	for (n = theirs; *n != NULL; n++)
		assert_false(cookie_name_ours(*n, strlen(*n)));
	/* only the given length counts */
	assert_false(cookie_name_ours("__Host-posternx", 15));
	assert_true(cookie_name_ours("__Host-posternx", 14));
}

static void
test_set_ours(void **state)
{
	(void)state;
	assert_true(cookie_set_ours("__Host-postern=x; Path=/; Secure"));
	assert_true(cookie_set_ours("__Host-postern=; Max-Age=0"));
	assert_true(cookie_set_ours("  __Host-postern  = x"));
	assert_true(cookie_set_ours("\"__Secure-postern\"=x"));
	assert_true(cookie_set_ours("=__Host-postern=x"));	/* nameless */
	assert_true(cookie_set_ours(" = __Host-postern=x"));
	assert_true(cookie_set_ours("__Host-postern"));		/* no value */
	assert_true(cookie_set_ours("a=1, __Host-postern-csrf=x"));
	assert_true(cookie_set_ours("a=1; Expires=Wed, 21 Oct 2037 07:28:00 "
	    "GMT, __Secure-postern-share=x; Path=/"));
	assert_false(cookie_set_ours("a=1; Path=/"));
	assert_false(cookie_set_ours("a=__Host-postern"));
	assert_false(cookie_set_ours("a=1; Path=/__Host-postern"));
	assert_false(cookie_set_ours("a=1; Expires=Wed, 21 Oct 2037 07:28:00 "
	    "GMT"));
	assert_false(cookie_set_ours(""));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_get),
		cmocka_unit_test(test_absent),
		cmocka_unit_test(test_ambiguous_and_invalid),
		cmocka_unit_test(test_strip),
		cmocka_unit_test(test_name_ours),
		cmocka_unit_test(test_set_ours),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
