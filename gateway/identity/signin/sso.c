/*
 * Single sign-on, the relying party's half (sso.h): the start of a flow
 * (state, nonce and PKCE, then the redirect to the provider), the callback
 * (the state consumed once, the code redeemed at the token endpoint, the
 * id_token verified against the provider's keys and checked), and the
 * back-channel logout endpoint.  Accounts and sessions: ssolink.c.
 *
 * Each request is a chain of steps (step.h): rate limit "sso", Redis, the
 * provider's metadata (outbound/oidc.h, cached per worker) and its token
 * endpoint; a client that goes away meanwhile only frees the state.
 */
#include <string.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <event2/buffer.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include "auth-int.h"
#include "client.h"
#include "config.h"
#include "cookie.h"
#include "encode.h"
#include "exchange.h"
#include "form.h"
#include "jws.h"
#include "log.h"
#include "loginpage.h"
#include "oidc.h"
#include "pages.h"
#include "request.h"
#include "secret.h"
#include "sso.h"
#include "sso-int.h"
#include "store.h"
#include "worker.h"

#define SSO_KEY_STATE	STORE_LAYOUT("ssostate:<sha256hex>")
#define SSO_CODE_MAX	2048	/* an authorization code we accept */

/* ---- small helpers ---- */

void
sso_sha256_hex(const char *s, size_t len, char *hex)
{
	unsigned char	md[SHA256_DIGEST_LENGTH];

	SHA256((const unsigned char *)s, len, md);
	encode_hex(md, sizeof(md), hex);
}

/* base64url(HMAC-SHA256(token key, label || state)): the PKCE verifier
 * and the nonce of a flow, never stored. */
static int
sso_derive(const struct config *cfg, const char *label, const char *state,
    char *out, size_t size)
{
	unsigned char	 md[EVP_MAX_MD_SIZE], buf[96];
	unsigned int	 mdlen = 0;
	size_t		 l = strlen(label), s = strlen(state);

	if (l + 1 + s > sizeof(buf))
		return -1;
	memcpy(buf, label, l);
	buf[l] = '\0';
	memcpy(buf + l + 1, state, s);
	if (HMAC(EVP_sha256(), cfg->keys->token, SECRET_KEY_LEN, buf,
	    l + 1 + s, md, &mdlen) == NULL || mdlen != 32)
		return -1;
	return encode_b64url(md, 32, out, size) < 0 ? -1 : 0;
}

/* A fresh random value of 32 bytes, base64url, into <out>. */
static int
sso_random(char *out, size_t size)
{
	unsigned char	b[32];
	int		rc;

	if (RAND_bytes(b, sizeof(b)) != 1)
		return -1;
	rc = encode_b64url(b, sizeof(b), out, size);
	OPENSSL_cleanse(b, sizeof(b));
	return rc < 0 ? -1 : 0;
}

const struct config_sso_provider *
sso_method_provider(const struct config *cfg, const char *method)
{
	if (method == NULL || strncmp(method, "sso:", 4) != 0)
		return NULL;
	return config_sso_provider(cfg->sso, method + 4, strlen(method + 4));
}

const struct config_sso_provider *
sso_realm(const struct config *cfg, const char *email, int *required)
{
	const struct config_sso_org *o;
	const char	*at;
	size_t		 i;

	*required = 0;
	if (cfg->sso == NULL || email == NULL ||
	    (at = strrchr(email, '@')) == NULL)
		return NULL;
	for (i = 0; i < cfg->sso->norgs; i++) {
		o = &cfg->sso->orgs[i];
		if (!config_names_has(&o->domains, at + 1))
			continue;
		*required = o->required;
		return config_sso_provider(cfg->sso, o->provider,
		    strlen(o->provider));
	}
	return NULL;
}

int
sso_any_required(const struct config *cfg)
{
	size_t	i;

	for (i = 0; cfg->sso != NULL && i < cfg->sso->norgs; i++)
		if (cfg->sso->orgs[i].required)
			return 1;
	return 0;
}

const struct config_sso_provider *
sso_org_required(const struct config *cfg, const char *slug)
{
	const struct config_sso_org *o;
	size_t	i;

	for (i = 0; cfg->sso != NULL && i < cfg->sso->norgs; i++) {
		o = &cfg->sso->orgs[i];
		if (o->required && strcmp(o->org, slug) == 0)
			return config_sso_provider(cfg->sso, o->provider,
			    strlen(o->provider));
	}
	return NULL;
}

