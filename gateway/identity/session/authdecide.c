/*
 * Deciding a request to an app (see auth.h): decide() anonymously, then
 * with the identity the request carries -- the session cookie looked up in
 * Redis, or authgrant.c's API key or share link -- the route's rate limit,
 * the WebSocket origin; the built-in endpoints under /.postern/; and the
 * identity headers computed before the request goes upstream.  The
 * pending steps, the answers and the tunnel watch are auth.c's.
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
#include "authdomain.h"
#include "authgrant.h"
#include "client.h"
#include "config.h"
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
#include "rcstr.h"
#include "newdevice.h"
#include "recover.h"
#include "ratelimit.h"
#include "redirect.h"
#include "request.h"
#include "secret.h"
#include "worker.h"
#include "session.h"
#include "sesscache.h"
#include "sso.h"
#include "store.h"
#include "user.h"
#include "metrics.h"
#include "timeutil.h"

static int64_t
auth_now(void)
{
	return (int64_t)time(NULL);
}

/* ---- protected requests ---- */


/* <id> for session <s> (borrowed: keep <s> alive while <id> is used). */
static void
auth_identity_session(struct decide_identity *id, const struct session *s)
{
	memset(id, 0, sizeof(*id));
	id->kind = DECIDE_SESSION;
	id->user = s->user;
	id->email = s->email;
	id->orgs = s->orgs;
	id->norgs = s->norgs;
	id->mfa = s->mfa;
	id->auth_time = s->auth_time;
}

void
auth_identity_grant(struct decide_identity *id, const struct grant *g,
    const char **scopes)
{
	size_t	i;

	memset(id, 0, sizeof(*id));
	id->kind = g->kind == GRANT_APIKEY ? DECIDE_APIKEY : DECIDE_SHARE;
	id->user = g->id;
	id->key_org = g->org[0] != '\0' ? g->org : NULL;
	for (i = 0; i < g->nscopes; i++)
		scopes[i] = g->scopes[i];
	id->scopes = scopes;
	id->nscopes = g->nscopes;
	if (g->kind == GRANT_SHARE) {
		id->share_app = g->app;
		id->share_path = g->path;
		id->share_prefix = g->prefix;
		id->share_methods = g->methods;
	}
}

/*
 * A session refused for its memberships while one was added or changed
 * since its snapshot: the new role comes only with a new cookie id, so
 * send the user to re-authenticate (which rotates) instead of 403.
 */
static void
auth_membership_pending(const struct auth_ident *ident, struct decision *d)
{
	if (ident->kind != DECIDE_SESSION || !ident->s.orgs_pending ||
	    d->verdict != DECIDE_DENY || d->reason == NULL)
		return;
	if (strcmp(d->reason, "not_member") == 0 ||
	    strcmp(d->reason, "role") == 0) {
		d->verdict = DECIDE_STEP_UP;
		d->reason = "membership_changed";
	}
}

void
auth_decide_ident(struct exchange *ex, struct auth_ident *ident)
{
	struct decide_identity	id;
	struct decision		d;
	const char		*scopes[GRANT_MAXSCOPES];
	char			 email[sizeof(ident->s.email)];

	auth_reset(ex);
	ex->ident = ident;
	if (ident->kind == DECIDE_SESSION)
		auth_identity_session(&id, &ident->s);
	else
		auth_identity_grant(&id, &ident->g, scopes);
	if (auth_decide_as(ex, &id, &d) != DECIDE_ALLOW) {
		auth_membership_pending(ident, &d);
		auth_note_deny(ex, &d, &id);
		if (id.email != NULL) {	/* the reset frees ident */
			(void)snprintf(email, sizeof(email), "%s", id.email);
			id.email = email;
		}
		auth_reset(ex);	/* nothing goes upstream */
		auth_refuse(ex, &d, &id);
		return;
	}
	if (d.tenant[0] != '\0' && d.role != NULL &&
	    strlen(d.role) < sizeof(ex->tenant_role)) {
		(void)strcpy(ex->tenant, d.tenant);
		(void)strcpy(ex->tenant_role, d.role);
	} else if (d.tenant[0] != '\0' && ident->kind != DECIDE_SESSION)
		(void)strcpy(ex->tenant, d.tenant);
	client_resume(ex, CLIENT_ALLOW, 0);
}

