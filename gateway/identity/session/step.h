/*
 * One pending asynchronous step of an identity flow (a Redis reply or a
 * password hash being waited for).  Every flow keeps its own typed state
 * (a session check, a sign-in, a grant, an account page, a recovery) with
 * a struct auth_step in it; the step record is what the edge and the
 * callbacks share:
 *
 *	- the exchange it answers (ex->check points back at the record), or
 *	  NULL once the client closed: auth_step_detach();
 *	- the continuation to run when the awaited answer came;
 *	- the configuration snapshot it runs under (a reference it holds);
 *	- how to free the flow's state around it.
 *
 * Ownership: whichever callback is outstanding owns the state and ends it
 * with auth_step_done() (or auth_step_resume()).  The client only points
 * at it, so a late reply after a close frees it without touching the
 * exchange.
 */
#ifndef POSTERN_STEP_H
#define POSTERN_STEP_H

#include <stddef.h>

struct auth_step;
struct config;
struct exchange;
struct store;

typedef void	(*auth_step_fn)(struct auth_step *);

/* The flow state of <type> whose step record (member <m>) is at <s>. */
#define AUTH_STEP_STATE(s, type, m)					\
	((type *)(void *)((char *)(s) - offsetof(type, m)))

struct auth_step {
	struct exchange	*ex;		/* NULL once the client closed */
	struct store	*st;		/* the worker's store */
	struct config	*cfg;		/* the snapshot it runs under (ref) */
	auth_step_fn	 next;		/* continuation, or NULL */
	auth_step_fn	 release;	/* frees the state holding the record */
};

/*
 * Start <s> (inside a flow's freshly allocated state) for <ex>: link it
 * as ex->check, take a reference to ex->cfg, keep <st>.  <release> frees
 * the whole state once the step is done; it must not touch s->ex.
 */
void		 auth_step_start(struct auth_step *s, struct exchange *ex,
		    struct store *st, auth_step_fn release);
/*
 * The callback owning <s> is done: unlink it from its exchange, drop the
 * snapshot, release the state.  Returns the exchange to answer, or NULL
 * when the client closed meanwhile.
 */
struct exchange	*auth_step_done(struct auth_step *s);
/*
 * The awaited answer of <s> came: if the client is still there, run
 * s->next once (cleared first, so a continuation that waits again sets
 * it anew; it then owns <s>); else, or with no continuation set, only
 * free <s>.  When the continuation returns, the request must have its
 * outcome or a next step pending (client_check_outcome()).
 */
void		 auth_step_resume(struct auth_step *s);
/*
 * <ex> is closing: the pending step, if any, forgets it (its callback
 * will only free it).  Idempotent.
 */
void		 auth_step_detach(struct exchange *ex);

#endif