/* ---- the flow's state and pages ---- */

static void
sso_flow_release(struct auth_step *s)
{
	struct sso_flow	*f = SSO_FLOW(s);

	free(f->code);
	free(f->url);
	if (f->token != NULL) {
		OPENSSL_cleanse(f->token, strlen(f->token));
		free(f->token);
	}
	sso_claims_clear(&f->claims);
	OPENSSL_cleanse(f, sizeof(*f));
	free(f);
}

/* A new flow for <ex> through provider <p>, or NULL (answered 503). */
struct sso_flow *
sso_flow_new(struct exchange *ex, const struct config_sso_provider *p)
{
	struct sso_flow	*f;

	if (ex->w->store == NULL || ex->w->oidc == NULL ||
	    (f = calloc(1, sizeof(*f))) == NULL) {
		auth_unavailable(ex);
		return NULL;
	}
	f->p = p;
	(void)strcpy(f->rd, "/");
	auth_step_start(&f->step, ex, ex->w->store, sso_flow_release);
	return f;
}

/* What a failure page says and links to. */
struct sso_page {
	const char	*title;		/* message keys (catalog.h) */
	const char	*text;
	const char	*provider;	/* {{provider}} in them, or NULL */
	char		 back[3 * REDIRECT_MAX + 32];
};

static int
sso_render(struct evbuffer *out, const struct loginpage *lp, void *ctx)
{
	const struct sso_page *pg = ctx;
	const char	*title = pages_t(&lp->frame, pg->title);
	char		 text[512];
	const struct pages_var v[] = {
		{ "title", title, 0 },
		{ "message", text, 0 },
		{ "back", pg->back, 0 },
	};

	(void)pages_tf(&lp->frame, pg->text, &(struct pages_var){ "provider",
	    pg->provider, 0 }, 1, text, sizeof(text));
	return pages_begin(out, &lp->frame, title) |
	    pages_render(out, &lp->frame, PAGETMPL_SSO_ERROR, v, 3);
}

#define SSO_COOKIE_CLEAR	"Set-Cookie: " SSO_COOKIE "=; Path=/; " \
	"Max-Age=0; Secure; HttpOnly; SameSite=Lax\r\n"

/* sso_page() with <extra> header lines (or NULL). */
static void
sso_page_extra(struct exchange *ex, int status, const char *rd,
    const char *title, const char *text, const char *provider,
    const char *reason, const char *extra)
{
	struct sso_page	 pg = { .title = title, .text = text,
	    .provider = provider };
	struct loginpage lp = { 0 };
	char		 enc[3 * REDIRECT_MAX + 1];

	if (encode_pct(rd != NULL ? rd : "/", "/", enc, sizeof(enc)) < 0)
		(void)strcpy(enc, "%2F");
	(void)snprintf(pg.back, sizeof(pg.back), "/.postern/login?rd=%s", enc);
	auth_page_ctx(ex, status, &lp, sso_render, &pg, extra, reason);
}

void
sso_page(struct exchange *ex, int status, const char *rd, const char *title,
    const char *text, const char *reason)
{
	sso_page_extra(ex, status, rd, title, text, NULL, reason, NULL);
}

struct exchange *
sso_detach(struct sso_flow *f)
{
	struct exchange	*ex = f->step.ex;

	if (ex != NULL && ex->check == &f->step)
		ex->check = NULL;
	f->step.ex = NULL;
	return ex;
}

void
sso_fail(struct sso_flow *f, int status, const char *title,
    const char *text, const char *reason)
{
	sso_fail_as(f, status, title, text, f->p->display_name, reason);
}

void
sso_fail_as(struct sso_flow *f, int status, const char *title,
    const char *text, const char *provider, const char *reason)
{
	struct exchange	*ex = sso_detach(f);

	if (ex != NULL) {
		auth_audit(ex, "sso_login", f->user, f->claims.email[0] !=
		    '\0' ? f->claims.email : f->p->name, 0, reason);
		/* a taken state ends the flow: its binding cookie goes too */
		sso_page_extra(ex, status, f->rd, title, text, provider,
		    reason, f->taken ? SSO_COOKIE_CLEAR : NULL);
	}
	(void)auth_step_done(&f->step);
}

