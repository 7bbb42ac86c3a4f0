/*
 * Request path normalisation: the one spelling of a path that both the
 * policy engine and the upstream see.  Unreserved characters and ";" are
 * decoded, other escapes kept (upper-cased), dot-segments removed (RFC 3986
 * 5.2.4), "//" collapsed; anything that could mean different things to the
 * gateway and the upstream (encoded "/", "\", NUL, control characters, a
 * path escaping the root, a fragment, a double-encoded octet, an overlong
 * UTF-8 form) is refused.
 */
#ifndef POSTERN_PATH_H
#define POSTERN_PATH_H

#include <stddef.h>

enum path_error {
	PATH_OK = 0,
	PATH_EMPTY,		/* "" */
	PATH_NOT_ABSOLUTE,	/* does not start with "/" */
	PATH_BAD_ESCAPE,	/* "%" not followed by two hex digits */
	PATH_ENCODED_SLASH,	/* %2F */
	PATH_BACKSLASH,		/* "\" or %5C */
	PATH_NUL,		/* %00 or a NUL byte */
	PATH_CONTROL,		/* a control character, raw or encoded */
	PATH_ESCAPE_ROOT,	/* more ".." than segments */
	PATH_DOT_PARAM,		/* "..;x" or ".;x": a dot-segment to Tomcat */
	PATH_FRAGMENT,		/* "#" */
	PATH_NOMEM,
	PATH_DOUBLE_ENCODED,	/* "%25" then two hex digits: "%252F" */
	PATH_OVERLONG,		/* overlong UTF-8: %C0%AF, %E0%80%AE, ... */
	PATH_CASE_AMBIGUOUS,	/* case_insensitive apps: see path_fold_check */
};

/*
 * Normalise the path <in> of <len> bytes (the request target up to, not
 * including, the "?").  Returns a NUL-terminated string the caller frees,
 * or NULL with the reason in *<err>.  The result always starts with "/",
 * holds no "//", "." or ".." segment, and is never longer than 3 * <len>.
 */
char		*path_normalize(const char *in, size_t len, enum path_error *err);

/*
 * For apps whose upstream folds case (policy "paths: case_insensitive"):
 * the matcher folds ASCII only, so refuse the normalised <path> if it holds
 * a character that Unicode case mapping turns into ASCII (U+0130 "İ", U+0131
 * "ı", U+017F "ſ", U+212A Kelvin "K": Java's equalsIgnoreCase and .NET read
 * "/admın" as "/admin"; fullwidth ASCII U+FF01..U+FF5E, which IIS's best
 * fit mapping reads as ASCII), or a segment ending in "." or a space
 * (Windows drops them: "/admin." is "/admin").  Returns PATH_OK or
 * PATH_CASE_AMBIGUOUS.
 */
enum path_error	 path_fold_check(const char *path);

/* A stable reason code for logs ("path_escape", ...). */
const char	*path_error_reason(enum path_error);

#endif
