/*
 * The pages: section: page templates replacing the built-in ones
 * (templates_dir), more languages or other words for the pages'
 * message catalogue (catalogue_dir), and the language of a request
 * whose Accept-Language names none of them (default_language).  Both
 * directories are read here, once per snapshot, so that a reload picks
 * up a changed file and a page never reads the disk.  Part of the loader:
 * see config-int.h.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "catalog.h"
#include "config.h"
#include "config-int.h"
#include "diag.h"
#include "pagetmpl.h"
#include "yconf.h"

static void	config_on_pages_dir(struct yconf *, yaml_node_t *, void *);

static const struct yconf_key config_pages_keys[] = {
	{ "templates_dir", YAML_SCALAR_NODE, 0, config_on_pages_dir,
	    CFG(pages_templates_dir), 0, 0 },
	{ "catalogue_dir", YAML_SCALAR_NODE, 0, config_on_pages_dir,
	    CFG(pages_catalogue_dir), 0, 0 },
	{ "default_language", YAML_SCALAR_NODE, 0, yconf_on_str,
	    CFG(pages_default_language), 0, 0 },
};

/* A directory, resolved against the configuration's, and readable. */
static void
config_on_pages_dir(struct yconf *y, yaml_node_t *n, void *obj)
{
	struct config_ctx *cx = y->arg;
	char		**p = (char **)(void *)((char *)obj + y->cur->off);
	const char	*s;

	if (yconf_is_null(n) || yconf_str(y, n, &s) == -1)
		return;
	free(*p);
	if ((*p = config_path(cx->cfg, s)) == NULL) {
		yconf_nomem(y, n);
		return;
	}
	if (access(*p, R_OK | X_OK) == -1)
		yconf_error(y, n, "%s: cannot read %s: %s", y->key, *p,
		    strerror(errno));
}

void
config_on_pages(struct yconf *y, yaml_node_t *n, void *obj)
{
	struct config_ctx *cx = y->arg;
	struct config	*cfg = obj;
	size_t		 nerrors = cx->diag->nerrors;
	yaml_node_t	*at;

	yconf_map(y, n, "pages", config_pages_keys,
	    NITEMS(config_pages_keys), obj);
	if (cx->diag->nerrors != nerrors)
		return;
	if (cfg->page_catalog == NULL &&
	    (cfg->page_catalog = catalog_new()) == NULL) {
		yconf_nomem(y, n);
		return;
	}
	if (cfg->pages_catalogue_dir != NULL)
		(void)catalog_load_dir(cfg->page_catalog,
		    cfg->pages_catalogue_dir, cx->diag);
	if (cfg->pages_templates_dir != NULL)
		cfg->page_templates = pagetmpl_load_dir(
		    cfg->pages_templates_dir, cx->diag);
	if (cfg->pages_default_language == NULL)
		return;
	at = yconf_get(y, n, "default_language");
	cfg->page_lang = catalog_find(cfg->page_catalog,
	    cfg->pages_default_language);
	if (cfg->page_lang == CATALOG_NONE) {
		cfg->page_lang = 0;
		yconf_error(y, at, "pages.default_language: no language '%s' "
		    "(built in: en, de; a lowercase tag, or a <tag>.lang file "
		    "in pages.catalogue_dir)", cfg->pages_default_language);
	}
}

int
config_pages_done(struct config *cfg)
{
	if (cfg->page_catalog == NULL &&
	    (cfg->page_catalog = catalog_new()) == NULL)
		return -1;
	return 0;
}

void
config_pages_free(struct config *cfg)
{
	catalog_free(cfg->page_catalog);
	pagetmpl_set_free(cfg->page_templates);
	free(cfg->pages_templates_dir);
	free(cfg->pages_catalogue_dir);
	free(cfg->pages_default_language);
}
