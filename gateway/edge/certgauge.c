/*
 * Certificates for /metrics (see certgauge.h), read on the admin
 * listener's thread from what the workers share: the snapshot, the
 * certstore and the domain registry, each under its own lock.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "acmestat.h"
#include "certgauge.h"
#include "certstore.h"
#include "config.h"
#include "domainreg.h"
#include "worker.h"

/* The hosts being gathered; each name points into the arrays kept. */
struct certgauge {
	struct acmestat_host	*h;
	size_t			 n, cap;
	struct certstore_info	*certs;	/* sorted by host */
	size_t			 ncerts;
};

static int
certgauge_info_cmp(const void *key, const void *elem)
{
	return strcasecmp(key, ((const struct certstore_info *)elem)->host);
}

/* Add <host> with its run-time certificate's end, if any. */
static void
certgauge_add(struct certgauge *g, const char *host)
{
	const struct certstore_info	*ci;

	if (g->n == g->cap)
		return;
	ci = g->ncerts > 0 ? bsearch(host, g->certs, g->ncerts,
	    sizeof(*g->certs), certgauge_info_cmp) : NULL;
	g->h[g->n].host = host;
	g->h[g->n].not_after = ci != NULL ? ci->not_after : 0;
	g->n++;
}

int
certgauge_render(struct evbuffer *out, struct server *srv)
{
	struct certgauge	 g = { 0 };
	struct domainreg_entry	*doms;
	struct config		*cfg;
	uint64_t		 gen;
	size_t			 i, ndoms, nacme;
	int			 rc;

	if (srv->acmestat == NULL)
		return 0;
	cfg = srv->ops->config(srv, &gen);
	g.certs = certstore_list(srv->certs, &g.ncerts);
	doms = domainreg_list(srv->domains, &ndoms);
	nacme = cfg != NULL && cfg->acme != NULL ? cfg->acme->nhosts : 0;
	g.cap = nacme + ndoms + g.ncerts;
	if (g.cap > 0 && (g.h = calloc(g.cap, sizeof(*g.h))) == NULL)
		g.cap = 0;
	for (i = 0; i < nacme; i++)
		certgauge_add(&g, cfg->acme->hosts[i]);
	for (i = 0; i < ndoms; i++)
		certgauge_add(&g, doms[i].host);
	for (i = 0; i < g.ncerts; i++)
		if (g.certs[i].not_after != 0 && cfg != NULL &&
		    config_app_for_host(cfg, g.certs[i].host) != NULL)
			certgauge_add(&g, g.certs[i].host);
	rc = acmestat_render(out, srv->acmestat, g.h, g.n, time(NULL));
	free(g.h);
	free(doms);
	free(g.certs);
	config_unref(cfg);
	return rc;
}
