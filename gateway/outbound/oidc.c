/*
 * The per-worker cache of OpenID providers' discovery documents and key
 * sets (see oidc.h).  An entry per provider holds the last good document
 * and JWKS with their expiry, the callers waiting for it, and at most one
 * fetch: discovery, then the JWKS it names.  Callers are answered from a
 * per-entry event, so never from within oidc_meta_get().
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include <event2/event.h>
#include <jansson.h>

#include "confsso.h"
#include "httpc.h"
#include "jws.h"
#include "log.h"
#include "oidc.h"
#include "oidc-int.h"
#include "timeutil.h"

#define OIDC_URL_MAX	2048
#define OIDC_WELL_KNOWN	"/.well-known/openid-configuration"

enum oidc_fetch {
	OIDC_IDLE = 0,
	OIDC_FETCH_DOC,
	OIDC_FETCH_JWKS,
};

/* A caller waiting for its entry; owned by the entry's list. */
struct oidc_waiter {
	TAILQ_ENTRY(oidc_waiter) entry;
	oidc_meta_cb		 cb;
	void			*arg;
};

/* A checked discovery document. */
struct oidc_doc {
	char		*issuer;
	char		*authz;
	char		*token;
	char		*end_session;
	char		*jwks_uri;
	unsigned	 algs;
	int		 pkce_s256;
	int		 backchannel;
	char		 declared[256];
};

/*
 * One provider; owned by its oidc's list, or, once oidc_free() left it
 * with a fetch under way (o NULL), by that fetch's callback.
 */
struct oidc_entry {
	TAILQ_ENTRY(oidc_entry)	 entry;		/* most recently used first */
	struct oidc		*o;
	char			*name;		/* the key: */
	char			*issuer;
	char			*url;		/* discovery */
	char			*ca_file;	/* of the latest caller */
	uint64_t		 timeout;
	struct oidc_doc		 doc;
	int			 has_doc;
	int64_t			 doc_expires, doc_ttl;
	struct jwks		*jwks;
	int64_t			 jwks_expires, jwks_ttl;
	int64_t			 kid_fetched;	/* last unknown-kid refetch */
	enum oidc_fetch		 fetching;
	int			 delivering;
	const char		*err;		/* the last fetch's, or NULL */
	TAILQ_HEAD(, oidc_waiter) waiters;
	struct event		*deliver;
};

static int64_t
oidc_mono(void)
{
	return (int64_t)(timeutil_mono_ms() / 1000);
}

/* Seconds on a monotonic clock; the unit tests move it. */
static int64_t	(*oidc_now)(void) = oidc_mono;

/* ---- the discovery document ---- */

static void
oidc_doc_clear(struct oidc_doc *d)
{
	free(d->issuer);
	free(d->authz);
	free(d->token);
	free(d->end_session);
	free(d->jwks_uri);
	memset(d, 0, sizeof(*d));
}

/* The string member <key> of <o> if it is an endpoint httpc accepts. */
static char *
oidc_doc_url(json_t *o, const char *key)
{
	const char	*s = json_string_value(json_object_get(o, key));

	if (s == NULL || strlen(s) > OIDC_URL_MAX || !httpc_url_allowed(s))
		return NULL;
	return strdup(s);
}

/* id_token_signing_alg_values_supported: the bits, and the list shown. */
static const char *
oidc_doc_algs(json_t *o, struct oidc_doc *d)
{
	json_t		*a = json_object_get(o,
			    "id_token_signing_alg_values_supported"), *v;
	size_t		 i, off = 0;
	const char	*s;
	int		 n;

	if (a == NULL) {
		d->algs = JWS_RS256;		/* OIDC Discovery 3 */
		return NULL;
	}
	if (!json_is_array(a))
		return "oidc_json";
	json_array_foreach(a, i, v) {
		if ((s = json_string_value(v)) == NULL)
			return "oidc_json";
		d->algs |= jws_alg_bit(s);
		n = snprintf(d->declared + off, sizeof(d->declared) - off,
		    "%s%.32s", off > 0 ? " " : "", s);
		if (n > 0 && (size_t)n < sizeof(d->declared) - off)
			off += (size_t)n;
	}
	return d->algs != 0 ? NULL : "oidc_alg";
}

