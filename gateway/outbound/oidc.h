/*
 * OpenID Connect providers seen from a worker: each provider's discovery
 * document (OpenID Connect Discovery 1.0) and key set (JWKS), fetched
 * over httpc.h and cached with their HTTP cache headers, and the token
 * request that redeems an authorization code (RFC 6749 4.1.3) with the
 * provider's client authentication.  One struct oidc per worker, on the
 * worker's loop; nothing blocks.
 *
 * The discovery document and the JWKS are bounded (64 KiB each) and parsed
 * with jansson (duplicate keys refused).  A discovery document is used only
 * when its issuer equals the configured issuer exactly and its
 * authorization, token and jwks_uri endpoints are https (http only to a
 * loopback host); an end_session_endpoint that is not is ignored.  Every
 * failed fetch is logged once (event "sso_fetch", with the provider, the
 * URL and a reason code; never a body).
 */
#ifndef POSTERN_OIDC_H
#define POSTERN_OIDC_H

#include <stdint.h>

struct config_sso_provider;
struct httpc;
struct jwks;

#define OIDC_MAX_DOC		65536	/* bytes of discovery, JWKS, token
					 * answers */
#define OIDC_TTL_MIN		60	/* seconds a document is cached, */
#define OIDC_TTL_MAX		86400	/* whatever its headers say */
#define OIDC_TTL_DEFAULT	3600	/* without cache headers */
#define OIDC_STALE_MAX		86400	/* seconds past expiry an entry is
					 * still served when a refetch fails */
#define OIDC_KID_EVERY		30	/* seconds between refetches for an
					 * unknown kid, per provider */
#define OIDC_ENTRIES_MAX	64	/* cached providers per worker */

struct oidc_meta {			/* valid during the callback only */
	const char	*issuer;
	const char	*authorization_endpoint;
	const char	*token_endpoint;
	const char	*end_session_endpoint;	/* or NULL */
	unsigned	 algs;			/* id_token algs the provider
						 * declares, within
						 * JWS_ALGS_ALL; default RS256
						 * when it declares none */
	int		 pkce_s256;		/* code_challenge_methods_
						 * supported has S256 (absent:
						 * 1) */
	int		 backchannel_logout;	/* backchannel_logout_supported */
	const struct jwks *jwks;
	/* For `postern sso test` and logs: */
	const char	*jwks_uri;
	const char	*algs_declared;		/* the declared algs as
						 * published, space-separated
						 * ("" when none) */
	int64_t		 meta_ttl;		/* seconds each is cached for */
	int64_t		 jwks_ttl;		/* (after the bounds above) */
	int		 stale;			/* a refetch failed: served
						 * past expiry */
};

/* One per worker: the cache of every provider's metadata and keys. */
struct oidc;

/* A cache fetching through <h> (which must outlive it) on h's loop. */
struct oidc	*oidc_new(struct httpc *h);
/*
 * Free; callbacks still due are called with err "oidc_freed" first.
 * Fetches under way end in the background.  NULL-safe.
 */
void		 oidc_free(struct oidc *);

/*
 * <m> with err NULL, or m NULL and <err> a reason code: httpc's (httpc.h),
 * oidc_url (the discovery URL is not https or loopback http), oidc_status
 * (an answer other than 200), oidc_json, oidc_issuer, oidc_endpoint,
 * oidc_alg (no alg Postern accepts), oidc_jwks (no usable key), nomem,
 * oidc_freed.  The callback may call oidc_meta_get() and oidc_token()
 * (which refuse while oidc_free() runs); it must not call oidc_free().
 */
typedef void	(*oidc_meta_cb)(void *arg, const struct oidc_meta *m,
		    const char *err);

/*
 * The discovery document (checked: its issuer must equal p->issuer
 * exactly; endpoints https, or http on loopback) and JWKS of <p>, from
 * the cache while fresh (HTTP cache headers, bounded to [60 s, 24 h]; stale
 * entries are still served when a refetch fails, for at most 24 h) or
 * fetched.  <kid> non-NULL and not in the cached set: refetch the JWKS
 * first, at most once per 30 s per provider (a flood of unknown kids costs
 * one fetch).  Concurrent callers for one provider share one fetch.
 * Exactly one callback, never from within the call.  Keyed by provider
 * name + issuer + discovery URL (a reload with a changed provider starts
 * afresh).  <p> must stay valid until the callback (the caller holds its
 * snapshot).  Returns 0, or -1 (no memory, or 64 providers all busy) and
 * then no callback.
 */
int		 oidc_meta_get(struct oidc *,
		    const struct config_sso_provider *p, const char *kid,
		    oidc_meta_cb cb, void *arg);

/*
 * <id_token> with err NULL, or NULL and <err>: the provider's "error"
 * code (RFC 6749 5.2, such as invalid_grant; characters outside
 * [A-Za-z0-9_.-] make it oidc_token_error), oidc_token_status (an answer
 * other than 200 without one), oidc_token_answer (not a JSON object with
 * token_type Bearer and a string id_token), a reason code of httpc.h, or
 * oidc_freed.
 */
typedef void	(*oidc_token_cb)(void *arg, const char *id_token,
		    const char *err);

/*
 * Redeem <code> at the token endpoint (grant_type=authorization_code,
 * redirect_uri, code_verifier) with the provider's client authentication
 * (client_secret_basic: RFC 6749 2.3.1 form-encoded id/secret;
 * client_secret_post; private_key_jwt: an ES256 assertion, iss=sub=
 * client_id, aud=token endpoint, jti random, exp 60 s).  The answer is
 * bounded (64 KiB), must be 200 with a JSON object with token_type Bearer
 * (case-insensitive) and a string id_token, which is passed on (nothing
 * else of the answer is kept; access/refresh tokens are dropped and
 * wiped).  Errors: the provider's "error" code (never its free-text
 * description) or a transport error.  Exactly one callback, never from
 * within the call; returns 0, or -1 (a token endpoint httpc refuses, no
 * client key or secret, no memory) and then no callback.
 */
int		 oidc_token(struct oidc *,
		    const struct config_sso_provider *p,
		    const char *token_endpoint, const char *code,
		    const char *verifier, const char *redirect_uri,
		    oidc_token_cb cb, void *arg);

#endif
