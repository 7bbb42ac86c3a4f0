/*
 * What proxy.c (the connection, the request body, the tunnel) and
 * proxyresp.c (the response) share: the proxy itself.  Internal to the
 * two.
 */
#ifndef POSTERN_PROXY_INT_H
#define POSTERN_PROXY_INT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/time.h>

#include <event2/event_struct.h>

#include <http_parser.h>

#include "request.h"

struct exchange;
struct config_app;
struct conn;
struct evbuffer;
struct request_header;
struct worker;

#define PROXY_HEAD_MAX		(64 * 1024)	/* response head bytes */
#define PROXY_HEADERS_MAX	256

/*
 * A response header while the head is parsed: offsets into px->arena,
 * since the arena may move as it grows.  Names and values are appended
 * there in the order http-parser reports them, so the string being
 * extended is always the arena's last: one allocation per response
 * instead of one per name and value.
 */
struct proxy_field {
	size_t			 name;
	size_t			 value;		/* PROXY_NO_VALUE: none yet */
};
#define PROXY_NO_VALUE		SIZE_MAX

/* Owned by its client (ex->px); freed by the reaper only. */
struct proxy {
	struct exchange		*ex;		/* NULL once unlinked */
	struct conn		*conn;		/* the upstream connection */
	struct event		 reaper;
	http_parser		 parser;	/* the response */
	struct request_header	*hdrs;		/* response headers, into arena:
						 * set by proxy_resolve_headers() */
	struct proxy_field	*fields;	/* the same while parsing */
	size_t			 nhdrs, caphdrs;
	char			*arena;		/* header names and values */
	size_t			 arena_len, arena_cap;
	char			*reason;	/* response reason phrase */
	size_t			 head_bytes;
	int			 in_value;
	int			 interim;	/* parsing a 1xx response */
	int			 connected;
	int			 head_sent;	/* response head written */
	int			 complete;	/* response fully read */
	int			 out_chunked;	/* re-chunking for the client */
	int			 paused;	/* upstream reading stopped */
	int			 eof;		/* upstream closed */
	int			 closing;
	const char		*error;		/* parse failure reason */
	const struct config_app	*app;
	int			 reused;	/* the connection came from the pool */
	int			 retried;	/* already on a second connection */
	int			 got_bytes;	/* any response byte read */
	int			 websocket;	/* a WebSocket handshake went up */
	int			 tunnel;	/* after 101: bytes both ways */
	struct event		 idle_timer;	/* tunnel_idle_timeout */
	struct evbuffer		*out;		/* staged for proxy_send() */
	struct timeval		 last;		/* last tunnel traffic */
	struct worker		*w;
	struct proxy		*next_free;	/* in w->px_free */
};

/* Forget the parsed response head (a retry, or the next response). */
void	proxy_free_headers(struct proxy *);
/* Feed <len> bytes (len 0: EOF) to the response parser; 0 or -1. */
int	proxy_feed(struct proxy *, const char *data, size_t len,
	    size_t *used);
/* The upstream failed: log it and answer <status> (closes <px>). */
void	proxy_failed(struct proxy *, int status, const char *reason);

#endif
