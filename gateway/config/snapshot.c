/*
 * What every layer does with a loaded snapshot (config.h): hold and drop
 * references, find the app of a host, look a name up.  Loading lives in
 * loader/; a snapshot carries the loader's destructor, so the last
 * config_unref() frees the parts that higher layers own (apps' policies,
 * header sets, TLS contexts, the assertion signer) without this layer
 * knowing them.
 */
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "domainreg.h"

struct config *
config_ref(struct config *cfg)
{
	__atomic_add_fetch(&cfg->refcnt, 1, __ATOMIC_RELAXED);
	return cfg;
}

void
config_unref(struct config *cfg)
{
	if (cfg == NULL)
		return;
	if (__atomic_sub_fetch(&cfg->refcnt, 1, __ATOMIC_ACQ_REL) == 0)
		cfg->destroy(cfg);
}

int
config_names_has(const struct config_names *v, const char *s)
{
	size_t	i;

	for (i = 0; i < v->n; i++)
		if (strcmp(v->v[i], s) == 0)
			return 1;
	return 0;
}

static const struct config_app *
config_find_host(const struct config *cfg, const char *host)
{
	size_t	i, j;

	for (i = 0; i < cfg->napps; i++)
		for (j = 0; j < cfg->apps[i].nhosts; j++)
			if (strcmp(cfg->apps[i].hosts[j], host) == 0)
				return &cfg->apps[i];
	return NULL;
}

/*
 * Exact names win; then "*.example.com" serves "a.example.com" (exactly one
 * more label, never "example.com" itself nor "a.b.example.com").
 */
static const struct config_app *
config_app_configured(const struct config *cfg, const char *host)
{
	const struct config_app	*app;
	const char		*dot;
	char			 wild[260];

	if ((app = config_find_host(cfg, host)) != NULL)
		return app;
	if ((dot = strchr(host, '.')) == NULL || dot == host ||
	    dot[1] == '\0')
		return NULL;
	if (snprintf(wild, sizeof(wild), "*%s", dot) >= (int)sizeof(wild))
		return NULL;
	if ((app = config_find_host(cfg, wild)) != NULL)
		return app;
	if (snprintf(wild, sizeof(wild), "{org}%s", dot) >= (int)sizeof(wild))
		return NULL;
	return config_find_host(cfg, wild);
}

/* The custom domain <host>: its entry, and its app if configured. */
static const struct config_app *
config_app_domain(const struct config *cfg, const char *host,
    struct domainreg_entry *e)
{
	size_t	i;

	if (cfg->domains == NULL || domainreg_get(cfg->domains, host, e) == -1)
		return NULL;
	for (i = 0; i < cfg->napps; i++)
		if (strcmp(cfg->apps[i].name, e->app) == 0)
			return &cfg->apps[i];
	return NULL;
}

int
config_host_configured(const struct config *cfg, const char *host)
{
	return config_app_configured(cfg, host) != NULL;
}

const struct config_app *
config_app_for_host(const struct config *cfg, const char *host)
{
	const struct config_app	*app;
	struct domainreg_entry	 e;

	if ((app = config_app_configured(cfg, host)) != NULL)
		return app;
	return config_app_domain(cfg, host, &e);
}

int
config_domain_tenant(const struct config *cfg, const char *host, char *out,
    size_t size)
{
	struct domainreg_entry	e;

	if (config_app_configured(cfg, host) != NULL ||
	    config_app_domain(cfg, host, &e) == NULL ||
	    strlen(e.org) >= size)
		return -1;
	memcpy(out, e.org, strlen(e.org) + 1);
	return 0;
}
