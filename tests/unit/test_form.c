/*
 * form.c: strict urlencoded parsing of the gateway's own forms.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "form.h"

static void
test_basic(void **state)
{
	struct form	 f;
	const char	*reason = NULL;
	const char	*body = "email=a%40b.example&password=p+w%21%C3%A9&x=";

	(void)state;
	assert_int_equal(form_parse(body, strlen(body), &f, &reason), 0);
	assert_int_equal(f.nfields, 3);
	assert_string_equal(form_get(&f, "email"), "a@b.example");
	assert_string_equal(form_get(&f, "password"), "p w!\xc3\xa9");
	assert_string_equal(form_get(&f, "x"), "");
	assert_null(form_get(&f, "missing"));
	form_free(&f);
}

static void
test_empty_pairs_and_no_value(void **state)
{
	struct form	 f;
	const char	*reason = NULL;

	(void)state;
	assert_int_equal(form_parse("&&a=1&&b&", 9, &f, &reason), 0);
	assert_int_equal(f.nfields, 2);
	assert_string_equal(form_get(&f, "b"), "");
	form_free(&f);
	assert_int_equal(form_parse("", 0, &f, &reason), 0);
	assert_int_equal(f.nfields, 0);
}

static void
bad(const char *body, size_t len, const char *want)
{
	struct form	 f;
	const char	*reason = NULL;

	assert_int_equal(form_parse(body, len, &f, &reason), -1);
	assert_non_null(reason);
	assert_string_equal(reason, want);
	assert_int_equal(f.nfields, 0);
}

static void
test_rejects(void **state)
{
	char	big[FORM_MAX_BODY + 2];
	char	many[FORM_MAX_FIELDS * 8 + 16];
	size_t	i, off = 0;

	(void)state;
	bad("a=%zz", 5, "form_bad_escape");
	bad("a=%4", 4, "form_bad_escape");
	bad("a=%", 3, "form_bad_escape");
	bad("a=%00", 5, "form_control_char");
	bad("a=x\0y", 5, "form_control_char");
	bad("a=%0d%0a", 8, "form_control_char");
	bad("a=%C2%85", 8, "form_control_char");	/* NEL */
	bad("a=%ff", 5, "form_bad_utf8");
	bad("a=%C3", 5, "form_bad_utf8");
	bad("a=%ED%A0%80", 11, "form_bad_utf8");	/* surrogate */
	bad("a=%C0%AF", 8, "form_bad_utf8");		/* overlong */
	bad("a=1&a=2", 7, "form_duplicate_field");
	bad("a=1&%61=2", 9, "form_duplicate_field");	/* decoded names */
	bad("=1", 2, "form_empty_name");
	memset(big, 'a', sizeof(big));
	bad(big, sizeof(big) - 1, "form_too_large");
	for (i = 0; i <= FORM_MAX_FIELDS; i++)
		off += (size_t)snprintf(many + off, sizeof(many) - off,
		    "f%zu=1&", i);
	bad(many, off, "form_too_many_fields");
}

static void
test_content_type(void **state)
{
	static const char *const good[] = {
	    "application/x-www-form-urlencoded",
	    "Application/X-WWW-Form-URLEncoded",
	    " application/x-www-form-urlencoded ",
	    "application/x-www-form-urlencoded;charset=utf-8",
	    "application/x-www-form-urlencoded; charset=UTF-8",
	    "application/x-www-form-urlencoded ; Charset=\"utf-8\"", NULL };
	static const char *const bad[] = { "", "text/plain",
	    "application/json", "multipart/form-data; boundary=x",
	    "application/x-www-form-urlencodedx",
	    "application/x-www-form-urlencoded-x",
	    "application/x-www-form-urlencoded; charset=iso-8859-1",
	    "application/x-www-form-urlencoded; charset=utf-8x",
	    "application/x-www-form-urlencoded; charset=utf-8; a=b",
	    "application/x-www-form-urlencoded; boundary=x",
	    "application/x-www-form-urlencoded;",
	    "application/x-www-form-urlencoded, text/plain",
	    "application/x-www-form-urlencoded; charset=\"utf-8",
	    "x application/x-www-form-urlencoded", NULL };
	const char *const *c;

	(void)state;
	assert_false(form_content_type_ok(NULL));
	for (c = good; *c != NULL; c++)
		assert_true(form_content_type_ok(*c));
	for (c = bad; *c != NULL; c++)
		assert_false(form_content_type_ok(*c));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_basic),
		cmocka_unit_test(test_empty_pairs_and_no_value),
		cmocka_unit_test(test_rejects),
		cmocka_unit_test(test_content_type),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
