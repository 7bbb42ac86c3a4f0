/*
 * evmem.c: blocks come back with the bytes asked for, a class's freed
 * blocks are reused up to the bound, realloc keeps the contents, and a
 * thread's kept blocks are freed when it ends (the leak checker of the
 * sanitizer build would report them).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <pthread.h>
#include <cmocka.h>

#include "evmem.h"

static void
test_classes_reused(void **state)
{
	void	*a, *b, *c, *d;

	(void)state;
	assert_int_equal(evmem_kept(), 0);
	assert_non_null(a = evmem_malloc(1000));
	memset(a, 'a', 1000);
	evmem_free(a);
	assert_int_equal(evmem_kept(), 1);
	assert_ptr_equal(b = evmem_malloc(1024), a);	/* same class */
	assert_int_equal(evmem_kept(), 0);
	assert_non_null(c = evmem_malloc(8192));	/* the last class */
	memset(c, 'c', 8192);
	evmem_free(c);
	assert_ptr_not_equal(d = evmem_malloc(2000), c); /* another class */
	assert_ptr_equal(evmem_malloc(5000), c);
	evmem_free(d);
	evmem_free(c);
	evmem_free(b);
	evmem_free(NULL);
}

static void
test_raw_sizes(void **state)
{
	size_t	 kept = evmem_kept();
	char	*p;

	(void)state;
	assert_non_null(p = evmem_malloc(100000));	/* past the classes */
	memset(p, 'x', 100000);
	evmem_free(p);
	assert_int_equal(evmem_kept(), kept);		/* not kept */
	assert_non_null(p = evmem_malloc(0));
	evmem_free(p);
	assert_non_null(p = evmem_malloc(512));	/* small: not rounded up */
	evmem_free(p);
	assert_int_equal(evmem_kept(), kept);
}

static void
test_bound(void **state)
{
	void	*p[EVMEM_KEEP + 10];
	size_t	 i, kept = evmem_kept();

	(void)state;
	for (i = 0; i < EVMEM_KEEP + 10; i++)
		assert_non_null(p[i] = evmem_malloc(3000));
	for (i = 0; i < EVMEM_KEEP + 10; i++)
		evmem_free(p[i]);
	assert_int_equal(evmem_kept(), kept + EVMEM_KEEP);
}

static void
test_realloc_keeps(void **state)
{
	char	*p, *q;
	size_t	 i;

	(void)state;
	assert_non_null(p = evmem_realloc(NULL, 10));	/* small */
	memcpy(p, "0123456789", 10);
	assert_non_null(q = evmem_realloc(p, 600));	/* to a class */
	assert_memory_equal(q, "0123456789", 10);
	assert_ptr_equal(p = evmem_realloc(q, 900), q);	/* fits its block */
	assert_non_null(q = evmem_realloc(p, 3000));
	assert_memory_equal(q, "0123456789", 10);
	for (i = 10; i < 3000; i++)
		q[i] = (char)i;
	assert_non_null(p = evmem_realloc(q, 50000));	/* to a raw one */
	assert_memory_equal(p, "0123456789", 10);
	for (i = 10; i < 3000; i++)
		assert_int_equal(p[i], (char)i);
	assert_non_null(q = evmem_realloc(p, 60000));	/* raw to raw */
	assert_memory_equal(q, "0123456789", 10);
	evmem_free(q);
}

static void *
thread_main(void *arg)
{
	void	*p[20];
	size_t	 i;

	(void)arg;
	for (i = 0; i < 20; i++)
		p[i] = evmem_malloc(1024u << (i % 4));
	for (i = 0; i < 20; i++)
		evmem_free(p[i]);
	return (void *)(uintptr_t)evmem_kept();
}

static void
test_thread_end_frees(void **state)
{
	pthread_t	 t;
	void		*kept;

	(void)state;
	assert_int_equal(evmem_install(), 0);	/* sets the key up */
	assert_int_equal(pthread_create(&t, NULL, thread_main, NULL), 0);
	assert_int_equal(pthread_join(t, &kept), 0);
	assert_int_equal((uintptr_t)kept, 20);	/* freed by the key */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_classes_reused),
		cmocka_unit_test(test_raw_sizes),
		cmocka_unit_test(test_bound),
		cmocka_unit_test(test_realloc_keeps),
		cmocka_unit_test(test_thread_end_frees),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
