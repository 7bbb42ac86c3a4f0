/*
 * Strict urlencoded form parsing (see form.h).  Values are decoded into
 * fresh buffers and wiped on free, since they hold passwords.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

#include "encode.h"
#include "form.h"

/* Is <s> (<len> bytes) valid UTF-8 without controls other than tab? */
static const char *
form_check_text(const unsigned char *s, size_t len)
{
	size_t		i = 0, n, k;
	unsigned int	cp;

	while (i < len) {
		if (s[i] < 0x80) {
			if ((s[i] < 0x20 && s[i] != '\t') || s[i] == 0x7f)
				return "form_control_char";
			i++;
			continue;
		}
		if (s[i] >= 0xc2 && s[i] <= 0xdf)
			n = 2, cp = s[i] & 0x1f;
		else if (s[i] >= 0xe0 && s[i] <= 0xef)
			n = 3, cp = s[i] & 0x0f;
		else if (s[i] >= 0xf0 && s[i] <= 0xf4)
			n = 4, cp = s[i] & 0x07;
		else
			return "form_bad_utf8";
		if (len - i < n)
			return "form_bad_utf8";
		for (k = 1; k < n; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return "form_bad_utf8";
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		if ((n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff)))
		    || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
		    (cp >= 0x80 && cp <= 0x9f))
			return n == 2 ? "form_control_char" : "form_bad_utf8";
		i += n;
	}
	return NULL;
}

/* Decode <len> bytes at <s> ('+' is space, %XX a byte) into a new string. */
static char *
form_decode(const char *s, size_t len, size_t *outlen, const char **reason)
{
	char	*out;
	size_t	 o;

	if ((out = malloc(len + 1)) == NULL) {
		*reason = "form_nomem";
		return NULL;
	}
	if (encode_pct_decode(s, len, 1, out, &o) == -1) {
		*reason = "form_bad_escape";
		goto fail;
	}
	if ((*reason = form_check_text((unsigned char *)out, o)) != NULL)
		goto fail;
	*outlen = o;
	return out;
fail:
	OPENSSL_cleanse(out, len + 1);
	free(out);
	return NULL;
}

static int
form_add(struct form *f, const char *pair, size_t len, const char **reason)
{
	struct form_field	*ff = &f->fields[f->nfields];
	const char		*eq = memchr(pair, '=', len);
	size_t			 nlen = eq != NULL ? (size_t)(eq - pair) : len;
	size_t			 i, dummy;

	if (nlen == 0) {
		*reason = "form_empty_name";
		return -1;
	}
	if (f->nfields == FORM_MAX_FIELDS) {
		*reason = "form_too_many_fields";
		return -1;
	}
	if ((ff->name = form_decode(pair, nlen, &dummy, reason)) == NULL)
		return -1;
	for (i = 0; i < f->nfields; i++) {
		if (strcmp(f->fields[i].name, ff->name) == 0) {
			free(ff->name);
			*reason = "form_duplicate_field";
			return -1;
		}
	}
	ff->value = form_decode(eq != NULL ? eq + 1 : pair + len,
	    eq != NULL ? len - nlen - 1 : 0, &ff->valuelen, reason);
	if (ff->value == NULL) {
		free(ff->name);
		return -1;
	}
	f->nfields++;
	return 0;
}

int
form_parse(const char *body, size_t len, struct form *f, const char **reason)
{
	const char	*p = body, *end = body + len, *amp;

	memset(f, 0, sizeof(*f));
	if (len > FORM_MAX_BODY) {
		*reason = "form_too_large";
		return -1;
	}
	while (p < end) {
		amp = memchr(p, '&', (size_t)(end - p));
		if (amp == NULL)
			amp = end;
		/* Empty pairs ("a=1&&b=2", a trailing '&') carry nothing. */
		if (amp > p && form_add(f, p, (size_t)(amp - p), reason) == -1) {
			form_free(f);
			return -1;
		}
		p = amp + 1;
	}
	return 0;
}

const char *
form_get(const struct form *f, const char *name)
{
	size_t	i;

	for (i = 0; i < f->nfields; i++)
		if (strcmp(f->fields[i].name, name) == 0)
			return f->fields[i].value;
	return NULL;
}

void
form_free(struct form *f)
{
	size_t	i;

	if (f == NULL)
		return;
	for (i = 0; i < f->nfields; i++) {
		OPENSSL_cleanse(f->fields[i].value, f->fields[i].valuelen);
		free(f->fields[i].value);
		free(f->fields[i].name);
	}
	f->nfields = 0;
}

/* <s> starts with <word> in any case; returns what follows, or NULL. */
static const char *
form_skip_word(const char *s, const char *word)
{
	size_t	n = strlen(word);

	return strncasecmp(s, word, n) == 0 ? s + n : NULL;
}

int
form_content_type_ok(const char *ct)
{
	const char	*p;

	if (ct == NULL || (p = form_skip_word(ct + strspn(ct, " \t"),
	    "application/x-www-form-urlencoded")) == NULL)
		return 0;
	p += strspn(p, " \t");
	if (*p == '\0')
		return 1;
	if (*p++ != ';')
		return 0;
	p += strspn(p, " \t");
	if ((p = form_skip_word(p, "charset=")) == NULL)
		return 0;
	if ((p = form_skip_word(p, *p == '"' ? "\"utf-8\"" : "utf-8")) == NULL)
		return 0;
	return p[strspn(p, " \t")] == '\0';
}
