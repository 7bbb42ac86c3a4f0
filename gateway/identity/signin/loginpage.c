/*
 * Sign-in page markup (see loginpage.h) on the pages' frame (pages.h),
 * from the templates login.html and whoami.html (pagetmpl.h) and the
 * page's language.  Every dynamic value goes through pages_escape() or a
 * template's escaping; colours and URLs were checked when the
 * configuration was loaded.
 */
#include <stdio.h>
#include <string.h>

#include <event2/buffer.h>

#include "confsso.h"
#include "encode.h"
#include "loginpage.h"
#include "pages.h"
#include "password.h"

/* Refusal codes of password_judge() (and kinds of a context word) and
 * the catalogue keys of their messages. */
static const struct {
	const char	*code;
	const char	*key;
} loginpage_refusals[] = {
	{ "utf8", "password.utf8" },
	{ "nul", "password.nul" },
	{ "length", "password.length" },
	{ "common", "password.common" },
	{ "org", "password.org" },
	{ "email_name", "password.email_name" },
	{ "email_domain", "password.email_domain" },
	{ "product", "password.word.product" },
	{ "site", "password.word.site" },
	{ "organisation", "password.word.organisation" },
};

const char *
loginpage_refusal_key(const struct password_refusal *f)
{
	const char	*code = strcmp(f->code, "word") == 0 && f->what != NULL ?
	    f->what : f->code;
	size_t		 i;

	for (i = 0; i < sizeof(loginpage_refusals) /
	    sizeof(loginpage_refusals[0]); i++)
		if (strcmp(loginpage_refusals[i].code, code) == 0)
			return loginpage_refusals[i].key;
	return "password.refused";
}

/* The message <key> of <p> with its {{wait}} and {{email}} filled. */
static int
loginpage_message(struct evbuffer *out, const struct loginpage *p,
    const char *key)
{
	char	wait[64], min[24] = "", max[24] = "", has[24] = "";
	const struct pages_var v[] = {
		{ "wait", wait, 0 },
		{ "email", p->email, 0 },
		{ "min", min, 0 },
		{ "max", max, 0 },
		{ "has", has, 0 },
	};

	(void)pages_wait_text(&p->frame, p->wait, wait, sizeof(wait));
	if (p->refused != NULL) {
		(void)snprintf(min, sizeof(min), "%zu", p->refused->min);
		(void)snprintf(max, sizeof(max), "%d", p->refused->max);
		(void)snprintf(has, sizeof(has), "%ld", p->refused->has);
	}
	return pages_render_text(out, &p->frame, key, v, 5);
}

int
loginpage_alert(struct evbuffer *out, const struct loginpage *p)
{
	int	rc = 0;

	if (p->error != NULL) {
		rc |= evbuffer_add_printf(out, "<p id=\"error\" class=\"error\" "
		    "role=\"alert\">") < 0;
		rc |= loginpage_message(out, p, p->error);
		rc |= evbuffer_add(out, "</p>\n", 5);
	} else if (p->notice != NULL) {
		rc |= evbuffer_add_printf(out, "<p class=\"notice\" "
		    "role=\"status\">") < 0;
		rc |= loginpage_message(out, p, p->notice);
		rc |= evbuffer_add(out, "</p>\n", 5);
	}
	return rc;
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
	rc |= evbuffer_add_printf(out, "<p>") < 0;
	rc |= pages_escape(out, pages_t(&p->frame, "login.sso_intro"));
	rc |= evbuffer_add_printf(out, "</p>\n<ul class=\"sso\">\n") < 0;
	for (i = 0; i < p->sso->nproviders; i++) {
		rc |= evbuffer_add_printf(out, "<li><a href=\"/.postern/sso/%s/"
		    "start?rd=%s\">", p->sso->providers[i].name, rd) < 0;
		rc |= pages_render_text(out, &p->frame, "login.sso_with",
		    &(struct pages_var){ "provider",
		    p->sso->providers[i].display_name, 0 }, 1);
		rc |= evbuffer_add_printf(out, "</a></li>\n") < 0;
	}
	return rc | (evbuffer_add_printf(out, "</ul>\n") < 0);
}

/* The links under the form: reset, magic link, providers. */
static int
loginpage_links(struct evbuffer *out, const struct loginpage *p)
{
	int	rc = 0;

	if (p->reset_link) {
		rc |= evbuffer_add_printf(out, "<p><a href=\"/.postern/reset\">")
		    < 0;
		rc |= pages_escape(out, pages_t(&p->frame, "login.forgot"));
		rc |= evbuffer_add_printf(out, "</a></p>\n") < 0;
	}
	if (p->magic_link) {
		rc |= evbuffer_add_printf(out, "<p><a href=\"/.postern/magic\">")
		    < 0;
		rc |= pages_escape(out, pages_t(&p->frame, "login.magic"));
		rc |= evbuffer_add_printf(out, "</a></p>\n") < 0;
	}
	rc |= loginpage_sso(out, p);
	return rc | evbuffer_add(out, "", 1);
}

int
loginpage_login(struct evbuffer *out, const struct loginpage *p)
{
	const char	*described = p->error != NULL ?
	    " aria-describedby=\"error\" aria-invalid=\"true\"" : "";
	int		 known = p->email != NULL && *p->email != '\0';
	char		 ea[128], pa[128];
	struct evbuffer	*alert, *links;
	int		 rc = -1;

	/* Autofocus where the user types next: the password after a failure
	 * with the email kept, else the email. */
	(void)snprintf(ea, sizeof(ea), "%s%s", described, known ? "" :
	    " autofocus");
	(void)snprintf(pa, sizeof(pa), "%s%s", described, known ?
	    " autofocus" : "");
	alert = evbuffer_new();
	links = evbuffer_new();
	if (alert != NULL && links != NULL && loginpage_alert(alert, p) == 0 &&
	    evbuffer_add(alert, "", 1) == 0 && loginpage_links(links, p) == 0) {
		const struct pages_var v[] = {
			{ "csrf", p->csrf, 0 },
			{ "rd", p->rd, 0 },
			{ "email", p->email, 0 },
			{ "alert", (const char *)evbuffer_pullup(alert, -1), 1 },
			{ "email_attrs", ea, 1 },
			{ "password_attrs", pa, 1 },
			{ "links", (const char *)evbuffer_pullup(links, -1), 1 },
		};

		rc = pages_begin(out, &p->frame, "login.title");
		rc |= pages_render(out, &p->frame, PAGETMPL_LOGIN, v, 7);
	}
	if (alert != NULL)
		evbuffer_free(alert);
	if (links != NULL)
		evbuffer_free(links);
	return rc;
}

int
loginpage_signed_in(struct evbuffer *out, const struct loginpage *p)
{
	const struct pages_var v[] = {
		{ "email", p->email, 0 },
		{ "csrf", p->csrf, 0 },
	};

	return pages_begin(out, &p->frame, "whoami.title") |
	    pages_render(out, &p->frame, PAGETMPL_WHOAMI, v, 2);
}
