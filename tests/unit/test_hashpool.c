/*
 * hashpool.c with a real event_base: completions run on the loop's thread
 * (never a hashing thread), each exactly once; a full queue refuses at
 * once; many concurrent jobs from several loops all complete; freeing a
 * port waits for its jobs and delivers them.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "hashpool.h"

struct job {
	pthread_t		 loop;		/* thread expected for done */
	pthread_t		 worker;	/* thread that ran work */
	struct event_base	*base;
	atomic_int		*gate;		/* work waits while 0 */
	int			 ran;
	int			 done;
	int			*remaining;	/* loop exits at 0 */
	int			 on_loop;
	unsigned int		 spin;
};

static void
job_work(void *arg)
{
	struct job	*j = arg;
	volatile unsigned int i;

	while (j->gate != NULL && atomic_load(j->gate) == 0)
		usleep(1000);
	for (i = 0; i < j->spin; i++)
		;
	j->worker = pthread_self();
	j->ran++;
}

static void
job_done(void *arg)
{
	struct job	*j = arg;

	j->done++;
	j->on_loop = pthread_equal(pthread_self(), j->loop) &&
	    !pthread_equal(pthread_self(), j->worker);
	if (j->remaining != NULL && --*j->remaining == 0)
		event_base_loopbreak(j->base);
}

/* No evthread_use_pthreads(), as in the gateway: the eventfd is the
 * only thing a hashing thread touches. */
static int
setup(void **state)
{
	(void)state;
	return 0;
}

static void
test_completion_on_loop(void **state)
{
	struct event_base	*base;
	struct hashpool		*hp;
	struct hashpool_port	*port;
	struct job		 j;
	int			 remaining = 1;

	(void)state;
	assert_non_null(base = event_base_new());
	assert_non_null(hp = hashpool_new(2, 4));
	assert_non_null(port = hashpool_port_new(base));
	memset(&j, 0, sizeof(j));
	j.loop = pthread_self();
	j.base = base;
	j.remaining = &remaining;
	assert_int_equal(hashpool_submit(hp, port, job_work, job_done, &j), 0);
	assert_int_equal(j.done, 0);		/* never synchronously */
	assert_int_equal(event_base_loop(base, EVLOOP_NO_EXIT_ON_EMPTY), 0);
	assert_int_equal(j.ran, 1);
	assert_int_equal(j.done, 1);
	assert_true(j.on_loop);
	hashpool_port_free(port);
	hashpool_free(hp);
	event_base_free(base);
}

static void
test_queue_full(void **state)
{
	struct event_base	*base;
	struct hashpool		*hp;
	struct hashpool_port	*port;
	struct job		 j[4];
	atomic_int		 gate = 0;
	int			 i, remaining = 3;

	(void)state;
	assert_non_null(base = event_base_new());
	assert_non_null(hp = hashpool_new(1, 2));
	assert_non_null(port = hashpool_port_new(base));
	memset(j, 0, sizeof(j));
	for (i = 0; i < 4; i++) {
		j[i].loop = pthread_self();
		j[i].base = base;
		j[i].gate = &gate;
		j[i].remaining = &remaining;
	}
	/* The one thread takes job 0 and blocks; two more fill the queue. */
	assert_int_equal(hashpool_submit(hp, port, job_work, job_done, &j[0]),
	    0);
	while (hashpool_queued(hp) != 0)
		usleep(1000);
	assert_int_equal(hashpool_submit(hp, port, job_work, job_done, &j[1]),
	    0);
	assert_int_equal(hashpool_submit(hp, port, job_work, job_done, &j[2]),
	    0);
	assert_int_equal(hashpool_queued(hp), 2);
	assert_int_equal(hashpool_submit(hp, port, job_work, job_done, &j[3]),
	    -1);
	atomic_store(&gate, 1);
	assert_int_equal(event_base_loop(base, EVLOOP_NO_EXIT_ON_EMPTY), 0);
	for (i = 0; i < 3; i++) {
		assert_int_equal(j[i].done, 1);
		assert_true(j[i].on_loop);
	}
	assert_int_equal(j[3].ran, 0);
	assert_int_equal(j[3].done, 0);
	/* room again */
	remaining = 1;
	assert_int_equal(hashpool_submit(hp, port, job_work, job_done, &j[3]),
	    0);
	assert_int_equal(event_base_loop(base, EVLOOP_NO_EXIT_ON_EMPTY), 0);
	assert_int_equal(j[3].done, 1);
	hashpool_port_free(port);
	hashpool_free(hp);
	event_base_free(base);
}

