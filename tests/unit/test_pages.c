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

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_begin),
		cmocka_unit_test(test_escape_and_fill),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
