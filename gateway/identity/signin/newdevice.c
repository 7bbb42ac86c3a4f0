/*
 * The new-device notice and its "This wasn't me" link (see newdevice.h).
 *
 *   GET  /.postern/not-me?token=T   a button, nothing else
 *   POST /.postern/not-me           token=T: the browser's sessions end
 *                                   -> /.postern/reset?email=...
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <openssl/crypto.h>

#include "acctpage.h"
#include "auth-int.h"
#include "client.h"
#include "config.h"
#include "device.h"
#include "encode.h"
#include "form.h"
#include "log.h"
#include "loginpage.h"
#include "mail.h"
#include "newdevice.h"
#include "request.h"
#include "secret.h"
#include "session.h"
#include "user.h"
#include "worker.h"

#define NEWDEVICE_PATH	"/.postern/not-me"

/*
 * KEYS: the token.  ARGV: prefix.  The token taken (GETDEL); every
 * session of its user with its device deleted (each a write to session:,
 * so every instance's cache drops it), the device forgotten.  {user,
 * email, sessions ended}, or nil (no such token: used, expired, never).
 */
static struct store_script newdevice_lua_deny = STORE_LAYOUT_SCRIPT(
	"new device deny",
	"local v = redis.call('GETDEL', KEYS[1])\n"
	"if not v then return nil end\n"
	"local u, d, e = string.match(v, '^([^:]+):([0-9a-f]+):(.+)$')\n"
	"if not u then return nil end\n"
	"local idx = key('" USER_LAYOUT_USER_SESSIONS "', u)\n"
	"local n = 0\n"
	"for _, h in ipairs(redis.call('SMEMBERS', idx)) do\n"
	"  local s = key('" USER_LAYOUT_SESSION "', h)\n"
	"  if redis.call('HGET', s, 'device') == d then\n"
	"    redis.call('DEL', s)\n"
	"    redis.call('SREM', idx, h)\n"
	"    n = n + 1\n"
	"  end\n"
	"end\n"
	"redis.call('ZREM', key('" SESSION_LAYOUT_DEVICES "', u), d)\n"
	"return {u, e, n}\n");

/* ---- the notice ---- */

static void
newdevice_on_stored(void *arg, const redisReply *reply, const char *err)
{
	(void)arg;
	if (err != NULL || reply == NULL || reply->type == REDIS_REPLY_ERROR)
		log_event(LOG_LEVEL_WARN, "mail", "outcome", "not_stored",
		    "purpose", "new_device", NULL);
}

/* Store token <tok> for <user>'s device <dev>: 0 or -1. */
static int
newdevice_store(struct exchange *ex, const char *tok, const char *user,
    const char *dev, const char *email)
{
	char	hash[SESSION_HASH_LEN + 1], key[STORE_KEYLEN], val[512];

	session_hash(tok, hash);
	if (store_layout_key(key, sizeof(key), store_prefix(ex->w->store),
	    NEWDEVICE_KEY_TOKEN, hash) == -1 || snprintf(val, sizeof(val),
	    "%s:%s:%s", user, dev, email) >= (int)sizeof(val))
		return -1;
	return store_command(ex->w->store, newdevice_on_stored, NULL,
	    "SET %s %s EX %d", key, val, NEWDEVICE_TTL);
}

