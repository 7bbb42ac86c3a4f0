/*
 * Host-name maps (see hostmap.h).
 */
#include <stdlib.h>
#include <string.h>

#include "hostmap.h"

int
hostmap_name(const char *host, char out[HOSTMAP_NAMELEN])
{
	size_t	i;

	for (i = 0; host[i] != '\0'; i++) {
		if (i == HOSTMAP_NAMELEN - 1)
			return -1;
		out[i] = host[i] >= 'A' && host[i] <= 'Z' ?
		    (char)(host[i] - 'A' + 'a') : host[i];
	}
	out[i] = '\0';
	return i > 0 ? 0 : -1;
}

/* The index of <name>, or where it would go (*<found> 0). */
static size_t
hostmap_find(const struct hostmap *m, const char *name, int *found)
{
	size_t	lo = 0, hi = m->n, mid;
	int	c;

	*found = 0;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if ((c = strcmp(name, m->v[mid].host)) == 0) {
			*found = 1;
			return mid;
		}
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

void *
hostmap_get(const struct hostmap *m, const char *name)
{
	size_t	at;
	int	found;

	at = hostmap_find(m, name, &found);
	return found ? m->v[at].val : NULL;
}

void **
hostmap_slot(struct hostmap *m, const char *name)
{
	struct hostmap_item	*nv;
	size_t			 at, len = strlen(name);
	int			 found;

	at = hostmap_find(m, name, &found);
	if (found)
		return &m->v[at].val;
	if (len >= HOSTMAP_NAMELEN)
		return NULL;
	if (m->n == m->cap) {
		size_t cap = m->cap > 0 ? m->cap * 2 : 16;

		if ((nv = reallocarray(m->v, cap, sizeof(*nv))) == NULL)
			return NULL;
		m->v = nv;
		m->cap = cap;
	}
	memmove(m->v + at + 1, m->v + at, (m->n - at) * sizeof(*m->v));
	memcpy(m->v[at].host, name, len + 1);
	m->v[at].val = NULL;
	m->n++;
	return &m->v[at].val;
}

void *
hostmap_remove(struct hostmap *m, const char *name)
{
	void	*val;
	size_t	 at;
	int	 found;

	at = hostmap_find(m, name, &found);
	if (!found)
		return NULL;
	val = m->v[at].val;
	memmove(m->v + at, m->v + at + 1, (m->n - at - 1) * sizeof(*m->v));
	m->n--;
	return val;
}

void
hostmap_clear(struct hostmap *m, void (*fn)(void *))
{
	size_t	i;

	for (i = 0; fn != NULL && i < m->n; i++)
		fn(m->v[i].val);
	free(m->v);
	m->v = NULL;
	m->n = m->cap = 0;
}
