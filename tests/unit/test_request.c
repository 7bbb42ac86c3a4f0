/*
 * request.c: every refusal has its status and stable reason, and accepted
 * requests come out with one framing, a host and a normalised path.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <event2/buffer.h>

#include "request.h"

struct parsed {
	struct request	*req;
	struct evbuffer	*in, *out;
	enum request_result r;
};

static void
parse(struct parsed *p, const char *s, size_t len)
{
	struct request_limits lim = { 0 };

	request_limits_defaults(&lim);
	lim.max_request_line = 256;
	lim.max_header_size = 1024;
	lim.max_headers = 8;
	lim.max_body_size = 100;
	p->in = evbuffer_new();
	p->out = evbuffer_new();
	p->req = request_new(&lim);
	assert_non_null(p->req);
	evbuffer_add(p->in, s, len);
	p->r = request_parse_head(p->req, p->in);
	if (p->r == REQUEST_DONE && !p->req->complete)
		p->r = request_parse_body(p->req, p->in, p->out, 1 << 20);
}

static void
done(struct parsed *p)
{
	request_free(p->req);
	evbuffer_free(p->in);
	evbuffer_free(p->out);
}

static void
refused(const char *s, int status, const char *reason)
{
	struct parsed	p;

	parse(&p, s, strlen(s));
	assert_int_equal(p.r, REQUEST_ERROR);
	assert_int_equal(p.req->status, status);
	assert_string_equal(p.req->reason, reason);
	done(&p);
}

#define H	"GET / HTTP/1.1\r\nHost: a\r\n"

/* What the caller leaves 0 gets the default; what it set stays. */
static void
test_limits_defaults(void **state)
{
	struct request_limits	 lim = { 0 };

	(void)state;
	request_limits_defaults(&lim);
	assert_int_equal(lim.max_request_line, 8192);
	assert_int_equal(lim.max_header_size, 32768);
	assert_int_equal(lim.max_headers, 100);
	assert_int_equal(lim.max_body_size, 0);	/* no limit */
	assert_int_equal(lim.allow_underscore, 0);
	lim = (struct request_limits){ .max_request_line = 64,
	    .max_header_size = 1024, .max_headers = 1, .max_body_size = 5,
	    .allow_underscore = 1 };
	request_limits_defaults(&lim);
	assert_int_equal(lim.max_request_line, 64);
	assert_int_equal(lim.max_header_size, 1024);
	assert_int_equal(lim.max_headers, 1);
	assert_int_equal(lim.max_body_size, 5);
	assert_int_equal(lim.allow_underscore, 1);
}

static void
test_smuggling(void **state)
{
	(void)state;
	refused("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n", 400, "smuggling_cl_te");
	refused("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
	    "Content-Length: 3\r\n\r\n", 400, "smuggling_cl_te");
	refused("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n"
	    "Content-Length: 3\r\n\r\nabc", 400, "smuggling_double_cl");
	refused("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n",
	    400, "smuggling_te_invalid");
	refused("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, "
	    "chunked\r\n\r\n", 400, "smuggling_te_invalid");
	refused(H "Content-Length: -1\r\n\r\n", 400, "bad_content_length");
	refused(H "Content-Length: 1 2\r\n\r\n", 400, "bad_content_length");
	/* RFC 9112 6.1: in HTTP/1.0, Transfer-Encoding is faulty framing */
	refused("POST / HTTP/1.0\r\nHost: a\r\nTransfer-Encoding: chunked"
	    "\r\n\r\n0\r\n\r\n", 400, "smuggling_te_http10");
}

#define CH	"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
#define HIDDEN	"GET /hidden HTTP/1.1\r\nHost: a\r\n\r\n"

/* Refused, and nothing of the body went out for the upstream. */
static void
refused_body(const char *s, int status, const char *reason)
{
	struct parsed	p;

	parse(&p, s, strlen(s));
	assert_int_equal(p.r, REQUEST_ERROR);
	assert_int_equal(p.req->status, status);
	assert_string_equal(p.req->reason, reason);
	assert_int_equal(evbuffer_get_length(p.out), 0);
	done(&p);
}

/*
 * Chunked framings http-parser's lenient build accepted, each hiding a
 * request behind the body as a front proxy that reads the framing strictly
 * would not see it (chunked.c has every case; these go through request.c).
 */
