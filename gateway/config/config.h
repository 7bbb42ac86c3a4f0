/*
 * The gateway's configuration: one YAML file (conf/postern.yaml documents
 * every key) plus the policy files it names.  config_load() parses them into
 * one immutable snapshot; a running gateway holds references to it and a
 * reload swaps in a new one (the old is freed when its last reference drops).
 *
 * The types of the sections are in their own headers, for a module that
 * reads only those: confacme.h, confaddr.h (addresses, prefixes, positions, names),
 * conflisten.h (listeners, certificates), confapp.h (apps from policy
 * files), confmail.h, confsso.h, confwebhook.h, confratelimit.h.  The snapshot
 * functions are in snapshot.c; loading is in loader/ (loader.h).
 */
#ifndef POSTERN_CONFIG_H
#define POSTERN_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "confacme.h"
#include "confaddr.h"
#include "confapp.h"
#include "conflisten.h"
#include "confmail.h"
#include "confsso.h"
#include "confwebhook.h"
#include "log.h"

#define CONFIG_MAX_SENTINELS	8	/* redis.sentinels */

struct diag;
struct secret_keys;
struct domainreg;
struct ratelimit_class;
struct catalog;
struct pagetmpl_set;
struct signer;

struct config {
	char		*path;		/* the config file as given */
	char		*dir;		/* relative file names resolve here */

	/* server */
	unsigned int	 workers;	/* 0 in the file means auto: resolved */
	struct config_listen *listen;
	size_t		 nlisten;
	struct config_addr admin;	/* metrics listener */
	int		 admin_enabled;
	struct config_cidr *trusted_proxies;
	size_t		 ntrusted_proxies;
	uint64_t	 max_connections;
	uint64_t	 max_connections_per_ip;

	/* limits (bytes, counts) */
	size_t		 max_request_line;	/* 414 beyond */
	size_t		 max_header_size;	/* 431 beyond */
	size_t		 max_headers;		/* 431 beyond */
	uint64_t	 max_body_size;		/* 413 beyond; 0 = no limit */
	int		 allow_underscore_headers; /* 0 (default): "_" in a name is a 400 */

	/* timeouts, in milliseconds */
	uint64_t	 header_timeout;	/* whole request head */
	uint64_t	 idle_timeout;		/* keep-alive between requests */
	uint64_t	 body_timeout;		/* between body reads/writes */
	uint64_t	 upstream_connect_timeout;
	uint64_t	 upstream_timeout;	/* response head from upstream */
	uint64_t	 upstream_idle_timeout;	/* pooled connection */
	uint64_t	 tunnel_idle_timeout;	/* WebSocket */
	uint64_t	 shutdown_timeout;	/* SIGTERM drain */

	/* tls */
	struct config_cert *certs;
	size_t		 ncerts;
	int		 tls_session_tickets;

	/* security headers on every response */
	uint64_t	 hsts_max_age;		/* seconds; 0 = no HSTS */
	int		 hsts_include_subdomains;
	int		 hsts_preload;
	struct headers_set *page_headers; /* gateway pages, built at load */

	/* redis */
	struct config_addr redis;
	char		*redis_username;	/* ACL user, or NULL */
	char		*redis_password_file;	/* or NULL */
	unsigned int	 redis_db;
	char		*redis_prefix;		/* default "postern:" */
	uint64_t	 redis_connect_timeout;	/* ms */
	uint64_t	 redis_command_timeout;	/* ms */
	/* Sentinel (instead of a non-default address): the primary asked of
	 * these, by its master name */
	struct config_addr *redis_sentinels;
	size_t		 nredis_sentinels;
	char		*redis_master_name;
	char		*redis_sentinel_username;	/* or NULL */
	char		*redis_sentinel_password_file;	/* or NULL */

	char		*secret_file;		/* >= 32 bytes, mode 0600 */

	/* passwords (password.c, hashpool.c) */
	uint64_t	 argon2_memory;		/* bytes; a multiple of 1 KiB */
	uint64_t	 argon2_iterations;
	uint64_t	 argon2_parallelism;
	uint64_t	 password_min_length;	/* Unicode code points */
	uint64_t	 hash_threads;		/* 0 in the file: cores */
	uint64_t	 hash_queue;		/* jobs waiting; full: 503 */
	char		*common_passwords;	/* list file; NULL: built-in */

	/* log */
	enum log_level	 log_level;
	int		 access_log;

	/* policies */
	char		**policy_files;		/* resolved paths */
	size_t		 npolicy_files;
	struct config_app *apps;
	size_t		 napps;

