/*
 * Sign-in page markup (see loginpage.h).  Every dynamic value goes through
 * loginpage_escape(); colours and URLs were checked when the configuration
 * was loaded.
 */
#include <string.h>

#include <event2/buffer.h>

#include "confsso.h"
#include "encode.h"
#include "loginpage.h"

int
loginpage_escape(struct evbuffer *out, const char *s)
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

/* Append a template: "{{x}}" is replaced by the escaped value of key x. */
static int
loginpage_fill(struct evbuffer *out, const char *tpl,
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
		rc |= loginpage_escape(out, vals[i] != NULL ? vals[i] : "");
		tpl = close + 2;
	}
	return rc | evbuffer_add(out, tpl, strlen(tpl));
}

static const char loginpage_head[] =
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
    ".codes{columns:2;padding:0;list-style:none}\n"
    ".qr{display:block;width:12rem;height:12rem;margin:1rem auto}\n"
    "table{width:100%;border-collapse:collapse;font-size:.9rem}\n"
    "td,th{text-align:left;padding:.3rem .2rem;"
    "border-bottom:1px solid #e3e6ec}\n"
    "td button{width:auto;margin:0;padding:.3rem .6rem}\n"
    "</style></head>\n<body><main>\n";

int
loginpage_begin(struct evbuffer *out, const struct loginpage *p,
    const char *title)
{
	static const char *const keys[] = { "title", "product", "nonce",
	    "color", NULL };
	const char	*vals[] = { title, p->product, p->nonce, p->color };
	int		 rc;

	rc = loginpage_fill(out, loginpage_head, keys, vals);
	if (p->logo_url != NULL) {
		rc |= evbuffer_add_printf(out, "<img class=\"logo\" src=\"") < 0;
		rc |= loginpage_escape(out, p->logo_url);
		rc |= evbuffer_add_printf(out, "\" alt=\"\">\n") < 0;
	}
	return rc;
}

int
loginpage_alert(struct evbuffer *out, const struct loginpage *p)
{
	int	rc = 0;

	if (p->error != NULL) {
		rc |= evbuffer_add_printf(out, "<p id=\"error\" class=\"error\" "
		    "role=\"alert\">") < 0;
		rc |= loginpage_escape(out, p->error);
		rc |= evbuffer_add(out, "</p>\n", 5);
	} else if (p->notice != NULL) {
		rc |= evbuffer_add_printf(out, "<p class=\"notice\" "
		    "role=\"status\">") < 0;
		rc |= loginpage_escape(out, p->notice);
		rc |= evbuffer_add(out, "</p>\n", 5);
	}
	return rc;
}

static const char loginpage_form[] =
    "<h1>Sign in to {{product}}</h1>\n"
    "<form method=\"post\" action=\"/.postern/login\" novalidate>\n"
    "<input type=\"hidden\" name=\"csrf\" value=\"{{csrf}}\">\n"
    "<input type=\"hidden\" name=\"rd\" value=\"{{rd}}\">\n"
    "<label for=\"email\">Email</label>\n"
    "<input id=\"email\" name=\"email\" type=\"email\" "
    "autocomplete=\"username\" required value=\"{{email}}\"{{described}}"
    "{{focus_email}}>\n"
    "<label for=\"password\">Password</label>\n"
    "<input id=\"password\" name=\"password\" type=\"password\" "
    "autocomplete=\"current-password\" required minlength=\"1\" "
    "maxlength=\"1024\"{{described}}{{focus_password}}>\n"
    "<button type=\"submit\">Sign in</button>\n"
    "</form>\n";

/* Replace the first <pat> in <tpl> by the trusted markup <rep>. */
static int
loginpage_subst(char *tpl, size_t size, const char *pat, const char *rep)
{
	char	*at = strstr(tpl, pat);
	size_t	 plen = strlen(pat), rlen = strlen(rep), tail;

	if (at == NULL)
		return -1;
	tail = strlen(at + plen) + 1;
	if ((size_t)(at - tpl) + rlen + tail > size)
		return -1;
	memmove(at + rlen, at + plen, tail);
	memcpy(at, rep, rlen);
	return 0;
}

