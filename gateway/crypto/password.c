/*
 * Passwords (see password.h): argon2id through libargon2's raw API with our
 * own PHC encoding and parser (so that the parameters of a stored hash can
 * be checked before any memory is committed to it), bcrypt through
 * libcrypt's crypt_rn(), and the rules for new passwords with the
 * common-password list held in an open-addressing hash set.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <argon2.h>
#include <crypt.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "password.h"

#ifndef POSTERN_DATADIR
#define POSTERN_DATADIR		"/usr/share/postern"
#endif
#define PASSWORD_LIST		"common-passwords.txt"

/* Limits on stored hashes, so that a hostile entry cannot exhaust us. */
#define PHC_MAX_MEMORY		(4U * 1024 * 1024)	/* KiB: 4 GiB */
#define PHC_MAX_ITERATIONS	64
#define PHC_MAX_PARALLELISM	64
#define PHC_MIN_BYTES		8

/* The common-password set: lower-cased strings, open addressing. */
/* A context word a password must not contain, and what it is. */
struct password_word {
	char		*w;		/* password_fold()ed */
	const char	*what;		/* its kind: "product", "site", ... */
};

struct password_rules {
	char	**slots;	/* NULL = empty */
	size_t	  nslots;	/* power of two */
	size_t	  count;
	size_t	  min_length;	/* code points */
	struct password_word *words;	/* context words, folded */
	size_t	  nwords;
};

static const char	b64chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* ---- base64 without padding (PHC) ---- */

static size_t
password_b64_encode(char *out, const unsigned char *in, size_t len)
{
	size_t		i, o = 0;
	uint32_t	v;

	for (i = 0; i + 2 < len; i += 3) {
		v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
		out[o++] = b64chars[v >> 18 & 63];
		out[o++] = b64chars[v >> 12 & 63];
		out[o++] = b64chars[v >> 6 & 63];
		out[o++] = b64chars[v & 63];
	}
	if (len - i == 1) {
		v = (uint32_t)in[i] << 16;
		out[o++] = b64chars[v >> 18 & 63];
		out[o++] = b64chars[v >> 12 & 63];
	} else if (len - i == 2) {
		v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
		out[o++] = b64chars[v >> 18 & 63];
		out[o++] = b64chars[v >> 12 & 63];
		out[o++] = b64chars[v >> 6 & 63];
	}
	out[o] = '\0';
	return o;
}

static int
password_b64_value(char c)
{
	const char	*p;

	if (c == '\0' || (p = strchr(b64chars, c)) == NULL)
		return -1;
	return (int)(p - b64chars);
}

/*
 * Decode <len> characters of <in> into <out> (at most <max> bytes).
 * Returns the byte count or -1 (bad character, impossible length, too
 * long, non-zero trailing bits).
 */
static long
password_b64_decode(unsigned char *out, size_t max, const char *in,
    size_t len)
{
	size_t		i, o = 0;
	uint32_t	acc = 0;
	int		bits = 0, v;

	if (len % 4 == 1)
		return -1;
	for (i = 0; i < len; i++) {
		if ((v = password_b64_value(in[i])) == -1)
			return -1;
		acc = acc << 6 | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (o >= max)
				return -1;
			out[o++] = (unsigned char)(acc >> bits);
			acc &= (1U << bits) - 1;
		}
	}
	if (acc != 0)		/* canonical encodings only */
		return -1;
	return (long)o;
}

/* ---- PHC strings ---- */

/* Parse a decimal number without sign or leading zeros into *<out>. */
static const char *
password_phc_num(const char *s, const char *name, uint32_t max,
    uint32_t *out)
{
	size_t		n = strlen(name);
	uint64_t	v = 0;

	if (strncmp(s, name, n) != 0 || s[n] != '=')
		return NULL;
	s += n + 1;
	if (!isdigit((unsigned char)*s) || (s[0] == '0' &&
	    isdigit((unsigned char)s[1])))
		return NULL;
	while (isdigit((unsigned char)*s)) {
		v = v * 10 + (uint64_t)(*s++ - '0');
		if (v > max)
			return NULL;
	}
	*out = (uint32_t)v;
	return s;
}

