/*
 * Webhook delivery (see webhook.h).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <time.h>

#include <event2/event.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "config.h"
#include "curlev.h"
#include "encode.h"
#include "log.h"
#include "metrics.h"
#include "timeutil.h"
#include "webhook.h"

#define WEBHOOK_QUEUE		1000	/* per worker */
#define WEBHOOK_PARALLEL	8
#define WEBHOOK_BACKOFF_MAX	(5 * 60 * 1000)	/* ms */

/* One delivery; owned by its webhooks (list). */
struct delivery {
	TAILQ_ENTRY(delivery)	 entry;
	struct webhooks		*wh;
	struct config		*cfg;		/* its endpoint lives here */
	const struct config_webhook *ep;
	char			*body;
	unsigned int		 attempts;
	CURL			*easy;
	struct curl_slist	*headers;
	struct event		*retry;
	const char		*refused;	/* SSRF guard's reason */
};

struct webhooks {
	struct event_base	*base;
	struct metrics		*metrics;
	struct curlev		*cv;
	TAILQ_HEAD(, delivery)	 all;
	size_t			 n;
	size_t			 running;
};

/* ---- addresses ---- */

static int
webhook_in(const unsigned char *a, const unsigned char *net, unsigned int bits)
{
	unsigned int	full = bits / 8;

	if (memcmp(a, net, full) != 0)
		return 0;
	return bits % 8 == 0 || ((a[full] ^ net[full]) &
	    (0xff << (8 - bits % 8)) & 0xff) == 0;
}

static const char *
webhook_v4_class(const unsigned char *a)
{
	static const struct {
		unsigned char	 net[4];
		unsigned int	 bits;
		const char	*why;
	} r[] = {
		{ { 0, 0, 0, 0 }, 8, "reserved" },		/* "this" */
		{ { 10, 0, 0, 0 }, 8, "private" },
		{ { 100, 64, 0, 0 }, 10, "cgnat" },
		{ { 127, 0, 0, 0 }, 8, "loopback" },
		{ { 169, 254, 0, 0 }, 16, "link_local" },
		{ { 172, 16, 0, 0 }, 12, "private" },
		{ { 192, 0, 0, 0 }, 24, "reserved" },		/* IETF */
		{ { 192, 0, 2, 0 }, 24, "reserved" },		/* TEST-NET */
		{ { 192, 168, 0, 0 }, 16, "private" },
		{ { 198, 18, 0, 0 }, 15, "reserved" },		/* benchmark */
		{ { 198, 51, 100, 0 }, 24, "reserved" },
		{ { 203, 0, 113, 0 }, 24, "reserved" },
		{ { 224, 0, 0, 0 }, 4, "multicast" },
		{ { 240, 0, 0, 0 }, 4, "reserved" },	/* and broadcast */
	};
	size_t	i;

	for (i = 0; i < sizeof(r) / sizeof(r[0]); i++)
		if (webhook_in(a, r[i].net, r[i].bits))
			return r[i].why;
	return NULL;
}