/* The session <s> of <ex> is valid: decide again with it. */
static void
auth_on_identified(struct exchange *ex, const struct session *s)
{
	struct auth_ident	*ident;

	if ((ident = auth_ident_new(ex)) == NULL) {
		auth_unavailable(ex);
		return;
	}
	if (account_session_gate(ex, s)) {
		free(ident);
		return;
	}
	ident->kind = DECIDE_SESSION;
	memcpy(&ident->s, s, sizeof(*s));
	auth_decide_ident(ex, ident);
}

/* A pending session lookup (auth_lookup()). */
struct auth_lookup {
	struct auth_step step;
	enum auth_kind	 kind;
	struct sesscache_ticket ticket;	/* may its answer be cached? */
	char		 scope[AUTH_SCOPE_MAX];
};

static void
auth_lookup_free(struct auth_step *step)
{
	free(AUTH_STEP_STATE(step, struct auth_lookup, step));
}

/* The session of <ex>'s cookie is known: answer a lookup of <kind>. */
static void
auth_session_known(struct exchange *ex, enum auth_kind kind,
    enum session_status status, const struct session *s)
{
	if (kind == AUTH_SIGNED_IN && status != SESSION_ERROR) {
		auth_signed_in_page(ex, status == SESSION_OK ? s : NULL);
		return;
	}
	switch (status) {
	case SESSION_OK:
		auth_on_identified(ex, s);
		break;
	case SESSION_NONE:
		auth_unauthenticated(ex, 1);
		break;
	case SESSION_ERROR:
		auth_unavailable(ex);
		break;
	}
}

static void
auth_on_session(void *arg, enum session_status status,
    const struct session *s)
{
	struct auth_lookup *lk = arg;
	struct store	*st = lk->step.st;
	struct sesscache_ticket t = lk->ticket;
	enum auth_kind	 kind = lk->kind;
	struct exchange	*ex;
	char		 scope[AUTH_SCOPE_MAX];
	int64_t		 touch;

	(void)memcpy(scope, lk->scope, sizeof(scope));
	if ((ex = auth_step_done(&lk->step)) == NULL)
		return;
	if (status == SESSION_OK) {
		touch = (int64_t)(ex->cfg->session_idle_timeout /
		    SESSION_TOUCH_DIV) - s->touched_ago_ms;
		(void)sesscache_put(ex->w->scache, &t, store_track_epoch(st), s,
		    scope, s->pttl_ms, touch);
	}
	auth_session_known(ex, kind, status, s);
}

int
auth_cookie(struct exchange *ex, char *id, size_t idlen)
{
	const char	*hdr = request_cookies(ex->req);

	return cookie_get(hdr, auth_cookie_name(ex->cfg), id, idlen) ==
	    COOKIE_FOUND && session_id_valid(id);
}

static void
auth_on_dropped(void *arg, enum session_status status, const char *user)
{
	(void)arg;
	if (status == SESSION_OK)
		log_event(LOG_LEVEL_INFO, "session", "outcome", "replaced",
		    "user", user, NULL);
}

void
auth_drop_current(struct exchange *ex, struct store *st)
{
	char	id[SESSION_ID_LEN + 2], scope[AUTH_SCOPE_MAX];

	if (auth_cookie(ex, id, sizeof(id))) {
		auth_scope(ex, scope, sizeof(scope));
		(void)session_destroy(st, id, scope, auth_on_dropped, NULL);
	}
	OPENSSL_cleanse(id, sizeof(id));
}

/*
 * Look the session of <ex>'s cookie id <id> up: in the worker's cache
 * (answered at once), else in Redis.  0, or -1 when Redis is unavailable.
 */
