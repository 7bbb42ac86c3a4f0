/*
 * application/x-www-form-urlencoded bodies of the gateway's own forms
 * (sign-in, reset, 2FA).  Strict: every name and value must decode to valid
 * UTF-8 without NUL or other control characters (tab excepted), a name may
 * appear only once, and the field count and sizes are bounded.
 */
#ifndef POSTERN_FORM_H
#define POSTERN_FORM_H

#include <stddef.h>

#define FORM_MAX_FIELDS	32
#define FORM_MAX_BODY	(16 * 1024)

struct form_field {
	char	*name;
	char	*value;		/* NUL-terminated; wiped by form_free() */
	size_t	 valuelen;
};

struct form {
	struct form_field fields[FORM_MAX_FIELDS];
	size_t		  nfields;
};

/*
 * Parse <len> bytes at <body> into <f>.  Returns 0, or -1 with *<reason>
 * set to a stable code for the reject log ("form_too_large",
 * "form_too_many_fields", "form_bad_escape", "form_bad_utf8",
 * "form_control_char", "form_duplicate_field", "form_empty_name",
 * "form_nomem"); on -1 nothing needs freeing.
 */
int		 form_parse(const char *body, size_t len, struct form *f,
		    const char **reason);
/*
 * Whether Content-Type value <ct> (NULL: none sent) is
 * application/x-www-form-urlencoded, in any case, with at most the one
 * parameter charset=utf-8 (any case, quoted or not): the only bodies
 * form_parse() reads.  Anything else is answered 415.
 */
int		 form_content_type_ok(const char *ct);
/* The value of field <name>, or NULL. */
const char	*form_get(const struct form *f, const char *name);
/* Wipe every value (passwords travel here) and free.  NULL-safe. */
void		 form_free(struct form *f);

#endif
