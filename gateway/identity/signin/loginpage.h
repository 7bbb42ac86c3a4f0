/*
 * The HTML of the sign-in pages: server-rendered, no JavaScript, labelled
 * fields with the right autocomplete tokens, an error text tied to the
 * fields with aria-describedby, on the pages' frame (pages_begin(): a
 * layout that works from phone to desktop, branding from the
 * configuration, one inline <style> carrying the response's CSP nonce).
 * The account and recovery pages use struct loginpage and its alert too.
 */
#ifndef POSTERN_LOGINPAGE_H
#define POSTERN_LOGINPAGE_H

#include <stddef.h>

#include "pages.h"

struct evbuffer;
struct config_sso;
struct password_refusal;

struct loginpage {
	struct pages_frame frame;	/* branding and nonce */
	const char	*csrf;		/* form token */
	const char	*rd;		/* checked return-to URL */
	const char	*email;		/* to prefill after a failure, or NULL */
	const char	*error;		/* message shown (a catalogue key, or a
					 * sentence: pages_t()), or NULL */
	const char	*notice;	/* neutral message (signed out), or NULL */
	unsigned long	 wait;		/* seconds: {{wait}} in the message */
	const struct password_refusal *refused; /* {{min}} {{max}} {{has}}
					 * of a refused password's message,
					 * or NULL */
	int		 reset_link;	/* offer /.postern/reset */
	int		 magic_link;	/* offer /.postern/magic */
	const struct config_sso *sso;	/* "Sign in with ..." links, or
					 * NULL */
};

/* Append the sign-in page to <out>; 0, or -1 if <out> could not grow. */
int	loginpage_login(struct evbuffer *out, const struct loginpage *p);
/* Append "signed in as EMAIL" with a sign-out button (POST + CSRF). */
int	loginpage_signed_in(struct evbuffer *out, const struct loginpage *p);
/*
 * The catalogue key of the page message saying why password_judge()
 * refused a new password (its values come from loginpage.refused).
 */
const char *loginpage_refusal_key(const struct password_refusal *f);
/* The error (role=alert) or notice (role=status) of <p>, if any. */
int	loginpage_alert(struct evbuffer *out, const struct loginpage *p);

#endif
