/*
 * The request parser wrapper (see request.h).  The head is parsed only once
 * it is complete: a pre-scan of the raw bytes refuses what http-parser
 * would tolerate (obs-fold, bare CR or LF, NUL and other control bytes),
 * http-parser then parses it in one call, and our callbacks refuse the
 * ambiguous framings that enable request smuggling.
 *
 * The strings of a head (target, header names and values, host, query,
 * the joined cookies) go into one arena per request, sized from the
 * head's length before it is parsed, so that it never moves while
 * pointers into it exist; a request reset for the next one on the same
 * worker (request_reset()) keeps it: parsing a head allocates nothing in
 * the common case.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include <event2/buffer.h>

#include "chclass.h"
#include "chunked.h"
#include "path.h"
#include "request.h"

#define REQUEST_DEF_LINE	8192
#define REQUEST_DEF_HEADERS	32768
#define REQUEST_DEF_NHEADERS	100
/*
 * Arena bytes for a head of <len> bytes: names, values and the target
 * (at most <len> with their NULs: every line has at least ": " or CRLF
 * more than its strings), the joined cookies, the query and the host
 * (each at most <len>), and what request_retarget() may add (a target,
 * query and host from header values: each at most <len> again).
 */
#define REQUEST_ARENA(len)	(6 * (len) + 512)
/* A reset request keeps an arena this large at most. */
#define REQUEST_ARENA_KEEP	(16 * 1024)

static int	request_on_url(http_parser *, const char *, size_t);
static int	request_on_header_field(http_parser *, const char *, size_t);
static int	request_on_header_value(http_parser *, const char *, size_t);
static int	request_on_headers_complete(http_parser *);
static int	request_on_body(http_parser *, const char *, size_t);
static int	request_on_message_complete(http_parser *);

static const http_parser_settings request_settings = {
	.on_url = request_on_url,
	.on_header_field = request_on_header_field,
	.on_header_value = request_on_header_value,
	.on_headers_complete = request_on_headers_complete,
	.on_body = request_on_body,
	.on_message_complete = request_on_message_complete,
};

void
request_limits_defaults(struct request_limits *lim)
{
	if (lim->max_request_line == 0)
		lim->max_request_line = REQUEST_DEF_LINE;
	if (lim->max_header_size == 0)
		lim->max_header_size = REQUEST_DEF_HEADERS;
	if (lim->max_headers == 0)
		lim->max_headers = REQUEST_DEF_NHEADERS;
}

struct request *
request_new(const struct request_limits *lim)
{
	struct request	*req;

	if ((req = calloc(1, sizeof(*req))) == NULL)
		return NULL;
	req->lim = *lim;
	http_parser_init(&req->parser, HTTP_REQUEST);
	req->parser.data = req;
	return req;
}

/* Free what <req> holds for the request it carries, not its buffers. */
static void
request_free_parts(struct request *req)
{
	free(req->path);
	chunked_free(req->ck);
	if (req->chunk_data != NULL)
		evbuffer_free(req->chunk_data);
}

void
request_reset(struct request *req, const struct request_limits *lim)
{
	char			*arena = req->arena;
	size_t			 cap = req->arena_cap;
	struct request_header	*h = req->headers;
	size_t			 caph = req->capheaders;

	request_free_parts(req);
	if (cap > REQUEST_ARENA_KEEP) {
		free(arena);
		arena = NULL;
		cap = 0;
	}
	if (caph > REQUEST_DEF_NHEADERS) {
		free(h);
		h = NULL;
		caph = 0;
	}
	memset(req, 0, sizeof(*req));
	req->arena = arena;
	req->arena_cap = cap;
	req->headers = h;
	req->capheaders = caph;
	req->lim = *lim;
	http_parser_init(&req->parser, HTTP_REQUEST);
	req->parser.data = req;
}

void
request_free(struct request *req)
{
	if (req == NULL)
		return;
	request_free_parts(req);
	free(req->headers);
	free(req->arena);
	free(req);
}

