/*
 * The response of a forwarded request (see proxy.h): parsed by
 * http-parser, its head rebuilt by proxyhead.c, its body re-framed for
 * the client (re-chunked when the upstream's framing cannot pass), a 101
 * handing over to the tunnel.  The connection and the request body are
 * proxy.c's.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <strings.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/event_struct.h>
#include <event2/event.h>

#include "client.h"
#include "config.h"
#include "conn.h"
#include "log.h"
#include "pool.h"
#include "proxy.h"
#include "proxy-int.h"
#include "proxyhead.h"
#include "request.h"
#include "worker.h"
#include "tls.h"
#include "encode.h"

/* ---- response ---- */

static int
proxy_fail(struct proxy *px, const char *reason)
{
	if (px->error == NULL)
		px->error = reason;
	return -1;
}

/*
 * Append <len> bytes at <at> to px->arena: as a new string if <start>,
 * else to the last one (it is always the one being extended).  Every
 * string stays NUL-terminated.  0, or -1 with the reason set.
 */
static int
proxy_arena_add(struct proxy *px, int start, const char *at, size_t len)
{
	size_t	 need, cap;
	char	*n;

	if (!start)
		px->arena_len--;		/* over the NUL */
	need = px->arena_len + len + 1;
	if (need > px->arena_cap) {
		for (cap = px->arena_cap ? px->arena_cap : 1024; cap < need;)
			cap *= 2;
		if ((n = realloc(px->arena, cap)) == NULL) {
			if (!start)
				px->arena_len++;
			return proxy_fail(px, "nomem");
		}
		px->arena = n;
		px->arena_cap = cap;
	}
	memcpy(px->arena + px->arena_len, at, len);
	px->arena_len += len;
	px->arena[px->arena_len++] = '\0';
	return 0;
}

/* Room for twice as many headers (16 at first), parsed and resolved. */
static int
proxy_grow_fields(struct proxy *px)
{
	size_t			 n = px->caphdrs ? px->caphdrs * 2 : 16;
	struct proxy_field	*f;
	struct request_header	*h;

	if ((f = reallocarray(px->fields, n, sizeof(*f))) == NULL)
		return -1;
	px->fields = f;
	if ((h = reallocarray(px->hdrs, n, sizeof(*h))) == NULL)
		return -1;
	px->hdrs = h;
	px->caphdrs = n;
	return 0;
}

/* The head is in: point px->hdrs at the names and values in the arena. */
static void
proxy_resolve_headers(struct proxy *px)
{
	size_t	i;

	for (i = 0; i < px->nhdrs; i++) {
		px->hdrs[i].name = px->arena + px->fields[i].name;
		px->hdrs[i].value = px->fields[i].value == PROXY_NO_VALUE ?
		    NULL : px->arena + px->fields[i].value;
	}
}

static int
proxy_on_status(http_parser *p, const char *at, size_t len)
{
	struct proxy	*px = p->data;

	if ((px->head_bytes += len) > PROXY_HEAD_MAX)
		return proxy_fail(px, "upstream_head_too_large");
	return request_append(&px->reason, at, len) == -1 ?
	    proxy_fail(px, "nomem") : 0;
}

static int
proxy_on_header_field(http_parser *p, const char *at, size_t len)
{
	struct proxy	*px = p->data;
	struct proxy_field *f;

	if (px->head_sent)		/* trailers: dropped */
		return 0;
	if ((px->head_bytes += len) > PROXY_HEAD_MAX)
		return proxy_fail(px, "upstream_head_too_large");
	if (px->in_value || px->nhdrs == 0) {
		if (px->nhdrs >= PROXY_HEADERS_MAX)
			return proxy_fail(px, "upstream_head_too_large");
		if (px->nhdrs == px->caphdrs && proxy_grow_fields(px) == -1)
			return proxy_fail(px, "nomem");
		f = &px->fields[px->nhdrs++];
		f->name = px->arena_len;
		f->value = PROXY_NO_VALUE;
		px->in_value = 0;
		return proxy_arena_add(px, 1, at, len);
	}
	return proxy_arena_add(px, 0, at, len);
}

static int
proxy_on_header_value(http_parser *p, const char *at, size_t len)
{
	struct proxy	*px = p->data;
	struct proxy_field *f;

	if (px->head_sent)
		return 0;
	if ((px->head_bytes += len) > PROXY_HEAD_MAX)
		return proxy_fail(px, "upstream_head_too_large");
	f = &px->fields[px->nhdrs - 1];
	px->in_value = 1;
	if (f->value == PROXY_NO_VALUE) {
		f->value = px->arena_len;
		return proxy_arena_add(px, 1, at, len);
	}
	return proxy_arena_add(px, 0, at, len);
}

/*
 * The response framing for the client: Content-Length as the upstream
 * said, chunked for chunked or close-delimited bodies to HTTP/1.1
 * clients, or close-delimited (no keep-alive) for HTTP/1.0 clients.
 */