/* code_challenge_methods_supported has S256 (absent: assumed). */
static int
oidc_doc_pkce(json_t *o)
{
	json_t		*a = json_object_get(o,
			    "code_challenge_methods_supported"), *v;
	size_t		 i;
	const char	*s;

	if (a == NULL)
		return 1;
	json_array_foreach(a, i, v)
		if ((s = json_string_value(v)) != NULL && strcmp(s, "S256") == 0)
			return 1;
	return 0;
}

/* The issuer and what may be absent: NULL, or a reason code. */
static const char *
oidc_doc_optional(json_t *o, struct oidc_doc *d, const char *iss)
{
	d->end_session = oidc_doc_url(o, "end_session_endpoint");
	d->pkce_s256 = oidc_doc_pkce(o);
	d->backchannel = json_is_true(json_object_get(o,
	    "backchannel_logout_supported"));
	return (d->issuer = strdup(iss)) == NULL ? "nomem" : NULL;
}

/*
 * Check and keep the discovery document <body> (<len> bytes) of the
 * provider whose issuer is <issuer>: NULL with <d> filled, or a reason
 * code with <d> cleared.
 */
static const char *
oidc_doc_parse(const char *body, size_t len, const char *issuer,
    struct oidc_doc *d)
{
	json_t		*o;
	const char	*iss, *reason = NULL;

	memset(d, 0, sizeof(*d));
	if (len > OIDC_MAX_DOC || (o = json_loadb(body, len,
	    JSON_REJECT_DUPLICATES, NULL)) == NULL)
		return "oidc_json";
	if (!json_is_object(o))
		reason = "oidc_json";
	else if ((iss = json_string_value(json_object_get(o, "issuer"))) ==
	    NULL || strcmp(iss, issuer) != 0)
		reason = "oidc_issuer";
	else if ((d->authz = oidc_doc_url(o, "authorization_endpoint")) ==
	    NULL || (d->token = oidc_doc_url(o, "token_endpoint")) == NULL ||
	    (d->jwks_uri = oidc_doc_url(o, "jwks_uri")) == NULL)
		reason = "oidc_endpoint";
	else if ((reason = oidc_doc_algs(o, d)) == NULL)
		reason = oidc_doc_optional(o, d, iss);
	json_decref(o);
	if (reason != NULL)
		oidc_doc_clear(d);
	return reason;
}

/* The seconds an answer with <max_age> (httpc_resp) is kept. */
static int64_t
oidc_ttl(int64_t max_age)
{
	if (max_age < 0)
		return OIDC_TTL_DEFAULT;
	if (max_age < OIDC_TTL_MIN)
		return OIDC_TTL_MIN;
	return max_age > OIDC_TTL_MAX ? OIDC_TTL_MAX : max_age;
}

/* The discovery URL of <p>: its own, or the issuer's well-known one. */
static char *
oidc_discovery_url(const struct config_sso_provider *p)
{
	size_t	 n;
	char	*url;

	if (p->discovery_url != NULL)
		return strdup(p->discovery_url);
	n = strlen(p->issuer);
	if (n > 0 && p->issuer[n - 1] == '/')
		n--;
	if (asprintf(&url, "%.*s" OIDC_WELL_KNOWN, (int)n, p->issuer) == -1)
		return NULL;
	return url;
}

/* ---- entries ---- */

static void	oidc_on_deliver(evutil_socket_t, short, void *);

static void
oidc_entry_free(struct oidc_entry *e)
{
	if (e->deliver != NULL)
		event_free(e->deliver);
	oidc_doc_clear(&e->doc);
	jwks_unref(e->jwks);
	free(e->name);
	free(e->issuer);
	free(e->url);
	free(e->ca_file);
	free(e);
}

static struct oidc_entry *
oidc_entry_new(struct oidc *o, const struct config_sso_provider *p,
    char *url)
{
	struct oidc_entry	*e;

	if ((e = calloc(1, sizeof(*e))) == NULL) {
		free(url);
		return NULL;
	}
	e->o = o;
	e->url = url;
	e->kid_fetched = INT64_MIN / 2;
	TAILQ_INIT(&e->waiters);
	if ((e->name = strdup(p->name)) == NULL ||
	    (e->issuer = strdup(p->issuer)) == NULL ||
	    (e->deliver = event_new(o->base, -1, 0, oidc_on_deliver, e)) ==
	    NULL) {
		oidc_entry_free(e);
		return NULL;
	}
	return e;
}

