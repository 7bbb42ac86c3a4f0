/*
 * encode.c: hex digits and percent-encoding (RFC 3986 §2.1).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "encode.h"

static void
test_hex_round_trip(void **state)
{
	unsigned char	in[256], back[256];
	char		out[513];
	size_t		i;
	int		hi, lo;

	(void)state;
	for (i = 0; i < sizeof(in); i++)
		in[i] = (unsigned char)(255 - i);
	encode_hex(in, sizeof(in), out);
	assert_int_equal(strlen(out), 512);
	assert_int_equal(strspn(out, encode_hex_lower), 512);
	for (i = 0; i < sizeof(in); i++) {
		hi = encode_hexval((unsigned char)out[2 * i]);
		lo = encode_hexval((unsigned char)out[2 * i + 1]);
		assert_true(hi >= 0 && lo >= 0);
		back[i] = (unsigned char)(hi << 4 | lo);
	}
	assert_memory_equal(in, back, sizeof(in));
	encode_hex(in, 0, out);
	assert_string_equal(out, "");
}

static void
test_hexval(void **state)
{
	int	i;

	(void)state;
	for (i = 0; i < 16; i++) {
		assert_int_equal(encode_hexval(encode_hex_lower[i]), i);
		assert_int_equal(encode_hexval(encode_hex_upper[i]), i);
	}
	assert_int_equal(encode_hexval('g'), -1);
	assert_int_equal(encode_hexval('G'), -1);
	assert_int_equal(encode_hexval('/'), -1);	/* '0' - 1 */
	assert_int_equal(encode_hexval(':'), -1);	/* '9' + 1 */
	assert_int_equal(encode_hexval('@'), -1);	/* 'A' - 1 */
	assert_int_equal(encode_hexval('`'), -1);	/* 'a' - 1 */
	assert_int_equal(encode_hexval(' '), -1);
	assert_int_equal(encode_hexval('\0'), -1);
	assert_int_equal(encode_hexval(0xb0), -1);
}

static void
pct_is(const char *in, const char *keep, const char *want)
{
	char	out[128];

	assert_int_equal(encode_pct(in, keep, out, sizeof(out)),
	    (int)strlen(want));
	assert_string_equal(out, want);
}

static void
test_pct_encode(void **state)
{
	(void)state;
	pct_is("", "", "");
	pct_is("AZaz09-._~", "", "AZaz09-._~");		/* unreserved */
	pct_is(":/?#[]@!$&'()*+,;=", "",
	    "%3A%2F%3F%23%5B%5D%40%21%24%26%27%28%29%2A%2B%2C%3B%3D");
	pct_is("/a b/", "/", "/a%20b/");
	pct_is("me@example.org", "@", "me@example.org");
	pct_is("%", "", "%25");
	pct_is("\x01\x7f", "", "%01%7F");
	pct_is("caf\xc3\xa9 \xe2\x82\xac", "", "caf%C3%A9%20%E2%82%AC");
}

static void
test_pct_encode_bounds(void **state)
{
	char	out[8];

	(void)state;
	/* "abc" and its NUL fit in 4 bytes, not in 3. */
	assert_int_equal(encode_pct("abc", "", out, 4), 3);
	assert_string_equal(out, "abc");
	assert_int_equal(encode_pct("abc", "", out, 3), -1);
	assert_string_equal(out, "ab");
	/* An escape is written whole or not at all. */
	assert_int_equal(encode_pct("a b", "", out, 4), -1);
	assert_string_equal(out, "a");
	assert_int_equal(encode_pct("a b", "", out, 5), -1);
	assert_string_equal(out, "a%20");
	assert_int_equal(encode_pct("a b", "", out, 6), 5);
	assert_string_equal(out, "a%20b");
	assert_int_equal(encode_pct("a", "", out, 0), -1);
}

static void
test_pct_byte(void **state)
{
	(void)state;
	assert_int_equal(encode_pct_byte("%41", 3), 'A');
	assert_int_equal(encode_pct_byte("%2f", 3), '/');
	assert_int_equal(encode_pct_byte("%2F", 3), '/');
	assert_int_equal(encode_pct_byte("%ff", 3), 0xff);
	assert_int_equal(encode_pct_byte("%00", 3), 0);
	assert_int_equal(encode_pct_byte("%41", 2), -1);	/* cut short */
	assert_int_equal(encode_pct_byte("%4", 2), -1);
	assert_int_equal(encode_pct_byte("%", 1), -1);
	assert_int_equal(encode_pct_byte("%G1", 3), -1);
	assert_int_equal(encode_pct_byte("%1G", 3), -1);
	assert_int_equal(encode_pct_byte("% 1", 3), -1);
	assert_int_equal(encode_pct_byte("%-1", 3), -1);
	assert_int_equal(encode_pct_byte("A41", 3), -1);
}

static void
decode_is(const char *in, int plus, const char *want, size_t wantlen)
{
	char	out[64];
	size_t	n = 99;

	assert_int_equal(encode_pct_decode(in, strlen(in), plus, out, &n), 0);
	assert_int_equal(n, wantlen);
	assert_memory_equal(out, want, wantlen);
	assert_int_equal(out[n], '\0');
}

static void
decode_fails(const char *in, size_t len)
{
	char	out[64];
	size_t	n = 99;

	assert_int_equal(encode_pct_decode(in, len, 1, out, &n), -1);
	assert_int_equal(n, 99);
}

static void
test_pct_decode(void **state)
{
	(void)state;
	decode_is("", 1, "", 0);
	decode_is("a%20b+c", 1, "a b c", 5);
	decode_is("a%20b+c", 0, "a b+c", 5);
	decode_is("%2B%2b", 1, "++", 2);
	decode_is("caf%C3%A9", 0, "caf\xc3\xa9", 5);
	decode_is("%00x", 0, "\0x", 2);
	decode_is("%25%32%46", 0, "%2F", 3);		/* decoded once only */
	decode_fails("%", 1);
	decode_fails("a%2", 3);
	decode_fails("%2g", 3);
	decode_fails("%%41", 4);
	decode_fails("ok%zz", 5);
	decode_fails("%41", 2);				/* <len> cuts the escape */
}

static void
test_pct_round_trip(void **state)
{
	char	in[256], enc[3 * 255 + 1], dec[256];
	size_t	i, n;

	(void)state;
	for (i = 0; i < 255; i++)
		in[i] = (char)(i + 1);
	in[255] = '\0';
	/* 66 unreserved bytes as they are, the other 189 escaped. */
	assert_int_equal(encode_pct(in, "", enc, sizeof(enc)), 66 + 3 * 189);
	assert_int_equal(encode_pct(in, "", enc, 66 + 3 * 189), -1);
	assert_int_equal(encode_pct(in, "", enc, sizeof(enc)), 66 + 3 * 189);
	assert_int_equal(encode_pct_decode(enc, strlen(enc), 0, dec, &n), 0);
	assert_int_equal(n, 255);
	assert_memory_equal(dec, in, 255);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hex_round_trip),
		cmocka_unit_test(test_hexval),
		cmocka_unit_test(test_pct_encode),
		cmocka_unit_test(test_pct_encode_bounds),
		cmocka_unit_test(test_pct_byte),
		cmocka_unit_test(test_pct_decode),
		cmocka_unit_test(test_pct_round_trip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
