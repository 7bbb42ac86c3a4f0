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

static const struct {
	int		 status;
	const char	*reason;
	const char	*code;		/* stable JSON error code */
	const char	*title;		/* heading of the page */
	const char	*text;		/* one sentence */
} pages_table[] = {
	{ 200, "OK", "ok", "OK", "OK." },
	{ 301, "Moved Permanently", "moved", "Moved",
	    "This site is only served over HTTPS." },
	{ 302, "Found", "found", "Sign in", "Please sign in first." },
	{ 303, "See Other", "see_other", "Continue",
	    "Continue to the next page." },
	{ 400, "Bad Request", "bad_request", "Bad request",
	    "The request was malformed." },
	{ 401, "Unauthorized", "unauthenticated", "Sign in required",
	    "Please sign in to continue." },
	{ 403, "Forbidden", "forbidden", "Access denied",
	    "You do not have access to this page." },
	{ 404, "Not Found", "not_found", "Page not found",
	    "There is nothing here." },
	{ 405, "Method Not Allowed", "method_not_allowed", "Not allowed",
	    "This method is not allowed." },
	{ 408, "Request Timeout", "request_timeout", "Too slow",
	    "The request took too long to arrive." },
	{ 409, "Conflict", "conflict", "Conflict",
	    "Something changed meanwhile. Please try again." },
	{ 411, "Length Required", "length_required", "Length required",
	    "The request must state its length." },
	{ 413, "Content Too Large", "body_too_large", "Too large",
	    "The request body is too large." },
	{ 414, "URI Too Long", "uri_too_long", "Address too long",
	    "The request target is too long." },
	{ 415, "Unsupported Media Type", "unsupported_media_type",
	    "Unsupported form", "The form was sent in a format this page "
	    "does not accept." },
	{ 417, "Expectation Failed", "expectation_failed",
	    "Expectation failed", "The expectation cannot be met." },
	{ 421, "Misdirected Request", "no_app", "No app here",
	    "There is no app at this address." },
	{ 429, "Too Many Requests", "rate_limited", "Please wait",
	    "Too many requests. Please wait a moment and try again." },
	{ 431, "Request Header Fields Too Large", "headers_too_large",
	    "Headers too large", "The request headers are too large." },
	{ 500, "Internal Server Error", "internal_error", "Something went "
	    "wrong", "Something went wrong on our side." },
	{ 502, "Bad Gateway", "upstream_unavailable", "App unreachable",
	    "The application is not reachable." },
	{ 503, "Service Unavailable", "unavailable", "Temporarily "
	    "unavailable", "The service is unavailable. Please try again "
	    "shortly." },
	{ 504, "Gateway Timeout", "upstream_timeout", "App did not answer",
	    "The application did not answer in time." },
	{ 505, "HTTP Version Not Supported", "http_version_not_supported",
	    "Unsupported", "This HTTP version is not supported." },
};
#define PAGES_N	(sizeof(pages_table) / sizeof(pages_table[0]))

/* Messages of the codes callers choose over the status's own. */
static const struct {
	const char	*code;
	const char	*text;
} pages_codes[] = {
	{ "bad_form", "The form could not be read." },
	{ "https_required", "This request must be sent over HTTPS." },
	{ "insufficient_scope", "The API key lacks a scope this request "
	    "needs." },
	{ "invalid_request", "The request is not valid." },
	{ "invalid_token", "The token is not valid." },
	{ "mfa_required", "A second factor is required." },
	{ "no_such_org", "No such organisation." },
	{ "not_shareable", "This page cannot be shared." },
	{ "reauthentication_required", "Please sign in again to continue." },
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

/* The sentence of <r>: its own, its code's, or its status's. */
static const char *
pages_text(const struct pages_resp *r)
{
	size_t	i;

	if (r->message != NULL)
		return r->message;
	for (i = 0; r->error != NULL && i < PAGES_CODES_N; i++)
		if (strcmp(pages_codes[i].code, r->error) == 0)
			return pages_codes[i].text;
	i = pages_find(r->status);
	return i == PAGES_N ? "Error." : pages_table[i].text;
}

const char *
pages_wait_text(unsigned long secs, char *buf, size_t size)
{
	unsigned long	n;

	if (secs < 60)
		(void)snprintf(buf, size, "%lu second%s", secs,
		    secs == 1 ? "" : "s");
	else if (secs < 3600) {
		n = (secs + 59) / 60;
		(void)snprintf(buf, size, "%lu minute%s", n, n == 1 ? "" : "s");
	} else {
		n = (secs + 3599) / 3600;
		(void)snprintf(buf, size, "%lu hour%s", n, n == 1 ? "" : "s");
	}
	return buf;
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
	rc |= pages_json_str(out, pages_text(r));
	rc |= evbuffer_add_printf(out, ",\"request_id\":") < 0;
	rc |= pages_json_str(out, r->request_id != NULL ? r->request_id : "");
	return rc | (evbuffer_add_printf(out, "}\n") < 0);
}

/* A 403's account line and the way out of it. */
static int
pages_error_account(struct evbuffer *out, const char *email)
{
	int	rc;

	rc = evbuffer_add_printf(out, "<p class=\"account\">You are signed "
	    "in as <strong>") < 0;
	rc |= pages_escape(out, email);
	return rc | (evbuffer_add_printf(out, "</strong>.</p>\n<p><a "
	    "class=\"button\" href=\"/.postern/logout\">Sign out / use "
	    "another account</a></p>\n") < 0);
}

int
pages_error_html(struct evbuffer *out, const struct pages_resp *r,
    const char *nonce)
{
	struct pages_frame f = { "Postern", NULL, "#2b59c3", nonce };
	size_t		 i = pages_find(r->status);
	const char	*title = i == PAGES_N ? "Error" : pages_table[i].title;
	char		 wait[32];
	int		 rc;

	if (r->frame != NULL) {
		f.product = r->frame->product != NULL ? r->frame->product :
		    f.product;
		f.logo_url = r->frame->logo_url;
		f.color = r->frame->color != NULL ? r->frame->color : f.color;
	}
	rc = pages_begin(out, &f, title);
	rc |= evbuffer_add_printf(out, "<h1>") < 0;
	rc |= pages_escape(out, title);
	rc |= evbuffer_add_printf(out, "</h1>\n<p>") < 0;
	rc |= pages_escape(out, pages_text(r));
	rc |= evbuffer_add_printf(out, "</p>\n") < 0;
	if (r->status == 429 && r->retry_after > 0)
		rc |= evbuffer_add_printf(out, "<p>Please try again in %s."
		    "</p>\n", pages_wait_text(r->retry_after, wait,
		    sizeof(wait))) < 0;
	if (r->status == 403 && r->account != NULL)
		rc |= pages_error_account(out, r->account);
	if (r->status == 403 || r->status == 404)
		rc |= evbuffer_add_printf(out, "<p><a href=\"/\">Back to "
		    "the app</a></p>\n") < 0;
	rc |= evbuffer_add_printf(out, "<p class=\"muted\">Error %d. "
	    "Request id: <code>", r->status) < 0;
	rc |= pages_escape(out, r->request_id != NULL ? r->request_id : "");
	return rc | (evbuffer_add_printf(out, "</code></p>\n"
	    "</main></body></html>\n") < 0);
}
