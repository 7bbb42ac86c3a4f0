/*
 * The reset and sign-in link pages that are templates (pagetmpl.h:
 * reset.html, reset_sent.html, reset_password.html, magic.html,
 * magic_sent.html, magic_confirm.html), filled from a loginpage: its
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

#endif
