/*
 * The configuration sections of the second factor and the account pages:
 * who must enrol a second factor ("mfa:"), how fresh a password must be
 * for account changes, how long one-time tokens live and who may sign in
 * by magic link ("account:"); and, after a load, the password rules the
 * account pages apply.  Part of the loader: see config-int.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "config-int.h"
#include "diag.h"
#include "log.h"
#include "password.h"
#include "yconf.h"

static void	config_on_names(struct yconf *, yaml_node_t *, void *);

/* min: 0 roles (checked against the ladder later), 1 org slugs. */
static const struct yconf_key config_mfa_keys[] = {
	{ "required", YAML_SCALAR_NODE, 0, yconf_on_bool, CFG(mfa_required),
	    0, 0 },
	{ "required_roles", YAML_SEQUENCE_NODE, 0, config_on_names,
	    CFG(mfa_roles), 0, 0 },
	{ "required_orgs", YAML_SEQUENCE_NODE, 0, config_on_names,
	    CFG(mfa_orgs), 1, 0 },
	{ "max_failures", YAML_SCALAR_NODE, 0, yconf_on_u64,
	    CFG(mfa_max_failures), 1, 100 },
};

static const struct yconf_key config_account_keys[] = {
	{ "fresh_auth", YAML_SCALAR_NODE, 0, yconf_on_duration,
	    CFG(account_fresh_auth), 30 * MS_SEC, MS_DAY },
	{ "token_ttl", YAML_SCALAR_NODE, 0, yconf_on_duration,
	    CFG(token_ttl), MS_SEC * 60, MS_DAY },
	{ "magic_links", YAML_SCALAR_NODE, 0, yconf_on_bool,
	    CFG(magic_links), 0, 0 },
	{ "magic_link_orgs", YAML_SEQUENCE_NODE, 0, config_on_names,
	    CFG(magic_orgs), 1, 0 },
};

void
config_on_mfa(struct yconf *y, yaml_node_t *n, void *obj)
{
	yconf_map(y, n, "mfa", config_mfa_keys, NITEMS(config_mfa_keys), obj);
}

void
config_on_account(struct yconf *y, yaml_node_t *n, void *obj)
{
	yconf_map(y, n, "account", config_account_keys,
	    NITEMS(config_account_keys), obj);
}

/*
 * A list of role names or org slugs into the (char **, size_t) pair at
 * the key's offset: 1 to 63 of [a-z0-9_-], starting with a letter or
 * digit.
 */
static void
config_on_names(struct yconf *y, yaml_node_t *n, void *obj)
{
	struct config_names	*v = (struct config_names *)(void *)
				    ((char *)obj + y->cur->off);
	yaml_node_item_t	*it;
	yaml_node_t		*item;
	const char		*s;
	char			**nv;

	config_names_free(v);
	for (it = n->data.sequence.items.start;
	    it < n->data.sequence.items.top; it++) {
		item = yaml_document_get_node(&y->doc, *it);
		if (item == NULL || yconf_str(y, item, &s) == -1)
			continue;
		if (strlen(s) == 0 || strlen(s) > 63 ||
		    strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_-") !=
		    strlen(s) || s[0] == '-' || s[0] == '_') {
			yconf_error(y, item, "%s: '%.64s' is not %s", y->key,
			    s, y->cur->min ? "an org slug" : "a role name");
			continue;
		}
		if ((nv = reallocarray(v->v, v->n + 1, sizeof(*nv))) == NULL ||
		    (nv[v->n] = strdup(s)) == NULL)
			fatal("%s", __func__);
		v->v = nv;
		v->n++;
	}
}

void
config_names_free(struct config_names *v)
{
	size_t	i;

	for (i = 0; i < v->n; i++)
		free(v->v[i]);
	free(v->v);
	v->v = NULL;
	v->n = 0;
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

void
config_account_check(struct config *cfg, struct diag *d)
{
	char	err[256];
	size_t	i, j;

	for (i = 0; i < cfg->mfa_roles.n; i++) {
		for (j = 0; j < cfg->nroles; j++)
			if (strcmp(cfg->roles[j], cfg->mfa_roles.v[i]) == 0)
				break;
		if (j == cfg->nroles)
			diag_error(d, cfg->path, 0, 0, "mfa.required_roles: "
			    "'%s' is not a rung of roles:", cfg->mfa_roles.v[i]);
	}
	if ((cfg->magic_links || cfg->magic_orgs.n > 0) && cfg->mail == NULL)
		diag_warning(d, cfg->path, 0, 0, "account.magic_links: sign-in "
		    "links need a mail: section; /.postern/magic says email is "
		    "not available");
	if (cfg->keys == NULL)
		return;		/* no sign-in: no account pages */
	if ((cfg->pwrules = password_rules_load(password_rules_path(cfg),
	    (size_t)cfg->password_min_length, err, sizeof(err))) == NULL)
		diag_error(d, cfg->path, 0, 0, "passwords: %s", err);
}
