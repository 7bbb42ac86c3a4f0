/*
 * Authentication on the request path: who is making a request (the
 * session cookie checked in the worker's session cache or in Redis), what
 * happens when nobody is (browsers go to the sign-in page, other clients
 * get 401), the sign-in and sign-out endpoints under /.postern/, and the
 * identity headers and signed assertion that go upstream.  Everything
 * that waits (Redis, the password hash) pauses the request (CLIENT_DECIDE)
 * and resumes it from the reply; a client that closes meanwhile unlinks
 * itself with auth_detach().
 */
#ifndef POSTERN_AUTH_H
#define POSTERN_AUTH_H

struct exchange;
struct evbuffer;

enum auth_verdict {
	AUTH_ALLOW = 0,		/* forward now */
	AUTH_PENDING,		/* answered or resumed later by auth.c */
};

/*
 * The app of <ex>'s request is known: decide whether it may go upstream.
 * AUTH_PENDING means auth.c answers the request or calls client_resume().
 */
enum auth_verdict auth_decide(struct exchange *ex);
/*
 * Serve the built-in endpoint for <ex>'s request path if it is one of
 * ours (/.postern/login, /.postern/logout, /.postern/jwks.json).  Returns
 * 1 if it took the request, 0 to leave it to the caller.
 */
int		auth_builtin(struct exchange *ex);
/*
 * <ex>'s request became a WebSocket tunnel: if a session opened it, check
 * that session every sessions.websocket_recheck and close the tunnel once
 * it is revoked, expired or its user disabled.
 */
void		auth_tunnel_watch(struct exchange *ex);
/* The client is closing: forget it in any pending check.  Idempotent. */
void		auth_detach(struct exchange *ex);
/* Free the identity of the finished request.  Idempotent. */
void		auth_reset(struct exchange *ex);
/*
 * The identity headers (X-Postern-User, -Email, -Auth, -Assertion, -Org,
 * -Role) for the request about to be forwarded, into ex->up (none for
 * an anonymous request), the assertion signed now.  Returns 0, or -1 when
 * it cannot be signed (the caller must not forward: never an unsigned
 * request).
 */
int		auth_upstream_headers(struct exchange *ex);
/*
 * The upstream answered <ex>'s request with X-Postern-Logout: end the
 * session it was made with (worker_ops.logout; see signout.c).
 */
void		auth_upstream_logout(struct exchange *ex, char *extra,
		    size_t size);
/* The gateway's own cookies, never forwarded (NULL-terminated). */
extern const char *const auth_cookie_names[];

#endif
