/*
 * catalog.c and pagetmpl.c: the pages' message catalogue (built-in
 * English and German, files adding and overriding, every malformed file
 * refused with its line and column) and the page templates' checks; and
 * pages.c rendering both in the chosen language, escaped.
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

#include "catalog.h"
#include "pages.h"
#include "pagetmpl.h"

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
test_builtin(void **state)
{
	struct catalog	*c = catalog_new();
	size_t		 de;

	(void)state;
	assert_non_null(c);
	assert_string_equal(catalog_tag(c, 0), "en");
	assert_int_not_equal(de = catalog_find(c, "de"), CATALOG_NONE);
	assert_int_equal(catalog_find(c, "fr"), CATALOG_NONE);
	assert_string_equal(catalog_get(c, 0, "login.title"), "Sign in");
	assert_string_equal(catalog_get(c, de, "login.title"), "Anmelden");
	assert_string_equal(catalog_get(c, de, "error.421.title"),
	    "Keine Anwendung hier");
	/* a built-in English sentence is read as its key */
	assert_string_equal(catalog_get(c, de, "Please wait"),
	    "Bitte warten");
	assert_string_equal(catalog_get(c, 0, "Please wait"), "Please wait");
	assert_string_equal(catalog_get(c, de, "Your account"), "Ihr Konto");
	assert_string_equal(catalog_get(c, de, "Please wait "),
	    "Please wait ");
	/* not a key: comes back as it is */
	assert_string_equal(catalog_get(c, de, "Some sentence."),
	    "Some sentence.");
	assert_string_equal(catalog_get(c, 99, "login.title"), "Sign in");
	assert_int_equal(catalog_pick(c, "de-CH, en;q=0.5", 0), de);
	assert_int_equal(catalog_pick(c, "fr", de), de);
	assert_int_equal(catalog_pick(NULL, "de", 0), de);
	assert_true(catalog_known("error.footer"));
	assert_false(catalog_known("error.nope"));
	catalog_free(c);
}

/* German has every English key (full coverage, nothing falls back). */
static void
test_german_complete(void **state)
{
	const struct catalog *c = catalog_default();
	struct catalog	*probe = catalog_new();
	struct catalog_err e;
	size_t		 de = catalog_find(c, "de");
	static const char *const keys[] = { "back_to_signin", "login.heading",
	    "login.paused_links", "recover.elsewhere", "sso.required.text",
	    "error.504.text", "error.code.insufficient_scope", "wait.hours",
	    "logout.heading", "whoami.text", "magic.intro" };
	size_t		 i;

	(void)state;
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		assert_string_not_equal(catalog_get(c, de, keys[i]),
		    catalog_get(c, 0, keys[i]));
	/* a language with one key falls back to English for the rest */
	assert_int_equal(catalog_parse(probe, "xx", "login.title = X\n", 16,
	    &e), 0);
	assert_string_equal(catalog_get(probe, catalog_find(probe, "xx"),
	    "login.title"), "X");
	assert_string_equal(catalog_get(probe, catalog_find(probe, "xx"),
	    "login.email"), "Email");
	catalog_free(probe);
}

static void
test_parse_and_override(void **state)
{
	struct catalog	*c = catalog_new();
	struct catalog_err e;
	const char	*t = "# comment\n\n  login.title\t=  Einloggen  \r\n"
	    "login.heading = Bei {{product}} einloggen\n";
	size_t		 de;

	(void)state;
	assert_int_equal(catalog_parse(c, "de", t, strlen(t), &e), 0);
	de = catalog_find(c, "de");
	assert_string_equal(catalog_get(c, de, "login.title"), "Einloggen");
	assert_string_equal(catalog_get(c, de, "login.heading"),
	    "Bei {{product}} einloggen");
	assert_string_equal(catalog_get(c, de, "login.email"), "E-Mail");
	assert_int_equal(catalog_parse(c, "pt-br", "login.title = Entrar",
	    20, &e), 0);
	assert_int_equal(catalog_pick(c, "pt", 0), catalog_find(c, "pt-br"));
	catalog_free(c);
}

static void
expect_err(const char *tag, const char *text, size_t len, size_t line,
    size_t col, const char *what)
{
	struct catalog	*c = catalog_new();
	struct catalog_err e = { 0, 0, "" };

	assert_non_null(c);
	assert_int_equal(catalog_parse(c, tag, text, len, &e), -1);
	if (e.line != line || e.col != col || strstr(e.msg, what) == NULL)
		fail_msg("%s: got %zu:%zu: %s", text, e.line, e.col, e.msg);
	/* nothing of the bad file was taken */
	assert_string_equal(catalog_get(c, catalog_find(c, "de"),
	    "login.title"), "Anmelden");
	catalog_free(c);
}

