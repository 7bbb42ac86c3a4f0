/*
 * Sign-in page markup (see loginpage.h) on the pages' frame (pages.h).
 * Every dynamic value goes through pages_escape() or pages_fill(); colours
 * and URLs were checked when the configuration was loaded.
 */
#include <string.h>

#include <event2/buffer.h>

#include "confsso.h"
#include "encode.h"
#include "loginpage.h"
#include "pages.h"

int
loginpage_alert(struct evbuffer *out, const struct loginpage *p)
{
	int	rc = 0;

	if (p->error != NULL) {
		rc |= evbuffer_add_printf(out, "<p id=\"error\" class=\"error\" "
		    "role=\"alert\">") < 0;
		rc |= pages_escape(out, p->error);
		rc |= evbuffer_add(out, "</p>\n", 5);
	} else if (p->notice != NULL) {
		rc |= evbuffer_add_printf(out, "<p class=\"notice\" "
		    "role=\"status\">") < 0;
		rc |= pages_escape(out, p->notice);
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
		rc |= pages_escape(out, p->sso->providers[i].display_name);
		rc |= evbuffer_add_printf(out, "</a></li>\n") < 0;
	}
	return rc | (evbuffer_add_printf(out, "</ul>\n") < 0);
}

int
loginpage_login(struct evbuffer *out, const struct loginpage *p)
{
	static const char *const keys[] = { "product", "csrf", "rd", "email",
	    NULL };
	const char	*vals[] = { p->frame.product, p->csrf, p->rd, p->email };
	char		 tpl[sizeof(loginpage_form) + 128];
	const char	*described = p->error != NULL ?
	    " aria-describedby=\"error\" aria-invalid=\"true\"" : "";
	int		 rc;

	rc = pages_begin(out, &p->frame, "Sign in");
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
	rc |= pages_fill(out, tpl, keys, vals);
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
	const char	*vals[] = { p->frame.product, p->email, p->csrf };

	return pages_begin(out, &p->frame, "Signed in") |
	    pages_fill(out, loginpage_whoami, keys, vals);
}
