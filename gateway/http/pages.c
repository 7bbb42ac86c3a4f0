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

#include "catalog.h"
#include "headers.h"
#include "pages.h"
#include "pageserr.h"
#include "pagetmpl.h"

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
    const char *type, size_t len, const char *nonce, const char *lang)
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
	/* A page chosen by Accept-Language says so to caches (RFC 9110
	 * sections 12.5.5 and 8.5). */
	if (lang != NULL && evbuffer_add_printf(out, "Content-Language: %s\r\n"
	    "Vary: Accept-Language\r\n", lang) == -1)
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
		return pages_head(out, r, NULL, 0, NULL, NULL) == -1 ? -1 : 0;
	}
	if (r->body != NULL) {
		len = evbuffer_get_length(r->body);
		if (pages_head(out, r, r->body_type, len, r->nonce,
		    r->lang) == -1)
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
		if (pages_head(out, r, type, len, n, n == NULL ? NULL :
		    r->lang != NULL ? r->lang : catalog_tag(r->frame != NULL ?
		    r->frame->cat : NULL, r->frame != NULL ? r->frame->lang :
		    0)) == 0 && (r->head_only ||
		    evbuffer_add_buffer(out, body) == 0))
			rc = r->head_only ? 0 : (long)len;
	}
	evbuffer_free(body);
	return rc;
}

/* ---- the frame of the flows' HTML pages ---- */