/* The provider could not be reached or answered nonsense. */
static void
sso_fail_provider(struct sso_flow *f, const char *reason)
{
	sso_fail(f, 502, "sso.unavailable.title", "sso.unavailable.text",
	    reason);
}

/* ---- start: /.postern/sso/<p>/start ---- */

/* Append "&name=pct(value)" to <url> (<size>); -1 if it does not fit. */
int
sso_param(char *url, size_t size, const char *name, const char *value)
{
	char	enc[3 * 1024 + 1];
	size_t	len = strlen(url);
	int	n;

	if (encode_pct(value, "", enc, sizeof(enc)) < 0)
		return -1;
	n = snprintf(url + len, size - len, "%s%s=%s",
	    strchr(url, '?') != NULL ? "&" : "?", name, enc);
	return n < 0 || (size_t)n >= size - len ? -1 : 0;
}

/* The authorization request for <f> at <endpoint> into f->url. */
static int
sso_auth_url(struct sso_flow *f, const char *endpoint)
{
	const struct config_sso_provider *p = f->p;
	char		 nonce[64], verifier[64], challenge[64];
	char		 scope[1024] = "", redirect[SSO_HOST_MAX + 80];
	unsigned char	 md[SHA256_DIGEST_LENGTH];
	size_t		 i;
	int		 rc = -1;

	for (i = 0; i < p->nscopes; i++)
		(void)snprintf(scope + strlen(scope), sizeof(scope) -
		    strlen(scope), "%s%s", i ? " " : "", p->scopes[i]);
	(void)snprintf(redirect, sizeof(redirect),
	    "https://%s" SSO_PATH "%s/callback", f->host, p->name);
	if (sso_derive(f->step.cfg, "postern sso nonce", f->state, nonce,
	    sizeof(nonce)) == -1 || sso_derive(f->step.cfg,
	    "postern sso pkce", f->state, verifier, sizeof(verifier)) == -1)
		goto out;
	SHA256((const unsigned char *)verifier, strlen(verifier), md);
	if (encode_b64url(md, sizeof(md), challenge, sizeof(challenge)) < 0 ||
	    (f->url = malloc(SSO_URL_MAX)) == NULL)
		goto out;
	(void)snprintf(f->url, SSO_URL_MAX, "%s", endpoint);
	if (sso_param(f->url, SSO_URL_MAX, "response_type", "code") == -1 ||
	    sso_param(f->url, SSO_URL_MAX, "client_id", p->client_id) == -1 ||
	    sso_param(f->url, SSO_URL_MAX, "redirect_uri", redirect) == -1 ||
	    sso_param(f->url, SSO_URL_MAX, "scope", scope) == -1 ||
	    sso_param(f->url, SSO_URL_MAX, "state", f->state) == -1 ||
	    sso_param(f->url, SSO_URL_MAX, "nonce", nonce) == -1 ||
	    sso_param(f->url, SSO_URL_MAX, "code_challenge", challenge) ==
	    -1 || sso_param(f->url, SSO_URL_MAX, "code_challenge_method",
	    "S256") == -1 || sso_param(f->url, SSO_URL_MAX, "response_mode",
	    "query") == -1 || (p->hosted_domain != NULL && sso_param(f->url,
	    SSO_URL_MAX, "hd", p->hosted_domain) == -1) ||
	    (f->hint[0] != '\0' && sso_param(f->url, SSO_URL_MAX,
	    "login_hint", f->hint) == -1))
		goto out;
	rc = 0;
out:
	OPENSSL_cleanse(nonce, sizeof(nonce));
	OPENSSL_cleanse(verifier, sizeof(verifier));
	return rc;
}

/* The state is stored: send the browser to the provider. */
static void
sso_on_state_put(void *arg, const redisReply *reply, const char *err)
{
	struct sso_flow	*f = arg;
	struct exchange	*ex = auth_step_reply(&f->step, reply, err);
	struct pages_resp r = { .status = 302 };
	char		 extra[300];

	if (ex == NULL)
		return;
	if (reply->type != REDIS_REPLY_STATUS) {	/* NX: a collision */
		auth_step_unavailable(&f->step);
		return;
	}
	(void)sso_detach(f);
	(void)snprintf(extra, sizeof(extra), "Set-Cookie: " SSO_COOKIE "=%s; "
	    "Path=/; Max-Age=%llu; Secure; HttpOnly; SameSite=Lax\r\n",
	    f->binding,
	    (unsigned long long)(ex->cfg->sso->flow_ttl / 1000));
	r.location = f->url;
	r.extra = extra;
	client_answer(ex, &r, NULL);
	OPENSSL_cleanse(extra, sizeof(extra));
	(void)auth_step_done(&f->step);
}

