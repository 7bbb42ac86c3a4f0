/*
 * The heads of proxied messages (see proxyhead.h): the request head for
 * the upstream, rebuilt from the parsed headers with hop-by-hop and
 * gateway-owned client headers dropped before ours are added, and the
 * response head for the client, checked and filtered, with security
 * headers.  Everything here runs for every header of every proxied
 * message, so lines are assembled without printf.
 */
#include <ctype.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/buffer.h>

#include "client.h"
#include "config.h"
#include "cookie.h"
#include "headers.h"
#include "idheaders.h"
#include "log.h"
#include "pages.h"
#include "proxyhead.h"
#include "request.h"
#include "worker.h"

/* Does <name> fold (case-insensitively, "_" read as "-") onto <want>? */
static int
proxyhead_fold_eq(const char *name, const char *want, int prefix)
{
	size_t	i;
	int	c;

	for (i = 0; want[i] != '\0'; i++) {
		c = tolower((unsigned char)name[i]);
		if (c == '_')
			c = '-';
		if (c != want[i])
			return 0;
	}
	return prefix || name[i] == '\0';
}

/* RFC 9110 7.6.1 hop-by-hop headers, plus the ones we frame ourselves. */
int
proxyhead_hop_by_hop(const char *name)
{
	size_t	len = strlen(name);
	int	hop = 0;

	/* By length first: this runs for every header of every message. */
	switch (len) {
	case 2:
		hop = proxyhead_fold_eq(name, "te", 0);
		break;
	case 7:
		hop = proxyhead_fold_eq(name, "trailer", 0) ||
		    proxyhead_fold_eq(name, "upgrade", 0);
		break;
	case 10:
		hop = proxyhead_fold_eq(name, "connection", 0) ||
		    proxyhead_fold_eq(name, "keep-alive", 0);
		break;
	case 14:
		hop = proxyhead_fold_eq(name, "content-length", 0);
		break;
	case 17:
		hop = proxyhead_fold_eq(name, "transfer-encoding", 0);
		break;
	}
	/* proxy-connection, and every other proxy-* */
	return hop || (len >= 6 && proxyhead_fold_eq(name, "proxy-", 1));
}

/* Does <name> fold (as in proxyhead_fold_eq()) onto the <len> bytes at <tok>,
 * compared case-insensitively? */
static int
proxyhead_token_eq(const char *name, const char *tok, size_t len)
{
	size_t	i;
	int	c;

	for (i = 0; i < len; i++) {
		c = tolower((unsigned char)name[i]);
		if (c == '_')
			c = '-';
		if (c != tolower((unsigned char)tok[i]))
			return 0;	/* also where <name> ends early */
	}
	return name[len] == '\0';
}

/*
 * Does <match> hold for a token of a Connection header in <h>?  It gets
 * each comma-separated token, trimmed, never empty.
 */
static int
proxyhead_connection_any(const struct request_header *h, size_t n,
    int (*match)(const char *, size_t, const void *), const void *arg)
{
	const char	*p, *e;
	size_t		 i, len;

	for (i = 0; i < n; i++) {
		if (h[i].value == NULL ||
		    strcasecmp(h[i].name, "connection") != 0)
			continue;
		for (p = h[i].value; *p != '\0'; p = *e == ',' ? e + 1 : e) {
			while (*p == ' ' || *p == '\t')
				p++;
			e = p + strcspn(p, ",");
			len = (size_t)(e - p);
			while (len > 0 && (p[len - 1] == ' ' ||
			    p[len - 1] == '\t'))
				len--;
			if (len > 0 && match(p, len, arg))
				return 1;
		}
	}
	return 0;
}

/* A token beyond "close" and headers that are dropped anyway. */
static int
proxyhead_token_extra(const char *p, size_t len, const void *arg)
{
	char	tok[32];

	if (len >= sizeof(tok))
		return 1;
	memcpy(tok, p, len);
	tok[len] = '\0';
	return strcasecmp(tok, "close") != 0 && !proxyhead_hop_by_hop(tok);
}

static int
proxyhead_token_names(const char *p, size_t len, const void *name)
{
	return proxyhead_token_eq(name, p, len);
}

/*
 * Does a Connection header name anything beyond "close" and headers that
 * are dropped anyway (keep-alive, upgrade, ...)?  Most heads carry none,
 * or just "keep-alive", and then no header needs
 * proxyhead_connection_listed()'s scan.
 */
