/*
 * The gateway's own pages (see pages.h).  Error bodies come from
 * pageserr.c (fixed text, the request id and a 403's account, escaped);
 * the flows' pages framed by pages_begin() escape every value with
 * pages_escape().
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE	/* strcasestr */
#endif
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <event2/buffer.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "headers.h"
#include "pages.h"
#include "pageserr.h"

#define PAGES_NONCE_LEN	16	/* random bytes; 24 base64 characters */

int
pages_wants_html(const char *accept)
{
	return accept != NULL && strcasestr(accept, "text/html") != NULL;
}

int
pages_nonce(char *buf, size_t size)
{
	unsigned char	b[PAGES_NONCE_LEN];

	if (size < 4 * ((PAGES_NONCE_LEN + 2) / 3) + 1 ||
	    RAND_bytes(b, sizeof(b)) != 1)
		return -1;
	(void)EVP_EncodeBlock((unsigned char *)buf, b, sizeof(b));
	return 0;
}

/*
 * The body of <r> into <body>: its own JSON, else the error page (HTML,
 * its style carrying <nonce>) or the JSON error (always for a chosen
 * code: an answer meant for a program).  Its content type, or
 * NULL if <body> could not grow.
 */
static const char *
pages_body(const struct pages_resp *r, const char *nonce,
    struct evbuffer *body)
{
	if (r->json != NULL)
		return evbuffer_add_printf(body, "%s\n", r->json) < 0 ? NULL :
		    "application/json";
	if (r->html && r->error == NULL)
		return pages_error_html(body, r, nonce) == -1 ? NULL :
		    "text/html; charset=utf-8";
	return pages_error_json(body, r) == -1 ? NULL : "application/json";
}

/*
 * Headers of every page; the CSP lets only a nonced style in.  <type>
 * NULL: no Content-Type (no body).
 */
static int
pages_head(struct evbuffer *out, const struct pages_resp *r,
    const char *type, size_t len, const char *nonce)
{
	if (evbuffer_add_printf(out, "HTTP/1.1 %d %s\r\n"
	    "%s%s%sContent-Length: %zu\r\nCache-Control: %s\r\n",
	    r->status, pages_reason(r->status), type != NULL ?
	    "Content-Type: " : "", type != NULL ? type : "", type != NULL ?
	    "\r\n" : "", len, r->cache != NULL ? r->cache : "no-store") == -1 ||
	    headers_add(out, r->headers, r->tls, 0, nonce) == -1)
		return -1;
	if (r->request_id != NULL &&
	    evbuffer_add_printf(out, "X-Request-Id: %s\r\n",
	    r->request_id) == -1)
		return -1;
	if (r->location != NULL && evbuffer_add_printf(out,
	    "Location: %s\r\n", r->location) == -1)
		return -1;
	if (r->extra != NULL && evbuffer_add(out, r->extra,
	    strlen(r->extra)) == -1)
		return -1;
	return evbuffer_add_printf(out, "%s\r\n", r->keep_alive ? "" :
	    "Connection: close\r\n") == -1 ? -1 : 0;
}

long
pages_send(struct evbuffer *out, const struct pages_resp *r)
{
	struct evbuffer	*body;
	char		 nonce[32];
	const char	*type, *n = NULL;
	size_t		 len;
	long		 rc = -1;

	if (r->empty) {
		if (r->body != NULL && evbuffer_drain(r->body,
		    evbuffer_get_length(r->body)) == -1)
			return -1;
		return pages_head(out, r, NULL, 0, NULL) == -1 ? -1 : 0;
	}
	if (r->body != NULL) {
		len = evbuffer_get_length(r->body);
		if (pages_head(out, r, r->body_type, len, r->nonce) == -1)
			return -1;
		if (r->head_only)
			return evbuffer_drain(r->body, len) == -1 ? -1 : 0;
		return evbuffer_add_buffer(out, r->body) == -1 ? -1 : (long)len;
	}
	if (r->html && r->json == NULL && r->error == NULL) {
		if (pages_nonce(nonce, sizeof(nonce)) == -1)
			return -1;
		n = nonce;
	}
	if ((body = evbuffer_new()) == NULL)
		return -1;
	if ((type = pages_body(r, n, body)) != NULL) {
		len = evbuffer_get_length(body);
		if (pages_head(out, r, type, len, n) == 0 && (r->head_only ||
		    evbuffer_add_buffer(out, body) == 0))
			rc = r->head_only ? 0 : (long)len;
	}
	evbuffer_free(body);
	return rc;
}

/* ---- the frame of the flows' HTML pages ---- */

int
pages_escape(struct evbuffer *out, const char *s)
{
	const char	*run = s;
	const char	*rep;

	for (; *s != '\0'; s++) {
		switch (*s) {
		case '&': rep = "&amp;"; break;
		case '<': rep = "&lt;"; break;
		case '>': rep = "&gt;"; break;
		case '"': rep = "&quot;"; break;
		case '\'': rep = "&#39;"; break;
		default: continue;
		}
		if (evbuffer_add(out, run, (size_t)(s - run)) == -1 ||
		    evbuffer_add(out, rep, strlen(rep)) == -1)
			return -1;
		run = s + 1;
	}
	return evbuffer_add(out, run, (size_t)(s - run));
}

