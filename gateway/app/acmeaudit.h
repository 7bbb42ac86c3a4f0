/*
 * The ACME driver's outcomes in the audit trail: cert_issue (a first
 * certificate), cert_renew (one replaced), cert_fail (an order failed,
 * with the CA's problem type or the local reason), actor "acme", target
 * the host, org the tenant of a custom domain.  The driver runs on worker
 * 0 and tells acmestat.h, whose sink this is.
 */
#ifndef POSTERN_ACMEAUDIT_H
#define POSTERN_ACMEAUDIT_H

#include "acmestat.h"

struct server;

/*
 * The statistics of <srv> (for srv->acmestat; acmestat_free() them after
 * the workers) with this sink installed, or NULL when out of memory.
 */
struct acmestat	*acmeaudit_new(struct server *srv);

#endif