/* The provider's metadata came: make the state, store it, redirect. */
static void
sso_on_start_meta(void *arg, const struct oidc_meta *m, const char *err)
{
	struct sso_flow	*f = arg;
	char		 key[STORE_KEYLEN], h[65], bh[65], ttl[24];
	char		*val = NULL;
	const char	*argv[7];

	if (f->step.ex == NULL) {
		(void)auth_step_done(&f->step);
		return;
	}
	if (err != NULL || m == NULL) {
		sso_fail_provider(f, "sso_provider_down");
		return;
	}
	if (!m->pkce_s256) {
		sso_fail_provider(f, "sso_no_pkce");
		return;
	}
	if (sso_random(f->state, sizeof(f->state)) == -1 ||
	    sso_random(f->binding, sizeof(f->binding)) == -1 ||
	    sso_auth_url(f, m->authorization_endpoint) == -1) {
		auth_step_unavailable(&f->step);
		return;
	}
	sso_sha256_hex(f->state, strlen(f->state), h);
	sso_sha256_hex(f->binding, strlen(f->binding), bh);
	(void)snprintf(ttl, sizeof(ttl), "%llu",
	    (unsigned long long)f->step.cfg->sso->flow_ttl);
	if (store_layout_key(key, sizeof(key), store_prefix(f->step.st),
	    SSO_KEY_STATE, h) == -1 || asprintf(&val, "v1\n%s\n%s\n%s\n%s",
	    f->p->name, f->host, bh, f->rd) == -1) {
		auth_step_unavailable(&f->step);
		return;
	}
	argv[0] = "SET"; argv[1] = key; argv[2] = val; argv[3] = "PX";
	argv[4] = ttl; argv[5] = "NX";
	if (store_command_argv(f->step.st, sso_on_state_put, f, 6, argv,
	    NULL) == -1)
		auth_step_unavailable(&f->step);
	free(val);
}

static void
sso_start_meta(struct auth_step *s)
{
	struct sso_flow	*f = SSO_FLOW(s);

	if (oidc_meta_get(s->ex->w->oidc, f->p, NULL, sso_on_start_meta, f) ==
	    -1)
		sso_fail_provider(f, "sso_provider_down");
}

static void
sso_start_rd(struct auth_step *s)
{
	auth_rd_verify(s, SSO_FLOW(s)->rd, sso_start_meta);
}

/* The host[:port] a flow on <ex> runs on (its redirect URI's), or -1. */
int
sso_host(struct exchange *ex, char *out, size_t size)
{
	char	org[AUTH_ORG_SLUGMAX + 1];

	return auth_link_host(ex, out, size, org) == -1 ? -1 : 0;
}

static void
sso_start(struct exchange *ex, const struct config_sso_provider *p)
{
	struct sso_flow	*f;
	struct form	 q = { 0 };
	const char	*why, *hint = NULL;
	int		 parsed;

	parsed = ex->req->query != NULL && form_parse(ex->req->query,
	    strlen(ex->req->query), &q, &why) == 0;
	if ((f = sso_flow_new(ex, p)) == NULL)
		goto out;
	auth_rd(ex, parsed ? form_get(&q, "rd") : NULL, f->rd, sizeof(f->rd));
	if (parsed && (hint = form_get(&q, "login_hint")) != NULL &&
	    strlen(hint) < sizeof(f->hint) && strpbrk(hint, "\r\n") == NULL)
		(void)snprintf(f->hint, sizeof(f->hint), "%s", hint);
	if (sso_host(ex, f->host, sizeof(f->host)) == -1) {
		(void)auth_step_done(&f->step);
		sso_page(ex, 400, "/", "sso.host.title", "sso.host.text",
		    "sso_host");
		goto out;
	}
	auth_rate(&f->rate, &f->step, "sso", NULL, sso_start_rd);
out:
	if (parsed)
		form_free(&q);
}

