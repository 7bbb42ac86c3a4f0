/*
 * Shared by the files reading a policy file (policy.c: the app and its
 * upstream; policyroute.c: its routes).  Not an API for other modules.
 */
#ifndef POSTERN_POLICY_INT_H
#define POSTERN_POLICY_INT_H

#include <stddef.h>

#include <yaml.h>

#include "confapp.h"

struct config;
struct yconf;

#define POLICY_NAMEMAX	63

/* The app being read from one file. */
struct policy_ctx {
	struct config		*cfg;
	struct config_app	 app;
	int			 upstream_ok;
	char			*ca_file;	/* upstream_ca, resolved */
	char			*server_name;	/* upstream_server_name */
	struct config_pos	 ca_pos;
	int			 protect_set;	/* protect: written */
	struct config_pos	 protect_pos;
	struct config_pos	 org_pos;
	int			 paths_set;	/* paths: or its older key */
	size_t			 nroute;	/* routes seen, for messages */
};

/* The one-based position of <n>. */
struct config_pos policy_pos(const yaml_node_t *n);
/* 1 if <s> is an app name or org slug: 1 to 63 of [a-z0-9-]. */
int	policy_name_ok(const char *s);
/* policyroute.c: the routes: list of the app of <obj>. */
void	policy_on_routes(struct yconf *, yaml_node_t *, void *);
/* policyid.c: identity_headers: {Header-Name: value} of the app. */
void	policy_on_idheaders(struct yconf *, yaml_node_t *, void *);
/* ...and what it allocated. */
void	policy_idheaders_free(struct config_app *);

#endif