static int
oidc_entry_busy(const struct oidc_entry *e)
{
	return e->fetching != OIDC_IDLE || e->delivering ||
	    !TAILQ_EMPTY(&e->waiters);
}

/* Room for one more entry: the least recently used idle one goes. */
static int
oidc_evict(struct oidc *o)
{
	struct oidc_entry	*e;

	if (o->n < OIDC_ENTRIES_MAX)
		return 0;
	TAILQ_FOREACH_REVERSE(e, &o->entries, oidc_entries, entry)
		if (!oidc_entry_busy(e)) {
			TAILQ_REMOVE(&o->entries, e, entry);
			o->n--;
			oidc_entry_free(e);
			return 0;
		}
	return -1;
}

/* The entry of <p>, made if there is none; most recently used. */
static struct oidc_entry *
oidc_entry_get(struct oidc *o, const struct config_sso_provider *p)
{
	struct oidc_entry	*e;
	char			*url;

	if ((url = oidc_discovery_url(p)) == NULL)
		return NULL;
	TAILQ_FOREACH(e, &o->entries, entry)
		if (strcmp(e->name, p->name) == 0 &&
		    strcmp(e->issuer, p->issuer) == 0 &&
		    strcmp(e->url, url) == 0)
			break;
	if (e != NULL) {
		free(url);
		TAILQ_REMOVE(&o->entries, e, entry);
	} else if (oidc_evict(o) == -1) {
		free(url);
		return NULL;
	} else if ((e = oidc_entry_new(o, p, url)) == NULL)
		return NULL;
	else
		o->n++;
	TAILQ_INSERT_HEAD(&o->entries, e, entry);
	return e;
}

/* How the entry's <ca_file> and <timeout> follow the latest caller. */
static int
oidc_entry_transport(struct oidc_entry *e,
    const struct config_sso_provider *p)
{
	char	*ca = NULL;

	if (p->ca_file != NULL && (ca = strdup(p->ca_file)) == NULL)
		return -1;
	free(e->ca_file);
	e->ca_file = ca;
	e->timeout = p->timeout;
	return 0;
}

static int
oidc_doc_usable(const struct oidc_entry *e, int64_t now)
{
	return e->has_doc && now < e->doc_expires + OIDC_STALE_MAX;
}

static int
oidc_jwks_usable(const struct oidc_entry *e, int64_t now)
{
	return e->jwks != NULL && now < e->jwks_expires + OIDC_STALE_MAX;
}

/* ---- answering ---- */

static void
oidc_meta_fill(const struct oidc_entry *e, int64_t now, struct oidc_meta *m)
{
	memset(m, 0, sizeof(*m));
	m->issuer = e->doc.issuer;
	m->authorization_endpoint = e->doc.authz;
	m->token_endpoint = e->doc.token;
	m->end_session_endpoint = e->doc.end_session;
	m->algs = e->doc.algs;
	m->pkce_s256 = e->doc.pkce_s256;
	m->backchannel_logout = e->doc.backchannel;
	m->jwks = e->jwks;
	m->jwks_uri = e->doc.jwks_uri;
	m->algs_declared = e->doc.declared;
	m->meta_ttl = e->doc_ttl;
	m->jwks_ttl = e->jwks_ttl;
	m->stale = now >= e->doc_expires || now >= e->jwks_expires;
}

/*
 * Answer every waiter of <e> (from its event), or with <reason> when
 * it is not NULL (oidc_free()).
 */
static void
oidc_deliver(struct oidc_entry *e, const char *reason)
{
	TAILQ_HEAD(, oidc_waiter) list;
	struct oidc_waiter	*w;
	struct oidc_meta	 m;
	const char		*err = reason;
	int64_t			 now = oidc_now();

	TAILQ_INIT(&list);
	TAILQ_CONCAT(&list, &e->waiters, entry);
	if (err == NULL && e->err != NULL &&
	    strcmp(e->err, "httpc_freed") == 0)
		err = e->err;			/* shutting down */
	if (err == NULL && (!oidc_doc_usable(e, now) ||
	    !oidc_jwks_usable(e, now)))
		err = e->err != NULL ? e->err : "oidc_jwks";
	if (err == NULL)
		oidc_meta_fill(e, now, &m);
	e->delivering = 1;
	while ((w = TAILQ_FIRST(&list)) != NULL) {
		TAILQ_REMOVE(&list, w, entry);
		w->cb(w->arg, err == NULL ? &m : NULL, err);
		free(w);
	}
	e->delivering = 0;
}

