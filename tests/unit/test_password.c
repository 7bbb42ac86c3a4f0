/*
 * password.c: argon2id hashing and PHC strings, bcrypt verification (a
 * published test vector), the rehash decision, and the rules for new
 * passwords with the shipped common-password list.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "loader.h"
#include "password.h"

/* Cheap cost for tests: the floor libargon2 accepts. */
static const struct password_params fast = { 64, 1, 1 };

static void
test_hash_verify(void **state)
{
	char	h1[PASSWORD_HASHLEN], h2[PASSWORD_HASHLEN];
	const char *pw = "correct horse battery staple";

	(void)state;
	assert_int_equal(password_hash(&fast, pw, strlen(pw), h1, sizeof(h1)),
	    0);
	assert_true(strncmp(h1, "$argon2id$v=19$m=64,t=1,p=1$", 28) == 0);
	assert_int_equal(password_verify(h1, pw, strlen(pw)), PASSWORD_OK);
	assert_int_equal(password_verify(h1, "correct horse battery stapl",
	    27), PASSWORD_MISMATCH);
	assert_int_equal(password_verify(h1, "", 0), PASSWORD_MISMATCH);
	/* fresh salt every time */
	assert_int_equal(password_hash(&fast, pw, strlen(pw), h2, sizeof(h2)),
	    0);
	assert_string_not_equal(h1, h2);
	/* too small a buffer */
	assert_int_equal(password_hash(&fast, pw, strlen(pw), h2, 20), -1);
}

/* A hash encoded by libargon2 itself (argon2id_hash_encoded), not by us. */
static void
test_known_argon2(void **state)
{
	/* argon2id_hash_encoded(2, 1024, 1, "password", "somesalt", 32) */
	const char *h = "$argon2id$v=19$m=1024,t=2,p=1$c29tZXNhbHQ"
	    "$7FfsnA6vUe7qLpL/3Kqc3uR48ZJyFbUVt7jWZlf0Htk";
	char	copy[200];
	size_t	n;

	(void)state;
	assert_int_equal(password_verify(h, "password", 8), PASSWORD_OK);
	assert_int_equal(password_verify(h, "Password", 8), PASSWORD_MISMATCH);
	/* one flipped character of the tag */
	n = strlen(h);
	memcpy(copy, h, n + 1);
	copy[n - 2] = copy[n - 2] == 'A' ? 'B' : 'A';
	assert_int_not_equal(password_verify(copy, "password", 8),
	    PASSWORD_OK);
}

static void
test_bcrypt(void **state)
{
	/* Openwall crypt_blowfish test vector ("U*U"), $2b$ and $2y$. */
	const char *b = "$2b$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW";
	const char *y = "$2y$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW";
	/* from crypt("x" * 72, "$2b$04$abcdefghijklmnopqrstuu") */
	const char *x72 = "$2b$04$abcdefghijklmnopqrstuubzadhGtS2zEF.gu0yd0opP6cVzb.e0i";
	char	 pw[80];

	(void)state;
	assert_int_equal(password_verify(b, "U*U", 3), PASSWORD_OK);
	assert_int_equal(password_verify(y, "U*U", 3), PASSWORD_OK);
	assert_int_equal(password_verify(b, "U*U*", 4), PASSWORD_MISMATCH);
	assert_int_equal(password_verify(b, "U*U\0x", 5), PASSWORD_MISMATCH);
	memset(pw, 'x', sizeof(pw));
	assert_int_equal(password_verify(x72, pw, 72), PASSWORD_OK);
	/* bcrypt would accept 73 bytes sharing the prefix: refused */
	assert_int_equal(password_verify(x72, pw, 73), PASSWORD_TOO_LONG);
	/* other schemes and damaged strings */
	assert_int_equal(password_verify("$2a$05$CCCCCCCCCCCCCCCCCCCCC."
	    "E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW", "U*U", 3), PASSWORD_BAD_HASH);
	assert_int_equal(password_verify("$2b$05$CCCC", "U*U", 3),
	    PASSWORD_BAD_HASH);
	assert_int_equal(password_verify("$1$abc$def", "U*U", 3),
	    PASSWORD_BAD_HASH);
	assert_int_equal(password_verify("plain", "plain", 5),
	    PASSWORD_BAD_HASH);
}