const char *
webhook_addr_class(const struct sockaddr *sa)
{
	static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0,
	    0, 0xff, 0xff };
	static const unsigned char nat64[12] = { 0, 0x64, 0xff, 0x9b };
	const unsigned char *a;
	unsigned char	 zero[16] = { 0 };

	if (sa->sa_family == AF_INET)
		return webhook_v4_class((const unsigned char *)
		    &((const struct sockaddr_in *)(const void *)sa)->sin_addr);
	if (sa->sa_family != AF_INET6)
		return "reserved";
	a = ((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr.s6_addr;
	if (memcmp(a, zero, 15) == 0)
		return a[15] == 1 ? "loopback" : "reserved";	/* ::1, :: */
	if (memcmp(a, mapped, 12) == 0 || memcmp(a, zero, 12) == 0 ||
	    memcmp(a, nat64, 12) == 0)			/* v4 inside v6 */
		return webhook_v4_class(a + 12) != NULL ?
		    webhook_v4_class(a + 12) : NULL;
	if ((a[0] & 0xfe) == 0xfc)
		return "unique_local";			/* fc00::/7 */
	if (a[0] == 0xfe && (a[1] & 0xc0) == 0x80)
		return "link_local";			/* fe80::/10 */
	if (a[0] == 0xfe && (a[1] & 0xc0) == 0xc0)
		return "reserved";			/* fec0::/10 */
	if (a[0] == 0xff)
		return "multicast";
	if (a[0] == 0x20 && a[1] == 0x01 && a[2] == 0x0d && a[3] == 0xb8)
		return "reserved";			/* 2001:db8::/32 */
	return NULL;
}

int
webhook_addr_allowed(const struct sockaddr *sa, const struct config_cidr *c,
    size_t n)
{
	const unsigned char *a;
	size_t		 i;
	int		 fam = sa->sa_family;

	if (fam == AF_INET)
		a = (const unsigned char *)
		    &((const struct sockaddr_in *)(const void *)sa)->sin_addr;
	else if (fam == AF_INET6)
		a = ((const struct sockaddr_in6 *)(const void *)sa)->
		    sin6_addr.s6_addr;
	else
		return 0;
	for (i = 0; i < n; i++)
		if (c[i].family == fam && webhook_in(a, c[i].addr, c[i].bits))
			return 1;
	return 0;
}

/* CURLOPT_OPENSOCKETFUNCTION: the address libcurl is about to use. */
static curl_socket_t
webhook_on_opensocket(void *arg, curlsocktype purpose,
    struct curl_sockaddr *addr)
{
	struct delivery	*d = arg;
	const char	*why;

	if (purpose != CURLSOCKTYPE_IPCXN)
		return CURL_SOCKET_BAD;
	why = webhook_addr_class(&addr->addr);
	if (why != NULL && !webhook_addr_allowed(&addr->addr, d->ep->allow,
	    d->ep->nallow)) {
		d->refused = why;	/* nothing is connected */
		return CURL_SOCKET_BAD;
	}
	return socket(addr->family, addr->socktype, addr->protocol);
}

/* ---- signing ---- */

void
webhook_signature(const unsigned char *secret, size_t len, int64_t t,
    const char *body, char *out, size_t size)
{
	unsigned char	 md[EVP_MAX_MD_SIZE];
	unsigned int	 mdlen = 0;
	char		 hex[EVP_MAX_MD_SIZE * 2 + 1], *msg;
	int		 n;

	hex[0] = '\0';
	if ((n = asprintf(&msg, "%" PRId64 ".%s", t, body)) != -1) {
		if (HMAC(EVP_sha256(), secret, (int)len,
		    (const unsigned char *)msg, (size_t)n, md, &mdlen) != NULL)
			encode_hex(md, mdlen, hex);
		free(msg);
	}
	(void)snprintf(out, size, "t=%" PRId64 ",v1=%s", t, hex);
}

/* ---- delivery ---- */

static void	webhook_pump(struct webhooks *);

static void
webhook_free_delivery(struct delivery *d)
{
	struct webhooks	*wh = d->wh;

	TAILQ_REMOVE(&wh->all, d, entry);
	wh->n--;
	atomic_store_explicit(&wh->metrics->webhook_queue, wh->n,
	    memory_order_relaxed);
	if (d->easy != NULL) {
		curlev_remove(wh->cv, d->easy);
		curl_easy_cleanup(d->easy);
		wh->running--;
	}
	curl_slist_free_all(d->headers);
	if (d->retry != NULL)
		event_free(d->retry);
	config_unref(d->cfg);
	free(d->body);
	free(d);
}

static void
webhook_log(const struct delivery *d, const char *outcome, const char *why,
    long status)
{
	char	s[16];

	(void)snprintf(s, sizeof(s), "%ld", status);
	log_event(LOG_LEVEL_INFO, "webhook", "outcome", outcome, "url",
	    d->ep->url, "reason", why, "status", s, NULL);
}

static size_t
webhook_on_data(char *p, size_t size, size_t n, void *arg)
{
	(void)p;
	(void)arg;
	return size * n;		/* the answer's body is not kept */
}

static int
webhook_start(struct delivery *d)
{
	const struct config_webhook *ep = d->ep;
	char		 sig[200], hdr[256];
	CURL		*e;

	curl_slist_free_all(d->headers);
	webhook_signature(ep->secret, ep->secretlen, (int64_t)time(NULL),
	    d->body, sig, sizeof(sig));
	(void)snprintf(hdr, sizeof(hdr), "X-Postern-Signature: %s", sig);
	d->headers = curl_slist_append(NULL, "Content-Type: application/json");
	d->headers = d->headers != NULL ? curl_slist_append(d->headers, hdr) :
	    NULL;
	if (d->headers == NULL || (e = curl_easy_init()) == NULL)
		return -1;
	d->refused = NULL;
	if (curl_easy_setopt(e, CURLOPT_URL, ep->url) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, ep->allow_http ?
	    "http,https" : "https") != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_NOPROXY, "*") != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)ep->timeout) !=
	    CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_POSTFIELDS, d->body) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_HTTPHEADER, d->headers) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_USERAGENT, "Postern-Webhook/1") !=
	    CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, webhook_on_data) !=
	    CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION,
	    webhook_on_opensocket) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, d) != CURLE_OK ||
	    (ep->ca_file != NULL && curl_easy_setopt(e, CURLOPT_CAINFO,
	    ep->ca_file) != CURLE_OK) ||
	    curl_easy_setopt(e, CURLOPT_PRIVATE, d) != CURLE_OK ||
	    curlev_add(d->wh->cv, e) == -1) {
		curl_easy_cleanup(e);
		return -1;
	}
	d->easy = e;
	d->attempts++;
	d->wh->running++;
	return 0;
}

