/*
 * path.c: the normalised path is what both policy and upstream see, so every
 * way of spelling the same or an escaping path is pinned down here.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "path.h"

static void
ok(const char *in, const char *want)
{
	enum path_error	 e = PATH_NOMEM;
	char		*out;

	out = path_normalize(in, strlen(in), &e);
	if (out == NULL)
		fail_msg("%s: refused (%s), wanted %s", in,
		    path_error_reason(e), want);
	assert_int_equal(e, PATH_OK);
	assert_string_equal(out, want);
	free(out);
}

static void
bad_len(const char *in, size_t len, enum path_error want)
{
	enum path_error	 e = PATH_OK;
	char		*out;

	out = path_normalize(in, len, &e);
	if (out != NULL)
		fail_msg("%s: accepted as %s, wanted %s", in, out,
		    path_error_reason(want));
	assert_int_equal(e, want);
}

static void
bad(const char *in, enum path_error want)
{
	bad_len(in, strlen(in), want);
}

static void
test_plain(void **state)
{
	(void)state;
	ok("/", "/");
	ok("/a", "/a");
	ok("/a/b/c", "/a/b/c");
	ok("/a/b/", "/a/b/");
	ok("/index.html", "/index.html");
	ok("/a-b_c~d.e", "/a-b_c~d.e");
	ok("/a;b=c", "/a;b=c");
	ok("/a:b@c!$&'()*+,=", "/a:b@c!$&'()*+,=");
	ok("/...", "/...");
	ok("/a/.../b", "/a/.../b");
	ok("/.well-known/x", "/.well-known/x");
	ok("/a..b/c", "/a..b/c");
}

static void
test_dot_segments(void **state)
{
	(void)state;
	ok("/a/./b", "/a/b");
	ok("/a/b/../c", "/a/c");
	ok("/a/b/c/../../d", "/a/d");
	ok("/a/..", "/");
	ok("/a/../", "/");
	ok("/a/.", "/a/");
	ok("/a/./", "/a/");
	ok("/.", "/");
	ok("/./", "/");
	ok("/./a", "/a");
	ok("/a/b/..", "/a/");
	ok("/a/b/./../c/", "/a/c/");
	ok("/a/./b//c", "/a/b/c");
}

static void
test_slash_collapse(void **state)
{
	(void)state;
	ok("//", "/");
	ok("//a", "/a");
	ok("/a//b", "/a/b");
	ok("/a///b///", "/a/b/");
	ok("///a/..//b", "/b");
}

static void
test_escapes(void **state)
{
	(void)state;
	ok("/%61%62c", "/abc");		/* unreserved: decoded */
	ok("/%7E%2D%2E%5F", "/~-._");
	ok("/%7e", "/~");
	ok("/a%20b", "/a%20b");		/* reserved/other: kept */
	ok("/a%3fb", "/a%3Fb");		/* upper-cased */
	ok("/%25", "/%25");		/* no double decoding */
	ok("/%25x1", "/%25x1");
	ok("/100%25/", "/100%25/");
	ok("/%c3%a9", "/%C3%A9");
	ok("/caf\xc3\xa9", "/caf%C3%A9");	/* raw UTF-8: escaped */
	ok("/a b", "/a%20b");
	ok("/%41/%2e%2e/b", "/b");	/* %2E is ".": a dot-segment */
	ok("/a/%2e/b", "/a/b");
	ok("/a/.%2E/b", "/b");
}

