/*
 * The reset and sign-in link pages' templates filled (see recoverpage.h).
 * Every value is escaped by the template but the alert and the fields'
 * attributes, made here with pages_escape().
 */
#include <string.h>

#include <event2/buffer.h>

#include "loginpage.h"
#include "pages.h"
#include "recoverpage.h"

#define RECOVERPAGE_ARIA " aria-describedby=\"error\" aria-invalid=\"true\""

/* The email field's attributes: its kept value, and the error's. */
static int
recoverpage_email_attrs(struct evbuffer *b, const struct loginpage *lp,
    const char *email)
{
	int	rc = 0;

	if (email != NULL && *email != '\0')
		rc |= evbuffer_add_printf(b, " value=\"") < 0 ||
		    pages_escape(b, email) != 0 ||
		    evbuffer_add(b, "\"", 1) != 0;
	if (lp->error != NULL)
		rc |= evbuffer_add(b, RECOVERPAGE_ARIA,
		    strlen(RECOVERPAGE_ARIA)) != 0;
	return rc | (evbuffer_add(b, "", 1) != 0);
}

int
recoverpage_render(struct evbuffer *out, const struct loginpage *lp,
    enum pagetmpl_id id, const char *email, const char *token)
{
	struct evbuffer	*alert, *ea;
	int		 rc = -1;

	alert = evbuffer_new();
	ea = evbuffer_new();
	if (alert != NULL && ea != NULL && loginpage_alert(alert, lp) == 0 &&
	    evbuffer_add(alert, "", 1) == 0 &&
	    recoverpage_email_attrs(ea, lp, email) == 0) {
		const struct pages_var v[] = {
			{ "csrf", lp->csrf, 0 },
			{ "rd", lp->rd, 0 },
			{ "token", token, 0 },
			{ "email", email, 0 },
			{ "alert", (const char *)evbuffer_pullup(alert, -1), 1 },
			{ "email_attrs", (const char *)evbuffer_pullup(ea, -1),
			    1 },
			{ "password_attrs", lp->error != NULL ?
			    RECOVERPAGE_ARIA : "", 1 },
		};

		rc = pages_render(out, &lp->frame, id, v, 7);
	}
	if (alert != NULL)
		evbuffer_free(alert);
	if (ea != NULL)
		evbuffer_free(ea);
	return rc;
}

/* <out> gets template <id> with <v>[0..<n>) and the alert. */
static int
recoverpage_alerted(struct evbuffer *out, const struct loginpage *lp,
    enum pagetmpl_id id, struct pages_var *v, size_t n)
{
	struct evbuffer	*alert;
	int		 rc = -1;

	if ((alert = evbuffer_new()) == NULL)
		return -1;
	if (loginpage_alert(alert, lp) == 0 && evbuffer_add(alert, "", 1) == 0) {
		v[n] = (struct pages_var){ "alert",
		    (const char *)evbuffer_pullup(alert, -1), 1 };
		rc = pages_render(out, &lp->frame, id, v, n + 1);
	}
	evbuffer_free(alert);
	return rc;
}

int
recoverpage_refused(struct evbuffer *out, const struct loginpage *lp,
    const char *title, const char *message, const char *again,
    const char *again_text)
{
	struct pages_var v[] = {
		{ "title", title, 0 },
		{ "message", message, 0 },
		{ "again", again, 0 },
		{ "again_text", again_text, 0 },
		{ NULL, NULL, 0 },
	};

	return recoverpage_alerted(out, lp, PAGETMPL_LINK_REFUSED, v, 4);
}

int
recoverpage_done(struct evbuffer *out, const struct loginpage *lp)
{
	struct pages_var v[1];

	return recoverpage_alerted(out, lp, PAGETMPL_RESET_DONE, v, 0);
}