static void
webhook_on_retry(evutil_socket_t fd, short ev, void *arg)
{
	struct delivery	*d = arg;

	(void)fd;
	(void)ev;
	event_free(d->retry);
	d->retry = NULL;
	webhook_pump(d->wh);
}

/* Failed: try again later, or give up after the endpoint's retries. */
static void
webhook_again(struct delivery *d, const char *why, long status)
{
	struct timeval	tv;
	uint64_t	ms;
	uint32_t	r = 0;

	if (d->attempts > d->ep->retries) {
		metrics_inc(&d->wh->metrics->webhook_failed);
		webhook_log(d, "failed", why, status);
		webhook_free_delivery(d);
		return;
	}
	metrics_inc(&d->wh->metrics->webhook_retries);
	webhook_log(d, "retry", why, status);
	ms = d->ep->backoff << (d->attempts - 1 < 20 ? d->attempts - 1 : 20);
	if (ms > WEBHOOK_BACKOFF_MAX)
		ms = WEBHOOK_BACKOFF_MAX;
	(void)RAND_bytes((unsigned char *)&r, sizeof(r));
	ms = ms / 2 + (ms > 1 ? r % (ms / 2 + 1) : 0);	/* jitter */
	if ((d->retry = evtimer_new(d->wh->base, webhook_on_retry, d)) ==
	    NULL || evtimer_add(d->retry, timeutil_timeout(&tv, ms)) == -1) {
		webhook_log(d, "failed", "nomem", status);
		webhook_free_delivery(d);
	}
}

