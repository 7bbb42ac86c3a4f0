/*
 * Routes of an app: pattern syntax and the segment trie that route_match()
 * walks (routecheck.c holds the whole-list checks: shadowing, tenant
 * bindings, roles, conflicting requirements).  See route.h for the
 * complexity.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "diag.h"
#include "log.h"
#include "path.h"
#include "route.h"
#include "route-int.h"

static const struct {
	const char	*name;
	unsigned int	 bit;
} route_methods[] = {
	{ "GET", ROUTE_M_GET }, { "HEAD", ROUTE_M_HEAD },
	{ "POST", ROUTE_M_POST }, { "PUT", ROUTE_M_PUT },
	{ "PATCH", ROUTE_M_PATCH }, { "DELETE", ROUTE_M_DELETE },
	{ "OPTIONS", ROUTE_M_OPTIONS },
};

unsigned int
route_method_bit(const char *s)
{
	size_t	i;

	for (i = 0; i < sizeof(route_methods) / sizeof(route_methods[0]); i++)
		if (strcmp(route_methods[i].name, s) == 0)
			return route_methods[i].bit;
	return ROUTE_M_OTHER;
}

/* The methods of mask <m> as "GET,POST" into <buf>. */
const char *
route_methods_text(unsigned int m, char *buf, size_t size)
{
	size_t	i;

	buf[0] = '\0';
	for (i = 0; i < sizeof(route_methods) / sizeof(route_methods[0]); i++)
		if (m & route_methods[i].bit)
			(void)snprintf(buf + strlen(buf), size - strlen(buf),
			    "%s%s", buf[0] != '\0' ? "," : "",
			    route_methods[i].name);
	return buf;
}

/* Split pattern <s> (already checked) into <p>. */
void
route_pat_split(const char *s, struct route_pat *p)
{
	const char	*q;

	p->n = 0;
	if (strcmp(s, "/") == 0)
		return;
	for (s++; p->n < ROUTE_MAXSEGS; s = q + 1) {
		q = strchr(s, '/');
		p->seg[p->n] = s;
		p->len[p->n] = q == NULL ? strlen(s) : (size_t)(q - s);
		if (p->len[p->n] == 2 && strncmp(s, "**", 2) == 0)
			p->kind[p->n] = SEG_REST;
		else if (*s == '*' || *s == '{')
			p->kind[p->n] = SEG_PARAM;
		else
			p->kind[p->n] = SEG_LIT;
		p->n++;
		if (q == NULL)
			break;
	}
}

static int
route_name_ok(const char *s, size_t len)
{
	size_t	i;

	if (len == 0 || len > 32 || !((s[0] >= 'a' && s[0] <= 'z') ||
	    s[0] == '_'))
		return 0;
	for (i = 1; i < len; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || s[i] == '_' ||
		    (s[i] >= '0' && s[i] <= '9')))
			return 0;
	return 1;
}

/* One segment of a pattern; records a parameter in <r>. */
static int
route_seg_check(struct route *r, const char *s, size_t len, size_t idx,
    int last, char *err, size_t errlen)
{
	size_t	i;

	if (len == 0) {
		(void)snprintf(err, errlen, "empty segment (a '//' or a "
		    "trailing '/')");
		return -1;
	}
	if (len == 2 && strncmp(s, "**", 2) == 0) {
		if (!last) {
			(void)snprintf(err, errlen, "'**' must be the last "
			    "segment");
			return -1;
		}
		return 0;
	}
	if (len == 1 && *s == '*')
		return 0;
	if (*s == '{') {
		if (s[len - 1] != '}' || !route_name_ok(s + 1, len - 2)) {
			(void)snprintf(err, errlen, "a placeholder is {name} "
			    "with a lower-case name");
			return -1;
		}
		for (i = 0; i < r->nparams; i++)
			if (strlen(r->params[i].name) == len - 2 &&
			    strncmp(r->params[i].name, s + 1, len - 2) == 0) {
				(void)snprintf(err, errlen, "placeholder {%s} "
				    "appears twice", r->params[i].name);
				return -1;
			}
		if (r->nparams == ROUTE_MAXPARAMS) {
			(void)snprintf(err, errlen, "more than %d placeholders",
			    ROUTE_MAXPARAMS);
			return -1;
		}
		if ((r->params[r->nparams].name = strndup(s + 1, len - 2)) ==
		    NULL) {
			(void)snprintf(err, errlen, "out of memory");
			return -1;
		}
		r->params[r->nparams++].seg = idx;
		if (len - 2 == 3 && strncmp(s + 1, "org", 3) == 0)
			r->org_seg = (int)idx;
		return 0;
	}
	for (i = 0; i < len; i++)
		if (strchr("*{};?#", s[i]) != NULL) {
			(void)snprintf(err, errlen, "'%c' inside a segment: use "
			    "a whole '*', '**' or '{name}' segment", s[i]);
			return -1;
		}
	return 0;
}

