/*
 * A harness for unit tests of the request path: a real configuration
 * snapshot loaded from YAML, a real worker with its event loop, and a real
 * connection (struct client over one end of a socketpair; the test writes
 * requests to and reads answers from the other end).  The layers above the
 * edge (worker_ops, worker.h) are recording functions: a test sees which
 * outcome each request got, and with what status, Location and headers.
 * No Redis: the worker has no store, so a step that needs it answers 503
 * (fail closed); tests decide "given an identity" with reqpath_ident.
 */
#ifndef POSTERN_REQPATH_H
#define POSTERN_REQPATH_H

#include <stddef.h>

#include "auth-int.h"
#include "client.h"
#include "client-int.h"
#include "config.h"
#include "exchange.h"
#include "worker.h"

struct reqpath;

/* What the layers above the edge do with a request for an app. */
typedef void	(*reqpath_fn)(struct exchange *);

struct reqpath_resp {
	int		 status;	/* 0: nothing came */
	char		 head[8192];	/* the response head, NUL-ended */
	char		 raw[16384];	/* every byte that came */
	size_t		 len;
	int		 closed;	/* the gateway closed its side */
};

struct reqpath {
	struct config	*cfg;
	struct server	 srv;
	struct worker	 w;
	struct worker_ops ops;
	struct client	*clt;
	int		 peer;		/* the test's end */
	/* recorded */
	int		 nrequest;	/* ops->request calls */
	int		 nbuiltin;	/* ops->builtin calls */
	int		 nforward;	/* ops->forward calls */
	int		 nupclose;	/* ops->up_close calls */
	char		 path[256];	/* ex->req->path at the last forward */
	char		 user[80];	/* ex->up.user there ("" anonymous) */
	char		 org[80], role[16];
	int		 assertion;	/* an assertion was signed */
	/* what ops->request does (default reqpath_decide) */
	reqpath_fn	 request;
	/* for reqpath_as_ident: the identity the request comes with */
	struct auth_ident ident;
};

/*
 * Load postern.yaml in a temporary directory holding "secret" (256 bits),
 * "cert.pem" and "key.pem" (P-256; the key also signs assertions) and the
 * policy files given as name, text pairs (NULL-ended): the server, tls,
 * secret_file and assertion sections, then <yaml> (its policies:, say).
 * Fails the test on any diagnostic.
 */
struct config	*reqpath_config(const char *yaml, ...);
/* An app "open" on open.example.com, public (protect: false). */
extern const char reqpath_open_app[];
/* A group teardown: remove the directory of reqpath_config(). */
int		 reqpath_teardown(void **state);

/*
 * Start <rp> on snapshot <cfg> (a reference moves to it): a worker, a
 * connection from 127.0.0.1 that came over TLS when <tls>.
 */
void		 reqpath_start(struct reqpath *rp, struct config *cfg, int tls);
/* Close the connection, free it and the worker. */
void		 reqpath_stop(struct reqpath *rp);

/* Send <bytes> (length <len>, or strlen) as the client. */
void		 reqpath_send(struct reqpath *rp, const char *bytes, size_t len);
/* Run the worker's loop until it is idle; then read what came. */
void		 reqpath_run(struct reqpath *rp, struct reqpath_resp *out);
/* Send <req> and run: the answer in <out>. */
void		 reqpath_do(struct reqpath *rp, const char *req,
		    struct reqpath_resp *out);
/* The value of header <name> in <r>'s head (case-insensitive), or NULL;
 * in a static buffer. */
const char	*reqpath_header(const struct reqpath_resp *r, const char *name);
/* The number of responses (status lines) in <r>. */
int		 reqpath_count(const struct reqpath_resp *r);
/* The current exchange of <rp>'s connection. */
struct exchange	*reqpath_ex(struct reqpath *rp);

/* ops->request as `postern serve` wires it: auth_decide(), then forward. */
void		 reqpath_decide(struct exchange *ex);
/* ops->request deciding again with rp->ident (what follows a session
 * lookup or a grant check that found rp->ident). */
void		 reqpath_as_ident(struct exchange *ex);

/*
 * ops->request flows with a bug, for the outcome guard: answer twice;
 * answer, then forward; forward, then answer; read a form (answered by
 * its callback), then answer at once; return with no outcome; read a form
 * whose callback returns with none.
 */
void		 reqpath_bug_twice(struct exchange *ex);
void		 reqpath_bug_answer_forward(struct exchange *ex);
void		 reqpath_bug_forward_answer(struct exchange *ex);
void		 reqpath_bug_form_answer(struct exchange *ex);
void		 reqpath_bug_forgets(struct exchange *ex);
void		 reqpath_bug_form_forgets(struct exchange *ex);

#endif
