/*
 * audit.c: the canonical encoding and the checks verify applies to every
 * stored line (chaining, tampering, order).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "audit.h"

static const char zero[] = "0000000000000000000000000000000000000000000000"
    "000000000000000000";

/* The stored line of an event (as audit.c keeps them). */
static void
stored(const struct audit_event *ev, uint64_t seq, const char *prev,
    char *line, size_t size, char *hash)
{
	long	len = audit_encode(ev, seq, "2026-11-22T10:00:00.000Z", prev,
		    line, size, hash);

	assert_true(len > 0);
	(void)snprintf(line + len - 1, size - (size_t)len + 1,
	    ",\"hash\":\"%s\"}", hash);
}

static void
test_encoding(void **state)
{
	struct audit_event ev = { .action = "login", .actor = "u1",
	    .target = "a\"b\n", .outcome = "success" };
	char	out[1024], hash[65];

	(void)state;
	assert_true(audit_encode(&ev, 7, "T", zero, out, sizeof(out),
	    hash) > 0);
	assert_string_equal(out, "{\"seq\":\"7\",\"time\":\"T\",\"action\":"
	    "\"login\",\"actor\":\"u1\",\"target\":\"a\\\"b\\n\",\"org\":\"\","
	    "\"ip\":\"\",\"request_id\":\"\",\"outcome\":\"success\","
	    "\"reason\":\"\",\"prev\":\"0000000000000000000000000000000000000"
	    "000000000000000000000000000\"}");
	assert_int_equal(strlen(hash), 64);
	assert_int_equal(audit_encode(&ev, 7, "T", zero, out, 40, hash), -1);
}

static void
test_chain_checks(void **state)
{
	struct audit_event a = { .action = "org_add", .actor = "operator",
	    .target = "acme" };
	struct audit_event b = { .action = "user_add", .actor = "operator",
	    .target = "x@example.com" };
	char	la[1024], lb[1024], ha[65], hb[65], h[65], bad[1024];
	const char *why;

	(void)state;
	stored(&a, 1, zero, la, sizeof(la), ha);
	stored(&b, 2, ha, lb, sizeof(lb), hb);
	assert_int_equal(audit_check_line(la, 1, zero, h, &why), 0);
	assert_string_equal(h, ha);
	assert_int_equal(audit_check_line(lb, 2, ha, h, &why), 0);
	/* out of order, wrong predecessor */
	assert_int_equal(audit_check_line(lb, 1, zero, h, &why), -1);
	assert_int_equal(audit_check_line(lb, 2, zero, h, &why), -1);
	/* a field changed */
	(void)strcpy(bad, la);
	bad[strstr(bad, "acme") - bad] = 'A';
	assert_int_equal(audit_check_line(bad, 1, zero, h, &why), -1);
	assert_string_equal(why, "hash does not match the event");
	/* the hash changed */
	(void)strcpy(bad, la);
	bad[strlen(bad) - 3] = bad[strlen(bad) - 3] == 'a' ? 'b' : 'a';
	assert_int_equal(audit_check_line(bad, 1, zero, h, &why), -1);
	/* malformed */
	assert_int_equal(audit_check_line("", 1, zero, h, &why), -1);
	assert_int_equal(audit_check_line("{\"hash\":\"x\"}", 1, zero, h,
	    &why), -1);
	la[strlen(la) - 1] = '\0';
	assert_int_equal(audit_check_line(la, 1, zero, h, &why), -1);
}

/* The action of a stored line, for the outbox's webhook dispatch. */
static void
test_line_action(void **state)
{
	struct audit_event ev = { .action = "user_disable", .actor = "operator",
	    .target = "a\"action\":\"login@example.com" };
	char	line[1024], hash[AUDIT_HASHLEN + 1], act[64];

	(void)state;
	assert_true(audit_encode(&ev, 7, "2026-11-22T00:00:00Z",
	    "0000000000000000000000000000000000000000000000000000000000000000",
	    line, sizeof(line), hash) > 0);
	assert_int_equal(audit_line_action(line, act, sizeof(act)), 0);
	assert_string_equal(act, "user_disable");	/* not the target's */
	assert_int_equal(audit_line_action("{\"seq\":\"1\"}", act,
	    sizeof(act)), -1);
	assert_int_equal(audit_line_action("{\"seq\":\"1\",\"action\":\"\"}",
	    act, sizeof(act)), -1);
	assert_int_equal(audit_line_action("{\"seq\":\"1\",\"action\":\"Login\"}",
	    act, sizeof(act)), -1);
	assert_int_equal(audit_line_action("{\"seq\":\"1\",\"action\":\"login",
	    act, sizeof(act)), -1);
	assert_int_equal(audit_line_action("{\"seq\":\"1\",\"action\":\"login\"}",
	    act, 5), -1);			/* does not fit */
}

/* A head behind the mark: lower, or the same seq with another hash. */
static void
test_behind(void **state)
{
	const char	*h1 = "1111111111111111111111111111111111111111111111"
	    "111111111111111111";

	(void)state;
	assert_false(audit_behind(0, zero, 0, zero));	/* both empty */
	assert_false(audit_behind(0, zero, 5, h1));	/* nothing marked */
	assert_false(audit_behind(5, h1, 5, h1));	/* the mark itself */
	assert_false(audit_behind(5, h1, 6, zero));	/* ahead */
	assert_true(audit_behind(5, h1, 4, h1));	/* went back */
	assert_true(audit_behind(5, h1, 0, zero));	/* emptied */
	assert_true(audit_behind(5, h1, 5, zero));	/* forked at it */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_encoding),
		cmocka_unit_test(test_chain_checks),
		cmocka_unit_test(test_line_action),
		cmocka_unit_test(test_behind),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
