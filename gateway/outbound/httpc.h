/*
 * A small asynchronous HTTP client for the gateway's own requests to
 * identity providers (OpenID discovery, JWKS, token endpoints), over
 * libcurl's multi interface on the worker's loop (curlev.h): nothing
 * blocks.  Every exchange is bounded: https only (http:// is accepted for
 * a loopback host, 127.0.0.0/8, ::1 or localhost, for tests and local
 * providers), TLS peer and host verification on, no redirect followed, no
 * proxy, one timeout for the whole exchange, and an answer body over the
 * request's limit fails the request as soon as it is seen.  Bodies are
 * never logged (they may carry tokens) and are wiped when freed, as are
 * request bodies and headers.
 */
#ifndef POSTERN_HTTPC_H
#define POSTERN_HTTPC_H

#include <stddef.h>
#include <stdint.h>

struct event_base;

/* One per worker (or per command-line run), on an event_base, over curlev. */
struct httpc;

struct httpc_req {
	const char	*method;	/* "GET" or "POST" */
	const char	*url;		/* https:// (http:// only to loopback,
					 * for tests and local IdPs) */
	const char	*body;		/* POST body or NULL */
	const char	*content_type;	/* of body */
	const char	*const *headers; /* extra "Name: value" lines,
					 * NULL-terminated, or NULL */
	const char	*ca_file;	/* NULL: system store */
	uint64_t	 timeout;	/* ms, whole exchange (0: 10 s) */
	size_t		 max_body;	/* answer bodies larger than this fail */
};

struct httpc_resp {
	long		 status;
	const char	*body;		/* NUL-terminated, valid during the
					 * callback */
	size_t		 len;
	int64_t		 max_age;	/* seconds from Cache-Control max-age /
					 * no-store, no-cache (0) / Expires
					 * (against Date); -1 none */
	void		*easy;		/* for httpc_resp_header() */
};

/*
 * The value of the answer's last header <name> (case-insensitive), valid
 * during the callback, or NULL when there is none.  (ACME reads
 * Replay-Nonce, Location and Retry-After.)
 */
const char	*httpc_resp_header(const struct httpc_resp *resp,
		    const char *name);

/*
 * Exactly one call per accepted request, never from within httpc_start():
 * <resp> with err NULL (whatever the status), or <err> set and <resp> NULL.
 * <err> is a reason code: httpc_connect (resolve, refused, unreachable),
 * httpc_tls (handshake or verification), httpc_timeout, httpc_too_large,
 * httpc_failed (anything else libcurl reports), httpc_freed (httpc_free()
 * with the request pending).  The callback may start new requests; it
 * must not call httpc_free().
 */
typedef void	(*httpc_cb)(void *arg, const struct httpc_resp *resp,
		    const char *err);

struct httpc	*httpc_new(struct event_base *base);
/* The loop <h> runs on. */
struct event_base *httpc_base(const struct httpc *h);
/*
 * Start <req> (every string is copied; <req> may go once this returns):
 * 0, or -1 when refused (a URL that is not https or http to loopback, a
 * method other than GET or POST, no memory); then <cb> is never called.
 */
int		 httpc_start(struct httpc *, const struct httpc_req *,
		    httpc_cb cb, void *arg);
/* Pending requests get err "httpc_freed", then <h> goes.  NULL-safe. */
void		 httpc_free(struct httpc *h);

/*
 * 1 if <url> is one httpc_start() accepts: an absolute https:// URL, or
 * http:// to a loopback host; no user information.  For checking the
 * endpoints a provider publishes before using them.
 */
int		 httpc_url_allowed(const char *url);

#endif
