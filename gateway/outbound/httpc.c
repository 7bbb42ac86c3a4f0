/*
 * The identity providers' HTTP client (see httpc.h): one easy handle per
 * request on a curlev multi handle, the answer collected into a bounded
 * buffer and its cache headers read on the way.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <time.h>

#include <openssl/crypto.h>

#include "curlev.h"
#include "httpc.h"
#include "webhook.h"

#define HTTPC_TIMEOUT	10000		/* ms, when the request says 0 */
#define HTTPC_AGE_MAX	(INT64_C(1) << 40)	/* seconds; bounds parsing */

/* What the answer's headers say about caching it. */
struct httpc_cache {
	int64_t		 max_age;	/* Cache-Control max-age, -1 none */
	int		 no_store;	/* no-store or no-cache */
	int		 has_expires;
	int64_t		 expires;	/* -1: invalid (in the past) */
	int		 has_date;
	int64_t		 date;
};

/* One request; owned by its httpc's list until its callback has run. */
struct httpc_xfer {
	TAILQ_ENTRY(httpc_xfer)	 entry;
	struct httpc		*h;
	CURL			*easy;
	struct curl_slist	*headers;
	char			*reqbody;	/* our copy, wiped */
	size_t			 reqlen;
	char			*buf;		/* the answer, wiped */
	size_t			 len, cap, max;
	int			 too_large;
	int			 loopback_only;	/* http: connect to loopback */
	struct httpc_cache	 cache;
	httpc_cb		 cb;
	void			*arg;
};

struct httpc {
	struct event_base	*base;
	struct curlev		*cv;
	TAILQ_HEAD(, httpc_xfer) xfers;
	int			 freeing;
};

/* ---- cache headers ---- */

static void
httpc_cache_init(struct httpc_cache *c)
{
	memset(c, 0, sizeof(*c));
	c->max_age = -1;
}

/* Seconds at <s> (<len> bytes, digits, optionally quoted); -1 if none. */
static int64_t
httpc_seconds(const char *s, size_t len)
{
	int64_t	v = 0;
	size_t	i;

	if (len >= 2 && s[0] == '"' && s[len - 1] == '"') {
		s++;
		len -= 2;
	}
	if (len == 0)
		return -1;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		if (v < HTTPC_AGE_MAX)
			v = v * 10 + (s[i] - '0');
	}
	return v < HTTPC_AGE_MAX ? v : HTTPC_AGE_MAX;
}

/* One Cache-Control directive, <len> bytes at <d>, spaces trimmed. */
static void
httpc_cache_directive(struct httpc_cache *c, const char *d, size_t len)
{
	static const char maxage[] = "max-age=";
	int64_t		  v;

	if ((len == 8 && strncasecmp(d, "no-store", 8) == 0) ||
	    (len == 8 && strncasecmp(d, "no-cache", 8) == 0))
		c->no_store = 1;
	else if (len >= sizeof(maxage) - 1 && strncasecmp(d, maxage,
	    sizeof(maxage) - 1) == 0) {
		v = httpc_seconds(d + sizeof(maxage) - 1,
		    len - (sizeof(maxage) - 1));
		if (v == -1)			/* malformed: do not cache */
			c->no_store = 1;
		else if (c->max_age == -1 || v < c->max_age)
			c->max_age = v;		/* twice: the smaller */
	}
	/* private, public, must-revalidate, s-maxage...: no bearing here */
}

