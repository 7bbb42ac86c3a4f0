/*
 * Run-time certificates from Redis into the certstore (see certsync.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "certstore.h"
#include "certsync.h"
#include "config.h"
#include "domain.h"
#include "domainreg.h"
#include "encode.h"
#include "loader.h"
#include "log.h"
#include "secret.h"
#include "store.h"
#include "tlsacme.h"
#include "worker.h"

#define CERTSYNC_PEM_MAX	(64 * 1024)	/* longest sealed value read */
#define CERTSYNC_SCAN_COUNT	"200"

/* Owned by worker 0 (w->certsync). */
struct certsync {
	struct worker		*w;
	struct certstore	*cs;
	struct store		*sub;		/* subscriber connection */
	char			 prefix[STORE_KEYLEN];
	certsync_event_fn	 listener;	/* or NULL */
	void			*listener_arg;
};

/* One read in flight; owned by its store callback. */
struct certsync_load {
	struct certsync	*cy;
	int		 alpn;		/* a challenge, not a certificate */
	char		 host[254];
};

/* ---- custom domains ---- */

static void
certsync_on_domain(void *arg, const redisReply *reply, const char *err)
{
	struct certsync_load	*ld = arg;	/* owned by this callback */
	struct domainreg	*dr = ld->cy->w->srv->domains;

	if (err != NULL)
		log_warnx("domains: cannot read %s: %s", ld->host, err);
	else if (reply->type == REDIS_REPLY_ARRAY && reply->elements == 2 &&
	    reply->element[0]->type == REDIS_REPLY_STRING &&
	    reply->element[1]->type == REDIS_REPLY_STRING) {
		if (domainreg_set(dr, ld->host, reply->element[0]->str,
		    reply->element[1]->str) == 0)
			log_info("domains: %s serves app %s for org %s",
			    ld->host, reply->element[0]->str,
			    reply->element[1]->str);
	} else {		/* its certificate was deleted with it */
		domainreg_remove(dr, ld->host);
		(void)certstore_drop(ld->cy->cs, ld->host);
		log_info("domains: %s removed", ld->host);
	}
	free(ld);
}

/* Read domain:<host> again after its message. */
static void
certsync_domain(struct certsync *cy, const char *host)
{
	struct certsync_load	*ld;
	char			 key[STORE_KEYLEN];

	if ((ld = calloc(1, sizeof(*ld))) == NULL)
		return;
	ld->cy = cy;
	(void)snprintf(ld->host, sizeof(ld->host), "%s", host);
	if (store_layout_key(key, sizeof(key), cy->prefix, DOMAIN_LAYOUT_HOST,
	    host) == -1 || store_command(cy->w->store, certsync_on_domain, ld,
	    "HMGET %s app org", key) == -1) {
		log_warnx("domains: cannot read %s: redis unavailable", host);
		free(ld);
	}
}

static void
certsync_on_domains(void *arg, const redisReply *reply, const char *err)
{
	struct certsync		*cy = arg;
	struct domainreg_entry	*e;
	size_t			 i, n = 0;

	if (err != NULL || reply->type != REDIS_REPLY_ARRAY) {
		log_warnx("domains: cannot read the registry: %s",
		    err != NULL ? err : "unexpected reply");
		return;
	}
	if ((e = calloc(reply->elements / 3 + 1, sizeof(*e))) == NULL)
		return;
	for (i = 0; i + 2 < reply->elements; i += 3) {
		const redisReply *h = reply->element[i];
		const redisReply *a = reply->element[i + 1];
		const redisReply *o = reply->element[i + 2];

		if (h->type != REDIS_REPLY_STRING ||
		    a->type != REDIS_REPLY_STRING ||
		    o->type != REDIS_REPLY_STRING || h->len >= sizeof(e->host) ||
		    a->len >= sizeof(e->app) || o->len >= sizeof(e->org))
			continue;
		memcpy(e[n].host, h->str, h->len + 1);
		memcpy(e[n].app, a->str, a->len + 1);
		memcpy(e[n].org, o->str, o->len + 1);
		n++;
	}
	if (domainreg_replace(cy->w->srv->domains, e, n) == 0)
		log_info("domains: %zu custom domains", n);
	free(e);
}

/* Read the whole registry (at start, and after a reconnection). */
static void
certsync_domains(struct certsync *cy)
{
	const char	*argv[2];
	char		 all[STORE_KEYLEN];

	if (store_layout_key(all, sizeof(all), cy->prefix,
	    DOMAIN_LAYOUT_ALL) == -1)
		return;
	argv[0] = all;
	argv[1] = cy->prefix;
	if (store_eval(cy->w->store, &domain_lua_all, certsync_on_domains, cy,
	    1, 2, argv, NULL) == -1)
		log_warnx("domains: cannot read the registry: redis "
		    "unavailable");
}

/* ---- certificates ---- */

static void	certsync_scan(struct certsync *, const char *cursor);

