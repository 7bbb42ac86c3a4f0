/*
 * step.c: the record a pending identity step keeps.  A client closing
 * while a step is pending detaches it, and the late reply then only frees
 * the flow's state, touching neither the exchange nor the continuation; a
 * reply while the client is there runs the continuation once.  The step
 * holds a reference to the snapshot it runs under until it is done.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "config.h"
#include "exchange.h"
#include "step.h"

/* A flow's state as the identity flows keep it: the record inside. */
struct flow {
	int		 before;
	struct auth_step step;
	int		 after;
};

static int	released, continued, destroyed;
static struct exchange *seen_ex;	/* s->ex when the continuation ran */

static void
flow_release(struct auth_step *s)
{
	struct flow	*f = AUTH_STEP_STATE(s, struct flow, step);

	assert_int_equal(f->before, 7);
	assert_int_equal(f->after, 9);
	released++;
	free(f);
}

static void
flow_next(struct auth_step *s)
{
	continued++;
	seen_ex = s->ex;
	assert_ptr_equal(s->ex->check, s);
	assert_ptr_equal(auth_step_done(s), seen_ex);
}

static void
config_destroy(struct config *cfg)
{
	destroyed++;
	free(cfg);
}

static struct flow *
flow_new(void)
{
	struct flow	*f;

	assert_non_null(f = calloc(1, sizeof(*f)));
	f->before = 7;
	f->after = 9;
	return f;
}

static int
setup(void **state)
{
	(void)state;
	released = continued = destroyed = 0;
	seen_ex = NULL;
	return 0;
}

static struct config *
config_new(void)
{
	struct config	*cfg;

	assert_non_null(cfg = calloc(1, sizeof(*cfg)));
	cfg->refcnt = 1;
	cfg->destroy = config_destroy;
	return cfg;
}

/* A flow started on <ex> (cleared) under a new snapshot. */
static struct flow *
begin(struct exchange *ex)
{
	struct flow	*f = flow_new();

	memset(ex, 0, sizeof(*ex));
	ex->cfg = config_new();
	auth_step_start(&f->step, ex, NULL, flow_release);
	return f;
}

static void
test_start_links(void **state)
{
	struct exchange	 ex;
	struct flow	*f = begin(&ex);
	struct config	*cfg = ex.cfg;

	(void)state;
	assert_ptr_equal(ex.check, &f->step);
	assert_ptr_equal(f->step.ex, &ex);
	assert_ptr_equal(f->step.cfg, cfg);
	assert_int_equal(cfg->refcnt, 2);
	assert_ptr_equal(auth_step_done(&f->step), &ex);
	assert_null(ex.check);
	assert_int_equal(released, 1);
	assert_int_equal(cfg->refcnt, 1);
	config_unref(cfg);
	assert_int_equal(destroyed, 1);
}

/*
 * The client closes while the step waits, then the reply comes: the
 * state is freed, the continuation never runs, and the exchange (gone by
 * then: poisoned here) is not touched.
 */
static void
test_detach_then_reply(void **state)
{
	struct exchange	*ex;
	struct flow	*f;
	struct config	*cfg;

	(void)state;
	assert_non_null(ex = malloc(sizeof(*ex)));
	f = begin(ex);
	cfg = ex->cfg;
	f->step.next = flow_next;
	auth_step_detach(ex);
	assert_null(ex->check);
	assert_null(f->step.ex);
	auth_step_detach(ex);			/* idempotent */
	config_unref(cfg);		/* the client's reference */
	assert_int_equal(destroyed, 0);	/* the step still holds one */
	free(ex);			/* the client is gone (ASan: UAF) */
	auth_step_resume(&f->step);
	assert_int_equal(continued, 0);
	assert_int_equal(released, 1);
	assert_int_equal(destroyed, 1);
}

/* The same through auth_step_done(), as a store callback ends a chain. */
static void
test_detach_then_done(void **state)
{
	struct exchange	*ex;
	struct flow	*f = flow_new();

	(void)state;
	assert_non_null(ex = calloc(1, sizeof(*ex)));
	auth_step_start(&f->step, ex, NULL, flow_release);
	auth_step_detach(ex);
	free(ex);
	assert_null(auth_step_done(&f->step));
	assert_int_equal(released, 1);
}

/* The client is still there: the continuation runs exactly once. */
static void
test_reply_alive(void **state)
{
	struct exchange	 ex;
	struct flow	*f = begin(&ex);
	struct config	*cfg = ex.cfg;

	(void)state;
	f->step.next = flow_next;
	auth_step_resume(&f->step);
	assert_int_equal(continued, 1);
	assert_ptr_equal(seen_ex, &ex);
	assert_int_equal(released, 1);
	assert_null(ex.check);
	assert_int_equal(cfg->refcnt, 1);
	auth_step_detach(&ex);			/* nothing pending: no-op */
	assert_null(ex.check);
	config_unref(cfg);
	assert_int_equal(destroyed, 1);
}

/* A continuation that waits again is run again only by a new resume. */
static int	rearmed;

static void
flow_wait_again(struct auth_step *s)
{
	continued++;
	if (rearmed++ == 0) {
		assert_null(s->next);		/* consumed: runs once */
		s->next = flow_next;
	}
}

static void
test_continuation_consumed(void **state)
{
	struct exchange	 ex;
	struct flow	*f = flow_new();

	(void)state;
	rearmed = 0;
	memset(&ex, 0, sizeof(ex));
	auth_step_start(&f->step, &ex, NULL, flow_release);
	f->step.next = flow_wait_again;
	auth_step_resume(&f->step);
	assert_int_equal(continued, 1);
	assert_int_equal(released, 0);
	auth_step_resume(&f->step);		/* the second reply */
	assert_int_equal(continued, 2);
	assert_int_equal(released, 1);
	assert_null(ex.check);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_start_links, setup),
		cmocka_unit_test_setup(test_detach_then_reply, setup),
		cmocka_unit_test_setup(test_detach_then_done, setup),
		cmocka_unit_test_setup(test_reply_alive, setup),
		cmocka_unit_test_setup(test_continuation_consumed, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