/*
 * The literal parts must already be in the normal form path.c produces,
 * else they could never match: "/a/%7e" (normalised "/a/~"), "/a/./b".
 * Placeholders are replaced by "x" for the comparison.
 */
static int
route_pat_normal(const char *s, char *err, size_t errlen)
{
	char		 buf[1024], *norm;
	const char	*q;
	size_t		 o = 0, len;
	enum path_error	 pe;
	int		 rc;

	for (; *s != '\0' && o + 4 < sizeof(buf); s = q) {
		buf[o++] = '/';
		s++;
		q = s + strcspn(s, "/");
		len = (size_t)(q - s);
		if (len > 0 && (*s == '*' || *s == '{'))
			buf[o++] = 'x';
		else if (o + len + 2 < sizeof(buf)) {
			memcpy(buf + o, s, len);
			o += len;
		} else
			break;
	}
	buf[o] = '\0';
	if ((norm = path_normalize(buf, o, &pe)) == NULL) {
		if (pe == PATH_NOMEM)
			(void)snprintf(err, errlen, "out of memory");
		else
			(void)snprintf(err, errlen, "not a valid path (%s)",
			    path_error_reason(pe));
		return -1;
	}
	rc = strcmp(norm, buf) == 0 || (o == 0 && strcmp(norm, "/") == 0) ?
	    0 : -1;
	if (rc == -1)
		(void)snprintf(err, errlen, "not in normal form: requests "
		    "arrive as '%.60s'", norm);
	free(norm);
	return rc;
}

int
route_pattern_parse(struct route *r, const char *s, char *err, size_t errlen)
{
	const char	*q, *orig = s;
	size_t		 idx = 0;

	r->org_seg = -1;
	r->nparams = 0;
	if (*s != '/') {
		(void)snprintf(err, errlen, "must start with '/'");
		return -1;
	}
	if (strlen(s) > 512) {
		(void)snprintf(err, errlen, "longer than 512 bytes");
		return -1;
	}
	if (strcmp(s, "/") == 0)
		return 0;
	for (s++;; s = q + 1, idx++) {
		q = strchr(s, '/');
		if (idx == ROUTE_MAXSEGS) {
			(void)snprintf(err, errlen, "more than %d segments",
			    ROUTE_MAXSEGS);
			return -1;
		}
		if (route_seg_check(r, s, q == NULL ? strlen(s) :
		    (size_t)(q - s), idx, q == NULL, err, errlen) == -1)
			return -1;
		if (q == NULL)
			break;
	}
	return route_pat_normal(orig, err, errlen);
}

/* ---- the trie ---- */

/* A node for literal <lit> (NULL: a parameter or the root), or NULL when
 * out of memory. */
static struct route_node *
route_node_new(const char *lit, size_t len)
{
	struct route_node	*n;

	if ((n = calloc(1, sizeof(*n))) == NULL)
		return NULL;
	n->min = SIZE_MAX;
	if (lit != NULL) {
		if ((n->lit = strndup(lit, len)) == NULL) {
			free(n);
			return NULL;
		}
		n->litlen = len;
	}
	return n;
}

