/*
 * encode.c: RFC 4648 test vectors (base64url without padding) and hex.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "encode.h"

static void
b64(const char *in, const char *want)
{
	char	out[64];

	assert_int_equal(encode_b64url((const unsigned char *)in, strlen(in),
	    out, sizeof(out)), (int)strlen(want));
	assert_string_equal(out, want);
}

static void
test_rfc4648(void **state)
{
	(void)state;
	b64("", "");
	b64("f", "Zg");
	b64("fo", "Zm8");
	b64("foo", "Zm9v");
	b64("foob", "Zm9vYg");
	b64("fooba", "Zm9vYmE");
	b64("foobar", "Zm9vYmFy");
	b64("\xfb\xff\xfe", "-__-");		/* the url-safe letters */
}

static void
test_bounds(void **state)
{
	unsigned char	in[32] = { 0 };
	char		out[44];

	(void)state;
	assert_int_equal(ENCODE_B64URL_LEN(32), 43);
	assert_int_equal(encode_b64url(in, 32, out, 44), 43);
	assert_int_equal(encode_b64url(in, 32, out, 43), -1);
	assert_string_equal(out, "");
}

static void
test_hex(void **state)
{
	const unsigned char in[] = { 0x00, 0x9f, 0xa0, 0xff };
	char	out[9];

	(void)state;
	encode_hex(in, sizeof(in), out);
	assert_string_equal(out, "009fa0ff");
}

/* Every glob character of a prefix is literal; only the final '*' is not. */
static void
test_glob(void **state)
{
	char	out[32];

	(void)state;
	assert_int_equal(encode_glob_prefix("p:acme:cert:", out, sizeof(out)),
	    0);
	assert_string_equal(out, "p:acme:cert:*");
	assert_int_equal(encode_glob_prefix("a*b?c[d]e\\f", out,
	    sizeof(out)), 0);
	assert_string_equal(out, "a\\*b\\?c\\[d\\]e\\\\f*");
	assert_int_equal(encode_glob_prefix("", out, sizeof(out)), 0);
	assert_string_equal(out, "*");
	/* "ab" needs 4 bytes, "a*" 5 (escape, star, star, NUL) */
	assert_int_equal(encode_glob_prefix("ab", out, 4), 0);
	assert_int_equal(encode_glob_prefix("abc", out, 4), -1);
	assert_string_equal(out, "");
	assert_int_equal(encode_glob_prefix("a*", out, 4), -1);
	assert_int_equal(encode_glob_prefix("a*", out, 5), 0);
	assert_string_equal(out, "a\\**");
	assert_int_equal(encode_glob_prefix("x", out, 0), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc4648),
		cmocka_unit_test(test_bounds),
		cmocka_unit_test(test_hex),
		cmocka_unit_test(test_glob),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
