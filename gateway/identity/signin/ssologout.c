/*
 * Single sign-on, the provider's ends of a session (sso.h): the
 * back-channel logout endpoint (a logout token, verified like an id_token,
 * ends the sessions it names on every instance) and RP-initiated logout
 * (Postern's sign-out sends the browser on to the provider's
 * end_session_endpoint).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <jansson.h>

#include "auth-int.h"
#include "client.h"
#include "config.h"
#include "exchange.h"
#include "form.h"
#include "jws.h"
#include "oidc.h"
#include "pages.h"
#include "request.h"
#include "sso.h"
#include "sso-int.h"
#include "worker.h"

/* ---- back-channel logout: /.postern/sso/<p>/backchannel-logout ---- */

static void	sso_on_bcl_keys(void *, const struct oidc_meta *, const char *);

/* Answer the provider (no page: it is a server). */
static void
sso_answer_server(struct exchange *ex, int status, const char *reason)
{
	client_answer(ex, &(struct pages_resp){ .status = status,
	    .error = status == 200 ? NULL : "invalid_request" },
	    reason);
}

void
sso_bcl_answer(struct sso_flow *f, int status, const char *reason)
{
	struct exchange	*ex = sso_detach(f);

	if (ex != NULL) {
		auth_audit(ex, "sso_backchannel_logout", f->p->name,
		    f->claims.sub, status == 200, reason);
		sso_answer_server(ex, status, reason);
	}
	(void)auth_step_done(&f->step);
}

static void
sso_bcl_fail(struct sso_flow *f, const char *reason)
{
	sso_bcl_answer(f, 400, reason);
}

static void
sso_bcl_verify(struct sso_flow *f, const struct oidc_meta *m)
{
	struct sso_expect	 e = { 0 };
	enum jws_status		 st;
	enum sso_token_status	 ts;
	json_t			*claims = NULL;

	st = jws_verify(m->jwks, f->token, strlen(f->token), m->algs,
	    &claims, f->kid, sizeof(f->kid));
	if (st == JWS_UNKNOWN_KID && !f->kid_retry && f->kid[0] != '\0') {
		f->kid_retry = 1;
		if (oidc_meta_get(f->step.ex->w->oidc, f->p, f->kid,
		    sso_on_bcl_keys, f) == -1)
			sso_bcl_fail(f, "sso_provider_down");
		return;
	}
	if (st != JWS_OK) {
		sso_bcl_fail(f, jws_reason(st));
		return;
	}
	e.issuer = f->p->issuer;
	e.client_id = f->p->client_id;
	e.now = (int64_t)time(NULL);
	e.skew = SSO_SKEW;
	e.max_iat_age = SSO_IAT_AGE;
	ts = sso_check_logout_token(claims, &e, &f->claims);
	json_decref(claims);
	if (ts != SSO_TOKEN_OK) {
		sso_bcl_fail(f, sso_token_reason(ts));
		return;
	}
	sso_logout_sessions(f);
}

static void
sso_on_bcl_keys(void *arg, const struct oidc_meta *m, const char *err)
{
	struct sso_flow	*f = arg;

	if (f->step.ex == NULL) {
		(void)auth_step_done(&f->step);
		return;
	}
	if (err != NULL || m == NULL) {
		sso_bcl_fail(f, "sso_provider_down");
		return;
	}
	sso_bcl_verify(f, m);
}

void
sso_on_bcl_form(struct exchange *ex, struct evbuffer *body)
{
	const struct config_sso_provider *p;
	struct sso_flow	*f;
	struct form	 form;
	const char	*why, *tok;
	size_t		 len = evbuffer_get_length(body);
	char		*raw = (char *)evbuffer_pullup(body, -1);
	const char	*path = ex->req->path + strlen(SSO_PATH);

	p = config_sso_provider(ex->cfg->sso, path, strcspn(path, "/"));
	if (p == NULL || (raw == NULL && len > 0) ||
	    form_parse(raw != NULL ? raw : "", len, &form, &why) == -1) {
		sso_answer_server(ex, 400, "sso_logout_token_bad");
		return;
	}
	tok = form_get(&form, "logout_token");
	if (tok == NULL || strlen(tok) > 16384) {
		form_free(&form);
		sso_answer_server(ex, 400, "sso_logout_token_bad");
		return;
	}
	if ((f = sso_flow_new(ex, p)) == NULL) {
		form_free(&form);
		return;
	}
	if ((f->token = strdup(tok)) == NULL ||
	    oidc_meta_get(ex->w->oidc, p, NULL, sso_on_bcl_keys, f) == -1)
		sso_bcl_fail(f, "sso_provider_down");
	form_free(&form);
}

/* ---- RP-initiated logout ---- */

/* The provider's metadata: send the browser to its end_session_endpoint. */
static void
sso_on_logout_meta(void *arg, const struct oidc_meta *m, const char *err)
{
	struct sso_flow	*f = arg;
	struct exchange	*ex = sso_detach(f);
	char		 back[SSO_HOST_MAX + 600];
	char		*url = NULL;

	if (ex == NULL)
		goto out;
	(void)snprintf(back, sizeof(back), "https://%s%s", f->host,
	    f->p->post_logout_redirect);
	if (err == NULL && m != NULL && m->end_session_endpoint != NULL &&
	    (url = malloc(SSO_URL_MAX)) != NULL) {
		(void)snprintf(url, SSO_URL_MAX, "%s", m->end_session_endpoint);
		if (sso_param(url, SSO_URL_MAX, "client_id",
		    f->p->client_id) == -1 || sso_param(url, SSO_URL_MAX,
		    "post_logout_redirect_uri", back) == -1) {
			free(url);
			url = NULL;
		}
	}
	auth_logged_out_to(ex, f->user, url != NULL ? url : "/.postern/login");
	free(url);
out:
	(void)auth_step_done(&f->step);
}

void
sso_logout(struct exchange *ex, const struct config_sso_provider *p,
    const char *user)
{
	struct sso_flow	*f;

	if ((f = sso_flow_new(ex, p)) == NULL)
		return;
	(void)snprintf(f->user, sizeof(f->user), "%s", user);
	if (sso_host(ex, f->host, sizeof(f->host)) == -1 ||
	    oidc_meta_get(ex->w->oidc, p, NULL, sso_on_logout_meta, f) == -1) {
		ex = sso_detach(f);
		auth_logged_out_to(ex, f->user, "/.postern/login");
		(void)auth_step_done(&f->step);
	}
}