/*
 * Room for <need> arena bytes.  Only before a head is parsed: the arena
 * moves, and no string may point into it yet.
 */
static int
request_arena_reserve(struct request *req, size_t need)
{
	req->arena_len = 0;
	req->arena_last = NULL;
	if (req->arena_cap >= need)
		return 0;
	free(req->arena);
	req->arena_cap = 0;
	if ((req->arena = malloc(need)) == NULL)
		return -1;
	req->arena_cap = need;
	return 0;
}

/*
 * Append <len> bytes at <at> to the arena string *<s> (NULL starts one):
 * in place if it is the last one placed, else as a copy at the end.  0,
 * or -1 when the arena has no room (it never grows: see above).
 */
static int
request_arena_append(struct request *req, char **s, const char *at,
    size_t len)
{
	size_t	 old;
	char	*d;

	if (*s != NULL && *s == req->arena_last) {
		if (len > req->arena_cap - req->arena_len)
			return -1;
		memcpy(req->arena + req->arena_len - 1, at, len);
		req->arena_len += len;
		req->arena[req->arena_len - 1] = '\0';
		return 0;
	}
	old = *s != NULL ? strlen(*s) : 0;
	if (req->arena == NULL || old + len + 1 > req->arena_cap -
	    req->arena_len)
		return -1;
	d = req->arena + req->arena_len;
	if (old > 0)
		memcpy(d, *s, old);
	memcpy(d + old, at, len);
	d[old + len] = '\0';
	req->arena_len += old + len + 1;
	req->arena_last = *s = d;
	return 0;
}

/* A copy of the <len> bytes at <at> in the arena, or NULL (no room). */
static char *
request_arena_dup(struct request *req, const char *at, size_t len)
{
	char	*d = NULL;

	return request_arena_append(req, &d, at, len) == -1 ? NULL : d;
}

int
request_name_eq(const char *a, const char *b)
{
	/* the first letters first: most names differ there */
	return ((unsigned char)*a | 0x20) == ((unsigned char)*b | 0x20) &&
	    strcasecmp(a, b) == 0;
}

const char *
request_header(const struct request *req, const char *name)
{
	size_t	i;

	for (i = 0; i < req->nheaders; i++)
		if (request_name_eq(req->headers[i].name, name))
			return req->headers[i].value;
	return NULL;
}

const char *
request_header_last(const struct request *req, const char *name)
{
	size_t	i;

	for (i = req->nheaders; i > 0; i--)
		if (request_name_eq(req->headers[i - 1].name, name))
			return req->headers[i - 1].value;
	return NULL;
}

const char *
request_cookies(const struct request *req)
{
	return req->cookies;
}

/*
 * Join the Cookie lines, in order, into req->cookies; 0, or -1 (no room).
 * One line is its own value; several are copied once into the arena.
 */
static int
request_join_cookies(struct request *req)
{
	size_t	i;
	char	*c = NULL;

	if (req->ncookies == 0)
		return 0;
	for (i = 0; i < req->nheaders; i++) {
		const struct request_header *h = &req->headers[i];

		if (h->value[0] == '\0' || !request_name_eq(h->name, "cookie"))
			continue;
		if (req->ncookies == 1) {
			req->cookies = h->value;
			return 0;
		}
		if ((c != NULL && request_arena_append(req, &c, "; ", 2) == -1) ||
		    request_arena_append(req, &c, h->value,
		    strlen(h->value)) == -1)
			return -1;
	}
	req->cookies = c;
	return 0;
}

int
request_has_body(const struct request *req)
{
	return req->chunked || (req->has_length && req->content_length > 0);
}

static int
request_reject(struct request *req, int status, const char *reason)
{
	if (req->reason == NULL) {	/* the first reason wins */
		req->status = status;
		req->reason = reason;
	}
	return -1;
}

int
request_append(char **s, const char *at, size_t len)
{
	size_t	 old = *s == NULL ? 0 : strlen(*s);
	char	*n;

	if ((n = realloc(*s, old + len + 1)) == NULL)
		return -1;
	memcpy(n + old, at, len);
	n[old + len] = '\0';
	*s = n;
	return 0;
}