#define NLOOPS	4
#define NJOBS	500

struct loop {
	pthread_t		 thread;
	struct event_base	*base;
	struct hashpool		*hp;
	struct hashpool_port	*port;
	struct job		*jobs;
	int			 remaining;
	int			 refused;
};

static void *
loop_main(void *arg)
{
	struct loop	*l = arg;
	int		 i, submitted = 0;

	for (i = 0; i < NJOBS; i++) {
		l->jobs[i].loop = pthread_self();
		l->jobs[i].base = l->base;
		l->jobs[i].remaining = &l->remaining;
		l->jobs[i].spin = 10000;
		/* Full: let the loop deliver some completions, then retry. */
		while (hashpool_submit(l->hp, l->port, job_work, job_done,
		    &l->jobs[i]) == -1) {
			l->refused++;
			/* Deliver what is done, without waiting: the queue may
			 * be full of other loops' jobs, none of them ours. */
			(void)event_base_loop(l->base, EVLOOP_ONCE |
			    EVLOOP_NONBLOCK);
			usleep(200);
		}
		submitted++;
	}
	if (l->remaining > 0)
		(void)event_base_loop(l->base, EVLOOP_NO_EXIT_ON_EMPTY);
	return NULL;
}

static void
test_many_concurrent(void **state)
{
	struct hashpool	*hp;
	struct loop	 loops[NLOOPS];
	int		 i, k;

	(void)state;
	assert_non_null(hp = hashpool_new(3, 8));
	for (i = 0; i < NLOOPS; i++) {
		memset(&loops[i], 0, sizeof(loops[i]));
		loops[i].hp = hp;
		assert_non_null(loops[i].base = event_base_new());
		assert_non_null(loops[i].port =
		    hashpool_port_new(loops[i].base));
		assert_non_null(loops[i].jobs = calloc(NJOBS, sizeof(struct job)));
		loops[i].remaining = NJOBS;
	}
	for (i = 0; i < NLOOPS; i++)
		assert_int_equal(pthread_create(&loops[i].thread, NULL,
		    loop_main, &loops[i]), 0);
	for (i = 0; i < NLOOPS; i++)
		pthread_join(loops[i].thread, NULL);
	for (i = 0; i < NLOOPS; i++) {
		assert_int_equal(loops[i].remaining, 0);
		for (k = 0; k < NJOBS; k++) {
			assert_int_equal(loops[i].jobs[k].ran, 1);
			assert_int_equal(loops[i].jobs[k].done, 1);
			assert_true(loops[i].jobs[k].on_loop);
		}
		hashpool_port_free(loops[i].port);
		event_base_free(loops[i].base);
		free(loops[i].jobs);
	}
	hashpool_free(hp);
}

/* A port freed with jobs in flight waits for them and delivers them. */
static void
test_port_free_waits(void **state)
{
	struct event_base	*base;
	struct hashpool		*hp;
	struct hashpool_port	*port;
	struct job		 j[3];
	int			 i;

	(void)state;
	assert_non_null(base = event_base_new());
	assert_non_null(hp = hashpool_new(2, 8));
	assert_non_null(port = hashpool_port_new(base));
	memset(j, 0, sizeof(j));
	for (i = 0; i < 3; i++) {
		j[i].loop = pthread_self();
		j[i].spin = 2000000;
		assert_int_equal(hashpool_submit(hp, port, job_work, job_done,
		    &j[i]), 0);
	}
	hashpool_port_free(port);
	for (i = 0; i < 3; i++) {
		assert_int_equal(j[i].ran, 1);
		assert_int_equal(j[i].done, 1);
		assert_true(j[i].on_loop);
	}
	hashpool_free(hp);
	/* a stopped pool refuses */
	assert_null(hashpool_new(0, 8));
	event_base_free(base);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_completion_on_loop),
		cmocka_unit_test(test_queue_full),
		cmocka_unit_test(test_many_concurrent),
		cmocka_unit_test(test_port_free_waits),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
