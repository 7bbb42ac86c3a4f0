/*
 * An app's identity_headers (see confapp.h): header names an existing
 * app reads its user from, each mapped to one of the identity's values.
 * A name the gateway owns or that carries framing, routing or
 * credentials is refused: the mapping may add headers, never change what
 * the request is.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "parse.h"
#include "policy-int.h"
#include "yconf.h"

static const struct {
	const char		*name;
	enum config_idvalue	 value;
} policyid_values[] = {
	{ "user", CONFIG_ID_USER },
	{ "email", CONFIG_ID_EMAIL },
	{ "org", CONFIG_ID_ORG },
	{ "role", CONFIG_ID_ROLE },
	{ "org_role", CONFIG_ID_ORG_ROLE },
	{ "auth", CONFIG_ID_AUTH },
};

#define NVALUES	(sizeof(policyid_values) / sizeof(policyid_values[0]))

/* Names no mapping may use (compared without case; "x-postern-" and
 * "sec-" as prefixes): X-Forwarded-User and -Email are fine, the
 * forwarding headers the gateway writes itself are not. */
static int
policyid_reserved(const char *name)
{
	static const char *const exact[] = { "host", "connection",
	    "keep-alive", "proxy-connection", "transfer-encoding", "te",
	    "trailer", "upgrade", "content-length", "content-type",
	    "content-encoding", "expect", "cookie", "authorization",
	    "proxy-authorization", "forwarded", "x-real-ip", "x-request-id",
	    "via", "range", "x-forwarded-for", "x-forwarded-host",
	    "x-forwarded-proto", "x-forwarded-port", "x-forwarded-prefix",
	    "x-forwarded-server", "x-forwarded-uri", "x-forwarded-method",
	    "x-original-uri", "x-original-method", "x-original-url", NULL };
	const char *const *e;

	for (e = exact; *e != NULL; e++)
		if (strcasecmp(name, *e) == 0)
			return 1;
	return strncasecmp(name, "x-postern-", 10) == 0 ||
	    strncasecmp(name, "sec-", 4) == 0;
}

/* An RFC 9110 token of 1 to 64 characters, without '_' (see
 * limits.allow_underscore_headers). */
static int
policyid_name_ok(const char *s)
{
	size_t	n = strlen(s);

	return n >= 1 && n <= 64 && strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789!#$%&'*+-.^`|~") == n;
}

static int
policyid_add(struct yconf *y, yaml_node_t *k, struct config_app *app,
    const char *name, enum config_idvalue v)
{
	struct config_idheader	*h;

	if ((h = reallocarray(app->idheaders, app->nidheaders + 1,
	    sizeof(*h))) == NULL)
		return yconf_nomem(y, k);
	app->idheaders = h;
	h = &app->idheaders[app->nidheaders];
	if ((h->name = strdup(name)) == NULL)
		return yconf_nomem(y, k);
	h->value = v;
	app->nidheaders++;
	return 0;
}

static void
policyid_one(struct yconf *y, yaml_node_t *k, yaml_node_t *val,
    struct config_app *app)
{
	const char	*name, *s;
	char		 pv[80];
	size_t		 i;

	if (yconf_str(y, k, &name) == -1)
		return;
	if (!policyid_name_ok(name)) {
		yconf_error(y, k, "app.identity_headers: invalid header name "
		    "'%s': 1 to 64 letters, digits and -!#$%%&'*+.^`|~",
		    parse_printable(pv, sizeof(pv), name, 64));
		return;
	}
	if (policyid_reserved(name)) {
		yconf_error(y, k, "app.identity_headers: '%s' is not "
		    "allowed: the gateway owns it, or it carries framing, "
		    "routing or credentials", name);
		return;
	}
	for (i = 0; i < app->nidheaders; i++)
		if (strcasecmp(app->idheaders[i].name, name) == 0) {
			yconf_error(y, k, "app.identity_headers: '%s' is "
			    "mapped twice", name);
			return;
		}
	if (app->nidheaders == CONFIG_IDHEADERS_MAX) {
		yconf_error(y, k, "app.identity_headers: at most %d headers",
		    CONFIG_IDHEADERS_MAX);
		return;
	}
	if (yconf_str(y, val, &s) == -1)
		return;
	for (i = 0; i < NVALUES; i++)
		if (strcmp(s, policyid_values[i].name) == 0) {
			(void)policyid_add(y, k, app, name,
			    policyid_values[i].value);
			return;
		}
	yconf_error(y, val, "app.identity_headers.%s: unknown value '%s': "
	    "expected user, email, org, role, org_role or auth", name,
	    parse_printable(pv, sizeof(pv), s, 32));
}

void
policy_on_idheaders(struct yconf *y, yaml_node_t *n, void *obj)
{
	struct policy_ctx	*pc = obj;
	yaml_node_pair_t	*pair;
	yaml_node_t		*k, *val;

	for (pair = n->data.mapping.pairs.start;
	    pair < n->data.mapping.pairs.top; pair++) {
		k = yaml_document_get_node(&y->doc, pair->key);
		val = yaml_document_get_node(&y->doc, pair->value);
		if (k != NULL && val != NULL)
			policyid_one(y, k, val, &pc->app);
	}
}

void
policy_idheaders_free(struct config_app *app)
{
	size_t	i;

	for (i = 0; i < app->nidheaders; i++)
		free(app->idheaders[i].name);
	free(app->idheaders);
	app->idheaders = NULL;
	app->nidheaders = 0;
}
