/*
 * API keys and share links on the request path (see authgrant.h).
 *
 * Each check is a struct authgrant_check (a step record, step.h, and
 * the grant's own state) whose <what> says what the grant is for;
 * grant_check() calls back once with the grant, and authgrant_on_grant()
 * carries on by <what>:
 *
 *   LINK     ?postern_share=<token>: decide with the share; if allowed,
 *            303 to the same URL without the token, setting the cookie
 *   COOKIE   the share cookie on a route accepting `share`: decide, forward
 *   APIKEY   Authorization: Bearer pk_... on a route accepting `apikey`
 *   CREATE   POST /.postern/shares: the caller's key must hold the scope
 *            shares:create; the new share (chk->grant) takes the key's
 *            org, must be allowed by the policy, then is stored (CREATED)
 *   KEYFN    another endpoint's API key (authgrant_with_key()): its
 *            function goes on with the valid key
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <event2/buffer.h>
#include <openssl/crypto.h>

#include "assertion.h"
#include "auth-int.h"
#include "authgrant.h"
#include "client.h"
#include "config.h"
#include "cookie.h"
#include "form.h"
#include "log.h"
#include "pages.h"
#include "parse.h"
#include "request.h"
#include "route.h"
#include "worker.h"
#include "store.h"

enum authgrant_step {
	AUTHGRANT_STEP_LINK = 0,
	AUTHGRANT_STEP_COOKIE,
	AUTHGRANT_STEP_APIKEY,
	AUTHGRANT_STEP_CREATE,
	AUTHGRANT_STEP_KEYFN,	/* authgrant_with_key() */
};

#define AUTHGRANT_SHARE_TTL	(7 * 86400)	/* default link lifetime */
#define AUTHGRANT_SHARE_MAXTTL	(365 * 86400)

static const char authgrant_www_invalid[] = "WWW-Authenticate: Bearer "
    "realm=\"postern\", error=\"invalid_token\"\r\n";

/* ---- answers ---- */

static void
authgrant_answer(struct exchange *ex, int status, const char *body,
    const char *extra, const char *reason)
{
	client_answer(ex, &(struct pages_resp){ .status = status,
	    .json = status < 400 ? body : NULL,
	    .error = status >= 400 ? body : NULL, .extra = extra }, reason);
}

/* A share cookie's removal (the grant it named is no longer valid). */
static void
authgrant_clear_cookie(const struct request *req, char *buf, size_t size)
{
	(void)req;
	(void)snprintf(buf, size, "Set-Cookie: " AUTHGRANT_COOKIE "=; "
	    "Path=/; Max-Age=0; Secure; HttpOnly; SameSite=Lax\r\n");
}

static void
authgrant_limited(struct exchange *ex, unsigned int retry_ms)
{
	char	extra[64];

	(void)snprintf(extra, sizeof(extra), "Retry-After: %u\r\n",
	    (retry_ms + 999) / 1000);
	authgrant_answer(ex, 429, "rate_limited", extra,
	    "grant_rate_limit");
}

/* The grant named by the request is not valid (any reason: one answer). */
static void
authgrant_invalid(struct exchange *ex, int step)
{
	char	extra[256];

	switch (step) {
	case AUTHGRANT_STEP_APIKEY:
	case AUTHGRANT_STEP_CREATE:
	case AUTHGRANT_STEP_KEYFN:
		authgrant_answer(ex, 401, "invalid_token",
		    authgrant_www_invalid, "apikey_invalid");
		break;
	case AUTHGRANT_STEP_COOKIE:
		authgrant_clear_cookie(ex->req, extra, sizeof(extra));
		authgrant_answer(ex, 403, NULL, extra, "share_invalid");
		break;
	default:
		authgrant_answer(ex, 403, NULL, NULL, "share_invalid");
		break;
	}
}

/* ---- starting a check ---- */

static int64_t
authgrant_now(void)
{
	return (int64_t)time(NULL);
}

static void	authgrant_on_grant(void *, enum grant_status,
		    const struct grant *, unsigned int);

