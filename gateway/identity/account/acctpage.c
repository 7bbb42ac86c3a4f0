/*
 * Account page building blocks (see acctpage.h).
 */
#include <stdio.h>
#include <string.h>

#include <event2/buffer.h>

#include "acctpage.h"
#include "loginpage.h"
#include "pages.h"

static int
acctpage_add(struct evbuffer *out, const char *s)
{
	return evbuffer_add(out, s, strlen(s));
}

/* <pre><escaped s><post> */
static int
acctpage_wrap(struct evbuffer *out, const char *pre, const char *s,
    const char *post)
{
	return acctpage_add(out, pre) | pages_escape(out, s) |
	    acctpage_add(out, post);
}

int
acctpage_heading(struct evbuffer *out, int level, const char *text)
{
	static const char *const open[] = { "<h1>", "<h2>", "<h3>" };
	static const char *const close[] = { "</h1>\n", "</h2>\n",
	    "</h3>\n" };

	if (level < 1 || level > 3)
		level = 3;
	return acctpage_wrap(out, open[level - 1], text, close[level - 1]);
}

int
acctpage_para(struct evbuffer *out, const char *text, const char *strong)
{
	int	rc = acctpage_wrap(out, "<p>", text, "");

	if (strong != NULL)
		rc |= acctpage_wrap(out, " <strong>", strong, "</strong>");
	return rc | acctpage_add(out, "</p>\n");
}

int
acctpage_link(struct evbuffer *out, const char *href, const char *text)
{
	return acctpage_wrap(out, "<p><a href=\"", href, "\">") |
	    acctpage_wrap(out, "", text, "</a></p>\n");
}

static int
acctpage_hidden(struct evbuffer *out, const char *name, const char *value)
{
	return acctpage_wrap(out, "<input type=\"hidden\" name=\"", name,
	    "\" value=\"") | acctpage_wrap(out, "", value != NULL ? value : "",
	    "\">\n");
}

static int
acctpage_field(struct evbuffer *out, const struct loginpage *lp,
    const struct acctpage_field *fd, int focus)
{
	const char *id = fd->id != NULL ? fd->id : fd->name;
	int	rc;

	rc = acctpage_wrap(out, "<label for=\"", id, "\">");
	rc |= acctpage_wrap(out, "", pages_t(&lp->frame, fd->label),
	    "</label>\n");
	rc |= acctpage_wrap(out, "<input id=\"", id, "\" name=\"");
	rc |= acctpage_wrap(out, "", fd->name, "\" type=\"");
	rc |= acctpage_wrap(out, "", fd->type, "\" autocomplete=\"");
	rc |= acctpage_wrap(out, "", fd->autocomplete, "\"");
	if (fd->inputmode != NULL)
		rc |= acctpage_wrap(out, " inputmode=\"", fd->inputmode, "\"");
	if (fd->value != NULL)
		rc |= acctpage_wrap(out, " value=\"", fd->value, "\"");
	if (lp->error != NULL)
		rc |= acctpage_add(out, " aria-describedby=\"error\" "
		    "aria-invalid=\"true\"");
	if (strcmp(fd->type, "password") == 0)
		rc |= acctpage_add(out, " maxlength=\"1024\"");
	return rc | acctpage_add(out, focus ? " required autofocus>\n" :
	    " required>\n");
}

int
acctpage_form(struct evbuffer *out, const struct loginpage *lp,
    const struct acctpage_form *f)
{
	size_t	i;
	int	rc;

	rc = acctpage_wrap(out, "<form method=\"post\" action=\"", f->action,
	    "\" novalidate>\n");
	rc |= acctpage_hidden(out, "csrf", lp->csrf);
	if (lp->rd != NULL)
		rc |= acctpage_hidden(out, "rd", lp->rd);
	for (i = 0; i < 4 && f->hidden[i][0] != NULL; i++)
		rc |= acctpage_hidden(out, f->hidden[i][0], f->hidden[i][1]);
	for (i = 0; i < f->nfields; i++)
		rc |= acctpage_field(out, lp, &f->fields[i], f->focus &&
		    i == 0);
	rc |= acctpage_add(out, f->danger ? "<button type=\"submit\" "
	    "class=\"danger\">" : f->secondary ? "<button type=\"submit\" "
	    "class=\"secondary\">" : "<button type=\"submit\">");
	return rc | acctpage_wrap(out, "", pages_t(&lp->frame, f->submit),
	    "</button>\n</form>\n");
}

