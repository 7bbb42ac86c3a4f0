/*
 * ACME outcomes to the audit trail (see acmeaudit.h).
 */
#include <stddef.h>
#include <stdint.h>

#include "acmeaudit.h"
#include "acmestat.h"
#include "audit.h"
#include "config.h"
#include "domainreg.h"
#include "worker.h"

/* On worker 0's thread, the driver's: its store records the event. */
static void
acmeaudit_on_outcome(void *arg, const struct acmestat_outcome *o)
{
	struct server		*srv = arg;
	struct domainreg_entry	 dom;
	struct audit_event	 ev = { 0 };
	struct config		*cfg;
	uint64_t		 gen;

	if (srv->workers == NULL || srv->nworkers == 0)
		return;
	ev.action = o->issued ? (o->renewal ? "cert_renew" : "cert_issue") :
	    "cert_fail";
	ev.actor = "acme";
	ev.target = o->host;
	if (domainreg_get(srv->domains, o->host, &dom) == 0)
		ev.org = dom.org;
	ev.outcome = o->issued ? "success" : "failure";
	ev.reason = o->reason;
	cfg = srv->ops->config(srv, &gen);
	audit_emit(&srv->workers[0], cfg, &ev);
	config_unref(cfg);
}

struct acmestat *
acmeaudit_new(struct server *srv)
{
	struct acmestat	*st;

	if ((st = acmestat_new()) != NULL)
		acmestat_set_sink(st, acmeaudit_on_outcome, srv);
	return st;
}