/* A grant being checked or created; owned by its pending callback. */
struct authgrant_check {
	struct auth_step step;
	struct auth_rate rate;
	int		 what;		/* AUTHGRANT_STEP_* */
	char		 token[TOKEN_LEN + 1];
	char		 rd[REDIRECT_MAX + 1];	/* KEYFN: its argument */
	struct grant	*grant;		/* owned, may be NULL */
	authgrant_key_fn fn;		/* KEYFN */
};

static void	authgrant_check(struct auth_step *);

static void
authgrant_check_free(struct auth_step *step)
{
	struct authgrant_check *chk = AUTH_STEP_STATE(step,
			    struct authgrant_check, step);

	if (chk->grant != NULL) {
		OPENSSL_cleanse(chk->grant, sizeof(*chk->grant));
		free(chk->grant);
	}
	OPENSSL_cleanse(chk, sizeof(*chk));
	free(chk);
}

/* A new check on <ex>'s step, or NULL. */
static struct authgrant_check *
authgrant_check_new(struct exchange *ex)
{
	struct authgrant_check *chk;

	if ((chk = calloc(1, sizeof(*chk))) == NULL)
		return NULL;
	auth_step_start(&chk->step, ex, ex->w->store, authgrant_check_free);
	return chk;
}

/*
 * Check <token> (<len> bytes) as a grant of <kind> for <step>; <keep>
 * (may be NULL) moves to the check, <rd> (may be NULL) is where a share
 * link goes on.  The request is answered or resumed later.
 */
static void
authgrant_start(struct exchange *ex, enum grant_kind kind, int step,
    const char *token, size_t len, struct grant *keep, const char *rd,
    authgrant_key_fn fn)
{
	struct authgrant_check	*chk;
	struct store		*st = ex->w->store;
	char			 id[TOKEN_IDLEN + 1], hash[TOKEN_HASHLEN + 1];

	if (token_parse(grant_token_kind(kind), token, len, id, hash) == -1) {
		free(keep);
		authgrant_invalid(ex, step);
		return;
	}
	OPENSSL_cleanse(hash, sizeof(hash));
	if (st == NULL || !store_healthy(st) ||
	    (chk = authgrant_check_new(ex)) == NULL) {
		free(keep);
		auth_unavailable(ex);
		return;
	}
	chk->what = step;
	chk->grant = keep;
	chk->fn = fn;
	memcpy(chk->token, token, len);		/* len == TOKEN_LEN */
	if (rd != NULL)
		(void)snprintf(chk->rd, sizeof(chk->rd), "%s", rd);
	auth_rate(&chk->rate, &chk->step, kind == GRANT_APIKEY ? "apikey" :
	    "share", NULL, authgrant_check);
}

/* Within the address's limits: check the grant named by chk->token. */
static void
authgrant_check(struct auth_step *step)
{
	struct authgrant_check *chk = AUTH_STEP_STATE(step,
			    struct authgrant_check, step);
	enum grant_kind	kind = chk->what == AUTHGRANT_STEP_APIKEY ||
			    chk->what == AUTHGRANT_STEP_CREATE ||
			    chk->what == AUTHGRANT_STEP_KEYFN ? GRANT_APIKEY :
			    GRANT_SHARE;
	char		id[TOKEN_IDLEN + 1], hash[TOKEN_HASHLEN + 1];

	if (token_parse(grant_token_kind(kind), chk->token,
	    strlen(chk->token), id, hash) == -1 || grant_check(step->st,
	    step->ex->w->scache, kind, id, hash, authgrant_now(),
	    authgrant_on_grant, chk) == -1)
		auth_step_unavailable(step);
	OPENSSL_cleanse(hash, sizeof(hash));
}

/* The token of "Authorization: Bearer <token>" (token_bearer()), or NULL. */
const char *
authgrant_bearer(const struct request *req, size_t *len)
{
	const char	*v = request_header(req, "authorization");

	return v != NULL ? token_bearer(v, len) : NULL;
}

int
authgrant_header_ours(const char *name, const char *value)
{
	if ((name[0] | 0x20) != 'a' || strcasecmp(name, "authorization") != 0)
		return 0;
	return token_authorization_ours(value);
}

/* ---- the request path ---- */

