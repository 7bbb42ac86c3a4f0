/*
 * parse.c: every value syntax of the configuration, its edges, overflow and
 * garbage, with the exact reasons operators will read.
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "parse.h"

static char	err[PARSE_ERRLEN];

static void
dur_ok(const char *s, uint64_t want)
{
	uint64_t	ms = 12345;

	if (parse_duration(s, &ms, err, sizeof(err)) != 0)
		fail_msg("'%s': %s", s, err);
	assert_int_equal(ms, want);
}

static void
dur_bad(const char *s, const char *reason)
{
	uint64_t	ms;

	if (parse_duration(s, &ms, err, sizeof(err)) != -1)
		fail_msg("\'%s\' accepted", s);
	assert_string_equal(err, reason);
}

static void
test_duration(void **state)
{
	(void)state;
	dur_ok("500ms", 500);
	dur_ok("30s", 30000);
	dur_ok("5m", 300000);
	dur_ok("2h", 7200000);
	dur_ok("7d", 604800000);
	dur_ok("0s", 0);
	dur_ok("1h30m", 5400000);
	dur_ok("1d2h3m4s5ms", 93784005);
	dur_ok("213503982334d", 213503982334ULL * 86400000);
	dur_bad("", "empty duration");
	dur_bad("30", "missing unit (ms, s, m, h or d, e.g. 30s)");
	dur_bad("30x", "unknown unit 'x' (expected ms, s, m, h or d)");
	dur_bad("30S", "unknown unit 'S' (expected ms, s, m, h or d)");
	dur_bad("s", "expected a number");
	dur_bad("-5s", "expected a number");
	dur_bad(" 5s", "expected a number");
	dur_bad("5s ", "unexpected character ' '");
	dur_bad("1.5s", "unexpected character '.'");
	dur_bad("30m1h", "units must go from largest to smallest, each once "
	    "(e.g. 1h30m)");
	dur_bad("1s1s", "units must go from largest to smallest, each once "
	    "(e.g. 1h30m)");
	dur_bad("213503982335d", "duration too large");
	dur_ok("18446744073709551615ms", UINT64_MAX);
	dur_bad("5s1", "missing unit (ms, s, m, h or d, e.g. 30s)");
	dur_bad("18446744073709551616ms", "number too large");
	dur_bad("99999999999999999999999s", "number too large");
	dur_bad("1d18446744073709551615ms", "duration too large");
}

static void
size_ok(const char *s, uint64_t want)
{
	uint64_t	v = 12345;

	if (parse_size(s, &v, err, sizeof(err)) != 0)
		fail_msg("'%s': %s", s, err);
	assert_int_equal(v, want);
}

static void
size_bad(const char *s, const char *reason)
{
	uint64_t	v;

	if (parse_size(s, &v, err, sizeof(err)) != -1)
		fail_msg("\'%s\' accepted", s);
	assert_string_equal(err, reason);
}

static void
test_size(void **state)
{
	(void)state;
	size_ok("512", 512);
	size_ok("0", 0);
	size_ok("512B", 512);
	size_ok("16KiB", 16384);
	size_ok("10MiB", 10485760);
	size_ok("1GiB", 1073741824);
	size_ok("2TiB", 2ULL << 40);
	size_ok("16KB", 16000);
	size_ok("10MB", 10000000);
	size_ok("1GB", 1000000000);
	size_ok("16777215TiB", 16777215ULL << 40);
	size_ok("18446744073709551615", UINT64_MAX);
	size_bad("", "empty size");
	size_bad("KiB", "expected a number");
	size_bad("16QiB", "unknown unit 'QiB' (expected B, KiB, MiB, GiB, "
	    "TiB, KB, MB, GB or TB)");
	size_bad("16kib", "unknown unit 'kib' (expected B, KiB, MiB, GiB, "
	    "TiB, KB, MB, GB or TB)");
	size_bad("16 KiB", "unknown unit ' KiB' (expected B, KiB, MiB, GiB, "
	    "TiB, KB, MB, GB or TB)");
	size_bad("1\x1b[2J", "unknown unit '?[2J' (expected B, KiB, MiB, "
	    "GiB, TiB, KB, MB, GB or TB)");
	size_bad("16777216TiB", "size too large");
	size_bad("18446744073709551616", "number too large");
	size_bad("-1", "expected a number");
}

static void
test_uint_bool(void **state)
{
	uint64_t	v;
	int		b;

	(void)state;
	assert_int_equal(parse_uint("15", 0, 15, &v, err, sizeof(err)), 0);
	assert_int_equal(v, 15);
	assert_int_equal(parse_uint("16", 0, 15, &v, err, sizeof(err)), -1);
	assert_string_equal(err, "out of range (0 to 15)");
	assert_int_equal(parse_uint("1x", 0, 15, &v, err, sizeof(err)), -1);
	assert_string_equal(err, "expected a whole number");
	assert_int_equal(parse_uint("+1", 0, 15, &v, err, sizeof(err)), -1);
	assert_int_equal(parse_bool("true", &b, err, sizeof(err)), 0);
	assert_int_equal(b, 1);
	assert_int_equal(parse_bool("false", &b, err, sizeof(err)), 0);
	assert_int_equal(b, 0);
	assert_int_equal(parse_bool("yes", &b, err, sizeof(err)), -1);
	assert_string_equal(err, "expected true or false");
	assert_int_equal(parse_bool("on", &b, NULL, 0), -1);
}

static void
addr_ok(const char *s, int family, const char *ip, unsigned int port)
{
	struct config_addr	 a;
	struct sockaddr_in	*sin = (struct sockaddr_in *)&a.ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&a.ss;
	char			 buf[INET6_ADDRSTRLEN];

	if (parse_addr(s, &a, err, sizeof(err)) != 0)
		fail_msg("'%s': %s", s, err);
	assert_string_equal(a.text, s);
	assert_int_equal(a.ss.ss_family, family);
	if (family == AF_INET) {
		assert_int_equal(a.sslen, sizeof(*sin));
		inet_ntop(AF_INET, &sin->sin_addr, buf, sizeof(buf));
		assert_int_equal(ntohs(sin->sin_port), port);
	} else {
		assert_int_equal(a.sslen, sizeof(*sin6));
		inet_ntop(AF_INET6, &sin6->sin6_addr, buf, sizeof(buf));
		assert_int_equal(ntohs(sin6->sin6_port), port);
	}
	assert_string_equal(buf, ip);
	parse_addr_free(&a);
	assert_null(a.text);
}

static void
addr_bad(const char *s, const char *reason)
{
	struct config_addr	a;

	if (parse_addr(s, &a, err, sizeof(err)) != -1)
		fail_msg("\'%s\' accepted", s);
	assert_string_equal(err, reason);
	assert_null(a.text);
}

static void
test_addr(void **state)
{
	struct config_addr	 a;
	struct sockaddr_un	*sun = (struct sockaddr_un *)&a.ss;
	char			 longpath[200];

	(void)state;
	addr_ok("0.0.0.0:443", AF_INET, "0.0.0.0", 443);
	addr_ok("127.0.0.1:1", AF_INET, "127.0.0.1", 1);
	addr_ok("[::1]:65535", AF_INET6, "::1", 65535);
	addr_ok("[::]:8443", AF_INET6, "::", 8443);
	assert_int_equal(parse_addr("localhost:6379", &a, err, sizeof(err)),
	    0);
	parse_addr_free(&a);
	assert_int_equal(parse_addr("unix:/run/redis.sock", &a, err,
	    sizeof(err)), 0);
	assert_int_equal(a.ss.ss_family, AF_UNIX);
	assert_string_equal(sun->sun_path, "/run/redis.sock");
	assert_int_equal(a.sslen, offsetof(struct sockaddr_un, sun_path) + 16);
	parse_addr_free(&a);
	addr_bad("127.0.0.1:0", "port must be a number from 1 to 65535");
	addr_bad("127.0.0.1:65536", "port must be a number from 1 to 65535");
	addr_bad("127.0.0.1:99999999999999999999999", "port must be a number "
	    "from 1 to 65535");
	addr_bad("127.0.0.1:http", "port must be a number from 1 to 65535");
	addr_bad("127.0.0.1", "missing port (host:port)");
	addr_bad("127.0.0.1:", "missing port");
	addr_bad(":443", "missing host");
	addr_bad("::1:443", "an IPv6 address must be in brackets ([::1]:port)");
	addr_bad("[::1:443", "missing ']'");
	addr_bad("[::1]443", "unexpected text after ']'");
	addr_bad("[127.0.0.1]:443", "not an IPv6 address in brackets");
	addr_bad("example.com:443", "host must be an IP address or localhost");
	addr_bad("256.0.0.1:443", "host must be an IP address or localhost");
	addr_bad("", "missing port (host:port)");
	addr_bad("unix:run/x.sock", "unix socket path must be absolute "
	    "(unix:/path)");
	memset(longpath, 'a', sizeof(longpath));
	memcpy(longpath, "unix:/", 6);
	longpath[sizeof(longpath) - 1] = '\0';
	addr_bad(longpath, "unix socket path longer than 107 bytes");
}

static void
cidr_ok(const char *s, int family, unsigned int bits, const char *net)
{
	struct config_cidr	c;
	char			buf[INET6_ADDRSTRLEN];

	if (parse_cidr(s, &c, err, sizeof(err)) != 0)
		fail_msg("'%s': %s", s, err);
	assert_int_equal(c.family, family);
	assert_int_equal(c.bits, bits);
	inet_ntop(family, c.addr, buf, sizeof(buf));
	assert_string_equal(buf, net);
}

static void
cidr_bad(const char *s, const char *reason)
{
	struct config_cidr	c;

	if (parse_cidr(s, &c, err, sizeof(err)) != -1)
		fail_msg("\'%s\' accepted", s);
	assert_string_equal(err, reason);
}

static void
test_cidr(void **state)
{
	(void)state;
	cidr_ok("10.0.0.0/8", AF_INET, 8, "10.0.0.0");
	cidr_ok("192.168.1.128/25", AF_INET, 25, "192.168.1.128");
	cidr_ok("10.1.2.3", AF_INET, 32, "10.1.2.3");
	cidr_ok("0.0.0.0/0", AF_INET, 0, "0.0.0.0");
	cidr_ok("::1/128", AF_INET6, 128, "::1");
	cidr_ok("::1", AF_INET6, 128, "::1");
	cidr_ok("fd00::/8", AF_INET6, 8, "fd00::");
	cidr_ok("2001:db8::/33", AF_INET6, 33, "2001:db8::");
	cidr_bad("10.0.0.1/8", "host bits are set (the network is 10.0.0.0/8)");
	cidr_bad("192.168.1.129/25", "host bits are set (the network is "
	    "192.168.1.128/25)");
	cidr_bad("2001:db8:4000::/33", "host bits are set (the network is "
	    "2001:db8::/33)");
	cidr_bad("10.0.0.0/33", "prefix length must be 0 to 32");
	cidr_bad("::/129", "prefix length must be 0 to 128");
	cidr_bad("10.0.0.0/", "prefix length must be 0 to 32");
	cidr_bad("10.0.0.0/-1", "prefix length must be 0 to 32");
	cidr_bad("10.0.0.0/8/8", "prefix length must be 0 to 32");
	cidr_bad("10.0.0/8", "not an IP address or prefix");
	cidr_bad("example.com/8", "not an IP address or prefix");
	cidr_bad("", "not an IP address or prefix");
	cidr_bad("1111:2222:3333:4444:5555:6666:7777:8888:9999/64",
	    "not an IP address or prefix");
}

static void
test_host(void **state)
{
	char	long_label[80], long_name[300];

	(void)state;
	assert_int_equal(parse_host("example.com", 0, err, sizeof(err)), 0);
	assert_int_equal(parse_host("a-b.Example.COM", 0, err, sizeof(err)), 0);
	assert_int_equal(parse_host("localhost", 0, err, sizeof(err)), 0);
	assert_int_equal(parse_host("127.0.0.1", 0, err, sizeof(err)), 0);
	assert_int_equal(parse_host("[::1]", 0, err, sizeof(err)), 0);
	assert_int_equal(parse_host("*.example.com", 1, err, sizeof(err)), 0);
	assert_int_equal(parse_host("*.example.com", 0, err, sizeof(err)), -1);
	assert_string_equal(err, "invalid character in host name (letters, "
	    "digits, '-' and '.')");
	assert_int_equal(parse_host("a.*.com", 1, err, sizeof(err)), -1);
	assert_int_equal(parse_host("a..com", 0, err, sizeof(err)), -1);
	assert_string_equal(err, "empty label in host name");
	assert_int_equal(parse_host("a.com.", 0, err, sizeof(err)), -1);
	assert_int_equal(parse_host("-a.com", 0, err, sizeof(err)), -1);
	assert_string_equal(err, "a host name label cannot start or end "
	    "with '-'");
	assert_int_equal(parse_host("a_b.com", 0, err, sizeof(err)), -1);
	assert_int_equal(parse_host("a.com:80", 0, err, sizeof(err)), -1);
	assert_int_equal(parse_host("[::g]", 0, err, sizeof(err)), -1);
	assert_string_equal(err, "not an IPv6 address");
	assert_int_equal(parse_host("", 0, err, sizeof(err)), -1);
	memset(long_label, 'a', 64);
	long_label[64] = '\0';
	assert_int_equal(parse_host(long_label, 0, err, sizeof(err)), -1);
	assert_string_equal(err, "label longer than 63 bytes in host name");
	memset(long_name, 'a', 254);
	long_name[254] = '\0';
	for (size_t i = 50; i < 254; i += 51)
		long_name[i] = '.';
	assert_int_equal(parse_host(long_name, 0, err, sizeof(err)), -1);
	assert_string_equal(err, "host name must be 1 to 253 bytes");
}

static void
url_ok(const char *s, int tls, const char *host, const char *port,
    int resolved)
{
	struct config_upstream	u;

	if (parse_url(s, &u, err, sizeof(err)) != 0)
		fail_msg("'%s': %s", s, err);
	assert_string_equal(u.url, s);
	assert_int_equal(u.tls, tls);
	assert_string_equal(u.host, host);
	assert_string_equal(u.port, port);
	assert_int_equal(u.addr.sslen != 0, resolved);
	parse_url_free(&u);
	assert_null(u.url);
}

static void
url_bad(const char *s, const char *reason)
{
	struct config_upstream	u;

	if (parse_url(s, &u, err, sizeof(err)) != -1)
		fail_msg("\'%s\' accepted", s);
	assert_string_equal(err, reason);
	assert_null(u.url);
	assert_null(u.host);
}

static void
test_url(void **state)
{
	(void)state;
	url_ok("http://127.0.0.1:8081", 0, "127.0.0.1", "8081", 1);
	url_ok("http://127.0.0.1", 0, "127.0.0.1", "80", 1);
	url_ok("https://127.0.0.1", 1, "127.0.0.1", "443", 1);
	url_ok("http://127.0.0.1:8081/", 0, "127.0.0.1", "8081", 1);
	url_ok("http://[::1]:8080", 0, "::1", "8080", 1);
	url_ok("https://App.Internal:8443", 1, "app.internal", "8443", 0);
	url_ok("http://localhost:3000", 0, "localhost", "3000", 1);
	url_bad("ftp://x", "expected an http:// or https:// URL");
	url_bad("HTTP://x", "expected an http:// or https:// URL");
	url_bad("127.0.0.1:80", "expected an http:// or https:// URL");
	url_bad("http://", "missing host");
	url_bad("http://:80", "missing host");
	url_bad("http://x/app", "a path is not supported in upstream URLs yet");
	url_bad("http://x?a=b", "query and fragment are not supported in "
	    "upstream URLs");
	url_bad("http://x#f", "query and fragment are not supported in "
	    "upstream URLs");
	url_bad("http://user:pw@x", "user information is not supported in "
	    "upstream URLs");
	url_bad("http://x:0", "port must be a number from 1 to 65535");
	url_bad("http://x:70000", "port must be a number from 1 to 65535");
	url_bad("http://x:", "missing port");
	url_bad("http://[::1", "missing ']'");
	url_bad("http://[zz]:80", "not an IPv6 address");
	url_bad("http://a_b:80", "invalid character in host name (letters, "
	    "digits, '-' and '.')");
	url_bad("http://::1:80", "an IPv6 address must be in brackets "
	    "([::1]:port)");
}

static void
test_printable(void **state)
{
	char	buf[16];

	(void)state;
	assert_string_equal(parse_printable(buf, sizeof(buf), "abc", 10),
	    "abc");
	assert_string_equal(parse_printable(buf, sizeof(buf), "a\nb\x80", 10),
	    "a?b?");
	assert_string_equal(parse_printable(buf, sizeof(buf),
	    "0123456789abcdef", 10), "0123456789...");
	assert_string_equal(parse_printable(buf, sizeof(buf),
	    "0123456789abcdef", 100), "0123456789ab...");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_duration),
		cmocka_unit_test(test_size),
		cmocka_unit_test(test_uint_bool),
		cmocka_unit_test(test_addr),
		cmocka_unit_test(test_cidr),
		cmocka_unit_test(test_host),
		cmocka_unit_test(test_url),
		cmocka_unit_test(test_printable),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
