/*
 * reasons.c: the table is sorted and unique, lookups find every code, and
 * log_event() reports a "reason" code the table lacks (but not a library
 * message passed as the reason's detail).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "reasons.h"

static void
test_sorted_unique(void **state)
{
	size_t	i;

	(void)state;
	assert_true(reason_count() > 100);
	for (i = 1; i < reason_count(); i++)
		assert_true(strcmp(reason_code(i - 1), reason_code(i)) < 0);
	assert_null(reason_code(reason_count()));
}

static void
test_lookup(void **state)
{
	size_t	i;

	(void)state;
	for (i = 0; i < reason_count(); i++) {
		assert_ptr_equal(reason_meaning(reason_code(i)),
		    reason_meaning_at(i));
		assert_false(reason_unknown(reason_code(i)));
	}
	assert_non_null(reason_meaning("upstream_timeout"));
	assert_null(reason_meaning("brand_new_reason"));
	assert_true(reason_unknown("brand_new_reason"));
	assert_false(reason_unknown("Couldn't resolve host name"));
	assert_false(reason_unknown(""));
	assert_false(reason_unknown("429"));
}

/* What log_event() writes to stderr while <fn> runs. */
static char *
captured(void (*fn)(void))
{
	static char	buf[8192];
	FILE		*f;
	int		 saved;
	size_t		 n;

	assert_non_null(f = tmpfile());
	saved = dup(STDERR_FILENO);
	assert_true(saved >= 0);
	assert_true(dup2(fileno(f), STDERR_FILENO) >= 0);
	fn();
	assert_true(dup2(saved, STDERR_FILENO) >= 0);
	close(saved);
	rewind(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static void
log_known(void)
{
	log_event(LOG_LEVEL_WARN, "reject", "reason", "upstream_timeout",
	    (const char *)NULL);
	log_event(LOG_LEVEL_INFO, "webhook", "reason",
	    "Couldn't connect to server", (const char *)NULL);
}

static void
log_new(void)
{
	log_event(LOG_LEVEL_WARN, "reject", "reason", "brand_new_reason",
	    (const char *)NULL);
}

static void
test_log_checks(void **state)
{
	const char	*out;

	(void)state;
	log_init(LOG_LEVEL_DEBUG, LOG_FORMAT_JSON);
	out = captured(log_known);
	assert_non_null(strstr(out, "\"reason\":\"upstream_timeout\""));
	assert_null(strstr(out, "unknown_reason"));
	out = captured(log_new);
	assert_non_null(strstr(out, "\"reason\":\"brand_new_reason\""));
	assert_non_null(strstr(out, "\"level\":\"error\""));
	assert_non_null(strstr(out, "\"event\":\"unknown_reason\""));
	assert_non_null(strstr(out, "\"value\":\"brand_new_reason\""));
}

static void
log_numbers(void)
{
	log_event(LOG_LEVEL_INFO, "request", "status", "200", "bytes_out",
	    "0", "duration_ms", "12.345", "upstream_ms", "-1", "path", "42",
	    (const char *)NULL);
	log_event(LOG_LEVEL_INFO, "request", "status", "2e5", "bytes_in",
	    "007", "duration_ms", "1.", "upstream_ms", ".5", "dropped", "",
	    "attempt", "1\",\"x\":\"y", "smtp_code", "123456789012345678901",
	    (const char *)NULL);
}

/* Keys that hold numbers are written as numbers, when they are ones;
 * nothing else changes type, and nothing can inject a field. */
static void
test_log_numbers(void **state)
{
	const char	*out;

	(void)state;
	log_init(LOG_LEVEL_DEBUG, LOG_FORMAT_JSON);
	out = captured(log_numbers);
	assert_non_null(strstr(out, "\"status\":200,\"bytes_out\":0,"
	    "\"duration_ms\":12.345,\"upstream_ms\":-1,\"path\":\"42\""));
	assert_non_null(strstr(out, "\"status\":\"2e5\",\"bytes_in\":\"007\","
	    "\"duration_ms\":\"1.\",\"upstream_ms\":\".5\",\"dropped\":\"\","
	    "\"attempt\":\"1\\\",\\\"x\\\":\\\"y\",\"smtp_code\":"
	    "\"123456789012345678901\""));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sorted_unique),
		cmocka_unit_test(test_lookup),
		cmocka_unit_test(test_log_checks),
		cmocka_unit_test(test_log_numbers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