/* Decode the base64 field at <s> up to '$' or the end into <buf>. */
static const char *
password_phc_field(const char *s, unsigned char *buf, size_t max,
    size_t *outlen)
{
	size_t	len = strcspn(s, "$");
	long	n;

	if ((n = password_b64_decode(buf, max, s, len)) < PHC_MIN_BYTES)
		return NULL;
	*outlen = (size_t)n;
	return s + len;
}

int
password_phc_parse(const char *s, struct password_phc *out)
{
	memset(out, 0, sizeof(*out));
	if (strncmp(s, "$argon2id$", 10) != 0)
		return -1;
	s += 10;
	if ((s = password_phc_num(s, "v", 0xff, &out->version)) == NULL ||
	    out->version != ARGON2_VERSION_13 || *s++ != '$')
		return -1;
	if ((s = password_phc_num(s, "m", PHC_MAX_MEMORY, &out->memory_kib))
	    == NULL || *s++ != ',' ||
	    (s = password_phc_num(s, "t", PHC_MAX_ITERATIONS,
	    &out->iterations)) == NULL || *s++ != ',' ||
	    (s = password_phc_num(s, "p", PHC_MAX_PARALLELISM,
	    &out->parallelism)) == NULL || *s++ != '$')
		return -1;
	if (out->iterations < 1 || out->parallelism < 1 ||
	    out->memory_kib < 8 * out->parallelism)
		return -1;
	if ((s = password_phc_field(s, out->salt, sizeof(out->salt),
	    &out->saltlen)) == NULL || *s++ != '$')
		return -1;
	if ((s = password_phc_field(s, out->hash, sizeof(out->hash),
	    &out->hashlen)) == NULL || *s != '\0')
		return -1;
	return 0;
}

int
password_hash(const struct password_params *p, const char *pw, size_t len,
    char *out, size_t outlen)
{
	unsigned char	salt[PASSWORD_SALTLEN], tag[PASSWORD_TAGLEN];
	char		salt64[64], tag64[64];
	int		rc = -1, n;

	if (RAND_bytes(salt, sizeof(salt)) != 1)
		return -1;
	if (argon2id_hash_raw(p->iterations, p->memory_kib, p->parallelism,
	    pw, len, salt, sizeof(salt), tag, sizeof(tag)) != ARGON2_OK)
		goto out;
	(void)password_b64_encode(salt64, salt, sizeof(salt));
	(void)password_b64_encode(tag64, tag, sizeof(tag));
	n = snprintf(out, outlen, "$argon2id$v=%d$m=%u,t=%u,p=%u$%s$%s",
	    ARGON2_VERSION_13, p->memory_kib, p->iterations, p->parallelism,
	    salt64, tag64);
	if (n > 0 && (size_t)n < outlen)
		rc = 0;
out:
	OPENSSL_cleanse(tag, sizeof(tag));
	return rc;
}

static enum password_result
password_verify_argon2(const char *hash, const char *pw, size_t len)
{
	struct password_phc	phc;
	unsigned char		tag[sizeof(phc.hash)];
	enum password_result	res = PASSWORD_BAD_HASH;

	if (password_phc_parse(hash, &phc) == -1)
		return PASSWORD_BAD_HASH;
	if (argon2id_hash_raw(phc.iterations, phc.memory_kib, phc.parallelism,
	    pw, len, phc.salt, phc.saltlen, tag, phc.hashlen) == ARGON2_OK)
		res = CRYPTO_memcmp(tag, phc.hash, phc.hashlen) == 0 ?
		    PASSWORD_OK : PASSWORD_MISMATCH;
	OPENSSL_cleanse(tag, sizeof(tag));
	return res;
}

static int
password_is_bcrypt(const char *hash)
{
	return strncmp(hash, "$2b$", 4) == 0 || strncmp(hash, "$2y$", 4) == 0;
}

