/*
 * log.c: JSON lines stay one valid object whatever the message holds.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "log.h"

static void
escape(const char *in, size_t len, const char *want)
{
	char	buf[256];
	size_t	off = 0;

	buf[0] = '\0';
	log_json_escape(buf, sizeof(buf), &off, in, len);
	assert_string_equal(buf, want);
	assert_int_equal(off, strlen(want));
}

static void
test_escape_plain(void **state)
{
	(void)state;
	escape("hello", 5, "hello");
	escape("caf\xc3\xa9", 5, "caf\xc3\xa9");
}

static void
test_escape_injection(void **state)
{
	(void)state;
	escape("a\"}\n{\"level\":\"error", 19,
	    "a\\\"}\\n{\\\"level\\\":\\\"error");
	escape("back\\slash\r\t", 12, "back\\\\slash\\r\\t");
	escape("nul\0x", 5, "nul\\u0000x");
	escape("\x1b[31m", 5, "\\u001b[31m");
}

static void
test_escape_bad_utf8(void **state)
{
	(void)state;
	escape("\xff\xfe", 2, "\\u00ff\\u00fe");
	escape("\xc3", 1, "\\u00c3");			/* truncated */
	escape("\xed\xa0\x80", 3, "\\u00ed\\u00a0\\u0080");	/* surrogate */
	escape("\xc0\xaf", 2, "\\u00c0\\u00af");		/* overlong / */
}

static void
test_escape_truncates(void **state)
{
	char	buf[8];
	size_t	off = 0;

	(void)state;
	log_json_escape(buf, sizeof(buf), &off, "\"\"\"\"\"\"", 6);
	assert_true(off < sizeof(buf));
	assert_int_equal(buf[off], '\0');
	assert_string_equal(buf, "\\\"\\\"\\\"");
}

static void
test_level_parse(void **state)
{
	(void)state;
	assert_int_equal(log_level_parse("debug"), LOG_LEVEL_DEBUG);
	assert_int_equal(log_level_parse("error"), LOG_LEVEL_ERROR);
	assert_int_equal(log_level_parse("verbose"), -1);
	assert_string_equal(log_level_name(LOG_LEVEL_WARN), "warn");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escape_plain),
		cmocka_unit_test(test_escape_injection),
		cmocka_unit_test(test_escape_bad_utf8),
		cmocka_unit_test(test_escape_truncates),
		cmocka_unit_test(test_level_parse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
