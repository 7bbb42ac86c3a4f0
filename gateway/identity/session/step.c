/*
 * The step record every pending identity flow shares (see step.h).
 */
#include <stddef.h>

#include "client.h"
#include "config.h"
#include "exchange.h"
#include "step.h"

void
auth_step_start(struct auth_step *s, struct exchange *ex, struct store *st,
    auth_step_fn release)
{
	s->ex = ex;
	s->st = st;
	s->cfg = ex->cfg != NULL ? config_ref(ex->cfg) : NULL;
	s->next = NULL;
	s->release = release;
	ex->check = s;
}

struct exchange *
auth_step_done(struct auth_step *s)
{
	struct exchange	*ex = s->ex;
	struct config	*cfg = s->cfg;

	if (ex != NULL && ex->check == s)
		ex->check = NULL;
	s->ex = NULL;
	s->release(s);
	if (cfg != NULL)
		config_unref(cfg);
	return ex;
}

void
auth_step_resume(struct auth_step *s)
{
	auth_step_fn	 next = s->next;
	struct exchange	*ex = s->ex;

	if (ex == NULL || next == NULL) {
		(void)auth_step_done(s);
		return;
	}
	s->next = NULL;
	next(s);		/* <s> may be gone; <ex> lives this turn */
	client_check_outcome(ex, "step");
}

void
auth_step_detach(struct exchange *ex)
{
	if (ex->check != NULL) {
		ex->check->ex = NULL;
		ex->check = NULL;
	}
}
