/*
 * Sign-out: POST /.postern/logout (CSRF-checked) ends the session the
 * cookie names in this host's scope on every instance, clears the
 * browser's cookies and storage, and goes back to sign-in -- or, for a
 * session from a single sign-on provider that offers it, on to the
 * provider's end of session (sso.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <openssl/crypto.h>

#include "auth-int.h"
#include "client.h"
#include "config.h"
#include "exchange.h"
#include "form.h"
#include "pages.h"
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

static void
auth_logged_out(struct exchange *ex, const char *user)
{
	auth_logged_out_to(ex, user, "/.postern/login");
}

/* A sign-out: the method of the session it ends (read just before). */
struct auth_signout {
	struct auth_step step;
	char		 method[40];
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
		(void)auth_step_done(&so->step);
		auth_logged_out(ex, status == SESSION_OK ? user : "");
	}
}

void
auth_on_logout_form(struct exchange *ex, struct evbuffer *body)
{
	struct auth_signout *so;
	char		 hash[SESSION_HASH_LEN + 1], key[STORE_KEYLEN];
	struct form	 f;
	const char	*why;
	char		 id[SESSION_ID_LEN + 2], scope[AUTH_SCOPE_MAX];

	if (form_parse((const char *)evbuffer_pullup(body, -1),
	    evbuffer_get_length(body), &f, &why) == -1) {
		client_answer(ex, &(struct pages_resp){ .status = 400 }, why);
		return;
	}
	auth_scope(ex, scope, sizeof(scope));	/* only this host's session */
	if (!auth_form_genuine(ex, &f)) {
		client_answer(ex, &(struct pages_resp){ .status = 403 },
		    "csrf");
	} else if (!auth_cookie(ex, id, sizeof(id))) {
		auth_logged_out(ex, "");
	} else if (ex->w->store == NULL ||
	    (so = calloc(1, sizeof(*so))) == NULL) {
		auth_unavailable(ex);
	} else {
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