/*
 * Open the sealed <sealed> of <host> into a new NUL-terminated string
 * (the caller wipes and frees it), or NULL.
 */
static char *
certsync_open(struct certsync *cy, const char *host, const char *sealed)
{
	struct config	*cfg;
	uint64_t	 gen;
	unsigned char	*out;
	char		 aad[sizeof(CERTSYNC_AAD) + 254];
	size_t		 size = strlen(sealed), len = 0;
	int		 rc = -1;

	if (size == 0 || size > CERTSYNC_PEM_MAX ||
	    (out = malloc(size + 1)) == NULL)
		return NULL;
	(void)snprintf(aad, sizeof(aad), "%s%s", CERTSYNC_AAD, host);
	cfg = cy->w->srv->ops->config(cy->w->srv, &gen);
	if (cfg->keys != NULL && cfg->keys->present)
		rc = secret_open(cfg->keys->acme, aad, strlen(aad), sealed, out,
		    size, &len);
	config_unref(cfg);
	if (rc == -1) {
		free(out);
		return NULL;
	}
	out[len] = '\0';
	return (char *)out;
}

static void
certsync_bad(const struct certsync_load *ld, const char *why)
{
	log_event(LOG_LEVEL_WARN, "acme_load", "host", ld->host, "kind",
	    ld->alpn ? "challenge" : "certificate", "reason",
	    "acme_bad_cert", "detail", why, NULL);
}

/* Install what a HMGET of (certificate or chain, key) answered. */
static void
certsync_install(struct certsync_load *ld, const char *pem,
    const char *sealed)
{
	struct certsync	*cy = ld->cy;
	char		*key, err[256];
	int		 rc;

	if ((key = certsync_open(cy, ld->host, sealed)) == NULL) {
		certsync_bad(ld, "the sealed key does not open with this "
		    "gateway's secret for this host");
		return;
	}
	if (ld->alpn)
		rc = certstore_put_alpn(cy->cs, ld->host, pem, key, time(NULL),
		    err, sizeof(err));
	else
		rc = certstore_put(cy->cs, ld->host, pem, key, time(NULL), err,
		    sizeof(err));
	OPENSSL_cleanse(key, strlen(key));
	free(key);
	if (rc == -1)
		certsync_bad(ld, err);
	else if (rc == 0)
		log_info("acme: %s of %s loaded", ld->alpn ?
		    "challenge certificate" : "certificate", ld->host);
}

static void
certsync_on_load(void *arg, const redisReply *reply, const char *err)
{
	struct certsync_load	*ld = arg;	/* owned by this callback */
	const redisReply	*pem, *key;

	if (err != NULL)
		log_warnx("acme: cannot read the certificate of %s: %s",
		    ld->host, err);
	else if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 2)
		certsync_bad(ld, "unexpected reply");
	else {
		pem = reply->element[0];
		key = reply->element[1];
		if (pem->type == REDIS_REPLY_STRING &&
		    key->type == REDIS_REPLY_STRING)
			certsync_install(ld, pem->str, key->str);
		else if (ld->alpn)	/* challenge over */
			certstore_drop_alpn(ld->cy->cs, ld->host);
		else if (pem->type != REDIS_REPLY_NIL ||
		    key->type != REDIS_REPLY_NIL)
			certsync_bad(ld, "chain or key missing");
	}
	free(ld);
}

/* Read the certificate (or challenge) of <host> from Redis. */
static void
certsync_load(struct certsync *cy, const char *host, int alpn)
{
	struct certsync_load	*ld;
	char			 key[STORE_KEYLEN];

	if ((ld = calloc(1, sizeof(*ld))) == NULL)
		return;
	ld->cy = cy;
	ld->alpn = alpn;
	(void)snprintf(ld->host, sizeof(ld->host), "%s", host);
	if (store_layout_key(key, sizeof(key), cy->prefix, alpn ?
	    CERTSYNC_LAYOUT_ALPN : CERTSYNC_LAYOUT_CERT, host) == -1 ||
	    store_command(cy->w->store, certsync_on_load, ld,
	    alpn ? "HMGET %s cert key" : "HMGET %s chain key", key) == -1) {
		log_warnx("acme: cannot read the certificate of %s: redis "
		    "unavailable", host);
		free(ld);
	}
}

/* <s> (<len> bytes) as a lower-case host name into <out>; 0 or -1. */
static int
certsync_host(const char *s, size_t len, char *out, size_t size)
{
	size_t	i;

	if (len == 0 || len >= size)
		return -1;
	for (i = 0; i < len; i++)
		out[i] = s[i] >= 'A' && s[i] <= 'Z' ? (char)(s[i] - 'A' + 'a') :
		    s[i];
	out[len] = '\0';
	return tlsacme_host_ok(out) ? 0 : -1;
}