int
authgrant_share_link(struct exchange *ex)
{
	struct request	*req = ex->req;
	char		 tok[TOKEN_LEN + 2], *rest = NULL;
	char		 rd[REDIRECT_MAX + 1];
	int		 rc;

	if (req->query == NULL || strstr(req->query, AUTHGRANT_PARAM) == NULL)
		return 0;
	rc = token_query_take(req->query, AUTHGRANT_PARAM, tok, sizeof(tok),
	    &rest);
	if (rc == 0)
		return 0;
	if (rc == -1) {
		authgrant_answer(ex, 400, NULL, NULL, "share_param");
		return 1;
	}
	if (req->method != HTTP_GET && req->method != HTTP_HEAD) {
		authgrant_answer(ex, 405, NULL, "Allow: GET, HEAD\r\n",
		    "share_link_method");
		free(rest);
		return 1;
	}
	if (snprintf(rd, sizeof(rd), "%s%s%s", req->path, rest != NULL ?
	    "?" : "", rest != NULL ? rest : "") >= (int)sizeof(rd))
		(void)snprintf(rd, sizeof(rd), "%s", req->path);
	authgrant_start(ex, GRANT_SHARE, AUTHGRANT_STEP_LINK, tok,
	    strlen(tok), NULL, rd, NULL);
	OPENSSL_cleanse(tok, sizeof(tok));
	free(rest);
	return 1;
}

int
authgrant_identify(struct exchange *ex, const struct decision *d)
{
	struct request	*req = ex->req;
	const char	*tok, *cookies = request_cookies(req);
	char		 val[TOKEN_LEN + 2];
	size_t		 len;

	if ((d->auth & ROUTE_AUTH_APIKEY) &&
	    (tok = authgrant_bearer(req, &len)) != NULL &&
	    strncmp(tok, "pk_", 3) == 0) {
		authgrant_start(ex, GRANT_APIKEY, AUTHGRANT_STEP_APIKEY, tok,
		    len, NULL, NULL, NULL);
		return 1;
	}
	if ((d->auth & ROUTE_AUTH_SHARE) && cookies != NULL &&
	    !((d->auth & ROUTE_AUTH_SESSION) &&
	    (strstr(cookies, "__Host-postern=") != NULL ||
	    strstr(cookies, "__Secure-postern=") != NULL))) {
		switch (cookie_get(cookies, AUTHGRANT_COOKIE, val,
		    sizeof(val))) {
		case COOKIE_FOUND:
			authgrant_start(ex, GRANT_SHARE,
			    AUTHGRANT_STEP_COOKIE, val, strlen(val), NULL,
			    NULL, NULL);
			OPENSSL_cleanse(val, sizeof(val));
			return 1;
		case COOKIE_ABSENT:
			break;
		default:	/* twice, or malformed: trust none */
			authgrant_invalid(ex, AUTHGRANT_STEP_COOKIE);
			return 1;
		}
	}
	if ((d->auth & ROUTE_AUTH_SESSION) == 0) {
		/* No sign-in page can help: say what is accepted. */
		authgrant_answer(ex, 401, "unauthenticated",
		    "WWW-Authenticate: Bearer realm=\"postern\"\r\n",
		    "unauthenticated");
		return 1;
	}
	return 0;
}

/* The share link was good for this request: cookie, and off the URL. */
static void
authgrant_link_ok(struct exchange *ex, const struct grant *g,
    const char *token, const char *rd)
{
	struct pages_resp r = { .status = 303, .location = rd };
	char		 extra[GRANT_PATHMAX + 256];
	int64_t		 age = g->expires - authgrant_now();

	if (g->expires == 0 || age > AUTHGRANT_SHARE_MAXTTL)
		age = AUTHGRANT_SHARE_MAXTTL;
	(void)snprintf(extra, sizeof(extra), "Set-Cookie: " AUTHGRANT_COOKIE
	    "=%s; Path=%s; Max-Age=%" PRId64 "; Secure; HttpOnly; "
	    "SameSite=Lax\r\n", token, g->path, age > 0 ? age : 1);
	r.extra = extra;
	{
		char	actor[TOKEN_IDLEN + 4];

		(void)snprintf(actor, sizeof(actor), "ps_%s", g->id);
		auth_audit(ex, "share_used", actor, g->path, 1, g->app);
	}
	client_answer(ex, &r, NULL);
	OPENSSL_cleanse(extra, sizeof(extra));
}

