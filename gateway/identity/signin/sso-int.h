/*
 * What sso.c (the endpoints, the provider exchange) shares with ssolink.c
 * (accounts, org roles, the session, back-channel logout).  Internal to
 * identity/signin.
 */
#ifndef POSTERN_SSO_INT_H
#define POSTERN_SSO_INT_H

#include <stddef.h>

struct evbuffer;

#include <jansson.h>

#include "auth-int.h"
#include "redirect.h"
#include "device.h"
#include "session.h"
#include "ssotoken.h"
#include "step.h"
#include "user.h"

#define SSO_STATE_LEN	43	/* base64url of 32 random bytes */
#define SSO_HOST_MAX	300
#define SSO_URL_MAX	8192	/* the authorization URL we send */
#define SSO_SKEW	120	/* seconds of clock skew on exp/iat */
#define SSO_IAT_AGE	600	/* an id_token older than this is stale */

/* One flow on one request: a start, a callback or a logout token. */
struct sso_flow {
	struct auth_step step;
	struct auth_rate rate;
	const struct config_sso_provider *p;	/* in step.cfg */
	char		 rd[REDIRECT_MAX + 1];	/* checked return URL */
	char		 hint[USER_EMAILMAX + 1]; /* login_hint, or "" */
	char		 state[SSO_STATE_LEN + 1];
	char		 binding[SSO_STATE_LEN + 1]; /* the browser's cookie */
	char		 host[SSO_HOST_MAX];	/* host[:port] of the flow */
	char		*code;		/* the authorization code (owned) */
	char		*url;		/* the authorization URL (owned) */
	char		*token;		/* id_token or logout_token (owned) */
	char		 kid[128];	/* of the token's header */
	int		 kid_retry;	/* keys fetched again once */
	int		 taken;		/* the callback took a stored state */
	struct sso_claims claims;
	/* the account (ssolink.c) */
	char		 user[USER_IDLEN + 1];
	char		 email[USER_EMAILMAX + 1];
	int		 totp;		/* the user has a second factor */
	int		 mfa;		/* the provider's counts (trust_mfa) */
	const char	*how;		/* "known", "linked", "provisioned" */
	char		 sid[SESSION_ID_LEN + 2];	/* our new session */
	struct device_origin dev;	/* address, browser, device cookie */
};

/* The flow whose step record is <s>. */
#define SSO_FLOW(s)	AUTH_STEP_STATE((s), struct sso_flow, step)

/*
 * A page about the flow of <f> (status <status>): <title>, <text>, and a
 * link back to the sign-in page (keeping the return URL); <reason> is
 * logged and audited as a failed SSO sign-in.  Ends the step.
 */
void	sso_fail(struct sso_flow *f, int status, const char *title,
	    const char *text, const char *reason);
/* sso_fail() with the {{provider}} of <title> and <text> (message keys)
 * named <provider>; sso_fail() names the flow's own. */
void	sso_fail_as(struct sso_flow *f, int status, const char *title,
	    const char *text, const char *provider, const char *reason);
/* A new flow for <ex> through provider <p>, its step started; NULL when
 * out of memory or without a store (then answered 503). */
struct sso_flow	*sso_flow_new(struct exchange *ex,
		    const struct config_sso_provider *p);
/* Append "&name=pct(value)" (or "?...") to <url> (<size>); 0 or -1. */
int	sso_param(char *url, size_t size, const char *name, const char *value);
/* The host[:port] a flow on <ex> runs on (its redirect URI's); 0 or -1. */
int	sso_host(struct exchange *ex, char *out, size_t size);
/* ssologout.c: the body of POST .../backchannel-logout. */
void	sso_on_bcl_form(struct exchange *ex, struct evbuffer *body);
/* A page for <ex> (no flow): <title>, <text> (message keys), a link back
 * to sign-in keeping <rd>; <reason> is logged. */
void	sso_page(struct exchange *ex, int status, const char *rd,
	    const char *title, const char *text, const char *reason);
/* Unlink <f> from its exchange (returned, or NULL if it closed) so that
 * it can be answered before auth_step_done() frees <f>. */
struct exchange *sso_detach(struct sso_flow *f);
/* Answer the back-channel logout of <f> with <status> (200: done),
 * audited; ends the step. */
void	sso_bcl_answer(struct sso_flow *f, int status, const char *reason);
/* The 32-byte SHA-256 of <s> as 64 hex digits into <hex> (65 bytes). */
void	sso_sha256_hex(const char *s, size_t len, char *hex);

/* ssolink.c: the id_token was valid: find or make the account, sign in. */
void	sso_link(struct sso_flow *f);
/* ssolink.c: a logout token was valid: end the sessions it names. */
void	sso_logout_sessions(struct sso_flow *f);

#endif
