/*
 * The ACME driver (see acme.h): its runs over the configured hosts, the
 * account, and the plumbing of every exchange with the CA (nonces, JWS,
 * badNonce retries, problem documents) and with Redis.  One thing at a
 * time: at most one Redis command or HTTP request is pending, so a run is
 * a chain of continuations and acme_free() has one callback to wait for.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>
#include <jansson.h>
#include <openssl/crypto.h>

#include "acme.h"
#include "acme-int.h"
#include "acmecsr.h"
#include "certstore.h"
#include "config.h"
#include "encode.h"
#include "httpc.h"
#include "log.h"
#include "secret.h"
#include "worker.h"

#define ACME_NONCE_TRIES	10	/* badNonce answers retried */
#define ACME_IDLE_CHECK		60	/* s between runs with nothing due */
#define ACME_PEM_MAX		(64 * 1024)	/* bytes of a sealed key */
#define ACME_DIR_TTL		86400	/* s a directory and account are
					 * used before being read again */

static void	acme_run(struct acme *);
static void	acme_account_load(struct acme *);
static void	acme_send(struct acme *);
static void	acme_refuse(struct acme *, const char *);

/* ---- life ---- */

static void
acme_on_timer(evutil_socket_t fd, short ev, void *arg)
{
	struct acme	*a = arg;
	acme_step	 fn = a->later;

	(void)fd;
	(void)ev;
	a->later = NULL;
	if (fn != NULL)
		fn(a);
}

void
acme_after(struct acme *a, uint64_t ms, acme_step fn)
{
	struct timeval	tv = { .tv_sec = (time_t)(ms / 1000),
	    .tv_usec = (suseconds_t)(ms % 1000) * 1000 };

	a->later = fn;
	(void)evtimer_add(a->timer, &tv);
}

void
acme_kick(struct acme *a)
{
	if (a == NULL || a->closing)
		return;
	if (a->running)
		a->again = 1;
	else if (a->later == acme_run) {	/* waiting for the next run */
		(void)evtimer_del(a->timer);
		acme_after(a, 0, acme_run);
	}
}

void
acme_event(void *arg, const char *kind, const char *host)
{
	(void)host;
	if (strcmp(kind, "alpn") != 0)
		acme_kick(arg);
}

/* Each second: did a handshake want a custom domain's certificate? */
static void
acme_on_poke(evutil_socket_t fd, short ev, void *arg)
{
	struct acme	*a = arg;

	(void)fd;
	(void)ev;
	if (certstore_wanted(a->w->srv->certs)) {
		log_debug("acme: a handshake wants a custom domain's "
		    "certificate");
		acme_kick(a);
	}
}

struct acme *
acme_new(struct worker *w)
{
	struct acme	*a;
	struct timeval	 sec = { 1, 0 };

	if ((a = calloc(1, sizeof(*a))) == NULL)
		return NULL;
	a->w = w;
	if ((a->timer = evtimer_new(w->base, acme_on_timer, a)) == NULL ||
	    (a->poke = event_new(w->base, -1, EV_PERSIST, acme_on_poke,
	    a)) == NULL || event_add(a->poke, &sec) == -1) {
		if (a->timer != NULL)
			event_free(a->timer);
		if (a->poke != NULL)
			event_free(a->poke);
		free(a);
		return NULL;
	}
	acme_after(a, 1000, acme_run);
	return a;
}

static void
acme_destroy(struct acme *a)
{
	acme_order_clear(a);
	acme_hosts_clear(a);
	acme_directory_free(&a->dir);
	free(a->dir_url);
	EVP_PKEY_free(a->akey);
	free(a->kid);
	free(a->url);
	free(a->payload);
	config_unref(a->cfg);
	if (a->timer != NULL)
		event_free(a->timer);
	if (a->poke != NULL)
		event_free(a->poke);
	free(a);
}

void
acme_free(struct acme *a)
{
	if (a == NULL)
		return;
	if (a->busy) {		/* its callback frees it */
		a->closing = 1;
		(void)evtimer_del(a->timer);
		(void)event_del(a->poke);
		return;
	}
	acme_destroy(a);
}

