/*
 * The message catalogue of the gateway's pages: for each language, the
 * human text of every page by a stable key ("login.title" = "Sign in").
 * English and German are built in (langs.c); pages.catalogue_dir adds
 * languages or overrides keys with one "<tag>.lang" file per language.
 * A key a language lacks is taken from English.
 *
 * A file is UTF-8 text, one "key = value" a line; blank lines and lines
 * starting with "#" are skipped; the value is the rest of the line, its
 * surrounding blanks trimmed.  A value may name the page's values as
 * {{name}} (escaped when the page is rendered), but only names the
 * built-in English text of that key names.  An unknown or repeated key, a
 * malformed line, a control character or invalid UTF-8 is an error with
 * line and column.  Only page rendering reads a catalogue; it is built
 * once per configuration snapshot and read-only afterwards.
 */
#ifndef POSTERN_CATALOG_H
#define POSTERN_CATALOG_H

#include <stddef.h>

#define CATALOG_LANGS_MAX	16		/* languages in a catalogue */
#define CATALOG_FILE_MAX	(64 * 1024)	/* bytes of one file */
#define CATALOG_KEY_MAX		48		/* bytes of a key */
#define CATALOG_TAG_MAX		35		/* bytes of a language tag */
#define CATALOG_NONE		((size_t)-1)

struct catalog;
struct diag;

/* Where a catalogue file (or a page template, pagetmpl.h) is wrong:
 * one-based line and column. */
struct catalog_err {
	size_t	line;
	size_t	col;
	char	msg[256];
};

/* Fill <e> (the message formatted as printf); returns -1. */
int		 catalog_fail(struct catalog_err *e, size_t line, size_t col,
		    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* A catalogue of the built-in languages (English is index 0); NULL. */
struct catalog	*catalog_new(void);
void		 catalog_free(struct catalog *);
/* The built-in catalogue, made once per process; NULL if it could not
 * be made (then catalog_get() answers every key with the key). */
const struct catalog *catalog_default(void);

/*
 * Add the <len> bytes of <text> to language <tag> (lowercase, made if
 * new): its keys replace the language's.  0, or -1 with <e> filled and
 * the catalogue unchanged.
 */
int		 catalog_parse(struct catalog *, const char *tag,
		    const char *text, size_t len, struct catalog_err *e);
/*
 * Add every "<tag>.lang" file of directory <dir>; problems go to <d> as
 * "file:line:col: message".  0, or -1 after adding errors to <d>.
 */
int		 catalog_load_dir(struct catalog *, const char *dir,
		    struct diag *d);

/* The index of language <tag>, or CATALOG_NONE. */
size_t		 catalog_find(const struct catalog *, const char *tag);
/* The language an Accept-Language value prefers, else <def>. */
size_t		 catalog_pick(const struct catalog *, const char *accept,
		    size_t def);
/* The tag of language <lang> ("en" if out of range). */
const char	*catalog_tag(const struct catalog *, size_t lang);
/*
 * The text of <key> in <lang>, else in English, else <key> itself (a
 * page never shows nothing).  <key> may also be the built-in English text
 * of a key (a sentence the code passes): then that key's text.  A NULL
 * catalogue reads the built-in one.
 */
const char	*catalog_get(const struct catalog *, size_t lang,
		    const char *key);
/* Whether <key> is a key of the built-in English text. */
int		 catalog_known(const char *key);

#endif