static void
route_node_free(struct route_node *n)
{
	size_t	i;

	if (n == NULL)
		return;
	for (i = 0; i < n->nkids; i++)
		route_node_free(n->kids[i]);
	route_node_free(n->param);
	free(n->tab);
	free(n->kids);
	free(n->exact);
	free(n->rest);
	free(n->lit);
	free(n);
}

/* Compare request segment <s> of <len> bytes with label <n>. */
static int
route_lit_cmp(const struct route_node *n, const char *s, size_t len, int ci)
{
	size_t		i;
	unsigned char	a, b;

	for (i = 0; i < len && i < n->litlen; i++) {
		a = (unsigned char)s[i];
		b = (unsigned char)n->lit[i];
		if (ci && a >= 'A' && a <= 'Z')
			a = (unsigned char)(a - 'A' + 'a');
		if (a != b)
			return a < b ? -1 : 1;
	}
	return len == n->litlen ? 0 : len < n->litlen ? -1 : 1;
}

/* FNV-1a of a segment, folded to lower case for case-insensitive apps. */
static uint32_t
route_hash(const char *s, size_t len, int ci)
{
	uint32_t	h = 2166136261u;
	unsigned char	c;
	size_t		i;

	for (i = 0; i < len; i++) {
		c = (unsigned char)s[i];
		if (ci && c >= 'A' && c <= 'Z')
			c = (unsigned char)(c - 'A' + 'a');
		h = (h ^ c) * 16777619u;
	}
	return h;
}

/*
 * Nodes with many literal children also get an open-addressing table
 * (at most half full), so a lookup costs one or two cache lines instead
 * of log2(children) of them.
 */
#define ROUTE_HASH_MIN	8

/* 0, or -1 when out of memory. */
int
route_node_index(struct route_node *n, int ci)
{
	size_t	size = 1, i, j;

	for (i = 0; i < n->nkids; i++)
		if (route_node_index(n->kids[i], ci) == -1)
			return -1;
	if (n->param != NULL && route_node_index(n->param, ci) == -1)
		return -1;
	if (n->lit != NULL)
		n->hash = route_hash(n->lit, n->litlen, ci);
	if (n->nkids < ROUTE_HASH_MIN)
		return 0;
	while (size < 2 * n->nkids)
		size <<= 1;
	free(n->tab);
	if ((n->tab = calloc(size, sizeof(*n->tab))) == NULL)
		return -1;
	n->tabmask = size - 1;
	for (i = 0; i < n->nkids; i++) {
		j = route_hash(n->kids[i]->lit, n->kids[i]->litlen, ci) &
		    n->tabmask;
		while (n->tab[j].node != NULL)
			j = (j + 1) & n->tabmask;
		n->tab[j].hash = route_hash(n->kids[i]->lit,
		    n->kids[i]->litlen, ci);
		n->tab[j].node = n->kids[i];
	}
	return 0;
}

