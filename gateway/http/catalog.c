/*
 * The pages' message catalogue (see catalog.h).  Each language keeps its
 * entries sorted by key for a binary search; a file is parsed into a
 * scratch language first and merged only when it has no error, so a bad
 * file leaves the catalogue as it was.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "acceptlang.h"
#include "catalog.h"
#include "diag.h"
#include "encode.h"
#include "langs.h"

struct catalog_ent {
	char	*key;
	char	*val;
};

struct catalog_lang {
	char			 tag[CATALOG_TAG_MAX + 1];
	struct catalog_ent	*ents;		/* sorted by key */
	size_t			 n;
	size_t			 cap;
};

struct catalog {
	struct catalog_lang	 langs[CATALOG_LANGS_MAX];	/* [0]: en */
	const char		*tags[CATALOG_LANGS_MAX];	/* their tags */
	size_t			 n;
	struct catalog_ent	*byval;	/* the built-in English by value
					 * (the default catalogue's only;
					 * pointers into langs[0]) */
};

static struct catalog	*catalog_builtin;
static pthread_once_t	 catalog_once = PTHREAD_ONCE_INIT;

static void
catalog_lang_clear(struct catalog_lang *l)
{
	size_t	i;

	for (i = 0; i < l->n; i++) {
		free(l->ents[i].key);
		free(l->ents[i].val);
	}
	free(l->ents);
	l->ents = NULL;
	l->n = l->cap = 0;
}

void
catalog_free(struct catalog *c)
{
	size_t	i;

	if (c == NULL)
		return;
	for (i = 0; i < c->n; i++)
		catalog_lang_clear(&c->langs[i]);
	free(c->byval);
	free(c);
}

