/*
 * The sso: section of the configuration (loader/configsso.c reads it):
 * OpenID Connect providers Postern signs people in with, and the orgs
 * whose members must use one.  docs/sso.md and conf/postern.yaml document
 * every key.
 */
#ifndef POSTERN_CONFSSO_H
#define POSTERN_CONFSSO_H

#include <stddef.h>
#include <stdint.h>

#include "confaddr.h"

#define SSO_NAME_MAX	32	/* provider names: [a-z0-9-], 1..32 */

enum config_sso_type {
	CONFIG_SSO_OIDC = 0,	/* any issuer, found by discovery */
	CONFIG_SSO_GOOGLE,	/* preset: Google's issuer and scopes */
};

/* How Postern authenticates itself at the token endpoint. */
enum config_sso_auth {
	CONFIG_SSO_SECRET_BASIC = 0,	/* client_secret_basic (default) */
	CONFIG_SSO_SECRET_POST,		/* client_secret_post */
	CONFIG_SSO_PRIVATE_KEY_JWT,	/* ES256 client assertion */
};

/*
 * One claims: entry: a user whose <claim> (a string, or an array holding
 * it) equals <value> becomes a member of <org> with <role> at every sign-in
 * through the provider.  <value> NULL: any value; <org> NULL: the claim's
 * value names the org.
 */
struct config_sso_map {
	char		*claim;
	char		*value;
	char		*org;
	char		*role;
	struct config_pos pos;
};

/* One entry of sso.providers. */
struct config_sso_provider {
	char		*name;		/* in paths: /.postern/sso/<name>/ */
	enum config_sso_type type;
	char		*display_name;	/* the button: "Sign in with ..." */
	char		*issuer;	/* exact iss; google: preset */
	char		*discovery_url;	/* default issuer + well-known */
	char		*client_id;
	char		*client_secret;	/* from a file, a credential or a
					 * sealed value; wiped; NULL with
					 * private_key_jwt */
	char		*sealed;	/* client_secret: "sealed:v1..." */
	enum config_sso_auth client_auth;
	char		*private_key_file; /* PEM EC P-256, private_key_jwt */
	struct evp_pkey_st *private_key; /* loaded from it (EVP_PKEY) */
	char		*key_id;	/* kid of that key, or NULL */
	char		**scopes;	/* "openid" first */
	size_t		 nscopes;
	char		*hosted_domain;	/* google: the hd claim must equal */
	struct config_names email_domains; /* allow-list; empty: any */
	int		 link_by_email;	/* link to a user with the same
					 * verified email */
	int		 provision;	/* create unknown users */
	int		 trust_mfa;	/* amr "mfa"/"otp"/"hwk" counts as
					 * the second factor */
	struct config_sso_map *maps;	/* claims: */
	size_t		 nmaps;
	char		*ca_file;	/* PEM CAs; NULL: system store */
	uint64_t	 timeout;	/* ms, one HTTP exchange */
	char		*post_logout_redirect; /* path on the app host, or
					 * NULL: no RP-initiated logout */
	int		 backchannel_logout; /* accept logout tokens */
	struct config_pos pos;
};

/* One entry of sso.orgs: an org whose members sign in by <provider>. */
struct config_sso_org {
	char		*org;		/* slug */
	char		*provider;	/* a provider's name */
	int		 required;	/* no password or magic link */
	struct config_names domains;	/* emails routed to <provider> */
	struct config_pos pos;
};

/* The sso: section; NULL in the snapshot when there is none. */
struct config_sso {
	struct config_sso_provider *providers;
	size_t		 nproviders;
	struct config_sso_org *orgs;
	size_t		 norgs;
	uint64_t	 flow_ttl;	/* ms a started sign-in may take */
};

/* The provider named <name> (<len> bytes), or NULL. */
const struct config_sso_provider *config_sso_provider(
		    const struct config_sso *, const char *name, size_t len);

#endif