int
auth_lookup(struct exchange *ex, const char *id, enum auth_kind kind)
{
	struct session_limits	 lim;
	struct auth_lookup	*lk;
	const struct session	*s;
	struct store		*st = ex->w->store;
	char			 scope[AUTH_SCOPE_MAX];
	char			 hash[SESSION_HASH_LEN + 1];
	uint64_t		 epoch = st != NULL ? store_track_epoch(st) : 0;
	int64_t			 now = (int64_t)timeutil_mono_ms();

	sesscache_id_hash(ex->w->scache, id, hash);
	auth_scope(ex, scope, sizeof(scope));
	if ((s = sesscache_get(ex->w->scache, hash, scope, epoch, now)) !=
	    NULL) {
		auth_session_known(ex, kind, SESSION_OK, s);
		return 0;
	}
	if (st == NULL || !store_healthy(st) ||
	    (lk = calloc(1, sizeof(*lk))) == NULL)
		return -1;
	auth_step_start(&lk->step, ex, st, auth_lookup_free);
	lk->kind = kind;
	sesscache_ticket(ex->w->scache, epoch, now, &lk->ticket);
	(void)memcpy(lk->scope, scope, sizeof(scope));
	auth_limits(ex->cfg, &lim);
	if (session_lookup_hash(st, hash, scope, auth_now(), &lim,
	    auth_on_session, lk) == -1) {
		(void)auth_step_done(&lk->step);
		return -1;
	}
	return 0;
}

/*
 * The port of an authority's "[:port]" tail <p> (the scheme's default when
 * absent or empty), or -1 if <p> is anything else.
 */
static long
auth_port(const char *p, int secure)
{
	long	port = 0;

	if (*p == '\0' || strcmp(p, ":") == 0)
		return secure ? 443 : 80;
	if (*p++ != ':' || strspn(p, "0123456789") != strlen(p) ||
	    strlen(p) > 5 || (*p == '0' && p[1] != '\0'))
		return -1;
	for (; *p != '\0'; p++)
		port = port * 10 + (*p - '0');
	return port;
}

/* The port the browser addressed: the Host header's (validated by the
 * parser: a name, IPv4 or [IPv6] literal, then maybe ":port"). */
static long
auth_host_port(const struct exchange *ex)
{
	const char	*h = request_header(ex->req, "host");
	const char	*p;

	if (h == NULL)
		return -1;
	p = *h == '[' ? strchr(h, ']') : h;
	if (p == NULL)
		return -1;
	return auth_port(p + strcspn(p, ":"), ex->secure);
}

/*
 * A WebSocket handshake on a session route must come from a page of this
 * app: browsers send cookies with cross-site WebSocket handshakes, and the
 * Origin header is the only thing that tells such a hijack apart.  Its
 * scheme and port are the request's (another port of the same host is
 * another origin, but same-site: the session cookie goes along), its host
 * one of the app's.
 */
static int
auth_ws_origin_ok(struct exchange *ex)
{
	const char	*o = request_header(ex->req, "origin");
	const char	*scheme = ex->secure ? "https://" : "http://";
	char		 host[256];
	size_t		 n, i;
	long		 port;

	if (o == NULL || strncmp(o, scheme, strlen(scheme)) != 0)
		return 0;
	o += strlen(scheme);
	n = strcspn(o, ":/");
	if (n == 0 || n >= sizeof(host) ||
	    (port = auth_port(o + n, ex->secure)) == -1 ||
	    port != auth_host_port(ex))
		return 0;
	for (i = 0; i < n; i++)
		host[i] = (char)tolower((unsigned char)o[i]);
	host[n] = '\0';
	return config_app_for_host(ex->cfg, host) == ex->app;
}

/* A route's rate-limit count (auth_route_rate()). */
struct auth_route_rate {
	struct auth_step step;
	struct auth_rate rate;
};

static void
auth_route_rate_free(struct auth_step *step)
{
	free(AUTH_STEP_STATE(step, struct auth_route_rate, step));
}

/* The route's class admitted the request: decide it now. */
static void
auth_rate_resume(struct auth_step *step)
{
	struct exchange	*ex = auth_step_done(step);

	if (ex == NULL)
		return;
	ex->rate_checked = 1;
	if (auth_decide(ex) == AUTH_ALLOW)
		client_resume(ex, CLIENT_ALLOW, 0);
}

/*
 * Count the request in its route's rate-limit class (or "default"): 1 if
 * that started (auth_rate_resume() decides after it), 0 if no class
 * applies.  Without a store the class's fail_open decides.
 */
static int
auth_route_rate(struct exchange *ex, const char *name)
{
	struct auth_route_rate	*rr;

	if (name == NULL)
		name = "default";
	if (ratelimit_class(ex->cfg, name) == NULL)
		return 0;
	if (ex->w->store == NULL || (rr = calloc(1, sizeof(*rr))) == NULL) {
		if (ratelimit_class(ex->cfg, name)->fail_open)
			return 0;
		auth_unavailable(ex);
		return 1;
	}
	auth_step_start(&rr->step, ex, ex->w->store, auth_route_rate_free);
	auth_rate(&rr->rate, &rr->step, name, NULL, auth_rate_resume);
	return 1;
}

