/*
 * headers.c: value checks, fill and override filtering, the lines added;
 * metrics.c: histogram and kinds; connlimit.c: counting per address.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <cmocka.h>

#include <event2/buffer.h>

#include "confapp.h"
#include "connlimit.h"
#include "headers.h"
#include "metrics.h"

static void
check_ok(enum headers_id id, const char *v)
{
	char	err[160] = "";

	if (headers_check(id, v, err, sizeof(err)) != 0)
		fail_msg("%s: %s", v, err);
}

static void
check_bad(enum headers_id id, const char *v, const char *want)
{
	char	err[160] = "";

	assert_int_equal(headers_check(id, v, err, sizeof(err)), -1);
	assert_string_equal(err, want);
}

static void
test_check(void **state)
{
	(void)state;
	check_ok(HEADERS_CSP, "default-src 'self'; img-src data: https:;");
	check_ok(HEADERS_CSP, HEADERS_APP_CSP);
	check_bad(HEADERS_CSP, "default-src 'self', img-src *", "',' is not "
	    "allowed (it would start a second policy)");
	check_bad(HEADERS_CSP, "default-src 'self'; 'none'", "invalid "
	    "directive ''none'' (expected a name such as default-src, then "
	    "its sources)");
	check_bad(HEADERS_CSP, "a\r\nSet-Cookie: x", "character 2 is not "
	    "printable ASCII");
	check_bad(HEADERS_CSP, "", "expected 1 to 4096 characters");
	check_ok(HEADERS_FRAME, "deny");
	check_bad(HEADERS_FRAME, "ALLOW-FROM https://x", "expected DENY, "
	    "SAMEORIGIN or none, got 'ALLOW-FROM https://x'");
	check_ok(HEADERS_REFERRER, "no-referrer, strict-origin");
	check_bad(HEADERS_REFERRER, "origin,,same-origin", "invalid policy '' (expected "
	    "e.g. no-referrer, same-origin, strict-origin-when-cross-origin)");
	check_ok(HEADERS_PERMISSIONS, "camera=(), geolocation=(self "
	    "\"https://a.example\"), fullscreen=*");
	check_bad(HEADERS_PERMISSIONS, "camera=((x))", "invalid item "
	    "'camera=((x))' (expected e.g. camera=(), geolocation=(self))");
	check_bad(HEADERS_NOSNIFF, "x", "not configurable");
}

/* The sets of one app whose security_headers are <h>, and of the pages. */
struct built {
	struct headers_set	*app;
	struct headers_set	*page;
};

static const struct headers_hsts hsts60 = { .max_age = 60 };

static struct built *
config_with(const struct config_headers *h, int hide)
{
	struct built	*b = calloc(1, sizeof(*b));

	assert_non_null(b);
	assert_non_null(b->app = headers_app(h, &hsts60, hide));
	assert_non_null(b->page = headers_page(&hsts60, NULL));
	return b;
}

static void
config_drop(struct built *b)
{
	headers_set_free(b->app);
	headers_set_free(b->page);
	free(b);
}

static char *
added(const struct headers_set *hs, int tls, unsigned int seen,
    const char *nonce)
{
	struct evbuffer	*b = evbuffer_new();
	size_t		 len;
	char		*s;

	assert_int_equal(headers_add(b, hs, tls, seen, nonce), 0);
	len = evbuffer_get_length(b);
	s = calloc(1, len + 1);
	evbuffer_remove(b, s, len);
	evbuffer_free(b);
	return s;
}

static void
test_fill(void **state)
{
	struct config_headers	 h = { 0, "default-src 'self'", "DENY",
	    "no-referrer", NULL };
	struct built		*cfg = config_with(&h, 1);
	const struct headers_set *hs = cfg->app;
	unsigned int		 seen = 0;
	char			*s;

	(void)state;
	assert_int_equal(headers_filter(hs, 1, "server", "x", &seen), 1);
	assert_int_equal(headers_filter(hs, 1, "X-Powered-By", "x", &seen), 1);
	assert_int_equal(headers_filter(hs, 1, "Content-Type", "x", &seen), 0);
	assert_int_equal(seen, 0);
	s = added(hs, 1, 0, NULL);
	assert_string_equal(s, "Strict-Transport-Security: max-age=60\r\n"
	    "Content-Security-Policy: default-src 'self'\r\n"
	    "X-Frame-Options: DENY\r\nReferrer-Policy: no-referrer\r\n"
	    "X-Content-Type-Options: nosniff\r\n");
	free(s);
	s = added(hs, 0, 0, NULL);	/* plain HTTP: never HSTS */
	assert_null(strstr(s, "Strict-Transport"));
	free(s);
	/* the upstream's CSP with frame-ancestors stands for both */
	assert_int_equal(headers_filter(hs, 1, "content-security-policy",
	    "frame-ancestors 'none'", &seen), 0);
	s = added(hs, 1, seen, NULL);
	assert_string_equal(s, "Strict-Transport-Security: max-age=60\r\n"
	    "Referrer-Policy: no-referrer\r\n"
	    "X-Content-Type-Options: nosniff\r\n");
	free(s);
	config_drop(cfg);
}