/*
 * bcrypt: crypt_rn() recomputes the whole string from the stored setting;
 * it needs a NUL-terminated phrase, so a password holding NUL cannot match.
 */
static enum password_result
password_verify_bcrypt(const char *hash, const char *pw, size_t len)
{
	struct crypt_data	*cd;
	char			*phrase;
	enum password_result	 res = PASSWORD_BAD_HASH;
	size_t			 hlen = strlen(hash);

	if (len > PASSWORD_BCRYPT_MAX)
		return PASSWORD_TOO_LONG;
	if (memchr(pw, '\0', len) != NULL)
		return PASSWORD_MISMATCH;
	if (hlen != 60)
		return PASSWORD_BAD_HASH;
	if ((cd = calloc(1, sizeof(*cd))) == NULL ||
	    (phrase = malloc(len + 1)) == NULL) {
		free(cd);
		return PASSWORD_BAD_HASH;
	}
	memcpy(phrase, pw, len);
	phrase[len] = '\0';
	if (crypt_rn(phrase, hash, cd, sizeof(*cd)) != NULL &&
	    cd->output[0] != '*' && strlen(cd->output) == hlen)
		res = CRYPTO_memcmp(cd->output, hash, hlen) == 0 ?
		    PASSWORD_OK : PASSWORD_MISMATCH;
	OPENSSL_cleanse(phrase, len + 1);
	OPENSSL_cleanse(cd, sizeof(*cd));
	free(phrase);
	free(cd);
	return res;
}

enum password_result
password_verify(const char *hash, const char *pw, size_t len)
{
	if (strncmp(hash, "$argon2id$", 10) == 0)
		return password_verify_argon2(hash, pw, len);
	if (password_is_bcrypt(hash))
		return password_verify_bcrypt(hash, pw, len);
	return PASSWORD_BAD_HASH;
}

int
password_needs_rehash(const struct password_params *p, const char *hash)
{
	struct password_phc	phc;

	if (password_phc_parse(hash, &phc) == -1)
		return 1;
	return phc.memory_kib != p->memory_kib ||
	    phc.iterations != p->iterations ||
	    phc.parallelism != p->parallelism ||
	    phc.saltlen < PASSWORD_SALTLEN || phc.hashlen < PASSWORD_TAGLEN;
}

/* ---- rules ---- */

