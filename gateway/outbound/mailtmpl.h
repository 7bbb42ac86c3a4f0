/*
 * Mail templates: a directory of <name>.subject, <name>.txt and
 * <name>.html files with {{var}} placeholders, loaded and parsed once per
 * configuration snapshot (so a typo is a load error with file:line:col,
 * and sending never touches the disk), then rendered per message: values
 * go in verbatim (subject, text) or HTML-escaped (html).
 */
#ifndef POSTERN_MAILTMPL_H
#define POSTERN_MAILTMPL_H

#include <stddef.h>

#include "mail.h"

#define MAILTMPL_MAX		64		/* messages in a directory */
#define MAILTMPL_FILE_MAX	(64 * 1024)	/* bytes of one file */
#define MAILTMPL_NAME_MAX	32		/* bytes of a var or message name */
#define MAILTMPL_OUT_MAX	(1024 * 1024)	/* bytes of one rendering */

struct diag;
struct mailtmpl;		/* one parsed file */
struct mailtmpl_set;		/* a loaded directory */

/* Where a template could not be parsed: one-based line and column. */
struct mailtmpl_err {
	size_t	line;
	size_t	col;
	char	msg[128];
};

enum mailtmpl_escape {
	MAILTMPL_RAW = 0,	/* subject, text/plain */
	MAILTMPL_HTML,		/* & < > " ' become entities */
};

/* One message: its three parsed files. */
struct mailtmpl_msg {
	char		 name[MAILTMPL_NAME_MAX + 1];
	struct mailtmpl	*subject;	/* one line */
	struct mailtmpl	*text;
	struct mailtmpl	*html;
};

/*
 * Parse <len> bytes of <text>: literal UTF-8 with {{name}} or {{ name }}
 * placeholders, name [a-z_][a-z0-9_]* of at most MAILTMPL_NAME_MAX bytes.
 * Unclosed or malformed placeholders, NUL bytes and invalid UTF-8 are
 * errors.  Returns the template (mailtmpl_free) or NULL with <e> filled.
 */
struct mailtmpl	*mailtmpl_parse(const char *text, size_t len,
		    struct mailtmpl_err *e);
void		 mailtmpl_free(struct mailtmpl *);

/*
 * Render <t> with <nvars> values (the first of a repeated name wins).
 * Returns a NUL-terminated string of *<lenp> bytes that the caller frees,
 * or NULL with a reason in <err> (a missing variable, output larger than
 * MAILTMPL_OUT_MAX).  The reason names the variable, never a value.
 */
char		*mailtmpl_render(const struct mailtmpl *t,
		    enum mailtmpl_escape esc, const struct mail_var *vars,
		    size_t nvars, size_t *lenp, char *err, size_t errlen);

/*
 * Load every message of directory <dir>: each <name>.subject needs its
 * .txt and .html; names are [a-z0-9_]+.  Problems go to <d> as
 * "file:line:col: message".  Returns the set (mailtmpl_set_free), or
 * NULL after adding errors to <d>.
 */
struct mailtmpl_set *mailtmpl_load_dir(const char *dir, struct diag *d);
void		 mailtmpl_set_free(struct mailtmpl_set *);
const struct mailtmpl_msg *mailtmpl_find(const struct mailtmpl_set *,
		    const char *name);

#endif