static void	authgrant_create(struct exchange *, const struct grant *key,
		    struct grant *share);

static void
authgrant_on_grant(void *arg, enum grant_status status,
    const struct grant *g, unsigned int retry_ms)
{
	struct authgrant_check	*chk = arg;
	struct grant		*share = chk->grant;
	struct exchange		*ex;
	struct auth_ident	*ident;
	struct decide_identity	 id;
	struct decision		 d;
	const char		*scopes[GRANT_MAXSCOPES];
	char			 token[TOKEN_LEN + 1], rd[REDIRECT_MAX + 1];
	int			 step = chk->what;
	authgrant_key_fn	 fn = chk->fn;

	chk->grant = NULL;	/* ours now */
	memcpy(token, chk->token, sizeof(token));
	memcpy(rd, chk->rd, sizeof(rd));
	if ((ex = auth_step_done(&chk->step)) == NULL)
		goto done;
	if (status == GRANT_ERROR)
		auth_unavailable(ex);
	else if (status == GRANT_LIMITED)
		authgrant_limited(ex, retry_ms);
	else if (status == GRANT_NONE)
		authgrant_invalid(ex, step);
	else if (step == AUTHGRANT_STEP_LINK) {
		auth_identity_grant(&id, g, scopes);
		if (auth_decide_as(ex, &id, &d) != DECIDE_ALLOW) {
			auth_note_deny(ex, &d, &id);
			auth_refuse(ex, &d, &id);
		}
		else if (strcmp(d.reason, "share") != 0)	/* public */
			authgrant_answer(ex, 403, NULL, NULL,
			    "share_resource");
		else
			authgrant_link_ok(ex, g, token, rd);
	} else if (step == AUTHGRANT_STEP_CREATE) {
		authgrant_create(ex, g, share);
		share = NULL;
	} else if (step == AUTHGRANT_STEP_KEYFN)
		fn(ex, g, rd);
	else if ((ident = auth_ident_new(ex)) == NULL)
		auth_unavailable(ex);
	else {
		if (g->kind == GRANT_APIKEY && g->last_used == 0) {
			char	actor[TOKEN_IDLEN + 4];

			(void)snprintf(actor, sizeof(actor), "pk_%s", g->id);
			auth_audit(ex, "apikey_first_use", actor, g->org, 1,
			    NULL);
		}
		ident->kind = g->kind == GRANT_APIKEY ? DECIDE_APIKEY :
		    DECIDE_SHARE;
		memcpy(&ident->g, g, sizeof(*g));
		auth_decide_ident(ex, ident);
	}
done:
	OPENSSL_cleanse(token, sizeof(token));
	free(share);
}

/* ---- POST /.postern/shares ---- */

