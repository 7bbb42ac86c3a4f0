/*
 * Which scopes an API key of an org may be given (see grantscope.h).
 */
#include <stdio.h>
#include <string.h>

#include "authdomain.h"
#include "authgrant.h"
#include "cli.h"
#include "config.h"
#include "grant.h"
#include "grantscope.h"
#include "route.h"

static const char *const grantscope_builtin[] = {
	AUTHGRANT_SCOPE_CREATE,
	AUTHDOMAIN_SCOPE,
};
#define GRANTSCOPE_NBUILTIN \
	(sizeof(grantscope_builtin) / sizeof(grantscope_builtin[0]))

/* Call <fn>(<scope>, <arg>) for every grantable scope of <org>. */
static void
grantscope_each(const struct config *cfg, const char *org,
    void (*fn)(const char *, void *), void *arg)
{
	const struct route	*r;
	size_t			 a, i, k;

	for (i = 0; i < GRANTSCOPE_NBUILTIN; i++)
		fn(grantscope_builtin[i], arg);
	for (a = 0; a < cfg->napps; a++) {
		if (cfg->apps[a].org != NULL && strcmp(cfg->apps[a].org, org)
		    != 0)
			continue;
		for (i = 0; (r = route_table_route(cfg->apps[a].routes, i)) !=
		    NULL; i++)
			if (r->auth & ROUTE_AUTH_APIKEY)
				for (k = 0; k < r->nscopes; k++)
					fn(r->scopes[k], arg);
	}
}

/* Levenshtein distance of <a> and <b> (each at most GRANT_SCOPEMAX). */
static size_t
grantscope_distance(const char *a, const char *b)
{
	size_t	row[GRANT_SCOPEMAX + 2], la = strlen(a), lb = strlen(b);
	size_t	i, j, diag, up, best;

	if (la > GRANT_SCOPEMAX || lb > GRANT_SCOPEMAX)
		return (size_t)-1;
	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++) {
		diag = row[0];
		row[0] = i;
		for (j = 1; j <= lb; j++) {
			up = row[j];
			best = diag + (a[i - 1] != b[j - 1]);
			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	return row[lb];
}

/* The search for one scope: found, or the closest. */
struct grantscope_find {
	const char	*want;
	int		 found;
	const char	*near;
	size_t		 dist;
};

static void
grantscope_visit(const char *scope, void *arg)
{
	struct grantscope_find	*f = arg;
	size_t			 d;

	if (strcmp(scope, f->want) == 0) {
		f->found = 1;
		return;
	}
	if ((d = grantscope_distance(scope, f->want)) < f->dist) {
		f->dist = d;
		f->near = scope;
	}
}

int
grantscope_check(struct cli *c, const char *org, const char *const *scopes,
    size_t n)
{
	struct grantscope_find	f;
	size_t			i;

	for (i = 0; i < n; i++) {
		memset(&f, 0, sizeof(f));
		f.want = scopes[i];
		f.dist = (size_t)-1;
		grantscope_each(c->cfg, org, grantscope_visit, &f);
		if (f.found)
			continue;
		/* a suggestion within a third of the length (at least 2) */
		if (f.near != NULL && f.dist <= (strlen(f.want) / 3 > 2 ?
		    strlen(f.want) / 3 : 2))
			(void)cli_fail(c, "--scope %s: no route of an app "
			    "serving org %s grants it; did you mean '%s'?",
			    f.want, org, f.near);
		else
			(void)cli_fail(c, "--scope %s: no route of an app "
			    "serving org %s grants it (the routes that accept "
			    "API keys list their scopes: %s)", f.want, org,
			    c->config);
		return 2;
	}
	return 0;
}
