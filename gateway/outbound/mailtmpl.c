/*
 * Mail templates (see mailtmpl.h): a small parser of literal text with
 * {{name}} placeholders, its renderer, and the loader of a template
 * directory.  A parsed template keeps its own copy of the file's text and
 * a list of parts pointing into it.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "diag.h"
#include "log.h"
#include "mailmsg.h"
#include "mailtmpl.h"

/* A literal run of the text, or a placeholder's name; both point into it. */
struct mailtmpl_part {
	int		 var;		/* 1: {{name}} */
	size_t		 off;		/* into mailtmpl.text */
	size_t		 len;
};

/* One parsed file; owns <text> and <parts>. */
struct mailtmpl {
	char			*text;
	struct mailtmpl_part	*parts;
	size_t			 nparts;
};

/* A loaded directory; owns every message. */
struct mailtmpl_set {
	struct mailtmpl_msg	*msgs;		/* sorted by name */
	size_t			 n;
};

/* A growing output string, capped at MAILTMPL_OUT_MAX. */
struct mailtmpl_buf {
	char	*p;
	size_t	 len;
	size_t	 cap;
};

static int
mailtmpl_err(struct mailtmpl_err *e, size_t line, size_t col,
    const char *msg)
{
	e->line = line;
	e->col = col;
	(void)snprintf(e->msg, sizeof(e->msg), "%s", msg);
	return -1;
}

static int
mailtmpl_add(struct mailtmpl *t, int var, size_t off, size_t len)
{
	struct mailtmpl_part	*p;

	if (len == 0 && !var)
		return 0;
	if ((p = reallocarray(t->parts, t->nparts + 1, sizeof(*p))) == NULL)
		return -1;
	t->parts = p;
	p[t->nparts].var = var;
	p[t->nparts].off = off;
	p[t->nparts].len = len;
	t->nparts++;
	return 0;
}

static int
mailtmpl_namech(char c, int first)
{
	return (c >= 'a' && c <= 'z') || c == '_' ||
	    (!first && c >= '0' && c <= '9');
}

/*
 * The placeholder at text[*i] ("{{"): add it and move *i past "}}".
 * Returns 0, or -1 with <e> set at <line>:<col> (the opening brace).
 */
static int
mailtmpl_placeholder(struct mailtmpl *t, const char *s, size_t len,
    size_t *i, size_t line, size_t col, struct mailtmpl_err *e)
{
	size_t	j = *i + 2, name;

	while (j < len && s[j] == ' ')
		j++;
	name = j;
	while (j < len && mailtmpl_namech(s[j], j == name))
		j++;
	if (j == name)
		return mailtmpl_err(e, line, col, "expected a variable name "
		    "([a-z_][a-z0-9_]*) after {{");
	if (j - name > MAILTMPL_NAME_MAX)
		return mailtmpl_err(e, line, col, "variable name longer than "
		    "32 bytes");
	if (mailtmpl_add(t, 1, name, j - name) == -1)
		return mailtmpl_err(e, line, col, "out of memory");
	while (j < len && s[j] == ' ')
		j++;
	if (len - j < 2 || s[j] != '}' || s[j + 1] != '}')
		return mailtmpl_err(e, line, col, "unclosed {{: expected }} "
		    "after the variable name");
	*i = j + 2;
	return 0;
}

/* Walk the text: literals, placeholders, UTF-8 and positions. */
static int
mailtmpl_scan(struct mailtmpl *t, size_t len, struct mailtmpl_err *e)
{
	const char	*s = t->text;
	size_t		 i = 0, lit = 0, line = 1, col = 1, n, start;

	while (i < len) {
		if (s[i] == '{' && i + 1 < len && s[i + 1] == '{') {
			if (mailtmpl_add(t, 0, lit, i - lit) == -1)
				return mailtmpl_err(e, line, col,
				    "out of memory");
			start = i;
			if (mailtmpl_placeholder(t, s, len, &i, line, col, e)
			    == -1)
				return -1;
			col += i - start;
			lit = i;
			continue;
		}
		if (s[i] == '\0')
			return mailtmpl_err(e, line, col, "NUL byte");
		if ((n = mailmsg_utf8_len((const unsigned char *)s + i,
		    len - i)) == 0)
			return mailtmpl_err(e, line, col, "invalid UTF-8");
		if (s[i] == '\n') {
			line++;
			col = 1;
		} else
			col++;
		i += n;
	}
	if (mailtmpl_add(t, 0, lit, i - lit) == -1)
		return mailtmpl_err(e, line, col, "out of memory");
	return 0;
}

struct mailtmpl *
mailtmpl_parse(const char *text, size_t len, struct mailtmpl_err *e)
{
	struct mailtmpl	*t;

	memset(e, 0, sizeof(*e));
	if (len > MAILTMPL_FILE_MAX) {
		(void)mailtmpl_err(e, 1, 1, "larger than 64 KiB");
		return NULL;
	}
	if ((t = calloc(1, sizeof(*t))) == NULL ||
	    (t->text = malloc(len + 1)) == NULL) {
		free(t);
		(void)mailtmpl_err(e, 1, 1, "out of memory");
		return NULL;
	}
	memcpy(t->text, text, len);
	t->text[len] = '\0';
	if (mailtmpl_scan(t, len, e) == -1) {
		mailtmpl_free(t);
		return NULL;
	}
	return t;
}

