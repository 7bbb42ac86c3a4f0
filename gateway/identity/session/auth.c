/*
 * Authentication on the request path (see auth.h).
 *
 * Paths that reach this module, through the hooks serve.c installs for the
 * edge (worker.h): a request to an app -> auth_decide() (decide()
 * anonymously, then again with the session if the route needs one);
 * /.postern/... -> auth_builtin(); forwarding -> auth_upstream_headers()
 * before the upstream head is written; a closing client -> auth_detach().
 *
 * Here: deciding requests (sessions, then authgrant.c's API keys and
 * share links, rate limits, account.c's second-factor gate), the helpers
 * every flow's pending steps share (auth-int.h; the step record itself is
 * step.c's), the answers, the identity upstream.  Signing in and out:
 * authlogin.c.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <openssl/crypto.h>

#include "assertion.h"
#include "audit.h"
#include "auth.h"
#include "account.h"
#include "auth-int.h"
#include "authgrant.h"
#include "client.h"
#include "config.h"
#include "domainreg.h"
#include "cookie.h"
#include "csrf.h"
#include "device.h"
#include "decide.h"
#include "form.h"
#include "hashpool.h"
#include "log.h"
#include "loginpage.h"
#include "mail.h"
#include "pages.h"
#include "password.h"
#include "proxy.h"
#include "recover.h"
#include "ratelimit.h"
#include "redirect.h"
#include "route.h"
#include "request.h"
#include "sso.h"
#include "secret.h"
#include "worker.h"
#include "session.h"
#include "store.h"
#include "user.h"
#include "encode.h"
#include "timeutil.h"

const char *const auth_cookie_names[] = { SESSION_COOKIE, SESSION_COOKIE_SSO,
    CSRF_COOKIE, AUTHGRANT_COOKIE, RECOVER_MAGIC_COOKIE, DEVICE_COOKIE,
    SSO_COOKIE, NULL };

static int64_t
auth_now(void)
{
	return (int64_t)time(NULL);
}

void
auth_limits(const struct config *cfg, struct session_limits *lim)
{
	lim->idle_ms = cfg->session_idle_timeout;
	lim->lifetime_s = cfg->session_lifetime / 1000;
	lim->max_per_user = cfg->session_max_per_user;
}

/* The session cookie's name: the shared one when a cookie domain is set. */
const char *
auth_cookie_name(const struct config *cfg)
{
	return cfg->cookie_domain != NULL ? SESSION_COOKIE_SSO : SESSION_COOKIE;
}

/* <kind><name> into <out> (<size> > 0 bytes), cut to fit as snprintf()
 * would: on every signed-in request, so no format parsing. */
static void
auth_scope_put(char *out, size_t size, const char *kind, const char *name)
{
	size_t	k = strlen(kind), n = strlen(name);

	if (k >= size)
		k = size - 1;
	memcpy(out, kind, k);
	if (n >= size - k)
		n = size - k - 1;
	memcpy(out + k, name, n);
	out[k + n] = '\0';
}

void
auth_scope(const struct exchange *ex, char *out, size_t size)
{
	const char	*cd = ex->cfg->cookie_domain;
	const char	*h = ex->req->host != NULL ? ex->req->host : "";
	const struct config_app *app;
	size_t		 hl = strlen(h), dl = cd != NULL ? strlen(cd) : 0;

	/* The browser sends a Domain cookie to the domain and below it. */
	if (cd != NULL && hl >= dl && strcmp(h + hl - dl, cd) == 0 &&
	    (hl == dl || h[hl - dl - 1] == '.'))
		auth_scope_put(out, size, "domain:", cd);
	else if ((app = config_app_for_host(ex->cfg, h)) != NULL)
		auth_scope_put(out, size, "app:", app->name);
	else
		auth_scope_put(out, size, "host:", h);
}

void
auth_hash(struct auth_step *s, hashpool_work_fn work, hashpool_done_fn done)
{
	struct exchange	*ex = s->ex;

	if (hashpool_submit(ex->w->srv->hashpool, ex->w->hashport, work,
	    done, s) == 0)
		return;
	(void)auth_step_done(s);
	client_answer(ex, &(struct pages_resp){ .status = 503 },
	    "hash_queue_full");
}

