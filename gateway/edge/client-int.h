/*
 * What client.c (the connection) and clientreq.c (the request on it)
 * share, struct client first: private to the two.  Everyone else sees a
 * request through its struct exchange and the functions of client.h.
 */
#ifndef POSTERN_CLIENT_INT_H
#define POSTERN_CLIENT_INT_H

#include <stdint.h>

#include <sys/queue.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include "client.h"
#include "connlimit.h"
#include "exchange.h"

struct conn;
struct event;
struct pages_resp;
struct proxy;

/* Owned by its worker's client list; freed by the reaper only. */
struct client {
	TAILQ_ENTRY(client)	 entry;
	uint64_t		 id;
	uint64_t		 cfg_gen;	/* ex.cfg's generation (worker.h) */
	struct conn		*conn;		/* owns the fd and SSL */
	struct event		*reaper;	/* frees us on the next turn */
	struct event		*head_timer;	/* header_timeout */
	uint64_t		 head_deadline;	/* coarse ms clock; 0: none */
	struct event		*next;		/* serve a pipelined request */
	uint64_t		 read_ms;	/* read timeout last set on conn
						 * (0: none; CLIENT_MS_UNSET) */
	int			 dead;		/* client_close() ran */
	enum client_state	 state;
	int			 plain_redirect; /* plain listener redirecting */
	int			 forward_auth;	/* on a forward_auth listener */
	char			 peer[INET6_ADDRSTRLEN];
	struct sockaddr_storage	 peer_sa;	/* for trusted, per snapshot */
	struct connlimit_key	 climit;	/* counted per IP; see listener.c */

	int			 lingering;	/* discarding input before close */
	struct proxy		*px;		/* NULL unless forwarding */
	struct exchange		 ex;		/* the current request; ex.cfg is
						 * a reference the client holds:
						 * the snapshot deciding it */
};


#define CLIENT_AGENT_MAX	200	/* User-Agent bytes in the access log */
#define CLIENT_MS_UNSET		UINT64_MAX	/* conn timeouts not known */

/* Enter <st>: what is read and the timeouts follow it. */
void	client_set_state(struct client *, enum client_state st);
/* A request head is complete: a new request id, its clock started. */
void	client_new_id(struct client *);
/* The access-log line and metrics of the current request. */
void	client_log(struct client *, const char *reason);
/* The request head is in: route it. */
void	client_decide(struct client *);
/* Form body bytes came: move them in, call back once whole. */
void	client_pump_form(struct client *);
/* A local answer to a well-formed request (logged with <reason> if not
 * NULL); the connection may stay. */
void	client_local(struct client *, struct pages_resp *r,
	    const char *reason);
/* Whether <path> is the gateway's: /.postern or under /.postern/. */
int	client_reserved(const char *path);
/* A request for an app's path: its app by host, then ops->request. */
void	client_app_request(struct client *);

/* forward-auth mode (clientfwd.c) */
/* A forward_auth listener's request: 1 if answered (or being decided)
 * here, 0 for the gateway's pages, served as on a proxy listener. */
int	client_fwd_route(struct client *);
/* A decision allowed the request: 200 with the identity headers. */
void	client_fwd_allow(struct client *);
/* An answer to a decision request: a redirect's target also in
 * X-Postern-Location, 401 for nginx; *<buf> to free (cleansed). */
void	client_fwd_page(struct client *, struct pages_resp *r, char **buf);

#endif