/* ---- callback: /.postern/sso/<p>/callback ---- */

static void	sso_on_keys(void *, const struct oidc_meta *, const char *);

/* The id_token is signed by the provider: check its claims. */
static void
sso_check(struct sso_flow *f, json_t *claims)
{
	const struct config_sso_provider *p = f->p;
	struct sso_expect	 e = { 0 };
	enum sso_token_status	 st;
	char			 nonce[64];
	const char		*at;

	if (sso_derive(f->step.cfg, "postern sso nonce", f->state, nonce,
	    sizeof(nonce)) == -1) {
		json_decref(claims);
		auth_step_unavailable(&f->step);
		return;
	}
	e.issuer = p->issuer;
	e.client_id = p->client_id;
	e.nonce = nonce;
	e.now = (int64_t)time(NULL);
	e.skew = SSO_SKEW;
	e.max_iat_age = SSO_IAT_AGE;
	st = sso_check_id_token(claims, &e, &f->claims);
	json_decref(claims);
	OPENSSL_cleanse(nonce, sizeof(nonce));
	if (st != SSO_TOKEN_OK) {
		sso_fail(f, 401, "sso.failed.title", "sso.unverified.text",
		    sso_token_reason(st));
		return;
	}
	at = strrchr(f->claims.email, '@');
	if (p->hosted_domain != NULL && strcmp(f->claims.hd,
	    p->hosted_domain) != 0) {
		sso_fail(f, 403, "sso.not_allowed.title",
		    "sso.hosted_domain.text", "sso_hosted_domain");
		return;
	}
	if (p->email_domains.n > 0 && (at == NULL ||
	    !config_names_has(&p->email_domains, at + 1))) {
		sso_fail(f, 403, "sso.not_allowed.title",
		    "sso.email_domain.text", "sso_email_domain");
		return;
	}
	f->mfa = p->trust_mfa && (f->claims.amr & SSO_AMR_MFA) != 0;
	sso_link(f);
}

/* Verify f->token with the keys of <m>. */
static void
sso_verify(struct sso_flow *f, const struct oidc_meta *m)
{
	enum jws_status	 st;
	json_t		*claims = NULL;

	st = jws_verify(m->jwks, f->token, strlen(f->token), m->algs,
	    &claims, f->kid, sizeof(f->kid));
	if (st == JWS_UNKNOWN_KID && !f->kid_retry && f->kid[0] != '\0') {
		f->kid_retry = 1;	/* the provider rotated its keys */
		if (oidc_meta_get(f->step.ex->w->oidc, f->p, f->kid,
		    sso_on_keys, f) == -1)
			sso_fail_provider(f, "sso_provider_down");
		return;
	}
	if (st != JWS_OK) {
		sso_fail(f, 401, "sso.failed.title", "sso.unverified.text",
		    jws_reason(st));
		return;
	}
	sso_check(f, claims);
}

static void
sso_on_keys(void *arg, const struct oidc_meta *m, const char *err)
{
	struct sso_flow	*f = arg;

	if (f->step.ex == NULL) {
		(void)auth_step_done(&f->step);
		return;
	}
	if (err != NULL || m == NULL) {
		sso_fail_provider(f, "sso_provider_down");
		return;
	}
	sso_verify(f, m);
}

static void
sso_on_token(void *arg, const char *id_token, const char *err)
{
	struct sso_flow	*f = arg;

	if (f->step.ex == NULL) {
		(void)auth_step_done(&f->step);
		return;
	}
	if (err != NULL || id_token == NULL) {
		log_event(LOG_LEVEL_WARN, "sso", "reason", "sso_token_failed",
		    "provider", f->p->name, "detail", err != NULL ? err : "",
		    "request_id", f->step.ex->request_id, NULL);
		sso_fail(f, 502, "sso.failed.title", "sso.incomplete.text",
		    "sso_token_failed");
		return;
	}
	if ((f->token = strdup(id_token)) == NULL) {
		auth_step_unavailable(&f->step);
		return;
	}
	if (oidc_meta_get(f->step.ex->w->oidc, f->p, NULL, sso_on_keys, f) ==
	    -1)
		sso_fail_provider(f, "sso_provider_down");
}