/* RFC 9110 5.6.2 tchar. */
static int
request_tchar(unsigned char c)
{
	return CHCLASS(c, CH_TCHAR);
}

static void
request_trim(char *s)
{
	size_t	n = strlen(s), i = 0;

	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		s[--n] = '\0';
	while (s[i] == ' ' || s[i] == '\t')
		i++;
	if (i > 0)
		memmove(s, s + i, n - i + 1);
}

static int
request_digits(const char *s)
{
	if (*s == '\0' || strlen(s) > 18)
		return 0;
	for (; *s != '\0'; s++)
		if (*s < '0' || *s > '9')
			return 0;
	return 1;
}

int
request_is_token(const char *s)
{
	const char	*p;

	for (p = s; *p != '\0'; p++)
		if (!request_tchar((unsigned char)*p))
			return 0;
	return p != s;
}

/*
 * The checks of the headers that frame the request or that the gateway
 * reads (Host, Content-Length, Transfer-Encoding, Cookie, Expect) on <h>;
 * 0 or -1 with the reason set.
 */
static int
request_check_named(struct request *req, const struct request_header *h)
{
	if (request_name_eq(h->name, "host")) {
		if (++req->nhost > 1)
			return request_reject(req, 400, "host_multiple");
	} else if (request_name_eq(h->name, "content-length")) {
		if (++req->ncl > 1)
			return request_reject(req, 400, "smuggling_double_cl");
		if (!request_digits(h->value))
			return request_reject(req, 400, "bad_content_length");
		req->has_length = 1;
		req->content_length = strtoull(h->value, NULL, 10);
	} else if (request_name_eq(h->name, "transfer-encoding")) {
		if (++req->nte > 1)
			return request_reject(req, 400, "smuggling_te_multiple");
		if (strcasecmp(h->value, "chunked") != 0)
			return request_reject(req, 400, "smuggling_te_invalid");
		req->chunked = 1;
	} else if (request_name_eq(h->name, "cookie")) {
		if (h->value[0] != '\0')
			req->ncookies++;	/* joined once the head is in */
	} else if (request_name_eq(h->name, "expect")) {
		if (strcasecmp(h->value, "100-continue") != 0)
			return request_reject(req, 417, "expect_unsupported");
		req->expect_continue = 1;
	}
	return 0;
}

/* Checks on one complete header; 0 or -1 with the reason set. */
static int
request_check_header(struct request *req, struct request_header *h)
{
	size_t	len;

	if (!request_is_token(h->name))
		return request_reject(req, 400, "header_name_invalid");
	if (!req->lim.allow_underscore && strchr(h->name, '_') != NULL)
		return request_reject(req, 400, "header_underscore");
	/* Those names' lengths first: this runs for every header. */
	len = strlen(h->name);
	if ((len == 4 || len == 6 || len == 14 || len == 17) &&
	    request_check_named(req, h) == -1)
		return -1;
	if (req->ncl > 0 && req->nte > 0)
		return request_reject(req, 400, "smuggling_cl_te");
	return 0;
}

/* The header being read is complete: trim, check and keep it. */
static int
request_finish_header(struct request *req)
{
	struct request_header *h;

	if (!req->in_value)
		return 0;
	req->in_value = 0;
	h = &req->headers[req->nheaders - 1];
	if (h->value == NULL &&
	    request_arena_append(req, &h->value, "", 0) == -1)
		return request_reject(req, 500, "nomem");
	request_trim(h->value);
	req->arena_last = NULL;		/* its end moved: never extended */
	return request_check_header(req, h);
}

static int
request_on_url(http_parser *p, const char *at, size_t len)
{
	struct request	*req = p->data;

	if ((req->target != NULL ? strlen(req->target) : 0) + len >
	    req->lim.max_request_line)
		return request_reject(req, 414, "uri_too_long");
	if (request_arena_append(req, &req->target, at, len) == -1)
		return request_reject(req, 500, "nomem");
	return 0;
}