static void
certsync_on_scan(void *arg, const redisReply *reply, const char *err)
{
	struct certsync		*cy = arg;
	const redisReply	*keys;
	char			 head[STORE_KEYLEN], host[254];
	size_t			 i, hl;

	if (err != NULL || reply->type != REDIS_REPLY_ARRAY ||
	    reply->elements != 2 ||
	    reply->element[0]->type != REDIS_REPLY_STRING ||
	    (keys = reply->element[1])->type != REDIS_REPLY_ARRAY) {
		log_warnx("acme: cannot list the certificates in redis: %s",
		    err != NULL ? err : "unexpected reply");
		return;
	}
	if (store_layout_key(head, sizeof(head), cy->prefix,
	    CERTSYNC_LAYOUT_CERT, "") == -1)
		return;
	hl = strlen(head);
	for (i = 0; i < keys->elements; i++) {
		const redisReply *k = keys->element[i];

		if (k->type == REDIS_REPLY_STRING && k->len > hl &&
		    memcmp(k->str, head, hl) == 0 &&
		    certsync_host(k->str + hl, k->len - hl, host,
		    sizeof(host)) == 0)
			certsync_load(cy, host, 0);
	}
	if (strcmp(reply->element[0]->str, "0") != 0)
		certsync_scan(cy, reply->element[0]->str);
}

/* Every acme:cert:<host> key, a page at a time. */
static void
certsync_scan(struct certsync *cy, const char *cursor)
{
	char	head[STORE_KEYLEN], match[2 * STORE_KEYLEN + 2];

	/* The prefix is the operator's: its glob characters are literal. */
	if (store_layout_key(head, sizeof(head), cy->prefix,
	    CERTSYNC_LAYOUT_CERT, "") == -1 ||
	    encode_glob_prefix(head, match, sizeof(match)) == -1 ||
	    store_command(cy->w->store, certsync_on_scan, cy,
	    "SCAN %s MATCH %s COUNT " CERTSYNC_SCAN_COUNT, cursor, match) == -1)
		log_warnx("acme: cannot list the certificates in redis: "
		    "redis unavailable");
}

/* A message of acme:events, or NULL: subscribed (again), read all. */
static void
certsync_on_message(void *arg, const char *msg, size_t len)
{
	struct certsync	*cy = arg;
	const char	*sp;
	char		 host[254];

	if (msg == NULL) {
		certsync_scan(cy, "0");
		certsync_domains(cy);
		if (cy->listener != NULL)
			cy->listener(cy->listener_arg, "resync", NULL);
		return;
	}
	if ((sp = memchr(msg, ' ', len)) == NULL ||
	    certsync_host(sp + 1, len - (size_t)(sp - msg) - 1, host,
	    sizeof(host)) == -1) {
		log_debug("acme: event ignored");
		return;
	}
	if (sp - msg == 4 && memcmp(msg, "cert", 4) == 0)
		certsync_load(cy, host, 0);
	else if (sp - msg == 4 && memcmp(msg, "alpn", 4) == 0)
		certsync_load(cy, host, 1);
	else if (sp - msg == 6 && memcmp(msg, "domain", 6) == 0)
		certsync_domain(cy, host);
	else
		return;
	if (cy->listener != NULL)
		cy->listener(cy->listener_arg, sp - msg == 6 ? "domain" :
		    msg[0] == 'c' ? "cert" : "alpn", host);
}

struct certsync *
certsync_new(struct worker *w, char *err, size_t errlen)
{
	struct certsync		*cy;
	struct store_settings	 rs;
	struct config		*cfg;
	uint64_t		 gen;
	char			 chan[STORE_KEYLEN];

	if ((cy = calloc(1, sizeof(*cy))) == NULL) {
		(void)snprintf(err, errlen, "out of memory");
		return NULL;
	}
	cy->w = w;
	cy->cs = w->srv->certs;
	cfg = w->srv->ops->config(w->srv, &gen);
	config_store_settings(cfg, &rs);
	(void)snprintf(cy->prefix, sizeof(cy->prefix), "%s", rs.prefix);
	if ((cy->sub = store_new(w->base, &rs, err, errlen)) == NULL ||
	    store_layout_key(chan, sizeof(chan), cy->prefix,
	    CERTSYNC_LAYOUT_EVENTS) == -1 ||
	    store_subscribe(cy->sub, chan, certsync_on_message, cy) == -1) {
		if (cy->sub != NULL)
			(void)snprintf(err, errlen, "cannot subscribe to %s",
			    chan);
		config_unref(cfg);
		certsync_free(cy);
		return NULL;
	}
	config_unref(cfg);
	return cy;
}

void
certsync_listen(struct certsync *cy, certsync_event_fn fn, void *arg)
{
	cy->listener = fn;
	cy->listener_arg = arg;
}

int
certsync_domain_known(void *arg, const char *host, char out[254])
{
	struct domainreg_entry	e;

	if (domainreg_get(arg, host, &e) == -1)
		return -1;
	memcpy(out, e.host, sizeof(e.host));
	return 0;
}

void
certsync_free(struct certsync *cy)
{
	if (cy == NULL)
		return;
	store_free(cy->sub);
	free(cy);
}
