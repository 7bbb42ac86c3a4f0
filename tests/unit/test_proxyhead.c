/*
 * proxyhead.c: hop-by-hop names, Connection tokens, header lines and the
 * checks on a WebSocket 101 head, the identity headers copied as identity
 * made them.  The full heads are covered end to end
 * by tests/integration/test_proxy.py and test_headers.py.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <event2/buffer.h>

#include "exchange.h"
#include "proxyhead.h"
#include "request.h"

#define H(n, v)	{ (char *)(n), (char *)(v) }

/* <b>'s bytes as a NUL-terminated string, which the caller frees. */
static char *
contents(struct evbuffer *b)
{
	size_t	 n = evbuffer_get_length(b);
	char	*s = calloc(1, n + 1);

	assert_non_null(s);
	assert_int_equal(evbuffer_remove(b, s, n), (int)n);
	return s;
}

static void
test_hop_by_hop(void **state)
{
	(void)state;
	assert_true(proxyhead_hop_by_hop("Connection"));
	assert_true(proxyhead_hop_by_hop("transfer_encoding"));
	assert_true(proxyhead_hop_by_hop("CONTENT-LENGTH"));
	assert_true(proxyhead_hop_by_hop("Proxy-Authorization"));
	/* proxy-* at the lengths of the other names too */
	assert_true(proxyhead_hop_by_hop("Proxy-X"));
	assert_true(proxyhead_hop_by_hop("proxy_abcd"));
	assert_true(proxyhead_hop_by_hop("PROXY-CONNECTION"));
	assert_true(proxyhead_hop_by_hop("Proxy-Abcdefghijk"));
	assert_true(proxyhead_hop_by_hop("te"));
	assert_true(proxyhead_hop_by_hop("Keep_Alive"));
	assert_true(proxyhead_hop_by_hop("Upgrade"));
	assert_true(proxyhead_hop_by_hop("Trailer"));
	assert_false(proxyhead_hop_by_hop("proxy"));
	assert_false(proxyhead_hop_by_hop("Upgrades"));
	assert_false(proxyhead_hop_by_hop("Content-Type"));
	assert_false(proxyhead_hop_by_hop("Connections"));
	assert_false(proxyhead_hop_by_hop("TE2"));
}

static void
test_connection_listed(void **state)
{
	const struct request_header h[] = {
		H("Accept", "x-secret"),
		H("Connection", " keep-alive ,\tX-Secret\t, , upgrade"),
		H("connection", NULL),
	};

	(void)state;
	assert_true(proxyhead_connection_listed(h, 3, "x-secret"));
	assert_true(proxyhead_connection_listed(h, 3, "X_Secret"));
	assert_true(proxyhead_connection_listed(h, 3, "Upgrade"));
	assert_true(proxyhead_connection_listed(h, 3, "keep-alive"));
	assert_false(proxyhead_connection_listed(h, 3, "x-secre"));
	assert_false(proxyhead_connection_listed(h, 3, "x-secrets"));
	assert_false(proxyhead_connection_listed(h, 1, "x-secret"));
}

static void
test_lines(void **state)
{
	struct evbuffer	*b = evbuffer_new();
	char		 big[3000], *s, *want;

	(void)state;
	assert_non_null(b);
	assert_int_equal(proxyhead_add_header(b, "A", "b c"), 0);
	assert_int_equal(proxyhead_add_number(b, "Content-Length", 0), 0);
	assert_int_equal(proxyhead_add_number(b, "N",
	    18446744073709551615ULL), 0);
	s = contents(b);
	assert_string_equal(s, "A: b c\r\nContent-Length: 0\r\n"
	    "N: 18446744073709551615\r\n");
	free(s);
	memset(big, 'v', sizeof(big) - 1);	/* longer than the line buffer */
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(proxyhead_add_header(b, "Big", big), 0);
	s = contents(b);
	assert_non_null(want = malloc(sizeof(big) + 8));
	strcpy(want, "Big: ");
	strcat(want, big);
	strcat(want, "\r\n");
	assert_string_equal(s, want);
	free(want);
	free(s);
	evbuffer_free(b);
}