	/* the role ladder ("roles:"), highest first; default owner, admin,
	 * member, viewer */
	char		**roles;
	size_t		 nroles;

	/* sessions */
	uint64_t	 session_idle_timeout;	/* ms */
	uint64_t	 session_lifetime;	/* ms, absolute */
	uint64_t	 session_max_per_user;	/* 0: no limit */
	char		*cookie_domain;		/* SSO: __Secure- cookie */
	uint64_t	 session_ws_recheck;	/* ms: open tunnels' sessions */
	uint64_t	 session_cache_size;	/* entries per worker; 0: off
						 * (read at start) */

	/* identity assertion to upstreams */
	char		*assertion_key_file;
	char		*assertion_issuer;
	uint64_t	 assertion_ttl;		/* ms, at most 60 s */
	int		 assertion_per_request;	/* 1: sign each request */
	uint64_t	 assertion_reuse_percent; /* of ttl an assertion is
						 * reused for (10-90) */
	char		**assertion_previous;	/* keys still published */
	size_t		 nassertion_previous;

	/* branding of the sign-in pages */
	char		*brand_product;
	char		*brand_logo_url;
	char		*brand_img_src;	/* the pages' CSP img-src for the
					 * logo: its origin, 'self' or NULL */
	unsigned char	*brand_logo;	/* logo_file's bytes, or NULL */
	size_t		 brand_logo_len;
	const char	*brand_logo_type; /* its content type */
	char		 brand_logo_etag[24]; /* "hex" of its hash */
	char		*brand_color;		/* #rrggbb */

	/* the pages' templates and languages (loader/configpages.c) */
	char		*pages_templates_dir;	/* or NULL: built-in */
	char		*pages_catalogue_dir;	/* or NULL: en, de only */
	char		*pages_default_language;	/* as given, or NULL */
	struct catalog	*page_catalog;		/* never NULL once loaded */
	struct pagetmpl_set *page_templates;	/* NULL: built-in */
	size_t		 page_lang;		/* default's index */

	/* second factor and account pages (configacct.c) */
	int		 mfa_required;		/* every user enrols */
	struct config_names mfa_roles;		/* holders of these roles */
	struct config_names mfa_orgs;		/* members of these orgs */
	uint64_t	 mfa_max_failures;	/* wrong codes per 15 min */
	uint64_t	 account_fresh_auth;	/* ms: step-up for changes */
	uint64_t	 token_ttl;		/* ms: magic links, resets */
	uint64_t	 invite_ttl;		/* ms: `postern user invite` */
	int		 magic_links;		/* for everyone */
	int		 notify_changes;	/* mail users about them */
	int		 notify_new_device;	/* mail sign-ins from a new
						 * browser (newdevice.h) */
	int		 magic_same_browser;	/* a magic link works only in
						 * the browser that asked */
	struct config_names magic_orgs;		/* or for these orgs' members */
	struct password_rules *pwrules;		/* for new passwords */
	struct ratelimit_class *ratelimits;	/* rate_limits.classes */
	size_t		 nratelimits;
	uint64_t	 ratelimit_v6_prefix;	/* bits of IPv6 counted */
	char		*audit_file;		/* JSON lines copy, or NULL */
	char		**prev_secret_files;	/* being rotated out */
	size_t		 nprev_secret_files;
	struct secret_keys *prev_keys;		/* derived from them */
	size_t		 nprev_keys;
	struct config_webhook *webhooks;
	size_t		 nwebhooks;
	int		 audit_fsync;		/* fdatasync each line */

	/* derived at load from secret_file and assertion.key_file */
	struct secret_keys *keys;
	struct signer	*signer;
	int		 needs_redis;	/* an app has protect: true */

	struct config_mail *mail;	/* NULL: mail is not configured */
	struct config_sso *sso;		/* NULL: no sso: section */
	struct config_acme *acme;	/* NULL: no acme: section and no
					 * listener with tls: { acme: true } */
	/* tenants' custom domains: the server's registry (domainreg.h),
	 * shared by every snapshot, set by `postern serve`; NULL in tools */
	struct domainreg *domains;

	unsigned int	 refcnt;		/* atomic; see config_ref() */
	/* Frees the snapshot and the parts higher layers own; set by the
	 * loader, called by the last config_unref(). */
	void		(*destroy)(struct config *);
};

/* Take one more reference to <cfg> (config/snapshot.c); returns <cfg>. */
struct config	*config_ref(struct config *);
/*
 * Drop a reference; the last one frees the snapshot through its destroy
 * hook.  NULL-safe.
 */
void		 config_unref(struct config *);
#endif
