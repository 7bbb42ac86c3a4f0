/*
 * httpc.c: the cache headers of an answer (Cache-Control max-age, no-store,
 * no-cache, private, malformed values, several headers, Expires against
 * Date or the clock, an invalid Expires, a 1xx answer's headers
 * forgotten) and which URLs are accepted (https; http only to a loopback
 * host; no user information, no other scheme).  No connection is made:
 * test_oidcnet.py drives real exchanges.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "../../gateway/outbound/httpc.c"

#define NOW	INT64_C(1700000000)

/* max_age of an answer whose header lines are <lines> (NULL-ended). */
static int64_t
age(const char *const *lines)
{
	struct httpc_cache	c;
	size_t			i;

	httpc_cache_init(&c);
	for (i = 0; lines[i] != NULL; i++)
		httpc_cache_header(&c, lines[i], strlen(lines[i]));
	return httpc_cache_max_age(&c, NOW);
}

#define AGE(...)	age((const char *const []){ __VA_ARGS__, NULL })

static void
test_max_age(void **state)
{
	(void)state;
	assert_int_equal(AGE("HTTP/1.1 200 OK\r\n"), -1);
	assert_int_equal(AGE("Cache-Control: max-age=300\r\n"), 300);
	assert_int_equal(AGE("cache-control:MAX-AGE=300"), 300);
	assert_int_equal(AGE("Cache-Control: public, max-age=7200\r\n"), 7200);
	assert_int_equal(AGE("Cache-Control: private, max-age=60\r\n"), 60);
	assert_int_equal(AGE("Cache-Control: private\r\n"), -1);
	assert_int_equal(AGE("Cache-Control: max-age=\"120\"\r\n"), 120);
	assert_int_equal(AGE("Cache-Control: max-age=0\r\n"), 0);
	assert_int_equal(AGE("Cache-Control:  max-age=5 , must-revalidate\r\n"),
	    5);
	/* the smaller of two, also across header lines */
	assert_int_equal(AGE("Cache-Control: max-age=500, max-age=50"), 50);
	assert_int_equal(AGE("Cache-Control: max-age=50",
	    "Cache-Control: max-age=500"), 50);
	/* huge values are bounded, not wrapped */
	assert_true(AGE("Cache-Control: max-age=99999999999999999999999999")
	    > 0);
	/* s-maxage is for shared caches; a prefix is not the directive */
	assert_int_equal(AGE("Cache-Control: s-maxage=30"), -1);
	assert_int_equal(AGE("Cache-Control: max-ages=30"), -1);
}

static void
test_no_store(void **state)
{
	(void)state;
	assert_int_equal(AGE("Cache-Control: no-store"), 0);
	assert_int_equal(AGE("Cache-Control: no-cache"), 0);
	assert_int_equal(AGE("Cache-Control: NO-STORE, max-age=600"), 0);
	assert_int_equal(AGE("Cache-Control: max-age=600",
	    "Cache-Control: no-cache"), 0);
	assert_int_equal(AGE("Cache-Control: no-store",
	    "Expires: Thu, 01 Dec 2033 16:00:00 GMT"), 0);
	/* a malformed max-age is not trusted */
	assert_int_equal(AGE("Cache-Control: max-age=abc"), 0);
	assert_int_equal(AGE("Cache-Control: max-age=-5"), 0);
	assert_int_equal(AGE("Cache-Control: max-age="), 0);
	assert_int_equal(AGE("Cache-Control: max-age=1e3"), 0);
}

