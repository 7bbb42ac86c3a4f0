/*
 * ratelimit.c's local shed table: a refusal is remembered for exactly the
 * (class, address, account) Redis counted, until the moment it named, and
 * never for anything else.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "ratelimit.h"

static const struct ratelimit_class login = { "login", 20, 60000, 10, 0 };
static const struct ratelimit_class api = { "api", 3, 60000, 0, 0 };

static void
test_remembers_exactly_what_redis_refused(void **state)
{
	struct ratelimit_shed	*sh = ratelimit_shed_new();
	struct ratelimit_shed_id k, other;
	struct ratelimit_class	 changed = login;

	(void)state;
	assert_non_null(sh);
	ratelimit_shed_key(sh, &login, "10.0.0.1", "a@example.com", &k);
	assert_int_equal(ratelimit_shed_left(sh, &k, 1000), 0);
	ratelimit_shed_note(sh, &k, 4000);
	assert_int_equal(ratelimit_shed_left(sh, &k, 1000), 3000);
	assert_int_equal(ratelimit_shed_left(sh, &k, 3999), 1);
	assert_int_equal(ratelimit_shed_left(sh, &k, 4000), 0);	/* then Redis */
	/* another account, address or class: not refused */
	ratelimit_shed_key(sh, &login, "10.0.0.1", "b@example.com", &other);
	assert_int_equal(ratelimit_shed_left(sh, &other, 1000), 0);
	ratelimit_shed_key(sh, &login, "10.0.0.2", "a@example.com", &other);
	assert_int_equal(ratelimit_shed_left(sh, &other, 1000), 0);
	ratelimit_shed_key(sh, &api, "10.0.0.1", "a@example.com", &other);
	assert_int_equal(ratelimit_shed_left(sh, &other, 1000), 0);
	/* a reload that changes the class's numbers starts over */
	changed.limit = 40;
	ratelimit_shed_key(sh, &changed, "10.0.0.1", "a@example.com", &other);
	assert_int_equal(ratelimit_shed_left(sh, &other, 1000), 0);
	/* a class without accounts counts the address alone, as Redis does */
	ratelimit_shed_key(sh, &api, "10.0.0.1", NULL, &k);
	ratelimit_shed_key(sh, &api, "10.0.0.1", "a@example.com", &other);
	assert_memory_equal(k.id, other.id, sizeof(k.id));
	ratelimit_shed_free(sh);
}

/* Two tables (two workers, or a restart) hash differently: the seed. */
static void
test_seeded_per_table(void **state)
{
	struct ratelimit_shed	*a = ratelimit_shed_new(), *b =
				    ratelimit_shed_new();
	struct ratelimit_shed_id ka, kb;

	(void)state;
	ratelimit_shed_key(a, &api, "10.0.0.1", NULL, &ka);
	ratelimit_shed_key(b, &api, "10.0.0.1", NULL, &kb);
	assert_memory_not_equal(ka.id, kb.id, sizeof(ka.id));
	ratelimit_shed_note(a, &ka, 5000);
	assert_int_equal(ratelimit_shed_left(b, &ka, 1000), 0);
	assert_int_equal(ratelimit_shed_left(NULL, &ka, 1000), 0);
	ratelimit_shed_free(a);
	ratelimit_shed_free(b);
}

/* Many clients: a slot taken by another only forgets, never refuses. */
static void
test_collisions_forget(void **state)
{
	struct ratelimit_shed	*sh = ratelimit_shed_new();
	struct ratelimit_shed_id k[20000];
	char			 addr[32];
	size_t			 i, remembered = 0, wrong = 0;

	(void)state;
	for (i = 0; i < 20000; i++) {
		(void)snprintf(addr, sizeof(addr), "10.1.%zu.%zu", i / 250,
		    i % 250);
		ratelimit_shed_key(sh, &api, addr, NULL, &k[i]);
		if (i % 2 == 0)
			ratelimit_shed_note(sh, &k[i], 9000);
	}
	for (i = 0; i < 20000; i++) {
		uint64_t left = ratelimit_shed_left(sh, &k[i], 1000);

		if (i % 2 == 1)
			wrong += left != 0;
		else
			remembered += left == 8000;
	}
	assert_int_equal(wrong, 0);
	assert_true(remembered > 1000 && remembered <= 4096);
	ratelimit_shed_free(sh);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_remembers_exactly_what_redis_refused),
		cmocka_unit_test(test_seeded_per_table),
		cmocka_unit_test(test_collisions_forget),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
