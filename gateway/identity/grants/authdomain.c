/*
 * POST /.postern/domains (see authdomain.h): the form is read, the key
 * checked (authgrant_with_key()), then one script adds or removes the
 * domain (domain.h) in a step record of its own.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <jansson.h>

#include "auth-int.h"
#include "authdomain.h"
#include "authgrant.h"
#include "client.h"
#include "config.h"
#include "domain.h"
#include "form.h"
#include "grant.h"
#include "log.h"
#include "pages.h"
#include "request.h"
#include "worker.h"

/* A change in flight; owned by its pending callback. */
struct authdomain {
	struct auth_step step;
	int		 add;
	char		 host[254];
	char		 org[GRANT_SLUGMAX + 1];
	char		 actor[TOKEN_IDLEN + 4];
};

/* A JSON error <code> (pages.h) or the domain's fields. */
static void
authdomain_answer(struct exchange *ex, int status, const char *error,
    const char *host, const char *org, const char *state, const char *reason)
{
	json_t	*o;
	char	*text = NULL;

	if (error != NULL) {
		client_answer(ex, &(struct pages_resp){ .status = status,
		    .error = error }, reason);
		return;
	}
	o = json_pack("{s:s,s:s,s:s,s:s}", "host", host, "app",
	    ex->app->name, "org", org, "state", state);
	if (o != NULL)
		text = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	client_answer(ex, &(struct pages_resp){ .status = status,
	    .json = text != NULL ? text : "{}" }, reason);
	free(text);
}

static void
authdomain_free(struct auth_step *step)
{
	free(AUTH_STEP_STATE(step, struct authdomain, step));
}

static void
authdomain_on_done(void *arg, enum domain_result r)
{
	struct authdomain	*ad = arg;
	struct authdomain	 c = *ad;	/* the record goes below */
	struct exchange		*ex;

	if ((ex = auth_step_done(&ad->step)) == NULL)
		return;
	if (r == DOMAIN_ERROR) {
		auth_unavailable(ex);
		return;
	}
	if (r == DOMAIN_OK)
		auth_audit(ex, c.add ? "domain_add" : "domain_remove",
		    c.actor, c.host, 1, c.org);
	switch (r) {
	case DOMAIN_OK:
	case DOMAIN_SAME:
		authdomain_answer(ex, c.add && r == DOMAIN_OK ? 201 : 200,
		    NULL, c.host, c.org, c.add ? "pending" : "removed", NULL);
		break;
	case DOMAIN_LIMIT:
		authdomain_answer(ex, 429, "domain_limit", NULL, NULL, NULL,
		    "domain_limit");
		break;
	case DOMAIN_ENOENT:
		authdomain_answer(ex, 404, "not_registered", NULL, NULL, NULL,
		    "domain_unknown");
		break;
	case DOMAIN_ENOORG:
		authdomain_answer(ex, 403, "no_such_org", NULL, NULL, NULL,
		    "key_org");
		break;
	default:
		authdomain_answer(ex, 409, "domain_taken", NULL, NULL, NULL,
		    "domain_taken");
		break;
	}
}