/* Binary search of the literal children; the slot goes to *<at>. */
struct route_node *
route_kid_find(const struct route_node *n, const char *s, size_t len, int ci,
    size_t *at)
{
	size_t		lo = 0, hi = n->nkids, mid, j;
	uint32_t	h;
	int		c;

	if (n->tab != NULL && at == NULL) {
		h = route_hash(s, len, ci);
		for (j = h & n->tabmask; n->tab[j].node != NULL;
		    j = (j + 1) & n->tabmask)
			if (n->tab[j].hash == h &&
			    route_lit_cmp(n->tab[j].node, s, len, ci) == 0)
				return n->tab[j].node;
		return NULL;
	}
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		c = route_lit_cmp(n->kids[mid], s, len, ci);
		if (c == 0)
			return n->kids[mid];
		if (c > 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (at != NULL)
		*at = lo;
	return NULL;
}

static int
route_idx_push(uint32_t **v, size_t *n, size_t idx)
{
	uint32_t	*nv;

	if ((nv = reallocarray(*v, *n + 1, sizeof(**v))) == NULL)
		return -1;
	*v = nv;
	nv[(*n)++] = (uint32_t)idx;
	return 0;
}

static struct route_node *
route_child(struct route_node *n, const struct route_pat *p, size_t k, int ci)
{
	struct route_node	**kids, *c;
	size_t			  at = 0, i;

	if (p->kind[k] == SEG_PARAM) {
		if (n->param == NULL)
			n->param = route_node_new(NULL, 0);
		return n->param;
	}
	if ((c = route_kid_find(n, p->seg[k], p->len[k], ci, &at)) != NULL)
		return c;
	if ((c = route_node_new(p->seg[k], p->len[k])) == NULL)
		return NULL;
	for (i = 0; ci && i < c->litlen; i++)
		if (c->lit[i] >= 'A' && c->lit[i] <= 'Z')
			c->lit[i] = (char)(c->lit[i] - 'A' + 'a');
	kids = reallocarray(n->kids, n->nkids + 1, sizeof(*kids));
	if (kids == NULL) {
		route_node_free(c);
		return NULL;
	}
	memmove(kids + at + 1, kids + at, (n->nkids - at) * sizeof(*kids));
	kids[at] = c;
	n->kids = kids;
	n->nkids++;
	return c;
}

/* Insert route <idx> (inserted in increasing order); 0, or -1 when out
 * of memory. */
int
route_insert(struct route_table *t, size_t idx)
{
	struct route_pat	 p;
	struct route_node	*n = t->root;
	size_t			 k;

	route_pat_split(t->routes[idx].pattern, &p);
	if (n->min == SIZE_MAX)
		n->min = idx;
	for (k = 0; k < p.n && p.kind[k] != SEG_REST; k++) {
		if ((n = route_child(n, &p, k, t->ci)) == NULL)
			return -1;
		if (n->min == SIZE_MAX)
			n->min = idx;
	}
	if (k < p.n)
		return route_idx_push(&n->rest, &n->nrest, idx);
	return route_idx_push(&n->exact, &n->nexact, idx);
}

/* ---- matching ---- */

struct route_walk {
	const struct route_table *t;
	const struct route_match *m;
	unsigned int	 mbit;
	size_t		 best;
};

/* The first of <v> whose methods accept w->mbit, if better than best. */
static void
route_pick(struct route_walk *w, const uint32_t *v, size_t n)
{
	size_t	i;

	for (i = 0; i < n && v[i] < w->best; i++)
		if (w->t->routes[v[i]].methods & w->mbit) {
			w->best = v[i];
			return;
		}
}

static void
route_walk(struct route_walk *w, const struct route_node *n, size_t k)
{
	const struct route_node	*c;

	if (n->min >= w->best)
		return;
	route_pick(w, n->rest, n->nrest);
	if (k == w->m->nsegs) {
		route_pick(w, n->exact, n->nexact);
		return;
	}
	if ((c = route_kid_find(n, w->m->seg[k], w->m->seglen[k], w->t->ci,
	    NULL)) != NULL)
		route_walk(w, c, k + 1);
	if (n->param != NULL && w->m->seglen[k] > 0)
		route_walk(w, n->param, k + 1);
}

/*
 * Split the request path; -1 if it has too many segments.  A segment is
 * taken up to its first ';' (matrix parameters), and one that is empty up
 * to there is skipped as "//" is: Tomcat reads "/;x/admin" as "//admin",
 * then "/admin".
 */
static int
route_split(const char *path, struct route_match *m)
{
	const char	*s = path, *q;
	size_t		 len;

	m->nsegs = 0;
	if (*s != '/')
		return -1;
	for (s++; *s != '\0'; s = q + 1) {
		q = s + strcspn(s, "/");
		len = strcspn(s, ";/");
		if (len > 0) {
			if (m->nsegs == ROUTE_MAXSEGS)
				return -1;
			m->seg[m->nsegs] = s;
			m->seglen[m->nsegs++] = len;
		}
		if (*q == '\0')
			break;
	}
	return 0;
}

int
route_match(const struct route_table *t, const char *method,
    const char *path, struct route_match *m)
{
	struct route_walk	w;

	m->route = NULL;
	m->index = 0;
	if (t == NULL || !t->compiled || route_split(path, m) == -1)
		return -1;
	w.t = t;
	w.m = m;
	w.mbit = route_method_bit(method);
	w.best = SIZE_MAX;
	route_walk(&w, t->root, 0);
	if (w.best == SIZE_MAX)
		return -1;
	m->index = w.best;
	m->route = &t->routes[w.best];
	return 0;
}

int
route_param(const struct route_match *m, const char *name, char *buf,
    size_t size)
{
	const struct route	*r = m->route;
	size_t			 i, s;

	if (r == NULL)
		return -1;
	for (i = 0; i < r->nparams; i++) {
		if (strcmp(r->params[i].name, name) != 0)
			continue;
		s = r->params[i].seg;
		if (s >= m->nsegs || m->seglen[s] >= size)
			return -1;
		memcpy(buf, m->seg[s], m->seglen[s]);
		buf[m->seglen[s]] = '\0';
		return 0;
	}
	return -1;
}

int
route_host_tenant(const char *pattern, const char *host, char *org,
    size_t size)
{
	const char	*dot;
	size_t		 len;

	if (strncmp(pattern, "{org}.", 6) != 0 ||
	    (dot = strchr(host, '.')) == NULL || dot == host ||
	    strcmp(dot + 1, pattern + 6) != 0)
		return 0;
	len = (size_t)(dot - host);
	if (len >= size)
		return 0;
	memcpy(org, host, len);
	org[len] = '\0';
	return 1;
}

/* ---- the table ---- */

struct route_table *
route_table_new(void)
{
	struct route_table	*t;

	if ((t = calloc(1, sizeof(*t))) == NULL)
		return NULL;
	if ((t->root = route_node_new(NULL, 0)) == NULL) {
		free(t);
		return NULL;
	}
	return t;
}

void
route_strv_free(char **v, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void
route_clear(struct route *r)
{
	size_t	j;

	free(r->pattern);
	free(r->role);
	free(r->rate_limit);
	route_strv_free(r->users, r->nusers);
	route_strv_free(r->emails, r->nemails);
	route_strv_free(r->scopes, r->nscopes);
	for (j = 0; j < r->nparams; j++)
		free(r->params[j].name);
	memset(r, 0, sizeof(*r));
}

void
route_table_free(struct route_table *t)
{
	size_t	i;

	if (t == NULL)
		return;
	for (i = 0; i < t->nroutes; i++)
		route_clear(&t->routes[i]);
	free(t->routes);
	route_strv_free(t->roles, t->nroles);
	route_node_free(t->root);
	free(t);
}

int
route_table_add(struct route_table *t, struct route *r)
{
	struct route	*v;

	if ((v = reallocarray(t->routes, t->nroutes + 1, sizeof(*v))) == NULL)
		return -1;
	t->routes = v;
	t->routes[t->nroutes++] = *r;
	memset(r, 0, sizeof(*r));
	return 0;
}

int
route_table_rank(const struct route_table *t, const char *role)
{
	size_t	i;

	for (i = 0; role != NULL && i < t->nroles; i++)
		if (strcmp(t->roles[i], role) == 0)
			return (int)i;
	return -1;
}

int
route_table_protects(const struct route_table *t)
{
	size_t	i;

	for (i = 0; t != NULL && i < t->nroutes; i++)
		if (!t->routes[i].is_public)
			return 1;
	return 0;
}

const struct route *
route_table_route(const struct route_table *t, size_t i)
{
	return t != NULL && i < t->nroutes ? &t->routes[i] : NULL;
}