static void
test_chunked_lenient(void **state)
{
	(void)state;
	refused_body(CH "5\nhello\r\n0\r\n\r\n" HIDDEN, 400,
	    "smuggling_chunk_bare_lf");
	refused_body(CH "5\r\nhello\n0\r\n\r\n" HIDDEN, 400,
	    "smuggling_chunk_bare_lf");
	refused_body(CH "5\r\nhello\r\n0\n\n" HIDDEN, 400,
	    "smuggling_chunk_bare_lf");
	refused_body(CH "5\r\nhelloXY0\r\n\r\n" HIDDEN, 400,
	    "smuggling_chunk_crlf");
	refused_body(CH "5\rhello\r\n0\r\n\r\n" HIDDEN, 400,
	    "smuggling_chunk_bare_cr");
	refused_body(CH "5;a b\r\nhello\r\n0\r\n\r\n" HIDDEN, 400,
	    "smuggling_chunk_ext");
	refused_body(CH "5 \r\nhello\r\n0\r\n\r\n" HIDDEN, 400,
	    "smuggling_chunk_size");
	refused_body(CH "0x5\r\nhello\r\n0\r\n\r\n" HIDDEN, 400,
	    "smuggling_chunk_size");
	refused_body(CH "+5\r\nhello\r\n0\r\n\r\n" HIDDEN, 400,
	    "smuggling_chunk_size");
	refused_body(CH "00000000000000005\r\nhello\r\n0\r\n\r\n", 400,
	    "smuggling_chunk_size");
	refused_body(CH "0\r\nContent-Length: 40\r\n\r\n" HIDDEN, 400,
	    "smuggling_trailer_field");
	refused_body(CH "0\r\nX: 1\r\n folded\r\n\r\n", 400,
	    "smuggling_trailer");
	refused_body(CH "65\r\n", 413, "body_too_large");
	/* Transfer-Encoding's siblings stay refused in the head */
	refused(H "Transfer-Encoding: chunked, chunked\r\n\r\n", 400,
	    "smuggling_te_invalid");
	refused(H "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked"
	    "\r\n\r\n", 400, "smuggling_te_multiple");
	refused(H "Transfer-Encoding: \"chunked\"\r\n\r\n", 400,
	    "smuggling_te_invalid");
	refused(H "Transfer-Encoding: chunked;q=1\r\n\r\n", 400,
	    "smuggling_te_invalid");
	refused(H "Transfer-Encoding:\r\n chunked\r\n\r\n", 400, "obs_fold");
	refused(H "Content-Length: +5\r\n\r\nhello", 400,
	    "bad_content_length");
	refused(H "Content-Length: 5, 5\r\n\r\nhello", 400,
	    "bad_content_length");
}

/*
 * The upstream gets the body in canonical framing built from what was
 * decoded: no extension, no trailer, no leading zeros, whatever the split.
 */
static void
test_chunked_reframed(void **state)
{
	static const char in[] = CH "3;ext=\"v\"\r\nabc\r\n002\r\nde\r\n"
	    "0\r\nX-T: 1\r\n\r\n" HIDDEN;
	static const char byte[] = "1\r\na\r\n1\r\nb\r\n1\r\nc\r\n"
	    "1\r\nd\r\n1\r\ne\r\n0\r\n\r\n";
	struct parsed	 p;
	int		 i;

	(void)state;
	parse(&p, in, strlen(in));
	assert_int_equal(p.r, REQUEST_DONE);
	assert_int_equal(evbuffer_get_length(p.out), 15);
	assert_memory_equal(evbuffer_pullup(p.out, -1),
	    "5\r\nabcde\r\n0\r\n\r\n", 15);
	assert_int_equal(evbuffer_get_length(p.in), strlen(HIDDEN));
	done(&p);
	/* one byte per call, as a slow client sends it */
	parse(&p, CH, strlen(CH));
	evbuffer_add(p.in, in + strlen(CH), strlen(in) - strlen(CH));
	for (i = 0; i < 200 && p.r == REQUEST_MORE; i++)
		p.r = request_parse_body(p.req, p.in, p.out, 1);
	assert_int_equal(p.r, REQUEST_DONE);
	assert_int_equal(p.req->body_bytes, 5);
	assert_int_equal(evbuffer_get_length(p.out), strlen(byte));
	assert_memory_equal(evbuffer_pullup(p.out, -1), byte, strlen(byte));
	assert_int_equal(evbuffer_get_length(p.in), strlen(HIDDEN));
	done(&p);
}

