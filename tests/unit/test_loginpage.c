/*
 * loginpage.c: every dynamic value is escaped, fields carry the right
 * autocomplete tokens and labels, the style carries the nonce.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <event2/buffer.h>

#include "loginpage.h"

static char *
render(const struct loginpage *p, int signed_in)
{
	struct evbuffer	*b = evbuffer_new();
	size_t		 n;
	char		*s;

	assert_int_equal(signed_in ? loginpage_signed_in(b, p) :
	    loginpage_login(b, p), 0);
	n = evbuffer_get_length(b);
	s = malloc(n + 1);
	evbuffer_remove(b, s, n);
	s[n] = '\0';
	evbuffer_free(b);
	return s;
}

static void
test_login_page(void **state)
{
	struct loginpage p = { .frame = { .product = "Acme <Portal>",
	    .color = "#123456", .nonce = "bm9uY2U=" }, .csrf = "tok", .rd = "/x?a=1&b=\"2\"",
	    .email = NULL, .error = NULL };
	char	*s;

	(void)state;
	s = render(&p, 0);
	assert_non_null(strstr(s, "<style nonce=\"bm9uY2U=\">"));
	assert_non_null(strstr(s, "Acme &lt;Portal&gt;"));
	assert_null(strstr(s, "<Portal>"));
	assert_non_null(strstr(s, "value=\"/x?a=1&amp;b=&quot;2&quot;\""));
	assert_non_null(strstr(s, "autocomplete=\"username\""));
	assert_non_null(strstr(s, "autocomplete=\"current-password\""));
	assert_non_null(strstr(s, "<label for=\"email\">"));
	assert_non_null(strstr(s, "<label for=\"password\">"));
	assert_non_null(strstr(s, "--brand:#123456"));
	assert_non_null(strstr(s, "name=\"csrf\" value=\"tok\""));
	assert_null(strstr(s, "<script"));
	assert_null(strstr(s, "aria-invalid"));
	assert_null(strstr(s, "{{"));
	free(s);
}

static void
test_error_is_escaped_and_described(void **state)
{
	struct loginpage p = { .frame = { .product = "P", .color = "#000000",
	    .nonce = "n" }, .csrf = "t", .rd = "/",
	    .email = "\"><script>alert(1)</script>",
	    .error = "<b>wrong</b>" };
	char	*s;

	(void)state;
	s = render(&p, 0);
	assert_null(strstr(s, "<script>"));
	assert_non_null(strstr(s, "&quot;&gt;&lt;script&gt;"));
	assert_non_null(strstr(s, "&lt;b&gt;wrong&lt;/b&gt;"));
	assert_non_null(strstr(s, "role=\"alert\""));
	assert_non_null(strstr(s, "aria-describedby=\"error\""));
	/* the password field gets the focus when the email is kept */
	assert_non_null(strstr(s, "maxlength=\"1024\" aria-describedby="
	    "\"error\" aria-invalid=\"true\" autofocus>"));
	free(s);
}

static void
test_signed_in_page(void **state)
{
	struct loginpage p = { .frame = { .product = "P", .color = "#000000",
	    .nonce = "n", .logo_url = "https://cdn.example/logo.png?a=1&b=2" },
	    .csrf = "t&", .email = "a@b.example" };
	char	*s;

	(void)state;
	s = render(&p, 1);
	assert_non_null(strstr(s, "action=\"/.postern/logout\""));
	assert_non_null(strstr(s, "method=\"post\""));
	assert_non_null(strstr(s, "value=\"t&amp;\""));
	assert_non_null(strstr(s, "src=\"https://cdn.example/logo.png?a=1&amp;b=2\""));
	free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_login_page),
		cmocka_unit_test(test_error_is_escaped_and_described),
		cmocka_unit_test(test_signed_in_page),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
