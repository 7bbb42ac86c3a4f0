/*
 * One ACME order for the host the driver holds the lock of (see acme.h,
 * acme-int.h): newOrder, each authorization with the first configured
 * challenge type the CA offers, polling with Retry-After, finalize with a
 * CSR, polling the order, and the download of the chain.  Every failure
 * ends in acme_fail() with the CA's problem document.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "acme.h"
#include "acme-int.h"
#include "acmecsr.h"
#include "config.h"
#include "encode.h"
#include "log.h"
#include "tlsacme.h"

#define ACME_POLLS		30	/* answers "pending" before giving up */
#define ACME_POLL_MS		1000	/* without Retry-After */
#define ACME_POLL_MAX_MS	30000	/* a larger Retry-After is cut */

static void	acme_authz_next(struct acme *);
static void	acme_authz_fetch(struct acme *);
static void	acme_order_fetch(struct acme *);

void
acme_order_clear(struct acme *a)
{
	acme_order_free(&a->order);
	acme_authz_free(&a->authz);
	free(a->order_url);
	a->order_url = NULL;
	EVP_PKEY_free(a->ckey);
	a->ckey = NULL;
	a->authz_i = 0;
	a->polls = 0;
	a->accept = NULL;
}

/* Fail the order with the answer <r> of <step>. */
static void
acme_order_failed(struct acme *a, const char *step, const struct acme_resp *r)
{
	char	why[900];

	if (r->status == 0)
		(void)snprintf(why, sizeof(why), "%s: %s", step, r->prob.type);
	else if (r->prob.type[0] != '\0' || r->prob.detail[0] != '\0')
		(void)snprintf(why, sizeof(why), "%s: %s: %s%s%s%s (HTTP %ld)",
		    step, r->prob.type, r->prob.detail,
		    r->prob.subproblems[0] != '\0' ? " [" : "",
		    r->prob.subproblems,
		    r->prob.subproblems[0] != '\0' ? "]" : "", r->status);
	else
		(void)snprintf(why, sizeof(why), "%s: HTTP %ld", step,
		    r->status);
	acme_fail(a, why);
}

/* Wait as the CA asks (bounded), at most ACME_POLLS times, then <fn>. */
static void
acme_poll(struct acme *a, const struct acme_resp *r, const char *what,
    acme_step fn)
{
	uint64_t	ms = ACME_POLL_MS;
	char		why[128];

	if (++a->polls > ACME_POLLS) {
		(void)snprintf(why, sizeof(why), "%s: still not done after %d "
		    "polls", what, ACME_POLLS);
		acme_fail(a, why);
		return;
	}
	if (r->retry_after >= 0)
		ms = (uint64_t)r->retry_after * 1000;
	if (ms > ACME_POLL_MAX_MS)
		ms = ACME_POLL_MAX_MS;
	if (ms == 0)
		ms = 200;
	acme_after(a, ms, fn);
}

/* ---- download ---- */

static void
acme_on_chain(struct acme *a, const struct acme_resp *r)
{
	a->accept = NULL;
	if (r->status != 200) {
		acme_order_failed(a, "certificate", r);
		return;
	}
	acme_store_cert(a, r->body, r->len);
}

static void
acme_download(struct acme *a)
{
	a->accept = "Accept: application/pem-certificate-chain";
	acme_post(a, a->order.certificate, "", acme_on_chain);
}

/* ---- finalize and the order's state ---- */

/* Take order answer <r>; 0, or -1 after failing the order. */
static int
acme_order_take(struct acme *a, const struct acme_resp *r, const char *step)
{
	char	why[300], msg[400];

	acme_order_free(&a->order);
	if (r->status != 200 && r->status != 201) {
		acme_order_failed(a, step, r);
		return -1;
	}
	if (acme_parse_order(r->body, r->len, &a->order, why,
	    sizeof(why)) == -1) {
		(void)snprintf(msg, sizeof(msg), "%s: %s", step, why);
		acme_fail(a, msg);
		return -1;
	}
	return 0;
}

static void
acme_on_order_state(struct acme *a, const struct acme_resp *r)
{
	if (acme_order_take(a, r, "order") == -1)
		return;
	switch (a->order.status) {
	case ACME_ST_VALID:
		acme_download(a);
		break;
	case ACME_ST_PROCESSING:
	case ACME_ST_READY:
		acme_poll(a, r, "order", acme_order_fetch);
		break;
	default:
		acme_fail(a, "order: the CA marked the order invalid");
		break;
	}
}

static void
acme_order_fetch(struct acme *a)
{
	acme_post(a, a->order_url, "", acme_on_order_state);
}