static int
proxyhead_connection_extra(const struct request_header *h, size_t n)
{
	return proxyhead_connection_any(h, n, proxyhead_token_extra, NULL);
}

int
proxyhead_connection_listed(const struct request_header *h, size_t n,
    const char *name)
{
	return proxyhead_connection_any(h, n, proxyhead_token_names, name);
}

/* <len> bytes at <s> into <*p>, which moves past them. */
static char *
proxyhead_put(char *p, const char *s, size_t len)
{
	memcpy(p, s, len);
	return p + len;
}

/*
 * A head being built on the stack, handed to the evbuffer in as few
 * evbuffer_add() calls as fit (one for a usual head): each call costs
 * more than the copy.
 */
struct proxyhead_buf {
	struct evbuffer	*out;
	size_t		 len;
	int		 rc;
	char		 b[4096];
};

static void
proxyhead_buf_flush(struct proxyhead_buf *hb)
{
	if (hb->len > 0 && evbuffer_add(hb->out, hb->b, hb->len) == -1)
		hb->rc = -1;
	hb->len = 0;
}

static void
proxyhead_buf_add(struct proxyhead_buf *hb, const char *s, size_t n)
{
	if (hb->len + n > sizeof(hb->b)) {
		proxyhead_buf_flush(hb);
		if (n > sizeof(hb->b)) {
			if (evbuffer_add(hb->out, s, n) == -1)
				hb->rc = -1;
			return;
		}
	}
	memcpy(hb->b + hb->len, s, n);
	hb->len += n;
}

static void
proxyhead_buf_str(struct proxyhead_buf *hb, const char *s)
{
	proxyhead_buf_add(hb, s, strlen(s));
}

static void
proxyhead_buf_init(struct proxyhead_buf *hb, struct evbuffer *out)
{
	hb->out = out;
	hb->len = 0;
	hb->rc = 0;
}

/* "<name>: <value>\r\n" */
static void
proxyhead_buf_header(struct proxyhead_buf *hb, const char *name,
    const char *value)
{
	proxyhead_buf_str(hb, name);
	proxyhead_buf_add(hb, ": ", 2);
	proxyhead_buf_str(hb, value);
	proxyhead_buf_add(hb, "\r\n", 2);
}

/* The NUL-terminated strings in <s>, ended by NULL. */
static void
proxyhead_buf_strings(struct proxyhead_buf *hb, const char *const *s)
{
	for (; *s != NULL; s++)
		proxyhead_buf_str(hb, *s);
}

/*
 * "<name>: <value>\r\n" into <out> in one evbuffer_add(), without
 * printf: this runs for every header of every request and response.
 */
int
proxyhead_add_header(struct evbuffer *out, const char *name, const char *value)
{
	char	 line[1024], *p = line;
	size_t	 nl = strlen(name), vl = strlen(value);

	if (nl + vl + 4 > sizeof(line))
		return evbuffer_add_printf(out, "%s: %s\r\n", name, value) < 0 ?
		    -1 : 0;
	p = proxyhead_put(p, name, nl);
	p = proxyhead_put(p, ": ", 2);
	p = proxyhead_put(p, value, vl);
	p = proxyhead_put(p, "\r\n", 2);
	return evbuffer_add(out, line, (size_t)(p - line));
}

/* <n> in decimal, into <buf>, which it returns; without printf. */
static const char *
proxyhead_decimal(char buf[24], unsigned long long n)
{
	char	*d = buf + 23;

	*d = '\0';
	do {
		*--d = (char)('0' + n % 10);
	} while ((n /= 10) != 0);
	return d;
}

/* "<name>: <n>\r\n" into <out>, without printf. */
int
proxyhead_add_number(struct evbuffer *out, const char *name,
    unsigned long long n)
{
	char	 digits[24];

	return proxyhead_add_header(out, name, proxyhead_decimal(digits, n));
}

/*
 * A client header's name folded once for the checks below: lower case,
 * "_" read as "-" (a server that maps "_" to "-" must not see through),
 * its first PROXYHEAD_FOLDMAX bytes kept (no fixed name is longer; a
 * longer name matches prefixes only).
 */
#define PROXYHEAD_FOLDMAX	32

struct proxyhead_name {
	char	s[PROXYHEAD_FOLDMAX];
	size_t	len;			/* the whole name's */
};

