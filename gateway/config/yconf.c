/*
 * The table-driven YAML walker of configuration and policy files (see
 * yconf.h).  A file is read whole (at most YCONF_MAXSIZE bytes), scanned
 * once as an event stream for what we refuse (anchors, aliases, custom
 * tags, deep nesting, several documents), then loaded as a document.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "diag.h"
#include "log.h"
#include "parse.h"
#include "yconf.h"

#define YCONF_MAXSCAN	20	/* scan errors reported before giving up */

/* What the event scan tracks. */
struct yconf_scan {
	unsigned int	 depth;
	unsigned int	 ndocs;
	unsigned int	 nerrors;
};

static void
yconf_vreport(struct yconf *y, const yaml_node_t *n, int warn,
    const char *fmt, va_list ap) __attribute__((format(printf, 4, 0)));

static void
yconf_vreport(struct yconf *y, const yaml_node_t *n, int warn,
    const char *fmt, va_list ap)
{
	char	msg[400];

	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	if (warn && n != NULL)
		diag_warning(y->diag, y->path, n->start_mark.line + 1,
		    n->start_mark.column + 1, "%s", msg);
	else if (warn)
		diag_warning(y->diag, y->path, 0, 0, "%s", msg);
	else if (n != NULL)
		diag_error(y->diag, y->path, n->start_mark.line + 1,
		    n->start_mark.column + 1, "%s", msg);
	else
		diag_error(y->diag, y->path, 0, 0, "%s", msg);
}

void
yconf_error(struct yconf *y, const yaml_node_t *n, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	yconf_vreport(y, n, 0, fmt, ap);
	va_end(ap);
}

void
yconf_warning(struct yconf *y, const yaml_node_t *n, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	yconf_vreport(y, n, 1, fmt, ap);
	va_end(ap);
}