static void
test_refused(void **state)
{
	(void)state;
	bad("", PATH_EMPTY);
	bad("a", PATH_NOT_ABSOLUTE);
	bad("*", PATH_NOT_ABSOLUTE);
	bad("http://x/", PATH_NOT_ABSOLUTE);
	bad("/..", PATH_ESCAPE_ROOT);
	bad("/../", PATH_ESCAPE_ROOT);
	bad("/a/../..", PATH_ESCAPE_ROOT);
	bad("/a/../../etc", PATH_ESCAPE_ROOT);
	bad("/a/b/../../../c", PATH_ESCAPE_ROOT);
	bad("/%2e%2e/x", PATH_ESCAPE_ROOT);
	bad("/%2E%2E", PATH_ESCAPE_ROOT);
	bad("/.%2e/", PATH_ESCAPE_ROOT);
	bad("//..", PATH_ESCAPE_ROOT);
	bad("/a%2Fb", PATH_ENCODED_SLASH);
	bad("/a%2fb", PATH_ENCODED_SLASH);
	bad("/a\\b", PATH_BACKSLASH);
	bad("/a%5Cb", PATH_BACKSLASH);
	bad("/a%5cb", PATH_BACKSLASH);
	bad("/a%00", PATH_NUL);
	bad_len("/a\0b", 4, PATH_NUL);
	bad("/a%0Ab", PATH_CONTROL);
	bad("/a%0d", PATH_CONTROL);
	bad("/a%7F", PATH_CONTROL);
	bad("/a\tb", PATH_CONTROL);
	bad("/a\rb", PATH_CONTROL);
	bad("/a\x7f", PATH_CONTROL);
	bad("/a%", PATH_BAD_ESCAPE);
	bad("/a%4", PATH_BAD_ESCAPE);
	bad("/a%G1", PATH_BAD_ESCAPE);
	bad("/a%1G", PATH_BAD_ESCAPE);
	bad("/a%%41", PATH_BAD_ESCAPE);
	bad("/a#b", PATH_FRAGMENT);
	bad("/#", PATH_FRAGMENT);
	bad("/a/..;/b", PATH_DOT_PARAM);
	bad("/a/.;/b", PATH_DOT_PARAM);
	bad("/..;x", PATH_DOT_PARAM);
}

/* ";" however spelled is one ";": what the matcher cuts, the upstream gets. */
static void
test_semicolon(void **state)
{
	(void)state;
	ok("/a%3Bb", "/a;b");
	ok("/a%3bb", "/a;b");
	ok("/admin%3bx", "/admin;x");
	ok("/admin%3B", "/admin;");
	ok("/admin;x/..", "/");		/* the ";" segment is popped */
	ok("/admin%3Bx/../y", "/y");
	ok("/a;x/b;y", "/a;x/b;y");
	bad("/a/..%3B/b", PATH_DOT_PARAM);
	bad("/a/.%3b/b", PATH_DOT_PARAM);
	bad("/a/%2e%2e%3Bx/b", PATH_DOT_PARAM);
	bad("/%2E%3B", PATH_DOT_PARAM);
}

/* A second decoding by the upstream must not find anything new. */
static void
test_double_encoding(void **state)
{
	(void)state;
	bad("/admin%253Bx", PATH_DOUBLE_ENCODED);
	bad("/a%252Fb", PATH_DOUBLE_ENCODED);
	bad("/a%252fb", PATH_DOUBLE_ENCODED);
	bad("/a%255Cb", PATH_DOUBLE_ENCODED);
	bad("/a%2500", PATH_DOUBLE_ENCODED);
	bad("/%252e%252e/x", PATH_DOUBLE_ENCODED);
	bad("/%2541DMIN", PATH_DOUBLE_ENCODED);
	bad("/%25%32%46", PATH_DOUBLE_ENCODED);	/* "%25" "2" "F" decoded */
	bad("/%25%41B", PATH_DOUBLE_ENCODED);
	bad("/%252f", PATH_DOUBLE_ENCODED);
	ok("/%25%7A", "/%25z");
}

/* Overlong UTF-8, raw or escaped: lenient decoders make ASCII of it. */
static void
test_overlong(void **state)
{
	(void)state;
	bad("/a%C0%AFb", PATH_OVERLONG);	/* "/" */
	bad("/a%c0%afb", PATH_OVERLONG);
	bad("/%C0%AE%C0%AE/x", PATH_OVERLONG);	/* ".." */
	bad("/a%C1%9Cb", PATH_OVERLONG);	/* "\\" */
	bad("/a%C1%81", PATH_OVERLONG);		/* "A" */
	bad("/a\xc0\xaf" "b", PATH_OVERLONG);
	bad("/a%E0%80%AFb", PATH_OVERLONG);
	bad("/a%E0%9F%BF", PATH_OVERLONG);
	bad("/a%F0%80%80%AF", PATH_OVERLONG);
	bad("/a%F0%8F%BF%BF", PATH_OVERLONG);
	bad("/a\xe0\x80\xaf", PATH_OVERLONG);
	ok("/%E0%A0%80", "/%E0%A0%80");		/* shortest forms pass */
	ok("/%F0%90%80%80", "/%F0%90%80%80");
	ok("/%C2%A9", "/%C2%A9");
	ok("/%E9t%E9", "/%E9t%E9");		/* Latin-1 octets are kept */
}

