/*
 * Single sign-on with OpenID Connect providers (the sso: section): the
 * Authorization Code flow with PKCE S256 as a relying party, accounts
 * linked or provisioned from the provider's verified claims, org roles
 * from claim maps, per-org enforcement, and the provider's logout
 * (RP-initiated, and Back-Channel Logout 1.0).  docs/sso.md describes it
 * for operators.
 *
 * Paths, each per provider:
 *	GET  /.postern/sso/<provider>/start?rd=URL[&login_hint=EMAIL]
 *	GET  /.postern/sso/<provider>/callback?code=..&state=..
 *	POST /.postern/sso/<provider>/backchannel-logout (logout_token=...)
 *
 * The flow's state lives in Redis under the SHA-256 of the random state
 * value, single use, for sso.flow_ttl, bound to the browser that started
 * it by a cookie; the PKCE verifier and the nonce are MACs of the state
 * under the gateway secret, so Redis holds nothing that would complete a
 * sign-in.  No access or refresh token is kept.
 */
#ifndef POSTERN_SSO_H
#define POSTERN_SSO_H

#include <stddef.h>

#include "store.h"

struct config;
struct config_sso_provider;
struct exchange;
struct store;

#define SSO_PATH	"/.postern/sso/"
#define SSO_COOKIE	"__Host-postern-sso"
/* A user's linked identities: provider name -> its sub (ssolink.c). */
#define SSO_KEY_LINKS	STORE_LAYOUT("user:<id>:sso")
/* The user id linked to a provider's sub (its SHA-256 hex; ssolink.c). */
#define SSO_KEY_ID	STORE_LAYOUT("ssoid:<provider>:<sha256hex>")

/* Serve /.postern/sso/...: 1 if <ex>'s request was one (it is answered or
 * pending), 0 if not. */
int	sso_builtin(struct exchange *ex);

/*
 * Home-realm discovery: the provider whose org (sso.orgs) lists the domain
 * of <email>, or NULL.  *<required> is set when that org forbids other
 * ways in.
 */
const struct config_sso_provider *sso_realm(const struct config *cfg,
	    const char *email, int *required);

/* 1 if some org of sso.orgs is required to sign in by its provider. */
int	sso_any_required(const struct config *cfg);
/* The provider org <slug> must sign in with, or NULL. */
const struct config_sso_provider *sso_org_required(const struct config *cfg,
	    const char *slug);

/*
 * Answer <ex> with a redirect to the start of <p>'s flow, keeping the
 * checked return URL <rd> and <email> as the login hint (may be NULL).
 */
void	sso_send_to(struct exchange *ex, const struct config_sso_provider *p,
	    const char *rd, const char *email);

/*
 * The session of <user> through <p> ended (POST /.postern/logout): end the
 * provider's session too when it offers RP-initiated logout (its
 * end_session_endpoint, with client_id and post_logout_redirect_uri
 * https://<this host><post_logout_redirect>), else back to sign-in.
 */
void	sso_logout(struct exchange *ex, const struct config_sso_provider *p,
	    const char *user);

/* The provider named by session method <method> ("sso:NAME"), or NULL. */
const struct config_sso_provider *sso_method_provider(
	    const struct config *cfg, const char *method);

#endif
