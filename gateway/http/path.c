/*
 * Path normalisation (see path.h).  Two passes: the first decodes and
 * validates escapes into a scratch buffer, the second walks the segments
 * with a stack of output offsets to remove dot-segments and empty segments.
 */
#include <stdlib.h>
#include <string.h>

#include "encode.h"
#include "path.h"

static const char *const path_reasons[] = {
	[PATH_OK] = "ok",
	[PATH_EMPTY] = "path_empty",
	[PATH_NOT_ABSOLUTE] = "path_not_absolute",
	[PATH_BAD_ESCAPE] = "path_bad_escape",
	[PATH_ENCODED_SLASH] = "path_encoded_slash",
	[PATH_BACKSLASH] = "path_backslash",
	[PATH_NUL] = "path_nul",
	[PATH_CONTROL] = "path_control",
	[PATH_ESCAPE_ROOT] = "path_escape",
	[PATH_DOT_PARAM] = "path_dot_param",
	[PATH_FRAGMENT] = "path_fragment",
	[PATH_NOMEM] = "path_nomem",
	[PATH_DOUBLE_ENCODED] = "path_double_encoded",
	[PATH_OVERLONG] = "path_overlong_utf8",
	[PATH_CASE_AMBIGUOUS] = "path_case_ambiguous",
};

const char *
path_error_reason(enum path_error e)
{
	if ((size_t)e >= sizeof(path_reasons) / sizeof(path_reasons[0]))
		return "path_invalid";
	return path_reasons[e];
}

/* Classify an octet, raw or decoded; PATH_OK if it may appear. */
static enum path_error
path_check_octet(unsigned char c, int encoded)
{
	if (c == '\0')
		return PATH_NUL;
	if (c == '\\')
		return PATH_BACKSLASH;
	if (c < 0x20 || c == 0x7f)
		return PATH_CONTROL;
	if (encoded && c == '/')
		return PATH_ENCODED_SLASH;
	if (!encoded && c == '#')
		return PATH_FRAGMENT;
	return PATH_OK;
}

/*
 * Overlong UTF-8 (RFC 3629 3): a lead byte 0xC0 or 0xC1, or 0xE0 / 0xF0
 * followed by a byte that makes the form overlong.  Lenient decoders read
 * %C0%AF as "/" and %C0%AE as ".", behind the gateway's back.  <prev> is
 * the previous octet of the path (raw or decoded), or 0.
 */
static int
path_overlong(unsigned char prev, unsigned char c)
{
	return c == 0xc0 || c == 0xc1 ||
	    (prev == 0xe0 && c >= 0x80 && c < 0xa0) ||
	    (prev == 0xf0 && c >= 0x80 && c < 0x90);
}

/*
 * "%25" followed by two hex digits in the decoded path <p> is a double
 * encoding: "%252F", or "%25%32%46" once its unreserved escapes are
 * decoded, is "%2F" to an upstream or framework that decodes twice.
 */
static int
path_double_encoded(const char *p, size_t len)
{
	size_t	i;

	for (i = 0; i + 4 < len; i++)
		if (p[i] == '%' && p[i + 1] == '2' && p[i + 2] == '5' &&
		    encode_hexval((unsigned char)p[i + 3]) != -1 &&
		    encode_hexval((unsigned char)p[i + 4]) != -1)
			return 1;
	return 0;
}

/*
 * Pass one: decode unreserved escapes and "%3B" (";": frameworks that
 * decode before cutting matrix parameters read "/admin%3Bx" as "/admin",
 * so the gateway forwards the ";" it matched on), upper-case the other
 * escapes, escape raw octets outside ASCII and refuse the dangerous ones.
 * <out> holds at least 3 * <len> + 1 bytes.
 */
static enum path_error
path_decode(const char *in, size_t len, char *out, size_t *outlen)
{
	const unsigned char *s = (const unsigned char *)in;
	enum path_error	 e;
	size_t		 i, o = 0;
	unsigned char	 c, prev = 0;
	int		 enc, v;

	for (i = 0; i < len; i++, prev = c) {
		c = s[i];
		if ((enc = (c == '%'))) {
			if ((v = encode_pct_byte(in + i, len - i)) == -1)
				return PATH_BAD_ESCAPE;
			c = (unsigned char)v;
			i += 2;
		}
		if ((e = path_check_octet(c, enc)) != PATH_OK)
			return e;
		if (path_overlong(prev, c))
			return PATH_OVERLONG;
		if (enc ? encode_unreserved(c) || c == ';' :
		    c < 0x80 && c != ' ')
			out[o++] = (char)c;
		else {
			encode_pct_put(out + o, c);
			o += 3;
		}
	}
	*outlen = o;
	return path_double_encoded(out, o) ? PATH_DOUBLE_ENCODED : PATH_OK;
}