/* An answer arrived: 0 to go on, -1 if the driver was freed meanwhile. */
static int
acme_arrived(struct acme *a)
{
	a->busy = 0;
	if (!a->closing)
		return 0;
	acme_destroy(a);
	return -1;
}

/* The run is over: drop its snapshot and plan the next one. */
void
acme_run_end(struct acme *a)
{
	int64_t	now = (int64_t)time(NULL), wait;

	wait = a->next_run > now ? a->next_run - now : ACME_IDLE_CHECK;
	if (wait > ACME_IDLE_CHECK)
		wait = ACME_IDLE_CHECK;	/* a reload may add hosts */
	if (a->again)		/* a domain came meanwhile */
		wait = 0;
	a->again = 0;
	a->running = 0;
	acme_hosts_clear(a);
	config_unref(a->cfg);
	a->cfg = NULL;
	acme_after(a, (uint64_t)wait * 1000, acme_run);
}

/* A run cannot go on (CA or Redis unreachable): log, try again later. */
void
acme_run_fail(struct acme *a, const char *reason, const char *what,
    const char *detail)
{
	log_event(LOG_LEVEL_WARN, "acme", "reason", reason, "step", what,
	    "detail", detail, NULL);
	a->dir_at = 0;			/* directory and account anew */
	a->next_run = (int64_t)time(NULL) + ACME_IDLE_CHECK;
	acme_run_end(a);
}

void
acme_run_down(struct acme *a, const char *what, const char *detail)
{
	acme_run_fail(a, "acme_unavailable", what, detail);
}

/* ---- Redis ---- */

int
acme_is_domain(const struct acme *a)
{
	return a->host >= a->cfg->acme->nhosts;
}

const char *
acme_host(const struct acme *a)
{
	return acme_is_domain(a) ? a->domains[a->host -
	    a->cfg->acme->nhosts] : a->cfg->acme->hosts[a->host];
}

int
acme_key(const struct acme *a, char *buf, size_t size, const char *layout,
    const char *arg)
{
	return store_layout_key(buf, size, store_prefix(a->w->store), layout,
	    arg) == -1 ? -1 : 0;
}

static void
acme_on_redis(void *arg, const redisReply *reply, const char *err)
{
	struct acme	*a = arg;

	if (acme_arrived(a) == -1)
		return;
	a->rnext(a, reply, err);
}

void
acme_redis(struct acme *a, acme_rfn fn, int argc, const char **argv,
    const size_t *argvlen)
{
	a->rnext = fn;
	a->busy = 1;
	if (store_command_argv(a->w->store, acme_on_redis, a, argc, argv,
	    argvlen) == -1) {
		a->busy = 0;
		fn(a, NULL, "redis unavailable");
	}
}

void
acme_eval(struct acme *a, struct store_script *script, acme_rfn fn,
    int nkeys, int argc, const char **argv, const size_t *argvlen)
{
	a->rnext = fn;
	a->busy = 1;
	if (store_eval(a->w->store, script, acme_on_redis, a, nkeys, argc,
	    argv, argvlen) == -1) {
		a->busy = 0;
		fn(a, NULL, "redis unavailable");
	}
}

/* ---- HTTP to the CA ---- */

/* The answer of <resp> (or the failure <err>) as <out>. */
static void
acme_resp_fill(struct acme *a, const struct httpc_resp *resp,
    const char *err, struct acme_resp *out)
{
	const char	*v;

	memset(out, 0, sizeof(*out));
	out->retry_after = -1;
	out->err = err;
	if (resp == NULL) {
		(void)snprintf(out->prob.type, sizeof(out->prob.type), "%s",
		    err);
		return;
	}
	out->status = resp->status;
	out->body = resp->body;
	out->len = resp->len;
	out->location = httpc_resp_header(resp, "Location");
	if ((v = httpc_resp_header(resp, "Retry-After")) != NULL &&
	    strspn(v, "0123456789") == strlen(v) && strlen(v) < 7)
		out->retry_after = strtoll(v, NULL, 10);
	v = httpc_resp_header(resp, "Replay-Nonce");
	if (v != NULL && strlen(v) < sizeof(a->nonce) &&
	    strspn(v, encode_b64url_chars) == strlen(v))
		(void)snprintf(a->nonce, sizeof(a->nonce), "%s", v);
	if (resp->status >= 400) {
		acme_parse_problem(resp->body, resp->len, &out->prob);
		acme_problem_scrub(&out->prob, a->sent);
		acme_problem_scrub(&out->prob, a->nonce);
	}
}