struct exchange *
auth_step_reply(struct auth_step *s, const redisReply *reply,
    const char *err)
{
	struct exchange	*ex = s->ex;

	if (ex != NULL && err == NULL && reply != NULL)
		return ex;
	(void)auth_step_done(s);
	if (ex != NULL)
		auth_unavailable(ex);
	return NULL;
}

void
auth_step_unavailable(struct auth_step *s)
{
	struct exchange	*ex = auth_step_done(s);

	if (ex != NULL)
		auth_unavailable(ex);
}

void
auth_pwnew_run(struct auth_pwnew *n)
{
	if (password_hash(&n->params, n->pw, n->len, n->phc,
	    sizeof(n->phc)) == -1)
		n->phc[0] = '\0';
	OPENSSL_cleanse(n->pw, n->len);
}

void
auth_pwnew_clear(struct auth_pwnew *n)
{
	if (n->pw != NULL) {
		OPENSSL_cleanse(n->pw, n->len);
		free(n->pw);
		n->pw = NULL;
	}
	OPENSSL_cleanse(n->phc, sizeof(n->phc));
}

void
auth_pwcheck_clear(struct auth_pwcheck *c)
{
	if (c->password != NULL) {
		OPENSSL_cleanse(c->password, c->pwlen);
		free(c->password);
		c->password = NULL;
	}
	OPENSSL_cleanse(c->rehash, sizeof(c->rehash));
}

/*
 * End <r>'s flow refused by its class for <ms> (<shed>: by the worker's
 * memory of Redis' refusal).  A refused sign-in is a lockout, audited
 * (once per refusal by Redis); browsers get the sign-in page saying so,
 * with the emailed-link and reset ways in.
 */
static void
auth_rate_refuse(struct auth_rate *r, uint64_t ms, int shed)
{
	const struct ratelimit_class *c = r->rl;
	struct exchange	*ex;
	char		 target[USER_EMAILMAX + 1], rd[REDIRECT_MAX + 1];
	int		 login = strcmp(c->name, "login") == 0;

	(void)snprintf(target, sizeof(target), "%s", r->email != NULL ?
	    r->email : "");
	(void)snprintf(rd, sizeof(rd), "%s", r->rd != NULL &&
	    r->rd[0] != '\0' ? r->rd : "/");
	ex = auth_step_done(r->step);	/* frees <r> with its flow */
	if (login && !shed)
		auth_audit(ex, "rate_limit_lockout", "", target, 0, c->name);
	if (!login || !pages_wants_html(request_header(ex->req, "accept"))) {
		ratelimit_refuse(ex, c, ms, shed);
		return;
	}
	ratelimit_note(ex, c, shed);
	auth_login_locked(ex, rd, target, ms);
}

static void
auth_on_rate(void *arg, const redisReply *reply, const char *err)
{
	struct auth_rate	*r = arg;
	struct exchange		*ex = r->step->ex;

	if (ex == NULL) {
		(void)auth_step_done(r->step);
		return;
	}
	if (err != NULL || reply == NULL ||
	    reply->type != REDIS_REPLY_INTEGER) {
		if (r->rl->fail_open)
			auth_step_resume(r->step);
		else
			auth_step_unavailable(r->step);
		return;
	}
	if (reply->integer > 0) {
		/* Redis admits nothing of this client's before then: counted
		 * from when it was asked, which is before it looked */
		ratelimit_shed_note(ex->w->rl_shed, &r->key,
		    r->sent + (uint64_t)reply->integer);
		auth_rate_refuse(r, (uint64_t)reply->integer, 0);
		return;
	}
	auth_step_resume(r->step);
}