static void
yconf_mark_error(struct yconf *y, const yaml_mark_t *m, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
yconf_mark_error(struct yconf *y, const yaml_mark_t *m, const char *fmt, ...)
{
	char	msg[400];
	va_list	ap;

	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	diag_error(y->diag, y->path, m->line + 1, m->column + 1, "%s", msg);
}

/* libyaml's reason, at its problem mark (reader errors have a byte offset). */
static void
yconf_syntax_error(struct yconf *y, const yaml_parser_t *p)
{
	const char	*problem = p->problem;

	/* libyaml names the problem of every syntax error; none (or its
	 * memory error) means an allocation failed. */
	if (p->error == YAML_MEMORY_ERROR || p->problem == NULL)
		diag_error(y->diag, y->path, 0, 0, "out of memory");
	else if (p->error == YAML_READER_ERROR)
		diag_error(y->diag, y->path, 0, 0, "invalid YAML input: %s "
		    "at byte %zu", problem, p->problem_offset);
	else if (p->context != NULL)
		yconf_mark_error(y, &p->problem_mark, "YAML syntax error: %s "
		    "%s", problem, p->context);
	else
		yconf_mark_error(y, &p->problem_mark, "YAML syntax error: %s",
		    problem);
}

static int
yconf_tag_ok(const yaml_char_t *tag)
{
	static const char *const ok[] = { YAML_STR_TAG, YAML_INT_TAG,
	    YAML_BOOL_TAG, YAML_NULL_TAG, YAML_FLOAT_TAG };
	size_t	i;

	if (tag == NULL)
		return 1;
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		if (strcmp((const char *)tag, ok[i]) == 0)
			return 1;
	return 0;
}

/* Anchor, tag and depth checks of one event; 0 or -1. */
static int
yconf_scan_node(struct yconf *y, const yaml_event_t *ev,
    const yaml_char_t *anchor, const yaml_char_t *tag, int scalar)
{
	if (anchor != NULL) {
		yconf_mark_error(y, &ev->start_mark, "YAML anchors and aliases "
		    "are not supported");
		return -1;
	}
	if (!scalar && tag != NULL) {
		yconf_mark_error(y, &ev->start_mark, "YAML tags are not "
		    "supported on lists and mappings");
		return -1;
	}
	if (!yconf_tag_ok(tag)) {
		yconf_mark_error(y, &ev->start_mark, "YAML tag '%.40s' is not "
		    "supported (only !!str, !!int, !!bool, !!null, !!float)",
		    (const char *)tag);
		return -1;
	}
	return 0;
}

/* One event of the scan: 0, -1 for an error, -2 to stop scanning. */
static int
yconf_scan_event(struct yconf *y, const yaml_event_t *ev, struct yconf_scan *s)
{
	switch (ev->type) {
	case YAML_ALIAS_EVENT:
		yconf_mark_error(y, &ev->start_mark, "YAML anchors and aliases "
		    "are not supported");
		return -1;
	case YAML_SCALAR_EVENT:
		return yconf_scan_node(y, ev, ev->data.scalar.anchor,
		    ev->data.scalar.tag, 1);
	case YAML_SEQUENCE_START_EVENT:
	case YAML_MAPPING_START_EVENT:
		if (++s->depth > YCONF_MAXDEPTH) {
			yconf_mark_error(y, &ev->start_mark, "nesting deeper "
			    "than %d levels", YCONF_MAXDEPTH);
			return -2;
		}
		return ev->type == YAML_SEQUENCE_START_EVENT ?
		    yconf_scan_node(y, ev, ev->data.sequence_start.anchor,
		    ev->data.sequence_start.tag, 0) :
		    yconf_scan_node(y, ev, ev->data.mapping_start.anchor,
		    ev->data.mapping_start.tag, 0);
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		s->depth--;
		return 0;
	case YAML_DOCUMENT_START_EVENT:
		if (++s->ndocs > 1) {
			yconf_mark_error(y, &ev->start_mark, "only one YAML "
			    "document per file");
			return -2;
		}
		return 0;
	default:
		return 0;
	}
}

/* The event scan over the whole stream; 0 if loading may proceed. */
static int
yconf_scan(struct yconf *y, const unsigned char *buf, size_t len)
{
	struct yconf_scan	 s = { 0, 0, 0 };
	yaml_parser_t		 p;
	yaml_event_t		 ev;
	int			 done = 0, r;

	if (!yaml_parser_initialize(&p)) {
		diag_error(y->diag, y->path, 0, 0, "out of memory");
		return -1;
	}
	yaml_parser_set_input_string(&p, buf, len);
	while (!done) {
		if (!yaml_parser_parse(&p, &ev)) {
			yconf_syntax_error(y, &p);
			s.nerrors++;
			break;
		}
		done = ev.type == YAML_STREAM_END_EVENT;
		r = yconf_scan_event(y, &ev, &s);
		yaml_event_delete(&ev);
		if (r != 0 && (++s.nerrors >= YCONF_MAXSCAN || r == -2))
			break;
	}
	yaml_parser_delete(&p);
	return s.nerrors == 0 ? 0 : -1;
}

int
yconf_open_buffer(struct yconf *y, const char *path, const void *buf,
    size_t len, struct diag *d)
{
	yaml_parser_t	p;
	int		rc = 0;

	memset(y, 0, sizeof(*y));
	y->path = path;
	y->diag = d;
	if (len > YCONF_MAXSIZE) {
		diag_error(d, path, 0, 0, "file too large (%zu bytes; at most "
		    "%d)", len, YCONF_MAXSIZE);
		return -1;
	}
	if (yconf_scan(y, buf, len) == -1)
		return -1;
	if (!yaml_parser_initialize(&p)) {
		diag_error(d, path, 0, 0, "out of memory");
		return -1;
	}
	yaml_parser_set_input_string(&p, buf, len);
	if (!yaml_parser_load(&p, &y->doc)) {
		yconf_syntax_error(y, &p);	/* the scan should have seen it */
		rc = -1;
	} else
		y->loaded = 1;
	yaml_parser_delete(&p);
	return rc;
}

/* Read all of <fd> (a regular file) into *<buf>; 0 or -1 with errno. */
static int
yconf_read(int fd, char **buf, size_t *len)
{
	char	*b;
	size_t	 n = 0;
	ssize_t	 r;

	if ((b = malloc(YCONF_MAXSIZE + 1)) == NULL)
		return -1;
	while (n < YCONF_MAXSIZE + 1) {
		r = read(fd, b + n, YCONF_MAXSIZE + 1 - n);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			free(b);
			return -1;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	*buf = b;
	*len = n;
	return 0;
}

int
yconf_open(struct yconf *y, const char *path, struct diag *d)
{
	struct stat	 st;
	char		*buf = NULL;
	size_t		 len;
	int		 fd, rc;

	memset(y, 0, sizeof(*y));
	y->path = path;
	y->diag = d;
	if ((fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)) == -1) {
		diag_error(d, path, 0, 0, "cannot open: %s", strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    yconf_read(fd, &buf, &len) == -1) {
		diag_error(d, path, 0, 0, "cannot read: %s", S_ISREG(st.st_mode)
		    ? strerror(errno) : "not a regular file");
		close(fd);
		return -1;
	}
	close(fd);
	rc = yconf_open_buffer(y, path, buf, len, d);
	free(buf);
	return rc;
}

void
yconf_close(struct yconf *y)
{
	if (y->loaded)
		yaml_document_delete(&y->doc);
	y->loaded = 0;
}

yaml_node_t *
yconf_root(struct yconf *y)
{
	return y->loaded ? yaml_document_get_root_node(&y->doc) : NULL;
}

static const char *
yconf_type_name(const yaml_node_t *n)
{
	switch (n->type) {
	case YAML_SCALAR_NODE:
		return yconf_is_null(n) ? "null" : "a scalar";
	case YAML_SEQUENCE_NODE:
		return "a list";
	case YAML_MAPPING_NODE:
		return "a mapping";
	default:
		return "nothing";
	}
}

static const char *
yconf_want_name(yaml_node_type_t t)
{
	switch (t) {
	case YAML_SEQUENCE_NODE:
		return "a list";
	case YAML_MAPPING_NODE:
		return "a mapping";
	default:
		return "a scalar value";
	}
}

/* "a, b, c" of the key names of a table, for unknown-key messages. */
static void
yconf_key_list(const struct yconf_key *keys, size_t nkeys, char *buf,
    size_t size)
{
	size_t	i, off = 0;
	int	n;

	buf[0] = '\0';
	for (i = 0; i < nkeys && off < size; i++) {
		n = snprintf(buf + off, size - off, "%s%s", i > 0 ? ", " : "",
		    keys[i].name);
		if (n < 0)
			break;
		off += (size_t)n;
	}
}

static void
yconf_unknown_key(struct yconf *y, yaml_node_t *k, const char *section,
    const struct yconf_key *keys, size_t nkeys)
{
	char	list[512], name[64];

	yconf_key_list(keys, nkeys, list, sizeof(list));
	(void)parse_printable(name, sizeof(name), (const char *)
	    k->data.scalar.value, 48);
	if (*section == '\0')
		yconf_error(y, k, "unknown key '%s' at the top level (expected "
		    "one of: %s)", name, list);
	else
		yconf_error(y, k, "unknown key '%s' in '%s' (expected one of: "
		    "%s)", name, section, list);
}

static void
yconf_set_key(struct yconf *y, const char *section, const char *name)
{
	if (*section == '\0')
		(void)snprintf(y->key, sizeof(y->key), "%s", name);
	else
		(void)snprintf(y->key, sizeof(y->key), "%s.%s", section, name);
}

/* Index of key node <k> in <keys>, or -1 (reported) if unknown or bad. */
static int
yconf_find_key(struct yconf *y, yaml_node_t *k, const char *section,
    const struct yconf_key *keys, size_t nkeys)
{
	size_t	i;

	if (k->type != YAML_SCALAR_NODE) {
		yconf_error(y, k, "%s%skeys must be plain names, not %s",
		    section, *section != '\0' ? ": " : "", yconf_type_name(k));
		return -1;
	}
	for (i = 0; i < nkeys; i++)
		if (strlen(keys[i].name) == k->data.scalar.length &&
		    strcmp(keys[i].name, (char *)k->data.scalar.value) == 0)
			return (int)i;
	yconf_unknown_key(y, k, section, keys, nkeys);
	return -1;
}

/* Duplicate and type checks of one pair, then its handler. */
static void
yconf_pair(struct yconf *y, yaml_node_t *k, yaml_node_t *v,
    const char *section, const struct yconf_key *key, yaml_node_t **seen,
    void *obj)
{
	yconf_set_key(y, section, key->name);
	if (*seen != NULL) {
		yconf_error(y, k, "duplicate key '%s' (first at line %zu)",
		    y->key, (*seen)->start_mark.line + 1);
		return;
	}
	*seen = k;
	y->cur = key;
	if (key->type != YAML_NO_NODE && v->type != key->type) {
		yconf_error(y, v, "%s: expected %s, got %s", y->key,
		    yconf_want_name(key->type), yconf_type_name(v));
		return;
	}
	key->handler(y, v, obj);
}

void
yconf_map(struct yconf *y, yaml_node_t *n, const char *section,
    const struct yconf_key *keys, size_t nkeys, void *obj)
{
	yaml_node_t	*seen[YCONF_MAXKEYS] = { 0 }, *k, *v;
	yaml_node_pair_t *pair;
	char		 saved[sizeof(y->key)];
	size_t		 i;
	int		 idx;

	if (n->type != YAML_MAPPING_NODE) {
		yconf_error(y, n, "%s: expected a mapping, got %s", *section ==
		    '\0' ? "file" : section, yconf_type_name(n));
		return;
	}
	memcpy(saved, y->key, sizeof(saved));
	for (pair = n->data.mapping.pairs.start;
	    pair < n->data.mapping.pairs.top; pair++) {
		k = yaml_document_get_node(&y->doc, pair->key);
		v = yaml_document_get_node(&y->doc, pair->value);
		if (k == NULL || v == NULL ||
		    (idx = yconf_find_key(y, k, section, keys, nkeys)) == -1)
			continue;
		yconf_pair(y, k, v, section, &keys[idx], &seen[idx], obj);
	}
	for (i = 0; i < nkeys && i < YCONF_MAXKEYS; i++)
		if (keys[i].required && seen[i] == NULL)
			yconf_error(y, n, "missing required key '%s' %s%s%s",
			    keys[i].name, *section == '\0' ? "at the top level"
			    : "in '", section, *section == '\0' ? "" : "'");
	memcpy(y->key, saved, sizeof(saved));
}

void
yconf_seq(struct yconf *y, yaml_node_t *n, yconf_handler fn, void *obj)
{
	yaml_node_item_t	*it;
	yaml_node_t		*item;
	char			 saved[sizeof(y->key)];

	memcpy(saved, y->key, sizeof(saved));
	for (it = n->data.sequence.items.start;
	    it < n->data.sequence.items.top; it++) {
		if ((item = yaml_document_get_node(&y->doc, *it)) == NULL)
			continue;
		fn(y, item, obj);
		memcpy(y->key, saved, sizeof(saved));
	}
}

yaml_node_t *
yconf_get(struct yconf *y, yaml_node_t *n, const char *key)
{
	yaml_node_pair_t	*p;
	yaml_node_t		*k;

	if (n->type != YAML_MAPPING_NODE)
		return NULL;
	for (p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
	    p++) {
		k = yaml_document_get_node(&y->doc, p->key);
		if (k != NULL && k->type == YAML_SCALAR_NODE &&
		    strcmp((const char *)k->data.scalar.value, key) == 0)
			return yaml_document_get_node(&y->doc, p->value);
	}
	return NULL;
}

size_t
yconf_seq_len(const yaml_node_t *n)
{
	if (n->type != YAML_SEQUENCE_NODE)
		return 0;
	return (size_t)(n->data.sequence.items.top -
	    n->data.sequence.items.start);
}

int
yconf_is_null(const yaml_node_t *n)
{
	const char	*s = (const char *)n->data.scalar.value;

	if (n->type != YAML_SCALAR_NODE ||
	    n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return 0;
	return strcmp(s, "") == 0 || strcmp(s, "~") == 0 ||
	    strcmp(s, "null") == 0 || strcmp(s, "Null") == 0 ||
	    strcmp(s, "NULL") == 0;
}

int
yconf_str(struct yconf *y, yaml_node_t *n, const char **out)
{
	if (n->type != YAML_SCALAR_NODE || yconf_is_null(n)) {
		yconf_error(y, n, "%s: expected a string, got %s", y->key,
		    yconf_type_name(n));
		return -1;
	}
	if (strlen((char *)n->data.scalar.value) != n->data.scalar.length) {
		yconf_error(y, n, "%s: value contains a NUL byte", y->key);
		return -1;
	}
	*out = (const char *)n->data.scalar.value;
	return 0;
}

int
yconf_strdup(struct yconf *y, yaml_node_t *n, int nullok, char **out)
{
	const char	*s;

	if (nullok && yconf_is_null(n)) {
		*out = NULL;
		return 0;
	}
	if (yconf_str(y, n, &s) == -1)
		return -1;
	if ((*out = strdup(s)) == NULL)
		return yconf_nomem(y, n);
	return 0;
}

int
yconf_nomem(struct yconf *y, const yaml_node_t *n)
{
	if (y->key[0] != '\0')
		yconf_error(y, n, "%s: out of memory", y->key);
	else
		yconf_error(y, n, "out of memory");
	return -1;
}

/* Report "<key>: invalid <what> '<value>': <reason>" at <n>. */
static int
yconf_invalid(struct yconf *y, yaml_node_t *n, const char *what,
    const char *s, const char *reason)
{
	char	val[64];

	yconf_error(y, n, "%s: invalid %s '%s': %s", y->key, what,
	    parse_printable(val, sizeof(val), s, 48), reason);
	return -1;
}

int
yconf_bool(struct yconf *y, yaml_node_t *n, int *out)
{
	if (n->type != YAML_SCALAR_NODE ||
	    n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE ||
	    parse_bool((const char *)n->data.scalar.value, out, NULL, 0) == -1) {
		yconf_error(y, n, "%s: expected true or false, got %s", y->key,
		    n->type != YAML_SCALAR_NODE ? yconf_type_name(n) :
		    n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE ?
		    "a quoted string" : "another value");
		return -1;
	}
	return 0;
}

int
yconf_uint(struct yconf *y, yaml_node_t *n, uint64_t min, uint64_t max,
    uint64_t *out)
{
	char		 err[PARSE_ERRLEN];
	const char	*s;

	if (yconf_str(y, n, &s) == -1)
		return -1;
	if (parse_uint(s, min, max, out, err, sizeof(err)) == -1)
		return yconf_invalid(y, n, "number", s, err);
	return 0;
}

/* Format <ms> for messages: "30s", "1500ms", "7d". */
static void
yconf_fmt_ms(char *buf, size_t size, uint64_t ms)
{
	if (ms % 86400000 == 0 && ms > 0)
		(void)snprintf(buf, size, "%" PRIu64 "d", ms / 86400000);
	else if (ms % 3600000 == 0 && ms > 0)
		(void)snprintf(buf, size, "%" PRIu64 "h", ms / 3600000);
	else if (ms % 60000 == 0 && ms > 0)
		(void)snprintf(buf, size, "%" PRIu64 "m", ms / 60000);
	else if (ms % 1000 == 0)
		(void)snprintf(buf, size, "%" PRIu64 "s", ms / 1000);
	else
		(void)snprintf(buf, size, "%" PRIu64 "ms", ms);
}

int
yconf_duration(struct yconf *y, yaml_node_t *n, uint64_t min, uint64_t max,
    uint64_t *ms)
{
	char		 err[PARSE_ERRLEN], lo[32], hi[32];
	const char	*s;
	uint64_t	 v;

	if (yconf_str(y, n, &s) == -1)
		return -1;
	if (parse_duration(s, &v, err, sizeof(err)) == -1)
		return yconf_invalid(y, n, "duration", s, err);
	if (v < min || v > max) {
		yconf_fmt_ms(lo, sizeof(lo), min);
		yconf_fmt_ms(hi, sizeof(hi), max);
		(void)snprintf(err, sizeof(err), "out of range (%s to %s)",
		    lo, hi);
		return yconf_invalid(y, n, "duration", s, err);
	}
	*ms = v;
	return 0;
}

int
yconf_size(struct yconf *y, yaml_node_t *n, uint64_t min, uint64_t max,
    uint64_t *out)
{
	char		 err[PARSE_ERRLEN];
	const char	*s;
	uint64_t	 v;

	if (yconf_str(y, n, &s) == -1)
		return -1;
	if (parse_size(s, &v, err, sizeof(err)) == -1)
		return yconf_invalid(y, n, "size", s, err);
	if (v < min || v > max) {
		(void)snprintf(err, sizeof(err), "out of range (%" PRIu64
		    " to %" PRIu64 " bytes)", min, max);
		return yconf_invalid(y, n, "size", s, err);
	}
	*out = v;
	return 0;
}

int
yconf_addr(struct yconf *y, yaml_node_t *n, struct config_addr *a)
{
	char		 err[PARSE_ERRLEN];
	const char	*s;

	if (yconf_str(y, n, &s) == -1)
		return -1;
	if (parse_addr(s, a, err, sizeof(err)) == -1)
		return yconf_invalid(y, n, "address", s, err);
	return 0;
}

/* The field of the current key in <obj>. */
static void *
yconf_field(struct yconf *y, void *obj)
{
	return (char *)obj + y->cur->off;
}

void
yconf_on_str(struct yconf *y, yaml_node_t *n, void *obj)
{
	char	**p = yconf_field(y, obj), *s;

	if (yconf_strdup(y, n, 1, &s) == 0) {
		free(*p);
		*p = s;
	}
}

void
yconf_on_bool(struct yconf *y, yaml_node_t *n, void *obj)
{
	(void)yconf_bool(y, n, yconf_field(y, obj));
}

void
yconf_on_u64(struct yconf *y, yaml_node_t *n, void *obj)
{
	(void)yconf_uint(y, n, y->cur->min, y->cur->max, yconf_field(y, obj));
}

void
yconf_on_duration(struct yconf *y, yaml_node_t *n, void *obj)
{
	(void)yconf_duration(y, n, y->cur->min, y->cur->max,
	    yconf_field(y, obj));
}

void
yconf_on_size(struct yconf *y, yaml_node_t *n, void *obj)
{
	(void)yconf_size(y, n, y->cur->min, y->cur->max, yconf_field(y, obj));
}

void
yconf_on_size_t(struct yconf *y, yaml_node_t *n, void *obj)
{
	size_t		*p = yconf_field(y, obj);
	uint64_t	 v;

	if (yconf_size(y, n, y->cur->min, y->cur->max, &v) == 0)
		*p = (size_t)v;		/* max fits: tables keep it small */
}

void
yconf_on_count_t(struct yconf *y, yaml_node_t *n, void *obj)
{
	size_t		*p = yconf_field(y, obj);
	uint64_t	 v;

	if (yconf_uint(y, n, y->cur->min, y->cur->max, &v) == 0)
		*p = (size_t)v;
}
