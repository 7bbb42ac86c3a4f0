/*
 * pages.c: the frame of the flows' HTML pages (every value escaped, the
 * style carrying the nonce, the logo only when branded) and the template
 * filler under it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <event2/buffer.h>

#include "pages.h"

/* Everything in <b> as a string; <b> is drained. */
static char *
drain(struct evbuffer *b)
{
	size_t	 n = evbuffer_get_length(b);
	char	*s = malloc(n + 1);

	assert_non_null(s);
	evbuffer_remove(b, s, n);
	s[n] = '\0';
	return s;
}

static void
test_begin(void **state)
{
	struct pages_frame f = { .product = "Acme <\"Gate\">",
	    .color = "#12ab56", .nonce = "bm9uY2U=",
	    .logo_url = "https://cdn.example/l.png?a=1&b='2'" };
	struct evbuffer	*b = evbuffer_new();
	char		*s;

	(void)state;
	assert_int_equal(pages_begin(b, &f, "Reset <yours>"), 0);
	s = drain(b);
	assert_int_equal(strncmp(s, "<!doctype html>\n<html lang=\"en\">", 32),
	    0);
	assert_non_null(strstr(s, "<title>Reset &lt;yours&gt; - Acme "
	    "&lt;&quot;Gate&quot;&gt;</title>\n"));
	assert_non_null(strstr(s, "<style nonce=\"bm9uY2U=\">\n"));
	assert_non_null(strstr(s, ":root{--brand:#12ab56}\n"));
	assert_non_null(strstr(s, "<meta name=\"referrer\" "
	    "content=\"same-origin\">"));
	assert_non_null(strstr(s, "<body><main>\n<img class=\"logo\" "
	    "src=\"https://cdn.example/l.png?a=1&amp;b=&#39;2&#39;\" "
	    "alt=\"\">\n"));
	assert_null(strstr(s, "<script"));
	assert_null(strstr(s, "{{"));
	assert_null(strstr(s, "</main>"));	/* the caller closes it */
	free(s);
	/* unbranded: no logo at all */
	f.logo_url = NULL;
	assert_int_equal(pages_begin(b, &f, "T"), 0);
	s = drain(b);
	assert_null(strstr(s, "<img"));
	assert_string_equal(s + strlen(s) - strlen("</style></head>\n"
	    "<body><main>\n"), "</style></head>\n<body><main>\n");
	free(s);
	evbuffer_free(b);
}

static void
test_escape_and_fill(void **state)
{
	static const char *const keys[] = { "a", "bb", NULL };
	const char	*vals[] = { "<&>\"'", NULL };
	struct evbuffer	*b = evbuffer_new();
	char		*s;

	(void)state;
	assert_int_equal(pages_escape(b, "x<y>&\"'z"), 0);
	s = drain(b);
	assert_string_equal(s, "x&lt;y&gt;&amp;&quot;&#39;z");
	free(s);
	assert_int_equal(pages_escape(b, ""), 0);
	assert_int_equal(evbuffer_get_length(b), 0);
	assert_int_equal(pages_fill(b, "[{{a}}|{{bb}}|{{a}}] {x}", keys,
	    vals), 0);
	s = drain(b);
	assert_string_equal(s, "[&lt;&amp;&gt;&quot;&#39;||&lt;&amp;&gt;"
	    "&quot;&#39;] {x}");
	free(s);
	/* a template naming a key without a value is refused */
	assert_int_equal(pages_fill(b, "{{a}}{{c}}", keys, vals), -1);
	evbuffer_free(b);
}

/* One send of <r> into a string (head and body). */
static char *
send_str(const struct pages_resp *r)
{
	struct evbuffer	*b = evbuffer_new();
	char		*s;

	assert_true(pages_send(b, r) > 0);
	s = drain(b);
	evbuffer_free(b);
	return s;
}

static void
test_error_json_shape(void **state)
{
	struct pages_resp r = { .status = 404, .request_id =
	    "0123456789abcdef0123456789abcdef", .keep_alive = 1 };
	char	*s;

	(void)state;
	s = send_str(&r);
	assert_non_null(strstr(s, "\r\n\r\n{\"error\":\"not_found\","
	    "\"message\":\"There is nothing here.\",\"request_id\":"
	    "\"0123456789abcdef0123456789abcdef\"}\n"));
	assert_non_null(strstr(s, "Content-Type: application/json\r\n"));
	free(s);
	/* a chosen code: its message, JSON even for a browser */
	r.status = 403;
	r.error = "insufficient_scope";
	r.html = 1;
	r.account = "a@b.example";
	s = send_str(&r);
	assert_non_null(strstr(s, "{\"error\":\"insufficient_scope\","
	    "\"message\":\"The API key lacks a scope this request needs.\""));
	assert_null(strstr(s, "a@b.example"));
	free(s);
	/* a status without a row: a code by class */
	r = (struct pages_resp){ .status = 418 };
	s = send_str(&r);
	assert_non_null(strstr(s, "{\"error\":\"bad_request\","));
	free(s);
}

static void
test_error_page(void **state)
{
	struct pages_frame f = { .product = "Acme", .color = "#123456",
	    .logo_url = "/l.png" };
	struct pages_resp r = { .status = 403, .html = 1, .frame = &f,
	    .request_id = "ab<c", .account = "x\"<script>@e.example" };
	char	*s;

	(void)state;
	s = send_str(&r);
	assert_non_null(strstr(s, "<meta name=\"viewport\" content=\""
	    "width=device-width, initial-scale=1\">"));
	assert_non_null(strstr(s, "<title>Access denied - Acme</title>"));
	assert_non_null(strstr(s, ":root{--brand:#123456}"));
	assert_non_null(strstr(s, "<img class=\"logo\" src=\"/l.png\""));
	assert_non_null(strstr(s, "signed in as <strong>x&quot;&lt;script&gt;"
	    "@e.example</strong>"));
	assert_null(strstr(s, "<script>"));
	assert_non_null(strstr(s, "href=\"/.postern/logout\""));
	assert_non_null(strstr(s, "<code>ab&lt;c</code>"));
	free(s);
	/* 421: no way back into an app that is not there */
	r = (struct pages_resp){ .status = 421, .html = 1, .retry_after = 5 };
	s = send_str(&r);
	assert_non_null(strstr(s, "<h1>No app here</h1>"));
	assert_non_null(strstr(s, "- Postern</title>"));
	assert_null(strstr(s, "href=\"/\""));
	assert_null(strstr(s, "try again in"));
	free(s);
	r = (struct pages_resp){ .status = 429, .html = 1, .retry_after = 61 };
	s = send_str(&r);
	assert_non_null(strstr(s, "Please try again in 2 minutes."));
	free(s);
}

static void
test_wait_text(void **state)
{
	char	b[32];

	(void)state;
	assert_string_equal(pages_wait_text(NULL, 1, b, sizeof(b)), "1 second");
	assert_string_equal(pages_wait_text(NULL, 59, b, sizeof(b)), "59 seconds");
	assert_string_equal(pages_wait_text(NULL, 60, b, sizeof(b)), "1 minute");
	assert_string_equal(pages_wait_text(NULL, 61, b, sizeof(b)), "2 minutes");
	assert_string_equal(pages_wait_text(NULL, 3600, b, sizeof(b)), "1 hour");
	assert_string_equal(pages_wait_text(NULL, 3601, b, sizeof(b)), "2 hours");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_begin),
		cmocka_unit_test(test_escape_and_fill),
		cmocka_unit_test(test_error_json_shape),
		cmocka_unit_test(test_error_page),
		cmocka_unit_test(test_wait_text),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
