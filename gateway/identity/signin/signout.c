/*
 * Sign-out: POST /.postern/logout (CSRF-checked) ends the session the
 * cookie names in this host's scope on every instance, clears the
 * browser's cookies and storage, and goes back to sign-in -- or, for a
 * session from a single sign-on provider that offers it, on to the
 * provider's end of session (sso.h).  GET /.postern/logout asks first (a
 * one-click confirmation page, so that a link or an image cannot sign
 * anyone out), and an app's own response header X-Postern-Logout ends the
 * session its request was made with.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <openssl/crypto.h>

#include "audit.h"
#include "auth-int.h"
#include "auth.h"
#include "client.h"
#include "config.h"
#include "exchange.h"
#include "form.h"
#include "log.h"
#include "loginpage.h"
#include "pages.h"
#include "ratelimit.h"
#include "redirect.h"
#include "request.h"
#include "sesscache.h"
#include "session.h"
#include "sso.h"
#include "store.h"
#include "user.h"
#include "worker.h"

/*
 * Signed out (or was not signed in: <user> ""): clear everything, then to
 * <location> (the sign-in page, or the provider's end of session).  The
 * audit event names the user whose session ended.
 */
void
auth_logged_out_to(struct exchange *ex, const char *user,
    const char *location)
{
	struct pages_resp r = { .status = 303 };
	char		 extra[700];

	auth_session_cookie(ex->cfg, NULL, extra, sizeof(extra));
	(void)strncat(extra, "Clear-Site-Data: \"cache\", \"cookies\", "
	    "\"storage\"\r\n", sizeof(extra) - strlen(extra) - 1);
	r.extra = extra;
	r.location = location;
	auth_audit(ex, "logout", user, user, 1, user[0] == '\0' ?
	    "no_session" : NULL);
	client_answer(ex, &r, NULL);
}

/* Where a sign-out ends: the form's checked rd, else the sign-in page
 * saying so. */
static void
auth_logged_out(struct exchange *ex, const char *user, const char *rd)
{
	auth_logged_out_to(ex, user, rd != NULL && rd[0] != '\0' ? rd :
	    AUTH_SIGNED_OUT_URL);
}

/* The confirmation page (template logout.html). */
static int
signout_confirm_page(struct evbuffer *out, const struct loginpage *p,
    void *ctx)
{
	const struct pages_var v[] = {
		{ "csrf", p->csrf, 0 },
		{ "rd", p->rd, 0 },
		{ "back", p->rd[0] != '\0' ? p->rd : "/", 0 },
	};

	(void)ctx;
	return pages_begin(out, &p->frame, "logout.title") |
	    pages_render(out, &p->frame, PAGETMPL_LOGOUT, v, 3);
}

/*
 * GET /.postern/logout[?rd=URL]: the confirmation page; its POST carries
 * the CSRF token and the checked rd (an unchecked one is dropped).
 */
void
auth_logout_get(struct exchange *ex)
{
	struct loginpage lp = { 0 };
	struct form	 f;
	const char	*why, *q = ex->req->query, *rd = NULL;
	char		 checked[REDIRECT_MAX + 1] = "";

	if (q != NULL && form_parse(q, strlen(q), &f, &why) == 0) {
		rd = form_get(&f, "rd");
		if (rd != NULL && redirect_check(ex->cfg, rd, checked,
		    sizeof(checked)) == -1)
			checked[0] = '\0';
		form_free(&f);
	}
	lp.rd = checked;
	auth_page_ctx(ex, 200, &lp, signout_confirm_page, NULL, NULL, NULL);
}

/* A sign-out: the method of the session it ends (read just before). */
struct auth_signout {
	struct auth_step step;
	char		 method[40];
	char		 rd[REDIRECT_MAX + 1];	/* checked, or "" */
};

static void
auth_signout_free(struct auth_step *step)
{
	free(AUTH_STEP_STATE(step, struct auth_signout, step));
}

/* Runs before the destroy's answer (one connection, in order). */
static void
auth_on_method(void *arg, const redisReply *reply, const char *err)
{
	struct auth_signout *so = arg;

	if (err == NULL && reply != NULL && reply->type == REDIS_REPLY_STRING)
		(void)snprintf(so->method, sizeof(so->method), "%s",
		    reply->str);
}

static void
auth_on_destroyed(void *arg, enum session_status status, const char *user)
{
	struct auth_signout *so = arg;
	const struct config_sso_provider *p;
	struct exchange	*ex = so->step.ex;

	if (ex == NULL) {
		(void)auth_step_done(&so->step);
		return;
	}
	if (status == SESSION_ERROR) {	/* never claim a sign-out we lack */
		(void)auth_step_done(&so->step);
		auth_unavailable(ex);
	} else if (status == SESSION_OK &&
	    (p = sso_method_provider(ex->cfg, so->method)) != NULL &&
	    p->post_logout_redirect != NULL) {
		(void)auth_step_done(&so->step);
		sso_logout(ex, p, user);	/* the provider's session too */
	} else {
		char	rd[sizeof(so->rd)];

		(void)memcpy(rd, so->rd, sizeof(rd));	/* done() frees so */
		(void)auth_step_done(&so->step);
		auth_logged_out(ex, status == SESSION_OK ? user : "", rd);
	}
}