static void
proxyhead_fold(const char *name, struct proxyhead_name *f)
{
	size_t	i;
	int	c;

	for (i = 0; name[i] != '\0'; i++) {
		if (i >= PROXYHEAD_FOLDMAX)
			continue;
		c = tolower((unsigned char)name[i]);
		f->s[i] = (char)(c == '_' ? '-' : c);
	}
	f->len = i;
}

/* A fixed name and its length, for matching a folded one. */
struct proxyhead_lit {
	const char	*s;
	size_t		 len;
};
#define PROXYHEAD_LIT(s)	{ s, sizeof(s) - 1 }

static int
proxyhead_is(const struct proxyhead_name *f, const struct proxyhead_lit *l)
{
	return f->len == l->len && memcmp(f->s, l->s, l->len) == 0;
}

static int
proxyhead_starts(const struct proxyhead_name *f, const struct proxyhead_lit *l)
{
	return f->len >= l->len && memcmp(f->s, l->s, l->len) == 0;
}

/* Whether <f> is one of the names of <l> (ended by a NULL name). */
static int
proxyhead_in(const struct proxyhead_name *f, const struct proxyhead_lit *l)
{
	for (; l->s != NULL; l++)
		if (proxyhead_is(f, l))
			return 1;
	return 0;
}

#define PROXYHEAD_IS(f, lit)						\
	proxyhead_is((f), &(const struct proxyhead_lit)PROXYHEAD_LIT(lit))
#define PROXYHEAD_STARTS(f, lit)					\
	proxyhead_starts((f), &(const struct proxyhead_lit)PROXYHEAD_LIT(lit))

/*
 * Client headers that name a user, the original URL or host, or the
 * client's address, and that apps behind other proxies and identity-aware
 * proxies (oauth2-proxy, Authelia, Grafana's auth proxy, Kubernetes'
 * front proxy, Cloudflare, Akamai, Fastly, IIS) commonly trust: never
 * from a client, nor through a trusted proxy (the policy decided on the
 * request's own path and host and on the identity the gateway
 * established; an upstream reading X-Original-URL, X-Host or
 * Remote-Groups would act on another).
 */
static const struct proxyhead_lit proxyhead_spoofable_names[] = {
	PROXYHEAD_LIT("x-client-ip"), PROXYHEAD_LIT("true-client-ip"),
	PROXYHEAD_LIT("cf-connecting-ip"), PROXYHEAD_LIT("fastly-client-ip"),
	PROXYHEAD_LIT("x-cluster-client-ip"), PROXYHEAD_LIT("x-original-uri"),
	PROXYHEAD_LIT("x-original-url"), PROXYHEAD_LIT("x-rewrite-url"),
	PROXYHEAD_LIT("x-original-host"), PROXYHEAD_LIT("x-host"),
	PROXYHEAD_LIT("x-http-host-override"), PROXYHEAD_LIT("remote-user"),
	PROXYHEAD_LIT("remote-email"), PROXYHEAD_LIT("remote-name"),
	PROXYHEAD_LIT("remote-groups"), PROXYHEAD_LIT("x-remote-user"),
	PROXYHEAD_LIT("x-remote-group"), PROXYHEAD_LIT("x-webauth-user"),
	PROXYHEAD_LIT("x-webauth-email"), PROXYHEAD_LIT("x-webauth-name"),
	PROXYHEAD_LIT("x-authenticated-user"),
	PROXYHEAD_LIT("x-forwarded-user"), PROXYHEAD_LIT("x-forwarded-email"),
	PROXYHEAD_LIT("x-forwarded-groups"),
	PROXYHEAD_LIT("x-forwarded-preferred-username"),
	PROXYHEAD_LIT("x-forwarded-access-token"),
	PROXYHEAD_LIT("x-request-id"),	/* ours */
	{ NULL, 0 }
};

/* Method overrides: see proxyhead_gateway_owned(). */
static const struct proxyhead_lit proxyhead_override_names[] = {
	PROXYHEAD_LIT("x-http-method-override"),
	PROXYHEAD_LIT("x-http-method"), PROXYHEAD_LIT("x-method-override"),
	{ NULL, 0 }
};

/* Forwarding headers only a trusted proxy may send (besides
 * X-Forwarded-*). */
static const struct proxyhead_lit proxyhead_forwarding_names[] = {
	PROXYHEAD_LIT("forwarded"), PROXYHEAD_LIT("x-real-ip"),
	PROXYHEAD_LIT("x-scheme"), PROXYHEAD_LIT("x-url-scheme"),
	PROXYHEAD_LIT("front-end-https"),
	{ NULL, 0 }
};

