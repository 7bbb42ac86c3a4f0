/*
 * redirect.c: return-to URLs.  Each refused case is a published
 * open-redirect trick against some auth proxy.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "config.h"
#include "redirect.h"

static char	*hosts[] = { "app.example.com", "*.tenant.example.com" };
static struct config_app app = { .name = "app", .hosts = hosts,
    .nhosts = 2 };
static struct config cfg = { .apps = &app, .napps = 1 };

static void
ok(const char *rd)
{
	char	out[REDIRECT_MAX + 1];

	assert_int_equal(redirect_check(&cfg, rd, out, sizeof(out)), 0);
	assert_string_equal(out, rd);
}

static void
refused(const char *rd)
{
	char	out[REDIRECT_MAX + 1];

	assert_int_equal(redirect_check(&cfg, rd, out, sizeof(out)), -1);
	assert_string_equal(out, "/");
}

static void
test_accepted(void **state)
{
	(void)state;
	ok("/");
	ok("/app/page?x=1&y=%2F%2Fevil#frag");
	ok("/a/b/");
	ok("https://app.example.com");
	ok("https://app.example.com/");
	ok("https://app.example.com:8443/x?y=1");
	ok("https://acme.tenant.example.com/dash");
}

static void
test_open_redirects_refused(void **state)
{
	(void)state;
	refused(NULL);
	refused("");
	refused("//evil.example");
	refused("///evil.example");
	refused("/\\evil.example");
	refused("\\\\evil.example");
	refused("/\t/evil.example");		/* browsers strip tab */
	refused("/\n/evil.example");
	refused(" /evil");
	refused("https:evil.example");
	refused("https:/evil.example");
	refused("http://app.example.com/");	/* downgrade */
	refused("HTTPS://evil.example/");
	refused("javascript:alert(1)");
	refused("JaVaScRiPt:alert(1)");
	refused("data:text/html,x");
	refused("evil.example");
	refused("https://evil.example/");
	refused("https://app.example.com.evil.example/");
	refused("https://app.example.com@evil.example/");
	refused("https://evil.example@app.example.com/");
	refused("https://evil.example\\@app.example.com/");
	refused("https://evil.example%2fapp.example.com/");
	refused("https://app.example.com./");
	refused("https://app.example.com:/");
	refused("https://app.example.com:99999999/");
	refused("https://app.example.com?x=//evil");
	refused("https://app.example.com//evil.example");
	refused("https://a.b.tenant.example.com/");	/* one label only */
	refused("https://tenant.example.com/");
	refused("https://[::1]/");
	refused("/caf\xc3\xa9");			/* raw UTF-8 */
	refused("/.postern/login?rd=/x");		/* no loop */
	refused("https://app.example.com/.postern/login");
}

static void
test_length_bound(void **state)
{
	char	rd[REDIRECT_MAX + 2], out[REDIRECT_MAX + 1];

	(void)state;
	memset(rd, 'a', sizeof(rd) - 1);
	rd[0] = '/';
	rd[REDIRECT_MAX + 1] = '\0';
	assert_int_equal(redirect_check(&cfg, rd, out, sizeof(out)), -1);
	rd[REDIRECT_MAX] = '\0';
	assert_int_equal(redirect_check(&cfg, rd, out, sizeof(out)), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accepted),
		cmocka_unit_test(test_open_redirects_refused),
		cmocka_unit_test(test_length_bound),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