static void
test_override_and_pages(void **state)
{
	struct config_headers	 h = { 1, "default-src 'self'", NULL,
	    "same-origin", NULL };
	struct built		*cfg = config_with(&h, 0);
	const struct headers_set *hs = cfg->app;
	unsigned int		 seen = 0;
	char			*s;

	(void)state;
	assert_int_equal(headers_filter(hs, 1, "Content-Security-Policy",
	    "x", &seen), 1);
	assert_int_equal(headers_filter(hs, 1, "referrer-policy", "x",
	    &seen), 1);
	/* not configured (null): the upstream's passes */
	assert_int_equal(headers_filter(hs, 1, "X-Frame-Options", "x",
	    &seen), 0);
	assert_int_equal(headers_filter(hs, 0, "Strict-Transport-Security",
	    "x", &seen), 0);
	assert_int_equal(headers_filter(hs, 1, "Server", "x", &seen), 0);
	s = added(cfg->page, 0, 0, "bm9uY2U=");
	assert_non_null(strstr(s, "Content-Security-Policy: default-src "
	    "'none'; frame-ancestors 'none'; base-uri 'none'; form-action "
	    "'self'; script-src 'nonce-bm9uY2U='; style-src "
	    "'nonce-bm9uY2U='\r\n"));
	assert_non_null(strstr(s, "X-Frame-Options: DENY\r\n"));
	assert_non_null(strstr(s, "Cross-Origin-Opener-Policy: same-origin"
	    "\r\nCross-Origin-Resource-Policy: same-origin\r\n"));
	free(s);
	/* ...which an app's responses do not get (popups, embedding are
	 * the app's business), nor lose if the upstream sent them */
	s = added(hs, 1, 0, NULL);
	assert_null(strstr(s, "Cross-Origin"));
	free(s);
	seen = 0;
	assert_int_equal(headers_filter(hs, 1, "cross-origin-opener-policy",
	    "unsafe-none", &seen), 0);
	assert_int_equal(seen, 1u << HEADERS_COOP);
	seen = 0;
	assert_int_equal(headers_filter(cfg->page, 1,
	    "Cross-Origin-Resource-Policy", "cross-origin", &seen), 1);
	assert_int_equal(headers_add(NULL, NULL, 1, 0, NULL), 0);
	config_drop(cfg);
}

/* HSTS as configured, on app and page sets alike; none with max_age 0. */
static void
test_hsts(void **state)
{
	static const struct {
		struct headers_hsts	 h;
		const char		*want;	/* NULL: no line */
	} v[] = {
		{ { 31536000, 1, 0 }, "Strict-Transport-Security: "
		    "max-age=31536000; includeSubDomains\r\n" },
		{ { 63072000, 1, 1 }, "Strict-Transport-Security: "
		    "max-age=63072000; includeSubDomains; preload\r\n" },
		{ { 1, 0, 1 }, "Strict-Transport-Security: max-age=1; "
		    "preload\r\n" },
		{ { 0, 1, 1 }, NULL },
	};
	struct config_headers	 h = { 0 };
	struct headers_set	*set[2];
	size_t			 i, k;
	char			*s;

	(void)state;
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		assert_non_null(set[0] = headers_app(&h, &v[i].h, 1));
		assert_non_null(set[1] = headers_page(&v[i].h, NULL));
		for (k = 0; k < 2; k++) {
			s = added(set[k], 1, 0, NULL);
			if (v[i].want != NULL)
				assert_non_null(strstr(s, v[i].want));
			else
				assert_null(strstr(s, "Strict-Transport"));
			free(s);
			s = added(set[k], 0, 0, NULL);
			assert_null(strstr(s, "Strict-Transport"));
			free(s);
			headers_set_free(set[k]);
		}
	}
}