/* What a case-folding upstream would read as ASCII the matcher folds not. */
static void
test_fold_check(void **state)
{
	static const char *const amb[] = {
		"/adm%C4%B1n", "/%C4%B0NDEX", "/%C5%BFecret", "/%E2%84%AAey",
		"/admin.", "/admin./x", "/admin..", "/a/admin.;x=1",
		"/admin%20", "/admin%20/x", "/x/...", "/%20",
		"/%EF%BC%A1DMIN", "/adm%EF%BD%89n", "/%EF%BC%81", "/%EF%BD%9E",
	};
	static const char *const fine[] = {
		"/", "/admin", "/admin/", "/a.b/c", "/.well-known/x",
		"/%C3%A9t%C3%A9", "/a%20b", "/a;x.", "/a/;x",
		"/%EF%BC%80", "/%EF%BD%9F", "/%EF%BE%80", "/%EF%B", "/%EF%BC",
		"/%EF%BC%", "/%EF%BC%8",
	};
	size_t	i;

	(void)state;
	for (i = 0; i < sizeof(amb) / sizeof(amb[0]); i++)
		if (path_fold_check(amb[i]) != PATH_CASE_AMBIGUOUS)
			fail_msg("%s: not refused", amb[i]);
	for (i = 0; i < sizeof(fine) / sizeof(fine[0]); i++)
		if (path_fold_check(fine[i]) != PATH_OK)
			fail_msg("%s: refused", fine[i]);
}

static void
test_reasons(void **state)
{
	(void)state;
	assert_string_equal(path_error_reason(PATH_ESCAPE_ROOT),
	    "path_escape");
	assert_string_equal(path_error_reason(PATH_ENCODED_SLASH),
	    "path_encoded_slash");
	assert_string_equal(path_error_reason(PATH_DOUBLE_ENCODED),
	    "path_double_encoded");
	assert_string_equal(path_error_reason(PATH_OVERLONG),
	    "path_overlong_utf8");
	assert_string_equal(path_error_reason(PATH_CASE_AMBIGUOUS),
	    "path_case_ambiguous");
	assert_string_equal(path_error_reason((enum path_error)999),
	    "path_invalid");
}

/* Normalising twice gives the same path: nothing left to reinterpret. */
static void
test_idempotent(void **state)
{
	static const char *const in[] = {
		"/a/./b//c", "/%61%2f", "/a%20b/../c", "/caf\xc3\xa9/",
		"/a/%2e%2E/b/", "/x%3a%3A", "///", "/a/b/c/./../d",
		"/a%3Bb/c", "/%25", "/%C2%A9",
	};
	enum path_error	 e;
	char		*once, *twice;
	size_t		 i;

	(void)state;
	for (i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
		if ((once = path_normalize(in[i], strlen(in[i]), &e)) == NULL)
			continue;
		twice = path_normalize(once, strlen(once), &e);
		assert_non_null(twice);
		assert_string_equal(once, twice);
		free(once);
		free(twice);
	}
}

/* Every single octet after "/": never a crash, never an unsafe output. */
static void
test_all_octets(void **state)
{
	char		 in[3] = "/x";
	char		*out;
	enum path_error	 e;
	int		 c;

	(void)state;
	for (c = 0; c < 256; c++) {
		in[1] = (char)c;
		out = path_normalize(in, 2, &e);
		if (out == NULL)
			continue;
		assert_null(strchr(out, '\\'));
		assert_null(strstr(out, "//"));
		assert_true(out[0] == '/');
		free(out);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain),
		cmocka_unit_test(test_dot_segments),
		cmocka_unit_test(test_slash_collapse),
		cmocka_unit_test(test_escapes),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_semicolon),
		cmocka_unit_test(test_double_encoding),
		cmocka_unit_test(test_overlong),
		cmocka_unit_test(test_fold_check),
		cmocka_unit_test(test_reasons),
		cmocka_unit_test(test_idempotent),
		cmocka_unit_test(test_all_octets),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
