/*
 * Building blocks of the account pages (second factor, step-up, password
 * change and reset, magic links, the account overview): headings, text,
 * forms with labelled fields, on the pages' frame (pages_begin(), pages.h).
 * Every value is escaped (the QR code's SVG, trusted markup, is written by
 * qr_svg()).  One script: the backup codes' "Copy" button
 * (acctpage_codes_tools()), under the response's CSP nonce.
 */
#ifndef POSTERN_ACCTPAGE_H
#define POSTERN_ACCTPAGE_H

#include <stddef.h>

struct evbuffer;
struct loginpage;

struct acctpage_field {
	const char	*name;
	const char	*label;		/* a message key or its English text
					 * (pages_t()) */
	const char	*type;		/* "password", "text", "email" */
	const char	*autocomplete;	/* "current-password", ... */
	const char	*inputmode;	/* "numeric", or NULL */
	const char	*value;		/* prefilled, or NULL */
	const char	*id;		/* unique on the page; NULL: name */
};

struct acctpage_form {
	const char	*action;	/* /.postern/... */
	const char	*submit;	/* button text: as a label */
	int		 secondary;	/* a less prominent button */
	int		 danger;	/* a destructive action's button */
	const struct acctpage_field *fields;
	size_t		 nfields;
	const char	*hidden[4][2];	/* more name/value pairs; NULL ends */
	int		 focus;		/* autofocus the first field */
};

/* <h1>, <h2> or <h3> (<level>) with <text>. */
int	acctpage_heading(struct evbuffer *out, int level, const char *text);
/* A paragraph of <text>; <strong> around <em> if not NULL, after it. */
int	acctpage_para(struct evbuffer *out, const char *text,
	    const char *strong);
/* A link paragraph. */
int	acctpage_link(struct evbuffer *out, const char *href,
	    const char *text);
/*
 * A POST form with the page's CSRF token and return-to (lp->csrf, lp->rd)
 * as hidden fields; fields are tied to lp->error when it is set.
 */
int	acctpage_form(struct evbuffer *out, const struct loginpage *lp,
	    const struct acctpage_form *f);
/* A list of one-time codes, in a monospace one-column list. */
int	acctpage_codes(struct evbuffer *out, const char *const *codes,
	    size_t n);
/*
 * Under the codes: a "Copy" button (a script carrying <nonce>, the
 * response's CSP nonce, copies the list's text) and a "Download as text"
 * form posting the codes with the CSRF token to <action>, which sends
 * them back as a text/plain attachment: nothing kept on the server.
 */
int	acctpage_codes_tools(struct evbuffer *out, const struct loginpage *lp,
	    const char *action, const char *const *codes, size_t n);
/* A secret key to type by hand, in groups of four, wrapping anywhere. */
int	acctpage_key(struct evbuffer *out, const char *label, const char *key);
/* <section> open/close, to group a page's forms. */
int	acctpage_section(struct evbuffer *out, int open);
/* The same for a destructive action's section (styled as danger). */
int	acctpage_danger(struct evbuffer *out, int open);

#endif
