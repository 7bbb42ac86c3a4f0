/*
 * API keys and share links on the request path (grant.h keeps them in
 * Redis): "Authorization: Bearer pk_..." on routes that accept `apikey`;
 * a share link "?postern_share=ps_..." exchanged for a path-scoped
 * HTTP-only cookie and a redirect to the same URL without the token, then
 * that cookie on routes that accept `share`; and POST /.postern/shares, by
 * which an upstream holding a key with scope "shares:create" makes links.
 * auth.c calls in here; the pending checks and the identity are auth.c's
 * (auth-int.h).
 */
#ifndef POSTERN_AUTHGRANT_H
#define POSTERN_AUTHGRANT_H

#include <stddef.h>

struct exchange;
struct decision;
struct evbuffer;
struct grant;
struct request;

#define AUTHGRANT_COOKIE	"__Secure-postern-share"
#define AUTHGRANT_PARAM		"postern_share"
#define AUTHGRANT_SCOPE_CREATE	"shares:create"

/*
 * If <ex>'s query carries a share link's token, take the request (check
 * the grant, then redirect with the cookie, or refuse) and return 1; else
 * 0.  The token is never forwarded.
 */
int	authgrant_share_link(struct exchange *ex);
/*
 * The route (anonymous decision <d>) needs credentials: if the request
 * carries an API key or a share cookie the route accepts, check it and
 * return 1 (the request is answered or resumed later); a route that takes
 * no sessions is answered 401 here when neither is present.  0: go on
 * with the session cookie.
 */
int	authgrant_identify(struct exchange *ex, const struct decision *d);
/* POST /.postern/shares; 1 if the path is ours. */
int	authgrant_builtin(struct exchange *ex);
/*
 * What an endpoint of the gateway does with a valid API key <key> of its
 * caller; <arg> is the argument given to authgrant_with_key().  It ends
 * the request (exactly one outcome).
 */
typedef void	(*authgrant_key_fn)(struct exchange *ex,
		    const struct grant *key, const char *arg);
/*
 * Check API key <tok> (<len> bytes) under the `apikey` rate limits, then
 * call <fn> with it; an invalid key (401), a limit (429) or Redis failing
 * (503) is answered here.  <arg>: at most 2 KiB of text for <fn>.
 */
void	authgrant_with_key(struct exchange *ex, const char *tok, size_t len,
	    authgrant_key_fn fn, const char *arg);
/* The token of "Authorization: Bearer <token>", or NULL. */
const char *authgrant_bearer(const struct request *req, size_t *len);
/* Identity headers for a grant's request; 0 or -1 (see auth.h). */
int	authgrant_upstream_headers(struct exchange *ex);
/*
 * 1 if request header <name>: <value> is a gateway credential that must
 * not go upstream (an Authorization header carrying a Postern token).
 */
int	authgrant_header_ours(const char *name, const char *value);

#endif
