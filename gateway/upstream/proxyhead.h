/*
 * The heads of proxied messages: the request head rebuilt for the
 * upstream and the response head filtered for the client.  This is where
 * header hygiene lives: hop-by-hop headers (RFC 9110 7.6.1) and every
 * client header that folds onto a gateway-owned name are dropped before
 * the gateway adds its own, so no client header can remove or spoof them;
 * response headers are checked for CR, LF and control bytes, lose any
 * Set-Cookie or Clear-Site-Data that would touch the gateway's cookies
 * (one "upstream_header" event per response) and get the app's security
 * headers (headers.c).  Framing (Content-Length, chunked)
 * is the caller's: it depends on the parser state proxy.c keeps.
 */
#ifndef POSTERN_PROXYHEAD_H
#define POSTERN_PROXYHEAD_H

#include <stddef.h>

struct exchange;
struct evbuffer;
struct exchange_upstream;
struct request;
struct request_header;

/*
 * If <ex>'s request carries a client header folding onto X-Postern-*
 * (never forwarded: proxyhead_write_request() drops it), log one
 * "client_header" event, reason identity_header_spoof, with its name
 * (never its value).  Called once per request to an app, whatever the
 * decision.
 */
void	proxyhead_log_spoof(const struct exchange *ex);

/* Whether <req> is a WebSocket opening handshake (RFC 6455 4.1). */
int	proxyhead_is_websocket(const struct request *req);

/* Whether <name> is hop-by-hop (or framing the gateway redoes itself). */
int	proxyhead_hop_by_hop(const char *name);

/* Whether <name> is listed in a Connection header among the <n> at <h>. */
int	proxyhead_connection_listed(const struct request_header *h, size_t n,
	    const char *name);

/* "<name>: <value>\r\n" into <out>.  0, or -1 if <out> could not grow. */
int	proxyhead_add_header(struct evbuffer *out, const char *name,
	    const char *value);
/* "<name>: <n>\r\n" (decimal) into <out>.  0 or -1, as above. */
int	proxyhead_add_number(struct evbuffer *out, const char *name,
	    unsigned long long n);

/*
 * The identity headers in <u> (made by identity before forwarding, see
 * exchange.h) into <out>, copied as they are: X-Postern-User, -Email,
 * -Auth, -Assertion, -Org, -Role, those set only; nothing when <u> has no
 * user (anonymous).  0, or -1 if <out> could not grow.
 */
int	proxyhead_write_identity(struct evbuffer *out,
	    const struct exchange_upstream *u);

/*
 * The whole request head of <ex>'s current request for the upstream,
 * framing and final empty line included, into <out>.  <websocket>: ask
 * the upstream to upgrade.  Returns 0, or -1 if the identity headers
 * could not be made (then nothing may be forwarded: never an unsigned
 * request) or <out> could not grow.
 */
int	proxyhead_write_request(struct exchange *ex, int websocket,
	    struct evbuffer *out);

/*
 * An upstream response header naming the end of the session: with value
 * 1 (or true) the session the request was made with ends (worker_ops
 * logout); the header itself never reaches the client.
 */
#define PROXYHEAD_LOGOUT	"X-Postern-Logout"

/*
 * The status line, the <n> upstream headers at <h> (value NULL: skipped)
 * that may pass and the app's security headers, for <ex>, into <out>;
 * no framing headers and no final empty line.  <reason> is the upstream's
 * phrase (NULL or unusable: the standard one).  Every header is checked
 * before a byte is added: -1 (nothing added) if one carries CR, LF or a
 * control byte, else 0.
 */
int	proxyhead_write_response(struct evbuffer *out, struct exchange *ex,
	    int status, const char *reason, const struct request_header *h,
	    size_t n);

/*
 * The whole 101 head answering a WebSocket handshake (<websocket>: one
 * went up) of <ex>'s request, from the <n> upstream headers at <h>
 * without hop-by-hop ones.  Returns 0, or -1 with a stable reason code in
 * *<why> and nothing added.  <ex> may be NULL (tests): then nothing is
 * logged, and a Clear-Site-Data wiping cookies never passes.
 */
int	proxyhead_write_101(struct evbuffer *out, struct exchange *ex,
	    const struct request_header *h, size_t n, int websocket,
	    const char **why);

#endif
