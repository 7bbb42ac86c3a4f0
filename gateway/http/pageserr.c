/*
 * The bodies of the gateway's error answers (see pages.h): one JSON shape
 * for every status, {"error": code, "message": sentence, "request_id":
 * id}, and for browsers one HTML page on the sign-in pages' frame.  The
 * text is fixed per status (or chosen by the caller from fixed strings);
 * the only values from a request are the request id and a 403's
 * signed-in email, and both are escaped.
 */
#include <stdio.h>
#include <string.h>

#include <event2/buffer.h>

#include "pages.h"
#include "pageserr.h"

/* The title and sentence of each status are the catalogue's
 * "error.<status>.title" and "error.<status>.text" (catalog.h). */
static const struct {
	int		 status;
	const char	*reason;
	const char	*code;		/* stable JSON error code */
} pages_table[] = {
	{ 200, "OK", "ok" },
	{ 301, "Moved Permanently", "moved" },
	{ 302, "Found", "found" },
	{ 303, "See Other", "see_other" },
	{ 400, "Bad Request", "bad_request" },
	{ 401, "Unauthorized", "unauthenticated" },
	{ 403, "Forbidden", "forbidden" },
	{ 404, "Not Found", "not_found" },
	{ 405, "Method Not Allowed", "method_not_allowed" },
	{ 408, "Request Timeout", "request_timeout" },
	{ 409, "Conflict", "conflict" },
	{ 411, "Length Required", "length_required" },
	{ 413, "Content Too Large", "body_too_large" },
	{ 414, "URI Too Long", "uri_too_long" },
	{ 415, "Unsupported Media Type", "unsupported_media_type" },
	{ 417, "Expectation Failed", "expectation_failed" },
	{ 421, "Misdirected Request", "no_app" },
	{ 429, "Too Many Requests", "rate_limited" },
	{ 431, "Request Header Fields Too Large", "headers_too_large" },
	{ 500, "Internal Server Error", "internal_error" },
	{ 502, "Bad Gateway", "upstream_unavailable" },
	{ 503, "Service Unavailable", "unavailable" },
	{ 504, "Gateway Timeout", "upstream_timeout" },
	{ 505, "HTTP Version Not Supported", "http_version_not_supported" },
};
#define PAGES_N	(sizeof(pages_table) / sizeof(pages_table[0]))

/* The codes callers choose over the status's own; their sentences are
 * the catalogue's "error.code.<code>". */
static const char *const pages_codes[] = {
	"bad_form", "https_required", "insufficient_scope", "invalid_request",
	"invalid_token", "mfa_required", "no_such_org", "not_shareable",
	"reauthentication_required",
};
#define PAGES_CODES_N	(sizeof(pages_codes) / sizeof(pages_codes[0]))

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

const char *
pages_code(int status)
{
	size_t	i = pages_find(status);

	return i == PAGES_N ? (status >= 500 ? "internal_error" :
	    "bad_request") : pages_table[i].code;
}

/* "error.<status>.<what>" into <key>, or the generic "error.<what>". */
static const char *
pages_key(int status, const char *what, char *key, size_t size)
{
	if (pages_find(status) == PAGES_N)
		(void)snprintf(key, size, "error.%s", what);
	else
		(void)snprintf(key, size, "error.%d.%s", status, what);
	return key;
}

/* The sentence of <r> in <f>'s language (NULL: English): its own, its
 * code's, or its status's. */
static const char *
pages_text(const struct pages_resp *r, const struct pages_frame *f)
{
	char	key[64];
	size_t	i;

	if (r->message != NULL)
		return pages_t(f, r->message);
	for (i = 0; r->error != NULL && i < PAGES_CODES_N; i++)
		if (strcmp(pages_codes[i], r->error) == 0) {
			(void)snprintf(key, sizeof(key), "error.code.%s",
			    r->error);
			return pages_t(f, key);
		}
	return pages_t(f, pages_key(r->status, "text", key, sizeof(key)));
}

const char *
pages_wait_text(const struct pages_frame *f, unsigned long secs, char *buf,
    size_t size)
{
	char		 num[24];
	const char	*key;
	unsigned long	 n = secs;

	if (secs < 60)
		key = secs == 1 ? "wait.second" : "wait.seconds";
	else if (secs < 3600) {
		n = (secs + 59) / 60;
		key = n == 1 ? "wait.minute" : "wait.minutes";
	} else {
		n = (secs + 3599) / 3600;
		key = n == 1 ? "wait.hour" : "wait.hours";
	}
	(void)snprintf(num, sizeof(num), "%lu", n);
	return pages_tf(f, key, &(struct pages_var){ "n", num, 0 }, 1, buf,
	    size);
}