static void
acme_finalize(struct acme *a)
{
	unsigned char	*der = NULL;
	size_t		 len = 0;
	char		*b64 = NULL, *payload = NULL;
	json_t		*o = NULL;

	EVP_PKEY_free(a->ckey);
	a->ckey = acmecsr_key_new(a->cfg->acme->key_type == ACME_KEY_RSA2048);
	if (a->ckey != NULL && acmecsr_make(a->ckey, acme_host(a), &der,
	    &len) == 0 && (b64 = malloc(ENCODE_B64URL_LEN(len) + 1)) != NULL &&
	    encode_b64url(der, len, b64, ENCODE_B64URL_LEN(len) + 1) > 0 &&
	    (o = json_pack("{s:s}", "csr", b64)) != NULL)
		payload = json_dumps(o, JSON_COMPACT);
	OPENSSL_free(der);
	free(b64);
	json_decref(o);
	if (payload == NULL) {
		acme_fail(a, "finalize: cannot make the key or the CSR");
		return;
	}
	a->polls = 0;
	acme_post(a, a->order.finalize, payload, acme_on_order_state);
	free(payload);
}

/* ---- authorizations ---- */

/* The first challenge of <az> of a type acme.challenges lists. */
static const struct acme_chal *
acme_pick(const struct acme *a, const struct acme_authz *az)
{
	static const char *const names[] = { "http-01", "tls-alpn-01" };
	const struct config_acme *c = a->cfg->acme;
	size_t		 i, j;

	for (i = 0; i < c->nchallenges; i++) {
		for (j = 0; j < az->nchal; j++)
			if (strcmp(az->chal[j].type, names[c->challenges[i]]) ==
			    0 && az->chal[j].token[0] != '\0')
				return &az->chal[j];
	}
	return NULL;
}

/* Take authorization answer <r>; 0, or -1 after failing the order. */
static int
acme_authz_take(struct acme *a, const struct acme_resp *r)
{
	char	why[300], msg[600];

	acme_authz_free(&a->authz);
	if (r->status != 200) {
		acme_order_failed(a, "authorization", r);
		return -1;
	}
	if (acme_parse_authz(r->body, r->len, &a->authz, why,
	    sizeof(why)) == -1) {
		(void)snprintf(msg, sizeof(msg), "authorization: %s", why);
		acme_fail(a, msg);
		return -1;
	}
	return 0;
}

static void
acme_on_answer_dropped(struct acme *a, const redisReply *r, const char *err)
{
	(void)r;
	(void)err;		/* it expires anyway */
	a->authz_i++;
	acme_authz_next(a);
}

/* The authorization answered is valid: its HTTP-01 answer goes. */
static void
acme_authz_done(struct acme *a)
{
	const struct acme_chal *c = acme_pick(a, &a->authz);
	char		 key[STORE_KEYLEN];
	const char	*argv[2] = { "DEL", key };

	if (c == NULL || strcmp(c->type, "http-01") != 0 ||
	    acme_key(a, key, sizeof(key), ACME_LAYOUT_HTTP01, c->token) ==
	    -1) {
		acme_on_answer_dropped(a, NULL, NULL);
		return;
	}
	acme_redis(a, acme_on_answer_dropped, 2, argv, NULL);
}

static void
acme_on_authz_state(struct acme *a, const struct acme_resp *r)
{
	char	msg[800];

	if (acme_authz_take(a, r) == -1)
		return;
	switch (a->authz.status) {
	case ACME_ST_VALID:
		acme_authz_done(a);
		break;
	case ACME_ST_PENDING:
	case ACME_ST_PROCESSING:
		acme_poll(a, r, "authorization", acme_authz_fetch);
		break;
	default:
		(void)snprintf(msg, sizeof(msg), "challenge failed: %s",
		    a->authz.error[0] != '\0' ? a->authz.error :
		    "the CA marked the authorization invalid");
		acme_fail(a, msg);
		break;
	}
}

static void
acme_authz_fetch(struct acme *a)
{
	acme_post(a, a->order.authz[a->authz_i], "", acme_on_authz_state);
}

static void
acme_on_respond(struct acme *a, const struct acme_resp *r)
{
	if (r->status != 200) {
		acme_order_failed(a, "challenge", r);
		return;
	}
	a->polls = 0;
	acme_poll(a, r, "authorization", acme_authz_fetch);
}

/* The answer is in Redis: tell the CA to validate. */
static void
acme_on_answer_stored(struct acme *a, const redisReply *r, const char *err)
{
	const struct acme_chal *c = acme_pick(a, &a->authz);

	(void)r;
	if (err != NULL || c == NULL) {
		acme_fail(a, "challenge: cannot store the answer");
		return;
	}
	acme_post(a, c->url, "{}", acme_on_respond);
}

/*
 * TLS-ALPN-01's answer, replacing any earlier one of the host, with its
 * expiry, announced to every instance before the CA is told to connect.
 */
static struct store_script acme_lua_alpn = STORE_SCRIPT("acme alpn",
    "redis.call('DEL', KEYS[1])\n"
    "redis.call('HSET', KEYS[1], 'cert', ARGV[1], 'key', ARGV[2])\n"
    "redis.call('PEXPIRE', KEYS[1], ARGV[3])\n"
    "redis.call('PUBLISH', KEYS[2], ARGV[4])\n"
    "return 1\n");

/* TLS-ALPN-01 (RFC 8737): the challenge certificate for the key
 * authorization <ka>, its key sealed, into acme:alpn01:<host>. */