/* A link per single sign-on provider, keeping the return URL. */
static int
loginpage_sso(struct evbuffer *out, const struct loginpage *p)
{
	char	rd[3 * 2048 + 1];
	size_t	i;
	int	rc = 0;

	if (p->sso == NULL || p->sso->nproviders == 0)
		return 0;
	if (encode_pct(p->rd != NULL ? p->rd : "/", "", rd, sizeof(rd)) < 0)
		(void)strcpy(rd, "%2F");
	rc |= evbuffer_add_printf(out, "<p>Or sign in with your "
	    "organisation's account:</p>\n<ul class=\"sso\">\n") < 0;
	for (i = 0; i < p->sso->nproviders; i++) {
		rc |= evbuffer_add_printf(out, "<li><a href=\"/.postern/sso/%s/"
		    "start?rd=%s\">Sign in with ", p->sso->providers[i].name,
		    rd) < 0;
		rc |= loginpage_escape(out, p->sso->providers[i].display_name);
		rc |= evbuffer_add_printf(out, "</a></li>\n") < 0;
	}
	return rc | (evbuffer_add_printf(out, "</ul>\n") < 0);
}

int
loginpage_login(struct evbuffer *out, const struct loginpage *p)
{
	static const char *const keys[] = { "product", "csrf", "rd", "email",
	    NULL };
	const char	*vals[] = { p->product, p->csrf, p->rd, p->email };
	char		 tpl[sizeof(loginpage_form) + 128];
	const char	*described = p->error != NULL ?
	    " aria-describedby=\"error\" aria-invalid=\"true\"" : "";
	int		 rc;

	rc = loginpage_begin(out, p, "Sign in");
	rc |= loginpage_alert(out, p);
	/* Autofocus where the user types next: the password after a failure
	 * with the email kept, else the email. */
	(void)strcpy(tpl, loginpage_form);
	rc |= loginpage_subst(tpl, sizeof(tpl), "{{described}}", described);
	rc |= loginpage_subst(tpl, sizeof(tpl), "{{described}}", described);
	rc |= loginpage_subst(tpl, sizeof(tpl), "{{focus_email}}",
	    p->email == NULL || *p->email == '\0' ? " autofocus" : "");
	rc |= loginpage_subst(tpl, sizeof(tpl), "{{focus_password}}",
	    p->email != NULL && *p->email != '\0' ? " autofocus" : "");
	rc |= loginpage_fill(out, tpl, keys, vals);
	if (p->reset_link)
		rc |= evbuffer_add_printf(out, "<p><a href=\"/.postern/reset\">"
		    "Forgot your password?</a></p>\n") < 0;
	if (p->magic_link)
		rc |= evbuffer_add_printf(out, "<p><a href=\"/.postern/magic\">"
		    "Email me a sign-in link</a></p>\n") < 0;
	rc |= loginpage_sso(out, p);
	return rc | (evbuffer_add_printf(out, "</main></body></html>\n") < 0);
}

static const char loginpage_whoami[] =
    "<h1>{{product}}</h1>\n<p>You are signed in as <strong>{{email}}</strong>."
    "</p>\n<form method=\"post\" action=\"/.postern/logout\">\n"
    "<input type=\"hidden\" name=\"csrf\" value=\"{{csrf}}\">\n"
    "<button type=\"submit\" autofocus>Sign out</button>\n"
    "</form>\n<p><a href=\"/.postern/account\">Your account</a></p>\n"
    "</main></body></html>\n";

int
loginpage_signed_in(struct evbuffer *out, const struct loginpage *p)
{
	static const char *const keys[] = { "product", "email", "csrf",
	    NULL };
	const char	*vals[] = { p->product, p->email, p->csrf };

	return loginpage_begin(out, p, "Signed in") |
	    loginpage_fill(out, loginpage_whoami, keys, vals);
}
