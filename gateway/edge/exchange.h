/*
 * One request and its response: everything that lives exactly as long as
 * one exchange on a connection (the parsed request, its app and id, the
 * timings, what was sent, who made it, the decision, the pending
 * asynchronous step, the form being read).  It is embedded in its
 * connection (struct client) and reused there from request to request:
 * exchange_reset() is the one place that ends a request's state, and
 * exchange_keep_alive() the one rule for whether the connection may carry
 * another request after it.
 */
#ifndef POSTERN_EXCHANGE_H
#define POSTERN_EXCHANGE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct auth_step;
struct auth_ident;
struct auth_watch;
struct config;
struct rcstr;
struct client;
struct config_app;
struct evbuffer;
struct request;
struct worker;

/*
 * How a request ends, chosen once per request (exchange_decided()): the
 * edge records it where each begins -- forward (client_resume() with
 * CLIENT_ALLOW), answer (client_answer() and the edge's own answers) and
 * read-form (client_read_form(); its callback then chooses again).
 */
enum exchange_outcome {
	EXCHANGE_UNDECIDED = 0,	/* none yet: decide it, or wait (ex->check) */
	EXCHANGE_FORWARD,	/* going upstream */
	EXCHANGE_ANSWER,	/* the gateway answered it */
	EXCHANGE_READ_FORM,	/* reading its form; the callback decides */
};

/*
 * The identity headers identity computed for the upstream before the
 * request was forwarded (the upstream head only copies them: nothing is
 * signed while it is written).  user NULL: none (anonymous).
 */
struct exchange_upstream {
	const char	*assertion;	/* X-Postern-Assertion: the text
					 * of assertion_ref */
	struct rcstr	*assertion_ref;	/* a reference: owned */
	const char	*user;		/* X-Postern-User */
	const char	*email;		/* X-Postern-Email, or NULL */
	const char	*auth;		/* X-Postern-Auth */
	const char	*org;		/* X-Postern-Org, or NULL */
	const char	*role;		/* X-Postern-Role, or NULL */
	char		 sub[80];	/* storage for user when made up */
};

struct exchange {
	struct client		*clt;		/* the connection it came on */
	/* the connection's (client.c keeps them current) */
	struct worker		*w;
	struct config		*cfg;		/* the snapshot deciding it (a
						 * reference the client holds) */
	const char		*peer;		/* the peer's address, text */
	int			 tls;		/* came in over TLS */
	int			 trusted;	/* peer in cfg's trusted_proxies */
	uint16_t		 https_port;	/* for redirects */
	struct auth_watch	*watch;		/* a tunnel's session check
						 * (identity's; outlives the
						 * request, ends with the conn) */
	struct request		*req;		/* owned; NULL between requests */
	int			 secure;	/* came over TLS: here, or at a
						 * trusted proxy (plain.h) */
	int			 fwd;		/* a forward-auth decision: req is
						 * the original request, and
						 * the answer goes to the front
						 * proxy (clientreq.c) */
	int			 fwd_nginx;	/* its URI came as X-Original-URI */
	int			 fwd_head;	/* the sub-request was a HEAD */
	char			 fwd_host[264];	/* its authority, as forwarded */
	const struct config_app	*app;		/* in the client's snapshot */
	char			 request_id[33];
	struct timespec		 start;
	int			 status;	/* sent, for the access log */
	uint64_t		 bytes;		/* response body bytes */
	int			 keep_alive;	/* this response keeps the conn */
	int			 body_done;	/* request body fully read */
	int			 head_sent;	/* a response head is out */
	int			 seen_bytes;	/* any byte of this request */
	enum exchange_outcome	 outcome;	/* exchange_decided(); kept after
						 * the request until the next
						 * head, to catch late ones */
	/* identity (auth.c) */
	struct auth_step	*check;		/* pending step; unlinked on close */
	struct auth_ident	*ident;		/* who, once known (owned) */
	char			 tenant[64];	/* decide()'s tenant, "" if none */
	char			 tenant_role[16]; /* ident's role in tenant */
	int			 rate_checked;	/* the route's class counted */
	const char		*auth_kind;	/* how it was let in, for the
						 * access log: "session", "sso",
						 * "apikey", "share", "public";
						 * NULL: not (yet) */
	struct exchange_upstream up;		/* identity headers, see above */
	/* the decision, for the access log */
	const char		*route;		/* the matched route's pattern
						 * (in cfg), for the log and
						 * the metrics; NULL: none */
	int			 decision;	/* enum metrics_decision */
	char			 deny_user[64];	/* a policy 403's user id, */
	const char		*deny_file;	/* its rule's file (in cfg) */
	size_t			 deny_line;	/* and line; 0: none */
	/* a gateway form being read (client_read_form()) */
	struct evbuffer		*form;
	void			(*form_cb)(struct exchange *, struct evbuffer *);
	/* the upstream */
	int			 up_started;	/* forwarding began at up_start */
	struct timespec		 up_start;
	int64_t			 upstream_us;	/* to the response head; -1: none */
};

/*
 * A second outcome for the same request (a bug in a flow): with assertions
 * (builds without NDEBUG, the tests') abort with a message naming both;
 * in a release build log one error event (reason outcome_twice) and
 * return -1: the caller closes the connection instead of writing again.
 */
int	exchange_outcome_twice(struct exchange *ex, enum exchange_outcome o);
/*
 * A request whose flow returned with no outcome and nothing pending (a
 * flow that forgot to answer): abort with assertions; in a release build
 * log one error event (reason outcome_missing) and return -1, after which
 * the caller answers 500 and closes.
 */
int	exchange_outcome_missing(struct exchange *ex, const char *where);

/*
 * Record outcome <o> for the request of <ex>: 0, or -1 (see
 * exchange_outcome_twice()) if it already had one.  The hot path is one
 * compare and one store.
 */
static inline int
exchange_decided(struct exchange *ex, enum exchange_outcome o)
{
	if (__builtin_expect(ex->outcome != EXCHANGE_UNDECIDED, 0))
		return exchange_outcome_twice(ex, o);
	ex->outcome = o;
	return 0;
}

/* The outcome's name for messages ("undecided", "forward"...). */
const char *exchange_outcome_name(enum exchange_outcome o);

/*
 * Whether the connection may carry another request after this exchange's
 * response: the client did not ask to close it (HTTP/1.0 without
 * keep-alive, Connection: close), the worker is not <draining>, and the
 * request body is read whole -- unless <streaming>: a response streamed
 * while the body may still be coming, whose end checks body_done again.
 */
int	exchange_keep_alive(const struct exchange *ex, int draining,
	    int streaming);

/*
 * Forget who made the request: the identity, the identity headers, the
 * tenant and role, the rate-limit mark.  Idempotent.
 */
void	exchange_forget_identity(struct exchange *ex);

/*
 * End the request: free what it owns (request, identity, assertion, form)
 * and clear its per-request fields.  What describes the connection after
 * it stays until the next request sets it: keep_alive, body_done (no
 * unread body in the input), the outcome (so that a late second outcome
 * is still caught), and the id, start and decision that the next request
 * head sets anew (client_new_id()).  A pending step must have been unlinked.
 */
void	exchange_reset(struct exchange *ex);
/*
 * Free the request of <ex> (NULL after), or keep it with its buffers for
 * the worker's next request head (worker.h: req_free).
 */
void	exchange_end_request(struct exchange *ex);
/* Free what worker <w> keeps of ended requests (their identities and the
 * requests themselves) for the next ones: when it stops. */
void	exchange_free_spares(struct worker *w);

#endif