static void
sso_on_meta_token(void *arg, const struct oidc_meta *m, const char *err)
{
	struct sso_flow	*f = arg;
	char		 verifier[64], redirect[SSO_HOST_MAX + 80];

	if (f->step.ex == NULL) {
		(void)auth_step_done(&f->step);
		return;
	}
	if (err != NULL || m == NULL) {
		sso_fail_provider(f, "sso_provider_down");
		return;
	}
	(void)snprintf(redirect, sizeof(redirect),
	    "https://%s" SSO_PATH "%s/callback", f->host, f->p->name);
	if (sso_derive(f->step.cfg, "postern sso pkce", f->state, verifier,
	    sizeof(verifier)) == -1 || oidc_token(f->step.ex->w->oidc, f->p,
	    m->token_endpoint, f->code, verifier, redirect, sso_on_token,
	    f) == -1)
		sso_fail_provider(f, "sso_provider_down");
	OPENSSL_cleanse(verifier, sizeof(verifier));
}

/*
 * Check the stored state "v1\nprovider\nhost\nsha256(binding)\nrd"
 * against this callback: its provider, host and browser.  Sets f->rd.
 */
static const char *
sso_state_match(struct sso_flow *f, const char *v, size_t len)
{
	struct exchange	*ex = f->step.ex;
	char		 buf[4 * REDIRECT_MAX], cookie[SSO_STATE_LEN + 2];
	char		 bh[65], *fld[5], *p;
	size_t		 i;

	if (len >= sizeof(buf))
		return "sso_state_bad";
	memcpy(buf, v, len);
	buf[len] = '\0';
	for (i = 0, p = buf; i < 5 && p != NULL; i++) {
		fld[i] = p;
		if ((p = strchr(p, '\n')) != NULL && i < 4)
			*p++ = '\0';
	}
	if (i < 5 || strcmp(fld[0], "v1") != 0)
		return "sso_state_bad";
	(void)snprintf(f->rd, sizeof(f->rd), "%s", fld[4]);
	if (strcmp(fld[1], f->p->name) != 0 || strcmp(fld[2], f->host) != 0)
		return "sso_state_other";
	if (cookie_get(request_cookies(ex->req), SSO_COOKIE, cookie,
	    sizeof(cookie)) != COOKIE_FOUND || strlen(cookie) != SSO_STATE_LEN)
		return "sso_state_browser";
	sso_sha256_hex(cookie, strlen(cookie), bh);
	OPENSSL_cleanse(cookie, sizeof(cookie));
	if (strlen(fld[3]) != 64 || CRYPTO_memcmp(bh, fld[3], 64) != 0)
		return "sso_state_browser";
	return NULL;
}

/* The state was taken (GETDEL): it is used up whatever happens next. */
static void
sso_on_state(void *arg, const redisReply *reply, const char *err)
{
	struct sso_flow	*f = arg;
	struct exchange	*ex = auth_step_reply(&f->step, reply, err);
	const char	*why;

	if (ex == NULL)
		return;
	if (reply->type != REDIS_REPLY_STRING) {
		sso_fail(f, 400, "sso.expired.title", "sso.state_unknown.text",
		    "sso_state_unknown");
		return;
	}
	f->taken = 1;
	if ((why = sso_state_match(f, reply->str, reply->len)) != NULL) {
		sso_fail(f, 400, "sso.expired.title",
		    "sso.state_mismatch.text", why);
		return;
	}
	if (f->code == NULL) {		/* the provider said no */
		sso_fail(f, 401, "sso.cancelled.title", "sso.cancelled.text",
		    "sso_provider_error");
		return;
	}
	if (oidc_meta_get(ex->w->oidc, f->p, NULL, sso_on_meta_token, f) ==
	    -1)
		sso_fail_provider(f, "sso_provider_down");
}

static void
sso_callback_state(struct auth_step *s)
{
	struct sso_flow	*f = SSO_FLOW(s);
	char		 key[STORE_KEYLEN], h[65];

	sso_sha256_hex(f->state, strlen(f->state), h);
	if (store_layout_key(key, sizeof(key), store_prefix(s->st),
	    SSO_KEY_STATE, h) == -1 || store_command(s->st, sso_on_state, f,
	    "GETDEL %s", key) == -1)
		auth_step_unavailable(s);
}

