#ifndef TMP_GATEWAY_OUTBOUND_OIDC_H
#define TMP_GATEWAY_OUTBOUND_OIDC_H
#include <stddef.h>
#include <stdint.h>
struct config_sso_provider; struct jwks; struct httpc;
/* outbound/oidc.h  (oidcnet) */
struct oidc_meta {			/* valid during the callback only */
	const char	*issuer;
	const char	*authorization_endpoint;
	const char	*token_endpoint;
	const char	*end_session_endpoint;	/* or NULL */
	unsigned	 algs;			/* id_token algs the provider declares, within JWS_ALGS_ALL; default RS256 when it declares none */
	int		 pkce_s256;		/* code_challenge_methods_supported has S256 (absent: 1) */
	int		 backchannel_logout;	/* backchannel_logout_supported */
	const struct jwks *jwks;
};
struct oidc;				/* one per worker: the cache of every provider's metadata and keys */
struct oidc	*oidc_new(struct httpc *);
void		 oidc_free(struct oidc *);
typedef void	(*oidc_meta_cb)(void *arg, const struct oidc_meta *m, const char *err);
/* The discovery document (checked: its issuer must equal p->issuer exactly; endpoints https, or http on loopback) and JWKS of <p>, from the cache while fresh (HTTP cache headers, bounded to [60 s, 24 h]; stale entries are still served when a refetch fails, for at most 24 h) or fetched. <kid> non-NULL and not in the cached set: refetch the JWKS first, at most once per 30 s per provider (a flood of unknown kids costs one fetch). Concurrent callers for one provider share one fetch. Exactly one callback, never from within the call. Keyed by provider name + issuer + discovery URL (a reload with a changed provider starts afresh). */
int		 oidc_meta_get(struct oidc *, const struct config_sso_provider *p, const char *kid, oidc_meta_cb cb, void *arg);
typedef void	(*oidc_token_cb)(void *arg, const char *id_token, const char *err);
/* Redeem <code> at the token endpoint (grant_type=authorization_code, redirect_uri, code_verifier) with the provider's client authentication (client_secret_basic: RFC 6749 2.3.1 form-encoded id/secret; client_secret_post; private_key_jwt: an ES256 assertion, iss=sub=client_id, aud=token endpoint, jti random, exp 60 s). The answer is bounded (64 KiB), must be 200 with a JSON object with token_type Bearer (case-insensitive) and a string id_token, which is passed on (nothing else of the answer is kept; access/refresh tokens are dropped and wiped). Errors: the provider's "error" code (never its free-text description) or a transport error. */
int		 oidc_token(struct oidc *, const struct config_sso_provider *p, const char *token_endpoint, const char *code, const char *verifier, const char *redirect_uri, oidc_token_cb cb, void *arg);

#endif