/* A segment Tomcat and friends read as "." or "..": ".;x", "..;x". */
static int
path_dot_param(const char *seg, size_t n)
{
	return (n >= 2 && seg[0] == '.' && seg[1] == ';') ||
	    (n >= 3 && seg[0] == '.' && seg[1] == '.' && seg[2] == ';');
}

/*
 * Pass two, RFC 3986 5.2.4 on the decoded path <p> (starts with "/"):
 * "." segments vanish, ".." removes the previous segment and is an error at
 * the root, empty segments ("//") collapse.  A trailing "/", "/." or "/.."
 * leaves a trailing "/" as the RFC's algorithm does.  Writes into <out>.
 */
static enum path_error
path_segments(const char *p, size_t len, char *out)
{
	size_t	 i = 0, o = 0, n, depth = 0;
	size_t	*starts;	/* output offset of each kept segment's "/" */
	int	 trailing = 0;

	if ((starts = calloc(len / 2 + 1, sizeof(*starts))) == NULL)
		return PATH_NOMEM;
	while (i < len) {
		i++;				/* the "/" */
		n = 0;
		while (i + n < len && p[i + n] != '/')
			n++;
		trailing = 0;
		if (n == 0 || (n == 1 && p[i] == '.')) {
			trailing = (i + n == len);
		} else if (n == 2 && p[i] == '.' && p[i + 1] == '.') {
			if (depth == 0) {
				free(starts);
				return PATH_ESCAPE_ROOT;
			}
			o = starts[--depth];
			trailing = (i + n == len);
		} else if (path_dot_param(p + i, n)) {
			free(starts);
			return PATH_DOT_PARAM;
		} else {
			starts[depth++] = o;
			out[o++] = '/';
			memcpy(out + o, p + i, n);
			o += n;
		}
		i += n;
	}
	if (o == 0 || trailing)
		out[o++] = '/';
	out[o] = '\0';
	free(starts);
	return PATH_OK;
}

/* The UTF-8 forms of U+0130, U+0131, U+017F and U+212A, as escaped. */
static const char *const path_fold_ascii[] = {
	"%C4%B0", "%C4%B1", "%C5%BF", "%E2%84%AA",
};

/*
 * Fullwidth ASCII, U+FF01 to U+FF5E (EF BC 81..BF, EF BD 80..9E): IIS's
 * "best fit" mapping and NFKC read "/ＡＤＭＩＮ" as "/ADMIN".
 */
static int
path_fullwidth(const char *path)
{
	const char	*p;
	int		 v;

	for (p = path; (p = strstr(p, "%EF%B")) != NULL; p += 5) {
		if ((p[5] != 'C' && p[5] != 'D') || p[6] != '%' ||
		    encode_hexval((unsigned char)p[7]) == -1 ||
		    encode_hexval((unsigned char)p[8]) == -1)
			continue;
		v = encode_hexval((unsigned char)p[7]) << 4 |
		    encode_hexval((unsigned char)p[8]);
		if (p[5] == 'C' ? v >= 0x81 : v <= 0x9e)
			return 1;
	}
	return 0;
}

enum path_error
path_fold_check(const char *path)
{
	const char	*seg, *end;
	size_t		 i, n;

	for (i = 0; i < sizeof(path_fold_ascii) / sizeof(path_fold_ascii[0]);
	    i++)
		if (strstr(path, path_fold_ascii[i]) != NULL)
			return PATH_CASE_AMBIGUOUS;
	if (path_fullwidth(path))
		return PATH_CASE_AMBIGUOUS;
	for (seg = path; *seg == '/'; seg = end) {
		end = seg + 1 + strcspn(seg + 1, "/;");
		n = (size_t)(end - seg);
		if (n > 1 && (seg[n - 1] == '.' || (n > 3 &&
		    strncmp(end - 3, "%20", 3) == 0)))
			return PATH_CASE_AMBIGUOUS;
		end += strcspn(end, "/");
	}
	return PATH_OK;
}

char *
path_normalize(const char *in, size_t len, enum path_error *err)
{
	char		*dec = NULL, *out = NULL;
	size_t		 declen;
	enum path_error	 e;

	if (len == 0) {
		e = PATH_EMPTY;
		goto out;
	}
	if (in[0] != '/') {
		e = PATH_NOT_ABSOLUTE;
		goto out;
	}
	if ((dec = malloc(3 * len + 1)) == NULL ||
	    (out = malloc(3 * len + 2)) == NULL) {
		e = PATH_NOMEM;
		goto out;
	}
	if ((e = path_decode(in, len, dec, &declen)) != PATH_OK)
		goto out;
	e = path_segments(dec, declen, out);
out:
	free(dec);
	*err = e;
	if (e != PATH_OK) {
		free(out);
		return NULL;
	}
	return out;
}
