/*
 * The reset and sign-in link pages that are templates (pagetmpl.h:
 * reset.html, reset_sent.html, reset_password.html, magic.html,
 * magic_sent.html, magic_confirm.html, link_refused.html,
 * reset_done.html), filled from a loginpage: its
 * alert, its CSRF token and return URL, and the attributes the fields
 * need (a kept email, aria-describedby when there is an error).
 */
#ifndef POSTERN_RECOVERPAGE_H
#define POSTERN_RECOVERPAGE_H

#include "pagetmpl.h"

struct evbuffer;
struct loginpage;

/*
 * Append template <id> after the frame: <email> kept in the email field
 * (may be empty), <token> the link's token (hidden field; may be empty).
 * 0, or -1 if <out> could not grow.
 */
int	recoverpage_render(struct evbuffer *out, const struct loginpage *lp,
	    enum pagetmpl_id id, const char *email, const char *token);

/*
 * Append link_refused.html after the frame: heading <title>, <message>,
 * and the link <again> (an address) named <again_text>, all escaped.
 * 0, or -1 if <out> could not grow.
 */
int	recoverpage_refused(struct evbuffer *out, const struct loginpage *lp,
	    const char *title, const char *message, const char *again,
	    const char *again_text);

/* Append reset_done.html after the frame.  0, or -1. */
int	recoverpage_done(struct evbuffer *out, const struct loginpage *lp);

#endif
