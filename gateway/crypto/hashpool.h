/*
 * The password-hash pool: a fixed set of threads that run slow jobs
 * (argon2id, bcrypt) off the event loops.  The queue is bounded; a full
 * queue refuses the job at once (the caller answers 503) instead of
 * growing.  A finished job's completion callback runs on the event loop of
 * the worker that submitted it, through that worker's port (an eventfd
 * the hashing thread writes to, read by an event in the worker's
 * event_base), never on the hashing thread.  libevent's threading need not
 * be on: no other thread touches the base.
 */
#ifndef POSTERN_HASHPOOL_H
#define POSTERN_HASHPOOL_H

#include <stddef.h>

struct event_base;
struct hashpool;
struct hashpool_port;

/* Runs on a hashing thread; must not touch event-loop state. */
typedef void	(*hashpool_work_fn)(void *arg);
/* Runs on the submitting worker's loop, exactly once per accepted job. */
typedef void	(*hashpool_done_fn)(void *arg);

/* <nthreads> threads (>= 1) and room for <queue_max> waiting jobs. */
struct hashpool	*hashpool_new(unsigned int nthreads, unsigned int queue_max);
/*
 * Stop the threads once every queued job has run (their completions still
 * go to their ports).  NULL-safe.  Free the ports afterwards.
 */
void		 hashpool_free(struct hashpool *hp);

/* A worker's completion port, made in (and used only by) <base>'s thread. */
struct hashpool_port *hashpool_port_new(struct event_base *base);
/*
 * Wait for the port's jobs still running or queued, run their completions
 * here (on the caller's thread), then free the port.  NULL-safe.
 */
void		 hashpool_port_free(struct hashpool_port *port);

/*
 * Queue <work>(<arg>) and then <done>(<arg>) on <port>'s loop.  Returns 0,
 * or -1 when the queue is full or the pool is stopping: neither callback
 * will run and the caller keeps <arg>.
 */
int	hashpool_submit(struct hashpool *hp, struct hashpool_port *port,
	    hashpool_work_fn work, hashpool_done_fn done, void *arg);

/*
 * Add the time each job waits in the queue to histogram <h> (kept by the
 * caller for as long as <hp>), from now on; NULL stops it.
 */
struct metrics_hist;
void	hashpool_observe_wait(struct hashpool *hp, struct metrics_hist *h);

/* Jobs waiting (not yet running), for metrics and tests. */
size_t	hashpool_queued(struct hashpool *hp);

#endif