/* A Cache-Control value <v> (<len> bytes): its comma-separated list. */
static void
httpc_cache_control(struct httpc_cache *c, const char *v, size_t len)
{
	size_t	i = 0, start, end;

	while (i < len) {
		while (i < len && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
			i++;
		start = i;
		while (i < len && v[i] != ',')
			i++;
		end = i;
		while (end > start && (v[end - 1] == ' ' || v[end - 1] == '\t'))
			end--;
		if (end > start)
			httpc_cache_directive(c, v + start, end - start);
	}
}

/* An HTTP date (<len> bytes at <v>), or -1 if it is not one. */
static int64_t
httpc_date(const char *v, size_t len)
{
	char	buf[64];
	time_t	t;

	if (len == 0 || len >= sizeof(buf))
		return -1;
	memcpy(buf, v, len);
	buf[len] = '\0';
	t = curl_getdate(buf, NULL);
	return t == (time_t)-1 ? -1 : (int64_t)t;
}

/*
 * One header line <line> (<len> bytes, CRLF included) of the answer.  A
 * status line starts a new answer (after a 1xx): what came before is
 * forgotten.
 */
static void
httpc_cache_header(struct httpc_cache *c, const char *line, size_t len)
{
	const char	*v;
	size_t		 n, vlen;

	while (len > 0 && (line[len - 1] == '\r' || line[len - 1] == '\n'))
		len--;
	if (len >= 5 && strncmp(line, "HTTP/", 5) == 0) {
		httpc_cache_init(c);
		return;
	}
	if ((v = memchr(line, ':', len)) == NULL)
		return;
	n = (size_t)(v - line);
	v++;
	vlen = len - n - 1;
	while (vlen > 0 && (*v == ' ' || *v == '\t')) {
		v++;
		vlen--;
	}
	while (vlen > 0 && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
		vlen--;
	if (n == 13 && strncasecmp(line, "Cache-Control", 13) == 0)
		httpc_cache_control(c, v, vlen);
	else if (n == 7 && strncasecmp(line, "Expires", 7) == 0) {
		c->has_expires = 1;
		c->expires = httpc_date(v, vlen);
	} else if (n == 4 && strncasecmp(line, "Date", 4) == 0) {
		c->date = httpc_date(v, vlen);
		c->has_date = c->date != -1;
	}
}

/*
 * Seconds the answer may be cached, -1 if the headers do not say:
 * no-store and no-cache are 0, then max-age, then Expires less Date (or
 * less <now> without a valid Date); an invalid Expires (such as "0") is in
 * the past (RFC 9111 5.3).
 */
static int64_t
httpc_cache_max_age(const struct httpc_cache *c, int64_t now)
{
	int64_t	base;

	if (c->no_store)
		return 0;
	if (c->max_age != -1)
		return c->max_age;
	if (!c->has_expires)
		return -1;
	if (c->expires == -1)
		return 0;
	base = c->has_date ? c->date : now;
	return c->expires > base ? c->expires - base : 0;
}

/* ---- URLs ---- */

static int
httpc_host_loopback(const char *host)
{
	struct in_addr	a4;

	if (strcasecmp(host, "localhost") == 0 || strcmp(host, "[::1]") == 0)
		return 1;
	if (inet_pton(AF_INET, host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	return 0;
}

/*
 * <url> as curl parses it: 1 for https, 2 for http to a loopback host, 0
 * for anything else (other schemes, user information, not absolute).
 */
static int
httpc_url_kind(const char *url)
{
	CURLU	*u;
	char	*scheme = NULL, *host = NULL, *user = NULL;
	int	 kind = 0;

	if (url == NULL || (u = curl_url()) == NULL)
		return 0;
	if (curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_USER, &user, 0) == CURLUE_NO_USER) {
		if (strcmp(scheme, "https") == 0)
			kind = 1;
		else if (strcmp(scheme, "http") == 0 &&
		    httpc_host_loopback(host))
			kind = 2;
	}
	curl_free(scheme);
	curl_free(host);
	curl_free(user);
	curl_url_cleanup(u);
	return kind;
}

int
httpc_url_allowed(const char *url)
{
	return httpc_url_kind(url) != 0;
}

/* ---- transfers ---- */

static size_t
httpc_on_data(char *p, size_t size, size_t n, void *arg)
{
	struct httpc_xfer	*x = arg;
	size_t			 len = size * n, cap;
	char			*nb;

	if (len > x->max - x->len) {
		x->too_large = 1;
		return 0;			/* libcurl aborts */
	}
	if (x->len + len + 1 > x->cap) {
		cap = x->cap == 0 ? 4096 : x->cap;
		while (cap < x->len + len + 1)
			cap *= 2;
		if (cap > x->max + 1)
			cap = x->max + 1;
		if ((nb = malloc(cap)) == NULL)
			return 0;
		if (x->buf != NULL) {
			memcpy(nb, x->buf, x->len);
			OPENSSL_cleanse(x->buf, x->cap);
			free(x->buf);
		}
		x->buf = nb;
		x->cap = cap;
	}
	memcpy(x->buf + x->len, p, len);
	x->len += len;
	x->buf[x->len] = '\0';
	return len;
}

static size_t
httpc_on_header(char *p, size_t size, size_t n, void *arg)
{
	struct httpc_xfer	*x = arg;

	httpc_cache_header(&x->cache, p, size * n);
	return size * n;
}

/* CURLOPT_OPENSOCKETFUNCTION: plain http goes to loopback only. */
static curl_socket_t
httpc_on_opensocket(void *arg, curlsocktype purpose,
    struct curl_sockaddr *addr)
{
	struct httpc_xfer	*x = arg;
	const char		*class;

	if (purpose != CURLSOCKTYPE_IPCXN)
		return CURL_SOCKET_BAD;
	class = webhook_addr_class(&addr->addr);
	if (x->loopback_only && (class == NULL ||
	    strcmp(class, "loopback") != 0))
		return CURL_SOCKET_BAD;
	return socket(addr->family, addr->socktype, addr->protocol);
}

static void
httpc_slist_free(struct curl_slist *l)
{
	struct curl_slist	*s;

	for (s = l; s != NULL; s = s->next)
		OPENSSL_cleanse(s->data, strlen(s->data));
	curl_slist_free_all(l);
}

static void
httpc_xfer_free(struct httpc_xfer *x)
{
	if (x->easy != NULL)
		curl_easy_cleanup(x->easy);
	httpc_slist_free(x->headers);
	if (x->reqbody != NULL) {
		OPENSSL_cleanse(x->reqbody, x->reqlen);
		free(x->reqbody);
	}
	if (x->buf != NULL) {
		OPENSSL_cleanse(x->buf, x->cap);
		free(x->buf);
	}
	free(x);
}

/* The request's header lines: Content-Type and the caller's. */
static int
httpc_headers(struct httpc_xfer *x, const struct httpc_req *r)
{
	struct curl_slist	*l;
	char			 ct[256];
	size_t			 i;

	if (r->body != NULL && r->content_type != NULL) {
		if ((size_t)snprintf(ct, sizeof(ct), "Content-Type: %s",
		    r->content_type) >= sizeof(ct) || (l =
		    curl_slist_append(x->headers, ct)) == NULL)
			return -1;
		x->headers = l;
	}
	for (i = 0; r->headers != NULL && r->headers[i] != NULL; i++) {
		if ((l = curl_slist_append(x->headers, r->headers[i])) == NULL)
			return -1;
		x->headers = l;
	}
	return 0;
}

/* The POST body: our own copy, so that it can be wiped. */
static int
httpc_body(struct httpc_xfer *x, const struct httpc_req *r)
{
	CURL	*e = x->easy;

	x->reqlen = r->body != NULL ? strlen(r->body) : 0;
	if ((x->reqbody = malloc(x->reqlen + 1)) == NULL)
		return -1;
	memcpy(x->reqbody, r->body != NULL ? r->body : "", x->reqlen + 1);
	return curl_easy_setopt(e, CURLOPT_POSTFIELDS, x->reqbody) ==
	    CURLE_OK && curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE,
	    (curl_off_t)x->reqlen) == CURLE_OK ? 0 : -1;
}

/* The easy handle's options, the bounds of httpc.h. */
static int
httpc_setup(struct httpc_xfer *x, const struct httpc_req *r, int kind)
{
	CURL	*e = x->easy;
	long	 ms = r->timeout != 0 ? (long)r->timeout : HTTPC_TIMEOUT;

	if (curl_easy_setopt(e, CURLOPT_URL, r->url) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, kind == 1 ? "https" :
	    "https,http") != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_NOPROXY, "*") != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, ms) != CURLE_OK ||
	    (r->max_body > 0 && curl_easy_setopt(e,
	    CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)r->max_body) != CURLE_OK) ||
	    curl_easy_setopt(e, CURLOPT_USERAGENT, "postern/"
	    POSTERN_VERSION) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_HTTPHEADER, x->headers) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, httpc_on_data) !=
	    CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_WRITEDATA, x) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, httpc_on_header) !=
	    CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_HEADERDATA, x) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION,
	    httpc_on_opensocket) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, x) != CURLE_OK ||
	    (r->ca_file != NULL && curl_easy_setopt(e, CURLOPT_CAINFO,
	    r->ca_file) != CURLE_OK) ||
	    curl_easy_setopt(e, CURLOPT_PRIVATE, x) != CURLE_OK)
		return -1;
	if (strcmp(r->method, "POST") == 0)
		return httpc_body(x, r);
	return curl_easy_setopt(e, CURLOPT_HTTPGET, 1L) == CURLE_OK ? 0 : -1;
}