/* The key is valid: <arg> is "add HOST" or "remove HOST". */
static void
authdomain_granted(struct exchange *ex, const struct grant *key,
    const char *arg)
{
	struct authdomain	*ad;
	size_t			 i;
	int			 rc;

	for (i = 0; i < key->nscopes; i++)
		if (strcmp(key->scopes[i], AUTHDOMAIN_SCOPE) == 0)
			break;
	if (i == key->nscopes) {
		client_answer(ex, &(struct pages_resp){ .status = 403,
		    .error = "insufficient_scope", .extra =
		    "WWW-Authenticate: Bearer realm=\"postern\", error="
		    "\"insufficient_scope\", scope=\"" AUTHDOMAIN_SCOPE
		    "\"\r\n" }, "scope");
		return;
	}
	if (key->org[0] == '\0' || (ex->app->org != NULL &&
	    strcmp(ex->app->org, key->org) != 0)) {
		authdomain_answer(ex, 403, "key_org", NULL, NULL, NULL,
		    "key_org");
		return;
	}
	if ((ad = calloc(1, sizeof(*ad))) == NULL) {
		auth_unavailable(ex);
		return;
	}
	ad->add = strncmp(arg, "add ", 4) == 0;
	(void)snprintf(ad->host, sizeof(ad->host), "%s", strchr(arg, ' ') + 1);
	(void)snprintf(ad->org, sizeof(ad->org), "%s", key->org);
	(void)snprintf(ad->actor, sizeof(ad->actor), "pk_%s", key->id);
	auth_step_start(&ad->step, ex, ex->w->store, authdomain_free);
	rc = ad->add ? domain_add(ex->w->store, ad->host, ex->app->name,
	    ad->org, domain_max_per_org(ex->cfg), authdomain_on_done, ad) :
	    domain_remove(ex->w->store, ad->host, ad->org, authdomain_on_done,
	    ad);
	if (rc == -1) {
		(void)auth_step_done(&ad->step);
		auth_unavailable(ex);
	}
}

/* The form: host, action; then the key. */
static void
authdomain_on_form(struct exchange *ex, struct evbuffer *body)
{
	struct form	 f;
	const char	*why = NULL, *host, *action, *tok;
	char		 norm[254] = "", arg[300];
	size_t		 len = evbuffer_get_length(body), i;
	int		 bad;

	if (form_parse((const char *)evbuffer_pullup(body, -1), len, &f,
	    &why) == -1) {
		authdomain_answer(ex, 400, "bad_form", NULL, NULL, NULL, why);
		return;
	}
	for (i = 0; i < f.nfields; i++)
		if (strcmp(f.fields[i].name, "host") != 0 &&
		    strcmp(f.fields[i].name, "action") != 0)
			why = "unknown_field";
	host = form_get(&f, "host");
	action = form_get(&f, "action");
	bad = action != NULL && strcmp(action, "add") != 0 &&
	    strcmp(action, "remove") != 0;
	if (why == NULL && bad)
		why = "bad_action";
	if (why == NULL && host == NULL)
		why = "domain_name";
	if (why == NULL)
		why = domain_check(ex->cfg, host, norm);
	(void)snprintf(arg, sizeof(arg), "%s %s", action != NULL ? action :
	    "add", norm);
	form_free(&f);
	if (why != NULL) {
		authdomain_answer(ex, strcmp(why, "domain_configured") == 0 ?
		    409 : 400, why, NULL, NULL, NULL, "domain_form");
		return;
	}
	if ((tok = authgrant_bearer(ex->req, &len)) == NULL) {
		client_answer(ex, &(struct pages_resp){ .status = 401,
		    .error = "unauthenticated", .extra =
		    "WWW-Authenticate: Bearer realm=\"postern\"\r\n" },
		    "unauthenticated");
		return;
	}
	authgrant_with_key(ex, tok, len, authdomain_granted, arg);
}

int
authdomain_builtin(struct exchange *ex)
{
	struct request	*req = ex->req;

	if (strcmp(req->path, "/.postern/domains") != 0)
		return 0;
	if (!ex->secure) {	/* client_decide() answers first; kept */
		authdomain_answer(ex, 403, "https_required", NULL, NULL, NULL,
		    "https_required");
		return 1;
	}
	ex->app = config_app_for_host(ex->cfg, req->host != NULL ?
	    req->host : "");
	if (ex->app == NULL) {
		client_answer(ex, &(struct pages_resp){ .status = 404 }, NULL);
		return 1;
	}
	if (req->method != HTTP_POST) {
		client_answer(ex, &(struct pages_resp){ .status = 405,
		    .extra = "Allow: POST\r\n" }, "method");
		return 1;
	}
	client_read_form(ex, FORM_MAX_BODY, authdomain_on_form);
	return 1;
}
