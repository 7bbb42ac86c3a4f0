/*
 * The gateway's own pages (see pages.h).  Bodies are built from fixed text
 * and the request id only, so nothing a client sent is ever reflected.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE	/* strcasestr */
#endif
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <event2/buffer.h>

#include "config.h"
#include "pages.h"

/* frame-ancestors 'none': gateway pages are never framed (DESIGN.md). */
#define PAGES_CSP	"default-src 'none'; style-src 'unsafe-inline'; " \
			"frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

static const struct {
	int		 status;
	const char	*reason;
	const char	*text;		/* one sentence for the page */
} pages_table[] = {
	{ 200, "OK", "OK." },
	{ 301, "Moved Permanently", "This site is only served over HTTPS." },
	{ 400, "Bad Request", "The request was malformed." },
	{ 403, "Forbidden", "This request is not allowed." },
	{ 404, "Not Found", "There is nothing here." },
	{ 405, "Method Not Allowed", "This method is not allowed." },
	{ 408, "Request Timeout", "The request took too long to arrive." },
	{ 413, "Content Too Large", "The request body is too large." },
	{ 414, "URI Too Long", "The request target is too long." },
	{ 417, "Expectation Failed", "The expectation cannot be met." },
	{ 421, "Misdirected Request", "This server does not serve that host." },
	{ 431, "Request Header Fields Too Large",
	    "The request headers are too large." },
	{ 500, "Internal Server Error", "Something went wrong on our side." },
	{ 502, "Bad Gateway", "The application is not reachable." },
	{ 503, "Service Unavailable", "The service is unavailable." },
	{ 504, "Gateway Timeout", "The application did not answer in time." },
	{ 505, "HTTP Version Not Supported",
	    "This HTTP version is not supported." },
};
#define PAGES_N	(sizeof(pages_table) / sizeof(pages_table[0]))

static size_t
pages_find(int status)
{
	size_t	i;

	for (i = 0; i < PAGES_N; i++)
		if (pages_table[i].status == status)
			return i;
	return PAGES_N;
}

const char *
pages_reason(int status)
{
	size_t	i = pages_find(status);

	return i == PAGES_N ? "Unknown" : pages_table[i].reason;
}

int
pages_wants_html(const char *accept)
{
	return accept != NULL && strcasestr(accept, "text/html") != NULL;
}

const char *
pages_hsts(const struct config *cfg, char *buf, size_t size)
{
	if (cfg == NULL || cfg->hsts_max_age == 0)
		return NULL;
	(void)snprintf(buf, size, "max-age=%llu%s%s",
	    (unsigned long long)cfg->hsts_max_age,
	    cfg->hsts_include_subdomains ? "; includeSubDomains" : "",
	    cfg->hsts_preload ? "; preload" : "");
	return buf;
}

/* The body of an error page into <body>; returns its content type. */
static const char *
pages_body(const struct pages_resp *r, char *body, size_t size)
{
	size_t		 i = pages_find(r->status);
	const char	*reason = pages_reason(r->status);
	const char	*text = i == PAGES_N ? "Error." : pages_table[i].text;
	const char	*id = r->request_id != NULL ? r->request_id : "";

	if (r->json != NULL) {
		(void)snprintf(body, size, "%s\n", r->json);
		return "application/json";
	}
	if (r->html) {
		(void)snprintf(body, size, "<!doctype html>\n<html lang=en>"
		    "<head><meta charset=utf-8><title>%d %s</title>"
		    "<style>body{font-family:sans-serif;max-width:40em;"
		    "margin:4em auto;padding:0 1em;color:#222}"
		    "code{color:#666}</style></head>\n<body><h1>%s</h1>"
		    "<p>%s</p><p>Request id: <code>%s</code></p>"
		    "</body></html>\n", r->status, reason, reason, text, id);
		return "text/html; charset=utf-8";
	}
	(void)snprintf(body, size, "{\"error\":\"%s\",\"status\":%d,"
	    "\"request_id\":\"%s\"}\n", reason, r->status, id);
	return "application/json";
}

long
pages_send(struct evbuffer *out, const struct pages_resp *r)
{
	char		 body[2048];
	const char	*type;
	size_t		 len;

	type = pages_body(r, body, sizeof(body));
	len = strlen(body);
	if (evbuffer_add_printf(out, "HTTP/1.1 %d %s\r\n"
	    "Content-Type: %s\r\nContent-Length: %zu\r\n"
	    "Cache-Control: no-store\r\n"
	    "Content-Security-Policy: " PAGES_CSP "\r\n"
	    "X-Content-Type-Options: nosniff\r\n"
	    "X-Frame-Options: DENY\r\n"
	    "Referrer-Policy: no-referrer\r\n",
	    r->status, pages_reason(r->status), type, len) == -1)
		return -1;
	if (r->request_id != NULL &&
	    evbuffer_add_printf(out, "X-Request-Id: %s\r\n",
	    r->request_id) == -1)
		return -1;
	if (r->hsts != NULL && evbuffer_add_printf(out,
	    "Strict-Transport-Security: %s\r\n", r->hsts) == -1)
		return -1;
	if (r->location != NULL && evbuffer_add_printf(out,
	    "Location: %s\r\n", r->location) == -1)
		return -1;
	if (evbuffer_add_printf(out, "%s\r\n", r->keep_alive ? "" :
	    "Connection: close\r\n") == -1)
		return -1;
	if (!r->head_only && evbuffer_add(out, body, len) == -1)
		return -1;
	return r->head_only ? 0 : (long)len;
}