void
auth_on_logout_form(struct exchange *ex, struct evbuffer *body)
{
	struct auth_signout *so;
	char		 hash[SESSION_HASH_LEN + 1], key[STORE_KEYLEN];
	struct form	 f;
	const char	*why, *rd;
	char		 id[SESSION_ID_LEN + 2], scope[AUTH_SCOPE_MAX];
	char		 checked[REDIRECT_MAX + 1];

	if (form_parse((const char *)evbuffer_pullup(body, -1),
	    evbuffer_get_length(body), &f, &why) == -1) {
		client_answer(ex, &(struct pages_resp){ .status = 400 }, why);
		return;
	}
	auth_scope(ex, scope, sizeof(scope));	/* only this host's session */
	rd = form_get(&f, "rd");
	if (rd == NULL || redirect_check(ex->cfg, rd, checked,
	    sizeof(checked)) == -1)
		checked[0] = '\0';
	if (!auth_form_genuine(ex, &f)) {
		client_answer(ex, &(struct pages_resp){ .status = 403 },
		    "csrf");
	} else if (!auth_cookie(ex, id, sizeof(id))) {
		auth_logged_out(ex, "", checked);
	} else if (ex->w->store == NULL ||
	    (so = calloc(1, sizeof(*so))) == NULL) {
		auth_unavailable(ex);
	} else {
		(void)memcpy(so->rd, checked, sizeof(so->rd));
		auth_step_start(&so->step, ex, ex->w->store, auth_signout_free);
		session_hash(id, hash);
		if (user_key(key, sizeof(key), store_prefix(so->step.st),
		    USER_KEY_SESSION, hash) != -1)
			(void)store_command(so->step.st, auth_on_method, so,
			    "HGET %s method", key);
		if (session_destroy(so->step.st, id, scope, auth_on_destroyed,
		    so) == -1) {
			(void)auth_step_done(&so->step);
			auth_unavailable(ex);
		}
	}
	OPENSSL_cleanse(id, sizeof(id));
	form_free(&f);
}


/* ---- X-Postern-Logout: the app ends its user's session ---- */

/* What the audit event needs once Redis answered; the request may be
 * gone by then. */
struct auth_uplogout {
	struct worker	*w;
	struct config	*cfg;			/* one reference */
	char		 user[64];
	char		 org[64];
	char		 ip[INET6_ADDRSTRLEN + 8];
	char		 request_id[33];
};

static void
auth_on_uplogout(void *arg, enum session_status status, const char *user)
{
	struct auth_uplogout *u = arg;

	(void)user;
	audit_emit(u->w, u->cfg, &(struct audit_event){ .action = "logout",
	    .actor = u->user, .target = u->user, .org = u->org, .ip = u->ip,
	    .request_id = u->request_id, .outcome = status == SESSION_ERROR ?
	    "failure" : "success", .reason = status == SESSION_OK ?
	    "upstream_logout" : status == SESSION_NONE ?
	    "upstream_logout_none" : "upstream_logout_store" });
	config_unref(u->cfg);
	free(u);
}

void
auth_upstream_logout(struct exchange *ex, char *extra, size_t size)
{
	const struct auth_ident *ident = ex->ident;
	struct auth_uplogout *u;
	char		 id[SESSION_ID_LEN + 2], hash[SESSION_HASH_LEN + 1];
	char		 scope[AUTH_SCOPE_MAX];

	extra[0] = '\0';
	if (ident == NULL || ident->kind != DECIDE_SESSION ||
	    !auth_cookie(ex, id, sizeof(id)))
		return;
	session_hash(id, hash);
	sesscache_drop(ex->w->scache, hash);	/* now, on this worker */
	auth_session_cookie(ex->cfg, NULL, extra, size);
	auth_scope(ex, scope, sizeof(scope));
	if (ex->w->store != NULL && (u = calloc(1, sizeof(*u))) != NULL) {
		u->w = ex->w;
		u->cfg = config_ref(ex->cfg);
		(void)snprintf(u->user, sizeof(u->user), "%s",
		    ident->s.user);
		(void)snprintf(u->org, sizeof(u->org), "%s", ex->tenant);
		(void)snprintf(u->request_id, sizeof(u->request_id), "%s",
		    ex->request_id);
		if (ratelimit_client_addr(ex, u->ip, sizeof(u->ip)) == -1)
			(void)snprintf(u->ip, sizeof(u->ip), "%s", ex->peer);
		if (session_destroy(ex->w->store, id, scope, auth_on_uplogout,
		    u) == -1) {
			config_unref(u->cfg);
			free(u);
			log_event(LOG_LEVEL_ERROR, "logout_failed",
			    "request_id", ex->request_id, "reason",
			    "upstream_logout_store", (const char *)NULL);
		}
	}
	OPENSSL_cleanse(id, sizeof(id));
}
