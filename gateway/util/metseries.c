/*
 * Labelled series (see metseries.h).  The writer probes an open-addressed
 * table by a hash of the labels; the table is never more than 3/4 full,
 * so a probe ends quickly on the series or on a free slot.  The scraper
 * takes a slot only after its acquire load of <ready> sees 1, so it never
 * reads labels being written.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "metseries.h"

#define RELAXED	memory_order_relaxed

static const char *const metseries_methods[METSERIES_NMETHODS] = {
	[METSERIES_GET] = "GET",
	[METSERIES_HEAD] = "HEAD",
	[METSERIES_POST] = "POST",
	[METSERIES_PUT] = "PUT",
	[METSERIES_DELETE] = "DELETE",
	[METSERIES_PATCH] = "PATCH",
	[METSERIES_OPTIONS] = "OPTIONS",
	[METSERIES_CONNECT] = "CONNECT",
	[METSERIES_TRACE] = "TRACE",
	[METSERIES_OTHER] = "OTHER",
};

enum metseries_method
metseries_method(const char *name)
{
	size_t	i;

	for (i = 0; name != NULL && i < METSERIES_OTHER; i++)
		if (strcmp(name, metseries_methods[i]) == 0)
			return (enum metseries_method)i;
	return METSERIES_OTHER;
}

/* FNV-1a over at most <max> bytes of <s>, into <h>. */
static uint32_t
metseries_hash(uint32_t h, const char *s, size_t max)
{
	size_t	i;

	for (i = 0; i < max && s[i] != '\0'; i++)
		h = (h ^ (unsigned char)s[i]) * 16777619u;
	return (h ^ 0xff) * 16777619u;	/* ends the string */
}

/* <s> cut to the field is <field>. */
static int
metseries_same(const char *field, const char *s, size_t size)
{
	return strncmp(field, s, size - 1) == 0;
}

static int
metseries_match(const struct metseries_slot *sl, enum metseries_kind kind,
    const char *a, const char *b, enum metseries_method method, int status)
{
	return sl->kind == kind && sl->method == method &&
	    sl->status == status && metseries_same(sl->a, a, sizeof(sl->a)) &&
	    metseries_same(sl->b, b, sizeof(sl->b));
}

/* <s> cut to <size> - 1 bytes into <dst>, NUL-terminated. */
static void
metseries_copy(char *dst, const char *s, size_t size)
{
	size_t	n = strnlen(s, size - 1);

	memcpy(dst, s, n);
	dst[n] = '\0';
}

/* Fill free slot <sl> with the labels, count one, then publish it. */
static void
metseries_fill(struct metseries_slot *sl, enum metseries_kind kind,
    const char *a, const char *b, enum metseries_method method, int status)
{
	sl->kind = (uint8_t)kind;
	sl->method = (uint8_t)method;
	sl->status = (uint16_t)status;
	metseries_copy(sl->a, a, sizeof(sl->a));
	metseries_copy(sl->b, b, sizeof(sl->b));
	atomic_store_explicit(&sl->n, 1, RELAXED);
	atomic_store_explicit(&sl->ready, 1, memory_order_release);
}

void
metseries_count(struct metseries *t, enum metseries_kind kind,
    const char *a, const char *b, enum metseries_method method, int status)
{
	struct metseries_slot	*sl;
	uint32_t		 h = 2166136261u;
	size_t			 i;

	a = a != NULL ? a : "";
	b = b != NULL ? b : "";
	if (status < 0 || status > 999)
		status = 0;
	h = metseries_hash(h, a, METSERIES_ALEN - 1);
	h = metseries_hash(h, b, METSERIES_BLEN - 1);
	h = (h ^ ((uint32_t)kind << 24 | (uint32_t)method << 16 |
	    (uint32_t)status)) * 16777619u;
	for (i = h & (METSERIES_SLOTS - 1);; i = (i + 1) & (METSERIES_SLOTS -
	    1)) {
		sl = &t->slot[i];
		if (atomic_load_explicit(&sl->ready, RELAXED) == 0)
			break;
		if (metseries_match(sl, kind, a, b, method, status)) {
			atomic_fetch_add_explicit(&sl->n, 1, RELAXED);
			return;
		}
	}
	if (t->used >= METSERIES_FILL) {
		atomic_fetch_add_explicit(&t->dropped, 1, RELAXED);
		return;
	}
	t->used++;
	metseries_fill(sl, kind, a, b, method, status);
}

/* ---- scrape ---- */

struct metseries_row {
	const struct metseries_slot	*sl;
	uint64_t			 n;
};

static int
metseries_cmp(const void *pa, const void *pb)
{
	const struct metseries_slot *x = ((const struct metseries_row *)pa)->sl;
	const struct metseries_slot *y = ((const struct metseries_row *)pb)->sl;
	int	c;

	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	if ((c = strcmp(x->a, y->a)) != 0 || (c = strcmp(x->b, y->b)) != 0)
		return c;
	if (x->method != y->method)
		return x->method < y->method ? -1 : 1;
	return x->status == y->status ? 0 : x->status < y->status ? -1 : 1;
}