static void
test_metrics(void **state)
{
	struct metrics		 m;
	struct metrics_snap	 snap;

	(void)state;
	memset(&m, 0, sizeof(m));
	metrics_request(&m, 200, METRICS_ALLOW, 4000);		/* 0.005 */
	metrics_request(&m, 502, METRICS_ERROR, 99000000);	/* +Inf */
	metrics_request(&m, 99, METRICS_ALLOW, 10);		/* no class */
	metrics_upstream_error(&m, "upstream_connect_timeout");
	metrics_upstream_error(&m, "upstream_head_too_large");
	metrics_upstream_error(&m, NULL);
	memset(&snap, 0, sizeof(snap));
	metrics_add(&snap, &m);
	metrics_add(&snap, &m);
	assert_int_equal(snap.requests[1][METRICS_ALLOW], 2);
	assert_int_equal(snap.requests[4][METRICS_ERROR], 2);
	assert_int_equal(snap.duration.b[0], 4);
	assert_int_equal(snap.duration.b[METRICS_NBUCKETS], 2);
	assert_int_equal(snap.upstream_errors[METRICS_UP_CONNECT], 2);
	assert_int_equal(snap.upstream_errors[METRICS_UP_PROTOCOL], 2);
	assert_int_equal(snap.upstream_errors[METRICS_UP_OTHER], 2);
	assert_string_equal(metrics_decision_name(METRICS_DENY), "deny");
}

static void
test_connlimit(void **state)
{
	struct connlimit	*cl = connlimit_new();
	struct sockaddr_in	 a = { .sin_family = AF_INET };
	struct sockaddr_in6	 b = { .sin6_family = AF_INET6 };
	struct sockaddr		 u = { .sa_family = AF_UNIX };
	struct connlimit_key	 k[4], kb, ku;

	(void)state;
	assert_non_null(cl);
	inet_pton(AF_INET, "192.0.2.1", &a.sin_addr);
	inet_pton(AF_INET6, "2001:db8::1", &b.sin6_addr);
	assert_int_equal(connlimit_acquire(cl, (struct sockaddr *)&a, 2,
	    &k[0]), 0);
	assert_int_equal(connlimit_acquire(cl, (struct sockaddr *)&a, 2,
	    &k[1]), 0);
	assert_int_equal(connlimit_acquire(cl, (struct sockaddr *)&a, 2,
	    &k[2]), -1);
	assert_int_equal(k[2].family, 0);
	connlimit_release(cl, &k[2]);		/* not counted: no-op */
	assert_int_equal(connlimit_acquire(cl, (struct sockaddr *)&b, 1,
	    &kb), 0);				/* another address */
	assert_int_equal(connlimit_acquire(cl, &u, 1, &ku), 0);
	assert_int_equal(connlimit_acquire(cl, &u, 1, &ku), 0);
	connlimit_release(cl, &k[0]);
	connlimit_release(cl, &k[0]);		/* idempotent */
	assert_int_equal(connlimit_acquire(cl, (struct sockaddr *)&a, 2,
	    &k[3]), 0);
	assert_int_equal(connlimit_acquire(cl, (struct sockaddr *)&a, 0,
	    &k[2]), 0);				/* 0: counted, unlimited */
	connlimit_release(cl, &k[1]);
	connlimit_release(cl, &k[3]);
	connlimit_release(cl, &k[2]);
	connlimit_release(cl, &kb);
	connlimit_free(cl);
	connlimit_free(NULL);
}

static void
test_clears_cookies(void **state)
{
	static const char *const yes[] = { "\"cookies\"", "\"*\"", "cookies",
	    "*", "\"cache\", \"cookies\"", "\"cache\",\"COOKIES\"",
	    " \"storage\" , \"*\" ", NULL };
	static const char *const no[] = { "", "\"cache\"", "\"storage\"",
	    "\"cache\", \"storage\", \"executionContexts\"", "\"cookie\"",
	    "\"cookiesx\"", "\"**\"", NULL };
	const char *const *v;

	(void)state;
	for (v = yes; *v != NULL; v++)
		assert_true(headers_clears_cookies(*v));
	for (v = no; *v != NULL; v++)
		assert_false(headers_clears_cookies(*v));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_check),
		cmocka_unit_test(test_fill),
		cmocka_unit_test(test_override_and_pages),
		cmocka_unit_test(test_hsts),
		cmocka_unit_test(test_metrics),
		cmocka_unit_test(test_connlimit),
		cmocka_unit_test(test_clears_cookies),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
