/*
 * The templates of the gateway's HTML pages, by stable name ("login.html",
 * "error.html", ...): each built in, and each replaceable by a file of
 * the same name in pages.templates_dir, read when a configuration is
 * loaded (so a reload picks up a changed file and a page never reads the
 * disk).  A template is HTML with {{name}} placeholders: a value of that
 * page (the names each template receives are in docs/pages.md), or
 * {{t:key}}, the text of message <key> in the page's language
 * (catalog.h).  Rendering is pages_render() (pages.h), which escapes
 * every value but the markup the gateway makes itself.
 */
#ifndef POSTERN_PAGETMPL_H
#define POSTERN_PAGETMPL_H

#include <stddef.h>

#define PAGETMPL_FILE_MAX	(64 * 1024)	/* bytes of one file */

struct catalog_err;
struct diag;

enum pagetmpl_id {
	PAGETMPL_HEAD = 0,	/* head.html: the frame, up to <main> */
	PAGETMPL_ERROR,		/* error.html: every error page */
	PAGETMPL_LOGIN,		/* login.html: the sign-in form */
	PAGETMPL_WHOAMI,	/* whoami.html: "signed in as" */
	PAGETMPL_LOGOUT,	/* logout.html: the sign-out confirmation */
	PAGETMPL_RESET,		/* reset.html: ask for a reset link */
	PAGETMPL_RESET_SENT,	/* reset_sent.html: "we sent a link" */
	PAGETMPL_RESET_PASSWORD, /* reset_password.html: the new password */
	PAGETMPL_MAGIC,		/* magic.html: ask for a sign-in link */
	PAGETMPL_MAGIC_SENT,	/* magic_sent.html: "we sent a link" */
	PAGETMPL_MAGIC_CONFIRM,	/* magic_confirm.html: sign in with it */
	PAGETMPL_SSO_ERROR,	/* sso_error.html: a single sign-on failed */
	PAGETMPL_NOTME,		/* notme.html: "this wasn't me" */
	PAGETMPL_LINK_REFUSED,	/* link_refused.html: a link not usable */
	PAGETMPL_RESET_DONE,	/* reset_done.html: password changed */
	PAGETMPL_REAUTH,	/* reauth.html: confirm it's you */
	PAGETMPL_BACKUP_CODES,	/* backup_codes.html: the codes, once */
	PAGETMPL_MFA_SETUP,	/* mfa_setup.html: two-step setup */
	PAGETMPL_MFA_CODE,	/* mfa_code.html: the sign-in's second step */
	PAGETMPL_ACCOUNT,	/* account.html: the account overview */
	PAGETMPL_N
};

/* The overrides of one configuration; NULL everywhere: the built-ins. */
struct pagetmpl_set;

/* The file name of template <id> ("login.html"). */
const char	*pagetmpl_name(enum pagetmpl_id id);
/* The names of the values template <id> receives, space-separated. */
const char	*pagetmpl_keys(enum pagetmpl_id id);
/* The text of template <id>: <set>'s override, else the built-in. */
const char	*pagetmpl_text(const struct pagetmpl_set *set,
		    enum pagetmpl_id id);
/*
 * Check template <id>'s text <text> (<len> bytes): every "{{" closed,
 * every name one the template receives or t:<a message key>, no NUL.
 * 0, or -1 with <e> filled.
 */
int		 pagetmpl_check(enum pagetmpl_id id, const char *text,
		    size_t len, struct catalog_err *e);
/*
 * Read the templates of directory <dir> (a missing file leaves the
 * built-in); problems go to <d> as "file:line:col: message".  The set
 * (pagetmpl_set_free), or NULL after adding errors to <d>.
 */
struct pagetmpl_set *pagetmpl_load_dir(const char *dir, struct diag *d);
void		 pagetmpl_set_free(struct pagetmpl_set *);

#endif