void
auth_rate(struct auth_rate *r, struct auth_step *s, const char *name,
    const char *account, auth_step_fn next)
{
	struct exchange	*ex = s->ex;
	char		 addr[INET6_ADDRSTRLEN + 8];
	int		 have = 0;
	uint64_t	 left;

	r->step = s;
	s->next = next;
	if ((r->rl = ratelimit_class(ex->cfg, name)) == NULL) {
		auth_step_resume(s);
		return;
	}
	if (ratelimit_client_key(ex, addr, sizeof(addr)) == 0) {
		have = 1;
		r->sent = timeutil_mono_ms();
		ratelimit_shed_key(ex->w->rl_shed, r->rl, addr, account,
		    &r->key);
		left = ratelimit_shed_left(ex->w->rl_shed, &r->key, r->sent);
		if (left > 0) {		/* Redis refused it moments ago */
			auth_rate_refuse(r, left, 1);
			return;
		}
	}
	if (!have || !store_healthy(s->st) || ratelimit_take(s->st,
	    r->rl, addr, account, auth_on_rate, r) == -1) {
		if (r->rl->fail_open)
			auth_step_resume(s);
		else
			auth_step_unavailable(s);
	}
}

/*
 * A tunnel's session check.  Owned by the client (ex->watch); while a
 * lookup is in flight the callback owns it and the client only unlinks
 * itself (<ex> NULL) when it closes.
 */
struct auth_watch {
	struct exchange	*ex;
	struct event	*timer;
	int		 busy;		/* a lookup is in flight */
	char		 hash[SESSION_HASH_LEN + 1];
};

static void
auth_watch_free(struct auth_watch *aw)
{
	if (aw->timer != NULL)
		event_free(aw->timer);
	free(aw);
}

static void
auth_watch_arm(struct auth_watch *aw)
{
	struct timeval	tv;

	(void)evtimer_add(aw->timer, timeutil_timeout(&tv,
	    aw->ex->cfg->session_ws_recheck));
}

static void
auth_on_watch(void *arg, enum session_status status, const struct session *s)
{
	struct auth_watch	*aw = arg;
	struct exchange		*ex = aw->ex;

	(void)s;
	aw->busy = 0;
	if (ex == NULL) {		/* closed meanwhile */
		auth_watch_free(aw);
		return;
	}
	if (status == SESSION_NONE) {
		log_event(LOG_LEVEL_INFO, "websocket", "outcome", "closed",
		    "reason", "session_revoked", "client_ip", ex->peer, NULL);
		client_close(ex, "session revoked");
		return;
	}
	auth_watch_arm(aw);		/* OK, or Redis away: look again */
}

static void
auth_watch_tick(evutil_socket_t fd, short what, void *arg)
{
	struct auth_watch	*aw = arg;
	struct exchange		*ex = aw->ex;
	struct session_limits	 lim;

	(void)fd;
	(void)what;
	auth_limits(ex->cfg, &lim);
	if (ex->w->store != NULL && store_healthy(ex->w->store) &&
	    session_lookup_hash(ex->w->store, aw->hash, NULL, auth_now(), &lim,
	    auth_on_watch, aw) == 0)
		aw->busy = 1;
	else
		auth_watch_arm(aw);
}

void
auth_tunnel_watch(struct exchange *ex)
{
	struct auth_watch	*aw;

	if (ex->ident == NULL || ex->ident->kind != DECIDE_SESSION ||
	    ex->watch != NULL || (aw = calloc(1, sizeof(*aw))) == NULL)
		return;
	aw->ex = ex;
	(void)memcpy(aw->hash, ex->ident->s.hash, sizeof(aw->hash));
	if ((aw->timer = evtimer_new(ex->w->base, auth_watch_tick, aw)) ==
	    NULL) {
		free(aw);
		return;
	}
	ex->watch = aw;
	auth_watch_arm(aw);
}

void
auth_detach(struct exchange *ex)
{
	if (ex->watch != NULL) {
		evtimer_del(ex->watch->timer);
		if (ex->watch->busy)
			ex->watch->ex = NULL;	/* its reply frees it */
		else
			auth_watch_free(ex->watch);
		ex->watch = NULL;
	}
	auth_step_detach(ex);
	auth_reset(ex);
}

struct auth_ident *
auth_ident_new(struct exchange *ex)
{
	struct worker	*w = ex->w;

	if (w->nident_free > 0)
		return w->ident_free[--w->nident_free];
	return malloc(sizeof(struct auth_ident));
}

void
auth_reset(struct exchange *ex)
{
	exchange_forget_identity(ex);
}