void
mailtmpl_free(struct mailtmpl *t)
{
	if (t == NULL)
		return;
	free(t->parts);
	free(t->text);
	free(t);
}

static int
mailtmpl_put(struct mailtmpl_buf *b, const char *s, size_t len)
{
	size_t	 cap;
	char	*p;

	if (len > MAILTMPL_OUT_MAX - b->len)
		return -1;
	if (b->len + len + 1 > b->cap) {
		cap = b->cap == 0 ? 1024 : b->cap;
		while (cap < b->len + len + 1)
			cap *= 2;
		if ((p = realloc(b->p, cap)) == NULL)
			return -1;
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, len);
	b->len += len;
	b->p[b->len] = '\0';
	return 0;
}

/* <v> with & < > " ' as entities (HTML text and attribute values). */
static int
mailtmpl_put_html(struct mailtmpl_buf *b, const char *v)
{
	const char	*ent;
	size_t		 run;

	while (*v != '\0') {
		run = strcspn(v, "&<>\"'");
		if (mailtmpl_put(b, v, run) == -1)
			return -1;
		v += run;
		if (*v == '\0')
			break;
		switch (*v) {
		case '&':
			ent = "&amp;";
			break;
		case '<':
			ent = "&lt;";
			break;
		case '>':
			ent = "&gt;";
			break;
		case '"':
			ent = "&quot;";
			break;
		default:
			ent = "&#39;";
			break;
		}
		if (mailtmpl_put(b, ent, strlen(ent)) == -1)
			return -1;
		v++;
	}
	return 0;
}

static const char *
mailtmpl_value(const struct mail_var *vars, size_t nvars, const char *name,
    size_t len)
{
	size_t	i;

	for (i = 0; i < nvars; i++)
		if (vars[i].name != NULL && vars[i].value != NULL &&
		    strlen(vars[i].name) == len &&
		    memcmp(vars[i].name, name, len) == 0)
			return vars[i].value;
	return NULL;
}

char *
mailtmpl_render(const struct mailtmpl *t, enum mailtmpl_escape esc,
    const struct mail_var *vars, size_t nvars, size_t *lenp, char *err,
    size_t errlen)
{
	struct mailtmpl_buf	 b = { NULL, 0, 0 };
	const struct mailtmpl_part *p;
	const char		*v;
	size_t			 i;
	int			 rc = 0;

	for (i = 0; i < t->nparts && rc == 0; i++) {
		p = &t->parts[i];
		if (!p->var) {
			rc = mailtmpl_put(&b, t->text + p->off, p->len);
			continue;
		}
		if ((v = mailtmpl_value(vars, nvars, t->text + p->off,
		    p->len)) == NULL) {
			(void)snprintf(err, errlen, "no value for {{%.*s}}",
			    (int)p->len, t->text + p->off);
			free(b.p);
			return NULL;
		}
		rc = esc == MAILTMPL_HTML ? mailtmpl_put_html(&b, v) :
		    mailtmpl_put(&b, v, strlen(v));
	}
	if (rc == 0)
		rc = mailtmpl_put(&b, "", 0);	/* an empty template: "" */
	if (rc == -1) {
		(void)snprintf(err, errlen, "rendering is larger than 1 MiB "
		    "or out of memory");
		free(b.p);
		return NULL;
	}
	*lenp = b.len;
	return b.p;
}

/* ---- loading a directory ---- */

/* The file <dir>/<name><ext>, read whole; NULL after an error in <d>. */
static char *
mailtmpl_read(const char *path, size_t *lenp, struct diag *d)
{
	struct stat	 st;
	char		*buf = NULL;
	ssize_t		 n;
	size_t		 len = 0;
	int		 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) == -1) {
		diag_error(d, path, 0, 0, "cannot open mail template: %s",
		    strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode))
		diag_error(d, path, 0, 0, "not a regular file");
	else if (st.st_size > MAILTMPL_FILE_MAX)
		diag_error(d, path, 0, 0, "mail template larger than 64 KiB");
	else if ((buf = malloc((size_t)st.st_size + 1)) == NULL)
		diag_error(d, path, 0, 0, "out of memory");
	while (buf != NULL && len < (size_t)st.st_size &&
	    (n = read(fd, buf + len, (size_t)st.st_size - len)) > 0)
		len += (size_t)n;
	close(fd);
	if (buf != NULL && len != (size_t)st.st_size) {
		diag_error(d, path, 0, 0, "cannot read mail template");
		free(buf);
		return NULL;
	}
	*lenp = len;
	return buf;
}

/* A subject is one line: a final newline is dropped, any other refused. */
static int
mailtmpl_subject_line(const char *path, char *buf, size_t *len,
    struct diag *d)
{
	size_t	i;

