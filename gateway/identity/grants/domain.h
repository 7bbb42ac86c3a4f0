/*
 * Tenants' custom domains in Redis: `postern domain add|list|remove` and
 * `POST /.postern/domains` register a host for one app and one org; the
 * request path then serves the host as that app with that org as the
 * tenant (config_domain_tenant()), and the ACME client orders its
 * certificate.  Each change is one script that also publishes
 * `domain <host>` on `acme:events`, so every instance reloads the entry
 * (certsync.h) at once.
 *
 * Keys: `domain:<host>` (hash: app, org, added, state pending|valid|failed,
 * last_error, not_after), `domains` (set of hosts), `org:<slug>:domains`
 * (set of the org's hosts, for its limit).
 */
#ifndef POSTERN_DOMAIN_H
#define POSTERN_DOMAIN_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"

#define DOMAIN_LAYOUT_HOST	STORE_LAYOUT("domain:<host>")
#define DOMAIN_LAYOUT_ALL	STORE_LAYOUT("domains")
#define DOMAIN_LAYOUT_ORG	STORE_LAYOUT("org:<slug>:domains")
/* The certificate the ACME client stored for a domain: removed with it. */
#define DOMAIN_LAYOUT_CERT	STORE_LAYOUT("acme:cert:<host>")
/* The pub/sub channel of certificate and domain changes (certsync.h). */
#define DOMAIN_LAYOUT_EVENTS	STORE_LAYOUT("acme:events")

struct config;
struct domainreg_entry;

/* What a change came to (the scripts' answers). */
enum domain_result {
	DOMAIN_OK = 0,		/* done */
	DOMAIN_SAME = 1,	/* already so: nothing changed */
	DOMAIN_ENOORG = -1,	/* no such org */
	DOMAIN_TAKEN = -2,	/* registered by another org or app */
	DOMAIN_LIMIT = -3,	/* the org has its maximum */
	DOMAIN_ENOENT = -4,	/* remove: not registered */
	DOMAIN_ERROR = -5,	/* Redis failed */
};

/*
 * Is <host> one a tenant may register under <cfg>?  Lower-cases it into
 * <out> (254 bytes) and returns NULL, or a reason code: "domain_name" (not
 * a DNS name of two labels or more), "domain_configured" (a host of the
 * configuration already: an app's name or pattern covers it).
 */
const char	*domain_check(const struct config *cfg, const char *host,
		    char *out);
/* How many custom domains an org may register under <cfg>
 * (acme.max_domains_per_org, ACME_MAX_DOMAINS_PER_ORG without acme:). */
unsigned int	 domain_max_per_org(const struct config *cfg);

/* The result callback of an asynchronous change. */
typedef void	(*domain_cb)(void *arg, enum domain_result r);

/*
 * Register <host> (domain_check()ed) for <app> and <org>, at most <max>
 * per org, asynchronously; <cb> runs once unless -1 is returned.
 */
int	domain_add(struct store *st, const char *host, const char *app,
	    const char *org, unsigned int max, domain_cb cb, void *arg);
/*
 * Remove <host>, and the certificate the ACME client stored for it (every
 * instance stops serving it at the `domain <host>` message); with <org>
 * not NULL only if <org> registered it (DOMAIN_TAKEN otherwise).
 * Contract as domain_add().
 */
int	domain_remove(struct store *st, const char *host, const char *org,
	    domain_cb cb, void *arg);

/* The same for the command-line tools; the result. */
enum domain_result domain_add_sync(struct store_sync *ss, const char *host,
	    const char *app, const char *org, unsigned int max, char *err,
	    size_t errlen);
enum domain_result domain_remove_sync(struct store_sync *ss,
	    const char *host, char *err, size_t errlen);

/*
 * The script every instance runs to read the whole registry: KEYS none,
 * ARGV the prefix; a flat array host, app, org, ... (certsync.c).
 */
extern struct store_script domain_lua_all;

/* A short text for <r> ("no such org", ...). */
const char	*domain_result_text(enum domain_result r);

#endif