int
acctpage_codes(struct evbuffer *out, const char *const *codes, size_t n)
{
	size_t	i;
	int	rc = acctpage_add(out, "<ul class=\"codes\">\n");

	for (i = 0; i < n; i++)
		rc |= acctpage_wrap(out, "<li><code>", codes[i],
		    "</code></li>\n");
	return rc | acctpage_add(out, "</ul>\n");
}

/*
 * The "Copy" script: the text of the list before it, one code a line.
 * Fixed text, no value of the page in it: the words it shows come from
 * its own data-done and data-failed attributes (escaped there).
 */
static const char acctpage_copy_js[] =
    "var d=document.currentScript.dataset;"
    "document.getElementById('copy').addEventListener('click',function(){"
    "var t=Array.prototype.map.call(document.querySelectorAll("
    "'.codes code'),function(c){return c.textContent}).join('\\n')+'\\n';"
    "var b=this;navigator.clipboard.writeText(t).then(function(){"
    "b.textContent=d.done},function(){b.textContent=d.failed})});";

int
acctpage_codes_tools(struct evbuffer *out, const struct loginpage *lp,
    const char *action, const char *const *codes, size_t n)
{
	char	name[32];
	size_t	i;
	int	rc;

	rc = acctpage_wrap(out, "<button type=\"button\" id=\"copy\" "
	    "class=\"secondary\">", pages_t(&lp->frame, "mfa.copy"),
	    "</button>\n");
	rc |= acctpage_wrap(out, "<script nonce=\"", lp->frame.nonce, "\"");
	rc |= acctpage_wrap(out, " data-done=\"", pages_t(&lp->frame,
	    "mfa.copied"), "\"");
	rc |= acctpage_wrap(out, " data-failed=\"", pages_t(&lp->frame,
	    "mfa.copy_failed"), "\">");
	rc |= acctpage_add(out, acctpage_copy_js);
	rc |= acctpage_add(out, "</script>\n");
	rc |= acctpage_wrap(out, "<form method=\"post\" action=\"", action,
	    "\">\n");
	rc |= acctpage_hidden(out, "csrf", lp->csrf);
	for (i = 0; i < n; i++) {
		(void)snprintf(name, sizeof(name), "code%zu", i);
		rc |= acctpage_hidden(out, name, codes[i]);
	}
	return rc | acctpage_wrap(out, "<button type=\"submit\" "
	    "class=\"secondary\">", pages_t(&lp->frame, "mfa.download"),
	    "</button>\n</form>\n");
}

int
acctpage_key(struct evbuffer *out, const char *label, const char *key)
{
	char	grouped[256];
	size_t	i, n = 0;

	for (i = 0; key[i] != '\0' && n + 2 < sizeof(grouped); i++) {
		if (i > 0 && i % 4 == 0)
			grouped[n++] = ' ';
		grouped[n++] = key[i];
	}
	grouped[n] = '\0';
	return acctpage_wrap(out, "<p>", label, "</p>\n") |
	    acctpage_wrap(out, "<p><code class=\"key\">", grouped,
	    "</code></p>\n");
}

int
acctpage_danger(struct evbuffer *out, int open)
{
	return acctpage_add(out, open ? "<section class=\"danger\">\n" :
	    "</section>\n");
}

int
acctpage_section(struct evbuffer *out, int open)
{
	return acctpage_add(out, open ? "<section>\n" : "</section>\n");
}