int
metseries_label(struct evbuffer *out, const char *s)
{
	size_t	n;

	while (*s != '\0') {
		n = strcspn(s, "\\\"\n");
		if (n > 0 && evbuffer_add(out, s, n) == -1)
			return -1;
		s += n;
		if (*s == '\0')
			break;
		if (evbuffer_add_printf(out, "\\%c", *s == '\n' ? 'n' : *s) < 0)
			return -1;
		s++;
	}
	return 0;
}

/* The published series of every table, merged: rows and their number. */
static struct metseries_row *
metseries_collect(const struct metseries *const *tables, size_t n,
    size_t *nrows)
{
	struct metseries_row	*rows;
	size_t			 i, j, k = 0;

	if ((rows = calloc(n * METSERIES_SLOTS + 1, sizeof(*rows))) == NULL)
		return NULL;
	for (i = 0; i < n; i++)
		for (j = 0; j < METSERIES_SLOTS; j++) {
			const struct metseries_slot *sl = &tables[i]->slot[j];

			if (atomic_load_explicit(&sl->ready,
			    memory_order_acquire) == 0)
				continue;
			rows[k].sl = sl;
			rows[k++].n = atomic_load_explicit(&sl->n, RELAXED);
		}
	qsort(rows, k, sizeof(*rows), metseries_cmp);
	for (i = 0, j = 0; i < k; i++) {
		if (j > 0 && metseries_cmp(&rows[j - 1], &rows[i]) == 0)
			rows[j - 1].n += rows[i].n;
		else
			rows[j++] = rows[i];
	}
	*nrows = j;
	return rows;
}

static int
metseries_head(struct evbuffer *out, const char *name, const char *help)
{
	return evbuffer_add_printf(out, "# HELP %s %s\n# TYPE %s counter\n",
	    name, help, name) < 0 ? -1 : 0;
}

static int
metseries_row(struct evbuffer *out, const struct metseries_row *r)
{
	const struct metseries_slot *sl = r->sl;

	if (sl->kind == METSERIES_REQUESTS) {
		if (evbuffer_add_printf(out, "postern_http_requests_total"
		    "{app=\"") < 0 || metseries_label(out, sl->a) == -1 ||
		    evbuffer_add_printf(out, "\",route=\"") < 0 ||
		    metseries_label(out, sl->b) == -1)
			return -1;
		return evbuffer_add_printf(out, "\",method=\"%s\","
		    "status=\"%u\"} %" PRIu64 "\n", metseries_methods[
		    sl->method < METSERIES_NMETHODS ? sl->method :
		    METSERIES_OTHER], sl->status, r->n) < 0 ? -1 : 0;
	}
	if (evbuffer_add_printf(out, "postern_rate_limit_refusals_total"
	    "{class=\"") < 0 || metseries_label(out, sl->a) == -1)
		return -1;
	return evbuffer_add_printf(out, "\"} %" PRIu64 "\n", r->n) < 0 ? -1 : 0;
}

static int
metseries_render_rows(struct evbuffer *out, const struct metseries_row *rows,
    size_t nrows)
{
	size_t	i = 0;
	int	rc;

	rc = metseries_head(out, "postern_http_requests_total", "Requests "
	    "answered, by app, route (the policy's pattern; \"\" when none "
	    "matched), method and status.");
	for (; rc == 0 && i < nrows && rows[i].sl->kind == METSERIES_REQUESTS;
	    i++)
		rc = metseries_row(out, &rows[i]);
	if (rc == 0)
		rc = metseries_head(out, "postern_rate_limit_refusals_total",
		    "Requests refused with 429, by rate-limit class.");
	for (; rc == 0 && i < nrows; i++)
		rc = metseries_row(out, &rows[i]);
	return rc;
}

int
metseries_render(struct evbuffer *out, const struct metseries *const *tables,
    size_t n)
{
	struct metseries_row	*rows;
	uint64_t		 dropped = 0;
	size_t			 i, nrows = 0;
	int			 rc;

	if ((rows = metseries_collect(tables, n, &nrows)) == NULL)
		return -1;
	rc = metseries_render_rows(out, rows, nrows);
	free(rows);
	for (i = 0; i < n; i++)
		dropped += atomic_load_explicit(&tables[i]->dropped, RELAXED);
	if (rc == 0 && evbuffer_add_printf(out, "# HELP "
	    "postern_metrics_series_dropped_total Events not counted in a "
	    "labelled series because a worker's table of series was full.\n"
	    "# TYPE postern_metrics_series_dropped_total counter\n"
	    "postern_metrics_series_dropped_total %" PRIu64 "\n", dropped) < 0)
		rc = -1;
	return rc;
}