static void
test_malformed_heads(void **state)
{
	(void)state;
	refused(H "X-A: b\r\n c\r\n\r\n", 400, "obs_fold");
	refused(H "X_A: b\r\n\r\n", 400, "header_underscore");
	refused(H "X A: b\r\n\r\n", 400, "header_name_invalid");
	refused(H "X: a\x01" "b\r\n\r\n", 400, "control_char");
	refused("GET / HTTP/1.1\nHost: a\n\n", 400, "bare_lf");
	refused(H "X: a\rb\r\n\r\n", 400, "bare_cr");
	refused("GET / HTTP/1.1\r\n\r\n", 400, "host_missing");
	refused(H "Host: b\r\n\r\n", 400, "host_multiple");
	refused("GET / HTTP/1.1\r\nHost: a b\r\n\r\n", 400, "host_invalid");
	refused("GET http://b/x HTTP/1.1\r\nHost: a\r\n\r\n", 400,
	    "host_mismatch");
	refused("GET * HTTP/1.1\r\nHost: a\r\n\r\n", 400, "target_form");
	refused("FOO / HTTP/1.1\r\nHost: a\r\n\r\n", 400, "bad_method");
	refused("GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505, "http_version");
	refused("TRACE / HTTP/1.1\r\nHost: a\r\n\r\n", 405,
	    "method_not_allowed");
	refused("CONNECT a:443 HTTP/1.1\r\nHost: a\r\n\r\n", 405,
	    "method_not_allowed");
	refused(H "Expect: magic\r\n\r\n", 417, "expect_unsupported");
}

static void
test_paths(void **state)
{
	(void)state;
	refused("GET /a/../../etc HTTP/1.1\r\nHost: a\r\n\r\n", 400,
	    "path_escape");
	refused("GET /a%2Fb HTTP/1.1\r\nHost: a\r\n\r\n", 400,
	    "path_encoded_slash");
	refused("GET /#x HTTP/1.1\r\nHost: a\r\n\r\n", 400, "path_fragment");
}

static void
test_limits(void **state)
{
	char	buf[2048];

	(void)state;
	memset(buf, 'a', sizeof(buf));
	memcpy(buf, "GET /", 5);
	buf[sizeof(buf) - 1] = '\0';
	refused(buf, 414, "uri_too_long");
	(void)snprintf(buf, sizeof(buf), H "X: %01400d\r\n\r\n", 0);
	refused(buf, 431, "header_too_large");
	refused(H "A: 1\r\nB: 1\r\nC: 1\r\nD: 1\r\nE: 1\r\nF: 1\r\nG: 1\r\n"
	    "H: 1\r\n\r\n", 431, "too_many_headers");
	refused("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1000\r\n\r\n",
	    413, "body_too_large");
	(void)snprintf(buf, sizeof(buf), "POST / HTTP/1.1\r\nHost: a\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n80\r\n%0128d\r\n0\r\n\r\n", 0);
	refused(buf, 413, "body_too_large");
}

static void
test_accepted(void **state)
{
	struct parsed	 p;
	const char	*s = "\r\nGET /a/./b//c?x=1 HTTP/1.1\r\n"
	    "Host: Example.COM:443\r\nAccept: */*\r\n\r\nGET /next";

	(void)state;
	parse(&p, s, strlen(s));
	assert_int_equal(p.r, REQUEST_DONE);
	assert_string_equal(p.req->path, "/a/b/c");
	assert_string_equal(p.req->query, "x=1");
	assert_string_equal(p.req->host, "example.com");
	assert_string_equal(request_header(p.req, "ACCEPT"), "*/*");
	assert_int_equal(evbuffer_get_length(p.in), 9);	/* pipelined */
	done(&p);
}

static void
test_bodies(void **state)
{
	struct parsed	 p;
	const char	*cl = "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5"
	    "\r\n\r\nhelloGET / HTTP/1.1\r\n";
	const char	*ch = "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: "
	    "chunked\r\n\r\n2;x=y\r\nhe\r\n3\r\nllo\r\n0\r\nT: 1\r\n\r\nGET";

	(void)state;
	parse(&p, cl, strlen(cl));
	assert_int_equal(p.r, REQUEST_DONE);
	assert_int_equal(evbuffer_get_length(p.out), 5);
	assert_int_equal(evbuffer_get_length(p.in), 16);
	done(&p);
	parse(&p, ch, strlen(ch));
	assert_int_equal(p.r, REQUEST_DONE);
	assert_int_equal(p.req->body_bytes, 5);
	/* framed again for the upstream: what one call decoded is one
	 * chunk; no extension, no trailer */
	assert_int_equal(evbuffer_get_length(p.out),
	    strlen("5\r\nhello\r\n0\r\n\r\n"));
	assert_memory_equal(evbuffer_pullup(p.out, -1),
	    "5\r\nhello\r\n0\r\n\r\n", 15);
	assert_int_equal(evbuffer_get_length(p.in), 3);
	done(&p);
}

static void
test_incomplete(void **state)
{
	struct parsed	p;

	(void)state;
	parse(&p, H "Accept: x", strlen(H "Accept: x"));
	assert_int_equal(p.r, REQUEST_MORE);
	assert_null(p.req->reason);
	done(&p);
}

/* Every Cookie line, in order, as one list (RFC 9113 8.2.3). */
/*
 * Every control byte (and DEL, NUL, a bare CR) at every offset of a
 * value long enough to cross the pre-scan's 16-byte steps is refused,
 * and HTAB and bytes of 0x80 and up anywhere are not.
 */
static void
test_prescan_offsets(void **state)
{
	static const struct {
		unsigned char	 c;
		const char	*reason;
	} bad[] = {
		{ 0x00, "nul_in_head" }, { 0x01, "control_char" },
		{ 0x08, "control_char" }, { 0x0b, "control_char" },
		{ 0x0d, "bare_cr" }, { 0x1f, "control_char" },
		{ 0x7f, "control_char" },
	};
	char		 head[200];
	size_t		 i, k, n, at;
	struct parsed	 p;

	(void)state;
	for (k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		for (at = 0; at < 40; at++) {
			n = (size_t)snprintf(head, sizeof(head), "%s", H "X: ");
			for (i = 0; i < 40; i++)
				head[n++] = i == at ? (char)bad[k].c : 'v';
			memcpy(head + n, "\r\n\r\n", 4);
			n += 4;
			parse(&p, head, n);
			assert_int_equal(p.r, REQUEST_ERROR);
			assert_string_equal(p.req->reason, bad[k].reason);
			done(&p);
		}
	}
	for (at = 0; at < 40; at++) {
		n = (size_t)snprintf(head, sizeof(head), "%s", H "X: ");
		for (i = 0; i < 40; i++)
			head[n++] = i == at ? '\t' : i == 39 - at ? (char)0xe9 :
			    'v';
		memcpy(head + n, "\r\n\r\n", 4);
		n += 4;
		parse(&p, head, n);
		assert_int_equal(p.r, REQUEST_DONE);
		done(&p);
	}
}

/* A request reset for the next head keeps nothing of the previous one. */
static void
test_reset_reuses(void **state)
{
	static const char first[] = "POST /a/b?x=1 HTTP/1.1\r\nHost: one\r\n"
	    "Cookie: a=1\r\nCookie: b=2\r\nContent-Length: 3\r\n"
	    "X-Long: " "0123456789012345678901234567890123456789" "\r\n\r\nabc";
	static const char second[] = "GET /c HTTP/1.1\r\nHost: two\r\n\r\n";
	struct request_limits lim = { 0 };
	struct request	*req;
	struct evbuffer	*in, *out;

	(void)state;
	request_limits_defaults(&lim);
	assert_non_null(req = request_new(&lim));
	assert_non_null(in = evbuffer_new());
	assert_non_null(out = evbuffer_new());
	evbuffer_add(in, first, sizeof(first) - 1);
	assert_int_equal(request_parse_head(req, in), REQUEST_DONE);
	assert_int_equal(request_parse_body(req, in, out, 100), REQUEST_DONE);
	assert_string_equal(req->host, "one");
	assert_string_equal(req->query, "x=1");
	assert_string_equal(request_cookies(req), "a=1; b=2");
	request_reset(req, &lim);
	evbuffer_add(in, second, sizeof(second) - 1);
	assert_int_equal(request_parse_head(req, in), REQUEST_DONE);
	assert_true(req->complete);
	assert_int_equal(req->method, HTTP_GET);
	assert_string_equal(req->host, "two");
	assert_string_equal(req->path, "/c");
	assert_null(req->query);
	assert_null(request_cookies(req));
	assert_int_equal(req->nheaders, 1);
	assert_false(req->has_length);
	assert_null(request_header(req, "x-long"));
	request_free(req);
	evbuffer_free(in);
	evbuffer_free(out);
}

static void
test_cookie_lines(void **state)
{
	static const char one[] = H "Cookie: a=1\r\n\r\n";
	static const char three[] = H "Cookie: a=1\r\nX: y\r\n"
	    "cookie:  b=2; c=3 \r\nCookie:\r\nCOOKIE: d=4\r\n\r\n";
	static const char none[] = H "X-Cookie: a=1\r\n\r\n";
	struct parsed	p;

	(void)state;
	parse(&p, one, sizeof(one) - 1);
	assert_int_equal(p.r, REQUEST_DONE);
	assert_string_equal(request_cookies(p.req), "a=1");
	done(&p);
	parse(&p, three, sizeof(three) - 1);
	assert_int_equal(p.r, REQUEST_DONE);
	assert_string_equal(request_cookies(p.req), "a=1; b=2; c=3; d=4");
	done(&p);
	parse(&p, none, sizeof(none) - 1);
	assert_int_equal(p.r, REQUEST_DONE);
	assert_null(request_cookies(p.req));
	done(&p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cookie_lines),
		cmocka_unit_test(test_prescan_offsets),
		cmocka_unit_test(test_reset_reuses),
		cmocka_unit_test(test_limits_defaults),
		cmocka_unit_test(test_smuggling),
		cmocka_unit_test(test_chunked_lenient),
		cmocka_unit_test(test_chunked_reframed),
		cmocka_unit_test(test_malformed_heads),
		cmocka_unit_test(test_paths),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_accepted),
		cmocka_unit_test(test_bodies),
		cmocka_unit_test(test_incomplete),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