/* The slot of <key> in <l>: found (*<found> set) or where it goes. */
static size_t
catalog_slot(const struct catalog_lang *l, const char *key, int *found)
{
	size_t	lo = 0, hi = l->n, mid;
	int	cmp;

	*found = 0;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if ((cmp = strcmp(key, l->ents[mid].key)) == 0) {
			*found = 1;
			return mid;
		}
		if (cmp < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

static const char *
catalog_lookup(const struct catalog_lang *l, const char *key)
{
	int	found;
	size_t	i = catalog_slot(l, key, &found);

	return found ? l->ents[i].val : NULL;
}

/* Put <key> = <val> (both owned from now on) into <l>; 0, or -1. */
static int
catalog_put(struct catalog_lang *l, char *key, char *val)
{
	struct catalog_ent	*ne;
	int			 found;
	size_t			 i = catalog_slot(l, key, &found);

	if (found) {
		free(l->ents[i].val);
		free(key);
		l->ents[i].val = val;
		return 0;
	}
	if (l->n == l->cap) {
		if ((ne = reallocarray(l->ents, l->cap + 64,
		    sizeof(*ne))) == NULL) {
			free(key);
			free(val);
			return -1;
		}
		l->ents = ne;
		l->cap += 64;
	}
	memmove(&l->ents[i + 1], &l->ents[i], (l->n - i) * sizeof(*ne));
	l->ents[i].key = key;
	l->ents[i].val = val;
	l->n++;
	return 0;
}

int
catalog_fail(struct catalog_err *e, size_t line, size_t col,
    const char *fmt, ...)
{
	va_list	ap;

	e->line = line;
	e->col = col;
	va_start(ap, fmt);
	(void)vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return -1;
}

/*
 * Whether placeholder <name> (<n> bytes) may appear in the value of
 * <key>: any name in the built-in English text itself (<ref> NULL),
 * else a name its English value has.
 */
static int
catalog_name_ok(const char *ref, const char *name, size_t n)
{
	const char	*p;

	if (ref == NULL)
		return 1;
	for (p = ref; (p = strstr(p, "{{")) != NULL; p += 2)
		if (strncmp(p + 2, name, n) == 0 && strncmp(p + 2 + n, "}}",
		    2) == 0)
			return 1;
	return 0;
}

/* Check value <v> (<n> bytes) of line <line> starting at column <col>. */
static int
catalog_value(const char *v, size_t n, const char *ref, size_t line,
    size_t col, struct catalog_err *e)
{
	const unsigned char *s = (const unsigned char *)v;
	size_t		 i = 0, len, k;

	while (i < n) {
		if (s[i] == '{' && i + 1 < n && s[i + 1] == '{') {
			for (k = i + 2; k < n && ((s[k] >= 'a' && s[k] <= 'z') ||
			    s[k] == '_'); k++)
				;
			if (k == i + 2 || k + 1 >= n || s[k] != '}' ||
			    s[k + 1] != '}')
				return catalog_fail(e, line, col + i, "expected "
				    "{{name}} with a name of a-z and _");
			if (!catalog_name_ok(ref, v + i + 2, k - i - 2))
				return catalog_fail(e, line, col + i, "{{%.*s}} "
				    "is not a value of this message", (int)(k -
				    i - 2), v + i + 2);
			i = k + 2;
			continue;
		}
		if ((s[i] < 0x20 && s[i] != '\t') || s[i] == 0x7f)
			return catalog_fail(e, line, col + i, "control "
			    "character in the text");
		if ((len = encode_utf8_len(s + i, n - i)) == 0)
			return catalog_fail(e, line, col + i, "invalid UTF-8");
		i += len;
	}
	return 0;
}

static int
catalog_keych(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
	    ch == '_' || ch == '.';
}

/*
 * One line [p, p + n) of number <line> into <l>.  <ref> is the
 * reference language (NULL while the reference itself is parsed).
 */
static int
catalog_line(struct catalog_lang *l, const struct catalog_lang *ref,
    const char *p, size_t n, size_t line, struct catalog_err *e)
{
	size_t		 i = 0, k, v, end;
	const char	*refval = NULL;
	char		*key, *val;
	int		 dup;

	while (i < n && (p[i] == ' ' || p[i] == '\t'))
		i++;
	if (i == n || p[i] == '#')
		return 0;
	for (k = i; k < n && catalog_keych(p[k]); k++)
		;
	if (k == i || k - i > CATALOG_KEY_MAX)
		return catalog_fail(e, line, i + 1, "expected a message key "
		    "(a-z, 0-9, '_' and '.', at most %d bytes)",
		    CATALOG_KEY_MAX);
	for (v = k; v < n && (p[v] == ' ' || p[v] == '\t'); v++)
		;
	if (v == n || p[v] != '=')
		return catalog_fail(e, line, v + 1, "expected '=' after the "
		    "key");
	for (v++; v < n && (p[v] == ' ' || p[v] == '\t'); v++)
		;
	for (end = n; end > v && (p[end - 1] == ' ' || p[end - 1] == '\t');
	    end--)
		;
	if ((key = strndup(p + i, k - i)) == NULL)
		return catalog_fail(e, line, 1, "out of memory");
	if (ref != NULL && (refval = catalog_lookup(ref, key)) == NULL) {
		free(key);
		return catalog_fail(e, line, i + 1, "unknown message key "
		    "'%.*s'", (int)(k - i), p + i);
	}
	(void)catalog_slot(l, key, &dup);
	if (dup) {
		free(key);
		return catalog_fail(e, line, i + 1, "message key '%.*s' given "
		    "twice", (int)(k - i), p + i);
	}
	if (catalog_value(p + v, end - v, refval, line, v + 1, e) == -1) {
		free(key);
		return -1;
	}
	if ((val = strndup(p + v, end - v)) == NULL) {
		free(key);
		return catalog_fail(e, line, 1, "out of memory");
	}
	if (catalog_put(l, key, val) == -1)
		return catalog_fail(e, line, 1, "out of memory");
	return 0;
}

/* Parse <text> into the fresh <l>, keys checked against <ref>. */
static int
catalog_text(struct catalog_lang *l, const struct catalog_lang *ref,
    const char *text, size_t len, struct catalog_err *e)
{
	const char	*p = text, *nl;
	size_t		 line = 1, n;

	if (len > CATALOG_FILE_MAX)
		return catalog_fail(e, 1, 1, "larger than %d bytes",
		    CATALOG_FILE_MAX);
	while (p < text + len) {
		if ((nl = memchr(p, '\n', (size_t)(text + len - p))) == NULL)
			nl = text + len;
		n = (size_t)(nl - p);
		if (n > 0 && p[n - 1] == '\r')
			n--;
		if (catalog_line(l, ref, p, n, line, e) == -1)
			return -1;
		p = nl + 1;
		line++;
	}
	return 0;
}

/* Is <tag> a lowercase language tag of at most CATALOG_TAG_MAX bytes? */
static int
catalog_tag_ok(const char *tag)
{
	size_t	i, seg = 0, nseg = 0;

	if (strlen(tag) > CATALOG_TAG_MAX)
		return 0;
	for (i = 0; tag[i] != '\0'; i++) {
		if (tag[i] == '-') {
			if (seg == 0)
				return 0;
			seg = 0;
			nseg++;
		} else if ((tag[i] >= 'a' && tag[i] <= 'z') || (nseg > 0 &&
		    tag[i] >= '0' && tag[i] <= '9')) {
			if (++seg > 8)
				return 0;
		} else
			return 0;
	}
	return seg > 0 && (nseg > 0 || i >= 2);
}

int
catalog_parse(struct catalog *c, const char *tag, const char *text,
    size_t len, struct catalog_err *e)
{
	const struct catalog *def = catalog_default();
	struct catalog_lang scratch = { .n = 0 }, *l;
	size_t		 at, i;

	if (!catalog_tag_ok(tag))
		return catalog_fail(e, 0, 0, "'%s' is not a lowercase language "
		    "tag such as de or pt-br", tag);
	if ((at = catalog_find(c, tag)) == CATALOG_NONE &&
	    c->n == CATALOG_LANGS_MAX)
		return catalog_fail(e, 0, 0, "more than %d languages",
		    CATALOG_LANGS_MAX);
	if (catalog_text(&scratch, def != NULL ? &def->langs[0] : NULL, text,
	    len, e) == -1) {
		catalog_lang_clear(&scratch);
		return -1;
	}
	if (at == CATALOG_NONE) {
		at = c->n++;
		(void)snprintf(c->langs[at].tag, sizeof(c->langs[at].tag),
		    "%s", tag);
		c->tags[at] = c->langs[at].tag;
	}
	l = &c->langs[at];
	for (i = 0; i < scratch.n; i++)
		if (catalog_put(l, scratch.ents[i].key,
		    scratch.ents[i].val) == -1) {
			scratch.ents[i].key = scratch.ents[i].val = NULL;
			catalog_lang_clear(&scratch);
			return catalog_fail(e, 0, 0, "out of memory");
		}
	free(scratch.ents);
	return 0;
}

/* The built-in languages into <c>; the first is the reference. */
static int
catalog_builtins(struct catalog *c)
{
	struct catalog_err e;
	size_t		 i;

	for (i = 0; i < langs_nbuiltin; i++) {
		(void)snprintf(c->langs[i].tag, sizeof(c->langs[i].tag), "%s",
		    langs_builtin[i].tag);
		c->tags[i] = c->langs[i].tag;
		c->n++;
		if (catalog_text(&c->langs[i], i == 0 ? NULL : &c->langs[0],
		    langs_builtin[i].text, strlen(langs_builtin[i].text),
		    &e) == -1) {
			(void)fprintf(stderr, "built-in catalogue %s:%zu:%zu: "
			    "%s\n", langs_builtin[i].tag, e.line, e.col, e.msg);
			return -1;
		}
	}
	return 0;
}

static int
catalog_cmp_val(const void *x, const void *y)
{
	return strcmp(((const struct catalog_ent *)x)->val,
	    ((const struct catalog_ent *)y)->val);
}

static void
catalog_make_default(void)
{
	struct catalog	*c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return;
	if (catalog_builtins(c) == -1 || (c->byval = calloc(c->langs[0].n,
	    sizeof(*c->byval))) == NULL) {
		catalog_free(c);
		return;
	}
	memcpy(c->byval, c->langs[0].ents, c->langs[0].n * sizeof(*c->byval));
	qsort(c->byval, c->langs[0].n, sizeof(*c->byval), catalog_cmp_val);
	catalog_builtin = c;
}

/*
 * The key whose built-in English text is exactly <s>, or NULL: a page
 * that passes an English sentence still gets it translated.
 */
static const char *
catalog_key_of(const char *s)
{
	const struct catalog *c = catalog_default();
	const struct catalog_ent key = { NULL, (char *)(uintptr_t)s };
	const struct catalog_ent *e;

	if (c == NULL || (e = bsearch(&key, c->byval, c->langs[0].n,
	    sizeof(*e), catalog_cmp_val)) == NULL)
		return NULL;
	return e->key;
}

const struct catalog *
catalog_default(void)
{
	(void)pthread_once(&catalog_once, catalog_make_default);
	return catalog_builtin;
}

struct catalog *
catalog_new(void)
{
	struct catalog	*c;

	if (catalog_default() == NULL || (c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	if (catalog_builtins(c) == -1) {
		catalog_free(c);
		return NULL;
	}
	return c;
}

/* Read the catalogue file <path> of language <tag> into <c>. */
static int
catalog_load_file(struct catalog *c, const char *path, const char *tag,
    struct diag *d)
{
	struct catalog_err e;
	char		*buf;
	ssize_t		 n;
	int		 fd, rc = -1;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		diag_error(d, path, 0, 0, "cannot read: %s", strerror(errno));
		return -1;
	}
	if ((buf = malloc(CATALOG_FILE_MAX + 1)) == NULL) {
		diag_error(d, path, 0, 0, "out of memory");
		goto out;
	}
	if ((n = read(fd, buf, CATALOG_FILE_MAX + 1)) == -1)
		diag_error(d, path, 0, 0, "cannot read: %s", strerror(errno));
	else if (catalog_parse(c, tag, buf, (size_t)n, &e) == -1)
		diag_error(d, path, e.line, e.col, "%s", e.msg);
	else
		rc = 0;
out:
	free(buf);
	(void)close(fd);
	return rc;
}

int
catalog_load_dir(struct catalog *c, const char *dir, struct diag *d)
{
	DIR		*dp;
	struct dirent	*de;
	char		 path[4096], tag[CATALOG_TAG_MAX + 1];
	size_t		 len;
	int		 rc = 0;

	if ((dp = opendir(dir)) == NULL) {
		diag_error(d, dir, 0, 0, "cannot read: %s", strerror(errno));
		return -1;
	}
	while ((de = readdir(dp)) != NULL) {
		len = strlen(de->d_name);
		if (len <= 5 || strcmp(de->d_name + len - 5, ".lang") != 0)
			continue;
		(void)snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (len - 5 > CATALOG_TAG_MAX) {
			diag_error(d, path, 0, 0, "the name is not a "
			    "language tag");
			rc = -1;
			continue;
		}
		(void)snprintf(tag, sizeof(tag), "%.*s", (int)(len - 5),
		    de->d_name);
		rc |= catalog_load_file(c, path, tag, d);
	}
	(void)closedir(dp);
	return rc;
}

size_t
catalog_find(const struct catalog *c, const char *tag)
{
	size_t	i;

	for (i = 0; c != NULL && i < c->n; i++)
		if (strcmp(c->langs[i].tag, tag) == 0)
			return i;
	return CATALOG_NONE;
}

size_t
catalog_pick(const struct catalog *c, const char *accept, size_t def)
{
	if (c == NULL && (c = catalog_default()) == NULL)
		return 0;
	return acceptlang_pick(accept, c->tags, c->n, def < c->n ? def : 0);
}

const char *
catalog_tag(const struct catalog *c, size_t lang)
{
	if (c == NULL)
		c = catalog_default();
	return c != NULL && lang < c->n ? c->langs[lang].tag : "en";
}

const char *
catalog_get(const struct catalog *c, size_t lang, const char *key)
{
	const char	*v = NULL;

	const char	*k;

	if (c == NULL && (c = catalog_default()) == NULL)
		return key;
	if (lang < c->n)
		v = catalog_lookup(&c->langs[lang], key);
	if (v == NULL && c->n > 0)
		v = catalog_lookup(&c->langs[0], key);
	if (v == NULL && (k = catalog_key_of(key)) != NULL)
		return catalog_get(c, lang, k);
	return v != NULL ? v : key;
}

int
catalog_known(const char *key)
{
	const struct catalog *c = catalog_default();

	return c != NULL && catalog_lookup(&c->langs[0], key) != NULL;
}