/*
 * Client headers the upstream must never see from a client: identity and
 * forwarding headers the gateway owns (folded name <f>, as sent <name>).
 * From a trusted proxy the standard forwarding headers pass
 * (X-Forwarded-For, -Host and -Proto are taken apart and written once:
 * proxyhead_write_forwarded()).  Method overrides too, unless the app
 * says it needs them: the policy decided on the request's own method,
 * and an upstream honouring X-HTTP-Method-Override: DELETE on a GET would
 * act on another.
 */
static int
proxyhead_gateway_owned(const struct exchange *ex,
    const struct proxyhead_name *f, const char *name)
{
	if (PROXYHEAD_STARTS(f, "x-postern-") ||
	    PROXYHEAD_STARTS(f, "x-auth-request-") ||
	    PROXYHEAD_STARTS(f, "x-remote-extra-") ||
	    proxyhead_in(f, proxyhead_spoofable_names) ||
	    idheaders_named(ex->app, name))
		return 1;
	if (!ex->app->method_override &&
	    proxyhead_in(f, proxyhead_override_names))
		return 1;
	if (ex->trusted)
		return 0;
	return PROXYHEAD_STARTS(f, "x-forwarded-") ||
	    proxyhead_in(f, proxyhead_forwarding_names);
}

/*
 * A Cookie header without the gateway's own cookies (session, CSRF: the
 * <names> identity gave the worker).
 */
static int
proxyhead_write_cookies(struct proxyhead_buf *hb, const char *value,
    const char *const *names)
{
	char	*rest;
	int	 err;

	rest = cookie_strip(value, names, &err);
	if (err == -1)
		return -1;
	if (rest != NULL)
		proxyhead_buf_header(hb, "Cookie", rest);
	free(rest);
	return 0;
}

/*
 * A WebSocket opening handshake (RFC 6455 4.1): GET over HTTP/1.1 with
 * Upgrade: websocket, Connection: upgrade, a key and version 13.  Any
 * other Upgrade (h2c, ...) goes no further: it is a hop-by-hop header.
 */
int
proxyhead_is_websocket(const struct request *req)
{
	const char	*up = request_header(req, "upgrade");
	const char	*ver = request_header(req, "sec-websocket-version");

	return req->method == HTTP_GET && req->http_minor >= 1 &&
	    up != NULL && strcasecmp(up, "websocket") == 0 &&
	    proxyhead_connection_listed(req->headers, req->nheaders, "upgrade") &&
	    request_header(req, "sec-websocket-key") != NULL &&
	    ver != NULL && strcmp(ver, "13") == 0;
}

/* The forwarding headers a trusted proxy sent, each kind's lines joined
 * into one list (RFC 9110 5.3); NULL where it sent none. */
enum { PROXYHEAD_XFF = 0, PROXYHEAD_XFHOST, PROXYHEAD_NFWD };

struct proxyhead_fwd {
	char	*v[PROXYHEAD_NFWD];
};

/*
 * If <h> is a forwarding header proxyhead_write_forwarded() writes once,
 * take it out of the client's (the peer is trusted: from others these
 * were dropped already) and return 1.  X-Forwarded-For and -Host are kept
 * in <fw>; *<rc> becomes -1 if memory ran out.  X-Forwarded-Proto is
 * not kept: ours follows ex->secure, which already read it.
 */
static int
proxyhead_fwd_take(struct proxyhead_fwd *fw, const struct proxyhead_name *f,
    const struct request_header *h, int *rc)
{
	static const struct proxyhead_lit names[PROXYHEAD_NFWD] = {
	    PROXYHEAD_LIT("x-forwarded-for"), PROXYHEAD_LIT("x-forwarded-host") };
	char	**v;
	size_t	  i;

	if (!PROXYHEAD_STARTS(f, "x-forwarded-"))
		return 0;
	if (PROXYHEAD_IS(f, "x-forwarded-proto"))
		return 1;
	for (i = 0; i < PROXYHEAD_NFWD; i++) {
		if (!proxyhead_is(f, &names[i]))
			continue;
		v = &fw->v[i];
		if (h->value[0] != '\0' && ((*v != NULL &&
		    request_append(v, ", ", 2) == -1) ||
		    request_append(v, h->value, strlen(h->value)) == -1))
			*rc = -1;
		return 1;
	}
	return 0;
}