static int
request_on_header_field(http_parser *p, const char *at, size_t len)
{
	struct request	*req = p->data;
	struct request_header *h;

	if (req->in_value || req->nheaders == 0) {
		if (request_finish_header(req) == -1)
			return -1;
		if (req->nheaders >= req->lim.max_headers)
			return request_reject(req, 431, "too_many_headers");
		if (req->nheaders == req->capheaders) {
			size_t n = req->capheaders ? req->capheaders * 2 : 16;

			h = reallocarray(req->headers, n, sizeof(*h));
			if (h == NULL)
				return request_reject(req, 500, "nomem");
			req->headers = h;
			req->capheaders = n;
		}
		memset(&req->headers[req->nheaders++], 0, sizeof(*h));
	}
	h = &req->headers[req->nheaders - 1];
	if (request_arena_append(req, &h->name, at, len) == -1)
		return request_reject(req, 500, "nomem");
	return 0;
}

static int
request_on_header_value(http_parser *p, const char *at, size_t len)
{
	struct request	*req = p->data;
	struct request_header *h;

	h = &req->headers[req->nheaders - 1];
	req->in_value = 1;
	if (request_arena_append(req, &h->value, at, len) == -1)
		return request_reject(req, 500, "nomem");
	return 0;
}

/* Lower-case host without port from a Host value or URL authority, into
 * <h>; 0, or -1 if it is not one. */
static int
request_host_name(const char *v, size_t len, char h[REQUEST_HOST_MAX + 1])
{
	size_t	 i, n = len;

	if (len > 0 && v[0] == '[') {		/* IP-literal */
		const char *e = memchr(v, ']', len);

		if (e == NULL)
			return -1;
		n = (size_t)(e - v) + 1;
		if (n < len && v[n] != ':')
			return -1;
	} else {
		const char *c = memchr(v, ':', len);

		if (c != NULL)
			n = (size_t)(c - v);
	}
	if (n == 0 || n > REQUEST_HOST_MAX)
		return -1;
	for (i = n; i < len; i++)	/* the port */
		if (i > n && (v[i] < '0' || v[i] > '9'))
			return -1;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)v[i];

		if (c >= 'A' && c <= 'Z')
			h[i] = (char)(c - 'A' + 'a');
		else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    (c != '\0' && strchr("-._~[]:", c) != NULL))
			h[i] = (char)c;
		else
			return -1;
	}
	h[n] = '\0';
	return 0;
}

/* Whether absolute-form <t> (parsed into <u>) is http or https, without
 * userinfo (RFC 9110 4.2.4: "user@host" is to be treated as an error). */
static int
request_absolute_ok(const char *t, const struct http_parser_url *u)
{
	const char	*s = t + u->field_data[UF_SCHEMA].off;
	size_t		 n = u->field_data[UF_SCHEMA].len;

	/* an '@' before the host: userinfo, even an empty one */
	if (memchr(t, '@', u->field_data[UF_HOST].off) != NULL)
		return 0;
	return (n == 4 && strncasecmp(s, "http", 4) == 0) ||
	    (n == 5 && strncasecmp(s, "https", 5) == 0);
}

/*
 * Split the target into path and query.  Origin-form ("/p?q") or
 * absolute-form ("http://host/p?q", http or https, no userinfo, host must
 * match Host); anything else ("*", authority-form) is refused.
 */