void
newdevice_notify(struct exchange *ex, const char *user, const char *email,
    const struct device_origin *d)
{
	char		 tok[SESSION_ID_LEN + 1], host[300], link[400];
	char		 org[AUTH_ORG_SLUGMAX + 1], when[40];
	char		 browser[UAGENT_LABEL_MAX];
	struct tm	 tm;
	time_t		 now = time(NULL);

	if (d->origin.seen != SESSION_DEVICE_NEW ||
	    !ex->cfg->notify_new_device || !mail_configured(ex->cfg) ||
	    email == NULL || email[0] == '\0' || ex->w->store == NULL)
		return;
	if (auth_link_host(ex, host, sizeof(host), org) == -1 ||
	    session_new_id(tok, sizeof(tok)) == -1 ||
	    newdevice_store(ex, tok, user, d->hash, email) == -1) {
		log_event(LOG_LEVEL_WARN, "mail", "outcome", "not_queued",
		    "purpose", "new_device", "request_id", ex->request_id,
		    NULL);
		return;
	}
	(void)snprintf(link, sizeof(link), "https://%s" NEWDEVICE_PATH
	    "?token=%s", host, tok);
	OPENSSL_cleanse(tok, sizeof(tok));
	uagent_label(d->ua, browser, sizeof(browser));
	(void)gmtime_r(&now, &tm);
	(void)strftime(when, sizeof(when), "%Y-%m-%d %H:%M UTC", &tm);
	if (mailer_send(ex->w->mailer, email, "new_device",
	    (const struct mail_var []){ { "product", ex->cfg->brand_product },
	    { "email", email }, { "time", when }, { "ip", d->ip },
	    { "browser", browser }, { "deny_link", link } }, 6) == -1)
		log_event(LOG_LEVEL_WARN, "mail", "outcome", "not_queued",
		    "purpose", "new_device", "request_id", ex->request_id,
		    NULL);
	else
		auth_audit(ex, "new_device", user, email, 1, browser);
	OPENSSL_cleanse(link, sizeof(link));
}

/* ---- the link ---- */

/* One use of the link; owned by its pending callback once started. */
struct notme {
	struct auth_step step;
	char		 token[SESSION_ID_LEN + 2];
	const char	*error;		/* for the page, or NULL */
};

static void
notme_release(struct auth_step *s)
{
	struct notme	*n = AUTH_STEP_STATE(s, struct notme, step);

	OPENSSL_cleanse(n, sizeof(*n));
	free(n);
}

/* The intro and the form ending that session, while the link is good. */
static int
notme_form(struct evbuffer *out, const struct loginpage *lp,
    const struct notme *n)
{
	if (n->error != NULL)
		return evbuffer_add(out, "", 1);
	return acctpage_para(out, pages_t(&lp->frame, "notme.intro"), NULL) |
	    acctpage_form(out, lp, &(struct acctpage_form){
	    .action = NEWDEVICE_PATH, .submit = "notme.end", .danger = 1,
	    .hidden = { { "token", n->token } } }) | evbuffer_add(out, "", 1);
}

static int
notme_render(struct evbuffer *out, const struct loginpage *lp, void *ctx)
{
	const struct notme *n = ctx;
	struct evbuffer	*alert, *form;
	int		 rc = -1;

	alert = evbuffer_new();
	form = evbuffer_new();
	if (alert != NULL && form != NULL && loginpage_alert(alert, lp) == 0 &&
	    evbuffer_add(alert, "", 1) == 0 && notme_form(form, lp, n) == 0) {
		const struct pages_var v[] = {
			{ "csrf", lp->csrf, 0 },
			{ "token", n->token, 0 },
			{ "alert", (const char *)evbuffer_pullup(alert, -1), 1 },
			{ "form", (const char *)evbuffer_pullup(form, -1), 1 },
		};

		rc = pages_begin(out, &lp->frame, "notme.title") |
		    pages_render(out, &lp->frame, PAGETMPL_NOTME, v, 4);
	}
	if (alert != NULL)
		evbuffer_free(alert);
	if (form != NULL)
		evbuffer_free(form);
	return rc;
}

static void
notme_page(struct exchange *ex, struct notme *n, int status,
    const char *reason)
{
	struct loginpage lp = { .error = n->error };

	auth_page_ctx(ex, status, &lp, notme_render, n, NULL, reason);
}

/* Answer <n>'s page with <error>, and free <n> (never started). */
static void
notme_refuse(struct exchange *ex, struct notme *n, int status,
    const char *error, const char *reason)
{
	n->error = error;
	notme_page(ex, n, status, reason);
	notme_release(&n->step);
}