void
auth_audit(struct exchange *ex, const char *action, const char *actor,
    const char *target, int ok, const char *reason)
{
	char	ip[INET6_ADDRSTRLEN + 8];

	if (ratelimit_client_addr(ex, ip, sizeof(ip)) == -1)
		(void)snprintf(ip, sizeof(ip), "%s", ex->peer);
	metrics_audit(&ex->w->metrics, action, ok, reason);
	audit_emit(ex->w, ex->cfg, &(struct audit_event){ .action = action,
	    .actor = actor, .target = target, .org = ex->tenant, .ip = ip,
	    .request_id = ex->request_id, .outcome = ok ? "success" :
	    "failure", .reason = reason });
}

/* 1 if an app serves <host> by its very name. */
static int
auth_host_named(const struct config *cfg, const char *host)
{
	size_t	i, j;

	for (i = 0; i < cfg->napps; i++)
		for (j = 0; j < cfg->apps[i].nhosts; j++)
			if (strcmp(cfg->apps[i].hosts[j], host) == 0)
				return 1;
	return 0;
}

int
auth_link_host(struct exchange *ex, char *out, size_t size, char *org)
{
	const char	*h = ex->req->host, *dot;
	char		 pat[300], port[8] = "";
	int		 rc = 0;

	org[0] = '\0';
	if (h == NULL || strspn(h, "abcdefghijklmnopqrstuvwxyz0123456789.-:[]")
	    != strlen(h))
		return -1;
	if (!auth_host_named(ex->cfg, h)) {
		if ((dot = strchr(h, '.')) == NULL || dot == h ||
		    (size_t)(dot - h) > AUTH_ORG_SLUGMAX || snprintf(pat,
		    sizeof(pat), "{org}%s", dot) >= (int)sizeof(pat) ||
		    !auth_host_named(ex->cfg, pat))
			return -1;
		memcpy(org, h, (size_t)(dot - h));
		org[dot - h] = '\0';
		if (user_slug_valid(org) != 0)
			return -1;
		rc = 1;
	}
	if (ex->https_port != 443)
		(void)snprintf(port, sizeof(port), ":%u", ex->https_port);
	if (snprintf(out, size, "%s%s", h, port) >= (int)size)
		return -1;
	return rc;
}

void
auth_notify_change(struct exchange *ex, const char *email, const char *change)
{
	char		 ip[INET6_ADDRSTRLEN + 8], host[300], reset[340];
	char		 when[40], org[AUTH_ORG_SLUGMAX + 1];
	struct tm	 tm;
	time_t		 now = time(NULL);

	if (!ex->cfg->notify_changes || !mail_configured(ex->cfg) ||
	    email == NULL || email[0] == '\0')
		return;
	if (ratelimit_client_addr(ex, ip, sizeof(ip)) == -1)
		(void)snprintf(ip, sizeof(ip), "%s", ex->peer);
	if (auth_link_host(ex, host, sizeof(host), org) != -1)
		(void)snprintf(reset, sizeof(reset), "https://%s/.postern/reset",
		    host);
	else
		(void)snprintf(reset, sizeof(reset), "/.postern/reset");
	(void)gmtime_r(&now, &tm);
	(void)strftime(when, sizeof(when), "%Y-%m-%d %H:%M UTC", &tm);
	if (mailer_send(ex->w->mailer, email, "account_changed",
	    (const struct mail_var []){ { "product", ex->cfg->brand_product },
	    { "email", email }, { "change", change }, { "time", when },
	    { "ip", ip }, { "reset_link", reset } }, 6) == -1)
		log_event(LOG_LEVEL_WARN, "mail", "outcome", "not_queued",
		    "purpose", "account_changed", "request_id",
		    ex->request_id, NULL);
}

/* ---- responses ---- */

/* Answer with <r>, logging <reason> (NULL for a normal answer). */
void
auth_answer(struct exchange *ex, struct pages_resp *r, const char *reason)
{
	client_answer(ex, r, reason);
}

/*
 * A route that needs an identity, reached over plain HTTP (not through a
 * TLS-terminating trusted proxy): no cookie, API key or share token is
 * looked at, and nothing points the client at a sign-in page in clear.
 */
void
auth_https_required(struct exchange *ex)
{
	auth_answer(ex, &(struct pages_resp){ .status = 403,
	    .error = "https_required" }, "https_required");
}