/* Append <s> as a JSON string (quotes included); 0 or -1. */
static int
pages_json_str(struct evbuffer *out, const char *s)
{
	int	rc = evbuffer_add(out, "\"", 1);

	for (; *s != '\0' && rc == 0; s++) {
		if (*s == '"' || *s == '\\')
			rc = evbuffer_add_printf(out, "\\%c", *s) < 0;
		else if ((unsigned char)*s < 0x20)
			rc = evbuffer_add_printf(out, "\\u%04x",
			    (unsigned char)*s) < 0;
		else
			rc = evbuffer_add(out, s, 1);
	}
	return rc | evbuffer_add(out, "\"", 1);
}

int
pages_error_json(struct evbuffer *out, const struct pages_resp *r)
{
	int	rc;

	rc = evbuffer_add_printf(out, "{\"error\":") < 0;
	rc |= pages_json_str(out, r->error != NULL ? r->error :
	    pages_code(r->status));
	rc |= evbuffer_add_printf(out, ",\"message\":") < 0;
	rc |= pages_json_str(out, pages_text(r, NULL));
	rc |= evbuffer_add_printf(out, ",\"request_id\":") < 0;
	rc |= pages_json_str(out, r->request_id != NULL ? r->request_id : "");
	return rc | (evbuffer_add_printf(out, "}\n") < 0);
}

/* The 429's wait, the 403's account and the way back, as markup. */
static int
pages_error_details(struct evbuffer *out, const struct pages_resp *r,
    const struct pages_frame *f)
{
	struct evbuffer	*email;
	char		 wait[64], msg[256];
	int		 rc = 0;

	if (r->status == 429 && r->retry_after > 0) {
		(void)pages_wait_text(f, r->retry_after, wait, sizeof(wait));
		rc |= evbuffer_add_printf(out, "<p>") < 0;
		rc |= pages_escape(out, pages_tf(f, "error.retry",
		    &(struct pages_var){ "wait", wait, 0 }, 1, msg,
		    sizeof(msg)));
		rc |= evbuffer_add_printf(out, "</p>\n") < 0;
	}
	if (r->status == 403 && r->account != NULL) {
		if ((email = evbuffer_new()) == NULL)
			return -1;
		rc |= evbuffer_add_printf(email, "<strong>") < 0;
		rc |= pages_escape(email, r->account);
		rc |= evbuffer_add(email, "</strong>", 10);
		rc |= evbuffer_add_printf(out, "<p class=\"account\">") < 0;
		if (rc == 0)
			rc |= pages_render_text(out, f, "error.account",
			    &(struct pages_var){ "email", (const char *)
			    evbuffer_pullup(email, -1), 1 }, 1);
		evbuffer_free(email);
		rc |= evbuffer_add_printf(out, "</p>\n<p><a class=\"button\" "
		    "href=\"/.postern/logout\">") < 0;
		rc |= pages_escape(out, pages_t(f, "error.switch_account"));
		rc |= evbuffer_add_printf(out, "</a></p>\n") < 0;
	}
	if (r->status == 403 || r->status == 404) {
		rc |= evbuffer_add_printf(out, "<p><a href=\"/\">") < 0;
		rc |= pages_escape(out, pages_t(f, "error.back"));
		rc |= evbuffer_add_printf(out, "</a></p>\n") < 0;
	}
	return rc;
}

int
pages_error_html(struct evbuffer *out, const struct pages_resp *r,
    const char *nonce)
{
	struct pages_frame f = { "Postern", NULL, "#2b59c3", nonce, NULL,
	    NULL, 0 };
	struct evbuffer	*details;
	char		 key[64], st[16];
	const char	*title;
	int		 rc = -1;

	if (r->frame != NULL) {
		f = *r->frame;
		f.product = f.product != NULL ? f.product : "Postern";
		f.color = f.color != NULL ? f.color : "#2b59c3";
		f.nonce = nonce;
	}
	title = pages_t(&f, pages_key(r->status, "title", key, sizeof(key)));
	if ((details = evbuffer_new()) == NULL)
		return -1;
	(void)snprintf(st, sizeof(st), "%d", r->status);
	if (pages_error_details(details, r, &f) == 0 &&
	    evbuffer_add(details, "", 1) == 0) {
		const struct pages_var v[] = {
			{ "status", st, 0 },
			{ "title", title, 0 },
			{ "message", pages_text(r, &f), 0 },
			{ "details", (const char *)evbuffer_pullup(details, -1),
			    1 },
			{ "request_id", r->request_id, 0 },
		};

		rc = pages_begin(out, &f, title);
		rc |= pages_render(out, &f, PAGETMPL_ERROR, v, 5);
	}
	evbuffer_free(details);
	return rc;
}