static void
test_needs_rehash(void **state)
{
	const struct password_params def = { 19456, 2, 1 };
	char	h[PASSWORD_HASHLEN];

	(void)state;
	assert_int_equal(password_hash(&fast, "abc", 3, h, sizeof(h)), 0);
	assert_false(password_needs_rehash(&fast, h));
	assert_true(password_needs_rehash(&def, h));
	assert_true(password_needs_rehash(&def, "$2b$05$CCCCCCCCCCCCCCCCCCCCC"
	    ".E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW"));
	assert_true(password_needs_rehash(&def, "junk"));
}

static void
test_phc_parse(void **state)
{
	struct password_phc	p;
	static const char *bad[] = {
		"",
		"$argon2i$v=19$m=64,t=1,p=1$c29tZXNhbHQ$c29tZXNhbHQ",
		"$argon2id$v=16$m=64,t=1,p=1$c29tZXNhbHQ$c29tZXNhbHQ",
		"$argon2id$m=64,t=1,p=1$c29tZXNhbHQ$c29tZXNhbHQ",
		"$argon2id$v=19$m=64,t=0,p=1$c29tZXNhbHQ$c29tZXNhbHQ",
		"$argon2id$v=19$m=64,t=1,p=0$c29tZXNhbHQ$c29tZXNhbHQ",
		"$argon2id$v=19$m=4,t=1,p=1$c29tZXNhbHQ$c29tZXNhbHQ",
		"$argon2id$v=19$m=99999999999,t=1,p=1$c29tZXNhbHQ$c29tZXNhbHQ",
		"$argon2id$v=19$m=064,t=1,p=1$c29tZXNhbHQ$c29tZXNhbHQ",
		"$argon2id$v=19$t=1,m=64,p=1$c29tZXNhbHQ$c29tZXNhbHQ",
		"$argon2id$v=19$m=64,t=1,p=1$c29tZQ$c29tZXNhbHQ",	/* salt 5 */
		"$argon2id$v=19$m=64,t=1,p=1$c29tZXNhbHQ=$c29tZXNhbHQ",
		"$argon2id$v=19$m=64,t=1,p=1$c29tZXNhbHQ$c29tZXNhbHR",
		"$argon2id$v=19$m=64,t=1,p=1$c29tZXNhbHQ$c29tZXNhbHQ$",
		"$argon2id$v=19$m=64,t=1,p=1$c29tZXNhbHQ",
		"$argon2id$v=19$m=64,t=1,p=1$c29tZXNh*HQ$c29tZXNhbHQ",
	};
	size_t	i;

	(void)state;
	assert_int_equal(password_phc_parse("$argon2id$v=19$m=64,t=3,p=2$"
	    "c29tZXNhbHQ$c29tZXNhbHQ", &p), 0);
	assert_int_equal(p.memory_kib, 64);
	assert_int_equal(p.iterations, 3);
	assert_int_equal(p.parallelism, 2);
	assert_int_equal(p.saltlen, 8);
	assert_memory_equal(p.salt, "somesalt", 8);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		print_message("bad: %s\n", bad[i]);
		assert_int_equal(password_phc_parse(bad[i], &p), -1);
	}
}

static void
test_utf8_len(void **state)
{
	(void)state;
	assert_int_equal(password_utf8_len("abc", 3), 3);
	assert_int_equal(password_utf8_len("\xc3\xa9t\xc3\xa9", 5), 3);
	assert_int_equal(password_utf8_len("\xf0\x9f\x94\x91", 4), 1);
	assert_int_equal(password_utf8_len("\xc3", 1), -1);
	assert_int_equal(password_utf8_len("\xc0\xaf", 2), -1);	/* overlong */
	assert_int_equal(password_utf8_len("\xed\xa0\x80", 3), -1); /* UTF-16 */
	assert_int_equal(password_utf8_len("\xf4\x90\x80\x80", 4), -1);
	assert_int_equal(password_utf8_len("\xff", 1), -1);
	assert_int_equal(password_utf8_len("a\x80", 2), -1);
}

static struct password_rules *
rules(void)
{
	struct password_rules	*r;
	char			 err[256];

	r = password_rules_load(password_rules_path(NULL), 12, err,
	    sizeof(err));
	if (r == NULL)
		fail_msg("%s", err);
	return r;
}