void
auth_unavailable(struct exchange *ex)
{
	auth_answer(ex, &(struct pages_resp){ .status = 503 },
	    "session_store_down");
}

void
auth_session_cookie(const struct config *cfg, const char *id, char *buf,
    size_t size)
{
	char	dom[300] = "";

	if (cfg->cookie_domain != NULL)
		(void)snprintf(dom, sizeof(dom), "; Domain=%s",
		    cfg->cookie_domain);
	if (id != NULL)
		(void)snprintf(buf, size, "Set-Cookie: %s=%s; Path=/%s; "
		    "Max-Age=%llu; Secure; HttpOnly; SameSite=Lax\r\n",
		    auth_cookie_name(cfg), id, dom,
		    (unsigned long long)(cfg->session_lifetime / 1000));
	else
		(void)snprintf(buf, size, "Set-Cookie: %s=; Path=/%s; "
		    "Max-Age=0; Secure; HttpOnly; SameSite=Lax\r\n",
		    auth_cookie_name(cfg), dom);
}

/*
 * The way back after a gateway page for <ex>'s request into <back>
 * (REDIRECT_MAX + 1 bytes): its path and query ("/" when too long); for a
 * forward-auth decision over HTTPS the whole original URL, as the front
 * proxy forwarded it, when redirect_check() accepts it.
 */
static void
auth_way_back(const struct exchange *ex, char *back, size_t size)
{
	const struct request *req = ex->req;
	char		 url[REDIRECT_MAX + 1], chk[REDIRECT_MAX + 1];
	int		 n;

	n = snprintf(back, size, "%s%s%s", req->path,
	    req->query != NULL ? "?" : "", req->query != NULL ? req->query : "");
	if (n < 0 || (size_t)n >= size) {
		(void)snprintf(back, size, "/");
		return;
	}
	if (!ex->fwd || !ex->secure || ex->fwd_host[0] == '\0')
		return;
	n = snprintf(url, sizeof(url), "https://%s%s", ex->fwd_host, back);
	if (n > 0 && (size_t)n < sizeof(url) &&
	    redirect_check(ex->cfg, url, chk, sizeof(chk)) == 0)
		(void)snprintf(back, size, "%s", chk);
}

/*
 * Send a browser asking for a page (GET or HEAD, Accept: text/html, no
 * Authorization header: a request that carries credentials is a
 * program's) to gateway page <page>, with the way back in "rd"; everyone
 * else gets 401 with JSON error <code> (pages.h) and the challenge <www>.  <extra_in>
 * (headers) goes with either answer; <reason> is logged.
 */
void
auth_send_to(struct exchange *ex, const char *page, const char *code,
    const char *www, const char *extra_in, const char *reason)
{
	struct request	*req = ex->req;
	struct pages_resp r = { .status = 401 };
	char		 back[REDIRECT_MAX + 1], enc[3 * REDIRECT_MAX + 1];
	char		 loc[3 * REDIRECT_MAX + 64], extra[768];

	(void)snprintf(extra, sizeof(extra), "%s", extra_in);
	if ((req->method == HTTP_GET || req->method == HTTP_HEAD) &&
	    pages_wants_html(request_header(req, "accept")) &&
	    request_header(req, "authorization") == NULL) {
		auth_way_back(ex, back, sizeof(back));
		(void)encode_pct(back, "/", enc, sizeof(enc));
		(void)snprintf(loc, sizeof(loc), "%s?rd=%s", page, enc);
		r.status = 302;
		r.location = loc;
	} else {
		(void)snprintf(extra + strlen(extra), sizeof(extra) -
		    strlen(extra), "WWW-Authenticate: %s\r\n", www);
		r.error = code;
	}
	r.extra = extra;
	auth_answer(ex, &r, reason);
}

/*
 * Nobody is signed in: browsers asking for a page go to the sign-in page
 * with the way back; everyone else gets 401.  <stale> clears a cookie that
 * named no valid session.
 */
