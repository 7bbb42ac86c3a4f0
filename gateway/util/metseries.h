/*
 * Labelled counters for /metrics whose label values come from the
 * configuration (app names, route patterns, rate-limit classes): a fixed
 * table of series per worker, filled as series are first seen.  Only the
 * owning worker writes its table, without locks or allocation: a series'
 * labels are written once, then published with a release store; counts
 * are relaxed atomic adds.  The admin listener reads every worker's table
 * at scrape time, merges equal series and renders them.
 *
 * Cardinality is bounded twice: label values are never taken from the
 * request (a path that matches no route is route ""), and a table holds
 * METSERIES_SLOTS series at the most; what finds it full is counted in
 * postern_metrics_series_dropped_total instead.
 */
#ifndef POSTERN_METSERIES_H
#define POSTERN_METSERIES_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

struct evbuffer;

/* The families kept here; each renders its own labels. */
enum metseries_kind {
	METSERIES_REQUESTS = 0,	/* app, route, method, status */
	METSERIES_RATE_LIMITED,	/* class */
	METSERIES_NKINDS,
};

/* Methods as the "method" label: the standard ones, else "OTHER". */
enum metseries_method {
	METSERIES_GET = 0,
	METSERIES_HEAD,
	METSERIES_POST,
	METSERIES_PUT,
	METSERIES_DELETE,
	METSERIES_PATCH,
	METSERIES_OPTIONS,
	METSERIES_CONNECT,
	METSERIES_TRACE,
	METSERIES_OTHER,
	METSERIES_NMETHODS,
};

#define METSERIES_SLOTS		2048	/* per worker, a power of two */
#define METSERIES_FILL		1536	/* series at the most (3/4 full) */
#define METSERIES_ALEN		64	/* app or class name, NUL included */
#define METSERIES_BLEN		128	/* route pattern, NUL included */

/* One series; its labels never change once <ready> is set. */
struct metseries_slot {
	atomic_uint		 ready;	/* 0: free; 1: labels published */
	uint8_t			 kind;
	uint8_t			 method;
	uint16_t		 status;
	char			 a[METSERIES_ALEN];
	char			 b[METSERIES_BLEN];
	atomic_uint_fast64_t	 n;
};

/* One worker's table; embedded in its struct metrics, zeroed. */
struct metseries {
	struct metseries_slot	 slot[METSERIES_SLOTS];
	unsigned int		 used;		/* the owner's count */
	atomic_uint_fast64_t	 dropped;	/* table full */
};

/*
 * Count one event of series (<kind>, <a>, <b>, <method>, <status>) in
 * <t> (the calling worker's own).  NULL <a> or <b> is "".  Names longer
 * than the label fields are cut (and merged with their cut twins).
 */
void	metseries_count(struct metseries *t, enum metseries_kind kind,
	    const char *a, const char *b, enum metseries_method method,
	    int status);

/* The label of method <name> ("GET"...), OTHER if not a standard one. */
enum metseries_method metseries_method(const char *name);

/*
 * Append the families of <tables> (one per worker, <n> of them) to <out>,
 * series merged across workers and sorted; 0, or -1 (out of memory).
 */
int	metseries_render(struct evbuffer *out,
	    const struct metseries *const *tables, size_t n);

/* Append <s> to <out> escaped as a label value (\\, \", \n); 0 or -1. */
int	metseries_label(struct evbuffer *out, const char *s);

#endif
