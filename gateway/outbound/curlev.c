/*
 * libcurl's multi-socket API on a libevent loop (see curlev.h): curl says
 * which sockets to watch (curlev_on_socket) and when to time out
 * (curlev_on_timer); libevent calls back into curl_multi_socket_action,
 * and finished transfers are collected and reported.
 */
#include <pthread.h>
#include <stdlib.h>
#include <sys/queue.h>

#include <event2/event.h>

#include "curlev.h"
#include "timeutil.h"

/* A socket libcurl asked us to watch; freed on CURL_POLL_REMOVE. */
struct curlev_sock {
	LIST_ENTRY(curlev_sock)	 entry;
	struct event		*ev;
};

struct curlev {
	struct event_base	*base;
	CURLM			*multi;
	struct event		*timer;		/* libcurl's timeout */
	curlev_done_fn		 done;
	void			*arg;
	LIST_HEAD(, curlev_sock) socks;
};

static pthread_once_t	curlev_once = PTHREAD_ONCE_INIT;
static CURLcode		curlev_init_rc;

static void
curlev_init(void)
{
	curlev_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

CURLcode
curlev_global_init(void)
{
	(void)pthread_once(&curlev_once, curlev_init);
	return curlev_init_rc;
}

/* Report every finished transfer. */
static void
curlev_collect(struct curlev *cv)
{
	CURLMsg		*cm;
	CURLcode	 code;
	CURL		*e;
	int		 left;

	while ((cm = curl_multi_info_read(cv->multi, &left)) != NULL) {
		if (cm->msg != CURLMSG_DONE)
			continue;
		e = cm->easy_handle;
		code = cm->data.result;	/* cm dies with the handle */
		(void)curl_multi_remove_handle(cv->multi, e);
		cv->done(cv->arg, e, code);
	}
}

static void
curlev_on_io(evutil_socket_t fd, short ev, void *arg)
{
	struct curlev	*cv = arg;
	int		 running, flags = 0;

	if (ev & EV_READ)
		flags |= CURL_CSELECT_IN;
	if (ev & EV_WRITE)
		flags |= CURL_CSELECT_OUT;
	(void)curl_multi_socket_action(cv->multi, fd, flags, &running);
	curlev_collect(cv);
}

static void
curlev_on_timeout(evutil_socket_t fd, short ev, void *arg)
{
	struct curlev	*cv = arg;
	int		 running;

	(void)fd;
	(void)ev;
	(void)curl_multi_socket_action(cv->multi, CURL_SOCKET_TIMEOUT, 0,
	    &running);
	curlev_collect(cv);
}

/* CURLMOPT_SOCKETFUNCTION: watch <s> for <what>, or stop watching it. */
static int
curlev_on_socket(CURL *e, curl_socket_t s, int what, void *userp,
    void *socketp)
{
	struct curlev		*cv = userp;
	struct curlev_sock	*cs = socketp;
	short			 ev = EV_PERSIST;

	(void)e;
	if (what == CURL_POLL_REMOVE) {
		if (cs != NULL) {
			LIST_REMOVE(cs, entry);
			event_free(cs->ev);
			free(cs);
		}
		return 0;
	}
	if (what & CURL_POLL_IN)
		ev |= EV_READ;
	if (what & CURL_POLL_OUT)
		ev |= EV_WRITE;
	if (cs == NULL) {
		if ((cs = calloc(1, sizeof(*cs))) == NULL ||
		    (cs->ev = event_new(cv->base, s, ev, curlev_on_io, cv)) ==
		    NULL) {
			free(cs);
			return -1;
		}
		LIST_INSERT_HEAD(&cv->socks, cs, entry);
		(void)curl_multi_assign(cv->multi, s, cs);
	} else {
		(void)event_del(cs->ev);
		(void)event_assign(cs->ev, cv->base, s, ev, curlev_on_io, cv);
	}
	return event_add(cs->ev, NULL) == 0 ? 0 : -1;
}

/* CURLMOPT_TIMERFUNCTION: one timer; -1 removes it. */
static int
curlev_on_timer(CURLM *multi, long timeout_ms, void *userp)
{
	struct curlev	*cv = userp;
	struct timeval	 tv;

	(void)multi;
	if (timeout_ms < 0)
		return event_del(cv->timer) == 0 ? 0 : -1;
	return evtimer_add(cv->timer, timeutil_tv(&tv,
	    (uint64_t)timeout_ms)) == 0 ? 0 : -1;
}

struct curlev *
curlev_new(struct event_base *base, curlev_done_fn done, void *arg)
{
	struct curlev	*cv;

	if (curlev_global_init() != CURLE_OK ||
	    (cv = calloc(1, sizeof(*cv))) == NULL)
		return NULL;
	cv->base = base;
	cv->done = done;
	cv->arg = arg;
	LIST_INIT(&cv->socks);
	if ((cv->multi = curl_multi_init()) == NULL ||
	    (cv->timer = evtimer_new(base, curlev_on_timeout, cv)) == NULL ||
	    curl_multi_setopt(cv->multi, CURLMOPT_SOCKETFUNCTION,
	    curlev_on_socket) != CURLM_OK ||
	    curl_multi_setopt(cv->multi, CURLMOPT_SOCKETDATA, cv) != CURLM_OK ||
	    curl_multi_setopt(cv->multi, CURLMOPT_TIMERFUNCTION,
	    curlev_on_timer) != CURLM_OK ||
	    curl_multi_setopt(cv->multi, CURLMOPT_TIMERDATA, cv) != CURLM_OK) {
		curlev_free(cv);
		return NULL;
	}
	return cv;
}

int
curlev_add(struct curlev *cv, CURL *easy)
{
	return curl_multi_add_handle(cv->multi, easy) == CURLM_OK ? 0 : -1;
}

void
curlev_remove(struct curlev *cv, CURL *easy)
{
	(void)curl_multi_remove_handle(cv->multi, easy);
}

void
curlev_free(struct curlev *cv)
{
	struct curlev_sock	*cs;

	if (cv == NULL)
		return;
	if (cv->multi != NULL)
		(void)curl_multi_cleanup(cv->multi);	/* may close sockets */
	while ((cs = LIST_FIRST(&cv->socks)) != NULL) {
		LIST_REMOVE(cs, entry);
		event_free(cs->ev);
		free(cs);
	}
	if (cv->timer != NULL)
		event_free(cv->timer);
	free(cv);
}
