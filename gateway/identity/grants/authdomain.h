/*
 * POST /.postern/domains: an upstream holding an API key with scope
 * "domains:manage" registers (or removes) a tenant's custom domain for
 * its own app (the app of the request's host) and the key's org, within
 * the org's limit (domain.h).  Form fields: host (required), action
 * ("add", the default, or "remove").  Answers JSON: 201 registered, 200
 * already so or removed; 400 a bad field; 401 no or a bad key; 403 the
 * scope, an org-less key or an app of another org; 404 (remove) not
 * registered; 409 a host of the configuration or of another org; 429 the
 * org's limit.
 */
#ifndef POSTERN_AUTHDOMAIN_H
#define POSTERN_AUTHDOMAIN_H

#define AUTHDOMAIN_SCOPE	"domains:manage"

struct exchange;

/* POST /.postern/domains; 1 if the path is ours. */
int	authdomain_builtin(struct exchange *ex);

#endif