static int
request_split_target(struct request *req, const char **path, size_t *plen)
{
	struct http_parser_url u;
	const char	*t = req->target, *q;
	char		 uhost[REQUEST_HOST_MAX + 1];

	if (t == NULL)
		return request_reject(req, 400, "target_missing");
	if (t[0] != '/') {
		http_parser_url_init(&u);
		if (http_parser_parse_url(t, strlen(t), 0, &u) != 0 ||
		    !(u.field_set & (1 << UF_HOST)) ||
		    !(u.field_set & (1 << UF_SCHEMA)) ||
		    !request_absolute_ok(t, &u))
			return request_reject(req, 400, "target_form");
		if (request_host_name(t + u.field_data[UF_HOST].off,
		    u.field_data[UF_HOST].len, uhost) == -1 ||
		    req->host == NULL || strcmp(uhost, req->host) != 0)
			return request_reject(req, 400, "host_mismatch");
		if (u.field_set & (1 << UF_FRAGMENT))
			return request_reject(req, 400, "path_fragment");
		if (!(u.field_set & (1 << UF_PATH))) {
			*path = "/";
			*plen = 1;
		} else {
			*path = t + u.field_data[UF_PATH].off;
			*plen = u.field_data[UF_PATH].len;
		}
		t = *path;
	} else {
		*path = t;
		*plen = strcspn(t, "?");
	}
	if ((q = strchr(t, '?')) != NULL) {
		if (strchr(q, '#') != NULL)
			return request_reject(req, 400, "path_fragment");
		if ((req->query = request_arena_dup(req, q + 1,
		    strlen(q + 1))) == NULL)
			return request_reject(req, 500, "nomem");
	}
	return 0;
}

static int
request_check_host(struct request *req)
{
	const char	*v = request_header(req, "host");
	char		 h[REQUEST_HOST_MAX + 1];

	if (v == NULL) {
		if (req->http_minor >= 1)
			return request_reject(req, 400, "host_missing");
		return 0;
	}
	if (request_host_name(v, strlen(v), h) == -1)
		return request_reject(req, 400, "host_invalid");
	if ((req->host = request_arena_dup(req, h, strlen(h))) == NULL)
		return request_reject(req, 500, "nomem");
	return 0;
}

static int
request_on_headers_complete(http_parser *p)
{
	struct request	*req = p->data;
	enum path_error	 e;
	const char	*path;
	size_t		 plen;

	if (request_finish_header(req) == -1)
		return -1;
	if (request_join_cookies(req) == -1)
		return request_reject(req, 500, "nomem");
	req->head_done = 1;
	req->method = (enum http_method)p->method;
	req->method_name = http_method_str(req->method);
	req->http_major = p->http_major;
	req->http_minor = p->http_minor;
	req->keep_alive = http_should_keep_alive(p);
	if (req->http_minor == 0)	/* RFC 9110 10.1.1: ignored from 1.0 */
		req->expect_continue = 0;
	if (req->http_major != 1)
		return request_reject(req, 505, "http_version");
	/* RFC 9112 6.1: Transfer-Encoding in HTTP/1.0 is faulty framing (a
	 * 1.0 hop behind us would have read the body by Content-Length or
	 * to the close) */
	if (req->http_minor == 0 && req->nte > 0)
		return request_reject(req, 400, "smuggling_te_http10");
	if (req->method == HTTP_TRACE || req->method == HTTP_CONNECT)
		return request_reject(req, 405, "method_not_allowed");
	if (request_check_host(req) == -1 ||
	    request_split_target(req, &path, &plen) == -1)
		return -1;
	if ((req->path = path_normalize(path, plen, &e)) == NULL)
		return request_reject(req, e == PATH_NOMEM ? 500 : 400,
		    path_error_reason(e));
	if (req->has_length && req->lim.max_body_size != 0 &&
	    req->content_length > req->lim.max_body_size)
		return request_reject(req, 413, "body_too_large");
	return 0;
}