static void
notme_on_denied(void *arg, const redisReply *reply, const char *err)
{
	struct auth_step	*s = arg;
	struct notme		*n = AUTH_STEP_STATE(s, struct notme, step);
	struct exchange		*ex;
	char			 enc[3 * USER_EMAILMAX + 1], loc[sizeof(enc) + 40];

	if ((ex = auth_step_reply(s, reply, err)) == NULL)
		return;
	if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 3 ||
	    reply->element[0]->type != REDIS_REPLY_STRING ||
	    reply->element[1]->type != REDIS_REPLY_STRING) {
		n->error = "notme.used";
		s->ex = NULL;
		ex->check = NULL;
		notme_page(ex, n, 400, "token_used");
		(void)auth_step_done(s);
		return;
	}
	auth_audit(ex, "new_device_denied", reply->element[0]->str,
	    reply->element[0]->str, 1, reply->element[2]->integer > 0 ?
	    "session_ended" : "no_session");
	(void)encode_pct(reply->element[1]->str, "@", enc, sizeof(enc));
	(void)snprintf(loc, sizeof(loc), "/.postern/reset?email=%s", enc);
	if ((ex = auth_step_done(s)) != NULL)
		client_answer(ex, &(struct pages_resp){ .status = 303,
		    .location = loc }, NULL);
}

static void
notme_on_form(struct exchange *ex, struct evbuffer *body)
{
	struct notme	*n;
	struct form	 f;
	const char	*why, *tok;
	char		 hash[SESSION_HASH_LEN + 1], key[STORE_KEYLEN];
	struct store	*st = ex->w->store;

	if ((n = calloc(1, sizeof(*n))) == NULL) {
		auth_unavailable(ex);
		return;
	}
	if (form_parse((const char *)evbuffer_pullup(body, -1),
	    evbuffer_get_length(body), &f, &why) == -1) {
		notme_refuse(ex, n, 400, "The form could not be read.", why);
		return;
	}
	tok = form_get(&f, "token");
	if (!auth_form_genuine(ex, &f)) {
		form_free(&f);
		notme_refuse(ex, n, 403, "This form has expired. Please try "
		    "again.", "csrf");
		return;
	}
	if (tok == NULL || !session_id_valid(tok)) {
		form_free(&f);
		notme_refuse(ex, n, 400, "This link is not valid.",
		    "token_unknown");
		return;
	}
	session_hash(tok, hash);
	form_free(&f);
	if (st == NULL || !store_healthy(st) || store_layout_key(key,
	    sizeof(key), store_prefix(st), NEWDEVICE_KEY_TOKEN, hash) == -1) {
		notme_release(&n->step);
		auth_unavailable(ex);
		return;
	}
	auth_step_start(&n->step, ex, st, notme_release);
	if (store_eval(st, &newdevice_lua_deny, notme_on_denied, &n->step, 1,
	    2, (const char *[]){ key, store_prefix(st) }, NULL) == -1)
		auth_step_unavailable(&n->step);
}

/* GET: the button, whatever the token (nothing is read or spent). */
static void
notme_get(struct exchange *ex)
{
	struct notme	*n;
	struct form	 f;
	const char	*why, *tok = NULL;
	int		 parsed = 0;

	if ((n = calloc(1, sizeof(*n))) == NULL) {
		auth_unavailable(ex);
		return;
	}
	if (ex->req->query != NULL && form_parse(ex->req->query,
	    strlen(ex->req->query), &f, &why) == 0) {
		parsed = 1;
		tok = form_get(&f, "token");
	}
	if (tok != NULL && session_id_valid(tok))
		(void)snprintf(n->token, sizeof(n->token), "%s", tok);
	else
		n->error = "notme.invalid";
	if (parsed)
		form_free(&f);
	notme_page(ex, n, n->error == NULL ? 200 : 400, n->error == NULL ?
	    NULL : "token_unknown");
	notme_release(&n->step);
}

int
newdevice_builtin(struct exchange *ex)
{
	if (strcmp(ex->req->path, NEWDEVICE_PATH) != 0)
		return 0;
	if (ex->cfg->keys == NULL || !ex->cfg->keys->present)
		client_answer(ex, &(struct pages_resp){ .status = 404 }, NULL);
	else if (ex->req->method == HTTP_POST)
		client_read_form(ex, FORM_MAX_BODY, notme_on_form);
	else if (ex->req->method == HTTP_GET || ex->req->method == HTTP_HEAD)
		notme_get(ex);
	else
		client_answer(ex, &(struct pages_resp){ .status = 405,
		    .extra = "Allow: GET, POST\r\n" }, "method");
	return 1;
}