static void
authgrant_on_created(void *arg, int result)
{
	struct authgrant_check	*chk = arg;
	struct grant		*g = chk->grant;
	struct exchange		*ex;
	const char		*host;
	char			 json[GRANT_PATHMAX * 2 + 512];
	char			 methods[64], token[TOKEN_LEN + 1];

	chk->grant = NULL;
	memcpy(token, chk->token, sizeof(token));
	if ((ex = auth_step_done(&chk->step)) == NULL)
		goto done;
	if (result == GRANT_ENOORG) {
		authgrant_answer(ex, 403, "no_such_org",
		    NULL, "share_org_gone");
		goto done;
	}
	if (result != 0) {
		auth_unavailable(ex);
		goto done;
	}
	host = request_header(ex->req, "host");
	if (host == NULL || strspn(host, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:[]") != strlen(host))
		host = ex->req->host;	/* checked by the parser */
	grant_methods_string(g->methods, methods, sizeof(methods));
	(void)snprintf(json, sizeof(json), "{\"id\":\"%s\",\"url\":"
	    "\"https://%s%s?" AUTHGRANT_PARAM "=%s\",\"path\":\"%s\","
	    "\"prefix\":%s,\"methods\":\"%s\",\"expires\":%" PRId64 "}",
	    g->id, host != NULL ? host : "", g->path, token, g->path,
	    g->prefix ? "true" : "false", methods, g->expires);
	{
		char	target[TOKEN_IDLEN + 4];

		(void)snprintf(target, sizeof(target), "ps_%s", g->id);
		auth_audit(ex, "share_created", "", target, 1, g->path);
	}
	authgrant_answer(ex, 201, json, NULL, NULL);
	OPENSSL_cleanse(json, sizeof(json));
done:
	OPENSSL_cleanse(token, sizeof(token));
	free(g);
}

/* The caller's key <key> is valid: make <share> (owned) for it. */
static void
authgrant_create(struct exchange *ex, const struct grant *key,
    struct grant *share)
{
	struct decide_identity	 id;
	struct decision		 d;
	struct authgrant_check	*chk;
	const char		*scopes[GRANT_MAXSCOPES];
	char			 hash[TOKEN_HASHLEN + 1];
	size_t			 i;

	for (i = 0; i < key->nscopes; i++)
		if (strcmp(key->scopes[i], AUTHGRANT_SCOPE_CREATE) == 0)
			break;
	if (i == key->nscopes) {
		authgrant_answer(ex, 403, "insufficient_scope",
		    "WWW-Authenticate: Bearer realm=\"postern\", error="
		    "\"insufficient_scope\", scope=\"" AUTHGRANT_SCOPE_CREATE
		    "\"\r\n", "scope");
		free(share);
		return;
	}
	(void)snprintf(share->org, sizeof(share->org), "%s", key->org);
	auth_identity_grant(&id, share, scopes);
	if (decide_shareable(ex->app, ex->req->host, &id, time(NULL),
	    &d) != DECIDE_ALLOW) {
		log_event(LOG_LEVEL_WARN, "reject", "reason", "not_shareable",
		    "policy", d.reason, "request_id", ex->request_id,
		    "client_ip", ex->peer, NULL);
		authgrant_answer(ex, 403, "not_shareable",
		    NULL, NULL);
		free(share);
		return;
	}
	if ((chk = authgrant_check_new(ex)) == NULL ||
	    token_new("ps", share->id, chk->token, hash) == -1) {
		if (chk != NULL)
			(void)auth_step_done(&chk->step);
		free(share);
		auth_unavailable(ex);
		return;
	}
	chk->grant = share;
	if (grant_create(ex->w->store, share, hash, authgrant_on_created,
	    chk) == -1) {
		(void)auth_step_done(&chk->step);	/* frees share */
		auth_unavailable(ex);
	}
	OPENSSL_cleanse(hash, sizeof(hash));
}

/* The new share a form asks for, or NULL with the reason in *<why>. */
static struct grant *
authgrant_share_form(struct exchange *ex, const struct form *f,
    const char **why)
{
	static const char *const known[] = { "path", "methods", "expires",
	    "prefix", "name" };
	struct grant	*g;
	const char	*path = form_get(f, "path"), *v;
	uint64_t	 ms = (uint64_t)AUTHGRANT_SHARE_TTL * 1000;
	char		 err[PARSE_ERRLEN];
	size_t		 i, j;

	for (i = 0; i < f->nfields; i++) {
		for (j = 0; j < sizeof(known) / sizeof(known[0]); j++)
			if (strcmp(f->fields[i].name, known[j]) == 0)
				break;
		if (j == sizeof(known) / sizeof(known[0])) {
			*why = "unknown_field";
			return NULL;
		}
	}
	if (path == NULL || grant_path_valid(path) == -1) {
		*why = "bad_path";
		return NULL;
	}
	if ((v = form_get(f, "expires")) != NULL && (parse_duration(v, &ms,
	    err, sizeof(err)) == -1 || ms < 1000 ||
	    ms > (uint64_t)AUTHGRANT_SHARE_MAXTTL * 1000)) {
		*why = "bad_expires";
		return NULL;
	}
	if ((g = calloc(1, sizeof(*g))) == NULL) {
		*why = "nomem";
		return NULL;
	}
	g->kind = GRANT_SHARE;
	g->rate = GRANT_SHARE_RATE;
	g->created = authgrant_now();
	g->expires = g->created + (int64_t)(ms / 1000);
	(void)snprintf(g->app, sizeof(g->app), "%s", ex->app->name);
	(void)snprintf(g->path, sizeof(g->path), "%s", path);
	v = form_get(f, "methods");
	g->methods = grant_methods_parse(v != NULL ? v : "GET,HEAD");
	v = form_get(f, "prefix");
	g->prefix = v != NULL && (strcmp(v, "true") == 0 ||
	    strcmp(v, "1") == 0);
	if ((v != NULL && !g->prefix && strcmp(v, "false") != 0 &&
	    strcmp(v, "0") != 0) || g->methods == 0) {
		*why = g->methods == 0 ? "bad_methods" : "bad_prefix";
		free(g);
		return NULL;
	}
	if ((v = form_get(f, "name")) != NULL) {
		if (strlen(v) >= sizeof(g->name) || strpbrk(v, "\"\\") != NULL) {
			*why = "bad_name";
			free(g);
			return NULL;
		}
		(void)strcpy(g->name, v);
	}
	return g;
}

static void
authgrant_on_share_form(struct exchange *ex, struct evbuffer *body)
{
	struct form	 f;
	struct grant	*share;
	const char	*why = NULL, *tok;
	size_t		 len = evbuffer_get_length(body);

	if (form_parse((const char *)evbuffer_pullup(body, -1), len, &f,
	    &why) == -1) {
		authgrant_answer(ex, 400, "bad_form", NULL,
		    why);
		return;
	}
	share = authgrant_share_form(ex, &f, &why);
	form_free(&f);
	if (share == NULL) {
		authgrant_answer(ex, 400, why, NULL, "share_form");
		return;
	}
	if ((tok = authgrant_bearer(ex->req, &len)) == NULL) {
		free(share);
		authgrant_answer(ex, 401, "unauthenticated",
		    "WWW-Authenticate: Bearer realm=\"postern\"\r\n",
		    "unauthenticated");
		return;
	}
	authgrant_start(ex, GRANT_APIKEY, AUTHGRANT_STEP_CREATE, tok, len,
	    share, NULL, NULL);
}

void
authgrant_with_key(struct exchange *ex, const char *tok, size_t len,
    authgrant_key_fn fn, const char *arg)
{
	authgrant_start(ex, GRANT_APIKEY, AUTHGRANT_STEP_KEYFN, tok, len, NULL,
	    arg, fn);
}

int
authgrant_builtin(struct exchange *ex)
{
	struct request	*req = ex->req;

	if (strcmp(req->path, "/.postern/shares") != 0)
		return 0;
	if (!ex->secure) {	/* client_decide() answers first; kept */
		authgrant_answer(ex, 403, "https_required",
		    NULL, "https_required");
		return 1;
	}
	ex->app = config_app_for_host(ex->cfg, req->host != NULL ?
	    req->host : "");
	if (ex->app == NULL || ex->app->routes == NULL) {
		authgrant_answer(ex, 404, NULL, NULL, NULL);
		return 1;
	}
	if (req->method != HTTP_POST) {
		authgrant_answer(ex, 405, NULL, "Allow: POST\r\n", "method");
		return 1;
	}
	client_read_form(ex, FORM_MAX_BODY, authgrant_on_share_form);
	return 1;
}

/* ---- identity upstream ---- */

int
authgrant_upstream_headers(struct exchange *ex)
{
	const struct grant	*g = &ex->ident->g;
	struct exchange_upstream *u = &ex->up;
	struct assertion_claims	 c = { 0 };
	char			 scope[GRANT_MAXSCOPES *
				    (GRANT_SCOPEMAX + 1) + 1];
	size_t			 i, off = 0;

	(void)snprintf(u->sub, sizeof(u->sub), "%s_%s",
	    grant_token_kind(g->kind), g->id);
	scope[0] = '\0';
	for (i = 0; i < g->nscopes; i++)
		off += (size_t)snprintf(scope + off, sizeof(scope) - off,
		    "%s%s", i > 0 ? " " : "", g->scopes[i]);
	c.sub = u->sub;
	c.org = g->org[0] != '\0' ? g->org : NULL;
	c.auth = grant_kind_name(g->kind);
	c.scope = g->nscopes > 0 ? scope : NULL;
	if (auth_assertion(ex, &c, NULL) == -1)
		return -1;
	u->user = u->sub;
	u->auth = c.auth;
	ex->auth_kind = c.auth;
	u->org = c.org;
	return 0;
}