/* pages_escape() of the <len> bytes at <s>. */
static int
pages_escape_n(struct evbuffer *out, const char *s, size_t len)
{
	const char	*run = s, *end = s + len;
	const char	*rep;

	for (; s < end; s++) {
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
pages_escape(struct evbuffer *out, const char *s)
{
	return pages_escape_n(out, s, strlen(s));
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

/* How pages_expand() writes what it reads. */
enum pages_mode {
	PAGES_TEMPLATE = 0,	/* markup as is, values escaped unless raw,
				 * {{t:key}} expanded */
	PAGES_TEXT_HTML,	/* a message: all of it escaped */
	PAGES_TEXT_PLAIN,	/* a message: nothing escaped */
};

const char *
pages_t(const struct pages_frame *f, const char *key)
{
	return catalog_get(f != NULL ? f->cat : NULL, f != NULL ? f->lang : 0,
	    key);
}

/* The value of <name> (<len> bytes): <v>'s, else the frame's, or NULL. */
static const char *
pages_value(const struct pages_frame *f, const struct pages_var *v,
    size_t n, const char *name, size_t len, int *raw)
{
	size_t	i;

	*raw = 0;
	for (i = 0; i < n; i++)
		if (strlen(v[i].key) == len && strncmp(v[i].key, name,
		    len) == 0) {
			*raw = v[i].raw;
			return v[i].val != NULL ? v[i].val : "";
		}
	if (len == 4 && strncmp(name, "lang", 4) == 0)
		return catalog_tag(f != NULL ? f->cat : NULL, f != NULL ?
		    f->lang : 0);
	if (len == 7 && strncmp(name, "product", 7) == 0 && f != NULL &&
	    f->product != NULL)
		return f->product;
	return NULL;
}

/* Append <len> bytes of <s> as mode <m> writes markup or text. */
static int
pages_put(struct evbuffer *out, const char *s, size_t len, enum pages_mode m)
{
	return m == PAGES_TEXT_HTML ? pages_escape_n(out, s, len) :
	    evbuffer_add(out, s, len);
}

static int
pages_expand(struct evbuffer *out, const struct pages_frame *f,
    const char *s, const struct pages_var *v, size_t n, enum pages_mode m);

/* Expand {{t:key}} (<len> bytes of <name> after "t:") in a template. */
static int
pages_expand_t(struct evbuffer *out, const struct pages_frame *f,
    const char *name, size_t len, const struct pages_var *v, size_t n)
{
	char	key[CATALOG_KEY_MAX + 1];

	if (len > CATALOG_KEY_MAX)
		return -1;
	memcpy(key, name, len);
	key[len] = '\0';
	return pages_expand(out, f, pages_t(f, key), v, n, PAGES_TEXT_HTML);
}

/* Append <s>, its {{name}} replaced, as mode <m> says. */
static int
pages_expand(struct evbuffer *out, const struct pages_frame *f,
    const char *s, const struct pages_var *v, size_t n, enum pages_mode m)
{
	const char	*open, *close, *val;
	size_t		 len;
	int		 raw, rc = 0;

	while (rc == 0 && (open = strstr(s, "{{")) != NULL &&
	    (close = strstr(open + 2, "}}")) != NULL) {
		rc |= pages_put(out, s, (size_t)(open - s), m);
		len = (size_t)(close - open - 2);
		if (m == PAGES_TEMPLATE && len > 2 && strncmp(open + 2, "t:",
		    2) == 0)
			rc |= pages_expand_t(out, f, open + 4, len - 2, v, n);
		else if ((val = pages_value(f, v, n, open + 2, len,
		    &raw)) == NULL) {
			if (m == PAGES_TEMPLATE)
				return -1;	/* checked at load: a bug */
			/* a sentence passed for a key may hold braces */
			rc |= pages_put(out, open, len + 4, m);
		}
		else if (m == PAGES_TEXT_PLAIN || raw)
			rc |= evbuffer_add(out, val, strlen(val));
		else
			rc |= pages_escape(out, val);
		s = close + 2;
	}
	return rc | pages_put(out, s, strlen(s), m);
}

int
pages_render(struct evbuffer *out, const struct pages_frame *f,
    enum pagetmpl_id id, const struct pages_var *v, size_t n)
{
	return pages_expand(out, f, pagetmpl_text(f != NULL ? f->tmpl : NULL,
	    id), v, n, PAGES_TEMPLATE);
}

int
pages_render_text(struct evbuffer *out, const struct pages_frame *f,
    const char *key, const struct pages_var *v, size_t n)
{
	return pages_expand(out, f, pages_t(f, key), v, n, PAGES_TEXT_HTML);
}

const char *
pages_tf(const struct pages_frame *f, const char *key,
    const struct pages_var *v, size_t n, char *buf, size_t size)
{
	struct evbuffer	*b;
	size_t		 len = 0;

	buf[0] = '\0';
	if ((b = evbuffer_new()) == NULL)
		return buf;
	if (pages_expand(b, f, pages_t(f, key), v, n, PAGES_TEXT_PLAIN) == 0) {
		len = evbuffer_get_length(b);
		if (len >= size)
			len = size - 1;
		(void)evbuffer_remove(b, buf, len);
		buf[len] = '\0';
	}
	evbuffer_free(b);
	return buf;
}

/* The logo's <img>, or "", into <logo>, NUL-terminated; 0 or -1. */
static int
pages_logo(struct evbuffer *logo, const struct pages_frame *f)
{
	int	rc = 0;

	if (f->logo_url != NULL) {
		rc |= evbuffer_add_printf(logo, "<img class=\"logo\" "
		    "src=\"") < 0;
		rc |= pages_escape(logo, f->logo_url);
		rc |= evbuffer_add_printf(logo, "\" alt=\"\">\n") < 0;
	}
	return rc | evbuffer_add(logo, "", 1);
}

int
pages_begin(struct evbuffer *out, const struct pages_frame *f,
    const char *title)
{
	struct evbuffer	*logo;
	int		 rc = -1;

	if ((logo = evbuffer_new()) == NULL)
		return -1;
	if (pages_logo(logo, f) == 0) {
		const struct pages_var v[] = {
			{ "title", pages_t(f, title), 0 },
			{ "nonce", f->nonce, 0 },
			{ "color", f->color, 0 },
			{ "logo", (const char *)evbuffer_pullup(logo, -1), 1 },
		};

		rc = pages_render(out, f, PAGETMPL_HEAD, v, 4);
	}
	evbuffer_free(logo);
	return rc;
}