static void
sso_callback(struct exchange *ex, const struct config_sso_provider *p)
{
	struct sso_flow	*f;
	struct form	 q = { 0 };
	const char	*why, *state = NULL, *code = NULL;
	int		 parsed;

	parsed = ex->req->query != NULL && form_parse(ex->req->query,
	    strlen(ex->req->query), &q, &why) == 0;
	if (parsed) {
		state = form_get(&q, "state");
		code = form_get(&q, "code");
		if (form_get(&q, "error") != NULL)
			code = NULL;
	}
	if (state == NULL || strlen(state) != SSO_STATE_LEN ||
	    (code != NULL && (code[0] == '\0' ||
	    strlen(code) > SSO_CODE_MAX))) {
		sso_page(ex, 400, "/", "sso.bad_link.title",
		    "sso.bad_link.text", "sso_callback_bad");
		goto out;
	}
	if ((f = sso_flow_new(ex, p)) == NULL)
		goto out;
	(void)snprintf(f->state, sizeof(f->state), "%s", state);
	if ((code != NULL && (f->code = strdup(code)) == NULL) ||
	    sso_host(ex, f->host, sizeof(f->host)) == -1) {
		auth_step_unavailable(&f->step);
		goto out;
	}
	auth_rate(&f->rate, &f->step, "sso", NULL, sso_callback_state);
out:
	if (parsed)
		form_free(&q);
}

/* ---- dispatch ---- */

int
sso_builtin(struct exchange *ex)
{
	struct request	*req = ex->req;
	const struct config_sso_provider *p;
	const char	*name, *act;
	size_t		 len;
	int		 get = req->method == HTTP_GET || req->method == HTTP_HEAD;

	if (strncmp(req->path, SSO_PATH, strlen(SSO_PATH)) != 0)
		return 0;
	name = req->path + strlen(SSO_PATH);
	len = strcspn(name, "/");
	act = name[len] == '/' ? name + len + 1 : "";
	if (ex->cfg->keys == NULL || !ex->cfg->keys->present ||
	    (p = config_sso_provider(ex->cfg->sso, name, len)) == NULL) {
		client_answer(ex, &(struct pages_resp){ .status = 404 }, NULL);
		return 1;
	}
	if (!ex->secure) {
		auth_https_required(ex);
		return 1;
	}
	if (strcmp(act, "backchannel-logout") == 0) {
		if (req->method != HTTP_POST)
			client_answer(ex, &(struct pages_resp){ .status = 405,
			    .extra = "Allow: POST\r\n" }, "method");
		else if (!p->backchannel_logout)
			client_answer(ex, &(struct pages_resp){ .status = 404 },
			    NULL);
		else
			client_read_form(ex, FORM_MAX_BODY, sso_on_bcl_form);
		return 1;
	}
	if (strcmp(act, "start") != 0 && strcmp(act, "callback") != 0) {
		client_answer(ex, &(struct pages_resp){ .status = 404 }, NULL);
		return 1;
	}
	/* a HEAD (a link checker, a prefetch) must not use up a callback */
	if (!get || (req->method == HTTP_HEAD && strcmp(act, "callback") ==
	    0)) {
		client_answer(ex, &(struct pages_resp){ .status = 405,
		    .extra = "Allow: GET\r\n" }, "method");
		return 1;
	}
	if (strcmp(act, "start") == 0)
		sso_start(ex, p);
	else
		sso_callback(ex, p);
	return 1;
}

void
sso_send_to(struct exchange *ex, const struct config_sso_provider *p,
    const char *rd, const char *email)
{
	struct pages_resp r = { .status = 303 };
	char		 loc[7 * REDIRECT_MAX], enc[3 * REDIRECT_MAX + 1];
	char		 henc[3 * USER_EMAILMAX + 1] = "";

	if (encode_pct(rd != NULL ? rd : "/", "", enc, sizeof(enc)) < 0)
		(void)strcpy(enc, "%2F");
	if (email != NULL && encode_pct(email, "@", henc, sizeof(henc)) < 0)
		henc[0] = '\0';
	(void)snprintf(loc, sizeof(loc), SSO_PATH "%s/start?rd=%s%s%s",
	    p->name, enc, henc[0] != '\0' ? "&login_hint=" : "", henc);
	r.location = loc;
	client_answer(ex, &r, NULL);
}
