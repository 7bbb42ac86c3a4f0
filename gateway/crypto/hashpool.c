/*
 * The password-hash pool (see hashpool.h).  Lock order: a thread holds at
 * most one of pool->lock and port->lock, except hashpool_submit(), which
 * takes port->lock inside pool->lock; the hashing threads take port->lock
 * alone.  A hashing thread wakes a port's loop through an eventfd, not
 * event_active(): libevent's bases then need no locks (serve.c does not
 * turn on evthread), which the proxy's hot path would pay for.
 */
#include <sys/queue.h>

#include <errno.h>
#include <stdint.h>
#include <pthread.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <sys/resource.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "hashpool.h"
#include "log.h"
#include "metrics.h"
#include "timeutil.h"

/* One job; owned by the pool's queue, then by its port's done list. */
struct hashpool_job {
	TAILQ_ENTRY(hashpool_job) entry;
	hashpool_work_fn	 work;
	hashpool_done_fn	 done;
	void			*arg;
	struct hashpool_port	*port;
	uint64_t		 queued_us;	/* when submitted */
};
TAILQ_HEAD(hashpool_jobs, hashpool_job);

/* A worker's completion port; owned by that worker. */
struct hashpool_port {
	pthread_mutex_t		 lock;
	pthread_cond_t		 idle;		/* pending reached 0 */
	struct hashpool_jobs	 done;		/* finished, not yet delivered */
	size_t			 pending;	/* submitted, not yet finished */
	struct event		*ev;		/* delivers done on the loop */
	int			 efd;		/* eventfd that wakes it */
};

/* Owned by whoever made it (serve_main, the CLI, a test). */
struct hashpool {
	pthread_mutex_t		 lock;
	pthread_cond_t		 work;		/* a job was queued, or stop */
	struct hashpool_jobs	 queue;
	size_t			 nqueued;
	size_t			 queue_max;
	pthread_t		*threads;
	unsigned int		 nthreads;
	int			 stopping;
	struct metrics_hist	*wait;		/* time queued, or NULL */
};


/* Hand a finished job to its port and wake the port's loop. */
static void
hashpool_finish(struct hashpool_job *job)
{
	struct hashpool_port	*port = job->port;

	pthread_mutex_lock(&port->lock);
	TAILQ_INSERT_TAIL(&port->done, job, entry);
	/* Cannot fail but by overflowing 2^64 - 1 wake-ups. */
	if (write(port->efd, &(uint64_t){ 1 }, sizeof(uint64_t)) == -1)
		log_warnx("hashpool: eventfd: %s", strerror(errno));
	/* Last: hashpool_port_free() may free the port once this is 0. */
	if (--port->pending == 0)
		pthread_cond_broadcast(&port->idle);
	pthread_mutex_unlock(&port->lock);
}

static void *
hashpool_thread(void *arg)
{
	struct hashpool		*hp = arg;
	struct hashpool_job	*job;

	/*
	 * Hashing is slow on purpose and must not take the CPU from the
	 * event loops that proxy traffic: run these threads at the lowest
	 * priority (Linux nices per thread).  Best effort: a sandbox that
	 * denies setpriority() leaves them at the default.
	 */
	(void)setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), 19);
	for (;;) {
		pthread_mutex_lock(&hp->lock);
		while (TAILQ_EMPTY(&hp->queue) && !hp->stopping)
			pthread_cond_wait(&hp->work, &hp->lock);
		if ((job = TAILQ_FIRST(&hp->queue)) == NULL) {
			pthread_mutex_unlock(&hp->lock);	/* stopping */
			return NULL;
		}
		TAILQ_REMOVE(&hp->queue, job, entry);
		hp->nqueued--;
		if (hp->wait != NULL)
			metrics_observe(hp->wait, METRICS_SLOW,
			    timeutil_mono_us() - job->queued_us);
		pthread_mutex_unlock(&hp->lock);
		job->work(job->arg);
		hashpool_finish(job);
	}
}

struct hashpool *
hashpool_new(unsigned int nthreads, unsigned int queue_max)
{
	struct hashpool	*hp;
	unsigned int	 i;

	if (nthreads == 0 || (hp = calloc(1, sizeof(*hp))) == NULL)
		return NULL;
	pthread_mutex_init(&hp->lock, NULL);
	pthread_cond_init(&hp->work, NULL);
	TAILQ_INIT(&hp->queue);
	hp->queue_max = queue_max;
	if ((hp->threads = calloc(nthreads, sizeof(pthread_t))) == NULL) {
		hashpool_free(hp);
		return NULL;
	}
	for (i = 0; i < nthreads; i++) {
		if ((errno = pthread_create(&hp->threads[i], NULL,
		    hashpool_thread, hp)) != 0) {
			log_warn("hashpool: pthread_create");
			hashpool_free(hp);
			return NULL;
		}
		hp->nthreads = i + 1;
	}
	return hp;
}

