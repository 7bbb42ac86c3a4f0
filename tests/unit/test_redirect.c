/*
 * redirect.c: return-to URLs.  Each refused case is a published
 * open-redirect trick against some auth proxy.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "config.h"
#include "redirect.h"

static char	*hosts[] = { "app.example.com", "*.tenant.example.com" };
static char	*org_hosts[] = { "{org}.org.example.com", "org.example.com",
    "www.org.example.com" };
static struct config_app apps[] = {
	{ .name = "app", .hosts = hosts, .nhosts = 2 },
	{ .name = "orgs", .hosts = org_hosts, .nhosts = 3, .host_tenant = 1 },
};
static struct config cfg = { .apps = apps, .napps = 2 };

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
tenant(const char *rd, int want, const char *want_org)
{
	char	org[64] = "unset";

	if (redirect_tenant(&cfg, rd, org, sizeof(org)) != want)
		fail_msg("%s: wanted %d", rd, want);
	if (want)
		assert_string_equal(org, want_org);
}

/*
 * A host matched only through "{org}.x" names an org that must exist
 * before the gateway sends anyone there; exact and "*." hosts do not.
 */
static void
test_tenant(void **state)
{
	char	rd[160];

	(void)state;
	ok("https://acme.org.example.com/dash");
	ok("https://dangling.org.example.com/");
	tenant("https://acme.org.example.com/dash", 1, "acme");
	tenant("https://ACME.Org.Example.com:8443/x?y", 1, "acme");
	tenant("https://dangling.org.example.com", 1, "dangling");
	tenant("https://org.example.com/", 0, NULL);
	tenant("https://www.org.example.com/", 0, NULL);
	tenant("https://app.example.com/x", 0, NULL);
	tenant("https://x.tenant.example.com/", 0, NULL);
	tenant("/acme", 0, NULL);
	tenant("https://evil.example/", 0, NULL);
	tenant("https://a.b.org.example.com/", 0, NULL);	/* no app */
	(void)snprintf(rd, sizeof(rd), "https://%0100d.org.example.com/", 0);
	tenant(rd, 1, "");		/* longer than any slug */
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
		cmocka_unit_test(test_tenant),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