/* The method named <name> (as http-parser spells them), or -1. */
static int
request_method_named(const char *name)
{
#define REQUEST_XX(num, m, string)	\
	if (strcmp(name, #string) == 0)	\
		return num;
	HTTP_METHOD_MAP(REQUEST_XX)
#undef REQUEST_XX
	return -1;
}

int
request_retarget(struct request *req, const char *method, const char *host,
    const char *target)
{
	enum path_error	 e;
	const char	*path;
	size_t		 plen;
	char		*t, *hc = NULL, h[REQUEST_HOST_MAX + 1];
	int		 m;

	if ((m = request_method_named(method)) == -1)
		return request_reject(req, 400, "forward_invalid");
	if (m == HTTP_TRACE || m == HTTP_CONNECT)
		return request_reject(req, 405, "method_not_allowed");
	if (host != NULL &&
	    request_host_name(host, strlen(host), h) == -1)
		return request_reject(req, 400, "host_invalid");
	if ((host != NULL &&
	    (hc = request_arena_dup(req, h, strlen(h))) == NULL) ||
	    (t = request_arena_dup(req, target, strlen(target))) == NULL)
		return request_reject(req, 500, "nomem");
	req->method = (enum http_method)m;
	req->method_name = http_method_str(req->method);
	if (hc != NULL)
		req->host = hc;
	free(req->path);
	req->target = t;
	req->path = req->query = NULL;
	if (request_split_target(req, &path, &plen) == -1)
		return -1;
	if ((req->path = path_normalize(path, plen, &e)) == NULL)
		return request_reject(req, e == PATH_NOMEM ? 500 : 400,
		    path_error_reason(e));
	return 0;
}

static int
request_on_body(http_parser *p, const char *at, size_t len)
{
	struct request	*req = p->data;

	req->body_bytes += len;
	if (req->lim.max_body_size != 0 &&
	    req->body_bytes > req->lim.max_body_size)
		return request_reject(req, 413, "body_too_large");
	if (req->body_out == NULL)	/* cannot happen: head fed alone */
		return request_reject(req, 500, "body_unexpected");
	if (evbuffer_add(req->body_out, at, len) == -1)
		return request_reject(req, 500, "nomem");
	return 0;
}

static int
request_on_message_complete(http_parser *p)
{
	struct request	*req = p->data;

	req->complete = 1;
	http_parser_pause(p, 1);	/* leave a pipelined request alone */
	return 0;
}

/* Map a parser error nobody explained yet to a status and reason. */
static void
request_parser_error(struct request *req)
{
	enum http_errno	 e = HTTP_PARSER_ERRNO(&req->parser);

	if (req->reason != NULL)
		return;
	if (!req->head_done)
		(void)request_finish_header(req);
	if (req->reason != NULL)
		return;
	switch (e) {
	case HPE_UNEXPECTED_CONTENT_LENGTH:
		(void)request_reject(req, 400, req->nte > 0 ||
		    (req->nheaders > 0 && request_name_eq(
		    req->headers[req->nheaders - 1].name, "transfer-encoding"))
		    ? "smuggling_cl_te" : "smuggling_double_cl");
		break;
	case HPE_INVALID_CONTENT_LENGTH:
		(void)request_reject(req, 400, "bad_content_length");
		break;
	case HPE_INVALID_TRANSFER_ENCODING:
		(void)request_reject(req, 400, "smuggling_te_invalid");
		break;
	case HPE_HEADER_OVERFLOW:
		(void)request_reject(req, 431, "header_too_large");
		break;
	case HPE_INVALID_METHOD:
		(void)request_reject(req, 400, "bad_method");
		break;
	case HPE_INVALID_VERSION:
		(void)request_reject(req, 400, "bad_version");
		break;
	default:
		(void)request_reject(req, 400, "bad_request");
		break;
	}
}

/*
 * Refuse raw bytes http-parser would tolerate in a head of <len> bytes:
 * NUL, a CR not before LF, a LF not after CR, obs-fold (a line starting
 * with SP or HTAB, RFC 9112 5.2) and other control characters.
 */
/* The first byte from <i> on of class CH_CTL (chclass.h), or <len>. */
static size_t
request_skip_ordinary(const unsigned char *s, size_t i, size_t len)
{
#ifdef __SSE2__
	const __m128i	 c1f = _mm_set1_epi8(0x1f), del = _mm_set1_epi8(0x7f);
	__m128i		 v, m;
	int		 bits;

	/* Sixteen bytes at a time: a control byte (HTAB too: the bytes
	 * loop below passes it) or DEL stops the run. */
	for (; i + 16 <= len; i += 16) {
		v = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
		m = _mm_or_si128(_mm_cmpeq_epi8(_mm_subs_epu8(v, c1f),
		    _mm_setzero_si128()), _mm_cmpeq_epi8(v, del));
		if ((bits = _mm_movemask_epi8(m)) != 0) {
			i += (size_t)__builtin_ctz((unsigned int)bits);
			break;
		}
	}
#endif
	while (i < len && !CHCLASS(s[i], CH_CTL))
		i++;
	return i;
}

static int
request_prescan(struct request *req, const unsigned char *s, size_t len)
{
	size_t	i;

	for (i = request_skip_ordinary(s, 0, len); i < len;
	    i = request_skip_ordinary(s, i + 1, len)) {
		if (s[i] == '\0')
			return request_reject(req, 400, "nul_in_head");
		if (s[i] == '\r') {
			if (i + 1 == len || s[i + 1] != '\n')
				return request_reject(req, 400, "bare_cr");
			continue;
		}
		if (s[i] == '\n') {
			if (i == 0 || s[i - 1] != '\r')
				return request_reject(req, 400, "bare_lf");
			if (i + 1 < len && (s[i + 1] == ' ' || s[i + 1] == '\t'))
				return request_reject(req, 400, "obs_fold");
			continue;
		}
		return request_reject(req, 400, "control_char");
	}
	return 0;
}

/* Length of the head in <in> (through CRLFCRLF), 0 if incomplete. */
static size_t
request_head_len(struct request *req, struct evbuffer *in)
{
	struct evbuffer_ptr	 eol, end;
	size_t			 avail = evbuffer_get_length(in);
	size_t			 linemax = req->lim.max_request_line + 2;
	size_t			 headmax = linemax + req->lim.max_header_size + 2;

	eol = evbuffer_search(in, "\r\n", 2, NULL);
	if ((eol.pos == -1 && avail > linemax) ||
	    (eol.pos != -1 && (size_t)eol.pos + 2 > linemax)) {
		(void)request_reject(req, 414, "uri_too_long");
		return 0;
	}
	if (eol.pos == -1)
		return 0;
	end = evbuffer_search(in, "\r\n\r\n", 4, NULL);
	if ((end.pos == -1 && avail > headmax) ||
	    (end.pos != -1 && (size_t)end.pos + 4 > headmax)) {
		(void)request_reject(req, 431, "header_too_large");
		return 0;
	}
	return end.pos == -1 ? 0 : (size_t)end.pos + 4;
}

enum request_result
request_parse_head(struct request *req, struct evbuffer *in)
{
	unsigned char	*head;
	size_t		 len, n;

	/* RFC 9112 2.2: ignore empty lines before the request line. */
	while (evbuffer_get_length(in) >= 2 &&
	    (head = evbuffer_pullup(in, 2)) != NULL &&
	    head[0] == '\r' && head[1] == '\n')
		evbuffer_drain(in, 2);
	if ((len = request_head_len(req, in)) == 0) {
		/* A head ended by bare LFs would otherwise wait for a timeout. */
		if (req->reason == NULL &&
		    evbuffer_search(in, "\n\n", 2, NULL).pos != -1 &&
		    (head = evbuffer_pullup(in, -1)) != NULL)
			(void)request_prescan(req, head,
			    evbuffer_get_length(in));
		return req->reason != NULL ? REQUEST_ERROR : REQUEST_MORE;
	}
	if ((head = evbuffer_pullup(in, (ssize_t)len)) == NULL ||
	    request_arena_reserve(req, REQUEST_ARENA(len)) == -1) {
		(void)request_reject(req, 500, "nomem");
		return REQUEST_ERROR;
	}
	if (request_prescan(req, head, len) == -1)
		return REQUEST_ERROR;
	n = http_parser_execute(&req->parser, &request_settings,
	    (const char *)head, len);
	if (req->reason != NULL || (HTTP_PARSER_ERRNO(&req->parser) != HPE_OK &&
	    HTTP_PARSER_ERRNO(&req->parser) != HPE_PAUSED)) {
		request_parser_error(req);
		return REQUEST_ERROR;
	}
	if (!req->head_done || n != len) {
		(void)request_reject(req, 400, "bad_request");
		return REQUEST_ERROR;
	}
	if (req->parser.upgrade && !req->complete) {
		/* Upgrade with a body: nothing we can forward safely. */
		(void)request_reject(req, 400, "upgrade_with_body");
		return REQUEST_ERROR;
	}
	evbuffer_drain(in, len);
	return REQUEST_DONE;
}

/* A chunked body's decoder and the buffer of what one call decodes. */
static int
request_chunked_start(struct request *req)
{
	if ((req->ck = chunked_new(req->lim.max_body_size, 0)) == NULL ||
	    (req->chunk_data = evbuffer_new()) == NULL)
		return request_reject(req, 500, "nomem");
	return 0;
}

/*
 * A chunked body, <want> bytes of <in> at most: decoded by chunked.c,
 * never by http-parser, whose lenient build takes bare LFs, any extension
 * and any two bytes after chunk data as framing.  What one call decoded
 * goes to <out> as one canonical chunk, and only if no error came in it:
 * the upstream never sees the client's framing (extensions, trailers,
 * sizes) nor data whose framing was refused.
 */
static enum request_result
request_parse_chunked(struct request *req, struct evbuffer *in,
    struct evbuffer *out, size_t want)
{
	struct evbuffer_iovec	 v[8];
	enum chunked_result	 r = CHUNKED_MORE;
	size_t			 done = 0, used, len;
	int			 i, nv;

	if (req->ck == NULL && request_chunked_start(req) == -1)
		return REQUEST_ERROR;
	nv = evbuffer_peek(in, (ssize_t)want, NULL, v, 8);
	for (i = 0; i < nv && i < 8 && done < want && r == CHUNKED_MORE; i++) {
		len = v[i].iov_len < want - done ? v[i].iov_len : want - done;
		r = chunked_decode(req->ck, v[i].iov_base, len, &used,
		    req->chunk_data);
		done += used;
	}
	req->body_bytes = chunked_body_bytes(req->ck);
	if (r == CHUNKED_ERROR) {
		(void)evbuffer_drain(req->chunk_data,
		    evbuffer_get_length(req->chunk_data));
		(void)request_reject(req, chunked_status(req->ck),
		    chunked_reason(req->ck));
		return REQUEST_ERROR;
	}
	evbuffer_drain(in, done);
	if (chunked_frame(out, req->chunk_data) == -1 ||
	    (r == CHUNKED_DONE && chunked_frame_last(out) == -1)) {
		(void)request_reject(req, 500, "nomem");
		return REQUEST_ERROR;
	}
	req->complete = r == CHUNKED_DONE;
	return req->complete ? REQUEST_DONE : REQUEST_MORE;
}

enum request_result
request_parse_body(struct request *req, struct evbuffer *in,
    struct evbuffer *out, size_t max)
{
	struct evbuffer_iovec	 v[8];
	size_t			 n, done = 0, want;
	int			 i, nv;

	if (req->complete)
		return REQUEST_DONE;
	want = evbuffer_get_length(in);
	if (want > max)
		want = max;
	if (want == 0)
		return REQUEST_MORE;
	if (req->chunked)
		return request_parse_chunked(req, in, out, want);
	nv = evbuffer_peek(in, (ssize_t)want, NULL, v, 8);
	if (nv > 8)
		nv = 8;
	req->body_out = out;
	for (i = 0; i < nv && done < want && !req->complete; i++) {
		size_t len = v[i].iov_len;

		if (len > want - done)
			len = want - done;
		n = http_parser_execute(&req->parser, &request_settings,
		    v[i].iov_base, len);
		done += n;
		if (req->reason != NULL ||
		    (HTTP_PARSER_ERRNO(&req->parser) != HPE_OK &&
		    HTTP_PARSER_ERRNO(&req->parser) != HPE_PAUSED)) {
			req->body_out = NULL;
			request_parser_error(req);
			return REQUEST_ERROR;
		}
		if (n != len && !req->complete)
			break;
	}
	req->body_out = NULL;
	evbuffer_drain(in, done);
	return req->complete ? REQUEST_DONE : REQUEST_MORE;
}
