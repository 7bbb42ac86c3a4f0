/*
 * chclass.c: each class holds exactly the bytes its RFC names, for all
 * 256 byte values.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "chclass.h"

static int
in(const char *set, unsigned int c)
{
	return c != 0 && strchr(set, (int)c) != NULL;
}

static void
test_classes(void **state)
{
	static const char alnum[] = "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
	unsigned int	c;

	(void)state;
	for (c = 0; c < 256; c++) {
		assert_int_equal(CHCLASS(c, CH_TCHAR),
		    in(alnum, c) || in("!#$%&'*+-.^_`|~", c));
		assert_int_equal(CHCLASS(c, CH_B64URL), in(alnum, c) ||
		    c == '-' || c == '_');
		assert_int_equal(CHCLASS(c, CH_COOKIE), c == 0x21 ||
		    (c >= 0x23 && c <= 0x2b) || (c >= 0x2d && c <= 0x3a) ||
		    (c >= 0x3c && c <= 0x5b) || (c >= 0x5d && c <= 0x7e));
		assert_int_equal(CHCLASS(c, CH_CTL), (c < 0x20 && c != 0x09) ||
		    c == 0x7f);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_classes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