/*
 * One line each of X-Forwarded-For, -Proto and -Host, and X-Request-Id:
 * the upstream never gets two chains to choose from.  X-Forwarded-For
 * extends a trusted proxy's list with the peer; -Host is the trusted
 * proxy's (it saw the client's request), else the request's Host; -Proto
 * is https when the request came over TLS, here or (a trusted proxy's
 * X-Forwarded-Proto: https) at the proxy, else http.
 */
static void
proxyhead_write_forwarded(struct proxyhead_buf *hb, const struct exchange *ex,
    const struct proxyhead_fwd *fw, const char *host)
{
	const char	*xff = fw->v[PROXYHEAD_XFF];
	const char	*xfh = fw->v[PROXYHEAD_XFHOST];

	if (xfh == NULL)
		xfh = host != NULL ? host : "";
	proxyhead_buf_strings(hb, (const char *const []){
	    "X-Forwarded-For: ", xff != NULL ? xff : "",
	    xff != NULL ? ", " : "", ex->peer, "\r\nX-Forwarded-Proto: ",
	    ex->secure ? "https" : "http", "\r\nX-Forwarded-Host: ", xfh,
	    "\r\nX-Request-Id: ", ex->request_id, "\r\n", NULL });
}

void
proxyhead_log_spoof(const struct exchange *ex)
{
	const struct request *req = ex->req;
	size_t		 i;

	for (i = 0; i < req->nheaders; i++)
		if (proxyhead_fold_eq(req->headers[i].name, "x-postern-", 1))
			break;
	if (i == req->nheaders)
		return;
	log_event(LOG_LEVEL_WARN, "client_header", "request_id",
	    ex->request_id, "client", ex->peer, "header",
	    req->headers[i].name, "reason", "identity_header_spoof",
	    (const char *)NULL);
}

/* The client's headers that may pass, into <out>; see proxyhead.h. */
static int
proxyhead_write_client(struct exchange *ex, struct proxyhead_buf *hb,
    struct proxyhead_fwd *fw)
{
	const struct worker_ops *ops = ex->w->srv->ops;
	struct request	*req = ex->req;
	size_t		 i;
	int		 rc = 0, listed = proxyhead_connection_extra(req->headers,
			    req->nheaders);

	for (i = 0; i < req->nheaders; i++) {
		const struct request_header *h = &req->headers[i];
		struct proxyhead_name f;

		proxyhead_fold(h->name, &f);
		if (PROXYHEAD_IS(&f, "host") || PROXYHEAD_IS(&f, "expect") ||
		    proxyhead_hop_by_hop(h->name) ||
		    (listed && proxyhead_connection_listed(req->headers,
		    req->nheaders, h->name)) ||
		    proxyhead_gateway_owned(ex, &f, h->name) ||
		    ops->credential(h->name, h->value) ||
		    proxyhead_fwd_take(fw, &f, h, &rc))
			continue;
		if (PROXYHEAD_IS(&f, "cookie")) {
			rc |= proxyhead_write_cookies(hb, h->value,
			    ops->cookies);
			continue;
		}
		proxyhead_buf_header(hb, h->name, h->value);
	}
	return rc;
}

static void
proxyhead_buf_identity(struct proxyhead_buf *hb,
    const struct exchange_upstream *u)
{
	if (u->user == NULL)
		return;
	proxyhead_buf_header(hb, "X-Postern-User", u->user);
	if (u->email != NULL)
		proxyhead_buf_header(hb, "X-Postern-Email", u->email);
	proxyhead_buf_header(hb, "X-Postern-Auth", u->auth);
	proxyhead_buf_header(hb, "X-Postern-Assertion", u->assertion);
	if (u->org != NULL)
		proxyhead_buf_header(hb, "X-Postern-Org", u->org);
	if (u->role != NULL)
		proxyhead_buf_header(hb, "X-Postern-Role", u->role);
}

int
proxyhead_write_identity(struct evbuffer *out,
    const struct exchange_upstream *u)
{
	struct proxyhead_buf hb;

	proxyhead_buf_init(&hb, out);
	proxyhead_buf_identity(&hb, u);
	proxyhead_buf_flush(&hb);
	return hb.rc;
}

