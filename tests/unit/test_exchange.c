/*
 * exchange.c: the one keep-alive rule (every combination of what the
 * client asked, draining, the body and a streamed response) and that
 * exchange_reset() leaves nothing of a request behind.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <event2/buffer.h>

#include "exchange.h"
#include "rcstr.h"
#include "request.h"

/* A request parsed from the head <head>. */
static struct request *
parse(const char *head)
{
	struct request_limits lim = { 0 };
	struct request	*req;
	struct evbuffer	*in = evbuffer_new();

	request_limits_defaults(&lim);
	assert_non_null(in);
	assert_non_null(req = request_new(&lim));
	assert_int_equal(evbuffer_add(in, head, strlen(head)), 0);
	assert_int_equal(request_parse_head(req, in), REQUEST_DONE);
	evbuffer_free(in);
	return req;
}

static const struct {
	const char	*head;
	int		 client_keeps;	/* what the client asked */
} heads[] = {
	{ "GET / HTTP/1.1\r\nHost: a\r\n\r\n", 1 },
	{ "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", 0 },
	{ "GET / HTTP/1.0\r\nHost: a\r\n\r\n", 0 },
	{ "GET / HTTP/1.0\r\nHost: a\r\nConnection: keep-alive\r\n\r\n", 1 },
};

static void
test_keep_alive_table(void **state)
{
	struct exchange	 ex;
	size_t		 i;
	int		 draining, body, streaming;

	(void)state;
	for (i = 0; i < sizeof(heads) / sizeof(heads[0]); i++)
		for (draining = 0; draining < 2; draining++)
			for (body = 0; body < 2; body++)
				for (streaming = 0; streaming < 2;
				    streaming++) {
		memset(&ex, 0, sizeof(ex));
		ex.req = parse(heads[i].head);
		ex.body_done = body;
		assert_int_equal(exchange_keep_alive(&ex, draining,
		    streaming), heads[i].client_keeps && !draining &&
		    (body || streaming));
		exchange_reset(&ex);
				}
}

static void
test_keep_alive_no_request(void **state)
{
	struct exchange	ex = { .body_done = 1 };

	(void)state;
	assert_int_equal(exchange_keep_alive(&ex, 0, 1), 0);
}

static void
test_reset_clears_the_request(void **state)
{
	struct exchange	 ex = { 0 };
	struct client	*clt = (struct client *)(uintptr_t)&ex;	/* a tag */

	(void)state;
	ex.clt = clt;
	ex.req = parse("POST /x HTTP/1.1\r\nHost: a\r\n"
	    "Content-Length: 3\r\n\r\n");
	ex.app = (const struct config_app *)(uintptr_t)&ex;
	ex.ident = malloc(16);
	ex.up.assertion_ref = rcstr_new("a.b.c", 5);
	ex.up.assertion = ex.up.assertion_ref->s;
	ex.up.user = "u";
	ex.form = evbuffer_new();
	ex.status = 200;
	ex.bytes = 10;
	ex.head_sent = 1;
	ex.seen_bytes = 1;
	ex.rate_checked = 1;
	ex.deny_line = 3;
	ex.deny_file = "f";
	(void)strcpy(ex.tenant, "acme");
	(void)strcpy(ex.tenant_role, "admin");
	(void)strcpy(ex.deny_user, "u1");
	ex.keep_alive = 1;
	ex.body_done = 1;
	exchange_reset(&ex);
	assert_ptr_equal(ex.clt, clt);
	assert_null(ex.req);
	assert_null(ex.app);
	assert_null(ex.ident);
	assert_null(ex.up.assertion);
	assert_null(ex.up.assertion_ref);
	assert_null(ex.up.user);
	assert_null(ex.form);
	assert_null(ex.form_cb);
	assert_int_equal(ex.status, 0);
	assert_int_equal(ex.bytes, 0);
	assert_int_equal(ex.head_sent, 0);
	assert_int_equal(ex.seen_bytes, 0);
	assert_int_equal(ex.rate_checked, 0);
	assert_int_equal(ex.deny_line, 0);
	assert_null(ex.deny_file);
	assert_string_equal(ex.tenant, "");
	assert_string_equal(ex.tenant_role, "");
	assert_string_equal(ex.deny_user, "");
	/* what describes the connection after the request stays */
	assert_int_equal(ex.keep_alive, 1);
	assert_int_equal(ex.body_done, 1);
	exchange_reset(&ex);		/* idempotent */
	assert_null(ex.req);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keep_alive_table),
		cmocka_unit_test(test_keep_alive_no_request),
		cmocka_unit_test(test_reset_clears_the_request),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