void
hashpool_free(struct hashpool *hp)
{
	unsigned int	i;

	if (hp == NULL)
		return;
	pthread_mutex_lock(&hp->lock);
	hp->stopping = 1;
	pthread_cond_broadcast(&hp->work);
	pthread_mutex_unlock(&hp->lock);
	for (i = 0; i < hp->nthreads; i++)
		(void)pthread_join(hp->threads[i], NULL);
	free(hp->threads);
	pthread_cond_destroy(&hp->work);
	pthread_mutex_destroy(&hp->lock);
	free(hp);
}

/* Run the completions delivered so far; on the port's own thread. */
static void
hashpool_deliver(struct hashpool_port *port)
{
	struct hashpool_jobs	 jobs;
	struct hashpool_job	*job;

	TAILQ_INIT(&jobs);
	pthread_mutex_lock(&port->lock);
	TAILQ_CONCAT(&jobs, &port->done, entry);
	pthread_mutex_unlock(&port->lock);
	while ((job = TAILQ_FIRST(&jobs)) != NULL) {
		TAILQ_REMOVE(&jobs, job, entry);
		job->done(job->arg);
		free(job);
	}
}

static void
hashpool_on_done(evutil_socket_t fd, short ev, void *arg)
{
	uint64_t	n;

	if (read(fd, &n, sizeof(n)) == -1 && errno != EAGAIN)	/* reset */
		log_warnx("hashpool: eventfd: %s", strerror(errno));
	hashpool_deliver(arg);
}

struct hashpool_port *
hashpool_port_new(struct event_base *base)
{
	struct hashpool_port	*port;

	if ((port = calloc(1, sizeof(*port))) == NULL)
		return NULL;
	if ((port->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) == -1) {
		free(port);
		return NULL;
	}
	if ((port->ev = event_new(base, port->efd, EV_READ | EV_PERSIST,
	    hashpool_on_done, port)) == NULL || event_add(port->ev, NULL) == -1) {
		if (port->ev != NULL)
			event_free(port->ev);
		(void)close(port->efd);
		free(port);
		return NULL;
	}
	pthread_mutex_init(&port->lock, NULL);
	pthread_cond_init(&port->idle, NULL);
	TAILQ_INIT(&port->done);
	return port;
}

void
hashpool_port_free(struct hashpool_port *port)
{
	if (port == NULL)
		return;
	pthread_mutex_lock(&port->lock);
	while (port->pending > 0)
		pthread_cond_wait(&port->idle, &port->lock);
	pthread_mutex_unlock(&port->lock);
	hashpool_deliver(port);
	event_free(port->ev);
	(void)close(port->efd);
	pthread_cond_destroy(&port->idle);
	pthread_mutex_destroy(&port->lock);
	free(port);
}

int
hashpool_submit(struct hashpool *hp, struct hashpool_port *port,
    hashpool_work_fn work, hashpool_done_fn done, void *arg)
{
	struct hashpool_job	*job;

	if ((job = calloc(1, sizeof(*job))) == NULL)
		return -1;
	job->work = work;
	job->done = done;
	job->arg = arg;
	job->port = port;
	job->queued_us = timeutil_mono_us();
	pthread_mutex_lock(&hp->lock);
	if (hp->stopping || hp->nqueued >= hp->queue_max) {
		pthread_mutex_unlock(&hp->lock);
		free(job);
		return -1;
	}
	pthread_mutex_lock(&port->lock);
	port->pending++;
	pthread_mutex_unlock(&port->lock);
	TAILQ_INSERT_TAIL(&hp->queue, job, entry);
	hp->nqueued++;
	pthread_cond_signal(&hp->work);
	pthread_mutex_unlock(&hp->lock);
	return 0;
}

void
hashpool_observe_wait(struct hashpool *hp, struct metrics_hist *h)
{
	pthread_mutex_lock(&hp->lock);
	hp->wait = h;
	pthread_mutex_unlock(&hp->lock);
}

size_t
hashpool_queued(struct hashpool *hp)
{
	size_t	n;

	pthread_mutex_lock(&hp->lock);
	n = hp->nqueued;
	pthread_mutex_unlock(&hp->lock);
	return n;
}