static void
acme_on_http(void *arg, const struct httpc_resp *resp, const char *err)
{
	struct acme	*a = arg;
	struct acme_resp r;
	int		 nonce_only = a->nonce_fetch;

	if (acme_arrived(a) == -1)
		return;
	a->nonce_fetch = 0;
	acme_resp_fill(a, resp, err, &r);
	if (nonce_only && r.status != 0) {	/* now the POST */
		if (a->nonce[0] != '\0')
			acme_send(a);
		else
			acme_refuse(a, "no Replay-Nonce from newNonce");
		return;
	}
	if (r.status == 400 && strcmp(r.prob.type, "badNonce") == 0 &&
	    a->tries++ < ACME_NONCE_TRIES) {
		log_event(LOG_LEVEL_DEBUG, "acme", "reason", "acme_bad_nonce",
		    "url", a->url, NULL);
		acme_send(a);		/* with the nonce of that answer */
		return;
	}
	a->next(a, &r);
}

/* The request in flight failed before reaching the CA: <detail>. */
static void
acme_refuse(struct acme *a, const char *detail)
{
	struct acme_resp r;

	memset(&r, 0, sizeof(r));
	r.retry_after = -1;
	r.err = detail;
	(void)snprintf(r.prob.type, sizeof(r.prob.type), "%s", detail);
	a->next(a, &r);
}

/* Start <method> <url> with <body>; a refusal is answered at once. */
static void
acme_http(struct acme *a, const char *url, const char *body)
{
	const char	*hdrs[] = { a->accept, NULL };
	struct httpc_req req = {
		.method = body != NULL ? "POST" : "GET",
		.url = url,
		.body = body,
		.content_type = "application/jose+json",
		.headers = a->accept != NULL ? hdrs : NULL,
		.ca_file = a->cfg->acme->ca_file,
		.timeout = a->cfg->acme->timeout,
		.max_body = ACME_BODY_MAX,
	};

	a->busy = 1;
	if (httpc_start(a->w->httpc, &req, acme_on_http, a) == 0)
		return;
	a->busy = 0;
	acme_refuse(a, "httpc_failed");
}

/* The JWS body of the request in flight, or NULL. */
static char *
acme_jws(struct acme *a)
{
	json_t	*hdr, *jws = NULL;
	char	*s = NULL;

	hdr = json_pack("{s:s, s:s}", "nonce", a->nonce, "url", a->url);
	if (hdr != NULL && json_object_set_new(hdr, a->use_jwk ? "jwk" :
	    "kid", a->use_jwk ? jwssign_jwk(a->akey) :
	    json_string(a->kid != NULL ? a->kid : "")) == 0 &&
	    (jws = jwssign_flat(a->akey, NULL, 0, hdr, a->payload)) != NULL)
		s = json_dumps(jws, JSON_COMPACT);
	json_decref(hdr);
	json_decref(jws);
	return s;
}

/* (Re)send the request in flight, first fetching a nonce if none. */
static void
acme_send(struct acme *a)
{
	char	*body;

	if (a->payload == NULL) {		/* a GET */
		acme_http(a, a->url, NULL);
		return;
	}
	if (a->nonce[0] == '\0') {
		a->nonce_fetch = 1;
		acme_http(a, a->dir.new_nonce, NULL);
		return;
	}
	body = acme_jws(a);
	memcpy(a->sent, a->nonce, sizeof(a->sent));
	a->nonce[0] = '\0';			/* a nonce works once */
	if (body != NULL) {
		acme_http(a, a->url, body);
		free(body);
		return;
	}
	acme_refuse(a, "cannot sign");
}