int
proxyhead_write_request(struct exchange *ex, int websocket,
    struct evbuffer *out)
{
	struct request	*req = ex->req;
	struct proxyhead_fwd fw = { { NULL } };
	struct proxyhead_buf hb;
	const char	*host = request_header(req, "host");
	char		 digits[24];
	size_t		 i;
	int		 rc = 0;

	/* Built on the stack, in one evbuffer_add() for a usual head. */
	proxyhead_buf_init(&hb, out);
	proxyhead_buf_strings(&hb, (const char *const []){ req->method_name,
	    " ", req->path, req->query != NULL ? "?" : "",
	    req->query != NULL ? req->query : "", " HTTP/1.1\r\nHost: ",
	    host != NULL ? host : ex->app->upstream.host, "\r\n", NULL });
	rc |= proxyhead_write_client(ex, &hb, &fw);
	/* Ours, after all removals: nothing above can strip these. */
	proxyhead_write_forwarded(&hb, ex, &fw, host);
	for (i = 0; i < PROXYHEAD_NFWD; i++)
		free(fw.v[i]);
	proxyhead_buf_identity(&hb, &ex->up);
	if (ex->app->nidheaders > 0) {
		proxyhead_buf_flush(&hb);	/* in order */
		rc |= idheaders_write(out, ex->app, &ex->up, 0);
	}
	if (req->chunked)
		proxyhead_buf_str(&hb, "Transfer-Encoding: chunked\r\n");
	else if (req->has_length)
		proxyhead_buf_header(&hb, "Content-Length", proxyhead_decimal(
		    digits, (unsigned long long)req->content_length));
	/* No Connection: close: the connection goes back to the pool. */
	if (websocket)
		proxyhead_buf_str(&hb, "Connection: Upgrade\r\n"
		    "Upgrade: websocket\r\n\r\n");
	else
		proxyhead_buf_add(&hb, "\r\n", 2);
	proxyhead_buf_flush(&hb);
	return rc < 0 || hb.rc < 0 ? -1 : 0;
}

/* A response header value or phrase we may copy: no CR, LF or NUL. */
static int
proxyhead_clean(const char *s)
{
	for (; *s != '\0'; s++)
		if (*s == '\r' || *s == '\n' ||
		    ((unsigned char)*s < 0x20 && *s != '\t'))
			return 0;
	return 1;
}

/*
 * An upstream response header the gateway can pass on: a token for a name
 * (RFC 9112 5.1: no whitespace before the colon; a browser trims
 * "Set-Cookie :" to Set-Cookie, past the gateway's cookie filter, which
 * compares names exactly) and a value without CR, LF or other controls.
 */
static int
proxyhead_field_ok(const struct request_header *h)
{
	return request_is_token(h->name) && proxyhead_clean(h->value);
}

/* Upstream response headers dropped from one head, for one log event. */
struct proxyhead_drops {
	unsigned int	 n;
	const char	*header;	/* the first one's name */
	const char	*why;		/* and its stable reason code */
};

/*
 * Drop upstream response header <h> if it would touch the gateway's
 * cookies: a Set-Cookie (or Set-Cookie2) naming one, or a Clear-Site-Data
 * wiping cookies unless the app may (<allow_csd>).  Returns 1 (and counts
 * it in <d>) if so, else 0.
 */
static int
proxyhead_drop(struct proxyhead_drops *d, int allow_csd,
    const struct request_header *h)
{
	const char	*why = NULL;

	int		 c = h->name[0] | 0x20;	/* letters: lower case */

	if (c == 's' && (strcasecmp(h->name, "set-cookie") == 0 ||
	    strcasecmp(h->name, "set-cookie2") == 0) &&
	    cookie_set_ours(h->value))
		why = "upstream_set_cookie";
	else if (c == 'c' && !allow_csd &&
	    strcasecmp(h->name, "clear-site-data") == 0 &&
	    headers_clears_cookies(h->value))
		why = "upstream_clear_site_data";
	if (why == NULL)
		return 0;
	if (d->n++ == 0) {
		d->header = h->name;
		d->why = why;
	}
	return 1;
}

/* One event and the metric for what <d> dropped, if anything. */
static void
proxyhead_log_drops(struct exchange *ex, const struct proxyhead_drops *d)
{
	char	count[24];

	if (d->n == 0 || ex == NULL)
		return;
	atomic_fetch_add_explicit(&ex->w->metrics.upstream_dropped, d->n,
	    memory_order_relaxed);
	log_event(LOG_LEVEL_WARN, "upstream_header", "request_id",
	    ex->request_id, "app", ex->app->name, "header", d->header,
	    "dropped", proxyhead_decimal(count, d->n), "reason", d->why,
	    (const char *)NULL);
}

