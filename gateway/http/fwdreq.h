/*
 * Forward-auth mode: the original request a front proxy (nginx
 * auth_request, Caddy forward_auth, Traefik ForwardAuth) asks about, read
 * from the headers of its sub-request.  Traefik and Caddy send
 * X-Forwarded-Method, -Proto, -Host and -Uri; nginx configurations set
 * X-Original-Method and X-Original-URI (with X-Forwarded-Host and -Proto,
 * or the Host).  These headers mean something only from a trusted proxy:
 * the caller checks that first.
 */
#ifndef POSTERN_FWDREQ_H
#define POSTERN_FWDREQ_H

#include <stddef.h>

struct request;

/* The decision endpoint on a forward-auth listener. */
#define FWDREQ_PATH	"/.postern/auth"

#define FWDREQ_HOSTMAX	262	/* "name:port", as forwarded */

struct fwdreq {
	const char	*method;	/* "GET"...; in the request's headers */
	const char	*uri;		/* the original request target */
	const char	*host;		/* X-Forwarded-Host, else Host; or NULL */
	int		 https;		/* 1: https, 0: http, -1: not said */
	int		 nginx;		/* came as X-Original-URI: nginx, which
					 * cannot follow a redirect from the
					 * sub-request (see fwdreq_status()) */
};

/*
 * Read the original request of <req> into <f> (pointers into <req>'s
 * headers).  The method defaults to <req>'s own.  Returns 0, or -1 with
 * the reason code in *<reason> (all 400): "forward_missing" (no URI),
 * "forward_conflict" (a header twice with different values, or the
 * X-Forwarded- and X-Original- spellings disagreeing), "forward_invalid"
 * (a proto other than http or https, a URI with a space, a control or a
 * byte outside ASCII, a host or URI too long).
 */
int	fwdreq_read(const struct request *req, struct fwdreq *f,
	    const char **reason);

/*
 * A forwarded Host header only (the gateway pages on a forward-auth
 * listener, reached through the front proxy): X-Forwarded-Host into *<host>
 * (NULL when absent).  0, or -1 on conflicting copies.
 */
int	fwdreq_host(const struct request *req, const char **host);

/*
 * The status the front proxy gets for answer <status>: nginx's
 * auth_request passes on 2xx, 401 and 403 only (anything else is its 500),
 * so for <nginx> a redirect becomes 401 with its target in
 * X-Postern-Location for an `error_page 401 =` to follow.
 */
int	fwdreq_status(int status, int nginx);

#endif