void
auth_unauthenticated(struct exchange *ex, int stale)
{
	char	extra[512] = "";

	if (stale)
		auth_session_cookie(ex->cfg, NULL, extra, sizeof(extra));
	auth_send_to(ex, "/.postern/login", "unauthenticated",
	    "Bearer realm=\"postern\"", extra, "unauthenticated");
}

/*
 * Answer a decision other than ALLOW.  The reason code of decide.c goes
 * to the log; the client only sees the status (and where to go next).
 * STEP_UP and MFA say the session is good but not enough (RFC 9470's
 * insufficient_user_authentication for non-browsers).
 */
/* The user as the upstream would name it (X-Postern-User): grants with
 * their kind's prefix. */
void
auth_note_deny(struct exchange *ex, const struct decision *d,
    const struct decide_identity *id)
{
	const char	*kind = id->kind == DECIDE_APIKEY ? "pk_" :
			    id->kind == DECIDE_SHARE ? "ps_" : "";

	if (d->verdict != DECIDE_DENY)
		return;
	if (id->user != NULL)
		(void)snprintf(ex->deny_user, sizeof(ex->deny_user), "%s%s",
		    kind, id->user);
	if (d->line > 0) {
		ex->deny_file = d->file;
		ex->deny_line = d->line;
	}
}

/*
 * A policy 403: a browser signed in with a session is told which account
 * it is (to sign out and use another); an API key that lacks a route's
 * scope gets RFC 6750's insufficient_scope with the scopes it needs.
 */
static void
auth_forbidden(struct exchange *ex, const struct decision *d,
    const struct decide_identity *id)
{
	struct pages_resp r = { .status = 403 };
	char		 www[512];
	size_t		 i, n;

	if (id != NULL && id->kind == DECIDE_SESSION)
		r.account = id->email;
	if (id != NULL && id->kind == DECIDE_APIKEY && d->route != NULL &&
	    d->reason != NULL && strcmp(d->reason, "scope") == 0) {
		n = (size_t)snprintf(www, sizeof(www), "WWW-Authenticate: "
		    "Bearer realm=\"postern\", error=\"insufficient_scope\", "
		    "scope=\"");
		for (i = 0; i < d->route->nscopes && n < sizeof(www); i++)
			n += (size_t)snprintf(www + n, sizeof(www) - n, "%s%s",
			    i > 0 ? " " : "", d->route->scopes[i]);
		if (n + 4 < sizeof(www)) {
			(void)snprintf(www + n, sizeof(www) - n, "\"\r\n");
			r.extra = www;
		}
		r.error = "insufficient_scope";
	}
	auth_answer(ex, &r, d->reason != NULL ? d->reason : "policy");
}

void
auth_refuse(struct exchange *ex, const struct decision *d,
    const struct decide_identity *id)
{
	static const char www[] = "Bearer realm=\"postern\", "
	    "error=\"insufficient_user_authentication\"";

	switch (d->verdict) {
	case DECIDE_LOGIN:
		auth_unauthenticated(ex, 0);
		break;
	case DECIDE_NOT_FOUND:
		auth_answer(ex, &(struct pages_resp){ .status = 404 },
		    d->reason);
		break;
	case DECIDE_STEP_UP:
		auth_send_to(ex, "/.postern/reauth",
		    "reauthentication_required", www, "", d->reason);
		break;
	case DECIDE_MFA:
		auth_send_to(ex, "/.postern/2fa", "mfa_required", www, "",
		    d->reason);
		break;
	case DECIDE_ALLOW:	/* callers forward instead */
	case DECIDE_DENY:
	default:		/* fail closed */
		auth_forbidden(ex, d, id);
		break;
	}
}

enum decide_verdict
auth_decide_as(struct exchange *ex, const struct decide_identity *id,
    struct decision *d)
{
	struct decide_request	dr;
	char			tenant[DOMAINREG_APPLEN];

	dr.method = ex->req->method_name;
	dr.path = ex->req->path;
	dr.host = ex->req->host;
	dr.tenant = dr.host != NULL && config_domain_tenant(ex->cfg, dr.host,
	    tenant, sizeof(tenant)) == 0 ? tenant : NULL;
	(void)decide(ex->app, &dr, id, time(NULL), d);
	ex->route = d->route != NULL ? d->route->pattern : NULL;
	return d->verdict;
}
