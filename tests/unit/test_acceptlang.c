/*
 * acceptlang.c: which of the pages' languages an Accept-Language header
 * prefers (RFC 9110 section 12.5.4): q-values, q=0 excluding, "*",
 * prefixes both ways, and every malformed or hostile header falling back
 * to the default without a crash.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "acceptlang.h"

static const char *const tags[] = { "en", "de", "fr", "pt-br" };
#define EN	0
#define DE	1
#define FR	2
#define PTBR	3

static size_t
pick(const char *hdr, size_t def)
{
	return acceptlang_pick(hdr, tags, 4, def);
}

static void
test_plain(void **state)
{
	(void)state;
	assert_int_equal(pick("de", EN), DE);
	assert_int_equal(pick("DE", EN), DE);		/* case-insensitive */
	assert_int_equal(pick("fr, de", EN), FR);	/* order on a tie */
	assert_int_equal(pick("de, fr", EN), DE);
	assert_int_equal(pick("en", DE), EN);
	assert_int_equal(pick("  de  ", EN), DE);
	assert_int_equal(pick("de,", EN), DE);
	assert_int_equal(pick(",,de", EN), DE);
}

static void
test_qvalues(void **state)
{
	(void)state;
	assert_int_equal(pick("fr;q=0.5, de;q=0.9", EN), DE);
	assert_int_equal(pick("fr;q=0.5, de", EN), DE);
	assert_int_equal(pick("de;q=0.001, fr;q=0.002", EN), FR);
	assert_int_equal(pick("de;Q=1.000, fr;q=0.999", EN), DE);
	assert_int_equal(pick("de ; q=0.8 , fr ;q=0.7", EN), DE);
	/* Chrome's own header */
	assert_int_equal(pick("de-DE,de;q=0.9,en-US;q=0.8,en;q=0.7", EN), DE);
	assert_int_equal(pick("en-US,en;q=0.9,de;q=0.8", DE), EN);
}

static void
test_zero_excludes(void **state)
{
	(void)state;
	assert_int_equal(pick("de;q=0", EN), EN);
	assert_int_equal(pick("de;q=0, fr;q=0.1", EN), FR);
	assert_int_equal(pick("en;q=0, de;q=0.1", FR), DE);
	/* every language refused: the default anyway (no 406 for a page) */
	assert_int_equal(pick("*;q=0", DE), DE);
	/* an exact q=0 beats a wildcard that would allow it */
	assert_int_equal(pick("*, de;q=0", DE), EN);
	assert_int_equal(pick("de;q=0.0, *;q=0.5", FR), FR);
	assert_int_equal(pick("de-CH;q=0, de", EN), DE);
}

static void
test_wildcard_and_prefix(void **state)
{
	(void)state;
	assert_int_equal(pick("*", DE), DE);		/* any: the default */
	assert_int_equal(pick("*", FR), FR);
	assert_int_equal(pick("it, *;q=0.1", DE), DE);
	assert_int_equal(pick("de-CH", EN), DE);	/* lookup: shortened */
	assert_int_equal(pick("de-Latn-CH-1901", EN), DE);
	assert_int_equal(pick("pt", EN), PTBR);		/* extends: pt-br */
	assert_int_equal(pick("pt-BR", EN), PTBR);
	assert_int_equal(pick("pt-PT", EN), EN);	/* a sibling: no */
	assert_int_equal(pick("d", EN), EN);		/* no partial subtag */
	assert_int_equal(pick("deu", EN), EN);
	assert_int_equal(pick("en-GB;q=0.5, de-AT;q=0.6", EN), DE);
	/* exact wins over a shortened range of another element */
	assert_int_equal(pick("de-CH;q=0.2, de;q=0.9, fr;q=0.5", EN), DE);
	assert_int_equal(pick("de;q=0.2, de-CH;q=0.9, fr;q=0.5", EN), FR);
}

static void
test_unknown_and_malformed(void **state)
{
	static const char *const bad[] = {
		"", " ", ",", ";q=1", "it", "zh-Hant-TW", "de;q=2",
		"de;q=1.5", "de;q=-1", "de;q=0.1234", "de;q=", "de;q",
		"de;x=1", "de;q=0.5;q=0.9", "de q=1", "de-", "-de",
		"de--ch", "123", "de-toolongsubtag", "abcdefghi", "d\xc3\xa9",
		"de\t;\tq=abc", "*-de", "de;;q=1", "\"de\"", "de=1",
	};
	size_t	i;

	(void)state;
	assert_int_equal(pick(NULL, DE), DE);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(pick(bad[i], FR), FR);
		assert_int_equal(pick(bad[i], EN), EN);
	}
	/* a malformed element does not hide a good one */
	assert_int_equal(pick("de;q=2, fr", EN), FR);
	assert_int_equal(pick("x y z, de;q=0.4", EN), DE);
	assert_int_equal(pick("de;q=0.5 , fr;q=", EN), DE);
	/* tab is OWS */
	assert_int_equal(pick("\tde\t;\tq=0.5", EN), DE);
	assert_int_equal(pick("de;q=1.", FR), DE);
	assert_int_equal(pick("de;q=0.", EN), EN);	/* "0." is 0 */
}

static void
test_long_and_many(void **state)
{
	char	*h;
	size_t	 i, len = 0, size = 200000;

	(void)state;
	h = malloc(size);
	assert_non_null(h);
	/* thousands of ranges: only the first ACCEPTLANG_MAX_RANGES count */
	for (i = 0; i < 5000; i++)
		len += (size_t)snprintf(h + len, size - len, "it;q=0.9, ");
	(void)snprintf(h + len, size - len, "de");
	assert_int_equal(pick(h, EN), EN);
	len = 0;
	for (i = 0; i < ACCEPTLANG_MAX_RANGES - 1; i++)
		len += (size_t)snprintf(h + len, size - len, "it, ");
	(void)snprintf(h + len, size - len, "de;q=0.5");
	assert_int_equal(pick(h, EN), DE);
	/* one huge range: skipped, no overflow */
	memset(h, 'a', size - 1);
	h[size - 1] = '\0';
	assert_int_equal(pick(h, FR), FR);
	memcpy(h + size - 5, ", de", 5);
	assert_int_equal(pick(h, FR), DE);
	/* a range of the longest length read: read, and matches nothing */
	memset(h, 'a', 8);
	for (i = 8; i < ACCEPTLANG_RANGE_MAX; i += 9)
		memcpy(h + i, "-bbbbbbbb", 9);
	h[ACCEPTLANG_RANGE_MAX] = '\0';
	assert_int_equal(pick(h, FR), FR);
	free(h);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain),
		cmocka_unit_test(test_qvalues),
		cmocka_unit_test(test_zero_excludes),
		cmocka_unit_test(test_wildcard_and_prefix),
		cmocka_unit_test(test_unknown_and_malformed),
		cmocka_unit_test(test_long_and_many),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
