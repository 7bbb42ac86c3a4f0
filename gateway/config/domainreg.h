/*
 * Tenants' custom domains at run time: host -> (app, org).  The registry
 * lives in Redis (`domain:<host>`, written by `postern domain` and
 * `POST /.postern/domains`); every gateway instance keeps this copy, read
 * at start and again on each `domain <host>` message (certsync.h), so the
 * request path finds a custom domain without any I/O.  One per server,
 * shared by its workers and by every configuration snapshot
 * (config->domains); config_app_for_host() and config_domain_tenant()
 * read it after the configured hosts.
 */
#ifndef POSTERN_DOMAINREG_H
#define POSTERN_DOMAINREG_H

#include <stddef.h>

#define DOMAINREG_APPLEN	64	/* app names and org slugs, NUL included */

struct domainreg;

/* One custom domain. */
struct domainreg_entry {
	char	host[254];
	char	app[DOMAINREG_APPLEN];
	char	org[DOMAINREG_APPLEN];
};

struct domainreg *domainreg_new(void);
void		 domainreg_free(struct domainreg *dr);	/* NULL-safe */
/*
 * Map <host> to <app> and <org> (replacing what it mapped to).  0, or -1
 * if a name is empty or too long, or out of memory.
 */
int		 domainreg_set(struct domainreg *dr, const char *host,
		    const char *app, const char *org);
void		 domainreg_remove(struct domainreg *dr, const char *host);
/* Replace the whole registry by the <n> entries <e>; 0 or -1 (kept). */
int		 domainreg_replace(struct domainreg *dr,
		    const struct domainreg_entry *e, size_t n);
/*
 * What <host> (any case) maps to, copied into <out>: 0, or -1 if it is no
 * custom domain.  NULL-safe: a NULL registry holds nothing.
 */
int		 domainreg_get(struct domainreg *dr, const char *host,
		    struct domainreg_entry *out);
/*
 * A copy of every entry, sorted by host: an array the caller frees, its
 * length in *<n>; NULL with *<n> 0 when empty, NULL-registry or out of
 * memory.
 */
struct domainreg_entry *domainreg_list(struct domainreg *dr, size_t *n);

#endif
