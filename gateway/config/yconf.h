/*
 * A small table-driven walker over one libyaml document, shared by the
 * configuration and the policy files.  A loader describes each mapping as a
 * table of keys {name, node type, required, handler}; yconf_map() checks
 * unknown, duplicate, missing and mistyped keys and calls the handlers.
 * Every problem goes to the diag as "path:line:col: message" and the walk
 * goes on, so one run reports every mistake of a file.
 *
 * Before loading, the whole stream is scanned: anchors and aliases (the
 * "billion laughs"), tags other than the standard scalar ones, nesting
 * deeper than YCONF_MAXDEPTH, several documents and files larger than
 * YCONF_MAXSIZE are refused.
 */
#ifndef POSTERN_YCONF_H
#define POSTERN_YCONF_H

#include <stddef.h>
#include <stdint.h>
#include <yaml.h>

#include "confaddr.h"

#define YCONF_MAXSIZE	(1024 * 1024)	/* bytes of one file */
#define YCONF_MAXDEPTH	32		/* nested collections */
#define YCONF_MAXKEYS	32		/* keys in one table */

struct diag;

/* A loaded document and where its messages go.  Owned by the loader. */
struct yconf {
	yaml_document_t	 doc;
	int		 loaded;	/* doc must be deleted */
	const char	*path;		/* names the file in messages */
	struct diag	*diag;
	void		*arg;		/* the loader's own context */
	char		 key[128];	/* dotted key being handled */
	const struct yconf_key *cur;	/* its table entry */
};

/* Called with the value node of a key and the object of yconf_map(). */
typedef void	(*yconf_handler)(struct yconf *, yaml_node_t *, void *);

/*
 * One key of a mapping.  <off>, <min> and <max> serve the generic
 * yconf_on_* handlers below (offset of the field in the handler's object,
 * its range); other handlers ignore them.
 */
struct yconf_key {
	const char	*name;
	yaml_node_type_t type;		/* YAML_NO_NODE: any type */
	int		 required;
	yconf_handler	 handler;
	size_t		 off;
	uint64_t	 min;
	uint64_t	 max;
};

/*
 * Read and load <path> (yconf_open) or <len> bytes of <buf> named <path>
 * in messages (yconf_open_buffer).  Returns 0 with y->doc loaded, or -1
 * with the reasons in <d>.  Either way call yconf_close().
 */
int	yconf_open(struct yconf *y, const char *path, struct diag *d);
int	yconf_open_buffer(struct yconf *y, const char *path, const void *buf,
	    size_t len, struct diag *d);
void	yconf_close(struct yconf *y);

/* The root node, or NULL for an empty document. */
yaml_node_t	*yconf_root(struct yconf *y);

/*
 * Walk mapping <n> against <keys> (<nkeys> <= YCONF_MAXKEYS); <section>
 * names the mapping in messages ("" for the top level) and prefixes the
 * dotted key names in y->key.  Handlers get <obj>.
 */
void	yconf_map(struct yconf *y, yaml_node_t *n, const char *section,
	    const struct yconf_key *keys, size_t nkeys, void *obj);
/* Call <fn> for every item of sequence <n>. */
void	yconf_seq(struct yconf *y, yaml_node_t *n, yconf_handler fn,
	    void *obj);
/* The value node of <key> in mapping <n>, or NULL. */
yaml_node_t	*yconf_get(struct yconf *y, yaml_node_t *n, const char *key);
/* Number of items of sequence <n>. */
size_t	yconf_seq_len(const yaml_node_t *n);

/* Record an error at <n>'s position (NULL: at the start of the file). */
void	yconf_error(struct yconf *y, const yaml_node_t *n, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
void	yconf_warning(struct yconf *y, const yaml_node_t *n,
	    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/*
 * Record "<y->key>: out of memory" at <n> (NULL: the file): the load fails
 * and the process goes on.  Returns -1.
 */
int	yconf_nomem(struct yconf *y, const yaml_node_t *n);

/* A plain null: "null", "~" or nothing (not a quoted "null"). */
int	yconf_is_null(const yaml_node_t *n);

/*
 * Scalar readers: each checks that <n> is a scalar of the right form and
 * otherwise reports "<y->key>: ..." at <n> and returns -1.
 * yconf_str() points into the document (valid until yconf_close()).
 */
int	yconf_str(struct yconf *y, yaml_node_t *n, const char **out);
/* A copy; with <nullok> a null stores NULL. */
int	yconf_strdup(struct yconf *y, yaml_node_t *n, int nullok, char **out);
int	yconf_bool(struct yconf *y, yaml_node_t *n, int *out);
int	yconf_uint(struct yconf *y, yaml_node_t *n, uint64_t min, uint64_t max,
	    uint64_t *out);
int	yconf_duration(struct yconf *y, yaml_node_t *n, uint64_t min,
	    uint64_t max, uint64_t *ms);
int	yconf_size(struct yconf *y, yaml_node_t *n, uint64_t min, uint64_t max,
	    uint64_t *out);
int	yconf_addr(struct yconf *y, yaml_node_t *n, struct config_addr *a);

/*
 * Generic handlers storing into the field at y->cur->off of the object:
 * char * (a copy; null allowed), int (bool), uint64_t (number in
 * [min, max]), uint64_t milliseconds (duration), uint64_t bytes (size),
 * size_t bytes (size), size_t (number).
 */
void	yconf_on_str(struct yconf *, yaml_node_t *, void *);
void	yconf_on_bool(struct yconf *, yaml_node_t *, void *);
void	yconf_on_u64(struct yconf *, yaml_node_t *, void *);
void	yconf_on_duration(struct yconf *, yaml_node_t *, void *);
void	yconf_on_size(struct yconf *, yaml_node_t *, void *);
void	yconf_on_size_t(struct yconf *, yaml_node_t *, void *);
void	yconf_on_count_t(struct yconf *, yaml_node_t *, void *);

#endif
