/*
 * A libcurl multi handle driven by a libevent loop (curl's multi-socket
 * API: CURLMOPT_SOCKETFUNCTION and CURLMOPT_TIMERFUNCTION): transfers run
 * on the loop's thread and never block it.  Used by outbound mail and
 * webhooks.  One per user per worker.
 */
#ifndef POSTERN_CURLEV_H
#define POSTERN_CURLEV_H

#include <curl/curl.h>

struct event_base;
struct curlev;

/*
 * A transfer ended: <easy> (already removed from the multi handle; the
 * callee cleans it up) with <code>.  Called from the loop, never from
 * within curlev_add().
 */
typedef void	(*curlev_done_fn)(void *arg, CURL *easy, CURLcode code);

/* curl_global_init() once per process; CURLE_OK or its error. */
CURLcode	 curlev_global_init(void);
/* A multi handle on <base>; <done> is told of each finished transfer. */
struct curlev	*curlev_new(struct event_base *base, curlev_done_fn done,
		    void *arg);
/* Start <easy> (set up by the caller); 0, or -1 (not added). */
int		 curlev_add(struct curlev *, CURL *easy);
/* Stop <easy> early (it is not reported); the caller cleans it up. */
void		 curlev_remove(struct curlev *, CURL *easy);
/* Free; running transfers are dropped unreported.  NULL-safe. */
void		 curlev_free(struct curlev *);

#endif