static void
webhook_on_transfer(void *arg, CURL *e, CURLcode code)
{
	struct webhooks	*wh = arg;
	struct delivery	*d;
	char		*priv = NULL;
	long		 status = 0;

	(void)curl_easy_getinfo(e, CURLINFO_PRIVATE, &priv);
	(void)curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
	d = (struct delivery *)(void *)priv;
	curl_easy_cleanup(e);
	d->easy = NULL;
	wh->running--;
	if (d->refused != NULL) {	/* the SSRF guard: never retried */
		metrics_inc(&wh->metrics->webhook_failed);
		webhook_log(d, "refused", d->refused, 0);
		webhook_free_delivery(d);
	} else if (code != CURLE_OK)
		webhook_again(d, curl_easy_strerror(code), 0);
	else if (status >= 200 && status < 300) {
		metrics_inc(&wh->metrics->webhook_delivered);
		webhook_log(d, "delivered", "ok", status);
		webhook_free_delivery(d);
	} else if (status == 429 || status >= 500)
		webhook_again(d, "server", status);
	else {				/* 3xx (not followed), 4xx */
		metrics_inc(&wh->metrics->webhook_failed);
		webhook_log(d, "failed", status >= 300 && status < 400 ?
		    "redirect" : "rejected", status);
		webhook_free_delivery(d);
	}
	webhook_pump(wh);
}

/* Start what waits, within the parallel limit. */
static void
webhook_pump(struct webhooks *wh)
{
	struct delivery	*d, *next;

	for (d = TAILQ_FIRST(&wh->all); d != NULL &&
	    wh->running < WEBHOOK_PARALLEL; d = next) {
		next = TAILQ_NEXT(d, entry);
		if (d->easy != NULL || d->retry != NULL)
			continue;
		if (webhook_start(d) == -1) {
			webhook_log(d, "failed", "nomem", 0);
			webhook_free_delivery(d);
		}
	}
}

static int
webhook_wants(const struct config_webhook *ep, const char *action)
{
	return config_names_has(&ep->events, "*") ||
	    config_names_has(&ep->events, action);
}

void
webhook_dispatch(struct webhooks *wh, struct config *cfg,
    const char *action, const char *json)
{
	struct delivery	*d = NULL;
	size_t		 i;

	for (i = 0; wh != NULL && i < cfg->nwebhooks; i++) {
		if (!webhook_wants(&cfg->webhooks[i], action))
			continue;
		d = NULL;
		if (wh->n >= WEBHOOK_QUEUE || (d = calloc(1, sizeof(*d))) ==
		    NULL || (d->body = strdup(json)) == NULL) {
			free(d);
			metrics_inc(&wh->metrics->webhook_failed);
			log_event(LOG_LEVEL_WARN, "webhook", "outcome",
			    "dropped", "url", cfg->webhooks[i].url, "reason",
			    "queue_full", NULL);
			continue;
		}
		d->wh = wh;
		d->cfg = config_ref(cfg);
		d->ep = &cfg->webhooks[i];
		TAILQ_INSERT_TAIL(&wh->all, d, entry);
		wh->n++;
		atomic_store_explicit(&wh->metrics->webhook_queue, wh->n,
		    memory_order_relaxed);
	}
	if (wh != NULL)
		webhook_pump(wh);
}

struct webhooks *
webhooks_new(struct event_base *base, struct metrics *m)
{
	struct webhooks	*wh;

	if ((wh = calloc(1, sizeof(*wh))) == NULL)
		return NULL;
	wh->base = base;
	wh->metrics = m;
	TAILQ_INIT(&wh->all);
	if ((wh->cv = curlev_new(base, webhook_on_transfer, wh)) == NULL) {
		free(wh);
		return NULL;
	}
	return wh;
}

void
webhooks_free(struct webhooks *wh)
{
	struct delivery	*d;
	size_t		 n = 0;

	if (wh == NULL)
		return;
	while ((d = TAILQ_FIRST(&wh->all)) != NULL) {
		webhook_free_delivery(d);
		n++;
	}
	if (n > 0)
		log_warnx("webhooks: %zu deliveries dropped at shutdown", n);
	curlev_free(wh->cv);
	free(wh);
}