static void
proxy_add_framing(struct proxy *px, struct evbuffer *out, int nobody)
{
	struct exchange	*ex = px->ex;
	http_parser	*p = &px->parser;
	size_t		 i;

	if (nobody) {		/* HEAD, 204, 304: the length as stated */
		for (i = 0; i < px->nhdrs; i++)
			if (px->hdrs[i].value != NULL && strcasecmp(
			    px->hdrs[i].name, "content-length") == 0 &&
			    ex->req->method == HTTP_HEAD)
				(void)proxyhead_add_header(out,
				    "Content-Length", px->hdrs[i].value);
		return;
	}
	if (!(p->flags & F_CHUNKED) && p->content_length != ULLONG_MAX) {
		(void)proxyhead_add_number(out, "Content-Length",
		    (unsigned long long)p->content_length);
		return;
	}
	if (ex->req->http_minor >= 1) {
		px->out_chunked = 1;
		(void)evbuffer_add(out, "Transfer-Encoding: chunked\r\n", 28);
		return;
	}
	ex->keep_alive = 0;	/* HTTP/1.0: the close ends the body */
}

/*
 * The 101 answer to a WebSocket handshake (proxyhead_write_101()); from
 * here on proxy_on_read() starts the tunnel.
 */
static int
proxy_write_101(struct proxy *px, struct evbuffer *out)
{
	const char	*why;

	if (proxyhead_write_101(out, px->ex, px->hdrs, px->nhdrs,
	    px->websocket, &why) == -1)
		return proxy_fail(px, why);
	px->tunnel = 1;
	px->head_sent = 1;
	client_response_started(px->ex, 101);
	return 0;
}

static int
proxy_on_headers_complete(http_parser *p)
{
	struct proxy	*px = p->data;
	struct exchange	*ex = px->ex;
	struct evbuffer	*out = px->out;	/* flushed by proxy_on_read() */
	int		 nobody, status = p->status_code;

	proxy_resolve_headers(px);
	if (status / 100 == 1) {
		if (status == 101)
			return proxy_write_101(px, out);
		px->interim = 1;	/* 100, 103: dropped */
		return 0;
	}
	nobody = ex->req->method == HTTP_HEAD || status == 204 ||
	    status == 304;
	ex->keep_alive = exchange_keep_alive(ex, ex->w->draining,
	    1);
	if (proxyhead_write_response(out, ex, status, px->reason, px->hdrs,
	    px->nhdrs) == -1)
		return proxy_fail(px, "upstream_bad_header");
	proxy_add_framing(px, out, nobody);
	if (!ex->keep_alive)
		(void)evbuffer_add(out, "Connection: close\r\n", 19);
	else if (ex->req->http_minor == 0)
		(void)evbuffer_add(out, "Connection: keep-alive\r\n", 24);
	(void)evbuffer_add(out, "\r\n", 2);
	px->head_sent = 1;
	client_response_started(ex, status);
	return nobody && ex->req->method == HTTP_HEAD ? 1 : 0;
}

/* "<len in hex>\r\n", a chunk's size line, without printf. */
static int
proxy_add_chunk_size(struct evbuffer *out, size_t len)
{
	char	 buf[24], *d = buf + sizeof(buf);

	*--d = '\n';
	*--d = '\r';
	do {
		*--d = encode_hex_lower[len & 0xf];
	} while ((len >>= 4) != 0);
	return evbuffer_add(out, d, (size_t)(buf + sizeof(buf) - d));
}

static int
proxy_on_body(http_parser *p, const char *at, size_t len)
{
	struct proxy	*px = p->data;
	struct evbuffer	*out = px->out;

	px->ex->bytes += len;
	if (px->out_chunked)
		(void)proxy_add_chunk_size(out, len);
	(void)evbuffer_add(out, at, len);
	if (px->out_chunked)
		(void)evbuffer_add(out, "\r\n", 2);
	return 0;
}

static int
proxy_on_message_complete(http_parser *p)
{
	struct proxy	*px = p->data;

	if (px->tunnel) {		/* what follows is not HTTP */
		http_parser_pause(p, 1);
		return 0;
	}
	if (px->interim) {		/* the real response follows */
		px->interim = 0;
		proxy_free_headers(px);
		px->head_bytes = 0;
		return 0;
	}
	if (px->out_chunked)
		(void)evbuffer_add(px->out, "0\r\n\r\n", 5);
	px->complete = 1;
	http_parser_pause(p, 1);
	return 0;
}

static const http_parser_settings proxy_settings = {
	.on_status = proxy_on_status,
	.on_header_field = proxy_on_header_field,
	.on_header_value = proxy_on_header_value,
	.on_headers_complete = proxy_on_headers_complete,
	.on_body = proxy_on_body,
	.on_message_complete = proxy_on_message_complete,
};

/* The upstream broke the response: 502/504 if we can, else abort. */
void
proxy_failed(struct proxy *px, int status, const char *reason)
{
	struct exchange	*ex = px->ex;

	log_event(LOG_LEVEL_WARN, "upstream_error", "reason", reason,
	    "app", ex->app != NULL ? ex->app->name : NULL,
	    "request_id", ex->request_id, (const char *)NULL);
	client_upstream_failed(ex, status, reason);	/* closes px */
}

/* Feed <len> bytes (len 0: EOF) to the response parser. */
int
proxy_feed(struct proxy *px, const char *data, size_t len, size_t *used)
{
	enum http_errno	e;

	*used = http_parser_execute(&px->parser, &proxy_settings, data, len);
	e = HTTP_PARSER_ERRNO(&px->parser);
	if (px->error != NULL || (e != HPE_OK && e != HPE_PAUSED)) {
		if (px->error == NULL)
			px->error = "upstream_bad_response";
		return -1;
	}
	return 0;
}