static void
oidc_on_deliver(evutil_socket_t fd, short ev, void *arg)
{
	struct oidc_entry	*e = arg;

	(void)fd;
	(void)ev;
	if (e->fetching == OIDC_IDLE)
		oidc_deliver(e, NULL);
}

static void
oidc_schedule(struct oidc_entry *e)
{
	event_active(e->deliver, EV_TIMEOUT, 1);
}

/* ---- fetching ---- */

static void	oidc_on_doc(void *, const struct httpc_resp *, const char *);
static void	oidc_on_jwks(void *, const struct httpc_resp *, const char *);

static int
oidc_get(struct oidc_entry *e, const char *url, httpc_cb cb)
{
	struct httpc_req	r;
	const char		*hdrs[] = { "Accept: application/json", NULL };

	memset(&r, 0, sizeof(r));
	r.method = "GET";
	r.url = url;
	r.headers = hdrs;
	r.ca_file = e->ca_file;
	r.timeout = e->timeout;
	r.max_body = OIDC_MAX_DOC;
	return httpc_start(e->o->h, &r, cb, e);
}

/*
 * The fetch ended (<reason> NULL: well); answer the waiters.  A failure is
 * logged once, with <detail> (or NULL) saying more.
 */
static void
oidc_fetched(struct oidc_entry *e, const char *reason, const char *url,
    const char *detail)
{
	int64_t	now = oidc_now();

	e->fetching = OIDC_IDLE;
	e->err = reason;
	if (reason != NULL)
		log_event(LOG_LEVEL_WARN, "sso_fetch", "provider", e->name,
		    "url", url, "reason", reason, "outcome",
		    oidc_doc_usable(e, now) && oidc_jwks_usable(e, now) ?
		    "stale" : "failed", "detail", detail, NULL);
	oidc_schedule(e);
}

static void
oidc_fetch_jwks(struct oidc_entry *e)
{
	e->fetching = OIDC_FETCH_JWKS;
	if (oidc_get(e, e->doc.jwks_uri, oidc_on_jwks) == -1)
		oidc_fetched(e, "nomem", e->doc.jwks_uri, NULL);
}

/*
 * A caller's <kid> that the cached JWKS lacks makes it due now, once per
 * OIDC_KID_EVERY: also while the discovery document is being fetched (the
 * JWKS is then fetched after it).
 */
static void
oidc_kid_check(struct oidc_entry *e, const char *kid)
{
	int64_t	now = oidc_now();

	if (kid == NULL || e->jwks == NULL || e->fetching == OIDC_FETCH_JWKS ||
	    jwks_has_kid(e->jwks, kid) || now - e->kid_fetched <
	    OIDC_KID_EVERY)
		return;
	e->kid_fetched = now;
	if (e->jwks_expires > now)
		e->jwks_expires = now;		/* refetch it */
}

/*
 * Start what <e> needs: the discovery document when it is not fresh, the
 * JWKS when it is not fresh, or nothing (the waiters are answered).
 */
static void
oidc_fetch(struct oidc_entry *e)
{
	int64_t	now = oidc_now();
	int	jwks_fresh = e->jwks != NULL && now < e->jwks_expires;

	if (!e->has_doc || now >= e->doc_expires) {
		e->fetching = OIDC_FETCH_DOC;
		if (oidc_get(e, e->url, oidc_on_doc) == -1)
			oidc_fetched(e, "oidc_url", e->url, NULL);
	} else if (!jwks_fresh)
		oidc_fetch_jwks(e);
	else
		oidc_schedule(e);
}

/* Answered after oidc_free(): only the entry is left to free. */
static int
oidc_orphan(struct oidc_entry *e)
{
	if (e->o != NULL)
		return 0;
	oidc_entry_free(e);
	return 1;
}

/*
 * For an operator: the issuer a refused document names, into <out>
 * (<size> bytes; "" when there is nothing to say).
 */
static void
oidc_doc_issuer(const struct httpc_resp *resp, const char *reason,
    char *out, size_t size)
{
	json_t		*o;
	const char	*iss;

	out[0] = '\0';
	if (resp == NULL || strcmp(reason, "oidc_issuer") != 0 ||
	    (o = json_loadb(resp->body, resp->len, 0, NULL)) == NULL)
		return;
	if ((iss = json_string_value(json_object_get(o, "issuer"))) != NULL)
		(void)snprintf(out, size, "the document's issuer is '%.200s'",
		    iss);
	else
		(void)snprintf(out, size, "the document has no issuer");
	json_decref(o);
}