/* Set the request in flight: <payload> NULL for a plain GET. */
static void
acme_request(struct acme *a, const char *url, const char *payload,
    acme_fn next)
{
	char	*u = strdup(url), *p = payload != NULL ? strdup(payload) : NULL;

	free(a->url);
	free(a->payload);
	a->url = u;
	a->payload = p;
	a->next = next;
	a->tries = 0;
	if (u == NULL || (payload != NULL && p == NULL)) {
		acme_refuse(a, "out of memory");
		return;
	}
	acme_send(a);
}

void
acme_post(struct acme *a, const char *url, const char *payload,
    acme_fn next)
{
	a->use_jwk = 0;
	acme_request(a, url, payload, next);
}

void
acme_get(struct acme *a, const char *url, acme_fn next)
{
	a->use_jwk = 0;
	acme_request(a, url, NULL, next);
}

/* ---- a run: directory, account, then each host ---- */

/* "<type>: <detail>" of a failed answer <r> into <out>. */
static void
acme_why(const struct acme_resp *r, char *out, size_t size)
{
	if (r->status == 0)
		(void)snprintf(out, size, "%s", r->prob.type);
	else if (r->prob.type[0] != '\0' || r->prob.detail[0] != '\0')
		(void)snprintf(out, size, "%s: %s (HTTP %ld)", r->prob.type,
		    r->prob.detail, r->status);
	else
		(void)snprintf(out, size, "HTTP %ld", r->status);
}

static void
acme_on_directory(struct acme *a, const struct acme_resp *r)
{
	char	why[512];

	acme_directory_free(&a->dir);
	if (r->status != 200) {
		acme_why(r, why, sizeof(why));
		acme_run_down(a, "directory", why);
		return;
	}
	free(a->dir_url);
	a->dir_url = NULL;
	if (acme_parse_directory(r->body, r->len, &a->dir, why,
	    sizeof(why)) == -1) {
		acme_run_down(a, "directory", why);
		return;
	}
	if (a->dir.eab_required && a->cfg->acme->eab_kid == NULL) {
		acme_run_fail(a, "acme_account_refused", "directory",
		    "the CA requires an external "
		    "account binding: set acme.eab");
		return;
	}
	acme_account_load(a);
}

static void	acme_account_ready(struct acme *);

/* Whether the directory and account of the last run still serve. */
static int
acme_cached(const struct acme *a)
{
	return a->dir_at != 0 && a->akey != NULL && a->kid != NULL &&
	    a->dir_url != NULL &&
	    strcmp(a->dir_url, a->cfg->acme->directory) == 0 &&
	    (int64_t)time(NULL) - a->dir_at < ACME_DIR_TTL;
}

/* The run's hosts are known: the directory and account, then them. */
static void
acme_run_hosts(struct acme *a)
{
	if (acme_cached(a)) {		/* no request to the CA if none due */
		a->host = 0;
		acme_host_next(a);
		return;
	}
	a->use_jwk = 0;
	acme_request(a, a->cfg->acme->directory, NULL, acme_on_directory);
}

static void
acme_run(struct acme *a)
{
	uint64_t	gen;

	a->running = 1;
	a->again = 0;
	a->cfg = a->w->srv->ops->config(a->w->srv, &gen);
	a->next_run = (int64_t)time(NULL) + ACME_IDLE_CHECK;
	if (a->cfg == NULL || a->cfg->acme == NULL || a->cfg->keys == NULL ||
	    !a->cfg->keys->present) {
		acme_run_end(a);
		return;
	}
	acme_hosts_load(a, acme_run_hosts);
}

/* The account is known: order what is due. */
static void
acme_account_ready(struct acme *a)
{
	if (jwssign_thumbprint(a->akey, a->thumb) == -1) {
		acme_run_down(a, "account", "cannot compute the thumbprint");
		return;
	}
	free(a->dir_url);
	if ((a->dir_url = strdup(a->cfg->acme->directory)) != NULL)
		a->dir_at = (int64_t)time(NULL);
	a->host = 0;
	acme_host_next(a);
}

