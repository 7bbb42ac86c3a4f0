/*
 * The built-in languages of the pages' message catalogue (catalog.h):
 * each a "key = value" text in the catalogue's file format, English
 * first.  English is the reference: it has every key the pages use, and
 * a {{name}} its value names is one the page provides.
 */
#ifndef POSTERN_LANGS_H
#define POSTERN_LANGS_H

#include <stddef.h>

struct langs_text {
	const char	*tag;
	const char	*text;
};

extern const struct langs_text	langs_builtin[];
extern const size_t		langs_nbuiltin;

#endif