static void
test_expires(void **state)
{
	(void)state;
	/* against Date */
	assert_int_equal(AGE("Date: Tue, 14 Nov 2023 22:13:20 GMT",
	    "Expires: Tue, 14 Nov 2023 23:13:20 GMT"), 3600);
	/* Date after the line, too */
	assert_int_equal(AGE("Expires: Tue, 14 Nov 2023 22:15:00 GMT",
	    "Date: Tue, 14 Nov 2023 22:13:20 GMT"), 100);
	/* against the clock (NOW is 2023-11-14 22:13:20) without Date */
	assert_int_equal(AGE("Expires: Tue, 14 Nov 2023 22:23:20 GMT"), 600);
	assert_int_equal(AGE("Date: garbage",
	    "Expires: Tue, 14 Nov 2023 22:23:20 GMT"), 600);
	/* in the past, or invalid ("0"): expired */
	assert_int_equal(AGE("Expires: Mon, 13 Nov 2023 22:13:20 GMT"), 0);
	assert_int_equal(AGE("Expires: 0"), 0);
	assert_int_equal(AGE("Expires: -1"), 0);
	assert_int_equal(AGE("Expires:"), 0);
	/* max-age wins over Expires (RFC 9111 5.3) */
	assert_int_equal(AGE("Expires: Tue, 14 Nov 2023 23:13:20 GMT",
	    "Cache-Control: max-age=90"), 90);
	assert_int_equal(AGE("Expires: 0", "Cache-Control: max-age=90"), 90);
}

static void
test_interim(void **state)
{
	(void)state;
	/* a 100 Continue's headers are not the answer's */
	assert_int_equal(AGE("HTTP/1.1 100 Continue\r\n",
	    "Cache-Control: max-age=999\r\n", "\r\n",
	    "HTTP/1.1 200 OK\r\n", "Content-Type: application/json\r\n"), -1);
	assert_int_equal(AGE("HTTP/1.1 100 Continue\r\n", "Expires: 0\r\n",
	    "HTTP/1.1 200 OK\r\n", "Cache-Control: max-age=30\r\n"), 30);
	/* lines without a colon, or names that only start alike */
	assert_int_equal(AGE("Cache-Control max-age=30",
	    "Cache-Controls: max-age=30", "X-Expires: 0"), -1);
}

static void
test_url(void **state)
{
	(void)state;
	assert_true(httpc_url_allowed("https://idp.example.com/.well-known/x"));
	assert_true(httpc_url_allowed("https://idp.example.com:8443/a?b=c"));
	assert_true(httpc_url_allowed("HTTPS://idp.example.com/"));
	assert_true(httpc_url_allowed("http://127.0.0.1:8080/x"));
	assert_true(httpc_url_allowed("http://127.5.6.7/x"));
	assert_true(httpc_url_allowed("http://localhost:9/x"));
	assert_true(httpc_url_allowed("http://LocalHost/x"));
	assert_true(httpc_url_allowed("http://[::1]:8080/x"));
	/* plain http to anything else */
	assert_false(httpc_url_allowed("http://idp.example.com/x"));
	assert_false(httpc_url_allowed("http://10.0.0.1/x"));
	assert_false(httpc_url_allowed("http://128.0.0.1/x"));
	assert_false(httpc_url_allowed("http://[::2]/x"));
	assert_false(httpc_url_allowed("http://[::ffff:127.0.0.1]/x"));
	assert_false(httpc_url_allowed("http://localhost.example.com/x"));
	assert_false(httpc_url_allowed("http://127.0.0.1.nip.io/x"));
	assert_false(httpc_url_allowed("http://0.0.0.0/x"));
	/* user information, other schemes, not absolute */
	assert_false(httpc_url_allowed("https://user:pw@idp.example.com/"));
	assert_false(httpc_url_allowed("http://127.0.0.1@evil.example/"));
	assert_false(httpc_url_allowed("ftp://idp.example.com/"));
	assert_false(httpc_url_allowed("file:///etc/passwd"));
	assert_false(httpc_url_allowed("gopher://127.0.0.1/"));
	assert_false(httpc_url_allowed("//idp.example.com/x"));
	assert_false(httpc_url_allowed("/x"));
	assert_false(httpc_url_allowed(""));
	assert_false(httpc_url_allowed(NULL));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_max_age),
		cmocka_unit_test(test_no_store),
		cmocka_unit_test(test_expires),
		cmocka_unit_test(test_interim),
		cmocka_unit_test(test_url),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
