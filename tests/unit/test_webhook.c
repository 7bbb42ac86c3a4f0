/*
 * webhook.c: the address classification of the SSRF guard (every range,
 * both families, the edges), the allowlist, and the signature format
 * against a value computed independently (Python's hmac).  No connection
 * is ever made here.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "config.h"
#include "parse.h"
#include "webhook.h"

static const char *
cls(const char *addr)
{
	struct sockaddr_storage	ss;
	struct sockaddr_in	*s4 = (struct sockaddr_in *)(void *)&ss;
	struct sockaddr_in6	*s6 = (struct sockaddr_in6 *)(void *)&ss;

	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, addr, &s4->sin_addr) == 1)
		s4->sin_family = AF_INET;
	else {
		assert_int_equal(inet_pton(AF_INET6, addr, &s6->sin6_addr), 1);
		s6->sin6_family = AF_INET6;
	}
	return webhook_addr_class((struct sockaddr *)(void *)&ss);
}

static void
expect(const char *addr, const char *want)
{
	const char	*got = cls(addr);

	if (want == NULL && got != NULL)
		fail_msg("%s: %s, wanted public", addr, got);
	if (want != NULL && (got == NULL || strcmp(got, want) != 0))
		fail_msg("%s: %s, wanted %s", addr, got ? got : "public",
		    want);
}

static void
test_ipv4(void **state)
{
	(void)state;
	expect("127.0.0.1", "loopback");
	expect("127.255.255.254", "loopback");
	expect("10.0.0.1", "private");
	expect("10.255.255.255", "private");
	expect("11.0.0.1", NULL);
	expect("172.16.0.1", "private");
	expect("172.31.255.255", "private");
	expect("172.15.255.255", NULL);
	expect("172.32.0.0", NULL);
	expect("192.168.1.1", "private");
	expect("192.169.0.1", NULL);
	expect("169.254.169.254", "link_local");	/* cloud metadata */
	expect("100.64.0.1", "cgnat");
	expect("100.127.255.255", "cgnat");
	expect("100.128.0.0", NULL);
	expect("100.63.255.255", NULL);
	expect("224.0.0.1", "multicast");
	expect("239.255.255.255", "multicast");
	expect("0.0.0.0", "reserved");
	expect("0.1.2.3", "reserved");
	expect("255.255.255.255", "reserved");
	expect("240.0.0.1", "reserved");
	expect("192.0.2.1", "reserved");
	expect("198.18.0.1", "reserved");
	expect("8.8.8.8", NULL);
	expect("93.184.216.34", NULL);
}

static void
test_ipv6(void **state)
{
	(void)state;
	expect("::1", "loopback");
	expect("::", "reserved");
	expect("fc00::1", "unique_local");
	expect("fdff:ffff::1", "unique_local");
	expect("fe80::1", "link_local");
	expect("febf::1", "link_local");
	expect("ff02::1", "multicast");
	expect("2001:db8::1", "reserved");
	expect("::ffff:127.0.0.1", "loopback");		/* mapped */
	expect("::ffff:10.1.2.3", "private");
	expect("::ffff:169.254.169.254", "link_local");
	expect("::ffff:8.8.8.8", NULL);
	expect("64:ff9b::10.0.0.1", "private");	/* NAT64 */
	expect("::127.0.0.1", "loopback");		/* compatible */
	expect("2606:4700::1111", NULL);
	expect("fbff::1", NULL);
}

static void
test_allowlist(void **state)
{
	struct config_cidr	c[2];
	struct sockaddr_in	s4 = { .sin_family = AF_INET };
	char			err[128];

	(void)state;
	assert_int_equal(parse_cidr("127.0.0.1/32", &c[0], err, sizeof(err)),
	    0);
	assert_int_equal(parse_cidr("10.1.0.0/16", &c[1], err, sizeof(err)),
	    0);
	(void)inet_pton(AF_INET, "127.0.0.1", &s4.sin_addr);
	assert_true(webhook_addr_allowed((struct sockaddr *)(void *)&s4, c,
	    2));
	(void)inet_pton(AF_INET, "127.0.0.2", &s4.sin_addr);
	assert_false(webhook_addr_allowed((struct sockaddr *)(void *)&s4, c,
	    2));
	(void)inet_pton(AF_INET, "10.1.200.3", &s4.sin_addr);
	assert_true(webhook_addr_allowed((struct sockaddr *)(void *)&s4, c,
	    2));
	(void)inet_pton(AF_INET, "10.2.0.1", &s4.sin_addr);
	assert_false(webhook_addr_allowed((struct sockaddr *)(void *)&s4, c,
	    2));
}

static void
test_signature(void **state)
{
	char	sig[200];

	(void)state;
	webhook_signature((const unsigned char *)"0123456789abcdef", 16,
	    1700000000, "{\"a\":1}", sig, sizeof(sig));
	assert_string_equal(sig, "t=1700000000,v1=9eb18f493f8ec135d9eb2dad81"
	    "7c369bb4e9cbfa818657897a7437c1cd8c3a23");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ipv4),
		cmocka_unit_test(test_ipv6),
		cmocka_unit_test(test_allowlist),
		cmocka_unit_test(test_signature),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
