#ifndef TMP_GATEWAY_OUTBOUND_HTTPC_H
#define TMP_GATEWAY_OUTBOUND_HTTPC_H
#include <stddef.h>
#include <stdint.h>
struct event_base;
/* outbound/httpc.h  (oidcnet) */
struct httpc;		/* one per worker (or per CLI run), on an event_base, over curlev */
struct httpc_req {
	const char	*method;	/* "GET" or "POST" */
	const char	*url;		/* https:// (http:// only to loopback, for tests and local IdPs) */
	const char	*body;		/* POST body or NULL */
	const char	*content_type;	/* of body */
	const char	*const *headers; /* extra "Name: value" lines, NULL-terminated, or NULL */
	const char	*ca_file;	/* NULL: system store */
	uint64_t	 timeout;	/* ms, whole exchange */
	size_t		 max_body;	/* answer bodies larger than this fail */
};
struct httpc_resp {
	long		 status;
	const char	*body;		/* NUL-terminated, valid during the callback */
	size_t		 len;
	int64_t		 max_age;	/* seconds from Cache-Control max-age / no-store(0) / Expires; -1 none */
};
/* Exactly one call per accepted request, never from within httpc_start(): <resp> with err NULL, or err set (connection, TLS, timeout, too large, freed) and resp NULL. */
typedef void	(*httpc_cb)(void *arg, const struct httpc_resp *resp, const char *err);
struct httpc	*httpc_new(struct event_base *base);
int		 httpc_start(struct httpc *, const struct httpc_req *, httpc_cb, void *arg); /* 0 or -1 */
void		 httpc_free(struct httpc *);	/* pending requests get err "freed" */

#endif