/*
 * First decide() anonymously: a public route (or an unprotected app)
 * forwards without identity, a refusal is answered now.  Only LOGIN goes
 * on to the session lookup; auth_on_identified() decides again.
 */
enum auth_verdict
auth_decide(struct exchange *ex)
{
	struct decide_identity	anon = { .kind = DECIDE_NONE };
	struct decision		d;
	char			id[SESSION_ID_LEN + 2];

	if (!ex->secure && ex->req->query != NULL &&
	    strstr(ex->req->query, AUTHGRANT_PARAM) != NULL) {
		auth_https_required(ex);	/* a share token in clear */
		return AUTH_PENDING;
	}
	if (authgrant_share_link(ex))
		return AUTH_PENDING;
	if (auth_decide_as(ex, &anon, &d) != DECIDE_NOT_FOUND &&
	    !ex->rate_checked && auth_route_rate(ex, d.rate_limit))
		return AUTH_PENDING;
	if (d.verdict == DECIDE_ALLOW) {
		ex->auth_kind = "public";
		return AUTH_ALLOW;
	}
	if (d.verdict != DECIDE_LOGIN) {
		auth_refuse(ex, &d, NULL);
		return AUTH_PENDING;
	}
	if (!ex->secure) {		/* no credential is read in clear */
		auth_https_required(ex);
		return AUTH_PENDING;
	}
	if (authgrant_identify(ex, &d))
		return AUTH_PENDING;
	if (proxy_is_websocket(ex->req) && !auth_ws_origin_ok(ex)) {
		auth_answer(ex, &(struct pages_resp){ .status = 403 },
		    "ws_origin");
		return AUTH_PENDING;
	}
	if (!auth_cookie(ex, id, sizeof(id)))
		auth_unauthenticated(ex, request_cookies(ex->req) !=
		    NULL && strstr(request_cookies(ex->req),
		    auth_cookie_name(ex->cfg)) != NULL);
	else if (auth_lookup(ex, id, AUTH_LOOKUP) == -1)
		auth_unavailable(ex);
	OPENSSL_cleanse(id, sizeof(id));
	return AUTH_PENDING;
}

static void
auth_jwks(struct exchange *ex)
{
	struct pages_resp r = { .status = 200 };

	if (ex->cfg->signer == NULL) {
		auth_answer(ex, &(struct pages_resp){ .status = 404 }, NULL);
		return;
	}
	r.json = assertion_jwks(ex->cfg->signer);
	auth_answer(ex, &r, NULL);
}

int
auth_builtin(struct exchange *ex)
{
	struct request	*req = ex->req;
	const char	*p = req->path;
	int		 get = req->method == HTTP_GET || req->method == HTTP_HEAD;

	if (strcmp(p, "/.postern/jwks.json") == 0 && get) {
		auth_jwks(ex);
		return 1;
	}
	if (authgrant_builtin(ex) || authdomain_builtin(ex) ||
	    recover_builtin(ex) || newdevice_builtin(ex) ||
	    account_builtin(ex) || sso_builtin(ex))
		return 1;
	if (strcmp(p, "/.postern/login") != 0 &&
	    strcmp(p, "/.postern/logout") != 0)
		return 0;
	if (ex->cfg->keys == NULL || !ex->cfg->keys->present) {
		auth_answer(ex, &(struct pages_resp){ .status = 404 }, NULL);
		return 1;
	}
	if (strcmp(p, "/.postern/login") == 0 && get)
		auth_login_get(ex);
	else if (get)
		auth_logout_get(ex);
	else if (req->method != HTTP_POST)
		auth_answer(ex, &(struct pages_resp){ .status = 405,
		    .extra = "Allow: GET, POST\r\n" }, "method");
	else
		client_read_form(ex, FORM_MAX_BODY, strcmp(p,
		    "/.postern/login") == 0 ? auth_on_login_form :
		    auth_on_logout_form);
	return 1;
}

/* ---- identity upstream ---- */