static void
oidc_on_doc(void *arg, const struct httpc_resp *resp, const char *err)
{
	struct oidc_entry	*e = arg;
	struct oidc_doc		 d;
	const char		*reason = err;
	int64_t			 now = oidc_now();
	int			 moved;
	char			 why[300];

	if (oidc_orphan(e))
		return;
	if (reason == NULL && resp->status != 200)
		reason = "oidc_status";
	if (reason == NULL)
		reason = oidc_doc_parse(resp->body, resp->len, e->issuer, &d);
	if (reason != NULL) {
		oidc_doc_issuer(resp, reason, why, sizeof(why));
		oidc_fetched(e, reason, e->url, why[0] != '\0' ? why : NULL);
		return;
	}
	moved = !e->has_doc || strcmp(e->doc.jwks_uri, d.jwks_uri) != 0;
	oidc_doc_clear(&e->doc);
	e->doc = d;
	e->has_doc = 1;
	e->doc_ttl = oidc_ttl(resp->max_age);
	e->doc_expires = now + e->doc_ttl;
	if (moved) {			/* keys of another URL: not served */
		jwks_unref(e->jwks);
		e->jwks = NULL;
	}
	if (e->jwks == NULL || now >= e->jwks_expires)
		oidc_fetch_jwks(e);
	else
		oidc_fetched(e, NULL, NULL, NULL);
}

static void
oidc_on_jwks(void *arg, const struct httpc_resp *resp, const char *err)
{
	struct oidc_entry	*e = arg;
	struct jwks		*set = NULL;
	const char		*reason = err;
	char			 why[128];

	if (oidc_orphan(e))
		return;
	if (reason == NULL && resp->status != 200)
		reason = "oidc_status";
	why[0] = '\0';
	if (reason == NULL && (set = jwks_parse(resp->body, resp->len, why,
	    sizeof(why))) == NULL)
		reason = "oidc_jwks";
	if (reason != NULL) {
		oidc_fetched(e, reason, e->doc.jwks_uri, why[0] != '\0' ? why :
		    NULL);
		return;
	}
	jwks_unref(e->jwks);
	e->jwks = set;
	e->jwks_ttl = oidc_ttl(resp->max_age);
	e->jwks_expires = oidc_now() + e->jwks_ttl;
	oidc_fetched(e, NULL, NULL, NULL);
}

int
oidc_meta_get(struct oidc *o, const struct config_sso_provider *p,
    const char *kid, oidc_meta_cb cb, void *arg)
{
	struct oidc_entry	*e;
	struct oidc_waiter	*w;

	if (o->freeing || (w = calloc(1, sizeof(*w))) == NULL)
		return -1;
	if ((e = oidc_entry_get(o, p)) == NULL || (e->fetching == OIDC_IDLE &&
	    oidc_entry_transport(e, p) == -1)) {
		free(w);
		return -1;
	}
	w->cb = cb;
	w->arg = arg;
	TAILQ_INSERT_TAIL(&e->waiters, w, entry);
	oidc_kid_check(e, kid);
	if (e->fetching == OIDC_IDLE)	/* else: its answer is theirs too */
		oidc_fetch(e);
	return 0;
}

/* ---- the cache ---- */

struct oidc *
oidc_new(struct httpc *h)
{
	struct oidc	*o;

	if ((o = calloc(1, sizeof(*o))) == NULL)
		return NULL;
	o->h = h;
	o->base = httpc_base(h);
	TAILQ_INIT(&o->entries);
	TAILQ_INIT(&o->treqs);
	return o;
}

void
oidc_free(struct oidc *o)
{
	struct oidc_entry	*e;

	if (o == NULL)
		return;
	o->freeing = 1;
	while ((e = TAILQ_FIRST(&o->entries)) != NULL) {
		TAILQ_REMOVE(&o->entries, e, entry);
		oidc_deliver(e, "oidc_freed");
		if (e->fetching != OIDC_IDLE) {
			event_del(e->deliver);
			e->o = NULL;		/* its fetch frees it */
		} else
			oidc_entry_free(e);
	}
	oidc_token_drop(o);
	free(o);
}