long
password_utf8_len(const char *str, size_t len)
{
	const unsigned char	*s = (const unsigned char *)str;
	size_t			 i = 0, n, k;
	uint32_t		 cp;
	long			 count = 0;

	while (i < len) {
		if (s[i] < 0x80) {
			i++;
			count++;
			continue;
		}
		if (s[i] >= 0xc2 && s[i] <= 0xdf) {
			n = 1;
			cp = s[i] & 0x1f;
		} else if (s[i] >= 0xe0 && s[i] <= 0xef) {
			n = 2;
			cp = s[i] & 0x0f;
		} else if (s[i] >= 0xf0 && s[i] <= 0xf4) {
			n = 3;
			cp = s[i] & 0x07;
		} else
			return -1;
		if (len - i <= n)
			return -1;
		for (k = 1; k <= n; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return -1;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		/* overlong forms, surrogates, beyond U+10FFFF */
		if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
		    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
			return -1;
		i += n + 1;
		count++;
	}
	return count;
}

/* FNV-1a: the set is built from our own file, so no flooding concern. */
static size_t
password_hashstr(const char *s)
{
	uint64_t	h = 1469598103934665603ULL;

	while (*s != '\0') {
		h ^= (unsigned char)*s++;
		h *= 1099511628211ULL;
	}
	return (size_t)h;
}

static void
password_lower(char *s)
{
	for (; *s != '\0'; s++)
		if (*s >= 'A' && *s <= 'Z')
			*s = (char)(*s - 'A' + 'a');
}

/* Is the candidate password <s> in the list?  It is a secret, so each
 * probe compares in constant time (the list itself is public). */
static int
password_set_has(const struct password_rules *r, const char *s)
{
	size_t	i, len = strlen(s);

	if (r->nslots == 0)
		return 0;
	for (i = password_hashstr(s) & (r->nslots - 1); r->slots[i] != NULL;
	    i = (i + 1) & (r->nslots - 1))
		if (strlen(r->slots[i]) == len &&
		    CRYPTO_memcmp(r->slots[i], s, len) == 0)
			return 1;
	return 0;
}

static int
password_set_grow(struct password_rules *r)
{
	char	**old = r->slots, **slots;
	size_t	  oldn = r->nslots, n = oldn == 0 ? 16384 : oldn * 2, i, j;

	if ((slots = calloc(n, sizeof(char *))) == NULL)
		return -1;	/* the set stays as it was */
	r->slots = slots;
	r->nslots = n;
	for (i = 0; i < oldn; i++) {
		if (old[i] == NULL)
			continue;
		for (j = password_hashstr(old[i]) & (r->nslots - 1);
		    r->slots[j] != NULL; j = (j + 1) & (r->nslots - 1))
			;
		r->slots[j] = old[i];
	}
	free(old);
	return 0;
}

static int
password_set_add(struct password_rules *r, const char *s)
{
	size_t	i;

	if (password_set_has(r, s))
		return 0;
	if ((r->count + 1) * 2 > r->nslots && password_set_grow(r) == -1)
		return -1;
	for (i = password_hashstr(s) & (r->nslots - 1); r->slots[i] != NULL;
	    i = (i + 1) & (r->nslots - 1))
		;
	if ((r->slots[i] = strdup(s)) == NULL)
		return -1;
	r->count++;
	return 0;
}

struct password_rules *
password_rules_load(const char *path, size_t min_length, char *err,
    size_t errlen)
{
	struct password_rules	*r;
	FILE			*fp;
	char			*line = NULL;
	size_t			 cap = 0;
	ssize_t			 n;

	if ((fp = fopen(path, "r")) == NULL) {
		(void)snprintf(err, errlen, "cannot open the common-password "
		    "list %s: %s", path, strerror(errno));
		return NULL;
	}
	if ((r = calloc(1, sizeof(*r))) == NULL)
		goto oom;
	r->min_length = min_length;
	if (password_rules_word(r, "postern", "product") == -1)
		goto oom;
	while ((n = getline(&line, &cap, fp)) != -1) {
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = '\0';
		if (n == 0 || line[0] == '#')
			continue;
		password_lower(line);
		if (password_set_add(r, line) == -1)
			goto oom;
	}
	free(line);
	fclose(fp);
	return r;
oom:
	(void)snprintf(err, errlen, "out of memory loading %s", path);
	free(line);
	fclose(fp);
	password_rules_free(r);
	return NULL;
}

const char *
password_rules_path(const char *configured)
{
	if (configured != NULL)
		return configured;
#ifdef POSTERN_SRCDATA
	if (access(POSTERN_DATADIR "/" PASSWORD_LIST, R_OK) == -1)
		return POSTERN_SRCDATA "/" PASSWORD_LIST;
#endif
	return POSTERN_DATADIR "/" PASSWORD_LIST;
}

void
password_rules_free(struct password_rules *r)
{
	size_t	i;

	if (r == NULL)
		return;
	for (i = 0; i < r->nslots; i++)
		free(r->slots[i]);
	free(r->slots);
	for (i = 0; i < r->nwords; i++)
		free(r->words[i].w);
	free(r->words);
	free(r);
}

size_t
password_rules_count(const struct password_rules *r)
{
	return r->count;
}

/* ---- context words: product, host and organisation names ---- */

/*
 * Fold <s> into <out> (<size> bytes, at least 1) for context-word
 * matching: lower-case, the look-alikes people substitute read as the
 * letter (0 o, 1 ! | i l, 3 e, 4 @ a, 5 $ s, 7 + t), every other ASCII
 * character that is not a letter or digit dropped ("P0st-3rn", "p.o.s.t
 * e.r.n" and "POSTERN" all fold to "postern"); other bytes (UTF-8) kept.
 * Applied alike to the words and the password, so a match of the folded
 * forms is a match up to those variants.
 */
static void
password_fold(const char *s, char *out, size_t size)
{
	static const char	from[] = "01!|i345@$7+", to[] = "olllleasastt";
	const char		*f;
	size_t			 n = 0;
	unsigned char		 c;

	for (; *s != '\0' && n + 1 < size; s++) {
		c = (unsigned char)tolower((unsigned char)*s);
		if (c != '\0' && (f = strchr(from, c)) != NULL)
			c = (unsigned char)to[f - from];
		if (c < 0x80 && !isalnum(c))
			continue;
		out[n++] = (char)c;
	}
	out[n] = '\0';
}

int
password_rules_word(struct password_rules *r, const char *word,
    const char *what)
{
	struct password_word	*nw;
	char			 f[256];
	size_t			 i;

	password_fold(word, f, sizeof(f));
	if (strlen(f) < PASSWORD_WORDMIN)
		return 0;	/* "ab" would forbid too much */
	for (i = 0; i < r->nwords; i++)
		if (strcmp(r->words[i].w, f) == 0)
			return 0;
	if ((nw = reallocarray(r->words, r->nwords + 1, sizeof(*nw))) == NULL)
		return -1;
	r->words = nw;
	if ((nw[r->nwords].w = strdup(f)) == NULL)
		return -1;
	nw[r->nwords++].what = what;
	return 0;
}

int
password_rules_host(struct password_rules *r, const char *host)
{
	char	buf[256], *label, *next;
	int	rc = 0;

	(void)snprintf(buf, sizeof(buf), "%s", host);
	for (label = buf; label != NULL && rc == 0; label = next) {
		if ((next = strchr(label, '.')) != NULL)
			*next++ = '\0';
		else if (label != buf)
			break;		/* the top-level domain */
		if (label[0] == '{' || label[0] == '*' ||
		    strspn(label, "0123456789") == strlen(label))
			continue;
		rc = password_rules_word(r, label, "site");
	}
	return rc;
}

/* 1 and <out> if folded <pw> holds context word <word> (unfolded) or one
 * of <r>'s. */
static int
password_has_word(const struct password_rules *r, const char *fpw,
    const char *const *words, size_t nwords, struct password_refusal *out)
{
	char	f[256];
	size_t	i;

	for (i = 0; i < r->nwords; i++)
		if (strstr(fpw, r->words[i].w) != NULL) {
			out->code = "word";
			out->what = r->words[i].what;
			return 1;
		}
	for (i = 0; i < nwords; i++) {
		password_fold(words[i], f, sizeof(f));
		if (strlen(f) >= PASSWORD_WORDMIN && strstr(fpw, f) != NULL) {
			out->code = "org";
			return 1;
		}
	}
	return 0;
}

/*
 * Context words of <email>: its local part and its domain labels except
 * the last, each of at least 3 (local) or 4 (domain) characters so that a
 * one-letter address does not forbid every password with that letter.
 * Returns 1 and says which in <out> if lower-cased <pw> holds one, or
 * folded <fpw> holds one folded.
 */
static int
password_has_context(const char *pw, const char *fpw, const char *email,
    struct password_refusal *out)
{
	char	 buf[320], f[320], *at, *label, *dot;
	size_t	 len;

	if (email == NULL || strlen(email) >= sizeof(buf))
		return 0;
	(void)snprintf(buf, sizeof(buf), "%s", email);
	password_lower(buf);
	if ((at = strrchr(buf, '@')) != NULL)
		*at = '\0';
	password_fold(buf, f, sizeof(f));
	if (strlen(buf) >= 3 && (strstr(pw, buf) != NULL ||
	    (strlen(f) >= 3 && strstr(fpw, f) != NULL))) {
		out->code = "email_name";
		return 1;
	}
	for (label = at != NULL ? at + 1 : NULL; label != NULL &&
	    (dot = strchr(label, '.')) != NULL; label = dot + 1) {
		*dot = '\0';
		len = strlen(label);
		password_fold(label, f, sizeof(f));
		if (len >= 4 && (strstr(pw, label) != NULL ||
		    (strlen(f) >= 4 && strstr(fpw, f) != NULL))) {
			out->code = "email_domain";
			return 1;
		}
	}
	return 0;
}

int
password_judge(const struct password_rules *r, const char *pw, size_t len,
    const struct password_context *cx, struct password_refusal *out)
{
	char	*low, *fpw = NULL;
	long	 cps;
	int	 rc = -1;

	*out = (struct password_refusal){ .min = r->min_length,
	    .max = PASSWORD_MAX_LENGTH };
	if ((cps = password_utf8_len(pw, len)) == -1) {
		out->code = "utf8";
		return -1;
	}
	out->has = cps;
	if (memchr(pw, '\0', len) != NULL) {
		out->code = "nul";
		return -1;
	}
	if ((size_t)cps < r->min_length || cps > PASSWORD_MAX_LENGTH) {
		out->code = "length";
		return -1;
	}
	if ((low = malloc(len + 1)) == NULL || (fpw = malloc(len + 1)) ==
	    NULL) {
		out->code = "oom";
		free(low);
		return -1;
	}
	memcpy(low, pw, len);
	low[len] = '\0';
	password_lower(low);
	password_fold(low, fpw, len + 1);
	if (password_set_has(r, low))
		out->code = "common";
	else if (!password_has_word(r, fpw, cx != NULL ? cx->words : NULL,
	    cx != NULL ? cx->nwords : 0, out) &&
	    !password_has_context(low, fpw, cx != NULL ? cx->email : NULL,
	    out))
		rc = 0;
	OPENSSL_cleanse(low, len + 1);
	OPENSSL_cleanse(fpw, len + 1);
	free(low);
	free(fpw);
	return rc;
}

/* The English of each refusal code (and of each context word's kind). */
static const struct {
	const char	*code;
	const char	*text;
} password_texts[] = {
	{ "utf8", "the password is not valid UTF-8 text" },
	{ "nul", "the password must not contain a NUL character" },
	{ "common", "the password is too common (it is on the list of "
	    "common and breached passwords)" },
	{ "org", "the password must not contain the name of your "
	    "organisation" },
	{ "email_name", "the password must not contain the email address's "
	    "name" },
	{ "email_domain", "the password must not contain a part of the email "
	    "address's domain" },
	{ "oom", "out of memory" },
	{ "product", "the product name" },
	{ "site", "the name of this site" },
	{ "organisation", "the name of an organisation" },
};

/* The English of code or kind <code>; <code> itself if it has none. */
static const char *
password_text(const char *code)
{
	size_t	i;

	for (i = 0; i < sizeof(password_texts) / sizeof(password_texts[0]);
	    i++)
		if (strcmp(password_texts[i].code, code) == 0)
			return password_texts[i].text;
	return code;
}

void
password_refusal_text(const struct password_refusal *f, char *why,
    size_t whylen)
{
	if (strcmp(f->code, "length") == 0)
		(void)snprintf(why, whylen, "the password must be %zu to %d "
		    "characters long (it has %ld)", f->min, f->max, f->has);
	else if (strcmp(f->code, "word") == 0)
		(void)snprintf(why, whylen, "the password must not contain %s",
		    password_text(f->what));
	else
		(void)snprintf(why, whylen, "%s", password_text(f->code));
}

int
password_check(const struct password_rules *r, const char *pw, size_t len,
    const struct password_context *cx, char *why, size_t whylen)
{
	struct password_refusal f;

	if (password_judge(r, pw, len, cx, &f) == 0)
		return 0;
	password_refusal_text(&f, why, whylen);
	return -1;
}