int
httpc_start(struct httpc *h, const struct httpc_req *r, httpc_cb cb,
    void *arg)
{
	struct httpc_xfer	*x;
	int			 kind;

	if (h->freeing || r->method == NULL || (strcmp(r->method, "GET") != 0 &&
	    strcmp(r->method, "POST") != 0) ||
	    (kind = httpc_url_kind(r->url)) == 0 ||
	    (x = calloc(1, sizeof(*x))) == NULL)
		return -1;
	x->h = h;
	x->cb = cb;
	x->arg = arg;
	x->max = r->max_body;
	x->loopback_only = kind == 2;
	httpc_cache_init(&x->cache);
	if ((x->easy = curl_easy_init()) == NULL ||
	    httpc_headers(x, r) == -1 || httpc_setup(x, r, kind) == -1 ||
	    curlev_add(h->cv, x->easy) == -1) {
		httpc_xfer_free(x);
		return -1;
	}
	TAILQ_INSERT_TAIL(&h->xfers, x, entry);
	return 0;
}

/* The reason code of a failed transfer. */
static const char *
httpc_reason(const struct httpc_xfer *x, CURLcode code)
{
	if (x->too_large || code == CURLE_FILESIZE_EXCEEDED)
		return "httpc_too_large";
	switch (code) {
	case CURLE_OPERATION_TIMEDOUT:
		return "httpc_timeout";
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_CONNECT:
		return "httpc_connect";
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_INVALIDCERTSTATUS:
	case CURLE_SSL_CRL_BADFILE:
	case CURLE_SSL_SHUTDOWN_FAILED:
	case CURLE_SSL_ENGINE_INITFAILED:
	case CURLE_SSL_ENGINE_NOTFOUND:
	case CURLE_SSL_ENGINE_SETFAILED:
	case CURLE_USE_SSL_FAILED:
		return "httpc_tls";
	default:
		return "httpc_failed";
	}
}

