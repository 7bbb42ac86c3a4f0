/*
 * The applications that the fuzz targets checking hosts serve (fuzz_plain.c,
 * fuzz_redirect.c): "app" on a fixed host and a wildcard, and "orgs", whose
 * first label of {org}.org.example.com names the organisation.  Each target
 * is its own program and includes this once.
 */
#ifndef POSTERN_FUZZ_APPS_H
#define POSTERN_FUZZ_APPS_H

#include "config.h"

static char	*fuzz_hosts[] = { "app.example.com", "*.tenant.example.com" };
static char	*fuzz_org_hosts[] = { "{org}.org.example.com",
		    "org.example.com" };
static struct config_app fuzz_apps[] = {
	{ .name = "app", .hosts = fuzz_hosts, .nhosts = 2 },
	{ .name = "orgs", .hosts = fuzz_org_hosts, .nhosts = 2,
	    .host_tenant = 1 },
};

#define FUZZ_NAPPS	(sizeof(fuzz_apps) / sizeof(fuzz_apps[0]))

#endif