	if (*len > 0 && buf[*len - 1] == '\n')
		(*len)--;
	if (*len > 0 && buf[*len - 1] == '\r')
		(*len)--;
	for (i = 0; i < *len; i++)
		if (buf[i] == '\n' || buf[i] == '\r') {
			diag_error(d, path, 1, i + 1, "a subject template is "
			    "one line; found a line break");
			return -1;
		}
	if (*len == 0) {
		diag_error(d, path, 1, 1, "empty subject");
		return -1;
	}
	return 0;
}

static struct mailtmpl *
mailtmpl_load_file(const char *dir, const char *name, const char *ext,
    struct diag *d)
{
	struct mailtmpl_err	 e;
	struct mailtmpl		*t = NULL;
	char			 path[4096], *buf;
	size_t			 len;

	if (snprintf(path, sizeof(path), "%s/%s%s", dir, name, ext) >=
	    (int)sizeof(path)) {
		diag_error(d, dir, 0, 0, "path too long");
		return NULL;
	}
	if ((buf = mailtmpl_read(path, &len, d)) == NULL)
		return NULL;
	if (strcmp(ext, ".subject") == 0 &&
	    mailtmpl_subject_line(path, buf, &len, d) == -1) {
		free(buf);
		return NULL;
	}
	if ((t = mailtmpl_parse(buf, len, &e)) == NULL)
		diag_error(d, path, e.line, e.col, "%s", e.msg);
	free(buf);
	return t;
}

/* 1 if <fname> is "<name>.subject" with a valid name, copied into <name>. */
static int
mailtmpl_subject_name(const char *fname, char *name)
{
	size_t	len = strlen(fname), n = len - strlen(".subject");

	if (len <= strlen(".subject") || strcmp(fname + n, ".subject") != 0 ||
	    n > MAILTMPL_NAME_MAX ||
	    strspn(fname, "abcdefghijklmnopqrstuvwxyz0123456789_") != n)
		return 0;
	memcpy(name, fname, n);
	name[n] = '\0';
	return 1;
}

static int
mailtmpl_cmp(const void *a, const void *b)
{
	return strcmp(((const struct mailtmpl_msg *)a)->name,
	    ((const struct mailtmpl_msg *)b)->name);
}

/* The names of <dir>'s messages into <set>, sorted; -1 after an error. */
static int
mailtmpl_list(const char *dir, struct mailtmpl_set *set, struct diag *d)
{
	struct dirent	*de;
	DIR		*dp;
	char		 name[MAILTMPL_NAME_MAX + 1];

	if ((dp = opendir(dir)) == NULL) {
		diag_error(d, dir, 0, 0, "cannot open the mail templates "
		    "directory: %s", strerror(errno));
		return -1;
	}
	if ((set->msgs = calloc(MAILTMPL_MAX, sizeof(*set->msgs))) == NULL) {
		diag_error(d, dir, 0, 0, "out of memory");
		closedir(dp);
		return -1;
	}
	while ((de = readdir(dp)) != NULL) {
		if (!mailtmpl_subject_name(de->d_name, name))
			continue;
		if (set->n == MAILTMPL_MAX) {
			diag_error(d, dir, 0, 0, "more than %d mail templates",
			    MAILTMPL_MAX);
			closedir(dp);
			return -1;
		}
		memcpy(set->msgs[set->n++].name, name, sizeof(name));
	}
	closedir(dp);
	qsort(set->msgs, set->n, sizeof(*set->msgs), mailtmpl_cmp);
	return 0;
}

struct mailtmpl_set *
mailtmpl_load_dir(const char *dir, struct diag *d)
{
	struct mailtmpl_set	*set;
	struct mailtmpl_msg	*m;
	size_t			 i, nerrors = d->nerrors;

	if ((set = calloc(1, sizeof(*set))) == NULL) {
		diag_error(d, dir, 0, 0, "out of memory");
		return NULL;
	}
	if (mailtmpl_list(dir, set, d) == 0)
		for (i = 0; i < set->n; i++) {
			m = &set->msgs[i];
			m->subject = mailtmpl_load_file(dir, m->name,
			    ".subject", d);
			m->text = mailtmpl_load_file(dir, m->name, ".txt", d);
			m->html = mailtmpl_load_file(dir, m->name, ".html", d);
		}
	if (d->nerrors != nerrors) {
		mailtmpl_set_free(set);
		return NULL;
	}
	return set;
}

void
mailtmpl_set_free(struct mailtmpl_set *set)
{
	size_t	i;

	if (set == NULL)
		return;
	for (i = 0; i < set->n; i++) {
		mailtmpl_free(set->msgs[i].subject);
		mailtmpl_free(set->msgs[i].text);
		mailtmpl_free(set->msgs[i].html);
	}
	free(set->msgs);
	free(set);
}

const struct mailtmpl_msg *
mailtmpl_find(const struct mailtmpl_set *set, const char *name)
{
	struct mailtmpl_msg	key;

	if (set == NULL || strlen(name) > MAILTMPL_NAME_MAX)
		return NULL;
	memset(&key, 0, sizeof(key));
	memcpy(key.name, name, strlen(name));
	return bsearch(&key, set->msgs, set->n, sizeof(*set->msgs),
	    mailtmpl_cmp);
}
