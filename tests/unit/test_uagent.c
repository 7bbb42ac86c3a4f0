/*
 * uagent.c: labels of real browsers' User-Agent headers (each browser
 * carries the others' tokens), headers that name nothing known, and the
 * bounds and cleaning of what a session keeps.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "uagent.h"

static void
label(const char *ua, const char *want)
{
	char	out[UAGENT_LABEL_MAX];

	uagent_label(ua, out, sizeof(out));
	assert_string_equal(out, want);
}

static void
test_browsers(void **state)
{
	(void)state;
	label("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
	    "(KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
	    "Chrome on Windows");
	label("Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 "
	    "Firefox/121.0", "Firefox on Linux");
	label("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/"
	    "605.1.15 (KHTML, like Gecko) Version/17.1 Safari/605.1.15",
	    "Safari on macOS");
	label("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
	    "(KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 "
	    "Edg/120.0.2210.91", "Edge on Windows");
	label("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
	    "(KHTML, like Gecko) Chrome/119.0.0.0 Safari/537.36 "
	    "OPR/105.0.0.0", "Opera on Windows");
	label("curl/8.5.0", "curl");
}

static void
test_mobile(void **state)
{
	(void)state;
	/* iOS says "like Mac OS X": still iOS */
	label("Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) "
	    "AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148"
	    " Safari/604.1", "Safari on iOS");
	label("Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) "
	    "AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/120.0.6099.119 "
	    "Mobile/15E148 Safari/604.1", "Chrome on iOS");
	label("Mozilla/5.0 (iPad; CPU OS 17_1 like Mac OS X) AppleWebKit/605.1"
	    ".15 (KHTML, like Gecko) FxiOS/121.0 Mobile/15E148 Safari/605.1.15",
	    "Firefox on iOS");
	/* Android says "Linux": still Android */
	label("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 "
	    "(KHTML, like Gecko) Chrome/120.0.6099.144 Mobile Safari/537.36",
	    "Chrome on Android");
	label("Mozilla/5.0 (Android 14; Mobile; rv:121.0) Gecko/121.0 "
	    "Firefox/121.0", "Firefox on Android");
	label("Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 "
	    "(KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
	    "Chrome on ChromeOS");
}

static void
test_unknown(void **state)
{
	(void)state;
	label(NULL, "Unknown device");
	label("", "Unknown device");
	label("python-requests/2.31.0", "Unknown device");
	label("<script>alert(1)</script>", "Unknown device");
	label("SomeBot/1.0 (Windows NT 10.0)", "Unknown browser on Windows");
	/* curl only at the start: a token inside another header is not it */
	label("Mozilla/5.0 (X11; Linux) notcurl/1.0", "Unknown browser on "
	    "Linux");
	assert_null(uagent_browser("Wget/1.21"));
	assert_null(uagent_os("curl/8.5.0 (Linux)"));
}

static void
test_label_bounds(void **state)
{
	char	out[8];

	(void)state;
	memset(out, 'x', sizeof(out));
	uagent_label("Mozilla/5.0 (X11; CrOS x86_64) Firefox/1", out,
	    sizeof(out));
	assert_string_equal(out, "Firefox");	/* truncated, terminated */
	uagent_label("curl/1", out, 0);		/* writes nothing */
}

static void
test_clean(void **state)
{
	char	out[UAGENT_STORE_MAX], big[1000], small[6];

	(void)state;
	uagent_clean("a\r\nb\tc\x7f\xc3\xa9", out, sizeof(out));
	assert_string_equal(out, "a??b?c???");
	uagent_clean(NULL, out, sizeof(out));
	assert_string_equal(out, "");
	memset(big, 'A', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	uagent_clean(big, out, sizeof(out));
	assert_int_equal(strlen(out), UAGENT_STORE_MAX - 1);
	uagent_clean("Mozilla", small, sizeof(small));
	assert_string_equal(small, "Mozil");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_browsers),
		cmocka_unit_test(test_mobile),
		cmocka_unit_test(test_unknown),
		cmocka_unit_test(test_label_bounds),
		cmocka_unit_test(test_clean),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
