/*
 * plain.c: what a cleartext request may reach, the X-Forwarded-Proto
 * check, and the https Location, named only for a configured host.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "config.h"
#include "plain.h"
#include "request.h"

static char	*hosts[] = { "app.example.com", "*.tenant.example.com",
    "127.0.0.1" };
static struct config_app app = { .name = "app", .hosts = hosts,
    .nhosts = 3 };
static struct config cfg = { .apps = &app, .napps = 1 };

/* The Location for Host <host> (as request.c keeps it), or NULL. */
static const char *
location(const char *host, const char *query, uint16_t port)
{
	static char	 out[512];
	struct request	 req = { .host = (char *)(uintptr_t)host,
	    .path = "/a/b", .query = (char *)(uintptr_t)query };

	return plain_location(&cfg, &req, port, out, sizeof(out)) == 0 ?
	    out : NULL;
}

static void
test_location_configured_hosts(void **state)
{
	(void)state;
	assert_string_equal(location("app.example.com", NULL, 443),
	    "https://app.example.com/a/b");
	assert_string_equal(location("app.example.com.", "x=1", 8443),
	    "https://app.example.com:8443/a/b?x=1");
	assert_string_equal(location("APP.example.COM", NULL, 443),
	    "https://app.example.com/a/b");
	assert_string_equal(location("acme.tenant.example.com", NULL, 443),
	    "https://acme.tenant.example.com/a/b");
	assert_string_equal(location("127.0.0.1", NULL, 443),
	    "https://127.0.0.1/a/b");
}

static void
test_location_other_hosts_refused(void **state)
{
	(void)state;
	assert_null(location(NULL, NULL, 443));
	assert_null(location("", NULL, 443));
	assert_null(location(".", NULL, 443));
	assert_null(location("evil.test", NULL, 443));
	assert_null(location("app.example.com..", NULL, 443));
	assert_null(location(".app.example.com", NULL, 443));
	assert_null(location("app.example.com.evil.test", NULL, 443));
	assert_null(location("evil.test/app.example.com", NULL, 443));
	assert_null(location("evil.test@app.example.com", NULL, 443));
	assert_null(location("[::1]", NULL, 443));
	assert_null(location("tenant.example.com", NULL, 443));
	assert_null(location("a_b.tenant.example.com", NULL, 443));
	assert_null(location("a~b.tenant.example.com", NULL, 443));
	/* a query that is no header value */
	assert_null(location("app.example.com", "a\r\nSet-Cookie: x", 443));
	assert_null(location("app.example.com", "a b", 443));
	assert_null(location("app.example.com", "\xc3\xa9", 443));
}

static int
xfp(const char *v1, const char *v2)
{
	struct request_header h[3] = {
		{ "Accept", "*/*" },
		{ "X-Forwarded-Proto", (char *)(uintptr_t)v1 },
		{ "x-forwarded-proto", (char *)(uintptr_t)v2 },
	};
	struct request	req = { .headers = h,
	    .nheaders = v1 == NULL ? 1 : v2 == NULL ? 2 : 3 };

	return plain_forwarded_https(&req);
}

static void
test_forwarded_https(void **state)
{
	(void)state;
	assert_true(xfp("https", NULL));
	assert_true(xfp("HTTPS", NULL));
	assert_false(xfp(NULL, NULL));
	assert_false(xfp("http", NULL));
	assert_false(xfp("https, http", NULL));
	assert_false(xfp("httpsx", NULL));
	assert_false(xfp("", NULL));
	assert_false(xfp("https", "https"));	/* two: neither counts */
	assert_false(xfp("https", "http"));
	assert_false(xfp("http", "https"));
}

static void
test_path_kinds(void **state)
{
	(void)state;
	assert_int_equal(plain_path_kind("/.well-known/acme-challenge/t"),
	    PLAIN_PATH_ACME);
	assert_int_equal(plain_path_kind("/.well-known/acme-challenge"),
	    PLAIN_PATH_APP);
	assert_int_equal(plain_path_kind("/.postern/health"),
	    PLAIN_PATH_HEALTH);
	assert_int_equal(plain_path_kind("/.postern/ready"),
	    PLAIN_PATH_HEALTH);
	assert_int_equal(plain_path_kind("/.postern/healthz"),
	    PLAIN_PATH_GATEWAY);
	assert_int_equal(plain_path_kind("/.postern/login"),
	    PLAIN_PATH_GATEWAY);
	assert_int_equal(plain_path_kind("/.postern"), PLAIN_PATH_GATEWAY);
	assert_int_equal(plain_path_kind("/.posternx"), PLAIN_PATH_APP);
	assert_int_equal(plain_path_kind("/"), PLAIN_PATH_APP);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_location_configured_hosts),
		cmocka_unit_test(test_location_other_hosts_refused),
		cmocka_unit_test(test_forwarded_https),
		cmocka_unit_test(test_path_kinds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