/* Open the sealed account key <sealed>; 0 or -1. */
static int
acme_account_open(struct acme *a, const char *sealed)
{
	unsigned char	*pem;
	size_t		 len = 0;

	if ((pem = malloc(ACME_PEM_MAX)) == NULL)
		return -1;
	EVP_PKEY_free(a->akey);
	a->akey = NULL;
	if (secret_open(a->cfg->keys->acme, "acme:account", 12, sealed, pem,
	    ACME_PEM_MAX, &len) == 0)
		a->akey = acmecsr_key_load((char *)pem, len);
	OPENSSL_clear_free(pem, ACME_PEM_MAX);
	return a->akey != NULL ? 0 : -1;
}

static void	acme_account_create(struct acme *);

static void
acme_on_account(struct acme *a, const redisReply *r, const char *err)
{
	const char	*url = acme_field(r, "url");
	const char	*key = acme_field(r, "key");
	const char	*dir = acme_field(r, "directory");

	if (err != NULL) {
		acme_run_down(a, "account", err);
		return;
	}
	if (url == NULL || key == NULL || dir == NULL ||
	    strcmp(dir, a->cfg->acme->directory) != 0) {
		acme_account_create(a);		/* none yet for this CA */
		return;
	}
	if (acme_account_open(a, key) == -1) {
		log_event(LOG_LEVEL_ERROR, "acme", "reason",
		    "acme_account_key", "detail", "the account key in Redis "
		    "does not open with this secret_file", NULL);
		acme_run_down(a, "account", "sealed key does not open");
		return;
	}
	free(a->kid);
	if ((a->kid = strdup(url)) == NULL) {
		acme_run_down(a, "account", "out of memory");
		return;
	}
	acme_account_ready(a);
}

static void
acme_account_load(struct acme *a)
{
	char		 key[STORE_KEYLEN];
	const char	*argv[2] = { "HGETALL", key };

	if (acme_key(a, key, sizeof(key), ACME_LAYOUT_ACCOUNT, NULL) == -1) {
		acme_run_down(a, "account", "key name too long");
		return;
	}
	acme_redis(a, acme_on_account, 2, argv, NULL);
}

/* Keep the account unless another instance stored one first. */
static struct store_script acme_lua_account = STORE_SCRIPT("acme account",
    "if redis.call('EXISTS', KEYS[1]) == 1 and\n"
    "    redis.call('HGET', KEYS[1], 'directory') == ARGV[3] then\n"
    "  return 0\n"
    "end\n"
    "redis.call('DEL', KEYS[1])\n"
    "redis.call('HSET', KEYS[1], 'url', ARGV[1], 'key', ARGV[2],\n"
    "  'directory', ARGV[3], 'contact', ARGV[4], 'created', ARGV[5])\n"
    "return 1\n");

static void
acme_on_account_stored(struct acme *a, const redisReply *r, const char *err)
{
	if (err != NULL || r->type != REDIS_REPLY_INTEGER) {
		acme_run_down(a, "account", err != NULL ? err : "bad reply");
		return;
	}
	if (r->integer == 0) {		/* another instance was first */
		acme_account_load(a);
		return;
	}
	log_event(LOG_LEVEL_INFO, "acme_account", "directory",
	    a->cfg->acme->directory, "account", a->kid, NULL);
	acme_account_ready(a);
}

char *
acme_seal_pem(const struct acme *a, const char *pem, const char *aad)
{
	char	*sealed;
	size_t	 n = SECRET_SEALED_LEN(strlen(pem));

	if ((sealed = malloc(n)) != NULL &&
	    secret_seal(a->cfg->keys->acme, aad, strlen(aad),
	    (const unsigned char *)pem, strlen(pem), sealed, n) == -1) {
		free(sealed);
		sealed = NULL;
	}
	return sealed;
}

/* The PEM of <key> sealed for owner <aad>: a new string, or NULL. */
char *
acme_seal_key(const struct acme *a, EVP_PKEY *key, const char *aad)
{
	char	*pem, *sealed;

	if ((pem = acmecsr_key_pem(key)) == NULL)
		return NULL;
	sealed = acme_seal_pem(a, pem, aad);
	OPENSSL_clear_free(pem, strlen(pem));
	return sealed;
}

