/*
 * One downstream connection: its socket (struct conn, TLS or plain), the
 * request being served and the protocol stage it is in.  Requests on a
 * connection are served one at a time, in order (pipelined ones wait in
 * the input).  struct client is private to client*.c (client-int.h): the
 * layers above see the current request as its struct exchange and act on
 * it through the functions below.
 */
#ifndef POSTERN_CLIENT_H
#define POSTERN_CLIENT_H

#include <stdint.h>
#include <time.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include "connlimit.h"
#include "exchange.h"

struct conn;
struct config;
struct config_app;
struct pages_resp;
struct evbuffer;
struct event;
struct timeval;
struct worker;

/* Output beyond this stops reading from the other side (back-pressure). */
#define CLIENT_HIWAT	(256 * 1024)

enum client_state {
	CLIENT_READ_HEAD = 0,	/* reading a request head */
	CLIENT_DECIDE,		/* head read; waiting for the decision */
	CLIENT_FORWARD,		/* request going upstream, no response yet */
	CLIENT_RESPOND,		/* a response is being written */
	CLIENT_IDLE,		/* keep-alive, between requests */
	CLIENT_CLOSING,		/* flushing the last response, then freed */
	CLIENT_TUNNEL,		/* after a WebSocket 101: bytes both ways */
};

/* What client_decide() concluded, now or later (client_resume()). */
enum client_verdict {
	CLIENT_ALLOW = 0,	/* forward to the app's upstream */
	CLIENT_DENY,		/* answer with an error status */
	CLIENT_PENDING,		/* an async check will call client_resume() */
};


/*
 * Take over <conn> (already set up for TLS or plain), accepted from <sa> on
 * a listener of <w>; <cfg> is a reference that moves to the client.  Each
 * request is decided with the snapshot current when its head arrives:
 * the client swaps <cfg> for a newer one between requests, never during.  On
 * failure returns NULL and the caller still owns both.
 */
struct client	*client_new(struct worker *w, struct conn *conn,
		    struct config *cfg, const struct sockaddr *sa,
		    int tls, int plain_redirect, uint16_t https_port,
		    const struct connlimit_key *climit);

/* The connection came on a `mode: forward_auth` listener. */
void		 client_forward_auth(struct client *);

/* Abort the connection now (reason for the debug log); idempotent. */
void		 client_close(struct exchange *, const char *reason);

/* Close the connection once its output has drained. */
void		 client_close_after_flush(struct exchange *);

/*
 * A reload swapped the configuration: each idle connection of <w> takes
 * the new snapshot now (the old one may then be freed); a busy one at its
 * next request, as every request does.
 */
void		 client_reload_all(struct worker *w);

/* <w> draining: close idle connections, the others after their response. */
void		 client_drain_all(struct worker *w);

/* Abort every connection of <w> (reason for the debug log). */
void		 client_close_all(struct worker *w, const char *reason);

/*
 * For the upstream side: the request's input (body bytes, tunnel bytes),
 * reading it on or off (back-pressure), and the connection's number for
 * debug logs.
 */
struct evbuffer	*client_input(struct exchange *);
void		 client_reading(struct exchange *, int on);
uint64_t	 client_id(const struct exchange *);

/*
 * The decision for a request in CLIENT_DECIDE arrived (from an async check
 * that client_decide() started): forward on CLIENT_ALLOW, otherwise answer
 * <status>.  A client closed meanwhile has unlinked its checker first.
 */
void		 client_resume(struct exchange *, enum client_verdict, int status);

/* Whether <sa> is in <cfg>'s trusted_proxies. */
int		 client_trusted(const struct config *cfg,
		    const struct sockaddr *sa);

/* For proxy.c: where the response goes and how it ends. */
struct evbuffer	*client_output(struct exchange *);
void		 client_response_started(struct exchange *, int status);
void		 client_response_done(struct exchange *);
/*
 * The upstream accepted a WebSocket handshake (its 101 is in the output):
 * the request is logged and over, and from now on the connection is a
 * tunnel that proxy.c pumps until either side closes.
 */
void		 client_tunnel(struct exchange *);
/* The upstream failed: an error page if nothing was sent yet, else abort. */
void		 client_upstream_failed(struct exchange *, int status,
		    const char *reason);
/*
 * Answer the current, well-formed request with <r> (the gateway's own
 * response); <reason> is logged for refusals, NULL otherwise.  This,
 * client_resume() and client_read_form() each record the request's one
 * outcome (exchange_decided()): a second one for the same request, or one
 * after it ended, is a bug (exchange_outcome_twice(): abort with
 * assertions, else the connection closes without a second write).  On a
 * closed client they do nothing.
 */
void		 client_answer(struct exchange *, struct pages_resp *r,
		    const char *reason);
/*
 * Read the current request's body, framed by Content-Length and at most
 * <max> bytes (chunked: 411; longer: 413), then call <cb> with it.  The
 * request stays in CLIENT_DECIDE meanwhile; <cb> must answer it.
 */
void		 client_read_form(struct exchange *, size_t max,
		    void (*cb)(struct exchange *, struct evbuffer *));
/*
 * A flow of <ex>'s request returned (<where>: "request", "builtin",
 * "form", "step"): if the request has no outcome, nothing pending
 * (ex->check) and the client is still there, the flow forgot to answer --
 * exchange_outcome_missing(), then 500 and close.  One compare when all
 * is well.
 */
void		 client_check_outcome(struct exchange *, const char *where);
/* The request body is bad (413, 400): refuse it and close. */
void		 client_refuse(struct exchange *, int status, const char *reason);
/* The request body finished reading (proxy_pump_body saw its end). */
void		 client_body_done(struct exchange *);

#endif