int
proxyhead_write_response(struct evbuffer *out, struct exchange *ex,
    int status, const char *reason, const struct request_header *h,
    size_t n)
{
	struct proxyhead_buf hb;
	unsigned int	 seen = 0;	/* security headers it sent */
	struct proxyhead_drops drops = { 0, NULL, NULL };
	char		 digits[24], clear[700];
	size_t		 i;
	int		 listed = proxyhead_connection_extra(h, n), logout = 0;

	/* Check every header before a byte of the head goes out: a 502
	 * page must not follow half a head. */
	for (i = 0; i < n; i++)
		if (h[i].value != NULL && !proxyhead_field_ok(&h[i]))
			return -1;
	proxyhead_buf_init(&hb, out);
	proxyhead_buf_add(&hb, "HTTP/1.1 ", 9);
	proxyhead_buf_str(&hb, proxyhead_decimal(digits,
	    (unsigned long long)(unsigned int)status));
	proxyhead_buf_add(&hb, " ", 1);
	proxyhead_buf_str(&hb, reason != NULL && proxyhead_clean(reason) ?
	    reason : pages_reason(status));
	proxyhead_buf_add(&hb, "\r\n", 2);
	for (i = 0; i < n; i++) {
		if (h[i].value == NULL)
			continue;
		if ((h[i].name[0] | 0x20) == 'x' &&
		    strcasecmp(h[i].name, PROXYHEAD_LOGOUT) == 0) {
			/* the app's request to us, not for the browser */
			logout |= strcmp(h[i].value, "1") == 0 ||
			    strcasecmp(h[i].value, "true") == 0;
			continue;
		}
		if (proxyhead_hop_by_hop(h[i].name) ||
		    (listed && proxyhead_connection_listed(h, n, h[i].name)) ||
		    headers_filter(ex->app->headers, ex->tls, h[i].name,
		    h[i].value, &seen) ||
		    proxyhead_drop(&drops, ex->app->allow_clear_site_data,
		    &h[i]))
			continue;
		proxyhead_buf_str(&hb, h[i].name);
		proxyhead_buf_add(&hb, ": ", 2);
		proxyhead_buf_str(&hb, h[i].value);
		proxyhead_buf_add(&hb, "\r\n", 2);
	}
	if (logout && ex->w->srv->ops->logout != NULL) {
		ex->w->srv->ops->logout(ex, clear, sizeof(clear));
		proxyhead_buf_str(&hb, clear);
	}
	proxyhead_buf_flush(&hb);
	(void)headers_add(out, ex->app->headers, ex->tls, seen, NULL);
	proxyhead_log_drops(ex, &drops);
	return 0;
}

/*
 * From here on bytes flow both ways as they come (RFC 6455 1.2): the
 * caller starts the tunnel once this head is out.
 */
int
proxyhead_write_101(struct evbuffer *out, struct exchange *ex,
    const struct request_header *h, size_t n, int websocket, const char **why)
{
	struct proxyhead_drops drops = { 0, NULL, NULL };
	const char	*up = NULL;
	size_t		 i;

	for (i = 0; i < n; i++) {
		if (h[i].value == NULL)
			continue;
		if (!proxyhead_field_ok(&h[i])) {
			*why = "upstream_bad_header";
			return -1;
		}
		if (strcasecmp(h[i].name, "upgrade") == 0)
			up = h[i].value;
	}
	if (!websocket || up == NULL || strcasecmp(up, "websocket") != 0) {
		*why = "upstream_upgrade";
		return -1;
	}
	(void)evbuffer_add(out, "HTTP/1.1 101 Switching Protocols\r\n", 34);
	for (i = 0; i < n; i++) {
		if (h[i].value == NULL || proxyhead_hop_by_hop(h[i].name) ||
		    proxyhead_connection_listed(h, n, h[i].name) ||
		    proxyhead_drop(&drops, ex != NULL &&
		    ex->app->allow_clear_site_data, &h[i]))
			continue;
		(void)proxyhead_add_header(out, h[i].name, h[i].value);
	}
	proxyhead_log_drops(ex, &drops);
	(void)evbuffer_add(out, "Upgrade: websocket\r\n"
	    "Connection: Upgrade\r\n\r\n", 43);
	return 0;
}