static void
acme_respond_alpn(struct acme *a, const char *ka)
{
	unsigned char	 md[32];
	char		*cert = NULL, *key = NULL, *sealed = NULL, why[200];
	char		 keys[2][STORE_KEYLEN], aad[300], ttl[24], msg[300];
	const char	*argv[6] = { keys[0], keys[1], NULL, NULL, ttl, msg };

	(void)snprintf(aad, sizeof(aad), "acme:%s", acme_host(a));
	if (EVP_Digest(ka, strlen(ka), md, NULL, EVP_sha256(), NULL) != 1 ||
	    tls_alpn01_cert(acme_host(a), md, &cert, &key, why,
	    sizeof(why)) == -1 || (sealed = acme_seal_pem(a, key, aad)) ==
	    NULL || acme_key(a, keys[0], STORE_KEYLEN, ACME_LAYOUT_ALPN01,
	    acme_host(a)) == -1 || acme_key(a, keys[1], STORE_KEYLEN,
	    ACME_LAYOUT_EVENTS, NULL) == -1) {
		acme_fail(a, "challenge: cannot make the TLS-ALPN-01 "
		    "certificate");
	} else {
		argv[2] = cert;
		argv[3] = sealed;
		(void)snprintf(ttl, sizeof(ttl), "%d", ACME_CHALLENGE_TTL);
		(void)snprintf(msg, sizeof(msg), "alpn %s", acme_host(a));
		acme_eval(a, &acme_lua_alpn, acme_on_answer_stored, 2, 6,
		    argv, NULL);
	}
	free(cert);
	if (key != NULL)
		OPENSSL_clear_free(key, strlen(key));
	free(sealed);
}

/* Answer the pending authorization: store the answer of the challenge
 * chosen, then tell the CA to validate. */
static void
acme_respond(struct acme *a)
{
	const struct acme_chal *c = acme_pick(a, &a->authz);
	char		 key[STORE_KEYLEN], ka[ACME_TOKEN_MAX + 64], ttl[24];
	const char	*argv[5] = { "SET", key, ka, "PX", ttl };

	if (c == NULL) {
		acme_fail(a, "challenge: the CA offers none of "
		    "acme.challenges");
		return;
	}
	if (acme_keyauth(a, c->token, ka, sizeof(ka)) == -1) {
		acme_fail(a, "challenge: token too long");
		return;
	}
	if (strcmp(c->type, "tls-alpn-01") == 0) {
		acme_respond_alpn(a, ka);
		return;
	}
	if (acme_key(a, key, sizeof(key), ACME_LAYOUT_HTTP01, c->token) ==
	    -1) {
		acme_fail(a, "challenge: token too long");
		return;
	}
	(void)snprintf(ttl, sizeof(ttl), "%d", ACME_CHALLENGE_TTL);
	acme_redis(a, acme_on_answer_stored, 5, argv, NULL);
}

static void
acme_on_authz(struct acme *a, const struct acme_resp *r)
{
	if (acme_authz_take(a, r) == -1)
		return;
	if (a->authz.status == ACME_ST_VALID) {
		a->authz_i++;
		acme_authz_next(a);
	} else if (a->authz.status == ACME_ST_PENDING)
		acme_respond(a);
	else
		acme_on_authz_state(a, r);
}

static void
acme_authz_next(struct acme *a)
{
	if (a->authz_i >= a->order.nauthz) {
		acme_finalize(a);
		return;
	}
	acme_post(a, a->order.authz[a->authz_i], "", acme_on_authz);
}

/* ---- newOrder ---- */

static void
acme_on_order(struct acme *a, const struct acme_resp *r)
{
	if (r->status >= 400 && a->certid[0] != '\0' &&
	    strcmp(r->prob.type, "alreadyReplaced") == 0) {
		a->certid[0] = '\0';	/* RFC 9773 5: order it afresh */
		acme_order_start(a);
		return;
	}
	if (acme_order_take(a, r, "newOrder") == -1)
		return;
	if (r->location == NULL || (a->order_url = strdup(r->location)) ==
	    NULL) {
		acme_fail(a, "newOrder: no order URL");
		return;
	}
	log_event(LOG_LEVEL_INFO, "acme_order", "host", acme_host(a),
	    "order", a->order_url, NULL);
	a->authz_i = 0;
	if (a->order.status == ACME_ST_VALID)
		acme_download(a);
	else if (a->order.status == ACME_ST_READY)
		acme_finalize(a);
	else
		acme_authz_next(a);
}

void
acme_order_start(struct acme *a)
{
	json_t	*o;
	char	*payload = NULL;

	acme_order_clear(a);
	o = json_pack("{s:[{s:s, s:s}]}", "identifiers", "type", "dns",
	    "value", acme_host(a));
	/* RFC 9773 5: the certificate this one replaces */
	if (o != NULL && (a->certid[0] == '\0' || json_object_set_new(o,
	    "replaces", json_string(a->certid)) == 0))
		payload = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (payload == NULL) {
		acme_fail(a, "newOrder: out of memory");
		return;
	}
	acme_post(a, a->dir.new_order, payload, acme_on_order);
	free(payload);
}