static void
httpc_on_done(void *arg, CURL *e, CURLcode code)
{
	struct httpc		*h = arg;
	struct httpc_xfer	*x;
	struct httpc_resp	 resp;
	char			*priv = NULL;
	const char		*reason;

	(void)curl_easy_getinfo(e, CURLINFO_PRIVATE, &priv);
	x = (struct httpc_xfer *)(void *)priv;
	TAILQ_REMOVE(&h->xfers, x, entry);
	if (code != CURLE_OK) {
		reason = httpc_reason(x, code);
		x->cb(x->arg, NULL, reason);
	} else {
		memset(&resp, 0, sizeof(resp));
		(void)curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE,
		    &resp.status);
		resp.body = x->buf != NULL ? x->buf : "";
		resp.len = x->len;
		resp.max_age = httpc_cache_max_age(&x->cache,
		    (int64_t)time(NULL));
		resp.easy = e;
		x->cb(x->arg, &resp, NULL);
	}
	httpc_xfer_free(x);
}

const char *
httpc_resp_header(const struct httpc_resp *resp, const char *name)
{
	struct curl_header	*h;

	if (resp->easy == NULL || curl_easy_header(resp->easy, name, 0,
	    CURLH_HEADER, -1, &h) != CURLHE_OK)
		return NULL;
	return h->value;
}

struct httpc *
httpc_new(struct event_base *base)
{
	struct httpc	*h;

	if ((h = calloc(1, sizeof(*h))) == NULL)
		return NULL;
	h->base = base;
	TAILQ_INIT(&h->xfers);
	if ((h->cv = curlev_new(base, httpc_on_done, h)) == NULL) {
		free(h);
		return NULL;
	}
	return h;
}

struct event_base *
httpc_base(const struct httpc *h)
{
	return h->base;
}

void
httpc_free(struct httpc *h)
{
	struct httpc_xfer	*x;
	const char		*reason = "httpc_freed";

	if (h == NULL)
		return;
	h->freeing = 1;
	while ((x = TAILQ_FIRST(&h->xfers)) != NULL) {
		TAILQ_REMOVE(&h->xfers, x, entry);
		curlev_remove(h->cv, x->easy);
		x->cb(x->arg, NULL, reason);
		httpc_xfer_free(x);
	}
	curlev_free(h->cv);
	free(h);
}
