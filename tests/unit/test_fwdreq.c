/*
 * fwdreq.c and request_retarget(): the original request of a forward-auth
 * decision is read from one spelling or the other, conflicting copies are
 * refused, and the target is split and normalised with the refusals of a
 * request line.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <event2/buffer.h>

#include "fwdreq.h"
#include "request.h"

/* The head <headers> (CRLF-separated lines) on GET /.postern/auth. */
static struct request *
head(const char *headers)
{
	struct request_limits lim = { 0 };
	struct request	*req;
	struct evbuffer	*in = evbuffer_new();

	request_limits_defaults(&lim);
	assert_non_null(req = request_new(&lim));
	evbuffer_add_printf(in, "GET /.postern/auth HTTP/1.1\r\n"
	    "Host: gw.test:9180\r\n%s\r\n", headers);
	assert_int_equal(request_parse_head(req, in), REQUEST_DONE);
	evbuffer_free(in);
	return req;
}

/* fwdreq_read() of <headers> refuses with <reason>. */
static void
refused(const char *headers, const char *reason)
{
	struct request	*req = head(headers);
	struct fwdreq	 f;
	const char	*r;

	assert_int_equal(fwdreq_read(req, &f, &r), -1);
	assert_string_equal(r, reason);
	request_free(req);
}

static void
test_traefik_spelling(void **state)
{
	struct request	*req = head("X-Forwarded-Method: POST\r\n"
	    "X-Forwarded-Uri: /a/../b?x=1\r\nX-Forwarded-Host: App.Test:8443\r\n"
	    "X-Forwarded-Proto: https\r\n");
	struct fwdreq	 f;
	const char	*r;

	(void)state;
	assert_int_equal(fwdreq_read(req, &f, &r), 0);
	assert_null(r);
	assert_string_equal(f.method, "POST");
	assert_string_equal(f.uri, "/a/../b?x=1");
	assert_string_equal(f.host, "App.Test:8443");
	assert_int_equal(f.https, 1);
	assert_int_equal(f.nginx, 0);
	assert_int_equal(request_retarget(req, f.method, f.host, f.uri), 0);
	assert_int_equal(req->method, HTTP_POST);
	assert_string_equal(req->method_name, "POST");
	assert_string_equal(req->path, "/b");
	assert_string_equal(req->query, "x=1");
	assert_string_equal(req->host, "app.test");
	request_free(req);
}

static void
test_nginx_spelling_and_defaults(void **state)
{
	struct request	*req = head("X-Original-URI: /x\r\n"
	    "X-Forwarded-Uri: /x\r\n");	/* the same twice is one */
	struct fwdreq	 f;
	const char	*r;

	(void)state;
	assert_int_equal(fwdreq_read(req, &f, &r), 0);
	assert_int_equal(f.nginx, 0);	/* X-Forwarded-Uri was there */
	assert_string_equal(f.method, "GET");	/* the sub-request's */
	assert_string_equal(f.host, "gw.test:9180");	/* its Host */
	assert_int_equal(f.https, -1);
	request_free(req);
	req = head("X-Original-URI: /x\r\nX-Original-Method: HEAD\r\n");
	assert_int_equal(fwdreq_read(req, &f, &r), 0);
	assert_int_equal(f.nginx, 1);
	assert_string_equal(f.method, "HEAD");
	request_free(req);
}

static void
test_conflicts_and_malformed(void **state)
{
	(void)state;
	refused("X-Forwarded-Uri: /a\r\nX-Forwarded-Uri: /b\r\n",
	    "forward_conflict");
	refused("X-Forwarded-Uri: /a\r\nX-Original-URI: /b\r\n",
	    "forward_conflict");
	refused("X-Forwarded-Uri: /a\r\nX-Forwarded-Method: GET\r\n"
	    "X-Original-Method: DELETE\r\n", "forward_conflict");
	refused("X-Forwarded-Uri: /a\r\nX-Forwarded-Proto: https\r\n"
	    "X-Forwarded-Proto: http\r\n", "forward_conflict");
	refused("X-Forwarded-Uri: /a\r\nX-Forwarded-Host: a.test\r\n"
	    "X-Forwarded-Host: b.test\r\n", "forward_conflict");
	refused("X-Forwarded-Host: a.test\r\n", "forward_missing");
	refused("X-Forwarded-Uri: /a b\r\n", "forward_invalid");
	refused("X-Forwarded-Uri: /caf\xc3\xa9\r\n", "forward_invalid");
	refused("X-Forwarded-Uri: /a\r\nX-Forwarded-Proto: ftp\r\n",
	    "forward_invalid");
	refused("X-Forwarded-Uri: /a\r\nX-Forwarded-Proto: https, http\r\n",
	    "forward_invalid");
}

/* request_retarget() of <uri> refuses with <status> and <reason>. */
static void
retarget_refused(const char *method, const char *host, const char *uri,
    int status, const char *reason)
{
	struct request	*req = head("");

	assert_int_equal(request_retarget(req, method, host, uri), -1);
	assert_int_equal(req->status, status);
	assert_string_equal(req->reason, reason);
	request_free(req);
}

static void
test_retarget_refusals(void **state)
{
	(void)state;
	retarget_refused("GET", NULL, "/a%2fb", 400, "path_encoded_slash");
	retarget_refused("GET", NULL, "/../a", 400, "path_escape");
	retarget_refused("GET", NULL, "/a/..;/b", 400, "path_dot_param");
	retarget_refused("GET", NULL, "/a%00", 400, "path_nul");
	retarget_refused("GET", NULL, "/a#frag", 400, "path_fragment");
	retarget_refused("GET", NULL, "*", 400, "target_form");
	retarget_refused("GET", "a.test", "https://b.test/x", 400,
	    "host_mismatch");
	retarget_refused("GET", "a.test/x", "/x", 400, "host_invalid");
	retarget_refused("TRACE", NULL, "/x", 405, "method_not_allowed");
	retarget_refused("CONNECT", NULL, "/x", 405, "method_not_allowed");
	retarget_refused("get", NULL, "/x", 400, "forward_invalid");
	retarget_refused("FETCH", NULL, "/x", 400, "forward_invalid");
}

static void
test_retarget_absolute_and_status(void **state)
{
	struct request	*req = head("");

	(void)state;
	assert_int_equal(request_retarget(req, "DELETE", "a.test",
	    "https://A.test/p/%2e%2e/q"), 0);
	assert_string_equal(req->path, "/q");
	assert_null(req->query);
	assert_string_equal(req->host, "a.test");
	request_free(req);
	assert_int_equal(fwdreq_status(302, 1), 401);
	assert_int_equal(fwdreq_status(303, 1), 401);
	assert_int_equal(fwdreq_status(302, 0), 302);
	assert_int_equal(fwdreq_status(429, 1), 429);
	assert_int_equal(fwdreq_status(200, 1), 200);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_traefik_spelling),
		cmocka_unit_test(test_nginx_spelling_and_defaults),
		cmocka_unit_test(test_conflicts_and_malformed),
		cmocka_unit_test(test_retarget_refusals),
		cmocka_unit_test(test_retarget_absolute_and_status),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