/*
 * The strings <s> (ended by NULL) and <n> in decimal, each followed by a
 * newline but the last, into <buf> of <size> bytes; without printf, since
 * every signed-in request builds one.  Its length, or -1 if it does not
 * fit.
 */
static int
auth_akey(char *buf, size_t size, const char *const *s, unsigned int n)
{
	char	 digits[16], *d = digits + sizeof(digits);
	size_t	 len, off = 0;

	for (; *s != NULL; s++) {
		if ((len = strlen(*s)) + 1 >= size - off)
			return -1;
		memcpy(buf + off, *s, len);
		off += len;
		buf[off++] = '\n';
	}
	do {
		*--d = (char)('0' + n % 10);
	} while ((n /= 10) != 0);
	len = (size_t)(digits + sizeof(digits) - d);
	if (len + 1 > size - off)
		return -1;
	memcpy(buf + off, d, len);
	off += len;
	buf[off] = '\0';
	return (int)off;
}

int
auth_assertion(struct exchange *ex, const struct assertion_claims *c,
    const char *hash)
{
	const struct config *cfg = ex->cfg;
	struct exchange_upstream *u = &ex->up;
	unsigned int	 ttl = (unsigned int)(cfg->assertion_ttl / 1000);
	int64_t		 now = auth_now();
	char		 akey[400], *tok;
	int		 n = -1;

	if (cfg->signer == NULL)
		return -1;
	if (hash != NULL && !cfg->assertion_per_request) {
		/* Everything the token says besides the session's own. */
		n = auth_akey(akey, sizeof(akey), (const char *const []){
		    ex->app->name, c->org != NULL ? c->org : "",
		    c->role != NULL ? c->role : "", assertion_kid(cfg->signer),
		    cfg->assertion_issuer, NULL }, ttl);
		if (n > 0 &&
		    (u->assertion_ref = sesscache_jwt_get(ex->w->scache, hash,
		    akey, now, (int64_t)(ttl * cfg->assertion_reuse_percent /
		    100))) != NULL) {
			u->assertion = u->assertion_ref->s;
			metrics_inc(&ex->w->metrics.assertion_reused);
			return 0;
		}
	}
	if ((tok = assertion_sign(cfg->signer, c, ex->app->name,
	    cfg->assertion_issuer, ttl, now)) == NULL)
		return -1;
	u->assertion_ref = rcstr_new(tok, strlen(tok));
	free(tok);
	if (u->assertion_ref == NULL)
		return -1;
	u->assertion = u->assertion_ref->s;
	metrics_inc(&ex->w->metrics.assertion_signed);
	if (n > 0)
		sesscache_jwt_put(ex->w->scache, hash, akey, u->assertion_ref,
		    now);
	return 0;
}

int
auth_upstream_headers(struct exchange *ex)
{
	struct exchange_upstream *u = &ex->up;
	const struct session *s;
	struct assertion_claims c = { 0 };

	rcstr_unref(u->assertion_ref);	/* a retry on a new connection */
	memset(u, 0, sizeof(*u));
	if (ex->ident == NULL)
		return 0;
	if (ex->ident->kind != DECIDE_SESSION)
		return authgrant_upstream_headers(ex);
	s = &ex->ident->s;
	if (ex->app->routes != NULL) {
		/* The route named the tenant (auth_on_identified()). */
		if (ex->tenant[0] != '\0') {
			c.org = ex->tenant;
			c.role = ex->tenant_role;
		}
	} else if (s->norgs == 1) {
		/* No routes, no tenant: a user of exactly one organisation
		 * is in it; with several, none is claimed. */
		c.org = s->orgs[0].slug;
		c.role = s->orgs[0].role;
	}
	if (strpbrk(s->email, "\r\n") != NULL || (c.org != NULL &&
	    (strpbrk(c.org, "\r\n") != NULL ||
	    strpbrk(c.role, "\r\n") != NULL)))
		return -1;		/* never a header injection from Redis */
	c.sub = s->user;
	c.email = s->email;
	c.auth = "session";
	assertion_session_amr(s->method, s->mfa, c.amr);
	if (auth_assertion(ex, &c, s->hash) == -1)
		return -1;
	u->user = s->user;
	u->email = s->email;
	u->auth = c.auth;
	ex->auth_kind = strncmp(s->method, "sso", 3) == 0 ? "sso" : "session";
	u->org = c.org;
	u->role = c.role;
	return 0;
}