int
pages_fill(struct evbuffer *out, const char *tpl,
    const char *const *keys, const char *const *vals)
{
	const char	*open, *close;
	size_t		 i, n;
	int		 rc = 0;

	while (rc == 0 && (open = strstr(tpl, "{{")) != NULL &&
	    (close = strstr(open, "}}")) != NULL) {
		rc |= evbuffer_add(out, tpl, (size_t)(open - tpl));
		n = (size_t)(close - open - 2);
		for (i = 0; keys[i] != NULL; i++)
			if (strlen(keys[i]) == n &&
			    strncmp(open + 2, keys[i], n) == 0)
				break;
		if (keys[i] == NULL)
			return -1;	/* a template without its value */
		rc |= pages_escape(out, vals[i] != NULL ? vals[i] : "");
		tpl = close + 2;
	}
	return rc | evbuffer_add(out, tpl, strlen(tpl));
}

static const char pages_frame_head[] =
    "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
    "<meta name=\"viewport\" content=\"width=device-width, "
    "initial-scale=1\">\n"
    /* The pages are served with Referrer-Policy: no-referrer, under which
     * browsers send "Origin: null" with a form POST (Fetch, "append a
     * request Origin header") and the same-origin check refuses the
     * gateway's own forms.  same-origin still sends nothing cross-site. */
    "<meta name=\"referrer\" content=\"same-origin\">\n"
    "<title>{{title}} - {{product}}</title>\n"
    "<style nonce=\"{{nonce}}\">\n"
    ":root{--brand:{{color}}}\n"
    "*{box-sizing:border-box}\n"
    "body{margin:0;min-height:100vh;display:flex;align-items:center;"
    "justify-content:center;background:#f4f5f7;color:#1d2330;"
    "font:16px/1.5 system-ui,-apple-system,Segoe UI,Roboto,sans-serif}\n"
    "main{width:100%;max-width:24rem;margin:1rem;padding:2rem;"
    "background:#fff;border-radius:.75rem;"
    "box-shadow:0 1px 3px rgba(0,0,0,.12)}\n"
    "h1{font-size:1.4rem;margin:0 0 1.25rem}\n"
    "img.logo{display:block;max-height:3rem;margin:0 0 1rem}\n"
    "label{display:block;font-weight:600;margin:1rem 0 .25rem}\n"
    "input{width:100%;padding:.6rem .75rem;font:inherit;"
    "border:1px solid #8a93a6;border-radius:.4rem}\n"
    "input:focus,button:focus{outline:3px solid var(--brand);"
    "outline-offset:2px}\n"
    "button{width:100%;margin-top:1.5rem;padding:.7rem;font:inherit;"
    "font-weight:600;color:#fff;background:var(--brand);border:0;"
    "border-radius:.4rem;cursor:pointer}\n"
    ".error{color:#a4161a;background:#fdecec;border-radius:.4rem;"
    "padding:.6rem .75rem;margin:0 0 1rem}\n"
    ".notice{background:#eef4ff;border-radius:.4rem;padding:.6rem .75rem;"
    "margin:0 0 1rem}\n"
    "h2{font-size:1.1rem;margin:1.75rem 0 .25rem}\n"
    "section+section{border-top:1px solid #e3e6ec;margin-top:1.5rem}\n"
    "button.secondary{background:#fff;color:#1d2330;"
    "border:1px solid #8a93a6}\n"
    "code,.codes{font:1rem/1.6 ui-monospace,Menlo,Consolas,monospace}\n"
    ".codes,.sessions{padding:0;list-style:none}\n"
    ".sessions li{padding:.6rem 0;border-bottom:1px solid #e3e6ec}\n"
    ".sessions button{width:auto;margin:.4rem 0 0;padding:.3rem .6rem}\n"
    "h3{font-size:1rem;margin:1.25rem 0 .25rem}\n"
    ".key{overflow-wrap:anywhere;word-break:break-all}\n"
    "section.danger{border-top:1px solid #e3e6ec;margin-top:1.5rem}\n"
    "section.danger h3{color:#a4161a}\n"
    "button.danger{background:#a4161a}\n"
    ".qr{display:block;width:12rem;height:12rem;margin:1rem auto}\n"
    "table{width:100%;border-collapse:collapse;font-size:.9rem}\n"
    "td,th{text-align:left;padding:.3rem .2rem;"
    "border-bottom:1px solid #e3e6ec}\n"
    "td button{width:auto;margin:0;padding:.3rem .6rem}\n"
    "a{color:var(--brand)}\n"
    "a.button{display:block;text-align:center;padding:.7rem;"
    "font-weight:600;color:#fff;background:var(--brand);"
    "border-radius:.4rem;text-decoration:none}\n"
    ".muted{color:#5b6475;font-size:.875rem}\n"
    ".muted code{font-size:.8rem;word-break:break-all}\n"
    "</style></head>\n<body><main>\n";

int
pages_begin(struct evbuffer *out, const struct pages_frame *f,
    const char *title)
{
	static const char *const keys[] = { "title", "product", "nonce",
	    "color", NULL };
	const char	*vals[] = { title, f->product, f->nonce, f->color };
	int		 rc;

	rc = pages_fill(out, pages_frame_head, keys, vals);
	if (f->logo_url != NULL) {
		rc |= evbuffer_add_printf(out, "<img class=\"logo\" src=\"") < 0;
		rc |= pages_escape(out, f->logo_url);
		rc |= evbuffer_add_printf(out, "\" alt=\"\">\n") < 0;
	}
	return rc;
}