static void
test_errors(void **state)
{
	char	big[CATALOG_FILE_MAX + 2];

	(void)state;
	expect_err("de", "login.title = A\nlogin.title = B\n", 32, 2, 1,
	    "twice");
	expect_err("de", "login.nope = A\n", 15, 1, 1, "unknown message key");
	expect_err("de", "\n\n   Login.title = A\n", 21, 3, 4,
	    "expected a message key");
	expect_err("de", "login.title A\n", 14, 1, 13, "expected '='");
	expect_err("de", "login.title\n", 12, 1, 12, "expected '='");
	expect_err("de", "login.title = a\x01z\n", 18, 1, 16, "control");
	expect_err("de", "login.title = a\xc3(\n", 18, 1, 16, "UTF-8");
	expect_err("de", "login.title = \xed\xa0\x80\n", 18, 1, 15, "UTF-8");
	expect_err("de", "login.title = \xc0\xaf\n", 17, 1, 15, "UTF-8");
	expect_err("de", "login.title = a\0b\n", 18, 1, 16, "control");
	/* a value may only name what the English text names */
	expect_err("de", "login.heading = {{csrf}}\n", 25, 1, 17,
	    "not a value");
	expect_err("de", "login.title = {{product}}\n", 26, 1, 15,
	    "not a value");
	expect_err("de", "login.heading = {{product}\n", 27, 1, 17,
	    "expected {{name}}");
	expect_err("de", "login.heading = {{Product}}\n", 28, 1, 17,
	    "expected {{name}}");
	expect_err("De", "login.title = A\n", 16, 0, 0, "language tag");
	expect_err("../x", "login.title = A\n", 16, 0, 0, "language tag");
	expect_err("d", "login.title = A\n", 16, 0, 0, "language tag");
	memset(big, '#', sizeof(big));
	expect_err("de", big, sizeof(big), 1, 1, "larger than");
}

static void
test_templates_check(void **state)
{
	struct catalog_err e;
	const char	*ok = "<p>{{t:login.title}} {{csrf}}{{alert}}</p>\n";
	const char	*bad = "<p>\n  {{csrf}} {{secret}}</p>";

	(void)state;
	assert_string_equal(pagetmpl_name(PAGETMPL_LOGIN), "login.html");
	assert_string_equal(pagetmpl_name(PAGETMPL_ERROR), "error.html");
	assert_int_equal(pagetmpl_check(PAGETMPL_LOGIN, ok, strlen(ok), &e), 0);
	assert_int_equal(pagetmpl_check(PAGETMPL_LOGIN, bad, strlen(bad), &e),
	    -1);
	assert_int_equal(e.line, 2);
	assert_int_equal(e.col, 12);
	assert_non_null(strstr(e.msg, "{{secret}}"));
	/* a key of another template is not this one's */
	assert_int_equal(pagetmpl_check(PAGETMPL_ERROR, ok, strlen(ok), &e),
	    -1);
	assert_int_equal(pagetmpl_check(PAGETMPL_ERROR, "{{t:nope}}", 10, &e),
	    -1);
	assert_int_equal(pagetmpl_check(PAGETMPL_ERROR, "a {{title", 9, &e),
	    -1);
	assert_int_equal(e.col, 3);
	assert_int_equal(pagetmpl_check(PAGETMPL_ERROR, "a\0b", 3, &e), -1);
	/* the built-ins pass their own check */
	for (int id = 0; id < PAGETMPL_N; id++) {
		const char *t = pagetmpl_text(NULL, (enum pagetmpl_id)id);

		assert_int_equal(pagetmpl_check((enum pagetmpl_id)id, t,
		    strlen(t), &e), 0);
	}
}

static void
test_render_german(void **state)
{
	const struct catalog *c = catalog_default();
	struct pages_frame f = { .product = "Acme <x>", .color = "#123456",
	    .nonce = "n", .cat = c, .lang = catalog_find(c, "de") };
	struct pages_resp r = { .status = 429, .request_id = "abc",
	    .html = 1, .retry_after = 120, .frame = &f };
	struct evbuffer	*b = evbuffer_new();
	char		*s;

	(void)state;
	assert_int_equal(pages_begin(b, &f, "login.title"), 0);
	s = drain(b);
	assert_non_null(strstr(s, "<html lang=\"de\">"));
	assert_non_null(strstr(s, "<title>Anmelden - Acme &lt;x&gt;</title>"));
	free(s);
	assert_true(pages_send(b, &r) > 0);
	s = drain(b);
	assert_non_null(strstr(s, "Content-Language: de\r\n"));
	assert_non_null(strstr(s, "Vary: Accept-Language\r\n"));
	assert_non_null(strstr(s, "<h1>Bitte warten</h1>"));
	assert_non_null(strstr(s, "in 2 Minuten erneut"));
	assert_non_null(strstr(s, "Fehler 429. Anfrage-ID: <code>abc</code>"));
	free(s);
	/* JSON stays English, for programs, without Content-Language */
	r.html = 0;
	assert_true(pages_send(b, &r) > 0);
	s = drain(b);
	assert_null(strstr(s, "Content-Language"));
	assert_non_null(strstr(s, "\"message\":\"Too many requests."));
	free(s);
	/* a 403's account is escaped inside the German sentence */
	r.html = 1;
	r.status = 403;
	r.account = "<b>@x";
	assert_true(pages_send(b, &r) > 0);
	s = drain(b);
	assert_non_null(strstr(s, "Sie sind angemeldet als <strong>&lt;b&gt;@x"
	    "</strong>."));
	assert_null(strstr(s, "<b>@x"));
	free(s);
	evbuffer_free(b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_builtin),
		cmocka_unit_test(test_german_complete),
		cmocka_unit_test(test_parse_and_override),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_templates_check),
		cmocka_unit_test(test_render_german),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