static int
check(struct password_rules *r, const char *pw, const char *email,
    const char *want)
{
	char	why[PASSWORD_WHYLEN] = "";
	int	rc;

	rc = password_check(r, pw, strlen(pw), &(struct password_context){
	    .email = email }, why, sizeof(why));
	if (want != NULL && strstr(why, want) == NULL)
		fail_msg("'%s': got '%s', expected '%s'", pw, why, want);
	return rc;
}

static void
test_rules(void **state)
{
	struct password_rules	*r = rules();
	char			 big[600];

	(void)state;
	assert_true(password_rules_count(r) >= 10000);
	assert_int_equal(check(r, "correct horse battery", "a@b.example",
	    NULL), 0);
	assert_int_equal(check(r, "short", NULL, "12 to 128"), -1);
	assert_int_equal(check(r, "elevenchars", NULL, "(it has 11)"), -1);
	/* 12 code points of 2 bytes each: long enough */
	assert_int_equal(check(r, "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
	    "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", NULL,
	    NULL), 0);
	memset(big, 'q', 129);
	big[129] = '\0';
	big[5] = 'Z';
	assert_int_equal(check(r, big, NULL, "(it has 129)"), -1);
	big[128] = '\0';
	assert_int_equal(check(r, big, NULL, NULL), 0);
	assert_int_equal(check(r, "Password2024!", NULL, "too common"), -1);
	assert_int_equal(check(r, "QWERTYUIOP", NULL, NULL), -1);
	assert_int_equal(check(r, "1q2w3e4r5t6y", NULL, "too common"), -1);
	assert_int_equal(check(r, "my postern password", NULL,
	    "product name"), -1);
	assert_int_equal(check(r, "MyPOSTERNsecret", NULL, "product name"),
	    -1);
	assert_int_equal(check(r, "hello jdoe, long one", "JDoe@corp.example",
	    "email address's name"), -1);
	assert_int_equal(check(r, "zzcorporation zz", "x.y@corporation.com",
	    "domain"), -1);
	assert_int_equal(check(r, "bad \xff utf-8 text", NULL, "UTF-8"), -1);
	password_rules_free(r);
}

/* The brand, the apps' host names and the user's orgs are refused, up to
 * case, look-alike characters and punctuation; short or generic labels
 * (the TLD, "{org}", addresses) are not. */
