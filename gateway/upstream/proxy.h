/*
 * The upstream side of one request: a connection to the app's upstream
 * (plain TCP or TLS, from the worker's keep-alive pool when one is idle),
 * the request head rebuilt from the parsed headers, both bodies streamed
 * with back-pressure, the response head filtered and given security
 * headers.  A WebSocket handshake answered with 101 turns the pair into a
 * byte tunnel.
 */
#ifndef POSTERN_PROXY_H
#define POSTERN_PROXY_H

struct exchange;
struct request;
struct worker;
struct config_app;

/* Upstream output beyond this stops reading the client's body. */
#define PROXY_HIWAT	(256 * 1024)

struct proxy;

/*
 * Start forwarding <ex>'s current request to <app>.  Returns the proxy
 * (owned by the client, which must proxy_close() it), or NULL if no
 * connection could even be started (the caller answers 502).
 */
struct proxy	*proxy_new(struct exchange *ex, const struct config_app *app);

/* Unlink from the client and free on the next loop turn; NULL-safe. */
void		 proxy_close(struct proxy *);

/* Free the worker's cache of freed proxies (at its exit). */
void		 proxy_cache_free(struct worker *);

/*
 * Move request body bytes from the client's input to the upstream, as far
 * as back-pressure allows.  On a bad body the client is answered or closed
 * (the proxy is closed with it): the caller must not touch it afterwards.
 */
void		 proxy_pump_body(struct proxy *);

/* The client's output drained: read from the upstream again. */
void		 proxy_resume(struct proxy *);

/*
 * A WebSocket tunnel (client in CLIENT_TUNNEL): move what the client sent
 * to the upstream, stopping the client's reads while that side is full.
 */
void		 proxy_tunnel_pump(struct proxy *);

/* Whether <req> is a WebSocket opening handshake (RFC 6455 4.1). */
int		 proxy_is_websocket(const struct request *req);

#endif