/* The 101 head from the <n> headers at <h> is "101" + <mid> + ours. */
static void
expect_101(const struct request_header *h, size_t n, const char *mid)
{
	struct evbuffer	*b = evbuffer_new();
	const char	*why = NULL;
	char		*s, want[512];

	assert_non_null(b);
	assert_int_equal(proxyhead_write_101(b, NULL, h, n, 1, &why), 0);
	s = contents(b);
	(void)snprintf(want, sizeof(want), "HTTP/1.1 101 Switching Protocols"
	    "\r\n%sUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n", mid);
	assert_string_equal(s, want);
	free(s);
	evbuffer_free(b);
}

static void
test_101(void **state)
{
	const struct request_header ok[] = {
		H("Upgrade", "websocket"), H("Connection", "Upgrade, X-Drop"),
		H("Sec-WebSocket-Accept", "abc="), H("X-Drop", "1"),
		H("Keep-Alive", "5"), H("X-Keep", "2"),
	};
	const struct request_header bad[] = {
		H("Upgrade", "websocket"), H("X-Evil", "a\r\nSet-Cookie: x"),
	};
	const struct request_header h2c[] = { H("Upgrade", "h2c") };
	const struct request_header cookies[] = {
		H("Upgrade", "websocket"), H("Set-Cookie", "__Host-postern=x"),
		H("set-cookie2", "a=1, __Secure-postern=y"),
		H("Clear-Site-Data", "\"cookies\""), H("Set-Cookie", "app=1"),
	};
	struct evbuffer	*b = evbuffer_new();
	const char	*why = NULL;

	(void)state;
	assert_non_null(b);
	assert_int_equal(proxyhead_write_101(b, NULL, bad, 2, 1, &why), -1);
	assert_string_equal(why, "upstream_bad_header");
	assert_int_equal(proxyhead_write_101(b, NULL, h2c, 1, 1, &why), -1);
	assert_string_equal(why, "upstream_upgrade");
	assert_int_equal(proxyhead_write_101(b, NULL, ok, 6, 0, &why), -1);
	assert_string_equal(why, "upstream_upgrade");
	assert_int_equal(evbuffer_get_length(b), 0);
	evbuffer_free(b);
	expect_101(ok, 6, "Sec-WebSocket-Accept: abc=\r\nX-Keep: 2\r\n");
	/* nor may a 101 touch the gateway's cookies */
	expect_101(cookies, 5, "Set-Cookie: app=1\r\n");
}

/* Identity made them before forwarding: copied in order, unset ones out. */
static void
test_identity(void **state)
{
	struct evbuffer	*b = evbuffer_new();
	struct exchange_upstream none = { 0 };
	struct exchange_upstream session = { .assertion = "h.p.s",
	    .user = "u1", .email = "a@example.com", .auth = "session",
	    .org = "acme", .role = "admin" };
	struct exchange_upstream key = { .assertion = "h.p.s",
	    .user = "pk_0123", .auth = "apikey", .org = "acme" };
	char		*s;

	(void)state;
	assert_non_null(b);
	assert_int_equal(proxyhead_write_identity(b, &none), 0);
	assert_int_equal(evbuffer_get_length(b), 0);
	assert_int_equal(proxyhead_write_identity(b, &session), 0);
	s = contents(b);
	assert_string_equal(s, "X-Postern-User: u1\r\n"
	    "X-Postern-Email: a@example.com\r\nX-Postern-Auth: session\r\n"
	    "X-Postern-Assertion: h.p.s\r\nX-Postern-Org: acme\r\n"
	    "X-Postern-Role: admin\r\n");
	free(s);
	assert_int_equal(proxyhead_write_identity(b, &key), 0);
	s = contents(b);
	assert_string_equal(s, "X-Postern-User: pk_0123\r\n"
	    "X-Postern-Auth: apikey\r\nX-Postern-Assertion: h.p.s\r\n"
	    "X-Postern-Org: acme\r\n");
	free(s);
	evbuffer_free(b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hop_by_hop),
		cmocka_unit_test(test_connection_listed),
		cmocka_unit_test(test_lines),
		cmocka_unit_test(test_101),
		cmocka_unit_test(test_identity),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