/* Seal the new account key and store the account. */
static void
acme_account_store(struct acme *a)
{
	char		 key[STORE_KEYLEN], now[24], *sealed;
	const char	*argv[6];

	if ((sealed = acme_seal_key(a, a->akey, "acme:account")) == NULL ||
	    acme_key(a, key, sizeof(key), ACME_LAYOUT_ACCOUNT, NULL) == -1) {
		free(sealed);
		acme_run_down(a, "account", "cannot seal the account key");
		return;
	}
	(void)snprintf(now, sizeof(now), "%" PRId64, (int64_t)time(NULL));
	argv[0] = key;
	argv[1] = a->kid;
	argv[2] = sealed;
	argv[3] = a->cfg->acme->directory;
	argv[4] = a->cfg->acme->email != NULL ? a->cfg->acme->email : "";
	argv[5] = now;
	acme_eval(a, &acme_lua_account, acme_on_account_stored, 1, 6, argv,
	    NULL);
	free(sealed);
}

static void
acme_on_new_account(struct acme *a, const struct acme_resp *r)
{
	char	why[512];

	if ((r->status != 201 && r->status != 200) || r->location == NULL ||
	    !httpc_url_allowed(r->location)) {
		acme_why(r, why, sizeof(why));
		acme_run_fail(a, r->status >= 400 ? "acme_account_refused" :
		    "acme_unavailable", "newAccount", why);
		return;
	}
	free(a->kid);
	if ((a->kid = strdup(r->location)) == NULL) {
		acme_run_down(a, "newAccount", "out of memory");
		return;
	}
	acme_account_store(a);
}

/* RFC 8555 7.3.4: the account's JWK, MAC'ed with the EAB key. */
static json_t *
acme_eab(struct acme *a)
{
	const struct config_acme *c = a->cfg->acme;
	json_t		*hdr, *jwk, *eab = NULL;
	char		*s = NULL;

	hdr = json_pack("{s:s, s:s}", "kid", c->eab_kid, "url",
	    a->dir.new_account);
	if (hdr != NULL && (jwk = jwssign_jwk(a->akey)) != NULL) {
		s = json_dumps(jwk, JSON_COMPACT);
		json_decref(jwk);
	}
	if (s != NULL)
		eab = jwssign_flat(NULL, c->eab_key, c->eab_keylen, hdr, s);
	free(s);
	json_decref(hdr);
	return eab;
}

/* The newAccount payload (RFC 8555 7.3), or NULL. */
static char *
acme_account_payload(struct acme *a)
{
	const struct config_acme *c = a->cfg->acme;
	json_t		*p, *eab;
	char		*s = NULL, mailto[300];

	if ((p = json_pack("{s:b}", "termsOfServiceAgreed", 1)) == NULL)
		return NULL;
	if (c->email != NULL) {
		(void)snprintf(mailto, sizeof(mailto), "mailto:%s", c->email);
		if (json_object_set_new(p, "contact", json_pack("[s]",
		    mailto)) == -1)
			goto out;
	}
	if (c->eab_kid != NULL && ((eab = acme_eab(a)) == NULL ||
	    json_object_set_new(p, "externalAccountBinding", eab) == -1))
		goto out;
	s = json_dumps(p, JSON_COMPACT);
out:
	json_decref(p);
	return s;
}

static void
acme_account_create(struct acme *a)
{
	char	*payload;

	EVP_PKEY_free(a->akey);
	if ((a->akey = jwssign_p256_new()) == NULL ||
	    (payload = acme_account_payload(a)) == NULL) {
		acme_run_down(a, "newAccount", "cannot make the account key");
		return;
	}
	a->use_jwk = 1;
	acme_request(a, a->dir.new_account, payload, acme_on_new_account);
	free(payload);
}

int
acme_keyauth(const struct acme *a, const char *token, char *out,
    size_t size)
{
	int	n = snprintf(out, size, "%s.%s", token, a->thumb);

	return n < 0 || (size_t)n >= size ? -1 : 0;
}