static void
test_context_words(void **state)
{
	struct password_rules	*r;
	char			*h1[] = { "{org}.widgetworks.example",
				    "portal.acme-intranet.net", "10.1.2.3" };
	char			*h2[] = { "localhost" };
	struct config_app	 apps[2] = { { .hosts = h1, .nhosts = 3 },
				    { .hosts = h2, .nhosts = 1 } };
	struct config		 cfg = { .brand_product = "Fabrikam Gate",
				    .apps = apps, .napps = 2,
				    .password_min_length = 12 };
	const char		*orgs[] = { "northwind", "ab" };
	struct password_context	 cx = { .email = "kim@mail.test",
				    .words = orgs, .nwords = 2 };
	char			 why[PASSWORD_WHYLEN], err[256];
	struct password_refusal	 f;
	static const struct {
		const char	*pw;
		const char	*want;	/* NULL: accepted */
	} v[] = {
		{ "fabrikam gate 2024!!", "product name" },
		{ "FabrikamGate is great", "product name" },
		{ "f4br1k4m-g4t3 now ok", "product name" },
		{ "my fabrikam rocks!", NULL },	/* one word of two */
		{ "my P0$T3RN password", "product name" },
		{ "p.o.s.t.e.r.n forever", "product name" },
		{ "WidgetWorks rules 99", "name of this site" },
		{ "w1dg3tw0rks rules 99", "name of this site" },
		{ "acme-intranet portal!", "name of this site" },
		{ "Portal of the gods 1", "name of this site" },
		{ "mylocalhost is great", "name of this site" },
		{ "example example net!", NULL },	/* the TLD, {org} */
		{ "10.1.2.3 is my home!", NULL },	/* an address */
		{ "NorthWind sailing 7", "organisation" },
		{ "n0rthw1nd sailing 7", "organisation" },
		{ "my ab turtle-dove 9", NULL },	/* too short a slug */
		{ "kim's super secret!", "email" },
		{ "correct horse battery", NULL },
	};
	size_t			 i;

	(void)state;
	/* the loader's rules for this config: list, length, context words */
	if ((r = config_password_rules(&cfg, err, sizeof(err))) == NULL)
		fail_msg("%s", err);
	assert_int_equal(password_check(r, "short 1!", 8, NULL, why,
	    sizeof(why)), -1);
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		why[0] = '\0';
		if (password_check(r, v[i].pw, strlen(v[i].pw), &cx, why,
		    sizeof(why)) != (v[i].want != NULL ? -1 : 0) ||
		    (v[i].want != NULL && strstr(why, v[i].want) == NULL))
			fail_msg("'%s': got '%s'", v[i].pw, why);
	}
	/* the same refusals as stable codes, for the pages' own words */
	assert_int_equal(password_judge(r, "short 1!", 8, &cx, &f), -1);
	assert_string_equal(f.code, "length");
	assert_true(f.min == 12 && f.max == PASSWORD_MAX_LENGTH && f.has == 8);
	assert_int_equal(password_judge(r, "fabrikam gate 2024!!", 20, &cx,
	    &f), -1);
	assert_true(strcmp(f.code, "word") == 0 && strcmp(f.what, "product")
	    == 0);
	assert_int_equal(password_judge(r, "w1dg3tw0rks rules 99", 20, &cx,
	    &f), -1);
	assert_true(strcmp(f.code, "word") == 0 && strcmp(f.what, "site") ==
	    0);
	assert_int_equal(password_judge(r, "n0rthw1nd sailing 7", 19, &cx,
	    &f), -1);
	assert_string_equal(f.code, "org");
	assert_int_equal(password_judge(r, "kim's super secret!", 19, &cx,
	    &f), -1);
	assert_string_equal(f.code, "email_name");
	assert_int_equal(password_judge(r, "correct horse battery", 21, &cx,
	    &f), 0);
	/* rules without the config still refuse "postern"; no context */
	password_rules_free(r);
	r = rules();
	assert_int_equal(password_check(r, "WidgetWorks rules 99", 20, NULL,
	    why, sizeof(why)), 0);
	assert_int_equal(password_check(r, "Post-ern rules 9999", 19, NULL,
	    why, sizeof(why)), -1);
	password_rules_free(r);
}

static void
test_rules_file(void **state)
{
	char			 path[] = "/tmp/postern-pw-XXXXXX", err[256];
	struct config		 cfg = { .common_passwords = path,
				    .password_min_length = 10 };
	struct password_rules	*r;
	FILE			*fp;
	int			 fd;

	(void)state;
	assert_int_not_equal(fd = mkstemp(path), -1);
	assert_non_null(fp = fdopen(fd, "w"));
	fputs("# comment\n\nSpecialSecret99\r\nanother-entry-x\n", fp);
	fclose(fp);
	assert_ptr_equal(password_rules_path(path), path);
	assert_non_null(r = password_rules_load(path, 8, err, sizeof(err)));
	assert_int_equal(password_rules_count(r), 2);
	assert_int_equal(check(r, "specialsecret99", NULL, "common"), -1);
	assert_int_equal(check(r, "# comment", NULL, NULL), 0);
	password_rules_free(r);
	/* passwords.common_passwords and min_length, through the loader */
	assert_non_null(r = config_password_rules(&cfg, err, sizeof(err)));
	assert_int_equal(password_rules_count(r), 2);
	assert_int_equal(check(r, "specialsecret99", NULL, "common"), -1);
	assert_int_equal(check(r, "# comment", NULL, "10 to 128"), -1);
	assert_int_equal(check(r, "#  comment", NULL, NULL), 0);
	password_rules_free(r);
	unlink(path);
	assert_null(password_rules_load(path, 8, err, sizeof(err)));
	assert_non_null(strstr(err, "cannot open"));
	assert_null(config_password_rules(&cfg, err, sizeof(err)));
	assert_non_null(strstr(err, "cannot open"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hash_verify),
		cmocka_unit_test(test_known_argon2),
		cmocka_unit_test(test_bcrypt),
		cmocka_unit_test(test_needs_rehash),
		cmocka_unit_test(test_phc_parse),
		cmocka_unit_test(test_utf8_len),
		cmocka_unit_test(test_rules),
		cmocka_unit_test(test_context_words),
		cmocka_unit_test(test_rules_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
