/*
 * An app of the configuration, read from its policy file: its hosts,
 * upstream, security headers and routes; and the lookup of a host's app.
 */
#ifndef POSTERN_CONFAPP_H
#define POSTERN_CONFAPP_H

#include <stddef.h>

#include "confaddr.h"

struct ssl_ctx_st;

/* An upstream URL such as http://127.0.0.1:8080 or https://app.internal. */
struct config_upstream {
	char		*url;		/* as written */
	int		 tls;		/* https:// */
	char		*host;		/* for Host/SNI and verification */
	char		*port;		/* numeric string */
	struct config_addr addr;	/* resolved at load */
	char		*server_name;	/* SNI + verification; NULL: host */
	char		*ca_file;	/* PEM CAs; NULL: system trust store */
	struct ssl_ctx_st *ssl_ctx;	/* https:// only; freed with the app */
};

/*
 * An app's security_headers (policy file).  A NULL value is not sent; see
 * headers.h for the defaults and policies/README.md for the keys.
 */
struct config_headers {
	int		 override;	/* mode: override (1) or fill (0) */
	char		*csp;		/* Content-Security-Policy */
	char		*frame_options;	/* DENY, SAMEORIGIN */
	char		*referrer_policy;
	char		*permissions_policy;
};

/*
 * identity_headers: a header the upstream gets besides X-Postern-*, with
 * one of the identity's values (for apps written for oauth2-proxy,
 * Authelia, ...).  Client-sent copies of <name> are always stripped.
 */
enum config_idvalue {
	CONFIG_ID_USER = 0,	/* the user id (X-Postern-User) */
	CONFIG_ID_EMAIL,
	CONFIG_ID_ORG,		/* the tenant org of the request */
	CONFIG_ID_ROLE,		/* the user's role in it */
	CONFIG_ID_ORG_ROLE,	/* "org:role" */
	CONFIG_ID_AUTH,		/* session, apikey or share */
};

struct config_idheader {
	char			*name;	/* as written: "Remote-User" */
	enum config_idvalue	 value;
};

#define CONFIG_IDHEADERS_MAX	16

struct headers_set;
struct route_table;

/* An app, from a policy file: who it serves and where it forwards. */
struct config_app {
	char		*name;		/* unique; the JWT audience */
	char		**hosts;	/* lower-case host names, no port */
	size_t		 nhosts;
	struct config_upstream upstream;
	char		*policy_file;	/* file it came from, for messages */
	struct config_pos pos;		/* of its name in policy_file */
	struct config_pos *host_pos;	/* of each host, for conflicts */
	struct config_headers sec;	/* security_headers */
	int		 hide_server_header; /* drop Server, X-Powered-By */
	int		 protect;	/* 1: every request needs a session */
	struct headers_set *headers;	/* built from sec at load */
	/* policy engine (route.h, decide.h) */
	struct route_table *routes;	/* NULL: no routes: key, protect rules */
	int		 host_tenant;	/* a host is "{org}.name": tenant label */
	char		*org;		/* app.org: one fixed tenant, or NULL */
	int		 case_insensitive_paths; /* upstream folds case */
	int		 method_override; /* pass X-HTTP-Method-Override &c. */
	int		 allow_clear_site_data; /* its Clear-Site-Data may
					 * wipe cookies (ours too) */
	struct config_idheader *idheaders; /* identity_headers */
	size_t		 nidheaders;
};

struct config;

/*
 * The app serving <host> (lower-case, no port), or NULL: an exact name,
 * else "*.rest" or "{org}.rest" for one more label (decide() reads the
 * tenant from that label), else a tenant's custom domain registered for
 * one of the apps (domainreg.h).
 */
const struct config_app *config_app_for_host(const struct config *,
		    const char *host);
/* Whether an app's host name or pattern covers <host> (custom domains
 * aside). */
int		 config_host_configured(const struct config *,
		    const char *host);
/*
 * The org a custom domain <host> binds, copied into <out> (<size> bytes):
 * 0, or -1 when <host> is a configured host or no custom domain.
 */
int		 config_domain_tenant(const struct config *, const char *host,
		    char *out, size_t size);

#endif
